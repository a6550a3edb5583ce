/* test_hub_water.c — water outlets (water.h, issue #20): volume, loads and
 * daily-mean compliance, every expected number worked out by hand below
 * from the data written, independently of the code.
 *
 * Enterprise cu-new (a new plant from 2016-06-01; 2025 is "new"), hourly
 * data (interval 3600 s) on two water outlets: "hr" discharging directly,
 * "stack-2" indirectly (point ids of the fixture that have hourly data);
 * "stack-1" is declared an air stack. Local days 2025-03-01..03 (UTC+8).
 *
 *   w_flow (m³/h)   day 1: 24 h × 10   day 2: 24 h × 20   day 3: 24 h × 10
 *   w_cod (mg/L)    day 1: 24 h × 40   day 2: 12 h × 40 then 12 h × 80
 *                   day 3: 10 h × 30 (hours 0..9: not a valid day, < 20 h)
 *   w_ph            7 every hour, except day 2 hour 5: 9.5, day 3 hours 3
 *                   and 4: 5.5 and 5.0
 *
 * Hand-computed:
 *   volume = 24×10 + 24×20 + 24×10 = 960 m³; 72 flow hours over 3 days.
 *   COD daily means: day 1 40, day 2 (12×40 + 12×80)/24 = 60, day 3 none
 *     (10 valid hours) → 2 valid days, mean (40 + 60)/2 = 50.
 *   COD limits of the fixture standard (tests/data/schemas/limits/
 *     valid-water.json, not a real standard): new/direct 50, new/indirect
 *     200. Direct outlet: day 2 (60 > 50) over, day 1 (40) within → 1 of 2;
 *     worst day 2 at 60. Indirect outlet: 0 of 2.
 *   COD load = Σ C×Q×1 h: day 1 24×40×10 = 9 600 g; day 2 12×40×20 +
 *     12×80×20 = 9 600 + 19 200 = 28 800 g; day 3 10×30×10 = 3 000 g;
 *     total 41 400 g = 41.4 kg over 58 hours; gaps: 72 − 58 = 14 flow hours
 *     without a COD value; 3 days with a load → 13.8 kg/day on average.
 *   pH 6..9 (fixture, new/direct) on hours: 72 judged, 3 out (9.5; 5.5;
 *     5.0), on 2 days; worst 5.0 (1.0 below 6) at day 3 hour 4. No load.
 *   With the built-in GB 31574-2015 (water values unverified): nothing
 *     judged, reason "no verified limit"; volume and loads unchanged.
 */
#include <stdlib.h>

#include "hub_cems_fixture.h"
#include "domain/water.h"

TestSuite(water, .init = fx_setup, .fini = fx_teardown);

static struct ph_limits *fixture_limits(void) {
  const char *src = getenv("PH_SOURCE_DIR");
  char path[1024];
  cr_assert(src, "PH_SOURCE_DIR (set by ctest)");
  snprintf(path, sizeof path, "%s/tests/data/schemas/limits/valid-water.json", src);
  struct ph_limits *l;
  struct ph_err err = {0};
  cr_assert_eq(ph_limits_load_file(path, &l, &err), 0, "%s", err.msg);
  return l;
}

static void declare(struct ph_hub_ent *e, const char *point, int medium, int discharge) {
  struct ph_point_medium *pm = &e->point_media[e->npoint_media++];
  strcpy(pm->point, point);
  pm->medium = medium;
  pm->discharge = discharge;
}

static void write_outlet(const char *point) {
  int64_t f = series("cu-new", point, "w_flow"), c = series("cu-new", point, "w_cod"),
          ph = series("cu-new", point, "w_ph");
  for (int d = 0; d < 3; d++) {
    int64_t day = local(2025, 3, 1 + (unsigned)d, 0, 0);
    for (int h = 0; h < 24; h++) {
      int64_t t = day + h * H;
      hourly(f, t, d == 1 ? 20 : 10, true);
      if (d == 0) hourly(c, t, 40, true);
      if (d == 1) hourly(c, t, h < 12 ? 40 : 80, true);
      if (d == 2 && h < 10) hourly(c, t, 30, true);
      double v = 7;
      if (d == 1 && h == 5) v = 9.5;
      if (d == 2 && h == 3) v = 5.5;
      if (d == 2 && h == 4) v = 5.0;
      hourly(ph, t, v, true);
    }
  }
}

static const struct ph_water_pollutant *pol(const struct ph_water_outlet *o, const char *metric) {
  for (size_t i = 0; i < o->np; i++)
    if (strcmp(o->p[i].metric, metric) == 0) return &o->p[i];
  cr_assert_fail("no %s at %s", metric, o->point);
  return NULL;
}

static void run(const struct ph_limits *l, struct ph_water *w) {
  struct ph_err err = {0};
  int rc = ph_water_summarise(db, "p1", &cfg.parks[0].ents[2], cat, l, tz, local(2025, 1, 1, 0, 0),
                              local(2026, 1, 1, 0, 0), w, &err);
  cr_assert_eq(rc, 0, "%s", err.msg);
}

