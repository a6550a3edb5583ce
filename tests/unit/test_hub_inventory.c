/* The PCDD/F inventory (inventory.h) on small hand-computed fixtures: rows
 * go straight into an in-memory store (points, metrics, series, rollups,
 * materials); every expected number is derived in the comments.
 *
 * Park zone Asia/Shanghai (UTC+8, no DST): the local year 2025 is
 * [2024-12-31T16:00Z, 2025-12-31T16:00Z), 365 days = 8760 hours. L(y, m,
 * d, h, mi) below is a local time; H(k) is the start of local hour k of
 * 2025 (k = 0 .. 8759). Hours are counted from Jan 1 00:00 local:
 * Jan 31 + Feb 28 = 59 days before Mar 1 (hour 1416);
 * Jan..Jun = 31+28+31+30+31+30 = 181 days before Jul 1 (hour 4344). */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "parkhub/catalog.h"
#include "parkhub/factors.h"
#include "config/hub_config.h"
#include "domain/inventory.h"
#include "store/store.h"
#include "parkhub/timefmt.h"
#include "parkhub/tz.h"

#define EPS 1e-9
#define HOUR 3600000LL

static struct ph_store *st;
static sqlite3 *db;
static struct ph_tz *tz;
static struct ph_catalog *cat;
static struct ph_factors *fac;
static struct ph_hub_config cfg;
static struct ph_hub_ent ents[4];
static struct ph_inventory *inv;

static int64_t L(int y, unsigned m, unsigned d, int h, int mi) {
  return (ph_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 - 8 * 3600) * 1000LL;
}
static int64_t H(int k) { return L(2025, 1, 1, 0, 0) + k * HOUR; }

static struct ph_hub_ent *ent(int i, const char *id) {
  struct ph_hub_ent *e = &ents[i];
  memset(e, 0, sizeof *e);
  snprintf(e->id, sizeof e->id, "%s", id);
  e->baseline_pcdd_f_g_teq = -1;
  e->stack_test_interval_days = 365;
  e->pcdd_f_concentration = PH_DIOXIN_LATEST;
  /* monitored for years (configured): every hour of 2025 counts; the tests
   * of monitoring periods below clear it */
  snprintf(e->monitoring_since, sizeof e->monitoring_since, "2020-01-01");
  if (cfg.parks[0].nents <= i) cfg.parks[0].nents = i + 1;
  return e;
}
static void klass(struct ph_hub_ent *e, int cls, const char *since) {
  e->classes[e->nclasses].toolkit_class = cls;
  snprintf(e->classes[e->nclasses].since, sizeof e->classes[0].since, "%s", since);
  e->nclasses++;
}

static void setup(void) {
  struct ph_err err = {0};
  cr_assert_eq(ph_store_open(":memory:", &st, &err), 0, "%s", err.msg);
  db = ph_store_db(st);
  cr_assert_eq(ph_tz_load("Asia/Shanghai", &tz, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_catalog_load_builtin(&cat, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_factors_load_builtin(&fac, &err), 0, "%s", err.msg);
  memset(&cfg, 0, sizeof cfg);
  cfg.nparks = 1;
  snprintf(cfg.parks[0].id, sizeof cfg.parks[0].id, "p1");
  snprintf(cfg.parks[0].tz, sizeof cfg.parks[0].tz, "Asia/Shanghai");
  cfg.parks[0].ents = ents;
  inv = calloc(1, sizeof *inv);
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
}
static sqlite3_stmt *rollup_stmt;
static void teardown(void) {
  ph_materials_fini(&cfg.parks[0].materials);
  sqlite3_finalize(rollup_stmt);
  rollup_stmt = NULL;
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  free(inv);
  ph_factors_free(fac);
  ph_catalog_free(cat);
  ph_tz_free(tz);
  ph_store_close(st);
}
TestSuite(inventory, .init = setup, .fini = teardown);

/* ---- rows */

static int64_t exec_id(const char *sql, const char *a, const char *b, const char *c) {
  sqlite3_stmt *s;
  cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
  if (a) sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
  if (b) sqlite3_bind_text(s, 2, b, -1, SQLITE_STATIC);
  if (c) sqlite3_bind_text(s, 3, c, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  cr_assert(rc == SQLITE_DONE || rc == SQLITE_ROW, "%s", sqlite3_errmsg(db));
  int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : sqlite3_last_insert_rowid(db);
  sqlite3_finalize(s);
  return id;
}
static int64_t point(const char *e, const char *p) {
  exec_id("INSERT OR IGNORE INTO points(park, ent, point) VALUES('p1', ?1, ?2)", e, p, NULL);
  return exec_id("SELECT id FROM points WHERE park = 'p1' AND ent = ?1 AND point = ?2", e, p, NULL);
}
static int64_t series(int64_t point_id, const char *metric) {
  exec_id("INSERT OR IGNORE INTO metrics(code) VALUES(?1)", metric, NULL, NULL);
  int64_t mid = exec_id("SELECT id FROM metrics WHERE code = ?1", metric, NULL, NULL);
  char sql[200];
  snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO series(point_id, metric_id) VALUES(%lld, %lld)", (long long)point_id,
           (long long)mid);
  exec_id(sql, NULL, NULL, NULL);
  snprintf(sql, sizeof sql, "SELECT id FROM series WHERE point_id = %lld AND metric_id = %lld", (long long)point_id,
           (long long)mid);
  return exec_id(sql, NULL, NULL, NULL);
}
static void rollup(int64_t sid, int period, int64_t bucket, int n, int n_valid, double sum, double sum_valid,
                   int64_t first_ts) {
  if (!rollup_stmt)
    cr_assert_eq(sqlite3_prepare_v2(db,
                                    "INSERT INTO rollups(series_id, period, bucket_ms, n, n_valid, sum, sum_valid,"
                                    " min, max, first_ts, first, last_ts, last, expected)"
                                    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, 0, ?8, 0, ?8, 0, 1)",
                                    -1, &rollup_stmt, NULL),
                 SQLITE_OK);
  sqlite3_bind_int64(rollup_stmt, 1, sid);
  sqlite3_bind_int(rollup_stmt, 2, period);
  sqlite3_bind_int64(rollup_stmt, 3, bucket);
  sqlite3_bind_int(rollup_stmt, 4, n);
  sqlite3_bind_int(rollup_stmt, 5, n_valid);
  sqlite3_bind_double(rollup_stmt, 6, sum);
  sqlite3_bind_double(rollup_stmt, 7, sum_valid);
  sqlite3_bind_int64(rollup_stmt, 8, first_ts);
  cr_assert_eq(sqlite3_step(rollup_stmt), SQLITE_DONE, "%s", sqlite3_errmsg(db));
  sqlite3_reset(rollup_stmt);
}
/* A stack test: one value, its minute rollup (flag S, so not "valid"). */
static void stack_test(int64_t sid, int64_t ts, double ng) {
  rollup(sid, 0, ts - ts % 60000, 1, 0, ng, 0, ts);
}
/* The CEMS hour ph_cems_update would write for that rollup (hourly data:
 * valid when it has an N-flag value; inventory.h reads valid flow hours). */
static void cems_hour(int64_t sid, int64_t bucket, bool valid, double mean) {
  sqlite3_stmt *s;
  cr_assert_eq(sqlite3_prepare_v2(db,
                                  "INSERT OR REPLACE INTO cems_hours(series_id, hour_ms, day_ms, kind, valid_minutes,"
                                  " mean, valid, limit_value) VALUES(?1, ?2, 0, 2, 0, ?3, ?4, NULL)",
                                  -1, &s, NULL),
               SQLITE_OK, "%s", sqlite3_errmsg(db));
  sqlite3_bind_int64(s, 1, sid);
  sqlite3_bind_int64(s, 2, bucket);
  if (valid) sqlite3_bind_double(s, 3, mean);
  sqlite3_bind_int(s, 4, valid);
  cr_assert_eq(sqlite3_step(s), SQLITE_DONE, "%s", sqlite3_errmsg(db));
  sqlite3_finalize(s);
}
/* Hour k of 2025 with a valid flow mean of v Nm³/h (60 one-minute values). */
static void flow_hour(int64_t sid, int64_t bucket, double v) {
  rollup(sid, 1, bucket, 60, 60, 60 * v, 60 * v, bucket);
  cems_hour(sid, bucket, true, v);
}
static void material(int64_t point_id, int64_t ts, const char *code, const char *dir, double t) {
  sqlite3_stmt *s;
  sqlite3_prepare_v2(db,
                     "INSERT INTO materials(point_id, ts_ms, material, dir, qty_t, agent_id, epoch, seq)"
                     " VALUES(?1, ?2, ?3, ?4, ?5, 1, 1, 1)",
                     -1, &s, NULL);
  sqlite3_bind_int64(s, 1, point_id);
  sqlite3_bind_int64(s, 2, ts);
  sqlite3_bind_text(s, 3, code, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 4, dir, -1, SQLITE_STATIC);
  sqlite3_bind_double(s, 5, t);
  cr_assert_eq(sqlite3_step(s), SQLITE_DONE, "%s", sqlite3_errmsg(db));
  sqlite3_finalize(s);
}

/* The CEMS tables are final up to the start of 2027 (every hour of 2025 and 2026 closed). */
static void closed_2027(void) {
  char sql[160];
  snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO cems_state(id, run_ms, closed_ms) VALUES(1, %lld, %lld)",
           (long long)L(2027, 1, 1, 0, 0), (long long)L(2027, 1, 1, 0, 0));
  cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
}

