/* tables/catalog.c: the table catalog as system records (layout and
 * atomicity rules: tables_int.h). Every change below is one store_sys_cas
 * batch; read-modify-write loops re-read on a lost race. */
#include "tables/tables_int.h"

#include "util/clock.h"
#include "util/codec.h"
#include "util/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_BUCKETS "tbuckets"
#define NS_BUCKET_IDS "tbid" /* bucket id -> name: "this incarnation still exists" */

void tables_ns_of(char *out, size_t cap, const char *kind, const char *bucket_id)
{
    snprintf(out, cap, "%s/%s", kind, bucket_id);
}

void tables_rec_release(tables_rec_t *r)
{
    if (r && r->doc) {
        json_decref(r->doc);
        r->doc = NULL;
    }
}

const char *tables_str(const json_t *doc, const char *key)
{
    return json_string_value(json_object_get(doc, key));
}

bool tables_is_managed(const json_t *doc) { return json_is_true(json_object_get(doc, "managed")); }

char *tables_doc_dump(arena_t *a, const json_t *doc, size_t *len)
{
    char *s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    if (!s)
        return NULL;
    *len = strlen(s);
    char *r = arena_memdup(a, s, *len);
    free(s);
    return r;
}

json_t *tables_json_time(int64_t ms)
{
    char iso[TIMEFMT_ISO_LEN];
    timefmt_iso8601_ms(ms, iso);
    return json_string(iso);
}

/* Reads and parses one record into out. missing: the error for absence. */
static tables_err_t rec_load(tables_t *t, arena_t *a, const char *ns, const char *name,
                             tables_err_t missing, tables_rec_t *out)
{
    memset(out, 0, sizeof *out);
    if (strlen(ns) >= sizeof out->ns || strlen(name) >= sizeof out->name)
        return missing;
    snprintf(out->ns, sizeof out->ns, "%s", ns);
    snprintf(out->name, sizeof out->name, "%s", name);
    char *doc;
    size_t len;
    store_rc_t rc = store_sys_get(t->st, a, ns, name, &doc, &len);
    if (rc == STORE_NOT_FOUND || rc == STORE_INVALID)
        return missing;
    if (rc != STORE_OK)
        return TABLES_ERR_INTERNAL;
    json_error_t je;
    out->doc = json_loadb(doc, len, 0, &je);
    if (!json_is_object(out->doc)) {
        tables_rec_release(out);
        return TABLES_ERR_INTERNAL; /* our own record does not decode */
    }
    out->raw = doc;
    out->len = len;
    return TABLES_OK;
}

tables_err_t tables_bucket_load(tables_t *t, arena_t *a, const char *name, tables_rec_t *out)
{
    return rec_load(t, a, NS_BUCKETS, name, TABLES_ERR_NO_BUCKET, out);
}

tables_err_t tables_namespace_load(tables_t *t, arena_t *a, const char *bucket_id,
                                   const char *ns, tables_rec_t *out)
{
    char sns[64 + TABLES_UUID_LEN];
    tables_ns_of(sns, sizeof sns, "tns", bucket_id);
    return rec_load(t, a, sns, ns, TABLES_ERR_NO_NAMESPACE, out);
}

tables_err_t tables_table_load(tables_t *t, arena_t *a, const char *bucket_id, const char *ns,
                               const char *name, tables_rec_t *out)
{
    char sns[64 + TABLES_UUID_LEN], key[2 * TABLES_NAME_MAX + 2];
    tables_ns_of(sns, sizeof sns, "ttab", bucket_id);
    snprintf(key, sizeof key, "%s/%s", ns, name);
    return rec_load(t, a, sns, key, TABLES_ERR_NO_TABLE, out);
}

tables_err_t tables_table_load_id(tables_t *t, arena_t *a, const char *bucket_id,
                                  const char *table_id, tables_rec_t *out)
{
    char sns[64 + TABLES_UUID_LEN], *key;
    size_t len;
    tables_ns_of(sns, sizeof sns, "tids", bucket_id);
    store_rc_t rc = store_sys_get(t->st, a, sns, table_id, &key, &len);
    memset(out, 0, sizeof *out);
    if (rc == STORE_NOT_FOUND || rc == STORE_INVALID)
        return TABLES_ERR_NO_TABLE;
    if (rc != STORE_OK)
        return TABLES_ERR_INTERNAL;
    tables_ns_of(sns, sizeof sns, "ttab", bucket_id);
    return rec_load(t, a, sns, key, TABLES_ERR_NO_TABLE, out);
}

