/* util/ckd.h: checked size arithmetic shaped like C23 <stdckdint.h>.
 * Each returns true on overflow (and *r is then unspecified). */
#ifndef KURA_UTIL_CKD_H
#define KURA_UTIL_CKD_H

#include <stdbool.h>
#include <stdint.h>

static inline bool ckd_add_u64(uint64_t *r, uint64_t a, uint64_t b)
{
    return __builtin_add_overflow(a, b, r);
}
static inline bool ckd_mul_u64(uint64_t *r, uint64_t a, uint64_t b)
{
    return __builtin_mul_overflow(a, b, r);
}
static inline bool ckd_add_size(size_t *r, size_t a, size_t b)
{
    return __builtin_add_overflow(a, b, r);
}

#endif
