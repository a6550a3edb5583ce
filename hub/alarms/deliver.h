/* deliver.h — the delivery stage: alarm messages → MQTT (and webhooks).
 *
 * For each struct ph_alarm_msg (from alarms.h, after the commit):
 *   TRANSITION  publish the alert (alert.schema.json) on
 *               parkhub/v1/{park}/alerts/{severity}, not retained, QoS 1;
 *               then the state (alarm.schema.json) retained on
 *               parkhub/v1/{park}/alarms/{alarm_id} — an empty retained
 *               payload once the alarm is closed, which removes it;
 *   REFRESH     the retained state only;
 *   REPLY       the answer to a cmd/ack (cmd-ack-reply.schema.json) on
 *               parkhub/v1/{park}/cmd/ack/reply, not retained, QoS 1;
 *               never merged with another message (a full mailbox may
 *               still drop it as the oldest: step 4 below);
 * and hands every message to each sink (webhooks), which filter it
 * themselves.
 *
 * Threads: posting (ph_deliver_post / ph_deliver_emit) from any thread,
 * never blocking and never calling Paho: it copies the message into a
 * bounded mailbox under a short mutex. The stage's own thread takes the
 * oldest message, posts it to the sinks (non-blocking too), then calls
 * conf.publish — which may block or fail (PH_EAGAIN: not connected, at the
 * in-flight cap); it retries that message with back-off (retry_min_ms
 * doubling to retry_max_ms), so messages go out in order.
 *
 * Bounds: the mailbox holds conf.capacity messages. Full, a post makes
 * room by (1) replacing a waiting message of the same alarm with the new
 * one (the alarm's latest state wins; the alert of the intermediate
 * transition is lost: counted in `coalesced`), else (2) dropping a waiting
 * REFRESH, else (3) merging the two oldest messages of any one alarm, else
 * (4) dropping the oldest message (`lost`, logged). A waiting REFRESH is
 * always replaced by a newer message of the same alarm.
 */
#ifndef PARKHUB_DELIVER_H
#define PARKHUB_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alarms/alarms.h"
#include "parkhub/err.h"

/* QoS 1 publish; 0 or a PH_E* code (the message is retried). */
typedef int (*ph_publish_fn)(void *ctx, const char *topic, const void *payload, size_t len, bool retained);

/* A sink that takes messages without blocking (webhook.h: ph_webhook_sink). */
struct ph_deliver_sink {
  void *ctx;
  int (*post)(void *ctx, const struct ph_alarm_msg *m);
};

#define PH_DELIVER_MAX_SINKS 32

struct ph_deliver_conf {
  ph_publish_fn publish; /* NULL: sinks only */
  void *publish_ctx;
  size_t capacity;       /* 0: 1024 */
  int retry_min_ms;      /* 0: 50 */
  int retry_max_ms;      /* 0: 2000 */
  struct ph_deliver_sink sinks[PH_DELIVER_MAX_SINKS];
  int nsinks;
};

struct ph_deliver_stats {
  uint64_t posted, published, publish_failures, coalesced, refresh_dropped, lost, sunk;
  size_t queued, high_water;
};

struct ph_deliver;

int ph_deliver_start(const struct ph_deliver_conf *c, struct ph_deliver **out, struct ph_err *err);
/* Copies m into the mailbox. Never blocks. 0, or PH_ECLOSED after stop. */
int ph_deliver_post(struct ph_deliver *d, const struct ph_alarm_msg *m);
/* ph_deliver_post with the signature of ph_alarms_conf.emit (ctx = d). */
void ph_deliver_emit(void *ctx, const struct ph_alarm_msg *m);
/* Waits until the mailbox is empty and the message in hand is published;
 * 0 or PH_ETIMEOUT. */
int ph_deliver_flush(struct ph_deliver *d, int timeout_ms);
/* Stops the thread: what cannot be published within drain_ms is dropped
 * (counted in lost). Frees. Accepts NULL. */
void ph_deliver_stop(struct ph_deliver *d, int drain_ms);
void ph_deliver_stats(struct ph_deliver *d, struct ph_deliver_stats *st);

/* The sink of a webhook (webhook.h), for ph_deliver_conf.sinks. */
struct ph_webhook;
struct ph_deliver_sink ph_webhook_sink(struct ph_webhook *w);

#endif
