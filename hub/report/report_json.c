/* report_json.c — the annual report as a cJSON tree (report.h): the one
 * source of truth that report_csv.c and report_html.c render.
 *
 * Callers: ph_report_run (report.c), tests. Threads: the caller's; every
 * statement is prepared on the caller's connection and finalized before
 * returning. Owns nothing between calls.
 *
 * Tree (docs/report.md has every key and its unit):
 *
 *   { meta scalars (park, year, period, standards, generated_at,
 *     cems_closed_until, factor table, notes),
 *     "park_summary": scope,
 *     "enterprises": [scope, …] }
 *   scope = { id, name, … scalars,
 *             "emissions":  [row per pollutant],
 *             "compliance": [row per pollutant with a limit],
 *             "pcdd_f":     { scalars, "stacks": […], "stack_tests": […], "factors": […] }   (park: "enterprises")
 *             "monitoring": { scalars, "stacks": […] }                                        (park: "enterprises")
 *             "indicators": { scalars, "per_t": […], "materials": […] },
 *             "water":      { scalars, "outlets_list": […], "pollutants": […] } }           (report_water.c)
 *
 * Invariants (tests cite them):
 *  1. A figure that cannot be given is null with "<key>_na" = the reason;
 *     no figure is ever written as 0 in its place (inv. 1 of inventory.c,
 *     emission_mass.c and indicators.c carried through).
 *  2. Park rows of emissions and compliance are sums over the configured
 *     enterprises' rows (masses, hours, days), and their rates are
 *     recomputed from those sums, never averaged.
 *  3. The report only reads: CEMS figures are those up to
 *     ph_cems_closed_until, which the tree states.
 *  4. Only prepared statements with bound parameters touch the database.
 */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "domain/cems.h"
#include "domain/compliance.h"
#include "domain/emission_mass.h"
#include "domain/ent_limits.h"
#include "domain/indicators.h"
#include "domain/inventory.h"
#include "domain/monitoring.h"
#include "report/report.h"
#include "parkhub/timefmt.h"
#include "report_water.h"

/* ---------------------------------------------------------------- SQL */

/* Metric codes with a series at some point of the enterprise. */
#define REP_SQL_ENT_METRICS                                                                               \
  "SELECT DISTINCT m.code FROM points p JOIN series s ON s.point_id = p.id"                              \
  " JOIN metrics m ON m.id = s.metric_id WHERE p.park = ?1 AND p.ent = ?2"
/* The limits recorded with the enterprise's hourly means of a pollutant in [?4, ?5). */
#define REP_SQL_LIMIT_RANGE                                                                               \
  "SELECT min(h.limit_value), max(h.limit_value) FROM points p JOIN series s ON s.point_id = p.id"       \
  " JOIN metrics m ON m.id = s.metric_id AND m.code = ?3"                                                 \
  " JOIN cems_hours h ON h.series_id = s.id AND h.hour_ms >= ?4 AND h.hour_ms < ?5"                       \
  " WHERE p.park = ?1 AND p.ent = ?2 AND h.limit_value IS NOT NULL"
/* Whether the enterprise has material ledger rows in [?3, ?4). */
#define REP_SQL_LEDGER                                                                                    \
  "SELECT EXISTS(SELECT 1 FROM materials m JOIN points p ON p.id = m.point_id"                           \
  " WHERE p.park = ?1 AND p.ent = ?2 AND m.ts_ms >= ?3 AND m.ts_ms < ?4)"
/* Whether the enterprise has day rollups of a metric in [?4, ?5). */
#define REP_SQL_SUM_DATA                                                                                  \
  "SELECT EXISTS(SELECT 1 FROM points p JOIN series s ON s.point_id = p.id"                              \
  " JOIN metrics m ON m.id = s.metric_id AND m.code = ?3 JOIN rollups r ON r.series_id = s.id"           \
  " AND r.period = 2 AND r.bucket_ms >= ?4 AND r.bucket_ms < ?5 WHERE p.park = ?1 AND p.ent = ?2)"

#define DAY_MS 86400000LL
#define FAR_DAY 1000000L /* a local date long after any standard's start: "does it set a limit at all" */

/* ------------------------------------------------------------ state */

/* Park sums of one pollutant (inv. 2). */
struct mass_sum {
  int ents, npoints, nmonitored;
  double kg;
  int64_t expected, used, stopped;
};
struct comp_sum {
  int ents, npoints, nmonitored;
  bool any_limit;
  double lim_min, lim_max;
  struct ph_compliance_periods h, d;
  char worst_h_ent[PH_ID_MAX + 1], worst_d_ent[PH_ID_MAX + 1];
  bool has_wh, has_wd;
};

struct rb {
  sqlite3 *db;
  const struct ph_report_env *env;
  const struct ph_catalog *cat;
  const struct ph_tz *tz;
  const struct ph_hub_park *park;
  int year;
  int64_t from, to, now, closed;
  struct ph_err *err;
  bool oom;
  sqlite3_stmt *ent_metrics, *limit_range, *ledger, *sum_data;
  /* pollutants of the park in report order: catalogue indices */
  int *mass_codes, nmass;
  int *comp_codes, ncomp;
  struct mass_sum *mass;
  struct comp_sum *comp;
  struct ph_inventory *inv; /* scratch, large */
  struct ph_report_water_park water; /* park sums of the water section */
};

static int db_fail(struct rb *r, const char *what) {
  return ph_fail(r->err, PH_EDB, "report: %s: %s", what, sqlite3_errmsg(r->db));
}

/* ------------------------------------------------- tree helpers (inv. 1) */

static cJSON *chk(struct rb *r, cJSON *item) {
  if (!item) r->oom = true;
  return item;
}
static void num(struct rb *r, cJSON *o, const char *k, double v) {
  if (!isfinite(v))
    chk(r, cJSON_AddNullToObject(o, k));
  else
    chk(r, cJSON_AddNumberToObject(o, k, v));
}
static void integer(struct rb *r, cJSON *o, const char *k, int64_t v) { chk(r, cJSON_AddNumberToObject(o, k, (double)v)); }
static void str(struct rb *r, cJSON *o, const char *k, const char *v) { chk(r, cJSON_AddStringToObject(o, k, v ? v : "")); }
static void boolean(struct rb *r, cJSON *o, const char *k, bool v) { chk(r, cJSON_AddBoolToObject(o, k, v)); }

