/* water.c — water outlets: volume, loads and daily-mean compliance
 * (water.h has the definitions and their basis).
 *
 * Callers: the report (report_json.c) and the summary API. Threads: any,
 * on the caller's read connection; it owns nothing beyond the arrays it
 * returns. Reads cems_hours/cems_days only, which hold closed periods, so a
 * period still open is neither valid nor missing here.
 *
 * Invariants:
 *  1. A limit is used only when ph_limits_water returns it, i.e. verified
 *     with a source and clause; otherwise limit_na says why and no day is
 *     counted as judged, over or within.
 *  2. A load counts only hours with both a valid concentration and a valid
 *     flow; a flow hour without a concentration is a gap, never filled.
 *  3. Prepared statements only; every statement is finalised on every path.
 */
#include "domain/water.h"
#include "parkhub/na_reasons.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "domain/ent_limits.h"
#include "water_sql.h"

#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL
#define MAX_SERIES 64

static long local_day(const struct ph_tz *tz, int64_t utc_ms) {
  int64_t t = utc_ms + (int64_t)ph_tz_offset_s(tz, utc_ms) * 1000;
  return (long)(t >= 0 ? t / DAY_MS : -((-t + DAY_MS - 1) / DAY_MS));
}

static int prep(sqlite3 *db, const char *sql, sqlite3_stmt **s, struct ph_err *err) {
  if (sqlite3_prepare_v2(db, sql, -1, s, NULL) != SQLITE_OK)
    return ph_fail(err, PH_EDB, "water: %s", sqlite3_errmsg(db));
  return 0;
}

struct ctx {
  sqlite3 *db;
  const struct ph_hub_ent *e;
  const struct ph_limits *lim;
  const struct ph_tz *tz;
  bool indirect;
  int64_t from, to;
};

/* The limit in force on the local day of utc_ms; 0 or PH_ENOTFOUND with *why. */
static int limit_on(const struct ctx *c, const char *metric, int64_t utc_ms, double *lo, double *hi, const char **why) {
  if (!c->lim) {
    *why = PH_NA(STANDARD_NOT_LOADED);
    return PH_ENOTFOUND;
  }
  long day = local_day(c->tz, utc_ms);
  return ph_limits_water(c->lim, metric, (enum ph_sector)c->e->sector, ph_ent_class_on(c->e, day),
                         c->e->special_limits, c->indirect, day, lo, hi, why);
}

static bool outside(double v, double lo, double hi) { return v > hi || v < lo; }

static int judge_days(const struct ctx *c, int64_t sid, struct ph_water_pollutant *p, struct ph_err *err) {
  sqlite3_stmt *s;
  int rc = prep(c->db, WATER_SQL_DAYS, &s, err);
  if (rc) return rc;
  sqlite3_bind_int64(s, 1, sid);
  sqlite3_bind_int64(s, 2, c->from);
  sqlite3_bind_int64(s, 3, c->to);
  double sum = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    int64_t d = sqlite3_column_int64(s, 0);
    double m = sqlite3_column_double(s, 1), lo, hi;
    const char *why = NULL;
    p->days_valid++;
    sum += m;
    if (!p->range && (p->worst_day_ms == 0 || m > p->worst_day_mean)) {
      p->worst_day_mean = m;
      p->worst_day_ms = d;
    }
    if (p->range) continue; /* ranges are judged on hours */
    if (limit_on(c, p->metric, d, &lo, &hi, &why)) {
      p->limit_na = why;
      continue;
    }
    p->limit_na = NULL;
    p->limit_lo = lo;
    p->limit_hi = hi;
    p->days_with_limit++;
    if (outside(m, lo, hi)) p->days_over++;
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) return ph_fail(err, PH_EDB, "water: %s", sqlite3_errmsg(c->db));
  p->mean = p->days_valid ? sum / (double)p->days_valid : NAN;
  return 0;
}

static int judge_hours(const struct ctx *c, int64_t sid, struct ph_water_pollutant *p, struct ph_err *err) {
  sqlite3_stmt *s;
  int rc = prep(c->db, WATER_SQL_HOURS, &s, err);
  if (rc) return rc;
  sqlite3_bind_int64(s, 1, sid);
  sqlite3_bind_int64(s, 2, c->from);
  sqlite3_bind_int64(s, 3, c->to);
  int64_t last_out_day = INT64_MIN;
  double worst_dist = -1;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    int64_t h = sqlite3_column_int64(s, 0), d = sqlite3_column_int64(s, 1);
    double m = sqlite3_column_double(s, 2), lo, hi;
    const char *why = NULL;
    p->hours_valid++;
    if (limit_on(c, p->metric, h, &lo, &hi, &why)) {
      p->limit_na = why;
      continue;
    }
    p->limit_na = NULL;
    p->limit_lo = lo;
    p->limit_hi = hi;
    p->hours_with_limit++;
    if (!outside(m, lo, hi)) continue;
    p->hours_out++;
    if (d != last_out_day) p->days_out++;
    last_out_day = d;
    double dist = m > hi ? m - hi : lo - m;
    if (dist > worst_dist) {
      worst_dist = dist;
      p->worst_day_mean = m;
      p->worst_day_ms = h;
    }
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) return ph_fail(err, PH_EDB, "water: %s", sqlite3_errmsg(c->db));
  return 0;
}

