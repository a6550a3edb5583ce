/* cems.c — CEMS hourly and daily means, their limits and exceedances
 * (cems.h; tables of migration 2 in store_sql.h, SQL in cems_sql.h).
 *
 * Callers: the hub's writer thread, once a minute (between groups, on the
 * writer's connection); tests and tools on their own connection.
 * Threads: the caller's. Owns: nothing between calls (temp tables of the
 * connection are scratch space, emptied at the start of each call).
 *
 * One call:
 *
 *   BEGIN IMMEDIATE (or SAVEPOINT inside the caller's transaction)
 *   → temp tables: emission metrics, product codes
 *   → cems_dirty_materials → cems_dirty_days (local day of each outgoing material)
 *   → closed dirty hours (≤ max_work, oldest first) → cems_t_hour
 *   → their points' kinds, hour ends, local days, limits → cems_t_pt/_hmap/_lim
 *   → cems_hours (minute rollups, or the hour rollup for hourly data)
 *   → operating states of those point-hours and their enterprises
 *     (cems_op_hours, cems_ent_op_hours; monitoring.h reads them)
 *   → their days into cems_dirty_days; hour exceedances; cems_dirty rows done
 *   → unless the bound stopped the hours: closed dirty enterprise-days →
 *     Q_total, product, ratio → cems_ent_days, cems_days, day exceedances;
 *     cems_dirty_days rows done
 *   → cems_state → COMMIT
 *
 * Invariants:
 *  1. a (series, hour) is computed only after hour start + 1 h + grace ≤ now
 *     (≥ its end: a local hour is never longer than an hour), an
 *     enterprise-day only after its local end + grace ≤ now.
 *  2. every rollup hour row written (insert or update) leaves a cems_dirty
 *     row (ph_store_rollup, same transaction as the rollup), removed only by the
 *     call that recomputed that hour: late data is never missed.
 *  3. a day is recomputed only when no closed hour is left dirty (the bound
 *     did not stop the hours), so its hours are final when it is summed.
 *  4. the results depend only on rollups, materials, config and limits:
 *     recomputing a period gives the same rows (idempotent); exceedances
 *     keep their id and recorded_ms while they persist.
 *  5. the hours written in a call are re-aggregated in the same call
 *     (cems_agg_days, cems_agg_sql.h): the whole local day of each, for
 *     every emission series of its point, so a late hour reopening a
 *     closed day leaves that day's row equal to a recomputation; and so
 *     are the 8-day blocks and the month cells of those days and of the
 *     daily means written (cems_agg_blocks, cems_day_blocks,
 *     cems_agg_months, cems_day_months), each from its day rows.
 */
#include "domain/cems.h"
#include "domain/cems_spans.h"

#include <stdio.h>
#include <string.h>

#include "cems_agg_sql.h"
#include "cems_sql.h"
#include "domain/ent_limits.h"
#include "domain/stmt_cache.h"
#include "parkhub/log.h"
#include "parkhub/timefmt.h"

#define MOD "cems"
#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL

enum ph_cems_kind ph_cems_kind_of(double interval_s) {
  if (interval_s >= 3600) return PH_CEMS_HOURLY_DATA;
  if (interval_s >= 60) return PH_CEMS_MINUTE_DATA;
  return PH_CEMS_SAMPLES;
}

bool ph_cems_is_product(const struct ph_hub_park *p, const struct ph_catalog *cat, const char *material) {
  return ph_material_role(p ? &p->materials : NULL, cat, material) == PH_ROLE_PRODUCT;
}

int64_t ph_cems_next_hour(const struct ph_tz *tz, int64_t hour_ms) {
  int64_t h1 = ph_tz_hour_start(tz, hour_ms + HOUR_MS);
  return h1 > hour_ms ? h1 : hour_ms + HOUR_MS;
}

/* A park-year summary counts a year of hours per point and figure: whole
 * local days of 24 hours under one offset are counted a day at a time
 * (the same count, a twentieth of the zone lookups); DST days and the
 * range's edges hour by hour. */
