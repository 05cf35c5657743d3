/* iceberg/parquet.c: Parquet data files through DuckDB — COPY with Iceberg
 * field ids, then the manifest statistics of the written file (iceberg.md
 * §6, §5.3).
 *
 * Counts and sizes come from parquet_metadata() (cheap: footer only).
 * Bounds come from min/max over the file's own rows, converted to Iceberg
 * units in SQL: Parquet's text statistics would need a per-type parser here
 * and DuckDB may drop long string stats. Leaf order: parquet_metadata's
 * column_id is the leaf index, and parquet_schema() lists the leaves in the
 * same order with their field ids, so ids come from the file itself. */
#include "iceberg/iceberg.h"
#include "iceberg/ice_int.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <duckdb.h>
#pragma GCC diagnostic pop

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define BOUND_TRUNCATE_CODEPOINTS 16 /* Java's default metrics mode truncate(16) */
#define UTF8_MAX_CODEPOINT 0x10FFFF

static ice_rc_t run(duckdb_connection conn, const char *sql, duckdb_result *res, ice_err_t *err)
{
    if (duckdb_query(conn, sql, res) != DuckDBSuccess) {
        const char *m = duckdb_result_error(res);
        ice_rc_t rc = ice_fail(err, ICE_ERR_DUCKDB, "duckdb: %.200s", m ? m : "query failed");
        duckdb_destroy_result(res);
        return rc;
    }
    return ICE_OK;
}

/* 'text' as a SQL string literal. */
static void sql_str(buf_t *b, const char *s)
{
    buf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            buf_putc(b, '\'');
        buf_putc(b, *s);
    }
    buf_putc(b, '\'');
}

/* "name" as a SQL identifier. */
static void sql_ident(buf_t *b, const char *s)
{
    buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            buf_putc(b, '"');
        buf_putc(b, *s);
    }
    buf_putc(b, '"');
}

static void field_ids(buf_t *b, const ice_type_t *t, int32_t id, int depth);

/* The FIELD_IDS value of one column: a bare id for a primitive, else a
 * struct with __duckdb_field_id and the children's ids. */
static void field_ids(buf_t *b, const ice_type_t *t, int32_t id, int depth)
{
    if (t->kind != ICE_T_STRUCT && t->kind != ICE_T_LIST && t->kind != ICE_T_MAP) {
        buf_printf(b, "%d", (int)id);
        return;
    }
    if (depth > ICE_SCHEMA_MAX_DEPTH) {
        b->failed = true;
        return;
    }
    buf_printf(b, "{'__duckdb_field_id': %d", (int)id);
    if (t->kind == ICE_T_STRUCT) {
        for (size_t i = 0; i < t->n_fields; i++) {
            buf_puts(b, ", ");
            sql_str(b, t->fields[i].name);
            buf_puts(b, ": ");
            field_ids(b, t->fields[i].type, t->fields[i].id, depth + 1);
        }
    } else if (t->kind == ICE_T_LIST) {
        buf_puts(b, ", 'element': ");
        field_ids(b, t->element.type, t->element.id, depth + 1);
    } else {
        buf_puts(b, ", 'key': ");
        field_ids(b, t->key.type, t->key.id, depth + 1);
        buf_puts(b, ", 'value': ");
        field_ids(b, t->value.type, t->value.id, depth + 1);
    }
    buf_putc(b, '}');
}

ice_rc_t ice_parquet_write(struct _duckdb_connection *conn, arena_t *a, const ice_schema_t *schema,
                           const char *select_sql, const char *local_path, const char *location,
                           ice_data_file_t *out, ice_err_t *err)
{
    buf_t q;
    buf_init(&q, BUF_MAX_DEFAULT);
    buf_puts(&q, "COPY (");
    buf_puts(&q, select_sql);
    buf_puts(&q, ") TO ");
    sql_str(&q, local_path);
    buf_puts(&q, " (FORMAT parquet, FIELD_IDS {");
    const ice_type_t *root = schema->root;
    for (size_t i = 0; i < root->n_fields; i++) {
        if (i)
            buf_puts(&q, ", ");
        sql_str(&q, root->fields[i].name);
        buf_puts(&q, ": ");
        field_ids(&q, root->fields[i].type, root->fields[i].id, 0);
    }
    buf_puts(&q, "})");
    if (!buf_ok(&q)) {
        buf_release(&q);
        return ice_fail(err, ICE_ERR_TOO_LARGE, "COPY statement too large");
    }
    duckdb_result res;
    ice_rc_t rc = run(conn, buf_cstr(&q), &res, err);
    buf_release(&q);
    if (rc != ICE_OK)
        return rc;
    duckdb_destroy_result(&res);
    return ice_parquet_stats(conn, a, schema, local_path, location, out, err);
}

