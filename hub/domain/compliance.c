/* compliance.c — compliance figures from the CEMS tables (compliance.h).
 *
 * Callers: the report and the query API (their own read connections).
 * Threads: the caller's; no state between calls.
 *
 * Invariants:
 *  1. only valid means count, and only those with a limit in force count
 *     toward the rate: rate = within / with_limit (hours: measured mean ≤
 *     limit; days: converted mean ≤ limit).
 *  2. expected periods are closed ones (ph_cems_closed_until), so a period
 *     still open is neither valid nor missing; availability = valid /
 *     expected, summed over points.
 *  3. per point, valid, exceeded and expected periods are all counted over
 *     the same range, the part of [from, closed) inside its monitoring
 *     period (monitoring.h), so valid ≤ expected.
 *  4. hour counts and the worst hour over whole local days come from the
 *     daily aggregates (cems_agg_days), the hours at the range's edges from
 *     cems_hours: the same figures as reading every hour (a day's row is
 *     its hours' counts; the worst of the days' worst, earlier on ties, is
 *     the worst hour), a year in 365 rows instead of 8 760; and whole
 *     8-day blocks of days from their block rows (cems_agg_blocks), the
 *     daily means' counts and worst day likewise (cems_days,
 *     cems_day_blocks), and whole month cells above them
 *     (cems_agg_months, cems_day_months; ph_cems_agg_parts): 12 rows a
 *     year. The worst of the rows' worst, earlier on ties, is the worst of
 *     all their periods.
 */
#include "domain/compliance.h"
#include "parkhub/na_reasons.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cems_agg_sql.h"
#include "cems_sql.h"
#include "domain/cems_agg.h"
#include "domain/cems.h"
#include "domain/cems_spans.h"
#include "domain/monitoring.h"
#include "domain/stmt_cache.h"

static int db_fail(sqlite3 *db, struct ph_err *err, const char *what) {
  return ph_fail(err, PH_EDB, "compliance: %s: %s", what, sqlite3_errmsg(db));
}

static void bind_text_or_null(sqlite3_stmt *s, int i, const char *v) {
  if (v)
    sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(s, i);
}

/* Prepares one of the summary queries and binds ?1..?6. */
static sqlite3_stmt *query(sqlite3 *db, const char *text, const char *park, const char *ent, const char *point,
                           const char *metric, int64_t from, int64_t to) {
  sqlite3_stmt *s;
  if (ph_stmt_prepare(db, text, &s) != SQLITE_OK) {
    ph_stmt_release(s);
    return NULL;
  }
  sqlite3_bind_text(s, 1, park, -1, SQLITE_STATIC);
  bind_text_or_null(s, 2, ent);
  bind_text_or_null(s, 3, point);
  sqlite3_bind_text(s, 4, metric, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 5, from);
  sqlite3_bind_int64(s, 6, to);
  return s;
}

struct ctx {
  sqlite3 *db;
  const char *park, *ent, *point, *metric;
  struct ph_err *err;
  const struct ph_tz *tz; /* the park's: where its days start (ph_cems_agg_parts) */
};

/* Adds the counts of one point over [from, to) to p. */
static int counts(const struct ctx *c, const char *text, int64_t from, int64_t to, struct ph_compliance_periods *p) {
  sqlite3_stmt *s = query(c->db, text, c->park, c->ent, c->point, c->metric, from, to);
  if (!s) return db_fail(c->db, c->err, "counting periods");
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    p->valid += sqlite3_column_int64(s, 0);
    p->with_limit += sqlite3_column_int64(s, 1);
    p->within += sqlite3_column_int64(s, 2);
    p->exceeded += sqlite3_column_int64(s, 3);
  }
  ph_stmt_release(s);
  return rc == SQLITE_ROW ? 0 : db_fail(c->db, c->err, "counting periods");
}

/* Steps s (columns: ratio, mean, converted, limit, bucket, point); its row
 * replaces *w when worse (ties: the earlier one). The step's code. */
static int worst_row(sqlite3_stmt *s, struct ph_compliance_worst *w) {
  int rc = sqlite3_step(s);
  double ratio = rc == SQLITE_ROW ? sqlite3_column_double(s, 0) : 0;
  int64_t bucket = rc == SQLITE_ROW ? sqlite3_column_int64(s, 4) : 0;
  if (rc == SQLITE_ROW && (!w->bucket_ms || ratio > w->ratio || (ratio == w->ratio && bucket < w->bucket_ms))) {
    w->ratio = ratio;
    w->mean = sqlite3_column_double(s, 1);
    w->converted = sqlite3_column_double(s, 2);
    w->limit = sqlite3_column_double(s, 3);
    w->bucket_ms = bucket;
    snprintf(w->point, sizeof w->point, "%s", (const char *)sqlite3_column_text(s, 5));
  }
  return rc;
}

