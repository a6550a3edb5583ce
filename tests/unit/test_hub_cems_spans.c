/* The park's grouped span reads (cems_spans.h, issue #19): inside a
 * whole-park bracket compliance and mass read every point's span rows,
 * point listings and closed-until from one statement per park, figure and
 * pollutant; every figure must be exactly (bit for bit, the mass's doubles
 * included) what the per-point statements give outside a bracket, also
 * where a monitoring window gives one enterprise other days than the
 * grouped read (inv. 2: its own statements answer). Times park-local
 * (Asia/Shanghai, UTC+8). */
#include <stdio.h>

#include "hub_cems_fixture.h"
#include "domain/cems_agg.h"
#include "domain/cems_agg_sql.h"
#include "domain/cems_spans.h"
#include "domain/compliance.h"
#include "domain/emission_mass.h"
#include "domain/stmt_cache.h"

TestSuite(cems_spans, .init = fx_setup, .fini = fx_teardown);

static int64_t sid_so2;

/* Forty-four days (2017-02-22..04-06: March whole, so its month cell, and
 * 8-day blocks and days around it)
 * of hourly SO2, NOx and flow at cu-old's stack-1 and stack-2 and at
 * cu-new's stack-1 (two enterprises, one with two points); SO2 over its
 * limit some hours, a gap and an invalid hour a day, day 12 too short for
 * a daily mean; masses of many digits so that the order of a sum shows. */
static void data(void) {
  static const char *const pts[][2] = {{"cu-old", "stack-1"}, {"cu-old", "stack-2"}, {"cu-new", "stack-1"}};
  for (size_t p = 0; p < 3; p++) {
    int64_t so2 = series(pts[p][0], pts[p][1], "so2"), nox = series(pts[p][0], pts[p][1], "nox");
    int64_t flow = series(pts[p][0], pts[p][1], "flow");
    if (p == 0) sid_so2 = so2;
    for (int d = 36; d >= -7; d--) /* 03-01 + d - 1 */
      for (int h = 23; h >= 0; h--) {
        int64_t t = local(2017, 3, 1, h, 0) + (int64_t)(d - 1) * 86400000;
        if (h == 5 || (d == 12 && h > 8)) continue;
        hourly(so2, t, h == 10 && d % 7 == 3 ? 160.3 + d + (double)p : 50.17 + h * 1.31 + d % 5 + (double)p / 3, h != 7);
        hourly(nox, t, 90.7 + h * 0.37 + (double)p, true);
        hourly(flow, t, 40000.3 + 101.7 * h + d * 1.1 + (double)p * 7, h != 3);
      }
  }
  update(local(2017, 4, 8, 0, 5));
  cr_assert_gt(q_int("SELECT count(*) FROM cems_agg_blocks"), 0, "whole blocks in the range");
  cr_assert_gt(q_int("SELECT count(*) FROM cems_agg_months"), 0, "month cells");
}

struct figs {
  struct ph_compliance c;
  struct ph_emission_mass m;
};

static void figures(const char *ent, const char *metric, int64_t from, int64_t to, enum ph_mass_by by, struct figs *f) {
  struct ph_err err = {0};
  cr_assert_eq(ph_compliance_summary(db, &cfg.parks[0], tz, "p1", ent, NULL, metric, from, to, &f->c, &err), 0, "%s",
               err.msg);
  cr_assert_eq(ph_emission_mass_compute(db, &cfg.parks[0], tz, cat, "p1", ent, metric, from, to, by, &f->m, &err), 0,
               "%s", err.msg);
}

