/* test_tz.c — time zones from TZif files: known transitions, DST day
 * lengths, the footer rule for future years, fixed offsets, refused names,
 * hostile files (truncated, corrupted, oversized), and agreement with
 * glibc's localtime_r for many instants. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "parkhub/alloc.h"
#include "parkhub/err.h"
#include "parkhub/timefmt.h"
#include "parkhub/tz.h"

#define H 3600000LL
#define DAY (24 * H)

static int64_t T(const char *s) {
  int64_t ms = 0;
  cr_assert_eq(ph_time_parse(s, strlen(s), &ms), 0, "%s", s);
  return ms;
}

static struct ph_tz *load(const char *name) {
  struct ph_tz *tz = NULL;
  struct ph_err err = {0};
  int rc = ph_tz_load(name, &tz, &err);
  cr_assert_eq(rc, 0, "%s: %s", name, err.msg);
  cr_assert_not_null(tz);
  return tz;
}

static const char *fmt(int64_t ms, char *buf) {
  ph_time_format(ms, buf, PH_TIME_STRLEN);
  return buf;
}

/* Local date as days since the epoch. */
static int64_t local_day(const struct ph_tz *tz, int64_t t) {
  int y;
  unsigned m, d;
  ph_tz_local_date(tz, t, &y, &m, &d, NULL);
  return ph_days_from_civil(y, m, d);
}

/* ---- temporary zoneinfo directory ------------------------------------ */

static char tmpdir[64];

static void tmp_init(void) {
  strcpy(tmpdir, "/tmp/ph_tz_XXXXXX");
  cr_assert_not_null(mkdtemp(tmpdir));
  setenv("PH_ZONEINFO", tmpdir, 1);
}

static void tmp_fini(void) {
  DIR *d = opendir(tmpdir);
  if (d) {
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)))
      if (e->d_name[0] != '.') {
        snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
        unlink(p);
      }
    closedir(d);
  }
  rmdir(tmpdir);
  unsetenv("PH_ZONEINFO");
}

static void write_zone(const char *name, const void *buf, size_t len) {
  char p[256];
  snprintf(p, sizeof p, "%s/%s", tmpdir, name);
  FILE *f = fopen(p, "wb");
  cr_assert_not_null(f, "%s", p);
  cr_assert_eq(fwrite(buf, 1, len, f), len);
  fclose(f);
}

static size_t read_real(const char *name, uint8_t *buf, size_t cap) {
  char p[256];
  snprintf(p, sizeof p, "/usr/share/zoneinfo/%s", name);
  FILE *f = fopen(p, "rb");
  cr_assert_not_null(f, "%s", p);
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  cr_assert(n > 0 && n < cap);
  return n;
}

/* A TZif file built by hand: types[i] is a UTC offset; every abbreviation
 * is "ABC". version 1 writes only the 32-bit block. */
struct zone_spec {
  int version;
  size_t ntrans;
  const int64_t *times;
  const uint8_t *idx;
  size_t ntypes;
  const int32_t *offs;
  const char *footer;
};

static size_t put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
  return 4;
}

static size_t put_block(uint8_t *b, const struct zone_spec *z, int tsize, char version) {
  size_t n = 0;
  memcpy(b, "TZif", 4);
  b[4] = (uint8_t)version;
  memset(b + 5, 0, 15);
  n = 20;
  n += put32(b + n, 0);          /* isutcnt */
  n += put32(b + n, 0);          /* isstdcnt */
  n += put32(b + n, 0);          /* leapcnt */
  n += put32(b + n, (uint32_t)z->ntrans);
  n += put32(b + n, (uint32_t)z->ntypes);
  n += put32(b + n, 4);          /* charcnt */
  for (size_t i = 0; i < z->ntrans; i++) {
    if (tsize == 8) n += put32(b + n, (uint32_t)((uint64_t)z->times[i] >> 32));
    n += put32(b + n, (uint32_t)z->times[i]);
  }
  for (size_t i = 0; i < z->ntrans; i++) b[n++] = z->idx[i];
  for (size_t i = 0; i < z->ntypes; i++) {
    n += put32(b + n, (uint32_t)z->offs[i]);
    b[n++] = 0;
    b[n++] = 0;
  }
  memcpy(b + n, "ABC", 4);
  return n + 4;
}

static size_t build_tzif(const struct zone_spec *z, uint8_t *buf) {
  size_t n = put_block(buf, z, 4, z->version == 1 ? 0 : '0' + z->version);
  if (z->version == 1) return n;
  n += put_block(buf + n, z, 8, (char)('0' + z->version));
  n += (size_t)sprintf((char *)buf + n, "\n%s\n", z->footer ? z->footer : "");
  return n;
}

/* ---- Asia/Shanghai ----------------------------------------------------- */

Test(tz, shanghai_is_plus_8_since_1992) {
  struct ph_tz *tz = load("Asia/Shanghai");
  cr_assert_str_eq(ph_tz_name(tz), "Asia/Shanghai");
  for (int64_t t = T("1992-01-01T00:00:00Z"); t < T("2100-01-01T00:00:00Z"); t += 7 * H + 777777)
    cr_assert_eq(ph_tz_offset_s(tz, t), 8 * 3600);
  int64_t t = T("2026-11-23T10:00:00Z");
  int64_t ds = ph_tz_day_start(tz, t);
  cr_assert_eq(ds, T("2026-11-22T16:00:00Z"));
  cr_assert_eq(ph_tz_next_day(tz, ds), T("2026-11-23T16:00:00Z"));
  cr_assert_eq(ph_tz_hour_start(tz, T("2026-11-23T10:59:59.999Z")), t);
  int y, hour;
  unsigned m, d;
  ph_tz_local_date(tz, t, &y, &m, &d, &hour);
  cr_assert(y == 2026 && m == 11 && d == 23 && hour == 18, "%d-%u-%u %d", y, m, d, hour);
  ph_tz_local_date(tz, T("2026-12-31T16:00:00Z"), &y, &m, &d, &hour);
  cr_assert(y == 2027 && m == 1 && d == 1 && hour == 0, "%d-%u-%u %d", y, m, d, hour);
  ph_tz_free(tz);
}

