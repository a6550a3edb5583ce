/* report_compliance.c — the report's "compliance" section: per
 * enterprise and pollutant with a limit in its standard, valid hours and
 * days against the limit in force, rates, availability and the worst
 * value; for the park, the sums with the worst enterprise.
 *
 * Callers: report_json.c (rb_ent_compliance per enterprise, then
 * rb_park_compliance). Threads: the caller's. Owns nothing after a call.
 *
 * Invariants (report_json.c inv. 1 to 3):
 *  1. The limit of a row comes from the configuration (the standard in
 *     force each local day), not from data; a limit that changed in the
 *     year (or differs between enterprises) is null with its range.
 *  2. Park counts are sums of the enterprises'; rates are recomputed from
 *     those sums, never averaged; the worst is the highest ratio, the
 *     earliest on a tie.
 *  3. PCDD/F without a valid hour is left to the inventory (stack tests).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "domain/ent_limits.h"
#include "parkhub/na_reasons.h"
#include "report_build.h"

static const char *no_rate_why(const struct ph_compliance_periods *p, int nmonitored, bool hours, char *buf,
                               size_t cap) {
  return ph_compliance_rate_why(p, nmonitored, hours, buf, cap);
}

static void periods(struct rb *r, cJSON *o, const struct ph_compliance_periods *p, bool hours, const char *went,
                    int nmonitored) {
  const char *w = hours ? "hour" : "day";
  char k[64], why_rate[128], why_avail[128];
#define K(fmt) (snprintf(k, sizeof k, fmt, w), k)
  rb_int(r, o, K("%ss_expected"), p->expected);
  rb_int(r, o, K("%ss_valid"), p->valid);
  rb_int(r, o, K("%ss_with_limit"), p->with_limit);
  rb_int(r, o, K("%ss_within"), p->within);
  rb_int(r, o, K("exceedance_%ss"), p->exceeded);
  rb_int(r, o, K("%ss_stopped"), p->stopped);
  if (hours) rb_int(r, o, "hours_startup_shutdown", p->transition);
  double rate = p->with_limit ? (double)p->within / (double)p->with_limit : NAN;
  double avail = p->expected ? (double)p->valid / (double)p->expected : NAN;
  rb_num_or(r, o, K("%s_compliance"), p->with_limit > 0, rate, "%s",
         no_rate_why(p, nmonitored, hours, why_rate, sizeof why_rate));
  const char *aw = ph_compliance_period_why(nmonitored, p->expected, p->stopped, why_avail, sizeof why_avail);
  rb_num_or(r, o, K("%s_availability"), p->expected > 0, avail, "%s", aw ? aw : "");
  bool has = p->with_limit > 0 && p->worst.point[0] != '\0';
  const char *why = PH_NA(NO_VALID_MEAN_WITH_LIMIT);
  if (hours) {
    rb_num_or(r, o, "worst_hour_mean", has, p->worst.mean, "%s", why);
    rb_num_or(r, o, "worst_hour_limit", has, p->worst.limit, "%s", why);
    rb_num_or(r, o, "worst_hour_ratio", has, p->worst.ratio, "%s", why);
    if (has) rb_time_at(r, o, "worst_hour_time", p->worst.bucket_ms);
    else rb_na(r, o, "worst_hour_time", "%s", why);
  } else {
    rb_num_or(r, o, "worst_day_converted", has, p->worst.converted, "%s", why);
    rb_num_or(r, o, "worst_day_mean", has, p->worst.mean, "%s", why);
    rb_num_or(r, o, "worst_day_limit", has, p->worst.limit, "%s", why);
    rb_num_or(r, o, "worst_day_ratio", has, p->worst.ratio, "%s", why);
    if (has) {
      char d[16];
      rb_date_local(r->tz, p->worst.bucket_ms, d, sizeof d);
      rb_str(r, o, "worst_day_date", d);
    } else {
      rb_na(r, o, "worst_day_date", "%s", why);
    }
  }
  if (has) rb_str(r, o, K("worst_%s_point"), p->worst.point);
  else rb_na(r, o, K("worst_%s_point"), "%s", why);
  if (went) {
    if (has) rb_str(r, o, K("worst_%s_enterprise"), went);
    else rb_na(r, o, K("worst_%s_enterprise"), "%s", why);
  }
#undef K
}

/* limit_na when the limit is not one: "differs between enterprises: 5 to
 * 10 mg/Nm3" (the park) or "changed during the year: …" (an enterprise). */
static void limit_range_na(struct rb *r, cJSON *o, double lo, double hi, const char *unit, bool park) {
  char a[32], b[32], range[128];
  snprintf(a, sizeof a, "%g", lo);
  snprintf(b, sizeof b, "%g", hi);
  snprintf(range, sizeof range, PH_NA(LIMIT_RANGE), a, b, unit);
  rb_na(r, o, "limit", park ? PH_NA(LIMIT_DIFFERS) : PH_NA(LIMIT_CHANGED), range);
}

/* limit: the one limit of the year (or of the park's enterprises); limit_min/max: its range */
static void limit_cell(struct rb *r, cJSON *o, bool any, double lo, double hi, const char *unit, bool park) {
  const char *none = park ? PH_NA(NO_LIMIT_ANY_ENT)
                          : PH_NA(NO_LIMIT_THE_ENT);
  if (!any)
    rb_na(r, o, "limit", "%s", none);
  else if (lo != hi)
    limit_range_na(r, o, lo, hi, unit, park);
  else
    rb_num(r, o, "limit", lo);
  rb_num_or(r, o, "limit_min", any, lo, "%s", none);
  rb_num_or(r, o, "limit_max", any, hi, "%s", none);
}

