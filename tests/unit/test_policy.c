/* tests/unit/test_policy.c: IAM policy grammar, matching, conditions,
 * evaluation and the combination rule (auth/policy.c). */
#include "auth/policy.h"

#include "check.h"

#include <stdlib.h>

#define ACCT "123456789012"
#define OTHER_ACCT "210987654321"
#define ALICE "arn:aws:iam::" ACCT ":user/alice"
#define BOB "arn:aws:iam::" OTHER_ACCT ":user/bob"
#define MAX_CTX 4

enum {
    ALLOW = AUTH_POLICY_ALLOW,
    NONE = AUTH_POLICY_IMPLICIT_DENY,
    DENY = AUTH_POLICY_EXPLICIT_DENY
};

static auth_policy_t *parse_ok(const char *json, auth_policy_kind_t kind)
{
    auth_policy_t *p = NULL;
    char err[256];
    auth_policy_rc_t rc = auth_policy_parse(json, strlen(json), kind, &p, err, sizeof err);
    CHECK_EQ_INT(rc, AUTH_POLICY_OK, "parse: %s\n  %s", err, json);
    return p;
}

static auth_policy_effect_t eval_as(const auth_policy_t *p, const char *principal,
                                    const char *action, const char *resource)
{
    auth_policy_request_t rq = {.action = action, .resource = resource, .principal_arn = principal};
    return auth_policy_eval(p, &rq);
}

/* Long because it is one table: a row per way a document can be malformed,
 * each with the words S3 clients will see in <Message>. */
static void test_parse_rejects_each_malformed_shape(void)
{
    static const struct {
        const char *json;
        auth_policy_kind_t kind;
        const char *msg; /* substring of err */
    } cases[] = {
        {"", AUTH_POLICY_IDENTITY, "first byte"},
        {"[1]", AUTH_POLICY_IDENTITY, "first byte"},
        {"{\"Statement\":", AUTH_POLICY_IDENTITY, "valid JSON"},
        {"{}", AUTH_POLICY_IDENTITY, "Statement"},
        {"{\"Statement\":[]}", AUTH_POLICY_IDENTITY, "no statements"},
        {"{\"Statement\":\"x\"}", AUTH_POLICY_IDENTITY, "no statements"},
        {"{\"Version\":\"2020-01-01\",\"Statement\":{}}", AUTH_POLICY_IDENTITY, "version"},
        {"{\"Version\":1,\"Statement\":{}}", AUTH_POLICY_IDENTITY, "version"},
        {"{\"Foo\":1,\"Statement\":{}}", AUTH_POLICY_IDENTITY, "Unknown field Foo"},
        {"{\"Statement\":[1]}", AUTH_POLICY_IDENTITY, "object"},
        {"{\"Statement\":{\"Action\":\"s3:*\",\"Resource\":\"*\"}}", AUTH_POLICY_IDENTITY,
         "Effect"},
        {"{\"Statement\":{\"Effect\":\"allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}",
         AUTH_POLICY_IDENTITY, "effect"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Resource\":\"*\"}}", AUTH_POLICY_IDENTITY,
         "field Action"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\"}}", AUTH_POLICY_IDENTITY,
         "field Resource"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"NotAction\":\"s3:x\","
         "\"Resource\":\"*\"}}",
         AUTH_POLICY_IDENTITY, "NotAction"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":[],\"Resource\":\"*\"}}",
         AUTH_POLICY_IDENTITY, "invalid action"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"GetObject\",\"Resource\":\"*\"}}",
         AUTH_POLICY_IDENTITY, "invalid action"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":[\"s3:Get\",7],\"Resource\":\"*\"}}",
         AUTH_POLICY_IDENTITY, "invalid action"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:Get Object\",\"Resource\":\"*\"}}",
         AUTH_POLICY_IDENTITY, "invalid action"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"sqs:SendMessage\","
         "\"Resource\":\"*\"}}",
         AUTH_POLICY_BUCKET, "invalid action"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"bucket/*\"}}",
         AUTH_POLICY_IDENTITY, "invalid resource"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3\"}}",
         AUTH_POLICY_IDENTITY, "invalid resource"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\","
         "\"Resource\":\"*\"}}",
         AUTH_POLICY_IDENTITY, "should not specify a principal"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}",
         AUTH_POLICY_BUCKET, "field Principal"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"alice\",\"Action\":\"s3:*\","
         "\"Resource\":\"*\"}}",
         AUTH_POLICY_BUCKET, "Invalid principal"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::" ACCT
         ":user/*\"},\"Action\":\"s3:*\",\"Resource\":\"*\"}}",
         AUTH_POLICY_BUCKET, "Invalid principal"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"12345\"},"
         "\"Action\":\"s3:*\",\"Resource\":\"*\"}}",
         AUTH_POLICY_BUCKET, "Invalid principal"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":\"x\"},"
         "\"Action\":\"s3:*\",\"Resource\":\"*\"}}",
         AUTH_POLICY_BUCKET, "Invalid principal"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{},\"Action\":\"s3:*\","
         "\"Resource\":\"*\"}}",
         AUTH_POLICY_BUCKET, "Invalid principal"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\","
         "\"Condition\":{\"StringEqualz\":{\"s3:prefix\":\"a\"}}}}",
         AUTH_POLICY_IDENTITY, "condition operator"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\","
         "\"Condition\":{\"NullIfExists\":{\"s3:prefix\":\"true\"}}}}",
         AUTH_POLICY_IDENTITY, "condition operator"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\","
         "\"Condition\":{\"StringEquals\":\"a\"}}}",
         AUTH_POLICY_IDENTITY, "condition block"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\","
         "\"Condition\":{\"StringEquals\":{\"prefix\":\"a\"}}}}",
         AUTH_POLICY_IDENTITY, "condition key"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\","
         "\"Condition\":{\"NumericLessThan\":{\"s3:max-keys\":\"ten\"}}}}",
         AUTH_POLICY_IDENTITY, "condition value"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\","
         "\"Condition\":{\"NumericLessThan\":{\"s3:max-keys\":\"inf\"}}}}",
         AUTH_POLICY_IDENTITY, "condition value"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\","
         "\"Condition\":{\"DateLessThan\":{\"aws:CurrentTime\":\"yesterday\"}}}}",
         AUTH_POLICY_IDENTITY, "condition value"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\","
         "\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/33\"}}}}",
         AUTH_POLICY_IDENTITY, "condition value"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\","
         "\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"yes\"}}}}",
         AUTH_POLICY_IDENTITY, "condition value"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\","
         "\"Condition\":{\"StringEquals\":{\"s3:prefix\":[]}}}}",
         AUTH_POLICY_IDENTITY, "condition value"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\","
         "\"Condition\":{\"StringEquals\":{\"s3:prefix\":null}}}}",
         AUTH_POLICY_IDENTITY, "condition value"},
        {"{\"Statement\":{\"Sid\":1,\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}",
         AUTH_POLICY_IDENTITY, "Sid"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Effect\":\"Deny\",\"Action\":\"s3:*\","
         "\"Resource\":\"*\"}}",
         AUTH_POLICY_IDENTITY, "valid JSON"}, /* duplicate key */
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        auth_policy_t *p = (auth_policy_t *)&p; /* must be reset to NULL */
        char err[128] = "unset";
        auth_policy_rc_t rc = auth_policy_parse(cases[i].json, strlen(cases[i].json), cases[i].kind,
                                                &p, err, sizeof err);
        CHECK_EQ_INT(rc, AUTH_POLICY_MALFORMED, "case %zu: %s", i, cases[i].json);
        CHECK(p == NULL, "case %zu: out reset", i);
        CHECK(strstr(err, cases[i].msg) != NULL, "case %zu: err \"%s\" lacks \"%s\"", i, err,
              cases[i].msg);
    }
}

