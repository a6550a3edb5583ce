/* hubmqtt.c — the hub's MQTT side (hubmqtt.h).
 *
 * Two connections to the broker, each its own Paho client:
 *   sub  the configured client id, clean session off: the broker keeps its
 *        subscriptions and queues QoS 1 for it while the hub is away. It
 *        never publishes.
 *   pub  client id + "-pub", clean session on: acks, alarm messages, the
 *        retained hub status and its will.
 * Why two: Paho C 1.3.12, resuming a session (clean session off) with QoS 1
 * publishes still unacknowledged, resends them from its receive thread
 * while another of its threads frees them — a use after free seen under
 * ASan after a broker restart with persistence (tests/faults). A session
 * that never publishes has nothing to resend, and a clean one has nothing
 * kept; what the pub side had in flight is lost with the connection: an
 * ack is sent again with the next commit or duplicate (agents publish
 * again when no ack comes), an alarm message is published again by the
 * delivery stage because ph_hubmqtt_publish_confirmed waits for the
 * broker's PUBACK.
 *
 * Threads: Paho's (message arrived → ph_ingest_message, which may block on
 * the queue: that is the back-pressure), the ack thread, the delivery
 * stage (confirmed publishes), the main loop (service: subscriptions and
 * status after a connect; "online" is said only once the broker
 * acknowledged every subscription, so whoever publishes on reading it is
 * heard, even before the hub's persistent session existed). Callbacks
 * only record what happened; nothing changes Paho's options inside them
 * (upstream issue 1341, DESIGN.md).
 *
 * In-flight accounting of the pub side: per connection generation (gen, a
 * 4-bit tag in each publish's context), a counter per tag; a new
 * connection starts its counter at 0, and a late callback of an older one
 * only touches its own.
 *
 * Broker nodes (mqtt.uris: the nodes of a clustered broker, or one
 * Mosquitto). Each connection reconnects itself from the main loop, not
 * with Paho's automaticReconnect, one node per connect (Paho 1.3.12 given
 * several URIs may report the wrong one as reached): a failed node is
 * followed at once by the next, a round over all of them by the back-off,
 * each node gets mqtt.connect_timeout_ms (TCP connect + CONNACK). A
 * failover (a connection to another node than the previous one) is counted
 * and logged with both URIs.
 *
 *   DOWN --service: retry time came--> CONNECTING --onSuccess--> UP
 *     ^                                   | onFailure              | connectionLost
 *     +------ back-off · jitter ----------+------------------------+
 *
 *   from → to              function
 *   DOWN → CONNECTING      reconnect_due → connect_conn
 *   CONNECTING → UP        cb_connected (records the node), service: note_node
 *   CONNECTING → DOWN      cb_connect_failed → service: schedule_retry,
 *                          or no answer in time: reconnect_due → schedule_retry
 *   UP → DOWN              cb_lost → service: schedule_retry
 *
 * Heartbeat: once online, every mqtt.heartbeat_s the pub side publishes a
 * non-retained {"v":1,"hub","state":"online","ts","heartbeat_s"} on each
 * park's hub topic, but only while the sub side is connected and its
 * subscriptions acknowledged: a heartbeat says someone receives (inv. 4).
 * A heartbeat refused at the in-flight cap is tried again at the next
 * service call, from the park it stopped at, not a period later. Agents trust it, not the retained status or the will:
 * a cluster keeps retained messages per node and loses wills with their
 * node (DESIGN.md, Topics).
 *
 * A link (ph_hubmqtt_new_link, federation): the same two connections and
 * state machine on another broker config, with no parks (no will, status
 * or heartbeat), its own subscriptions and a message callback instead of
 * ingest. A regional hub's own client (role regional) subscribes to its
 * parks' cmd/ack only and says nothing on their hub topic (status_said):
 * its parks' agents must never take it for their park hub.
 *
 * Invariants:
 *  1. at most one connect per connection is under way; a new one starts
 *     only from the main loop after Paho reported the last one's end.
 *  2. the heartbeat is never retained (a stale retained heartbeat would
 *     say a dead hub is up).
 *  3. a connect's outcome is acted on once: a failure reported after the
 *     main loop gave up on that connect (no answer in time) is ignored, so
 *     the node is not advanced twice.
 *  4. a heartbeat goes out only while sub is connected and subscribed;
 *     losing sub clears `subscribed` until the next setup's SUBACKs.
 */
#include "ingest/hubmqtt.h"

#include <MQTTAsync.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "parkhub/alloc.h"
#include "ingest/idmap.h"
#include "parkhub/log.h"
#include "parkhub/mqttopts.h"
#include "parkhub/timefmt.h"
#include "parkhub/topic.h"

#define MOD "mqtt"
#define HUB_INFLIGHT 512
#define BUSY_RETRY_MS 200      /* Paho still busy with the last connection */
#define CONNECT_GRACE_MS 10000 /* beyond Paho's own connect timeout: its answer is awaited that long */

/* The ack mailbox: the writer posts, the ack thread publishes. One entry
 * per (agent topic, epoch) waiting to be sent: a newer ack of the same
 * (topic, epoch) replaces an unsent older one, which is what cumulative
 * acks allow; acks of two epochs never replace each other (DESIGN.md:
 * acks are kept per (agent, epoch)). An entry leaves once handed to Paho,
 * so the box holds only what waits: it grows with the streams acked at
 * once (any number of agents the config accepts) and keeps nothing of a
 * retired epoch. */
