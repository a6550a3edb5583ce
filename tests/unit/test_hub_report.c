/* The annual report (report.h) on a small hand-made database: rows go in
 * with SQL and the fixture's rollup helpers (hub_cems_fixture.h: park p1,
 * Asia/Shanghai, UTC+8), ph_cems_update fills the CEMS tables, then the
 * report's tree is checked number by number and the CSV and HTML renderings
 * are checked for those numbers and for escaping.
 *
 * Year 2025; the update and the report run at now = 2025-01-03 00:05 local:
 *   closed_until = now − 2 min grace = Jan 3 00:03 → hours expected from
 *   Jan 1 00:00 to Jan 3 00:00 = 48 per point; days expected = 2 (Jan 1, Jan 2).
 *
 * cu-old ("Old Smelter & Co"), existing Cu plant, GB 31574-2015 (SO2 150,
 * PM 30 mg/Nm³; PCDD/F 0.5 ng TEQ/Nm³), point stack-1 = hourly data:
 *   so2  Jan 1 00..23 = 100 except 10:00 = 180; Jan 2 00..11 = 100
 *   pm   Jan 1 00..23 = 10
 *   flow Jan 1 00..23 and Jan 2 00..11 = 20 000 Nm³/h
 *   pcdd_f stack test 0.2 ng TEQ/Nm³ at Jan 1 12:30 (flag S: not a CEMS value)
 *   ledger (point scale): in scrap_cu_1 100 t (Jan 1), out cathode_cu 50 t and slag 5 t (Jan 2)
 *   electricity: day rollup Jan 1 = 5 000 kWh (point furnace-1); no water data
 *   Toolkit class 2 since 2020-01-01; baseline {year 2020, pcdd_f_g_teq 0.1}
 * cu-special ("<script>…"): nothing on record, no class, no baseline.
 * cu-new: ledger out cathode_cu 10 t (Jan 2); Toolkit class 6 (air ND).
 */
#include <stdio.h>
#include <stdlib.h>

#include "hub_cems_fixture.h"
#include "parkhub/factors.h"
#include "report/report.h"

static struct ph_factors *fac;
static cJSON *rep;
static int64_t now_ms;

static void hour_value(int64_t sid, int64_t day, int h, double v) { hourly(sid, day + h * H, v, true); }

static void day_sum(const char *ent, const char *point, const char *metric, int64_t day, double sum) {
  int64_t sid = series(ent, point, metric);
  char q[512];
  snprintf(q, sizeof q,
           "INSERT INTO rollups(series_id, period, bucket_ms, n, n_valid, sum, sum_valid, min, max, first_ts, first,"
           " last_ts, last, expected) VALUES(%lld, 2, %lld, 24, 24, %.17g, %.17g, 0, 0, %lld, 0, %lld, 0, 24)",
           (long long)sid, (long long)day, sum, sum, (long long)day, (long long)day);
  sql(q);
}

static void data(void) {
  struct ph_hub_ent *old = &cfg.parks[0].ents[0], *spec = &cfg.parks[0].ents[1], *nw = &cfg.parks[0].ents[2];
  strcpy(cfg.hub_id, "hub-1");
  strcpy(cfg.parks[0].name, "Test park");
  strcpy(old->name, "Old Smelter & Co");
  old->classes[old->nclasses++] = (struct ph_dated_class){2, "2020-01-01"};
  old->baseline_year = 2020;
  old->baseline_pcdd_f_g_teq = 0.1;
  strcpy(spec->name, "<script>alert(1)</script> Special Cu");
  strcpy(nw->name, "\t=1+1 New Cu"); /* a spreadsheet formula behind a tab, defused in CSV */
  spec->baseline_pcdd_f_g_teq = -1;
  nw->classes[nw->nclasses++] = (struct ph_dated_class){6, "2010-01-01"};
  nw->baseline_pcdd_f_g_teq = -1;

  int64_t d1 = local(2025, 1, 1, 0, 0), d2 = local(2025, 1, 2, 0, 0);
  int64_t so2 = series("cu-old", "stack-1", "so2"), pm = series("cu-old", "stack-1", "pm");
  int64_t flow = series("cu-old", "stack-1", "flow"), pc = series("cu-old", "stack-1", "pcdd_f");
  for (int h = 0; h < 24; h++) {
    hour_value(so2, d1, h, h == 10 ? 180 : 100);
    hour_value(pm, d1, h, 10);
    hour_value(flow, d1, h, 20000);
  }
  for (int h = 0; h < 12; h++) {
    hour_value(so2, d2, h, 100);
    hour_value(flow, d2, h, 20000);
  }
  minute_row(pc, d1 + 12 * H + 30 * MIN, 1, 0, 0, 0.2, 1.0 / 60); /* the writer's minute and hour rows */
  hour_row(pc, d1 + 12 * H, 1, 0, 0.2, 0, 1.0);
  material("cu-old", "scale", d1 + 9 * H, "scrap_cu_1", "in", 100);
  material("cu-old", "scale", d2 + 15 * H, "cathode_cu", "out", 50);
  material("cu-old", "scale", d2 + 16 * H, "slag", "out", 5);
  day_sum("cu-old", "furnace-1", "electricity", d1, 5000);
  material("cu-new", "scale", d2 + 10 * H, "cathode_cu", "out", 10);
  now_ms = local(2025, 1, 3, 0, 5);
  update(now_ms);
}

