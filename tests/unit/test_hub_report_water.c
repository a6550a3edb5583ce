/* test_hub_report_water.c — the report's water section (report_water.c)
 * on a hand-made database, number by number, and its CSV and HTML.
 *
 * Year 2025, now = 2025-03-04 01:00 local (UTC+8): March 1..3 are closed.
 * cu-new (new plant): water outlet "hr" (direct), hourly data:
 *   w_flow  Mar 1: 24 h × 10 m³/h; Mar 2: 24 h × 20; Mar 3: 24 h × 10
 *   w_cod   Mar 1: 24 h × 40 mg/L; Mar 2: 12 h × 40 then 12 h × 80; Mar 3: none
 *   w_ph    7 every hour of the three days
 * cu-old: outlet "stack-2" (indirect), w_cod only (no flow): Mar 1 24 h × 30.
 * cu-special: no outlet.
 *
 * Hand-computed (standard: the built-in GB 31574-2015, whose water values
 * are all unverified):
 *   hr volume = 240 + 480 + 240 = 960 m³ (72 flow hours, 3 days)
 *   hr COD: valid days 2, mean (40 + 60)/2 = 50; load = 24×40×10 + 12×40×20
 *     + 12×80×20 = 9 600 + 9 600 + 19 200 = 38 400 g = 38.4 kg over 48 h,
 *     gaps 72 − 48 = 24 h, 2 days → 19.2 kg/day; limit n/a "no verified
 *     limit", so day_compliance n/a with that reason.
 *   stack-2: volume n/a (no flow), COD load n/a, 1 valid day, mean 30.
 *   park: 2 outlets of 2 enterprises; volume n/a (1 of 2 outlets without
 *     flow); COD: 2 outlets, 3 valid days, load n/a (1 of 2 without).
 */
#include <stdio.h>
#include <stdlib.h>

#include "hub_cems_fixture.h"
#include "parkhub/factors.h"
#include "report/report.h"

static struct ph_factors *fac;
static cJSON *rep;

static void declare(struct ph_hub_ent *e, const char *point, int discharge) {
  struct ph_point_medium *pm = &e->point_media[e->npoint_media++];
  strcpy(pm->point, point);
  pm->medium = PH_MEDIUM_WATER;
  pm->discharge = discharge;
}

static void setup(void) {
  struct ph_err err = {0};
  fx_setup();
  cr_assert_eq(ph_factors_load_builtin(&fac, &err), 0, "%s", err.msg);
  struct ph_hub_ent *old = &cfg.parks[0].ents[0], *nw = &cfg.parks[0].ents[2];
  strcpy(cfg.hub_id, "hub-1");
  old->baseline_pcdd_f_g_teq = cfg.parks[0].ents[1].baseline_pcdd_f_g_teq = nw->baseline_pcdd_f_g_teq = -1;
  declare(nw, "hr", PH_DISCHARGE_DIRECT);
  declare(old, "stack-2", PH_DISCHARGE_INDIRECT);
  int64_t f = series("cu-new", "hr", "w_flow"), c = series("cu-new", "hr", "w_cod"), ph = series("cu-new", "hr", "w_ph");
  int64_t c2 = series("cu-old", "stack-2", "w_cod");
  for (int d = 0; d < 3; d++) {
    int64_t day = local(2025, 3, 1 + (unsigned)d, 0, 0);
    for (int h = 0; h < 24; h++) {
      int64_t t = day + h * H;
      hourly(f, t, d == 1 ? 20 : 10, true);
      if (d == 0) hourly(c, t, 40, true);
      if (d == 1) hourly(c, t, h < 12 ? 40 : 80, true);
      if (d == 0) hourly(c2, t, 30, true);
      hourly(ph, t, 7, true);
    }
  }
  int64_t now = local(2025, 3, 4, 1, 0);
  update(now);
  struct ph_refs refs = {.cfg = &cfg, .cat = cat, .factors = fac, .tz = {tz}, .limits = {lim}, .nlimits = 1};
  struct ph_report_env env = {.refs = &refs};
  cr_assert_eq(ph_report_build(db, &env, "p1", 2025, now, &rep, &err), 0, "%s", err.msg);
}

static void teardown(void) {
  cJSON_Delete(rep);
  ph_factors_free(fac);
  fx_teardown();
}

TestSuite(report_water, .init = setup, .fini = teardown);

static const cJSON *get(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  cr_assert_not_null(v, "no %s", k);
  return v;
}
static double num(const cJSON *o, const char *k) {
  const cJSON *v = get(o, k);
  cr_assert(cJSON_IsNumber(v), "%s is not a number", k);
  return v->valuedouble;
}
static void is_na(const cJSON *o, const char *k, const char *why) {
  cr_assert(cJSON_IsNull(get(o, k)), "%s is not null", k);
  char key[96];
  snprintf(key, sizeof key, "%s_na", k);
  const cJSON *r = get(o, key);
  cr_assert(cJSON_IsString(r) && strstr(r->valuestring, why), "%s: '%s' does not say '%s'", k,
            cJSON_IsString(r) ? r->valuestring : "?", why);
}
static const cJSON *find(const cJSON *a, const char *k, const char *v) {
  const cJSON *it;
  cJSON_ArrayForEach(it, a) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(it, k);
    if (cJSON_IsString(x) && strcmp(x->valuestring, v) == 0) return it;
  }
  cr_assert_fail("no element with %s = %s", k, v);
  return NULL;
}
static const cJSON *ent(const char *id) { return find(get(rep, "enterprises"), "id", id); }

