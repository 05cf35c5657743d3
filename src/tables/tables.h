/* tables/tables.h: the S3 Tables service (REST + JSON, signing name
 * "s3tables") and the Iceberg REST catalog under /iceberg/v1/ (specs:
 * ../shared/specs/s3tables-api.md, iceberg.md §8).
 *
 * The router buffers each request body (at most TABLES_MAX_BODY_BYTES),
 * verifies SigV4 over it when the request is signed, and calls
 * tables_handle once with the whole body. Iceberg REST requests may carry a
 * bearer token instead of a signature: then auth is NULL and tables_handle
 * validates the token itself (tokens come from /iceberg/v1/oauth/tokens).
 * tables_handle always fills the response (JSON; S3 Tables errors as
 * {"__type","message"} + x-amzn-ErrorType, Iceberg errors as ErrorModel).
 * Threads: any pool thread; state lives in store/ (system records). */
#ifndef KURA_TABLES_TABLES_H
#define KURA_TABLES_TABLES_H

#include "auth/auth.h"
#include "http/http.h"
#include "store/store.h"
#include "util/config.h"

#define TABLES_MAX_BODY_BYTES ((size_t)16 << 20)

typedef struct tables tables_t;

tables_t *tables_new(const kura_config_t *cfg, store_t *st);
void tables_free(tables_t *t); /* NULL is a no-op */

/* iceberg: the path is under /iceberg/ (the REST catalog), else the S3
 * Tables API. auth: the verified signature, or NULL (unsigned: a bearer
 * token, the token endpoint, or nothing at all). */
void tables_handle(tables_t *t, http_req_t *r, bool iceberg, const auth_result_t *auth,
                   const char *body, size_t len);

#endif
