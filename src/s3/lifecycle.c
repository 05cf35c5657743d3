/* s3/lifecycle.c: Put/Get/DeleteBucketLifecycleConfiguration and the worker
 * that applies the rules (S3 User Guide, "Managing the lifecycle of
 * objects"; "Lifecycle configuration elements").
 *
 * The worker walks every bucket with a configuration, at least hourly and
 * when an admin asks (POST /kura/admin/lifecycle). Per enabled rule, over
 * the versions its filter selects:
 *   Expiration Days/Date        the current version expires: on a versioned
 *                               bucket a delete marker is added, otherwise
 *                               the object is removed;
 *   ExpiredObjectDeleteMarker   a delete marker that is a key's only
 *                               version is removed;
 *   NoncurrentVersionExpiration versions noncurrent for NoncurrentDays
 *                               (beyond the NewerNoncurrentVersions newest)
 *                               are removed permanently;
 *   AbortIncompleteMultipartUpload  uploads older than DaysAfterInitiation
 *                               are aborted;
 *   Transition / NoncurrentVersionTransition  the storage class label
 *                               changes (kura has a single storage tier).
 * Every deletion is an ordinary store mutation; a locked version is never
 * touched (the store refuses, the worker moves on). Ages are measured on the
 * service clock (util/clock.h) in whole days, as S3 rounds to midnight UTC. */
#include "s3/s3_int.h"

#include "util/clock.h"
#include "util/log.h"
#include "util/parse.h"
#include "util/timefmt.h"
#include "util/xml.h"
#include "util/xmlw.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define S3_LIFECYCLE_CONF "lifecycle"
#define S3_MAX_LIFECYCLE_RULES 1000
#define S3_MAX_RULE_ID 255
#define MS_PER_DAY ((int64_t)86400 * 1000)
#define LIFECYCLE_MAX_DAYS 1000000

/* ---- rules ------------------------------------------------------------ */

typedef struct {
    const char *prefix;
    const store_kv_t *tags;
    size_t ntags;
    uint64_t size_gt, size_lt; /* 0: no bound */
} lc_filter_t;

typedef struct {
    bool enabled;
    lc_filter_t f;
    int64_t exp_days;   /* 0: none */
    int64_t exp_date_ms;/* 0: none */
    bool expired_marker;
    int64_t nc_days;
    int64_t nc_keep; /* NewerNoncurrentVersions */
    int64_t abort_days;
    int64_t tr_days, tr_date_ms;
    const char *tr_class;
    int64_t nctr_days;
    const char *nctr_class;
} lc_rule_t;

static bool parse_days(const char *s, int64_t *out)
{
    uint64_t v;
    if (!s || parse_u64_str(s, LIFECYCLE_MAX_DAYS, &v) != PARSE_OK || v == 0)
        return false;
    *out = (int64_t)v;
    return true;
}

static bool parse_size(const char *s, uint64_t *out)
{
    return s && parse_u64_str(s, UINT64_MAX, out) == PARSE_OK;
}

static size_t collect_tags(arena_t *a, const xml_node_t *n, store_kv_t **out)
{
    size_t cnt = xml_count(n, "Tag");
    store_kv_t *kv = arena_alloc(a, (cnt ? cnt : 1) * sizeof *kv);
    size_t k = 0;
    for (const xml_node_t *t = n->first; kv && t; t = t->next) {
        if (strcmp(t->name, "Tag") != 0)
            continue;
        kv[k].name = xml_child_text(t, "Key");
        kv[k].value = xml_child_text(t, "Value");
        if (kv[k].name && kv[k].value)
            k++;
    }
    *out = kv;
    return k;
}

