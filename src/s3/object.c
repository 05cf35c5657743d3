/* s3/object.c: PutObject, GetObject, HeadObject, DeleteObject (S3 API
 * Reference; "Checking object integrity" in the S3 User Guide for checksums).
 *
 * PutObject streams the payload into a blob while MD5 (the ETag), the
 * requested checksum (or CRC64NVME, S3's default) and any Content-MD5 are
 * computed; the object becomes visible only when the store commits it, after
 * every digest matched. A failed check leaves nothing behind. */
#include "s3/s3_int.h"

#include "util/clock.h"
#include "http/range.h"
#include "util/codec.h"
#include "util/parse.h"
#include "util/timefmt.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>


/* ---- PutObject -------------------------------------------------------- */

static s3_err_t put_object_begin(s3_req_t *q)
{
    store_bucket_t b;
    store_rc_t src = store_bucket_get(q->s3->st, q->r->arena, q->bucket, &b);
    if (src != STORE_OK)
        return src == STORE_NOT_FOUND ? S3_ERR_NO_SUCH_BUCKET : s3_err_from_store(src);
    store_object_t probe = {0};
    s3_err_t rc = s3_object_meta_from_headers(q, &probe);
    if (rc != S3_OK)
        return rc;
    s3_payload_t *p = arena_alloc(q->r->arena, sizeof *p);
    if (!p)
        return S3_ERR_INTERNAL;
    q->op_state = p;
    return s3_payload_begin(q, p, CK_CRC64NVME);
}

static s3_err_t put_object_run(s3_req_t *q, const auth_chunked_t *trailers)
{
    http_req_t *r = q->r;
    s3_payload_t *p = q->op_state;
    s3_err_t rc = s3_payload_finish(q, p, trailers);
    if (rc != S3_OK)
        return rc;
    store_put_t in = {.bucket = q->bucket, .blob = q->blob};
    q->blob = NULL; /* consumed by store_object_put, whatever it returns */
    store_object_t *o = &in.obj;
    if ((rc = s3_object_meta_from_headers(q, o)) != S3_OK) {
        store_blob_abort(in.blob);
        return rc;
    }
    o->size = q->got_bytes;
    o->mtime_ms = clock_now_ms();
    if ((rc = s3_lock_from_headers(q, o, o->mtime_ms)) != S3_OK) {
        store_blob_abort(in.blob);
        return rc;
    }
    o->etag = p->etag;
    o->checksum_algo = ck_algo_name(p->algo_used);
    o->checksum_value = p->ck_b64;
    o->checksum_type = "FULL_OBJECT";
    if ((rc = s3_write_conditions(q, &in)) != S3_OK) {
        store_blob_abort(in.blob);
        return rc;
    }
    store_object_t out;
    store_rc_t src = store_object_put(q->s3->st, r->arena, &in, &out);
    if (src != STORE_OK)
        return src == STORE_NOT_FOUND ? S3_ERR_NO_SUCH_KEY /* If-Match, no key */
                                      : s3_err_from_store(src);
    char qetag[80];
    s3_etag_quoted(p->etag, qetag, sizeof qetag);
    http_set_header(r, "ETag", qetag);
    http_set_header(r, ck_algo_header(p->algo_used), p->ck_b64);
    http_set_header(r, "x-amz-checksum-type", "FULL_OBJECT");
    if (out.version_id && strcmp(out.version_id, "null") != 0)
        http_set_header(r, "x-amz-version-id", out.version_id);
    r->status = 200;
    return S3_OK;
}

const s3_op_t s3_op_put_object = {"PutObject", false, put_object_begin, put_object_run};

/* ---- GetObject, HeadObject -------------------------------------------- */

/* Reads the version a GET/HEAD/DELETE names; maps absence to S3's errors. */
static s3_err_t load_object(s3_req_t *q, const char *version_id, store_object_t *o)
{
    store_rc_t rc = store_object_get(q->s3->st, q->r->arena, q->bucket, q->key, q->key_len,
                                     version_id, o);
    if (rc == STORE_NOT_FOUND)
        return version_id ? S3_ERR_NO_SUCH_VERSION : S3_ERR_NO_SUCH_KEY;
    if (rc == STORE_INVALID)
        return S3_ERR_INVALID_VERSION_ID;
    return s3_err_from_store(rc);
}

