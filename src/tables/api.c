/* tables/api.c: S3 Tables operations on table buckets and namespaces, the
 * route table of all 49 operations, and the member checks they share
 * (s3tables-api §3.1, §3.2; botocore s3tables 2018-05-10 model). */
#include "tables/tables_int.h"

#include "auth/policy.h"

#include "util/codec.h"
#include "util/parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared checks -------------------------------------------------------- */

tables_err_t tables_check_encryption(tables_req_t *q, const json_t *v)
{
    const char *alg = json_string_value(json_object_get(v, "sseAlgorithm"));
    const json_t *k = json_object_get(v, "kmsKeyArn");
    if (!json_is_object(v) || !alg)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "encryptionConfiguration.sseAlgorithm is "
                                                      "required.");
    if (strcmp(alg, "AES256") == 0) {
        if (k)
            return tables_fail(q, TABLES_ERR_BAD_REQUEST,
                               "kmsKeyArn is allowed only with sseAlgorithm aws:kms.");
        return TABLES_OK;
    }
    if (strcmp(alg, "aws:kms") != 0)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid sseAlgorithm: %.64s", alg);
    const char *arn = json_string_value(k);
    /* arn:aws[-a-z0-9]*:kms:[-a-z0-9]*:[0-9]{12}:key/.+ */
    const char *p = arn ? strstr(arn, ":kms:") : NULL;
    const char *acct = p ? strchr(p + 5, ':') : NULL;
    if (!arn || strlen(arn) > TABLES_ARN_MAX || strncmp(arn, "arn:aws", 7) != 0 || !acct ||
        strspn(acct + 1, "0123456789") != 12 || strncmp(acct + 13, ":key/", 5) != 0 ||
        !acct[18])
        return tables_fail(q, TABLES_ERR_BAD_REQUEST,
                           "sseAlgorithm aws:kms requires a valid kmsKeyArn.");
    return TABLES_OK;
}

tables_err_t tables_check_storage_class(tables_req_t *q, const json_t *v)
{
    const char *sc = json_string_value(json_object_get(v, "storageClass"));
    if (!sc || (strcmp(sc, "STANDARD") != 0 && strcmp(sc, "INTELLIGENT_TIERING") != 0))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST,
                           "storageClass must be STANDARD or INTELLIGENT_TIERING.");
    return TABLES_OK;
}

tables_err_t tables_check_tags(tables_req_t *q, const json_t *v)
{
    if (!json_is_object(v) || json_object_size(v) > TABLES_TAGS_MAX)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "tags must be a map of at most %d tags.",
                           TABLES_TAGS_MAX);
    const char *k;
    const json_t *val;
    json_object_foreach((json_t *)(uintptr_t)v, k, val)
    {
        size_t kl = strlen(k);
        const char *s = json_string_value(val);
        if (kl < 1 || kl > TABLES_TAG_KEY_MAX || !s || strlen(s) > TABLES_TAG_VALUE_MAX)
            return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid tag key or value.");
        if (strncmp(k, "aws:", 4) == 0)
            return tables_fail(q, TABLES_ERR_BAD_REQUEST,
                               "Tag keys starting with aws: are reserved.");
    }
    return TABLES_OK;
}

tables_err_t tables_create_extras(tables_req_t *q, json_t **extra)
{
    static const struct {
        const char *member, *key;
        tables_err_t (*check)(tables_req_t *, const json_t *);
    } opt[] = {{"encryptionConfiguration", "encryption", tables_check_encryption},
               {"storageClassConfiguration", "storageClass", tables_check_storage_class},
               {"tags", "tags", tables_check_tags}};
    *extra = json_object();
    if (!*extra)
        return tables_fail(q, TABLES_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i++) {
        json_t *v = json_object_get(q->json, opt[i].member);
        if (!v || json_is_null(v))
            continue;
        tables_err_t e = opt[i].check(q, v);
        if (e != TABLES_OK) {
            json_decref(*extra);
            *extra = NULL;
            return e;
        }
        json_object_set(*extra, opt[i].key, v);
    }
    return TABLES_OK;
}

/* The policy is stored as given; evaluation of s3tables:* actions against it
 * comes with the policy engine (auth/policy.h), so here it is only checked
 * to be a JSON policy document within the model's size. */
