/* query/athena.c: the Athena API subset, JSON 1.1 over X-Amz-Target
 * "AmazonAthena.<Operation>" (issue 8 "Athena API"; NOTES 22). Member
 * names follow botocore's athena 2017-05-18 model.
 *
 * Execution states and the function behind each transition:
 *   QUEUED    StartQueryExecution (op_start) after the statement parsed
 *   RUNNING   a worker took it (worker_main)
 *   SUCCEEDED worker_main: query_run returned QUERY_OK (rows kept in memory,
 *             CSV written to OutputLocation when the catalog can put objects)
 *   FAILED    worker_main: query_run failed (AthenaError category 2 for user
 *             errors)
 *   CANCELLED StopQueryExecution: at once when QUEUED; when RUNNING the
 *             cancel flag makes the watchdog interrupt DuckDB.
 * Executions live in memory (lost on restart, as kura keeps no query
 * history on disk); the oldest finished ones are dropped beyond
 * ATHENA_MAX_EXECUTIONS. */
#include "query/query_int.h"
#include "util/log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ATHENA_MAX_EXECUTIONS 1000
#define ATHENA_MAX_QUEUED 256
#define ATHENA_PAGE_MAX 1000

typedef enum { ST_QUEUED, ST_RUNNING, ST_SUCCEEDED, ST_FAILED, ST_CANCELLED } st_t;
static const char *const st_names[] = {"QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"};

typedef struct exec {
    struct exec *next; /* newest first */
    char id[37];
    char *sql, *catalog, *database, *workgroup, *token, *output;
    auth_caller_t caller; /* strings owned; identity_policy not kept (see query_athena) */
    char *c_account, *c_user, *c_arn;
    st_t st;
    volatile bool cancel;
    query_err_t err;
    char msg[512];
    double submitted, started, completed; /* epoch seconds */
    uint64_t bytes_scanned;
    int64_t exec_ms;
    bool is_write;
    /* results: ncols names/types + rows of ncols strings (NULL = null) */
    size_t ncols;
    char **names, **types;
    char ***rows;
    size_t nrows, caprows, bytes;
    size_t max_bytes; /* query_opts_t.max_result_bytes */
    bool too_large;
} exec_t;

/* The catalog setting that holds primary's default OutputLocation. */
#define WG_OUTPUT_SETTING "athena.workgroup.primary.output_location"

