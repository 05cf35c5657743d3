/* iceberg/transform.c: type names, partition transforms, the bucket hash
 * (Murmur3 x86 32, spec Appendix B) and the single-value binary form
 * (iceberg.md §3, §5.3). */
#include "iceberg/iceberg.h"
#include "iceberg/ice_int.h"

#include "util/parse.h"

#include <string.h>

#define US_PER_HOUR ((int64_t)3600 * 1000000)
#define US_PER_DAY (US_PER_HOUR * 24)
#define DECIMAL_MAX_PRECISION 38
#define FIXED_MAX_LENGTH ((int64_t)1 << 30)

static const struct {
    const char *name;
    ice_kind_t kind;
} prim_names[] = {
    {"boolean", ICE_T_BOOLEAN},       {"int", ICE_T_INT},
    {"long", ICE_T_LONG},             {"float", ICE_T_FLOAT},
    {"double", ICE_T_DOUBLE},         {"date", ICE_T_DATE},
    {"time", ICE_T_TIME},             {"timestamp", ICE_T_TIMESTAMP},
    {"timestamptz", ICE_T_TIMESTAMPTZ}, {"timestamp_ns", ICE_T_TIMESTAMP_NS},
    {"timestamptz_ns", ICE_T_TIMESTAMPTZ_NS}, {"string", ICE_T_STRING},
    {"uuid", ICE_T_UUID},             {"binary", ICE_T_BINARY},
    {"unknown", ICE_T_UNKNOWN},       {"variant", ICE_T_UNKNOWN},
};

/* Bounded decimal in s: digits up to `max`; skips surrounding spaces. */
static bool take_num(const char **p, uint64_t max, uint64_t *out)
{
    while (**p == ' ')
        (*p)++;
    const char *end = *p + strlen(*p);
    if (parse_u64(p, end, max, out) != PARSE_OK)
        return false;
    while (**p == ' ')
        (*p)++;
    return true;
}

ice_rc_t ice_kind_from_name(const char *s, ice_kind_t *kind, int32_t *p1, int32_t *p2,
                            int64_t *len)
{
    for (size_t i = 0; i < sizeof prim_names / sizeof prim_names[0]; i++)
        if (strcmp(s, prim_names[i].name) == 0) {
            *kind = prim_names[i].kind;
            return ICE_OK;
        }
    uint64_t a, b;
    const char *p;
    if (strncmp(s, "decimal(", 8) == 0) {
        p = s + 8;
        if (!take_num(&p, DECIMAL_MAX_PRECISION, &a) || *p++ != ',' || !take_num(&p, a, &b) ||
            *p++ != ')' || *p != '\0' || a == 0)
            return ICE_ERR_CORRUPT;
        *kind = ICE_T_DECIMAL;
        *p1 = (int32_t)a;
        *p2 = (int32_t)b;
        return ICE_OK;
    }
    if (strncmp(s, "fixed[", 6) == 0) {
        p = s + 6;
        if (!take_num(&p, FIXED_MAX_LENGTH, &a) || *p++ != ']' || *p != '\0' || a == 0)
            return ICE_ERR_CORRUPT;
        *kind = ICE_T_FIXED;
        *len = (int64_t)a;
        return ICE_OK;
    }
    /* v3 geo types: readable, never produced. */
    if (strncmp(s, "geometry", 8) == 0 || strncmp(s, "geography", 9) == 0) {
        *kind = ICE_T_UNKNOWN;
        return ICE_OK;
    }
    return ICE_ERR_CORRUPT;
}

ice_rc_t ice_transform_parse(const char *s, ice_transform_t *out)
{
    static const struct {
        const char *name;
        ice_transform_kind_t kind;
    } plain[] = {{"identity", ICE_TR_IDENTITY}, {"year", ICE_TR_YEAR},   {"month", ICE_TR_MONTH},
                 {"day", ICE_TR_DAY},           {"hour", ICE_TR_HOUR},   {"void", ICE_TR_VOID}};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (strcmp(s, plain[i].name) == 0) {
            *out = (ice_transform_t){plain[i].kind, 0};
            return ICE_OK;
        }
    ice_transform_kind_t k;
    const char *p;
    if (strncmp(s, "bucket[", 7) == 0) {
        k = ICE_TR_BUCKET;
        p = s + 7;
    } else if (strncmp(s, "truncate[", 9) == 0) {
        k = ICE_TR_TRUNCATE;
        p = s + 9;
    } else {
        return ICE_ERR_INVALID;
    }
    uint64_t n;
    const char *end = p + strlen(p);
    if (parse_u64(&p, end, INT32_MAX, &n) != PARSE_OK || n == 0 || p + 1 != end || *p != ']')
        return ICE_ERR_INVALID;
    *out = (ice_transform_t){k, (int32_t)n};
    return ICE_OK;
}

