/* inventory.c — the PCDD/F inventory, the reduction against the baseline
 * and the stack-test monitoring plan (inventory.h has the method).
 *
 * Callers: the report and the query API (per enterprise, per park), the
 * alarms' overdue rule (ph_monitoring_plan). Threads: the caller's; every
 * call prepares its statements on the caller's read connection and
 * finalizes them before returning. Owns nothing between calls.
 *
 * Measured release of one stack, latest concentration (tests t1 < t2 < …,
 * each aligned up to the next local hour start bk):
 *
 *     year start        b1            b2                      year end
 *     |---- c1 (before) -|---- c1 ----|---- c2 ----  …  -- cn --|
 *     hours with valid flow: mean × 1 h;  other hours: year's mean flow
 *
 * Invariants (tests cite them):
 *  1. A figure that cannot be computed is reported as not available with
 *     the reason; it is never replaced by 0 (ND factor, no class, no test,
 *     no flow). Sums over parts or enterprises say how many were missing.
 *  2. Every hour of the year counts exactly once per stack: hours =
 *     hours_measured + hours_gap, volume = measured + filled.
 *  3. The parts of the estimated inventory tile the year: from of the first
 *     is the year's start, to of the last its end, each to = next from.
 *  4. Only prepared statements with bound parameters touch the database.
 *
 * SQL lives together in inventory_sql.h.
 */
#include "domain/inventory.h"
#include "parkhub/na_reasons.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "domain/cems.h"
#include "domain/monitoring.h"
#include "parkhub/timefmt.h"
#include "inventory_sql.h"

#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL
#define DEFAULT_INTERVAL_DAYS 365

/* ------------------------------------------------------- statements */

struct q {
  sqlite3 *db;
  sqlite3_stmt *stacks, *series, *tests, *flow, *last, *materials;
  struct ph_err *err;
};

static int db_fail(struct q *q, const char *what) {
  return ph_fail(q->err, PH_EDB, "inventory: %s: %s", what, sqlite3_errmsg(q->db));
}

static void q_close(struct q *q) {
  sqlite3_finalize(q->stacks);
  sqlite3_finalize(q->series);
  sqlite3_finalize(q->tests);
  sqlite3_finalize(q->flow);
  sqlite3_finalize(q->last);
  sqlite3_finalize(q->materials);
}

static int q_open(struct q *q, sqlite3 *db, struct ph_err *err) {
  memset(q, 0, sizeof *q);
  q->db = db;
  q->err = err;
  if (!db) return ph_fail(err, PH_EINVAL, "inventory: no database");
  if (sqlite3_prepare_v2(db, INV_SQL_STACKS, -1, &q->stacks, NULL) ||
      sqlite3_prepare_v2(db, INV_SQL_SERIES, -1, &q->series, NULL) ||
      sqlite3_prepare_v2(db, INV_SQL_TESTS, -1, &q->tests, NULL) ||
      sqlite3_prepare_v2(db, INV_SQL_FLOW, -1, &q->flow, NULL) ||
      sqlite3_prepare_v2(db, INV_SQL_LAST_TEST, -1, &q->last, NULL) ||
      sqlite3_prepare_v2(db, INV_SQL_MATERIALS, -1, &q->materials, NULL)) {
    int rc = db_fail(q, "prepare");
    q_close(q);
    return rc;
  }
  return 0;
}

static void q_reset(sqlite3_stmt *s) {
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
}

/* ------------------------------------------------------------ dates */

int64_t ph_inventory_midnight(const struct ph_tz *tz, int y, unsigned m, unsigned d) {
  if (m > 12) {
    y += (int)((m - 1) / 12);
    m = (m - 1) % 12 + 1;
  }
  return ph_tz_date_start(tz, ph_days_from_civil(y, m, d));
}

static int64_t local_day(const struct ph_tz *tz, int64_t ms) {
  int y;
  unsigned m, d;
  ph_tz_local_date(tz, ms, &y, &m, &d, NULL);
  return ph_days_from_civil(y, m, d);
}

static void date_str(int64_t day, char *buf) {
  int y;
  unsigned m, d;
  ph_civil_from_days(day, &y, &m, &d);
  snprintf(buf, PH_DATE_LEN, "%04u-%02u-%02u", (unsigned)y % 10000u, m % 100u, d % 100u); /* years 1971..9999 */
}

static void local_date_str(const struct ph_tz *tz, int64_t ms, char *buf) { date_str(local_day(tz, ms), buf); }

/* The first local hour start at or after t. */
static int64_t hour_ceil(const struct ph_tz *tz, int64_t t) {
  int64_t h = ph_tz_hour_start(tz, t);
  if (h == t) return t;
  int64_t next = ph_tz_hour_start(tz, h + HOUR_MS);
  return next > t ? next : h + HOUR_MS;
}

const char *ph_inv_method_name(enum ph_inv_method m) {
  switch (m) {
  case PH_INV_MEASURED: return "measured";
  case PH_INV_ESTIMATED: return "estimated";
  case PH_INV_CONFIGURED: return "configured";
  case PH_INV_FILLED: return "filled";
  default: return "none";
  }
}

