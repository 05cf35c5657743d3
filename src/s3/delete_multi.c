/* s3/delete_multi.c: DeleteObjects (S3 API Reference): up to 1,000 keys per
 * request, each deleted as DeleteObject would, errors reported per key. */
#include "s3/s3_int.h"

#include "util/clock.h"
#include "util/timefmt.h"
#include "util/xml.h"
#include "util/xmlw.h"

#include <string.h>

#define S3_MAX_DELETE_KEYS 1000

static s3_err_t delete_objects_begin(s3_req_t *q)
{
    store_bucket_t b;
    store_rc_t rc = store_bucket_get(q->s3->st, q->r->arena, q->bucket, &b);
    if (rc != STORE_OK)
        return rc == STORE_NOT_FOUND ? S3_ERR_NO_SUCH_BUCKET : s3_err_from_store(rc);
    s3_want_xml_body(q);
    return S3_OK;
}

static void entry_error(buf_t *o, const char *key, size_t key_len, const char *vid,
                        const char *code, const char *msg)
{
    xmlw_open(o, "Error");
    xmlw_elem_n(o, "Key", key, key_len);
    if (vid)
        xmlw_elem(o, "VersionId", vid);
    xmlw_elem(o, "Code", code);
    xmlw_elem(o, "Message", msg);
    xmlw_close(o, "Error");
}

static s3_err_t delete_objects_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    http_req_t *r = q->r;
    s3_err_t rc = s3_check_body_digests(q, true);
    if (rc != S3_OK)
        return rc;
    xml_node_t *root = xml_parse(r->arena, q->body.data ? q->body.data : "", q->body.len);
    if (!root || strcmp(root->name, "Delete") != 0)
        return S3_ERR_MALFORMED_XML;
    size_t n = xml_count(root, "Object");
    if (n == 0 || n > S3_MAX_DELETE_KEYS)
        return S3_ERR_MALFORMED_XML;
    const char *quiet_s = xml_child_text(root, "Quiet");
    bool quiet = quiet_s && strcmp(quiet_s, "true") == 0;
    for (xml_node_t *o = root->first; o; o = o->next) /* validate before changing anything */
        if (strcmp(o->name, "Object") == 0 && !xml_child(o, "Key"))
            return S3_ERR_MALFORMED_XML;

    buf_t *out = &r->out;
    xmlw_root(out, "DeleteResult");
    bool bypass = false;
    const char *bp = http_header(r, "x-amz-bypass-governance-retention");
    if (bp && strcasecmp(bp, "true") == 0)
        bypass = true;
    for (xml_node_t *o = root->first; o; o = o->next) {
        if (strcmp(o->name, "Object") != 0)
            continue;
        xml_node_t *kn = xml_child(o, "Key");
        const char *vid = xml_child_text(o, "VersionId");
        if (vid && !*vid)
            vid = NULL;
        if (kn->text_len == 0 || kn->text_len > S3_MAX_KEY_BYTES ||
            memchr(kn->text, '\0', kn->text_len)) {
            entry_error(out, kn->text, kn->text_len, vid,
                        kn->text_len ? "KeyTooLongError" : "InvalidArgument",
                        kn->text_len ? "Your key is too long" : "Invalid key");
            continue;
        }
        if (s3_authorize(q, q->bucket, vid ? "s3:DeleteObjectVersion" : "s3:DeleteObject",
                         kn->text, kn->text_len) != S3_OK) {
            entry_error(out, kn->text, kn->text_len, vid, "AccessDenied", "Access Denied");
            continue;
        }
        store_delete_result_t res = {0};
        store_rc_t src = store_object_delete(q->s3->st, r->arena, q->bucket, kn->text,
                                             kn->text_len, vid, bypass, clock_now_ms(), &res);
        if (src == STORE_INVALID) {
            entry_error(out, kn->text, kn->text_len, vid, "NoSuchVersion",
                        "The specified version does not exist.");
            continue;
        }
        if (src == STORE_LOCKED) {
            entry_error(out, kn->text, kn->text_len, vid, "AccessDenied", "Access Denied");
            continue;
        }
        if (src != STORE_OK) {
            entry_error(out, kn->text, kn->text_len, vid, "InternalError",
                        "We encountered an internal error. Please try again.");
            continue;
        }
        if (quiet)
            continue;
        xmlw_open(out, "Deleted");
        xmlw_elem_n(out, "Key", kn->text, kn->text_len);
        if (vid)
            xmlw_elem(out, "VersionId", vid);
        if (res.delete_marker) {
            /* Created by this delete, or the marker removed by version id. */
            xmlw_elem(out, "DeleteMarker", "true");
            if (res.version_id)
                xmlw_elem(out, "DeleteMarkerVersionId", res.version_id);
        }
        xmlw_close(out, "Deleted");
    }
    xmlw_close(out, "DeleteResult");
    s3_xml_ok(q);
    return S3_OK;
}

const s3_op_t s3_op_delete_objects = {"DeleteObjects", false, delete_objects_begin, delete_objects_run};