struct ack_ent {
  char topic[PH_TOPIC_MAX];
  int64_t epoch, upto;
};

struct ack_box {
  struct ack_ent *v;
  size_t n, cap;
  struct ph_idmap idx; /* "epoch topic" → index in v */
};

#define GENS 16 /* connection generations told apart in a publish's context */
#define GEN_MASK ((uintptr_t)(GENS - 1))

/* One Paho client and what its callbacks report. */
struct conn {
  struct ph_hubmqtt *m;
  const char *name; /* "sub" or "pub", for the log */
  MQTTAsync client;
  bool persistent;
  atomic_bool connected, need_setup;
  atomic_bool ended;         /* the connect failed or the connection was lost: retry */
  atomic_bool pending;       /* a connect's answer is still wanted: taken (exchanged to false) by
                                its callback or by the main loop giving up on it, never both (inv. 3) */
  char uri[256];             /* node reached; written by cb_connected before need_setup */
  /* the main loop's */
  bool waiting;              /* DOWN: retry at retry_at */
  int64_t retry_at, backoff_ms;
  char last_uri[256];        /* node of the previous connection ("" before the first) */
  int node, tried;           /* node to connect to (index in mqtt.uris); nodes failed in this round */
  const char *trying;        /* URI of the connect under way, for the callbacks */
  int64_t connect_until;     /* a connect under way: no answer by then is a failed node */
};

/* A publish whose PUBACK someone waits for (ph_hubmqtt_publish_confirmed).
 * Heap-allocated: Paho may call back after the waiter gave up, or never
 * (a clean session drops what was in flight). Listed in m->tickets so the
 * ones never called back are freed with the client. */
struct ticket {
  struct ph_hubmqtt *m;
  struct ticket *prev, *next;
  unsigned gen;
  bool done, ok, abandoned;
};

struct ph_hubmqtt {
  const struct ph_hub_config *cfg;
  struct ph_ingest *in;
  struct conn sub, pub;
  char pub_id[300];
  atomic_uint gen;                /* pub's connection generation */
  atomic_int inflight[GENS];      /* pub's QoS 1 publishes in flight, per generation tag */
  atomic_uint_fast64_t connects, losses, published, publish_failures, at_cap, failovers, heartbeats;
  bool online_said;                /* the main loop's: "online" said on this pub connection */
  int64_t beat_at;                 /* the main loop's: next heartbeat (monotonic ms) */
  int beat_park;                   /* the main loop's: park the current heartbeat round goes on from */
  char will_topic[PH_TOPIC_MAX];
  char offline[128];
  atomic_int subs_pending;         /* SUBSCRIBEs of the current sub setup not answered yet */
  atomic_bool subscribed;          /* every one answered */
  atomic_uint_fast64_t sub_failures;
  bool online_pending;             /* the main loop's: pub is up, "online" not said yet */
  bool stopping;                   /* the main loop's: no reconnect after ph_hubmqtt_stop */
  pthread_t acker;
  bool acker_started;
  pthread_mutex_t ack_mu;
  pthread_cond_t ack_cv;
  bool ack_stop;
  struct ack_box box, sending; /* waiting; taken by the ack thread (swapped whole) */
  size_t nsending;               /* entries of `sending` not handed to Paho yet */
  uint64_t acks_published;
  pthread_mutex_t tk_mu;
  pthread_cond_t tk_cv;
  struct ticket *tickets;
  /* a link (ph_hubmqtt_new_link): no parks, its own subscriptions, messages to on_msg */
  struct ph_hub_config *link_cfg; /* owned: hub_id and mqtt only, no parks */
  ph_hubmqtt_msg_fn on_msg;
  void *on_msg_u;
  char (*link_subs)[PH_TOPIC_MAX]; /* owned */
  int nlink_subs;
};

static void cb_connected(void *context, MQTTAsync_successData *d) {
  (void)d;
  struct conn *c = context;
  struct ph_hubmqtt *m = c->m;
  snprintf(c->uri, sizeof c->uri, "%s", c->trying);
  atomic_store(&c->pending, false); /* a late success is still a connection: taken as one */
  if (c == &m->sub) atomic_store(&m->subscribed, false); /* until this connection's SUBACKs (inv. 4) */
  if (c == &m->pub) {
    unsigned g = (atomic_load(&m->gen) + 1) & GEN_MASK;
    atomic_store(&m->inflight[g], 0);
    atomic_store(&m->gen, g);
  }
  atomic_store(&c->connected, true);
  atomic_store(&c->need_setup, true);
  atomic_fetch_add(&m->connects, 1);
}

static void cb_lost(void *context, char *cause) {
  struct conn *c = context;
  atomic_store(&c->connected, false);
  if (c == &c->m->sub) atomic_store(&c->m->subscribed, false); /* nothing receives: no heartbeat (inv. 4) */
  atomic_fetch_add(&c->m->losses, 1);
  PH_WARN(MOD, "%s connection to %s lost: %s; reconnecting", c->name, c->uri, cause ? cause : "no reason given");
  atomic_store(&c->ended, true);
  if (c == &c->m->pub) { /* waiters for a PUBACK stop waiting for this connection's */
    pthread_mutex_lock(&c->m->tk_mu);
    pthread_cond_broadcast(&c->m->tk_cv);
    pthread_mutex_unlock(&c->m->tk_mu);
  }
}

