/* api_query.c — the HTTP API's data handlers but series (api_series.c):
 * parks, enterprises with their agents' presence, points with their latest
 * values, the park summary, alarms and their acknowledgement.
 *
 * Callers: api.c's dispatch, after access and park checks. Threads: a
 * worker's, on its read connection, inside the request's read transaction
 * (the ack excepted: it calls the hub, then reads).
 *
 * Invariants:
 *  1. enterprises are the configured ones of the park, in config order;
 *     data of anything else in the database is not shown.
 *  2. summary figures come from the modules that own them
 *     (ph_emission_mass_compute, ph_compliance_summary): the API adds no
 *     arithmetic of its own but totals.
 *  3. the alarms table is optional: absent, lists are empty and counts 0;
 *     present, its columns are read by name, so it may gain columns.
 *  4. an ack body is one JSON object, whitespace after it at most, and
 *     holds no U+0000 (raw or \u0000): what the hub records as `by` is
 *     exactly what was sent, never a cut-short string. Same rule as the
 *     MQTT cmd/ack (ph_ack_decode).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "parkhub/alloc.h"
#include "domain/cems.h"
#include "domain/compliance.h"
#include "domain/emission_mass.h"
#include "domain/monitoring.h"
#include "domain/ent_limits.h"
#include "parkhub/jsonfile.h"
#include "parkhub/log.h"
#include "parkhub/timefmt.h"
#include "parkhub/topic.h"
#include "parkhub/tz.h"
#include "domain/water.h"

#define MOD "api"
#define DAY_MS 86400000LL
#define SUMMARY_MAX_MS (400 * DAY_MS)
#define NSEV 4

static const char *const no_args[] = {NULL};

static const char *text(sqlite3_stmt *s, int col) {
  const unsigned char *t = sqlite3_column_text(s, col);
  return t ? (const char *)t : "";
}

static void set_ctype(struct api_req *r) { r->ctype = r->csv ? "text/csv; charset=utf-8" : "application/json"; }

static void finish_json(struct api_req *r, struct api_json *j) {
  aj_end_obj(j);
  api_buf_put(&r->out, "\n", 1);
}

/* ---- GET /api/v1/parks ---- */

int api_get_parks(struct api_req *r) {
  if (api_args_check(r, no_args)) return r->status;
  const struct ph_hub_config *cfg = r->env->refs->cfg;
  struct api_json j;
  struct api_csv c;
  set_ctype(r);
  if (r->csv) {
    ac_init(&c, &r->out);
    ac_line(&c, "park,name,tz,enterprises");
  } else {
    aj_init(&j, &r->out);
    aj_obj(&j, NULL);
    aj_arr(&j, "parks");
  }
  for (int i = 0; i < cfg->nparks; i++) {
    const struct ph_hub_park *p = &cfg->parks[i];
    if (!api_token_sees(r->tok, p->id)) continue;
    if (r->csv) {
      ac_str(&c, p->id);
      ac_str(&c, p->name);
      ac_str(&c, p->tz);
      ac_int(&c, p->nents);
      ac_end(&c);
    } else {
      aj_obj(&j, NULL);
      aj_str(&j, "park", p->id);
      aj_str(&j, "name", p->name);
      aj_str(&j, "tz", p->tz);
      aj_int(&j, "enterprises", p->nents);
      aj_end_obj(&j);
    }
  }
  if (!r->csv) {
    aj_end_arr(&j);
    finish_json(r, &j);
  }
  return 200;
}

/* ---- GET /api/v1/parks/{park}/enterprises ---- */

struct agent_row {
  char ent[PH_ID_MAX + 1], agent[PH_ID_MAX + 1], state[16];
  bool has_status, has_depth;
  int64_t ts_ms, depth;
};

static int cmp_agent(const void *pa, const void *pb) {
  const struct agent_row *a = pa, *b = pb;
  int c = strcmp(a->ent, b->ent);
  return c ? c : strcmp(a->agent, b->agent);
}

