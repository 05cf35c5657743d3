/* s3/cors.c: Put/Get/DeleteBucketCors, the OPTIONS preflight and the CORS
 * headers of actual requests (S3 User Guide, "Using cross-origin resource
 * sharing (CORS)": the first rule whose AllowedOrigin, AllowedMethod and
 * AllowedHeader all match wins; origins and headers take one '*' wildcard,
 * headers compare case-insensitively). */
#include "s3/s3_int.h"

#include "util/parse.h"
#include "util/xml.h"
#include "util/xmlw.h"

#include <ctype.h>
#include <string.h>

#define S3_CORS_CONF "cors"
#define S3_MAX_CORS_RULES 100

static bool cors_method(const char *m)
{
    static const char *const ok[] = {"GET", "PUT", "HEAD", "POST", "DELETE"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(m, ok[i]) == 0)
            return true;
    return false;
}

/* Matches s against a pattern with at most one '*' (S3 allows one). */
static bool wild_match(const char *pat, const char *s, bool nocase)
{
    const char *star = strchr(pat, '*');
    size_t sl = strlen(s);
    if (!star)
        return nocase ? strcasecmp(pat, s) == 0 : strcmp(pat, s) == 0;
    size_t pre = (size_t)(star - pat), post = strlen(star + 1);
    if (sl < pre + post)
        return false;
    int a = nocase ? strncasecmp(pat, s, pre) : strncmp(pat, s, pre);
    int b = nocase ? strcasecmp(star + 1, s + sl - post) : strcmp(star + 1, s + sl - post);
    return a == 0 && b == 0;
}

/* ---- configuration ---------------------------------------------------- */

static s3_err_t put_cors_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    s3_err_t rc = s3_check_body_digests(q, true);
    if (rc != S3_OK)
        return rc;
    xml_node_t *root = xml_parse(q->r->arena, q->body.data ? q->body.data : "", q->body.len);
    if (!root || strcmp(root->name, "CORSConfiguration") != 0)
        return S3_ERR_MALFORMED_XML;
    size_t nrules = xml_count(root, "CORSRule");
    if (nrules == 0 || nrules > S3_MAX_CORS_RULES)
        return S3_ERR_MALFORMED_XML;
    for (xml_node_t *r = root->first; r; r = r->next) {
        if (strcmp(r->name, "CORSRule") != 0)
            return S3_ERR_MALFORMED_XML;
        if (!xml_child(r, "AllowedOrigin") || !xml_child(r, "AllowedMethod"))
            return S3_ERR_MALFORMED_XML;
        for (xml_node_t *f = r->first; f; f = f->next) {
            if (strcmp(f->name, "AllowedMethod") == 0 && !cors_method(f->text)) {
                q->err_msg = arena_printf(q->r->arena,
                                          "Found unsupported HTTP method in CORS config. "
                                          "Unsupported method is %s",
                                          f->text);
                return S3_ERR_INVALID_REQUEST;
            }
            if ((strcmp(f->name, "AllowedOrigin") == 0 || strcmp(f->name, "AllowedHeader") == 0) &&
                strchr(f->text, '*') != strrchr(f->text, '*')) {
                q->err_msg = arena_printf(q->r->arena,
                                          "%s \"%s\" can not have more than one wildcard.",
                                          f->name, f->text);
                return S3_ERR_INVALID_REQUEST;
            }
            uint64_t age;
            if (strcmp(f->name, "MaxAgeSeconds") == 0 &&
                parse_u64_str(f->text, INT32_MAX, &age) != PARSE_OK)
                return S3_ERR_MALFORMED_XML;
        }
    }
    store_rc_t src =
        store_bucket_conf_put(q->s3->st, q->bucket, S3_CORS_CONF, q->body.data, q->body.len);
    if (src != STORE_OK)
        return src == STORE_NOT_FOUND ? S3_ERR_NO_SUCH_BUCKET : s3_err_from_store(src);
    q->r->status = 200;
    return S3_OK;
}

static s3_err_t get_cors_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    char *doc = NULL;
    size_t len = 0;
    s3_err_t rc = s3_conf_get(q, S3_CORS_CONF, S3_ERR_NO_SUCH_CORS, &doc, &len);
    if (rc != S3_OK)
        return rc;
    /* Re-emit the rules in S3's namespace, whatever the client sent. */
    xml_node_t *root = xml_parse(q->r->arena, doc, len);
    if (!root)
        return S3_ERR_INTERNAL;
    buf_t *o = &q->r->out;
    xmlw_root(o, "CORSConfiguration");
    for (xml_node_t *r = root->first; r; r = r->next) {
        xmlw_open(o, "CORSRule");
        for (xml_node_t *f = r->first; f; f = f->next)
            xmlw_elem_n(o, f->name, f->text, f->text_len);
        xmlw_close(o, "CORSRule");
    }
    xmlw_close(o, "CORSConfiguration");
    s3_xml_ok(q);
    return S3_OK;
}

static s3_err_t delete_cors_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    return s3_conf_delete(q, S3_CORS_CONF);
}

const s3_op_t s3_op_put_bucket_cors = {"PutBucketCors", false, s3_begin_xml_body, put_cors_run};
const s3_op_t s3_op_get_bucket_cors = {"GetBucketCors", false, s3_begin_no_body, get_cors_run};
const s3_op_t s3_op_delete_bucket_cors = {"DeleteBucketCors", false, s3_begin_no_body, delete_cors_run};

