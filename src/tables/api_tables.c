/* tables/api_tables.c: S3 Tables operations on tables (Create, Get, List,
 * Delete, Rename, Get/UpdateTableMetadataLocation, encryption, storage
 * class, policy), maintenance, replication, record expiration and tags
 * (s3tables-api §3.3-§3.7, §4). */
#include "tables/tables_int.h"

#include "util/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---------------------------------------------------------------- */

tables_err_t tables_err_from_ice(tables_req_t *q, ice_rc_t rc, const ice_err_t *err)
{
    const char *m = err && err->msg[0] ? err->msg : NULL;
    switch (rc) {
    case ICE_OK:
        return TABLES_OK;
    case ICE_ERR_INVALID:
    case ICE_ERR_TOO_LARGE:
        return m ? tables_fail(q, TABLES_ERR_BAD_REQUEST, "%s", m) : TABLES_ERR_BAD_REQUEST;
    case ICE_ERR_CONFLICT:
        return m ? tables_fail(q, TABLES_ERR_COMMIT_FAILED, "%s", m) : TABLES_ERR_COMMIT_FAILED;
    case ICE_ERR_UNSUPPORTED:
        return m ? tables_fail(q, TABLES_ERR_UNSUPPORTED, "%s", m) : TABLES_ERR_UNSUPPORTED;
    case ICE_ERR_NOT_FOUND:
    case ICE_ERR_CORRUPT:
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "The specified metadata location is not "
                                                      "valid: %s", m ? m : ice_rc_name(rc));
    default:
        return m ? tables_fail(q, TABLES_ERR_INTERNAL, "%s", m) : TABLES_ERR_INTERNAL;
    }
}

/* The table named by path segments 1..3. */
static tables_err_t path_table(tables_req_t *q, tables_rec_t *b, tables_rec_t *tb)
{
    return tables_req_table(q, q->seg[1], q->seg[2], q->seg[3], b, tb);
}

/* The table named by a tableArn query parameter. */
static tables_err_t query_table(tables_req_t *q, tables_rec_t *b, tables_rec_t *tb)
{
    const char *arn = http_param_value(q->r, "tableArn");
    if (!arn)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "tableArn is required.");
    tables_err_t e = tables_resolve_arn(q->t, q->a, arn, false, true, b, tb);
    if (e == TABLES_ERR_BAD_REQUEST)
        return tables_fail(q, e, "Invalid table ARN.");
    return e;
}

static json_t *ms_time(const json_t *doc, const char *key)
{
    return tables_json_time(json_integer_value(json_object_get(doc, key)));
}

static char *table_arn_of(tables_req_t *q, const json_t *b, const json_t *tb)
{
    return tables_table_arn(q->t, q->a, tables_str(b, "name"), tables_str(tb, "id"));
}

static void release2(tables_rec_t *b, tables_rec_t *tb)
{
    tables_rec_release(tb);
    tables_rec_release(b);
}

/* ---- CreateTable ------------------------------------------------------------ */

tables_err_t tables_table_create_full(tables_req_t *q, const tables_rec_t *b,
                                      const tables_rec_t *ns, const char *name,
                                      const char *schema_json, const char *spec_json,
                                      const char *order_json, const char *props_json,
                                      json_t *extra, tables_rec_t *tb, ice_metadata_t **meta)
{
    char id[TABLES_UUID_LEN + 1];
    tables_uuid(id);
    json_object_set_new(extra, "id", json_string(id));
    if (meta)
        *meta = NULL;
    if (schema_json) {
        const char *wh = tables_warehouse(q->a, tables_str(b->doc, "id"), id);
        ice_err_t err = {{0}};
        ice_metadata_t *m = NULL;
        ice_rc_t rc = ice_metadata_new(q->a, schema_json, spec_json, order_json, wh, props_json,
                                       0, &m, &err);
        if (rc != ICE_OK)
            return tables_err_from_ice(q, rc, &err);
        char *loc = ice_metadata_file_location(q->a, m, NULL);
        ice_io_t *io = tables_io(q->t, q->a);
        size_t len;
        const char *text = ice_metadata_json(m, &len);
        if (!loc || !io || !text)
            return TABLES_ERR_INTERNAL;
        int w = io->write(io->ctx, loc, text, len);
        if (w != ICE_OK)
            return tables_err_from_ice(q, (ice_rc_t)w, NULL);
        json_object_set_new(extra, "metadataLocation", json_string(loc));
        if (meta)
            *meta = m;
    }
    tables_err_t e = tables_table_create(q->t, q->a, b, ns, name, q->caller, extra, tb);
    if (e != TABLES_OK && schema_json) /* the metadata file is unreferenced */
        tables_files_purge(q->t, q->a, tables_str(b->doc, "id"), id);
    return e;
}

/* S3 Tables' `schema` (primitive fields, optional ids) as an Iceberg schema
 * object; ids default to the field's position (1-based), which is what
 * partitionSpec/writeOrder source-ids refer to. */
static tables_err_t schema_from_fields(tables_req_t *q, const json_t *schema, char **out)
{
    const json_t *fields = json_object_get(schema, "fields");
    if (!json_is_array(fields) || json_array_size(fields) == 0)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "schema.fields must be a non-empty list.");
    json_t *ice = json_pack("{s:s,s:i,s:[]}", "type", "struct", "schema-id", 0, "fields");
    json_t *list = json_object_get(ice, "fields");
    size_t i;
    const json_t *f;
    json_array_foreach(fields, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *type = json_string_value(json_object_get(f, "type"));
        const json_t *id = json_object_get(f, "id");
        if (!name || !*name || !type || (id && !json_is_integer(id))) {
            json_decref(ice);
            return tables_fail(q, TABLES_ERR_BAD_REQUEST,
                               "Each schema field needs a name and a type.");
        }
        json_array_append_new(
            list, json_pack("{s:I,s:s,s:s,s:b}", "id",
                            id ? json_integer_value(id) : (json_int_t)(i + 1), "name", name,
                            "type", type, "required",
                            json_is_true(json_object_get(f, "required"))));
    }
    *out = json_dumps(ice, JSON_COMPACT);
    json_decref(ice);
    return *out ? TABLES_OK : TABLES_ERR_INTERNAL;
}