/* The worst period of one point over [from, to) replaces *w when worse
 * (ties: the earlier one). */
static int worst(const struct ctx *c, const char *text, int64_t from, int64_t to, struct ph_compliance_worst *w) {
  sqlite3_stmt *s = query(c->db, text, c->park, c->ent, c->point, c->metric, from, to);
  if (!s) return db_fail(c->db, c->err, "finding the worst period");
  int rc = worst_row(s, w);
  ph_stmt_release(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(c->db, c->err, "finding the worst period");
}

/* Adds one span row (counts, then the worst period's ratio, mean,
 * converted, limit and bucket; no bucket: none) to p; the worst of the
 * rows' worst, earlier on ties (inv. 4). */
static void span_add(const struct ctx *c, const struct ph_span_row *r, struct ph_compliance_periods *p) {
  p->valid += r->n[0];
  p->with_limit += r->n[1];
  p->within += r->n[2];
  p->exceeded += r->n[3];
  if (!r->has_bucket) return;
  struct ph_compliance_worst *w = &p->worst;
  if (w->bucket_ms && !(r->w[0] > w->ratio || (r->w[0] == w->ratio && r->bucket < w->bucket_ms))) return;
  w->ratio = r->w[0];
  w->mean = r->w[1];
  w->converted = r->w[2];
  w->limit = r->w[3];
  w->bucket_ms = r->bucket;
  snprintf(w->point, sizeof w->point, "%s", c->point);
}

/* Adds the rows of a span statement (cems_agg_sql.h) to p: from the park's
 * grouped read when it answers (cems_spans.h), else the series' own. */
static int span_rows(const struct ctx *c, enum ph_span_kind kind, int64_t series_id, int64_t d0, int64_t d1,
                     struct ph_compliance_periods *p) {
  const struct ph_span_row *rows;
  size_t n;
  int rc = ph_cems_spans_get(c->db, kind, c->metric, c->tz, series_id, d0, d1, &rows, &n, c->err);
  if (rc < 0) return rc;
  for (size_t i = 0; rc && i < n; i++) span_add(c, &rows[i], p);
  if (rc) return 0;
  int64_t t[2 * PH_CEMS_AGG_PARTS];
  ph_cems_agg_parts(c->tz, d0, d1, t);
  sqlite3_stmt *s;
  if (ph_stmt_prepare(c->db, kind == PH_SPAN_AGG ? CEMS_AGG_SQL_HOUR_SPAN : CEMS_AGG_SQL_DAY_SPAN, &s) != SQLITE_OK) {
    ph_stmt_release(s);
    return db_fail(c->db, c->err, "counting aggregated periods");
  }
  sqlite3_bind_int64(s, 1, series_id);
  for (int k = 0; k < 2 * PH_CEMS_AGG_PARTS; k++) sqlite3_bind_int64(s, 2 + k, t[k]);
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    struct ph_span_row r = {.has_bucket = sqlite3_column_type(s, 8) != SQLITE_NULL,
                            .bucket = sqlite3_column_int64(s, 8)};
    for (int k = 0; k < 4; k++) {
      r.n[k] = sqlite3_column_int64(s, k);
      r.w[k] = sqlite3_column_double(s, 4 + k);
    }
    span_add(c, &r, p);
  }
  ph_stmt_release(s);
  return rc == SQLITE_DONE ? 0 : db_fail(c->db, c->err, "counting aggregated periods");
}

/* Counts and worst hour of one series over its whole local days in [d0, d1)
 * from the daily aggregates and their 8-day blocks (cems_agg_sql.h; inv. 4). */
static int agg_hours(const struct ctx *c, int64_t series_id, int64_t d0, int64_t d1, struct ph_compliance_periods *p) {
  return span_rows(c, PH_SPAN_AGG, series_id, d0, d1, p);
}

/* One point's hour figures over [lo, hi): the edge hours from cems_hours,
 * the whole days between from their aggregates (inv. 4). */
static int hour_figures(const struct ctx *c, const struct ph_tz *tz, int64_t series_id, int64_t lo, int64_t hi,
                        struct ph_compliance_periods *p) {
  int64_t d0, d1;
  ph_cems_agg_days_in(tz, lo, hi, &d0, &d1);
  int rc = 0;
  if (d0 > lo && ((rc = counts(c, COMPLIANCE_SQL_HOURS, lo, d0, p)) ||
                  (rc = worst(c, COMPLIANCE_SQL_HOUR_WORST, lo, d0, &p->worst))))
    return rc;
  if (d1 > d0 && (rc = agg_hours(c, series_id, d0, d1, p))) return rc;
  if (hi > d1 && ((rc = counts(c, COMPLIANCE_SQL_HOURS, d1, hi, p)) ||
                  (rc = worst(c, COMPLIANCE_SQL_HOUR_WORST, d1, hi, &p->worst))))
    return rc;
  return 0;
}

