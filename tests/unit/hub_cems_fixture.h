/* hub_cems_fixture.h — shared fixture of test_hub_cems.c, test_hub_compliance.c
 * and test_hub_mass.c: an in-memory hub database, park p1 in Asia/Shanghai
 * (UTC+8, no DST), the built-in catalogue and GB 31574-2015, and helpers
 * that write rollup rows the way the writer does (minute rows, then the hour
 * row through ph_store_rollup's upsert, which is what marks the hour for
 * the CEMS update).
 *
 * Enterprises (all Cu):
 *   cu-old      existing plant: GB 31574 applies from 2017-01-01 (SO2 150)
 *   cu-special  existing plant in a designated area: special limits (SO2 100)
 *   cu-new      new plant since 2016-06-01: existing before, new after (new: from 2015-07-01)
 * Point intervals (every enterprise): s1 1 s, s5 5 s (default), min 60 s,
 * hr / stack-1 / stack-2 3600 s (hourly data), scale (weighbridge).
 */
#ifndef HUB_CEMS_FIXTURE_H
#define HUB_CEMS_FIXTURE_H

#include <criterion/criterion.h>
#include <math.h>
#include <sqlite3.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "parkhub/catalog.h"
#include "domain/cems.h"
#include "config/hub_config.h"
#include "parkhub/limits.h"
#include "store/store.h"
#include "parkhub/timefmt.h"
#include "parkhub/tz.h"

#define FX_HELPER static __attribute__((unused)) /* not every test file uses every helper */

static struct ph_store *st;
static sqlite3 *db;
static struct ph_tz *tz;
static struct ph_tz *tzs[1];
static struct ph_limits *lim;
static struct ph_catalog *cat;
static struct ph_hub_config cfg;

static void ent_init(struct ph_hub_ent *e, const char *id, int cls, bool special, const char *since) {
  memset(e, 0, sizeof *e);
  strcpy(e->id, id);
  e->sector = PH_SECTOR_CU;
  e->plant_class = cls;
  e->special_limits = special;
  if (since) strcpy(e->class_since, since);
  e->expected_interval_s = 5;
  strcpy(e->standard, "gb31574-2015");
  static const struct ph_point_interval pis[] = {{"s1", 1}, {"min", 60}, {"hr", 3600}, {"stack-1", 3600},
                                                 {"stack-2", 3600}};
  for (size_t i = 0; i < sizeof pis / sizeof pis[0]; i++) e->point_intervals[e->npoint_intervals++] = pis[i];
  strcpy(e->agents[e->nagents++], "gw");
}

