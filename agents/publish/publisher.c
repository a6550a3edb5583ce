/* publisher.c — the agent's MQTT publishing and ack handling (publisher.h).
 *
 * Connection state machine (agent loop thread; Paho threads only set flags):
 *
 *   DOWN --connect()--> CONNECTING --onSuccess--> UP --connectionLost--> DOWN
 *                          |onFailure                                      ^
 *                          +--> DOWN (retry at now + backoff·jitter) -------+
 *
 *   from → to                   function
 *   DOWN → CONNECTING           start_connect (when the retry time came)
 *   CONNECTING → UP             on_up (after Paho's onConnect success)
 *   CONNECTING/UP → DOWN        go_down (onFailure / connectionLost)
 *
 * Why our own reconnect instead of Paho's automaticReconnect: jitter (a
 * park's gateways must not all return in the same second after a broker
 * restart), a fresh in-flight window on each connection, and the node. The
 * URIs are the nodes of a clustered broker (or one Mosquitto); each connect
 * goes to one node (Paho 1.3.12 given several may report the wrong one as
 * reached), for mqtt.connect_timeout_ms; a failed node is followed at once
 * by the next, a failed round by the back-off. A connection to another
 * node than the previous one is a failover: counted (stats, the status's
 * counters) and logged with both URIs.
 *
 * The ack and hub subscriptions are QoS 0: on RabbitMQ a clean session's
 * QoS 1 subscription is a durable classic queue on the node it was made
 * on, and while that node is dead, subscribing again on another node is
 * refused and the connection closed (tests/cluster showed agents locked
 * out until the node returned). A QoS 0 queue is transient and dies with
 * its node. An ack lost at QoS 0 costs a resend after resend_after (the
 * hub acks duplicates again), never a batch: acks are cumulative. Each
 * SUBSCRIBE's answer is checked: a refusal (Paho's failure callback, or a
 * SUBACK granting 0x80) leaves the agent deaf to acks or to the hub, so the
 * connection is dropped and the next node tried, logged and counted
 * (sub_refusals).
 *
 * Is the hub up? The hub's non-retained heartbeat (every heartbeat_s, with
 * state online) says so; the retained status and the hub's will are only
 * believed until a heartbeat was heard on this connection, because a
 * cluster keeps retained messages per node and loses wills with their node.
 * Once a heartbeat was heard, 3 of its periods without a sign of life make
 * the hub "away": no resend then (inv. 3 of publisher.h), since a missing
 * ack means nothing while nobody listens. A sign of life is a heartbeat, an
 * ack (any epoch: someone acks) or any non-retained message on the hub
 * topic; an ack
 * also brings an away hub back. What was heard is forgotten at each new
 * connection (beat_every_ms back to 0): a hub that stopped heartbeating
 * (restarted at an older version, or behind another node) is judged by
 * what this connection delivers, never away for good from an old period.
 */
#include "publish/publisher.h"

#include <MQTTAsync.h>
#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "parkhub/alloc.h"
#include "parkhub/batch.h"
#include "parkhub/jsonfile.h"
#include "parkhub/log.h"
#include "publish/mqttlib.h"
#include "parkhub/mqttopts.h"
#include "parkhub/timefmt.h"
#include "parkhub/topic.h"

#define STATUS_MAX 4096
#define BUSY_RETRY_MS 200     /* Paho still busy with the last connection */
#define CONNECT_GRACE_MS 10000 /* beyond Paho's own connect timeout: its answer is awaited that long */
#define MOD "mqtt"

enum conn { DOWN, CONNECTING, UP };

/* What Paho's threads report; guarded by mu. */
struct shared {
  unsigned gen;        /* connection generation the callbacks belong to */
  bool connected_ev;   /* onConnect success of generation gen */
  bool down_ev;        /* connect failure or connection lost */
  int done;            /* publishes of generation gen that finished */
  int failed;          /* … of which failed */
  bool ack_ev;
  int64_t ack_epoch, ack_upto;
  int bad_acks;
  int hub_state;       /* -1 unknown, 0 offline, 1 online */
  bool beat_ev;        /* a heartbeat arrived */
  bool life_ev;        /* an ack or any hub message arrived: the hub is heard */
  bool sub_refused;    /* a SUBSCRIBE of generation gen was refused */
  int64_t beat_s;      /* … announcing this period */
  char uri[256];       /* node the last onConnect success reached */
};

