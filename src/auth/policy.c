/* auth/policy.c: IAM policy documents — parse, validate, evaluate.
 * Spec: IAM User Guide, "IAM JSON policy element reference", "Condition
 * operators", "Policy variables", "Policy evaluation logic"; S3 User Guide,
 * "The meaning of public" (auth_policy_is_public).
 *
 * A document is parsed with jansson, then compiled into plain structs in one
 * arena owned by the policy, and the JSON tree is dropped. The grammar has a
 * fixed depth (document > statement > element > list), so nothing here
 * recurses; jansson bounds its own nesting (2048 levels).
 *
 * Wildcard matching is the iterative greedy algorithm with one backtrack
 * point: O(pattern * subject) in the worst case, no recursion, no allocation,
 * so evaluation can never fail half-way (a failure there would have to pick
 * between failing open and failing closed). */
#include "auth/policy.h"

#include "util/arena.h"
#include "util/parse.h"
#include "util/timefmt.h"

#include <arpa/inet.h>
#include <assert.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A compiled document is a few times its JSON size; 20 KiB of JSON cannot
 * come near this, so hitting it means memory pressure, reported as NOMEM. */
#define POLICY_ARENA_MAX_BYTES ((size_t)8 << 20)
/* Pieces of one value once ${...} variables split it (text, var, text, ...). */
#define PATTERN_MAX_PIECES 32
#define ARN_FIELDS 6
#define ACCOUNT_ID_DIGITS 12
#define COND_KEY_MAX_BYTES 512
/* Numbers, dates and addresses in condition values are short; longer text
 * cannot be one of them. */
#define SCALAR_MAX_BYTES 64
/* 9999-12-31T23:59:59Z: later epoch seconds are not dates. */
#define EPOCH_MAX_S 253402300799ULL
#define MS_PER_S 1000

/* ---- compiled form ----------------------------------------------------- */

enum { PIECE_GLOB, PIECE_LIT, PIECE_VAR };

/* One run of a value: policy text (wildcards live), literal text (from the
 * ${*} ${?} ${$} escapes) or a variable to substitute at evaluation. */
typedef struct {
    uint8_t kind;
    bool has_dflt;
    const char *s; /* text, or the variable's key */
    size_t len;
    const char *dflt; /* ${key, 'dflt'} */
    size_t dlen;
} piece_t;

typedef struct {
    const piece_t *pieces;
    size_t n; /* 1..PATTERN_MAX_PIECES */
} pattern_t;

/* A piece resolved against one request. */
typedef struct {
    const char *s;
    size_t len;
    bool glob; /* `*` and `?` are wildcards here */
} span_t;

typedef enum { PR_ANY, PR_ACCOUNT, PR_ARN, PR_SERVICE, PR_CANONICAL } principal_kind_t;

typedef struct {
    principal_kind_t kind;
    const char *s; /* account id, ARN, service name or canonical id */
} principal_t;

typedef enum {
    CF_STR_EQ,
    CF_STR_EQ_IC,
    CF_STR_LIKE,
    CF_NUM_EQ,
    CF_NUM_LT,
    CF_NUM_LE,
    CF_NUM_GT,
    CF_NUM_GE,
    CF_DATE_EQ,
    CF_DATE_LT,
    CF_DATE_LE,
    CF_DATE_GT,
    CF_DATE_GE,
    CF_BOOL,
    CF_BINARY,
    CF_IP,
    CF_ARN,
    CF_NULL,
} cond_family_t;

typedef enum { SET_NONE, SET_ANY, SET_ALL } cond_set_t;

/* An address as 16 bytes; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) with
 * the prefix counted over all 128 bits, so one comparison serves both. */
typedef struct {
    uint8_t a[16];
    unsigned prefix; /* 0..128 */
    bool v4;
} cidr_t;

typedef struct {
    pattern_t pat; /* string, binary and ARN operators */
    double num;
    int64_t ms;
    cidr_t ip;
    bool b; /* Bool, Null */
} cvalue_t;

typedef struct {
    cond_family_t fam;
    bool neg, if_exists;
    cond_set_t set;
    const char *key;
    const cvalue_t *v;
    size_t nv;
} cond_t;

typedef struct {
    bool deny, not_action, not_resource, has_principal, not_principal;
    const span_t *actions;
    size_t nactions;
    const pattern_t *resources;
    size_t nresources;
    const principal_t *principals;
    size_t nprincipals;
    const cond_t *conds;
    size_t nconds;
} stmt_t;

struct auth_policy {
    arena_t *arena;
    auth_policy_kind_t kind;
    const stmt_t *stmts;
    size_t nstmts;
};

/* ---- small helpers ----------------------------------------------------- */

/* ASCII only: policy names are ASCII, and tolower() would follow the locale. */
static unsigned char lower(char c)
{
    unsigned char u = (unsigned char)c;
    return (u >= 'A' && u <= 'Z') ? (unsigned char)(u + ('a' - 'A')) : u;
}

static bool is_alnum(char c)
{
    return parse_is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ASCII case-insensitive equality of [a, a+alen) and [b, b+blen). */
static bool eq_ci(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

/* strchr() would also find the terminator: a NUL byte is in no set. */
static bool in_set(char c, const char *set) { return c != '\0' && strchr(set, c) != NULL; }

static bool eq_lit(const char *a, size_t alen, const char *lit)
{
    return alen == strlen(lit) && memcmp(a, lit, alen) == 0;
}

static bool all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!parse_is_digit(s[i]))
            return false;
    return len > 0;
}

/* Split an ARN at its first five colons. Fields past the fifth colon stay in
 * the sixth (resource) field, colons included. Returns the field count. */
static size_t arn_split(const char *s, size_t len, const char *f[ARN_FIELDS], size_t fl[ARN_FIELDS])
{
    size_t n = 0, start = 0;
    for (size_t i = 0; i < len && n < ARN_FIELDS - 1; i++) {
        if (s[i] == ':') {
            f[n] = s + start;
            fl[n++] = i - start;
            start = i + 1;
        }
    }
    f[n] = s + start;
    fl[n++] = len - start;
    return n;
}

/* ---- matching ---------------------------------------------------------- */

enum { MATCH_FOLD = 1, MATCH_NOWILD = 2, MATCH_ARN = 4 };

typedef struct {
    size_t i, off; /* span index, byte in it */
} pos_t;

static void pos_norm(const span_t *sp, size_t n, pos_t *p)
{
    while (p->i < n && p->off >= sp[p->i].len) {
        p->i++;
        p->off = 0;
    }
}

