/* router/router.c: service detection, authentication, payload pipeline (see
 * router.h). The request states, each entered from the http phase named:
 *   begin: kura path -> answered | auth failed -> answered
 *          | service begin -> answered or RECEIVING
 *   body:  RECEIVING: decode (aws-chunked), hash, pass to the service
 *   end:   pipeline checks (chunk finish, payload hash) -> service end */
#include "router/router_int.h"

#include "util/clock.h"
#include "util/codec.h"
#include "util/log.h"
#include "util/parse.h"
#include "util/timefmt.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <sys/stat.h>

/* SVC_JSON: a JSON service (S3 Tables, later Backup and Athena) chosen by
 * the credential scope or X-Amz-Target; SVC_ICEBERG: the Iceberg REST
 * catalog under /iceberg/. Both buffer the body: their signatures cover
 * its SHA-256 (no x-amz-content-sha256 header), so it is verified at the end. */
#define ROUTER_JOURNAL_INTERVAL_MS 1000

typedef enum { SVC_NONE = 0, SVC_S3, SVC_JSON, SVC_ICEBERG, SVC_ADMIN, SVC_SQL } svc_t;

typedef struct {
    svc_t svc;
    auth_result_t auth;
    bool authed; /* auth holds a verified signature */
    auth_chunked_t *chunked;
    EVP_MD_CTX *sha; /* AUTH_PAYLOAD_SHA256: digest of the body as received */
    s3_err_t pipe_err;
    s3_req_t *s3q;
    char service[33]; /* SVC_JSON: the credential scope's service */
    buf_t body;       /* SVC_JSON, SVC_ICEBERG, SVC_ADMIN */
    auth_caller_t caller;
    auth_policy_t *caller_policy; /* owned: the user's parsed identity policy */
} route_t;

static bool buffered(const route_t *rs)
{
    return rs->svc == SVC_JSON || rs->svc == SVC_ICEBERG || rs->svc == SVC_ADMIN ||
           rs->svc == SVC_SQL;
}

router_t *router_new(const kura_config_t *cfg, store_t *st)
{
    router_t *rt = calloc(1, sizeof *rt);
    if (!rt)
        return NULL;
    rt->cfg = cfg;
    rt->st = st;
    auth_identity_t id = {iam_secret_lookup, iam_caller_of_key, rt};
    rt->s3 = s3_new(cfg, st, &id);
    rt->tables = tables_new(cfg, st, &id);
    if (!rt->s3 || !rt->tables) {
        s3_free(rt->s3);
        tables_free(rt->tables);
        free(rt);
        return NULL;
    }
    /* Journal rows become visible within about a second (AWS: minutes). */
    rt->journal = journal_start(cfg, st, rt->tables, ROUTER_JOURNAL_INTERVAL_MS);
    /* SQL reads only blob files (NOTES-ON-ISSUES 21) and spools in tmp/sql. */
    char blobs[4200], spool[4200];
    snprintf(blobs, sizeof blobs, "%s/blobs", cfg->data_dir);
    snprintf(spool, sizeof spool, "%s/tmp/sql", cfg->data_dir);
    if (mkdir(spool, 0700) != 0 && errno != EEXIST)
        log_warn(NULL, "sql.spool", "msg=\"cannot create %s\"", spool);
    query_opts_t qo = {.data_dir = blobs, .spool_dir = spool, .region = cfg->region,
                       .account_id = cfg->account_id};
    query_catalog_t cat;
    router_sql_catalog(rt, &cat);
    rt->query = query_new(&qo, &cat);
    if (!rt->query)
        log_warn(NULL, "sql.start", "msg=\"SQL is unavailable: DuckDB did not start\"");
    return rt;
}

struct s3 *router_s3(router_t *rt) { return rt->s3; }

void router_free(router_t *rt)
{
    if (!rt)
        return;
    query_free(rt->query);
    journal_stop(rt->journal);
    s3_free(rt->s3);
    tables_free(rt->tables);
    free(rt);
}