tables_err_t tables_check_policy(tables_req_t *q, const json_t *v)
{
    const char *s = json_string_value(v);
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > TABLES_POLICY_MAX_BYTES)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST,
                           "resourcePolicy must be 1 to %d characters.", TABLES_POLICY_MAX_BYTES);
    json_error_t je;
    json_t *doc = json_loadb(s, n, JSON_REJECT_DUPLICATES, &je);
    bool ok = json_is_object(doc) && json_object_get(doc, "Statement");
    json_decref(doc);
    if (!ok)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST,
                           "resourcePolicy is not a valid policy document.");
    return TABLES_OK;
}

/* ---- request helpers ------------------------------------------------------ */

tables_err_t tables_req_bucket(tables_req_t *q, const char *arn, tables_rec_t *b)
{
    tables_err_t e = tables_resolve_bucket(q->t, q->a, arn, b);
    if (e == TABLES_ERR_BAD_REQUEST)
        return tables_fail(q, e, "Invalid table bucket ARN.");
    return e;
}

tables_err_t tables_req_table(tables_req_t *q, const char *arn, const char *ns, const char *name,
                              tables_rec_t *b, tables_rec_t *tb)
{
    memset(tb, 0, sizeof *tb);
    if (!tables_lookup_name_ok(ns, 1, TABLES_NAME_MAX))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid namespace name.");
    if (!tables_lookup_name_ok(name, 1, TABLES_NAME_MAX))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid table name.");
    tables_err_t e = tables_req_bucket(q, arn, b);
    if (e != TABLES_OK)
        return e;
    e = tables_table_load(q->t, q->a, tables_str(b->doc, "id"), ns, name, tb);
    if (e != TABLES_OK)
        tables_rec_release(b);
    return e;
}

tables_err_t tables_param_int(tables_req_t *q, const char *name, uint64_t min, uint64_t max,
                              uint64_t def, uint64_t *out)
{
    const char *v = http_param_value(q->r, name);
    *out = def;
    if (!v)
        return TABLES_OK;
    if (parse_u64_str(v, max, out) != PARSE_OK || *out < min)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "%s must be between %llu and %llu.", name,
                           (unsigned long long)min, (unsigned long long)max);
    return TABLES_OK;
}

/* Continuation tokens are the hex of the last name returned. */
tables_err_t tables_page_start(tables_req_t *q, char **after)
{
    const char *tok = http_param_value(q->r, "continuationToken");
    *after = NULL;
    if (!tok)
        return TABLES_OK;
    size_t n = strlen(tok);
    if (n == 0 || n % 2 || n > TABLES_LOCATION_MAX)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid continuationToken.");
    uint8_t *raw = arena_alloc(q->a, n / 2 + 1);
    if (!raw || !codec_unhex(tok, n, raw) || memchr(raw, '\0', n / 2))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid continuationToken.");
    *after = (char *)raw;
    return TABLES_OK;
}

json_t *tables_page_token(arena_t *a, const char *last)
{
    size_t n = strlen(last);
    char *hex = arena_alloc(a, 2 * n + 1);
    if (!hex)
        return NULL;
    codec_hex(last, n, hex);
    return json_string(hex);
}

tables_err_t tables_prefix_param(tables_req_t *q, size_t max, const char **out)
{
    *out = http_param_value(q->r, "prefix");
    if (*out && (strlen(*out) < 1 || strlen(*out) > max))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "prefix must be 1 to %zu characters.", max);
    return TABLES_OK;
}

/* Sets (v != NULL, stolen) or removes a top-level member of a document. */
typedef struct {
    const char *key;
    json_t *v;
    bool must_exist; /* removal of an absent member is NO_CONFIG */
} set_member_t;

static tables_err_t edit_member(json_t *doc, void *arg)
{
    set_member_t *s = arg;
    if (s->v)
        return json_object_set(doc, s->key, s->v) == 0 ? TABLES_OK : TABLES_ERR_INTERNAL;
    if (!json_object_get(doc, s->key))
        return s->must_exist ? TABLES_ERR_NO_CONFIG : TABLES_OK;
    json_object_del(doc, s->key);
    return TABLES_OK;
}

tables_err_t tables_set_member(tables_req_t *q, tables_rec_t *rec, tables_err_t missing,
                               const char *key, json_t *v, bool must_exist)
{
    set_member_t s = {key, v, must_exist};
    tables_err_t e = tables_rec_edit(q->t, q->a, rec, missing, edit_member, &s);
    json_decref(v);
    return e;
}

/* ---- table buckets ------------------------------------------------------- */

