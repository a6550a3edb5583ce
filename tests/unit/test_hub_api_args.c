/* test_hub_api_args.c — the API's argument parsers (hub/api/api_args.c):
 * pure functions, good values, bad values and bounds, each refusal with its
 * code and a reason, outputs untouched on a refusal. */
#include <criterion/criterion.h>
#include <string.h>

#include "api/api_args.h"

TestSuite(api_args);

Test(api_args, times) {
  struct ph_err err = {0};
  int64_t t = 7;
  cr_assert_eq(api_parse_time("2026-01-01T00:00:00Z", &t, &err), 0, "%s", err.msg);
  cr_assert_eq(t, 1767225600000);
  cr_assert_eq(api_parse_time("2026-01-01T08:00:00+08:00", &t, &err), 0, "%s", err.msg);
  cr_assert_eq(t, 1767225600000);
  /* a '+' that form decoding turned into a space */
  cr_assert_eq(api_parse_time("2026-01-01T08:00:00 08:00", &t, &err), 0, "%s", err.msg);
  cr_assert_eq(t, 1767225600000);
  static const char *const bad[] = {"", "yesterday", "2026-01-01", "2026-13-01T00:00:00Z", "2026-01-01T25:00:00Z",
                                    "2026-01-01T00:00:00", "2026-01-01 00:00:00Z x", "１２"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    t = 7;
    cr_assert_eq(api_parse_time(bad[i], &t, &err), PH_ETIME, "'%s'", bad[i]);
    cr_assert_eq(t, 7, "untouched on a refusal");
    cr_assert(strstr(err.msg, "RFC 3339"), "%s", err.msg);
  }
  char longer[1000];
  memset(longer, '9', sizeof longer - 1);
  longer[sizeof longer - 1] = 0;
  cr_assert_eq(api_parse_time(longer, &t, &err), PH_ETIME);
  cr_assert_lt(strlen(err.msg), 200, "the value is quoted cut short");
}

