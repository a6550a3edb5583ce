/* hubmqtt.c — the hub's MQTT side (hubmqtt.h).
 *
 * Threads: Paho's (message arrived → ph_ingest_message, which may block on
 * the queue: that is the back-pressure), the writer (publishes acks), the
 * main loop (service: subscriptions and status after a connect).
 * Callbacks only record what happened; nothing changes Paho's options
 * inside them (upstream issue 1341, DESIGN.md).
 */
#include "parkhub/hubmqtt.h"

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
#include "parkhub/log.h"
#include "parkhub/timefmt.h"
#include "parkhub/topic.h"

#define MOD "mqtt"
#define HUB_INFLIGHT 512
#define ACK_SLOTS 4096 /* distinct agent topics waiting for an ack at most */

/* The ack mailbox: the writer posts, the ack thread publishes. Keyed by
 * topic (one agent); a newer ack overwrites an unsent older one, which is
 * what cumulative acks allow. */
struct ack_slot {
  char topic[PH_TOPIC_MAX];
  int64_t epoch, upto;
  bool waiting;
};

struct ph_hubmqtt {
  const struct ph_hub_config *cfg;
  struct ph_ingest *in;
  MQTTAsync client;
  atomic_int inflight;
  atomic_bool connected, need_setup;
  atomic_uint_fast64_t connects, losses, published, publish_failures, at_cap;
  char will_topic[PH_TOPIC_MAX];
  char offline[128];
  pthread_t acker;
  bool acker_started;
  pthread_mutex_t ack_mu;
  pthread_cond_t ack_cv;
  bool ack_stop;
  struct ack_slot *acks; /* ACK_SLOTS */
  size_t nacks, nwaiting;
  uint64_t acks_published;
};

static void cb_connected(void *context, char *cause) {
  (void)cause;
  struct ph_hubmqtt *m = context;
  atomic_store(&m->connected, true);
  atomic_store(&m->need_setup, true);
  atomic_fetch_add(&m->connects, 1);
}

static void cb_lost(void *context, char *cause) {
  struct ph_hubmqtt *m = context;
  atomic_store(&m->connected, false);
  atomic_fetch_add(&m->losses, 1);
  PH_WARN(MOD, "connection lost: %s; reconnecting", cause ? cause : "no reason given");
}

static void cb_connect_failed(void *context, MQTTAsync_failureData *d) {
  (void)context;
  PH_WARN(MOD, "connect failed: %s (code %d); retrying", d && d->message ? d->message : "no reason given",
          d ? d->code : 0);
}

static int cb_message(void *context, char *topic, int tlen, MQTTAsync_message *msg) {
  struct ph_hubmqtt *m = context;
  size_t n = tlen ? (size_t)tlen : strlen(topic);
  /* PH_ECLOSED (only after the disconnect at shutdown) drops the message
   * here; the hub never acked it, so its agent publishes it again. */
  ph_ingest_message(m->in, topic, n, msg->payload, (size_t)msg->payloadlen);
  MQTTAsync_freeMessage(&msg);
  MQTTAsync_free(topic);
  return 1;
}

static void pub_done(void *context, MQTTAsync_successData *d) {
  (void)d;
  struct ph_hubmqtt *m = context;
  atomic_fetch_sub(&m->inflight, 1);
}
static void pub_failed(void *context, MQTTAsync_failureData *d) {
  (void)d;
  struct ph_hubmqtt *m = context;
  atomic_fetch_sub(&m->inflight, 1);
  atomic_fetch_add(&m->publish_failures, 1);
}

int ph_hubmqtt_post_ack(struct ph_hubmqtt *m, const char *topic, int64_t epoch, int64_t upto) {
  pthread_mutex_lock(&m->ack_mu);
  struct ack_slot *s = NULL;
  for (size_t i = 0; i < m->nacks && !s; i++)
    if (strcmp(m->acks[i].topic, topic) == 0) s = &m->acks[i];
  if (!s && m->nacks < ACK_SLOTS) {
    s = &m->acks[m->nacks++];
    snprintf(s->topic, sizeof s->topic, "%s", topic);
  }
  if (s) {
    s->epoch = epoch;
    s->upto = upto;
    if (!s->waiting) m->nwaiting++;
    s->waiting = true;
    pthread_cond_signal(&m->ack_cv);
  }
  pthread_mutex_unlock(&m->ack_mu);
  return s ? 0 : PH_ENOMEM;
}

/* The ack thread: publishes what the mailbox holds; may wait on Paho's lock
 * (that is why it is not the writer). */
