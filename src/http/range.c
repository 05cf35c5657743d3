/* http/range.c: Range and conditional headers (see range.h). */
#include "http/range.h"

#include "util/parse.h"
#include "util/timefmt.h"

#include <stdbool.h>
#include <string.h>

http_range_rc_t http_range_parse(const char *hdr, uint64_t size, http_range_t *out)
{
    if (!hdr || strncmp(hdr, "bytes=", 6) != 0)
        return HTTP_RANGE_IGNORE;
    const char *p = hdr + 6, *end = hdr + strlen(hdr);
    while (p < end && *p == ' ')
        p++;
    if (memchr(p, ',', (size_t)(end - p)))
        return HTTP_RANGE_IGNORE;
    uint64_t a = 0, b = 0;
    if (*p == '-') { /* suffix: the last b bytes */
        p++;
        if (parse_u64(&p, end, UINT64_MAX, &b) != PARSE_OK)
            return HTTP_RANGE_IGNORE;
        if (p != end)
            return HTTP_RANGE_IGNORE;
        if (b == 0 || size == 0)
            return HTTP_RANGE_UNSATISFIABLE;
        out->first = b >= size ? 0 : size - b;
        out->last = size - 1;
        return HTTP_RANGE_OK;
    }
    parse_rc_t rc = parse_u64(&p, end, UINT64_MAX, &a);
    if (rc == PARSE_RANGE) /* a first byte beyond any size */
        return HTTP_RANGE_UNSATISFIABLE;
    if (rc != PARSE_OK || p == end || *p != '-')
        return HTTP_RANGE_IGNORE;
    p++;
    bool open = p == end;
    if (!open) {
        rc = parse_u64(&p, end, UINT64_MAX, &b);
        if (rc == PARSE_RANGE)
            b = UINT64_MAX;
        else if (rc != PARSE_OK || p != end)
            return HTTP_RANGE_IGNORE;
        if (b < a)
            return HTTP_RANGE_IGNORE;
    }
    if (a >= size)
        return HTTP_RANGE_UNSATISFIABLE;
    out->first = a;
    out->last = open || b >= size ? size - 1 : b;
    return HTTP_RANGE_OK;
}

/* Does an If-Match / If-None-Match list name the etag? "*" matches anything. */
static bool etag_listed(const char *list, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        if (*p == '*')
            return true;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        const char *s = p;
        bool quoted = *p == '"';
        if (quoted)
            s = ++p;
        while (*p && (quoted ? *p != '"' : (*p != ',' && *p != ' ')))
            p++;
        if ((size_t)(p - s) == elen && memcmp(s, etag, elen) == 0)
            return true;
        if (quoted && *p == '"')
            p++;
    }
    return false;
}

http_cond_rc_t http_conditional(const char *if_match, const char *if_unmodified_since,
                                const char *if_none_match, const char *if_modified_since,
                                const char *etag, int64_t mtime_s)
{
    int64_t t;
    if (if_match) {
        if (!etag_listed(if_match, etag))
            return HTTP_COND_FAILED;
    } else if (if_unmodified_since && timefmt_parse_http(if_unmodified_since, &t)) {
        if (mtime_s > t)
            return HTTP_COND_FAILED;
    }
    if (if_none_match) {
        if (etag_listed(if_none_match, etag))
            return HTTP_COND_NOT_MODIFIED;
    } else if (if_modified_since && timefmt_parse_http(if_modified_since, &t)) {
        if (mtime_s <= t)
            return HTTP_COND_NOT_MODIFIED;
    }
    return HTTP_COND_PASS;
}
