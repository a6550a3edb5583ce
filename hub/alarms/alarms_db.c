/* alarms_db.c — the alarm lifecycle's rows (alarms_int.h): statements
 * reset for reuse, an alarm row read into memory with its open occurrence,
 * and the writes one transition makes (alarm update, occurrence insert and
 * update, log row). Which write a transition makes is alarms.c's table;
 * this file only reads and writes rows.
 *
 * Callers: alarms.c. Threads: the writer's, on the caller's connection.
 * Owns nothing: statements belong to the struct ph_alarms, an adopted row
 * goes into its cache.
 *
 * Invariants (alarms.c inv. 1 and 4 rest on them):
 *  1. Only the prepared statements of alarms_sql.h, with bound parameters;
 *     every statement is reset after its step.
 *  2. A constraint refusal (the one-open-alarm index) is PH_EINVAL, told
 *     apart from PH_EFULL and PH_EDB, so that alarms.c can recover.
 *  3. An adopted row comes with its open occurrence when it has one
 *     (occ 0 otherwise).
 */
#include <stdio.h>
#include <string.h>

#include "alarms/alarms.h"
#include "alarms_int.h"
#include "parkhub/alloc.h"
#include "parkhub/timefmt.h"

int ph_alarms_db_err(struct ph_alarms *a, struct ph_err *err, const char *what) {
  int e = sqlite3_errcode(a->c.db);
  int code = e == SQLITE_FULL ? PH_EFULL : e == SQLITE_NOMEM ? PH_ENOMEM : PH_EDB;
  return ph_fail(err, code, "alarms: %s: %s", what, sqlite3_errmsg(a->c.db));
}

sqlite3_stmt *ph_alarms_stmt(struct ph_alarms *a, int i) {
  sqlite3_reset(a->q[i]);
  sqlite3_clear_bindings(a->q[i]);
  return a->q[i];
}

int ph_alarms_run(struct ph_alarms *a, sqlite3_stmt *s) {
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc == SQLITE_DONE) return 0;
  int e = sqlite3_errcode(a->c.db);
  if (e == SQLITE_CONSTRAINT) return PH_EINVAL;
  return e == SQLITE_FULL ? PH_EFULL : PH_EDB;
}

static int parse_enum(const char *s, const char *const *words, int n) {
  for (int i = 0; i < n; i++)
    if (s && !strcmp(s, words[i])) return i;
  return -1;
}

static void text(sqlite3_stmt *q, int col, char *dst, size_t cap) {
  const unsigned char *t = sqlite3_column_text(q, col);
  snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

static void row_to_alarm(sqlite3_stmt *q, struct ph_alarm *al) {
  static const char *const sev[] = {"critical", "major", "minor", "warning"};
  static const char *const states[] = {"active_unacked", "active_acked", "cleared_unacked", "closed"};
  memset(al, 0, sizeof *al);
  al->row = sqlite3_column_int64(q, 0);
  text(q, 1, al->alarm_id, sizeof al->alarm_id);
  text(q, 2, al->park, sizeof al->park);
  text(q, 3, al->rule, sizeof al->rule);
  text(q, 4, al->ent, sizeof al->ent);
  text(q, 5, al->point, sizeof al->point);
  text(q, 6, al->metric, sizeof al->metric);
  int s = parse_enum((const char *)sqlite3_column_text(q, 7), sev, 4);
  al->severity = s < 0 ? PH_SEV_MAJOR : (enum ph_severity)s;
  s = parse_enum((const char *)sqlite3_column_text(q, 8), states, 4);
  al->state = s < 0 ? PH_AS_ACTIVE_UNACKED : (enum ph_alarm_state)s;
  text(q, 9, al->message, sizeof al->message);
  al->first_ms = sqlite3_column_int64(q, 10);
  al->last_ms = sqlite3_column_int64(q, 11);
  al->count = sqlite3_column_int64(q, 12);
  if ((al->has_value = sqlite3_column_type(q, 13) != SQLITE_NULL)) al->value = sqlite3_column_double(q, 13);
  if ((al->has_peak = sqlite3_column_type(q, 14) != SQLITE_NULL)) al->peak = sqlite3_column_double(q, 14);
  text(q, 15, al->acked_by, sizeof al->acked_by);
  al->acked_ms = sqlite3_column_int64(q, 16);
  text(q, 17, al->note, sizeof al->note);
  text(q, 18, al->message_zh, sizeof al->message_zh);
}

/* An open row → memory, with its open occurrence. Takes nothing. */
int ph_alarms_adopt_row(struct ph_alarms *a, sqlite3_stmt *q, struct open **out) {
  struct open *o = ph_calloc(1, sizeof *o);
  if (!o) return PH_ENOMEM;
  row_to_alarm(q, &o->a);
  o->emitted_ms = ph_now_ms();
  sqlite3_stmt *oc = ph_alarms_stmt(a, S_OPEN_OCC);
  sqlite3_bind_int64(oc, 1, o->a.row);
  if (sqlite3_step(oc) == SQLITE_ROW) {
    o->occ = sqlite3_column_int64(oc, 0);
    o->occ_count = sqlite3_column_int64(oc, 1);
    if ((o->occ_has_peak = sqlite3_column_type(oc, 2) != SQLITE_NULL)) o->occ_peak = sqlite3_column_double(oc, 2);
    o->occ_last = sqlite3_column_int64(oc, 3);
  }
  sqlite3_reset(oc);
  *out = ph_alarms_cache_add(a, o);
  return 0;
}

int ph_alarms_load_open(struct ph_alarms *a, struct ph_err *err) {
  ph_alarms_clear_cache(a);
  sqlite3_stmt *m = ph_alarms_stmt(a, S_MAX_ID);
  if (sqlite3_step(m) != SQLITE_ROW) {
    sqlite3_reset(m);
    return ph_alarms_db_err(a, err, "reading the last alarm id");
  }
  a->next_row = sqlite3_column_int64(m, 0) + 1;
  sqlite3_reset(m);
  sqlite3_stmt *q = ph_alarms_stmt(a, S_LOAD_OPEN);
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    struct open *o;
    if (ph_alarms_adopt_row(a, q, &o)) {
      sqlite3_reset(q);
      return ph_fail(err, PH_ENOMEM, "alarms: out of memory");
    }
  }
  sqlite3_reset(q);
  if (rc != SQLITE_DONE) return ph_alarms_db_err(a, err, "loading open alarms");
  a->st.open = a->nopen;
  return 0;
}

