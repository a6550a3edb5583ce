/* emission_mass.c — pollutant mass from CEMS hourly means (emission_mass.h).
 *
 * Callers: the report and the query API (their own read connections).
 * Threads: the caller's; no state between calls.
 *
 * Invariants:
 *  1. a point-hour contributes C × Q × 1 h × factor only when both its
 *     concentration and its flow hour are valid; otherwise it is a gap,
 *     counted, never a zero.
 *  2. rows tile [from, to) without overlap; the total equals the sum of
 *     the rows (mass, expected, used, stopped and gap hours).
 *  3. per point, only hours inside its monitoring period count, and a
 *     stopped hour without a valid concentration is neither expected nor a
 *     gap (monitoring.h): it released nothing.
 *  4. rows of a day or longer read their whole local days from the daily
 *     aggregates (cems_agg_days: hours used and Σ C × Q of each day) and
 *     only the hours at the range's edges from cems_hours. The hours used
 *     are the same; the mass is the same sum grouped by day, so it may
 *     differ from the hour-by-hour sum in the last bits of a double.
 *     Rows of a month or longer read whole 8-day blocks of days from
 *     cems_agg_blocks and whole month cells from cems_agg_months (the same
 *     sums grouped by block and by month; ph_cems_agg_parts).
 */
#include "domain/emission_mass.h"
#include "parkhub/na_reasons.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cems_agg_sql.h"
#include "cems_sql.h"
#include "domain/cems_agg.h"
#include "parkhub/alloc.h"
#include "parkhub/timefmt.h"
#include "domain/cems.h"
#include "domain/cems_spans.h"
#include "domain/monitoring.h"
#include "domain/stmt_cache.h"

/* Mass unit and factor (concentration × Nm³ → that unit) of a concentration unit. */
static int unit_of(const char *conc_unit, const char **unit, double *factor) {
  static const struct {
    const char *conc, *unit;
    double factor;
  } units[] = {
      {"mg/Nm3", "kg", 1e-6},      {"ug/Nm3", "kg", 1e-9},   {"µg/Nm3", "kg", 1e-9},
      {"ng/Nm3", "kg", 1e-12},     {"ng TEQ/Nm3", "g TEQ", 1e-9},
  };
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    if (strcmp(conc_unit, units[i].conc) == 0) {
      *unit = units[i].unit;
      *factor = units[i].factor;
      return 0;
    }
  return PH_EINVAL;
}

/* First local boundary of the kind `by` after t. */
static int64_t next_boundary(const struct ph_tz *tz, enum ph_mass_by by, int64_t t) {
  if (by == PH_MASS_BY_HOUR) return ph_cems_next_hour(tz, ph_tz_hour_start(tz, t));
  int64_t d = ph_tz_next_day(tz, ph_tz_day_start(tz, t));
  if (by == PH_MASS_BY_DAY) return d;
  /* the local midnight of the next 1st of a month (of January), computed
   * from the civil date, not by walking a day at a time — that walk was 5 %
   * of a park-month summary (perf, bench/query); ph_tz_date_start also
   * holds where a zone skipped a date (Pacific/Apia 2011-12-30), which a
   * count of days × 24 h does not */
  int y;
  unsigned m, dd;
  ph_tz_local_date(tz, d, &y, &m, &dd, NULL);
  if (dd == 1 && (by == PH_MASS_BY_MONTH || m == 1)) return d;
  int ny = by == PH_MASS_BY_YEAR || m == 12 ? y + 1 : y;
  unsigned nm = by == PH_MASS_BY_YEAR || m == 12 ? 1 : m + 1;
  return ph_tz_date_start(tz, ph_days_from_civil(ny, nm, 1));
}

static void finish(struct ph_emission_mass_row *r, bool kg) {
  r->gap_hours = r->hours_expected - r->hours_used;
  r->gap_share = r->hours_expected ? (double)r->gap_hours / (double)r->hours_expected : NAN;
  r->mass_t = kg ? r->mass / 1000.0 : NAN;
}

static void bind_text_or_null(sqlite3_stmt *s, int i, const char *v) {
  if (v)
    sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(s, i);
}

static int make_rows(struct ph_emission_mass *out, const struct ph_tz *tz, enum ph_mass_by by, int64_t from,
                     int64_t to, struct ph_err *err) {
  size_t cap = 0;
  for (int64_t t = from; t < to;) {
    int64_t end = next_boundary(tz, by, t);
    if (end > to) end = to;
    if (out->nrows == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      struct ph_emission_mass_row *n = ph_realloc(out->rows, ncap * sizeof *n);
      if (!n) return ph_fail(err, PH_ENOMEM, "emission mass: out of memory");
      out->rows = n;
      cap = ncap;
    }
    out->rows[out->nrows++] = (struct ph_emission_mass_row){.start_ms = t, .end_ms = end};
    t = end;
  }
  return 0;
}

