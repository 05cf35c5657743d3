/* query/rewrite.c: the SQL scanner and the name rewrite (issue 8, "Name
 * resolution and semantics"; NOTES 12, 22).
 *
 * kura does not parse SQL: DuckDB does. This file only finds the places
 * kura must change, with a scanner that knows exactly where string
 * literals, quoted identifiers and comments start and end, so a table name
 * inside a literal or comment is never touched and a quote inside a
 * comment never confuses it:
 *   - table references in FROM/JOIN position (and the FROM list's commas),
 *     as "s3tablescatalog/<bucket>"."<ns>"."<table>", <bucket>.<ns>.<table>,
 *     or (with a default catalog/database) <ns>.<table> / <table>, each
 *     with an optional FOR TIMESTAMP AS OF <expr> / FOR VERSION AS OF <id>;
 *   - information_schema.{schemata,tables,columns} in FROM position;
 *   - SHOW CATALOGS/DATABASES/SCHEMAS/TABLES/COLUMNS, DESCRIBE <table>;
 *   - INSERT INTO <table> <query> and CREATE TABLE <table> [WITH (...)] AS
 *     <query> (kura commits those itself);
 *   - Athena's date_add('unit', n, ts), renamed to kura_date_add.
 * Everything else is copied byte for byte. The output is still one
 * statement; DuckDB reports its syntax errors with its own message. */
#include "query/query_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REWRITE_MAX_DEPTH 256 /* parenthesis nesting we track */

/* ---- scanner ----------------------------------------------------------- */

static bool is_ident_start(unsigned char c) { return isalpha(c) || c == '_' || c >= 0x80; }
static bool is_ident_char(unsigned char c) { return isalnum(c) || c == '_' || c == '$' || c >= 0x80; }

/* Length of a token starting at s[0] (s < end). 0: unterminated. Block
 * comments nest, as in PostgreSQL's grammar that DuckDB's parser uses. */
static size_t lex_one(const char *s, const char *end, query_tok_kind_t *kind)
{
    const char *p = s;
    unsigned char c = (unsigned char)*p;

    if (isspace(c)) {
        while (p < end && isspace((unsigned char)*p))
            p++;
        *kind = QTK_WS;
        return (size_t)(p - s);
    }
    if (c == '-' && p + 1 < end && p[1] == '-') {
        while (p < end && *p != '\n')
            p++;
        *kind = QTK_COMMENT;
        return (size_t)(p - s);
    }
    if (c == '/' && p + 1 < end && p[1] == '*') {
        size_t depth = 0;
        while (p + 1 < end) {
            if (p[0] == '/' && p[1] == '*') {
                depth++;
                p += 2;
            } else if (p[0] == '*' && p[1] == '/') {
                p += 2;
                if (--depth == 0) {
                    *kind = QTK_COMMENT;
                    return (size_t)(p - s);
                }
            } else {
                p++;
            }
        }
        return 0;
    }
    if (c == '\'' || ((c == 'e' || c == 'E') && p + 1 < end && p[1] == '\'')) {
        bool esc = c != '\'';
        p += esc ? 2 : 1;
        while (p < end) {
            if (esc && *p == '\\' && p + 1 < end) {
                p += 2;
            } else if (*p == '\'') {
                if (p + 1 < end && p[1] == '\'') {
                    p += 2;
                } else {
                    *kind = QTK_STRING;
                    return (size_t)(p + 1 - s);
                }
            } else {
                p++;
            }
        }
        return 0;
    }
    if (c == '"') {
        for (p++; p < end; p++) {
            if (*p == '"') {
                if (p + 1 < end && p[1] == '"') {
                    p++;
                    continue;
                }
                *kind = QTK_QIDENT;
                return (size_t)(p + 1 - s);
            }
        }
        return 0;
    }
    if (c == '$') {
        /* $tag$ ... $tag$ (tag may be empty); $1 is a parameter. */
        const char *t = p + 1;
        while (t < end && is_ident_char((unsigned char)*t) && *t != '$')
            t++;
        if (t < end && *t == '$' && (t == p + 1 || !isdigit((unsigned char)p[1]))) {
            size_t tag = (size_t)(t + 1 - p);
            for (const char *q = t + 1; q + tag <= end; q++)
                if (*q == '$' && memcmp(q, p, tag) == 0) {
                    *kind = QTK_STRING;
                    return (size_t)(q + tag - s);
                }
            return 0;
        }
        for (p++; p < end && isdigit((unsigned char)*p); p++)
            ;
        *kind = QTK_OP;
        return (size_t)(p - s);
    }
    if (is_ident_start(c)) {
        while (p < end && is_ident_char((unsigned char)*p))
            p++;
        *kind = QTK_IDENT;
        return (size_t)(p - s);
    }
    if (isdigit(c) || (c == '.' && p + 1 < end && isdigit((unsigned char)p[1]))) {
        while (p < end && (isalnum((unsigned char)*p) || *p == '.' || *p == '_' ||
                           ((*p == '+' || *p == '-') && (p[-1] == 'e' || p[-1] == 'E'))))
            p++;
        *kind = QTK_NUMBER;
        return (size_t)(p - s);
    }
    static const char *const ops[] = {"::", "->>", "->", "<=", ">=", "<>", "!=", "||", "=>", "**"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i]);
        if ((size_t)(end - p) >= n && memcmp(p, ops[i], n) == 0) {
            *kind = QTK_OP;
            return n;
        }
    }
    *kind = QTK_PUNCT;
    return 1;
}

