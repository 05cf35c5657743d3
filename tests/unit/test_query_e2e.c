/* tests/unit/test_query_e2e.c: the SQL core end to end over real Iceberg
 * tables in a local directory, through the catalog seam (no server): name
 * resolution, exact file lists, time travel, discovery, INSERT/CTAS
 * commits, the locked instance, timeouts. Links kura_core (no room is
 * called query_e2e). */
#include "check.h"
#include "query/query.h"
#include "query/text.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- a catalog over a directory ------------------------------------------ */

typedef struct {
    char bucket[64], ns[64], name[64];
    char meta[512];   /* current metadata location, "" = none */
    unsigned version; /* the version token */
    bool managed;
    bool deny; /* the caller may not read it (a policy changed) */
} tbl_t;

typedef struct {
    char root[256];
    arena_t *a; /* io lives here */
    ice_io_t *io;
    tbl_t t[16];
    size_t n;
} cat_t;

static tbl_t *find(cat_t *c, const char *b, const char *ns, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->t[i].bucket, b) && !strcmp(c->t[i].ns, ns) && !strcmp(c->t[i].name, name))
            return &c->t[i];
    return NULL;
}

static void fill(cat_t *c, arena_t *a, tbl_t *t, query_table_t *out)
{
    out->metadata_location = t->meta[0] ? arena_strdup(a, t->meta) : NULL;
    out->version_token = arena_printf(a, "%u", t->version);
    out->warehouse_location = arena_printf(a, "s3://wh/%s/%s/%s", t->bucket, t->ns, t->name);
    out->managed = t->managed;
    out->io = c->io;
}

static int c_resolve(void *ctx, arena_t *a, const auth_caller_t *caller, const char *b,
                     const char *ns, const char *name, bool write, query_table_t *out)
{
    (void)caller;
    (void)write;
    tbl_t *t = find(ctx, b, ns, name);
    if (!t)
        return QUERY_ERR_NO_TABLE;
    if (!strcmp(name, "secret") || t->deny)
        return QUERY_ERR_FORBIDDEN;
    fill(ctx, a, t, out);
    return QUERY_OK;
}

static int c_local(void *ctx, arena_t *a, const char *loc, const char **path)
{
    cat_t *c = ctx;
    if (strncmp(loc, "s3://", 5) != 0 || strstr(loc, ".."))
        return QUERY_ERR_NO_TABLE;
    *path = arena_printf(a, "%s/%s", c->root, loc + 5);
    return access(*path, R_OK) == 0 ? QUERY_OK : QUERY_ERR_NO_TABLE;
}

static int c_list(void *ctx, arena_t *a, const auth_caller_t *caller, query_list_t what,
                  const char *b, const char *ns, const char ***names, size_t *n)
{
    cat_t *c = ctx;
    (void)caller;
    const char **r = arena_alloc(a, (c->n + 1) * sizeof *r);
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++) {
        const char *v = what == QUERY_LIST_BUCKETS      ? c->t[i].bucket
                        : what == QUERY_LIST_NAMESPACES ? c->t[i].ns
                                                        : c->t[i].name;
        if (what >= QUERY_LIST_NAMESPACES && strcmp(c->t[i].bucket, b))
            continue;
        if (what == QUERY_LIST_TABLES && strcmp(c->t[i].ns, ns))
            continue;
        bool dup = false;
        for (size_t j = 0; j < k; j++)
            dup |= !strcmp(r[j], v);
        if (!dup)
            r[k++] = v;
    }
    *names = r;
    *n = k;
    return QUERY_OK;
}

static int c_create(void *ctx, arena_t *a, const auth_caller_t *caller, const char *b,
                    const char *ns, const char *name, query_table_t *out)
{
    cat_t *c = ctx;
    (void)caller;
    if (find(c, b, ns, name))
        return QUERY_ERR_CONFLICT;
    tbl_t *t = &c->t[c->n++];
    memset(t, 0, sizeof *t);
    snprintf(t->bucket, sizeof t->bucket, "%s", b);
    snprintf(t->ns, sizeof t->ns, "%s", ns);
    snprintf(t->name, sizeof t->name, "%s", name);
    fill(c, a, t, out);
    return QUERY_OK;
}

static int c_commit(void *ctx, arena_t *a, const char *b, const char *ns, const char *name,
                    const char *token, const char *loc)
{
    (void)a;
    tbl_t *t = find(ctx, b, ns, name);
    char cur[32];
    if (!t)
        return QUERY_ERR_NO_TABLE;
    snprintf(cur, sizeof cur, "%u", t->version);
    if (strcmp(cur, token))
        return QUERY_ERR_CONFLICT;
    snprintf(t->meta, sizeof t->meta, "%s", loc);
    t->version++;
    return QUERY_OK;
}

/* ---- collecting results --------------------------------------------------- */

typedef struct {
    buf_t out; /* "a|b\n" per row; NULL as \N */
    size_t rows;
} rows_t;

static bool s_header(void *ctx, size_t n, const char *const *names, const char *const *types)
{
    (void)ctx, (void)n, (void)names, (void)types;
    return true;
}

static bool s_row(void *ctx, size_t n, const char *const *v)
{
    rows_t *r = ctx;
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(&r->out, '|');
        buf_puts(&r->out, v[i] ? v[i] : "\\N");
    }
    buf_putc(&r->out, '\n');
    r->rows++;
    return true;
}

static query_t *Q;
static cat_t CAT;