static s3_err_t parse_filter(s3_req_t *q, arena_t *a, const xml_node_t *rule, lc_filter_t *f)
{
    const xml_node_t *flt = xml_child(rule, "Filter");
    const char *legacy = xml_child_text(rule, "Prefix");
    if (flt && legacy)
        return S3_ERR_MALFORMED_XML;
    f->prefix = legacy ? legacy : "";
    if (!flt)
        return S3_OK;
    int parts = 0;
    for (const xml_node_t *c = flt->first; c; c = c->next) {
        parts++;
        if (strcmp(c->name, "Prefix") == 0) {
            f->prefix = c->text;
        } else if (strcmp(c->name, "Tag") == 0) {
            store_kv_t *kv = arena_alloc(a, sizeof *kv);
            if (!kv || !xml_child_text(c, "Key") || !xml_child_text(c, "Value"))
                return S3_ERR_MALFORMED_XML;
            kv->name = xml_child_text(c, "Key");
            kv->value = xml_child_text(c, "Value");
            f->tags = kv;
            f->ntags = 1;
        } else if (strcmp(c->name, "ObjectSizeGreaterThan") == 0) {
            if (!parse_size(c->text, &f->size_gt))
                return S3_ERR_INVALID_ARGUMENT;
        } else if (strcmp(c->name, "ObjectSizeLessThan") == 0) {
            if (!parse_size(c->text, &f->size_lt))
                return S3_ERR_INVALID_ARGUMENT;
        } else if (strcmp(c->name, "And") == 0) {
            store_kv_t *kv = NULL;
            f->ntags = collect_tags(a, c, &kv);
            f->tags = kv;
            const char *p = xml_child_text(c, "Prefix");
            if (p)
                f->prefix = p;
            const char *gt = xml_child_text(c, "ObjectSizeGreaterThan");
            const char *lt = xml_child_text(c, "ObjectSizeLessThan");
            if ((gt && !parse_size(gt, &f->size_gt)) || (lt && !parse_size(lt, &f->size_lt)))
                return S3_ERR_INVALID_ARGUMENT;
        } else {
            return S3_ERR_MALFORMED_XML;
        }
    }
    if (parts > 1) /* several conditions need <And> */
        return S3_ERR_MALFORMED_XML;
    if (f->size_gt && f->size_lt && f->size_lt <= f->size_gt) {
        q->err_msg = "ObjectSizeGreaterThan must be less than ObjectSizeLessThan";
        return S3_ERR_INVALID_ARGUMENT;
    }
    return S3_OK;
}

/* Midnight UTC, as S3 requires of lifecycle dates. */
static bool parse_date(const char *s, int64_t *out)
{
    return s && timefmt_parse_iso8601(s, out) && *out % MS_PER_DAY == 0;
}