static void setup(void) {
  struct ph_err err = {0};
  fx_setup();
  cr_assert_eq(ph_factors_load_builtin(&fac, &err), 0, "%s", err.msg);
  data();
  struct ph_refs refs = {.cfg = &cfg, .cat = cat, .factors = fac, .tz = {tz}, .limits = {lim}, .nlimits = 1};
  struct ph_report_env env = {.refs = &refs};
  int changes = sqlite3_total_changes(db);
  cr_assert_eq(ph_report_build(db, &env, "p1", 2025, now_ms, &rep, &err), 0, "%s", err.msg);
  cr_assert_eq(sqlite3_total_changes(db), changes, "the report wrote to the database");
}

static void teardown(void) {
  cJSON_Delete(rep);
  rep = NULL;
  ph_factors_free(fac);
  fx_teardown();
}

TestSuite(report, .init = setup, .fini = teardown);

/* ---- tree access ---- */

static const cJSON *at(const cJSON *o, const char *path) {
  char buf[256], *save = NULL;
  snprintf(buf, sizeof buf, "%s", path);
  for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) o = cJSON_GetObjectItemCaseSensitive(o, k);
  cr_assert_not_null(o, "no %s", path);
  return o;
}
static double n(const cJSON *o, const char *path) {
  const cJSON *v = at(o, path);
  cr_assert(cJSON_IsNumber(v), "%s is not a number", path);
  return v->valuedouble;
}
static const char *s(const cJSON *o, const char *path) {
  const cJSON *v = at(o, path);
  cr_assert(cJSON_IsString(v), "%s is not a string", path);
  return v->valuestring;
}
/* null, with a reason at <key>_na containing `why` */
static void is_na(const cJSON *o, const char *key, const char *why) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  cr_assert(cJSON_IsNull(v), "%s is not null", key);
  const char *r = ph_report_na(o, key);
  cr_assert(strstr(r, why) != NULL, "%s: reason '%s' does not say '%s'", key, r, why);
}
/* the element of array a whose key k is v */
static const cJSON *find(const cJSON *a, const char *k, const char *v) {
  const cJSON *it;
  cJSON_ArrayForEach(it, a) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(it, k);
    if (cJSON_IsString(x) && strcmp(x->valuestring, v) == 0) return it;
  }
  cr_assert_fail("no element with %s = %s", k, v);
  return NULL;
}
static const cJSON *ent(const char *id) { return find(at(rep, "enterprises"), "id", id); }

/* ---- the tree ---- */

/* Every object of the tree has distinct keys (cJSON would keep both and
 * readers find only the first). */
static void distinct_keys(const cJSON *o, const char *path) {
  const cJSON *a, *b;
  cJSON_ArrayForEach(a, o) {
    if (cJSON_IsObject(o))
      for (b = a->next; b; b = b->next) cr_assert_str_neq(a->string, b->string, "%s: key %s twice", path, a->string);
    if (cJSON_IsObject(a) || cJSON_IsArray(a)) {
      char sub[256];
      snprintf(sub, sizeof sub, "%s.%s", path, a->string ? a->string : "[]");
      distinct_keys(a, sub);
    }
  }
}

Test(report, every_key_appears_once_per_object) { distinct_keys(rep, "$"); }

