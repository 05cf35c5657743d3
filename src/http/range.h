/* http/range.h: the Range header (RFC 9110 §14) and the conditional request
 * headers (RFC 9110 §13), as S3 applies them to GET and HEAD. */
#ifndef KURA_HTTP_RANGE_H
#define KURA_HTTP_RANGE_H

#include <stdint.h>

typedef enum {
    HTTP_RANGE_OK = 0,          /* [first, last] within the object */
    HTTP_RANGE_IGNORE,          /* no usable range: send the whole object (200) */
    HTTP_RANGE_UNSATISFIABLE,   /* 416 */
} http_range_rc_t;

typedef struct {
    uint64_t first, last; /* inclusive */
} http_range_t;

/* One byte range: "bytes=a-b", "bytes=a-", "bytes=-n". Several ranges, other
 * units and syntax errors are ignored (the whole object), as S3 does. */
http_range_rc_t http_range_parse(const char *hdr, uint64_t size, http_range_t *out);

typedef enum {
    HTTP_COND_PASS = 0,
    HTTP_COND_NOT_MODIFIED, /* 304 */
    HTTP_COND_FAILED,       /* 412 */
} http_cond_rc_t;

/* Evaluates If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since
 * (any may be NULL) against the object's unquoted etag and modification time
 * in seconds, in RFC 9110 §13.2.2's order: If-Match wins over
 * If-Unmodified-Since, If-None-Match over If-Modified-Since. Unparseable dates
 * are ignored. */
http_cond_rc_t http_conditional(const char *if_match, const char *if_unmodified_since,
                                const char *if_none_match, const char *if_modified_since,
                                const char *etag, int64_t mtime_s);

#endif
