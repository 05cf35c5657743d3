/* journal/publisher.c: queued journal rows -> Iceberg journal table (see
 * journal.h for the protocol and its exactly-once argument), and the pass
 * that drives the inventory (inventory.c) and upkeep (upkeep.c) after it.
 *
 * Journal table states reported (metadata-status/<bucket>, "journal"):
 *   CREATING  configuration stored, table not yet made (until the first pass)
 *   ACTIVE    table exists; rows flow                       (ensure_table)
 *   FAILED    with ErrorCode (TableBucketNotFound for a V1 destination that
 *             does not exist, JournalTableAlreadyExists for a table left by
 *             an earlier configuration, ServerInternalError) */
#include "journal/journal.h"

#include "journal/journal_int.h"
#include "util/clock.h"
#include "util/codec.h"
#include "util/log.h"
#include "util/parse.h"
#include "util/timefmt.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <duckdb.h>
#pragma GCC diagnostic pop
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define JOURNAL_BATCH_ROWS 10000 /* rows per snapshot at most */
#define JOURNAL_V1_NAMESPACE "aws_s3_metadata"
#define JOURNAL_PASS_BATCHES 16 /* journal batches per bucket per pass */

/* AWS's 21 journal columns, in the documented order (NOTES-ON-ISSUES 14). */
static const char journal_schema[] =
    "{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
    "{\"id\":1,\"name\":\"bucket\",\"required\":true,\"type\":\"string\"},"
    "{\"id\":2,\"name\":\"key\",\"required\":true,\"type\":\"string\"},"
    "{\"id\":3,\"name\":\"sequence_number\",\"required\":true,\"type\":\"string\"},"
    "{\"id\":4,\"name\":\"record_type\",\"required\":true,\"type\":\"string\"},"
    "{\"id\":5,\"name\":\"record_timestamp\",\"required\":true,\"type\":\"timestamp\"},"
    "{\"id\":6,\"name\":\"version_id\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":7,\"name\":\"is_delete_marker\",\"required\":false,\"type\":\"boolean\"},"
    "{\"id\":8,\"name\":\"size\",\"required\":false,\"type\":\"long\"},"
    "{\"id\":9,\"name\":\"last_modified_date\",\"required\":false,\"type\":\"timestamp\"},"
    "{\"id\":10,\"name\":\"e_tag\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":11,\"name\":\"storage_class\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":12,\"name\":\"is_multipart\",\"required\":false,\"type\":\"boolean\"},"
    "{\"id\":13,\"name\":\"encryption_status\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":14,\"name\":\"is_bucket_key_enabled\",\"required\":false,\"type\":\"boolean\"},"
    "{\"id\":15,\"name\":\"kms_key_arn\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":16,\"name\":\"checksum_algorithm\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":17,\"name\":\"object_tags\",\"required\":false,\"type\":{\"type\":\"map\","
    "\"key-id\":22,\"key\":\"string\",\"value-id\":23,\"value\":\"string\","
    "\"value-required\":false}},"
    "{\"id\":18,\"name\":\"user_metadata\",\"required\":false,\"type\":{\"type\":\"map\","
    "\"key-id\":24,\"key\":\"string\",\"value-id\":25,\"value\":\"string\","
    "\"value-required\":false}},"
    "{\"id\":19,\"name\":\"requester\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":20,\"name\":\"source_ip_address\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":21,\"name\":\"request_id\",\"required\":false,\"type\":\"string\"}]}";

/* The same columns as read_json declares them for a batch. */
static const char journal_columns[] =
    "{bucket: 'VARCHAR', key: 'VARCHAR', sequence_number: 'VARCHAR', record_type: 'VARCHAR', "
    "record_timestamp: 'TIMESTAMP', version_id: 'VARCHAR', is_delete_marker: 'BOOLEAN', "
    "size: 'BIGINT', last_modified_date: 'TIMESTAMP', e_tag: 'VARCHAR', storage_class: "
    "'VARCHAR', is_multipart: 'BOOLEAN', encryption_status: 'VARCHAR', is_bucket_key_enabled: "
    "'BOOLEAN', kms_key_arn: 'VARCHAR', checksum_algorithm: 'VARCHAR', object_tags: "
    "'MAP(VARCHAR, VARCHAR)', user_metadata: 'MAP(VARCHAR, VARCHAR)', requester: 'VARCHAR', "
    "source_ip_address: 'VARCHAR', request_id: 'VARCHAR'}";