static void test_parse_limits(void)
{
    size_t n = AUTH_POLICY_MAX_BYTES + 1;
    char *big = malloc(n);
    CHECK(big != NULL, "malloc");
    if (!big)
        return;
    memset(big, 'x', n); /* counts even though it is not JSON */
    big[0] = '{';
    auth_policy_t *p = NULL;
    char err[128];
    CHECK_EQ_INT(auth_policy_parse(big, n, AUTH_POLICY_BUCKET, &p, err, sizeof err),
                 AUTH_POLICY_TOO_LARGE, "over the size limit");
    free(big);
    /* S3 counts the document without whitespace: indentation is free, up to
     * the raw ceiling. */
    static const char head[] = "{\"Statement\":";
    static const char tail[] = "{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}";
    size_t pad = AUTH_POLICY_MAX_BYTES, m = sizeof head - 1 + pad + sizeof tail - 1;
    big = malloc(m);
    CHECK(big != NULL, "malloc");
    if (!big)
        return;
    memcpy(big, head, sizeof head - 1);
    memset(big + sizeof head - 1, '\n', pad);
    memcpy(big + sizeof head - 1 + pad, tail, sizeof tail - 1);
    CHECK_EQ_INT(auth_policy_parse(big, m, AUTH_POLICY_BUCKET, &p, err, sizeof err),
                 AUTH_POLICY_MALFORMED, "indented past 20 KiB parses (then lacks Principal): %s",
                 err);
    CHECK(strstr(err, "Principal") != NULL, "indented: reached the statement: %s", err);
    free(big);
    big = malloc(AUTH_POLICY_MAX_RAW_BYTES + 1);
    CHECK(big != NULL, "malloc");
    if (!big)
        return;
    memset(big, ' ', AUTH_POLICY_MAX_RAW_BYTES + 1);
    big[0] = '{';
    CHECK_EQ_INT(auth_policy_parse(big, AUTH_POLICY_MAX_RAW_BYTES + 1, AUTH_POLICY_BUCKET, &p, err,
                                   sizeof err),
                 AUTH_POLICY_TOO_LARGE, "over the raw ceiling");
    free(big);
    /* Deep nesting is jansson's to bound; we must only refuse it cleanly. */
    char deep[4096];
    size_t k = 0;
    k += (size_t)snprintf(deep, sizeof deep, "{\"Statement\":");
    while (k < 2000)
        deep[k++] = '[';
    deep[k] = '\0';
    CHECK_EQ_INT(auth_policy_parse(deep, k, AUTH_POLICY_IDENTITY, &p, NULL, 0),
                 AUTH_POLICY_MALFORMED, "deep nesting, no err buffer");
    /* Too many variables in one value. */
    char vars[1024];
    k = (size_t)snprintf(vars, sizeof vars,
                         "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":"
                         "\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::b/");
    for (int i = 0; i < 40; i++)
        k += (size_t)snprintf(vars + k, sizeof vars - k, "${aws:username}");
    k += (size_t)snprintf(vars + k, sizeof vars - k, "\"}}");
    CHECK_EQ_INT(auth_policy_parse(vars, k, AUTH_POLICY_IDENTITY, &p, err, sizeof err),
                 AUTH_POLICY_MALFORMED, "40 variables");
    auth_policy_free(NULL);
}