query_err_t query_lex(arena_t *a, const char *sql, size_t len, query_tok_t **toks, size_t *n,
                      char *msg, size_t cap)
{
    size_t cnt = 0, capn = 64;
    query_tok_t *t = arena_alloc(a, capn * sizeof *t);
    const char *p = sql, *end = sql + len;

    if (!t)
        return query_fail(msg, cap, QUERY_ERR_INTERNAL, "out of memory");
    if (memchr(sql, '\0', len))
        return query_fail(msg, cap, QUERY_ERR_SYNTAX, "NUL byte in SQL text");
    while (p < end) {
        query_tok_kind_t k;
        size_t l = lex_one(p, end, &k);
        if (l == 0)
            return query_fail(msg, cap, QUERY_ERR_SYNTAX,
                              "unterminated %s starting at offset %zu",
                              *p == '"' ? "quoted identifier" : *p == '/' ? "comment" : "string",
                              (size_t)(p - sql));
        if (cnt == QUERY_MAX_TOKENS)
            return query_fail(msg, cap, QUERY_ERR_TOO_LARGE, "statement has too many tokens");
        if (cnt == capn) {
            query_tok_t *nt = arena_alloc(a, 2 * capn * sizeof *nt);
            if (!nt)
                return query_fail(msg, cap, QUERY_ERR_INTERNAL, "out of memory");
            memcpy(nt, t, capn * sizeof *nt);
            t = nt;
            capn *= 2;
        }
        t[cnt++] = (query_tok_t){k, (size_t)(p - sql), l};
        p += l;
    }
    *toks = t;
    *n = cnt;
    return QUERY_OK;
}

/* ---- helpers ------------------------------------------------------------ */

query_err_t query_fail(char *msg, size_t cap, query_err_t e, const char *fmt, ...)
{
    if (msg && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, cap, fmt, ap);
        va_end(ap);
    }
    return e;
}


void query_sql_str(buf_t *b, const char *s)
{
    buf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            buf_putc(b, '\'');
        buf_putc(b, *s);
    }
    buf_putc(b, '\'');
}

void query_sql_ident(buf_t *b, const char *s)
{
    buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            buf_putc(b, '"');
        buf_putc(b, *s);
    }
    buf_putc(b, '"');
}

#define CATALOG_PREFIX "s3tablescatalog/"

const char *query_catalog_bucket(const char *catalog)
{
    size_t n = strlen(CATALOG_PREFIX);
    if (catalog && strncasecmp(catalog, CATALOG_PREFIX, n) == 0)
        return catalog + n;
    return catalog;
}

/* The rewrite's working state over one statement's tokens. */
typedef struct {
    arena_t *a;
    const char *sql;
    const query_tok_t *t;
    size_t n;
    const query_rewrite_ctx_t *c;
    buf_t out;
    size_t copied; /* source bytes up to here are in `out` */
    char *msg;
    size_t cap;
    const char **ctes; /* names defined by WITH, never table references */
    size_t nctes;
    size_t nrefs;
} rw_t;

/* Index of the next significant token at or after i (n if none). */
static size_t sig(const rw_t *w, size_t i)
{
    while (i < w->n && (w->t[i].kind == QTK_WS || w->t[i].kind == QTK_COMMENT))
        i++;
    return i;
}

static bool tok_is(const rw_t *w, size_t i, const char *word)
{
    if (i >= w->n)
        return false;
    const query_tok_t *k = &w->t[i];
    size_t l = strlen(word);
    if (k->kind == QTK_IDENT)
        return k->len == l && strncasecmp(w->sql + k->off, word, l) == 0;
    if (k->kind == QTK_PUNCT || k->kind == QTK_OP)
        return k->len == l && memcmp(w->sql + k->off, word, l) == 0;
    return false;
}

static bool tok_in(const rw_t *w, size_t i, const char *const *words)
{
    for (; *words; words++)
        if (tok_is(w, i, *words))
            return true;
    return false;
}

/* An identifier token's name, unquoted and folded to lower case: Athena
 * folds quoted names too, and S3 Tables names are lower case only. */
static char *tok_name(const rw_t *w, size_t i)
{
    const query_tok_t *k = &w->t[i];
    const char *s = w->sql + k->off;
    char *r;
    if (k->kind == QTK_IDENT) {
        r = arena_strndup(w->a, s, k->len);
        for (char *p = r; p && *p; p++)
            *p = (char)tolower((unsigned char)*p);
        return r;
    }
    if (k->kind != QTK_QIDENT)
        return NULL;
    r = arena_alloc(w->a, k->len);
    if (!r)
        return NULL;
    size_t o = 0;
    for (size_t j = 1; j + 1 < k->len; j++) {
        r[o++] = (char)tolower((unsigned char)s[j]);
        if (s[j] == '"')
            j++;
    }
    r[o] = '\0';
    return r;
}

static bool is_name_tok(const rw_t *w, size_t i)
{
    return i < w->n && (w->t[i].kind == QTK_IDENT || w->t[i].kind == QTK_QIDENT);
}

/* Copies source text up to byte `off` into out. */
static void flush_to(rw_t *w, size_t off)
{
    if (off > w->copied) {
        buf_append(&w->out, w->sql + w->copied, off - w->copied);
        w->copied = off;
    }
}

static size_t tok_end(const rw_t *w, size_t i) { return w->t[i].off + w->t[i].len; }

/* Keywords after which a bare word is not an alias of the table before. */
static const char *const not_alias[] = {
    "where", "join", "left", "right", "inner", "full", "cross", "natural", "on", "using",
    "group", "order", "limit", "having", "union", "except", "intersect", "window", "qualify",
    "offset", "fetch", "for", "tablesample", "using", "positional", "asof", "anti", "semi",
    "lateral", "outer", "select", "returning", "values", "from", NULL};

/* Clause keywords that end a FROM list at their depth. */
static const char *const from_end[] = {"where", "group", "having", "order", "limit", "union",
                                       "except", "intersect", "window", "qualify", "offset",
                                       "select", "returning", "set", "values", NULL};

/* Words that may follow a complete value inside a time-travel expression
 * without starting an alias: operators, interval units, AT TIME ZONE. */
static const char *const tt_cont[] = {
    "and", "or", "not", "is", "in", "between", "like", "at", "time", "zone", "year", "years",
    "month", "months", "day", "days", "hour", "hours", "minute", "minutes", "second", "seconds",
    "week", "weeks", "millisecond", "milliseconds", "microsecond", "microseconds", "null",
    "collate", "with", "without", NULL};

/* After `FOR TIMESTAMP AS OF` at token i: the end (exclusive token index)
 * of the expression. It stops at depth 0 at , ) ; or a clause keyword, or
 * at a bare word right after a complete value that is no operator or unit
 * (an alias: `... AS OF TIMESTAMP '2024-01-01' t`). */
