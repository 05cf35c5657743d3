/* tests/fuzz/fuzz_json_request.c: the JSON request bodies of every JSON
 * service, through the production path: router (body buffering, SigV4 over
 * the body) -> tables_handle (S3 Tables API, Iceberg REST catalog:
 * tables_req_json, the op's member checks, ice_commit_apply for commits)
 * or query_athena / query_http (Athena JSON 1.1, POST /kura/sql).
 *
 * Input: byte 0 picks the operation (route table below), byte 1 bit 0
 * whether the request is signed (else: anonymous / bearer paths), the text
 * up to the first '\n' is the raw query string ("" for none, %-decoded into
 * parameters as http/server.c does), the rest is the body.
 * A fixture (table bucket "fuzz" + namespace "ns" + Iceberg table "t" with a
 * schema) exists before every input, so operations reach real records. */
#include "fuzz_server.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef enum { K_TABLES, K_ICEBERG, K_ATHENA, K_SQL } kind_t;

/* {arn} in a path is the fixture bucket's ARN, %-encoded as one segment. */
static const struct {
    kind_t kind;
    const char *method, *path; /* path, or the Athena operation */
    int destructive;           /* may remove the fixture: re-create after */
} routes[] = {
    {K_TABLES, "PUT", "/buckets", 0},
    {K_TABLES, "GET", "/buckets", 0},
    {K_TABLES, "GET", "/buckets/{arn}", 0},
    {K_TABLES, "PUT", "/buckets/{arn}/encryption", 0},
    {K_TABLES, "PUT", "/buckets/{arn}/storage-class", 0},
    {K_TABLES, "PUT", "/buckets/{arn}/metrics", 0},
    {K_TABLES, "PUT", "/buckets/{arn}/policy", 0},
    {K_TABLES, "PUT", "/buckets/{arn}/maintenance/icebergUnreferencedFileRemoval", 0},
    {K_TABLES, "PUT", "/namespaces/{arn}", 0},
    {K_TABLES, "GET", "/namespaces/{arn}", 0},
    {K_TABLES, "PUT", "/tables/{arn}/ns", 0},
    {K_TABLES, "GET", "/tables/{arn}", 0},
    {K_TABLES, "GET", "/get-table", 0},
    {K_TABLES, "GET", "/tables/{arn}/ns/t", 0},
    {K_TABLES, "PUT", "/tables/{arn}/ns/t/rename", 1},
    {K_TABLES, "PUT", "/tables/{arn}/ns/t/metadata-location", 0},
    {K_TABLES, "PUT", "/tables/{arn}/ns/t/policy", 0},
    {K_TABLES, "PUT", "/tables/{arn}/ns/t/maintenance/icebergCompaction", 0},
    {K_TABLES, "PUT", "/tables/{arn}/ns/t/maintenance/icebergSnapshotManagement", 0},
    {K_TABLES, "PUT", "/table-bucket-replication", 0},
    {K_TABLES, "PUT", "/table-replication", 0},
    {K_TABLES, "PUT", "/table-record-expiration", 0},
    {K_TABLES, "POST", "/tag/{arn}", 0},
    {K_TABLES, "DELETE", "/tag/{arn}", 0},
    {K_TABLES, "DELETE", "/tables/{arn}/ns/t", 1},
    {K_TABLES, "DELETE", "/namespaces/{arn}/ns", 1},
    {K_TABLES, "DELETE", "/buckets/{arn}", 1},
    {K_ICEBERG, "POST", "/iceberg/v1/oauth/tokens", 0},
    {K_ICEBERG, "GET", "/iceberg/v1/config", 0},
    {K_ICEBERG, "POST", "/iceberg/v1/fuzz/namespaces", 0},
    {K_ICEBERG, "POST", "/iceberg/v1/fuzz/namespaces/ns/properties", 0},
    {K_ICEBERG, "POST", "/iceberg/v1/fuzz/namespaces/ns/register", 0},
    {K_ICEBERG, "POST", "/iceberg/v1/fuzz/namespaces/ns/tables", 0},
    {K_ICEBERG, "POST", "/iceberg/v1/fuzz/namespaces/ns/tables/t", 0},
    {K_ICEBERG, "POST", "/iceberg/v1/fuzz/namespaces/ns/tables/t", 0}, /* commits: twice the odds */
    {K_ICEBERG, "POST", "/iceberg/v1/fuzz/namespaces/ns/tables/t/metrics", 0},
    {K_ICEBERG, "POST", "/iceberg/v1/fuzz/tables/rename", 1},
    {K_ICEBERG, "POST", "/iceberg/v1/fuzz/transactions/commit", 0},
    {K_ICEBERG, "GET", "/iceberg/v1/fuzz/namespaces/ns/tables/t", 0},
    {K_ICEBERG, "DELETE", "/iceberg/v1/fuzz/namespaces/ns/tables/t", 1},
    {K_ATHENA, "POST", "StartQueryExecution", 0},
    {K_ATHENA, "POST", "GetQueryExecution", 0},
    {K_ATHENA, "POST", "GetQueryResults", 0},
    {K_ATHENA, "POST", "StopQueryExecution", 0},
    {K_ATHENA, "POST", "ListQueryExecutions", 0},
    {K_ATHENA, "POST", "BatchGetQueryExecution", 0},
    {K_ATHENA, "POST", "GetWorkGroup", 0},
    {K_ATHENA, "POST", "ListDataCatalogs", 0},
    {K_ATHENA, "POST", "GetDataCatalog", 0},
    {K_ATHENA, "POST", "ListDatabases", 0},
    {K_ATHENA, "POST", "ListTableMetadata", 0},
    {K_ATHENA, "POST", "GetTableMetadata", 0},
    {K_SQL, "POST", "/kura/sql", 0},
};