Test(report_water, direct_outlet_volume_load_and_unverified_limit) {
  const cJSON *w = get(ent("cu-new"), "water");
  cr_assert_eq(num(w, "outlets"), 1);
  const cJSON *o = find(get(w, "outlets_list"), "point", "hr");
  cr_assert_str_eq(get(o, "discharge")->valuestring, "direct");
  cr_assert_float_eq(num(o, "volume_m3"), 960, EPS);
  cr_assert_eq(num(o, "flow_hours"), 72);
  cr_assert_eq(num(o, "flow_days"), 3);
  const cJSON *cod = find(get(w, "pollutants"), "pollutant", "w_cod");
  cr_assert_eq(num(cod, "days_valid"), 2);
  cr_assert_float_eq(num(cod, "mean"), 50, EPS);
  is_na(cod, "limit", "no verified limit");
  is_na(cod, "day_compliance", "no verified limit");
  cr_assert_eq(num(cod, "days_with_limit"), 0);
  cr_assert_eq(num(cod, "days_over"), 0);
  cr_assert_float_eq(num(cod, "worst_day_mean"), 60, EPS);
  cr_assert_str_eq(get(cod, "worst_day_date")->valuestring, "2025-03-02");
  cr_assert_float_eq(num(cod, "load_kg"), 38.4, EPS);
  cr_assert_float_eq(num(cod, "load_t"), 0.0384, EPS);
  cr_assert_eq(num(cod, "load_hours"), 48);
  cr_assert_eq(num(cod, "load_gap_hours"), 24);
  cr_assert_eq(num(cod, "load_days"), 2);
  cr_assert_float_eq(num(cod, "load_kg_per_day"), 19.2, EPS);
  const cJSON *ph = find(get(w, "pollutants"), "pollutant", "w_ph");
  is_na(ph, "hour_compliance", "no verified limit");
  is_na(ph, "load_kg", "not a concentration in mg/L");
  cr_assert_eq(num(ph, "hours_valid"), 72);
}

Test(report_water, outlet_without_flow_says_so) {
  const cJSON *w = get(ent("cu-old"), "water");
  const cJSON *o = find(get(w, "outlets_list"), "point", "stack-2");
  cr_assert_str_eq(get(o, "discharge")->valuestring, "indirect");
  is_na(o, "volume_m3", "no flow");
  const cJSON *cod = find(get(w, "pollutants"), "pollutant", "w_cod");
  is_na(cod, "load_kg", "no flow");
  cr_assert_eq(num(cod, "days_valid"), 1);
  cr_assert_float_eq(num(cod, "mean"), 30, EPS);
  const cJSON *none = ent("cu-special");
  cr_assert_eq(num(get(none, "water"), "outlets"), 0);
  cr_assert(strstr(get(none, "water_na")->valuestring, "no water outlet"));
}

Test(report_water, park_sums) {
  const cJSON *ps = get(rep, "park_summary"), *w = get(ps, "water");
  cr_assert_eq(num(w, "outlets"), 2);
  cr_assert_eq(num(w, "enterprises"), 2);
  is_na(w, "volume_m3", "1 of 2 outlets");
  const cJSON *cod = find(get(w, "pollutants"), "pollutant", "w_cod");
  cr_assert_eq(num(cod, "outlets"), 2);
  cr_assert_eq(num(cod, "enterprises"), 2);
  cr_assert_eq(num(cod, "days_valid"), 3);
  is_na(cod, "load_kg", "1 of 2 outlets");
  is_na(cod, "day_compliance", "no verified limit");
}

Test(report_water, csv_and_html_carry_the_section) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  cr_assert_eq(ph_report_render_csv(rep, PH_LANG_EN, f), 0);
  fclose(f);
  /* columns in order of first appearance over the block: the park's row comes first */
  cr_assert(strstr(buf, "water.pollutants,enterprise,cu-new,w_cod,,,2,0,0,,,n/a (no verified limit),38.4,hr,direct,"),
            "%s", buf);
  cr_assert(strstr(buf, "n/a (no verified limit)"));
  cr_assert(strstr(buf, "water.outlets_list,enterprise,cu-new,hr,direct,960,72,3,2\n"));
  free(buf);
  buf = NULL;
  f = open_memstream(&buf, &len);
  cr_assert_eq(ph_report_render_html(rep, PH_LANG_EN, f), 0);
  fclose(f);
  cr_assert(strstr(buf, "Water outlets"), "the HTML has a water table");
  cr_assert(strstr(buf, "no verified limit"));
  free(buf);
}
