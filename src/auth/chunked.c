/* auth/chunked.c: the aws-chunked body decoder: chunk framing, per-chunk
 * signatures, trailing headers, the trailer signature and the trailing
 * checksum (S3 API "sigv4-streaming", "sigv4-streaming-trailers").
 *
 * Wire format (signed chunks; unsigned ones have no ";chunk-signature=..."):
 *   hex-size;chunk-signature=<64 hex>\r\n <size bytes> \r\n     (repeated)
 *   0;chunk-signature=<64 hex>\r\n
 *   [trailer-name:value\r\n ... [x-amz-trailer-signature:<64 hex>\r\n]]
 *   \r\n
 *
 * States and the function behind each transition:
 *   ST_SIZE_LINE  --size_line()-->  ST_DATA (size > 0) | ST_TRAILER (size 0)
 *   ST_DATA       --feed_data()-->  ST_DATA_CR once the chunk's bytes are in
 *   ST_DATA_CR    --'\r'-->         ST_DATA_LF --'\n'--> ST_SIZE_LINE
 *   ST_TRAILER    --trailer_line()--> ST_TRAILER | ST_DONE (empty line,
 *                                     trailers_finish() checks them)
 *   any           --error-->        ST_FAILED (rc sticky)
 * The decoder keeps only the current line (bounded) and counters, so bytes
 * may arrive split anywhere, down to one at a time, and the body is never
 * held whole. Decoded bytes are emitted as they arrive, before the chunk's
 * signature can be checked (it follows the data): they are provisional
 * until auth_chunked_finish() returns AUTH_OK. */
#include "auth/auth.h"

#include "auth/auth_int.h"
#include "util/checksum.h"
#include "util/ckd.h"
#include "util/codec.h"
#include "util/parse.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A signed chunk line is 16 hex digits at most + ";chunk-signature=" + 64:
 * 97 bytes. Trailer lines hold a header name and a base64 digest or a
 * signature. 512 leaves room for unsigned chunk extensions we ignore. */
#define LINE_MAX_BYTES 512
#define TRAILER_NAME_MAX 64
#define TRAILER_VALUE_MAX 256
#define TRAILERS_MAX 8
/* S3 takes at most 5 GiB in one PUT: no honest chunk is larger. */
#define CHUNK_MAX_BYTES ((uint64_t)5 << 30)

typedef enum {
    ST_SIZE_LINE = 0,
    ST_DATA,
    ST_DATA_CR,
    ST_DATA_LF,
    ST_TRAILER,
    ST_DONE,
    ST_FAILED,
} state_t;

typedef struct {
    char name[TRAILER_NAME_MAX + 1];   /* lowercase */
    char value[TRAILER_VALUE_MAX + 1]; /* trimmed */
} trailer_t;

struct auth_chunked {
    /* Fixed at creation. */
    bool signed_chunks, trailer_mode, trailer_signed;
    uint64_t decoded_length; /* UINT64_MAX: not declared */
    uint8_t key[32];         /* signing key: wiped on free */
    char amz_date[17];
    char scope[AUTH_SCOPE_MAX];
    char declared[TRAILERS_MAX][TRAILER_NAME_MAX + 1];
    size_t ndeclared;
    ck_t sum;               /* declared trailing checksum over the payload */
    const char *sum_header; /* its trailer name, or NULL if none */

    /* Progress. */
    state_t state;
    auth_rc_t rc;
    char line[LINE_MAX_BYTES + 1];
    size_t line_len;
    uint64_t chunk_left, total;
    char prev_sig[AUTH_SIG_HEX_LEN + 1];  /* seed, then each chunk's */
    char chunk_sig[AUTH_SIG_HEX_LEN + 1]; /* claimed for the current chunk */
    ck_t chunk_hash;                      /* SHA-256 of the current chunk */
    trailer_t trailers[TRAILERS_MAX];
    size_t ntrailers;
    char trailer_sig[AUTH_SIG_HEX_LEN + 1];
    bool have_trailer_sig, skipped_blank;
};

