/* api_parks.c — a regulator's questions across the parks a token covers,
 * one request each:
 *
 *   GET /api/v1/summary      every park's summary, as …/parks/{park}/summary gives it
 *   GET /api/v1/exceedances  per (park, enterprise, point, pollutant): exceedance
 *                            hours and days, the limit and the worst value
 *   GET /api/v1/alarms       the alarm listing of …/parks/{park}/alarms over the parks
 *
 * parks=a,b narrows to those parks (each must be the token's: 403, naming
 * it — asked first, so a limited token learns nothing of other parks — and
 * served: 404); without it, every park the token covers, in
 * config order. JSON or CSV through the row writer, as everywhere.
 *
 * Callers: the route table (api_routes.c, API_RT_ACROSS: no park in the
 * path, so api.c checks no park; the token's parks are checked here).
 * Threads: a worker's, on its read connection, inside the request's one
 * read transaction (api.c inv. 2) — but for the summary, whose parks are
 * computed at once by the API's pool (inv. 5).
 *
 * Invariants:
 *  1. a park's figures are its own endpoint's code: the summary calls
 *     api_summary_park, the listing api_alarm_args / api_alarm_page
 *     (api_parks.h); a park's object in the summary's "parks" array is
 *     byte for byte the per-park document of the same request.
 *  2. nothing of a park the token does not cover is read or named, unless
 *     the request named it (then 403 says so).
 *  3. the exceedance figures are ph_compliance_summary's for one point and
 *     pollutant (the report's and the summary's counts): the API adds no
 *     arithmetic but limit ratios. A row is there when an hour or a day
 *     exceeded its limit ("exceeded"), or when compliance cannot be judged
 *     at all — no valid mean had a limit in force, hourly or daily
 *     ("not_available", with both reasons); a series judged and within its
 *     limits has no row. Never a 0 for a figure that is not available.
 *  4. bounded: periods ≤ 400 days; at most limit (≤ conf.max_points) rows,
 *     else a 400 naming "limit" and nothing of the partial answer (api_fail
 *     drops it); the alarm listing pages as the per-park one does; parks=
 *     holds at most PH_HUB_MAX_PARKS distinct ids (api_parse_id_list).
 *  5. the summary computes its parks at once, each on one of the API's read
 *     connections (api_par_run: the request's thread and the pool's
 *     helpers, at most PH_HUB_MAX_PARKS parts, no thread per request), and
 *     writes them in the order asked (config order). Each park is read in a
 *     read transaction of its own, so each park's object is consistent in
 *     itself, but two parks may be read a commit apart: the distribution's
 *     SQLite has no SQLITE_ENABLE_SNAPSHOT, so connections cannot share one
 *     snapshot, and one connection would read the parks one after the
 *     other (ten park-years: 300 ms). Parks are independent (no figure adds
 *     across them), so nothing in the answer mixes two snapshots. The
 *     exceedance and alarm listings stay in the request's one snapshot.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "api_args.h"
#include "api_handlers.h"
#include "api_parks.h"
#include "api_parks_sql.h"
#include "api_req.h"
#include "api_rows.h"
#include "domain/compliance.h"
#include "domain/stmt_cache.h"
#include "parkhub/alloc.h"
#include "parkhub/log.h"

#define MOD "api"
#define DAY_MS 86400000LL
#define PARKS_MAX_MS (400 * DAY_MS)
#define DEFAULT_ROWS 1000

static int park_index(const struct ph_hub_config *cfg, const char *id) {
  for (int i = 0; i < cfg->nparks; i++)
    if (!strcmp(cfg->parks[i].id, id)) return i;
  return -1;
}

/* parks= or every park the token covers (inv. 2): 0, or a 400/403/404 written. */
static int select_parks(struct api_req *r, struct park_set *ps) {
  const struct ph_hub_config *cfg = r->env->refs->cfg;
  const char *v = api_arg(r, "parks");
  ps->n = 0;
  if (!v) {
    for (int i = 0; i < cfg->nparks; i++)
      if (api_token_sees(r->tok, cfg->parks[i].id)) ps->idx[ps->n++] = i;
    return 0;
  }
  char ids[PH_HUB_MAX_PARKS][PH_ID_MAX + 1];
  int n;
  struct ph_err err;
  if (api_parse_id_list(v, ids, PH_HUB_MAX_PARKS, &n, &err)) return api_fail(r, 400, "parks", "parks: %s", err.msg);
  for (int k = 0; k < n; k++) {
    /* the token first: the same 403 for a park that exists and one that
     * does not (inv. 2; api.c park_check) */
    if (!api_token_sees(r->tok, ids[k])) return api_fail(r, 403, "parks", "parks: this token may not see park %s", ids[k]);
    int i = park_index(cfg, ids[k]);
    if (i < 0) return api_fail(r, 404, "parks", "parks: no such park %s", ids[k]);
    ps->idx[ps->n++] = i;
  }
  return 0;
}

