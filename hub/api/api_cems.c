/* api_cems.c — the regulator's figures over the API: the CEMS hourly and
 * daily means with their validity, the limit in force and the exceedance
 * mark, and the recorded exceedances, for a park or an enterprise over a
 * period, in pages, JSON or CSV:
 *
 *   GET /api/v1/parks/{park}/cems/hours        cems_hours  (api_cems_sql.h)
 *   GET /api/v1/parks/{park}/cems/days         cems_days + cems_ent_days
 *   GET /api/v1/parks/{park}/cems/exceedances  ph_compliance_exceedances
 *
 * Callers: api.c's dispatch, after access and park checks. Threads: a
 * worker's, on its read connection, inside the request's read transaction
 * (api.c inv. 2: a page is one snapshot). Statements are prepared per
 * request and finalized before it returns.
 *
 * Invariants:
 *  1. the figures are those ph_cems_update stored and the report reads
 *     (ph_compliance_summary counts the same rows with the same exceeded
 *     expression; the exceedance list is ph_compliance_exceedances itself):
 *     the API adds no arithmetic but limit_ratio = judged value / limit.
 *  2. a mean that is not valid is shown as null (with its valid_minutes /
 *     valid_hours), and is never exceeded: only valid means are judged.
 *  3. only configured enterprises of the park are shown (api_query.c
 *     inv. 1); rows of others in the database are skipped.
 *  4. bounded: a page holds at most `limit` rows (≤ conf.max_points), the
 *     period at most HOURS_MAX_DAYS / DAYS_MAX_DAYS days; the next page is
 *     the same request with `cursor` = the key of its first row (a keyset,
 *     so pages neither repeat nor skip rows while the tables grow).
 *  5. times: `start` is the period's start in RFC 3339 UTC, `local` the
 *     same instant in the park's zone with its offset (ISO 8601), `date`
 *     the local calendar day of a daily mean.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_args.h"
#include "api_cems_sql.h"
#include "api_handlers.h"
#include "api_req.h"
#include "api_rows.h"
#include "domain/cems.h"
#include "domain/compliance.h"
#include "parkhub/log.h"
#include "parkhub/timefmt.h"
#include "parkhub/tz.h"

#define MOD "api"
#define DAY_MS 86400000LL
#define HOURS_MAX_DAYS 31
#define DAYS_MAX_DAYS 400
#define DEFAULT_ROWS 1000

enum only { ONLY_ALL, ONLY_VALID, ONLY_EXCEEDED };
static const char *const only_words[] = {"all", "valid", "exceeded", NULL};
static const char *const period_words[] = {"hour", "day", NULL};

/* A row's key in the order of the listing: the cursor names the first row
 * of the next page. Hours and days: (ent, point, metric, t); exceedances:
 * (t, period, ent, point, metric), ph_compliance_exceedances' order. */
struct key {
  char ent[PH_ID_MAX + 1], point[PH_ID_MAX + 1], metric[PH_ID_MAX + 1];
  int64_t t;
  int period;
};

struct cems_q {
  const char *what; /* "hours", "days", "exceedances": the path's last segment */
  const char *ent, *point, *metric;
  int64_t from, to, limit, closed;
  int only, period; /* period: -1 both, 0 hour, 1 day */
  bool has_cursor;
  struct key cur;
};

/* ---- arguments ---- */

/* Hours and days: "ent.point.metric.t"; exceedances: "t.period.ent.point.metric"
 * (api_args.h; period 1 hour, 2 day). */
_Static_assert(PH_CEMS_PERIOD_HOUR == 1 && PH_CEMS_PERIOD_DAY == 2, "the cursor's period numbers (api_args.c)");
static int parse_cursor(struct api_req *r, struct cems_q *q, bool exceedances) {
  const char *v = api_arg(r, "cursor");
  if (!v) return 0;
  struct api_cems_cursor k;
  struct ph_err err;
  if (api_parse_cems_cursor(v, exceedances, q->from, q->to, &k, &err))
    return api_fail(r, 400, "cursor", "cursor: %s", err.msg);
  memcpy(q->cur.ent, k.ent, sizeof k.ent);
  memcpy(q->cur.point, k.point, sizeof k.point);
  memcpy(q->cur.metric, k.metric, sizeof k.metric);
  q->cur.t = k.t;
  q->cur.period = k.period;
  q->has_cursor = true;
  return 0;
}