static bool pos_lt(pos_t a, pos_t b) { return a.i < b.i || (a.i == b.i && a.off < b.off); }

/* Does the pattern between normalised positions [p, end) of sp match all of
 * str? `*` matches any run (slashes and colons included), `?` one byte. */
static bool span_match(const span_t *sp, size_t n, pos_t p, pos_t end, const char *str, size_t slen,
                       unsigned flags)
{
    bool have_star = false;
    pos_t star_p = {0, 0};
    size_t si = 0, star_s = 0;

    for (;;) {
        pos_norm(sp, n, &p);
        bool more = pos_lt(p, end);
        char c = '\0';
        if (more)
            c = sp[p.i].s[p.off];
        bool wild = more && sp[p.i].glob && !(flags & MATCH_NOWILD);
        if (si == slen) {
            if (more && wild && c == '*') {
                p.off++;
                continue;
            }
            return !more;
        }
        if (wild && c == '*') {
            p.off++;
            have_star = true;
            star_p = p;
            star_s = si;
            continue;
        }
        if (more && ((wild && c == '?') || c == str[si] ||
                     ((flags & MATCH_FOLD) && lower(c) == lower(str[si])))) {
            p.off++;
            si++;
            continue;
        }
        if (!have_star)
            return false;
        p = star_p;
        si = ++star_s;
    }
}

/* First context value named [name, name+nlen), case-insensitively. */
static const char *ctx_first(const auth_policy_request_t *req, const char *name, size_t nlen)
{
    for (size_t i = 0; i < req->nctx; i++) {
        const auth_policy_kv_t *kv = &req->ctx[i];
        if (kv->name && kv->value && eq_ci(kv->name, strlen(kv->name), name, nlen))
            return kv->value;
    }
    return NULL;
}

/* Substitute variables. False if one is absent without a default: the value
 * then matches nothing, as in IAM. */
static bool pattern_resolve(const pattern_t *pt, const auth_policy_request_t *req,
                            span_t sp[PATTERN_MAX_PIECES])
{
    for (size_t i = 0; i < pt->n; i++) {
        const piece_t *pc = &pt->pieces[i];
        if (pc->kind != PIECE_VAR) {
            sp[i] = (span_t){pc->s, pc->len, pc->kind == PIECE_GLOB};
            continue;
        }
        const char *v = ctx_first(req, pc->s, pc->len);
        if (v)
            sp[i] = (span_t){v, strlen(v), false};
        else if (pc->has_dflt)
            sp[i] = (span_t){pc->dflt, pc->dlen, false};
        else
            return false;
    }
    return true;
}

/* ARN matching: each of the first five fields on its own, so a `*` there
 * cannot swallow a colon; the sixth (resource) field takes the rest. A
 * pattern with fewer than five colons (Resource "*") matches whole. */
static bool arn_match(const span_t *sp, size_t n, const char *str, size_t slen, unsigned flags)
{
    pos_t col[ARN_FIELDS];
    size_t ncol = 0;
    for (size_t i = 0; i < n && ncol < ARN_FIELDS - 1; i++) {
        if (!sp[i].glob)
            continue;
        for (size_t off = 0; off < sp[i].len && ncol < ARN_FIELDS - 1; off++)
            if (sp[i].s[off] == ':')
                col[ncol++] = (pos_t){i, off};
    }
    pos_t begin = {0, 0}, end = {n, 0};
    if (ncol < ARN_FIELDS - 1)
        return span_match(sp, n, begin, end, str, slen, flags);
    const char *f[ARN_FIELDS];
    size_t fl[ARN_FIELDS];
    if (arn_split(str, slen, f, fl) != ARN_FIELDS)
        return false;
    for (size_t k = 0; k < ARN_FIELDS; k++) {
        pos_t from = k == 0 ? begin : (pos_t){col[k - 1].i, col[k - 1].off + 1};
        pos_t to = k < ARN_FIELDS - 1 ? col[k] : end;
        if (!span_match(sp, n, from, to, f[k], fl[k], flags))
            return false;
    }
    return true;
}

static bool pattern_match(const pattern_t *pt, const char *str, unsigned flags,
                          const auth_policy_request_t *req)
{
    span_t sp[PATTERN_MAX_PIECES];
    if (!pattern_resolve(pt, req, sp))
        return false;
    size_t slen = strlen(str);
    if (flags & MATCH_ARN)
        return arn_match(sp, pt->n, str, slen, flags);
    return span_match(sp, pt->n, (pos_t){0, 0}, (pos_t){pt->n, 0}, str, slen, flags);
}

static bool glob_match(const char *pat, size_t plen, const char *str, size_t slen, unsigned flags)
{
    span_t sp = {pat, plen, true};
    return span_match(&sp, 1, (pos_t){0, 0}, (pos_t){1, 0}, str, slen, flags);
}

/* ---- scalar parsers (policy values and request values alike) ---------- */

/* Decimal with optional sign, fraction and exponent; never "inf", "nan" or
 * hex, which strtod alone would take. */
static bool num_parse(const char *s, size_t len, double *out)
{
    char buf[SCALAR_MAX_BYTES + 1];
    size_t i = 0, digits = 0;
    if (len == 0 || len > SCALAR_MAX_BYTES)
        return false;
    if (s[i] == '-' || s[i] == '+')
        i++;
    for (; i < len && parse_is_digit(s[i]); i++)
        digits++;
    if (i < len && s[i] == '.')
        for (i++; i < len && parse_is_digit(s[i]); i++)
            digits++;
    if (digits == 0)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            i++;
        if (i == len || !parse_is_digit(s[i]))
            return false;
        while (i < len && parse_is_digit(s[i]))
            i++;
    }
    if (i != len)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end = NULL;
    double v = strtod(buf, &end);
    if (end != buf + len || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* Epoch seconds, or ISO 8601: full timestamp, timestamp without zone (UTC),
 * or a bare date (midnight UTC). */
static bool date_parse(const char *s, size_t len, int64_t *out_ms)
{
    static const char *const tails[] = {"", "Z", "T00:00:00Z"};
    char buf[SCALAR_MAX_BYTES + 16];
    if (len == 0 || len > SCALAR_MAX_BYTES)
        return false;
    if (all_digits(s, len)) {
        const char *p = s;
        uint64_t v;
        if (parse_u64(&p, s + len, EPOCH_MAX_S, &v) != PARSE_OK || p != s + len)
            return false;
        *out_ms = (int64_t)v * MS_PER_S;
        return true;
    }
    for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
        size_t tl = strlen(tails[t]);
        memcpy(buf, s, len);
        memcpy(buf + len, tails[t], tl + 1);
        if (memchr(buf, '\0', len) == NULL && timefmt_parse_iso8601(buf, out_ms))
            return true;
    }
    return false;
}