int api_get_enterprises(struct api_req *r) {
  if (api_args_check(r, no_args)) return r->status;
  sqlite3_stmt *s = api_stmt(r, API_ST_AGENTS);
  if (!s) return api_db_fail(r, "reading agents");
  sqlite3_bind_text(s, 1, r->park->id, -1, SQLITE_STATIC);
  struct agent_row *rows = NULL;
  size_t n = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      struct agent_row *p = ph_realloc(rows, cap * sizeof *p);
      if (!p) {
        ph_free(rows);
        return api_fail(r, 500, NULL, "out of memory");
      }
      rows = p;
    }
    struct agent_row *a = &rows[n++];
    memset(a, 0, sizeof *a);
    snprintf(a->ent, sizeof a->ent, "%s", text(s, 0));
    snprintf(a->agent, sizeof a->agent, "%s", text(s, 1));
    a->has_status = sqlite3_column_type(s, 2) != SQLITE_NULL;
    snprintf(a->state, sizeof a->state, "%s", a->has_status ? text(s, 2) : "unknown");
    a->ts_ms = sqlite3_column_int64(s, 3);
    a->has_depth = sqlite3_column_type(s, 4) != SQLITE_NULL;
    a->depth = sqlite3_column_int64(s, 4);
  }
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) {
    ph_free(rows);
    return api_db_fail(r, "reading agents");
  }
  set_ctype(r);
  struct api_json j;
  struct api_csv c;
  if (r->csv) {
    ac_init(&c, &r->out);
    ac_line(&c, "ent,name,sector,online,agents_online,agents,outbox_depth,last_status");
  } else {
    aj_init(&j, &r->out);
    aj_obj(&j, NULL);
    aj_str(&j, "park", r->park->id);
    aj_arr(&j, "enterprises");
  }
  for (int e = 0; e < r->park->nents; e++) {
    const struct ph_hub_ent *ent = &r->park->ents[e];
    int online = 0;
    int64_t depth = 0, last = -1;
    bool any_depth = false;
    const struct agent_row *found[PH_HUB_MAX_AGENTS];
    for (int k = 0; k < ent->nagents; k++) {
      struct agent_row key;
      snprintf(key.ent, sizeof key.ent, "%s", ent->id);
      snprintf(key.agent, sizeof key.agent, "%s", ent->agents[k]);
      found[k] = n ? bsearch(&key, rows, n, sizeof *rows, cmp_agent) : NULL;
      if (!found[k] || !found[k]->has_status) continue;
      online += !strcmp(found[k]->state, "online");
      if (found[k]->has_depth) depth += found[k]->depth, any_depth = true;
      if (found[k]->ts_ms > last) last = found[k]->ts_ms;
    }
    if (r->csv) {
      ac_str(&c, ent->id);
      ac_str(&c, ent->name);
      ac_str(&c, ph_sector_name(ent->sector));
      ac_str(&c, online ? "true" : "false");
      ac_int(&c, online);
      ac_int(&c, ent->nagents);
      if (any_depth)
        ac_int(&c, depth);
      else
        ac_str(&c, NULL);
      if (last >= 0)
        ac_time(&c, last);
      else
        ac_str(&c, NULL);
      ac_end(&c);
      continue;
    }
    aj_obj(&j, NULL);
    aj_str(&j, "ent", ent->id);
    aj_str(&j, "name", ent->name);
    aj_str(&j, "sector", ph_sector_name(ent->sector));
    aj_bool(&j, "online", online > 0);
    if (any_depth)
      aj_int(&j, "outbox_depth", depth);
    else
      aj_null(&j, "outbox_depth");
    if (last >= 0)
      aj_time(&j, "last_status", last);
    else
      aj_null(&j, "last_status");
    aj_arr(&j, "agents");
    for (int k = 0; k < ent->nagents; k++) {
      const struct agent_row *a = found[k];
      aj_obj(&j, NULL);
      aj_str(&j, "agent", ent->agents[k]);
      aj_str(&j, "state", a ? a->state : "unknown");
      if (a && a->has_status)
        aj_time(&j, "since", a->ts_ms);
      else
        aj_null(&j, "since");
      if (a && a->has_depth)
        aj_int(&j, "outbox_depth", a->depth);
      else
        aj_null(&j, "outbox_depth");
      aj_end_obj(&j);
    }
    aj_end_arr(&j);
    aj_end_obj(&j);
  }
  ph_free(rows);
  if (!r->csv) {
    aj_end_arr(&j);
    finish_json(r, &j);
  }
  return 200;
}

/* ---- GET /api/v1/parks/{park}/enterprises/{ent}/points ---- */

/* Today's local date in the park (days since 1970-01-01). */
static long park_today(const struct api_req *r) {
  int y, hour;
  unsigned m, d;
  if (!r->tz) return (long)(ph_now_ms() / 86400000);
  ph_tz_local_date(r->tz, ph_now_ms(), &y, &m, &d, &hour);
  return (long)ph_days_from_civil(y, m, d);
}

