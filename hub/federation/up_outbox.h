/* up_outbox.h — the park hub's upward outbox (migration 8's up_outbox,
 * filled by triggers in the writer's transactions): what to forward, the
 * next batch in the agents' envelope, the regional hub's ack.
 *
 * Threads: the forwarder's, on a connection of its own to the hub's
 * database (sqlite3 * as void *, borrowed; the writer keeps writing on its
 * own: these calls take short write transactions of their own).
 */
#ifndef PARKHUB_UP_OUTBOX_H
#define PARKHUB_UP_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "config/hub_config.h"
#include "parkhub/err.h"

#define PH_UP_BATCH_MAX_RECORDS 256 /* changes per upward batch */

/* Sets the forwarded tables (names as ph_up_kind_name; n 0: none, the
 * triggers then write nothing) and creates the outbox's epoch (now_s) the
 * first time; an alarm kind new to the set queues the rows it holds
 * (up_outbox.c inv. 4; the alarm tables must exist: ph_alarms_migrate).
 * PH_ECONFIG for an unknown name. */
int ph_up_outbox_setup(void *db, const char *const *forward, int n, int64_t now_s, struct ph_err *err);

/* The park hub's triggers on the alarm tables and the entered stack tests
 * (up_sql.h UP_SQL_TRIGGERS), which ph_alarms_migrate creates after the
 * store's migrations: call after it at every start (IF NOT EXISTS: a hub
 * upgraded from v9 gets them at its first start, others keep theirs).
 * 0 or PH_EDB with err set. */
int ph_up_triggers(void *db, struct ph_err *err);

struct ph_up_outbox_state {
  int64_t epoch, last_batch, acked;
  int64_t oldest;   /* lowest batch seq still held; 0: none */
  int64_t pending;  /* changes not yet acked */
  int64_t unbatched; /* of them, not yet in a batch */
};
int ph_up_outbox_state(void *db, struct ph_up_outbox_state *st, struct ph_err *err);

/* Gives the next up to max changes not yet in a batch the next batch seq
 * (*seq; 0 when there were none). One transaction. */
int ph_up_outbox_assign(void *db, int max, int64_t *seq, struct ph_err *err);

/* The envelope of batch seq (returns new, *json; caller frees with
 * ph_free): {"v":1,"agent","epoch","seq","oldest","sent","records":[…]},
 * each record the row as it is now (up_rows.h). *nrec: records in it (0:
 * every change of the batch was of rows no longer named: it is still sent
 * so that the ack moves past it). */
int ph_up_outbox_build(void *db, const char *agent, int64_t seq, int64_t now_ms, char **json, size_t *len,
                       int *nrec, struct ph_err *err);
/* The same with "config": {park: fingerprint} for each park of cfg (the
 * regional hub tells a park configured otherwise than here). */
int ph_up_outbox_build_cfg(void *db, const struct ph_hub_config *cfg, int64_t seq, int64_t now_ms, char **json,
                           size_t *len, int *nrec, struct ph_err *err);

/* The regional hub's cumulative ack: deletes every change of a batch
 * <= upto of this outbox's epoch (an ack of another epoch or beyond the
 * last batch given changes nothing: *deleted 0). */
int ph_up_outbox_ack(void *db, int64_t epoch, int64_t upto, int64_t *deleted, struct ph_err *err);

#endif