/* null at k and the reason at k_na */
__attribute__((format(printf, 4, 5))) static void na(struct rb *r, cJSON *o, const char *k, const char *fmt, ...) {
  char key[96], why[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  snprintf(key, sizeof key, "%s_na", k);
  chk(r, cJSON_AddNullToObject(o, k));
  chk(r, cJSON_AddStringToObject(o, key, why));
}

/* v when avail (and finite), else null with the reason */
__attribute__((format(printf, 6, 7))) static void num_or(struct rb *r, cJSON *o, const char *k, bool avail, double v,
                                                         const char *fmt, ...) {
  if (avail && isfinite(v)) {
    num(r, o, k, v);
    return;
  }
  char why[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  na(r, o, k, "%s", why);
}

static cJSON *obj(struct rb *r, cJSON *parent, const char *k) { return chk(r, cJSON_AddObjectToObject(parent, k)); }
static cJSON *arr(struct rb *r, cJSON *parent, const char *k) { return chk(r, cJSON_AddArrayToObject(parent, k)); }
static cJSON *row(struct rb *r, cJSON *array) {
  cJSON *o = chk(r, cJSON_CreateObject());
  if (o && !cJSON_AddItemToArray(array, o)) {
    cJSON_Delete(o);
    r->oom = true;
    return NULL;
  }
  return o;
}

/* ------------------------------------------------------------ times */

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

/* "YYYY-MM-DDTHH:MM:SS+HH:MM", local to the park */
static void iso_local(const struct ph_tz *tz, int64_t ms, char *buf, size_t cap) { ph_tz_format_local(tz, ms, buf, cap); }
static void date_local(const struct ph_tz *tz, int64_t ms, char *buf, size_t cap) {
  char t[40];
  iso_local(tz, ms, t, sizeof t);
  snprintf(buf, cap, "%.10s", t);
}
static void time_at(struct rb *r, cJSON *o, const char *k, int64_t ms) {
  char t[40];
  iso_local(r->tz, ms, t, sizeof t);
  str(r, o, k, t);
}
static long local_day(const struct ph_tz *tz, int64_t ms) {
  return (long)floor_div(ms + (int64_t)ph_tz_offset_s(tz, ms) * 1000, DAY_MS);
}
/* "YYYY-MM-DD" of the day before an exclusive end date "YYYY-MM-DD" */
static void day_before(const char *date, char *buf, size_t cap) {
  int y;
  unsigned m, d;
  if (sscanf(date, "%d-%u-%u", &y, &m, &d) != 3) {
    snprintf(buf, cap, "%s", date);
    return;
  }
  ph_civil_from_days(ph_days_from_civil(y, m, d) - 1, &y, &m, &d);
  snprintf(buf, cap, "%04d-%02u-%02u", y, m % 100u, d % 100u);
}

/* ------------------------------------------------------------ lookups */

static const struct ph_limits *limits_for(const struct ph_report_env *env, const char *standard) {
  return ph_limits_pick(env->refs->limits, env->refs->nlimits, standard);
}

static const struct ph_metric *metric(const struct rb *r, int idx) { return ph_catalog_at(r->cat, (size_t)idx); }

/* A concentration whose mass is in kg (emission_mass.h); PCDD/F (g TEQ) is the inventory's. */
static bool mass_metric(const struct ph_metric *m) {
  size_t n = strlen(m->unit);
  return m->kind == PH_KIND_EMISSION && n > 4 && strcmp(m->unit + n - 4, "/Nm3") == 0 && !strstr(m->unit, "TEQ");
}

/* Whether the standard sets a stack limit for the pollutant and sector at all. */
static bool standard_limits(const struct ph_limits *l, const char *code, const struct ph_hub_ent *e) {
  double v;
  return ph_limits_stack(l, code, (enum ph_sector)e->sector, PH_CLASS_EXISTING, e->special_limits, FAR_DAY, &v) == 0 ||
         ph_limits_stack(l, code, (enum ph_sector)e->sector, PH_CLASS_NEW, e->special_limits, FAR_DAY, &v) == 0;
}

static void bind_ent(sqlite3_stmt *s, const char *park, const char *ent) {
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  sqlite3_bind_text(s, 1, park, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, ent, -1, SQLITE_STATIC);
}

/* measured[i]: the enterprise has a series of catalogue metric i. */
static int ent_metrics(struct rb *r, const char *ent, bool *measured) {
  memset(measured, 0, ph_catalog_count(r->cat) * sizeof *measured);
  bind_ent(r->ent_metrics, r->park->id, ent);
  int rc;
  while ((rc = sqlite3_step(r->ent_metrics)) == SQLITE_ROW) {
    const char *code = (const char *)sqlite3_column_text(r->ent_metrics, 0);
    int idx = code ? ph_catalog_find(r->cat, code, strlen(code)) : -1;
    if (idx >= 0) measured[idx] = true;
  }
  sqlite3_reset(r->ent_metrics);
  return rc == SQLITE_DONE ? 0 : db_fail(r, "listing metrics");
}

static int exists(struct rb *r, sqlite3_stmt *s, const char *ent, const char *code, int64_t from, int64_t to,
                  bool *out) {
  bind_ent(s, r->park->id, ent);
  int i = 3;
  if (code) sqlite3_bind_text(s, i++, code, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, i++, from);
  sqlite3_bind_int64(s, i, to);
  int rc = sqlite3_step(s);
  *out = rc == SQLITE_ROW && sqlite3_column_int(s, 0) != 0;
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? 0 : db_fail(r, "checking data");
}

/* Whether any configured enterprise (ent NULL) or this one has ledger rows /
 * day sums of code in [from, to). */
static int any_data(struct rb *r, const char *ent, const char *code, int64_t from, int64_t to, bool *out) {
  *out = false;
  for (int i = 0; i < r->park->nents && !*out; i++) {
    const char *id = r->park->ents[i].id;
    if (ent && strcmp(ent, id) != 0) continue;
    int rc = exists(r, code ? r->sum_data : r->ledger, id, code, from, to, out);
    if (rc) return rc;
  }
  return 0;
}

/* ---------------------------------------------------------- pollutants */

/* Report order: the pollutants of the first enterprise's standard in its
 * order, then the others in catalogue order. */
static int rank(const struct rb *r, int idx) {
  const struct ph_limits *l = r->park->nents ? limits_for(r->env, r->park->ents[0].standard) : NULL;
  if (!l && r->env->refs->nlimits) l = r->env->refs->limits[0];
  for (size_t i = 0; l && i < ph_limits_count(l); i++)
    if (strcmp(ph_limits_metric(l, i), metric(r, idx)->code) == 0) return (int)i;
  return 1000 + idx;
}

static void sort_codes(const struct rb *r, int *codes, int n) {
  for (int i = 1; i < n; i++) /* insertion sort: a few dozen at most */
    for (int j = i; j > 0 && rank(r, codes[j]) < rank(r, codes[j - 1]); j--) {
      int t = codes[j];
      codes[j] = codes[j - 1];
      codes[j - 1] = t;
    }
}

/* The park's pollutants: with mass (kg) and with a limit in some enterprise's standard. */
static int park_codes(struct rb *r) {
  size_t n = ph_catalog_count(r->cat);
  bool *m = ph_calloc(n, sizeof *m), *any = ph_calloc(n, sizeof *any), *lim = ph_calloc(n, sizeof *lim);
  r->mass_codes = ph_calloc(n, sizeof *r->mass_codes);
  r->comp_codes = ph_calloc(n, sizeof *r->comp_codes);
  r->mass = ph_calloc(n, sizeof *r->mass);
  r->comp = ph_calloc(n, sizeof *r->comp);
  int rc = 0;
  if (!m || !any || !lim || !r->mass_codes || !r->comp_codes || !r->mass || !r->comp) {
    rc = ph_fail(r->err, PH_ENOMEM, "report: out of memory");
    goto out;
  }
  for (int e = 0; e < r->park->nents; e++) {
    const struct ph_hub_ent *ent = &r->park->ents[e];
    if ((rc = ent_metrics(r, ent->id, m))) goto out;
    const struct ph_limits *l = limits_for(r->env, ent->standard);
    for (size_t i = 0; i < n; i++) {
      if (!m[i]) continue;
      any[i] = true;
      if (l && standard_limits(l, ph_catalog_at(r->cat, i)->code, ent)) lim[i] = true;
    }
  }
  for (size_t i = 0; i < n; i++) {
    if (any[i] && mass_metric(ph_catalog_at(r->cat, i))) r->mass_codes[r->nmass++] = (int)i;
    if (any[i] && lim[i]) r->comp_codes[r->ncomp++] = (int)i;
  }
  sort_codes(r, r->mass_codes, r->nmass);
  sort_codes(r, r->comp_codes, r->ncomp);
out:
  ph_free(m);
  ph_free(any);
  ph_free(lim);
  return rc;
}

/* ----------------------------------------------------------- emissions */

static const char *period_why(int nmonitored, int64_t expected, int64_t stopped, char *buf, size_t cap) {
  return ph_compliance_period_why(nmonitored, expected, stopped, buf, cap);
}

static void mass_row(struct rb *r, cJSON *rows, const struct ph_metric *mt, int ents, const struct mass_sum *m) {
  cJSON *o = row(r, rows);
  char why[128];
  const char *pw = period_why(m->nmonitored, m->expected, m->stopped, why, sizeof why);
  str(r, o, "pollutant", mt->code);
  str(r, o, "name", mt->name);
  if (ents >= 0) integer(r, o, "enterprises", ents);
  integer(r, o, "points", m->npoints);
  if (m->used > 0)
    num(r, o, "mass_t", m->kg / 1000.0);
  else if (m->nmonitored > 0 && m->expected == 0 && m->stopped > 0)
    num(r, o, "mass_t", 0.0); /* stopped throughout: released nothing (monitoring.h) */
  else
    na(r, o, "mass_t", "%s", pw ? pw : "no hour with both a valid concentration and a valid flow");
  integer(r, o, "hours_expected", m->expected);
  integer(r, o, "hours_used", m->used);
  integer(r, o, "hours_stopped", m->stopped);
  integer(r, o, "gap_hours", m->expected - m->used);
  num_or(r, o, "gap_share", m->expected > 0, (double)(m->expected - m->used) / (double)(m->expected ? m->expected : 1),
         "%s", pw ? pw : "");
}

static int ent_emissions(struct rb *r, const struct ph_hub_ent *e, const bool *measured, cJSON *scope) {
  cJSON *rows = arr(r, scope, "emissions");
  for (int k = 0; k < r->nmass; k++) {
    int idx = r->mass_codes[k];
    if (!measured[idx]) continue;
    struct ph_emission_mass m;
    int rc = ph_emission_mass_compute(r->db, r->park, r->tz, r->cat, r->park->id, e->id, metric(r, idx)->code, r->from,
                                      r->to, PH_MASS_BY_YEAR, &m, r->err);
    if (rc) {
      ph_emission_mass_fini(&m);
      return rc;
    }
    struct mass_sum one = {.npoints = m.npoints, .nmonitored = m.nmonitored, .kg = m.total.mass,
                           .expected = m.total.hours_expected, .used = m.total.hours_used,
                           .stopped = m.total.hours_stopped};
    mass_row(r, rows, metric(r, idx), -1, &one);
    struct mass_sum *s = &r->mass[k];
    s->ents++;
    s->npoints += m.npoints;
    s->nmonitored += m.nmonitored;
    s->kg += m.total.mass;
    s->expected += m.total.hours_expected;
    s->used += m.total.hours_used;
    s->stopped += m.total.hours_stopped;
    ph_emission_mass_fini(&m);
  }
  if (cJSON_GetArraySize(rows) == 0)
    str(r, scope, "emissions_na", "no continuously measured pollutant concentration on record");
  return 0;
}

static void park_emissions(struct rb *r, cJSON *scope) {
  cJSON *rows = arr(r, scope, "emissions");
  for (int k = 0; k < r->nmass; k++) {
    const struct mass_sum *s = &r->mass[k];
    mass_row(r, rows, metric(r, r->mass_codes[k]), s->ents, s);
  }
  if (r->nmass == 0) str(r, scope, "emissions_na", "no continuously measured pollutant concentration on record");
}

/* ---------------------------------------------------------- compliance */

static const char *no_rate_why(const struct ph_compliance_periods *p, int nmonitored, bool hours, char *buf,
                               size_t cap) {
  return ph_compliance_rate_why(p, nmonitored, hours, buf, cap);
}

static void periods(struct rb *r, cJSON *o, const struct ph_compliance_periods *p, bool hours, const char *went,
                    int nmonitored) {
  const char *w = hours ? "hour" : "day";
  char k[64], why_rate[128], why_avail[128];
#define K(fmt) (snprintf(k, sizeof k, fmt, w), k)
  integer(r, o, K("%ss_expected"), p->expected);
  integer(r, o, K("%ss_valid"), p->valid);
  integer(r, o, K("%ss_with_limit"), p->with_limit);
  integer(r, o, K("%ss_within"), p->within);
  integer(r, o, K("exceedance_%ss"), p->exceeded);
  integer(r, o, K("%ss_stopped"), p->stopped);
  if (hours) integer(r, o, "hours_startup_shutdown", p->transition);
  double rate = p->with_limit ? (double)p->within / (double)p->with_limit : NAN;
  double avail = p->expected ? (double)p->valid / (double)p->expected : NAN;
  num_or(r, o, K("%s_compliance"), p->with_limit > 0, rate, "%s",
         no_rate_why(p, nmonitored, hours, why_rate, sizeof why_rate));
  const char *aw = period_why(nmonitored, p->expected, p->stopped, why_avail, sizeof why_avail);
  num_or(r, o, K("%s_availability"), p->expected > 0, avail, "%s", aw ? aw : "");
  bool has = p->with_limit > 0 && p->worst.point[0] != '\0';
  const char *why = "no valid mean with a limit";
  if (hours) {
    num_or(r, o, "worst_hour_mean", has, p->worst.mean, "%s", why);
    num_or(r, o, "worst_hour_limit", has, p->worst.limit, "%s", why);
    num_or(r, o, "worst_hour_ratio", has, p->worst.ratio, "%s", why);
    if (has) time_at(r, o, "worst_hour_time", p->worst.bucket_ms);
    else na(r, o, "worst_hour_time", "%s", why);
  } else {
    num_or(r, o, "worst_day_converted", has, p->worst.converted, "%s", why);
    num_or(r, o, "worst_day_mean", has, p->worst.mean, "%s", why);
    num_or(r, o, "worst_day_limit", has, p->worst.limit, "%s", why);
    num_or(r, o, "worst_day_ratio", has, p->worst.ratio, "%s", why);
    if (has) {
      char d[16];
      date_local(r->tz, p->worst.bucket_ms, d, sizeof d);
      str(r, o, "worst_day_date", d);
    } else {
      na(r, o, "worst_day_date", "%s", why);
    }
  }
  if (has) str(r, o, K("worst_%s_point"), p->worst.point);
  else na(r, o, K("worst_%s_point"), "%s", why);
  if (went) {
    if (has) str(r, o, K("worst_%s_enterprise"), went);
    else na(r, o, K("worst_%s_enterprise"), "%s", why);
  }
#undef K
}

/* limit: the one limit of the year (or of the park's enterprises); limit_min/max: its range */
static void limit_cell(struct rb *r, cJSON *o, bool any, double lo, double hi, const char *unit, bool park) {
  const char *none = park ? "no enterprise's standard sets a limit for it in the year"
                          : "the enterprise's standard sets no limit for it in the year";
  if (!any)
    na(r, o, "limit", "%s", none);
  else if (lo != hi)
    na(r, o, "limit", "%s %g to %g %s", park ? "differs between enterprises:" : "changed during the year:", lo, hi,
       unit);
  else
    num(r, o, "limit", lo);
  num_or(r, o, "limit_min", any, lo, "%s", none);
  num_or(r, o, "limit_max", any, hi, "%s", none);
}

/* The limits the enterprise's standard sets for code on the local days of
 * the year (from the configuration, not from data: a limit is in force
 * whether or not a valid hour exists yet). */
static void limit_range(struct rb *r, const struct ph_hub_ent *e, const char *code, bool *any, double *lo,
                        double *hi) {
  const struct ph_limits *l = limits_for(r->env, e->standard);
  *any = false;
  for (int64_t d = r->from; l && d < r->to; d = ph_tz_next_day(r->tz, d)) {
    long day = local_day(r->tz, d);
    double v;
    if (ph_limits_stack(l, code, (enum ph_sector)e->sector, ph_ent_class_on(e, day), e->special_limits, day, &v))
      continue;
    if (!*any || v < *lo) *lo = v;
    if (!*any || v > *hi) *hi = v;
    *any = true;
  }
}

static void add_periods(struct ph_compliance_periods *t, const struct ph_compliance_periods *p, const char *ent,
                        char *worst_ent, bool *has) {
  t->expected += p->expected;
  t->valid += p->valid;
  t->with_limit += p->with_limit;
  t->within += p->within;
  t->exceeded += p->exceeded;
  t->stopped += p->stopped;
  t->transition += p->transition;
  if (p->with_limit > 0 && p->worst.point[0] &&
      (!*has || p->worst.ratio > t->worst.ratio ||
       (p->worst.ratio == t->worst.ratio && p->worst.bucket_ms < t->worst.bucket_ms))) {
    t->worst = p->worst;
    snprintf(worst_ent, PH_ID_MAX + 1, "%s", ent);
    *has = true;
  }
}

static int ent_compliance(struct rb *r, const struct ph_hub_ent *e, const bool *measured, cJSON *scope) {
  cJSON *rows = arr(r, scope, "compliance");
  const struct ph_limits *l = limits_for(r->env, e->standard);
  if (!l) {
    char why[160];
    snprintf(why, sizeof why, "standard %s is not loaded (hub config: limit_files)", e->standard);
    str(r, scope, "compliance_na", why);
    return 0;
  }
  for (int k = 0; k < r->ncomp; k++) {
    int idx = r->comp_codes[k];
    const struct ph_metric *mt = metric(r, idx);
    if (!measured[idx] || !standard_limits(l, mt->code, e)) continue;
    struct ph_compliance c;
    int rc = ph_compliance_summary(r->db, r->park, r->tz, r->park->id, e->id, NULL, mt->code, r->from, r->to, &c, r->err);
    if (rc) return rc;
    if (c.hours.valid == 0 && strcmp(mt->code, "pcdd_f") == 0) continue; /* stack tests: in the inventory */
    bool any = false;
    double lo = 0, hi = 0;
    limit_range(r, e, mt->code, &any, &lo, &hi);
    cJSON *o = row(r, rows);
    str(r, o, "pollutant", mt->code);
    str(r, o, "unit", mt->unit);
    limit_cell(r, o, any, lo, hi, mt->unit, false);
    integer(r, o, "points", c.npoints);
    periods(r, o, &c.hours, true, NULL, c.nmonitored);
    periods(r, o, &c.days, false, NULL, c.nmonitored);
    struct comp_sum *s = &r->comp[k];
    s->ents++;
    s->npoints += c.npoints;
    s->nmonitored += c.nmonitored;
    if (any) {
      if (!s->any_limit || lo < s->lim_min) s->lim_min = lo;
      if (!s->any_limit || hi > s->lim_max) s->lim_max = hi;
      s->any_limit = true;
    }
    add_periods(&s->h, &c.hours, e->id, s->worst_h_ent, &s->has_wh);
    add_periods(&s->d, &c.days, e->id, s->worst_d_ent, &s->has_wd);
  }
  if (cJSON_GetArraySize(rows) == 0) {
    char why[256];
    snprintf(why, sizeof why, "no pollutant with a limit in %s is measured continuously", e->standard);
    str(r, scope, "compliance_na", why);
  }
  return 0;
}

static void park_compliance(struct rb *r, cJSON *scope) {
  cJSON *rows = arr(r, scope, "compliance");
  int n = 0;
  for (int k = 0; k < r->ncomp; k++) {
    const struct comp_sum *s = &r->comp[k];
    if (s->ents == 0) continue;
    const struct ph_metric *mt = metric(r, r->comp_codes[k]);
    cJSON *o = row(r, rows);
    n++;
    str(r, o, "pollutant", mt->code);
    str(r, o, "unit", mt->unit);
    limit_cell(r, o, s->any_limit, s->lim_min, s->lim_max, mt->unit, true);
    integer(r, o, "enterprises", s->ents);
    integer(r, o, "points", s->npoints);
    periods(r, o, &s->h, true, s->worst_h_ent, s->nmonitored);
    periods(r, o, &s->d, false, s->worst_d_ent, s->nmonitored);
  }
  if (n == 0) str(r, scope, "compliance_na", "no pollutant with a limit is measured continuously in the park");
}

/* -------------------------------------------------------------- PCDD/F */

static void part_why(const struct ph_inv_part *p, const char *table, enum ph_vector v, char *buf, size_t cap) {
  char through[16];
  day_before(p->to, through, sizeof through);
  if (!p->toolkit_class)
    snprintf(buf, cap, "no UNEP Toolkit class configured for %s to %s", p->from, through);
  else if (!p->factor)
    snprintf(buf, cap, "class %d is not in the factor table %s", p->toolkit_class, table);
  else
    snprintf(buf, cap, "class %d has no %s factor (ND) for %s to %s", p->toolkit_class, ph_vector_name(v), p->from,
             through);
}

/* The reason an estimated vector is not available: its parts' reasons. */
static void est_why(const struct ph_inv_estimated *es, enum ph_vector v, char *buf, size_t cap) {
  buf[0] = '\0';
  if (es->no_ledger) {
    snprintf(buf, cap, "no material (weighbridge) record of the factor's basis in the year");
    return;
  }
  for (int i = 0; i < es->nparts; i++) {
    const struct ph_inv_part *p = &es->parts[i];
    if (v == PH_VEC_AIR ? p->air_avail : p->residue_avail) continue;
    char one[200];
    part_why(p, es->table, v, one, sizeof one);
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "%s%s", n ? "; " : "", one);
  }
}

static void pcdd_stack_rows(struct rb *r, const struct ph_hub_ent *e, const struct ph_inv_measured *m, cJSON *pc) {
  cJSON *stacks = arr(r, pc, "stacks"), *tests = arr(r, pc, "stack_tests");
  const struct ph_limits *l = limits_for(r->env, e->standard);
  for (int i = 0; i < m->nstacks; i++) {
    const struct ph_inv_stack *s = &m->stacks[i];
    cJSON *o = row(r, stacks);
    str(r, o, "point", s->point);
    num_or(r, o, "g_teq", s->avail, s->g_teq, "%s", s->why);
    integer(r, o, "tests", s->ntests);
    num_or(r, o, "mean_ng_teq_nm3", s->ntests > 0, s->mean_ng_teq_nm3, "no stack test in the year");
    if (s->mon_source != PH_MON_NONE) {
      time_at(r, o, "monitoring_since", s->since_ms);
      if (s->until_ms != PH_MON_OPEN) time_at(r, o, "monitoring_until", s->until_ms);
      else na(r, o, "monitoring_until", "still monitored");
    } else {
      na(r, o, "monitoring_since", "not monitored: no data and no configured monitoring_since");
      na(r, o, "monitoring_until", "not monitored");
    }
    str(r, o, "monitoring_source", ph_mon_source_name((enum ph_mon_source)s->mon_source));
    num(r, o, "hours", s->hours);
    num(r, o, "hours_stopped", s->hours_stopped);
    num(r, o, "hours_measured", s->hours_measured);
    num(r, o, "hours_gap", s->hours_gap);
    num(r, o, "hours_before_first_test", s->hours_before_first_test);
    const char *noflow = s->hours == 0 ? "not monitored in the year" : "no valid flow hour in the monitored period";
    num_or(r, o, "mean_flow_nm3_h", s->hours_measured > 0, s->mean_flow_nm3_h, "%s", noflow);
    num_or(r, o, "volume_nm3", s->volume_nm3 > 0, s->volume_nm3, "%s", noflow);
    num_or(r, o, "measured_share", s->volume_nm3 > 0, s->measured_share, "%s", noflow);
    num_or(r, o, "filled_share", s->volume_nm3 > 0, s->filled_share, "%s", noflow);
    for (int k = 0; k < s->nlisted; k++) {
      const struct ph_stack_test *t = &s->tests[k];
      cJSON *x = row(r, tests);
      str(r, x, "point", s->point);
      time_at(r, x, "time", t->ts_ms);
      num(r, x, "ng_teq_nm3", t->ng_teq_nm3);
      integer(r, x, "values", t->nvalues);
      long day = local_day(r->tz, t->ts_ms);
      double lim;
      if (!l) {
        na(r, x, "limit_ng_teq_nm3", "standard %s is not loaded", e->standard);
        na(r, x, "above_limit", "no limit");
      } else if (ph_limits_stack(l, "pcdd_f", (enum ph_sector)e->sector, ph_ent_class_on(e, day), e->special_limits, day,
                                 &lim)) {
        na(r, x, "limit_ng_teq_nm3", "no PCDD/F limit in force on that date");
        na(r, x, "above_limit", "no limit");
      } else {
        num(r, x, "limit_ng_teq_nm3", lim);
        boolean(r, x, "above_limit", t->ng_teq_nm3 > lim);
      }
    }
    if (s->ntests > s->nlisted) {
      char why[128];
      snprintf(why, sizeof why, "%s: the first %d of %d tests are listed (all are used)", s->point, s->nlisted,
               s->ntests);
      str(r, pc, "stack_tests_note", why);
    }
  }
}

static void pcdd_factor_rows(struct rb *r, const struct ph_inv_estimated *es, cJSON *pc) {
  cJSON *rows = arr(r, pc, "factors");
  for (int i = 0; i < es->nparts; i++) {
    const struct ph_inv_part *p = &es->parts[i];
    const struct ph_factor_class *f = p->factor;
    cJSON *o = row(r, rows);
    char through[16], why[200];
    day_before(p->to, through, sizeof through);
    str(r, o, "from", p->from);
    str(r, o, "through", through);
    if (p->toolkit_class) integer(r, o, "toolkit_class", p->toolkit_class);
    else na(r, o, "toolkit_class", "no UNEP Toolkit class configured");
    if (f) str(r, o, "class_name", f->name);
    else na(r, o, "class_name", p->toolkit_class ? "class not in the factor table" : "no class");
    str(r, o, "basis", f ? ph_basis_name(f->basis) : ph_basis_name(PH_BASIS_PRODUCT));
    num(r, o, "activity_t", p->activity_t);
    double air_ef = 0, res_ef = 0;
    bool has_air = f && ph_factor_get(f, PH_VEC_AIR, &air_ef), has_res = f && ph_factor_get(f, PH_VEC_RESIDUE, &res_ef);
    const char *nd = f ? "ND (no factor)" : "no factor";
    num_or(r, o, "air_ef_ug_teq_t", has_air, air_ef, "%s", nd);
    num_or(r, o, "residue_ef_ug_teq_t", has_res, res_ef, "%s", nd);
    part_why(p, es->table, PH_VEC_AIR, why, sizeof why);
    num_or(r, o, "air_g_teq", p->air_avail, p->air_g_teq, "%s", why);
    part_why(p, es->table, PH_VEC_RESIDUE, why, sizeof why);
    num_or(r, o, "residue_g_teq", p->residue_avail, p->residue_g_teq, "%s", why);
    if (f) {
      str(r, o, "source", f->source);
      boolean(r, o, "verified", f->verified);
      str(r, o, "status", f->verified ? "verified" : "not verified");
    } else {
      na(r, o, "source", "no factor");
      na(r, o, "verified", "no factor");
      na(r, o, "status", "no factor");
    }
  }
}

static void release(struct rb *r, cJSON *o, const char *key, const struct ph_release *rel, const char *why) {
  char k[64];
  num_or(r, o, key, rel->method != PH_INV_NONE, rel->g_teq, "%s", why);
  snprintf(k, sizeof k, "%s_method", key);
  str(r, o, k, ph_inv_method_name(rel->method));
  if (rel->method == PH_INV_NONE || rel->method == PH_INV_CONFIGURED) return;
  snprintf(k, sizeof k, "%s_annualised", key);
  boolean(r, o, k, rel->annualised);
  snprintf(k, sizeof k, "%s_share", key);
  num(r, o, k, rel->share);
}

/* inv. 1: a computed baseline estimated from a year without any ledger
 * record is 0 g TEQ from 0 t (inventory.h: no activity releases nothing);
 * the report says so next to it. */
static int baseline_note(struct rb *r, const char *ent, const struct ph_release *b, cJSON *o) {
  if (b->method != PH_INV_ESTIMATED || !b->year) return 0;
  bool ledger = false;
  int rc = any_data(r, ent, NULL, ph_inventory_midnight(r->tz, b->year, 1, 1),
                    ph_inventory_midnight(r->tz, b->year + 1, 1, 1), &ledger);
  if (rc || ledger) return rc;
  char why[160];
  snprintf(why, sizeof why, "baseline year %d has no material (weighbridge) record: its estimate is 0 from 0 t", b->year);
  str(r, o, "baseline_note", why);
  return 0;
}

static int ent_pcdd_f(struct rb *r, const struct ph_hub_ent *e, cJSON *scope) {
  struct ph_inventory *inv = r->inv;
  int rc = ph_inventory_year(r->db, r->env->refs->cfg, r->tz, r->cat, r->env->refs->factors, r->park->id, e->id, r->year, inv,
                             r->err);
  if (rc) return rc;
  cJSON *pc = obj(r, scope, "pcdd_f");
  const struct ph_inv_measured *m = &inv->measured;
  char why[600];
  /* over the monitored period; the annual figure below (inventory.h) */
  if (m->avail && m->complete) {
    num(r, pc, "measured_period_g_teq", m->g_teq);
  } else if (m->nstacks == 0) {
    na(r, pc, "measured_period_g_teq", "no stack test and no flow on a PCDD/F stack in the year");
  } else {
    why[0] = '\0';
    for (int i = 0; i < m->nstacks; i++) {
      if (m->stacks[i].avail) continue;
      size_t n = strlen(why);
      snprintf(why + n, sizeof why - n, "%s%s: %s", n ? "; " : "", m->stacks[i].point, m->stacks[i].why);
    }
    na(r, pc, "measured_period_g_teq", "incomplete: %s", why);
  }
  num_or(r, pc, "measured_g_teq", m->annual_avail, m->annual_g_teq, "%s", m->annual_why);
  str(r, pc, "measured_method", m->mostly_filled ? "filled" : "measured");
  boolean(r, pc, "measured_annualised", m->annualised);
  num(r, pc, "monitored_share", m->monitored_share);
  num_or(r, pc, "filled_share", m->avail && m->volume_nm3 > 0, m->filled_share, "no measured figure");
  num_or(r, pc, "measured_share", m->avail && m->volume_nm3 > 0, m->measured_share, "no measured figure");
  num_or(r, pc, "volume_nm3", m->avail, m->volume_nm3, "no measured figure");
  integer(r, pc, "stacks_counted", m->nstacks);
  str(r, pc, "concentration", m->concentration == PH_DIOXIN_MEAN ? "mean" : "latest");
  boolean(r, pc, "first_test_extended", m->first_test_extended);
  const struct ph_inv_estimated *es = &inv->estimated;
  est_why(es, PH_VEC_AIR, why, sizeof why);
  num_or(r, pc, "estimated_air_g_teq", es->air_avail, es->air_g_teq, "%s", why);
  est_why(es, PH_VEC_RESIDUE, why, sizeof why);
  num_or(r, pc, "estimated_residue_g_teq", es->residue_avail, es->residue_g_teq, "%s", why);
  num(r, pc, "activity_t", es->activity_t);
  bool ledger = false;
  if ((rc = any_data(r, e->id, NULL, r->from, r->to, &ledger))) return rc;
  if (!ledger) /* an empty ledger is missing data, not zero production */
    str(r, pc, "estimated_note", "no material (weighbridge) record in the year: no estimate");
  str(r, pc, "factor_table", es->table);
  release(r, pc, "current_g_teq", &inv->current, inv->current_why);
  if (inv->baseline.year) integer(r, pc, "baseline_year", inv->baseline.year);
  else na(r, pc, "baseline_year", "no baseline configured");
  if (!inv->baseline.year)
    snprintf(why, sizeof why, "no baseline configured");
  else
    snprintf(why, sizeof why, "baseline year %d has neither a complete measured figure nor an estimated one",
             inv->baseline.year);
  release(r, pc, "baseline_g_teq", &inv->baseline, why);
  if ((rc = baseline_note(r, e->id, &inv->baseline, pc))) return rc;
  num_or(r, pc, "reduction_g_teq", inv->reduction_avail, inv->reduction_g_teq, "needs both the baseline and the current figure");
  const char *lfl = inv->baseline.method == PH_INV_CONFIGURED ? "the baseline is a configured figure"
                    : !inv->baseline.year                     ? "no baseline configured"
                                                              : NULL;
  num_or(r, pc, "reduction_measured_g_teq", inv->reduction_measured_avail, inv->reduction_measured_g_teq, "%s",
         lfl ? lfl : "needs complete measured figures in both years");
  num_or(r, pc, "reduction_estimated_g_teq", inv->reduction_estimated_avail, inv->reduction_estimated_g_teq, "%s",
         lfl ? lfl : "needs estimated air releases in both years");
  pcdd_stack_rows(r, e, m, pc);
  pcdd_factor_rows(r, es, pc);
  return 0;
}

/* A park figure is the sum of its enterprises' and is given only when every
 * enterprise has it: a sum over some of them is not the park's. */
static void total(struct rb *r, cJSON *o, const char *key, const struct ph_inv_total *t) {
  char k[64];
  num_or(r, o, key, t->counted > 0 && t->missing == 0, t->g_teq, "%d of %d enterprises have no such figure (see their rows)",
         t->missing, t->counted + t->missing);
  snprintf(k, sizeof k, "%s_enterprises", key);
  integer(r, o, k, t->counted);
  snprintf(k, sizeof k, "%s_missing", key);
  integer(r, o, k, t->missing);
}

static int park_pcdd_f(struct rb *r, cJSON *scope) {
  struct ph_inventory_park pk;
  int rc = ph_inventory_park(r->db, r->env->refs->cfg, r->tz, r->cat, r->env->refs->factors, r->park->id, r->year, &pk, r->err);
  if (rc) {
    ph_inventory_park_fini(&pk);
    return rc;
  }
  cJSON *pc = obj(r, scope, "pcdd_f");
  total(r, pc, "measured_g_teq", &pk.measured);
  total(r, pc, "estimated_air_g_teq", &pk.estimated_air);
  total(r, pc, "estimated_residue_g_teq", &pk.estimated_residue);
  total(r, pc, "current_g_teq", &pk.current);
  total(r, pc, "baseline_g_teq", &pk.baseline);
  total(r, pc, "reduction_g_teq", &pk.reduction);
  cJSON *rows = arr(r, pc, "enterprises");
  for (int i = 0; i < pk.nents; i++) {
    const struct ph_inv_ent_row *e = &pk.ents[i];
    cJSON *o = row(r, rows);
    str(r, o, "enterprise", e->ent);
    num_or(r, o, "measured_g_teq", e->measured_complete, e->measured_g_teq, "%s", e->measured_why);
    boolean(r, o, "measured_annualised", e->measured_annualised);
    num(r, o, "monitored_share", e->monitored_share);
    num_or(r, o, "filled_share", e->measured_complete, e->filled_share, "%s", e->measured_why);
    num_or(r, o, "measured_share", e->measured_complete, e->measured_share, "%s", e->measured_why);
    num_or(r, o, "estimated_air_g_teq", e->estimated_air_avail, e->estimated_air_g_teq, "%s",
           e->estimated_no_ledger ? "no material (weighbridge) record of the factor's basis in the year" : "no factor for part of the year");
    num_or(r, o, "estimated_residue_g_teq", e->estimated_residue_avail, e->estimated_residue_g_teq, "%s",
           e->estimated_no_ledger ? "no material (weighbridge) record of the factor's basis in the year" : "no factor for part of the year");
    release(r, o, "current_g_teq", &e->current, e->current_why);
    if (e->baseline.year) integer(r, o, "baseline_year", e->baseline.year);
    else na(r, o, "baseline_year", "no baseline configured");
    release(r, o, "baseline_g_teq", &e->baseline, e->baseline.year ? "no figure for the baseline year" : "no baseline configured");
    num_or(r, o, "reduction_g_teq", e->reduction_avail, e->reduction_g_teq, "needs both the baseline and the current figure");
    if ((rc = baseline_note(r, e->ent, &e->baseline, o))) break;
  }
  ph_inventory_park_fini(&pk);
  return rc;
}

/* ---------------------------------------------------------- monitoring */

static void plan_status(struct rb *r, cJSON *o, const struct ph_monitoring_plan *p) {
  char s[96];
  if (p->never_tested) snprintf(s, sizeof s, "never tested: overdue");
  else if (p->days_left < 0) snprintf(s, sizeof s, "overdue by %lld days", (long long)-p->days_left);
  else snprintf(s, sizeof s, "due in %lld days", (long long)p->days_left);
  str(r, o, "status", s);
}

static void plan_fields(struct rb *r, cJSON *o, const struct ph_monitoring_plan *p) {
  if (p->never_tested) {
    na(r, o, "next_due", "no stack test on record");
    na(r, o, "days_left", "no stack test on record");
  } else {
    str(r, o, "next_due", p->due);
    integer(r, o, "days_left", p->days_left);
  }
  boolean(r, o, "overdue", p->overdue);
  boolean(r, o, "never_tested", p->never_tested);
  plan_status(r, o, p);
}

static int ent_monitoring(struct rb *r, const struct ph_hub_ent *e, cJSON *scope, struct ph_monitoring_plan *p) {
  int rc = ph_monitoring_plan(r->db, r->env->refs->cfg, r->tz, r->park->id, e->id, r->now, p, r->err);
  if (rc) return rc;
  cJSON *mo = obj(r, scope, "monitoring");
  str(r, mo, "as_of", p->today);
  integer(r, mo, "interval_days", p->interval_days);
  plan_fields(r, mo, p);
  cJSON *rows = arr(r, mo, "stacks");
  for (int i = 0; i < p->nstacks; i++) {
    const struct ph_plan_stack *s = &p->stacks[i];
    cJSON *o = row(r, rows);
    str(r, o, "point", s->point);
    str(r, o, "last_test", s->last_test);
    str(r, o, "next_due", s->due);
    integer(r, o, "days_left", s->days_left);
    boolean(r, o, "overdue", s->overdue);
  }
  return 0;
}

/* ---------------------------------------------------------- indicators */

struct ind_ctx {
  const char *ent; /* NULL: the park */
  int baseline_year;
  bool ledger, base_ledger;
};

static const char *base_why(const struct ph_indicators *ind, const struct ind_ctx *c, char *buf, size_t cap) {
  if (c->ent && !c->baseline_year) snprintf(buf, cap, "no baseline year configured");
  else if (!c->ent && ind->baseline_missing)
    snprintf(buf, cap, "%d %s no baseline year", ind->baseline_missing,
             ind->baseline_missing == 1 ? "enterprise has" : "enterprises have");
  else if (!c->ent && !ind->has_baseline) snprintf(buf, cap, "no baseline year configured");
  else if (!c->base_ledger) snprintf(buf, cap, "no material record in the baseline year%s", c->ent ? "" : "s");
  else snprintf(buf, cap, "no product in the baseline year%s", c->ent ? "" : "s");
  return buf;
}

static void per_t_row(struct rb *r, cJSON *rows, const char *code, const char *label, bool total_avail, double tot,
                      const char *total_unit, const char *unit, const struct ph_ind_value *v,
                      const struct ph_ind_value *b, bool has_base, double scale, const char *value_why,
                      const char *base_why_s) {
  cJSON *o = row(r, rows);
  str(r, o, "indicator", code);
  str(r, o, "label", label);
  num_or(r, o, "total", total_avail, tot, "%s", value_why);
  str(r, o, "total_unit", total_unit);
  num_or(r, o, "value", total_avail && v->avail, v->v * scale, "%s", value_why);
  str(r, o, "unit", unit);
  num_or(r, o, "baseline", has_base && b->avail, b->v * scale, "%s", base_why_s);
  num_or(r, o, "change", v->change_avail, v->change * scale, "needs both figures");
  num_or(r, o, "change_pct", v->change_pct_avail, v->change_pct, "%s",
         v->change_avail ? "the baseline figure is 0" : "needs both figures");
}

/* One row per material of the ledger: the park's registry names it. */
static void material_rows(struct rb *r, const struct ph_ind_figures *f, cJSON *mats) {
  for (int i = 0; i < f->nmaterials; i++) {
    const struct ph_ind_material *mt = &f->materials[i];
    struct ph_material def;
    ph_material_lookup(&r->park->materials, r->cat, mt->code, &def);
    cJSON *o = row(r, mats);
    str(r, o, "material", mt->code);
    str(r, o, "name", ph_material_name(&def));
    str(r, o, "name_zh", def.name_zh);
    str(r, o, "role", ph_role_name(mt->role));
    num(r, o, "cu_fraction", mt->cu_fraction);
    num(r, o, "in_t", mt->in_t);
    num(r, o, "out_t", mt->out_t);
    num(r, o, "cu_in_t", mt->cu_in_t);
    num(r, o, "cu_out_t", mt->cu_out_t);
    integer(r, o, "lots", mt->lots);
    integer(r, o, "assay_lots", mt->assay_lots);
    integer(r, o, "assay_ignored_lots", mt->assay_ignored_lots);
  }
}

static int indicators(struct rb *r, const struct ind_ctx *c, cJSON *scope) {
  struct ph_indicators *ind = ph_malloc(sizeof *ind);
  if (!ind) return ph_fail(r->err, PH_ENOMEM, "report: out of memory");
  int rc = ph_indicators(r->db, r->env->refs->cfg, r->tz, r->cat, r->park->id, c->ent, r->year, 0, ind, r->err);
  if (rc) goto out;
  struct ind_ctx cc = *c;
  int by = c->ent ? c->baseline_year : 0;
  if ((rc = any_data(r, c->ent, NULL, r->from, r->to, &cc.ledger))) goto out;
  if (by && (rc = any_data(r, c->ent, NULL, ph_inventory_midnight(r->tz, by, 1, 1),
                           ph_inventory_midnight(r->tz, by + 1, 1, 1), &cc.base_ledger)))
    goto out;
  if (!c->ent) cc.base_ledger = ind->has_baseline; /* several years: ph_indicators says whether it has them */

  cJSON *io = obj(r, scope, "indicators");
  const struct ph_ind_figures *f = &ind->cur, *b = &ind->base;
  const char *noledger = "no material (weighbridge) record in the year";
  num_or(r, io, "feed_t", cc.ledger, f->feed_t, "%s", noledger);
  num_or(r, io, "product_t", cc.ledger, f->product_t, "%s", noledger);
  num_or(r, io, "residue_t", cc.ledger, f->residue_t, "%s", noledger);
  num_or(r, io, "consumable_t", cc.ledger, f->consumable_t, "%s", noledger);
  num_or(r, io, "energy_t", cc.ledger, f->energy_t, "%s", noledger);
  num_or(r, io, "water_t", cc.ledger, f->water_t, "%s", noledger);
  num_or(r, io, "unclassified_in_t", cc.ledger, f->unclassified_in_t, "%s", noledger);
  num_or(r, io, "unclassified_out_t", cc.ledger, f->unclassified_out_t, "%s", noledger);
  integer(r, io, "unclassified_lots", f->unclassified_lots);
  num_or(r, io, "cu_in_t", cc.ledger, f->cu_in_t, "%s", noledger);
  num_or(r, io, "cu_out_t", cc.ledger, f->cu_out_t, "%s", noledger);
  num_or(r, io, "cu_residue_t", cc.ledger, f->cu_residue_t, "%s", noledger);
  num_or(r, io, "yield_pct", cc.ledger && f->yield.avail, f->yield.v * 100, "%s", cc.ledger ? f->yield.na : noledger);
  integer(r, io, "assay_lots", f->assay_lots);
  integer(r, io, "assay_ignored_lots", f->assay_ignored_lots);
  if (c->ent) {
    if (by) integer(r, io, "baseline_year", by);
    else na(r, io, "baseline_year", "no baseline year configured");
  } else {
    integer(r, io, "baseline_missing", ind->baseline_missing);
  }

  char bw[128], vw[128];
  base_why(ind, &cc, bw, sizeof bw);
  const char *noprod = cc.ledger ? f->feed_per_t.na : noledger; /* every per-t ratio's reason: no product */
  cJSON *rows = arr(r, io, "per_t");
  per_t_row(r, rows, "feed", "Feed per t of product", cc.ledger, f->feed_t, "t", "t/t", &f->feed_per_t,
            &b->feed_per_t, ind->has_baseline, 1, noprod, bw);
  per_t_row(r, rows, "residue", "Residues per t of product", cc.ledger, f->residue_t, "t", "t/t", &f->residue_per_t,
            &b->residue_per_t, ind->has_baseline, 1, noprod, bw);
  per_t_row(r, rows, "consumable", "Consumables per t of product", cc.ledger, f->consumable_t, "t", "t/t",
            &f->consumable_per_t, &b->consumable_per_t, ind->has_baseline, 1, noprod, bw);
  for (int i = 0; i < f->nquantities; i++) {
    const struct ph_ind_quantity *q = &f->quantities[i], *qb = ph_ind_quantity(b, q->code);
    int idx = ph_catalog_find(r->cat, q->code, strlen(q->code));
    bool data = false, bdata = false;
    if ((rc = any_data(r, c->ent, q->code, r->from, r->to, &data))) goto out;
    if (by && (rc = any_data(r, c->ent, q->code, ph_inventory_midnight(r->tz, by, 1, 1),
                             ph_inventory_midnight(r->tz, by + 1, 1, 1), &bdata)))
      goto out;
    if (!c->ent) bdata = true; /* the park's baseline mixes years: judged by ph_indicators alone */
    char label[160], unit[40], bqw[160];
    /* "Electricity use in the interval" (a record's meaning) reads "Electricity use per t of product" here */
    const char *name = idx >= 0 ? metric(r, idx)->name : q->code;
    size_t nl = strlen(name), sl = strlen(" in the interval");
    int keep = nl > sl && strcmp(name + nl - sl, " in the interval") == 0 ? (int)(nl - sl) : (int)nl;
    snprintf(label, sizeof label, "%.*s per t of product", keep, name);
    snprintf(unit, sizeof unit, "%s/t", q->unit);
    snprintf(vw, sizeof vw, "%s", !data ? "no data in the year" : noprod);
    snprintf(bqw, sizeof bqw, "%s", ind->has_baseline && !bdata ? "no data in the baseline year" : bw);
    struct ph_ind_value none = {0};
    per_t_row(r, rows, q->code, label, data, q->total, q->unit, unit, &q->per_t, qb ? &qb->per_t : &none,
              ind->has_baseline && bdata, 1, vw, bqw);
  }
  per_t_row(r, rows, "yield", "Copper yield (Cu out in product / Cu in feed)", cc.ledger, f->cu_out_t, "t Cu", "%",
            &f->yield, &b->yield, ind->has_baseline, 100, cc.ledger ? f->yield.na : noledger, bw);

  if (f->materials_omitted) integer(r, io, "materials_omitted", f->materials_omitted);
  material_rows(r, f, arr(r, io, "materials"));
out:
  ph_free(ind);
  return rc;
}

/* ------------------------------------------------------------- scopes */

static void classes_text(const struct ph_hub_ent *e, char *buf, size_t cap) {
  buf[0] = '\0';
  for (int i = 0; i < e->nclasses; i++) {
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "%sclass %d since %s", i ? "; " : "", e->classes[i].toolkit_class, e->classes[i].since);
  }
}