static void cb_connect_failed(void *context, MQTTAsync_failureData *d) {
  struct conn *c = context;
  if (!atomic_exchange(&c->pending, false)) { /* inv. 3: the main loop gave up on it and moved on */
    PH_INFO(MOD, "%s connect to %s failed after it was given up on: ignored", c->name, c->trying);
    return;
  }
  PH_WARN(MOD, "%s connect failed to %s: %s (code %d); trying again", c->name, c->trying,
          d && d->message ? d->message : "no reason given", d ? d->code : 0);
  atomic_store(&c->ended, true);
}

static int cb_message(void *context, char *topic, int tlen, MQTTAsync_message *msg) {
  struct conn *c = context;
  size_t n = tlen ? (size_t)tlen : strlen(topic);
  /* PH_ECLOSED (only after the disconnect at shutdown) drops the message
   * here; the hub never acked it, so its agent publishes it again. */
  if (c == &c->m->sub && c->m->on_msg)
    c->m->on_msg(c->m->on_msg_u, topic, n, msg->payload, (size_t)msg->payloadlen);
  else if (c == &c->m->sub)
    ph_ingest_message(c->m->in, topic, n, msg->payload, (size_t)msg->payloadlen);
  MQTTAsync_freeMessage(&msg);
  MQTTAsync_free(topic);
  return 1;
}

/* ---- publishes of the pub connection ---- */

static void *tagged(struct ph_hubmqtt *m, unsigned g) { return (void *)((uintptr_t)m | g); }
static struct ph_hubmqtt *untag(void *context) { return (void *)((uintptr_t)context & ~GEN_MASK); }

static void finished(struct ph_hubmqtt *m, unsigned g, bool ok) {
  atomic_fetch_sub(&m->inflight[g & GEN_MASK], 1);
  if (!ok) atomic_fetch_add(&m->publish_failures, 1);
}
static void pub_done(void *context, MQTTAsync_successData *d) {
  (void)d;
  finished(untag(context), (unsigned)((uintptr_t)context & GEN_MASK), true);
}
static void pub_failed(void *context, MQTTAsync_failureData *d) {
  (void)d;
  finished(untag(context), (unsigned)((uintptr_t)context & GEN_MASK), false);
}

static void ticket_unlink(struct ph_hubmqtt *m, struct ticket *t) {
  if (t->prev) t->prev->next = t->next;
  else m->tickets = t->next;
  if (t->next) t->next->prev = t->prev;
}

/* A ticket's callbacks: the ticket is the context. */
static void ticket_end(struct ticket *t, bool ok) {
  struct ph_hubmqtt *m = t->m;
  finished(m, t->gen, ok);
  pthread_mutex_lock(&m->tk_mu);
  t->done = true;
  t->ok = ok;
  if (t->abandoned) {
    ticket_unlink(m, t);
    ph_free(t);
  }
  pthread_cond_broadcast(&m->tk_cv);
  pthread_mutex_unlock(&m->tk_mu);
}
static void tk_done(void *context, MQTTAsync_successData *d) { (void)d, ticket_end(context, true); }
static void tk_failed(void *context, MQTTAsync_failureData *d) { (void)d, ticket_end(context, false); }

/* Sends one QoS 1 message on pub; tk (or NULL) gets the callbacks. */
static int send_pub(struct ph_hubmqtt *m, const char *topic, const void *payload, size_t len, bool retained,
                    struct ticket *tk) {
  if (!atomic_load(&m->pub.connected)) return PH_EAGAIN;
  unsigned g = atomic_load(&m->gen);
  if (atomic_fetch_add(&m->inflight[g], 1) >= HUB_INFLIGHT) {
    atomic_fetch_sub(&m->inflight[g], 1);
    atomic_fetch_add(&m->at_cap, 1);
    return PH_EAGAIN;
  }
  MQTTAsync_message msg = MQTTAsync_message_initializer;
  MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
  msg.payload = (void *)payload;
  msg.payloadlen = (int)len;
  msg.qos = 1;
  msg.retained = retained;
  ro.onSuccess = tk ? tk_done : pub_done;
  ro.onFailure = tk ? tk_failed : pub_failed;
  ro.context = tk ? (void *)tk : tagged(m, g);
  if (tk) tk->gen = g;
  int rc = MQTTAsync_sendMessage(m->pub.client, topic, &msg, &ro);
  if (rc != MQTTASYNC_SUCCESS) {
    atomic_fetch_sub(&m->inflight[g], 1);
    atomic_fetch_add(&m->publish_failures, 1);
    return PH_EAGAIN;
  }
  atomic_fetch_add(&m->published, 1);
  return 0;
}

int ph_hubmqtt_publish(struct ph_hubmqtt *m, const char *topic, const void *payload, size_t len, bool retained) {
  return send_pub(m, topic, payload, len, retained, NULL);
}

