/* query/http.c: POST /kura/sql (docs/sql.md). The body is JSON
 * {"sql", "format", "catalog", "database"} or the SQL itself as text/plain;
 * the answer is JSON (an object per row), JSON lines or CSV. Results are
 * built in the response buffer (bounded by its ceiling: a larger result is
 * 413 TooLarge, so a client pages with LIMIT/OFFSET or uses Athena). */
#include "query/query_int.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct {
    http_req_t *r;
    buf_t *out;
    query_fmt_t fmt;
    size_t ncols;
    const char **names;
    bool *num;
    arena_t *a;
    uint64_t rows;
} http_sink_t;

static bool h_header(void *ctx, size_t n, const char *const *names, const char *const *types)
{
    http_sink_t *h = ctx;
    h->ncols = n;
    h->names = arena_alloc(h->a, (n + 1) * sizeof *h->names);
    h->num = arena_alloc(h->a, (n + 1) * sizeof *h->num);
    if (!h->names || !h->num)
        return false;
    for (size_t i = 0; i < n; i++) {
        h->names[i] = arena_strdup(h->a, names[i]);
        h->num[i] = query_type_is_number(types[i]);
    }
    if (h->fmt == QUERY_FMT_CSV) {
        /* CSV has no types: x-kura-column-types names them, in order
         * (`kura sql --parquet` types its columns from it). */
        buf_t t;
        buf_init(&t, 1 << 20);
        for (size_t i = 0; i < n; i++)
            buf_printf(&t, "%s%s", i ? "," : "", types[i]);
        if (buf_ok(&t))
            http_set_header(h->r, "x-kura-column-types", buf_cstr(&t));
        buf_release(&t);
        query_csv_row(h->out, n, (const char *const *)h->names);
    } else if (h->fmt == QUERY_FMT_JSON) {
        buf_puts(h->out, "{\"columns\":[");
        for (size_t i = 0; i < n; i++) {
            buf_puts(h->out, i ? ",{\"name\":" : "{\"name\":");
            query_json_str(h->out, names[i]);
            buf_puts(h->out, ",\"type\":");
            query_json_str(h->out, types[i]);
            buf_putc(h->out, '}');
        }
        buf_puts(h->out, "],\"rows\":[");
    }
    return buf_ok(h->out);
}

/* A value of a numeric column is a JSON number when its text is one;
 * DuckDB writes DECIMAL(s,s) without the leading zero (".5", "-.5"), which
 * gets it back. Anything else (nan, inf) stays a string. */
static void json_value(buf_t *b, const char *v, bool num)
{
    if (!v) {
        buf_puts(b, "null");
        return;
    }
    if (num) {
        bool neg = v[0] == '-';
        char fixed[128];
        const char *t = v;
        if (v[neg] == '.') {
            int n = snprintf(fixed, sizeof fixed, "%s0%s", neg ? "-" : "", v + neg);
            t = n > 0 && (size_t)n < sizeof fixed ? fixed : NULL;
        }
        if (t && query_json_number_ok(t)) {
            buf_puts(b, t);
            return;
        }
    }
    query_json_str(b, v);
}

static bool h_row(void *ctx, size_t n, const char *const *v)
{
    http_sink_t *h = ctx;
    if (h->fmt == QUERY_FMT_CSV) {
        query_csv_row(h->out, n, v);
    } else {
        if (h->fmt == QUERY_FMT_JSON && h->rows)
            buf_putc(h->out, ',');
        buf_putc(h->out, '{');
        for (size_t i = 0; i < n; i++) {
            if (i)
                buf_putc(h->out, ',');
            query_json_str(h->out, h->names[i]);
            buf_putc(h->out, ':');
            json_value(h->out, v[i], h->num[i]);
        }
        buf_puts(h->out, h->fmt == QUERY_FMT_JSONL ? "}\n" : "}");
    }
    h->rows++;
    return buf_ok(h->out);
}

