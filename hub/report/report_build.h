/* report_build.h — the report builder's shared state and tree helpers,
 * internal to hub/report/: report_json.c (the entry, meta and scopes)
 * and one file per section of the tree, each adding its keys to a scope:
 *
 *   report_build.c       tree helpers, local times, lookups, the park's pollutants
 *   report_mass.c        "emissions" (mass per pollutant)
 *   report_compliance.c  "compliance" (hours and days against the limit)
 *   report_inventory.c   "pcdd_f" (inventory, stack tests, factors)
 *   report_monitoring.c  "monitoring" (stack-test plan), "monitoring_period"
 *   report_indicators.c  "indicators" (material balance, per-t figures)
 *   report_water.c       "water" (its own state: report_water.h)
 *
 * Threads: the caller of ph_report_build; a struct rb lives on its stack
 * for one build. Every helper writes into the tree through rb_chk, which
 * records an allocation failure in r->oom instead of failing at once
 * (report_json.c inv. 1 and the invariants it lists hold for every file).
 */
#ifndef HUB_REPORT_BUILD_H
#define HUB_REPORT_BUILD_H

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/compliance.h"
#include "domain/inventory.h"
#include "domain/monitoring.h"
#include "report/report.h"
#include "report_water.h"

#define DAY_MS 86400000LL
#define FAR_DAY 1000000L /* a local date long after any standard's start: "does it set a limit at all" */

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

/* Whose indicators: an enterprise, or the park (ent NULL). */
struct ind_ctx {
  const char *ent; /* NULL: the park */
  int baseline_year;
  bool ledger, base_ledger;
};

/* ---- report_build.c: tree helpers (inv. 1) ---- */

int rb_db_fail(struct rb *r, const char *what);
cJSON *rb_chk(struct rb *r, cJSON *item);
void rb_num(struct rb *r, cJSON *o, const char *k, double v); /* null when not finite */
void rb_int(struct rb *r, cJSON *o, const char *k, int64_t v);
void rb_str(struct rb *r, cJSON *o, const char *k, const char *v);
void rb_bool(struct rb *r, cJSON *o, const char *k, bool v);
/* null at k and the reason at k_na */
__attribute__((format(printf, 4, 5))) void rb_na(struct rb *r, cJSON *o, const char *k, const char *fmt, ...);
/* v when avail (and finite), else null with the reason */
__attribute__((format(printf, 6, 7))) void rb_num_or(struct rb *r, cJSON *o, const char *k, bool avail, double v,
                                                     const char *fmt, ...);
cJSON *rb_obj(struct rb *r, cJSON *parent, const char *k);
cJSON *rb_arr(struct rb *r, cJSON *parent, const char *k);
cJSON *rb_row(struct rb *r, cJSON *array);

/* ---- report_build.c: times, local to the park ---- */

void rb_date_local(const struct ph_tz *tz, int64_t ms, char *buf, size_t cap);
void rb_time_at(struct rb *r, cJSON *o, const char *k, int64_t ms);
long rb_local_day(const struct ph_tz *tz, int64_t ms);
void rb_day_before(const char *date, char *buf, size_t cap);

/* ---- report_build.c: lookups and data checks ---- */

const struct ph_limits *rb_limits_for(const struct ph_report_env *env, const char *standard);
const struct ph_metric *rb_metric(const struct rb *r, int idx);
bool rb_standard_limits(const struct ph_limits *l, const char *code, const struct ph_hub_ent *e);
void rb_bind_ent(sqlite3_stmt *s, const char *park, const char *ent);
int rb_ent_metrics(struct rb *r, const char *ent, bool *measured);
int rb_any_data(struct rb *r, const char *ent, const char *code, int64_t from, int64_t to, bool *out);
int rb_park_codes(struct rb *r);

/* ---- the sections: ent_* add to an enterprise scope and to the park sums,
 * park_* add the park's from those sums. 0 or a code with r->err. ---- */

int rb_ent_emissions(struct rb *r, const struct ph_hub_ent *e, const bool *measured, cJSON *scope);
void rb_park_emissions(struct rb *r, cJSON *scope);
int rb_ent_compliance(struct rb *r, const struct ph_hub_ent *e, const bool *measured, cJSON *scope);
void rb_park_compliance(struct rb *r, cJSON *scope);
int rb_ent_pcdd_f(struct rb *r, const struct ph_hub_ent *e, cJSON *scope);
int rb_park_pcdd_f(struct rb *r, cJSON *scope);
int rb_ent_monitoring(struct rb *r, const struct ph_hub_ent *e, cJSON *scope, struct ph_monitoring_plan *p);
void rb_park_monitoring(struct rb *r, cJSON *scope, const struct ph_monitoring_plan *plans, int n);
int rb_ent_monitoring_period(struct rb *r, const struct ph_hub_ent *e, cJSON *scope);
int rb_indicators(struct rb *r, const struct ind_ctx *c, cJSON *scope);

#endif
