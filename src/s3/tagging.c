/* s3/tagging.c: Put/Get/DeleteObjectTagging, Put/Get/DeleteBucketTagging and
 * the tag limits shared with x-amz-tagging (S3 User Guide, "Categorizing your
 * storage using tags": 10 tags per object, 50 per bucket, keys 1..128 and
 * values 0..256 Unicode characters, unique keys, no "aws:" prefix). */
#include "s3/s3_int.h"

#include "util/timefmt.h"
#include "util/uri.h"
#include "util/xml.h"
#include "util/xmlw.h"

#include <string.h>

#define S3_MAX_OBJECT_TAGS 10
#define S3_MAX_BUCKET_TAGS 50
#define S3_TAG_KEY_MAX_CHARS 128
#define S3_TAG_VALUE_MAX_CHARS 256

/* UTF-8 characters in s, or SIZE_MAX if s is not valid UTF-8. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int len = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : (*p >> 3) == 30 ? 4 : 0;
        if (!len)
            return SIZE_MAX;
        for (int i = 1; i < len; i++)
            if ((p[i] & 0xC0) != 0x80)
                return SIZE_MAX;
        p += len;
        n++;
    }
    return n;
}

static s3_err_t check_tags(s3_req_t *q, const store_kv_t *t, size_t n, size_t max)
{
    if (n > max) {
        /* S3 answers a tag count over the limit as BadRequest, not InvalidTag. */
        q->err_msg = max == S3_MAX_OBJECT_TAGS ? "Object tags cannot be greater than 10"
                                               : "Bucket tag count cannot be greater than 50";
        return S3_ERR_BAD_REQUEST;
    }
    for (size_t i = 0; i < n; i++) {
        size_t kc = utf8_chars(t[i].name), vc = utf8_chars(t[i].value);
        const char *msg = NULL;
        if (kc == 0 || kc > S3_TAG_KEY_MAX_CHARS || kc == SIZE_MAX)
            msg = "The TagKey you have provided is invalid";
        else if (vc > S3_TAG_VALUE_MAX_CHARS)
            msg = "The TagValue you have provided is invalid";
        else if (strncmp(t[i].name, "aws:", 4) == 0)
            msg = "System tags cannot be added/updated by requester";
        for (size_t j = 0; !msg && j < i; j++)
            if (strcmp(t[i].name, t[j].name) == 0)
                msg = "Cannot provide multiple Tags with the same key";
        if (msg) {
            q->err_msg = msg;
            return S3_ERR_INVALID_TAG;
        }
    }
    return S3_OK;
}

s3_err_t s3_tags_from_query(s3_req_t *q, const char *s, store_kv_t **tags, size_t *n)
{
    arena_t *a = q->r->arena;
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == '&';
    store_kv_t *kv = arena_alloc(a, cap * sizeof *kv);
    if (!kv)
        return S3_ERR_INTERNAL;
    size_t k = 0;
    buf_t b;
    buf_init(&b, 64 << 10);
    const char *p = s;
    s3_err_t rc = S3_OK;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len) {
            const char *eq = memchr(p, '=', len);
            size_t nl = eq ? (size_t)(eq - p) : len;
            buf_reset(&b);
            if (!uri_decode(&b, p, nl, true)) {
                rc = S3_ERR_INVALID_TAG;
                break;
            }
            kv[k].name = arena_strndup(a, buf_cstr(&b), b.len);
            buf_reset(&b);
            if (eq && !uri_decode(&b, eq + 1, len - nl - 1, true)) {
                rc = S3_ERR_INVALID_TAG;
                break;
            }
            kv[k].value = arena_strndup(a, buf_cstr(&b), b.len);
            k++;
        }
        p += len + (amp ? 1 : 0);
    }
    buf_release(&b);
    if (rc != S3_OK)
        return rc;
    if ((rc = check_tags(q, kv, k, S3_MAX_OBJECT_TAGS)) != S3_OK)
        return rc;
    *tags = kv;
    *n = k;
    return S3_OK;
}

/* <Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging> */
static s3_err_t tags_from_xml(s3_req_t *q, size_t max, store_kv_t **tags, size_t *n)
{
    xml_node_t *root = xml_parse(q->r->arena, q->body.data ? q->body.data : "", q->body.len);
    xml_node_t *set = root && strcmp(root->name, "Tagging") == 0 ? xml_child(root, "TagSet") : NULL;
    if (!set)
        return S3_ERR_MALFORMED_XML;
    size_t cnt = xml_count(set, "Tag");
    store_kv_t *kv = arena_alloc(q->r->arena, (cnt ? cnt : 1) * sizeof *kv);
    if (!kv)
        return S3_ERR_INTERNAL;
    size_t k = 0;
    for (xml_node_t *t = set->first; t; t = t->next) {
        if (strcmp(t->name, "Tag") != 0)
            continue;
        const char *key = xml_child_text(t, "Key");
        const char *val = xml_child_text(t, "Value");
        if (!key || !val)
            return S3_ERR_MALFORMED_XML;
        kv[k].name = key;
        kv[k].value = val;
        k++;
    }
    s3_err_t rc = check_tags(q, kv, k, max);
    if (rc != S3_OK)
        return rc;
    *tags = kv;
    *n = k;
    return S3_OK;
}