static bool parse_fmt(const char *s, query_fmt_t *f)
{
    if (!s || !strcasecmp(s, "json"))
        *f = QUERY_FMT_JSON;
    else if (!strcasecmp(s, "csv"))
        *f = QUERY_FMT_CSV;
    else if (!strcasecmp(s, "jsonl") || !strcasecmp(s, "ndjson"))
        *f = QUERY_FMT_JSONL;
    else
        return false;
    return true;
}

void query_http(query_t *q, http_req_t *r, const auth_caller_t *caller, const char *body,
                size_t len)
{
    const char *ct = http_header(r, "content-type");
    const char *sql = body, *fmt_s = http_param_value(r, "format");
    const char *catalog = http_param_value(r, "catalog"), *db = http_param_value(r, "database");
    size_t sql_len = len;
    json_t *j = NULL;
    query_fmt_t fmt;

    r->svc = "kura";
    r->op = "Sql";
    if (strcmp(r->method, "POST") != 0) {
        query_http_error(r, QUERY_ERR_INVALID, "use POST");
        return;
    }
    /* JSON when it says so, or when it has no type and looks like it. */
    size_t sk = 0;
    while (sk < len && (body[sk] == ' ' || body[sk] == '\n' || body[sk] == '\r' || body[sk] == '\t'))
        sk++;
    bool is_json = ct ? strncasecmp(ct, "application/json", 16) == 0 : sk < len && body[sk] == '{';
    if (ct && (strncasecmp(ct, "text/", 5) == 0 || strncasecmp(ct, "application/sql", 15) == 0))
        is_json = false;
    if (is_json) {
        json_error_t je;
        j = json_loadb(body ? body : "", len, 0, &je);
        const char *s = j ? json_string_value(json_object_get(j, "sql")) : NULL;
        if (!s) {
            query_http_error(r, QUERY_ERR_INVALID, "body must be {\"sql\": \"...\"} or text/plain SQL");
            json_decref(j);
            return;
        }
        sql = s;
        sql_len = strlen(s);
        if (json_string_value(json_object_get(j, "format")))
            fmt_s = json_string_value(json_object_get(j, "format"));
        if (json_string_value(json_object_get(j, "catalog")))
            catalog = json_string_value(json_object_get(j, "catalog"));
        if (json_string_value(json_object_get(j, "database")))
            db = json_string_value(json_object_get(j, "database"));
    }
    if (!parse_fmt(fmt_s, &fmt)) {
        query_http_error(r, QUERY_ERR_INVALID, "format must be json, jsonl or csv");
        json_decref(j);
        return;
    }
    http_sink_t h = {.r = r, .out = &r->out, .fmt = fmt, .a = r->arena};
    query_sink_t sink = {&h, h_header, h_row};
    query_ctx_t c = {.catalog = catalog, .database = db, .caller = caller};
    query_result_t res;
    buf_reset(&r->out);
    query_run(q, &c, sql, sql_len, &sink, &res);
    json_decref(j);
    if (res.err == QUERY_ERR_CANCELLED && !buf_ok(&r->out))
        res.err = query_fail(res.msg, sizeof res.msg, QUERY_ERR_TOO_LARGE,
                             "the result is larger than one response; add LIMIT/OFFSET or use "
                             "the Athena API");
    if (res.err != QUERY_OK) {
        r->out.failed = false;
        query_http_error(r, res.err, res.msg);
        return;
    }
    if (fmt == QUERY_FMT_JSON) {
        if (h.ncols == 0 && h.rows == 0)
            buf_puts(&r->out, "{\"columns\":[],\"rows\":[");
        buf_printf(&r->out,
                   "],\"stats\":{\"rows\":%llu,\"bytes_scanned\":%llu,\"exec_ms\":%lld}}\n",
                   (unsigned long long)res.rows, (unsigned long long)res.bytes_scanned,
                   (long long)res.exec_ms);
    }
    if (!buf_ok(&r->out)) {
        r->out.failed = false;
        query_http_error(r, QUERY_ERR_TOO_LARGE, "the result is larger than one response");
        return;
    }
    r->status = 200;
    http_set_header(r, "Content-Type", fmt == QUERY_FMT_CSV     ? "text/csv; charset=utf-8"
                                       : fmt == QUERY_FMT_JSONL ? "application/x-ndjson"
                                                                : "application/json");
}
