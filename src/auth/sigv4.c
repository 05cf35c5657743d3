/* auth/sigv4.c: AWS Signature Version 4 verification, header and presigned
 * query forms, and the signing building blocks (AWS General Reference
 * "Create a signed AWS API request"; S3 API "Authenticating Requests (AWS
 * Signature Version 4)", "sig-v4-header-based-auth", "sigv4-query-string-auth").
 *
 * Verification order (auth_sigv4_verify):
 *   1. pick the form: Authorization header, X-Amz-* query, or anonymous;
 *      SigV2 and other algorithms are refused (AUTH_ERR_UNSUPPORTED).
 *   2. parse credential scope, signed headers, signature (malformed -> 400).
 *   3. date and clock checks (skew, presigned expiry).
 *   4. payload mode from x-amz-content-sha256.
 *   5. secret lookup, canonical request, string to sign, constant-time compare.
 * Nothing in this file logs: every value it handles is either a secret or
 * part of a signature. */
#include "auth/auth.h"

#include "auth/auth_int.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/parse.h"
#include "util/timefmt.h"
#include "util/uri.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* A canonical request is the path, query and signed headers: all bounded by
 * the HTTP layer far below this. The ceiling turns a hostile request into an
 * error instead of memory. */
#define CANONICAL_MAX_BYTES ((size_t)1 << 20)
#define QUERY_PARAMS_MAX 1024
#define SIGNED_HEADERS_MAX_BYTES 2048
#define CLOCK_SKEW_MAX_S (15 * 60)
#define PRESIGN_EXPIRES_MAX_S 604800 /* 7 days */
#define QUERY_VALUE_MAX_BYTES 2048   /* one decoded X-Amz-* parameter */

static const char *const rc_names[] = {
    [AUTH_OK] = "OK",
    [AUTH_ANONYMOUS] = "Anonymous",
    [AUTH_ERR_SIGNATURE] = "SignatureDoesNotMatch",
    [AUTH_ERR_ACCESS_KEY] = "InvalidAccessKeyId",
    [AUTH_ERR_SKEWED] = "RequestTimeTooSkewed",
    [AUTH_ERR_HEADER_MALFORMED] = "AuthorizationHeaderMalformed",
    [AUTH_ERR_QUERY_PARAMS] = "AuthorizationQueryParametersError",
    [AUTH_ERR_EXPIRED] = "RequestExpired",
    [AUTH_ERR_MISSING_AUTH] = "MissingAuthentication",
    [AUTH_ERR_CONTENT_SHA256] = "InvalidContentSha256",
    [AUTH_ERR_SHA256_MISMATCH] = "XAmzContentSHA256Mismatch",
    [AUTH_ERR_UNSUPPORTED] = "UnsupportedAuthentication",
    [AUTH_ERR_INCOMPLETE_BODY] = "IncompleteBody",
    [AUTH_ERR_CHUNK_MALFORMED] = "InvalidChunk",
    [AUTH_ERR_BAD_DIGEST] = "BadDigest",
};
_Static_assert(sizeof rc_names / sizeof rc_names[0] == AUTH_RC__COUNT, "rc_names incomplete");

const char *auth_rc_name(auth_rc_t rc)
{
    if ((unsigned)rc >= AUTH_RC__COUNT)
        return "Unknown";
    return rc_names[rc];
}