/* The row holding hour h (rows are in time order; *i only moves forward). */
static struct ph_emission_mass_row *row_at(struct ph_emission_mass *out, size_t *i, int64_t h) {
  while (*i < out->nrows && out->rows[*i].end_ms <= h) ++*i;
  return *i < out->nrows && out->rows[*i].start_ms <= h ? &out->rows[*i] : NULL;
}

struct stop_walk {
  struct ph_emission_mass *out;
  size_t i;
};

static int one_stopped(void *u, int64_t hour_ms) {
  struct stop_walk *w = u;
  struct ph_emission_mass_row *r = row_at(w->out, &w->i, hour_ms);
  if (r) r->hours_stopped++, r->hours_expected--;
  return 0;
}

struct pt {
  sqlite3 *db;
  const struct ph_tz *tz;
  const char *park, *metric;
  double factor;
  enum ph_mass_by by;
  struct ph_err *err;
};

/* The point's hours in [from, to) with a valid C and Q: mass and hours used (inv. 1). */
static int mass_hours(const struct pt *c, int64_t point_id, int64_t from, int64_t to, struct ph_emission_mass *out,
                      size_t *i) {
  if (to <= from) return 0;
  sqlite3_stmt *s;
  if (ph_stmt_prepare(c->db, MASS_SQL_HOURS, &s) != SQLITE_OK) {
    ph_stmt_release(s);
    return ph_fail(c->err, PH_EDB, "emission mass: %s", sqlite3_errmsg(c->db));
  }
  sqlite3_bind_int64(s, 1, point_id);
  sqlite3_bind_text(s, 2, c->metric, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 3, PH_CEMS_FLOW, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 4, from);
  sqlite3_bind_int64(s, 5, to);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    struct ph_emission_mass_row *r = row_at(out, i, sqlite3_column_int64(s, 0));
    if (!r) break;
    r->mass += sqlite3_column_double(s, 1) * c->factor;
    r->hours_used++;
  }
  int done = rc == SQLITE_DONE || rc == SQLITE_ROW;
  ph_stmt_release(s);
  return done ? 0 : ph_fail(c->err, PH_EDB, "emission mass: reading hours: %s", sqlite3_errmsg(c->db));
}

/* Hours used and mass of whole local days [d0, d1) into row r, from the
 * daily aggregates and their 8-day blocks (cems_agg_sql.h; inv. 4): the
 * park's grouped read when it answers (cems_spans.h), else the series' own. */
static int mass_span(const struct pt *c, int64_t series_id, int64_t d0, int64_t d1,
                     struct ph_emission_mass_row *r) {
  const struct ph_span_row *rows;
  size_t n;
  int rc = ph_cems_spans_get(c->db, PH_SPAN_AGG, c->metric, c->tz, series_id, d0, d1, &rows, &n, c->err);
  if (rc < 0) return rc;
  for (size_t i = 0; rc && i < n; i++) { /* the park's grouped read: the same rows in the same order */
    r->mass += rows[i].cq * c->factor;
    r->hours_used += rows[i].used;
  }
  if (rc) return 0;
  int64_t t[2 * PH_CEMS_AGG_PARTS];
  ph_cems_agg_parts(c->tz, d0, d1, t);
  sqlite3_stmt *s;
  if (ph_stmt_prepare(c->db, CEMS_AGG_SQL_MASS_SPAN, &s) != SQLITE_OK) {
    ph_stmt_release(s);
    return ph_fail(c->err, PH_EDB, "emission mass: %s", sqlite3_errmsg(c->db));
  }
  sqlite3_bind_int64(s, 1, series_id);
  for (int k = 0; k < 2 * PH_CEMS_AGG_PARTS; k++) sqlite3_bind_int64(s, 2 + k, t[k]);
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    r->mass += sqlite3_column_double(s, 1) * c->factor;
    r->hours_used += sqlite3_column_int64(s, 0);
  }
  ph_stmt_release(s);
  return rc == SQLITE_DONE ? 0 : ph_fail(c->err, PH_EDB, "emission mass: reading days: %s", sqlite3_errmsg(c->db));
}

/* Rows of a month or longer: each row's share of [d0, d1) (whole days, row
 * boundaries are local midnights) through mass_span, blocks included. */