static s3_err_t parse_rule(s3_req_t *q, arena_t *a, const xml_node_t *x, lc_rule_t *r)
{
    memset(r, 0, sizeof *r);
    const char *status = xml_child_text(x, "Status");
    if (!status || (strcmp(status, "Enabled") != 0 && strcmp(status, "Disabled") != 0))
        return S3_ERR_MALFORMED_XML;
    r->enabled = strcmp(status, "Enabled") == 0;
    const char *id = xml_child_text(x, "ID");
    if (id && strlen(id) > S3_MAX_RULE_ID) {
        q->err_msg = "ID length should not exceed allowed limit of 255";
        return S3_ERR_INVALID_ARGUMENT;
    }
    s3_err_t rc = parse_filter(q, a, x, &r->f);
    if (rc != S3_OK)
        return rc;
    bool any = false;
    const xml_node_t *e = xml_child(x, "Expiration");
    if (e) {
        const char *d = xml_child_text(e, "Days"), *dt = xml_child_text(e, "Date");
        const char *m = xml_child_text(e, "ExpiredObjectDeleteMarker");
        if ((d != NULL) + (dt != NULL) + (m != NULL) != 1)
            return S3_ERR_MALFORMED_XML;
        if (d && !parse_days(d, &r->exp_days)) {
            q->err_msg = "'Days' for Expiration action must be a positive integer";
            return S3_ERR_INVALID_ARGUMENT;
        }
        if (dt && !parse_date(dt, &r->exp_date_ms)) {
            q->err_msg = "'Date' must be at midnight GMT";
            return S3_ERR_INVALID_ARGUMENT;
        }
        if (m && strcmp(m, "true") != 0 && strcmp(m, "false") != 0)
            return S3_ERR_MALFORMED_XML;
        r->expired_marker = m && strcmp(m, "true") == 0;
        if (r->expired_marker && r->f.ntags) {
            q->err_msg = "ExpiredObjectDeleteMarker cannot be specified with object tags";
            return S3_ERR_INVALID_ARGUMENT;
        }
        any = true;
    }
    const xml_node_t *nc = xml_child(x, "NoncurrentVersionExpiration");
    if (nc) {
        if (!parse_days(xml_child_text(nc, "NoncurrentDays"), &r->nc_days)) {
            q->err_msg = "'NoncurrentDays' for NoncurrentVersionExpiration action must be a "
                         "positive integer";
            return S3_ERR_INVALID_ARGUMENT;
        }
        const char *keep = xml_child_text(nc, "NewerNoncurrentVersions");
        if (keep && !parse_days(keep, &r->nc_keep))
            return S3_ERR_INVALID_ARGUMENT;
        any = true;
    }
    const xml_node_t *ab = xml_child(x, "AbortIncompleteMultipartUpload");
    if (ab) {
        if (!parse_days(xml_child_text(ab, "DaysAfterInitiation"), &r->abort_days))
            return S3_ERR_INVALID_ARGUMENT;
        if (r->f.ntags) {
            q->err_msg = "AbortIncompleteMultipartUpload cannot be specified with Tags.";
            return S3_ERR_INVALID_REQUEST;
        }
        any = true;
    }
    for (const xml_node_t *t = x->first; t; t = t->next) {
        bool cur = strcmp(t->name, "Transition") == 0;
        bool non = strcmp(t->name, "NoncurrentVersionTransition") == 0;
        if (!cur && !non)
            continue;
        const char *sc = xml_child_text(t, "StorageClass");
        if (!sc || !s3_valid_storage_class(sc) || strcmp(sc, "STANDARD") == 0) {
            q->err_msg = "The storage class you specified is not valid";
            return S3_ERR_INVALID_REQUEST;
        }
        if (cur) {
            const char *d = xml_child_text(t, "Days"), *dt = xml_child_text(t, "Date");
            if ((d != NULL) == (dt != NULL))
                return S3_ERR_MALFORMED_XML;
            uint64_t days0 = 0;
            if (d && parse_u64_str(d, LIFECYCLE_MAX_DAYS, &days0) != PARSE_OK)
                return S3_ERR_INVALID_ARGUMENT;
            r->tr_days = (int64_t)days0;
            if (d && days0 < 30 &&
                (strcmp(sc, "STANDARD_IA") == 0 || strcmp(sc, "ONEZONE_IA") == 0)) {
                q->err_msg = arena_printf(a, "'Days' in Transition action must be greater than "
                                             "or equal to 30 for storageClass '%s'", sc);
                return S3_ERR_INVALID_ARGUMENT;
            }
            if (dt && !parse_date(dt, &r->tr_date_ms)) {
                q->err_msg = "'Date' must be at midnight GMT";
                return S3_ERR_INVALID_ARGUMENT;
            }
            r->tr_class = sc;
        } else {
            uint64_t days0 = 0;
            if (parse_u64_str(xml_child_text(t, "NoncurrentDays") ? xml_child_text(t, "NoncurrentDays")
                                                                  : "",
                              LIFECYCLE_MAX_DAYS, &days0) != PARSE_OK)
                return S3_ERR_INVALID_ARGUMENT;
            r->nctr_days = (int64_t)days0;
            if (days0 < 30 && (strcmp(sc, "STANDARD_IA") == 0 || strcmp(sc, "ONEZONE_IA") == 0)) {
                q->err_msg = arena_printf(a, "'NoncurrentDays' in NoncurrentVersionTransition "
                                             "action must be greater than or equal to 30 for "
                                             "storageClass '%s'", sc);
                return S3_ERR_INVALID_ARGUMENT;
            }
            r->nctr_class = sc;
        }
        any = true;
    }
    if (!any) {
        q->err_msg = "At least one action needs to be specified in a rule";
        return S3_ERR_INVALID_REQUEST;
    }
    return S3_OK;
}

