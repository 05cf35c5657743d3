/* s3/payload.c: receiving an object's bytes (PutObject, UploadPart) and the
 * object headers a write takes from the request ("Checking object integrity"
 * in the S3 User Guide: Content-MD5, x-amz-checksum-*, trailing checksums;
 * S3 computes CRC64NVME when the client sends no checksum). */
#include "s3/s3_int.h"

#include "util/codec.h"
#include "util/parse.h"

#include <string.h>

#define S3_META_PREFIX "x-amz-meta-"

/* The decoded payload length: x-amz-decoded-content-length for aws-chunked
 * bodies, Content-Length otherwise. */
static s3_err_t payload_length(const s3_req_t *q, uint64_t *out)
{
    const http_req_t *r = q->r;
    bool aws_chunked = q->auth && q->auth->payload >= AUTH_PAYLOAD_STREAMING_SIGNED;
    if (aws_chunked) {
        const char *d = http_header(r, "x-amz-decoded-content-length");
        if (!d)
            return S3_ERR_MISSING_CONTENT_LENGTH;
        if (parse_u64_str(d, UINT64_MAX, out) != PARSE_OK)
            return S3_ERR_INVALID_ARGUMENT;
        return S3_OK;
    }
    if (!r->has_length)
        return S3_ERR_MISSING_CONTENT_LENGTH;
    *out = r->content_length;
    return S3_OK;
}

/* Picks the checksum algorithm from x-amz-checksum-*, x-amz-trailer or
 * x-amz-sdk-checksum-algorithm, and checks a header value's shape. */
static s3_err_t checksum_request(const s3_req_t *q, s3_payload_t *p)
{
    const http_req_t *r = q->r;
    for (ck_algo_t a = CK_CRC32; a <= CK_SHA256; a++) {
        const char *v = http_header(r, ck_algo_header(a));
        if (!v)
            continue;
        if (p->algo != CK_NONE)
            return S3_ERR_INVALID_REQUEST; /* one checksum per request */
        uint8_t raw[CK_MAX_DIGEST + 3];
        size_t n = 0;
        if (!codec_unb64(v, strlen(v), raw, sizeof raw, &n) || n != ck_digest_len(a))
            return S3_ERR_INVALID_REQUEST;
        p->algo = a;
        p->ck_header = v;
    }
    const char *trailer = http_header(r, "x-amz-trailer");
    if (trailer && p->algo == CK_NONE) {
        for (ck_algo_t a = CK_CRC32; a <= CK_SHA256; a++)
            if (strstr(trailer, ck_algo_header(a)))
                p->algo = a;
        if (p->algo == CK_NONE)
            return S3_ERR_INVALID_REQUEST;
    }
    const char *sdk = http_header(r, "x-amz-sdk-checksum-algorithm");
    if (sdk) {
        ck_algo_t a = ck_algo_from_name(sdk);
        if (a == CK_NONE || a == CK_MD5 || (p->algo != CK_NONE && p->algo != a))
            return S3_ERR_INVALID_REQUEST;
        p->algo = a;
    }
    return S3_OK;
}

s3_err_t s3_payload_begin(s3_req_t *q, s3_payload_t *p, ck_algo_t default_algo)
{
    http_req_t *r = q->r;
    uint64_t len = 0;
    s3_err_t rc = payload_length(q, &len);
    if (rc != S3_OK)
        return rc;
    if (len > S3_MAX_PUT_BYTES)
        return S3_ERR_ENTITY_TOO_LARGE;
    q->expect_bytes = len;
    const char *md5 = http_header(r, "content-md5");
    if (md5) {
        size_t n = 0;
        if (!codec_unb64(md5, strlen(md5), p->content_md5, sizeof p->content_md5, &n) ||
            n != S3_MD5_BYTES)
            return S3_ERR_INVALID_DIGEST;
        p->has_md5 = true;
    }
    if ((rc = checksum_request(q, p)) != S3_OK)
        return rc;
    p->algo_used = p->algo != CK_NONE ? p->algo : default_algo;
    if (!ck_init(&q->md5, CK_MD5))
        return S3_ERR_INTERNAL;
    q->md5_on = true;
    if (p->algo_used != CK_NONE) {
        if (!ck_init(&q->ck, p->algo_used))
            return S3_ERR_INTERNAL;
        q->ck_on = true;
    }
    store_rc_t src = store_blob_begin(q->s3->st, &q->blob);
    if (src != STORE_OK)
        return s3_err_from_store(src);
    q->body_mode = S3_BODY_BLOB;
    return S3_OK;
}

s3_err_t s3_payload_finish(s3_req_t *q, s3_payload_t *p, const auth_chunked_t *trailers)
{
    http_req_t *r = q->r;
    uint8_t md5[CK_MAX_DIGEST];
    ck_final(&q->md5, md5);
    memcpy(p->md5, md5, S3_MD5_BYTES);
    q->md5_on = false;
    codec_hex(p->md5, S3_MD5_BYTES, p->etag);
    p->ck_b64[0] = '\0';
    if (q->ck_on) {
        ck_final_b64(&q->ck, p->ck_b64);
        q->ck_on = false;
    }
    if (p->has_md5 && memcmp(p->md5, p->content_md5, S3_MD5_BYTES) != 0)
        return S3_ERR_BAD_DIGEST;
    const char *declared = p->ck_header;
    if (!declared && p->algo != CK_NONE && trailers)
        declared = auth_chunked_trailer(trailers, ck_algo_header(p->algo));
    if (declared && strcmp(declared, p->ck_b64) != 0) {
        q->err_msg = arena_printf(r->arena,
                                  "The %s you specified did not match the calculated checksum.",
                                  ck_algo_name(p->algo_used));
        return S3_ERR_BAD_DIGEST;
    }
    store_rc_t src = store_blob_finish(q->blob);
    return src == STORE_OK ? S3_OK : s3_err_from_store(src);
}