tables_err_t tables_rec_edit(tables_t *t, arena_t *a, tables_rec_t *rec, tables_err_t missing,
                             tables_edit_fn fn, void *arg)
{
    for (unsigned attempt = 0; attempt < TABLES_RETRY_MAX; attempt++) {
        tables_err_t e = fn(rec->doc, arg);
        if (e != TABLES_OK)
            return e;
        size_t len;
        char *raw = tables_doc_dump(a, rec->doc, &len);
        if (!raw)
            return TABLES_ERR_INTERNAL;
        store_sys_op_t op = {.ns = rec->ns,
                             .name = rec->name,
                             .expect = STORE_SYS_EQUAL,
                             .expect_doc = rec->raw,
                             .expect_len = rec->len,
                             .action = STORE_SYS_WRITE,
                             .doc = raw,
                             .len = len};
        store_rc_t rc = store_sys_cas(t->st, &op, 1, NULL);
        if (rc == STORE_OK) {
            rec->raw = raw;
            rec->len = len;
            return TABLES_OK;
        }
        if (rc != STORE_CONFLICT)
            return tables_err_from_store(rc);
        /* Lost a race: edit the document as it is now. */
        char ns[sizeof rec->ns], name[sizeof rec->name];
        memcpy(ns, rec->ns, sizeof ns);
        memcpy(name, rec->name, sizeof name);
        tables_rec_release(rec);
        e = rec_load(t, a, ns, name, missing, rec);
        if (e != TABLES_OK)
            return e;
    }
    return TABLES_ERR_COMMIT_FAILED;
}

typedef struct {
    tables_list_cb cb;
    void *arg;
    bool bad;
} list_arg_t;

static bool list_one(void *arg, const char *name, const char *doc, size_t len)
{
    list_arg_t *l = arg;
    json_error_t je;
    json_t *d = json_loadb(doc, len, 0, &je);
    if (!json_is_object(d)) {
        json_decref(d);
        l->bad = true;
        return false;
    }
    bool more = l->cb(l->arg, name, d);
    json_decref(d);
    return more;
}

tables_err_t tables_rec_list(tables_t *t, arena_t *a, const char *ns, tables_list_cb cb,
                             void *arg)
{
    list_arg_t l = {cb, arg, false};
    store_rc_t rc = store_sys_list(t->st, a, ns, list_one, &l);
    if (rc != STORE_OK || l.bad)
        return TABLES_ERR_INTERNAL;
    return TABLES_OK;
}

/* ---- ARNs --------------------------------------------------------------- */

char *tables_bucket_arn(const tables_t *t, arena_t *a, const char *name)
{
    return arena_printf(a, "arn:aws:s3tables:%s:%s:bucket/%s", t->cfg->region, t->cfg->account_id,
                        name);
}

char *tables_table_arn(const tables_t *t, arena_t *a, const char *bucket, const char *table_id)
{
    return arena_printf(a, "arn:aws:s3tables:%s:%s:bucket/%s/table/%s", t->cfg->region,
                        t->cfg->account_id, bucket, table_id);
}

tables_err_t tables_resolve_arn(tables_t *t, arena_t *a, const char *arn, bool allow_bucket,
                                bool allow_table, tables_rec_t *bucket, tables_rec_t *table)
{
    tables_arn_t p;
    memset(bucket, 0, sizeof *bucket);
    if (table)
        memset(table, 0, sizeof *table);
    if (!tables_arn_parse(arn, allow_bucket, allow_table, &p))
        return TABLES_ERR_BAD_REQUEST;
    /* Another region or account cannot hold anything this server serves. */
    if (strcmp(p.region, t->cfg->region) != 0 || strcmp(p.account, t->cfg->account_id) != 0)
        return p.table_id[0] ? TABLES_ERR_NO_TABLE : TABLES_ERR_NO_BUCKET;
    tables_err_t e = tables_bucket_load(t, a, p.bucket, bucket);
    if (e != TABLES_OK || !p.table_id[0])
        return e;
    if (!table) {
        tables_rec_release(bucket);
        return TABLES_ERR_BAD_REQUEST;
    }
    e = tables_table_load_id(t, a, tables_str(bucket->doc, "id"), p.table_id, table);
    if (e != TABLES_OK)
        tables_rec_release(bucket);
    return e;
}

tables_err_t tables_resolve_bucket(tables_t *t, arena_t *a, const char *arn, tables_rec_t *out)
{
    return tables_resolve_arn(t, a, arn, true, false, out, NULL);
}

/* ---- create / delete ---------------------------------------------------- */

char *tables_files_bucket(arena_t *a, const char *bucket_id)
{
    return arena_printf(a, "%s" TABLES_WAREHOUSE_SUFFIX, bucket_id);
}

