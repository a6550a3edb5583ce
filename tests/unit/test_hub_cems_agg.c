/* The daily CEMS aggregates (cems_agg_sql.h, issue #19): kept by
 * ph_cems_update in the transaction that writes the hours, they must equal
 * a recomputation from every hour after late, replayed and out-of-order
 * batches and after a late hour that reopens a closed day; migration 6
 * builds the same rows from an older database (and migration 7 their 8-day
 * blocks, migration 12 their month cells, migration 9 point_first); point_first, kept by the writer,
 * equals a recomputation; and the compliance and mass figures read through them equal the
 * figures read hour by hour (days: from every daily mean). Times
 * park-local (Asia/Shanghai, UTC+8). */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "hub_cems_fixture.h"
#include "domain/cems_agg.h"
#include "domain/cems_agg_sql.h"
#include "domain/compliance.h"
#include "domain/emission_mass.h"

TestSuite(cems_agg, .init = fx_setup, .fini = fx_teardown);

/* The rows of a one-column query, as text joined by ';' ("" when none). */
static char *rows_of(const char *q) {
  sqlite3_stmt *s;
  cr_assert_eq(sqlite3_prepare_v2(db, q, -1, &s, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
  cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
  const unsigned char *t = sqlite3_column_text(s, 0);
  char *r = strdup(t ? (const char *)t : "");
  sqlite3_finalize(s);
  return r;
}

/* The rows of an aggregate cell table (KEY blk_ms or mon_ms), in key order,
 * as text (doubles to 17 digits). */
static char *cell_rows(const char *table, const char *key) {
  char q[1024];
  snprintf(q, sizeof q,
           "SELECT group_concat(r, ';') FROM (SELECT printf('%%d,%%d,%%d,%%d,%%d,%%d,%%s,%%s,"
           "%%s,%%s,%%d,%%.17g', series_id, %s, valid, with_limit, within, exceeded,"
           " coalesce(printf('%%.17g', worst_ratio), '-'), coalesce(worst_hour, '-'),"
           " coalesce(printf('%%.17g', worst_mean), '-'), coalesce(printf('%%.17g', worst_limit), '-'),"
           " used, cq) AS r FROM %s ORDER BY series_id, %s)",
           key, table, key);
  return rows_of(q);
}
static char *dcell_rows(const char *table, const char *key) {
  char q[1024];
  snprintf(q, sizeof q,
           "SELECT group_concat(r, ';') FROM (SELECT printf('%%d,%%d,%%d,%%d,%%d,%%d,%%s,%%s,%%s,%%s,%%s',"
           " series_id, %s, valid, with_limit, within, exceeded,"
           " coalesce(printf('%%.17g', worst_ratio), '-'), coalesce(worst_day, '-'),"
           " coalesce(printf('%%.17g', worst_mean), '-'),"
           " coalesce(printf('%%.17g', worst_converted), '-'),"
           " coalesce(printf('%%.17g', worst_limit), '-')) AS r FROM %s ORDER BY series_id, %s)",
           key, table, key);
  return rows_of(q);
}

/* Every aggregate row, in key order, as text: the days, then the 8-day
 * blocks and the month cells of the days and of the daily means. */
static char *agg_rows(void) {
  cr_assert_gt(q_int("SELECT count(*) FROM cems_agg_days"), 0, "no aggregate row at all");
  char *days = rows_of("SELECT group_concat(r, ';') FROM (SELECT printf('%d,%d,%d,%d,%d,%d,%s,%s,"
                       "%s,%s,%d,%.17g', series_id, day_ms, valid, with_limit, within, exceeded,"
                       " coalesce(printf('%.17g', worst_ratio), '-'), coalesce(worst_hour, '-'),"
                       " coalesce(printf('%.17g', worst_mean), '-'), coalesce(printf('%.17g', worst_limit), '-'),"
                       " used, cq)"
                       " AS r FROM cems_agg_days ORDER BY series_id, day_ms)");
  char *part[4] = {cell_rows("cems_agg_blocks", "blk_ms"), dcell_rows("cems_day_blocks", "blk_ms"),
                   cell_rows("cems_agg_months", "mon_ms"), dcell_rows("cems_day_months", "mon_ms")};
  size_t n = strlen(days) + 16;
  for (int k = 0; k < 4; k++) n += strlen(part[k]);
  char *t = malloc(n);
  cr_assert(t);
  snprintf(t, n, "%s|%s|%s|%s|%s", days, part[0], part[1], part[2], part[3]);
  free(days);
  for (int k = 0; k < 4; k++) free(part[k]);
  return t;
}

/* The incremental rows equal a rebuild from every hour. */
static void check_equal_to_rebuild(const char *when) {
  char *inc = agg_rows();
  struct ph_err err = {0};
  cr_assert_eq(ph_cems_agg_rebuild(db, &err), 0, "%s", err.msg);
  char *full = agg_rows();
  cr_assert_str_eq(inc, full, "after %s: incremental aggregates differ from a recomputation", when);
  free(inc);
  free(full);
}

static int64_t sid_so2, sid_nox, sid_flow, sid2_so2, sid2_flow;

/* Three days (2017-03-01..03) of hourly SO2, NOx and flow at cu-old's
 * stack-1, and SO2 and flow at stack-2, written day 3 first and each day's
 * hours backwards (out of order); SO2 under its limit (150) but for one
 * hour of day 2; an hour missing and an invalid one per day. */
static void three_days(void) {
  sid_so2 = series("cu-old", "stack-1", "so2");
  sid_nox = series("cu-old", "stack-1", "nox");
  sid_flow = series("cu-old", "stack-1", "flow");
  sid2_so2 = series("cu-old", "stack-2", "so2");
  sid2_flow = series("cu-old", "stack-2", "flow");
  for (int d = 3; d >= 1; d--)
    for (int h = 23; h >= 0; h--) {
      int64_t t = local(2017, 3, (unsigned)d, h, 0);
      if (h == 5) continue; /* a gap */
      hourly(sid_so2, t, d == 2 && h == 9 ? 180 : 60 + h + d, h != 7);
      hourly(sid_nox, t, 90 + h, true);
      hourly(sid_flow, t, 40000 + 100 * h + d, h != 3);
      hourly(sid2_so2, t, 30 + d, true);
      hourly(sid2_flow, t, 20000 + h, true);
    }
}

Test(cems_agg, incremental_equals_recomputation_after_late_replayed_and_out_of_order_batches) {
  three_days();
  update(local(2017, 3, 4, 0, 5));
  check_equal_to_rebuild("three out-of-order days");
  /* the day-2 exceedance is in its row */
  char q[200];
  snprintf(q, sizeof q, "SELECT exceeded FROM cems_agg_days WHERE series_id = %lld AND day_ms = %lld",
           (long long)sid_so2, (long long)local(2017, 3, 2, 0, 0));
  cr_assert_eq(q_int(q), 1);

  /* late: day 1 is long closed; its missing 05:00 arrives, over the limit,
   * and a flow hour alone changes (only the flow: SO2's mass must follow) */
  int64_t late = local(2017, 3, 1, 5, 0);
  hourly(sid_so2, late, 200, true);
  hourly(sid_flow, late, 45000, true);
  hour_row(sid2_flow, local(2017, 3, 1, 6, 0), 1, 1, 0, 0, 1.0); /* merged into the hour: its mean changes */
  update(local(2017, 3, 5, 0, 5));
  check_equal_to_rebuild("a late hour reopening a closed day");
  cr_assert_eq(q_int("SELECT total(exceeded) FROM cems_agg_days"), 2, "the late exceedance is counted");

  /* replayed: the same hours of day 3 again (the upsert merges them) */
  for (int h = 0; h < 24; h += 3) {
    int64_t t = local(2017, 3, 3, h, 0);
    hour_row(sid_so2, t, 1, 1, 60 + h + 3, 60 + h + 3, 1.0);
    hour_row(sid_flow, t, 1, 1, 40000 + 100 * h + 3, 40000 + 100 * h + 3, 1.0);
  }
  update(local(2017, 3, 5, 1, 5));
  check_equal_to_rebuild("a replayed batch");

  /* a bounded update stops between hours: the rows are still right */
  for (int h = 0; h < 24; h++) hour_row(sid_nox, local(2017, 3, 2, h, 0), 1, 1, 300, 300, 1.0);
  while (update_some(local(2017, 3, 5, 2, 5), 5) == 1) {
  }
  check_equal_to_rebuild("updates bounded to 5 hours each");
}

/* point_first's rows, and the same recomputed from every hour rollup
 * (store_sql.h, migration 9), as text. */
static char *first_rows(void) {
  return rows_of("SELECT group_concat(r, ';') FROM (SELECT printf('%d,%d', point_id, first_ms) AS r"
                 " FROM point_first ORDER BY point_id)");
}
static char *first_recomputed(void) {
  return rows_of("SELECT group_concat(r, ';') FROM (SELECT printf('%d,%d', s.point_id, min(r.bucket_ms)) AS r"
                 " FROM rollups r JOIN series s ON s.id = r.series_id WHERE r.period = 1"
                 " GROUP BY s.point_id ORDER BY s.point_id)");
}
static void check_first_equal(const char *when) {
  char *inc = first_rows(), *full = first_recomputed();
  cr_assert_neq(full[0], 0, "after %s: no hour rollup at all", when);
  cr_assert_str_eq(inc, full, "after %s: point_first differs from a recomputation", when);
  free(inc);
  free(full);
}

/* point_first (migration 9), kept by ph_store_rollup: each point's first
 * hour rollup, whatever the order the hours come in. */
Test(cems_agg, point_first_equals_recomputation_after_late_replayed_and_out_of_order_batches) {
  three_days(); /* day 3 first, each day's hours backwards */
  check_first_equal("three out-of-order days");
  char q[200];
  snprintf(q, sizeof q, "SELECT first_ms FROM point_first WHERE point_id = (SELECT point_id FROM series"
           " WHERE id = %lld)", (long long)sid_so2);
  cr_assert_eq(q_int(q), local(2017, 3, 1, 0, 0));
  /* late: an hour a week before anything else, of the flow only */
  hourly(sid_flow, local(2017, 2, 22, 13, 0), 41000, true);
  check_first_equal("a late hour before every other");
  cr_assert_eq(q_int(q), local(2017, 2, 22, 13, 0), "the point's first hour moved back to the late one");
  /* replayed: day 2 again, and the late hour again (the upserts merge) */
  for (int h = 0; h < 24; h += 2) hour_row(sid2_so2, local(2017, 3, 2, h, 0), 1, 1, 32, 32, 1.0);
  hour_row(sid_flow, local(2017, 2, 22, 13, 0), 1, 1, 41000, 41000, 1.0);
  check_first_equal("a replayed batch");
  /* a minute row alone is no hour: not a first hour */
  minute_row(sid2_so2, local(2017, 1, 1, 0, 0), 1, 1, 30, 30, 1.0 / 60.0);
  check_first_equal("a minute row alone");
}

/* Every figure of compliance and mass, with and without the aggregates. */
static void same_figures(const char *ent, const char *metric, int64_t from, int64_t to) {
  struct ph_err err = {0};
  struct ph_compliance a, b;
  struct ph_emission_mass ma, mb;
  for (int by = PH_MASS_BY_DAY; by <= PH_MASS_BY_YEAR; by++) {
    ph_cems_agg_use(true);
    cr_assert_eq(ph_compliance_summary(db, &cfg.parks[0], tz, "p1", ent, NULL, metric, from, to, &a, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(ph_emission_mass_compute(db, &cfg.parks[0], tz, cat, "p1", ent, metric, from, to, by, &ma, &err), 0,
                 "%s", err.msg);
    ph_cems_agg_use(false);
    cr_assert_eq(ph_compliance_summary(db, &cfg.parks[0], tz, "p1", ent, NULL, metric, from, to, &b, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(ph_emission_mass_compute(db, &cfg.parks[0], tz, cat, "p1", ent, metric, from, to, by, &mb, &err), 0,
                 "%s", err.msg);
    ph_cems_agg_use(true);
    const struct ph_compliance_periods *pa = &a.hours, *pb = &b.hours;
    cr_assert(pa->valid == pb->valid && pa->with_limit == pb->with_limit && pa->within == pb->within &&
                  pa->exceeded == pb->exceeded && pa->expected == pb->expected && pa->stopped == pb->stopped,
              "%s %s: hour counts differ", ent, metric);
    cr_assert(pa->worst.bucket_ms == pb->worst.bucket_ms && pa->worst.ratio == pb->worst.ratio &&
                  pa->worst.mean == pb->worst.mean && pa->worst.limit == pb->worst.limit &&
                  !strcmp(pa->worst.point, pb->worst.point),
              "%s %s: worst hour differs", ent, metric);
    pa = &a.days, pb = &b.days;
    cr_assert(pa->valid == pb->valid && pa->with_limit == pb->with_limit && pa->within == pb->within &&
                  pa->exceeded == pb->exceeded && pa->expected == pb->expected && pa->stopped == pb->stopped,
              "%s %s: day counts differ", ent, metric);
    cr_assert(pa->worst.bucket_ms == pb->worst.bucket_ms && pa->worst.ratio == pb->worst.ratio &&
                  pa->worst.mean == pb->worst.mean && pa->worst.converted == pb->worst.converted &&
                  pa->worst.limit == pb->worst.limit && !strcmp(pa->worst.point, pb->worst.point),
              "%s %s: worst day differs", ent, metric);
    cr_assert_eq(ma.nrows, mb.nrows);
    for (size_t i = 0; i < ma.nrows; i++) {
      cr_assert_eq(ma.rows[i].hours_used, mb.rows[i].hours_used);
      cr_assert_eq(ma.rows[i].hours_expected, mb.rows[i].hours_expected);
      cr_assert_float_eq(ma.rows[i].mass, mb.rows[i].mass, 1e-9 * (1 + fabs(mb.rows[i].mass)));
    }
    cr_assert_eq(ma.total.hours_used, mb.total.hours_used);
    cr_assert_float_eq(ma.total.mass, mb.total.mass, 1e-9 * (1 + fabs(mb.total.mass)));
    ph_emission_mass_fini(&ma);
    ph_emission_mass_fini(&mb);
  }
}

Test(cems_agg, figures_through_the_aggregates_equal_figures_from_every_hour) {
  three_days();
  update(local(2017, 3, 5, 0, 5));
  cr_assert_gt(q_int("SELECT count(*) FROM cems_agg_days"), 0);
  same_figures("cu-old", "so2", local(2017, 1, 1, 0, 0), local(2018, 1, 1, 0, 0));  /* the year */
  same_figures("cu-old", "so2", local(2017, 3, 1, 0, 0), local(2017, 4, 1, 0, 0));  /* a month */
  same_figures("cu-old", "so2", local(2017, 3, 1, 7, 0), local(2017, 3, 3, 13, 0)); /* edges inside days */
  same_figures("cu-old", "nox", local(2017, 3, 2, 0, 0), local(2017, 3, 3, 0, 0));  /* one whole day */
  same_figures(NULL, "so2", local(2017, 2, 27, 22, 0), local(2017, 3, 9, 0, 0));   /* the park */
  strcpy(cfg.parks[0].ents[0].monitoring_since, "2017-03-02"); /* the window cuts the range */
  same_figures("cu-old", "so2", local(2017, 3, 1, 0, 0), local(2017, 4, 1, 0, 0));
}

/* Three weeks and a half (2017-03-01..24: whole 8-day blocks and days at
 * both ends) of hourly SO2 and flow at cu-old's stack-1, written last day
 * first and each day's hours backwards; SO2 over its limit (150) at 10:00
 * on the 3rd of each week-day pattern, an hour missing and an invalid one
 * a day, and a day with too few valid hours (no valid daily mean). */
static void weeks(void) {
  sid_so2 = series("cu-old", "stack-1", "so2");
  sid_flow = series("cu-old", "stack-1", "flow");
  for (int d = 24; d >= 1; d--)
    for (int h = 23; h >= 0; h--) {
      int64_t t = local(2017, 3, (unsigned)d, h, 0);
      if (h == 5 || (d == 12 && h > 8)) continue; /* a gap; day 12 too short for a daily mean */
      hourly(sid_so2, t, h == 10 && d % 7 == 3 ? 160 + d : 50 + h + d % 5, h != 7);
      hourly(sid_flow, t, 40000 + 100 * h + d, h != 3);
    }
}

Test(cems_agg, blocks_equal_recomputation_after_late_replayed_and_out_of_order_batches) {
  weeks();
  update(local(2017, 3, 26, 0, 5));
  cr_assert_geq(q_int("SELECT count(*) FROM cems_agg_blocks"), 4, "whole blocks and partial ones");
  cr_assert_gt(q_int("SELECT count(*) FROM cems_day_blocks"), 0);
  check_equal_to_rebuild("three weeks written backwards");
  /* late: a missing hour of a closed day inside a whole block, over the
   * limit (its block's worst hour and count change), and the flow of
   * another hour alone (its mass changes) */
  hourly(sid_so2, local(2017, 3, 14, 5, 0), 400, true);
  hourly(sid_flow, local(2017, 3, 14, 5, 0), 50000, true);
  hour_row(sid_flow, local(2017, 3, 15, 6, 0), 1, 1, 0, 0, 1.0);
  update(local(2017, 3, 27, 0, 5));
  check_equal_to_rebuild("late hours reopening closed days");
  char q[240];
  int64_t d14 = local(2017, 3, 14, 0, 0);
  snprintf(q, sizeof q,
           "SELECT worst_hour FROM cems_agg_blocks WHERE series_id = %lld AND blk_ms <= %lld"
           " AND blk_ms + 691200000 > %lld",
           (long long)sid_so2, (long long)d14, (long long)d14);
  cr_assert_eq(q_int(q), local(2017, 3, 14, 5, 0), "the late hour is its block's worst");
  /* replayed: some hours of days 7..9 again (the upsert merges them) */
  for (int d = 7; d <= 9; d++)
    for (int h = 0; h < 24; h += 5) {
      int64_t t = local(2017, 3, (unsigned)d, h, 0);
      hour_row(sid_so2, t, 1, 1, 70 + h, 70 + h, 1.0);
    }
  update(local(2017, 3, 27, 1, 5));
  check_equal_to_rebuild("a replayed batch");
  /* the figures through the blocks equal the figures from every hour */
  same_figures("cu-old", "so2", local(2017, 1, 1, 0, 0), local(2018, 1, 1, 0, 0));   /* the year */
  same_figures("cu-old", "so2", local(2017, 3, 1, 0, 0), local(2017, 4, 1, 0, 0));   /* the month */
  same_figures("cu-old", "so2", local(2017, 3, 2, 5, 0), local(2017, 3, 23, 17, 0)); /* unaligned */
  same_figures("cu-old", "so2", local(2017, 2, 20, 0, 0), local(2017, 3, 19, 0, 0)); /* across two months */
  strcpy(cfg.parks[0].ents[0].monitoring_since, "2017-03-06"); /* the window cuts a block */
  same_figures("cu-old", "so2", local(2017, 3, 1, 0, 0), local(2017, 4, 1, 0, 0));
}

/* material_blocks (migration 7): kept by a trigger on every insert into the
 * ledger, in any order, late records into old blocks included, they equal
 * a recomputation from every record. Quantities are multiples of 0.25, so
 * any order of summing gives the same double. */
Test(cems_agg, material_blocks_equal_recomputation_after_records_in_any_order) {
  (void)series("cu-old", "scale", "so2"); /* makes the point */
  int64_t pt = q_int("SELECT id FROM points WHERE ent = 'cu-old' AND point = 'scale'");
  cr_assert_gt(pt, 0);
  char q[400];
  for (int i = 0; i < 60; i++) {
    int d = (i * 17) % 40 + 1; /* days 1..40, out of order, some twice */
    snprintf(q, sizeof q,
             "INSERT INTO materials(point_id, ts_ms, material, dir, qty_t, agent_id, epoch, seq)"
             " VALUES(%lld, %lld, '%s', '%s', %.2f, 1, 1, %d)",
             (long long)pt, (long long)(local(2017, 1, 1, 8, 0) + (int64_t)d * 86400000LL + i * 60000LL),
             i % 3 ? "scrap_cu" : "cathode", i % 3 ? "in" : "out", 10 + 0.25 * (i % 9), i);
    sql(q);
  }
  const char *inc_q = "SELECT group_concat(r, ';') FROM (SELECT printf('%d,%d,%s,%s,%.17g,%d', point_id, blk_ms,"
                      " material, dir, qty_t, n) AS r FROM material_blocks ORDER BY point_id, blk_ms, material, dir)";
  const char *full_q = "SELECT group_concat(r, ';') FROM (SELECT printf('%d,%d,%s,%s,%.17g,%d', point_id, b,"
                       " material, dir, total(qty_t), count(*)) AS r FROM (SELECT *, ts_ms - ts_ms % 691200000 AS b"
                       " FROM materials) GROUP BY point_id, b, material, dir ORDER BY point_id, b, material, dir)";
  char *inc = rows_of(inc_q), *full = rows_of(full_q);
  cr_assert_gt(q_int("SELECT count(DISTINCT blk_ms) FROM material_blocks"), 4, "several blocks");
  cr_assert_str_eq(inc, full, "material blocks differ from a recomputation");
  free(inc);
  free(full);
}

Test(cems_agg, migrations_6_to_12_build_them_from_an_older_database) {
  char path[] = "/tmp/ph_cems_agg_XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  close(fd);
  struct ph_err err = {0};
  ph_store_close(st);
  cr_assert_eq(ph_store_open(path, &st, &err), 0, "%s", err.msg);
  db = ph_store_db(st);
  three_days();
  update(local(2017, 3, 4, 0, 5));
  int64_t pt = q_int("SELECT point_id FROM series LIMIT 1");
  for (int i = 0; i < 12; i++) {
    char q[300];
    snprintf(q, sizeof q,
             "INSERT INTO materials(point_id, ts_ms, material, dir, qty_t, agent_id, epoch, seq)"
             " VALUES(%lld, %lld, 'scrap_cu', 'in', %d.5, 1, 1, %d)",
             (long long)pt, (long long)(local(2017, 2, 1, 0, 0) + (int64_t)i * 5 * 86400000LL), i, i);
    sql(q);
  }
  const char *mat_q = "SELECT group_concat(r, ';') FROM (SELECT printf('%d,%d,%s,%s,%.17g,%d', point_id, blk_ms,"
                      " material, dir, qty_t, n) AS r FROM material_blocks ORDER BY point_id, blk_ms, material, dir)";
  char *kept = agg_rows(), *kept_mat = rows_of(mat_q), *kept_first = first_rows();
  /* what a version-5 database looks like: hours, no aggregates */
  sql("DROP TABLE cems_agg_days; DROP INDEX cems_op_hours_op; DROP INDEX cems_ent_op_hours_op;"
      " DROP TABLE cems_agg_blocks; DROP TABLE cems_day_blocks; DROP INDEX materials_point_ts;"
      " DROP TABLE cems_agg_months; DROP TABLE cems_day_months;"
      " DROP TRIGGER material_blocks_add; DROP TABLE material_blocks;"
      " CREATE INDEX materials_point_ts ON materials(point_id, ts_ms); DROP TABLE point_first;"
      " PRAGMA user_version = 5");
  ph_store_close(st);
  cr_assert_eq(ph_store_open(path, &st, &err), 0, "%s", err.msg);
  db = ph_store_db(st);
  cr_assert_eq(q_int("PRAGMA user_version"), PH_STORE_VERSION);
  char *built = agg_rows(), *built_mat = rows_of(mat_q);
  cr_assert_str_eq(kept, built);
  cr_assert_str_eq(kept_mat, built_mat);
  char *built_first = first_rows();
  cr_assert_str_eq(kept_first, built_first, "migration 8 builds point_first as the writer kept it");
  cr_assert_neq(kept_first[0], 0);
  free(kept_first);
  free(built_first);
  cr_assert_eq(q_int("SELECT count(*) FROM material_blocks"), 8, "60 days of records: 8 blocks");
  free(kept);
  free(built);
  free(kept_mat);
  free(built_mat);
  char side[sizeof path + 8];
  unlink(path);
  snprintf(side, sizeof side, "%s-wal", path);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", path);
  unlink(side);
}

/* ph_cems_count_hours counts whole days at a time: the same count as
 * walking every local hour, across DST changes and odd edges. */
Test(cems_agg, hours_counted_by_days_equal_hours_walked) {
  static const char *const zones[] = {"Europe/Berlin", "Asia/Shanghai", "Asia/Kolkata", "Australia/Lord_Howe"};
  for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
    struct ph_tz *zt;
    struct ph_err err = {0};
    cr_assert_eq(ph_tz_load(zones[z], &zt, &err), 0, "%s", err.msg);
    int64_t t0 = 1483228800000LL; /* 2017-01-01T00:00Z */
    for (int i = 0; i < 40; i++) {
      int64_t from = t0 + (int64_t)i * 9 * 86400000LL + i * 1234567LL, to = from + (int64_t)(i * 97 + 5) * H + i * 7777;
      int64_t walked = 0, h = ph_tz_hour_start(zt, from);
      if (h < from) h = ph_cems_next_hour(zt, h);
      for (; h < to && walked < 100000; h = ph_cems_next_hour(zt, h)) walked++;
      cr_assert_eq(ph_cems_count_hours(zt, from, to), walked, "%s, range %d", zones[z], i);
    }
    int64_t y0 = 1483228800000LL - 2 * H, y1 = y0 + 365 * 86400000LL; /* a year around two DST changes */
    int64_t walked = 0, h = ph_tz_hour_start(zt, y0);
    if (h < y0) h = ph_cems_next_hour(zt, h);
    for (; h < y1 && walked < 100000; h = ph_cems_next_hour(zt, h)) walked++;
    cr_assert_eq(ph_cems_count_hours(zt, y0, y1), walked, "%s, a year", zones[z]);
    ph_tz_free(zt);
  }
}

/* ---- month cells (migration 12) ---- */

/* CEMS_AGG_SQL_MON and CEMS_AGG_SQL_MON_END give the same cell as
 * ph_cems_agg_month_floor and _next, for instants from 1900 to 2100 and
 * at the cells' edges; a cell holds its instant; in Asia/Shanghai (+8 h)
 * the days of a local month share one cell and the next month's 1st is in
 * the next. */
Test(cems_agg, month_cells_in_sql_and_in_c_agree) {
  sqlite3_stmt *s;
  cr_assert_eq(sqlite3_prepare_v2(db, "SELECT " CEMS_AGG_SQL_MON("?1") ", " CEMS_AGG_SQL_MON_END(CEMS_AGG_SQL_MON("?1")),
                                  -1, &s, NULL),
               SQLITE_OK, "%s", sqlite3_errmsg(db));
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  const int64_t lo = -2208988800000LL, span = 4102444800000LL - lo; /* 1900-01-01 .. 2100-01-01 */
  for (int i = 0; i < 30000; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    int64_t t = lo + (int64_t)(x % (uint64_t)span);
    int64_t c = ph_cems_agg_month_floor(t), n = ph_cems_agg_month_next(c);
    if (i % 3 == 1) t = c; /* a cell's first instant */
    if (i % 3 == 2) t = c - 1; /* the previous cell's last */
    c = ph_cems_agg_month_floor(t), n = ph_cems_agg_month_next(c);
    cr_assert(c <= t && t < n && n - c >= 28LL * 86400000 && n - c <= 31LL * 86400000, "%lld", (long long)t);
    sqlite3_bind_int64(s, 1, t);
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int64(s, 0), c, "SQL's cell of %lld", (long long)t);
    cr_assert_eq(sqlite3_column_int64(s, 1), n, "SQL's cell end of %lld", (long long)t);
    sqlite3_reset(s);
  }
  sqlite3_finalize(s);
  static const unsigned last[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  for (unsigned m = 1; m <= 12; m++) {
    int64_t c = ph_cems_agg_month_floor(local(2017, m, 1, 0, 0));
    cr_assert_eq(ph_cems_agg_month_floor(local(2017, m, last[m - 1], 0, 0)), c, "month %u", m);
    cr_assert_neq(ph_cems_agg_month_floor(local(2017, m, 1, 0, 0) - 86400000), c, "month %u", m);
  }
}

/* The parts of a range hold each of its days once (cems_agg.c inv. 3):
 * counted day by day in Asia/Shanghai for many ranges of 2016-2018. */
Test(cems_agg, parts_hold_each_day_of_a_range_once) {
  uint64_t x = 0x2545F4914F6CDD1DULL;
  for (int i = 0; i < 3000; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    int64_t d0 = local(2016, 1, 1, 0, 0) + (int64_t)(x % 1000) * 86400000;
    int64_t d1 = d0 + (int64_t)((x >> 20) % (i % 2 ? 70 : 500)) * 86400000;
    int64_t b[2 * PH_CEMS_AGG_PARTS];
    ph_cems_agg_parts(tz, d0, d1, b);
    for (int64_t d = d0 - 40 * 86400000LL; d < d1 + 40 * 86400000LL; d += 86400000) {
      int held = 0;
      for (int k = 0; k < PH_CEMS_AGG_PARTS; k++) {
        if (b[2 * k] >= b[2 * k + 1]) continue;
        int64_t key = k == 3 ? ph_cems_agg_month_floor(d) : (k == 1 || k == 5) ? d - ((d % 691200000) + 691200000) % 691200000 : d;
        held += key >= b[2 * k] && key < b[2 * k + 1];
      }
      cr_assert_eq(held, d >= d0 && d < d1, "day %lld of [%lld, %lld)", (long long)d, (long long)d0, (long long)d1);
    }
    if (d1 - d0 >= 62LL * 86400000) cr_assert_lt(b[6], b[7], "a month cell in two months");
  }
  int64_t b[2 * PH_CEMS_AGG_PARTS];
  ph_cems_agg_parts(tz, local(2017, 3, 1, 0, 0), local(2017, 4, 1, 0, 0), b);
  for (int k = 0; k < PH_CEMS_AGG_PARTS; k++)
    cr_assert_eq(b[2 * k] < b[2 * k + 1], k == 3, "a local month is its cell alone (part %d)", k);
}

/* Ten weeks (2017-02-20..04-30) of hourly SO2 and flow, written last day
 * first: March and April are whole cells; late hours reopen days of a
 * whole cell, replays merge; the cells equal a recomputation, and the
 * figures through them equal the figures from every hour. */
Test(cems_agg, month_cells_equal_recomputation_and_give_the_figures_of_every_hour) {
  sid_so2 = series("cu-old", "stack-1", "so2");
  sid_flow = series("cu-old", "stack-1", "flow");
  int64_t first = local(2017, 2, 20, 0, 0);
  for (int d = 69; d >= 0; d--)
    for (int h = 23; h >= 0; h -= 2) {
      int64_t t = first + (int64_t)d * 86400000 + (int64_t)h * 3600000;
      hourly(sid_so2, t, h == 10 && d % 9 == 4 ? 150.5 + d : 40 + h + d % 7, h != 7);
      hourly(sid_flow, t, 40000 + 100 * h + d, h != 3);
    }
  update(local(2017, 5, 2, 0, 5));
  cr_assert_geq(q_int("SELECT count(*) FROM cems_agg_months"), 6, "Feb, Mar, Apr of two series");
  cr_assert_gt(q_int("SELECT count(*) FROM cems_day_months"), 0);
  check_equal_to_rebuild("ten weeks written backwards");
  hourly(sid_so2, local(2017, 3, 14, 4, 0), 400, true); /* a missing hour, over the limit */
  hourly(sid_flow, local(2017, 4, 30, 22, 0), 50000, true); /* the last day of a cell */
  update(local(2017, 5, 3, 0, 5));
  check_equal_to_rebuild("late hours reopening closed days of whole cells");
  char q[240];
  snprintf(q, sizeof q, "SELECT worst_hour FROM cems_agg_months WHERE series_id = %lld AND mon_ms = %lld",
           (long long)sid_so2, (long long)ph_cems_agg_month_floor(local(2017, 3, 1, 0, 0)));
  cr_assert_eq(q_int(q), local(2017, 3, 14, 4, 0), "the late hour is its month's worst");
  same_figures("cu-old", "so2", local(2017, 1, 1, 0, 0), local(2018, 1, 1, 0, 0));   /* the year */
  same_figures("cu-old", "so2", local(2017, 3, 1, 0, 0), local(2017, 4, 1, 0, 0));   /* March */
  same_figures("cu-old", "so2", local(2017, 3, 1, 0, 0), local(2017, 5, 1, 0, 0));   /* two cells */
  same_figures("cu-old", "so2", local(2017, 2, 21, 5, 0), local(2017, 4, 23, 17, 0)); /* all seven parts */
  same_figures(NULL, "so2", local(2017, 2, 1, 0, 0), local(2017, 5, 1, 0, 0));      /* the park */
  strcpy(cfg.parks[0].ents[0].monitoring_since, "2017-03-10"); /* the window cuts a cell */
  same_figures("cu-old", "so2", local(2017, 1, 1, 0, 0), local(2018, 1, 1, 0, 0));
}