Test(water, volume_loads_and_daily_compliance) {
  struct ph_hub_ent *e = &cfg.parks[0].ents[2];
  declare(e, "stack-1", PH_MEDIUM_AIR, PH_DISCHARGE_NONE);
  declare(e, "hr", PH_MEDIUM_WATER, PH_DISCHARGE_DIRECT);
  declare(e, "stack-2", PH_MEDIUM_WATER, PH_DISCHARGE_INDIRECT);
  write_outlet("hr");
  write_outlet("stack-2");
  update(local(2025, 3, 4, 1, 0));

  struct ph_limits *fl = fixture_limits();
  struct ph_water w;
  run(fl, &w);
  cr_assert_eq(w.n, 2, "two water outlets; the air stack is not one");
  const struct ph_water_outlet *dir = &w.outlets[0], *ind = &w.outlets[1];
  cr_assert_str_eq(dir->point, "hr");
  cr_assert_eq(dir->discharge, PH_DISCHARGE_DIRECT);
  cr_assert_str_eq(ind->point, "stack-2");
  cr_assert_eq(dir->np, 2, "w_cod and w_ph (w_flow is the volume)");
  cr_assert_float_eq(dir->volume_m3, 960, EPS);
  cr_assert_eq(dir->flow_hours, 72);
  cr_assert_eq(dir->flow_days, 3);

  const struct ph_water_pollutant *cod = pol(dir, "w_cod");
  cr_assert_eq(cod->days_valid, 2);
  cr_assert_float_eq(cod->mean, 50, EPS);
  cr_assert_eq(cod->days_with_limit, 2);
  cr_assert_eq(cod->days_over, 1);
  cr_assert_null(cod->limit_na);
  cr_assert_float_eq(cod->limit_hi, 50, EPS);
  cr_assert_float_eq(cod->worst_day_mean, 60, EPS);
  cr_assert_eq(cod->worst_day_ms, local(2025, 3, 2, 0, 0));
  cr_assert_float_eq(cod->load_kg, 41.4, EPS);
  cr_assert_eq(cod->load_hours, 58);
  cr_assert_eq(cod->load_gap_hours, 14);
  cr_assert_eq(cod->load_days, 3, "41.4 kg over 3 days: 13.8 kg/day");

  const struct ph_water_pollutant *ph = pol(dir, "w_ph");
  cr_assert(ph->range);
  cr_assert_eq(ph->hours_valid, 72);
  cr_assert_eq(ph->hours_with_limit, 72);
  cr_assert_eq(ph->hours_out, 3);
  cr_assert_eq(ph->days_out, 2);
  cr_assert_eq(ph->days_with_limit, 0, "pH is judged on hours");
  cr_assert_float_eq(ph->limit_lo, 6, EPS);
  cr_assert_float_eq(ph->limit_hi, 9, EPS);
  cr_assert_float_eq(ph->worst_day_mean, 5.0, EPS);
  cr_assert_eq(ph->worst_day_ms, local(2025, 3, 3, 4, 0));
  cr_assert(isnan(ph->load_kg), "no load of pH");

  const struct ph_water_pollutant *icod = pol(ind, "w_cod");
  cr_assert_eq(icod->days_with_limit, 2);
  cr_assert_eq(icod->days_over, 0, "indirect limit 200");
  cr_assert_float_eq(icod->limit_hi, 200, EPS);
  cr_assert_float_eq(icod->load_kg, 41.4, EPS);
  const struct ph_water_pollutant *iph = pol(ind, "w_ph");
  cr_assert_eq(iph->hours_with_limit, 0, "the fixture has no indirect pH range");
  cr_assert_str_eq(iph->limit_na, "no limit");
  ph_water_fini(&w);
  ph_limits_free(fl);

  /* The built-in standard: no verified water value, nothing judged; the figures stay. */
  run(lim, &w);
  cod = pol(&w.outlets[0], "w_cod");
  cr_assert_eq(cod->days_valid, 2);
  cr_assert_eq(cod->days_with_limit, 0);
  cr_assert_eq(cod->days_over, 0);
  cr_assert_str_eq(cod->limit_na, "no verified limit");
  cr_assert(isnan(cod->limit_hi));
  cr_assert_float_eq(cod->load_kg, 41.4, EPS);
  ph = pol(&w.outlets[0], "w_ph");
  cr_assert_eq(ph->hours_with_limit, 0);
  cr_assert_eq(ph->hours_out, 0);
  cr_assert_str_eq(ph->limit_na, "no verified limit");
  ph_water_fini(&w);

  /* No standard loaded. */
  run(NULL, &w);
  cr_assert_str_eq(pol(&w.outlets[0], "w_cod")->limit_na, "standard not loaded");
  ph_water_fini(&w);
}

Test(water, no_water_outlet_no_rows) {
  struct ph_water w;
  run(lim, &w);
  cr_assert_eq(w.n, 0);
  cr_assert_null(w.outlets);
  ph_water_fini(&w);
}

Test(water, outlet_without_flow_has_no_volume_or_load) {
  struct ph_hub_ent *e = &cfg.parks[0].ents[2];
  declare(e, "hr", PH_MEDIUM_WATER, PH_DISCHARGE_DIRECT);
  int64_t c = series("cu-new", "hr", "w_cod"), n = series("cu-new", "hr", "w_nh3n");
  hourly_run(c, local(2025, 3, 1, 0, 0), 0, 24, 40);
  hourly_run(n, local(2025, 3, 1, 0, 0), 0, 10, 5); /* 10 hours: no valid day */
  update(local(2025, 3, 2, 1, 0));
  struct ph_water w;
  run(lim, &w);
  cr_assert_eq(w.n, 1);
  cr_assert(isnan(w.outlets[0].volume_m3), "no flow series: volume not available, not 0");
  const struct ph_water_pollutant *cod = pol(&w.outlets[0], "w_cod");
  cr_assert_eq(cod->days_valid, 1);
  cr_assert(isnan(cod->load_kg), "no flow: load not available");
  const struct ph_water_pollutant *nh = pol(&w.outlets[0], "w_nh3n");
  cr_assert_eq(nh->days_valid, 0);
  cr_assert(isnan(nh->mean));
  cr_assert_str_eq(nh->limit_na, "no verified limit", "the reason without any judged day");
  ph_water_fini(&w);
}
