/* The region report (report_region.h) on a small hand-made database with
 * two parks (hub_cems_fixture.h's p1, and p2 added here, both
 * Asia/Shanghai): each park's section must be that park's own report, and
 * the region's totals the sums computed here from the parks' reports and
 * by hand; one park's inventory not available → the region total not
 * available, naming that park, with a partial sum labelled with the park
 * it covers (report_region.c inv. 1 to 4).
 *
 * Year 2025, now = 2025-01-03 00:05 local (as test_hub_report.c).
 * p1 / cu-old: so2 Jan 1 00..23 = 100 except 10:00 = 180, flow 20 000 Nm³/h
 *   → (23 × 100 + 180) × 20 000 × 1e-6 = 49.6 kg; 1 exceedance hour (180 > 150);
 *   Toolkit class 2, cathode_cu out 50 t.
 * p2 / cu-two: so2 Jan 1 00..09 = 50 except 05:00 = 200, flow 10 000 Nm³/h
 *   → (9 × 50 + 200) × 10 000 × 1e-6 = 6.5 kg; 1 exceedance hour;
 *   Toolkit class 2 (or none: the inventory not available), cathode_cu out 20 t.
 */
#include <stdio.h>
#include <stdlib.h>

#include "hub_cems_fixture.h"
#include "parkhub/factors.h"
#include "report/report_region.h"

static struct ph_factors *fac;
static int64_t now_ms;
static cJSON *p1_rep, *p2_rep, *reg;

static int64_t series_in(const char *park, const char *ent, const char *point, const char *metric) {
  char q[768];
  snprintf(q, sizeof q, "INSERT OR IGNORE INTO points(park, ent, point) VALUES('%s', '%s', '%s')", park, ent, point);
  sql(q);
  snprintf(q, sizeof q, "INSERT OR IGNORE INTO metrics(code) VALUES('%s')", metric);
  sql(q);
  snprintf(q, sizeof q,
           "INSERT OR IGNORE INTO series(point_id, metric_id) SELECT p.id, m.id FROM points p, metrics m"
           " WHERE p.park = '%s' AND p.ent = '%s' AND p.point = '%s' AND m.code = '%s'",
           park, ent, point, metric);
  sql(q);
  snprintf(q, sizeof q,
           "SELECT s.id FROM series s JOIN points p ON p.id = s.point_id JOIN metrics m ON m.id = s.metric_id"
           " WHERE p.park = '%s' AND p.ent = '%s' AND p.point = '%s' AND m.code = '%s'",
           park, ent, point, metric);
  return q_int(q);
}

static void ledger(const char *park, const char *ent, int64_t ts, const char *code, double t) {
  int64_t pid;
  cr_assert_eq(ph_store_point_id(st, park, ent, "scale", &pid), 0);
  char q[512];
  snprintf(q, sizeof q,
           "INSERT INTO materials(point_id, ts_ms, material, dir, qty_t, agent_id, epoch, seq)"
           " VALUES(%lld, %lld, '%s', 'out', %.17g, 1, 1, 1)", (long long)pid, (long long)ts, code, t);
  sql(q);
}

static void stack_hours(const char *park, const char *ent, int64_t day, int hours, double so2, int peak_h, double peak,
                        double flow) {
  int64_t s = series_in(park, ent, "stack-1", "so2"), q = series_in(park, ent, "stack-1", "flow");
  for (int h = 0; h < hours; h++) {
    hourly(s, day + h * H, h == peak_h ? peak : so2, true);
    hourly(q, day + h * H, flow, true);
  }
}

static struct ph_refs refs(void) {
  return (struct ph_refs){.cfg = &cfg, .cat = cat, .factors = fac, .tz = {tz, tz}, .limits = {lim}, .nlimits = 1};
}

static void cems_update(int64_t now) {
  struct ph_err err = {0};
  struct ph_refs r = refs();
  int rc;
  for (int i = 0; i < 100 && (rc = ph_cems_update_some(db, &r, now, PH_CEMS_MAX_WORK, &err)) > 0; i++) {}
  cr_assert_eq(rc, 0, "%s", err.msg);
}

