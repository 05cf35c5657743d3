/* query/resolve.c: a table reference -> the exact data files of one
 * snapshot, as a DuckDB subquery (issue 8: "A query reads exactly the data
 * files of the chosen snapshot ... applying Iceberg delete files").
 *
 * The files come from ice_scan_files over the snapshot's manifests, never
 * from listing a directory, so an uncommitted or orphaned Parquet file in
 * the table's location is never read. Columns are bound by Iceberg field id
 * (read_parquet's `schema` map), so renamed and added columns read right
 * from files written under an older schema. */
#include "query/query_int.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <duckdb.h>
#pragma GCC diagnostic pop

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static query_err_t from_ice(ice_rc_t rc, const ice_err_t *ie, char *msg, size_t cap,
                            const char *what)
{
    query_err_t e = rc == ICE_ERR_NOT_FOUND ? QUERY_ERR_NO_SNAPSHOT
                    : rc == ICE_ERR_UNSUPPORTED ? QUERY_ERR_UNSUPPORTED
                    : rc == ICE_ERR_CONFLICT    ? QUERY_ERR_CONFLICT
                                                : QUERY_ERR_INTERNAL;
    return query_fail(msg, cap, e, "%s: %s%s%s", what, ice_rc_name(rc), ie && ie->msg[0] ? ": " : "",
                      ie ? ie->msg : "");
}

/* The catalog's answer for a table, authorization included. */
static query_err_t table_lookup(query_resolver_t *r, arena_t *a, const char *bucket, const char *ns,
                                const char *table, bool write, query_table_t *t, char *msg,
                                size_t cap)
{
    memset(t, 0, sizeof *t);
    int rc = r->cat->resolve(r->cat->ctx, a, r->caller, bucket, ns, table, write, t);
    if (rc == QUERY_ERR_NO_TABLE)
        return query_fail(msg, cap, QUERY_ERR_NO_TABLE, "table \"s3tablescatalog/%s\".%s.%s does not exist",
                          bucket, ns, table);
    if (rc == QUERY_ERR_FORBIDDEN)
        return query_fail(msg, cap, QUERY_ERR_FORBIDDEN, "not allowed to %s table %s.%s.%s",
                          write ? "write" : "read", bucket, ns, table);
    if (rc != QUERY_OK)
        return query_fail(msg, cap, (query_err_t)rc, "cannot resolve table %s.%s.%s", bucket, ns,
                          table);
    return QUERY_OK;
}

/* Reads and parses t's current metadata (*m NULL when it has none). */
static query_err_t metadata_read(const query_table_t *t, arena_t *a, ice_metadata_t **m, char *msg,
                                 size_t cap)
{
    *m = NULL;
    if (!t->metadata_location)
        return QUERY_OK;
    if (!t->io)
        return query_fail(msg, cap, QUERY_ERR_INTERNAL, "catalog gave no file I/O");
    char *json = NULL;
    size_t len = 0;
    ice_err_t ie = {{0}};
    int rc = t->io->read(t->io->ctx, t->metadata_location, ICE_METADATA_MAX_BYTES, a, &json, &len);
    if (rc != ICE_OK)
        return from_ice((ice_rc_t)rc, NULL, msg, cap, "reading table metadata");
    ice_rc_t irc = ice_metadata_parse(a, json, len, m, &ie);
    if (irc != ICE_OK)
        return from_ice(irc, &ie, msg, cap, "table metadata");
    return QUERY_OK;
}

query_err_t query_table_load(query_resolver_t *r, arena_t *a, const char *bucket, const char *ns,
                             const char *table, bool write, query_table_t *t, ice_metadata_t **m,
                             char *msg, size_t cap)
{
    query_err_t e;
    *m = NULL;
    if ((e = table_lookup(r, a, bucket, ns, table, write, t, msg, cap)) != QUERY_OK)
        return e;
    return metadata_read(t, a, m, msg, cap);
}

