/* query/query.h: SQL over table-bucket tables, run by embedded DuckDB.
 *
 * Three ways in share one core:
 *   POST /kura/sql                     query_http     (docs/sql.md)
 *   Athena JSON 1.1 (X-Amz-Target)     query_athena   (AmazonAthena.*)
 *   kura sql ...                       query_cli_main (a client of /kura/sql)
 *
 * The core: user SQL is scanned (rewrite.c), each table reference
 *   "s3tablescatalog/<bucket>"."<ns>"."<table>"   or   <bucket>.<ns>.<table>
 * (optionally FOR TIMESTAMP AS OF <expr> / FOR VERSION AS OF <id>) is
 * resolved through the catalog seam below to one snapshot's exact data-file
 * list and replaced by a read_parquet([...]) subquery (resolve.c); the
 * result is prepared on a locked-down DuckDB instance that may read only
 * the blob directory, and only SELECT statements run there (exec.c).
 * INSERT INTO / CREATE TABLE AS SELECT on a table-bucket table are run by
 * kura itself: the SELECT runs on the user instance, rows are written to
 * Parquet by a separate writer instance and committed as an Iceberg append
 * through the catalog's compare-and-swap.
 *
 * Threads: every entry point may be called from any pool thread at once.
 * DuckDB connections come from the pool inside query_t. The catalog
 * callbacks below run while the statement's connection is checked out but
 * idle: each must finish its own (brief) LMDB transaction before it
 * returns, so no DuckDB call ever happens inside one (STYLE §7). */
#ifndef KURA_QUERY_QUERY_H
#define KURA_QUERY_QUERY_H

#include "auth/auth.h"
#include "http/http.h"
#include "iceberg/iceberg.h"
#include "util/arena.h"
#include "util/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- errors ------------------------------------------------------------
 * One enum for all three ways in; query/errors.c maps each to the HTTP
 * status + code of POST /kura/sql and to the Athena shape (__type for a
 * refused call, or a FAILED state with AthenaError). Append only. */
typedef enum {
    QUERY_OK = 0,
    QUERY_ERR_SYNTAX,        /* the statement does not parse */
    QUERY_ERR_INVALID,       /* malformed request (JSON, missing field) */
    QUERY_ERR_NO_TABLE,      /* table, namespace or table bucket unknown */
    QUERY_ERR_NO_SNAPSHOT,   /* time travel before the table existed / bad id */
    QUERY_ERR_EXEC,          /* parses but fails: bind, type, runtime error */
    QUERY_ERR_FORBIDDEN,     /* policy denies, or a statement kind users may not run */
    QUERY_ERR_READ_ONLY,     /* write to a kura-managed table (NOTES 13) */
    QUERY_ERR_TIMEOUT,       /* ran past the query timeout and was interrupted */
    QUERY_ERR_CANCELLED,     /* stopped by the caller */
    QUERY_ERR_TOO_LARGE,     /* SQL text, rewrite or result over a limit */
    QUERY_ERR_CONFLICT,      /* a concurrent commit won the compare-and-swap */
    QUERY_ERR_UNSUPPORTED,   /* valid but not handled (equality deletes, ...) */
    QUERY_ERR_NO_EXECUTION,  /* Athena: unknown QueryExecutionId / workgroup / catalog */
    QUERY_ERR_UNKNOWN_OP,    /* Athena: unknown X-Amz-Target operation */
    QUERY_ERR_BUSY,          /* too many queued queries */
    QUERY_ERR_INTERNAL,
    QUERY_ERR__COUNT /* keep last */
} query_err_t;

const char *query_err_code(query_err_t e);     /* "SyntaxError", ... for /kura/sql */
unsigned query_err_status(query_err_t e);      /* HTTP status for /kura/sql */

