/* s3/post_object.c: PostObject, browser-based uploads with a SigV4-signed
 * POST policy (S3 API Reference "POST Object"; "Creating a POST policy" in
 * the authenticating-requests guide).
 *
 * The form streams: fields before the file part are collected (bounded);
 * when the file part starts, the signature and the policy are checked
 * against those fields, then the file streams into a blob. Fields after the
 * file are ignored, as S3 does. content-length-range is checked when the
 * file ends; nothing is stored unless every check passed. */
#include "s3/s3_int.h"

#include "util/clock.h"
#include "http/form.h"
#include "util/codec.h"
#include "util/parse.h"
#include "util/timefmt.h"
#include "util/uri.h"
#include "util/xml.h"
#include "util/xmlw.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define POST_MAX_FIELDS 64
#define POST_MAX_FIELD_BYTES ((size_t)20 << 10) /* all non-file fields together */

typedef struct {
    s3_req_t *q;
    http_form_t *form;
    store_kv_t fields[POST_MAX_FIELDS];
    size_t nfields;
    size_t field_bytes;
    buf_t cur; /* value of the field being received */
    const char *cur_name;
    bool file_seen, file_done;
    const char *filename;
    const char *key; /* the object key, ${filename} substituted */
    uint64_t file_bytes;
    uint64_t len_min, len_max;
    bool has_len_range;
    ck_t md5, ck;
    s3_err_t err;
} post_t;

static const char *field(const post_t *p, const char *name)
{
    for (size_t i = 0; i < p->nfields; i++)
        if (strcasecmp(p->fields[i].name, name) == 0)
            return p->fields[i].value;
    return NULL;
}

static bool fail(post_t *p, s3_err_t e, const char *msg)
{
    if (p->err == S3_OK) {
        p->err = e;
        p->q->err_msg = msg;
    }
    return false;
}

static void finish_field(post_t *p)
{
    if (!p->cur_name)
        return;
    if (p->nfields < POST_MAX_FIELDS) {
        p->fields[p->nfields].name = p->cur_name;
        p->fields[p->nfields].value = arena_strndup(p->q->r->arena, buf_cstr(&p->cur), p->cur.len);
        p->nfields++;
    }
    p->cur_name = NULL;
    buf_reset(&p->cur);
}

/* ---- the policy ------------------------------------------------------- */

/* "$key" -> the form field "key" (the bucket is not a form field). */
static const char *cond_value(post_t *p, const char *name)
{
    if (*name == '$')
        name++;
    if (strcasecmp(name, "bucket") == 0)
        return p->q->bucket;
    return field(p, name);
}

static bool check_condition(post_t *p, json_t *c, char *why, size_t cap)
{
    if (json_is_object(c)) {
        const char *k;
        json_t *v;
        json_object_foreach(c, k, v) {
            const char *want = json_string_value(v), *got = cond_value(p, k);
            if (!want || !got || strcmp(want, got) != 0) {
                snprintf(why, cap, "Policy Condition failed: [\"eq\", \"$%s\", \"%s\"]", k,
                         want ? want : "");
                return false;
            }
        }
        return true;
    }
    if (!json_is_array(c) || json_array_size(c) != 3) {
        snprintf(why, cap, "Invalid Policy: Invalid Condition.");
        return false;
    }
    const char *op = json_string_value(json_array_get(c, 0));
    if (op && strcasecmp(op, "content-length-range") == 0) {
        json_t *lo = json_array_get(c, 1), *hi = json_array_get(c, 2);
        if (!json_is_integer(lo) || !json_is_integer(hi) || json_integer_value(lo) < 0 ||
            json_integer_value(hi) < json_integer_value(lo)) {
            snprintf(why, cap, "Invalid Policy: Invalid content-length-range.");
            return false;
        }
        p->has_len_range = true;
        p->len_min = (uint64_t)json_integer_value(lo);
        p->len_max = (uint64_t)json_integer_value(hi);
        return true;
    }
    const char *name = json_string_value(json_array_get(c, 1));
    const char *want = json_string_value(json_array_get(c, 2));
    if (!op || !name || !want) {
        snprintf(why, cap, "Invalid Policy: Invalid Condition.");
        return false;
    }
    const char *got = cond_value(p, name);
    bool ok;
    if (strcasecmp(op, "eq") == 0)
        ok = got && strcmp(got, want) == 0;
    else if (strcasecmp(op, "starts-with") == 0)
        ok = got && strncmp(got, want, strlen(want)) == 0;
    else {
        snprintf(why, cap, "Invalid Policy: Invalid Condition.");
        return false;
    }
    if (!ok)
        snprintf(why, cap, "Policy Condition failed: [\"%s\", \"%s\", \"%s\"]", op, name, want);
    return ok;
}