static int64_t count_hours(const struct ph_tz *tz, int64_t from_ms, int64_t to_ms) {
  int64_t n = 0, h = ph_tz_hour_start(tz, from_ms);
  if (h < from_ms) h = ph_cems_next_hour(tz, h);
  while (h < to_ms) {
    if (ph_tz_day_start(tz, h) == h) {
      int64_t d1 = ph_tz_next_day(tz, h);
      if (d1 <= to_ms && d1 - h == 24 * HOUR_MS && ph_tz_offset_s(tz, h) == ph_tz_offset_s(tz, d1 - 1)) {
        n += 24;
        h = d1;
        continue;
      }
    }
    n++;
    h = ph_cems_next_hour(tz, h);
  }
  return n;
}

int64_t ph_cems_count_hours(const struct ph_tz *tz, int64_t from_ms, int64_t to_ms) {
  int64_t n;
  if (ph_stmt_count_get(0, tz, from_ms, to_ms, &n)) return n; /* asked already by this summary (stmt_cache.h) */
  n = count_hours(tz, from_ms, to_ms);
  ph_stmt_count_put(0, tz, from_ms, to_ms, n);
  return n;
}

int64_t ph_cems_count_days(const struct ph_tz *tz, int64_t from_ms, int64_t to_ms) {
  int64_t n = 0, d;
  if (ph_stmt_count_get(1, tz, from_ms, to_ms, &n)) return n; /* as ph_cems_count_hours */
  d = ph_tz_day_start(tz, from_ms);
  if (d < from_ms) d = ph_tz_next_day(tz, d);
  for (; d < to_ms; d = ph_tz_next_day(tz, d)) n++;
  ph_stmt_count_put(1, tz, from_ms, to_ms, n);
  return n;
}

/* ---- one call's state ---- */

enum {
  S_METRICS, S_METRIC_ADD, S_PRODUCT_ADD, S_MAT_DIRTY, S_MAT_CLEAR, S_DAY_DIRTY, S_WORK_HOURS, S_WORK_POINTS,
  S_ENT_POINTS, S_PT_ADD, S_ENT_ADD, S_HMAP_NEED, S_HMAP_ADD, S_LIM_NEED, S_LIM_ADD, S_HOURS_MIN, S_HOURS_HOURLY,
  S_OP_POINTS, S_OP_ENTS, S_DAYS_OF_HOURS, S_HOUR_EXC_DROP, S_HOUR_EXC_PUT, S_HOURS_DONE, S_DIRTY_DAYS, S_DAY_ADD, S_DAY_INPUTS,
  S_DAY_RATIO, S_ENT_DAYS_PUT, S_DAYS_PUT, S_DAY_EXC_DROP, S_DAY_EXC_PUT, S_DAYS_DONE, S_PENDING_HOUR,
  S_PENDING_DAY, S_STATE_PUT, S_AGG_KEYS, S_AGG_DROP, S_AGG_PUT, S_BLK_CLEAR, S_BLK_KEYS, S_BLK_DROP,
  S_BLK_PUT, S_DBLK_KEYS, S_DBLK_DROP, S_DBLK_PUT, S_MON_CLEAR, S_MON_KEYS, S_MON_DROP, S_MON_PUT, S_DMON_KEYS,
  S_DMON_DROP, S_DMON_PUT, S_COUNT
};

