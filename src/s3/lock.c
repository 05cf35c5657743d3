/* s3/lock.c: Object Lock (S3 User Guide, "Locking objects with Object
 * Lock"): Put/GetObjectLockConfiguration, Put/GetObjectRetention,
 * Put/GetObjectLegalHold, and the lock headers of writes.
 *
 * Who may change a retention:
 *   COMPLIANCE, not expired: nobody may shorten it, remove it or turn it into
 *     GOVERNANCE, root included; extending is allowed.
 *   GOVERNANCE: shortening, removing or changing the mode needs
 *     x-amz-bypass-governance-retention: true.
 * The store refuses deletes of locked versions (STORE_LOCKED) by itself. */
#include "s3/s3_int.h"

#include "util/clock.h"
#include "util/parse.h"
#include "util/timefmt.h"
#include "util/xml.h"
#include "util/xmlw.h"

#include <string.h>

#define S3_LOCK_CONF "object-lock"
#define MS_PER_DAY ((int64_t)86400 * 1000)
#define S3_LOCK_MAX_DAYS 36500 /* 100 years, as S3 allows */

static bool valid_mode(const char *m)
{
    return m && (strcmp(m, "GOVERNANCE") == 0 || strcmp(m, "COMPLIANCE") == 0);
}

typedef struct {
    bool enabled;
    const char *mode; /* default retention, or NULL */
    uint64_t days, years;
} lock_conf_t;

/* The bucket's lock configuration: enabled if created with object lock or
 * configured since; default retention from the stored document. */
static s3_err_t lock_conf_load(s3_req_t *q, lock_conf_t *c)
{
    memset(c, 0, sizeof *c);
    store_bucket_t b;
    store_rc_t rc = store_bucket_get(q->s3->st, q->r->arena, q->bucket, &b);
    if (rc != STORE_OK)
        return rc == STORE_NOT_FOUND ? S3_ERR_NO_SUCH_BUCKET : s3_err_from_store(rc);
    c->enabled = b.object_lock;
    char *doc = NULL;
    size_t len = 0;
    rc = store_bucket_conf_get(q->s3->st, q->r->arena, q->bucket, S3_LOCK_CONF, &doc, &len);
    if (rc == STORE_NOT_FOUND)
        return S3_OK;
    if (rc != STORE_OK)
        return s3_err_from_store(rc);
    c->enabled = true;
    xml_node_t *root = xml_parse(q->r->arena, doc, len);
    xml_node_t *dr = xml_child(xml_child(root, "Rule"), "DefaultRetention");
    if (dr) {
        c->mode = xml_child_text(dr, "Mode");
        const char *d = xml_child_text(dr, "Days"), *y = xml_child_text(dr, "Years");
        if (d)
            (void)parse_u64_str(d, S3_LOCK_MAX_DAYS, &c->days);
        if (y)
            (void)parse_u64_str(y, S3_LOCK_MAX_DAYS / 365, &c->years);
    }
    return S3_OK;
}