static const char *const hours_args[] = {"ent", "point", "metric", "from", "to", "only", "limit", "cursor", NULL};
static const char *const exc_args[] = {"ent", "point", "metric", "from", "to", "period", "limit", "cursor", NULL};

/* The arguments every listing shares, checked in the order of the
 * documentation; a 400 (404 for an enterprise not of the park) names the
 * argument at fault. */
static int parse(struct api_req *r, struct cems_q *q, int max_days) {
  bool exc = !strcmp(q->what, "exceedances");
  int64_t def = DEFAULT_ROWS < r->conf->max_points ? DEFAULT_ROWS : r->conf->max_points;
  q->period = -1;
  if (api_args_check(r, exc ? exc_args : hours_args) || api_arg_id(r, "ent", false, &q->ent) ||
      api_arg_id(r, "point", false, &q->point) || api_arg_id(r, "metric", false, &q->metric) ||
      api_arg_time(r, "from", true, &q->from, NULL) || api_arg_time(r, "to", true, &q->to, NULL) ||
      (exc ? api_arg_word(r, "period", period_words, -1, &q->period)
           : api_arg_word(r, "only", only_words, ONLY_ALL, &q->only)) ||
      api_arg_int(r, "limit", 1, r->conf->max_points, def, &q->limit))
    return r->status;
  if (q->to <= q->from) return api_fail(r, 400, "to", "to: must be after from");
  if (q->to - q->from > max_days * DAY_MS)
    return api_fail(r, 400, "to",
                    "to: the range is longer than %d days, the most for cems/%s"
                    " (e.g. from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z)",
                    max_days, q->what);
  if (parse_cursor(r, q, exc)) return r->status;
  if (q->ent && !ph_hub_config_ent(r->park, q->ent))
    return api_fail(r, 404, "ent", "ent: %s is not an enterprise of park %s", q->ent, r->park->id);
  if (q->metric) {
    int mi = ph_catalog_find(r->env->refs->cat, q->metric, strlen(q->metric));
    if (mi < 0) return api_fail(r, 400, "metric", "metric: %s is not in the metric catalogue (e.g. so2)", q->metric);
    if (ph_catalog_at(r->env->refs->cat, (size_t)mi)->kind != PH_KIND_EMISSION)
      return api_fail(r, 400, "metric",
                      "metric: %s is not an emission metric: CEMS means exist only for those (e.g. so2)", q->metric);
  }
  if (!r->tz) return api_fail(r, 500, NULL, "no time zone loaded for park %s", r->park->id);
  struct ph_err err = {0};
  if (ph_cems_closed_until(api_db(r), &q->closed, &err)) {
    PH_WARN(MOD, "cems/%s: %s", q->what, err.msg);
    return api_fail(r, 500, NULL, "database error while reading the CEMS state");
  }
  return 0;
}

/* ---- output helpers ---- */

/* "YYYY-MM-DDTHH:MM:SS+HH:MM": ms in the park's zone (inv. 5). */
static void iso_local(const struct ph_tz *tz, int64_t ms, char *buf, size_t cap) { ph_tz_format_local(tz, ms, buf, cap); }

static const char *text(sqlite3_stmt *s, int col) {
  const unsigned char *t = sqlite3_column_text(s, col);
  return t ? (const char *)t : "";
}

static double num_or_nan(sqlite3_stmt *s, int col) {
  return sqlite3_column_type(s, col) == SQLITE_NULL ? NAN : sqlite3_column_double(s, col);
}

/* The catalogue's unit of a metric code, NULL when the catalogue lacks it. */
static const char *unit_of(const struct api_req *r, const char *code) {
  int i = ph_catalog_find(r->env->refs->cat, code, strlen(code));
  return i < 0 ? NULL : ph_catalog_at(r->env->refs->cat, (size_t)i)->unit;
}

/* Whether ent is configured in the park (inv. 3); rows come grouped by
 * enterprise, so the last answer is kept. */
struct ent_memo {
  char ent[PH_ID_MAX + 1];
  bool known;
};
static bool configured(const struct api_req *r, struct ent_memo *m, const char *ent) {
  if (strcmp(m->ent, ent)) {
    snprintf(m->ent, sizeof m->ent, "%s", ent);
    m->known = ph_hub_config_ent(r->park, ent) != NULL;
  }
  return m->known;
}