/* Dumps member `key` of o into the arena as JSON text, or NULL. */
static char *member_json(arena_t *a, const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return NULL;
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    char *r = s ? arena_strdup(a, s) : NULL;
    free(s);
    return r;
}

/* Table metadata.iceberg -> the ice_metadata_new arguments. */
static tables_err_t iceberg_args(tables_req_t *q, const json_t *md, char **schema, char **spec,
                                 char **order, char **props)
{
    const json_t *ice = json_object_get(md, "iceberg");
    if (!json_is_object(md) || json_object_size(md) != 1 || !json_is_object(ice))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "metadata must hold exactly one member, "
                                                      "iceberg.");
    const json_t *s1 = json_object_get(ice, "schema"), *s2 = json_object_get(ice, "schemaV2");
    if ((s1 != NULL) == (s2 != NULL))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST,
                           "metadata.iceberg needs exactly one of schema and schemaV2.");
    if (s1) {
        char *raw = NULL;
        tables_err_t e = schema_from_fields(q, s1, &raw);
        if (e != TABLES_OK)
            return e;
        *schema = arena_strdup(q->a, raw);
        free(raw);
    } else {
        if (!json_is_object(s2) || strcmp(tables_str(s2, "type") ? tables_str(s2, "type") : "",
                                          "struct") != 0)
            return tables_fail(q, TABLES_ERR_BAD_REQUEST, "schemaV2.type must be struct.");
        *schema = member_json(q->a, ice, "schemaV2");
    }
    *spec = member_json(q->a, ice, "partitionSpec");
    *order = member_json(q->a, ice, "writeOrder");
    *props = member_json(q->a, ice, "properties");
    if (!*schema)
        return TABLES_ERR_INTERNAL;
    const json_t *p = json_object_get(ice, "properties");
    if (p && !json_is_object(p))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "properties must be a string map.");
    return TABLES_OK;
}

tables_err_t tables_op_create_table(tables_req_t *q)
{
    tables_err_t e = tables_req_json(q);
    if (e != TABLES_OK)
        return e;
    const char *name = json_string_value(json_object_get(q->json, "name"));
    const char *format = json_string_value(json_object_get(q->json, "format"));
    if (!name || !format)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "name and format are required.");
    if (strcmp(format, "ICEBERG") != 0)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "format must be ICEBERG.");
    if (!tables_table_name_ok(name))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid table name.");
    if (!tables_lookup_name_ok(q->seg[2], 1, TABLES_NAME_MAX))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid namespace name.");
    char *schema = NULL, *spec = NULL, *order = NULL, *props = NULL;
    const json_t *md = json_object_get(q->json, "metadata");
    if (md && !json_is_null(md) && (e = iceberg_args(q, md, &schema, &spec, &order, &props)))
        return e;
    json_t *extra;
    if ((e = tables_create_extras(q, &extra)) != TABLES_OK)
        return e;
    tables_rec_t b = {0}, n = {0}, tb = {0};
    if ((e = tables_req_bucket(q, q->seg[1], &b)) != TABLES_OK)
        goto fail;
    if (tables_is_managed(b.doc)) {
        e = TABLES_ERR_MANAGED;
        goto fail;
    }
    /* New tables inherit the bucket's encryption and storage class. */
    if (!json_object_get(extra, "encryption") && json_object_get(b.doc, "encryption"))
        json_object_set(extra, "encryption", json_object_get(b.doc, "encryption"));
    if (!json_object_get(extra, "storageClass") && json_object_get(b.doc, "storageClass"))
        json_object_set(extra, "storageClass", json_object_get(b.doc, "storageClass"));
    if ((e = tables_namespace_load(q->t, q->a, tables_str(b.doc, "id"), q->seg[2], &n)))
        goto fail;
    if ((e = tables_table_load(q->t, q->a, tables_str(b.doc, "id"), q->seg[2], name, &tb)) !=
        TABLES_ERR_NO_TABLE) {
        e = e == TABLES_OK ? TABLES_ERR_TABLE_EXISTS : e; /* before writing any file */
        goto fail;
    }
    e = tables_table_create_full(q, &b, &n, name, schema, spec, order, props, extra, &tb, NULL);
    if (e == TABLES_OK)
        tables_reply(q, 200, json_pack("{s:s,s:s}", "tableARN", table_arn_of(q, b.doc, tb.doc),
                                       "versionToken", tables_str(tb.doc, "versionToken")));
fail:
    json_decref(extra);
    tables_rec_release(&tb);
    tables_rec_release(&n);
    tables_rec_release(&b);
    return e;
}

/* ---- Get / List / Delete / Rename ---------------------------------------- */

