/* s3/multipart.c: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
 * AbortMultipartUpload, ListParts, ListMultipartUploads (S3 API Reference;
 * "Checking object integrity" for COMPOSITE and FULL_OBJECT checksums).
 *
 * An upload's states: (none) -create-> OPEN -upload_part-> OPEN
 *   OPEN -complete-> (an object version; the upload is gone)
 *   OPEN -abort->    (gone, parts released)
 * Completion concatenates the parts by reference (the store shares their
 * blobs), so a completed 5 GiB upload costs no second copy of its bytes. */
#include "s3/s3_int.h"

#include "util/clock.h"
#include "util/codec.h"
#include "util/parse.h"
#include "util/timefmt.h"
#include "util/xml.h"
#include "util/xmlw.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#define S3_MAX_PARTS 10000
#define S3_MIN_PART_BYTES ((uint64_t)5 << 20) /* every part but the last */
#define S3_MAX_LIST_PARTS 1000
#define S3_MAX_LIST_UPLOADS 1000

static s3_err_t upload_rc(store_rc_t rc)
{
    return rc == STORE_NOT_FOUND ? S3_ERR_NO_SUCH_UPLOAD : s3_err_from_store(rc);
}

/* The upload named by ?uploadId, checked to belong to this key. */
static s3_err_t load_upload(s3_req_t *q, store_upload_t *up)
{
    const char *uid = http_param_value(q->r, "uploadId");
    if (!uid || !*uid)
        return S3_ERR_NO_SUCH_UPLOAD;
    store_rc_t rc = store_upload_get(q->s3->st, q->r->arena, q->bucket, uid, up);
    if (rc == STORE_NO_BUCKET)
        return S3_ERR_NO_SUCH_BUCKET;
    if (rc != STORE_OK)
        return upload_rc(rc);
    if (up->key_len != q->key_len || memcmp(up->key, q->key, q->key_len) != 0)
        return S3_ERR_NO_SUCH_UPLOAD;
    return S3_OK;
}

/* ---- CreateMultipartUpload -------------------------------------------- */

static s3_err_t create_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    http_req_t *r = q->r;
    store_upload_t up = {.key = q->key, .key_len = q->key_len, .initiated_ms = clock_now_ms()};
    s3_err_t rc = s3_object_meta_from_headers(q, &up.meta);
    if (rc != S3_OK || (rc = s3_lock_from_headers(q, &up.meta, up.initiated_ms)) != S3_OK)
        return rc;
    const char *algo_name = http_header(r, "x-amz-checksum-algorithm");
    const char *type = http_header(r, "x-amz-checksum-type");
    ck_algo_t algo = CK_NONE;
    if (algo_name) {
        algo = ck_algo_from_name(algo_name);
        if (algo == CK_NONE || algo == CK_MD5)
            return S3_ERR_INVALID_REQUEST;
    }
    if (type) {
        bool full = strcmp(type, "FULL_OBJECT") == 0, comp = strcmp(type, "COMPOSITE") == 0;
        if ((!full && !comp) || algo == CK_NONE)
            return S3_ERR_INVALID_REQUEST;
        /* FULL_OBJECT needs a combinable CRC; CRC64NVME is only FULL_OBJECT. */
        if ((full && (algo == CK_SHA1 || algo == CK_SHA256)) || (comp && algo == CK_CRC64NVME))
            return S3_ERR_INVALID_REQUEST;
    }
    if (algo != CK_NONE) {
        up.meta.checksum_algo = ck_algo_name(algo);
        up.meta.checksum_type = type ? type : algo == CK_CRC64NVME ? "FULL_OBJECT" : "COMPOSITE";
    }
    store_rc_t src = store_upload_create(q->s3->st, r->arena, q->bucket, &up);
    if (src != STORE_OK)
        return s3_err_from_store(src);
    buf_t *o = &r->out;
    xmlw_root(o, "InitiateMultipartUploadResult");
    xmlw_elem(o, "Bucket", q->bucket);
    xmlw_elem_n(o, "Key", q->key, q->key_len);
    xmlw_elem(o, "UploadId", up.upload_id);
    xmlw_close(o, "InitiateMultipartUploadResult");
    if (up.meta.checksum_algo) {
        http_set_header(r, "x-amz-checksum-algorithm", up.meta.checksum_algo);
        http_set_header(r, "x-amz-checksum-type", up.meta.checksum_type);
    }
    s3_xml_ok(q);
    return S3_OK;
}

