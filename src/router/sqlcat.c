/* router/sqlcat.c: the SQL room's view of the catalog (query_catalog_t),
 * glued from the S3 Tables room, the store and IAM.
 *
 * Who may read or write a table: the root credentials always; a user when
 * its identity policy allows s3tables:GetTableData (read) or
 * s3tables:PutTableData (write) on the table's ARN; anonymous callers
 * never. Managed tables (the metadata journal and inventory in "aws-s3")
 * are read-only for users (NOTES-ON-ISSUES 13). */
#include "router/router_int.h"

#include "auth/policy.h"

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

static bool allowed(const auth_caller_t *who, const char *action, const char *arn)
{
    if (!who || who->root)
        return true; /* NULL: kura itself */
    if (who->anonymous || !who->identity_policy)
        return false;
    auth_policy_request_t req = {
        .action = action,
        .resource = arn,
        .principal_arn = who->principal_arn,
        .principal_account = who->account_id,
    };
    const auth_policy_t *p[1] = {who->identity_policy};
    return auth_policy_decide(p, 1, &req) == AUTH_POLICY_ALLOW;
}

static int cat_resolve(void *ctx, arena_t *a, const auth_caller_t *caller, const char *bucket,
                       const char *ns, const char *table, bool write, query_table_t *out)
{
    router_t *rt = ctx;
    tables_table_info_t info;
    tables_err_t e = tables_table_info(rt->tables, a, bucket, ns, table, &info);
    if (e != TABLES_OK)
        return table_err(e);
    if (!allowed(caller, write ? "s3tables:PutTableData" : "s3tables:GetTableData",
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

void router_sql_catalog(router_t *rt, query_catalog_t *cat)
{
    memset(cat, 0, sizeof *cat);
    cat->ctx = rt;
    cat->resolve = cat_resolve;
    cat->local_path = cat_local_path;
    cat->list = cat_list;
    cat->commit = cat_commit;
    /* create (CTAS of a new table) and put_object (Athena result files) are
     * not wired yet: CTAS answers as unsupported, results stay in memory. */
}
