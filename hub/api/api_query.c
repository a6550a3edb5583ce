/* api_query.c — the HTTP API's listings: parks, enterprises with their
 * agents' presence, points with their latest values. The series, summary,
 * alarms and CEMS handlers have files of their own (api_series.c,
 * api_summary.c, api_alarms.c, api_cems.c).
 *
 * Callers: the route table (api_routes.c), after access and park checks.
 * Threads: a worker's, on its read connection, inside the request's read
 * transaction.
 *
 * Invariants:
 *  1. enterprises are the configured ones of the park, in config order;
 *     data of anything else in the database is not shown.
 *  2. each listing is one column description rendered by the row writer
 *     (api_rows.h): JSON and CSV carry the same cells; what only JSON has
 *     (an enterprise's agents) is marked so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_handlers.h"
#include "api_req.h"
#include "api_rows.h"
#include "domain/ent_limits.h"
#include "parkhub/alloc.h"
#include "parkhub/timefmt.h"
#include "parkhub/tz.h"

static const char *const no_args[] = {NULL};

static const char *text(sqlite3_stmt *s, int col) {
  const unsigned char *t = sqlite3_column_text(s, col);
  return t ? (const char *)t : "";
}

/* ---- GET /api/v1/parks ---- */

static const struct api_col park_cols[] = {
    API_COL("park", API_STR), API_COL("name", API_STR), API_COL("tz", API_STR), API_COL("enterprises", API_INT),
    API_COL_END};