char *tables_warehouse(arena_t *a, const char *bucket_id, const char *table_id)
{
    return arena_printf(a, "s3://%s" TABLES_WAREHOUSE_SUFFIX "/%s", bucket_id, table_id);
}

static const char *caller_or_owner(const tables_t *t, const char *caller)
{
    return caller ? caller : t->cfg->account_id;
}

tables_err_t tables_bucket_create(tables_t *t, arena_t *a, const char *name, bool managed,
                                  json_t *extra, tables_rec_t *out)
{
    char id[TABLES_UUID_LEN + 1];
    tables_uuid(id);
    memset(out, 0, sizeof *out);
    json_t *doc = json_pack("{s:s,s:s,s:I,s:s,s:b}", "name", name, "id", id, "createdAt",
                            (json_int_t)clock_now_ms(), "type", managed ? "aws" : "customer",
                            "managed", managed);
    if (!doc)
        return TABLES_ERR_INTERNAL;
    if (extra)
        json_object_update(doc, extra);
    size_t len;
    char *raw = tables_doc_dump(a, doc, &len);
    char *files = tables_files_bucket(a, id);
    if (!raw || !files) {
        json_decref(doc);
        return TABLES_ERR_INTERNAL;
    }
    /* The files bucket first: a bucket record never names a missing one. A
     * lost create leaves it behind, so it is removed on every failure. */
    store_bucket_t sb = {.name = files, .region = t->cfg->region, .created_ms = clock_now_ms()};
    store_rc_t rc = store_bucket_create(t->st, &sb);
    if (rc != STORE_OK) {
        json_decref(doc);
        return tables_err_from_store(rc);
    }
    store_sys_op_t ops[] = {
        {.ns = NS_BUCKETS, .name = name, .expect = STORE_SYS_ABSENT, .action = STORE_SYS_WRITE,
         .doc = raw, .len = len},
        {.ns = NS_BUCKET_IDS, .name = id, .expect = STORE_SYS_ABSENT, .action = STORE_SYS_WRITE,
         .doc = name, .len = strlen(name)},
    };
    rc = store_sys_cas(t->st, ops, 2, NULL);
    if (rc != STORE_OK) {
        json_decref(doc);
        (void)store_bucket_delete(t->st, files);
        return rc == STORE_CONFLICT ? TABLES_ERR_BUCKET_EXISTS : tables_err_from_store(rc);
    }
    out->doc = doc;
    out->raw = raw;
    out->len = len;
    snprintf(out->ns, sizeof out->ns, NS_BUCKETS);
    snprintf(out->name, sizeof out->name, "%s", name);
    return TABLES_OK;
}

tables_err_t tables_bucket_delete(tables_t *t, arena_t *a, const tables_rec_t *bucket)
{
    const char *id = tables_str(bucket->doc, "id");
    char nsn[64 + TABLES_UUID_LEN], tab[64 + TABLES_UUID_LEN];
    tables_ns_of(nsn, sizeof nsn, "tns", id);
    tables_ns_of(tab, sizeof tab, "ttab", id);
    store_sys_op_t ops[] = {
        {.ns = nsn, .name = "", .expect = STORE_SYS_NO_PREFIX},
        {.ns = tab, .name = "", .expect = STORE_SYS_NO_PREFIX},
        {.ns = NS_BUCKET_IDS, .name = id, .expect = STORE_SYS_PRESENT,
         .action = STORE_SYS_DELETE},
        {.ns = NS_BUCKETS, .name = bucket->name, .expect = STORE_SYS_PRESENT,
         .action = STORE_SYS_DELETE},
    };
    size_t failed = 0;
    store_rc_t rc = store_sys_cas(t->st, ops, 4, &failed);
    if (rc == STORE_CONFLICT)
        return failed < 2 ? TABLES_ERR_BUCKET_NOT_EMPTY : TABLES_ERR_NO_BUCKET;
    if (rc != STORE_OK)
        return tables_err_from_store(rc);
    /* The record is gone; leftover files (written through S3 outside any
     * table) go with their bucket. A failure here leaves an unreachable
     * internal bucket, not a broken catalog. */
    tables_files_purge(t, a, id, NULL);
    (void)store_bucket_delete(t->st, tables_files_bucket(a, id));
    return TABLES_OK;
}

