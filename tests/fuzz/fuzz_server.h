/* tests/fuzz/fuzz_server.h: a whole kura (store + router: S3, S3 Tables,
 * Iceberg REST, SQL/Athena) in the fuzzing process, and requests driven
 * through the router's begin/body/end/done exactly as http/server.c drives
 * them, minus the socket: libmicrohttpd owns HTTP framing (NOTES 23), kura
 * owns everything after it, and that is what the targets reach.
 *
 * The server lives for the whole process on a fresh data directory under
 * $TMPDIR (no fsync) and is removed at exit. State carries over from one
 * input to the next (buckets the fuzzer made stay), so a crash may need the
 * inputs before it: libFuzzer's -runs with the crash file alone usually
 * reproduces it, since every target re-creates its fixture when missing.
 *
 * Requests are signed here with the root key when asked (auth_sign_header,
 * the same signer the CLI uses), so fuzzed bytes get past SigV4 into the
 * services; unsigned ones exercise the anonymous paths. */
#ifndef KURA_TESTS_FUZZ_SERVER_H
#define KURA_TESTS_FUZZ_SERVER_H

#include "router/router_int.h"
#include "util/codec.h"
#include "util/timefmt.h"
#include "util/uri.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FZ_MAX_HEADERS 48
#define FZ_MAX_PARAMS 128
#define FZ_AK "AKIAFUZZFUZZFUZZFUZZ"
#define FZ_SK "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz"
#define FZ_ACCOUNT "123456789012"

typedef struct {
    kura_config_t cfg;
    store_t *st;
    router_t *rt;
    char dir[256];
} fz_server_t;

static fz_server_t fz_srv;

static void fz_server_stop(void)
{
    router_free(fz_srv.rt);
    store_close(fz_srv.st);
    fz_srv.rt = NULL;
    fz_srv.st = NULL;
    if (fz_srv.dir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", fz_srv.dir);
        if (system(cmd) != 0)
            fprintf(stderr, "fuzz: could not remove %s\n", fz_srv.dir);
    }
}

/* Starts the server once; NULL router if it could not start (then every
 * input is a no-op and the target says so once). */
static router_t *fz_server(void)
{
    static int started;
    if (started)
        return fz_srv.rt;
    started = 1;
    const char *tmp = getenv("TMPDIR");
    snprintf(fz_srv.dir, sizeof fz_srv.dir, "%s/kura-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fz_srv.dir)) {
        fz_srv.dir[0] = '\0';
        fprintf(stderr, "fuzz: mkdtemp failed\n");
        return NULL;
    }
    kura_config_t *c = &fz_srv.cfg;
    c->data_dir = fz_srv.dir;
    snprintf(c->host, sizeof c->host, "127.0.0.1");
    c->port = 9000;
    c->region = "us-east-1";
    c->domain = "kura.test";
    c->threads = 2;
    c->inline_max_bytes = 8192;
    c->lifecycle_interval_s = 3600;
    snprintf(c->access_key, sizeof c->access_key, "%s", FZ_AK);
    snprintf(c->secret_key, sizeof c->secret_key, "%s", FZ_SK);
    snprintf(c->account_id, sizeof c->account_id, "%s", FZ_ACCOUNT);
    store_opts_t so = {.inline_max_bytes = c->inline_max_bytes, .no_sync = true};
    if (store_open(fz_srv.dir, &so, &fz_srv.st) != STORE_OK) {
        fprintf(stderr, "fuzz: store_open failed in %s\n", fz_srv.dir);
        return NULL;
    }
    fz_srv.rt = router_new(c, fz_srv.st);
    if (!fz_srv.rt)
        fprintf(stderr, "fuzz: router_new failed\n");
    atexit(fz_server_stop);
    return fz_srv.rt;
}

/* One request under construction; everything in its arena. */
typedef struct {
    http_req_t *r;
    auth_header_t h[FZ_MAX_HEADERS + 4];
} fz_req_t;

static void fz_parse_query(http_req_t *r)
{
    /* As http/server.c's parse_query: '&'-separated, %-decoded name[=value]. */
    if (!r->raw_query)
        return;
    r->params = arena_alloc(r->arena, FZ_MAX_PARAMS * sizeof *r->params);
    if (!r->params)
        return;
    const char *p = r->raw_query;
    buf_t b;
    buf_init(&b, 1 << 16);
    while (*p && r->nparams < FZ_MAX_PARAMS) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len) {
            const char *eq = memchr(p, '=', len);
            size_t nlen = eq ? (size_t)(eq - p) : len;
            http_param_t *pr = &r->params[r->nparams++];
            buf_reset(&b);
            pr->name = uri_decode(&b, p, nlen, false)
                           ? arena_strndup(r->arena, b.data ? b.data : "", b.len)
                           : arena_strndup(r->arena, p, nlen);
            pr->has_value = eq != NULL;
            pr->value = "";
            if (eq) {
                size_t vlen = len - nlen - 1;
                buf_reset(&b);
                pr->value = uri_decode(&b, eq + 1, vlen, false)
                                ? arena_strndup(r->arena, b.data ? b.data : "", b.len)
                                : arena_strndup(r->arena, eq + 1, vlen);
            }
        }
        p += len;
        if (*p == '&')
            p++;
    }
    buf_release(&b);
}