/* Runs sql with a default catalog/database; returns the error and rows. */
static query_err_t run(const char *sql, const char *catalog, const char *db, rows_t *rw,
                       query_result_t *res)
{
    query_ctx_t c = {.catalog = catalog, .database = db};
    query_sink_t s = {rw, s_header, s_row};
    buf_reset(&rw->out);
    rw->rows = 0;
    query_err_t e = query_run(Q, &c, sql, strlen(sql), &s, res);
    if (e != QUERY_OK && getenv("QUERY_TEST_VERBOSE"))
        fprintf(stderr, "  [%s] %s\n", query_err_code(e), res->msg);
    return e;
}

static const char *one(const char *sql)
{
    static rows_t rw;
    static bool init;
    query_result_t res;
    if (!init) {
        buf_init(&rw.out, 1 << 24);
        init = true;
    }
    if (run(sql, NULL, NULL, &rw, &res) != QUERY_OK) {
        fprintf(stderr, "  query failed [%s]: %s\n  %s\n", query_err_code(res.err), res.msg, sql);
        return "ERROR";
    }
    if (rw.out.len && rw.out.data[rw.out.len - 1] == '\n')
        rw.out.data[--rw.out.len] = '\0';
    return buf_cstr(&rw.out);
}

static query_err_t err_of(const char *sql, const char *catalog, const char *db)
{
    rows_t rw;
    query_result_t res;
    buf_init(&rw.out, 1 << 20);
    query_err_t e = run(sql, catalog, db, &rw, &res);
    buf_release(&rw.out);
    return e;
}

/* Creates an empty table with the journal's shape (a subset of it). */
static void make_journal(const char *bucket, const char *ns, const char *name, bool managed)
{
    static const char *schema =
        "{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
        "{\"id\":1,\"name\":\"bucket\",\"required\":true,\"type\":\"string\"},"
        "{\"id\":2,\"name\":\"key\",\"required\":true,\"type\":\"string\"},"
        "{\"id\":3,\"name\":\"sequence_number\",\"required\":true,\"type\":\"string\"},"
        "{\"id\":4,\"name\":\"record_type\",\"required\":true,\"type\":\"string\"},"
        "{\"id\":5,\"name\":\"record_timestamp\",\"required\":true,\"type\":\"timestamp\"},"
        "{\"id\":6,\"name\":\"version_id\",\"required\":false,\"type\":\"string\"},"
        "{\"id\":7,\"name\":\"requester\",\"required\":false,\"type\":\"string\"},"
        "{\"id\":8,\"name\":\"size\",\"required\":false,\"type\":\"long\"},"
        "{\"id\":9,\"name\":\"encryption_status\",\"required\":false,\"type\":\"string\"},"
        "{\"id\":10,\"name\":\"kms_key_arn\",\"required\":false,\"type\":\"string\"},"
        "{\"id\":11,\"name\":\"object_tags\",\"required\":false,\"type\":{\"type\":\"map\","
        "\"key-id\":12,\"value-id\":13,\"key\":\"string\",\"value\":\"string\","
        "\"value-required\":false}}]}";
    arena_t *a = arena_new(0);
    ice_metadata_t *m;
    ice_err_t ie;
    char loc[256];
    snprintf(loc, sizeof loc, "s3://wh/%s/%s/%s", bucket, ns, name);
    CHECK_EQ_INT(ice_metadata_new(a, schema, NULL, NULL, loc, NULL, 0, &m, &ie), ICE_OK, "%s", ie.msg);
    char *mloc = ice_metadata_file_location(a, m, NULL);
    size_t jl;
    const char *json = ice_metadata_json(m, &jl);
    CHECK_EQ_INT(CAT.io->write(CAT.io->ctx, mloc, json, jl), ICE_OK, "write metadata");
    tbl_t *t = &CAT.t[CAT.n++];
    memset(t, 0, sizeof *t);
    snprintf(t->bucket, sizeof t->bucket, "%s", bucket);
    snprintf(t->ns, sizeof t->ns, "%s", ns);
    snprintf(t->name, sizeof t->name, "%s", name);
    snprintf(t->meta, sizeof t->meta, "%s", mloc);
    t->managed = managed;
    arena_free(a);
}

#define J "\"s3tablescatalog/my-bucket\".\"b_photos\".\"journal\""

static const char *ROWS1 =
    "SELECT * FROM (VALUES "
    "('photos','a.jpg','0001','CREATE',TIMESTAMP '2024-01-01 00:00:00','v1','111122223333',10,"
    "'SSE-S3',NULL,MAP{'env':'staging'}),"
    "('photos','b.png','0002','CREATE',TIMESTAMP '2024-01-01 00:00:01','v1','111122223333',20,"
    "'SSE-KMS','arn:aws:kms:us-east-1:111122223333:key/k1',MAP{'env':'prod'}),"
    "('photos','a.jpg','0003','DELETE',TIMESTAMP '2024-01-01 00:00:02','v1','s3.amazonaws.com',"
    "NULL,NULL,NULL,NULL)) AS t";