struct ph_publisher {
  struct ph_publisher_conf conf;
  struct ph_outbox *ob;
  const struct ph_mqttlib *mq; /* plain or TLS Paho, per the config (mqttlib.h) */
  MQTTAsync client;
  int efd;
  pthread_mutex_t mu;
  struct shared sh;

  enum conn state;
  unsigned gen;
  int64_t retry_at, backoff_ms;
  int inflight;
  int64_t cursor;          /* next seq to publish */
  int64_t progress_mono;   /* last ack advance or (re)start of publishing */
  int64_t status_at;
  int64_t beat_every_ms;   /* the hub's heartbeat period; 0 until one was heard on this connection */
  int64_t beat_mono;       /* last sign of life of the hub, or the last connect */
  char last_uri[256];      /* node of the previous connection */
  int node, tried;         /* node to connect to (index in mqtt.uris); nodes failed in this round */
  const char *trying;      /* URI of the connect under way (for the callbacks' log lines) */
  int64_t connect_until;   /* CONNECTING: no answer by then is a failed node */
  char t_status[PH_TOPIC_MAX], t_ack[PH_TOPIC_MAX], t_hub[PH_TOPIC_MAX], t_ev[PH_KIND_COUNT][PH_TOPIC_MAX];
  char *payload; /* composed batch, reused */
  size_t payload_cap;
  char will[256];
  struct ph_publisher_stats st;
};

static void wake(struct ph_publisher *p) {
  uint64_t one = 1;
  ssize_t w = write(p->efd, &one, sizeof one);
  (void)w;
}

/* ---- Paho callbacks: record and wake, nothing else ---- */

/* A publish's context is the publisher's address with the connection
 * generation in its low 4 bits (the object is malloc'ed, so 16-aligned): a
 * callback from an older connection must not free a slot of the new window. */
#define GEN_MASK ((uintptr_t)15)
static void *pub_context(struct ph_publisher *p) { return (void *)((uintptr_t)p | (p->gen & GEN_MASK)); }
static struct ph_publisher *ctx_self(void *context) { return (void *)((uintptr_t)context & ~GEN_MASK); }
static unsigned ctx_gen(void *context) { return (unsigned)((uintptr_t)context & GEN_MASK); }

static void cb_connected(void *context, MQTTAsync_successData *d) {
  (void)d;
  struct ph_publisher *p = context;
  pthread_mutex_lock(&p->mu);
  snprintf(p->sh.uri, sizeof p->sh.uri, "%s", p->trying);
  p->sh.connected_ev = true;
  pthread_mutex_unlock(&p->mu);
  wake(p);
}

static void cb_connect_failed(void *context, MQTTAsync_failureData *d) {
  struct ph_publisher *p = context;
  PH_WARN(MOD, "connect failed to %s: %s (code %d)", p->trying, d && d->message ? d->message : "no reason given",
          d ? d->code : 0);
  pthread_mutex_lock(&p->mu);
  p->sh.down_ev = true;
  pthread_mutex_unlock(&p->mu);
  wake(p);
}

static void cb_lost(void *context, char *cause) {
  struct ph_publisher *p = context;
  PH_WARN(MOD, "connection lost: %s", cause ? cause : "no reason given");
  pthread_mutex_lock(&p->mu);
  p->sh.down_ev = true;
  pthread_mutex_unlock(&p->mu);
  wake(p);
}

static void pub_done(void *context, bool ok) {
  struct ph_publisher *p = ctx_self(context);
  pthread_mutex_lock(&p->mu);
  if (ctx_gen(context) == (p->sh.gen & GEN_MASK)) {
    p->sh.done++;
    if (!ok) p->sh.failed++;
  }
  pthread_mutex_unlock(&p->mu);
  wake(p);
}
static void cb_pub_ok(void *context, MQTTAsync_successData *d) { (void)d, pub_done(context, true); }
static void cb_pub_fail(void *context, MQTTAsync_failureData *d) { (void)d, pub_done(context, false); }