/* A request for METHOD raw_path?raw_query (raw_query NULL: none). */
static http_req_t *fz_req_new(const char *method, const char *raw_path, const char *raw_query)
{
    arena_t *a = arena_new(0);
    if (!a)
        return NULL;
    http_req_t *r = arena_alloc(a, sizeof *r);
    auth_header_t *h = arena_alloc(a, (FZ_MAX_HEADERS + 8) * sizeof *h);
    if (!r || !h) {
        arena_free(a);
        return NULL;
    }
    r->arena = a;
    memcpy(r->rid, "fuzzfuzzfuzzfuzz", 17);
    r->start_ms = timefmt_now_ms();
    r->method = arena_strdup(a, method);
    r->raw_path = arena_strdup(a, raw_path);
    r->raw_query = raw_query ? arena_strdup(a, raw_query) : NULL;
    r->raw_uri = raw_query ? arena_printf(a, "%s?%s", raw_path, raw_query) : r->raw_path;
    r->headers = h;
    r->peer_ip = "127.0.0.1";
    buf_init(&r->out, BUF_MAX_DEFAULT);
    fz_parse_query(r);
    return r;
}

/* Adds a header (name lowercased, as libmicrohttpd hands them to us). */
static void fz_header(http_req_t *r, const char *name, const char *value)
{
    if (r->nheaders >= FZ_MAX_HEADERS + 8)
        return;
    char *n = arena_strdup(r->arena, name);
    if (!n)
        return;
    for (char *p = n; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    r->headers[r->nheaders].name = n;
    r->headers[r->nheaders].value = arena_strdup(r->arena, value);
    r->nheaders++;
    if (strcmp(n, "content-length") == 0) {
        char *end;
        unsigned long long v = strtoull(value, &end, 10);
        if (end != value && *end == '\0' && value[0] != '-') {
            r->has_length = true;
            r->content_length = v;
        }
    }
    if (strcmp(n, "transfer-encoding") == 0)
        r->chunked_te = strstr(value, "chunked") != NULL;
}

/* Signs r with the root key for `service` over body (x-amz-content-sha256
 * is the body's hash for "s3", absent otherwise as JSON clients send). */
static void fz_sign(http_req_t *r, const char *service, const void *body, size_t len)
{
    char amz[17], hex[65];
    int64_t now = timefmt_now_ms() / 1000;
    time_t t = (time_t)now;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(amz, sizeof amz, "%Y%m%dT%H%M%SZ", &tm);
    uint8_t d[32];
    codec_sha256(body ? body : "", len, d);
    codec_hex(d, sizeof d, hex);
    if (!http_header(r, "host"))
        fz_header(r, "host", "127.0.0.1:9000");
    fz_header(r, "x-amz-date", amz);
    bool s3 = strcmp(service, "s3") == 0;
    if (s3 && !http_header(r, "x-amz-content-sha256"))
        fz_header(r, "x-amz-content-sha256", hex);
    const char *payload = s3 ? http_header(r, "x-amz-content-sha256") : hex;
    auth_request_t ar = {.method = r->method,
                         .raw_path = r->raw_path,
                         .raw_query = r->raw_query,
                         .headers = r->headers,
                         .nheaders = r->nheaders,
                         .now_s = now};
    char *az = auth_sign_header(&ar, FZ_AK, FZ_SK, "us-east-1", service, amz,
                                s3 ? "host;x-amz-content-sha256;x-amz-date" : "host;x-amz-date",
                                payload);
    if (az) {
        fz_header(r, "authorization", az);
        free(az);
    }
}

/* Runs r through the router (begin, body in pieces of `step`, end, done)
 * and frees it. Returns the status. */
static unsigned fz_run(router_t *rt, http_req_t *r, const void *body, size_t len, size_t step)
{
    void *ctx = NULL;
    const http_handlers_t *h = &router_handlers;
    if (!h->begin(rt, r, &ctx)) {
        bool go = true;
        const unsigned char *p = body;
        if (step == 0)
            step = len ? len : 1;
        for (size_t off = 0; go && off < len; off += step) {
            size_t n = len - off < step ? len - off : step;
            r->in_bytes += n;
            go = h->body(rt, r, ctx, p + off, n);
        }
        if (go)
            h->end(rt, r, ctx);
    }
    unsigned status = r->status;
    if (status < 100 || status > 599)
        abort(); /* every request is answered with a real status */
    static int verbose = -1;
    if (verbose < 0)
        verbose = getenv("KURA_FUZZ_VERBOSE") != NULL;
    if (verbose)
        fprintf(stderr, "fuzz: %s %s%s%s -> %u %.200s\n", r->method, r->raw_path,
                r->raw_query ? "?" : "", r->raw_query ? r->raw_query : "", status,
                r->body_kind == HTTP_BODY_BUF ? buf_cstr(&r->out) : "(files)");
    h->done(rt, r, ctx);
    while (r->non_done) {
        size_t i = --r->non_done;
        r->on_done[i].fn(r->on_done[i].arg);
    }
    for (size_t i = 0; i < r->nfiles; i++)
        close(r->files[i].fd);
    buf_release(&r->out);
    arena_free(r->arena);
    return status;
}

#endif