static const char *const sql[S_COUNT] = {
    CEMS_SQL_METRICS,           CEMS_SQL_METRIC_ADD,        CEMS_SQL_PRODUCT_ADD,   CEMS_SQL_MAT_DIRTY,
    CEMS_SQL_MAT_CLEAR,         CEMS_SQL_DAY_DIRTY,         CEMS_SQL_WORK_HOURS,    CEMS_SQL_WORK_POINTS,
    CEMS_SQL_ENT_POINTS,        CEMS_SQL_PT_ADD,            CEMS_SQL_ENT_ADD,       CEMS_SQL_HMAP_NEED,
    CEMS_SQL_HMAP_ADD,          CEMS_SQL_LIM_NEED,          CEMS_SQL_LIM_ADD,       CEMS_SQL_HOURS_FROM_MINUTES,
    CEMS_SQL_HOURS_FROM_HOURLY, CEMS_SQL_OP_POINTS, CEMS_SQL_OP_ENTS, CEMS_SQL_DAYS_OF_HOURS,     CEMS_SQL_HOUR_EXC_DROP, CEMS_SQL_HOUR_EXC_PUT,
    CEMS_SQL_HOURS_DONE,        CEMS_SQL_DIRTY_DAYS,        CEMS_SQL_DAY_ADD,       CEMS_SQL_DAY_INPUTS,
    CEMS_SQL_DAY_RATIO,         CEMS_SQL_ENT_DAYS_PUT,      CEMS_SQL_DAYS_PUT,      CEMS_SQL_DAY_EXC_DROP,
    CEMS_SQL_DAY_EXC_PUT,       CEMS_SQL_DAYS_DONE,         CEMS_SQL_PENDING_HOUR,  CEMS_SQL_PENDING_DAY,
    CEMS_SQL_STATE_PUT,         CEMS_AGG_SQL_KEYS,          CEMS_AGG_SQL_DROP,      CEMS_AGG_SQL_PUT,
    CEMS_AGG_SQL_BLK_CLEAR,     CEMS_AGG_SQL_BLK_KEYS,      CEMS_AGG_SQL_BLK_DROP,  CEMS_AGG_SQL_BLK_PUT,
    CEMS_AGG_SQL_DBLK_KEYS,     CEMS_AGG_SQL_DBLK_DROP,     CEMS_AGG_SQL_DBLK_PUT,  CEMS_AGG_SQL_MON_CLEAR,
    CEMS_AGG_SQL_MON_KEYS,      CEMS_AGG_SQL_MON_DROP,      CEMS_AGG_SQL_MON_PUT,   CEMS_AGG_SQL_DMON_KEYS,
    CEMS_AGG_SQL_DMON_DROP,     CEMS_AGG_SQL_DMON_PUT,
};

struct run {
  sqlite3 *db;
  const struct ph_hub_config *cfg;
  struct ph_tz *const *tz;
  struct ph_limits *const *limits;
  size_t nlimits;
  const struct ph_catalog *cat;
  int64_t now;
  struct ph_err *err;
  int64_t warned_key; /* last enterprise warned about a missing standard in this call */
  sqlite3_stmt *st[S_COUNT];
};

static int db_fail(struct run *r, const char *what) {
  int e = sqlite3_errcode(r->db);
  int code = e == SQLITE_FULL ? PH_EFULL : e == SQLITE_NOMEM ? PH_ENOMEM : PH_EDB;
  return ph_fail(r->err, code, "cems: %s: %s", what, sqlite3_errmsg(r->db));
}

/* Statement i, prepared on first use in this call, reset otherwise. NULL
 * (with r->err set) when it cannot be prepared. */
static sqlite3_stmt *stmt(struct run *r, int i) {
  if (r->st[i]) {
    sqlite3_reset(r->st[i]);
    sqlite3_clear_bindings(r->st[i]);
  } else if (sqlite3_prepare_v2(r->db, sql[i], -1, &r->st[i], NULL) != SQLITE_OK) {
    sqlite3_finalize(r->st[i]);
    r->st[i] = NULL;
    db_fail(r, "preparing a statement");
  }
  return r->st[i];
}

#define STMT(r, i, s)                                                                                              \
  sqlite3_stmt *s = stmt(r, i);                                                                                    \
  if (!s) return r->err->code

/* Steps a statement that returns no rows; 0 or an error. */
static int run_done(struct run *r, sqlite3_stmt *s, const char *what) {
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : db_fail(r, what);
}

/* Runs statement i with up to two integer parameters. */
static int exec_ints(struct run *r, int i, int n, int64_t a, int64_t b, const char *what) {
  STMT(r, i, s);
  if (n > 0) sqlite3_bind_int64(s, 1, a);
  if (n > 1) sqlite3_bind_int64(s, 2, b);
  return run_done(r, s, what);
}

static int exec_sql(sqlite3 *db, const char *text, struct ph_err *err) {
  char *msg = NULL;
  if (sqlite3_exec(db, text, NULL, NULL, &msg) == SQLITE_OK) return 0;
  int code = sqlite3_errcode(db) == SQLITE_FULL ? PH_EFULL : PH_EDB;
  ph_fail(err, code, "cems: %.48s…: %s", text, msg ? msg : sqlite3_errmsg(db));
  sqlite3_free(msg);
  return code;
}

/* ---- configuration lookups ---- */