/* The enterprise's monitoring period and, per point, the hours of the
 * year it covers and how many of them the plant was stopped or starting
 * up / shutting down (monitoring.h). */
static int ent_monitoring_period(struct rb *r, const struct ph_hub_ent *e, cJSON *scope) {
  struct ph_monitoring_window w;
  int64_t closed = 0;
  int rc = ph_monitoring_ent_window(r->db, e, r->tz, r->park->id, &w, r->err);
  if (!rc) rc = ph_cems_closed_until(r->db, &closed, r->err);
  if (rc) return rc;
  int64_t to = closed ? ph_tz_hour_start(r->tz, closed) : r->from;
  if (to > r->to) to = r->to;
  if (to < r->from) to = r->from;
  cJSON *mp = obj(r, scope, "monitoring_period");
  str(r, mp, "source", ph_mon_source_name(w.source));
  if (w.source == PH_MON_NONE) {
    na(r, mp, "since", "not monitored: no data and no configured monitoring_since");
    na(r, mp, "until", "not monitored");
  } else {
    time_at(r, mp, "since", w.since_ms);
    if (w.until_ms != PH_MON_OPEN) time_at(r, mp, "until", w.until_ms);
    else na(r, mp, "until", "still monitored");
  }
  int64_t lo, hi, year = ph_cems_count_hours(r->tz, r->from, r->to);
  ph_monitoring_clip(&w, r->from, to, &lo, &hi);
  int64_t mon = hi > lo ? ph_cems_count_hours(r->tz, lo, hi) : 0;
  integer(r, mp, "year_hours", year);
  integer(r, mp, "monitored_hours", mon);
  num(r, mp, "monitored_share", year ? (double)mon / (double)year : 0);
  if (!ph_monitoring_overlaps(&w, r->from, r->to)) str(r, mp, "status", "not monitored in the year");
  else if (mon == 0) str(r, mp, "status", "monitored from the date above; no hour of it has closed yet");
  else if (mon < year) str(r, mp, "status", "monitored part of the year");
  else str(r, mp, "status", "monitored the whole year");
  cJSON *rows = arr(r, mp, "points");
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(r->db, "SELECT id, point FROM points WHERE park = ?1 AND ent = ?2 ORDER BY point", -1, &q,
                         NULL) != SQLITE_OK) {
    sqlite3_finalize(q);
    return db_fail(r, "listing points");
  }
  bind_ent(q, r->park->id, e->id);
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    char point[PH_ID_MAX + 1];
    snprintf(point, sizeof point, "%s", (const char *)sqlite3_column_text(q, 1));
    struct ph_monitoring_window pw;
    struct ph_monitoring_hours h;
    int e2 = ph_monitoring_window(r->db, e, r->tz, sqlite3_column_int64(q, 0), point, &pw, r->err);
    if (!e2)
      e2 = ph_monitoring_hours(r->db, r->tz, r->park->id, e->id, sqlite3_column_int64(q, 0), 0, &pw, r->from, to, &h,
                               r->err);
    if (e2) {
      sqlite3_finalize(q);
      return e2;
    }
    cJSON *o = row(r, rows);
    str(r, o, "point", point);
    str(r, o, "source", ph_mon_source_name(pw.source));
    if (pw.source != PH_MON_NONE) time_at(r, o, "since", pw.since_ms);
    else na(r, o, "since", "not monitored");
    integer(r, o, "hours", h.hours);
    integer(r, o, "hours_stopped", h.stopped);
    integer(r, o, "hours_startup_shutdown", h.transition);
    integer(r, o, "days_stopped", h.days_stopped);
  }
  sqlite3_finalize(q);
  return rc == SQLITE_DONE ? 0 : db_fail(r, "listing points");
}

