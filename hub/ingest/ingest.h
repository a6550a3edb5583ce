/* ingest.h — the first two stages of the hub: one MQTT message in, one
 * queue item out.
 *
 *  - ph_ingest_message, on Paho's callback thread: parses the topic, checks
 *    identity (topic park/ent/agent = a configured enterprise of a served
 *    park) and copies the payload into a queue item. Kept short: Paho holds
 *    its process-wide lock while it runs.
 *  - the decoder thread (ph_ingest_start): decodes and validates the batch
 *    against the catalogue and the clock, checks the payload's agent = the
 *    topic's, and hands the result to the writer: a valid batch, a refusal
 *    (with whether it may be acked), or an agent status.
 *
 * Refusals are counted per reason and logged at most once per reason per
 * interval.
 */
#ifndef PARKHUB_INGEST_H
#define PARKHUB_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "parkhub/catalog.h"
#include "config/hub_config.h"
#include "ingest/queue.h"

#define PH_INGEST_LOG_INTERVAL_MS 10000
#define PH_NCODES 64 /* counters indexed by -PH_E* */

struct ph_ingest_stats {
  uint64_t messages, batches, statuses, refused, dropped_at_stop;
  uint64_t refused_by_code[PH_NCODES];
};

struct ph_ingest;

/* cfg, cat and q are borrowed and must outlive the ingest. */
int ph_ingest_new(const struct ph_hub_config *cfg, const struct ph_catalog *cat, struct ph_queue *q,
                  struct ph_ingest **out);
void ph_ingest_free(struct ph_ingest *in);
/* Shutdown, step 1: messages arriving from now on are dropped uncounted as
 * data (counted in stats.dropped_at_stop); they were not stored, so never
 * acked, and their agents publish them again. */
void ph_ingest_close_intake(struct ph_ingest *in);
/* Starts / stops the decoder thread (stop after ph_queue_close: it decodes
 * what is queued, then returns). */
int ph_ingest_start(struct ph_ingest *in);
void ph_ingest_stop(struct ph_ingest *in);
/* Returns 0, or PH_ECLOSED when the queue is closed (shutting down). */
int ph_ingest_message(struct ph_ingest *in, const char *topic, size_t tlen, const void *payload, size_t plen);
void ph_ingest_stats(struct ph_ingest *in, struct ph_ingest_stats *st);

#endif
