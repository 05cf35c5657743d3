/* tables/names.c: S3 Tables name rules, ARN parsing, ids and bearer tokens
 * (s3tables-api §2; NOTES-ON-ISSUES 10, 12). Pure functions: no store. */
#include "tables/tables_int.h"

#include "util/codec.h"
#include "util/parse.h"

#include <stdio.h>
#include <string.h>

static bool is_lower_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

static bool starts_with(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

static bool ends_with(const char *s, size_t n, const char *suf)
{
    size_t m = strlen(suf);
    return n >= m && memcmp(s + n - m, suf, m) == 0;
}

/* 3..63 of [a-z0-9-], letter/digit at both ends, none of the reserved
 * prefixes and suffixes (user guide "Table bucket naming rules"). */
bool tables_bucket_name_ok(const char *s)
{
    static const char *const bad_prefix[] = {"xn--", "sthree-", "amzn-s3-demo-", "aws"};
    static const char *const bad_suffix[] = {"-s3alias", "--ol-s3", "--x-s3",
                                             TABLES_WAREHOUSE_SUFFIX};
    size_t n = strnlen(s, TABLES_BUCKET_NAME_MAX + 1);
    if (n < TABLES_BUCKET_NAME_MIN || n > TABLES_BUCKET_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_digit(s[i]) && s[i] != '-')
            return false;
    if (!is_lower_digit(s[0]) || !is_lower_digit(s[n - 1]))
        return false;
    for (size_t i = 0; i < sizeof bad_prefix / sizeof bad_prefix[0]; i++)
        if (starts_with(s, bad_prefix[i]))
            return false;
    for (size_t i = 0; i < sizeof bad_suffix / sizeof bad_suffix[0]; i++)
        if (ends_with(s, n, bad_suffix[i]))
            return false;
    return true;
}

/* 1..255 of [a-z0-9_], letter/digit at both ends (user guide; the model's
 * pattern is only [0-9a-z_]*). */
static bool ns_table_name_ok(const char *s)
{
    size_t n = strnlen(s, TABLES_NAME_MAX + 1);
    if (n < 1 || n > TABLES_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_digit(s[i]) && s[i] != '_')
            return false;
    return is_lower_digit(s[0]) && is_lower_digit(s[n - 1]);
}

bool tables_namespace_name_ok(const char *s)
{
    return ns_table_name_ok(s) && !starts_with(s, "aws"); /* reserved for AWS-managed */
}

bool tables_table_name_ok(const char *s) { return ns_table_name_ok(s); }

bool tables_lookup_name_ok(const char *s, size_t min, size_t max)
{
    size_t n = strnlen(s, max + 1);
    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_digit(s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

/* Copies [p, p+n) into out (cap bytes incl. NUL); false if too long. */
static bool take(char *out, size_t cap, const char *p, size_t n)
{
    if (n >= cap)
        return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

/* One ':'-terminated ARN field; *p advances past the ':'. */
static bool arn_field(const char **p, const char **f, size_t *n)
{
    const char *c = strchr(*p, ':');
    if (!c)
        return false;
    *f = *p;
    *n = (size_t)(c - *p);
    *p = c + 1;
    return true;
}

static bool all_of(const char *s, size_t n, const char *extra, bool upper)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (is_lower_digit(c) || (upper && c >= 'A' && c <= 'Z') || (c && strchr(extra, c)))
            continue;
        return false;
    }
    return true;
}

bool tables_arn_parse(const char *s, bool allow_bucket, bool allow_table, tables_arn_t *out)
{
    memset(out, 0, sizeof *out);
    if (!s || strnlen(s, TABLES_ARN_MAX + 1) > TABLES_ARN_MAX || !starts_with(s, "arn:aws"))
        return false;
    const char *p = s + 4, *f; /* after "arn:" */
    size_t n;
    /* partition aws[-a-z0-9]*, service [a-z0-9]+, region [-a-z0-9]*,
     * account [0-9]{12} */
    if (!arn_field(&p, &f, &n) || n < 3 || memcmp(f, "aws", 3) != 0 || !all_of(f, n, "-", false))
        return false;
    if (!arn_field(&p, &f, &n) || n < 1 || !all_of(f, n, "", false))
        return false; /* service */
    if (!arn_field(&p, &f, &n) || !all_of(f, n, "-", false) ||
        !take(out->region, sizeof out->region, f, n))
        return false;
    if (!arn_field(&p, &f, &n) || n != 12 || strspn(f, "0123456789") < 12 ||
        !take(out->account, sizeof out->account, f, n))
        return false;
    if (!starts_with(p, "bucket/"))
        return false;
    p += strlen("bucket/");
    const char *slash = strchr(p, '/');
    size_t bl = slash ? (size_t)(slash - p) : strlen(p);
    if (bl < TABLES_BUCKET_NAME_MIN || bl > TABLES_BUCKET_NAME_MAX || !all_of(p, bl, "_-", false) ||
        !take(out->bucket, sizeof out->bucket, p, bl))
        return false;
    if (!slash)
        return allow_bucket;
    p = slash;
    if (!starts_with(p, "/table/"))
        return false;
    p += strlen("/table/");
    size_t tl = strlen(p);
    if (tl < 1 || tl > TABLES_NAME_MAX || !all_of(p, tl, "-_", true) ||
        !take(out->table_id, sizeof out->table_id, p, tl))
        return false;
    return allow_table;
}

void tables_uuid(char out[TABLES_UUID_LEN + 1])
{
    char hex[33];
    codec_random_hex(16, hex);
    /* version 4, variant 10xx */
    hex[12] = '4';
    hex[16] = "89ab"[(hex[16] >= 'a' ? hex[16] - 'a' + 10 : hex[16] - '0') & 3];
    snprintf(out, TABLES_UUID_LEN + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
             hex + 16, hex + 20);
}

/* HMAC over "<access key>\n<expiry>" as hex. */
static void token_mac(const uint8_t key[32], const char *ak, int64_t expires_s, char out[65])
{
    char msg[300];
    int n = snprintf(msg, sizeof msg, "%s\n%lld", ak, (long long)expires_s);
    uint8_t mac[32];
    codec_hmac_sha256(key, 32, msg, n > 0 ? (size_t)n : 0, mac);
    codec_hex(mac, sizeof mac, out);
}

#define TOKEN_PREFIX "kura1."
#define TOKEN_AK_MAX 128

bool tables_token_make(const uint8_t key[32], const char *access_key, int64_t expires_s,
                       char *out, size_t cap)
{
    size_t akl = strnlen(access_key, TOKEN_AK_MAX + 1);
    if (akl == 0 || akl > TOKEN_AK_MAX || expires_s < 0)
        return false;
    char akhex[2 * TOKEN_AK_MAX + 1], mac[65];
    codec_hex(access_key, akl, akhex);
    token_mac(key, access_key, expires_s, mac);
    int n = snprintf(out, cap, TOKEN_PREFIX "%s.%lld.%s", akhex, (long long)expires_s, mac);
    return n > 0 && (size_t)n < cap;
}

bool tables_token_check(const uint8_t key[32], const char *tok, int64_t now_s, char *ak,
                        size_t cap)
{
    if (!tok || strnlen(tok, TABLES_TOKEN_MAX + 1) > TABLES_TOKEN_MAX ||
        !starts_with(tok, TOKEN_PREFIX))
        return false;
    const char *p = tok + strlen(TOKEN_PREFIX);
    const char *d1 = strchr(p, '.');
    if (!d1)
        return false;
    size_t hexlen = (size_t)(d1 - p);
    if (hexlen == 0 || hexlen % 2 || hexlen / 2 > TOKEN_AK_MAX || hexlen / 2 >= cap)
        return false;
    uint8_t akb[TOKEN_AK_MAX + 1];
    if (!codec_unhex(p, hexlen, akb))
        return false;
    akb[hexlen / 2] = '\0';
    if (memchr(akb, '\0', hexlen / 2))
        return false;
    const char *q = d1 + 1, *d2 = strchr(q, '.');
    if (!d2)
        return false;
    uint64_t exp;
    const char *e = q;
    if (parse_u64(&e, d2, (uint64_t)INT64_MAX, &exp) != PARSE_OK || e != d2)
        return false;
    char mac[65];
    token_mac(key, (const char *)akb, (int64_t)exp, mac);
    if (strlen(d2 + 1) != 64 || !codec_ct_equal(mac, d2 + 1, 64))
        return false;
    if ((int64_t)exp <= now_s)
        return false;
    memcpy(ak, akb, hexlen / 2 + 1);
    return true;
}
