/* s3/acl.c: access control lists as a bucket with Object Ownership
 * "BucketOwnerEnforced" answers them (S3 User Guide, "Controlling ownership
 * of objects and disabling ACLs"): every ACL reads as the owner's
 * FULL_CONTROL, and setting anything else is AccessControlListNotSupported.
 * Also Put/GetBucketOwnershipControls, GetBucketRequestPayment and
 * GetObjectAttributes. */
#include "s3/s3_int.h"

#include "util/parse.h"
#include "util/timefmt.h"
#include "util/xml.h"
#include "util/xmlw.h"

#include <stdio.h>
#include <string.h>

#define S3_OWNERSHIP_CONF "ownership"

static void owner_acl(s3_req_t *q)
{
    buf_t *o = &q->r->out;
    const char *id = s3_owner_id(q->s3);
    xmlw_root(o, "AccessControlPolicy");
    xmlw_open(o, "Owner");
    xmlw_elem(o, "ID", id);
    xmlw_elem(o, "DisplayName", "kura");
    xmlw_close(o, "Owner");
    xmlw_open(o, "AccessControlList");
    buf_puts(o, "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                "xsi:type=\"CanonicalUser\">");
    xmlw_elem(o, "ID", id);
    xmlw_elem(o, "DisplayName", "kura");
    buf_puts(o, "</Grantee><Permission>FULL_CONTROL</Permission></Grant>");
    xmlw_close(o, "AccessControlList");
    xmlw_close(o, "AccessControlPolicy");
    s3_xml_ok(q);
}

static s3_err_t get_bucket_acl_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    s3_err_t rc = s3_bucket_must_exist(q);
    if (rc == S3_OK)
        owner_acl(q);
    return rc;
}

static s3_err_t get_object_acl_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    store_object_t o;
    const char *vid = http_param_value(q->r, "versionId");
    store_rc_t rc =
        store_object_get(q->s3->st, q->r->arena, q->bucket, q->key, q->key_len, vid, &o);
    if (rc == STORE_NOT_FOUND || (rc == STORE_OK && o.delete_marker))
        return vid ? S3_ERR_NO_SUCH_VERSION : S3_ERR_NO_SUCH_KEY;
    if (rc == STORE_INVALID)
        return S3_ERR_INVALID_VERSION_ID;
    if (rc != STORE_OK)
        return s3_err_from_store(rc);
    owner_acl(q);
    return S3_OK;
}

/* A canned ACL or grant headers, or an ACL document: only the owner's full
 * control is accepted, as with ACLs disabled. */
static s3_err_t put_acl_check(s3_req_t *q)
{
    http_req_t *r = q->r;
    const char *canned = http_header(r, "x-amz-acl");
    if (canned && strcmp(canned, "private") != 0 && strcmp(canned, "bucket-owner-full-control"))
        return S3_ERR_ACL_NOT_SUPPORTED;
    if (s3_has_grant_headers(r))
        return S3_ERR_ACL_NOT_SUPPORTED;
    if (q->body.len) {
        xml_node_t *root = xml_parse(r->arena, q->body.data, q->body.len);
        if (!root || strcmp(root->name, "AccessControlPolicy") != 0)
            return S3_ERR_MALFORMED_XML;
        xml_node_t *acl = xml_child(root, "AccessControlList");
        for (xml_node_t *g = acl ? acl->first : NULL; g; g = g->next) {
            const char *perm = xml_child_text(g, "Permission");
            const char *id = xml_child_text(xml_child(g, "Grantee"), "ID");
            if (!perm || strcmp(perm, "FULL_CONTROL") != 0 || !id ||
                strcmp(id, s3_owner_id(q->s3)) != 0)
                return S3_ERR_ACL_NOT_SUPPORTED;
        }
    }
    return S3_OK;
}

static s3_err_t put_bucket_acl_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    s3_err_t rc = s3_bucket_must_exist(q);
    if (rc == S3_OK && (rc = put_acl_check(q)) == S3_OK)
        q->r->status = 200;
    return rc;
}

