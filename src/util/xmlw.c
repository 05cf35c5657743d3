/* util/xmlw.c: XML response writer (see xmlw.h). */
#include "util/xmlw.h"

#include <inttypes.h>
#include <string.h>

void xmlw_escape(buf_t *b, const char *s, size_t n)
{
    if (n == 0)
        return; /* s may be NULL then */
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *rep = NULL;
        char num[8];
        switch (c) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        default:
            if (c < 0x20) { /* S3 writes control characters as numeric references */
                num[0] = '&', num[1] = '#', num[2] = 'x';
                num[3] = "0123456789ABCDEF"[c >> 4];
                num[4] = "0123456789ABCDEF"[c & 15];
                num[5] = ';', num[6] = 0;
                rep = num;
            }
        }
        if (rep) {
            buf_append(b, s + start, i - start);
            buf_puts(b, rep);
            start = i + 1;
        }
    }
    buf_append(b, s + start, n - start);
}

void xmlw_root(buf_t *b, const char *tag)
{
    buf_puts(b, XMLW_DECL);
    buf_printf(b, "<%s xmlns=\"%s\">", tag, XMLW_S3_NS);
}

void xmlw_open(buf_t *b, const char *tag) { buf_printf(b, "<%s>", tag); }

void xmlw_close(buf_t *b, const char *tag) { buf_printf(b, "</%s>", tag); }

void xmlw_elem_n(buf_t *b, const char *tag, const char *text, size_t n)
{
    buf_printf(b, "<%s>", tag);
    xmlw_escape(b, text, n);
    buf_printf(b, "</%s>", tag);
}

void xmlw_elem(buf_t *b, const char *tag, const char *text)
{
    xmlw_elem_n(b, tag, text ? text : "", text ? strlen(text) : 0);
}

void xmlw_elem_u64(buf_t *b, const char *tag, uint64_t v)
{
    buf_printf(b, "<%s>%" PRIu64 "</%s>", tag, v, tag);
}

void xmlw_elem_bool(buf_t *b, const char *tag, bool v)
{
    buf_printf(b, "<%s>%s</%s>", tag, v ? "true" : "false", tag);
}