const s3_op_t s3_op_create_multipart_upload = {"CreateMultipartUpload", false, s3_begin_no_body,
                                               create_run};

/* ---- UploadPart ------------------------------------------------------- */

typedef struct {
    s3_payload_t p;
    uint32_t part_number;
    const char *upload_id;
} part_state_t;

s3_err_t s3_part_number(s3_req_t *q, uint32_t *out)
{
    const char *pn = http_param_value(q->r, "partNumber");
    uint64_t v = 0;
    if (!pn || parse_u64_str(pn, S3_MAX_PARTS, &v) != PARSE_OK || v == 0) {
        q->err_msg = "Part number must be an integer between 1 and 10000, inclusive";
        return S3_ERR_INVALID_ARGUMENT;
    }
    *out = (uint32_t)v;
    return S3_OK;
}

static s3_err_t upload_part_begin(s3_req_t *q)
{
    part_state_t *ps = arena_alloc(q->r->arena, sizeof *ps);
    if (!ps)
        return S3_ERR_INTERNAL;
    q->op_state = ps;
    s3_err_t rc = s3_part_number(q, &ps->part_number);
    if (rc != S3_OK)
        return rc;
    store_upload_t up;
    if ((rc = load_upload(q, &up)) != S3_OK)
        return rc;
    ps->upload_id = up.upload_id;
    ck_algo_t algo = up.meta.checksum_algo ? ck_algo_from_name(up.meta.checksum_algo) : CK_NONE;
    /* Parts always carry a CRC so that completion can report a FULL_OBJECT
     * checksum; the upload's own algorithm when it has one. */
    rc = s3_payload_begin(q, &ps->p, algo != CK_NONE ? algo : CK_CRC64NVME);
    if (rc == S3_OK && algo != CK_NONE && ps->p.algo != CK_NONE && ps->p.algo != algo)
        rc = S3_ERR_INVALID_REQUEST; /* a part checksum of another algorithm */
    return rc;
}

static s3_err_t upload_part_run(s3_req_t *q, const auth_chunked_t *trailers)
{
    http_req_t *r = q->r;
    part_state_t *ps = q->op_state;
    s3_err_t rc = s3_payload_finish(q, &ps->p, trailers);
    if (rc != S3_OK)
        return rc;
    store_part_t part = {
        .part_number = ps->part_number,
        .size = q->got_bytes,
        .mtime_ms = clock_now_ms(),
        .etag = ps->p.etag,
        .checksum_value = ps->p.ck_b64,
    };
    store_blob_t *blob = q->blob;
    q->blob = NULL; /* consumed */
    store_rc_t src = store_upload_part_put(q->s3->st, q->bucket, ps->upload_id, &part, blob);
    if (src != STORE_OK)
        return upload_rc(src);
    char etag[80];
    s3_etag_quoted(ps->p.etag, etag, sizeof etag);
    http_set_header(r, "ETag", etag);
    if (ps->p.algo != CK_NONE)
        http_set_header(r, ck_algo_header(ps->p.algo_used), ps->p.ck_b64);
    r->status = 200;
    return S3_OK;
}

const s3_op_t s3_op_upload_part = {"UploadPart", false, upload_part_begin, upload_part_run};

/* ---- CompleteMultipartUpload ------------------------------------------ */

static s3_err_t complete_begin(s3_req_t *q)
{
    s3_want_xml_body(q);
    return S3_OK;
}

static const store_part_t *find_part(const store_part_t *parts, size_t n, uint32_t number)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (parts[mid].part_number == number)
            return &parts[mid];
        if (parts[mid].part_number < number)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static const char *unquote(arena_t *a, const char *s)
{
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"')
        return arena_strndup(a, s + 1, n - 2);
    return s;
}

/* The whole object's checksum from its parts: COMPOSITE hashes the parts'
 * digests ("<b64>-N"), FULL_OBJECT combines the parts' CRCs. */