/* ----------------------------------------------------------- lookups */

static int find_ent(const struct ph_hub_config *cfg, const char *park, const char *ent,
                    const struct ph_hub_park **pp, const struct ph_hub_ent **ep, struct ph_err *err) {
  const struct ph_hub_park *p = cfg && park ? ph_hub_config_park(cfg, park) : NULL;
  if (!p) return ph_fail(err, PH_ENOTFOUND, "inventory: park '%s' is not configured", park ? park : "(null)");
  const struct ph_hub_ent *e = ent ? ph_hub_config_ent(p, ent) : NULL;
  if (ent && !e)
    return ph_fail(err, PH_ENOTFOUND, "inventory: enterprise '%s' is not configured in park '%s'", ent, park);
  *pp = p;
  if (ep) *ep = e;
  return 0;
}

static int check_year(int year, struct ph_err *err) {
  if (year < 1971 || year > 9998) return ph_fail(err, PH_EINVAL, "inventory: year %d outside 1971..9998", year);
  return 0;
}

struct stack_ref {
  int64_t point_id, pcdd_series;
  char point[PH_ID_MAX + 1];
};

/* The enterprise's dioxin stacks (≤ PH_INV_MAX_STACKS). */
static int list_stacks(struct q *q, const char *park, const char *ent, struct stack_ref *out, int *n) {
  int rc;
  *n = 0;
  sqlite3_bind_text(q->stacks, 1, park, -1, SQLITE_STATIC);
  sqlite3_bind_text(q->stacks, 2, ent, -1, SQLITE_STATIC);
  sqlite3_bind_text(q->stacks, 3, "pcdd_f", -1, SQLITE_STATIC);
  while ((rc = sqlite3_step(q->stacks)) == SQLITE_ROW) {
    if (*n == PH_INV_MAX_STACKS) {
      q_reset(q->stacks);
      return ph_fail(q->err, PH_EFULL, "inventory: %s/%s has more than %d PCDD/F stacks", park, ent,
                     PH_INV_MAX_STACKS);
    }
    struct stack_ref *s = &out[(*n)++];
    s->point_id = sqlite3_column_int64(q->stacks, 0);
    snprintf(s->point, sizeof s->point, "%s", (const char *)sqlite3_column_text(q->stacks, 1));
    s->pcdd_series = sqlite3_column_int64(q->stacks, 2);
  }
  q_reset(q->stacks);
  return rc == SQLITE_DONE ? 0 : db_fail(q, "stacks");
}

/* Series id of (point, metric), 0 when there is none. */
static int series_of(struct q *q, int64_t point_id, const char *metric, int64_t *id) {
  sqlite3_bind_int64(q->series, 1, point_id);
  sqlite3_bind_text(q->series, 2, metric, -1, SQLITE_STATIC);
  int rc = sqlite3_step(q->series);
  *id = rc == SQLITE_ROW ? sqlite3_column_int64(q->series, 0) : 0;
  q_reset(q->series);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(q, "series");
}

/* Σ qty_t of the enterprise's ledger in [from, to): dir out of products
 * (basis product) or dir in of feeds (basis feed), by the park's material
 * registry (materials.h); unclassified codes have no role and count for
 * neither. */
static int activity(struct q *q, const struct ph_catalog *cat, const struct ph_hub_park *park, const char *ent,
                    int64_t from, int64_t to, enum ph_basis basis, double *t, int *rows) {
  int rc;
  *t = 0;
  sqlite3_bind_text(q->materials, 1, park->id, -1, SQLITE_STATIC);
  sqlite3_bind_text(q->materials, 2, ent, -1, SQLITE_STATIC);
  sqlite3_bind_int64(q->materials, 3, from);
  sqlite3_bind_int64(q->materials, 4, to);
  while ((rc = sqlite3_step(q->materials)) == SQLITE_ROW) {
    const char *code = (const char *)sqlite3_column_text(q->materials, 0);
    const char *dir = (const char *)sqlite3_column_text(q->materials, 1);
    if (!code || !dir) continue;
    enum ph_role role = ph_material_role(&park->materials, cat, code);
    if ((basis == PH_BASIS_PRODUCT && role == PH_ROLE_PRODUCT && strcmp(dir, "out") == 0) ||
        (basis == PH_BASIS_FEED && role == PH_ROLE_FEED && strcmp(dir, "in") == 0))
      *t += sqlite3_column_double(q->materials, 2), ++*rows;
  }
  q_reset(q->materials);
  return rc == SQLITE_DONE ? 0 : db_fail(q, "materials");
}

/* ---------------------------------------------------------- measured */

struct test_row {
  int64_t ts;
  double v;
  int n;
};

