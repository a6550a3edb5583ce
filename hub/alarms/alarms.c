/* alarms.c — the alarm lifecycle (alarms.h; tables in alarms_sql.h; rows
 * read and written in alarms_db.c; state in alarms_int.h; wire formats in
 * alarms_json.c).
 *
 * Callers: the rules engine through the sink (raise, clear, state), the
 * hub for acks and transactions, tests. Threads: one (the writer's); the
 * connection is the caller's. Owns: the open alarms in memory (a copy of
 * every row whose state is not closed, plus its open occurrence), the
 * outbox of the current transaction, prepared statements.
 *
 * Transitions (alarms.h has the diagram):
 *
 *   from             event   to                writes                                 function
 *   (none)           raise   active_unacked    INSERT alarm, occurrence, log          raise_new
 *   cleared_unacked  raise   active_unacked    UPDATE alarm (and its message when the   reraise
 *                                              event renews it); INSERT occurrence, log
 *   active_*         raise   (same)            memory only; UPDATEs at commit          ph_alarms_raise
 *   active_unacked   clear   cleared_unacked   UPDATE alarm, occurrence; INSERT log    ph_alarms_clear
 *   active_acked     clear   closed            idem                                    ph_alarms_clear
 *   active_unacked   ack     active_acked      UPDATE alarm; INSERT log                ph_alarms_ack
 *   cleared_unacked  ack     closed            idem                                    ph_alarms_ack
 *   open             close   closed            UPDATE alarm, occurrence; INSERT log    ph_alarms_close
 *
 * Invariants:
 *  1. the database holds at most one alarm that is not closed per (park,
 *     rule, ent, point) (UNIQUE partial index alarms_open). A raise the
 *     index refuses means memory was behind the database: the open row is
 *     read back and the raise becomes an update (stats.conflicts).
 *  2. memory mirrors the database after every commit; after a rollback it
 *     is reloaded from the database.
 *  3. a message reaches emit only after the transaction holding its
 *     transition committed, in transition order.
 *  4. every open alarm that is active has exactly one open occurrence.
 */
#include "alarms/alarms.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alarms_int.h"
#include "alarms_sql.h"
#include "parkhub/alloc.h"
#include "parkhub/log.h"
#include "parkhub/timefmt.h"

#define MOD "alarms"
#define TOMB UINT32_MAX

/* ------------------------------------------------------------- memory */