/* Is every form field named by some condition? */
static const char *unlisted_field(post_t *p, json_t *conds)
{
    static const char *const exempt[] = {"policy", "x-amz-signature", "file", "bucket"};
    for (size_t i = 0; i < p->nfields; i++) {
        const char *n = p->fields[i].name;
        bool ok = strncasecmp(n, "x-ignore-", 9) == 0;
        for (size_t e = 0; !ok && e < sizeof exempt / sizeof exempt[0]; e++)
            ok = strcasecmp(n, exempt[e]) == 0;
        size_t j;
        json_t *c;
        json_array_foreach(conds, j, c) {
            if (ok)
                break;
            if (json_is_object(c)) {
                const char *k;
                json_t *v;
                json_object_foreach(c, k, v) ok = ok || strcasecmp(k, n) == 0;
            } else if (json_is_array(c)) {
                const char *cn = json_string_value(json_array_get(c, 1));
                ok = cn && strcasecmp(cn + (*cn == '$'), n) == 0;
            }
        }
        if (!ok)
            return n;
    }
    return NULL;
}

/* Signature and policy, against the fields received before the file. */
static bool verify(post_t *p)
{
    s3_req_t *q = p->q;
    arena_t *a = q->r->arena;
    const char *policy = field(p, "policy"), *sig = field(p, "x-amz-signature");
    const char *algo = field(p, "x-amz-algorithm"), *cred = field(p, "x-amz-credential");
    const char *date = field(p, "x-amz-date");
    if (!policy || !sig) /* anonymous: only a bucket policy could allow it */
        return fail(p, S3_ERR_ACCESS_DENIED, NULL);
    if (!algo || strcmp(algo, "AWS4-HMAC-SHA256") != 0 || !cred || !date)
        return fail(p, S3_ERR_INVALID_ARGUMENT,
                    "Bucket POST must contain x-amz-algorithm, x-amz-credential and x-amz-date");
    /* AKID/YYYYMMDD/region/s3/aws4_request */
    char ak[130], day[9], region[33], svc[8], term[16];
    if (sscanf(cred, "%129[^/]/%8[0-9]/%32[^/]/%7[^/]/%15s", ak, day, region, svc, term) != 5 ||
        strcmp(svc, "s3") != 0 || strcmp(term, "aws4_request") != 0)
        return fail(p, S3_ERR_INVALID_ARGUMENT, "Invalid x-amz-credential");
    char secret[AUTH_SECRET_MAX_BYTES + 1];
    if (!q->s3->id.secret(q->s3->id.arg, ak, secret, sizeof secret))
        return fail(p, S3_ERR_INVALID_ACCESS_KEY_ID, NULL);
    if (strcmp(region, q->s3->cfg->region) != 0)
        return fail(p, S3_ERR_AUTH_HEADER_MALFORMED, NULL);
    uint8_t key[32], mac[32];
    char hex[65];
    auth_signing_key(secret, day, region, "s3", key);
    memset(secret, 0, sizeof secret);
    codec_hmac_sha256(key, sizeof key, policy, strlen(policy), mac);
    codec_hex(mac, sizeof mac, hex);
    if (strlen(sig) != 64 || !codec_ct_equal(hex, sig, 64))
        return fail(p, S3_ERR_SIGNATURE_DOES_NOT_MATCH, NULL);
    /* The form acts as its signer: a user, or the root credentials. */
    auth_caller_t *who = arena_alloc(a, sizeof *who);
    if (!who || !q->s3->id.caller(q->s3->id.arg, q->r, ak, who))
        return fail(p, S3_ERR_ACCESS_DENIED, NULL);
    q->caller = who;

    size_t plen = strlen(policy), n = 0;
    uint8_t *raw = arena_alloc(a, plen + 1);
    if (!raw || !codec_unb64(policy, plen, raw, plen, &n))
        return fail(p, S3_ERR_INVALID_POLICY_DOCUMENT, "Invalid Policy: Invalid JSON.");
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, &jerr);
    json_t *conds = doc ? json_object_get(doc, "conditions") : NULL;
    const char *exp = doc ? json_string_value(json_object_get(doc, "expiration")) : NULL;
    int64_t exp_ms;
    bool ok = true;
    char why[512] = "";
    if (!doc || !json_is_array(conds) || !exp || !timefmt_parse_iso8601(exp, &exp_ms)) {
        ok = fail(p, S3_ERR_INVALID_POLICY_DOCUMENT, "Invalid Policy: Invalid JSON.");
    } else if (exp_ms < timefmt_now_ms()) {
        ok = fail(p, S3_ERR_ACCESS_DENIED, "Invalid according to Policy: Policy expired.");
    } else {
        size_t i;
        json_t *c;
        json_array_foreach(conds, i, c) {
            if (!check_condition(p, c, why, sizeof why)) {
                ok = fail(p, S3_ERR_ACCESS_DENIED,
                          arena_printf(a, "Invalid according to Policy: %s", why));
                break;
            }
        }
        const char *extra = ok ? unlisted_field(p, conds) : NULL;
        if (extra)
            ok = fail(p, S3_ERR_ACCESS_DENIED,
                      arena_printf(a, "Invalid according to Policy: Extra input fields: %s", extra));
    }
    json_decref(doc);
    return ok;
}

