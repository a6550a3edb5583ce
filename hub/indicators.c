/* indicators.c — cleaner-production and recycling indicators
 * (indicators.h has what is counted and how).
 *
 * Callers: the report and the query API. Threads: the caller's; each call
 * prepares its statements on the caller's read connection and finalizes
 * them before returning.
 *
 * Flow: for each enterprise (one, or all of the park) and each period
 * (the asked one, the baseline year), raw sums are accumulated per
 * catalogue index — tonnes in/out per material, Σ rollup sum per process
 * metric — then turned into figures once (finish()).
 *
 * Invariants:
 *  1. A ratio with a zero denominator is not available, never 0.
 *  2. The park's figures are computed from the sums of its enterprises'
 *     raw totals, not by averaging their ratios.
 *  3. Only prepared statements with bound parameters touch the database.
 */
#include "parkhub/indicators.h"

#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "parkhub/inventory.h" /* ph_inventory_midnight */

/* ---------------------------------------------------------------- SQL */

#define IND_SQL_MATERIALS                                                                                 \
  "SELECT m.material, m.dir, SUM(m.qty_t) FROM materials m JOIN points p ON p.id = m.point_id"           \
  " WHERE p.park = ?1 AND p.ent = ?2 AND m.ts_ms >= ?3 AND m.ts_ms < ?4 GROUP BY m.material, m.dir"
/* Σ of day rollups per metric; only the catalogue's process sum metrics are kept. */
#define IND_SQL_SUMS                                                                                      \
  "SELECT m.code, SUM(r.sum) FROM points p JOIN series s ON s.point_id = p.id"                           \
  " JOIN metrics m ON m.id = s.metric_id JOIN rollups r ON r.series_id = s.id"                            \
  " WHERE p.park = ?1 AND p.ent = ?2 AND r.period = 2 AND r.bucket_ms >= ?3 AND r.bucket_ms < ?4"        \
  " GROUP BY m.code"

struct q {
  sqlite3 *db;
  sqlite3_stmt *materials, *sums;
  struct ph_err *err;
};

/* Raw sums per catalogue index. */
struct acc {
  size_t n;
  double *in, *out, *qty;
  bool *seen;
};

static int db_fail(struct q *q, const char *what) {
  return ph_fail(q->err, PH_EDB, "indicators: %s: %s", what, sqlite3_errmsg(q->db));
}

static void q_reset(sqlite3_stmt *s) {
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
}

static void acc_free(struct acc *a) {
  ph_free(a->in);
  ph_free(a->out);
  ph_free(a->qty);
  ph_free(a->seen);
}

static int acc_init(struct acc *a, size_t n) {
  a->n = n;
  a->in = ph_calloc(n, sizeof *a->in);
  a->out = ph_calloc(n, sizeof *a->out);
  a->qty = ph_calloc(n, sizeof *a->qty);
  a->seen = ph_calloc(n, sizeof *a->seen);
  if (a->in && a->out && a->qty && a->seen) return 0;
  acc_free(a);
  return PH_ENOMEM;
}

static void bind_period(sqlite3_stmt *s, const char *park, const char *ent, int64_t from, int64_t to) {
  sqlite3_bind_text(s, 1, park, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, ent, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 3, from);
  sqlite3_bind_int64(s, 4, to);
}

