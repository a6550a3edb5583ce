/* report_build.c — the report builder's helpers (report_build.h): writing
 * figures into the tree, the park's local times, lookups in the reference
 * bundle, data checks, and the park's pollutants in report order.
 *
 * Callers: the report_*.c section files and report_json.c. Threads: the
 * caller's; the statements are the ones report_json.c prepared in the
 * struct rb. Owns nothing.
 *
 * Invariants:
 *  1. A helper never fails the build on its own: a cJSON allocation that
 *     fails sets r->oom, which ph_report_build turns into PH_ENOMEM.
 *  2. A figure that is not finite is written as null (report_json.c inv. 1),
 *     and rb_na / rb_num_or always put the reason at "<key>_na".
 *  3. Report order of pollutants: the first enterprise's standard in its
 *     order, then the others in catalogue order.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "parkhub/timefmt.h"
#include "domain/ent_limits.h"
#include "report_build.h"

int rb_db_fail(struct rb *r, const char *what) {
  return ph_fail(r->err, PH_EDB, "report: %s: %s", what, sqlite3_errmsg(r->db));
}

/* ------------------------------------------------- tree helpers (inv. 1) */

cJSON *rb_chk(struct rb *r, cJSON *item) {
  if (!item) r->oom = true;
  return item;
}
void rb_num(struct rb *r, cJSON *o, const char *k, double v) {
  if (!isfinite(v))
    rb_chk(r, cJSON_AddNullToObject(o, k));
  else
    rb_chk(r, cJSON_AddNumberToObject(o, k, v));
}
void rb_int(struct rb *r, cJSON *o, const char *k, int64_t v) { rb_chk(r, cJSON_AddNumberToObject(o, k, (double)v)); }
void rb_str(struct rb *r, cJSON *o, const char *k, const char *v) { rb_chk(r, cJSON_AddStringToObject(o, k, v ? v : "")); }
void rb_bool(struct rb *r, cJSON *o, const char *k, bool v) { rb_chk(r, cJSON_AddBoolToObject(o, k, v)); }