static bool is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static auth_rc_t fail(auth_chunked_t *c, auth_rc_t rc)
{
    c->rc = rc;
    c->state = ST_FAILED;
    return rc;
}

/* Splits x-amz-trailer ("x-amz-checksum-crc32, x-amz-foo") into lowercase
 * names; the first x-amz-checksum-<algo> we know is computed as we decode. */
static bool declare_trailers(auth_chunked_t *c, const char *names)
{
    const char *s = names;
    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        const char *e = s;
        while (*e && *e != ',')
            e++;
        const char *te = e;
        while (te > s && (te[-1] == ' ' || te[-1] == '\t'))
            te--;
        size_t len = (size_t)(te - s);
        if (len == 0)
            break;
        if (len > TRAILER_NAME_MAX || c->ndeclared == TRAILERS_MAX)
            return false;
        char *d = c->declared[c->ndeclared++];
        for (size_t i = 0; i < len; i++)
            d[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
        d[len] = '\0';
        if (!c->sum_header && strncmp(d, "x-amz-checksum-", 15) == 0) {
            ck_algo_t a = ck_algo_from_name(d + 15);
            if (a != CK_NONE) {
                if (!ck_init(&c->sum, a))
                    return false;
                c->sum_header = ck_algo_header(a);
            }
        }
        s = e;
    }
    return true;
}

auth_chunked_t *auth_chunked_new(const auth_result_t *auth, uint64_t decoded_length,
                                 const char *trailer_names)
{
    auth_payload_t p = auth->payload;
    if (p != AUTH_PAYLOAD_STREAMING_SIGNED && p != AUTH_PAYLOAD_STREAMING_SIGNED_TRAILER &&
        p != AUTH_PAYLOAD_STREAMING_UNSIGNED_TRAILER)
        return NULL; /* not an aws-chunked payload mode */

    auth_chunked_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->signed_chunks = p != AUTH_PAYLOAD_STREAMING_UNSIGNED_TRAILER;
    c->trailer_mode = p != AUTH_PAYLOAD_STREAMING_SIGNED;
    c->trailer_signed = p == AUTH_PAYLOAD_STREAMING_SIGNED_TRAILER;
    c->decoded_length = decoded_length;
    c->state = ST_SIZE_LINE;
    c->rc = AUTH_OK;
    if (c->signed_chunks) {
        memcpy(c->key, auth->signing_key, sizeof c->key);
        memcpy(c->amz_date, auth->amz_date, sizeof c->amz_date);
        memcpy(c->prev_sig, auth->seed_signature, sizeof c->prev_sig);
        if (!auth_scope_format(auth, c->scope, sizeof c->scope))
            goto fail;
    }
    if (trailer_names && !declare_trailers(c, trailer_names))
        goto fail;
    return c;
fail:
    auth_chunked_free(c);
    return NULL;
}

void auth_chunked_free(auth_chunked_t *c)
{
    if (!c)
        return;
    ck_release(&c->sum);
    ck_release(&c->chunk_hash);
    explicit_bzero(c->key, sizeof c->key);
    free(c);
}

/* HMAC over "AWS4-HMAC-SHA256-PAYLOAD\n date\n scope\n prev\n sha256("")\n
 * sha256(chunk)"; on a match the claimed signature becomes the previous one. */
static auth_rc_t chunk_verify(auth_chunked_t *c, const uint8_t digest[32])
{
    char hex[65], tail[2 * 64 + 2], want[AUTH_SIG_HEX_LEN + 1];
    codec_hex(digest, 32, hex);
    memcpy(tail, AUTH_EMPTY_SHA256 "\n", 65);
    memcpy(tail + 65, hex, 65);
    auth_chain_signature(c->key, AUTH_ALGORITHM_CHUNK, c->amz_date, c->scope, c->prev_sig, tail,
                         want);
    if (!codec_ct_equal(want, c->chunk_sig, AUTH_SIG_HEX_LEN))
        return AUTH_ERR_SIGNATURE;
    memcpy(c->prev_sig, c->chunk_sig, sizeof c->prev_sig);
    return AUTH_OK;
}