static void rates(struct ph_compliance_periods *p) {
  p->rate = p->with_limit ? (double)p->within / (double)p->with_limit : NAN;
  p->availability = p->expected ? (double)p->valid / (double)p->expected : NAN;
}

/* One point (c->ent, c->point set): its periods inside its monitoring
 * period (inv. 3). */
static int point_figures(struct ctx *c, const struct ph_hub_park *pk, const struct ph_tz *tz, int64_t point_id,
                         int64_t series_id, int64_t from, struct ph_compliance *out) {
  const struct ph_hub_ent *e = pk ? ph_hub_config_ent(pk, c->ent) : NULL;
  struct ph_monitoring_window w;
  struct ph_monitoring_hours mh, md;
  int64_t lo, hi, dlo, dhi;
  int rc = ph_monitoring_window(c->db, e, tz, point_id, c->point, &w, c->err);
  if (rc) return rc;
  ph_monitoring_clip(&w, from, out->hours_to_ms, &lo, &hi);
  ph_monitoring_clip(&w, from, out->days_to_ms, &dlo, &dhi);
  if (ph_monitoring_overlaps(&w, from, out->to_ms)) out->nmonitored++; /* even with no hour closed yet */
  if ((rc = ph_monitoring_hours(c->db, tz, c->park, c->ent, point_id, series_id, &w, from, out->hours_to_ms, &mh,
                                c->err)))
    return rc;
  if (out->days_to_ms == out->hours_to_ms) /* a range ending by a closed midnight: the same count, asked once */
    md = mh;
  else if ((rc = ph_monitoring_hours(c->db, tz, c->park, c->ent, point_id, series_id, &w, from, out->days_to_ms,
                                     &md, c->err)))
    return rc;
  out->hours.expected += mh.expected;
  out->hours.stopped += mh.stopped;
  out->hours.transition += mh.transition;
  out->days.expected += md.days_expected;
  out->days.stopped += md.days_stopped;
  /* days that start in the clipped range: from its first local midnight */
  int64_t d0 = ph_tz_day_start(tz, dlo);
  if (d0 < dlo) d0 = ph_tz_next_day(tz, d0);
  if (hi > lo && (rc = hour_figures(c, tz, series_id, lo, hi, &out->hours))) return rc;
  if (dhi <= d0) return 0;
  if (ph_cems_agg_used()) /* the daily means and their 8-day blocks (inv. 4) */
    return span_rows(c, PH_SPAN_DAY, series_id, d0, dhi, &out->days);
  if ((rc = counts(c, COMPLIANCE_SQL_DAYS, d0, dhi, &out->days)) ||
      (rc = worst(c, COMPLIANCE_SQL_DAY_WORST, d0, dhi, &out->days.worst)))
    return rc;
  return 0;
}

int ph_compliance_summary(sqlite3 *db, const struct ph_hub_park *pk, const struct ph_tz *tz, const char *park,
                          const char *ent, const char *point, const char *metric, int64_t from_ms, int64_t to_ms,
                          struct ph_compliance *out, struct ph_err *err) {
  memset(out, 0, sizeof *out);
  out->hours.rate = out->hours.availability = out->days.rate = out->days.availability = NAN;
  if (!db || !tz || !park || !metric || to_ms < from_ms)
    return ph_fail(err, PH_EINVAL, "compliance: needs a database, a zone, a park, a metric and from ≤ to");
  int rc = ph_cems_closed_until(db, &out->closed_ms, err);
  if (rc) return rc;
  /* inv. 2: hours/days that ended by closed_ms */
  out->to_ms = to_ms;
  out->hours_to_ms = out->closed_ms ? ph_tz_hour_start(tz, out->closed_ms) : from_ms;
  out->days_to_ms = out->closed_ms ? ph_tz_day_start(tz, out->closed_ms) : from_ms;
  if (out->hours_to_ms > to_ms) out->hours_to_ms = to_ms;
  if (out->days_to_ms > to_ms) out->days_to_ms = to_ms;
  if (out->hours_to_ms < from_ms) out->hours_to_ms = from_ms;
  if (out->days_to_ms < from_ms) out->days_to_ms = from_ms;

  const struct ph_span_point *pv;
  size_t np;
  rc = ent && !point ? ph_cems_spans_points(db, metric, ent, &pv, &np, err) : 0;
  if (rc < 0) return rc;
  if (rc) { /* the park's listing (cems_spans.h): the same points in the same order */
    for (size_t i = 0; i < np; i++) {
      struct ctx c = {db, park, pv[i].ent, pv[i].point, metric, err, tz};
      out->npoints++;
      int e = point_figures(&c, pk, tz, pv[i].point_id, pv[i].series_id, from_ms, out);
      if (e) return e;
    }
    rates(&out->hours);
    rates(&out->days);
    return 0;
  }
  sqlite3_stmt *s = query(db, ent ? COMPLIANCE_SQL_POINTS_ENT : COMPLIANCE_SQL_POINTS, park, ent, point, metric, 0, 0);
  if (!s) return db_fail(db, err, "listing points");
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    char pent[PH_ID_MAX + 1], ppoint[PH_ID_MAX + 1];
    snprintf(pent, sizeof pent, "%s", (const char *)sqlite3_column_text(s, 1));
    snprintf(ppoint, sizeof ppoint, "%s", (const char *)sqlite3_column_text(s, 2));
    struct ctx c = {db, park, pent, ppoint, metric, err, tz};
    out->npoints++;
    int e = point_figures(&c, pk, tz, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 3), from_ms, out);
    if (e) {
      ph_stmt_release(s);
      return e;
    }
  }
  ph_stmt_release(s);
  if (rc != SQLITE_DONE) return db_fail(db, err, "listing points");
  rates(&out->hours);
  rates(&out->days);
  return 0;
}

