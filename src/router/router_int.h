/* router/router_int.h: shared inside router/, included by nobody else. */
#ifndef KURA_ROUTER_ROUTER_INT_H
#define KURA_ROUTER_ROUTER_INT_H

#include "router/router.h"

#include "auth/auth.h"
#include "auth/policy.h"
#include "s3/s3.h"
#include "journal/journal.h"
#include "query/query.h"
#include "tables/tables.h"

struct router {
    const kura_config_t *cfg;
    store_t *st;
    s3_t *s3;
    tables_t *tables;
    journal_t *journal; /* S3 Metadata publisher; NULL if it could not start */
    query_t *query;     /* SQL (kura sql, /kura/sql, Athena); NULL if DuckDB failed */
};

/* sqlcat.c: the catalog seam the SQL room resolves tables through. */
void router_sql_catalog(router_t *rt, query_catalog_t *cat);

/* iam.c: the secret of an access key (root or a user's), auth_secret_fn-shaped. */
bool iam_secret_lookup(void *arg, const char *access_key, char *secret, size_t cap);
/* Who a verified request (auth NULL: anonymous) acts as. A user's parsed
 * identity policy is handed to *owned, freed by the caller after the request.
 * false: the key's user is gone or its policy unreadable (deny). */
bool iam_caller(router_t *rt, http_req_t *r, const auth_result_t *auth, auth_caller_t *out,
                auth_policy_t **owned);
/* The caller an access key acts as (POST uploads sign in the form); the
 * user's identity policy lives until the request completes. */
bool iam_caller_of_key(void *arg, http_req_t *r, const char *access_key, auth_caller_t *out);
/* /kura/admin/users...; false if the path is not one of these. */
bool iam_admin(router_t *rt, http_req_t *r, const char *body, size_t len);

#endif