static json_t *table_summary(tables_req_t *q, const json_t *b, const json_t *tb, bool full)
{
    json_t *o = json_pack("{s:[s],s:s,s:s,s:s,s:o,s:o,s:s,s:s}", "namespace",
                          tables_str(tb, "namespace"), "name", tables_str(tb, "name"), "type",
                          tables_str(tb, "type"), "tableARN", table_arn_of(q, b, tb), "createdAt",
                          ms_time(tb, "createdAt"), "modifiedAt", ms_time(tb, "modifiedAt"),
                          "namespaceId", tables_str(tb, "namespaceId"), "tableBucketId",
                          tables_str(b, "id"));
    if (tables_is_managed(tb))
        json_object_set_new(o, "managedByService", json_string("kura"));
    if (!full)
        return o;
    json_object_set_new(o, "versionToken", json_string(tables_str(tb, "versionToken")));
    if (tables_str(tb, "metadataLocation"))
        json_object_set_new(o, "metadataLocation", json_string(tables_str(tb, "metadataLocation")));
    json_object_set_new(o, "warehouseLocation", json_string(tables_str(tb, "warehouseLocation")));
    json_object_set_new(o, "createdBy", json_string(tables_str(tb, "createdBy")));
    json_object_set_new(o, "modifiedBy", json_string(tables_str(tb, "modifiedBy")));
    json_object_set_new(o, "ownerAccountId", json_string(q->t->cfg->account_id));
    json_object_set_new(o, "format", json_string("ICEBERG"));
    return o;
}

tables_err_t tables_op_get_table(tables_req_t *q)
{
    tables_rec_t b, tb;
    tables_err_t e;
    if (q->nseg == 4) { /* legacy binding GET /tables/{b}/{ns}/{t} */
        e = path_table(q, &b, &tb);
    } else {
        const char *arn = http_param_value(q->r, "tableArn");
        const char *barn = http_param_value(q->r, "tableBucketARN");
        const char *ns = http_param_value(q->r, "namespace");
        const char *name = http_param_value(q->r, "name");
        if (arn && !barn && !ns && !name)
            e = query_table(q, &b, &tb);
        else if (!arn && barn && ns && name)
            e = tables_req_table(q, barn, ns, name, &b, &tb);
        else
            return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Specify either tableArn or "
                                                          "tableBucketARN, namespace and name.");
    }
    if (e != TABLES_OK)
        return e;
    tables_reply(q, 200, table_summary(q, b.doc, tb.doc, true));
    release2(&b, &tb);
    return TABLES_OK;
}

typedef struct {
    tables_req_t *q;
    const json_t *bucket;
    const char *ns, *prefix, *after;
    uint64_t max;
    json_t *items;
    const char *last;
    bool more;
} table_list_t;

static bool list_table_one(void *arg, const char *key, json_t *doc)
{
    table_list_t *l = arg;
    if (l->after && strcmp(key, l->after) <= 0)
        return true;
    const char *ns = tables_str(doc, "namespace"), *name = tables_str(doc, "name");
    if (!ns || !name || (l->ns && strcmp(ns, l->ns) != 0))
        return true;
    if (l->prefix && strncmp(name, l->prefix, strlen(l->prefix)) != 0)
        return true;
    if (json_array_size(l->items) == l->max) {
        l->more = true;
        return false;
    }
    json_array_append_new(l->items, table_summary(l->q, l->bucket, doc, false));
    l->last = arena_strdup(l->q->a, key);
    return true;
}

tables_err_t tables_op_list_tables(tables_req_t *q)
{
    table_list_t l = {.q = q};
    char *after;
    tables_err_t e = tables_prefix_param(q, TABLES_NAME_MAX, &l.prefix);
    if (e == TABLES_OK)
        e = tables_param_int(q, "maxTables", 1, TABLES_LIST_MAX, TABLES_LIST_MAX, &l.max);
    if (e == TABLES_OK)
        e = tables_page_start(q, &after);
    if (e != TABLES_OK)
        return e;
    l.after = after;
    l.ns = http_param_value(q->r, "namespace");
    if (l.ns && !tables_lookup_name_ok(l.ns, 1, TABLES_NAME_MAX))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid namespace name.");
    tables_rec_t b;
    if ((e = tables_req_bucket(q, q->seg[1], &b)) != TABLES_OK)
        return e;
    l.bucket = b.doc;
    char sns[64 + TABLES_UUID_LEN];
    tables_ns_of(sns, sizeof sns, "ttab", tables_str(b.doc, "id"));
    l.items = json_array();
    e = tables_rec_list(q->t, q->a, sns, list_table_one, &l);
    tables_rec_release(&b);
    if (e != TABLES_OK) {
        json_decref(l.items);
        return e;
    }
    json_t *out = json_pack("{s:o}", "tables", l.items);
    if (l.more && l.last)
        json_object_set_new(out, "continuationToken", tables_page_token(q->a, l.last));
    tables_reply(q, 200, out);
    return TABLES_OK;
}

static tables_err_t token_param(tables_req_t *q, const char *tok)
{
    if (tok && (strlen(tok) < 1 || strlen(tok) > TABLES_LOCATION_MAX))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid versionToken.");
    return TABLES_OK;
}

tables_err_t tables_op_delete_table(tables_req_t *q)
{
    const char *tok = http_param_value(q->r, "versionToken");
    tables_err_t e = token_param(q, tok);
    tables_rec_t b, tb;
    if (e != TABLES_OK || (e = path_table(q, &b, &tb)) != TABLES_OK)
        return e;
    /* Deleting a managed table is allowed (NOTES-ON-ISSUES 13). */
    e = tables_table_delete(q->t, q->a, &b, &tb, tok);
    release2(&b, &tb);
    if (e != TABLES_OK)
        return e;
    tables_reply_empty(q, 204);
    return TABLES_OK;
}

/* A table the caller may change: managed tables are read-only. */
static tables_err_t table_for_change(tables_req_t *q, tables_rec_t *b, tables_rec_t *tb)
{
    tables_err_t e = path_table(q, b, tb);
    if (e == TABLES_OK && tables_is_managed(tb->doc)) {
        release2(b, tb);
        return TABLES_ERR_MANAGED;
    }
    return e;
}