static json_t *bucket_summary(tables_req_t *q, const json_t *doc)
{
    const char *name = tables_str(doc, "name");
    return json_pack("{s:s,s:s,s:s,s:o,s:s,s:s}", "arn", tables_bucket_arn(q->t, q->a, name),
                     "name", name, "ownerAccountId", q->t->cfg->account_id, "createdAt",
                     tables_json_time(json_integer_value(json_object_get(doc, "createdAt"))),
                     "tableBucketId", tables_str(doc, "id"), "type", tables_str(doc, "type"));
}

static tables_err_t op_create_table_bucket(tables_req_t *q)
{
    tables_err_t e = tables_req_json(q);
    if (e != TABLES_OK)
        return e;
    const char *name = json_string_value(json_object_get(q->json, "name"));
    if (!name)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "name is required.");
    if (!tables_bucket_name_ok(name))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid table bucket name.");
    json_t *extra;
    if ((e = tables_create_extras(q, &extra)) != TABLES_OK)
        return e;
    tables_rec_t b;
    e = tables_bucket_create(q->t, q->a, name, false, extra, &b);
    json_decref(extra);
    if (e != TABLES_OK)
        return e;
    tables_rec_release(&b);
    tables_reply(q, 200, json_pack("{s:s}", "arn", tables_bucket_arn(q->t, q->a, name)));
    return TABLES_OK;
}

static tables_err_t op_get_table_bucket(tables_req_t *q)
{
    tables_rec_t b;
    tables_err_t e = tables_req_bucket(q, q->seg[1], &b);
    if (e != TABLES_OK)
        return e;
    tables_reply(q, 200, bucket_summary(q, b.doc));
    tables_rec_release(&b);
    return TABLES_OK;
}

typedef struct {
    tables_req_t *q;
    const char *prefix, *after, *type;
    uint64_t max;
    json_t *items;
    const char *last;
    bool more;
} list_state_t;

static bool list_bucket_one(void *arg, const char *name, json_t *doc)
{
    list_state_t *l = arg;
    if (l->after && strcmp(name, l->after) <= 0)
        return true;
    if (l->prefix && strncmp(name, l->prefix, strlen(l->prefix)) != 0)
        return true;
    if (l->type && strcmp(l->type, tables_str(doc, "type") ? tables_str(doc, "type") : "") != 0)
        return true;
    if (json_array_size(l->items) == l->max) {
        l->more = true;
        return false;
    }
    json_array_append_new(l->items, bucket_summary(l->q, doc));
    l->last = arena_strdup(l->q->a, name);
    return true;
}

static tables_err_t op_list_table_buckets(tables_req_t *q)
{
    list_state_t l = {.q = q};
    char *after;
    tables_err_t e = tables_prefix_param(q, TABLES_BUCKET_NAME_MAX, &l.prefix);
    if (e == TABLES_OK)
        e = tables_param_int(q, "maxBuckets", 1, TABLES_LIST_MAX, TABLES_LIST_MAX, &l.max);
    if (e == TABLES_OK)
        e = tables_page_start(q, &after);
    if (e != TABLES_OK)
        return e;
    l.after = after;
    l.type = http_param_value(q->r, "type");
    if (l.type && strcmp(l.type, "customer") != 0 && strcmp(l.type, "aws") != 0)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "type must be customer or aws.");
    l.items = json_array();
    e = tables_rec_list(q->t, q->a, "tbuckets", list_bucket_one, &l);
    if (e != TABLES_OK) {
        json_decref(l.items);
        return e;
    }
    json_t *out = json_pack("{s:o}", "tableBuckets", l.items);
    if (l.more && l.last)
        json_object_set_new(out, "continuationToken", tables_page_token(q->a, l.last));
    tables_reply(q, 200, out);
    return TABLES_OK;
}

static tables_err_t op_delete_table_bucket(tables_req_t *q)
{
    tables_rec_t b;
    tables_err_t e = tables_req_bucket(q, q->seg[1], &b);
    if (e != TABLES_OK)
        return e;
    e = tables_bucket_delete(q->t, q->a, &b);
    tables_rec_release(&b);
    if (e != TABLES_OK)
        return e;
    tables_reply_empty(q, 204);
    return TABLES_OK;
}

/* Kinds of per-bucket documents that Put/Get/Delete the same way. */
typedef struct {
    const char *member; /* request/response member */
    const char *key;    /* document key */
    tables_err_t (*check)(tables_req_t *, const json_t *);
    const char *dflt;   /* JSON answered when never set; NULL: NotFound */
    unsigned put_status;
} bucket_conf_t;

