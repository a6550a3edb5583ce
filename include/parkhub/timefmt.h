/* timefmt.h — RFC 3339 timestamps <-> milliseconds since the Unix epoch (UTC).
 *
 * Parse accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)" (a lowercase t/z and a
 * space separator too, as RFC 3339 allows); fractions beyond milliseconds are
 * truncated. Format always writes UTC with milliseconds:
 * "2026-11-23T10:00:01.250Z". Years 1970..9999 only. */
#ifndef PARKHUB_TIMEFMT_H
#define PARKHUB_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PH_TIME_STRLEN 25 /* "YYYY-MM-DDTHH:MM:SS.mmmZ" + NUL */

int ph_time_parse(const char *s, size_t len, int64_t *ms_out);
/* buf must hold PH_TIME_STRLEN bytes; returns 0 or PH_EINVAL out of range. */
int ph_time_format(int64_t ms, char *buf, size_t cap);
int64_t ph_now_ms(void);      /* wall clock */
int64_t ph_mono_ms(void);     /* monotonic clock, for intervals */
/* t plus ms, normalised (a negative ms counts as 0): for an absolute time
 * that advances by a fixed period (a poll loop's next due time). */
struct timespec ph_timespec_add_ms(struct timespec t, int64_t ms);
/* Now on clk plus ms: the absolute time pthread_cond_timedwait (whose
 * condition's clock is CLOCK_REALTIME unless its attribute says otherwise)
 * and clock_nanosleep(TIMER_ABSTIME) take. */
struct timespec ph_deadline_ms(clockid_t clk, int64_t ms);
/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t ph_days_from_civil(int y, unsigned m, unsigned d);
void ph_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d);

#endif