int ph_hubmqtt_publish_confirmed(struct ph_hubmqtt *m, const char *topic, const void *payload, size_t len,
                                 bool retained, int timeout_ms) {
  struct ticket *tk = ph_calloc(1, sizeof *tk);
  if (!tk) return PH_ENOMEM;
  tk->m = m;
  pthread_mutex_lock(&m->tk_mu);
  tk->next = m->tickets;
  if (m->tickets) m->tickets->prev = tk;
  m->tickets = tk;
  pthread_mutex_unlock(&m->tk_mu);
  int rc = send_pub(m, topic, payload, len, retained, tk);
  struct timespec until = ph_deadline_ms(CLOCK_REALTIME, timeout_ms);
  pthread_mutex_lock(&m->tk_mu);
  while (!rc && !tk->done && atomic_load(&m->gen) == tk->gen && atomic_load(&m->pub.connected))
    if (pthread_cond_timedwait(&m->tk_cv, &m->tk_mu, &until) != 0) break;
  if (!rc && !tk->done) rc = PH_ETIMEOUT; /* lost with its connection, or no PUBACK in time */
  else if (!rc && !tk->ok) rc = PH_EAGAIN;
  if (rc == PH_ETIMEOUT) {
    tk->abandoned = true; /* freed by its callback, or with the client */
  } else {
    ticket_unlink(m, tk);
    ph_free(tk);
  }
  pthread_mutex_unlock(&m->tk_mu);
  return rc;
}

/* Adds or raises the entry of (topic, epoch); under ack_mu. 0 or PH_ENOMEM. */
static int box_put(struct ack_box *b, const char *topic, int64_t epoch, int64_t upto) {
  char key[PH_TOPIC_MAX + 24];
  int len = snprintf(key, sizeof key, "%lld %s", (long long)epoch, topic);
  if (len < 0 || (size_t)len >= sizeof key) return PH_EINVAL;
  int64_t i;
  if (ph_idmap_get(&b->idx, key, (size_t)len, &i)) {
    if (upto > b->v[i].upto) b->v[i].upto = upto; /* cumulative: never back */
    return 0;
  }
  if (b->n == b->cap) {
    size_t ncap = b->cap ? b->cap * 2 : 256;
    struct ack_ent *p = ph_realloc(b->v, ncap * sizeof *p);
    if (!p) return PH_ENOMEM;
    b->v = p;
    b->cap = ncap;
  }
  if (ph_idmap_put(&b->idx, key, (size_t)len, (int64_t)b->n)) return PH_ENOMEM;
  struct ack_ent *e = &b->v[b->n++];
  snprintf(e->topic, sizeof e->topic, "%s", topic);
  e->epoch = epoch;
  e->upto = upto;
  return 0;
}

/* Empties b, keeping its array (the keys are freed). */
static void box_clear(struct ack_box *b) {
  b->n = 0;
  ph_idmap_fini(&b->idx);
  ph_idmap_init(&b->idx);
}

static void box_fini(struct ack_box *b) {
  ph_idmap_fini(&b->idx);
  ph_free(b->v);
  memset(b, 0, sizeof *b);
}

int ph_hubmqtt_post_ack(struct ph_hubmqtt *m, const char *topic, int64_t epoch, int64_t upto) {
  pthread_mutex_lock(&m->ack_mu);
  int rc = box_put(&m->box, topic, epoch, upto);
  if (!rc) pthread_cond_signal(&m->ack_cv);
  pthread_mutex_unlock(&m->ack_mu);
  return rc;
}

/* Publishes what was taken from the box; on a refusal (at the in-flight
 * cap, disconnected) puts that entry and the rest back and returns false.
 * Called and returns with ack_mu held; Paho is called without it. */
static bool send_taken(struct ph_hubmqtt *m) {
  struct ack_box *t = &m->sending;
  for (size_t i = 0; i < t->n && !m->ack_stop; i++) {
    const struct ack_ent *e = &t->v[i];
    char payload[96];
    int n = snprintf(payload, sizeof payload, "{\"epoch\":%lld,\"upto\":%lld}", (long long)e->epoch,
                     (long long)e->upto);
    pthread_mutex_unlock(&m->ack_mu);
    int rc = ph_hubmqtt_publish(m, e->topic, payload, (size_t)n, false);
    pthread_mutex_lock(&m->ack_mu);
    m->nsending--;
    if (rc == 0) {
      m->acks_published++;
      continue;
    }
    for (size_t k = i; k < t->n; k++) /* a newer ack posted meanwhile wins (max upto) */
      if (box_put(&m->box, t->v[k].topic, t->v[k].epoch, t->v[k].upto))
        PH_ERROR(MOD, "ack mailbox: out of memory; %s waits for the agent's next batch", t->v[k].topic);
    m->nsending = 0;
    return false;
  }
  m->nsending = 0;
  return true;
}

/* The ack thread: publishes what the mailbox holds; may wait on Paho's lock
 * (that is why it is not the writer). */
static void *acker(void *arg) {
  struct ph_hubmqtt *m = arg;
  pthread_mutex_lock(&m->ack_mu);
  while (!m->ack_stop) {
    if (!m->box.n || !atomic_load(&m->pub.connected)) {
      struct timespec until = ph_deadline_ms(CLOCK_REALTIME, 100);
      pthread_cond_timedwait(&m->ack_cv, &m->ack_mu, &until);
      continue;
    }
    struct ack_box taken = m->box; /* take them all: posts go on into an empty box meanwhile */
    m->box = m->sending;
    box_clear(&m->box);
    m->sending = taken;
    m->nsending = taken.n;
    if (!send_taken(m)) {
      pthread_mutex_unlock(&m->ack_mu);
      usleep(10000); /* at the in-flight cap or disconnected: let acks complete */
      pthread_mutex_lock(&m->ack_mu);
    }
  }
  pthread_mutex_unlock(&m->ack_mu);
  return NULL;
}

