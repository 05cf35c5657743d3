/* journal/upkeep.c: keeping the managed tables bounded (NOTES-ON-ISSUES 19;
 * specs/s3-metadata.md §1 "Snapshots / maintenance", §5.5; docs/metadata.md).
 *
 * Snapshot window. Every commit the publisher makes to a journal or
 * inventory table also drops (remove-snapshots, in the same metadata file)
 * each snapshot that is not current and is older than 24 h or not among
 * the newest 100. Time travel thus reaches back min(24 h, 100 commits); the
 * metadata JSON stays bounded however often rows arrive. The dropped
 * snapshots' files become unreferenced (maintenance removes those).
 *
 * Record expiration. With expiration_days set (7 or more), rows whose
 * record_timestamp is older than now - days are removed from the journal's
 * current snapshot by one overwrite: every data file is read back and
 * rewritten without them (cost O(journal rows), paid at most once per
 * JOURNAL_EXPIRE_EVERY_MS of service clock and only when the snapshot's
 * oldest row, summary kura.journal.min-ts, is old enough -- AWS allows
 * 24-48 h).
 *
 * Compaction. Each publishing commit adds one small Parquet file and one
 * manifest, so a day of steady writes would leave ~86,000 of each: every
 * query would open them all and every commit would rewrite a manifest list
 * naming them all. Once the current snapshot holds JOURNAL_COMPACT_FILES
 * files under JOURNAL_COMPACT_SMALL_BYTES, they are rewritten as one
 * (ordered by sequence_number) by a "replace" snapshot, which also merges
 * their manifests into one (ice_overwrite); files already big are left
 * alone, so each row is rewritten a bounded number of times. The snapshot
 * carries the kura.journal.* summary forward: publishing stays exactly once
 * across it. */
#include "journal/journal_int.h"

#include "util/clock.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JOURNAL_DAY_MS ((int64_t)86400 * 1000)
#define JOURNAL_EXPIRE_EVERY_MS ((int64_t)3600 * 1000)
#define UPKEEP_SQL_MAX ((size_t)1 << 28)
#define JOURNAL_COMPACT_FILES 32
#define JOURNAL_COMPACT_SMALL_BYTES ((int64_t)16 << 20)

ice_rc_t journal_snapshots_expire(arena_t *a, ice_metadata_t *m, int64_t now_ms,
                                  ice_metadata_t **out)
{
    buf_t upd;
    size_t gone = 0;
    *out = m;
    if (m->n_snapshots <= 1)
        return ICE_OK;
    buf_init(&upd, (size_t)1 << 20);
    buf_puts(&upd, "[{\"action\":\"remove-snapshots\",\"snapshot-ids\":[");
    for (size_t i = 0; i < m->n_snapshots; i++) {
        const ice_snapshot_t *s = &m->snapshots[i];
        size_t newer = 0; /* rank by (timestamp, position): a handful of rows, O(n^2) is fine */
        for (size_t k = 0; k < m->n_snapshots; k++)
            if (m->snapshots[k].timestamp_ms > s->timestamp_ms ||
                (m->snapshots[k].timestamp_ms == s->timestamp_ms && k > i))
                newer++;
        if (s->snapshot_id == m->current_snapshot_id ||
            (newer < JOURNAL_SNAPSHOT_KEEP && s->timestamp_ms >= now_ms - JOURNAL_SNAPSHOT_KEEP_MS))
            continue;
        buf_printf(&upd, "%s%lld", gone++ ? "," : "", (long long)s->snapshot_id);
    }
    buf_puts(&upd, "]}]");
    ice_rc_t rc = ICE_OK;
    if (gone && buf_ok(&upd)) {
        ice_err_t err = {{0}};
        ice_commit_opts_t opts = {.now_ms = now_ms};
        rc = ice_commit_apply(a, m, NULL, buf_cstr(&upd), &opts, out, NULL, &err);
        if (rc != ICE_OK) {
            log_warn(NULL, "journal.snapshots", "rc=%s msg=\"%s\"", ice_rc_name(rc), err.msg);
            *out = m;
        }
    }
    buf_release(&upd);
    return rc;
}

static int64_t summary_i64(const ice_snapshot_t *cur, const char *key, int64_t dflt)
{
    const char *v = cur ? ice_snapshot_summary(cur, key) : NULL;
    char *end = NULL;
    if (!v || !*v)
        return dflt;
    long long x = strtoll(v, &end, 10);
    return end && *end == '\0' ? (int64_t)x : dflt;
}

/* Writes the rows of `sql` as one new data file of the table and commits
 * it in place of the files `paths` (op: NULL for overwrite/delete, or
 * "replace"; no file is added when the query has no rows). *df gets the new
 * file's entry; false (logged as `event`) when nothing was committed. */