/* ---- small helpers ------------------------------------------------------ */

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static const char *header_get(const auth_request_t *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (req->headers[i].name && strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value ? req->headers[i].value : "";
    return NULL;
}

/* Copies [s, s+n) into out (cap bytes with the NUL); false if it does not fit. */
static bool copy_bounded(char *out, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

static bool is_hex_lower(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static void format_amz_date(int64_t t, char out[17])
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (!gmtime_r(&tt, &tm) || strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
        out[0] = '\0';
}

bool auth_scope_format(const auth_result_t *r, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s/%s/aws4_request", r->date, r->region, r->service);
    return n > 0 && (size_t)n < cap;
}

void auth_signing_key(const char *secret, const char *date, const char *region, const char *service,
                      uint8_t out[32])
{
    /* kSecret = "AWS4" + secret; the copy is wiped: it is the root secret. */
    size_t slen = strlen(secret);
    char k[4 + AUTH_SECRET_MAX_BYTES];
    uint8_t h[32];

    assert(slen <= AUTH_SECRET_MAX_BYTES); /* caller bug: secrets are validated at load */
    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret, slen);
    codec_hmac_sha256(k, 4 + slen, date, strlen(date), h);
    codec_hmac_sha256(h, 32, region, strlen(region), h);
    codec_hmac_sha256(h, 32, service, strlen(service), h);
    codec_hmac_sha256(h, 32, "aws4_request", 12, out);
    explicit_bzero(k, sizeof k);
    explicit_bzero(h, sizeof h);
}

void auth_chain_signature(const uint8_t key[32], const char *algo, const char *amz_date,
                          const char *scope, const char *prev, const char *tail,
                          char out[AUTH_SIG_HEX_LEN + 1])
{
    char sts[512];
    uint8_t mac[32];
    int n = snprintf(sts, sizeof sts, "%s\n%s\n%s\n%s\n%s", algo, amz_date, scope, prev, tail);
    assert(n > 0 && (size_t)n < sizeof sts); /* every part has a fixed bound */
    codec_hmac_sha256(key, 32, sts, (size_t)n, mac);
    codec_hex(mac, 32, out);
}

/* ---- canonical request -------------------------------------------------- */

/* S3 signs the path exactly as the client sent it. Every other service
 * normalises it (RFC 3986 dot segments, empty segments dropped, a trailing
 * slash kept only when segments remain) and percent-encodes it once more, as
 * botocore and the JS SDK do for non-S3 signing (NOTES item 4). */
static void canonical_uri(buf_t *out, const char *raw_path, bool s3)
{
    const char *p = raw_path ? raw_path : "";
    size_t n = strlen(p);

    if (n == 0) {
        buf_putc(out, '/');
        return;
    }
    if (s3) {
        buf_append(out, p, n);
        return;
    }
    buf_t norm;
    buf_init(&norm, n + 1);
    const char *end = p + n;
    for (const char *s = p; s < end;) {
        const char *slash = memchr(s, '/', (size_t)(end - s));
        const char *seg_end = slash ? slash : end;
        size_t len = (size_t)(seg_end - s);
        if (len == 0 || (len == 1 && s[0] == '.')) {
            /* empty segment ("//") or "." */
        } else if (len == 2 && s[0] == '.' && s[1] == '.') {
            while (norm.len > 0 && norm.data[norm.len - 1] != '/')
                norm.len--;
            if (norm.len > 0)
                norm.len--; /* drop the segment's own '/' */
        } else {
            buf_putc(&norm, '/');
            buf_append(&norm, s, len);
        }
        s = slash ? slash + 1 : end;
    }
    if (norm.len == 0) {
        buf_putc(out, '/');
    } else {
        if (p[n - 1] == '/')
            buf_putc(&norm, '/');
        uri_encode(out, norm.data, norm.len, true);
    }
    if (!buf_ok(&norm))
        out->failed = true;
    buf_release(&norm);
}

typedef struct {
    const char *name, *value; /* both SigV4-encoded, NUL-terminated */
} qparam_t;

static int qparam_cmp(const void *a, const void *b)
{
    const qparam_t *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

/* Each parameter is decoded and encoded again with SigV4's rules, so a client
 * that sent '~' or ' ' raw, or '%7E', lands on the same canonical bytes AWS
 * computes; then sorted by name, then value. X-Amz-Signature is never part of
 * the canonical query: presigned URLs carry the signature there, and a
 * header-signed request with that parameter is refused before we get here.
 * Returns false on a malformed escape or too many parameters. */
static bool canonical_query(buf_t *out, const char *raw_query)
{
    if (!raw_query || !*raw_query)
        return true;

    size_t count = 1;
    for (const char *s = raw_query; *s; s++)
        count += *s == '&';
    if (count > QUERY_PARAMS_MAX)
        return false;

    bool ok = false;
    buf_t store, tmp;
    size_t *offs = calloc(count, 2 * sizeof *offs);
    qparam_t *params = calloc(count, sizeof *params);
    buf_init(&store, CANONICAL_MAX_BYTES);
    buf_init(&tmp, CANONICAL_MAX_BYTES);
    if (!offs || !params)
        goto done;

    size_t np = 0;
    const char *s = raw_query;
    while (*s) {
        const char *amp = strchr(s, '&');
        const char *pe = amp ? amp : s + strlen(s);
        if (pe > s) {
            const char *eq = memchr(s, '=', (size_t)(pe - s));
            const char *ne = eq ? eq : pe;
            const char *vs = eq ? eq + 1 : pe;
            buf_reset(&tmp);
            if (!uri_decode(&tmp, s, (size_t)(ne - s), false))
                goto done;
            bool is_sig = tmp.len == 15 && memcmp(tmp.data, "X-Amz-Signature", 15) == 0;
            if (!is_sig) {
                offs[2 * np] = store.len;
                uri_encode(&store, tmp.data ? tmp.data : "", tmp.len, false);
                buf_putc(&store, '\0');
            }
            buf_reset(&tmp);
            if (!uri_decode(&tmp, vs, (size_t)(pe - vs), false))
                goto done;
            if (!is_sig) {
                offs[2 * np + 1] = store.len;
                uri_encode(&store, tmp.data ? tmp.data : "", tmp.len, false);
                buf_putc(&store, '\0');
                np++;
            }
        }
        s = amp ? amp + 1 : pe;
    }
    if (!buf_ok(&store))
        goto done;
    /* store no longer grows: offsets become pointers. */
    for (size_t i = 0; i < np; i++) {
        params[i].name = store.data + offs[2 * i];
        params[i].value = store.data + offs[2 * i + 1];
    }
    qsort(params, np, sizeof *params, qparam_cmp);
    for (size_t i = 0; i < np; i++) {
        if (i)
            buf_putc(out, '&');
        buf_puts(out, params[i].name);
        buf_putc(out, '=');
        buf_puts(out, params[i].value);
    }
    ok = true;
done:
    free(offs);
    free(params);
    buf_release(&store);
    buf_release(&tmp);
    return ok;
}

/* Value as SigV4 canonicalises it: leading/trailing whitespace gone, inner
 * runs (including obs-fold line breaks) one space. */
static void canonical_value(buf_t *out, const char *v)
{
    while (*v && is_space(*v))
        v++;
    bool pending_space = false;
    for (; *v; v++) {
        if (is_space(*v)) {
            pending_space = true;
            continue;
        }
        if (pending_space)
            buf_putc(out, ' ');
        pending_space = false;
        buf_putc(out, *v);
    }
}

/* One "name:v1,v2\n" line per name of the ';'-separated list, in the list's
 * order (the client sorted it when signing). Headers the list names but the
 * request lacks canonicalise to "name:", which then fails the comparison. */
static void canonical_headers(buf_t *out, const auth_request_t *req, const char *signed_headers)
{
    const char *s = signed_headers;
    while (*s) {
        const char *semi = strchr(s, ';');
        size_t len = semi ? (size_t)(semi - s) : strlen(s);
        for (size_t i = 0; i < len; i++) {
            char c = s[i];
            buf_putc(out, (char)(c >= 'A' && c <= 'Z' ? c + 32 : c));
        }
        buf_putc(out, ':');
        bool first = true;
        for (size_t i = 0; i < req->nheaders; i++) {
            const char *hn = req->headers[i].name;
            if (!hn || strlen(hn) != len || strncasecmp(hn, s, len) != 0)
                continue;
            if (!first)
                buf_putc(out, ',');
            first = false;
            canonical_value(out, req->headers[i].value ? req->headers[i].value : "");
        }
        buf_putc(out, '\n');
        s = semi ? semi + 1 : s + len;
    }
}

static bool build_canonical(buf_t *out, const auth_request_t *req, const char *service,
                            const char *signed_headers, const char *payload_hash)
{
    buf_puts(out, req->method ? req->method : "");
    buf_putc(out, '\n');
    canonical_uri(out, req->raw_path, service && strcmp(service, "s3") == 0);
    buf_putc(out, '\n');
    if (!canonical_query(out, req->raw_query))
        return false;
    buf_putc(out, '\n');
    canonical_headers(out, req, signed_headers);
    buf_putc(out, '\n');
    buf_puts(out, signed_headers);
    buf_putc(out, '\n');
    buf_puts(out, payload_hash);
    return buf_ok(out);
}

char *auth_canonical_request(const auth_request_t *req, const char *service,
                             const char *signed_headers, const char *payload_hash)
{
    buf_t b;
    buf_init(&b, CANONICAL_MAX_BYTES);
    if (!build_canonical(&b, req, service, signed_headers, payload_hash)) {
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b, NULL);
}

/* Signature over a canonical request: hex into out (65 bytes). */
static void sign_canonical(const uint8_t key[32], const char *amz_date, const char *scope,
                           const buf_t *creq, char out[AUTH_SIG_HEX_LEN + 1])
{
    uint8_t h[32];
    char hex[65];
    codec_sha256(creq->data, creq->len, h);
    codec_hex(h, 32, hex);
    char sts[256];
    int n = snprintf(sts, sizeof sts, AUTH_ALGORITHM "\n%s\n%s\n%s", amz_date, scope, hex);
    assert(n > 0 && (size_t)n < sizeof sts);
    codec_hmac_sha256(key, 32, sts, (size_t)n, h);
    codec_hex(h, 32, out);
}

char *auth_sign_header(const auth_request_t *req, const char *access_key, const char *secret,
                       const char *region, const char *service, const char *amz_date,
                       const char *signed_headers, const char *payload_hash)
{
    char date[9], scope[AUTH_SCOPE_MAX], sig[AUTH_SIG_HEX_LEN + 1];
    uint8_t key[32];
    buf_t creq, out;

    if (strlen(amz_date) != 16 || strlen(secret) > AUTH_SECRET_MAX_BYTES)
        return NULL;
    memcpy(date, amz_date, 8);
    date[8] = '\0';
    int n = snprintf(scope, sizeof scope, "%s/%s/%s/aws4_request", date, region, service);
    if (n < 0 || (size_t)n >= sizeof scope)
        return NULL;
    buf_init(&creq, CANONICAL_MAX_BYTES);
    if (!build_canonical(&creq, req, service, signed_headers, payload_hash)) {
        buf_release(&creq);
        return NULL;
    }
    auth_signing_key(secret, date, region, service, key);
    sign_canonical(key, amz_date, scope, &creq, sig);
    explicit_bzero(key, sizeof key);
    buf_release(&creq);

    buf_init(&out, CANONICAL_MAX_BYTES);
    buf_printf(&out, AUTH_ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s", access_key,
               scope, signed_headers, sig);
    if (!buf_ok(&out)) {
        buf_release(&out);
        return NULL;
    }
    return buf_detach(&out, NULL);
}

/* ---- parsing the credential and the Authorization header ---------------- */

typedef struct {
    char access_key[129];
    char date[9];
    char region[33];
    char service[33];
} cred_t;

/* "AKID/YYYYMMDD/region/service/aws4_request". The region is not checked
 * against ours: the router answers a wrong region with its own error. */
static bool parse_credential(const char *s, size_t n, cred_t *c)
{
    const char *end = s + n;
    const char *part[5];
    size_t len[5];
    int k = 0;
    for (const char *p = s; k < 5; k++) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *pe = slash ? slash : end;
        part[k] = p;
        len[k] = (size_t)(pe - p);
        if (len[k] == 0)
            return false;
        if (!slash) {
            k++;
            break;
        }
        p = slash + 1;
        if (k == 4)
            return false; /* a sixth part */
    }
    if (k != 5 || len[4] != 12 || memcmp(part[4], "aws4_request", 12) != 0 || len[1] != 8)
        return false;
    for (size_t i = 0; i < 8; i++)
        if (!parse_is_digit(part[1][i]))
            return false;
    return copy_bounded(c->access_key, sizeof c->access_key, part[0], len[0]) &&
           copy_bounded(c->date, sizeof c->date, part[1], len[1]) &&
           copy_bounded(c->region, sizeof c->region, part[2], len[2]) &&
           copy_bounded(c->service, sizeof c->service, part[3], len[3]);
}

typedef struct {
    cred_t cred;
    char signed_headers[SIGNED_HEADERS_MAX_BYTES];
    char signature[AUTH_SIG_HEX_LEN + 1];
} authz_t;

/* Lowercase header names separated by ';', each non-empty, "host" among them. */
static bool signed_headers_ok(const char *s, bool *has_host)
{
    *has_host = false;
    if (!*s)
        return false;
    while (*s) {
        const char *semi = strchr(s, ';');
        size_t len = semi ? (size_t)(semi - s) : strlen(s);
        if (len == 0)
            return false;
        for (size_t i = 0; i < len; i++) {
            char c = s[i];
            if (c <= ' ' || c == ':' || c >= 127 || (c >= 'A' && c <= 'Z'))
                return false;
        }
        if (len == 4 && memcmp(s, "host", 4) == 0)
            *has_host = true;
        s = semi ? semi + 1 : s + len;
    }
    return true;
}

/* "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." with
 * the algorithm already consumed; components in any order, separated by ','
 * and optional spaces (some clients send none). */
static auth_rc_t parse_authorization(const char *s, authz_t *a)
{
    bool have_cred = false, have_sh = false, have_sig = false;

    while (*s) {
        while (*s == ' ' || *s == ',')
            s++;
        if (!*s)
            break;
        const char *eq = strchr(s, '=');
        if (!eq)
            return AUTH_ERR_HEADER_MALFORMED;
        size_t klen = (size_t)(eq - s);
        const char *v = eq + 1;
        const char *ve = strchr(v, ',');
        if (!ve)
            ve = v + strlen(v);
        const char *vt = ve;
        while (vt > v && vt[-1] == ' ')
            vt--;
        size_t vlen = (size_t)(vt - v);
        if (klen == 10 && memcmp(s, "Credential", 10) == 0 && !have_cred) {
            if (!parse_credential(v, vlen, &a->cred))
                return AUTH_ERR_HEADER_MALFORMED;
            have_cred = true;
        } else if (klen == 13 && memcmp(s, "SignedHeaders", 13) == 0 && !have_sh) {
            if (!copy_bounded(a->signed_headers, sizeof a->signed_headers, v, vlen))
                return AUTH_ERR_HEADER_MALFORMED;
            have_sh = true;
        } else if (klen == 9 && memcmp(s, "Signature", 9) == 0 && !have_sig) {
            if (!copy_bounded(a->signature, sizeof a->signature, v, vlen))
                return AUTH_ERR_HEADER_MALFORMED;
            have_sig = true;
        } else {
            return AUTH_ERR_HEADER_MALFORMED; /* unknown or repeated component */
        }
        s = ve;
    }
    if (!have_cred || !have_sh || !have_sig)
        return AUTH_ERR_HEADER_MALFORMED;
    return AUTH_OK;
}

/* The decoded value of query parameter `name` (exact, case-sensitive, as AWS
 * matches X-Amz-*). *found counts occurrences so duplicates can be refused.
 * false on a malformed escape or a value longer than cap - 1. */
static bool query_param(const char *raw_query, const char *name, char *out, size_t cap, int *found)
{
    size_t nlen = strlen(name);
    bool ok = true;
    buf_t tmp;

    *found = 0;
    out[0] = '\0';
    if (!raw_query)
        return true;
    buf_init(&tmp, cap);
    for (const char *s = raw_query; *s;) {
        const char *amp = strchr(s, '&');
        const char *pe = amp ? amp : s + strlen(s);
        const char *eq = memchr(s, '=', (size_t)(pe - s));
        const char *ne = eq ? eq : pe;
        buf_reset(&tmp);
        /* A name that does not decode cannot be the one we look for. */
        if (uri_decode(&tmp, s, (size_t)(ne - s), false) && tmp.len == nlen &&
            memcmp(tmp.data, name, nlen) == 0) {
            const char *vs = eq ? eq + 1 : pe;
            buf_reset(&tmp);
            if (!uri_decode(&tmp, vs, (size_t)(pe - vs), false) || tmp.len >= cap ||
                memchr(buf_cstr(&tmp), '\0', tmp.len)) {
                ok = false;
                break;
            }
            memcpy(out, buf_cstr(&tmp), tmp.len + 1);
            (*found)++;
        }
        s = amp ? amp + 1 : pe;
    }
    buf_release(&tmp);
    return ok;
}

bool auth_scope_service(const auth_request_t *req, char *service, size_t cap)
{
    cred_t c;
    const char *h = header_get(req, "authorization");

    if (h) {
        if (strncmp(h, AUTH_ALGORITHM " ", sizeof AUTH_ALGORITHM) != 0)
            return false;
        const char *p = strstr(h, "Credential=");
        if (!p)
            return false;
        p += 11;
        size_t n = strcspn(p, ", ");
        if (!parse_credential(p, n, &c))
            return false;
    } else {
        char v[QUERY_VALUE_MAX_BYTES];
        int found = 0;
        if (!query_param(req->raw_query, "X-Amz-Credential", v, sizeof v, &found) || found != 1 ||
            !parse_credential(v, strlen(v), &c))
            return false;
    }
    return copy_bounded(service, cap, c.service, strlen(c.service));
}

/* ---- verification ------------------------------------------------------- */

/* Header form: date from X-Amz-Date, else Date; ±15 min of the server clock. */
static auth_rc_t check_header_date(const auth_request_t *req, auth_result_t *out)
{
    const char *xd = header_get(req, "x-amz-date");
    int64_t t = 0;

    if (xd) {
        if (!timefmt_parse_amz(xd, &t))
            return AUTH_ERR_MISSING_AUTH;
        memcpy(out->amz_date, xd, 17);
    } else {
        const char *d = header_get(req, "date");
        if (!d || !timefmt_parse_http(d, &t))
            return AUTH_ERR_MISSING_AUTH;
        format_amz_date(t, out->amz_date);
        if (!out->amz_date[0])
            return AUTH_ERR_MISSING_AUTH;
    }
    out->request_time_s = t;
    if (t > req->now_s + CLOCK_SKEW_MAX_S || t < req->now_s - CLOCK_SKEW_MAX_S)
        return AUTH_ERR_SKEWED;
    return AUTH_OK;
}

/* x-amz-content-sha256 -> payload mode. Absent: the signature covers the
 * SHA-256 of the body (non-S3 clients never send the header), which the HTTP
 * layer hands us as req->body when it has one. */
static auth_rc_t payload_mode(const auth_request_t *req, auth_result_t *out, char hash[65])
{
    static const struct {
        const char *value;
        auth_payload_t mode;
    } modes[] = {
        {"UNSIGNED-PAYLOAD", AUTH_PAYLOAD_UNSIGNED},
        {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", AUTH_PAYLOAD_STREAMING_SIGNED},
        {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", AUTH_PAYLOAD_STREAMING_SIGNED_TRAILER},
        {"STREAMING-UNSIGNED-PAYLOAD-TRAILER", AUTH_PAYLOAD_STREAMING_UNSIGNED_TRAILER},
    };
    const char *v = header_get(req, "x-amz-content-sha256");

    if (!v) {
        uint8_t h[32];
        codec_sha256(req->body ? req->body : "", req->body ? req->body_len : 0, h);
        codec_hex(h, 32, hash);
        out->payload = AUTH_PAYLOAD_SHA256;
        memcpy(out->payload_sha256, hash, 65);
        return AUTH_OK;
    }
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        if (strcmp(v, modes[i].value) == 0) {
            out->payload = modes[i].mode;
            hash[0] = '\0'; /* the canonical request uses v itself */
            return AUTH_OK;
        }
    }
    if (strncmp(v, "STREAMING-", 10) == 0)
        return AUTH_ERR_UNSUPPORTED; /* SigV4a (ECDSA) streaming */
    if (strlen(v) != 64 || !is_hex_lower(v, 64))
        return AUTH_ERR_CONTENT_SHA256;
    out->payload = AUTH_PAYLOAD_SHA256;
    memcpy(out->payload_sha256, v, 65);
    hash[0] = '\0';
    return AUTH_OK;
}

typedef struct {
    cred_t cred;
    const char *signed_headers;
    const char *signature; /* as received, validated to 64 lowercase hex */
    const char *payload_hash;
} verify_in_t;

/* Steps shared by both forms once everything is parsed and the clock is fine:
 * secret lookup, signing key, canonical request, constant-time compare. */
static auth_rc_t verify_signature(const auth_request_t *req, auth_secret_fn lookup, void *arg,
                                  const verify_in_t *in, auth_result_t *out)
{
    char secret[AUTH_SECRET_MAX_BYTES + 1];
    char scope[AUTH_SCOPE_MAX], sig[AUTH_SIG_HEX_LEN + 1];
    auth_rc_t rc = AUTH_ERR_SIGNATURE;
    buf_t creq;

    buf_init(&creq, CANONICAL_MAX_BYTES);
    memset(secret, 0, sizeof secret);
    if (!lookup || !lookup(arg, in->cred.access_key, secret, sizeof secret)) {
        rc = AUTH_ERR_ACCESS_KEY;
        goto fail;
    }
    if (memchr(secret, '\0', sizeof secret) == NULL) {
        rc = AUTH_ERR_ACCESS_KEY; /* lookup wrote no terminator: treat as unknown */
        goto fail;
    }
    memcpy(out->access_key, in->cred.access_key, sizeof out->access_key);
    memcpy(out->service, in->cred.service, sizeof out->service);
    memcpy(out->region, in->cred.region, sizeof out->region);
    memcpy(out->date, in->cred.date, sizeof out->date);
    if (!auth_scope_format(out, scope, sizeof scope))
        goto fail;
    auth_signing_key(secret, out->date, out->region, out->service, out->signing_key);
    if (!build_canonical(&creq, req, out->service, in->signed_headers, in->payload_hash))
        goto fail;
    sign_canonical(out->signing_key, out->amz_date, scope, &creq, sig);
    if (!codec_ct_equal(sig, in->signature, AUTH_SIG_HEX_LEN))
        goto fail;
    memcpy(out->seed_signature, sig, sizeof sig);
    rc = AUTH_OK;
fail:
    explicit_bzero(secret, sizeof secret);
    if (rc != AUTH_OK)
        explicit_bzero(out->signing_key, sizeof out->signing_key);
    buf_release(&creq);
    return rc;
}

static auth_rc_t verify_header(const auth_request_t *req, const char *authz_value,
                               auth_secret_fn lookup, void *arg, auth_result_t *out)
{
    authz_t a;
    bool has_host;
    char hash[65];
    verify_in_t in;
    auth_rc_t rc;

    memset(&a, 0, sizeof a);
    rc = parse_authorization(authz_value, &a);
    if (rc != AUTH_OK)
        return rc;
    if (!signed_headers_ok(a.signed_headers, &has_host) || !has_host)
        return AUTH_ERR_HEADER_MALFORMED;
    if (strlen(a.signature) != AUTH_SIG_HEX_LEN || !is_hex_lower(a.signature, AUTH_SIG_HEX_LEN))
        return AUTH_ERR_HEADER_MALFORMED;
    rc = check_header_date(req, out);
    if (rc != AUTH_OK)
        return rc;
    if (memcmp(a.cred.date, out->amz_date, 8) != 0)
        return AUTH_ERR_HEADER_MALFORMED; /* scope date is not the request's day */
    rc = payload_mode(req, out, hash);
    if (rc != AUTH_OK)
        return rc;
    in.cred = a.cred;
    in.signed_headers = a.signed_headers;
    in.signature = a.signature;
    in.payload_hash = hash[0] ? hash : header_get(req, "x-amz-content-sha256");
    return verify_signature(req, lookup, arg, &in, out);
}

/* Presigned form: every X-Amz-* parameter once; X-Amz-Expires 1..604800;
 * X-Amz-Date not more than 15 minutes ahead and not past date + expires. */
static auth_rc_t verify_presigned(const auth_request_t *req, auth_secret_fn lookup, void *arg,
                                  auth_result_t *out)
{
    static const char *const names[] = {"X-Amz-Algorithm",     "X-Amz-Credential",
                                        "X-Amz-Date",          "X-Amz-Expires",
                                        "X-Amz-SignedHeaders", "X-Amz-Signature"};
    enum { P_ALGO, P_CRED, P_DATE, P_EXPIRES, P_SH, P_SIG, P__COUNT };
    char v[P__COUNT][QUERY_VALUE_MAX_BYTES];
    char content[QUERY_VALUE_MAX_BYTES];
    const char *payload_hash = "UNSIGNED-PAYLOAD";
    char hash[65];
    int found;
    uint64_t expires;
    bool has_host;
    verify_in_t in;

    for (int i = 0; i < P__COUNT; i++)
        if (!query_param(req->raw_query, names[i], v[i], sizeof v[i], &found) || found != 1)
            return AUTH_ERR_QUERY_PARAMS;
    if (strcmp(v[P_ALGO], AUTH_ALGORITHM) != 0)
        return AUTH_ERR_QUERY_PARAMS;
    if (!parse_credential(v[P_CRED], strlen(v[P_CRED]), &in.cred))
        return AUTH_ERR_QUERY_PARAMS;
    if (!signed_headers_ok(v[P_SH], &has_host) || !has_host)
        return AUTH_ERR_QUERY_PARAMS;
    if (strlen(v[P_SIG]) != AUTH_SIG_HEX_LEN || !is_hex_lower(v[P_SIG], AUTH_SIG_HEX_LEN))
        return AUTH_ERR_QUERY_PARAMS;
    if (parse_u64_str(v[P_EXPIRES], PRESIGN_EXPIRES_MAX_S, &expires) != PARSE_OK || expires == 0)
        return AUTH_ERR_QUERY_PARAMS;
    if (!timefmt_parse_amz(v[P_DATE], &out->request_time_s))
        return AUTH_ERR_QUERY_PARAMS;
    memcpy(out->amz_date, v[P_DATE], 17);
    if (memcmp(in.cred.date, out->amz_date, 8) != 0)
        return AUTH_ERR_QUERY_PARAMS;
    if (out->request_time_s > req->now_s + CLOCK_SKEW_MAX_S)
        return AUTH_ERR_SKEWED;
    if (req->now_s > out->request_time_s + (int64_t)expires)
        return AUTH_ERR_EXPIRED;

    /* S3 presigned URLs sign "UNSIGNED-PAYLOAD" unless the client named a
     * hash: in the URL (the JS SDK hoists X-Amz-Content-Sha256 there) or in
     * an x-amz-content-sha256 header it kept. Other services sign the body's
     * hash (botocore SigV4QueryAuth). */
    if (!query_param(req->raw_query, "X-Amz-Content-Sha256", content, sizeof content, &found) ||
        found > 1)
        return AUTH_ERR_QUERY_PARAMS;
    const char *named = found == 1 ? content : header_get(req, "x-amz-content-sha256");
    out->payload = AUTH_PAYLOAD_UNSIGNED;
    if (named) {
        payload_hash = named;
        if (strlen(named) == 64 && is_hex_lower(named, 64)) {
            out->payload = AUTH_PAYLOAD_SHA256;
            memcpy(out->payload_sha256, named, 65);
        } else if (strcmp(named, "UNSIGNED-PAYLOAD") != 0) {
            return AUTH_ERR_CONTENT_SHA256;
        }
    } else if (strcmp(in.cred.service, "s3") != 0) {
        uint8_t h[32];
        codec_sha256(req->body ? req->body : "", req->body ? req->body_len : 0, h);
        codec_hex(h, 32, hash);
        payload_hash = hash;
        out->payload = AUTH_PAYLOAD_SHA256;
        memcpy(out->payload_sha256, hash, 65);
    }
    out->presigned = true;
    in.signed_headers = v[P_SH];
    in.signature = v[P_SIG];
    in.payload_hash = payload_hash;
    return verify_signature(req, lookup, arg, &in, out);
}

auth_rc_t auth_sigv4_verify(const auth_request_t *req, auth_secret_fn lookup, void *arg,
                            auth_result_t *out)
{
    char tmp[QUERY_VALUE_MAX_BYTES];
    int has_sig = 0, has_algo = 0, has_v2 = 0;

    memset(out, 0, sizeof *out);
    if (!query_param(req->raw_query, "X-Amz-Signature", tmp, sizeof tmp, &has_sig) ||
        !query_param(req->raw_query, "X-Amz-Algorithm", tmp, sizeof tmp, &has_algo))
        return AUTH_ERR_QUERY_PARAMS;

    const char *h = header_get(req, "authorization");
    if (h) {
        if (has_sig || has_algo)
            return AUTH_ERR_UNSUPPORTED; /* two mechanisms at once */
        if (strncmp(h, AUTH_ALGORITHM " ", sizeof AUTH_ALGORITHM) != 0)
            return AUTH_ERR_UNSUPPORTED; /* "AWS AKID:sig" (SigV2), SigV4a, Bearer... */
        return verify_header(req, h + sizeof AUTH_ALGORITHM, lookup, arg, out);
    }
    if (has_sig || has_algo)
        return verify_presigned(req, lookup, arg, out);
    /* SigV2 query form: ?AWSAccessKeyId=...&Signature=...&Expires=... */
    if (!query_param(req->raw_query, "Signature", tmp, sizeof tmp, &has_v2))
        return AUTH_ERR_QUERY_PARAMS;
    if (has_v2) {
        int has_akid = 0;
        if (query_param(req->raw_query, "AWSAccessKeyId", tmp, sizeof tmp, &has_akid) && has_akid)
            return AUTH_ERR_UNSUPPORTED;
    }
    return AUTH_ANONYMOUS;
}