struct query_athena {
    query_t *q;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    exec_t *list;
    size_t count;
    char *wg_output; /* primary's ResultConfiguration.OutputLocation (UpdateWorkGroup), or NULL */
    pthread_t *workers;
    size_t nworkers;
    bool stop;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void exec_free(exec_t *e)
{
    free(e->sql);
    free(e->catalog);
    free(e->database);
    free(e->workgroup);
    free(e->token);
    free(e->output);
    free(e->c_account);
    free(e->c_user);
    free(e->c_arn);
    for (size_t i = 0; i < e->ncols; i++) {
        free(e->names ? e->names[i] : NULL);
        free(e->types ? e->types[i] : NULL);
    }
    free(e->names);
    free(e->types);
    for (size_t r = 0; r < e->nrows; r++) {
        for (size_t i = 0; i < e->ncols; i++)
            free(e->rows[r][i]);
        free(e->rows[r]);
    }
    free(e->rows);
    free(e);
}

static char *sdup(const char *s) { return s ? strdup(s) : NULL; }

/* ---- the worker ------------------------------------------------------------ */

static bool a_header(void *ctx, size_t n, const char *const *names, const char *const *types)
{
    exec_t *e = ctx;
    e->names = calloc(n + 1, sizeof *e->names);
    e->types = calloc(n + 1, sizeof *e->types);
    if (!e->names || !e->types)
        return false;
    e->ncols = n;
    for (size_t i = 0; i < n; i++) {
        e->names[i] = strdup(names[i]);
        e->types[i] = strdup(types[i]);
    }
    return true;
}

static bool a_row(void *ctx, size_t n, const char *const *v)
{
    exec_t *e = ctx;
    if (e->bytes > e->max_bytes) {
        e->too_large = true;
        return false;
    }
    if (e->nrows == e->caprows) {
        size_t nc = e->caprows ? e->caprows * 2 : 1024;
        char ***g = realloc(e->rows, nc * sizeof *g);
        if (!g)
            return false;
        e->rows = g;
        e->caprows = nc;
    }
    char **row = calloc(n + 1, sizeof *row);
    if (!row)
        return false;
    for (size_t i = 0; i < n; i++) {
        row[i] = v[i] ? strdup(v[i]) : NULL;
        e->bytes += v[i] ? strlen(v[i]) + 16 : 8;
    }
    e->rows[e->nrows++] = row;
    return true;
}

/* s3://bucket/prefix/ + <id>.csv (+ .csv.metadata), as Athena names them,
 * stored as the caller's PutObject would be (query_catalog_t.put_object
 * checks s3:PutObject). As on Athena, a result that cannot be written fails
 * the query. Returns QUERY_OK or the error with msg set. */
static query_err_t write_output(query_athena_t *at, exec_t *e, char *msg, size_t cap)
{
    query_t *q = at->q;
    if (!q->cat.put_object || !e->output)
        return QUERY_OK;
    if (strncmp(e->output, "s3://", 5) != 0)
        return query_fail(msg, cap, QUERY_ERR_INVALID, "OutputLocation %s is not an s3:// URI",
                          e->output);
    const char *bp = e->output + 5, *slash = strchr(bp, '/');
    char bucket[256], key[2048];
    size_t bl = slash ? (size_t)(slash - bp) : strlen(bp);
    if (bl == 0 || bl >= sizeof bucket)
        return query_fail(msg, cap, QUERY_ERR_INVALID, "OutputLocation names no bucket");
    memcpy(bucket, bp, bl);
    bucket[bl] = '\0';
    const char *prefix = slash ? slash + 1 : "";
    size_t pl = strlen(prefix);
    int kn = snprintf(key, sizeof key, "%s%s%s.csv", prefix,
                      pl && prefix[pl - 1] != '/' ? "/" : "", e->id);
    /* Room for ".metadata" too; S3 keys are at most 1024 bytes. */
    if (kn < 0 || (size_t)kn + 9 > 1024)
        return query_fail(msg, cap, QUERY_ERR_INVALID, "OutputLocation is too long");
    buf_t b;
    buf_init(&b, e->max_bytes * 2 + 4096); /* quoting at most doubles a value */
    if (!e->is_write || e->ncols) {
        query_csv_row(&b, e->ncols, (const char *const *)e->names);
        for (size_t r = 0; r < e->nrows; r++)
            query_csv_row(&b, e->ncols, (const char *const *)e->rows[r]);
    }
    int rc = !buf_ok(&b) ? QUERY_ERR_TOO_LARGE
                         : q->cat.put_object(q->cat.ctx, &e->caller, bucket, key,
                                             b.data ? b.data : "", b.len);
    if (rc == QUERY_OK) {
        /* Athena's .metadata is a binary protobuf of the column info; kura
         * writes the column names and types as JSON lines instead. */
        buf_reset(&b);
        for (size_t i = 0; i < e->ncols; i++) {
            buf_puts(&b, "{\"name\":");
            query_json_str(&b, e->names[i]);
            buf_puts(&b, ",\"type\":");
            query_json_str(&b, e->types[i]);
            buf_puts(&b, "}\n");
        }
        memcpy(key + kn, ".metadata", 10);
        rc = !buf_ok(&b) ? QUERY_ERR_TOO_LARGE
                         : q->cat.put_object(q->cat.ctx, &e->caller, bucket, key,
                                             b.data ? b.data : "", b.len);
    }
    buf_release(&b);
    if (rc == QUERY_OK)
        return QUERY_OK;
    return query_fail(msg, cap, (query_err_t)rc, "cannot write the result to %s: %s",
                      e->output,
                      rc == QUERY_ERR_FORBIDDEN  ? "Access Denied (s3:PutObject)"
                      : rc == QUERY_ERR_NO_TABLE ? "the bucket does not exist"
                                                 : query_err_code((query_err_t)rc));
}

static void *worker_main(void *arg)
{
    query_athena_t *at = arg;
    pthread_mutex_lock(&at->mu);
    while (!at->stop) {
        exec_t *pick = NULL;
        for (exec_t *e = at->list; e; e = e->next)
            if (e->st == ST_QUEUED)
                pick = e; /* oldest queued: the list is newest first */
        if (!pick) {
            pthread_cond_wait(&at->cv, &at->mu);
            continue;
        }
        pick->st = ST_RUNNING;
        pick->started = now_s();
        pthread_mutex_unlock(&at->mu);

        query_ctx_t c = {.catalog = pick->catalog, .database = pick->database,
                         .caller = &pick->caller, .cancel = &pick->cancel};
        query_sink_t sink = {pick, a_header, a_row};
        query_result_t res;
        query_run(at->q, &c, pick->sql, strlen(pick->sql), &sink, &res);
        if (res.err == QUERY_OK && !pick->too_large)
            res.err = write_output(at, pick, res.msg, sizeof res.msg);

        pthread_mutex_lock(&at->mu);
        if (pick->too_large)
            res.err = query_fail(res.msg, sizeof res.msg, QUERY_ERR_TOO_LARGE,
                                 "the result is larger than kura keeps (%zu bytes)",
                                 pick->max_bytes);
        pick->err = res.err;
        snprintf(pick->msg, sizeof pick->msg, "%s", res.msg);
        pick->bytes_scanned = res.bytes_scanned;
        pick->exec_ms = res.exec_ms;
        pick->is_write = res.is_write;
        pick->completed = now_s();
        pick->st = res.err == QUERY_OK              ? ST_SUCCEEDED
                   : res.err == QUERY_ERR_CANCELLED ? ST_CANCELLED
                                                    : ST_FAILED;
    }
    pthread_mutex_unlock(&at->mu);
    return NULL;
}

query_athena_t *query_athena_new(query_t *q)
{
    query_athena_t *at = calloc(1, sizeof *at);
    if (!at)
        return NULL;
    at->q = q;
    if (q->cat.setting_get) {
        arena_t *a = arena_new(0);
        char *v = NULL;
        if (a && q->cat.setting_get(q->cat.ctx, a, WG_OUTPUT_SETTING, &v) == QUERY_OK && v)
            at->wg_output = strdup(v);
        arena_free(a);
    }
    pthread_mutex_init(&at->mu, NULL);
    pthread_cond_init(&at->cv, NULL);
    at->workers = calloc(q->o.athena_workers, sizeof *at->workers);
    if (!at->workers) {
        free(at);
        return NULL;
    }
    for (size_t i = 0; i < q->o.athena_workers; i++) {
        if (pthread_create(&at->workers[i], NULL, worker_main, at) != 0)
            break;
        at->nworkers++;
    }
    return at;
}

void query_athena_free(query_athena_t *at)
{
    if (!at)
        return;
    pthread_mutex_lock(&at->mu);
    at->stop = true;
    for (exec_t *e = at->list; e; e = e->next)
        e->cancel = true;
    pthread_cond_broadcast(&at->cv);
    pthread_mutex_unlock(&at->mu);
    for (size_t i = 0; i < at->nworkers; i++)
        pthread_join(at->workers[i], NULL);
    for (exec_t *e = at->list, *n; e; e = n) {
        n = e->next;
        exec_free(e);
    }
    free(at->workers);
    free(at->wg_output);
    pthread_mutex_destroy(&at->mu);
    pthread_cond_destroy(&at->cv);
    free(at);
}

/* ---- responses ------------------------------------------------------------ */

static void reply(http_req_t *r, json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    buf_reset(&r->out);
    if (!s) {
        query_athena_error(r, QUERY_ERR_INTERNAL, "out of memory");
    } else {
        r->status = 200;
        http_set_header(r, "Content-Type", "application/x-amz-json-1.1");
        buf_puts(&r->out, s);
    }
    free(s);
    json_decref(j);
}

static exec_t *find_exec(query_athena_t *at, const char *id)
{
    for (exec_t *e = at->list; id && e; e = e->next)
        if (strcmp(e->id, id) == 0)
            return e;
    return NULL;
}

/* The QueryExecution structure; at->mu held. */
static json_t *exec_json(query_athena_t *at, const exec_t *e)
{
    json_t *st = json_pack("{s:s,s:f}", "State", st_names[e->st], "SubmissionDateTime", e->submitted);
    if (e->completed > 0)
        json_object_set_new(st, "CompletionDateTime", json_real(e->completed));
    if (e->st == ST_FAILED || e->st == ST_CANCELLED) {
        json_object_set_new(st, "StateChangeReason", json_string(e->msg));
        json_object_set_new(st, "AthenaError",
                            json_pack("{s:i,s:i,s:b,s:s}", "ErrorCategory",
                                      query_athena_category(e->err), "ErrorType",
                                      (int)(1000 + e->err), "Retryable", 0, "ErrorMessage",
                                      e->msg));
    }
    json_t *stats = json_pack("{s:I,s:I,s:I,s:I}", "EngineExecutionTimeInMillis",
                              (json_int_t)e->exec_ms, "DataScannedInBytes",
                              (json_int_t)e->bytes_scanned, "TotalExecutionTimeInMillis",
                              (json_int_t)(e->completed > 0 ? (e->completed - e->submitted) * 1000
                                                            : 0),
                              "QueryQueueTimeInMillis",
                              (json_int_t)(e->started > 0 ? (e->started - e->submitted) * 1000 : 0));
    json_t *ctx = json_object();
    if (e->catalog)
        json_object_set_new(ctx, "Catalog", json_string(e->catalog));
    if (e->database)
        json_object_set_new(ctx, "Database", json_string(e->database));
    json_t *rc = json_object();
    if (e->output) {
        char loc[2300];
        size_t l = strlen(e->output);
        snprintf(loc, sizeof loc, "%s%s%s.csv", e->output, l && e->output[l - 1] != '/' ? "/" : "",
                 e->id);
        json_object_set_new(rc, "OutputLocation", json_string(loc));
    }
    (void)at;
    return json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:s,s:{s:s}}", "QueryExecutionId", e->id,
                     "Query", e->sql, "StatementType", e->is_write ? "DML" : "DML",
                     "ResultConfiguration", rc, "QueryExecutionContext", ctx, "Status", st,
                     "Statistics", stats, "WorkGroup", e->workgroup ? e->workgroup : "primary",
                     "EngineVersion", "SelectedEngineVersion", "kura-duckdb");
}

