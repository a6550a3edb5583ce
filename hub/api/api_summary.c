/* api_summary.c — GET /api/v1/parks/{park}/summary: per enterprise of the
 * park (or the one asked for) over [from, to): emitted mass and compliance
 * per pollutant, the monitoring period, water outlets, alarm counts and
 * material totals; park totals in JSON.
 *
 * The handler computes one enterprise's figures (struct ent_fig), then
 * hands them to a renderer chosen once (struct sum_render): JSON, a nested
 * document; CSV, rows of (ent, section, item, value, unit) through the row
 * writer. No section branches on the format.
 *
 * One park's figures are api_summary_park (api_parks.h), inside a document
 * its caller opens and closes: this park's handler (one park object), or
 * the summary across parks (api_parks.c: an array of the same objects,
 * CSV rows led by a park column), so both answer with the same code.
 *
 * Callers: the route table (api_routes.c). Threads: a worker's, on its read
 * connection, inside the request's read transaction.
 *
 * Invariants:
 *  1. enterprises are the configured ones of the park, in config order.
 *  2. figures come from the modules that own them (ph_emission_mass_compute,
 *     ph_compliance_summary, ph_water_summarise, ph_monitoring_*): the API
 *     adds no arithmetic of its own but totals.
 *  3. a figure that cannot be given is null with the report's reason
 *     (value_na, rate_na, ...), never a 0 for missing data.
 *  4. the alarms table is optional: absent, counts are 0.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_handlers.h"
#include "api_parks.h"
#include "api_req.h"
#include "api_rows.h"
#include "domain/cems.h"
#include "domain/cems_agg.h"
#include "domain/cems_spans.h"
#include "domain/compliance.h"
#include "domain/emission_mass.h"
#include "domain/ent_limits.h"
#include "domain/monitoring.h"
#include "domain/stmt_cache.h"
#include "domain/water.h"
#include "parkhub/alloc.h"
#include "parkhub/log.h"
#include "parkhub/na_reasons.h"
#include "parkhub/topic.h"

#define MOD "api"
#define DAY_MS 86400000LL
#define SUMMARY_MAX_MS (400 * DAY_MS)
#define NSEV 4

/* src into dst (cap ≥ 1), cut to cap - 1 bytes: snprintf's "%s" without its
 * format parsing — a park-month copies ~3 500 material codes (issue #19). */
static void copy_str(char *dst, size_t cap, const char *src) {
  size_t n = strnlen(src, cap - 1);
  memcpy(dst, src, n);
  dst[n] = 0;
}

static const char *const sev_names[NSEV] = {"critical", "major", "minor", "warning"};

static const char *text(sqlite3_stmt *s, int col) {
  const unsigned char *t = sqlite3_column_text(s, col);
  return t ? (const char *)t : "";
}

struct pair {
  int ent; /* index in the park's config */
  char metric[PH_ID_MAX + 1];
};

struct material_row {
  int ent;
  char material[PH_ID_MAX + 1];
  enum ph_role role; /* the park's registry (materials.h); PH_ROLE_UNCLASSIFIED: declared nowhere */
  bool out;
  double qty;
  int64_t records;
  size_t seq; /* the order read: equal keys are summed in it (sort_run) */
};

struct ent_sum {
  int64_t alarms[NSEV];
  double in_t, out_t;
  double unclassified_in_t, unclassified_out_t; /* part of in_t, out_t */
};

/* Totals per pollutant across enterprises. */
struct total {
  char metric[PH_ID_MAX + 1], unit[16];
  double mass;             /* over the enterprises that have the figure */
  int64_t used, expected;
  int with, without;       /* enterprises with and without the figure (its reason is theirs) */
};

/* A mass-bearing pollutant: an emission concentration (…/Nm3). */
/* A continuously measured concentration. PCDD/F is sampled by stack tests
 * (flag S, never a valid CEMS hour): its figure is the inventory's, in g TEQ
 * a year, not a mass from hourly means, so it is not a summary pollutant. */
static bool pollutant(const struct ph_catalog *cat, const char *code) {
  int i = ph_catalog_find(cat, code, strlen(code));
  if (i < 0 || strcmp(code, "pcdd_f") == 0) return false;
  const struct ph_metric *m = ph_catalog_at(cat, (size_t)i);
  size_t n = strlen(m->unit);
  return m->kind == PH_KIND_EMISSION && n > 4 && !strcmp(m->unit + n - 4, "/Nm3");
}

static int ent_index(const struct ph_hub_park *p, const char *ent) {
  for (int i = 0; i < p->nents; i++)
    if (!strcmp(p->ents[i].id, ent)) return i;
  return -1;
}

struct vec {
  void *v;
  size_t n, cap, size;
};

static void *vec_add(struct vec *a) {
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 32;
    void *p = ph_realloc(a->v, cap * a->size);
    if (!p) return NULL;
    a->v = p;
    a->cap = cap;
  }
  return memset((char *)a->v + a->size * a->n++, 0, a->size);
}