static uint64_t key_hash(const char *park, const char *rule, const char *ent, const char *point) {
  uint64_t h = 1469598103934665603ULL;
  const char *parts[4] = {park, rule, ent, point};
  for (int i = 0; i < 4; i++) {
    for (const char *s = parts[i]; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
  }
  return h;
}

static bool key_eq(const struct ph_alarm *a, const struct ph_alarm_key *k) {
  return !strcmp(a->park, k->park) && !strcmp(a->rule, k->rule) && !strcmp(a->ent, k->ent) &&
         !strcmp(a->point, k->point ? k->point : "");
}

/* Slot of k in the hash (its entry, or where it would go). */
static size_t probe(const struct ph_alarms *a, const struct ph_alarm_key *k, struct open **found) {
  size_t i = (size_t)key_hash(k->park, k->rule, k->ent, k->point ? k->point : "") & a->mask, insert = (size_t)-1;
  *found = NULL;
  for (size_t n = 0; n <= a->mask; n++, i = (i + 1) & a->mask) {
    uint32_t v = a->hash[i];
    if (!v) return insert != (size_t)-1 ? insert : i;
    if (v == TOMB) {
      if (insert == (size_t)-1) insert = i;
      continue;
    }
    if (key_eq(&a->open[v - 1]->a, k)) {
      *found = a->open[v - 1];
      return i;
    }
  }
  return insert;
}

static struct open *find(const struct ph_alarms *a, const struct ph_alarm_key *k) {
  struct open *o;
  probe(a, k, &o);
  return o;
}

static void rehash(struct ph_alarms *a) {
  memset(a->hash, 0, (a->mask + 1) * sizeof *a->hash);
  a->tombs = 0;
  for (size_t i = 0; i < a->nopen; i++) {
    const struct ph_alarm *al = &a->open[i]->a;
    struct ph_alarm_key k = {al->park, al->rule, al->ent, al->point};
    struct open *o;
    a->hash[probe(a, &k, &o)] = (uint32_t)i + 1;
  }
}

/* Takes o (NULL or added). */
struct open *ph_alarms_cache_add(struct ph_alarms *a, struct open *o) {
  if (a->nopen == a->max_open) {
    uint64_t sup = 0;
    if (ph_ratelimit_ok(&a->rl, ph_mono_ms(), &sup))
      PH_ERROR(MOD, "more than %zu open alarms: alarm %s is stored but not followed in memory", a->max_open,
               o->a.alarm_id);
    ph_free(o);
    return NULL;
  }
  struct ph_alarm_key k = {o->a.park, o->a.rule, o->a.ent, o->a.point};
  struct open *old;
  size_t slot = probe(a, &k, &old);
  if (a->hash[slot] == TOMB) a->tombs--;
  a->open[a->nopen] = o;
  a->hash[slot] = (uint32_t)++a->nopen;
  return o;
}

static void cache_remove(struct ph_alarms *a, struct open *o) {
  size_t i = 0;
  while (i < a->nopen && a->open[i] != o) i++;
  if (i == a->nopen) return;
  struct ph_alarm_key k = {o->a.park, o->a.rule, o->a.ent, o->a.point};
  struct open *f;
  size_t slot = probe(a, &k, &f);
  if (f == o) a->hash[slot] = TOMB, a->tombs++;
  for (size_t d = 0; d < a->ndirty; d++) /* a removed alarm leaves the dirty list */
    if (a->dirty[d] == o) a->dirty[d] = NULL;
  a->open[i] = a->open[--a->nopen];
  ph_free(o);
  if (i < a->nopen) { /* the last one moved to i: its hash entry follows */
    const struct ph_alarm *m = &a->open[i]->a;
    struct ph_alarm_key mk = {m->park, m->rule, m->ent, m->point};
    struct open *mo;
    size_t ms = probe(a, &mk, &mo);
    if (mo) a->hash[ms] = (uint32_t)i + 1;
  }
  if (a->tombs > (a->mask + 1) / 4) rehash(a);
}

void ph_alarms_clear_cache(struct ph_alarms *a) {
  for (size_t i = 0; i < a->nopen; i++) ph_free(a->open[i]);
  a->nopen = 0;
  a->ndirty = 0;
  memset(a->hash, 0, (a->mask + 1) * sizeof *a->hash);
  a->tombs = 0;
}

static void mark_dirty(struct ph_alarms *a, struct open *o) {
  o->changed = true;
  if (o->dirty || a->ndirty == a->max_open) return;
  o->dirty = true;
  a->dirty[a->ndirty++] = o;
}

/* -------------------------------------------------------- transactions */

static int exec(struct ph_alarms *a, const char *sql, struct ph_err *err) {
  if (sqlite3_exec(a->c.db, sql, NULL, NULL, NULL) == SQLITE_OK) return 0;
  return ph_alarms_db_err(a, err, sql);
}

int ph_alarms_begin(struct ph_alarms *a, struct ph_err *err) {
  if (a->in_tx) return ph_fail(err, PH_EINVAL, "alarms: a transaction is already open");
  int rc = exec(a, "BEGIN IMMEDIATE", err);
  if (!rc) a->in_tx = true, a->nout = 0;
  return rc;
}

void ph_alarms_rollback(struct ph_alarms *a) {
  if (a->in_tx) sqlite3_exec(a->c.db, "ROLLBACK", NULL, NULL, NULL);
  a->in_tx = false;
  a->nout = 0;
  a->st.rollbacks++;
  struct ph_err err = {0};
  if (ph_alarms_load_open(a, &err)) PH_ERROR(MOD, "after a rollback: %s", err.msg);
}

static void emit(struct ph_alarms *a, const struct ph_alarm_msg *m) {
  if (a->c.emit) a->c.emit(a->c.emit_ctx, m);
}

static void refresh(struct ph_alarms *a, int64_t now) {
  if (now < a->next_refresh_scan && now >= a->next_refresh_scan - 1000) return; /* (a clock set back scans at once) */
  a->next_refresh_scan = now + 1000;
  for (size_t i = 0; i < a->nopen; i++) { /* once a second at most */
    struct open *o = a->open[i];
    if (!o->changed || now - o->emitted_ms < a->c.refresh_ms) continue;
    struct ph_alarm_msg m = {.kind = PH_AM_REFRESH, .ts_ms = now, .alarm = o->a};
    o->changed = false;
    o->emitted_ms = now;
    a->st.refreshed++;
    emit(a, &m);
  }
}

int ph_alarms_commit(struct ph_alarms *a, int64_t now_ms, struct ph_err *err) {
  if (!a->in_tx) return ph_fail(err, PH_EINVAL, "alarms: no transaction is open");
  int rc = 0;
  for (size_t i = 0; i < a->ndirty && !rc; i++) {
    struct open *o = a->dirty[i];
    if (!o) continue;
    if ((rc = ph_alarms_write_alarm(a, o, now_ms)) || (rc = ph_alarms_write_occ(a, o, INT64_MIN))) ph_alarms_db_err(a, err, "updating an alarm");
  }
  if (!rc) rc = exec(a, "COMMIT", err);
  if (rc) {
    ph_alarms_rollback(a);
    return rc;
  }
  a->in_tx = false;
  for (size_t i = 0; i < a->ndirty; i++)
    if (a->dirty[i]) a->dirty[i]->dirty = false;
  a->ndirty = 0;
  for (size_t i = 0; i < a->nout; i++) { /* inv. 3 */
    const struct ph_alarm *m = &a->outbox[i].alarm;
    struct ph_alarm_key k = {m->park, m->rule, m->ent, m->point};
    struct open *o = find(a, &k);
    if (o) o->emitted_ms = now_ms; /* the next refresh counts from the publication */
    emit(a, &a->outbox[i]);
  }
  a->nout = 0;
  refresh(a, now_ms);
  a->st.open = a->nopen;
  return 0;
}

/* Runs f inside the caller's transaction, or in one of its own. */
#define AUTO_TX(a, err, call)                                                                               \
  do {                                                                                                     \
    bool own_ = !(a)->in_tx;                                                                               \
    if (own_ && (rc_ = ph_alarms_begin((a), (err)))) return rc_;                                            \
    rc_ = (call);                                                                                          \
    if (own_) {                                                                                            \
      if (rc_) ph_alarms_rollback(a);                                                                      \
      else rc_ = ph_alarms_commit((a), ph_now_ms(), (err));                                                \
    }                                                                                                      \
  } while (0)

static void outbox_add(struct ph_alarms *a, const struct open *o, enum ph_alarm_transition t, int64_t ts) {
  struct ph_alarm_msg *m = NULL;
  if (a->nout == a->outcap) { /* coalesce with this alarm's last message; else drop */
    for (size_t i = a->nout; i-- > 0 && !m;)
      if (a->outbox[i].alarm.row == o->a.row) m = &a->outbox[i];
    uint64_t sup = 0;
    if (m) a->st.outbox_coalesced++;
    else a->st.outbox_dropped++;
    if (!m && ph_ratelimit_ok(&a->rl, ph_mono_ms(), &sup))
      PH_ERROR(MOD, "more than %zu transitions in one transaction: the message of %s is dropped (stored all the same)",
               a->outcap, o->a.alarm_id);
    if (!m) return;
  } else {
    m = &a->outbox[a->nout++];
  }
  m->kind = PH_AM_TRANSITION;
  m->transition = t;
  m->ts_ms = ts;
  m->alarm = o->a;
}

/* ------------------------------------------------------------ the sink */

static void note_value(struct open *o, const struct ph_alarm_event *ev) {
  if (!ev->has_value) return;
  struct ph_alarm *al = &o->a;
  al->has_value = true;
  al->value = ev->value;
  bool worse;
  double d_new = 0, d_old = 0;
  switch (ev->worse) {
  case PH_WORSE_HIGHER: worse = !al->has_peak || ev->value > al->peak; break;
  case PH_WORSE_LOWER: worse = !al->has_peak || ev->value < al->peak; break;
  case PH_WORSE_FARTHER:
    d_new = ev->value < ev->low ? ev->low - ev->value : ev->value > ev->high ? ev->value - ev->high : 0;
    d_old = !al->has_peak ? -1 : al->peak < ev->low ? ev->low - al->peak : al->peak > ev->high ? al->peak - ev->high : 0;
    worse = d_new > d_old;
    break;
  default: return; /* no peak for this kind of rule */
  }
  if (worse) al->has_peak = true, al->peak = ev->value;
  bool occ_worse = !o->occ_has_peak || (ev->worse == PH_WORSE_HIGHER && ev->value > o->occ_peak) ||
                   (ev->worse == PH_WORSE_LOWER && ev->value < o->occ_peak) || (ev->worse == PH_WORSE_FARTHER && worse);
  if (occ_worse) o->occ_has_peak = true, o->occ_peak = ev->value;
}

/* Cuts s to at most max bytes on a UTF-8 boundary. */
static void utf8_cut(char *s, size_t max) {
  size_t n = strlen(s);
  if (n <= max) return;
  n = max;
  while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) n--;
  s[n] = '\0';
}

