/* regional.c — the regional hub's intake of upward batches (regional.h).
 *
 * Callers: app/hub.c (role "regional"). Threads: its own and Paho's (on_msg).
 * Owns: a store connection of its own on the hub's database (the writer
 * keeps its own: both write, SQLite serialises them), the link
 * (ingest/hubmqtt.h: the hub's connection code), the message queue.
 *
 * Refusal decision table (who gets an ack), as for an agent's batch:
 *   topic unparseable / park not served / sender ≠ payload agent   counted, logged, no ack
 *   seq implausibly far ahead, too many out of order              counted, logged, no ack
 *   envelope readable, a record bad                               counted, logged, acked past it (ph_up_skip)
 *   database failure                                              rolled back, no ack (the sender resends)
 *
 * Invariants:
 *  1. an ack is posted only after the batch's transaction committed.
 *  2. the queue holds at most QUEUE_MAX messages of at most
 *     PH_UP_PAYLOAD_MAX bytes; a full queue makes Paho's thread wait.
 */
#include "federation/regional.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "federation/up_apply.h"
#include "ingest/hubmqtt.h"
#include "parkhub/alloc.h"
#include "parkhub/log.h"
#include "parkhub/timefmt.h"
#include "store/store.h"

#define MOD "regional"
#define QUEUE_MAX 32
#define WAIT_MS 100
#define TOPIC_CAP 256

struct msg {
  char topic[TOPIC_CAP];
  char *payload;
  size_t len;
};

struct ph_regional {
  const struct ph_hub_config *cfg;
  struct ph_mqtt_conf mc; /* the hub's broker, its own client id */
  struct ph_store *store;
  struct ph_hubmqtt *link;
  const char *parks[PH_HUB_MAX_PARKS];
  char (*subs)[TOPIC_CAP];
  pthread_t th;
  bool started;
  atomic_bool stop;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct msg q[QUEUE_MAX];
  int head, n;
  struct ph_regional_stats st; /* under mu */
  struct ph_ratelimit rl, cfg_rl;
};

static void on_msg(void *u, const char *topic, size_t tlen, const void *payload, size_t len) {
  struct ph_regional *r = u;
  if (tlen >= TOPIC_CAP || len > PH_UP_PAYLOAD_MAX) {
    pthread_mutex_lock(&r->mu);
    r->st.refused++;
    pthread_mutex_unlock(&r->mu);
    PH_WARN(MOD, "upward message refused: topic of %zu or payload of %zu bytes too long", tlen, len);
    return;
  }
  char *copy = ph_malloc(len + 1);
  if (!copy) return; /* not acked: the sender sends it again */
  memcpy(copy, payload, len);
  copy[len] = 0;
  pthread_mutex_lock(&r->mu);
  while (r->n == QUEUE_MAX && !atomic_load(&r->stop)) pthread_cond_wait(&r->cv, &r->mu); /* inv. 2 */
  if (r->n == QUEUE_MAX) {
    pthread_mutex_unlock(&r->mu);
    ph_free(copy);
    return;
  }
  struct msg *m = &r->q[(r->head + r->n++) % QUEUE_MAX];
  memcpy(m->topic, topic, tlen);
  m->topic[tlen] = 0;
  m->payload = copy;
  m->len = len;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
}

/* "parkhub/v1/{park}/hub/{sender}/up" → park, sender. */
static bool parse_topic(const char *topic, char *park, char *sender) {
  char p[PH_ID_MAX + 2], s[PH_ID_MAX + 2];
  int used = 0;
  if (sscanf(topic, "parkhub/v1/%65[^/]/hub/%65[^/]/up%n", p, s, &used) != 2 || topic[used] != 0) return false;
  if (!ph_id_valid_z(p) || !ph_id_valid_z(s)) return false;
  strcpy(park, p);
  strcpy(sender, s);
  return true;
}