static void run(const char *e, int year) {
  struct ph_err err = {0};
  closed_2027();
  cr_assert_eq(ph_inventory_year(db, &cfg, tz, cat, fac, "p1", e, year, inv, &err), 0, "%s", err.msg);
}

/* ---- measured */

/* stack-1 of e1 in 2025:
 *   tests 0.2 ng at Mar 1 10:30 (applies from 11:00 = hour 1416 + 11 = 1427)
 *         0.4 ng at Jul 1 00:00 (on the hour: applies from hour 4344)
 *   plus 5.0 (2024-11-05) and 9.0 (2026-01-01 00:00): other years, ignored;
 *   flow 80 000 Nm³/h every hour except hour 100 (no row) and hour 5000
 *   (a row with no N-flag value: a gap too); a 2024 hour and a 2026 hour of
 *   5 000 000 Nm³/h are outside the year. */
static void measured_fixture(void) {
  struct ph_hub_ent *e = ent(0, "e1");
  (void)e;
  int64_t p = point("e1", "stack-1");
  int64_t pc = series(p, "pcdd_f"), fl = series(p, "flow");
  stack_test(pc, L(2025, 3, 1, 10, 30), 0.2);
  stack_test(pc, L(2025, 7, 1, 0, 0), 0.4);
  stack_test(pc, L(2024, 11, 5, 9, 0), 5.0);
  stack_test(pc, L(2026, 1, 1, 0, 0), 9.0);
  for (int k = 0; k < 8760; k++) {
    if (k == 100) continue;
    if (k == 5000) {
      rollup(fl, 1, H(k), 60, 0, 60 * 999.0, 0, H(k));
      cems_hour(fl, H(k), false, 0);
    } else
      flow_hour(fl, H(k), 80000);
  }
  flow_hour(fl, L(2024, 12, 31, 23, 0), 5e6);
  flow_hour(fl, L(2026, 1, 1, 0, 0), 5e6);
}

Test(inventory, measured_latest_test_applies_and_gaps_take_the_mean) {
  measured_fixture();
  run("e1", 2025);
  const struct ph_inv_measured *m = &inv->measured;
  cr_assert_eq(m->nstacks, 1);
  const struct ph_inv_stack *s = &m->stacks[0];
  cr_assert_str_eq(s->point, "stack-1");
  cr_assert(s->avail, "%s", s->why);
  /* the year's two tests, with their local dates */
  cr_assert_eq(s->ntests, 2);
  cr_assert_eq(s->nlisted, 2);
  cr_assert_str_eq(s->tests[0].date, "2025-03-01");
  cr_assert_eq(s->tests[0].ts_ms, L(2025, 3, 1, 10, 30));
  cr_assert_float_eq(s->tests[0].ng_teq_nm3, 0.2, EPS);
  cr_assert_str_eq(s->tests[1].date, "2025-07-01");
  cr_assert_float_eq(s->tests[1].ng_teq_nm3, 0.4, EPS);
  cr_assert_eq(s->concentration, PH_DIOXIN_LATEST);
  /* hours: 8760 = 8758 with valid flow + 2 gaps (hours 100 and 5000) */
  cr_assert_float_eq(s->hours, 8760, EPS);
  cr_assert_float_eq(s->hours_measured, 8758, EPS);
  cr_assert_float_eq(s->hours_gap, 2, EPS);
  /* every valid hour is 80 000, so the gap fill is 80 000 Nm³/h */
  cr_assert_float_eq(s->mean_flow_nm3_h, 80000, EPS);
  cr_assert_float_eq(s->volume_measured_nm3, 8758 * 80000.0, 1e-3);  /* 700 640 000 */
  cr_assert_float_eq(s->volume_filled_nm3, 2 * 80000.0, 1e-3);       /* 160 000 */
  cr_assert_float_eq(s->volume_nm3, 8760 * 80000.0, 1e-3);           /* 700 800 000 */
  cr_assert_float_eq(s->measured_share, 8758.0 / 8760.0, 1e-12);     /* 0.99977 */
  /* hours 0..1426 come before the first test and use it: said so */
  cr_assert_float_eq(s->hours_before_first_test, 1427, EPS);
  cr_assert(m->first_test_extended);
  /* hours [0, 4344): 0.2 ng, 4344 h × 80 000 (hour 100 filled) = 347 520 000 Nm³ → 0.069504 g
   * hours [4344, 8760): 0.4 ng, 4416 h × 80 000 (hour 5000 filled) = 353 280 000 Nm³ → 0.141312 g */
  cr_assert_float_eq(s->g_teq, 0.069504 + 0.141312, EPS); /* 0.210816 g TEQ */
  cr_assert(m->avail && m->complete);
  cr_assert_float_eq(m->g_teq, 0.210816, EPS);
  cr_assert_float_eq(m->measured_share, 8758.0 / 8760.0, 1e-12);
  /* no class configured and no production: estimated 0 (no activity), current = measured */
  cr_assert_eq(inv->current.method, PH_INV_MEASURED);
  cr_assert_float_eq(inv->current.g_teq, 0.210816, EPS);
  cr_assert_eq(inv->baseline.method, PH_INV_NONE);
  cr_assert_not(inv->reduction_avail);
  cr_assert_eq(inv->from_ms, L(2025, 1, 1, 0, 0));
  cr_assert_eq(inv->to_ms, L(2026, 1, 1, 0, 0));
}

