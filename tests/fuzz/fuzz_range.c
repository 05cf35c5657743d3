/* tests/fuzz/fuzz_range.c: Range and conditional headers (http/range.c). */
#include "http/range.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    http_range_t r;
    uint64_t obj = size ? data[0] * 1000u : 0;
    if (http_range_parse(s, obj, &r) == HTTP_RANGE_OK && (r.first > r.last || r.last >= obj))
        abort(); /* a satisfiable range must lie within the object */
    (void)http_conditional(s, s, s, s, "abc", 1136214245);
    free(s);
    return 0;
}