/* Limits on hostile input. */
#define QUERY_SQL_MAX_BYTES ((size_t)1 << 20)     /* one statement's text */
#define QUERY_REWRITE_MAX_BYTES ((size_t)64 << 20) /* text after expansion (file lists) */
#define QUERY_MAX_TOKENS 200000                    /* scanner tokens per statement */
#define QUERY_MAX_REFS 256                         /* table references per statement */
#define QUERY_NAME_MAX_BYTES 255                   /* one identifier */

/* ---- the catalog seam --------------------------------------------------
 * Implemented by the tables room (wired by main.c); tests implement it over
 * a local directory. Every callback returns a query_err_t (0 = OK) and
 * allocates from `a`. `caller` is the verified caller (NULL: kura itself,
 * allowed everything); the implementation enforces the S3 Tables policies
 * (read: s3tables:GetTableData, write: s3tables:PutTableData). */
typedef struct {
    const char *metadata_location; /* NULL: created but no metadata yet */
    const char *version_token;     /* for commit's compare-and-swap */
    const char *warehouse_location; /* "s3://.../<table id>", no trailing '/' */
    bool managed;                  /* kura-managed (aws-s3): read-only for users */
    ice_io_t *io;                  /* reads/writes the table's files */
} query_table_t;

typedef enum { QUERY_LIST_BUCKETS = 0, QUERY_LIST_NAMESPACES, QUERY_LIST_TABLES } query_list_t;

typedef struct {
    void *ctx;
    /* Looks a table up. write: the caller means to commit to it.
     * Returns QUERY_OK, QUERY_ERR_NO_TABLE, QUERY_ERR_FORBIDDEN. */
    int (*resolve)(void *ctx, arena_t *a, const auth_caller_t *caller, const char *bucket,
                   const char *ns, const char *table, bool write, query_table_t *out);
    /* The local file DuckDB may read for a data/delete file location; it
     * must lie under query_opts_t.data_dir (the only directory the user
     * instance may read). QUERY_ERR_NO_TABLE if the file is missing. */
    int (*local_path)(void *ctx, arena_t *a, const char *location, const char **path);
    /* Names for discovery (SHOW, information_schema, Athena ListDatabases):
     * what == BUCKETS ignores bucket/ns; NAMESPACES needs bucket; TABLES
     * needs both. Only what the caller may see. */
    int (*list)(void *ctx, arena_t *a, const auth_caller_t *caller, query_list_t what,
                const char *bucket, const char *ns, const char ***names, size_t *n);
    /* Creates an empty table entry (CTAS) and fills out (metadata_location
     * NULL). QUERY_ERR_CONFLICT if it exists, QUERY_ERR_NO_TABLE if the
     * bucket or namespace does not. May be NULL: CTAS unsupported. */
    int (*create)(void *ctx, arena_t *a, const auth_caller_t *caller, const char *bucket,
                  const char *ns, const char *table, query_table_t *out);
    /* Compare-and-swap of the table's metadata pointer: succeeds only if
     * the version token is still `version_token`. QUERY_ERR_CONFLICT when
     * it moved (nothing changed). */
    int (*commit)(void *ctx, arena_t *a, const char *bucket, const char *ns, const char *table,
                  const char *version_token, const char *new_metadata_location);
    /* Stores an Athena result object (s3://bucket/key) as the caller would
     * by PutObject. May be NULL: results are kept only in memory. */
    int (*put_object)(void *ctx, const auth_caller_t *caller, const char *bucket,
                      const char *key, const void *data, size_t len);
    /* The SQL service's own settings (the Athena workgroup's default
     * OutputLocation), kept across restarts. get: QUERY_OK with *value, or
     * QUERY_ERR_NO_TABLE when unset; put with value NULL removes. Both may
     * be NULL: settings then live in memory only. */
    int (*setting_get)(void *ctx, arena_t *a, const char *name, char **value);
    int (*setting_put)(void *ctx, const char *name, const char *value);
} query_catalog_t;

/* ---- the service -------------------------------------------------------- */

