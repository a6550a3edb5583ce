/* monitoring.c — monitoring periods and stopped hours (monitoring.h).
 *
 * Callers: compliance.c, emission_mass.c, inventory.c, the report and the
 * query API, each on its own read connection. Threads: the caller's; every
 * call prepares and finalizes its statements. Owns nothing between calls.
 *
 * Invariants (tests cite them):
 *  1. expected = hours − stopped ≥ 0, and a valid hour of the judged series
 *     is never counted as stopped (data outranks a declared state).
 *  2. nothing is expected outside [since, until), nor of a point that is
 *     not monitored (PH_MON_NONE).
 *  3. the stopped hours of ph_monitoring_stopped_each are exactly those
 *     counted in ph_monitoring_hours.stopped for the same arguments.
 *  4. inside a stmt_cache bracket (one read transaction) a point's first
 *     data hour and its first and last op hours are asked once and
 *     remembered; a range outside the op hours skips the statements that
 *     would find none (may_hold_op), so the figures are the same.
 *  5. inside a whole-park summary or report (cems_spans.h) the stopped
 *     hours last read (point, series, range) are remembered: the mass and
 *     the compliance of a pollutant ask the same ones, read once and
 *     handed to both in the same order.
 */
#include "domain/monitoring.h"
#include "domain/stmt_cache.h"
#include "domain/cems_spans.h"
#include "parkhub/alloc.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "domain/cems.h"
#include "domain/inventory.h" /* ph_inventory_midnight */

/* The point's first hour with data: kept by the writer in point_first
 * (migration 9, store_sql.h); a point without a row there has none written
 * by the writer, and is asked from its series' hour rollups (rows that
 * fixtures and bench/query's gen.sql write by SQL). */
#define MON_SQL_FIRST_DATA                                                                                 \
  "SELECT first_ms FROM point_first WHERE point_id = ?1"                                                   \
  " UNION ALL SELECT min((SELECT min(r.bucket_ms) FROM rollups r WHERE r.series_id = s.id AND r.period = 1))" \
  " FROM series s WHERE s.point_id = ?1 AND NOT EXISTS (SELECT 1 FROM point_first WHERE point_id = ?1)"
#define MON_SQL_ENT_POINTS "SELECT id, point FROM points WHERE park = ?1 AND ent = ?2"
/* ?1 point, ?2 from, ?3 to, ?4 park, ?5 ent, ?6 series judged (0: none) */
#define MON_SQL_STOPPED                                                                                    \
  "SELECT st.hour_ms, st.day_ms FROM (SELECT hour_ms, day_ms FROM cems_op_hours WHERE point_id = ?1"       \
  "  AND op = 1 AND hour_ms >= ?2 AND hour_ms < ?3"                                                        \
  " UNION SELECT hour_ms, day_ms FROM cems_ent_op_hours WHERE park = ?4 AND ent = ?5 AND op = 1"           \
  "  AND hour_ms >= ?2 AND hour_ms < ?3) st"                                                               \
  " WHERE NOT EXISTS (SELECT 1 FROM cems_hours h WHERE h.series_id = ?6 AND h.hour_ms = st.hour_ms"        \
  "  AND h.valid) ORDER BY st.hour_ms"
/* The first and last hour of op 1 (stopped) and op 2 (startup/shutdown) of
 * point ?1 and of its enterprise (?2 park, ?3 ent): eight index seeks,
 * asked once per point in a summary or report instead of running the
 * stopped and transition statements for every pollutant and range. */
#define MON_SQL_OP_EDGE(F, OP)                                                                             \
  "(SELECT " F "(hour_ms) FROM cems_op_hours WHERE point_id = ?1 AND op = " OP "),"                        \
  "(SELECT " F "(hour_ms) FROM cems_ent_op_hours WHERE park = ?2 AND ent = ?3 AND op = " OP ")"
#define MON_SQL_OP_SPAN                                                                                    \
  "SELECT " MON_SQL_OP_EDGE("min", "1") "," MON_SQL_OP_EDGE("max", "1") "," MON_SQL_OP_EDGE("min", "2") "," \
  MON_SQL_OP_EDGE("max", "2")
