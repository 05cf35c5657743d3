/* s3/versioning.c: Get/PutBucketVersioning and ListObjectVersions (S3 API
 * Reference; "Using versioning in S3 buckets" in the User Guide). */
#include "s3/s3_int.h"

#include "util/parse.h"
#include "util/uri.h"
#include "util/xml.h"
#include "util/xmlw.h"

#include <string.h>

static s3_err_t bucket_rc(store_rc_t rc)
{
    return rc == STORE_NOT_FOUND ? S3_ERR_NO_SUCH_BUCKET : s3_err_from_store(rc);
}

static s3_err_t get_versioning_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    store_bucket_t b;
    store_rc_t rc = store_bucket_get(q->s3->st, q->r->arena, q->bucket, &b);
    if (rc != STORE_OK)
        return bucket_rc(rc);
    buf_t *o = &q->r->out;
    xmlw_root(o, "VersioningConfiguration");
    if (b.versioning == STORE_VERSIONING_ENABLED)
        xmlw_elem(o, "Status", "Enabled");
    else if (b.versioning == STORE_VERSIONING_SUSPENDED)
        xmlw_elem(o, "Status", "Suspended");
    xmlw_close(o, "VersioningConfiguration");
    s3_xml_ok(q);
    return S3_OK;
}

static s3_err_t put_versioning_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    xml_node_t *root = xml_parse(q->r->arena, q->body.data ? q->body.data : "", q->body.len);
    if (!root || strcmp(root->name, "VersioningConfiguration") != 0)
        return S3_ERR_MALFORMED_XML;
    const char *st = xml_child_text(root, "Status");
    const char *mfa = xml_child_text(root, "MfaDelete");
    if (mfa && strcmp(mfa, "Disabled") != 0) {
        q->err_msg = "MFA Delete is not supported by this server.";
        return S3_ERR_NOT_IMPLEMENTED;
    }
    store_versioning_t v;
    if (st && strcmp(st, "Enabled") == 0)
        v = STORE_VERSIONING_ENABLED;
    else if (st && strcmp(st, "Suspended") == 0)
        v = STORE_VERSIONING_SUSPENDED;
    else
        return S3_ERR_MALFORMED_XML;
    store_bucket_t b;
    store_rc_t rc = store_bucket_get(q->s3->st, q->r->arena, q->bucket, &b);
    if (rc != STORE_OK)
        return bucket_rc(rc);
    if (b.object_lock && v == STORE_VERSIONING_SUSPENDED) {
        q->err_msg = "An Object Lock configuration is present on this bucket, so the versioning "
                     "state cannot be changed.";
        return S3_ERR_INVALID_BUCKET_STATE;
    }
    rc = store_bucket_set_versioning(q->s3->st, q->bucket, v);
    if (rc != STORE_OK)
        return bucket_rc(rc);
    q->r->status = 200;
    return S3_OK;
}

const s3_op_t s3_op_get_bucket_versioning = {"GetBucketVersioning", false, s3_begin_no_body,
                                             get_versioning_run};
const s3_op_t s3_op_put_bucket_versioning = {"PutBucketVersioning", false, s3_begin_xml_body,
                                             put_versioning_run};

/* ---- ListObjectVersions ----------------------------------------------- */

typedef struct {
    s3_req_t *q;
    const char *prefix, *delim;
    size_t prefix_len, delim_len;
    uint64_t max, count;
    bool truncated, url;
    buf_t items;
    const char *next_key, *next_vid;
    size_t next_key_len;
} versions_t;

static store_iter_rc_t version_cb(void *arg, const store_object_t *o, buf_t *skip)
{
    versions_t *l = arg;
    arena_t *a = l->q->r->arena;
    const char *rest = o->key + l->prefix_len;
    size_t rest_len = o->key_len - l->prefix_len;
    const char *d = NULL;
    for (size_t i = 0; l->delim_len && i + l->delim_len <= rest_len; i++)
        if (memcmp(rest + i, l->delim, l->delim_len) == 0) {
            d = rest + i;
            break;
        }
    if (l->count == l->max) {
        l->truncated = l->max > 0; /* max-keys=0 asks for nothing, not for a page */
        return STORE_ITER_STOP;
    }
    l->count++;
    buf_t *b = &l->items;
    if (d) {
        size_t plen = (size_t)(d - o->key) + l->delim_len;
        xmlw_open(b, "CommonPrefixes");
        s3_xml_key(b, "Prefix", o->key, plen, l->url);
        xmlw_close(b, "CommonPrefixes");
        l->next_key = arena_strndup(a, o->key, plen);
        l->next_key_len = plen;
        l->next_vid = NULL;
        buf_append(skip, o->key, plen);
        return STORE_ITER_SKIP;
    }
    const char *tag = o->delete_marker ? "DeleteMarker" : "Version";
    xmlw_open(b, tag);
    s3_xml_key(b, "Key", o->key, o->key_len, l->url);
    xmlw_elem(b, "VersionId", o->version_id ? o->version_id : "null");
    xmlw_elem_bool(b, "IsLatest", o->is_latest);
    xmlw_elem(b, "LastModified", s3_iso_time(l->q, o->mtime_ms));
    if (!o->delete_marker) {
        char etag[80];
        s3_etag_quoted(o->etag, etag, sizeof etag);
        xmlw_elem(b, "ETag", etag);
        if (o->checksum_algo && *o->checksum_algo) {
            xmlw_elem(b, "ChecksumAlgorithm", o->checksum_algo);
            if (o->checksum_type)
                xmlw_elem(b, "ChecksumType", o->checksum_type);
        }
        xmlw_elem_u64(b, "Size", o->size);
        xmlw_elem(b, "StorageClass", o->storage_class && *o->storage_class ? o->storage_class
                                                                          : "STANDARD");
    }
    s3_owner_xml(l->q, b, "Owner");
    xmlw_close(b, tag);
    l->next_key = arena_strndup(a, o->key, o->key_len);
    l->next_key_len = o->key_len;
    l->next_vid = arena_strdup(a, o->version_id ? o->version_id : "null");
    return STORE_ITER_NEXT;
}

