/* s3/bucket.c: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
 * GetBucketLocation (S3 API Reference; naming rules from the S3 User Guide,
 * "General purpose bucket naming rules"). */
#include "s3/s3_int.h"

#include "util/clock.h"
#include "util/codec.h"
#include "util/parse.h"
#include "util/timefmt.h"
#include "util/xml.h"
#include "util/xmlw.h"

#include <string.h>

#define S3_BUCKET_NAME_MIN 3
#define S3_BUCKET_NAME_MAX 63

static bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

static bool looks_like_ipv4(const char *n)
{
    int dots = 0;
    for (const char *p = n; *p; p++) {
        if (*p == '.')
            dots++;
        else if (!parse_is_digit(*p))
            return false;
    }
    return dots == 3;
}

static bool has_prefix(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

static bool has_suffix(const char *s, const char *x)
{
    size_t n = strlen(s), m = strlen(x);
    return n >= m && strcmp(s + n - m, x) == 0;
}

static bool valid_bucket_name(const char *n)
{
    size_t len = strlen(n);
    if (len < S3_BUCKET_NAME_MIN || len > S3_BUCKET_NAME_MAX)
        return false;
    if (!is_lower_alnum(n[0]) || !is_lower_alnum(n[len - 1]))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = n[i];
        if (!is_lower_alnum(c) && c != '.' && c != '-')
            return false;
        if (c == '.' && (n[i + 1] == '.' || n[i + 1] == '-' || (i && n[i - 1] == '-')))
            return false;
    }
    static const char *const bad_prefix[] = {"xn--", "sthree-", "amzn-s3-demo-"};
    static const char *const bad_suffix[] = {"-s3alias", "--ol-s3", ".mrap", "--x-s3",
                                             "--table-s3"};
    for (size_t i = 0; i < sizeof bad_prefix / sizeof bad_prefix[0]; i++)
        if (has_prefix(n, bad_prefix[i]))
            return false;
    for (size_t i = 0; i < sizeof bad_suffix / sizeof bad_suffix[0]; i++)
        if (has_suffix(n, bad_suffix[i]))
            return false;
    return !looks_like_ipv4(n) && !s3_bucket_name_reserved(n);
}

/* ---- ListBuckets ------------------------------------------------------ */

typedef struct {
    s3_req_t *q;
    const char *prefix;
    uint64_t max, n;
    const char *last;
    bool truncated;
} list_buckets_t;

static bool list_bucket_cb(void *arg, const store_bucket_t *b)
{
    list_buckets_t *l = arg;
    if (l->prefix && !has_prefix(b->name, l->prefix))
        return strcmp(b->name, l->prefix) < 0; /* names sort: past the prefix, stop */
    if (l->n == l->max) {
        l->truncated = true;
        return false;
    }
    buf_t *o = &l->q->r->out;
    xmlw_open(o, "Bucket");
    xmlw_elem(o, "Name", b->name);
    xmlw_elem(o, "CreationDate", s3_iso_time(l->q, b->created_ms));
    xmlw_elem(o, "BucketRegion", b->region);
    xmlw_close(o, "Bucket");
    l->last = arena_strdup(l->q->r->arena, b->name);
    l->n++;
    return true;
}

static s3_err_t list_buckets_begin(s3_req_t *q)
{
    (void)q;
    return S3_OK;
}

static s3_err_t list_buckets_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    http_req_t *r = q->r;
    list_buckets_t l = {.q = q, .max = S3_MAX_BUCKETS_PAGE};
    const char *mb = http_param_value(r, "max-buckets");
    if (mb && (parse_u64_str(mb, S3_MAX_BUCKETS_PAGE, &l.max) != PARSE_OK || l.max == 0))
        return S3_ERR_INVALID_ARGUMENT;
    l.prefix = http_param_value(r, "prefix");
    if (l.prefix && !*l.prefix)
        l.prefix = NULL;
    const char *token = http_param_value(r, "continuation-token");
    const char *start = NULL;
    if (token && *token) {
        size_t tl = strlen(token), n = 0;
        uint8_t *raw = arena_alloc(r->arena, tl);
        if (!raw || !codec_unb64(token, tl, raw, tl, &n))
            return S3_ERR_INVALID_ARGUMENT;
        start = arena_strndup(r->arena, (const char *)raw, n);
    }
    buf_t *o = &r->out;
    xmlw_root(o, "ListAllMyBucketsResult");
    s3_owner_xml(q, o, "Owner");
    xmlw_open(o, "Buckets");
    store_rc_t rc = store_bucket_list(q->s3->st, r->arena, start, list_bucket_cb, &l);
    if (rc != STORE_OK)
        return s3_err_from_store(rc);
    xmlw_close(o, "Buckets");
    if (l.truncated && l.last) {
        size_t n = strlen(l.last);
        char *tok = arena_alloc(r->arena, 4 * (n / 3 + 1) + 1);
        if (!tok)
            return S3_ERR_INTERNAL;
        codec_b64(l.last, n, tok);
        xmlw_elem(o, "ContinuationToken", tok);
    }
    if (l.prefix)
        xmlw_elem(o, "Prefix", l.prefix);
    xmlw_close(o, "ListAllMyBucketsResult");
    s3_xml_ok(q);
    return S3_OK;
}