/* A metric of the database: its code, and whether it is a summary pollutant. */
struct metric_kind {
  int64_t id;
  char code[PH_ID_MAX + 1];
  bool pol;
};

static int code_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The database's metrics by id (API_SQL_METRIC_CODES), each one's kind asked once. */
static int load_kinds(struct api_req *r, struct vec *kinds) {
  sqlite3_stmt *s = api_stmt(r, API_ST_METRIC_CODES);
  if (!s) return api_db_fail(r, "listing metrics");
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    struct metric_kind *k = vec_add(kinds);
    if (!k) {
      sqlite3_reset(s);
      return api_fail(r, 500, NULL, "out of memory");
    }
    k->id = sqlite3_column_int64(s, 0);
    copy_str(k->code, sizeof k->code, text(s, 1));
    k->pol = strlen(text(s, 1)) <= PH_ID_MAX && pollutant(r->env->refs->cat, k->code);
  }
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : api_db_fail(r, "listing metrics");
}

static const struct metric_kind *kind_of(const struct vec *kinds, int64_t id) {
  const struct metric_kind *v = kinds->v;
  size_t lo = 0, hi = kinds->n; /* by id (ORDER BY id) */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (v[mid].id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo < kinds->n && v[lo].id == id ? &v[lo] : NULL;
}

/* Enterprise e's pollutant codes, as read, become its pairs: sorted, each once. */
static int ent_pairs(struct api_req *r, int e, struct vec *codes, struct vec *pairs) {
  const char **cv = codes->v;
  if (codes->n > 1) qsort(cv, codes->n, sizeof *cv, code_cmp); /* none: cv may be NULL */
  for (size_t i = 0; i < codes->n; i++) {
    if (i && !strcmp(cv[i], cv[i - 1])) continue;
    struct pair *p = vec_add(pairs);
    if (!p) return api_fail(r, 500, NULL, "out of memory");
    p->ent = e;
    copy_str(p->metric, sizeof p->metric, cv[i]);
  }
  codes->n = 0;
  return 0;
}

/* The (enterprise, pollutant) pairs with a series, each enterprise's by
 * code, as "SELECT DISTINCT p.ent, mt.code ... ORDER BY p.ent, mt.code"
 * listed them; that statement's metric look-up per series and temporary
 * b-tree were 15 % of a park-month (callgrind, bench/query): the park's
 * (ent, metric id) rows come in the points index's order, the ids map to
 * codes through one listing of the metrics. */
static int load_pairs(struct api_req *r, int only, struct vec *pairs) {
  struct vec kinds = {.size = sizeof(struct metric_kind)}, codes = {.size = sizeof(const char *)};
  int bad = load_kinds(r, &kinds);
  sqlite3_stmt *s = bad ? NULL : api_stmt(r, API_ST_ENT_METRICS);
  if (!bad && !s) bad = api_db_fail(r, "listing series");
  int rc = SQLITE_DONE, e = -1;
  char cur[PH_ID_MAX + 1] = "";
  if (s) sqlite3_bind_text(s, 1, r->park->id, -1, SQLITE_STATIC);
  while (!bad && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (strcmp(cur, text(s, 0))) { /* the next enterprise: the last one's pairs */
      if (e >= 0 && (bad = ent_pairs(r, e, &codes, pairs))) break;
      copy_str(cur, sizeof cur, text(s, 0));
      e = ent_index(r->park, cur);
      codes.n = 0;
    }
    const struct metric_kind *k = e >= 0 && (only < 0 || e == only) ? kind_of(&kinds, sqlite3_column_int64(s, 1)) : NULL;
    if (!k || !k->pol) continue;
    const char **c = vec_add(&codes);
    if (!c) bad = api_fail(r, 500, NULL, "out of memory");
    else *c = k->code;
  }
  if (!bad && rc != SQLITE_DONE) bad = api_db_fail(r, "listing series");
  if (!bad && e >= 0) bad = ent_pairs(r, e, &codes, pairs);
  if (s) sqlite3_reset(s);
  ph_free(kinds.v);
  ph_free(codes.v);
  return bad;
}

static int material_cmp(const void *a, const void *b) {
  const struct material_row *x = a, *y = b;
  int c = strcmp(x->material, y->material);
  if (!c) c = (int)x->out - (int)y->out; /* "in" before "out", as ORDER BY dir */
  return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* One enterprise's rows [first, n), as read, become one row per (material,
 * dir) in that order: sorted, then equal neighbours summed in the order
 * read. O(R log R): an agent can send any number of distinct material
 * names, so no row is looked up among the others. */
static void sort_run(struct vec *mats, size_t first) {
  if (mats->n <= first) return;
  struct material_row *mv = (struct material_row *)mats->v + first;
  size_t n = mats->n - first, j = 0;
  qsort(mv, n, sizeof *mv, material_cmp);
  for (size_t i = 1; i < n; i++) {
    if (mv[i].out == mv[j].out && !strcmp(mv[i].material, mv[j].material)) {
      mv[j].qty += mv[i].qty;
      mv[j].records += mv[i].records;
    } else {
      mv[++j] = mv[i];
    }
  }
  mats->n = first + j + 1;
  /* merged rows come before any row read after them (material_add's seq
   * is the vector's length, now beyond these) */
  for (size_t i = 0; i <= j; i++) mv[i].seq = first + i;
}

/* Rows read before a run is merged again: memory stays within about twice
 * the distinct (material, dir) rows plus this, the work O(R log R). */
#define MATERIAL_COMPACT_ROWS 4096

/* A new row of enterprise e (merged with its equals by sort_run); NULL when
 * out of memory. */
static struct material_row *material_add(struct vec *mats, int e, const char *material, bool out) {
  struct material_row *m = vec_add(mats);
  if (!m) return NULL;
  m->ent = e;
  m->out = out;
  m->seq = mats->n;
  copy_str(m->material, sizeof m->material, material);
  return m;
}

/* Adds one point's material rows over [from, to) (API_SQL_MATERIALS: edge
 * records and whole 8-day blocks) to enterprise e's rows [first, n),
 * merging them whenever *compact_at rows have piled up. */
static int point_materials(struct api_req *r, int64_t point_id, int e, size_t first, int64_t from, int64_t to,
                           struct vec *mats, size_t *compact_at) {
  sqlite3_stmt *s = api_stmt(r, API_ST_MATERIALS);
  if (!s) return api_db_fail(r, "reading materials");
  int64_t b0, b1;
  ph_cems_agg_blocks_in(from, to, &b0, &b1);
  sqlite3_bind_int64(s, 1, point_id);
  sqlite3_bind_int64(s, 2, from);
  sqlite3_bind_int64(s, 3, b0);
  sqlite3_bind_int64(s, 4, b1);
  sqlite3_bind_int64(s, 5, to);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    struct material_row *m = material_add(mats, e, text(s, 0), !strcmp(text(s, 1), "out"));
    if (!m) {
      sqlite3_reset(s);
      return api_fail(r, 500, NULL, "out of memory");
    }
    m->qty += sqlite3_column_double(s, 2);
    m->records += sqlite3_column_int64(s, 3);
    if (mats->n - first >= *compact_at) {
      sort_run(mats, first);
      *compact_at = 2 * (mats->n - first) + MATERIAL_COMPACT_ROWS;
    }
  }
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : api_db_fail(r, "reading materials");
}