static bool has_prefix(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

/* An error of a JSON service, in the AWS JSON shape (NOTES-ON-ISSUES 6). */
static void json_error(http_req_t *r, unsigned status, const char *type, const char *msg)
{
    r->status = status;
    r->err = type;
    buf_reset(&r->out);
    buf_printf(&r->out, "{\"__type\":\"%s\",\"message\":\"%s\"}", type, msg);
    http_set_header(r, "Content-Type", "application/x-amz-json-1.1");
    http_set_header(r, "x-amzn-ErrorType", type);
}

/* SigV4 failures as AWS's JSON services report them. */
static void json_auth_error(http_req_t *r, auth_rc_t rc)
{
    switch (rc) {
    case AUTH_ANONYMOUS:
        json_error(r, 403, "MissingAuthenticationTokenException", "Missing Authentication Token");
        return;
    case AUTH_ERR_ACCESS_KEY:
        json_error(r, 403, "UnrecognizedClientException",
                   "The security token included in the request is invalid.");
        return;
    case AUTH_ERR_SIGNATURE:
        json_error(r, 403, "InvalidSignatureException",
                   "The request signature we calculated does not match the signature you "
                   "provided. Check your AWS Secret Access Key and signing method.");
        return;
    case AUTH_ERR_SKEWED:
    case AUTH_ERR_EXPIRED:
        json_error(r, 403, "InvalidSignatureException", "Signature expired");
        return;
    default:
        json_error(r, 400, "IncompleteSignatureException",
                   "The request signature is malformed or incomplete.");
        return;
    }
}

static void kura_json(http_req_t *r, unsigned status, const char *err, const char *body)
{
    r->status = status;
    r->err = err;
    buf_reset(&r->out);
    buf_puts(&r->out, body);
    buf_putc(&r->out, '\n');
    http_set_header(r, "Content-Type", "application/json");
}

static auth_request_t auth_view(const http_req_t *r);

/* /kura/admin/...: root-signed requests only (the body is in). */
static void kura_admin(router_t *rt, http_req_t *r, const char *body, size_t len)
{
    r->op = "Admin";
    auth_request_t ar = auth_view(r);
    ar.body = body;
    ar.body_len = len;
    auth_result_t res;
    auth_rc_t arc = auth_sigv4_verify(&ar, iam_secret_lookup, rt, &res);
    if (arc == AUTH_OK && res.payload == AUTH_PAYLOAD_SHA256) {
        uint8_t d[32];
        char hex[65];
        codec_sha256(body, len, d);
        codec_hex(d, sizeof d, hex);
        if (strcmp(hex, res.payload_sha256) != 0)
            arc = AUTH_ERR_SHA256_MISMATCH;
    }
    if (arc != AUTH_OK || strcmp(res.access_key, rt->cfg->access_key) != 0) {
        kura_json(r, 403, "AccessDenied",
                  "{\"error\":{\"code\":\"AccessDenied\",\"message\":\"admin calls need the "
                  "root credentials\"}}");
        return;
    }
    if (iam_admin(rt, r, body, len))
        return;
    const char *p = r->raw_path;
    char out[160];
    if (strcmp(p, "/kura/admin/metadata/publish") == 0 && strcmp(r->method, "POST") == 0) {
        r->op = "AdminMetadataPublish";
        snprintf(out, sizeof out, "{\"rows\":%zu}", journal_publish_now(rt->journal));
        kura_json(r, 200, NULL, out);
        return;
    }
    if (strcmp(p, "/kura/admin/lifecycle") == 0 && strcmp(r->method, "POST") == 0) {
        r->op = "AdminLifecycleRun";
        snprintf(out, sizeof out, "{\"actions\":%zu}", s3_lifecycle_run(rt->s3));
        kura_json(r, 200, NULL, out);
        return;
    }
    if (strcmp(p, "/kura/admin/clock") == 0) {
        r->op = "AdminClock";
        if (strcmp(r->method, "POST") == 0) {
            const char *adv = http_param_value(r, "advance");
            uint64_t secs;
            if (!rt->cfg->test_clock) {
                kura_json(r, 403, "AccessDenied",
                          "{\"error\":{\"code\":\"AccessDenied\",\"message\":\"the service "
                          "clock can be advanced only when kura runs with --test-clock\"}}");
                return;
            }
            if (!adv || parse_u64_str(adv, (uint64_t)100 * 365 * 86400, &secs) != PARSE_OK) {
                kura_json(r, 400, "InvalidArgument",
                          "{\"error\":{\"code\":\"InvalidArgument\",\"message\":\"advance "
                          "wants whole seconds\"}}");
                return;
            }
            clock_advance_ms((int64_t)secs * 1000);
        }
        char iso[TIMEFMT_ISO_LEN];
        timefmt_iso8601_ms(clock_now_ms(), iso);
        snprintf(out, sizeof out, "{\"now\":\"%s\",\"offset_ms\":%lld}", iso,
                 (long long)clock_offset_ms());
        kura_json(r, 200, NULL, out);
        return;
    }
    kura_json(r, 404, "NotFound",
              "{\"error\":{\"code\":\"NotFound\",\"message\":\"No such kura endpoint\"}}");
}

/* GET /kura/health and the reserved kura paths. Returns true if answered;
 * admin calls set SVC_ADMIN and are answered once their body is in. */
static bool kura_path(route_t *rs, http_req_t *r)
{
    const char *p = r->raw_path;
    if (strcmp(p, "/kura/health") == 0) {
        r->svc = "kura";
        r->op = "Health";
        buf_puts(&r->out, "{\"status\":\"ok\"}\n");
        http_set_header(r, "Content-Type", "application/json");
        r->status = 200;
        return true;
    }
    if (strcmp(p, "/kura/sql") == 0) {
        r->svc = "sql";
        r->op = "Sql";
        rs->svc = SVC_SQL;
        buf_init(&rs->body, TABLES_MAX_BODY_BYTES);
        return false;
    }
    if (has_prefix(p, "/kura/admin/")) {
        r->svc = "kura";
        rs->svc = SVC_ADMIN;
        buf_init(&rs->body, TABLES_MAX_BODY_BYTES);
        return false;
    }
    /* "/kura" and "/console" alone fall through to S3, which refuses them as
     * bucket names; the console itself is read with GET. */
    bool console = (strcmp(p, "/console") == 0 || has_prefix(p, "/console/")) &&
                   (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0);
    if (has_prefix(p, "/kura/") || console) {
        r->svc = "kura";
        r->status = 404;
        r->err = "NotFound";
        buf_puts(&r->out, "{\"error\":{\"message\":\"No such kura endpoint\",\"code\":404}}\n");
        http_set_header(r, "Content-Type", "application/json");
        return true;
    }
    return false;
}

static auth_request_t auth_view(const http_req_t *r)
{
    auth_request_t a = {
        .method = r->method,
        .raw_path = r->raw_path,
        .raw_query = r->raw_query,
        .headers = r->headers,
        .nheaders = r->nheaders,
        .now_s = timefmt_now_ms() / 1000,
    };
    return a;
}

static bool route_begin(void *app, http_req_t *r, void **ctx)
{
    router_t *rt = app;
    route_t *rs = arena_alloc(r->arena, sizeof *rs);
    *ctx = rs;
    if (!rs) {
        s3_error(r, S3_ERR_INTERNAL, NULL);
        return true;
    }
    if (kura_path(rs, r))
        return true;
    if (rs->svc == SVC_ADMIN || rs->svc == SVC_SQL)
        return false;

    auth_request_t ar = auth_view(r);
    char service[33] = "";
    bool signed_req = auth_scope_service(&ar, service, sizeof service);
    if (has_prefix(r->raw_path, "/iceberg/")) {
        rs->svc = SVC_ICEBERG;
        r->svc = "iceberg";
        buf_init(&rs->body, TABLES_MAX_BODY_BYTES);
        return false;
    }
    if ((signed_req && strcmp(service, "s3") != 0) || http_header(r, "x-amz-target")) {
        rs->svc = SVC_JSON;
        snprintf(rs->service, sizeof rs->service, "%s", signed_req ? service : "");
        r->svc = signed_req ? arena_strdup(r->arena, service) : "json";
        buf_init(&rs->body, TABLES_MAX_BODY_BYTES);
        return false;
    }
    rs->svc = SVC_S3;
    r->svc = "s3";
    auth_rc_t arc = auth_sigv4_verify(&ar, iam_secret_lookup, rt, &rs->auth);
    if (arc != AUTH_OK && arc != AUTH_ANONYMOUS) {
        s3_error(r, s3_err_from_auth(arc), NULL);
        return true;
    }
    rs->authed = arc == AUTH_OK;
    if (rs->authed && strcmp(rs->auth.region, rt->cfg->region) != 0) {
        char *msg = arena_printf(r->arena, "The authorization header is malformed; the region "
                                           "'%s' is wrong; expecting '%s'",
                                 rs->auth.region, rt->cfg->region);
        s3_error(r, S3_ERR_AUTH_HEADER_MALFORMED, msg);
        return true;
    }
    if (rs->authed) {
        auth_payload_t pm = rs->auth.payload;
        if (pm >= AUTH_PAYLOAD_STREAMING_SIGNED) {
            const char *dl = http_header(r, "x-amz-decoded-content-length");
            uint64_t decoded = UINT64_MAX;
            if (dl) {
                char *end;
                unsigned long long v = strtoull(dl, &end, 10);
                if (end != dl && !*end)
                    decoded = v;
            }
            rs->chunked = auth_chunked_new(&rs->auth, decoded, http_header(r, "x-amz-trailer"));
            if (!rs->chunked) {
                s3_error(r, S3_ERR_INTERNAL, NULL);
                return true;
            }
        } else if (pm == AUTH_PAYLOAD_SHA256) {
            rs->sha = EVP_MD_CTX_new();
            if (!rs->sha || EVP_DigestInit_ex(rs->sha, EVP_sha256(), NULL) != 1) {
                s3_error(r, S3_ERR_INTERNAL, NULL);
                return true;
            }
        }
    }
    if (!iam_caller(rt, r, rs->authed ? &rs->auth : NULL, &rs->caller, &rs->caller_policy)) {
        s3_error(r, S3_ERR_INVALID_ACCESS_KEY_ID, NULL);
        return true;
    }
    return s3_begin(rt->s3, r, rs->authed ? &rs->auth : NULL, &rs->caller, &rs->s3q);
}

static bool emit_to_s3(void *arg, const void *p, size_t n)
{
    route_t *rs = arg;
    return s3_body(rs->s3q, p, n);
}

static bool route_body(void *app, http_req_t *r, void *ctx, const void *p, size_t n)
{
    (void)app, (void)r;
    route_t *rs = ctx;
    if (buffered(rs)) {
        buf_append(&rs->body, p, n); /* past the ceiling: refused at the end */
        return true;
    }
    if (rs->pipe_err != S3_OK)
        return true; /* discard; reported at the end */
    if (rs->sha)
        EVP_DigestUpdate(rs->sha, p, n);
    if (rs->chunked) {
        auth_rc_t rc = auth_chunked_feed(rs->chunked, p, n, emit_to_s3, rs);
        if (rc != AUTH_OK)
            rs->pipe_err = s3_err_from_auth(rc);
        return true;
    }
    return s3_body(rs->s3q, p, n);
}

/* A buffered JSON or Iceberg request: verify, then hand to its service. */
static void json_end(router_t *rt, http_req_t *r, route_t *rs)
{
    bool iceberg = rs->svc == SVC_ICEBERG;
    if (!buf_ok(&rs->body)) {
        json_error(r, 413, iceberg ? "BadRequestException" : "RequestEntityTooLargeException",
                   "The request body is too large.");
        return;
    }
    const char *authz = http_header(r, "authorization");
    bool bearer = authz && strncasecmp(authz, "Bearer ", 7) == 0;
    const auth_result_t *auth = NULL;
    if (!(iceberg && bearer)) {
        auth_request_t ar = auth_view(r);
        ar.body = rs->body.data ? rs->body.data : "";
        ar.body_len = rs->body.len;
        auth_rc_t arc = auth_sigv4_verify(&ar, iam_secret_lookup, rt, &rs->auth);
        if (arc == AUTH_OK) {
            if (strcmp(rs->auth.region, rt->cfg->region) != 0) {
                json_error(r, 403, "InvalidSignatureException",
                           "Credential should be scoped to a valid region.");
                return;
            }
            auth = &rs->auth;
        } else if (!(iceberg && arc == AUTH_ANONYMOUS)) {
            json_auth_error(r, arc);
            return;
        }
    }
    if (iceberg || strcmp(rs->service, "s3tables") == 0) {
        const auth_caller_t *who = NULL;
        if (auth) {
            if (!iam_caller(rt, r, auth, &rs->caller, &rs->caller_policy)) {
                json_auth_error(r, AUTH_ERR_ACCESS_KEY);
                return;
            }
            who = &rs->caller;
        }
        tables_handle(rt->tables, r, iceberg, auth, who, rs->body.data ? rs->body.data : "",
                      rs->body.len);
        return;
    }
    const char *target = http_header(r, "x-amz-target");
    if (rs->svc == SVC_SQL || strcmp(rs->service, "athena") == 0 ||
        (target && has_prefix(target, "AmazonAthena."))) {
        if (!rt->query) {
            json_error(r, 503, "ServiceUnavailable", "SQL is unavailable on this server.");
            return;
        }
        if (!auth || !iam_caller(rt, r, auth, &rs->caller, &rs->caller_policy)) {
            json_auth_error(r, auth ? AUTH_ERR_ACCESS_KEY : AUTH_ANONYMOUS);
            return;
        }
        const char *body = rs->body.data ? rs->body.data : "";
        r->svc = rs->svc == SVC_SQL ? "sql" : "athena";
        if (rs->svc == SVC_SQL)
            query_http(rt->query, r, &rs->caller, body, rs->body.len);
        else
            query_athena(rt->query, r, &rs->caller, target ? target : "", body, rs->body.len);
        return;
    }
    json_error(r, 400, "UnknownOperationException",
               "The operation is not supported by this server yet.");
}

static void route_end(void *app, http_req_t *r, void *ctx)
{
    route_t *rs = ctx;
    if (rs->svc == SVC_ADMIN) {
        if (!buf_ok(&rs->body))
            kura_json(r, 413, "EntityTooLarge", "{\"error\":{\"code\":\"EntityTooLarge\"}}");
        else
            kura_admin(app, r, rs->body.data ? rs->body.data : "", rs->body.len);
        return;
    }
    if (buffered(rs)) {
        json_end(app, r, rs);
        return;
    }
    s3_err_t err = rs->pipe_err;
    if (err == S3_OK && rs->chunked) {
        auth_rc_t rc = auth_chunked_finish(rs->chunked);
        if (rc != AUTH_OK)
            err = s3_err_from_auth(rc);
    }
    if (err == S3_OK && rs->sha) {
        uint8_t d[32];
        unsigned int len = 0;
        char hex[65];
        EVP_DigestFinal_ex(rs->sha, d, &len);
        codec_hex(d, sizeof d, hex);
        if (strcmp(hex, rs->auth.payload_sha256) != 0)
            err = S3_ERR_CONTENT_SHA256_MISMATCH;
    }
    s3_end(rs->s3q, err, rs->chunked);
}

static void route_done(void *app, http_req_t *r, void *ctx)
{
    (void)app, (void)r;
    route_t *rs = ctx;
    if (!rs)
        return;
    s3_done(rs->s3q);
    auth_chunked_free(rs->chunked);
    EVP_MD_CTX_free(rs->sha);
    if (buffered(rs))
        buf_release(&rs->body);
    auth_policy_free(rs->caller_policy);
}

const http_handlers_t router_handlers = {route_begin, route_body, route_end, route_done};
