/* tests/fuzz/fuzz_avro.c: Avro object container decoding (iceberg/avro.c)
 * through the manifest and manifest-list readers (iceberg/manifest.c):
 * files other engines wrote are hostile input. */
#include "iceberg/iceberg.h"

#include <stdint.h>
#include <stdlib.h>

#define FUZZ_ARENA_MAX ((size_t)64 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena_t *a = arena_new(FUZZ_ARENA_MAX);
    if (!a)
        return 0;
    ice_manifest_file_t le = {.manifest_path = "s3://b/m.avro", .sequence_number = 7,
                              .added_snapshot_id = 9};
    ice_manifest_entry_t *e;
    ice_manifest_file_t *mf;
    size_t n;
    if (ice_manifest_decode(a, data, size, &le, &e, &n, NULL) == ICE_OK) {
        for (size_t i = 0; i < n; i++)
            if (!e[i].file.file_path || e[i].file.record_count < 0)
                abort(); /* the reader promised both */
    }
    (void)ice_manifest_list_decode(a, data, size, &mf, &n, NULL);
    const char *v;
    size_t vl;
    (void)ice_avro_header_get(a, data, size, "schema", &v, &vl);
    arena_free(a);
    return 0;
}