Test(report, meta_states_park_year_standard_and_cems_cut) {
  cr_assert_str_eq(s(rep, "park"), "p1");
  cr_assert_str_eq(s(rep, "park_name"), "Test park");
  cr_assert_eq(n(rep, "year"), 2025);
  cr_assert_str_eq(s(rep, "period_from"), "2025-01-01T00:00:00+08:00");
  cr_assert_str_eq(s(rep, "period_to"), "2026-01-01T00:00:00+08:00");
  cr_assert_str_eq(cJSON_GetArrayItem(at(rep, "standards"), 0)->valuestring, "gb31574-2015");
  cr_assert_str_eq(s(rep, "generated_at"), "2025-01-03T00:05:00+08:00");
  /* closed = now − 120 s = 00:03 local; the CEMS figures stop at the 00:00 hour */
  cr_assert_str_eq(s(rep, "cems_closed_until"), "2025-01-03T00:03:00+08:00");
  cr_assert_str_eq(s(rep, "cems_data_through"), "2025-01-03T00:00:00+08:00");
  cr_assert(cJSON_IsFalse(at(rep, "cems_year_complete")));
  cr_assert_str_eq(s(rep, "factor_table"), "unep-toolkit-2013-cu");
  cr_assert_eq(cJSON_GetArraySize(at(rep, "enterprises")), 3);
  cr_assert_str_eq(s(cJSON_GetArrayItem(at(rep, "enterprises"), 0), "id"), "cu-old"); /* config order */
}

Test(report, emissions_are_mass_over_valid_hours_with_the_gap_share) {
  const cJSON *rows = at(ent("cu-old"), "emissions");
  /* GB 31574 order: so2 before pm; flow, o2 … are not pollutants; pcdd_f is the inventory's */
  cr_assert_eq(cJSON_GetArraySize(rows), 2);
  cr_assert_str_eq(s(cJSON_GetArrayItem(rows, 0), "pollutant"), "so2");
  cr_assert_str_eq(s(cJSON_GetArrayItem(rows, 1), "pollutant"), "pm");
  const cJSON *so2 = cJSON_GetArrayItem(rows, 0), *pm = cJSON_GetArrayItem(rows, 1);
  /* so2: 36 hours with C and Q: (35 × 100 + 180) mg/Nm³ × 20 000 Nm³ × 1e-6 = 73.6 kg = 0.0736 t;
   * expected 48 point-hours, gap 12 = 25 % */
  cr_assert_float_eq(n(so2, "mass_t"), 0.0736, EPS);
  cr_assert_eq(n(so2, "hours_expected"), 48);
  cr_assert_eq(n(so2, "hours_used"), 36);
  cr_assert_eq(n(so2, "gap_hours"), 12);
  cr_assert_float_eq(n(so2, "gap_share"), 0.25, EPS);
  /* pm: 24 × 10 × 20 000 × 1e-6 = 4.8 kg = 0.0048 t; 24 of 48 hours gaps */
  cr_assert_float_eq(n(pm, "mass_t"), 0.0048, EPS);
  cr_assert_float_eq(n(pm, "gap_share"), 0.5, EPS);
  /* park = sum of enterprises (only cu-old measures) */
  const cJSON *p = find(at(rep, "park_summary.emissions"), "pollutant", "so2");
  cr_assert_float_eq(n(p, "mass_t"), 0.0736, EPS);
  cr_assert_eq(n(p, "enterprises"), 1);
  cr_assert_eq(n(p, "hours_expected"), 48);
}