Test(api_args, ids) {
  struct ph_err err = {0};
  cr_assert_eq(api_parse_id("stack-1", &err), 0);
  cr_assert_eq(api_parse_id("e_2", &err), 0);
  char max[65];
  memset(max, 'a', 64);
  max[64] = 0;
  cr_assert_eq(api_parse_id(max, &err), 0, "64 characters");
  static const char *const bad[] = {"", "Stack", "-a", "_a", "a b", "a/b", "a.b", "冶炼", "a\x01"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_eq(api_parse_id(bad[i], &err), PH_EBADID, "'%s'", bad[i]);
  char over[66];
  memset(over, 'a', 65);
  over[65] = 0;
  cr_assert_eq(api_parse_id(over, &err), PH_EBADID, "65 characters");
  cr_assert(strstr(err.msg, "not an id"), "%s", err.msg);
}

Test(api_args, id_lists) {
  struct ph_err err = {0};
  char ids[3][PH_ID_MAX + 1];
  int n = -1;
  cr_assert_eq(api_parse_id_list("p1", ids, 3, &n, &err), 0, "%s", err.msg);
  cr_assert_eq(n, 1);
  cr_assert_str_eq(ids[0], "p1");
  cr_assert_eq(api_parse_id_list("p1,park-2,p_3", ids, 3, &n, &err), 0, "%s", err.msg);
  cr_assert_eq(n, 3);
  cr_assert_str_eq(ids[1], "park-2");
  cr_assert_str_eq(ids[2], "p_3");
  static const char *const bad[] = {"", ",", "p1,", ",p1", "p1,,p2", "P1", "p1 ,p2", "p1;p2", "冶炼"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    n = -1;
    cr_assert_eq(api_parse_id_list(bad[i], ids, 3, &n, &err), PH_EBADID, "'%s'", bad[i]);
    cr_assert_eq(n, -1, "untouched on a refusal");
  }
  cr_assert_eq(api_parse_id_list("p1,p2,p1", ids, 3, &n, &err), PH_EINVAL);
  cr_assert(strstr(err.msg, "'p1' is given twice"), "%s", err.msg);
  cr_assert_eq(api_parse_id_list("a,b,c,d", ids, 3, &n, &err), PH_ERANGE);
  cr_assert(strstr(err.msg, "more than 3"), "%s", err.msg);
  char over[80];
  memset(over, 'a', 65);
  over[65] = 0;
  cr_assert_eq(api_parse_id_list(over, ids, 3, &n, &err), PH_EBADID, "an id of 65 characters");
  cr_assert_eq(n, -1);
}

Test(api_args, integers_within_bounds) {
  struct ph_err err = {0};
  int64_t x = 5;
  cr_assert_eq(api_parse_int("1", 1, 100, &x, &err), 0);
  cr_assert_eq(x, 1);
  cr_assert_eq(api_parse_int("100", 1, 100, &x, &err), 0);
  cr_assert_eq(x, 100);
  cr_assert_eq(api_parse_int("9223372036854775807", 1, INT64_MAX, &x, &err), 0);
  cr_assert_eq(x, INT64_MAX);
  static const char *const bad[] = {"0", "101", "-1", "", "1.5", "1e3", "12abc", "0x10", "99999999999999999999"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    x = 5;
    cr_assert_eq(api_parse_int(bad[i], 1, 100, &x, &err), PH_ERANGE, "'%s'", bad[i]);
    cr_assert_eq(x, 5);
  }
  cr_assert_str_eq(err.msg, "must be a whole number in 1..100");
}

Test(api_args, words_bits_and_formats) {
  struct ph_err err = {0};
  static const char *const steps[] = {"raw", "1m", "1h", "1d", NULL};
  int i = -1;
  cr_assert_eq(api_parse_word("1h", steps, &i, &err), 0);
  cr_assert_eq(i, 2);
  i = -1;
  cr_assert_eq(api_parse_word("1H", steps, &i, &err), PH_EENUM, "case matters");
  cr_assert_eq(api_parse_word("", steps, &i, &err), PH_EENUM);
  cr_assert_eq(i, -1);
  cr_assert_str_eq(err.msg, "must be one of raw|1m|1h|1d");

  bool b = true;
  cr_assert_eq(api_parse_bit("0", &b, &err), 0);
  cr_assert(!b);
  cr_assert_eq(api_parse_bit("1", &b, &err), 0);
  cr_assert(b);
  cr_assert_eq(api_parse_bit("no", &b, &err), PH_EENUM);
  cr_assert_eq(api_parse_bit("01", &b, &err), PH_EENUM);
  cr_assert(b);

  bool csv = true;
  cr_assert_eq(api_parse_format(NULL, NULL, &csv, &err), 0);
  cr_assert(!csv, "JSON by default");
  cr_assert_eq(api_parse_format(NULL, "text/html, text/csv;q=0.9", &csv, &err), 0);
  cr_assert(csv, "Accept: text/csv");
  cr_assert_eq(api_parse_format("json", "text/csv", &csv, &err), 0);
  cr_assert(!csv, "format= wins over Accept:");
  cr_assert_eq(api_parse_format("csv", NULL, &csv, &err), 0);
  cr_assert(csv);
  cr_assert_eq(api_parse_format("xml", NULL, &csv, &err), PH_EENUM);
  cr_assert_str_eq(err.msg, "must be json or csv");
}

Test(api_args, periods) {
  struct ph_err err = {0};
  cr_assert_eq(api_parse_period(0, 1, 1, "1 ms", &err), 0);
  cr_assert_eq(api_parse_period(0, 86400000, 86400000, "1 day", &err), 0, "the maximum itself");
  cr_assert_eq(api_parse_period(5, 5, 10, "x", &err), PH_ERANGE);
  cr_assert_str_eq(err.msg, "must be after from");
  cr_assert_eq(api_parse_period(5, 4, 10, "x", &err), PH_ERANGE);
  cr_assert_eq(api_parse_period(0, 86400001, 86400000, "1 day", &err), PH_ERANGE);
  cr_assert_str_eq(err.msg, "the range is longer than 1 day");
}

Test(api_args, cursors) {
  struct ph_err err = {0};
  int64_t t = -1, k = -1;
  cr_assert_eq(api_parse_time_cursor("1000", 1000, 2000, &t, &err), 0);
  cr_assert_eq(t, 1000);
  cr_assert_eq(api_parse_time_cursor("2000", 1000, 2000, &t, &err), PH_EINVAL, "to is exclusive");
  cr_assert_eq(api_parse_time_cursor("999", 1000, 2000, &t, &err), PH_EINVAL);
  cr_assert_eq(api_parse_time_cursor("1500x", 1000, 2000, &t, &err), PH_EINVAL);
  cr_assert_eq(t, 1000);
  cr_assert_str_eq(err.msg, "not a cursor of this query");

  cr_assert_eq(api_parse_raw_cursor("1500", 1000, 2000, &t, &k, &err), 0);
  cr_assert_eq(t, 1500);
  cr_assert_eq(k, 0);
  cr_assert_eq(api_parse_raw_cursor("1500.3", 1000, 2000, &t, &k, &err), 0);
  cr_assert_eq(k, 3);
  static const char *const bad[] = {"", ".", "1500.", "1500.-1", "1500.x", "1500.3.4", "2000", "999.1", "abc",
                                    "1500.99999999999999999999"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    t = k = -1;
    cr_assert_eq(api_parse_raw_cursor(bad[i], 1000, 2000, &t, &k, &err), PH_EINVAL, "'%s'", bad[i]);
    cr_assert_eq(t, -1);
    cr_assert_eq(k, -1);
  }
}

Test(api_args, cems_cursors) {
  struct ph_err err = {0};
  struct api_cems_cursor k;
  memset(&k, 0, sizeof k);
  cr_assert_eq(api_parse_cems_cursor("cu-old.s5.so2.1500", false, 1000, 2000, &k, &err), 0, "%s", err.msg);
  cr_assert_str_eq(k.ent, "cu-old");
  cr_assert_str_eq(k.point, "s5");
  cr_assert_str_eq(k.metric, "so2");
  cr_assert_eq(k.t, 1500);
  cr_assert_eq(k.period, 0);
  cr_assert_eq(api_parse_cems_cursor("1500.2.cu-old.s5.so2", true, 1000, 2000, &k, &err), 0, "%s", err.msg);
  cr_assert_eq(k.period, 2);
  cr_assert_str_eq(k.metric, "so2");
  static const char *const bad_hours[] = {"", "a.b.c", "a.b.c.d", "a.b.c.1500.x", "A.b.c.1500", "a..c.1500",
                                          "a.b.c.2000", "a.b.c.999", "a.b.c.15x", "1500.1.a.b.c"};
  for (size_t i = 0; i < sizeof bad_hours / sizeof bad_hours[0]; i++) {
    k.t = -1;
    cr_assert_eq(api_parse_cems_cursor(bad_hours[i], false, 1000, 2000, &k, &err), PH_EINVAL, "'%s'", bad_hours[i]);
    cr_assert_eq(k.t, -1, "untouched on a refusal");
  }
  static const char *const bad_exc[] = {"1500.3.a.b.c", "1500.0.a.b.c", "1500.x.a.b.c", "a.b.c.1500", "999.1.a.b.c"};
  for (size_t i = 0; i < sizeof bad_exc / sizeof bad_exc[0]; i++)
    cr_assert_eq(api_parse_cems_cursor(bad_exc[i], true, 1000, 2000, &k, &err), PH_EINVAL, "'%s'", bad_exc[i]);
  char longer[600];
  memset(longer, 'a', sizeof longer - 1);
  longer[sizeof longer - 1] = 0;
  cr_assert_eq(api_parse_cems_cursor(longer, false, 1000, 2000, &k, &err), PH_EINVAL);
  cr_assert(strstr(err.msg, "previous page"), "%s", err.msg);
}

/* err may be NULL: the verdict alone (what a fuzz target asks). */
Test(api_args, no_err_buffer) {
  int64_t x;
  int i;
  bool b;
  static const char *const w[] = {"a", NULL};
  struct api_cems_cursor c;
  cr_assert_eq(api_parse_time("x", &x, NULL), PH_ETIME);
  cr_assert_eq(api_parse_id("X", NULL), PH_EBADID);
  cr_assert_eq(api_parse_int("x", 0, 1, &x, NULL), PH_ERANGE);
  cr_assert_eq(api_parse_word("b", w, &i, NULL), PH_EENUM);
  cr_assert_eq(api_parse_bit("2", &b, NULL), PH_EENUM);
  cr_assert_eq(api_parse_format("xml", NULL, &b, NULL), PH_EENUM);
  cr_assert_eq(api_parse_period(1, 0, 5, "x", NULL), PH_ERANGE);
  cr_assert_eq(api_parse_time_cursor("x", 0, 5, &x, NULL), PH_EINVAL);
  cr_assert_eq(api_parse_raw_cursor("x", 0, 5, &x, &x, NULL), PH_EINVAL);
  cr_assert_eq(api_parse_cems_cursor("x", false, 0, 5, &c, NULL), PH_EINVAL);
  char ids[1][PH_ID_MAX + 1];
  cr_assert_eq(api_parse_id_list("a,b", ids, 1, &i, NULL), PH_ERANGE);
}
