/* queue.h — the bounded hand-over between the hub's stages:
 *
 *   MQTT callback --PH_STAGE_RAW--> decoder thread --PH_STAGE_DECODED--> writer
 *
 * Items come from a fixed pool made at start, so nothing grows with load:
 * when every item is in use the MQTT callback waits in ph_queue_acquire.
 * Paho calls back holding its process-wide lock, so while it waits no Paho
 * call anywhere in the process proceeds: the stages after the callback must
 * never call Paho (acks go through hubmqtt's own thread), or the pipeline
 * would deadlock.
 *
 * Item life: acquire → fill → push(RAW) → pop(RAW) → decode → push(DECODED)
 * → pop(DECODED) → release.
 */
#ifndef PARKHUB_QUEUE_H
#define PARKHUB_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/ack_cmd.h"
#include "parkhub/batch.h"
#include "parkhub/topic.h"

enum ph_item_type { PH_ITEM_BATCH, PH_ITEM_REJECT, PH_ITEM_STATUS, PH_ITEM_ACK };

#define PH_ITEM_PAYLOAD_MAX 4096 /* status payloads kept for the presence table */

enum ph_stage { PH_STAGE_RAW, PH_STAGE_DECODED, PH_STAGES };

struct ph_item {
  enum ph_item_type type;
  char *raw;               /* the message payload as received (RAW stage) */
  size_t raw_len, raw_cap;
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
  struct ph_ack_cmd ack;   /* ACK: the decoded cmd/ack */
};

struct ph_queue_stats {
  uint64_t pushed, waits; /* waits: times a producer found no free item */
  size_t depth, capacity; /* depth: items in either stage */
  size_t stage_depth[PH_STAGES];
};

struct ph_queue;

int ph_queue_new(size_t capacity, struct ph_queue **out);
void ph_queue_free(struct ph_queue *q);
/* Producer: a free item, waiting while there is none; NULL once closed. */
struct ph_item *ph_queue_acquire(struct ph_queue *q);
/* Copies the payload into the item's own buffer (grown as needed, kept). */
int ph_item_set_raw(struct ph_item *it, const void *payload, size_t len);
void ph_queue_push(struct ph_queue *q, enum ph_stage stage, struct ph_item *it);
/* The same for n items in order, under one lock (a stage's group). */
void ph_queue_push_many(struct ph_queue *q, enum ph_stage stage, struct ph_item *const *items, size_t n);
/* Consumer of a stage: up to max items, waiting at most timeout_ms for the first. */
size_t ph_queue_pop(struct ph_queue *q, enum ph_stage stage, struct ph_item **out, size_t max, int timeout_ms);
void ph_queue_release(struct ph_queue *q, struct ph_item *it);
void ph_queue_release_many(struct ph_queue *q, struct ph_item *const *items, size_t n);
/* Wakes waiting producers with NULL; pop still returns what is queued. */
void ph_queue_close(struct ph_queue *q);
void ph_queue_stats(struct ph_queue *q, struct ph_queue_stats *st);

#endif