int api_get_parks(struct api_req *r) {
  if (api_args_check(r, no_args)) return r->status;
  const struct ph_hub_config *cfg = r->env->refs->cfg;
  struct api_rows w;
  api_attachment(r, "parks", NULL, 0, 0);
  ar_begin(&w, r, park_cols);
  ar_open(&w, "parks");
  for (int i = 0; i < cfg->nparks; i++) {
    const struct ph_hub_park *p = &cfg->parks[i];
    if (!api_token_sees(r->tok, p->id)) continue;
    ar_row(&w);
    ar_str(&w, p->id);
    ar_str(&w, p->name);
    ar_str(&w, p->tz);
    ar_int(&w, p->nents);
    ar_end_row(&w);
  }
  ar_end(&w);
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

/* Every agent's latest status in the park, sorted by (ent, agent). */
static int load_agents(struct api_req *r, struct agent_row **out, size_t *nout) {
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
        sqlite3_reset(s);
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
  *out = rows;
  *nout = n;
  return 0;
}

/* One enterprise's presence, over its configured agents. */
struct presence {
  const struct agent_row *found[PH_HUB_MAX_AGENTS];
  int online;
  int64_t depth, last;
  bool any_depth;
};

static void presence_of(const struct ph_hub_ent *ent, const struct agent_row *rows, size_t n, struct presence *p) {
  memset(p, 0, sizeof *p);
  p->last = -1;
  for (int k = 0; k < ent->nagents; k++) {
    struct agent_row key;
    snprintf(key.ent, sizeof key.ent, "%s", ent->id);
    snprintf(key.agent, sizeof key.agent, "%s", ent->agents[k]);
    const struct agent_row *a = n ? bsearch(&key, rows, n, sizeof *rows, cmp_agent) : NULL;
    p->found[k] = a;
    if (!a || !a->has_status) continue;
    p->online += !strcmp(a->state, "online");
    if (a->has_depth) p->depth += a->depth, p->any_depth = true;
    if (a->ts_ms > p->last) p->last = a->ts_ms;
  }
}

/* JSON only: the enterprise's agents, one object each. */
static void agents_json(struct api_json *j, const struct ph_hub_ent *ent, const struct presence *p) {
  aj_arr(j, "agents");
  for (int k = 0; k < ent->nagents; k++) {
    const struct agent_row *a = p->found[k];
    aj_obj(j, NULL);
    aj_str(j, "agent", ent->agents[k]);
    aj_str(j, "state", a ? a->state : "unknown");
    if (a && a->has_status)
      aj_time(j, "since", a->ts_ms);
    else
      aj_null(j, "since");
    if (a && a->has_depth)
      aj_int(j, "outbox_depth", a->depth);
    else
      aj_null(j, "outbox_depth");
    aj_end_obj(j);
  }
  aj_end_arr(j);
}

static const struct api_col ent_cols[] = {
    API_COL("ent", API_STR), API_COL("name", API_STR), API_COL("sector", API_STR), API_COL("online", API_BOOL),
    API_COLF("agents_online", API_INT, API_COL_CSV), API_COLF("agents", API_INT, API_COL_CSV),
    API_COL("outbox_depth", API_INT), API_COL("last_status", API_TIME), API_COL_END};

int api_get_enterprises(struct api_req *r) {
  if (api_args_check(r, no_args)) return r->status;
  struct agent_row *rows = NULL;
  size_t n = 0;
  if (load_agents(r, &rows, &n)) return r->status;
  struct api_rows w;
  api_attachment(r, "enterprises", NULL, 0, 0);
  ar_begin(&w, r, ent_cols);
  if (ar_head(&w)) aj_str(ar_head(&w), "park", r->park->id);
  ar_open(&w, "enterprises");
  for (int e = 0; e < r->park->nents; e++) {
    const struct ph_hub_ent *ent = &r->park->ents[e];
    struct presence p;
    presence_of(ent, rows, n, &p);
    ar_row(&w);
    ar_str(&w, ent->id);
    ar_str(&w, ent->name);
    ar_str(&w, ph_sector_name(ent->sector));
    ar_bool(&w, p.online > 0);
    ar_int(&w, p.online);
    ar_int(&w, ent->nagents);
    if (p.any_depth)
      ar_int(&w, p.depth);
    else
      ar_null(&w);
    if (p.last >= 0)
      ar_time(&w, p.last);
    else
      ar_null(&w);
    if (ar_json(&w)) agents_json(ar_json(&w), ent, &p);
    ar_end_row(&w);
  }
  ph_free(rows);
  ar_end(&w);
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

/* JSON nests the metrics under their point (ar_group); a point without a
 * metric is a point with an empty list, in CSV a row of empty cells. The
 * limit is left out of JSON when none is in force. */
static const struct api_col point_cols[] = {
    API_COL("point", API_STR), API_COL("metric", API_STR), API_COL("unit", API_STR), API_COL("last", API_NUM),
    API_COL("ts", API_TIME), API_COLF("limit", API_NUM, API_COL_OMIT_NULL), API_COL_END};

/* One row of the points statement. */
static void point_row(struct api_req *r, struct api_rows *w, const struct ph_hub_ent *e, long today,
                      sqlite3_stmt *s) {
  const char *code = sqlite3_column_type(s, 1) != SQLITE_NULL ? text(s, 1) : NULL;
  ar_row(w);
  ar_str(w, text(s, 0));
  if (!code) return ar_end_row(w);
  int mi = ph_catalog_find(r->env->refs->cat, code, strlen(code));
  double limit = 0;
  bool has_limit = r->env->refs->nlimits &&
                   ph_ent_stack_limit(r->env->refs->limits, r->env->refs->nlimits, e, code, today, &limit) == 0;
  ar_str(w, code);
  ar_str(w, mi >= 0 ? ph_catalog_at(r->env->refs->cat, (size_t)mi)->unit : NULL);
  if (sqlite3_column_type(s, 2) != SQLITE_NULL) {
    ar_num(w, sqlite3_column_double(s, 3));
    ar_time(w, sqlite3_column_int64(s, 2));
  } else {
    ar_null(w);
    ar_null(w);
  }
  if (has_limit)
    ar_num(w, limit);
  else
    ar_null(w);
  ar_end_row(w);
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
  struct api_rows w;
  api_attachment(r, "points", ent, 0, 0);
  ar_begin(&w, r, point_cols);
  ar_group(&w, "metrics");
  if (ar_head(&w)) {
    aj_str(ar_head(&w), "park", r->park->id);
    aj_str(ar_head(&w), "ent", ent);
  }
  ar_open(&w, "points");
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) point_row(r, &w, e, today, s);
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) return api_db_fail(r, "reading points");
  ar_end(&w);
  return 200;
}
