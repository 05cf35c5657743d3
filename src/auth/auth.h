/* auth/auth.h: AWS Signature Version 4 (header and presigned query forms) and
 * the aws-chunked streaming payload decoder with per-chunk signatures and
 * trailing checksums.
 *
 * Canonical URI: for service "s3" the path is signed as sent (no
 * normalisation, no second encoding); for every other service it is
 * normalised (dot segments, duplicate slashes) and each segment encoded
 * again (%3A -> %253A), as AWS's SigV4 test suite expects.
 *
 * Threads: every call is reentrant. Nothing here logs secrets. */
#ifndef KURA_AUTH_AUTH_H
#define KURA_AUTH_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name; /* lowercase */
    const char *value;
} auth_header_t;

typedef struct {
    const char *method;
    const char *raw_path;  /* as sent on the request line, percent-encoded, no query */
    const char *raw_query; /* as sent, without '?', or NULL */
    const auth_header_t *headers;
    size_t nheaders;
    int64_t now_s; /* server clock */
    /* The whole body, when the HTTP layer buffered it before verification, or
     * NULL. Needed only when the request has no x-amz-content-sha256 (non-S3
     * clients never send it: their signature covers SHA-256 of the body). With
     * neither, the signature is checked against the empty body's hash and
     * auth_result_t says AUTH_PAYLOAD_SHA256 of "" for the body to match. */
    const void *body;
    size_t body_len;
} auth_request_t;

/* Longest secret access key accepted (AWS's are 40 characters). The secret
 * lookup gets a buffer of AUTH_SECRET_MAX_BYTES + 1. */
#define AUTH_SECRET_MAX_BYTES 256
/* The longest access key id kura reads. */
#define AUTH_ACCESS_KEY_MAX_BYTES 128

typedef enum {
    AUTH_OK = 0,
    AUTH_ANONYMOUS,              /* no signature at all */
    AUTH_ERR_SIGNATURE,          /* SignatureDoesNotMatch 403 */
    AUTH_ERR_ACCESS_KEY,         /* InvalidAccessKeyId 403 */
    AUTH_ERR_SKEWED,             /* RequestTimeTooSkewed 403 (±15 min) */
    AUTH_ERR_HEADER_MALFORMED,   /* AuthorizationHeaderMalformed 400 */
    AUTH_ERR_QUERY_PARAMS,       /* AuthorizationQueryParametersError 400 */
    AUTH_ERR_EXPIRED,            /* AccessDenied 403 "Request has expired" */
    AUTH_ERR_MISSING_AUTH,       /* AccessDenied 403: malformed/missing date etc. */
    AUTH_ERR_CONTENT_SHA256,     /* InvalidArgument 400: bad x-amz-content-sha256 */
    AUTH_ERR_SHA256_MISMATCH,    /* XAmzContentSHA256Mismatch 400 */
    AUTH_ERR_UNSUPPORTED,        /* InvalidRequest 400: SigV2, other algorithms */
    AUTH_ERR_INCOMPLETE_BODY,    /* IncompleteBody 400 */
    AUTH_ERR_CHUNK_MALFORMED,    /* InvalidChunkSizeError / malformed framing 400 */
    AUTH_ERR_BAD_DIGEST,         /* trailing checksum mismatch: BadDigest 400 */
    AUTH_RC__COUNT
} auth_rc_t;

const char *auth_rc_name(auth_rc_t rc);

typedef enum {
    AUTH_PAYLOAD_UNSIGNED = 0,          /* UNSIGNED-PAYLOAD (or presigned) */
    AUTH_PAYLOAD_SHA256,                /* hex digest to verify over the body */
    AUTH_PAYLOAD_STREAMING_SIGNED,      /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD */
    AUTH_PAYLOAD_STREAMING_SIGNED_TRAILER,   /* ...-PAYLOAD-TRAILER */
    AUTH_PAYLOAD_STREAMING_UNSIGNED_TRAILER, /* STREAMING-UNSIGNED-PAYLOAD-TRAILER */
} auth_payload_t;