static int find_ent(const struct ph_hub_config *cfg, const char *park, const char *ent, int *pi, int *ei) {
  if (!park || !ent) return PH_ENOTFOUND;
  for (int p = 0; p < cfg->nparks; p++) {
    if (strcmp(cfg->parks[p].id, park) != 0) continue;
    for (int e = 0; e < cfg->parks[p].nents; e++)
      if (strcmp(cfg->parks[p].ents[e].id, ent) == 0) {
        *pi = p;
        *ei = e;
        return 0;
      }
    break;
  }
  return PH_ENOTFOUND;
}

static int64_t ent_key(int pi, int ei) { return (int64_t)pi * PH_HUB_MAX_ENTS + ei; }

static const struct ph_hub_ent *ent_of_key(const struct run *r, int64_t key, int *pi) {
  *pi = (int)(key / PH_HUB_MAX_ENTS);
  return &r->cfg->parks[*pi].ents[key % PH_HUB_MAX_ENTS];
}

static const struct ph_limits *limits_for(const struct run *r, const char *standard) {
  return ph_limits_pick(r->limits, r->nlimits, standard);
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

/* Local calendar date (days since 1970-01-01) of the local day starting at day_ms. */
static long local_day(const struct ph_tz *tz, int64_t day_ms) {
  return (long)floor_div(day_ms + (int64_t)ph_tz_offset_s(tz, day_ms) * 1000, DAY_MS);
}

/* ---- steps ---- */

static int fill_catalogue(struct run *r) {
  STMT(r, S_METRICS, q);
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    const char *code = (const char *)sqlite3_column_text(q, 1);
    int idx = code ? ph_catalog_find(r->cat, code, strlen(code)) : -1;
    const struct ph_metric *m = idx >= 0 ? ph_catalog_at(r->cat, (size_t)idx) : NULL;
    if (!m || m->kind != PH_KIND_EMISSION) continue;
    STMT(r, S_METRIC_ADD, a);
    sqlite3_bind_int64(a, 1, sqlite3_column_int64(q, 0));
    sqlite3_bind_int(a, 2, strstr(m->unit, "/Nm3") != NULL);
    if ((rc = run_done(r, a, "listing emission metrics"))) return rc;
  }
  sqlite3_reset(q);
  if (rc != SQLITE_DONE) return db_fail(r, "reading metrics");
  /* products per park: the catalogue's materials and the park's own codes, by the park's registry */
  size_t ncat = ph_catalog_count(r->cat);
  for (int pi = 0; pi < r->cfg->nparks; pi++) {
    const struct ph_hub_park *p = &r->cfg->parks[pi];
    for (size_t i = 0; i < ncat + (size_t)p->materials.n; i++) {
      const char *code = i < ncat ? ph_catalog_at(r->cat, i)->code : p->materials.v[i - ncat].code;
      if (!ph_cems_is_product(p, r->cat, code)) continue;
      STMT(r, S_PRODUCT_ADD, a);
      sqlite3_bind_text(a, 1, p->id, -1, SQLITE_STATIC);
      sqlite3_bind_text(a, 2, code, -1, SQLITE_STATIC);
      if ((rc = run_done(r, a, "listing products"))) return rc;
    }
  }
  return 0;
}