/* ---- streaming -------------------------------------------------------- */

/* The key may name the uploaded file: "uploads/${filename}". */
static const char *final_key(post_t *p)
{
    const char *key = field(p, "key");
    const char *var = strstr(key, "${filename}");
    if (!var)
        return key;
    return arena_printf(p->q->r->arena, "%.*s%s%s", (int)(var - key), key, p->filename,
                        var + 11);
}

static bool start_file(post_t *p)
{
    s3_req_t *q = p->q;
    if (!field(p, "key"))
        return fail(p, S3_ERR_INVALID_ARGUMENT, "Bucket POST must contain a field named 'key'.");
    if (!verify(p))
        return false;
    p->key = final_key(p);
    size_t klen = p->key ? strlen(p->key) : 0;
    if (klen == 0 || klen > S3_MAX_KEY_BYTES)
        return fail(p, klen ? S3_ERR_KEY_TOO_LONG : S3_ERR_INVALID_ARGUMENT, NULL);
    /* Decided before a byte is stored: the signer may put this key. */
    if (s3_authorize(q, q->bucket, "s3:PutObject", p->key, klen) != S3_OK)
        return fail(p, S3_ERR_ACCESS_DENIED, NULL);
    if (!ck_init(&p->md5, CK_MD5) || !ck_init(&p->ck, CK_CRC64NVME))
        return fail(p, S3_ERR_INTERNAL, NULL);
    store_rc_t rc = store_blob_begin(q->s3->st, &q->blob);
    if (rc != STORE_OK)
        return fail(p, s3_err_from_store(rc), NULL);
    return true;
}

