/* s3/policy.c: who may do what (S3 User Guide, "How Amazon S3 authorizes a
 * request"; IAM "Policy evaluation logic"), Put/Get/DeleteBucketPolicy,
 * GetBucketPolicyStatus and Put/Get/DeletePublicAccessBlock.
 *
 * Decision per request, for the operation's IAM action on the bucket or
 * object ARN:
 *   root      allowed, unless the bucket policy explicitly denies (the
 *             policy calls themselves stay allowed, so root can never be
 *             locked out of fixing a policy);
 *   user      its identity policy and the bucket policy combined: an
 *             explicit Deny in either wins, else an Allow from either;
 *   anonymous the bucket policy alone must allow.
 * With RestrictPublicBuckets, a public bucket policy grants nothing to
 * callers outside the account (anonymous ones). */
#include "s3/s3_int.h"

#include "auth/policy.h"
#include "util/clock.h"
#include "util/timefmt.h"
#include "util/uri.h"
#include "util/xml.h"
#include "util/xmlw.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define S3_POLICY_CONF "policy"
#define S3_PAB_CONF "public-access-block"
#define S3_MAX_POLICY_CTX 64

/* The IAM action of each operation (S3 API Reference, "Actions, resources
 * and condition keys for Amazon S3"). */
static const struct {
    const char *op, *action;
} actions[] = {
    {"ListBuckets", "s3:ListAllMyBuckets"},
    {"CreateBucket", "s3:CreateBucket"},
    {"HeadBucket", "s3:ListBucket"},
    {"DeleteBucket", "s3:DeleteBucket"},
    {"GetBucketLocation", "s3:GetBucketLocation"},
    {"ListObjects", "s3:ListBucket"},
    {"ListObjectsV2", "s3:ListBucket"},
    {"ListObjectVersions", "s3:ListBucketVersions"},
    {"PutObject", "s3:PutObject"},
    {"PostObject", "s3:PutObject"},
    {"CopyObject", "s3:PutObject"},
    {"GetObject", "s3:GetObject"},
    {"HeadObject", "s3:GetObject"},
    {"GetObjectAttributes", "s3:GetObjectAttributes"},
    {"DeleteObject", "s3:DeleteObject"},
    {"CreateMultipartUpload", "s3:PutObject"},
    {"UploadPart", "s3:PutObject"},
    {"UploadPartCopy", "s3:PutObject"},
    {"CompleteMultipartUpload", "s3:PutObject"},
    {"AbortMultipartUpload", "s3:AbortMultipartUpload"},
    {"ListParts", "s3:ListMultipartUploadParts"},
    {"ListMultipartUploads", "s3:ListBucketMultipartUploads"},
    {"PutObjectTagging", "s3:PutObjectTagging"},
    {"GetObjectTagging", "s3:GetObjectTagging"},
    {"DeleteObjectTagging", "s3:DeleteObjectTagging"},
    {"PutBucketTagging", "s3:PutBucketTagging"},
    {"GetBucketTagging", "s3:GetBucketTagging"},
    {"DeleteBucketTagging", "s3:PutBucketTagging"},
    {"PutBucketVersioning", "s3:PutBucketVersioning"},
    {"GetBucketVersioning", "s3:GetBucketVersioning"},
    {"PutObjectLockConfiguration", "s3:PutBucketObjectLockConfiguration"},
    {"GetObjectLockConfiguration", "s3:GetBucketObjectLockConfiguration"},
    {"PutObjectRetention", "s3:PutObjectRetention"},
    {"GetObjectRetention", "s3:GetObjectRetention"},
    {"PutObjectLegalHold", "s3:PutObjectLegalHold"},
    {"GetObjectLegalHold", "s3:GetObjectLegalHold"},
    {"PutBucketCors", "s3:PutBucketCORS"},
    {"GetBucketCors", "s3:GetBucketCORS"},
    {"DeleteBucketCors", "s3:PutBucketCORS"},
    {"GetBucketAcl", "s3:GetBucketAcl"},
    {"PutBucketAcl", "s3:PutBucketAcl"},
    {"GetObjectAcl", "s3:GetObjectAcl"},
    {"PutObjectAcl", "s3:PutObjectAcl"},
    {"PutBucketOwnershipControls", "s3:PutBucketOwnershipControls"},
    {"GetBucketOwnershipControls", "s3:GetBucketOwnershipControls"},
    {"DeleteBucketOwnershipControls", "s3:PutBucketOwnershipControls"},
    {"GetBucketRequestPayment", "s3:GetBucketRequestPayment"},
    {"PutBucketLifecycleConfiguration", "s3:PutLifecycleConfiguration"},
    {"GetBucketLifecycleConfiguration", "s3:GetLifecycleConfiguration"},
    {"DeleteBucketLifecycle", "s3:PutLifecycleConfiguration"},
    {"PutBucketPolicy", "s3:PutBucketPolicy"},
    {"GetBucketPolicy", "s3:GetBucketPolicy"},
    {"DeleteBucketPolicy", "s3:DeleteBucketPolicy"},
    {"GetBucketPolicyStatus", "s3:GetBucketPolicyStatus"},
    {"PutPublicAccessBlock", "s3:PutBucketPublicAccessBlock"},
    {"GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock"},
    {"DeletePublicAccessBlock", "s3:PutBucketPublicAccessBlock"},
    /* V1 and V2 share the configuration actions (specs/s3-metadata.md §1). */
    {"CreateBucketMetadataConfiguration", "s3:CreateBucketMetadataTableConfiguration"},
    {"GetBucketMetadataConfiguration", "s3:GetBucketMetadataTableConfiguration"},
    {"DeleteBucketMetadataConfiguration", "s3:DeleteBucketMetadataTableConfiguration"},
    {"UpdateBucketMetadataJournalTableConfiguration",
     "s3:UpdateBucketMetadataJournalTableConfiguration"},
    {"UpdateBucketMetadataInventoryTableConfiguration",
     "s3:UpdateBucketMetadataInventoryTableConfiguration"},
    {"CreateBucketMetadataTableConfiguration", "s3:CreateBucketMetadataTableConfiguration"},
    {"GetBucketMetadataTableConfiguration", "s3:GetBucketMetadataTableConfiguration"},
    {"DeleteBucketMetadataTableConfiguration", "s3:DeleteBucketMetadataTableConfiguration"},
};

