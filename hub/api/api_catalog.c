/* api_catalog.c — what the dashboard needs besides the data (issue #18):
 *
 *   GET /api/v1/parks/{park}/catalog          the token's role, the park's
 *       zone and the reader's language (the token's "lang", else the
 *       park's, else by its zone: ph_reader_lang), the metric catalogue (code, names, unit,
 *       kind, role) and each enterprise's expected record interval (with
 *       its per-point overrides), so that a page can mark a stale value and
 *       show the controls the token may use;
 *   GET /api/v1/parks/{park}/alarms/{id}/log  one alarm with its
 *       occurrences and its transition log (raised, acked, cleared, …).
 *
 * Callers: api.c's dispatch, after access and park checks. Threads: a
 * worker's, inside the request's read transaction (api.c inv. 2).
 * Statements are prepared per request and finalized before it returns.
 *
 * Invariants:
 *  1. read-only: the catalogue and the config are borrowed, the database
 *     is read with bound statements (api_catalog_sql.h).
 *  2. bounded: at most `limit` (≤ LOG_MAX) occurrences and log lines.
 *  3. JSON only: both documents nest, which CSV cannot say; format=csv is
 *     a 400 naming the parameter.
 */
#include <string.h>

#include "api_catalog_sql.h"
#include "api_int.h"
#include "parkhub/catalog.h"
#include "parkhub/kind.h"
#include "parkhub/lang.h"

#define LOG_MAX 1000
#define LOG_DEFAULT 200

static const char *const role_names[] = {"regulator", "manager", "admin"};


static int json_only(struct api_req *r) {
  if (r->csv) return api_fail(r, 400, "format", "format: this document is JSON only (format=json)");
  r->ctype = "application/json";
  return 0;
}

static void catalog_metrics(struct api_json *j, const struct ph_catalog *cat) {
  aj_arr(j, "metrics");
  size_t n = cat ? ph_catalog_count(cat) : 0;
  for (size_t i = 0; i < n; i++) {
    const struct ph_metric *m = ph_catalog_at(cat, i);
    aj_obj(j, NULL);
    aj_str(j, "code", m->code);
    aj_str(j, "name", m->name);
    if (m->name_zh[0]) aj_str(j, "name_zh", m->name_zh);
    aj_str(j, "unit", m->unit);
    aj_str(j, "kind", ph_kind_name(m->kind));
    if (m->role != PH_ROLE_NONE) aj_str(j, "role", ph_role_name(m->role));
    aj_end_obj(j);
  }
  aj_end_arr(j);
}

static void catalog_ents(struct api_json *j, const struct ph_hub_park *p) {
  aj_arr(j, "enterprises");
  for (int e = 0; e < p->nents; e++) {
    const struct ph_hub_ent *ent = &p->ents[e];
    aj_obj(j, NULL);
    aj_str(j, "ent", ent->id);
    aj_num(j, "expected_interval_s", ent->expected_interval_s);
    aj_obj(j, "point_intervals");
    for (int i = 0; i < ent->npoint_intervals; i++)
      aj_num(j, ent->point_intervals[i].point, ent->point_intervals[i].interval_s);
    aj_end_obj(j);
    aj_end_obj(j);
  }
  aj_end_arr(j);
}

int api_get_catalog(struct api_req *r) {
  static const char *const none[] = {NULL};
  if (api_args_check(r, none) || json_only(r)) return r->status;
  struct api_json j;
  aj_init(&j, &r->out);
  aj_obj(&j, NULL);
  aj_str(&j, "park", r->park->id);
  aj_str(&j, "tz", r->park->tz);
  aj_str(&j, "lang", ph_lang_code(ph_reader_lang(r->tok, r->park))); /* token > park > zone */
  int role = r->tok->role;
  aj_str(&j, "role", role >= 0 && role < 3 ? role_names[role] : "regulator");
  aj_bool(&j, "may_ack", role == PH_API_ROLE_MANAGER || role == PH_API_ROLE_ADMIN);
  catalog_metrics(&j, r->env->refs->cat);
  catalog_ents(&j, r->park);
  aj_end_obj(&j);
  api_buf_put(&r->out, "\n", 1);
  return 200;
}

/* ---- one alarm's log ---- */

static void col_ms(struct api_json *j, const char *key, sqlite3_stmt *s, int col) {
  if (sqlite3_column_type(s, col) == SQLITE_NULL)
    aj_null(j, key);
  else
    aj_time(j, key, sqlite3_column_int64(s, col));
}

