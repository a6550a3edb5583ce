/* publisher.h — the agent's MQTT side: connects (the broker's nodes in
 * turn, each for connect_timeout_ms; exponential back-off with jitter;
 * failovers counted), publishes outbox batches at QoS 1 in order with a
 * bounded window, applies the hub's cumulative acks to the outbox, and
 * publishes again what the online hub has not acked in time.
 *
 * Paho is reached through mqttlib.h: ph_publisher_new loads the TLS build
 * only when conf.mqtt needs TLS.
 *
 * Threads: Paho calls back on its own threads; those callbacks only record
 * what happened under a mutex and wake the agent loop through an eventfd.
 * Everything else (outbox access, publishing, reconnecting) happens in
 * ph_publisher_service on the agent loop's thread.
 *
 * Invariants:
 *  1. at most conf.inflight publishes are outstanding inside Paho.
 *  2. a batch leaves the outbox only through an ack of the current epoch.
 *  3. after a (re)connect, or resend_after without progress while the hub
 *     is online, publishing restarts at the oldest unacked batch. "Online"
 *     rests on the hub's heartbeat once one was heard (publisher.c).
 */
#ifndef PARKHUB_PUBLISHER_H
#define PARKHUB_PUBLISHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parkhub/err.h"
#include "parkhub/mqttconf.h"
#include "publish/outbox.h"

struct ph_publisher_conf {
  const struct ph_mqtt_conf *mqtt; /* borrowed */
  const char *park, *ent, *agent;  /* borrowed */
  int64_t resend_after_ms;
  /* Fills buf with the agent's status JSON (online); returns its length. */
  size_t (*status)(void *user, char *buf, size_t cap);
  void *user;
};

struct ph_publisher_stats {
  uint64_t published, acked, resent_rounds, publish_failures, connects, connection_losses, bad_acks;
  uint64_t failovers;          /* connections made to another broker node than the previous one */
  uint64_t heartbeat_timeouts; /* times the hub's heartbeat stopped (3 periods) */
  uint64_t sub_refusals;       /* connections dropped because a SUBSCRIBE was refused or not sent */
  bool connected, hub_online;
};

struct ph_publisher;

int ph_publisher_new(const struct ph_publisher_conf *conf, struct ph_outbox *ob, struct ph_publisher **out,
                     struct ph_err *err);
/* Disconnects (after publishing the offline status) and frees. */
void ph_publisher_free(struct ph_publisher *p);

/* fd that becomes readable when Paho reported something. */
int ph_publisher_fd(const struct ph_publisher *p);
/* Does all pending work; call when the fd is readable, at the deadline, and
 * after new batches were committed. */
void ph_publisher_service(struct ph_publisher *p, int64_t now_mono);
/* Monotonic ms of the next timer (reconnect, resend); INT64_MAX: none. */
int64_t ph_publisher_deadline(const struct ph_publisher *p);
/* Publishes the status now (retained), if connected. */
void ph_publisher_status_now(struct ph_publisher *p);
const struct ph_publisher_stats *ph_publisher_stats(const struct ph_publisher *p);

#endif
