/* tests/unit/test_tables.c: the pure parts of the S3 Tables service: name
 * rules (s3tables-api §2, NOTES-ON-ISSUES 12), ARN parsing against the
 * model's patterns, and bearer tokens (NOTES 10). */
#include "tables/tables_int.h"

#include "check.h"

#include <string.h>

static void test_bucket_names_follow_the_user_guide(void)
{
    static const struct {
        const char *name;
        bool ok;
    } cases[] = {
        {"abc", true},           {"my-bucket-1", true},   {"ab", false},
        {"Upper", false},        {"under_score", false},  {"dot.ted", false},
        {"-lead", false},        {"trail-", false},       {"xn--abc", false},
        {"sthree-x", false},     {"amzn-s3-demo-x", false}, {"aws-s3", false},
        {"awsome", false},       {"a-s3alias", false},    {"a--ol-s3", false},
        {"a--x-s3", false},      {"a--table-s3", false},  {"a-table-s3", true},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        CHECK(tables_bucket_name_ok(cases[i].name) == cases[i].ok, "case %zu: %s", i,
              cases[i].name);
    char long_name[TABLES_BUCKET_NAME_MAX + 2];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    CHECK(!tables_bucket_name_ok(long_name), "64 characters");
    long_name[TABLES_BUCKET_NAME_MAX] = '\0';
    CHECK(tables_bucket_name_ok(long_name), "63 characters");
}

static void test_namespace_and_table_names(void)
{
    CHECK(tables_namespace_name_ok("sales_2024"), "plain");
    CHECK(!tables_namespace_name_ok("aws_s3_metadata"), "aws prefix is reserved for users");
    CHECK(tables_table_name_ok("aws_table"), "tables may start with aws");
    CHECK(!tables_namespace_name_ok("b_my-bucket"), "hyphen");
    CHECK(!tables_table_name_ok("_x") && !tables_table_name_ok("x_"), "ends");
    CHECK(!tables_table_name_ok("") && !tables_table_name_ok("A"), "empty, upper");
    /* Managed names are fine in lookups (NOTES 12). */
    CHECK(tables_lookup_name_ok("b_my-bucket", 1, TABLES_NAME_MAX), "managed namespace");
    CHECK(tables_lookup_name_ok("aws-s3", 3, 63), "managed bucket");
    CHECK(!tables_lookup_name_ok("a/b", 1, TABLES_NAME_MAX), "slash");
}

static void test_arns_parse_against_the_model_patterns(void)
{
    static const struct {
        const char *arn;
        bool ok;
        const char *bucket, *table;
    } cases[] = {
        {"arn:aws:s3tables:us-east-1:111122223333:bucket/my-b", true, "my-b", ""},
        {"arn:aws:s3tables:us-east-1:111122223333:bucket/my-b/table/ab-12_X", true, "my-b",
         "ab-12_X"},
        {"arn:aws-cn:s3tables:cn-north-1:111122223333:bucket/abc", true, "abc", ""},
        {"arn:aws:s3tables:us-east-1:11112222333:bucket/abc", false, NULL, NULL},
        {"arn:aws:s3tables:us-east-1:1111222233334:bucket/abc", false, NULL, NULL},
        {"arn:aws:s3tables:us-east-1:111122223333:bucket/ab", false, NULL, NULL},
        {"arn:aws:s3tables:us-east-1:111122223333:bucket/ABC", false, NULL, NULL},
        {"arn:aws:s3tables:us-east-1:111122223333:bucket/abc/table/", false, NULL, NULL},
        {"arn:aws:s3tables:us-east-1:111122223333:bucket/abc/tables/x", false, NULL, NULL},
        {"arn:aws:s3tables:us-east-1:111122223333:bucket/abc/table/a/b", false, NULL, NULL},
        {"arn:gcp:s3tables:us-east-1:111122223333:bucket/abc", false, NULL, NULL},
        {"arn:aws:s3tables:US-EAST-1:111122223333:bucket/abc", false, NULL, NULL},
        {"arn:aws:s3tables:us-east-1:111122223333:thing/abc", false, NULL, NULL},
        {"", false, NULL, NULL},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        tables_arn_t a;
        bool ok = tables_arn_parse(cases[i].arn, true, true, &a);
        CHECK(ok == cases[i].ok, "case %zu: %s", i, cases[i].arn);
        if (ok && cases[i].ok) {
            CHECK_EQ_STR(a.bucket, cases[i].bucket, "case %zu", i);
            CHECK_EQ_STR(a.table_id, cases[i].table, "case %zu", i);
        }
    }
    tables_arn_t a;
    CHECK(!tables_arn_parse("arn:aws:s3tables:us-east-1:111122223333:bucket/abc/table/t", true,
                            false, &a),
          "table ARN where only a bucket ARN is allowed");
    CHECK(!tables_arn_parse("arn:aws:s3tables:us-east-1:111122223333:bucket/abc", false, true,
                            &a),
          "bucket ARN where only a table ARN is allowed");
    CHECK(tables_arn_parse("arn:aws:s3tables:eu-west-3:123456789012:bucket/abc", true, false, &a) &&
              strcmp(a.region, "eu-west-3") == 0 && strcmp(a.account, "123456789012") == 0,
          "region and account");
}

static void test_bearer_tokens_verify_and_expire(void)
{
    uint8_t key[32] = {1, 2, 3}, other[32] = {9};
    char tok[TABLES_TOKEN_MAX + 1], ak[129];
    CHECK(tables_token_make(key, "AKIDEXAMPLE", 1000, tok, sizeof tok), "make");
    CHECK(tables_token_check(key, tok, 999, ak, sizeof ak) && strcmp(ak, "AKIDEXAMPLE") == 0,
          "valid before expiry");
    CHECK(!tables_token_check(key, tok, 1000, ak, sizeof ak), "expired at expiry");
    CHECK(!tables_token_check(other, tok, 999, ak, sizeof ak), "other key");
    char bad[sizeof tok];
    memcpy(bad, tok, sizeof tok);
    bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '0' ? '1' : '0';
    CHECK(!tables_token_check(key, bad, 999, ak, sizeof ak), "tampered mac");
    /* A longer expiry with the old mac must not verify. */
    char forged[sizeof tok];
    const char *mac = strrchr(tok, '.');
    size_t head = (size_t)(strchr(tok + 6, '.') - tok);
    snprintf(forged, sizeof forged, "%.*s.99999%s", (int)head, tok, mac);
    CHECK(!tables_token_check(key, forged, 999, ak, sizeof ak), "extended expiry");
    CHECK(!tables_token_check(key, "kura1.zz.1.00", 0, ak, sizeof ak), "garbage");
    CHECK(!tables_token_check(key, "", 0, ak, sizeof ak), "empty");
    CHECK(!tables_token_make(key, "", 1000, tok, sizeof tok), "empty access key");
}

static void test_uuid_shape(void)
{
    char u[TABLES_UUID_LEN + 1];
    tables_uuid(u);
    CHECK(strlen(u) == TABLES_UUID_LEN && u[8] == '-' && u[14] == '4' &&
              strchr("89ab", u[19]) != NULL,
          "uuid v4: %s", u);
}

int main(void)
{
    RUN(test_bucket_names_follow_the_user_guide);
    RUN(test_namespace_and_table_names);
    RUN(test_arns_parse_against_the_model_patterns);
    RUN(test_bearer_tokens_verify_and_expire);
    RUN(test_uuid_shape);
    return check_report();
}
