/* query/exec.c: the DuckDB instances, the connection pool, the watchdog,
 * running a statement and streaming its rows, and INSERT / CTAS commits
 * (issue 8 "Safety", "Writes"; NOTES 13, 21).
 *
 * Two instances:
 *   user    runs user SQL. Set up once, then locked: external access only
 *           to data_dir (blobs) and spool_dir (kura's temp files), no
 *           extension install or autoload, memory_limit/threads fixed,
 *           lock_configuration. Only statements DuckDB types as SELECT run
 *           there on the user's behalf; kura itself adds one COPY to the
 *           spool for INSERT/CTAS.
 *   writer  kura's own: turns a spooled result into Iceberg Parquet with
 *           field ids (ice_parquet_write), never sees user SQL text.
 * The watchdog interrupts a connection past its deadline or whose cancel
 * flag is set; the interrupted statement fails with DuckDB's INTERRUPT
 * error, reported as QUERY_ERR_TIMEOUT or QUERY_ERR_CANCELLED. */
#include "query/query_int.h"
#include "query/text.h"
#include "util/log.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <duckdb.h>
#pragma GCC diagnostic pop

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WATCHDOG_TICK_MS 50
#define WRITE_RETRIES 4 /* compare-and-swap attempts before QUERY_ERR_CONFLICT */

int64_t query_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Athena functions DuckDB lacks (or spells differently), as macros in the
 * user instance's catalog; users cannot drop them (no DDL runs for them). */

/* duckdb_prepared_statement_column_name returns a copy the caller frees. */
static void duck_free_str(const char *p)
{
    duckdb_free((void *)(uintptr_t)p);
}

static const char *const athena_macros[] = {
    "CREATE MACRO kura_date_add(unit, n, ts) AS ts + (n * CAST('1 ' || unit AS INTERVAL))",
    "CREATE MACRO from_unixtime(x) AS to_timestamp(CAST(x AS DOUBLE))",
    "CREATE MACRO to_unixtime(ts) AS epoch(ts)",
    "CREATE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)",
    "CREATE MACRO from_iso8601_date(s) AS CAST(s AS DATE)",
    "CREATE MACRO to_iso8601(ts) AS strftime(ts, '%Y-%m-%dT%H:%M:%S.%gZ')",
    "CREATE MACRO at_timezone(ts, z) AS timezone(z, ts)",
};

static bool setup_sql(duckdb_connection c, const char *sql)
{
    duckdb_result r;
    bool ok = duckdb_query(c, sql, &r) == DuckDBSuccess;
    if (!ok)
        log_error(NULL, "query_setup", "sql=\"%s\" err=\"%s\"", sql, duckdb_result_error(&r));
    duckdb_destroy_result(&r);
    return ok;
}