static s3_err_t list_versions_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    http_req_t *r = q->r;
    versions_t l = {.q = q, .max = S3_MAX_LIST_KEYS};
    l.prefix = http_param_value(r, "prefix");
    l.prefix = l.prefix ? l.prefix : "";
    l.prefix_len = strlen(l.prefix);
    l.delim = http_param_value(r, "delimiter");
    l.delim_len = l.delim ? strlen(l.delim) : 0;
    const char *mk = http_param_value(r, "max-keys");
    if (mk) {
        parse_rc_t prc = parse_u64_str(mk, UINT64_MAX, &l.max);
        if (prc == PARSE_RANGE)
            l.max = S3_MAX_LIST_KEYS;
        else if (prc != PARSE_OK)
            return S3_ERR_INVALID_ARGUMENT;
        if (l.max > S3_MAX_LIST_KEYS)
            l.max = S3_MAX_LIST_KEYS;
    }
    const char *enc = http_param_value(r, "encoding-type");
    if (enc && strcmp(enc, "url") != 0)
        return S3_ERR_INVALID_ARGUMENT;
    l.url = enc != NULL;
    const char *km = http_param_value(r, "key-marker");
    const char *vm = http_param_value(r, "version-id-marker");
    if (vm && *vm && (!km || !*km)) {
        q->err_msg = "A version-id marker cannot be specified without a key marker.";
        return S3_ERR_INVALID_ARGUMENT;
    }
    const char *start = km && *km ? km : NULL;
    size_t kml = start ? strlen(start) : 0;
    if (start && !(vm && *vm) && l.delim_len && kml >= l.delim_len &&
        memcmp(start + kml - l.delim_len, l.delim, l.delim_len) == 0) {
        /* A CommonPrefix marker: resume after every key under it (keys are
         * UTF-8 and never contain 0xFF). */
        char *s = arena_alloc(r->arena, kml + 2);
        if (!s)
            return S3_ERR_INTERNAL;
        memcpy(s, start, kml);
        s[kml] = (char)0xFF;
        start = s;
    }
    buf_init(&l.items, BUF_MAX_DEFAULT);
    store_rc_t rc = store_version_list(q->s3->st, r->arena, q->bucket, l.prefix, start, vm && *vm ? vm : NULL, version_cb,
                                       &l);
    if (rc != STORE_OK) {
        buf_release(&l.items);
        if (rc == STORE_INVALID)
            return S3_ERR_INVALID_ARGUMENT;
        return bucket_rc(rc);
    }
    buf_t *o = &r->out;
    xmlw_root(o, "ListVersionsResult");
    xmlw_elem(o, "Name", q->bucket);
    s3_xml_key(o, "Prefix", l.prefix, l.prefix_len, l.url);
    s3_xml_key(o, "KeyMarker", km ? km : "", km ? strlen(km) : 0, l.url);
    xmlw_elem(o, "VersionIdMarker", vm ? vm : "");
    if (l.truncated && l.next_key) {
        s3_xml_key(o, "NextKeyMarker", l.next_key, l.next_key_len, l.url);
        if (l.next_vid)
            xmlw_elem(o, "NextVersionIdMarker", l.next_vid);
    }
    xmlw_elem_u64(o, "MaxKeys", l.max);
    if (l.delim)
        s3_xml_key(o, "Delimiter", l.delim, l.delim_len, l.url);
    if (l.url)
        xmlw_elem(o, "EncodingType", "url");
    xmlw_elem_bool(o, "IsTruncated", l.truncated);
    buf_append(o, l.items.data ? l.items.data : "", l.items.len);
    xmlw_close(o, "ListVersionsResult");
    buf_release(&l.items);
    s3_xml_ok(q);
    return S3_OK;
}

const s3_op_t s3_op_list_object_versions = {"ListObjectVersions", false, s3_begin_no_body,
                                            list_versions_run};