static void test_read_only_identity_policy(void)
{
    auth_policy_t *p = parse_ok(
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"ReadOnly\",\"Effect\":\"Allow\","
        "\"Action\":[\"s3:Get*\",\"s3:List*\"],"
        "\"Resource\":[\"arn:aws:s3:::photos\",\"arn:aws:s3:::photos/*\"]}]}",
        AUTH_POLICY_IDENTITY);
    static const struct {
        const char *action, *resource;
        int want;
    } cases[] = {
        {"s3:ListBucket", "arn:aws:s3:::photos", ALLOW},
        {"s3:GetObject", "arn:aws:s3:::photos/2024/a b.jpg", ALLOW},
        {"S3:getobject", "arn:aws:s3:::photos/x", ALLOW}, /* actions ignore case */
        {"s3:GetObject", "arn:aws:s3:::Photos/x", NONE},  /* resources do not */
        {"s3:GetObject", "arn:aws:s3:::photos-other/x", NONE},
        {"s3:PutObject", "arn:aws:s3:::photos/x", NONE},
        {"s3:DeleteObject", "arn:aws:s3:::photos/x", NONE},
        {"s3:ListAllMyBuckets", NULL, NONE}, /* only Resource "*" covers no resource */
        {NULL, "arn:aws:s3:::photos", NONE},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        CHECK_EQ_INT(eval_as(p, ALICE, cases[i].action, cases[i].resource), cases[i].want,
                     "case %zu: %s", i, cases[i].action ? cases[i].action : "(null)");
    CHECK_EQ_INT(auth_policy_kind(p), AUTH_POLICY_IDENTITY, "kind");
    CHECK_EQ_INT(auth_policy_eval(NULL, NULL), NONE, "NULL policy");
    auth_policy_free(p);
}

static void test_deny_in_one_policy_overrides_allow_in_another(void)
{
    auth_policy_t *allow = parse_ok("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\","
                                    "\"Resource\":\"*\"}}",
                                    AUTH_POLICY_IDENTITY);
    auth_policy_t *deny =
        parse_ok("{\"Statement\":{\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"" ALICE "\"},"
                 "\"Action\":\"s3:Delete*\",\"Resource\":\"arn:aws:s3:::photos/*\"}}",
                 AUTH_POLICY_BUCKET);
    const auth_policy_t *both[] = {allow, NULL, deny};
    auth_policy_request_t rq = {
        .action = "s3:DeleteObject", .resource = "arn:aws:s3:::photos/k", .principal_arn = ALICE};
    CHECK_EQ_INT(auth_policy_decide(both, 3, &rq), DENY, "deny wins");
    rq.action = "s3:PutObject";
    CHECK_EQ_INT(auth_policy_decide(both, 3, &rq), ALLOW, "allow elsewhere");
    rq.principal_arn = BOB;
    rq.action = "s3:DeleteObject";
    CHECK_EQ_INT(auth_policy_decide(both, 3, &rq), ALLOW, "deny names alice only");
    CHECK_EQ_INT(auth_policy_decide(both + 2, 1, &rq), NONE, "implicit deny");
    CHECK_EQ_INT(auth_policy_decide(both, 0, &rq), NONE, "no policies");
    auth_policy_free(allow);
    auth_policy_free(deny);
}

static void test_not_action_and_not_resource(void)
{
    auth_policy_t *p = parse_ok(
        "{\"Statement\":[{\"Effect\":\"Allow\",\"NotAction\":[\"s3:Delete*\",\"s3:Put*Acl\"],"
        "\"Resource\":\"*\"},{\"Effect\":\"Deny\",\"Action\":\"*\","
        "\"NotResource\":[\"arn:aws:s3:::pub\",\"arn:aws:s3:::pub/*\"]}]}",
        AUTH_POLICY_IDENTITY);
    CHECK_EQ_INT(eval_as(p, ALICE, "s3:GetObject", "arn:aws:s3:::pub/a"), ALLOW, "not excluded");
    CHECK_EQ_INT(eval_as(p, ALICE, "s3:DeleteObject", "arn:aws:s3:::pub/a"), NONE, "NotAction");
    CHECK_EQ_INT(eval_as(p, ALICE, "s3:PutObjectAcl", "arn:aws:s3:::pub/a"), NONE, "wild middle");
    CHECK_EQ_INT(eval_as(p, ALICE, "s3:PutObject", "arn:aws:s3:::pub/a"), ALLOW, "not Acl");
    CHECK_EQ_INT(eval_as(p, ALICE, "s3:GetObject", "arn:aws:s3:::priv/a"), DENY, "NotResource");
    auth_policy_free(p);
}

static void test_wildcards_in_actions_and_arns(void)
{
    static const struct {
        const char *pattern, *resource;
        int want;
    } cases[] = {
        {"*", "arn:aws:s3:::b/k", ALLOW},
        {"arn:aws:s3:::b/*", "arn:aws:s3:::b/a/b/c:d", ALLOW}, /* * crosses / and : */
        {"arn:aws:s3:::b/*", "arn:aws:s3:::b", NONE},
        {"arn:aws:s3:::b?/*", "arn:aws:s3:::b1/k", ALLOW},
        {"arn:aws:s3:::b?/*", "arn:aws:s3:::b/k", NONE},
        {"arn:aws:s3:::*/k", "arn:aws:s3:::b/x/k", ALLOW},
        {"arn:*:s3:::b", "arn:aws:s3:::b", ALLOW},
        {"arn:aws:*:::b", "arn:aws:s3:r::b", NONE},  /* `*` may not eat the region's colon */
        {"arn:a*:*:*:*:b", "arn:aws:s3:::b", ALLOW}, /* fields may be empty */
        {"arn:aws:s3:*:*:b*k", "arn:aws:s3:::b:k", ALLOW},
        {"arn:aws:s3:::b/**?", "arn:aws:s3:::b/", NONE},
        {"arn:aws:s3:::b/*a*a*a*b", "arn:aws:s3:::b/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NONE},
    };
    char json[512];
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        (void)snprintf(json, sizeof json,
                       "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:Get?bject\","
                       "\"Resource\":\"%s\"}}",
                       cases[i].pattern);
        auth_policy_t *p = parse_ok(json, AUTH_POLICY_IDENTITY);
        CHECK_EQ_INT(eval_as(p, ALICE, "s3:GetObject", cases[i].resource), cases[i].want,
                     "case %zu: %s vs %s", i, cases[i].pattern, cases[i].resource);
        CHECK_EQ_INT(eval_as(p, ALICE, "s3:GetObjects", cases[i].resource), NONE, "case %zu ?", i);
        auth_policy_free(p);
    }
}

static void test_principal_variants(void)
{
    static const struct {
        const char *principal; /* the JSON after "Principal": or "NotPrincipal": */
        bool not ;
        const char *caller, *account, *service;
        int want;
    } cases[] = {
        {"\"*\"", false, NULL, NULL, NULL, ALLOW}, /* anonymous */
        {"\"*\"", false, ALICE, NULL, NULL, ALLOW},
        {"{\"AWS\":\"*\"}", false, NULL, NULL, NULL, ALLOW},
        {"{\"AWS\":\"" ACCT "\"}", false, ALICE, NULL, NULL, ALLOW}, /* account from ARN */
        {"{\"AWS\":\"" ACCT "\"}", false, BOB, NULL, NULL, NONE},
        {"{\"AWS\":\"" ACCT "\"}", false, NULL, NULL, NULL, NONE},
        {"{\"AWS\":\"arn:aws:iam::" ACCT ":root\"}", false, "arn:aws:iam::" ACCT ":role/r", ACCT,
         NULL, ALLOW},
        {"{\"AWS\":[\"" BOB "\",\"" ALICE "\"]}", false, ALICE, ACCT, NULL, ALLOW},
        {"{\"AWS\":\"" ALICE "\"}", false, "arn:aws:iam::" ACCT ":user/alicia", ACCT, NULL, NONE},
        {"{\"AWS\":\"" ALICE "\"}", false, NULL, NULL, NULL, NONE},
        {"{\"Service\":\"s3.amazonaws.com\"}", false, NULL, NULL, "S3.amazonaws.com", ALLOW},
        {"{\"Service\":\"s3.amazonaws.com\"}", false, ALICE, ACCT, NULL, NONE},
        {"{\"CanonicalUser\":\"79a59df900b949e55d96a1e698fbaced\"}", false, ALICE, ACCT, NULL,
         NONE},
        {"{\"AWS\":\"" ALICE "\"}", true, BOB, OTHER_ACCT, NULL, ALLOW},
        {"{\"AWS\":\"" ALICE "\"}", true, NULL, NULL, NULL, ALLOW}, /* anonymous is not alice */
        {"{\"AWS\":\"" ALICE "\"}", true, ALICE, ACCT, NULL, NONE},
        {"\"*\"", true, NULL, NULL, NULL, NONE},
    };
    char json[512];
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        (void)snprintf(json, sizeof json,
                       "{\"Statement\":{\"Effect\":\"Allow\",\"%s\":%s,"
                       "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}}",
                       cases[i].not ? "NotPrincipal" : "Principal", cases[i].principal);
        auth_policy_t *p = parse_ok(json, AUTH_POLICY_BUCKET);
        auth_policy_request_t rq = {.action = "s3:GetObject",
                                    .resource = "arn:aws:s3:::b/k",
                                    .principal_arn = cases[i].caller,
                                    .principal_account = cases[i].account,
                                    .principal_service = cases[i].service};
        CHECK_EQ_INT(auth_policy_eval(p, &rq), cases[i].want, "case %zu: %s", i, json);
        auth_policy_free(p);
    }
}