static void parse_ack(struct ph_publisher *p, const char *s, int len) {
  cJSON *j = cJSON_ParseWithLength(s, (size_t)len);
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "epoch"), *u = cJSON_GetObjectItemCaseSensitive(j, "upto");
  pthread_mutex_lock(&p->mu);
  int64_t epoch = 0, upto = 0;
  if (ph_json_int(e, 0, PH_JSON_INT_MAX, &epoch) && ph_json_int(u, 0, PH_JSON_INT_MAX, &upto)) {
    if (!p->sh.ack_ev || upto > p->sh.ack_upto || epoch != p->sh.ack_epoch) {
      p->sh.ack_epoch = epoch;
      p->sh.ack_upto = upto;
    }
    p->sh.ack_ev = true;
    p->sh.life_ev = true;
    p->sh.hub_state = 1; /* someone acks: the hub is there, even when judged away (see the top) */
  } else {
    p->sh.bad_acks++;
  }
  pthread_mutex_unlock(&p->mu);
  cJSON_Delete(j);
}

static void parse_hub(struct ph_publisher *p, const char *s, int len, bool retained) {
  cJSON *j = len ? cJSON_ParseWithLength(s, (size_t)len) : NULL;
  const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "state");
  const cJSON *hb = cJSON_GetObjectItemCaseSensitive(j, "heartbeat_s");
  int64_t every = 0;
  pthread_mutex_lock(&p->mu);
  p->sh.hub_state = cJSON_IsString(st) && strcmp(st->valuestring, "online") == 0;
  if (!retained) p->sh.life_ev = true; /* a retained one is the broker's memory, not the hub now */
  if (p->sh.hub_state == 1 && ph_json_int(hb, 1, 3600, &every)) { /* schemas/hub-status.schema.json */
    p->sh.beat_ev = true;
    p->sh.beat_s = every;
  }
  pthread_mutex_unlock(&p->mu);
  cJSON_Delete(j);
}

static int cb_message(void *context, char *topic, int tlen, MQTTAsync_message *m) {
  struct ph_publisher *p = context;
  size_t n = tlen ? (size_t)tlen : strlen(topic);
  if (n == strlen(p->t_ack) && memcmp(topic, p->t_ack, n) == 0)
    parse_ack(p, m->payload, m->payloadlen);
  else if (n == strlen(p->t_hub) && memcmp(topic, p->t_hub, n) == 0)
    parse_hub(p, m->payload, m->payloadlen, m->retained);
  p->mq->free_message(&m);
  p->mq->free(topic);
  wake(p);
  return 1;
}

/* ---- the loop side ---- */

/* A connect failed or the connection was lost: the next node at once while
 * this round has nodes left, else the first of a new round after the
 * back-off. */
static void go_down(struct ph_publisher *p, int64_t now) {
  if (p->state == UP) p->st.connection_losses++;
  p->state = DOWN;
  p->st.connected = false;
  p->node = (p->node + 1) % p->conf.mqtt->nuris;
  if (++p->tried < p->conf.mqtt->nuris) {
    p->retry_at = now + BUSY_RETRY_MS; /* Paho winds the last connection down first */
    return;
  }
  p->tried = 0;
  /* Exponential back-off with ±50 % jitter. */
  int64_t d = p->backoff_ms / 2 + (int64_t)(random() % (p->backoff_ms + 1));
  p->retry_at = now + d;
  p->backoff_ms = p->backoff_ms * 2 > p->conf.mqtt->reconnect_max_ms ? p->conf.mqtt->reconnect_max_ms : p->backoff_ms * 2;
}

