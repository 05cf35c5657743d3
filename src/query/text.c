/* query/text.c: result values as the text DuckDB's CAST(... AS VARCHAR)
 * gives, written by kura straight from the result vectors.
 *
 * Every result value leaves kura as text (JSON, CSV, Athena's rows). DuckDB's
 * C API has no vector-to-text call, so the general way is to run the user's
 * query wrapped in SELECT CAST(COLUMNS(*) AS VARCHAR) — a second prepare
 * (≈0.5 ms for a Parquet scan) and a cast of every value. For the types
 * below kura formats the values itself, byte for byte as DuckDB does (the
 * unit test test_query_e2e compares the two over edge values); a result
 * with any other column type (floating point, BLOB, nested, intervals,
 * times, zoned timestamps, …) takes the wrapped path. */
#include "query/text.h"

#include <string.h>

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

bool query_text_col(duckdb_logical_type t, query_text_col_t *c)
{
    memset(c, 0, sizeof *c);
    switch (duckdb_get_type_id(t)) {
    case DUCKDB_TYPE_BOOLEAN: c->kind = QUERY_TX_BOOL; return true;
    case DUCKDB_TYPE_TINYINT: c->kind = QUERY_TX_I8; return true;
    case DUCKDB_TYPE_SMALLINT: c->kind = QUERY_TX_I16; return true;
    case DUCKDB_TYPE_INTEGER: c->kind = QUERY_TX_I32; return true;
    case DUCKDB_TYPE_BIGINT: c->kind = QUERY_TX_I64; return true;
    case DUCKDB_TYPE_UTINYINT: c->kind = QUERY_TX_U8; return true;
    case DUCKDB_TYPE_USMALLINT: c->kind = QUERY_TX_U16; return true;
    case DUCKDB_TYPE_UINTEGER: c->kind = QUERY_TX_U32; return true;
    case DUCKDB_TYPE_UBIGINT: c->kind = QUERY_TX_U64; return true;
    case DUCKDB_TYPE_HUGEINT: c->kind = QUERY_TX_I128; return true;
    case DUCKDB_TYPE_UHUGEINT: c->kind = QUERY_TX_U128; return true;
    case DUCKDB_TYPE_VARCHAR: c->kind = QUERY_TX_VARCHAR; return true;
    case DUCKDB_TYPE_DATE: c->kind = QUERY_TX_DATE; return true;
    case DUCKDB_TYPE_TIMESTAMP: c->kind = QUERY_TX_TIMESTAMP; return true;
    case DUCKDB_TYPE_DECIMAL:
        c->width = duckdb_decimal_width(t);
        c->scale = duckdb_decimal_scale(t);
        switch (duckdb_decimal_internal_type(t)) {
        case DUCKDB_TYPE_SMALLINT: c->kind = QUERY_TX_DEC16; return true;
        case DUCKDB_TYPE_INTEGER: c->kind = QUERY_TX_DEC32; return true;
        case DUCKDB_TYPE_BIGINT: c->kind = QUERY_TX_DEC64; return true;
        case DUCKDB_TYPE_HUGEINT: c->kind = QUERY_TX_DEC128; return true;
        default: return false;
        }
    default: return false;
    }
}

