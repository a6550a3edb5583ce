/* report_water.c — the annual report's water section (docs/report.md):
 * per enterprise, its water outlets (volume) and one row per outlet and
 * pollutant (daily-mean compliance, pH hours out of range, load); for the
 * park, the outlets' volume and each pollutant's sums.
 *
 * Callers: report_json.c. Threads: the caller's. Owns nothing after a call.
 * Invariants:
 *  1. Not available is null with "<key>_na", never 0 (report_json.c inv. 1):
 *     a volume without a flow series, a load without flow, a compliance
 *     rate without a verified limit.
 *  2. Park figures are sums of the enterprises' (rates recomputed from the
 *     sums); a park sum of a figure some outlet lacks is null, naming how
 *     many lack it.
 */
#include "report_water.h"
#include "parkhub/na_reasons.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "domain/water.h"

struct wb {
  bool oom;
};

static cJSON *chk(struct wb *b, cJSON *x) {
  if (!x) b->oom = true;
  return x;
}
static void num(struct wb *b, cJSON *o, const char *k, double v) {
  chk(b, isfinite(v) ? cJSON_AddNumberToObject(o, k, v) : cJSON_AddNullToObject(o, k));
}
static void integer(struct wb *b, cJSON *o, const char *k, int64_t v) { chk(b, cJSON_AddNumberToObject(o, k, (double)v)); }
static void str(struct wb *b, cJSON *o, const char *k, const char *v) { chk(b, cJSON_AddStringToObject(o, k, v ? v : "")); }
__attribute__((format(printf, 4, 5))) static void na(struct wb *b, cJSON *o, const char *k, const char *fmt, ...) {
  char key[96], why[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  snprintf(key, sizeof key, "%s_na", k);
  chk(b, cJSON_AddNullToObject(o, k));
  chk(b, cJSON_AddStringToObject(o, key, why));
}
static cJSON *row(struct wb *b, cJSON *a) {
  cJSON *o = cJSON_CreateObject();
  if (!o || !cJSON_AddItemToArray(a, o)) {
    cJSON_Delete(o);
    b->oom = true;
    return NULL;
  }
  return o;
}

static void date_of(const struct ph_tz *tz, int64_t ms, char *buf, size_t cap) {
  int y, h;
  unsigned m, d;
  ph_tz_local_date(tz, ms, &y, &m, &d, &h);
  snprintf(buf, cap, "%04d-%02u-%02u", y, m, d);
}

/* n as text: a reason's parts are text (parkhub/na_reasons.h). */
static const char *count_text(int n, char buf[16]) {
  snprintf(buf, 16, "%d", n);
  return buf;
}

static struct ph_report_water_sum *sum_of(struct ph_report_water_park *park, const char *metric) {
  for (int i = 0; i < park->np; i++)
    if (strcmp(park->p[i].metric, metric) == 0) return &park->p[i];
  if (park->np == PH_REPORT_WATER_MAX) return NULL;
  struct ph_report_water_sum *s = &park->p[park->np++];
  memset(s, 0, sizeof *s);
  snprintf(s->metric, sizeof s->metric, "%s", metric);
  return s;
}

static void limit_cells(struct wb *b, cJSON *o, const struct ph_water_pollutant *p) {
  if (p->limit_na) {
    na(b, o, "limit", "%s", p->limit_na);
    return;
  }
  if (p->range) {
    char lo[32], hi[32];
    snprintf(lo, sizeof lo, "%g", p->limit_lo);
    snprintf(hi, sizeof hi, "%g", p->limit_hi);
    na(b, o, "limit", PH_NA(LIMIT_A_RANGE), lo, hi);
    num(b, o, "limit_min", p->limit_lo);
    num(b, o, "limit_max", p->limit_hi);
  } else {
    num(b, o, "limit", p->limit_hi);
  }
}

static void pollutant_row(struct wb *b, cJSON *rows, const struct ph_water_outlet *o, const struct ph_water_pollutant *p,
                          const struct ph_catalog *cat, const struct ph_tz *tz) {
  cJSON *x = row(b, rows);
  if (!x) return;
  int ci = ph_catalog_find(cat, p->metric, strlen(p->metric));
  const struct ph_metric *m = ci >= 0 ? ph_catalog_at(cat, (size_t)ci) : NULL;
  char buf[40];
  str(b, x, "point", o->point);
  str(b, x, "discharge", ph_discharge_name((enum ph_discharge)o->discharge));
  str(b, x, "pollutant", p->metric);
  str(b, x, "name", m ? m->name : p->metric);
  if (m && m->name_zh[0]) str(b, x, "name_zh", m->name_zh);
  str(b, x, "unit", m ? m->unit : "");
  str(b, x, "judged_on", p->range ? "hourly means (range)" : "daily means");
  limit_cells(b, x, p);
  integer(b, x, "days_valid", p->days_valid);
  if (p->days_valid) num(b, x, "mean", p->mean);
  else na(b, x, "mean", "%s", PH_NA(NO_VALID_DAY_20H));
  if (p->range) {
    integer(b, x, "hours_valid", p->hours_valid);
    integer(b, x, "hours_with_limit", p->hours_with_limit);
    integer(b, x, "hours_out_of_range", p->hours_out);
    integer(b, x, "days_out_of_range", p->days_out);
    if (p->hours_with_limit) num(b, x, "hour_compliance", 1.0 - (double)p->hours_out / (double)p->hours_with_limit);
    else na(b, x, "hour_compliance", "%s", p->limit_na ? p->limit_na : PH_NA(NO_VALID_HOUR));
  } else {
    integer(b, x, "days_with_limit", p->days_with_limit);
    integer(b, x, "days_over", p->days_over);
    if (p->days_with_limit) num(b, x, "day_compliance", 1.0 - (double)p->days_over / (double)p->days_with_limit);
    else na(b, x, "day_compliance", "%s", p->limit_na ? p->limit_na : PH_NA(NO_VALID_DAY));
  }
  if (p->worst_day_ms) {
    num(b, x, p->range ? "worst_hour_value" : "worst_day_mean", p->worst_day_mean);
    if (p->range) {
      ph_tz_format_local(tz, p->worst_day_ms, buf, sizeof buf);
      str(b, x, "worst_hour_time", buf);
    } else {
      date_of(tz, p->worst_day_ms, buf, sizeof buf);
      str(b, x, "worst_day_date", buf);
    }
  }
  if (isnan(p->load_kg)) {
    na(b, x, "load_kg", "%s",
       !isnan(o->volume_m3) ? PH_NA(NOT_MG_PER_L) : PH_NA(NO_FLOW_AT_OUTLET));
    na(b, x, "load_t", "%s", !isnan(o->volume_m3) ? PH_NA(NOT_MG_PER_L) : PH_NA(NO_FLOW_AT_OUTLET));
  } else {
    num(b, x, "load_kg", p->load_kg);
    num(b, x, "load_t", p->load_kg / 1000.0);
    integer(b, x, "load_hours", p->load_hours);
    integer(b, x, "load_gap_hours", p->load_gap_hours);
    integer(b, x, "load_days", p->load_days);
    if (p->load_days) num(b, x, "load_kg_per_day", p->load_kg / (double)p->load_days);
    else na(b, x, "load_kg_per_day", "%s", PH_NA(NO_HOUR_CONC_AND_FLOW));
  }
}

int ph_report_water_ent(sqlite3 *db, const char *park_id, const struct ph_hub_ent *e, const struct ph_catalog *cat,
                        const struct ph_limits *lim, const struct ph_tz *tz, int64_t from, int64_t to, cJSON *scope,
                        struct ph_report_water_park *park, struct ph_err *err) {
  struct wb b = {0};
  struct ph_water w;
  int rc = ph_water_summarise(db, park_id, e, cat, lim, tz, from, to, &w, err);
  if (rc) {
    ph_water_fini(&w);
    return rc;
  }
  cJSON *wo = chk(&b, cJSON_AddObjectToObject(scope, "water"));
  if (!wo) {
    ph_water_fini(&w);
    return ph_fail(err, PH_ENOMEM, "report: out of memory");
  }
  integer(&b, wo, "outlets", (int64_t)w.n);
  if (w.n == 0) str(&b, scope, "water_na", PH_NA(NO_WATER_OUTLET_CONFIGURED));
  if (w.n) park->ents++;
  cJSON *orows = chk(&b, cJSON_AddArrayToObject(wo, "outlets_list"));
  cJSON *prows = chk(&b, cJSON_AddArrayToObject(wo, "pollutants"));
  bool seen[PH_REPORT_WATER_MAX] = {0};
  for (size_t i = 0; orows && prows && i < w.n; i++) {
    const struct ph_water_outlet *o = &w.outlets[i];
    cJSON *x = row(&b, orows);
    if (!x) break;
    str(&b, x, "point", o->point);
    str(&b, x, "discharge", ph_discharge_name((enum ph_discharge)o->discharge));
    park->outlets++;
    if (isnan(o->volume_m3)) {
      na(&b, x, "volume_m3", "%s", PH_NA(NO_FLOW_SERIES_AT_OUTLET));
      park->volume_missing++;
    } else {
      num(&b, x, "volume_m3", o->volume_m3);
      park->volume_m3 += o->volume_m3;
    }
    integer(&b, x, "flow_hours", o->flow_hours);
    integer(&b, x, "flow_days", o->flow_days);
    integer(&b, x, "pollutants", (int64_t)o->np);
    for (size_t j = 0; j < o->np; j++) {
      const struct ph_water_pollutant *p = &o->p[j];
      pollutant_row(&b, prows, o, p, cat, tz);
      struct ph_report_water_sum *s = sum_of(park, p->metric);
      if (!s) continue;
      int k = (int)(s - park->p);
      if (!seen[k]) s->ents++;
      seen[k] = true;
      s->outlets++;
      s->days_valid += p->days_valid;
      s->days_with_limit += p->days_with_limit;
      s->days_over += p->days_over;
      s->hours_with_limit += p->hours_with_limit;
      s->hours_out += p->hours_out;
      s->days_out += p->days_out;
      if (isnan(p->load_kg)) s->load_missing++;
      else {
        s->load_kg += p->load_kg;
        s->load_outlets++;
      }
    }
  }
  if (w.n && lim) str(&b, wo, "limits_note",
                      ph_limits_water_count(lim) ? "only limit values marked verified with a source and clause are used"
                                                 : "the standard has no water section");
  ph_water_fini(&w);
  if (b.oom) return ph_fail(err, PH_ENOMEM, "report: out of memory");
  return 0;
}

int ph_report_water_park(const struct ph_report_water_park *park, cJSON *scope, struct ph_err *err) {
  struct wb b = {0};
  char c1[16], c2[16];
  cJSON *wo = chk(&b, cJSON_AddObjectToObject(scope, "water"));
  if (!wo) return ph_fail(err, PH_ENOMEM, "report: out of memory");
  integer(&b, wo, "outlets", park->outlets);
  integer(&b, wo, "enterprises", park->ents);
  if (!park->outlets) str(&b, scope, "water_na", PH_NA(NO_WATER_OUTLET_IN_PARK));
  else if (park->volume_missing)
    na(&b, wo, "volume_m3", PH_NA(OUTLETS_WITHOUT_FLOW), count_text(park->volume_missing, c1),
       count_text(park->outlets, c2));
  else num(&b, wo, "volume_m3", park->volume_m3);
  cJSON *rows = chk(&b, cJSON_AddArrayToObject(wo, "pollutants"));
  for (int i = 0; rows && i < park->np; i++) {
    const struct ph_report_water_sum *s = &park->p[i];
    cJSON *x = row(&b, rows);
    if (!x) break;
    str(&b, x, "pollutant", s->metric);
    integer(&b, x, "outlets", s->outlets);
    integer(&b, x, "enterprises", s->ents);
    integer(&b, x, "days_valid", s->days_valid);
    integer(&b, x, "days_with_limit", s->days_with_limit);
    integer(&b, x, "days_over", s->days_over);
    integer(&b, x, "hours_with_limit", s->hours_with_limit);
    integer(&b, x, "hours_out_of_range", s->hours_out);
    if (s->days_with_limit) num(&b, x, "day_compliance", 1.0 - (double)s->days_over / (double)s->days_with_limit);
    else if (s->hours_with_limit)
      num(&b, x, "hour_compliance", 1.0 - (double)s->hours_out / (double)s->hours_with_limit);
    else na(&b, x, "day_compliance", "%s", PH_NA(NO_VERIFIED_LIMIT_ANY_OUTLET));
    if (s->load_missing && s->load_outlets)
      na(&b, x, "load_kg", PH_NA(OUTLETS_WITHOUT_LOAD), count_text(s->load_missing, c1), count_text(s->outlets, c2));
    else if (!s->load_outlets) na(&b, x, "load_kg", "%s", PH_NA(NO_LOAD_FIGURE));
    else {
      num(&b, x, "load_kg", s->load_kg);
      num(&b, x, "load_t", s->load_kg / 1000.0);
    }
  }
  return b.oom ? ph_fail(err, PH_ENOMEM, "report: out of memory") : 0;
}