static int create_conn(struct ph_hubmqtt *m, struct conn *c, const char *name, const char *client_id,
                       struct ph_err *err) {
  c->m = m;
  c->name = name;
  MQTTAsync_createOptions cro = MQTTAsync_createOptions_initializer;
  cro.maxBufferedMessages = HUB_INFLIGHT + 64; /* also caps sends while connected (DESIGN.md) */
  int rc = MQTTAsync_createWithOptions(&c->client, m->cfg->mqtt.uris[0], client_id, MQTTCLIENT_PERSISTENCE_NONE,
                                       NULL, &cro);
  if (rc != MQTTASYNC_SUCCESS) {
    c->client = NULL;
    return ph_fail(err, PH_EMQTT, "mqtt: cannot create the %s client for %s: code %d", name, m->cfg->mqtt.uris[0],
                   rc);
  }
  MQTTAsync_setCallbacks(c->client, c, cb_lost, cb_message, NULL);
  c->backoff_ms = m->cfg->mqtt.reconnect_min_ms;
  return 0;
}

int ph_hubmqtt_new(const struct ph_hub_config *cfg, struct ph_ingest *in, struct ph_hubmqtt **out,
                   struct ph_err *err) {
  struct ph_hubmqtt *m = ph_calloc(1, sizeof *m);
  if (!m) return ph_fail(err, PH_ENOMEM, "mqtt: out of memory");
  ph_idmap_init(&m->box.idx);
  ph_idmap_init(&m->sending.idx);
  pthread_mutex_init(&m->ack_mu, NULL);
  pthread_cond_init(&m->ack_cv, NULL);
  pthread_mutex_init(&m->tk_mu, NULL);
  pthread_cond_init(&m->tk_cv, NULL);
  m->cfg = cfg;
  m->in = in;
  struct ph_topic t = {.type = PH_TOPIC_HUB};
  snprintf(t.park, sizeof t.park, "%s", cfg->nparks ? cfg->parks[0].id : "");
  if (cfg->nparks && cfg->role == PH_HUB_ROLE_PARK) /* a link or a regional hub has no will (status_said) */
    ph_topic_build(&t, m->will_topic, sizeof m->will_topic);
  snprintf(m->offline, sizeof m->offline, "{\"v\":1,\"hub\":\"%s\",\"state\":\"offline\"}", cfg->hub_id);
  snprintf(m->pub_id, sizeof m->pub_id, "%s-pub", cfg->mqtt.client_id);
  int rc = create_conn(m, &m->sub, "sub", cfg->mqtt.client_id, err);
  if (!rc) rc = create_conn(m, &m->pub, "pub", m->pub_id, err);
  if (rc) {
    ph_hubmqtt_free(m);
    return rc;
  }
  if (pthread_create(&m->acker, NULL, acker, m) != 0) {
    ph_hubmqtt_free(m);
    return ph_fail(err, PH_ENOMEM, "mqtt: cannot start the ack thread");
  }
  m->acker_started = true;
  *out = m;
  return 0;
}

static int connect_conn(struct ph_hubmqtt *m, struct conn *c, struct ph_err *err) {
  const struct ph_mqtt_conf *mc = &m->cfg->mqtt;
  struct ph_mqtt_opts o;
  /* the will goes with the connection that says online */
  ph_mqtt_opts_init(&o, mc, c->persistent || !m->will_topic[0] ? NULL : m->will_topic, m->offline);
  ph_mqtt_opts_node(&o, mc, c->node); /* one node per connect: see the top */
  c->trying = mc->uris[c->node];
  o.co.cleansession = !c->persistent;
  o.co.automaticReconnect = 0; /* ours, from the main loop: see the top */
  o.co.maxInflight = HUB_INFLIGHT;
  o.co.onSuccess = cb_connected;
  o.co.onFailure = cb_connect_failed;
  o.co.context = c;
  c->waiting = false;
  int64_t now = ph_mono_ms();
  c->connect_until = now + (mc->connect_timeout_ms + 999) / 1000 * 1000 + CONNECT_GRACE_MS;
  atomic_store(&c->pending, true);
  int rc = MQTTAsync_connect(c->client, &o.co);
  if (rc != MQTTASYNC_SUCCESS) atomic_store(&c->pending, false); /* no answer will come for this one */
  /* Right after a lost connection Paho answers "ignored" while it winds the
   * old one down: the same node again shortly, not the next one (a late
   * answer to it still names the node tried). */
  if (rc == MQTTASYNC_COMMAND_IGNORED) {
    c->waiting = true;
    c->retry_at = now + BUSY_RETRY_MS;
    return 0;
  }
  if (rc != MQTTASYNC_SUCCESS)
    return ph_fail(err, PH_EMQTT, "mqtt: %s connect could not start: code %d", c->name, rc);
  return 0;
}

int ph_hubmqtt_start(struct ph_hubmqtt *m, struct ph_err *err) {
  m->pub.persistent = false;
  m->sub.persistent = true;
  int rc = connect_conn(m, &m->pub, err);
  return rc ? rc : connect_conn(m, &m->sub, err);
}