/* Athena's type names for ColumnInfo.Type. */
static const char *athena_type(const char *duck)
{
    static const struct {
        const char *d, *a;
    } m[] = {{"BOOLEAN", "boolean"}, {"TINYINT", "tinyint"},   {"SMALLINT", "smallint"},
             {"INTEGER", "integer"}, {"BIGINT", "bigint"},     {"HUGEINT", "decimal"},
             {"FLOAT", "float"},     {"DOUBLE", "double"},     {"DECIMAL", "decimal"},
             {"DATE", "date"},       {"TIME", "time"},         {"TIMESTAMP", "timestamp"},
             {"TIMESTAMPTZ", "timestamp with time zone"},      {"VARCHAR", "varchar"},
             {"BLOB", "varbinary"},  {"UUID", "uuid"},         {"LIST", "array"},
             {"MAP", "map"},         {"STRUCT", "row"},        {"INTERVAL", "interval day to second"}};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (strcmp(m[i].d, duck) == 0)
            return m[i].a;
    return "varchar";
}

static json_t *row_json(size_t n, char *const *v)
{
    json_t *data = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(data, v[i] ? json_pack("{s:s}", "VarCharValue", v[i]) : json_object());
    return json_pack("{s:o}", "Data", data);
}

/* ---- operations ------------------------------------------------------------- */