static const bucket_conf_t conf_encryption = {"encryptionConfiguration", "encryption",
                                              tables_check_encryption,
                                              "{\"sseAlgorithm\":\"AES256\"}", 200};
static const bucket_conf_t conf_storage = {"storageClassConfiguration", "storageClass",
                                           tables_check_storage_class,
                                           "{\"storageClass\":\"STANDARD\"}", 200};
static const bucket_conf_t conf_policy = {"resourcePolicy", "policy", tables_check_policy, NULL,
                                          200};

/* Service-managed buckets are read-only for users (NOTES-ON-ISSUES 13). */
static tables_err_t bucket_for_change(tables_req_t *q, tables_rec_t *b)
{
    tables_err_t e = tables_req_bucket(q, q->seg[1], b);
    if (e == TABLES_OK && tables_is_managed(b->doc)) {
        tables_rec_release(b);
        return TABLES_ERR_MANAGED;
    }
    return e;
}

static tables_err_t bucket_conf_put(tables_req_t *q, const bucket_conf_t *c)
{
    tables_err_t e = tables_req_json(q);
    if (e != TABLES_OK)
        return e;
    json_t *v = json_object_get(q->json, c->member);
    if (!v)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "%s is required.", c->member);
    if ((e = c->check(q, v)) != TABLES_OK)
        return e;
    tables_rec_t b;
    if ((e = bucket_for_change(q, &b)) != TABLES_OK)
        return e;
    e = tables_set_member(q, &b, TABLES_ERR_NO_BUCKET, c->key, json_incref(v), false);
    tables_rec_release(&b);
    if (e != TABLES_OK)
        return e;
    tables_reply_empty(q, c->put_status);
    return TABLES_OK;
}

static tables_err_t bucket_conf_get(tables_req_t *q, const bucket_conf_t *c)
{
    tables_rec_t b;
    tables_err_t e = tables_req_bucket(q, q->seg[1], &b);
    if (e != TABLES_OK)
        return e;
    json_t *v = json_object_get(b.doc, c->key);
    json_error_t je;
    v = v ? json_incref(v) : c->dflt ? json_loads(c->dflt, 0, &je) : NULL;
    tables_rec_release(&b);
    if (!v)
        return TABLES_ERR_NO_CONFIG;
    json_t *out = json_object();
    json_object_set_new(out, c->member, v);
    tables_reply(q, 200, out);
    return TABLES_OK;
}

static tables_err_t bucket_conf_delete(tables_req_t *q, const char *key)
{
    tables_rec_t b;
    tables_err_t e = bucket_for_change(q, &b);
    if (e != TABLES_OK)
        return e;
    e = tables_set_member(q, &b, TABLES_ERR_NO_BUCKET, key, NULL, false);
    tables_rec_release(&b);
    if (e != TABLES_OK)
        return e;
    tables_reply_empty(q, 204);
    return TABLES_OK;
}

static tables_err_t op_put_bucket_encryption(tables_req_t *q)
{
    return bucket_conf_put(q, &conf_encryption);
}
static tables_err_t op_get_bucket_encryption(tables_req_t *q)
{
    return bucket_conf_get(q, &conf_encryption);
}
static tables_err_t op_delete_bucket_encryption(tables_req_t *q)
{
    return bucket_conf_delete(q, conf_encryption.key);
}
static tables_err_t op_put_bucket_storage_class(tables_req_t *q)
{
    return bucket_conf_put(q, &conf_storage);
}
static tables_err_t op_get_bucket_storage_class(tables_req_t *q)
{
    return bucket_conf_get(q, &conf_storage);
}
static tables_err_t op_put_bucket_policy(tables_req_t *q) { return bucket_conf_put(q, &conf_policy); }
static tables_err_t op_get_bucket_policy(tables_req_t *q) { return bucket_conf_get(q, &conf_policy); }
static tables_err_t op_delete_bucket_policy(tables_req_t *q)
{
    return bucket_conf_delete(q, conf_policy.key);
}

/* Metrics: kura has no CloudWatch; the configuration is a stored id so the
 * Get/Delete round trip behaves as AWS's. */
