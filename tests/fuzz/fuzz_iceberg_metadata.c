/* tests/fuzz/fuzz_iceberg_metadata.c: table metadata JSON parsing and
 * commits (iceberg/metadata.c, iceberg/commit.c). The input is tried as a
 * metadata file and as a CommitTableRequest updates array. */
#include "iceberg/iceberg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ARENA_MAX ((size_t)64 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char base_schema[] =
    "{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":\"long\"},"
    "{\"id\":2,\"name\":\"t\",\"required\":false,\"type\":\"timestamp\"},{\"id\":3,\"name\":\"m\","
    "\"required\":false,\"type\":{\"type\":\"map\",\"key-id\":4,\"key\":\"string\",\"value-id\":5,"
    "\"value\":\"int\",\"value-required\":false}}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena_t *a = arena_new(FUZZ_ARENA_MAX);
    if (!a)
        return 0;
    ice_metadata_t *m = NULL, *again = NULL, *out = NULL;
    if (ice_metadata_parse(a, (const char *)data, size, &m, NULL) == ICE_OK) {
        /* Canonical JSON is a fixed point: what we write, we read back the same. */
        if (ice_metadata_parse(a, m->json, m->json_len, &again, NULL) != ICE_OK ||
            again->json_len != m->json_len || memcmp(again->json, m->json, m->json_len) != 0)
            abort();
        (void)ice_commit_apply(a, m, NULL,
                               "[{\"action\":\"set-properties\",\"updates\":{\"k\":\"v\"}}]", NULL,
                               &out, NULL, NULL);
    }
    char *text = malloc(size + 1);
    ice_metadata_t *base = NULL;
    if (text && ice_metadata_new(a, base_schema, "{\"fields\":[{\"source-id\":2,\"name\":\"d\","
                                                 "\"transform\":\"day\"}]}",
                                 NULL, "s3://b/t", NULL, 1, &base, NULL) == ICE_OK) {
        memcpy(text, data, size);
        text[size] = '\0';
        if (ice_commit_apply(a, base, NULL, text, NULL, &out, NULL, NULL) == ICE_OK &&
            ice_metadata_parse(a, out->json, out->json_len, &again, NULL) != ICE_OK)
            abort(); /* a commit never produces metadata we cannot read */
        (void)ice_commit_apply(a, base, text, "[]", NULL, &out, NULL, NULL);
    }
    free(text);
    arena_free(a);
    return 0;
}