static bool bool_parse(const char *s, size_t len, bool *out)
{
    if (eq_ci(s, len, "true", 4))
        *out = true;
    else if (eq_ci(s, len, "false", 5))
        *out = false;
    else
        return false;
    return true;
}

/* "a.b.c.d[/n]" or an IPv6 address "[/n]"; with_prefix false refuses "/n". */
static bool cidr_parse(const char *s, size_t len, bool with_prefix, cidr_t *out)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char buf[SCALAR_MAX_BYTES + 1];
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    unsigned maxp;

    if (alen == 0 || alen > SCALAR_MAX_BYTES || (slash && !with_prefix))
        return false;
    memcpy(buf, s, alen);
    buf[alen] = '\0';
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, buf, out->a + 12) == 1) {
        memcpy(out->a, mapped, sizeof mapped);
        out->v4 = true;
        maxp = 32;
    } else if (inet_pton(AF_INET6, buf, out->a) == 1) {
        out->v4 = memcmp(out->a, mapped, sizeof mapped) == 0 && !slash;
        maxp = out->v4 ? 32 : 128;
    } else {
        return false;
    }
    uint64_t pre = maxp;
    if (slash) {
        const char *p = slash + 1;
        if (parse_u64(&p, s + len, maxp, &pre) != PARSE_OK || p != s + len)
            return false;
    }
    out->prefix = (unsigned)pre + (out->v4 ? 96u : 0u);
    return true;
}