static tables_err_t op_put_bucket_metrics(tables_req_t *q)
{
    tables_rec_t b;
    tables_err_t e = bucket_for_change(q, &b);
    if (e != TABLES_OK)
        return e;
    json_t *cur = json_object_get(b.doc, "metrics");
    char id[TABLES_UUID_LEN + 1];
    tables_uuid(id);
    json_t *v = cur ? json_incref(cur) : json_pack("{s:s}", "id", id);
    e = tables_set_member(q, &b, TABLES_ERR_NO_BUCKET, "metrics", v, false);
    tables_rec_release(&b);
    if (e != TABLES_OK)
        return e;
    tables_reply_empty(q, 204);
    return TABLES_OK;
}

static tables_err_t op_get_bucket_metrics(tables_req_t *q)
{
    tables_rec_t b;
    tables_err_t e = tables_req_bucket(q, q->seg[1], &b);
    if (e != TABLES_OK)
        return e;
    const char *id = tables_str(json_object_get(b.doc, "metrics"), "id");
    json_t *out = id ? json_pack("{s:s,s:s}", "tableBucketARN",
                                 tables_bucket_arn(q->t, q->a, tables_str(b.doc, "name")), "id", id)
                     : NULL;
    tables_rec_release(&b);
    if (!out)
        return TABLES_ERR_NO_CONFIG;
    tables_reply(q, 200, out);
    return TABLES_OK;
}

static tables_err_t op_delete_bucket_metrics(tables_req_t *q)
{
    tables_rec_t b;
    tables_err_t e = bucket_for_change(q, &b);
    if (e != TABLES_OK)
        return e;
    e = tables_set_member(q, &b, TABLES_ERR_NO_BUCKET, "metrics", NULL, true);
    tables_rec_release(&b);
    if (e != TABLES_OK)
        return e;
    tables_reply_empty(q, 204);
    return TABLES_OK;
}

/* ---- namespaces ------------------------------------------------------------ */

static json_t *namespace_summary(tables_req_t *q, const json_t *bucket, const json_t *ns)
{
    return json_pack("{s:[s],s:o,s:s,s:s,s:s,s:s}", "namespace", tables_str(ns, "name"),
                     "createdAt",
                     tables_json_time(json_integer_value(json_object_get(ns, "createdAt"))),
                     "createdBy", tables_str(ns, "createdBy"), "ownerAccountId",
                     q->t->cfg->account_id, "namespaceId", tables_str(ns, "id"), "tableBucketId",
                     tables_str(bucket, "id"));
}

static tables_err_t op_create_namespace(tables_req_t *q)
{
    tables_err_t e = tables_req_json(q);
    if (e != TABLES_OK)
        return e;
    json_t *list = json_object_get(q->json, "namespace");
    const char *ns = json_string_value(json_array_get(list, 0));
    if (!json_is_array(list) || json_array_size(list) != 1 || !ns)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST,
                           "namespace must be a list of exactly one name.");
    if (!tables_namespace_name_ok(ns))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid namespace name.");
    tables_rec_t b, n;
    if ((e = bucket_for_change(q, &b)) != TABLES_OK)
        return e;
    e = tables_namespace_create(q->t, q->a, &b, ns, q->caller, &n);
    if (e == TABLES_OK) {
        tables_rec_release(&n);
        tables_reply(q, 200, json_pack("{s:s,s:[s]}", "tableBucketARN",
                                       tables_bucket_arn(q->t, q->a, tables_str(b.doc, "name")),
                                       "namespace", ns));
    }
    tables_rec_release(&b);
    return e;
}

static tables_err_t load_namespace(tables_req_t *q, tables_rec_t *b, tables_rec_t *n)
{
    if (!tables_lookup_name_ok(q->seg[2], 1, TABLES_NAME_MAX))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid namespace name.");
    tables_err_t e = tables_req_bucket(q, q->seg[1], b);
    if (e != TABLES_OK)
        return e;
    e = tables_namespace_load(q->t, q->a, tables_str(b->doc, "id"), q->seg[2], n);
    if (e != TABLES_OK)
        tables_rec_release(b);
    return e;
}

static tables_err_t op_get_namespace(tables_req_t *q)
{
    tables_rec_t b, n;
    tables_err_t e = load_namespace(q, &b, &n);
    if (e != TABLES_OK)
        return e;
    tables_reply(q, 200, namespace_summary(q, b.doc, n.doc));
    tables_rec_release(&n);
    tables_rec_release(&b);
    return TABLES_OK;
}