/* Totals per (ent, material, dir) in the order of the former GROUP BY ...
 * ORDER BY ent, material, dir (API_SQL_MATERIALS says why it is summed here). */
static int load_materials(struct api_req *r, int only, int64_t from, int64_t to, struct vec *mats,
                          struct ent_sum *sums) {
  sqlite3_stmt *s = api_stmt(r, API_ST_MAT_POINTS);
  if (!s) return api_db_fail(r, "reading materials");
  sqlite3_bind_text(s, 1, r->park->id, -1, SQLITE_STATIC);
  int rc, e = -1, bad = 0;
  size_t first = 0; /* the current enterprise's first row: its points come together */
  size_t compact_at = MATERIAL_COMPACT_ROWS;
  char cur[PH_ID_MAX + 1] = "";
  while (!bad && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (strcmp(cur, text(s, 1))) {
      copy_str(cur, sizeof cur, text(s, 1));
      e = ent_index(r->park, cur);
      sort_run(mats, first);
      first = mats->n;
      compact_at = MATERIAL_COMPACT_ROWS;
    }
    if (e >= 0 && (only < 0 || e == only))
      bad = point_materials(r, sqlite3_column_int64(s, 0), e, first, from, to, mats, &compact_at);
  }
  sqlite3_reset(s);
  if (bad) return r->status;
  if (rc != SQLITE_DONE) return api_db_fail(r, "reading materials");
  sort_run(mats, first);
  struct material_row *mv = mats->v;
  for (size_t i = 0; i < mats->n; i++) {
    struct material_row *m = &mv[i];
    m->role = ph_material_role(&r->park->materials, r->env->refs->cat, m->material);
    bool unclassified = m->role == PH_ROLE_UNCLASSIFIED;
    struct ent_sum *t = &sums[m->ent];
    if (m->out) {
      t->out_t += m->qty;
      t->unclassified_out_t += unclassified ? m->qty : 0;
    } else {
      t->in_t += m->qty;
      t->unclassified_in_t += unclassified ? m->qty : 0;
    }
  }
  return 0;
}

static int load_alarm_counts(struct api_req *r, int64_t from, int64_t to, struct ent_sum *sums) {
  if (!api_has_alarms(r)) return 0;
  sqlite3_stmt *s = api_stmt(r, API_ST_ALARM_COUNTS);
  if (!s) return api_db_fail(r, "counting alarms");
  sqlite3_bind_text(s, 1, r->park->id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, from);
  sqlite3_bind_int64(s, 3, to);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    int e = ent_index(r->park, text(s, 0));
    const char *sev = text(s, 1);
    enum ph_severity v;
    if (e < 0 || ph_severity_parse(sev, strlen(sev), &v)) continue;
    sums[e].alarms[v] += sqlite3_column_int64(s, 2);
  }
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : api_db_fail(r, "counting alarms");
}

