/* Cleaner-production and recycling indicators (indicators.h) on a small
 * hand-computed fixture in an in-memory store; every expected number is
 * derived in the comments. Park zone Asia/Shanghai (UTC+8): L() is local
 * time, so month boundaries are local midnights.
 *
 * Copper contents (built-in catalogue): scrap_cu_1 0.99, scrap_cu_2 0.95,
 * scrap_cu_mixed 0.80, cathode_cu 0.9999, cu_alloy 0.65, slag 0.01,
 * flue_dust 0.05, lime and activated_carbon 0.
 *
 * smelter, 2025 (baseline year 2020):
 *   March  in:  scrap_cu_1 100 t, scrap_cu_mixed 50 t (Mar 31 23:30 local), lime 1 t,
 *               activated_carbon 0.5 t, cathode_cu 5 t (a product coming in: not counted)
 *          out: cathode_cu 120 t, slag 10 t, flue_dust 2 t
 *          day rollups: electricity 30 000 (Mar 1) + 30 000 (Mar 15) kWh, water 240 m³ (Mar 3),
 *                       fuel_gas 12 000 Nm³ (Mar 2), furnace_temp (a mean metric: ignored);
 *                       an hour rollup of electricity (ignored: day rollups are summed)
 *   April  in:  scrap_cu_2 200 t (Apr 1 00:10 local = Mar 31 16:10 UTC)
 *          out: cathode_cu 180 t, slag 18 t
 *          day rollups: electricity 90 000 kWh (Apr 10), water 360 m³ (Apr 5)
 *   2020   in: scrap_cu_2 120 t; out: cathode_cu 100 t, slag 15 t;
 *          electricity 60 000 kWh, water 300 m³
 * foundry, 2025 (baseline year 2021): in scrap_cu_2 80 t; out cu_alloy 100 t; electricity 20 000 kWh
 *          2021: in scrap_cu_2 40 t; out cu_alloy 50 t; electricity 15 000 kWh */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "parkhub/catalog.h"
#include "parkhub/hub_config.h"
#include "parkhub/indicators.h"
#include "parkhub/store.h"
#include "parkhub/timefmt.h"
#include "parkhub/tz.h"

#define EPS 1e-9

static struct ph_store *st;
static sqlite3 *db;
static struct ph_tz *tz;
static struct ph_catalog *cat;
static struct ph_hub_config cfg;
static struct ph_hub_ent ents[3];
static struct ph_indicators *ind;

static int64_t L(int y, unsigned m, unsigned d, int h, int mi) {
  return (ph_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 - 8 * 3600) * 1000LL;
}

static void exec(const char *sql) {
  char *msg = NULL;
  cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK, "%s: %s", sql, msg);
}

static int64_t point(const char *ent, const char *p) {
  char sql[256];
  snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO points(park, ent, point) VALUES('p1', '%s', '%s')", ent, p);
  exec(sql);
  sqlite3_stmt *s;
  sqlite3_prepare_v2(db, "SELECT id FROM points WHERE park = 'p1' AND ent = ?1 AND point = ?2", -1, &s, NULL);
  sqlite3_bind_text(s, 1, ent, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, p, -1, SQLITE_STATIC);
  cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
  int64_t id = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return id;
}

static void material(const char *ent, int64_t ts, const char *code, const char *dir, double t) {
  char sql[320];
  snprintf(sql, sizeof sql,
           "INSERT INTO materials(point_id, ts_ms, material, dir, qty_t, agent_id, epoch, seq)"
           " VALUES(%lld, %lld, '%s', '%s', %.17g, 1, 1, 1)",
           (long long)point(ent, "weighbridge"), (long long)ts, code, dir, t);
  exec(sql);
}

/* A rollup of `metric` at point "furnace-1" of ent: period 2 = day (bucket = local midnight), 1 = hour. */
static void sum_rollup(const char *ent, const char *metric, int period, int64_t bucket, double sum) {
  char sql[512];
  int64_t pid = point(ent, "furnace-1");
  snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO metrics(code) VALUES('%s')", metric);
  exec(sql);
  snprintf(sql, sizeof sql,
           "INSERT OR IGNORE INTO series(point_id, metric_id) SELECT %lld, id FROM metrics WHERE code = '%s'",
           (long long)pid, metric);
  exec(sql);
  snprintf(sql, sizeof sql,
           "INSERT INTO rollups(series_id, period, bucket_ms, n, n_valid, sum, sum_valid, min, max, first_ts, first,"
           " last_ts, last, expected) SELECT s.id, %d, %lld, 24, 24, %.17g, %.17g, 0, 0, %lld, 0, %lld, 0, 24"
           " FROM series s JOIN metrics m ON m.id = s.metric_id WHERE s.point_id = %lld AND m.code = '%s'",
           period, (long long)bucket, sum, sum, (long long)bucket, (long long)bucket, (long long)pid, metric);
  exec(sql);
}
static void day(const char *ent, const char *metric, int y, unsigned m, unsigned d, double sum) {
  sum_rollup(ent, metric, 2, L(y, m, d, 0, 0), sum);
}