static bool list_ns_one(void *arg, const char *name, json_t *doc)
{
    list_state_t *l = arg;
    if (l->after && strcmp(name, l->after) <= 0)
        return true;
    if (l->prefix && strncmp(name, l->prefix, strlen(l->prefix)) != 0)
        return true;
    if (json_array_size(l->items) == l->max) {
        l->more = true;
        return false;
    }
    json_array_append_new(l->items, namespace_summary(l->q, (json_t *)(uintptr_t)l->type, doc));
    l->last = arena_strdup(l->q->a, name);
    return true;
}

static tables_err_t op_list_namespaces(tables_req_t *q)
{
    list_state_t l = {.q = q};
    char *after;
    tables_err_t e = tables_prefix_param(q, TABLES_NAME_MAX, &l.prefix);
    if (e == TABLES_OK)
        e = tables_param_int(q, "maxNamespaces", 1, TABLES_LIST_MAX, TABLES_LIST_MAX, &l.max);
    if (e == TABLES_OK)
        e = tables_page_start(q, &after);
    if (e != TABLES_OK)
        return e;
    l.after = after;
    tables_rec_t b;
    if ((e = tables_req_bucket(q, q->seg[1], &b)) != TABLES_OK)
        return e;
    /* `type` carries the bucket document to the callback. */
    l.type = (const char *)(uintptr_t)b.doc;
    char sns[64 + TABLES_UUID_LEN];
    tables_ns_of(sns, sizeof sns, "tns", tables_str(b.doc, "id"));
    l.items = json_array();
    e = tables_rec_list(q->t, q->a, sns, list_ns_one, &l);
    tables_rec_release(&b);
    if (e != TABLES_OK) {
        json_decref(l.items);
        return e;
    }
    json_t *out = json_pack("{s:o}", "namespaces", l.items);
    if (l.more && l.last)
        json_object_set_new(out, "continuationToken", tables_page_token(q->a, l.last));
    tables_reply(q, 200, out);
    return TABLES_OK;
}

static tables_err_t op_delete_namespace(tables_req_t *q)
{
    tables_rec_t b, n;
    tables_err_t e = load_namespace(q, &b, &n);
    if (e != TABLES_OK)
        return e;
    e = tables_namespace_delete(q->t, &b, &n);
    tables_rec_release(&n);
    tables_rec_release(&b);
    if (e != TABLES_OK)
        return e;
    tables_reply_empty(q, 204);
    return TABLES_OK;
}

/* ---- routes ---------------------------------------------------------------- */

typedef tables_err_t (*op_fn)(tables_req_t *q);