/* One condition block against one request context. */
typedef struct {
    const char *cond; /* JSON object after "Condition": */
    auth_policy_kv_t ctx[MAX_CTX];
    int want;
} cond_case_t;

static void run_cond_cases(const char *family, const cond_case_t *cases, size_t n)
{
    char json[1024];
    for (size_t i = 0; i < n; i++) {
        (void)snprintf(json, sizeof json,
                       "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
                       "\"Action\":\"s3:*\",\"Resource\":\"*\",\"Condition\":%s}}",
                       cases[i].cond);
        auth_policy_t *p = parse_ok(json, AUTH_POLICY_IDENTITY);
        size_t nctx = 0;
        while (nctx < MAX_CTX && cases[i].ctx[nctx].name)
            nctx++;
        auth_policy_request_t rq = {.action = "s3:ListBucket",
                                    .resource = "arn:aws:s3:::b",
                                    .principal_arn = ALICE,
                                    .ctx = cases[i].ctx,
                                    .nctx = nctx};
        CHECK_EQ_INT(auth_policy_eval(p, &rq), cases[i].want, "%s case %zu: %s", family, i,
                     cases[i].cond);
        auth_policy_free(p);
    }
}

static void test_string_conditions(void)
{
    static const cond_case_t cases[] = {
        {"{\"StringEquals\":{\"s3:prefix\":\"home/\"}}", {{"s3:prefix", "home/"}}, ALLOW},
        {"{\"StringEquals\":{\"s3:prefix\":\"home/\"}}", {{"s3:prefix", "Home/"}}, NONE},
        {"{\"StringEquals\":{\"S3:Prefix\":[\"a\",\"home/\"]}}", {{"s3:prefix", "home/"}}, ALLOW},
        {"{\"StringEquals\":{\"s3:prefix\":\"h*\"}}", {{"s3:prefix", "home/"}}, NONE},
        {"{\"StringEquals\":{\"s3:prefix\":\"h*\"}}", {{"s3:prefix", "h*"}}, ALLOW},
        {"{\"StringNotEquals\":{\"s3:prefix\":[\"a\",\"b\"]}}", {{"s3:prefix", "c"}}, ALLOW},
        {"{\"StringNotEquals\":{\"s3:prefix\":[\"a\",\"b\"]}}", {{"s3:prefix", "b"}}, NONE},
        {"{\"StringNotEquals\":{\"s3:prefix\":\"a\"}}", {{NULL, NULL}}, ALLOW}, /* missing key */
        {"{\"StringEquals\":{\"s3:prefix\":\"a\"}}", {{NULL, NULL}}, NONE},
        {"{\"StringEqualsIgnoreCase\":{\"s3:prefix\":\"HOME/\"}}", {{"s3:prefix", "home/"}}, ALLOW},
        {"{\"StringNotEqualsIgnoreCase\":{\"s3:prefix\":\"HOME/\"}}",
         {{"s3:prefix", "home/"}},
         NONE},
        {"{\"StringLike\":{\"s3:prefix\":[\"\",\"home/*\"]}}", {{"s3:prefix", "home/x/y"}}, ALLOW},
        {"{\"StringLike\":{\"s3:prefix\":\"home/*\"}}", {{"s3:prefix", "HOME/x"}}, NONE},
        {"{\"StringLike\":{\"s3:prefix\":\"\"}}", {{"s3:prefix", ""}}, ALLOW},
        {"{\"StringNotLike\":{\"s3:prefix\":\"secret/*\"}}", {{"s3:prefix", "home/"}}, ALLOW},
        {"{\"StringNotLike\":{\"s3:prefix\":\"secret/*\"}}", {{"s3:prefix", "secret/a"}}, NONE},
        /* two keys in one operator AND; two operators AND */
        {"{\"StringEquals\":{\"s3:prefix\":\"a\",\"s3:delimiter\":\"/\"}}",
         {{"s3:prefix", "a"}, {"s3:delimiter", "/"}},
         ALLOW},
        {"{\"StringEquals\":{\"s3:prefix\":\"a\",\"s3:delimiter\":\"/\"}}",
         {{"s3:prefix", "a"}},
         NONE},
        {"{\"StringEquals\":{\"s3:prefix\":\"a\"},\"StringLike\":{\"s3:delimiter\":\"?\"}}",
         {{"s3:prefix", "a"}, {"s3:delimiter", "//"}},
         NONE},
        {"{\"StringEquals\":{\"s3:ExistingObjectTag/Project\":\"blue\"}}",
         {{"s3:existingobjecttag/project", "blue"}},
         ALLOW},
        {"{\"StringEquals\":{\"s3:ExistingObjectTag/Project\":\"blue\"}}",
         {{"s3:ExistingObjectTag/Other", "blue"}},
         NONE},
        {"{\"StringEquals\":{\"s3:RequestObjectTag/Class\":[\"public\"]}}",
         {{"s3:RequestObjectTag/Class", "public"}},
         ALLOW},
        {"{\"BinaryEquals\":{\"aws:x\":\"QmluYXJ5\"}}", {{"aws:x", "QmluYXJ5"}}, ALLOW},
    };
    run_cond_cases("string", cases, ARRAY_LEN(cases));
}

