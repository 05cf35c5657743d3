/* journal/inventory.c: the live inventory table of a V2 configuration
 * (specs/s3-metadata.md §4; NOTES-ON-ISSUES 16, 17, 19): one row per
 * version ListObjectVersions returns, delete markers included, with AWS's
 * 16 inventory columns, kept current from the metadata journal's queue.
 *
 * States (metadata-status/<bucket>, "inventory"; "since_ms" names the
 * enablement the state belongs to, the configuration's inventory_since_ms):
 *   CREATING     enabled; table not made yet                  (inventory_start)
 *   BACKFILLING  table made; versions being listed, progress in
 *                "backfill_versions" and the log              (backfill)
 *   ACTIVE       backfilled; queued journal rows applied each pass (apply)
 *   FAILED       InventoryTableAlreadyExists (a table of an earlier
 *                enablement is still there: delete it first, as on AWS),
 *                JournalTableNotAvailable, DestinationTableNotFound (the
 *                user deleted the table) -- terminal for that enablement
 * Disabling the inventory stops the passes; the table stays. Enabling again
 * is a new enablement and meets the old table: FAILED, as on AWS.
 *
 * Backfill. S0 -- the last sequence the bucket issued, or just before the
 * oldest row still queued, whichever is smaller -- is read first, then
 * every version is listed (pages of INV_PAGE_VERSIONS, each in a short read
 * transaction) into one Parquet file: the first snapshot, with
 * "kura.inventory.last-seq" = S0 and sequence_number = 16 zeros for every
 * backfilled version (no journal row introduced them). Rows after S0 stay
 * queued (the queue is trimmed to the smaller of the journal's and the
 * inventory's last sequence) and are applied next; a version the listing
 * already saw in its newer state only gets the same state again, so the
 * table converges. A crash mid-backfill leaves no snapshot: the next pass
 * backfills again.
 *
 * Apply (cost: the whole inventory is rewritten once per pass that has
 * changes, O(versions) -- about 0.1 s per 100,000 versions. NOTES 19 wants
 * position deletes + appends instead; kura's SQL reader applies position
 * deletes (query/resolve.c), so what is missing is writing them here and
 * compacting them away later). The queued
 * rows fold into (key, version_id) -> last row: CREATE, UPDATE_METADATA and
 * delete-marker rows upsert the version with the row's sequence number,
 * permanent deletes remove it. One ice_overwrite snapshot per pass with
 * changes, none without. */
#include "journal/journal_int.h"

#include "util/clock.h"
#include "util/log.h"
#include "util/parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INV_TABLE "inventory"
#define INV_LAST_SEQ "kura.inventory.last-seq"
#define INV_STAGE_ROWS 20000     /* rows per staged NDJSON file */
#define INV_PAGE_VERSIONS 2000   /* versions listed per read transaction */
#define INV_PROGRESS_EVERY 20000 /* versions between progress reports */
#define INV_APPLY_BATCHES 5      /* queue batches (JOURNAL_BATCH_ROWS) per rewrite */
#define INV_QUEUE_BATCH 10000
#define INV_SQL_MAX ((size_t)1 << 30)

/* AWS's 16 inventory columns in the documented order; ids as AssignFreshIds
 * gives them (ice_metadata_new reassigns anyway). */
