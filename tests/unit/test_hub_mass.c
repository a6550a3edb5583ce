/* Emission mass (emission_mass.h): C_hour × Q_hour × 1 h, gaps counted and
 * never filled, rows per local hour/day/month/year. Hand-computed; times
 * park-local (Asia/Shanghai, UTC+8). */
#include "hub_cems_fixture.h"
#include "domain/emission_mass.h"

TestSuite(mass, .init = fx_setup, .fini = fx_teardown);

static struct ph_emission_mass mass(const char *ent, const char *metric, int64_t from, int64_t to,
                                    enum ph_mass_by by) {
  struct ph_emission_mass m;
  struct ph_err err = {0};
  cr_assert_eq(ph_emission_mass_compute(db, &cfg.parks[0], tz, cat, "p1", ent, metric, from, to, by, &m, &err), 0, "%s", err.msg);
  return m;
}

Test(mass, three_hours_with_flow_and_one_without) {
  /* stack-1, hourly data, 2017-03-01 10:00..13:00:
   *   10:00 SO2 100 × 50 000 Nm³/h × 1 h × 1e-6 = 5.0 kg
   *   11:00 SO2 120 × 40 000 → 4.8 kg
   *   12:00 SO2  80 × 60 000 → 4.8 kg
   *   13:00 SO2  50, no flow value at all → gap (not 0 kg)
   * total 14.6 kg = 0.0146 t over 3 of 4 hours; gap 1 of 4 = 25 %. */
  int64_t so2 = series("cu-old", "stack-1", "so2"), flow = series("cu-old", "stack-1", "flow");
  int64_t h = local(2017, 3, 1, 10, 0);
  hourly(so2, h, 100, true);
  hourly(so2, h + H, 120, true);
  hourly(so2, h + 2 * H, 80, true);
  hourly(so2, h + 3 * H, 50, true);
  hourly(flow, h, 50000, true);
  hourly(flow, h + H, 40000, true);
  hourly(flow, h + 2 * H, 60000, true);
  update(local(2017, 3, 2, 0, 2));
  struct ph_emission_mass m = mass("cu-old", "so2", h, h + 4 * H, PH_MASS_BY_HOUR);
  cr_assert_str_eq(m.unit, "kg");
  cr_assert_eq(m.npoints, 1);
  cr_assert_eq(m.nrows, 4);
  const double want[4] = {5.0, 4.8, 4.8, 0.0};
  for (int i = 0; i < 4; i++) {
    cr_assert_eq(m.rows[i].start_ms, h + i * H);
    cr_assert_eq(m.rows[i].end_ms, h + (i + 1) * H);
    cr_assert_float_eq(m.rows[i].mass, want[i], 1e-12);
    cr_assert_eq(m.rows[i].hours_expected, 1);
    cr_assert_eq(m.rows[i].hours_used, i < 3);
  }
  cr_assert_eq(m.rows[3].gap_hours, 1);
  cr_assert_float_eq(m.rows[3].gap_share, 1.0, EPS);
  cr_assert_float_eq(m.total.mass, 14.6, 1e-12);
  cr_assert_float_eq(m.total.mass_t, 0.0146, 1e-15);
  cr_assert_eq(m.total.hours_expected, 4);
  cr_assert_eq(m.total.hours_used, 3);
  cr_assert_eq(m.total.gap_hours, 1);
  cr_assert_float_eq(m.total.gap_share, 0.25, EPS);
  ph_emission_mass_fini(&m);
}

Test(mass, an_invalid_concentration_or_flow_hour_is_a_gap) {
  /* 10:00 SO2 flagged C (flow fine), 11:00 flow flagged C (SO2 fine),
   * 12:00 both valid: 200 × 10 000 × 1e-6 = 2 kg. 2 gaps of 3. */
  int64_t so2 = series("cu-old", "stack-1", "so2"), flow = series("cu-old", "stack-1", "flow");
  int64_t h = local(2017, 3, 1, 10, 0);
  hourly(so2, h, 999, false);
  hourly(flow, h, 10000, true);
  hourly(so2, h + H, 200, true);
  hourly(flow, h + H, 10000, false);
  hourly(so2, h + 2 * H, 200, true);
  hourly(flow, h + 2 * H, 10000, true);
  update(local(2017, 3, 2, 0, 2));
  struct ph_emission_mass m = mass("cu-old", "so2", h, h + 3 * H, PH_MASS_BY_DAY);
  cr_assert_eq(m.nrows, 1); /* one (partial) local day */
  cr_assert_float_eq(m.total.mass, 2.0, 1e-12);
  cr_assert_eq(m.total.hours_used, 1);
  cr_assert_eq(m.total.gap_hours, 2);
  cr_assert_float_eq(m.total.gap_share, 2.0 / 3.0, EPS);
  ph_emission_mass_fini(&m);
}