static void test_numeric_date_bool_conditions(void)
{
    static const cond_case_t cases[] = {
        {"{\"NumericLessThanEquals\":{\"s3:max-keys\":\"10\"}}", {{"s3:max-keys", "10"}}, ALLOW},
        {"{\"NumericLessThanEquals\":{\"s3:max-keys\":10}}", {{"s3:max-keys", "11"}}, NONE},
        {"{\"NumericLessThan\":{\"s3:max-keys\":\"10\"}}", {{"s3:max-keys", "9.5"}}, ALLOW},
        {"{\"NumericGreaterThan\":{\"s3:max-keys\":\"10\"}}", {{"s3:max-keys", "1e2"}}, ALLOW},
        {"{\"NumericGreaterThanEquals\":{\"s3:max-keys\":\"10\"}}", {{"s3:max-keys", "9"}}, NONE},
        {"{\"NumericEquals\":{\"s3:max-keys\":[\"5\",\"10\"]}}", {{"s3:max-keys", "10.0"}}, ALLOW},
        {"{\"NumericNotEquals\":{\"s3:max-keys\":\"10\"}}", {{"s3:max-keys", "11"}}, ALLOW},
        {"{\"NumericNotEquals\":{\"s3:max-keys\":\"10\"}}", {{"s3:max-keys", "ten"}}, NONE},
        {"{\"NumericLessThan\":{\"s3:max-keys\":\"10\"}}", {{"s3:max-keys", "abc"}}, NONE},
        {"{\"DateLessThan\":{\"aws:CurrentTime\":\"2025-01-01T00:00:00Z\"}}",
         {{"aws:CurrentTime", "2024-12-31T23:59:59Z"}},
         ALLOW},
        {"{\"DateLessThan\":{\"aws:CurrentTime\":\"2025-01-01\"}}",
         {{"aws:CurrentTime", "2025-01-01T00:00:00Z"}},
         NONE},
        {"{\"DateGreaterThanEquals\":{\"aws:CurrentTime\":\"1735689600\"}}",
         {{"aws:CurrentTime", "2025-01-01T01:00:00+01:00"}},
         ALLOW},
        {"{\"DateEquals\":{\"aws:EpochTime\":\"2025-01-01T00:00:00Z\"}}",
         {{"aws:EpochTime", "1735689600"}},
         ALLOW},
        {"{\"DateNotEquals\":{\"aws:CurrentTime\":\"2025-01-01T00:00:00\"}}",
         {{"aws:CurrentTime", "2025-01-01T00:00:00.000Z"}},
         NONE},
        {"{\"DateGreaterThan\":{\"aws:CurrentTime\":\"2025-01-01T00:00:00Z\"}}",
         {{"aws:CurrentTime", "not a date"}},
         NONE},
        {"{\"DateLessThanEquals\":{\"aws:CurrentTime\":\"2025-01-01T00:00:00Z\"}}",
         {{"aws:CurrentTime", "2025-01-01T00:00:00Z"}},
         ALLOW},
        {"{\"Bool\":{\"aws:SecureTransport\":\"true\"}}", {{"aws:SecureTransport", "true"}}, ALLOW},
        {"{\"Bool\":{\"aws:SecureTransport\":true}}", {{"aws:SecureTransport", "false"}}, NONE},
        {"{\"Bool\":{\"aws:SecureTransport\":\"false\"}}",
         {{"aws:SecureTransport", "FALSE"}},
         ALLOW},
        {"{\"Bool\":{\"aws:SecureTransport\":\"false\"}}", {{NULL, NULL}}, NONE},
        {"{\"BoolIfExists\":{\"aws:SecureTransport\":\"false\"}}", {{NULL, NULL}}, ALLOW},
    };
    run_cond_cases("numeric/date/bool", cases, ARRAY_LEN(cases));
}