static int load_tests(struct q *q, int64_t series, int64_t from, int64_t to, struct test_row **out, int *n) {
  int rc, cap = 0;
  struct test_row *t = NULL;
  *n = 0;
  sqlite3_bind_int64(q->tests, 1, series);
  sqlite3_bind_int64(q->tests, 2, from);
  sqlite3_bind_int64(q->tests, 3, to);
  while ((rc = sqlite3_step(q->tests)) == SQLITE_ROW) {
    if (*n == cap) {
      int ncap = cap ? cap * 2 : 8;
      struct test_row *nt = ph_realloc(t, (size_t)ncap * sizeof *t);
      if (!nt) {
        q_reset(q->tests);
        ph_free(t);
        return ph_fail(q->err, PH_ENOMEM, "inventory: out of memory");
      }
      t = nt;
      cap = ncap;
    }
    int64_t nv = sqlite3_column_int64(q->tests, 1);
    t[*n] = (struct test_row){.ts = sqlite3_column_int64(q->tests, 0),
                              .v = sqlite3_column_double(q->tests, 2) / (double)nv,
                              .n = (int)nv};
    (*n)++;
  }
  q_reset(q->tests);
  if (rc != SQLITE_DONE) {
    ph_free(t);
    return db_fail(q, "stack tests");
  }
  *out = t;
  return 0;
}

/* Per part of the counted hours with one concentration. */
struct seg {
  int64_t start, end;
  double c;
  double hours_meas, vol_meas, hours_stopped;
};

/* The stack's counted range, its stopped hours (inv. 5) go to their parts. */
struct stop_seg {
  struct seg *sg;
  int nseg, k;
};