Test(report, compliance_counts_valid_hours_and_days_against_the_limit) {
  const cJSON *so2 = find(at(ent("cu-old"), "compliance"), "pollutant", "so2");
  cr_assert_float_eq(n(so2, "limit"), 150, EPS);
  cr_assert_float_eq(n(so2, "limit_min"), 150, EPS);
  cr_assert_float_eq(n(so2, "limit_max"), 150, EPS);
  cr_assert_str_eq(s(so2, "unit"), "mg/Nm3");
  /* 36 valid hours, all with a limit; 180 > 150 at Jan 1 10:00: 35/36 within */
  cr_assert_eq(n(so2, "hours_expected"), 48);
  cr_assert_eq(n(so2, "hours_valid"), 36);
  cr_assert_eq(n(so2, "hours_with_limit"), 36);
  cr_assert_eq(n(so2, "exceedance_hours"), 1);
  cr_assert_float_eq(n(so2, "hour_compliance"), 35.0 / 36.0, EPS);
  cr_assert_float_eq(n(so2, "hour_availability"), 36.0 / 48.0, EPS);
  cr_assert_float_eq(n(so2, "worst_hour_mean"), 180, EPS);
  cr_assert_float_eq(n(so2, "worst_hour_ratio"), 1.2, EPS);
  cr_assert_str_eq(s(so2, "worst_hour_time"), "2025-01-01T10:00:00+08:00");
  cr_assert_str_eq(s(so2, "worst_hour_point"), "stack-1");
  /* days: Jan 1 valid (24 h ≥ 20), mean (23 × 100 + 180) / 24 = 103.33, no product that day → not converted;
   * Jan 2 has 12 valid hours: not valid. 1 valid of 2 expected, within the limit */
  cr_assert_eq(n(so2, "days_expected"), 2);
  cr_assert_eq(n(so2, "days_valid"), 1);
  cr_assert_eq(n(so2, "exceedance_days"), 0);
  cr_assert_float_eq(n(so2, "day_compliance"), 1.0, EPS);
  cr_assert_float_eq(n(so2, "day_availability"), 0.5, EPS);
  cr_assert_float_eq(n(so2, "worst_day_converted"), 2480.0 / 24.0, 1e-9);
  cr_assert_str_eq(s(so2, "worst_day_date"), "2025-01-01");
  /* pcdd_f has no valid CEMS hour (a stack test): judged in the inventory, not here */
  const cJSON *it;
  cJSON_ArrayForEach(it, at(ent("cu-old"), "compliance")) cr_assert_str_neq(s(it, "pollutant"), "pcdd_f");
  /* park: the same sums, worst with its enterprise */
  const cJSON *p = find(at(rep, "park_summary.compliance"), "pollutant", "so2");
  cr_assert_float_eq(n(p, "hour_compliance"), 35.0 / 36.0, EPS);
  cr_assert_str_eq(s(p, "worst_hour_enterprise"), "cu-old");
}

Test(report, pcdd_f_measured_estimated_baseline_and_factor_status) {
  const cJSON *pc = at(ent("cu-old"), "pcdd_f");
  /* monitored from the first data (Jan 1 00:00) to the closed hours (Jan 3 00:00): 48 hours;
   * measured: 36 valid flow hours of 20 000, the other 12 operating hours filled with 20 000:
   * 48 × 20 000 = 960 000 Nm³ × 0.2 ng × 1e-9 = 0.000192 g TEQ over the period;
   * measured share 720 000 / 960 000 = 0.75, filled 0.25 */
  cr_assert_float_eq(n(pc, "measured_period_g_teq"), 0.000192, 1e-15);
  cr_assert_float_eq(n(pc, "measured_share"), 0.75, 1e-12);
  cr_assert_float_eq(n(pc, "filled_share"), 0.25, 1e-12);
  cr_assert_str_eq(s(pc, "measured_method"), "measured");
  /* 48 of 8 760 hours of the year: far below the 0.75 needed to annualise: not available */
  cr_assert_float_eq(n(pc, "monitored_share"), 48.0 / 8760.0, 1e-12);
  is_na(pc, "measured_g_teq", "monitored 2 of 365 days");
  /* estimated, class 2: air 50 µg/t × 50 t × 1e-6 = 0.0025; residue 630 × 50 × 1e-6 = 0.0315 */
  cr_assert_float_eq(n(pc, "estimated_air_g_teq"), 0.0025, 1e-12);
  cr_assert_float_eq(n(pc, "estimated_residue_g_teq"), 0.0315, 1e-12);
  cr_assert_float_eq(n(pc, "activity_t"), 50, EPS);
  /* current: neither figure rests on enough of the year (the ledger of 2 days is not a
   * year's production either); baseline configured 0.1; no reduction without a current figure */
  cr_assert_str_eq(s(pc, "current_g_teq_method"), "none");
  is_na(pc, "current_g_teq", "estimated: monitored 2 of 365 days");
  cr_assert_eq(n(pc, "baseline_year"), 2020);
  cr_assert_str_eq(s(pc, "baseline_g_teq_method"), "configured");
  is_na(pc, "reduction_g_teq", "needs both the baseline and the current figure");
  is_na(pc, "reduction_measured_g_teq", "configured");
  /* the test, against the 0.5 ng TEQ/Nm³ limit */
  const cJSON *t = cJSON_GetArrayItem(at(pc, "stack_tests"), 0);
  cr_assert_str_eq(s(t, "time"), "2025-01-01T12:30:00+08:00");
  cr_assert_float_eq(n(t, "ng_teq_nm3"), 0.2, EPS);
  cr_assert_float_eq(n(t, "limit_ng_teq_nm3"), 0.5, EPS);
  cr_assert(cJSON_IsFalse(at(t, "above_limit")));
  /* the factor used, its source, and "not verified" */
  const cJSON *f = cJSON_GetArrayItem(at(pc, "factors"), 0);
  cr_assert_eq(n(f, "toolkit_class"), 2);
  cr_assert_float_eq(n(f, "air_ef_ug_teq_t"), 50, EPS);
  cr_assert_float_eq(n(f, "residue_ef_ug_teq_t"), 630, EPS);
  cr_assert_str_eq(s(f, "status"), "not verified");
  cr_assert(strstr(s(f, "source"), "UNEP Toolkit") != NULL);
  cr_assert_str_eq(s(f, "from"), "2025-01-01");
  cr_assert_str_eq(s(f, "through"), "2025-12-31");
}