static void test_ip_arn_null_conditions(void)
{
    static const cond_case_t cases[] = {
        {"{\"IpAddress\":{\"aws:SourceIp\":\"192.0.2.0/24\"}}",
         {{"aws:SourceIp", "192.0.2.77"}},
         ALLOW},
        {"{\"IpAddress\":{\"aws:SourceIp\":\"192.0.2.0/24\"}}",
         {{"aws:SourceIp", "192.0.3.1"}},
         NONE},
        {"{\"IpAddress\":{\"aws:SourceIp\":\"192.0.2.0/24\"}}",
         {{"aws:SourceIp", "::ffff:192.0.2.9"}},
         ALLOW},
        {"{\"IpAddress\":{\"aws:SourceIp\":[\"10.0.0.0/8\",\"2001:db8::/32\"]}}",
         {{"aws:SourceIp", "2001:db8:1::5"}},
         ALLOW},
        {"{\"IpAddress\":{\"aws:SourceIp\":\"2001:db8::/33\"}}",
         {{"aws:SourceIp", "2001:db8:8000::1"}},
         NONE},
        {"{\"IpAddress\":{\"aws:SourceIp\":\"203.0.113.5\"}}",
         {{"aws:SourceIp", "203.0.113.5"}},
         ALLOW},
        {"{\"IpAddress\":{\"aws:SourceIp\":\"0.0.0.0/0\"}}", {{"aws:SourceIp", "::1"}}, NONE},
        {"{\"IpAddress\":{\"aws:SourceIp\":\"::/0\"}}", {{"aws:SourceIp", "::1"}}, ALLOW},
        {"{\"NotIpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}",
         {{"aws:SourceIp", "11.0.0.1"}},
         ALLOW},
        {"{\"NotIpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}",
         {{"aws:SourceIp", "10.9.9.9"}},
         NONE},
        {"{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}",
         {{"aws:SourceIp", "10.0.0.1/8"}},
         NONE},
        {"{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:s3:::logs-*\"}}",
         {{"aws:SourceArn", "arn:aws:s3:::logs-2024"}},
         ALLOW},
        {"{\"ArnEquals\":{\"aws:SourceArn\":\"arn:aws:iam::*:user/*\"}}",
         {{"aws:SourceArn", "arn:aws:iam::" ACCT ":user/a/b"}},
         ALLOW},
        {"{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:iam::*:user/*\"}}",
         {{"aws:SourceArn", "arn:aws:iam:x:" ACCT ":user/a"}},
         NONE}, /* * stays in its field */
        {"{\"ArnNotLike\":{\"aws:SourceArn\":\"arn:aws:s3:::logs-*\"}}",
         {{"aws:SourceArn", "arn:aws:s3:::data"}},
         ALLOW},
        {"{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:s3:::logs-*\"}}",
         {{"aws:SourceArn", "logs-1"}},
         NONE},
        {"{\"Null\":{\"s3:x-amz-server-side-encryption\":\"true\"}}", {{NULL, NULL}}, ALLOW},
        {"{\"Null\":{\"s3:x-amz-server-side-encryption\":true}}",
         {{"s3:x-amz-server-side-encryption", "AES256"}},
         NONE},
        {"{\"Null\":{\"s3:x-amz-server-side-encryption\":\"false\"}}",
         {{"s3:x-amz-server-side-encryption", "AES256"}},
         ALLOW},
        {"{\"Null\":{\"s3:x-amz-server-side-encryption\":\"false\"}}", {{NULL, NULL}}, NONE},
    };
    run_cond_cases("ip/arn/null", cases, ARRAY_LEN(cases));
}