/* The alarm's sentence in both languages; one that renders empty says
 * which rule and enterprise at least. */
static void render_messages(const struct ph_alarm_event *ev, struct ph_alarm *al) {
  al->message[0] = al->message_zh[0] = '\0';
  if (ev->render) {
    ev->render(ev, PH_LANG_EN, al->message, sizeof al->message);
    ev->render(ev, PH_LANG_ZH_CN, al->message_zh, sizeof al->message_zh);
  }
  utf8_cut(al->message, PH_ALARM_MSG_MAX);
  utf8_cut(al->message_zh, PH_ALARM_MSG_MAX);
  if (!al->message[0]) snprintf(al->message, sizeof al->message, "%s: %s", al->rule, al->ent);
  if (!al->message_zh[0]) snprintf(al->message_zh, sizeof al->message_zh, "%s", al->message);
}


static void make_id(char *dst, size_t cap, int64_t row, int64_t ts) {
  int y;
  unsigned m, d;
  ph_civil_from_days(ts >= 0 ? ts / 86400000 : 0, &y, &m, &d);
  snprintf(dst, cap, "a-%04d%02u%02u-%06lld", y, m, d, (long long)row);
}

static int reraise(struct ph_alarms *a, struct open *o, const struct ph_alarm_event *ev) {
  struct ph_alarm *al = &o->a;
  al->state = PH_AS_ACTIVE_UNACKED;
  al->last_ms = ev->ts_ms;
  al->count++;
  o->occ = 0;
  o->occ_has_peak = false;
  note_value(o, ev);
  int rc = ph_alarms_write_alarm(a, o, ev->ts_ms);
  if (!rc && ev->renew_message && ev->render) { /* an event alarm: each raise says what happened this time */
    render_messages(ev, al);
    sqlite3_stmt *s = ph_alarms_stmt(a, S_MESSAGE);
    sqlite3_bind_int64(s, 1, al->row);
    sqlite3_bind_text(s, 2, al->message, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, al->message_zh, -1, SQLITE_STATIC);
    rc = ph_alarms_run(a, s);
  }
  if (!rc) rc = ph_alarms_new_occ(a, o, ev->since_ms);
  if (!rc) rc = ph_alarms_log_row(a, o, PH_AT_RAISED, ev->ts_ms, NULL, NULL);
  if (rc) return rc;
  a->st.reraised++;
  o->changed = false;
  o->emitted_ms = ev->ts_ms;
  outbox_add(a, o, PH_AT_RAISED, ev->ts_ms);
  return 0;
}