Test(mass, mass_from_minute_means_of_samples) {
  /* 5-s sampling at s5: SO2 45 minutes of 100 mg/Nm³, flow 45 minutes of
   * 36 000 Nm³/h → valid hours → 100 × 36 000 × 1e-6 = 3.6 kg. */
  int64_t so2 = series("cu-old", "s5", "so2"), flow = series("cu-old", "s5", "flow");
  int64_t h = local(2017, 3, 1, 10, 0);
  minutes(so2, h, 0, 45, 12, 12, 12, 100, 0);
  minutes(flow, h, 0, 45, 12, 12, 12, 36000, 0);
  update(local(2017, 3, 1, 11, 2));
  struct ph_emission_mass m = mass("cu-old", "so2", h, h + H, PH_MASS_BY_HOUR);
  cr_assert_float_eq(m.total.mass, 3.6, 1e-12);
  cr_assert_eq(m.total.gap_hours, 0);
  ph_emission_mass_fini(&m);
}

Test(mass, days_months_and_a_year) {
  /* 2017-02-28 23:00: 100 × 10 000 × 1e-6 = 1 kg; 2017-03-01 00:00:
   * 200 × 10 000 × 1e-6 = 2 kg (one hour apart, in two months). */
  int64_t so2 = series("cu-old", "stack-1", "so2"), flow = series("cu-old", "stack-1", "flow");
  int64_t a = local(2017, 2, 28, 23, 0), b = local(2017, 3, 1, 0, 0);
  hourly(so2, a, 100, true);
  hourly(flow, a, 10000, true);
  hourly(so2, b, 200, true);
  hourly(flow, b, 10000, true);
  update(local(2018, 1, 1, 0, 2));
  strcpy(cfg.parks[0].ents[0].monitoring_since, "2017-01-01"); /* monitored the whole year */
  /* months: February 28 × 24 = 672 hours expected, 1 used, 1 kg; March
   * 31 × 24 = 744, 1 used, 2 kg */
  struct ph_emission_mass m = mass("cu-old", "so2", local(2017, 2, 1, 0, 0), local(2017, 4, 1, 0, 0),
                                   PH_MASS_BY_MONTH);
  cr_assert_eq(m.nrows, 2);
  cr_assert_eq(m.rows[0].start_ms, local(2017, 2, 1, 0, 0));
  cr_assert_eq(m.rows[0].end_ms, b);
  cr_assert_eq(m.rows[1].end_ms, local(2017, 4, 1, 0, 0));
  cr_assert_float_eq(m.rows[0].mass, 1.0, 1e-12);
  cr_assert_float_eq(m.rows[1].mass, 2.0, 1e-12);
  cr_assert_eq(m.rows[0].hours_expected, 672);
  cr_assert_eq(m.rows[1].hours_expected, 744);
  cr_assert_eq(m.rows[0].gap_hours, 671);
  cr_assert_eq(m.total.hours_expected, 672 + 744);
  ph_emission_mass_fini(&m);
  /* days of February and March: 59 rows, the 28th and the 1st hold the mass */
  m = mass("cu-old", "so2", local(2017, 2, 1, 0, 0), local(2017, 4, 1, 0, 0), PH_MASS_BY_DAY);
  cr_assert_eq(m.nrows, 59);
  cr_assert_float_eq(m.rows[27].mass, 1.0, 1e-12);
  cr_assert_float_eq(m.rows[28].mass, 2.0, 1e-12);
  cr_assert_eq(m.rows[28].start_ms, b);
  cr_assert_eq(m.rows[28].hours_expected, 24);
  ph_emission_mass_fini(&m);
  /* the year 2017: 8760 hours, 3 kg = 0.003 t */
  m = mass("cu-old", "so2", local(2017, 1, 1, 0, 0), local(2018, 1, 1, 0, 0), PH_MASS_BY_YEAR);
  cr_assert_eq(m.nrows, 1);
  cr_assert_eq(m.total.hours_expected, 8760);
  cr_assert_float_eq(m.total.mass, 3.0, 1e-12);
  cr_assert_float_eq(m.total.mass_t, 0.003, 1e-15);
  ph_emission_mass_fini(&m);
}

