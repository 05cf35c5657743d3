/* router/sqlcat.c: the SQL room's view of the catalog (query_catalog_t),
 * glued from the S3 Tables room, the store and IAM.
 *
 * Who may read or write a table: the root credentials always; a user when
 * its identity policy allows s3tables:GetTableData (read) or
 * s3tables:PutTableData (write) on the table's ARN; anonymous callers
 * never. Managed tables (the metadata journal and inventory in "aws-s3")
 * are read-only for users (NOTES-ON-ISSUES 13).
 *
 * Athena result files (put_object) are written as the caller's PutObject
 * would be: s3:PutObject on arn:aws:s3:::<bucket>/<key>, decided over the
 * caller's identity policy and the bucket policy as s3/policy.c decides
 * (root: allowed unless the bucket policy explicitly denies; a user: an
 * Allow from either and no explicit Deny; anonymous: the bucket policy
 * alone), then one store_object_put, journaled like any other put.
 *
 * create (CTAS of a new table) makes an empty customer table through the
 * S3 Tables room, as CreateTable without metadata would: the caller needs
 * s3tables:CreateTable on the table bucket and s3tables:PutTableData on
 * the new table; the managed bucket is refused. */
#include "router/router_int.h"

#include "auth/policy.h"
#include "util/checksum.h"
#include "util/clock.h"
#include "util/codec.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define MANAGED_BUCKET "aws-s3"

static int table_err(tables_err_t e)
{
    switch (e) {
    case TABLES_OK: return QUERY_OK;
    case TABLES_ERR_NO_BUCKET:
    case TABLES_ERR_NO_NAMESPACE:
    case TABLES_ERR_NO_TABLE: return QUERY_ERR_NO_TABLE;
    case TABLES_ERR_STALE_TOKEN:
    case TABLES_ERR_TABLE_EXISTS: return QUERY_ERR_CONFLICT;
    default: return QUERY_ERR_INTERNAL;
    }
}

/* A user's identity policy as stored now (users/<name>, router/iam.c's
 * record). Athena executions outlive their request, so they carry the user
 * but not its parsed policy; this reads it again when the query runs.
 * *owned is the caller's to free. false: the user is gone or its policy
 * no longer parses (deny). */
static bool user_policy(router_t *rt, arena_t *a, const char *user, auth_policy_t **owned)
{
    char *doc = NULL;
    size_t len = 0;
    *owned = NULL;
    if (store_sys_get(rt->st, a, "users", user, &doc, &len) != STORE_OK)
        return false;
    json_t *u = json_loadb(doc, len, 0, NULL);
    const char *pol = json_string_value(json_object_get(u, "policy"));
    bool ok = json_is_object(u);
    if (ok && pol)
        ok = auth_policy_parse(pol, strlen(pol), AUTH_POLICY_IDENTITY, owned, NULL, 0) ==
             AUTH_POLICY_OK;
    json_decref(u);
    return ok;
}

/* The caller's identity policy: the request's, or (a user with none
 * attached, i.e. an Athena execution) the stored one. */
static bool identity_of(router_t *rt, arena_t *a, const auth_caller_t *who,
                        const auth_policy_t **pol, auth_policy_t **owned)
{
    *owned = NULL;
    *pol = who->identity_policy;
    if (*pol || !who->user)
        return true;
    if (!user_policy(rt, a, who->user, owned))
        return false;
    *pol = *owned;
    return true;
}

static bool allowed(router_t *rt, arena_t *a, const auth_caller_t *who, const char *action,
                    const char *arn)
{
    if (!who || who->root)
        return true; /* NULL: kura itself */
    if (who->anonymous)
        return false;
    const auth_policy_t *pol;
    auth_policy_t *owned;
    if (!identity_of(rt, a, who, &pol, &owned) || !pol)
        return false;
    auth_policy_request_t req = {
        .action = action,
        .resource = arn,
        .principal_arn = who->principal_arn,
        .principal_account = who->account_id,
    };
    const auth_policy_t *p[1] = {pol};
    bool ok = auth_policy_decide(p, 1, &req) == AUTH_POLICY_ALLOW;
    auth_policy_free(owned);
    return ok;
}

static int cat_resolve(void *ctx, arena_t *a, const auth_caller_t *caller, const char *bucket,
                       const char *ns, const char *table, bool write, query_table_t *out)
{
    router_t *rt = ctx;
    tables_table_info_t info;
    tables_err_t e = tables_table_info(rt->tables, a, bucket, ns, table, &info);
    if (e != TABLES_OK)
        return table_err(e);
    if (!allowed(rt, a, caller, write ? "s3tables:PutTableData" : "s3tables:GetTableData",
                 info.table_arn))
        return QUERY_ERR_FORBIDDEN;
    out->metadata_location = info.metadata_location;
    out->version_token = info.version_token;
    out->warehouse_location = info.warehouse_location;
    out->managed = strcmp(bucket, MANAGED_BUCKET) == 0;
    out->io = tables_io(rt->tables, a);
    return out->io ? QUERY_OK : QUERY_ERR_INTERNAL;
}