static int mark_day(struct run *r, const char *park, const char *ent, int64_t day_ms) {
  STMT(r, S_DAY_DIRTY, a);
  sqlite3_bind_text(a, 1, park, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(a, 2, ent, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(a, 3, day_ms);
  return run_done(r, a, "marking a day");
}

/* Outgoing materials since the last call: their enterprise-day is reconverted. */
static int materials_to_days(struct run *r) {
  STMT(r, S_MAT_DIRTY, q);
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    const char *park = (const char *)sqlite3_column_text(q, 0), *ent = (const char *)sqlite3_column_text(q, 1);
    int pi, ei;
    if (find_ent(r->cfg, park, ent, &pi, &ei)) continue; /* not configured: nothing to convert */
    if ((rc = mark_day(r, park, ent, ph_tz_day_start(r->tz[pi], sqlite3_column_int64(q, 2))))) return rc;
  }
  sqlite3_reset(q);
  if (rc != SQLITE_DONE) return db_fail(r, "reading new materials");
  return exec_ints(r, S_MAT_CLEAR, 0, 0, 0, "clearing new materials");
}

/* A point of a configured enterprise into cems_t_pt (and its enterprise into cems_t_ent). */
static int add_point(struct run *r, int64_t point_id, const char *park, const char *ent, const char *point) {
  int pi, ei;
  if (!point || find_ent(r->cfg, park, ent, &pi, &ei)) return 0; /* not configured: not computed */
  const struct ph_hub_ent *e = &r->cfg->parks[pi].ents[ei];
  STMT(r, S_PT_ADD, a);
  sqlite3_bind_int64(a, 1, point_id);
  sqlite3_bind_int64(a, 2, ent_key(pi, ei));
  sqlite3_bind_int(a, 3, pi);
  sqlite3_bind_int(a, 4, (int)ph_cems_kind_of(ph_hub_point_interval(e, point)));
  int rc = run_done(r, a, "listing points");
  if (rc) return rc;
  STMT(r, S_ENT_ADD, b);
  sqlite3_bind_int64(b, 1, ent_key(pi, ei));
  sqlite3_bind_text(b, 2, e->standard, -1, SQLITE_STATIC);
  return run_done(r, b, "listing enterprises");
}

/* Rows (id, park, ent, point) of query q into cems_t_pt; q is bound already. */
static int add_points(struct run *r, sqlite3_stmt *q) {
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    char park[PH_ID_MAX + 1], ent[PH_ID_MAX + 1], point[PH_ID_MAX + 1];
    snprintf(park, sizeof park, "%s", (const char *)sqlite3_column_text(q, 1));
    snprintf(ent, sizeof ent, "%s", (const char *)sqlite3_column_text(q, 2));
    snprintf(point, sizeof point, "%s", (const char *)sqlite3_column_text(q, 3));
    if ((rc = add_point(r, sqlite3_column_int64(q, 0), park, ent, point))) {
      sqlite3_reset(q);
      return rc;
    }
  }
  sqlite3_reset(q);
  return rc == SQLITE_DONE ? 0 : db_fail(r, "reading points");
}

/* Limits in force for an enterprise on the local day starting at d0. */
static int add_limits(struct run *r, int64_t key, int64_t d0) {
  int pi;
  const struct ph_hub_ent *e = ent_of_key(r, key, &pi);
  const struct ph_limits *l = limits_for(r, e->standard);
  if (!l) {
    if (r->warned_key != key)
      PH_WARN(MOD, "%s/%s: standard '%s' is not loaded: its means are stored without a limit",
              r->cfg->parks[pi].id, e->id, e->standard);
    r->warned_key = key;
    return 0;
  }
  long day = local_day(r->tz[pi], d0);
  enum ph_plant_class cls = ph_ent_class_on(e, day);
  for (size_t i = 0; i < ph_limits_count(l); i++) {
    const char *code = ph_limits_metric(l, i);
    double v;
    if (ph_limits_stack(l, code, (enum ph_sector)e->sector, cls, e->special_limits, day, &v)) continue;
    STMT(r, S_LIM_ADD, a);
    sqlite3_bind_int64(a, 1, key);
    sqlite3_bind_int64(a, 2, d0);
    sqlite3_bind_text(a, 3, code, -1, SQLITE_STATIC);
    sqlite3_bind_double(a, 4, v);
    int rc = run_done(r, a, "listing limits");
    if (rc) return rc;
  }
  return 0;
}

/* Hour ends and local days of the hours in cems_t_hour (per park's zone). */
static int fill_hour_map(struct run *r) {
  STMT(r, S_HMAP_NEED, q);
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int pi = sqlite3_column_int(q, 0);
    int64_t h0 = sqlite3_column_int64(q, 1);
    int64_t h1 = ph_cems_next_hour(r->tz[pi], h0);
    STMT(r, S_HMAP_ADD, a);
    sqlite3_bind_int(a, 1, pi);
    sqlite3_bind_int64(a, 2, h0);
    sqlite3_bind_int64(a, 3, h1);
    sqlite3_bind_int64(a, 4, ph_tz_day_start(r->tz[pi], h0));
    if ((rc = run_done(r, a, "mapping hours"))) {
      sqlite3_reset(q);
      return rc;
    }
  }
  sqlite3_reset(q);
  if (rc != SQLITE_DONE) return db_fail(r, "mapping hours");
  STMT(r, S_LIM_NEED, l);
  while ((rc = sqlite3_step(l)) == SQLITE_ROW) {
    int e = add_limits(r, sqlite3_column_int64(l, 0), sqlite3_column_int64(l, 1));
    if (e) {
      sqlite3_reset(l);
      return e;
    }
  }
  sqlite3_reset(l);
  return rc == SQLITE_DONE ? 0 : db_fail(r, "listing limits");
}