static int raise_new(struct ph_alarms *a, const struct ph_alarm_event *ev, struct open **out) {
  struct open *o = ph_calloc(1, sizeof *o);
  if (!o) return PH_ENOMEM;
  struct ph_alarm *al = &o->a;
  al->row = a->next_row;
  make_id(al->alarm_id, sizeof al->alarm_id, al->row, ev->ts_ms);
  snprintf(al->park, sizeof al->park, "%s", ev->key.park);
  snprintf(al->rule, sizeof al->rule, "%s", ev->key.rule);
  snprintf(al->ent, sizeof al->ent, "%s", ev->key.ent);
  snprintf(al->point, sizeof al->point, "%s", ev->key.point ? ev->key.point : "");
  snprintf(al->metric, sizeof al->metric, "%s", ev->metric ? ev->metric : "");
  al->severity = ev->severity;
  al->state = PH_AS_ACTIVE_UNACKED;
  render_messages(ev, al);
  al->first_ms = ev->since_ms <= ev->ts_ms ? ev->since_ms : ev->ts_ms;
  al->last_ms = ev->ts_ms;
  al->count = 1;
  note_value(o, ev);
  sqlite3_stmt *s = ph_alarms_stmt(a, S_INSERT);
  sqlite3_bind_int64(s, 1, al->row);
  sqlite3_bind_text(s, 2, al->alarm_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 3, al->park, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 4, al->rule, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 5, al->ent, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 6, al->point, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 7, al->metric, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 8, ph_severity_name(al->severity), -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 9, al->message, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 10, al->first_ms);
  sqlite3_bind_int64(s, 11, al->last_ms);
  if (al->has_value) sqlite3_bind_double(s, 12, al->value);
  if (al->has_peak) sqlite3_bind_double(s, 13, al->peak);
  sqlite3_bind_int64(s, 14, ev->ts_ms);
  sqlite3_bind_text(s, 15, al->message_zh, -1, SQLITE_STATIC);
  int rc = ph_alarms_run(a, s);
  if (rc) {
    ph_free(o);
    return rc; /* PH_EINVAL: the unique index refused it */
  }
  a->next_row++;
  if ((rc = ph_alarms_new_occ(a, o, al->first_ms)) || (rc = ph_alarms_log_row(a, o, PH_AT_RAISED, ev->ts_ms, NULL, NULL))) {
    ph_free(o);
    return rc;
  }
  o->emitted_ms = ev->ts_ms;
  outbox_add(a, o, PH_AT_RAISED, ev->ts_ms);
  a->st.raised++;
  *out = ph_alarms_cache_add(a, o); /* NULL past max_open: stored and published, not followed */
  return 0;
}