int api_parks_select(struct api_req *r, struct park_set *ps) { return select_parks(r, ps); } /* api_report.c */

/* Makes config park i the request's park (what the per-park code reads). */
static void set_park(struct api_req *r, int i) {
  r->park_idx = i;
  r->park = &r->env->refs->cfg->parks[i];
  r->tz = r->env->refs->tz[i];
}

static void parks_json(struct api_json *j, const char *key, const struct api_req *r, const struct park_set *ps) {
  aj_arr(j, key);
  for (int k = 0; k < ps->n; k++) aj_str(j, NULL, r->env->refs->cfg->parks[ps->idx[k]].id);
  aj_end_arr(j);
}

/* from, to (required, ≤ 400 days) and the parks: 0, or the status written. */
static int period_and_parks(struct api_req *r, int64_t *from, int64_t *to, struct park_set *ps) {
  if (api_arg_time(r, "from", true, from, NULL) || api_arg_time(r, "to", true, to, NULL) ||
      api_arg_period(r, *from, *to, PARKS_MAX_MS, "400 days"))
    return r->status;
  return select_parks(r, ps);
}

/* ---- GET /api/v1/summary ---- */

static const char *const summary_args[] = {"from", "to", "parks", NULL};

/* What every park's part of the summary shares. */
struct sum_span {
  int64_t from, to;
};

/* One park's part (api_par_run): its document alone — JSON, the park
 * object; CSV, its rows without the header, which is the whole answer's. */
static int summary_part(struct api_req *p, void *u) {
  const struct sum_span *sp = u;
  struct api_sum_out o;
  api_summary_begin(p, &o, true);
  api_buf_reset(&p->out); /* CSV: the header line just written; JSON: nothing yet */
  int status = api_summary_park(p, &o, sp->from, sp->to, NULL); /* inv. 1 */
  if (!status && p->out.oom) status = api_fail(p, 500, NULL, "out of memory");
  return status;
}

/* Part k of the request: the request itself, made park k's, writing into a
 * buffer of its own. */
static void part_init(struct api_req *p, const struct api_req *r, int park) {
  *p = *r;
  p->w = NULL;
  p->status = 0;
  p->bom = false;
  p->link[0] = p->filename[0] = 0;
  api_buf_init(&p->out);
  set_park(p, park);
}

/* The parts in config order into the answer, or the first failed part's
 * error as the answer (a failure in one park fails the request). */
static int summary_join(struct api_req *r, struct api_sum_out *o, struct api_req *parts, int n) {
  for (int k = 0; k < n; k++)
    if (parts[k].status) {
      api_buf_reset(&r->out);
      api_buf_put(&r->out, parts[k].out.p, parts[k].out.len);
      r->ctype = parts[k].ctype;
      r->filename[0] = 0;
      return parts[k].status;
    }
  for (int k = 0; k < n; k++) {
    if (r->csv) api_buf_put(&r->out, parts[k].out.p, parts[k].out.len);
    else aj_raw(&o->j, NULL, parts[k].out.p, parts[k].out.len);
  }
  return 0;
}