static int stopped_hour(void *u, int64_t hour_ms) {
  struct stop_seg *w = u;
  while (w->k < w->nseg - 1 && hour_ms >= w->sg[w->k].end) w->k++;
  w->sg[w->k].hours_stopped += 1;
  return 0;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* The stack's range: [lo, hi) = the year ∩ its monitoring period ∩ closed hours. */
struct stack_range {
  int64_t lo, hi;
  bool overlaps; /* the monitoring period overlaps the year (closed hours or not) */
  const char *park, *ent;
  int64_t point_id;
};

/* Fills st from tests and the flow series over the stack's range. */
static int stack_release(struct q *q, const struct ph_tz *tz, int conc, int64_t flow_series,
                         const struct stack_range *rg, const struct test_row *t, int nt, struct ph_inv_stack *st) {
  int64_t from = rg->lo, to = rg->hi;
  st->concentration = conc;
  st->hours = (double)ph_cems_count_hours(tz, from, to);
  double csum = 0;
  for (int k = 0; k < nt; k++) csum += t[k].v;
  st->mean_ng_teq_nm3 = nt ? csum / nt : 0;

  int nseg = nt == 0 ? 1 : conc == PH_DIOXIN_MEAN ? 1 : nt;
  struct seg *sg = ph_calloc((size_t)nseg, sizeof *sg);
  if (!sg) return ph_fail(q->err, PH_ENOMEM, "inventory: out of memory");
  if (nseg == 1) {
    sg[0] = (struct seg){.start = from, .end = to, .c = st->mean_ng_teq_nm3};
  } else { /* latest: part k from the hour after test k to the hour after test k+1 */
    for (int k = 0; k < nseg; k++) {
      sg[k].start = k == 0 ? from : clamp(hour_ceil(tz, t[k].ts), from, to);
      sg[k].c = t[k].v;
      if (k) sg[k - 1].end = sg[k].start;
    }
    sg[nseg - 1].end = to;
  }
  if (nt > 0 && conc != PH_DIOXIN_MEAN) /* latest, one test or more: the first covers the hours before it */
    st->hours_before_first_test = (double)ph_cems_count_hours(tz, from, clamp(hour_ceil(tz, t[0].ts), from, to));

  int rc = 0;
  int k = 0;
  if (flow_series && to > from) {
    sqlite3_bind_int64(q->flow, 1, flow_series);
    sqlite3_bind_int64(q->flow, 2, from);
    sqlite3_bind_int64(q->flow, 3, to);
    while ((rc = sqlite3_step(q->flow)) == SQLITE_ROW) {
      int64_t bucket = sqlite3_column_int64(q->flow, 0);
      while (k < nseg - 1 && bucket >= sg[k].end) k++;
      sg[k].hours_meas += 1;
      sg[k].vol_meas += sqlite3_column_double(q->flow, 1); /* hour mean × 1 h */
    }
    q_reset(q->flow);
    if (rc != SQLITE_DONE) {
      ph_free(sg);
      return db_fail(q, "flow");
    }
  }
  struct stop_seg ss = {sg, nseg, 0};
  rc = to > from ? ph_monitoring_stopped_each(q->db, rg->park, rg->ent, rg->point_id, flow_series, from, to,
                                              stopped_hour, &ss, q->err)
                 : 0;
  if (rc) {
    ph_free(sg);
    return rc;
  }
  for (k = 0; k < nseg; k++) {
    st->hours_measured += sg[k].hours_meas;
    st->hours_stopped += sg[k].hours_stopped;
    st->volume_measured_nm3 += sg[k].vol_meas;
  }
  st->mean_flow_nm3_h = st->hours_measured > 0 ? st->volume_measured_nm3 / st->hours_measured : 0;
  for (k = 0; k < nseg; k++) {
    double hours = (double)ph_cems_count_hours(tz, sg[k].start, sg[k].end) - sg[k].hours_stopped;
    double gap = hours > sg[k].hours_meas ? hours - sg[k].hours_meas : 0; /* inv. 2 */
    double filled = gap * st->mean_flow_nm3_h;
    st->hours_gap += gap;
    st->volume_filled_nm3 += filled;
    st->g_teq += sg[k].c * (sg[k].vol_meas + filled) * 1e-9;
  }
  st->volume_nm3 = st->volume_measured_nm3 + st->volume_filled_nm3;
  st->measured_share = st->volume_nm3 > 0 ? st->volume_measured_nm3 / st->volume_nm3 : 0;
  st->filled_share = st->volume_nm3 > 0 ? st->volume_filled_nm3 / st->volume_nm3 : 0;
  ph_free(sg);
  if (nt == 0) {
    st->g_teq = 0;
    snprintf(st->why, sizeof st->why, "%s", PH_NA(NO_STACK_TEST_IN_YEAR));
  } else if (st->hours == 0) {
    st->g_teq = 0;
    snprintf(st->why, sizeof st->why, "%s",
             rg->overlaps ? PH_NA(NO_MONITORED_HOUR_CLOSED) : PH_NA(NOT_MONITORED_IN_YEAR));
  } else if (st->hours_measured == 0 && st->hours > st->hours_stopped) {
    st->g_teq = 0;
    snprintf(st->why, sizeof st->why, "%s", PH_NA(NO_VALID_FLOW_HOUR));
  } else {
    st->avail = true; /* stopped every monitored hour: a true 0 */
  }
  return 0;
}

/* The counted range of one stack in [from, to): its monitoring period, up
 * to the closed hours. */
static int stack_range(struct q *q, const struct ph_tz *tz, const struct ph_hub_ent *e, const char *park,
                       const struct stack_ref *ref, int64_t from, int64_t to, int64_t closed_to,
                       struct ph_inv_stack *st, struct stack_range *rg) {
  struct ph_monitoring_window w;
  int rc = ph_monitoring_window(q->db, e, tz, ref->point_id, ref->point, &w, q->err);
  if (rc) return rc;
  st->since_ms = w.since_ms;
  st->until_ms = w.until_ms;
  st->mon_source = (int)w.source;
  *rg = (struct stack_range){.park = park, .ent = e->id, .point_id = ref->point_id,
                             .overlaps = ph_monitoring_overlaps(&w, from, to)};
  ph_monitoring_clip(&w, from, to < closed_to ? to : closed_to, &rg->lo, &rg->hi);
  return 0;
}

/* "monitored 31 of 365 days (share 0.085 < 0.75)": too little of the year
 * to annualise. */
static void monitored_days_why(long long days, long long of, double share, double min_share, char *buf, size_t cap) {
  char a[24], b[24], c[24], d[24];
  snprintf(a, sizeof a, "%lld", days);
  snprintf(b, sizeof b, "%lld", of);
  snprintf(c, sizeof c, "%.3f", share);
  snprintf(d, sizeof d, "%.2f", min_share);
  snprintf(buf, cap, PH_NA(MONITORED_DAYS), a, b, c, d);
}

/* Share of the year and the annual figure (inv. 6). */
static void annual(struct ph_inv_measured *m, double min_share, int64_t days_in_year) {
  m->monitored_share = m->year_hours > 0 ? m->monitored_hours / m->year_hours : 0;
  m->mostly_filled = m->filled_share > 0.5;
  if (!m->avail || !m->complete) {
    snprintf(m->annual_why, sizeof m->annual_why, "%s",
             m->nstacks == 0 ? PH_NA(NO_TEST_NO_FLOW)
                             : PH_NA(A_STACK_HAS_NO_FIGURE));
    return;
  }
  if (m->monitored_share >= 1.0 - 1e-9) {
    m->annual_avail = true;
    m->annual_g_teq = m->g_teq;
  } else if (m->monitored_share >= min_share && m->monitored_share > 0) {
    m->annual_avail = m->annualised = true;
    m->annual_g_teq = m->g_teq / m->monitored_share;
  } else {
    monitored_days_why((long long)(m->monitored_hours / (m->year_hours / (double)days_in_year)),
                       (long long)days_in_year, m->monitored_share, min_share, m->annual_why, sizeof m->annual_why);
  }
}

static int measured(struct q *q, const struct ph_tz *tz, const struct ph_hub_ent *e, const char *park, int64_t from,
                    int64_t to, double min_share, struct ph_inv_measured *m) {
  struct stack_ref refs[PH_INV_MAX_STACKS];
  int nrefs, rc;
  int64_t closed = 0, closed_to;
  m->concentration = e->pcdd_f_concentration;
  if ((rc = list_stacks(q, park, e->id, refs, &nrefs)) || (rc = ph_cems_closed_until(q->db, &closed, q->err)))
    return rc;
  closed_to = closed ? ph_tz_hour_start(tz, closed) : from;
  double year_hours = (double)ph_cems_count_hours(tz, from, to);
  for (int i = 0; i < nrefs; i++) {
    struct test_row *t = NULL;
    int nt;
    int64_t flow;
    struct ph_inv_stack *st = &m->stacks[m->nstacks];
    memset(st, 0, sizeof *st);
    struct stack_range rg;
    if ((rc = series_of(q, refs[i].point_id, "flow", &flow)) ||
        (rc = stack_range(q, tz, e, park, &refs[i], from, to, closed_to, st, &rg)) ||
        (rc = load_tests(q, refs[i].pcdd_series, from, to, &t, &nt)))
      return rc;
    snprintf(st->point, sizeof st->point, "%s", refs[i].point);
    st->ntests = nt;
    for (int k = 0; k < nt && k < PH_INV_MAX_TESTS; k++) {
      st->tests[k] = (struct ph_stack_test){.ts_ms = t[k].ts, .ng_teq_nm3 = t[k].v, .nvalues = t[k].n};
      local_date_str(tz, t[k].ts, st->tests[k].date);
      st->nlisted++;
    }
    rc = stack_release(q, tz, e->pcdd_f_concentration, flow, &rg, t, nt, st);
    ph_free(t);
    if (rc) return rc;
    if (nt == 0 && st->hours_measured == 0) continue; /* not operating this year: not counted */
    m->nstacks++;
  }
  m->complete = m->nstacks > 0;
  double filled = 0;
  for (int i = 0; i < m->nstacks; i++) {
    const struct ph_inv_stack *st = &m->stacks[i];
    m->year_hours += year_hours;
    m->monitored_hours += st->hours;
    if (!st->avail) {
      m->complete = false;
      continue;
    }
    m->avail = true;
    m->g_teq += st->g_teq;
    m->volume_nm3 += st->volume_nm3;
    m->volume_measured_nm3 += st->volume_measured_nm3;
    filled += st->volume_filled_nm3;
    if (st->hours_before_first_test > 0) m->first_test_extended = true;
  }
  m->measured_share = m->volume_nm3 > 0 ? m->volume_measured_nm3 / m->volume_nm3 : 0;
  m->filled_share = m->volume_nm3 > 0 ? filled / m->volume_nm3 : 0;
  annual(m, min_share, ph_cems_count_days(tz, from, to));
  return 0;
}

/* --------------------------------------------------------- estimated */

static int estimated(struct q *q, const struct ph_tz *tz, const struct ph_catalog *cat, const struct ph_factors *f,
                     const struct ph_hub_ent *e, const struct ph_hub_park *park, int year,
                     struct ph_inv_estimated *es) {
  int64_t d0 = ph_days_from_civil(year, 1, 1), d1 = ph_days_from_civil(year + 1, 1, 1);
  snprintf(es->table, sizeof es->table, "%s", ph_factors_table(f));
  /* parts: runs of days with one class (inv. 3) */
  for (int64_t d = d0; d < d1; d++) {
    int cls = ph_hub_ent_class_on(e, (long)d);
    if (es->nparts && es->parts[es->nparts - 1].toolkit_class == cls) continue;
    if (es->nparts == PH_INV_MAX_PARTS) return ph_fail(q->err, PH_EFULL, "inventory: too many class changes");
    struct ph_inv_part *p = &es->parts[es->nparts++];
    int y;
    unsigned m, dd;
    ph_civil_from_days(d, &y, &m, &dd);
    p->from_ms = ph_inventory_midnight(tz, y, m, dd);
    date_str(d, p->from);
    p->toolkit_class = cls;
    if (es->nparts > 1) {
      es->parts[es->nparts - 2].to_ms = p->from_ms;
      date_str(d, es->parts[es->nparts - 2].to);
    }
  }
  struct ph_inv_part *last = &es->parts[es->nparts - 1];
  last->to_ms = ph_inventory_midnight(tz, year + 1, 1, 1);
  date_str(d1, last->to);

  es->air_avail = es->residue_avail = true;
  int rows = 0;
  for (int i = 0; i < es->nparts; i++) {
    struct ph_inv_part *p = &es->parts[i];
    p->factor = p->toolkit_class ? ph_factors_class(f, p->toolkit_class) : NULL;
    enum ph_basis basis = p->factor ? p->factor->basis : PH_BASIS_PRODUCT;
    int rc = activity(q, cat, park, e->id, p->from_ms, p->to_ms, basis, &p->activity_t, &rows);
    if (rc) return rc;
    es->activity_t += p->activity_t;
    double ef;
    /* inv. 1: no activity releases nothing; activity with ND or no class is unknown */
    if (p->activity_t == 0) {
      p->air_avail = p->residue_avail = true;
    } else {
      if ((p->air_avail = ph_factor_get(p->factor, PH_VEC_AIR, &ef))) p->air_g_teq = ef * p->activity_t * 1e-6;
      if ((p->residue_avail = ph_factor_get(p->factor, PH_VEC_RESIDUE, &ef)))
        p->residue_g_teq = ef * p->activity_t * 1e-6;
    }
    es->air_avail = es->air_avail && p->air_avail;
    es->residue_avail = es->residue_avail && p->residue_avail;
    es->air_g_teq += p->air_g_teq;
    es->residue_g_teq += p->residue_g_teq;
  }
  /* A year without a single ledger record is missing data, not zero production. */
  if (rows == 0) es->air_avail = es->residue_avail = false, es->no_ledger = true;
  if (!es->air_avail) es->air_g_teq = 0;
  if (!es->residue_avail) es->residue_g_teq = 0;
  return 0;
}

/* ------------------------------------------------------------- a year */

/* The enterprise's monitored share of the year [from, to) (up to the
 * closed hours): what a ledger-based estimate rests on. */
static int ent_share(struct q *q, const struct ph_tz *tz, const struct ph_hub_ent *e, const char *park, int64_t from,
                     int64_t to, double *share) {
  struct ph_monitoring_window w;
  int64_t closed = 0, lo, hi;
  int rc = ph_monitoring_ent_window(q->db, e, tz, park, &w, q->err);
  if (!rc) rc = ph_cems_closed_until(q->db, &closed, q->err);
  if (rc) return rc;
  int64_t closed_to = closed ? ph_tz_hour_start(tz, closed) : from;
  ph_monitoring_clip(&w, from, to < closed_to ? to : closed_to, &lo, &hi);
  int64_t year = ph_cems_count_hours(tz, from, to);
  *share = year > 0 && hi > lo ? (double)ph_cems_count_hours(tz, lo, hi) / (double)year : 0;
  return 0;
}

/* Measured, estimated and the current figure; no baseline. */
static int year_core(struct q *q, const struct ph_tz *tz, const struct ph_catalog *cat, const struct ph_factors *f,
                     const struct ph_hub_park *p, const struct ph_hub_ent *e, int year, double min_share,
                     struct ph_inventory *out) {
  memset(out, 0, sizeof *out);
  snprintf(out->park, sizeof out->park, "%s", p->id);
  snprintf(out->ent, sizeof out->ent, "%s", e->id);
  out->year = year;
  out->from_ms = ph_inventory_midnight(tz, year, 1, 1);
  out->to_ms = ph_inventory_midnight(tz, year + 1, 1, 1);
  double share = 0;
  int rc = measured(q, tz, e, p->id, out->from_ms, out->to_ms, min_share, &out->measured);
  if (!rc) rc = estimated(q, tz, cat, f, e, p, year, &out->estimated);
  if (!rc) rc = ent_share(q, tz, e, p->id, out->from_ms, out->to_ms, &share);
  if (rc) return rc;
  out->current.year = year;
  const struct ph_inv_measured *m = &out->measured;
  if (m->annual_avail) {
    out->current.method = m->mostly_filled ? PH_INV_FILLED : PH_INV_MEASURED;
    out->current.g_teq = m->annual_g_teq;
    out->current.annualised = m->annualised;
    out->current.share = m->monitored_share;
  } else if (out->estimated.air_avail && share >= min_share && share > 0) { /* inv. 6 */
    out->current.method = PH_INV_ESTIMATED;
    out->current.annualised = share < 1.0 - 1e-9;
    out->current.share = share;
    out->current.g_teq = out->estimated.air_g_teq / (out->current.annualised ? share : 1.0);
  } else if (out->estimated.air_avail) {
    int64_t days = ph_cems_count_days(tz, out->from_ms, out->to_ms);
    char est[160];
    monitored_days_why((long long)(share * (double)days), (long long)days, share, min_share, est, sizeof est);
    snprintf(out->current_why, sizeof out->current_why, PH_NA(MEASURED_ESTIMATED), m->annual_why, est);
  } else {
    snprintf(out->current_why, sizeof out->current_why, PH_NA(MEASURED_ESTIMATED), m->annual_why,
             out->estimated.no_ledger ? PH_NA(NO_LEDGER_OF_BASIS) : PH_NA(NO_FACTOR_PART_OF_YEAR));
  }
  return 0;
}

static int with_baseline(struct q *q, const struct ph_tz *tz, const struct ph_catalog *cat,
                         const struct ph_factors *f, const struct ph_hub_park *p, const struct ph_hub_ent *e,
                         double min_share, struct ph_inventory *out) {
  if (!e->baseline_year) return 0;
  out->baseline.year = (int)e->baseline_year;
  if (e->baseline_pcdd_f_g_teq >= 0) {
    out->baseline.method = PH_INV_CONFIGURED;
    out->baseline.g_teq = e->baseline_pcdd_f_g_teq;
  } else {
    struct ph_inventory *b = out;
    if (e->baseline_year != out->year) {
      int rc = check_year((int)e->baseline_year, q->err);
      if (rc) return rc;
      if (!(b = ph_malloc(sizeof *b))) return ph_fail(q->err, PH_ENOMEM, "inventory: out of memory");
      if ((rc = year_core(q, tz, cat, f, p, e, (int)e->baseline_year, min_share, b))) {
        ph_free(b);
        return rc;
      }
    }
    out->baseline = b->current;
    if (b->measured.annual_avail && out->measured.annual_avail) {
      out->reduction_measured_avail = true;
      out->reduction_measured_g_teq = b->measured.annual_g_teq - out->measured.annual_g_teq;
    }
    if (b->estimated.air_avail && out->estimated.air_avail) {
      out->reduction_estimated_avail = true;
      out->reduction_estimated_g_teq = b->estimated.air_g_teq - out->estimated.air_g_teq;
    }
    if (b != out) ph_free(b);
  }
  if (out->baseline.method != PH_INV_NONE && out->current.method != PH_INV_NONE) {
    out->reduction_avail = true;
    out->reduction_g_teq = out->baseline.g_teq - out->current.g_teq;
  }
  return 0;
}

static int inventory_ent(struct q *q, const struct ph_tz *tz, const struct ph_catalog *cat,
                         const struct ph_factors *f, const struct ph_hub_park *p, const struct ph_hub_ent *e,
                         int year, double min_share, struct ph_inventory *out) {
  int rc = year_core(q, tz, cat, f, p, e, year, min_share, out);
  return rc ? rc : with_baseline(q, tz, cat, f, p, e, min_share, out);
}

static double min_share_of(const struct ph_hub_config *cfg) {
  return cfg->inventory_min_share > 0 ? cfg->inventory_min_share : 0.75;
}

int ph_inventory_year(sqlite3 *db, const struct ph_hub_config *cfg, const struct ph_tz *tz,
                      const struct ph_catalog *cat, const struct ph_factors *f, const char *park, const char *ent,
                      int year, struct ph_inventory *out, struct ph_err *err) {
  const struct ph_hub_park *p;
  const struct ph_hub_ent *e;
  struct q q;
  int rc;
  if (!ent) return ph_fail(err, PH_EINVAL, "inventory: no enterprise");
  if ((rc = find_ent(cfg, park, ent, &p, &e, err)) || (rc = check_year(year, err)) || (rc = q_open(&q, db, err)))
    return rc;
  rc = inventory_ent(&q, tz, cat, f, p, e, year, min_share_of(cfg), out);
  q_close(&q);
  return rc;
}

static void total_add(struct ph_inv_total *t, bool avail, double g) {
  if (avail) {
    t->g_teq += g;
    t->counted++;
  } else {
    t->missing++;
  }
}

int ph_inventory_park(sqlite3 *db, const struct ph_hub_config *cfg, const struct ph_tz *tz,
                      const struct ph_catalog *cat, const struct ph_factors *f, const char *park, int year,
                      struct ph_inventory_park *out, struct ph_err *err) {
  const struct ph_hub_park *p;
  struct q q;
  int rc;
  memset(out, 0, sizeof *out);
  if ((rc = find_ent(cfg, park, NULL, &p, NULL, err)) || (rc = check_year(year, err))) return rc;
  snprintf(out->park, sizeof out->park, "%s", p->id);
  out->year = year;
  if (p->nents == 0) return 0;
  struct ph_inventory *inv = ph_malloc(sizeof *inv);
  out->ents = ph_calloc((size_t)p->nents, sizeof *out->ents);
  if (!inv || !out->ents) {
    ph_free(inv);
    return ph_fail(err, PH_ENOMEM, "inventory: out of memory");
  }
  if ((rc = q_open(&q, db, err))) {
    ph_free(inv);
    return rc;
  }
  for (int i = 0; i < p->nents && !rc; i++) {
    if ((rc = inventory_ent(&q, tz, cat, f, p, &p->ents[i], year, min_share_of(cfg), inv))) break;
    struct ph_inv_ent_row *r = &out->ents[out->nents++];
    snprintf(r->ent, sizeof r->ent, "%s", inv->ent);
    r->measured_complete = inv->measured.annual_avail;
    r->measured_g_teq = inv->measured.annual_g_teq;
    r->measured_share = inv->measured.measured_share;
    r->measured_annualised = inv->measured.annualised;
    r->monitored_share = inv->measured.monitored_share;
    r->filled_share = inv->measured.filled_share;
    snprintf(r->measured_why, sizeof r->measured_why, "%s", inv->measured.annual_why);
    snprintf(r->current_why, sizeof r->current_why, "%s", inv->current_why);
    r->estimated_air_avail = inv->estimated.air_avail;
    r->estimated_no_ledger = inv->estimated.no_ledger;
    r->estimated_air_g_teq = inv->estimated.air_g_teq;
    r->estimated_residue_avail = inv->estimated.residue_avail;
    r->estimated_residue_g_teq = inv->estimated.residue_g_teq;
    r->current = inv->current;
    r->baseline = inv->baseline;
    r->reduction_avail = inv->reduction_avail;
    r->reduction_g_teq = inv->reduction_g_teq;
    total_add(&out->measured, r->measured_complete, r->measured_g_teq);
    total_add(&out->estimated_air, r->estimated_air_avail, r->estimated_air_g_teq);
    total_add(&out->estimated_residue, r->estimated_residue_avail, r->estimated_residue_g_teq);
    total_add(&out->current, r->current.method != PH_INV_NONE, r->current.g_teq);
    total_add(&out->baseline, r->baseline.method != PH_INV_NONE, r->baseline.g_teq);
    total_add(&out->reduction, r->reduction_avail, r->reduction_g_teq);
  }
  q_close(&q);
  ph_free(inv);
  return rc;
}

void ph_inventory_park_fini(struct ph_inventory_park *p) {
  if (!p) return;
  ph_free(p->ents);
  p->ents = NULL;
  p->nents = 0;
}

/* --------------------------------------------------- monitoring plan */

/* The last test known besides the data: the later of the config's
 * last_stack_test and one entered over the API (0: none). A database
 * without the table (made before it, or the report on a copy) has none. */
static long known_test_day(sqlite3 *db, const struct ph_hub_park *p, const struct ph_hub_ent *e) {
  long day = e->last_stack_test_day;
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(db, INV_SQL_ENTERED_TEST, -1, &s, NULL) != SQLITE_OK) return day;
  sqlite3_bind_text(s, 1, p->id, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, e->id, -1, SQLITE_STATIC);
  if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL && sqlite3_column_int64(s, 0) > day)
    day = (long)sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return day;
}