/* The Link of the next page: the query again, times in UTC, with cursor. */
static void next_link(struct api_req *r, const struct cems_q *q, const char *cursor) {
  char f[PH_TIME_STRLEN], t[PH_TIME_STRLEN];
  ph_time_format(q->from, f, sizeof f);
  ph_time_format(q->to, t, sizeof t);
  size_t n = (size_t)snprintf(r->link, sizeof r->link, "/api/v1/parks/%s/cems/%s?from=%s&to=%s", r->park->id,
                              q->what, f, t);
  const char *const names[] = {"ent", "point", "metric"};
  const char *const vals[] = {q->ent, q->point, q->metric};
  for (int i = 0; i < 3 && n < sizeof r->link; i++)
    if (vals[i]) n += (size_t)snprintf(r->link + n, sizeof r->link - n, "&%s=%s", names[i], vals[i]);
  if (n < sizeof r->link && q->period >= 0)
    n += (size_t)snprintf(r->link + n, sizeof r->link - n, "&period=%s", period_words[q->period]);
  if (n < sizeof r->link && q->only != ONLY_ALL)
    n += (size_t)snprintf(r->link + n, sizeof r->link - n, "&only=%s", only_words[q->only]);
  if (n < sizeof r->link)
    n += (size_t)snprintf(r->link + n, sizeof r->link - n, "&limit=%lld&cursor=%s", (long long)q->limit, cursor);
  api_link_output(r);
}

/* The CSV download's name, and the document's head (JSON): the query and
 * how far the tables are final. */
static void head(struct api_rows *w, struct api_req *r, const struct cems_q *q) {
  char what[32];
  snprintf(what, sizeof what, "cems_%s", q->what);
  api_attachment(r, what, q->ent, q->from, q->to); /* CSV only */
  struct api_json *j = ar_head(w);
  if (!j) return;
  aj_str(j, "park", r->park->id);
  aj_str(j, "tz", ph_tz_name(r->tz));
  aj_time(j, "from", q->from);
  aj_time(j, "to", q->to);
  if (q->closed)
    aj_time(j, "closed_until", q->closed);
  else
    aj_null(j, "closed_until");
}

/* The cells every row starts with. */
static void lead(struct api_rows *w, const struct api_req *r, const char *ent, const char *point, const char *metric,
                 int64_t t) {
  char loc[40];
  iso_local(r->tz, t, loc, sizeof loc);
  ar_str(w, r->park->id);
  ar_str(w, ent);
  ar_str(w, point);
  ar_str(w, metric);
  ar_str(w, unit_of(r, metric));
  ar_time(w, t);
  ar_str(w, loc);
}

/* Binds the shared parameters of api_cems_sql.h. */
static void bind_query(sqlite3_stmt *s, const struct api_req *r, const struct cems_q *q) {
  sqlite3_bind_text(s, 1, r->park->id, -1, SQLITE_STATIC);
  const char *f[3] = {q->ent, q->point, q->metric};
  for (int i = 0; i < 3; i++)
    if (f[i]) sqlite3_bind_text(s, 2 + i, f[i], -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 5, q->from);
  sqlite3_bind_int64(s, 6, q->to);
  sqlite3_bind_int(s, 7, q->only);
  if (q->has_cursor) {
    sqlite3_bind_text(s, 8, q->cur.ent, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 9, q->cur.point, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 10, q->cur.metric, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 11, q->cur.t);
  } else {
    sqlite3_bind_text(s, 8, q->ent ? q->ent : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 9, "", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 10, "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 11, q->from);
  }
}

/* Steps s, writing rows through `row` until the page is full; the cursor
 * of the row after the page, when there is one, goes to r->link. Columns
 * 0..3 of s are ent, point, metric, start. Finalizes s. */
static int page(struct api_req *r, struct cems_q *q, sqlite3_stmt *s, struct api_rows *w,
                void (*row)(struct api_rows *w, const struct api_req *r, sqlite3_stmt *s)) {
  struct ent_memo memo = {0};
  char cursor[4 * (PH_ID_MAX + 1) + 32] = "";
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (!configured(r, &memo, text(s, 0))) continue;
    if (w->count == q->limit) {
      snprintf(cursor, sizeof cursor, "%s.%s.%s.%lld", text(s, 0), text(s, 1), text(s, 2),
               (long long)sqlite3_column_int64(s, 3));
      break;
    }
    row(w, r, s);
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    char what[40];
    snprintf(what, sizeof what, "reading CEMS %s", q->what);
    int status = api_db_fail(r, what);
    sqlite3_finalize(s);
    return status;
  }
  sqlite3_finalize(s);
  if (cursor[0]) next_link(r, q, cursor);
  ar_finish(w, cursor[0] ? r->link : NULL);
  return 200;
}