/* s3://<bucket>/<key> -> the blob file holding it. */
static int cat_local_path(void *ctx, arena_t *a, const char *location, const char **path)
{
    router_t *rt = ctx;
    if (strncmp(location, "s3://", 5) != 0)
        return QUERY_ERR_NO_TABLE;
    const char *b = location + 5, *slash = strchr(b, '/');
    if (!slash || slash == b || !slash[1])
        return QUERY_ERR_NO_TABLE;
    char *bucket = arena_strndup(a, b, (size_t)(slash - b));
    const char *key = slash + 1;
    if (!bucket)
        return QUERY_ERR_INTERNAL;
    store_rc_t rc = store_object_path(rt->st, a, bucket, key, strlen(key), path);
    return rc == STORE_OK ? QUERY_OK : rc == STORE_NOMEM ? QUERY_ERR_INTERNAL : QUERY_ERR_NO_TABLE;
}

static int cat_list(void *ctx, arena_t *a, const auth_caller_t *caller, query_list_t what,
                    const char *bucket, const char *ns, const char ***names, size_t *n)
{
    router_t *rt = ctx;
    if (caller && caller->anonymous)
        return QUERY_ERR_FORBIDDEN;
    int kind = what == QUERY_LIST_BUCKETS ? 0 : what == QUERY_LIST_NAMESPACES ? 1 : 2;
    return table_err(tables_names(rt->tables, a, kind, bucket, ns, names, n));
}

static int cat_commit(void *ctx, arena_t *a, const char *bucket, const char *ns, const char *table,
                      const char *version_token, const char *new_metadata_location)
{
    router_t *rt = ctx;
    tables_table_info_t info;
    return table_err(tables_table_swap(rt->tables, a, bucket, ns, table, version_token,
                                       new_metadata_location, &info));
}

/* s3:PutObject on bucket/key for `who`, decided as s3/policy.c decides
 * (see the top of this file). Returns QUERY_OK, QUERY_ERR_FORBIDDEN,
 * QUERY_ERR_NO_TABLE (no such bucket). */
static int put_allowed(router_t *rt, arena_t *a, const auth_caller_t *who, const char *bucket,
                       const char *key)
{
    store_bucket_t b;
    store_rc_t rc = store_bucket_get(rt->st, a, bucket, &b);
    if (rc != STORE_OK)
        return rc == STORE_NOT_FOUND || rc == STORE_NO_BUCKET ? QUERY_ERR_NO_TABLE
                                                              : QUERY_ERR_INTERNAL;
    if (!who)
        return QUERY_OK; /* kura itself */
    auth_policy_t *bp = NULL, *owned = NULL;
    char *doc = NULL;
    size_t len = 0;
    if (store_bucket_conf_get(rt->st, a, bucket, "policy", &doc, &len) == STORE_OK &&
        auth_policy_parse(doc, len, AUTH_POLICY_BUCKET, &bp, NULL, 0) != AUTH_POLICY_OK)
        return QUERY_ERR_FORBIDDEN; /* a stored policy that no longer parses grants nothing */
    const auth_policy_t *idp = NULL;
    if (!who->root && !who->anonymous && !identity_of(rt, a, who, &idp, &owned)) {
        auth_policy_free(bp);
        return QUERY_ERR_FORBIDDEN;
    }
    const char *arn = arena_printf(a, "arn:aws:s3:::%s/%s", bucket, key);
    auth_policy_request_t req = {
        .action = "s3:PutObject",
        .resource = arn,
        .principal_arn = who->principal_arn,
        .principal_account = who->anonymous ? NULL : who->account_id,
    };
    const auth_policy_t *pols[2] = {who->anonymous ? NULL : idp, bp};
    auth_policy_effect_t eff = arn ? auth_policy_decide(pols, 2, &req) : AUTH_POLICY_EXPLICIT_DENY;
    auth_policy_free(bp);
    auth_policy_free(owned);
    if (eff == AUTH_POLICY_EXPLICIT_DENY)
        return QUERY_ERR_FORBIDDEN;
    return who->root || eff == AUTH_POLICY_ALLOW ? QUERY_OK : QUERY_ERR_FORBIDDEN;
}

/* One Athena result object, stored as PutObject stores it: a new version
 * (or the null version) with an MD5 ETag and a CRC64NVME checksum, the
 * caller's account as owner and requester of its journal row. */