#define MON_SQL_TRANSITION                                                                                 \
  "SELECT count(*) FROM (SELECT hour_ms FROM cems_op_hours WHERE point_id = ?1 AND op = 2"                 \
  "  AND hour_ms >= ?2 AND hour_ms < ?3"                                                                   \
  " UNION SELECT hour_ms FROM cems_ent_op_hours WHERE park = ?4 AND ent = ?5 AND op = 2"                   \
  "  AND hour_ms >= ?2 AND hour_ms < ?3)"

const char *ph_mon_source_name(enum ph_mon_source s) {
  switch (s) {
  case PH_MON_CONFIGURED: return "configured";
  case PH_MON_FIRST_DATA: return "first data";
  default: return "none";
  }
}

static int db_fail(sqlite3 *db, struct ph_err *err, const char *what) {
  return ph_fail(err, PH_EDB, "monitoring: %s: %s", what, sqlite3_errmsg(db));
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *text) {
  sqlite3_stmt *s = NULL;
  if (ph_stmt_prepare(db, text, &s) != SQLITE_OK) {
    ph_stmt_release(s);
    return NULL;
  }
  return s;
}

/* Local midnight starting date d ("YYYY-MM-DD", checked by the config
 * loader), or of the day after it. */
static int64_t date_ms(const struct ph_tz *tz, const char *d, bool after) {
  int y = 0;
  unsigned m = 0, dd = 0;
  if (sscanf(d, "%4d-%2u-%2u", &y, &m, &dd) != 3) return 0;
  int64_t t = ph_inventory_midnight(tz, y, m, dd);
  return after ? ph_tz_next_day(tz, t) : t;
}

static void configured(const struct ph_hub_ent *e, const char *point, const char **since, const char **until) {
  *since = e ? e->monitoring_since : "";
  *until = e ? e->monitoring_until : "";
  for (int i = 0; e && point && i < e->npoint_monitoring; i++)
    if (strcmp(e->point_monitoring[i].point, point) == 0) {
      if (e->point_monitoring[i].since[0]) *since = e->point_monitoring[i].since;
      if (e->point_monitoring[i].until[0]) *until = e->point_monitoring[i].until;
    }
}

int ph_monitoring_window(sqlite3 *db, const struct ph_hub_ent *e, const struct ph_tz *tz, int64_t point_id,
                         const char *point, struct ph_monitoring_window *out, struct ph_err *err) {
  *out = (struct ph_monitoring_window){.until_ms = PH_MON_OPEN, .source = PH_MON_NONE};
  if (!db || !tz) return ph_fail(err, PH_EINVAL, "monitoring: needs a database and a zone");
  const char *since, *until;
  configured(e, point, &since, &until);
  if (until[0]) out->until_ms = date_ms(tz, until, true);
  if (since[0]) {
    out->since_ms = date_ms(tz, since, false);
    out->source = PH_MON_CONFIGURED;
    return 0;
  }
  int64_t first;
  if (ph_stmt_memo_get(point_id, &first)) { /* asked already by this summary or report */
    if (first >= 0) out->since_ms = first, out->source = PH_MON_FIRST_DATA;
    return 0;
  }
  sqlite3_stmt *s = prepare(db, MON_SQL_FIRST_DATA);
  if (!s) return db_fail(db, err, "first data");
  sqlite3_bind_int64(s, 1, point_id);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
    out->since_ms = sqlite3_column_int64(s, 0); /* an hour rollup's bucket: a local hour start */
    out->source = PH_MON_FIRST_DATA;
  }
  ph_stmt_release(s);
  if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
    ph_stmt_memo_put(point_id, out->source == PH_MON_FIRST_DATA ? out->since_ms : -1);
    return 0;
  }
  return db_fail(db, err, "first data");
}

