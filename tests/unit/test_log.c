#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include "parkhub/err.h"
#include "parkhub/log.h"

Test(log, ratelimit_logs_first_then_counts) {
  struct ph_ratelimit rl;
  uint64_t sup = 99;
  ph_ratelimit_init(&rl, 1000);
  cr_assert(ph_ratelimit_ok(&rl, 5000, &sup));
  cr_assert_eq(sup, 0);
  for (int i = 0; i < 10; i++) cr_assert_not(ph_ratelimit_ok(&rl, 5000 + i * 10, &sup));
  cr_assert(ph_ratelimit_ok(&rl, 6000, &sup));
  cr_assert_eq(sup, 10, "the next logged line says how many were swallowed");
}

Test(log, levels_parse_and_filter, .init = cr_redirect_stderr) {
  enum ph_log_level l;
  cr_assert_eq(ph_log_level_parse("warn", &l), 0);
  cr_assert_eq(l, PH_LOG_WARN);
  cr_assert_eq(ph_log_level_parse("loud", &l), PH_EINVAL);
  ph_log_set_level(PH_LOG_WARN);
  PH_INFO("test", "hidden");
  PH_WARN("test", "shown %d\nsecond line", 1);
  fflush(stderr);
  char buf[256] = {0};
  FILE *f = cr_get_redirected_stderr();
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  cr_assert_gt(n, 0);
  cr_assert_null(strstr(buf, "hidden"));
  cr_assert_not_null(strstr(buf, "WARN test: shown 1 second line\n"), "%s", buf);
}

Test(log, error_names_round_trip) {
  cr_assert_str_eq(ph_errname(PH_ERANGE), "PH_ERANGE");
  cr_assert_eq(ph_errcode_by_name("PH_ESKEW"), PH_ESKEW);
  cr_assert_eq(ph_errcode_by_name("PH_NOPE"), 0);
  cr_assert_str_eq(ph_strerror(0), "success");
  cr_assert_str_eq(ph_strerror(12345), "unknown error");
}

/* A terminal shows what the log holds: control characters (C0, DEL, C1 in
 * UTF-8) and bytes that are not UTF-8 are written as \xNN, so a name like
 * "\x1b[2J" cannot clear the screen or forge a line. UTF-8 text stays. */
Test(log, control_characters_are_escaped, .init = cr_redirect_stderr) {
  ph_log_set_level(PH_LOG_INFO);
  PH_WARN("test", "by '%s'", "a\x1b[31mb\x07" "c\x7f\td\xc2\x9b" "e\xff\xe6\x9d\x8e\x01");
  fflush(stderr);
  char buf[512] = {0};
  FILE *f = cr_get_redirected_stderr();
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  cr_assert_gt(n, 0);
  cr_assert_not_null(strstr(buf, "WARN test: by 'a\\x1b[31mb\\x07c\\x7f\\x09d\\xc2\\x9be\\xff\xe6\x9d\x8e\\x01'\n"),
                     "%s", buf);
  for (size_t i = 0; i < n; i++)
    cr_assert(buf[i] == '\n' || ((unsigned char)buf[i] >= 0x20 && buf[i] != 0x7f), "byte %zu is 0x%02x", i,
              (unsigned char)buf[i]);
}

/* The escapes fit the line: a long message is cut, never an escape half-written. */
Test(log, escapes_are_never_cut, .init = cr_redirect_stderr) {
  char msg[3000];
  memset(msg, 0x1b, sizeof msg - 1);
  msg[sizeof msg - 1] = 0;
  PH_WARN("test", "%s", msg);
  fflush(stderr);
  char buf[4096] = {0};
  FILE *f = cr_get_redirected_stderr();
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  cr_assert_gt(n, 0);
  cr_assert_eq(buf[n - 1], '\n');
  cr_assert_lt(n, 1025, "still one bounded line");
  const char *end = strrchr(buf, '\\');
  cr_assert_not_null(end);
  cr_assert_eq(strlen(end), 5, "the last escape is whole: %s", end);
}