#define ARN_ENC "arn%3Aaws%3As3tables%3Aus-east-1%3A" FZ_ACCOUNT "%3Abucket%2Ffuzz"

static unsigned call(router_t *rt, kind_t kind, const char *method, const char *path,
                     const char *query, const char *body, size_t len, bool sign, size_t step)
{
    char full[512];
    const char *p = path;
    const char *arn = strstr(path, "{arn}");
    if (arn) {
        snprintf(full, sizeof full, "%.*s%s%s", (int)(arn - path), path, ARN_ENC, arn + 5);
        p = full;
    }
    http_req_t *r = fz_req_new(method, kind == K_ATHENA ? "/" : p, query);
    if (!r)
        return 0;
    const char *service = "s3tables";
    if (kind == K_ATHENA) {
        char target[96];
        snprintf(target, sizeof target, "AmazonAthena.%s", path);
        fz_header(r, "x-amz-target", target);
        fz_header(r, "content-type", "application/x-amz-json-1.1");
        service = "athena";
    } else if (kind == K_SQL) {
        fz_header(r, "content-type", len && body[0] == '{' ? "application/json" : "text/plain");
        service = "s3";
    } else if (kind == K_ICEBERG && strstr(path, "oauth")) {
        fz_header(r, "content-type", "application/x-www-form-urlencoded");
        sign = false;
    } else {
        fz_header(r, "content-type", "application/json");
    }
    char cl[24];
    snprintf(cl, sizeof cl, "%zu", len);
    fz_header(r, "content-length", cl);
    if (sign)
        fz_sign(r, service, body, len);
    return fz_run(rt, r, body, len, step);
}

static const char fixture_table[] =
    "{\"name\":\"t\",\"schema\":{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
    "{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":\"long\"},"
    "{\"id\":2,\"name\":\"s\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":3,\"name\":\"ts\",\"required\":false,\"type\":\"timestamptz\"}]},"
    "\"partition-spec\":{\"spec-id\":0,\"fields\":[{\"source-id\":3,\"field-id\":1000,"
    "\"name\":\"d\",\"transform\":\"day\"}]},\"properties\":{\"p\":\"1\"}}";

/* Table bucket fuzz, namespace ns, table t (created through Iceberg REST, so
 * it has metadata); each call is a no-op (409) when the record exists. */
static void fixture(router_t *rt)
{
    static const char bucket[] = "{\"name\":\"fuzz\"}", ns[] = "{\"namespace\":[\"ns\"]}";
    call(rt, K_TABLES, "PUT", "/buckets", NULL, bucket, sizeof bucket - 1, true, 0);
    call(rt, K_TABLES, "PUT", "/namespaces/{arn}", NULL, ns, sizeof ns - 1, true, 0);
    call(rt, K_ICEBERG, "POST", "/iceberg/v1/fuzz/namespaces/ns/tables", NULL, fixture_table,
         sizeof fixture_table - 1, true, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fixture_ok;
    router_t *rt = fz_server();
    if (!rt || size < 2)
        return 0;
    if (!fixture_ok) {
        fixture(rt);
        fixture_ok = 1;
    }
    size_t ri = data[0] % (sizeof routes / sizeof routes[0]);
    bool sign = !(data[1] & 1);
    size_t step = data[1] >> 1 ? (size_t)(data[1] >> 1) * 64 : 0;
    data += 2;
    size -= 2;
    const uint8_t *nl = memchr(data, '\n', size);
    size_t qlen = nl ? (size_t)(nl - data) : 0;
    char *query = NULL;
    if (nl && qlen > 0) {
        query = malloc(qlen + 1);
        if (!query)
            return 0;
        memcpy(query, data, qlen);
        query[qlen] = '\0';
        query[strcspn(query, "\r")] = '\0'; /* headers and paths never carry NUL/CR */
    }
    const char *body = nl ? (const char *)nl + 1 : (const char *)data;
    size_t len = nl ? size - qlen - 1 : size;
    call(rt, routes[ri].kind, routes[ri].method, routes[ri].path, query, body, len, sign, step);
    free(query);
    if (routes[ri].destructive)
        fixture(rt);
    return 0;
}
