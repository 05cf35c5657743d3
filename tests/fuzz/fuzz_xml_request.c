/* tests/fuzz/fuzz_xml_request.c: S3 request documents through util/xml. */
#include "util/arena.h"
#include "util/xml.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena_t *a = arena_new(64 << 20);
    if (!a)
        return 0;
    xml_node_t *root = xml_parse(a, (const char *)data, size);
    if (root) {
        (void)xml_child_text(root, "Object");
        (void)xml_count(root, "Part");
    }
    arena_free(a);
    return 0;
}