static void write_tagging(buf_t *o, const store_kv_t *t, size_t n)
{
    xmlw_root(o, "Tagging");
    xmlw_open(o, "TagSet");
    for (size_t i = 0; i < n; i++) {
        xmlw_open(o, "Tag");
        xmlw_elem(o, "Key", t[i].name);
        xmlw_elem(o, "Value", t[i].value);
        xmlw_close(o, "Tag");
    }
    xmlw_close(o, "TagSet");
    xmlw_close(o, "Tagging");
}

static void version_header(s3_req_t *q, const store_object_t *o)
{
    if (o->version_id && strcmp(o->version_id, "null") != 0)
        http_set_header(q->r, "x-amz-version-id", o->version_id);
}

static s3_err_t update_tags(s3_req_t *q, const store_kv_t *tags, size_t n, store_object_t *out)
{
    store_object_t fields = {.tags = tags, .ntags = n};
    store_rc_t rc = store_object_update(q->s3->st, q->r->arena, q->bucket, q->key, q->key_len,
                                        http_param_value(q->r, "versionId"), STORE_UPD_TAGS,
                                        &fields, out);
    if (rc == STORE_NOT_FOUND)
        return http_param_value(q->r, "versionId") ? S3_ERR_NO_SUCH_VERSION : S3_ERR_NO_SUCH_KEY;
    if (rc == STORE_INVALID)
        return http_param_value(q->r, "versionId") ? S3_ERR_METHOD_NOT_ALLOWED
                                                   : S3_ERR_INVALID_VERSION_ID;
    return s3_err_from_store(rc);
}

static s3_err_t put_object_tagging_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    store_kv_t *tags = NULL;
    size_t n = 0;
    s3_err_t rc = s3_check_body_digests(q, false);
    if (rc == S3_OK)
        rc = tags_from_xml(q, S3_MAX_OBJECT_TAGS, &tags, &n);
    if (rc != S3_OK)
        return rc;
    store_object_t out;
    if ((rc = update_tags(q, tags, n, &out)) != S3_OK)
        return rc;
    version_header(q, &out);
    q->r->status = 200;
    return S3_OK;
}

static s3_err_t delete_object_tagging_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    store_object_t out;
    s3_err_t rc = update_tags(q, NULL, 0, &out);
    if (rc != S3_OK)
        return rc;
    version_header(q, &out);
    q->r->status = 204;
    return S3_OK;
}

static s3_err_t get_object_tagging_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    const char *vid = http_param_value(q->r, "versionId");
    store_object_t o;
    store_rc_t rc = store_object_get(q->s3->st, q->r->arena, q->bucket, q->key, q->key_len, vid, &o);
    if (rc == STORE_NOT_FOUND || (rc == STORE_OK && o.delete_marker && !vid))
        return vid ? S3_ERR_NO_SUCH_VERSION : S3_ERR_NO_SUCH_KEY;
    if (rc == STORE_INVALID)
        return S3_ERR_INVALID_VERSION_ID;
    if (rc != STORE_OK)
        return s3_err_from_store(rc);
    if (o.delete_marker)
        return S3_ERR_METHOD_NOT_ALLOWED;
    write_tagging(&q->r->out, o.tags, o.ntags);
    version_header(q, &o);
    s3_xml_ok(q);
    return S3_OK;
}

const s3_op_t s3_op_put_object_tagging = {"PutObjectTagging", false, s3_begin_xml_body,
                                          put_object_tagging_run};
const s3_op_t s3_op_get_object_tagging = {"GetObjectTagging", false, s3_begin_no_body,
                                          get_object_tagging_run};
const s3_op_t s3_op_delete_object_tagging = {"DeleteObjectTagging", false, s3_begin_no_body,
                                             delete_object_tagging_run};

/* ---- bucket tagging: the canonical document is stored as conf "tagging" */

static s3_err_t put_bucket_tagging_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    store_kv_t *tags = NULL;
    size_t n = 0;
    s3_err_t rc = s3_check_body_digests(q, false);
    if (rc == S3_OK)
        rc = tags_from_xml(q, S3_MAX_BUCKET_TAGS, &tags, &n);
    if (rc != S3_OK)
        return rc;
    buf_t doc;
    buf_init(&doc, S3_MAX_XML_BODY_BYTES);
    write_tagging(&doc, tags, n);
    store_rc_t src = store_bucket_conf_put(q->s3->st, q->bucket, "tagging", doc.data, doc.len);
    buf_release(&doc);
    if (src != STORE_OK)
        return s3_err_from_store(src);
    q->r->status = 204;
    return S3_OK;
}

static s3_err_t get_bucket_tagging_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    char *doc = NULL;
    size_t len = 0;
    s3_err_t rc = s3_conf_get(q, "tagging", S3_ERR_NO_SUCH_TAG_SET, &doc, &len);
    if (rc != S3_OK)
        return rc;
    buf_append(&q->r->out, doc, len);
    s3_xml_ok(q);
    return S3_OK;
}

static s3_err_t delete_bucket_tagging_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    return s3_conf_delete(q, "tagging");
}

const s3_op_t s3_op_put_bucket_tagging = {"PutBucketTagging", false, s3_begin_xml_body,
                                          put_bucket_tagging_run};
const s3_op_t s3_op_get_bucket_tagging = {"GetBucketTagging", false, s3_begin_no_body,
                                          get_bucket_tagging_run};
const s3_op_t s3_op_delete_bucket_tagging = {"DeleteBucketTagging", false, s3_begin_no_body,
                                             delete_bucket_tagging_run};
