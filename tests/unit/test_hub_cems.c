/* CEMS validity, hourly/daily means, limits, benchmark conversion and the
 * incremental update (cems.h) on hand-computed fixtures. Every expected
 * number is derived in the comment next to it. Times are park-local
 * (Asia/Shanghai, UTC+8). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <unistd.h>

#include "store/store_sql.h"
#include "hub_cems_fixture.h"

TestSuite(cems, .init = fx_setup, .fini = fx_teardown);

static int64_t n_exc(int period) {
  char q[96];
  snprintf(q, sizeof q, "SELECT count(*) FROM exceedances WHERE period = %d", period);
  return q_int(q);
}

/* ---- valid minute ---- */

Test(cems, minute_needs_12_N_values_at_1s_sampling) {
  /* s1 samples every 1 s: expected 60 values a minute, min(12, 60) = 12 must be N. */
  int64_t sid = series("cu-old", "s1", "so2");
  int64_t h10 = local(2017, 3, 1, 10, 0), h11 = h10 + H;
  /* 10:00: 44 full minutes (60 N, mean 10) + minute 44 with exactly 12 N
   * (48 flagged D, value 999) → 45 valid minutes → valid; mean 10. */
  minutes(sid, h10, 0, 44, 60, 60, 60, 10, 0);
  minutes(sid, h10, 44, 1, 60, 60, 12, 10, 999);
  /* 11:00: the same but minute 44 has 11 N (mean 1000) → not valid → 44
   * valid minutes → hour invalid; its mean over the 44 is still 10. */
  minutes(sid, h11, 0, 44, 60, 60, 60, 10, 0);
  minutes(sid, h11, 44, 1, 60, 60, 11, 1000, 999);
  update(local(2017, 3, 1, 12, 2)); /* 11:00 ends 12:00, + 2 min grace */
  struct hour a = get_hour(sid, h10), b = get_hour(sid, h11);
  cr_assert(a.found && b.found);
  cr_assert_eq(a.kind, PH_CEMS_SAMPLES);
  cr_assert_eq(a.valid_minutes, 45);
  cr_assert_eq(a.valid, 1);
  cr_assert_float_eq(a.mean, 10.0, EPS);
  cr_assert_eq(b.valid_minutes, 44);
  cr_assert_eq(b.valid, 0);
  cr_assert_float_eq(b.mean, 10.0, EPS);
}

Test(cems, fewer_values_only_when_the_rate_cannot_give_12) {
  /* A 10-s point (cu-old default is 5 s; here a minute row says expected 6):
   * min(12, 6) = 6 N values make a valid minute, 5 do not. */
  int64_t sid = series("cu-old", "s10", "so2");
  int64_t h = local(2017, 3, 1, 10, 0);
  minutes(sid, h, 0, 44, 6, 6, 6, 20, 0);
  minutes(sid, h, 44, 1, 6, 6, 6, 20, 0); /* 45th minute with 6 N → valid */
  minutes(sid, h, 45, 1, 6, 6, 5, 20, 0); /* 5 N → not valid */
  update(local(2017, 3, 1, 11, 2));
  struct hour a = get_hour(sid, h);
  cr_assert_eq(a.valid_minutes, 45);
  cr_assert_eq(a.valid, 1);
}

Test(cems, a_rate_that_does_not_divide_the_minute_needs_its_whole_values) {
  /* An 8-s point: expected 60 / 8 = 7.5 values a minute; a minute holds 7
   * or 8 of them, so ⌊7.5⌋ = 7 N values make it valid (7 ≥ 7.5 would
   * reject every other complete minute); 6 do not. */
  int64_t sid = series("cu-old", "s8", "so2");
  int64_t h = local(2017, 3, 1, 10, 0);
  minutes(sid, h, 0, 45, 7.5, 7, 7, 30, 0);
  minutes(sid, h, 45, 1, 7.5, 8, 6, 30, 0);
  update(local(2017, 3, 1, 11, 2));
  struct hour a = get_hour(sid, h);
  cr_assert_eq(a.valid_minutes, 45);
  cr_assert_eq(a.valid, 1);
  cr_assert_float_eq(a.mean, 30.0, EPS);
}

/* ---- valid hour ---- */

Test(cems, hour_needs_45_valid_minutes) {
  /* s5: 5-s sampling, 12 values a minute, all N. */
  int64_t sid = series("cu-old", "s5", "nox");
  int64_t h10 = local(2017, 3, 1, 10, 0), h11 = h10 + H;
  minutes(sid, h10, 0, 45, 12, 12, 12, 50, 0); /* 45 valid minutes → valid, mean 50 */
  minutes(sid, h11, 0, 44, 12, 12, 12, 50, 0); /* 44 → invalid */
  update(local(2017, 3, 1, 12, 2));
  struct hour a = get_hour(sid, h10), b = get_hour(sid, h11);
  cr_assert_eq(a.valid_minutes, 45);
  cr_assert_eq(a.valid, 1);
  cr_assert_float_eq(a.mean, 50.0, EPS);
  cr_assert_eq(b.valid_minutes, 44);
  cr_assert_eq(b.valid, 0);
}