static void *watchdog_main(void *arg)
{
    query_t *q = arg;
    pthread_mutex_lock(&q->mu);
    while (!q->stop) {
        int64_t now = query_now_ms();
        for (size_t i = 0; i < q->nslots; i++) {
            query_slot_t *s = &q->slots[i];
            if (!s->busy || s->why != QUERY_OK)
                continue;
            if (s->cancel && *s->cancel)
                s->why = QUERY_ERR_CANCELLED;
            else if (s->deadline_ms && now > s->deadline_ms)
                s->why = QUERY_ERR_TIMEOUT;
            if (s->why != QUERY_OK)
                duckdb_interrupt((duckdb_connection)s->conn);
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += WATCHDOG_TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&q->cv, &q->mu, &ts);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

static char *dupz(const char *s) { return s ? strdup(s) : NULL; }

query_t *query_new(const query_opts_t *o, const query_catalog_t *cat)
{
    query_t *q = calloc(1, sizeof *q);
    duckdb_config cfg = NULL;
    duckdb_connection setup = NULL;
    char sql[8192];

    if (!q || !o->data_dir || !o->spool_dir)
        goto fail;
    q->o = *o;
    q->cat = *cat;
    q->data_dir = dupz(o->data_dir);
    q->spool_dir = dupz(o->spool_dir);
    q->region = dupz(o->region ? o->region : "us-east-1");
    q->account_id = dupz(o->account_id ? o->account_id : "000000000000");
    q->memory_limit = dupz(o->memory_limit ? o->memory_limit : "1GB");
    if (!q->o.pool_size)
        q->o.pool_size = 4;
    if (!q->o.threads)
        q->o.threads = 2;
    if (!q->o.timeout_ms)
        q->o.timeout_ms = 300000;
    if (!q->o.athena_workers)
        q->o.athena_workers = 2;
    if (!q->o.max_result_bytes)
        q->o.max_result_bytes = (size_t)256 << 20;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    pthread_mutex_init(&q->wmu, NULL);
    query_scan_cache_init(&q->scans);

    if (duckdb_create_config(&cfg) == DuckDBError)
        goto fail;
    duckdb_set_config(cfg, "autoinstall_known_extensions", "false");
    duckdb_set_config(cfg, "autoload_known_extensions", "false");
    duckdb_database db;
    char *err = NULL;
    if (duckdb_open_ext(NULL, &db, cfg, &err) == DuckDBError) {
        log_error(NULL, "query_open", "err=\"%s\"", err ? err : "?");
        duckdb_free(err);
        goto fail;
    }
    q->db = db;
    if (duckdb_connect(db, &setup) == DuckDBError)
        goto fail;
    /* Order matters: the allow-list is only settable while external access
     * is on, and nothing is settable once the configuration is locked. */
    snprintf(sql, sizeof sql, "SET allowed_directories=['%s/', '%s/']", q->data_dir, q->spool_dir);
    if (strchr(q->data_dir, '\'') || strchr(q->spool_dir, '\'') || !setup_sql(setup, sql))
        goto fail;
    snprintf(sql, sizeof sql, "SET memory_limit='%s'", q->memory_limit);
    if (strchr(q->memory_limit, '\'') || !setup_sql(setup, sql))
        goto fail;
    snprintf(sql, sizeof sql, "SET threads=%u", q->o.threads);
    if (!setup_sql(setup, sql) || !setup_sql(setup, "SET TimeZone='UTC'"))
        goto fail;
    for (size_t i = 0; i < sizeof athena_macros / sizeof athena_macros[0]; i++)
        if (!setup_sql(setup, athena_macros[i]))
            goto fail;
    if (!setup_sql(setup, "SET enable_external_access=false") ||
        !setup_sql(setup, "SET lock_configuration=true"))
        goto fail;
    duckdb_disconnect(&setup);

    q->nslots = q->o.pool_size;
    q->slots = calloc(q->nslots, sizeof *q->slots);
    if (!q->slots)
        goto fail;
    for (size_t i = 0; i < q->nslots; i++) {
        duckdb_connection c;
        if (duckdb_connect(db, &c) == DuckDBError)
            goto fail;
        q->slots[i].conn = (struct _duckdb_connection *)c;
    }

    duckdb_database wdb;
    if (duckdb_open(NULL, &wdb) == DuckDBError)
        goto fail;
    q->wdb = wdb;
    duckdb_connection wc;
    if (duckdb_connect(wdb, &wc) == DuckDBError)
        goto fail;
    q->wconn = (struct _duckdb_connection *)wc;
    setup_sql(wc, "SET autoinstall_known_extensions=false");
    setup_sql(wc, "SET TimeZone='UTC'");

    if (pthread_create(&q->watchdog, NULL, watchdog_main, q) != 0)
        goto fail;
    q->athena = query_athena_new(q);
    if (!q->athena) {
        query_free(q);
        q = NULL;
    }
    duckdb_destroy_config(&cfg);
    return q;
fail:
    if (setup)
        duckdb_disconnect(&setup);
    if (cfg)
        duckdb_destroy_config(&cfg);
    if (q) {
        q->stop = true; /* no watchdog yet */
        for (size_t i = 0; q->slots && i < q->nslots; i++)
            if (q->slots[i].conn)
                duckdb_disconnect((duckdb_connection *)&q->slots[i].conn);
        if (q->wconn)
            duckdb_disconnect((duckdb_connection *)&q->wconn);
        if (q->db)
            duckdb_close((duckdb_database *)&q->db);
        if (q->wdb)
            duckdb_close((duckdb_database *)&q->wdb);
        free(q->slots);
        free(q->data_dir);
        free(q->spool_dir);
        free(q->region);
        free(q->account_id);
        free(q->memory_limit);
        free(q);
    }
    return NULL;
}

void query_free(query_t *q)
{
    if (!q)
        return;
    query_athena_free(q->athena);
    pthread_mutex_lock(&q->mu);
    q->stop = true;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->watchdog, NULL);
    for (size_t i = 0; i < q->nslots; i++)
        duckdb_disconnect((duckdb_connection *)&q->slots[i].conn);
    duckdb_disconnect((duckdb_connection *)&q->wconn);
    duckdb_close((duckdb_database *)&q->db);
    duckdb_close((duckdb_database *)&q->wdb);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->wmu);
    query_scan_cache_free(&q->scans);
    free(q->slots);
    free(q->data_dir);
    free(q->spool_dir);
    free(q->region);
    free(q->account_id);
    free(q->memory_limit);
    free(q);
}

/* Waits for a free connection; the deadline starts now. */
static query_slot_t *slot_get(query_t *q, volatile bool *cancel)
{
    pthread_mutex_lock(&q->mu);
    for (;;) {
        for (size_t i = 0; i < q->nslots; i++) {
            query_slot_t *s = &q->slots[i];
            if (!s->busy) {
                s->busy = true;
                s->why = QUERY_OK;
                s->cancel = cancel;
                s->deadline_ms = query_now_ms() + q->o.timeout_ms;
                pthread_mutex_unlock(&q->mu);
                return s;
            }
        }
        if (q->stop) {
            pthread_mutex_unlock(&q->mu);
            return NULL;
        }
        pthread_cond_wait(&q->cv, &q->mu);
    }
}

