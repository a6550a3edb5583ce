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