static struct ph_hub_ent *ent(int i, const char *id, int baseline_year) {
  struct ph_hub_ent *e = &ents[i];
  memset(e, 0, sizeof *e);
  snprintf(e->id, sizeof e->id, "%s", id);
  e->baseline_year = baseline_year;
  e->baseline_pcdd_f_g_teq = -1;
  cfg.parks[0].nents = i + 1;
  return e;
}

static void setup(void) {
  struct ph_err err = {0};
  cr_assert_eq(ph_store_open(":memory:", &st, &err), 0, "%s", err.msg);
  db = ph_store_db(st);
  cr_assert_eq(ph_tz_load("Asia/Shanghai", &tz, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_catalog_load_builtin(&cat, &err), 0, "%s", err.msg);
  memset(&cfg, 0, sizeof cfg);
  cfg.nparks = 1;
  snprintf(cfg.parks[0].id, sizeof cfg.parks[0].id, "p1");
  cfg.parks[0].ents = ents;
  ind = calloc(1, sizeof *ind);
  ent(0, "smelter", 2020);
  ent(1, "foundry", 2021);

  /* smelter, March 2025 */
  material("smelter", L(2025, 3, 5, 9, 0), "scrap_cu_1", "in", 100);
  material("smelter", L(2025, 3, 31, 23, 30), "scrap_cu_mixed", "in", 50);
  material("smelter", L(2025, 3, 6, 9, 0), "lime", "in", 1);
  material("smelter", L(2025, 3, 6, 9, 0), "activated_carbon", "in", 0.5);
  material("smelter", L(2025, 3, 7, 9, 0), "cathode_cu", "in", 5);
  material("smelter", L(2025, 3, 20, 9, 0), "cathode_cu", "out", 120);
  material("smelter", L(2025, 3, 21, 9, 0), "slag", "out", 10);
  material("smelter", L(2025, 3, 22, 9, 0), "flue_dust", "out", 2);
  day("smelter", "electricity", 2025, 3, 1, 30000);
  day("smelter", "electricity", 2025, 3, 15, 30000);
  sum_rollup("smelter", "electricity", 1, L(2025, 3, 15, 10, 0), 1250); /* hour rollup: not summed again */
  day("smelter", "water", 2025, 3, 3, 240);
  day("smelter", "fuel_gas", 2025, 3, 2, 12000);
  day("smelter", "furnace_temp", 2025, 3, 2, 36000);
  /* smelter, April 2025 */
  material("smelter", L(2025, 4, 1, 0, 10), "scrap_cu_2", "in", 200);
  material("smelter", L(2025, 4, 15, 9, 0), "cathode_cu", "out", 180);
  material("smelter", L(2025, 4, 16, 9, 0), "slag", "out", 18);
  day("smelter", "electricity", 2025, 4, 10, 90000);
  day("smelter", "water", 2025, 4, 5, 360);
  /* smelter, 2020 */
  material("smelter", L(2020, 5, 1, 9, 0), "scrap_cu_2", "in", 120);
  material("smelter", L(2020, 5, 20, 9, 0), "cathode_cu", "out", 100);
  material("smelter", L(2020, 5, 21, 9, 0), "slag", "out", 15);
  day("smelter", "electricity", 2020, 5, 10, 60000);
  day("smelter", "water", 2020, 5, 10, 300);
  /* foundry */
  material("foundry", L(2025, 6, 1, 9, 0), "scrap_cu_2", "in", 80);
  material("foundry", L(2025, 6, 2, 9, 0), "cu_alloy", "out", 100);
  day("foundry", "electricity", 2025, 6, 1, 20000);
  material("foundry", L(2021, 6, 1, 9, 0), "scrap_cu_2", "in", 40);
  material("foundry", L(2021, 6, 2, 9, 0), "cu_alloy", "out", 50);
  day("foundry", "electricity", 2021, 6, 1, 15000);
}
static void teardown(void) {
  free(ind);
  ph_catalog_free(cat);
  ph_tz_free(tz);
  ph_store_close(st);
}
TestSuite(indicators, .init = setup, .fini = teardown);

static void run(const char *e, int year, int month) {
  struct ph_err err = {0};
  cr_assert_eq(ph_indicators(db, &cfg, tz, cat, "p1", e, year, month, ind, &err), 0, "%s", err.msg);
}
static double qty(const struct ph_ind_figures *f, const char *code) {
  const struct ph_ind_quantity *q = ph_ind_quantity(f, code);
  cr_assert_not_null(q, "%s", code);
  return q->total;
}
static const struct ph_ind_value *per_t(const struct ph_ind_figures *f, const char *code) {
  const struct ph_ind_quantity *q = ph_ind_quantity(f, code);
  cr_assert_not_null(q, "%s", code);
  return &q->per_t;
}

Test(indicators, a_month) {
  /* March: feed 100 + 50 = 150 t; Cu in 100 × 0.99 + 50 × 0.80 = 99 + 40 = 139 t
   *        product 120 t (the 5 t cathode coming in is not product); Cu out 120 × 0.9999 = 119.988 t
   *        yield 119.988 / 139 = 0.863223021582…
   *        residues 10 + 2 = 12 t → 0.1 t/t; Cu in residues 0.1 + 0.1 = 0.2 t
   *        consumables 1 + 0.5 = 1.5 t → 0.0125 t/t; feed per t 150 / 120 = 1.25
   *        electricity 60 000 kWh → 500 kWh/t; water 240 m³ → 2 m³/t; fuel_gas 12 000 → 100 Nm³/t;
   *        fuel_oil: no data → 0 kg, 0 per t */
  run("smelter", 2025, 3);
  const struct ph_ind_figures *f = &ind->cur;
  cr_assert_eq(ind->from_ms, L(2025, 3, 1, 0, 0));
  cr_assert_eq(ind->to_ms, L(2025, 4, 1, 0, 0));
  cr_assert_float_eq(f->feed_t, 150, EPS);
  cr_assert_float_eq(f->cu_in_t, 139, EPS);
  cr_assert_float_eq(f->product_t, 120, EPS);
  cr_assert_float_eq(f->cu_out_t, 119.988, EPS);
  cr_assert(f->yield.avail);
  cr_assert_float_eq(f->yield.v, 119.988 / 139, EPS);
  cr_assert_float_eq(f->yield.v, 0.863223021582, 1e-12);
  cr_assert_float_eq(f->residue_t, 12, EPS);
  cr_assert_float_eq(f->residue_per_t.v, 0.1, EPS);
  cr_assert_float_eq(f->cu_residue_t, 0.2, EPS);
  cr_assert_float_eq(f->consumable_t, 1.5, EPS);
  cr_assert_float_eq(f->consumable_per_t.v, 0.0125, EPS);
  cr_assert_float_eq(f->feed_per_t.v, 1.25, EPS);
  cr_assert_float_eq(qty(f, "electricity"), 60000, EPS);
  cr_assert_float_eq(per_t(f, "electricity")->v, 500, EPS);
  cr_assert_float_eq(per_t(f, "water")->v, 2, EPS);
  cr_assert_float_eq(per_t(f, "fuel_gas")->v, 100, EPS);
  cr_assert_float_eq(qty(f, "fuel_oil"), 0, EPS);
  cr_assert(per_t(f, "fuel_oil")->avail);
  cr_assert_null(ph_ind_quantity(f, "furnace_temp"), "a mean metric is not a quantity");
  cr_assert_eq(f->nquantities, 4, "electricity, fuel_gas, fuel_oil, water");
  /* per material lines, catalogue order */
  const struct ph_ind_material *c = ph_ind_material(f, "cathode_cu");
  cr_assert_not_null(c);
  cr_assert_float_eq(c->in_t, 5, EPS);
  cr_assert_float_eq(c->out_t, 120, EPS);
  cr_assert_eq(c->role, PH_ROLE_PRODUCT);
  cr_assert_null(ph_ind_material(f, "scrap_cu_2"), "April's scrap (00:10 local on Apr 1) is not in March");
  cr_assert_eq(f->nmaterials, 7);
}

Test(indicators, a_month_and_the_year) {
  /* April: feed 200 t (Apr 1 00:10 local), Cu in 190; product 180, Cu out 179.982;
   *        yield 179.982 / 190 = 0.947273684…; electricity 90 000 → 500 kWh/t; water 360 → 2 m³/t;
   *        residues 18 → 0.1 t/t
   * year:  feed 350, Cu in 329; product 300, Cu out 299.97; yield 299.97 / 329 = 0.911762917933…
   *        electricity 150 000 → 500 kWh/t; water 600 → 2 m³/t; fuel_gas 12 000 → 40 Nm³/t;
   *        residues 30 → 0.1 t/t; feed per t 350 / 300 = 1.1666… */
  run("smelter", 2025, 4);
  cr_assert_float_eq(ind->cur.feed_t, 200, EPS);
  cr_assert_float_eq(ind->cur.yield.v, 179.982 / 190, EPS);
  cr_assert_float_eq(per_t(&ind->cur, "electricity")->v, 500, EPS);
  cr_assert_float_eq(per_t(&ind->cur, "water")->v, 2, EPS);
  cr_assert_float_eq(ind->cur.residue_per_t.v, 0.1, EPS);
  run("smelter", 2025, 0);
  const struct ph_ind_figures *f = &ind->cur;
  cr_assert_eq(ind->from_ms, L(2025, 1, 1, 0, 0));
  cr_assert_eq(ind->to_ms, L(2026, 1, 1, 0, 0));
  cr_assert_float_eq(f->feed_t, 350, EPS);
  cr_assert_float_eq(f->cu_in_t, 329, EPS);
  cr_assert_float_eq(f->product_t, 300, EPS);
  cr_assert_float_eq(f->cu_out_t, 299.97, EPS);
  cr_assert_float_eq(f->yield.v, 0.911762917933, 1e-12);
  cr_assert_float_eq(qty(f, "electricity"), 150000, EPS);
  cr_assert_float_eq(per_t(f, "electricity")->v, 500, EPS);
  cr_assert_float_eq(per_t(f, "water")->v, 2, EPS);
  cr_assert_float_eq(per_t(f, "fuel_gas")->v, 40, EPS);
  cr_assert_float_eq(f->residue_per_t.v, 0.1, EPS);
  cr_assert_float_eq(f->feed_per_t.v, 350.0 / 300.0, EPS);
}

Test(indicators, change_against_the_baseline_year) {
  /* baseline 2020 (whole year): feed 120, Cu in 114; product 100, Cu out 99.99; yield 0.877105263158…
   *   electricity 600 kWh/t, water 3 m³/t, residues 0.15 t/t, feed 1.2 t/t, fuel_gas 0 Nm³/t
   * 2025 vs 2020: electricity 500 − 600 = −100 (−16.666…%); water 2 − 3 = −1 (−33.333…%);
   *   residues 0.1 − 0.15 = −0.05 (−33.333…%); feed 1.1666… − 1.2 = −0.0333… (−2.777…%);
   *   yield 0.911762917933 − 0.877105263158 = +0.034657654775 (+3.9513…%);
   *   fuel_gas 40 − 0 = +40, percent not available (baseline 0) */
  run("smelter", 2025, 0);
  cr_assert(ind->has_baseline);
  cr_assert_eq(ind->baseline_year, 2020);
  cr_assert_eq(ind->baseline_missing, 0);
  const struct ph_ind_figures *b = &ind->base;
  cr_assert_float_eq(b->yield.v, 99.99 / 114, EPS);
  cr_assert_float_eq(per_t(b, "electricity")->v, 600, EPS);
  const struct ph_ind_figures *f = &ind->cur;
  const struct ph_ind_value *el = per_t(f, "electricity");
  cr_assert(el->change_avail && el->change_pct_avail);
  cr_assert_float_eq(el->change, -100, EPS);
  cr_assert_float_eq(el->change_pct, -100.0 / 6.0, EPS);
  cr_assert_float_eq(per_t(f, "water")->change, -1, EPS);
  cr_assert_float_eq(per_t(f, "water")->change_pct, -100.0 / 3.0, EPS);
  cr_assert_float_eq(f->residue_per_t.change, -0.05, EPS);
  cr_assert_float_eq(f->residue_per_t.change_pct, -100.0 / 3.0, EPS);
  cr_assert_float_eq(f->feed_per_t.change, 350.0 / 300.0 - 1.2, EPS);
  cr_assert_float_eq(f->yield.change, 0.034657654775, 1e-11);
  cr_assert_float_eq(f->yield.change_pct, (299.97 / 329) / (99.99 / 114) * 100 - 100, EPS);
  const struct ph_ind_value *fg = per_t(f, "fuel_gas");
  cr_assert(fg->change_avail);
  cr_assert_float_eq(fg->change, 40, EPS);
  cr_assert_not(fg->change_pct_avail, "no percent of a zero baseline");
  /* a month is compared with the whole baseline year: March 500 kWh/t vs 600 → −100 */
  run("smelter", 2025, 3);
  cr_assert_float_eq(per_t(&ind->cur, "electricity")->change, -100, EPS);
}

Test(indicators, no_product_means_not_available_not_zero) {
  /* May 2025: no ledger rows, no rollups: every ratio is unavailable */
  run("smelter", 2025, 5);
  const struct ph_ind_figures *f = &ind->cur;
  cr_assert_eq(f->product_t, 0);
  cr_assert_not(f->yield.avail);
  cr_assert_not(f->feed_per_t.avail);
  cr_assert_not(f->residue_per_t.avail);
  cr_assert_not(per_t(f, "electricity")->avail);
  cr_assert_not(per_t(f, "electricity")->change_avail);
  cr_assert_eq(f->nmaterials, 0);
}

Test(indicators, park_sums_enterprises) {
  /* 2025, smelter + foundry: product 300 + 100 = 400 t; feed 350 + 80 = 430 t;
   *   Cu in 329 + 80 × 0.95 = 329 + 76 = 405 t; Cu out 299.97 + 100 × 0.65 = 364.97 t;
   *   yield 364.97 / 405 = 0.901160493827…; electricity 150 000 + 20 000 = 170 000 → 425 kWh/t
   * baseline = smelter 2020 + foundry 2021: product 100 + 50 = 150 t, electricity 60 000 + 15 000
   *   = 75 000 → 500 kWh/t; change 425 − 500 = −75 (−15 %) */
  run(NULL, 2025, 0);
  cr_assert_str_eq(ind->ent, "");
  const struct ph_ind_figures *f = &ind->cur;
  cr_assert_float_eq(f->product_t, 400, EPS);
  cr_assert_float_eq(f->feed_t, 430, EPS);
  cr_assert_float_eq(f->cu_in_t, 405, EPS);
  cr_assert_float_eq(f->cu_out_t, 364.97, EPS);
  cr_assert_float_eq(f->yield.v, 364.97 / 405, EPS);
  cr_assert_float_eq(f->yield.v, 0.901160493827, 1e-12);
  cr_assert_float_eq(per_t(f, "electricity")->v, 425, EPS);
  cr_assert(ind->has_baseline);
  cr_assert_eq(ind->baseline_year, 0, "each enterprise's own");
  cr_assert_float_eq(ind->base.product_t, 150, EPS);
  cr_assert_float_eq(per_t(&ind->base, "electricity")->v, 500, EPS);
  cr_assert_float_eq(per_t(f, "electricity")->change, -75, EPS);
  cr_assert_float_eq(per_t(f, "electricity")->change_pct, -15, EPS);
  /* "" is the park too */
  run("", 2025, 0);
  cr_assert_float_eq(ind->cur.product_t, 400, EPS);
}

Test(indicators, park_without_every_baseline_gives_no_change) {
  /* newco has no baseline year: the park's figures stay, its changes are not available */
  ent(2, "newco", 0);
  material("newco", L(2025, 8, 1, 9, 0), "cathode_cu", "out", 10);
  run(NULL, 2025, 0);
  cr_assert_float_eq(ind->cur.product_t, 410, EPS);
  cr_assert_not(ind->has_baseline);
  cr_assert_eq(ind->baseline_missing, 1);
  cr_assert_not(per_t(&ind->cur, "electricity")->change_avail);
  /* and the enterprise alone */
  run("newco", 2025, 0);
  cr_assert_not(ind->has_baseline);
  cr_assert_eq(ind->baseline_year, 0);
  cr_assert_eq(ind->baseline_missing, 1);
}

Test(indicators, refuses_unknown_park_enterprise_and_period) {
  struct ph_err err = {0};
  cr_assert_eq(ph_indicators(db, &cfg, tz, cat, "px", NULL, 2025, 0, ind, &err), PH_ENOTFOUND);
  cr_assert_eq(ph_indicators(db, &cfg, tz, cat, "p1", "nobody", 2025, 0, ind, &err), PH_ENOTFOUND);
  cr_assert(strstr(err.msg, "nobody"), "%s", err.msg);
  cr_assert_eq(ph_indicators(db, &cfg, tz, cat, "p1", "smelter", 2025, 13, ind, &err), PH_EINVAL);
  cr_assert_eq(ph_indicators(db, &cfg, tz, cat, "p1", "smelter", 1900, 1, ind, &err), PH_EINVAL);
}
