/* queue.h — the bounded hand-over between the MQTT callback (producer) and
 * the writer thread (consumer). Items come from a fixed pool made at start,
 * so the queue never grows: when every item is in use the producer waits
 * (ph_queue_acquire blocks), which stops Paho reading from the socket and
 * pushes back to the broker instead of growing memory.
 *
 * Item life: acquire (producer) → fill → push → pop (writer) → release.
 */
#ifndef PARKHUB_QUEUE_H
#define PARKHUB_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parkhub/batch.h"
#include "parkhub/topic.h"

enum ph_item_type { PH_ITEM_BATCH, PH_ITEM_REJECT, PH_ITEM_STATUS };

#define PH_ITEM_PAYLOAD_MAX 4096 /* status payloads kept for the presence table */

struct ph_item {
  enum ph_item_type type;
  int park_idx, ent_idx;   /* into the hub config; -1 when unknown */
  struct ph_topic topic;   /* parsed, when it parsed */
  char topic_raw[PH_TOPIC_MAX];
  int64_t recv_ms;
  struct ph_batch batch;   /* BATCH: decoded; REJECT: header when batch.header_ok */
  bool ackable;            /* REJECT: identified well enough to ack */
  int code;                /* REJECT: PH_E* */
  char reason[PH_ERR_MSG_MAX];
  char state[16];          /* STATUS: online|offline */
  int64_t outbox_depth;    /* STATUS: -1 when not given */
  char payload[PH_ITEM_PAYLOAD_MAX];
};

struct ph_queue_stats {
  uint64_t pushed, waits; /* waits: times a producer found no free item */
  size_t depth, capacity;
};

struct ph_queue;

int ph_queue_new(size_t capacity, struct ph_queue **out);
void ph_queue_free(struct ph_queue *q);
/* Producer: a free item, waiting while there is none; NULL once closed. */
struct ph_item *ph_queue_acquire(struct ph_queue *q);
void ph_queue_push(struct ph_queue *q, struct ph_item *it);
/* Consumer: up to max items, waiting at most timeout_ms for the first. */
size_t ph_queue_pop(struct ph_queue *q, struct ph_item **out, size_t max, int timeout_ms);
void ph_queue_release(struct ph_queue *q, struct ph_item *it);
/* Wakes waiting producers with NULL; pop still returns what is queued. */
void ph_queue_close(struct ph_queue *q);
void ph_queue_stats(struct ph_queue *q, struct ph_queue_stats *st);

#endif