/* One pollutant's figures for one enterprise (inv. 2). */
struct pol_fig {
  char metric[PH_ID_MAX + 1], unit[16];
  struct ph_emission_mass_row total;
  const char *why; /* ph_emission_mass_why: a static text, or NULL */
  struct ph_compliance cs;
};

/* One enterprise's figures, what a renderer gets. */
struct ent_fig {
  int e;
  const struct ph_hub_ent *ent;
  struct vec *pols; /* of struct pol_fig */
  struct ph_water water;
};

/* The request's state across enterprises. */
struct sum {
  struct api_req *r;
  sqlite3 *db;
  int64_t from, to, closed;
  int only; /* the ent argument's index, -1 for every enterprise */
  struct vec pairs, mats, totals, pols;
  struct ent_sum *sums;
};

static void periods_json(struct api_json *j, const char *key, const struct ph_compliance_periods *p, int nmonitored,
                         bool hours) {
  char why[160];
  aj_obj(j, key);
  aj_int(j, "expected", p->expected);
  aj_int(j, "valid", p->valid);
  aj_int(j, "with_limit", p->with_limit);
  aj_int(j, "within", p->within);
  aj_int(j, "exceeded", p->exceeded);
  aj_int(j, "stopped", p->stopped);
  aj_num(j, "rate", p->rate);
  if (ph_compliance_rate_why(p, nmonitored, hours, why, sizeof why)) aj_str(j, "rate_na", why);
  aj_num(j, "availability", p->availability);
  if (ph_compliance_period_why(nmonitored, p->expected, p->stopped, why, sizeof why)) aj_str(j, "availability_na", why);
  aj_end_obj(j);
}

/* The enterprise's monitoring period and how many of the range's closed
 * hours it covers (monitoring.h), as the report's monitoring_period. */
static int monitoring_json(struct api_req *r, sqlite3 *db, const struct ph_hub_ent *ent, int64_t from, int64_t to,
                           int64_t closed, struct api_json *j) {
  struct ph_monitoring_window w;
  struct ph_err err = {0};
  if (ph_monitoring_ent_window(db, ent, r->tz, r->park->id, &w, &err))
    return api_fail(r, 500, NULL, "monitoring period of %s: %s", ent->id, err.msg);
  int64_t hours_to = closed ? ph_tz_hour_start(r->tz, closed) : from, lo, hi;
  if (hours_to > to) hours_to = to;
  ph_monitoring_clip(&w, from, hours_to < from ? from : hours_to, &lo, &hi);
  aj_obj(j, "monitoring");
  aj_str(j, "source", ph_mon_source_name(w.source));
  if (w.source != PH_MON_NONE) aj_time(j, "since", w.since_ms);
  else aj_null(j, "since");
  if (w.source != PH_MON_NONE && w.until_ms != PH_MON_OPEN) aj_time(j, "until", w.until_ms);
  else aj_null(j, "until");
  aj_int(j, "monitored_hours", hi > lo ? ph_cems_count_hours(r->tz, lo, hi) : 0);
  if (w.source == PH_MON_NONE) aj_str(j, "status", PH_NA(NOT_MONITORED_NO_DATA));
  aj_end_obj(j);
  return 0;
}

/* ---- CSV: rows (ent, section, item, value, unit) ---- */

static const struct api_col sum_cols[] = {
    API_COL("ent", API_STR),   API_COL("section", API_STR), API_COL("item", API_STR),
    API_COL("value", API_NUM), API_COL("unit", API_STR),    API_COL_END};

static void csv_row(struct api_rows *w, const char *ent, const char *section, const char *item, double v,
                    const char *unit) {
  ar_row(w);
  if (w->cols == api_summary_park_cols) ar_str(w, w->r->park->id); /* across parks (api_parks.c) */
  ar_str(w, ent);
  ar_str(w, section);
  ar_str(w, item);
  ar_num(w, v);
  ar_str(w, unit);
  ar_end_row(w);
}

static void water_csv(struct api_rows *w, const struct ph_hub_ent *ent, const struct ph_water *wa) {
  for (size_t i = 0; i < wa->n; i++) {
    const struct ph_water_outlet *o = &wa->outlets[i];
    csv_row(w, ent->id, "water_volume", o->point, o->volume_m3, "m3");
    for (size_t k = 0; k < o->np; k++) {
      const struct ph_water_pollutant *p = &o->p[k];
      char item[2 * PH_ID_MAX + 2];
      snprintf(item, sizeof item, "%s/%s", o->point, p->metric);
      csv_row(w, ent->id, "water_load", item, p->load_kg, "kg");
      csv_row(w, ent->id, "water_days_valid", item, (double)p->days_valid, "");
      csv_row(w, ent->id, "water_days_with_limit", item, (double)p->days_with_limit, "");
      csv_row(w, ent->id, "water_days_over", item, (double)p->days_over, "");
      if (p->range) csv_row(w, ent->id, "water_hours_out_of_range", item, (double)p->hours_out, "");
    }
  }
}

