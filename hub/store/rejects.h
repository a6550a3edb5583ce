/* rejects.h — the rejects table (refused batches kept for people to read,
 * store.h) within bounds, so that no sender's junk can fill the database
 * and stop the acks of the others (issue #16):
 *
 *  - rate: per topic identity (park/ent/agent of a configured agent; every
 *    other topic shares one allowance) at most db.rejects_per_agent_per_min
 *    rows a minute (a token bucket as deep as a minute's allowance); the
 *    refusals past it are counted (stats.unstored, /metrics) and
 *    summarised in the log (the first, then a count every 10 s), not
 *    stored. Refusals are still counted per reason by ingest either way.
 *  - size: at most db.rejects_max_mb, and with db.max_size_mb at most
 *    db.rejects_max_pct of it, each row counted at its largest
 *    (PH_REJECT_ROW_BYTES); past it the oldest rows go, in the transaction
 *    that stored the new ones.
 *  - age: rows older than db.rejects_keep_days go (ph_rejects_expire, in
 *    bounded steps between the writer's transactions).
 *  - a full database: every row goes (ph_rejects_give_up) before the
 *    writer retries, and no reject is stored for PH_REJECTS_PAUSE_MS, so
 *    the space held for rejects is given up before acks stop.
 *
 * Callers: writer.c. Thread: the writer (the store's connection is its).
 * Owns: the buckets (one per identity that sent a refusal: bounded by the
 * configured agents), the row count.
 */
#ifndef PARKHUB_REJECTS_H
#define PARKHUB_REJECTS_H

#include <stdbool.h>
#include <stdint.h>

#include "config/hub_config.h"
#include "ingest/queue.h"
#include "store/store.h"

#define PH_REJECT_ROW_BYTES 1024     /* a rejects row at its largest (topic, reason, code, ids, index entry) */
#define PH_REJECTS_PAUSE_MS 60000    /* after a full database, no reject is stored for this long */
#define PH_REJECTS_EXPIRE_STEP 5000  /* rows deleted per expiry transaction */

struct ph_rejects_stats {
  uint64_t stored, unstored;                        /* rows written; refusals not stored (rate, pause) */
  uint64_t deleted_age, deleted_size, deleted_full; /* rows deleted by age, by the size bound, on a full database */
  int64_t rows, max_rows;                           /* rows in the table (committed); the size bound in rows */
};

struct ph_rejects;

/* Counts the table's rows. cfg and store are borrowed (they outlive it). */
int ph_rejects_new(const struct ph_hub_config *cfg, struct ph_store *store, struct ph_rejects **out,
                   struct ph_err *err);
void ph_rejects_free(struct ph_rejects *r);
/* db.max_size_mb in force (at start, after a SIGHUP): the size bound follows. */
void ph_rejects_set_max_size(struct ph_rejects *r, int64_t max_size_mb);

/* Inside the writer's transaction: it's refusal as a row (code: its
 * PH_E* code), unless its identity is past its rate or rejects are paused
 * (then only counted). 0 or the store's error. */
int ph_rejects_store(struct ph_rejects *r, const struct ph_item *it, int code);
/* Inside the writer's transaction, after the group's rows: the oldest rows
 * past the size bound go. 0 or the store's error. */
int ph_rejects_enforce(struct ph_rejects *r);
/* The writer's transaction committed / rolled back. */
void ph_rejects_committed(struct ph_rejects *r);
void ph_rejects_rolled_back(struct ph_rejects *r);

/* Between transactions. Rows older than db.rejects_keep_days go (a few
 * bounded transactions); returns rows deleted or < 0. */
int64_t ph_rejects_expire(struct ph_rejects *r, int64_t now_ms, struct ph_err *err);
/* The database is full: every row goes (one transaction) and storing
 * pauses; returns rows deleted (0: there were none, nothing to gain) or < 0. */
int64_t ph_rejects_give_up(struct ph_rejects *r, struct ph_err *err);

void ph_rejects_stats(const struct ph_rejects *r, struct ph_rejects_stats *st);

#endif