static void test_insert_then_read_back_by_every_name_form(void)
{
    query_result_t res;
    rows_t rw;
    buf_init(&rw.out, 1 << 20);
    char sql[2048];
    snprintf(sql, sizeof sql, "INSERT INTO " J " %s", ROWS1);
    CHECK_EQ_INT(run(sql, NULL, NULL, &rw, &res), QUERY_OK, "%s", res.msg);
    CHECK_EQ_INT(res.rows, 3, "rows written");
    CHECK_EQ_STR(one("SELECT count(*) FROM " J), "3", "Athena form, hyphenated bucket");
    CHECK_EQ_STR(one("SELECT count(*) FROM \"my-bucket\".b_photos.journal"), "3", "short form");
    CHECK_EQ_STR(one("select count(*) from \"S3TablesCatalog/my-bucket\".B_PHOTOS.Journal"),
                 "3", "names fold to lower case, quoted or not (as Athena)");
    CHECK_EQ_INT(run("SELECT count(*) FROM journal", "s3tablescatalog/my-bucket", "b_photos", &rw,
                     &res), QUERY_OK, "default catalog + database: %s", res.msg);
    CHECK_EQ_INT(run("SELECT count(*) FROM b_photos.journal j WHERE j.size > 0",
                     "s3tablescatalog/my-bucket", NULL, &rw, &res), QUERY_OK, "%s", res.msg);
    CHECK_EQ_STR(one("SELECT journal.key FROM " J " WHERE journal.sequence_number = '0002'"),
                 "b.png", "table name usable as qualifier without an alias");
    CHECK_EQ_STR(one("SELECT object_tags['env'] FROM " J " WHERE key = 'b.png'"), "prod", "map");
    buf_release(&rw.out);
}

static void test_aws_example_queries_run_unchanged(void)
{
    /* AWS's "Example metadata table queries" (S3 User Guide), journal part. */
    CHECK_EQ_STR(one("SELECT key FROM " J " WHERE key LIKE '%.jpg' AND record_type = 'CREATE'"),
                 "a.jpg", "by extension");
    CHECK_EQ_STR(one("SELECT DISTINCT bucket, key, sequence_number, record_type, record_timestamp, "
                     "requester, version_id FROM " J " WHERE record_type = 'DELETE';"),
                 "photos|a.jpg|0003|DELETE|2024-01-01 00:00:02|s3.amazonaws.com|v1", "deletions");
    CHECK_EQ_STR(one("SELECT DISTINCT kms_key_arn FROM " J " WHERE encryption_status NOT IN "
                     "('SSE-KMS', 'DSSE-KMS') AND record_type = 'CREATE';"),
                 "\\N", "not KMS");
    CHECK_EQ_STR(one("SELECT DISTINCT kms_key_arn FROM " J " WHERE record_timestamp > "
                     "(current_date - interval '7' day) AND kms_key_arn is NOT NULL;"),
                 "", "KMS keys in the last 7 days (rows are from 2024)");
    CHECK_EQ_STR(one("SELECT bucket, key, version_id FROM " J " WHERE requester = "
                     "'s3.amazonaws.com' AND record_type = 'DELETE' AND record_timestamp > "
                     "(current_date - interval '1' day)"),
                 "", "lifecycle deletes in the last day");
    CHECK_EQ_STR(one("SELECT count(*) FROM " J " WHERE record_timestamp > date_add('day', -7, "
                     "TIMESTAMP '2024-01-03 00:00:00')"),
                 "3", "Athena date_add");
    CHECK_EQ_STR(one("SELECT key FROM " J " WHERE object_tags['env'] = 'staging'"), "a.jpg", "tag");
    CHECK_EQ_STR(one("WITH v AS (SELECT *, LEAD(sequence_number) OVER (PARTITION BY bucket, key, "
                     "version_id ORDER BY sequence_number) AS nxt FROM " J ") SELECT key FROM v "
                     "WHERE nxt IS NULL AND record_type <> 'DELETE'"),
                 "b.png", "current state via window + CTE");
}

static void test_time_travel_selects_the_earlier_snapshot(void)
{
    tbl_t *t = find(&CAT, "my-bucket", "b_photos", "journal");
    arena_t *a = arena_new(0);
    char *json;
    size_t len;
    ice_metadata_t *m;
    ice_err_t ie;
    CHECK_EQ_INT(CAT.io->read(CAT.io->ctx, t->meta, ICE_METADATA_MAX_BYTES, a, &json, &len), 0, "read");
    CHECK_EQ_INT(ice_metadata_parse(a, json, len, &m, &ie), ICE_OK, "parse");
    int64_t first = m->current_snapshot_id;
    usleep(20000);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO \"my-bucket\".b_photos.journal SELECT 'photos', 'c.txt', '0004', "
             "'CREATE', TIMESTAMP '2024-01-02 00:00:00', NULL, NULL, 1, NULL, NULL, NULL");
    CHECK_EQ_STR(one(sql), "1", "insert one row");
    CHECK_EQ_STR(one("SELECT count(*) FROM " J), "4", "current");
    snprintf(sql, sizeof sql, "SELECT count(*) FROM " J " FOR VERSION AS OF %lld", (long long)first);
    CHECK_EQ_STR(one(sql), "3", "FOR VERSION AS OF");
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM " J " FOR TIMESTAMP AS OF "
             "(TIMESTAMP '1970-01-01 00:00:00' + to_milliseconds(%lld)) j WHERE j.size >= 0",
             (long long)m->last_updated_ms);
    CHECK_EQ_STR(one(sql), "2", "FOR TIMESTAMP AS OF an expression, then an alias");
    CHECK_EQ_STR(one("SELECT count(*) FROM " J " FOR TIMESTAMP AS OF current_timestamp"), "4",
                 "as of now");
    CHECK_EQ_INT(err_of("SELECT * FROM " J " FOR VERSION AS OF 12345", NULL, NULL),
                 QUERY_ERR_NO_SNAPSHOT, "unknown snapshot");
    CHECK_EQ_INT(err_of("SELECT * FROM " J " FOR TIMESTAMP AS OF TIMESTAMP '2000-01-01'", NULL, NULL),
                 QUERY_ERR_NO_SNAPSHOT, "before the table existed");
    arena_free(a);
}