/* DeleteObjects has no request-level action: every key is authorized on
 * its own (delete_multi.c), and a denied key is an <Error> entry. */
const char *s3_op_action(const s3_op_t *op)
{
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (strcmp(actions[i].op, op->name) == 0)
            return actions[i].action;
    return NULL;
}

typedef struct {
    bool block_acls, ignore_acls, block_policy, restrict_buckets;
    bool present;
} pab_t;

static void pab_load(s3_req_t *q, const char *bucket, pab_t *p)
{
    memset(p, 0, sizeof *p);
    char *doc = NULL;
    size_t len = 0;
    if (store_bucket_conf_get(q->s3->st, q->r->arena, bucket, S3_PAB_CONF, &doc, &len) != STORE_OK)
        return;
    xml_node_t *root = xml_parse(q->r->arena, doc, len);
    if (!root)
        return;
    p->present = true;
    const char *v;
    p->block_acls = (v = xml_child_text(root, "BlockPublicAcls")) && strcmp(v, "true") == 0;
    p->ignore_acls = (v = xml_child_text(root, "IgnorePublicAcls")) && strcmp(v, "true") == 0;
    p->block_policy = (v = xml_child_text(root, "BlockPublicPolicy")) && strcmp(v, "true") == 0;
    p->restrict_buckets =
        (v = xml_child_text(root, "RestrictPublicBuckets")) && strcmp(v, "true") == 0;
}

/* The bucket's policy, parsed; NULL if none (or unreadable: then it grants
 * nothing and denies nothing, and the problem is logged by PutBucketPolicy's
 * validation having let it in, which cannot happen). Caller frees. */
static auth_policy_t *bucket_policy(s3_req_t *q, const char *bucket)
{
    char *doc = NULL;
    size_t len = 0;
    auth_policy_t *p = NULL;
    if (store_bucket_conf_get(q->s3->st, q->r->arena, bucket, S3_POLICY_CONF, &doc, &len) !=
        STORE_OK)
        return NULL;
    if (auth_policy_parse(doc, len, AUTH_POLICY_BUCKET, &p, NULL, 0) != AUTH_POLICY_OK)
        return NULL;
    return p;
}

typedef struct {
    auth_policy_kv_t kv[S3_MAX_POLICY_CTX];
    size_t n;
} ctx_t;

static void ctx_add(ctx_t *c, const char *name, const char *value)
{
    if (value && c->n < S3_MAX_POLICY_CTX) {
        c->kv[c->n].name = name;
        c->kv[c->n].value = value;
        c->n++;
    }
}

