/* util/uri.c: percent-encoding (see uri.h). */
#include "util/uri.h"
#include "util/codec.h"

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

void uri_encode(buf_t *out, const char *s, size_t n, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            buf_putc(out, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_append(out, e, 3);
        }
    }
}

bool uri_decode(buf_t *out, const char *s, size_t n, bool plus_is_space)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return false;
            int hi = codec_hexval(s[i + 1]), lo = codec_hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return false;
            buf_putc(out, (char)(hi << 4 | lo));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            buf_putc(out, ' ');
        } else {
            buf_putc(out, c);
        }
    }
    return buf_ok(out);
}