Test(tz, shanghai_1991_dst_from_the_table) {
  struct ph_tz *tz = load("Asia/Shanghai");
  /* zdump: CDT from 1991-04-14 02:00 CST to 1991-09-15 02:00 CDT */
  cr_assert_eq(ph_tz_offset_s(tz, T("1991-04-13T17:59:59Z")), 8 * 3600);
  cr_assert_eq(ph_tz_offset_s(tz, T("1991-04-13T18:00:00Z")), 9 * 3600);
  cr_assert_eq(ph_tz_offset_s(tz, T("1991-07-01T00:00:00Z")), 9 * 3600);
  cr_assert_eq(ph_tz_offset_s(tz, T("1991-09-14T16:59:59Z")), 9 * 3600);
  cr_assert_eq(ph_tz_offset_s(tz, T("1991-09-14T17:00:00Z")), 8 * 3600);
  int64_t spring = ph_tz_day_start(tz, T("1991-04-14T06:00:00Z"));
  cr_assert_eq(spring, T("1991-04-13T16:00:00Z"));
  cr_assert_eq(ph_tz_next_day(tz, spring) - spring, 23 * H);
  int64_t fall = ph_tz_day_start(tz, T("1991-09-15T06:00:00Z"));
  cr_assert_eq(fall, T("1991-09-14T15:00:00Z"), "midnight in CDT");
  cr_assert_eq(ph_tz_next_day(tz, fall) - fall, 25 * H);
  ph_tz_free(tz);
}

/* ---- Europe/Berlin ----------------------------------------------------- */

static void check_berlin_year(const struct ph_tz *tz, const char *spring_utc, const char *fall_utc,
                              const char *spring_midnight, const char *fall_midnight) {
  int64_t s = T(spring_utc), f = T(fall_utc);
  cr_assert_eq(ph_tz_offset_s(tz, s - 1000), 3600);
  cr_assert_eq(ph_tz_offset_s(tz, s), 7200);
  cr_assert_eq(ph_tz_offset_s(tz, f - 1000), 7200);
  cr_assert_eq(ph_tz_offset_s(tz, f), 3600);
  int64_t ds = ph_tz_day_start(tz, s + 6 * H);
  cr_assert_eq(ds, T(spring_midnight));
  cr_assert_eq(ph_tz_next_day(tz, ds) - ds, 23 * H, "%s", spring_utc);
  ds = ph_tz_day_start(tz, f + 6 * H);
  cr_assert_eq(ds, T(fall_midnight));
  cr_assert_eq(ph_tz_next_day(tz, ds) - ds, 25 * H, "%s", fall_utc);
  /* the days before and after are 24 h */
  cr_assert_eq(ph_tz_next_day(tz, ds - DAY) - (ds - DAY), DAY);
  cr_assert_eq(ph_tz_next_day(tz, ds + 25 * H) - (ds + 25 * H), DAY);
  /* local 02:xx happens twice on the fall day: two one-hour buckets */
  cr_assert_eq(ph_tz_hour_start(tz, f - 30 * 60000), f - H);
  cr_assert_eq(ph_tz_hour_start(tz, f + 30 * 60000), f);
  int hour;
  ph_tz_local_date(tz, f - 1, NULL, NULL, NULL, &hour);
  cr_assert_eq(hour, 2);
  ph_tz_local_date(tz, f, NULL, NULL, NULL, &hour);
  cr_assert_eq(hour, 2);
  /* the spring day has no 02:xx: 01:xx CET is followed by 03:00 CEST */
  cr_assert_eq(ph_tz_hour_start(tz, s + 1000), s);
  ph_tz_local_date(tz, s, NULL, NULL, NULL, &hour);
  cr_assert_eq(hour, 3);
}

Test(tz, berlin_2026_switch_days_are_23_and_25_hours) {
  struct ph_tz *tz = load("Europe/Berlin");
  check_berlin_year(tz, "2026-03-29T01:00:00Z", "2026-10-25T01:00:00Z", "2026-03-28T23:00:00Z",
                    "2026-10-24T22:00:00Z");
  cr_assert_eq(ph_tz_day_start(tz, T("2026-03-29T12:00:00Z")), T("2026-03-28T23:00:00Z"));
  cr_assert_eq(ph_tz_next_day(tz, T("2026-03-28T23:00:00Z")), T("2026-03-29T22:00:00Z"));
  ph_tz_free(tz);
}

Test(tz, berlin_2040_and_2100_through_the_footer_rule) {
  struct ph_tz *tz = load("Europe/Berlin"); /* Debian's table ends in 2037 */
  check_berlin_year(tz, "2040-03-25T01:00:00Z", "2040-10-28T01:00:00Z", "2040-03-24T23:00:00Z",
                    "2040-10-27T22:00:00Z");
  check_berlin_year(tz, "2100-03-28T01:00:00Z", "2100-10-31T01:00:00Z", "2100-03-27T23:00:00Z",
                    "2100-10-30T22:00:00Z");
  ph_tz_free(tz);
}