static void pol_csv(struct api_rows *w, const char *ent, const struct pol_fig *p) {
  csv_row(w, ent, "mass", p->metric, p->why ? NAN : p->total.mass, p->unit);
  csv_row(w, ent, "mass_gap_share", p->metric, p->total.gap_share, "");
  csv_row(w, ent, "compliance_rate_hours", p->metric, p->cs.hours.rate, "");
  csv_row(w, ent, "availability_hours", p->metric, p->cs.hours.availability, "");
  csv_row(w, ent, "exceeded_hours", p->metric, (double)p->cs.hours.exceeded, "");
  csv_row(w, ent, "compliance_rate_days", p->metric, p->cs.days.rate, "");
  csv_row(w, ent, "availability_days", p->metric, p->cs.days.availability, "");
  csv_row(w, ent, "exceeded_days", p->metric, (double)p->cs.days.exceeded, "");
}

const struct api_col api_summary_park_cols[] = {
    API_COL("park", API_STR), API_COL("ent", API_STR),   API_COL("section", API_STR), API_COL("item", API_STR),
    API_COL("value", API_NUM), API_COL("unit", API_STR), API_COL_END};

#define sum_out api_sum_out /* api_parks.h's, under the name this file's renderers always used */

static void csv_begin(struct sum *s, struct sum_out *o) { (void)s, (void)o; } /* the document's: api_summary_begin */

static int csv_ent(struct sum *s, struct sum_out *o, const struct ent_fig *f) {
  const char *id = f->ent->id;
  const struct pol_fig *pv = f->pols->v;
  const struct material_row *mv = s->mats.v;
  for (size_t i = 0; i < f->pols->n; i++) pol_csv(&o->w, id, &pv[i]);
  for (int k = 0; k < NSEV; k++) csv_row(&o->w, id, "alarms", sev_names[k], (double)s->sums[f->e].alarms[k], "");
  for (size_t i = 0; i < s->mats.n; i++)
    if (mv[i].ent == f->e)
      csv_row(&o->w, id, mv[i].out ? "material_out" : "material_in", mv[i].material, mv[i].qty, "t");
  csv_row(&o->w, id, "materials_unclassified", "in", s->sums[f->e].unclassified_in_t, "t");
  csv_row(&o->w, id, "materials_unclassified", "out", s->sums[f->e].unclassified_out_t, "t");
  water_csv(&o->w, f->ent, &f->water);
  return 0;
}

static void csv_end(struct sum *s, struct sum_out *o) { (void)s, (void)o; }

/* ---- JSON: the nested document ---- */

static void water_json(struct api_json *j, const struct ph_water *wa) {
  aj_obj(j, "water");
  aj_int(j, "outlets", (int64_t)wa->n);
  if (!wa->n) aj_str(j, "outlets_na", PH_NA(NO_WATER_OUTLET_CONFIGURED));
  aj_arr(j, "items");
  for (size_t i = 0; i < wa->n; i++) {
    const struct ph_water_outlet *o = &wa->outlets[i];
    aj_obj(j, NULL);
    aj_str(j, "point", o->point);
    aj_str(j, "discharge", ph_discharge_name((enum ph_discharge)o->discharge));
    aj_num(j, "volume_m3", o->volume_m3);
    if (isnan(o->volume_m3)) aj_str(j, "volume_m3_na", PH_NA(NO_FLOW_SERIES_AT_OUTLET));
    aj_int(j, "flow_hours", o->flow_hours);
    aj_arr(j, "pollutants");
    for (size_t k = 0; k < o->np; k++) {
      const struct ph_water_pollutant *p = &o->p[k];
      aj_obj(j, NULL);
      aj_str(j, "metric", p->metric);
      if (p->limit_na) {
        aj_null(j, "limit");
        aj_str(j, "limit_na", p->limit_na);
      } else if (p->range) {
        aj_num(j, "limit_min", p->limit_lo);
        aj_num(j, "limit_max", p->limit_hi);
      } else {
        aj_num(j, "limit", p->limit_hi);
      }
      aj_int(j, "days_valid", p->days_valid);
      aj_num(j, "mean", p->mean);
      if (!p->days_valid) aj_str(j, "mean_na", PH_NA(NO_VALID_DAY_20H));
      aj_int(j, "days_with_limit", p->days_with_limit);
      aj_int(j, "days_over", p->days_over);
      if (p->range) {
        aj_int(j, "hours_with_limit", p->hours_with_limit);
        aj_int(j, "hours_out_of_range", p->hours_out);
      }
      aj_num(j, "load_kg", p->load_kg);
      if (isnan(p->load_kg))
        aj_str(j, "load_kg_na", isnan(o->volume_m3) ? PH_NA(NO_FLOW_AT_OUTLET) : PH_NA(NOT_MG_PER_L));
      else {
        aj_int(j, "load_hours", p->load_hours);
        aj_int(j, "load_gap_hours", p->load_gap_hours);
        aj_int(j, "load_days", p->load_days);
      }
      aj_end_obj(j);
    }
    aj_end_arr(j);
    aj_end_obj(j);
  }
  aj_end_arr(j);
  aj_end_obj(j);
}