Test(report, not_available_figures_are_null_with_a_reason_never_zero) {
  /* cu-new: class 6, 10 t of product: air factor ND */
  const cJSON *pc = at(ent("cu-new"), "pcdd_f");
  is_na(pc, "estimated_air_g_teq", "class 6 has no air factor (ND)");
  is_na(pc, "current_g_teq", "estimated: no factor for part of the year");
  cr_assert_str_eq(s(pc, "current_g_teq_method"), "none");
  const cJSON *f = cJSON_GetArrayItem(at(pc, "factors"), 0);
  is_na(f, "air_ef_ug_teq_t", "ND");
  /* cu-special: nothing on record */
  const cJSON *e = ent("cu-special");
  cr_assert_eq(cJSON_GetArraySize(at(e, "emissions")), 0);
  cr_assert(strstr(s(e, "emissions_na"), "no continuously measured") != NULL);
  is_na(at(e, "pcdd_f"), "measured_g_teq", "no stack test and no flow");
  is_na(at(e, "pcdd_f"), "baseline_g_teq", "no baseline configured");
  cr_assert(strstr(s(e, "pcdd_f.estimated_note"), "no material") != NULL);
  is_na(at(e, "indicators"), "feed_t", "no material");
  is_na(at(e, "monitoring"), "next_due", "no stack test on record");
  cr_assert(cJSON_IsTrue(at(e, "monitoring.overdue")));
  /* cu-old: no water data → per t n/a, not 0 */
  const cJSON *w = find(at(ent("cu-old"), "indicators.per_t"), "indicator", "water");
  is_na(w, "value", "no data in the year");
  /* gap share of a pollutant nobody measures is not in the table at all */
  cr_assert_eq(cJSON_GetArraySize(at(rep, "park_summary.emissions")), 2);
}

Test(report, monitoring_plan_next_test_and_days_left) {
  /* last test Jan 1 2025 + 365 days = 2026-01-01; today (now) Jan 3 → 363 days left */
  const cJSON *m = at(ent("cu-old"), "monitoring");
  cr_assert_str_eq(s(m, "as_of"), "2025-01-03");
  cr_assert_str_eq(s(m, "next_due"), "2026-01-01");
  cr_assert_eq(n(m, "days_left"), 363);
  cr_assert(cJSON_IsFalse(at(m, "overdue")));
  /* park: cu-special and cu-new never tested */
  cr_assert_eq(n(rep, "park_summary.monitoring.overdue_enterprises"), 2);
}

Test(report, material_balance_and_indicators) {
  const cJSON *io = at(ent("cu-old"), "indicators");
  /* feed 100 t (Cu 0.99 → 99 t), product 50 t cathode (0.9999 → 49.995 t), residue 5 t slag */
  cr_assert_float_eq(n(io, "feed_t"), 100, EPS);
  cr_assert_float_eq(n(io, "product_t"), 50, EPS);
  cr_assert_float_eq(n(io, "residue_t"), 5, EPS);
  cr_assert_float_eq(n(io, "consumable_t"), 0, EPS); /* the ledger has rows: a real 0 */
  cr_assert_float_eq(n(io, "yield_pct"), 49.995 / 99 * 100, 1e-9);
  const cJSON *feed = find(at(io, "per_t"), "indicator", "feed");
  cr_assert_float_eq(n(feed, "value"), 2.0, EPS);
  /* baseline year 2020 has no ledger rows: n/a, and so the change */
  is_na(feed, "baseline", "baseline year");
  is_na(feed, "change", "needs both figures");
  /* electricity 5 000 kWh / 50 t = 100 kWh/t */
  const cJSON *el = find(at(io, "per_t"), "indicator", "electricity");
  cr_assert_float_eq(n(el, "value"), 100, EPS);
  cr_assert_str_eq(s(el, "unit"), "kWh/t");
  cr_assert_str_eq(s(el, "label"), "Electricity use per t of product");
  /* the park: cu-special and cu-new have no baseline year (counted in plain words) */
  is_na(find(at(rep, "park_summary.indicators.per_t"), "indicator", "feed"), "baseline",
        "2 enterprises have no baseline year");
  /* park: product 50 + 10 (cu-new) */
  cr_assert_float_eq(n(rep, "park_summary.indicators.product_t"), 60, EPS);
}