/* Parses a whole configuration; rules into *out (arena). */
static s3_err_t parse_config(s3_req_t *q, arena_t *a, const char *doc, size_t len,
                             lc_rule_t **out, size_t *n)
{
    xml_node_t *root = xml_parse(a, doc, len);
    if (!root || strcmp(root->name, "LifecycleConfiguration") != 0)
        return S3_ERR_MALFORMED_XML;
    size_t cnt = xml_count(root, "Rule");
    if (cnt == 0 || cnt > S3_MAX_LIFECYCLE_RULES)
        return S3_ERR_MALFORMED_XML;
    lc_rule_t *rules = arena_alloc(a, cnt * sizeof *rules);
    if (!rules)
        return S3_ERR_INTERNAL;
    size_t k = 0;
    for (const xml_node_t *x = root->first; x; x = x->next) {
        if (strcmp(x->name, "Rule") != 0)
            return S3_ERR_MALFORMED_XML;
        s3_err_t rc = parse_rule(q, a, x, &rules[k]);
        if (rc != S3_OK)
            return rc;
        const char *id = xml_child_text(x, "ID");
        for (const xml_node_t *y = root->first; id && y != x; y = y->next) {
            const char *other = xml_child_text(y, "ID");
            if (other && strcmp(other, id) == 0) {
                q->err_msg = "Rule ID must be unique. Found same ID for more than one rule";
                return S3_ERR_INVALID_ARGUMENT;
            }
        }
        k++;
    }
    *out = rules;
    *n = k;
    return S3_OK;
}

/* ---- the API ---------------------------------------------------------- */

static s3_err_t put_lifecycle_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    s3_err_t rc = s3_check_body_digests(q, true);
    if (rc != S3_OK)
        return rc;
    lc_rule_t *rules;
    size_t n;
    if ((rc = parse_config(q, q->r->arena, q->body.data ? q->body.data : "", q->body.len, &rules,
                           &n)) != S3_OK)
        return rc;
    store_rc_t src =
        store_bucket_conf_put(q->s3->st, q->bucket, S3_LIFECYCLE_CONF, q->body.data, q->body.len);
    if (src != STORE_OK)
        return src == STORE_NOT_FOUND ? S3_ERR_NO_SUCH_BUCKET : s3_err_from_store(src);
    http_set_header(q->r, "x-amz-transition-default-minimum-object-size", "all_storage_classes_128K");
    q->r->status = 200;
    return S3_OK;
}

static s3_err_t get_lifecycle_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    char *doc = NULL;
    size_t len = 0;
    s3_err_t rc = s3_conf_get(q, S3_LIFECYCLE_CONF, S3_ERR_NO_SUCH_LIFECYCLE, &doc, &len);
    if (rc != S3_OK)
        return rc;
    xml_node_t *root = xml_parse(q->r->arena, doc, len);
    if (!root)
        return S3_ERR_INTERNAL;
    /* Re-emitted in S3's namespace, element by element as stored. */
    buf_t *o = &q->r->out;
    buf_puts(o, XMLW_DECL);
    buf_printf(o, "<LifecycleConfiguration xmlns=\"%s\">", XMLW_S3_NS);
    struct {
        const xml_node_t *n;
    } stack[XML_MAX_DEPTH];
    size_t depth = 0;
    const xml_node_t *n = root->first;
    while (n) {
        if (n->first) {
            xmlw_open(o, n->name);
            stack[depth++].n = n;
            n = n->first;
            continue;
        }
        xmlw_elem_n(o, n->name, n->text, n->text_len);
        while (!n->next && depth) {
            n = stack[--depth].n;
            xmlw_close(o, n->name);
        }
        n = n->next;
    }
    buf_puts(o, "</LifecycleConfiguration>");
    http_set_header(q->r, "x-amz-transition-default-minimum-object-size", "all_storage_classes_128K");
    s3_xml_ok(q);
    return S3_OK;
}

static s3_err_t delete_lifecycle_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    return s3_conf_delete(q, S3_LIFECYCLE_CONF);
}

const s3_op_t s3_op_put_bucket_lifecycle = {"PutBucketLifecycleConfiguration", false,
                                            s3_begin_xml_body, put_lifecycle_run};
