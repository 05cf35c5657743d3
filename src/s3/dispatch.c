/* s3/dispatch.c: addressing (path- and virtual-hosted style), operation
 * selection from method + subresource, and the body plumbing shared by all
 * S3 operations (S3 API Reference: "Virtual hosting of buckets"). */
#include "s3/s3_int.h"

#include "util/parse.h"
#include "util/uri.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

s3_t *s3_new(const kura_config_t *cfg, store_t *st, const auth_identity_t *id)
{
    s3_t *s = calloc(1, sizeof *s);
    if (s) {
        s->cfg = cfg;
        s->st = st;
        s->id = *id;
    }
    return s;
}

void s3_free(s3_t *s) { free(s); }

bool s3_bucket_name_reserved(const char *name)
{
    return strcmp(name, "kura") == 0 || strcmp(name, "console") == 0 ||
           strcmp(name, "iceberg") == 0;
}

/* Query parameters that name a subresource: a request carrying one we do not
 * serve is answered NotImplemented rather than served as its plain sibling. */
static const char *const subresources[] = {
    "accelerate", "acl", "analytics", "attributes", "cors", "delete", "encryption",
    "intelligent-tiering", "inventory", "legal-hold", "lifecycle", "location", "logging",
    "metadataConfiguration", "metadataInventoryTable", "metadataJournalTable", "metadataTable",
    "metrics", "notification", "object-lock", "ownershipControls", "policy", "policyStatus",
    "publicAccessBlock", "replication", "requestPayment", "restore", "retention", "select",
    "session", "tagging", "torrent", "uploadId", "uploads", "versioning", "versions", "website",
    "renameObject", "partNumber", "abac",
};

static const char *subresource_of(const http_req_t *r)
{
    for (size_t i = 0; i < r->nparams; i++)
        for (size_t j = 0; j < sizeof subresources / sizeof subresources[0]; j++)
            if (strcmp(r->params[i].name, subresources[j]) == 0)
                return subresources[j];
    return NULL;
}

/* Chooses the operation. NULL: NotImplemented. */
static bool is(const char *a, const char *b) { return strcmp(a, b) == 0; }

static const s3_op_t *pick_bucket_op(const http_req_t *r, const char *m, const char *sub)
{
    if (!sub) {
        const char *ct = http_header(r, "content-type");
        if (is(m, "POST") && ct && strncasecmp(ct, "multipart/form-data", 19) == 0)
            return &s3_op_post_object;
        if (is(m, "PUT"))
            return &s3_op_create_bucket;
        if (is(m, "HEAD"))
            return &s3_op_head_bucket;
        if (is(m, "DELETE"))
            return &s3_op_delete_bucket;
        if (is(m, "GET")) {
            const char *lt = http_param_value(r, "list-type");
            return lt && is(lt, "2") ? &s3_op_list_objects_v2 : &s3_op_list_objects;
        }
        return NULL;
    }
    if (is(sub, "location"))
        return is(m, "GET") ? &s3_op_get_bucket_location : NULL;
    if (is(sub, "uploads"))
        return is(m, "GET") ? &s3_op_list_multipart_uploads : NULL;
    if (is(sub, "delete"))
        return is(m, "POST") ? &s3_op_delete_objects : NULL;
    if (is(sub, "versions"))
        return is(m, "GET") ? &s3_op_list_object_versions : NULL;
    if (is(sub, "versioning"))
        return is(m, "GET") ? &s3_op_get_bucket_versioning
               : is(m, "PUT") ? &s3_op_put_bucket_versioning
                              : NULL;
    if (is(sub, "metadataConfiguration"))
        return is(m, "POST")     ? &s3_op_create_bucket_metadata_configuration
               : is(m, "GET")    ? &s3_op_get_bucket_metadata_configuration
               : is(m, "DELETE") ? &s3_op_delete_bucket_metadata_configuration
                                 : NULL;
    if (is(sub, "metadataJournalTable"))
        return is(m, "PUT") ? &s3_op_update_metadata_journal_table : NULL;
    if (is(sub, "metadataInventoryTable"))
        return is(m, "PUT") ? &s3_op_update_metadata_inventory_table : NULL;
    if (is(sub, "metadataTable"))
        return is(m, "POST")     ? &s3_op_create_bucket_metadata_table_configuration
               : is(m, "GET")    ? &s3_op_get_bucket_metadata_table_configuration
               : is(m, "DELETE") ? &s3_op_delete_bucket_metadata_table_configuration
                                 : NULL;
    if (is(sub, "policy"))
        return is(m, "GET")      ? &s3_op_get_bucket_policy
               : is(m, "PUT")    ? &s3_op_put_bucket_policy
               : is(m, "DELETE") ? &s3_op_delete_bucket_policy
                                 : NULL;
    if (is(sub, "policyStatus"))
        return is(m, "GET") ? &s3_op_get_bucket_policy_status : NULL;
    if (is(sub, "publicAccessBlock"))
        return is(m, "GET")      ? &s3_op_get_public_access_block
               : is(m, "PUT")    ? &s3_op_put_public_access_block
               : is(m, "DELETE") ? &s3_op_delete_public_access_block
                                 : NULL;
    if (is(sub, "acl"))
        return is(m, "GET") ? &s3_op_get_bucket_acl : is(m, "PUT") ? &s3_op_put_bucket_acl : NULL;
    if (is(sub, "ownershipControls"))
        return is(m, "GET")      ? &s3_op_get_bucket_ownership_controls
               : is(m, "PUT")    ? &s3_op_put_bucket_ownership_controls
               : is(m, "DELETE") ? &s3_op_delete_bucket_ownership_controls
                                 : NULL;
    if (is(sub, "requestPayment"))
        return is(m, "GET") ? &s3_op_get_bucket_request_payment : NULL;
    if (is(sub, "lifecycle"))
        return is(m, "GET")      ? &s3_op_get_bucket_lifecycle
               : is(m, "PUT")    ? &s3_op_put_bucket_lifecycle
               : is(m, "DELETE") ? &s3_op_delete_bucket_lifecycle
                                 : NULL;
    if (is(sub, "cors"))
        return is(m, "GET")      ? &s3_op_get_bucket_cors
               : is(m, "PUT")    ? &s3_op_put_bucket_cors
               : is(m, "DELETE") ? &s3_op_delete_bucket_cors
                                 : NULL;
    if (is(sub, "object-lock"))
        return is(m, "GET")   ? &s3_op_get_object_lock_configuration
               : is(m, "PUT") ? &s3_op_put_object_lock_configuration
                              : NULL;
    if (is(sub, "tagging"))
        return is(m, "GET")      ? &s3_op_get_bucket_tagging
               : is(m, "PUT")    ? &s3_op_put_bucket_tagging
               : is(m, "DELETE") ? &s3_op_delete_bucket_tagging
                                 : NULL;
    return NULL;
}