static void start_connect(struct ph_publisher *p, int64_t now) {
  const struct ph_mqtt_conf *mc = p->conf.mqtt;
  struct ph_mqtt_opts o;
  ph_mqtt_opts_init(&o, mc, p->t_status, p->will);
  ph_mqtt_opts_node(&o, mc, p->node);
  p->trying = mc->uris[p->node];
  o.co.cleansession = 1; /* the outbox, not the broker session, is our durable state */
  o.co.automaticReconnect = 0;
  o.co.maxInflight = (int)mc->inflight;
  o.co.context = p;
  o.co.onSuccess = cb_connected;
  o.co.onFailure = cb_connect_failed;
  p->state = CONNECTING;
  p->connect_until = now + (mc->connect_timeout_ms + 999) / 1000 * 1000 + CONNECT_GRACE_MS;
  int rc = p->mq->connect(p->client, &o.co);
  /* Right after a lost connection Paho answers "ignored" while it winds the
   * old one down: the same node again shortly, not the next one (a late
   * answer to it still names the node tried). */
  if (rc == MQTTASYNC_COMMAND_IGNORED) {
    PH_DEBUG(MOD, "connect to %s: the client is still busy; again shortly", p->trying);
    p->state = DOWN;
    p->retry_at = now + BUSY_RETRY_MS;
    return;
  }
  if (rc != MQTTASYNC_SUCCESS) {
    PH_WARN(MOD, "connect could not start: code %d", rc);
    go_down(p, now);
  }
}

/* A SUBSCRIBE's answer; the context carries the generation, as a publish's. */
static void sub_refused(void *context, int code) {
  struct ph_publisher *p = ctx_self(context);
  pthread_mutex_lock(&p->mu);
  if (ctx_gen(context) == (p->sh.gen & GEN_MASK)) p->sh.sub_refused = true;
  pthread_mutex_unlock(&p->mu);
  PH_DEBUG(MOD, "subscription refused: code %d", code);
  wake(p);
}
static void cb_sub_ok(void *context, MQTTAsync_successData *d) {
  if (d && d->alt.qos == 0x80) sub_refused(context, 0x80); /* a SUBACK's "failure" */
}
static void cb_sub_fail(void *context, MQTTAsync_failureData *d) { sub_refused(context, d ? d->code : 0); }

static bool subscribe(struct ph_publisher *p, const char *topic) {
  MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
  ro.onSuccess = cb_sub_ok;
  ro.onFailure = cb_sub_fail;
  ro.context = pub_context(p);
  int rc = p->mq->subscribe(p->client, topic, 0, &ro); /* QoS 0: see the top */
  if (rc != MQTTASYNC_SUCCESS) PH_WARN(MOD, "subscribe %s: code %d", topic, rc);
  return rc == MQTTASYNC_SUCCESS;
}

static void publish_raw(struct ph_publisher *p, const char *topic, const void *data, size_t len, bool retained,
                        bool counted) {
  MQTTAsync_message m = MQTTAsync_message_initializer;
  MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
  m.payload = (void *)data;
  m.payloadlen = (int)len;
  m.qos = 1;
  m.retained = retained;
  if (counted) {
    ro.onSuccess = cb_pub_ok;
    ro.onFailure = cb_pub_fail;
    ro.context = pub_context(p);
  }
  int rc = p->mq->send(p->client, topic, &m, &ro);
  if (rc != MQTTASYNC_SUCCESS) {
    p->st.publish_failures++;
    PH_WARN(MOD, "publish to %s refused by the client: code %d", topic, rc);
    return;
  }
  if (counted) p->inflight++;
}

void ph_publisher_status_now(struct ph_publisher *p) {
  if (p->state != UP) return;
  char buf[STATUS_MAX];
  size_t n = p->conf.status(p->conf.user, buf, sizeof buf);
  if (n) publish_raw(p, p->t_status, buf, n, true, false);
}

/* After a connect: log the node; another node than last time is a failover. */
static void note_node(struct ph_publisher *p, const char *uri) {
  if (p->last_uri[0] && strcmp(p->last_uri, uri) != 0) {
    p->st.failovers++;
    PH_WARN(MOD, "failover: connected to %s (was %s)", uri, p->last_uri);
  } else {
    PH_INFO(MOD, "connected to %s", uri);
  }
  snprintf(p->last_uri, sizeof p->last_uri, "%s", uri);
}

/* A subscription refused (or not sent): without acks or the hub's messages
 * the connection is no use; drop it and try the next node. */