static void fx_setup(void) {
  struct ph_err err = {0};
  cr_assert_eq(ph_store_open(":memory:", &st, &err), 0, "%s", err.msg);
  db = ph_store_db(st);
  cr_assert_eq(ph_tz_load("Asia/Shanghai", &tz, &err), 0, "%s", err.msg);
  tzs[0] = tz;
  cr_assert_eq(ph_limits_load_builtin(&lim, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_catalog_load_builtin(&cat, &err), 0, "%s", err.msg);
  memset(&cfg, 0, sizeof cfg);
  cfg.nparks = 1;
  strcpy(cfg.parks[0].id, "p1");
  strcpy(cfg.parks[0].tz, "Asia/Shanghai");
  cfg.parks[0].ents = ph_calloc(3, sizeof *cfg.parks[0].ents);
  ent_init(&cfg.parks[0].ents[0], "cu-old", PH_CLASS_EXISTING, false, NULL);
  ent_init(&cfg.parks[0].ents[1], "cu-special", PH_CLASS_EXISTING, true, NULL);
  ent_init(&cfg.parks[0].ents[2], "cu-new", PH_CLASS_NEW, false, "2016-06-01");
  cfg.parks[0].nents = 3;
}

static void fx_teardown(void) {
  ph_hub_config_fini(&cfg);
  ph_catalog_free(cat);
  ph_limits_free(lim);
  ph_tz_free(tz);
  ph_store_close(st);
}

/* UTC ms of a local (UTC+8) time in the park. */
static int64_t local(int y, unsigned mo, unsigned d, int h, int mi) {
  return ph_days_from_civil(y, mo, d) * 86400000LL + (int64_t)h * 3600000 + (int64_t)mi * 60000 - 8 * 3600000LL;
}
#define H (3600000LL)
#define MIN (60000LL)

FX_HELPER void sql(const char *text) {
  char *msg = NULL;
  cr_assert_eq(sqlite3_exec(db, text, NULL, NULL, &msg), SQLITE_OK, "%s: %s", text, msg ? msg : "");
}

FX_HELPER int64_t point_id(const char *ent, const char *point) {
  int64_t id;
  cr_assert_eq(ph_store_point_id(st, "p1", ent, point, &id), 0);
  return id;
}

/* series of (ent, point, metric), created with plain SQL */
static int64_t series(const char *ent, const char *point, const char *metric) {
  sqlite3_stmt *s;
  cr_assert_eq(sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO points(park, ent, point) VALUES('p1', ?1, ?2)", -1,
                                  &s, NULL), SQLITE_OK);
  sqlite3_bind_text(s, 1, ent, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, point, -1, SQLITE_STATIC);
  cr_assert_eq(sqlite3_step(s), SQLITE_DONE);
  sqlite3_finalize(s);
  cr_assert_eq(sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO metrics(code) VALUES(?1)", -1, &s, NULL), SQLITE_OK);
  sqlite3_bind_text(s, 1, metric, -1, SQLITE_STATIC);
  cr_assert_eq(sqlite3_step(s), SQLITE_DONE);
  sqlite3_finalize(s);
  cr_assert_eq(sqlite3_prepare_v2(db,
                                  "INSERT OR IGNORE INTO series(point_id, metric_id) SELECT p.id, m.id FROM points p, "
                                  "metrics m WHERE p.park = 'p1' AND p.ent = ?1 AND p.point = ?2 AND m.code = ?3",
                                  -1, &s, NULL), SQLITE_OK);
  sqlite3_bind_text(s, 1, ent, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, point, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 3, metric, -1, SQLITE_STATIC);
  cr_assert_eq(sqlite3_step(s), SQLITE_DONE);
  sqlite3_finalize(s);
  cr_assert_eq(sqlite3_prepare_v2(db,
                                  "SELECT s.id FROM series s JOIN points p ON p.id = s.point_id JOIN metrics m"
                                  " ON m.id = s.metric_id WHERE p.park = 'p1' AND p.ent = ?1 AND p.point = ?2"
                                  " AND m.code = ?3", -1, &s, NULL), SQLITE_OK);
  sqlite3_bind_text(s, 1, ent, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, point, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 3, metric, -1, SQLITE_STATIC);
  cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
  int64_t id = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return id;
}

/* One minute rollup row, inserted with plain SQL: n values of which n_valid
 * flagged N; the N values average `valid_mean`, the others `other`. */
static void minute_row(int64_t sid, int64_t t, int n, int n_valid, double valid_mean, double other, double expected) {
  sqlite3_stmt *s;
  static const char q[] = "INSERT INTO rollups(series_id, period, bucket_ms, n, n_valid, sum, sum_valid, min, max,"
                         " first_ts, first, last_ts, last, expected)"
                         " VALUES(?1, 0, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?2, ?7, ?2, ?8, ?9)";
  cr_assert_eq(sqlite3_prepare_v2(db, q, -1, &s, NULL), SQLITE_OK);
  double sv = n_valid * valid_mean, sum = sv + (n - n_valid) * other;
  sqlite3_bind_int64(s, 1, sid);
  sqlite3_bind_int64(s, 2, t);
  sqlite3_bind_int(s, 3, n);
  sqlite3_bind_int(s, 4, n_valid);
  sqlite3_bind_double(s, 5, sum);
  sqlite3_bind_double(s, 6, sv);
  sqlite3_bind_double(s, 7, fmin(valid_mean, other));
  sqlite3_bind_double(s, 8, fmax(valid_mean, other));
  sqlite3_bind_double(s, 9, expected);
  cr_assert_eq(sqlite3_step(s), SQLITE_DONE, "%s", sqlite3_errmsg(db));
  sqlite3_finalize(s);
}

/* Merges into the hour row like the writer does (upsert: insert or update). */
static void hour_row(int64_t sid, int64_t hour, int n, int n_valid, double sum, double sum_valid, double expected) {
  struct ph_rollup_agg a = {.n = n, .n_valid = n_valid, .sum = sum, .sum_valid = sum_valid, .min = 0, .max = 0,
                            .first_ts = hour, .first = 0, .last_ts = hour, .last = 0};
  cr_assert_eq(ph_store_rollup(st, sid, 1, hour, &a, expected), 0);
}

/* Minutes [m0, m0 + count) of the hour of a point whose rate gives
 * `expected` values a minute: each minute n values, n_valid of them flagged
 * N with mean v, the others `other`; then the hour row (merged). */
FX_HELPER void minutes(int64_t sid, int64_t hour, int m0, int count, double expected, int n, int n_valid, double v,
                    double other) {
  for (int m = m0; m < m0 + count; m++) minute_row(sid, hour + m * MIN, n, n_valid, v, other, expected);
  hour_row(sid, hour, count * n, count * n_valid, count * (n_valid * v + (n - n_valid) * other), count * n_valid * v,
           60.0 * expected);
}

/* One hourly-data value (interval 3600 s) stamped at the hour start, as the
 * writer rolls it up: a minute row (expected 1/60) and the hour row (expected 1). */
static void hourly(int64_t sid, int64_t hour, double v, bool flag_n) {
  minute_row(sid, hour, 1, flag_n, v, v, 1.0 / 60.0);
  hour_row(sid, hour, 1, flag_n, v, flag_n ? v : 0, 1.0);
}

/* Hourly values for the local hours h0..h0+n-1 of a day, all v. */
FX_HELPER void hourly_run(int64_t sid, int64_t day, int h0, int n, double v) {
  for (int h = h0; h < h0 + n; h++) hourly(sid, day + h * H, v, true);
}

FX_HELPER void material(const char *ent, const char *point, int64_t ts, const char *code, const char *dir, double t) {
  int64_t pid = point_id(ent, point);
  char q[512];
  snprintf(q, sizeof q,
           "INSERT INTO materials(point_id, ts_ms, material, dir, qty_t, agent_id, epoch, seq)"
           " VALUES(%lld, %lld, '%s', '%s', %.17g, 1, 1, 1)", (long long)pid, (long long)ts, code, dir, t);
  sql(q);
}

static int update_some(int64_t now, long max) {
  struct ph_err err = {0};
  struct ph_refs refs = {.cfg = &cfg, .cat = cat, .tz = {tzs[0]}, .limits = {lim}, .nlimits = 1};
  int rc = ph_cems_update_some(db, &refs, now, max, &err);
  cr_assert_geq(rc, 0, "%s", err.msg);
  return rc;
}
static void update(int64_t now) { cr_assert_eq(update_some(now, PH_CEMS_MAX_WORK), 0); }

struct hour {
  bool found;
  int kind, valid_minutes, valid;
  double mean, limit; /* NAN when NULL */
};

FX_HELPER double col_or_nan(sqlite3_stmt *s, int i) {
  return sqlite3_column_type(s, i) == SQLITE_NULL ? NAN : sqlite3_column_double(s, i);
}

FX_HELPER struct hour get_hour(int64_t sid, int64_t h) {
  sqlite3_stmt *s;
  struct hour r = {0};
  cr_assert_eq(sqlite3_prepare_v2(db, "SELECT kind, valid_minutes, valid, mean, limit_value FROM cems_hours"
                                      " WHERE series_id = ?1 AND hour_ms = ?2", -1, &s, NULL), SQLITE_OK);
  sqlite3_bind_int64(s, 1, sid);
  sqlite3_bind_int64(s, 2, h);
  if (sqlite3_step(s) == SQLITE_ROW)
    r = (struct hour){true, sqlite3_column_int(s, 0), sqlite3_column_int(s, 1), sqlite3_column_int(s, 2),
                      col_or_nan(s, 3), col_or_nan(s, 4)};
  sqlite3_finalize(s);
  return r;
}

struct day {
  bool found;
  int valid_hours, valid;
  double mean, ratio, converted, limit;
};

FX_HELPER struct day get_day(int64_t sid, int64_t d) {
  sqlite3_stmt *s;
  struct day r = {0};
  cr_assert_eq(sqlite3_prepare_v2(db, "SELECT valid_hours, valid, mean, ratio, converted, limit_value FROM cems_days"
                                      " WHERE series_id = ?1 AND day_ms = ?2", -1, &s, NULL), SQLITE_OK);
  sqlite3_bind_int64(s, 1, sid);
  sqlite3_bind_int64(s, 2, d);
  if (sqlite3_step(s) == SQLITE_ROW)
    r = (struct day){true, sqlite3_column_int(s, 0), sqlite3_column_int(s, 1), col_or_nan(s, 2), col_or_nan(s, 3),
                     col_or_nan(s, 4), col_or_nan(s, 5)};
  sqlite3_finalize(s);
  return r;
}

/* One integer from a query. */
FX_HELPER int64_t q_int(const char *text) {
  sqlite3_stmt *s;
  cr_assert_eq(sqlite3_prepare_v2(db, text, -1, &s, NULL), SQLITE_OK, "%s: %s", text, sqlite3_errmsg(db));
  cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
  int64_t v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

#define EPS 1e-9

#endif