static size_t tt_expr_end(const rw_t *w, size_t i)
{
    int depth = 0;
    bool value_done = false;
    size_t last = i;
    for (size_t j = sig(w, i); j < w->n; j = sig(w, j + 1)) {
        if (depth == 0) {
            if (tok_is(w, j, ",") || tok_is(w, j, ")") || tok_is(w, j, ";") ||
                tok_in(w, j, not_alias) || tok_is(w, j, "as"))
                break;
            if (value_done && w->t[j].kind == QTK_IDENT && !tok_in(w, j, tt_cont))
                break;
            if (value_done && w->t[j].kind == QTK_QIDENT)
                break;
        }
        if (tok_is(w, j, "("))
            depth++;
        else if (tok_is(w, j, ")"))
            depth--;
        query_tok_kind_t k = w->t[j].kind;
        value_done = depth == 0 && (k == QTK_STRING || k == QTK_NUMBER || k == QTK_QIDENT ||
                                    (k == QTK_IDENT && !tok_in(w, j, tt_cont)) ||
                                    tok_is(w, j, ")"));
        last = j + 1;
    }
    return last;
}

/* Parses a dotted name of 1-3 parts at token i. *next: token after it. */
static size_t parse_name(const rw_t *w, size_t i, char *parts[3], size_t *next)
{
    size_t np = 0, j = i;
    while (np < 3 && is_name_tok(w, j)) {
        parts[np++] = tok_name(w, j);
        *next = j + 1;
        size_t d = j + 1; /* dots bind tightly: no whitespace in DuckDB's names either way */
        if (d < w->n && tok_is(w, d, ".") && d + 1 < w->n && is_name_tok(w, d + 1))
            j = d + 1;
        else
            break;
    }
    return np;
}

/* Fills ref's names from a 1-3 part name and the defaults. False: this
 * name is not a table-bucket table (DuckDB will say what it is). */
static bool name_to_ref(const rw_t *w, char *const parts[3], size_t np, query_ref_t *ref)
{
    const char *cat = w->c->catalog, *db = w->c->database;
    memset(ref, 0, sizeof *ref);
    if (np == 3) {
        ref->bucket = query_catalog_bucket(parts[0]);
        ref->ns = parts[1];
        ref->table = parts[2];
    } else if (np == 2 && cat) {
        if (strcmp(parts[0], "information_schema") == 0)
            return false;
        ref->bucket = cat;
        ref->ns = parts[0];
        ref->table = parts[1];
    } else if (np == 1 && cat && db) {
        for (size_t k = 0; k < w->nctes; k++)
            if (strcmp(w->ctes[k], parts[0]) == 0)
                return false;
        ref->bucket = cat;
        ref->ns = db;
        ref->table = parts[0];
    } else {
        return false;
    }
    return ref->bucket && *ref->bucket && *ref->ns && *ref->table;
}

static bool is_file_function(const char *name);

/* Reads FOR TIMESTAMP|SYSTEM_TIME|VERSION|SYSTEM_VERSION AS OF ... at i.
 * *next is the token after the clause; i unchanged when absent. */
static query_err_t parse_time_travel(rw_t *w, size_t i, query_ref_t *ref, size_t *next)
{
    size_t f = sig(w, i);
    *next = i;
    if (!tok_is(w, f, "for"))
        return QUERY_OK;
    size_t k = sig(w, f + 1), as = sig(w, k + 1), of = sig(w, as + 1);
    bool ts = tok_is(w, k, "timestamp") || tok_is(w, k, "system_time");
    bool ver = tok_is(w, k, "version") || tok_is(w, k, "system_version");
    if ((!ts && !ver) || !tok_is(w, as, "as") || !tok_is(w, of, "of"))
        return query_fail(w->msg, w->cap, QUERY_ERR_SYNTAX,
                          "expected FOR TIMESTAMP AS OF or FOR VERSION AS OF after a table name");
    size_t e = sig(w, of + 1);
    if (ver) {
        char *endp = NULL;
        if (e >= w->n || w->t[e].kind != QTK_NUMBER)
            return query_fail(w->msg, w->cap, QUERY_ERR_SYNTAX,
                              "FOR VERSION AS OF needs a snapshot id");
        char *num = arena_strndup(w->a, w->sql + w->t[e].off, w->t[e].len);
        long long v = num ? strtoll(num, &endp, 10) : 0;
        if (!num || *endp || v <= 0)
            return query_fail(w->msg, w->cap, QUERY_ERR_SYNTAX, "bad snapshot id '%s'",
                              num ? num : "");
        ref->tt = QUERY_TT_VERSION;
        ref->version = v;
        *next = e + 1;
        return QUERY_OK;
    }
    size_t stop = tt_expr_end(w, e);
    if (stop <= e)
        return query_fail(w->msg, w->cap, QUERY_ERR_SYNTAX,
                          "FOR TIMESTAMP AS OF needs a timestamp expression");
    /* kura evaluates this text itself (resolve.c), before the statement's
     * own checks: a plain expression only. */
    for (size_t j = e; j < stop; j++)
        if (tok_is(w, j, "select") || tok_is(w, j, ";") ||
            (is_name_tok(w, j) && tok_is(w, sig(w, j + 1), "(") && is_file_function(tok_name(w, j))))
            return query_fail(w->msg, w->cap, QUERY_ERR_FORBIDDEN,
                              "FOR TIMESTAMP AS OF takes an expression, not a query");
    ref->tt = QUERY_TT_TIMESTAMP;
    ref->ts_expr = arena_strndup(w->a, w->sql + w->t[e].off, tok_end(w, stop - 1) - w->t[e].off);
    *next = stop;
    return ref->ts_expr ? QUERY_OK : QUERY_ERR_INTERNAL;
}

