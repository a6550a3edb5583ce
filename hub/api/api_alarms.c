/* api_alarms.c — GET /api/v1/parks/{park}/alarms (a filtered, paged
 * listing, JSON or CSV through the row writer) and POST
 * …/alarms/{id}/ack (acknowledgement through the hub's env.ack).
 *
 * Callers: the route table (api_routes.c), after access and park checks
 * (an ack needs a manager or admin token). Threads: a worker's, on its
 * read connection; the listing inside the request's read transaction, the
 * ack outside one (it calls the hub, then reads the alarm as it stands).
 *
 * Invariants:
 *  1. the alarms table is optional (another module makes it): absent, the
 *     listing is empty with the columns the table has today.
 *  2. pages are a keyset on the table's row id (across parks: on raised_ms,
 *     then the id, the listing's order): the cursor names the first row of
 *     the next page, so pages neither repeat nor skip rows.
 *  3. columns are read by name, so the table may gain columns: *_ms
 *     integers become RFC 3339 times under the name without _ms; api_row,
 *     api_key and id stay internal.
 *  5. the listing's arguments and pages are api_alarm_args and
 *     api_alarm_page (api_parks.h), which the listing across parks
 *     (api_parks.c) calls too: one set of filters and columns.
 *  4. an ack body is one JSON object, whitespace after it at most, and
 *     holds no U+0000 (raw or \u0000): what the hub records as `by` is
 *     exactly what was sent, never a cut-short string. Same rule as the
 *     MQTT cmd/ack (ph_ack_decode).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "api_args.h"
#include "api_handlers.h"
#include "api_parks.h"
#include "api_req.h"
#include "api_rows.h"
#include "ingest/ack_cmd.h"
#include "parkhub/jsonfile.h"
#include "parkhub/log.h"
#include "parkhub/timefmt.h"

#define MOD "api"

static const char *const no_args[] = {NULL};

static const char *text(sqlite3_stmt *s, int col) {
  const unsigned char *t = sqlite3_column_text(s, col);
  return t ? (const char *)t : "";
}

/* The statement's columns no listing shows (inv. 3). */
static bool internal_col(const char *name) {
  return !name || !strcmp(name, "api_row") || !strcmp(name, "api_key") || !strcmp(name, "id");
}

/* One alarm row, every column by name (inv. 3): *_ms integers become RFC
 * 3339 times under the name without _ms; internal_col's stay internal. */