tables_err_t tables_namespace_create(tables_t *t, arena_t *a, const tables_rec_t *bucket,
                                     const char *ns, const char *caller, tables_rec_t *out)
{
    const char *bid = tables_str(bucket->doc, "id");
    char id[TABLES_UUID_LEN + 1], sns[64 + TABLES_UUID_LEN];
    tables_uuid(id);
    tables_ns_of(sns, sizeof sns, "tns", bid);
    memset(out, 0, sizeof *out);
    json_t *doc = json_pack("{s:s,s:s,s:I,s:s}", "name", ns, "id", id, "createdAt",
                            (json_int_t)clock_now_ms(), "createdBy", caller_or_owner(t, caller));
    size_t len;
    char *raw = doc ? tables_doc_dump(a, doc, &len) : NULL;
    if (!raw) {
        json_decref(doc);
        return TABLES_ERR_INTERNAL;
    }
    store_sys_op_t ops[] = {
        {.ns = NS_BUCKET_IDS, .name = bid, .expect = STORE_SYS_PRESENT},
        {.ns = sns, .name = ns, .expect = STORE_SYS_ABSENT, .action = STORE_SYS_WRITE,
         .doc = raw, .len = len},
    };
    size_t failed = 0;
    store_rc_t rc = store_sys_cas(t->st, ops, 2, &failed);
    if (rc != STORE_OK) {
        json_decref(doc);
        if (rc == STORE_CONFLICT)
            return failed == 0 ? TABLES_ERR_NO_BUCKET : TABLES_ERR_NAMESPACE_EXISTS;
        return tables_err_from_store(rc);
    }
    out->doc = doc;
    out->raw = raw;
    out->len = len;
    snprintf(out->ns, sizeof out->ns, "%s", sns);
    snprintf(out->name, sizeof out->name, "%s", ns);
    return TABLES_OK;
}

tables_err_t tables_namespace_delete(tables_t *t, const tables_rec_t *bucket,
                                     const tables_rec_t *ns)
{
    const char *bid = tables_str(bucket->doc, "id");
    char tab[64 + TABLES_UUID_LEN], prefix[sizeof ns->name + 1];
    tables_ns_of(tab, sizeof tab, "ttab", bid);
    snprintf(prefix, sizeof prefix, "%s/", ns->name);
    store_sys_op_t ops[] = {
        {.ns = tab, .name = prefix, .expect = STORE_SYS_NO_PREFIX},
        {.ns = ns->ns, .name = ns->name, .expect = STORE_SYS_PRESENT,
         .action = STORE_SYS_DELETE},
    };
    size_t failed = 0;
    store_rc_t rc = store_sys_cas(t->st, ops, 2, &failed);
    if (rc == STORE_CONFLICT)
        return failed == 0 ? TABLES_ERR_NAMESPACE_NOT_EMPTY : TABLES_ERR_NO_NAMESPACE;
    return tables_err_from_store(rc);
}

tables_err_t tables_table_create(tables_t *t, arena_t *a, const tables_rec_t *bucket,
                                 const tables_rec_t *ns, const char *name, const char *caller,
                                 json_t *extra, tables_rec_t *out)
{
    const char *bid = tables_str(bucket->doc, "id");
    char id[TABLES_UUID_LEN + 1], token[21], tab[64 + TABLES_UUID_LEN], ids[64 + TABLES_UUID_LEN];
    const char *xid = extra ? tables_str(extra, "id") : NULL; /* chosen by the caller */
    if (xid && strlen(xid) == TABLES_UUID_LEN)
        memcpy(id, xid, sizeof id);
    else
        tables_uuid(id);
    codec_random_hex(10, token);
    tables_ns_of(tab, sizeof tab, "ttab", bid);
    tables_ns_of(ids, sizeof ids, "tids", bid);
    char *key = arena_printf(a, "%s/%s", ns->name, name);
    char *wh = tables_warehouse(a, bid, id);
    memset(out, 0, sizeof *out);
    if (!key || !wh)
        return TABLES_ERR_INTERNAL;
    int64_t now = clock_now_ms();
    const char *who = caller_or_owner(t, caller);
    bool managed = tables_is_managed(bucket->doc);
    json_t *doc = json_pack(
        "{s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "name", name, "namespace",
        ns->name, "namespaceId", tables_str(ns->doc, "id"), "id", id, "createdAt",
        (json_int_t)now, "modifiedAt", (json_int_t)now, "createdBy", who, "modifiedBy", who,
        "versionToken", token, "warehouseLocation", wh, "type", managed ? "aws" : "customer",
        "format", "ICEBERG", "managed", managed);
    if (!doc)
        return TABLES_ERR_INTERNAL;
    if (extra)
        json_object_update(doc, extra);
    size_t len;
    char *raw = tables_doc_dump(a, doc, &len);
    if (!raw || strlen(key) > STORE_SYS_NAME_MAX) {
        json_decref(doc);
        return raw ? TABLES_ERR_BAD_REQUEST : TABLES_ERR_INTERNAL;
    }
    store_sys_op_t ops[] = {
        {.ns = ns->ns, .name = ns->name, .expect = STORE_SYS_EQUAL, .expect_doc = ns->raw,
         .expect_len = ns->len},
        {.ns = tab, .name = key, .expect = STORE_SYS_ABSENT, .action = STORE_SYS_WRITE,
         .doc = raw, .len = len},
        {.ns = ids, .name = id, .expect = STORE_SYS_ABSENT, .action = STORE_SYS_WRITE,
         .doc = key, .len = strlen(key)},
    };
    size_t failed = 0;
    store_rc_t rc = store_sys_cas(t->st, ops, 3, &failed);
    if (rc != STORE_OK) {
        json_decref(doc);
        if (rc == STORE_CONFLICT)
            return failed == 0 ? TABLES_ERR_NO_NAMESPACE : TABLES_ERR_TABLE_EXISTS;
        return tables_err_from_store(rc);
    }
    out->doc = doc;
    out->raw = raw;
    out->len = len;
    snprintf(out->ns, sizeof out->ns, "%s", tab);
    snprintf(out->name, sizeof out->name, "%s", key);
    return TABLES_OK;
}