/* The closed dirty hours (at most max_work): means, days to redo,
 * exceedances. *all_done: no closed dirty hour is left. */
static int do_hours(struct run *r, long max_work, bool *all_done) {
  int64_t cut = r->now - PH_CEMS_GRACE_MS - HOUR_MS; /* inv. 1 */
  int rc = exec_ints(r, S_WORK_HOURS, 2, cut, max_work, "selecting closed hours");
  if (rc) return rc;
  *all_done = sqlite3_changes(r->db) < max_work;
  STMT(r, S_WORK_POINTS, q);
  if ((rc = add_points(r, q)) || (rc = fill_hour_map(r))) return rc;
  if ((rc = exec_ints(r, S_HOURS_MIN, 2, PH_CEMS_HOUR_MINUTES, PH_CEMS_MINUTE_VALUES, "hourly means")) ||
      (rc = exec_ints(r, S_HOURS_HOURLY, 0, 0, 0, "hourly data")) ||
      (rc = exec_ints(r, S_AGG_KEYS, 0, 0, 0, "days to aggregate")) ||
      (rc = exec_ints(r, S_AGG_DROP, 0, 0, 0, "daily aggregates")) ||
      (rc = exec_ints(r, S_AGG_PUT, 0, 0, 0, "daily aggregates")) ||
      (rc = exec_ints(r, S_BLK_CLEAR, 0, 0, 0, "aggregate blocks")) ||
      (rc = exec_ints(r, S_BLK_KEYS, 0, 0, 0, "aggregate blocks")) ||
      (rc = exec_ints(r, S_BLK_DROP, 0, 0, 0, "aggregate blocks")) ||
      (rc = exec_ints(r, S_BLK_PUT, 0, 0, 0, "aggregate blocks")) ||
      (rc = exec_ints(r, S_MON_CLEAR, 0, 0, 0, "aggregate months")) ||
      (rc = exec_ints(r, S_MON_KEYS, 0, 0, 0, "aggregate months")) ||
      (rc = exec_ints(r, S_MON_DROP, 0, 0, 0, "aggregate months")) ||
      (rc = exec_ints(r, S_MON_PUT, 0, 0, 0, "aggregate months")) ||
      (rc = exec_ints(r, S_OP_POINTS, 0, 0, 0, "operating states of points")) ||
      (rc = exec_ints(r, S_OP_ENTS, 0, 0, 0, "operating states of enterprises")) ||
      (rc = exec_ints(r, S_DAYS_OF_HOURS, 0, 0, 0, "marking days")) ||
      (rc = exec_ints(r, S_HOUR_EXC_DROP, 0, 0, 0, "hour exceedances")) ||
      (rc = exec_ints(r, S_HOUR_EXC_PUT, 1, r->now, 0, "hour exceedances")))
    return rc;
  return exec_ints(r, S_HOURS_DONE, 0, 0, 0, "clearing hours done");
}

/* One dirty enterprise-day: into cems_t_day when closed (with its points
 * and limits), or as a row to drop when the enterprise is not configured. */