static void drop_refused(struct ph_publisher *p, int64_t now, const char *why) {
  p->st.sub_refusals++;
  PH_WARN(MOD, "subscription on %s %s: dropping the connection, next node", p->last_uri, why);
  MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
  d.timeout = 0; /* nothing of ours waits on this connection: the outbox resends */
  p->mq->disconnect(p->client, &d);
  pthread_mutex_lock(&p->mu);
  p->sh.gen = ++p->gen; /* late callbacks of this connection no longer count */
  pthread_mutex_unlock(&p->mu);
  go_down(p, now);
}

static void on_up(struct ph_publisher *p, int64_t now, const char *uri) {
  note_node(p, uri);
  p->tried = 0;
  /* The hub's status is retained state on the broker; a restarted broker may
   * have lost it. Trust only what this connection delivers. */
  pthread_mutex_lock(&p->mu);
  p->sh.hub_state = -1;
  pthread_mutex_unlock(&p->mu);
  p->st.hub_online = false;
  p->state = UP;
  p->st.connected = true;
  p->st.connects++;
  p->backoff_ms = p->conf.mqtt->reconnect_min_ms;
  p->inflight = 0;
  p->cursor = ph_outbox_oldest(p->ob); /* inv. 3 */
  p->progress_mono = now;
  p->beat_mono = now;
  p->beat_every_ms = 0; /* judged by what this connection delivers (see the top) */
  PH_INFO(MOD, "connected; %lld batches to publish from seq %lld", (long long)ph_outbox_depth(p->ob),
          (long long)p->cursor);
  if (!subscribe(p, p->t_ack) || !subscribe(p, p->t_hub)) {
    drop_refused(p, now, "could not be sent");
    return;
  }
  ph_publisher_status_now(p);
}

static void apply_ack(struct ph_publisher *p, int64_t epoch, int64_t upto, int64_t now) {
  if (epoch != ph_outbox_epoch(p->ob)) {
    p->st.bad_acks++;
    PH_DEBUG(MOD, "ack for epoch %lld ignored (ours is %lld)", (long long)epoch, (long long)ph_outbox_epoch(p->ob));
    return;
  }
  int64_t removed = 0;
  struct ph_err err = {0};
  if (ph_outbox_ack(p->ob, upto, &removed, &err)) {
    PH_ERROR(MOD, "%s", err.msg);
    return;
  }
  if (removed) {
    p->st.acked += (uint64_t)removed;
    p->progress_mono = now;
  }
  if (p->cursor < ph_outbox_oldest(p->ob)) p->cursor = ph_outbox_oldest(p->ob);
}

static void take_events(struct ph_publisher *p, int64_t now) {
  uint64_t junk;
  ssize_t r = read(p->efd, &junk, sizeof junk);
  (void)r;
  pthread_mutex_lock(&p->mu);
  struct shared s = p->sh;
  p->sh.connected_ev = p->sh.down_ev = p->sh.ack_ev = p->sh.beat_ev = p->sh.life_ev = p->sh.sub_refused = false;
  p->sh.done = p->sh.failed = p->sh.bad_acks = 0;
  if (s.down_ev) p->sh.gen = ++p->gen; /* late publish callbacks of the old connection no longer count */
  pthread_mutex_unlock(&p->mu);

  p->st.bad_acks += (uint64_t)s.bad_acks;
  if (s.hub_state >= 0) p->st.hub_online = s.hub_state == 1;
  if (s.beat_ev) p->beat_every_ms = s.beat_s * 1000;
  if (s.life_ev) p->beat_mono = now;
  if (!s.down_ev) {
    p->inflight -= s.done;
    if (p->inflight < 0) p->inflight = 0;
    p->st.publish_failures += (uint64_t)s.failed;
    if (s.failed) p->cursor = ph_outbox_oldest(p->ob); /* a refused publish: go back */
  }
  if (s.down_ev && p->state != DOWN) go_down(p, now);
  /* also in DOWN: a connect given up on (no answer in time) may still succeed */
  if (s.connected_ev && !s.down_ev && p->state != UP) on_up(p, now, s.uri);
  if (s.ack_ev) apply_ack(p, s.ack_epoch, s.ack_upto, now);
  if (s.sub_refused && !s.down_ev && p->state == UP) drop_refused(p, now, "refused by the broker");
}

