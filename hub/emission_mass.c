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
 *     the rows (mass, expected, used and gap hours).
 */
#include "parkhub/emission_mass.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cems_sql.h"
#include "parkhub/alloc.h"
#include "parkhub/cems.h"

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
  for (int i = 0; i < 400; i++, d = ph_tz_next_day(tz, d)) {
    unsigned m, dd;
    ph_tz_local_date(tz, d, NULL, &m, &dd, NULL);
    if (dd == 1 && (by == PH_MASS_BY_MONTH || m == 1)) return d;
  }
  return d;
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

static sqlite3_stmt *query(sqlite3 *db, const char *text, const char *park, const char *ent, const char *metric,
                           int64_t from, int64_t to) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(db, text, -1, &s, NULL) != SQLITE_OK) {
    sqlite3_finalize(s);
    return NULL;
  }
  sqlite3_bind_text(s, 1, park, -1, SQLITE_STATIC);
  bind_text_or_null(s, 2, ent);
  sqlite3_bind_text(s, 3, metric, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 4, from);
  sqlite3_bind_int64(s, 5, to);
  sqlite3_bind_text(s, 6, PH_CEMS_FLOW, -1, SQLITE_STATIC);
  return s;
}

static int make_rows(struct ph_emission_mass *out, const struct ph_tz *tz, enum ph_mass_by by, int64_t from,
                     int64_t to, int64_t hours_to, struct ph_err *err) {
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
    struct ph_emission_mass_row *r = &out->rows[out->nrows++];
    *r = (struct ph_emission_mass_row){.start_ms = t, .end_ms = end};
    if (t < hours_to) r->hours_expected = out->npoints * ph_cems_count_hours(tz, t, end < hours_to ? end : hours_to);
    t = end;
  }
  return 0;
}

int ph_emission_mass_compute(sqlite3 *db, const struct ph_tz *tz, const struct ph_catalog *cat, const char *park,
                             const char *ent, const char *metric, int64_t from_ms, int64_t to_ms, enum ph_mass_by by,
                             struct ph_emission_mass *out, struct ph_err *err) {
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

  sqlite3_stmt *s = query(db, MASS_SQL_NPOINTS, park, ent, metric, 0, 0);
  if (!s) return ph_fail(err, PH_EDB, "emission mass: %s", sqlite3_errmsg(db));
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) out->npoints = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  if (rc != SQLITE_ROW) return ph_fail(err, PH_EDB, "emission mass: counting points: %s", sqlite3_errmsg(db));

  if ((rc = make_rows(out, tz, by, from_ms, to_ms, hours_to, err))) return rc;

  /* inv. 1: only hours with both a valid C and a valid Q come back */
  if (!(s = query(db, MASS_SQL_HOURS, park, ent, metric, from_ms, hours_to)))
    return ph_fail(err, PH_EDB, "emission mass: %s", sqlite3_errmsg(db));
  size_t i = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    int64_t h = sqlite3_column_int64(s, 0);
    while (i < out->nrows && out->rows[i].end_ms <= h) i++;
    if (i == out->nrows) break;
    out->rows[i].mass += sqlite3_column_double(s, 1) * factor;
    out->rows[i].hours_used++;
  }
  int done = rc == SQLITE_DONE || rc == SQLITE_ROW;
  sqlite3_finalize(s);
  if (!done) return ph_fail(err, PH_EDB, "emission mass: reading hours: %s", sqlite3_errmsg(db));

  out->total = (struct ph_emission_mass_row){.start_ms = from_ms, .end_ms = to_ms};
  for (i = 0; i < out->nrows; i++) { /* inv. 2 */
    finish(&out->rows[i], kg);
    out->total.mass += out->rows[i].mass;
    out->total.hours_expected += out->rows[i].hours_expected;
    out->total.hours_used += out->rows[i].hours_used;
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