static void op_start(query_athena_t *at, http_req_t *r, const auth_caller_t *caller, json_t *in)
{
    const char *sql = json_string_value(json_object_get(in, "QueryString"));
    json_t *ctx = json_object_get(in, "QueryExecutionContext");
    const char *token = json_string_value(json_object_get(in, "ClientRequestToken"));
    const char *wg = json_string_value(json_object_get(in, "WorkGroup"));
    const char *out = json_string_value(
        json_object_get(json_object_get(in, "ResultConfiguration"), "OutputLocation"));
    char msg[512] = "";

    if (!sql || !*sql) {
        query_athena_error(r, QUERY_ERR_INVALID, "QueryString is required");
        return;
    }
    if (wg && strcmp(wg, "primary") != 0) {
        query_athena_error(r, QUERY_ERR_NO_EXECUTION, "WorkGroup is not found.");
        return;
    }
    pthread_mutex_lock(&at->mu);
    for (exec_t *e = at->list; token && e; e = e->next)
        if (e->token && strcmp(e->token, token) == 0) {
            /* Idempotent retry: the same token gives the same execution. */
            json_t *j = json_pack("{s:s}", "QueryExecutionId", e->id);
            pthread_mutex_unlock(&at->mu);
            reply(r, j);
            return;
        }
    pthread_mutex_unlock(&at->mu);
    query_err_t pe = query_check_syntax(at->q, sql, strlen(sql), msg, sizeof msg);
    if (pe != QUERY_OK) {
        query_athena_error(r, pe == QUERY_ERR_SYNTAX ? QUERY_ERR_INVALID : pe, msg);
        return;
    }
    exec_t *e = calloc(1, sizeof *e);
    if (!e) {
        query_athena_error(r, QUERY_ERR_INTERNAL, "out of memory");
        return;
    }
    ice_uuid_new(e->id);
    e->sql = strdup(sql);
    e->catalog = sdup(json_string_value(json_object_get(ctx, "Catalog")));
    e->database = sdup(json_string_value(json_object_get(ctx, "Database")));
    e->workgroup = sdup(wg ? wg : "primary");
    e->token = sdup(token);
    pthread_mutex_lock(&at->mu);
    e->output = sdup(out ? out : at->wg_output); /* the workgroup's default */
    pthread_mutex_unlock(&at->mu);
    if (caller) {
        e->caller = *caller;
        e->c_account = sdup(caller->account_id);
        e->c_user = sdup(caller->user);
        e->c_arn = sdup(caller->principal_arn);
        e->caller.account_id = e->c_account;
        e->caller.user = e->c_user;
        e->caller.principal_arn = e->c_arn;
        /* The request's policy dies with the request: a user's queries run
         * with no identity policy (only resource policies apply) until the
         * auth room can hand out a counted reference. */
        e->caller.identity_policy = NULL;
    } else {
        e->caller.root = true;
    }
    e->submitted = now_s();
    e->max_bytes = at->q->o.max_result_bytes;
    e->st = ST_QUEUED;
    pthread_mutex_lock(&at->mu);
    size_t queued = 0;
    for (exec_t *x = at->list; x; x = x->next)
        queued += x->st == ST_QUEUED;
    if (queued >= ATHENA_MAX_QUEUED) {
        pthread_mutex_unlock(&at->mu);
        exec_free(e);
        query_athena_error(r, QUERY_ERR_BUSY, "too many queued queries");
        return;
    }
    e->next = at->list;
    at->list = e;
    at->count++;
    /* Drop the oldest finished executions beyond the cap. */
    if (at->count > ATHENA_MAX_EXECUTIONS) {
        exec_t **pp = &at->list;
        size_t k = 0;
        while (*pp) {
            exec_t *x = *pp;
            if (++k > ATHENA_MAX_EXECUTIONS && x->st != ST_QUEUED && x->st != ST_RUNNING) {
                *pp = x->next;
                exec_free(x);
                at->count--;
            } else {
                pp = &x->next;
            }
        }
    }
    json_t *j = json_pack("{s:s}", "QueryExecutionId", e->id);
    pthread_cond_broadcast(&at->cv);
    pthread_mutex_unlock(&at->mu);
    reply(r, j);
}