Test(cems, only_flag_N_values_count) {
  int64_t sid = series("cu-old", "s5", "so2");
  int64_t h10 = local(2017, 3, 1, 10, 0), h11 = h10 + H;
  /* 10:00: 44 minutes of 12 N (mean 20); minute 44 all 12 flagged C
   * (calibration gas, 500): not valid; minute 45 6 N + 6 C: not valid
   * (6 < 12). → 44 valid minutes → invalid; mean over the valid = 20. */
  minutes(sid, h10, 0, 44, 12, 12, 12, 20, 0);
  minutes(sid, h10, 44, 1, 12, 12, 0, 0, 500);
  minutes(sid, h10, 45, 1, 12, 12, 6, 20, 500);
  /* 11:00: 45 minutes of 12 N (mean 20) + a calibration minute (all C, 500):
   * 45 valid → valid, and the C values do not move the mean: 20. */
  minutes(sid, h11, 0, 45, 12, 12, 12, 20, 0);
  minutes(sid, h11, 45, 1, 12, 12, 0, 0, 500);
  update(local(2017, 3, 1, 12, 2));
  struct hour a = get_hour(sid, h10), b = get_hour(sid, h11);
  cr_assert_eq(a.valid_minutes, 44);
  cr_assert_eq(a.valid, 0);
  cr_assert_float_eq(a.mean, 20.0, EPS);
  cr_assert_eq(b.valid_minutes, 45);
  cr_assert_eq(b.valid, 1);
  cr_assert_float_eq(b.mean, 20.0, EPS);
}

Test(cems, hour_mean_is_the_mean_of_minute_means) {
  int64_t sid = series("cu-old", "s1", "so2");
  int64_t h = local(2017, 3, 1, 10, 0);
  /* 1-s point. Minute 0: 60 N values, mean 100. Minutes 1..44: 12 N values
   * (mean 10) and 48 flagged D. Valid minutes 45.
   *   mean of minute means = (100 + 44 × 10) / 45 = 540 / 45 = 12
   *   mean of the N samples = (60 × 100 + 44 × 12 × 10) / (60 + 44 × 12)
   *                         = 11280 / 588 ≈ 19.18 (not what HJ 75 asks) */
  minutes(sid, h, 0, 1, 60, 60, 60, 100, 0);
  minutes(sid, h, 1, 44, 60, 60, 12, 10, 0);
  update(local(2017, 3, 1, 11, 2));
  struct hour a = get_hour(sid, h);
  cr_assert_eq(a.valid_minutes, 45);
  cr_assert_float_eq(a.mean, 12.0, EPS);
  char q[160];
  snprintf(q, sizeof q, "SELECT CAST(sum_valid / n_valid * 1000 AS INTEGER) FROM rollups WHERE series_id = %lld"
                        " AND period = 1", (long long)sid);
  cr_assert_eq(q_int(q), 19183); /* 11280 / 588 = 19.183… */
}

/* ---- pre-aggregated data ---- */

Test(cems, minute_data_point) {
  /* min: interval 60 s, each value is a minute mean (expected 1 a minute). */
  int64_t sid = series("cu-old", "min", "pm");
  int64_t h10 = local(2017, 3, 1, 10, 0), h11 = h10 + H;
  /* 10:00: minutes 0..44 with values 1..45, flag N → 45 valid minutes,
   * mean (1 + … + 45) / 45 = 23. One value is enough for a minute here. */
  for (int m = 0; m < 45; m++) minutes(sid, h10, m, 1, 1, 1, 1, m + 1, 0);
  /* 11:00: 44 N minutes (value 5) and one flagged M (value 900) → 44 → invalid. */
  minutes(sid, h11, 0, 44, 1, 1, 1, 5, 0);
  minutes(sid, h11, 44, 1, 1, 1, 0, 0, 900);
  update(local(2017, 3, 1, 12, 2));
  struct hour a = get_hour(sid, h10), b = get_hour(sid, h11);
  cr_assert_eq(a.kind, PH_CEMS_MINUTE_DATA);
  cr_assert_eq(a.valid_minutes, 45);
  cr_assert_eq(a.valid, 1);
  cr_assert_float_eq(a.mean, 23.0, EPS);
  cr_assert_eq(b.valid_minutes, 44);
  cr_assert_eq(b.valid, 0);
  cr_assert_float_eq(b.mean, 5.0, EPS);
}

