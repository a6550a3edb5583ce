/* regional.h — the regional hub's intake (role "regional"): subscribes to
 * the upward topics of its parks (parkhub/v1/{park}/hub/+/up), applies
 * each batch in a transaction of its own (up_apply.h), then acks it
 * cumulatively on the sender's …/up/ack.
 *
 * Threads: its own (apply, commit, ack) and Paho's (the message callback
 * copies into a bounded queue, waiting while it is full: back-pressure to
 * the broker, as the hub's ingest).
 */
#ifndef PARKHUB_REGIONAL_H
#define PARKHUB_REGIONAL_H

#include <stdbool.h>
#include <stdint.h>

#include "config/hub_config.h"

struct ph_regional_stats {
  uint64_t batches, duplicates, refused, records, applied, stale, gaps, skipped;
  uint64_t config_mismatches; /* batches whose sender configures a park otherwise than this hub */
  bool connected;
};

struct ph_regional;

int ph_regional_start(const struct ph_hub_config *cfg, struct ph_regional **out, struct ph_err *err);
void ph_regional_stop(struct ph_regional *r); /* NULL: nothing */
void ph_regional_stats(struct ph_regional *r, struct ph_regional_stats *st);

#endif
