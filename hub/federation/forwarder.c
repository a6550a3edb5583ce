/* forwarder.c — the park hub's upward link (forwarder.h).
 *
 * Callers: app/hub.c. Threads: the forwarder's own (everything below but
 * on_ack) and Paho's (on_ack: records the newest ack, nothing more).
 * Owns: its database connection, the link (ingest/hubmqtt.h, the hub's
 * own connection code: nodes, failover, back-off, in-flight cap).
 *
 *   batches: acked < … ≤ sent ≤ last_batch (assigned)
 *   tick: ack arrived → delete up to it; window open → send sent + 1
 *         (assigning the next batch when every assigned one is out);
 *         no ack progress for resend_ms (5 s, doubling to 1 min while none
 *         comes), or a new connection → sent = acked
 *
 * Invariants:
 *  1. at most upstream.inflight batches are sent and not acked.
 *  2. batches go out in seq order; a resend starts over from the ack.
 *  3. nothing here waits on the writer: the outbox is read and trimmed in
 *     short transactions of this connection (busy timeout), so a regional
 *     outage or a slow region never holds up ingest.
 */
#include "federation/forwarder.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "federation/up_outbox.h"
#include "ingest/hubmqtt.h"
#include "parkhub/alloc.h"
#include "parkhub/log.h"
#include "parkhub/timefmt.h"

#define MOD "upstream"
#define TICK_MS 50
#define RESEND_MS 5000 /* no ack progress for this long: what is out is sent again, */
#define RESEND_MAX_MS 60000 /* the wait doubling up to this while none comes: a regional hub away for
                              * hours must not find its broker session full of the same batches */
#define ACK_MAX 256    /* bytes of an ack payload */

struct ph_forwarder {
  const struct ph_hub_config *cfg;
  sqlite3 *db;
  struct ph_hubmqtt *link;
  char up_topic[PH_TOPIC_MAX + 80], ack_topic[PH_TOPIC_MAX + 88];
  pthread_t th;
  bool started;
  atomic_bool stop;
  pthread_mutex_t mu; /* the ack slot and the stats */
  int64_t ack_epoch, ack_upto; /* newest ack received; upto -1: none */
  uint64_t bad_acks;
  /* the thread's */
  int64_t sent, progress_at, resend_ms;
  uint64_t last_connects;
  struct ph_forwarder_stats work; /* the thread's; copied to st under mu after each tick */
  struct ph_forwarder_stats st;
};

static void on_ack(void *u, const char *topic, size_t tlen, const void *payload, size_t len) {
  struct ph_forwarder *f = u;
  (void)topic, (void)tlen;
  cJSON *j = len <= ACK_MAX ? cJSON_ParseWithLength(payload, len) : NULL;
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "epoch"), *n = cJSON_GetObjectItemCaseSensitive(j, "upto");
  pthread_mutex_lock(&f->mu);
  if (cJSON_IsNumber(e) && cJSON_IsNumber(n) && n->valuedouble >= 0) {
    if ((int64_t)n->valuedouble > f->ack_upto || (int64_t)e->valuedouble != f->ack_epoch) {
      f->ack_epoch = (int64_t)e->valuedouble;
      f->ack_upto = (int64_t)n->valuedouble;
    }
  } else {
    f->bad_acks++; /* counted here, logged by the thread */
  }
  pthread_mutex_unlock(&f->mu);
  cJSON_Delete(j);
}

static void take_ack(struct ph_forwarder *f, struct ph_up_outbox_state *o) {
  int64_t epoch, upto, deleted = 0;
  pthread_mutex_lock(&f->mu);
  epoch = f->ack_epoch;
  upto = f->ack_upto;
  uint64_t bad = f->bad_acks;
  f->bad_acks = 0;
  pthread_mutex_unlock(&f->mu);
  if (bad) PH_WARN(MOD, "%llu unreadable acks on %s ignored", (unsigned long long)bad, f->ack_topic);
  f->work.refused_acks += bad;
  if (upto <= o->acked) return;
  struct ph_err err = {0};
  if (epoch != o->epoch || upto > o->last_batch) {
    f->work.refused_acks++;
    PH_WARN(MOD, "ack epoch %lld upto %lld is not of this outbox (epoch %lld, last batch %lld): ignored",
            (long long)epoch, (long long)upto, (long long)o->epoch, (long long)o->last_batch);
    pthread_mutex_lock(&f->mu);
    f->ack_upto = o->acked;
    pthread_mutex_unlock(&f->mu);
    return;
  }
  if (ph_up_outbox_ack(f->db, epoch, upto, &deleted, &err)) {
    PH_ERROR(MOD, "%s", err.msg);
    return;
  }
  f->work.acks++;
  f->work.changes_acked += (uint64_t)deleted;
  f->progress_at = ph_mono_ms();
  f->resend_ms = RESEND_MS;
  o->acked = upto;
}

/* Sends batch seq; 0 or PH_EAGAIN (not connected, link at its cap). */
static int send_batch(struct ph_forwarder *f, int64_t seq) {
  struct ph_err err = {0};
  char *json = NULL;
  size_t len = 0;
  int nrec = 0;
  int rc = ph_up_outbox_build_cfg(f->db, f->cfg, seq, ph_now_ms(), &json, &len, &nrec, &err);
  if (rc) {
    PH_ERROR(MOD, "batch %lld: %s", (long long)seq, err.msg);
    return rc;
  }
  rc = ph_hubmqtt_publish(f->link, f->up_topic, json, len, false);
  ph_free(json);
  return rc;
}

