/* up_outbox.c — the park hub's upward outbox (up_outbox.h).
 *
 * Callers: forwarder.c. Threads: the forwarder's, on its own connection.
 * Owns nothing between calls: the state is the database's (up_state,
 * up_outbox), so a restart resends exactly what was not acked.
 *
 *   change (trigger, writer's tx) → unbatched --assign--> batch s --ack ≥ s--> deleted
 *
 * Invariants:
 *  1. a change leaves the outbox only when the regional hub acked its
 *     batch (after its commit): a regional outage only makes it longer.
 *  2. batches are numbered 1, 2, … per epoch, in change order; a batch
 *     once numbered keeps its changes, so a resend after a restart is the
 *     same batch (rows read anew: never older, up_rows.h inv. 2).
 *  3. the epoch is set once, when the outbox is first set up; a new
 *     database is a new epoch, whose revisions win (up_rows.h inv. 3).
 *  4. an alarm or presence kind that joins the forwarded set (the first
 *     setup, a hub upgraded from v9 or v10, a config that adds it) queues every row it already
 *     has, in the setup's transaction: the triggers queue every later
 *     change, so none is missed and none queued twice.
 */
#include "federation/up_outbox.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "domain/stmt_cache.h"
#include "federation/up_rows.h"
#include "parkhub/alloc.h"
#include "parkhub/timefmt.h"
#include "up_sql.h"

static int db_fail(sqlite3 *db, struct ph_err *err, const char *what) {
  int code = sqlite3_errcode(db) == SQLITE_FULL ? PH_EFULL : PH_EDB;
  return ph_fail(err, code, "upward outbox: %s: %s", what, sqlite3_errmsg(db));
}

static int exec(sqlite3 *db, const char *sql, struct ph_err *err) {
  return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : db_fail(db, err, sql);
}

/* Runs sql with up to two integer parameters (a text one first when t). */
static int run(sqlite3 *db, const char *sql, const char *t, int64_t x, int64_t y, struct ph_err *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return db_fail(db, err, sql);
  int i = 1;
  if (t) sqlite3_bind_text(st, i++, t, -1, SQLITE_STATIC);
  if (i <= sqlite3_bind_parameter_count(st)) sqlite3_bind_int64(st, i++, x);
  if (i <= sqlite3_bind_parameter_count(st)) sqlite3_bind_int64(st, i, y);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? 0 : db_fail(db, err, sql);
}

int ph_up_triggers(void *db, struct ph_err *err) { return exec(db, UP_SQL_TRIGGERS, err); }

/* Kinds whose rows are queued whole when they join the forwarded set
 * (inv. 4); the CEMS kinds are recomputed and re-sent by the park hub's
 * own update, alarms and presence never are. */
static const struct {
  const char *kind, *tbl, *sql;
} backfills[] = {{"alarms", "alarms", UP_SQL_BACKFILL_ALARMS},
                 {"alarm_occurrences", "alarm_occurrences", UP_SQL_BACKFILL_OCC},
                 {"alarm_log", "alarm_log", UP_SQL_BACKFILL_LOG},
                 {"stack_test_dates", "stack_tests", UP_SQL_BACKFILL_DATES},
                 {"agent_status", "agents", UP_SQL_BACKFILL_PRES},
                 {"agent_events", "agent_events", UP_SQL_BACKFILL_AEV}};

static int backfill(sqlite3 *db, const char *const *forward, int n, struct ph_err *err) {
  for (size_t k = 0; k < sizeof backfills / sizeof backfills[0]; k++) {
    int rc = 0, in = 0;
    for (int i = 0; i < n; i++) in |= !strcmp(forward[i], backfills[k].kind);
    sqlite3_stmt *st;
    if (!in) continue;
    if (sqlite3_prepare_v2(db, UP_SQL_FORWARD_HAS, -1, &st, NULL) != SQLITE_OK) return db_fail(db, err, "up_forward");
    sqlite3_bind_text(st, 1, backfills[k].kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, backfills[k].tbl, -1, SQLITE_STATIC);
    bool queue = sqlite3_step(st) == SQLITE_ROW && !sqlite3_column_int(st, 0) && sqlite3_column_int(st, 1);
    sqlite3_finalize(st);
    if (queue && (rc = exec(db, backfills[k].sql, err))) return rc;
  }
  return 0;
}

