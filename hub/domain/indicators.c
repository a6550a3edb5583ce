/* indicators.c — cleaner-production and recycling indicators
 * (indicators.h has what is counted and how).
 *
 * Callers: the report and the query API. Threads: the caller's; each call
 * prepares its statements on the caller's read connection and finalizes
 * them before returning. SQL: indicators_sql.h.
 *
 * Flow: for each enterprise (one, or all of the park) and each period
 * (the asked one, the baseline year), raw sums are accumulated — per
 * material code of the ledger (tonnes in/out, lots, assayed tonnes and
 * their copper), per catalogue index Σ rollup sum of each process metric —
 * then turned into figures once (finish()), with each material's role and
 * default content from the park's registry (materials.h).
 *
 * Invariants:
 *  1. A ratio with a zero denominator is not available, with the reason,
 *     never 0: the yield needs copper in the feed and product weighed.
 *  2. The park's figures are computed from the sums of its enterprises'
 *     raw totals, not by averaging their ratios.
 *  3. Only prepared statements with bound parameters touch the database.
 *  4. A lot's copper is qty × its assay (attrs.cu_pct, a JSON number
 *     0..100, / 100) when it has one, else qty × the material's default;
 *     a cu_pct that is anything else is ignored and counted.
 *  5. A code the park's registry does not know is unclassified: counted
 *     apart, in no balance total, carrying no copper; never dropped.
 */
#include "domain/indicators.h"
#include "parkhub/na_reasons.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "domain/inventory.h" /* ph_inventory_midnight */

#include "indicators_sql.h"

#define NO_PRODUCT PH_NA(NO_PRODUCT_WEIGHED)
#define NO_COPPER PH_NA(NO_COPPER_IN_FEED)

struct q {
  sqlite3 *db;
  sqlite3_stmt *materials, *sums;
  char *sum_codes; /* IND_SQL_SUMS' ?5: the catalogue's process sum metrics, a JSON array */
  struct ph_err *err;
};

/* Raw sums of one material (by code) over the enterprises and the period. */
struct mat_acc {
  char code[PH_ID_MAX + 1];
  double in, out;                 /* t */
  double in_assayed, out_assayed; /* t of lots with a usable Cu assay */
  double cu_in_assayed, cu_out_assayed;
  int64_t lots, assay_lots, assay_ignored;
};

/* Raw sums: per material code (the ledger's own codes, any of them), and
 * per catalogue index for the process quantities. */
struct acc {
  size_t n; /* catalogue size */
  double *qty;
  struct mat_acc *mat;
  size_t nmat, capmat;
};

static int db_fail(struct q *q, const char *what) {
  return ph_fail(q->err, PH_EDB, "indicators: %s: %s", what, sqlite3_errmsg(q->db));
}

static void q_reset(sqlite3_stmt *s) {
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
}

static void acc_free(struct acc *a) {
  ph_free(a->qty);
  ph_free(a->mat);
}

static int acc_init(struct acc *a, size_t n) {
  memset(a, 0, sizeof *a);
  a->n = n;
  a->qty = ph_calloc(n ? n : 1, sizeof *a->qty);
  return a->qty ? 0 : PH_ENOMEM;
}

/* The accumulator of code, added when new; NULL when out of memory. */
static struct mat_acc *mat_of(struct acc *a, const char *code) {
  for (size_t i = 0; i < a->nmat; i++)
    if (strcmp(a->mat[i].code, code) == 0) return &a->mat[i];
  if (a->nmat == a->capmat) {
    size_t cap = a->capmat ? a->capmat * 2 : 16;
    struct mat_acc *n = ph_realloc(a->mat, cap * sizeof *n);
    if (!n) return NULL;
    a->mat = n;
    a->capmat = cap;
  }
  struct mat_acc *m = &a->mat[a->nmat++];
  memset(m, 0, sizeof *m);
  snprintf(m->code, sizeof m->code, "%s", code);
  return m;
}

static void bind_period(sqlite3_stmt *s, const char *park, const char *ent, int64_t from, int64_t to) {
  sqlite3_bind_text(s, 1, park, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, ent, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 3, from);
  sqlite3_bind_int64(s, 4, to);
}

