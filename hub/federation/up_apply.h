/* up_apply.h — the regional hub's side of an upward batch: envelope
 * checks, dedupe per (sender, epoch, seq), the records applied by natural
 * key keeping the newest revision (up_rows.h), and the cumulative ack.
 *
 * Threads: the regional writer's (struct ph_store borrowed), inside the
 * caller's transaction: the caller commits, then sends the ack
 * {"epoch": E, "upto": N} on the sender's ack topic.
 */
#ifndef PARKHUB_UP_APPLY_H
#define PARKHUB_UP_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parkhub/err.h"
#include "parkhub/ids.h"

#define PH_UP_PAYLOAD_MAX (4 << 20) /* bytes of one upward batch */
#define PH_UP_SEQ_AHEAD_MAX 1000000 /* a seq further ahead of the ack than this is not plausible */
#define PH_UP_CONFIG_MAX 16         /* park fingerprints read from an envelope */
#define PH_UP_ABOVE_MAX 64          /* out-of-order batches remembered above the ack */

struct ph_up_result {
  char sender[PH_ID_MAX + 1];
  int64_t epoch, seq, upto; /* upto: the ack to send (every batch <= upto held) */
  bool duplicate;           /* held already: nothing applied, ack again */
  bool gap;                 /* the sender declared batches it no longer holds (oldest) */
  int records, applied, stale;
  bool ackable;             /* the envelope was readable: ack even a refused batch */
  /* the sender's park fingerprints ("config", at most PH_UP_CONFIG_MAX): the caller compares */
  struct { char park[PH_ID_MAX + 1], fp[17]; } config[PH_UP_CONFIG_MAX];
  int nconfig;
};

struct ph_store;
/* Applies one upward batch (payload, len bytes) received on the upward
 * topic of topic_park. parks[0..nparks): the parks this hub serves.
 * 0 when stored (or a duplicate); a refusal code with err when refused
 * (res->ackable says whether the sender must still be acked past it, as
 * for an agent's permanently bad batch: one bad batch must not block the
 * outbox); PH_EDB when the database failed (roll back, no ack). */
int ph_up_apply(struct ph_store *s, const char *topic_park, const void *payload, size_t len,
                const char *const *parks, int nparks, int64_t now_ms, struct ph_up_result *res, struct ph_err *err);

/* A batch refused with res->ackable (bad records, but a readable
 * envelope): after the caller rolled the refused attempt back, records its
 * seq as held without any of its rows, in a transaction of the caller's,
 * so the sender's outbox moves past it (*upto: the ack to send). 0 or a
 * code. */
int ph_up_skip(struct ph_store *s, const struct ph_up_result *refused, int64_t now_ms, int64_t *upto);

#endif