static auth_rc_t chunk_end(auth_chunked_t *c)
{
    uint8_t d[CK_MAX_DIGEST];
    if (!c->signed_chunks)
        return AUTH_OK;
    if (ck_final(&c->chunk_hash, d) != 32)
        return AUTH_ERR_SIGNATURE;
    return chunk_verify(c, d);
}

/* "hex-size[;chunk-signature=<sig>]" (CRLF already stripped). */
static auth_rc_t size_line(auth_chunked_t *c)
{
    const char *p = c->line, *end = c->line + c->line_len;
    uint64_t size = 0, total;

    if (parse_hex_u64(&p, end, CHUNK_MAX_BYTES, &size) != PARSE_OK)
        return AUTH_ERR_CHUNK_MALFORMED;
    if (c->signed_chunks) {
        static const char ext[] = ";chunk-signature=";
        size_t elen = sizeof ext - 1;
        if ((size_t)(end - p) != elen + AUTH_SIG_HEX_LEN || memcmp(p, ext, elen) != 0 ||
            !is_lower_hex(p + elen, AUTH_SIG_HEX_LEN))
            return AUTH_ERR_CHUNK_MALFORMED;
        memcpy(c->chunk_sig, p + elen, AUTH_SIG_HEX_LEN);
        c->chunk_sig[AUTH_SIG_HEX_LEN] = '\0';
    } else if (p != end && *p != ';') {
        return AUTH_ERR_CHUNK_MALFORMED; /* unsigned: extensions are ignored */
    }
    if (ckd_add_u64(&total, c->total, size))
        return AUTH_ERR_CHUNK_MALFORMED;
    if (c->decoded_length != UINT64_MAX && total > c->decoded_length)
        return AUTH_ERR_INCOMPLETE_BODY; /* more than x-amz-decoded-content-length */
    c->total = total;
    if (c->signed_chunks && !ck_init(&c->chunk_hash, CK_SHA256))
        return AUTH_ERR_SIGNATURE; /* cannot check it: refuse rather than accept */
    if (size > 0) {
        c->chunk_left = size;
        c->state = ST_DATA;
        return AUTH_OK;
    }
    /* The final, empty chunk: its signature covers no bytes. */
    auth_rc_t rc = chunk_end(c);
    if (rc != AUTH_OK)
        return rc;
    if (c->decoded_length != UINT64_MAX && c->total != c->decoded_length)
        return AUTH_ERR_INCOMPLETE_BODY;
    c->state = ST_TRAILER;
    return AUTH_OK;
}

static int trailer_cmp(const void *a, const void *b)
{
    return strcmp(((const trailer_t *)a)->name, ((const trailer_t *)b)->name);
}

static const trailer_t *trailer_find(const auth_chunked_t *c, const char *name)
{
    for (size_t i = 0; i < c->ntrailers; i++)
        if (strcmp(c->trailers[i].name, name) == 0)
            return &c->trailers[i];
    return NULL;
}

/* The trailer section is complete: every declared name present, the trailer
 * signature (signed mode) over the sorted "name:value\n" lines, then the
 * checksum we computed against the one the client sent. */
