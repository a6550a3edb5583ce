/* timefmt.c — RFC 3339 <-> Unix milliseconds, without the C library's
 * time-zone state (timegm/gmtime_r are not needed: the civil-date
 * arithmetic is exact and thread-safe). */
#include "parkhub/timefmt.h"

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "parkhub/err.h"

/* Howard Hinnant's days_from_civil: proleptic Gregorian, exact. */
int64_t ph_days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = (unsigned)(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

void ph_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = (unsigned)(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int)(yoe + era * 400) + (*m <= 2);
}

static bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static unsigned days_in_month(int y, unsigned m) {
  static const unsigned dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Reads exactly n digits at s[*i]; -1 when one is missing. */
static int digits(const char *s, size_t len, size_t *i, int n) {
  int v = 0;
  for (int k = 0; k < n; k++, (*i)++) {
    if (*i >= len || s[*i] < '0' || s[*i] > '9') return -1;
    v = v * 10 + (s[*i] - '0');
  }
  return v;
}

static bool expect(const char *s, size_t len, size_t *i, const char *any) {
  if (*i >= len) return false;
  for (; *any; any++)
    if (s[*i] == *any) {
      (*i)++;
      return true;
    }
  return false;
}

int ph_time_parse(const char *s, size_t len, int64_t *ms_out) {
  size_t i = 0;
  int y = digits(s, len, &i, 4);
  if (y < 0 || !expect(s, len, &i, "-")) return PH_ETIME;
  int mo = digits(s, len, &i, 2);
  if (mo < 0 || !expect(s, len, &i, "-")) return PH_ETIME;
  int d = digits(s, len, &i, 2);
  if (d < 0 || !expect(s, len, &i, "Tt ")) return PH_ETIME;
  int h = digits(s, len, &i, 2);
  if (h < 0 || !expect(s, len, &i, ":")) return PH_ETIME;
  int mi = digits(s, len, &i, 2);
  if (mi < 0 || !expect(s, len, &i, ":")) return PH_ETIME;
  int se = digits(s, len, &i, 2);
  if (se < 0) return PH_ETIME;
  int ms = 0;
  if (i < len && s[i] == '.') {
    i++;
    int nd = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
      if (nd < 3) ms = ms * 10 + (s[i] - '0');
      nd++, i++;
    }
    if (nd == 0 || nd > 9) return PH_ETIME;
    for (; nd < 3; nd++) ms *= 10;
  }
  int off_min = 0;
  if (expect(s, len, &i, "Zz")) {
  } else if (i < len && (s[i] == '+' || s[i] == '-')) {
    int sign = s[i++] == '-' ? -1 : 1;
    int oh = digits(s, len, &i, 2);
    if (oh < 0 || oh > 23 || !expect(s, len, &i, ":")) return PH_ETIME;
    int om = digits(s, len, &i, 2);
    if (om < 0 || om > 59) return PH_ETIME;
    off_min = sign * (oh * 60 + om);
  } else {
    return PH_ETIME;
  }
  if (i != len) return PH_ETIME;
  /* se == 60 would be a leap second: refused, as no clock we read produces it. */
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || (unsigned)d > days_in_month(y, (unsigned)mo) || h > 23 ||
      mi > 59 || se > 59)
    return PH_ETIME;
  int64_t days = ph_days_from_civil(y, (unsigned)mo, (unsigned)d);
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - (int64_t)off_min * 60;
  if (secs < 0) return PH_ETIME;
  *ms_out = secs * 1000 + ms;
  return 0;
}

int ph_time_format(int64_t ms, char *buf, size_t cap) {
  if (cap < PH_TIME_STRLEN) return PH_EFULL;
  if (ms < 0 || ms >= 253402300800000LL) { /* 10000-01-01 */
    buf[0] = '\0';
    return PH_EINVAL;
  }
  int64_t secs = ms / 1000, days = secs / 86400, rem = secs % 86400;
  int y;
  unsigned m, d;
  ph_civil_from_days(days, &y, &m, &d);
  snprintf(buf, cap, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m, d, (int)(rem / 3600), (int)(rem / 60 % 60),
           (int)(rem % 60), (int)(ms % 1000));
  return 0;
}

static int64_t clock_ms(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ph_now_ms(void) { return clock_ms(CLOCK_REALTIME); }
int64_t ph_mono_ms(void) { return clock_ms(CLOCK_MONOTONIC); }

struct timespec ph_timespec_add_ms(struct timespec t, int64_t ms) {
  if (ms < 0) ms = 0; /* a past deadline, never a negative tv_nsec */
  t.tv_sec += (time_t)(ms / 1000);
  t.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (t.tv_nsec >= 1000000000L) {
    t.tv_sec++;
    t.tv_nsec -= 1000000000L;
  }
  return t;
}

struct timespec ph_deadline_ms(clockid_t clk, int64_t ms) {
  struct timespec t;
  clock_gettime(clk, &t);
  return ph_timespec_add_ms(t, ms);
}
