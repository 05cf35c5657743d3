/* query/query_int.h: shared inside query/, included by nobody else.
 *
 * rewrite.c is pure (no DuckDB, no Iceberg) so tests/unit/test_query.c can
 * link it alone: it finds table references and discovery statements and
 * asks its caller (resolve.c) for the SQL that replaces them. */
#ifndef KURA_QUERY_INT_H
#define KURA_QUERY_INT_H

#include "query/query.h"

/* ---- scanner -------------------------------------------------------------- */

typedef enum {
    QTK_WS = 0,
    QTK_COMMENT,
    QTK_IDENT,   /* bare word: keyword or identifier */
    QTK_QIDENT,  /* "quoted identifier" */
    QTK_STRING,  /* 'literal', E'...', $tag$...$tag$ */
    QTK_NUMBER,
    QTK_PUNCT,   /* one byte: ( ) , ; . and operators */
    QTK_OP,      /* multi-byte operator (::, ->, <=, ||, ...) */
} query_tok_kind_t;

typedef struct {
    query_tok_kind_t kind;
    size_t off, len; /* into the statement text */
} query_tok_t;

/* Splits [sql, sql+len) into tokens (whitespace and comments included, so
 * the tokens tile the text). Bounded: at most QUERY_MAX_TOKENS tokens.
 * Returns QUERY_OK, QUERY_ERR_SYNTAX (unterminated string, quoted
 * identifier or comment; NUL byte), QUERY_ERR_TOO_LARGE, QUERY_ERR_INTERNAL
 * (arena). */
query_err_t query_lex(arena_t *a, const char *sql, size_t len, query_tok_t **toks, size_t *n,
                      char *msg, size_t cap);

/* The text DuckDB's parser checks for a statement (Athena's
 * StartQueryExecution refuses what does not parse): each FOR TIMESTAMP|
 * VERSION AS OF clause cut out, and its expression appended as a statement
 * of its own ("; SELECT <expr>") so that its syntax is checked too. */
query_err_t query_syntax_text(arena_t *a, const char *sql, size_t len, char **out, char *msg,
                              size_t cap);

/* ---- rewrite ------------------------------------------------------------ */

typedef enum { QUERY_TT_NONE = 0, QUERY_TT_VERSION, QUERY_TT_TIMESTAMP } query_tt_t;

/* A resolved table name. bucket/ns/table are unquoted, as the catalog knows
 * them; `written` is how the user spelled it (for messages). */
typedef struct {
    const char *bucket, *ns, *table;
    query_tt_t tt;
    int64_t version;        /* QUERY_TT_VERSION */
    const char *ts_expr;    /* QUERY_TT_TIMESTAMP: SQL expression text */
} query_ref_t;

typedef enum {
    QUERY_STMT_SELECT = 0, /* anything DuckDB will run read-only */
    QUERY_STMT_INSERT,     /* INSERT INTO target <query> */
    QUERY_STMT_CTAS,       /* CREATE TABLE target AS <query> */
} query_stmt_kind_t;

typedef struct {
    query_stmt_kind_t kind;
    const char *sql;      /* the rewritten SELECT (for INSERT/CTAS: its query) */
    size_t sql_len;
    query_ref_t target;   /* INSERT/CTAS */
    bool if_not_exists;   /* CTAS */
    size_t nrefs;         /* table references replaced */
} query_stmt_t;

typedef struct {
    const char *name, *type, *doc; /* doc may be NULL */
} query_col_t;

/* What rewrite asks of its caller. Each returns a query_err_t and fills
 * msg on failure; results in `a`. */
typedef struct {
    void *ctx;
    const char *catalog;  /* default bucket (already stripped of "s3tablescatalog/"), or NULL */
    const char *database; /* default namespace, or NULL */
    /* SQL text (a parenthesised subquery) that reads `ref`. */
    query_err_t (*expand)(void *ctx, arena_t *a, const query_ref_t *ref, const char **sql,
                          char *msg, size_t cap);
    /* Discovery: names (query_catalog_t.list) and a table's columns. */
    query_err_t (*list)(void *ctx, arena_t *a, query_list_t what, const char *bucket,
                        const char *ns, const char ***names, size_t *n, char *msg, size_t cap);
    query_err_t (*columns)(void *ctx, arena_t *a, const query_ref_t *ref, const query_col_t **cols,
                           size_t *n, char *msg, size_t cap);
} query_rewrite_ctx_t;

/* Rewrites one statement (a trailing ';' is allowed, a second statement is
 * QUERY_ERR_INVALID). Statements users may not run (COPY, ATTACH, INSTALL,
 * LOAD, SET, PRAGMA, DDL other than CTAS, DML other than INSERT) and file-
 * reading table functions or a file path in FROM are QUERY_ERR_FORBIDDEN:
 * the locked DuckDB instance is the boundary, this is the clear message.
 * Athena functions DuckDB lacks are renamed to kura's macros (exec.c). */