/* A file with no transitions at all: every instant goes through the rule. */
Test(tz, footer_rule_alone_matches_the_full_table, .init = tmp_init, .fini = tmp_fini) {
  const int32_t offs[] = {3600};
  struct zone_spec z = {2, 0, NULL, NULL, 1, offs, "CET-1CEST,M3.5.0,M10.5.0/3"};
  uint8_t buf[512];
  write_zone("SlimCET", buf, build_tzif(&z, buf));
  struct ph_tz *slim = load("SlimCET");
  setenv("PH_ZONEINFO", "/usr/share/zoneinfo", 1);
  struct ph_tz *berlin = load("Europe/Berlin");
  char b1[PH_TIME_STRLEN];
  for (int64_t t = T("1996-01-01T00:00:00Z"); t < T("2200-01-01T00:00:00Z"); t += 5 * H + 1234567) {
    cr_assert_eq(ph_tz_offset_s(slim, t), ph_tz_offset_s(berlin, t), "%s", fmt(t, b1));
    cr_assert_eq(ph_tz_day_start(slim, t), ph_tz_day_start(berlin, t), "%s", fmt(t, b1));
    cr_assert_eq(ph_tz_hour_start(slim, t), ph_tz_hour_start(berlin, t), "%s", fmt(t, b1));
  }
  ph_tz_free(slim);
  ph_tz_free(berlin);
}

Test(tz, footer_rule_forms_j_n_and_negative_times, .init = tmp_init, .fini = tmp_fini) {
  const int32_t offs[] = {0};
  uint8_t buf[512];
  /* DST (+1) from 0-based day 59 (1 March, or 29 February in leap years)
   * at 00:00 to J300 (27 October: J never counts 29 February) at -1:00 */
  struct zone_spec z = {3, 0, NULL, NULL, 1, offs, "<+00>0<+01>,59/0,J300/-1"};
  write_zone("Rules", buf, build_tzif(&z, buf));
  struct ph_tz *tz = load("Rules");
  cr_assert_eq(ph_tz_offset_s(tz, T("2027-02-28T23:59:59Z")), 0);
  cr_assert_eq(ph_tz_offset_s(tz, T("2027-03-01T00:00:00Z")), 3600);
  cr_assert_eq(ph_tz_offset_s(tz, T("2028-02-28T23:59:59Z")), 0);
  cr_assert_eq(ph_tz_offset_s(tz, T("2028-02-29T00:00:00Z")), 3600);
  /* end: local 26 Oct 23:00 DST = 22:00 UTC */
  cr_assert_eq(ph_tz_offset_s(tz, T("2028-10-26T21:59:59Z")), 3600);
  cr_assert_eq(ph_tz_offset_s(tz, T("2028-10-26T22:00:00Z")), 0);
  int64_t ds = ph_tz_day_start(tz, T("2028-10-26T23:30:00Z"));
  cr_assert_eq(ds, T("2028-10-25T23:00:00Z"));
  cr_assert_eq(ph_tz_next_day(tz, ds) - ds, 25 * H);
  ph_tz_free(tz);

  /* DST all year (zic's idiom): never leaves DST */
  struct zone_spec all = {3, 0, NULL, NULL, 1, offs, "XXX3YYY,0/0,J365/25"};
  write_zone("AllYear", buf, build_tzif(&all, buf));
  tz = load("AllYear");
  for (int64_t t = T("2020-01-01T00:00:00Z"); t < T("2040-01-01T00:00:00Z"); t += 3 * H + 17000)
    cr_assert_eq(ph_tz_offset_s(tz, t), -2 * 3600);
  ph_tz_free(tz);
}

/* ---- America/New_York, Asia/Kolkata, Lord Howe, Santiago, Apia --------- */

Test(tz, new_york) {
  struct ph_tz *tz = load("America/New_York");
  cr_assert_eq(ph_tz_offset_s(tz, T("2026-03-08T06:59:59Z")), -5 * 3600);
  cr_assert_eq(ph_tz_offset_s(tz, T("2026-03-08T07:00:00Z")), -4 * 3600);
  cr_assert_eq(ph_tz_offset_s(tz, T("2026-11-01T05:59:59Z")), -4 * 3600);
  cr_assert_eq(ph_tz_offset_s(tz, T("2026-11-01T06:00:00Z")), -5 * 3600);
  int64_t ds = ph_tz_day_start(tz, T("2026-03-08T12:00:00Z"));
  cr_assert_eq(ds, T("2026-03-08T05:00:00Z"));
  cr_assert_eq(ph_tz_next_day(tz, ds), T("2026-03-09T04:00:00Z"));
  ds = ph_tz_day_start(tz, T("2026-11-01T12:00:00Z"));
  cr_assert_eq(ds, T("2026-11-01T04:00:00Z"));
  cr_assert_eq(ph_tz_next_day(tz, ds), T("2026-11-02T05:00:00Z"));
  /* the day containing 03:00 UTC is still the previous local day */
  cr_assert_eq(ph_tz_day_start(tz, T("2026-11-23T03:00:00Z")), T("2026-11-22T05:00:00Z"));
  int y, hour;
  unsigned m, d;
  ph_tz_local_date(tz, T("2026-11-23T03:00:00Z"), &y, &m, &d, &hour);
  cr_assert(y == 2026 && m == 11 && d == 22 && hour == 22);
  ph_tz_free(tz);
}

Test(tz, kolkata_hours_start_on_half_past_utc) {
  struct ph_tz *tz = load("Asia/Kolkata");
  cr_assert_eq(ph_tz_offset_s(tz, T("2026-11-23T10:00:00Z")), 5 * 3600 + 1800);
  cr_assert_eq(ph_tz_hour_start(tz, T("2026-11-23T10:00:00Z")), T("2026-11-23T09:30:00Z"));
  cr_assert_eq(ph_tz_hour_start(tz, T("2026-11-23T10:29:59.999Z")), T("2026-11-23T09:30:00Z"));
  cr_assert_eq(ph_tz_hour_start(tz, T("2026-11-23T10:30:00Z")), T("2026-11-23T10:30:00Z"));
  cr_assert_eq(ph_tz_day_start(tz, T("2026-11-23T10:00:00Z")), T("2026-11-22T18:30:00Z"));
  ph_tz_free(tz);
}