query_err_t query_syntax_text(arena_t *a, const char *sql, size_t len, char **out, char *msg,
                              size_t cap)
{
    rw_t w = {.a = a, .sql = sql, .msg = msg, .cap = cap};
    query_tok_t *toks;
    query_err_t e;
    if ((e = query_lex(a, sql, len, &toks, &w.n, msg, cap)) != QUERY_OK)
        return e;
    w.t = toks;
    buf_t exprs;
    buf_init(&w.out, QUERY_SQL_MAX_BYTES * 2);
    buf_init(&exprs, QUERY_SQL_MAX_BYTES * 2);
    for (size_t i = 0; i < w.n; i++) {
        if (!tok_is(&w, i, "for"))
            continue;
        size_t k = sig(&w, i + 1), as = sig(&w, k + 1), of = sig(&w, as + 1), x = sig(&w, of + 1);
        bool ts = tok_is(&w, k, "timestamp") || tok_is(&w, k, "system_time");
        bool ver = tok_is(&w, k, "version") || tok_is(&w, k, "system_version");
        if ((!ts && !ver) || !tok_is(&w, as, "as") || !tok_is(&w, of, "of") || x >= w.n)
            continue;
        size_t stop = ts ? tt_expr_end(&w, x) : x + 1;
        if (stop <= x)
            continue;
        flush_to(&w, w.t[i].off);
        buf_putc(&w.out, ' ');
        buf_puts(&exprs, "\n;SELECT ");
        buf_append(&exprs, sql + w.t[x].off, tok_end(&w, stop - 1) - w.t[x].off);
        w.copied = tok_end(&w, stop - 1);
        i = stop - 1;
    }
    flush_to(&w, len);
    buf_append(&w.out, exprs.data, exprs.len);
    bool ok = buf_ok(&w.out) && buf_ok(&exprs);
    *out = ok ? arena_strndup(a, w.out.data, w.out.len) : NULL;
    buf_release(&w.out);
    buf_release(&exprs);
    if (!ok)
        return query_fail(msg, cap, QUERY_ERR_TOO_LARGE, "SQL text too large");
    return *out ? QUERY_OK : QUERY_ERR_INTERNAL;
}

/* A (SELECT ... FROM (VALUES ...) t(cols) [WHERE false]) over string rows. */
static const char *values_sql(rw_t *w, const char *const *cols, size_t ncols,
                              const char *const *cells, size_t nrows)
{
    buf_t b;
    buf_init(&b, QUERY_REWRITE_MAX_BYTES);
    buf_puts(&b, "(SELECT * FROM (VALUES ");
    for (size_t r = 0; r < (nrows ? nrows : 1); r++) {
        buf_puts(&b, r ? ", (" : "(");
        for (size_t c = 0; c < ncols; c++) {
            const char *v = nrows ? cells[r * ncols + c] : NULL;
            if (c)
                buf_puts(&b, ", ");
            if (v)
                query_sql_str(&b, v);
            else
                buf_puts(&b, "NULL::VARCHAR");
        }
        buf_putc(&b, ')');
    }
    buf_puts(&b, ") AS kura_v(");
    for (size_t c = 0; c < ncols; c++) {
        if (c)
            buf_puts(&b, ", ");
        query_sql_ident(&b, cols[c]);
    }
    buf_puts(&b, nrows ? "))" : ") WHERE false)");
    const char *r = buf_ok(&b) ? arena_strndup(w->a, b.data, b.len) : NULL;
    buf_release(&b);
    return r;
}

/* Every (bucket, namespace) or (bucket, namespace, table) the caller may see. */
static query_err_t walk_catalog(rw_t *w, const char *only_bucket, bool tables, const char ***cells,
                                size_t *nrows)
{
    const char **bk = NULL, **res = NULL;
    size_t nb = 0, cnt = 0, capc = 0, width = tables ? 3 : 2;
    query_err_t e;
    if (only_bucket) {
        bk = &only_bucket;
        nb = 1;
    } else if ((e = w->c->list(w->c->ctx, w->a, QUERY_LIST_BUCKETS, NULL, NULL, &bk, &nb, w->msg,
                               w->cap)) != QUERY_OK) {
        return e;
    }
    for (size_t i = 0; i < nb; i++) {
        const char **ns = NULL;
        size_t nn = 0;
        if ((e = w->c->list(w->c->ctx, w->a, QUERY_LIST_NAMESPACES, bk[i], NULL, &ns, &nn, w->msg,
                            w->cap)) != QUERY_OK)
            return e;
        for (size_t j = 0; j < nn; j++) {
            const char **tb = NULL;
            size_t nt = 1;
            if (tables && (e = w->c->list(w->c->ctx, w->a, QUERY_LIST_TABLES, bk[i], ns[j], &tb,
                                          &nt, w->msg, w->cap)) != QUERY_OK)
                return e;
            for (size_t k = 0; k < nt; k++) {
                if (cnt == capc) {
                    size_t nc = capc ? 2 * capc : 64;
                    const char **g = arena_alloc(w->a, nc * width * sizeof *g);
                    if (!g)
                        return QUERY_ERR_INTERNAL;
                    if (cnt)
                        memcpy(g, res, cnt * width * sizeof *g);
                    res = g;
                    capc = nc;
                }
                res[cnt * width] = arena_printf(w->a, CATALOG_PREFIX "%s", bk[i]);
                res[cnt * width + 1] = ns[j];
                if (tables)
                    res[cnt * width + 2] = tb[k];
                cnt++;
            }
        }
    }
    *cells = res;
    *nrows = cnt;
    return QUERY_OK;
}

