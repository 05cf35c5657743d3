/* http/server.c: the libmicrohttpd listener: request assembly, the three
 * handler phases, responses from buffers and file ranges, the access log.
 *
 * Raw request line. SigV4 for S3 signs the path exactly as sent, and MHD
 * unescapes URLs (and turns '+' into ' ' in query values) before the access
 * handler sees them. The URI log callback sees the raw URI first, so the
 * request struct is created there and the query is parsed here, from the
 * raw bytes; MHD's own unescaping is switched off. */
#include "http/http.h"

#include "util/codec.h"
#include "util/log.h"
#include "util/timefmt.h"
#include "util/uri.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HTTP_MAX_HEADERS 128
#define HTTP_MAX_PARAMS 128
#define HTTP_DRAIN_MS 30000 /* SIGTERM: how long in-flight requests may take */
#define HTTP_STREAM_BLOCK ((size_t)256 << 10)

/* Requests waiting for body bytes, watched for a peer that hung up.
 * libmicrohttpd 0.9.75 can miss a client's FIN that arrives together with
 * the request head and part of the body: it stops reading and the request
 * would sit until the idle timeout (holding SIGTERM's drain). The watchdog
 * looks at requests that made no progress for HTTP_HANGUP_CHECK_MS: when a
 * non-blocking MSG_PEEK reads end-of-stream, it shuts the socket down so
 * libmicrohttpd takes its error path. Entries leave the list in the
 * completion callback, under `mu`, before libmicrohttpd closes the socket:
 * the watchdog never touches a descriptor that may have been reused. */
#define HTTP_HANGUP_CHECK_MS 1000

typedef struct watch {
    int fd;
    _Atomic int64_t progress_ms; /* last time body bytes arrived; read by the watchdog */
    struct watch *prev, *next;
} watch_t;

struct http_server {
    struct MHD_Daemon *d;
    http_handlers_t h;
    void *app;
    unsigned port;
    pthread_mutex_t mu; /* guards `watched` */
    watch_t *watched;
    pthread_t watchdog;
    bool stop;
};

/* What MHD keeps per request (*con_cls). */
typedef struct {
    http_req_t req;
    watch_t watch; /* on srv->watched while the body is awaited */
    bool watched;
    void *ctx;     /* the handler's */
    bool started;  /* begin() ran */
    bool answered; /* a response is queued */
    bool failed;   /* body() refused: answer once the body is drained */
} conn_state_t;

static atomic_uint_fast64_t rid_counter;
/* Requests between the URI callback and completion: what SIGTERM waits for
 * (idle keep-alive connections are not waited for). */
static atomic_long inflight;
static uint32_t rid_boot;

/* ---- request assembly ------------------------------------------------- */