Test(cems, hourly_data_point) {
  /* hr: interval 3600 s, each value is an hourly mean. The writer also
   * writes a minute row for it (1 value against 1/60 expected); that must
   * not be read as "1 valid minute → invalid hour". */
  int64_t sid = series("cu-old", "hr", "so2");
  int64_t h10 = local(2017, 3, 1, 10, 0);
  hourly(sid, h10, 42, true);       /* N → valid, mean 42 */
  hourly(sid, h10 + H, 99, false);  /* C → invalid, no mean */
  update(local(2017, 3, 1, 12, 2));
  struct hour a = get_hour(sid, h10), b = get_hour(sid, h10 + H);
  cr_assert_eq(a.kind, PH_CEMS_HOURLY_DATA);
  cr_assert_eq(a.valid, 1);
  cr_assert_float_eq(a.mean, 42.0, EPS);
  cr_assert(b.found);
  cr_assert_eq(b.valid, 0);
  cr_assert(isnan(b.mean));
}

/* ---- valid day ---- */

Test(cems, day_needs_20_valid_hours) {
  int64_t sid = series("cu-old", "hr", "nox");
  int64_t d1 = local(2017, 3, 1, 0, 0), d2 = local(2017, 3, 2, 0, 0);
  /* 03-01: hours 0..19 valid with values 1..20, hour 20 flagged C (1000):
   * 20 valid hours → valid, mean (1 + … + 20) / 20 = 10.5. */
  for (int h = 0; h < 20; h++) hourly(sid, d1 + h * H, h + 1, true);
  hourly(sid, d1 + 20 * H, 1000, false);
  /* 03-02: 19 valid hours (value 7) → invalid, mean 7 over the 19. */
  hourly_run(sid, d2, 0, 19, 7);
  update(local(2017, 3 , 3, 0, 1)); /* 03-02 ended at 00:00, grace not over */
  struct day a = get_day(sid, d1);
  cr_assert(a.found);
  cr_assert_not(get_day(sid, d2).found);
  update(local(2017, 3, 3, 0, 2));
  struct day b = get_day(sid, d2);
  cr_assert_eq(a.valid_hours, 20);
  cr_assert_eq(a.valid, 1);
  cr_assert_float_eq(a.mean, 10.5, EPS);
  cr_assert_eq(b.valid_hours, 19);
  cr_assert_eq(b.valid, 0);
  cr_assert_float_eq(b.mean, 7.0, EPS);
}

Test(cems, day_mean_is_the_mean_of_valid_hour_means_from_samples) {
  /* 5-s NOx: 20 hours, hour k has 45 valid minutes of mean 10k (k = 1..20)
   * plus, in hour 20, 44 valid minutes of 1000 (invalid hour, left out):
   * day mean = 10 × 10.5 = 105 over 20 valid hours. */
  int64_t sid = series("cu-old", "s5", "nox");
  int64_t d = local(2017, 3, 1, 0, 0);
  for (int k = 1; k <= 20; k++) minutes(sid, d + (k - 1) * H, 0, 45, 12, 12, 12, 10.0 * k, 0);
  minutes(sid, d + 20 * H, 0, 44, 12, 12, 12, 1000, 0);
  update(local(2017, 3, 2, 0, 2));
  struct day a = get_day(sid, d);
  cr_assert_eq(a.valid_hours, 20);
  cr_assert_eq(a.valid, 1);
  cr_assert_float_eq(a.mean, 105.0, EPS);
}

/* ---- limits ---- */

Test(cems, limit_starts_on_2017_01_01_for_an_existing_plant) {
  /* cu-old is an existing Cu plant: GB 31574-2015 applies to it from
   * 2017-01-01 (SO2 150). SO2 200 every hour of 2016-12-31 and 2017-01-01:
   * no limit on the first day, so exceedances only on the second: its 24
   * hours and the day itself. */
  int64_t sid = series("cu-old", "hr", "so2");
  int64_t d1 = local(2016, 12, 31, 0, 0), d2 = local(2017, 1, 1, 0, 0);
  hourly_run(sid, d1, 0, 24, 200);
  hourly_run(sid, d2, 0, 24, 200);
  update(local(2017, 1, 2, 0, 2));
  cr_assert(isnan(get_hour(sid, d1 + 23 * H).limit)); /* 2016-12-31 23:00 local */
  cr_assert_float_eq(get_hour(sid, d2).limit, 150.0, EPS); /* 2017-01-01 00:00 local = 2016-12-31 16:00 UTC */
  cr_assert(isnan(get_day(sid, d1).limit));
  cr_assert_float_eq(get_day(sid, d2).limit, 150.0, EPS);
  cr_assert_eq(n_exc(PH_CEMS_PERIOD_HOUR), 24);
  cr_assert_eq(n_exc(PH_CEMS_PERIOD_DAY), 1);
  char q[200];
  snprintf(q, sizeof q, "SELECT count(*) FROM exceedances WHERE bucket_ms >= %lld AND limit_value = 150 AND"
                        " mean = 200 AND standard = 'gb31574-2015'", (long long)d2);
  cr_assert_eq(q_int(q), 25);
}