/* The open row of ev's key, read back after the unique index refused a raise (inv. 1). */
static int recover(struct ph_alarms *a, const struct ph_alarm_key *k, struct open **out) {
  *out = NULL;
  sqlite3_stmt *q = ph_alarms_stmt(a, S_GET_OPEN);
  sqlite3_bind_text(q, 1, k->park, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 2, k->rule, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 3, k->ent, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 4, k->point ? k->point : "", -1, SQLITE_STATIC);
  int rc = sqlite3_step(q);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? PH_ENOTFOUND : PH_EDB;
  }
  rc = ph_alarms_adopt_row(a, q, out);
  sqlite3_reset(q);
  return rc;
}

static int do_raise(struct ph_alarms *a, const struct ph_alarm_event *ev) {
  struct open *o = find(a, &ev->key);
  if (!o) {
    int rc = raise_new(a, ev, &o);
    if (rc != PH_EINVAL) return rc;
    a->st.conflicts++;
    PH_WARN(MOD, "raise %s/%s/%s/%s: the database already holds an open alarm; following it", ev->key.park,
            ev->key.rule, ev->key.ent, ev->key.point);
    if ((rc = recover(a, &ev->key, &o)) || !o) return rc;
  }
  if (o->a.state == PH_AS_CLEARED_UNACKED) return reraise(a, o, ev);
  struct ph_alarm *al = &o->a;
  if (ev->ts_ms > al->last_ms) al->last_ms = ev->ts_ms;
  al->count++;
  note_value(o, ev);
  if (!o->occ) { /* inv. 4, for a row older than this code */
    int rc = ph_alarms_new_occ(a, o, ev->since_ms);
    if (rc) return rc;
  } else {
    o->occ_count++;
    if (ev->ts_ms > o->occ_last) o->occ_last = ev->ts_ms;
  }
  mark_dirty(a, o);
  a->st.updated++;
  return 0;
}

