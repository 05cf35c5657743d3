/* util/httpc.c: blocking HTTP/1.1 client for the kura CLI (see httpc.h). */
#include "util/httpc.h"

#include "util/parse.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define HTTPC_MAX_RESPONSE ((size_t)64 << 20)

bool httpc_parse_endpoint(const char *url, char *host, size_t cap, unsigned *port)
{
    const char *p = url;
    if (strncmp(p, "http://", 7) == 0)
        p += 7;
    const char *end = p + strcspn(p, "/");
    const char *colon = NULL;
    for (const char *c = p; c < end; c++)
        if (*c == ':')
            colon = c;
    size_t hl = (size_t)((colon ? colon : end) - p);
    if (hl == 0 || hl >= cap)
        return false;
    memcpy(host, p, hl);
    host[hl] = '\0';
    uint64_t v = 80;
    if (colon) {
        const char *q = colon + 1;
        if (parse_u64(&q, end, 65535, &v) != PARSE_OK || q != end)
            return false;
    }
    *port = (unsigned)v;
    return true;
}

static int connect_to(const char *host, unsigned port, char *err, size_t errcap)
{
    char ps[8];
    snprintf(ps, sizeof ps, "%u", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int e = getaddrinfo(host, ps, &hints, &res);
    if (e) {
        snprintf(err, errcap, "cannot resolve %s: %s", host, gai_strerror(e));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errcap, "cannot connect to %s:%u (is kura running?)", host, port);
    return fd;
}

static bool send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        c += w;
        n -= (size_t)w;
    }
    return true;
}

bool httpc_request(const char *host, unsigned port, const char *method, const char *path,
                   const httpc_header_t *headers, size_t nheaders, const void *body, size_t len,
                   httpc_response_t *out, char *err, size_t errcap)
{
    buf_init(&out->body, HTTPC_MAX_RESPONSE);
    out->status = 0;
    int fd = connect_to(host, port, err, errcap);
    if (fd < 0)
        return false;
    buf_t req;
    buf_init(&req, (size_t)1 << 20);
    buf_printf(&req, "%s %s HTTP/1.1\r\nConnection: close\r\nContent-Length: %zu\r\n", method,
               path, len);
    for (size_t i = 0; i < nheaders; i++)
        buf_printf(&req, "%s: %s\r\n", headers[i].name, headers[i].value);
    buf_puts(&req, "\r\n");
    bool ok = buf_ok(&req) && send_all(fd, req.data, req.len) && (!len || send_all(fd, body, len));
    buf_release(&req);
    buf_t raw;
    buf_init(&raw, HTTPC_MAX_RESPONSE);
    char chunk[16384];
    ssize_t got;
    while (ok && (got = recv(fd, chunk, sizeof chunk, 0)) > 0)
        buf_append(&raw, chunk, (size_t)got);
    close(fd);
    const char *data = buf_cstr(&raw);
    const char *hdr_end = strstr(data, "\r\n\r\n");
    int status = 0;
    if (!ok || !buf_ok(&raw) || !hdr_end || sscanf(data, "HTTP/1.%*d %d", &status) != 1) {
        snprintf(err, errcap, "no HTTP response from %s:%u", host, port);
        buf_release(&raw);
        return false;
    }
    out->status = status;
    size_t hl = (size_t)(hdr_end - data) + 2; /* with the last line's CRLF */
    if (hl > sizeof out->head - 1)
        hl = sizeof out->head - 1;
    memcpy(out->head, data, hl);
    out->head[hl] = '\0';
    buf_append(&out->body, hdr_end + 4, raw.len - (size_t)(hdr_end + 4 - data));
    buf_release(&raw);
    return true;
}

bool httpc_response_header(const httpc_response_t *r, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    /* Header lines start after a CRLF; the status line never matches. */
    for (const char *p = strstr(r->head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, nl) != 0 || line[nl] != ':')
            continue;
        const char *v = line + nl + 1, *end = strstr(v, "\r\n");
        if (!end)
            return false;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        size_t n = (size_t)(end - v);
        if (n >= cap)
            return false;
        memcpy(out, v, n);
        out[n] = '\0';
        return true;
    }
    return false;
}
