/* util/timefmt.h: the time formats AWS speaks.
 *   ISO 8601 with ms:  2006-01-02T15:04:05.000Z  (S3 XML LastModified)
 *   RFC 7231 date:     Mon, 02 Jan 2006 15:04:05 GMT (Last-Modified, Date)
 *   SigV4 basic form:  20060102T150405Z (X-Amz-Date) */
#ifndef KURA_UTIL_TIMEFMT_H
#define KURA_UTIL_TIMEFMT_H

#include <stdbool.h>
#include <stdint.h>

#define TIMEFMT_ISO_LEN 32
#define TIMEFMT_HTTP_LEN 32

int64_t timefmt_now_ms(void);
void timefmt_iso8601_ms(int64_t ms, char out[TIMEFMT_ISO_LEN]);
void timefmt_iso8601_s(int64_t s, char out[TIMEFMT_ISO_LEN]); /* 2006-01-02T15:04:05Z */
void timefmt_http(int64_t s, char out[TIMEFMT_HTTP_LEN]);
/* Parse "20060102T150405Z" into seconds since the epoch. */
bool timefmt_parse_amz(const char *s, int64_t *out_s);
/* Parse an HTTP date (RFC 7231 IMF-fixdate, RFC 850 or asctime) into seconds. */
bool timefmt_parse_http(const char *s, int64_t *out_s);
/* Parse ISO 8601 "2006-01-02T15:04:05[.fff][Z|+hh:mm]" into milliseconds. */
bool timefmt_parse_iso8601(const char *s, int64_t *out_ms);

#endif