static void slot_put(query_t *q, query_slot_t *s)
{
    pthread_mutex_lock(&q->mu);
    s->busy = false;
    s->cancel = NULL;
    s->deadline_ms = 0;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

static query_err_t slot_why(query_t *q, query_slot_t *s)
{
    pthread_mutex_lock(&q->mu);
    query_err_t w = s->why;
    pthread_mutex_unlock(&q->mu);
    return w;
}

/* DuckDB quotes the statement ("LINE 1: ...") under its message: that is
 * the rewritten text, with local file paths in it, so it is cut. */
static void duck_msg(char *out, size_t cap, const char *m)
{
    snprintf(out, cap, "%s", m ? m : "query failed");
    char *l = strstr(out, "\nLINE ");
    if (l) {
        while (l > out && l[-1] == '\n')
            l--;
        *l = '\0';
    }
}

/* DuckDB's message -> our code. Messages start "<Kind> Error: ...". */
static query_err_t duck_err(query_t *q, query_slot_t *s, const char *m, duckdb_error_type t)
{
    if (t == DUCKDB_ERROR_INTERRUPT || (m && strstr(m, "Interrupted")))
        return slot_why(q, s) != QUERY_OK ? slot_why(q, s) : QUERY_ERR_CANCELLED;
    if (t == DUCKDB_ERROR_PARSER || t == DUCKDB_ERROR_SYNTAX || (m && strncmp(m, "Parser Error", 12) == 0))
        return QUERY_ERR_SYNTAX;
    if (t == DUCKDB_ERROR_PERMISSION || (m && strncmp(m, "Permission Error", 16) == 0))
        return QUERY_ERR_FORBIDDEN;
    if (t == DUCKDB_ERROR_OUT_OF_MEMORY)
        return QUERY_ERR_TOO_LARGE;
    return QUERY_ERR_EXEC;
}

static const char *type_name(duckdb_type t)
{
    switch (t) {
    case DUCKDB_TYPE_BOOLEAN: return "BOOLEAN";
    case DUCKDB_TYPE_TINYINT: return "TINYINT";
    case DUCKDB_TYPE_SMALLINT: return "SMALLINT";
    case DUCKDB_TYPE_INTEGER: return "INTEGER";
    case DUCKDB_TYPE_BIGINT: return "BIGINT";
    case DUCKDB_TYPE_UTINYINT: return "UTINYINT";
    case DUCKDB_TYPE_USMALLINT: return "USMALLINT";
    case DUCKDB_TYPE_UINTEGER: return "UINTEGER";
    case DUCKDB_TYPE_UBIGINT: return "UBIGINT";
    case DUCKDB_TYPE_HUGEINT: return "HUGEINT";
    case DUCKDB_TYPE_UHUGEINT: return "UHUGEINT";
    case DUCKDB_TYPE_FLOAT: return "FLOAT";
    case DUCKDB_TYPE_DOUBLE: return "DOUBLE";
    case DUCKDB_TYPE_DECIMAL: return "DECIMAL";
    case DUCKDB_TYPE_DATE: return "DATE";
    case DUCKDB_TYPE_TIME: return "TIME";
    case DUCKDB_TYPE_TIMESTAMP: return "TIMESTAMP";
    case DUCKDB_TYPE_TIMESTAMP_TZ: return "TIMESTAMPTZ";
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS: return "TIMESTAMP";
    case DUCKDB_TYPE_INTERVAL: return "INTERVAL";
    case DUCKDB_TYPE_VARCHAR: return "VARCHAR";
    case DUCKDB_TYPE_BLOB: return "BLOB";
    case DUCKDB_TYPE_UUID: return "UUID";
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY: return "LIST";
    case DUCKDB_TYPE_STRUCT: return "STRUCT";
    case DUCKDB_TYPE_MAP: return "MAP";
    default: return "VARCHAR";
    }
}

/* Prepares a user SELECT and refuses any other statement kind. */
static query_err_t prepare_select(query_t *q, query_slot_t *s, const char *sql,
                                  duckdb_prepared_statement *st, query_result_t *r)
{
    if (duckdb_prepare((duckdb_connection)s->conn, sql, st) == DuckDBError) {
        const char *m = duckdb_prepare_error(*st);
        r->err = duck_err(q, s, m, DUCKDB_ERROR_INVALID);
        duck_msg(r->msg, sizeof r->msg, m);
        duckdb_destroy_prepare(st);
        return r->err;
    }
    if (duckdb_prepared_statement_type(*st) != DUCKDB_STATEMENT_TYPE_SELECT) {
        duckdb_destroy_prepare(st);
        return r->err = query_fail(r->msg, sizeof r->msg, QUERY_ERR_FORBIDDEN,
                                   "only queries may run here");
    }
    if (duckdb_nparams(*st) > 0) {
        duckdb_destroy_prepare(st);
        return r->err = query_fail(r->msg, sizeof r->msg, QUERY_ERR_INVALID,
                                   "parameters ($1, ?) are not supported");
    }
    return QUERY_OK;
}

/* Runs a checked SELECT and feeds the sink every value as text. When kura
 * formats every column type itself (query/text.c) the statement runs as
 * prepared; otherwise it runs again wrapped in a cast of every column to
 * VARCHAR, which DuckDB formats. */
static query_err_t stream_select(query_t *q, query_slot_t *s, arena_t *a, const char *sql,
                                 const query_sink_t *sink, query_result_t *r)
{
    duckdb_prepared_statement st = NULL, wst = NULL;
    duckdb_result res;
    bool have_res = false, native = true;
    size_t nc;
    const char **names = NULL, **types = NULL, **vals = NULL;
    buf_t row;

    buf_init(&row, (size_t)64 << 20);
    if (prepare_select(q, s, sql, &st, r) != QUERY_OK)
        return r->err;
    nc = duckdb_prepared_statement_column_count(st);
    names = arena_alloc(a, (nc + 1) * sizeof *names);
    types = arena_alloc(a, (nc + 1) * sizeof *types);
    vals = arena_alloc(a, (nc + 1) * sizeof *vals);
    query_text_col_t *tx = arena_alloc(a, (nc + 1) * sizeof *tx);
    void **cols = arena_alloc(a, (nc + 1) * sizeof *cols);
    uint64_t **valid = arena_alloc(a, (nc + 1) * sizeof *valid);
    size_t *offs = arena_alloc(a, (nc + 1) * sizeof *offs);
    if (!names || !types || !vals || !tx || !cols || !valid || !offs) {
        r->err = QUERY_ERR_INTERNAL;
        goto fail;
    }
    for (size_t i = 0; i < nc; i++) {
        /* DuckDB hands out a copy the caller frees. */
        const char *cn = duckdb_prepared_statement_column_name(st, i);
        names[i] = arena_strdup(a, cn ? cn : "");
        duck_free_str(cn);
        types[i] = type_name(duckdb_prepared_statement_column_type(st, i));
        duckdb_logical_type lt = duckdb_prepared_statement_column_logical_type(st, i);
        native = native && query_text_col(lt, &tx[i]);
        duckdb_destroy_logical_type(&lt);
    }
    if (native) {
        wst = st;
        st = NULL;
    } else {
        duckdb_destroy_prepare(&st);
        /* The newlines end a trailing -- comment of the user's text. */
        char *wrapped =
            arena_printf(a, "SELECT CAST(COLUMNS(*) AS VARCHAR) FROM (\n%s\n) AS kura_q", sql);
        if (!wrapped || prepare_select(q, s, wrapped, &wst, r) != QUERY_OK)
            goto fail;
        if (duckdb_prepared_statement_column_count(wst) != nc) {
            r->err = query_fail(r->msg, sizeof r->msg, QUERY_ERR_INTERNAL, "column count changed");
            goto fail;
        }
        for (size_t i = 0; i < nc; i++)
            tx[i] = (query_text_col_t){.kind = QUERY_TX_VARCHAR};
    }
    if (sink->header && !sink->header(sink->ctx, nc, names, types)) {
        r->err = QUERY_ERR_CANCELLED;
        goto fail;
    }
    if (duckdb_execute_prepared_streaming(wst, &res) == DuckDBError) {
        have_res = true;
        r->err = duck_err(q, s, duckdb_result_error(&res), duckdb_result_error_type(&res));
        duck_msg(r->msg, sizeof r->msg, duckdb_result_error(&res));
        goto fail;
    }
    have_res = true;
    for (;;) {
        duckdb_data_chunk ch = duckdb_fetch_chunk(res);
        if (!ch)
            break;
        idx_t n = duckdb_data_chunk_get_size(ch);
        for (size_t c = 0; c < nc; c++) {
            duckdb_vector v = duckdb_data_chunk_get_vector(ch, c);
            cols[c] = duckdb_vector_get_data(v);
            valid[c] = duckdb_vector_get_validity(v);
        }
        bool go = true;
        for (idx_t i = 0; i < n && go; i++) {
            buf_reset(&row);
            for (size_t c = 0; c < nc; c++) {
                if (valid[c] && !duckdb_validity_row_is_valid(valid[c], i)) {
                    offs[c] = SIZE_MAX;
                    continue;
                }
                offs[c] = row.len;
                query_text_put(&row, &tx[c], cols[c], i);
                buf_putc(&row, '\0');
            }
            if (!buf_ok(&row)) {
                r->err = query_fail(r->msg, sizeof r->msg, QUERY_ERR_TOO_LARGE, "row too large");
                go = false;
                break;
            }
            for (size_t c = 0; c < nc; c++)
                vals[c] = offs[c] == SIZE_MAX ? NULL : row.data + offs[c];
            r->rows++;
            if (sink->row && !sink->row(sink->ctx, nc, vals)) {
                r->err = query_fail(r->msg, sizeof r->msg, QUERY_ERR_CANCELLED, "stopped by the reader");
                go = false;
            }
        }
        duckdb_destroy_data_chunk(&ch);
        if (!go)
            goto fail;
    }
    /* A fetch loop ends early on error too; the result says which. */
    if (duckdb_result_error(&res)) {
        r->err = duck_err(q, s, duckdb_result_error(&res), duckdb_result_error_type(&res));
        duck_msg(r->msg, sizeof r->msg, duckdb_result_error(&res));
    }
fail:
    if (r->err == QUERY_ERR_CANCELLED && slot_why(q, s) == QUERY_ERR_TIMEOUT)
        r->err = QUERY_ERR_TIMEOUT;
    if (r->err == QUERY_ERR_TIMEOUT)
        snprintf(r->msg, sizeof r->msg, "the query ran longer than %u ms and was stopped",
                 q->o.timeout_ms);
    if (have_res)
        duckdb_destroy_result(&res);
    if (st)
        duckdb_destroy_prepare(&st);
    if (wst)
        duckdb_destroy_prepare(&wst);
    buf_release(&row);
    return r->err;
}

/* ---- writes ------------------------------------------------------------- */

/* Iceberg type JSON of a DuckDB result type; *next_id numbers nested ids
 * (ice_metadata_new reassigns them all anyway). */
static bool ice_type_json(buf_t *b, duckdb_logical_type t, int *next_id)
{
    duckdb_type id = duckdb_get_type_id(t);
    switch (id) {
    case DUCKDB_TYPE_BOOLEAN: buf_puts(b, "\"boolean\""); return true;
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT: buf_puts(b, "\"int\""); return true;
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UINTEGER: buf_puts(b, "\"long\""); return true;
    case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_HUGEINT: buf_puts(b, "\"decimal(38, 0)\""); return true;
    case DUCKDB_TYPE_FLOAT: buf_puts(b, "\"float\""); return true;
    case DUCKDB_TYPE_DOUBLE: buf_puts(b, "\"double\""); return true;
    case DUCKDB_TYPE_DECIMAL:
        buf_printf(b, "\"decimal(%u, %u)\"", duckdb_decimal_width(t), duckdb_decimal_scale(t));
        return true;
    case DUCKDB_TYPE_DATE: buf_puts(b, "\"date\""); return true;
    case DUCKDB_TYPE_TIME: buf_puts(b, "\"time\""); return true;
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS: buf_puts(b, "\"timestamp\""); return true;
    case DUCKDB_TYPE_TIMESTAMP_TZ: buf_puts(b, "\"timestamptz\""); return true;
    case DUCKDB_TYPE_VARCHAR: buf_puts(b, "\"string\""); return true;
    case DUCKDB_TYPE_BLOB: buf_puts(b, "\"binary\""); return true;
    case DUCKDB_TYPE_UUID: buf_puts(b, "\"uuid\""); return true;
    case DUCKDB_TYPE_LIST: {
        duckdb_logical_type ch = duckdb_list_type_child_type(t);
        buf_printf(b, "{\"type\":\"list\",\"element-id\":%d,\"element-required\":false,\"element\":",
                   (*next_id)++);
        bool ok = ice_type_json(b, ch, next_id);
        duckdb_destroy_logical_type(&ch);
        buf_putc(b, '}');
        return ok;
    }
    case DUCKDB_TYPE_MAP: {
        duckdb_logical_type k = duckdb_map_type_key_type(t), v = duckdb_map_type_value_type(t);
        int kid = (*next_id)++, vid = (*next_id)++;
        buf_printf(b, "{\"type\":\"map\",\"key-id\":%d,\"value-id\":%d,\"value-required\":false,\"key\":",
                   kid, vid);
        bool ok = ice_type_json(b, k, next_id);
        buf_puts(b, ",\"value\":");
        ok = ok && ice_type_json(b, v, next_id);
        buf_putc(b, '}');
        duckdb_destroy_logical_type(&k);
        duckdb_destroy_logical_type(&v);
        return ok;
    }
    case DUCKDB_TYPE_STRUCT: {
        idx_t n = duckdb_struct_type_child_count(t);
        bool ok = true;
        buf_puts(b, "{\"type\":\"struct\",\"fields\":[");
        for (idx_t i = 0; i < n && ok; i++) {
            char *nm = duckdb_struct_type_child_name(t, i);
            duckdb_logical_type ch = duckdb_struct_type_child_type(t, i);
            buf_printf(b, "%s{\"id\":%d,\"name\":", i ? "," : "", (*next_id)++);
            buf_putc(b, '"');
            for (const char *p = nm; p && *p; p++) {
                if (*p == '"' || *p == '\\')
                    buf_putc(b, '\\');
                if ((unsigned char)*p >= 0x20)
                    buf_putc(b, *p);
            }
            buf_puts(b, "\",\"required\":false,\"type\":");
            ok = ice_type_json(b, ch, next_id);
            buf_putc(b, '}');
            duckdb_free(nm);
            duckdb_destroy_logical_type(&ch);
        }
        buf_puts(b, "]}");
        return ok;
    }
    default: return false;
    }
}

/* The Iceberg schema of a SELECT's result (CTAS). */
static query_err_t result_schema(query_t *q, query_slot_t *s, arena_t *a, const char *sql,
                                 const char **json, query_result_t *r)
{
    duckdb_prepared_statement st;
    if (prepare_select(q, s, sql, &st, r) != QUERY_OK)
        return r->err;
    idx_t n = duckdb_prepared_statement_column_count(st);
    int next_id = (int)n + 1;
    buf_t b;
    buf_init(&b, (size_t)1 << 20);
    buf_puts(&b, "{\"type\":\"struct\",\"schema-id\":0,\"fields\":[");
    for (idx_t i = 0; i < n; i++) {
        /* Column names are copies the caller frees (duckdb_free). */
        const char *cn = duckdb_prepared_statement_column_name(st, i);
        const char *nm = arena_strdup(a, cn ? cn : "");
        duck_free_str(cn);
        if (!nm) {
            r->err = QUERY_ERR_INTERNAL;
            break;
        }
        duckdb_logical_type t = duckdb_prepared_statement_column_logical_type(st, i);
        for (idx_t k = 0; k < i; k++) {
            const char *other = duckdb_prepared_statement_column_name(st, k);
            if (other && strcmp(nm, other) == 0)
                r->err = query_fail(r->msg, sizeof r->msg, QUERY_ERR_EXEC,
                                    "column name %s appears twice; give each column an alias", nm);
            duck_free_str(other);
        }
        buf_printf(&b, "%s{\"id\":%d,\"name\":\"", i ? "," : "", (int)i + 1);
        for (const char *p = nm; *p; p++) {
            if (*p == '"' || *p == '\\')
                buf_putc(&b, '\\');
            if ((unsigned char)*p >= 0x20)
                buf_putc(&b, *p);
        }
        buf_puts(&b, "\",\"required\":false,\"type\":");
        if (!ice_type_json(&b, t, &next_id) && r->err == QUERY_OK)
            r->err = query_fail(r->msg, sizeof r->msg, QUERY_ERR_UNSUPPORTED,
                                "column %s has a type Iceberg cannot store", nm);
        duckdb_destroy_logical_type(&t);
        buf_putc(&b, '}');
    }
    buf_puts(&b, "]}");
    duckdb_destroy_prepare(&st);
    if (r->err == QUERY_OK && (!buf_ok(&b) || !(*json = arena_strndup(a, b.data, b.len))))
        r->err = QUERY_ERR_TOO_LARGE;
    buf_release(&b);
    return r->err;
}

/* Runs the user's SELECT into a spool Parquet file with columns c1..cN
 * (positions, as INSERT binds them). */
static query_err_t spool_select(query_t *q, query_slot_t *s, arena_t *a, const char *sql,
                                size_t want_cols, const char *path, query_result_t *r)
{
    duckdb_prepared_statement st;
    duckdb_result res;
    if (prepare_select(q, s, sql, &st, r) != QUERY_OK)
        return r->err;
    size_t n = duckdb_prepared_statement_column_count(st);
    duckdb_destroy_prepare(&st);
    if (want_cols && n != want_cols)
        return r->err = query_fail(r->msg, sizeof r->msg, QUERY_ERR_EXEC,
                                   "the query has %zu columns but the table has %zu", n, want_cols);
    buf_t b;
    buf_init(&b, QUERY_REWRITE_MAX_BYTES);
    buf_puts(&b, "COPY (SELECT * FROM (\n");
    buf_puts(&b, sql);
    buf_puts(&b, "\n) AS kura_s(");
    for (size_t i = 0; i < n; i++)
        buf_printf(&b, "%sc%zu", i ? ", " : "", i + 1);
    buf_puts(&b, ")) TO ");
    query_sql_str(&b, path);
    buf_puts(&b, " (FORMAT parquet)");
    if (!buf_ok(&b)) {
        buf_release(&b);
        return r->err = QUERY_ERR_TOO_LARGE;
    }
    if (duckdb_query((duckdb_connection)s->conn, b.data, &res) == DuckDBError) {
        r->err = duck_err(q, s, duckdb_result_error(&res), duckdb_result_error_type(&res));
        duck_msg(r->msg, sizeof r->msg, duckdb_result_error(&res));
    } else {
        r->rows = (uint64_t)duckdb_value_int64(&res, 0, 0);
    }
    duckdb_destroy_result(&res);
    buf_release(&b);
    (void)a;
    return r->err;
}

/* Spool file -> Iceberg Parquet in the table's data/ folder -> append ->
 * new metadata file -> compare-and-swap; retried on a lost race. */
static query_err_t commit_append(query_t *q, query_resolver_t *rs, arena_t *a,
                                 const query_ref_t *tg, query_table_t *t, ice_metadata_t *m,
                                 const char *spool, query_result_t *r)
{
    ice_err_t ie = {{0}};
    char uuid[37];
    ice_data_file_t df;
    ice_uuid_new(uuid);
    const char *base = m->location;
    const ice_schema_t *sc = ice_metadata_schema(m, -1);
    char *local = arena_printf(a, "%s/kura-w-%s.parquet", q->spool_dir, uuid);
    char *location = arena_printf(a, "%s/data/%s.parquet", base, uuid);
    buf_t sel;
    query_err_t e = QUERY_OK;

    buf_init(&sel, (size_t)4 << 20);
    buf_puts(&sel, "SELECT ");
    for (size_t i = 0; i < sc->root->n_fields; i++) {
        buf_printf(&sel, "%sCAST(c%zu AS ", i ? ", " : "", i + 1);
        if (!query_duck_type(&sel, sc->root->fields[i].type))
            e = QUERY_ERR_UNSUPPORTED;
        buf_puts(&sel, ") AS ");
        query_sql_ident(&sel, sc->root->fields[i].name);
    }
    buf_puts(&sel, " FROM read_parquet(");
    query_sql_str(&sel, spool);
    buf_putc(&sel, ')');
    if (e != QUERY_OK || !buf_ok(&sel) || !local || !location) {
        buf_release(&sel);
        return r->err = query_fail(r->msg, sizeof r->msg, e ? e : QUERY_ERR_INTERNAL,
                                   "cannot write this table's column types");
    }
    pthread_mutex_lock(&q->wmu);
    ice_rc_t irc = ice_parquet_write(q->wconn, a, sc, sel.data, local, location, &df, &ie);
    pthread_mutex_unlock(&q->wmu);
    buf_release(&sel);
    if (irc != ICE_OK) {
        unlink(local);
        return r->err = query_fail(r->msg, sizeof r->msg,
                                   irc == ICE_ERR_DUCKDB ? QUERY_ERR_EXEC : QUERY_ERR_INTERNAL,
                                   "writing Parquet: %s", ie.msg);
    }
    const ice_partition_spec_t *spec = ice_metadata_spec(m, -1);
    if (spec && spec->n_fields && ice_partition_from_bounds(a, sc, spec, &df) != ICE_OK) {
        unlink(local);
        return r->err = query_fail(r->msg, sizeof r->msg, QUERY_ERR_UNSUPPORTED,
                                   "rows span several partitions; kura writes one partition per "
                                   "statement");
    }
    int wrc = t->io->write_file(t->io->ctx, location, local);
    if (wrc != ICE_OK) {
        unlink(local);
        return r->err = query_fail(r->msg, sizeof r->msg, QUERY_ERR_INTERNAL,
                                   "storing the data file failed (%s)", ice_rc_name((ice_rc_t)wrc));
    }
    for (int attempt = 0; attempt < WRITE_RETRIES; attempt++) {
        ice_metadata_t *nm;
        ice_kv_t extra[] = {{"engine-name", "kura"}};
        ice_snapshot_opts_t so = {.summary = extra, .n_summary = 1,
                                  .base_location = t->metadata_location, .deflate = true};
        irc = ice_append(t->io, a, m, &df, 1, &so, &nm, &ie);
        if (irc != ICE_OK)
            return r->err = query_fail(r->msg, sizeof r->msg, QUERY_ERR_INTERNAL,
                                       "append: %s", ie.msg);
        char *mloc = ice_metadata_file_location(a, nm, t->metadata_location);
        size_t jl;
        const char *json = ice_metadata_json(nm, &jl);
        if (!mloc || t->io->write(t->io->ctx, mloc, json, jl) != ICE_OK)
            return r->err = query_fail(r->msg, sizeof r->msg, QUERY_ERR_INTERNAL,
                                       "writing the metadata file failed");
        int crc = q->cat.commit(q->cat.ctx, a, tg->bucket, tg->ns, tg->table, t->version_token,
                                mloc);
        if (crc == QUERY_OK)
            return QUERY_OK;
        if (crc != QUERY_ERR_CONFLICT)
            return r->err = query_fail(r->msg, sizeof r->msg, (query_err_t)crc,
                                       "commit refused by the catalog");
        /* Lost the race: rebase on the new current metadata. */
        char msg[256];
        e = query_table_load(rs, a, tg->bucket, tg->ns, tg->table, true, t, &m, msg, sizeof msg);
        if (e != QUERY_OK || !m)
            return r->err = query_fail(r->msg, sizeof r->msg, e ? e : QUERY_ERR_CONFLICT, "%s", msg);
    }
    return r->err = query_fail(r->msg, sizeof r->msg, QUERY_ERR_CONFLICT,
                               "concurrent commits kept winning; try again");
}

static query_err_t run_write(query_t *q, query_slot_t *s, query_resolver_t *rs, arena_t *a,
                             const query_stmt_t *st, query_result_t *r)
{
    const query_ref_t *tg = &st->target;
    query_table_t t;
    ice_metadata_t *m = NULL;
    char msg[512];
    query_err_t e;
    char uuid[37];
    const char *schema = NULL;

    r->is_write = true;
    e = query_table_load(rs, a, tg->bucket, tg->ns, tg->table, true, &t, &m, msg, sizeof msg);
    if (st->kind == QUERY_STMT_CTAS && e == QUERY_OK && m && ice_metadata_snapshot(m, -1)) {
        /* The table has data: CTAS may fill only an empty one. */
        if (st->if_not_exists)
            return QUERY_OK;
        return r->err = query_fail(r->msg, sizeof r->msg, QUERY_ERR_CONFLICT,
                                   "table %s.%s.%s already exists", tg->bucket, tg->ns, tg->table);
    }
    if (st->kind == QUERY_STMT_CTAS && e == QUERY_ERR_NO_TABLE) {
        if (strcmp(tg->bucket, "aws-s3") == 0)
            return r->err = query_fail(r->msg, sizeof r->msg, QUERY_ERR_READ_ONLY,
                                       "table bucket aws-s3 is managed by kura and read-only");
        if (!q->cat.create)
            return r->err = query_fail(
                       r->msg, sizeof r->msg, QUERY_ERR_UNSUPPORTED,
                       "table %s.%s.%s does not exist and kura cannot create tables from SQL yet: "
                       "create it with the S3 Tables CreateTable call, then run this CREATE TABLE "
                       "AS (or INSERT INTO) to fill it",
                       tg->bucket, tg->ns, tg->table);
        if (result_schema(q, s, a, st->sql, &schema, r) != QUERY_OK)
            return r->err;
        int crc = q->cat.create(q->cat.ctx, a, rs->caller, tg->bucket, tg->ns, tg->table, &t);
        if (crc != QUERY_OK)
            return r->err = query_fail(r->msg, sizeof r->msg, (query_err_t)crc,
                                       "cannot create table %s.%s.%s", tg->bucket, tg->ns, tg->table);
        e = QUERY_OK;
    }
    if (e != QUERY_OK)
        return r->err = query_fail(r->msg, sizeof r->msg, e, "%s", msg);
    if (t.managed)
        return r->err = query_fail(r->msg, sizeof r->msg, QUERY_ERR_READ_ONLY,
                                   "table %s.%s.%s is managed by kura and read-only", tg->bucket,
                                   tg->ns, tg->table);
    if (!m) {
        /* A table with no metadata yet (CreateTable without a schema, or
         * just created for CTAS): its schema is the query's result. */
        ice_err_t ie = {{0}};
        if (!schema && result_schema(q, s, a, st->sql, &schema, r) != QUERY_OK)
            return r->err;
        if (ice_metadata_new(a, schema, NULL, NULL, t.warehouse_location, NULL, 0, &m, &ie) != ICE_OK)
            return r->err = query_fail(r->msg, sizeof r->msg, QUERY_ERR_UNSUPPORTED,
                                       "table schema: %s", ie.msg);
    }
    ice_uuid_new(uuid);
    char *spool = arena_printf(a, "%s/kura-s-%s.parquet", q->spool_dir, uuid);
    if (!spool)
        return r->err = QUERY_ERR_INTERNAL;
    size_t ncols = ice_metadata_schema(m, -1)->root->n_fields;
    if (spool_select(q, s, a, st->sql, ncols, spool, r) == QUERY_OK) {
        if (r->rows > 0 || st->kind == QUERY_STMT_CTAS)
            commit_append(q, rs, a, tg, &t, m, spool, r);
    }
    unlink(spool);
    return r->err;
}

/* ---- entry ---------------------------------------------------------------- */

query_err_t query_run(query_t *q, const query_ctx_t *c, const char *sql, size_t len,
                      const query_sink_t *sink, query_result_t *r)
{
    arena_t *a = arena_new(0);
    query_slot_t *s = NULL;
    int64_t t0 = query_now_ms();
    query_stmt_t st;

    memset(r, 0, sizeof *r);
    if (!a)
        return r->err = QUERY_ERR_INTERNAL;
    s = slot_get(q, c->cancel);
    if (!s) {
        arena_free(a);
        return r->err = QUERY_ERR_BUSY;
    }
    query_resolver_t rs = {.cat = &q->cat, .caller = c->caller, .conn = s->conn, .cache = &q->scans};
    query_rewrite_ctx_t rc = {.catalog = query_catalog_bucket(c->catalog), .database = c->database};
    query_resolver_bind(&rc, &rs);
    r->err = query_rewrite(a, sql, len, &rc, &st, r->msg, sizeof r->msg);
    if (r->err == QUERY_OK) {
        if (st.kind == QUERY_STMT_SELECT)
            stream_select(q, s, a, st.sql, sink, r);
        else
            run_write(q, s, &rs, a, &st, r);
    }
    if (r->err == QUERY_OK && r->is_write && sink) {
        static const char *const nm[] = {"rows"}, *const ty[] = {"BIGINT"};
        char n[32];
        snprintf(n, sizeof n, "%" PRIu64, r->rows);
        const char *v[] = {n};
        if (sink->header)
            sink->header(sink->ctx, 1, nm, ty);
        if (sink->row)
            sink->row(sink->ctx, 1, v);
    }
    r->bytes_scanned = rs.bytes_scanned;
    slot_put(q, s);
    arena_free(a);
    r->exec_ms = query_now_ms() - t0;
    return r->err;
}

query_err_t query_check_syntax(query_t *q, const char *sql, size_t len, char *msg, size_t cap)
{
    arena_t *a = arena_new(0);
    char *text = NULL;
    if (!a)
        return QUERY_ERR_INTERNAL;
    /* DuckDB's parser alone (no binding): table names need not exist. */
    query_err_t e = query_syntax_text(a, sql, len, &text, msg, cap);
    if (e == QUERY_OK) {
        duckdb_extracted_statements ex = NULL;
        query_slot_t *s = slot_get(q, NULL);
        if (!s) {
            e = QUERY_ERR_INTERNAL;
        } else {
            idx_t cnt = duckdb_extract_statements((duckdb_connection)s->conn, text, &ex);
            if (cnt == 0) {
                const char *m = duckdb_extract_statements_error(ex);
                e = QUERY_ERR_SYNTAX;
                duck_msg(msg, cap, m ? m : "empty statement");
            }
            duckdb_destroy_extracted(&ex);
            slot_put(q, s);
        }
    }
    arena_free(a);
    return e;
}