typedef struct {
    char access_key[AUTH_ACCESS_KEY_MAX_BYTES + 1];
    char service[33]; /* from the credential scope */
    char region[33];
    char date[9];            /* scope date YYYYMMDD */
    char amz_date[17];       /* YYYYMMDDTHHMMSSZ */
    int64_t request_time_s;
    bool presigned;
    auth_payload_t payload;
    char payload_sha256[65]; /* AUTH_PAYLOAD_SHA256: expected lowercase hex */
    uint8_t signing_key[32]; /* for chunk signatures; never log */
    char seed_signature[65]; /* the request signature, first "previous signature" */
} auth_result_t;

/* Looks up the secret for an access key; false if unknown. */
typedef bool (*auth_secret_fn)(void *arg, const char *access_key, char *secret, size_t cap);

/* Reads only the credential scope's service ("s3", "s3tables", ...) from the
 * Authorization header or X-Amz-Credential query parameter, for routing.
 * Returns false if the request carries no SigV4 credential. */
bool auth_scope_service(const auth_request_t *req, char *service, size_t cap);

/* Verifies the request's signature. AUTH_ANONYMOUS if unsigned. Presigned
 * URLs may live at most 7 days (X-Amz-Expires <= 604800).
 * Header form: X-Amz-Date (else Date) within 15 min of now_s; the scope date
 * must be that day; SignedHeaders must name host. Presigned form: each of
 * X-Amz-Algorithm/Credential/Date/Expires/SignedHeaders/Signature exactly
 * once, X-Amz-Date at most 15 min ahead, now_s <= date + expires.
 * The region is reported in out->region, never checked here.
 * Ownership: req and the strings it points to are borrowed; out is filled
 *            (zeroed first; signing_key is wiped unless AUTH_OK).
 * Returns:   AUTH_OK, AUTH_ANONYMOUS, AUTH_ERR_UNSUPPORTED (SigV2 "AWS
 *            AKID:sig" or its query form, SigV4a, Bearer, header and query
 *            signature together), AUTH_ERR_HEADER_MALFORMED,
 *            AUTH_ERR_QUERY_PARAMS, AUTH_ERR_MISSING_AUTH (no usable date),
 *            AUTH_ERR_SKEWED, AUTH_ERR_EXPIRED, AUTH_ERR_CONTENT_SHA256,
 *            AUTH_ERR_ACCESS_KEY, AUTH_ERR_SIGNATURE.
 * Payload:   with AUTH_PAYLOAD_SHA256 the caller must hash the body as it
 *            streams and answer AUTH_ERR_SHA256_MISMATCH if it differs from
 *            out->payload_sha256; the STREAMING modes go through
 *            auth_chunked_*. */
auth_rc_t auth_sigv4_verify(const auth_request_t *req, auth_secret_fn lookup, void *arg,
                            auth_result_t *out);

/* Building blocks, exposed for tests and for signing (the CLI and the test
 * signer use them). canonical/string-to-sign are written NUL-terminated into
 * malloc'd strings the caller frees.
 * auth_canonical_request: the path mode follows `service` (see the top of
 * this file); X-Amz-Signature is never part of the canonical query. NULL on
 * a malformed %-escape in the query, more than 1024 query parameters, or a
 * result above 1 MiB.
 * auth_signing_key: secret at most AUTH_SECRET_MAX_BYTES (asserted). */
char *auth_canonical_request(const auth_request_t *req, const char *service,
                             const char *signed_headers, const char *payload_hash);
void auth_signing_key(const char *secret, const char *date, const char *region,
                      const char *service, uint8_t out[32]);
/* Signs a request in place of a client: returns the Authorization header
 * value (malloc'd), "AWS4-HMAC-SHA256 Credential=AK/scope, SignedHeaders=...,
 * Signature=...". NULL if amz_date is not 16 characters, the secret is too
 * long or the canonical request cannot be built. */
char *auth_sign_header(const auth_request_t *req, const char *access_key, const char *secret,
                       const char *region, const char *service, const char *amz_date,
                       const char *signed_headers, const char *payload_hash);