static bool cidr_contains(const cidr_t *net, const cidr_t *addr)
{
    if (net->v4 != addr->v4)
        return false;
    unsigned bits = net->prefix, full = bits / 8, rest = bits % 8;
    if (memcmp(net->a, addr->a, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (net->a[full] & mask) == (addr->a[full] & mask);
}

/* ---- condition evaluation ---------------------------------------------- */

static bool num_cmp(cond_family_t fam, double r, double v)
{
    switch (fam) {
    case CF_NUM_EQ:
        return r == v;
    case CF_NUM_LT:
        return r < v;
    case CF_NUM_LE:
        return r <= v;
    case CF_NUM_GT:
        return r > v;
    default:
        return r >= v;
    }
}

static bool date_cmp(cond_family_t fam, int64_t r, int64_t v)
{
    switch (fam) {
    case CF_DATE_EQ:
        return r == v;
    case CF_DATE_LT:
        return r < v;
    case CF_DATE_LE:
        return r <= v;
    case CF_DATE_GT:
        return r > v;
    default:
        return r >= v;
    }
}

/* Does one request value satisfy the condition's operator, negation
 * included? A negated operator needs a value of the right type that matches
 * none of the policy's values; an unparsable value satisfies no operator. */
static bool cond_value_test(const cond_t *c, const char *val, const auth_policy_request_t *req)
{
    size_t vlen = strlen(val);
    double num = 0;
    int64_t ms = 0;
    cidr_t ip;
    bool b = false, ok = true, hit = false;
    unsigned flags = 0;

    switch (c->fam) {
    case CF_NUM_EQ:
    case CF_NUM_LT:
    case CF_NUM_LE:
    case CF_NUM_GT:
    case CF_NUM_GE:
        ok = num_parse(val, vlen, &num);
        break;
    case CF_DATE_EQ:
    case CF_DATE_LT:
    case CF_DATE_LE:
    case CF_DATE_GT:
    case CF_DATE_GE:
        ok = date_parse(val, vlen, &ms);
        break;
    case CF_BOOL:
        ok = bool_parse(val, vlen, &b);
        break;
    case CF_IP:
        ok = cidr_parse(val, vlen, false, &ip);
        break;
    case CF_STR_EQ:
    case CF_BINARY:
        flags = MATCH_NOWILD;
        break;
    case CF_STR_EQ_IC:
        flags = MATCH_NOWILD | MATCH_FOLD;
        break;
    case CF_ARN:
        flags = MATCH_ARN;
        break;
    case CF_STR_LIKE:
    case CF_NULL:
        break;
    }
    if (!ok)
        return false;
    for (size_t i = 0; i < c->nv && !hit; i++) {
        const cvalue_t *v = &c->v[i];
        switch (c->fam) {
        case CF_NUM_EQ:
        case CF_NUM_LT:
        case CF_NUM_LE:
        case CF_NUM_GT:
        case CF_NUM_GE:
            hit = num_cmp(c->fam, num, v->num);
            break;
        case CF_DATE_EQ:
        case CF_DATE_LT:
        case CF_DATE_LE:
        case CF_DATE_GT:
        case CF_DATE_GE:
            hit = date_cmp(c->fam, ms, v->ms);
            break;
        case CF_BOOL:
            hit = b == v->b;
            break;
        case CF_IP:
            hit = cidr_contains(&v->ip, &ip);
            break;
        case CF_NULL:
            break;
        default:
            hit = pattern_match(&v->pat, val, flags, req);
            break;
        }
    }
    return c->neg ? !hit : hit;
}

/* One operator-key pair against the request context (IAM "Condition
 * operators", "Set operators for multivalued context keys"). */
static bool cond_eval(const cond_t *c, const auth_policy_request_t *req)
{
    size_t nvals = 0;
    bool any = false, all = true;
    for (size_t i = 0; i < req->nctx; i++) {
        const auth_policy_kv_t *kv = &req->ctx[i];
        if (!kv->name || !kv->value || !eq_ci(kv->name, strlen(kv->name), c->key, strlen(c->key)))
            continue;
        nvals++;
        if (c->fam == CF_NULL)
            continue;
        bool m = cond_value_test(c, kv->value, req);
        any = any || m;
        all = all && m;
    }
    if (c->fam == CF_NULL) {
        for (size_t i = 0; i < c->nv; i++)
            if (c->v[i].b == (nvals == 0))
                return true;
        return false;
    }
    if (nvals == 0)
        return c->if_exists || c->set == SET_ALL || (c->set == SET_NONE && c->neg);
    switch (c->set) {
    case SET_ANY:
        return any;
    case SET_ALL:
        return all;
    default:
        return c->neg ? all : any; /* negated: no value may match */
    }
}

/* ---- statement evaluation ---------------------------------------------- */

static bool principal_one(const principal_t *pr, const auth_policy_request_t *req)
{
    const char *acct = req->principal_account;
    const char *f[ARN_FIELDS];
    size_t fl[ARN_FIELDS];

    switch (pr->kind) {
    case PR_ANY:
        return true;
    case PR_ARN:
        return req->principal_arn && strcmp(pr->s, req->principal_arn) == 0;
    case PR_SERVICE:
        return req->principal_service &&
               (strcmp(pr->s, "*") == 0 || eq_ci(pr->s, strlen(pr->s), req->principal_service,
                                                 strlen(req->principal_service)));
    case PR_CANONICAL:
        return false;
    case PR_ACCOUNT:
        break;
    }
    if (acct)
        return strcmp(acct, pr->s) == 0;
    if (!req->principal_arn)
        return false;
    if (arn_split(req->principal_arn, strlen(req->principal_arn), f, fl) != ARN_FIELDS)
        return false;
    return fl[4] == strlen(pr->s) && memcmp(f[4], pr->s, fl[4]) == 0;
}

static bool stmt_applies(const stmt_t *st, const auth_policy_request_t *req)
{
    bool hit = false;
    if (!req->action)
        return false;
    size_t alen = strlen(req->action);
    for (size_t i = 0; i < st->nactions && !hit; i++)
        hit = glob_match(st->actions[i].s, st->actions[i].len, req->action, alen, MATCH_FOLD);
    if (hit == st->not_action)
        return false;

    const char *res = req->resource ? req->resource : "*";
    hit = false;
    for (size_t i = 0; i < st->nresources && !hit; i++)
        hit = pattern_match(&st->resources[i], res, MATCH_ARN, req);
    if (hit == st->not_resource)
        return false;

    if (st->has_principal) {
        hit = false;
        for (size_t i = 0; i < st->nprincipals && !hit; i++)
            hit = principal_one(&st->principals[i], req);
        if (hit == st->not_principal)
            return false;
    }
    for (size_t i = 0; i < st->nconds; i++)
        if (!cond_eval(&st->conds[i], req))
            return false;
    return true;
}

auth_policy_effect_t auth_policy_eval(const auth_policy_t *p, const auth_policy_request_t *req)
{
    bool allowed = false;
    if (!p || !req)
        return AUTH_POLICY_IMPLICIT_DENY;
    for (size_t i = 0; i < p->nstmts; i++) {
        const stmt_t *st = &p->stmts[i];
        if (!stmt_applies(st, req))
            continue;
        if (st->deny)
            return AUTH_POLICY_EXPLICIT_DENY;
        allowed = true;
    }
    return allowed ? AUTH_POLICY_ALLOW : AUTH_POLICY_IMPLICIT_DENY;
}

auth_policy_effect_t auth_policy_decide(const auth_policy_t *const *policies, size_t n,
                                        const auth_policy_request_t *req)
{
    bool allowed = false;
    for (size_t i = 0; i < n; i++) {
        auth_policy_effect_t e = auth_policy_eval(policies[i], req);
        if (e == AUTH_POLICY_EXPLICIT_DENY)
            return e;
        allowed = allowed || e == AUTH_POLICY_ALLOW;
    }
    return allowed ? AUTH_POLICY_ALLOW : AUTH_POLICY_IMPLICIT_DENY;
}

auth_policy_kind_t auth_policy_kind(const auth_policy_t *p) { return p->kind; }

/* ---- parsing ----------------------------------------------------------- */

typedef struct {
    arena_t *a;
    auth_policy_kind_t kind;
    bool vars; /* Version 2012-10-17: ${...} are policy variables */
    char *err;
    size_t errcap;
} pctx_t;

__attribute__((format(printf, 2, 3))) static auth_policy_rc_t bad(pctx_t *c, const char *fmt, ...)
{
    if (c->err && c->errcap) {
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(c->err, c->errcap, fmt, ap);
        va_end(ap);
    }
    return AUTH_POLICY_MALFORMED;
}

/* Zeroed array of n elements from the arena; NULL on overflow or memory. */
static void *alloc_array(pctx_t *c, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    return arena_alloc(c->a, n * size);
}

/* "string" or a non-empty ["string", ...]: the element count, 0 if not. */
static size_t str_list_len(const json_t *v)
{
    if (json_is_string(v))
        return 1;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return 0;
    for (size_t i = 0; i < json_array_size(v); i++)
        if (!json_is_string(json_array_get(v, i)))
            return 0;
    return json_array_size(v);
}

static const json_t *list_at(const json_t *v, size_t i)
{
    return json_is_array(v) ? json_array_get(v, i) : v;
}

/* Parse "${key}" / "${key, 'default'}" whose inside is [s, s+len). */
static bool var_parse(const char *s, size_t len, piece_t *out)
{
    while (len && s[0] == ' ')
        s++, len--;
    while (len && s[len - 1] == ' ')
        len--;
    const char *comma = memchr(s, ',', len);
    size_t nlen = comma ? (size_t)(comma - s) : len;
    while (nlen && s[nlen - 1] == ' ')
        nlen--;
    if (nlen == 0)
        return false;
    *out = (piece_t){PIECE_VAR, false, s, nlen, NULL, 0};
    if (!comma && nlen == 1 && (s[0] == '*' || s[0] == '?' || s[0] == '$')) {
        out->kind = PIECE_LIT;
        return true;
    }
    for (size_t i = 0; i < nlen; i++)
        if (!is_alnum(s[i]) && !in_set(s[i], ":/_-.@+="))
            return false;
    if (!comma)
        return true;
    const char *d = comma + 1;
    size_t dl = len - (size_t)(d - s);
    while (dl && d[0] == ' ')
        d++, dl--;
    if (dl < 2 || d[0] != '\'' || d[dl - 1] != '\'')
        return false;
    out->has_dflt = true;
    out->dflt = d + 1;
    out->dlen = dl - 2;
    return true;
}

/* Compile a value into pieces. Without variables (Version 2008-10-17, or
 * operators that take none) the value is one glob piece; an unterminated or
 * malformed "${" stays text, as IAM leaves it. */
static auth_policy_rc_t pattern_compile(pctx_t *c, const char *s, size_t len, bool vars,
                                        pattern_t *out)
{
    piece_t tmp[PATTERN_MAX_PIECES];
    size_t n = 0, start = 0, i = 0;
    const char *text = arena_strndup(c->a, s, len);
    if (!text)
        return AUTH_POLICY_NOMEM;
    while (vars && i + 1 < len) {
        if (text[i] != '$' || text[i + 1] != '{') {
            i++;
            continue;
        }
        const char *close = memchr(text + i + 2, '}', len - i - 2);
        piece_t var;
        if (!close || !var_parse(text + i + 2, (size_t)(close - text) - i - 2, &var)) {
            i++;
            continue;
        }
        if (n + 2 > PATTERN_MAX_PIECES)
            return bad(c, "Policy has too many policy variables in one value");
        if (i > start)
            tmp[n++] = (piece_t){PIECE_GLOB, false, text + start, i - start, NULL, 0};
        tmp[n++] = var;
        i = (size_t)(close - text) + 1;
        start = i;
    }
    if (start < len || n == 0) {
        if (n + 1 > PATTERN_MAX_PIECES)
            return bad(c, "Policy has too many policy variables in one value");
        tmp[n++] = (piece_t){PIECE_GLOB, false, text + start, len - start, NULL, 0};
    }
    out->pieces = arena_memdup(c->a, tmp, n * sizeof tmp[0]);
    out->n = n;
    return out->pieces ? AUTH_POLICY_OK : AUTH_POLICY_NOMEM;
}

/* "*" or "service:name" with wildcards; resource policies take their own
 * service's actions only ("Policy has invalid action", as S3 says). */
static bool action_valid(const pctx_t *c, const char *s, size_t len)
{
    static const char *const service[AUTH_POLICY_KIND__COUNT] = {
        [AUTH_POLICY_IDENTITY] = NULL,
        [AUTH_POLICY_BUCKET] = "s3",
        [AUTH_POLICY_TABLE_BUCKET] = "s3tables",
        [AUTH_POLICY_VAULT] = "backup",
    };
    if (len == 1 && s[0] == '*')
        return true;
    const char *colon = memchr(s, ':', len);
    if (!colon || colon == s || colon == s + len - 1)
        return false;
    size_t svc_len = (size_t)(colon - s);
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        bool ok = is_alnum(ch) || ch == '-' || ch == '*' || ch == '?' ||
                  (i > svc_len && ch == '_') || i == svc_len;
        if (!ok)
            return false;
    }
    const char *want = service[c->kind];
    return !want || glob_match(s, svc_len, want, strlen(want), MATCH_FOLD);
}

static auth_policy_rc_t parse_actions(pctx_t *c, const json_t *v, stmt_t *st)
{
    size_t n = str_list_len(v);
    if (n == 0)
        return bad(c, "Policy has invalid action");
    span_t *acts = alloc_array(c, n, sizeof *acts);
    if (!acts)
        return AUTH_POLICY_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = list_at(v, i);
        const char *s = json_string_value(e);
        size_t len = json_string_length(e);
        if (!action_valid(c, s, len))
            return bad(c, "Policy has invalid action");
        acts[i] = (span_t){arena_strndup(c->a, s, len), len, true};
        if (!acts[i].s)
            return AUTH_POLICY_NOMEM;
    }
    st->actions = acts;
    st->nactions = n;
    return AUTH_POLICY_OK;
}

