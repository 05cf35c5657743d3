/* util/clock.c: real time plus a test offset (see clock.h). */
#include "util/clock.h"

#include "util/timefmt.h"

#include <stdatomic.h>

static atomic_llong offset_ms;

int64_t clock_now_ms(void) { return timefmt_now_ms() + atomic_load(&offset_ms); }

void clock_advance_ms(int64_t ms)
{
    if (ms > 0)
        atomic_fetch_add(&offset_ms, ms);
}

int64_t clock_offset_ms(void) { return atomic_load(&offset_ms); }