int ph_monitoring_plan(sqlite3 *db, const struct ph_hub_config *cfg, const struct ph_tz *tz, const char *park,
                       const char *ent, int64_t now_ms, struct ph_monitoring_plan *out, struct ph_err *err) {
  const struct ph_hub_park *p;
  const struct ph_hub_ent *e;
  struct q q;
  int rc;
  memset(out, 0, sizeof *out);
  if (!ent) return ph_fail(err, PH_EINVAL, "monitoring plan: no enterprise");
  if ((rc = find_ent(cfg, park, ent, &p, &e, err)) || (rc = q_open(&q, db, err))) return rc;
  snprintf(out->park, sizeof out->park, "%s", p->id);
  snprintf(out->ent, sizeof out->ent, "%s", e->id);
  out->interval_days = e->stack_test_interval_days > 0 ? e->stack_test_interval_days : DEFAULT_INTERVAL_DAYS;
  out->now_ms = now_ms;
  int64_t today = local_day(tz, now_ms);
  date_str(today, out->today);
  long known = known_test_day(db, p, e);

  struct stack_ref refs[PH_INV_MAX_STACKS];
  int nrefs;
  if ((rc = list_stacks(&q, p->id, e->id, refs, &nrefs))) goto done;
  for (int i = 0; i < nrefs; i++) {
    sqlite3_bind_int64(q.last, 1, refs[i].pcdd_series);
    sqlite3_bind_int64(q.last, 2, now_ms);
    rc = sqlite3_step(q.last);
    int64_t last = rc == SQLITE_ROW ? sqlite3_column_int64(q.last, 0) : 0;
    q_reset(q.last);
    if (rc == SQLITE_DONE) continue; /* only tests after now */
    if (rc != SQLITE_ROW) {
      rc = db_fail(&q, "last stack test");
      goto done;
    }
    struct ph_plan_stack *s = &out->stacks[out->nstacks++];
    snprintf(s->point, sizeof s->point, "%s", refs[i].point);
    s->last_test_ms = last;
    int64_t last_day = local_day(tz, last);
    if (known > last_day) { /* a later test entered than the data holds */
      last_day = known;
      s->last_test_ms = ph_tz_date_start(tz, last_day);
    }
    date_str(last_day, s->last_test);
    s->due_day = last_day + out->interval_days;
    date_str(s->due_day, s->due);
    s->days_left = s->due_day - today;
    s->overdue = s->days_left < 0;
  }
  rc = 0;
  if (out->nstacks == 0 && known) { /* no PCDD/F data yet, a test date entered */
    out->due_day = known + out->interval_days;
    date_str(out->due_day, out->due);
    out->days_left = out->due_day - today;
    out->overdue = out->days_left < 0;
    goto done;
  }
  if (out->nstacks == 0) {
    out->never_tested = out->overdue = true;
    goto done;
  }
  const struct ph_plan_stack *first = &out->stacks[0];
  for (int i = 1; i < out->nstacks; i++)
    if (out->stacks[i].due_day < first->due_day) first = &out->stacks[i];
  out->due_day = first->due_day;
  out->days_left = first->days_left;
  out->overdue = first->overdue;
  snprintf(out->due, sizeof out->due, "%s", first->due);
done:
  q_close(&q);
  return rc;
}