static void request_context(s3_req_t *q, ctx_t *c, const char *bucket, const char *key,
                            size_t key_len)
{
    http_req_t *r = q->r;
    arena_t *a = r->arena;
    const auth_caller_t *who = q->caller;
    char iso[TIMEFMT_ISO_LEN];
    int64_t now = clock_now_ms();
    timefmt_iso8601_s(now / 1000, iso);
    ctx_add(c, "aws:SourceIp", r->peer_ip);
    ctx_add(c, "aws:SecureTransport", "false");
    ctx_add(c, "aws:CurrentTime", arena_strdup(a, iso));
    ctx_add(c, "aws:EpochTime", arena_printf(a, "%lld", (long long)(now / 1000)));
    if (who) {
        ctx_add(c, "aws:username", who->user);
        ctx_add(c, "aws:PrincipalArn", who->principal_arn);
        ctx_add(c, "aws:PrincipalAccount", who->anonymous ? NULL : who->account_id);
        ctx_add(c, "aws:PrincipalType", who->anonymous ? "Anonymous" : who->root ? "Account" : "User");
    }
    ctx_add(c, "s3:prefix", http_param_value(r, "prefix"));
    ctx_add(c, "s3:delimiter", http_param_value(r, "delimiter"));
    ctx_add(c, "s3:max-keys", http_param_value(r, "max-keys"));
    ctx_add(c, "s3:versionid", http_param_value(r, "versionId"));
    ctx_add(c, "s3:x-amz-acl", http_header(r, "x-amz-acl"));
    ctx_add(c, "s3:x-amz-copy-source", http_header(r, "x-amz-copy-source"));
    ctx_add(c, "s3:x-amz-storage-class", http_header(r, "x-amz-storage-class"));
    ctx_add(c, "s3:object-lock-mode", http_header(r, "x-amz-object-lock-mode"));
    if (q->auth) {
        ctx_add(c, "s3:signatureversion", "AWS4-HMAC-SHA256");
        ctx_add(c, "s3:authType", q->auth->presigned ? "REST-QUERY-STRING" : "REST-HEADER");
    }
    /* Tags the request would set (x-amz-tagging) ... */
    const char *tagging = http_header(r, "x-amz-tagging");
    store_kv_t *tags = NULL;
    size_t ntags = 0;
    const char *saved = q->err_msg;
    if (tagging && s3_tags_from_query(q, tagging, &tags, &ntags) == S3_OK) {
        for (size_t i = 0; i < ntags; i++) {
            ctx_add(c, arena_printf(a, "s3:RequestObjectTag/%s", tags[i].name), tags[i].value);
            ctx_add(c, "s3:RequestObjectTagKeys", tags[i].name);
        }
    }
    q->err_msg = saved;
    /* ... and the tags the object already has. */
    if (key) {
        store_object_t o;
        if (store_object_get(q->s3->st, a, bucket, key, key_len,
                             http_param_value(r, "versionId"), &o) == STORE_OK &&
            !o.delete_marker)
            for (size_t i = 0; i < o.ntags; i++)
                ctx_add(c, arena_printf(a, "s3:ExistingObjectTag/%s", o.tags[i].name),
                        o.tags[i].value);
    }
}

static bool is_policy_op(const char *action)
{
    return strcmp(action, "s3:PutBucketPolicy") == 0 || strcmp(action, "s3:GetBucketPolicy") == 0 ||
           strcmp(action, "s3:DeleteBucketPolicy") == 0;
}

s3_err_t s3_authorize(s3_req_t *q, const char *bucket, const char *action, const char *key,
                      size_t key_len)
{
    const auth_caller_t *who = q->caller;
    if (!action)
        return S3_OK; /* e.g. the CORS preflight: not an authorized action */
    if (!who)
        return S3_ERR_ACCESS_DENIED;
    arena_t *a = q->r->arena;
    buf_t res;
    buf_init(&res, 4096);
    if (bucket) {
        buf_printf(&res, "arn:aws:s3:::%s", bucket);
        if (key) {
            buf_putc(&res, '/');
            buf_append(&res, key, key_len);
        }
    }
    const char *resource = bucket ? arena_strndup(a, buf_cstr(&res), res.len) : NULL;
    buf_release(&res);
    auth_policy_t *bp = bucket ? bucket_policy(q, bucket) : NULL;
    if (who->root && !bp)
        return S3_OK; /* the common case: nothing to evaluate */
    ctx_t ctx = {.n = 0};
    request_context(q, &ctx, bucket, key, key_len);
    auth_policy_request_t req = {
        .action = action,
        .resource = resource,
        .principal_arn = who->principal_arn,
        .principal_account = who->anonymous ? NULL : who->account_id,
        .ctx = ctx.kv,
        .nctx = ctx.n,
    };
    if (bp && who->anonymous) {
        pab_t pab;
        pab_load(q, bucket, &pab);
        if (pab.restrict_buckets && auth_policy_is_public(bp)) {
            auth_policy_free(bp);
            bp = NULL;
        }
    }
    const auth_policy_t *pols[2] = {who->identity_policy, bp};
    auth_policy_effect_t eff = auth_policy_decide(pols, 2, &req);
    auth_policy_free(bp);
    if (eff == AUTH_POLICY_EXPLICIT_DENY)
        return who->root && is_policy_op(action) ? S3_OK : S3_ERR_ACCESS_DENIED;
    if (who->root || eff == AUTH_POLICY_ALLOW)
        return S3_OK;
    return S3_ERR_ACCESS_DENIED;
}