tables_err_t tables_op_rename_table(tables_req_t *q)
{
    tables_err_t e = tables_req_json(q);
    if (e != TABLES_OK)
        return e;
    const json_t *jns = json_object_get(q->json, "newNamespaceName");
    const json_t *jname = json_object_get(q->json, "newName");
    const json_t *jtok = json_object_get(q->json, "versionToken");
    const char *ns = json_string_value(jns), *name = json_string_value(jname);
    const char *tok = json_string_value(jtok);
    if ((jns && !ns) || (jname && !name) || (jtok && !tok))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid rename request.");
    if (ns && !tables_namespace_name_ok(ns))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid namespace name.");
    if (name && !tables_table_name_ok(name))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid table name.");
    if ((e = token_param(q, tok)) != TABLES_OK)
        return e;
    tables_rec_t b, tb;
    if ((e = table_for_change(q, &b, &tb)) != TABLES_OK)
        return e;
    e = tables_table_rename(q->t, q->a, &b, &tb, ns, name, tok);
    release2(&b, &tb);
    if (e != TABLES_OK)
        return e;
    tables_reply_empty(q, 204);
    return TABLES_OK;
}

tables_err_t tables_op_get_metadata_location(tables_req_t *q)
{
    tables_rec_t b, tb;
    tables_err_t e = path_table(q, &b, &tb);
    if (e != TABLES_OK)
        return e;
    json_t *o = json_pack("{s:s,s:s}", "versionToken", tables_str(tb.doc, "versionToken"),
                          "warehouseLocation", tables_str(tb.doc, "warehouseLocation"));
    if (tables_str(tb.doc, "metadataLocation"))
        json_object_set_new(o, "metadataLocation",
                            json_string(tables_str(tb.doc, "metadataLocation")));
    tables_reply(q, 200, o);
    release2(&b, &tb);
    return TABLES_OK;
}

tables_err_t tables_op_update_metadata_location(tables_req_t *q)
{
    tables_err_t e = tables_req_json(q);
    if (e != TABLES_OK)
        return e;
    const char *tok = json_string_value(json_object_get(q->json, "versionToken"));
    const char *loc = json_string_value(json_object_get(q->json, "metadataLocation"));
    if (!tok || !loc)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST,
                           "versionToken and metadataLocation are required.");
    if ((e = token_param(q, tok)) != TABLES_OK)
        return e;
    tables_rec_t b, tb;
    if ((e = table_for_change(q, &b, &tb)) != TABLES_OK)
        return e;
    if (!tables_location_ok(tb.doc, loc)) {
        release2(&b, &tb);
        return tables_fail(q, TABLES_ERR_BAD_REQUEST,
                           "The specified metadata location is not valid: it must be a "
                           ".metadata.json file under the table's warehouse location.");
    }
    e = tables_table_set_location(q->t, q->a, &tb, tok, loc, q->caller);
    if (e == TABLES_OK)
        tables_reply(q, 200,
                     json_pack("{s:s,s:s,s:[s],s:s,s:s}", "name", tables_str(tb.doc, "name"),
                               "tableARN", table_arn_of(q, b.doc, tb.doc), "namespace",
                               tables_str(tb.doc, "namespace"), "versionToken",
                               tables_str(tb.doc, "versionToken"), "metadataLocation", loc));
    release2(&b, &tb);
    return e;
}

/* ---- per-table documents ---------------------------------------------------- */

/* Answers {member: doc[key] or default}. */
static tables_err_t table_conf_get(tables_req_t *q, const char *member, const char *key,
                                   const char *dflt)
{
    tables_rec_t b, tb;
    tables_err_t e = path_table(q, &b, &tb);
    if (e != TABLES_OK)
        return e;
    json_t *v = json_object_get(tb.doc, key);
    json_error_t je;
    v = v ? json_incref(v) : dflt ? json_loads(dflt, 0, &je) : NULL;
    release2(&b, &tb);
    if (!v)
        return TABLES_ERR_NO_CONFIG;
    json_t *o = json_object();
    json_object_set_new(o, member, v);
    tables_reply(q, 200, o);
    return TABLES_OK;
}

tables_err_t tables_op_get_table_encryption(tables_req_t *q)
{
    return table_conf_get(q, "encryptionConfiguration", "encryption",
                          "{\"sseAlgorithm\":\"AES256\"}");
}

tables_err_t tables_op_get_table_storage_class(tables_req_t *q)
{
    return table_conf_get(q, "storageClassConfiguration", "storageClass",
                          "{\"storageClass\":\"STANDARD\"}");
}

tables_err_t tables_op_get_table_policy(tables_req_t *q)
{
    return table_conf_get(q, "resourcePolicy", "policy", NULL);
}

/* Sets (policy) or removes (NULL) the table's resource policy. */
static tables_err_t table_policy_set(tables_req_t *q, json_t *policy, unsigned status)
{
    tables_rec_t b, tb;
    tables_err_t e = table_for_change(q, &b, &tb);
    if (e != TABLES_OK)
        return e;
    e = tables_set_member(q, &tb, TABLES_ERR_NO_TABLE, "policy", policy ? json_incref(policy) : NULL,
                          false);
    release2(&b, &tb);
    if (e != TABLES_OK)
        return e;
    tables_reply_empty(q, status);
    return TABLES_OK;
}

tables_err_t tables_op_put_table_policy(tables_req_t *q)
{
    tables_err_t e = tables_req_json(q);
    if (e != TABLES_OK)
        return e;
    json_t *v = json_object_get(q->json, "resourcePolicy");
    if ((e = tables_check_policy(q, v)) != TABLES_OK)
        return e;
    return table_policy_set(q, v, 200);
}

tables_err_t tables_op_delete_table_policy(tables_req_t *q)
{
    return table_policy_set(q, NULL, 204);
}