static bool object_checksum(ck_algo_t algo, bool full,
                            const store_part_t *const *chosen, size_t n, char *out, size_t cap)
{
    uint8_t raw[CK_MAX_DIGEST];
    size_t dlen = ck_digest_len(algo);
    if (full) {
        uint64_t crc = 0;
        for (size_t i = 0; i < n; i++) {
            size_t got = 0;
            const char *v = chosen[i]->checksum_value;
            if (!v || !codec_unb64(v, strlen(v), raw, sizeof raw, &got) || got != dlen)
                return false;
            uint64_t part = 0;
            for (size_t j = 0; j < dlen; j++)
                part = part << 8 | raw[j];
            crc = i == 0 ? part : ck_crc_combine(algo, crc, part, chosen[i]->size);
        }
        for (size_t j = 0; j < dlen; j++)
            raw[dlen - 1 - j] = (uint8_t)(crc >> (8 * j));
        codec_b64(raw, dlen, out);
        (void)cap;
        return true;
    }
    ck_t c;
    if (!ck_init(&c, algo))
        return false;
    for (size_t i = 0; i < n; i++) {
        size_t got = 0;
        const char *v = chosen[i]->checksum_value;
        if (!v || !codec_unb64(v, strlen(v), raw, sizeof raw, &got) || got != dlen) {
            ck_release(&c);
            return false;
        }
        ck_update(&c, raw, dlen);
    }
    char b64[CK_MAX_B64];
    ck_final_b64(&c, b64);
    int w = snprintf(out, cap, "%s-%u", b64, (unsigned)n);
    return w > 0 && (size_t)w < cap;
}