/* ---- Put/Get/DeleteBucketPolicy, GetBucketPolicyStatus ---------------- */

/* The S3 actions a bucket policy may name (IAM "Actions defined by Amazon
 * S3", the bucket- and object-level ones). */
static const char *const s3_actions[] = {
    "AbortMultipartUpload", "BypassGovernanceRetention", "CreateBucket", "DeleteBucket",
    "DeleteBucketOwnershipControls", "DeleteBucketPolicy", "DeleteBucketWebsite", "DeleteObject",
    "DeleteObjectTagging", "DeleteObjectVersion", "DeleteObjectVersionTagging",
    "GetAccelerateConfiguration", "GetAnalyticsConfiguration", "GetBucketAcl", "GetBucketCORS",
    "GetBucketLocation", "GetBucketLogging", "GetBucketNotification",
    "GetBucketObjectLockConfiguration", "GetBucketOwnershipControls", "GetBucketPolicy",
    "GetBucketPolicyStatus", "GetBucketPublicAccessBlock", "GetBucketRequestPayment",
    "GetBucketTagging", "GetBucketVersioning", "GetBucketWebsite", "GetEncryptionConfiguration",
    "GetIntelligentTieringConfiguration", "GetInventoryConfiguration",
    "GetLifecycleConfiguration", "GetMetricsConfiguration", "GetObject", "GetObjectAcl",
    "GetObjectAttributes", "GetObjectLegalHold", "GetObjectRetention", "GetObjectTagging",
    "GetObjectTorrent", "GetObjectVersion", "GetObjectVersionAcl", "GetObjectVersionAttributes",
    "GetObjectVersionForReplication", "GetObjectVersionTagging", "GetObjectVersionTorrent",
    "GetReplicationConfiguration", "ListAllMyBuckets", "ListBucket", "ListBucketMultipartUploads",
    "ListBucketVersions", "ListMultipartUploadParts", "ObjectOwnerOverrideToBucketOwner",
    "PutAccelerateConfiguration", "PutAnalyticsConfiguration", "PutBucketAcl", "PutBucketCORS",
    "PutBucketLogging", "PutBucketNotification", "PutBucketObjectLockConfiguration",
    "PutBucketOwnershipControls", "PutBucketPolicy", "PutBucketPublicAccessBlock",
    "PutBucketRequestPayment", "PutBucketTagging", "PutBucketVersioning", "PutBucketWebsite",
    "PutEncryptionConfiguration", "PutIntelligentTieringConfiguration",
    "PutInventoryConfiguration", "PutLifecycleConfiguration", "PutMetricsConfiguration",
    "PutObject", "PutObjectAcl", "PutObjectLegalHold", "PutObjectRetention", "PutObjectTagging",
    "PutObjectVersionAcl", "PutObjectVersionTagging", "PutReplicationConfiguration",
    "ReplicateDelete", "ReplicateObject", "ReplicateTags", "RestoreObject",
    "CreateBucketMetadataTableConfiguration", "GetBucketMetadataTableConfiguration",
    "DeleteBucketMetadataTableConfiguration", "UpdateBucketMetadataJournalTableConfiguration",
    "UpdateBucketMetadataInventoryTableConfiguration",
};

static bool action_ok(const char *a)
{
    if (strchr(a, '*') || strchr(a, '?'))
        return true; /* wildcards: the policy grammar already checked the service */
    if (strncasecmp(a, "s3:", 3) != 0)
        return false;
    for (size_t i = 0; i < sizeof s3_actions / sizeof s3_actions[0]; i++)
        if (strcasecmp(a + 3, s3_actions[i]) == 0)
            return true;
    return false;
}