/* ---- maintenance ---------------------------------------------------------- */

/* Defaults from the user guide (s3tables-api §3.4). */
static const struct {
    const char *type, *dflt;
    bool table; /* configured per table (else per bucket) */
} maint_kinds[] = {
    {"icebergCompaction",
     "{\"status\":\"enabled\",\"settings\":{\"icebergCompaction\":{\"targetFileSizeMB\":512,"
     "\"strategy\":\"auto\"}}}",
     true},
    {"icebergSnapshotManagement",
     "{\"status\":\"enabled\",\"settings\":{\"icebergSnapshotManagement\":{"
     "\"minSnapshotsToKeep\":1,\"maxSnapshotAgeHours\":120}}}",
     true},
    {"icebergUnreferencedFileRemoval",
     "{\"status\":\"enabled\",\"settings\":{\"icebergUnreferencedFileRemoval\":{"
     "\"unreferencedDays\":3,\"nonCurrentDays\":10}}}",
     false},
};
#define MAINT_TARGET_MB_MIN 64 /* user guide: 64..512 */
#define MAINT_TARGET_MB_MAX 512

static int maint_kind(const char *type, bool table)
{
    for (size_t i = 0; i < sizeof maint_kinds / sizeof maint_kinds[0]; i++)
        if (maint_kinds[i].table == table && strcmp(maint_kinds[i].type, type) == 0)
            return (int)i;
    return -1;
}

/* A positive int member (PositiveInteger: 1..2^31-1) if present. */
static bool pos_int_ok(const json_t *o, const char *key, json_int_t min, json_int_t max)
{
    const json_t *v = json_object_get(o, key);
    return !v || (json_is_integer(v) && json_integer_value(v) >= min &&
                  json_integer_value(v) <= max);
}

/* Validates a maintenance `value` for `type` and returns it merged over the
 * defaults (so Get always reports complete settings). */
static tables_err_t maint_value(tables_req_t *q, int kind, const json_t *v, json_t **out)
{
    const char *type = maint_kinds[kind].type;
    const json_t *status = json_object_get(v, "status");
    const json_t *settings = json_object_get(v, "settings");
    if (!json_is_object(v))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "value is required.");
    if (status && (!json_is_string(status) || (strcmp(json_string_value(status), "enabled") &&
                                               strcmp(json_string_value(status), "disabled"))))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "status must be enabled or disabled.");
    const json_t *inner = json_object_get(settings, type);
    if (settings && (!json_is_object(settings) || json_object_size(settings) != 1 ||
                     !json_is_object(inner)))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "settings must hold exactly %s.", type);
    bool ok = true;
    if (inner && strcmp(type, "icebergCompaction") == 0) {
        const char *st = tables_str(inner, "strategy");
        ok = pos_int_ok(inner, "targetFileSizeMB", MAINT_TARGET_MB_MIN, MAINT_TARGET_MB_MAX) &&
             (!json_object_get(inner, "strategy") ||
              (st && (!strcmp(st, "auto") || !strcmp(st, "binpack") || !strcmp(st, "sort") ||
                      !strcmp(st, "z-order"))));
    } else if (inner && strcmp(type, "icebergSnapshotManagement") == 0) {
        ok = pos_int_ok(inner, "minSnapshotsToKeep", 1, INT32_MAX) &&
             pos_int_ok(inner, "maxSnapshotAgeHours", 1, INT32_MAX);
    } else if (inner) {
        ok = pos_int_ok(inner, "unreferencedDays", 1, INT32_MAX) &&
             pos_int_ok(inner, "nonCurrentDays", 1, INT32_MAX);
    }
    if (!ok)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid %s settings.", type);
    json_error_t je;
    json_t *m = json_loads(maint_kinds[kind].dflt, 0, &je);
    if (!m)
        return TABLES_ERR_INTERNAL;
    if (status)
        json_object_set(m, "status", (json_t *)(uintptr_t)status);
    if (inner)
        json_object_update(json_object_get(json_object_get(m, "settings"), type),
                           (json_t *)(uintptr_t)inner);
    *out = m;
    return TABLES_OK;
}

typedef struct {
    const char *type;
    json_t *value;
} maint_edit_t;

static tables_err_t maint_edit(json_t *doc, void *arg)
{
    maint_edit_t *m = arg;
    json_t *all = json_object_get(doc, "maintenance");
    if (!all) {
        all = json_object();
        json_object_set_new(doc, "maintenance", all);
    }
    return json_object_set(all, m->type, m->value) == 0 ? TABLES_OK : TABLES_ERR_INTERNAL;
}

/* PUT .../maintenance/{type} on a bucket (table false) or a table. */
static tables_err_t maint_put(tables_req_t *q, bool table)
{
    tables_err_t e = tables_req_json(q);
    if (e != TABLES_OK)
        return e;
    const char *type = q->seg[table ? 5 : 3];
    int kind = maint_kind(type, table);
    if (kind < 0)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid maintenance type.");
    json_t *value = NULL;
    if ((e = maint_value(q, kind, json_object_get(q->json, "value"), &value)) != TABLES_OK)
        return e;
    tables_rec_t b, tb = {0};
    e = table ? table_for_change(q, &b, &tb) : tables_req_bucket(q, q->seg[1], &b);
    if (e == TABLES_OK && !table && tables_is_managed(b.doc)) {
        tables_rec_release(&b);
        e = TABLES_ERR_MANAGED;
    }
    if (e != TABLES_OK) {
        json_decref(value);
        return e;
    }
    maint_edit_t m = {maint_kinds[kind].type, value};
    e = tables_rec_edit(q->t, q->a, table ? &tb : &b, table ? TABLES_ERR_NO_TABLE
                                                            : TABLES_ERR_NO_BUCKET,
                        maint_edit, &m);
    json_decref(value);
    release2(&b, &tb);
    if (e != TABLES_OK)
        return e;
    tables_reply_empty(q, 204);
    return TABLES_OK;
}

