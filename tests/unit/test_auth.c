/* tests/unit/test_auth.c: SigV4 (AWS's AKIDEXAMPLE suite and the S3 API
 * reference examples), the aws-chunked decoder (AWS's chunked-upload example,
 * trailers from a test signer and the AWS CRT trailer vector), error cases,
 * and the body checksums of util/checksum.c. */
#include "auth/auth.h"
#include "check.h"
#include "util/checksum.h"
#include "util/codec.h"
#include "util/timefmt.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- fixtures ------------------------------------------------------------ */

#define SUITE_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define S3DOC_AKID "AKIAIOSFODNN7EXAMPLE"
#define S3DOC_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SUITE_TIME_S 1440938160 /* 20150830T123600Z */
#define S3DOC_TIME_S 1369353600 /* 20130524T000000Z */

static bool lookup(void *arg, const char *access_key, char *secret, size_t cap)
{
    (void)arg;
    const char *s = NULL;
    if (strcmp(access_key, "AKIDEXAMPLE") == 0)
        s = SUITE_SECRET;
    else if (strcmp(access_key, S3DOC_AKID) == 0)
        s = S3DOC_SECRET;
    if (!s || strlen(s) >= cap)
        return false;
    memcpy(secret, s, strlen(s) + 1);
    return true;
}

/* A request parsed from the suite's .req text: "METHOD path HTTP/1.1",
 * "Name:value" lines (obs-fold continuation lines joined with '\n', which
 * the canonical form treats as whitespace), an empty line, the body. */
typedef struct {
    char method[8];
    char path[256];
    char query[512];
    char names[16][64];
    char values[16][512];
    auth_header_t headers[17];
    size_t nheaders;
    char body[256];
    size_t body_len;
    auth_request_t req;
} parsed_req_t;

static void add_header(parsed_req_t *r, const char *name, const char *value)
{
    size_t i = r->nheaders++;
    snprintf(r->names[i], sizeof r->names[i], "%s", name);
    for (char *p = r->names[i]; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    snprintf(r->values[i], sizeof r->values[i], "%s", value);
    r->headers[i].name = r->names[i];
    r->headers[i].value = r->values[i];
}

static void parse_req(const char *text, parsed_req_t *r, int64_t now_s)
{
    memset(r, 0, sizeof *r);
    const char *nl = strchr(text, '\n');
    const char *first_end = nl ? nl : text + strlen(text);
    const char *sp = strchr(text, ' ');
    const char *proto = strstr(text, " HTTP/1.1");
    snprintf(r->method, sizeof r->method, "%.*s", (int)(sp - text), text);
    const char *target = sp + 1;
    const char *q = memchr(target, '?', (size_t)(proto - target));
    if (q) {
        snprintf(r->path, sizeof r->path, "%.*s", (int)(q - target), target);
        snprintf(r->query, sizeof r->query, "%.*s", (int)(proto - q - 1), q + 1);
    } else {
        snprintf(r->path, sizeof r->path, "%.*s", (int)(proto - target), target);
    }
    const char *s = nl ? first_end + 1 : first_end;
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 0) {
            s = e + 1;
            r->body_len = strlen(s);
            memcpy(r->body, s, r->body_len);
            break;
        }
        if ((*s == ' ' || *s == '\t') && r->nheaders > 0) {
            char *v = r->values[r->nheaders - 1];
            size_t vl = strlen(v);
            snprintf(v + vl, sizeof r->values[0] - vl, "\n%.*s", (int)len, s);
        } else {
            const char *colon = memchr(s, ':', len);
            char name[64], value[512];
            snprintf(name, sizeof name, "%.*s", (int)(colon - s), s);
            snprintf(value, sizeof value, "%.*s", (int)(s + len - colon - 1), colon + 1);
            add_header(r, name, value);
        }
        s = e ? e + 1 : s + len;
    }
    r->req.method = r->method;
    r->req.raw_path = r->path;
    r->req.raw_query = r->query[0] ? r->query : NULL;
    r->req.headers = r->headers;
    r->req.nheaders = r->nheaders;
    r->req.now_s = now_s;
    r->req.body = r->body_len ? r->body : NULL;
    r->req.body_len = r->body_len;
}

/* "SignedHeaders=a;b;c," out of an Authorization value. */
static void signed_headers_of(const char *authz, char *out, size_t cap)
{
    const char *p = strstr(authz, "SignedHeaders=") + 14;
    size_t n = strcspn(p, ",");
    snprintf(out, cap, "%.*s", (int)n, p);
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
    uint8_t h[32];
    codec_sha256(p, n, h);
    codec_hex(h, 32, out);
}

/* Generated from the AKIDEXAMPLE SigV4 test suite (aws-sig-v4-test-suite,
 * Apache-2.0, as vendored by boto/botocore tests/unit/auth/aws4_testsuite):
 * .req (request as the test gives it), .creq (canonical request), .authz.
 * The session-token cases get the token header botocore adds from its
 * credentials: signed for get-vanilla-with-session-token, added after
 * signing (so unsigned) for post-sts-header-after. */
