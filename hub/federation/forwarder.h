/* forwarder.h — a park hub's link to its regional hub (config "upstream"):
 * sends the upward outbox (up_outbox.h) in order, as batches in the
 * agents' envelope, and deletes what the regional hub's cumulative ack
 * covers. Topics (docs/wire.md, Federation):
 *   parkhub/v1/{park}/hub/{hub_id}/up       park hub → regional  QoS 1  a batch
 *   parkhub/v1/{park}/hub/{hub_id}/up/ack   regional → park hub  QoS 1  {"epoch": E, "upto": N}
 * {park}: the hub's first park; each record names its own park.
 *
 * Threads: its own (the link's service, batches, acks) and Paho's (the ack
 * callback only records). A regional outage never blocks the park hub:
 * the outbox grows (bounded by db.max_size_mb / the disk, counted).
 */
#ifndef PARKHUB_FORWARDER_H
#define PARKHUB_FORWARDER_H

#include <stdbool.h>
#include <stdint.h>

#include "config/hub_config.h"

struct ph_forwarder_stats {
  uint64_t batches_sent, resends, acks, changes_acked, refused_acks;
  int64_t pending, unbatched; /* outbox changes not acked; of them, not in a batch yet */
  int64_t last_batch, acked;
  bool connected;
};

struct ph_forwarder;

/* Opens its own connection to cfg->db_path (the writer made the schema),
 * sets the forwarded tables, starts the link and the thread. */
int ph_forwarder_start(const struct ph_hub_config *cfg, struct ph_forwarder **out, struct ph_err *err);
void ph_forwarder_stop(struct ph_forwarder *f); /* NULL: nothing */
void ph_forwarder_stats(struct ph_forwarder *f, struct ph_forwarder_stats *st);

#endif