static auth_rc_t trailers_finish(auth_chunked_t *c)
{
    for (size_t i = 0; i < c->ndeclared; i++)
        if (!trailer_find(c, c->declared[i]))
            return AUTH_ERR_INCOMPLETE_BODY;
    if (c->trailer_signed) {
        trailer_t sorted[TRAILERS_MAX];
        uint8_t h[32];
        char hex[65], want[AUTH_SIG_HEX_LEN + 1];
        ck_t sha;

        if (!c->have_trailer_sig)
            return AUTH_ERR_INCOMPLETE_BODY;
        memcpy(sorted, c->trailers, c->ntrailers * sizeof sorted[0]);
        qsort(sorted, c->ntrailers, sizeof sorted[0], trailer_cmp);
        if (!ck_init(&sha, CK_SHA256))
            return AUTH_ERR_SIGNATURE;
        for (size_t i = 0; i < c->ntrailers; i++) {
            ck_update(&sha, sorted[i].name, strlen(sorted[i].name));
            ck_update(&sha, ":", 1);
            ck_update(&sha, sorted[i].value, strlen(sorted[i].value));
            ck_update(&sha, "\n", 1);
        }
        if (ck_final(&sha, h) != 32)
            return AUTH_ERR_SIGNATURE;
        codec_hex(h, 32, hex);
        auth_chain_signature(c->key, AUTH_ALGORITHM_TRAILER, c->amz_date, c->scope, c->prev_sig,
                             hex, want);
        if (!codec_ct_equal(want, c->trailer_sig, AUTH_SIG_HEX_LEN))
            return AUTH_ERR_SIGNATURE;
    }
    if (c->sum_header) {
        char got[CK_MAX_B64];
        const trailer_t *t = trailer_find(c, c->sum_header);
        ck_final_b64(&c->sum, got);
        if (!t || strcmp(t->value, got) != 0)
            return AUTH_ERR_BAD_DIGEST;
    }
    return AUTH_OK;
}

