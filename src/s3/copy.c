/* s3/copy.c: CopyObject and UploadPartCopy (S3 API Reference).
 *
 * CopyObject shares the source's bytes: the new version references the same
 * blobs (refcount +1), so a copy costs one index commit, not a rewrite. The
 * ETag and checksum therefore stay the source's. UploadPartCopy reads the
 * requested range into a new part blob, because a part's ETag is the MD5 of
 * exactly its bytes. */
#include "s3/s3_int.h"

#include "util/clock.h"
#include "http/range.h"
#include "util/parse.h"
#include "util/timefmt.h"
#include "util/uri.h"
#include "util/xmlw.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define S3_MAX_COPY_BYTES ((uint64_t)5 << 30)
#define COPY_READ_BYTES ((size_t)1 << 20)

typedef struct {
    const char *bucket, *key, *version_id;
    size_t key_len;
    store_object_t obj;
} copy_source_t;

/* Parses x-amz-copy-source ("[/]bucket/key[?versionId=v]", URL-encoded) and
 * loads the source version, applying x-amz-copy-source-if-*. */
static s3_err_t load_source(s3_req_t *q, copy_source_t *src)
{
    http_req_t *r = q->r;
    const char *h = http_header(r, "x-amz-copy-source");
    if (!h || !*h)
        return S3_ERR_INVALID_ARGUMENT;
    if (*h == '/')
        h++;
    const char *qm = strchr(h, '?');
    size_t path_len = qm ? (size_t)(qm - h) : strlen(h);
    buf_t b;
    buf_init(&b, 16 << 10);
    bool ok = uri_decode(&b, h, path_len, false);
    const char *path = arena_strndup(r->arena, buf_cstr(&b), b.len);
    size_t plen = b.len;
    buf_release(&b);
    const char *slash = ok && path ? memchr(path, '/', plen) : NULL;
    if (!slash || slash == path || (size_t)(slash - path) + 1 == plen) {
        q->err_msg = "Copy Source must mention the source bucket and key: sourcebucket/sourcekey";
        return S3_ERR_INVALID_ARGUMENT;
    }
    src->bucket = arena_strndup(r->arena, path, (size_t)(slash - path));
    src->key = slash + 1;
    src->key_len = plen - (size_t)(slash - path) - 1;
    if (!parse_utf8_valid(src->key, src->key_len) || memchr(src->key, '\0', src->key_len))
        return S3_ERR_INVALID_URI;
    if (src->key_len > S3_MAX_KEY_BYTES)
        return S3_ERR_KEY_TOO_LONG;
    const char *owner = http_header(r, "x-amz-source-expected-bucket-owner");
    if (owner && strcmp(owner, q->s3->cfg->account_id) != 0)
        return S3_ERR_ACCESS_DENIED;
    if (qm) {
        if (strncmp(qm + 1, "versionId=", 10) != 0)
            return S3_ERR_INVALID_ARGUMENT;
        src->version_id = arena_strdup(r->arena, qm + 11);
    }
    s3_err_t arc = s3_authorize(q, src->bucket, src->version_id ? "s3:GetObjectVersion"
                                                                : "s3:GetObject",
                                src->key, src->key_len);
    if (arc != S3_OK)
        return arc;
    store_rc_t rc = store_object_get(q->s3->st, r->arena, src->bucket, src->key, src->key_len,
                                     src->version_id, &src->obj);
    if (rc == STORE_NOT_FOUND)
        return src->version_id ? S3_ERR_NO_SUCH_VERSION : S3_ERR_NO_SUCH_KEY;
    if (rc == STORE_INVALID)
        return S3_ERR_INVALID_VERSION_ID;
    if (rc != STORE_OK)
        return s3_err_from_store(rc);
    if (src->obj.delete_marker) {
        if (!src->version_id)
            return S3_ERR_NO_SUCH_KEY;
        q->err_msg = "The source of a copy request may not specifically refer to a delete "
                     "marker by version id.";
        return S3_ERR_INVALID_REQUEST;
    }
    /* Copy conditions all fail with 412, including the "not modified" ones. */
    http_cond_rc_t c = http_conditional(http_header(r, "x-amz-copy-source-if-match"),
                                        http_header(r, "x-amz-copy-source-if-unmodified-since"),
                                        http_header(r, "x-amz-copy-source-if-none-match"),
                                        http_header(r, "x-amz-copy-source-if-modified-since"),
                                        src->obj.etag, src->obj.mtime_ms / 1000);
    if (c != HTTP_COND_PASS)
        return S3_ERR_PRECONDITION_FAILED;
    if (src->obj.size > S3_MAX_COPY_BYTES) {
        q->err_msg = "The specified copy source is larger than the maximum allowable size for a "
                     "copy source: 5368709120";
        return S3_ERR_INVALID_REQUEST;
    }
    char vid[160] = "";
    if (src->obj.version_id && strcmp(src->obj.version_id, "null") != 0)
        snprintf(vid, sizeof vid, "%s", src->obj.version_id);
    if (*vid)
        http_set_header(r, "x-amz-copy-source-version-id", vid);
    return S3_OK;
}