Test(inventory, measured_mean_of_the_years_tests) {
  measured_fixture();
  ents[0].pcdd_f_concentration = PH_DIOXIN_MEAN;
  run("e1", 2025);
  const struct ph_inv_stack *s = &inv->measured.stacks[0];
  /* (0.2 + 0.4) / 2 = 0.3 ng over all 8760 h × 80 000 = 700 800 000 Nm³ → 0.21024 g */
  cr_assert_eq(s->concentration, PH_DIOXIN_MEAN);
  cr_assert_float_eq(s->mean_ng_teq_nm3, 0.3, EPS);
  cr_assert_float_eq(s->g_teq, 0.21024, EPS);
  cr_assert_float_eq(s->hours_before_first_test, 0, EPS);
  cr_assert_not(inv->measured.first_test_extended);
}

Test(inventory, a_single_test_covers_the_hours_before_it_and_says_so) {
  /* latest, one test 0.5 ng at Mar 1 10:30 (from 11:00 = hour 1427): it applies to the whole year,
   * hours 0..1426 before it. Flow 40 000 every hour: 8760 × 40 000 = 350 400 000 Nm³ → 0.5 × 0.3504 = 0.1752 g */
  ent(0, "e1");
  int64_t p = point("e1", "stack-1");
  stack_test(series(p, "pcdd_f"), L(2025, 3, 1, 10, 30), 0.5);
  int64_t fl = series(p, "flow");
  for (int k = 0; k < 8760; k++) flow_hour(fl, H(k), 40000);
  run("e1", 2025);
  const struct ph_inv_stack *s = &inv->measured.stacks[0];
  cr_assert_float_eq(s->hours_before_first_test, 1427, EPS);
  cr_assert(inv->measured.first_test_extended);
  cr_assert_float_eq(s->g_teq, 0.1752, EPS);
  cr_assert_float_eq(s->measured_share, 1, EPS);
}

Test(inventory, gap_fill_is_the_mean_of_the_valid_hours) {
  /* one test 1.0 ng exactly at the year's start (no hour before it);
   * flow 60 000 in hours 0..4379 except hours 10..19 (10 gaps), 100 000 in
   * hours 4380..8759:
   *   measured: 4370 h × 60 000 + 4380 h × 100 000 = 262 200 000 + 438 000 000 = 700 200 000 Nm³
   *   mean of valid hours: 700 200 000 / 8750 = 80 022.857142857…
   *   filled: 10 × 80 022.857142857 = 800 228.57142857
   *   volume: 701 000 228.57142857 Nm³ → 1.0 × 1e-9 × V = 0.70100022857142857 g
   *   measured share: 700 200 000 / 701 000 228.571 = 0.998858447…  */
  ent(0, "e1");
  int64_t p = point("e1", "stack-1");
  int64_t pc = series(p, "pcdd_f"), fl = series(p, "flow");
  stack_test(pc, L(2025, 1, 1, 0, 0), 1.0);
  for (int k = 0; k < 8760; k++)
    if (k < 10 || k > 19) flow_hour(fl, H(k), k < 4380 ? 60000 : 100000);
  run("e1", 2025);
  const struct ph_inv_stack *s = &inv->measured.stacks[0];
  cr_assert(s->avail);
  cr_assert_float_eq(s->hours_before_first_test, 0, EPS);
  cr_assert_float_eq(s->hours_gap, 10, EPS);
  cr_assert_float_eq(s->mean_flow_nm3_h, 700200000.0 / 8750.0, 1e-6);
  cr_assert_float_eq(s->mean_flow_nm3_h, 80022.857142857, 1e-6);
  cr_assert_float_eq(s->volume_filled_nm3, 800228.57142857, 1e-4);
  cr_assert_float_eq(s->volume_nm3, 701000228.57142857, 1e-3);
  cr_assert_float_eq(s->g_teq, 0.70100022857142857, 1e-12);
  cr_assert_float_eq(s->measured_share, 0.998858447, 1e-9);
}

/* A stopped hour of a point, as the CEMS update records it (monitoring.h). */
static void stopped_hour(int64_t point_id, int64_t bucket) {
  char sql[200];
  snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO cems_op_hours(point_id, hour_ms, day_ms, op) VALUES(%lld, %lld, 0, 1)",
           (long long)point_id, (long long)bucket);
  cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
}

/* e2 monitored from 2025-04-01 (configured): Apr 1 .. Dec 31 = 275 days = 6 600 hours of 8 760
 * (share 0.753425); one test 0.1 ng TEQ/Nm³ on Apr 1 00:00 (applies from 00:00); valid flow
 * 10 000 Nm³/h in every monitored hour except: hours 4 344 .. 4 367 (Jul 1) stopped (F), no
 * flow; hours 4 368 .. 4 391 (Jul 2) operating without any flow: filled with the mean 10 000.
 *   counted hours 6 600 − 24 stopped = 6 576, measured 6 552, filled 24
 *   period release = 6 576 × 10 000 × 0.1e-9 = 0.006576 g TEQ
 *   annual (share ≥ 0.75) = 0.006576 / (6 600 / 8 760) = 0.0087284… g TEQ, annualised */