/* "*" or an ARN: "arn:" and at least five colons outside variables. */
static bool resource_valid(const pattern_t *pt)
{
    const piece_t *first = &pt->pieces[0];
    size_t colons = 0;
    if (pt->n == 1 && first->kind == PIECE_GLOB && eq_lit(first->s, first->len, "*"))
        return true;
    if (first->kind != PIECE_GLOB || first->len < 4 || memcmp(first->s, "arn:", 4) != 0)
        return false;
    for (size_t i = 0; i < pt->n; i++)
        for (size_t k = 0; pt->pieces[i].kind == PIECE_GLOB && k < pt->pieces[i].len; k++)
            colons += pt->pieces[i].s[k] == ':';
    return colons >= ARN_FIELDS - 1;
}

static auth_policy_rc_t parse_resources(pctx_t *c, const json_t *v, stmt_t *st)
{
    size_t n = str_list_len(v);
    if (n == 0)
        return bad(c, "Policy has invalid resource");
    pattern_t *res = alloc_array(c, n, sizeof *res);
    if (!res)
        return AUTH_POLICY_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = list_at(v, i);
        auth_policy_rc_t rc =
            pattern_compile(c, json_string_value(e), json_string_length(e), c->vars, &res[i]);
        if (rc != AUTH_POLICY_OK)
            return rc;
        if (!resource_valid(&res[i]))
            return bad(c, "Policy has invalid resource");
    }
    st->resources = res;
    st->nresources = n;
    return AUTH_POLICY_OK;
}

/* {"AWS": ...} values: "*", an account id, or an IAM/STS ARN without
 * wildcards; "arn:...:iam::ACCOUNT:root" means the whole account. */
static auth_policy_rc_t principal_aws(pctx_t *c, const char *s, size_t len, principal_t *out)
{
    const char *f[ARN_FIELDS];
    size_t fl[ARN_FIELDS];
    if (eq_lit(s, len, "*")) {
        out->kind = PR_ANY;
        return AUTH_POLICY_OK;
    }
    if (len == ACCOUNT_ID_DIGITS && all_digits(s, len)) {
        out->kind = PR_ACCOUNT;
        out->s = arena_strndup(c->a, s, len);
        return out->s ? AUTH_POLICY_OK : AUTH_POLICY_NOMEM;
    }
    if (arn_split(s, len, f, fl) != ARN_FIELDS || !eq_lit(f[0], fl[0], "arn") || fl[1] == 0 ||
        !(eq_lit(f[2], fl[2], "iam") || eq_lit(f[2], fl[2], "sts")) || fl[3] != 0 ||
        fl[4] != ACCOUNT_ID_DIGITS || !all_digits(f[4], fl[4]) || fl[5] == 0 ||
        memchr(s, '*', len) || memchr(s, '?', len))
        return bad(c, "Invalid principal in policy");
    if (eq_lit(f[2], fl[2], "iam") && eq_lit(f[5], fl[5], "root")) {
        out->kind = PR_ACCOUNT;
        out->s = arena_strndup(c->a, f[4], fl[4]);
    } else {
        out->kind = PR_ARN;
        out->s = arena_strndup(c->a, s, len);
    }
    return out->s ? AUTH_POLICY_OK : AUTH_POLICY_NOMEM;
}

/* Service names ("s3.amazonaws.com", or "*") and canonical user ids. */
static auth_policy_rc_t principal_other(pctx_t *c, principal_kind_t kind, const char *s, size_t len,
                                        principal_t *out)
{
    bool ok = len > 0 && (kind == PR_SERVICE || !eq_lit(s, len, "*"));
    for (size_t i = 0; ok && i < len; i++)
        ok = is_alnum(s[i]) || (kind == PR_SERVICE && in_set(s[i], ".-*"));
    if (!ok)
        return bad(c, "Invalid principal in policy");
    out->kind = kind;
    out->s = arena_strndup(c->a, s, len);
    return out->s ? AUTH_POLICY_OK : AUTH_POLICY_NOMEM;
}

