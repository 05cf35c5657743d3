/* s3/common.c: pieces every S3 operation shares: XML responses, ETags,
 * object headers. */
#include "s3/s3_int.h"

#include "util/timefmt.h"
#include "util/uri.h"
#include "util/xmlw.h"

#include <stdio.h>
#include <string.h>

void s3_xml_ok(s3_req_t *q)
{
    q->r->status = 200;
    http_set_header(q->r, "Content-Type", "application/xml");
}

void s3_want_xml_body(s3_req_t *q) { q->body_mode = S3_BODY_BUFFER; }

void s3_etag_quoted(const char *etag, char *out, size_t cap)
{
    snprintf(out, cap, "\"%s\"", etag ? etag : "");
}

const char *s3_iso_time(s3_req_t *q, int64_t ms)
{
    char t[TIMEFMT_ISO_LEN];
    timefmt_iso8601_ms(ms, t);
    return arena_strdup(q->r->arena, t);
}

const char *s3_owner_id(const s3_t *s) { return s->cfg->account_id; }

bool s3_valid_storage_class(const char *sc)
{
    static const char *const classes[] = {
        "STANDARD",    "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
        "GLACIER",     "DEEP_ARCHIVE",       "OUTPOSTS",    "GLACIER_IR", "SNOW",
        "EXPRESS_ONEZONE", "FSX_OPENZFS",
    };
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (strcmp(sc, classes[i]) == 0)
            return true;
    return false;
}

void s3_object_headers(s3_req_t *q, const store_object_t *o, bool with_checksum)
{
    http_req_t *r = q->r;
    char etag[80], date[TIMEFMT_HTTP_LEN];
    s3_etag_quoted(o->etag, etag, sizeof etag);
    http_set_header(r, "ETag", etag);
    timefmt_http(o->mtime_ms / 1000, date);
    http_set_header(r, "Last-Modified", date);
    http_set_header(r, "Accept-Ranges", "bytes");
    http_set_header(r, "Content-Type", o->content_type && *o->content_type ? o->content_type
                                                                          : "binary/octet-stream");
    static const struct {
        const char *hdr;
        size_t off;
    } opt[] = {
        {"Content-Encoding", offsetof(store_object_t, content_encoding)},
        {"Content-Disposition", offsetof(store_object_t, content_disposition)},
        {"Content-Language", offsetof(store_object_t, content_language)},
        {"Cache-Control", offsetof(store_object_t, cache_control)},
        {"Expires", offsetof(store_object_t, expires)},
        {"x-amz-website-redirect-location", offsetof(store_object_t, website_redirect)},
    };
    for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i++) {
        const char *v = *(const char *const *)(const void *)((const char *)o + opt[i].off);
        if (v && *v)
            http_set_header(r, opt[i].hdr, v);
    }
    if (o->storage_class && *o->storage_class && strcmp(o->storage_class, "STANDARD") != 0)
        http_set_header(r, "x-amz-storage-class", o->storage_class);
    if (o->version_id && strcmp(o->version_id, "null") != 0)
        http_set_header(r, "x-amz-version-id", o->version_id);
    for (size_t i = 0; i < o->nmeta; i++) {
        char *name = arena_printf(r->arena, "x-amz-meta-%s", o->meta[i].name);
        if (name)
            http_set_header(r, name, o->meta[i].value);
    }
    if (o->ntags) {
        char n[24];
        snprintf(n, sizeof n, "%zu", o->ntags);
        http_set_header(r, "x-amz-tagging-count", n);
    }
    if (o->parts_count) {
        char n[24];
        snprintf(n, sizeof n, "%u", o->parts_count);
        http_set_header(r, "x-amz-mp-parts-count", n);
    }
    if (o->lock_mode && *o->lock_mode) {
        http_set_header(r, "x-amz-object-lock-mode", o->lock_mode);
        char t[TIMEFMT_ISO_LEN];
        timefmt_iso8601_ms(o->lock_until_ms, t);
        http_set_header(r, "x-amz-object-lock-retain-until-date", t);
    }
    if (o->legal_hold)
        http_set_header(r, "x-amz-object-lock-legal-hold", "ON");
    if (with_checksum && o->checksum_algo && o->checksum_value) {
        ck_algo_t a = ck_algo_from_name(o->checksum_algo);
        if (a != CK_NONE)
            http_set_header(r, ck_algo_header(a), o->checksum_value);
        if (o->checksum_type)
            http_set_header(r, "x-amz-checksum-type", o->checksum_type);
    }
}

s3_err_t s3_begin_no_body(s3_req_t *q)
{
    (void)q;
    return S3_OK;
}

s3_err_t s3_begin_xml_body(s3_req_t *q)
{
    s3_want_xml_body(q);
    return S3_OK;
}

s3_err_t s3_bucket_must_exist(s3_req_t *q)
{
    store_bucket_t b;
    store_rc_t rc = store_bucket_get(q->s3->st, q->r->arena, q->bucket, &b);
    if (rc != STORE_OK)
        return rc == STORE_NOT_FOUND ? S3_ERR_NO_SUCH_BUCKET : s3_err_from_store(rc);
    return S3_OK;
}

void s3_xml_key(buf_t *o, const char *tag, const char *s, size_t n, bool url)
{
    if (!url) {
        xmlw_elem_n(o, tag, s, n);
        return;
    }
    buf_t e;
    buf_init(&e, 64 << 10);
    uri_encode(&e, s, n, true);
    xmlw_elem_n(o, tag, buf_cstr(&e), e.len);
    buf_release(&e);
}

void s3_owner_xml(const s3_req_t *q, buf_t *o, const char *tag)
{
    xmlw_open(o, tag);
    xmlw_elem(o, "ID", s3_owner_id(q->s3));
    xmlw_elem(o, "DisplayName", "kura");
    xmlw_close(o, tag);
}

s3_err_t s3_conf_delete(s3_req_t *q, const char *name)
{
    store_rc_t rc = store_bucket_conf_put(q->s3->st, q->bucket, name, NULL, 0);
    if (rc == STORE_NO_BUCKET)
        return S3_ERR_NO_SUCH_BUCKET;
    if (rc != STORE_OK && rc != STORE_NOT_FOUND)
        return s3_err_from_store(rc);
    q->r->status = 204;
    return S3_OK;
}

s3_err_t s3_conf_get(s3_req_t *q, const char *name, s3_err_t absent, char **doc, size_t *len)
{
    store_rc_t rc = store_bucket_conf_get(q->s3->st, q->r->arena, q->bucket, name, doc, len);
    if (rc == STORE_NO_BUCKET)
        return S3_ERR_NO_SUCH_BUCKET;
    if (rc == STORE_NOT_FOUND)
        return absent;
    return s3_err_from_store(rc);
}

bool s3_has_grant_headers(const http_req_t *r)
{
    static const char *const grants[] = {"x-amz-grant-read", "x-amz-grant-write",
                                         "x-amz-grant-read-acp", "x-amz-grant-write-acp",
                                         "x-amz-grant-full-control"};
    for (size_t i = 0; i < sizeof grants / sizeof grants[0]; i++)
        if (http_header(r, grants[i]))
            return true;
    return false;
}