const s3_op_t s3_op_get_bucket_lifecycle = {"GetBucketLifecycleConfiguration", false,
                                            s3_begin_no_body, get_lifecycle_run};
const s3_op_t s3_op_delete_bucket_lifecycle = {"DeleteBucketLifecycle", false, s3_begin_no_body,
                                               delete_lifecycle_run};

/* ---- the worker ------------------------------------------------------- */

static bool filter_match(const lc_filter_t *f, const store_object_t *o)
{
    size_t pl = strlen(f->prefix);
    if (o->key_len < pl || memcmp(o->key, f->prefix, pl) != 0)
        return false;
    if (!o->delete_marker) {
        if (f->size_gt && o->size <= f->size_gt)
            return false;
        if (f->size_lt && o->size >= f->size_lt)
            return false;
    }
    for (size_t i = 0; i < f->ntags; i++) {
        bool found = false;
        for (size_t j = 0; j < o->ntags && !found; j++)
            found = strcmp(o->tags[j].name, f->tags[i].name) == 0 &&
                    strcmp(o->tags[j].value, f->tags[i].value) == 0;
        if (!found)
            return false;
    }
    return true;
}

/* Whole days between t and now, S3-style: an object written today is day 0. */
static int64_t age_days(int64_t t_ms, int64_t now_ms)
{
    return now_ms > t_ms ? (now_ms - t_ms) / MS_PER_DAY : 0;
}

typedef enum { ACT_DELETE_CURRENT, ACT_DELETE_VERSION, ACT_TRANSITION } act_kind_t;

typedef struct act {
    act_kind_t kind;
    const char *key;
    size_t key_len;
    const char *version_id;
    const char *storage_class;
    struct act *next;
} act_t;

typedef struct {
    arena_t *a;
    const lc_rule_t *rules;
    size_t nrules;
    int64_t now;
    bool versioned;
    /* The key being walked: versions come newest first. */
    const char *key;
    size_t key_len;
    int64_t newer_mtime; /* when the version being looked at became noncurrent */
    int64_t noncurrent_seen;
    size_t versions_of_key;
    act_t *acts;
    size_t nacts;
} walk_t;

static void add_act(walk_t *w, act_kind_t k, const store_object_t *o, const char *sc)
{
    act_t *a = arena_alloc(w->a, sizeof *a);
    if (!a)
        return;
    a->kind = k;
    a->key = arena_strndup(w->a, o->key, o->key_len);
    a->key_len = o->key_len;
    a->version_id = arena_strdup(w->a, o->version_id);
    a->storage_class = sc;
    a->next = w->acts;
    w->acts = a;
    w->nacts++;
}

static store_iter_rc_t walk_cb(void *arg, const store_object_t *o, buf_t *skip)
{
    (void)skip;
    walk_t *w = arg;
    if (!w->key || w->key_len != o->key_len || memcmp(w->key, o->key, o->key_len) != 0) {
        w->key = arena_strndup(w->a, o->key, o->key_len);
        w->key_len = o->key_len;
        w->noncurrent_seen = 0;
        w->versions_of_key = 0;
    }
    w->versions_of_key++;
    bool current = o->is_latest;
    for (size_t i = 0; i < w->nrules; i++) {
        const lc_rule_t *r = &w->rules[i];
        if (!r->enabled || !filter_match(&r->f, o))
            continue;
        if (current && !o->delete_marker) {
            bool expire = (r->exp_days && age_days(o->mtime_ms, w->now) >= r->exp_days) ||
                          (r->exp_date_ms && w->now >= r->exp_date_ms);
            if (expire) {
                add_act(w, ACT_DELETE_CURRENT, o, NULL);
                break;
            }
            bool move = r->tr_class && strcmp(o->storage_class ? o->storage_class : "STANDARD",
                                              r->tr_class) != 0 &&
                        ((r->tr_date_ms && w->now >= r->tr_date_ms) ||
                         (!r->tr_date_ms && age_days(o->mtime_ms, w->now) >= r->tr_days));
            if (move)
                add_act(w, ACT_TRANSITION, o, r->tr_class);
        } else if (current && o->delete_marker) {
            /* Decided after the key's last version is seen: see lifecycle_bucket(). */
        } else if (!current) {
            int64_t since = w->newer_mtime;
            if (r->nc_days && age_days(since, w->now) >= r->nc_days &&
                w->noncurrent_seen >= r->nc_keep) {
                add_act(w, ACT_DELETE_VERSION, o, NULL);
                break;
            }
            if (r->nctr_class && !o->delete_marker &&
                strcmp(o->storage_class ? o->storage_class : "STANDARD", r->nctr_class) != 0 &&
                age_days(since, w->now) >= r->nctr_days)
                add_act(w, ACT_TRANSITION, o, r->nctr_class);
        }
    }
    if (!current)
        w->noncurrent_seen++;
    w->newer_mtime = o->mtime_ms;
    return STORE_ITER_NEXT;
}