static void partial_year_fixture(void) {
  struct ph_hub_ent *e = ent(1, "e2");
  snprintf(e->monitoring_since, sizeof e->monitoring_since, "2025-04-01");
  int64_t p = point("e2", "stack-1");
  int64_t pc = series(p, "pcdd_f"), fl = series(p, "flow");
  stack_test(pc, L(2025, 4, 1, 0, 0), 0.1);
  int k0 = 8760 - 6600; /* Apr 1 00:00 = hour 2 160 */
  for (int k = k0; k < 8760; k++) {
    if (k >= 4344 && k < 4368) {
      stopped_hour(p, H(k));
      continue;
    }
    if (k >= 4368 && k < 4392) continue;
    flow_hour(fl, H(k), 10000);
  }
  /* flow before the period (March) is not counted: monitoring started Apr 1 */
  for (int k = k0 - 24; k < k0; k++) flow_hour(fl, H(k), 1e6);
}

Test(inventory, a_partial_year_is_annualised_only_above_the_threshold) {
  partial_year_fixture();
  cfg.inventory_min_share = 0.75;
  run("e2", 2025);
  const struct ph_inv_measured *m = &inv->measured;
  const struct ph_inv_stack *s = &m->stacks[0];
  cr_assert(s->avail, "%s", s->why);
  cr_assert_float_eq(s->hours, 6600, EPS);
  cr_assert_float_eq(s->hours_stopped, 24, EPS);
  cr_assert_float_eq(s->hours_measured, 6552, EPS);
  cr_assert_float_eq(s->hours_gap, 24, EPS);
  cr_assert_float_eq(s->g_teq, 6576 * 10000 * 0.1e-9, 1e-12);
  cr_assert_float_eq(s->filled_share, 24.0 / 6576.0, 1e-12);
  cr_assert_float_eq(m->monitored_share, 6600.0 / 8760.0, 1e-12);
  cr_assert(m->annual_avail);
  cr_assert(m->annualised);
  cr_assert_float_eq(m->annual_g_teq, 6576 * 10000 * 0.1e-9 / (6600.0 / 8760.0), 1e-12);
  cr_assert_eq(inv->current.method, PH_INV_MEASURED);
  cr_assert(inv->current.annualised);
  cr_assert_float_eq(inv->current.share, 6600.0 / 8760.0, 1e-12);
  /* a stricter threshold: not available, with the days it rests on */
  cfg.inventory_min_share = 0.8;
  run("e2", 2025);
  cr_assert_not(inv->measured.annual_avail);
  cr_assert(strstr(inv->measured.annual_why, "monitored 275 of 365 days") != NULL, "%s", inv->measured.annual_why);
  cr_assert_float_eq(inv->measured.g_teq, 6576 * 10000 * 0.1e-9, 1e-12); /* the period figure stays */
  cr_assert_eq(inv->current.method, PH_INV_NONE);
  cr_assert(strstr(inv->current_why, "275 of 365 days") != NULL, "%s", inv->current_why);
  cfg.inventory_min_share = 0;
}

Test(inventory, a_figure_mostly_filled_is_not_called_measured) {
  /* e3 monitored the whole of 2025 (default fixture); test 0.2 on Jan 1; valid flow only in
   * the first 1 000 hours: 7 760 hours filled with the mean → filled share 0.886 > 0.5 */
  ent(2, "e3");
  int64_t p = point("e3", "stack-1");
  int64_t pc = series(p, "pcdd_f"), fl = series(p, "flow");
  stack_test(pc, L(2025, 1, 1, 0, 0), 0.2);
  for (int k = 0; k < 1000; k++) flow_hour(fl, H(k), 50000);
  run("e3", 2025);
  const struct ph_inv_measured *m = &inv->measured;
  cr_assert(m->annual_avail);
  cr_assert_not(m->annualised);
  cr_assert_float_eq(m->filled_share, 7760.0 / 8760.0, 1e-12);
  cr_assert(m->mostly_filled);
  cr_assert_eq(inv->current.method, PH_INV_FILLED);
  cr_assert_str_eq(ph_inv_method_name(inv->current.method), "filled");
  cr_assert_float_eq(inv->current.g_teq, 8760 * 50000 * 0.2e-9, 1e-12);
}

Test(inventory, stack_without_test_or_flow_is_not_available_not_zero) {
  /* e1 has stack-1 (tests, flow all year 50 000) and stack-2 (flow but no
   * test in 2025: its only test is in 2024), stack-3 (a test, no flow),
   * stack-4 (a 2023 test, nothing in 2025: not operating, not counted). */
  struct ph_hub_ent *e = ent(0, "e1");
  klass(e, 2, "2020-01-01");
  int64_t p1 = point("e1", "stack-1"), p2 = point("e1", "stack-2"), p3 = point("e1", "stack-3"),
          p4 = point("e1", "stack-4");
  stack_test(series(p1, "pcdd_f"), L(2025, 1, 1, 0, 0), 0.1);
  int64_t f1 = series(p1, "flow"), f2 = series(p2, "flow");
  for (int k = 0; k < 8760; k++) {
    flow_hour(f1, H(k), 50000);
    flow_hour(f2, H(k), 50000);
  }
  stack_test(series(p2, "pcdd_f"), L(2024, 6, 1, 0, 0), 0.3);
  stack_test(series(p3, "pcdd_f"), L(2025, 6, 1, 0, 0), 0.3);
  stack_test(series(p4, "pcdd_f"), L(2023, 6, 1, 0, 0), 0.3);
  /* production 1000 t of cathode: class 2 → 50 × 1000 × 1e-6 = 0.05 g */
  material(point("e1", "weighbridge"), L(2025, 5, 5, 10, 0), "cathode_cu", "out", 1000);
  run("e1", 2025);
  const struct ph_inv_measured *m = &inv->measured;
  cr_assert_eq(m->nstacks, 3, "stack-4 is not counted");
  cr_assert_str_eq(m->stacks[0].point, "stack-1");
  cr_assert(m->stacks[0].avail);
  /* 0.1 ng × 8760 h × 50 000 Nm³/h = 0.1 × 438 000 000 × 1e-9 = 0.0438 g */
  cr_assert_float_eq(m->stacks[0].g_teq, 0.0438, EPS);
  cr_assert_not(m->stacks[1].avail);
  cr_assert_str_eq(m->stacks[1].why, "no stack test in the year");
  cr_assert_eq(m->stacks[1].g_teq, 0);
  cr_assert_float_eq(m->stacks[1].volume_nm3, 438000000.0, 1e-3, "its volume is still reported");
  cr_assert_not(m->stacks[2].avail);
  cr_assert_str_eq(m->stacks[2].why, "no valid flow hour in the monitored period");
  cr_assert(m->avail);
  cr_assert_not(m->complete);
  cr_assert_float_eq(m->g_teq, 0.0438, EPS, "the sum of the stacks that have a figure");
  /* incomplete measured figure: the current figure is the estimate */
  cr_assert_eq(inv->current.method, PH_INV_ESTIMATED);
  cr_assert_float_eq(inv->current.g_teq, 0.05, EPS);
}

