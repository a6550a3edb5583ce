/* Monitoring periods and operating states (monitoring.h) through the
 * figures that use them: compliance (compliance.h) and emission mass
 * (emission_mass.h). Rollups are written the way the writer does
 * (hub_cems_fixture.h), including the stopped and startup counts the writer
 * derives from flag F and a record's state; the CEMS update then writes the
 * operating states. Every expected number is derived in the comments; the
 * park is UTC+8 (Asia/Shanghai), times are local.
 *
 * The day used: 2017-03-01, cu-old (existing plant, SO2 limit 150 mg/Nm³),
 * stack-1 hourly data; closed at 2017-03-02 00:02 → every hour of Mar 1 closed. */
#include "hub_cems_fixture.h"
#include "parkhub/batch.h" /* enum ph_state */
#include "domain/compliance.h"
#include "domain/emission_mass.h"
#include "domain/monitoring.h"
#include "domain/stmt_cache.h"
#include "store/rollup.h"

TestSuite(monitoring, .init = fx_setup, .fini = fx_teardown);

/* One hourly-data value with the writer's quality bits (ph_rollup_quality). */
static void hourly_q(int64_t sid, int64_t hour, double v, char flag, int state) {
  unsigned q = ph_rollup_quality(flag, state);
  bool valid = q & PH_ROLLUP_VALID;
  minute_row(sid, hour, 1, valid, v, v, 1.0 / 60.0);
  struct ph_rollup_agg a = {.n = 1, .n_valid = valid, .n_stop = (q & PH_ROLLUP_STOP) != 0,
                            .n_trans = (q & PH_ROLLUP_TRANS) != 0, .sum = v, .sum_valid = valid ? v : 0,
                            .first_ts = hour, .last_ts = hour};
  cr_assert_eq(ph_store_rollup(st, sid, 1, hour, &a, 1.0), 0);
}

static struct ph_compliance comp(int64_t from, int64_t to) {
  struct ph_compliance c;
  struct ph_err err = {0};
  cr_assert_eq(ph_compliance_summary(db, &cfg.parks[0], tz, "p1", "cu-old", NULL, "so2", from, to, &c, &err), 0, "%s",
               err.msg);
  return c;
}

static struct ph_emission_mass mass(int64_t from, int64_t to) {
  struct ph_emission_mass m;
  struct ph_err err = {0};
  cr_assert_eq(ph_emission_mass_compute(db, &cfg.parks[0], tz, cat, "p1", "cu-old", "so2", from, to, PH_MASS_BY_YEAR,
                                        &m, &err),
               0, "%s", err.msg);
  return m;
}

Test(monitoring, the_first_data_starts_the_period_and_the_year_before_is_not_a_gap) {
  /* SO2 100 and flow 10 000 at 10:00..14:00 of Mar 1 (5 valid hours); nothing before.
   * Period: from 10:00 (the hour of the first data). Over the whole of 2017 the
   * closed hours inside it are Mar 1 10:00..23:00 = 14 hours expected, 5 valid: 9 gaps,
   * not the 1 425 hours since Jan 1 (58 days × 24 + 10 + 14 − 1 …) */
  int64_t so2 = series("cu-old", "stack-1", "so2"), flow = series("cu-old", "stack-1", "flow");
  int64_t d = local(2017, 3, 1, 0, 0);
  for (int h = 10; h < 15; h++) {
    hourly(so2, d + h * H, 100, true);
    hourly(flow, d + h * H, 10000, true);
  }
  update(local(2017, 3, 2, 0, 2));
  int64_t y0 = local(2017, 1, 1, 0, 0), y1 = local(2018, 1, 1, 0, 0);
  struct ph_compliance c = comp(y0, y1);
  cr_assert_eq(c.npoints, 1);
  cr_assert_eq(c.nmonitored, 1);
  cr_assert_eq(c.hours.expected, 14);
  cr_assert_eq(c.hours.valid, 5);
  cr_assert_float_eq(c.hours.availability, 5.0 / 14.0, 1e-12);
  /* the day Mar 1 started before the first data (00:00 < 10:00): not a day of the period */
  cr_assert_eq(c.days.expected, 0);
  struct ph_emission_mass m = mass(y0, y1);
  cr_assert_eq(m.total.hours_expected, 14);
  cr_assert_eq(m.total.hours_used, 5);
  cr_assert_float_eq(m.total.mass, 5 * 100 * 10000 * 1e-6, 1e-9); /* 5 kg */
  ph_emission_mass_fini(&m);
  /* 2016 is outside the period: nothing expected, and the reason is "not monitored" */
  c = comp(local(2016, 1, 1, 0, 0), y0);
  cr_assert_eq(c.hours.expected, 0);
  cr_assert_eq(c.nmonitored, 0);
  m = mass(local(2016, 1, 1, 0, 0), y0);
  cr_assert_eq(m.nmonitored, 0);
  cr_assert(strstr(ph_emission_mass_why(&m), "not monitored") != NULL);
  ph_emission_mass_fini(&m);
}

