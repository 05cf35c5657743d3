/* s3/list.c: ListObjectsV2 and ListObjects (v1) (S3 API Reference).
 *
 * Keys and CommonPrefixes are merged in key order and count together against
 * max-keys. A CommonPrefix appears only if at least one live (non delete
 * marker) key lies under it; the store then skips the rest of that prefix.
 *
 * Continuation tokens are opaque to clients: base64 of "K<key>" (resume after
 * that key) or "P<prefix>" (resume after every key under that prefix). */
#include "s3/s3_int.h"

#include "util/codec.h"
#include "util/parse.h"
#include "util/uri.h"
#include "util/xmlw.h"

#include <string.h>

typedef struct {
    s3_req_t *q;
    const char *prefix;
    size_t prefix_len;
    const char *delim;
    size_t delim_len;
    uint64_t max;
    uint64_t count;
    bool truncated;
    bool url; /* encoding-type=url */
    bool owner;
    buf_t items;        /* <Contents>/<CommonPrefixes> in order */
    const char *last;   /* last key or prefix emitted */
    size_t last_len;
    bool last_is_prefix;
} lister_t;

/* Writes a key-like value, URL-encoded when asked. */
static store_iter_rc_t list_cb(void *arg, const store_object_t *o, buf_t *skip)
{
    lister_t *l = arg;
    if (o->delete_marker)
        return STORE_ITER_NEXT;
    const char *rest = o->key + l->prefix_len;
    size_t rest_len = o->key_len - l->prefix_len;
    const char *d = NULL;
    if (l->delim_len) {
        for (size_t i = 0; i + l->delim_len <= rest_len; i++)
            if (memcmp(rest + i, l->delim, l->delim_len) == 0) {
                d = rest + i;
                break;
            }
    }
    if (l->count == l->max) {
        l->truncated = l->max > 0; /* max-keys=0 asks for nothing, not for a page */
        return STORE_ITER_STOP;
    }
    buf_t *b = &l->items;
    l->count++;
    if (d) {
        size_t plen = (size_t)(d - o->key) + l->delim_len;
        xmlw_open(b, "CommonPrefixes");
        s3_xml_key(b, "Prefix", o->key, plen, l->url);
        xmlw_close(b, "CommonPrefixes");
        l->last = arena_strndup(l->q->r->arena, o->key, plen);
        l->last_len = plen;
        l->last_is_prefix = true;
        buf_append(skip, o->key, plen);
        return STORE_ITER_SKIP;
    }
    xmlw_open(b, "Contents");
    s3_xml_key(b, "Key", o->key, o->key_len, l->url);
    xmlw_elem(b, "LastModified", s3_iso_time(l->q, o->mtime_ms));
    char etag[80];
    s3_etag_quoted(o->etag, etag, sizeof etag);
    xmlw_elem(b, "ETag", etag);
    if (o->checksum_algo && *o->checksum_algo) {
        xmlw_elem(b, "ChecksumAlgorithm", o->checksum_algo);
        if (o->checksum_type)
            xmlw_elem(b, "ChecksumType", o->checksum_type);
    }
    xmlw_elem_u64(b, "Size", o->size);
    if (l->owner) {
        s3_owner_xml(l->q, b, "Owner");
    }
    xmlw_elem(b, "StorageClass", o->storage_class && *o->storage_class ? o->storage_class
                                                                      : "STANDARD");
    xmlw_close(b, "Contents");
    l->last = o->key;
    l->last_len = o->key_len;
    l->last_is_prefix = false;
    return STORE_ITER_NEXT;
}

/* Common parameters of both versions. */
static s3_err_t lister_init(s3_req_t *q, lister_t *l)
{
    http_req_t *r = q->r;
    memset(l, 0, sizeof *l);
    l->q = q;
    l->max = S3_MAX_LIST_KEYS;
    l->prefix = http_param_value(r, "prefix");
    if (!l->prefix)
        l->prefix = "";
    l->prefix_len = strlen(l->prefix);
    l->delim = http_param_value(r, "delimiter");
    l->delim_len = l->delim ? strlen(l->delim) : 0;
    const char *mk = http_param_value(r, "max-keys");
    if (mk) {
        parse_rc_t prc = parse_u64_str(mk, UINT64_MAX, &l->max);
        if (prc == PARSE_RANGE)
            l->max = S3_MAX_LIST_KEYS;
        else if (prc != PARSE_OK)
            return S3_ERR_INVALID_ARGUMENT;
        if (l->max > S3_MAX_LIST_KEYS)
            l->max = S3_MAX_LIST_KEYS;
    }
    const char *enc = http_param_value(r, "encoding-type");
    if (enc) {
        if (strcmp(enc, "url") != 0)
            return S3_ERR_INVALID_ARGUMENT;
        l->url = true;
    }
    buf_init(&l->items, BUF_MAX_DEFAULT);
    return S3_OK;
}

static s3_err_t run_listing(lister_t *l, const char *start_after, size_t start_len)
{
    store_rc_t rc = store_object_list(l->q->s3->st, l->q->r->arena, l->q->bucket, l->prefix,
                                      start_after, start_len, list_cb, l);
    if (rc != STORE_OK) {
        buf_release(&l->items);
        return rc == STORE_NOT_FOUND ? S3_ERR_NO_SUCH_BUCKET : s3_err_from_store(rc);
    }
    return S3_OK;
}

/* A resume point after every key under `prefix`: keys are UTF-8, which never
 * contains 0xFF, so prefix + 0xFF sorts after all of them. */