/* A wildcard pattern ('*', '?') against a whole string: the iterative
 * backtrack-to-last-star match, O(len(pat) * len(s)) at worst. */
static bool glob_match(const char *pat, const char *s)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*pat == '*') {
            star = pat++;
            resume = s;
        } else if (*pat == '?' || *pat == *s) {
            pat++;
            s++;
        } else if (star) {
            pat = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return !*pat;
}

/* A bucket policy may name only this bucket and its objects. */
static bool resource_ok(const char *res, const char *bucket)
{
    static const char prefix[] = "arn:aws:s3:::";
    if (strcmp(res, "*") == 0)
        return true;
    if (strncmp(res, prefix, sizeof prefix - 1) != 0)
        return false;
    const char *b = res + sizeof prefix - 1;
    const char *slash = strchr(b, '/');
    char part[256];
    size_t n = slash ? (size_t)(slash - b) : strlen(b);
    if (n == 0 || n >= sizeof part)
        return false;
    memcpy(part, b, n);
    part[n] = '\0';
    return glob_match(part, bucket);
}

/* Actions and resources of each statement, beyond what the grammar checks. */
static s3_err_t check_policy_names(s3_req_t *q, const char *doc, size_t len)
{
    json_t *j = json_loadb(doc, len, 0, NULL);
    json_t *st = json_object_get(j, "Statement");
    s3_err_t rc = S3_OK;
    size_t n = json_is_array(st) ? json_array_size(st) : 1;
    for (size_t i = 0; rc == S3_OK && i < n; i++) {
        json_t *s = json_is_array(st) ? json_array_get(st, i) : st;
        static const char *const afields[] = {"Action", "NotAction"};
        static const char *const rfields[] = {"Resource", "NotResource"};
        for (size_t f = 0; rc == S3_OK && f < 2; f++) {
            json_t *v = json_object_get(s, afields[f]);
            size_t m = json_is_array(v) ? json_array_size(v) : 1;
            for (size_t k = 0; rc == S3_OK && v && k < m; k++) {
                const char *a = json_string_value(json_is_array(v) ? json_array_get(v, k) : v);
                if (a && !action_ok(a)) {
                    q->err_msg = "Policy has invalid action";
                    rc = S3_ERR_MALFORMED_POLICY;
                }
            }
            v = json_object_get(s, rfields[f]);
            m = json_is_array(v) ? json_array_size(v) : 1;
            for (size_t k = 0; rc == S3_OK && v && k < m; k++) {
                const char *r = json_string_value(json_is_array(v) ? json_array_get(v, k) : v);
                if (r && !resource_ok(r, q->bucket)) {
                    q->err_msg = "Policy has invalid resource";
                    rc = S3_ERR_MALFORMED_POLICY;
                }
            }
        }
    }
    json_decref(j);
    return rc;
}

static s3_err_t put_policy_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    s3_err_t rc = s3_bucket_must_exist(q);
    if (rc != S3_OK)
        return rc;
    auth_policy_t *p = NULL;
    char err[256] = "";
    auth_policy_rc_t prc = auth_policy_parse(q->body.data ? q->body.data : "", q->body.len,
                                             AUTH_POLICY_BUCKET, &p, err, sizeof err);
    if (prc == AUTH_POLICY_NOMEM)
        return S3_ERR_INTERNAL;
    if (prc != AUTH_POLICY_OK) {
        q->err_msg = arena_strdup(q->r->arena, err);
        return S3_ERR_MALFORMED_POLICY;
    }
    bool pub = auth_policy_is_public(p);
    auth_policy_free(p);
    /* A policy naming another bucket, or an action S3 does not have, is
     * refused, as S3 does. */
    if ((rc = check_policy_names(q, q->body.data, q->body.len)) != S3_OK)
        return rc;
    pab_t pab;
    pab_load(q, q->bucket, &pab);
    if (pub && pab.block_policy) {
        q->err_msg = "User is not authorized to perform this action because public policies are "
                     "blocked by the BlockPublicPolicy block public access setting.";
        return S3_ERR_ACCESS_DENIED;
    }
    store_rc_t src = store_bucket_conf_put(q->s3->st, q->bucket, S3_POLICY_CONF, q->body.data,
                                           q->body.len);
    if (src != STORE_OK)
        return s3_err_from_store(src);
    q->r->status = 204;
    return S3_OK;
}