static bool is_time_kind(ice_kind_t k)
{
    return k == ICE_T_TIMESTAMP || k == ICE_T_TIMESTAMPTZ || k == ICE_T_TIMESTAMP_NS ||
           k == ICE_T_TIMESTAMPTZ_NS;
}

ice_rc_t ice_transform_result_kind(const ice_transform_t *t, ice_kind_t src, ice_kind_t *out)
{
    bool prim = src >= ICE_T_BOOLEAN && src < ICE_T_STRUCT;
    switch (t->kind) {
    case ICE_TR_IDENTITY:
    case ICE_TR_VOID:
        if (!prim)
            return ICE_ERR_INVALID;
        *out = src;
        return ICE_OK;
    case ICE_TR_BUCKET:
        if (src == ICE_T_BOOLEAN || src == ICE_T_FLOAT || src == ICE_T_DOUBLE || !prim ||
            src == ICE_T_UNKNOWN)
            return ICE_ERR_INVALID;
        *out = ICE_T_INT;
        return ICE_OK;
    case ICE_TR_TRUNCATE:
        if (src != ICE_T_INT && src != ICE_T_LONG && src != ICE_T_DECIMAL &&
            src != ICE_T_STRING && src != ICE_T_BINARY)
            return ICE_ERR_INVALID;
        *out = src;
        return ICE_OK;
    case ICE_TR_YEAR:
    case ICE_TR_MONTH:
    case ICE_TR_DAY:
        if (src != ICE_T_DATE && !is_time_kind(src))
            return ICE_ERR_INVALID;
        *out = t->kind == ICE_TR_DAY ? ICE_T_DATE : ICE_T_INT;
        return ICE_OK;
    case ICE_TR_HOUR:
        if (!is_time_kind(src))
            return ICE_ERR_INVALID;
        *out = ICE_T_INT;
        return ICE_OK;
    }
    return ICE_ERR_INVALID;
}

