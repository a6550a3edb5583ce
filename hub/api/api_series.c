/* api_series.c — GET /api/v1/parks/{park}/series: one metric of one point
 * over [from, to), from the rollups (step 1m, 1h, 1d) or from the raw
 * sample chunks (step raw), JSON or CSV, in pages.
 *
 * Callers: api.c's dispatch. Threads: a worker's, on its read connection.
 *
 * Invariants:
 *  1. a step's range is at most raw 2 days, 1m 31 days, 1h 400 days,
 *     1d 20 years; a page holds at most `limit` points (≤ conf.max_points);
 *     the next page is the same request with `cursor` (also sent as a
 *     Link: rel="next" header and as "next" in JSON).
 *  2. rollup values: mean = sum / n, min, max, sum, count = n (all
 *     samples, whatever their flag); buckets are the rollups' (hour and day:
 *     the park's local ones).
 *  3. raw values come in (ts, chunk id, position in chunk) order: a total
 *     order, so a cursor "T.K" (the first K values at time T were sent)
 *     resumes exactly where the last page stopped, even among values that
 *     share a timestamp. Chunks are read one UTC hour at a time (a chunk
 *     never spans two), so memory is one page plus one hour of values.
 *  4. JSON rows are {t, v, n, n_valid} (raw: {t, v, flag}) under a head
 *     naming the series; CSV rows repeat the series (park, ent, point,
 *     metric, unit) and add the park's local time ("2026-12-07 03:43",
 *     seconds too for raw values) before the UTC time, with values rounded
 *     to the catalogue's decimals for the metric (exact when it has none).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_args.h"
#include "api_handlers.h"
#include "api_req.h"
#include "api_rows.h"
#include "parkhub/alloc.h"
#include "store/chunk.h"
#include "parkhub/log.h"
#include "parkhub/timefmt.h"

#define MOD "api"
#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL

enum step { STEP_RAW, STEP_1M, STEP_1H, STEP_1D };
enum agg { AGG_MEAN, AGG_MIN, AGG_MAX, AGG_SUM, AGG_COUNT };

static const char *const step_words[] = {"raw", "1m", "1h", "1d", NULL};
static const char *const agg_words[] = {"mean", "min", "max", "sum", "count", NULL};
static const int64_t max_range_ms[] = {2 * DAY_MS, 31 * DAY_MS, 400 * DAY_MS, 7305 * DAY_MS};
static const char *const max_range_text[] = {"2 days", "31 days", "400 days", "20 years"};

struct series_q {
  const char *ent, *point, *metric, *unit;
  int decimals; /* the catalogue's, -1: none */
  int64_t from, to, limit, series_id, point_id, metric_id;
  int step, agg;
  bool agg_given;
};

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

static void next_link(struct api_req *r, const struct series_q *q, const char *cursor) {
  char from[PH_TIME_STRLEN], to[PH_TIME_STRLEN], agg[32] = "";
  ph_time_format(q->from, from, sizeof from);
  ph_time_format(q->to, to, sizeof to);
  if (q->step != STEP_RAW) snprintf(agg, sizeof agg, "&agg=%s", agg_words[q->agg]);
  snprintf(r->link, sizeof r->link,
           "/api/v1/parks/%s/series?ent=%s&point=%s&metric=%s&from=%s&to=%s&step=%s%s&limit=%lld&cursor=%s",
           r->park->id, q->ent, q->point, q->metric, from, to, step_words[q->step], agg, (long long)q->limit, cursor);
  api_link_output(r);
}

/* inv. 4: the series' columns; v rounded in CSV to the metric's decimals. */
#define SERIES_LEAD                                                                                  \
  API_COLF("park", API_STR, API_COL_CSV), API_COLF("ent", API_STR, API_COL_CSV),                     \
      API_COLF("point", API_STR, API_COL_CSV), API_COLF("metric", API_STR, API_COL_CSV),             \
      API_COLF("unit", API_STR, API_COL_CSV), API_COLF("local", API_STR, API_COL_CSV),               \
      API_COL("t", API_TIME), API_COL("v", API_NUM)
static const struct api_col rollup_cols[] = {
    SERIES_LEAD, API_COL("n", API_INT), API_COL("n_valid", API_INT), API_COL_END};