static s3_err_t directive(const http_req_t *r, const char *hdr, bool *replace)
{
    const char *v = http_header(r, hdr);
    *replace = false;
    if (!v || strcmp(v, "COPY") == 0)
        return S3_OK;
    if (strcmp(v, "REPLACE") == 0) {
        *replace = true;
        return S3_OK;
    }
    return S3_ERR_INVALID_ARGUMENT;
}

static s3_err_t copy_begin(s3_req_t *q)
{
    store_bucket_t b;
    store_rc_t rc = store_bucket_get(q->s3->st, q->r->arena, q->bucket, &b);
    if (rc != STORE_OK)
        return rc == STORE_NOT_FOUND ? S3_ERR_NO_SUCH_BUCKET : s3_err_from_store(rc);
    return S3_OK;
}

static s3_err_t copy_object_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    http_req_t *r = q->r;
    copy_source_t src = {0};
    s3_err_t rc = load_source(q, &src);
    if (rc != S3_OK)
        return rc;
    bool meta_replace, tags_replace;
    if ((rc = directive(r, "x-amz-metadata-directive", &meta_replace)) != S3_OK ||
        (rc = directive(r, "x-amz-tagging-directive", &tags_replace)) != S3_OK)
        return rc;
    const char *sc = http_header(r, "x-amz-storage-class");
    bool same = strcmp(src.bucket, q->bucket) == 0 && src.key_len == q->key_len &&
                memcmp(src.key, q->key, q->key_len) == 0;
    if (same && !meta_replace && !sc && !http_header(r, "x-amz-website-redirect-location") &&
        !src.version_id) {
        q->err_msg = "This copy request is illegal because it is trying to copy an object to "
                     "itself without changing the object's metadata, storage class, website "
                     "redirect location or encryption attributes.";
        return S3_ERR_INVALID_REQUEST;
    }

    store_put_t in = {.bucket = q->bucket, .copy_from = &src.obj};
    store_object_t *o = &in.obj;
    store_object_t fromreq = {0};
    if ((rc = s3_object_meta_from_headers(q, &fromreq)) != S3_OK)
        return rc;
    if (meta_replace) {
        *o = fromreq;
    } else {
        *o = src.obj;
        o->storage_class = fromreq.storage_class;
        if (http_header(r, "x-amz-website-redirect-location"))
            o->website_redirect = fromreq.website_redirect;
    }
    if (tags_replace) {
        o->tags = fromreq.tags;
        o->ntags = fromreq.ntags;
    } else {
        o->tags = src.obj.tags;
        o->ntags = src.obj.ntags;
    }
    o->key = q->key;
    o->key_len = q->key_len;
    o->version_id = NULL;
    o->delete_marker = false;
    o->size = src.obj.size;
    o->etag = src.obj.etag;
    o->checksum_algo = src.obj.checksum_algo;
    o->checksum_value = src.obj.checksum_value;
    o->checksum_type = src.obj.checksum_type;
    o->parts_count = src.obj.parts_count;
    o->part_sizes = src.obj.part_sizes;
    o->mtime_ms = clock_now_ms();
    o->owner = q->s3->cfg->account_id;
    o->lock_mode = NULL;
    o->lock_until_ms = 0;
    o->legal_hold = false;
    if ((rc = s3_lock_from_headers(q, o, o->mtime_ms)) != S3_OK)
        return rc;
    o->inline_data = NULL;
    o->inline_len = 0;
    o->segs = NULL;
    o->nsegs = 0;
    if ((rc = s3_write_conditions(q, &in)) != S3_OK)
        return rc;
    store_object_t out;
    store_rc_t src_rc = store_object_put(q->s3->st, r->arena, &in, &out);
    if (src_rc != STORE_OK)
        return src_rc == STORE_NOT_FOUND ? S3_ERR_NO_SUCH_KEY : s3_err_from_store(src_rc);
    buf_t *x = &r->out;
    xmlw_root(x, "CopyObjectResult");
    char etag[96];
    s3_etag_quoted(out.etag ? out.etag : o->etag, etag, sizeof etag);
    xmlw_elem(x, "ETag", etag);
    xmlw_elem(x, "LastModified", s3_iso_time(q, o->mtime_ms));
    if (o->checksum_algo && o->checksum_value && *o->checksum_algo) {
        char tag[32];
        snprintf(tag, sizeof tag, "Checksum%s", o->checksum_algo);
        xmlw_elem(x, tag, o->checksum_value);
        if (o->checksum_type)
            xmlw_elem(x, "ChecksumType", o->checksum_type);
    }
    xmlw_close(x, "CopyObjectResult");
    if (out.version_id && strcmp(out.version_id, "null") != 0)
        http_set_header(r, "x-amz-version-id", out.version_id);
    s3_xml_ok(q);
    return S3_OK;
}