static s3_err_t complete_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    http_req_t *r = q->r;
    arena_t *a = r->arena;
    store_upload_t up;
    s3_err_t rc = load_upload(q, &up);
    if (rc != S3_OK)
        return rc;
    xml_node_t *root = xml_parse(a, q->body.data ? q->body.data : "", q->body.len);
    if (!root || strcmp(root->name, "CompleteMultipartUpload") != 0)
        return S3_ERR_MALFORMED_XML;
    size_t n = xml_count(root, "Part");
    if (n == 0 || n > S3_MAX_PARTS)
        return S3_ERR_MALFORMED_XML;

    store_part_t *parts = NULL;
    size_t nparts = 0;
    bool truncated = false;
    store_rc_t src = store_upload_parts(q->s3->st, a, q->bucket, up.upload_id, 0, S3_MAX_PARTS,
                                        &parts, &nparts, &truncated);
    if (src != STORE_OK)
        return upload_rc(src);

    uint32_t *numbers = arena_alloc(a, n * sizeof *numbers);
    const store_part_t **chosen = arena_alloc(a, n * sizeof *chosen);
    if (!numbers || !chosen)
        return S3_ERR_INTERNAL;
    ck_algo_t algo = up.meta.checksum_algo ? ck_algo_from_name(up.meta.checksum_algo) : CK_NONE;
    size_t k = 0;
    uint64_t total = 0;
    for (xml_node_t *p = root->first; p; p = p->next) {
        if (strcmp(p->name, "Part") != 0)
            continue;
        const char *pn = xml_child_text(p, "PartNumber");
        const char *etag = xml_child_text(p, "ETag");
        uint64_t num = 0;
        if (!pn || !etag || parse_u64_str(pn, S3_MAX_PARTS, &num) != PARSE_OK || num == 0)
            return S3_ERR_MALFORMED_XML;
        if (k && num <= numbers[k - 1])
            return S3_ERR_INVALID_PART_ORDER;
        const store_part_t *sp = find_part(parts, nparts, (uint32_t)num);
        if (!sp || strcmp(unquote(a, etag), sp->etag) != 0)
            return S3_ERR_INVALID_PART;
        if (algo != CK_NONE) {
            char tag[32];
            snprintf(tag, sizeof tag, "Checksum%s", ck_algo_name(algo));
            const char *given = xml_child_text(p, tag);
            if (given && (!sp->checksum_value || strcmp(given, sp->checksum_value) != 0))
                return S3_ERR_INVALID_PART;
        }
        numbers[k] = (uint32_t)num;
        chosen[k] = sp;
        total += sp->size;
        k++;
    }
    for (size_t i = 0; i + 1 < k; i++)
        if (chosen[i]->size < S3_MIN_PART_BYTES)
            return S3_ERR_ENTITY_TOO_SMALL;

    /* ETag: MD5 of the parts' binary MD5s, then "-N". */
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        return S3_ERR_INTERNAL;
    }
    for (size_t i = 0; i < k; i++) {
        uint8_t raw[S3_MD5_BYTES];
        if (strlen(chosen[i]->etag) != 2 * S3_MD5_BYTES ||
            !codec_unhex(chosen[i]->etag, 2 * S3_MD5_BYTES, raw)) {
            EVP_MD_CTX_free(md);
            return S3_ERR_INTERNAL;
        }
        EVP_DigestUpdate(md, raw, sizeof raw);
    }
    uint8_t digest[S3_MD5_BYTES];
    unsigned int dl = 0;
    EVP_DigestFinal_ex(md, digest, &dl);
    EVP_MD_CTX_free(md);
    char hex[2 * S3_MD5_BYTES + 1];
    codec_hex(digest, sizeof digest, hex);
    char *etag = arena_printf(a, "%s-%zu", hex, k);

    /* Checksum: the upload's algorithm, or a FULL_OBJECT CRC64NVME. */
    ck_algo_t ck_algo = algo != CK_NONE ? algo : CK_CRC64NVME;
    bool full = !up.meta.checksum_type || strcmp(up.meta.checksum_type, "FULL_OBJECT") == 0;
    char ck[CK_MAX_B64 + 32];
    bool have_ck = object_checksum(ck_algo, full, chosen, k, ck, sizeof ck);

    store_put_t in = {.bucket = q->bucket};
    in.obj.key = q->key;
    in.obj.key_len = q->key_len;
    in.obj.size = total;
    in.obj.mtime_ms = clock_now_ms();
    in.obj.etag = etag;
    in.obj.owner = q->s3->cfg->account_id;
    if (have_ck) {
        in.obj.checksum_algo = ck_algo_name(ck_algo);
        in.obj.checksum_value = ck;
        in.obj.checksum_type = full ? "FULL_OBJECT" : "COMPOSITE";
    }
    /* A whole-object checksum sent with the request must match ours. */
    for (ck_algo_t a2 = CK_CRC32; a2 <= CK_SHA256; a2++) {
        const char *v = http_header(r, ck_algo_header(a2));
        if (v && (!have_ck || a2 != ck_algo || strcmp(v, ck) != 0)) {
            q->err_msg = arena_printf(a, "The %s you specified did not match the calculated "
                                         "checksum.", ck_algo_name(a2));
            return S3_ERR_BAD_DIGEST;
        }
    }
    if ((rc = s3_write_conditions(q, &in)) != S3_OK)
        return rc;
    store_object_t out;
    src = store_upload_complete(q->s3->st, a, q->bucket, up.upload_id, numbers, k, &in, &out);
    if (src != STORE_OK)
        return upload_rc(src);

    buf_t *o = &r->out;
    xmlw_root(o, "CompleteMultipartUploadResult");
    const char *host = http_header(r, "host");
    char *loc = arena_printf(a, "http://%s%s", host ? host : "localhost", r->raw_path);
    xmlw_elem(o, "Location", loc ? loc : "");
    xmlw_elem(o, "Bucket", q->bucket);
    xmlw_elem_n(o, "Key", q->key, q->key_len);
    char qetag[96];
    s3_etag_quoted(etag, qetag, sizeof qetag);
    xmlw_elem(o, "ETag", qetag);
    if (have_ck && algo != CK_NONE) {
        char tag[32];
        snprintf(tag, sizeof tag, "Checksum%s", ck_algo_name(algo));
        xmlw_elem(o, tag, ck);
        xmlw_elem(o, "ChecksumType", in.obj.checksum_type);
    }
    xmlw_close(o, "CompleteMultipartUploadResult");
    if (out.version_id && strcmp(out.version_id, "null") != 0)
        http_set_header(r, "x-amz-version-id", out.version_id);
    s3_xml_ok(q);
    return S3_OK;
}

const s3_op_t s3_op_complete_multipart_upload = {"CompleteMultipartUpload", false, complete_begin,
                                                 complete_run};

/* ---- AbortMultipartUpload --------------------------------------------- */

static s3_err_t abort_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    store_upload_t up;
    s3_err_t rc = load_upload(q, &up);
    if (rc != S3_OK)
        return rc;
    store_rc_t src = store_upload_abort(q->s3->st, q->bucket, up.upload_id);
    if (src != STORE_OK)
        return upload_rc(src);
    q->r->status = 204;
    return S3_OK;
}

const s3_op_t s3_op_abort_multipart_upload = {"AbortMultipartUpload", false, s3_begin_no_body, abort_run};