int ph_monitoring_ent_window(sqlite3 *db, const struct ph_hub_ent *e, const struct ph_tz *tz, const char *park,
                             struct ph_monitoring_window *out, struct ph_err *err) {
  *out = (struct ph_monitoring_window){.until_ms = PH_MON_OPEN, .source = PH_MON_NONE};
  if (!db || !e || !park) return ph_fail(err, PH_EINVAL, "monitoring: needs a database, an enterprise and a park");
  if (e->monitoring_since[0] && e->npoint_monitoring == 0) /* the whole enterprise is configured */
    return ph_monitoring_window(db, e, tz, 0, NULL, out, err);
  sqlite3_stmt *s = prepare(db, MON_SQL_ENT_POINTS);
  if (!s) return db_fail(db, err, "points");
  sqlite3_bind_text(s, 1, park, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, e->id, -1, SQLITE_STATIC);
  int rc;
  bool any_open = false;
  int64_t latest = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    struct ph_monitoring_window w;
    char point[PH_ID_MAX + 1];
    snprintf(point, sizeof point, "%s", (const char *)sqlite3_column_text(s, 1));
    int e2 = ph_monitoring_window(db, e, tz, sqlite3_column_int64(s, 0), point, &w, err);
    if (e2) {
      ph_stmt_release(s);
      return e2;
    }
    if (w.source == PH_MON_NONE) continue;
    if (out->source == PH_MON_NONE || w.since_ms < out->since_ms) {
      out->since_ms = w.since_ms;
      out->source = w.source;
    }
    if (w.until_ms == PH_MON_OPEN) any_open = true;
    else if (w.until_ms > latest) latest = w.until_ms;
  }
  ph_stmt_release(s);
  if (rc != SQLITE_DONE) return db_fail(db, err, "points");
  if (out->source != PH_MON_NONE) out->until_ms = any_open ? PH_MON_OPEN : latest;
  return 0;
}

bool ph_monitoring_overlaps(const struct ph_monitoring_window *w, int64_t from, int64_t to) {
  return w->source != PH_MON_NONE && w->since_ms < to && w->until_ms > from;
}

void ph_monitoring_clip(const struct ph_monitoring_window *w, int64_t from, int64_t to, int64_t *lo, int64_t *hi) {
  if (w->source == PH_MON_NONE) { /* inv. 2 */
    *lo = *hi = from;
    return;
  }
  *lo = from > w->since_ms ? from : w->since_ms;
  *hi = to < w->until_ms ? to : w->until_ms;
  if (*hi < *lo) *hi = *lo;
}

static void bind_range(sqlite3_stmt *s, const char *park, const char *ent, int64_t point_id, int64_t from,
                       int64_t to) {
  sqlite3_bind_int64(s, 1, point_id);
  sqlite3_bind_int64(s, 2, from);
  sqlite3_bind_int64(s, 3, to);
  sqlite3_bind_text(s, 4, park, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 5, ent, -1, SQLITE_STATIC);
}

/* Whether [from, to) may hold an op hour of point_id or its enterprise
 * (op 1 stopped, 2 startup/shutdown): false only when the point's first
 * and last such hours, remembered inside a stmt_cache bracket, lie outside
 * it — then the statement asking for them would find none. Outside a
 * bracket, or on a failure to ask, true: the caller's statement answers. */
static bool may_hold_op(sqlite3 *db, const char *park, const char *ent, int64_t point_id, int op, int64_t from,
                        int64_t to) {
  int64_t e[4];
  if (!ph_stmt_memo_on()) return true;
  if (!ph_stmt_memo_op_get(point_id, e)) {
    sqlite3_stmt *s = prepare(db, MON_SQL_OP_SPAN);
    if (!s) return true;
    sqlite3_bind_int64(s, 1, point_id);
    sqlite3_bind_text(s, 2, park, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, ent, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    for (int k = 0; rc == SQLITE_ROW && k < 4; k++) { /* columns: point, enterprise of each edge */
      bool pn = sqlite3_column_type(s, 2 * k) == SQLITE_NULL, en = sqlite3_column_type(s, 2 * k + 1) == SQLITE_NULL;
      int64_t pv = sqlite3_column_int64(s, 2 * k), ev = sqlite3_column_int64(s, 2 * k + 1);
      bool min = k % 2 == 0;
      e[k] = pn && en ? -1 : pn ? ev : en ? pv : min ? (pv < ev ? pv : ev) : (pv > ev ? pv : ev);
    }
    ph_stmt_release(s);
    if (rc != SQLITE_ROW) return true;
    ph_stmt_memo_op_put(point_id, e);
  }
  int64_t first = e[op == 1 ? 0 : 2], last = e[op == 1 ? 1 : 3];
  return first >= 0 && first < to && last >= from;
}

int ph_monitoring_stopped_each(sqlite3 *db, const char *park, const char *ent, int64_t point_id, int64_t series_id,
                               int64_t from, int64_t to, int (*fn)(void *u, int64_t hour_ms), void *u,
                               struct ph_err *err) {
  if (!may_hold_op(db, park, ent, point_id, 1, from, to)) return 0; /* no stopped hour there at all */
  const int64_t *hv;
  size_t hn;
  bool memo = ph_cems_spans_on(); /* inv. 5 */
  int rc, stop = 0;
  if (memo && ph_stmt_memo_stop_get(point_id, series_id, from, to, &hv, &hn)) {
    for (size_t i = 0; !stop && i < hn; i++) stop = fn(u, hv[i]);
    return stop;
  }
  sqlite3_stmt *s = prepare(db, MON_SQL_STOPPED);
  if (!s) return db_fail(db, err, "stopped hours");
  bind_range(s, park, ent, point_id, from, to);
  sqlite3_bind_int64(s, 6, series_id);
  int64_t *kept = NULL; /* the hours read, for the memo */
  size_t nkept = 0, cap = 0;
  while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    int64_t h = sqlite3_column_int64(s, 0);
    if (memo && nkept == cap) {
      int64_t *k = ph_realloc(kept, (cap = cap ? 2 * cap : 256) * sizeof *k);
      if (k) kept = k;
      else memo = false; /* out of memory: only not remembered */
    }
    if (memo) kept[nkept++] = h;
    stop = fn(u, h);
  }
  ph_stmt_release(s);
  if (memo && !stop && rc == SQLITE_DONE) ph_stmt_memo_stop_put(point_id, series_id, from, to, kept, nkept);
  ph_free(kept);
  if (stop) return stop;
  return rc == SQLITE_DONE ? 0 : db_fail(db, err, "stopped hours");
}