/* Delete markers that are the only version of their key ("expired"). */
typedef struct {
    walk_t *w;
    const store_object_t *marker; /* latest is a marker, waiting to see if alone */
    size_t count;
} marker_walk_t;

static void flush_marker(marker_walk_t *m)
{
    if (m->marker && m->count == 1)
        for (size_t i = 0; i < m->w->nrules; i++) {
            const lc_rule_t *r = &m->w->rules[i];
            if (r->enabled && r->expired_marker && filter_match(&r->f, m->marker)) {
                add_act(m->w, ACT_DELETE_VERSION, m->marker, NULL);
                break;
            }
        }
    m->marker = NULL;
    m->count = 0;
}

static store_iter_rc_t marker_cb(void *arg, const store_object_t *o, buf_t *skip)
{
    (void)skip;
    marker_walk_t *m = arg;
    if (o->is_latest) {
        flush_marker(m);
        if (o->delete_marker) {
            store_object_t *copy = arena_alloc(m->w->a, sizeof *copy);
            if (copy) {
                *copy = *o;
                copy->key = arena_strndup(m->w->a, o->key, o->key_len);
                copy->version_id = arena_strdup(m->w->a, o->version_id);
            }
            m->marker = copy;
        }
    }
    m->count++;
    return STORE_ITER_NEXT;
}

typedef struct {
    arena_t *a;
    const lc_rule_t *rules;
    size_t nrules;
    int64_t now;
    const char **ids;
    size_t n, cap;
} upload_walk_t;

static bool upload_cb(void *arg, const store_upload_t *u)
{
    upload_walk_t *w = arg;
    store_object_t probe = {.key = u->key, .key_len = u->key_len, .delete_marker = true};
    for (size_t i = 0; i < w->nrules; i++) {
        const lc_rule_t *r = &w->rules[i];
        if (r->enabled && r->abort_days && filter_match(&r->f, &probe) &&
            age_days(u->initiated_ms, w->now) >= r->abort_days) {
            if (w->n == w->cap) {
                size_t cap = w->cap ? w->cap * 2 : 64;
                const char **ids = arena_alloc(w->a, cap * sizeof *ids);
                if (!ids)
                    return false;
                if (w->n)
                    memcpy(ids, w->ids, w->n * sizeof *ids);
                w->ids = ids;
                w->cap = cap;
            }
            w->ids[w->n++] = arena_strdup(w->a, u->upload_id);
            break;
        }
    }
    return true;
}