static void publish_window(struct ph_publisher *p) {
  struct ph_outbox_item it;
  struct ph_err err = {0};
  while (p->state == UP && p->inflight < p->conf.mqtt->inflight && p->cursor < ph_outbox_next_seq(p->ob)) {
    int rc = ph_outbox_next(p->ob, p->cursor, &it, &err);
    if (rc == PH_ENOTFOUND) break;
    if (rc) {
      PH_ERROR(MOD, "%s", err.msg);
      break;
    }
    size_t len;
    rc = ph_batch_wrap(p->payload, p->payload_cap, p->conf.agent, ph_outbox_epoch(p->ob), it.seq,
                       ph_outbox_oldest(p->ob), ph_now_ms(), it.body, it.len, &len);
    if (rc) {
      PH_ERROR(MOD, "batch %lld cannot be framed (%s): skipped", (long long)it.seq, ph_strerror(rc));
      p->cursor = it.seq + 1;
      continue;
    }
    publish_raw(p, p->t_ev[it.kind], p->payload, len, false, true);
    p->st.published++;
    p->cursor = it.seq + 1;
  }
}

/* The hub's heartbeat stopped (3 periods): the hub is away until the next
 * status or heartbeat says otherwise. */
static void check_heartbeat(struct ph_publisher *p, int64_t now) {
  if (!p->st.hub_online || !p->beat_every_ms || now - p->beat_mono <= 3 * p->beat_every_ms) return;
  PH_WARN(MOD, "no heartbeat from the hub for %lld s: taking it as away (no resend until it is heard)",
          (long long)(now - p->beat_mono) / 1000);
  p->st.hub_online = false;
  p->st.heartbeat_timeouts++;
  pthread_mutex_lock(&p->mu);
  p->sh.hub_state = -1;
  pthread_mutex_unlock(&p->mu);
}

static void maybe_resend(struct ph_publisher *p, int64_t now) {
  int64_t oldest = ph_outbox_oldest(p->ob);
  if (p->state != UP || !p->st.hub_online || p->cursor <= oldest) return;
  if (now - p->progress_mono < p->conf.resend_after_ms) return;
  PH_WARN(MOD, "the hub has acked nothing for %lld s: publishing again from seq %lld (%lld batches)",
          (long long)(now - p->progress_mono) / 1000, (long long)oldest, (long long)(p->cursor - oldest));
  p->cursor = oldest;
  p->progress_mono = now;
  p->st.resent_rounds++;
}

void ph_publisher_service(struct ph_publisher *p, int64_t now) {
  take_events(p, now);
  check_heartbeat(p, now);
  if (p->state == CONNECTING && now >= p->connect_until) {
    PH_WARN(MOD, "connect to %s: no answer in time", p->trying);
    go_down(p, now);
  }
  if (p->state == DOWN && now >= p->retry_at) start_connect(p, now);
  maybe_resend(p, now);
  publish_window(p);
}

int64_t ph_publisher_deadline(const struct ph_publisher *p) {
  if (p->state == DOWN) return p->retry_at;
  if (p->state == CONNECTING) return p->connect_until;
  /* Resending waits for an online hub; its status arriving wakes us through the eventfd. */
  int64_t at = INT64_MAX;
  if (p->state == UP && p->st.hub_online && p->cursor > ph_outbox_oldest(p->ob))
    at = p->progress_mono + p->conf.resend_after_ms;
  if (p->st.hub_online && p->beat_every_ms && p->beat_mono + 3 * p->beat_every_ms + 1 < at)
    at = p->beat_mono + 3 * p->beat_every_ms + 1;
  return at;
}

int ph_publisher_fd(const struct ph_publisher *p) { return p->efd; }
const struct ph_publisher_stats *ph_publisher_stats(const struct ph_publisher *p) { return &p->st; }