static void copy_text(char *dst, size_t cap, sqlite3_stmt *s, int col) {
  const unsigned char *t = sqlite3_column_text(s, col);
  snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

int ph_compliance_exceedances(sqlite3 *db, const char *park, const char *ent, const char *metric, int64_t from_ms,
                              int64_t to_ms, int (*fn)(void *u, const struct ph_exceedance *e), void *u,
                              struct ph_err *err) {
  if (!db || !park || !fn) return ph_fail(err, PH_EINVAL, "compliance: exceedances need a database, a park and fn");
  sqlite3_stmt *s;
  if (ph_stmt_prepare(db, COMPLIANCE_SQL_EXCEEDANCES, &s) != SQLITE_OK) {
    ph_stmt_release(s);
    return db_fail(db, err, "listing exceedances");
  }
  sqlite3_bind_text(s, 1, park, -1, SQLITE_STATIC);
  bind_text_or_null(s, 2, ent);
  bind_text_or_null(s, 3, metric);
  sqlite3_bind_int64(s, 4, from_ms);
  sqlite3_bind_int64(s, 5, to_ms);
  int rc, stop = 0;
  while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    struct ph_exceedance e = {.id = sqlite3_column_int64(s, 0)};
    copy_text(e.park, sizeof e.park, s, 1);
    copy_text(e.ent, sizeof e.ent, s, 2);
    copy_text(e.point, sizeof e.point, s, 3);
    copy_text(e.metric, sizeof e.metric, s, 4);
    e.period = sqlite3_column_int(s, 5);
    e.bucket_ms = sqlite3_column_int64(s, 6);
    e.mean = sqlite3_column_double(s, 7);
    e.converted = sqlite3_column_double(s, 8);
    e.ratio = sqlite3_column_type(s, 9) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 9);
    e.limit = sqlite3_column_double(s, 10);
    copy_text(e.standard, sizeof e.standard, s, 11);
    e.recorded_ms = sqlite3_column_int64(s, 12);
    stop = fn(u, &e);
  }
  if (!stop && rc != SQLITE_DONE) {
    rc = db_fail(db, err, "listing exceedances");
    ph_stmt_release(s);
    return rc;
  }
  ph_stmt_release(s);
  return stop;
}

const char *ph_compliance_period_why(int nmonitored, int64_t expected, int64_t stopped, char *buf, size_t cap) {
  if (nmonitored == 0) snprintf(buf, cap, "%s", PH_NA(NOT_MONITORED_IN_PERIOD));
  else if (expected == 0 && stopped > 0) snprintf(buf, cap, "%s", PH_NA(STOPPED_EVERY_HOUR));
  else if (expected == 0) snprintf(buf, cap, "%s", PH_NA(NO_CLOSED_HOUR));
  else return NULL;
  return buf;
}

const char *ph_compliance_rate_why(const struct ph_compliance_periods *p, int nmonitored, bool hours, char *buf,
                                   size_t cap) {
  if (p->with_limit > 0) return NULL;
  if (p->valid == 0 && ph_compliance_period_why(nmonitored, p->expected, p->stopped, buf, cap)) return buf;
  if (p->valid == 0) snprintf(buf, cap, "%s", hours ? PH_NA(NO_VALID_HOURLY_MEAN) : PH_NA(NO_VALID_DAILY_MEAN));
  else snprintf(buf, cap, "%s", hours ? PH_NA(NO_LIMIT_HOURLY_MEANS) : PH_NA(NO_LIMIT_DAILY_MEANS));
  return buf;
}