/* Floor division: time transforms round toward -inf before 1970. */
static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Civil date from days since 1970 (Howard Hinnant's algorithm). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floordiv(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t micros_of(const ice_value_t *v)
{
    if (v->kind == ICE_T_TIMESTAMP_NS || v->kind == ICE_T_TIMESTAMPTZ_NS)
        return floordiv(v->i, 1000);
    return v->i;
}

/* Length in bytes of the first w code points of UTF-8 s (invalid bytes
 * count as one code point each, so the cut is always in range). */
static size_t utf8_prefix(const uint8_t *s, size_t n, int64_t w)
{
    size_t i = 0;
    for (int64_t cp = 0; i < n && cp < w; cp++) {
        i++;
        while (i < n && (s[i] & 0xC0) == 0x80)
            i++;
    }
    return i;
}

static void put_le(uint8_t *b, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

/* Minimal two's-complement big-endian bytes of v (1..8 bytes). */
static size_t min_be(int64_t v, uint8_t out[8])
{
    uint8_t full[8];
    for (int i = 0; i < 8; i++)
        full[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
    size_t start = 0;
    while (start < 7 && ((full[start] == 0x00 && !(full[start + 1] & 0x80)) ||
                         (full[start] == 0xFF && (full[start + 1] & 0x80))))
        start++;
    memcpy(out, full + start, 8 - start);
    return 8 - start;
}

uint32_t ice_murmur3_32(const void *data, size_t len, uint32_t seed)
{
    const uint8_t *p = data;
    const uint32_t c1 = 0xcc9e2d51, c2 = 0x1b873593;
    uint32_t h = seed, k;
    size_t nblocks = len / 4;
    for (size_t i = 0; i < nblocks; i++) {
        k = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
            (uint32_t)p[4 * i + 3] << 24;
        k *= c1;
        k = (k << 15) | (k >> 17);
        k *= c2;
        h ^= k;
        h = (h << 13) | (h >> 19);
        h = h * 5 + 0xe6546b64;
    }
    const uint8_t *tail = p + nblocks * 4;
    k = 0;
    switch (len & 3) {
    case 3:
        k ^= (uint32_t)tail[2] << 16;
        /* fall through */
    case 2:
        k ^= (uint32_t)tail[1] << 8;
        /* fall through */
    case 1:
        k ^= tail[0];
        k *= c1;
        k = (k << 15) | (k >> 17);
        k *= c2;
        h ^= k;
        break;
    default:
        break;
    }
    h ^= (uint32_t)len;
    h ^= h >> 16;
    h *= 0x85ebca6b;
    h ^= h >> 13;
    h *= 0xc2b2ae35;
    h ^= h >> 16;
    return h;
}

ice_rc_t ice_bucket_hash(const ice_value_t *v, int32_t *out)
{
    uint8_t b[8];
    switch (v->kind) {
    case ICE_T_INT:
    case ICE_T_LONG:
    case ICE_T_DATE:
    case ICE_T_TIME:
    case ICE_T_TIMESTAMP:
    case ICE_T_TIMESTAMPTZ:
    case ICE_T_TIMESTAMP_NS:
    case ICE_T_TIMESTAMPTZ_NS:
        /* Every integer-like value hashes as an 8-byte long, so promoting
         * int -> long keeps bucket values (Appendix B note 1). */
        put_le(b, (uint64_t)micros_of(v), 8);
        *out = (int32_t)ice_murmur3_32(b, 8, 0);
        return ICE_OK;
    case ICE_T_DECIMAL: {
        size_t n = min_be(v->i, b);
        *out = (int32_t)ice_murmur3_32(b, n, 0);
        return ICE_OK;
    }
    case ICE_T_STRING:
    case ICE_T_BINARY:
    case ICE_T_FIXED:
    case ICE_T_UUID:
        *out = (int32_t)ice_murmur3_32(v->bytes, v->len, 0);
        return ICE_OK;
    default:
        return ICE_ERR_INVALID;
    }
}

ice_rc_t ice_transform_apply(const ice_transform_t *t, const ice_value_t *in, ice_value_t *out)
{
    ice_kind_t rk;
    if (ice_transform_result_kind(t, in->kind, &rk) != ICE_OK)
        return ICE_ERR_INVALID;
    memset(out, 0, sizeof *out);
    out->kind = rk;
    if (in->is_null || t->kind == ICE_TR_VOID) {
        out->is_null = true;
        return ICE_OK;
    }
    int64_t days = 0;
    if (t->kind >= ICE_TR_YEAR && t->kind <= ICE_TR_HOUR)
        days = in->kind == ICE_T_DATE ? in->i : floordiv(micros_of(in), US_PER_DAY);
    switch (t->kind) {
    case ICE_TR_IDENTITY:
        *out = *in;
        return ICE_OK;
    case ICE_TR_BUCKET: {
        int32_t h;
        if (ice_bucket_hash(in, &h) != ICE_OK)
            return ICE_ERR_INVALID;
        out->i = (int64_t)(((uint32_t)h & 0x7FFFFFFFu) % (uint32_t)t->param);
        return ICE_OK;
    }
    case ICE_TR_TRUNCATE:
        if (in->kind == ICE_T_STRING) {
            *out = *in;
            out->len = utf8_prefix(in->bytes, in->len, t->param);
        } else if (in->kind == ICE_T_BINARY) {
            *out = *in;
            if (out->len > (size_t)t->param)
                out->len = (size_t)t->param;
        } else {
            int64_t w = t->param, r = ((in->i % w) + w) % w;
            *out = *in;
            if (__builtin_sub_overflow(in->i, r, &out->i))
                return ICE_ERR_INVALID;
        }
        return ICE_OK;
    case ICE_TR_DAY:
        out->i = days;
        return ICE_OK;
    case ICE_TR_HOUR:
        out->i = floordiv(micros_of(in), US_PER_HOUR);
        return ICE_OK;
    case ICE_TR_YEAR:
    case ICE_TR_MONTH: {
        int64_t y;
        int m, d;
        civil_from_days(days, &y, &m, &d);
        out->i = t->kind == ICE_TR_YEAR ? y - 1970 : (y - 1970) * 12 + (m - 1);
        return ICE_OK;
    }
    case ICE_TR_VOID:
        break;
    }
    return ICE_ERR_INVALID;
}

ice_rc_t ice_value_to_binary(arena_t *a, const ice_value_t *v, uint8_t **out, size_t *len)
{
    uint8_t b[8];
    size_t n;
    switch (v->kind) {
    case ICE_T_BOOLEAN:
        b[0] = v->i ? 1 : 0;
        n = 1;
        break;
    case ICE_T_INT:
    case ICE_T_DATE:
        put_le(b, (uint64_t)v->i, 4);
        n = 4;
        break;
    case ICE_T_LONG:
    case ICE_T_TIME:
    case ICE_T_TIMESTAMP:
    case ICE_T_TIMESTAMPTZ:
    case ICE_T_TIMESTAMP_NS:
    case ICE_T_TIMESTAMPTZ_NS:
        put_le(b, (uint64_t)v->i, 8);
        n = 8;
        break;
    case ICE_T_FLOAT: {
        float f = (float)v->d;
        uint32_t u;
        memcpy(&u, &f, 4);
        put_le(b, u, 4);
        n = 4;
        break;
    }
    case ICE_T_DOUBLE: {
        uint64_t u;
        memcpy(&u, &v->d, 8);
        put_le(b, u, 8);
        n = 8;
        break;
    }
    case ICE_T_DECIMAL:
        n = min_be(v->i, b);
        break;
    case ICE_T_STRING:
    case ICE_T_UUID:
    case ICE_T_FIXED:
    case ICE_T_BINARY:
        *out = arena_memdup(a, v->len ? (const void *)v->bytes : "", v->len ? v->len : 1);
        *len = v->len;
        return *out ? ICE_OK : ICE_ERR_NOMEM;
    default:
        return ICE_ERR_INVALID;
    }
    *out = arena_memdup(a, b, n);
    *len = n;
    return *out ? ICE_OK : ICE_ERR_NOMEM;
}

static uint64_t get_le(const uint8_t *b, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

ice_rc_t ice_value_from_binary(ice_kind_t kind, const uint8_t *b, size_t len, ice_value_t *out)
{
    memset(out, 0, sizeof *out);
    out->kind = kind;
    switch (kind) {
    case ICE_T_BOOLEAN:
        if (len != 1)
            return ICE_ERR_CORRUPT;
        out->i = b[0] != 0;
        return ICE_OK;
    case ICE_T_INT:
    case ICE_T_DATE:
        if (len != 4)
            return ICE_ERR_CORRUPT;
        out->i = (int32_t)(uint32_t)get_le(b, 4);
        return ICE_OK;
    case ICE_T_LONG:
    case ICE_T_TIME:
    case ICE_T_TIMESTAMP:
    case ICE_T_TIMESTAMPTZ:
    case ICE_T_TIMESTAMP_NS:
    case ICE_T_TIMESTAMPTZ_NS:
        /* A 4-byte bound on a promoted long was written as an int (§5.3). */
        if (len == 4)
            out->i = (int32_t)(uint32_t)get_le(b, 4);
        else if (len == 8)
            out->i = (int64_t)get_le(b, 8);
        else
            return ICE_ERR_CORRUPT;
        return ICE_OK;
    case ICE_T_FLOAT: {
        if (len != 4)
            return ICE_ERR_CORRUPT;
        uint32_t u = (uint32_t)get_le(b, 4);
        float f;
        memcpy(&f, &u, 4);
        out->d = f;
        return ICE_OK;
    }
    case ICE_T_DOUBLE: {
        if (len != 8 && len != 4)
            return ICE_ERR_CORRUPT;
        if (len == 4) {
            uint32_t u = (uint32_t)get_le(b, 4);
            float f;
            memcpy(&f, &u, 4);
            out->d = f;
        } else {
            uint64_t u = get_le(b, 8);
            memcpy(&out->d, &u, 8);
        }
        return ICE_OK;
    }
    case ICE_T_DECIMAL: {
        if (len == 0 || len > 8)
            return ICE_ERR_UNSUPPORTED; /* wider than int64: kept as bytes only */
        uint64_t v = (b[0] & 0x80) ? UINT64_MAX : 0;
        for (size_t i = 0; i < len; i++)
            v = (v << 8) | b[i];
        out->i = (int64_t)v;
        return ICE_OK;
    }
    case ICE_T_UUID:
        if (len != 16)
            return ICE_ERR_CORRUPT;
        /* fall through */
    case ICE_T_STRING:
    case ICE_T_FIXED:
    case ICE_T_BINARY:
        out->bytes = b;
        out->len = len;
        return ICE_OK;
    default:
        return ICE_ERR_UNSUPPORTED;
    }
}