static int enterprise(struct rb *r, const struct ph_hub_ent *e, cJSON *list, bool *measured,
                      struct ph_monitoring_plan *plan) {
  cJSON *s = row(r, list);
  str(r, s, "id", e->id);
  str(r, s, "name", e->name[0] ? e->name : e->id);
  str(r, s, "sector", ph_sector_name((enum ph_sector)e->sector));
  str(r, s, "plant_class", e->plant_class == PH_CLASS_NEW ? "new" : "existing");
  if (e->class_since[0]) str(r, s, "class_since", e->class_since);
  boolean(r, s, "special_limits", e->special_limits);
  str(r, s, "standard", e->standard);
  boolean(r, s, "standard_loaded", limits_for(r->env, e->standard) != NULL);
  char cls[PH_HUB_MAX_CLASSES * 32];
  classes_text(e, cls, sizeof cls);
  if (cls[0]) str(r, s, "toolkit_class", cls);
  else na(r, s, "toolkit_class", "no UNEP Toolkit class configured");
  if (e->baseline_year) integer(r, s, "baseline_year", e->baseline_year);
  else na(r, s, "baseline_year", "no baseline configured");
  int rc;
  if ((rc = ent_monitoring_period(r, e, s)) || (rc = ent_metrics(r, e->id, measured)) ||
      (rc = ent_emissions(r, e, measured, s)) ||
      (rc = ent_compliance(r, e, measured, s)) || (rc = ent_pcdd_f(r, e, s)) || (rc = ent_monitoring(r, e, s, plan)) ||
      (rc = ph_report_water_ent(r->db, r->park->id, e, r->cat, limits_for(r->env, e->standard), r->tz, r->from,
                                r->to, s, &r->water, r->err)))
    return rc;
  struct ind_ctx c = {.ent = e->id, .baseline_year = (int)e->baseline_year};
  return indicators(r, &c, s);
}