/* DOWN after a failed connect or a lost connection: the next node at once
 * while this round has nodes left; else, after an exponential back-off with
 * ±50 % jitter (hubs of many parks must not all return to a restarted node
 * in the same second), the first of a new round. */
static void schedule_retry(struct ph_hubmqtt *m, struct conn *c, int64_t now) {
  c->node = (c->node + 1) % m->cfg->mqtt.nuris;
  c->waiting = true;
  if (++c->tried < m->cfg->mqtt.nuris) {
    c->retry_at = now + BUSY_RETRY_MS; /* Paho winds the last connection down first */
    return;
  }
  c->tried = 0;
  int64_t d = c->backoff_ms / 2 + (int64_t)(random() % (c->backoff_ms + 1));
  c->retry_at = now + d;
  c->waiting = true;
  c->backoff_ms = c->backoff_ms * 2 > m->cfg->mqtt.reconnect_max_ms ? m->cfg->mqtt.reconnect_max_ms : c->backoff_ms * 2;
}

static void reconnect_due(struct ph_hubmqtt *m, struct conn *c, int64_t now) {
  if (atomic_exchange(&c->ended, false)) {
    schedule_retry(m, c, now);
  } else if (!c->waiting && c->connect_until && !atomic_load(&c->connected) && now >= c->connect_until &&
             atomic_exchange(&c->pending, false)) { /* else its answer came meanwhile: next call (inv. 3) */
    PH_WARN(MOD, "%s connect to %s: no answer in time", c->name, c->trying);
    schedule_retry(m, c, now);
  }
  if (c->waiting && atomic_load(&c->connected)) c->waiting = false; /* an "ignored" connect went through */
  if (!c->waiting || now < c->retry_at || m->stopping) return;
  struct ph_err err = {0};
  if (connect_conn(m, c, &err)) {
    PH_WARN(MOD, "%s", err.msg);
    schedule_retry(m, c, now);
  }
}

/* After a connect: log the node; another node than last time is a failover. */
static void note_node(struct ph_hubmqtt *m, struct conn *c) {
  c->backoff_ms = m->cfg->mqtt.reconnect_min_ms;
  c->tried = 0;
  c->connect_until = 0;
  if (c->last_uri[0] && strcmp(c->last_uri, c->uri) != 0) {
    atomic_fetch_add(&m->failovers, 1);
    PH_WARN(MOD, "%s failover: connected to %s (was %s)", c->name, c->uri, c->last_uri);
  } else {
    PH_INFO(MOD, "%s connected to %s", c->name, c->uri);
  }
  snprintf(c->last_uri, sizeof c->last_uri, "%s", c->uri);
}

/* A SUBACK (or a refusal) of the sub connection: when the last one of a
 * setup came, the hub may say online (ph_hubmqtt_service). */
static void sub_answered(struct ph_hubmqtt *m) {
  /* an answer of a setup whose connection is gone (Paho fails what was
   * pending at a loss) says nothing about the next one (inv. 4) */
  if (atomic_fetch_sub(&m->subs_pending, 1) == 1 && atomic_load(&m->sub.connected))
    atomic_store(&m->subscribed, true);
}
static void sub_done(void *context, MQTTAsync_successData *d) { (void)d, sub_answered(context); }
static void sub_failed(void *context, MQTTAsync_failureData *d) {
  (void)d;
  atomic_fetch_add(&((struct ph_hubmqtt *)context)->sub_failures, 1);
  sub_answered(context);
}

#define SUBS_PER_PARK 3

static void subscribe_one(struct ph_hubmqtt *m, const char *filter) {
  MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
  ro.onSuccess = sub_done;
  ro.onFailure = sub_failed;
  ro.context = m;
  int rc = MQTTAsync_subscribe(m->sub.client, filter, 1, &ro);
  if (rc != MQTTASYNC_SUCCESS) {
    PH_ERROR(MOD, "subscribe %s: code %d", filter, rc);
    sub_answered(m); /* no answer will come */
  }
}

/* A regional hub (role) serves its parks from what park hubs forward
 * (hub/federation/regional.c): it neither reads the parks' agents nor says
 * anything on their hub topic, where agents would take its heartbeat for
 * their park hub's. */
static bool status_said(const struct ph_hubmqtt *m) { return m->cfg->role == PH_HUB_ROLE_PARK; }
static int subs_per_park(const struct ph_hubmqtt *m) { return status_said(m) ? SUBS_PER_PARK : 1; }

static void subscribe_park(struct ph_hubmqtt *m, const char *park) {
  const char *group = m->cfg->mqtt.shared_group;
  const char *suffix[2] = {"+/+/ev/+", "+/+/status"};
  for (int i = 0; i < 2 && status_said(m); i++) {
    char filter[PH_TOPIC_MAX + 80];
    if (group[0])
      snprintf(filter, sizeof filter, "$share/%s/" PH_TOPIC_PREFIX "%s/%s", group, park, suffix[i]);
    else
      snprintf(filter, sizeof filter, PH_TOPIC_PREFIX "%s/%s", park, suffix[i]);
    subscribe_one(m, filter);
  }
  char filter[PH_TOPIC_MAX];
  snprintf(filter, sizeof filter, PH_TOPIC_PREFIX "%s/cmd/ack", park);
  subscribe_one(m, filter);
}

