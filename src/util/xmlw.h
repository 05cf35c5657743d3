/* util/xmlw.h: a small XML writer for responses (requests are parsed by expat).
 * Text and attribute values are escaped (& < > " and control characters as
 * numeric references where XML 1.0 allows them). */
#ifndef KURA_UTIL_XMLW_H
#define KURA_UTIL_XMLW_H

#include "util/buf.h"

#include <stdint.h>

#define XMLW_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define XMLW_S3_NS "http://s3.amazonaws.com/doc/2006-03-01/"

void xmlw_escape(buf_t *b, const char *s, size_t n);
/* <tag xmlns="S3 namespace"> for a document root. */
void xmlw_root(buf_t *b, const char *tag);
void xmlw_open(buf_t *b, const char *tag);
void xmlw_close(buf_t *b, const char *tag);
/* <tag>escaped text</tag> */
void xmlw_elem(buf_t *b, const char *tag, const char *text);
void xmlw_elem_n(buf_t *b, const char *tag, const char *text, size_t n);
void xmlw_elem_u64(buf_t *b, const char *tag, uint64_t v);
void xmlw_elem_bool(buf_t *b, const char *tag, bool v);

#endif