static auth_policy_rc_t parse_principals(pctx_t *c, json_t *v, stmt_t *st)
{
    static const char *const types[] = {"AWS", "Service", "CanonicalUser"};
    const char *k;
    json_t *e;
    size_t n = 0;

    st->has_principal = true;
    if (json_is_string(v)) {
        if (strcmp(json_string_value(v), "*") != 0)
            return bad(c, "Invalid principal in policy");
        principal_t *any = alloc_array(c, 1, sizeof *any);
        if (!any)
            return AUTH_POLICY_NOMEM;
        any->kind = PR_ANY;
        st->principals = any;
        st->nprincipals = 1;
        return AUTH_POLICY_OK;
    }
    if (!json_is_object(v) || json_object_size(v) == 0)
        return bad(c, "Invalid principal in policy");
    json_object_foreach(v, k, e)
    {
        size_t m = str_list_len(e);
        if (m == 0 ||
            (strcmp(k, types[0]) != 0 && strcmp(k, types[1]) != 0 && strcmp(k, types[2]) != 0))
            return bad(c, "Invalid principal in policy");
        n += m; /* bounded by the document's size */
    }
    principal_t *prs = alloc_array(c, n, sizeof *prs);
    if (!prs)
        return AUTH_POLICY_NOMEM;
    size_t at = 0;
    json_object_foreach(v, k, e)
    {
        for (size_t i = 0; i < str_list_len(e); i++) {
            const json_t *x = list_at(e, i);
            const char *s = json_string_value(x);
            size_t len = json_string_length(x);
            auth_policy_rc_t rc =
                strcmp(k, "AWS") == 0
                    ? principal_aws(c, s, len, &prs[at])
                    : principal_other(c, strcmp(k, "Service") == 0 ? PR_SERVICE : PR_CANONICAL, s,
                                      len, &prs[at]);
            if (rc != AUTH_POLICY_OK)
                return rc;
            at++;
        }
    }
    st->principals = prs;
    st->nprincipals = n;
    return AUTH_POLICY_OK;
}

static const struct {
    const char *name;
    cond_family_t fam;
    bool neg;
} cond_ops[] = {
    {"StringEquals", CF_STR_EQ, false},
    {"StringNotEquals", CF_STR_EQ, true},
    {"StringEqualsIgnoreCase", CF_STR_EQ_IC, false},
    {"StringNotEqualsIgnoreCase", CF_STR_EQ_IC, true},
    {"StringLike", CF_STR_LIKE, false},
    {"StringNotLike", CF_STR_LIKE, true},
    {"NumericEquals", CF_NUM_EQ, false},
    {"NumericNotEquals", CF_NUM_EQ, true},
    {"NumericLessThan", CF_NUM_LT, false},
    {"NumericLessThanEquals", CF_NUM_LE, false},
    {"NumericGreaterThan", CF_NUM_GT, false},
    {"NumericGreaterThanEquals", CF_NUM_GE, false},
    {"DateEquals", CF_DATE_EQ, false},
    {"DateNotEquals", CF_DATE_EQ, true},
    {"DateLessThan", CF_DATE_LT, false},
    {"DateLessThanEquals", CF_DATE_LE, false},
    {"DateGreaterThan", CF_DATE_GT, false},
    {"DateGreaterThanEquals", CF_DATE_GE, false},
    {"Bool", CF_BOOL, false},
    {"BinaryEquals", CF_BINARY, false},
    {"IpAddress", CF_IP, false},
    {"NotIpAddress", CF_IP, true},
    {"ArnEquals", CF_ARN, false},
    {"ArnLike", CF_ARN, false}, /* IAM treats the two alike */
    {"ArnNotEquals", CF_ARN, true},
    {"ArnNotLike", CF_ARN, true},
    {"Null", CF_NULL, false},
};

/* "[ForAnyValue:|ForAllValues:]Operator[IfExists]" into c. Operator names
 * are matched without regard to case. */
static bool cond_op_parse(const char *name, cond_t *c)
{
    static const char any_p[] = "ForAnyValue:", all_p[] = "ForAllValues:", ie[] = "IfExists";
    size_t len = strlen(name);
    c->set = SET_NONE;
    if (len > sizeof any_p - 1 && eq_ci(name, sizeof any_p - 1, any_p, sizeof any_p - 1)) {
        c->set = SET_ANY;
        name += sizeof any_p - 1;
        len -= sizeof any_p - 1;
    } else if (len > sizeof all_p - 1 && eq_ci(name, sizeof all_p - 1, all_p, sizeof all_p - 1)) {
        c->set = SET_ALL;
        name += sizeof all_p - 1;
        len -= sizeof all_p - 1;
    }
    c->if_exists = len > sizeof ie - 1 &&
                   eq_ci(name + len - (sizeof ie - 1), sizeof ie - 1, ie, sizeof ie - 1);
    if (c->if_exists)
        len -= sizeof ie - 1;
    for (size_t i = 0; i < sizeof cond_ops / sizeof cond_ops[0]; i++) {
        if (eq_ci(name, len, cond_ops[i].name, strlen(cond_ops[i].name))) {
            c->fam = cond_ops[i].fam;
            c->neg = cond_ops[i].neg;
            /* Null tests existence itself: no IfExists, no set form. */
            return c->fam != CF_NULL || (!c->if_exists && c->set == SET_NONE);
        }
    }
    return false;
}

/* "service:name", printable, no control bytes; tag keys may hold spaces
 * and UTF-8 ("s3:ExistingObjectTag/Project Name"). */
static bool cond_key_valid(const char *k)
{
    size_t len = strlen(k);
    const char *colon = memchr(k, ':', len);
    if (len > COND_KEY_MAX_BYTES || !colon || colon == k || colon == k + len - 1)
        return false;
    for (const char *p = k; p < colon; p++)
        if (!is_alnum(*p) && *p != '-')
            return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)k[i] < 0x20 || k[i] == 0x7f)
            return false;
    return true;
}

/* A condition value's text: strings as is, numbers and booleans as JSON
 * spells them (IAM accepts "Bool": true and "NumericLessThan": 10). */
static bool cond_value_text(const json_t *e, char *buf, size_t cap, const char **s, size_t *len)
{
    int n;
    if (json_is_string(e)) {
        *s = json_string_value(e);
        *len = json_string_length(e);
        return true;
    }
    if (json_is_integer(e))
        n = snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(e));
    else if (json_is_real(e))
        n = snprintf(buf, cap, "%.17g", json_real_value(e));
    else if (json_is_boolean(e))
        n = snprintf(buf, cap, "%s", json_is_true(e) ? "true" : "false");
    else
        return false;
    if (n < 0 || (size_t)n >= cap)
        return false;
    *s = buf;
    *len = (size_t)n;
    return true;
}