static void count(struct ph_regional *r, const struct ph_up_result *res, bool refused, bool skipped) {
  pthread_mutex_lock(&r->mu);
  r->st.batches++;
  r->st.duplicates += res->duplicate;
  r->st.refused += refused;
  r->st.skipped += skipped;
  r->st.records += (uint64_t)res->records;
  r->st.applied += (uint64_t)res->applied;
  r->st.stale += (uint64_t)res->stale;
  r->st.gaps += res->gap;
  pthread_mutex_unlock(&r->mu);
}

static void ack(struct ph_regional *r, const char *topic, const struct ph_up_result *res, int64_t upto) {
  char at[TOPIC_CAP + 8];
  snprintf(at, sizeof at, "%s/ack", topic);
  if (ph_hubmqtt_post_ack(r->link, at, res->epoch, upto))
    PH_ERROR(MOD, "ack for %s: out of memory; sent with its next batch", res->sender);
}

/* Records a refused batch whose envelope was readable as held (no rows). */
static void skip(struct ph_regional *r, const struct msg *m, const struct ph_up_result *res) {
  struct ph_err err = {0};
  int64_t upto = 0;
  if (ph_store_begin(r->store, &err) || ph_up_skip(r->store, res, ph_now_ms(), &upto) ||
      ph_store_commit(r->store, &err)) {
    ph_store_rollback(r->store);
    return;
  }
  ack(r, m->topic, res, upto);
}

/* A park the sender configures otherwise than this hub: its figures here
 * may differ from its own (limits, zones, benchmarks): counted, logged. */
static void compare_config(struct ph_regional *r, const struct ph_up_result *res) {
  for (int i = 0; i < res->nconfig; i++) {
    const struct ph_hub_park *p = ph_hub_config_park(r->cfg, res->config[i].park);
    if (!p || !strcmp(p->fingerprint, res->config[i].fp)) continue;
    pthread_mutex_lock(&r->mu);
    r->st.config_mismatches++;
    pthread_mutex_unlock(&r->mu);
    if (ph_ratelimit_ok(&r->cfg_rl, ph_mono_ms(), NULL))
      PH_WARN(MOD, "park %s is configured otherwise on %s (fingerprint %s) than here (%s): its figures here may differ",
              p->id, res->sender, res->config[i].fp, p->fingerprint);
  }
}

static void handle(struct ph_regional *r, const struct msg *m) {
  char park[PH_ID_MAX + 1], sender[PH_ID_MAX + 1];
  struct ph_up_result res = {0};
  struct ph_err err = {0};
  if (!parse_topic(m->topic, park, sender)) {
    count(r, &res, true, false);
    if (ph_ratelimit_ok(&r->rl, ph_mono_ms(), NULL)) PH_WARN(MOD, "upward batch on %.100s refused: not an upward topic", m->topic);
    return;
  }
  int rc = ph_store_begin(r->store, &err);
  if (!rc) rc = ph_up_apply(r->store, park, m->payload, m->len, r->parks, r->cfg->nparks, ph_now_ms(), &res, &err);
  if (!rc && strcmp(res.sender, sender) != 0) {
    rc = ph_fail(&err, PH_EIDENTITY, "payload agent \"%s\" is not the topic's %s", res.sender, sender);
    res.ackable = false;
  }
  if (!rc && (rc = ph_store_commit(r->store, &err)) == 0) {
    count(r, &res, false, false);
    compare_config(r, &res);
    if (res.gap) PH_WARN(MOD, "%s (epoch %lld) declared batches below %lld lost", sender, (long long)res.epoch, (long long)res.upto + 1);
    ack(r, m->topic, &res, res.upto); /* inv. 1 */
    return;
  }
  ph_store_rollback(r->store);
  bool retry = rc == PH_EDB || rc == PH_EFULL;
  count(r, &res, !retry, !retry && res.ackable);
  if (ph_ratelimit_ok(&r->rl, ph_mono_ms(), NULL)) PH_WARN(MOD, "upward batch %lld of %s refused: %s", (long long)res.seq, sender, err.msg);
  if (!retry && res.ackable) skip(r, m, &res);
}