/* The file ranges holding bytes [first, last] of an object made of segments. */
static s3_err_t open_segments(s3_req_t *q, const store_object_t *o, uint64_t first,
                              uint64_t last)
{
    http_req_t *r = q->r;
    http_file_range_t *fr = arena_alloc(r->arena, (o->nsegs ? o->nsegs : 1) * sizeof *fr);
    if (!fr)
        return S3_ERR_INTERNAL;
    size_t n = 0;
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
        store_rc_t rc = store_blob_open(q->s3->st, sg->blob_id, &fd);
        if (rc != STORE_OK) {
            for (size_t j = 0; j < n; j++)
                close(fr[j].fd);
            return S3_ERR_INTERNAL;
        }
        fr[n].fd = fd;
        fr[n].offset = sg->offset + from;
        fr[n].length = to - from + 1;
        n++;
    }
    http_set_files(r, fr, n);
    return S3_OK;
}

static void response_overrides(s3_req_t *q)
{
    static const struct {
        const char *param, *hdr;
    } ov[] = {
        {"response-content-type", "Content-Type"},
        {"response-content-language", "Content-Language"},
        {"response-expires", "Expires"},
        {"response-cache-control", "Cache-Control"},
        {"response-content-disposition", "Content-Disposition"},
        {"response-content-encoding", "Content-Encoding"},
    };
    http_req_t *r = q->r;
    for (size_t i = 0; i < sizeof ov / sizeof ov[0]; i++) {
        const char *v = http_param_value(r, ov[i].param);
        if (!v)
            continue;
        for (size_t h = 0; h < r->nout_headers; h++) /* replace, never duplicate */
            if (strcasecmp(r->out_headers[h].name, ov[i].hdr) == 0)
                r->out_headers[h].name = "x-kura-overridden";
        http_set_header(r, ov[i].hdr, v);
    }
}

/* GET/HEAD ?partNumber=N: the bytes of part N of a multipart object (a
 * single-part object has only part 1, the whole object). */
static s3_err_t part_range(s3_req_t *q, const store_object_t *o, http_range_t *range,
                           http_range_rc_t *rr)
{
    http_req_t *r = q->r;
    if (http_header(r, "range")) {
        q->err_msg = "Cannot specify both Range header and partNumber query parameter";
        return S3_ERR_INVALID_REQUEST;
    }
    uint32_t pn = 0;
    s3_err_t rc = s3_part_number(q, &pn);
    if (rc != S3_OK)
        return rc;
    uint32_t count = o->parts_count ? o->parts_count : 1;
    if (pn > count)
        return S3_ERR_INVALID_PART_NUMBER;
    if (!o->parts_count) {
        *rr = o->size ? HTTP_RANGE_OK : HTTP_RANGE_IGNORE;
        return S3_OK;
    }
    uint64_t first = 0;
    for (uint32_t i = 0; i + 1 < pn; i++)
        first += o->part_sizes[i];
    uint64_t len = o->part_sizes[pn - 1];
    if (len == 0) {
        *rr = HTTP_RANGE_IGNORE;
        return S3_OK;
    }
    range->first = first;
    range->last = first + len - 1;
    *rr = HTTP_RANGE_OK;
    return S3_OK;
}

