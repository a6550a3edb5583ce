#include <criterion/criterion.h>
#include <string.h>

#include "parkhub/err.h"
#include "parkhub/timefmt.h"

static int64_t parse(const char *s) {
  int64_t ms = -1;
  cr_assert_eq(ph_time_parse(s, strlen(s), &ms), 0, "%s", s);
  return ms;
}

Test(timefmt, parses_utc_and_offsets) {
  /* date -u -d 2026-11-23T10:00:00Z +%s = 1795428000 */
  cr_assert_eq(parse("2026-11-23T10:00:00Z"), 1795428000000LL);
  cr_assert_eq(parse("2026-11-23T10:00:01.250Z"), 1795428001250LL);
  cr_assert_eq(parse("2026-11-23T18:00:00+08:00"), 1795428000000LL, "Asia/Shanghai offset");
  cr_assert_eq(parse("2026-11-23T09:30:00-00:30"), 1795428000000LL);
  cr_assert_eq(parse("2026-11-23t10:00:00.1z"), 1795428000100LL);
  cr_assert_eq(parse("2026-11-23 10:00:00.123456789Z"), 1795428000123LL, "sub-ms digits truncate");
  cr_assert_eq(parse("1970-01-01T00:00:00Z"), 0);
  cr_assert_eq(parse("2024-02-29T00:00:00Z"), 1709164800000LL, "leap day");
}

Test(timefmt, refuses_malformed_and_impossible_times) {
  const char *bad[] = {"", "2026-11-23", "2026-11-23T10:00:00", "2026-11-23T10:00Z", "2026-13-01T00:00:00Z",
                       "2026-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2026-11-31T00:00:00Z",
                       "2026-11-23T24:00:00Z", "2026-11-23T10:60:00Z", "2026-11-23T10:00:60Z",
                       "2026-11-23T10:00:00.Z", "2026-11-23T10:00:00+0800", "2026-11-23T10:00:00Zjunk",
                       "1969-12-31T23:59:59Z", "1970-01-01T00:00:00+01:00", " 2026-11-23T10:00:00Z",
                       "2026-11-23T10:00:00.1234567890Z"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int64_t ms;
    cr_assert_eq(ph_time_parse(bad[i], strlen(bad[i]), &ms), PH_ETIME, "'%s' accepted", bad[i]);
  }
}

Test(timefmt, formats_with_milliseconds_and_round_trips) {
  char buf[PH_TIME_STRLEN];
  cr_assert_eq(ph_time_format(1795428001250LL, buf, sizeof buf), 0);
  cr_assert_str_eq(buf, "2026-11-23T10:00:01.250Z");
  for (int64_t ms = 0; ms < 253402300800000LL; ms += 7777777777LL + 13) {
    int64_t back;
    cr_assert_eq(ph_time_format(ms, buf, sizeof buf), 0);
    cr_assert_eq(ph_time_parse(buf, strlen(buf), &back), 0, "%s", buf);
    cr_assert_eq(back, ms, "%s", buf);
  }
  cr_assert_eq(ph_time_format(-1, buf, sizeof buf), PH_EINVAL);
  cr_assert_eq(ph_time_format(0, buf, 10), PH_EFULL);
}

Test(timefmt, civil_days_match_known_dates) {
  cr_assert_eq(ph_days_from_civil(1970, 1, 1), 0);
  cr_assert_eq(ph_days_from_civil(2000, 3, 1), 11017);
  int y;
  unsigned m, d;
  ph_civil_from_days(20415, &y, &m, &d);
  cr_assert(y == 2025 && m == 11 && d == 23, "%d-%u-%u", y, m, d);
}

Test(timefmt, timespec_add_carries_into_seconds) {
  struct timespec t = {.tv_sec = 10, .tv_nsec = 999000000L};
  struct timespec u = ph_timespec_add_ms(t, 1);
  cr_expect_eq(u.tv_sec, 11);
  cr_expect_eq(u.tv_nsec, 0);
  u = ph_timespec_add_ms(t, 2500);
  cr_expect_eq(u.tv_sec, 13);
  cr_expect_eq(u.tv_nsec, 499000000L);
  u = ph_timespec_add_ms(t, 0);
  cr_expect_eq(u.tv_sec, 10);
  cr_expect_eq(u.tv_nsec, 999000000L);
  u = ph_timespec_add_ms(t, -1500); /* a negative delay is none, and tv_nsec stays valid */
  cr_expect_eq(u.tv_sec, 10);
  cr_expect_eq(u.tv_nsec, 999000000L);
}

Test(timefmt, deadline_is_now_plus_the_delay_on_that_clock) {
  struct timespec before, after;
  clock_gettime(CLOCK_MONOTONIC, &before);
  struct timespec d = ph_deadline_ms(CLOCK_MONOTONIC, 1500);
  clock_gettime(CLOCK_MONOTONIC, &after);
  int64_t lo = (int64_t)before.tv_sec * 1000 + before.tv_nsec / 1000000 + 1500;
  int64_t hi = (int64_t)after.tv_sec * 1000 + after.tv_nsec / 1000000 + 1500;
  int64_t got = (int64_t)d.tv_sec * 1000 + d.tv_nsec / 1000000;
  cr_expect(got >= lo && got <= hi, "deadline %lld ms not in [%lld, %lld]", (long long)got, (long long)lo,
            (long long)hi);
  cr_expect(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
}