/* Re-reads a table record after a lost CAS; NO_TABLE if it went away. */
static tables_err_t table_reload(tables_t *t, arena_t *a, tables_rec_t *table)
{
    char ns[sizeof table->ns], name[sizeof table->name];
    memcpy(ns, table->ns, sizeof ns);
    memcpy(name, table->name, sizeof name);
    tables_rec_release(table);
    return rec_load(t, a, ns, name, TABLES_ERR_NO_TABLE, table);
}

static bool token_matches(const json_t *doc, const char *token)
{
    const char *cur = tables_str(doc, "versionToken");
    return !token || (cur && strcmp(cur, token) == 0);
}

tables_err_t tables_table_delete(tables_t *t, arena_t *a, const tables_rec_t *bucket,
                                 const tables_rec_t *table, const char *version_token)
{
    const char *bid = tables_str(bucket->doc, "id");
    char ids[64 + TABLES_UUID_LEN];
    tables_ns_of(ids, sizeof ids, "tids", bid);
    tables_rec_t cur = *table;
    cur.doc = json_incref(table->doc);
    tables_err_t e = TABLES_ERR_COMMIT_FAILED;
    for (unsigned attempt = 0; attempt < TABLES_RETRY_MAX; attempt++) {
        if (!token_matches(cur.doc, version_token)) {
            e = TABLES_ERR_STALE_TOKEN;
            break;
        }
        store_sys_op_t ops[] = {
            {.ns = cur.ns, .name = cur.name, .expect = STORE_SYS_EQUAL, .expect_doc = cur.raw,
             .expect_len = cur.len, .action = STORE_SYS_DELETE},
            {.ns = ids, .name = tables_str(cur.doc, "id"), .action = STORE_SYS_DELETE},
        };
        store_rc_t rc = store_sys_cas(t->st, ops, 2, NULL);
        if (rc == STORE_OK) {
            tables_files_purge(t, a, bid, tables_str(cur.doc, "id"));
            e = TABLES_OK;
            break;
        }
        if (rc != STORE_CONFLICT) {
            e = tables_err_from_store(rc);
            break;
        }
        if ((e = table_reload(t, a, &cur)) != TABLES_OK)
            break;
        e = TABLES_ERR_COMMIT_FAILED;
    }
    tables_rec_release(&cur);
    return e;
}