static void *acker(void *arg) {
  struct ph_hubmqtt *m = arg;
  pthread_mutex_lock(&m->ack_mu);
  while (!m->ack_stop) {
    if (!m->nwaiting || !atomic_load(&m->connected)) {
      struct timespec until;
      clock_gettime(CLOCK_REALTIME, &until);
      until.tv_nsec += 100000000L;
      if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
      pthread_cond_timedwait(&m->ack_cv, &m->ack_mu, &until);
      continue;
    }
    for (size_t i = 0; i < m->nacks && !m->ack_stop; i++) {
      struct ack_slot *s = &m->acks[i];
      if (!s->waiting) continue;
      char topic[PH_TOPIC_MAX], payload[96];
      strcpy(topic, s->topic);
      int n = snprintf(payload, sizeof payload, "{\"epoch\":%lld,\"upto\":%lld}", (long long)s->epoch,
                       (long long)s->upto);
      s->waiting = false;
      m->nwaiting--;
      pthread_mutex_unlock(&m->ack_mu);
      int rc = ph_hubmqtt_publish(m, topic, payload, (size_t)n, false);
      pthread_mutex_lock(&m->ack_mu);
      if (rc == 0) {
        m->acks_published++;
      } else if (!s->waiting) { /* not sent and nothing newer came: keep it */
        s->waiting = true;
        m->nwaiting++;
        pthread_mutex_unlock(&m->ack_mu);
        usleep(10000); /* at the in-flight cap or disconnected: let acks complete */
        pthread_mutex_lock(&m->ack_mu);
      }
    }
  }
  pthread_mutex_unlock(&m->ack_mu);
  return NULL;
}

int ph_hubmqtt_new(const struct ph_hub_config *cfg, struct ph_ingest *in, struct ph_hubmqtt **out,
                   struct ph_err *err) {
  struct ph_hubmqtt *m = ph_calloc(1, sizeof *m);
  if (!m || !(m->acks = ph_calloc(ACK_SLOTS, sizeof *m->acks))) {
    ph_free(m);
    return ph_fail(err, PH_ENOMEM, "mqtt: out of memory");
  }
  pthread_mutex_init(&m->ack_mu, NULL);
  pthread_cond_init(&m->ack_cv, NULL);
  m->cfg = cfg;
  m->in = in;
  struct ph_topic t = {.type = PH_TOPIC_HUB};
  snprintf(t.park, sizeof t.park, "%s", cfg->parks[0].id);
  ph_topic_build(&t, m->will_topic, sizeof m->will_topic);
  snprintf(m->offline, sizeof m->offline, "{\"v\":1,\"hub\":\"%s\",\"state\":\"offline\"}", cfg->hub_id);
  MQTTAsync_createOptions cro = MQTTAsync_createOptions_initializer;
  cro.maxBufferedMessages = HUB_INFLIGHT + 64; /* also caps sends while connected (DESIGN.md) */
  int rc = MQTTAsync_createWithOptions(&m->client, cfg->mqtt.uris[0], cfg->mqtt.client_id,
                                       MQTTCLIENT_PERSISTENCE_NONE, NULL, &cro);
  if (rc != MQTTASYNC_SUCCESS) {
    m->client = NULL;
    ph_hubmqtt_free(m);
    return ph_fail(err, PH_EMQTT, "mqtt: cannot create the client for %s: code %d", cfg->mqtt.uris[0], rc);
  }
  MQTTAsync_setCallbacks(m->client, m, cb_lost, cb_message, NULL);
  MQTTAsync_setConnected(m->client, m, cb_connected);
  if (pthread_create(&m->acker, NULL, acker, m) != 0) {
    ph_hubmqtt_free(m);
    return ph_fail(err, PH_ENOMEM, "mqtt: cannot start the ack thread");
  }
  m->acker_started = true;
  *out = m;
  return 0;
}

int ph_hubmqtt_start(struct ph_hubmqtt *m, struct ph_err *err) {
  const struct ph_mqtt_conf *mc = &m->cfg->mqtt;
  MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
  MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
  MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
  char *uris[PH_MQTT_MAX_URIS];
  for (int i = 0; i < mc->nuris; i++) uris[i] = (char *)mc->uris[i];
  co.serverURIs = uris;
  co.serverURIcount = mc->nuris;
  co.keepAliveInterval = (int)mc->keepalive_s;
  co.cleansession = 0; /* the broker keeps our subscriptions and queues QoS 1 while we are away */
  co.connectTimeout = 10;
  co.automaticReconnect = 1;
  co.minRetryInterval = (int)(mc->reconnect_min_ms + 999) / 1000;
  co.maxRetryInterval = (int)(mc->reconnect_max_ms + 999) / 1000;
  co.maxInflight = HUB_INFLIGHT;
  if (mc->username[0]) co.username = mc->username;
  if (mc->password[0]) co.password = mc->password;
  will.topicName = m->will_topic;
  will.message = m->offline;
  will.retained = 1;
  will.qos = 1;
  co.will = &will;
  if (mc->tls_on) {
    ssl.trustStore = mc->tls.ca[0] ? mc->tls.ca : NULL;
    ssl.keyStore = mc->tls.cert[0] ? mc->tls.cert : NULL;
    ssl.privateKey = mc->tls.key[0] ? mc->tls.key : NULL;
    ssl.enableServerCertAuth = mc->tls.verify;
    ssl.verify = mc->tls.verify;
    co.ssl = &ssl;
  }
  co.onFailure = cb_connect_failed;
  co.context = m;
  int rc = MQTTAsync_connect(m->client, &co);
  if (rc != MQTTASYNC_SUCCESS) return ph_fail(err, PH_EMQTT, "mqtt: connect could not start: code %d", rc);
  return 0;
}