int ph_alarms_raise(struct ph_alarms *a, const struct ph_alarm_event *ev) {
  int rc_;
  AUTO_TX(a, NULL, do_raise(a, ev));
  return rc_;
}

/* The row, the occurrence and the log of a state change; closed alarms leave memory. */
static int transition(struct ph_alarms *a, struct open *o, enum ph_alarm_transition t, int64_t ts, const char *by,
                      const char *note) {
  int rc = ph_alarms_write_alarm(a, o, ts);
  if (!rc && (t == PH_AT_CLEARED || o->a.state == PH_AS_CLOSED)) {
    if (!(rc = ph_alarms_write_occ(a, o, ts))) o->occ = 0;
  }
  if (!rc) rc = ph_alarms_log_row(a, o, t, ts, by, note);
  if (rc) return rc;
  o->changed = false;
  o->emitted_ms = ts;
  outbox_add(a, o, t, ts);
  if (o->a.state == PH_AS_CLOSED) {
    a->st.closed++;
    cache_remove(a, o);
  }
  return 0;
}

static int do_clear(struct ph_alarms *a, const struct ph_alarm_event *ev) {
  struct open *o = find(a, &ev->key);
  if (!o || o->a.state == PH_AS_CLEARED_UNACKED) return 0;
  o->a.state = o->a.state == PH_AS_ACTIVE_ACKED ? PH_AS_CLOSED : PH_AS_CLEARED_UNACKED;
  if (o->occ) o->occ_last = o->occ_last > ev->ts_ms ? o->occ_last : ev->ts_ms;
  a->st.cleared++;
  return transition(a, o, PH_AT_CLEARED, ev->ts_ms, NULL, NULL);
}

int ph_alarms_clear(struct ph_alarms *a, const struct ph_alarm_event *ev) {
  int rc_;
  AUTO_TX(a, NULL, do_clear(a, ev));
  return rc_;
}

int ph_alarms_state(struct ph_alarms *a, const struct ph_alarm_key *k) {
  const struct open *o = find(a, k);
  if (!o) return PH_ALARM_NONE;
  return o->a.state == PH_AS_CLEARED_UNACKED ? PH_ALARM_CLEARED : PH_ALARM_ACTIVE;
}

static int do_ack(struct ph_alarms *a, const char *park, const char *alarm_id, const char *by, const char *note,
                  int64_t now, struct ph_err *err) {
  struct open *o = NULL;
  for (size_t i = 0; i < a->nopen && !o; i++) /* acks are rare: a scan of the open alarms */
    if (!strcmp(a->open[i]->a.alarm_id, alarm_id) && !strcmp(a->open[i]->a.park, park)) o = a->open[i];
  if (!o) return ph_fail(err, PH_ENOTFOUND, "ack: no open alarm %s in park %s", alarm_id, park);
  if (o->a.state == PH_AS_ACTIVE_ACKED) { /* refused, and nothing changes: the first one stands */
    char at[PH_TIME_STRLEN] = "";
    ph_time_format(o->a.acked_ms, at, sizeof at);
    return ph_fail(err, PH_EALREADY, "ack: alarm %s was already acknowledged by %s at %s", alarm_id, o->a.acked_by, at);
  }
  snprintf(o->a.acked_by, sizeof o->a.acked_by, "%s", by);
  snprintf(o->a.note, sizeof o->a.note, "%s", note ? note : "");
  o->a.acked_ms = now;
  o->a.state = o->a.state == PH_AS_CLEARED_UNACKED ? PH_AS_CLOSED : PH_AS_ACTIVE_ACKED;
  a->st.acked++;
  int rc = transition(a, o, PH_AT_ACKED, now, by, note);
  return rc ? ph_alarms_db_err(a, err, "acknowledging") : 0;
}

int ph_alarms_ack(struct ph_alarms *a, const char *park, const char *alarm_id, const char *by, const char *note,
                  int64_t now_ms, struct ph_err *err) {
  if (!by || !*by) return ph_fail(err, PH_EINVAL, "ack: `by` is required");
  int rc_;
  AUTO_TX(a, err, do_ack(a, park, alarm_id, by, note, now_ms, err));
  return rc_;
}