tables_err_t tables_table_rename(tables_t *t, arena_t *a, const tables_rec_t *bucket,
                                 tables_rec_t *table, const char *new_ns, const char *new_name,
                                 const char *version_token)
{
    const char *bid = tables_str(bucket->doc, "id");
    char nsn[64 + TABLES_UUID_LEN], ids[64 + TABLES_UUID_LEN];
    tables_ns_of(nsn, sizeof nsn, "tns", bid);
    tables_ns_of(ids, sizeof ids, "tids", bid);
    for (unsigned attempt = 0; attempt < TABLES_RETRY_MAX; attempt++) {
        if (!token_matches(table->doc, version_token))
            return TABLES_ERR_STALE_TOKEN;
        const char *ns = new_ns ? new_ns : tables_str(table->doc, "namespace");
        const char *name = new_name ? new_name : tables_str(table->doc, "name");
        char *key = arena_printf(a, "%s/%s", ns, name);
        if (!key)
            return TABLES_ERR_INTERNAL;
        if (strcmp(key, table->name) == 0)
            return TABLES_OK; /* same place: nothing to do */
        tables_rec_t nsrec;
        tables_err_t e = tables_namespace_load(t, a, bid, ns, &nsrec);
        if (e != TABLES_OK)
            return e;
        json_t *doc = json_deep_copy(table->doc);
        json_object_set_new(doc, "namespace", json_string(ns));
        json_object_set_new(doc, "namespaceId", json_string(tables_str(nsrec.doc, "id")));
        json_object_set_new(doc, "name", json_string(name));
        json_object_set_new(doc, "modifiedAt", json_integer(clock_now_ms()));
        tables_rec_release(&nsrec);
        size_t len;
        char *raw = tables_doc_dump(a, doc, &len);
        json_decref(doc);
        if (!raw)
            return TABLES_ERR_INTERNAL;
        store_sys_op_t ops[] = {
            {.ns = nsn, .name = ns, .expect = STORE_SYS_PRESENT},
            {.ns = table->ns, .name = key, .expect = STORE_SYS_ABSENT, .action = STORE_SYS_WRITE,
             .doc = raw, .len = len},
            {.ns = table->ns, .name = table->name, .expect = STORE_SYS_EQUAL,
             .expect_doc = table->raw, .expect_len = table->len, .action = STORE_SYS_DELETE},
            {.ns = ids, .name = tables_str(table->doc, "id"), .action = STORE_SYS_WRITE,
             .doc = key, .len = strlen(key)},
        };
        size_t failed = 0;
        store_rc_t rc = store_sys_cas(t->st, ops, 4, &failed);
        if (rc == STORE_OK)
            return TABLES_OK;
        if (rc != STORE_CONFLICT)
            return tables_err_from_store(rc);
        if (failed == 0)
            return TABLES_ERR_NO_NAMESPACE;
        if (failed == 1)
            return TABLES_ERR_TABLE_EXISTS;
        if ((e = table_reload(t, a, table)) != TABLES_OK)
            return e;
    }
    return TABLES_ERR_COMMIT_FAILED;
}

bool tables_location_ok(const json_t *table, const char *location)
{
    const char *wh = tables_str(table, "warehouseLocation");
    size_t n = strnlen(location, TABLES_LOCATION_MAX + 1), w = wh ? strlen(wh) : 0;
    if (!wh || n > TABLES_LOCATION_MAX || n <= w + 1 || strncmp(location, wh, w) != 0 ||
        location[w] != '/')
        return false;
    if (strstr(location + w, "/../") || strstr(location + w, "//"))
        return false;
    static const char *const sfx[] = {".metadata.json", ".metadata.json.gz"};
    for (size_t i = 0; i < 2; i++) {
        size_t m = strlen(sfx[i]);
        if (n > m && strcmp(location + n - m, sfx[i]) == 0)
            return true;
    }
    return false;
}

tables_err_t tables_table_set_location(tables_t *t, arena_t *a, tables_rec_t *table,
                                       const char *version_token, const char *location,
                                       const char *caller)
{
    /* Callers often pass the token of table->doc itself, which a reload
     * after a lost CAS frees. */
    if (version_token && !(version_token = arena_strdup(a, version_token)))
        return TABLES_ERR_INTERNAL;
    for (unsigned attempt = 0; attempt < TABLES_RETRY_MAX; attempt++) {
        if (!token_matches(table->doc, version_token))
            return TABLES_ERR_STALE_TOKEN;
        char token[21];
        codec_random_hex(10, token);
        json_t *doc = json_deep_copy(table->doc);
        json_object_set_new(doc, "metadataLocation", json_string(location));
        json_object_set_new(doc, "versionToken", json_string(token));
        json_object_set_new(doc, "modifiedAt", json_integer(clock_now_ms()));
        json_object_set_new(doc, "modifiedBy", json_string(caller_or_owner(t, caller)));
        size_t len;
        char *raw = tables_doc_dump(a, doc, &len);
        if (!raw) {
            json_decref(doc);
            return TABLES_ERR_INTERNAL;
        }
        store_sys_op_t op = {.ns = table->ns, .name = table->name, .expect = STORE_SYS_EQUAL,
                             .expect_doc = table->raw, .expect_len = table->len,
                             .action = STORE_SYS_WRITE, .doc = raw, .len = len};
        store_rc_t rc = store_sys_cas(t->st, &op, 1, NULL);
        if (rc == STORE_OK) {
            tables_rec_release(table);
            table->doc = doc;
            table->raw = raw;
            table->len = len;
            return TABLES_OK;
        }
        json_decref(doc);
        if (rc != STORE_CONFLICT)
            return tables_err_from_store(rc);
        tables_err_t e = table_reload(t, a, table);
        if (e != TABLES_OK)
            return e;
    }
    return TABLES_ERR_COMMIT_FAILED;
}

