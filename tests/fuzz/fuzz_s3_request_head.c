/* tests/fuzz/fuzz_s3_request_head.c: kura's own handling of a request head
 * (libmicrohttpd owns the framing, NOTES 23): the raw path and query as
 * sent, the headers, and a small body, through
 *   util/uri.c      uri_decode of path and query (plus and non-plus forms)
 *   util/parse.c    parse_utf8_valid on the decoded key
 *   http/range.c    Range and the four conditional headers
 *   router/         service choice (kura paths, /iceberg/, X-Amz-Target,
 *                   credential scope), SigV4, the payload pipeline
 *   s3/dispatch.c   path-style and virtual-hosted addressing, subresource
 *                   and operation choice, then the operation itself
 * on a live in-process kura (fuzz_server.h) holding bucket "fuzz" with a few
 * objects, so GET/HEAD/Range/conditional paths reach real data.
 *
 * Input lines: "METHOD", "raw path", "raw query" ("-" for none), then
 * "name:value" headers until an empty line; the rest is the body. Byte 0
 * of the METHOD line is consumed as flags first: bit 0 unsigned (else
 * signed with the root key, so the request passes SigV4), bit 1 send the
 * body in 7-byte pieces. */
#include "fuzz_server.h"

#include "http/range.h"
#include "util/parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fixture(router_t *rt)
{
    static const struct {
        const char *method, *path, *body;
    } reqs[] = {
        {"PUT", "/fuzz", ""},
        {"PUT", "/fuzz/a.txt", "hello, world"},
        {"PUT", "/fuzz/dir/%C3%A9t%C3%A9%20b", "0123456789abcdefghijklmnopqrstuvwxyz"},
        {"PUT", "/fuzz/empty", ""},
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        http_req_t *r = fz_req_new(reqs[i].method, reqs[i].path, NULL);
        if (!r)
            return;
        char cl[24];
        size_t n = strlen(reqs[i].body);
        snprintf(cl, sizeof cl, "%zu", n);
        fz_header(r, "content-length", cl);
        fz_sign(r, "s3", reqs[i].body, n);
        fz_run(rt, r, reqs[i].body, n, 0);
    }
}

/* The parsers kura runs on head bytes, called directly as well, with the
 * invariants they promise. */
static void parsers(const char *path, const char *query, const http_req_t *r)
{
    buf_t b;
    buf_init(&b, 1 << 20);
    for (int plus = 0; plus < 2; plus++) {
        buf_reset(&b);
        if (uri_decode(&b, path, strlen(path), plus) && buf_ok(&b)) {
            if (b.len > strlen(path))
                abort(); /* decoding never grows */
            (void)parse_utf8_valid(b.data ? (const char *)b.data : "", b.len);
        }
        buf_reset(&b);
        if (query)
            (void)uri_decode(&b, query, strlen(query), plus);
    }
    buf_release(&b);
    const char *range = http_header(r, "range");
    if (range) {
        http_range_t rg;
        for (uint64_t size = 0; size < 40; size += 13)
            if (http_range_parse(range, size, &rg) == HTTP_RANGE_OK &&
                (rg.first > rg.last || rg.last >= size))
                abort();
    }
    (void)http_conditional(http_header(r, "if-match"), http_header(r, "if-unmodified-since"),
                           http_header(r, "if-none-match"), http_header(r, "if-modified-since"),
                           "5d41402abc4b2a76b9719d911017c592", 1700000000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fixture_ok;
    router_t *rt = fz_server();
    if (!rt || size < 1)
        return 0;
    if (!fixture_ok) {
        fixture(rt);
        fixture_ok = 1;
    }
    unsigned flags = data[0];
    data++;
    size--;
    /* The head is text up to the first empty line; NUL ends it early (C
     * strings, as libmicrohttpd hands them over). */
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    const char *body = "";
    size_t blen = 0;
    char *end = strstr(text, "\n\n");
    if (end) {
        *end = '\0';
        body = (const char *)data + (end - text) + 2;
        blen = size - (size_t)(end - text) - 2;
    }
    char *lines[3 + FZ_MAX_HEADERS];
    size_t nlines = 0;
    for (char *s = text; nlines < sizeof lines / sizeof lines[0];) {
        lines[nlines++] = s;
        char *nl = strchr(s, '\n');
        if (!nl)
            break;
        *nl = '\0';
        s = nl + 1;
    }
    while (nlines < 3)
        lines[nlines++] = (char *)"";
    const char *method = lines[0][0] ? lines[0] : "GET";
    const char *path = lines[1][0] == '/' ? lines[1] : "/";
    const char *query = strcmp(lines[2], "-") == 0 ? NULL : lines[2];
    http_req_t *r = fz_req_new(method, path, query);
    if (!r) {
        free(text);
        return 0;
    }
    bool has_cl = false;
    for (size_t i = 3; i < nlines; i++) {
        char *colon = strchr(lines[i], ':');
        if (!colon || colon == lines[i])
            continue;
        *colon = '\0';
        if (strcasecmp(lines[i], "content-length") == 0) {
            has_cl = true;
            continue; /* libmicrohttpd makes it match the body */
        }
        if (strcasecmp(lines[i], "content-type") == 0 && strstr(colon + 1, "multipart/form-data"))
            continue; /* POST forms need libmicrohttpd's post processor: not ours */
        fz_header(r, lines[i], colon + 1);
    }
    char cl[24];
    snprintf(cl, sizeof cl, "%zu", blen);
    if (has_cl || blen)
        fz_header(r, "content-length", cl);
    parsers(path, query, r);
    if (!(flags & 1))
        fz_sign(r, "s3", body, blen);
    fz_run(rt, r, body, blen, flags & 2 ? 7 : 0);
    free(text);
    return 0;
}