/* Stopped hours counted per local day, to find the wholly stopped days. */
struct day_count {
  const struct ph_tz *tz;
  int64_t lo, hi;
  int64_t day, n; /* the day being counted */
  struct ph_monitoring_hours *out;
};

static void close_day(struct day_count *c) {
  if (!c->n) return;
  int64_t d1 = ph_tz_next_day(c->tz, c->day);
  int64_t end = d1 < c->hi ? d1 : c->hi;
  /* only days that start in the range count as days (monitoring.h) */
  if (c->day >= c->lo && c->n >= ph_cems_count_hours(c->tz, c->day, end)) c->out->days_stopped++;
  c->n = 0;
}

static int count_stopped(void *u, int64_t hour_ms) {
  struct day_count *c = u;
  int64_t d = ph_tz_day_start(c->tz, hour_ms);
  if (d != c->day) {
    close_day(c);
    c->day = d;
  }
  c->n++;
  c->out->stopped++;
  return 0;
}

int ph_monitoring_hours(sqlite3 *db, const struct ph_tz *tz, const char *park, const char *ent, int64_t point_id,
                        int64_t series_id, const struct ph_monitoring_window *w, int64_t from, int64_t to,
                        struct ph_monitoring_hours *out, struct ph_err *err) {
  memset(out, 0, sizeof *out);
  if (!db || !tz || !park || !ent || !w) return ph_fail(err, PH_EINVAL, "monitoring: missing argument");
  int64_t lo, hi;
  ph_monitoring_clip(w, from, to, &lo, &hi);
  if (hi <= lo) return 0;
  out->hours = ph_cems_count_hours(tz, lo, hi);
  out->days = ph_cems_count_days(tz, lo, hi);
  struct day_count c = {.tz = tz, .lo = lo, .hi = hi, .day = INT64_MIN, .out = out};
  int rc = ph_monitoring_stopped_each(db, park, ent, point_id, series_id, lo, hi, count_stopped, &c, err);
  if (rc) return rc;
  close_day(&c);
  out->expected = out->hours - out->stopped; /* inv. 1 */
  out->days_expected = out->days - out->days_stopped;
  if (!may_hold_op(db, park, ent, point_id, 2, lo, hi)) return 0; /* no startup/shutdown hour there */
  sqlite3_stmt *s = prepare(db, MON_SQL_TRANSITION);
  if (!s) return db_fail(db, err, "startup and shutdown hours");
  bind_range(s, park, ent, point_id, lo, hi);
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) out->transition = sqlite3_column_int64(s, 0);
  ph_stmt_release(s);
  if (rc != SQLITE_ROW) return db_fail(db, err, "startup and shutdown hours");
  return 0;
}