int api_get_parks_summary(struct api_req *r) {
  int64_t from, to;
  struct park_set ps;
  if (api_args_check(r, summary_args) || period_and_parks(r, &from, &to, &ps)) return r->status;
  api_attachment(r, "summary", NULL, from, to); /* "parkhub_summary_…": no park yet, dates in UTC */
  struct api_req *parts = ph_calloc((size_t)(ps.n ? ps.n : 1), sizeof *parts);
  if (!parts) return api_fail(r, 500, NULL, "out of memory");
  for (int k = 0; k < ps.n; k++) part_init(&parts[k], r, ps.idx[k]);
  struct sum_span span = {from, to};
  api_par_run(r, parts, ps.n, summary_part, &span); /* inv. 5 */
  struct api_sum_out o;
  api_summary_begin(r, &o, true);
  if (!r->csv) {
    aj_obj(&o.j, NULL);
    aj_time(&o.j, "from", from);
    aj_time(&o.j, "to", to);
    aj_arr(&o.j, "parks");
  }
  int status = summary_join(r, &o, parts, ps.n);
  for (int k = 0; k < ps.n; k++) api_buf_fini(&parts[k].out);
  ph_free(parts);
  if (status) return status;
  if (!r->csv) {
    aj_end_arr(&o.j);
    aj_end_obj(&o.j);
  }
  api_summary_end(r, &o);
  return 200;
}

/* ---- GET /api/v1/alarms ---- */

struct parks_of {
  const struct api_req *r;
  const struct park_set *ps;
};

static void parks_head(void *u, struct api_json *j) {
  const struct parks_of *p = u;
  parks_json(j, "parks", p->r, p->ps);
}

/* Whether ent is an enterprise of one of the parks. */
static bool ent_in(const struct api_req *r, const struct park_set *ps, const char *ent) {
  for (int k = 0; k < ps->n; k++)
    if (ph_hub_config_ent(&r->env->refs->cfg->parks[ps->idx[k]], ent)) return true;
  return false;
}

int api_get_parks_alarms(struct api_req *r) {
  struct api_alarm_q q;
  struct park_set ps;
  if (api_alarm_args(r, "parks", &q) || select_parks(r, &ps)) return r->status;
  if (q.ent && !ent_in(r, &ps, q.ent))
    return api_fail(r, 404, "ent", "ent: %s is not an enterprise of the parks asked for", q.ent);
  struct api_buf list; /* ?1: the parks as one JSON array */
  api_buf_init(&list);
  struct api_json j;
  aj_init(&j, &list);
  parks_json(&j, NULL, r, &ps);
  sqlite3_stmt *s = NULL;
  int status = list.oom ? api_fail(r, 500, NULL, "out of memory") : 0;
  if (!status && api_has_alarms(r) && sqlite3_prepare_v2(api_db(r), API_PARKS_SQL_ALARMS, -1, &s, NULL) != SQLITE_OK)
    status = api_db_fail(r, "reading alarms");
  if (!status) {
    if (s) sqlite3_bind_text(s, 1, list.p, (int)list.len, SQLITE_STATIC);
    struct parks_of head = {r, &ps};
    status = api_alarm_page(r, &q, s, parks_head, &head, "/api/v1/alarms");
  }
  sqlite3_finalize(s);
  api_buf_fini(&list);
  return status;
}

/* ---- GET /api/v1/exceedances ---- */

static const char *const exc_args[] = {"from", "to", "parks", "ent", "metric", "status", "limit", NULL};
static const char *const status_words[] = {"exceeded", "not_available", NULL};