static s3_err_t get_object_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    http_req_t *r = q->r;
    const char *vid = http_param_value(r, "versionId");
    store_object_t o;
    s3_err_t rc = load_object(q, vid, &o);
    if (rc != S3_OK)
        return rc;
    if (o.delete_marker) {
        http_set_header(r, "x-amz-delete-marker", "true");
        if (o.version_id && strcmp(o.version_id, "null") != 0)
            http_set_header(r, "x-amz-version-id", o.version_id);
        if (vid) {
            char date[TIMEFMT_HTTP_LEN];
            timefmt_http(o.mtime_ms / 1000, date);
            http_set_header(r, "Last-Modified", date);
            http_set_header(r, "Allow", "DELETE");
            return S3_ERR_METHOD_NOT_ALLOWED;
        }
        return S3_ERR_NO_SUCH_KEY;
    }
    http_cond_rc_t c = http_conditional(http_header(r, "if-match"),
                                        http_header(r, "if-unmodified-since"),
                                        http_header(r, "if-none-match"),
                                        http_header(r, "if-modified-since"), o.etag,
                                        o.mtime_ms / 1000);
    if (c == HTTP_COND_FAILED)
        return S3_ERR_PRECONDITION_FAILED;
    if (c == HTTP_COND_NOT_MODIFIED) {
        char etag[80], date[TIMEFMT_HTTP_LEN];
        s3_etag_quoted(o.etag, etag, sizeof etag);
        http_set_header(r, "ETag", etag);
        timefmt_http(o.mtime_ms / 1000, date);
        http_set_header(r, "Last-Modified", date);
        s3_error(r, S3_ERR_NOT_MODIFIED, NULL);
        return S3_OK;
    }

    http_range_t range = {0, o.size ? o.size - 1 : 0};
    const char *rh = http_header(r, "range");
    http_range_rc_t rr = rh ? http_range_parse(rh, o.size, &range) : HTTP_RANGE_IGNORE;
    if (http_param(r, "partNumber")) {
        s3_err_t prc = part_range(q, &o, &range, &rr);
        if (prc != S3_OK)
            return prc;
    }
    if (rr == HTTP_RANGE_UNSATISFIABLE) {
        char cr[48];
        snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)o.size);
        http_set_header(r, "Content-Range", cr);
        return S3_ERR_INVALID_RANGE;
    }
    const char *mode = http_header(r, "x-amz-checksum-mode");
    bool with_ck = mode && strcasecmp(mode, "ENABLED") == 0 && rr != HTTP_RANGE_OK;
    s3_object_headers(q, &o, with_ck);
    if (rr == HTTP_RANGE_OK) {
        char cr[80];
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)range.first,
                 (unsigned long long)range.last, (unsigned long long)o.size);
        http_set_header(r, "Content-Range", cr);
        r->status = 206;
    } else {
        r->status = 200;
    }
    response_overrides(q);
    if (o.size == 0)
        return S3_OK;
    if (o.inline_data) {
        if (range.last >= o.inline_len)
            return S3_ERR_INTERNAL; /* the row is inconsistent */
        buf_append(&r->out, (const char *)o.inline_data + range.first,
                   range.last - range.first + 1);
        return S3_OK;
    }
    return open_segments(q, &o, range.first, range.last);
}

const s3_op_t s3_op_get_object = {"GetObject", false, s3_begin_no_body, get_object_run};
const s3_op_t s3_op_head_object = {"HeadObject", false, s3_begin_no_body, get_object_run};

/* ---- DeleteObject ----------------------------------------------------- */

static s3_err_t delete_object_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    http_req_t *r = q->r;
    const char *vid = http_param_value(r, "versionId");
    const char *bypass = http_header(r, "x-amz-bypass-governance-retention");
    store_delete_result_t res = {0};
    store_rc_t rc = store_object_delete(q->s3->st, r->arena, q->bucket, q->key, q->key_len, vid,
                                        bypass && strcasecmp(bypass, "true") == 0,
                                        clock_now_ms(), &res);
    if (rc == STORE_INVALID)
        return S3_ERR_INVALID_VERSION_ID;
    if (rc == STORE_LOCKED)
        q->err_msg = "Access Denied because object protected by object lock.";
    if (rc != STORE_OK)
        return s3_err_from_store(rc);
    if (res.delete_marker)
        http_set_header(r, "x-amz-delete-marker", "true");
    if (res.version_id && strcmp(res.version_id, "null") != 0)
        http_set_header(r, "x-amz-version-id", res.version_id);
    r->status = 204;
    return S3_OK;
}

const s3_op_t s3_op_delete_object = {"DeleteObject", false, s3_begin_no_body, delete_object_run};