static void park_monitoring(struct rb *r, cJSON *scope, const struct ph_monitoring_plan *plans, int n) {
  cJSON *mo = obj(r, scope, "monitoring");
  int overdue = 0;
  for (int i = 0; i < n; i++) overdue += plans[i].overdue;
  str(r, mo, "as_of", n ? plans[0].today : "");
  integer(r, mo, "overdue_enterprises", overdue);
  cJSON *rows = arr(r, mo, "enterprises");
  for (int i = 0; i < n; i++) {
    cJSON *o = row(r, rows);
    str(r, o, "enterprise", plans[i].ent);
    integer(r, o, "stacks", plans[i].nstacks);
    plan_fields(r, o, &plans[i]);
  }
}

/* --------------------------------------------------------------- meta */

static void meta(struct rb *r, cJSON *root) {
  const struct ph_hub_config *cfg = r->env->refs->cfg;
  char t[48];
  str(r, root, "report", "parkhub annual report");
  integer(r, root, "format_version", PH_REPORT_VERSION);
  str(r, root, "hub_id", cfg->hub_id);
  str(r, root, "park", r->park->id);
  str(r, root, "park_name", r->park->name[0] ? r->park->name : r->park->id);
  str(r, root, "tz", ph_tz_name(r->tz));
  integer(r, root, "year", r->year);
  time_at(r, root, "period_from", r->from);
  time_at(r, root, "period_to", r->to);
  cJSON *stds = arr(r, root, "standards");
  for (int i = 0; i < r->park->nents; i++) {
    const char *id = r->park->ents[i].standard;
    bool seen = false;
    for (int j = 0; j < i; j++) seen = seen || strcmp(r->park->ents[j].standard, id) == 0;
    if (!seen && (!stds || !cJSON_AddItemToArray(stds, cJSON_CreateString(id)))) r->oom = true;
  }
  time_at(r, root, "generated_at", r->now);
  if (ph_time_format(r->now, t, sizeof t) == 0) str(r, root, "generated_at_utc", t);
  if (r->closed) {
    time_at(r, root, "cems_closed_until", r->closed);
    int64_t through = ph_tz_hour_start(r->tz, r->closed);
    if (through > r->to) through = r->to;
    if (through > r->from) time_at(r, root, "cems_data_through", through);
    else na(r, root, "cems_data_through", "the CEMS tables are not processed past the start of the year");
    boolean(r, root, "cems_year_complete", ph_tz_day_start(r->tz, r->closed) >= r->to);
  } else {
    na(r, root, "cems_closed_until", "the hub has not processed any CEMS hour yet");
    na(r, root, "cems_data_through", "the hub has not processed any CEMS hour yet");
    boolean(r, root, "cems_year_complete", false);
  }
  str(r, root, "factor_table", ph_factors_table(r->env->refs->factors));
  str(r, root, "factor_table_title", ph_factors_title(r->env->refs->factors));
  str(r, root, "factor_table_source", ph_factors_source(r->env->refs->factors));
  integer(r, root, "enterprises_count", r->park->nents);
  static const char *const notes[] = {
      "Times are the park's local time; the year is the park's local calendar year.",
      "CEMS figures (emissions, compliance) cover the hours and days the hub had closed and processed by "
      "cems_closed_until; later hours are neither valid nor missing.",
      "Emission mass = valid hourly mean concentration x valid hourly mean dry flow x 1 h, summed over the point-hours "
      "with both; other expected point-hours are gaps, counted in gap_share and never filled.",
      "Compliance: valid hourly means (HJ 75: 45 valid minutes, flag N only) against the stack limit in force that "
      "day; valid daily means (20 valid hours) after the GB 31574-2015 4.2.7 benchmark exhaust-volume conversion.",
      "PCDD/F measured = stack-test concentration x flue-gas volume of the whole year (hours without valid flow "
      "filled with the mean of the valid hours; measured_share says how much was measured). Estimated = UNEP Toolkit "
      "factor x activity. Current = measured when complete, else estimated (air).",
      "Stack-test plan and its status are as of the generation date.",
      "Material balance and indicators come from the weighbridge ledger and the day sums of process quantities, "
      "all data received by the generation time.",
      "Copper in (feed), out (product) and in residues: each lot's assay (attrs.cu_pct, percent 0..100) where it has "
      "one, else the material's default content; an assay outside 0..100 or not a number is ignored and counted "
      "(assay_ignored_lots). Roles and defaults: the park's materials in the configuration, else the built-in "
      "catalogue; other codes are unclassified, listed and counted apart, in no balance figure.",
  };
  cJSON *ns = arr(r, root, "notes");
  for (size_t i = 0; i < sizeof notes / sizeof notes[0]; i++)
    if (!ns || !cJSON_AddItemToArray(ns, cJSON_CreateString(notes[i]))) r->oom = true;
}

