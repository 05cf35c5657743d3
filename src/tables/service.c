/* tables/service.c: entry point of the S3 Tables service and the Iceberg
 * REST catalog: splits the path into decoded segments (a table bucket ARN
 * is one segment: split on '/' first, then decode, s3tables-api §1), parses
 * the JSON body, and hands the request to its family of operations. */
#include "tables/tables_int.h"

#include "util/codec.h"
#include "util/uri.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tables_t *tables_new(const kura_config_t *cfg, store_t *st, const auth_identity_t *id)
{
    tables_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cfg = cfg;
    t->st = st;
    t->id = *id;
    static const char label[] = "kura iceberg bearer token v1";
    codec_hmac_sha256(cfg->secret_key, strlen(cfg->secret_key), label, sizeof label - 1,
                      t->token_key);
    return t;
}

void tables_free(tables_t *t)
{
    if (t) {
        memset(t->token_key, 0, sizeof t->token_key);
        free(t);
    }
}

/* Splits raw_path (after skip bytes) on '/' and percent-decodes each
 * segment. Empty segments (a trailing '/') are dropped. BAD_REQUEST on a
 * malformed escape, a NUL byte or too many segments. */
static tables_err_t split_path(tables_req_t *q, const char *path)
{
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (q->nseg == TABLES_MAX_SEGS)
            return TABLES_ERR_UNKNOWN_OP;
        buf_t b;
        buf_init(&b, TABLES_ARN_MAX + 16);
        bool ok = uri_decode(&b, p, n, false) && buf_ok(&b) && strlen(buf_cstr(&b)) == b.len;
        const char *s = ok ? arena_strdup(q->a, buf_cstr(&b)) : NULL;
        buf_release(&b);
        if (!s)
            return TABLES_ERR_BAD_REQUEST;
        q->seg[q->nseg++] = s;
        p += n;
    }
    return TABLES_OK;
}

tables_err_t tables_req_json(tables_req_t *q)
{
    if (q->json)
        return TABLES_OK;
    if (q->len == 0) {
        q->json = json_object();
        return q->json ? TABLES_OK : TABLES_ERR_INTERNAL;
    }
    json_error_t je;
    q->json = json_loadb(q->body, q->len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(q->json)) {
        json_decref(q->json);
        q->json = NULL;
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "The request body is not a JSON object.");
    }
    return TABLES_OK;
}

void tables_reply(tables_req_t *q, unsigned status, json_t *obj)
{
    char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    buf_reset(&q->r->out);
    if (!s) {
        tables_error(q->r, q->iceberg, TABLES_ERR_INTERNAL, NULL);
        return;
    }
    buf_puts(&q->r->out, s);
    free(s);
    q->r->status = status;
    http_set_header(q->r, "Content-Type", "application/json");
}

void tables_reply_empty(tables_req_t *q, unsigned status)
{
    buf_reset(&q->r->out);
    q->r->status = status;
}

tables_err_t tables_fail(tables_req_t *q, tables_err_t e, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    q->msg = arena_strdup(q->a, msg);
    return e;
}

void tables_handle(tables_t *t, http_req_t *r, bool iceberg, const auth_result_t *auth,
                   const auth_caller_t *caller, const char *body, size_t len)
{
    tables_req_t q = {.t = t,
                      .r = r,
                      .a = r->arena,
                      .iceberg = iceberg,
                      .body = body,
                      .len = len,
                      .caller = t->cfg->account_id,
                      .who = caller};
    r->svc = iceberg ? "iceberg" : "s3tables";
    tables_err_t e = split_path(&q, iceberg ? r->raw_path + strlen("/iceberg") : r->raw_path);
    if (e == TABLES_OK)
        e = iceberg ? tables_iceberg_dispatch(&q, auth) : tables_api_dispatch(&q);
    if (e != TABLES_OK)
        tables_error(r, iceberg, e, q.msg);
    json_decref(q.json);
}