static void test_stray_files_in_the_table_location_are_never_read(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/wh/my-bucket/b_photos/journal/data/stray.parquet", CAT.root);
    char sql[1024];
    snprintf(sql, sizeof sql, "INSERT INTO \"my-bucket\".b_photos.journal SELECT * FROM " J);
    /* Put a stray file next to the committed ones, written by hand. */
    CHECK_EQ_STR(one("SELECT count(*) FROM " J), "4", "before");
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("not parquet at all", f);
        fclose(f);
    }
    CHECK_EQ_STR(one("SELECT count(*) FROM " J), "4", "a stray file changes nothing");
}

static void test_discovery_statements_list_the_catalog(void)
{
    CHECK_EQ_STR(one("SHOW DATABASES IN \"s3tablescatalog/my-bucket\""), "b_photos", "databases");
    CHECK_EQ_STR(one("SHOW TABLES IN \"s3tablescatalog/my-bucket\".b_photos"), "journal\nsecret", "tables");
    CHECK_EQ_STR(one("SHOW TABLES IN \"my-bucket\".b_photos LIKE 'jour*'"), "journal", "like");
    CHECK_EQ_STR(one("SHOW CATALOGS LIKE '%my-bucket'"), "s3tablescatalog/my-bucket", "catalogs");
    const char *d = one("DESCRIBE " J);
    CHECK(strstr(d, "object_tags|map<string,string>|") != NULL, "describe: %s", d);
    CHECK_EQ_STR(one("SELECT table_name FROM information_schema.tables WHERE table_catalog = "
                     "'s3tablescatalog/my-bucket' ORDER BY 1"),
                 "journal\nsecret", "information_schema.tables");
    CHECK_EQ_STR(one("SELECT count(*) FROM information_schema.columns c WHERE c.table_name = "
                     "'journal' AND table_schema = 'b_photos' AND table_catalog LIKE '%my-bucket'"),
                 "11", "information_schema.columns");
}

static void test_ctas_commits_a_new_table_readable_back(void)
{
    CHECK_EQ_STR(one("CREATE TABLE \"my-bucket\".b_photos.by_type WITH (format = 'PARQUET') AS "
                     "SELECT record_type, count(*) AS n, sum(size) AS bytes FROM " J
                     " GROUP BY 1"),
                 "2", "CTAS rows");
    CHECK_EQ_STR(one("SELECT record_type, n, bytes FROM \"my-bucket\".b_photos.by_type ORDER BY 1"),
                 "CREATE|3|31\nDELETE|1|\\N", "read back");
    CHECK_EQ_INT(err_of("CREATE TABLE \"my-bucket\".b_photos.by_type AS SELECT 1 AS x", NULL, NULL),
                 QUERY_ERR_CONFLICT, "exists");
    CHECK_EQ_STR(one("CREATE TABLE IF NOT EXISTS \"my-bucket\".b_photos.by_type AS SELECT 1 AS x"),
                 "0", "if not exists");
}