static const char inventory_schema[] =
    "{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
    "{\"id\":1,\"name\":\"bucket\",\"required\":true,\"type\":\"string\"},"
    "{\"id\":2,\"name\":\"key\",\"required\":true,\"type\":\"string\"},"
    "{\"id\":3,\"name\":\"sequence_number\",\"required\":true,\"type\":\"string\"},"
    "{\"id\":4,\"name\":\"version_id\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":5,\"name\":\"is_delete_marker\",\"required\":false,\"type\":\"boolean\"},"
    "{\"id\":6,\"name\":\"size\",\"required\":false,\"type\":\"long\"},"
    "{\"id\":7,\"name\":\"last_modified_date\",\"required\":false,\"type\":\"timestamp\"},"
    "{\"id\":8,\"name\":\"e_tag\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":9,\"name\":\"storage_class\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":10,\"name\":\"is_multipart\",\"required\":false,\"type\":\"boolean\"},"
    "{\"id\":11,\"name\":\"encryption_status\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":12,\"name\":\"is_bucket_key_enabled\",\"required\":false,\"type\":\"boolean\"},"
    "{\"id\":13,\"name\":\"kms_key_arn\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":14,\"name\":\"checksum_algorithm\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":15,\"name\":\"object_tags\",\"required\":false,\"type\":{\"type\":\"map\","
    "\"key-id\":17,\"key\":\"string\",\"value-id\":18,\"value\":\"string\","
    "\"value-required\":false}},"
    "{\"id\":16,\"name\":\"user_metadata\",\"required\":false,\"type\":{\"type\":\"map\","
    "\"key-id\":19,\"key\":\"string\",\"value-id\":20,\"value\":\"string\","
    "\"value-required\":false}}]}";

static const char inv_columns[] =
    "bucket, key, sequence_number, version_id, is_delete_marker, size, last_modified_date, "
    "e_tag, storage_class, is_multipart, encryption_status, is_bucket_key_enabled, kms_key_arn, "
    "checksum_algorithm, object_tags, user_metadata";

/* Staging table: `op` ('U' upsert, 'D' remove) then the inventory columns,
 * as read_json declares them; stage_open turns this into the table's DDL. */
static const char inv_stage_cols[] =
    "{op: 'VARCHAR', bucket: 'VARCHAR', key: 'VARCHAR', sequence_number: 'VARCHAR', "
    "version_id: 'VARCHAR', is_delete_marker: 'BOOLEAN', size: 'BIGINT', last_modified_date: "
    "'TIMESTAMP', e_tag: 'VARCHAR', storage_class: 'VARCHAR', is_multipart: 'BOOLEAN', "
    "encryption_status: 'VARCHAR', is_bucket_key_enabled: 'BOOLEAN', kms_key_arn: 'VARCHAR', "
    "checksum_algorithm: 'VARCHAR', object_tags: 'MAP(VARCHAR, VARCHAR)', user_metadata: "
    "'MAP(VARCHAR, VARCHAR)'}";

/* ---- staging rows in DuckDB -------------------------------------------- */

typedef struct {
    journal_t *j;
    const char *table; /* temp table name */
    buf_t rows;        /* NDJSON not yet inserted */
    size_t n;          /* rows in `rows` */
    size_t total;      /* rows staged in all */
    bool ok;
} stage_t;

static bool stage_open(stage_t *s, journal_t *j, const char *table)
{
    char ddl[1024];
    memset(s, 0, sizeof *s);
    s->j = j;
    s->table = table;
    s->ok = true;
    buf_init(&s->rows, INV_SQL_MAX);
    /* {name: 'TYPE', ...} -> (name TYPE, ...) */
    int len = snprintf(ddl, sizeof ddl, "CREATE OR REPLACE TEMP TABLE %s (", table);
    for (const char *p = inv_stage_cols + 1; *p && *p != '}' && len < (int)sizeof ddl - 2; p++)
        if (*p != '\'' && *p != ':')
            ddl[len++] = *p;
    ddl[len++] = ')';
    ddl[len] = '\0';
    return s->ok = journal_sql_exec(j, ddl);
}

static void stage_flush(stage_t *s)
{
    if (s->n && s->ok) {
        arena_t *a = arena_new(0);
        char *file = NULL;
        char *from = a ? journal_rows_stage(s->j, a, &s->rows, inv_stage_cols, &file) : NULL;
        char *sql = from ? arena_printf(a, "INSERT INTO %s SELECT * FROM %s", s->table, from)
                         : NULL;
        s->ok = sql && journal_sql_exec(s->j, sql);
        if (file)
            unlink(file);
        arena_free(a);
    }
    buf_reset(&s->rows);
    s->n = 0;
}