/* One enterprise's ledger over [from, to) into a, per code and direction. */
static int accumulate_ledger(struct q *q, const char *park, const char *ent, int64_t from, int64_t to,
                             struct acc *a) {
  int rc;
  char path[16];
  ph_assay_path("cu", path, sizeof path);
  bind_period(q->materials, park, ent, from, to);
  sqlite3_bind_text(q->materials, 5, path, -1, SQLITE_TRANSIENT);
  sqlite3_bind_double(q->materials, 6, PH_ASSAY_MIN_PCT);
  sqlite3_bind_double(q->materials, 7, PH_ASSAY_MAX_PCT);
  while ((rc = sqlite3_step(q->materials)) == SQLITE_ROW) {
    sqlite3_stmt *s = q->materials;
    const char *code = (const char *)sqlite3_column_text(s, 0);
    const char *dir = (const char *)sqlite3_column_text(s, 1);
    if (!code || !dir) continue;
    struct mat_acc *m = mat_of(a, code);
    if (!m) {
      q_reset(s);
      return ph_fail(q->err, PH_ENOMEM, "indicators: out of memory");
    }
    bool in = strcmp(dir, "in") == 0;
    *(in ? &m->in : &m->out) += sqlite3_column_double(s, 2);
    m->lots += sqlite3_column_int64(s, 3);
    *(in ? &m->in_assayed : &m->out_assayed) += sqlite3_column_double(s, 4);
    *(in ? &m->cu_in_assayed : &m->cu_out_assayed) += sqlite3_column_double(s, 5);
    m->assay_lots += sqlite3_column_int64(s, 6);
    m->assay_ignored += sqlite3_column_int64(s, 7);
  }
  q_reset(q->materials);
  return rc == SQLITE_DONE ? 0 : db_fail(q, "materials");
}