/* Adds one enterprise's ledger and process sums over [from, to) to a. */
static int accumulate(struct q *q, const struct ph_catalog *cat, const char *park, const char *ent, int64_t from,
                      int64_t to, struct acc *a) {
  int rc;
  bind_period(q->materials, park, ent, from, to);
  while ((rc = sqlite3_step(q->materials)) == SQLITE_ROW) {
    const char *code = (const char *)sqlite3_column_text(q->materials, 0);
    const char *dir = (const char *)sqlite3_column_text(q->materials, 1);
    int idx = code ? ph_catalog_find(cat, code, strlen(code)) : -1;
    if (idx < 0 || !dir) continue; /* unknown to this catalogue: no role, no copper content */
    a->seen[idx] = true;
    if (strcmp(dir, "in") == 0)
      a->in[idx] += sqlite3_column_double(q->materials, 2);
    else
      a->out[idx] += sqlite3_column_double(q->materials, 2);
  }
  q_reset(q->materials);
  if (rc != SQLITE_DONE) return db_fail(q, "materials");
  bind_period(q->sums, park, ent, from, to);
  while ((rc = sqlite3_step(q->sums)) == SQLITE_ROW) {
    const char *code = (const char *)sqlite3_column_text(q->sums, 0);
    int idx = code ? ph_catalog_find(cat, code, strlen(code)) : -1;
    if (idx < 0) continue;
    const struct ph_metric *m = ph_catalog_at(cat, (size_t)idx);
    if (m->kind == PH_KIND_PROCESS && m->agg == PH_AGG_SUM) a->qty[idx] += sqlite3_column_double(q->sums, 1);
  }
  q_reset(q->sums);
  return rc == SQLITE_DONE ? 0 : db_fail(q, "process sums");
}

static struct ph_ind_value ratio(double num, double den) {
  struct ph_ind_value v = {0};
  if (den != 0) { /* inv. 1 */
    v.avail = true;
    v.v = num / den;
  }
  return v;
}

static void finish(const struct ph_catalog *cat, const struct acc *a, struct ph_ind_figures *f) {
  memset(f, 0, sizeof *f);
  for (size_t i = 0; i < a->n; i++) {
    const struct ph_metric *m = ph_catalog_at(cat, i);
    if (m->kind == PH_KIND_PROCESS && m->agg == PH_AGG_SUM && f->nquantities < PH_IND_MAX_QUANTITIES) {
      struct ph_ind_quantity *qt = &f->quantities[f->nquantities++];
      snprintf(qt->code, sizeof qt->code, "%s", m->code);
      snprintf(qt->unit, sizeof qt->unit, "%s", m->unit);
      qt->total = a->qty[i];
    }
    if (!a->seen[i]) continue;
    if (f->nmaterials < PH_IND_MAX_MATERIALS) {
      struct ph_ind_material *mt = &f->materials[f->nmaterials++];
      snprintf(mt->code, sizeof mt->code, "%s", m->code);
      mt->role = m->role;
      mt->cu_fraction = m->cu_fraction;
      mt->in_t = a->in[i];
      mt->out_t = a->out[i];
    }
    switch (m->role) {
    case PH_ROLE_FEED:
      f->feed_t += a->in[i];
      f->cu_in_t += a->in[i] * m->cu_fraction;
      break;
    case PH_ROLE_PRODUCT:
      f->product_t += a->out[i];
      f->cu_out_t += a->out[i] * m->cu_fraction;
      break;
    case PH_ROLE_RESIDUE:
      f->residue_t += a->out[i];
      f->cu_residue_t += a->out[i] * m->cu_fraction;
      break;
    case PH_ROLE_CONSUMABLE: f->consumable_t += a->in[i]; break;
    default: break;
    }
  }
  f->feed_per_t = ratio(f->feed_t, f->product_t);
  f->residue_per_t = ratio(f->residue_t, f->product_t);
  f->consumable_per_t = ratio(f->consumable_t, f->product_t);
  f->yield = ratio(f->cu_out_t, f->cu_in_t);
  for (int i = 0; i < f->nquantities; i++) f->quantities[i].per_t = ratio(f->quantities[i].total, f->product_t);
}

static void change(struct ph_ind_value *cur, const struct ph_ind_value *base) {
  if (!cur->avail || !base->avail) return;
  cur->change_avail = true;
  cur->change = cur->v - base->v;
  if (base->v != 0) {
    cur->change_pct_avail = true;
    cur->change_pct = cur->change / base->v * 100.0;
  }
}

static void changes(struct ph_ind_figures *cur, const struct ph_ind_figures *base) {
  change(&cur->feed_per_t, &base->feed_per_t);
  change(&cur->residue_per_t, &base->residue_per_t);
  change(&cur->consumable_per_t, &base->consumable_per_t);
  change(&cur->yield, &base->yield);
  for (int i = 0; i < cur->nquantities && i < base->nquantities; i++) /* same catalogue: same order */
    change(&cur->quantities[i].per_t, &base->quantities[i].per_t);
}