/* p1 keeps cu-old only; p2 = cu-two (class 2 when p2_class, else none). */
static void data(bool p2_class) {
  struct ph_hub_ent *old = &cfg.parks[0].ents[0];
  strcpy(cfg.hub_id, "hub-r");
  cfg.parks[0].nents = 1;
  old->classes[old->nclasses++] = (struct ph_dated_class){2, "2020-01-01"};
  old->baseline_pcdd_f_g_teq = -1;
  struct ph_hub_park *p2 = &cfg.parks[1];
  memset(p2, 0, sizeof *p2);
  strcpy(p2->id, "p2");
  strcpy(p2->tz, "Asia/Shanghai");
  p2->ents = ph_calloc(1, sizeof *p2->ents);
  ent_init(&p2->ents[0], "cu-two", PH_CLASS_EXISTING, false, NULL);
  p2->ents[0].baseline_pcdd_f_g_teq = -1;
  if (p2_class) p2->ents[0].classes[p2->ents[0].nclasses++] = (struct ph_dated_class){2, "2020-01-01"};
  p2->nents = 1;
  cfg.nparks = 2;

  int64_t d1 = local(2025, 1, 1, 0, 0), d2 = local(2025, 1, 2, 0, 0);
  stack_hours("p1", "cu-old", d1, 24, 100, 10, 180, 20000);
  stack_hours("p2", "cu-two", d1, 10, 50, 5, 200, 10000);
  ledger("p1", "cu-old", d2 + 15 * H, "cathode_cu", 50);
  ledger("p2", "cu-two", d2 + 10 * H, "cathode_cu", 20);
  now_ms = local(2025, 1, 3, 0, 5);
  cems_update(now_ms);
}