/* The configuration map: every kind of the level, stored or default. */
static json_t *maint_map(const json_t *doc, bool table)
{
    json_t *out = json_object();
    const json_t *stored = json_object_get(doc, "maintenance");
    for (size_t i = 0; i < sizeof maint_kinds / sizeof maint_kinds[0]; i++) {
        if (maint_kinds[i].table != table)
            continue;
        json_t *v = json_object_get(stored, maint_kinds[i].type);
        json_error_t je;
        json_object_set_new(out, maint_kinds[i].type,
                            v ? json_incref(v) : json_loads(maint_kinds[i].dflt, 0, &je));
    }
    return out;
}

tables_err_t tables_op_put_bucket_maintenance(tables_req_t *q) { return maint_put(q, false); }
tables_err_t tables_op_put_table_maintenance(tables_req_t *q) { return maint_put(q, true); }

tables_err_t tables_op_get_bucket_maintenance(tables_req_t *q)
{
    tables_rec_t b;
    tables_err_t e = tables_req_bucket(q, q->seg[1], &b);
    if (e != TABLES_OK)
        return e;
    tables_reply(q, 200, json_pack("{s:s,s:o}", "tableBucketARN",
                                   tables_bucket_arn(q->t, q->a, tables_str(b.doc, "name")),
                                   "configuration", maint_map(b.doc, false)));
    tables_rec_release(&b);
    return TABLES_OK;
}

tables_err_t tables_op_get_table_maintenance(tables_req_t *q)
{
    tables_rec_t b, tb;
    tables_err_t e = path_table(q, &b, &tb);
    if (e != TABLES_OK)
        return e;
    tables_reply(q, 200, json_pack("{s:s,s:o}", "tableARN", table_arn_of(q, b.doc, tb.doc),
                                   "configuration", maint_map(tb.doc, true)));
    release2(&b, &tb);
    return TABLES_OK;
}

/* No maintenance job runs yet: every enabled job is Not_Yet_Run, a disabled
 * one Disabled. */
tables_err_t tables_op_get_maintenance_job_status(tables_req_t *q)
{
    tables_rec_t b, tb;
    tables_err_t e = path_table(q, &b, &tb);
    if (e != TABLES_OK)
        return e;
    json_t *status = json_object();
    json_t *tm = maint_map(tb.doc, true), *bm = maint_map(b.doc, false);
    for (size_t i = 0; i < sizeof maint_kinds / sizeof maint_kinds[0]; i++) {
        const char *type = maint_kinds[i].type;
        const json_t *v = json_object_get(maint_kinds[i].table ? tm : bm, type);
        const char *st = tables_str(v, "status");
        bool off = st && strcmp(st, "disabled") == 0;
        json_object_set_new(status, type,
                            json_pack("{s:s}", "status", off ? "Disabled" : "Not_Yet_Run"));
    }
    json_decref(tm);
    json_decref(bm);
    tables_reply(q, 200, json_pack("{s:s,s:o}", "tableARN", table_arn_of(q, b.doc, tb.doc),
                                   "status", status));
    release2(&b, &tb);
    return TABLES_OK;
}

/* ---- replication (stored and reported; nothing is copied yet) ---------------- */

#define REPLICATION_DEST_MAX 5

static tables_err_t check_replication(tables_req_t *q, const json_t *c)
{
    const char *role = tables_str(c, "role");
    const json_t *rules = json_object_get(c, "rules");
    /* IAMRole: 20..2048, arn:.+:iam::[0-9]{12}:role/.+ */
    const char *iam = role ? strstr(role, ":iam::") : NULL;
    if (!json_is_object(c) || !role || strlen(role) < 20 || strlen(role) > TABLES_ARN_MAX ||
        strncmp(role, "arn:", 4) != 0 || !iam || iam == role + 3 ||
        strspn(iam + 6, "0123456789") != 12 || strncmp(iam + 18, ":role/", 6) != 0 || !iam[24])
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "configuration.role must be an IAM role "
                                                      "ARN.");
    if (!json_is_array(rules) || json_array_size(rules) != 1)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "configuration.rules must hold one rule.");
    const json_t *dests = json_object_get(json_array_get(rules, 0), "destinations");
    size_t n = json_array_size(dests);
    if (!json_is_array(dests) || n < 1 || n > REPLICATION_DEST_MAX)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "A rule needs 1 to %d destinations.",
                           REPLICATION_DEST_MAX);
    for (size_t i = 0; i < n; i++) {
        tables_arn_t arn;
        if (!tables_arn_parse(tables_str(json_array_get(dests, i), "destinationTableBucketARN"),
                              true, false, &arn))
            return tables_fail(q, TABLES_ERR_BAD_REQUEST,
                               "Invalid destinationTableBucketARN.");
    }
    return TABLES_OK;
}

typedef struct {
    const char *token; /* expected, or NULL */
    json_t *config;    /* new configuration, NULL: delete */
    char new_token[21];
} repl_edit_t;

static tables_err_t repl_edit(json_t *doc, void *arg)
{
    repl_edit_t *r = arg;
    json_t *cur = json_object_get(doc, "replication");
    const char *tok = tables_str(cur, "versionToken");
    if (r->token && (!tok || strcmp(tok, r->token) != 0))
        return tok ? TABLES_ERR_STALE_TOKEN : TABLES_ERR_NO_CONFIG;
    if (!r->config) {
        if (!cur)
            return TABLES_ERR_NO_CONFIG;
        json_object_del(doc, "replication");
        return TABLES_OK;
    }
    codec_random_hex(10, r->new_token);
    json_object_set_new(doc, "replication", json_pack("{s:s,s:O}", "versionToken", r->new_token,
                                                      "configuration", r->config));
    return TABLES_OK;
}