/* Decimal digits of v, most significant first, into the end of tmp. */
static char *u128_digits(u128 v, char *end)
{
    char *p = end;
    do {
        *--p = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    return p;
}

static void put_u128(buf_t *b, u128 v)
{
    char tmp[48];
    char *p = u128_digits(v, tmp + sizeof tmp);
    buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

static void put_i128(buf_t *b, i128 v)
{
    u128 m = (u128)v;
    if (v < 0) {
        buf_putc(b, '-');
        m = (u128)0 - m; /* the magnitude, INT128_MIN included */
    }
    put_u128(b, m);
}

static void put_pad(buf_t *b, unsigned v, int width)
{
    char tmp[16];
    char *p = u128_digits(v, tmp + sizeof tmp);
    for (int n = (int)(tmp + sizeof tmp - p); n < width; n++)
        buf_putc(b, '0');
    buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

/* DuckDB's Date::ToString: at least four year digits, a year <= 0 printed
 * as (1 - year) with " (BC)" after the day. */
static void put_date(buf_t *b, duckdb_date_struct d)
{
    bool bc = d.year <= 0;
    put_pad(b, (unsigned)(bc ? 1 - d.year : d.year), 4);
    buf_putc(b, '-');
    put_pad(b, (unsigned)d.month, 2);
    buf_putc(b, '-');
    put_pad(b, (unsigned)d.day, 2);
    if (bc)
        buf_puts(b, " (BC)");
}

/* HH:MM:SS, then the microseconds without their trailing zeros. */
static void put_time(buf_t *b, duckdb_time_struct t)
{
    put_pad(b, (unsigned)t.hour, 2);
    buf_putc(b, ':');
    put_pad(b, (unsigned)t.min, 2);
    buf_putc(b, ':');
    put_pad(b, (unsigned)t.sec, 2);
    if (t.micros) {
        char f[6];
        int32_t us = t.micros;
        for (int i = 5; i >= 0; i--, us /= 10)
            f[i] = (char)('0' + us % 10);
        size_t n = 6;
        while (f[n - 1] == '0')
            n--;
        buf_putc(b, '.');
        buf_append(b, f, n);
    }
}

/* The unscaled value with `scale` digits after the point; DuckDB leaves out
 * the integer part when the type has no integer digits (DECIMAL(4,4):
 * ".0001"). */
static void put_decimal(buf_t *b, i128 v, uint8_t width, uint8_t scale)
{
    if (scale == 0) {
        put_i128(b, v);
        return;
    }
    u128 m = v < 0 ? (u128)0 - (u128)v : (u128)v, p10 = 1;
    for (uint8_t i = 0; i < scale; i++)
        p10 *= 10;
    if (v < 0)
        buf_putc(b, '-');
    if (width > scale)
        put_u128(b, m / p10);
    buf_putc(b, '.');
    char tmp[48];
    char *p = u128_digits(m % p10, tmp + sizeof tmp);
    for (int n = (int)(tmp + sizeof tmp - p); n < scale; n++)
        buf_putc(b, '0');
    buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

void query_text_put(buf_t *b, const query_text_col_t *c, const void *data, idx_t row)
{
    switch (c->kind) {
    case QUERY_TX_BOOL: buf_puts(b, ((const bool *)data)[row] ? "true" : "false"); return;
    case QUERY_TX_I8: put_i128(b, ((const int8_t *)data)[row]); return;
    case QUERY_TX_I16: put_i128(b, ((const int16_t *)data)[row]); return;
    case QUERY_TX_I32: put_i128(b, ((const int32_t *)data)[row]); return;
    case QUERY_TX_I64: put_i128(b, ((const int64_t *)data)[row]); return;
    case QUERY_TX_U8: put_u128(b, ((const uint8_t *)data)[row]); return;
    case QUERY_TX_U16: put_u128(b, ((const uint16_t *)data)[row]); return;
    case QUERY_TX_U32: put_u128(b, ((const uint32_t *)data)[row]); return;
    case QUERY_TX_U64: put_u128(b, ((const uint64_t *)data)[row]); return;
    case QUERY_TX_I128: {
        duckdb_hugeint h = ((const duckdb_hugeint *)data)[row];
        put_i128(b, (i128)(((u128)(uint64_t)h.upper << 64) | h.lower));
        return;
    }
    case QUERY_TX_U128: {
        duckdb_uhugeint h = ((const duckdb_uhugeint *)data)[row];
        put_u128(b, ((u128)h.upper << 64) | h.lower);
        return;
    }
    case QUERY_TX_VARCHAR: {
        duckdb_string_t *s = &((duckdb_string_t *)(uintptr_t)data)[row];
        buf_append(b, duckdb_string_t_data(s), duckdb_string_t_length(*s));
        return;
    }
    case QUERY_TX_DATE: {
        duckdb_date d = ((const duckdb_date *)data)[row];
        if (!duckdb_is_finite_date(d))
            buf_puts(b, d.days < 0 ? "-infinity" : "infinity");
        else
            put_date(b, duckdb_from_date(d));
        return;
    }
    case QUERY_TX_TIMESTAMP: {
        duckdb_timestamp ts = ((const duckdb_timestamp *)data)[row];
        if (!duckdb_is_finite_timestamp(ts)) {
            buf_puts(b, ts.micros < 0 ? "-infinity" : "infinity");
            return;
        }
        duckdb_timestamp_struct s = duckdb_from_timestamp(ts);
        /* "(BC)" follows the date, before the time: as DuckDB prints it. */
        put_date(b, s.date);
        buf_putc(b, ' ');
        put_time(b, s.time);
        return;
    }
    case QUERY_TX_DEC16: put_decimal(b, ((const int16_t *)data)[row], c->width, c->scale); return;
    case QUERY_TX_DEC32: put_decimal(b, ((const int32_t *)data)[row], c->width, c->scale); return;
    case QUERY_TX_DEC64: put_decimal(b, ((const int64_t *)data)[row], c->width, c->scale); return;
    case QUERY_TX_DEC128: {
        duckdb_hugeint h = ((const duckdb_hugeint *)data)[row];
        put_decimal(b, (i128)(((u128)(uint64_t)h.upper << 64) | h.lower), c->width, c->scale);
        return;
    }
    }
}