/* null at k and the reason at k_na */
__attribute__((format(printf, 4, 5))) void rb_na(struct rb *r, cJSON *o, const char *k, const char *fmt, ...) {
  char key[96], why[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  snprintf(key, sizeof key, "%s_na", k);
  rb_chk(r, cJSON_AddNullToObject(o, k));
  rb_chk(r, cJSON_AddStringToObject(o, key, why));
}

/* v when avail (and finite), else null with the reason */
__attribute__((format(printf, 6, 7))) void rb_num_or(struct rb *r, cJSON *o, const char *k, bool avail, double v,
                                                         const char *fmt, ...) {
  if (avail && isfinite(v)) {
    rb_num(r, o, k, v);
    return;
  }
  char why[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  rb_na(r, o, k, "%s", why);
}

cJSON *rb_obj(struct rb *r, cJSON *parent, const char *k) { return rb_chk(r, cJSON_AddObjectToObject(parent, k)); }
cJSON *rb_arr(struct rb *r, cJSON *parent, const char *k) { return rb_chk(r, cJSON_AddArrayToObject(parent, k)); }
cJSON *rb_row(struct rb *r, cJSON *array) {
  cJSON *o = rb_chk(r, cJSON_CreateObject());
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
void rb_date_local(const struct ph_tz *tz, int64_t ms, char *buf, size_t cap) {
  char t[40];
  iso_local(tz, ms, t, sizeof t);
  snprintf(buf, cap, "%.10s", t);
}
void rb_time_at(struct rb *r, cJSON *o, const char *k, int64_t ms) {
  char t[40];
  iso_local(r->tz, ms, t, sizeof t);
  rb_str(r, o, k, t);
}
long rb_local_day(const struct ph_tz *tz, int64_t ms) {
  return (long)floor_div(ms + (int64_t)ph_tz_offset_s(tz, ms) * 1000, DAY_MS);
}
/* "YYYY-MM-DD" of the day before an exclusive end date "YYYY-MM-DD" */
void rb_day_before(const char *date, char *buf, size_t cap) {
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

const struct ph_limits *rb_limits_for(const struct ph_report_env *env, const char *standard) {
  return ph_limits_pick(env->refs->limits, env->refs->nlimits, standard);
}

const struct ph_metric *rb_metric(const struct rb *r, int idx) { return ph_catalog_at(r->cat, (size_t)idx); }

/* A concentration whose mass is in kg (emission_mass.h); PCDD/F (g TEQ) is the inventory's. */
static bool mass_metric(const struct ph_metric *m) {
  size_t n = strlen(m->unit);
  return m->kind == PH_KIND_EMISSION && n > 4 && strcmp(m->unit + n - 4, "/Nm3") == 0 && !strstr(m->unit, "TEQ");
}

/* Whether the standard sets a stack limit for the pollutant and sector at all. */
bool rb_standard_limits(const struct ph_limits *l, const char *code, const struct ph_hub_ent *e) {
  double v;
  return ph_limits_stack(l, code, (enum ph_sector)e->sector, PH_CLASS_EXISTING, e->special_limits, FAR_DAY, &v) == 0 ||
         ph_limits_stack(l, code, (enum ph_sector)e->sector, PH_CLASS_NEW, e->special_limits, FAR_DAY, &v) == 0;
}

void rb_bind_ent(sqlite3_stmt *s, const char *park, const char *ent) {
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  sqlite3_bind_text(s, 1, park, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, ent, -1, SQLITE_STATIC);
}

/* measured[i]: the enterprise has a series of catalogue metric i. */
int rb_ent_metrics(struct rb *r, const char *ent, bool *measured) {
  memset(measured, 0, ph_catalog_count(r->cat) * sizeof *measured);
  rb_bind_ent(r->ent_metrics, r->park->id, ent);
  int rc;
  while ((rc = sqlite3_step(r->ent_metrics)) == SQLITE_ROW) {
    const char *code = (const char *)sqlite3_column_text(r->ent_metrics, 0);
    int idx = code ? ph_catalog_find(r->cat, code, strlen(code)) : -1;
    if (idx >= 0) measured[idx] = true;
  }
  sqlite3_reset(r->ent_metrics);
  return rc == SQLITE_DONE ? 0 : rb_db_fail(r, "listing metrics");
}

static int exists(struct rb *r, sqlite3_stmt *s, const char *ent, const char *code, int64_t from, int64_t to,
                  bool *out) {
  rb_bind_ent(s, r->park->id, ent);
  int i = 3;
  if (code) sqlite3_bind_text(s, i++, code, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, i++, from);
  sqlite3_bind_int64(s, i, to);
  int rc = sqlite3_step(s);
  *out = rc == SQLITE_ROW && sqlite3_column_int(s, 0) != 0;
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? 0 : rb_db_fail(r, "checking data");
}

/* Whether any configured enterprise (ent NULL) or this one has ledger rows /
 * day sums of code in [from, to). */
int rb_any_data(struct rb *r, const char *ent, const char *code, int64_t from, int64_t to, bool *out) {
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
  const struct ph_limits *l = r->park->nents ? rb_limits_for(r->env, r->park->ents[0].standard) : NULL;
  if (!l && r->env->refs->nlimits) l = r->env->refs->limits[0];
  for (size_t i = 0; l && i < ph_limits_count(l); i++)
    if (strcmp(ph_limits_metric(l, i), rb_metric(r, idx)->code) == 0) return (int)i;
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
int rb_park_codes(struct rb *r) {
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
    if ((rc = rb_ent_metrics(r, ent->id, m))) goto out;
    const struct ph_limits *l = rb_limits_for(r->env, ent->standard);
    for (size_t i = 0; i < n; i++) {
      if (!m[i]) continue;
      any[i] = true;
      if (l && rb_standard_limits(l, ph_catalog_at(r->cat, i)->code, ent)) lim[i] = true;
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