/* x-amz-meta-* headers into a list; names lowercase without the prefix. */
static s3_err_t collect_meta(s3_req_t *q, store_object_t *o)
{
    http_req_t *r = q->r;
    size_t n = 0, bytes = 0;
    const size_t plen = strlen(S3_META_PREFIX);
    for (size_t i = 0; i < r->nheaders; i++)
        n += strncmp(r->headers[i].name, S3_META_PREFIX, plen) == 0;
    if (!n)
        return S3_OK;
    store_kv_t *kv = arena_alloc(r->arena, n * sizeof *kv);
    if (!kv)
        return S3_ERR_INTERNAL;
    size_t k = 0;
    for (size_t i = 0; i < r->nheaders; i++) {
        const char *name = r->headers[i].name;
        if (strncmp(name, S3_META_PREFIX, plen) != 0)
            continue;
        kv[k].name = name + plen;
        kv[k].value = r->headers[i].value;
        bytes += strlen(kv[k].name) + strlen(kv[k].value);
        k++;
    }
    if (bytes > S3_MAX_USER_META_BYTES)
        return S3_ERR_METADATA_TOO_LARGE;
    o->meta = kv;
    o->nmeta = k;
    return S3_OK;
}

s3_err_t s3_object_meta_from_headers(s3_req_t *q, store_object_t *o)
{
    http_req_t *r = q->r;
    o->key = q->key;
    o->key_len = q->key_len;
    o->content_type = http_header(r, "content-type");
    o->content_encoding = http_header(r, "content-encoding");
    if (o->content_encoding && strncmp(o->content_encoding, "aws-chunked", 11) == 0) {
        /* aws-chunked is the transfer framing, not the object's encoding. */
        const char *rest = o->content_encoding + 11;
        while (*rest == ',' || *rest == ' ')
            rest++;
        o->content_encoding = *rest ? rest : NULL;
    }
    o->content_disposition = http_header(r, "content-disposition");
    o->content_language = http_header(r, "content-language");
    o->cache_control = http_header(r, "cache-control");
    o->expires = http_header(r, "expires");
    o->website_redirect = http_header(r, "x-amz-website-redirect-location");
    const char *sc = http_header(r, "x-amz-storage-class");
    if (sc && !s3_valid_storage_class(sc))
        return S3_ERR_INVALID_STORAGE_CLASS;
    o->storage_class = sc ? sc : "STANDARD";
    o->owner = q->s3->cfg->account_id;
    const char *acl = http_header(r, "x-amz-acl");
    if ((acl && strcmp(acl, "private") != 0 && strcmp(acl, "bucket-owner-full-control") != 0) ||
        s3_has_grant_headers(r))
        return S3_ERR_ACL_NOT_SUPPORTED; /* ACLs are disabled (bucket owner enforced) */
    const char *tagging = http_header(r, "x-amz-tagging");
    if (tagging) {
        store_kv_t *tags = NULL;
        size_t n = 0;
        s3_err_t rc = s3_tags_from_query(q, tagging, &tags, &n);
        if (rc != S3_OK)
            return rc;
        o->tags = tags;
        o->ntags = n;
    }
    return collect_meta(q, o);
}

s3_err_t s3_write_conditions(s3_req_t *q, store_put_t *in)
{
    http_req_t *r = q->r;
    const char *im = http_header(r, "if-match");
    const char *inm = http_header(r, "if-none-match");
    if (inm && strcmp(inm, "*") != 0)
        return S3_ERR_NOT_IMPLEMENTED; /* S3 accepts only "*" on writes */
    in->if_none_match = inm != NULL;
    if (im) {
        size_t n = strlen(im);
        in->if_match = (n >= 2 && im[0] == '"' && im[n - 1] == '"')
                           ? arena_strndup(r->arena, im + 1, n - 2)
                           : im;
    }
    return S3_OK;
}

s3_err_t s3_check_body_digests(s3_req_t *q, bool required)
{
    http_req_t *r = q->r;
    const char *data = q->body.data ? q->body.data : "";
    bool any = false;
    const char *md5 = http_header(r, "content-md5");
    if (md5) {
        uint8_t want[S3_MD5_BYTES], got[CK_MAX_DIGEST];
        size_t n = 0;
        if (!codec_unb64(md5, strlen(md5), want, sizeof want, &n) || n != S3_MD5_BYTES)
            return S3_ERR_INVALID_DIGEST;
        ck_t c;
        if (!ck_init(&c, CK_MD5))
            return S3_ERR_INTERNAL;
        ck_update(&c, data, q->body.len);
        ck_final(&c, got);
        if (memcmp(want, got, S3_MD5_BYTES) != 0)
            return S3_ERR_BAD_DIGEST;
        any = true;
    }
    for (ck_algo_t a = CK_CRC32; a <= CK_SHA256; a++) {
        const char *v = http_header(r, ck_algo_header(a));
        if (!v)
            continue;
        ck_t c;
        char b64[CK_MAX_B64];
        if (!ck_init(&c, a))
            return S3_ERR_INTERNAL;
        ck_update(&c, data, q->body.len);
        ck_final_b64(&c, b64);
        if (strcmp(b64, v) != 0)
            return S3_ERR_BAD_DIGEST;
        any = true;
    }
    if (!any && q->auth && q->auth->payload >= AUTH_PAYLOAD_STREAMING_UNSIGNED_TRAILER)
        any = true; /* a trailing checksum, verified by the chunk decoder */
    if (required && !any) {
        q->err_msg = "Missing required header for this request: Content-MD5";
        return S3_ERR_INVALID_REQUEST;
    }
    return S3_OK;
}