s3_err_t s3_lock_from_headers(s3_req_t *q, store_object_t *o, int64_t now_ms)
{
    http_req_t *r = q->r;
    const char *mode = http_header(r, "x-amz-object-lock-mode");
    const char *until = http_header(r, "x-amz-object-lock-retain-until-date");
    const char *hold = http_header(r, "x-amz-object-lock-legal-hold");
    lock_conf_t c;
    s3_err_t rc = lock_conf_load(q, &c);
    if (rc != S3_OK)
        return rc;
    if ((mode || until || hold) && !c.enabled) {
        q->err_msg = "Bucket is missing Object Lock Configuration";
        return S3_ERR_INVALID_REQUEST;
    }
    if ((mode != NULL) != (until != NULL)) {
        q->err_msg = "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both "
                     "be supplied";
        return S3_ERR_INVALID_ARGUMENT;
    }
    if (mode) {
        int64_t t;
        if (!valid_mode(mode)) {
            q->err_msg = "Unknown wormMode directive.";
            return S3_ERR_INVALID_ARGUMENT;
        }
        if (!timefmt_parse_iso8601(until, &t)) {
            q->err_msg = "The retain until date must be provided in ISO 8601 format";
            return S3_ERR_INVALID_ARGUMENT;
        }
        if (t <= now_ms) {
            q->err_msg = "The retain until date must be in the future!";
            return S3_ERR_INVALID_ARGUMENT;
        }
        o->lock_mode = mode;
        o->lock_until_ms = t;
    } else if (c.enabled && valid_mode(c.mode) && (c.days || c.years)) {
        o->lock_mode = c.mode;
        o->lock_until_ms = now_ms + (int64_t)(c.days ? c.days : c.years * 365) * MS_PER_DAY;
    }
    if (hold) {
        if (strcmp(hold, "ON") != 0 && strcmp(hold, "OFF") != 0) {
            q->err_msg = "Legal Hold must be either of 'ON' or 'OFF'";
            return S3_ERR_INVALID_ARGUMENT;
        }
        o->legal_hold = strcmp(hold, "ON") == 0;
    }
    return S3_OK;
}

/* ---- Put/GetObjectLockConfiguration ----------------------------------- */

static s3_err_t put_lock_conf_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    s3_err_t rc = s3_check_body_digests(q, true);
    if (rc != S3_OK)
        return rc;
    xml_node_t *root = xml_parse(q->r->arena, q->body.data ? q->body.data : "", q->body.len);
    if (!root || strcmp(root->name, "ObjectLockConfiguration") != 0)
        return S3_ERR_MALFORMED_XML;
    const char *en = xml_child_text(root, "ObjectLockEnabled");
    if (!en || strcmp(en, "Enabled") != 0)
        return S3_ERR_MALFORMED_XML;
    xml_node_t *rule = xml_child(root, "Rule");
    if (rule) {
        xml_node_t *dr = xml_child(rule, "DefaultRetention");
        if (!dr)
            return S3_ERR_MALFORMED_XML;
        const char *mode = xml_child_text(dr, "Mode");
        const char *d = xml_child_text(dr, "Days"), *y = xml_child_text(dr, "Years");
        uint64_t v = 0;
        if (!valid_mode(mode) || (d && y) || (!d && !y))
            return S3_ERR_MALFORMED_XML;
        if (parse_u64_str(d ? d : y, d ? S3_LOCK_MAX_DAYS : S3_LOCK_MAX_DAYS / 365, &v) !=
                PARSE_OK ||
            v == 0) {
            q->err_msg = "Default retention period must be a positive integer value.";
            return S3_ERR_INVALID_ARGUMENT;
        }
    }
    store_bucket_t b;
    store_rc_t src = store_bucket_get(q->s3->st, q->r->arena, q->bucket, &b);
    if (src != STORE_OK)
        return src == STORE_NOT_FOUND ? S3_ERR_NO_SUCH_BUCKET : s3_err_from_store(src);
    /* Object Lock can be turned on for an existing bucket only while its
     * versioning is enabled (and never turned off again). */
    if (!b.object_lock && b.versioning != STORE_VERSIONING_ENABLED) {
        q->err_msg = "Versioning must be 'Enabled' on the bucket to apply a Object Lock "
                     "configuration";
        return S3_ERR_INVALID_BUCKET_STATE;
    }
    src = store_bucket_conf_put(q->s3->st, q->bucket, S3_LOCK_CONF, q->body.data, q->body.len);
    if (src != STORE_OK)
        return s3_err_from_store(src);
    q->r->status = 200;
    return S3_OK;
}