static void op_get(query_athena_t *at, http_req_t *r, json_t *in)
{
    pthread_mutex_lock(&at->mu);
    exec_t *e = find_exec(at, json_string_value(json_object_get(in, "QueryExecutionId")));
    json_t *j = e ? json_pack("{s:o}", "QueryExecution", exec_json(at, e)) : NULL;
    pthread_mutex_unlock(&at->mu);
    if (!e)
        query_athena_error(r, QUERY_ERR_NO_EXECUTION, "QueryExecution was not found");
    else
        reply(r, j);
}

static void op_results(query_athena_t *at, http_req_t *r, json_t *in)
{
    json_int_t max = json_integer_value(json_object_get(in, "MaxResults"));
    const char *tok = json_string_value(json_object_get(in, "NextToken"));
    if (max <= 0 || max > ATHENA_PAGE_MAX)
        max = ATHENA_PAGE_MAX;
    pthread_mutex_lock(&at->mu);
    exec_t *e = find_exec(at, json_string_value(json_object_get(in, "QueryExecutionId")));
    if (!e || e->st != ST_SUCCEEDED) {
        char m[160];
        snprintf(m, sizeof m, e ? "Query has not yet finished. Current state: %s"
                                : "QueryExecution was not found",
                 e ? st_names[e->st] : "");
        pthread_mutex_unlock(&at->mu);
        query_athena_error(r, QUERY_ERR_NO_EXECUTION, m);
        return;
    }
    /* Row positions count the header row as 0, as Athena's pages do. */
    unsigned long long pos = 0;
    if (tok) {
        char *end = NULL;
        pos = strtoull(tok, &end, 10);
        if (!end || *end || pos > e->nrows + 1) {
            pthread_mutex_unlock(&at->mu);
            query_athena_error(r, QUERY_ERR_INVALID, "NextToken is not valid");
            return;
        }
    }
    json_t *rows = json_array(), *cols = json_array();
    for (size_t i = 0; i < e->ncols; i++)
        json_array_append_new(
            cols, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:s,s:b}", "CatalogName", "hive",
                            "SchemaName", "", "TableName", "", "Name", e->names[i], "Label",
                            e->names[i], "Type", athena_type(e->types[i]), "Precision", 0, "Scale",
                            0, "Nullable", "UNKNOWN", "CaseSensitive",
                            strcmp(e->types[i], "VARCHAR") == 0));
    unsigned long long total = e->is_write ? 0 : e->nrows + 1, p = pos;
    for (; p < total && (json_int_t)(p - pos) < max; p++)
        json_array_append_new(rows, p == 0 ? row_json(e->ncols, e->names)
                                           : row_json(e->ncols, e->rows[p - 1]));
    json_t *j = json_pack("{s:I,s:{s:o,s:{s:o}}}", "UpdateCount",
                          (json_int_t)(e->is_write ? (e->nrows ? 0 : 0) : 0), "ResultSet", "Rows",
                          rows, "ResultSetMetadata", "ColumnInfo", cols);
    if (p < total) {
        char nt[32];
        snprintf(nt, sizeof nt, "%llu", p);
        json_object_set_new(j, "NextToken", json_string(nt));
    }
    pthread_mutex_unlock(&at->mu);
    reply(r, j);
}