/* One version as a row (values as the journal's CREATE / delete-marker
 * rows carry them, NOTES-ON-ISSUES 15). */
static void stage_add(stage_t *s, char op, const char *bucket, const store_object_t *o,
                      uint64_t seq)
{
    buf_t *b = &s->rows;
    char hex[JOURNAL_SEQ_HEX + 1];
    char ops[2] = {op, '\0'};
    bool m = o->delete_marker;
    journal_seq_hex(seq, hex);
    journal_row_begin(b);
    journal_col_str(b, "op", ops);
    journal_col_str(b, "bucket", bucket);
    journal_col_strn(b, "key", o->key, o->key_len);
    journal_col_str(b, "sequence_number", hex);
    journal_col_str(b, "version_id", o->version_id);
    journal_col_bool(b, "is_delete_marker", m);
    journal_col_i64(b, "size", m ? 0 : (int64_t)o->size, true);
    journal_col_ts(b, "last_modified_date", o->mtime_ms, true);
    journal_col_str(b, "e_tag", m ? NULL : o->etag);
    journal_col_str(b, "storage_class",
                    m ? NULL : o->storage_class ? o->storage_class : "STANDARD");
    journal_col_bool(b, "is_multipart", m ? -1 : o->parts_count > 0);
    /* encryption columns stay null: kura stores plain bytes */
    journal_col_str(b, "checksum_algorithm", m ? NULL : o->checksum_algo);
    journal_col_map(b, "object_tags", o->tags, o->ntags, !m);
    journal_col_map(b, "user_metadata", o->meta, o->nmeta, !m);
    journal_row_end(b);
    s->total++;
    if (++s->n >= INV_STAGE_ROWS)
        stage_flush(s);
}

static void stage_close(stage_t *s) { buf_release(&s->rows); }

/* ---- status ------------------------------------------------------------ */

static void inv_status(journal_t *j, const char *bucket, const char *status, const char *arn,
                       int64_t since, const char *code, const char *msg, int64_t progress)
{
    json_t *o = json_pack("{s:s,s:s?,s:I,s:s?,s:s?}", "status", status, "arn", arn, "since_ms",
                          (json_int_t)since, "error_code", code, "error_message", msg);
    if (o && progress >= 0)
        json_object_set_new(o, "backfill_versions", json_integer(progress));
    if (o)
        journal_status_set(j, bucket, INV_TABLE, o);
}

/* ---- backfill ------------------------------------------------------------ */

typedef struct {
    stage_t *s;
    const char *bucket;
    size_t page;               /* versions seen in this page */
    char *last_key, *last_vid; /* malloc'd: where the next page starts */
} page_t;

static store_iter_rc_t backfill_cb(void *arg, const store_object_t *o, buf_t *skip)
{
    page_t *p = arg;
    (void)skip;
    stage_add(p->s, 'U', p->bucket, o, 0);
    if (++p->page < INV_PAGE_VERSIONS)
        return STORE_ITER_NEXT;
    free(p->last_key);
    free(p->last_vid);
    p->last_key = strndup(o->key, o->key_len);
    p->last_vid = strdup(o->version_id ? o->version_id : "null");
    if (!p->last_key || !p->last_vid)
        p->s->ok = false;
    return STORE_ITER_STOP;
}

/* Lists every version into the staging table "inv_new". */
static bool backfill_list(journal_t *j, const char *bucket, const char *arn, int64_t since,
                          stage_t *s)
{
    page_t p = {.s = s, .bucket = bucket};
    size_t reported = 0;
    bool more = true;
    while (more && s->ok) {
        arena_t *a = arena_new(0);
        p.page = 0;
        store_rc_t rc =
            a ? store_version_list(j->st, a, bucket, NULL, p.last_key, p.last_vid, backfill_cb, &p)
              : STORE_NOMEM;
        arena_free(a);
        if (rc != STORE_OK)
            s->ok = false;
        more = p.page >= INV_PAGE_VERSIONS;
        if (s->total - reported >= INV_PROGRESS_EVERY || !more) {
            reported = s->total;
            log_info(NULL, "inventory.backfill", "bucket=%s versions=%zu done=%s", bucket, s->total,
                     more ? "false" : "true");
            inv_status(j, bucket, "BACKFILLING", arn, since, NULL, NULL, (int64_t)s->total);
        }
    }
    free(p.last_key);
    free(p.last_vid);
    stage_flush(s);
    return s->ok;
}