static int build_topics(struct ph_publisher *p) {
  const struct ph_publisher_conf *c = &p->conf;
  int rc = ph_topic_agent(p->t_status, sizeof p->t_status, PH_TOPIC_STATUS, c->park, c->ent, c->agent, 0);
  if (!rc) rc = ph_topic_agent(p->t_ack, sizeof p->t_ack, PH_TOPIC_ACK, c->park, c->ent, c->agent, 0);
  for (int k = 0; !rc && k < PH_KIND_COUNT; k++)
    rc = ph_topic_agent(p->t_ev[k], sizeof p->t_ev[k], PH_TOPIC_EVENT, c->park, c->ent, c->agent, (enum ph_kind)k);
  struct ph_topic hub = {.type = PH_TOPIC_HUB};
  snprintf(hub.park, sizeof hub.park, "%s", c->park);
  if (!rc) rc = ph_topic_build(&hub, p->t_hub, sizeof p->t_hub);
  snprintf(p->will, sizeof p->will, "{\"v\":1,\"agent\":\"%s\",\"state\":\"offline\"}", c->agent);
  return rc;
}

int ph_publisher_new(const struct ph_publisher_conf *conf, struct ph_outbox *ob, struct ph_publisher **out,
                     struct ph_err *err) {
  struct ph_publisher *p = ph_calloc(1, sizeof *p);
  if (!p) return ph_fail(err, PH_ENOMEM, "publisher: out of memory");
  p->conf = *conf;
  p->ob = ob;
  p->efd = -1;
  pthread_mutex_init(&p->mu, NULL);
  p->sh.hub_state = -1;
  p->backoff_ms = conf->mqtt->reconnect_min_ms;
  p->payload_cap = PH_BATCH_MAX_BYTES + 1024;
  int rc;
  if (build_topics(p)) {
    rc = ph_fail(err, PH_EINVAL, "publisher: bad ids for topics");
    goto fail;
  }
  /* Without TLS, the plain Paho build: OpenSSL is never mapped (mqttlib.h). */
  if ((rc = ph_mqttlib_open(conf->mqtt->tls_on, &p->mq, err))) goto fail;
  PH_INFO(MOD, "client library %s (%s)", p->mq->soname, p->mq->tls ? "TLS" : "no TLS");
  if (!(p->payload = ph_malloc(p->payload_cap)) || (p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
    rc = ph_fail(err, PH_ENOMEM, "publisher: out of memory or eventfd failed");
    goto fail;
  }
  MQTTAsync_createOptions cro = MQTTAsync_createOptions_initializer;
  cro.sendWhileDisconnected = 0;
  /* Paho's buffer also caps sends while connected (DESIGN.md): keep it above our window. */
  cro.maxBufferedMessages = (int)conf->mqtt->inflight + 16;
  rc = p->mq->create(&p->client, conf->mqtt->uris[0], conf->mqtt->client_id, MQTTCLIENT_PERSISTENCE_NONE, NULL,
                     &cro);
  if (rc != MQTTASYNC_SUCCESS) {
    rc = ph_fail(err, PH_EMQTT, "publisher: cannot create the MQTT client for %s: code %d", conf->mqtt->uris[0], rc);
    goto fail;
  }
  p->mq->set_callbacks(p->client, p, cb_lost, cb_message, NULL);
  p->state = DOWN;
  p->retry_at = 0; /* connect at the first service call */
  *out = p;
  return 0;
fail:
  ph_publisher_free(p);
  return rc;
}

void ph_publisher_free(struct ph_publisher *p) {
  if (!p) return;
  if (p->client) {
    if (p->state == UP) {
      /* A clean stop says offline itself: the will only fires on a lost connection. */
      MQTTAsync_message m = MQTTAsync_message_initializer;
      m.payload = p->will;
      m.payloadlen = (int)strlen(p->will);
      m.qos = 1;
      m.retained = 1;
      MQTTAsync_token tok;
      MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
      if (p->mq->send(p->client, p->t_status, &m, &ro) == MQTTASYNC_SUCCESS) {
        tok = ro.token;
        p->mq->wait(p->client, tok, 2000);
      }
      MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
      d.timeout = 1000;
      p->mq->disconnect(p->client, &d);
      for (int i = 0; i < 100 && p->mq->is_connected(p->client); i++) usleep(10000);
    }
    p->mq->destroy(&p->client);
  }
  if (p->efd >= 0) close(p->efd);
  pthread_mutex_destroy(&p->mu);
  ph_free(p->payload);
  ph_free(p);
}