static void op_stop(query_athena_t *at, http_req_t *r, json_t *in)
{
    pthread_mutex_lock(&at->mu);
    exec_t *e = find_exec(at, json_string_value(json_object_get(in, "QueryExecutionId")));
    if (e && e->st == ST_QUEUED) {
        e->st = ST_CANCELLED;
        e->err = QUERY_ERR_CANCELLED;
        snprintf(e->msg, sizeof e->msg, "Query was cancelled by the user");
        e->completed = now_s();
    } else if (e && e->st == ST_RUNNING) {
        e->cancel = true; /* the watchdog interrupts DuckDB */
    }
    pthread_mutex_unlock(&at->mu);
    if (!e)
        query_athena_error(r, QUERY_ERR_NO_EXECUTION, "QueryExecution was not found");
    else
        reply(r, json_object());
}

static void op_list(query_athena_t *at, http_req_t *r, json_t *in)
{
    json_int_t max = json_integer_value(json_object_get(in, "MaxResults"));
    const char *tok = json_string_value(json_object_get(in, "NextToken"));
    size_t skip = tok ? strtoul(tok, NULL, 10) : 0, k = 0;
    if (max <= 0 || max > 50)
        max = 50;
    json_t *ids = json_array();
    pthread_mutex_lock(&at->mu);
    exec_t *e = at->list;
    for (; e; e = e->next, k++) {
        if (k < skip)
            continue;
        if ((json_int_t)(k - skip) >= max)
            break;
        json_array_append_new(ids, json_string(e->id));
    }
    json_t *j = json_pack("{s:o}", "QueryExecutionIds", ids);
    if (e) {
        char nt[32];
        snprintf(nt, sizeof nt, "%zu", k);
        json_object_set_new(j, "NextToken", json_string(nt));
    }
    pthread_mutex_unlock(&at->mu);
    reply(r, j);
}

static void op_batch(query_athena_t *at, http_req_t *r, json_t *in)
{
    json_t *ids = json_object_get(in, "QueryExecutionIds"), *v;
    json_t *ok = json_array(), *bad = json_array();
    size_t i;
    pthread_mutex_lock(&at->mu);
    json_array_foreach(ids, i, v)
    {
        exec_t *e = find_exec(at, json_string_value(v));
        if (e)
            json_array_append_new(ok, exec_json(at, e));
        else
            json_array_append_new(bad, json_pack("{s:s?,s:s,s:s}", "QueryExecutionId",
                                                 json_string_value(v), "ErrorCode",
                                                 "InvalidRequestException", "ErrorMessage",
                                                 "QueryExecution was not found"));
    }
    pthread_mutex_unlock(&at->mu);
    reply(r, json_pack("{s:o,s:o}", "QueryExecutions", ok, "UnprocessedQueryExecutionIds", bad));
}

/* at->mu held. */
static json_t *workgroup_json(const query_athena_t *at)
{
    json_t *rc = json_object();
    if (at->wg_output)
        json_object_set_new(rc, "OutputLocation", json_string(at->wg_output));
    return json_pack("{s:s,s:s,s:s,s:{s:o,s:b,s:b,s:{s:s,s:s}}}", "Name", "primary", "State",
                     "ENABLED", "Description", "kura's only workgroup", "Configuration",
                     "ResultConfiguration", rc, "EnforceWorkGroupConfiguration", 0,
                     "PublishCloudWatchMetricsEnabled", 0, "EngineVersion",
                     "SelectedEngineVersion", "kura-duckdb", "EffectiveEngineVersion",
                     "kura-duckdb");
}

/* UpdateWorkGroup: only primary's default OutputLocation
 * (ConfigurationUpdates.ResultConfigurationUpdates.OutputLocation /
 * RemoveOutputLocation), stored through the catalog so it outlives a
 * restart (the executions do not). Root only: the setting applies to every
 * caller's queries. */