static void pol_json(struct api_json *j, const struct pol_fig *p) {
  aj_obj(j, NULL);
  aj_str(j, "metric", p->metric);
  aj_obj(j, "mass");
  if (p->why) { /* the report's reason, never a 0 for missing data (inv. 3) */
    aj_null(j, "value");
    aj_str(j, "value_na", p->why);
  } else {
    aj_num(j, "value", p->total.mass);
  }
  aj_str(j, "unit", p->unit);
  aj_int(j, "hours_used", p->total.hours_used);
  aj_int(j, "hours_expected", p->total.hours_expected);
  aj_int(j, "hours_stopped", p->total.hours_stopped);
  aj_num(j, "gap_share", p->total.gap_share);
  if (p->total.hours_expected == 0) aj_str(j, "gap_share_na", p->why ? p->why : PH_NA(NOTHING_EXPECTED));
  aj_end_obj(j);
  aj_int(j, "points", p->cs.npoints);
  periods_json(j, "hours", &p->cs.hours, p->cs.nmonitored, true);
  periods_json(j, "days", &p->cs.days, p->cs.nmonitored, false);
  aj_end_obj(j);
}

static void materials_json(struct api_json *j, const struct sum *s, int e) {
  const struct material_row *mv = s->mats.v;
  aj_obj(j, "materials");
  aj_num(j, "in_t", s->sums[e].in_t);
  aj_num(j, "out_t", s->sums[e].out_t);
  aj_num(j, "unclassified_in_t", s->sums[e].unclassified_in_t);
  aj_num(j, "unclassified_out_t", s->sums[e].unclassified_out_t);
  aj_arr(j, "items");
  for (size_t i = 0; i < s->mats.n; i++) {
    if (mv[i].ent != e) continue;
    aj_obj(j, NULL);
    aj_str(j, "material", mv[i].material);
    aj_str(j, "role", ph_role_name(mv[i].role));
    aj_str(j, "dir", mv[i].out ? "out" : "in");
    aj_num(j, "qty_t", mv[i].qty);
    aj_int(j, "records", mv[i].records);
    aj_end_obj(j);
  }
  aj_end_arr(j);
  aj_end_obj(j);
}

static void json_begin(struct sum *s, struct sum_out *o) {
  struct api_json *j = &o->j;
  aj_obj(j, NULL);
  aj_str(j, "park", s->r->park->id);
  aj_time(j, "from", s->from);
  aj_time(j, "to", s->to);
  if (s->closed)
    aj_time(j, "closed_until", s->closed);
  else
    aj_null(j, "closed_until");
  aj_arr(j, "enterprises");
}

/* "alarms": counts per severity (on a regional hub, of the park hub's
 * alarms it forwarded: api_sql.h API_SQL_REGIONAL_VIEWS). */
static void alarms_json(struct api_json *j, const int64_t *counts) {
  aj_obj(j, "alarms");
  for (int k = 0; k < NSEV; k++) aj_int(j, sev_names[k], counts[k]);
  aj_end_obj(j);
}

static int json_ent(struct sum *s, struct sum_out *o, const struct ent_fig *f) {
  struct api_json *j = &o->j;
  aj_obj(j, NULL);
  aj_str(j, "ent", f->ent->id);
  aj_str(j, "name", f->ent->name);
  if (monitoring_json(s->r, s->db, f->ent, s->from, s->to, s->closed, j)) return s->r->status;
  aj_arr(j, "pollutants");
  for (size_t i = 0; i < f->pols->n; i++) pol_json(j, &((const struct pol_fig *)f->pols->v)[i]);
  aj_end_arr(j);
  water_json(j, &f->water);
  alarms_json(j, s->sums[f->e].alarms);
  materials_json(j, s, f->e);
  aj_end_obj(j);
  return 0;
}

