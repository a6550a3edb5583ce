/* Compliance figures (compliance.h) over CEMS tables filled by
 * ph_cems_update from hand-computed fixtures; times are park-local
 * (Asia/Shanghai, UTC+8). cu-old is an existing Cu plant (SO2 150 from
 * 2017-01-01), cu-special has the special limits (SO2 100). */
#include "hub_cems_fixture.h"
#include "domain/compliance.h"

TestSuite(compliance, .init = fx_setup, .fini = fx_teardown);

static struct ph_compliance summary(const char *ent, const char *point, const char *metric, int64_t from,
                                    int64_t to) {
  struct ph_compliance c;
  struct ph_err err = {0};
  cr_assert_eq(ph_compliance_summary(db, NULL, tz, "p1", ent, point, metric, from, to, &c, &err), 0, "%s", err.msg);
  return c;
}

/* 2017-03-01 at cu-old stack-1, hourly SO2:
 *   hours 0..17 at 100, hour 18 at 180, hour 19 at 165, hour 20 flagged C,
 *   hours 21..23 missing. */
static int64_t day_one(void) {
  int64_t sid = series("cu-old", "stack-1", "so2");
  int64_t d = local(2017, 3, 1, 0, 0);
  hourly_run(sid, d, 0, 18, 100);
  hourly(sid, d + 18 * H, 180, true);
  hourly(sid, d + 19 * H, 165, true);
  hourly(sid, d + 20 * H, 400, false);
  return d;
}

Test(compliance, rate_exceedances_worst_and_availability) {
  int64_t d = day_one();
  update(local(2017, 3, 2, 0, 2));
  struct ph_compliance c = summary("cu-old", NULL, "so2", d, d + 24 * H);
  cr_assert_eq(c.npoints, 1);
  /* hours: 24 expected, 20 valid (0..19), all with the limit 150, 18 within,
   * 2 above → rate 18/20 = 0.9, availability 20/24 */
  cr_assert_eq(c.hours.expected, 24);
  cr_assert_eq(c.hours.valid, 20);
  cr_assert_eq(c.hours.with_limit, 20);
  cr_assert_eq(c.hours.within, 18);
  cr_assert_eq(c.hours.exceeded, 2);
  cr_assert_float_eq(c.hours.rate, 0.9, EPS);
  cr_assert_float_eq(c.hours.availability, 20.0 / 24.0, EPS);
  /* worst hour: 180 / 150 = 1.2 at 18:00 */
  cr_assert_float_eq(c.hours.worst.ratio, 1.2, EPS);
  cr_assert_float_eq(c.hours.worst.mean, 180.0, EPS);
  cr_assert_float_eq(c.hours.worst.limit, 150.0, EPS);
  cr_assert_eq(c.hours.worst.bucket_ms, d + 18 * H);
  cr_assert_str_eq(c.hours.worst.point, "stack-1");
  /* day: 20 valid hours → valid; mean (18 × 100 + 180 + 165) / 20 = 107.25
   * ≤ 150 → within; worst 107.25 / 150 = 0.715 */
  cr_assert_eq(c.days.expected, 1);
  cr_assert_eq(c.days.valid, 1);
  cr_assert_eq(c.days.within, 1);
  cr_assert_eq(c.days.exceeded, 0);
  cr_assert_float_eq(c.days.rate, 1.0, EPS);
  cr_assert_float_eq(c.days.worst.mean, 107.25, EPS);
  cr_assert_float_eq(c.days.worst.ratio, 0.715, EPS);
}

Test(compliance, hours_without_a_limit_do_not_count_toward_the_rate) {
  /* SO2 200 all of 2016-12-31 (no limit yet for an existing plant) and 100
   * all of 2017-01-01 (limit 150): 48 valid hours, 24 with a limit, all
   * within → rate 1; days: 2 valid, 1 with a limit, within. */
  int64_t sid = series("cu-old", "stack-1", "so2");
  int64_t d1 = local(2016, 12, 31, 0, 0), d2 = local(2017, 1, 1, 0, 0);
  hourly_run(sid, d1, 0, 24, 200);
  hourly_run(sid, d2, 0, 24, 100);
  update(local(2017, 1, 2, 0, 2));
  struct ph_compliance c = summary("cu-old", NULL, "so2", d1, d2 + 24 * H);
  cr_assert_eq(c.hours.valid, 48);
  cr_assert_eq(c.hours.with_limit, 24);
  cr_assert_eq(c.hours.within, 24);
  cr_assert_eq(c.hours.exceeded, 0);
  cr_assert_float_eq(c.hours.rate, 1.0, EPS);
  cr_assert_float_eq(c.hours.availability, 1.0, EPS);
  cr_assert_eq(c.days.valid, 2);
  cr_assert_eq(c.days.with_limit, 1);
  cr_assert_float_eq(c.days.rate, 1.0, EPS);
  /* only 2016: nothing had a limit → no rate, no worst */
  c = summary("cu-old", NULL, "so2", d1, d2);
  cr_assert_eq(c.hours.with_limit, 0);
  cr_assert(isnan(c.hours.rate));
  cr_assert_eq(c.hours.worst.bucket_ms, 0);
}

