/* hubmqtt.h — the hub's MQTT side, two connections: a persistent session
 * (clean start off, the configured client id) subscribed at QoS 1 to its
 * parks' event, status and command topics (through an MQTT
 * shared-subscription group when configured) that never publishes, its
 * messages handed to ingest on Paho's thread; and a clean one (client id
 * + "-pub") for everything the hub publishes: acks, alarm messages, the
 * retained hub online/offline status per park (its will covers the first
 * park) and its non-retained heartbeat, with a cap on QoS 1 messages in
 * flight. Why two, and how it moves between broker nodes: hubmqtt.c.
 */
#ifndef PARKHUB_HUBMQTT_H
#define PARKHUB_HUBMQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/hub_config.h"
#include "ingest/ingest.h"

struct ph_hubmqtt_stats {
  uint64_t connects, losses, published, publish_failures, at_cap, acks_published;
  uint64_t failovers;  /* connections made to another broker node than the previous one */
  uint64_t heartbeats; /* non-retained heartbeats published */
  size_t acks_waiting;
  bool connected;
};

struct ph_hubmqtt;

int ph_hubmqtt_new(const struct ph_hub_config *cfg, struct ph_ingest *in, struct ph_hubmqtt **out,
                   struct ph_err *err);
/* Starts connecting; ph_hubmqtt_service reconnects afterwards, across the
 * configured broker nodes with back-off. */
int ph_hubmqtt_start(struct ph_hubmqtt *m, struct ph_err *err);
/* Main-loop work: reconnects, subscribing and saying online after a
 * connect, the heartbeat. Call often (every ≤ 100 ms). */
void ph_hubmqtt_service(struct ph_hubmqtt *m);
/* Hands an ack {"epoch":E,"upto":N} for topic to the ack thread; never
 * blocks on Paho. A newer ack for the same topic and epoch replaces one not
 * sent yet (the higher upto wins); acks of other epochs are kept apart.
 * The mailbox grows as needed and holds only unsent acks. PH_ENOMEM when
 * out of memory (try again later). */
int ph_hubmqtt_post_ack(struct ph_hubmqtt *m, const char *topic, int64_t epoch, int64_t upto);
/* QoS 1 publish. PH_EAGAIN when not connected or at the in-flight cap. */
int ph_hubmqtt_publish(struct ph_hubmqtt *m, const char *topic, const void *payload, size_t len, bool retained);
/* QoS 1 publish that returns once the broker acknowledged it: 0, PH_EAGAIN
 * (not connected, at the cap, refused) or PH_ETIMEOUT (no PUBACK within
 * timeout_ms, or the connection went down: it may or may not have arrived,
 * publish again). For messages that must not be lost with a connection. */
int ph_hubmqtt_publish_confirmed(struct ph_hubmqtt *m, const char *topic, const void *payload, size_t len,
                                 bool retained, int timeout_ms);
/* Says offline on every park's hub topic, disconnects, waits for Paho to
 * stop calling back. */
void ph_hubmqtt_stop(struct ph_hubmqtt *m);
void ph_hubmqtt_free(struct ph_hubmqtt *m);
void ph_hubmqtt_stats(struct ph_hubmqtt *m, struct ph_hubmqtt_stats *st);

/* A link (federation, issue #21): the same two connections, node list,
 * failover and in-flight cap, on the broker mc names, for a hub talking to
 * another hub: no park topics, no status, will or heartbeat; the sub side
 * subscribes to subs[0..nsubs) (copied) and hands each message to on_msg
 * on Paho's thread (keep it short: record, never call Paho). Acks
 * (ph_hubmqtt_post_ack) and publishes as for the hub's own. */
typedef void (*ph_hubmqtt_msg_fn)(void *u, const char *topic, size_t tlen, const void *payload, size_t len);
int ph_hubmqtt_new_link(const struct ph_mqtt_conf *mc, const char *hub_id, const char *const *subs, int nsubs,
                        ph_hubmqtt_msg_fn on_msg, void *u, struct ph_hubmqtt **out, struct ph_err *err);

#endif