/* ---- files -------------------------------------------------------------- */

typedef struct {
    arena_t *a;
    char **keys;
    size_t n, cap;
    bool nomem;
} keys_t;

static store_iter_rc_t collect_key(void *arg, const store_object_t *o, buf_t *skip)
{
    (void)skip;
    keys_t *k = arg;
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 256;
        char **nk = arena_alloc(k->a, cap * sizeof *nk);
        if (!nk) {
            k->nomem = true;
            return STORE_ITER_STOP;
        }
        if (k->n)
            memcpy(nk, k->keys, k->n * sizeof *nk);
        k->keys = nk;
        k->cap = cap;
    }
    k->keys[k->n] = arena_strndup(k->a, o->key, o->key_len);
    if (!k->keys[k->n])
        k->nomem = true;
    k->n++;
    return k->nomem ? STORE_ITER_STOP : STORE_ITER_NEXT;
}

void tables_files_purge(tables_t *t, arena_t *a, const char *bucket_id, const char *table_id)
{
    char *bucket = tables_files_bucket(a, bucket_id);
    char *prefix = table_id ? arena_printf(a, "%s/", table_id) : arena_strdup(a, "");
    if (!bucket || !prefix)
        return;
    keys_t k = {.a = a};
    if (store_object_list(t->st, a, bucket, prefix, NULL, 0, collect_key, &k) != STORE_OK)
        return;
    int64_t now = clock_now_ms();
    for (size_t i = 0; i < k.n; i++)
        if (k.keys[i])
            (void)store_object_delete(t->st, a, bucket, k.keys[i], strlen(k.keys[i]), NULL, true,
                                      now, NULL);
}

/* ---- info for other rooms ------------------------------------------------- */

void tables_info_fill(tables_t *t, arena_t *a, const tables_rec_t *bucket,
                      const tables_rec_t *table, tables_table_info_t *out)
{
    const char *bname = tables_str(bucket->doc, "name");
    out->table_bucket_arn = tables_bucket_arn(t, a, bname);
    out->table_id = arena_strdup(a, tables_str(table->doc, "id"));
    out->table_arn = tables_table_arn(t, a, bname, out->table_id);
    out->namespace_name = arena_strdup(a, tables_str(table->doc, "namespace"));
    out->name = arena_strdup(a, tables_str(table->doc, "name"));
    out->version_token = arena_strdup(a, tables_str(table->doc, "versionToken"));
    const char *ml = tables_str(table->doc, "metadataLocation");
    out->metadata_location = ml ? arena_strdup(a, ml) : NULL;
    out->warehouse_location = arena_strdup(a, tables_str(table->doc, "warehouseLocation"));
}

tables_err_t tables_table_info(tables_t *t, arena_t *a, const char *bucket, const char *ns,
                               const char *table, tables_table_info_t *out)
{
    tables_rec_t b, n, tb;
    tables_err_t e = tables_bucket_load(t, a, bucket, &b);
    if (e != TABLES_OK)
        return e;
    const char *bid = tables_str(b.doc, "id");
    e = tables_namespace_load(t, a, bid, ns, &n);
    if (e == TABLES_OK) {
        tables_rec_release(&n);
        e = tables_table_load(t, a, bid, ns, table, &tb);
        if (e == TABLES_OK) {
            tables_info_fill(t, a, &b, &tb, out);
            tables_rec_release(&tb);
        }
    }
    tables_rec_release(&b);
    return e;
}

tables_err_t tables_table_swap(tables_t *t, arena_t *a, const char *bucket, const char *ns,
                               const char *table, const char *version_token,
                               const char *metadata_location, tables_table_info_t *out)
{
    tables_rec_t b, tb;
    tables_err_t e = tables_bucket_load(t, a, bucket, &b);
    if (e != TABLES_OK)
        return e;
    e = tables_table_load(t, a, tables_str(b.doc, "id"), ns, table, &tb);
    if (e == TABLES_OK) {
        if (!tables_location_ok(tb.doc, metadata_location))
            e = TABLES_ERR_BAD_REQUEST;
        else
            e = tables_table_set_location(t, a, &tb, version_token, metadata_location, NULL);
        if (e == TABLES_OK && out)
            tables_info_fill(t, a, &b, &tb, out);
        tables_rec_release(&tb);
    }
    tables_rec_release(&b);
    return e;
}