/* information_schema.<view> in FROM position. */
static query_err_t info_schema(rw_t *w, const char *view, const char **sql)
{
    const char **cells = NULL;
    size_t nrows = 0;
    query_err_t e;
    if (strcmp(view, "schemata") == 0) {
        static const char *const cols[] = {"catalog_name", "schema_name"};
        if ((e = walk_catalog(w, NULL, false, &cells, &nrows)) != QUERY_OK)
            return e;
        *sql = values_sql(w, cols, 2, cells, nrows);
    } else if (strcmp(view, "tables") == 0) {
        static const char *const cols[] = {"table_catalog", "table_schema", "table_name",
                                           "table_type"};
        if ((e = walk_catalog(w, NULL, true, &cells, &nrows)) != QUERY_OK)
            return e;
        const char **c4 = arena_alloc(w->a, (nrows + 1) * 4 * sizeof *c4);
        if (!c4)
            return QUERY_ERR_INTERNAL;
        for (size_t i = 0; i < nrows; i++) {
            memcpy(&c4[i * 4], &cells[i * 3], 3 * sizeof *c4);
            c4[i * 4 + 3] = "BASE TABLE";
        }
        *sql = values_sql(w, cols, 4, c4, nrows);
    } else if (strcmp(view, "columns") == 0) {
        static const char *const cols[] = {"table_catalog", "table_schema", "table_name",
                                           "column_name", "ordinal_position", "data_type",
                                           "comment"};
        if ((e = walk_catalog(w, NULL, true, &cells, &nrows)) != QUERY_OK)
            return e;
        size_t cnt = 0, capc = 0;
        const char **res = NULL;
        for (size_t i = 0; i < nrows; i++) {
            query_ref_t ref = {.bucket = query_catalog_bucket(cells[i * 3]),
                               .ns = cells[i * 3 + 1],
                               .table = cells[i * 3 + 2]};
            const query_col_t *cl;
            size_t nc;
            e = w->c->columns(w->c->ctx, w->a, &ref, &cl, &nc, w->msg, w->cap);
            if (e == QUERY_ERR_FORBIDDEN || e == QUERY_ERR_NO_TABLE) {
                nc = 0; /* listed but not readable by this caller, or dropped since */
                w->msg[0] = '\0';
            } else if (e != QUERY_OK) {
                return e;
            }
            for (size_t k = 0; k < nc; k++) {
                if (cnt == capc) {
                    size_t ncap = capc ? 2 * capc : 256;
                    const char **g = arena_alloc(w->a, ncap * 7 * sizeof *g);
                    if (!g)
                        return QUERY_ERR_INTERNAL;
                    if (cnt)
                        memcpy(g, res, cnt * 7 * sizeof *g);
                    res = g;
                    capc = ncap;
                }
                const char **row = &res[cnt * 7];
                row[0] = cells[i * 3];
                row[1] = ref.ns;
                row[2] = ref.table;
                row[3] = cl[k].name;
                row[4] = arena_printf(w->a, "%zu", k + 1);
                row[5] = cl[k].type;
                row[6] = cl[k].doc;
                cnt++;
            }
        }
        *sql = values_sql(w, cols, 7, res, cnt);
    } else {
        return query_fail(w->msg, w->cap, QUERY_ERR_NO_TABLE,
                          "information_schema.%s is not available (schemata, tables, columns are)",
                          view);
    }
    return *sql ? QUERY_OK : QUERY_ERR_TOO_LARGE;
}

/* Table functions that read files or run SQL text: user SQL names tables,
 * never files (the locked instance refuses paths outside the blob
 * directory; this refuses reading blobs around the catalog's policies). */