/* Adds one enterprise's ledger and process sums over [from, to) to a. */
static int accumulate(struct q *q, const struct ph_catalog *cat, const char *park, const char *ent, int64_t from,
                      int64_t to, struct acc *a) {
  int rc = accumulate_ledger(q, park, ent, from, to, a);
  if (rc) return rc;
  bind_period(q->sums, park, ent, from, to);
  sqlite3_bind_text(q->sums, 5, q->sum_codes, -1, SQLITE_STATIC);
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

static struct ph_ind_value ratio(double num, double den, const char *why) {
  struct ph_ind_value v = {0};
  if (den != 0) { /* inv. 1 */
    v.avail = true;
    v.v = num / den;
  } else {
    v.na = why;
  }
  return v;
}

static int by_code(const void *a, const void *b) {
  return strcmp(((const struct mat_acc *)a)->code, ((const struct mat_acc *)b)->code);
}

/* One material's line: role and default from the park's registry, Cu per
 * lot from the assays where usable (inv. 4). */
static void material_line(const struct ph_materials *reg, const struct ph_catalog *cat, const struct mat_acc *m,
                          struct ph_ind_material *mt) {
  struct ph_material def;
  ph_material_lookup(reg, cat, m->code, &def);
  memset(mt, 0, sizeof *mt);
  snprintf(mt->code, sizeof mt->code, "%s", m->code);
  mt->role = def.role;
  mt->cu_fraction = ph_material_metal(&def, "cu");
  mt->in_t = m->in;
  mt->out_t = m->out;
  mt->cu_in_t = m->cu_in_assayed + (m->in - m->in_assayed) * mt->cu_fraction;
  mt->cu_out_t = m->cu_out_assayed + (m->out - m->out_assayed) * mt->cu_fraction;
  mt->lots = m->lots;
  mt->assay_lots = m->assay_lots;
  mt->assay_ignored_lots = m->assay_ignored;
}

static void add_to_totals(const struct ph_ind_material *mt, struct ph_ind_figures *f) {
  f->assay_lots += mt->assay_lots;
  f->assay_ignored_lots += mt->assay_ignored_lots;
  switch (mt->role) {
  case PH_ROLE_FEED:
    f->feed_t += mt->in_t;
    f->cu_in_t += mt->cu_in_t;
    break;
  case PH_ROLE_PRODUCT:
    f->product_t += mt->out_t;
    f->cu_out_t += mt->cu_out_t;
    break;
  case PH_ROLE_RESIDUE:
    f->residue_t += mt->out_t;
    f->cu_residue_t += mt->cu_out_t;
    break;
  case PH_ROLE_CONSUMABLE: f->consumable_t += mt->in_t; break;
  case PH_ROLE_ENERGY: f->energy_t += mt->in_t; break;
  case PH_ROLE_WATER: f->water_t += mt->in_t; break;
  case PH_ROLE_UNCLASSIFIED: /* inv. 5 */
    f->unclassified_in_t += mt->in_t;
    f->unclassified_out_t += mt->out_t;
    f->unclassified_lots += mt->lots;
    break;
  default: break;
  }
}

/* inv. 1: the yield needs Cu in the feed and product weighed. */
static struct ph_ind_value yield_of(const struct ph_ind_figures *f) {
  if (f->cu_in_t <= 0) return ratio(0, 0, NO_COPPER);
  if (f->product_t <= 0) return ratio(0, 0, NO_PRODUCT);
  return ratio(f->cu_out_t, f->cu_in_t, NULL);
}

static void finish(const struct ph_materials *reg, const struct ph_catalog *cat, struct acc *a,
                   struct ph_ind_figures *f) {
  memset(f, 0, sizeof *f);
  for (size_t i = 0; i < a->n; i++) {
    const struct ph_metric *m = ph_catalog_at(cat, i);
    if (m->kind == PH_KIND_PROCESS && m->agg == PH_AGG_SUM && f->nquantities < PH_IND_MAX_QUANTITIES) {
      struct ph_ind_quantity *qt = &f->quantities[f->nquantities++];
      snprintf(qt->code, sizeof qt->code, "%s", m->code);
      snprintf(qt->unit, sizeof qt->unit, "%s", m->unit);
      qt->total = a->qty[i];
    }
  }
  if (a->nmat) qsort(a->mat, a->nmat, sizeof *a->mat, by_code);
  for (size_t i = 0; i < a->nmat; i++) {
    struct ph_ind_material mt;
    material_line(reg, cat, &a->mat[i], &mt);
    add_to_totals(&mt, f);
    if (f->nmaterials < PH_IND_MAX_MATERIALS)
      f->materials[f->nmaterials++] = mt;
    else
      f->materials_omitted++;
  }
  f->feed_per_t = ratio(f->feed_t, f->product_t, NO_PRODUCT);
  f->residue_per_t = ratio(f->residue_t, f->product_t, NO_PRODUCT);
  f->consumable_per_t = ratio(f->consumable_t, f->product_t, NO_PRODUCT);
  f->yield = yield_of(f);
  for (int i = 0; i < f->nquantities; i++)
    f->quantities[i].per_t = ratio(f->quantities[i].total, f->product_t, NO_PRODUCT);
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

/* The codes of the catalogue's process sum metrics as a JSON array
 * (codes are ids: nothing to escape); NULL when out of memory. */
static char *sum_codes(const struct ph_catalog *cat) {
  size_t n = ph_catalog_count(cat), cap = 3, at = 0;
  for (size_t i = 0; i < n; i++) cap += strlen(ph_catalog_at(cat, i)->code) + 3;
  char *j = ph_malloc(cap);
  if (!j) return NULL;
  j[at++] = '[';
  for (size_t i = 0; i < n; i++) {
    const struct ph_metric *m = ph_catalog_at(cat, i);
    if (m->kind == PH_KIND_PROCESS && m->agg == PH_AGG_SUM)
      at += (size_t)snprintf(j + at, cap - at, "%s\"%s\"", at > 1 ? "," : "", m->code);
  }
  j[at++] = ']';
  j[at] = 0;
  return j;
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
  if (acc_init(&cur, ph_catalog_count(cat)) || acc_init(&base, ph_catalog_count(cat)) ||
      !(q.sum_codes = sum_codes(cat))) {
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
  finish(&p->materials, cat, &cur, &out->cur);
  if (!whole_park) out->baseline_year = (int)one->baseline_year;
  if (nbase > 0 && out->baseline_missing == 0) {
    out->has_baseline = true;
    finish(&p->materials, cat, &base, &out->base);
    changes(&out->cur, &out->base);
  }
done:
  acc_free(&cur);
  acc_free(&base);
  sqlite3_finalize(q.materials);
  sqlite3_finalize(q.sums);
  ph_free(q.sum_codes);
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
