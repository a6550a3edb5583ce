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
 *     expected, per point (expected = periods × points).
 */
#include "parkhub/compliance.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cems_sql.h"
#include "parkhub/cems.h"

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
  if (sqlite3_prepare_v2(db, text, -1, &s, NULL) != SQLITE_OK) {
    sqlite3_finalize(s);
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
};

static int counts(const struct ctx *c, const char *text, int64_t from, int64_t to, struct ph_compliance_periods *p) {
  sqlite3_stmt *s = query(c->db, text, c->park, c->ent, c->point, c->metric, from, to);
  if (!s) return db_fail(c->db, c->err, "counting periods");
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    p->valid = sqlite3_column_int64(s, 0);
    p->with_limit = sqlite3_column_int64(s, 1);
    p->within = sqlite3_column_int64(s, 2);
    p->exceeded = sqlite3_column_int64(s, 3);
  }
  sqlite3_finalize(s);
  return rc == SQLITE_ROW ? 0 : db_fail(c->db, c->err, "counting periods");
}

static int worst(const struct ctx *c, const char *text, int64_t from, int64_t to, struct ph_compliance_worst *w) {
  sqlite3_stmt *s = query(c->db, text, c->park, c->ent, c->point, c->metric, from, to);
  if (!s) return db_fail(c->db, c->err, "finding the worst period");
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    w->ratio = sqlite3_column_double(s, 0);
    w->mean = sqlite3_column_double(s, 1);
    w->converted = sqlite3_column_double(s, 2);
    w->limit = sqlite3_column_double(s, 3);
    w->bucket_ms = sqlite3_column_int64(s, 4);
    snprintf(w->point, sizeof w->point, "%s", (const char *)sqlite3_column_text(s, 5));
  }
  sqlite3_finalize(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(c->db, c->err, "finding the worst period");
}

static void rates(struct ph_compliance_periods *p) {
  p->rate = p->with_limit ? (double)p->within / (double)p->with_limit : NAN;
  p->availability = p->expected ? (double)p->valid / (double)p->expected : NAN;
}

int ph_compliance_summary(sqlite3 *db, const struct ph_tz *tz, const char *park, const char *ent, const char *point,
                          const char *metric, int64_t from_ms, int64_t to_ms, struct ph_compliance *out,
                          struct ph_err *err) {
  memset(out, 0, sizeof *out);
  out->hours.rate = out->hours.availability = out->days.rate = out->days.availability = NAN;
  if (!db || !tz || !park || !metric || to_ms < from_ms)
    return ph_fail(err, PH_EINVAL, "compliance: needs a database, a zone, a park, a metric and from ≤ to");
  int rc = ph_cems_closed_until(db, &out->closed_ms, err);
  if (rc) return rc;
  /* inv. 2: hours/days that ended by closed_ms */
  out->hours_to_ms = out->closed_ms ? ph_tz_hour_start(tz, out->closed_ms) : from_ms;
  out->days_to_ms = out->closed_ms ? ph_tz_day_start(tz, out->closed_ms) : from_ms;
  if (out->hours_to_ms > to_ms) out->hours_to_ms = to_ms;
  if (out->days_to_ms > to_ms) out->days_to_ms = to_ms;
  if (out->hours_to_ms < from_ms) out->hours_to_ms = from_ms;
  if (out->days_to_ms < from_ms) out->days_to_ms = from_ms;

  struct ctx c = {db, park, ent, point, metric, err};
  sqlite3_stmt *s = query(db, COMPLIANCE_SQL_NPOINTS, park, ent, point, metric, 0, 0);
  if (!s) return db_fail(db, err, "counting points");
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) out->npoints = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  if (rc != SQLITE_ROW) return db_fail(db, err, "counting points");

  out->hours.expected = out->npoints * ph_cems_count_hours(tz, from_ms, out->hours_to_ms);
  out->days.expected = out->npoints * ph_cems_count_days(tz, from_ms, out->days_to_ms);
  if ((rc = counts(&c, COMPLIANCE_SQL_HOURS, from_ms, out->hours_to_ms, &out->hours)) ||
      (rc = worst(&c, COMPLIANCE_SQL_HOUR_WORST, from_ms, out->hours_to_ms, &out->hours.worst)) ||
      (rc = counts(&c, COMPLIANCE_SQL_DAYS, from_ms, out->days_to_ms, &out->days)) ||
      (rc = worst(&c, COMPLIANCE_SQL_DAY_WORST, from_ms, out->days_to_ms, &out->days.worst)))
    return rc;
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
  if (sqlite3_prepare_v2(db, COMPLIANCE_SQL_EXCEEDANCES, -1, &s, NULL) != SQLITE_OK) {
    sqlite3_finalize(s);
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
    sqlite3_finalize(s);
    return rc;
  }
  sqlite3_finalize(s);
  return stop;
}