/* ---- SQL literals ------------------------------------------------------ */

void journal_sql_str(buf_t *b, const char *s)
{
    if (!s) {
        buf_puts(b, "CAST(NULL AS VARCHAR)");
        return;
    }
    buf_putc(b, '\'');
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            buf_putc(b, '\'');
        buf_putc(b, *p);
    }
    buf_puts(b, "'::VARCHAR");
}

/* ---- NDJSON rows ---------------------------------------------------------
 * Batches reach DuckDB as newline-delimited JSON read with declared column
 * types. The same rows as SQL literals cost ~270 us each to parse and bind
 * (every value is an expression), which at a few thousand PUT/s took a
 * whole core from the request path; the JSON reader takes ~6 us a row. */

static void json_text(buf_t *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    /* Header bytes need not be UTF-8; such a value is read as Latin-1 so
     * the batch still loads. */
    bool latin1 = !parse_utf8_valid(s, len);
    buf_putc(b, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            buf_putc(b, '\\');
            buf_putc(b, (char)c);
        } else if (c < 0x20 || (latin1 && c >= 0x80)) {
            buf_puts(b, "\\u00");
            buf_putc(b, hex[c >> 4]);
            buf_putc(b, hex[c & 15]);
        } else {
            buf_putc(b, (char)c);
        }
    }
    buf_putc(b, '"');
}

static void json_col(buf_t *b, const char *col)
{
    if (b->len && b->data[b->len - 1] != '{')
        buf_putc(b, ',');
    buf_putc(b, '"');
    buf_puts(b, col);
    buf_puts(b, "\":");
}

void journal_row_begin(buf_t *b) { buf_putc(b, '{'); }

void journal_row_end(buf_t *b) { buf_puts(b, "}\n"); }

void journal_col_strn(buf_t *b, const char *col, const char *s, size_t len)
{
    json_col(b, col);
    if (s)
        json_text(b, s, len);
    else
        buf_puts(b, "null");
}

void journal_col_str(buf_t *b, const char *col, const char *s)
{
    journal_col_strn(b, col, s, s ? strlen(s) : 0);
}

void journal_col_i64(buf_t *b, const char *col, int64_t v, bool present)
{
    json_col(b, col);
    if (present)
        buf_printf(b, "%lld", (long long)v);
    else
        buf_puts(b, "null");
}

void journal_col_ts(buf_t *b, const char *col, int64_t ms, bool present)
{
    json_col(b, col);
    if (!present) {
        buf_puts(b, "null");
        return;
    }
    int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    time_t t = (time_t)s;
    struct tm tm;
    gmtime_r(&t, &tm);
    buf_printf(b, "\"%04d-%02d-%02d %02d:%02d:%02d.%03d\"", tm.tm_year + 1900, tm.tm_mon + 1,
               tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms - s * 1000));
}

void journal_col_bool(buf_t *b, const char *col, int v)
{
    json_col(b, col);
    buf_puts(b, v < 0 ? "null" : v ? "true" : "false");
}

void journal_col_map(buf_t *b, const char *col, const store_kv_t *kv, size_t n, bool present)
{
    json_col(b, col);
    if (!present) {
        buf_puts(b, "null");
        return;
    }
    buf_putc(b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(b, ',');
        json_text(b, kv[i].name, strlen(kv[i].name));
        buf_putc(b, ':');
        json_text(b, kv[i].value, strlen(kv[i].value));
    }
    buf_putc(b, '}');
}