/* The limits the enterprise's standard sets for code on the local days of
 * the year (from the configuration, not from data: a limit is in force
 * whether or not a valid hour exists yet). */
static void limit_range(struct rb *r, const struct ph_hub_ent *e, const char *code, bool *any, double *lo,
                        double *hi) {
  const struct ph_limits *l = rb_limits_for(r->env, e->standard);
  *any = false;
  for (int64_t d = r->from; l && d < r->to; d = ph_tz_next_day(r->tz, d)) {
    long day = rb_local_day(r->tz, d);
    double v;
    if (ph_limits_stack(l, code, (enum ph_sector)e->sector, ph_ent_class_on(e, day), e->special_limits, day, &v))
      continue;
    if (!*any || v < *lo) *lo = v;
    if (!*any || v > *hi) *hi = v;
    *any = true;
  }
}

static void add_periods(struct ph_compliance_periods *t, const struct ph_compliance_periods *p, const char *ent,
                        char *worst_ent, bool *has) {
  t->expected += p->expected;
  t->valid += p->valid;
  t->with_limit += p->with_limit;
  t->within += p->within;
  t->exceeded += p->exceeded;
  t->stopped += p->stopped;
  t->transition += p->transition;
  if (p->with_limit > 0 && p->worst.point[0] &&
      (!*has || p->worst.ratio > t->worst.ratio ||
       (p->worst.ratio == t->worst.ratio && p->worst.bucket_ms < t->worst.bucket_ms))) {
    t->worst = p->worst;
    snprintf(worst_ent, PH_ID_MAX + 1, "%s", ent);
    *has = true;
  }
}

int rb_ent_compliance(struct rb *r, const struct ph_hub_ent *e, const bool *measured, cJSON *scope) {
  cJSON *rows = rb_arr(r, scope, "compliance");
  const struct ph_limits *l = rb_limits_for(r->env, e->standard);
  if (!l) {
    char why[160];
    snprintf(why, sizeof why, PH_NA(STANDARD_X_NOT_LOADED_CFG), e->standard);
    rb_str(r, scope, "compliance_na", why);
    return 0;
  }
  for (int k = 0; k < r->ncomp; k++) {
    int idx = r->comp_codes[k];
    const struct ph_metric *mt = rb_metric(r, idx);
    if (!measured[idx] || !rb_standard_limits(l, mt->code, e)) continue;
    struct ph_compliance c;
    int rc = ph_compliance_summary(r->db, r->park, r->tz, r->park->id, e->id, NULL, mt->code, r->from, r->to, &c, r->err);
    if (rc) return rc;
    if (c.hours.valid == 0 && strcmp(mt->code, "pcdd_f") == 0) continue; /* stack tests: in the inventory */
    bool any = false;
    double lo = 0, hi = 0;
    limit_range(r, e, mt->code, &any, &lo, &hi);
    cJSON *o = rb_row(r, rows);
    rb_str(r, o, "pollutant", mt->code);
    rb_str(r, o, "name", mt->name);
    if (mt->name_zh[0]) rb_str(r, o, "name_zh", mt->name_zh);
    rb_str(r, o, "unit", mt->unit);
    limit_cell(r, o, any, lo, hi, mt->unit, false);
    rb_int(r, o, "points", c.npoints);
    periods(r, o, &c.hours, true, NULL, c.nmonitored);
    periods(r, o, &c.days, false, NULL, c.nmonitored);
    struct comp_sum *s = &r->comp[k];
    s->ents++;
    s->npoints += c.npoints;
    s->nmonitored += c.nmonitored;
    if (any) {
      if (!s->any_limit || lo < s->lim_min) s->lim_min = lo;
      if (!s->any_limit || hi > s->lim_max) s->lim_max = hi;
      s->any_limit = true;
    }
    add_periods(&s->h, &c.hours, e->id, s->worst_h_ent, &s->has_wh);
    add_periods(&s->d, &c.days, e->id, s->worst_d_ent, &s->has_wd);
  }
  if (cJSON_GetArraySize(rows) == 0) {
    char why[256];
    snprintf(why, sizeof why, PH_NA(NO_CONTINUOUS_WITH_LIMIT_X), e->standard);
    rb_str(r, scope, "compliance_na", why);
  }
  return 0;
}

void rb_park_compliance(struct rb *r, cJSON *scope) {
  cJSON *rows = rb_arr(r, scope, "compliance");
  int n = 0;
  for (int k = 0; k < r->ncomp; k++) {
    const struct comp_sum *s = &r->comp[k];
    if (s->ents == 0) continue;
    const struct ph_metric *mt = rb_metric(r, r->comp_codes[k]);
    cJSON *o = rb_row(r, rows);
    n++;
    rb_str(r, o, "pollutant", mt->code);
    rb_str(r, o, "name", mt->name);
    if (mt->name_zh[0]) rb_str(r, o, "name_zh", mt->name_zh);
    rb_str(r, o, "unit", mt->unit);
    limit_cell(r, o, s->any_limit, s->lim_min, s->lim_max, mt->unit, true);
    rb_int(r, o, "enterprises", s->ents);
    rb_int(r, o, "points", s->npoints);
    periods(r, o, &s->h, true, s->worst_h_ent, s->nmonitored);
    periods(r, o, &s->d, false, s->worst_d_ent, s->nmonitored);
  }
  if (n == 0) rb_str(r, scope, "compliance_na", PH_NA(NO_CONTINUOUS_WITH_LIMIT_PARK));
}