typedef struct {
    journal_t *j;
    arena_t *a;
    const char *event, *bucket;
    ice_io_t *io;
    const ice_metadata_t *base;
    const tables_table_info_t *info;
    const char *table_bucket, *ns, *table;
} rewrite_t;

static bool rewrite_files(const rewrite_t *w, const char *sql, const char *const *paths,
                          size_t nf, const ice_kv_t *summary, size_t n_summary, const char *op,
                          ice_data_file_t *df)
{
    char *local = NULL, *location = NULL;
    ice_err_t err = {{0}};
    bool ok = false;
    journal_tmp_paths(w->j, w->a, w->info->warehouse_location, "journal", &local, &location);
    ice_rc_t irc = local && location
                       ? ice_parquet_write((struct _duckdb_connection *)w->j->conn, w->a,
                                           ice_metadata_schema(w->base, -1), sql, local, location,
                                           df, &err)
                       : ICE_ERR_NOMEM;
    size_t n_add = irc == ICE_OK && df->record_count > 0 ? 1 : 0;
    ice_metadata_t *next = NULL;
    if (irc == ICE_OK && n_add && w->io->write_file(w->io->ctx, location, local) != 0)
        irc = ICE_ERR_IO;
    ice_snapshot_opts_t so = {.summary = summary,
                              .n_summary = n_summary,
                              .base_location = w->info->metadata_location,
                              .operation = op};
    if (irc == ICE_OK)
        irc = ice_overwrite(w->io, w->a, w->base, df, n_add, paths, nf, &so, &next, &err);
    if (irc != ICE_OK)
        log_warn(NULL, w->event, "bucket=%s rc=%s msg=\"%s\"", w->bucket, ice_rc_name(irc),
                 err.msg);
    else
        ok = journal_table_commit(w->j, w->a, w->table_bucket, w->ns, w->table, w->info, w->io,
                                  next) == TABLES_OK;
    if (local)
        unlink(local);
    return ok;
}

/* Rewrites the journal without rows older than cutoff_ms. */
static void expire_rows(journal_t *j, arena_t *a, const char *bucket, ice_io_t *io,
                        const ice_metadata_t *base, const tables_table_info_t *info,
                        const char *table_bucket, const char *ns, const char *table,
                        int64_t cutoff_ms, int64_t now_ms)
{
    buf_t list, sql;
    const char **paths = NULL, **locals = NULL;
    size_t nf = 0;
    int64_t old = 0, keep_min = INT64_MAX;
    buf_init(&list, UPKEEP_SQL_MAX);
    buf_init(&sql, UPKEEP_SQL_MAX);
    if (!journal_files_fetch(j, a, io, base, 0, &list, &paths, &locals, &nf) || nf == 0)
        goto out;
    buf_printf(&sql,
               "SELECT count(*) FROM read_parquet(%s) WHERE record_timestamp < "
               "make_timestamp(%lld::BIGINT)",
               buf_cstr(&list), (long long)cutoff_ms * 1000);
    if (!buf_ok(&sql) || !journal_sql_i64(j, buf_cstr(&sql), &old))
        goto out;
    buf_reset(&sql);
    buf_printf(&sql,
               "SELECT epoch_ms(min(record_timestamp)) FROM read_parquet(%s) WHERE "
               "record_timestamp >= make_timestamp(%lld::BIGINT)",
               buf_cstr(&list), (long long)cutoff_ms * 1000);
    if (!buf_ok(&sql) || !journal_sql_i64(j, buf_cstr(&sql), &keep_min))
        keep_min = INT64_MAX; /* NULL: nothing stays */
    if (old == 0)
        goto out; /* the summary was stale or absent; nothing to remove */
    buf_reset(&sql);
    buf_printf(&sql,
               "SELECT * FROM read_parquet(%s) WHERE record_timestamp >= "
               "make_timestamp(%lld::BIGINT) ORDER BY sequence_number",
               buf_cstr(&list), (long long)cutoff_ms * 1000);
    if (!buf_ok(&sql))
        goto out;
    const ice_snapshot_t *cur = ice_metadata_snapshot(base, -1);
    char seqs[24], mins[24], exps[24];
    snprintf(seqs, sizeof seqs, "%lld", (long long)summary_i64(cur, JOURNAL_LAST_SEQ, 0));
    snprintf(mins, sizeof mins, "%lld", (long long)keep_min);
    snprintf(exps, sizeof exps, "%lld", (long long)now_ms);
    ice_kv_t summary[] = {{JOURNAL_LAST_SEQ, seqs},
                          {"engine-name", "kura"},
                          {JOURNAL_EXPIRED_MS, exps},
                          {JOURNAL_MIN_TS, mins}};
    rewrite_t w = {j, a, "journal.expire", bucket, io, base, info, table_bucket, ns, table};
    ice_data_file_t df;
    if (rewrite_files(&w, buf_cstr(&sql), paths, nf, summary, sizeof summary / sizeof summary[0],
                      NULL, &df))
        log_info(NULL, "journal.expire", "bucket=%s removed=%lld kept=%lld", bucket, (long long)old,
                 (long long)df.record_count);
out:
    journal_files_drop(locals, nf);
    buf_release(&list);
    buf_release(&sql);
}