const char *http_header(const http_req_t *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

const http_param_t *http_param(const http_req_t *r, const char *name)
{
    for (size_t i = 0; i < r->nparams; i++)
        if (strcmp(r->params[i].name, name) == 0)
            return &r->params[i];
    return NULL;
}

const char *http_param_value(const http_req_t *r, const char *name)
{
    const http_param_t *p = http_param(r, name);
    return p ? p->value : NULL;
}

void http_set_header(http_req_t *r, const char *name, const char *value)
{
    if (r->nout_headers == r->cap_out_headers) {
        size_t cap = r->cap_out_headers ? r->cap_out_headers * 2 : 16;
        auth_header_t *n = arena_alloc(r->arena, cap * sizeof *n);
        if (!n)
            return;
        if (r->nout_headers)
            memcpy(n, r->out_headers, r->nout_headers * sizeof *n);
        r->out_headers = n;
        r->cap_out_headers = cap;
    }
    r->out_headers[r->nout_headers].name = arena_strdup(r->arena, name);
    r->out_headers[r->nout_headers].value = arena_strdup(r->arena, value);
    r->nout_headers++;
}

bool http_on_done(http_req_t *r, void (*fn)(void *arg), void *arg)
{
    if (r->non_done == HTTP_MAX_ON_DONE)
        return false;
    r->on_done[r->non_done].fn = fn;
    r->on_done[r->non_done].arg = arg;
    r->non_done++;
    return true;
}

void http_set_files(http_req_t *r, http_file_range_t *files, size_t n)
{
    r->body_kind = HTTP_BODY_FILES;
    r->files = files;
    r->nfiles = n;
    r->files_total = 0;
    for (size_t i = 0; i < n; i++)
        r->files_total += files[i].length;
}

/* Splits the raw query into decoded parameters. A malformed escape keeps the
 * raw bytes: SigV4 and the operations see the same string either way and
 * the signature check decides. */
static void parse_query(http_req_t *r)
{
    if (!r->raw_query)
        return;
    r->params = arena_alloc(r->arena, HTTP_MAX_PARAMS * sizeof *r->params);
    if (!r->params)
        return;
    const char *p = r->raw_query;
    buf_t b;
    buf_init(&b, 1 << 16);
    while (*p && r->nparams < HTTP_MAX_PARAMS) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len) {
            const char *eq = memchr(p, '=', len);
            size_t nlen = eq ? (size_t)(eq - p) : len;
            http_param_t *pr = &r->params[r->nparams++];
            buf_reset(&b);
            pr->name = uri_decode(&b, p, nlen, false) ? arena_strndup(r->arena, b.data ? b.data : "", b.len)
                                                      : arena_strndup(r->arena, p, nlen);
            pr->has_value = eq != NULL;
            if (eq) {
                buf_reset(&b);
                size_t vlen = len - nlen - 1;
                pr->value = uri_decode(&b, eq + 1, vlen, false)
                                ? arena_strndup(r->arena, b.data ? b.data : "", b.len)
                                : arena_strndup(r->arena, eq + 1, vlen);
            } else {
                pr->value = "";
            }
        }
        p += len;
        if (*p == '&')
            p++;
    }
    buf_release(&b);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    conn_state_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    atomic_fetch_add(&inflight, 1);
    http_req_t *r = &s->req;
    r->arena = arena_new(0);
    if (!r->arena) {
        atomic_fetch_sub(&inflight, 1);
        free(s);
        return NULL;
    }
    r->conn = c;
    r->start_ms = timefmt_now_ms();
    uint64_t n = atomic_fetch_add(&rid_counter, 1);
    uint8_t id[8] = {(uint8_t)(rid_boot >> 24), (uint8_t)(rid_boot >> 16), (uint8_t)(rid_boot >> 8),
                     (uint8_t)rid_boot,         (uint8_t)(n >> 24),        (uint8_t)(n >> 16),
                     (uint8_t)(n >> 8),         (uint8_t)n};
    codec_hex(id, sizeof id, r->rid);
    r->raw_uri = arena_strdup(r->arena, uri);
    const char *q = strchr(r->raw_uri, '?');
    if (q) {
        r->raw_path = arena_strndup(r->arena, r->raw_uri, (size_t)(q - r->raw_uri));
        r->raw_query = q + 1;
    } else {
        r->raw_path = r->raw_uri;
    }
    buf_init(&r->out, BUF_MAX_DEFAULT);
    r->status = 200;
    return s;
}

static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls, (void)c;
    return strlen(s);
}

typedef struct {
    http_req_t *r;
    size_t cap;
} hdr_walk_t;

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    hdr_walk_t *w = cls;
    http_req_t *r = w->r;
    if (r->nheaders == w->cap)
        return MHD_NO;
    size_t n = strlen(key);
    char *name = arena_strndup(r->arena, key, n);
    if (!name)
        return MHD_NO;
    for (size_t i = 0; i < n; i++)
        if (name[i] >= 'A' && name[i] <= 'Z')
            name[i] = (char)(name[i] - 'A' + 'a');
    r->headers[r->nheaders].name = name;
    r->headers[r->nheaders].value = arena_strdup(r->arena, value ? value : "");
    r->nheaders++;
    return MHD_YES;
}