static void test_bad_input_gets_a_clear_error_and_touches_nothing(void)
{
    static const struct {
        const char *sql;
        query_err_t e;
    } cases[] = {
        {"SELEC 1", QUERY_ERR_SYNTAX},
        {"SELECT * FROM \"my-bucket\".b_photos.nope", QUERY_ERR_NO_TABLE},
        {"SELECT * FROM \"my-bucket\".b_photos.secret", QUERY_ERR_FORBIDDEN},
        {"SELECT * FROM read_csv('/etc/passwd')", QUERY_ERR_FORBIDDEN},
        {"SELECT * FROM '/etc/passwd'", QUERY_ERR_FORBIDDEN},
        {"SELECT * FROM \"READ_TEXT\"('/etc/passwd')", QUERY_ERR_FORBIDDEN},
        {"COPY (SELECT 1) TO '/tmp/kura-test-x'", QUERY_ERR_FORBIDDEN},
        {"INSTALL httpfs", QUERY_ERR_FORBIDDEN},
        {"LOAD httpfs", QUERY_ERR_FORBIDDEN},
        {"SET enable_external_access = true", QUERY_ERR_FORBIDDEN},
        {"ATTACH '/tmp/x.db'", QUERY_ERR_FORBIDDEN},
        {"SELECT 1; SELECT 2", QUERY_ERR_INVALID},
        {"SELECT 'unterminated", QUERY_ERR_SYNTAX},
        {"SELECT 1 /* open", QUERY_ERR_SYNTAX},
        {"EXPLAIN SELECT 1", QUERY_ERR_FORBIDDEN},
        {"WITH x AS (SELECT 1) SELECT * FROM query('SELECT 1')", QUERY_ERR_FORBIDDEN},
        {"INSERT INTO \"s3tablescatalog/aws-s3\".b_photos.journal SELECT * FROM " J,
         QUERY_ERR_READ_ONLY},
        {"CREATE TABLE \"aws-s3\".b_photos.x AS SELECT 1 AS a", QUERY_ERR_READ_ONLY},
        {"INSERT INTO memory.main.t SELECT 1", QUERY_ERR_NO_TABLE},
        {"SELECT nope FROM " J, QUERY_ERR_EXEC},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        CHECK_EQ_INT(err_of(cases[i].sql, NULL, NULL), cases[i].e, "case %zu: %s", i, cases[i].sql);
    CHECK(access("/tmp/kura-test-x", F_OK) != 0, "COPY wrote nothing");
    CHECK_EQ_STR(one("SELECT count(*) FROM \"aws-s3\".b_photos.journal"), "0", "managed: unchanged");
}

static void test_long_query_is_stopped_by_the_timeout(void)
{
    rows_t rw;
    query_result_t res;
    buf_init(&rw.out, 1 << 20);
    query_err_t e = run("SELECT count(*) FROM range(100000000000) a", NULL, NULL, &rw, &res);
    CHECK_EQ_INT(e, QUERY_ERR_TIMEOUT, "timeout: %s", res.msg);
    CHECK(res.exec_ms < 10000, "stopped in %lld ms", (long long)res.exec_ms);
    CHECK_EQ_STR(one("SELECT 42"), "42", "the connection works afterwards");
    buf_release(&rw.out);
}

/* ---- the HTTP endpoint and Athena, called as the router will ------------- */

static http_req_t *fake_req(arena_t *a, const char *method)
{
    http_req_t *r = arena_alloc(a, sizeof *r);
    r->arena = a;
    r->method = method;
    buf_init(&r->out, BUF_MAX_DEFAULT);
    return r;
}

static const char *out_header(const http_req_t *r, const char *name)
{
    for (size_t i = 0; i < r->nout_headers; i++)
        if (!strcasecmp(r->out_headers[i].name, name))
            return r->out_headers[i].value;
    return NULL;
}

static void test_http_endpoint_answers_json_csv_and_errors(void)
{
    arena_t *a = arena_new(0);
    http_req_t *r = fake_req(a, "POST");
    const char *body = "{\"sql\": \"SELECT key, size FROM " "\\\"my-bucket\\\".b_photos.journal"
                       " WHERE size IS NOT NULL ORDER BY key\"}";
    query_http(Q, r, NULL, body, strlen(body));
    CHECK_EQ_INT(r->status, 200, "%s", buf_cstr(&r->out));
    CHECK(strstr(buf_cstr(&r->out), "\"rows\":[{\"key\":\"a.jpg\",\"size\":10},") != NULL, "json: %s",
          buf_cstr(&r->out));
    buf_release(&r->out);

    /* Numbers stay JSON numbers, also where DuckDB's text is not one. */
    r = fake_req(a, "POST");
    body = "{\"sql\": \"SELECT CAST(0.25 AS DECIMAL(4,4)) AS p, CAST(-0.5 AS DECIMAL(3,3)) AS n, "
           "CAST('nan' AS DOUBLE) AS x, 1e300 * 10 AS big, 7 AS i\", \"format\": \"jsonl\"}";
    query_http(Q, r, NULL, body, strlen(body));
    CHECK_EQ_INT(r->status, 200, "%s", buf_cstr(&r->out));
    json_t *row = json_loads(buf_cstr(&r->out), 0, NULL);
    CHECK(row != NULL, "valid JSON: %s", buf_cstr(&r->out));
    CHECK(json_is_real(json_object_get(row, "p")) &&
          json_real_value(json_object_get(row, "p")) == 0.25, "p: %s", buf_cstr(&r->out));
    CHECK(json_real_value(json_object_get(row, "n")) == -0.5, "n: %s", buf_cstr(&r->out));
    CHECK_EQ_STR(json_string_value(json_object_get(row, "x")), "nan", "nan stays a string");
    CHECK(json_integer_value(json_object_get(row, "i")) == 7, "i");
    json_decref(row);
    buf_release(&r->out);

    r = fake_req(a, "POST");
    body = "{\"sql\": \"SELECT 'a,b' AS x, NULL AS y, '' AS z\", \"format\": \"csv\"}";
    query_http(Q, r, NULL, body, strlen(body));
    CHECK_EQ_STR(buf_cstr(&r->out), "\"x\",\"y\",\"z\"\n\"a,b\",,\"\"\n", "csv");
    CHECK_EQ_STR(out_header(r, "content-type"), "text/csv; charset=utf-8", "csv type");
    buf_release(&r->out);

    r = fake_req(a, "POST");
    body = "{\"sql\": \"SELECT * FROM read_csv('/etc/passwd')\"}";
    query_http(Q, r, NULL, body, strlen(body));
    CHECK_EQ_INT(r->status, 403, "forbidden");
    CHECK(strstr(buf_cstr(&r->out), "\"code\":\"AccessDenied\"") != NULL, "%s", buf_cstr(&r->out));
    buf_release(&r->out);

    r = fake_req(a, "POST");
    body = "SELEC 1";
    query_http(Q, r, NULL, body, strlen(body));
    CHECK_EQ_INT(r->status, 400, "syntax error, text body");
    CHECK(strstr(buf_cstr(&r->out), "SyntaxError") != NULL, "%s", buf_cstr(&r->out));
    buf_release(&r->out);
    arena_free(a);
}

/* One Athena call; returns the parsed response. */
static json_t *athena(const char *op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *athena(const char *op, const char *fmt, ...)
{
    char body[4096], target[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    snprintf(target, sizeof target, "AmazonAthena.%s", op);
    arena_t *a = arena_new(0);
    http_req_t *r = fake_req(a, "POST");
    query_athena(Q, r, NULL, target, body, strlen(body));
    json_error_t je;
    json_t *j = json_loads(buf_cstr(&r->out), 0, &je);
    if (r->status != 200 && j)
        json_object_set_new(j, "_status", json_integer(r->status));
    buf_release(&r->out);
    arena_free(a);
    return j;
}

static const char *wait_state(const char *id)
{
    static char st[32];
    for (int i = 0; i < 400; i++) {
        json_t *j = athena("GetQueryExecution", "{\"QueryExecutionId\":\"%s\"}", id);
        const char *s = json_string_value(
            json_object_get(json_object_get(json_object_get(j, "QueryExecution"), "Status"), "State"));
        snprintf(st, sizeof st, "%s", s ? s : "?");
        json_decref(j);
        if (strcmp(st, "QUEUED") && strcmp(st, "RUNNING"))
            break;
        usleep(10000);
    }
    return st;
}

static void test_athena_start_poll_paginate_fail_and_stop(void)
{
    json_t *j = athena("StartQueryExecution",
                       "{\"QueryString\":\"SELECT range AS n FROM range(2500)\","
                       "\"ClientRequestToken\":\"tok-0000000000000000000000000000001\"}");
    char id[64];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(j, "QueryExecutionId")));
    json_decref(j);
    j = athena("StartQueryExecution", "{\"QueryString\":\"SELECT 1\","
                                      "\"ClientRequestToken\":\"tok-0000000000000000000000000000001\"}");
    CHECK_EQ_STR(json_string_value(json_object_get(j, "QueryExecutionId")), id, "idempotent token");
    json_decref(j);
    CHECK_EQ_STR(wait_state(id), "SUCCEEDED", "state");
    size_t rows = 0, pages = 0;
    char tok[64] = "";
    do {
        if (tok[0])
            j = athena("GetQueryResults", "{\"QueryExecutionId\":\"%s\",\"NextToken\":\"%s\"}", id, tok);
        else
            j = athena("GetQueryResults", "{\"QueryExecutionId\":\"%s\"}", id);
        json_t *rs = json_object_get(json_object_get(j, "ResultSet"), "Rows");
        if (pages == 0) {
            const char *h = json_string_value(json_object_get(
                json_array_get(json_object_get(json_array_get(rs, 0), "Data"), 0), "VarCharValue"));
            CHECK_EQ_STR(h, "n", "header row first");
            const char *ty = json_string_value(json_object_get(
                json_array_get(json_object_get(json_object_get(json_object_get(j, "ResultSet"),
                                                               "ResultSetMetadata"), "ColumnInfo"), 0),
                "Type"));
            CHECK_EQ_STR(ty, "bigint", "column type");
        }
        rows += json_array_size(rs);
        pages++;
        const char *nt = json_string_value(json_object_get(j, "NextToken"));
        snprintf(tok, sizeof tok, "%s", nt ? nt : "");
        json_decref(j);
    } while (tok[0] && pages < 10);
    CHECK_EQ_INT(rows, 2501, "all rows + header");
    CHECK_EQ_INT(pages, 3, "pages of 1000");

    j = athena("StartQueryExecution", "{\"QueryString\":\"SELEC 1\"}");
    CHECK_EQ_STR(json_string_value(json_object_get(j, "__type")), "InvalidRequestException",
                 "syntax error refused at start");
    json_decref(j);

    j = athena("StartQueryExecution", "{\"QueryString\":\"SELECT * FROM \\\"my-bucket\\\".b_photos.nope\"}");
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(j, "QueryExecutionId")));
    json_decref(j);
    CHECK_EQ_STR(wait_state(id), "FAILED", "unknown table fails");
    j = athena("GetQueryExecution", "{\"QueryExecutionId\":\"%s\"}", id);
    json_t *err = json_object_get(json_object_get(json_object_get(j, "QueryExecution"), "Status"),
                                  "AthenaError");
    CHECK_EQ_INT(json_integer_value(json_object_get(err, "ErrorCategory")), 2, "user error");
    CHECK(strstr(json_string_value(json_object_get(err, "ErrorMessage")), "nope") != NULL, "message");
    json_decref(j);

    j = athena("StartQueryExecution", "{\"QueryString\":\"SELECT count(*) FROM range(100000000000)\"}");
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(j, "QueryExecutionId")));
    json_decref(j);
    usleep(200000);
    json_decref(athena("StopQueryExecution", "{\"QueryExecutionId\":\"%s\"}", id));
    CHECK_EQ_STR(wait_state(id), "CANCELLED", "stopped");

    j = athena("ListDatabases", "{\"CatalogName\":\"s3tablescatalog/my-bucket\"}");
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(json_object_get(j, "DatabaseList"), 0), "Name")),
                 "b_photos", "ListDatabases");
    json_decref(j);
    j = athena("GetTableMetadata", "{\"CatalogName\":\"s3tablescatalog/my-bucket\","
                                   "\"DatabaseName\":\"b_photos\",\"TableName\":\"journal\"}");
    CHECK_EQ_INT(json_array_size(json_object_get(json_object_get(j, "TableMetadata"), "Columns")), 11,
                 "GetTableMetadata columns");
    json_decref(j);
    j = athena("GetWorkGroup", "{\"WorkGroup\":\"primary\"}");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(j, "WorkGroup"), "Name")), "primary", "wg");
    json_decref(j);
    j = athena("Nope", "{}");
    CHECK_EQ_STR(json_string_value(json_object_get(j, "__type")), "UnknownOperationException", "unknown");
    json_decref(j);
}