static s3_err_t get_policy_doc(s3_req_t *q, char **doc, size_t *len)
{
    return s3_conf_get(q, S3_POLICY_CONF, S3_ERR_NO_SUCH_BUCKET_POLICY, doc, len);
}

static s3_err_t get_policy_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    char *doc = NULL;
    size_t len = 0;
    s3_err_t rc = get_policy_doc(q, &doc, &len);
    if (rc != S3_OK)
        return rc;
    buf_append(&q->r->out, doc, len);
    http_set_header(q->r, "Content-Type", "application/json");
    q->r->status = 200;
    return S3_OK;
}

static s3_err_t delete_policy_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    return s3_conf_delete(q, S3_POLICY_CONF);
}

static s3_err_t policy_status_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    char *doc = NULL;
    size_t len = 0;
    s3_err_t rc = get_policy_doc(q, &doc, &len);
    if (rc != S3_OK)
        return rc;
    auth_policy_t *p = NULL;
    bool pub = auth_policy_parse(doc, len, AUTH_POLICY_BUCKET, &p, NULL, 0) == AUTH_POLICY_OK &&
               auth_policy_is_public(p);
    auth_policy_free(p);
    buf_t *o = &q->r->out;
    xmlw_root(o, "PolicyStatus");
    xmlw_elem_bool(o, "IsPublic", pub);
    xmlw_close(o, "PolicyStatus");
    s3_xml_ok(q);
    return S3_OK;
}

const s3_op_t s3_op_put_bucket_policy = {"PutBucketPolicy", false, s3_begin_xml_body, put_policy_run};
const s3_op_t s3_op_get_bucket_policy = {"GetBucketPolicy", false, s3_begin_no_body, get_policy_run};
const s3_op_t s3_op_delete_bucket_policy = {"DeleteBucketPolicy", false, s3_begin_no_body,
                                            delete_policy_run};
const s3_op_t s3_op_get_bucket_policy_status = {"GetBucketPolicyStatus", false, s3_begin_no_body,
                                                policy_status_run};

/* ---- PublicAccessBlock ------------------------------------------------ */

static s3_err_t put_pab_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    s3_err_t rc = s3_bucket_must_exist(q);
    if (rc != S3_OK)
        return rc;
    xml_node_t *root = xml_parse(q->r->arena, q->body.data ? q->body.data : "", q->body.len);
    if (!root || strcmp(root->name, "PublicAccessBlockConfiguration") != 0)
        return S3_ERR_MALFORMED_XML;
    static const char *const fields[] = {"BlockPublicAcls", "IgnorePublicAcls",
                                         "BlockPublicPolicy", "RestrictPublicBuckets"};
    for (xml_node_t *c = root->first; c; c = c->next) {
        bool known = false;
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
            known = known || strcmp(c->name, fields[i]) == 0;
        if (!known || (strcmp(c->text, "true") != 0 && strcmp(c->text, "false") != 0))
            return S3_ERR_MALFORMED_XML;
    }
    buf_t doc;
    buf_init(&doc, 4096);
    xmlw_root(&doc, "PublicAccessBlockConfiguration");
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *v = xml_child_text(root, fields[i]);
        xmlw_elem_bool(&doc, fields[i], v && strcmp(v, "true") == 0);
    }
    xmlw_close(&doc, "PublicAccessBlockConfiguration");
    store_rc_t src = store_bucket_conf_put(q->s3->st, q->bucket, S3_PAB_CONF, doc.data, doc.len);
    buf_release(&doc);
    if (src != STORE_OK)
        return s3_err_from_store(src);
    q->r->status = 200;
    return S3_OK;
}

static s3_err_t get_pab_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    char *doc = NULL;
    size_t len = 0;
    s3_err_t rc = s3_conf_get(q, S3_PAB_CONF, S3_ERR_NO_SUCH_PAB, &doc, &len);
    if (rc != S3_OK)
        return rc;
    buf_append(&q->r->out, doc, len);
    s3_xml_ok(q);
    return S3_OK;
}

static s3_err_t delete_pab_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    return s3_conf_delete(q, S3_PAB_CONF);
}

const s3_op_t s3_op_put_public_access_block = {"PutPublicAccessBlock", false, s3_begin_xml_body,
                                               put_pab_run};
const s3_op_t s3_op_get_public_access_block = {"GetPublicAccessBlock", false, s3_begin_no_body,
                                               get_pab_run};
const s3_op_t s3_op_delete_public_access_block = {"DeletePublicAccessBlock", false, s3_begin_no_body,
                                                  delete_pab_run};
