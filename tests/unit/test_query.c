/* tests/unit/test_query.c: the SQL scanner and name rewrite (query/rewrite.c),
 * pure: a fake resolver stands in for the catalog. End-to-end runs over
 * real Iceberg tables are in test_query_e2e.c. */
#include "check.h"
#include "query/query_int.h"

#include <stdlib.h>

/* Expands a reference to <bucket|ns|table|tt> so each case can see exactly
 * what was resolved. */
static query_err_t f_expand(void *ctx, arena_t *a, const query_ref_t *ref, const char **sql,
                            char *msg, size_t cap)
{
    (void)ctx;
    if (!strcmp(ref->table, "missing"))
        return query_fail(msg, cap, QUERY_ERR_NO_TABLE, "no table");
    if (ref->tt == QUERY_TT_VERSION)
        *sql = arena_printf(a, "T<%s|%s|%s|v%lld>", ref->bucket, ref->ns, ref->table,
                            (long long)ref->version);
    else if (ref->tt == QUERY_TT_TIMESTAMP)
        *sql = arena_printf(a, "T<%s|%s|%s|ts:%s>", ref->bucket, ref->ns, ref->table, ref->ts_expr);
    else
        *sql = arena_printf(a, "T<%s|%s|%s>", ref->bucket, ref->ns, ref->table);
    return QUERY_OK;
}

static query_err_t f_list(void *ctx, arena_t *a, query_list_t what, const char *bucket,
                          const char *ns, const char ***names, size_t *n, char *msg, size_t cap)
{
    (void)ctx, (void)bucket, (void)ns, (void)msg, (void)cap;
    const char **r = arena_alloc(a, 2 * sizeof *r);
    r[0] = what == QUERY_LIST_BUCKETS ? "bk" : what == QUERY_LIST_NAMESPACES ? "ns1" : "t1";
    *names = r;
    *n = 1;
    return QUERY_OK;
}

static query_err_t f_columns(void *ctx, arena_t *a, const query_ref_t *ref, const query_col_t **c,
                             size_t *n, char *msg, size_t cap)
{
    (void)ctx, (void)ref, (void)msg, (void)cap;
    query_col_t *r = arena_alloc(a, sizeof *r);
    r->name = "k";
    r->type = "string";
    *c = r;
    *n = 1;
    return QUERY_OK;
}

static query_err_t rw(const char *sql, const char *cat, const char *db, const char **out,
                      query_stmt_t *st)
{
    static arena_t *a;
    static char msg[512];
    if (!a)
        a = arena_new(0);
    query_rewrite_ctx_t c = {.catalog = cat, .database = db, .expand = f_expand, .list = f_list,
                             .columns = f_columns};
    query_err_t e = query_rewrite(a, sql, strlen(sql), &c, st, msg, sizeof msg);
    *out = e == QUERY_OK ? st->sql : msg;
    return e;
}