/* Result text kura writes itself (query/text.c) equals DuckDB's own
 * CAST(... AS VARCHAR), value for value: edge values and hundreds of
 * spread values of every type kura formats (few enough for valgrind). */
static void test_result_text_matches_duckdbs_cast(void)
{
    static const struct {
        duckdb_type type;
        const char *gen; /* a column x of that type */
    } cases[] = {
        {DUCKDB_TYPE_BOOLEAN, "SELECT range % 3 = 0 AS x FROM range(4)"},
        {DUCKDB_TYPE_TINYINT, "SELECT CAST(CAST(hash(range) % 256 AS SMALLINT) - 128 AS TINYINT) AS x "
                              "FROM range(400)"},
        {DUCKDB_TYPE_SMALLINT, "SELECT CAST(CAST(hash(range) % 65536 AS INTEGER) - 32768 AS SMALLINT) AS x "
                               "FROM range(400)"},
        {DUCKDB_TYPE_INTEGER, "SELECT CAST(CAST(hash(range) % 4294967296 AS BIGINT) - 2147483648 AS INTEGER)"
                              " AS x FROM range(400)"},
        {DUCKDB_TYPE_BIGINT, "SELECT CAST(CAST(hash(range) AS HUGEINT) - 9223372036854775808 AS BIGINT) AS x"
                             " FROM range(400)"},
        {DUCKDB_TYPE_UTINYINT, "SELECT CAST(hash(range) % 256 AS UTINYINT) AS x FROM range(300)"},
        {DUCKDB_TYPE_USMALLINT, "SELECT CAST(hash(range) % 65536 AS USMALLINT) AS x FROM range(300)"},
        {DUCKDB_TYPE_UINTEGER, "SELECT CAST(hash(range) % 4294967296 AS UINTEGER) AS x FROM range(300)"},
        {DUCKDB_TYPE_UBIGINT, "SELECT hash(range) AS x FROM range(400)"},
        {DUCKDB_TYPE_HUGEINT,
         "SELECT CAST(hash(range) >> 1 AS HUGEINT) * CAST(hash(range + 7) >> 1 AS HUGEINT) * "
         "(CASE WHEN range % 2 = 0 THEN 1 ELSE -1 END) AS x FROM range(400) UNION ALL "
         "SELECT * FROM (VALUES (170141183460469231731687303715884105727::HUGEINT), "
         "(-170141183460469231731687303715884105727::HUGEINT - 1), (0::HUGEINT)) AS v(x)"},
        {DUCKDB_TYPE_UHUGEINT, "SELECT CAST(hash(range) AS UHUGEINT) * CAST(hash(range + 3) AS UHUGEINT)"
                               " AS x FROM range(400)"},
        {DUCKDB_TYPE_DATE,
         "SELECT CAST(make_timestamp(CAST(hash(range) % 9000000000000000000 AS BIGINT) - "
         "4500000000000000000) AS DATE) AS x FROM range(400) UNION ALL SELECT * FROM (VALUES "
         "(DATE '0001-01-01'), (DATE '0000-12-31'), (DATE '0044-03-15 (BC)'), (DATE '9999-12-31'), "
         "(DATE '10000-01-01'), (DATE '1970-01-01'), ('infinity'::DATE), ('-infinity'::DATE)) AS v(x)"},
        {DUCKDB_TYPE_TIMESTAMP,
         "SELECT make_timestamp(CAST(hash(range) % 9000000000000000000 AS BIGINT) - "
         "4500000000000000000) AS x FROM range(2000) UNION ALL "
         "SELECT make_timestamp(CAST(hash(range) % 4000000000000000 AS BIGINT)) AS x FROM range(400) "
         "UNION ALL SELECT * FROM (VALUES (TIMESTAMP '2025-06-01 00:00:00.5'), "
         "(TIMESTAMP '2025-06-01 00:00:00.000001'), (TIMESTAMP '2025-06-01 23:59:59.999999'), "
         "(TIMESTAMP '0001-01-01 00:00:00'), (TIMESTAMP '0000-12-31 23:59:59.25'), "
         "('infinity'::TIMESTAMP), ('-infinity'::TIMESTAMP), (TIMESTAMP '1969-12-31 23:59:59.9')) AS v(x)"},
        {DUCKDB_TYPE_DECIMAL, "SELECT CAST((CAST(hash(range) % 19999 AS DOUBLE) - 9999) / 10000 AS "
                              "DECIMAL(4,4)) AS x FROM range(300)"},
        {DUCKDB_TYPE_DECIMAL, "SELECT CAST((CAST(hash(range) % 19999 AS DOUBLE) - 9999) / 10 AS "
                              "DECIMAL(4,1)) AS x FROM range(300)"},
        {DUCKDB_TYPE_DECIMAL, "SELECT CAST((CAST(hash(range) % 1999999999 AS DOUBLE) - 999999999) / 1000"
                              " AS DECIMAL(9,3)) AS x FROM range(300)"},
        {DUCKDB_TYPE_DECIMAL, "SELECT CAST((CAST(hash(range) % 1999999999999999 AS DOUBLE) - "
                              "999999999999999) / 1000000 AS DECIMAL(18,6)) AS x FROM range(300)"},
        {DUCKDB_TYPE_DECIMAL, "SELECT CAST(CAST(hash(range) AS HUGEINT) * (CASE WHEN range % 2 = 0 THEN 1 "
                              "ELSE -1 END) AS DECIMAL(38,10)) / 7 AS x FROM range(300)"},
        {DUCKDB_TYPE_DECIMAL, "SELECT CAST(CAST(hash(range) % 199999 AS INTEGER) - 99999 AS DECIMAL(5,0)) "
                              "AS x FROM range(300)"},
        {DUCKDB_TYPE_VARCHAR, "SELECT 'k/' || range || chr(233) AS x FROM range(100)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* kura formats x: its type is one of the native ones */
        duckdb_logical_type lt = duckdb_create_logical_type(cases[i].type);
        query_text_col_t tc;
        CHECK(cases[i].type == DUCKDB_TYPE_DECIMAL || query_text_col(lt, &tc), "native %d",
              (int)cases[i].type);
        duckdb_destroy_logical_type(&lt);

        char *sql = NULL;
        CHECK(asprintf(&sql, "SELECT x, CAST(x AS VARCHAR) AS d, typeof(x) AS t FROM (%s) AS g",
                       cases[i].gen) > 0, "asprintf");
        const char *out = one(sql);
        CHECK(strcmp(out, "ERROR") != 0, "case %zu ran", i);
        size_t rows = 0, bad = 0;
        for (const char *p = out; *p;) {
            const char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p);
            const char *b1 = memchr(p, '|', (size_t)(end - p));
            const char *b2 = b1 ? memchr(b1 + 1, '|', (size_t)(end - b1 - 1)) : NULL;
            if (!b2 || (size_t)(b1 - p) != (size_t)(b2 - b1 - 1) || memcmp(p, b1 + 1, (size_t)(b1 - p))) {
                if (bad++ < 5)
                    fprintf(stderr, "  kura vs DuckDB: %.*s\n", (int)(end - p), p);
            }
            rows++;
            p = nl ? nl + 1 : end;
        }
        CHECK(rows >= 4, "case %zu: %zu rows", i, rows);
        CHECK_EQ_INT(bad, 0, "case %zu: %zu of %zu values differ", i, bad, rows);
        free(sql);
    }
    /* types kura leaves to DuckDB's cast still read right */
    CHECK_EQ_STR(one("SELECT 0.1::DOUBLE AS d, [1, 2] AS l, 1.5::FLOAT AS f"), "0.1|[1, 2]|1.5", "wrapped");
    duckdb_logical_type f = duckdb_create_logical_type(DUCKDB_TYPE_DOUBLE);
    query_text_col_t tc;
    CHECK(!query_text_col(f, &tc), "DOUBLE goes through DuckDB's cast");
    duckdb_destroy_logical_type(&f);
}