static s3_err_t get_lock_conf_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    lock_conf_t c;
    s3_err_t rc = lock_conf_load(q, &c);
    if (rc != S3_OK)
        return rc;
    if (!c.enabled)
        return S3_ERR_NO_LOCK_CONFIGURATION;
    buf_t *o = &q->r->out;
    xmlw_root(o, "ObjectLockConfiguration");
    xmlw_elem(o, "ObjectLockEnabled", "Enabled");
    if (valid_mode(c.mode) && (c.days || c.years)) {
        xmlw_open(o, "Rule");
        xmlw_open(o, "DefaultRetention");
        xmlw_elem(o, "Mode", c.mode);
        if (c.days)
            xmlw_elem_u64(o, "Days", c.days);
        else
            xmlw_elem_u64(o, "Years", c.years);
        xmlw_close(o, "DefaultRetention");
        xmlw_close(o, "Rule");
    }
    xmlw_close(o, "ObjectLockConfiguration");
    s3_xml_ok(q);
    return S3_OK;
}

const s3_op_t s3_op_put_object_lock_configuration = {"PutObjectLockConfiguration", false,
                                                     s3_begin_xml_body, put_lock_conf_run};
const s3_op_t s3_op_get_object_lock_configuration = {"GetObjectLockConfiguration", false,
                                                     s3_begin_no_body, get_lock_conf_run};

/* ---- retention and legal hold of one version -------------------------- */

static s3_err_t load_version(s3_req_t *q, store_object_t *o)
{
    const char *vid = http_param_value(q->r, "versionId");
    store_rc_t rc =
        store_object_get(q->s3->st, q->r->arena, q->bucket, q->key, q->key_len, vid, o);
    if (rc == STORE_NOT_FOUND)
        return vid ? S3_ERR_NO_SUCH_VERSION : S3_ERR_NO_SUCH_KEY;
    if (rc == STORE_INVALID)
        return S3_ERR_INVALID_VERSION_ID;
    if (rc != STORE_OK)
        return s3_err_from_store(rc);
    if (o->delete_marker)
        return vid ? S3_ERR_METHOD_NOT_ALLOWED : S3_ERR_NO_SUCH_KEY;
    return S3_OK;
}

static s3_err_t require_lock_enabled(s3_req_t *q)
{
    lock_conf_t c;
    s3_err_t rc = lock_conf_load(q, &c);
    if (rc == S3_OK && !c.enabled) {
        q->err_msg = "Bucket is missing Object Lock Configuration";
        return S3_ERR_INVALID_REQUEST;
    }
    return rc;
}

static s3_err_t update_lock(s3_req_t *q, unsigned what, const store_object_t *fields)
{
    store_object_t out;
    store_rc_t rc = store_object_update(q->s3->st, q->r->arena, q->bucket, q->key, q->key_len,
                                        http_param_value(q->r, "versionId"), what, fields, &out);
    if (rc == STORE_NOT_FOUND)
        return S3_ERR_NO_SUCH_KEY;
    if (rc == STORE_INVALID)
        return S3_ERR_METHOD_NOT_ALLOWED;
    if (rc != STORE_OK)
        return s3_err_from_store(rc);
    if (out.version_id && strcmp(out.version_id, "null") != 0)
        http_set_header(q->r, "x-amz-version-id", out.version_id);
    q->r->status = 200;
    return S3_OK;
}