static s3_err_t put_object_acl_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    store_object_t o;
    store_rc_t src = store_object_get(q->s3->st, q->r->arena, q->bucket, q->key, q->key_len,
                                      http_param_value(q->r, "versionId"), &o);
    if (src == STORE_NOT_FOUND || (src == STORE_OK && o.delete_marker))
        return S3_ERR_NO_SUCH_KEY;
    if (src != STORE_OK)
        return s3_err_from_store(src);
    s3_err_t rc = put_acl_check(q);
    if (rc == S3_OK)
        q->r->status = 200;
    return rc;
}

const s3_op_t s3_op_get_bucket_acl = {"GetBucketAcl", false, s3_begin_no_body, get_bucket_acl_run};
const s3_op_t s3_op_get_object_acl = {"GetObjectAcl", false, s3_begin_no_body, get_object_acl_run};
const s3_op_t s3_op_put_bucket_acl = {"PutBucketAcl", false, s3_begin_xml_body, put_bucket_acl_run};
const s3_op_t s3_op_put_object_acl = {"PutObjectAcl", false, s3_begin_xml_body, put_object_acl_run};

/* ---- ownership controls ----------------------------------------------- */

static s3_err_t put_ownership_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    s3_err_t rc = s3_bucket_must_exist(q);
    if (rc != S3_OK)
        return rc;
    xml_node_t *root = xml_parse(q->r->arena, q->body.data ? q->body.data : "", q->body.len);
    const char *own =
        root && strcmp(root->name, "OwnershipControls") == 0
            ? xml_child_text(xml_child(root, "Rule"), "ObjectOwnership")
            : NULL;
    if (!own)
        return S3_ERR_MALFORMED_XML;
    if (strcmp(own, "BucketOwnerEnforced") != 0 && strcmp(own, "BucketOwnerPreferred") != 0 &&
        strcmp(own, "ObjectWriter") != 0)
        return S3_ERR_MALFORMED_XML;
    /* kura has one owner per bucket and no ACLs: only enforced ownership is
     * what it actually does. */
    if (strcmp(own, "BucketOwnerEnforced") != 0) {
        q->err_msg = "kura enforces bucket-owner ownership; ACLs are disabled";
        return S3_ERR_INVALID_REQUEST;
    }
    store_rc_t src =
        store_bucket_conf_put(q->s3->st, q->bucket, S3_OWNERSHIP_CONF, own, strlen(own));
    if (src != STORE_OK)
        return s3_err_from_store(src);
    q->r->status = 200;
    return S3_OK;
}

static s3_err_t get_ownership_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    s3_err_t rc = s3_bucket_must_exist(q);
    if (rc != S3_OK)
        return rc;
    buf_t *o = &q->r->out;
    xmlw_root(o, "OwnershipControls");
    xmlw_open(o, "Rule");
    xmlw_elem(o, "ObjectOwnership", "BucketOwnerEnforced");
    xmlw_close(o, "Rule");
    xmlw_close(o, "OwnershipControls");
    s3_xml_ok(q);
    return S3_OK;
}

static s3_err_t delete_ownership_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    return s3_conf_delete(q, S3_OWNERSHIP_CONF);
}

static s3_err_t get_request_payment_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    s3_err_t rc = s3_bucket_must_exist(q);
    if (rc != S3_OK)
        return rc;
    buf_t *o = &q->r->out;
    xmlw_root(o, "RequestPaymentConfiguration");
    xmlw_elem(o, "Payer", "BucketOwner");
    xmlw_close(o, "RequestPaymentConfiguration");
    s3_xml_ok(q);
    return S3_OK;
}

const s3_op_t s3_op_put_bucket_ownership_controls = {"PutBucketOwnershipControls", false,
                                                     s3_begin_xml_body, put_ownership_run};
const s3_op_t s3_op_get_bucket_ownership_controls = {"GetBucketOwnershipControls", false,
                                                     s3_begin_no_body, get_ownership_run};
const s3_op_t s3_op_delete_bucket_ownership_controls = {"DeleteBucketOwnershipControls", false,
                                                        s3_begin_no_body, delete_ownership_run};
const s3_op_t s3_op_get_bucket_request_payment = {"GetBucketRequestPayment", false,
                                                  s3_begin_no_body, get_request_payment_run};

/* ---- GetObjectAttributes ---------------------------------------------- */

