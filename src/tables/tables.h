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
#include "iceberg/iceberg.h"
#include "store/store.h"
#include "util/config.h"

#define TABLES_MAX_BODY_BYTES ((size_t)16 << 20)

typedef struct tables tables_t;

/* id resolves the access key a bearer token was issued for (and checks the
 * key pair the token endpoint is given) to the caller it acts as. */
tables_t *tables_new(const kura_config_t *cfg, store_t *st, const auth_identity_t *id);
void tables_free(tables_t *t); /* NULL is a no-op */

/* iceberg: the path is under /iceberg/ (the REST catalog), else the S3
 * Tables API. auth: the verified signature, or NULL (unsigned: a bearer
 * token, the token endpoint, or nothing at all). */
/* caller: who a signed request acts as (router/iam.c); NULL for bearer-token
 * requests (tokens are issued for the root credentials only). */
void tables_handle(tables_t *t, http_req_t *r, bool iceberg, const auth_result_t *auth,
                   const auth_caller_t *caller, const char *body, size_t len);

/* ---- errors ------------------------------------------------------------
 * One enum for both wire shapes; tables/errors.c maps each code to the S3
 * Tables error (__type + status) and to the Iceberg REST ErrorModel (type +
 * status). Append only; never renumber. */
typedef enum {
    TABLES_OK = 0,
    TABLES_ERR_BAD_REQUEST,      /* malformed input, bad name, bad ARN */
    TABLES_ERR_NO_BUCKET,        /* table bucket absent */
    TABLES_ERR_NO_NAMESPACE,
    TABLES_ERR_NO_TABLE,
    TABLES_ERR_NO_CONFIG,        /* policy/encryption/replication/... never set */
    TABLES_ERR_BUCKET_EXISTS,
    TABLES_ERR_NAMESPACE_EXISTS,
    TABLES_ERR_TABLE_EXISTS,
    TABLES_ERR_BUCKET_NOT_EMPTY, /* 400 on the live service (NOTES 24) */
    TABLES_ERR_NAMESPACE_NOT_EMPTY,
    TABLES_ERR_STALE_TOKEN,      /* versionToken differs from the current one */
    TABLES_ERR_COMMIT_FAILED,    /* Iceberg requirement failed / lost the CAS race */
    TABLES_ERR_MANAGED,          /* kura-managed resource: read-only for users */
    TABLES_ERR_METHOD_NOT_ALLOWED, /* record expiration on a customer table */
    TABLES_ERR_NOT_AUTHORIZED,   /* no or bad credentials (Iceberg bearer) */
    TABLES_ERR_FORBIDDEN,
    TABLES_ERR_UNKNOWN_OP,       /* no such route */
    TABLES_ERR_UNSUPPORTED,      /* a route S3 Tables does not serve */
    TABLES_ERR_UNPROCESSABLE,    /* Iceberg: property key both set and removed */
    TABLES_ERR_INTERNAL,
    TABLES_ERR__COUNT            /* keep last */
} tables_err_t;

const char *tables_err_name(tables_err_t e); /* the S3 Tables __type */

/* ---- kura-managed tables (NOTES-ON-ISSUES 12, 13) ----------------------
 * The metadata room keeps its journal and inventory tables in a managed
 * table bucket ("aws-s3", namespace "b_<bucket>", ...). Those names break
 * the user naming rules, so only these calls create them; users may read
 * and delete managed tables but not commit to, rename or configure them. */
typedef struct {
    const char *table_bucket_arn, *table_arn, *table_id;
    const char *namespace_name, *name;
    const char *version_token;
    const char *metadata_location; /* NULL until the first metadata file */
    const char *warehouse_location; /* s3://<bucket id>--table-s3/<table id> */
} tables_table_info_t;

/* Creates (if absent) the managed table bucket, namespace and table, with
 * type "aws"; no metadata location yet. Names are only length-checked.
 * Results in `a`. Returns TABLES_OK, TABLES_ERR_BAD_REQUEST (length),
 * TABLES_ERR_INTERNAL (store failure). Threads: any. */
tables_err_t tables_managed_table_ensure(tables_t *t, arena_t *a, const char *bucket,
                                         const char *ns, const char *table,
                                         tables_table_info_t *out);
/* Reads a table by bucket name, namespace and name. TABLES_ERR_NO_BUCKET,
 * TABLES_ERR_NO_NAMESPACE, TABLES_ERR_NO_TABLE. */
tables_err_t tables_table_info(tables_t *t, arena_t *a, const char *bucket, const char *ns,
                               const char *table, tables_table_info_t *out);
/* The commit primitive (DESIGN invariant 4): makes metadata_location the
 * table's current metadata if its version token is still `version_token`,
 * in one store transaction, and returns the new token in out. Bypasses the
 * managed read-only rule (kura's own writers use it). metadata_location must
 * lie under the warehouse location and end in .metadata.json[.gz].
 * Returns TABLES_OK, TABLES_ERR_STALE_TOKEN (nothing changed),
 * TABLES_ERR_BAD_REQUEST, TABLES_ERR_NO_*. */
/* The Iceberg file-I/O seam over the object store: reads and writes
 * "s3://<bucket id>--table-s3/<key>" locations (the warehouse of every
 * table bucket; other buckets are refused with ICE_ERR_INVALID). Writes are
 * durable object PUTs. Valid while `a` lives; one thread at a time. */
ice_io_t *tables_io(tables_t *t, arena_t *a);

/* Creates a customer table (format ICEBERG, no metadata location yet) in an
 * existing table bucket and namespace, as CreateTable without `metadata`
 * does, recording `caller_account` as its creator: SQL's CREATE TABLE AS.
 * The name follows the user naming rules; the managed bucket is refused.
 * Results in `a`. Returns TABLES_OK, TABLES_ERR_BAD_REQUEST (name),
 * TABLES_ERR_NO_BUCKET, TABLES_ERR_NO_NAMESPACE, TABLES_ERR_TABLE_EXISTS,
 * TABLES_ERR_MANAGED, TABLES_ERR_INTERNAL. Threads: any. */
tables_err_t tables_table_create_empty(tables_t *t, arena_t *a, const char *bucket,
                                       const char *ns, const char *table,
                                       const char *caller_account, tables_table_info_t *out);

/* Names for SQL discovery: kind 0 table buckets, 1 namespaces of `bucket`,
 * 2 tables of bucket/ns; in name order, in `a`. */
tables_err_t tables_names(tables_t *t, arena_t *a, int kind, const char *bucket, const char *ns,
                          const char ***names, size_t *n);

tables_err_t tables_table_swap(tables_t *t, arena_t *a, const char *bucket, const char *ns,
                               const char *table, const char *version_token,
                               const char *metadata_location, tables_table_info_t *out);

#endif