static void json_end(struct sum *s, struct sum_out *o) {
  struct api_json *j = &o->j;
  aj_end_arr(j);
  aj_obj(j, "totals");
  aj_arr(j, "mass");
  for (size_t k = 0; k < s->totals.n; k++) {
    const struct total *t = &((struct total *)s->totals.v)[k];
    aj_obj(j, NULL);
    aj_str(j, "metric", t->metric);
    if (t->without) { /* the park's sum only when every enterprise has its figure, as the report's */
      char why[128], nw[16], na[16];
      snprintf(nw, sizeof nw, "%d", t->without);
      snprintf(na, sizeof na, "%d", t->with + t->without);
      snprintf(why, sizeof why, PH_NA(NA_FOR_N_OF_M_ENTS), nw, na);
      aj_null(j, "value");
      aj_str(j, "value_na", why);
      if (t->with) aj_num(j, "partial_value", t->mass); /* labelled: over those that have it */
    } else {
      aj_num(j, "value", t->mass);
    }
    aj_int(j, "enterprises_missing", t->without);
    aj_str(j, "unit", t->unit);
    aj_int(j, "hours_used", t->used);
    aj_int(j, "hours_expected", t->expected);
    aj_end_obj(j);
  }
  aj_end_arr(j);
  int64_t al[NSEV] = {0};
  struct ent_sum park = {0};
  for (int e = 0; e < s->r->park->nents; e++) {
    for (int k = 0; k < NSEV; k++) al[k] += s->sums[e].alarms[k];
    park.in_t += s->sums[e].in_t;
    park.out_t += s->sums[e].out_t;
    park.unclassified_in_t += s->sums[e].unclassified_in_t;
    park.unclassified_out_t += s->sums[e].unclassified_out_t;
  }
  alarms_json(j, al);
  aj_obj(j, "materials");
  aj_num(j, "in_t", park.in_t);
  aj_num(j, "out_t", park.out_t);
  aj_num(j, "unclassified_in_t", park.unclassified_in_t);
  aj_num(j, "unclassified_out_t", park.unclassified_out_t);
  aj_end_obj(j);
  aj_end_obj(j);
  aj_end_obj(j);
}

struct sum_render {
  void (*begin)(struct sum *s, struct sum_out *o);
  int (*ent)(struct sum *s, struct sum_out *o, const struct ent_fig *f); /* 0, or the status of a failure */
  void (*end)(struct sum *s, struct sum_out *o);
};

static const struct sum_render render_json = {json_begin, json_ent, json_end};
static const struct sum_render render_csv = {csv_begin, csv_ent, csv_end};

/* ---- figures ---- */

/* Adds a pollutant's mass to the park's totals. */
static void add_total(struct sum *s, const struct pol_fig *p) {
  struct total *t = NULL;
  for (size_t k = 0; k < s->totals.n && !t; k++)
    if (!strcmp(((struct total *)s->totals.v)[k].metric, p->metric)) t = &((struct total *)s->totals.v)[k];
  if (!t && (t = vec_add(&s->totals))) {
    copy_str(t->metric, sizeof t->metric, p->metric);
    copy_str(t->unit, sizeof t->unit, p->unit);
  }
  if (!t) return;
  t->used += p->total.hours_used;
  t->expected += p->total.hours_expected;
  if (p->why) { /* never a 0 for an enterprise without the figure (inv. 3) */
    t->without++;
    return;
  }
  t->mass += p->total.mass;
  t->with++;
}

/* One pollutant of one enterprise: mass and compliance (inv. 2). */
static int pollutant_fig(struct sum *s, const struct ph_hub_ent *ent, const char *metric, struct pol_fig *p) {
  struct api_req *r = s->r;
  struct ph_emission_mass m;
  struct ph_err err = {0};
  int rc = ph_emission_mass_compute(s->db, r->park, r->tz, r->env->refs->cat, r->park->id, ent->id, metric, s->from,
                                    s->to, PH_MASS_BY_YEAR, &m, &err);
  if (!rc)
    rc = ph_compliance_summary(s->db, r->park, r->tz, r->park->id, ent->id, NULL, metric, s->from, s->to, &p->cs,
                               &err);
  if (!rc) {
    copy_str(p->metric, sizeof p->metric, metric);
    copy_str(p->unit, sizeof p->unit, m.unit);
    p->total = m.total;
    p->why = ph_emission_mass_why(&m);
  }
  ph_emission_mass_fini(&m);
  if (!rc) return 0;
  PH_WARN(MOD, "summary of %s/%s %s: %s", r->park->id, ent->id, metric, err.msg);
  return api_fail(r, 500, NULL, "computing %s of %s failed", metric, ent->id);
}

/* The enterprise's water outlets over [from, to) (water.h: volume, loads,
 * daily-mean compliance against verified limits only). */
static int water_fig(struct sum *s, const struct ph_hub_ent *ent, struct ph_water *wa) {
  struct api_req *r = s->r;
  struct ph_err err = {0};
  const struct ph_limits *lim = ph_limits_pick(r->env->refs->limits, r->env->refs->nlimits, ent->standard);
  if (!ph_water_summarise(s->db, r->park->id, ent, r->env->refs->cat, lim, r->tz, s->from, s->to, wa, &err))
    return 0;
  PH_WARN(MOD, "water summary of %s/%s: %s", r->park->id, ent->id, err.msg);
  return api_fail(r, 500, NULL, "computing the water outlets of %s failed", ent->id);
}