/* Route patterns: '/'-separated literal segments; "*" matches one segment. */
static const struct {
    const char *method, *pattern, *op;
    op_fn fn;
} routes[] = {
    {"PUT", "buckets", "CreateTableBucket", op_create_table_bucket},
    {"GET", "buckets", "ListTableBuckets", op_list_table_buckets},
    {"GET", "buckets/*", "GetTableBucket", op_get_table_bucket},
    {"DELETE", "buckets/*", "DeleteTableBucket", op_delete_table_bucket},
    {"PUT", "buckets/*/encryption", "PutTableBucketEncryption", op_put_bucket_encryption},
    {"GET", "buckets/*/encryption", "GetTableBucketEncryption", op_get_bucket_encryption},
    {"DELETE", "buckets/*/encryption", "DeleteTableBucketEncryption",
     op_delete_bucket_encryption},
    {"PUT", "buckets/*/storage-class", "PutTableBucketStorageClass", op_put_bucket_storage_class},
    {"GET", "buckets/*/storage-class", "GetTableBucketStorageClass", op_get_bucket_storage_class},
    {"PUT", "buckets/*/metrics", "PutTableBucketMetricsConfiguration", op_put_bucket_metrics},
    {"GET", "buckets/*/metrics", "GetTableBucketMetricsConfiguration", op_get_bucket_metrics},
    {"DELETE", "buckets/*/metrics", "DeleteTableBucketMetricsConfiguration",
     op_delete_bucket_metrics},
    {"PUT", "buckets/*/policy", "PutTableBucketPolicy", op_put_bucket_policy},
    {"GET", "buckets/*/policy", "GetTableBucketPolicy", op_get_bucket_policy},
    {"DELETE", "buckets/*/policy", "DeleteTableBucketPolicy", op_delete_bucket_policy},
    {"GET", "buckets/*/maintenance", "GetTableBucketMaintenanceConfiguration",
     tables_op_get_bucket_maintenance},
    {"PUT", "buckets/*/maintenance/*", "PutTableBucketMaintenanceConfiguration",
     tables_op_put_bucket_maintenance},
    {"PUT", "namespaces/*", "CreateNamespace", op_create_namespace},
    {"GET", "namespaces/*", "ListNamespaces", op_list_namespaces},
    {"GET", "namespaces/*/*", "GetNamespace", op_get_namespace},
    {"DELETE", "namespaces/*/*", "DeleteNamespace", op_delete_namespace},
    {"PUT", "tables/*/*", "CreateTable", tables_op_create_table},
    {"GET", "tables/*", "ListTables", tables_op_list_tables},
    {"GET", "get-table", "GetTable", tables_op_get_table},
    {"GET", "tables/*/*/*", "GetTable", tables_op_get_table},
    {"DELETE", "tables/*/*/*", "DeleteTable", tables_op_delete_table},
    {"PUT", "tables/*/*/*/rename", "RenameTable", tables_op_rename_table},
    {"GET", "tables/*/*/*/metadata-location", "GetTableMetadataLocation",
     tables_op_get_metadata_location},
    {"PUT", "tables/*/*/*/metadata-location", "UpdateTableMetadataLocation",
     tables_op_update_metadata_location},
    {"GET", "tables/*/*/*/encryption", "GetTableEncryption", tables_op_get_table_encryption},
    {"GET", "tables/*/*/*/storage-class", "GetTableStorageClass",
     tables_op_get_table_storage_class},
    {"PUT", "tables/*/*/*/policy", "PutTablePolicy", tables_op_put_table_policy},
    {"GET", "tables/*/*/*/policy", "GetTablePolicy", tables_op_get_table_policy},
    {"DELETE", "tables/*/*/*/policy", "DeleteTablePolicy", tables_op_delete_table_policy},
    {"GET", "tables/*/*/*/maintenance", "GetTableMaintenanceConfiguration",
     tables_op_get_table_maintenance},
    {"PUT", "tables/*/*/*/maintenance/*", "PutTableMaintenanceConfiguration",
     tables_op_put_table_maintenance},
    {"GET", "tables/*/*/*/maintenance-job-status", "GetTableMaintenanceJobStatus",
     tables_op_get_maintenance_job_status},
    {"PUT", "table-bucket-replication", "PutTableBucketReplication",
     tables_op_put_bucket_replication},
    {"GET", "table-bucket-replication", "GetTableBucketReplication",
     tables_op_get_bucket_replication},
    {"DELETE", "table-bucket-replication", "DeleteTableBucketReplication",
     tables_op_delete_bucket_replication},
    {"PUT", "table-replication", "PutTableReplication", tables_op_put_table_replication},
    {"GET", "table-replication", "GetTableReplication", tables_op_get_table_replication},
    {"DELETE", "table-replication", "DeleteTableReplication", tables_op_delete_table_replication},
    {"GET", "replication-status", "GetTableReplicationStatus", tables_op_get_replication_status},
    {"PUT", "table-record-expiration", "PutTableRecordExpirationConfiguration",
     tables_op_put_record_expiration},
    {"GET", "table-record-expiration", "GetTableRecordExpirationConfiguration",
     tables_op_get_record_expiration},
    {"GET", "table-record-expiration-job-status", "GetTableRecordExpirationJobStatus",
     tables_op_get_record_expiration_job_status},
    {"POST", "tag/*", "TagResource", tables_op_tag_resource},
    {"DELETE", "tag/*", "UntagResource", tables_op_untag_resource},
    {"GET", "tag/*", "ListTagsForResource", tables_op_list_tags},
};

static bool route_match(const char *pattern, const tables_req_t *q)
{
    size_t i = 0;
    const char *p = pattern;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (i >= q->nseg)
            return false;
        if (!(n == 1 && *p == '*') && (strlen(q->seg[i]) != n || memcmp(q->seg[i], p, n) != 0))
            return false;
        i++;
        p += n;
        if (*p == '/')
            p++;
    }
    return i == q->nseg;
}

/* The table bucket (and table) a request names: path segment, tag ARN or
 * the tableBucketARN / tableArn / namespace+name query members. */