static void subscribe_park(struct ph_hubmqtt *m, const char *park) {
  const char *group = m->cfg->mqtt.shared_group;
  const char *suffix[2] = {"+/+/ev/+", "+/+/status"};
  for (int i = 0; i < 2; i++) {
    char filter[PH_TOPIC_MAX + 80];
    if (group[0])
      snprintf(filter, sizeof filter, "$share/%s/" PH_TOPIC_PREFIX "%s/%s", group, park, suffix[i]);
    else
      snprintf(filter, sizeof filter, PH_TOPIC_PREFIX "%s/%s", park, suffix[i]);
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    int rc = MQTTAsync_subscribe(m->client, filter, 1, &ro);
    if (rc != MQTTASYNC_SUCCESS) PH_ERROR(MOD, "subscribe %s: code %d", filter, rc);
  }
  char filter[PH_TOPIC_MAX];
  snprintf(filter, sizeof filter, PH_TOPIC_PREFIX "%s/cmd/ack", park);
  MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
  int rc = MQTTAsync_subscribe(m->client, filter, 1, &ro);
  if (rc != MQTTASYNC_SUCCESS) PH_ERROR(MOD, "subscribe %s: code %d", filter, rc);
}

static void say(struct ph_hubmqtt *m, const char *state) {
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

void ph_hubmqtt_service(struct ph_hubmqtt *m) {
  if (!atomic_exchange(&m->need_setup, false)) return;
  int nd = nodelay_sockets();
  PH_DEBUG(MOD, "TCP_NODELAY set on %d socket%s", nd, nd == 1 ? "" : "s");
  for (int p = 0; p < m->cfg->nparks; p++) subscribe_park(m, m->cfg->parks[p].id);
  say(m, "online");
  PH_INFO(MOD, "connected to the broker; subscribed to %d park%s", m->cfg->nparks, m->cfg->nparks == 1 ? "" : "s");
}

int ph_hubmqtt_publish(struct ph_hubmqtt *m, const char *topic, const void *payload, size_t len, bool retained) {
  if (!atomic_load(&m->connected)) return PH_EAGAIN;
  if (atomic_fetch_add(&m->inflight, 1) >= HUB_INFLIGHT) {
    atomic_fetch_sub(&m->inflight, 1);
    atomic_fetch_add(&m->at_cap, 1);
    return PH_EAGAIN;
  }
  MQTTAsync_message msg = MQTTAsync_message_initializer;
  MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
  msg.payload = (void *)payload;
  msg.payloadlen = (int)len;
  msg.qos = 1;
  msg.retained = retained;
  ro.onSuccess = pub_done;
  ro.onFailure = pub_failed;
  ro.context = m;
  int rc = MQTTAsync_sendMessage(m->client, topic, &msg, &ro);
  if (rc != MQTTASYNC_SUCCESS) {
    atomic_fetch_sub(&m->inflight, 1);
    atomic_fetch_add(&m->publish_failures, 1);
    return PH_EAGAIN;
  }
  atomic_fetch_add(&m->published, 1);
  return 0;
}

void ph_hubmqtt_stop(struct ph_hubmqtt *m) {
  if (!m || !m->client) return;
  /* Acks posted before the stop go out first (bounded wait). */
  for (int i = 0; i < 200; i++) {
    pthread_mutex_lock(&m->ack_mu);
    size_t waiting = m->nwaiting;
    pthread_mutex_unlock(&m->ack_mu);
    if (!waiting || !atomic_load(&m->connected)) break;
    usleep(10000);
  }
  if (MQTTAsync_isConnected(m->client)) {
    say(m, "offline");
    for (int i = 0; i < 200 && atomic_load(&m->inflight) > 0; i++) usleep(10000);
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    d.timeout = 2000;
    MQTTAsync_disconnect(m->client, &d);
    for (int i = 0; i < 300 && MQTTAsync_isConnected(m->client); i++) usleep(10000);
  }
  atomic_store(&m->connected, false);
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
  if (m->client) MQTTAsync_destroy(&m->client);
  pthread_mutex_destroy(&m->ack_mu);
  pthread_cond_destroy(&m->ack_cv);
  ph_free(m->acks);
  ph_free(m);
}

void ph_hubmqtt_stats(struct ph_hubmqtt *m, struct ph_hubmqtt_stats *st) {
  st->connects = atomic_load(&m->connects);
  st->losses = atomic_load(&m->losses);
  st->published = atomic_load(&m->published);
  st->publish_failures = atomic_load(&m->publish_failures);
  st->at_cap = atomic_load(&m->at_cap);
  st->connected = atomic_load(&m->connected);
  pthread_mutex_lock(&m->ack_mu);
  st->acks_published = m->acks_published;
  st->acks_waiting = m->nwaiting;
  pthread_mutex_unlock(&m->ack_mu);
}