static void op_update_wg(query_athena_t *at, http_req_t *r, const auth_caller_t *caller,
                         json_t *in)
{
    const char *wg = json_string_value(json_object_get(in, "WorkGroup"));
    json_t *u = json_object_get(json_object_get(in, "ConfigurationUpdates"),
                                "ResultConfigurationUpdates");
    const char *loc = json_string_value(json_object_get(u, "OutputLocation"));
    bool remove = json_is_true(json_object_get(u, "RemoveOutputLocation"));
    if (!wg || strcmp(wg, "primary") != 0) {
        query_athena_error(r, QUERY_ERR_NO_EXECUTION, "WorkGroup is not found.");
        return;
    }
    if (caller && !caller->root) {
        query_athena_error(r, QUERY_ERR_FORBIDDEN, "only the root credentials may update the "
                                                   "workgroup");
        return;
    }
    if (loc && (strncmp(loc, "s3://", 5) != 0 || strlen(loc) > 1024 || loc[5] == '/' || !loc[5])) {
        query_athena_error(r, QUERY_ERR_INVALID, "OutputLocation must be an s3:// URI");
        return;
    }
    char *nv = loc ? strdup(loc) : NULL;
    if (loc && !nv) {
        query_athena_error(r, QUERY_ERR_INTERNAL, "out of memory");
        return;
    }
    pthread_mutex_lock(&at->mu);
    if (loc || remove) {
        const query_catalog_t *cat = &at->q->cat;
        if (cat->setting_put && cat->setting_put(cat->ctx, WG_OUTPUT_SETTING, nv) != QUERY_OK) {
            pthread_mutex_unlock(&at->mu);
            free(nv);
            query_athena_error(r, QUERY_ERR_INTERNAL, "the workgroup setting was not saved");
            return;
        }
        free(at->wg_output);
        at->wg_output = nv;
    } else {
        free(nv);
    }
    pthread_mutex_unlock(&at->mu);
    reply(r, json_object());
}

/* Discovery through query_run itself, so the catalog's policies apply. */
typedef struct {
    json_t *arr;
    int kind; /* 0 names, 1 columns (col_name, data_type, comment) */
} list_sink_t;

static bool l_row(void *ctx, size_t n, const char *const *v)
{
    list_sink_t *l = ctx;
    if (l->kind == 0 && n >= 1 && v[0])
        json_array_append_new(l->arr, json_string(v[0]));
    else if (l->kind == 1 && n >= 2 && v[0])
        json_array_append_new(l->arr, json_pack("{s:s,s:s}", "Name", v[0], "Type", v[1] ? v[1] : ""));
    return true;
}

static query_err_t discover(query_athena_t *at, const auth_caller_t *caller, const char *catalog,
                            const char *sql, int kind, json_t **out, char *msg, size_t cap)
{
    list_sink_t l = {json_array(), kind};
    query_sink_t s = {&l, NULL, l_row};
    query_ctx_t c = {.catalog = catalog, .caller = caller};
    query_result_t res;
    query_run(at->q, &c, sql, strlen(sql), &s, &res);
    if (res.err != QUERY_OK) {
        json_decref(l.arr);
        snprintf(msg, cap, "%s", res.msg);
        return res.err;
    }
    *out = l.arr;
    return QUERY_OK;
}

static char *quoted(const char *s)
{
    buf_t b;
    buf_init(&b, 4096);
    query_sql_ident(&b, s);
    return buf_detach(&b, NULL);
}

static void op_catalog_ops(query_athena_t *at, http_req_t *r, const auth_caller_t *caller,
                           const char *op, json_t *in)
{
    const char *cat = json_string_value(json_object_get(in, "CatalogName"));
    const char *db = json_string_value(json_object_get(in, "DatabaseName"));
    const char *tn = json_string_value(json_object_get(in, "TableName"));
    if (!cat)
        cat = json_string_value(json_object_get(in, "Name"));
    char msg[512] = "", *sql = NULL;
    json_t *arr = NULL;
    query_err_t e = QUERY_OK;

    if (!strcmp(op, "ListDataCatalogs")) {
        e = discover(at, caller, NULL, "SHOW CATALOGS", 0, &arr, msg, sizeof msg);
        if (e == QUERY_OK) {
            json_t *list = json_array(), *v;
            size_t i;
            json_array_foreach(arr, i, v) json_array_append_new(
                list, json_pack("{s:O,s:s}", "CatalogName", v, "Type", "GLUE"));
            json_decref(arr);
            reply(r, json_pack("{s:o}", "DataCatalogsSummary", list));
            return;
        }
    } else if (!cat) {
        e = query_fail(msg, sizeof msg, QUERY_ERR_INVALID, "CatalogName is required");
    } else if (!strcmp(op, "GetDataCatalog")) {
        reply(r, json_pack("{s:{s:s,s:s,s:s,s:{}}}", "DataCatalog", "Name", cat, "Type", "GLUE",
                           "Description", "S3 Tables table bucket", "Parameters"));
        return;
    } else if (!strcmp(op, "ListDatabases")) {
        char *q = quoted(cat);
        sql = q ? arena_printf(r->arena, "SHOW DATABASES IN %s", q) : NULL;
        free(q);
        e = sql ? discover(at, caller, NULL, sql, 0, &arr, msg, sizeof msg) : QUERY_ERR_INTERNAL;
        if (e == QUERY_OK) {
            json_t *list = json_array(), *v;
            size_t i;
            json_array_foreach(arr, i, v) json_array_append_new(list, json_pack("{s:O}", "Name", v));
            json_decref(arr);
            reply(r, json_pack("{s:o}", "DatabaseList", list));
            return;
        }
    } else if (!db) {
        e = query_fail(msg, sizeof msg, QUERY_ERR_INVALID, "DatabaseName is required");
    } else {
        char *qc = quoted(cat), *qd = quoted(db);
        json_t *names = NULL;
        if (!strcmp(op, "GetTableMetadata")) {
            names = json_array();
            if (tn)
                json_array_append_new(names, json_string(tn));
            else
                e = query_fail(msg, sizeof msg, QUERY_ERR_INVALID, "TableName is required");
        } else {
            sql = arena_printf(r->arena, "SHOW TABLES IN %s.%s", qc, qd);
            e = discover(at, caller, NULL, sql, 0, &names, msg, sizeof msg);
        }
        json_t *list = json_array(), *v;
        size_t i;
        if (e == QUERY_OK)
            json_array_foreach(names, i, v)
            {
                char *qt = quoted(json_string_value(v));
                json_t *cols = NULL;
                sql = arena_printf(r->arena, "DESCRIBE %s.%s.%s", qc, qd, qt);
                free(qt);
                if ((e = discover(at, caller, NULL, sql, 1, &cols, msg, sizeof msg)) != QUERY_OK)
                    break;
                json_array_append_new(list, json_pack("{s:O,s:s,s:o,s:[],s:{s:s}}", "Name", v,
                                                      "TableType", "EXTERNAL_TABLE", "Columns",
                                                      cols, "PartitionKeys", "Parameters",
                                                      "table_type", "ICEBERG"));
            }
        free(qc);
        free(qd);
        json_decref(names);
        if (e == QUERY_OK) {
            if (!strcmp(op, "GetTableMetadata")) {
                json_t *one = json_incref(json_array_get(list, 0));
                json_decref(list);
                reply(r, json_pack("{s:o}", "TableMetadata", one));
            } else {
                reply(r, json_pack("{s:o}", "TableMetadataList", list));
            }
            return;
        }
        json_decref(list);
    }
    if (e == QUERY_ERR_NO_TABLE)
        e = QUERY_ERR_NO_EXECUTION; /* MetadataException in Athena; 400 either way */
    query_athena_error(r, e, msg);
}

