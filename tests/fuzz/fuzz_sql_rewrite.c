/* tests/fuzz/fuzz_sql_rewrite.c: the SQL scanner and rewrite
 * (query/rewrite.c) on arbitrary text, with a resolver that expands every
 * reference, so literal/comment/identifier boundaries and time-travel
 * clauses are all exercised. Invariant: the rewrite of text with no table
 * reference is no longer than the text (discovery and renames aside).
 * Also Athena's syntax-check text (query_syntax_text), which only moves
 * time-travel expressions: never longer than the text plus their
 * "\n;SELECT " prefixes. */
#include "query/query_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static query_err_t f_expand(void *ctx, arena_t *a, const query_ref_t *ref, const char **sql,
                            char *msg, size_t cap)
{
    (void)ctx, (void)msg, (void)cap;
    *sql = arena_printf(a, "(SELECT %zu)", strlen(ref->table));
    return *sql ? QUERY_OK : QUERY_ERR_INTERNAL;
}

static query_err_t f_list(void *ctx, arena_t *a, query_list_t what, const char *bucket,
                          const char *ns, const char ***names, size_t *n, char *msg, size_t cap)
{
    (void)ctx, (void)a, (void)what, (void)bucket, (void)ns, (void)msg, (void)cap;
    *names = NULL;
    *n = 0;
    return QUERY_OK;
}

static query_err_t f_columns(void *ctx, arena_t *a, const query_ref_t *ref, const query_col_t **c,
                             size_t *n, char *msg, size_t cap)
{
    (void)ctx, (void)a, (void)ref, (void)msg, (void)cap;
    *c = NULL;
    *n = 0;
    return QUERY_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena_t *a = arena_new((size_t)64 << 20);
    char msg[256];
    query_stmt_t st;
    if (!a)
        return 0;
    query_rewrite_ctx_t c = {.catalog = size && (data[0] & 1) ? "bk" : NULL,
                             .database = size && (data[0] & 2) ? "ns" : NULL,
                             .expand = f_expand, .list = f_list, .columns = f_columns};
    query_err_t e = query_rewrite(a, (const char *)data, size, &c, &st, msg, sizeof msg);
    if (e == QUERY_OK) {
        if (!st.sql || strlen(st.sql) != st.sql_len)
            abort();
        /* Without references nothing grows, except discovery's VALUES lists
         * and date_add's rename. */
        if (st.nrefs == 0 && st.kind == QUERY_STMT_SELECT && st.sql_len > size &&
            !strstr(st.sql, "kura_v(") && !strstr(st.sql, "kura_date_add"))
            abort();
    }
    char *text = NULL;
    if (query_syntax_text(a, (const char *)data, size, &text, msg, sizeof msg) == QUERY_OK) {
        size_t n = strlen(text), moved = 0;
        for (const char *p = text; (p = strstr(p, "\n;SELECT ")); p++)
            moved++;
        if (n > size + moved * (sizeof "\n;SELECT " - 1 + 1))
            abort();
    }
    arena_free(a);
    return 0;
}
