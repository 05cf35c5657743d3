/* util/httpc.h: a small blocking HTTP/1.1 client for kura's own command
 * line (kura user ..., later kura sql) talking to a kura server. One request
 * per connection (Connection: close), body in memory, bounded response.
 * Not a general client: plain http, IPv4/IPv6 literal or resolvable host. */
#ifndef KURA_UTIL_HTTPC_H
#define KURA_UTIL_HTTPC_H

#include "util/buf.h"

#include <stddef.h>

typedef struct {
    const char *name, *value;
} httpc_header_t;

#define HTTPC_MAX_HEAD 8192

typedef struct {
    int status;
    buf_t body; /* caller releases with buf_release */
    char head[HTTPC_MAX_HEAD]; /* the header lines, cut at HTTPC_MAX_HEAD - 1 */
} httpc_response_t;

/* The value of response header `name` (any case) into out (cap bytes,
 * trimmed); false when absent or longer than cap - 1. */
bool httpc_response_header(const httpc_response_t *r, const char *name, char *out, size_t cap);

/* Parses "http://host:port" into host (cap bytes) and port. */
bool httpc_parse_endpoint(const char *url, char *host, size_t cap, unsigned *port);

/* Sends the request; returns false (message in err) when no HTTP response
 * could be read. path includes the query. */
bool httpc_request(const char *host, unsigned port, const char *method, const char *path,
                   const httpc_header_t *headers, size_t nheaders, const void *body, size_t len,
                   httpc_response_t *out, char *err, size_t errcap);

#endif