static int mass_rows(const struct pt *c, int64_t series_id, int64_t d0, int64_t d1, struct ph_emission_mass *out) {
  for (size_t k = 0; k < out->nrows; k++) {
    struct ph_emission_mass_row *r = &out->rows[k];
    int64_t a = r->start_ms > d0 ? r->start_ms : d0, b = r->end_ms < d1 ? r->end_ms : d1;
    int rc = b > a ? mass_span(c, series_id, a, b, r) : 0;
    if (rc) return rc;
  }
  return 0;
}

/* The same over whole local days [d0, d1), from their aggregates (inv. 4). */
static int mass_days(const struct pt *c, int64_t series_id, int64_t d0, int64_t d1, struct ph_emission_mass *out,
                     size_t *i) {
  if (d1 <= d0) return 0;
  if (c->by != PH_MASS_BY_DAY) return mass_rows(c, series_id, d0, d1, out); /* a row holds whole blocks */
  sqlite3_stmt *s;
  if (ph_stmt_prepare(c->db, CEMS_AGG_SQL_MASS, &s) != SQLITE_OK) {
    ph_stmt_release(s);
    return ph_fail(c->err, PH_EDB, "emission mass: %s", sqlite3_errmsg(c->db));
  }
  sqlite3_bind_int64(s, 1, series_id);
  sqlite3_bind_int64(s, 2, d0);
  sqlite3_bind_int64(s, 3, d1);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    struct ph_emission_mass_row *r = row_at(out, i, sqlite3_column_int64(s, 0));
    if (!r) break;
    r->mass += sqlite3_column_double(s, 2) * c->factor;
    r->hours_used += sqlite3_column_int64(s, 1);
  }
  int done = rc == SQLITE_DONE || rc == SQLITE_ROW;
  ph_stmt_release(s);
  return done ? 0 : ph_fail(c->err, PH_EDB, "emission mass: reading days: %s", sqlite3_errmsg(c->db));
}

/* One point: its expected, stopped and used hours inside its monitoring
 * period, and its mass (inv. 1, 3). */
static int point_mass(const struct pt *c, const struct ph_hub_ent *e, int64_t point_id, const char *ent,
                      const char *point, int64_t series_id, int64_t from, int64_t hours_to,
                      struct ph_emission_mass *out) {
  struct ph_monitoring_window w;
  int64_t lo, hi;
  int rc = ph_monitoring_window(c->db, e, c->tz, point_id, point, &w, c->err);
  if (rc) return rc;
  if (ph_monitoring_overlaps(&w, from, out->total.end_ms)) out->nmonitored++; /* even with no hour closed yet */
  ph_monitoring_clip(&w, from, hours_to, &lo, &hi);
  if (hi <= lo) return 0;
  for (size_t i = 0; i < out->nrows; i++) {
    int64_t a = out->rows[i].start_ms > lo ? out->rows[i].start_ms : lo;
    int64_t b = out->rows[i].end_ms < hi ? out->rows[i].end_ms : hi;
    if (b > a) out->rows[i].hours_expected += ph_cems_count_hours(c->tz, a, b);
  }
  struct stop_walk sw = {out, 0};
  if ((rc = ph_monitoring_stopped_each(c->db, c->park, ent, point_id, series_id, lo, hi, one_stopped, &sw, c->err)))
    return rc;
  int64_t d0 = hi, d1 = hi; /* rows by hour are not whole days: every hour read */
  if (c->by != PH_MASS_BY_HOUR) ph_cems_agg_days_in(c->tz, lo, hi, &d0, &d1);
  size_t i = 0; /* the edges and the days in time order: row_at only moves forward */
  if ((rc = mass_hours(c, point_id, lo, d0, out, &i)) || (rc = mass_days(c, series_id, d0, d1, out, &i)))
    return rc;
  return mass_hours(c, point_id, d1, hi, out, &i);
}