char *journal_rows_stage(journal_t *j, arena_t *a, const buf_t *rows, const char *columns,
                         char **file)
{
    char *unused;
    *file = NULL;
    journal_tmp_paths(j, a, NULL, "rows", file, &unused);
    char *path = *file ? arena_printf(a, "%s.json", *file) : NULL;
    *file = path;
    if (!path || !buf_ok(rows))
        return NULL;
    FILE *f = fopen(path, "wbx");
    bool ok = f && fwrite(rows->data, 1, rows->len, f) == rows->len;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok) {
        log_warn(NULL, "journal.rows", "path=%s", path);
        unlink(path);
        *file = NULL;
        return NULL;
    }
    buf_t q;
    buf_init(&q, 1 << 16);
    buf_puts(&q, "read_json(");
    journal_sql_str(&q, path);
    buf_printf(&q, ", format='newline_delimited', columns=%s)", columns);
    char *out = buf_ok(&q) ? arena_strdup(a, buf_cstr(&q)) : NULL;
    buf_release(&q);
    return out;
}

void journal_seq_hex(uint64_t seq, char out[JOURNAL_SEQ_HEX + 1])
{
    snprintf(out, JOURNAL_SEQ_HEX + 1, "%016llx", (unsigned long long)seq);
}

bool journal_sql_exec(journal_t *j, const char *sql)
{
    duckdb_result res;
    bool ok = duckdb_query((duckdb_connection)j->conn, sql, &res) == DuckDBSuccess;
    if (!ok)
        log_warn(NULL, "journal.sql", "msg=\"%s\"", duckdb_result_error(&res));
    duckdb_destroy_result(&res);
    return ok;
}

bool journal_sql_i64(journal_t *j, const char *sql, int64_t *out)
{
    duckdb_result res;
    bool ok = duckdb_query((duckdb_connection)j->conn, sql, &res) == DuckDBSuccess &&
              duckdb_row_count(&res) == 1 && duckdb_column_count(&res) >= 1 &&
              !duckdb_value_is_null(&res, 0, 0);
    if (ok)
        *out = duckdb_value_int64(&res, 0, 0);
    duckdb_destroy_result(&res);
    return ok;
}

static const char *record_type_name(store_jrec_type_t t)
{
    return t == STORE_JREC_CREATE   ? "CREATE"
           : t == STORE_JREC_DELETE ? "DELETE"
                                    : "UPDATE_METADATA";
}

/* One row as an NDJSON object (s3-metadata.md §3 and NOTES-ON-ISSUES 15). */
static void row_json(buf_t *b, const char *bucket, const store_jrow_t *r)
{
    const store_object_t *o = &r->obj;
    char seq[JOURNAL_SEQ_HEX + 1];
    journal_seq_hex(r->seq, seq);
    /* Permanent deletes carry only the required columns and the version. */
    bool full = !r->permanent;
    bool marker = r->delete_marker;
    bool with_maps = full && r->type != STORE_JREC_DELETE;
    bool obj = full && !marker;
    journal_row_begin(b);
    journal_col_str(b, "bucket", bucket);
    journal_col_strn(b, "key", o->key, o->key_len);
    journal_col_str(b, "sequence_number", seq);
    journal_col_str(b, "record_type", record_type_name(r->type));
    journal_col_ts(b, "record_timestamp", r->ts_ms, true);
    journal_col_str(b, "version_id", o->version_id);
    journal_col_bool(b, "is_delete_marker", r->permanent ? -1 : marker);
    journal_col_i64(b, "size", marker ? 0 : (int64_t)o->size, full);
    journal_col_ts(b, "last_modified_date", o->mtime_ms, full);
    journal_col_str(b, "e_tag", obj ? o->etag : NULL);
    journal_col_str(b, "storage_class",
                    obj ? (o->storage_class ? o->storage_class : "STANDARD") : NULL);
    journal_col_bool(b, "is_multipart", obj ? o->parts_count > 0 : -1);
    /* encryption_status, is_bucket_key_enabled, kms_key_arn: kura stores
     * plain bytes, so they stay null. */
    journal_col_str(b, "checksum_algorithm", obj ? o->checksum_algo : NULL);
    journal_col_map(b, "object_tags", o->tags, o->ntags, with_maps);
    journal_col_map(b, "user_metadata", o->meta, o->nmeta, with_maps);
    /* Permanent deletes: required columns and version_id only (NOTES 15). */
    journal_col_str(b, "requester", full ? r->requester : NULL);
    journal_col_str(b, "source_ip_address", full ? r->source_ip : NULL);
    journal_col_str(b, "request_id", full ? r->request_id : NULL);
    journal_row_end(b);
}