static void read_head(http_req_t *r, struct MHD_Connection *c, const char *method)
{
    r->method = arena_strdup(r->arena, method);
    hdr_walk_t w = {r, HTTP_MAX_HEADERS};
    r->headers = arena_alloc(r->arena, HTTP_MAX_HEADERS * sizeof *r->headers);
    if (r->headers)
        MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, &w);
    parse_query(r);
    const char *cl = http_header(r, "content-length");
    if (cl) {
        char *end;
        unsigned long long v = strtoull(cl, &end, 10);
        if (end != cl && *end == '\0' && cl[0] != '-') {
            r->has_length = true;
            r->content_length = v;
        }
    }
    const char *te = http_header(r, "transfer-encoding");
    r->chunked_te = te && strstr(te, "chunked");
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char ip[INET6_ADDRSTRLEN] = "-";
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, ip, sizeof ip);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, ip,
                      sizeof ip);
    }
    r->peer_ip = arena_strdup(r->arena, ip);
}

/* ---- responses -------------------------------------------------------- */

typedef struct {
    http_file_range_t *files;
    size_t n, cur;
    uint64_t done_in_cur;
} file_stream_t;

static ssize_t stream_files(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    file_stream_t *fs = cls;
    while (fs->cur < fs->n && fs->done_in_cur == fs->files[fs->cur].length)
        fs->cur++, fs->done_in_cur = 0;
    if (fs->cur == fs->n)
        return MHD_CONTENT_READER_END_OF_STREAM;
    http_file_range_t *f = &fs->files[fs->cur];
    uint64_t left = f->length - fs->done_in_cur;
    size_t want = left < max ? (size_t)left : max;
    ssize_t got = pread(f->fd, out, want, (off_t)(f->offset + fs->done_in_cur));
    if (got <= 0) /* a blob shorter than its row says: end with an error */
        return MHD_CONTENT_READER_END_WITH_ERROR;
    fs->done_in_cur += (uint64_t)got;
    return got;
}

static void free_files(void *cls)
{
    file_stream_t *fs = cls;
    for (size_t i = 0; i < fs->n; i++)
        close(fs->files[i].fd);
    free(fs->files);
    free(fs);
}

static void close_files(http_req_t *r)
{
    for (size_t i = 0; i < r->nfiles; i++)
        close(r->files[i].fd);
    r->nfiles = 0;
}

static struct MHD_Response *make_body(http_req_t *r)
{
    if (r->body_kind == HTTP_BODY_FILES) {
        r->out_bytes = r->files_total;
        if (r->nfiles == 1) {
            struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64(
                r->files[0].length, r->files[0].fd, r->files[0].offset);
            if (resp)
                r->nfiles = 0; /* MHD owns the fd now */
            return resp;
        }
        file_stream_t *fs = calloc(1, sizeof *fs);
        http_file_range_t *copy = fs ? malloc(r->nfiles * sizeof *copy + 1) : NULL;
        if (!copy) {
            free(fs);
            return NULL;
        }
        memcpy(copy, r->files, r->nfiles * sizeof *copy);
        fs->files = copy;
        fs->n = r->nfiles;
        struct MHD_Response *resp = MHD_create_response_from_callback(
            r->files_total, HTTP_STREAM_BLOCK, stream_files, fs, free_files);
        if (!resp) {
            free(copy);
            free(fs);
            return NULL;
        }
        r->nfiles = 0;
        return resp;
    }
    r->out_bytes = r->out.len;
    size_t len = 0;
    char *data = buf_detach(&r->out, &len);
    return MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
}

/* Queues the response in r. close_after: the body was not (fully) read. */
static enum MHD_Result send_response(conn_state_t *s, struct MHD_Connection *c, bool close_after)
{
    http_req_t *r = &s->req;
    struct MHD_Response *resp = make_body(r);
    if (!resp) {
        close_files(r);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "x-amz-request-id", r->rid);
    MHD_add_response_header(resp, "Server", "kura");
    for (size_t i = 0; i < r->nout_headers; i++)
        MHD_add_response_header(resp, r->out_headers[i].name, r->out_headers[i].value);
    if (close_after)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(c, r->status, resp);
    MHD_destroy_response(resp);
    s->answered = true;
    return ret;
}