int ph_indicators(sqlite3 *db, const struct ph_hub_config *cfg, const struct ph_tz *tz,
                  const struct ph_catalog *cat, const char *park, const char *ent, int year, int month,
                  struct ph_indicators *out, struct ph_err *err) {
  memset(out, 0, sizeof *out);
  const struct ph_hub_park *p = cfg && park ? ph_hub_config_park(cfg, park) : NULL;
  if (!p) return ph_fail(err, PH_ENOTFOUND, "indicators: park '%s' is not configured", park ? park : "(null)");
  bool whole_park = !ent || !ent[0];
  const struct ph_hub_ent *one = whole_park ? NULL : ph_hub_config_ent(p, ent);
  if (!whole_park && !one)
    return ph_fail(err, PH_ENOTFOUND, "indicators: enterprise '%s' is not configured in park '%s'", ent, park);
  if (year < 1971 || year > 9998 || month < 0 || month > 12)
    return ph_fail(err, PH_EINVAL, "indicators: period %d-%d outside 1971..9998, month 0..12", year, month);
  if (!db) return ph_fail(err, PH_EINVAL, "indicators: no database");

  snprintf(out->park, sizeof out->park, "%s", p->id);
  snprintf(out->ent, sizeof out->ent, "%s", whole_park ? "" : one->id);
  out->year = year;
  out->month = month;
  out->from_ms = ph_inventory_midnight(tz, year, month ? (unsigned)month : 1, 1);
  out->to_ms = ph_inventory_midnight(tz, month ? year : year + 1, month ? (unsigned)month + 1 : 1, 1);

  struct q q = {.db = db, .err = err};
  struct acc cur = {0}, base = {0};
  int rc = 0;
  if (sqlite3_prepare_v2(db, IND_SQL_MATERIALS, -1, &q.materials, NULL) ||
      sqlite3_prepare_v2(db, IND_SQL_SUMS, -1, &q.sums, NULL)) {
    rc = db_fail(&q, "prepare");
    goto done;
  }
  if (acc_init(&cur, ph_catalog_count(cat)) || acc_init(&base, ph_catalog_count(cat))) {
    rc = ph_fail(err, PH_ENOMEM, "indicators: out of memory");
    goto done;
  }
  int nbase = 0;
  for (int i = 0; i < p->nents; i++) {
    const struct ph_hub_ent *e = &p->ents[i];
    if (!whole_park && e != one) continue;
    if ((rc = accumulate(&q, cat, p->id, e->id, out->from_ms, out->to_ms, &cur))) goto done;
    if (!e->baseline_year) {
      out->baseline_missing++;
      continue;
    }
    int by = (int)e->baseline_year;
    if ((rc = accumulate(&q, cat, p->id, e->id, ph_inventory_midnight(tz, by, 1, 1),
                         ph_inventory_midnight(tz, by + 1, 1, 1), &base)))
      goto done;
    nbase++;
  }
  finish(cat, &cur, &out->cur);
  if (!whole_park) out->baseline_year = (int)one->baseline_year;
  if (nbase > 0 && out->baseline_missing == 0) {
    out->has_baseline = true;
    finish(cat, &base, &out->base);
    changes(&out->cur, &out->base);
  }
done:
  acc_free(&cur);
  acc_free(&base);
  sqlite3_finalize(q.materials);
  sqlite3_finalize(q.sums);
  return rc;
}

const struct ph_ind_quantity *ph_ind_quantity(const struct ph_ind_figures *f, const char *code) {
  for (int i = 0; i < f->nquantities; i++)
    if (strcmp(f->quantities[i].code, code) == 0) return &f->quantities[i];
  return NULL;
}

const struct ph_ind_material *ph_ind_material(const struct ph_ind_figures *f, const char *code) {
  for (int i = 0; i < f->nmaterials; i++)
    if (strcmp(f->materials[i].code, code) == 0) return &f->materials[i];
  return NULL;
}