static void alarm_json(struct api_json *j, const char *key, sqlite3_stmt *s) {
  aj_obj(j, key);
  int n = sqlite3_column_count(s);
  for (int i = 0; i < n; i++) {
    const char *name = sqlite3_column_name(s, i);
    if (internal_col(name)) continue;
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

/* The listing's columns, from the statement's (inv. 3): the names without
 * _ms, times for *_ms; src maps a column to the statement's. Without the
 * table, the columns it has today. */
struct alarm_cols {
  struct api_col c[API_ROWS_MAXCOLS + 1];
  char names[API_ROWS_MAXCOLS][64];
  int src[API_ROWS_MAXCOLS];
  int n;
};

static const char *const default_cols[] = {"alarm_id", "park", "rule",  "ent",   "point",    "metric",
                                           "severity", "state", "message", "first", "last",   "count",
                                           "value",    "peak",  "acked_by", "acked", "note",  NULL};

static void alarm_cols_of(struct alarm_cols *ac, sqlite3_stmt *s) {
  memset(ac, 0, sizeof *ac);
  int n = s ? sqlite3_column_count(s) : 0;
  for (int i = 0; !s && default_cols[i]; i++)
    ac->c[ac->n++] = (struct api_col){.name = default_cols[i], .type = API_STR};
  for (int i = 0; i < n && ac->n < API_ROWS_MAXCOLS; i++) {
    const char *name = sqlite3_column_name(s, i);
    if (internal_col(name)) continue;
    size_t len = strlen(name);
    bool ms = len > 3 && !strcmp(name + len - 3, "_ms");
    snprintf(ac->names[ac->n], sizeof ac->names[ac->n], "%.*s", (int)(ms ? len - 3 : len), name);
    ac->src[ac->n] = i;
    ac->c[ac->n] = (struct api_col){.name = ac->names[ac->n], .type = ms ? API_TIME : API_STR};
    ac->n++;
  }
}

/* One alarm's cells, by the statement's types. */
static void alarm_row(struct api_rows *w, const struct alarm_cols *ac, sqlite3_stmt *s) {
  ar_row(w);
  for (int k = 0; k < ac->n; k++) {
    int i = ac->src[k], type = sqlite3_column_type(s, i);
    if (ac->c[k].type == API_TIME && type == SQLITE_INTEGER)
      ar_time(w, sqlite3_column_int64(s, i));
    else if (ac->c[k].type == API_TIME || type == SQLITE_NULL)
      ar_null(w);
    else if (type == SQLITE_INTEGER)
      ar_int(w, sqlite3_column_int64(s, i));
    else if (type == SQLITE_FLOAT)
      ar_num(w, sqlite3_column_double(s, i));
    else
      ar_str(w, text(s, i));
  }
  ar_end_row(w);
}

/* a spare slot before the end: api_alarm_args' extra argument */
static const char *const alarm_args[] = {"state", "severity", "ent", "from", "to", "limit", "cursor", NULL, NULL};
static const char *const state_words[] = {"open", "active_unacked", "active_acked", "cleared_unacked", "closed",
                                          NULL};
static const char *const sev_words[] = {"critical", "major", "minor", "warning", NULL};

static void bind_opt(sqlite3_stmt *s, int i, const char *v) {
  if (v)
    sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(s, i);
}

/* ?2..?8; ?1 (the park, or the parks) is the caller's. */
static void bind_alarms(sqlite3_stmt *s, const struct api_alarm_q *q) {
  bind_opt(s, 2, q->state >= 0 ? state_words[q->state] : NULL);
  bind_opt(s, 3, q->sev >= 0 ? sev_words[q->sev] : NULL);
  bind_opt(s, 4, q->ent);
  if (q->has_from) sqlite3_bind_int64(s, 5, q->from);
  if (q->has_to) sqlite3_bind_int64(s, 6, q->to);
  if (q->cursor) sqlite3_bind_int64(s, 7, q->cursor);
  sqlite3_bind_int64(s, 8, q->limit + 1);
  if (q->has_key) sqlite3_bind_int64(s, 9, q->cursor_key);
}

static void alarms_link(struct api_req *r, const char *path, int64_t limit, const char *cursor) {
  size_t n = (size_t)snprintf(r->link, sizeof r->link, "%s?limit=%lld&cursor=%s", path, (long long)limit, cursor);
  static const char *const keep[] = {"state", "severity", "ent", "from", "to", "parks", NULL};
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
  api_link_output(r);
}

/* cursor: the next row's id + 1 ("N"), or for the listing across parks its
 * raised_ms and id + 1 ("K_N"); opaque to clients (docs/openapi.yaml). */
static int cursor_arg(struct api_req *r, struct api_alarm_q *q) {
  const char *v = api_arg(r, "cursor"), *sep = v ? strchr(v, '_') : NULL;
  struct ph_err err = {0};
  char key[24];
  if (!v) return 0;
  if (sep) {
    if ((size_t)(sep - v) >= sizeof key) return api_fail(r, 400, "cursor", "cursor: not one this API gave");
    snprintf(key, sizeof key, "%.*s", (int)(sep - v), v);
    if (api_parse_int(key, 0, INT64_MAX, &q->cursor_key, &err))
      return api_fail(r, 400, "cursor", "cursor: %s", err.msg);
    q->has_key = true;
    v = sep + 1;
  }
  return api_parse_int(v, 1, INT64_MAX, &q->cursor, &err) ? api_fail(r, 400, "cursor", "cursor: %s", err.msg) : 0;
}

int api_alarm_args(struct api_req *r, const char *extra, struct api_alarm_q *q) {
  const char *allowed[sizeof alarm_args / sizeof alarm_args[0]];
  memcpy(allowed, alarm_args, sizeof allowed);
  allowed[sizeof allowed / sizeof allowed[0] - 2] = extra; /* the spare slot; NULL leaves the list as it was */
  memset(q, 0, sizeof *q);
  if (api_args_check(r, allowed) || api_arg_word(r, "state", state_words, -1, &q->state) ||
      api_arg_word(r, "severity", sev_words, -1, &q->sev) || api_arg_id(r, "ent", false, &q->ent) ||
      api_arg_time(r, "from", false, &q->from, &q->has_from) || api_arg_time(r, "to", false, &q->to, &q->has_to) ||
      api_arg_int(r, "limit", 1, r->conf->max_points, 1000 < r->conf->max_points ? 1000 : r->conf->max_points,
                  &q->limit) ||
      cursor_arg(r, q))
    return r->status;
  if (q->has_from && q->has_to && api_arg_period(r, q->from, q->to, INT64_MAX, "")) return r->status;
  return 0;
}

static void park_head(void *u, struct api_json *j) { aj_str(j, "park", ((struct api_req *)u)->park->id); }

int api_get_alarms(struct api_req *r) {
  struct api_alarm_q q;
  if (api_alarm_args(r, NULL, &q)) return r->status;
  if (q.ent && !ph_hub_config_ent(r->park, q.ent))
    return api_fail(r, 404, "ent", "ent: %s is not an enterprise of park %s", q.ent, r->park->id);
  sqlite3_stmt *s = NULL;
  if (api_has_alarms(r) && !(s = api_stmt(r, API_ST_ALARMS))) return api_db_fail(r, "reading alarms");
  if (s) sqlite3_bind_text(s, 1, r->park->id, -1, SQLITE_STATIC);
  char path[96];
  snprintf(path, sizeof path, "/api/v1/parks/%s/alarms", r->park->id);
  return api_alarm_page(r, &q, s, park_head, r, path);
}

int api_alarm_page(struct api_req *r, const struct api_alarm_q *q, sqlite3_stmt *s,
                   void (*head)(void *u, struct api_json *j), void *u, const char *path) {
  struct alarm_cols ac;
  alarm_cols_of(&ac, s);
  struct api_rows w;
  bool both = q->has_from && q->has_to;
  api_attachment(r, "alarms", NULL, both ? q->from : 0, both ? q->to : 0);
  ar_begin(&w, r, ac.c);
  if (ar_head(&w) && head) head(u, ar_head(&w));
  ar_open(&w, "alarms");
  /* the listing across parks pages on (api_key, id): its cursor has both */
  bool keyed = s && sqlite3_bind_parameter_count(s) >= 9;
  if (keyed && q->cursor && !q->has_key)
    return api_fail(r, 400, "cursor", "cursor: not one of this listing (it names a row's time and id)");
  char next[48] = "";
  if (s) {
    bind_alarms(s, q);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      if (w.count == q->limit) { /* this row and those below it come next */
        if (keyed)
          snprintf(next, sizeof next, "%lld_%lld", (long long)sqlite3_column_int64(s, 1),
                   (long long)sqlite3_column_int64(s, 0) + 1);
        else
          snprintf(next, sizeof next, "%lld", (long long)sqlite3_column_int64(s, 0) + 1);
        break;
      }
      alarm_row(&w, &ac, s);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return api_db_fail(r, "reading alarms");
  }
  if (next[0]) alarms_link(r, path, q->limit, next);
  ar_finish(&w, next[0] ? r->link : NULL);
  return 200;
}

int api_post_ack(struct api_req *r) {
  if (api_regional(r)) return api_fail_park_hub_owns(r, "acknowledge the alarm");
  if (api_args_check(r, no_args)) return r->status;
  const char *id = r->nseg > 1 ? r->seg[1] : "";
  if (!ph_id_valid_z(id)) return api_fail(r, 404, NULL, "no alarm %.64s in park %s", id, r->park->id);
  cJSON *doc = api_body_object(r, "{\"by\": ..., \"note\": ...}"); /* inv. 4 */
  if (!doc) return r->status;
  const char *by = NULL, *note = "";
  bool seen_note = false;
  int status = 0;
  for (const cJSON *it = doc->child; it && !status; it = it->next) {
    bool is_by = !strcmp(it->string, "by"), is_note = !strcmp(it->string, "note");
    if ((is_by && by) || (is_note && seen_note)) {
      status = api_fail(r, 400, it->string, "%s: given twice", it->string);
    } else if (is_by || is_note) {
      if (!cJSON_IsString(it))
        status = api_fail(r, 400, it->string, "%s: must be a string", it->string);
      else if (is_by)
        by = it->valuestring;
      else {
        note = it->valuestring;
        seen_note = true;
      }
    } else {
      char key[72];
      snprintf(key, sizeof key, "%.64s", it->string);
      status = api_fail(r, 400, key, "%s: unknown field (allowed: by, note)", key);
    }
  }
  if (!status && !by) status = api_fail(r, 400, "by", "by: required (who acknowledges)");
  struct ph_err fe = {0};
  if (!status && ph_ack_fields_check(by, note, &fe)) /* the MQTT cmd/ack's rule (ack_cmd.h) */
    status = api_fail(r, 400, fe.msg[0] == 'b' ? "by" : "note", "%s", fe.msg);
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
  /* a second acknowledgement: refused, nothing changed; says who acknowledged it and when */
  if (rc == PH_EALREADY) return api_fail(r, 409, NULL, "%s", msg[0] ? msg : "already acknowledged");
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
  aj_end_obj(&j);
  api_buf_put(&r->out, "\n", 1);
  r->ctype = "application/json";
  return 200;
}