Test(compliance, expected_periods_stop_at_what_has_closed) {
  /* hours 0..9 of 2017-03-01 valid; at 10:02 hours up to 10:00 are closed:
   * the day's summary expects 10 hours (not 24) and no day yet */
  int64_t sid = series("cu-old", "stack-1", "so2");
  int64_t d = local(2017, 3, 1, 0, 0);
  hourly_run(sid, d, 0, 12, 100);
  update(local(2017, 3, 1, 10, 2));
  struct ph_compliance c = summary("cu-old", NULL, "so2", d, d + 24 * H);
  cr_assert_eq(c.closed_ms, local(2017, 3, 1, 10, 0));
  cr_assert_eq(c.hours_to_ms, local(2017, 3, 1, 10, 0));
  cr_assert_eq(c.hours.expected, 10);
  cr_assert_eq(c.hours.valid, 10);
  cr_assert_float_eq(c.hours.availability, 1.0, EPS);
  cr_assert_eq(c.days.expected, 0);
  cr_assert(isnan(c.days.availability));
}

Test(compliance, enterprise_totals_over_stacks_and_per_point) {
  /* stack-1: 20 valid hours at 100; stack-2: 10 valid hours at 160 (above
   * 150). Enterprise: 48 expected, 30 valid (availability 0.625), 20
   * within, 10 exceeded (rate 20/30); stack-2 alone: 24 expected, 10 valid,
   * rate 0; day: stack-1 valid (20 h), stack-2 invalid (10 h). */
  int64_t s1 = series("cu-old", "stack-1", "so2"), s2 = series("cu-old", "stack-2", "so2");
  int64_t d = local(2017, 3, 1, 0, 0);
  hourly_run(s1, d, 0, 20, 100);
  hourly_run(s2, d, 0, 10, 160);
  update(local(2017, 3, 2, 0, 2));
  struct ph_compliance c = summary("cu-old", NULL, "so2", d, d + 24 * H);
  cr_assert_eq(c.npoints, 2);
  cr_assert_eq(c.hours.expected, 48);
  cr_assert_eq(c.hours.valid, 30);
  cr_assert_float_eq(c.hours.availability, 0.625, EPS);
  cr_assert_eq(c.hours.within, 20);
  cr_assert_eq(c.hours.exceeded, 10);
  cr_assert_float_eq(c.hours.rate, 20.0 / 30.0, EPS);
  cr_assert_str_eq(c.hours.worst.point, "stack-2");
  cr_assert_eq(c.hours.worst.bucket_ms, d); /* ties: the earliest hour */
  cr_assert_eq(c.days.expected, 2);
  cr_assert_eq(c.days.valid, 1);
  cr_assert_float_eq(c.days.availability, 0.5, EPS);
  struct ph_compliance p = summary("cu-old", "stack-2", "so2", d, d + 24 * H);
  cr_assert_eq(p.npoints, 1);
  cr_assert_eq(p.hours.expected, 24);
  cr_assert_eq(p.hours.valid, 10);
  cr_assert_float_eq(p.hours.rate, 0.0, EPS);
}