/* ---- estimated */

Test(inventory, estimated_class_2_times_production) {
  /* class 2 since 2020: air 50, residue 630 µg TEQ/t of product.
   * Product leaving (dir out, role product) in the local year 2025:
   *   600 t cathode_cu at 2025-01-01 00:30 local (2024-12-31T16:30Z: UTC 2024, local 2025: counted)
   *   400 t cu_alloy   at 2025-11-20 08:00
   * not counted: 1200 t scrap in (feed), 50 t slag out (residue), 30 t cathode
   *   dir in, 500 t cathode at 2026-01-01 00:30 local (UTC 2025, local 2026),
   *   700 t cathode at 2024-12-31 23:59 local, 999 t of another enterprise.
   * activity 1000 t → air 50 × 1000 × 1e-6 = 0.05 g; residue 630 × 1000 × 1e-6 = 0.63 g */
  struct ph_hub_ent *e = ent(0, "e1");
  ent(1, "e2");
  klass(e, 2, "2020-01-01");
  int64_t wb = point("e1", "weighbridge");
  material(wb, L(2025, 1, 1, 0, 30), "cathode_cu", "out", 600);
  material(wb, L(2025, 11, 20, 8, 0), "cu_alloy", "out", 400);
  material(wb, L(2025, 2, 1, 8, 0), "scrap_cu_2", "in", 1200);
  material(wb, L(2025, 2, 1, 9, 0), "slag", "out", 50);
  material(wb, L(2025, 2, 1, 9, 0), "cathode_cu", "in", 30);
  material(wb, L(2026, 1, 1, 0, 30), "cathode_cu", "out", 500);
  material(wb, L(2024, 12, 31, 23, 59), "cathode_cu", "out", 700);
  material(point("e2", "weighbridge"), L(2025, 3, 1, 0, 0), "cathode_cu", "out", 999);
  run("e1", 2025);
  const struct ph_inv_estimated *es = &inv->estimated;
  cr_assert_str_eq(es->table, "unep-toolkit-2013-cu");
  cr_assert_eq(es->nparts, 1);
  const struct ph_inv_part *pt = &es->parts[0];
  cr_assert_eq(pt->toolkit_class, 2);
  cr_assert_str_eq(pt->from, "2025-01-01");
  cr_assert_str_eq(pt->to, "2026-01-01");
  cr_assert_not_null(pt->factor);
  cr_assert_not(pt->factor->verified, "the report prints the factor's status");
  cr_assert_float_eq(pt->activity_t, 1000, EPS);
  cr_assert(es->air_avail && es->residue_avail);
  cr_assert_float_eq(es->air_g_teq, 0.05, EPS);
  cr_assert_float_eq(es->residue_g_teq, 0.63, EPS);
  cr_assert_eq(inv->measured.nstacks, 0);
  cr_assert_not(inv->measured.avail);
  cr_assert_eq(inv->current.method, PH_INV_ESTIMATED);
  cr_assert_float_eq(inv->current.g_teq, 0.05, EPS);
}

/* Item 5 of issue #15: the activity follows the park's material registry. */
Test(inventory, activity_follows_the_parks_declared_roles) {
  /* class 2 (air 50 µg TEQ/t of product). p1 declares cu_rod product and cathode_cu residue (a plant
   * whose off-grade cathode goes back to a smelter): 2025 activity = cu_rod 300 t; cathode_cu 200 t
   * out is residue now, brass_bar 100 t out is declared nowhere (unclassified: no activity).
   * → 300 t → air 50 × 300 × 1e-6 = 0.015 g */
  struct ph_err err = {0};
  cJSON *a = cJSON_Parse("[{\"code\":\"cu_rod\",\"role\":\"product\"},{\"code\":\"cathode_cu\",\"role\":\"residue\"}]");
  cr_assert_eq(ph_materials_load(a, "parks[0].materials", cat, &cfg.parks[0].materials, &err), 0, "%s", err.msg);
  cJSON_Delete(a);
  struct ph_hub_ent *e = ent(0, "e1");
  klass(e, 2, "2020-01-01");
  int64_t wb = point("e1", "weighbridge");
  material(wb, L(2025, 3, 1, 9, 0), "cu_rod", "out", 300);
  material(wb, L(2025, 3, 2, 9, 0), "cathode_cu", "out", 200);
  material(wb, L(2025, 3, 3, 9, 0), "brass_bar", "out", 100);
  run("e1", 2025);
  cr_assert_float_eq(inv->estimated.activity_t, 300, EPS);
  cr_assert_float_eq(inv->estimated.air_g_teq, 0.015, EPS);
  /* the catalogue alone: cathode_cu is product again, cu_rod and brass_bar are nothing */
  ph_materials_fini(&cfg.parks[0].materials);
  run("e1", 2025);
  cr_assert_float_eq(inv->estimated.activity_t, 200, EPS);
}