static void watch_add(http_server_t *srv, conn_state_t *s, struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return;
    pthread_mutex_lock(&srv->mu);
    s->watch.fd = ci->connect_fd;
    atomic_store_explicit(&s->watch.progress_ms, timefmt_now_ms(), memory_order_relaxed);
    s->watch.prev = NULL;
    s->watch.next = srv->watched;
    if (srv->watched)
        srv->watched->prev = &s->watch;
    srv->watched = &s->watch;
    s->watched = true;
    pthread_mutex_unlock(&srv->mu);
}

static void watch_remove(http_server_t *srv, conn_state_t *s)
{
    if (!s->watched)
        return;
    pthread_mutex_lock(&srv->mu);
    if (s->watch.prev)
        s->watch.prev->next = s->watch.next;
    else
        srv->watched = s->watch.next;
    if (s->watch.next)
        s->watch.next->prev = s->watch.prev;
    s->watched = false;
    pthread_mutex_unlock(&srv->mu);
}

static void *watchdog_main(void *arg)
{
    http_server_t *srv = arg;
    for (;;) {
        usleep(HTTP_HANGUP_CHECK_MS * 1000 / 2);
        pthread_mutex_lock(&srv->mu);
        if (srv->stop) {
            pthread_mutex_unlock(&srv->mu);
            return NULL;
        }
        int64_t now = timefmt_now_ms();
        for (watch_t *w = srv->watched; w; w = w->next) {
            char b;
            if (now - atomic_load_explicit(&w->progress_ms, memory_order_relaxed) <
                HTTP_HANGUP_CHECK_MS)
                continue;
            ssize_t n = recv(w->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
            if (n == 0)
                shutdown(w->fd, SHUT_RDWR); /* the peer is gone: end the request */
        }
        pthread_mutex_unlock(&srv->mu);
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)url, (void)version;
    http_server_t *srv = cls;
    conn_state_t *s = *con_cls;
    if (!s)
        return MHD_NO; /* on_uri could not allocate */
    http_req_t *r = &s->req;

    if (!s->started) {
        s->started = true;
        read_head(r, c, method);
        if (srv->h.begin(srv->app, r, &s->ctx))
            return send_response(s, c, r->has_length ? r->content_length > 0 : r->chunked_te);
        if ((r->has_length && r->content_length > 0) || r->chunked_te)
            watch_add(srv, s, c);
        return MHD_YES; /* MHD sends 100 Continue if asked, then the body */
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (s->watched)
            atomic_store_explicit(&s->watch.progress_ms, timefmt_now_ms(), memory_order_relaxed);
        if (s->answered)
            return MHD_YES; /* discarding the rest after an early answer */
        r->in_bytes += n;
        /* libmicrohttpd refuses a response while it is still receiving the
         * body, so a failure mid-body (disk full, say) is answered at the end. */
        if (!s->failed && !srv->h.body(srv->app, r, s->ctx, upload_data, n))
            s->failed = true;
        return MHD_YES;
    }
    watch_remove(srv, s);
    if (s->answered)
        return MHD_YES;
    if (s->failed)
        return send_response(s, c, true);
    srv->h.end(srv->app, r, s->ctx);
    return send_response(s, c, false);
}

static void access_log(const http_req_t *r)
{
    char ts[TIMEFMT_ISO_LEN];
    timefmt_iso8601_ms(timefmt_now_ms(), ts);
    buf_t b;
    buf_init(&b, 1 << 14);
    buf_printf(&b, "ts=%s lvl=info rid=%s svc=%s op=%s", ts, r->rid, r->svc ? r->svc : "-",
               r->op ? r->op : "-");
    buf_puts(&b, " method=");
    buf_puts(&b, r->method ? r->method : "-");
    if (r->bucket) {
        buf_puts(&b, " bucket=");
        log_quote(&b, r->bucket, strlen(r->bucket));
    }
    if (r->key) {
        buf_puts(&b, " key=");
        log_quote(&b, r->key, strlen(r->key));
    }
    buf_printf(&b, " status=%u err=%s in_bytes=%llu out_bytes=%llu ms=%.1f peer=%s", r->status,
               r->err ? r->err : "-", (unsigned long long)r->in_bytes,
               (unsigned long long)r->out_bytes, (double)(timefmt_now_ms() - r->start_ms),
               r->peer_ip ? r->peer_ip : "-");
    log_raw(buf_cstr(&b), b.len);
    buf_release(&b);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c;
    http_server_t *srv = cls;
    conn_state_t *s = *con_cls;
    if (!s)
        return;
    http_req_t *r = &s->req;
    watch_remove(srv, s);
    if (s->started) {
        if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && !r->err)
            r->err = toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "ConnectionTimeout"
                                                                   : "ConnectionClosed";
        if (!s->answered)
            r->status = 0; /* no response was sent: the log says status=0 */
        access_log(r);
        if (srv->h.done)
            srv->h.done(srv->app, r, s->ctx);
    }
    while (r->non_done) {
        size_t i = --r->non_done;
        r->on_done[i].fn(r->on_done[i].arg);
    }
    close_files(r);
    buf_release(&r->out);
    arena_free(r->arena);
    free(s);
    *con_cls = NULL;
    atomic_fetch_sub(&inflight, 1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    buf_t b;
    buf_init(&b, 1024);
    log_quote(&b, msg, n);
    log_warn(NULL, "http.mhd", "msg=%s", buf_cstr(&b));
    buf_release(&b);
}

http_server_t *http_server_start(const http_opts_t *o, const http_handlers_t *h, void *app)
{
    uint8_t boot[4];
    char hex[9];
    codec_random_hex(4, hex);
    codec_unhex(hex, 8, boot);
    rid_boot = (uint32_t)boot[0] << 24 | (uint32_t)boot[1] << 16 | (uint32_t)boot[2] << 8 | boot[3];

    http_server_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->h = *h;
    s->app = app;
    pthread_mutex_init(&s->mu, NULL);

    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, o->host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)o->port);
        sl = sizeof *in4;
    } else if (inet_pton(AF_INET6, o->host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)o->port);
        sl = sizeof *in6;
        flags |= MHD_USE_IPv6;
    } else {
        log_error(NULL, "http.listen", "msg=\"not an IP address\" host=%s", o->host);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    (void)sl;
    s->d = MHD_start_daemon(
        flags, (uint16_t)o->port, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
        s, MHD_OPTION_SOCK_ADDR, &ss,
        MHD_OPTION_THREAD_POOL_SIZE, o->threads, MHD_OPTION_CONNECTION_TIMEOUT,
        o->conn_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, o->max_header_bytes,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
    if (!s->d) {
        log_error(NULL, "http.listen", "msg=\"cannot listen\" host=%s port=%u", o->host, o->port);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : o->port;
    if (pthread_create(&s->watchdog, NULL, watchdog_main, s) != 0) {
        log_error(NULL, "http.watchdog", "msg=\"cannot start the hang-up watchdog\"");
        MHD_stop_daemon(s->d);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    return s;
}

unsigned http_server_port(const http_server_t *s) { return s->port; }

void http_server_stop(http_server_t *s)
{
    if (!s)
        return;
    /* Stop accepting, then let in-flight requests finish (bounded). */
    MHD_socket fd = MHD_quiesce_daemon(s->d);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    int64_t deadline = timefmt_now_ms() + HTTP_DRAIN_MS;
    while (atomic_load(&inflight) > 0 && timefmt_now_ms() < deadline)
        usleep(20 * 1000);
    MHD_stop_daemon(s->d);
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->watchdog, NULL);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