static bool on_field(void *arg, const char *name, const char *filename, const char *ctype,
                     const char *data, uint64_t off, size_t n)
{
    (void)ctype;
    post_t *p = arg;
    if (p->err != S3_OK || p->file_done)
        return p->err == S3_OK; /* fields after the file are ignored */
    bool is_file = strcmp(name, "file") == 0;
    if (!is_file) {
        if (p->file_seen) {
            p->file_done = true;
            return true;
        }
        if (off == 0 || !p->cur_name || strcmp(p->cur_name, name) != 0) {
            finish_field(p);
            p->cur_name = arena_strdup(p->q->r->arena, name);
        }
        p->field_bytes += n;
        if (p->field_bytes > POST_MAX_FIELD_BYTES)
            return fail(p, S3_ERR_INVALID_ARGUMENT, "Form fields are too large.");
        buf_append(&p->cur, data, n);
        return true;
    }
    if (!p->file_seen) {
        finish_field(p);
        p->file_seen = true;
        p->filename = arena_strdup(p->q->r->arena, filename ? filename : "");
        if (!start_file(p))
            return false;
    }
    p->file_bytes += n;
    if (p->file_bytes > S3_MAX_PUT_BYTES || (p->has_len_range && p->file_bytes > p->len_max))
        return fail(p, S3_ERR_ENTITY_TOO_LARGE, NULL);
    ck_update(&p->md5, data, n);
    ck_update(&p->ck, data, n);
    store_rc_t rc = store_blob_write(p->q->blob, data, n);
    return rc == STORE_OK || fail(p, s3_err_from_store(rc), NULL);
}

static bool form_sink(s3_req_t *q, const void *data, size_t n)
{
    post_t *p = q->op_state;
    if (!http_form_feed(p->form, data, n) && p->err == S3_OK)
        p->err = S3_ERR_MALFORMED_POST;
    return true;
}

static s3_err_t post_begin(s3_req_t *q)
{
    store_bucket_t b;
    store_rc_t rc = store_bucket_get(q->s3->st, q->r->arena, q->bucket, &b);
    if (rc != STORE_OK)
        return rc == STORE_NOT_FOUND ? S3_ERR_NO_SUCH_BUCKET : s3_err_from_store(rc);
    post_t *p = arena_alloc(q->r->arena, sizeof *p);
    if (!p)
        return S3_ERR_INTERNAL;
    p->q = q;
    buf_init(&p->cur, POST_MAX_FIELD_BYTES);
    p->form = http_form_new(q->r, on_field, p);
    if (!p->form) {
        buf_release(&p->cur);
        q->err_msg = "The body of your POST request is not well-formed multipart/form-data.";
        return S3_ERR_MALFORMED_POST;
    }
    q->op_state = p;
    q->body_mode = S3_BODY_CUSTOM;
    q->sink = form_sink;
    return S3_OK;
}

/* ---- completion ------------------------------------------------------- */

static s3_err_t respond(post_t *p, const store_object_t *o, const char *key)
{
    s3_req_t *q = p->q;
    http_req_t *r = q->r;
    arena_t *a = r->arena;
    char etag[80];
    s3_etag_quoted(o->etag, etag, sizeof etag);
    http_set_header(r, "ETag", etag);
    const char *host = http_header(r, "host");
    buf_t loc;
    buf_init(&loc, 16 << 10);
    buf_printf(&loc, "http://%s/%s/", host ? host : "localhost", q->bucket);
    uri_encode(&loc, key, strlen(key), true);
    http_set_header(r, "Location", buf_cstr(&loc));
    const char *redirect = field(p, "success_action_redirect");
    if (!redirect)
        redirect = field(p, "redirect");
    const char *status = field(p, "success_action_status");
    if (redirect && *redirect) {
        buf_t u;
        buf_init(&u, 16 << 10);
        buf_puts(&u, redirect);
        buf_puts(&u, strchr(redirect, '?') ? "&bucket=" : "?bucket=");
        uri_encode(&u, q->bucket, strlen(q->bucket), false);
        buf_puts(&u, "&key=");
        uri_encode(&u, key, strlen(key), false);
        buf_puts(&u, "&etag=");
        uri_encode(&u, etag, strlen(etag), false);
        http_set_header(r, "Location", buf_cstr(&u));
        buf_release(&u);
        r->status = 303;
    } else if (status && strcmp(status, "201") == 0) {
        buf_t *x = &r->out;
        buf_puts(x, XMLW_DECL);
        xmlw_open(x, "PostResponse");
        xmlw_elem(x, "Location", buf_cstr(&loc));
        xmlw_elem(x, "Bucket", q->bucket);
        xmlw_elem(x, "Key", key);
        xmlw_elem(x, "ETag", etag);
        xmlw_close(x, "PostResponse");
        http_set_header(r, "Content-Type", "application/xml");
        r->status = 201;
    } else {
        r->status = status && strcmp(status, "200") == 0 ? 200 : 204;
    }
    buf_release(&loc);
    (void)a;
    return S3_OK;
}