static void tick(struct ph_forwarder *f) {
  struct ph_up_outbox_state o;
  struct ph_hubmqtt_stats ms;
  struct ph_err err = {0};
  ph_hubmqtt_service(f->link);
  ph_hubmqtt_stats(f->link, &ms);
  if (ph_up_outbox_state(f->db, &o, &err)) {
    PH_ERROR(MOD, "%s", err.msg);
    return;
  }
  take_ack(f, &o);
  int64_t now = ph_mono_ms();
  if (f->sent < o.acked) f->sent = o.acked;
  bool overdue = f->sent > o.acked && now - f->progress_at > f->resend_ms;
  if (overdue) f->resend_ms = f->resend_ms * 2 > RESEND_MAX_MS ? RESEND_MAX_MS : f->resend_ms * 2;
  if (ms.connects != f->last_connects || overdue) {
    if (f->sent > o.acked) f->work.resends++;
    f->last_connects = ms.connects;
    f->sent = o.acked; /* inv. 2: from the ack again */
    f->progress_at = now;
  }
  for (int guard = 0; ms.connected && guard < f->cfg->upstream.inflight; guard++) {
    if (f->sent - o.acked >= f->cfg->upstream.inflight) break; /* inv. 1 */
    int64_t next = f->sent + 1;
    if (next > o.last_batch) {
      int64_t seq;
      if (ph_up_outbox_assign(f->db, (int)f->cfg->upstream.batch_records, &seq, &err)) {
        PH_ERROR(MOD, "%s", err.msg);
        break;
      }
      if (!seq) break; /* nothing new */
      o.last_batch = seq;
    }
    if (send_batch(f, next)) break;
    if (f->sent == o.acked) f->progress_at = now;
    f->sent = next;
    f->work.batches_sent++;
  }
  f->work.pending = o.pending;
  f->work.unbatched = o.unbatched;
  f->work.last_batch = o.last_batch;
  f->work.acked = o.acked;
  f->work.connected = ms.connected;
  pthread_mutex_lock(&f->mu);
  f->st = f->work;
  pthread_mutex_unlock(&f->mu);
}

static void *run(void *arg) {
  struct ph_forwarder *f = arg;
  while (!atomic_load(&f->stop)) {
    tick(f);
    usleep(TICK_MS * 1000);
  }
  return NULL;
}

static int open_db(struct ph_forwarder *f, struct ph_err *err) {
  if (sqlite3_open_v2(f->cfg->db_path, &f->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
    return ph_fail(err, PH_EDB, "upstream: database %s: %s", f->cfg->db_path, sqlite3_errmsg(f->db));
  sqlite3_busy_timeout(f->db, 10000);
  sqlite3_exec(f->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL); /* an ack's deletion is kept */
  const char *fw[PH_UP_MAX_FORWARD];
  for (int i = 0; i < f->cfg->upstream.nforward; i++) fw[i] = f->cfg->upstream.forward[i];
  return ph_up_outbox_setup(f->db, fw, f->cfg->upstream.nforward, ph_now_ms() / 1000, err);
}

int ph_forwarder_start(const struct ph_hub_config *cfg, struct ph_forwarder **out, struct ph_err *err) {
  struct ph_forwarder *f = ph_calloc(1, sizeof *f);
  if (!f) return ph_fail(err, PH_ENOMEM, "upstream: out of memory");
  f->cfg = cfg;
  f->ack_upto = -1;
  f->resend_ms = RESEND_MS;
  pthread_mutex_init(&f->mu, NULL);
  snprintf(f->up_topic, sizeof f->up_topic, "parkhub/v1/%s/hub/%s/up", cfg->parks[0].id, cfg->hub_id);
  snprintf(f->ack_topic, sizeof f->ack_topic, "%s/ack", f->up_topic);
  const char *subs[1] = {f->ack_topic};
  int rc = open_db(f, err);
  if (!rc) rc = ph_hubmqtt_new_link(&cfg->upstream.mqtt, cfg->hub_id, subs, 1, on_ack, f, &f->link, err);
  if (!rc) rc = ph_hubmqtt_start(f->link, err);
  if (!rc && pthread_create(&f->th, NULL, run, f) != 0) rc = ph_fail(err, PH_ENOMEM, "upstream: no thread");
  if (rc) {
    ph_forwarder_stop(f);
    return rc;
  }
  f->started = true;
  char uris[512];
  ph_mqtt_conf_uris_text(&cfg->upstream.mqtt, uris, sizeof uris);
  PH_INFO(MOD, "forwarding %d table%s to the regional hub at %s on %s", cfg->upstream.nforward,
          cfg->upstream.nforward == 1 ? "" : "s", uris, f->up_topic);
  *out = f;
  return 0;
}

void ph_forwarder_stop(struct ph_forwarder *f) {
  if (!f) return;
  atomic_store(&f->stop, true);
  if (f->started) pthread_join(f->th, NULL);
  if (f->link) {
    ph_hubmqtt_stop(f->link);
    ph_hubmqtt_free(f->link);
  }
  sqlite3_close(f->db);
  pthread_mutex_destroy(&f->mu);
  ph_free(f);
}

void ph_forwarder_stats(struct ph_forwarder *f, struct ph_forwarder_stats *st) {
  pthread_mutex_lock(&f->mu);
  *st = f->st;
  pthread_mutex_unlock(&f->mu);
}