bool query_duck_type(buf_t *b, const ice_type_t *t)
{
    switch (t->kind) {
    case ICE_T_BOOLEAN: buf_puts(b, "BOOLEAN"); return true;
    case ICE_T_INT: buf_puts(b, "INTEGER"); return true;
    case ICE_T_LONG: buf_puts(b, "BIGINT"); return true;
    case ICE_T_FLOAT: buf_puts(b, "FLOAT"); return true;
    case ICE_T_DOUBLE: buf_puts(b, "DOUBLE"); return true;
    case ICE_T_DECIMAL: buf_printf(b, "DECIMAL(%d,%d)", t->precision, t->scale); return true;
    case ICE_T_DATE: buf_puts(b, "DATE"); return true;
    case ICE_T_TIME: buf_puts(b, "TIME"); return true;
    case ICE_T_TIMESTAMP: buf_puts(b, "TIMESTAMP"); return true;
    case ICE_T_TIMESTAMPTZ: buf_puts(b, "TIMESTAMPTZ"); return true;
    case ICE_T_TIMESTAMP_NS: buf_puts(b, "TIMESTAMP_NS"); return true;
    case ICE_T_TIMESTAMPTZ_NS: buf_puts(b, "TIMESTAMPTZ"); return true;
    case ICE_T_STRING: buf_puts(b, "VARCHAR"); return true;
    case ICE_T_UUID: buf_puts(b, "UUID"); return true;
    case ICE_T_FIXED:
    case ICE_T_BINARY: buf_puts(b, "BLOB"); return true;
    case ICE_T_STRUCT:
        buf_puts(b, "STRUCT(");
        for (size_t i = 0; i < t->n_fields; i++) {
            if (i)
                buf_puts(b, ", ");
            query_sql_ident(b, t->fields[i].name);
            buf_putc(b, ' ');
            if (!query_duck_type(b, t->fields[i].type))
                return false;
        }
        buf_putc(b, ')');
        return true;
    case ICE_T_LIST:
        if (!query_duck_type(b, t->element.type))
            return false;
        buf_puts(b, "[]");
        return true;
    case ICE_T_MAP:
        buf_puts(b, "MAP(");
        if (!query_duck_type(b, t->key.type))
            return false;
        buf_puts(b, ", ");
        if (!query_duck_type(b, t->value.type))
            return false;
        buf_putc(b, ')');
        return true;
    case ICE_T_UNKNOWN: return false;
    }
    return false;
}

/* Hive-style name, as Athena's DESCRIBE prints it. */
static void hive_type(buf_t *b, const ice_type_t *t)
{
    switch (t->kind) {
    case ICE_T_LONG: buf_puts(b, "bigint"); return;
    case ICE_T_INT: buf_puts(b, "int"); return;
    case ICE_T_STRUCT:
        buf_puts(b, "struct<");
        for (size_t i = 0; i < t->n_fields; i++) {
            buf_printf(b, "%s%s:", i ? "," : "", t->fields[i].name);
            hive_type(b, t->fields[i].type);
        }
        buf_putc(b, '>');
        return;
    case ICE_T_LIST:
        buf_puts(b, "array<");
        hive_type(b, t->element.type);
        buf_putc(b, '>');
        return;
    case ICE_T_MAP:
        buf_puts(b, "map<");
        hive_type(b, t->key.type);
        buf_putc(b, ',');
        hive_type(b, t->value.type);
        buf_putc(b, '>');
        return;
    default: buf_puts(b, t->name ? t->name : "unknown"); return;
    }
}

/* Epoch ms of a FOR TIMESTAMP AS OF expression, evaluated by DuckDB (UTC
 * session: a zone-less literal means UTC, as on Athena's default). */
