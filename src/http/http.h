/* http/http.h: the request and response as every service sees them, and the
 * libmicrohttpd listener that fills them.
 *
 * A request lives in three phases, driven by libmicrohttpd's access handler:
 *   begin  headers are in: the router authenticates, picks the operation and
 *          decides what to do with the body (nothing, buffer it, stream it);
 *   body   each piece of the body goes through the payload pipeline
 *          (aws-chunked decoding, payload hash, digests) to the sink;
 *   end    the body is complete: the operation runs and fills the response.
 * A response queued in `begin` is sent without reading the body (no
 * "100 Continue" is sent for it) and the connection is then closed.
 *
 * Memory: everything hangs off req->arena, freed when the request completes.
 * Threads: one request is handled by one pool thread at a time. */
#ifndef KURA_HTTP_HTTP_H
#define KURA_HTTP_HTTP_H

#include "auth/auth.h"
#include "util/arena.h"
#include "util/buf.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    const char *name;  /* decoded */
    const char *value; /* decoded; "" when absent */
    bool has_value;    /* "?versioning" vs "?versioning=" */
} http_param_t;

/* Where a response body comes from. */
typedef enum {
    HTTP_BODY_BUF = 0, /* req->out */
    HTTP_BODY_FILES,   /* a run of file ranges (object segments), streamed */
} http_body_kind_t;

typedef struct {
    int fd;          /* owned by the response once queued */
    uint64_t offset; /* within the file */
    uint64_t length;
} http_file_range_t;

typedef struct http_req http_req_t;

#define HTTP_MAX_ON_DONE 4

struct http_req {
    arena_t *arena;
    char rid[17]; /* request id: x-amz-request-id and every log line */
    int64_t start_ms;
    void *conn; /* struct MHD_Connection * */

    /* Request line and headers. */
    const char *method;
    const char *raw_uri;   /* as sent, path and query */
    const char *raw_path;  /* as sent, percent-encoded */
    const char *raw_query; /* as sent after '?', or NULL */
    auth_header_t *headers; /* names lowercase */
    size_t nheaders;
    http_param_t *params; /* query parameters, decoded, in order */
    size_t nparams;
    bool has_length; /* Content-Length present */
    uint64_t content_length;
    bool chunked_te; /* Transfer-Encoding: chunked */
    const char *peer_ip;

    /* Response. */
    unsigned status;
    auth_header_t *out_headers;
    size_t nout_headers, cap_out_headers;
    buf_t out;
    http_body_kind_t body_kind;
    http_file_range_t *files;
    size_t nfiles;
    uint64_t files_total;
    bool no_body; /* HEAD: headers (Content-Length) as for GET, no bytes */

    /* Run when the request completes (sent or aborted), last registered first. */
    struct {
        void (*fn)(void *arg);
        void *arg;
    } on_done[HTTP_MAX_ON_DONE];
    size_t non_done;

    /* Access log fields, set by the router and handlers. */
    const char *svc, *op, *bucket, *key, *err;
    uint64_t in_bytes, out_bytes;
};

/* Header lookup (name lowercase); NULL if absent. */
const char *http_header(const http_req_t *r, const char *name);
/* Query parameter lookup; NULL if absent. */
const http_param_t *http_param(const http_req_t *r, const char *name);
const char *http_param_value(const http_req_t *r, const char *name);

/* Adds a response header (copied into the arena). */
void http_set_header(http_req_t *r, const char *name, const char *value);
/* Registers fn(arg) to run when the request completes, for resources a
 * handler acquires on the request's behalf. false (and fn is NOT called
 * later) if HTTP_MAX_ON_DONE are registered already: the caller frees now. */
bool http_on_done(http_req_t *r, void (*fn)(void *arg), void *arg);
/* Response streamed from file ranges (takes ownership of the fds). */
void http_set_files(http_req_t *r, http_file_range_t *files, size_t n);

/* ---- the listener ----------------------------------------------------- */

/* The three phases a service implements. Context is per request. */
typedef struct {
    /* Headers are in. Returns true if a response is ready (sent without the
     * body); false to read the body. */
    bool (*begin)(void *app, http_req_t *r, void **ctx);
    /* A piece of the body (already de-chunked by HTTP). false: a response is
     * ready (the rest of the body is discarded). */
    bool (*body)(void *app, http_req_t *r, void *ctx, const void *p, size_t n);
    /* The body is complete: fill the response. */
    void (*end)(void *app, http_req_t *r, void *ctx);
    /* The request is done (sent, or the connection broke): free ctx. */
    void (*done)(void *app, http_req_t *r, void *ctx);
} http_handlers_t;

typedef struct http_server http_server_t;

typedef struct {
    const char *host; /* listen address: loopback by default */
    unsigned port;
    unsigned threads;           /* pool size */
    unsigned conn_timeout_s;    /* idle connection timeout */
    size_t max_header_bytes;    /* per-connection memory for the request head */
} http_opts_t;

/* Starts listening. Returns NULL (and logs why) on failure. */
http_server_t *http_server_start(const http_opts_t *o, const http_handlers_t *h, void *app);
/* Stops accepting, waits for in-flight requests, frees. */
void http_server_stop(http_server_t *s);
unsigned http_server_port(const http_server_t *s);

#endif
