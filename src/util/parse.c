/* util/parse.c: bounded number parsers (see parse.h). */
#include "util/parse.h"
#include "util/codec.h"

#include <string.h>

parse_rc_t parse_u64(const char **p, const char *end, uint64_t max, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;

    if (s == end || !parse_is_digit(*s))
        return PARSE_EMPTY;
    for (; s < end && parse_is_digit(*s); s++) {
        unsigned d = (unsigned)(*s - '0');
        if (d > max || v > (max - d) / 10) /* v * 10 + d > max */
            return PARSE_RANGE;
        v = v * 10 + d;
    }
    *out = v;
    *p = s;
    return PARSE_OK;
}

parse_rc_t parse_hex_u64(const char **p, const char *end, uint64_t max, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;

    if (s == end || codec_hexval(*s) < 0)
        return PARSE_EMPTY;
    for (; s < end && codec_hexval(*s) >= 0; s++) {
        unsigned d = (unsigned)codec_hexval(*s);
        if (d > max || v > (max - d) / 16)
            return PARSE_RANGE;
        v = v * 16 + d;
    }
    *out = v;
    *p = s;
    return PARSE_OK;
}

parse_rc_t parse_u64_str(const char *s, uint64_t max, uint64_t *out)
{
    const char *end = s + strlen(s);
    const char *p = s;
    parse_rc_t rc = parse_u64(&p, end, max, out);
    if (rc != PARSE_OK)
        return rc;
    return p == end ? PARSE_OK : PARSE_SYNTAX;
}

bool parse_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned c = *p;
        size_t len;
        unsigned min, cp;
        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2, min = 0x80, cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, min = 0x800, cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, min = 0x10000, cp = c & 0x07;
        } else {
            return false;
        }
        if ((size_t)(end - p) < len)
            return false;
        for (size_t i = 1; i < len; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (p[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        p += len;
    }
    return true;
}
