/* alarms.h — the alarm lifecycle, persisted in SQLite (tables in
 * hub/alarms/alarms_sql.h; ph_alarms_migrate creates them).
 *
 *            raise                ack
 *   (none) ───────→ active_unacked ───────→ active_acked
 *                     │      ↑                   │
 *               clear │      │ raise             │ clear
 *                     ↓      │ (again)           ↓
 *                  cleared_unacked ──ack──→   closed
 *
 *   any open state ──close (rule removed)──→ closed
 *
 * One open alarm (state ≠ closed) per (park, rule, ent, point): a UNIQUE
 * partial index refuses a second one whatever the code does. Each raise
 * (and each raise again of a cleared alarm) opens an occurrence in
 * alarm_occurrences, closed by the clear: what a regulator counts. Every
 * transition is also a row of alarm_log (who acknowledged, when, note).
 *
 * Updates while an alarm is active (count, last, value, peak) are kept in
 * memory and written once per transaction (ph_alarms_commit), so a value
 * costs a hash lookup, not a statement.
 *
 * Delivery: each transition becomes a message (struct ph_alarm_msg) handed
 * to conf.emit after the transaction commits — never before, so nothing
 * that rolled back is ever published. Active alarms whose count/value moved
 * are re-sent as a REFRESH (retained state only) at most every refresh_ms.
 *
 * Threads: one thread uses an alarms handle and its connection (the hub's
 * writer). emit is called on that thread and must not block (deliver.h's
 * ph_deliver_emit only copies into a mailbox). The JSON renderers below are
 * pure functions, callable from any thread.
 */
#ifndef PARKHUB_ALARMS_H
#define PARKHUB_ALARMS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parkhub/err.h"
#include "parkhub/ids.h"
#include "alarms/rules.h" /* struct ph_alarm_sink, ph_alarm_event, ph_alarm_key */
#include "parkhub/topic.h" /* enum ph_severity */

#define PH_ALARM_MSG_MAX 1024 /* message, bytes (alarm.schema.json: 1024 characters) */
#define PH_ALARM_BY_MAX 256   /* bytes: cmd-ack's `by` is ≤ 64 characters of UTF-8 */
#define PH_ALARM_NOTE_MAX 2048 /* bytes: `note` is ≤ 512 characters */
#define PH_ALARM_JSON_MAX 24576 /* room for any alarm or alert JSON (escaped strings included) */

enum ph_alarm_state { PH_AS_ACTIVE_UNACKED, PH_AS_ACTIVE_ACKED, PH_AS_CLEARED_UNACKED, PH_AS_CLOSED };
enum ph_alarm_transition { PH_AT_RAISED, PH_AT_ACKED, PH_AT_CLEARED, PH_AT_CLOSED };

/* An alarm as alarm.schema.json describes it. */
struct ph_alarm {
  int64_t row;                          /* alarms.id */
  char alarm_id[PH_ID_MAX + 1];
  char park[PH_ID_MAX + 1], ent[PH_ID_MAX + 1], point[PH_ID_MAX + 1]; /* point "": enterprise-level */
  char rule[PH_ID_MAX + 1], metric[PH_ID_MAX + 1];                  /* metric "": none */
  enum ph_severity severity;
  enum ph_alarm_state state;
  char message[PH_ALARM_MSG_MAX + 1];    /* English */
  char message_zh[PH_ALARM_MSG_MAX + 1]; /* Chinese: what the park's people read first */
  int64_t first_ms, last_ms, count;
  bool has_value, has_peak;
  double value, peak;
  char acked_by[PH_ALARM_BY_MAX + 1]; /* "" until acknowledged */
  int64_t acked_ms;
  char note[PH_ALARM_NOTE_MAX + 1];
};

enum ph_alarm_msg_kind {
  PH_AM_TRANSITION, /* an alert (alerts/{severity}) and the retained state */
  PH_AM_REFRESH,    /* the retained state only (count/last/value moved) */
  PH_AM_REPLY       /* the answer to a cmd/ack (cmd-ack-reply.schema.json) */
};

/* The answer to one cmd/ack, published on PH_ACK_REPLY_TOPIC (QoS 1, not
 * retained). One fixed topic per park, not one the sender names: it works
 * over MQTT 3.1.1 (no response-topic property), a broker ACL can grant it
 * with one line, and no payload can make the hub publish where it likes. */
#define PH_ACK_REPLY_TOPIC PH_TOPIC_PREFIX "%s/cmd/ack/reply" /* %s: the park */
#define PH_ACK_REPLY_REASON_MAX 255

struct ph_ack_reply {
  int code; /* 0 acknowledged; PH_ENOTFOUND, PH_EALREADY, a decoding code, or the hub's failure */
  char by[PH_ALARM_BY_MAX + 1];                 /* who asked ("" when unreadable) */
  char reason[PH_ACK_REPLY_REASON_MAX + 1];     /* "" on success */
};

/* What the alarms hand to delivery: the alarm after the change. */
struct ph_alarm_msg {
  enum ph_alarm_msg_kind kind;
  enum ph_alarm_transition transition; /* PH_AM_TRANSITION */
  int64_t ts_ms;                       /* when it happened */
  struct ph_alarm alarm;               /* PH_AM_REPLY: park, alarm_id ("" unreadable), state, acked_by, acked_ms */
  struct ph_ack_reply reply;           /* PH_AM_REPLY */
};

