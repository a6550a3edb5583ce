/* test_hub_writer.c — the hub's storage stage (store/writer.h) alone: a
 * real SQLite database in a temporary directory, a real struct ph_queue fed
 * the way ingest.c feeds it (acquire → fill → push DECODED), and an ack
 * sink that captures what the writer posts instead of hubmqtt's mailbox.
 * Issue #17 item 5.
 *
 * What it checks: writer.h inv. 1 (an ack leaves only after the commit that
 * made its upto: the capture sink reads the database through a connection
 * of its own, which sees committed rows only), dedupe.h inv. 1, 2 and 4 as
 * the writer applies them (duplicates stored once and acked, a declared gap,
 * out-of-order seqs, a seq too far ahead refused and not acked), a refused
 * ack retried, drain and stop, the stored rows.
 *
 * Threads: the writer's (it calls the sink); the test's. The capture is
 * under a mutex; every wait is bounded (ph_writer_drain's timeout, polls of
 * at most WAIT_MS) and the suite has a Criterion timeout.
 */
#include <criterion/criterion.h>

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "hub_stage_fixture.h"
#include "ingest/queue.h"
#include "parkhub/topic.h"
#include "store/store.h"
#include "store/writer.h"

#define WAIT_MS 10000
#define MAX_ACKS 64
#define EPOCH 1764000000LL

struct ack {
  char topic[PH_TOPIC_MAX];
  int64_t epoch, upto;
  int64_t db_upto; /* the streams row's upto as another connection saw it when the ack was posted */
};

/* The capture sink: records every accepted ack; refuses while `refusing`. */
static struct capture {
  pthread_mutex_t mu;
  struct ack acks[MAX_ACKS];
  int n;
  atomic_int attempts; /* posts, accepted or refused */
  atomic_bool refusing;
  sqlite3 *ro; /* read-only connection of the sink (the writer's thread only) */
} cap;

static struct ph_queue *q;
static struct ph_store *st;
static struct ph_writer *w;
static sqlite3 *rd; /* the test's own read connection */

static int64_t committed_upto(sqlite3 *db, int64_t epoch) {
  sqlite3_stmt *s;
  int64_t upto = -1;
  if (sqlite3_prepare_v2(db, "SELECT upto FROM streams WHERE epoch = ?1", -1, &s, NULL) != SQLITE_OK) return -2;
  sqlite3_bind_int64(s, 1, epoch);
  if (sqlite3_step(s) == SQLITE_ROW) upto = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return upto;
}

static int post(void *ctx, const char *topic, int64_t epoch, int64_t upto) {
  struct capture *c = ctx;
  atomic_fetch_add(&c->attempts, 1);
  if (atomic_load(&c->refusing)) return -1;
  pthread_mutex_lock(&c->mu);
  if (c->n < MAX_ACKS) {
    struct ack *a = &c->acks[c->n++];
    snprintf(a->topic, sizeof a->topic, "%s", topic);
    a->epoch = epoch;
    a->upto = upto;
    a->db_upto = c->ro ? committed_upto(c->ro, epoch) : -3;
  }
  pthread_mutex_unlock(&c->mu);
  return 0;
}

static int nacks(void) {
  pthread_mutex_lock(&cap.mu);
  int n = cap.n;
  pthread_mutex_unlock(&cap.mu);
  return n;
}

static struct ack last_ack(void) {
  pthread_mutex_lock(&cap.mu);
  cr_assert_gt(cap.n, 0, "no ack was posted");
  struct ack a = cap.acks[cap.n - 1];
  pthread_mutex_unlock(&cap.mu);
  return a;
}

static sqlite3 *open_ro(void) {
  sqlite3 *db;
  cr_assert_eq(sqlite3_open_v2(fx_db, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, NULL), SQLITE_OK);
  sqlite3_busy_timeout(db, 2000);
  return db;
}

/* The writer's configuration in one place; the reference bundle outlives
 * the writer (static). */
static struct ph_refs refs;
static struct ph_writer_conf writer_conf(void) {
  refs = (struct ph_refs){.cfg = &fx_cfg, .cat = fx_cat, .tz = {fx_tz[0]}, .limits = {fx_lim[0]}, .nlimits = 1};
  return (struct ph_writer_conf){.refs = &refs, .q = q, .store = st, .acks = {.post = post, .ctx = &cap}};
}