static char *render(enum ph_report_format f);

/* Item 5 (and 7) of issue #15: per-lot assays, unclassified codes, and a
 * yield without product that is n/a with its reason, never 0 %. */
static void lot(const char *ent, int64_t ts, const char *code, const char *dir, double t, const char *attrs) {
  int64_t pid = point_id(ent, "scale");
  char q[512];
  snprintf(q, sizeof q,
           "INSERT INTO materials(point_id, ts_ms, material, dir, qty_t, attrs, agent_id, epoch, seq)"
           " VALUES(%lld, %lld, '%s', '%s', %.17g, '%s', 1, 1, 1)",
           (long long)pid, (long long)ts, code, dir, t, attrs);
  sql(q);
}

Test(report, assays_unclassified_codes_and_a_yield_without_product) {
  /* cu-special gets a ledger: scrap_cu_2 in 20 t cu_pct 93 → 18.6 t Cu; 10 t cu_pct 150 → ignored,
   * default 0.95 → 9.5; scrap_al in 4 t (declared nowhere: unclassified); slag out 2 t cu_pct 2.5 →
   * 0.05 t. Cu in 28.1 t, nothing of product weighed → yield n/a, never 0 %. */
  int64_t d = local(2025, 1, 2, 0, 0);
  lot("cu-special", d + 8 * H, "scrap_cu_2", "in", 20, "{\"cu_pct\":93}");
  lot("cu-special", d + 9 * H, "scrap_cu_2", "in", 10, "{\"cu_pct\":150}");
  lot("cu-special", d + 10 * H, "scrap_al", "in", 4, "{\"al_pct\":90}");
  lot("cu-special", d + 11 * H, "slag", "out", 2, "{\"cu_pct\":2.5}");
  struct ph_err err = {0};
  struct ph_refs refs = {.cfg = &cfg, .cat = cat, .factors = fac, .tz = {tz}, .limits = {lim}, .nlimits = 1};
  struct ph_report_env env = {.refs = &refs};
  cJSON_Delete(rep);
  rep = NULL;
  cr_assert_eq(ph_report_build(db, &env, "p1", 2025, now_ms, &rep, &err), 0, "%s", err.msg);
  const cJSON *io = at(ent("cu-special"), "indicators");
  cr_assert_float_eq(n(io, "feed_t"), 30, EPS);
  cr_assert_float_eq(n(io, "cu_in_t"), 28.1, EPS);
  cr_assert_float_eq(n(io, "product_t"), 0, EPS);
  is_na(io, "yield_pct", "no product weighed in the period");
  is_na(find(at(io, "per_t"), "indicator", "feed"), "value", "no product weighed in the period");
  is_na(find(at(io, "per_t"), "indicator", "yield"), "value", "no product weighed in the period");
  cr_assert_float_eq(n(io, "cu_residue_t"), 0.05, EPS);
  cr_assert_float_eq(n(io, "unclassified_in_t"), 4, EPS);
  cr_assert_float_eq(n(io, "unclassified_out_t"), 0, EPS);
  cr_assert_eq(n(io, "unclassified_lots"), 1);
  cr_assert_eq(n(io, "assay_lots"), 2, "scrap_cu_2 93 %% and slag 2.5 %%");
  cr_assert_eq(n(io, "assay_ignored_lots"), 1);
  const cJSON *s2 = find(at(io, "materials"), "material", "scrap_cu_2");
  cr_assert_str_eq(s(s2, "role"), "feed");
  cr_assert_float_eq(n(s2, "cu_fraction"), 0.95, EPS);
  cr_assert_float_eq(n(s2, "cu_in_t"), 28.1, EPS);
  cr_assert_eq(n(s2, "lots"), 2);
  cr_assert_eq(n(s2, "assay_lots"), 1);
  cr_assert_eq(n(s2, "assay_ignored_lots"), 1);
  const cJSON *al = find(at(io, "materials"), "material", "scrap_al");
  cr_assert_str_eq(s(al, "role"), "unclassified");
  cr_assert_str_eq(s(al, "name"), "scrap_al");
  cr_assert_float_eq(n(al, "in_t"), 4, EPS);
  cr_assert_float_eq(n(al, "cu_fraction"), 0, 0);
  /* cu-new: 10 t of product, no feed → the other reason */
  is_na(at(ent("cu-new"), "indicators"), "yield_pct", "no copper in feed");
  /* the park: the sums; cu-old's product makes its yield available */
  cr_assert_float_eq(n(rep, "park_summary.indicators.unclassified_in_t"), 4, EPS);
  cr_assert_float_eq(n(rep, "park_summary.indicators.cu_in_t"), 99 + 28.1, EPS);
  cr_assert_float_eq(n(rep, "park_summary.indicators.yield_pct"), (49.995 + 9.999) / 127.1 * 100, 1e-9);
  distinct_keys(rep, "$");
  char *csv = render(PH_REPORT_CSV);
  cr_assert(strstr(csv, "n/a (no product weighed in the period)") != NULL);
  cr_assert(strstr(csv, "indicators.materials,enterprise,cu-special,scrap_al,scrap_al,,unclassified,0,4,0,0,0,1,0,0\n") != NULL,
            "%s", strstr(csv, "indicators.materials") ? strstr(csv, "indicators.materials") : csv);
  free(csv);
  char *html = render(PH_REPORT_HTML);
  cr_assert(strstr(html, "n/a (no product weighed in the period)") != NULL);
  cr_assert(strstr(html, "<b class=\"bad\">unclassified</b>") != NULL);
  cr_assert(strstr(html, "Lots of unclassified materials") != NULL);
  free(html);
}