static auth_policy_rc_t cond_value_parse(pctx_t *c, const cond_t *cd, const json_t *e,
                                         cvalue_t *out)
{
    char buf[SCALAR_MAX_BYTES];
    const char *s;
    size_t len;
    bool ok;
    if (!cond_value_text(e, buf, sizeof buf, &s, &len))
        return bad(c, "Policy has an invalid condition value");
    switch (cd->fam) {
    case CF_NUM_EQ:
    case CF_NUM_LT:
    case CF_NUM_LE:
    case CF_NUM_GT:
    case CF_NUM_GE:
        ok = num_parse(s, len, &out->num);
        break;
    case CF_DATE_EQ:
    case CF_DATE_LT:
    case CF_DATE_LE:
    case CF_DATE_GT:
    case CF_DATE_GE:
        ok = date_parse(s, len, &out->ms);
        break;
    case CF_BOOL:
    case CF_NULL:
        ok = bool_parse(s, len, &out->b);
        break;
    case CF_IP:
        ok = cidr_parse(s, len, true, &out->ip);
        break;
    case CF_BINARY:
        return pattern_compile(c, s, len, false, &out->pat);
    default:
        return pattern_compile(c, s, len, c->vars, &out->pat);
    }
    return ok ? AUTH_POLICY_OK : bad(c, "Policy has an invalid condition value");
}

/* "Condition": {operator: {key: value | [values]}}. Every operator and
 * every key in it must hold for the statement to apply. */
static auth_policy_rc_t parse_conditions(pctx_t *c, json_t *v, stmt_t *st)
{
    const char *op, *key;
    json_t *keys, *vals;
    size_t n = 0, at = 0;

    if (!json_is_object(v))
        return bad(c, "Policy has an invalid condition block");
    json_object_foreach(v, op, keys)
    {
        if (!json_is_object(keys) || json_object_size(keys) == 0)
            return bad(c, "Policy has an invalid condition block");
        n += json_object_size(keys); /* bounded by the document's size */
    }
    cond_t *conds = alloc_array(c, n, sizeof *conds);
    if (n && !conds)
        return AUTH_POLICY_NOMEM;
    json_object_foreach(v, op, keys)
    {
        cond_t proto = {0};
        if (!cond_op_parse(op, &proto))
            return bad(c, "Policy has an invalid condition operator");
        json_object_foreach(keys, key, vals)
        {
            cond_t *cd = &conds[at++];
            *cd = proto;
            size_t nv = json_is_array(vals) ? json_array_size(vals) : 1;
            if (!cond_key_valid(key))
                return bad(c, "Policy has an invalid condition key");
            if (nv == 0 || json_is_object(vals) || json_is_null(vals))
                return bad(c, "Policy has an invalid condition value");
            cd->key = arena_strdup(c->a, key);
            cvalue_t *cv = alloc_array(c, nv, sizeof *cv);
            if (!cd->key || !cv)
                return AUTH_POLICY_NOMEM;
            for (size_t i = 0; i < nv; i++) {
                auth_policy_rc_t rc = cond_value_parse(c, cd, list_at(vals, i), &cv[i]);
                if (rc != AUTH_POLICY_OK)
                    return rc;
            }
            cd->v = cv;
            cd->nv = nv;
        }
    }
    st->conds = conds;
    st->nconds = n;
    return AUTH_POLICY_OK;
}

/* Set *slot to v unless the statement already has this element or its
 * Not- twin. */
static bool take_once(json_t **slot, json_t *v)
{
    if (*slot)
        return false;
    *slot = v;
    return true;
}

static auth_policy_rc_t parse_statement(pctx_t *c, json_t *s, stmt_t *st)
{
    json_t *effect = NULL, *action = NULL, *resource = NULL, *principal = NULL, *cond = NULL;
    const char *k;
    json_t *v;
    bool ok = true;
    auth_policy_rc_t rc;

    if (!json_is_object(s))
        return bad(c, "Statement must be an object");
    json_object_foreach(s, k, v)
    {
        bool is_not = strncmp(k, "Not", 3) == 0;
        const char *base = is_not ? k + 3 : k;
        if (strcmp(k, "Sid") == 0)
            ok = json_is_string(v);
        else if (strcmp(k, "Effect") == 0)
            effect = v;
        else if (strcmp(k, "Condition") == 0)
            cond = v;
        else if (strcmp(base, "Action") == 0) {
            ok = take_once(&action, v);
            st->not_action = is_not;
        } else if (strcmp(base, "Resource") == 0) {
            ok = take_once(&resource, v);
            st->not_resource = is_not;
        } else if (strcmp(base, "Principal") == 0) {
            ok = take_once(&principal, v);
            st->not_principal = is_not;
        } else {
            return bad(c, "Unknown field %.64s", k);
        }
        if (!ok)
            return bad(c, "Statement has an invalid or repeated field %.64s", k);
    }
    if (!effect)
        return bad(c, "Missing required field Effect");
    if (json_is_string(effect) && strcmp(json_string_value(effect), "Deny") == 0)
        st->deny = true;
    else if (!json_is_string(effect) || strcmp(json_string_value(effect), "Allow") != 0)
        return bad(c, "Invalid effect");
    if (!action)
        return bad(c, "Missing required field Action");
    if (!resource)
        return bad(c, "Missing required field Resource");
    if (c->kind == AUTH_POLICY_IDENTITY && principal)
        return bad(c, "Policy document should not specify a principal");
    if (c->kind != AUTH_POLICY_IDENTITY && !principal)
        return bad(c, "Missing required field Principal");
    if ((rc = parse_actions(c, action, st)) != AUTH_POLICY_OK ||
        (rc = parse_resources(c, resource, st)) != AUTH_POLICY_OK)
        return rc;
    if (principal && (rc = parse_principals(c, principal, st)) != AUTH_POLICY_OK)
        return rc;
    if (cond && (rc = parse_conditions(c, cond, st)) != AUTH_POLICY_OK)
        return rc;
    return AUTH_POLICY_OK;
}