static s3_err_t put_retention_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    http_req_t *r = q->r;
    s3_err_t rc = require_lock_enabled(q);
    if (rc != S3_OK)
        return rc;
    xml_node_t *root = xml_parse(r->arena, q->body.data ? q->body.data : "", q->body.len);
    if (!root || strcmp(root->name, "Retention") != 0)
        return S3_ERR_MALFORMED_XML;
    const char *mode = xml_child_text(root, "Mode");
    const char *until = xml_child_text(root, "RetainUntilDate");
    int64_t until_ms = 0, now = clock_now_ms();
    if ((mode && *mode) != (until && *until))
        return S3_ERR_MALFORMED_XML;
    if (mode && *mode) {
        if (!valid_mode(mode) || !timefmt_parse_iso8601(until, &until_ms))
            return S3_ERR_MALFORMED_XML;
        if (until_ms <= now) {
            q->err_msg = "The retain until date must be in the future!";
            return S3_ERR_INVALID_ARGUMENT;
        }
    } else {
        mode = NULL;
    }
    store_object_t cur;
    if ((rc = load_version(q, &cur)) != S3_OK)
        return rc;
    bool active = cur.lock_mode && cur.lock_until_ms > now;
    /* Only an active retention can be weakened (and only then is there a
     * mode to compare with). */
    bool weaker = active && (!mode || until_ms < cur.lock_until_ms ||
                             strcmp(mode, cur.lock_mode) != 0);
    if (active && weaker) {
        const char *bp = http_header(r, "x-amz-bypass-governance-retention");
        bool bypass = bp && strcasecmp(bp, "true") == 0;
        /* COMPLIANCE can only be extended, by anyone; GOVERNANCE needs the bypass. */
        if (strcmp(cur.lock_mode, "COMPLIANCE") == 0 || !bypass) {
            q->err_msg = "Access Denied because object protected by object lock.";
            return S3_ERR_ACCESS_DENIED;
        }
    }
    store_object_t f = {.lock_mode = mode, .lock_until_ms = mode ? until_ms : 0};
    return update_lock(q, STORE_UPD_LOCK, &f);
}

static s3_err_t get_retention_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    store_object_t o;
    s3_err_t rc = require_lock_enabled(q);
    if (rc != S3_OK || (rc = load_version(q, &o)) != S3_OK)
        return rc;
    if (!o.lock_mode || !*o.lock_mode)
        return S3_ERR_NO_LOCK_CONFIGURATION_OBJECT;
    buf_t *x = &q->r->out;
    xmlw_root(x, "Retention");
    xmlw_elem(x, "Mode", o.lock_mode);
    xmlw_elem(x, "RetainUntilDate", s3_iso_time(q, o.lock_until_ms));
    xmlw_close(x, "Retention");
    s3_xml_ok(q);
    return S3_OK;
}

static s3_err_t put_legal_hold_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    s3_err_t rc = require_lock_enabled(q);
    if (rc != S3_OK)
        return rc;
    xml_node_t *root = xml_parse(q->r->arena, q->body.data ? q->body.data : "", q->body.len);
    const char *st = root && strcmp(root->name, "LegalHold") == 0 ? xml_child_text(root, "Status")
                                                                 : NULL;
    if (!st || (strcmp(st, "ON") != 0 && strcmp(st, "OFF") != 0))
        return S3_ERR_MALFORMED_XML;
    store_object_t cur;
    if ((rc = load_version(q, &cur)) != S3_OK)
        return rc;
    store_object_t f = {.legal_hold = strcmp(st, "ON") == 0};
    return update_lock(q, STORE_UPD_LEGAL_HOLD, &f);
}

static s3_err_t get_legal_hold_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    store_object_t o;
    s3_err_t rc = require_lock_enabled(q);
    if (rc != S3_OK || (rc = load_version(q, &o)) != S3_OK)
        return rc;
    buf_t *x = &q->r->out;
    xmlw_root(x, "LegalHold");
    xmlw_elem(x, "Status", o.legal_hold ? "ON" : "OFF");
    xmlw_close(x, "LegalHold");
    s3_xml_ok(q);
    return S3_OK;
}

const s3_op_t s3_op_put_object_retention = {"PutObjectRetention", false, s3_begin_xml_body,
                                            put_retention_run};
const s3_op_t s3_op_get_object_retention = {"GetObjectRetention", false, s3_begin_no_body,
                                            get_retention_run};
const s3_op_t s3_op_put_object_legal_hold = {"PutObjectLegalHold", false, s3_begin_xml_body,
                                             put_legal_hold_run};
const s3_op_t s3_op_get_object_legal_hold = {"GetObjectLegalHold", false, s3_begin_no_body,
                                             get_legal_hold_run};