static void start_writer(void) {
  struct ph_writer_conf wc = writer_conf();
  struct ph_err err = {0};
  cr_assert_eq(ph_writer_start(&wc, &w, &err), 0, "%s", err.msg);
}

static void setup(void) {
  fx_load();
  memset(&cap, 0, sizeof cap);
  pthread_mutex_init(&cap.mu, NULL);
  struct ph_err err = {0};
  cr_assert_eq(ph_store_open(fx_db, &st, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_queue_new((size_t)fx_cfg.queue_batches, &q), 0);
  cap.ro = open_ro(); /* after the store made the schema */
  rd = open_ro();
  start_writer();
}

static void teardown(void) {
  if (w) {
    ph_queue_close(q);
    ph_writer_stop(w);
    w = NULL;
  }
  sqlite3_close(cap.ro);
  sqlite3_close(rd);
  ph_store_close(st);
  ph_queue_free(q);
  pthread_mutex_destroy(&cap.mu);
  fx_unload();
}

TestSuite(hub_writer, .init = setup, .fini = teardown, .timeout = 60);

/* The topic's item as ingest.c fills it before decoding. */
static struct ph_item *item_for(const char *topic, int ent_idx) {
  struct ph_item *it = ph_queue_acquire(q);
  cr_assert_not_null(it);
  it->park_idx = 0;
  it->ent_idx = ent_idx;
  it->recv_ms = ph_now_ms();
  it->ackable = false;
  it->code = 0;
  it->reason[0] = '\0';
  it->batch.header_ok = false;
  snprintf(it->topic_raw, sizeof it->topic_raw, "%s", topic);
  struct ph_err err = {0};
  cr_assert_eq(ph_topic_parse(topic, strlen(topic), &it->topic, &err), 0, "%s", err.msg);
  return it;
}

/* Decodes json into the item as the decoder thread does and pushes it to the writer. */
static void push_json(const char *json) {
  struct ph_item *it = item_for("parkhub/v1/p1/e1/gw/ev/emission", 0);
  struct ph_decode_opts o = {.cat = fx_cat, .kind = PH_KIND_EMISSION, .now_ms = ph_now_ms(),
                             .max_future_ms = fx_cfg.max_future_s * 1000,
                             .max_age_ms = fx_cfg.max_age_days * 86400000LL};
  struct ph_err err = {0};
  cr_assert_eq(ph_batch_decode(json, strlen(json), &o, &it->batch, &err), 0, "%s", err.msg);
  it->type = PH_ITEM_BATCH;
  ph_queue_push(q, PH_STAGE_DECODED, it);
}

static void push_batch(int64_t seq, int64_t oldest, const double *so2, int n) {
  push_json(fx_batch("gw", EPOCH, seq, oldest, so2, n));
}

static void drain(void) { cr_assert_eq(ph_writer_drain(w, WAIT_MS), 0, "the writer did not drain"); }

static int64_t q1(const char *sql) {
  sqlite3_stmt *s;
  cr_assert_eq(sqlite3_prepare_v2(rd, sql, -1, &s, NULL), SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(rd));
  cr_assert_eq(sqlite3_step(s), SQLITE_ROW, "%s", sql);
  int64_t v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

static double q1d(const char *sql) {
  sqlite3_stmt *s;
  cr_assert_eq(sqlite3_prepare_v2(rd, sql, -1, &s, NULL), SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(rd));
  cr_assert_eq(sqlite3_step(s), SQLITE_ROW, "%s", sql);
  double v = sqlite3_column_double(s, 0);
  sqlite3_finalize(s);
  return v;
}

static void check_ack(const struct ack *a, int64_t upto) {
  cr_assert_str_eq(a->topic, "parkhub/v1/p1/e1/gw/ack");
  cr_assert_eq(a->epoch, EPOCH);
  cr_assert_eq(a->upto, upto);
  cr_assert_eq(a->db_upto, upto, "writer.h inv. 1: acked upto %lld while the database held %lld", (long long)upto,
               (long long)a->db_upto);
}

Test(hub_writer, a_batch_is_stored_then_acked_with_its_epoch_and_upto) {
  double v[] = {10, 20, 30};
  push_batch(1, 1, v, 3);
  drain();
  cr_assert_eq(nacks(), 1);
  struct ack a = last_ack();
  check_ack(&a, 1);
  cr_assert_eq(q1("SELECT sum(nrecords) FROM samples"), 3);
  cr_assert_eq(q1("SELECT sum(nvalues) FROM samples"), 3);
  cr_assert_eq(q1("SELECT count(DISTINCT seq) FROM samples WHERE seq = 1 AND epoch = 1764000000"), 1);
  cr_assert_eq(q1("SELECT count(*) FROM points WHERE park = 'p1' AND ent = 'e1' AND point = 'stack-1'"), 1);
  cr_assert_eq(q1("SELECT sum(r.n) FROM rollups r JOIN series s ON s.id = r.series_id JOIN metrics m"
                  " ON m.id = s.metric_id WHERE m.code = 'so2' AND r.period = 0"), 3);
  cr_assert_float_eq(q1d("SELECT sum(r.sum) FROM rollups r JOIN series s ON s.id = r.series_id JOIN metrics m"
                         " ON m.id = s.metric_id WHERE m.code = 'so2' AND r.period = 0"), 60.0, 1e-9);
  cr_assert_eq(q1("SELECT count(*) FROM agent_events WHERE event = 'first_epoch'"), 1);
  struct ph_writer_stats ws;
  ph_writer_stats(w, &ws);
  cr_assert_eq(ws.batches, 1);
  cr_assert_eq(ws.records, 3);
  cr_assert_eq(ws.acks_sent, 1);
  cr_assert_eq(ws.acks_pending, 0);
}

Test(hub_writer, every_ack_follows_the_commit_of_its_upto) {
  double v[] = {1};
  for (int64_t s = 1; s <= 20; s++) {
    push_batch(s, 1, v, 1);
    if (s % 7 == 0) usleep(30000); /* several groups, not one */
  }
  drain();
  int n = nacks();
  cr_assert_geq(n, 1);
  pthread_mutex_lock(&cap.mu);
  int64_t prev = 0;
  for (int i = 0; i < cap.n; i++) {
    cr_assert_eq(cap.acks[i].db_upto, cap.acks[i].upto, "ack %d: upto %lld before its commit", i,
                 (long long)cap.acks[i].upto);
    cr_assert_gt(cap.acks[i].upto, prev, "acks only move forward");
    prev = cap.acks[i].upto;
  }
  pthread_mutex_unlock(&cap.mu);
  cr_assert_eq(prev, 20);
  cr_assert_eq(q1("SELECT count(DISTINCT seq) FROM samples"), 20);
}

Test(hub_writer, a_duplicate_is_stored_once_and_acked_again) {
  double v[] = {5, 6};
  push_batch(1, 1, v, 2);
  drain();
  cr_assert_eq(nacks(), 1);
  push_batch(1, 1, v, 2); /* the agent did not get the ack: it sends the batch again */
  drain();
  cr_assert_eq(nacks(), 2, "a duplicate is acked, so the agent can drop it");
  struct ack a = last_ack();
  check_ack(&a, 1);
  cr_assert_eq(q1("SELECT sum(nrecords) FROM samples"), 2, "stored once");
  cr_assert_eq(q1("SELECT sum(r.n) FROM rollups r WHERE r.period = 0"), 2, "counted once in the rollups");
  struct ph_writer_stats ws;
  ph_writer_stats(w, &ws);
  cr_assert_eq(ws.batches, 1);
  cr_assert_eq(ws.duplicates, 1);
}

/* dedupe.h inv. 1: seq 3 before seq 2 (oldest 2: nothing declared lost) is
 * held above upto; the ack stays at 1 until 2 arrives, then jumps to 3. */
Test(hub_writer, out_of_order_seqs_are_held_above_upto) {
  double v[] = {1};
  push_batch(1, 1, v, 1);
  drain();
  push_batch(3, 2, v, 1);
  drain();
  struct ack a = last_ack();
  check_ack(&a, 1);
  cr_assert_eq(q1("SELECT count(*) FROM seq_above WHERE seq = 3"), 1);
  cr_assert_eq(q1("SELECT count(DISTINCT seq) FROM samples"), 2, "stored although out of order");
  push_batch(2, 2, v, 1);
  drain();
  a = last_ack();
  check_ack(&a, 3);
  cr_assert_eq(q1("SELECT count(*) FROM seq_above"), 0, "below upto: no longer needed");
  push_batch(3, 2, v, 1); /* a resend of the one held above */
  drain();
  cr_assert_eq(q1("SELECT count(DISTINCT seq) FROM samples"), 3);
  cr_assert_eq(q1("SELECT sum(nrecords) FROM samples"), 3, "the resend is a duplicate");
  cr_assert_eq(q1("SELECT count(*) FROM gaps"), 0);
}

/* dedupe.h inv. 2: the agent says its oldest is 5: 2..4 are lost, upto moves to 5. */
Test(hub_writer, a_declared_gap_moves_upto_and_is_recorded_once) {
  double v[] = {1};
  push_batch(1, 1, v, 1);
  drain();
  push_batch(5, 5, v, 1);
  drain();
  struct ack a = last_ack();
  check_ack(&a, 5);
  cr_assert_eq(q1("SELECT count(*) FROM gaps"), 1);
  cr_assert_eq(q1("SELECT from_seq FROM gaps"), 2);
  cr_assert_eq(q1("SELECT to_seq FROM gaps"), 4);
  push_batch(6, 5, v, 1); /* the same oldest again: nothing new is lost */
  drain();
  cr_assert_eq(q1("SELECT count(*) FROM gaps"), 1);
  a = last_ack();
  check_ack(&a, 6);
  struct ph_writer_stats ws;
  ph_writer_stats(w, &ws);
  cr_assert_eq(ws.gaps, 1);
}

/* dedupe.h inv. 4: further ahead than max_seq_ahead is refused, stored as
 * a reject row, changes nothing and is not acked. */
Test(hub_writer, a_seq_too_far_ahead_is_refused_and_not_acked) {
  double v[] = {1};
  push_batch(1, 1, v, 1);
  drain();
  int before = nacks();
  push_batch(2 + FX_AHEAD + 10, 2 + FX_AHEAD + 10, v, 1);
  drain();
  cr_assert_eq(nacks(), before, "a refused seq is not acked");
  cr_assert_eq(committed_upto(rd, EPOCH), 1, "nothing changed");
  cr_assert_eq(q1("SELECT count(*) FROM gaps"), 0, "no loss declared by an implausible batch");
  cr_assert_eq(q1("SELECT count(*) FROM rejects WHERE code = 'PH_ESEQAHEAD'"), 1);
  cr_assert_eq(q1("SELECT count(DISTINCT seq) FROM samples"), 1);
  struct ph_writer_stats ws;
  ph_writer_stats(w, &ws);
  cr_assert_eq(ws.refused_ahead, 1);
  push_batch(2, 2, v, 1); /* the stream goes on */
  drain();
  struct ack a = last_ack();
  check_ack(&a, 2);
}

/* A refused ack (hubmqtt's mailbox full) is posted again; the agent gets
 * the stream's latest upto once the sink takes it. */
Test(hub_writer, a_refused_ack_is_posted_again_with_the_latest_upto) {
  atomic_store(&cap.refusing, true);
  double v[] = {1};
  push_batch(1, 1, v, 1);
  struct ph_writer_stats ws;
  for (int i = 0; i < WAIT_MS; i++) { /* the refusal reaches the stats */
    ph_writer_stats(w, &ws);
    if (ws.acks_pending == 1) break;
    usleep(1000);
  }
  cr_assert_eq(ws.acks_pending, 1);
  cr_assert_eq(ws.acks_sent, 0);
  cr_assert_geq(atomic_load(&cap.attempts), 1);
  cr_assert_eq(nacks(), 0);
  cr_assert_eq(ph_writer_drain(w, 200), PH_ETIMEOUT, "not drained while an ack waits");

  push_batch(2, 1, v, 1); /* the next commit, while the sink still refuses */
  for (int i = 0; i < WAIT_MS && committed_upto(rd, EPOCH) < 2; i++) usleep(1000);
  cr_assert_eq(committed_upto(rd, EPOCH), 2);
  cr_assert_eq(nacks(), 0);

  atomic_store(&cap.refusing, false);
  drain(); /* no commit after this point: the pending ack is asked again all the same */
  cr_assert_eq(nacks(), 1, "one ack per stream: the latest, not one per batch");
  struct ack a = last_ack();
  check_ack(&a, 2);
  ph_writer_stats(w, &ws);
  cr_assert_eq(ws.acks_pending, 0);
  cr_assert_eq(ws.acks_sent, 1);
}

/* ingest.c: a batch refused but with a readable header is acked (it must
 * not block the agent's outbox) and kept as a reject row. */
Test(hub_writer, an_identified_refusal_is_stored_as_a_reject_and_acked) {
  struct ph_item *it = item_for("parkhub/v1/p1/e1/gw/ev/emission", 0);
  it->type = PH_ITEM_REJECT;
  it->ackable = true;
  it->code = PH_ERANGE;
  snprintf(it->reason, sizeof it->reason, "records[0].values.so2: out of range");
  it->batch.header_ok = true;
  strcpy(it->batch.agent, "gw");
  it->batch.epoch = EPOCH;
  it->batch.seq = it->batch.oldest = 1;
  ph_queue_push(q, PH_STAGE_DECODED, it);
  drain();
  cr_assert_eq(nacks(), 1);
  struct ack a = last_ack();
  check_ack(&a, 1);
  cr_assert_eq(q1("SELECT count(*) FROM rejects WHERE code = 'PH_ERANGE' AND seq = 1"), 1);
  cr_assert_eq(q1("SELECT count(*) FROM samples"), 0);
}

Test(hub_writer, an_unidentified_refusal_is_stored_and_not_acked) {
  struct ph_item *it = item_for("parkhub/v1/p1/e1/gw/ev/emission", 0);
  it->type = PH_ITEM_REJECT;
  it->code = PH_EJSON;
  snprintf(it->reason, sizeof it->reason, "batch: not valid JSON");
  ph_queue_push(q, PH_STAGE_DECODED, it);
  drain();
  cr_assert_eq(nacks(), 0);
  cr_assert_eq(q1("SELECT count(*) FROM rejects WHERE code = 'PH_EJSON'"), 1);
}

Test(hub_writer, a_status_is_stored_in_the_presence_table) {
  struct ph_item *it = item_for("parkhub/v1/p1/e1/gw/status", 0);
  it->type = PH_ITEM_STATUS;
  strcpy(it->state, "online");
  it->outbox_depth = 12;
  strcpy(it->payload, "{\"state\":\"online\",\"outbox\":{\"depth\":12}}");
  ph_queue_push(q, PH_STAGE_DECODED, it);
  drain();
  cr_assert_eq(q1("SELECT count(*) FROM agent_status WHERE state = 'online' AND outbox_depth = 12"), 1);
  cr_assert_eq(nacks(), 0, "a status is never acked");
}

/* Shutdown: close the queue, stop: what was queued is stored and acked first. */
Test(hub_writer, stop_stores_and_acks_what_was_queued) {
  double v[] = {1, 2};
  for (int64_t s = 1; s <= 5; s++) push_batch(s, 1, v, 2);
  ph_queue_close(q);
  ph_writer_stop(w);
  w = NULL;
  cr_assert_eq(q1("SELECT count(DISTINCT seq) FROM samples"), 5);
  cr_assert_eq(q1("SELECT sum(nrecords) FROM samples"), 10);
  cr_assert_eq(committed_upto(rd, EPOCH), 5);
  struct ack a = last_ack();
  check_ack(&a, 5);
}

/* A restarted writer loads the dedupe state: a batch it stored before is a duplicate. */
Test(hub_writer, a_restarted_writer_knows_what_it_stored) {
  double v[] = {1};
  push_batch(1, 1, v, 1);
  push_batch(2, 1, v, 1);
  drain();
  ph_queue_close(q);
  ph_writer_stop(w);
  w = NULL;
  ph_queue_free(q);
  cr_assert_eq(ph_queue_new((size_t)fx_cfg.queue_batches, &q), 0);
  start_writer();
  push_batch(2, 1, v, 1);
  drain();
  struct ack a = last_ack();
  check_ack(&a, 2);
  cr_assert_eq(q1("SELECT count(*) FROM samples WHERE seq = 2"), 1, "not stored twice across a restart");
  struct ph_writer_stats ws;
  ph_writer_stats(w, &ws);
  cr_assert_eq(ws.duplicates, 1);
  cr_assert_eq(ws.batches, 0);
}