static int load_of(const struct ctx *c, int64_t sid, int64_t flow_sid, struct ph_water_pollutant *p,
                   struct ph_err *err) {
  sqlite3_stmt *s;
  int rc = prep(c->db, WATER_SQL_LOAD, &s, err);
  if (rc) return rc;
  sqlite3_bind_int64(s, 1, sid);
  sqlite3_bind_int64(s, 2, flow_sid);
  sqlite3_bind_int64(s, 3, c->from);
  sqlite3_bind_int64(s, 4, c->to);
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    p->load_hours = sqlite3_column_int64(s, 0);
    p->load_kg = sqlite3_column_double(s, 1) * 1e-3; /* mg/L × m³/h × 1 h = g */
    p->load_gap_hours = sqlite3_column_int64(s, 2);
    p->load_days = sqlite3_column_int64(s, 3);
  }
  sqlite3_finalize(s);
  return rc == SQLITE_ROW ? 0 : ph_fail(err, PH_EDB, "water: %s", sqlite3_errmsg(c->db));
}

static int outlet(struct ctx *c, const char *park, const struct ph_catalog *cat, struct ph_water_outlet *o,
                  struct ph_err *err) {
  char codes[MAX_SERIES][PH_ID_MAX + 1];
  int64_t ids[MAX_SERIES], flow_sid = 0;
  size_t n = 0;
  sqlite3_stmt *s;
  int rc = prep(c->db, WATER_SQL_SERIES, &s, err);
  if (rc) return rc;
  sqlite3_bind_text(s, 1, park, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, c->e->id, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 3, o->point, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const char *code = (const char *)sqlite3_column_text(s, 0);
    if (!code || strncmp(code, "w_", 2) != 0) continue;
    if (strcmp(code, PH_WATER_FLOW) == 0) {
      flow_sid = sqlite3_column_int64(s, 1);
      continue;
    }
    if (n == MAX_SERIES) continue;
    int ci = ph_catalog_find(cat, code, strlen(code));
    const struct ph_metric *m = ci >= 0 ? ph_catalog_at(cat, (size_t)ci) : NULL;
    if (!m || strcmp(m->unit, "m3") == 0 || strcmp(m->unit, "m3/h") == 0) continue; /* w_volume: not a concentration */
    snprintf(codes[n], sizeof codes[n], "%s", code);
    ids[n++] = sqlite3_column_int64(s, 1);
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) return ph_fail(err, PH_EDB, "water: %s", sqlite3_errmsg(c->db));

  o->volume_m3 = NAN;
  if (flow_sid) {
    if ((rc = prep(c->db, WATER_SQL_FLOW, &s, err))) return rc;
    sqlite3_bind_int64(s, 1, flow_sid);
    sqlite3_bind_int64(s, 2, c->from);
    sqlite3_bind_int64(s, 3, c->to);
    if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      o->flow_hours = sqlite3_column_int64(s, 0);
      o->volume_m3 = sqlite3_column_double(s, 1); /* m³/h × 1 h */
      o->flow_days = sqlite3_column_int64(s, 2);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW) return ph_fail(err, PH_EDB, "water: %s", sqlite3_errmsg(c->db));
  }
  if (n && !(o->p = ph_calloc(n, sizeof *o->p))) return ph_fail(err, PH_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    struct ph_water_pollutant *p = &o->p[o->np++];
    int ci = ph_catalog_find(cat, codes[i], strlen(codes[i]));
    const struct ph_metric *m = ph_catalog_at(cat, (size_t)ci);
    snprintf(p->metric, sizeof p->metric, "%s", codes[i]);
    p->range = strcmp(codes[i], "w_ph") == 0;
    p->limit_lo = p->limit_hi = NAN;
    /* the limit (or why none) at the end of the period; judged days and hours update it */
    if (limit_on(c, p->metric, c->to - 1, &p->limit_lo, &p->limit_hi, &p->limit_na) == 0) p->limit_na = NULL;
    p->mean = p->worst_day_mean = p->load_kg = NAN;
    if ((rc = judge_days(c, ids[i], p, err))) return rc;
    if (p->range && (rc = judge_hours(c, ids[i], p, err))) return rc;
    if (flow_sid && strcmp(m->unit, "mg/L") == 0 && (rc = load_of(c, ids[i], flow_sid, p, err))) return rc;
  }
  return 0;
}

int ph_water_summarise(sqlite3 *db, const char *park, const struct ph_hub_ent *e, const struct ph_catalog *cat,
                       const struct ph_limits *lim, const struct ph_tz *tz, int64_t from_ms, int64_t to_ms,
                       struct ph_water *out, struct ph_err *err) {
  memset(out, 0, sizeof *out);
  size_t n = 0;
  for (int i = 0; i < e->npoint_media; i++) n += e->point_media[i].medium == PH_MEDIUM_WATER;
  if (!n) return 0;
  if (!(out->outlets = ph_calloc(n, sizeof *out->outlets))) return ph_fail(err, PH_ENOMEM, "out of memory");
  struct ctx c = {.db = db, .e = e, .lim = lim, .tz = tz, .from = from_ms, .to = to_ms};
  for (int i = 0; i < e->npoint_media; i++) {
    if (e->point_media[i].medium != PH_MEDIUM_WATER) continue;
    struct ph_water_outlet *o = &out->outlets[out->n++];
    snprintf(o->point, sizeof o->point, "%s", e->point_media[i].point);
    o->discharge = e->point_media[i].discharge;
    c.indirect = o->discharge == PH_DISCHARGE_INDIRECT;
    int rc = outlet(&c, park, cat, o, err);
    if (rc) return rc;
  }
  return 0;
}

void ph_water_fini(struct ph_water *w) {
  if (!w) return;
  for (size_t i = 0; i < w->n; i++) ph_free(w->outlets[i].p);
  ph_free(w->outlets);
  memset(w, 0, sizeof *w);
}
