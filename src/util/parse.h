/* util/parse.h: cursor parsers over [*p, end) that take a maximum.
 * On success *p points past what was consumed; on failure *p is unchanged. */
#ifndef KURA_UTIL_PARSE_H
#define KURA_UTIL_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { PARSE_OK = 0, PARSE_EMPTY, PARSE_RANGE, PARSE_SYNTAX } parse_rc_t;

static inline bool parse_is_digit(char c) { return c >= '0' && c <= '9'; }

/* Unsigned decimal: PARSE_EMPTY if no digit, PARSE_RANGE above max. */
parse_rc_t parse_u64(const char **p, const char *end, uint64_t max, uint64_t *out);
/* Unsigned hexadecimal (either case), at most 16 digits' worth below max. */
parse_rc_t parse_hex_u64(const char **p, const char *end, uint64_t max, uint64_t *out);
/* Whole NUL-terminated string as a decimal in [0, max]; no sign, no spaces. */
parse_rc_t parse_u64_str(const char *s, uint64_t max, uint64_t *out);

/* Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing
 * above U+10FFFF. S3 keys must be UTF-8. */
bool parse_utf8_valid(const char *s, size_t n);

#endif