/* ---- status ------------------------------------------------------------ */

json_t *journal_status_load(journal_t *j, const char *bucket)
{
    arena_t *a = arena_new(1 << 20);
    char *doc = NULL;
    size_t len = 0;
    json_t *s = NULL;
    if (a && store_sys_get(j->st, a, "metadata-status", bucket, &doc, &len) == STORE_OK)
        s = json_loadb(doc, len, 0, NULL);
    arena_free(a);
    if (!json_is_object(s)) {
        json_decref(s);
        s = json_object();
    }
    return s;
}

void journal_status_set(journal_t *j, const char *bucket, const char *table, json_t *obj)
{
    json_t *s = journal_status_load(j, bucket);
    json_object_set_new(s, table, obj);
    char *doc = json_dumps(s, JSON_COMPACT);
    json_decref(s);
    if (doc)
        store_sys_put(j->st, "metadata-status", bucket, doc, strlen(doc));
    free(doc);
}

void journal_status_put(journal_t *j, const char *bucket, const char *table, const char *status,
                        const char *arn, const char *code, const char *message)
{
    json_t *o = json_pack("{s:s,s:s?,s:s?,s:s?}", "status", status, "arn", arn, "error_code", code,
                          "error_message", message);
    if (o)
        journal_status_set(j, bucket, table, o);
}

const char *journal_status_str(json_t *status, const char *table, const char *field)
{
    return json_string_value(json_object_get(json_object_get(status, table), field));
}

static bool status_is(journal_t *j, const char *bucket, const char *want)
{
    json_t *s = journal_status_load(j, bucket);
    const char *st = journal_status_str(s, "journal", "status");
    bool is = st && strcmp(st, want) == 0;
    json_decref(s);
    return is;
}

/* ---- tables ------------------------------------------------------------- */

bool journal_table_load(journal_t *j, arena_t *a, const tables_table_info_t *info, ice_io_t **io,
                        ice_metadata_t **base)
{
    char *json = NULL;
    size_t len = 0;
    ice_err_t err = {{0}};
    *io = tables_io(j->tables, a);
    if (!*io || !info->metadata_location ||
        (*io)->read((*io)->ctx, info->metadata_location, ICE_METADATA_MAX_BYTES, a, &json, &len) !=
            0 ||
        ice_metadata_parse(a, json, len, base, &err) != ICE_OK) {
        log_warn(NULL, "journal.read", "table=%s msg=\"%s\"", info->name ? info->name : "-",
                 err.msg);
        return false;
    }
    return true;
}

tables_err_t journal_table_init(journal_t *j, arena_t *a, const char *table_bucket, const char *ns,
                                const char *table, const char *schema_json,
                                tables_table_info_t *info)
{
    ice_metadata_t *m = NULL;
    ice_err_t err = {{0}};
    if (ice_metadata_new(a, schema_json, NULL, NULL, info->warehouse_location, NULL, clock_now_ms(),
                         &m, &err) != ICE_OK)
        return TABLES_ERR_INTERNAL;
    char *loc = ice_metadata_file_location(a, m, NULL);
    size_t len = 0;
    const char *json = ice_metadata_json(m, &len);
    ice_io_t *io = tables_io(j->tables, a);
    if (!loc || !io || io->write(io->ctx, loc, json, len) != 0)
        return TABLES_ERR_INTERNAL;
    return tables_table_swap(j->tables, a, table_bucket, ns, table, info->version_token, loc, info);
}

tables_err_t journal_table_commit(journal_t *j, arena_t *a, const char *table_bucket,
                                  const char *ns, const char *table,
                                  const tables_table_info_t *info, ice_io_t *io,
                                  ice_metadata_t *next)
{
    ice_metadata_t *kept = next;
    size_t len = 0;
    if (journal_snapshots_expire(a, next, clock_now_ms(), &kept) != ICE_OK)
        kept = next; /* keeping a snapshot too many is harmless */
    char *loc = ice_metadata_file_location(a, kept, info->metadata_location);
    const char *mj = ice_metadata_json(kept, &len);
    if (!loc || io->write(io->ctx, loc, mj, len) != 0)
        return TABLES_ERR_INTERNAL;
    tables_table_info_t after;
    tables_err_t te =
        tables_table_swap(j->tables, a, table_bucket, ns, table, info->version_token, loc, &after);
    if (te != TABLES_OK)
        log_warn(NULL, "journal.swap", "table=%s/%s err=%s", ns, table, tables_err_name(te));
    return te;
}