Test(tz, lord_howe_half_hour_dst_clips_the_hour) {
  struct ph_tz *tz = load("Australia/Lord_Howe");
  /* 2026-04-05 02:00 +11 -> 01:30 +1030 at 15:00 UTC */
  int64_t f = T("2026-04-04T15:00:00Z");
  cr_assert_eq(ph_tz_hour_start(tz, f - 1000), f - H);
  cr_assert_eq(ph_tz_hour_start(tz, f + 10 * 60000), f, "01:40 +1030 starts at the change");
  cr_assert_eq(ph_tz_hour_start(tz, f + 30 * 60000), f + 30 * 60000, "02:00 +1030");
  int64_t ds = ph_tz_day_start(tz, f);
  cr_assert_eq(ds, T("2026-04-04T13:00:00Z"));
  cr_assert_eq(ph_tz_next_day(tz, ds) - ds, 24 * H + 30 * 60000);
  ph_tz_free(tz);
}

Test(tz, santiago_midnight_skipped_and_repeated_hour) {
  struct ph_tz *tz = load("America/Santiago");
  /* spring: Sat 2026-09-05 24:00 -04 becomes Sun 01:00 -03: no midnight */
  int64_t s = T("2026-09-06T04:00:00Z");
  cr_assert_eq(ph_tz_day_start(tz, s + 5 * H), s);
  cr_assert_eq(ph_tz_next_day(tz, ph_tz_day_start(tz, s - H)), s);
  cr_assert_eq(ph_tz_next_day(tz, s) - s, 23 * H);
  /* fall: Sat 2026-04-04 24:00 -03 becomes Sat 23:00 -04: Saturday is 25 h */
  int64_t f = T("2026-04-05T03:00:00Z");
  int64_t sat = ph_tz_day_start(tz, f + 30 * 60000);
  cr_assert_eq(sat, T("2026-04-04T03:00:00Z"));
  cr_assert_eq(ph_tz_next_day(tz, sat), f + H);
  ph_tz_free(tz);
}

Test(tz, havana_repeated_midnight_belongs_to_one_day) {
  struct ph_tz *tz = load("America/Havana");
  /* 1991-10-13 01:00 CDT fell back to 00:00 CST: midnight happened twice */
  int64_t first = T("1991-10-13T04:00:00Z"), second = T("1991-10-13T05:00:00Z");
  cr_assert_eq(ph_tz_day_start(tz, second + 30 * 60000), first);
  cr_assert_eq(ph_tz_day_start(tz, second), first);
  cr_assert_eq(ph_tz_next_day(tz, ph_tz_day_start(tz, first - H)), first);
  cr_assert_eq(ph_tz_next_day(tz, first) - first, 25 * H);
  cr_assert_eq(ph_tz_hour_start(tz, second + 30 * 60000), second, "00:30 CST: the second 00:xx hour");
  ph_tz_free(tz);
}

Test(tz, apia_skipped_2011_12_30) {
  struct ph_tz *tz = load("Pacific/Apia");
  /* Thu 2011-12-29 23:59:59 -10 was followed by Sat 2011-12-31 00:00 +14 */
  int64_t jump = T("2011-12-30T10:00:00Z");
  int64_t thu = ph_tz_day_start(tz, jump - H);
  cr_assert_eq(thu, T("2011-12-29T10:00:00Z"));
  cr_assert_eq(ph_tz_next_day(tz, thu), jump);
  cr_assert_eq(ph_tz_day_start(tz, jump + H), jump);
  unsigned d;
  ph_tz_local_date(tz, jump, NULL, NULL, &d, NULL);
  cr_assert_eq(d, 31);
  ph_tz_free(tz);
}

/* ---- a civil date's local midnight --------------------------------------- */

/* For zones from -11 to +14 h and dates around DST changes, the instant
 * ph_tz_date_start gives lies on that local date and the one before it on
 * the date before: checked through ph_tz_local_date, not the offset math. */
Test(tz, date_start_in_every_offset) {
  static const char *const zones[] = {"Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Shanghai",
                                      "America/New_York", "Europe/Berlin", "Pacific/Tongatapu"};
  static const int dates[][3] = {{2026, 1, 1}, {2026, 3, 8}, {2026, 3, 29}, {2026, 6, 15},
                                 {2026, 10, 25}, {2026, 11, 1}, {2026, 12, 31}};
  for (size_t z = 0; z < sizeof zones / sizeof *zones; z++) {
    struct ph_tz *tz = load(zones[z]);
    for (size_t i = 0; i < sizeof dates / sizeof *dates; i++) {
      int64_t day = ph_days_from_civil(dates[i][0], (unsigned)dates[i][1], (unsigned)dates[i][2]);
      int64_t t = ph_tz_date_start(tz, day);
      cr_assert_eq(local_day(tz, t), day, "%s %04d-%02d-%02d: starts on another date", zones[z], dates[i][0],
                   dates[i][1], dates[i][2]);
      cr_assert_eq(local_day(tz, t - 1), day - 1, "%s %04d-%02d-%02d: not the first instant of the date",
                   zones[z], dates[i][0], dates[i][1], dates[i][2]);
    }
    ph_tz_free(tz);
  }
  /* the old trick (UTC noon's local day) is a day late at +14 h */
  struct ph_tz *k = load("Pacific/Kiritimati");
  int64_t d = ph_days_from_civil(2026, 12, 7);
  cr_assert_eq(local_day(k, ph_tz_day_start(k, d * 86400000 + 43200000)), d + 1);
  cr_assert_eq(ph_tz_date_start(k, d), T("2026-12-06T10:00:00Z"));
  ph_tz_free(k);
  /* a skipped date gives the next one's start */
  struct ph_tz *a = load("Pacific/Apia");
  cr_assert_eq(ph_tz_date_start(a, ph_days_from_civil(2011, 12, 30)), T("2011-12-30T10:00:00Z"));
  ph_tz_free(a);
}

