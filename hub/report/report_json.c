/* report_json.c — the annual report as a cJSON tree (report.h): the one
 * source of truth that report_csv.c and report_html.c render.
 *
 * Callers: ph_report_run (report.c), tests. Threads: the caller's; every
 * statement is prepared on the caller's connection and finalized before
 * returning. Owns nothing between calls.
 *
 * This file is the entry, the meta keys and the scopes; each section of a
 * scope is built in a file of its own (report_build.h lists them).
 *
 * Tree (docs/report.md has every key and its unit):
 *
 *   { meta scalars (park, year, period, standards, generated_at,
 *     cems_closed_until, factor table, notes),
 *     "park_summary": scope,
 *     "enterprises": [scope, …] }
 *   scope = { id, name, … scalars,
 *             "emissions":  [row per pollutant],
 *             "compliance": [row per pollutant with a limit],
 *             "pcdd_f":     { scalars, "stacks": […], "stack_tests": […], "factors": […] }   (park: "enterprises")
 *             "monitoring": { scalars, "stacks": […] }                                        (park: "enterprises")
 *             "indicators": { scalars, "per_t": […], "materials": […] },
 *             "water":      { scalars, "outlets_list": […], "pollutants": […] } }           (report_water.c)
 *
 * Invariants (tests cite them):
 *  1. A figure that cannot be given is null with "<key>_na" = the reason;
 *     no figure is ever written as 0 in its place (inv. 1 of inventory.c,
 *     emission_mass.c and indicators.c carried through).
 *  2. Park rows of emissions and compliance are sums over the configured
 *     enterprises' rows (masses, hours, days), and their rates are
 *     recomputed from those sums, never averaged.
 *  3. The report only reads: CEMS figures are those up to
 *     ph_cems_closed_until, which the tree states.
 *  4. Only prepared statements with bound parameters touch the database.
 */
#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "parkhub/na_reasons.h"
#include "parkhub/timefmt.h"
#include "domain/cems.h"
#include "domain/cems_spans.h"
#include "domain/ent_limits.h"
#include "domain/stmt_cache.h"
#include "report_build.h"
#include "report_sql.h"

static void classes_text(const struct ph_hub_ent *e, char *buf, size_t cap) {
  buf[0] = '\0';
  for (int i = 0; i < e->nclasses; i++) {
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "%sclass %d since %s", i ? "; " : "", e->classes[i].toolkit_class, e->classes[i].since);
  }
}

static int enterprise(struct rb *r, const struct ph_hub_ent *e, cJSON *list, bool *measured,
                      struct ph_monitoring_plan *plan) {
  cJSON *s = rb_row(r, list);
  rb_str(r, s, "id", e->id);
  rb_str(r, s, "name", e->name[0] ? e->name : e->id);
  rb_str(r, s, "sector", ph_sector_name((enum ph_sector)e->sector));
  rb_str(r, s, "plant_class", e->plant_class == PH_CLASS_NEW ? "new" : "existing");
  if (e->class_since[0]) rb_str(r, s, "class_since", e->class_since);
  rb_bool(r, s, "special_limits", e->special_limits);
  rb_str(r, s, "standard", e->standard);
  rb_bool(r, s, "standard_loaded", rb_limits_for(r->env, e->standard) != NULL);
  char cls[PH_HUB_MAX_CLASSES * 32];
  classes_text(e, cls, sizeof cls);
  if (cls[0]) rb_str(r, s, "toolkit_class", cls);
  else rb_na(r, s, "toolkit_class", "%s", PH_NA(NO_TOOLKIT_CLASS));
  if (e->baseline_year) rb_int(r, s, "baseline_year", e->baseline_year);
  else rb_na(r, s, "baseline_year", "%s", PH_NA(NO_BASELINE));
  int rc;
  if ((rc = rb_ent_monitoring_period(r, e, s)) || (rc = rb_ent_metrics(r, e->id, measured)) ||
      (rc = rb_ent_emissions(r, e, measured, s)) ||
      (rc = rb_ent_compliance(r, e, measured, s)) || (rc = rb_ent_pcdd_f(r, e, s)) || (rc = rb_ent_monitoring(r, e, s, plan)) ||
      (rc = ph_report_water_ent(r->db, r->park->id, e, r->cat, rb_limits_for(r->env, e->standard), r->tz, r->from,
                                r->to, s, &r->water, r->err)))
    return rc;
  struct ind_ctx c = {.ent = e->id, .baseline_year = (int)e->baseline_year};
  return rb_indicators(r, &c, s);
}