/* Put/Delete of a bucket (table false) or table replication configuration. */
static tables_err_t repl_change(tables_req_t *q, bool table, bool put)
{
    const char *tok = http_param_value(q->r, "versionToken");
    tables_err_t e = token_param(q, tok);
    json_t *config = NULL;
    if (e != TABLES_OK)
        return e;
    if (put) {
        if ((e = tables_req_json(q)) != TABLES_OK)
            return e;
        config = json_object_get(q->json, "configuration");
        if ((e = check_replication(q, config)) != TABLES_OK)
            return e;
    } else if (table && !tok) {
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "versionToken is required.");
    }
    tables_rec_t b, tb = {0};
    if (table) {
        e = query_table(q, &b, &tb);
    } else {
        const char *arn = http_param_value(q->r, "tableBucketARN");
        e = arn ? tables_req_bucket(q, arn, &b)
                : tables_fail(q, TABLES_ERR_BAD_REQUEST, "tableBucketARN is required.");
    }
    if (e != TABLES_OK)
        return e;
    bool managed = tables_is_managed(table ? tb.doc : b.doc);
    repl_edit_t r = {tok, config, ""};
    e = managed ? TABLES_ERR_MANAGED
                : tables_rec_edit(q->t, q->a, table ? &tb : &b,
                                  table ? TABLES_ERR_NO_TABLE : TABLES_ERR_NO_BUCKET, repl_edit,
                                  &r);
    release2(&b, &tb);
    if (e != TABLES_OK)
        return e;
    if (put)
        tables_reply(q, 200, json_pack("{s:s,s:s}", "versionToken", r.new_token, "status",
                                       "Enabled"));
    else
        tables_reply_empty(q, 204);
    return TABLES_OK;
}

static tables_err_t repl_get(tables_req_t *q, bool table)
{
    tables_rec_t b, tb = {0};
    tables_err_t e;
    if (table) {
        e = query_table(q, &b, &tb);
    } else {
        const char *arn = http_param_value(q->r, "tableBucketARN");
        e = arn ? tables_req_bucket(q, arn, &b)
                : tables_fail(q, TABLES_ERR_BAD_REQUEST, "tableBucketARN is required.");
    }
    if (e != TABLES_OK)
        return e;
    const json_t *cur = json_object_get(table ? tb.doc : b.doc, "replication");
    json_t *out = cur ? json_pack("{s:s,s:O}", "versionToken", tables_str(cur, "versionToken"),
                                  "configuration", json_object_get(cur, "configuration"))
                      : NULL;
    release2(&b, &tb);
    if (!out)
        return TABLES_ERR_NO_CONFIG;
    tables_reply(q, 200, out);
    return TABLES_OK;
}

tables_err_t tables_op_put_bucket_replication(tables_req_t *q) { return repl_change(q, false, true); }
tables_err_t tables_op_delete_bucket_replication(tables_req_t *q)
{
    return repl_change(q, false, false);
}
tables_err_t tables_op_get_bucket_replication(tables_req_t *q) { return repl_get(q, false); }
tables_err_t tables_op_put_table_replication(tables_req_t *q) { return repl_change(q, true, true); }
tables_err_t tables_op_delete_table_replication(tables_req_t *q)
{
    return repl_change(q, true, false);
}
tables_err_t tables_op_get_table_replication(tables_req_t *q) { return repl_get(q, true); }

/* Every destination is "pending": no replica is ever written yet. */
tables_err_t tables_op_get_replication_status(tables_req_t *q)
{
    tables_rec_t b, tb;
    tables_err_t e = query_table(q, &b, &tb);
    if (e != TABLES_OK)
        return e;
    const json_t *cur = json_object_get(tb.doc, "replication");
    if (!cur)
        cur = json_object_get(b.doc, "replication");
    const json_t *dests = json_object_get(
        json_array_get(json_object_get(json_object_get(cur, "configuration"), "rules"), 0),
        "destinations");
    json_t *list = json_array();
    for (size_t i = 0; i < json_array_size(dests); i++)
        json_array_append_new(
            list, json_pack("{s:s,s:s}", "replicationStatus", "pending",
                            "destinationTableBucketArn",
                            tables_str(json_array_get(dests, i), "destinationTableBucketARN")));
    json_t *out = json_array_size(list) ? json_pack("{s:s,s:o}", "sourceTableArn",
                                                    table_arn_of(q, b.doc, tb.doc),
                                                    "destinations", list)
                                        : NULL;
    if (!out)
        json_decref(list);
    release2(&b, &tb);
    if (!out)
        return TABLES_ERR_NO_CONFIG;
    tables_reply(q, 200, out);
    return TABLES_OK;
}

/* ---- record expiration (AWS-managed tables only) ---------------------------- */

/* The table of ?tableArn, which must be service-managed: record expiration
 * is for journal-style tables (the model's MethodNotAllowedException). */
static tables_err_t expiration_table(tables_req_t *q, tables_rec_t *b, tables_rec_t *tb)
{
    tables_err_t e = query_table(q, b, tb);
    if (e == TABLES_OK && !tables_is_managed(tb->doc)) {
        release2(b, tb);
        return tables_fail(q, TABLES_ERR_METHOD_NOT_ALLOWED,
                           "Record expiration is available only for AWS managed tables.");
    }
    return e;
}