Test(monitoring, a_configured_period_wins_over_the_first_data_and_ends_at_until) {
  /* monitoring_since 2017-03-01 (midnight), until 2017-03-01 (its last day):
   * [Mar 1 00:00, Mar 2 00:00) = 24 hours and 1 day; data at 10..14 as above,
   * and a valid hour on Mar 2 05:00 that lies after the period (not counted). */
  int64_t so2 = series("cu-old", "stack-1", "so2");
  int64_t d = local(2017, 3, 1, 0, 0);
  for (int h = 10; h < 15; h++) hourly(so2, d + h * H, 100, true);
  hourly(so2, d + 29 * H, 100, true);
  strcpy(cfg.parks[0].ents[0].monitoring_since, "2017-03-01");
  strcpy(cfg.parks[0].ents[0].monitoring_until, "2017-03-01");
  update(local(2017, 3, 3, 0, 2));
  struct ph_compliance c = comp(local(2017, 1, 1, 0, 0), local(2018, 1, 1, 0, 0));
  cr_assert_eq(c.hours.expected, 24);
  cr_assert_eq(c.hours.valid, 5);
  cr_assert_eq(c.days.expected, 1);
  cr_assert_eq(c.days.valid, 0); /* 5 valid hours < 20 */
  struct ph_monitoring_window w;
  struct ph_err err = {0};
  cr_assert_eq(ph_monitoring_window(db, &cfg.parks[0].ents[0], tz, point_id("cu-old", "stack-1"), "stack-1", &w, &err),
               0);
  cr_assert_eq(w.source, PH_MON_CONFIGURED);
  cr_assert_eq(w.since_ms, d);
  cr_assert_eq(w.until_ms, d + 24 * H);
  /* a point's own period overrides the enterprise's */
  strcpy(cfg.parks[0].ents[0].point_monitoring[0].point, "stack-1");
  strcpy(cfg.parks[0].ents[0].point_monitoring[0].since, "2017-03-02");
  cfg.parks[0].ents[0].npoint_monitoring = 1;
  cr_assert_eq(ph_monitoring_window(db, &cfg.parks[0].ents[0], tz, point_id("cu-old", "stack-1"), "stack-1", &w, &err),
               0);
  cr_assert_eq(w.since_ms, d + 24 * H);
  cfg.parks[0].ents[0].npoint_monitoring = 0;
}

/* The day of the first test below (its comment derives the figures):
 * stack-1's SO2 and flow valid 10..14, stopped (flag F) 15..19, valid 23;
 * the furnace in startup at 10, stopped 21..23. Returns Mar 1's midnight. */