/* Writes the staged rows selected by `select_sql` as one data file and
 * commits them replacing `remove` (n_remove files). */
static bool rewrite(journal_t *j, arena_t *a, const tables_table_info_t *info, ice_io_t *io,
                    const ice_metadata_t *base, const char *select_sql, const char **remove,
                    size_t n_remove, uint64_t last_seq, const char *ns)
{
    char *local, *location;
    ice_data_file_t df;
    ice_err_t err = {{0}};
    journal_tmp_paths(j, a, info->warehouse_location, "inventory", &local, &location);
    if (!local || !location)
        return false;
    ice_rc_t irc =
        ice_parquet_write((struct _duckdb_connection *)j->conn, a, ice_metadata_schema(base, -1),
                          select_sql, local, location, &df, &err);
    size_t n_add = irc == ICE_OK && df.record_count > 0 ? 1 : 0;
    if (irc != ICE_OK || (n_add && io->write_file(io->ctx, location, local) != 0)) {
        log_warn(NULL, "inventory.parquet", "table=%s rc=%s msg=\"%s\"", ns, ice_rc_name(irc),
                 err.msg);
        unlink(local);
        return false;
    }
    if (!n_add)
        unlink(local);
    char seqs[24];
    snprintf(seqs, sizeof seqs, "%llu", (unsigned long long)last_seq);
    ice_kv_t summary[] = {{INV_LAST_SEQ, seqs}, {"engine-name", "kura"}};
    ice_snapshot_opts_t so = {.summary = summary,
                              .n_summary = sizeof summary / sizeof summary[0],
                              .base_location = info->metadata_location};
    ice_metadata_t *next = NULL;
    irc = ice_overwrite(io, a, base, &df, n_add, remove, n_remove, &so, &next, &err);
    if (irc != ICE_OK) {
        log_warn(NULL, "inventory.commit", "table=%s rc=%s msg=\"%s\"", ns, ice_rc_name(irc),
                 err.msg);
        return false;
    }
    return journal_table_commit(j, a, JOURNAL_MANAGED_BUCKET, ns, INV_TABLE, info, io, next) ==
           TABLES_OK;
}

static bool backfill(journal_t *j, arena_t *a, const char *bucket, const char *ns,
                     const tables_table_info_t *info, ice_io_t *io, const ice_metadata_t *base,
                     int64_t since)
{
    uint64_t s0 = 0;
    stage_t s;
    int64_t t0 = clock_now_ms();
    if (store_journal_last_seq(j->st, bucket, &s0) != STORE_OK)
        return false;
    /* Rows still queued (not trimmed yet) are replayed after the listing,
     * so the versions they touched get their real sequence numbers. */
    arena_t *qa = arena_new(0);
    store_jrow_t *head = NULL;
    size_t nh = 0;
    if (qa && store_journal_read(j->st, qa, bucket, 0, 1, &head, &nh) == STORE_OK && nh == 1 &&
        head[0].seq - 1 < s0)
        s0 = head[0].seq - 1;
    arena_free(qa);
    inv_status(j, bucket, "BACKFILLING", info->table_arn, since, NULL, NULL, 0);
    bool ok = stage_open(&s, j, "inv_new") && backfill_list(j, bucket, info->table_arn, since, &s);
    size_t rows = s.total;
    stage_close(&s);
    char *sel = arena_printf(a, "SELECT %s FROM inv_new ORDER BY key, version_id", inv_columns);
    ok = ok && sel && rewrite(j, a, info, io, base, sel, NULL, 0, s0, ns);
    journal_sql_exec(j, "DROP TABLE IF EXISTS inv_new");
    log_info(NULL, "inventory.backfill", "bucket=%s versions=%zu last_seq=%llu ok=%s ms=%lld",
             bucket, rows, (unsigned long long)s0, ok ? "true" : "false",
             (long long)(clock_now_ms() - t0));
    return ok;
}