static sqlite3_stmt *prepare(struct api_req *r, const char *sql) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(api_db(r), sql, -1, &s, NULL) != SQLITE_OK) {
    sqlite3_finalize(s);
    return NULL;
  }
  return s;
}

/* ---- GET …/cems/hours ---- */

static const struct api_col hour_cols[] = {
    API_COL("park", API_STR), API_COL("ent", API_STR), API_COL("point", API_STR), API_COL("metric", API_STR),
    API_COL("unit", API_STR), API_COL("start", API_TIME), API_COL("local", API_STR), API_COL("source", API_STR),
    API_COL("valid_minutes", API_INT), API_COL("valid", API_BOOL), API_COL("mean", API_NUM),
    API_COL("limit", API_NUM), API_COL("exceeded", API_BOOL), API_COL("limit_ratio", API_NUM), API_COL_END};

static void hour_row(struct api_rows *w, const struct api_req *r, sqlite3_stmt *s) {
  static const char *const source[] = {[PH_CEMS_SAMPLES] = "samples", [PH_CEMS_MINUTE_DATA] = "minutes",
                                       [PH_CEMS_HOURLY_DATA] = "hourly"};
  int kind = sqlite3_column_int(s, 4);
  bool valid = sqlite3_column_int(s, 6) != 0;
  double mean = valid ? num_or_nan(s, 7) : NAN, limit = num_or_nan(s, 8); /* inv. 2 */
  ar_row(w);
  lead(w, r, text(s, 0), text(s, 1), text(s, 2), sqlite3_column_int64(s, 3));
  ar_str(w, kind >= 0 && kind <= PH_CEMS_HOURLY_DATA ? source[kind] : NULL);
  ar_int(w, sqlite3_column_int64(s, 5));
  ar_bool(w, valid);
  ar_num(w, mean);
  ar_num(w, limit);
  ar_bool(w, sqlite3_column_int(s, 9) != 0);
  ar_num(w, mean / limit); /* NaN (null) without a valid mean or a limit */
  ar_end_row(w);
}

int api_get_cems_hours(struct api_req *r) {
  struct cems_q q = {.what = "hours"};
  if (parse(r, &q, HOURS_MAX_DAYS)) return r->status;
  sqlite3_stmt *s = prepare(r, API_CEMS_SQL_HOURS);
  if (!s) return api_db_fail(r, "reading CEMS hours");
  bind_query(s, r, &q);
  struct api_rows w;
  ar_begin(&w, r, hour_cols);
  head(&w, r, &q);
  ar_open(&w, "hours");
  return page(r, &q, s, &w, hour_row);
}

/* ---- GET …/cems/days ---- */

static const struct api_col day_cols[] = {
    API_COL("park", API_STR), API_COL("ent", API_STR), API_COL("point", API_STR), API_COL("metric", API_STR),
    API_COL("unit", API_STR), API_COL("start", API_TIME), API_COL("local", API_STR), API_COL("date", API_STR),
    API_COL("valid_hours", API_INT), API_COL("valid", API_BOOL), API_COL("mean", API_NUM),
    API_COL("ratio", API_NUM), API_COL("converted", API_NUM), API_COL("limit", API_NUM),
    API_COL("exceeded", API_BOOL), API_COL("limit_ratio", API_NUM), API_COL("flow_nm3", API_NUM),
    API_COL("product_t", API_NUM), API_COL("benchmark_m3_t", API_NUM), API_COL_END};

static void day_row(struct api_rows *w, const struct api_req *r, sqlite3_stmt *s) {
  int64_t t = sqlite3_column_int64(s, 3);
  bool valid = sqlite3_column_int(s, 5) != 0;
  double mean = valid ? num_or_nan(s, 6) : NAN, conv = valid ? num_or_nan(s, 8) : NAN, limit = num_or_nan(s, 9);
  char loc[40];
  iso_local(r->tz, t, loc, sizeof loc);
  loc[10] = 0;
  ar_row(w);
  lead(w, r, text(s, 0), text(s, 1), text(s, 2), t);
  ar_str(w, loc);
  ar_int(w, sqlite3_column_int64(s, 4));
  ar_bool(w, valid);
  ar_num(w, mean);
  ar_num(w, num_or_nan(s, 7));
  ar_num(w, conv);
  ar_num(w, limit);
  ar_bool(w, sqlite3_column_int(s, 10) != 0);
  ar_num(w, conv / limit);
  ar_num(w, num_or_nan(s, 11));
  ar_num(w, num_or_nan(s, 12));
  ar_num(w, num_or_nan(s, 13));
  ar_end_row(w);
}