static const struct api_col raw_cols[] = {
    SERIES_LEAD, API_COL("flag", API_STR), API_COL_END};
#define V_COL 7

/* The document's head (JSON) or the CSV header; cols is the caller's copy
 * of the step's columns, given the metric's decimals. */
static void begin(struct api_req *r, const struct series_q *q, struct api_rows *w, struct api_col *cols) {
  const struct api_col *src = q->step == STEP_RAW ? raw_cols : rollup_cols;
  int n = 0;
  while (src[n].name) n++;
  memcpy(cols, src, (size_t)(n + 1) * sizeof *cols);
  cols[V_COL].rounded = q->decimals >= 0;
  cols[V_COL].decimals = q->decimals;
  ar_begin(w, r, cols);
  struct api_json *j = ar_head(w);
  if (j) {
    aj_str(j, "park", r->park->id);
    aj_str(j, "ent", q->ent);
    aj_str(j, "point", q->point);
    aj_str(j, "metric", q->metric);
    aj_str(j, "unit", q->unit);
    aj_str(j, "step", step_words[q->step]);
    if (q->step != STEP_RAW) aj_str(j, "agg", agg_words[q->agg]);
    aj_time(j, "from", q->from);
    aj_time(j, "to", q->to);
  }
  ar_open(w, "points");
}

/* A row's first cells: the series (CSV) and the time, local and UTC. */
static void lead(struct api_rows *w, const struct api_req *r, const struct series_q *q, int64_t t) {
  char loc[32] = "";
  if (r->csv) api_local_minute(r->tz, t, q->step == STEP_RAW, loc, sizeof loc); /* a CSV-only column */
  ar_row(w);
  ar_str(w, r->park->id);
  ar_str(w, q->ent);
  ar_str(w, q->point);
  ar_str(w, q->metric);
  ar_str(w, q->unit);
  ar_str(w, loc);
  ar_time(w, t);
}

/* ---- rollups ---- */

static int from_rollups(struct api_req *r, struct series_q *q) {
  int64_t start = q->from;
  const char *cur = api_arg(r, "cursor");
  struct ph_err err;
  if (cur && api_parse_time_cursor(cur, q->from, q->to, &start, &err))
    return api_fail(r, 400, "cursor", "cursor: %s", err.msg);
  sqlite3_stmt *s = api_stmt(r, API_ST_ROLLUPS);
  if (!s) return api_db_fail(r, "reading rollups");
  static const int period[] = {0, 0, 1, 2};
  sqlite3_bind_int64(s, 1, q->series_id);
  sqlite3_bind_int(s, 2, period[q->step]);
  sqlite3_bind_int64(s, 3, start);
  sqlite3_bind_int64(s, 4, q->to);
  sqlite3_bind_int64(s, 5, q->limit + 1);
  struct api_rows w;
  struct api_col cols[API_ROWS_MAXCOLS + 1];
  begin(r, q, &w, cols);
  int64_t count = 0;
  char next[32] = "";
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    int64_t t = sqlite3_column_int64(s, 0), n = sqlite3_column_int64(s, 1), nv = sqlite3_column_int64(s, 2);
    if (count == q->limit) {
      snprintf(next, sizeof next, "%lld", (long long)t);
      break;
    }
    double v;
    switch (q->agg) {
    case AGG_MIN: v = sqlite3_column_double(s, 4); break;
    case AGG_MAX: v = sqlite3_column_double(s, 5); break;
    case AGG_SUM: v = sqlite3_column_double(s, 3); break;
    case AGG_COUNT: v = (double)n; break;
    default: v = n ? sqlite3_column_double(s, 3) / (double)n : NAN; break;
    }
    lead(&w, r, q, t);
    ar_num(&w, v);
    ar_int(&w, n);
    ar_int(&w, nv);
    ar_end_row(&w);
    count++;
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return api_db_fail(r, "reading rollups");
  sqlite3_reset(s);
  if (next[0]) next_link(r, q, next);
  ar_finish_cursor(&w, next[0] ? next : NULL, next[0] ? r->link : NULL);
  return 200;
}

/* ---- raw samples ---- */

struct rawv {
  int64_t ts, chunk;
  uint32_t idx;
  char flag;
  double v;
};