Test(cems, new_plant_counts_as_new_from_class_since) {
  /* cu-new: class new since 2016-06-01. On 2016-05-31 it is an existing
   * plant (no limit before 2017); on 2016-06-01 the new-plant limit (from
   * 2015-07-01) applies: SO2 150. SO2 200 at 12:00 both days. */
  int64_t sid = series("cu-new", "hr", "so2");
  int64_t a = local(2016, 5, 31, 12, 0), b = local(2016, 6, 1, 12, 0);
  hourly(sid, a, 200, true);
  hourly(sid, b, 200, true);
  update(local(2016, 6, 2, 0, 2));
  cr_assert(isnan(get_hour(sid, a).limit));
  cr_assert_float_eq(get_hour(sid, b).limit, 150.0, EPS);
  cr_assert_eq(n_exc(PH_CEMS_PERIOD_HOUR), 1);
}

Test(cems, special_limits) {
  /* SO2 120 for 20 hours of 2017-03-01 at both plants: cu-special is in a
   * designated area (Table 4: 100) → 20 hour exceedances + the day (mean
   * 120); cu-old (Table 3: 150) → none. */
  int64_t sp = series("cu-special", "hr", "so2"), old = series("cu-old", "hr", "so2");
  int64_t d = local(2017, 3, 1, 0, 0);
  hourly_run(sp, d, 0, 20, 120);
  hourly_run(old, d, 0, 20, 120);
  update(local(2017, 3, 2, 0, 2));
  cr_assert_float_eq(get_hour(sp, d).limit, 100.0, EPS);
  cr_assert_float_eq(get_hour(old, d).limit, 150.0, EPS);
  char q[160];
  snprintf(q, sizeof q, "SELECT count(*) FROM exceedances WHERE series_id = %lld AND limit_value = 100", (long long)sp);
  cr_assert_eq(q_int(q), 21);
  cr_assert_eq(q_int("SELECT count(*) FROM exceedances"), 21);
}

/* ---- benchmark exhaust volume (GB 31574-2015 §4.2.7) ---- */

Test(cems, benchmark_conversion_of_the_daily_mean) {
  int64_t so2 = series("cu-old", "stack-1", "so2"), flow = series("cu-old", "stack-1", "flow");
  int64_t d1 = local(2017, 3, 1, 0, 0), d2 = local(2017, 3, 2, 0, 0), d3 = local(2017, 3, 3, 0, 0);
  /* Every hour of three days: SO2 130 (under 150), flow 50 000 Nm³/h → Q = 24 × 50 000 = 1.2e6 Nm³ a day. */
  for (int64_t d = d1; d <= d3; d += 24 * H) {
    hourly_run(so2, d, 0, 24, 130);
    hourly_run(flow, d, 0, 24, 50000);
  }
  /* 03-01: product 60 t cathode + 40 t anode = 100 t (scrap in and slag
   * out are no product): ratio = 1.2e6 / (100 × 10 000) = 1.2 > 1 →
   * converted = 1.2 × 130 = 156 > 150 → a day exceedance; the hours (130)
   * are judged as measured: none. */
  material("cu-old", "scale", d1 + 8 * H, "cathode_cu", "out", 60);
  material("cu-old", "scale", d1 + 15 * H, "anode_cu", "out", 40);
  material("cu-old", "scale", d1 + 9 * H, "scrap_cu_1", "in", 500);
  material("cu-old", "scale", d1 + 10 * H, "slag", "out", 30);
  /* 03-02: 200 t → ratio 1.2e6 / 2e6 = 0.6 ≤ 1 → the measured 130 stands. */
  material("cu-old", "scale", d2 + 12 * H, "cu_alloy", "out", 200);
  /* 03-03: no production record → no conversion (ratio NULL). */
  update(local(2017, 3, 4, 0, 2));
  struct day a = get_day(so2, d1), b = get_day(so2, d2), c = get_day(so2, d3);
  cr_assert_float_eq(a.mean, 130.0, EPS);
  cr_assert_float_eq(a.ratio, 1.2, EPS);
  cr_assert_float_eq(a.converted, 156.0, 1e-9);
  cr_assert_float_eq(b.ratio, 0.6, EPS);
  cr_assert_float_eq(b.converted, 130.0, EPS);
  cr_assert(isnan(c.ratio));
  cr_assert_float_eq(c.converted, 130.0, EPS);
  /* the flow itself is not a concentration: never converted */
  cr_assert_float_eq(get_day(flow, d1).converted, 50000.0, EPS);
  cr_assert_eq(n_exc(PH_CEMS_PERIOD_HOUR), 0);
  cr_assert_eq(n_exc(PH_CEMS_PERIOD_DAY), 1);
  char q[200];
  snprintf(q, sizeof q, "SELECT count(*) FROM exceedances WHERE series_id = %lld AND bucket_ms = %lld AND"
                        " abs(converted - 156) < 1e-9 AND abs(ratio - 1.2) < 1e-12 AND mean = 130", (long long)so2,
           (long long)d1);
  cr_assert_eq(q_int(q), 1);
  snprintf(q, sizeof q, "SELECT count(*) FROM cems_ent_days WHERE ent = 'cu-old' AND day_ms = %lld AND"
                        " flow_nm3 = 1.2e6 AND product_t = 100 AND benchmark = 10000", (long long)d1);
  cr_assert_eq(q_int(q), 1);
}