query_err_t query_rewrite(arena_t *a, const char *sql, size_t len, const query_rewrite_ctx_t *c,
                          query_stmt_t *out, char *msg, size_t cap);

/* Appends s as a SQL string literal / quoted identifier. */
void query_sql_str(buf_t *b, const char *s);
void query_sql_ident(buf_t *b, const char *s);

/* "s3tablescatalog/<bucket>" -> "<bucket>"; other names unchanged. */
const char *query_catalog_bucket(const char *catalog);

/* Sets msg (printf-style) and returns e. */
query_err_t query_fail(char *msg, size_t cap, query_err_t e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- resolution (resolve.c) ------------------------------------------- */

struct _duckdb_connection;

#include <pthread.h>

/* The scan subquery of current-snapshot reads, keyed by the table's
 * metadata location. A metadata file never changes once written, and the
 * files it names are immutable, so the scan planned from it never changes
 * either: a hit spares a query reading and parsing the metadata JSON, the
 * manifest list and the manifests (≈0.3 ms for a one-file table; more as
 * snapshots accumulate). The catalog lookup and the authorization check
 * still run on every query. Bounded: QUERY_SCAN_CACHE_ENTRIES entries of at
 * most QUERY_SCAN_CACHE_MAX_SQL bytes, least recently used evicted. */
#define QUERY_SCAN_CACHE_ENTRIES 64
#define QUERY_SCAN_CACHE_MAX_SQL ((size_t)256 << 10)

typedef struct {
    pthread_mutex_t mu;
    uint64_t tick;
    struct {
        char *key, *sql;
        uint64_t bytes; /* bytes_scanned the scan adds */
        uint64_t used;  /* tick of the last hit, 0 = free */
    } e[QUERY_SCAN_CACHE_ENTRIES];
} query_scan_cache_t;

void query_scan_cache_init(query_scan_cache_t *c);
void query_scan_cache_free(query_scan_cache_t *c);

/* What expand/list/columns need for one statement. */
typedef struct {
    const query_catalog_t *cat;
    const auth_caller_t *caller;
    struct _duckdb_connection *conn; /* evaluates FOR TIMESTAMP AS OF expressions */
    query_scan_cache_t *cache;       /* NULL: plan every scan */
    uint64_t bytes_scanned;          /* data + delete files handed to DuckDB */
} query_resolver_t;

/* Fills rc's callbacks over r (catalog/database left to the caller). */
void query_resolver_bind(query_rewrite_ctx_t *rc, query_resolver_t *r);

/* Looks a table up and parses its current metadata (*m NULL when the table
 * has none yet). */
query_err_t query_table_load(query_resolver_t *r, arena_t *a, const char *bucket, const char *ns,
                             const char *table, bool write, query_table_t *t, ice_metadata_t **m,
                             char *msg, size_t cap);

/* DuckDB type of an Iceberg type ("BIGINT", "MAP(VARCHAR, VARCHAR)"...). */
bool query_duck_type(buf_t *b, const ice_type_t *t);

/* ---- the service (exec.c) ------------------------------------------------ */

typedef struct query_athena query_athena_t;

/* One pooled user connection. The watchdog reads deadline/cancel and
 * interrupts; `why` says which fired (QUERY_ERR_TIMEOUT / _CANCELLED). */
typedef struct {
    struct _duckdb_connection *conn;
    bool busy;
    int64_t deadline_ms;
    volatile bool *cancel;
    query_err_t why;
} query_slot_t;

struct query {
    query_opts_t o;
    query_catalog_t cat;
    char *data_dir, *spool_dir, *region, *account_id, *memory_limit;
    void *db;        /* duckdb_database: user SQL, locked */
    void *wdb;       /* duckdb_database: kura's Parquet writer */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    query_slot_t *slots;
    size_t nslots;
    pthread_mutex_t wmu;                 /* the writer connection, one writer at a time */
    struct _duckdb_connection *wconn;
    pthread_t watchdog;
    bool stop;
    query_athena_t *athena;
    query_scan_cache_t scans;
};

query_athena_t *query_athena_new(query_t *q);
void query_athena_free(query_athena_t *at);

int64_t query_now_ms(void);

/* errors.c: the wire shapes. */
void query_http_error(http_req_t *r, query_err_t e, const char *msg);
void query_athena_error(http_req_t *r, query_err_t e, const char *msg);
const char *query_athena_type(query_err_t e);
int query_athena_category(query_err_t e);

/* format.c: rows as CSV (RFC 4180; NULL empty, "" for an empty string) and
 * JSON text. */
/* Is s, whole, a JSON number (RFC 8259 grammar)? */
bool query_json_number_ok(const char *s);
void query_csv_row(buf_t *b, size_t n, const char *const *v);
void query_json_str(buf_t *b, const char *s);
bool query_type_is_number(const char *duck_type);

#endif