void journal_records_expire(journal_t *j, const char *bucket, json_t *conf,
                            const tables_table_info_t *info, const char *table_bucket,
                            const char *ns, const char *table)
{
    int64_t days = json_integer_value(json_object_get(conf, "expiration_days"));
    int64_t now = clock_now_ms();
    if (days <= 0 || days > INT64_MAX / JOURNAL_DAY_MS || now - days * JOURNAL_DAY_MS < 0)
        return; /* a cutoff before 1970 expires nothing */
    int64_t cutoff = now - days * JOURNAL_DAY_MS;
    arena_t *a = arena_new(0);
    ice_io_t *io = NULL;
    ice_metadata_t *base = NULL;
    if (!a || !journal_table_load(j, a, info, &io, &base))
        goto out;
    const ice_snapshot_t *cur = ice_metadata_snapshot(base, -1);
    int64_t min_ts = summary_i64(cur, JOURNAL_MIN_TS, INT64_MIN);
    int64_t last_run = summary_i64(cur, JOURNAL_EXPIRED_MS, 0);
    if (!cur || min_ts >= cutoff || now - last_run < JOURNAL_EXPIRE_EVERY_MS)
        goto out;
    expire_rows(j, a, bucket, io, base, info, table_bucket, ns, table, cutoff, now);
out:
    arena_free(a);
}

void journal_compact(journal_t *j, const char *bucket, const tables_table_info_t *info,
                     const char *table_bucket, const char *ns, const char *table)
{
    arena_t *a = arena_new(0);
    ice_io_t *io = NULL;
    ice_metadata_t *base = NULL;
    const char **paths = NULL, **locals = NULL;
    size_t nf = 0, small = 0;
    buf_t list, sql;
    buf_init(&list, UPKEEP_SQL_MAX);
    buf_init(&sql, UPKEEP_SQL_MAX);
    if (!a || !journal_table_load(j, a, info, &io, &base))
        goto out;
    /* The summary's file count first: most passes stop here, unread. */
    if (summary_i64(ice_metadata_snapshot(base, -1), "total-data-files", INT64_MAX) <
        JOURNAL_COMPACT_FILES)
        goto out;
    ice_scan_t scan;
    ice_err_t err = {{0}};
    if (ice_scan_files(io, a, base, -1, &scan, &err) != ICE_OK)
        goto out;
    for (size_t i = 0; i < scan.n_data; i++)
        small += scan.data[i].file_size_in_bytes < JOURNAL_COMPACT_SMALL_BYTES;
    if (small < JOURNAL_COMPACT_FILES)
        goto out;
    if (!journal_files_fetch(j, a, io, base, JOURNAL_COMPACT_SMALL_BYTES, &list, &paths, &locals,
                             &nf) ||
        nf < 2)
        goto out;
    buf_printf(&sql, "SELECT * FROM read_parquet(%s) ORDER BY sequence_number", buf_cstr(&list));
    if (!buf_ok(&sql))
        goto out;
    /* The summary keys the publisher and expiration read go forward. */
    const ice_snapshot_t *cur = ice_metadata_snapshot(base, -1);
    static const char *const keep[] = {JOURNAL_LAST_SEQ, JOURNAL_MIN_TS, JOURNAL_EXPIRED_MS};
    ice_kv_t summary[4] = {{"engine-name", "kura"}};
    size_t ns_kv = 1;
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        const char *v = cur ? ice_snapshot_summary(cur, keep[i]) : NULL;
        if (v)
            summary[ns_kv++] = (ice_kv_t){keep[i], v};
    }
    rewrite_t w = {j, a, "journal.compact", bucket, io, base, info, table_bucket, ns, table};
    ice_data_file_t df;
    if (rewrite_files(&w, buf_cstr(&sql), paths, nf, summary, ns_kv, "replace", &df))
        log_info(NULL, "journal.compact", "bucket=%s files=%zu rows=%lld bytes=%lld", bucket, nf,
                 (long long)df.record_count, (long long)df.file_size_in_bytes);
out:
    journal_files_drop(locals, nf);
    buf_release(&list);
    buf_release(&sql);
    arena_free(a);
}