static void test_table_references_are_rewritten_where_tables_go(void)
{
    static const struct {
        const char *sql, *cat, *db, *want;
    } cases[] = {
        {"SELECT key FROM \"s3tablescatalog/aws-s3\".\"b_my-bucket\".\"journal\" WHERE k = 1", NULL, NULL,
         "SELECT key FROM T<aws-s3|b_my-bucket|journal> AS \"journal\" WHERE k = 1"},
        {"select * from b.ns.t x", NULL, NULL, "select * from T<b|ns|t> x"},
        {"SELECT * FROM b.ns.t AS x JOIN b.ns.u ON x.a = u.a, b.ns.v", NULL, NULL,
         "SELECT * FROM T<b|ns|t> AS x JOIN T<b|ns|u> AS \"u\" ON x.a = u.a, T<b|ns|v> AS \"v\""},
        /* names in literals, comments and quoted identifiers are not tables */
        {"SELECT 'FROM b.ns.t' FROM b.ns.t -- FROM b.ns.x\n", NULL, NULL,
         "SELECT 'FROM b.ns.t' FROM T<b|ns|t> AS \"t\" -- FROM b.ns.x\n"},
        {"SELECT /* FROM a.b.c /* nested */ still */ 1 FROM b.ns.t", NULL, NULL,
         "SELECT /* FROM a.b.c /* nested */ still */ 1 FROM T<b|ns|t> AS \"t\""},
        {"SELECT \"FROM b.ns.t\" FROM b.ns.t t", NULL, NULL, "SELECT \"FROM b.ns.t\" FROM T<b|ns|t> t"},
        {"SELECT 'it''s' FROM b.ns.t t", NULL, NULL, "SELECT 'it''s' FROM T<b|ns|t> t"},
        {"SELECT $$ FROM b.ns.t $$ FROM b.ns.t t", NULL, NULL, "SELECT $$ FROM b.ns.t $$ FROM T<b|ns|t> t"},
        /* columns a.b.c in expressions stay */
        {"SELECT x.y.z FROM b.ns.t x WHERE x.y.z > 1", NULL, NULL,
         "SELECT x.y.z FROM T<b|ns|t> x WHERE x.y.z > 1"},
        {"SELECT extract(year FROM ts), a IS DISTINCT FROM b FROM b.ns.t t", "bk", "ns1",
         "SELECT extract(year FROM ts), a IS DISTINCT FROM b FROM T<b|ns|t> t"},
        /* defaults: catalog + database; a CTE name is never a table */
        {"WITH v AS (SELECT * FROM journal) SELECT * FROM v", "s3tablescatalog/bk", "ns1",
         "WITH v AS (SELECT * FROM T<s3tablescatalog/bk|ns1|journal> AS \"journal\") SELECT * FROM v"},
        {"SELECT * FROM ns2.t2 JOIN missing m ON true", "bk", "ns1",
         "SELECT * FROM T<bk|ns2|t2> AS \"t2\" JOIN missing m ON true"},
        {"SELECT * FROM t1", NULL, NULL, "SELECT * FROM t1"},
        {"SELECT * FROM (SELECT * FROM b.ns.t) s", NULL, NULL, "SELECT * FROM (SELECT * FROM T<b|ns|t> AS \"t\") s"},
        {"SELECT date_add('day', -1, now()), date_add(d, INTERVAL 1 DAY)", NULL, NULL,
         "SELECT kura_date_add('day', -1, now()), date_add(d, INTERVAL 1 DAY)"},
        {"SELECT 1;", NULL, NULL, "SELECT 1"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *out;
        query_stmt_t st;
        query_err_t e = rw(cases[i].sql, cases[i].cat, cases[i].db, &out, &st);
        CHECK_EQ_INT(e, QUERY_OK, "case %zu: %s", i, out);
        if (e == QUERY_OK)
            CHECK_EQ_STR(out, cases[i].want, "case %zu", i);
    }
}

static void test_time_travel_clauses_end_where_the_expression_ends(void)
{
    static const struct {
        const char *sql, *want;
    } cases[] = {
        {"SELECT * FROM b.ns.t FOR VERSION AS OF 123 WHERE a", "SELECT * FROM T<b|ns|t|v123> AS \"t\" WHERE a"},
        {"SELECT * FROM b.ns.t FOR TIMESTAMP AS OF TIMESTAMP '2024-01-01 00:00:00' x",
         "SELECT * FROM T<b|ns|t|ts:TIMESTAMP '2024-01-01 00:00:00'> x"},
        {"SELECT * FROM b.ns.t FOR TIMESTAMP AS OF current_timestamp - interval '1' day WHERE a",
         "SELECT * FROM T<b|ns|t|ts:current_timestamp - interval '1' day> AS \"t\" WHERE a"},
        {"SELECT * FROM b.ns.t FOR TIMESTAMP AS OF (now() - interval '7' day) AS x JOIN b.ns.u FOR "
         "VERSION AS OF 9 ON true",
         "SELECT * FROM T<b|ns|t|ts:(now() - interval '7' day)> AS x JOIN T<b|ns|u|v9> AS \"u\" ON true"},
        {"SELECT * FROM b.ns.t FOR SYSTEM_TIME AS OF TIMESTAMP '2024-01-01'",
         "SELECT * FROM T<b|ns|t|ts:TIMESTAMP '2024-01-01'> AS \"t\""},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *out;
        query_stmt_t st;
        CHECK_EQ_INT(rw(cases[i].sql, NULL, NULL, &out, &st), QUERY_OK, "case %zu: %s", i, out);
        CHECK_EQ_STR(out, cases[i].want, "case %zu", i);
    }
}

/* What Athena's StartQueryExecution hands DuckDB's parser: time-travel
 * clauses cut, their expressions checked as statements of their own. */
static void test_syntax_text_cuts_time_travel_and_keeps_its_expression(void)
{
    static const struct {
        const char *sql, *want;
    } cases[] = {
        {"SELECT * FROM b.ns.t FOR TIMESTAMP AS OF TIMESTAMP '2024-01-01 00:00:00' x WHERE a",
         "SELECT * FROM b.ns.t   x WHERE a\n;SELECT TIMESTAMP '2024-01-01 00:00:00'"},
        {"SELECT * FROM t FOR VERSION AS OF 123 JOIN u FOR SYSTEM_TIME AS OF now() - interval '1' day"
         " ON true",
         "SELECT * FROM t   JOIN u   ON true\n;SELECT 123\n;SELECT now() - interval '1' day"},
        {"SELECT 1 FOR UPDATE", "SELECT 1 FOR UPDATE"},
        {"SELECT 'FOR TIMESTAMP AS OF' AS x", "SELECT 'FOR TIMESTAMP AS OF' AS x"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        arena_t *a = arena_new(0);
        char msg[256] = "", *out = NULL;
        CHECK_EQ_INT(query_syntax_text(a, cases[i].sql, strlen(cases[i].sql), &out, msg, sizeof msg),
                     QUERY_OK, "case %zu: %s", i, msg);
        CHECK_EQ_STR(out ? out : "(null)", cases[i].want, "case %zu", i);
        arena_free(a);
    }
}

static void test_discovery_and_write_statements(void)
{
    const char *out;
    query_stmt_t st;
    CHECK_EQ_INT(rw("SHOW TABLES IN \"s3tablescatalog/bk\".ns1", NULL, NULL, &out, &st), QUERY_OK, "%s", out);
    CHECK(strstr(out, "VALUES ('t1')") && strstr(out, "\"tab_name\""), "show tables: %s", out);
    CHECK_EQ_INT(rw("SHOW DATABASES", "bk", NULL, &out, &st), QUERY_OK, "%s", out);
    CHECK(strstr(out, "('ns1')") != NULL, "show databases: %s", out);
    CHECK_EQ_INT(rw("DESCRIBE bk.ns1.t1", NULL, NULL, &out, &st), QUERY_OK, "%s", out);
    CHECK(strstr(out, "('k', 'string', '')") != NULL, "describe: %s", out);
    CHECK_EQ_INT(rw("SELECT * FROM information_schema.tables", NULL, NULL, &out, &st), QUERY_OK, "%s", out);
    CHECK(strstr(out, "('s3tablescatalog/bk', 'ns1', 't1', 'BASE TABLE')") != NULL, "tables: %s", out);
    CHECK_EQ_INT(rw("SHOW TABLES", NULL, NULL, &out, &st), QUERY_ERR_INVALID, "needs a database");

    CHECK_EQ_INT(rw("INSERT INTO b.ns.t SELECT * FROM b.ns.u", NULL, NULL, &out, &st), QUERY_OK, "%s", out);
    CHECK(st.kind == QUERY_STMT_INSERT && !strcmp(st.target.table, "t"), "insert target");
    CHECK_EQ_STR(out, "SELECT * FROM T<b|ns|u> AS \"u\"", "insert query");
    CHECK_EQ_INT(rw("CREATE TABLE IF NOT EXISTS b.ns.t WITH (format='PARQUET', x=(1)) AS SELECT 1 AS a",
                    NULL, NULL, &out, &st), QUERY_OK, "%s", out);
    CHECK(st.kind == QUERY_STMT_CTAS && st.if_not_exists, "ctas");
    CHECK_EQ_STR(out, "SELECT 1 AS a", "ctas query");
}

static void test_refused_statements_and_bounded_scanner(void)
{
    static const struct {
        const char *sql;
        query_err_t e;
    } cases[] = {
        {"COPY t TO '/tmp/x'", QUERY_ERR_FORBIDDEN},
        {"  install httpfs", QUERY_ERR_FORBIDDEN},
        {"SELECT * FROM read_parquet('/x')", QUERY_ERR_FORBIDDEN},
        {"SELECT * FROM main.read_blob('/x')", QUERY_ERR_FORBIDDEN},
        {"SELECT * FROM 'x.parquet'", QUERY_ERR_FORBIDDEN},
        {"SELECT * FROM b.ns.t FOR TIMESTAMP AS OF (SELECT max(x) FROM y)", QUERY_ERR_FORBIDDEN},
        {"SELECT 1; DROP TABLE x", QUERY_ERR_INVALID},
        {"SELECT 'abc", QUERY_ERR_SYNTAX},
        {"SELECT \"abc", QUERY_ERR_SYNTAX},
        {"SELECT /* /* */", QUERY_ERR_SYNTAX},
        {"SELECT $x$ abc", QUERY_ERR_SYNTAX},
        {"", QUERY_ERR_SYNTAX},
        {"SELECT * FROM b.ns.t FOR VERSION AS OF abc", QUERY_ERR_SYNTAX},
        {"SELECT * FROM b.ns.missing", QUERY_ERR_NO_TABLE},
        {"INSERT INTO t SELECT 1", QUERY_ERR_FORBIDDEN},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *out;
        query_stmt_t st;
        CHECK_EQ_INT(rw(cases[i].sql, NULL, NULL, &out, &st), cases[i].e, "case %zu: %s -> %s", i,
                     cases[i].sql, out);
    }
    /* Deep nesting and huge inputs end in an error, never a crash. */
    size_t n = 100000;
    char *deep = malloc(n + 1);
    memset(deep, '(', n);
    deep[n] = '\0';
    const char *out;
    query_stmt_t st;
    CHECK_EQ_INT(rw(deep, NULL, NULL, &out, &st), QUERY_ERR_TOO_LARGE, "nesting: %s", out);
    free(deep);
    n = QUERY_SQL_MAX_BYTES + 1;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    big[n] = '\0';
    CHECK_EQ_INT(rw(big, NULL, NULL, &out, &st), QUERY_ERR_TOO_LARGE, "size");
    free(big);
}

int main(void)
{
    RUN(test_table_references_are_rewritten_where_tables_go);
    RUN(test_time_travel_clauses_end_where_the_expression_ends);
    RUN(test_syntax_text_cuts_time_travel_and_keeps_its_expression);
    RUN(test_discovery_and_write_statements);
    RUN(test_refused_statements_and_bounded_scanner);
    return check_report();
}