Test(cems, several_stacks_convert_with_the_total_volume) {
  /* stack-1 50 000 Nm³/h and stack-2 25 000 Nm³/h all day: Q_total =
   * 1.2e6 + 0.6e6 = 1.8e6 Nm³; 100 t of product → ratio 1.8e6 / 1e6 = 1.8
   * for both stacks (alone they would be 1.2 and 0.6): SO2 100 on each →
   * converted 180 > 150 → two day exceedances. */
  int64_t s1 = series("cu-old", "stack-1", "so2"), f1 = series("cu-old", "stack-1", "flow");
  int64_t s2 = series("cu-old", "stack-2", "so2"), f2 = series("cu-old", "stack-2", "flow");
  int64_t d = local(2017, 3, 1, 0, 0);
  hourly_run(s1, d, 0, 24, 100);
  hourly_run(f1, d, 0, 24, 50000);
  hourly_run(s2, d, 0, 24, 100);
  hourly_run(f2, d, 0, 24, 25000);
  material("cu-old", "scale", d + 20 * H, "cathode_cu", "out", 100);
  update(local(2017, 3, 2, 0, 2));
  cr_assert_float_eq(get_day(s1, d).ratio, 1.8, EPS);
  cr_assert_float_eq(get_day(s2, d).converted, 180.0, 1e-9);
  cr_assert_eq(n_exc(PH_CEMS_PERIOD_DAY), 2);
}

/* Item 5 of issue #15: the park's material registry says what is product. */
Test(cems, the_parks_declared_materials_decide_what_is_product) {
  /* p1 declares cu_rod (a code of its own) as product and anode_cu as feed (a refinery
   * that buys anodes). One day of SO2 130 and flow 50 000 Nm³/h (Q = 1.2e6 Nm³):
   *   cu_rod out 60 t (product), anode_cu out 40 t (feed now: not product),
   *   wire_scrap out 50 t (declared nowhere: unclassified, not product)
   * → product 60 t, ratio 1.2e6 / (60 × 10 000) = 2 → converted 260 > 150: a day exceedance.
   * (With the catalogue alone it would be 40 t of anode: ratio 3.) */
  struct ph_err err = {0};
  cJSON *a = cJSON_Parse("[{\"code\":\"cu_rod\",\"role\":\"product\",\"metals\":{\"cu\":0.9995}},"
                         "{\"code\":\"anode_cu\",\"role\":\"feed\"}]");
  cr_assert_eq(ph_materials_load(a, "parks[0].materials", cat, &cfg.parks[0].materials, &err), 0, "%s", err.msg);
  cJSON_Delete(a);
  cr_assert(ph_cems_is_product(&cfg.parks[0], cat, "cu_rod"));
  cr_assert_not(ph_cems_is_product(&cfg.parks[0], cat, "anode_cu"));
  cr_assert(ph_cems_is_product(NULL, cat, "anode_cu"), "the catalogue alone");
  cr_assert(ph_cems_is_product(&cfg.parks[0], cat, "cathode_cu"), "undeclared: the catalogue's role");
  cr_assert_not(ph_cems_is_product(&cfg.parks[0], cat, "wire_scrap"));
  int64_t so2 = series("cu-old", "stack-1", "so2"), flow = series("cu-old", "stack-1", "flow");
  int64_t d = local(2017, 3, 1, 0, 0);
  hourly_run(so2, d, 0, 24, 130);
  hourly_run(flow, d, 0, 24, 50000);
  material("cu-old", "scale", d + 8 * H, "cu_rod", "out", 60);
  material("cu-old", "scale", d + 9 * H, "anode_cu", "out", 40);
  material("cu-old", "scale", d + 10 * H, "wire_scrap", "out", 50);
  update(local(2017, 3, 2, 0, 2));
  cr_assert_float_eq(get_day(so2, d).ratio, 2.0, EPS);
  cr_assert_float_eq(get_day(so2, d).converted, 260.0, 1e-9);
  char q[200];
  snprintf(q, sizeof q, "SELECT count(*) FROM cems_ent_days WHERE ent = 'cu-old' AND day_ms = %lld AND product_t = 60",
           (long long)d);
  cr_assert_eq(q_int(q), 1);
}