static const struct {
    const char *name, *req, *creq, *authz;
} suite[] = {
    {"get-header-key-duplicate",
     "GET / HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "My-Header1:value2\n"
     "My-Header1:value2\n"
     "My-Header1:value1\n"
     "X-Amz-Date:20150830T123600Z",
     "GET\n"
     "/\n"
     "\n"
     "host:example.amazonaws.com\n"
     "my-header1:value2,value2,value1\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;my-header1;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;my-header1;x-amz-date, Signature=c9d5ea9f3f72853aea855b47ea873"
     "832890dbdd183b4468f858259531a5138ea"},
    {"get-header-value-multiline",
     "GET / HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "My-Header1:value1\n"
     "  value2\n"
     "     value3\n"
     "X-Amz-Date:20150830T123600Z",
     "GET\n"
     "/\n"
     "\n"
     "host:example.amazonaws.com\n"
     "my-header1:value1 value2 value3\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;my-header1;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;my-header1;x-amz-date, Signature=cfd34249e4b1c8d6b91ef74165d41"
     "a32e5fab3306300901bb65a51a73575eefd"},
    {"get-header-value-order",
     "GET / HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "My-Header1:value4\n"
     "My-Header1:value1\n"
     "My-Header1:value3\n"
     "My-Header1:value2\n"
     "X-Amz-Date:20150830T123600Z",
     "GET\n"
     "/\n"
     "\n"
     "host:example.amazonaws.com\n"
     "my-header1:value4,value1,value3,value2\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;my-header1;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;my-header1;x-amz-date, Signature=08c7e5a9acfcfeb3ab6b2185e75ce"
     "8b1deb5e634ec47601a50643f830c755c01"},
    {"get-header-value-trim",
     "GET / HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "My-Header1: value1\n"
     "My-Header2: \"a   b   c\"\n"
     "X-Amz-Date:20150830T123600Z",
     "GET\n"
     "/\n"
     "\n"
     "host:example.amazonaws.com\n"
     "my-header1:value1\n"
     "my-header2:\"a b c\"\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;my-header1;my-header2;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290f"
     "c8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
    {"get-relative",
     "GET /example/.. HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z",
     "GET\n"
     "/\n"
     "\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a"
     "2260956d9b8aae1d763fbf31"},
    {"get-relative-relative",
     "GET /example1/example2/../.. HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z",
     "GET\n"
     "/\n"
     "\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a"
     "2260956d9b8aae1d763fbf31"},
    {"get-slash",
     "GET // HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z",
     "GET\n"
     "/\n"
     "\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a"
     "2260956d9b8aae1d763fbf31"},
    {"get-slash-dot-slash",
     "GET /./ HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z",
     "GET\n"
     "/\n"
     "\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a"
     "2260956d9b8aae1d763fbf31"},
    {"get-slash-pointless-dot",
     "GET /./example HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z",
     "GET\n"
     "/example\n"
     "\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=ef75d96142cf21edca26f06005da7988e4f8dc83"
     "a165a80865db7089db637ec5"},
    {"get-slashes",
     "GET //example// HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z",
     "GET\n"
     "/example/\n"
     "\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=9a624bd73a37c9a373b5312afbebe7a714a789de"
     "108f0bdfe846570885f57e84"},
    {"get-space",
     "GET /example space/ HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z",
     "GET\n"
     "/example%20space/\n"
     "\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=652487583200325589f1fba4c7e578f72c47cb61"
     "beeca81406b39ddec1366741"},
    {"get-special-character",
     "GET /example/$delete HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z\n",
     "GET\n"
     "/example/%24delete\n"
     "\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=a853c9b21b528b19643d00910d35b83a10c366a1"
     "0833ceefb45edd6c80e40f27"},
    {"get-unreserved",
     "GET /-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z",
     "GET\n"
     "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\n"
     "\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=07ef7494c76fa4850883e2b006601f940f8a34d4"
     "04d0cfa977f52a65bbf5f24f"},
    {"get-utf8",
     "GET /\341\210\264 HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z",
     "GET\n"
     "/%E1%88%B4\n"
     "\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e"
     "678f255a891fd03141be5d85"},
    {"get-vanilla",
     "GET / HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z",
     "GET\n"
     "/\n"
     "\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a"
     "2260956d9b8aae1d763fbf31"},
    {"get-vanilla-empty-query-key",
     "GET /?Param1=value1 HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z",
     "GET\n"
     "/\n"
     "Param1=value1\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=a67d582fa61cc504c4bae71f336f98b97f1ea3c7"
     "a6bfe1b6e45aec72011b9aeb"},
    {"get-vanilla-query",
     "GET / HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z",
     "GET\n"
     "/\n"
     "\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a"
     "2260956d9b8aae1d763fbf31"},
    {"get-vanilla-query-order-encoded",
     "GET /?Param-3=Value3&Param=Value2&%E1%88%B4=Value1 HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z\n",
     "GET\n"
     "/\n"
     "%E1%88%B4=Value1&Param=Value2&Param-3=Value3\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=371d3713e185cc334048618a97f809c9ffe339c6"
     "2934c032af5a0e595648fcac"},
    {"get-vanilla-query-order-key",
     "GET /?Param1=value2&Param1=Value1 HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z",
     "GET\n"
     "/\n"
     "Param1=Value1&Param1=value2\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=eedbc4e291e521cf13422ffca22be7d2eb8146ee"
     "cf653089df300a15b2382bd1"},
    {"get-vanilla-query-order-key-case",
     "GET /?Param2=value2&Param1=value1 HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z",
     "GET\n"
     "/\n"
     "Param1=value1&Param2=value2\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221"
     "646efd99d3219ec94cdf2500"},
    {"get-vanilla-query-order-value",
     "GET /?Param1=value2&Param1=value1 HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z",
     "GET\n"
     "/\n"
     "Param1=value1&Param1=value2\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=5772eed61e12b33fae39ee5e7012498b51d56abc"
     "0abb7c60486157bd471c4694"},
    {"get-vanilla-query-unreserved",
     "GET /?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123"
     "456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z",
     "GET\n"
     "/\n"
     "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789"
     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc"
     "0884027167c21bb143a40197"},
    {"get-vanilla-utf8-query",
     "GET /?\341\210\264=bar HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z",
     "GET\n"
     "/\n"
     "%E1%88%B4=bar\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=2cdec8eed098649ff3a119c94853b13c643bcf08"
     "f8b0a1d91e12c9027818dd04"},
    {"get-vanilla-with-session-token",
     "GET / HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z\n"
     "X-Amz-Security-Token:6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf19"
     "4267",
     "GET\n"
     "/\n"
     "\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "x-amz-security-token:6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf19"
     "4267\n"
     "\n"
     "host;x-amz-date;x-amz-security-token\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=07ec1639c89043aa0e3"
     "e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"},
    {"post-header-key-case",
     "POST / HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z",
     "POST\n"
     "/\n"
     "\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c3086"
     "2966e37dddb68e92efbe5d6b"},
    {"post-header-key-sort",
     "POST / HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "My-Header1:value1\n"
     "X-Amz-Date:20150830T123600Z",
     "POST\n"
     "/\n"
     "\n"
     "host:example.amazonaws.com\n"
     "my-header1:value1\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;my-header1;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;my-header1;x-amz-date, Signature=c5410059b04c1ee005303aed430f6"
     "e6645f61f4dc9e1461ec8f8916fdf18852c"},
    {"post-header-value-case",
     "POST / HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "My-Header1:VALUE1\n"
     "X-Amz-Date:20150830T123600Z",
     "POST\n"
     "/\n"
     "\n"
     "host:example.amazonaws.com\n"
     "my-header1:VALUE1\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;my-header1;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;my-header1;x-amz-date, Signature=cdbc9802e29d2942e5e10b5bccfdd"
     "67c5f22c7c4e8ae67b53629efa58b974b7d"},
    {"post-sts-header-after",
     "POST / HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z\n"
     "X-Amz-Security-Token:AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4"
     "FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdee"
     "hM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHN"
     "VXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYv"
     "KTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==",
     "POST\n"
     "/\n"
     "\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c3086"
     "2966e37dddb68e92efbe5d6b"},
    {"post-sts-header-before",
     "POST / HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z\n"
     "X-Amz-Security-Token:AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4"
     "FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdee"
     "hM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHN"
     "VXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYv"
     "KTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==",
     "POST\n"
     "/\n"
     "\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "x-amz-security-token:AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4"
     "FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdee"
     "hM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHN"
     "VXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYv"
     "KTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==\n"
     "\n"
     "host;x-amz-date;x-amz-security-token\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc"
     "3bd16ad9e210dd772bbebba041836c64533a82be05ead"},
    {"post-vanilla",
     "POST / HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z",
     "POST\n"
     "/\n"
     "\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c3086"
     "2966e37dddb68e92efbe5d6b"},
    {"post-vanilla-empty-query-value",
     "POST /?Param1=value1 HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z",
     "POST\n"
     "/\n"
     "Param1=value1\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=28038455d6de14eafc1f9222cf5aa6f1a96197d7"
     "deb8263271d420d138af7f11"},
    {"post-vanilla-query",
     "POST /?Param1=value1 HTTP/1.1\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z",
     "POST\n"
     "/\n"
     "Param1=value1\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "host;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=28038455d6de14eafc1f9222cf5aa6f1a96197d7"
     "deb8263271d420d138af7f11"},
    {"post-x-www-form-urlencoded",
     "POST / HTTP/1.1\n"
     "Content-Type:application/x-www-form-urlencoded\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z\n"
     "\n"
     "Param1=value1",
     "POST\n"
     "/\n"
     "\n"
     "content-type:application/x-www-form-urlencoded\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "content-type;host;x-amz-date\n"
     "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722"
     "051e5ac45fc38421b1da7b9d196a0fe09473a"},
    {"post-x-www-form-urlencoded-parameters",
     "POST / HTTP/1.1\n"
     "Content-Type:application/x-www-form-urlencoded; charset=utf8\n"
     "Host:example.amazonaws.com\n"
     "X-Amz-Date:20150830T123600Z\n"
     "\n"
     "Param1=value1",
     "POST\n"
     "/\n"
     "\n"
     "content-type:application/x-www-form-urlencoded; charset=utf8\n"
     "host:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n"
     "\n"
     "content-type;host;x-amz-date\n"
     "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=content-type;host;x-amz-date, Signature=1a72ec8f64bd914b0e42e42607c"
     "7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"},
};

/* ---- SigV4: AWS's AKIDEXAMPLE suite, non-S3 canonical URI mode ----------- */

static void test_sigv4_suite_canonical_request_and_authorization(void)
{
    for (size_t i = 0; i < ARRAY_LEN(suite); i++) {
        parsed_req_t r;
        char sh[256], hash[65];
        parse_req(suite[i].req, &r, SUITE_TIME_S);
        signed_headers_of(suite[i].authz, sh, sizeof sh);
        sha256_hex(r.body, r.body_len, hash);

        char *creq = auth_canonical_request(&r.req, "service", sh, hash);
        CHECK_EQ_STR(creq, suite[i].creq, "%s: canonical request", suite[i].name);
        free(creq);

        char *authz = auth_sign_header(&r.req, "AKIDEXAMPLE", SUITE_SECRET, "us-east-1", "service",
                                       "20150830T123600Z", sh, hash);
        CHECK_EQ_STR(authz, suite[i].authz, "%s: Authorization", suite[i].name);
        free(authz);
    }
}

/* The same vectors through the verifier, as a server receives them. */
static void test_sigv4_suite_verifies(void)
{
    for (size_t i = 0; i < ARRAY_LEN(suite); i++) {
        parsed_req_t r;
        auth_result_t res;
        parse_req(suite[i].req, &r, SUITE_TIME_S + 60);
        add_header(&r, "Authorization", suite[i].authz);
        r.req.nheaders = r.nheaders;
        auth_rc_t rc = auth_sigv4_verify(&r.req, lookup, NULL, &res);
        CHECK_EQ_INT(rc, AUTH_OK, "%s: %s", suite[i].name, auth_rc_name(rc));
        if (rc != AUTH_OK)
            continue;
        CHECK_EQ_STR(res.access_key, "AKIDEXAMPLE", "%s", suite[i].name);
        CHECK_EQ_STR(res.service, "service", "%s", suite[i].name);
        CHECK_EQ_STR(res.region, "us-east-1", "%s", suite[i].name);
        CHECK_EQ_STR(res.amz_date, "20150830T123600Z", "%s", suite[i].name);
        CHECK(res.request_time_s == SUITE_TIME_S && !res.presigned, "%s", suite[i].name);
        CHECK(strstr(suite[i].authz, res.seed_signature) != NULL, "%s seed", suite[i].name);

        /* One flipped byte of a signed header value must break it. */
        for (size_t h = 0; h < r.nheaders; h++)
            if (strcmp(r.names[h], "x-amz-date") == 0)
                r.values[h][14] = '1'; /* one second later */
        rc = auth_sigv4_verify(&r.req, lookup, NULL, &res);
        CHECK_EQ_INT(rc, AUTH_ERR_SIGNATURE, "%s tampered", suite[i].name);
    }
}

/* NOTES item 4: S3 signs the path as sent; other services normalise and
 * encode it once more. */
static void test_canonical_uri_modes(void)
{
    static const struct {
        const char *path, *service, *want;
    } cases[] = {
        {"/bucket/a%3Ab", "s3", "/bucket/a%3Ab"},
        {"/bucket/a%3Ab", "s3tables", "/bucket/a%253Ab"},
        {"/bucket/../x", "s3", "/bucket/../x"},
        {"/bucket/a//b/./c", "s3", "/bucket/a//b/./c"},
        {"/bucket/a//b/./c", "backup", "/bucket/a/b/c"},
        {"/a/b/..", "athena", "/a"},
        {"/a/b/../", "athena", "/a/"},
        {"/../../x", "athena", "/x"},
        {"", "s3", "/"},
        {"", "athena", "/"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        auth_header_t h[] = {{"host", "localhost"}};
        auth_request_t req = {
            .method = "GET", .raw_path = cases[i].path, .headers = h, .nheaders = 1};
        char *creq = auth_canonical_request(&req, cases[i].service, "host", EMPTY_SHA256);
        char want[256];
        snprintf(want, sizeof want, "GET\n%s\n\nhost:localhost\n\nhost\n%s", cases[i].want,
                 EMPTY_SHA256);
        CHECK_EQ_STR(creq, want, "case %zu: %s %s", i, cases[i].service, cases[i].path);
        free(creq);
    }
}

static void test_canonical_query_reencodes_and_sorts(void)
{
    auth_header_t h[] = {{"host", "h"}};
    auth_request_t req = {.method = "GET",
                          .raw_path = "/",
                          .raw_query = "b=2&a=%7e+x&a=1&empty&c=%2f&&X-Amz-Signature=zz",
                          .headers = h,
                          .nheaders = 1};
    char *creq = auth_canonical_request(&req, "s3", "host", "UNSIGNED-PAYLOAD");
    CHECK_EQ_STR(creq, "GET\n/\na=1&a=~%2Bx&b=2&c=%2F&empty=\nhost:h\n\nhost\nUNSIGNED-PAYLOAD",
                 "query");
    free(creq);
    req.raw_query = "a=%zz";
    CHECK(auth_canonical_request(&req, "s3", "host", "x") == NULL, "malformed escape");
}

/* ---- SigV4: the S3 API reference examples ---------------------------------- */

/* "Example: GET Object" (sig-v4-header-based-auth): bytes 0-9 of test.txt. */
static void test_s3_doc_get_object_header_example(void)
{
    auth_header_t h[] = {
        {"host", "examplebucket.s3.amazonaws.com"},
        {"range", "bytes=0-9"},
        {"x-amz-content-sha256", EMPTY_SHA256},
        {"x-amz-date", "20130524T000000Z"},
        {"authorization", ""},
    };
    auth_request_t req = {.method = "GET",
                          .raw_path = "/test.txt",
                          .headers = h,
                          .nheaders = 4,
                          .now_s = S3DOC_TIME_S};
    const char *sh = "host;range;x-amz-content-sha256;x-amz-date";
    char *authz = auth_sign_header(&req, S3DOC_AKID, S3DOC_SECRET, "us-east-1", "s3",
                                   "20130524T000000Z", sh, EMPTY_SHA256);
    CHECK_EQ_STR(authz,
                 "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
                 "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                 "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
                 "GET Object example");
    h[4].value = authz;
    req.nheaders = 5;
    auth_result_t res;
    CHECK_EQ_INT(auth_sigv4_verify(&req, lookup, NULL, &res), AUTH_OK, "verify");
    CHECK(res.payload == AUTH_PAYLOAD_SHA256, "payload mode");
    CHECK_EQ_STR(res.payload_sha256, EMPTY_SHA256, "payload hash for the HTTP layer");
    CHECK_EQ_STR(res.service, "s3", "service");
    free(authz);
}

#define PRESIGN_Q                                                                                  \
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-" \
    "1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=host"
#define PRESIGN_SIG "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"

static auth_rc_t presigned_verify(const char *query, int64_t now_s, auth_result_t *res)
{
    auth_header_t h[] = {{"host", "examplebucket.s3.amazonaws.com"}};
    auth_request_t req = {.method = "GET",
                          .raw_path = "/test.txt",
                          .raw_query = query,
                          .headers = h,
                          .nheaders = 1,
                          .now_s = now_s};
    return auth_sigv4_verify(&req, lookup, NULL, res);
}

/* "Example: GET Object" of sigv4-query-string-auth: a URL valid 24 hours. */
static void test_s3_doc_presigned_get_example(void)
{
    const char *q = PRESIGN_Q "&X-Amz-Expires=86400&X-Amz-Signature=" PRESIGN_SIG;
    auth_result_t res;
    CHECK_EQ_INT(presigned_verify(q, S3DOC_TIME_S + 3600, &res), AUTH_OK, "within 24 h");
    CHECK(res.presigned && res.payload == AUTH_PAYLOAD_UNSIGNED, "presigned, unsigned body");

    /* The canonical request's hash, as the page prints it. */
    auth_header_t h[] = {{"host", "examplebucket.s3.amazonaws.com"}};
    auth_request_t req = {
        .method = "GET", .raw_path = "/test.txt", .raw_query = q, .headers = h, .nheaders = 1};
    char *creq = auth_canonical_request(&req, "s3", "host", "UNSIGNED-PAYLOAD");
    char hex[65];
    sha256_hex(creq, creq ? strlen(creq) : 0, hex);
    CHECK_EQ_STR(hex, "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04",
                 "canonical request hash excludes X-Amz-Signature");
    free(creq);

    /* Parameter order on the wire does not matter. */
    const char *shuffled = "X-Amz-Signature=" PRESIGN_SIG "&X-Amz-Expires=86400&" PRESIGN_Q;
    CHECK_EQ_INT(presigned_verify(shuffled, S3DOC_TIME_S, &res), AUTH_OK, "shuffled");

    static const struct {
        const char *query;
        int64_t now_s;
        auth_rc_t rc;
    } cases[] = {
        {PRESIGN_Q "&X-Amz-Expires=86400&X-Amz-Signature=" PRESIGN_SIG, S3DOC_TIME_S + 86400,
         AUTH_OK}, /* last valid second */
        {PRESIGN_Q "&X-Amz-Expires=86400&X-Amz-Signature=" PRESIGN_SIG, S3DOC_TIME_S + 86401,
         AUTH_ERR_EXPIRED},
        {PRESIGN_Q "&X-Amz-Expires=86400&X-Amz-Signature=" PRESIGN_SIG, S3DOC_TIME_S - 16 * 60,
         AUTH_ERR_SKEWED}, /* dated in the future */
        {PRESIGN_Q "&X-Amz-Expires=604801&X-Amz-Signature=" PRESIGN_SIG, S3DOC_TIME_S,
         AUTH_ERR_QUERY_PARAMS}, /* more than 7 days */
        {PRESIGN_Q "&X-Amz-Expires=0&X-Amz-Signature=" PRESIGN_SIG, S3DOC_TIME_S,
         AUTH_ERR_QUERY_PARAMS},
        {PRESIGN_Q "&X-Amz-Signature=" PRESIGN_SIG, S3DOC_TIME_S, AUTH_ERR_QUERY_PARAMS},
        {PRESIGN_Q "&X-Amz-Expires=86400", S3DOC_TIME_S, AUTH_ERR_QUERY_PARAMS},
        {PRESIGN_Q "&X-Amz-Expires=86400&X-Amz-Signature=" PRESIGN_SIG "&X-Amz-Expires=1",
         S3DOC_TIME_S, AUTH_ERR_QUERY_PARAMS}, /* duplicate */
        {PRESIGN_Q "&X-Amz-Expires=604800&X-Amz-Signature=" PRESIGN_SIG, S3DOC_TIME_S,
         AUTH_ERR_SIGNATURE}, /* expiry is signed */
        {PRESIGN_Q "&X-Amz-Expires=86400&X-Amz-Signature=" PRESIGN_SIG "&x-id=GetObject",
         S3DOC_TIME_S, AUTH_ERR_SIGNATURE}, /* added parameter */
        {"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-"
         "east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=range&X-Amz-"
         "Expires=86400&X-Amz-Signature=" PRESIGN_SIG,
         S3DOC_TIME_S, AUTH_ERR_QUERY_PARAMS}, /* host not signed */
        {"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-"
         "east-1%2Fs3&X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=host&X-Amz-"
         "Expires=86400&X-Amz-Signature=" PRESIGN_SIG,
         S3DOC_TIME_S, AUTH_ERR_QUERY_PARAMS}, /* credential scope cut short */
        {"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=NOBODY%2F20130524%2Fus-"
         "east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=host&X-Amz-"
         "Expires=86400&X-Amz-Signature=" PRESIGN_SIG,
         S3DOC_TIME_S, AUTH_ERR_ACCESS_KEY},
        {"AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1369440000&Signature=abc%3D", S3DOC_TIME_S,
         AUTH_ERR_UNSUPPORTED}, /* SigV2 query form */
        {"list-type=2&prefix=a", S3DOC_TIME_S, AUTH_ANONYMOUS},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        auth_rc_t rc = presigned_verify(cases[i].query, cases[i].now_s, &res);
        CHECK_EQ_INT(rc, cases[i].rc, "case %zu: %s", i, auth_rc_name(rc));
    }
}

/* The JS SDK v3 presigner puts X-Amz-Content-Sha256=UNSIGNED-PAYLOAD and
 * x-id into the URL; the signature is made here with the canonical request
 * (proven against AWS above) and an HMAC chain written in this file. */
static void test_presigned_with_content_sha256_in_query(void)
{
    const char *base = PRESIGN_Q "&X-Amz-Expires=900&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD"
                                 "&x-id=GetObject";
    auth_header_t h[] = {{"host", "examplebucket.s3.amazonaws.com"}};
    auth_request_t req = {.method = "GET",
                          .raw_path = "/test.txt",
                          .raw_query = base,
                          .headers = h,
                          .nheaders = 1,
                          .now_s = S3DOC_TIME_S + 60};
    char *creq = auth_canonical_request(&req, "s3", "host", "UNSIGNED-PAYLOAD");
    char hex[65], sts[256], k[64], sig[65], query[1024];
    uint8_t key[32], mac[32];
    sha256_hex(creq, strlen(creq), hex);
    free(creq);
    snprintf(sts, sizeof sts,
             "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n%s", hex);
    snprintf(k, sizeof k, "AWS4%s", S3DOC_SECRET);
    codec_hmac_sha256(k, strlen(k), "20130524", 8, key);
    codec_hmac_sha256(key, 32, "us-east-1", 9, key);
    codec_hmac_sha256(key, 32, "s3", 2, key);
    codec_hmac_sha256(key, 32, "aws4_request", 12, key);
    codec_hmac_sha256(key, 32, sts, strlen(sts), mac);
    codec_hex(mac, 32, sig);
    snprintf(query, sizeof query, "%s&X-Amz-Signature=%s", base, sig);
    req.raw_query = query;
    auth_result_t res;
    CHECK_EQ_INT(auth_sigv4_verify(&req, lookup, NULL, &res), AUTH_OK, "verifies");
    CHECK(res.presigned && res.payload == AUTH_PAYLOAD_UNSIGNED, "unsigned payload");
    req.now_s = S3DOC_TIME_S + 901;
    CHECK_EQ_INT(auth_sigv4_verify(&req, lookup, NULL, &res), AUTH_ERR_EXPIRED, "15 min URL");
}

/* ---- SigV4: header-form errors --------------------------------------------- */

static auth_rc_t header_verify(const char *authz, const char *amz_date, int64_t now_s,
                               const char *content_sha256)
{
    auth_header_t h[4];
    size_t n = 0;
    h[n++] = (auth_header_t){"host", "example.amazonaws.com"};
    if (amz_date)
        h[n++] = (auth_header_t){"x-amz-date", amz_date};
    if (content_sha256)
        h[n++] = (auth_header_t){"x-amz-content-sha256", content_sha256};
    if (authz)
        h[n++] = (auth_header_t){"authorization", authz};
    auth_request_t req = {
        .method = "GET", .raw_path = "/", .headers = h, .nheaders = n, .now_s = now_s};
    auth_result_t res;
    return auth_sigv4_verify(&req, lookup, NULL, &res);
}

static void test_header_auth_errors(void)
{
    /* get-vanilla from the suite, with its date and the correct signature. */
#define VANILLA_CRED "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
#define VANILLA_SIG "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    static const struct {
        const char *authz, *date;
        int64_t now_s;
        const char *content_sha256;
        auth_rc_t rc;
    } cases[] = {
        {"AWS4-HMAC-SHA256 " VANILLA_CRED ", SignedHeaders=host;x-amz-date, " VANILLA_SIG,
         "20150830T123600Z", SUITE_TIME_S + 15 * 60, NULL, AUTH_OK}, /* edge of the window */
        {"AWS4-HMAC-SHA256 " VANILLA_CRED ",SignedHeaders=host;x-amz-date," VANILLA_SIG,
         "20150830T123600Z", SUITE_TIME_S, NULL, AUTH_OK}, /* no spaces after commas */
        {"AWS4-HMAC-SHA256 " VANILLA_CRED ", SignedHeaders=host;x-amz-date, " VANILLA_SIG,
         "20150830T123600Z", SUITE_TIME_S + 15 * 60 + 1, NULL, AUTH_ERR_SKEWED},
        {"AWS4-HMAC-SHA256 " VANILLA_CRED ", SignedHeaders=host;x-amz-date, " VANILLA_SIG,
         "20150830T123600Z", SUITE_TIME_S - 15 * 60 - 1, NULL, AUTH_ERR_SKEWED},
        {"AWS4-HMAC-SHA256 " VANILLA_CRED ", SignedHeaders=host;x-amz-date, " VANILLA_SIG, NULL,
         SUITE_TIME_S, NULL, AUTH_ERR_MISSING_AUTH},
        {"AWS4-HMAC-SHA256 " VANILLA_CRED ", SignedHeaders=host;x-amz-date, " VANILLA_SIG,
         "2015-08-30T12:36:00Z", SUITE_TIME_S, NULL, AUTH_ERR_MISSING_AUTH},
        {"AWS4-HMAC-SHA256 Credential=AKIDUNKNOWN/20150830/us-east-1/service/aws4_request, "
         "SignedHeaders=host;x-amz-date, " VANILLA_SIG,
         "20150830T123600Z", SUITE_TIME_S, NULL, AUTH_ERR_ACCESS_KEY},
        {"AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=", "20150830T123600Z", SUITE_TIME_S, NULL,
         AUTH_ERR_UNSUPPORTED}, /* SigV2 */
        {"AWS4-ECDSA-P256-SHA256 " VANILLA_CRED ", SignedHeaders=host;x-amz-date, " VANILLA_SIG,
         "20150830T123600Z", SUITE_TIME_S, NULL, AUTH_ERR_UNSUPPORTED}, /* SigV4a */
        {"AWS4-HMAC-SHA256 " VANILLA_CRED ", SignedHeaders=x-amz-date, " VANILLA_SIG,
         "20150830T123600Z", SUITE_TIME_S, NULL, AUTH_ERR_HEADER_MALFORMED}, /* no host */
        {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service, "
         "SignedHeaders=host;x-amz-date, " VANILLA_SIG,
         "20150830T123600Z", SUITE_TIME_S, NULL, AUTH_ERR_HEADER_MALFORMED},
        {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2015083/us-east-1/service/aws4_request, "
         "SignedHeaders=host;x-amz-date, " VANILLA_SIG,
         "20150830T123600Z", SUITE_TIME_S, NULL, AUTH_ERR_HEADER_MALFORMED},
        {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request/x, "
         "SignedHeaders=host;x-amz-date, " VANILLA_SIG,
         "20150830T123600Z", SUITE_TIME_S, NULL, AUTH_ERR_HEADER_MALFORMED},
        {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150831/us-east-1/service/aws4_request, "
         "SignedHeaders=host;x-amz-date, " VANILLA_SIG,
         "20150830T123600Z", SUITE_TIME_S, NULL, AUTH_ERR_HEADER_MALFORMED}, /* other day */
        {"AWS4-HMAC-SHA256 " VANILLA_CRED ", SignedHeaders=host;x-amz-date", "20150830T123600Z",
         SUITE_TIME_S, NULL, AUTH_ERR_HEADER_MALFORMED}, /* no signature */
        {"AWS4-HMAC-SHA256 " VANILLA_CRED ", SignedHeaders=host;x-amz-date, Signature=abc",
         "20150830T123600Z", SUITE_TIME_S, NULL, AUTH_ERR_HEADER_MALFORMED},
        {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/service/aws4_request, "
         "SignedHeaders=host;x-amz-date, " VANILLA_SIG,
         "20150830T123600Z", SUITE_TIME_S, NULL, AUTH_ERR_SIGNATURE}, /* region: router's job */
        {"AWS4-HMAC-SHA256 " VANILLA_CRED ", SignedHeaders=host;x-amz-date, " VANILLA_SIG,
         "20150830T123600Z", SUITE_TIME_S, "not-a-hash", AUTH_ERR_CONTENT_SHA256},
        {"AWS4-HMAC-SHA256 " VANILLA_CRED ", SignedHeaders=host;x-amz-date, " VANILLA_SIG,
         "20150830T123600Z", SUITE_TIME_S, "UNSIGNED-PAYLOAD", AUTH_ERR_SIGNATURE},
        {NULL, "20150830T123600Z", SUITE_TIME_S, NULL, AUTH_ANONYMOUS},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        auth_rc_t rc =
            header_verify(cases[i].authz, cases[i].date, cases[i].now_s, cases[i].content_sha256);
        CHECK_EQ_INT(rc, cases[i].rc, "case %zu: %s", i, auth_rc_name(rc));
    }
}

/* A wrong region is not an auth error: the signature over it verifies and the
 * router compares result.region with its own. */
static void test_other_region_verifies_and_is_reported(void)
{
    auth_header_t h[] = {{"host", "example.amazonaws.com"},
                         {"x-amz-date", "20150830T123600Z"},
                         {"authorization", ""}};
    auth_request_t req = {
        .method = "GET", .raw_path = "/", .headers = h, .nheaders = 2, .now_s = SUITE_TIME_S};
    char *authz = auth_sign_header(&req, "AKIDEXAMPLE", SUITE_SECRET, "eu-west-1", "s3tables",
                                   "20150830T123600Z", "host;x-amz-date", EMPTY_SHA256);
    h[2].value = authz;
    req.nheaders = 3;
    auth_result_t res;
    CHECK_EQ_INT(auth_sigv4_verify(&req, lookup, NULL, &res), AUTH_OK, "verifies");
    CHECK_EQ_STR(res.region, "eu-west-1", "region reported");
    char svc[33];
    CHECK(auth_scope_service(&req, svc, sizeof svc), "scope service");
    CHECK_EQ_STR(svc, "s3tables", "service from header");
    free(authz);

    auth_request_t q = {.method = "GET", .raw_path = "/", .raw_query = PRESIGN_Q};
    CHECK(auth_scope_service(&q, svc, sizeof svc), "scope service from query");
    CHECK_EQ_STR(svc, "s3", "service from X-Amz-Credential");
    auth_request_t none = {.method = "GET", .raw_path = "/"};
    CHECK(!auth_scope_service(&none, svc, sizeof svc), "anonymous has no scope");
}

static void test_rc_names_are_complete(void)
{
    for (int rc = 0; rc < AUTH_RC__COUNT; rc++)
        CHECK(auth_rc_name((auth_rc_t)rc) && auth_rc_name((auth_rc_t)rc)[0], "rc %d", rc);
    CHECK_EQ_STR(auth_rc_name(AUTH_ERR_SIGNATURE), "SignatureDoesNotMatch", "name");
}

/* ---- aws-chunked: AWS's chunked upload example ----------------------------- */

#define SEED_SIG "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
#define CHUNK1_SIG "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
#define CHUNK2_SIG "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
#define FINAL_SIG "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
#define EXAMPLE_OBJECT_BYTES 66560
#define EXAMPLE_BODY_BYTES 66824 /* the example's Content-Length */

typedef struct {
    size_t n;
    bool all_a;
    char *copy; /* when non-NULL, bytes are kept (cap bytes) */
    size_t cap;
} sink_t;

static bool sink(void *arg, const void *p, size_t n)
{
    sink_t *s = arg;
    const char *b = p;
    for (size_t i = 0; i < n; i++)
        s->all_a &= b[i] == 'a';
    if (s->copy && s->n + n <= s->cap)
        memcpy(s->copy + s->n, p, n);
    s->n += n;
    return true;
}

/* The body of the example: 64 KiB + 1 KiB of 'a', then the final chunk. */
static char *example_body(size_t *len, const char *trailer_section)
{
    size_t cap = EXAMPLE_BODY_BYTES + 1024;
    char *b = malloc(cap);
    size_t n = 0;
    n += (size_t)snprintf(b + n, cap - n, "10000;chunk-signature=" CHUNK1_SIG "\r\n");
    memset(b + n, 'a', 65536);
    n += 65536;
    n += (size_t)snprintf(b + n, cap - n, "\r\n400;chunk-signature=" CHUNK2_SIG "\r\n");
    memset(b + n, 'a', 1024);
    n += 1024;
    n += (size_t)snprintf(b + n, cap - n, "\r\n0;chunk-signature=" FINAL_SIG "\r\n%s",
                          trailer_section ? trailer_section : "\r\n");
    *len = n;
    return b;
}

/* The seed request of the example, verified as a server would. */
static auth_rc_t example_seed(auth_result_t *res)
{
    auth_header_t h[] = {
        {"host", "s3.amazonaws.com"},
        {"x-amz-date", "20130524T000000Z"},
        {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
        {"authorization",
         "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
         "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
         "x-amz-decoded-content-length;x-amz-storage-class,Signature=" SEED_SIG},
        {"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
        {"content-encoding", "aws-chunked"},
        {"x-amz-decoded-content-length", "66560"},
        {"content-length", "66824"},
    };
    auth_request_t req = {.method = "PUT",
                          .raw_path = "/examplebucket/chunkObject.txt",
                          .headers = h,
                          .nheaders = ARRAY_LEN(h),
                          .now_s = S3DOC_TIME_S};
    return auth_sigv4_verify(&req, lookup, NULL, res);
}

static auth_rc_t decode(const auth_result_t *res, const char *body, size_t len, size_t step,
                        uint64_t decoded_length, const char *trailers, sink_t *out,
                        auth_chunked_t **keep)
{
    auth_chunked_t *c = auth_chunked_new(res, decoded_length, trailers);
    auth_rc_t rc = AUTH_OK;
    if (!c)
        return AUTH_RC__COUNT;
    for (size_t off = 0; off < len && rc == AUTH_OK; off += step) {
        size_t n = len - off < step ? len - off : step;
        rc = auth_chunked_feed(c, body + off, n, sink, out);
    }
    if (rc == AUTH_OK)
        rc = auth_chunked_finish(c);
    if (keep)
        *keep = c;
    else
        auth_chunked_free(c);
    return rc;
}

static void test_chunked_aws_example_verifies_whole_and_bytewise(void)
{
    auth_result_t res;
    CHECK_EQ_INT(example_seed(&res), AUTH_OK, "seed signature");
    CHECK_EQ_STR(res.seed_signature, SEED_SIG, "seed");
    CHECK(res.payload == AUTH_PAYLOAD_STREAMING_SIGNED, "streaming mode");

    size_t len;
    char *body = example_body(&len, NULL);
    CHECK_EQ_INT(len, EXAMPLE_BODY_BYTES, "body length is the example's Content-Length");
    static const size_t steps[] = {EXAMPLE_BODY_BYTES, 1, 7, 4096, 65537};
    for (size_t i = 0; i < ARRAY_LEN(steps); i++) {
        sink_t s = {.all_a = true};
        auth_rc_t rc = decode(&res, body, len, steps[i], EXAMPLE_OBJECT_BYTES, NULL, &s, NULL);
        CHECK_EQ_INT(rc, AUTH_OK, "step %zu: %s", steps[i], auth_rc_name(rc));
        CHECK(s.n == EXAMPLE_OBJECT_BYTES && s.all_a, "step %zu: payload", steps[i]);
    }
    /* Unknown decoded length is fine too. */
    sink_t s = {.all_a = true};
    CHECK_EQ_INT(decode(&res, body, len, len, UINT64_MAX, NULL, &s, NULL), AUTH_OK, "no length");
    free(body);
}

static void test_chunked_tampering_and_truncation(void)
{
    auth_result_t res;
    size_t len;
    CHECK_EQ_INT(example_seed(&res), AUTH_OK, "seed");
    char *body = example_body(&len, NULL);
    sink_t s = {.all_a = true};

    body[100] = 'b'; /* first chunk's data */
    CHECK_EQ_INT(decode(&res, body, len, len, EXAMPLE_OBJECT_BYTES, NULL, &s, NULL),
                 AUTH_ERR_SIGNATURE, "flipped data byte, whole");
    CHECK_EQ_INT(decode(&res, body, len, 1, EXAMPLE_OBJECT_BYTES, NULL, &s, NULL),
                 AUTH_ERR_SIGNATURE, "flipped data byte, bytewise");
    body[100] = 'a';
    body[30] = body[30] == '0' ? '1' : '0'; /* first chunk's signature */
    CHECK_EQ_INT(decode(&res, body, len, len, EXAMPLE_OBJECT_BYTES, NULL, &s, NULL),
                 AUTH_ERR_SIGNATURE, "flipped signature");
    free(body);

    body = example_body(&len, NULL);
    for (size_t cut = 1; cut < len; cut += cut < 200 ? 1 : 997) {
        auth_rc_t rc =
            decode(&res, body, len - cut, 1 + cut % 5000, EXAMPLE_OBJECT_BYTES, NULL, &s, NULL);
        CHECK_EQ_INT(rc, AUTH_ERR_INCOMPLETE_BODY, "truncated by %zu", cut);
    }
    CHECK_EQ_INT(decode(&res, body, len, len, EXAMPLE_OBJECT_BYTES - 1, NULL, &s, NULL),
                 AUTH_ERR_INCOMPLETE_BODY, "more than x-amz-decoded-content-length");
    CHECK_EQ_INT(decode(&res, body, len, len, EXAMPLE_OBJECT_BYTES + 1, NULL, &s, NULL),
                 AUTH_ERR_INCOMPLETE_BODY, "less than x-amz-decoded-content-length");

    /* Chunks out of order: the chain of signatures refuses the swap. */
    char swapped[512];
    snprintf(swapped, sizeof swapped, "0;chunk-signature=" FINAL_SIG "\r\n\r\n");
    CHECK_EQ_INT(decode(&res, swapped, strlen(swapped), 1, 0, NULL, &s, NULL), AUTH_ERR_SIGNATURE,
                 "final chunk first");

    /* Bytes after the end. */
    char *longer = malloc(len + 2);
    memcpy(longer, body, len);
    memcpy(longer + len, "xx", 2);
    CHECK_EQ_INT(decode(&res, longer, len + 2, len + 2, EXAMPLE_OBJECT_BYTES, NULL, &s, NULL),
                 AUTH_ERR_CHUNK_MALFORMED, "trailing garbage");
    free(longer);
    free(body);
}

static void test_chunked_framing_is_bounded(void)
{
    auth_result_t res;
    CHECK_EQ_INT(example_seed(&res), AUTH_OK, "seed");
    static const char *const bad[] = {
        "zz;chunk-signature=" CHUNK1_SIG "\r\n",                /* not hex */
        "10000000000000000;chunk-signature=" CHUNK1_SIG "\r\n", /* > u64 */
        "140000001;chunk-signature=" CHUNK1_SIG "\r\n",         /* > 5 GiB */
        "10000;chunk-signature=" CHUNK1_SIG "\n",               /* bare LF */
        "10000\r\n",                                            /* unsigned chunk */
        "10000;chunk-signature=ABC\r\n",                        /* short signature */
        " 10000;chunk-signature=" CHUNK1_SIG "\r\n",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        sink_t s = {0};
        auth_rc_t rc = decode(&res, bad[i], strlen(bad[i]), 1, UINT64_MAX, NULL, &s, NULL);
        CHECK_EQ_INT(rc, AUTH_ERR_CHUNK_MALFORMED, "case %zu", i);
    }
    /* A line that never ends is refused once it passes the bound. */
    char *line = malloc(100000);
    memset(line, '1', 100000);
    auth_chunked_t *c = auth_chunked_new(&res, UINT64_MAX, NULL);
    CHECK_EQ_INT(auth_chunked_feed(c, line, 100000, sink, NULL), AUTH_ERR_CHUNK_MALFORMED,
                 "long line");
    CHECK_EQ_INT(auth_chunked_feed(c, "\r\n", 2, sink, NULL), AUTH_ERR_CHUNK_MALFORMED, "sticky");
    CHECK_EQ_INT(auth_chunked_finish(c), AUTH_ERR_CHUNK_MALFORMED, "finish keeps it");
    auth_chunked_free(c);
    free(line);

    auth_result_t plain = res;
    plain.payload = AUTH_PAYLOAD_SHA256;
    CHECK(auth_chunked_new(&plain, 0, NULL) == NULL, "not a streaming mode");
}

/* ---- aws-chunked: trailers ------------------------------------------------ */

static auth_rc_t unsigned_trailer_seed(auth_result_t *res, const char *trailer)
{
    auth_header_t h[] = {
        {"host", "localhost:9000"},
        {"x-amz-date", "20130524T000000Z"},
        {"x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"},
        {"x-amz-trailer", trailer},
        {"x-amz-decoded-content-length", "11"},
        {"authorization", ""},
    };
    const char *sh = "host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
                     "x-amz-trailer";
    auth_request_t req = {
        .method = "PUT", .raw_path = "/b/k", .headers = h, .nheaders = 5, .now_s = S3DOC_TIME_S};
    char *authz = auth_sign_header(&req, S3DOC_AKID, S3DOC_SECRET, "us-east-1", "s3",
                                   "20130524T000000Z", sh, "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
    h[5].value = authz;
    req.nheaders = 6;
    auth_rc_t rc = auth_sigv4_verify(&req, lookup, NULL, res);
    free(authz);
    return rc;
}

/* As the JS SDK v3 sends a stream body (NOTES item 3). */
static void test_unsigned_trailer_checksum(void)
{
    auth_result_t res;
    CHECK_EQ_INT(unsigned_trailer_seed(&res, "x-amz-checksum-crc32"), AUTH_OK, "seed");
    CHECK(res.payload == AUTH_PAYLOAD_STREAMING_UNSIGNED_TRAILER, "mode");

    static const struct {
        const char *body;
        auth_rc_t rc;
    } cases[] = {
        {"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n", AUTH_OK},
        {"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n", AUTH_OK},
        {"b;ext=1\r\nhello world\r\n0\r\nx-amz-checksum-crc32: DUoRhQ== \r\n\r\n", AUTH_OK},
        {"b\r\nhello world\r\n0\r\n\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n", AUTH_OK},
        {"b\r\nhello world\r\n0\r\nX-Amz-Checksum-CRC32:DUoRhQ==\r\n\r\n", AUTH_OK},
        {"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n", AUTH_ERR_BAD_DIGEST},
        {"b\r\nhello worle\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n", AUTH_ERR_BAD_DIGEST},
        {"b\r\nhello world\r\n0\r\n\r\n", AUTH_ERR_INCOMPLETE_BODY},
        {"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n", AUTH_ERR_INCOMPLETE_BODY},
        {"b\r\nhello world\r\n0\r\nx-amz-meta-a:1\r\n\r\n", AUTH_ERR_CHUNK_MALFORMED},
        {"b\r\nhello world\r\n0\r\nx-amz-trailer-signature:" FINAL_SIG "\r\n\r\n",
         AUTH_ERR_CHUNK_MALFORMED},
        {"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32\r\n\r\n", AUTH_ERR_CHUNK_MALFORMED},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        for (size_t step = 1; step <= 64; step *= 4) {
            char out[32];
            sink_t s = {.copy = out, .cap = sizeof out};
            auth_chunked_t *c = NULL;
            size_t len = strlen(cases[i].body);
            auth_rc_t rc =
                decode(&res, cases[i].body, len, step, 11, "x-amz-checksum-crc32", &s, &c);
            CHECK_EQ_INT(rc, cases[i].rc, "case %zu step %zu: %s", i, step, auth_rc_name(rc));
            if (rc == AUTH_OK) {
                CHECK(s.n == 11 && memcmp(out, "hello world", 11) == 0, "case %zu payload", i);
                CHECK_EQ_STR(auth_chunked_trailer(c, "x-amz-checksum-crc32"),
                             "DUoRhQ==", "case %zu trailer", i);
            }
            auth_chunked_free(c);
        }
    }
}

/* A test signer for STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, written from
 * AWS's description (sigv4-streaming, sigv4-streaming-trailers), independent
 * of auth/: chunk string to sign is "AWS4-HMAC-SHA256-PAYLOAD\n" date scope
 * previous-signature sha256("") sha256(chunk); the trailer's is
 * "AWS4-HMAC-SHA256-TRAILER\n" date scope previous-signature
 * sha256("name:value\n" for each trailer). */
typedef struct {
    uint8_t key[32];
    char prev[65];
} test_signer_t;

static void test_signer_init(test_signer_t *t, const char *secret, const char *seed)
{
    char k[128];
    uint8_t h[32];
    snprintf(k, sizeof k, "AWS4%s", secret);
    codec_hmac_sha256(k, strlen(k), "20130524", 8, h);
    codec_hmac_sha256(h, 32, "us-east-1", 9, h);
    codec_hmac_sha256(h, 32, "s3", 2, h);
    codec_hmac_sha256(h, 32, "aws4_request", 12, t->key);
    snprintf(t->prev, sizeof t->prev, "%s", seed);
}

static void test_signer_sign(test_signer_t *t, const char *algo, const char *last_line)
{
    char sts[512];
    uint8_t mac[32];
    int n = snprintf(sts, sizeof sts,
                     "%s\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n%s\n%s", algo,
                     t->prev, last_line);
    codec_hmac_sha256(t->key, 32, sts, (size_t)n, mac);
    codec_hex(mac, 32, t->prev);
}

static void test_signer_chunk(test_signer_t *t, const void *data, size_t n)
{
    char hex[65], tail[140];
    sha256_hex(data, n, hex);
    snprintf(tail, sizeof tail, "%s\n%s", EMPTY_SHA256, hex);
    test_signer_sign(t, "AWS4-HMAC-SHA256-PAYLOAD", tail);
}

static void test_signer_trailer(test_signer_t *t, const char *canonical_trailers)
{
    char hex[65];
    sha256_hex(canonical_trailers, strlen(canonical_trailers), hex);
    test_signer_sign(t, "AWS4-HMAC-SHA256-TRAILER", hex);
}

/* The AWS CRT's published trailer vector (aws-crt-swift ChunkSignerTests:
 * the S3 chunked example, then trailers first:1st second:2nd third:3rd)
 * proves the test signer's trailer format before it is trusted below. */
static void test_trailer_signature_matches_aws_crt_vector(void)
{
    test_signer_t t;
    test_signer_init(&t, S3DOC_SECRET, SEED_SIG);
    char *a = malloc(65536);
    memset(a, 'a', 65536);
    test_signer_chunk(&t, a, 65536);
    CHECK_EQ_STR(t.prev, CHUNK1_SIG, "chunk 1");
    test_signer_chunk(&t, a, 1024);
    CHECK_EQ_STR(t.prev, CHUNK2_SIG, "chunk 2");
    test_signer_chunk(&t, "", 0);
    CHECK_EQ_STR(t.prev, FINAL_SIG, "final chunk");
    test_signer_trailer(&t, "first:1st\nsecond:2nd\nthird:3rd\n");
    CHECK_EQ_STR(t.prev, "df5735bd9f3295cd9386572292562fefc93ba94e80a0a1ddcbd652c4e0a75e6c",
                 "trailer");
    free(a);

    /* The decoder on the same vector: the example chunks, then the trailers. */
    auth_result_t res;
    CHECK_EQ_INT(example_seed(&res), AUTH_OK, "seed");
    res.payload = AUTH_PAYLOAD_STREAMING_SIGNED_TRAILER;
    size_t len;
    char *body = example_body(&len, "first:1st\r\nsecond:2nd\r\nthird:3rd\r\n"
                                    "x-amz-trailer-signature:df5735bd9f3295cd9386572292562fefc93"
                                    "ba94e80a0a1ddcbd652c4e0a75e6c\r\n\r\n");
    sink_t s = {.all_a = true};
    CHECK_EQ_INT(decode(&res, body, len, 1, EXAMPLE_OBJECT_BYTES, "first,second,third", &s, NULL),
                 AUTH_OK, "decoder verifies the CRT trailer signature");
    body[len - 40] ^= 1;
    CHECK_EQ_INT(decode(&res, body, len, len, EXAMPLE_OBJECT_BYTES, "first,second,third", &s, NULL),
                 AUTH_ERR_SIGNATURE, "flipped trailer signature");
    free(body);
}

static auth_rc_t signed_trailer_seed(auth_result_t *res)
{
    auth_header_t h[] = {
        {"host", "localhost:9000"},
        {"x-amz-date", "20130524T000000Z"},
        {"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"},
        {"x-amz-trailer", "x-amz-checksum-crc32c"},
        {"x-amz-decoded-content-length", "20000"},
        {"authorization", ""},
    };
    const char *sh = "host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
                     "x-amz-trailer";
    auth_request_t req = {
        .method = "PUT", .raw_path = "/b/k", .headers = h, .nheaders = 5, .now_s = S3DOC_TIME_S};
    char *authz =
        auth_sign_header(&req, S3DOC_AKID, S3DOC_SECRET, "us-east-1", "s3", "20130524T000000Z", sh,
                         "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER");
    h[5].value = authz;
    req.nheaders = 6;
    auth_rc_t rc = auth_sigv4_verify(&req, lookup, NULL, res);
    free(authz);
    return rc;
}

/* Builds a signed-trailer body for `data` (two chunks and the final one)
 * with the test signer: `claimed` is the crc32c put on the wire, `signed_value`
 * the one the trailer signature covers (they differ to model tampering). */
static char *signed_trailer_body(const char *seed, const uint8_t *data, size_t n,
                                 const char *claimed, const char *signed_value, size_t *len)
{
    test_signer_t t;
    size_t half = n / 2, cap = n + 1024, off = 0;
    char *b = malloc(cap);
    test_signer_init(&t, S3DOC_SECRET, seed);
    test_signer_chunk(&t, data, half);
    off += (size_t)snprintf(b + off, cap - off, "%zx;chunk-signature=%s\r\n", half, t.prev);
    memcpy(b + off, data, half);
    off += half;
    test_signer_chunk(&t, data + half, n - half);
    off += (size_t)snprintf(b + off, cap - off, "\r\n%zx;chunk-signature=%s\r\n", n - half, t.prev);
    memcpy(b + off, data + half, n - half);
    off += n - half;
    test_signer_chunk(&t, "", 0);
    off += (size_t)snprintf(b + off, cap - off, "\r\n0;chunk-signature=%s\r\n", t.prev);
    char canon[128];
    snprintf(canon, sizeof canon, "x-amz-checksum-crc32c:%s\n", signed_value);
    test_signer_trailer(&t, canon);
    off += (size_t)snprintf(b + off, cap - off,
                            "x-amz-checksum-crc32c:%s\r\nx-amz-trailer-signature:%s\r\n\r\n",
                            claimed, t.prev);
    *len = off;
    return b;
}

static void test_signed_trailer_checksum(void)
{
    auth_result_t res;
    CHECK_EQ_INT(signed_trailer_seed(&res), AUTH_OK, "seed");
    CHECK(res.payload == AUTH_PAYLOAD_STREAMING_SIGNED_TRAILER, "mode");

    uint8_t *data = malloc(20000);
    for (size_t i = 0; i < 20000; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    ck_t ck;
    char good[CK_MAX_B64];
    ck_init(&ck, CK_CRC32C);
    ck_update(&ck, data, 20000);
    ck_final_b64(&ck, good);

    size_t len;
    char *body = signed_trailer_body(res.seed_signature, data, 20000, good, good, &len);
    for (size_t step = 1; step <= 30000; step *= 7) {
        sink_t s = {0};
        auth_chunked_t *c = NULL;
        auth_rc_t rc = decode(&res, body, len, step, 20000, "x-amz-checksum-crc32c", &s, &c);
        CHECK_EQ_INT(rc, AUTH_OK, "step %zu: %s", step, auth_rc_name(rc));
        CHECK(s.n == 20000, "payload length");
        CHECK_EQ_STR(auth_chunked_trailer(c, "x-amz-checksum-crc32c"), good, "trailer value");
        auth_chunked_free(c);
    }
    free(body);

    /* Correctly signed, but the checksum is not the payload's. */
    body = signed_trailer_body(res.seed_signature, data, 20000, "AAAAAA==", "AAAAAA==", &len);
    sink_t s = {0};
    CHECK_EQ_INT(decode(&res, body, len, len, 20000, "x-amz-checksum-crc32c", &s, NULL),
                 AUTH_ERR_BAD_DIGEST, "wrong trailing checksum");
    free(body);

    /* The value on the wire is not the one signed. */
    body = signed_trailer_body(res.seed_signature, data, 20000, "AAAAAA==", good, &len);
    CHECK_EQ_INT(decode(&res, body, len, 3, 20000, "x-amz-checksum-crc32c", &s, NULL),
                 AUTH_ERR_SIGNATURE, "trailer changed after signing");
    free(body);

    /* Trailer signature missing. */
    body = signed_trailer_body(res.seed_signature, data, 20000, good, good, &len);
    char *sig = memmem(body, len, "x-amz-trailer-signature:", 24);
    memcpy(sig, "\r\n", 2);
    len = (size_t)(sig - body) + 2;
    CHECK_EQ_INT(decode(&res, body, len, 5, 20000, "x-amz-checksum-crc32c", &s, NULL),
                 AUTH_ERR_INCOMPLETE_BODY, "no trailer signature");
    free(body);
    free(data);
}

/* ---- checksums -------------------------------------------------------------- */

static uint64_t final_u64(ck_t *c)
{
    uint8_t d[CK_MAX_DIGEST];
    size_t n = ck_final(c, d);
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | d[i];
    return v;
}

static void test_checksum_check_values(void)
{
    static const struct {
        ck_algo_t algo;
        uint64_t check; /* of "123456789" */
    } cases[] = {
        {CK_CRC32, 0xCBF43926},
        {CK_CRC32C, 0xE3069283},
        {CK_CRC64NVME, 0xAE8B14860A799888ULL},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        ck_t c;
        CHECK(ck_init(&c, cases[i].algo), "init");
        ck_update(&c, "123456789", 9);
        uint64_t v = final_u64(&c);
        CHECK(v == cases[i].check, "%s: %016" PRIx64, ck_algo_name(cases[i].algo), v);
        /* Byte by byte gives the same. */
        ck_init(&c, cases[i].algo);
        for (int k = 0; k < 9; k++)
            ck_update(&c, "123456789" + k, 1);
        CHECK(final_u64(&c) == cases[i].check, "%s bytewise", ck_algo_name(cases[i].algo));
    }
    CHECK(ck_crc64nvme(0, "123456789", 9) == 0xAE8B14860A799888ULL, "direct");
    CHECK(ck_crc64nvme(ck_crc64nvme(0, "1234", 4), "56789", 5) == 0xAE8B14860A799888ULL,
          "continued");

    static const struct {
        ck_algo_t algo;
        const char *in, *hex;
    } digests[] = {
        {CK_SHA256, "", EMPTY_SHA256},
        {CK_SHA256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {CK_SHA1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {CK_MD5, "", "d41d8cd98f00b204e9800998ecf8427e"},
    };
    for (size_t i = 0; i < ARRAY_LEN(digests); i++) {
        ck_t c;
        uint8_t d[CK_MAX_DIGEST];
        char hex[2 * CK_MAX_DIGEST + 1];
        CHECK(ck_init(&c, digests[i].algo), "init");
        ck_update(&c, digests[i].in, strlen(digests[i].in));
        size_t n = ck_final(&c, d);
        CHECK_EQ_INT(n, ck_digest_len(digests[i].algo), "len");
        codec_hex(d, n, hex);
        CHECK_EQ_STR(hex, digests[i].hex, "digest %zu", i);
    }
}

static void test_checksum_base64_and_names(void)
{
    ck_t c;
    char b64[CK_MAX_B64];
    ck_init(&c, CK_CRC32);
    ck_update(&c, "hello world", 11);
    ck_final_b64(&c, b64);
    CHECK_EQ_STR(b64, "DUoRhQ==", "crc32 of hello world");
    ck_init(&c, CK_SHA256);
    ck_final_b64(&c, b64);
    CHECK_EQ_STR(b64, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "sha256 of empty");
    CHECK(strlen(b64) + 1 == CK_MAX_B64, "longest fits exactly");

    CHECK(ck_algo_from_name("crc64nvme") == CK_CRC64NVME, "case-insensitive");
    CHECK(ck_algo_from_name("CRC32C") == CK_CRC32C, "crc32c");
    CHECK(ck_algo_from_name("MD5") == CK_NONE, "md5 is not a checksum algorithm");
    CHECK(ck_algo_from_name("crc") == CK_NONE, "unknown");
    CHECK_EQ_STR(ck_algo_header(CK_SHA1), "x-amz-checksum-sha1", "header");
    CHECK_EQ_STR(ck_algo_name(CK_CRC64NVME), "CRC64NVME", "name");
    CHECK(!ck_init(&c, CK_NONE), "none");
    ck_release(&c);
    ck_release(&c); /* idempotent */
}

static uint64_t crc_of(ck_algo_t a, const void *p, size_t n)
{
    ck_t c;
    ck_init(&c, a);
    ck_update(&c, p, n);
    return final_u64(&c);
}

static void test_crc_combine_equals_crc_of_concatenation(void)
{
    static const ck_algo_t algos[] = {CK_CRC32, CK_CRC32C, CK_CRC64NVME};
    static const size_t splits[] = {0, 1, 7, 8, 9, 1000, 4095, 4096};
    uint8_t *buf = malloc(4096);
    for (size_t i = 0; i < 4096; i++)
        buf[i] = (uint8_t)(i * 131 + (i >> 3));
    for (size_t a = 0; a < ARRAY_LEN(algos); a++) {
        uint64_t whole = crc_of(algos[a], buf, 4096);
        for (size_t s = 0; s < ARRAY_LEN(splits); s++) {
            size_t k = splits[s];
            uint64_t c1 = crc_of(algos[a], buf, k), c2 = crc_of(algos[a], buf + k, 4096 - k);
            uint64_t got = ck_crc_combine(algos[a], c1, c2, 4096 - k);
            CHECK(got == whole, "%s split %zu", ck_algo_name(algos[a]), k);
        }
    }
    free(buf);
}

/* Slice-by-8 against the one-bit-at-a-time definition, every alignment. */
static void test_crc64nvme_tables_match_bitwise_definition(void)
{
    uint8_t buf[80];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 37 + 11);
    for (size_t off = 0; off < 8; off++) {
        for (size_t n = 0; n + off <= sizeof buf; n++) {
            uint64_t c = ~0ULL;
            for (size_t i = 0; i < n; i++) {
                c ^= buf[off + i];
                for (int b = 0; b < 8; b++)
                    c = (c >> 1) ^ ((c & 1) ? 0x9a6c9329ac4bc9b5ULL : 0);
            }
            if (ck_crc64nvme(0, buf + off, n) != ~c) {
                CHECK(false, "off %zu n %zu", off, n);
                return;
            }
        }
    }
    CHECK(true, "all lengths and alignments");
}

int main(void)
{
    RUN(test_sigv4_suite_canonical_request_and_authorization);
    RUN(test_sigv4_suite_verifies);
    RUN(test_canonical_uri_modes);
    RUN(test_canonical_query_reencodes_and_sorts);
    RUN(test_s3_doc_get_object_header_example);
    RUN(test_s3_doc_presigned_get_example);
    RUN(test_presigned_with_content_sha256_in_query);
    RUN(test_header_auth_errors);
    RUN(test_other_region_verifies_and_is_reported);
    RUN(test_rc_names_are_complete);
    RUN(test_chunked_aws_example_verifies_whole_and_bytewise);
    RUN(test_chunked_tampering_and_truncation);
    RUN(test_chunked_framing_is_bounded);
    RUN(test_unsigned_trailer_checksum);
    RUN(test_trailer_signature_matches_aws_crt_vector);
    RUN(test_signed_trailer_checksum);
    RUN(test_checksum_check_values);
    RUN(test_checksum_base64_and_names);
    RUN(test_crc_combine_equals_crc_of_concatenation);
    RUN(test_crc64nvme_tables_match_bitwise_definition);
    return check_report();
}