static query_err_t eval_ts(query_resolver_t *r, arena_t *a, const char *expr, int64_t *ms,
                           char *msg, size_t cap)
{
    duckdb_result res;
    if (!r->conn)
        return query_fail(msg, cap, QUERY_ERR_UNSUPPORTED, "time travel needs a connection");
    char *sql = arena_printf(a, "SELECT epoch_ms(CAST((%s) AS TIMESTAMP))", expr);
    if (!sql)
        return QUERY_ERR_INTERNAL;
    if (duckdb_query((duckdb_connection)r->conn, sql, &res) == DuckDBError) {
        query_err_t e = query_fail(msg, cap, QUERY_ERR_EXEC, "FOR TIMESTAMP AS OF: %s",
                                   duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        return e;
    }
    bool ok = duckdb_row_count(&res) == 1 && !duckdb_value_is_null(&res, 0, 0);
    if (ok)
        *ms = duckdb_value_int64(&res, 0, 0);
    duckdb_destroy_result(&res);
    return ok ? QUERY_OK
              : query_fail(msg, cap, QUERY_ERR_EXEC, "FOR TIMESTAMP AS OF: the expression is NULL");
}

/* (SELECT CAST(NULL AS T) AS c, ... WHERE false): a table with no rows. */
static query_err_t empty_select(buf_t *b, const ice_schema_t *s)
{
    buf_puts(b, "(SELECT ");
    for (size_t i = 0; i < s->root->n_fields; i++) {
        const ice_field_t *f = &s->root->fields[i];
        buf_puts(b, i ? ", CAST(NULL AS " : "CAST(NULL AS ");
        if (!query_duck_type(b, f->type))
            return QUERY_ERR_UNSUPPORTED;
        buf_puts(b, ") AS ");
        query_sql_ident(b, f->name);
    }
    if (s->root->n_fields == 0)
        buf_puts(b, "NULL AS empty");
    buf_puts(b, " WHERE false)");
    return QUERY_OK;
}

static query_err_t file_list(query_resolver_t *r, arena_t *a, buf_t *b, const ice_scan_file_t *f,
                             size_t n, const char ***locals, char *msg, size_t cap)
{
    const char **loc = arena_alloc(a, (n + 1) * sizeof *loc);
    if (!loc)
        return QUERY_ERR_INTERNAL;
    buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        int rc = r->cat->local_path(r->cat->ctx, a, f[i].path, &loc[i]);
        if (rc != QUERY_OK)
            return query_fail(msg, cap, rc == QUERY_ERR_NO_TABLE ? QUERY_ERR_INTERNAL : (query_err_t)rc,
                              "data file %s of the snapshot is missing", f[i].path);
        if (i)
            buf_puts(b, ", ");
        query_sql_str(b, loc[i]);
        if (f[i].file_size_in_bytes > 0)
            r->bytes_scanned += (uint64_t)f[i].file_size_in_bytes;
    }
    buf_putc(b, ']');
    *locals = loc;
    return QUERY_OK;
}

/* The read_parquet subquery for a scan. Position deletes become an anti
 * join on (file, row position); their file_path column holds locations,
 * mapped to the local names DuckDB reports in `filename`. */
/* `by_name`: the table never had another schema, so every data file names
 * its columns as the schema does and DuckDB can read them by name. The
 * field-id mapping (schema=...) is needed after schema evolution, but DuckDB
 * 1.4 scans such a read on one thread: a 1M-row group-by took twice as long. */
static query_err_t scan_select(query_resolver_t *r, arena_t *a, buf_t *b, const ice_schema_t *s,
                               const ice_scan_t *scan, bool by_name, char *msg, size_t cap)
{
    const char **dl = NULL, **xl = NULL;
    query_err_t e;

    for (size_t i = 0; i < scan->n_deletes; i++)
        if (scan->deletes[i].content == ICE_CONTENT_EQ_DELETES)
            return query_fail(msg, cap, QUERY_ERR_UNSUPPORTED,
                              "the snapshot has equality delete files, which kura does not apply");
    if (scan->n_data == 0)
        return empty_select(b, s);

    buf_puts(b, "(SELECT ");
    for (size_t i = 0; i < s->root->n_fields; i++) {
        if (i)
            buf_puts(b, ", ");
        if (by_name) {
            buf_t t;
            buf_init(&t, 1 << 16);
            bool ok = query_duck_type(&t, s->root->fields[i].type);
            if (ok) {
                buf_puts(b, "CAST(kura_d.");
                query_sql_ident(b, s->root->fields[i].name);
                buf_printf(b, " AS %s) AS ", buf_cstr(&t));
            }
            buf_release(&t);
            if (!ok)
                return query_fail(msg, cap, QUERY_ERR_UNSUPPORTED,
                                  "column %s has a type kura cannot read", s->root->fields[i].name);
        } else {
            buf_puts(b, "kura_d.");
        }
        query_sql_ident(b, s->root->fields[i].name);
    }
    buf_puts(b, " FROM read_parquet(");
    if ((e = file_list(r, a, b, scan->data, scan->n_data, &dl, msg, cap)) != QUERY_OK)
        return e;
    if (by_name)
        goto options;
    buf_puts(b, ", schema=map{");
    for (size_t i = 0; i < s->root->n_fields; i++) {
        const ice_field_t *f = &s->root->fields[i];
        buf_printf(b, "%s%" PRId32 ": {name: ", i ? ", " : "", f->id);
        query_sql_str(b, f->name);
        buf_puts(b, ", type: '");
        buf_t t;
        buf_init(&t, 1 << 16);
        bool ok = query_duck_type(&t, f->type);
        /* the type goes inside a string literal */
        for (size_t k = 0; ok && k < t.len; k++) {
            if (t.data[k] == '\'')
                buf_putc(b, '\'');
            buf_putc(b, t.data[k]);
        }
        buf_release(&t);
        if (!ok)
            return query_fail(msg, cap, QUERY_ERR_UNSUPPORTED, "column %s has a type kura cannot read",
                              f->name);
        buf_puts(b, "', default_value: NULL}");
    }
    buf_puts(b, "}");
options:
    if (scan->n_deletes)
        buf_puts(b, ", filename=true, file_row_number=true");
    buf_puts(b, ") AS kura_d");
    if (scan->n_deletes) {
        buf_puts(b, " ANTI JOIN (SELECT kura_m.l AS f, kura_x.pos AS p FROM read_parquet(");
        if ((e = file_list(r, a, b, scan->deletes, scan->n_deletes, &xl, msg, cap)) != QUERY_OK)
            return e;
        buf_puts(b, ") AS kura_x JOIN (VALUES ");
        for (size_t i = 0; i < scan->n_data; i++) {
            buf_puts(b, i ? ", (" : "(");
            query_sql_str(b, scan->data[i].path);
            buf_puts(b, ", ");
            query_sql_str(b, dl[i]);
            buf_putc(b, ')');
        }
        buf_puts(b, ") AS kura_m(loc, l) ON kura_x.file_path = kura_m.loc) AS kura_del"
                    " ON kura_d.filename = kura_del.f AND kura_d.file_row_number = kura_del.p");
    }
    buf_putc(b, ')');
    return QUERY_OK;
}