Test(cems, production_arriving_later_reconverts_the_day) {
  int64_t so2 = series("cu-old", "stack-1", "so2"), flow = series("cu-old", "stack-1", "flow");
  int64_t d = local(2017, 3, 1, 0, 0);
  hourly_run(so2, d, 0, 24, 130);
  hourly_run(flow, d, 0, 24, 50000);
  update(local(2017, 3, 2, 0, 2));
  cr_assert(isnan(get_day(so2, d).ratio));
  cr_assert_eq(n_exc(PH_CEMS_PERIOD_DAY), 0);
  /* the weighbridge batch of that day arrives a day late: 100 t → 1.2 → 156 */
  material("cu-old", "scale", d + 18 * H, "blister_cu", "out", 100);
  update(local(2017, 3, 3, 0, 5));
  cr_assert_float_eq(get_day(so2, d).converted, 156.0, 1e-9);
  cr_assert_eq(n_exc(PH_CEMS_PERIOD_DAY), 1);
}

/* ---- incremental, idempotent ---- */

Test(cems, hours_wait_for_their_end_and_the_grace) {
  int64_t sid = series("cu-old", "s5", "so2");
  int64_t h = local(2017, 3, 1, 10, 0);
  minutes(sid, h, 0, 45, 12, 12, 12, 20, 0);
  update(local(2017, 3, 1, 10, 59));
  cr_assert_not(get_hour(sid, h).found); /* still open */
  update(local(2017, 3, 1, 11, 1));
  cr_assert_not(get_hour(sid, h).found); /* ended, within the grace */
  update(local(2017, 3, 1, 11, 2));
  cr_assert(get_hour(sid, h).valid);
}

Test(cems, late_data_for_a_closed_hour_is_picked_up) {
  int64_t sid = series("cu-old", "s5", "so2");
  int64_t h = local(2017, 3, 1, 10, 0), d = local(2017, 3, 1, 0, 0);
  /* 44 minutes of SO2 200 → invalid hour, no exceedance */
  minutes(sid, h, 0, 44, 12, 12, 12, 200, 0);
  update(local(2017, 3, 1, 11, 2));
  cr_assert_eq(get_hour(sid, h).valid, 0);
  cr_assert_eq(n_exc(PH_CEMS_PERIOD_HOUR), 0);
  /* minute 44 arrives late (the hour row is updated, not inserted): 45
   * valid minutes of 200 → valid, exceeds 150 */
  minutes(sid, h, 44, 1, 12, 12, 12, 200, 0);
  update(local(2017, 3, 1, 11, 30));
  cr_assert_eq(get_hour(sid, h).valid_minutes, 45);
  cr_assert_eq(n_exc(PH_CEMS_PERIOD_HOUR), 1);
  int64_t id = q_int("SELECT id FROM exceedances"), rec = q_int("SELECT recorded_ms FROM exceedances");
  cr_assert_eq(rec, local(2017, 3, 1, 11, 30));
  /* 5 more minutes of 200 (still exceeding: same row, same id, first seen kept) */
  minutes(sid, h, 45, 5, 12, 12, 12, 200, 0);
  update(local(2017, 3, 1, 11, 40));
  cr_assert_eq(q_int("SELECT id FROM exceedances"), id);
  cr_assert_eq(q_int("SELECT recorded_ms FROM exceedances"), rec);
  /* the last 10 minutes at 0: mean (50 × 200 + 10 × 0) / 60 = 166.67, still above 150 */
  minutes(sid, h, 50, 10, 12, 12, 12, 0, 0);
  update(local(2017, 3, 1, 11, 50));
  cr_assert_float_eq(get_hour(sid, h).mean, 10000.0 / 60.0, 1e-9);
  cr_assert_eq(n_exc(PH_CEMS_PERIOD_HOUR), 1);
  /* the day (one valid hour: invalid) is computed once closed */
  update(local(2017, 3, 2, 0, 2));
  struct day dd = get_day(sid, d);
  cr_assert_eq(dd.valid_hours, 1);
  cr_assert_eq(dd.valid, 0);
}

Test(cems, late_data_can_remove_an_exceedance) {
  /* 45 minutes of 200 → exceeds 150; 15 late minutes of 0:
   * (45 × 200 + 15 × 0) / 60 = 150, not above the limit → the row goes. */
  int64_t sid = series("cu-old", "s5", "so2");
  int64_t h = local(2017, 3, 1, 10, 0);
  minutes(sid, h, 0, 45, 12, 12, 12, 200, 0);
  update(local(2017, 3, 1, 11, 2));
  cr_assert_eq(n_exc(PH_CEMS_PERIOD_HOUR), 1);
  minutes(sid, h, 45, 15, 12, 12, 12, 0, 0);
  update(local(2017, 3, 1, 12, 0));
  cr_assert_float_eq(get_hour(sid, h).mean, 150.0, EPS);
  cr_assert_eq(n_exc(PH_CEMS_PERIOD_HOUR), 0);
}

/* Everything the update writes, as one text (exceedance ids optional:
 * they follow the order in which the work was done). */