/* Applies one bucket's rules. Returns the number of actions taken. */
static size_t lifecycle_bucket(s3_t *s, const char *bucket, int64_t now)
{
    arena_t *a = arena_new(0);
    if (!a)
        return 0;
    size_t done = 0;
    char *doc = NULL;
    size_t len = 0;
    s3_req_t fake = {0}; /* parse_config reports messages through it */
    lc_rule_t *rules = NULL;
    size_t n = 0;
    store_bucket_t b;
    if (store_bucket_conf_get(s->st, a, bucket, S3_LIFECYCLE_CONF, &doc, &len) != STORE_OK ||
        parse_config(&fake, a, doc, len, &rules, &n) != S3_OK ||
        store_bucket_get(s->st, a, bucket, &b) != STORE_OK)
        goto out;
    walk_t w = {.a = a, .rules = rules, .nrules = n, .now = now,
                .versioned = b.versioning != STORE_VERSIONING_OFF};
    if (store_version_list(s->st, a, bucket, "", NULL, NULL, walk_cb, &w) != STORE_OK)
        goto out;
    marker_walk_t m = {.w = &w};
    if (store_version_list(s->st, a, bucket, "", NULL, NULL, marker_cb, &m) != STORE_OK)
        goto out;
    flush_marker(&m);
    for (act_t *act = w.acts; act; act = act->next) {
        store_rc_t rc = STORE_OK;
        store_delete_result_t res;
        store_object_t out;
        if (act->kind == ACT_DELETE_CURRENT) {
            rc = store_object_delete(s->st, a, bucket, act->key, act->key_len, NULL, false, now,
                                     &res);
        } else if (act->kind == ACT_DELETE_VERSION) {
            rc = store_object_delete(s->st, a, bucket, act->key, act->key_len, act->version_id,
                                     false, now, &res);
        } else {
            store_object_t f = {.storage_class = act->storage_class};
            rc = store_object_update(s->st, a, bucket, act->key, act->key_len, act->version_id,
                                     STORE_UPD_STORAGE_CLASS, &f, &out);
        }
        if (rc == STORE_OK)
            done++;
        else if (rc != STORE_LOCKED && rc != STORE_NOT_FOUND)
            log_warn(NULL, "lifecycle.action", "bucket=%s rc=%s", bucket, store_rc_name(rc));
    }
    upload_walk_t uw = {.a = a, .rules = rules, .nrules = n, .now = now};
    if (store_upload_list(s->st, a, bucket, "", NULL, NULL, upload_cb, &uw) == STORE_OK)
        for (size_t i = 0; i < uw.n; i++)
            if (store_upload_abort(s->st, bucket, uw.ids[i]) == STORE_OK)
                done++;
out:
    arena_free(a);
    return done;
}

typedef struct {
    const char **names;
    size_t n, cap;
    arena_t *a;
} names_t;

static bool bucket_name_cb(void *arg, const store_bucket_t *b)
{
    names_t *nm = arg;
    if (nm->n == nm->cap) {
        size_t cap = nm->cap ? nm->cap * 2 : 64;
        const char **names = arena_alloc(nm->a, cap * sizeof *names);
        if (!names)
            return false;
        if (nm->n)
            memcpy(names, nm->names, nm->n * sizeof *names);
        nm->names = names;
        nm->cap = cap;
    }
    nm->names[nm->n++] = arena_strdup(nm->a, b->name);
    return true;
}

size_t s3_lifecycle_run(s3_t *s)
{
    arena_t *a = arena_new(0);
    if (!a)
        return 0;
    names_t nm = {.a = a};
    size_t done = 0;
    int64_t now = clock_now_ms();
    if (store_bucket_list(s->st, a, NULL, bucket_name_cb, &nm) == STORE_OK)
        for (size_t i = 0; i < nm.n; i++)
            done += lifecycle_bucket(s, nm.names[i], now);
    arena_free(a);
    if (done)
        log_info(NULL, "lifecycle.run", "actions=%zu", done);
    return done;
}

/* ---- the background thread ------------------------------------------- */

struct s3_lifecycle_worker {
    s3_t *s3;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    int64_t interval_ms;
};

static void *worker_main(void *arg)
{
    s3_lifecycle_worker_t *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t due = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + w->interval_ms;
        ts.tv_sec = due / 1000;
        ts.tv_nsec = (long)(due % 1000) * 1000000;
        pthread_cond_timedwait(&w->cv, &w->mu, &ts);
        if (w->stop)
            break;
        pthread_mutex_unlock(&w->mu);
        s3_lifecycle_run(w->s3);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

s3_lifecycle_worker_t *s3_lifecycle_start(s3_t *s, int64_t interval_ms)
{
    s3_lifecycle_worker_t *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->s3 = s;
    w->interval_ms = interval_ms;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
        free(w);
        return NULL;
    }
    return w;
}

void s3_lifecycle_stop(s3_lifecycle_worker_t *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}