int api_get_points(struct api_req *r) {
  if (api_args_check(r, no_args)) return r->status;
  const char *ent = r->nseg > 1 ? r->seg[1] : "";
  const struct ph_hub_ent *e = ph_id_valid_z(ent) ? ph_hub_config_ent(r->park, ent) : NULL;
  if (!e) return api_fail(r, 404, NULL, "no enterprise %.64s in park %s", ent, r->park->id);
  long today = park_today(r);
  sqlite3_stmt *s = api_stmt(r, API_ST_POINTS);
  if (!s) return api_db_fail(r, "reading points");
  sqlite3_bind_text(s, 1, r->park->id, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, ent, -1, SQLITE_STATIC);
  set_ctype(r);
  struct api_json j;
  struct api_csv c;
  if (r->csv) {
    ac_init(&c, &r->out);
    ac_line(&c, "point,metric,unit,last,ts,limit");
  } else {
    aj_init(&j, &r->out);
    aj_obj(&j, NULL);
    aj_str(&j, "park", r->park->id);
    aj_str(&j, "ent", ent);
    aj_arr(&j, "points");
  }
  char cur[PH_ID_MAX + 1] = "";
  bool open = false;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const char *point = text(s, 0);
    bool has_metric = sqlite3_column_type(s, 1) != SQLITE_NULL;
    bool has_last = sqlite3_column_type(s, 2) != SQLITE_NULL;
    const char *code = has_metric ? text(s, 1) : NULL;
    const char *unit = NULL;
    if (code) {
      int mi = ph_catalog_find(r->env->refs->cat, code, strlen(code));
      unit = mi >= 0 ? ph_catalog_at(r->env->refs->cat, (size_t)mi)->unit : NULL;
    }
    int64_t ts = sqlite3_column_int64(s, 2);
    double last = sqlite3_column_double(s, 3), limit = 0;
    bool has_limit = code && r->env->refs->nlimits &&
                     ph_ent_stack_limit(r->env->refs->limits, r->env->refs->nlimits, e, code, today, &limit) == 0;
    if (r->csv) {
      ac_str(&c, point);
      ac_str(&c, code);
      ac_str(&c, unit);
      if (has_last) {
        ac_num(&c, last);
        ac_time(&c, ts);
      } else {
        ac_str(&c, NULL);
        ac_str(&c, NULL);
      }
      if (has_limit) ac_num(&c, limit);
      else ac_str(&c, NULL);
      ac_end(&c);
      continue;
    }
    if (!open || strcmp(cur, point)) {
      if (open) {
        aj_end_arr(&j);
        aj_end_obj(&j);
      }
      snprintf(cur, sizeof cur, "%s", point);
      aj_obj(&j, NULL);
      aj_str(&j, "point", point);
      aj_arr(&j, "metrics");
      open = true;
    }
    if (!code) continue;
    aj_obj(&j, NULL);
    aj_str(&j, "metric", code);
    aj_str(&j, "unit", unit);
    if (has_last) {
      aj_num(&j, "last", last);
      aj_time(&j, "ts", ts);
    } else {
      aj_null(&j, "last");
      aj_null(&j, "ts");
    }
    if (has_limit) aj_num(&j, "limit", limit);
    aj_end_obj(&j);
  }
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) return api_db_fail(r, "reading points");
  if (!r->csv) {
    if (open) {
      aj_end_arr(&j);
      aj_end_obj(&j);
    }
    aj_end_arr(&j);
    finish_json(r, &j);
  }
  return 200;
}

/* ---- GET /api/v1/parks/{park}/summary ---- */

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
};

struct ent_sum {
  int64_t alarms[NSEV];
  double in_t, out_t;
  double unclassified_in_t, unclassified_out_t; /* part of in_t, out_t */
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

static int load_pairs(struct api_req *r, int only, struct vec *pairs) {
  sqlite3_stmt *s = api_stmt(r, API_ST_ENT_METRICS);
  if (!s) return api_db_fail(r, "listing series");
  sqlite3_bind_text(s, 1, r->park->id, -1, SQLITE_STATIC);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    int e = ent_index(r->park, text(s, 0));
    if (e < 0 || (only >= 0 && e != only) || !pollutant(r->env->refs->cat, text(s, 1))) continue;
    struct pair *p = vec_add(pairs);
    if (!p) return api_fail(r, 500, NULL, "out of memory");
    p->ent = e;
    snprintf(p->metric, sizeof p->metric, "%s", text(s, 1));
  }
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : api_db_fail(r, "listing series");
}

static int load_materials(struct api_req *r, int only, int64_t from, int64_t to, struct vec *mats,
                          struct ent_sum *sums) {
  sqlite3_stmt *s = api_stmt(r, API_ST_MATERIALS);
  if (!s) return api_db_fail(r, "reading materials");
  sqlite3_bind_text(s, 1, r->park->id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, from);
  sqlite3_bind_int64(s, 3, to);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    int e = ent_index(r->park, text(s, 0));
    if (e < 0 || (only >= 0 && e != only)) continue;
    struct material_row *m = vec_add(mats);
    if (!m) return api_fail(r, 500, NULL, "out of memory");
    m->ent = e;
    snprintf(m->material, sizeof m->material, "%s", text(s, 1));
    m->role = ph_material_role(&r->park->materials, r->env->refs->cat, m->material);
    m->out = !strcmp(text(s, 2), "out");
    m->qty = sqlite3_column_double(s, 3);
    m->records = sqlite3_column_int64(s, 4);
    bool unclassified = m->role == PH_ROLE_UNCLASSIFIED;
    if (m->out) {
      sums[e].out_t += m->qty;
      sums[e].unclassified_out_t += unclassified ? m->qty : 0;
    } else {
      sums[e].in_t += m->qty;
      sums[e].unclassified_in_t += unclassified ? m->qty : 0;
    }
  }
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : api_db_fail(r, "reading materials");
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

static void csv_row(struct api_csv *c, const char *ent, const char *section, const char *item, double v,
                    const char *unit) {
  ac_str(c, ent);
  ac_str(c, section);
  ac_str(c, item);
  ac_num(c, v);
  ac_str(c, unit);
  ac_end(c);
}

/* Totals per pollutant across enterprises. */
struct total {
  char metric[PH_ID_MAX + 1], unit[16];
  double mass;
  int64_t used, expected;
};

static const char *const summary_args[] = {"from", "to", "ent", NULL};

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
  if (w.source == PH_MON_NONE) aj_str(j, "status", "not monitored (no data and no configured monitoring_since)");
  aj_end_obj(j);
  return 0;
}