tables_err_t tables_op_put_record_expiration(tables_req_t *q)
{
    tables_err_t e = tables_req_json(q);
    if (e != TABLES_OK)
        return e;
    const json_t *v = json_object_get(q->json, "value");
    const json_t *st = json_object_get(v, "status"), *settings = json_object_get(v, "settings");
    const char *s = json_string_value(st);
    if (!json_is_object(v) || (st && (!s || (strcmp(s, "enabled") && strcmp(s, "disabled")))) ||
        (settings && (!json_is_object(settings) || !pos_int_ok(settings, "days", 1, INT32_MAX))))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid record expiration value.");
    tables_rec_t b, tb;
    if ((e = expiration_table(q, &b, &tb)) != TABLES_OK)
        return e;
    e = tables_set_member(q, &tb, TABLES_ERR_NO_TABLE, "recordExpiration",
                          json_incref((json_t *)(uintptr_t)v), false);
    release2(&b, &tb);
    if (e != TABLES_OK)
        return e;
    tables_reply_empty(q, 204);
    return TABLES_OK;
}

tables_err_t tables_op_get_record_expiration(tables_req_t *q)
{
    tables_rec_t b, tb;
    tables_err_t e = expiration_table(q, &b, &tb);
    if (e != TABLES_OK)
        return e;
    json_t *v = json_object_get(tb.doc, "recordExpiration");
    tables_reply(q, 200, json_pack("{s:o}", "configuration",
                                   v ? json_incref(v) : json_pack("{s:s}", "status", "disabled")));
    release2(&b, &tb);
    return TABLES_OK;
}

tables_err_t tables_op_get_record_expiration_job_status(tables_req_t *q)
{
    tables_rec_t b, tb;
    tables_err_t e = expiration_table(q, &b, &tb);
    if (e != TABLES_OK)
        return e;
    const char *st = tables_str(json_object_get(tb.doc, "recordExpiration"), "status");
    bool on = st && strcmp(st, "enabled") == 0;
    tables_reply(q, 200, json_pack("{s:s}", "status", on ? "NotYetRun" : "Disabled"));
    release2(&b, &tb);
    return TABLES_OK;
}

/* ---- tags ------------------------------------------------------------------- */

typedef struct {
    const json_t *add;         /* tags to merge, or NULL */
    const char *const *remove; /* keys to drop */
    size_t nremove;
} tag_edit_t;

static tables_err_t tag_edit(json_t *doc, void *arg)
{
    tag_edit_t *t = arg;
    json_t *tags = json_object_get(doc, "tags");
    json_t *next = tags ? json_deep_copy(tags) : json_object();
    if (t->add)
        json_object_update(next, (json_t *)(uintptr_t)t->add);
    for (size_t i = 0; i < t->nremove; i++)
        json_object_del(next, t->remove[i]);
    if (json_object_size(next) > TABLES_TAGS_MAX) {
        json_decref(next);
        return TABLES_ERR_BAD_REQUEST;
    }
    json_object_set_new(doc, "tags", next);
    return TABLES_OK;
}

/* The record a tag ARN names: the table when it is a table ARN. */
static tables_err_t tag_target(tables_req_t *q, tables_rec_t *b, tables_rec_t *tb,
                               tables_rec_t **target)
{
    tables_err_t e = tables_resolve_arn(q->t, q->a, q->seg[1], true, true, b, tb);
    if (e == TABLES_ERR_BAD_REQUEST)
        return tables_fail(q, e, "Invalid resource ARN.");
    *target = tb->doc ? tb : b;
    return e;
}

static tables_err_t tags_change(tables_req_t *q, tag_edit_t *t)
{
    tables_rec_t b, tb, *target;
    tables_err_t e = tag_target(q, &b, &tb, &target);
    if (e != TABLES_OK)
        return e;
    e = tables_rec_edit(q->t, q->a, target, target == &tb ? TABLES_ERR_NO_TABLE
                                                          : TABLES_ERR_NO_BUCKET,
                        tag_edit, t);
    release2(&b, &tb);
    if (e == TABLES_ERR_BAD_REQUEST)
        return tables_fail(q, e, "A resource can have at most %d tags.", TABLES_TAGS_MAX);
    return e;
}

tables_err_t tables_op_tag_resource(tables_req_t *q)
{
    tables_err_t e = tables_req_json(q);
    if (e != TABLES_OK)
        return e;
    const json_t *tags = json_object_get(q->json, "tags");
    if (!tags)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "tags is required.");
    if ((e = tables_check_tags(q, tags)) != TABLES_OK)
        return e;
    tag_edit_t t = {tags, NULL, 0};
    if ((e = tags_change(q, &t)) != TABLES_OK)
        return e;
    tables_reply(q, 200, json_object());
    return TABLES_OK;
}

tables_err_t tables_op_untag_resource(tables_req_t *q)
{
    const char **keys = arena_alloc(q->a, (q->r->nparams + 1) * sizeof *keys);
    size_t n = 0;
    if (!keys)
        return TABLES_ERR_INTERNAL;
    for (size_t i = 0; i < q->r->nparams; i++)
        if (strcmp(q->r->params[i].name, "tagKeys") == 0)
            keys[n++] = q->r->params[i].value;
    if (n == 0)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "tagKeys is required.");
    tag_edit_t t = {NULL, keys, n};
    tables_err_t e = tags_change(q, &t);
    if (e != TABLES_OK)
        return e;
    tables_reply_empty(q, 204);
    return TABLES_OK;
}

tables_err_t tables_op_list_tags(tables_req_t *q)
{
    tables_rec_t b, tb, *target;
    tables_err_t e = tag_target(q, &b, &tb, &target);
    if (e != TABLES_OK)
        return e;
    json_t *tags = json_object_get(target->doc, "tags");
    tables_reply(q, 200, json_pack("{s:o}", "tags", tags ? json_incref(tags) : json_object()));
    release2(&b, &tb);
    return TABLES_OK;
}