void query_scan_cache_init(query_scan_cache_t *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
}

void query_scan_cache_free(query_scan_cache_t *c)
{
    for (size_t i = 0; i < QUERY_SCAN_CACHE_ENTRIES; i++) {
        free(c->e[i].key);
        free(c->e[i].sql);
    }
    pthread_mutex_destroy(&c->mu);
}

/* The cached scan of metadata location `key`, copied into a. */
static const char *cache_get(query_scan_cache_t *c, arena_t *a, const char *key, uint64_t *bytes)
{
    const char *sql = NULL;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < QUERY_SCAN_CACHE_ENTRIES; i++)
        if (c->e[i].used && !strcmp(c->e[i].key, key)) {
            c->e[i].used = ++c->tick;
            *bytes = c->e[i].bytes;
            sql = arena_strdup(a, c->e[i].sql);
            break;
        }
    pthread_mutex_unlock(&c->mu);
    return sql;
}

static void cache_put(query_scan_cache_t *c, const char *key, const char *sql, uint64_t bytes)
{
    if (strlen(sql) > QUERY_SCAN_CACHE_MAX_SQL)
        return;
    char *k = strdup(key), *s = strdup(sql);
    if (!k || !s) {
        free(k);
        free(s);
        return;
    }
    pthread_mutex_lock(&c->mu);
    size_t victim = 0;
    for (size_t i = 0; i < QUERY_SCAN_CACHE_ENTRIES; i++) {
        if (c->e[i].used && !strcmp(c->e[i].key, key)) { /* planned twice at once */
            victim = i;
            break;
        }
        if (c->e[i].used < c->e[victim].used)
            victim = i;
    }
    free(c->e[victim].key);
    free(c->e[victim].sql);
    c->e[victim].key = k;
    c->e[victim].sql = s;
    c->e[victim].bytes = bytes;
    c->e[victim].used = ++c->tick;
    pthread_mutex_unlock(&c->mu);
}