/* ---- apply --------------------------------------------------------------- */

/* Folds queued rows after the inventory's last sequence into it. */
static bool apply(journal_t *j, arena_t *a, const char *bucket, const char *ns,
                  const tables_table_info_t *info, ice_io_t *io, const ice_metadata_t *base,
                  uint64_t *upto)
{
    uint64_t last = *upto;
    stage_t s;
    if (!stage_open(&s, j, "inv_chg")) {
        stage_close(&s);
        return false;
    }
    for (int b = 0; b < INV_APPLY_BATCHES && s.ok; b++) {
        arena_t *ra = arena_new(0);
        store_jrow_t *rows = NULL;
        size_t n = 0;
        if (!ra ||
            store_journal_read(j->st, ra, bucket, last, INV_QUEUE_BATCH, &rows, &n) != STORE_OK)
            s.ok = false;
        for (size_t i = 0; s.ok && i < n; i++) {
            stage_add(&s, rows[i].permanent ? 'D' : 'U', bucket, &rows[i].obj, rows[i].seq);
            last = rows[i].seq;
        }
        arena_free(ra);
        if (n < INV_QUEUE_BATCH)
            break;
    }
    stage_flush(&s);
    bool ok = s.ok;
    size_t changes = s.total;
    stage_close(&s);
    if (!ok || changes == 0)
        return ok;

    buf_t list, sel;
    const char **paths = NULL, **locals = NULL;
    size_t nf = 0;
    buf_init(&list, INV_SQL_MAX);
    buf_init(&sel, INV_SQL_MAX);
    ok = journal_files_fetch(j, a, io, base, 0, &list, &paths, &locals, &nf);
    buf_printf(&sel,
               "WITH c AS (SELECT * FROM inv_chg QUALIFY row_number() OVER (PARTITION BY key, "
               "version_id ORDER BY sequence_number DESC) = 1) ");
    if (nf)
        buf_printf(&sel,
                   "SELECT %s FROM read_parquet(%s) o WHERE NOT EXISTS (SELECT 1 FROM c WHERE "
                   "c.key = o.key AND c.version_id IS NOT DISTINCT FROM o.version_id) "
                   "UNION ALL ",
                   inv_columns, buf_cstr(&list));
    buf_printf(&sel, "SELECT %s FROM c WHERE op = 'U' ORDER BY key, version_id", inv_columns);
    ok = ok && buf_ok(&sel) && rewrite(j, a, info, io, base, buf_cstr(&sel), paths, nf, last, ns);
    journal_files_drop(locals, nf);
    buf_release(&list);
    buf_release(&sel);
    journal_sql_exec(j, "DROP TABLE IF EXISTS inv_chg");
    if (ok) {
        log_debug(NULL, "inventory.apply", "bucket=%s changes=%zu last_seq=%llu", bucket, changes,
                  (unsigned long long)last);
        *upto = last;
    }
    return ok;
}

/* ---- the pass ------------------------------------------------------------ */