/* ---- callers ----------------------------------------------------------- */

struct auth_policy; /* auth/policy.h */

/* Who a request acts as, once its signature is verified. The root
 * credentials act as the account ("arn:aws:iam::ACCOUNT:root") and need no
 * identity policy; a user acts as "arn:aws:iam::ACCOUNT:user/NAME" and may
 * do only what its identity policy (or a resource policy) allows; an
 * anonymous caller only what a resource policy allows.
 * Ownership: the strings and the policy live as long as the request. */
typedef struct {
    bool anonymous;
    bool root;
    const char *account_id;
    const char *user;          /* NULL unless a user */
    const char *principal_arn; /* NULL when anonymous */
    const struct auth_policy *identity_policy; /* a user's policy, or NULL */
} auth_caller_t;

/* Who an access key names, for requests whose proof is not a SigV4
 * header -- POST uploads sign in the body, Iceberg REST clients present a
 * bearer token issued for a key pair: the key's secret, and the caller it
 * acts as (strings and policy live as long as request r). The router
 * provides both (router/iam.c). */
struct http_req;
typedef struct {
    auth_secret_fn secret;
    bool (*caller)(void *arg, struct http_req *r, const char *access_key, auth_caller_t *out);
    void *arg;
} auth_identity_t;

/* ---- aws-chunked streaming decoder ------------------------------------ */

typedef struct auth_chunked auth_chunked_t;

/* Payload bytes decoded from the chunk stream. Return false to abort. */
typedef bool (*auth_emit_fn)(void *arg, const void *p, size_t n);

/* auth: the verified request (its payload mode says whether chunk
 * signatures and a trailer are expected). decoded_length: the value of
 * x-amz-decoded-content-length, or UINT64_MAX if absent. trailer_names: the
 * x-amz-trailer header value (comma separated) or NULL. When it names an
 * x-amz-checksum-<algo> the decoder computes that checksum over the decoded
 * payload and compares it with the trailer (AUTH_ERR_BAD_DIGEST); trailers
 * it does not name are refused (AUTH_ERR_CHUNK_MALFORMED).
 * Returns NULL when out of memory, when auth->payload is not one of the
 * three STREAMING modes, or trailer_names lists more than 8 names or a name
 * longer than 64 bytes (answer InvalidRequest).
 * Limits: chunk header and trailer lines 512 bytes, a chunk 5 GiB, trailer
 * values 256 bytes; past them, AUTH_ERR_CHUNK_MALFORMED. */
auth_chunked_t *auth_chunked_new(const auth_result_t *auth, uint64_t decoded_length,
                                 const char *trailer_names);
void auth_chunked_free(auth_chunked_t *c);
/* Feeds wire bytes (any split). Emits decoded payload through emit. Stops at
 * the first error and keeps returning it.
 * Emitted bytes are provisional: a chunk's signature follows its data, so
 * nothing may be made visible until auth_chunked_finish() returns AUTH_OK.
 * Returns: AUTH_OK, AUTH_ERR_CHUNK_MALFORMED (framing, bytes after the end),
 *          AUTH_ERR_SIGNATURE (chunk or trailer signature),
 *          AUTH_ERR_INCOMPLETE_BODY (more payload than decoded_length, a
 *          declared trailer missing, or emit returned false),
 *          AUTH_ERR_BAD_DIGEST (trailing checksum, checked when the trailer
 *          section ends). */
auth_rc_t auth_chunked_feed(auth_chunked_t *c, const void *p, size_t n, auth_emit_fn emit,
                            void *arg);
/* At end of body: AUTH_ERR_INCOMPLETE_BODY unless the final chunk (and trailer,
 * with its signature when signed) arrived and the decoded length matched. */
auth_rc_t auth_chunked_finish(auth_chunked_t *c);
/* A trailing header's value ("x-amz-checksum-crc32"), or NULL. Valid until free. */
const char *auth_chunked_trailer(const auth_chunked_t *c, const char *name);

#endif