int ph_alarms_write_alarm(struct ph_alarms *a, const struct open *o, int64_t now) {
  const struct ph_alarm *al = &o->a;
  sqlite3_stmt *s = ph_alarms_stmt(a, S_UPDATE);
  sqlite3_bind_int64(s, 1, al->row);
  sqlite3_bind_text(s, 2, ph_alarm_state_name(al->state), -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 3, al->last_ms);
  sqlite3_bind_int64(s, 4, al->count);
  if (al->has_value) sqlite3_bind_double(s, 5, al->value);
  if (al->has_peak) sqlite3_bind_double(s, 6, al->peak);
  if (al->acked_by[0]) {
    sqlite3_bind_text(s, 7, al->acked_by, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 8, al->acked_ms);
  }
  if (al->note[0]) sqlite3_bind_text(s, 9, al->note, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 10, now);
  return ph_alarms_run(a, s);
}

int ph_alarms_write_occ(struct ph_alarms *a, const struct open *o, int64_t end_ms) {
  if (!o->occ) return 0;
  sqlite3_stmt *s = ph_alarms_stmt(a, S_OCC_UPDATE);
  sqlite3_bind_int64(s, 1, o->occ);
  sqlite3_bind_int64(s, 2, o->occ_last);
  sqlite3_bind_int64(s, 3, o->occ_count);
  if (o->a.has_value) sqlite3_bind_double(s, 4, o->a.value);
  if (o->occ_has_peak) sqlite3_bind_double(s, 5, o->occ_peak);
  if (end_ms != INT64_MIN) sqlite3_bind_int64(s, 6, end_ms);
  return ph_alarms_run(a, s);
}

int ph_alarms_new_occ(struct ph_alarms *a, struct open *o, int64_t start) {
  const struct ph_alarm *al = &o->a;
  sqlite3_stmt *s = ph_alarms_stmt(a, S_OCC_INSERT);
  sqlite3_bind_int64(s, 1, al->row);
  sqlite3_bind_text(s, 2, al->park, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 3, al->rule, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 4, al->ent, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 5, al->point, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 6, al->metric, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 7, ph_severity_name(al->severity), -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 8, start);
  sqlite3_bind_int64(s, 9, al->last_ms);
  if (al->has_value) sqlite3_bind_double(s, 10, al->value), sqlite3_bind_double(s, 11, al->value);
  int rc = ph_alarms_run(a, s);
  if (rc) return rc;
  o->occ = sqlite3_last_insert_rowid(a->c.db);
  o->occ_start = start;
  o->occ_last = al->last_ms;
  o->occ_count = 1;
  o->occ_has_peak = al->has_value;
  o->occ_peak = al->value;
  return 0;
}

int ph_alarms_log_row(struct ph_alarms *a, const struct open *o, enum ph_alarm_transition t, int64_t ts,
                   const char *by, const char *note) {
  sqlite3_stmt *s = ph_alarms_stmt(a, S_LOG);
  sqlite3_bind_int64(s, 1, o->a.row);
  sqlite3_bind_int64(s, 2, ts);
  sqlite3_bind_text(s, 3, ph_alarm_transition_name(t), -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 4, ph_alarm_state_name(o->a.state), -1, SQLITE_STATIC);
  if (by && *by) sqlite3_bind_text(s, 5, by, -1, SQLITE_STATIC);
  if (note && *note) sqlite3_bind_text(s, 6, note, -1, SQLITE_STATIC);
  return ph_alarms_run(a, s);
}
