/* hub_metrics.h — the hub's own counters in the Prometheus text format
 * (served by the API's /metrics, which adds its own and the database's):
 * ingest (messages, refusals by reason), the queue, the writer (stored
 * batches, records, values, duplicates, commits and their latency, acks),
 * MQTT and alarm delivery. A snapshot of stats in, text out: no state. */
#ifndef PARKHUB_HUB_METRICS_H
#define PARKHUB_HUB_METRICS_H

#include <stddef.h>

#include "alarms/deliver.h"
#include "federation/forwarder.h"
#include "federation/regional.h"
#include "ingest/hubmqtt.h"
#include "ingest/ingest.h"
#include "ingest/queue.h"
#include "store/writer.h"

struct ph_hub_snapshot {
  struct ph_ingest_stats in;
  struct ph_queue_stats q;
  struct ph_writer_stats w;
  struct ph_hubmqtt_stats mqtt;
  struct ph_deliver_stats dl;
  bool have_deliver;
  struct ph_forwarder_stats up; /* a park hub with "upstream" */
  struct ph_regional_stats reg; /* a regional hub */
  bool have_up, have_reg;
};

/* Writes the text into buf (cap bytes, NUL-terminated when cap > 0);
 * returns the length the whole text needs, snprintf-style. */
int ph_hub_metrics_text(const struct ph_hub_snapshot *s, char *buf, size_t cap);

#endif