static char *after_prefix(arena_t *a, const char *p, size_t n, size_t *out_len)
{
    char *s = arena_alloc(a, n + 2);
    if (!s)
        return NULL;
    memcpy(s, p, n);
    s[n] = (char)0xFF;
    *out_len = n + 1;
    return s;
}

static char *make_token(lister_t *l)
{
    arena_t *a = l->q->r->arena;
    char *raw = arena_alloc(a, l->last_len + 2);
    char *tok = arena_alloc(a, 4 * ((l->last_len + 1) / 3 + 1) + 1);
    if (!raw || !tok)
        return NULL;
    raw[0] = l->last_is_prefix ? 'P' : 'K';
    if (l->last_len)
        memcpy(raw + 1, l->last, l->last_len);
    codec_b64(raw, l->last_len + 1, tok);
    return tok;
}

static s3_err_t list_v2_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    http_req_t *r = q->r;
    lister_t l;
    s3_err_t rc = lister_init(q, &l);
    if (rc != S3_OK)
        return rc;
    const char *fo = http_param_value(r, "fetch-owner");
    l.owner = fo && strcmp(fo, "true") == 0;
    const char *token = http_param_value(r, "continuation-token");
    const char *sa = http_param_value(r, "start-after");
    const char *start = sa;
    size_t start_len = sa ? strlen(sa) : 0;
    if (token) {
        size_t tl = strlen(token), n = 0;
        uint8_t *raw = arena_alloc(r->arena, tl + 1);
        if (!raw || !codec_unb64(token, tl, raw, tl, &n) || n < 1 ||
            (raw[0] != 'K' && raw[0] != 'P')) {
            buf_release(&l.items);
            return S3_ERR_INVALID_ARGUMENT;
        }
        if (raw[0] == 'P')
            start = after_prefix(r->arena, (const char *)raw + 1, n - 1, &start_len);
        else {
            start = (const char *)raw + 1;
            start_len = n - 1;
        }
    }
    if ((rc = run_listing(&l, start, start_len)) != S3_OK)
        return rc;

    buf_t *o = &r->out;
    xmlw_root(o, "ListBucketResult");
    xmlw_elem(o, "Name", q->bucket);
    s3_xml_key(o, "Prefix", l.prefix, l.prefix_len, l.url);
    if (l.delim)
        s3_xml_key(o, "Delimiter", l.delim, l.delim_len, l.url);
    xmlw_elem_u64(o, "MaxKeys", l.max);
    if (l.url)
        xmlw_elem(o, "EncodingType", "url");
    xmlw_elem_u64(o, "KeyCount", l.count);
    xmlw_elem_bool(o, "IsTruncated", l.truncated);
    if (token)
        xmlw_elem(o, "ContinuationToken", token);
    if (l.truncated) {
        char *next = make_token(&l);
        if (next)
            xmlw_elem(o, "NextContinuationToken", next);
    }
    if (sa)
        s3_xml_key(o, "StartAfter", sa, strlen(sa), l.url);
    buf_append(o, l.items.data ? l.items.data : "", l.items.len);
    xmlw_close(o, "ListBucketResult");
    bool ok = buf_ok(&l.items);
    buf_release(&l.items);
    if (!ok)
        return S3_ERR_INTERNAL;
    s3_xml_ok(q);
    return S3_OK;
}

const s3_op_t s3_op_list_objects_v2 = {"ListObjectsV2", false, s3_begin_no_body, list_v2_run};

static s3_err_t list_v1_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    http_req_t *r = q->r;
    lister_t l;
    s3_err_t rc = lister_init(q, &l);
    if (rc != S3_OK)
        return rc;
    l.owner = true; /* v1 always lists the owner */
    const char *marker = http_param_value(r, "marker");
    const char *start = marker;
    size_t start_len = marker ? strlen(marker) : 0;
    /* A marker that is a CommonPrefix resumes after everything under it. */
    if (marker && l.delim_len && start_len >= l.delim_len &&
        memcmp(marker + start_len - l.delim_len, l.delim, l.delim_len) == 0 &&
        strncmp(marker, l.prefix, l.prefix_len) == 0)
        start = after_prefix(r->arena, marker, start_len, &start_len);
    if ((rc = run_listing(&l, start, start_len)) != S3_OK)
        return rc;

    buf_t *o = &r->out;
    xmlw_root(o, "ListBucketResult");
    xmlw_elem(o, "Name", q->bucket);
    s3_xml_key(o, "Prefix", l.prefix, l.prefix_len, l.url);
    s3_xml_key(o, "Marker", marker ? marker : "", marker ? strlen(marker) : 0, l.url);
    if (l.truncated && l.delim)
        s3_xml_key(o, "NextMarker", l.last, l.last_len, l.url);
    xmlw_elem_u64(o, "MaxKeys", l.max);
    if (l.delim)
        s3_xml_key(o, "Delimiter", l.delim, l.delim_len, l.url);
    if (l.url)
        xmlw_elem(o, "EncodingType", "url");
    xmlw_elem_bool(o, "IsTruncated", l.truncated);
    buf_append(o, l.items.data ? l.items.data : "", l.items.len);
    xmlw_close(o, "ListBucketResult");
    bool ok = buf_ok(&l.items);
    buf_release(&l.items);
    if (!ok)
        return S3_ERR_INTERNAL;
    s3_xml_ok(q);
    return S3_OK;
}

const s3_op_t s3_op_list_objects = {"ListObjects", false, s3_begin_no_body, list_v1_run};
