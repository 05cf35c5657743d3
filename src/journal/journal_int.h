/* journal/journal_int.h: shared inside journal/ (publisher.c, inventory.c,
 * upkeep.c); included by nobody else. */
#ifndef KURA_JOURNAL_INT_H
#define KURA_JOURNAL_INT_H

#include "journal/journal.h"

#include "iceberg/iceberg.h"

#include <jansson.h>
#include <pthread.h>

#define JOURNAL_MANAGED_BUCKET "aws-s3"
#define JOURNAL_SEQ_HEX 16 /* sequence_number: fixed-width lowercase hex */
/* Snapshot summary keys of the journal table. */
#define JOURNAL_LAST_SEQ "kura.journal.last-seq"     /* last queue sequence held */
#define JOURNAL_MIN_TS "kura.journal.min-ts"         /* oldest record_timestamp held, ms */
#define JOURNAL_EXPIRED_MS "kura.journal.expired-ms" /* last record expiration, ms */
/* Biggest data file the publisher reads back (inventory rewrite, record
 * expiration). An inventory of 100,000 versions is a few MB. */
#define JOURNAL_FILE_MAX_BYTES ((size_t)192 << 20)
/* Snapshot window of the managed tables (NOTES-ON-ISSUES 19; docs/metadata.md):
 * a commit drops every snapshot that is not current and is either older than
 * JOURNAL_SNAPSHOT_KEEP_MS or not among the newest JOURNAL_SNAPSHOT_KEEP. */
#define JOURNAL_SNAPSHOT_KEEP 100
#define JOURNAL_SNAPSHOT_KEEP_MS ((int64_t)24 * 3600 * 1000)

struct journal {
    const kura_config_t *cfg;
    store_t *st;
    tables_t *tables;
    struct _duckdb_database *db_handle; /* duckdb_database, see publisher.c */
    struct _duckdb_connection *conn;    /* kura's writer instance; used by one pass at a time */
    pthread_mutex_t pass_mu;            /* one pass at a time */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    int64_t interval_ms;
    pthread_t th;
    bool started;
};

/* ---- SQL literals and NDJSON batches (publisher.c) ---------------------
 * A batch of rows is built as NDJSON (journal_row_begin, journal_col_* per
 * column, journal_row_end; a column left out reads as null) and handed to
 * DuckDB by journal_rows_stage, which writes it to a temp file (*file, for
 * the caller to unlink) and returns the read_json(...) table function that
 * reads it with `columns`, a DuckDB struct literal {name: 'TYPE', ...}. */
void journal_sql_str(buf_t *b, const char *s); /* NULL: a typed NULL */
void journal_row_begin(buf_t *b);
void journal_row_end(buf_t *b);
void journal_col_strn(buf_t *b, const char *col, const char *s, size_t len); /* s NULL: null */
void journal_col_str(buf_t *b, const char *col, const char *s);
void journal_col_i64(buf_t *b, const char *col, int64_t v, bool present);
void journal_col_ts(buf_t *b, const char *col, int64_t ms, bool present);
void journal_col_bool(buf_t *b, const char *col, int v); /* -1: null */
void journal_col_map(buf_t *b, const char *col, const store_kv_t *kv, size_t n, bool present);
char *journal_rows_stage(journal_t *j, arena_t *a, const buf_t *rows, const char *columns,
                         char **file);
void journal_seq_hex(uint64_t seq, char out[JOURNAL_SEQ_HEX + 1]);
/* Runs a statement on the writer connection; false (logged) on failure. */
bool journal_sql_exec(journal_t *j, const char *sql);
/* One BIGINT from a one-row query; false when it fails or yields NULL. */
bool journal_sql_i64(journal_t *j, const char *sql, int64_t *out);

/* ---- status record metadata-status/<bucket> (publisher.c) --------------
 * {"journal": {...}, "inventory": {...}}; each table object has "status"
 * and optionally "arn", "error_code", "error_message" and, for the
 * inventory, "since_ms" (the enablement it serves) and "backfill_versions"
 * (progress). journal_status_set replaces one table's object and keeps the
 * other. */
json_t *journal_status_load(journal_t *j, const char *bucket); /* never NULL */
void journal_status_set(journal_t *j, const char *bucket, const char *table, json_t *obj);
void journal_status_put(journal_t *j, const char *bucket, const char *table, const char *status,
                        const char *arn, const char *code, const char *message);
const char *journal_status_str(json_t *status, const char *table, const char *field);

/* ---- tables (publisher.c) ---------------------------------------------- */
/* The current metadata of a table, parsed into `a`. */
bool journal_table_load(journal_t *j, arena_t *a, const tables_table_info_t *info, ice_io_t **io,
                        ice_metadata_t **base);
/* Writes the first metadata file of a managed table made by
 * tables_managed_table_ensure (no metadata yet) and swaps it in. */
tables_err_t journal_table_init(journal_t *j, arena_t *a, const char *table_bucket, const char *ns,
                                const char *table, const char *schema_json,
                                tables_table_info_t *info);
/* Finishes a commit: expires snapshots outside the window (upkeep.c), writes
 * the metadata file next to info->metadata_location and swaps the pointer if
 * the table still has info->version_token. TABLES_OK or the swap's error. */
tables_err_t journal_table_commit(journal_t *j, arena_t *a, const char *table_bucket,
                                  const char *ns, const char *table,
                                  const tables_table_info_t *info, ice_io_t *io,
                                  ice_metadata_t *next);
/* Copies the live data files of m's current snapshot -- those smaller than
 * `below` bytes when below > 0 -- to local temp files (the DuckDB writer
 * reads local files only). Fills a DuckDB list literal "['/p1','/p2']" in
 * `list` and the table locations in *paths (from `a`). The caller unlinks
 * the files with journal_files_drop. */
bool journal_files_fetch(journal_t *j, arena_t *a, ice_io_t *io, const ice_metadata_t *m,
                         int64_t below, buf_t *list, const char ***paths, const char ***locals,
                         size_t *n);
void journal_files_drop(const char **locals, size_t n);
/* A fresh local temp path under <data>/tmp and its table location. */
void journal_tmp_paths(journal_t *j, arena_t *a, const char *warehouse, const char *stem,
                       char **local, char **location);

/* ---- the inventory (inventory.c) ---------------------------------------
 * One pass for a bucket whose journal table is ACTIVE: creates/backfills
 * the inventory when the configuration enables it, else applies queued
 * journal rows to it. Returns true when the inventory is being kept (then
 * *upto is the last journal sequence it holds, which bounds the queue
 * trim), false when the queue need not wait for it. */
bool journal_inventory_pass(journal_t *j, const char *bucket, json_t *conf, uint64_t *upto);

/* ---- upkeep (upkeep.c) ------------------------------------------------- */
/* Drops snapshots outside the window from `m` (never the current one);
 * *out is m itself when nothing goes. */
ice_rc_t journal_snapshots_expire(arena_t *a, ice_metadata_t *m, int64_t now_ms,
                                  ice_metadata_t **out);
/* Record expiration (s3-metadata.md §5.5) of a bucket's journal table. */
void journal_records_expire(journal_t *j, const char *bucket, json_t *conf,
                            const tables_table_info_t *info, const char *table_bucket,
                            const char *ns, const char *table);
/* Small-file compaction of a bucket's journal table (upkeep.c says when). */
void journal_compact(journal_t *j, const char *bucket, const tables_table_info_t *info,
                     const char *table_bucket, const char *ns, const char *table);

#endif