static bool same_double(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

static void same_periods(const struct ph_compliance_periods *a, const struct ph_compliance_periods *b,
                         const char *what) {
  cr_assert(a->valid == b->valid && a->with_limit == b->with_limit && a->within == b->within &&
                a->exceeded == b->exceeded && a->expected == b->expected && a->stopped == b->stopped &&
                a->transition == b->transition,
            "%s: counts differ", what);
  cr_assert(a->worst.bucket_ms == b->worst.bucket_ms && same_double(a->worst.ratio, b->worst.ratio) &&
                same_double(a->worst.mean, b->worst.mean) && same_double(a->worst.converted, b->worst.converted) &&
                same_double(a->worst.limit, b->worst.limit) && !strcmp(a->worst.point, b->worst.point),
            "%s: worst period differs", what);
}

static void same_figs(const struct figs *a, const struct figs *b, const char *what) {
  char w[160];
  snprintf(w, sizeof w, "%s hours", what);
  same_periods(&a->c.hours, &b->c.hours, w);
  snprintf(w, sizeof w, "%s days", what);
  same_periods(&a->c.days, &b->c.days, w);
  cr_assert(a->c.npoints == b->c.npoints && a->c.nmonitored == b->c.nmonitored, "%s: points differ", what);
  cr_assert_eq(a->m.nrows, b->m.nrows, "%s: mass rows", what);
  for (size_t i = 0; i < a->m.nrows; i++)
    cr_assert(a->m.rows[i].hours_used == b->m.rows[i].hours_used &&
                  a->m.rows[i].hours_expected == b->m.rows[i].hours_expected &&
                  same_double(a->m.rows[i].mass, b->m.rows[i].mass),
              "%s: mass row %zu differs (%.17g, %.17g)", what, i, a->m.rows[i].mass, b->m.rows[i].mass);
  cr_assert(same_double(a->m.total.mass, b->m.total.mass) && a->m.total.hours_used == b->m.total.hours_used,
            "%s: total mass differs", what);
  cr_assert(a->m.npoints == b->m.npoints && a->m.nmonitored == b->m.nmonitored, "%s: mass points differ", what);
}

/* Every enterprise and pollutant over [from, to), each mass by day, month
 * and year: per point outside a bracket, then grouped inside one; the
 * grouped read must have answered (else this test proves nothing). */
static void same_grouped(int64_t from, int64_t to) {
  static const char *const ents[] = {"cu-old", "cu-special", "cu-new"};
  static const char *const metrics[] = {"so2", "nox"};
  enum { NE = 3, NM = 2, NB = 3 };
  static struct figs a[NE][NM][NB], b[NE][NM][NB];
  for (int pass = 0; pass < 2; pass++) {
    if (pass) {
      ph_stmt_cache_begin(db);
      ph_cems_spans_park("p1");
    }
    for (int e = 0; e < NE; e++)
      for (int m = 0; m < NM; m++)
        for (int k = 0; k < NB; k++)
          figures(ents[e], metrics[m], from, to, (enum ph_mass_by)(PH_MASS_BY_DAY + k), pass ? &b[e][m][k] : &a[e][m][k]);
    if (pass) {
      int64_t d0, d1;
      ph_cems_agg_days_in(tz, from, to, &d0, &d1);
      const struct ph_span_row *rows;
      size_t n;
      struct ph_err err = {0};
      cr_assert_eq(ph_cems_spans_get(db, PH_SPAN_AGG, "so2", tz, sid_so2, d0, d1, &rows, &n, &err), 1,
                   "the grouped read answers inside the bracket");
      ph_stmt_cache_end(db);
    }
  }
  for (int e = 0; e < NE; e++)
    for (int m = 0; m < NM; m++)
      for (int k = 0; k < NB; k++) {
        char what[96];
        snprintf(what, sizeof what, "%s %s by %d", ents[e], metrics[m], k);
        same_figs(&b[e][m][k], &a[e][m][k], what);
        ph_emission_mass_fini(&a[e][m][k].m);
        ph_emission_mass_fini(&b[e][m][k].m);
      }
}

Test(cems_spans, grouped_figures_equal_per_point_figures_bit_for_bit) {
  data();
  same_grouped(local(2017, 3, 1, 0, 0), local(2017, 4, 1, 0, 0));   /* the month: its cell */
  same_grouped(local(2017, 2, 23, 7, 0), local(2017, 4, 5, 9, 0));  /* edge hours, days, blocks, the cell */
  same_grouped(local(2017, 1, 1, 0, 0), local(2018, 1, 1, 0, 0));   /* the year */
  same_grouped(local(2017, 3, 2, 5, 0), local(2017, 3, 19, 17, 0)); /* edges inside days */
  same_grouped(local(2017, 3, 4, 0, 0), local(2017, 3, 6, 0, 0));   /* no whole block */
}

Test(cems_spans, an_enterprise_whose_window_cuts_the_range_reads_its_own_rows_and_gets_the_same) {
  data();
  strcpy(cfg.parks[0].ents[0].monitoring_since, "2017-03-07"); /* cu-old: other days than the park's read */
  same_grouped(local(2017, 3, 1, 0, 0), local(2017, 4, 1, 0, 0));
}

/* Stopped hours (op 1: the gap hour, an invalid hour and some valid
 * ones) of cu-old's stack-1 for two days and of the whole cu-new for one,
 * and startup hours (op 2): read once for the mass and the compliance
 * inside the bracket (monitoring.c inv. 5), the same figures. */
Test(cems_spans, stopped_and_startup_hours_read_once_give_the_same_figures) {
  data();
  char q[512];
  for (int d = 4; d <= 5; d++)
    for (int h = 3; h <= 9; h++) {
      int64_t t = local(2017, 3, (unsigned)d, h, 0), day = local(2017, 3, (unsigned)d, 0, 0);
      snprintf(q, sizeof q,
               "INSERT OR REPLACE INTO cems_op_hours(point_id, hour_ms, day_ms, op) SELECT id, %lld, %lld, %d FROM points"
               " WHERE ent = 'cu-old' AND point = 'stack-1'",
               (long long)t, (long long)day, h < 8 ? 1 : 2);
      cr_assert_eq(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    }
  for (int h = 0; h < 24; h++) {
    int64_t t = local(2017, 3, 15, h, 0), day = local(2017, 3, 15, 0, 0);
    snprintf(q, sizeof q,
             "INSERT OR REPLACE INTO cems_ent_op_hours(park, ent, hour_ms, day_ms, op) VALUES('p1', 'cu-new', %lld, %lld, %d)",
             (long long)t, (long long)day, h < 20 ? 1 : 2);
    cr_assert_eq(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
  }
  same_grouped(local(2017, 3, 1, 0, 0), local(2017, 4, 1, 0, 0));
  same_grouped(local(2017, 3, 4, 5, 0), local(2017, 3, 15, 12, 0));
  struct figs f;
  figures("cu-old", "so2", local(2017, 3, 1, 0, 0), local(2017, 4, 1, 0, 0), PH_MASS_BY_YEAR, &f);
  cr_assert_gt(f.c.hours.stopped, 0, "stopped hours counted");
  cr_assert_gt(f.m.total.hours_stopped, 0, "stopped hours left out of the mass's expected hours");
  ph_emission_mass_fini(&f.m);
}

Test(cems_spans, a_point_without_a_first_data_row_reads_its_own_rows_and_gets_the_same) {
  data();
  cr_assert_gt(q_int("SELECT count(*) FROM point_first"), 0);
  /* as rows written by SQL, not through the writer (bench/query's gen.sql before --aggregate) */
  cr_assert_eq(sqlite3_exec(db, "DELETE FROM point_first WHERE point_id IN (SELECT id FROM points WHERE ent = 'cu-new')",
                            NULL, NULL, NULL), SQLITE_OK);
  same_grouped(local(2017, 3, 1, 0, 0), local(2017, 4, 1, 0, 0));
}

/* The grouped rows of a series over [d0, d1) are its own span statement's
 * rows, in order (inv. 1): at least min rows. */
static void rows_as_statement(int64_t d0, int64_t d1, size_t min) {
  ph_stmt_cache_begin(db);
  ph_cems_spans_park("p1");
  const struct ph_span_row *rows;
  size_t n;
  struct ph_err err = {0};
  cr_assert_eq(ph_cems_spans_get(db, PH_SPAN_AGG, "so2", tz, sid_so2, d0, d1, &rows, &n, &err), 1, "%s", err.msg);
  sqlite3_stmt *s;
  cr_assert_eq(sqlite3_prepare_v2(db, CEMS_AGG_SQL_HOUR_SPAN, -1, &s, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
  int64_t t[2 * PH_CEMS_AGG_PARTS];
  ph_cems_agg_parts(tz, d0, d1, t);
  sqlite3_bind_int64(s, 1, sid_so2);
  for (int k = 0; k < 2 * PH_CEMS_AGG_PARTS; k++) sqlite3_bind_int64(s, 2 + k, t[k]);
  size_t i = 0;
  for (; sqlite3_step(s) == SQLITE_ROW; i++) {
    cr_assert_lt(i, n, "the statement has more rows than the grouped read");
    for (int k = 0; k < 4; k++) {
      cr_assert_eq(rows[i].n[k], sqlite3_column_int64(s, k), "row %zu column %d", i, k);
      cr_assert(same_double(rows[i].w[k], sqlite3_column_double(s, 4 + k)), "row %zu column %d", i, 4 + k);
    }
    cr_assert_eq(rows[i].has_bucket, sqlite3_column_type(s, 8) != SQLITE_NULL, "row %zu", i);
    cr_assert_eq(rows[i].bucket, sqlite3_column_int64(s, 8), "row %zu", i);
  }
  sqlite3_finalize(s);
  cr_assert_eq(i, n, "as many rows");
  cr_assert_geq(n, min);
  ph_stmt_cache_end(db);
}

Test(cems_spans, a_series_rows_are_its_span_statements_rows_in_order) {
  data();
  int64_t d0 = local(2017, 3, 1, 0, 0), d1 = local(2017, 3, 20, 0, 0), b0, b1;
  ph_cems_agg_blocks_in(d0, d1, &b0, &b1);
  cr_assert(b1 > b0 && b0 > d0 && d1 > b1, "days, blocks and days");
  rows_as_statement(d0, d1, 4); /* edge days and blocks */
  int64_t t[2 * PH_CEMS_AGG_PARTS];
  d0 = local(2017, 2, 22, 0, 0), d1 = local(2017, 4, 6, 0, 0);
  ph_cems_agg_parts(tz, d0, d1, t);
  cr_assert(t[1] > t[0] && t[7] > t[6] && t[9] > t[8], "days before March, its cell, days after");
  rows_as_statement(d0, d1, 12); /* 6 days, March, 6 days */
}

Test(cems_spans, no_grouped_read_outside_a_whole_park_bracket) {
  data();
  const struct ph_span_row *rows;
  size_t n;
  struct ph_err err = {0};
  int64_t d0 = local(2017, 3, 1, 0, 0), d1 = local(2017, 3, 20, 0, 0);
  ph_cems_spans_park("p1"); /* outside a bracket: ignored */
  cr_assert_eq(ph_cems_spans_get(db, PH_SPAN_AGG, "so2", tz, sid_so2, d0, d1, &rows, &n, &err), 0);
  ph_stmt_cache_begin(db); /* a bracket without the hint (one enterprise's summary) */
  cr_assert_eq(ph_cems_spans_get(db, PH_SPAN_AGG, "so2", tz, sid_so2, d0, d1, &rows, &n, &err), 0);
  ph_cems_spans_park("p1");
  cr_assert_eq(ph_cems_spans_get(db, PH_SPAN_AGG, "so2", tz, sid_so2, d0, d1, &rows, &n, &err), 1);
  ph_stmt_cache_end(db); /* the hint ends with its bracket */
  ph_stmt_cache_begin(db);
  cr_assert_eq(ph_cems_spans_get(db, PH_SPAN_AGG, "so2", tz, sid_so2, d0, d1, &rows, &n, &err), 0);
  ph_stmt_cache_end(db);
}