static int take_day(struct run *r, const char *park, const char *ent, int64_t d0) {
  int pi, ei;
  STMT(r, S_DAY_ADD, a);
  sqlite3_bind_text(a, 1, park, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(a, 2, ent, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(a, 3, d0);
  if (find_ent(r->cfg, park, ent, &pi, &ei)) {
    sqlite3_bind_int64(a, 4, d0);
    sqlite3_bind_int64(a, 5, -1);
    sqlite3_bind_double(a, 6, 0);
    sqlite3_bind_text(a, 7, "", -1, SQLITE_STATIC);
    return run_done(r, a, "listing days");
  }
  int64_t d1 = ph_tz_next_day(r->tz[pi], d0);
  if (d1 + PH_CEMS_GRACE_MS > r->now) {
    sqlite3_reset(a);
    return 0; /* not closed yet (inv. 1) */
  }
  const struct ph_hub_ent *e = &r->cfg->parks[pi].ents[ei];
  const struct ph_limits *l = limits_for(r, e->standard);
  sqlite3_bind_int64(a, 4, d1);
  sqlite3_bind_int64(a, 5, ent_key(pi, ei));
  sqlite3_bind_double(a, 6, l ? ph_limits_benchmark(l) : 0);
  sqlite3_bind_text(a, 7, e->standard, -1, SQLITE_STATIC);
  int rc = run_done(r, a, "listing days");
  if (rc) return rc;
  STMT(r, S_ENT_POINTS, q);
  sqlite3_bind_text(q, 1, park, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(q, 2, ent, -1, SQLITE_TRANSIENT);
  if ((rc = add_points(r, q))) return rc;
  return add_limits(r, ent_key(pi, ei), d0);
}

/* The closed dirty enterprise-days: conversion ratio, daily means, exceedances. */
static int do_days(struct run *r) {
  STMT(r, S_DIRTY_DAYS, q);
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    char park[PH_ID_MAX + 1], ent[PH_ID_MAX + 1];
    snprintf(park, sizeof park, "%s", (const char *)sqlite3_column_text(q, 0));
    snprintf(ent, sizeof ent, "%s", (const char *)sqlite3_column_text(q, 1));
    int e = take_day(r, park, ent, sqlite3_column_int64(q, 2));
    if (e) {
      sqlite3_reset(q);
      return e;
    }
  }
  sqlite3_reset(q);
  if (rc != SQLITE_DONE) return db_fail(r, "reading dirty days");
  STMT(r, S_DAY_INPUTS, in);
  sqlite3_bind_text(in, 1, PH_CEMS_FLOW, -1, SQLITE_STATIC);
  if ((rc = run_done(r, in, "flue-gas volume and production")) ||
      (rc = exec_ints(r, S_DAY_RATIO, 0, 0, 0, "benchmark ratio")) ||
      (rc = exec_ints(r, S_ENT_DAYS_PUT, 0, 0, 0, "enterprise days")) ||
      (rc = exec_ints(r, S_DAYS_PUT, 1, PH_CEMS_DAY_HOURS, 0, "daily means")) ||
      (rc = exec_ints(r, S_BLK_CLEAR, 0, 0, 0, "daily mean blocks")) ||
      (rc = exec_ints(r, S_DBLK_KEYS, 0, 0, 0, "daily mean blocks")) ||
      (rc = exec_ints(r, S_DBLK_DROP, 0, 0, 0, "daily mean blocks")) ||
      (rc = exec_ints(r, S_DBLK_PUT, 0, 0, 0, "daily mean blocks")) ||
      (rc = exec_ints(r, S_MON_CLEAR, 0, 0, 0, "daily mean months")) ||
      (rc = exec_ints(r, S_DMON_KEYS, 0, 0, 0, "daily mean months")) ||
      (rc = exec_ints(r, S_DMON_DROP, 0, 0, 0, "daily mean months")) ||
      (rc = exec_ints(r, S_DMON_PUT, 0, 0, 0, "daily mean months")) ||
      (rc = exec_ints(r, S_DAY_EXC_DROP, 0, 0, 0, "day exceedances")) ||
      (rc = exec_ints(r, S_DAY_EXC_PUT, 1, r->now, 0, "day exceedances")))
    return rc;
  return exec_ints(r, S_DAYS_DONE, 0, 0, 0, "clearing days done");
}

static int min_of(struct run *r, int i, int64_t bound, int64_t *out) {
  STMT(r, i, s);
  sqlite3_bind_int64(s, 1, bound);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL && sqlite3_column_int64(s, 0) < *out)
    *out = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? 0 : db_fail(r, "reading what is left");
}

static int save_state(struct run *r, bool all_done) {
  int64_t closed = r->now - PH_CEMS_GRACE_MS;
  if (!all_done) { /* final only up to the oldest hour (and day) still waiting */
    int rc = min_of(r, S_PENDING_HOUR, r->now - PH_CEMS_GRACE_MS - HOUR_MS, &closed);
    if (!rc) rc = min_of(r, S_PENDING_DAY, r->now - PH_CEMS_GRACE_MS - DAY_MS, &closed);
    if (rc) return rc;
  }
  return exec_ints(r, S_STATE_PUT, 2, r->now, closed, "saving the state");
}

static int update(struct run *r, long max_work, bool *all_done) {
  int rc;
  if ((rc = exec_sql(r->db, CEMS_SQL_TEMP, r->err)) || (rc = exec_sql(r->db, CEMS_AGG_SQL_TEMP, r->err)) || (rc = fill_catalogue(r)) || (rc = materials_to_days(r)) ||
      (rc = do_hours(r, max_work, all_done)))
    return rc;
  if (*all_done && (rc = do_days(r))) return rc; /* inv. 3 */
  return save_state(r, *all_done);
}

int ph_cems_update_some(sqlite3 *db, const struct ph_refs *refs, int64_t now_ms, long max_work, struct ph_err *err) {
  struct ph_err lerr = {0};
  if (!err) err = &lerr;
  if (!db || !refs || !refs->cfg || !refs->cat || max_work < 1)
    return ph_fail(err, PH_EINVAL, "cems: update: missing argument");
  const struct ph_hub_config *cfg = refs->cfg;
  struct ph_tz *const *tz = refs->tz;
  size_t nlimits = refs->nlimits;
  struct ph_limits *const *limits = refs->limits;
  const struct ph_catalog *cat = refs->cat;
  for (int p = 0; p < cfg->nparks; p++)
    if (!tz[p]) return ph_fail(err, PH_EINVAL, "cems: update: no time zone for park %s", cfg->parks[p].id);
  struct run r = {.db = db, .cfg = cfg, .tz = tz, .limits = limits, .nlimits = nlimits, .cat = cat, .now = now_ms,
                  .err = err, .warned_key = -1};
  bool own = sqlite3_get_autocommit(db) != 0;
  int rc = exec_sql(db, own ? "BEGIN IMMEDIATE" : "SAVEPOINT ph_cems", err);
  if (rc) return rc;
  bool all_done = true;
  rc = update(&r, max_work, &all_done);
  for (int i = 0; i < S_COUNT; i++) sqlite3_finalize(r.st[i]);
  if (!rc) rc = exec_sql(db, own ? "COMMIT" : "RELEASE ph_cems", err);
  if (rc) {
    exec_sql(db, own ? "ROLLBACK" : "ROLLBACK TO ph_cems; RELEASE ph_cems", NULL);
    return rc;
  }
  return all_done ? 0 : 1;
}

int ph_cems_update(sqlite3 *db, const struct ph_refs *refs, int64_t now_ms, struct ph_err *err) {
  return ph_cems_update_some(db, refs, now_ms, PH_CEMS_MAX_WORK, err);
}

int ph_cems_invalidate(sqlite3 *db, int64_t from_ms, int64_t to_ms, struct ph_err *err) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(db, CEMS_SQL_INVALIDATE, -1, &s, NULL) != SQLITE_OK)
    return ph_fail(err, PH_EDB, "cems: invalidate: %s", sqlite3_errmsg(db));
  sqlite3_bind_int64(s, 1, from_ms);
  sqlite3_bind_int64(s, 2, to_ms);
  int rc = sqlite3_step(s);
  sqlite3_finalize(s);
  return rc == SQLITE_DONE ? 0 : ph_fail(err, PH_EDB, "cems: invalidate: %s", sqlite3_errmsg(db));
}

int ph_cems_closed_until(sqlite3 *db, int64_t *closed_ms, struct ph_err *err) {
  sqlite3_stmt *s;
  *closed_ms = 0;
  if (ph_cems_spans_closed_get(closed_ms)) return 0; /* a whole-park summary or report asked already */
  /* prepared once per summary or report (stmt_cache.h): asked by every figure */
  if (ph_stmt_prepare(db, CEMS_SQL_STATE_GET, &s) != SQLITE_OK) {
    ph_stmt_release(s);
    return ph_fail(err, PH_EDB, "cems: state: %s", sqlite3_errmsg(db));
  }
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) *closed_ms = sqlite3_column_int64(s, 0);
  ph_stmt_release(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return ph_fail(err, PH_EDB, "cems: state: %s", sqlite3_errmsg(db));
  ph_cems_spans_closed_put(*closed_ms);
  return 0;
}