static char *dump_ids(bool ids) {
  static const char q[] =
      "SELECT (SELECT group_concat(x, ';') FROM (SELECT series_id || ',' || hour_ms || ',' || day_ms || ',' ||"
      "  kind || ',' || valid_minutes || ',' || quote(mean) || ',' || valid || ',' || quote(limit_value) AS x"
      "  FROM cems_hours ORDER BY series_id, hour_ms))"
      " || '|' || (SELECT group_concat(x, ';') FROM (SELECT series_id || ',' || day_ms || ',' || valid_hours ||"
      "  ',' || quote(mean) || ',' || valid || ',' || quote(ratio) || ',' || quote(converted) || ',' ||"
      "  quote(limit_value) AS x FROM cems_days ORDER BY series_id, day_ms))"
      " || '|' || (SELECT group_concat(x, ';') FROM (SELECT park || ent || day_ms || ',' || flow_nm3 || ',' ||"
      "  product_t || ',' || quote(ratio) AS x FROM cems_ent_days ORDER BY park, ent, day_ms))"
      " || '|' || (SELECT group_concat(x, ';') FROM (SELECT CASE WHEN ?1 THEN id ELSE '' END || ',' || series_id"
      "  || ',' || period || ',' || bucket_ms || ',' || mean || ',' || converted || ',' || quote(ratio) || ',' ||"
      "  limit_value || ',' || standard || ',' || recorded_ms AS x FROM exceedances"
      "  ORDER BY series_id, period, bucket_ms))";
  sqlite3_stmt *s;
  cr_assert_eq(sqlite3_prepare_v2(db, q, -1, &s, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
  sqlite3_bind_int(s, 1, ids);
  cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
  const char *t = (const char *)sqlite3_column_text(s, 0);
  cr_assert_not_null(t);
  char *copy = ph_strdup(t);
  sqlite3_finalize(s);
  return copy;
}
static char *dump(void) { return dump_ids(true); }

/* Three days of hourly SO2/flow at two stacks with production, a 5-s NOx
 * stack with minutes, exceedances of both periods. */
static void busy_fixture(void) {
  int64_t s1 = series("cu-old", "stack-1", "so2"), f1 = series("cu-old", "stack-1", "flow");
  int64_t s2 = series("cu-special", "stack-2", "so2"), nox = series("cu-old", "s5", "nox");
  int64_t d = local(2017, 3, 1, 0, 0);
  for (int k = 0; k < 3; k++, d += 24 * H) {
    hourly_run(s1, d, 0, 24, 120 + 10 * k);
    hourly_run(f1, d, 0, 22, 60000);
    hourly_run(s2, d, 0, 21, 90 + 5 * k);
    for (int h = 0; h < 24; h += 3) minutes(nox, d + h * H, 0, 45 + h % 2, 12, 12, 12, 150 + h * 3, 0);
    material("cu-old", "scale", d + 7 * H, "cathode_cu", "out", 80 + 20 * k);
  }
}

Test(cems, running_again_changes_nothing) {
  busy_fixture();
  int64_t now = local(2017, 3, 4, 0, 2);
  update(now);
  char *a = dump();
  cr_assert_gt(strlen(a), 100);
  cr_assert_gt(q_int("SELECT count(*) FROM exceedances WHERE period = 1"), 0);
  cr_assert_gt(q_int("SELECT count(*) FROM exceedances WHERE period = 2"), 0);
  update(now);
  char *b = dump();
  update(now + 5 * H);
  char *c = dump();
  cr_assert_str_eq(a, b);
  cr_assert_str_eq(a, c);
  /* recomputing everything from scratch gives the same rows, ids and first-seen times too */
  struct ph_err err = {0};
  cr_assert_eq(ph_cems_invalidate(db, 0, INT64_MAX, &err), 0, "%s", err.msg);
  cr_assert_gt(q_int("SELECT count(*) FROM cems_dirty"), 100);
  update(now + 6 * H);
  char *e = dump();
  cr_assert_str_eq(a, e);
  cr_assert_eq(q_int("SELECT count(*) FROM cems_dirty"), 0);
  cr_assert_eq(q_int("SELECT count(*) FROM cems_dirty_days"), 0);
  ph_free(a);
  ph_free(b);
  ph_free(c);
  ph_free(e);
}

Test(cems, a_bounded_run_continues_where_it_stopped) {
  busy_fixture();
  int64_t now = local(2017, 3, 4, 0, 2);
  /* at most 7 series-hours a call: returns 1 (more) until the hours are done;
   * days wait for their hours; the end result equals one unbounded call */
  int calls = 0;
  while (update_some(now, 7) == 1) {
    /* inv. 3: no day is summed while closed hours are still waiting */
    cr_assert_eq(q_int("SELECT count(*) FROM cems_days"), 0);
    int64_t closed;
    struct ph_err err = {0};
    cr_assert_eq(ph_cems_closed_until(db, &closed, &err), 0);
    cr_assert_lt(closed, now - PH_CEMS_GRACE_MS);
    cr_assert_lt(++calls, 1000);
  }
  cr_assert_gt(calls, 10);
  char *a = dump_ids(false);
  /* the same data in a fresh database, one call */
  fx_teardown();
  fx_setup();
  busy_fixture();
  update(now);
  char *b = dump_ids(false);
  cr_assert_str_eq(a, b);
  ph_free(a);
  ph_free(b);
}

Test(cems, unconfigured_enterprises_are_skipped) {
  int64_t sid = series("ghost", "hr", "so2");
  int64_t d = local(2017, 3, 1, 0, 0);
  hourly_run(sid, d, 0, 24, 500);
  material("ghost", "scale", d + H, "cathode_cu", "out", 1);
  update(local(2017, 3, 2, 0, 2));
  cr_assert_eq(q_int("SELECT count(*) FROM cems_hours"), 0);
  cr_assert_eq(q_int("SELECT count(*) FROM exceedances"), 0);
  cr_assert_eq(q_int("SELECT count(*) FROM cems_dirty WHERE hour_ms <= 1488297600000"), 0);
  cr_assert_eq(q_int("SELECT count(*) FROM cems_dirty_days"), 0);
  cr_assert_eq(q_int("SELECT count(*) FROM cems_dirty_materials"), 0);
}

Test(cems, runs_as_a_savepoint_inside_a_transaction) {
  int64_t sid = series("cu-old", "hr", "so2");
  hourly(sid, local(2017, 3, 1, 10, 0), 200, true);
  sql("BEGIN");
  update(local(2017, 3, 1, 11, 2));
  cr_assert_eq(n_exc(PH_CEMS_PERIOD_HOUR), 1);
  sql("ROLLBACK"); /* the caller's rollback takes the update with it */
  cr_assert_eq(n_exc(PH_CEMS_PERIOD_HOUR), 0);
  update(local(2017, 3, 1, 11, 2));
  cr_assert_eq(n_exc(PH_CEMS_PERIOD_HOUR), 1);
}

Test(cems, migration_2_marks_what_an_older_database_holds) {
  /* A version-1 database with an hour of hourly SO2 250 and a product record,
   * opened by this hub: the migration marks both, the first update does them. */
  char path[] = "/tmp/parkhub-cems-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  close(fd);
  sqlite3 *old;
  cr_assert_eq(sqlite3_open(path, &old), SQLITE_OK);
  int64_t h = local(2017, 3, 1, 10, 0);
  char q[8192];
  snprintf(q, sizeof q,
           STORE_SQL_V1 "PRAGMA user_version = 1;"
           "INSERT INTO points(id, park, ent, point) VALUES(1, 'p1', 'cu-old', 'hr'), (2, 'p1', 'cu-old', 'scale');"
           "INSERT INTO metrics(id, code) VALUES(1, 'so2');"
           "INSERT INTO series(id, point_id, metric_id) VALUES(1, 1, 1);"
           "INSERT INTO rollups VALUES(1, 1, %lld, 1, 1, 250, 250, 250, 250, %lld, 250, %lld, 250, 1);"
           "INSERT INTO materials(point_id, ts_ms, material, dir, qty_t, agent_id, epoch, seq)"
           " VALUES(2, %lld, 'cathode_cu', 'out', 5, 1, 1, 1);",
           (long long)h, (long long)h, (long long)h, (long long)h);
  char *msg = NULL;
  cr_assert_eq(sqlite3_exec(old, q, NULL, NULL, &msg), SQLITE_OK, "%s", msg ? msg : "");
  sqlite3_close(old);
  ph_store_close(st);
  struct ph_err err = {0};
  cr_assert_eq(ph_store_open(path, &st, &err), 0, "%s", err.msg);
  db = ph_store_db(st);
  cr_assert_eq(q_int("PRAGMA user_version"), PH_STORE_VERSION);
  cr_assert_eq(q_int("SELECT count(*) FROM cems_dirty"), 1);
  cr_assert_eq(q_int("SELECT count(*) FROM cems_dirty_materials"), 1);
  update(local(2017, 3, 2, 0, 2));
  cr_assert_float_eq(get_hour(1, h).mean, 250.0, EPS);
  cr_assert_eq(n_exc(PH_CEMS_PERIOD_HOUR), 1);
  snprintf(q, sizeof q, "SELECT count(*) FROM cems_ent_days WHERE product_t = 5 AND day_ms = %lld",
           (long long)local(2017, 3, 1, 0, 0));
  cr_assert_eq(q_int(q), 1);
  ph_store_close(st);
  st = NULL;
  unlink(path);
  char side[64];
  snprintf(side, sizeof side, "%s-wal", path);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", path);
  unlink(side);
  cr_assert_eq(ph_store_open(":memory:", &st, &err), 0); /* for the teardown */
}