/* ---------------------------------------------------------------------- */
/* Stats. */

typedef struct {
    int32_t id;
    const ice_type_t *type;
    bool nested_in_list;
    char *expr; /* SQL path from the row, e.g. "s"."x" */
} leaf_t;

typedef struct {
    leaf_t *v;
    size_t n, cap;
    arena_t *a;
} leaves_t;

static ice_rc_t collect(leaves_t *l, const ice_type_t *t, int32_t id, const char *expr,
                        bool in_list, int depth)
{
    if (depth > ICE_SCHEMA_MAX_DEPTH)
        return ICE_ERR_INVALID;
    ice_rc_t rc;
    switch (t->kind) {
    case ICE_T_STRUCT:
        for (size_t i = 0; i < t->n_fields; i++) {
            buf_t b;
            buf_init(&b, BUF_MAX_DEFAULT);
            if (expr) {
                buf_puts(&b, expr);
                buf_putc(&b, '.');
            }
            sql_ident(&b, t->fields[i].name);
            char *e = buf_ok(&b) ? arena_strdup(l->a, buf_cstr(&b)) : NULL;
            buf_release(&b);
            if (!e)
                return ICE_ERR_NOMEM;
            if ((rc = collect(l, t->fields[i].type, t->fields[i].id, e, in_list, depth + 1)))
                return rc;
        }
        return ICE_OK;
    case ICE_T_LIST:
        return collect(l, t->element.type, t->element.id, expr, true, depth + 1);
    case ICE_T_MAP:
        if ((rc = collect(l, t->key.type, t->key.id, expr, true, depth + 1)))
            return rc;
        return collect(l, t->value.type, t->value.id, expr, true, depth + 1);
    default:
        break;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        leaf_t *n = arena_alloc(l->a, cap * sizeof *n);
        if (!n)
            return ICE_ERR_NOMEM;
        if (l->n)
            memcpy(n, l->v, l->n * sizeof *n);
        l->v = n;
        l->cap = cap;
    }
    l->v[l->n++] = (leaf_t){id, t, in_list, (char *)(uintptr_t)expr};
    return ICE_OK;
}

/* SQL giving the bound in Iceberg units, or NULL when kura writes none. */
static bool bound_sql(buf_t *b, const leaf_t *lf, const char *agg)
{
    const char *e = lf->expr;
    switch (lf->type->kind) {
    case ICE_T_BOOLEAN: buf_printf(b, "%s(%s::INT)::BIGINT", agg, e); return true;
    case ICE_T_INT:
    case ICE_T_LONG: buf_printf(b, "%s(%s)::BIGINT", agg, e); return true;
    case ICE_T_DATE: buf_printf(b, "(%s(%s) - DATE '1970-01-01')::BIGINT", agg, e); return true;
    case ICE_T_TIME: buf_printf(b, "epoch_us(TIMESTAMP '1970-01-01' + %s(%s))", agg, e); return true;
    case ICE_T_TIMESTAMP:
    case ICE_T_TIMESTAMPTZ: buf_printf(b, "epoch_us(%s(%s))", agg, e); return true;
    case ICE_T_FLOAT:
    case ICE_T_DOUBLE:
        /* NaN never bounds (§5.3). */
        buf_printf(b, "%s(%s::DOUBLE) FILTER (WHERE NOT isnan(%s))", agg, e, e);
        return true;
    case ICE_T_STRING:
    case ICE_T_UUID: buf_printf(b, "%s(%s)::VARCHAR", agg, e); return true;
    default: return false;
    }
}

/* Upper bound of a truncated string: the prefix with its last code point
 * incremented (carrying into earlier ones), so it still bounds the value.
 * false when no such string exists (all code points at the maximum). */
