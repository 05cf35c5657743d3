/* util/clock.h: the service clock for time-based behaviour: object times,
 * retention, lifecycle, (later) record expiration and backup schedules.
 * It is the real clock plus an offset that only a server started with
 * --test-clock lets an admin call advance (NOTES-ON-ISSUES 9), so tests
 * can age objects by days in a second. SigV4 skew and presigned expiry
 * never use it: they read the real clock (timefmt_now_ms). */
#ifndef KURA_UTIL_CLOCK_H
#define KURA_UTIL_CLOCK_H

#include <stdint.h>

int64_t clock_now_ms(void);
/* Moves the service clock forward by ms (never backward). */
void clock_advance_ms(int64_t ms);
int64_t clock_offset_ms(void);

#endif