Test(mass, hours_not_closed_are_not_gaps) {
  /* data 10:00 and 11:00; at 11:02 only 10:00 has closed: over the whole
   * day 1 hour is expected (used), the rest is neither used nor a gap */
  int64_t so2 = series("cu-old", "stack-1", "so2"), flow = series("cu-old", "stack-1", "flow");
  int64_t h = local(2017, 3, 1, 10, 0);
  hourly(so2, h, 100, true);
  hourly(flow, h, 10000, true);
  hourly(so2, h + H, 100, true);
  hourly(flow, h + H, 10000, true);
  update(local(2017, 3, 1, 11, 2));
  strcpy(cfg.parks[0].ents[0].monitoring_since, "2017-03-01"); /* monitored from midnight */
  struct ph_emission_mass m = mass("cu-old", "so2", local(2017, 3, 1, 0, 0), local(2017, 3, 2, 0, 0), PH_MASS_BY_DAY);
  cr_assert_eq(m.closed_ms, h + H);
  /* 00:00..10:00 closed = 11 hours expected (0..10), 1 used, 10 gaps */
  cr_assert_eq(m.total.hours_expected, 11);
  cr_assert_eq(m.total.hours_used, 1);
  cr_assert_float_eq(m.total.mass, 1.0, 1e-12);
  ph_emission_mass_fini(&m);
}

Test(mass, pcdd_f_in_g_teq) {
  /* 0.1 ng TEQ/Nm³ × 50 000 Nm³/h × 1 h = 5 000 ng TEQ = 5e-6 g TEQ */
  int64_t pcdd = series("cu-old", "stack-1", "pcdd_f"), flow = series("cu-old", "stack-1", "flow");
  int64_t h = local(2017, 3, 1, 10, 0);
  hourly(pcdd, h, 0.1, true);
  hourly(flow, h, 50000, true);
  update(local(2017, 3, 1, 11, 2));
  struct ph_emission_mass m = mass("cu-old", "pcdd_f", h, h + H, PH_MASS_BY_HOUR);
  cr_assert_str_eq(m.unit, "g TEQ");
  cr_assert_float_eq(m.total.mass, 5e-6, 1e-18);
  cr_assert(isnan(m.total.mass_t));
  ph_emission_mass_fini(&m);
}

Test(mass, stacks_and_enterprises_add_up) {
  /* 10:00: cu-old stack-1 100 × 20 000 → 2 kg, stack-2 50 × 40 000 → 2 kg,
   * cu-special stack-1 10 × 100 000 → 1 kg. Enterprise cu-old: 4 kg over
   * 2 point-hours; the park: 5 kg over 3. */
  const char *who[3][2] = {{"cu-old", "stack-1"}, {"cu-old", "stack-2"}, {"cu-special", "stack-1"}};
  const double c[3] = {100, 50, 10}, q[3] = {20000, 40000, 100000};
  int64_t h = local(2017, 3, 1, 10, 0);
  for (int i = 0; i < 3; i++) {
    hourly(series(who[i][0], who[i][1], "nox"), h, c[i], true);
    hourly(series(who[i][0], who[i][1], "flow"), h, q[i], true);
  }
  update(local(2017, 3, 1, 11, 2));
  struct ph_emission_mass m = mass("cu-old", "nox", h, h + H, PH_MASS_BY_HOUR);
  cr_assert_eq(m.npoints, 2);
  cr_assert_float_eq(m.total.mass, 4.0, 1e-12);
  cr_assert_eq(m.total.hours_expected, 2);
  ph_emission_mass_fini(&m);
  m = mass(NULL, "nox", h, h + H, PH_MASS_BY_HOUR);
  cr_assert_float_eq(m.total.mass, 5.0, 1e-12);
  cr_assert_eq(m.total.hours_used, 3);
  ph_emission_mass_fini(&m);
}

Test(mass, only_concentrations_have_a_mass) {
  struct ph_emission_mass m;
  struct ph_err err = {0};
  cr_assert_eq(ph_emission_mass_compute(db, &cfg.parks[0], tz, cat, "p1", "cu-old", "o2", 0, 1, PH_MASS_BY_DAY, &m, &err), PH_EINVAL);
  cr_assert_eq(ph_emission_mass_compute(db, &cfg.parks[0], tz, cat, "p1", "cu-old", "flow", 0, 1, PH_MASS_BY_DAY, &m, &err),
               PH_EINVAL);
  cr_assert_eq(ph_emission_mass_compute(db, &cfg.parks[0], tz, cat, "p1", "cu-old", "nope", 0, 1, PH_MASS_BY_DAY, &m, &err),
               PH_EINVAL);
  ph_emission_mass_fini(&m);
}