int ph_up_outbox_setup(void *dbv, const char *const *forward, int n, int64_t now_s, struct ph_err *err) {
  sqlite3 *db = dbv;
  for (int i = 0; i < n; i++)
    if (ph_up_kind_find(forward[i]) < 0)
      return ph_fail(err, PH_ECONFIG, "upstream.forward[%d]: \"%s\" is not a forwarded table", i, forward[i]);
  int rc = exec(db, "BEGIN IMMEDIATE", err);
  if (rc) return rc;
  rc = backfill(db, forward, n, err);
  if (!rc) rc = exec(db, UP_SQL_FORWARD_CLEAR, err);
  for (int i = 0; !rc && i < n; i++) rc = run(db, UP_SQL_FORWARD_ADD, forward[i], 0, 0, err);
  if (!rc) rc = run(db, UP_SQL_STATE_INIT, NULL, now_s, 0, err);
  if (!rc) rc = exec(db, "COMMIT", err);
  if (rc) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

static int one_i64(sqlite3 *db, const char *sql, int64_t *out, struct ph_err *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return db_fail(db, err, sql);
  int rc = sqlite3_step(st);
  *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_finalize(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(db, err, sql);
}

int ph_up_outbox_state(void *dbv, struct ph_up_outbox_state *o, struct ph_err *err) {
  sqlite3 *db = dbv;
  sqlite3_stmt *st;
  memset(o, 0, sizeof *o);
  if (sqlite3_prepare_v2(db, UP_SQL_STATE_GET, -1, &st, NULL) != SQLITE_OK) return db_fail(db, err, "state");
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    o->epoch = sqlite3_column_int64(st, 0);
    o->last_batch = sqlite3_column_int64(st, 1);
    o->acked = sqlite3_column_int64(st, 2);
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW) return ph_fail(err, PH_ENOTFOUND, "upward outbox: not set up");
  if ((rc = one_i64(db, UP_SQL_OLDEST, &o->oldest, err))) return rc;
  if (sqlite3_prepare_v2(db, UP_SQL_DEPTH, -1, &st, NULL) != SQLITE_OK) return db_fail(db, err, "depth");
  if (sqlite3_step(st) == SQLITE_ROW) {
    o->pending = sqlite3_column_int64(st, 0);
    o->unbatched = o->pending - sqlite3_column_int64(st, 1);
  }
  sqlite3_finalize(st);
  return 0;
}

int ph_up_outbox_assign(void *dbv, int max, int64_t *seq, struct ph_err *err) {
  sqlite3 *db = dbv;
  struct ph_up_outbox_state o;
  *seq = 0;
  int rc = exec(db, "BEGIN IMMEDIATE", err);
  if (rc) return rc;
  if ((rc = ph_up_outbox_state(db, &o, err))) goto out;
  if (o.unbatched == 0) goto out;
  if ((rc = run(db, UP_SQL_ASSIGN, NULL, o.last_batch + 1, max, err)) ||
      (rc = run(db, UP_SQL_STATE_BATCH, NULL, o.last_batch + 1, 0, err)))
    goto out;
  if (!(rc = exec(db, "COMMIT", err))) *seq = o.last_batch + 1;
  return rc;
out:
  sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

static void change_of(sqlite3_stmt *st, struct ph_up_change *ch) {
  memset(ch, 0, sizeof *ch);
  ch->seq = sqlite3_column_int64(st, 0);
  snprintf(ch->kind, sizeof ch->kind, "%s", (const char *)sqlite3_column_text(st, 1));
  ch->a_null = sqlite3_column_type(st, 2) == SQLITE_NULL;
  ch->a = sqlite3_column_int64(st, 2);
  ch->b_null = sqlite3_column_type(st, 3) == SQLITE_NULL;
  ch->b = sqlite3_column_int64(st, 3);
  if (sqlite3_column_text(st, 4)) snprintf(ch->c, sizeof ch->c, "%s", (const char *)sqlite3_column_text(st, 4));
  if (sqlite3_column_text(st, 5)) snprintf(ch->d, sizeof ch->d, "%s", (const char *)sqlite3_column_text(st, 5));
}

/* The records of batch seq, read in one read transaction (a consistent view). */
static int add_records(sqlite3 *db, int64_t seq, cJSON *records, int *nrec, struct ph_err *err) {
  sqlite3_stmt *st;
  struct ph_up_change ch;
  int rc = 0, added;
  if (sqlite3_prepare_v2(db, UP_SQL_BATCH_ROWS, -1, &st, NULL) != SQLITE_OK) return db_fail(db, err, "batch");
  sqlite3_bind_int64(st, 1, seq);
  ph_stmt_cache_begin(db);
  while (!rc && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    change_of(st, &ch);
    rc = ph_up_row_encode(db, &ch, records, &added, err);
    *nrec += added;
  }
  if (rc == SQLITE_DONE) rc = 0;
  else if (rc > 0) rc = db_fail(db, err, "batch");
  ph_stmt_cache_end(db);
  sqlite3_finalize(st);
  return rc;
}

static int build(void *dbv, const char *agent, const struct ph_hub_config *cfg, int64_t seq, int64_t now_ms,
                 char **json, size_t *len, int *nrec, struct ph_err *err);

int ph_up_outbox_build(void *db, const char *agent, int64_t seq, int64_t now_ms, char **json, size_t *len,
                       int *nrec, struct ph_err *err) {
  return build(db, agent, NULL, seq, now_ms, json, len, nrec, err);
}

int ph_up_outbox_build_cfg(void *db, const struct ph_hub_config *cfg, int64_t seq, int64_t now_ms, char **json,
                           size_t *len, int *nrec, struct ph_err *err) {
  return build(db, cfg->hub_id, cfg, seq, now_ms, json, len, nrec, err);
}

/* "config": {park: fingerprint}. */
static bool add_config(cJSON *env, const struct ph_hub_config *cfg) {
  cJSON *c = cJSON_AddObjectToObject(env, "config");
  for (int i = 0; c && i < cfg->nparks; i++)
    if (!cJSON_AddStringToObject(c, cfg->parks[i].id, cfg->parks[i].fingerprint)) return false;
  return c != NULL;
}

static int build(void *dbv, const char *agent, const struct ph_hub_config *cfg, int64_t seq, int64_t now_ms,
                 char **json, size_t *len, int *nrec, struct ph_err *err) {
  sqlite3 *db = dbv;
  struct ph_up_outbox_state o;
  char sent[40];
  *json = NULL;
  *nrec = 0;
  int rc = exec(db, "BEGIN", err);
  if (rc) return rc;
  cJSON *env = cJSON_CreateObject(), *records = NULL;
  if ((rc = ph_up_outbox_state(db, &o, err))) goto out;
  ph_time_format(now_ms, sent, sizeof sent);
  if (!env || !cJSON_AddNumberToObject(env, "v", 1) || !cJSON_AddStringToObject(env, "agent", agent) ||
      !cJSON_AddNumberToObject(env, "epoch", (double)o.epoch) || !cJSON_AddNumberToObject(env, "seq", (double)seq) ||
      !cJSON_AddNumberToObject(env, "oldest", (double)(o.oldest ? o.oldest : seq)) ||
      !cJSON_AddStringToObject(env, "sent", sent) || (cfg && !add_config(env, cfg)) ||
      !(records = cJSON_AddArrayToObject(env, "records"))) {
    rc = ph_fail(err, PH_ENOMEM, "upward outbox: out of memory");
    goto out;
  }
  if ((rc = add_records(db, seq, records, nrec, err))) goto out;
  char *text = cJSON_PrintUnformatted(env);
  if (!text) {
    rc = ph_fail(err, PH_ENOMEM, "upward outbox: out of memory");
    goto out;
  }
  *len = strlen(text);
  if ((*json = ph_malloc(*len + 1))) memcpy(*json, text, *len + 1);
  else rc = ph_fail(err, PH_ENOMEM, "upward outbox: out of memory");
  cJSON_free(text);
out:
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL); /* a read transaction: nothing to keep or undo */
  cJSON_Delete(env);
  return rc;
}

int ph_up_outbox_ack(void *dbv, int64_t epoch, int64_t upto, int64_t *deleted, struct ph_err *err) {
  sqlite3 *db = dbv;
  struct ph_up_outbox_state o;
  *deleted = 0;
  int rc = exec(db, "BEGIN IMMEDIATE", err);
  if (rc) return rc;
  if ((rc = ph_up_outbox_state(db, &o, err))) goto out;
  if (epoch != o.epoch || upto > o.last_batch || upto <= o.acked) goto out; /* not ours, or nothing new */
  if ((rc = run(db, UP_SQL_ACK_DELETE, NULL, upto, 0, err))) goto out;
  *deleted = sqlite3_changes(db);
  if ((rc = run(db, UP_SQL_STATE_ACKED, NULL, upto, 0, err))) goto out;
  return exec(db, "COMMIT", err);
out:
  sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  *deleted = 0;
  return rc;
}