/* The retained status of every park (the heartbeat: heartbeat()). */
static void say(struct ph_hubmqtt *m, const char *state) {
  if (!status_said(m)) return;
  char ts[PH_TIME_STRLEN], payload[256];
  ph_time_format(ph_now_ms(), ts, sizeof ts);
  int n = snprintf(payload, sizeof payload, "{\"v\":1,\"hub\":\"%s\",\"state\":\"%s\",\"ts\":\"%s\"}",
                   m->cfg->hub_id, state, ts);
  for (int p = 0; p < m->cfg->nparks; p++) {
    struct ph_topic t = {.type = PH_TOPIC_HUB};
    char topic[PH_TOPIC_MAX];
    snprintf(t.park, sizeof t.park, "%s", m->cfg->parks[p].id);
    if (ph_topic_build(&t, topic, sizeof topic) == 0) ph_hubmqtt_publish(m, topic, payload, (size_t)n, true);
  }
}

/* Paho C 1.3.12 never sets TCP_NODELAY (upstream issue 530, an option only
 * in later releases): each small publish that follows one the broker has not
 * acknowledged yet (a PUBACK, an alert after its batch's PUBACK) waits for
 * the broker's delayed ACK, ~40 ms on Linux — measured in
 * bench/alert-latency as most of an alert's latency. Paho hides its socket,
 * so after each connect every connected TCP socket of the process gets
 * TCP_NODELAY: the broker connection, and others (webhooks' libcurl sets it
 * itself, the API's accepted sockets) for which it changes nothing that
 * matters. An fd closed or reused meanwhile only makes a call fail. */
static int nodelay_sockets(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0, one = 1;
  if (!d) return 0;
  for (struct dirent *e; (e = readdir(d));) {
    int fd = atoi(e->d_name);
    struct sockaddr_storage a;
    socklen_t al = sizeof a;
    if (fd <= 2 || getpeername(fd, (struct sockaddr *)&a, &al) != 0) continue;
    if ((a.ss_family == AF_INET || a.ss_family == AF_INET6) &&
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0)
      n++;
  }
  closedir(d);
  return n;
}

/* Every heartbeat_s while online, the pub side up and the sub side up and
 * subscribed (inv. 4). A park whose heartbeat was refused (the in-flight
 * cap, a send refused) stops the round: the next service call goes on from
 * it, so a full pub window delays a heartbeat by a tick, not a period (an
 * agent takes 3 missed periods as the hub away). */
static void heartbeat(struct ph_hubmqtt *m, int64_t now) {
  if (!status_said(m) || !m->online_said || !atomic_load(&m->pub.connected) || !atomic_load(&m->sub.connected) ||
      !atomic_load(&m->subscribed) || now < m->beat_at)
    return;
  char ts[PH_TIME_STRLEN], payload[256];
  ph_time_format(ph_now_ms(), ts, sizeof ts);
  int n = snprintf(payload, sizeof payload,
                   "{\"v\":1,\"hub\":\"%s\",\"state\":\"online\",\"ts\":\"%s\",\"heartbeat_s\":%lld}",
                   m->cfg->hub_id, ts, (long long)m->cfg->mqtt.heartbeat_s);
  for (; m->beat_park < m->cfg->nparks; m->beat_park++) {
    struct ph_topic t = {.type = PH_TOPIC_HUB};
    char topic[PH_TOPIC_MAX];
    snprintf(t.park, sizeof t.park, "%s", m->cfg->parks[m->beat_park].id);
    if (ph_topic_build(&t, topic, sizeof topic) != 0) continue; /* ids were validated with the config */
    if (ph_hubmqtt_publish(m, topic, payload, (size_t)n, false) != 0) return; /* inv. 2; again next call */
    atomic_fetch_add(&m->heartbeats, 1);
  }
  m->beat_park = 0;
  m->beat_at = now + m->cfg->mqtt.heartbeat_s * 1000;
}

void ph_hubmqtt_service(struct ph_hubmqtt *m) {
  int64_t now = ph_mono_ms();
  reconnect_due(m, &m->pub, now);
  reconnect_due(m, &m->sub, now);
  heartbeat(m, now);
  bool sub_up = atomic_exchange(&m->sub.need_setup, false), pub_up = atomic_exchange(&m->pub.need_setup, false);
  if (sub_up) note_node(m, &m->sub);
  if (pub_up) {
    note_node(m, &m->pub);
    m->online_said = false;
  }
  if (!sub_up && !pub_up && !m->online_pending) return;
  if (sub_up || pub_up) {
    int nd = nodelay_sockets();
    PH_DEBUG(MOD, "TCP_NODELAY set on %d socket%s", nd, nd == 1 ? "" : "s");
  }
  if (sub_up) {
    atomic_store(&m->subscribed, false);
    atomic_store(&m->subs_pending, subs_per_park(m) * m->cfg->nparks + m->nlink_subs);
    for (int p = 0; p < m->cfg->nparks; p++) subscribe_park(m, m->cfg->parks[p].id);
    for (int i = 0; i < m->nlink_subs; i++) subscribe_one(m, m->link_subs[i]);
    PH_INFO(MOD, "connected to the broker; subscribing to %d park%s", m->cfg->nparks, m->cfg->nparks == 1 ? "" : "s");
  }
  if (pub_up) m->online_pending = true;
  /* "online" only once the broker acknowledged the subscriptions: an agent
   * (or a test) that publishes when it reads it is heard even before the
   * hub's persistent session existed. */
  if (m->online_pending && atomic_load(&m->subscribed)) {
    m->online_pending = false;
    say(m, "online");
    m->online_said = true;
    m->beat_at = now; /* at once: an agent that just failed over waits for it */
    m->beat_park = 0;
    uint64_t failed = atomic_exchange(&m->sub_failures, 0);
    if (failed) PH_ERROR(MOD, "%llu subscriptions refused by the broker (its ACL?)", (unsigned long long)failed);
    PH_INFO(MOD, "subscribed to %d park%s (acknowledged by the broker) and publishing connection up; hub online",
            m->cfg->nparks, m->cfg->nparks == 1 ? "" : "s");
  }
}

