/* util/uri.h: percent-encoding as AWS uses it.
 * uri_encode follows SigV4's rules: unreserved A-Z a-z 0-9 - . _ ~ stay,
 * everything else becomes %XX (uppercase); '/' is kept when keep_slash. */
#ifndef KURA_UTIL_URI_H
#define KURA_UTIL_URI_H

#include "util/buf.h"

#include <stdbool.h>
#include <stddef.h>

void uri_encode(buf_t *out, const char *s, size_t n, bool keep_slash);
/* Decodes %XX; '+' stays '+' unless plus_is_space (form bodies). Returns false
 * on a malformed escape. The result may contain NUL bytes: *out_len says. */
bool uri_decode(buf_t *out, const char *s, size_t n, bool plus_is_space);

#endif