static void test_if_exists_and_set_operators(void)
{
    static const cond_case_t cases[] = {
        {"{\"StringEqualsIfExists\":{\"s3:x-amz-acl\":\"private\"}}", {{NULL, NULL}}, ALLOW},
        {"{\"StringEqualsIfExists\":{\"s3:x-amz-acl\":\"private\"}}",
         {{"s3:x-amz-acl", "public-read"}},
         NONE},
        {"{\"NumericLessThanIfExists\":{\"s3:max-keys\":\"10\"}}", {{"s3:max-keys", "5"}}, ALLOW},
        {"{\"ForAnyValue:StringEquals\":{\"aws:TagKeys\":[\"a\",\"b\"]}}",
         {{"aws:TagKeys", "z"}, {"aws:TagKeys", "b"}},
         ALLOW},
        {"{\"ForAnyValue:StringEquals\":{\"aws:TagKeys\":[\"a\",\"b\"]}}",
         {{"aws:TagKeys", "z"}},
         NONE},
        {"{\"ForAnyValue:StringEquals\":{\"aws:TagKeys\":\"a\"}}", {{NULL, NULL}}, NONE},
        {"{\"ForAllValues:StringEquals\":{\"aws:TagKeys\":[\"a\",\"b\"]}}",
         {{"aws:TagKeys", "a"}, {"aws:TagKeys", "b"}},
         ALLOW},
        {"{\"ForAllValues:StringEquals\":{\"aws:TagKeys\":[\"a\",\"b\"]}}",
         {{"aws:TagKeys", "a"}, {"aws:TagKeys", "c"}},
         NONE},
        {"{\"ForAllValues:StringEquals\":{\"aws:TagKeys\":[\"a\",\"b\"]}}",
         {{NULL, NULL}},
         ALLOW}, /* vacuously true, as AWS warns */
        {"{\"ForAnyValue:StringNotEquals\":{\"aws:TagKeys\":\"a\"}}",
         {{"aws:TagKeys", "a"}, {"aws:TagKeys", "c"}},
         ALLOW},
        {"{\"ForAllValues:StringNotLike\":{\"aws:TagKeys\":\"secret*\"}}",
         {{"aws:TagKeys", "a"}, {"aws:TagKeys", "secret-x"}},
         NONE},
        {"{\"forallvalues:stringlike\":{\"aws:TagKeys\":\"x-*\"}}",
         {{"aws:TagKeys", "x-1"}},
         ALLOW},
        {"{\"StringNotEquals\":{\"aws:TagKeys\":\"a\"}}",
         {{"aws:TagKeys", "b"}, {"aws:TagKeys", "a"}},
         NONE}, /* no value may match */
    };
    run_cond_cases("ifexists/sets", cases, ARRAY_LEN(cases));
}

static void test_policy_variables(void)
{
    auth_policy_t *p = parse_ok(
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
        "\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::home/${aws:username}/*\"},"
        "{\"Effect\":\"Allow\",\"Action\":\"s3:ListBucket\",\"Resource\":\"arn:aws:s3:::home\","
        "\"Condition\":{\"StringLike\":{\"s3:prefix\":[\"${aws:username}/*\","
        "\"${aws:PrincipalTag/team, 'shared'}/*\"]}}},"
        "{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\","
        "\"Resource\":\"arn:aws:s3:::lit/${*}${?}${$}\"}]}",
        AUTH_POLICY_IDENTITY);
    auth_policy_kv_t ctx[] = {{"aws:username", "alice"}, {"s3:prefix", "alice/docs"}};
    auth_policy_request_t rq = {.action = "s3:PutObject",
                                .resource = "arn:aws:s3:::home/alice/f.txt",
                                .principal_arn = ALICE,
                                .ctx = ctx,
                                .nctx = 1};
    CHECK_EQ_INT(auth_policy_eval(p, &rq), ALLOW, "own home");
    rq.resource = "arn:aws:s3:::home/bob/f.txt";
    CHECK_EQ_INT(auth_policy_eval(p, &rq), NONE, "other home");
    rq.nctx = 0;
    rq.resource = "arn:aws:s3:::home//f.txt";
    CHECK_EQ_INT(auth_policy_eval(p, &rq), NONE, "missing variable matches nothing");
    /* a username holding a wildcard is literal text */
    auth_policy_kv_t star[] = {{"aws:username", "*"}};
    rq.ctx = star;
    rq.nctx = 1;
    rq.resource = "arn:aws:s3:::home/bob/f.txt";
    CHECK_EQ_INT(auth_policy_eval(p, &rq), NONE, "substituted * is literal");
    rq.resource = "arn:aws:s3:::home/*/f.txt";
    CHECK_EQ_INT(auth_policy_eval(p, &rq), ALLOW, "literal * matches itself");

    rq.action = "s3:ListBucket";
    rq.resource = "arn:aws:s3:::home";
    rq.ctx = ctx;
    rq.nctx = 2;
    CHECK_EQ_INT(auth_policy_eval(p, &rq), ALLOW, "prefix under own name");
    auth_policy_kv_t shared[] = {{"aws:username", "alice"}, {"s3:prefix", "shared/x"}};
    rq.ctx = shared;
    CHECK_EQ_INT(auth_policy_eval(p, &rq), ALLOW, "default value");
    auth_policy_kv_t team[] = {
        {"aws:username", "alice"}, {"s3:prefix", "shared/x"}, {"aws:principaltag/team", "blue"}};
    rq.ctx = team;
    rq.nctx = 3;
    CHECK_EQ_INT(auth_policy_eval(p, &rq), NONE, "default replaced by the tag");

    rq.action = "s3:GetObject";
    rq.nctx = 0;
    rq.resource = "arn:aws:s3:::lit/*?$";
    CHECK_EQ_INT(auth_policy_eval(p, &rq), ALLOW, "escapes are literal");
    rq.resource = "arn:aws:s3:::lit/ab$";
    CHECK_EQ_INT(auth_policy_eval(p, &rq), NONE, "escapes are not wildcards");
    auth_policy_free(p);

    /* Version 2008-10-17 (or none) has no variables: the text is literal. */
    p = parse_ok("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\","
                 "\"Resource\":\"arn:aws:s3:::home/${aws:username}/*\"}}",
                 AUTH_POLICY_IDENTITY);
    rq.ctx = ctx;
    rq.nctx = 1;
    rq.resource = "arn:aws:s3:::home/alice/f";
    CHECK_EQ_INT(auth_policy_eval(p, &rq), NONE, "2008: not substituted");
    rq.resource = "arn:aws:s3:::home/${aws:username}/f";
    CHECK_EQ_INT(auth_policy_eval(p, &rq), ALLOW, "2008: literal");
    auth_policy_free(p);
}