struct rawvec {
  struct rawv *v;
  size_t n, cap;
};

static int push(struct rawvec *a, const struct rawv *x) {
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 1024;
    struct rawv *p = ph_realloc(a->v, cap * sizeof *p);
    if (!p) return PH_ENOMEM;
    a->v = p;
    a->cap = cap;
  }
  a->v[a->n++] = *x;
  return 0;
}

static int cmp_rawv(const void *pa, const void *pb) {
  const struct rawv *a = pa, *b = pb;
  if (a->ts != b->ts) return a->ts < b->ts ? -1 : 1;
  if (a->chunk != b->chunk) return a->chunk < b->chunk ? -1 : 1;
  return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Moves one hour's values, sorted, onto the page: those at or after the
 * cursor (t0, skipping the first skip at t0), inside [from, to). */
static int flush_hour(struct rawvec *hour, struct rawvec *page, const struct series_q *q, int64_t t0, int64_t skip,
                      int64_t *skipped) {
  if (hour->n) qsort(hour->v, hour->n, sizeof *hour->v, cmp_rawv);
  for (size_t i = 0; i < hour->n; i++) {
    const struct rawv *x = &hour->v[i];
    if (x->ts < t0 || x->ts < q->from || x->ts >= q->to) continue;
    if (x->ts == t0 && *skipped < skip) {
      (*skipped)++;
      continue;
    }
    if (push(page, x)) return PH_ENOMEM;
  }
  hour->n = 0;
  return 0;
}

static int from_chunks(struct api_req *r, struct series_q *q) {
  int64_t t0 = q->from, skip = 0, skipped = 0;
  const char *cur = api_arg(r, "cursor");
  struct ph_err perr;
  if (cur && api_parse_raw_cursor(cur, q->from, q->to, &t0, &skip, &perr))
    return api_fail(r, 400, "cursor", "cursor: %s", perr.msg);
  sqlite3_stmt *s = api_stmt(r, API_ST_CHUNKS);
  if (!s) return api_db_fail(r, "reading samples");
  sqlite3_bind_int64(s, 1, q->point_id);
  sqlite3_bind_int64(s, 2, floor_div(t0, HOUR_MS) * HOUR_MS);
  sqlite3_bind_int64(s, 3, q->to);
  sqlite3_bind_int64(s, 4, t0);
  struct rawvec hour = {0}, page = {0};
  struct ph_chunk_value vals[256];
  int64_t cur_hour = INT64_MIN, bad = 0;
  int rc, err = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(s, 0), h = floor_div(sqlite3_column_int64(s, 1), HOUR_MS);
    if (h != cur_hour) {
      if ((err = flush_hour(&hour, &page, q, t0, skip, &skipped))) break;
      if ((int64_t)page.n > q->limit) break; /* the page and its successor's first value */
      cur_hour = h;
    }
    const void *blob = sqlite3_column_blob(s, 2);
    struct ph_chunk_reader rd;
    if (!blob || ph_chunk_reader_init(&rd, blob, (size_t)sqlite3_column_bytes(s, 2))) {
      bad++;
      continue;
    }
    int64_t ts;
    int state;
    size_t n;
    uint32_t idx = 0;
    int more;
    while ((more = ph_chunk_next(&rd, &ts, &state, vals, 256, &n)) == 1) {
      for (size_t i = 0; i < n; i++, idx++) {
        if (vals[i].metric_id != q->metric_id) continue;
        struct rawv x = {.ts = ts, .chunk = id, .idx = idx, .flag = vals[i].flag, .v = vals[i].v};
        if ((err = push(&hour, &x))) break;
      }
      if (err) break;
    }
    if (err) break;
    if (more < 0) bad++;
  }
  if (!err && (rc == SQLITE_ROW || rc == SQLITE_DONE)) err = flush_hour(&hour, &page, q, t0, skip, &skipped);
  sqlite3_reset(s);
  ph_free(hour.v);
  if (err) {
    ph_free(page.v);
    return api_fail(r, 500, NULL, "out of memory");
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    ph_free(page.v);
    return api_db_fail(r, "reading samples");
  }
  if (bad) PH_WARN(MOD, "series: %lld malformed sample chunks of point id %lld skipped", (long long)bad,
                   (long long)q->point_id);
  int64_t count = (int64_t)page.n < q->limit ? (int64_t)page.n : q->limit;
  char next[48] = "";
  if ((int64_t)page.n > q->limit) {
    int64_t tn = page.v[count].ts, k = tn == t0 ? skip : 0;
    for (int64_t i = count - 1; i >= 0 && page.v[i].ts == tn; i--) k++;
    if (k)
      snprintf(next, sizeof next, "%lld.%lld", (long long)tn, (long long)k);
    else
      snprintf(next, sizeof next, "%lld", (long long)tn);
    next_link(r, q, next);
  }
  struct api_rows w;
  struct api_col cols[API_ROWS_MAXCOLS + 1];
  begin(r, q, &w, cols);
  for (int64_t i = 0; i < count; i++) {
    const struct rawv *x = &page.v[i];
    char flag[2] = {x->flag, 0};
    lead(&w, r, q, x->ts);
    ar_num(&w, x->v);
    ar_str(&w, flag);
    ar_end_row(&w);
  }
  ph_free(page.v);
  ar_finish_cursor(&w, next[0] ? next : NULL, next[0] ? r->link : NULL);
  return 200;
}