/* The table of this enablement, made and initialised if missing. */
static bool inventory_table(journal_t *j, arena_t *a, const char *bucket, const char *ns,
                            int64_t since, tables_table_info_t *info)
{
    json_t *status = journal_status_load(j, bucket);
    json_t *inv = json_object_get(status, INV_TABLE);
    const char *st = json_string_value(json_object_get(inv, "status"));
    bool ours = st && json_integer_value(json_object_get(inv, "since_ms")) == since;
    bool failed = ours && strcmp(st, "FAILED") == 0;
    bool active = ours && strcmp(st, "ACTIVE") == 0;
    json_decref(status);
    if (failed)
        return false;
    tables_err_t te = tables_table_info(j->tables, a, JOURNAL_MANAGED_BUCKET, ns, INV_TABLE, info);
    if (!ours && te == TABLES_OK && info->metadata_location) {
        inv_status(j, bucket, "FAILED", info->table_arn, since, "InventoryTableAlreadyExists",
                   "An inventory table from an earlier configuration exists; delete it first.", -1);
        return false;
    }
    if (active && (te != TABLES_OK || !info->metadata_location)) {
        inv_status(j, bucket, "FAILED", NULL, since, "DestinationTableNotFound",
                   "The inventory table was deleted.", -1);
        return false;
    }
    if (te == TABLES_OK && info->metadata_location)
        return true;
    if (!ours)
        inv_status(j, bucket, "CREATING", NULL, since, NULL, NULL, -1);
    te = tables_managed_table_ensure(j->tables, a, JOURNAL_MANAGED_BUCKET, ns, INV_TABLE, info);
    if (te == TABLES_OK && !info->metadata_location)
        te =
            journal_table_init(j, a, JOURNAL_MANAGED_BUCKET, ns, INV_TABLE, inventory_schema, info);
    if (te != TABLES_OK) {
        log_warn(NULL, "inventory.table", "bucket=%s err=%s", bucket, tables_err_name(te));
        return false;
    }
    return true;
}

bool journal_inventory_pass(journal_t *j, const char *bucket, json_t *conf, uint64_t *upto)
{
    if (json_integer_value(json_object_get(conf, "version")) != 2 ||
        !json_is_true(json_object_get(conf, "inventory")))
        return false;
    int64_t since = json_integer_value(json_object_get(conf, "inventory_since_ms"));
    arena_t *a = arena_new(0);
    char *ns = a ? arena_printf(a, "b_%s", bucket) : NULL;
    for (char *p = ns; p && *p; p++)
        if (*p == '.')
            *p = '_';
    tables_table_info_t info;
    ice_io_t *io = NULL;
    ice_metadata_t *base = NULL;
    bool kept = false;
    if (!ns || !inventory_table(j, a, bucket, ns, since, &info) ||
        !journal_table_load(j, a, &info, &io, &base))
        goto out;
    const ice_snapshot_t *cur = ice_metadata_snapshot(base, -1);
    const char *ls = cur ? ice_snapshot_summary(cur, INV_LAST_SEQ) : NULL;
    uint64_t held = 0;
    if (!ls) {
        /* Not backfilled yet (or a crash interrupted it): start over. */
        if (!backfill(j, a, bucket, ns, &info, io, base, since))
            goto out;
        inv_status(j, bucket, "ACTIVE", info.table_arn, since, NULL, NULL, -1);
        if (tables_table_info(j->tables, a, JOURNAL_MANAGED_BUCKET, ns, INV_TABLE, &info) !=
                TABLES_OK ||
            !journal_table_load(j, a, &info, &io, &base))
            goto out;
        cur = ice_metadata_snapshot(base, -1);
        ls = cur ? ice_snapshot_summary(cur, INV_LAST_SEQ) : NULL;
        if (!ls)
            goto out;
    }
    json_t *status = journal_status_load(j, bucket);
    const char *st = journal_status_str(status, INV_TABLE, "status");
    if (!st || strcmp(st, "ACTIVE") != 0) /* backfill committed, then a crash */
        inv_status(j, bucket, "ACTIVE", info.table_arn, since, NULL, NULL, -1);
    json_decref(status);
    if (parse_u64_str(ls, UINT64_MAX, &held) != PARSE_OK) {
        log_warn(NULL, "inventory.summary", "bucket=%s msg=\"bad %s\"", bucket, INV_LAST_SEQ);
        goto out;
    }
    *upto = held;
    kept = true;
    apply(j, a, bucket, ns, &info, io, base, upto);
out:
    arena_free(a);
    return kept;
}