static void col_num(struct api_json *j, const char *key, sqlite3_stmt *s, int col) {
  if (sqlite3_column_type(s, col) == SQLITE_NULL)
    aj_null(j, key);
  else
    aj_num(j, key, sqlite3_column_double(s, col));
}

static void col_str(struct api_json *j, const char *key, sqlite3_stmt *s, int col) {
  aj_str(j, key, (const char *)sqlite3_column_text(s, col)); /* NULL column: null */
}

static void alarm_head(struct api_json *j, sqlite3_stmt *s) {
  static const char *const text[] = {NULL, "alarm_id", "rule", "ent", "point", "metric", "severity", "state",
                                     "message"};
  aj_obj(j, "alarm");
  for (int c = 1; c <= 8; c++) col_str(j, text[c], s, c);
  col_ms(j, "first", s, 9);
  col_ms(j, "last", s, 10);
  aj_int(j, "count", sqlite3_column_int64(s, 11));
  col_num(j, "value", s, 12);
  col_num(j, "peak", s, 13);
  col_str(j, "acked_by", s, 14);
  col_ms(j, "acked", s, 15);
  col_str(j, "note", s, 16);
  col_ms(j, "cleared", s, 17);
  col_ms(j, "closed", s, 18);
  col_str(j, "message_zh", s, 19);
  aj_end_obj(j);
}

/* Runs sql for alarm row id, writing each row with put; 0 or the status. */
static int list(struct api_req *r, const char *sql, int64_t id, int64_t limit, struct api_json *j, const char *key,
                void (*put)(struct api_json *, sqlite3_stmt *)) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(api_db(r), sql, -1, &s, NULL) != SQLITE_OK) {
    sqlite3_finalize(s);
    return api_db_fail(r, "reading the alarm's log");
  }
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_int64(s, 2, limit);
  aj_arr(j, key);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) put(j, s);
  aj_end_arr(j);
  sqlite3_finalize(s);
  return rc == SQLITE_DONE ? 0 : api_db_fail(r, "reading the alarm's log");
}

static void put_occurrence(struct api_json *j, sqlite3_stmt *s) {
  aj_obj(j, NULL);
  col_ms(j, "start", s, 0);
  col_ms(j, "last", s, 1);
  col_ms(j, "end", s, 2);
  aj_int(j, "count", sqlite3_column_int64(s, 3));
  col_num(j, "value", s, 4);
  col_num(j, "peak", s, 5);
  col_str(j, "severity", s, 6);
  aj_end_obj(j);
}

static void put_transition(struct api_json *j, sqlite3_stmt *s) {
  aj_obj(j, NULL);
  col_ms(j, "ts", s, 0);
  col_str(j, "transition", s, 1);
  col_str(j, "state", s, 2);
  col_str(j, "by", s, 3);
  col_str(j, "note", s, 4);
  aj_end_obj(j);
}

int api_get_alarm_log(struct api_req *r) {
  static const char *const args[] = {"limit", NULL};
  int64_t limit;
  if (api_args_check(r, args) || api_arg_int(r, "limit", 1, LOG_MAX, LOG_DEFAULT, &limit) || json_only(r))
    return r->status;
  const char *aid = r->nseg >= 2 ? r->seg[1] : "";
  if (!ph_id_valid_z(aid) || !api_has_alarms(r)) return api_fail(r, 404, NULL, "no such alarm");
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(api_db(r), API_CATALOG_SQL_ALARM, -1, &s, NULL) != SQLITE_OK) {
    sqlite3_finalize(s);
    return api_db_fail(r, "reading the alarm");
  }
  sqlite3_bind_text(s, 1, r->park->id, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, aid, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) {
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? api_fail(r, 404, NULL, "no such alarm in park %s", r->park->id)
                             : api_db_fail(r, "reading the alarm");
  }
  int64_t id = sqlite3_column_int64(s, 0);
  struct api_json j;
  aj_init(&j, &r->out);
  aj_obj(&j, NULL);
  aj_str(&j, "park", r->park->id);
  alarm_head(&j, s);
  sqlite3_finalize(s);
  if (list(r, API_CATALOG_SQL_OCCURRENCES, id, limit, &j, "occurrences", put_occurrence) ||
      list(r, API_CATALOG_SQL_LOG, id, limit, &j, "log", put_transition)) {
    api_buf_reset(&r->out);
    return api_fail(r, 500, NULL, "reading the alarm's log failed");
  }
  aj_end_obj(&j);
  api_buf_put(&r->out, "\n", 1);
  return 200;
}