void ph_alarms_reply(struct ph_alarms *a, const char *park, const char *alarm_id, const struct ph_ack_reply *r,
                     int64_t now_ms) {
  struct ph_alarm_msg m = {.kind = PH_AM_REPLY, .ts_ms = now_ms, .reply = *r};
  m.alarm.row = -1; /* never taken for an alarm's message in delivery's mailbox */
  for (size_t i = 0; i < a->nopen && alarm_id[0]; i++) /* an ack that closed its alarm left the cache */
    if (!strcmp(a->open[i]->a.alarm_id, alarm_id) && !strcmp(a->open[i]->a.park, park)) {
      m.alarm = a->open[i]->a;
      m.alarm.row = -1;
    }
  snprintf(m.alarm.park, sizeof m.alarm.park, "%s", park);
  snprintf(m.alarm.alarm_id, sizeof m.alarm.alarm_id, "%s", alarm_id);
  if (!r->code && !m.alarm.acked_by[0]) { /* it closed: acknowledged by this very command */
    m.alarm.state = PH_AS_CLOSED;
    snprintf(m.alarm.acked_by, sizeof m.alarm.acked_by, "%s", r->by);
    m.alarm.acked_ms = now_ms;
  }
  emit(a, &m);
}

static int do_close(struct ph_alarms *a, const struct ph_alarm_key *k, const char *why, int64_t now) {
  struct open *o = find(a, k);
  if (!o) return 0;
  o->a.state = PH_AS_CLOSED;
  return transition(a, o, PH_AT_CLOSED, now, NULL, why);
}

int ph_alarms_close(struct ph_alarms *a, const struct ph_alarm_key *k, const char *why, int64_t now_ms) {
  int rc_;
  AUTO_TX(a, NULL, do_close(a, k, why, now_ms));
  return rc_;
}

int ph_alarms_publish_open(struct ph_alarms *a, int64_t now_ms) {
  for (size_t i = 0; i < a->nopen; i++) {
    struct ph_alarm_msg m = {.kind = PH_AM_REFRESH, .ts_ms = now_ms, .alarm = a->open[i]->a};
    a->open[i]->emitted_ms = now_ms;
    emit(a, &m);
  }
  return 0;
}

int ph_alarms_get(struct ph_alarms *a, const char *park, const char *alarm_id, struct ph_alarm *out) {
  for (size_t i = 0; i < a->nopen; i++)
    if (!strcmp(a->open[i]->a.alarm_id, alarm_id) && !strcmp(a->open[i]->a.park, park)) {
      *out = a->open[i]->a;
      return 0;
    }
  return PH_ENOTFOUND;
}

void ph_alarms_stats(const struct ph_alarms *a, struct ph_alarms_stats *st) {
  *st = a->st;
  st->open = a->nopen;
}

/* sink adaptors */
static int sink_raise(void *ctx, const struct ph_alarm_event *ev) { return ph_alarms_raise(ctx, ev); }
static int sink_clear(void *ctx, const struct ph_alarm_event *ev) { return ph_alarms_clear(ctx, ev); }
static int sink_state(void *ctx, const struct ph_alarm_key *k) { return ph_alarms_state(ctx, k); }
static int sink_close(void *ctx, const struct ph_alarm_key *k, const char *why, int64_t now) {
  return ph_alarms_close(ctx, k, why, now);
}
static int sink_foreach(void *ctx, int (*fn)(void *u, const struct ph_alarm_key *k, const char *metric), void *u) {
  struct ph_alarms *a = ctx;
  for (size_t i = 0; i < a->nopen; i++) {
    const struct ph_alarm *al = &a->open[i]->a;
    struct ph_alarm_key k = {al->park, al->rule, al->ent, al->point};
    int rc = fn(u, &k, al->metric);
    if (rc) return rc;
  }
  return 0;
}

struct ph_alarm_sink ph_alarms_sink(struct ph_alarms *a) {
  return (struct ph_alarm_sink){.ctx = a, .raise = sink_raise, .clear = sink_clear, .state = sink_state,
                                .foreach_open = sink_foreach, .close = sink_close};
}

/* ---------------------------------------------------------- lifecycle */