static void build(bool p2_class) {
  struct ph_err err = {0};
  (void)update; /* the fixture's p1-only helpers: series_in and cems_update stand in for them here */
  (void)series;
  fx_setup();
  cr_assert_eq(ph_factors_load_builtin(&fac, &err), 0, "%s", err.msg);
  data(p2_class);
  struct ph_refs r = refs();
  struct ph_report_env env = {.refs = &r};
  const char *ids[] = {"p1", "p2"};
  int changes = sqlite3_total_changes(db);
  cr_assert_eq(ph_report_build(db, &env, "p1", 2025, now_ms, &p1_rep, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_report_build(db, &env, "p2", 2025, now_ms, &p2_rep, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_report_region_build(db, &env, ids, 2, 2025, now_ms, &reg, &err), 0, "%s", err.msg);
  cr_assert_eq(sqlite3_total_changes(db), changes, "the region report wrote to the database");
}

static void setup_all(void) { build(true); }
static void setup_p2_without_class(void) { build(false); }

static void teardown(void) {
  cJSON_Delete(p1_rep);
  cJSON_Delete(p2_rep);
  cJSON_Delete(reg);
  p1_rep = p2_rep = reg = NULL;
  ph_factors_free(fac);
  fx_teardown();
}

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
static const cJSON *row(const cJSON *a, const char *code) {
  const cJSON *it;
  cJSON_ArrayForEach(it, a) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(it, "pollutant");
    if (cJSON_IsString(x) && strcmp(x->valuestring, code) == 0) return it;
  }
  cr_assert_fail("no row %s", code);
  return NULL;
}
static void strings_are(const cJSON *a, const char *one) {
  cr_assert_eq(cJSON_GetArraySize(a), 1);
  cr_assert_str_eq(cJSON_GetArrayItem(a, 0)->valuestring, one);
}

/* ---- every park's figures available ---- */

TestSuite(region, .init = setup_all, .fini = teardown);

Test(region, each_park_section_is_the_park_report) {
  const cJSON *parks = at(reg, "park_reports");
  cr_assert_eq(cJSON_GetArraySize(parks), 2);
  cr_assert(cJSON_Compare(cJSON_GetArrayItem(parks, 0), p1_rep, true), "p1's section differs from p1's report");
  cr_assert(cJSON_Compare(cJSON_GetArrayItem(parks, 1), p2_rep, true), "p2's section differs from p2's report");
  cr_assert_eq(n(reg, "parks_count"), 2);
  cr_assert_eq(n(reg, "region.enterprises"), 2);
}

Test(region, emissions_are_the_sum_of_the_parks) {
  const cJSON *r = row(at(reg, "region.emissions"), "so2");
  double a = n(row(at(p1_rep, "park_summary.emissions"), "so2"), "mass_t");
  double b = n(row(at(p2_rep, "park_summary.emissions"), "so2"), "mass_t");
  cr_assert_float_eq(a, 0.0496, 1e-9); /* by hand, header */
  cr_assert_float_eq(b, 0.0065, 1e-9);
  cr_assert_float_eq(n(r, "mass_t"), a + b, 1e-12);
  cr_assert_eq(n(r, "mass_t_parks"), 2);
  cr_assert_null(cJSON_GetObjectItemCaseSensitive(r, "mass_t_partial"), "a complete total has no partial sum");
  double e1 = n(row(at(p1_rep, "park_summary.emissions"), "so2"), "hours_expected");
  double e2 = n(row(at(p2_rep, "park_summary.emissions"), "so2"), "hours_expected");
  cr_assert_eq(n(r, "hours_expected"), e1 + e2);
  cr_assert_eq(n(r, "hours_used"), 34); /* 24 + 10 */
  cr_assert_float_eq(n(r, "gap_share"), (e1 + e2 - 34) / (e1 + e2), 1e-12);
}

Test(region, compliance_counts_are_sums_and_rates_recomputed) {
  const cJSON *r = row(at(reg, "region.compliance"), "so2");
  cr_assert_eq(n(r, "exceedance_hours"), 2);
  cr_assert_eq(n(r, "hours_valid"), 34);
  double w = n(r, "hours_within"), l = n(r, "hours_with_limit");
  cr_assert_eq(w, n(row(at(p1_rep, "park_summary.compliance"), "so2"), "hours_within") +
                      n(row(at(p2_rep, "park_summary.compliance"), "so2"), "hours_within"));
  cr_assert_float_eq(n(r, "hour_compliance"), w / l, 1e-12);
  cr_assert_float_eq(n(r, "hour_compliance"), 32.0 / 34.0, 1e-12);
}

Test(region, pcdd_f_inventory_is_the_sum_of_the_parks) {
  double a = n(p1_rep, "park_summary.pcdd_f.estimated_air_g_teq");
  double b = n(p2_rep, "park_summary.pcdd_f.estimated_air_g_teq");
  cr_assert_gt(a, 0);
  cr_assert_float_eq(b / a, 20.0 / 50.0, 1e-9); /* one factor, 20 t against 50 t */
  cr_assert_float_eq(n(reg, "region.pcdd_f.estimated_air_g_teq"), a + b, 1e-12);
  cr_assert_eq(n(reg, "region.pcdd_f.estimated_air_g_teq_parks"), 2);
}

Test(region, renderings_carry_the_region_and_every_park) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  cr_assert_eq(ph_report_region_render(reg, PH_REPORT_CSV, PH_LANG_EN, f), 0);
  fclose(f);
  cr_assert_not_null(strstr(text, "section,scope,scope_id"));
  cr_assert_not_null(strstr(text, "\nregion.pcdd_f,region,"));
  cr_assert_not_null(strstr(text, "\nregion.emissions,region,"));
  cr_assert_not_null(strstr(text, "\nreport,park,p1,"), "p1's own report block");
  cr_assert_not_null(strstr(text, "\nreport,park,p2,"), "p2's own report block");
  free(text);
  f = open_memstream(&text, &len);
  cr_assert_eq(ph_report_region_render(reg, PH_REPORT_HTML, PH_LANG_ZH_CN, f), 0);
  fclose(f);
  cr_assert_not_null(strstr(text, "2025 年度区域环境报告"));
  cr_assert_not_null(strstr(text, "区域汇总"));
  cr_assert_not_null(strstr(text, "2025 年度环境报告"), "each park's own title");
  free(text);
}

