/* batcher.h — gathers the records sources emit into one open batch per
 * kind and commits them to the outbox when a batch is full, when its first
 * record has waited max_delay_ms, or on demand (shutdown).
 *
 * Invariants:
 *  1. a flush commits every open batch of every kind together with every
 *     source position reported so far, in one outbox transaction; so a
 *     position is never stored ahead of a record that is not stored.
 *  2. at the cap with policy drop_oldest, the oldest batches are dropped
 *     (counted, logged) before new ones are appended; with policy stop the
 *     core stops calling sources (ph_batcher_full) and nothing is dropped.
 */
#ifndef PARKHUB_BATCHER_H
#define PARKHUB_BATCHER_H

#include <stdbool.h>
#include <stdint.h>

#include "parkhub/catalog.h"
#include "publish/outbox.h"
#include "sources/source.h"

#define PH_BATCHER_MAX_SOURCES 32

struct ph_batcher_conf {
  const struct ph_catalog *cat; /* borrowed */
  int64_t max_records, max_delay_ms;
  int64_t cap;                  /* outbox max_batches */
  bool drop_oldest;
};

struct ph_batcher_stats {
  uint64_t records, rejected, batches, dropped_batches, flush_errors;
};

struct ph_batcher;

/* ob is borrowed. Returns new (ph_batcher_free). */
int ph_batcher_new(const struct ph_batcher_conf *conf, struct ph_outbox *ob, struct ph_batcher **out);
void ph_batcher_free(struct ph_batcher *b);

/* The emitter for source i (0 <= i < PH_BATCHER_MAX_SOURCES) named name. */
struct ph_emitter *ph_batcher_emitter(struct ph_batcher *b, int i, const char *name);

/* Monotonic ms at which the oldest open record is due; INT64_MAX when none. */
int64_t ph_batcher_deadline(const struct ph_batcher *b);
/* Commits whatever is open (no-op when nothing is). Returns 0, PH_EFULL when
 * policy stop and committing would pass the cap, or an outbox error; on
 * error the records stay open and are retried on the next flush. */
int ph_batcher_flush(struct ph_batcher *b, struct ph_err *err);
/* True when policy stop and no more records can be taken (the core pauses
 * its sources). */
bool ph_batcher_full(const struct ph_batcher *b);
const struct ph_batcher_stats *ph_batcher_stats(const struct ph_batcher *b);

#endif