static void *run(void *arg) {
  struct ph_regional *r = arg;
  for (;;) {
    pthread_mutex_lock(&r->mu);
    if (!r->n && !atomic_load(&r->stop)) {
      struct timespec until = ph_deadline_ms(CLOCK_REALTIME, WAIT_MS);
      pthread_cond_timedwait(&r->cv, &r->mu, &until);
    }
    if (!r->n && atomic_load(&r->stop)) {
      pthread_mutex_unlock(&r->mu);
      return NULL;
    }
    bool have = r->n > 0;
    struct msg m = have ? r->q[r->head] : (struct msg){0};
    if (have) {
      r->head = (r->head + 1) % QUEUE_MAX;
      r->n--;
      pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    ph_hubmqtt_service(r->link);
    if (!have) continue;
    handle(r, &m);
    ph_free(m.payload);
  }
}

int ph_regional_start(const struct ph_hub_config *cfg, struct ph_regional **out, struct ph_err *err) {
  struct ph_regional *r = ph_calloc(1, sizeof *r);
  if (!r || !(r->subs = ph_calloc((size_t)cfg->nparks, sizeof *r->subs))) {
    ph_free(r);
    return ph_fail(err, PH_ENOMEM, "regional: out of memory");
  }
  r->cfg = cfg;
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cv, NULL);
  ph_ratelimit_init(&r->rl, 10000);
  ph_ratelimit_init(&r->cfg_rl, 60000);
  const char *subs[PH_HUB_MAX_PARKS];
  for (int i = 0; i < cfg->nparks; i++) {
    r->parks[i] = cfg->parks[i].id;
    snprintf(r->subs[i], sizeof r->subs[i], "parkhub/v1/%s/hub/+/up", cfg->parks[i].id);
    subs[i] = r->subs[i];
  }
  r->mc = cfg->mqtt;
  r->mc.shared_group[0] = 0;
  snprintf(r->mc.client_id, sizeof r->mc.client_id, "%.200s-up", cfg->mqtt.client_id);
  int rc = ph_store_open(cfg->db_path, &r->store, err);
  if (!rc) rc = ph_hubmqtt_new_link(&r->mc, cfg->hub_id, subs, cfg->nparks, on_msg, r, &r->link, err);
  if (!rc) rc = ph_hubmqtt_start(r->link, err);
  if (!rc && pthread_create(&r->th, NULL, run, r) != 0) rc = ph_fail(err, PH_ENOMEM, "regional: no thread");
  if (rc) {
    ph_regional_stop(r);
    return rc;
  }
  r->started = true;
  PH_INFO(MOD, "regional hub: receiving the upward batches of %d park%s", cfg->nparks, cfg->nparks == 1 ? "" : "s");
  *out = r;
  return 0;
}

void ph_regional_stop(struct ph_regional *r) {
  if (!r) return;
  atomic_store(&r->stop, true);
  pthread_mutex_lock(&r->mu);
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
  if (r->link) ph_hubmqtt_stop(r->link); /* no more messages */
  if (r->started) pthread_join(r->th, NULL);
  ph_hubmqtt_free(r->link);
  for (; r->n > 0; r->n--, r->head = (r->head + 1) % QUEUE_MAX) ph_free(r->q[r->head].payload);
  ph_store_close(r->store);
  pthread_mutex_destroy(&r->mu);
  pthread_cond_destroy(&r->cv);
  ph_free(r->subs);
  ph_free(r);
}

void ph_regional_stats(struct ph_regional *r, struct ph_regional_stats *st) {
  pthread_mutex_lock(&r->mu);
  *st = r->st;
  pthread_mutex_unlock(&r->mu);
  struct ph_hubmqtt_stats ms;
  ph_hubmqtt_stats(r->link, &ms);
  st->connected = ms.connected;
}