/* Figures of enterprise e, then its rendering. */
static int one_ent(struct sum *s, int e, const struct sum_render *rd, struct sum_out *o) {
  struct ent_fig f = {.e = e, .ent = &s->r->park->ents[e], .pols = &s->pols};
  const struct pair *pv = s->pairs.v;
  s->pols.n = 0;
  for (size_t i = 0; i < s->pairs.n; i++) {
    if (pv[i].ent != e) continue;
    struct pol_fig *p = vec_add(&s->pols);
    if (!p) return api_fail(s->r, 500, NULL, "out of memory");
    if (pollutant_fig(s, f.ent, pv[i].metric, p)) return s->r->status;
    add_total(s, p);
  }
  int status = water_fig(s, f.ent, &f.water);
  if (!status) status = rd->ent(s, o, &f);
  ph_water_fini(&f.water);
  return status;
}

static const char *const summary_args[] = {"from", "to", "ent", NULL};

/* The arguments: 0, or the status of a refusal. */
static int summary_query(struct api_req *r, int64_t *from, int64_t *to, const char **ent_arg) {
  if (api_args_check(r, summary_args) || api_arg_time(r, "from", true, from, NULL) ||
      api_arg_time(r, "to", true, to, NULL) || api_arg_id(r, "ent", false, ent_arg) ||
      api_arg_period(r, *from, *to, SUMMARY_MAX_MS, "400 days"))
    return r->status;
  if (*ent_arg && ent_index(r->park, *ent_arg) < 0)
    return api_fail(r, 404, "ent", "ent: %s is not an enterprise of park %s", *ent_arg, r->park->id);
  api_attachment(r, "summary", *ent_arg, *from, *to);
  return 0;
}

int api_get_summary(struct api_req *r) {
  int64_t from, to;
  const char *ent_arg;
  if (summary_query(r, &from, &to, &ent_arg)) return r->status;
  struct sum_out o;
  api_summary_begin(r, &o, false);
  int status = api_summary_park(r, &o, from, to, ent_arg);
  if (!status) api_summary_end(r, &o);
  return status ? status : 200;
}

bool api_summary_pollutant(const struct ph_catalog *cat, const char *code) { return pollutant(cat, code); }

void api_summary_begin(struct api_req *r, struct api_sum_out *o, bool park_col) {
  if (r->csv) {
    ar_begin(&o->w, r, park_col ? api_summary_park_cols : sum_cols);
  } else {
    r->ctype = "application/json";
    aj_init(&o->j, &r->out);
  }
}

void api_summary_end(struct api_req *r, struct api_sum_out *o) {
  if (r->csv)
    ar_end(&o->w);
  else
    api_buf_put(&r->out, "\n", 1);
}

int api_summary_park(struct api_req *r, struct api_sum_out *o, int64_t from, int64_t to, const char *ent) {
  struct sum s = {.r = r,
                  .db = api_db(r),
                  .from = from,
                  .to = to,
                  .only = ent ? ent_index(r->park, ent) : -1,
                  .pairs = {.size = sizeof(struct pair)},
                  .mats = {.size = sizeof(struct material_row)},
                  .totals = {.size = sizeof(struct total)},
                  .pols = {.size = sizeof(struct pol_fig)}};
  if (ent && s.only < 0) return api_fail(r, 404, "ent", "ent: %s is not an enterprise of park %s", ent, r->park->id);
  if (!r->tz) return api_fail(r, 500, NULL, "no time zone loaded for park %s", r->park->id);
  struct ph_err err = {0};
  if (ph_cems_closed_until(s.db, &s.closed, &err)) return api_fail(r, 500, NULL, "%s", err.msg);
  ph_stmt_cache_begin(s.db); /* 400 figures of a dozen statements each: prepared once (stmt_cache.h) */
  if (s.only < 0) ph_cems_spans_park(r->park->id); /* every enterprise: one grouped read per figure (cems_spans.h) */
  int status = 0;
  if (!(s.sums = ph_calloc((size_t)(r->park->nents ? r->park->nents : 1), sizeof *s.sums)))
    status = api_fail(r, 500, NULL, "out of memory");
  if (!status && (load_pairs(r, s.only, &s.pairs) || load_materials(r, s.only, s.from, s.to, &s.mats, s.sums) ||
                  load_alarm_counts(r, s.from, s.to, s.sums)))
    status = r->status;
  const struct sum_render *rd = r->csv ? &render_csv : &render_json;
  if (!status) rd->begin(&s, o);
  for (int e = 0; !status && e < r->park->nents; e++)
    if (s.only < 0 || e == s.only) status = one_ent(&s, e, rd, o);
  if (!status) rd->end(&s, o);
  ph_free(s.pairs.v);
  ph_free(s.mats.v);
  ph_free(s.totals.v);
  ph_free(s.pols.v);
  ph_free(s.sums);
  ph_stmt_cache_end_keep(s.db); /* the worker's connection: the next summary on it reuses them */
  return status;
}