void journal_tmp_paths(journal_t *j, arena_t *a, const char *warehouse, const char *stem,
                       char **local, char **location)
{
    char id[33];
    codec_random_hex(16, id);
    *local = arena_printf(a, "%s/tmp/%s-%s.parquet", j->cfg->data_dir, stem, id);
    *location = warehouse ? arena_printf(a, "%s/data/%s.parquet", warehouse, id) : NULL;
}

static bool write_local(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wbx");
    if (!f)
        return false;
    bool ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

bool journal_files_fetch(journal_t *j, arena_t *a, ice_io_t *io, const ice_metadata_t *m,
                         int64_t below, buf_t *list, const char ***paths, const char ***locals,
                         size_t *n)
{
    ice_scan_t scan;
    ice_err_t err = {{0}};
    *n = 0;
    buf_putc(list, '[');
    if (ice_scan_files(io, a, m, -1, &scan, &err) != ICE_OK) {
        log_warn(NULL, "journal.scan", "msg=\"%s\"", err.msg);
        return false;
    }
    *paths = arena_alloc(a, (scan.n_data + 1) * sizeof **paths);
    *locals = arena_alloc(a, (scan.n_data + 1) * sizeof **locals);
    if (!*paths || !*locals)
        return false;
    for (size_t i = 0; i < scan.n_data; i++) {
        if (below > 0 && scan.data[i].file_size_in_bytes >= below)
            continue;
        arena_t *f = arena_new(JOURNAL_FILE_MAX_BYTES + ((size_t)1 << 20));
        char *data = NULL, *local, *unused;
        size_t len = 0;
        journal_tmp_paths(j, a, NULL, "read", &local, &unused);
        bool ok =
            f && local &&
            io->read(io->ctx, scan.data[i].path, JOURNAL_FILE_MAX_BYTES, f, &data, &len) == 0 &&
            write_local(local, data, len);
        arena_free(f);
        if (!ok) {
            log_warn(NULL, "journal.fetch", "location=%s", scan.data[i].path);
            if (local)
                unlink(local);
            journal_files_drop(*locals, *n);
            *n = 0;
            return false;
        }
        if (*n)
            buf_putc(list, ',');
        (*paths)[*n] = scan.data[i].path;
        (*locals)[(*n)++] = local;
        journal_sql_str(list, local);
    }
    buf_putc(list, ']');
    return buf_ok(list);
}

void journal_files_drop(const char **locals, size_t n)
{
    for (size_t i = 0; i < n; i++)
        unlink(locals[i]);
}

/* ---- one bucket --------------------------------------------------------- */

typedef struct {
    const char *table_bucket; /* name */
    const char *ns, *table;
    bool managed; /* V2: kura creates the table bucket too */
} dest_t;

static bool dest_of(arena_t *a, const char *bucket, json_t *conf, dest_t *d)
{
    int version = (int)json_integer_value(json_object_get(conf, "version"));
    if (version == 1) {
        const char *arn = json_string_value(json_object_get(conf, "table_bucket_arn"));
        const char *slash = arn ? strstr(arn, ":bucket/") : NULL;
        if (!slash)
            return false;
        d->table_bucket = arena_strdup(a, slash + 8);
        d->ns = JOURNAL_V1_NAMESPACE;
        d->table = arena_strdup(a, json_string_value(json_object_get(conf, "table_name")));
        d->managed = false;
        return d->table != NULL;
    }
    d->table_bucket = JOURNAL_MANAGED_BUCKET;
    char *ns = arena_printf(a, "b_%s", bucket);
    for (char *p = ns; p && *p; p++)
        if (*p == '.')
            *p = '_';
    d->ns = ns;
    d->table = "journal";
    d->managed = true;
    return ns != NULL;
}

/* Makes the table (and its first metadata) when missing. */
static tables_err_t ensure_table(journal_t *j, arena_t *a, const char *bucket, const dest_t *d,
                                 tables_table_info_t *info)
{
    tables_table_info_t probe;
    if (!d->managed && tables_table_info(j->tables, a, d->table_bucket, d->ns, d->table, &probe) ==
                           TABLES_ERR_NO_BUCKET) {
        journal_status_put(j, bucket, "journal", "FAILED", NULL, "TableBucketNotFound",
                           "The table bucket of this metadata configuration does not exist.");
        return TABLES_ERR_NO_BUCKET;
    }
    bool fresh = !status_is(j, bucket, "ACTIVE");
    tables_err_t te =
        tables_managed_table_ensure(j->tables, a, d->table_bucket, d->ns, d->table, info);
    if (te != TABLES_OK)
        return te;
    if (info->metadata_location) {
        /* A table this configuration did not make: AWS refuses to reuse it. */
        if (fresh && !status_is(j, bucket, "CREATING")) {
            journal_status_put(j, bucket, "journal", "FAILED", info->table_arn,
                               "JournalTableAlreadyExists",
                               "A journal table from an earlier configuration exists; delete "
                               "it first.");
            return TABLES_ERR_TABLE_EXISTS;
        }
        return TABLES_OK;
    }
    /* CREATING marks the table as ours, so a crash right after the swap
     * does not make it look like a leftover on the next pass. */
    journal_status_put(j, bucket, "journal", "CREATING", info->table_arn, NULL, NULL);
    return journal_table_init(j, a, d->table_bucket, d->ns, d->table, journal_schema, info);
}

/* The summary value `key` of the current snapshot as a number; `dflt` when
 * absent or malformed. */
static int64_t summary_i64(const ice_metadata_t *m, const char *key, int64_t dflt)
{
    const ice_snapshot_t *cur = ice_metadata_snapshot(m, -1);
    const char *v = cur ? ice_snapshot_summary(cur, key) : NULL;
    char *end = NULL;
    if (!v || !*v)
        return dflt;
    long long x = strtoll(v, &end, 10);
    return end && *end == '\0' ? (int64_t)x : dflt;
}

/* Publishes up to one batch of a bucket's queued rows. Returns rows
 * published; *upto is the last sequence the table holds (0: none, or the
 * table could not be read). */
static size_t publish_bucket(journal_t *j, const char *bucket, json_t *conf, uint64_t *upto)
{
    arena_t *a = arena_new(0);
    if (!a)
        return 0;
    size_t done = 0;
    dest_t d;
    tables_table_info_t info;
    *upto = 0;
    if (!dest_of(a, bucket, conf, &d))
        goto out;
    bool was_active = status_is(j, bucket, "ACTIVE");
    if (!was_active && status_is(j, bucket, "FAILED"))
        goto out; /* terminal until the configuration is re-created (AWS) */
    tables_err_t te = ensure_table(j, a, bucket, &d, &info);
    if (te != TABLES_OK) {
        if (te != TABLES_ERR_NO_BUCKET && te != TABLES_ERR_TABLE_EXISTS)
            log_warn(NULL, "journal.table", "bucket=%s err=%s", bucket, tables_err_name(te));
        goto out;
    }
    if (!was_active)
        journal_status_put(j, bucket, "journal", "ACTIVE", info.table_arn, NULL, NULL);

    ice_io_t *io = NULL;
    ice_metadata_t *base = NULL;
    ice_err_t err = {{0}};
    if (!journal_table_load(j, a, &info, &io, &base))
        goto out;
    /* Rows up to the last published sequence are in the table already. */
    uint64_t last = (uint64_t)summary_i64(base, JOURNAL_LAST_SEQ, 0);
    *upto = last;
    store_jrow_t *rows = NULL;
    size_t n = 0;
    if (store_journal_read(j->st, a, bucket, last, JOURNAL_BATCH_ROWS, &rows, &n) != STORE_OK ||
        n == 0)
        goto out;

    buf_t batch;
    buf_init(&batch, (size_t)1 << 30);
    /* INT64_MAX: the table holds no rows; INT64_MIN: rows of unknown age
     * (a table from before kura kept the key; upkeep finds out). */
    int64_t min_ts =
        ice_metadata_snapshot(base, -1) ? summary_i64(base, JOURNAL_MIN_TS, INT64_MIN) : INT64_MAX;
    for (size_t i = 0; i < n; i++) {
        row_json(&batch, bucket, &rows[i]);
        if (min_ts != INT64_MIN && rows[i].ts_ms < min_ts)
            min_ts = rows[i].ts_ms;
    }
    char *file = NULL;
    char *from = journal_rows_stage(j, a, &batch, journal_columns, &file);
    buf_release(&batch);
    char *local, *location;
    journal_tmp_paths(j, a, info.warehouse_location, "journal", &local, &location);
    ice_data_file_t df;
    const ice_schema_t *schema = ice_metadata_schema(base, -1);
    char *select = from ? arena_printf(a, "SELECT * FROM %s", from) : NULL;
    ice_rc_t irc = select && location && local
                       ? ice_parquet_write((duckdb_connection)j->conn, a, schema, select, local,
                                           location, &df, &err)
                       : ICE_ERR_NOMEM;
    if (file)
        unlink(file);
    if (irc != ICE_OK || io->write_file(io->ctx, location, local) != 0) {
        log_warn(NULL, "journal.parquet", "bucket=%s rc=%s msg=\"%s\"", bucket, ice_rc_name(irc),
                 err.msg);
        if (local)
            unlink(local);
        goto out;
    }
    char seqs[24], mins[24], exps[24];
    snprintf(seqs, sizeof seqs, "%llu", (unsigned long long)rows[n - 1].seq);
    snprintf(mins, sizeof mins, "%lld", (long long)min_ts);
    snprintf(exps, sizeof exps, "%lld", (long long)summary_i64(base, JOURNAL_EXPIRED_MS, 0));
    ice_kv_t summary[] = {{JOURNAL_LAST_SEQ, seqs},
                          {"engine-name", "kura"},
                          {JOURNAL_EXPIRED_MS, exps},
                          {JOURNAL_MIN_TS, mins}};
    ice_snapshot_opts_t so = {.summary = summary,
                              .n_summary = sizeof summary / sizeof summary[0] -
                                           (min_ts == INT64_MIN ? 1 : 0),
                              .base_location = info.metadata_location};
    ice_metadata_t *next = NULL;
    if ((irc = ice_append(io, a, base, &df, 1, &so, &next, &err)) != ICE_OK) {
        log_warn(NULL, "journal.append", "bucket=%s rc=%s msg=\"%s\"", bucket, ice_rc_name(irc),
                 err.msg);
        goto out;
    }
    /* A lost swap (a user's DeleteTable, say) leaves the rows queued; the
     * next pass starts from the new state. */
    if (journal_table_commit(j, a, d.table_bucket, d.ns, d.table, &info, io, next) != TABLES_OK)
        goto out;
    *upto = rows[n - 1].seq;
    done = n;
out:
    arena_free(a);
    return done;
}

/* ---- passes ------------------------------------------------------------ */

typedef struct {
    journal_t *j;
    size_t rows;
} pass_t;

/* Upkeep runs on the journal table as it stands after the pass's appends:
 * record expiration, then -- when this pass added files -- small-file
 * compaction (only publishing adds files, so an idle bucket costs nothing). */
static void upkeep_bucket(journal_t *j, const char *bucket, json_t *conf, bool published)
{
    arena_t *a = arena_new(0);
    dest_t d;
    tables_table_info_t info;
    if (!a || !dest_of(a, bucket, conf, &d))
        goto out;
    if (json_integer_value(json_object_get(conf, "expiration_days")) > 0 &&
        tables_table_info(j->tables, a, d.table_bucket, d.ns, d.table, &info) == TABLES_OK &&
        info.metadata_location)
        journal_records_expire(j, bucket, conf, &info, d.table_bucket, d.ns, d.table);
    /* Fresh info: expiration may have committed. */
    if (published &&
        tables_table_info(j->tables, a, d.table_bucket, d.ns, d.table, &info) == TABLES_OK &&
        info.metadata_location)
        journal_compact(j, bucket, &info, d.table_bucket, d.ns, d.table);
out:
    arena_free(a);
}

/* One bucket: journal batches, then the inventory, then upkeep; the queue
 * is trimmed to what every table that reads it holds (DESIGN inv. 3: a
 * crash before the trim republishes nothing, because each table knows its
 * own last sequence). */
static bool bucket_cb(void *arg, const store_bucket_t *b)
{
    pass_t *p = arg;
    arena_t *a = arena_new(1 << 20);
    char *doc = NULL;
    size_t len = 0;
    if (a && store_bucket_conf_get(p->j->st, a, b->name, "metadata", &doc, &len) == STORE_OK) {
        json_t *conf = json_loadb(doc, len, 0, NULL);
        if (conf) {
            size_t n, before = p->rows;
            uint64_t jupto = 0, iupto = 0;
            /* Drain the queue in batches, bounded per pass. */
            for (int i = 0;
                 i < JOURNAL_PASS_BATCHES && (n = publish_bucket(p->j, b->name, conf, &jupto)) > 0;
                 i++)
                p->rows += n;
            if (status_is(p->j, b->name, "ACTIVE") &&
                journal_inventory_pass(p->j, b->name, conf, &iupto) && iupto < jupto)
                jupto = iupto;
            if (jupto)
                store_journal_trim(p->j->st, b->name, jupto);
            upkeep_bucket(p->j, b->name, conf, p->rows > before);
        }
        json_decref(conf);
    }
    arena_free(a);
    return true;
}

size_t journal_publish_now(journal_t *j)
{
    if (!j)
        return 0;
    pthread_mutex_lock(&j->pass_mu);
    arena_t *a = arena_new(0);
    pass_t p = {.j = j};
    if (a)
        store_bucket_list(j->st, a, NULL, bucket_cb, &p);
    arena_free(a);
    pthread_mutex_unlock(&j->pass_mu);
    return p.rows;
}

static void *publisher_main(void *arg)
{
    journal_t *j = arg;
    pthread_mutex_lock(&j->mu);
    while (!j->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t due = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + j->interval_ms;
        ts.tv_sec = due / 1000;
        ts.tv_nsec = (long)(due % 1000) * 1000000;
        pthread_cond_timedwait(&j->cv, &j->mu, &ts);
        if (j->stop)
            break;
        pthread_mutex_unlock(&j->mu);
        journal_publish_now(j);
        pthread_mutex_lock(&j->mu);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

journal_t *journal_start(const kura_config_t *cfg, store_t *st, tables_t *tables,
                         int64_t interval_ms)
{
    journal_t *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->cfg = cfg;
    j->st = st;
    j->tables = tables;
    j->interval_ms = interval_ms;
    pthread_mutex_init(&j->pass_mu, NULL);
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    /* kura's writer instance (NOTES-ON-ISSUES 21): in memory, reads and
     * writes local files; one thread is plenty for journal batches. */
    duckdb_result res;
    if (duckdb_open(NULL, &j->db_handle) != DuckDBSuccess ||
        duckdb_connect(j->db_handle, &j->conn) != DuckDBSuccess) {
        log_error(NULL, "journal.duckdb", "msg=\"cannot open DuckDB\"");
        journal_stop(j);
        return NULL;
    }
    if (duckdb_query(j->conn, "SET threads=1", &res) == DuckDBSuccess)
        duckdb_destroy_result(&res);
    if (pthread_create(&j->th, NULL, publisher_main, j) != 0) {
        journal_stop(j);
        return NULL;
    }
    j->started = true;
    return j;
}

void journal_stop(journal_t *j)
{
    if (!j)
        return;
    if (j->started) {
        pthread_mutex_lock(&j->mu);
        j->stop = true;
        pthread_cond_signal(&j->cv);
        pthread_mutex_unlock(&j->mu);
        pthread_join(j->th, NULL);
    }
    if (j->conn)
        duckdb_disconnect(&j->conn);
    if (j->db_handle)
        duckdb_close(&j->db_handle);
    pthread_mutex_destroy(&j->pass_mu);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    free(j);
}
