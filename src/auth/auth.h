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
} auth_request_t;

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
    char access_key[129];
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
 * URLs may live at most 7 days (X-Amz-Expires <= 604800). */
auth_rc_t auth_sigv4_verify(const auth_request_t *req, auth_secret_fn lookup, void *arg,
                            auth_result_t *out);

/* Building blocks, exposed for tests and for signing (the CLI and the test
 * signer use them). canonical/string-to-sign are written NUL-terminated into
 * malloc'd strings the caller frees. */
char *auth_canonical_request(const auth_request_t *req, const char *service,
                             const char *signed_headers, const char *payload_hash);
void auth_signing_key(const char *secret, const char *date, const char *region,
                      const char *service, uint8_t out[32]);
/* Signs a request in place of a client: returns the Authorization header value (malloc'd). */
char *auth_sign_header(const auth_request_t *req, const char *access_key, const char *secret,
                       const char *region, const char *service, const char *amz_date,
                       const char *signed_headers, const char *payload_hash);

/* ---- aws-chunked streaming decoder ------------------------------------ */

typedef struct auth_chunked auth_chunked_t;

/* Payload bytes decoded from the chunk stream. Return false to abort. */
typedef bool (*auth_emit_fn)(void *arg, const void *p, size_t n);

/* auth: the verified request (its payload mode says whether chunk
 * signatures and a trailer are expected). decoded_length: the value of
 * x-amz-decoded-content-length, or UINT64_MAX if absent. trailer_names: the
 * x-amz-trailer header value (comma separated) or NULL. */
auth_chunked_t *auth_chunked_new(const auth_result_t *auth, uint64_t decoded_length,
                                 const char *trailer_names);
void auth_chunked_free(auth_chunked_t *c);
/* Feeds wire bytes (any split). Emits decoded payload through emit. Stops at
 * the first error and keeps returning it. */
auth_rc_t auth_chunked_feed(auth_chunked_t *c, const void *p, size_t n, auth_emit_fn emit,
                            void *arg);
/* At end of body: AUTH_INCOMPLETE_BODY unless the final chunk (and trailer,
 * with its signature when signed) arrived and the decoded length matched. */
auth_rc_t auth_chunked_finish(auth_chunked_t *c);
/* A trailing header's value ("x-amz-checksum-crc32"), or NULL. Valid until free. */
const char *auth_chunked_trailer(const auth_chunked_t *c, const char *name);

#endif