/* ---- renderings ---- */

static char *render_in(enum ph_report_format f, enum ph_lang lang) {
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  cr_assert_not_null(m);
  cr_assert_eq(ph_report_render(rep, f, lang, m), 0);
  fclose(m);
  return buf;
}
static char *render(enum ph_report_format f) { return render_in(f, PH_LANG_EN); }

Test(report, csv_has_a_block_per_section_with_the_numbers) {
  char *csv = render(PH_REPORT_CSV);
  /* the park's row comes first: its "enterprises" column is empty on enterprise rows */
  cr_assert(strstr(csv, "section,scope,scope_id,pollutant,name,name_zh,enterprises,points,mass_t,hours_expected") != NULL,
            "%s", csv);
  cr_assert(strstr(csv, "\nemissions,enterprise,cu-old,so2,Sulphur dioxide,二氧化硫,,1,0.0736,48,36,0,12,0.25\n") != NULL);
  cr_assert(strstr(csv, "\nemissions,park,p1,so2,") != NULL);
  cr_assert(strstr(csv, "pcdd_f.factors,enterprise,cu-old,2025-01-01,2025-12-31,2,") != NULL);
  cr_assert(strstr(csv, "not verified") != NULL);
  cr_assert(strstr(csv, "0.000192") != NULL);
  /* n/a with its reason, in one quoted-if-needed cell */
  cr_assert(strstr(csv, "n/a (class 6 has no air factor (ND) for 2025-01-01 to 2025-12-31)") != NULL);
  /* a cell a spreadsheet would run as a formula gets a leading ' */
  cr_assert(strstr(csv, ",'\t=1+1 New Cu,") != NULL, "%s", csv);
  /* a name with a comma or quote would be quoted; the ampersand stays */
  cr_assert(strstr(csv, "Old Smelter & Co") != NULL);
  free(csv);
}