static query_err_t expand(void *ctx, arena_t *a, const query_ref_t *ref, const char **sql,
                          char *msg, size_t cap)
{
    query_resolver_t *r = ctx;
    query_table_t t;
    ice_metadata_t *m;
    query_err_t e;
    int64_t snap = -1;
    uint64_t bytes0 = r->bytes_scanned, cached = 0;

    if ((e = table_lookup(r, a, ref->bucket, ref->ns, ref->table, false, &t, msg, cap)) != QUERY_OK)
        return e;
    bool cacheable = r->cache && t.metadata_location && ref->tt == QUERY_TT_NONE;
    if (cacheable && (*sql = cache_get(r->cache, a, t.metadata_location, &cached))) {
        r->bytes_scanned += cached;
        return QUERY_OK;
    }
    if ((e = metadata_read(&t, a, &m, msg, cap)) != QUERY_OK)
        return e;
    if (!m) {
        *sql = "(SELECT NULL AS empty WHERE false)";
        return QUERY_OK;
    }
    if (ref->tt == QUERY_TT_VERSION) {
        if (!ice_metadata_snapshot(m, ref->version))
            return query_fail(msg, cap, QUERY_ERR_NO_SNAPSHOT,
                              "table %s.%s.%s has no snapshot %" PRId64, ref->bucket, ref->ns,
                              ref->table, ref->version);
        snap = ref->version;
    } else if (ref->tt == QUERY_TT_TIMESTAMP) {
        int64_t ms = 0;
        if ((e = eval_ts(r, a, ref->ts_expr, &ms, msg, cap)) != QUERY_OK)
            return e;
        if (ice_snapshot_as_of(m, ms, &snap) != ICE_OK)
            return query_fail(msg, cap, QUERY_ERR_NO_SNAPSHOT,
                              "table %s.%s.%s has no snapshot as of %s", ref->bucket, ref->ns,
                              ref->table, ref->ts_expr);
    } else {
        snap = m->current_snapshot_id;
    }

    buf_t b;
    buf_init(&b, QUERY_REWRITE_MAX_BYTES);
    if (snap < 0) {
        e = empty_select(&b, ice_metadata_schema(m, -1));
    } else {
        ice_scan_t scan;
        ice_err_t ie = {{0}};
        ice_rc_t irc = ice_scan_files(t.io, a, m, snap, &scan, &ie);
        if (irc != ICE_OK) {
            e = from_ice(irc, &ie, msg, cap, "planning the scan");
        } else {
            /* The current snapshot reads with the table's current schema
             * (renamed columns answer to their new names); time travel with
             * the schema the snapshot was written under. */
            const ice_schema_t *s =
                ice_metadata_schema(m, ref->tt == QUERY_TT_NONE ? -1 : scan.schema_id);
            e = s ? scan_select(r, a, &b, s, &scan, m->n_schemas == 1, msg, cap)
                  : query_fail(msg, cap, QUERY_ERR_INTERNAL, "snapshot schema missing");
        }
    }
    if (e == QUERY_OK && !buf_ok(&b))
        e = query_fail(msg, cap, QUERY_ERR_TOO_LARGE, "table %s has too many files", ref->table);
    if (e == QUERY_OK && !(*sql = arena_strndup(a, b.data, b.len)))
        e = QUERY_ERR_INTERNAL;
    if (e == QUERY_OK && cacheable)
        cache_put(r->cache, t.metadata_location, *sql, r->bytes_scanned - bytes0);
    buf_release(&b);
    return e;
}

static query_err_t list(void *ctx, arena_t *a, query_list_t what, const char *bucket,
                        const char *ns, const char ***names, size_t *n, char *msg, size_t cap)
{
    query_resolver_t *r = ctx;
    int rc = r->cat->list(r->cat->ctx, a, r->caller, what, bucket, ns, names, n);
    if (rc == QUERY_ERR_NO_TABLE)
        return query_fail(msg, cap, QUERY_ERR_NO_TABLE, "%s %s%s%s does not exist",
                          what == QUERY_LIST_TABLES ? "database" : "catalog", bucket ? bucket : "",
                          ns ? "." : "", ns ? ns : "");
    if (rc != QUERY_OK)
        return query_fail(msg, cap, (query_err_t)rc, "listing the catalog failed");
    return QUERY_OK;
}

static query_err_t columns(void *ctx, arena_t *a, const query_ref_t *ref, const query_col_t **cols,
                           size_t *n, char *msg, size_t cap)
{
    query_resolver_t *r = ctx;
    query_table_t t;
    ice_metadata_t *m;
    query_err_t e;
    if ((e = query_table_load(r, a, ref->bucket, ref->ns, ref->table, false, &t, &m, msg, cap)) !=
        QUERY_OK)
        return e;
    *n = 0;
    *cols = NULL;
    if (!m)
        return QUERY_OK;
    const ice_schema_t *s = ice_metadata_schema(m, -1);
    query_col_t *c = arena_alloc(a, (s->root->n_fields + 1) * sizeof *c);
    if (!c)
        return QUERY_ERR_INTERNAL;
    for (size_t i = 0; i < s->root->n_fields; i++) {
        buf_t b;
        buf_init(&b, 1 << 16);
        hive_type(&b, s->root->fields[i].type);
        c[i].name = s->root->fields[i].name;
        c[i].type = arena_strdup(a, buf_cstr(&b));
        c[i].doc = s->root->fields[i].doc;
        buf_release(&b);
    }
    *cols = c;
    *n = s->root->n_fields;
    return QUERY_OK;
}

void query_resolver_bind(query_rewrite_ctx_t *rc, query_resolver_t *r)
{
    rc->ctx = r;
    rc->expand = expand;
    rc->list = list;
    rc->columns = columns;
}