tables_err_t tables_managed_table_ensure(tables_t *t, arena_t *a, const char *bucket,
                                         const char *ns, const char *table,
                                         tables_table_info_t *out)
{
    if (!tables_lookup_name_ok(bucket, TABLES_BUCKET_NAME_MIN, TABLES_BUCKET_NAME_MAX) ||
        !tables_lookup_name_ok(ns, 1, TABLES_NAME_MAX) ||
        !tables_lookup_name_ok(table, 1, TABLES_NAME_MAX))
        return TABLES_ERR_BAD_REQUEST;
    tables_rec_t b = {0}, n = {0}, tb = {0};
    tables_err_t e = tables_bucket_load(t, a, bucket, &b);
    if (e == TABLES_ERR_NO_BUCKET) {
        e = tables_bucket_create(t, a, bucket, true, NULL, &b);
        if (e == TABLES_ERR_BUCKET_EXISTS) /* a racing ensure won */
            e = tables_bucket_load(t, a, bucket, &b);
    }
    if (e != TABLES_OK)
        goto fail;
    const char *bid = tables_str(b.doc, "id");
    e = tables_namespace_load(t, a, bid, ns, &n);
    if (e == TABLES_ERR_NO_NAMESPACE) {
        e = tables_namespace_create(t, a, &b, ns, NULL, &n);
        if (e == TABLES_ERR_NAMESPACE_EXISTS)
            e = tables_namespace_load(t, a, bid, ns, &n);
    }
    if (e != TABLES_OK)
        goto fail;
    e = tables_table_load(t, a, bid, ns, table, &tb);
    if (e == TABLES_ERR_NO_TABLE) {
        e = tables_table_create(t, a, &b, &n, table, NULL, NULL, &tb);
        if (e == TABLES_ERR_TABLE_EXISTS)
            e = tables_table_load(t, a, bid, ns, table, &tb);
    }
    if (e != TABLES_OK)
        goto fail;
    if (out)
        tables_info_fill(t, a, &b, &tb, out);
fail:
    tables_rec_release(&tb);
    tables_rec_release(&n);
    tables_rec_release(&b);
    return e;
}

typedef struct {
    arena_t *a;
    const char **names;
    size_t n, cap;
    const char *prefix; /* tables: "<ns>/" */
} names_t;

static bool names_cb(void *arg, const char *name, json_t *doc)
{
    (void)doc;
    names_t *l = arg;
    size_t pl = l->prefix ? strlen(l->prefix) : 0;
    if (pl && strncmp(name, l->prefix, pl) != 0)
        return true;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        const char **nn = arena_alloc(l->a, cap * sizeof *nn);
        if (!nn)
            return false;
        if (l->n)
            memcpy(nn, l->names, l->n * sizeof *nn);
        l->names = nn;
        l->cap = cap;
    }
    l->names[l->n++] = arena_strdup(l->a, name + pl);
    return true;
}

tables_err_t tables_names(tables_t *t, arena_t *a, int kind, const char *bucket, const char *ns,
                          const char ***names, size_t *n)
{
    names_t l = {.a = a};
    char sns[64 + TABLES_UUID_LEN];
    tables_err_t e = TABLES_OK;
    if (kind == 0) {
        e = tables_rec_list(t, a, NS_BUCKETS, names_cb, &l);
    } else {
        tables_rec_t b = {0};
        if ((e = tables_bucket_load(t, a, bucket, &b)) != TABLES_OK)
            return e;
        tables_ns_of(sns, sizeof sns, kind == 1 ? "tns" : "ttab", tables_str(b.doc, "id"));
        tables_rec_release(&b);
        if (kind == 2)
            l.prefix = arena_printf(a, "%s/", ns ? ns : "");
        e = tables_rec_list(t, a, sns, names_cb, &l);
    }
    *names = l.names;
    *n = l.n;
    return e;
}

tables_err_t tables_table_create_empty(tables_t *t, arena_t *a, const char *bucket,
                                       const char *ns, const char *table,
                                       const char *caller_account, tables_table_info_t *out)
{
    if (!tables_table_name_ok(table))
        return TABLES_ERR_BAD_REQUEST;
    tables_rec_t b = {0}, n = {0}, tb = {0};
    tables_err_t e = tables_bucket_load(t, a, bucket, &b);
    if (e != TABLES_OK)
        return e;
    if (tables_is_managed(b.doc)) {
        tables_rec_release(&b);
        return TABLES_ERR_MANAGED;
    }
    e = tables_namespace_load(t, a, tables_str(b.doc, "id"), ns, &n);
    if (e == TABLES_OK)
        e = tables_table_create(t, a, &b, &n, table, caller_account, NULL, &tb);
    if (e == TABLES_OK)
        tables_info_fill(t, a, &b, &tb, out);
    tables_rec_release(&tb);
    tables_rec_release(&n);
    tables_rec_release(&b);
    return e;
}
