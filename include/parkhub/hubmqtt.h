/* hubmqtt.h — the hub's MQTT client: a persistent session (clean start
 * off, fixed client id) subscribed at QoS 1 to its parks' event and status
 * topics (through an MQTT shared-subscription group when configured),
 * messages handed to ingest on Paho's thread, retained hub online/offline
 * status per park (the will covers the first park), and publishing with a
 * cap on QoS 1 messages in flight (acks are publishes too).
 */
#ifndef PARKHUB_HUBMQTT_H
#define PARKHUB_HUBMQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parkhub/hub_config.h"
#include "parkhub/ingest.h"

struct ph_hubmqtt_stats {
  uint64_t connects, losses, published, publish_failures, at_cap, acks_published;
  size_t acks_waiting;
  bool connected;
};

struct ph_hubmqtt;

int ph_hubmqtt_new(const struct ph_hub_config *cfg, struct ph_ingest *in, struct ph_hubmqtt **out,
                   struct ph_err *err);
/* Starts connecting (Paho reconnects by itself afterwards). */
int ph_hubmqtt_start(struct ph_hubmqtt *m, struct ph_err *err);
/* Main-loop work after (re)connects: subscribe, say online. Call often. */
void ph_hubmqtt_service(struct ph_hubmqtt *m);
/* Hands an ack {"epoch":E,"upto":N} for topic to the ack thread; never
 * blocks on Paho. A newer ack for the same topic replaces one not sent yet.
 * PH_ENOMEM when the mailbox is full (try again later). */
int ph_hubmqtt_post_ack(struct ph_hubmqtt *m, const char *topic, int64_t epoch, int64_t upto);
/* QoS 1 publish. PH_EAGAIN when not connected or at the in-flight cap. */
int ph_hubmqtt_publish(struct ph_hubmqtt *m, const char *topic, const void *payload, size_t len, bool retained);
/* Says offline on every park's hub topic, disconnects, waits for Paho to
 * stop calling back. */
void ph_hubmqtt_stop(struct ph_hubmqtt *m);
void ph_hubmqtt_free(struct ph_hubmqtt *m);
void ph_hubmqtt_stats(struct ph_hubmqtt *m, struct ph_hubmqtt_stats *st);

#endif