static int64_t stopped_day(void) {
  int64_t so2 = series("cu-old", "stack-1", "so2"), flow = series("cu-old", "stack-1", "flow");
  int64_t furnace = series("cu-old", "furnace-1", "furnace_temp");
  int64_t d = local(2017, 3, 1, 0, 0);
  for (int h = 10; h < 15; h++) {
    hourly_q(so2, d + h * H, 100, 'N', PH_STATE_NONE);
    hourly_q(flow, d + h * H, 10000, 'N', PH_STATE_NONE);
  }
  for (int h = 15; h < 20; h++) {
    hourly_q(so2, d + h * H, 0, 'F', PH_STATE_NONE);
    hourly_q(flow, d + h * H, 0, 'F', PH_STATE_NONE);
  }
  hourly_q(furnace, d + 10 * H, 900, 'N', PH_STATE_STARTUP);
  hourly_q(furnace, d + 21 * H, 40, 'N', PH_STATE_STOPPED);
  hourly_q(furnace, d + 22 * H, 40, 'N', PH_STATE_STOPPED);
  hourly_q(furnace, d + 23 * H, 40, 'N', PH_STATE_STOPPED);
  hourly_q(so2, d + 23 * H, 200, 'N', PH_STATE_NONE);
  hourly_q(flow, d + 23 * H, 10000, 'N', PH_STATE_NONE);
  update(local(2017, 3, 2, 0, 2));
  return d;
}

Test(monitoring, stopped_hours_leave_the_expected_hours_but_valid_hours_still_count) {
  /* stack-1 from 10:00 (first data) to 23:00 of Mar 1, 14 hours:
   *   10..14  SO2 100, flow 10 000, flag N                       valid
   *   15..19  SO2 0 and flow 0 flagged F (stopped)               stopped, not expected
   *   20      nothing at all                                     a gap
   *   21, 22  nothing from the stack; the furnace (a process point) reports state stopped
   *                                                              stopped (enterprise), not expected
   *   23      furnace stopped, but the stack sends valid SO2 200 and flow 10 000
   *                                                              valid: data outranks the state;
   *                                                              200 > 150: an exceedance that counts
   * furnace at 10:00 reports state startup: 1 startup/shutdown hour (kept, expected).
   * expected = 14 − 5 − 2 = 7 (10..14, 20, 23); valid 6; exceeded 1; within 5. */
  int64_t d = stopped_day();
  struct ph_compliance c = comp(d, d + 24 * H);
  cr_assert_eq(c.hours.stopped, 7);
  cr_assert_eq(c.hours.expected, 7);
  cr_assert_eq(c.hours.valid, 6);
  cr_assert_eq(c.hours.exceeded, 1);
  cr_assert_eq(c.hours.within, 5);
  cr_assert_eq(c.hours.transition, 1);
  cr_assert_float_eq(c.hours.availability, 6.0 / 7.0, 1e-12);
  /* mass: 5 × 100 × 10 000 × 1e-6 = 5 kg + 200 × 10 000 × 1e-6 = 2 kg = 7 kg over 6 hours;
   * the stopped hours released nothing and are no gap: gap 1 of 7 (20:00) */
  struct ph_emission_mass m = mass(d, d + 24 * H);
  cr_assert_eq(m.total.hours_stopped, 7);
  cr_assert_eq(m.total.hours_expected, 7);
  cr_assert_eq(m.total.hours_used, 6);
  cr_assert_eq(m.total.gap_hours, 1);
  cr_assert_float_eq(m.total.mass, 7.0, 1e-9);
  ph_emission_mass_fini(&m);
  /* the operating-state counts of the point itself (no series judged) */
  struct ph_monitoring_window w;
  struct ph_monitoring_hours mh;
  struct ph_err err = {0};
  int64_t pid = point_id("cu-old", "stack-1");
  cr_assert_eq(ph_monitoring_window(db, &cfg.parks[0].ents[0], tz, pid, "stack-1", &w, &err), 0);
  cr_assert_eq(ph_monitoring_hours(db, tz, "p1", "cu-old", pid, 0, &w, d, d + 24 * H, &mh, &err), 0, "%s", err.msg);
  cr_assert_eq(mh.hours, 14);
  cr_assert_eq(mh.stopped, 8); /* 15..19, 21, 22 and 23: no series judged, so 23 is stopped too */
  cr_assert_eq(mh.transition, 1);
}

/* Inside a stmt_cache bracket (a summary, a report) a point's op hours are
 * asked once and a range outside them skips the stopped and transition
 * statements (monitoring.c inv. 4): every sub-range of the day, in whole
 * hours, gives the same figures inside a bracket as outside. */