Test(inventory, class_change_splits_the_year_at_the_date) {
  /* class 1 since 2020, class 3 since 2025-07-01 (local midnight).
   *   before: 300 t at Mar 1 + 100 t at Jun 30 23:59 = 400 t, class 1:
   *     air 800 × 400 × 1e-6 = 0.32 g, residue 630 × 400 × 1e-6 = 0.252 g
   *   after: 600 t at Jul 1 00:00, class 3:
   *     air 5 × 600 × 1e-6 = 0.003 g, residue 300 × 600 × 1e-6 = 0.18 g
   *   year: air 0.323 g, residue 0.432 g */
  struct ph_hub_ent *e = ent(0, "e1");
  klass(e, 1, "2020-01-01");
  klass(e, 3, "2025-07-01");
  int64_t wb = point("e1", "weighbridge");
  material(wb, L(2025, 3, 1, 0, 0), "cathode_cu", "out", 300);
  material(wb, L(2025, 6, 30, 23, 59), "cathode_cu", "out", 100);
  material(wb, L(2025, 7, 1, 0, 0), "anode_cu", "out", 600);
  run("e1", 2025);
  const struct ph_inv_estimated *es = &inv->estimated;
  cr_assert_eq(es->nparts, 2);
  cr_assert_eq(es->parts[0].toolkit_class, 1);
  cr_assert_str_eq(es->parts[0].from, "2025-01-01");
  cr_assert_str_eq(es->parts[0].to, "2025-07-01");
  cr_assert_eq(es->parts[0].to_ms, L(2025, 7, 1, 0, 0));
  cr_assert_eq(es->parts[1].from_ms, L(2025, 7, 1, 0, 0));
  cr_assert_eq(es->parts[1].toolkit_class, 3);
  cr_assert_str_eq(es->parts[1].to, "2026-01-01");
  cr_assert_float_eq(es->parts[0].activity_t, 400, EPS);
  cr_assert_float_eq(es->parts[1].activity_t, 600, EPS);
  cr_assert_float_eq(es->parts[0].air_g_teq, 0.32, EPS);
  cr_assert_float_eq(es->parts[1].air_g_teq, 0.003, EPS);
  cr_assert_float_eq(es->parts[0].residue_g_teq, 0.252, EPS);
  cr_assert_float_eq(es->parts[1].residue_g_teq, 0.18, EPS);
  cr_assert_float_eq(es->air_g_teq, 0.323, EPS);
  cr_assert_float_eq(es->residue_g_teq, 0.432, EPS);
  cr_assert_float_eq(es->activity_t, 1000, EPS);
}