/* ---- ListParts -------------------------------------------------------- */

static s3_err_t list_parts_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    http_req_t *r = q->r;
    store_upload_t up;
    s3_err_t rc = load_upload(q, &up);
    if (rc != S3_OK)
        return rc;
    uint64_t max = S3_MAX_LIST_PARTS, marker = 0;
    const char *mp = http_param_value(r, "max-parts");
    const char *pm = http_param_value(r, "part-number-marker");
    if (mp && parse_u64_str(mp, UINT64_MAX, &max) != PARSE_OK)
        return S3_ERR_INVALID_ARGUMENT;
    if (max > S3_MAX_LIST_PARTS)
        max = S3_MAX_LIST_PARTS;
    if (pm && parse_u64_str(pm, S3_MAX_PARTS, &marker) != PARSE_OK)
        return S3_ERR_INVALID_ARGUMENT;
    store_part_t *parts = NULL;
    size_t n = 0;
    bool truncated = false;
    store_rc_t src = store_upload_parts(q->s3->st, r->arena, q->bucket, up.upload_id,
                                        (uint32_t)marker, (uint32_t)max, &parts, &n, &truncated);
    if (src != STORE_OK)
        return upload_rc(src);
    buf_t *o = &r->out;
    xmlw_root(o, "ListPartsResult");
    xmlw_elem(o, "Bucket", q->bucket);
    xmlw_elem_n(o, "Key", q->key, q->key_len);
    xmlw_elem(o, "UploadId", up.upload_id);
    xmlw_elem_u64(o, "PartNumberMarker", marker);
    if (n)
        xmlw_elem_u64(o, "NextPartNumberMarker", parts[n - 1].part_number);
    xmlw_elem_u64(o, "MaxParts", max);
    xmlw_elem_bool(o, "IsTruncated", truncated);
    ck_algo_t algo = up.meta.checksum_algo ? ck_algo_from_name(up.meta.checksum_algo) : CK_NONE;
    for (size_t i = 0; i < n; i++) {
        xmlw_open(o, "Part");
        xmlw_elem_u64(o, "PartNumber", parts[i].part_number);
        xmlw_elem(o, "LastModified", s3_iso_time(q, parts[i].mtime_ms));
        char etag[80];
        s3_etag_quoted(parts[i].etag, etag, sizeof etag);
        xmlw_elem(o, "ETag", etag);
        xmlw_elem_u64(o, "Size", parts[i].size);
        if (algo != CK_NONE && parts[i].checksum_value) {
            char tag[32];
            snprintf(tag, sizeof tag, "Checksum%s", ck_algo_name(algo));
            xmlw_elem(o, tag, parts[i].checksum_value);
        }
        xmlw_close(o, "Part");
    }
    s3_owner_xml(q, o, "Initiator");
    s3_owner_xml(q, o, "Owner");
    xmlw_elem(o, "StorageClass", up.meta.storage_class ? up.meta.storage_class : "STANDARD");
    if (algo != CK_NONE) {
        xmlw_elem(o, "ChecksumAlgorithm", ck_algo_name(algo));
        xmlw_elem(o, "ChecksumType", up.meta.checksum_type);
    }
    xmlw_close(o, "ListPartsResult");
    s3_xml_ok(q);
    return S3_OK;
}

const s3_op_t s3_op_list_parts = {"ListParts", false, s3_begin_no_body, list_parts_run};

/* ---- ListMultipartUploads --------------------------------------------- */

typedef struct {
    s3_req_t *q;
    const char *prefix, *delim;
    size_t prefix_len, delim_len;
    uint64_t max, count;
    bool truncated;
    buf_t items;
    const char *next_key, *next_uid, *last_prefix;
} uploads_t;