/* Repeated reads of a table's current snapshot reuse the planned scan
 * (query/resolve.c), which must never outlive what it was planned from: a
 * commit moves the table to a new metadata file and the next read sees it,
 * and the catalog's authorization answer is asked for every query. */
static void test_repeated_reads_see_commits_and_policy_changes(void)
{
    query_result_t res;
    rows_t rw;
    buf_init(&rw.out, 1 << 20);
    char sql[2048];
    tbl_t *t = find(&CAT, "my-bucket", "b_photos", "journal");
    CHECK(t != NULL, "journal");
    const char *count = "SELECT count(*) FROM " J;
    char before[32];
    snprintf(before, sizeof before, "%s", one(count));
    CHECK_EQ_STR(one(count), before, "a second read, from the planned scan");
    snprintf(sql, sizeof sql, "INSERT INTO " J " %s", ROWS1);
    CHECK_EQ_INT(run(sql, NULL, NULL, &rw, &res), QUERY_OK, "%s", res.msg);
    char want[32];
    snprintf(want, sizeof want, "%d", atoi(before) + 3);
    CHECK_EQ_STR(one(count), want, "the commit is read right after it");
    CHECK_EQ_STR(one(count), want, "and again");
    uint64_t scanned = 0;
    CHECK_EQ_INT(run(count, NULL, NULL, &rw, &res), QUERY_OK, "%s", res.msg);
    scanned = res.bytes_scanned;
    CHECK(scanned > 0, "a cached scan still counts the bytes it hands DuckDB");
    t->deny = true;
    CHECK_EQ_INT(err_of(count, NULL, NULL), QUERY_ERR_FORBIDDEN, "denied once the policy says so");
    t->deny = false;
    CHECK_EQ_STR(one(count), want, "readable again");
    buf_release(&rw.out);
}