static bool is_file_function(const char *name)
{
    static const char *const prefixes[] = {"read_", "parquet_", "iceberg_", "delta_", "sqlite_",
                                           "postgres_", "mysql_", "csv_", "json_", NULL};
    static const char *const names[] = {"glob",       "query",      "query_table", "sniff_csv",
                                        "parquet_scan", "load_extension", "getenv", NULL};
    for (size_t i = 0; prefixes[i]; i++)
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0 &&
            strcmp(name, "json_extract") != 0 && strncmp(name, "json_extract", 12) != 0 &&
            strcmp(name, "json_object") != 0 && strcmp(name, "json_array") != 0)
            return true;
    for (size_t i = 0; names[i]; i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

/* A reference at tokens [i, next) (name + time travel) becomes SQL. */
static query_err_t replace_ref(rw_t *w, size_t i, size_t next, const query_ref_t *ref, bool soft)
{
    const char *sub = NULL;
    query_err_t e;
    if (w->nrefs == QUERY_MAX_REFS)
        return query_fail(w->msg, w->cap, QUERY_ERR_TOO_LARGE, "too many table references");
    e = w->c->expand(w->c->ctx, w->a, ref, &sub, w->msg, w->cap);
    /* A short name under the default catalog that is no table there may
     * be something DuckDB knows (a macro's table, a CTE we missed). */
    if (e == QUERY_ERR_NO_TABLE && soft && ref->tt == QUERY_TT_NONE) {
        if (w->msg && w->cap)
            w->msg[0] = '\0';
        return QUERY_OK;
    }
    if (e != QUERY_OK)
        return e;
    flush_to(w, w->t[i].off);
    buf_puts(&w->out, sub);
    /* Without an alias the table is still addressable by its own name
     * (WHERE journal.key = ...), as in Athena. */
    size_t al = sig(w, next);
    bool aliased = al < w->n && (tok_is(w, al, "as") || w->t[al].kind == QTK_QIDENT ||
                                 (w->t[al].kind == QTK_IDENT && !tok_in(w, al, not_alias)));
    if (!aliased) {
        buf_puts(&w->out, " AS ");
        query_sql_ident(&w->out, ref->table);
    }
    w->copied = tok_end(w, next - 1);
    w->nrefs++;
    return QUERY_OK;
}

/* Records CTE names: `<name> AS (` and `<name> (cols) AS (`, so an
 * unqualified FROM name that is a CTE is left to DuckDB. */
static void collect_ctes(rw_t *w)
{
    size_t cap = 0;
    for (size_t i = sig(w, 0); i < w->n; i = sig(w, i + 1)) {
        if (!is_name_tok(w, i))
            continue;
        size_t j = sig(w, i + 1);
        if (tok_is(w, j, "(")) { /* column list */
            int d = 0;
            for (; j < w->n; j++) {
                if (tok_is(w, j, "("))
                    d++;
                else if (tok_is(w, j, ")") && --d == 0)
                    break;
            }
            j = sig(w, j + 1);
        }
        if (!tok_is(w, j, "as") || !tok_is(w, sig(w, j + 1), "("))
            continue;
        if (w->nctes == cap) {
            size_t nc = cap ? cap * 2 : 8;
            const char **g = arena_alloc(w->a, nc * sizeof *g);
            if (!g)
                return;
            if (w->nctes)
                memcpy(g, w->ctes, w->nctes * sizeof *g);
            w->ctes = g;
            cap = nc;
        }
        w->ctes[w->nctes++] = tok_name(w, i);
    }
}

/* The body scan: FROM positions, function renames, forbidden functions. */
static query_err_t rewrite_body(rw_t *w, size_t from_tok)
{
    bool infrom[REWRITE_MAX_DEPTH] = {false};
    bool incall[REWRITE_MAX_DEPTH] = {false}; /* EXTRACT(x FROM y) and kin */
    static const char *const from_calls[] = {"extract", "substring", "trim", "position",
                                             "overlay", NULL};
    size_t depth = 0, prev = w->n; /* previous significant token */
    size_t clause_from = w->n;     /* the last FROM that starts a FROM list */
    query_err_t e;

    for (size_t i = sig(w, from_tok); i < w->n; prev = i, i = sig(w, i + 1)) {
        if (tok_is(w, i, "(")) {
            if (++depth == REWRITE_MAX_DEPTH)
                return query_fail(w->msg, w->cap, QUERY_ERR_TOO_LARGE, "nesting too deep");
            infrom[depth] = false;
            incall[depth] = prev < w->n && tok_in(w, prev, from_calls);
            continue;
        }
        if (tok_is(w, i, ")")) {
            if (depth > 0)
                depth--;
            continue;
        }
        if (tok_is(w, i, "from")) {
            /* a IS DISTINCT FROM b; EXTRACT(day FROM ts): no table follows. */
            if (!incall[depth] && !(prev < w->n && tok_is(w, prev, "distinct"))) {
                infrom[depth] = true;
                clause_from = i;
            }
            continue;
        }
        if (tok_in(w, i, from_end)) {
            infrom[depth] = false;
            continue;
        }
        bool table_pos = prev < w->n && (prev == clause_from || tok_is(w, prev, "join") ||
                                         (tok_is(w, prev, ",") && infrom[depth]));
        if (table_pos && w->t[i].kind == QTK_STRING)
            return query_fail(w->msg, w->cap, QUERY_ERR_FORBIDDEN,
                              "reading files by path is not allowed; name a table instead");
        if (!is_name_tok(w, i))
            continue;

        char *parts[3] = {NULL, NULL, NULL};
        size_t next = i + 1;
        size_t np = parse_name(w, i, parts, &next);
        size_t after = sig(w, next);
        if (tok_is(w, after, "(")) {
            /* A function call: check its last name part. */
            const char *fn = parts[np - 1];
            if (fn && is_file_function(fn))
                return query_fail(w->msg, w->cap, QUERY_ERR_FORBIDDEN,
                                  "function %s() is not allowed: user SQL reads tables, not files",
                                  fn);
            if (np == 1 && fn && strcmp(fn, "date_add") == 0 &&
                sig(w, after + 1) < w->n && w->t[sig(w, after + 1)].kind == QTK_STRING) {
                /* Athena's date_add('day', -1, ts) vs DuckDB's date_add(ts, interval). */
                flush_to(w, w->t[i].off);
                buf_puts(&w->out, "kura_date_add");
                w->copied = tok_end(w, i);
            }
            i = next - 1;
            continue;
        }
        if (!table_pos) {
            i = next - 1;
            continue;
        }
        if (np == 2 && strcmp(parts[0], "information_schema") == 0) {
            const char *sub = NULL;
            if ((e = info_schema(w, parts[1], &sub)) != QUERY_OK)
                return e;
            flush_to(w, w->t[i].off);
            buf_puts(&w->out, sub);
            size_t al = sig(w, next);
            if (!(al < w->n && (tok_is(w, al, "as") || w->t[al].kind == QTK_QIDENT ||
                                (w->t[al].kind == QTK_IDENT && !tok_in(w, al, not_alias))))) {
                buf_puts(&w->out, " AS ");
                query_sql_ident(&w->out, parts[1]);
            }
            w->copied = tok_end(w, next - 1);
            i = next - 1;
            continue;
        }
        query_ref_t ref;
        if (!name_to_ref(w, parts, np, &ref)) {
            i = next - 1;
            continue;
        }
        size_t tt_next;
        if ((e = parse_time_travel(w, next, &ref, &tt_next)) != QUERY_OK)
            return e;
        if (tt_next > next)
            next = tt_next;
        if ((e = replace_ref(w, i, next, &ref, np < 3)) != QUERY_OK)
            return e;
        i = next - 1;
    }
    return QUERY_OK;
}

/* ---- discovery statements ----------------------------------------------- */

/* Optional `LIKE 'pattern'` at token i, as a WHERE on column `col`. */
static const char *like_filter(rw_t *w, size_t i, const char *col, size_t *next)
{
    size_t l = sig(w, i);
    *next = l;
    if (!tok_is(w, l, "like"))
        return "";
    size_t p = sig(w, l + 1);
    if (p >= w->n || w->t[p].kind != QTK_STRING)
        return NULL;
    *next = sig(w, p + 1);
    /* Athena's SHOW ... LIKE uses '*' as the wildcard and '|' for choice;
     * '*' -> '%' covers the common case. */
    buf_t b;
    buf_init(&b, 4096);
    buf_puts(&b, " WHERE ");
    query_sql_ident(&b, col);
    buf_puts(&b, " LIKE replace(");
    buf_append(&b, w->sql + w->t[p].off, w->t[p].len);
    buf_puts(&b, ", '*', '%')");
    const char *r = buf_ok(&b) ? arena_strndup(w->a, b.data, b.len) : NULL;
    buf_release(&b);
    return r;
}

static query_err_t finish_show(rw_t *w, const char *values, const char *filter, size_t end,
                               query_stmt_t *out)
{
    size_t s = sig(w, end);
    if (s < w->n && tok_is(w, s, ";"))
        s = sig(w, s + 1);
    if (s < w->n || !values || !filter)
        return query_fail(w->msg, w->cap, QUERY_ERR_SYNTAX, "unexpected text after SHOW/DESCRIBE");
    char *sql = arena_printf(w->a, "SELECT * FROM %s AS kura_show%s", values, filter);
    if (!sql)
        return QUERY_ERR_INTERNAL;
    out->kind = QUERY_STMT_SELECT;
    out->sql = sql;
    out->sql_len = strlen(sql);
    return QUERY_OK;
}

/* Reads a [catalog.]database name for SHOW ... IN/FROM. */
static bool db_name(rw_t *w, size_t i, const char **bucket, const char **ns, size_t *next)
{
    char *parts[3] = {NULL, NULL, NULL};
    size_t n1 = i + 1;
    size_t np = parse_name(w, i, parts, &n1);
    *next = n1;
    if (np == 2) {
        *bucket = query_catalog_bucket(parts[0]);
        *ns = parts[1];
        return true;
    }
    if (np == 1) {
        *ns = parts[0];
        return true;
    }
    return false;
}

static query_err_t show_stmt(rw_t *w, size_t s0, query_stmt_t *out)
{
    size_t k = sig(w, s0 + 1), next;
    const char *bucket = w->c->catalog, *ns = w->c->database, *filter;
    const char **names = NULL, **cells;
    size_t n = 0, nrows;
    query_err_t e;

    if (tok_is(w, k, "catalogs")) {
        if ((e = w->c->list(w->c->ctx, w->a, QUERY_LIST_BUCKETS, NULL, NULL, &names, &n, w->msg,
                            w->cap)) != QUERY_OK)
            return e;
        const char **c1 = arena_alloc(w->a, (n + 1) * sizeof *c1);
        for (size_t i = 0; c1 && i < n; i++)
            c1[i] = arena_printf(w->a, CATALOG_PREFIX "%s", names[i]);
        static const char *const cols[] = {"catalog_name"};
        filter = like_filter(w, k + 1, "catalog_name", &next);
        return finish_show(w, c1 ? values_sql(w, cols, 1, c1, n) : NULL, filter, next, out);
    }
    if (tok_is(w, k, "databases") || tok_is(w, k, "schemas")) {
        size_t j = sig(w, k + 1);
        if (tok_is(w, j, "in") || tok_is(w, j, "from")) {
            char *parts[3] = {NULL, NULL, NULL};
            size_t n1 = j + 1;
            if (parse_name(w, sig(w, j + 1), parts, &n1) != 1)
                return query_fail(w->msg, w->cap, QUERY_ERR_SYNTAX, "SHOW DATABASES IN <catalog>");
            bucket = query_catalog_bucket(parts[0]);
            j = n1;
        }
        static const char *const cols1[] = {"database_name"};
        static const char *const cols2[] = {"catalog_name", "database_name"};
        filter = like_filter(w, j, "database_name", &next);
        if (bucket) {
            if ((e = w->c->list(w->c->ctx, w->a, QUERY_LIST_NAMESPACES, bucket, NULL, &names, &n,
                                w->msg, w->cap)) != QUERY_OK)
                return e;
            return finish_show(w, values_sql(w, cols1, 1, names, n), filter, next, out);
        }
        if ((e = walk_catalog(w, NULL, false, &cells, &nrows)) != QUERY_OK)
            return e;
        return finish_show(w, values_sql(w, cols2, 2, cells, nrows), filter, next, out);
    }
    if (tok_is(w, k, "tables")) {
        size_t j = sig(w, k + 1);
        if (tok_is(w, j, "in") || tok_is(w, j, "from")) {
            if (!db_name(w, sig(w, j + 1), &bucket, &ns, &j))
                return query_fail(w->msg, w->cap, QUERY_ERR_SYNTAX, "SHOW TABLES IN <database>");
        }
        if (!bucket || !ns)
            return query_fail(w->msg, w->cap, QUERY_ERR_INVALID,
                              "SHOW TABLES needs a database: SHOW TABLES IN "
                              "\"s3tablescatalog/<bucket>\".<namespace>, or set the catalog and "
                              "database of the query");
        if ((e = w->c->list(w->c->ctx, w->a, QUERY_LIST_TABLES, bucket, ns, &names, &n, w->msg,
                            w->cap)) != QUERY_OK)
            return e;
        static const char *const cols[] = {"tab_name"};
        filter = like_filter(w, j, "tab_name", &next);
        return finish_show(w, values_sql(w, cols, 1, names, n), filter, next, out);
    }
    if (tok_is(w, k, "columns")) {
        size_t j = sig(w, k + 1);
        if (!tok_is(w, j, "in") && !tok_is(w, j, "from"))
            return query_fail(w->msg, w->cap, QUERY_ERR_SYNTAX, "SHOW COLUMNS IN <table>");
        return QUERY_ERR__COUNT; /* handled as DESCRIBE by the caller, from token j + 1 */
    }
    return query_fail(w->msg, w->cap, QUERY_ERR_FORBIDDEN,
                      "only SHOW CATALOGS, DATABASES, SCHEMAS, TABLES and COLUMNS are supported");
}

static query_err_t describe_stmt(rw_t *w, size_t i, query_stmt_t *out)
{
    char *parts[3] = {NULL, NULL, NULL};
    size_t next = i + 1;
    size_t np = parse_name(w, i, parts, &next);
    query_ref_t ref;
    const query_col_t *cl;
    size_t nc;
    query_err_t e;
    if (np == 0 || !name_to_ref(w, parts, np, &ref))
        return query_fail(w->msg, w->cap, QUERY_ERR_NO_TABLE,
                          "DESCRIBE needs a table: \"s3tablescatalog/<bucket>\".<ns>.<table>, "
                          "<bucket>.<ns>.<table>, or a name under the query's catalog/database");
    if ((e = w->c->columns(w->c->ctx, w->a, &ref, &cl, &nc, w->msg, w->cap)) != QUERY_OK)
        return e;
    const char **cells = arena_alloc(w->a, (nc + 1) * 3 * sizeof *cells);
    if (!cells)
        return QUERY_ERR_INTERNAL;
    for (size_t k = 0; k < nc; k++) {
        cells[k * 3] = cl[k].name;
        cells[k * 3 + 1] = cl[k].type;
        cells[k * 3 + 2] = cl[k].doc ? cl[k].doc : "";
    }
    static const char *const cols[] = {"col_name", "data_type", "comment"};
    return finish_show(w, values_sql(w, cols, 3, cells, nc), "", next, out);
}

/* ---- statements ----------------------------------------------------------- */

/* INSERT INTO <name> <query> / CREATE TABLE [IF NOT EXISTS] <name>
 * [WITH (...)] AS <query>: fills out->target and returns the first token
 * of <query> in *body. */
static query_err_t write_target(rw_t *w, size_t i, bool ctas, query_stmt_t *out, size_t *body)
{
    char *parts[3] = {NULL, NULL, NULL};
    size_t next = i + 1;
    size_t np = parse_name(w, i, parts, &next);
    if (np == 0 || !name_to_ref(w, parts, np, &out->target))
        return query_fail(w->msg, w->cap, QUERY_ERR_FORBIDDEN,
                          "writes go to table-bucket tables only: name the target as "
                          "<bucket>.<namespace>.<table>");
    size_t j = sig(w, next);
    if (!ctas) {
        if (tok_is(w, j, "("))
            return query_fail(w->msg, w->cap, QUERY_ERR_UNSUPPORTED,
                              "INSERT with a column list is not supported; select every column "
                              "in table order");
        *body = j;
        return QUERY_OK;
    }
    if (tok_is(w, j, "with") && tok_is(w, sig(w, j + 1), "(")) {
        /* Athena's table properties (format, location, ...): kura writes
         * Parquet into the table's own location whatever they say. */
        int d = 0;
        for (j = sig(w, j + 1); j < w->n; j++) {
            if (tok_is(w, j, "("))
                d++;
            else if (tok_is(w, j, ")") && --d == 0)
                break;
        }
        j = sig(w, j + 1);
    }
    if (!tok_is(w, j, "as"))
        return query_fail(w->msg, w->cap, QUERY_ERR_UNSUPPORTED,
                          "only CREATE TABLE ... AS SELECT is supported");
    *body = sig(w, j + 1);
    return QUERY_OK;
}

static const char *const forbidden_first[] = {
    "copy", "attach", "detach", "install", "load", "pragma", "set", "reset", "export", "import",
    "call", "checkpoint", "use", "vacuum", "create", "drop", "alter", "update", "delete", "merge",
    "truncate", "prepare", "execute", "deallocate", "begin", "commit", "rollback", "abort",
    "start", "grant", "revoke", "comment", "analyze", "unload", "msck", NULL};

query_err_t query_rewrite(arena_t *a, const char *sql, size_t len, const query_rewrite_ctx_t *c,
                          query_stmt_t *out, char *msg, size_t cap)
{
    rw_t w = {.a = a, .sql = sql, .c = c, .msg = msg, .cap = cap};
    query_err_t e;
    size_t body = 0;

    memset(out, 0, sizeof *out);
    if (len > QUERY_SQL_MAX_BYTES)
        return query_fail(msg, cap, QUERY_ERR_TOO_LARGE, "SQL text over %zu bytes",
                          QUERY_SQL_MAX_BYTES);
    query_tok_t *toks;
    if ((e = query_lex(a, sql, len, &toks, &w.n, msg, cap)) != QUERY_OK)
        return e;
    w.t = toks;

    /* One statement: a ';' may only be followed by more ';' and blanks. */
    size_t stmt_end = len;
    for (size_t i = 0; i < w.n; i++) {
        if (tok_is(&w, i, ";")) {
            for (size_t j = sig(&w, i + 1); j < w.n; j = sig(&w, j + 1))
                if (!tok_is(&w, j, ";"))
                    return query_fail(msg, cap, QUERY_ERR_INVALID,
                                      "one statement per request");
            stmt_end = w.t[i].off;
            w.n = i;
            break;
        }
    }
    size_t s0 = sig(&w, 0);
    if (s0 >= w.n)
        return query_fail(msg, cap, QUERY_ERR_SYNTAX, "empty statement");

    if (tok_is(&w, s0, "show")) {
        e = show_stmt(&w, s0, out);
        if (e != QUERY_ERR__COUNT)
            return e;
        return describe_stmt(&w, sig(&w, sig(&w, sig(&w, s0 + 1) + 1) + 1), out);
    }
    if (tok_is(&w, s0, "describe") || tok_is(&w, s0, "desc")) {
        size_t j = sig(&w, s0 + 1);
        if (tok_is(&w, j, "table"))
            j = sig(&w, j + 1);
        if (is_name_tok(&w, j) && !tok_is(&w, j, "select") && !tok_is(&w, j, "with"))
            return describe_stmt(&w, j, out);
        return query_fail(msg, cap, QUERY_ERR_FORBIDDEN, "DESCRIBE takes a table name");
    }

    out->kind = QUERY_STMT_SELECT;
    if (tok_is(&w, s0, "insert")) {
        size_t into = sig(&w, s0 + 1);
        if (!tok_is(&w, into, "into"))
            return query_fail(msg, cap, QUERY_ERR_SYNTAX, "expected INSERT INTO");
        out->kind = QUERY_STMT_INSERT;
        if ((e = write_target(&w, sig(&w, into + 1), false, out, &body)) != QUERY_OK)
            return e;
    } else if (tok_is(&w, s0, "create") && tok_is(&w, sig(&w, s0 + 1), "table")) {
        size_t j = sig(&w, sig(&w, s0 + 1) + 1);
        if (tok_is(&w, j, "if") && tok_is(&w, sig(&w, j + 1), "not") &&
            tok_is(&w, sig(&w, sig(&w, j + 1) + 1), "exists")) {
            out->if_not_exists = true;
            j = sig(&w, sig(&w, sig(&w, j + 1) + 1) + 1);
        }
        out->kind = QUERY_STMT_CTAS;
        if ((e = write_target(&w, j, true, out, &body)) != QUERY_OK)
            return e;
    } else if (tok_in(&w, s0, forbidden_first)) {
        return query_fail(msg, cap, QUERY_ERR_FORBIDDEN,
                          "%.*s statements are not allowed; kura runs SELECT, SHOW, DESCRIBE, "
                          "INSERT INTO and CREATE TABLE AS SELECT",
                          (int)w.t[s0].len, sql + w.t[s0].off);
    }
    if (body >= w.n && out->kind != QUERY_STMT_SELECT)
        return query_fail(msg, cap, QUERY_ERR_SYNTAX, "missing query after the table name");

    buf_init(&w.out, QUERY_REWRITE_MAX_BYTES);
    w.copied = body < w.n ? w.t[body].off : 0;
    collect_ctes(&w);
    e = rewrite_body(&w, body);
    if (e == QUERY_OK) {
        flush_to(&w, stmt_end);
        if (!buf_ok(&w.out))
            e = query_fail(msg, cap, QUERY_ERR_TOO_LARGE, "rewritten statement over %zu bytes",
                           QUERY_REWRITE_MAX_BYTES);
    }
    if (e == QUERY_OK) {
        out->sql = arena_strndup(a, buf_cstr(&w.out), w.out.len);
        out->sql_len = w.out.len;
        out->nrefs = w.nrefs;
        if (!out->sql)
            e = QUERY_ERR_INTERNAL;
    }
    buf_release(&w.out);
    return e;
}