Test(inventory, nd_factor_is_reported_not_available_never_zero) {
  /* class 4: air 0.03, residue ND; 1000 t → air 0.03 × 1000 × 1e-6 = 0.00003 g, residue not available */
  struct ph_hub_ent *e4 = ent(0, "e4");
  klass(e4, 4, "2020-01-01");
  material(point("e4", "wb"), L(2025, 4, 1, 12, 0), "cathode_cu", "out", 1000);
  run("e4", 2025);
  cr_assert(inv->estimated.air_avail);
  cr_assert_float_eq(inv->estimated.air_g_teq, 0.00003, 1e-15);
  cr_assert_not(inv->estimated.residue_avail);
  cr_assert_not(inv->estimated.parts[0].residue_avail);
  cr_assert_eq(inv->current.method, PH_INV_ESTIMATED);

  /* class 6: air and residue ND; with 1000 t nothing is available: no current figure */
  struct ph_hub_ent *e6 = ent(1, "e6");
  klass(e6, 6, "2020-01-01");
  material(point("e6", "wb"), L(2025, 4, 1, 12, 0), "cathode_cu", "out", 1000);
  run("e6", 2025);
  cr_assert_not(inv->estimated.air_avail);
  cr_assert_not(inv->estimated.residue_avail);
  cr_assert_eq(inv->estimated.air_g_teq, 0);
  cr_assert_float_eq(inv->estimated.activity_t, 1000, EPS);
  cr_assert_eq(inv->current.method, PH_INV_NONE);

  /* class 6 in a year without a single ledger record: the hub cannot tell a
   * stopped plant from a missing weighbridge feed, so no figure (a gap is
   * reported as a gap, never as 0) */
  run("e6", 2024);
  cr_assert_not(inv->estimated.air_avail);
  cr_assert(inv->estimated.no_ledger);
  cr_assert_eq(inv->current.method, PH_INV_NONE);

  /* no class configured, with production: not available, class 0, no factor */
  ent(2, "e0");
  material(point("e0", "wb"), L(2025, 4, 1, 12, 0), "cathode_cu", "out", 10);
  run("e0", 2025);
  cr_assert_eq(inv->estimated.parts[0].toolkit_class, 0);
  cr_assert_null(inv->estimated.parts[0].factor);
  cr_assert_not(inv->estimated.air_avail);

  /* a class the table lacks: not available */
  struct ph_factors *only1 = NULL;
  struct ph_err err = {0};
  const char *t = "{\"table\":\"x\",\"title\":\"x\",\"source\":\"x\",\"unit\":\"µg TEQ/t\",\"classes\":[{\"class\":1,"
                  "\"name\":\"n\",\"basis\":\"t of product\",\"air\":1,\"residue\":1,\"source\":\"s\",\"verified\":true}]}";
  cr_assert_eq(ph_factors_load_json(t, strlen(t), "t", &only1, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_inventory_year(db, &cfg, tz, cat, only1, "p1", "e4", 2025, inv, &err), 0, "%s", err.msg);
  cr_assert_null(inv->estimated.parts[0].factor);
  cr_assert_not(inv->estimated.air_avail);
  ph_factors_free(only1);
}

Test(inventory, feed_basis_counts_feed_in) {
  /* a table whose class 1 is per t of feed (air 10): 200 t scrap in + 50 t
   * e-waste in = 250 t feed → 10 × 250 × 1e-6 = 0.0025 g (the 100 t product is not the basis) */
  struct ph_factors *feed = NULL;
  struct ph_err err = {0};
  const char *t = "{\"table\":\"x\",\"title\":\"x\",\"source\":\"x\",\"unit\":\"µg TEQ/t\",\"classes\":[{\"class\":1,"
                  "\"name\":\"n\",\"basis\":\"t of feed\",\"air\":10,\"residue\":\"ND\",\"source\":\"s\",\"verified\":true}]}";
  cr_assert_eq(ph_factors_load_json(t, strlen(t), "t", &feed, &err), 0, "%s", err.msg);
  struct ph_hub_ent *e = ent(0, "e1");
  klass(e, 1, "2020-01-01");
  int64_t wb = point("e1", "wb");
  material(wb, L(2025, 2, 1, 0, 0), "scrap_cu_2", "in", 200);
  material(wb, L(2025, 2, 2, 0, 0), "scrap_cu_ewaste", "in", 50);
  material(wb, L(2025, 2, 3, 0, 0), "cathode_cu", "out", 100);
  cr_assert_eq(ph_inventory_year(db, &cfg, tz, cat, feed, "p1", "e1", 2025, inv, &err), 0, "%s", err.msg);
  cr_assert_float_eq(inv->estimated.activity_t, 250, EPS);
  cr_assert_float_eq(inv->estimated.air_g_teq, 0.0025, EPS);
  ph_factors_free(feed);
}

/* ---- reduction */

Test(inventory, reduction_against_an_explicit_baseline) {
  /* baseline {year 2020, pcdd_f_g_teq 1.5}; 2025: class 2, 1000 t → 0.05 g estimated;
   * reduction 1.5 − 0.05 = 1.45 g TEQ/a */
  struct ph_hub_ent *e = ent(0, "e1");
  klass(e, 2, "2020-01-01");
  e->baseline_year = 2020;
  e->baseline_pcdd_f_g_teq = 1.5;
  material(point("e1", "wb"), L(2025, 6, 1, 0, 0), "cathode_cu", "out", 1000);
  run("e1", 2025);
  cr_assert_eq(inv->baseline.method, PH_INV_CONFIGURED);
  cr_assert_eq(inv->baseline.year, 2020);
  cr_assert_float_eq(inv->baseline.g_teq, 1.5, EPS);
  cr_assert_eq(inv->current.method, PH_INV_ESTIMATED);
  cr_assert(inv->reduction_avail);
  cr_assert_float_eq(inv->reduction_g_teq, 1.45, EPS);
  cr_assert_not(inv->reduction_estimated_avail, "no like-for-like against a configured figure");
  cr_assert_str_eq(ph_inv_method_name(inv->baseline.method), "configured");
}

/* e1: class 1 until 2020, class 2 from 2021; baseline year 2020 computed.
 * 2020: 500 t product → 800 × 500 × 1e-6 = 0.4 g (estimated; no stack data in 2020)
 * 2025: 1000 t product → 50 × 1000 × 1e-6 = 0.05 g estimated */
static void computed_baseline_fixture(void) {
  struct ph_hub_ent *e = ent(0, "e1");
  klass(e, 1, "2015-01-01");
  klass(e, 2, "2021-01-01");
  e->baseline_year = 2020;
  int64_t wb = point("e1", "wb");
  material(wb, L(2020, 6, 1, 0, 0), "cathode_cu", "out", 500);
  material(wb, L(2025, 6, 1, 0, 0), "cathode_cu", "out", 1000);
}

Test(inventory, reduction_against_a_computed_baseline_year) {
  computed_baseline_fixture();
  run("e1", 2025);
  /* 0.4 − 0.05 = 0.35, both estimated */
  cr_assert_eq(inv->baseline.method, PH_INV_ESTIMATED);
  cr_assert_eq(inv->baseline.year, 2020);
  cr_assert_float_eq(inv->baseline.g_teq, 0.4, EPS);
  cr_assert_eq(inv->current.method, PH_INV_ESTIMATED);
  cr_assert_float_eq(inv->reduction_g_teq, 0.35, EPS);
  cr_assert(inv->reduction_estimated_avail);
  cr_assert_float_eq(inv->reduction_estimated_g_teq, 0.35, EPS);
  cr_assert_not(inv->reduction_measured_avail);
}

Test(inventory, reduction_uses_measured_when_complete_and_states_methods) {
  /* + stack-1 measured in 2025: 0.1 ng × 8760 h × 50 000 Nm³/h = 0.0438 g (complete).
   * current = measured 0.0438; baseline 2020 = estimated 0.4 (no stack data then);
   * reduction 0.4 − 0.0438 = 0.3562; like-for-like estimated 0.4 − 0.05 = 0.35 */
  computed_baseline_fixture();
  int64_t p = point("e1", "stack-1");
  stack_test(series(p, "pcdd_f"), L(2025, 1, 1, 0, 0), 0.1);
  int64_t fl = series(p, "flow");
  for (int k = 0; k < 8760; k++) flow_hour(fl, H(k), 50000);
  run("e1", 2025);
  cr_assert_eq(inv->current.method, PH_INV_MEASURED);
  cr_assert_float_eq(inv->current.g_teq, 0.0438, EPS);
  cr_assert_eq(inv->baseline.method, PH_INV_ESTIMATED);
  cr_assert_float_eq(inv->reduction_g_teq, 0.3562, EPS);
  cr_assert_float_eq(inv->reduction_estimated_g_teq, 0.35, EPS);
  cr_assert_not(inv->reduction_measured_avail);
}

Test(inventory, park_sums_enterprises_and_counts_the_missing) {
  /* e1: computed baseline and stack (previous test): current 0.0438 measured, baseline 0.4, reduction 0.3562,
   *     estimated air 0.05, residue 630 × 1000 × 1e-6 = 0.63
   * e2: explicit baseline 1.5, class 2, 1000 t: current 0.05 estimated, reduction 1.45, residue 0.63
   * e3: class 6, 10 t, no baseline: nothing available (air and residue ND)
   * park: current 0.0438 + 0.05 = 0.0938 (2 counted, 1 missing); baseline 0.4 + 1.5 = 1.9 (2, 1);
   *       reduction 0.3562 + 1.45 = 1.8062 (2, 1); measured 0.0438 (1, 2);
   *       estimated air 0.05 + 0.05 = 0.1 (2, 1); residue 0.63 + 0.63 = 1.26 (2, 1) */
  computed_baseline_fixture();
  int64_t p = point("e1", "stack-1");
  stack_test(series(p, "pcdd_f"), L(2025, 1, 1, 0, 0), 0.1);
  int64_t fl = series(p, "flow");
  for (int k = 0; k < 8760; k++) flow_hour(fl, H(k), 50000);
  struct ph_hub_ent *e2 = ent(1, "e2");
  klass(e2, 2, "2020-01-01");
  e2->baseline_year = 2020;
  e2->baseline_pcdd_f_g_teq = 1.5;
  material(point("e2", "wb"), L(2025, 6, 1, 0, 0), "cathode_cu", "out", 1000);
  struct ph_hub_ent *e3 = ent(2, "e3");
  klass(e3, 6, "2020-01-01");
  material(point("e3", "wb"), L(2025, 6, 1, 0, 0), "cathode_cu", "out", 10);

  struct ph_inventory_park pk;
  struct ph_err err = {0};
  closed_2027();
  cr_assert_eq(ph_inventory_park(db, &cfg, tz, cat, fac, "p1", 2025, &pk, &err), 0, "%s", err.msg);
  cr_assert_eq(pk.nents, 3);
  cr_assert_str_eq(pk.ents[0].ent, "e1");
  cr_assert_eq(pk.ents[0].current.method, PH_INV_MEASURED);
  cr_assert_eq(pk.ents[0].baseline.method, PH_INV_ESTIMATED);
  cr_assert_eq(pk.ents[1].baseline.method, PH_INV_CONFIGURED);
  cr_assert_eq(pk.ents[1].current.method, PH_INV_ESTIMATED);
  cr_assert_eq(pk.ents[2].current.method, PH_INV_NONE);
  cr_assert_float_eq(pk.current.g_teq, 0.0938, EPS);
  cr_assert_eq(pk.current.counted, 2);
  cr_assert_eq(pk.current.missing, 1);
  cr_assert_float_eq(pk.baseline.g_teq, 1.9, EPS);
  cr_assert_eq(pk.baseline.missing, 1);
  cr_assert_float_eq(pk.reduction.g_teq, 1.8062, EPS);
  cr_assert_eq(pk.reduction.counted, 2);
  cr_assert_float_eq(pk.measured.g_teq, 0.0438, EPS);
  cr_assert_eq(pk.measured.counted, 1);
  cr_assert_eq(pk.measured.missing, 2);
  cr_assert_float_eq(pk.estimated_air.g_teq, 0.1, EPS);
  cr_assert_eq(pk.estimated_air.missing, 1);
  cr_assert_float_eq(pk.estimated_residue.g_teq, 1.26, EPS);
  ph_inventory_park_fini(&pk);
  cr_assert_null(pk.ents);
}

Test(inventory, refuses_unknown_park_enterprise_and_year) {
  ent(0, "e1");
  struct ph_err err = {0};
  cr_assert_eq(ph_inventory_year(db, &cfg, tz, cat, fac, "px", "e1", 2025, inv, &err), PH_ENOTFOUND);
  cr_assert(strstr(err.msg, "px"), "%s", err.msg);
  cr_assert_eq(ph_inventory_year(db, &cfg, tz, cat, fac, "p1", "ex", 2025, inv, &err), PH_ENOTFOUND);
  cr_assert(strstr(err.msg, "ex"), "%s", err.msg);
  cr_assert_eq(ph_inventory_year(db, &cfg, tz, cat, fac, "p1", "e1", 1900, inv, &err), PH_EINVAL);
  struct ph_inventory_park pk;
  cr_assert_eq(ph_inventory_park(db, &cfg, tz, cat, fac, "px", 2025, &pk, &err), PH_ENOTFOUND);
  ph_inventory_park_fini(&pk);
  struct ph_monitoring_plan mp;
  cr_assert_eq(ph_monitoring_plan(db, &cfg, tz, "p1", "ex", 0, &mp, &err), PH_ENOTFOUND);
}

/* ---- monitoring plan */

Test(inventory, monitoring_plan_last_test_plus_interval) {
  /* stack-1 tests: 2024-02-01 and 2025-03-01 10:30; stack-2: 2025-06-15.
   * interval 365: stack-1 due 2025-03-01 + 365 d = 2026-03-01; stack-2 due 2026-06-15.
   *   now 2026-02-20 12:00: 9 days left (Feb 20 → Mar 1), not overdue; earliest is stack-1
   *   now 2026-03-01 23:00: 0 days left, not overdue (due that day)
   *   now 2026-03-02 00:00: −1, overdue
   *   now 2025-02-01: the 2025 test is in the future and ignored; 2024-02-01 + 365 d
   *     (2024 is a leap year) = 2025-01-31: −1, overdue; stack-2 has no test yet */
  struct ph_hub_ent *e = ent(0, "e1");
  int64_t s1 = series(point("e1", "stack-1"), "pcdd_f"), s2 = series(point("e1", "stack-2"), "pcdd_f");
  stack_test(s1, L(2024, 2, 1, 9, 0), 0.3);
  stack_test(s1, L(2025, 3, 1, 10, 30), 0.2);
  stack_test(s2, L(2025, 6, 15, 14, 0), 0.1);
  struct ph_monitoring_plan mp;
  struct ph_err err = {0};
  cr_assert_eq(ph_monitoring_plan(db, &cfg, tz, "p1", "e1", L(2026, 2, 20, 12, 0), &mp, &err), 0, "%s", err.msg);
  cr_assert_eq(mp.interval_days, 365);
  cr_assert_str_eq(mp.today, "2026-02-20");
  cr_assert_eq(mp.nstacks, 2);
  cr_assert_str_eq(mp.stacks[0].last_test, "2025-03-01");
  cr_assert_str_eq(mp.stacks[0].due, "2026-03-01");
  cr_assert_eq(mp.stacks[0].days_left, 9);
  cr_assert_str_eq(mp.stacks[1].due, "2026-06-15");
  cr_assert_str_eq(mp.due, "2026-03-01");
  cr_assert_eq(mp.days_left, 9);
  cr_assert_not(mp.overdue);
  cr_assert_not(mp.never_tested);

  cr_assert_eq(ph_monitoring_plan(db, &cfg, tz, "p1", "e1", L(2026, 3, 1, 23, 0), &mp, &err), 0);
  cr_assert_eq(mp.days_left, 0);
  cr_assert_not(mp.overdue);
  cr_assert_eq(ph_monitoring_plan(db, &cfg, tz, "p1", "e1", L(2026, 3, 2, 0, 0), &mp, &err), 0);
  cr_assert_eq(mp.days_left, -1);
  cr_assert(mp.overdue);
  cr_assert(mp.stacks[0].overdue);
  cr_assert_not(mp.stacks[1].overdue);

  cr_assert_eq(ph_monitoring_plan(db, &cfg, tz, "p1", "e1", L(2025, 2, 1, 0, 0), &mp, &err), 0);
  cr_assert_eq(mp.nstacks, 1);
  cr_assert_str_eq(mp.stacks[0].last_test, "2024-02-01");
  cr_assert_str_eq(mp.due, "2025-01-31");
  cr_assert_eq(mp.days_left, -1);
  cr_assert(mp.overdue);

  /* interval 180 d: 2025-03-01 + 180 d = 2025-08-28 (Mar 31 + Apr 30 + May 31 + Jun 30 + Jul 31 = 153 → Aug 1, + 27) */
  e->stack_test_interval_days = 180;
  cr_assert_eq(ph_monitoring_plan(db, &cfg, tz, "p1", "e1", L(2025, 8, 1, 0, 0), &mp, &err), 0);
  cr_assert_str_eq(mp.stacks[0].due, "2025-08-28");
  cr_assert_eq(mp.days_left, 27);
  /* unset interval: the default 365 */
  e->stack_test_interval_days = 0;
  cr_assert_eq(ph_monitoring_plan(db, &cfg, tz, "p1", "e1", L(2025, 8, 1, 0, 0), &mp, &err), 0);
  cr_assert_eq(mp.interval_days, 365);
}

Test(inventory, monitoring_plan_never_tested_is_overdue) {
  ent(0, "e1");
  material(point("e1", "wb"), L(2025, 6, 1, 0, 0), "cathode_cu", "out", 1);
  struct ph_monitoring_plan mp;
  struct ph_err err = {0};
  cr_assert_eq(ph_monitoring_plan(db, &cfg, tz, "p1", "e1", L(2025, 8, 1, 0, 0), &mp, &err), 0, "%s", err.msg);
  cr_assert_eq(mp.nstacks, 0);
  cr_assert(mp.never_tested);
  cr_assert(mp.overdue);
}