static int cat_put_object(void *ctx, const auth_caller_t *caller, const char *bucket,
                          const char *key, const void *data, size_t len)
{
    router_t *rt = ctx;
    arena_t *a = arena_new(0);
    store_blob_t *w = NULL;
    int e = QUERY_ERR_INTERNAL;
    if (!a)
        return QUERY_ERR_INTERNAL;
    if ((e = put_allowed(rt, a, caller, bucket, key)) != QUERY_OK)
        goto done;
    e = QUERY_ERR_INTERNAL;
    ck_t md5, crc;
    uint8_t dg[CK_MAX_DIGEST];
    char etag[2 * 16 + 1], crc_b64[CK_MAX_B64];
    if (!ck_init(&md5, CK_MD5))
        goto done;
    if (!ck_init(&crc, CK_CRC64NVME)) {
        ck_release(&md5);
        goto done;
    }
    ck_update(&md5, data, len);
    ck_update(&crc, data, len);
    codec_hex(dg, ck_final(&md5, dg), etag);
    ck_final_b64(&crc, crc_b64);
    if (store_blob_begin(rt->st, &w) != STORE_OK || store_blob_write(w, data, len) != STORE_OK ||
        store_blob_finish(w) != STORE_OK)
        goto done;
    size_t kl = strlen(key);
    bool meta = kl > 9 && strcmp(key + kl - 9, ".metadata") == 0;
    store_put_t in = {.bucket = bucket, .blob = w};
    w = NULL; /* consumed by store_object_put, whatever it returns */
    in.obj.key = key;
    in.obj.key_len = kl;
    in.obj.size = len;
    in.obj.mtime_ms = clock_now_ms();
    in.obj.etag = etag;
    in.obj.content_type = meta ? "application/x-ndjson" : "text/csv";
    in.obj.storage_class = "STANDARD";
    in.obj.checksum_algo = "CRC64NVME";
    in.obj.checksum_value = crc_b64;
    in.obj.checksum_type = "FULL_OBJECT";
    in.obj.owner = caller && caller->account_id ? caller->account_id : rt->cfg->account_id;
    store_reqctx_t rq = {.requester = in.obj.owner};
    store_reqctx_set(&rq);
    store_object_t out;
    store_rc_t rc = store_object_put(rt->st, a, &in, &out);
    store_reqctx_set(NULL);
    e = rc == STORE_OK ? QUERY_OK : rc == STORE_NO_BUCKET ? QUERY_ERR_NO_TABLE
                                  : rc == STORE_LOCKED   ? QUERY_ERR_FORBIDDEN
                                                         : QUERY_ERR_INTERNAL;
done:
    store_blob_abort(w);
    arena_free(a);
    return e;
}

static int cat_create(void *ctx, arena_t *a, const auth_caller_t *caller, const char *bucket,
                      const char *ns, const char *table, query_table_t *out)
{
    router_t *rt = ctx;
    if (strcmp(bucket, MANAGED_BUCKET) == 0)
        return QUERY_ERR_FORBIDDEN;
    char *barn = arena_printf(a, "arn:aws:s3tables:%s:%s:bucket/%s", rt->cfg->region,
                              rt->cfg->account_id, bucket);
    if (!barn || !allowed(rt, a, caller, "s3tables:CreateTable", barn))
        return QUERY_ERR_FORBIDDEN;
    tables_table_info_t info;
    tables_err_t e = tables_table_create_empty(rt->tables, a, bucket, ns, table,
                                               rt->cfg->account_id, &info);
    if (e == TABLES_ERR_MANAGED)
        return QUERY_ERR_FORBIDDEN;
    if (e == TABLES_ERR_BAD_REQUEST)
        return QUERY_ERR_NO_TABLE;
    if (e != TABLES_OK)
        return table_err(e);
    if (!allowed(rt, a, caller, "s3tables:PutTableData", info.table_arn))
        return QUERY_ERR_FORBIDDEN;
    out->metadata_location = info.metadata_location;
    out->version_token = info.version_token;
    out->warehouse_location = info.warehouse_location;
    out->managed = false;
    out->io = tables_io(rt->tables, a);
    return out->io ? QUERY_OK : QUERY_ERR_INTERNAL;
}

/* SQL settings are system records in namespace "sql". */
static int cat_setting_get(void *ctx, arena_t *a, const char *name, char **value)
{
    router_t *rt = ctx;
    size_t len;
    store_rc_t rc = store_sys_get(rt->st, a, "sql", name, value, &len);
    if (rc == STORE_NOT_FOUND)
        return QUERY_ERR_NO_TABLE;
    return rc == STORE_OK ? QUERY_OK : QUERY_ERR_INTERNAL;
}

static int cat_setting_put(void *ctx, const char *name, const char *value)
{
    router_t *rt = ctx;
    store_rc_t rc = store_sys_put(rt->st, "sql", name, value, value ? strlen(value) : 0);
    return rc == STORE_OK || (!value && rc == STORE_NOT_FOUND) ? QUERY_OK : QUERY_ERR_INTERNAL;
}

void router_sql_catalog(router_t *rt, query_catalog_t *cat)
{
    memset(cat, 0, sizeof *cat);
    cat->ctx = rt;
    cat->resolve = cat_resolve;
    cat->local_path = cat_local_path;
    cat->list = cat_list;
    cat->commit = cat_commit;
    cat->put_object = cat_put_object;
    cat->create = cat_create;
    cat->setting_get = cat_setting_get;
    cat->setting_put = cat_setting_put;
}