static const struct api_col exc_cols[] = {
    API_COL("park", API_STR),           API_COL("ent", API_STR),
    API_COL("point", API_STR),          API_COL("metric", API_STR),
    API_COL("unit", API_STR),           API_COL("status", API_STR),
    API_COL("hours_exceeded", API_INT), API_COL("hours_with_limit", API_INT),
    API_COL("hours_valid", API_INT),    API_COL("hours_expected", API_INT),
    API_COL("hours_na", API_STR),       API_COL("worst_hour_start", API_TIME),
    API_COL("worst_hour_mean", API_NUM), API_COL("worst_hour_limit", API_NUM),
    API_COL("worst_hour_ratio", API_NUM), API_COL("days_exceeded", API_INT),
    API_COL("days_with_limit", API_INT), API_COL("days_valid", API_INT),
    API_COL("days_expected", API_INT),  API_COL("days_na", API_STR),
    API_COL("worst_day_start", API_TIME), API_COL("worst_day_converted", API_NUM),
    API_COL("worst_day_limit", API_NUM), API_COL("worst_day_ratio", API_NUM),
    API_COL_END};

struct exc_q {
  int64_t from, to, limit;
  const char *ent, *metric;
  int status; /* -1 both, else an index of status_words */
};

static const char *text(sqlite3_stmt *s, int col) {
  const unsigned char *t = sqlite3_column_text(s, col);
  return t ? (const char *)t : "";
}

/* One period kind's cells: counts, why it cannot be judged, the worst. */
static void periods_cells(struct api_rows *w, const struct ph_compliance_periods *p, int nmonitored, bool hours) {
  char why[160];
  const char *na = ph_compliance_rate_why(p, nmonitored, hours, why, sizeof why);
  const struct ph_compliance_worst *x = &p->worst;
  bool worst = x->bucket_ms != 0; /* only valid means with a limit are ever the worst */
  if (p->with_limit) ar_int(w, p->exceeded);
  else ar_null(w); /* nothing judged: not available (na says why), never 0 */
  ar_int(w, p->with_limit);
  ar_int(w, p->valid);
  ar_int(w, p->expected);
  ar_str(w, na);
  if (worst) ar_time(w, x->bucket_ms);
  else ar_null(w);
  ar_num(w, worst ? (hours ? x->mean : x->converted) : NAN);
  ar_num(w, worst ? x->limit : NAN);
  ar_num(w, worst ? x->ratio : NAN);
}

/* One series' row when it has one (inv. 3): 0, 1 when the page is full
 * (a 400 is written), or the status of a failure. */
static int exc_series(struct api_req *r, const struct exc_q *q, struct api_rows *w, const char *ent,
                      const char *point, const char *metric) {
  struct ph_compliance c;
  struct ph_err err = {0};
  if (ph_compliance_summary(api_db(r), r->park, r->tz, r->park->id, ent, point, metric, q->from, q->to, &c, &err)) {
    PH_WARN(MOD, "exceedances of %s/%s/%s %s: %s", r->park->id, ent, point, metric, err.msg);
    return api_fail(r, 500, NULL, "computing the compliance of %s/%s %s failed", ent, point, metric);
  }
  bool exceeded = c.hours.exceeded + c.days.exceeded > 0;
  bool na = !exceeded && c.hours.with_limit == 0 && c.days.with_limit == 0;
  if ((!exceeded && !na) || (q->status >= 0 && q->status != (exceeded ? 0 : 1))) return 0;
  if (w->count == q->limit) { /* inv. 4: api_fail drops what was written */
    api_fail(r, 400, "limit",
             "limit: more than %lld rows; narrow the question with parks=, ent=, metric=, status= or a shorter "
             "period, or raise limit (at most %lld)",
             (long long)q->limit, (long long)r->conf->max_points);
    return 1;
  }
  int mi = ph_catalog_find(r->env->refs->cat, metric, strlen(metric));
  ar_row(w);
  ar_str(w, r->park->id);
  ar_str(w, ent);
  ar_str(w, point);
  ar_str(w, metric);
  ar_str(w, ph_catalog_at(r->env->refs->cat, (size_t)mi)->unit); /* a pollutant: in the catalogue */
  ar_str(w, status_words[exceeded ? 0 : 1]);
  periods_cells(w, &c.hours, c.nmonitored, true);
  periods_cells(w, &c.days, c.nmonitored, false);
  ar_end_row(w);
  return 0;
}