/* ---- UTC and fixed offsets ----------------------------------------------- */

Test(tz, utc_and_fixed_offsets) {
  struct ph_tz *utc = load("UTC"), *cn = load("+08:00"), *nf = load("-05:30");
  int64_t t = T("2026-11-23T10:15:00Z");
  cr_assert_eq(ph_tz_offset_s(utc, t), 0);
  cr_assert_eq(ph_tz_day_start(utc, t), T("2026-11-23T00:00:00Z"));
  cr_assert_eq(ph_tz_hour_start(utc, t), T("2026-11-23T10:00:00Z"));
  cr_assert_eq(ph_tz_offset_s(cn, t), 8 * 3600);
  cr_assert_eq(ph_tz_day_start(cn, t), T("2026-11-22T16:00:00Z"));
  cr_assert_str_eq(ph_tz_name(cn), "+08:00");
  cr_assert_eq(ph_tz_offset_s(nf, t), -(5 * 3600 + 1800));
  cr_assert_eq(ph_tz_hour_start(nf, t), T("2026-11-23T09:30:00Z"));
  cr_assert_eq(ph_tz_day_start(nf, t), T("2026-11-23T05:30:00Z"));
  cr_assert_eq(ph_tz_next_day(nf, T("2026-11-23T05:30:00Z")), T("2026-11-24T05:30:00Z"));
  /* before the epoch and at the clamp limits: no overflow */
  cr_assert_eq(ph_tz_day_start(nf, -1), T("1970-01-01T05:30:00Z") - DAY);
  cr_assert(ph_tz_next_day(nf, INT64_MAX) > INT64_MIN);
  cr_assert(ph_tz_hour_start(nf, INT64_MIN) < 0);
  ph_tz_free(utc);
  ph_tz_free(cn);
  ph_tz_free(nf);
  ph_tz_free(NULL);
  struct ph_tz *etc = load("Etc/GMT+8");
  cr_assert_eq(ph_tz_offset_s(etc, t), -8 * 3600);
  ph_tz_free(etc);
}

/* ---- refused names and files --------------------------------------------- */

static void refused(const char *name, const char *needle) {
  struct ph_tz *tz = (struct ph_tz *)&tz; /* must be reset to NULL */
  struct ph_err err = {0};
  cr_assert_eq(ph_tz_load(name, &tz, &err), PH_ECONFIG, "'%s' accepted", name);
  cr_assert_null(tz);
  cr_assert_eq(err.code, PH_ECONFIG);
  cr_assert(strstr(err.msg, needle), "'%s': message '%s' lacks '%s'", name, err.msg, needle);
}