/* One trailer line, or the empty line that ends the body. */
static auth_rc_t trailer_line(auth_chunked_t *c)
{
    const char *s = c->line, *end = c->line + c->line_len;

    if (c->line_len == 0) {
        /* Some clients put the final chunk's CRLF before the trailers: skip
         * one blank line while trailers are still owed. */
        bool owed = c->trailer_signed || c->ndeclared > 0;
        if (c->trailer_mode && owed && c->ntrailers == 0 && !c->have_trailer_sig &&
            !c->skipped_blank) {
            c->skipped_blank = true;
            return AUTH_OK;
        }
        auth_rc_t rc = c->trailer_mode ? trailers_finish(c) : AUTH_OK;
        if (rc == AUTH_OK)
            c->state = ST_DONE;
        return rc;
    }
    if (!c->trailer_mode || c->have_trailer_sig)
        return AUTH_ERR_CHUNK_MALFORMED; /* nothing may follow the signature */
    const char *colon = memchr(s, ':', c->line_len);
    if (!colon || colon == s || (size_t)(colon - s) > TRAILER_NAME_MAX)
        return AUTH_ERR_CHUNK_MALFORMED;
    char name[TRAILER_NAME_MAX + 1];
    size_t nlen = (size_t)(colon - s);
    for (size_t i = 0; i < nlen; i++) {
        char ch = s[i];
        if (ch <= ' ' || ch >= 127)
            return AUTH_ERR_CHUNK_MALFORMED;
        name[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    name[nlen] = '\0';
    const char *v = colon + 1, *ve = end;
    while (v < ve && (*v == ' ' || *v == '\t'))
        v++;
    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
        ve--;
    size_t vlen = (size_t)(ve - v);

    if (strcmp(name, "x-amz-trailer-signature") == 0) {
        if (!c->trailer_signed || vlen != AUTH_SIG_HEX_LEN || !is_lower_hex(v, vlen))
            return AUTH_ERR_CHUNK_MALFORMED;
        memcpy(c->trailer_sig, v, vlen);
        c->trailer_sig[vlen] = '\0';
        c->have_trailer_sig = true;
        return AUTH_OK;
    }
    if (vlen > TRAILER_VALUE_MAX || c->ntrailers == TRAILERS_MAX || trailer_find(c, name))
        return AUTH_ERR_CHUNK_MALFORMED;
    if (c->ndeclared > 0) {
        bool declared = false;
        for (size_t i = 0; i < c->ndeclared && !declared; i++)
            declared = strcmp(c->declared[i], name) == 0;
        if (!declared)
            return AUTH_ERR_CHUNK_MALFORMED; /* not announced in x-amz-trailer */
    }
    trailer_t *t = &c->trailers[c->ntrailers++];
    memcpy(t->name, name, nlen + 1);
    memcpy(t->value, v, vlen);
    t->value[vlen] = '\0';
    return AUTH_OK;
}

/* Collects one line byte by byte; lines end in CRLF (a bare LF is refused).
 * Returns 1 when c->line holds a whole line (CRLF stripped), 0 for more. */
static int line_byte(auth_chunked_t *c, char b, auth_rc_t *rc)
{
    if (b == '\n') {
        if (c->line_len == 0 || c->line[c->line_len - 1] != '\r') {
            *rc = AUTH_ERR_CHUNK_MALFORMED;
            return -1;
        }
        c->line_len--;
        c->line[c->line_len] = '\0';
        return 1;
    }
    if (c->line_len == LINE_MAX_BYTES) {
        *rc = AUTH_ERR_CHUNK_MALFORMED;
        return -1;
    }
    c->line[c->line_len++] = b;
    return 0;
}

auth_rc_t auth_chunked_feed(auth_chunked_t *c, const void *p, size_t n, auth_emit_fn emit,
                            void *arg)
{
    const char *s = p;
    auth_rc_t rc = AUTH_OK;

    while (n > 0) {
        switch (c->state) {
        case ST_FAILED:
            return c->rc;
        case ST_DATA: {
            size_t take = c->chunk_left < n ? (size_t)c->chunk_left : n;
            if (c->signed_chunks)
                ck_update(&c->chunk_hash, s, take);
            if (c->sum_header)
                ck_update(&c->sum, s, take);
            if (emit && !emit(arg, s, take))
                return fail(c, AUTH_ERR_INCOMPLETE_BODY); /* the consumer gave up */
            s += take;
            n -= take;
            c->chunk_left -= take;
            if (c->chunk_left == 0) {
                rc = chunk_end(c);
                if (rc != AUTH_OK)
                    return fail(c, rc);
                c->state = ST_DATA_CR;
            }
            break;
        }
        case ST_DATA_CR:
        case ST_DATA_LF:
            if (*s != (c->state == ST_DATA_CR ? '\r' : '\n'))
                return fail(c, AUTH_ERR_CHUNK_MALFORMED);
            c->state = c->state == ST_DATA_CR ? ST_DATA_LF : ST_SIZE_LINE;
            s++;
            n--;
            break;
        case ST_SIZE_LINE:
        case ST_TRAILER: {
            int got = line_byte(c, *s, &rc);
            s++;
            n--;
            if (got < 0)
                return fail(c, rc);
            if (got == 0)
                break;
            rc = c->state == ST_SIZE_LINE ? size_line(c) : trailer_line(c);
            c->line_len = 0;
            if (rc != AUTH_OK)
                return fail(c, rc);
            break;
        }
        case ST_DONE:
            return fail(c, AUTH_ERR_CHUNK_MALFORMED); /* bytes after the end */
        }
    }
    return c->state == ST_FAILED ? c->rc : AUTH_OK;
}

auth_rc_t auth_chunked_finish(auth_chunked_t *c)
{
    if (c->state == ST_FAILED)
        return c->rc;
    if (c->state != ST_DONE)
        return fail(c, AUTH_ERR_INCOMPLETE_BODY);
    return AUTH_OK;
}

const char *auth_chunked_trailer(const auth_chunked_t *c, const char *name)
{
    char lower[TRAILER_NAME_MAX + 1];
    size_t n = strlen(name);
    if (n > TRAILER_NAME_MAX)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    const trailer_t *t = trailer_find(c, lower);
    return t ? t->value : NULL;
}