int main(void)
{
    char tmpl[] = "/tmp/kura-query-e2e-XXXXXX";
    if (!mkdtemp(tmpl))
        return 1;
    snprintf(CAT.root, sizeof CAT.root, "%s", tmpl);
    CAT.a = arena_new(0);
    CAT.io = ice_io_local(CAT.a, CAT.root);
    char spool[300];
    snprintf(spool, sizeof spool, "%s/spool", CAT.root);
    mkdir(spool, 0700);
    query_opts_t o = {.data_dir = CAT.root, .spool_dir = spool, .pool_size = 2, .timeout_ms = 1500};
    query_catalog_t cat = {.ctx = &CAT, .resolve = c_resolve, .local_path = c_local,
                           .list = c_list, .create = c_create, .commit = c_commit};
    make_journal("my-bucket", "b_photos", "journal", false);
    make_journal("my-bucket", "b_photos", "secret", false);
    make_journal("aws-s3", "b_photos", "journal", true);
    Q = query_new(&o, &cat);
    CHECK(Q != NULL, "query_new");
    if (!Q)
        return check_report();
    RUN(test_insert_then_read_back_by_every_name_form);
    RUN(test_result_text_matches_duckdbs_cast);
    RUN(test_aws_example_queries_run_unchanged);
    RUN(test_time_travel_selects_the_earlier_snapshot);
    RUN(test_stray_files_in_the_table_location_are_never_read);
    RUN(test_discovery_statements_list_the_catalog);
    RUN(test_ctas_commits_a_new_table_readable_back);
    RUN(test_bad_input_gets_a_clear_error_and_touches_nothing);
    RUN(test_long_query_is_stopped_by_the_timeout);
    RUN(test_http_endpoint_answers_json_csv_and_errors);
    RUN(test_athena_start_poll_paginate_fail_and_stop);
    RUN(test_repeated_reads_see_commits_and_policy_changes); /* adds rows: last */
    query_free(Q);
    arena_free(CAT.a);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", CAT.root);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup failed\n");
    return check_report();
}