Test(region, parks_are_named_once_and_configured) {
  struct ph_err err = {0};
  char buf[256];
  const char *ids[PH_REPORT_REGION_MAX_PARKS];
  int k;
  cr_assert_eq(ph_report_region_parks(&cfg, "all", buf, sizeof buf, ids, &k, &err), 0);
  cr_assert_eq(k, 2);
  cr_assert_eq(ph_report_region_parks(&cfg, "p2", buf, sizeof buf, ids, &k, &err), 0);
  cr_assert_eq(k, 1);
  cr_assert_str_eq(ids[0], "p2");
  cr_assert_eq(ph_report_region_parks(&cfg, "p1,p9", buf, sizeof buf, ids, &k, &err), PH_ENOTFOUND);
  cr_assert_not_null(strstr(err.msg, "p9"));
  cr_assert_eq(ph_report_region_parks(&cfg, "p1,,", buf, sizeof buf, ids, &k, &err), 0); /* strtok: empty items skipped */
  cr_assert_eq(ph_report_region_parks(&cfg, "P1", buf, sizeof buf, ids, &k, &err), PH_EINVAL);
  struct ph_refs r = refs();
  struct ph_report_env env = {.refs = &r};
  const char *twice[] = {"p1", "p1"};
  cJSON *t = NULL;
  cr_assert_eq(ph_report_region_build(db, &env, twice, 2, 2025, now_ms, &t, &err), PH_EINVAL);
  cr_assert_null(t);
}

/* ---- p2's inventory not available ---- */

TestSuite(region_na, .init = setup_p2_without_class, .fini = teardown);

Test(region_na, a_park_without_the_figure_makes_the_total_not_available_and_named) {
  cr_assert(cJSON_IsNull(at(p2_rep, "park_summary.pcdd_f.estimated_air_g_teq")), "p2 has no class: no estimate");
  const cJSON *pc = at(reg, "region.pcdd_f");
  cr_assert(cJSON_IsNull(at(pc, "estimated_air_g_teq")), "a total that leaves p2 out");
  const char *why = ph_report_na(pc, "estimated_air_g_teq");
  cr_assert_not_null(strstr(why, "p2"), "reason '%s' does not name p2", why);
  cr_assert_null(strstr(why, "p1"), "reason '%s' names p1, which has the figure", why);
  strings_are(at(pc, "estimated_air_g_teq_missing_parks"), "p2");
  /* the partial sum is labelled with the parks it covers, and is p1's figure */
  cr_assert_float_eq(n(pc, "estimated_air_g_teq_partial"), n(p1_rep, "park_summary.pcdd_f.estimated_air_g_teq"), 1e-12);
  strings_are(at(pc, "estimated_air_g_teq_partial_parks"), "p1");
  cr_assert_eq(n(pc, "estimated_air_g_teq_parks"), 1);
  /* the emissions do not depend on the class: still a total */
  cr_assert(cJSON_IsNumber(at(row(at(reg, "region.emissions"), "so2"), "mass_t")));
}

Test(region_na, renderings_say_not_available_and_partial) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  cr_assert_eq(ph_report_region_render(reg, PH_REPORT_HTML, PH_LANG_EN, f), 0);
  fclose(f);
  cr_assert_not_null(strstr(text, "not available for park(s) p2"));
  cr_assert_not_null(strstr(text, "partial sum, parks p1"));
  free(text);
  f = open_memstream(&text, &len);
  cr_assert_eq(ph_report_region_render(reg, PH_REPORT_CSV, PH_LANG_ZH_CN, f), 0);
  fclose(f);
  cr_assert_not_null(strstr(text, "n/a (园区 p2 无此数据"), "the CSV reason in Chinese");
  cr_assert_not_null(strstr(text, "estimated_air_g_teq_partial"));
  free(text);
}