Test(monitoring, op_hours_remembered_in_a_bracket_give_the_same_figures) {
  int64_t d = stopped_day(), pid = point_id("cu-old", "stack-1");
  struct ph_monitoring_window w;
  struct ph_err err = {0};
  cr_assert_eq(ph_monitoring_window(db, &cfg.parks[0].ents[0], tz, pid, "stack-1", &w, &err), 0);
  int with_stop = 0, without = 0;
  for (int a = 0; a < 24; a++)
    for (int b = a + 1; b <= 24; b++) {
      int64_t from = d + a * H, to = d + b * H;
      struct ph_compliance out = comp(from, to);
      struct ph_emission_mass mo = mass(from, to);
      struct ph_monitoring_hours ho;
      cr_assert_eq(ph_monitoring_hours(db, tz, "p1", "cu-old", pid, 0, &w, from, to, &ho, &err), 0);
      ph_stmt_cache_begin(db);
      struct ph_compliance in = comp(from, to);
      struct ph_emission_mass mi = mass(from, to);
      struct ph_monitoring_hours hi;
      cr_assert_eq(ph_monitoring_hours(db, tz, "p1", "cu-old", pid, 0, &w, from, to, &hi, &err), 0);
      ph_stmt_cache_end(db);
      cr_assert_eq(in.hours.stopped, out.hours.stopped, "[%d, %d)", a, b);
      cr_assert_eq(in.hours.transition, out.hours.transition, "[%d, %d)", a, b);
      cr_assert_eq(in.hours.expected, out.hours.expected, "[%d, %d)", a, b);
      cr_assert_eq(mi.total.hours_stopped, mo.total.hours_stopped, "[%d, %d)", a, b);
      cr_assert_eq(mi.total.hours_expected, mo.total.hours_expected, "[%d, %d)", a, b);
      cr_assert_eq(hi.stopped, ho.stopped, "[%d, %d)", a, b);
      cr_assert_eq(hi.transition, ho.transition, "[%d, %d)", a, b);
      cr_assert_eq(hi.expected, ho.expected, "[%d, %d)", a, b);
      ph_emission_mass_fini(&mo);
      ph_emission_mass_fini(&mi);
      if (ho.stopped || ho.transition) with_stop++;
      else without++;
    }
  cr_assert(with_stop > 0 && without > 0, "ranges with and without op hours: %d, %d", with_stop, without);
}

Test(monitoring, a_wholly_stopped_day_is_not_an_expected_day) {
  /* monitored since Mar 1 (configured); Mar 1 all 24 hours flagged F; Mar 2 24 valid hours.
   * Days expected over Mar 1..2: 2 − 1 stopped = 1, valid 1. Hours: 48 − 24 = 24 expected. */
  int64_t so2 = series("cu-old", "stack-1", "so2");
  int64_t d = local(2017, 3, 1, 0, 0);
  strcpy(cfg.parks[0].ents[0].monitoring_since, "2017-03-01");
  for (int h = 0; h < 24; h++) hourly_q(so2, d + h * H, 0, 'F', PH_STATE_NONE);
  for (int h = 24; h < 48; h++) hourly_q(so2, d + h * H, 100, 'N', PH_STATE_NONE);
  update(local(2017, 3, 3, 0, 2));
  struct ph_compliance c = comp(d, d + 48 * H);
  cr_assert_eq(c.hours.expected, 24);
  cr_assert_eq(c.hours.stopped, 24);
  cr_assert_eq(c.days.expected, 1);
  cr_assert_eq(c.days.stopped, 1);
  cr_assert_eq(c.days.valid, 1);
  /* stopped through every monitored hour of Mar 1: its mass is a real 0, not "not available" */
  struct ph_emission_mass m = mass(d, d + 24 * H);
  cr_assert_eq(m.total.hours_expected, 0);
  cr_assert_null(ph_emission_mass_why(&m));
  cr_assert_float_eq(m.total.mass, 0.0, 1e-15);
  ph_emission_mass_fini(&m);
}