static const s3_op_t *pick_object_op(const http_req_t *r, const char *m, const char *sub)
{
    bool copy = http_header(r, "x-amz-copy-source") != NULL;
    if (!sub) {
        if (is(m, "PUT"))
            return copy ? &s3_op_copy_object : &s3_op_put_object;
        if (is(m, "GET"))
            return &s3_op_get_object;
        if (is(m, "HEAD"))
            return &s3_op_head_object;
        if (is(m, "DELETE"))
            return &s3_op_delete_object;
        return NULL;
    }
    if (is(sub, "uploads"))
        return is(m, "POST") ? &s3_op_create_multipart_upload : NULL;
    if (is(sub, "partNumber") && !http_param(r, "uploadId"))
        return is(m, "GET") ? &s3_op_get_object : is(m, "HEAD") ? &s3_op_head_object : NULL;
    if (is(sub, "uploadId") || (is(sub, "partNumber") && http_param(r, "uploadId"))) {
        if (is(m, "PUT"))
            return copy ? &s3_op_upload_part_copy : &s3_op_upload_part;
        if (is(m, "POST"))
            return &s3_op_complete_multipart_upload;
        if (is(m, "GET"))
            return &s3_op_list_parts;
        if (is(m, "DELETE"))
            return &s3_op_abort_multipart_upload;
        return NULL;
    }
    if (is(sub, "acl"))
        return is(m, "GET") ? &s3_op_get_object_acl : is(m, "PUT") ? &s3_op_put_object_acl : NULL;
    if (is(sub, "attributes"))
        return is(m, "GET") ? &s3_op_get_object_attributes : NULL;
    if (is(sub, "retention"))
        return is(m, "GET")   ? &s3_op_get_object_retention
               : is(m, "PUT") ? &s3_op_put_object_retention
                              : NULL;
    if (is(sub, "legal-hold"))
        return is(m, "GET")   ? &s3_op_get_object_legal_hold
               : is(m, "PUT") ? &s3_op_put_object_legal_hold
                              : NULL;
    if (is(sub, "tagging"))
        return is(m, "GET")      ? &s3_op_get_object_tagging
               : is(m, "PUT")    ? &s3_op_put_object_tagging
               : is(m, "DELETE") ? &s3_op_delete_object_tagging
                                 : NULL;
    return NULL;
}