/* ---------------------------------------------------------------- API */

static int prepare(struct rb *r) {
  if (sqlite3_prepare_v2(r->db, REP_SQL_ENT_METRICS, -1, &r->ent_metrics, NULL) ||
      sqlite3_prepare_v2(r->db, REP_SQL_LIMIT_RANGE, -1, &r->limit_range, NULL) ||
      sqlite3_prepare_v2(r->db, REP_SQL_LEDGER, -1, &r->ledger, NULL) ||
      sqlite3_prepare_v2(r->db, REP_SQL_SUM_DATA, -1, &r->sum_data, NULL))
    return db_fail(r, "prepare (is this a parkhub database?)");
  return 0;
}

static void release_rb(struct rb *r) {
  sqlite3_finalize(r->ent_metrics);
  sqlite3_finalize(r->limit_range);
  sqlite3_finalize(r->ledger);
  sqlite3_finalize(r->sum_data);
  ph_free(r->mass_codes);
  ph_free(r->comp_codes);
  ph_free(r->mass);
  ph_free(r->comp);
  ph_free(r->inv);
}

int ph_report_build(sqlite3 *db, const struct ph_report_env *env, const char *park, int year, int64_t now_ms,
                    cJSON **out, struct ph_err *err) {
  *out = NULL;
  if (!db || !env || !env->refs || !env->refs->cfg || !env->refs->cat || !env->refs->factors || !park)
    return ph_fail(err, PH_EINVAL, "report: missing argument");
  const struct ph_hub_park *p = ph_hub_config_park(env->refs->cfg, park);
  if (!p) return ph_fail(err, PH_ENOTFOUND, "report: park '%s' is not configured", park);
  const struct ph_tz *tz = env->refs->tz[p - env->refs->cfg->parks];
  if (!tz) return ph_fail(err, PH_EINVAL, "report: park '%s' has no time zone loaded", park);
  if (year < 1971 || year > 9998) return ph_fail(err, PH_EINVAL, "report: year %d is outside 1971..9998", year);
  struct rb r = {.db = db, .env = env, .cat = env->refs->cat, .tz = tz, .park = p, .year = year, .now = now_ms, .err = err};
  r.from = ph_inventory_midnight(tz, year, 1, 1);
  r.to = ph_inventory_midnight(tz, year + 1, 1, 1);
  cJSON *root = cJSON_CreateObject();
  bool *measured = ph_calloc(ph_catalog_count(env->refs->cat) + 1, sizeof *measured);
  struct ph_monitoring_plan *plans = ph_calloc((size_t)p->nents + 1, sizeof *plans);
  r.inv = ph_malloc(sizeof *r.inv);
  int rc;
  if (!root || !measured || !plans || !r.inv) {
    rc = ph_fail(err, PH_ENOMEM, "report: out of memory");
    goto out;
  }
  if ((rc = prepare(&r)) || (rc = ph_cems_closed_until(db, &r.closed, err)) || (rc = park_codes(&r))) goto out;
  meta(&r, root);
  cJSON *ps = obj(&r, root, "park_summary");
  cJSON *ents = arr(&r, root, "enterprises");
  for (int i = 0; i < p->nents; i++)
    if ((rc = enterprise(&r, &p->ents[i], ents, measured, &plans[i]))) goto out;
  str(&r, ps, "id", p->id);
  str(&r, ps, "name", p->name[0] ? p->name : p->id);
  integer(&r, ps, "enterprises", p->nents);
  park_emissions(&r, ps);
  park_compliance(&r, ps);
  if ((rc = park_pcdd_f(&r, ps))) goto out;
  park_monitoring(&r, ps, plans, p->nents);
  if ((rc = ph_report_water_park(&r.water, ps, err))) goto out;
  struct ind_ctx c = {0};
  if ((rc = indicators(&r, &c, ps))) goto out;
  if (r.oom) rc = ph_fail(err, PH_ENOMEM, "report: out of memory building the tree");
out:
  release_rb(&r);
  ph_free(measured);
  ph_free(plans);
  if (rc) {
    cJSON_Delete(root);
    return rc;
  }
  *out = root;
  return 0;
}
