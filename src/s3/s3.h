/* s3/s3.h: the S3 REST API (XML), on top of store/.
 *
 * The router hands a request here after authenticating it. An operation runs
 * in the http phases (http/http.h): s3_begin picks the operation and checks
 * what can be checked from the head; s3_body receives the decoded payload;
 * s3_end runs the operation. Errors are written in S3's XML shape by
 * s3_error() (errors.c is the only place an S3 <Code> is spelled). */
#ifndef KURA_S3_S3_H
#define KURA_S3_S3_H

#include "auth/auth.h"
#include "http/http.h"
#include "store/store.h"
#include "util/config.h"

#include <stdbool.h>

/* append only; never renumber or reuse a code. */
typedef enum {
    S3_OK = 0,
    S3_ERR_ACCESS_DENIED,
    S3_ERR_AUTH_HEADER_MALFORMED,
    S3_ERR_AUTH_QUERY_PARAMS,
    S3_ERR_BAD_DIGEST,
    S3_ERR_BUCKET_ALREADY_OWNED_BY_YOU,
    S3_ERR_BUCKET_NOT_EMPTY,
    S3_ERR_ENTITY_TOO_LARGE,
    S3_ERR_ENTITY_TOO_SMALL,
    S3_ERR_EXPIRED_PRESIGN,
    S3_ERR_INCOMPLETE_BODY,
    S3_ERR_INTERNAL,
    S3_ERR_INVALID_ACCESS_KEY_ID,
    S3_ERR_INVALID_ARGUMENT,
    S3_ERR_INVALID_BUCKET_NAME,
    S3_ERR_INVALID_CHUNK_SIZE,
    S3_ERR_INVALID_DIGEST,
    S3_ERR_INVALID_LOCATION_CONSTRAINT,
    S3_ERR_INVALID_RANGE,
    S3_ERR_INVALID_REQUEST,
    S3_ERR_INVALID_STORAGE_CLASS,
    S3_ERR_KEY_TOO_LONG,
    S3_ERR_MALFORMED_XML,
    S3_ERR_METADATA_TOO_LARGE,
    S3_ERR_METHOD_NOT_ALLOWED,
    S3_ERR_MISSING_CONTENT_LENGTH,
    S3_ERR_NO_SUCH_BUCKET,
    S3_ERR_NO_SUCH_KEY,
    S3_ERR_NO_SUCH_VERSION,
    S3_ERR_NOT_IMPLEMENTED,
    S3_ERR_PRECONDITION_FAILED,
    S3_ERR_REQUEST_TIME_TOO_SKEWED,
    S3_ERR_SIGNATURE_DOES_NOT_MATCH,
    S3_ERR_SLOW_DOWN,
    S3_ERR_CONTENT_SHA256_MISMATCH,
    S3_ERR_CONDITIONAL_REQUEST_CONFLICT,
    S3_ERR_NOT_MODIFIED, /* 304: no body */
    S3_ERR_INVALID_OBJECT_STATE,
    S3_ERR_SERVICE_UNAVAILABLE,
    S3_ERR_UNEXPECTED_CONTENT,
    S3_ERR_INVALID_URI,
    S3_ERR_ILLEGAL_LOCATION_CONSTRAINT,
    S3_ERR_INVALID_VERSION_ID,
    S3_ERR_NO_SUCH_UPLOAD,
    S3_ERR_INVALID_PART,
    S3_ERR_INVALID_PART_ORDER,
    S3_ERR_INVALID_TAG,
    S3_ERR_NO_SUCH_TAG_SET,
    S3_ERR_INVALID_BUCKET_STATE,
    S3_ERR_NO_LOCK_CONFIGURATION,
    S3_ERR_NO_SUCH_CORS,
    S3_ERR_CORS_FORBIDDEN,
    S3_ERR_BAD_REQUEST,
    S3_ERR_INVALID_POLICY_DOCUMENT,
    S3_ERR_MALFORMED_POST,
    S3_ERR_ACL_NOT_SUPPORTED,
    S3_ERR_NO_SUCH_LIFECYCLE,
    S3_ERR_MALFORMED_POLICY,
    S3_ERR_NO_SUCH_BUCKET_POLICY,
    S3_ERR_NO_SUCH_PAB,
    S3_ERR_INVALID_PART_NUMBER,
    S3_ERR_NO_METADATA_CONFIGURATION,
    S3_ERR_BUCKET_ACL_WITH_OWNERSHIP,
    S3_ERR_NO_METADATA_TABLE_CONFIGURATION,
    S3_ERR_METADATA_CONFIGURATION_EXISTS,
    S3_ERR_NO_LOCK_CONFIGURATION_OBJECT,
    S3_ERR__COUNT /* keep last */
} s3_err_t;

typedef struct s3 s3_t;
typedef struct s3_req s3_req_t;

/* id: who signed a POST upload (its signature is in the body). */
s3_t *s3_new(const kura_config_t *cfg, store_t *st, const auth_identity_t *id);
void s3_free(s3_t *s);

/* Headers are in and the request is authenticated (auth NULL: anonymous);
 * caller says who it acts as (router/iam.c). Returns true if the response is
 * ready. *out is the request's state (freed by s3_done). */
bool s3_begin(s3_t *s, http_req_t *r, const auth_result_t *auth, const auth_caller_t *caller,
              s3_req_t **out);
/* Decoded payload bytes. false: the response is ready. */
bool s3_body(s3_req_t *q, const void *p, size_t n);
/* The payload is complete. pre_err: an error the payload pipeline found
 * (signature, payload hash, chunk framing): the operation then fails with it
 * and stores nothing. trailers: the aws-chunked decoder, for trailing
 * checksums (NULL if none). */
void s3_end(s3_req_t *q, s3_err_t pre_err, const auth_chunked_t *trailers);
void s3_done(s3_req_t *q); /* NULL is a no-op */

/* Writes an S3 error response. message NULL: the code's standard message. */
void s3_error(http_req_t *r, s3_err_t e, const char *message);
s3_err_t s3_err_from_auth(auth_rc_t rc);
s3_err_t s3_err_from_store(store_rc_t rc);

/* Lifecycle (s3/lifecycle.c): one pass over every bucket's rules now;
 * returns the number of actions taken. The worker runs a pass every
 * interval_ms on its own thread until stopped. */
size_t s3_lifecycle_run(s3_t *s);
typedef struct s3_lifecycle_worker s3_lifecycle_worker_t;
s3_lifecycle_worker_t *s3_lifecycle_start(s3_t *s, int64_t interval_ms);
void s3_lifecycle_stop(s3_lifecycle_worker_t *w); /* NULL is a no-op; waits for a running pass */

/* Bucket names kura reserves for its own paths (/kura/, /console, /iceberg/). */
bool s3_bucket_name_reserved(const char *name);

#endif