static const s3_op_t *pick_op(const s3_req_t *q)
{
    const http_req_t *r = q->r;
    const char *sub = subresource_of(r);
    if (!q->bucket)
        return is(r->method, "GET") && !sub ? &s3_op_list_buckets : NULL;
    if (is(r->method, "OPTIONS"))
        return &s3_op_cors_preflight;
    if (!q->key)
        return pick_bucket_op(r, r->method, sub);
    return pick_object_op(r, r->method, sub);
}

/* Host without port, lowercased, into out. */
static void host_name(const http_req_t *r, char *out, size_t cap)
{
    const char *h = http_header(r, "host");
    size_t n = 0;
    if (h) {
        const char *end = h + strlen(h);
        if (*h == '[') { /* IPv6 literal: never a virtual host */
            out[0] = '\0';
            return;
        }
        const char *colon = strchr(h, ':');
        if (colon)
            end = colon;
        for (const char *p = h; p < end && n + 1 < cap; p++)
            out[n++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
    }
    out[n] = '\0';
}

/* Virtual-hosted style: "<bucket>.localhost" or "<bucket>.<domain>". */
static const char *virtual_bucket(s3_req_t *q)
{
    char host[256];
    host_name(q->r, host, sizeof host);
    const char *suffixes[2] = {"localhost", q->s3->cfg->domain};
    for (int i = 0; i < 2; i++) {
        const char *suf = suffixes[i];
        if (!suf || !*suf)
            continue;
        size_t hl = strlen(host), sl = strlen(suf);
        if (hl > sl + 1 && host[hl - sl - 1] == '.' && strcmp(host + hl - sl, suf) == 0)
            return arena_strndup(q->r->arena, host, hl - sl - 1);
    }
    return NULL;
}

/* Splits the request into bucket and key. The key is percent-decoded but
 * otherwise taken literally: "../x", "a//b" are keys, not paths. */
static s3_err_t address(s3_req_t *q)
{
    http_req_t *r = q->r;
    const char *path = r->raw_path;
    if (*path == '/')
        path++;
    buf_t b;
    buf_init(&b, 16 << 10);
    s3_err_t rc = S3_OK;
    const char *vb = virtual_bucket(q);
    const char *key_raw = NULL;
    if (vb) {
        q->bucket = vb;
        key_raw = path;
    } else if (*path) {
        const char *slash = strchr(path, '/');
        size_t blen = slash ? (size_t)(slash - path) : strlen(path);
        if (!uri_decode(&b, path, blen, false)) {
            rc = S3_ERR_INVALID_URI;
            goto out;
        }
        q->bucket = arena_strndup(r->arena, buf_cstr(&b), b.len);
        key_raw = slash ? slash + 1 : NULL;
    }
    if (key_raw && *key_raw) {
        buf_reset(&b);
        if (!uri_decode(&b, key_raw, strlen(key_raw), false)) {
            rc = S3_ERR_INVALID_URI;
            goto out;
        }
        if (memchr(buf_cstr(&b), '\0', b.len) || !parse_utf8_valid(buf_cstr(&b), b.len)) {
            rc = S3_ERR_INVALID_URI; /* keys are UTF-8 without NUL */
            goto out;
        }
        q->key = arena_strndup(r->arena, buf_cstr(&b), b.len);
        q->key_len = b.len;
    }
out:
    buf_release(&b);
    return rc;
}

static s3_err_t check_expected_owner(const s3_req_t *q)
{
    const char *eo = http_header(q->r, "x-amz-expected-bucket-owner");
    if (eo && q->bucket && strcmp(eo, q->s3->cfg->account_id) != 0)
        return S3_ERR_ACCESS_DENIED;
    return S3_OK;
}

/* The action of a request: versioned variants when ?versionId names one,
 * as IAM distinguishes them. */
static const char *request_action(const s3_req_t *q)
{
    static const struct {
        const char *plain, *versioned;
    } v[] = {
        {"s3:GetObject", "s3:GetObjectVersion"},
        {"s3:DeleteObject", "s3:DeleteObjectVersion"},
        {"s3:GetObjectTagging", "s3:GetObjectVersionTagging"},
        {"s3:PutObjectTagging", "s3:PutObjectVersionTagging"},
        {"s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"},
        {"s3:GetObjectAcl", "s3:GetObjectVersionAcl"},
        {"s3:PutObjectAcl", "s3:PutObjectVersionAcl"},
        {"s3:GetObjectAttributes", "s3:GetObjectVersionAttributes"},
    };
    const char *a = s3_op_action(q->op);
    if (a && q->key && http_param(q->r, "versionId"))
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
            if (strcmp(a, v[i].plain) == 0)
                return v[i].versioned;
    return a;
}

static s3_err_t authorize_request(s3_req_t *q)
{
    if (q->op->anonymous_ok)
        return S3_OK; /* preflight; POST uploads carry their own signature */
    s3_err_t rc = s3_authorize(q, q->bucket, request_action(q), q->key, q->key_len);
    if (rc != S3_OK)
        return rc;
    /* Overriding GOVERNANCE retention is a permission of its own. */
    const char *bp = http_header(q->r, "x-amz-bypass-governance-retention");
    if (bp && strcasecmp(bp, "true") == 0)
        rc = s3_authorize(q, q->bucket, "s3:BypassGovernanceRetention", q->key, q->key_len);
    return rc;
}

bool s3_begin(s3_t *s, http_req_t *r, const auth_result_t *auth, const auth_caller_t *caller,
              s3_req_t **out)
{
    s3_req_t *q = arena_alloc(r->arena, sizeof *q);
    *out = q;
    if (!q) {
        s3_error(r, S3_ERR_INTERNAL, NULL);
        return true;
    }
    q->s3 = s;
    q->r = r;
    q->auth = auth;
    q->caller = caller;
    q->expect_bytes = UINT64_MAX;
    buf_init(&q->body, S3_MAX_XML_BODY_BYTES);
    r->svc = "s3";

    s3_err_t rc = address(q);
    r->bucket = q->bucket;
    r->key = q->key;
    if (rc != S3_OK) {
        s3_error(r, rc, NULL);
        return true;
    }
    if (q->key_len > S3_MAX_KEY_BYTES) {
        s3_error(r, S3_ERR_KEY_TOO_LONG, NULL);
        return true;
    }
    q->op = pick_op(q);
    if (!q->op) {
        s3_error(r, S3_ERR_NOT_IMPLEMENTED, NULL);
        return true;
    }
    r->op = q->op->name;
    if ((rc = authorize_request(q)) != S3_OK || (rc = check_expected_owner(q)) != S3_OK ||
        (rc = q->op->begin(q)) != S3_OK) {
        s3_error(r, rc, q->err_msg);
        return true;
    }
    return false; /* bodies of body-less operations are read and ignored, as S3 does */
}

bool s3_body(s3_req_t *q, const void *p, size_t n)
{
    if (q->body_err != S3_OK)
        return true; /* keep reading; the error is reported at the end */
    q->got_bytes += n;
    if (q->expect_bytes != UINT64_MAX && q->got_bytes > q->expect_bytes) {
        q->body_err = S3_ERR_INVALID_REQUEST;
        return true;
    }
    if (q->md5_on)
        ck_update(&q->md5, p, n);
    if (q->ck_on)
        ck_update(&q->ck, p, n);
    switch (q->body_mode) {
    case S3_BODY_NONE:
        break;
    case S3_BODY_BUFFER:
        buf_append(&q->body, p, n);
        if (!buf_ok(&q->body))
            q->body_err = S3_ERR_MALFORMED_XML;
        break;
    case S3_BODY_CUSTOM:
        return q->sink(q, p, n);
    case S3_BODY_BLOB: {
        store_rc_t rc = store_blob_write(q->blob, p, n);
        if (rc != STORE_OK) {
            q->body_err = s3_err_from_store(rc);
            store_blob_abort(q->blob);
            q->blob = NULL;
            /* Nothing more can be stored: answer now, the rest is discarded. */
            s3_error(q->r, q->body_err, NULL);
            return false;
        }
        break;
    }
    }
    return true;
}

void s3_end(s3_req_t *q, s3_err_t pre_err, const auth_chunked_t *trailers)
{
    s3_err_t rc = pre_err != S3_OK ? pre_err : q->body_err;
    if (rc == S3_OK && q->expect_bytes != UINT64_MAX && q->got_bytes != q->expect_bytes)
        rc = S3_ERR_INCOMPLETE_BODY;
    if (rc == S3_OK) {
        /* Journal rows name the request that caused them (s3-metadata §3). */
        store_reqctx_t ctx = {
            .requester = q->caller && !q->caller->anonymous ? q->caller->account_id : NULL,
            .source_ip = q->r->peer_ip,
            .request_id = q->r->rid,
        };
        store_reqctx_set(&ctx);
        rc = q->op->run(q, trailers);
        store_reqctx_set(NULL);
    }
    if (rc != S3_OK)
        s3_error(q->r, rc, q->err_msg);
    if (q->op != &s3_op_cors_preflight)
        s3_cors_actual(q->s3, q->r, q->bucket);
}

void s3_done(s3_req_t *q)
{
    if (!q)
        return;
    s3_post_release(q);
    store_blob_abort(q->blob);
    q->blob = NULL;
    if (q->md5_on)
        ck_release(&q->md5);
    if (q->ck_on)
        ck_release(&q->ck);
    buf_release(&q->body);
}