typedef struct {
    const char *data_dir;      /* the only directory user SQL may read (blobs) */
    const char *spool_dir;     /* temp files (writer Parquet, large results); must exist */
    unsigned pool_size;        /* user connections; 0: 4 */
    unsigned threads;          /* DuckDB threads of the user instance; 0: 2 */
    const char *memory_limit;  /* DuckDB memory_limit of the user instance; NULL: "1GB" */
    unsigned timeout_ms;       /* per statement; 0: 300000 */
    unsigned athena_workers;   /* async executors; 0: 2 */
    size_t max_result_bytes;   /* Athena results kept per execution; 0: 256 MiB */
    const char *region, *account_id; /* for Athena ARNs / defaults; may be NULL */
} query_opts_t;

typedef struct query query_t;

/* Opens the user instance (locked: external access limited to data_dir,
 * no extension install/load, configuration locked) and the writer
 * instance, the connection pool, the watchdog and the Athena workers.
 * `cat` is copied. NULL on failure (logged). */
query_t *query_new(const query_opts_t *o, const query_catalog_t *cat);
void query_free(query_t *q); /* cancels running work, joins threads; NULL ok */

/* ---- the core, for tests and the three ways in ---------------------------- */

typedef enum { QUERY_FMT_JSON = 0, QUERY_FMT_CSV, QUERY_FMT_JSONL } query_fmt_t;

/* Where rows go. cols/types are DuckDB's names; values are text (NULL =
 * SQL NULL); numeric says the column is a number/boolean (JSON unquoted).
 * Return false to stop (QUERY_ERR_CANCELLED). */
typedef struct {
    void *ctx;
    bool (*header)(void *ctx, size_t ncols, const char *const *names, const char *const *types);
    bool (*row)(void *ctx, size_t ncols, const char *const *values);
} query_sink_t;

typedef struct {
    const char *catalog;  /* default catalog ("s3tablescatalog/<bucket>" or a bucket), may be NULL */
    const char *database; /* default namespace, may be NULL */
    const auth_caller_t *caller;
    volatile bool *cancel; /* set true to stop (checked by the watchdog); may be NULL */
} query_ctx_t;

typedef struct {
    query_err_t err;
    char msg[512];
    uint64_t rows;           /* rows produced (or written, for INSERT/CTAS) */
    uint64_t bytes_scanned;  /* sum of data file sizes handed to DuckDB */
    int64_t exec_ms;
    bool is_write;           /* INSERT/CTAS: one row "rows" */
} query_result_t;

/* Rewrites, runs and streams one statement. Returns r->err. */
query_err_t query_run(query_t *q, const query_ctx_t *c, const char *sql, size_t len,
                      const query_sink_t *sink, query_result_t *r);

/* Only parses (after rewrite of the Athena dialect, no table resolution):
 * QUERY_OK or QUERY_ERR_SYNTAX with the message. Athena's
 * StartQueryExecution refuses a statement that does not parse (NOTES 22). */
query_err_t query_check_syntax(query_t *q, const char *sql, size_t len, char *msg, size_t cap);

/* ---- the ways in -------------------------------------------------------- */

/* POST /kura/sql. Body: {"sql": "...", "format": "json"|"csv"|"jsonl",
 * "catalog": ..., "database": ...} or, with Content-Type text/plain (or
 * application/sql), the SQL itself (format from ?format=). Fills r. */
void query_http(query_t *q, http_req_t *r, const auth_caller_t *caller, const char *body,
                size_t len);

/* Athena JSON 1.1: target is the X-Amz-Target header value
 * ("AmazonAthena.StartQueryExecution", ...). Fills r (JSON 200, or
 * {"__type","Message"} with x-amzn-ErrorType and 400). */
void query_athena(query_t *q, http_req_t *r, const auth_caller_t *caller, const char *target,
                  const char *body, size_t len);

/* `kura sql ...` (argv[0] = "sql"): see docs/sql.md. Exit status. */
int query_cli_main(int argc, char **argv);

#endif