static auth_policy_rc_t parse_document(pctx_t *c, auth_policy_t *p, json_t *root)
{
    const char *k;
    json_t *v, *stmts = NULL;

    json_object_foreach(root, k, v)
    {
        if (strcmp(k, "Version") == 0) {
            const char *ver = json_string_value(v); /* NULL unless a string */
            if (ver && strcmp(ver, "2012-10-17") == 0)
                c->vars = true;
            else if (!ver || strcmp(ver, "2008-10-17") != 0)
                return bad(c, "The policy must contain a valid version string");
        } else if (strcmp(k, "Id") == 0) {
            if (!json_is_string(v))
                return bad(c, "Policy Id must be a string");
        } else if (strcmp(k, "Statement") == 0) {
            stmts = v;
        } else {
            return bad(c, "Unknown field %.64s", k);
        }
    }
    if (!stmts)
        return bad(c, "Missing required field Statement");
    size_t n = json_is_array(stmts) ? json_array_size(stmts) : json_is_object(stmts) ? 1 : 0;
    if (n == 0)
        return bad(c, "Policy has no statements");
    stmt_t *st = alloc_array(c, n, sizeof *st);
    if (!st)
        return AUTH_POLICY_NOMEM;
    for (size_t i = 0; i < n; i++) {
        auth_policy_rc_t rc =
            parse_statement(c, json_is_array(stmts) ? json_array_get(stmts, i) : stmts, &st[i]);
        if (rc != AUTH_POLICY_OK)
            return rc;
    }
    p->stmts = st;
    p->nstmts = n;
    return AUTH_POLICY_OK;
}

/* Bytes of the document without whitespace between JSON tokens: the size
 * S3 holds to its 20 KiB limit, so pretty-printing costs nothing. Escapes
 * are skipped whole so an escaped quote does not end a string. */
static size_t json_minified_len(const char *s, size_t len)
{
    size_t n = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (in_str) {
            n++;
            if (ch == '\\' && i + 1 < len) {
                i++;
                n++;
            } else if (ch == '"') {
                in_str = false;
            }
        } else if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n') {
            n++;
            in_str = ch == '"';
        }
    }
    return n;
}

auth_policy_rc_t auth_policy_parse(const char *json, size_t len, auth_policy_kind_t kind,
                                   auth_policy_t **out, char *err, size_t errcap)
{
    pctx_t c = {.kind = kind, .err = err, .errcap = errcap};
    json_t *root = NULL;
    json_error_t jerr;
    auth_policy_t *p = NULL;
    auth_policy_rc_t rc;
    size_t i = 0;

    assert(out && (json || len == 0) && kind < AUTH_POLICY_KIND__COUNT); /* caller bugs */
    *out = NULL;
    if (err && errcap)
        err[0] = '\0';
    if (len > AUTH_POLICY_MAX_RAW_BYTES || json_minified_len(json, len) > AUTH_POLICY_MAX_BYTES) {
        (void)bad(&c, "Policy exceeds the maximum allowed document size.");
        return AUTH_POLICY_TOO_LARGE;
    }
    while (i < len && (json[i] == ' ' || json[i] == '\t' || json[i] == '\r' || json[i] == '\n'))
        i++;
    if (i == len || json[i] != '{')
        return bad(&c, "Policies must be valid JSON and the first byte must be '{'");
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (json_error_code(&jerr) == json_error_out_of_memory)
            return AUTH_POLICY_NOMEM;
        return bad(&c, "Policies must be valid JSON and the first byte must be '{'");
    }
    c.a = arena_new(POLICY_ARENA_MAX_BYTES);
    p = c.a ? arena_alloc(c.a, sizeof *p) : NULL;
    if (!p) {
        rc = AUTH_POLICY_NOMEM;
        goto fail;
    }
    p->arena = c.a;
    p->kind = kind;
    rc = parse_document(&c, p, root);
    if (rc != AUTH_POLICY_OK)
        goto fail;
    json_decref(root);
    *out = p;
    return AUTH_POLICY_OK;
fail:
    json_decref(root);
    arena_free(c.a); /* p lives inside it */
    return rc;
}

void auth_policy_free(auth_policy_t *p)
{
    if (p)
        arena_free(p->arena);
}

/* ---- public-access analysis -------------------------------------------- */

/* Does condition c confine the statement to known callers or networks
 * (S3 "The meaning of public")? */
static bool cond_pins(const cond_t *c)
{
    static const char *const keys[] = {
        "aws:SourceArn",    "aws:SourceAccount",     "aws:SourceOwner",
        "aws:SourceVpc",    "aws:SourceVpce",        "aws:SourceOrgID",
        "aws:PrincipalArn", "aws:PrincipalAccount",  "aws:PrincipalOrgID",
        "aws:userid",       "s3:DataAccessPointArn", "s3:DataAccessPointAccount",
    };
    static const char ip_key[] = "aws:SourceIp";
    bool is_ip_key = eq_ci(c->key, strlen(c->key), ip_key, sizeof ip_key - 1), known = false;
    if (c->neg || c->if_exists || c->set == SET_ALL || c->nv == 0)
        return false;
    if (c->fam == CF_IP)
        known = is_ip_key;
    else if (c->fam == CF_STR_EQ || c->fam == CF_STR_EQ_IC || c->fam == CF_STR_LIKE ||
             c->fam == CF_ARN)
        for (size_t i = 0; i < sizeof keys / sizeof keys[0] && !known; i++)
            known = eq_ci(c->key, strlen(c->key), keys[i], strlen(keys[i]));
    if (!known)
        return false;
    for (size_t i = 0; i < c->nv; i++) {
        const cvalue_t *v = &c->v[i];
        if (c->fam == CF_IP) {
            if (v->ip.prefix < (v->ip.v4 ? 96u + 8u : 32u))
                return false;
            continue;
        }
        for (size_t k = 0; k < v->pat.n; k++) {
            const piece_t *pc = &v->pat.pieces[k];
            if (pc->kind == PIECE_VAR ||
                (pc->kind == PIECE_GLOB && c->fam != CF_STR_EQ && c->fam != CF_STR_EQ_IC &&
                 (memchr(pc->s, '*', pc->len) || memchr(pc->s, '?', pc->len))))
                return false;
        }
    }
    return true;
}

bool auth_policy_is_public(const auth_policy_t *p)
{
    for (size_t i = 0; p && i < p->nstmts; i++) {
        const stmt_t *st = &p->stmts[i];
        bool everyone = st->not_principal;
        if (st->deny || !st->has_principal)
            continue;
        for (size_t k = 0; k < st->nprincipals && !everyone; k++)
            everyone = st->principals[k].kind == PR_ANY;
        if (!everyone)
            continue;
        bool pinned = false;
        for (size_t k = 0; k < st->nconds && !pinned; k++)
            pinned = cond_pins(&st->conds[k]);
        if (!pinned)
            return true;
    }
    return false;
}
