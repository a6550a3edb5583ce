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
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "parkhub/catalog.h"
#include "config/hub_config.h"
#include "domain/indicators.h"
#include "config/materials.h"
#include "store/store.h"
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

/* A ledger row; attrs NULL: none (the writer stores the decoder's compact JSON text). */
static void lot(const char *ent, int64_t ts, const char *code, const char *dir, double t, const char *attrs) {
  char sql[512];
  snprintf(sql, sizeof sql,
           "INSERT INTO materials(point_id, ts_ms, material, dir, qty_t, attrs, agent_id, epoch, seq)"
           " VALUES(%lld, %lld, '%s', '%s', %.17g, %s%s%s, 1, 1, 1)",
           (long long)point(ent, "weighbridge"), (long long)ts, code, dir, t, attrs ? "'" : "", attrs ? attrs : "NULL",
           attrs ? "'" : "");
  exec(sql);
}
static void material(const char *ent, int64_t ts, const char *code, const char *dir, double t) {
  lot(ent, ts, code, dir, t, NULL);
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
  ph_materials_fini(&cfg.parks[0].materials);
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

/* ---- item 5 of issue #15: assays, the park's materials, unclassified codes ---- */

static const struct ph_ind_material *mat(const struct ph_ind_figures *f, const char *code) {
  const struct ph_ind_material *m = ph_ind_material(f, code);
  cr_assert_not_null(m, "%s", code);
  return m;
}

Test(indicators, each_lots_assay_wins_over_the_default) {
  /* smelter, 2023 (no other rows that year). Defaults: scrap_cu_2 0.95, scrap_cu_mixed 0.80,
   * cathode_cu 0.9999, slag 0.01, flue_dust 0.05.
   *   scrap_cu_2   in 100 t  cu_pct 90      → 90      (assay)
   *   scrap_cu_2   in  50 t  no attrs       → 47.5    (default)
   *   scrap_cu_2   in  20 t  cu_pct 120     → 19      (ignored: above 100; default)
   *   scrap_cu_2   in  10 t  cu_pct "93"    → 9.5     (ignored: a string; default)
   *   scrap_cu_mixed in 40 t cu_pct 0       → 0       (a real zero assay)
   *   scrap_cu_mixed in 10 t moisture only  → 8       (default; no cu_pct: not ignored)
   *   cathode_cu  out 150 t  cu_pct 99.95   → 149.925
   *   slag        out  30 t  cu_pct 1.5     → 0.45
   *   flue_dust   out   2 t  cu_pct null    → 0.1     (ignored; default)
   *   scrap_al     in  12 t  al_pct 91      unclassified
   *   scrap_al     in   8 t  cu_pct 50      unclassified (its assay is read, its copper counted nowhere)
   *   mystery_dust out  3 t                 unclassified
   * feed 230 t, Cu in 90 + 47.5 + 19 + 9.5 + 0 + 8 = 174 t; product 150 t, Cu out 149.925 t;
   * yield 149.925 / 174 = 0.861637931034…; residues 32 t, Cu 0.55 t;
   * unclassified in 20 t, out 3 t, 3 lots; assays used 5 (incl. scrap_al's), ignored 3.
   * With the defaults only, Cu in would be 180 × 0.95 + 50 × 0.8 = 211 and the yield 0.711 —
   * the figure the issue calls wrong. */
  lot("smelter", L(2023, 2, 1, 9, 0), "scrap_cu_2", "in", 100, "{\"cu_pct\":90}");
  lot("smelter", L(2023, 2, 2, 9, 0), "scrap_cu_2", "in", 50, NULL);
  lot("smelter", L(2023, 2, 3, 9, 0), "scrap_cu_2", "in", 20, "{\"cu_pct\":120,\"moisture_pct\":1}");
  lot("smelter", L(2023, 2, 4, 9, 0), "scrap_cu_2", "in", 10, "{\"cu_pct\":\"93\"}");
  lot("smelter", L(2023, 2, 5, 9, 0), "scrap_cu_mixed", "in", 40, "{\"cu_pct\":0}");
  lot("smelter", L(2023, 2, 6, 9, 0), "scrap_cu_mixed", "in", 10, "{\"moisture_pct\":2}");
  lot("smelter", L(2023, 3, 1, 9, 0), "cathode_cu", "out", 150, "{\"cu_pct\":99.95}");
  lot("smelter", L(2023, 3, 2, 9, 0), "slag", "out", 30, "{\"cu_pct\":1.5}");
  lot("smelter", L(2023, 3, 3, 9, 0), "flue_dust", "out", 2, "{\"cu_pct\":null,\"zn_pct\":18.5}");
  lot("smelter", L(2023, 3, 4, 9, 0), "scrap_al", "in", 12, "{\"al_pct\":91}");
  lot("smelter", L(2023, 3, 5, 9, 0), "scrap_al", "in", 8, "{\"cu_pct\":50}");
  lot("smelter", L(2023, 3, 6, 9, 0), "mystery_dust", "out", 3, NULL);
  run("smelter", 2023, 0);
  const struct ph_ind_figures *f = &ind->cur;
  cr_assert_float_eq(f->feed_t, 230, EPS);
  cr_assert_float_eq(f->cu_in_t, 174, EPS);
  cr_assert_float_eq(f->product_t, 150, EPS);
  cr_assert_float_eq(f->cu_out_t, 149.925, EPS);
  cr_assert(f->yield.avail);
  cr_assert_float_eq(f->yield.v, 0.861637931034, 1e-12);
  cr_assert_float_eq(f->residue_t, 32, EPS);
  cr_assert_float_eq(f->cu_residue_t, 0.55, EPS);
  cr_assert_float_eq(f->unclassified_in_t, 20, EPS);
  cr_assert_float_eq(f->unclassified_out_t, 3, EPS);
  cr_assert_eq(f->unclassified_lots, 3);
  cr_assert_eq(f->assay_lots, 5);
  cr_assert_eq(f->assay_ignored_lots, 3);
  cr_assert_float_eq(f->feed_per_t.v, 230.0 / 150.0, EPS, "unclassified tonnes are no feed");
  /* per material */
  const struct ph_ind_material *s2 = mat(f, "scrap_cu_2");
  cr_assert_float_eq(s2->in_t, 180, EPS);
  cr_assert_float_eq(s2->cu_in_t, 166, EPS);
  cr_assert_float_eq(s2->cu_fraction, 0.95, EPS, "the default stays the default");
  cr_assert_eq(s2->lots, 4);
  cr_assert_eq(s2->assay_lots, 1);
  cr_assert_eq(s2->assay_ignored_lots, 2);
  cr_assert_float_eq(mat(f, "scrap_cu_mixed")->cu_in_t, 8, EPS);
  cr_assert_eq(mat(f, "scrap_cu_mixed")->assay_lots, 1);
  cr_assert_eq(mat(f, "flue_dust")->assay_ignored_lots, 1);
  const struct ph_ind_material *al = mat(f, "scrap_al");
  cr_assert_eq(al->role, PH_ROLE_UNCLASSIFIED);
  cr_assert_float_eq(al->in_t, 20, EPS);
  cr_assert_eq(al->lots, 2);
  cr_assert_eq(al->assay_lots, 1);
  cr_assert_eq(mat(f, "mystery_dust")->role, PH_ROLE_UNCLASSIFIED);
  cr_assert_float_eq(mat(f, "mystery_dust")->out_t, 3, EPS);
  /* listed by code */
  for (int i = 1; i < f->nmaterials; i++)
    cr_assert(strcmp(f->materials[i - 1].code, f->materials[i].code) < 0);
  cr_assert_eq(f->nmaterials, 7);
  cr_assert_eq(f->materials_omitted, 0);
}

Test(indicators, the_parks_declared_materials_set_roles_and_defaults) {
  /* foundry, 2022. Declared: brass_turnings feed Cu 0.62; cu_rod product Cu 0.9995; coke energy;
   * well_water water; scrap_cu_2 redeclared with Cu 0.93 (catalogue 0.95).
   *   brass_turnings in 100 t        → 62
   *   brass_turnings in  50 t cu_pct 60 → 30
   *   scrap_cu_2     in  10 t        → 9.3
   *   cu_rod        out  80 t        → 79.96
   *   coke in 5 t, well_water in 200 t
   * feed 160 t, Cu in 101.3 t; product 80 t, Cu out 79.96; yield 79.96 / 101.3 = 0.789338598223…;
   * energy 5 t, water 200 t; nothing unclassified. */
  struct ph_err err = {0};
  cJSON *a = cJSON_Parse("[{\"code\":\"brass_turnings\",\"name_zh\":\"黄铜屑\",\"role\":\"feed\","
                         "\"metals\":{\"cu\":0.62,\"zn\":0.35}},"
                         "{\"code\":\"cu_rod\",\"role\":\"product\",\"metals\":{\"cu\":0.9995}},"
                         "{\"code\":\"coke\",\"role\":\"energy\"},{\"code\":\"well_water\",\"role\":\"water\"},"
                         "{\"code\":\"scrap_cu_2\",\"role\":\"feed\",\"metals\":{\"cu\":0.93}}]");
  cr_assert_eq(ph_materials_load(a, "parks[0].materials", cat, &cfg.parks[0].materials, &err), 0, "%s", err.msg);
  cJSON_Delete(a);
  lot("foundry", L(2022, 4, 1, 9, 0), "brass_turnings", "in", 100, NULL);
  lot("foundry", L(2022, 4, 2, 9, 0), "brass_turnings", "in", 50, "{\"cu_pct\":60,\"zn_pct\":38}");
  lot("foundry", L(2022, 4, 3, 9, 0), "scrap_cu_2", "in", 10, NULL);
  lot("foundry", L(2022, 4, 4, 9, 0), "cu_rod", "out", 80, NULL);
  lot("foundry", L(2022, 4, 5, 9, 0), "coke", "in", 5, NULL);
  lot("foundry", L(2022, 4, 6, 9, 0), "well_water", "in", 200, NULL);
  run("foundry", 2022, 0);
  const struct ph_ind_figures *f = &ind->cur;
  cr_assert_float_eq(f->feed_t, 160, EPS);
  cr_assert_float_eq(f->cu_in_t, 101.3, EPS);
  cr_assert_float_eq(f->product_t, 80, EPS);
  cr_assert_float_eq(f->cu_out_t, 79.96, EPS);
  cr_assert_float_eq(f->yield.v, 0.789338598223, 1e-12);
  cr_assert_float_eq(f->energy_t, 5, EPS);
  cr_assert_float_eq(f->water_t, 200, EPS);
  cr_assert_float_eq(f->unclassified_in_t + f->unclassified_out_t, 0, 0);
  cr_assert_eq(mat(f, "coke")->role, PH_ROLE_ENERGY);
  cr_assert_float_eq(mat(f, "brass_turnings")->cu_fraction, 0.62, EPS);
  cr_assert_float_eq(mat(f, "scrap_cu_2")->cu_fraction, 0.93, EPS);

  /* the same ledger without the declarations: the park's own codes are unclassified, scrap_cu_2
   * is back at 0.95; no product → the yield is not available, with the reason, never 0 % */
  ph_materials_fini(&cfg.parks[0].materials);
  run("foundry", 2022, 0);
  f = &ind->cur;
  cr_assert_float_eq(f->feed_t, 10, EPS);
  cr_assert_float_eq(f->cu_in_t, 9.5, EPS);
  cr_assert_float_eq(f->product_t, 0, 0);
  cr_assert_float_eq(f->unclassified_in_t, 355, EPS);
  cr_assert_float_eq(f->unclassified_out_t, 80, EPS);
  cr_assert_eq(f->unclassified_lots, 5);
  cr_assert_not(f->yield.avail);
  cr_assert_str_eq(f->yield.na, "no product weighed in the period");
  cr_assert_float_eq(f->energy_t, 0, 0);
}

Test(indicators, a_yield_without_product_or_copper_in_is_not_available_with_its_reason) {
  /* smelter, 2019: 10 t of scrap in, nothing out yet → Cu in 9.9 t, no product */
  material("smelter", L(2019, 3, 1, 9, 0), "scrap_cu_1", "in", 10);
  run("smelter", 2019, 0);
  const struct ph_ind_figures *f = &ind->cur;
  cr_assert_float_eq(f->cu_in_t, 9.9, EPS);
  cr_assert_not(f->yield.avail, "not 0 %%");
  cr_assert_str_eq(f->yield.na, "no product weighed in the period");
  cr_assert_not(f->feed_per_t.avail);
  cr_assert_str_eq(f->feed_per_t.na, "no product weighed in the period");
  cr_assert_str_eq(per_t(f, "electricity")->na, "no product weighed in the period");
  /* 2018: 5 t of cathode out, no feed → no copper in feed */
  material("smelter", L(2018, 3, 1, 9, 0), "cathode_cu", "out", 5);
  run("smelter", 2018, 0);
  f = &ind->cur;
  cr_assert_not(f->yield.avail);
  cr_assert_str_eq(f->yield.na, "no copper in feed");
  cr_assert(f->feed_per_t.avail, "0 t of feed per t of product is a real 0");
  cr_assert_float_eq(f->feed_per_t.v, 0, 0);
  /* feed of the park's own that carries no copper: still no copper in feed */
  material("smelter", L(2017, 3, 1, 9, 0), "scrap_cu_ewaste", "in", 10);
  material("smelter", L(2017, 3, 2, 9, 0), "cathode_cu", "out", 1);
  lot("smelter", L(2017, 3, 1, 10, 0), "scrap_cu_ewaste", "in", 10, "{\"cu_pct\":0}");
  run("smelter", 2017, 0);
  cr_assert_float_eq(ind->cur.cu_in_t, 2, EPS, "10 t × 0.2 default + 10 t × 0 % assay");
  cr_assert(ind->cur.yield.avail);
  cr_assert_float_eq(ind->cur.yield.v, 0.9999 / 2, EPS);
  /* an available figure carries no reason */
  cr_assert_null(ind->cur.yield.na);
}