static bool upload_cb(void *arg, const store_upload_t *u)
{
    uploads_t *l = arg;
    arena_t *a = l->q->r->arena;
    const char *rest = u->key + l->prefix_len;
    size_t rest_len = u->key_len - l->prefix_len;
    const char *d = NULL;
    for (size_t i = 0; l->delim_len && i + l->delim_len <= rest_len; i++)
        if (memcmp(rest + i, l->delim, l->delim_len) == 0) {
            d = rest + i;
            break;
        }
    if (d) {
        size_t plen = (size_t)(d - u->key) + l->delim_len;
        if (l->last_prefix && strlen(l->last_prefix) == plen &&
            memcmp(l->last_prefix, u->key, plen) == 0)
            return true; /* same CommonPrefix */
        if (l->count == l->max) {
            l->truncated = true;
            return false;
        }
        l->last_prefix = arena_strndup(a, u->key, plen);
        xmlw_open(&l->items, "CommonPrefixes");
        xmlw_elem(&l->items, "Prefix", l->last_prefix);
        xmlw_close(&l->items, "CommonPrefixes");
        l->count++;
        l->next_key = l->last_prefix;
        l->next_uid = u->upload_id ? arena_strdup(a, u->upload_id) : "";
        return true;
    }
    if (l->count == l->max) {
        l->truncated = true;
        return false;
    }
    buf_t *o = &l->items;
    xmlw_open(o, "Upload");
    xmlw_elem_n(o, "Key", u->key, u->key_len);
    xmlw_elem(o, "UploadId", u->upload_id);
    s3_owner_xml(l->q, o, "Initiator");
    s3_owner_xml(l->q, o, "Owner");
    xmlw_elem(o, "StorageClass", u->meta.storage_class ? u->meta.storage_class : "STANDARD");
    xmlw_elem(o, "Initiated", s3_iso_time(l->q, u->initiated_ms));
    if (u->meta.checksum_algo) {
        xmlw_elem(o, "ChecksumAlgorithm", u->meta.checksum_algo);
        xmlw_elem(o, "ChecksumType", u->meta.checksum_type);
    }
    xmlw_close(o, "Upload");
    l->count++;
    l->next_key = arena_strndup(a, u->key, u->key_len);
    l->next_uid = arena_strdup(a, u->upload_id);
    return true;
}

static s3_err_t list_uploads_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    http_req_t *r = q->r;
    uploads_t l = {.q = q, .max = S3_MAX_LIST_UPLOADS};
    l.prefix = http_param_value(r, "prefix");
    l.prefix = l.prefix ? l.prefix : "";
    l.prefix_len = strlen(l.prefix);
    l.delim = http_param_value(r, "delimiter");
    l.delim_len = l.delim ? strlen(l.delim) : 0;
    const char *mu = http_param_value(r, "max-uploads");
    if (mu && parse_u64_str(mu, UINT64_MAX, &l.max) != PARSE_OK)
        return S3_ERR_INVALID_ARGUMENT;
    if (l.max > S3_MAX_LIST_UPLOADS)
        l.max = S3_MAX_LIST_UPLOADS;
    const char *km = http_param_value(r, "key-marker");
    const char *um = http_param_value(r, "upload-id-marker");
    buf_init(&l.items, BUF_MAX_DEFAULT);
    store_rc_t src = store_upload_list(q->s3->st, r->arena, q->bucket, l.prefix,
                                       km && *km ? km : NULL, um && *um ? um : NULL, upload_cb,
                                       &l);
    if (src != STORE_OK) {
        buf_release(&l.items);
        return src == STORE_NOT_FOUND ? S3_ERR_NO_SUCH_BUCKET : s3_err_from_store(src);
    }
    buf_t *o = &r->out;
    xmlw_root(o, "ListMultipartUploadsResult");
    xmlw_elem(o, "Bucket", q->bucket);
    xmlw_elem(o, "KeyMarker", km ? km : "");
    xmlw_elem(o, "UploadIdMarker", um ? um : "");
    if (l.truncated) {
        xmlw_elem(o, "NextKeyMarker", l.next_key ? l.next_key : "");
        xmlw_elem(o, "NextUploadIdMarker", l.next_uid ? l.next_uid : "");
    }
    if (l.prefix_len)
        xmlw_elem(o, "Prefix", l.prefix);
    if (l.delim)
        xmlw_elem(o, "Delimiter", l.delim);
    xmlw_elem_u64(o, "MaxUploads", l.max);
    xmlw_elem_bool(o, "IsTruncated", l.truncated);
    buf_append(o, l.items.data ? l.items.data : "", l.items.len);
    xmlw_close(o, "ListMultipartUploadsResult");
    buf_release(&l.items);
    s3_xml_ok(q);
    return S3_OK;
}

const s3_op_t s3_op_list_multipart_uploads = {"ListMultipartUploads", false, s3_begin_no_body,
                                              list_uploads_run};