static void request_resource(tables_req_t *q, tables_rec_t *b, tables_rec_t *tb, bool *has_b,
                             bool *has_t)
{
    const char *s0 = q->nseg ? q->seg[0] : "";
    *has_b = *has_t = false;
    const char *barn = NULL, *tarn = NULL, *ns = NULL, *name = NULL;
    if (q->nseg >= 2 && (strcmp(s0, "buckets") == 0 || strcmp(s0, "namespaces") == 0 ||
                         strcmp(s0, "tables") == 0)) {
        barn = q->seg[1];
        if (strcmp(s0, "tables") == 0 && q->nseg >= 4)
            ns = q->seg[2], name = q->seg[3];
    } else if (q->nseg >= 2 && strcmp(s0, "tag") == 0) {
        tarn = q->seg[1];
    } else {
        tarn = http_param_value(q->r, "tableArn");
        barn = http_param_value(q->r, "tableBucketARN");
        ns = http_param_value(q->r, "namespace");
        name = http_param_value(q->r, "name");
    }
    if (tarn) {
        tables_err_t e = tables_resolve_arn(q->t, q->a, tarn, true, true, b, tb);
        *has_b = e == TABLES_OK || e == TABLES_ERR_NO_TABLE;
        *has_t = e == TABLES_OK && tb->doc;
        return;
    }
    if (barn && tables_resolve_bucket(q->t, q->a, barn, b) == TABLES_OK) {
        *has_b = true;
        if (ns && name &&
            tables_table_load(q->t, q->a, tables_str(b->doc, "id"), ns, name, tb) == TABLES_OK)
            *has_t = true;
    }
}

static auth_policy_t *doc_policy(const json_t *doc)
{
    const char *p = doc ? tables_str(doc, "policy") : NULL;
    auth_policy_t *out = NULL;
    if (p)
        (void)auth_policy_parse(p, strlen(p), AUTH_POLICY_TABLE_BUCKET, &out, NULL, 0);
    return out;
}

/* s3tables:* authorization: the root credentials may do everything; a user
 * needs an Allow from its identity policy, the table bucket's policy or the
 * table's policy for `action` on the table's ARN (or the bucket's, or "*"
 * when the request names neither), and no explicit Deny in any of them
 * (IAM's evaluation logic). */
tables_err_t tables_authorize(tables_req_t *q, const char *action, const tables_rec_t *b,
                              const tables_rec_t *tb)
{
    const auth_caller_t *who = q->who;
    if (!who || who->root)
        return TABLES_OK;
    if (who->anonymous)
        return tables_fail(q, TABLES_ERR_FORBIDDEN, "Access denied.");
    bool has_b = b && b->doc, has_t = has_b && tb && tb->doc;
    const char *resource = "*";
    if (has_t)
        resource = tables_table_arn(q->t, q->a, tables_str(b->doc, "name"), tables_str(tb->doc, "id"));
    else if (has_b)
        resource = tables_bucket_arn(q->t, q->a, tables_str(b->doc, "name"));
    auth_policy_t *bp = has_b ? doc_policy(b->doc) : NULL;
    auth_policy_t *tp = has_t ? doc_policy(tb->doc) : NULL;
    auth_policy_request_t req = {
        .action = action,
        .resource = resource,
        .principal_arn = who->principal_arn,
        .principal_account = who->account_id,
    };
    const auth_policy_t *ps[3] = {who->identity_policy, bp, tp};
    auth_policy_effect_t eff = auth_policy_decide(ps, 3, &req);
    auth_policy_free(bp);
    auth_policy_free(tp);
    if (eff != AUTH_POLICY_ALLOW)
        return tables_fail(q, TABLES_ERR_FORBIDDEN, "User: %s is not authorized to perform: %s",
                           who->principal_arn, action);
    return TABLES_OK;
}

/* An S3 Tables API operation: "s3tables:<Operation>" on what it names. */
static tables_err_t api_authorize(tables_req_t *q, const char *op)
{
    if (!q->who || q->who->root)
        return TABLES_OK;
    tables_rec_t b = {0}, tb = {0};
    bool has_b, has_t;
    request_resource(q, &b, &tb, &has_b, &has_t);
    char action[96];
    snprintf(action, sizeof action, "s3tables:%s", op);
    tables_err_t e = tables_authorize(q, action, has_b ? &b : NULL, has_t ? &tb : NULL);
    tables_rec_release(&b);
    tables_rec_release(&tb);
    return e;
}

tables_err_t tables_api_dispatch(tables_req_t *q)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(q->r->method, routes[i].method) != 0 || !route_match(routes[i].pattern, q))
            continue;
        q->r->op = routes[i].op;
        tables_err_t e = api_authorize(q, routes[i].op);
        return e == TABLES_OK ? routes[i].fn(q) : e;
    }
    return TABLES_ERR_UNKNOWN_OP;
}