Test(report, html_is_one_page_with_the_numbers_and_escapes_names) {
  char *html = render(PH_REPORT_HTML);
  cr_assert(strncmp(html, "<!DOCTYPE html>", 15) == 0);
  cr_assert(strstr(html, "<title>Annual environmental report 2025") != NULL);
  cr_assert(strstr(html, "GB 31574-2015") != NULL);
  cr_assert(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt; Special Cu") != NULL);
  cr_assert(strstr(html, "<script") == NULL, "a name was not escaped");
  cr_assert(strstr(html, "Old Smelter &amp; Co") != NULL);
  cr_assert(strstr(html, "0.0736") != NULL);
  cr_assert(strstr(html, "97.22&#160;%") != NULL); /* 35/36 */
  cr_assert(strstr(html, "0.000192") != NULL);
  cr_assert(strstr(html, "not verified") != NULL);
  cr_assert(strstr(html, "n/a (class 6 has no air factor (ND)") != NULL);
  cr_assert(strstr(html, "page-break-before:always") != NULL);
  /* nothing external, nothing active */
  cr_assert(strstr(html, "http://") == NULL && strstr(html, "https://") == NULL && strstr(html, "src=") == NULL);
  free(html);
}

Test(report, bad_park_or_year_is_refused) {
  struct ph_err err = {0};
  struct ph_refs refs = {.cfg = &cfg, .cat = cat, .factors = fac, .tz = {tz}, .limits = {lim}, .nlimits = 1};
  struct ph_report_env env = {.refs = &refs};
  cJSON *t = NULL;
  cr_assert_eq(ph_report_build(db, &env, "nope", 2025, now_ms, &t, &err), PH_ENOTFOUND);
  cr_assert(strstr(err.msg, "nope") != NULL);
  cr_assert_eq(ph_report_build(db, &env, "p1", 1900, now_ms, &t, &err), PH_EINVAL);
  cr_assert_null(t);
  enum ph_report_format f;
  cr_assert_eq(ph_report_format_parse("xml", &f), PH_EINVAL);
  cr_assert_eq(ph_report_format_parse("html", &f), 0);
  cr_assert_eq(f, PH_REPORT_HTML);
}

/* ---- languages (issue #18): the same tree read in zh-CN and in en ---- */

Test(report, html_in_chinese_has_its_words_reasons_units_and_local_times) {
  char *html = render_in(PH_REPORT_HTML, PH_LANG_ZH_CN);
  cr_assert(strstr(html, "<html lang=\"zh-CN\">") != NULL);
  cr_assert(strstr(html, "<title>2025 年度环境报告") != NULL, "the title");
  cr_assert(strstr(html, "<h3>达标情况</h3>") != NULL, "a heading");
  cr_assert(strstr(html, ">数据有效率</th>") != NULL, "the last column of the compliance tables");
  cr_assert(strstr(html, "不可用（未配置 UNEP 工具包类别）") != NULL, "a reason: %s", strstr(html, "不可用"));
  cr_assert(strstr(html, "150&#160;mg/m&#179;") != NULL || strstr(html, "150&#160;mg/m³") != NULL, "a unit");
  cr_assert(strstr(html, "二氧化硫") != NULL, "the catalogue's Chinese name");
  cr_assert(strstr(html, "2025-01-01&#160;10:00") != NULL, "a park-local time, 24-hour");
  cr_assert(strstr(html, "Data availability") == NULL && strstr(html, "Compliance") == NULL, "English left over");
  cr_assert(strstr(html, "mg/Nm3") == NULL, "a unit without its symbol");
  free(html);
}

Test(report, html_in_english_has_its_words_reasons_units_and_local_times) {
  char *html = render_in(PH_REPORT_HTML, PH_LANG_EN);
  cr_assert(strstr(html, "<html lang=\"en\">") != NULL);
  cr_assert(strstr(html, "<h3>Compliance</h3>") != NULL);
  cr_assert(strstr(html, ">Data availability</th>") != NULL);
  cr_assert(strstr(html, "n/a (no UNEP Toolkit class configured)") != NULL);
  cr_assert(strstr(html, "150&#160;mg/m³") != NULL || strstr(html, "150&#160;mg/m&#179;") != NULL);
  cr_assert(strstr(html, "Sulphur dioxide") != NULL && strstr(html, "二氧化硫") == NULL);
  cr_assert(strstr(html, "2025-01-01&#160;10:00") != NULL);
  cr_assert(strstr(html, "mg/Nm3") == NULL);
  free(html);
}

Test(report, csv_keeps_codes_and_quotes_chinese_names) {
  /* a Chinese enterprise name with an ASCII comma and quotes: one quoted cell */
  cJSON *e = (cJSON *)ent("cu-old");
  cJSON_ReplaceItemInObjectCaseSensitive(e, "name", cJSON_CreateString("江西铜业, \"再生\"分厂"));
  char *zh = render_in(PH_REPORT_CSV, PH_LANG_ZH_CN), *en = render_in(PH_REPORT_CSV, PH_LANG_EN);
  cr_assert(strstr(zh, ",\"江西铜业, \"\"再生\"\"分厂\",") != NULL, "%s", zh);
  /* the header keeps the codes in both languages; the reasons follow the language */
  cr_assert(strstr(zh, "section,scope,scope_id,pollutant,name,name_zh,enterprises,points,mass_t") != NULL);
  cr_assert(strstr(zh, "\nemissions,enterprise,cu-old,so2,Sulphur dioxide,二氧化硫,,1,0.0736,") != NULL);
  cr_assert(strstr(zh, "n/a (未配置 UNEP 工具包类别)") != NULL);
  cr_assert(strstr(en, "n/a (no UNEP Toolkit class configured)") != NULL);
  free(zh);
  free(en);
}