/* ---- matching --------------------------------------------------------- */

/* Every header named in a comma-separated list must match one AllowedHeader. */
static bool headers_allowed(const xml_node_t *rule, const char *list)
{
    if (!list)
        return true;
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *s = p;
        while (*p && *p != ',')
            p++;
        const char *e = p;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
        char name[256];
        size_t n = (size_t)(e - s);
        if (n >= sizeof name)
            return false;
        memcpy(name, s, n);
        name[n] = '\0';
        bool ok = false;
        for (xml_node_t *f = rule->first; f && !ok; f = f->next)
            ok = strcmp(f->name, "AllowedHeader") == 0 && wild_match(f->text, name, true);
        if (!ok)
            return false;
    }
    return true;
}

static const xml_node_t *find_rule(const xml_node_t *root, const char *origin, const char *method,
                                   const char *req_headers)
{
    for (const xml_node_t *r = root ? root->first : NULL; r; r = r->next) {
        bool o = false, m = false;
        for (const xml_node_t *f = r->first; f; f = f->next) {
            if (strcmp(f->name, "AllowedOrigin") == 0 && wild_match(f->text, origin, false))
                o = true;
            if (strcmp(f->name, "AllowedMethod") == 0 && strcmp(f->text, method) == 0)
                m = true;
        }
        if (o && m && headers_allowed(r, req_headers))
            return r;
    }
    return NULL;
}

static void join(buf_t *b, const xml_node_t *rule, const char *field)
{
    for (const xml_node_t *f = rule->first; f; f = f->next)
        if (strcmp(f->name, field) == 0) {
            if (b->len)
                buf_puts(b, ", ");
            buf_append(b, f->text, f->text_len);
        }
}

/* Writes the Access-Control-* headers of a matched rule. */
static void rule_headers(http_req_t *r, const xml_node_t *rule, const char *origin,
                         const char *req_headers, bool preflight)
{
    bool any_origin = false;
    for (const xml_node_t *f = rule->first; f; f = f->next)
        if (strcmp(f->name, "AllowedOrigin") == 0 && strcmp(f->text, "*") == 0)
            any_origin = true;
    http_set_header(r, "Access-Control-Allow-Origin", any_origin ? "*" : origin);
    if (!any_origin)
        http_set_header(r, "Access-Control-Allow-Credentials", "true");
    http_set_header(r, "Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
    buf_t b;
    buf_init(&b, 16 << 10);
    join(&b, rule, "AllowedMethod");
    http_set_header(r, "Access-Control-Allow-Methods", buf_cstr(&b));
    buf_reset(&b);
    join(&b, rule, "ExposeHeader");
    if (b.len)
        http_set_header(r, "Access-Control-Expose-Headers", buf_cstr(&b));
    buf_release(&b);
    const char *age = xml_child_text(rule, "MaxAgeSeconds");
    if (age && preflight)
        http_set_header(r, "Access-Control-Max-Age", age);
    if (req_headers && preflight)
        http_set_header(r, "Access-Control-Allow-Headers", req_headers);
}

static xml_node_t *load_rules(s3_t *s, http_req_t *r, const char *bucket)
{
    char *doc = NULL;
    size_t len = 0;
    if (!bucket || store_bucket_conf_get(s->st, r->arena, bucket, S3_CORS_CONF, &doc, &len) !=
                       STORE_OK)
        return NULL;
    return xml_parse(r->arena, doc, len);
}

void s3_cors_actual(s3_t *s, http_req_t *r, const char *bucket)
{
    const char *origin = http_header(r, "origin");
    if (!origin || !bucket)
        return;
    xml_node_t *root = load_rules(s, r, bucket);
    const xml_node_t *rule = root ? find_rule(root, origin, r->method, NULL) : NULL;
    if (rule)
        rule_headers(r, rule, origin, NULL, false);
}

static s3_err_t preflight_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    http_req_t *r = q->r;
    const char *origin = http_header(r, "origin");
    const char *method = http_header(r, "access-control-request-method");
    const char *hdrs = http_header(r, "access-control-request-headers");
    if (!origin || !method) {
        q->err_msg = !origin ? "Insufficient information. Origin request header needed."
                             : "Invalid Access-Control-Request-Method: null";
        return S3_ERR_BAD_REQUEST;
    }
    store_bucket_t b;
    if (store_bucket_get(q->s3->st, r->arena, q->bucket, &b) != STORE_OK)
        return S3_ERR_NO_SUCH_BUCKET;
    xml_node_t *root = load_rules(q->s3, r, q->bucket);
    if (!root) {
        q->err_msg = "CORS is not enabled for this bucket.";
        return S3_ERR_CORS_FORBIDDEN;
    }
    const xml_node_t *rule = find_rule(root, origin, method, hdrs);
    if (!rule) {
        q->err_msg = "This CORS request is not allowed. This is usually because the evalution of "
                     "Origin, request method / Access-Control-Request-Method or "
                     "Access-Control-Request-Headers are not whitelisted by the resource's CORS "
                     "spec.";
        return S3_ERR_CORS_FORBIDDEN;
    }
    rule_headers(r, rule, origin, hdrs, true);
    r->status = 200;
    return S3_OK;
}

const s3_op_t s3_op_cors_preflight = {"PreflightRequest", true, s3_begin_no_body, preflight_run};