static void test_resource_policy_kinds(void)
{
    auth_policy_t *p = parse_ok(
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Deny\",\"Principal\":\"*\","
        "\"Action\":\"backup:DeleteRecoveryPoint\",\"Resource\":\"*\"}}",
        AUTH_POLICY_VAULT);
    CHECK_EQ_INT(eval_as(p, ALICE, "backup:DeleteRecoveryPoint", "arn:aws:backup:::x"), DENY,
                 "vault deny");
    auth_policy_free(p);
    p = parse_ok("{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" ACCT "\"},"
                 "\"Action\":[\"s3tables:Get*\",\"*\"],\"Resource\":\"*\"}}",
                 AUTH_POLICY_TABLE_BUCKET);
    auth_policy_free(p);
    auth_policy_t *q = NULL;
    const char *bad = "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\","
                      "\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}}";
    CHECK_EQ_INT(auth_policy_parse(bad, strlen(bad), AUTH_POLICY_VAULT, &q, NULL, 0),
                 AUTH_POLICY_MALFORMED, "s3 action in a vault policy");
}

static void test_bucket_policy_public_status(void)
{
    static const struct {
        const char *statement;
        bool is_public;
    } cases[] = {
        {"{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
         "\"Resource\":\"arn:aws:s3:::b/*\"}",
         true},
        {"{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" ACCT "\"},\"Action\":\"s3:*\","
         "\"Resource\":\"*\"}",
         false},
        {"{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"*\"}", false},
        {"{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"*\","
         "\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"192.0.2.0/24\"}}}",
         false},
        {"{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"*\","
         "\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"0.0.0.0/1\"}}}",
         true},
        {"{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"*\","
         "\"Condition\":{\"StringEquals\":{\"aws:SourceAccount\":\"" ACCT "\"}}}",
         false},
        {"{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"*\","
         "\"Condition\":{\"StringLike\":{\"aws:PrincipalArn\":\"arn:aws:iam::*\"}}}",
         true},
        {"{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"*\","
         "\"Condition\":{\"StringEquals\":{\"s3:prefix\":\"a\"}}}",
         true},
        {"{\"Effect\":\"Allow\",\"NotPrincipal\":{\"AWS\":\"" ALICE "\"},\"Action\":\"s3:*\","
         "\"Resource\":\"*\"}",
         true},
    };
    char json[1024];
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        (void)snprintf(json, sizeof json, "{\"Version\":\"2012-10-17\",\"Statement\":[%s]}",
                       cases[i].statement);
        auth_policy_t *p = parse_ok(json, AUTH_POLICY_BUCKET);
        CHECK_EQ_INT(auth_policy_is_public(p), cases[i].is_public, "case %zu: %s", i,
                     cases[i].statement);
        auth_policy_free(p);
    }
    CHECK(!auth_policy_is_public(NULL), "NULL");
}

int main(void)
{
    RUN(test_parse_rejects_each_malformed_shape);
    RUN(test_parse_limits);
    RUN(test_read_only_identity_policy);
    RUN(test_deny_in_one_policy_overrides_allow_in_another);
    RUN(test_not_action_and_not_resource);
    RUN(test_wildcards_in_actions_and_arns);
    RUN(test_principal_variants);
    RUN(test_string_conditions);
    RUN(test_numeric_date_bool_conditions);
    RUN(test_ip_arn_null_conditions);
    RUN(test_if_exists_and_set_operators);
    RUN(test_policy_variables);
    RUN(test_resource_policy_kinds);
    RUN(test_bucket_policy_public_status);
    return check_report();
}