static s3_err_t post_run(s3_req_t *q, const auth_chunked_t *t)
{
    (void)t;
    post_t *p = q->op_state;
    bool framing_ok = http_form_free(p->form);
    p->form = NULL;
    finish_field(p);
    buf_release(&p->cur);
    if (p->err == S3_OK && !p->file_seen)
        fail(p, S3_ERR_INVALID_ARGUMENT, "POST requires exactly one file upload per request.");
    if (p->err == S3_OK && !framing_ok)
        fail(p, S3_ERR_MALFORMED_POST, NULL);
    if (p->err == S3_OK && p->has_len_range && p->file_bytes < p->len_min)
        fail(p, S3_ERR_ENTITY_TOO_SMALL, NULL);
    uint8_t md5[CK_MAX_DIGEST];
    char ck[CK_MAX_B64];
    if (p->file_seen && p->md5.algo == CK_MD5) {
        ck_final(&p->md5, md5);
        ck_final_b64(&p->ck, ck);
    }
    if (p->err != S3_OK)
        return p->err;
    store_rc_t src = store_blob_finish(q->blob);
    if (src != STORE_OK)
        return s3_err_from_store(src);

    arena_t *a = q->r->arena;
    const char *key = p->key;
    size_t klen = strlen(key);
    char etag[2 * S3_MD5_BYTES + 1];
    codec_hex(md5, S3_MD5_BYTES, etag);
    store_put_t in = {.bucket = q->bucket, .blob = q->blob};
    q->blob = NULL;
    store_object_t *o = &in.obj;
    o->key = key;
    o->key_len = klen;
    o->size = p->file_bytes;
    o->mtime_ms = clock_now_ms();
    o->etag = etag;
    o->checksum_algo = "CRC64NVME";
    o->checksum_value = ck;
    o->checksum_type = "FULL_OBJECT";
    o->owner = q->s3->cfg->account_id;
    o->content_type = field(p, "content-type");
    o->cache_control = field(p, "cache-control");
    o->content_disposition = field(p, "content-disposition");
    o->content_encoding = field(p, "content-encoding");
    o->expires = field(p, "expires");
    const char *sc = field(p, "x-amz-storage-class");
    if (sc && !s3_valid_storage_class(sc)) {
        store_blob_abort(in.blob);
        return S3_ERR_INVALID_STORAGE_CLASS;
    }
    o->storage_class = sc ? sc : "STANDARD";
    size_t nmeta = 0;
    store_kv_t *meta = arena_alloc(a, POST_MAX_FIELDS * sizeof *meta);
    for (size_t i = 0; meta && i < p->nfields; i++)
        if (strncasecmp(p->fields[i].name, "x-amz-meta-", 11) == 0) {
            char *n = arena_strdup(a, p->fields[i].name + 11);
            for (char *c = n; c && *c; c++)
                *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
            meta[nmeta].name = n;
            meta[nmeta].value = p->fields[i].value;
            nmeta++;
        }
    o->meta = meta;
    o->nmeta = nmeta;
    store_object_t out;
    src = store_object_put(q->s3->st, a, &in, &out);
    if (src != STORE_OK)
        return s3_err_from_store(src);
    if (out.version_id && strcmp(out.version_id, "null") != 0)
        http_set_header(q->r, "x-amz-version-id", out.version_id);
    return respond(p, &out, key);
}

const s3_op_t s3_op_post_object = {"PostObject", true, post_begin, post_run};

void s3_post_release(s3_req_t *q)
{
    if (q->op != &s3_op_post_object || !q->op_state)
        return;
    post_t *p = q->op_state;
    http_form_free(p->form);
    p->form = NULL;
    buf_release(&p->cur);
    ck_release(&p->md5);
    ck_release(&p->ck);
}