int ph_alarms_stack_test(struct ph_alarms *a, const char *park, const char *ent, long day, const char *date,
                         const char *by, int64_t now_ms, struct ph_err *err) {
  int rc_;
  sqlite3_stmt *s = ph_alarms_stmt(a, S_STACK_TEST);
  sqlite3_bind_text(s, 1, park, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, ent, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 3, day);
  sqlite3_bind_text(s, 4, date, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 5, by, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 6, now_ms);
  AUTO_TX(a, err, ph_alarms_run(a, s) ? ph_alarms_db_err(a, err, "storing a stack test") : 0);
  return rc_;
}

int ph_alarms_migrate(sqlite3 *db, struct ph_err *err) {
  char *msg = NULL;
  if (sqlite3_exec(db, ALARMS_SQL_SCHEMA, NULL, NULL, &msg) == SQLITE_OK) {
    sqlite3_stmt *s = NULL;
    int has = sqlite3_prepare_v2(db, ALARMS_SQL_HAS_ZH, -1, &s, NULL) == SQLITE_OK;
    sqlite3_finalize(s);
    if (has || sqlite3_exec(db, ALARMS_SQL_ADD_ZH, NULL, NULL, &msg) == SQLITE_OK) return 0;
  }
  ph_fail(err, PH_EDB, "alarms: creating the tables: %s", msg ? msg : "?");
  sqlite3_free(msg);
  return PH_EDB;
}

int ph_alarms_new(const struct ph_alarms_conf *conf, struct ph_alarms **out, struct ph_err *err) {
  static const char *const sql[S_COUNT] = {ALARMS_SQL_LOAD_OPEN, ALARMS_SQL_GET_OPEN,    ALARMS_SQL_OPEN_OCC,
                                           ALARMS_SQL_MAX_ID,    ALARMS_SQL_INSERT,      ALARMS_SQL_UPDATE,
                                           ALARMS_SQL_OCC_INSERT, ALARMS_SQL_OCC_UPDATE, ALARMS_SQL_LOG,
                                           ALARMS_SQL_MESSAGE, ALARMS_SQL_STACK_TEST_INSERT};
  *out = NULL;
  struct ph_alarms *a = ph_calloc(1, sizeof *a);
  if (!a) return ph_fail(err, PH_ENOMEM, "alarms: out of memory");
  a->c = *conf;
  if (!a->c.refresh_ms) a->c.refresh_ms = 60000;
  a->max_open = conf->max_open ? conf->max_open : 65536;
  a->outcap = conf->outbox ? conf->outbox : 4096;
  size_t h = 16;
  while (h < a->max_open * 2) h <<= 1;
  a->mask = h - 1;
  ph_ratelimit_init(&a->rl, 10000);
  a->open = ph_calloc(a->max_open, sizeof *a->open);
  a->hash = ph_calloc(h, sizeof *a->hash);
  a->dirty = ph_calloc(a->max_open, sizeof *a->dirty);
  a->outbox = ph_calloc(a->outcap, sizeof *a->outbox);
  int rc = 0;
  if (!a->open || !a->hash || !a->dirty || !a->outbox) rc = ph_fail(err, PH_ENOMEM, "alarms: out of memory");
  for (int i = 0; i < S_COUNT && !rc; i++)
    if (sqlite3_prepare_v2(conf->db, sql[i], -1, &a->q[i], NULL) != SQLITE_OK)
      rc = ph_alarms_db_err(a, err, "preparing (run ph_alarms_migrate first)");
  if (!rc) rc = ph_alarms_load_open(a, err);
  if (rc) {
    ph_alarms_free(a);
    return rc;
  }
  *out = a;
  return 0;
}

void ph_alarms_free(struct ph_alarms *a) {
  if (!a) return;
  if (a->in_tx) sqlite3_exec(a->c.db, "ROLLBACK", NULL, NULL, NULL);
  for (int i = 0; i < S_COUNT; i++) sqlite3_finalize(a->q[i]);
  if (a->open) ph_alarms_clear_cache(a);
  ph_free(a->open);
  ph_free(a->hash);
  ph_free(a->dirty);
  ph_free(a->outbox);
  ph_free(a);
}
