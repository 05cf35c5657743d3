/* query/format.c: result rows as CSV and JSON text, shared by POST
 * /kura/sql and Athena's result files. */
#include "query/query_int.h"

#include <stdio.h>
#include <string.h>

void query_csv_row(buf_t *b, size_t n, const char *const *v)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(b, ',');
        if (!v[i])
            continue; /* NULL: nothing between the commas */
        buf_putc(b, '"');
        for (const char *p = v[i]; *p; p++) {
            if (*p == '"')
                buf_putc(b, '"');
            buf_putc(b, *p);
        }
        buf_putc(b, '"');
    }
    buf_puts(b, "\n");
}

void query_json_str(buf_t *b, const char *s)
{
    buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': buf_puts(b, "\\\""); break;
        case '\\': buf_puts(b, "\\\\"); break;
        case '\n': buf_puts(b, "\\n"); break;
        case '\r': buf_puts(b, "\\r"); break;
        case '\t': buf_puts(b, "\\t"); break;
        default:
            if (*p < 0x20)
                buf_printf(b, "\\u%04x", *p);
            else
                buf_putc(b, (char)*p);
        }
    }
    buf_putc(b, '"');
}

bool query_json_number_ok(const char *s)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return false;
    if (*p == '.') {
        if (!(*++p >= '0' && *p <= '9'))
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0';
}

bool query_type_is_number(const char *t)
{
    static const char *const nums[] = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT",
                                       "USMALLINT", "UINTEGER", "UBIGINT", "HUGEINT", "UHUGEINT",
                                       "FLOAT", "DOUBLE", "DECIMAL", "BOOLEAN", NULL};
    for (size_t i = 0; nums[i]; i++)
        if (strcmp(t, nums[i]) == 0)
            return true;
    return false;
}