/* The park's series (configured enterprises, pollutants) through exc_series. */
static int exc_park(struct api_req *r, const struct exc_q *q, struct api_rows *w, sqlite3_stmt *s) {
  sqlite3_reset(s);
  sqlite3_bind_text(s, 1, r->park->id, -1, SQLITE_STATIC);
  if (q->ent) sqlite3_bind_text(s, 2, q->ent, -1, SQLITE_STATIC);
  if (q->metric) sqlite3_bind_text(s, 3, q->metric, -1, SQLITE_STATIC);
  int rc, status = 0;
  while (!status && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    char ent[PH_ID_MAX + 1], point[PH_ID_MAX + 1], metric[PH_ID_MAX + 1];
    snprintf(ent, sizeof ent, "%s", text(s, 0));
    snprintf(point, sizeof point, "%s", text(s, 1));
    snprintf(metric, sizeof metric, "%s", text(s, 2));
    if (!ph_hub_config_ent(r->park, ent) || !api_summary_pollutant(r->env->refs->cat, metric)) continue;
    status = exc_series(r, q, w, ent, point, metric);
  }
  if (status) return r->status;
  return rc == SQLITE_DONE ? 0 : api_db_fail(r, "listing series");
}

/* The arguments: 0, or the status of a refusal. */
static int exc_query(struct api_req *r, struct exc_q *q, struct park_set *ps) {
  int64_t def = DEFAULT_ROWS < r->conf->max_points ? DEFAULT_ROWS : r->conf->max_points;
  if (api_args_check(r, exc_args) || period_and_parks(r, &q->from, &q->to, ps) ||
      api_arg_id(r, "ent", false, &q->ent) || api_arg_id(r, "metric", false, &q->metric) ||
      api_arg_word(r, "status", status_words, -1, &q->status) ||
      api_arg_int(r, "limit", 1, r->conf->max_points, def, &q->limit))
    return r->status;
  if (q->ent && !ent_in(r, ps, q->ent))
    return api_fail(r, 404, "ent", "ent: %s is not an enterprise of the parks asked for", q->ent);
  if (q->metric && !api_summary_pollutant(r->env->refs->cat, q->metric))
    return api_fail(r, 400, "metric",
                    "metric: %s is not a continuously measured pollutant concentration (…/Nm3, e.g. so2)", q->metric);
  return 0;
}

int api_get_parks_exceedances(struct api_req *r) {
  struct exc_q q;
  struct park_set ps;
  if (exc_query(r, &q, &ps)) return r->status;
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(api_db(r), API_PARKS_SQL_SERIES, -1, &s, NULL) != SQLITE_OK) {
    sqlite3_finalize(s);
    return api_db_fail(r, "listing series");
  }
  api_attachment(r, "exceedances", q.metric, q.from, q.to);
  struct api_rows w;
  ar_begin(&w, r, exc_cols);
  struct api_json *j = ar_head(&w);
  if (j) {
    aj_time(j, "from", q.from);
    aj_time(j, "to", q.to);
    parks_json(j, "parks", r, &ps);
  }
  ar_open(&w, "exceedances");
  int status = 0;
  ph_stmt_cache_begin(api_db(r)); /* a compliance figure per series: its statements prepared once */
  for (int k = 0; !status && k < ps.n; k++) {
    set_park(r, ps.idx[k]);
    status = exc_park(r, &q, &w, s);
  }
  ph_stmt_cache_end(api_db(r));
  sqlite3_finalize(s);
  if (status) return status;
  ar_finish(&w, NULL);
  return 200;
}