/* The enterprise's water outlets over [from, to) (water.h: volume, loads,
 * daily-mean compliance against verified limits only), as the report's
 * water section: JSON "water" or CSV rows (section water_*). */
static int water_part(struct api_req *r, sqlite3 *db, const struct ph_hub_ent *ent, int64_t from, int64_t to,
                      struct api_json *j, struct api_csv *c) {
  struct ph_water w;
  struct ph_err err = {0};
  const struct ph_limits *lim = ph_limits_pick(r->env->refs->limits, r->env->refs->nlimits, ent->standard);
  if (ph_water_summarise(db, r->park->id, ent, r->env->refs->cat, lim, r->tz, from, to, &w, &err)) {
    ph_water_fini(&w);
    PH_WARN(MOD, "water summary of %s/%s: %s", r->park->id, ent->id, err.msg);
    return api_fail(r, 500, NULL, "computing the water outlets of %s failed", ent->id);
  }
  if (!j) {
    for (size_t i = 0; i < w.n; i++) {
      const struct ph_water_outlet *o = &w.outlets[i];
      csv_row(c, ent->id, "water_volume", o->point, o->volume_m3, "m3");
      for (size_t k = 0; k < o->np; k++) {
        const struct ph_water_pollutant *p = &o->p[k];
        char item[2 * PH_ID_MAX + 2];
        snprintf(item, sizeof item, "%s/%s", o->point, p->metric);
        csv_row(c, ent->id, "water_load", item, p->load_kg, "kg");
        csv_row(c, ent->id, "water_days_valid", item, (double)p->days_valid, "");
        csv_row(c, ent->id, "water_days_with_limit", item, (double)p->days_with_limit, "");
        csv_row(c, ent->id, "water_days_over", item, (double)p->days_over, "");
        if (p->range) csv_row(c, ent->id, "water_hours_out_of_range", item, (double)p->hours_out, "");
      }
    }
    ph_water_fini(&w);
    return 0;
  }
  aj_obj(j, "water");
  aj_int(j, "outlets", (int64_t)w.n);
  if (!w.n) aj_str(j, "outlets_na", "no water outlet configured (point_media with medium water)");
  aj_arr(j, "items");
  for (size_t i = 0; i < w.n; i++) {
    const struct ph_water_outlet *o = &w.outlets[i];
    aj_obj(j, NULL);
    aj_str(j, "point", o->point);
    aj_str(j, "discharge", ph_discharge_name((enum ph_discharge)o->discharge));
    aj_num(j, "volume_m3", o->volume_m3);
    if (isnan(o->volume_m3)) aj_str(j, "volume_m3_na", "no flow (w_flow) series at the outlet");
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
      if (!p->days_valid) aj_str(j, "mean_na", "no valid day (20 valid hours)");
      aj_int(j, "days_with_limit", p->days_with_limit);
      aj_int(j, "days_over", p->days_over);
      if (p->range) {
        aj_int(j, "hours_with_limit", p->hours_with_limit);
        aj_int(j, "hours_out_of_range", p->hours_out);
      }
      aj_num(j, "load_kg", p->load_kg);
      if (isnan(p->load_kg))
        aj_str(j, "load_kg_na", isnan(o->volume_m3) ? "no flow (w_flow) at the outlet" : "not a concentration in mg/L");
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
  ph_water_fini(&w);
  return 0;
}

int api_get_summary(struct api_req *r) {
  int64_t from, to;
  const char *ent_arg;
  if (api_args_check(r, summary_args) || api_arg_time(r, "from", true, &from, NULL) ||
      api_arg_time(r, "to", true, &to, NULL) || api_arg_id(r, "ent", false, &ent_arg))
    return r->status;
  if (to <= from) return api_fail(r, 400, "to", "to: must be after from");
  if (to - from > SUMMARY_MAX_MS) return api_fail(r, 400, "to", "to: the range is longer than 400 days");
  int only = -1;
  if (ent_arg && (only = ent_index(r->park, ent_arg)) < 0)
    return api_fail(r, 404, "ent", "ent: %s is not an enterprise of park %s", ent_arg, r->park->id);
  if (!r->tz) return api_fail(r, 500, NULL, "no time zone loaded for park %s", r->park->id);
  sqlite3 *db = api_db(r);
  struct ph_err err = {0};
  int64_t closed = 0;
  if (ph_cems_closed_until(db, &closed, &err)) return api_fail(r, 500, NULL, "%s", err.msg);

  struct vec pairs = {.size = sizeof(struct pair)}, mats = {.size = sizeof(struct material_row)},
             totals = {.size = sizeof(struct total)};
  struct ent_sum *sums = ph_calloc((size_t)(r->park->nents ? r->park->nents : 1), sizeof *sums);
  int status = 200;
  if (!sums) return api_fail(r, 500, NULL, "out of memory");
  if (load_pairs(r, only, &pairs) || load_materials(r, only, from, to, &mats, sums) ||
      load_alarm_counts(r, from, to, sums)) {
    status = r->status;
    goto out;
  }
  set_ctype(r);
  struct api_json j;
  struct api_csv c;
  if (r->csv) {
    ac_init(&c, &r->out);
    ac_line(&c, "ent,section,item,value,unit");
  } else {
    aj_init(&j, &r->out);
    aj_obj(&j, NULL);
    aj_str(&j, "park", r->park->id);
    aj_time(&j, "from", from);
    aj_time(&j, "to", to);
    if (closed)
      aj_time(&j, "closed_until", closed);
    else
      aj_null(&j, "closed_until");
    aj_arr(&j, "enterprises");
  }
  static const char *const sev_names[NSEV] = {"critical", "major", "minor", "warning"};
  const struct pair *pv = pairs.v;
  const struct material_row *mv = mats.v;
  for (int e = 0; e < r->park->nents; e++) {
    if (only >= 0 && e != only) continue;
    const struct ph_hub_ent *ent = &r->park->ents[e];
    if (!r->csv) {
      aj_obj(&j, NULL);
      aj_str(&j, "ent", ent->id);
      aj_str(&j, "name", ent->name);
      if (monitoring_json(r, db, ent, from, to, closed, &j)) {
        status = r->status;
        goto out;
      }
      aj_arr(&j, "pollutants");
    }
    for (size_t i = 0; i < pairs.n; i++) {
      if (pv[i].ent != e) continue;
      struct ph_emission_mass m;
      struct ph_compliance cs;
      int rc = ph_emission_mass_compute(db, r->park, r->tz, r->env->refs->cat, r->park->id, ent->id, pv[i].metric, from, to,
                                        PH_MASS_BY_YEAR, &m, &err);
      if (!rc) rc = ph_compliance_summary(db, r->park, r->tz, r->park->id, ent->id, NULL, pv[i].metric, from, to, &cs, &err);
      if (rc) {
        ph_emission_mass_fini(&m);
        PH_WARN(MOD, "summary of %s/%s %s: %s", r->park->id, ent->id, pv[i].metric, err.msg);
        status = api_fail(r, 500, NULL, "computing %s of %s failed", pv[i].metric, ent->id);
        goto out;
      }
      struct total *t = NULL;
      for (size_t k = 0; k < totals.n && !t; k++)
        if (!strcmp(((struct total *)totals.v)[k].metric, pv[i].metric)) t = &((struct total *)totals.v)[k];
      if (!t && (t = vec_add(&totals))) {
        snprintf(t->metric, sizeof t->metric, "%s", pv[i].metric);
        snprintf(t->unit, sizeof t->unit, "%s", m.unit);
      }
      if (t) {
        t->mass += m.total.mass;
        t->used += m.total.hours_used;
        t->expected += m.total.hours_expected;
      }
      if (r->csv) {
        csv_row(&c, ent->id, "mass", pv[i].metric, ph_emission_mass_why(&m) ? NAN : m.total.mass, m.unit);
        csv_row(&c, ent->id, "mass_gap_share", pv[i].metric, m.total.gap_share, "");
        csv_row(&c, ent->id, "compliance_rate_hours", pv[i].metric, cs.hours.rate, "");
        csv_row(&c, ent->id, "availability_hours", pv[i].metric, cs.hours.availability, "");
        csv_row(&c, ent->id, "exceeded_hours", pv[i].metric, (double)cs.hours.exceeded, "");
        csv_row(&c, ent->id, "compliance_rate_days", pv[i].metric, cs.days.rate, "");
        csv_row(&c, ent->id, "availability_days", pv[i].metric, cs.days.availability, "");
        csv_row(&c, ent->id, "exceeded_days", pv[i].metric, (double)cs.days.exceeded, "");
      } else {
        aj_obj(&j, NULL);
        aj_str(&j, "metric", pv[i].metric);
        aj_obj(&j, "mass");
        const char *why = ph_emission_mass_why(&m);
        if (why) { /* the report's reason, never a 0 for missing data */
          aj_null(&j, "value");
          aj_str(&j, "value_na", why);
        } else {
          aj_num(&j, "value", m.total.mass);
        }
        aj_str(&j, "unit", m.unit);
        aj_int(&j, "hours_used", m.total.hours_used);
        aj_int(&j, "hours_expected", m.total.hours_expected);
        aj_int(&j, "hours_stopped", m.total.hours_stopped);
        aj_num(&j, "gap_share", m.total.gap_share);
        if (m.total.hours_expected == 0) aj_str(&j, "gap_share_na", why ? why : "nothing expected in the period");
        aj_end_obj(&j);
        aj_int(&j, "points", cs.npoints);
        periods_json(&j, "hours", &cs.hours, cs.nmonitored, true);
        periods_json(&j, "days", &cs.days, cs.nmonitored, false);
        aj_end_obj(&j);
      }
      ph_emission_mass_fini(&m);
    }
    if (r->csv) {
      for (int k = 0; k < NSEV; k++) csv_row(&c, ent->id, "alarms", sev_names[k], (double)sums[e].alarms[k], "");
      for (size_t i = 0; i < mats.n; i++)
        if (mv[i].ent == e) csv_row(&c, ent->id, mv[i].out ? "material_out" : "material_in", mv[i].material,
                                    mv[i].qty, "t");
      csv_row(&c, ent->id, "materials_unclassified", "in", sums[e].unclassified_in_t, "t");
      csv_row(&c, ent->id, "materials_unclassified", "out", sums[e].unclassified_out_t, "t");
      if (water_part(r, db, ent, from, to, NULL, &c)) {
        status = r->status;
        goto out;
      }
      continue;
    }
    aj_end_arr(&j);
    if (water_part(r, db, ent, from, to, &j, NULL)) {
      status = r->status;
      goto out;
    }
    aj_obj(&j, "alarms");
    for (int k = 0; k < NSEV; k++) aj_int(&j, sev_names[k], sums[e].alarms[k]);
    aj_end_obj(&j);
    aj_obj(&j, "materials");
    aj_num(&j, "in_t", sums[e].in_t);
    aj_num(&j, "out_t", sums[e].out_t);
    aj_num(&j, "unclassified_in_t", sums[e].unclassified_in_t);
    aj_num(&j, "unclassified_out_t", sums[e].unclassified_out_t);
    aj_arr(&j, "items");
    for (size_t i = 0; i < mats.n; i++) {
      if (mv[i].ent != e) continue;
      aj_obj(&j, NULL);
      aj_str(&j, "material", mv[i].material);
      aj_str(&j, "role", ph_role_name(mv[i].role));
      aj_str(&j, "dir", mv[i].out ? "out" : "in");
      aj_num(&j, "qty_t", mv[i].qty);
      aj_int(&j, "records", mv[i].records);
      aj_end_obj(&j);
    }
    aj_end_arr(&j);
    aj_end_obj(&j);
    aj_end_obj(&j);
  }
  if (!r->csv) {
    aj_end_arr(&j);
    aj_obj(&j, "totals");
    aj_arr(&j, "mass");
    for (size_t k = 0; k < totals.n; k++) {
      const struct total *t = &((struct total *)totals.v)[k];
      aj_obj(&j, NULL);
      aj_str(&j, "metric", t->metric);
      aj_num(&j, "value", t->mass);
      aj_str(&j, "unit", t->unit);
      aj_int(&j, "hours_used", t->used);
      aj_int(&j, "hours_expected", t->expected);
      aj_end_obj(&j);
    }
    aj_end_arr(&j);
    int64_t al[NSEV] = {0};
    double in = 0, outq = 0, uin = 0, uout = 0;
    for (int e = 0; e < r->park->nents; e++) {
      for (int k = 0; k < NSEV; k++) al[k] += sums[e].alarms[k];
      in += sums[e].in_t;
      outq += sums[e].out_t;
      uin += sums[e].unclassified_in_t;
      uout += sums[e].unclassified_out_t;
    }
    aj_obj(&j, "alarms");
    for (int k = 0; k < NSEV; k++) aj_int(&j, sev_names[k], al[k]);
    aj_end_obj(&j);
    aj_obj(&j, "materials");
    aj_num(&j, "in_t", in);
    aj_num(&j, "out_t", outq);
    aj_num(&j, "unclassified_in_t", uin);
    aj_num(&j, "unclassified_out_t", uout);
    aj_end_obj(&j);
    aj_end_obj(&j);
    finish_json(r, &j);
  }
out:
  ph_free(pairs.v);
  ph_free(mats.v);
  ph_free(totals.v);
  ph_free(sums);
  return status;
}

/* ---- alarms ---- */

/* One alarm row, every column by name (inv. 3): *_ms integers become RFC
 * 3339 times under the name without _ms; api_row and id stay internal. */
static void alarm_json(struct api_json *j, const char *key, sqlite3_stmt *s) {
  aj_obj(j, key);
  int n = sqlite3_column_count(s);
  for (int i = 0; i < n; i++) {
    const char *name = sqlite3_column_name(s, i);
    if (!name || !strcmp(name, "api_row") || !strcmp(name, "id")) continue;
    size_t len = strlen(name);
    int type = sqlite3_column_type(s, i);
    if (len > 3 && !strcmp(name + len - 3, "_ms")) {
      char k[64];
      snprintf(k, sizeof k, "%.*s", (int)(len - 3), name);
      if (type == SQLITE_INTEGER)
        aj_time(j, k, sqlite3_column_int64(s, i));
      else
        aj_null(j, k);
      continue;
    }
    switch (type) {
    case SQLITE_INTEGER: aj_int(j, name, sqlite3_column_int64(s, i)); break;
    case SQLITE_FLOAT: aj_num(j, name, sqlite3_column_double(s, i)); break;
    case SQLITE_NULL: aj_null(j, name); break;
    default: aj_str(j, name, text(s, i)); break;
    }
  }
  aj_end_obj(j);
}

static void alarm_csv_header(struct api_csv *c, sqlite3_stmt *s) {
  int n = sqlite3_column_count(s);
  for (int i = 0; i < n; i++) {
    const char *name = sqlite3_column_name(s, i);
    if (!name || !strcmp(name, "api_row") || !strcmp(name, "id")) continue;
    size_t len = strlen(name);
    char key[64];
    snprintf(key, sizeof key, "%.*s", (int)(len > 3 && !strcmp(name + len - 3, "_ms") ? len - 3 : len), name);
    ac_str(c, key);
  }
  ac_end(c);
}

static void alarm_csv(struct api_csv *c, sqlite3_stmt *s) {
  int n = sqlite3_column_count(s);
  for (int i = 0; i < n; i++) {
    const char *name = sqlite3_column_name(s, i);
    if (!name || !strcmp(name, "api_row") || !strcmp(name, "id")) continue;
    size_t len = strlen(name);
    int type = sqlite3_column_type(s, i);
    if (type == SQLITE_NULL)
      ac_str(c, NULL);
    else if (len > 3 && !strcmp(name + len - 3, "_ms") && type == SQLITE_INTEGER)
      ac_time(c, sqlite3_column_int64(s, i));
    else if (type == SQLITE_INTEGER)
      ac_int(c, sqlite3_column_int64(s, i));
    else if (type == SQLITE_FLOAT)
      ac_num(c, sqlite3_column_double(s, i));
    else
      ac_str(c, text(s, i));
  }
  ac_end(c);
}

static const char *const alarm_args[] = {"state", "severity", "ent", "from", "to", "limit", "cursor", NULL};
static const char *const state_words[] = {"open", "active_unacked", "active_acked", "cleared_unacked", "closed",
                                          NULL};
static const char *const sev_words[] = {"critical", "major", "minor", "warning", NULL};

static void bind_opt(sqlite3_stmt *s, int i, const char *v) {
  if (v)
    sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(s, i);
}

static void alarms_link(struct api_req *r, int64_t limit, int64_t cursor) {
  size_t n = (size_t)snprintf(r->link, sizeof r->link, "/api/v1/parks/%s/alarms?limit=%lld&cursor=%lld",
                              r->park->id, (long long)limit, (long long)cursor);
  static const char *const keep[] = {"state", "severity", "ent", "from", "to", NULL};
  for (int i = 0; keep[i] && n < sizeof r->link; i++) {
    const char *v = api_arg(r, keep[i]);
    if (!v) continue;
    /* ids and words need no escaping; times are re-formatted (RFC 3339 UTC) */
    char t[PH_TIME_STRLEN];
    int64_t ms;
    if ((!strcmp(keep[i], "from") || !strcmp(keep[i], "to")) && !api_arg_time(r, keep[i], false, &ms, NULL) &&
        !ph_time_format(ms, t, sizeof t))
      v = t;
    n += (size_t)snprintf(r->link + n, sizeof r->link - n, "&%s=%s", keep[i], v);
  }
  if (r->format && n < sizeof r->link) snprintf(r->link + n, sizeof r->link - n, "&format=%s", r->csv ? "csv" : "json");
}

int api_get_alarms(struct api_req *r) {
  int state, sev;
  int64_t from = 0, to = 0, limit, cursor;
  bool has_from, has_to;
  const char *ent;
  if (api_args_check(r, alarm_args) || api_arg_word(r, "state", state_words, -1, &state) ||
      api_arg_word(r, "severity", sev_words, -1, &sev) || api_arg_id(r, "ent", false, &ent) ||
      api_arg_time(r, "from", false, &from, &has_from) || api_arg_time(r, "to", false, &to, &has_to) ||
      api_arg_int(r, "limit", 1, r->conf->max_points, 1000 < r->conf->max_points ? 1000 : r->conf->max_points,
                  &limit) ||
      api_arg_int(r, "cursor", 1, INT64_MAX, 0, &cursor))
    return r->status;
  if (has_from && has_to && to <= from) return api_fail(r, 400, "to", "to: must be after from");
  if (ent && ent_index(r->park, ent) < 0)
    return api_fail(r, 404, "ent", "ent: %s is not an enterprise of park %s", ent, r->park->id);
  set_ctype(r);
  struct api_json j;
  struct api_csv c;
  if (!r->csv) {
    aj_init(&j, &r->out);
    aj_obj(&j, NULL);
    aj_str(&j, "park", r->park->id);
    aj_arr(&j, "alarms");
  } else {
    ac_init(&c, &r->out);
  }
  int64_t count = 0, next = 0;
  if (api_has_alarms(r)) {
    sqlite3_stmt *s = api_stmt(r, API_ST_ALARMS);
    if (!s) return api_db_fail(r, "reading alarms");
    sqlite3_bind_text(s, 1, r->park->id, -1, SQLITE_STATIC);
    bind_opt(s, 2, state >= 0 ? state_words[state] : NULL);
    bind_opt(s, 3, sev >= 0 ? sev_words[sev] : NULL);
    bind_opt(s, 4, ent);
    if (has_from) sqlite3_bind_int64(s, 5, from);
    if (has_to) sqlite3_bind_int64(s, 6, to);
    if (cursor) sqlite3_bind_int64(s, 7, cursor);
    sqlite3_bind_int64(s, 8, limit + 1);
    if (r->csv) alarm_csv_header(&c, s);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      if (count == limit) {
        next = sqlite3_column_int64(s, 0) + 1; /* rows below it come next */
        break;
      }
      if (r->csv)
        alarm_csv(&c, s);
      else
        alarm_json(&j, NULL, s);
      count++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return api_db_fail(r, "reading alarms");
    sqlite3_reset(s);
  } else if (r->csv) {
    ac_line(&c, "alarm_id,park,rule,ent,point,metric,severity,state,message,first,last,count,value,peak,acked_by,"
                "acked,note");
  }
  if (next) alarms_link(r, limit, next);
  if (!r->csv) {
    aj_end_arr(&j);
    aj_int(&j, "count", count);
    if (next) {
      aj_str(&j, "next", r->link);
    } else {
      aj_null(&j, "next");
    }
    finish_json(r, &j);
  }
  return 200;
}

/* UTF-8 characters in s (continuation bytes not counted). */
static size_t utf8_chars(const char *s) {
  size_t n = 0;
  for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

int api_post_ack(struct api_req *r) {
  if (api_args_check(r, no_args)) return r->status;
  const char *id = r->nseg > 1 ? r->seg[1] : "";
  if (!ph_id_valid_z(id)) return api_fail(r, 404, NULL, "no alarm %.64s in park %s", id, r->park->id);
  if (r->body_too_large) return api_fail(r, 413, NULL, "the request body is larger than %d bytes", PH_API_BODY_MAX);
  char nul_in[72];
  if (ph_json_find_nul(r->body, r->body_len, nul_in, sizeof nul_in)) /* inv. 4 */
    return api_fail(r, 400, nul_in[0] ? nul_in : "body", "%s: U+0000 is not allowed", nul_in[0] ? nul_in : "body");
  const char *end = NULL;
  cJSON *doc = cJSON_ParseWithLengthOpts(r->body, r->body_len, &end, 0);
  bool trailing = false;
  for (const char *p = end; doc && p < r->body + r->body_len; p++)
    if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') trailing = true;
  if (!doc || !cJSON_IsObject(doc) || trailing) {
    cJSON_Delete(doc);
    return api_fail(r, 400, "body", "body: must be one JSON object {\"by\": ..., \"note\": ...}%s",
                    trailing ? " and nothing after it" : "");
  }
  const char *by = NULL, *note = "";
  int status = 0;
  for (const cJSON *it = doc->child; it && !status; it = it->next) {
    if (!strcmp(it->string, "by")) {
      if (!cJSON_IsString(it) || !*it->valuestring || utf8_chars(it->valuestring) > 64)
        status = api_fail(r, 400, "by", "by: must be a string of 1 to 64 characters");
      else
        by = it->valuestring;
    } else if (!strcmp(it->string, "note")) {
      if (!cJSON_IsString(it) || utf8_chars(it->valuestring) > 512)
        status = api_fail(r, 400, "note", "note: must be a string of at most 512 characters");
      else
        note = it->valuestring;
    } else {
      char key[72];
      snprintf(key, sizeof key, "%.64s", it->string);
      status = api_fail(r, 400, key, "%s: unknown field (allowed: by, note)", key);
    }
  }
  if (!status && !by) status = api_fail(r, 400, "by", "by: required (who acknowledges)");
  if (status) {
    cJSON_Delete(doc);
    return status;
  }
  if (!r->env->ack) {
    cJSON_Delete(doc);
    return api_fail(r, 501, NULL, "acknowledging is not available on this hub");
  }
  char msg[256] = "";
  int rc = r->env->ack(r->env->u, r->park->id, id, by, note, msg, sizeof msg);
  PH_INFO(MOD, "ack of alarm %s in park %s by '%s' (token %s): %s", id, r->park->id, by, r->tok->name,
          rc ? (msg[0] ? msg : ph_strerror(rc)) : "done");
  cJSON_Delete(doc);
  if (rc == PH_ENOTFOUND) return api_fail(r, 404, NULL, "%s", msg[0] ? msg : "no open alarm of that id");
  if (rc == PH_EINVAL || rc == PH_EBADID || rc == PH_ESTRLEN || rc == PH_EMISSING)
    return api_fail(r, 400, NULL, "%s", msg[0] ? msg : ph_strerror(rc));
  if (rc == PH_EAGAIN || rc == PH_ETIMEOUT || rc == PH_ECLOSED)
    return api_fail(r, 503, NULL, "%s", msg[0] ? msg : "the hub cannot acknowledge now; try again");
  if (rc) return api_fail(r, 500, NULL, "%s", msg[0] ? msg : ph_strerror(rc));

  /* the alarm as it stands now, when the table is there to read */
  struct api_json j;
  aj_init(&j, &r->out);
  aj_obj(&j, NULL);
  aj_bool(&j, "acked", true);
  aj_str(&j, "alarm_id", id);
  if (api_has_alarms(r)) {
    sqlite3_stmt *s = api_stmt(r, API_ST_ALARM_GET);
    if (s) {
      sqlite3_bind_text(s, 1, r->park->id, -1, SQLITE_STATIC);
      sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
      if (sqlite3_step(s) == SQLITE_ROW) alarm_json(&j, "alarm", s);
      sqlite3_reset(s);
    }
  }
  finish_json(r, &j);
  r->ctype = "application/json";
  return 200;
}