/* --------------------------------------------------------------- meta */

static void meta(struct rb *r, cJSON *root) {
  const struct ph_hub_config *cfg = r->env->refs->cfg;
  char t[48];
  rb_str(r, root, "report", "parkhub annual report");
  rb_int(r, root, "format_version", PH_REPORT_VERSION);
  rb_str(r, root, "hub_id", cfg->hub_id);
  rb_str(r, root, "park", r->park->id);
  rb_str(r, root, "park_name", r->park->name[0] ? r->park->name : r->park->id);
  rb_str(r, root, "tz", ph_tz_name(r->tz));
  rb_int(r, root, "year", r->year);
  rb_time_at(r, root, "period_from", r->from);
  rb_time_at(r, root, "period_to", r->to);
  cJSON *stds = rb_arr(r, root, "standards");
  for (int i = 0; i < r->park->nents; i++) {
    const char *id = r->park->ents[i].standard;
    bool seen = false;
    for (int j = 0; j < i; j++) seen = seen || strcmp(r->park->ents[j].standard, id) == 0;
    if (!seen && (!stds || !cJSON_AddItemToArray(stds, cJSON_CreateString(id)))) r->oom = true;
  }
  rb_time_at(r, root, "generated_at", r->now);
  if (ph_time_format(r->now, t, sizeof t) == 0) rb_str(r, root, "generated_at_utc", t);
  if (r->closed) {
    rb_time_at(r, root, "cems_closed_until", r->closed);
    int64_t through = ph_tz_hour_start(r->tz, r->closed);
    if (through > r->to) through = r->to;
    if (through > r->from) rb_time_at(r, root, "cems_data_through", through);
    else rb_na(r, root, "cems_data_through", "%s", PH_NA(CEMS_NOT_PAST_YEAR_START));
    rb_bool(r, root, "cems_year_complete", ph_tz_day_start(r->tz, r->closed) >= r->to);
  } else {
    rb_na(r, root, "cems_closed_until", "%s", PH_NA(CEMS_NO_HOUR_YET));
    rb_na(r, root, "cems_data_through", "%s", PH_NA(CEMS_NO_HOUR_YET));
    rb_bool(r, root, "cems_year_complete", false);
  }
  rb_str(r, root, "factor_table", ph_factors_table(r->env->refs->factors));
  rb_str(r, root, "factor_table_title", ph_factors_title(r->env->refs->factors));
  rb_str(r, root, "factor_table_source", ph_factors_source(r->env->refs->factors));
  rb_int(r, root, "enterprises_count", r->park->nents);
  static const char *const notes[] = {
      "Times are the park's local time; the year is the park's local calendar year.",
      "CEMS figures (emissions, compliance) cover the hours and days the hub had closed and processed by "
      "cems_closed_until; later hours are neither valid nor missing.",
      "Emission mass = valid hourly mean concentration x valid hourly mean dry flow x 1 h, summed over the point-hours "
      "with both; other expected point-hours are gaps, counted in gap_share and never filled.",
      "Compliance: valid hourly means (HJ 75: 45 valid minutes, flag N only) against the stack limit in force that "
      "day; valid daily means (20 valid hours) after the GB 31574-2015 4.2.7 benchmark exhaust-volume conversion.",
      "PCDD/F measured = stack-test concentration x flue-gas volume of the whole year (hours without valid flow "
      "filled with the mean of the valid hours; measured_share says how much was measured). Estimated = UNEP Toolkit "
      "factor x activity. Current = measured when complete, else estimated (air).",
      "Stack-test plan and its status are as of the generation date.",
      "Material balance and indicators come from the weighbridge ledger and the day sums of process quantities, "
      "all data received by the generation time.",
      "Copper in (feed), out (product) and in residues: each lot's assay (attrs.cu_pct, percent 0..100) where it has "
      "one, else the material's default content; an assay outside 0..100 or not a number is ignored and counted "
      "(assay_ignored_lots). Roles and defaults: the park's materials in the configuration, else the built-in "
      "catalogue; other codes are unclassified, listed and counted apart, in no balance figure.",
  };
  cJSON *ns = rb_arr(r, root, "notes");
  for (size_t i = 0; i < sizeof notes / sizeof notes[0]; i++)
    if (!ns || !cJSON_AddItemToArray(ns, cJSON_CreateString(notes[i]))) r->oom = true;
}

/* ---------------------------------------------------------------- API */