static const char *const series_args[] = {"ent", "point", "metric", "from", "to", "step", "agg", "limit", "cursor",
                                          NULL};

int api_get_series(struct api_req *r) {
  struct series_q q = {0};
  if (api_args_check(r, series_args) || api_arg_id(r, "ent", true, &q.ent) ||
      api_arg_id(r, "point", true, &q.point) || api_arg_id(r, "metric", true, &q.metric) ||
      api_arg_time(r, "from", true, &q.from, NULL) || api_arg_time(r, "to", true, &q.to, NULL) ||
      api_arg_word(r, "step", step_words, STEP_1H, &q.step) || api_arg_word(r, "agg", agg_words, AGG_MEAN, &q.agg) ||
      api_arg_int(r, "limit", 1, r->conf->max_points, r->conf->max_points, &q.limit))
    return r->status;
  q.agg_given = api_arg(r, "agg") != NULL;
  if (q.step == STEP_RAW && q.agg_given)
    return api_fail(r, 400, "agg", "agg: raw values are not aggregated (leave agg out with step=raw)");
  char most[64];
  snprintf(most, sizeof most, "%s, the most for step=%s", max_range_text[q.step], step_words[q.step]);
  if (api_arg_period(r, q.from, q.to, max_range_ms[q.step], most)) return r->status;
  if (!ph_hub_config_ent(r->park, q.ent))
    return api_fail(r, 404, "ent", "ent: %s is not an enterprise of park %s", q.ent, r->park->id);
  int mi = ph_catalog_find(r->env->refs->cat, q.metric, strlen(q.metric));
  if (mi < 0) return api_fail(r, 400, "metric", "metric: %s is not in the metric catalogue", q.metric);
  q.unit = ph_catalog_at(r->env->refs->cat, (size_t)mi)->unit;
  q.decimals = ph_catalog_at(r->env->refs->cat, (size_t)mi)->decimals;

  sqlite3_stmt *s = api_stmt(r, API_ST_SERIES_ID);
  if (!s) return api_db_fail(r, "finding the series");
  sqlite3_bind_text(s, 1, r->park->id, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, q.ent, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 3, q.point, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 4, q.metric, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    q.series_id = sqlite3_column_int64(s, 0);
    q.point_id = sqlite3_column_int64(s, 1);
    q.metric_id = sqlite3_column_int64(s, 2);
  }
  sqlite3_reset(s);
  if (rc == SQLITE_DONE)
    return api_fail(r, 404, "point", "no data of metric %s at point %s of %s", q.metric, q.point, q.ent);
  if (rc != SQLITE_ROW) return api_db_fail(r, "finding the series");
  char what[2 * PH_ID_MAX + 16];
  snprintf(what, sizeof what, "%s_%s_%s", q.ent, q.point, q.metric);
  api_attachment(r, "series", what, q.from, q.to);
  return q.step == STEP_RAW ? from_chunks(r, &q) : from_rollups(r, &q);
}