static bool wants(const char *list, const char *attr)
{
    size_t n = strlen(attr);
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (strncmp(p, attr, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
            return true;
        p = strchr(p, ',');
    }
    return false;
}

static s3_err_t get_attributes_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    http_req_t *r = q->r;
    const char *attrs = http_header(r, "x-amz-object-attributes");
    if (!attrs || !*attrs) {
        q->err_msg = "Invalid attribute name specified.";
        return S3_ERR_INVALID_ARGUMENT;
    }
    const char *vid = http_param_value(r, "versionId");
    store_object_t o;
    store_rc_t rc = store_object_get(q->s3->st, r->arena, q->bucket, q->key, q->key_len, vid, &o);
    if (rc == STORE_NOT_FOUND)
        return vid ? S3_ERR_NO_SUCH_VERSION : S3_ERR_NO_SUCH_KEY;
    if (rc == STORE_INVALID)
        return S3_ERR_INVALID_VERSION_ID;
    if (rc != STORE_OK)
        return s3_err_from_store(rc);
    if (o.delete_marker) {
        http_set_header(r, "x-amz-delete-marker", "true");
        return vid ? S3_ERR_METHOD_NOT_ALLOWED : S3_ERR_NO_SUCH_KEY;
    }
    char date[TIMEFMT_HTTP_LEN];
    timefmt_http(o.mtime_ms / 1000, date);
    http_set_header(r, "Last-Modified", date);
    if (o.version_id && strcmp(o.version_id, "null") != 0)
        http_set_header(r, "x-amz-version-id", o.version_id);
    buf_t *x = &r->out;
    xmlw_root(x, "GetObjectAttributesResponse");
    if (wants(attrs, "ETag"))
        xmlw_elem(x, "ETag", o.etag);
    if (wants(attrs, "Checksum") && o.checksum_algo && o.checksum_value) {
        char tag[32];
        snprintf(tag, sizeof tag, "Checksum%s", o.checksum_algo);
        xmlw_open(x, "Checksum");
        xmlw_elem(x, tag, o.checksum_value);
        if (o.checksum_type)
            xmlw_elem(x, "ChecksumType", o.checksum_type);
        xmlw_close(x, "Checksum");
    }
    if (wants(attrs, "ObjectParts") && o.parts_count) {
        uint64_t max = 1000, marker = 0;
        const char *mp = http_header(r, "x-amz-max-parts");
        const char *pm = http_header(r, "x-amz-part-number-marker");
        if ((mp && parse_u64_str(mp, UINT32_MAX, &max) != PARSE_OK) ||
            (pm && parse_u64_str(pm, UINT32_MAX, &marker) != PARSE_OK))
            return S3_ERR_INVALID_ARGUMENT;
        xmlw_open(x, "ObjectParts");
        xmlw_elem_u64(x, "PartsCount", o.parts_count); /* TotalPartsCount on the wire */
        xmlw_elem_u64(x, "PartNumberMarker", marker);
        uint64_t last = marker + max < o.parts_count ? marker + max : o.parts_count;
        if (last > marker)
            xmlw_elem_u64(x, "NextPartNumberMarker", last);
        xmlw_elem_u64(x, "MaxParts", max);
        xmlw_elem_bool(x, "IsTruncated", last < o.parts_count);
        char ctag[32] = "";
        if (o.checksum_algo && o.part_checksums)
            snprintf(ctag, sizeof ctag, "Checksum%s", o.checksum_algo);
        for (uint64_t i = marker; i < last; i++) {
            xmlw_open(x, "Part");
            xmlw_elem_u64(x, "PartNumber", i + 1);
            xmlw_elem_u64(x, "Size", o.part_sizes[i]);
            if (*ctag && o.part_checksums[i][0])
                xmlw_elem(x, ctag, o.part_checksums[i]);
            xmlw_close(x, "Part");
        }
        xmlw_close(x, "ObjectParts");
    }
    if (wants(attrs, "StorageClass"))
        xmlw_elem(x, "StorageClass", o.storage_class ? o.storage_class : "STANDARD");
    if (wants(attrs, "ObjectSize"))
        xmlw_elem_u64(x, "ObjectSize", o.size);
    xmlw_close(x, "GetObjectAttributesResponse");
    s3_xml_ok(q);
    return S3_OK;
}

const s3_op_t s3_op_get_object_attributes = {"GetObjectAttributes", false, s3_begin_no_body,
                                             get_attributes_run};