static int prepare(struct rb *r) {
  if (sqlite3_prepare_v2(r->db, REP_SQL_ENT_METRICS, -1, &r->ent_metrics, NULL) ||
      sqlite3_prepare_v2(r->db, REP_SQL_LIMIT_RANGE, -1, &r->limit_range, NULL) ||
      sqlite3_prepare_v2(r->db, REP_SQL_LEDGER, -1, &r->ledger, NULL) ||
      sqlite3_prepare_v2(r->db, REP_SQL_SUM_DATA, -1, &r->sum_data, NULL))
    return rb_db_fail(r, "prepare (is this a parkhub database?)");
  return 0;
}

static void release_rb(struct rb *r) {
  sqlite3_finalize(r->ent_metrics);
  sqlite3_finalize(r->limit_range);
  sqlite3_finalize(r->ledger);
  sqlite3_finalize(r->sum_data);
  ph_free(r->mass_codes);
  ph_free(r->comp_codes);
  ph_free(r->mass);
  ph_free(r->comp);
  ph_free(r->inv);
}

int ph_report_build(sqlite3 *db, const struct ph_report_env *env, const char *park, int year, int64_t now_ms,
                    cJSON **out, struct ph_err *err) {
  *out = NULL;
  if (!db || !env || !env->refs || !env->refs->cfg || !env->refs->cat || !env->refs->factors || !park)
    return ph_fail(err, PH_EINVAL, "report: missing argument");
  const struct ph_hub_park *p = ph_hub_config_park(env->refs->cfg, park);
  if (!p) return ph_fail(err, PH_ENOTFOUND, "report: park '%s' is not configured", park);
  const struct ph_tz *tz = env->refs->tz[p - env->refs->cfg->parks];
  if (!tz) return ph_fail(err, PH_EINVAL, "report: park '%s' has no time zone loaded", park);
  if (year < 1971 || year > 9998) return ph_fail(err, PH_EINVAL, "report: year %d is outside 1971..9998", year);
  struct rb r = {.db = db, .env = env, .cat = env->refs->cat, .tz = tz, .park = p, .year = year, .now = now_ms, .err = err};
  r.from = ph_inventory_midnight(tz, year, 1, 1);
  r.to = ph_inventory_midnight(tz, year + 1, 1, 1);
  ph_stmt_cache_begin(db); /* the domain's statements prepared once for the year (stmt_cache.h) */
  ph_cems_spans_park(p->id); /* every enterprise: one grouped read per figure (cems_spans.h) */
  cJSON *root = cJSON_CreateObject();
  bool *measured = ph_calloc(ph_catalog_count(env->refs->cat) + 1, sizeof *measured);
  struct ph_monitoring_plan *plans = ph_calloc((size_t)p->nents + 1, sizeof *plans);
  r.inv = ph_malloc(sizeof *r.inv);
  int rc;
  if (!root || !measured || !plans || !r.inv) {
    rc = ph_fail(err, PH_ENOMEM, "report: out of memory");
    goto out;
  }
  if ((rc = prepare(&r)) || (rc = ph_cems_closed_until(db, &r.closed, err)) || (rc = rb_park_codes(&r))) goto out;
  meta(&r, root);
  cJSON *ps = rb_obj(&r, root, "park_summary");
  cJSON *ents = rb_arr(&r, root, "enterprises");
  for (int i = 0; i < p->nents; i++)
    if ((rc = enterprise(&r, &p->ents[i], ents, measured, &plans[i]))) goto out;
  rb_str(&r, ps, "id", p->id);
  rb_str(&r, ps, "name", p->name[0] ? p->name : p->id);
  rb_int(&r, ps, "enterprises", p->nents);
  rb_park_emissions(&r, ps);
  rb_park_compliance(&r, ps);
  if ((rc = rb_park_pcdd_f(&r, ps))) goto out;
  rb_park_monitoring(&r, ps, plans, p->nents);
  if ((rc = ph_report_water_park(&r.water, ps, err))) goto out;
  struct ind_ctx c = {0};
  if ((rc = rb_indicators(&r, &c, ps))) goto out;
  if (r.oom) rc = ph_fail(err, PH_ENOMEM, "report: out of memory building the tree");
out:
  ph_stmt_cache_end(db);
  release_rb(&r);
  ph_free(measured);
  ph_free(plans);
  if (rc) {
    cJSON_Delete(root);
    return rc;
  }
  *out = root;
  return 0;
}