Test(tz, unknown_zone_is_a_config_error_naming_it) {
  refused("Mars/Olympus_Mons", "Mars/Olympus_Mons");
  refused("Mars/Olympus_Mons", "no such zone");
  refused("Asia", "not a zone file");        /* a directory */
  refused("+25:00", "not a zone name");      /* ':' only in fixed offsets */
  refused("+8:00", "not a zone name");
  refused("", "name empty");
  char longname[100];
  memset(longname, 'A', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  refused(longname, "longer than");
}

Test(tz, path_traversal_names_are_refused) {
  const char *bad[] = {"../etc/passwd", "/etc/passwd", "Asia/../../x", "..", "Asia/..", "Asia/Shang hai",
                       "Asia/Shanghai\n", "Asia\\Shanghai", "~/x", "Europe/Berlin;rm", "a.b"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) refused(bad[i], "not a zone name");
}

Test(tz, truncated_files_are_refused, .init = tmp_init, .fini = tmp_fini) {
  static uint8_t real[65536];
  size_t n = read_real("Europe/Berlin", real, sizeof real);
  write_zone("Whole", real, n);
  ph_tz_free(load("Whole"));
  for (size_t len = 0; len < n; len++) {
    write_zone("Cut", real, len);
    struct ph_tz *tz = NULL;
    struct ph_err err = {0};
    cr_assert_eq(ph_tz_load("Cut", &tz, &err), PH_ECONFIG, "prefix of %zu bytes accepted", len);
    cr_assert_null(tz);
    cr_assert(strstr(err.msg, "'Cut'"), "%s", err.msg);
  }
  refused("Cut", "truncated (footer)");
}

/* Offsets of the fields of a build_tzif() v2 file. */
struct layout {
  size_t h2, times2, idx2, types2, footer;
};

static struct layout layout_of(const struct zone_spec *z) {
  struct layout l;
  l.h2 = 44 + z->ntrans * 5 + z->ntypes * 6 + 4;
  l.times2 = l.h2 + 44;
  l.idx2 = l.times2 + z->ntrans * 8;
  l.types2 = l.idx2 + z->ntrans;
  l.footer = l.types2 + z->ntypes * 6 + 4;
  return l;
}

Test(tz, corrupt_files_are_refused_with_a_reason, .init = tmp_init, .fini = tmp_fini) {
  const int64_t times[] = {0, 15552000, 31536000};
  const uint8_t idx[] = {1, 0, 1};
  const int32_t offs[] = {3600, 7200};
  struct zone_spec z = {2, 3, times, idx, 2, offs, "<+02>-2"};
  struct layout l = layout_of(&z);
  static uint8_t good[1024], b[300000];
  size_t n = build_tzif(&z, good);
  write_zone("Good", good, n);
  struct ph_tz *tz = load("Good");
  cr_assert_eq(ph_tz_offset_s(tz, -1000), 3600);
  cr_assert_eq(ph_tz_offset_s(tz, 0), 7200);
  cr_assert_eq(ph_tz_offset_s(tz, 15552000000LL), 3600);
  cr_assert_eq(ph_tz_offset_s(tz, 40000000000LL), 7200);
  ph_tz_free(tz);

  struct {
    size_t at;
    uint32_t v; /* 32-bit field value, or a byte when bytes == 1 */
    int bytes;
    const char *why;
  } cases[] = {
      {0, 'X', 1, "bad magic"},
      {4, '1', 1, "unknown TZif version"},
      {l.h2 + 4, 0, 1, "second header is not version 2+"},
      {l.h2 + 36, 0, 4, "time type count not in 1..256"},
      {l.h2 + 36, 300, 4, "time type count not in 1..256"},
      {l.h2 + 32, 0x7fffffff, 4, "counts exceed the file"},
      {l.h2 + 32, 0xffffffff, 4, "counts exceed the file"},
      {l.h2 + 40, 0xfffffff0, 4, "counts exceed the file"},
      {l.h2 + 40, 0, 4, "no abbreviation characters"},
      {l.h2 + 20, 1, 4, "UT indicator count"},
      {l.h2 + 28, 1, 4, "leap-second"},
      {l.idx2 + 1, 2, 1, "time type that does not exist"},
      {l.idx2 + 2, 255, 1, "time type that does not exist"},
      {l.times2 + 8 + 4, 0, 4, "not ascending"},
      {l.types2, 0x80000000, 4, "beyond 26 hours"},
      {l.types2 + 4, 2, 1, "bad DST flag"},
      {l.types2 + 5, 4, 1, "abbreviation index"},
      {l.footer - 1, 'X', 1, "not NUL-terminated"},
      {l.footer, 'X', 1, "no newline before the footer"},
      {l.footer + 1, '!', 1, "bad standard-time name"},
      {l.footer + 6, 'Z', 1, "footer TZ string"},
      {n - 1, 'X', 1, "truncated (footer)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    memcpy(b, good, n);
    if (cases[i].bytes == 1)
      b[cases[i].at] = (uint8_t)cases[i].v;
    else
      put32(b + cases[i].at, cases[i].v);
    write_zone("Bad", b, n);
    refused("Bad", cases[i].why);
  }

  /* trailing junk, bad footers, oversized files */
  memcpy(b, good, n);
  b[n] = 'x';
  write_zone("Bad", b, n + 1);
  refused("Bad", "trailing bytes");
  const char *footers[] = {"CET-1CEST",          "CET-1CEST,M3.5.0",      "CET-1CEST,M13.5.0,M10.5.0",
                           "CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,M3.5.7,M10.5.0", "CET-25",
                           "CET-1CEST,J366,J10",  "CET-1CEST,M3.5.0/168,M10.5.0", "<AB>-1",
                           "CET-1:60",           "CET-1CEST,M3.5.0,M10.5.0junk"};
  for (size_t i = 0; i < sizeof footers / sizeof footers[0]; i++) {
    struct zone_spec f = z;
    f.footer = footers[i];
    write_zone("Bad", b, build_tzif(&f, b));
    refused("Bad", footers[i]);
    refused("Bad", "footer TZ string");
  }
  memset(b, 0, sizeof b);
  memcpy(b, good, n);
  write_zone("Big", b, PH_TZ_FILE_MAX + 1);
  refused("Big", "larger than");
}

/* Random damage to a real file: refused or loaded, never a crash (run
 * this under -DSANITIZE=address,undefined). */
Test(tz, randomly_corrupted_files_never_crash, .init = tmp_init, .fini = tmp_fini) {
  static uint8_t real[65536], b[65536];
  const char *zones[] = {"Europe/Berlin", "America/Santiago"};
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  int loaded = 0, refusedn = 0;
  for (size_t zi = 0; zi < 2; zi++) {
    size_t n = read_real(zones[zi], real, sizeof real);
    for (int it = 0; it < 1500; it++) {
      memcpy(b, real, n);
      int flips = 1 + it % 4;
      for (int k = 0; k < flips; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t at = it % 3 == 0 ? (size_t)(x >> 32) % 100 : (size_t)(x >> 32) % n; /* headers often */
        b[at] = (uint8_t)(it % 2 ? x : b[at] ^ (1u << (x % 8)));
      }
      write_zone("Fuzz", b, n);
      struct ph_tz *tz = NULL;
      struct ph_err err = {0};
      int rc = ph_tz_load("Fuzz", &tz, &err);
      if (rc) {
        cr_assert_eq(rc, PH_ECONFIG, "%d %s", rc, err.msg);
        cr_assert_null(tz);
        cr_assert(err.msg[0]);
        refusedn++;
        continue;
      }
      loaded++;
      const int64_t probe[] = {-9000000000000000LL, -4000000000000LL, 0, 1795428000000LL, 4102444800000LL,
                               9000000000000000LL};
      for (size_t p = 0; p < sizeof probe / sizeof probe[0]; p++) {
        int64_t t = probe[p];
        int32_t off = ph_tz_offset_s(tz, t);
        cr_assert(off >= -26 * 3600 && off <= 26 * 3600);
        int64_t ds = ph_tz_day_start(tz, t), hs = ph_tz_hour_start(tz, t);
        cr_assert(ds <= t && hs <= t);
        cr_assert(ph_tz_next_day(tz, ds) > ds);
        int y, hour;
        unsigned m, d;
        ph_tz_local_date(tz, t, &y, &m, &d, &hour);
        cr_assert(m >= 1 && m <= 12 && d >= 1 && d <= 31 && hour >= 0 && hour < 24);
      }
      ph_tz_free(tz);
    }
  }
  cr_assert(loaded > 0 && refusedn > 0, "loaded %d refused %d", loaded, refusedn);
}

Test(tz, version_1_files_use_the_32_bit_data, .init = tmp_init, .fini = tmp_fini) {
  const int64_t times[] = {-100000, 671565600, 684867600};
  const uint8_t idx[] = {0, 1, 0};
  const int32_t offs[] = {28800, 32400};
  struct zone_spec z = {1, 3, times, idx, 2, offs, NULL};
  uint8_t buf[512];
  write_zone("V1", buf, build_tzif(&z, buf));
  struct ph_tz *tz = load("V1");
  cr_assert_eq(ph_tz_offset_s(tz, 671565599000LL), 28800);
  cr_assert_eq(ph_tz_offset_s(tz, 671565600000LL), 32400);
  cr_assert_eq(ph_tz_offset_s(tz, 684867600000LL), 28800);
  cr_assert_eq(ph_tz_offset_s(tz, 4102444800000LL), 28800, "after the table: the last type stays");
  ph_tz_free(tz);
}

Test(tz, out_of_memory_unwinds) {
  const char *names[] = {"UTC", "Europe/Berlin"};
  for (size_t i = 0; i < 2; i++)
    for (long k = 0; k < 2; k++) {
      struct ph_tz *tz = NULL;
      struct ph_err err = {0};
      ph_alloc_fail_after(k);
      int rc = ph_tz_load(names[i], &tz, &err);
      ph_alloc_fail_after(-1);
      if (i == 0 && k == 1) {
        cr_assert_eq(rc, 0);
        ph_tz_free(tz);
        continue;
      }
      cr_assert_eq(rc, PH_ENOMEM, "%s after %ld: %d %s", names[i], k, rc, err.msg);
      cr_assert_null(tz);
    }
}

/* ---- agreement with glibc ------------------------------------------------ */

static const char *const zones[] = {
    "Asia/Shanghai",   "Europe/Berlin",      "America/New_York", "Asia/Kolkata",     "Australia/Sydney",
    "America/Santiago", "Australia/Lord_Howe", "Europe/Dublin",    "Africa/Casablanca", "America/Sao_Paulo",
    "Pacific/Apia",     "America/Havana",     "Asia/Tehran",      "Pacific/Chatham",   "Asia/Kathmandu",
    "America/Nuuk",     "Europe/London",      "America/Los_Angeles", "Pacific/Kiritimati", "Asia/Gaza"};

static long glibc_off(time_t t) {
  struct tm tm;
  cr_assert_not_null(localtime_r(&t, &tm));
  return tm.tm_gmtoff;
}

/* Single-threaded, so the process-wide TZ is fine here. */
Test(tz, offsets_agree_with_glibc_localtime_r) {
  long checked = 0, changes = 0;
  for (size_t zi = 0; zi < sizeof zones / sizeof zones[0]; zi++) {
    struct ph_tz *tz = load(zones[zi]);
    setenv("TZ", zones[zi], 1);
    tzset();
    const time_t lo = 631152000 /* 1990 */, hi = 4102444800 /* 2100 */, step = 7 * 3600 + 13 * 60 + 17;
    long prev = glibc_off(lo);
    for (time_t t = lo; t < hi; t += step) {
      long g = glibc_off(t);
      cr_assert_eq(ph_tz_offset_s(tz, (int64_t)t * 1000), g, "%s at %lld", zones[zi], (long long)t);
      checked++;
      if (g != prev) { /* find the change to the second and compare both sides */
        time_t a = t - step, b = t;
        while (b - a > 1) {
          time_t mid = a + (b - a) / 2;
          if (glibc_off(mid) == prev)
            a = mid;
          else
            b = mid;
        }
        cr_assert_eq(ph_tz_offset_s(tz, (int64_t)a * 1000 + 999), glibc_off(a), "%s at %lld", zones[zi],
                     (long long)a);
        cr_assert_eq(ph_tz_offset_s(tz, (int64_t)b * 1000), glibc_off(b), "%s at %lld", zones[zi],
                     (long long)b);
        changes++;
        prev = g;
      }
    }
    ph_tz_free(tz);
  }
  cr_log_info("%ld instants, %ld offset changes compared", checked, changes);
  cr_assert(changes > 1000);
}

/* ---- properties of the day and hour buckets ------------------------------ */

static bool changes_at(const struct ph_tz *tz, int64_t t) { return ph_tz_offset_s(tz, t - 1) != ph_tz_offset_s(tz, t); }

static void check_buckets(const struct ph_tz *tz, const char *z, int64_t t) {
  char b1[PH_TIME_STRLEN];
  int64_t day = local_day(tz, t);
  int64_t ds = ph_tz_day_start(tz, t), nd = ph_tz_next_day(tz, ds);
  cr_assert(ds <= t && t < nd, "%s %s", z, fmt(t, b1));
  cr_assert_eq(local_day(tz, ds), day, "%s %s", z, fmt(t, b1));
  cr_assert_neq(local_day(tz, ds - 1), day, "%s %s", z, fmt(t, b1));
  cr_assert_eq(local_day(tz, nd - 1), day, "%s %s", z, fmt(t, b1));
  cr_assert_gt(local_day(tz, nd), day, "%s %s", z, fmt(t, b1));
  cr_assert(changes_at(tz, ds) || (ds + ph_tz_offset_s(tz, ds) * 1000LL) % DAY == 0, "%s %s", z, fmt(t, b1));
  cr_assert(nd - ds >= 22 * H && nd - ds <= 26 * H, "%s %s: %lld", z, fmt(t, b1), (long long)(nd - ds));
  cr_assert_eq(ph_tz_day_start(tz, ds), ds);
  cr_assert_eq(ph_tz_day_start(tz, nd), nd);

  int64_t hs = ph_tz_hour_start(tz, t);
  int hh, ht;
  cr_assert(hs <= t && t < hs + H, "%s %s", z, fmt(t, b1));
  cr_assert_eq(ph_tz_offset_s(tz, hs), ph_tz_offset_s(tz, t), "%s %s", z, fmt(t, b1));
  cr_assert(changes_at(tz, hs) || (hs + ph_tz_offset_s(tz, hs) * 1000LL) % H == 0, "%s %s", z, fmt(t, b1));
  ph_tz_local_date(tz, hs, NULL, NULL, NULL, &hh);
  ph_tz_local_date(tz, t, NULL, NULL, NULL, &ht);
  cr_assert(hh == ht && local_day(tz, hs) == day, "%s %s", z, fmt(t, b1));
  cr_assert_eq(ph_tz_hour_start(tz, hs), hs);
}

/* Every step, and around every offset change found on the way. */
Test(tz, day_and_hour_buckets_hold_their_invariants) {
  const int64_t step = 5 * H + 3 * 60000 + 7001;
  const int64_t near[] = {-DAY / 2, -2 * H, -H - 1, -H, -30 * 60000, -1, 0, 1, 30 * 60000, H, H + 1, 2 * H, DAY / 2};
  for (size_t zi = 0; zi < sizeof zones / sizeof zones[0]; zi++) {
    struct ph_tz *tz = load(zones[zi]);
    for (int64_t t = T("1990-01-01T00:00:00Z"); t < T("2060-01-01T00:00:00Z"); t += step) {
      check_buckets(tz, zones[zi], t);
      if (ph_tz_offset_s(tz, t - step) == ph_tz_offset_s(tz, t)) continue;
      int64_t a = t - step, b = t; /* offset(a) != offset(b): find the change */
      int32_t before = ph_tz_offset_s(tz, a);
      while (b - a > 1) {
        int64_t mid = a + (b - a) / 2;
        if (ph_tz_offset_s(tz, mid) == before)
          a = mid;
        else
          b = mid;
      }
      for (size_t k = 0; k < sizeof near / sizeof near[0]; k++) check_buckets(tz, zones[zi], b + near[k]);
    }
    ph_tz_free(tz);
  }
}

/* ---- shared between threads ------------------------------------------------ */

struct worker {
  const struct ph_tz *tz;
  int64_t sum;
};

static void *work(void *arg) {
  struct worker *w = arg;
  for (int64_t t = 1700000000000LL; t < 2300000000000LL; t += 3 * H + 1)
    w->sum += ph_tz_day_start(w->tz, t) ^ ph_tz_hour_start(w->tz, t) ^ ph_tz_offset_s(w->tz, t);
  return NULL;
}

Test(tz, one_zone_is_shared_by_threads) {
  struct ph_tz *tz = load("Europe/Berlin");
  struct worker one = {tz, 0}, w[4];
  work(&one);
  pthread_t th[4];
  for (int i = 0; i < 4; i++) {
    w[i] = (struct worker){tz, 0};
    cr_assert_eq(pthread_create(&th[i], NULL, work, &w[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    cr_assert_eq(w[i].sum, one.sum);
  }
  ph_tz_free(tz);
}

Test(tz, format_local_gives_the_time_and_the_offset_then_in_force) {
  /* 2026-03-29 01:30 UTC is 03:30 CEST (+02:00) in Berlin; 00:30 UTC is 01:30 CET (+01:00);
   * 1969-12-31 20:00 UTC in Shanghai is 1970-01-01 04:00 (+08:00): a negative instant */
  struct ph_tz *b, *s;
  struct ph_err err = {0};
  char buf[40];
  cr_assert_eq(ph_tz_load("Europe/Berlin", &b, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_tz_load("Asia/Shanghai", &s, &err), 0, "%s", err.msg);
  int64_t t = ph_days_from_civil(2026, 3, 29) * 86400000LL;
  ph_tz_format_local(b, t + 90 * 60000, buf, sizeof buf);
  cr_assert_str_eq(buf, "2026-03-29T03:30:00+02:00");
  ph_tz_format_local(b, t + 30 * 60000, buf, sizeof buf);
  cr_assert_str_eq(buf, "2026-03-29T01:30:00+01:00");
  ph_tz_format_local(s, -4 * 3600000LL, buf, sizeof buf);
  cr_assert_str_eq(buf, "1970-01-01T04:00:00+08:00");
  ph_tz_free(b);
  ph_tz_free(s);
}

Test(tz, format_human_is_local_24_hour_and_marks_utc) {
  /* 2026-12-06 19:40:59 UTC is 2026-12-07 03:40 in Shanghai (+08:00, no DST) */
  struct ph_tz *s;
  struct ph_err err = {0};
  char buf[40];
  cr_assert_eq(ph_tz_load("Asia/Shanghai", &s, &err), 0, "%s", err.msg);
  int64_t t = ph_days_from_civil(2026, 12, 6) * 86400000LL + ((19 * 60 + 40) * 60 + 59) * 1000LL;
  ph_tz_format_human(s, t, buf, sizeof buf);
  cr_assert_str_eq(buf, "2026-12-07 03:40");
  ph_tz_format_human(NULL, t, buf, sizeof buf);
  cr_assert_str_eq(buf, "2026-12-06 19:40 UTC");
  ph_tz_free(s);
}