struct ph_alarms_conf {
  sqlite3 *db; /* borrowed; schema made by ph_alarms_migrate */
  /* Called after each commit, once per message, in order; must not block. */
  void (*emit)(void *ctx, const struct ph_alarm_msg *m);
  void *emit_ctx;
  int64_t refresh_ms; /* 0: 60000 */
  size_t max_open;    /* open alarms kept in memory; 0: 65536 */
  size_t outbox;      /* messages per transaction before coalescing; 0: 4096 */
};

struct ph_alarms_stats {
  uint64_t raised, reraised, updated, cleared, acked, closed, refreshed;
  uint64_t conflicts;      /* raises the unique index refused (cache out of step; recovered) */
  uint64_t outbox_coalesced, outbox_dropped, rollbacks;
  size_t open;
};

struct ph_alarms;

/* CREATE TABLE/INDEX IF NOT EXISTS: alarms, alarm_occurrences, alarm_log. */
int ph_alarms_migrate(sqlite3 *db, struct ph_err *err);
/* Prepares the statements and loads the open alarms (ph_alarms_load_open). */
int ph_alarms_new(const struct ph_alarms_conf *conf, struct ph_alarms **out, struct ph_err *err);
void ph_alarms_free(struct ph_alarms *a);
/* Re-reads the open alarms from the database into memory. */
int ph_alarms_load_open(struct ph_alarms *a, struct ph_err *err);

/* A transaction around a group of changes. Outside one, each change below
 * runs in its own. commit writes pending updates, commits, then emits;
 * on failure it rolls back itself. rollback discards the outbox and
 * reloads the open alarms (then call ph_rules_resync). */
int ph_alarms_begin(struct ph_alarms *a, struct ph_err *err);
int ph_alarms_commit(struct ph_alarms *a, int64_t now_ms, struct ph_err *err);
void ph_alarms_rollback(struct ph_alarms *a);

/* The sink the rules engine reports to (ctx = a). */
struct ph_alarm_sink ph_alarms_sink(struct ph_alarms *a);
int ph_alarms_raise(struct ph_alarms *a, const struct ph_alarm_event *ev);
int ph_alarms_clear(struct ph_alarms *a, const struct ph_alarm_event *ev);
int ph_alarms_state(struct ph_alarms *a, const struct ph_alarm_key *k); /* enum ph_alarm_open */

/* Acknowledges park's alarm_id: active_unacked → active_acked,
 * cleared_unacked → closed. Acking an acked alarm again is refused and
 * changes nothing: PH_EALREADY, err saying who acknowledged it and when.
 * PH_ENOTFOUND: no open alarm of that id in that park.
 * by, note borrowed. */
int ph_alarms_ack(struct ph_alarms *a, const char *park, const char *alarm_id, const char *by, const char *note,
                  int64_t now_ms, struct ph_err *err);
/* Emits the answer to a cmd/ack (PH_AM_REPLY) at once, outside any
 * transaction: call it after the transaction that applied the ack
 * committed or rolled back (code then says so). For PH_EALREADY the reply
 * names who acknowledged and when (from the open alarm); on success the
 * alarm's new state. alarm_id "" when the command was unreadable. */
void ph_alarms_reply(struct ph_alarms *a, const char *park, const char *alarm_id, const struct ph_ack_reply *r,
                     int64_t now_ms);
/* Stores a stack test an admin entered (park's ent, its local date and
 * day number, who), in the caller's transaction or one of its own; the
 * rules learn it from ph_rules_stack_test. */
int ph_alarms_stack_test(struct ph_alarms *a, const char *park, const char *ent, long day, const char *date,
                         const char *by, int64_t now_ms, struct ph_err *err);
/* Closes an open alarm whatever its state (its rule is gone). */
int ph_alarms_close(struct ph_alarms *a, const struct ph_alarm_key *k, const char *why, int64_t now_ms);

/* Emits a REFRESH of every open alarm (after a restart: the broker may have
 * lost the retained states). */
int ph_alarms_publish_open(struct ph_alarms *a, int64_t now_ms);
/* An open alarm by id (tests, API); PH_ENOTFOUND. */
int ph_alarms_get(struct ph_alarms *a, const char *park, const char *alarm_id, struct ph_alarm *out);
void ph_alarms_stats(const struct ph_alarms *a, struct ph_alarms_stats *st);

/* ---- wire formats (pure) ---- */

const char *ph_alarm_state_name(enum ph_alarm_state s);
const char *ph_alarm_transition_name(enum ph_alarm_transition t);
/* alarm.schema.json (the retained state). Returns the length, or
 * PH_EFULL when cap is short. */
int ph_alarm_json(const struct ph_alarm *al, char *buf, size_t cap);
/* alert.schema.json: the alarm plus transition and ts. */
int ph_alert_json(const struct ph_alarm *al, enum ph_alarm_transition t, int64_t ts_ms, char *buf, size_t cap);
/* cmd-ack-reply.schema.json for a PH_AM_REPLY message; length or PH_EFULL. */
int ph_ack_reply_json(const struct ph_alarm_msg *m, char *buf, size_t cap);
/* Appends s as a JSON string (quotes included) at buf[*len]; PH_EFULL. */
int ph_json_put_string(char *buf, size_t cap, size_t *len, const char *s);

#endif