void query_athena(query_t *q, http_req_t *r, const auth_caller_t *caller, const char *target,
                  const char *body, size_t len)
{
    query_athena_t *at = q->athena;
    const char *op = target && !strncmp(target, "AmazonAthena.", 13) ? target + 13 : "";
    json_error_t je;
    json_t *in = json_loadb(len ? body : "{}", len ? len : 2, 0, &je);

    r->svc = "athena";
    r->op = arena_strdup(r->arena, op);
    if (!json_is_object(in)) {
        json_decref(in);
        query_athena_error(r, QUERY_ERR_INVALID, "the request body is not a JSON object");
        return;
    }
    if (!strcmp(op, "StartQueryExecution"))
        op_start(at, r, caller, in);
    else if (!strcmp(op, "GetQueryExecution"))
        op_get(at, r, in);
    else if (!strcmp(op, "GetQueryResults"))
        op_results(at, r, in);
    else if (!strcmp(op, "StopQueryExecution"))
        op_stop(at, r, in);
    else if (!strcmp(op, "ListQueryExecutions"))
        op_list(at, r, in);
    else if (!strcmp(op, "BatchGetQueryExecution"))
        op_batch(at, r, in);
    else if (!strcmp(op, "GetWorkGroup")) {
        const char *wg = json_string_value(json_object_get(in, "WorkGroup"));
        if (wg && strcmp(wg, "primary") == 0) {
            pthread_mutex_lock(&at->mu);
            json_t *j = json_pack("{s:o}", "WorkGroup", workgroup_json(at));
            pthread_mutex_unlock(&at->mu);
            reply(r, j);
        } else
            query_athena_error(r, QUERY_ERR_NO_EXECUTION, "WorkGroup is not found.");
    } else if (!strcmp(op, "UpdateWorkGroup"))
        op_update_wg(at, r, caller, in);
    else if (!strcmp(op, "ListWorkGroups"))
        reply(r, json_pack("{s:[{s:s,s:s,s:s}]}", "WorkGroups", "Name", "primary", "State",
                           "ENABLED", "Description", "kura's only workgroup"));
    else if (!strcmp(op, "ListDataCatalogs") || !strcmp(op, "GetDataCatalog") ||
             !strcmp(op, "ListDatabases") || !strcmp(op, "ListTableMetadata") ||
             !strcmp(op, "GetTableMetadata"))
        op_catalog_ops(at, r, caller, op, in);
    else
        query_athena_error(r, QUERY_ERR_UNKNOWN_OP, "The operation is not supported by kura.");
    json_decref(in);
}