static int inflight_now(struct ph_hubmqtt *m) { return atomic_load(&m->inflight[atomic_load(&m->gen)]); }

static void disconnect_conn(struct conn *c) {
  if (!c->client || !MQTTAsync_isConnected(c->client)) return;
  MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
  d.timeout = 2000;
  MQTTAsync_disconnect(c->client, &d);
  for (int i = 0; i < 300 && MQTTAsync_isConnected(c->client); i++) usleep(10000);
}

void ph_hubmqtt_stop(struct ph_hubmqtt *m) {
  if (!m || !m->pub.client) return;
  m->stopping = true;
  /* Acks posted before the stop go out first (bounded wait). */
  for (int i = 0; i < 200; i++) {
    pthread_mutex_lock(&m->ack_mu);
    size_t waiting = m->box.n + m->nsending;
    pthread_mutex_unlock(&m->ack_mu);
    if (!waiting || !atomic_load(&m->pub.connected)) break;
    usleep(10000);
  }
  if (MQTTAsync_isConnected(m->pub.client)) {
    say(m, "offline");
    for (int i = 0; i < 200 && inflight_now(m) > 0; i++) usleep(10000);
  }
  disconnect_conn(&m->sub);
  disconnect_conn(&m->pub);
  atomic_store(&m->sub.connected, false);
  atomic_store(&m->pub.connected, false);
}

void ph_hubmqtt_free(struct ph_hubmqtt *m) {
  if (!m) return;
  if (m->acker_started) {
    pthread_mutex_lock(&m->ack_mu);
    m->ack_stop = true;
    pthread_cond_signal(&m->ack_cv);
    pthread_mutex_unlock(&m->ack_mu);
    pthread_join(m->acker, NULL);
  }
  if (m->sub.client) MQTTAsync_destroy(&m->sub.client);
  if (m->pub.client) MQTTAsync_destroy(&m->pub.client);
  /* No callbacks after the destroy: what is left was never called back. */
  for (struct ticket *t = m->tickets, *next; t; t = next) {
    next = t->next;
    ph_free(t);
  }
  pthread_mutex_destroy(&m->tk_mu);
  pthread_cond_destroy(&m->tk_cv);
  pthread_mutex_destroy(&m->ack_mu);
  pthread_cond_destroy(&m->ack_cv);
  box_fini(&m->box);
  box_fini(&m->sending);
  ph_free(m->link_cfg);
  ph_free(m->link_subs);
  ph_free(m);
}

int ph_hubmqtt_new_link(const struct ph_mqtt_conf *mc, const char *hub_id, const char *const *subs, int nsubs,
                        ph_hubmqtt_msg_fn on_msg, void *u, struct ph_hubmqtt **out, struct ph_err *err) {
  struct ph_hub_config *cfg = ph_calloc(1, sizeof *cfg);
  char(*copy)[PH_TOPIC_MAX] = ph_calloc(nsubs > 0 ? (size_t)nsubs : 1, sizeof *copy);
  if (!cfg || !copy) {
    ph_free(cfg);
    ph_free(copy);
    return ph_fail(err, PH_ENOMEM, "mqtt: out of memory");
  }
  cfg->mqtt = *mc;
  snprintf(cfg->hub_id, sizeof cfg->hub_id, "%s", hub_id);
  for (int i = 0; i < nsubs; i++) snprintf(copy[i], sizeof copy[i], "%s", subs[i]);
  int rc = ph_hubmqtt_new(cfg, NULL, out, err);
  if (rc) {
    ph_free(cfg);
    ph_free(copy);
    return rc;
  }
  (*out)->link_cfg = cfg;
  (*out)->link_subs = copy;
  (*out)->nlink_subs = nsubs;
  (*out)->on_msg = on_msg;
  (*out)->on_msg_u = u;
  return 0;
}

void ph_hubmqtt_stats(struct ph_hubmqtt *m, struct ph_hubmqtt_stats *st) {
  st->connects = atomic_load(&m->connects);
  st->losses = atomic_load(&m->losses);
  st->published = atomic_load(&m->published);
  st->publish_failures = atomic_load(&m->publish_failures);
  st->at_cap = atomic_load(&m->at_cap);
  st->failovers = atomic_load(&m->failovers);
  st->heartbeats = atomic_load(&m->heartbeats);
  st->connected = atomic_load(&m->sub.connected) && atomic_load(&m->pub.connected);
  pthread_mutex_lock(&m->ack_mu);
  st->acks_published = m->acks_published;
  st->acks_waiting = m->box.n + m->nsending;
  pthread_mutex_unlock(&m->ack_mu);
}