int api_get_cems_days(struct api_req *r) {
  struct cems_q q = {.what = "days"};
  if (parse(r, &q, DAYS_MAX_DAYS)) return r->status;
  sqlite3_stmt *s = prepare(r, API_CEMS_SQL_DAYS);
  if (!s) return api_db_fail(r, "reading CEMS days");
  bind_query(s, r, &q);
  struct api_rows w;
  ar_begin(&w, r, day_cols);
  head(&w, r, &q);
  ar_open(&w, "days");
  return page(r, &q, s, &w, day_row);
}

/* ---- GET …/cems/exceedances ---- */

static const struct api_col exc_cols[] = {
    API_COL("park", API_STR), API_COL("ent", API_STR), API_COL("point", API_STR), API_COL("metric", API_STR),
    API_COL("unit", API_STR), API_COL("start", API_TIME), API_COL("local", API_STR), API_COL("period", API_STR),
    API_COL("mean", API_NUM), API_COL("converted", API_NUM), API_COL("ratio", API_NUM), API_COL("limit", API_NUM),
    API_COL("limit_ratio", API_NUM), API_COL("standard", API_STR), API_COL("recorded", API_TIME), API_COL_END};

struct exc_walk {
  struct api_req *r;
  struct cems_q *q;
  struct api_rows *w;
  struct ent_memo memo;
  char next[4 * (PH_ID_MAX + 1) + 48];
};

/* e's place against the cursor's key, in the walk's order. */
static int cmp_key(const struct ph_exceedance *e, const struct key *k) {
  if (e->bucket_ms != k->t) return e->bucket_ms < k->t ? -1 : 1;
  if (e->period != k->period) return e->period < k->period ? -1 : 1;
  int c = strcmp(e->ent, k->ent);
  if (!c) c = strcmp(e->point, k->point);
  if (!c) c = strcmp(e->metric, k->metric);
  return c;
}

static int exc_row(void *u, const struct ph_exceedance *e) {
  struct exc_walk *x = u;
  const struct cems_q *q = x->q;
  if (!configured(x->r, &x->memo, e->ent) || (q->point && strcmp(q->point, e->point)) ||
      (q->period >= 0 && e->period != (q->period ? PH_CEMS_PERIOD_DAY : PH_CEMS_PERIOD_HOUR)) ||
      (q->has_cursor && cmp_key(e, &q->cur) < 0))
    return 0;
  if (x->w->count == q->limit) {
    snprintf(x->next, sizeof x->next, "%lld.%d.%s.%s.%s", (long long)e->bucket_ms, e->period, e->ent, e->point,
             e->metric);
    return 1; /* the page is full: stop the walk */
  }
  struct api_rows *w = x->w;
  ar_row(w);
  lead(w, x->r, e->ent, e->point, e->metric, e->bucket_ms);
  ar_str(w, e->period == PH_CEMS_PERIOD_DAY ? "day" : "hour");
  ar_num(w, e->mean);
  ar_num(w, e->converted);
  ar_num(w, e->ratio);
  ar_num(w, e->limit);
  ar_num(w, e->converted / e->limit);
  ar_str(w, e->standard);
  ar_time(w, e->recorded_ms);
  ar_end_row(w);
  return 0;
}

int api_get_cems_exceedances(struct api_req *r) {
  struct cems_q q = {.what = "exceedances"};
  if (parse(r, &q, DAYS_MAX_DAYS)) return r->status;
  struct api_rows w;
  ar_begin(&w, r, exc_cols);
  head(&w, r, &q);
  ar_open(&w, "exceedances");
  struct exc_walk x = {.r = r, .q = &q, .w = &w};
  struct ph_err err = {0};
  /* inv. 1: the report's own walk; with a cursor it starts at the cursor's period */
  int rc = ph_compliance_exceedances(api_db(r), r->park->id, q.ent, q.metric, q.has_cursor ? q.cur.t : q.from, q.to,
                                     exc_row, &x, &err);
  if (rc < 0) {
    PH_WARN(MOD, "cems/exceedances of %s: %s", r->park->id, err.msg);
    return api_fail(r, 500, NULL, "database error while listing exceedances");
  }
  if (x.next[0]) next_link(r, &q, x.next);
  ar_finish(&w, x.next[0] ? r->link : NULL);
  return 200;
}