const s3_op_t s3_op_copy_object = {"CopyObject", false, copy_begin, copy_object_run};

/* ---- UploadPartCopy --------------------------------------------------- */

/* Streams bytes [first, last] of o through the request's digests into q->blob. */
static s3_err_t read_range_into_blob(s3_req_t *q, const store_object_t *o, uint64_t first,
                                     uint64_t last)
{
    if (o->size == 0)
        return S3_OK;
    if (o->inline_data) {
        if (last >= o->inline_len)
            return S3_ERR_INTERNAL;
        return s3_body(q, (const char *)o->inline_data + first, last - first + 1) ? q->body_err
                                                                                  : q->body_err;
    }
    char *buf = arena_alloc(q->r->arena, COPY_READ_BYTES);
    if (!buf)
        return S3_ERR_INTERNAL;
    uint64_t pos = 0;
    for (size_t i = 0; i < o->nsegs && pos <= last; i++) {
        const store_seg_t *sg = &o->segs[i];
        uint64_t s_first = pos, s_last = pos + sg->length - 1;
        pos += sg->length;
        if (sg->length == 0 || s_last < first)
            continue;
        uint64_t from = first > s_first ? first - s_first : 0;
        uint64_t to = (last < s_last ? last : s_last) - s_first;
        int fd = -1;
        if (store_blob_open(q->s3->st, sg->blob_id, &fd) != STORE_OK)
            return S3_ERR_INTERNAL;
        for (uint64_t off = from; off <= to;) {
            size_t want = to - off + 1 < COPY_READ_BYTES ? (size_t)(to - off + 1) : COPY_READ_BYTES;
            ssize_t got = pread(fd, buf, want, (off_t)(sg->offset + off));
            if (got <= 0) {
                close(fd);
                return S3_ERR_INTERNAL;
            }
            s3_body(q, buf, (size_t)got);
            if (q->body_err != S3_OK) {
                close(fd);
                return q->body_err;
            }
            off += (uint64_t)got;
        }
        close(fd);
    }
    return S3_OK;
}