static bool utf8_increment(char *s, size_t *len)
{
    while (*len > 0) {
        size_t start = *len - 1;
        while (start > 0 && ((uint8_t)s[start] & 0xC0) == 0x80)
            start--;
        const uint8_t *p = (const uint8_t *)s + start;
        size_t n = *len - start;
        uint32_t cp = n == 1 ? p[0] : n == 2 ? (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F)
                       : n == 3 ? (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F)
                                : (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
                                      (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
        cp++;
        if (cp >= 0xD800 && cp <= 0xDFFF)
            cp = 0xE000;
        if (cp > UTF8_MAX_CODEPOINT) {
            *len = start;
            continue;
        }
        uint8_t *o = (uint8_t *)s + start;
        size_t w;
        if (cp < 0x80) {
            o[0] = (uint8_t)cp;
            w = 1;
        } else if (cp < 0x800) {
            o[0] = (uint8_t)(0xC0 | cp >> 6);
            o[1] = (uint8_t)(0x80 | (cp & 0x3F));
            w = 2;
        } else if (cp < 0x10000) {
            o[0] = (uint8_t)(0xE0 | cp >> 12);
            o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            o[2] = (uint8_t)(0x80 | (cp & 0x3F));
            w = 3;
        } else {
            o[0] = (uint8_t)(0xF0 | cp >> 18);
            o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
            o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            o[3] = (uint8_t)(0x80 | (cp & 0x3F));
            w = 4;
        }
        *len = start + w; /* the buffer has room: it held up to 4 bytes here */
        return true;
    }
    return false;
}

static size_t utf8_prefix_len(const char *s, size_t n, int cps)
{
    size_t i = 0;
    for (int c = 0; i < n && c < cps; c++) {
        i++;
        while (i < n && ((uint8_t)s[i] & 0xC0) == 0x80)
            i++;
    }
    return i;
}

static bool parse_uuid(const char *s, uint8_t out[16])
{
    size_t k = 0;
    for (size_t i = 0; s[i] && k < 32; i++) {
        if (s[i] == '-')
            continue;
        char c = s[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (v < 0)
            return false;
        if (k % 2 == 0)
            out[k / 2] = (uint8_t)(v << 4);
        else
            out[k / 2] |= (uint8_t)v;
        k++;
    }
    return k == 32;
}

/* One bound cell -> binary form; false when null/absent. */
static ice_rc_t bound_value(arena_t *a, duckdb_result *r, idx_t col, const leaf_t *lf, bool upper,
                            ice_id_bytes_t *out, bool *have)
{
    *have = false;
    if (duckdb_value_is_null(r, col, 0))
        return ICE_OK;
    ice_value_t v = {.kind = lf->type->kind};
    uint8_t uuid[16];
    char *s = NULL;
    switch (lf->type->kind) {
    case ICE_T_FLOAT:
    case ICE_T_DOUBLE: v.d = duckdb_value_double(r, col, 0); break;
    case ICE_T_STRING:
    case ICE_T_UUID: {
        s = duckdb_value_varchar(r, col, 0);
        if (!s)
            return ICE_OK;
        size_t n = strlen(s);
        if (lf->type->kind == ICE_T_UUID) {
            bool ok = parse_uuid(s, uuid);
            duckdb_free(s);
            if (!ok)
                return ICE_OK;
            v.bytes = uuid;
            v.len = 16;
            break;
        }
        size_t cut = utf8_prefix_len(s, n, BOUND_TRUNCATE_CODEPOINTS);
        char *copy = arena_memdup(a, s, n + 1);
        duckdb_free(s);
        if (!copy)
            return ICE_ERR_NOMEM;
        if (cut < n) {
            size_t len = cut;
            if (upper && !utf8_increment(copy, &len))
                return ICE_OK; /* no finite upper bound: write none */
            v.len = len;
        } else {
            v.len = n;
        }
        v.bytes = (const uint8_t *)copy;
        break;
    }
    default: v.i = duckdb_value_int64(r, col, 0); break;
    }
    uint8_t *bin;
    size_t blen;
    ice_rc_t rc = ice_value_to_binary(a, &v, &bin, &blen);
    if (rc != ICE_OK)
        return rc;
    *out = (ice_id_bytes_t){lf->id, bin, blen};
    *have = true;
    return ICE_OK;
}

static ice_rc_t counts(duckdb_connection conn, arena_t *a, const char *path_sql,
                       const leaves_t *lv, ice_data_file_t *out, ice_err_t *err)
{
    buf_t q;
    duckdb_result r;
    buf_init(&q, BUF_MAX_DEFAULT);
    /* Leaf field ids in file order (parquet_schema lists groups too; leaves
     * are the rows without children). */
    buf_printf(&q, "SELECT field_id FROM parquet_schema(%s) WHERE num_children IS NULL "
                   "OR num_children = 0", path_sql);
    ice_rc_t rc = run(conn, buf_cstr(&q), &r, err);
    buf_reset(&q);
    if (rc != ICE_OK) {
        buf_release(&q);
        return rc;
    }
    idx_t nleaf = duckdb_row_count(&r);
    int32_t *ids = arena_alloc(a, (nleaf ? nleaf : 1) * sizeof *ids);
    for (idx_t i = 0; ids && i < nleaf; i++)
        ids[i] = duckdb_value_is_null(&r, 0, i) ? -1 : duckdb_value_int32(&r, 0, i);
    duckdb_destroy_result(&r);
    if (!ids) {
        buf_release(&q);
        return ICE_ERR_NOMEM;
    }
    buf_printf(&q, "SELECT column_id, sum(total_compressed_size)::BIGINT, sum(num_values)::BIGINT, "
                   "sum(stats_null_count)::BIGINT, count(stats_null_count) = count(*) "
                   "FROM parquet_metadata(%s) GROUP BY column_id ORDER BY column_id", path_sql);
    rc = run(conn, buf_cstr(&q), &r, err);
    buf_release(&q);
    if (rc != ICE_OK)
        return rc;
    idx_t nrow = duckdb_row_count(&r);
    ice_id_long_t *cs = arena_alloc(a, (nrow ? nrow : 1) * sizeof *cs);
    ice_id_long_t *vc = arena_alloc(a, (nrow ? nrow : 1) * sizeof *vc);
    ice_id_long_t *nc = arena_alloc(a, (nrow ? nrow : 1) * sizeof *nc);
    size_t n = 0, nn = 0;
    for (idx_t i = 0; cs && vc && nc && i < nrow; i++) {
        int64_t col = duckdb_value_int64(&r, 0, i);
        if (col < 0 || (idx_t)col >= nleaf || ids[col] < 0)
            continue; /* a column without an id has no Iceberg identity */
        cs[n] = (ice_id_long_t){ids[col], duckdb_value_int64(&r, 1, i)};
        vc[n] = (ice_id_long_t){ids[col], duckdb_value_int64(&r, 2, i)};
        n++;
        if (duckdb_value_boolean(&r, 4, i))
            nc[nn++] = (ice_id_long_t){ids[col], duckdb_value_int64(&r, 3, i)};
    }
    duckdb_destroy_result(&r);
    if (!cs || !vc || !nc)
        return ICE_ERR_NOMEM;
    out->column_sizes = cs;
    out->value_counts = vc;
    out->n_column_sizes = out->n_value_counts = n;
    out->null_value_counts = nc;
    out->n_null_value_counts = nn;
    (void)lv;
    return ICE_OK;
}

static ice_rc_t split_offsets(duckdb_connection conn, arena_t *a, const char *path_sql,
                              ice_data_file_t *out, ice_err_t *err)
{
    buf_t q;
    duckdb_result r;
    buf_init(&q, BUF_MAX_DEFAULT);
    buf_printf(&q, "SELECT min(CASE WHEN dictionary_page_offset > 0 THEN least(dictionary_page_offset,"
                   " data_page_offset) ELSE data_page_offset END)::BIGINT FROM parquet_metadata(%s) "
                   "WHERE column_id = 0 GROUP BY row_group_id ORDER BY 1", path_sql);
    ice_rc_t rc = run(conn, buf_cstr(&q), &r, err);
    buf_release(&q);
    if (rc != ICE_OK)
        return rc;
    idx_t n = duckdb_row_count(&r);
    int64_t *v = arena_alloc(a, (n ? n : 1) * sizeof *v);
    for (idx_t i = 0; v && i < n; i++)
        v[i] = duckdb_value_int64(&r, 0, i);
    duckdb_destroy_result(&r);
    if (!v)
        return ICE_ERR_NOMEM;
    out->split_offsets = v;
    out->n_split_offsets = n;
    return ICE_OK;
}

static ice_rc_t bounds(duckdb_connection conn, arena_t *a, const char *path_sql,
                       const leaves_t *lv, ice_data_file_t *out, ice_err_t *err)
{
    buf_t q;
    buf_init(&q, BUF_MAX_DEFAULT);
    buf_puts(&q, "SELECT 0");
    size_t nb = 0;
    for (size_t i = 0; i < lv->n; i++) {
        const leaf_t *lf = &lv->v[i];
        if (lf->nested_in_list)
            continue;
        buf_puts(&q, ", ");
        if (!bound_sql(&q, lf, "min")) {
            buf_puts(&q, "NULL, NULL, NULL");
            continue;
        }
        buf_puts(&q, ", ");
        bound_sql(&q, lf, "max");
        if (lf->type->kind == ICE_T_FLOAT || lf->type->kind == ICE_T_DOUBLE)
            buf_printf(&q, ", count(*) FILTER (WHERE isnan(%s))", lf->expr);
        else
            buf_puts(&q, ", NULL");
        nb++;
    }
    buf_printf(&q, " FROM read_parquet(%s)", path_sql);
    if (!buf_ok(&q)) {
        buf_release(&q);
        return ICE_ERR_TOO_LARGE;
    }
    duckdb_result r;
    ice_rc_t rc = run(conn, buf_cstr(&q), &r, err);
    buf_release(&q);
    if (rc != ICE_OK)
        return rc;
    size_t cap = nb ? nb : 1;
    ice_id_bytes_t *lo = arena_alloc(a, cap * sizeof *lo), *up = arena_alloc(a, cap * sizeof *up);
    ice_id_long_t *nan = arena_alloc(a, cap * sizeof *nan);
    size_t nlo = 0, nup = 0, nnan = 0;
    idx_t col = 1;
    if (!lo || !up || !nan)
        rc = ICE_ERR_NOMEM;
    for (size_t i = 0; rc == ICE_OK && i < lv->n && duckdb_row_count(&r) == 1; i++) {
        const leaf_t *lf = &lv->v[i];
        if (lf->nested_in_list)
            continue;
        bool have;
        if ((rc = bound_value(a, &r, col, lf, false, &lo[nlo], &have)) != ICE_OK)
            break;
        nlo += have;
        if ((rc = bound_value(a, &r, col + 1, lf, true, &up[nup], &have)) != ICE_OK)
            break;
        nup += have;
        if (!duckdb_value_is_null(&r, col + 2, 0))
            nan[nnan++] = (ice_id_long_t){lf->id, duckdb_value_int64(&r, col + 2, 0)};
        col += 3;
    }
    duckdb_destroy_result(&r);
    if (rc != ICE_OK)
        return rc;
    out->lower_bounds = lo;
    out->n_lower_bounds = nlo;
    out->upper_bounds = up;
    out->n_upper_bounds = nup;
    out->nan_value_counts = nan;
    out->n_nan_value_counts = nnan;
    return ICE_OK;
}

ice_rc_t ice_parquet_stats(struct _duckdb_connection *conn, arena_t *a, const ice_schema_t *schema,
                           const char *local_path, const char *location, ice_data_file_t *out,
                           ice_err_t *err)
{
    memset(out, 0, sizeof *out);
    out->content = ICE_CONTENT_DATA;
    out->file_format = "PARQUET";
    out->sort_order_id = 0;
    out->file_path = arena_strdup(a, location);
    struct stat st;
    if (!out->file_path)
        return ICE_ERR_NOMEM;
    if (stat(local_path, &st) != 0)
        return ice_fail(err, ICE_ERR_IO, "parquet file missing after write");
    out->file_size_in_bytes = st.st_size;
    buf_t p;
    buf_init(&p, BUF_MAX_DEFAULT);
    sql_str(&p, local_path);
    char *path_sql = buf_ok(&p) ? arena_strdup(a, buf_cstr(&p)) : NULL;
    buf_release(&p);
    if (!path_sql)
        return ICE_ERR_NOMEM;
    leaves_t lv = {.a = a};
    ice_rc_t rc = collect(&lv, schema->root, 0, NULL, false, 0);
    if (rc != ICE_OK)
        return rc;
    buf_t q;
    buf_init(&q, BUF_MAX_DEFAULT);
    buf_printf(&q, "SELECT num_rows FROM parquet_file_metadata(%s)", path_sql);
    duckdb_result r;
    rc = run(conn, buf_cstr(&q), &r, err);
    buf_release(&q);
    if (rc != ICE_OK)
        return rc;
    out->record_count = duckdb_row_count(&r) == 1 ? duckdb_value_int64(&r, 0, 0) : -1;
    duckdb_destroy_result(&r);
    if (out->record_count < 0)
        return ice_fail(err, ICE_ERR_CORRUPT, "parquet file has no row count");
    if ((rc = counts(conn, a, path_sql, &lv, out, err)) != ICE_OK ||
        (rc = split_offsets(conn, a, path_sql, out, err)) != ICE_OK)
        return rc;
    return bounds(conn, a, path_sql, &lv, out, err);
}

/* ---------------------------------------------------------------------- */

static const ice_id_bytes_t *find_bound(const ice_id_bytes_t *b, size_t n, int32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (b[i].id == id)
            return &b[i];
    return NULL;
}

static bool same_value(const ice_value_t *x, const ice_value_t *y)
{
    if (x->is_null || y->is_null)
        return x->is_null == y->is_null;
    if (x->bytes || y->bytes)
        return x->len == y->len && (x->len == 0 || memcmp(x->bytes, y->bytes, x->len) == 0);
    return x->i == y->i && x->d == y->d;
}

ice_rc_t ice_partition_from_bounds(arena_t *a, const ice_schema_t *schema,
                                   const ice_partition_spec_t *spec, ice_data_file_t *df)
{
    size_t n = spec->n_fields;
    ice_value_t *pv = arena_alloc(a, (n ? n : 1) * sizeof *pv);
    if (!pv)
        return ICE_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const ice_partition_field_t *pf = &spec->fields[i];
        const ice_field_t *src = ice_schema_find(schema, pf->source_id);
        if (!src || !pf->transform.kind)
            return ICE_ERR_INVALID;
        const ice_id_bytes_t *lo = find_bound(df->lower_bounds, df->n_lower_bounds, pf->source_id);
        const ice_id_bytes_t *up = find_bound(df->upper_bounds, df->n_upper_bounds, pf->source_id);
        if (!lo || !up) {
            /* All null -> the null partition; unknown -> refuse. */
            int64_t vals = -1, nulls = -2;
            for (size_t k = 0; k < df->n_value_counts; k++)
                if (df->value_counts[k].id == pf->source_id)
                    vals = df->value_counts[k].v;
            for (size_t k = 0; k < df->n_null_value_counts; k++)
                if (df->null_value_counts[k].id == pf->source_id)
                    nulls = df->null_value_counts[k].v;
            if (vals != nulls)
                return ICE_ERR_INVALID;
            ice_kind_t rk;
            if (ice_transform_result_kind(&pf->transform, src->type->kind, &rk) != ICE_OK)
                return ICE_ERR_INVALID;
            pv[i] = (ice_value_t){.is_null = true, .kind = rk};
            continue;
        }
        ice_value_t lv, uv, lt, ut;
        if (ice_value_from_binary(src->type->kind, lo->data, lo->len, &lv) != ICE_OK ||
            ice_value_from_binary(src->type->kind, up->data, up->len, &uv) != ICE_OK)
            return ICE_ERR_INVALID;
        /* Only monotonic transforms map [min, max] to one value when the
         * ends agree; bucket and byte values need min == max. */
        bool need_equal = pf->transform.kind == ICE_TR_BUCKET || lv.bytes != NULL;
        if (need_equal && !same_value(&lv, &uv))
            return ICE_ERR_INVALID;
        if (ice_transform_apply(&pf->transform, &lv, &lt) != ICE_OK ||
            ice_transform_apply(&pf->transform, &uv, &ut) != ICE_OK || !same_value(&lt, &ut))
            return ICE_ERR_INVALID;
        pv[i] = lt;
    }
    df->partition = pv;
    df->n_partition = n;
    return ICE_OK;
}