static int all_points(const struct pt *c, const struct ph_hub_park *pk, const char *ent, int64_t from,
                      int64_t hours_to, struct ph_emission_mass *out) {
  const struct ph_span_point *pv;
  size_t np;
  int rc = ph_cems_spans_points(c->db, c->metric, ent, &pv, &np, c->err);
  if (rc < 0) return rc;
  for (size_t i = 0; rc && i < np; i++) { /* the park's listing (cems_spans.h): the same points in order */
    out->npoints++;
    int e = point_mass(c, pk ? ph_hub_config_ent(pk, pv[i].ent) : NULL, pv[i].point_id, pv[i].ent, pv[i].point,
                       pv[i].series_id, from, hours_to, out);
    if (e) return e;
  }
  if (rc) return 0;
  sqlite3_stmt *s;
  if (ph_stmt_prepare(c->db, ent ? MASS_SQL_POINTS_ENT : MASS_SQL_POINTS, &s) != SQLITE_OK) {
    ph_stmt_release(s);
    return ph_fail(c->err, PH_EDB, "emission mass: %s", sqlite3_errmsg(c->db));
  }
  sqlite3_bind_text(s, 1, c->park, -1, SQLITE_STATIC);
  bind_text_or_null(s, 2, ent);
  sqlite3_bind_text(s, 3, c->metric, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    char pent[PH_ID_MAX + 1], point[PH_ID_MAX + 1];
    snprintf(pent, sizeof pent, "%s", (const char *)sqlite3_column_text(s, 1));
    snprintf(point, sizeof point, "%s", (const char *)sqlite3_column_text(s, 2));
    out->npoints++;
    int e = point_mass(c, pk ? ph_hub_config_ent(pk, pent) : NULL, sqlite3_column_int64(s, 0), pent, point,
                       sqlite3_column_int64(s, 3), from, hours_to, out);
    if (e) {
      ph_stmt_release(s);
      return e;
    }
  }
  ph_stmt_release(s);
  return rc == SQLITE_DONE ? 0 : ph_fail(c->err, PH_EDB, "emission mass: listing points: %s", sqlite3_errmsg(c->db));
}

int ph_emission_mass_compute(sqlite3 *db, const struct ph_hub_park *pk, const struct ph_tz *tz,
                             const struct ph_catalog *cat, const char *park, const char *ent, const char *metric,
                             int64_t from_ms, int64_t to_ms, enum ph_mass_by by, struct ph_emission_mass *out,
                             struct ph_err *err) {
  memset(out, 0, sizeof *out);
  if (!db || !tz || !cat || !park || !metric || to_ms < from_ms || (unsigned)by > PH_MASS_BY_YEAR)
    return ph_fail(err, PH_EINVAL,
                   "emission mass: needs a database, a zone, a catalogue, a park, a metric and from ≤ to");
  int idx = ph_catalog_find(cat, metric, strlen(metric));
  const char *unit;
  double factor;
  if (idx < 0 || unit_of(ph_catalog_at(cat, (size_t)idx)->unit, &unit, &factor))
    return ph_fail(err, PH_EINVAL, "emission mass: '%.64s' is not a concentration in the catalogue", metric);
  snprintf(out->metric, sizeof out->metric, "%s", metric);
  snprintf(out->unit, sizeof out->unit, "%s", unit);
  bool kg = strcmp(unit, "kg") == 0;

  int rc = ph_cems_closed_until(db, &out->closed_ms, err);
  if (rc) return rc;
  int64_t hours_to = out->closed_ms ? ph_tz_hour_start(tz, out->closed_ms) : from_ms;
  if (hours_to > to_ms) hours_to = to_ms;
  if (hours_to < from_ms) hours_to = from_ms;

  if ((rc = make_rows(out, tz, by, from_ms, to_ms, err))) return rc;
  out->total.end_ms = to_ms; /* point_mass reads the range's end; total is set again below */
  struct pt c = {db, tz, park, metric, factor, by, err};
  if ((rc = all_points(&c, pk, ent, from_ms, hours_to, out))) return rc;

  out->total = (struct ph_emission_mass_row){.start_ms = from_ms, .end_ms = to_ms};
  for (size_t i = 0; i < out->nrows; i++) { /* inv. 2 */
    finish(&out->rows[i], kg);
    out->total.mass += out->rows[i].mass;
    out->total.hours_expected += out->rows[i].hours_expected;
    out->total.hours_used += out->rows[i].hours_used;
    out->total.hours_stopped += out->rows[i].hours_stopped;
  }
  finish(&out->total, kg);
  return 0;
}

void ph_emission_mass_fini(struct ph_emission_mass *m) {
  if (!m) return;
  ph_free(m->rows);
  m->rows = NULL;
  m->nrows = 0;
}

const char *ph_emission_mass_why(const struct ph_emission_mass *m) {
  if (m->total.hours_used > 0) return NULL;
  if (m->npoints == 0) return PH_NA(NOT_MEASURED);
  if (m->nmonitored == 0) return PH_NA(NOT_MONITORED_IN_PERIOD);
  if (m->total.hours_expected == 0 && m->total.hours_stopped > 0) return NULL;
  if (m->total.hours_expected == 0) return PH_NA(NO_CLOSED_HOUR);
  return PH_NA(NO_HOUR_CONC_AND_FLOW);
}