static s3_err_t upload_part_copy_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    http_req_t *r = q->r;
    uint32_t part_number = 0;
    s3_err_t rc = s3_part_number(q, &part_number);
    if (rc != S3_OK)
        return rc;
    const char *uid = http_param_value(r, "uploadId");
    store_upload_t up;
    store_rc_t src_rc = uid ? store_upload_get(q->s3->st, r->arena, q->bucket, uid, &up)
                            : STORE_NOT_FOUND;
    if (src_rc != STORE_OK || up.key_len != q->key_len || memcmp(up.key, q->key, q->key_len))
        return src_rc == STORE_NO_BUCKET ? S3_ERR_NO_SUCH_BUCKET : S3_ERR_NO_SUCH_UPLOAD;
    copy_source_t src = {0};
    if ((rc = load_source(q, &src)) != S3_OK)
        return rc;
    uint64_t first = 0, last = src.obj.size ? src.obj.size - 1 : 0;
    const char *range = http_header(r, "x-amz-copy-source-range");
    if (range) {
        http_range_t rg;
        /* Only "bytes=first-last" inside the source is accepted here. */
        http_range_rc_t rrc = http_range_parse(range, src.obj.size, &rg);
        if (rrc == HTTP_RANGE_UNSATISFIABLE) {
            q->err_msg = arena_printf(r->arena,
                                      "Range specified is not valid for source object of size: %llu",
                                      (unsigned long long)src.obj.size);
            return S3_ERR_INVALID_ARGUMENT;
        }
        if (strncmp(range, "bytes=", 6) != 0 || range[6] == '-' || rrc != HTTP_RANGE_OK) {
            q->err_msg = "The x-amz-copy-source-range value must be of the form bytes=first-last "
                         "where first and last are the zero-based offsets of the first and last "
                         "bytes to copy";
            return S3_ERR_INVALID_ARGUMENT;
        }
        uint64_t want_last = 0;
        const char *dash = strchr(range + 6, '-');
        if (!dash || parse_u64_str(dash + 1, UINT64_MAX, &want_last) != PARSE_OK ||
            want_last >= src.obj.size) {
            q->err_msg = arena_printf(r->arena,
                                      "Range specified is not valid for source object of size: %llu",
                                      (unsigned long long)src.obj.size);
            return S3_ERR_INVALID_ARGUMENT;
        }
        first = rg.first;
        last = rg.last;
    }
    ck_algo_t algo = up.meta.checksum_algo ? ck_algo_from_name(up.meta.checksum_algo) : CK_NONE;
    if (!ck_init(&q->md5, CK_MD5) || !ck_init(&q->ck, algo != CK_NONE ? algo : CK_CRC64NVME))
        return S3_ERR_INTERNAL;
    q->md5_on = q->ck_on = true;
    store_rc_t brc = store_blob_begin(q->s3->st, &q->blob);
    if (brc != STORE_OK)
        return s3_err_from_store(brc);
    q->body_mode = S3_BODY_BLOB;
    if ((rc = read_range_into_blob(q, &src.obj, first, src.obj.size ? last : 0)) != S3_OK)
        return rc;
    s3_payload_t p = {0};
    p.algo_used = q->ck.algo;
    if ((rc = s3_payload_finish(q, &p, NULL)) != S3_OK)
        return rc;
    store_part_t part = {
        .part_number = part_number,
        .size = q->got_bytes,
        .mtime_ms = clock_now_ms(),
        .etag = p.etag,
        .checksum_value = p.ck_b64,
    };
    store_blob_t *blob = q->blob;
    q->blob = NULL;
    src_rc = store_upload_part_put(q->s3->st, q->bucket, up.upload_id, &part, blob);
    if (src_rc != STORE_OK)
        return src_rc == STORE_NOT_FOUND ? S3_ERR_NO_SUCH_UPLOAD : s3_err_from_store(src_rc);
    buf_t *x = &r->out;
    xmlw_root(x, "CopyPartResult");
    char etag[80];
    s3_etag_quoted(p.etag, etag, sizeof etag);
    xmlw_elem(x, "ETag", etag);
    xmlw_elem(x, "LastModified", s3_iso_time(q, part.mtime_ms));
    if (algo != CK_NONE) {
        char tag[32];
        snprintf(tag, sizeof tag, "Checksum%s", ck_algo_name(algo));
        xmlw_elem(x, tag, p.ck_b64);
    }
    xmlw_close(x, "CopyPartResult");
    s3_xml_ok(q);
    return S3_OK;
}

const s3_op_t s3_op_upload_part_copy = {"UploadPartCopy", false, copy_begin, upload_part_copy_run};