const s3_op_t s3_op_list_buckets = {"ListBuckets", false, list_buckets_begin, list_buckets_run};

/* ---- CreateBucket ----------------------------------------------------- */

static s3_err_t create_bucket_begin(s3_req_t *q)
{
    if (!valid_bucket_name(q->bucket))
        return S3_ERR_INVALID_BUCKET_NAME;
    /* Buckets are created with ACLs disabled (BucketOwnerEnforced). */
    const char *acl = http_header(q->r, "x-amz-acl");
    if ((acl && strcmp(acl, "private") != 0) || s3_has_grant_headers(q->r))
        return S3_ERR_BUCKET_ACL_WITH_OWNERSHIP;
    s3_want_xml_body(q);
    return S3_OK;
}

static s3_err_t create_bucket_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    http_req_t *r = q->r;
    const char *region = q->s3->cfg->region;
    if (q->body.len) {
        xml_node_t *root = xml_parse(r->arena, q->body.data, q->body.len);
        if (!root || strcmp(root->name, "CreateBucketConfiguration") != 0)
            return S3_ERR_MALFORMED_XML;
        const char *lc = xml_child_text(root, "LocationConstraint");
        /* S3 refuses an explicit us-east-1: that region is the empty constraint. */
        if (lc && *lc && (strcmp(lc, region) != 0 || strcmp(lc, "us-east-1") == 0))
            return strcmp(lc, "us-east-1") == 0 ? S3_ERR_INVALID_LOCATION_CONSTRAINT
                                                : S3_ERR_ILLEGAL_LOCATION_CONSTRAINT;
    }
    const char *lock = http_header(r, "x-amz-bucket-object-lock-enabled");
    bool lock_on = lock && strcasecmp(lock, "true") == 0;
    store_bucket_t b = {
        .name = q->bucket,
        .region = region,
        .created_ms = clock_now_ms(),
        .versioning = lock_on ? STORE_VERSIONING_ENABLED : STORE_VERSIONING_OFF,
        .object_lock = lock_on,
    };
    store_rc_t rc = store_bucket_create(q->s3->st, &b);
    if (rc != STORE_OK)
        return s3_err_from_store(rc);
    char *loc = arena_printf(r->arena, "/%s", q->bucket);
    http_set_header(r, "Location", loc ? loc : "/");
    r->status = 200;
    return S3_OK;
}

const s3_op_t s3_op_create_bucket = {"CreateBucket", false, create_bucket_begin, create_bucket_run};

/* ---- HeadBucket, DeleteBucket, GetBucketLocation ---------------------- */

static s3_err_t head_bucket_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    store_bucket_t b;
    store_rc_t rc = store_bucket_get(q->s3->st, q->r->arena, q->bucket, &b);
    if (rc != STORE_OK)
        return rc == STORE_NOT_FOUND ? S3_ERR_NO_SUCH_BUCKET : s3_err_from_store(rc);
    http_set_header(q->r, "x-amz-bucket-region", b.region);
    q->r->status = 200;
    return S3_OK;
}

const s3_op_t s3_op_head_bucket = {"HeadBucket", false, s3_begin_no_body, head_bucket_run};

static s3_err_t delete_bucket_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    store_rc_t rc = store_bucket_delete(q->s3->st, q->bucket);
    if (rc != STORE_OK)
        return rc == STORE_NOT_FOUND ? S3_ERR_NO_SUCH_BUCKET : s3_err_from_store(rc);
    q->r->status = 204;
    return S3_OK;
}

const s3_op_t s3_op_delete_bucket = {"DeleteBucket", false, s3_begin_no_body, delete_bucket_run};

static s3_err_t get_location_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    store_bucket_t b;
    store_rc_t rc = store_bucket_get(q->s3->st, q->r->arena, q->bucket, &b);
    if (rc != STORE_OK)
        return rc == STORE_NOT_FOUND ? S3_ERR_NO_SUCH_BUCKET : s3_err_from_store(rc);
    buf_t *o = &q->r->out;
    buf_puts(o, XMLW_DECL);
    /* us-east-1 is reported as the empty constraint, as S3 does. */
    if (strcmp(b.region, "us-east-1") == 0)
        buf_printf(o, "<LocationConstraint xmlns=\"%s\"/>", XMLW_S3_NS);
    else {
        buf_printf(o, "<LocationConstraint xmlns=\"%s\">", XMLW_S3_NS);
        xmlw_escape(o, b.region, strlen(b.region));
        buf_puts(o, "</LocationConstraint>");
    }
    s3_xml_ok(q);
    return S3_OK;
}

const s3_op_t s3_op_get_bucket_location = {"GetBucketLocation", false, s3_begin_no_body, get_location_run};