Test(compliance, days_are_judged_on_the_converted_mean) {
  /* SO2 130 and flow 50 000 Nm³/h all day, 100 t of cathode: ratio 1.2 →
   * converted 156 > 150: every hour within, the day exceeded; worst day
   * 156 / 150 = 1.04. */
  int64_t so2 = series("cu-old", "stack-1", "so2"), flow = series("cu-old", "stack-1", "flow");
  int64_t d = local(2017, 3, 1, 0, 0);
  hourly_run(so2, d, 0, 24, 130);
  hourly_run(flow, d, 0, 24, 50000);
  material("cu-old", "scale", d + 8 * H, "cathode_cu", "out", 100);
  update(local(2017, 3, 2, 0, 2));
  struct ph_compliance c = summary("cu-old", NULL, "so2", d, d + 24 * H);
  cr_assert_eq(c.hours.exceeded, 0);
  cr_assert_float_eq(c.hours.rate, 1.0, EPS);
  cr_assert_eq(c.days.exceeded, 1);
  cr_assert_float_eq(c.days.rate, 0.0, EPS);
  cr_assert_float_eq(c.days.worst.mean, 130.0, EPS);
  cr_assert_float_eq(c.days.worst.converted, 156.0, 1e-9);
  cr_assert_float_eq(c.days.worst.ratio, 1.04, 1e-9);
}

Test(compliance, whole_park) {
  /* cu-old stack-1 SO2 100 for 20 h, cu-special stack-1 SO2 120 for 20 h
   * (special limit 100 → 20 exceeded): park: 40 valid, 20 within. */
  int64_t a = series("cu-old", "stack-1", "so2"), b = series("cu-special", "stack-1", "so2");
  int64_t d = local(2017, 3, 1, 0, 0);
  hourly_run(a, d, 0, 20, 100);
  hourly_run(b, d, 0, 20, 120);
  update(local(2017, 3, 2, 0, 2));
  struct ph_compliance c = summary(NULL, NULL, "so2", d, d + 24 * H);
  cr_assert_eq(c.npoints, 2);
  cr_assert_eq(c.hours.valid, 40);
  cr_assert_eq(c.hours.within, 20);
  cr_assert_eq(c.hours.exceeded, 20);
  cr_assert_float_eq(c.hours.worst.ratio, 1.2, EPS); /* 120 / 100 */
  cr_assert_eq(c.days.exceeded, 1);
}

struct seen {
  int n;
  struct ph_exceedance e[4];
};
static int collect(void *u, const struct ph_exceedance *e) {
  struct seen *s = u;
  if (s->n < 4) s->e[s->n] = *e;
  s->n++;
  return 0;
}
static int stop_at_first(void *u, const struct ph_exceedance *e) {
  (void)e;
  (*(int *)u)++;
  return 7;
}

Test(compliance, exceedance_listing) {
  int64_t d = day_one();
  update(local(2017, 3, 2, 0, 2));
  struct seen s = {0};
  struct ph_err err = {0};
  cr_assert_eq(ph_compliance_exceedances(db, "p1", "cu-old", "so2", d, d + 24 * H, collect, &s, &err), 0, "%s",
               err.msg);
  cr_assert_eq(s.n, 2); /* 18:00 (180) and 19:00 (165) */
  cr_assert_eq(s.e[0].bucket_ms, d + 18 * H);
  cr_assert_eq(s.e[0].period, PH_CEMS_PERIOD_HOUR);
  cr_assert_float_eq(s.e[0].mean, 180.0, EPS);
  cr_assert_float_eq(s.e[0].limit, 150.0, EPS);
  cr_assert(isnan(s.e[0].ratio));
  cr_assert_str_eq(s.e[0].point, "stack-1");
  cr_assert_str_eq(s.e[0].metric, "so2");
  cr_assert_str_eq(s.e[0].standard, "gb31574-2015");
  cr_assert_eq(s.e[0].recorded_ms, local(2017, 3, 2, 0, 2));
  cr_assert_eq(s.e[1].bucket_ms, d + 19 * H);
  int calls = 0;
  cr_assert_eq(ph_compliance_exceedances(db, "p1", NULL, NULL, 0, INT64_MAX, stop_at_first, &calls, &err), 7);
  cr_assert_eq(calls, 1);
}

Test(compliance, before_any_update_nothing_is_expected) {
  day_one();
  struct ph_compliance c = summary("cu-old", NULL, "so2", local(2017, 3, 1, 0, 0), local(2017, 3, 2, 0, 0));
  cr_assert_eq(c.closed_ms, 0);
  cr_assert_eq(c.hours.expected, 0);
  cr_assert_eq(c.hours.valid, 0);
  struct ph_err err = {0};
  cr_assert_eq(ph_compliance_summary(db, NULL, tz, NULL, NULL, NULL, "so2", 0, 1, &c, &err), PH_EINVAL);
}
