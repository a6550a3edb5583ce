/* writer.h — the hub's storage stage: one thread that takes groups of
 * queue items, stores each group in one SQLite transaction (dedupe state,
 * raw-sample chunks, material ledger, rollups, rejects, presence) and,
 * only after the commit, acks the agents.
 *
 * Invariants:
 *  1. an ack {"epoch":E,"upto":N} is published only after the transaction
 *     that made N the stream's upto committed.
 *  2. samples and the rollups that count them commit together, so a crash
 *     at any moment neither loses acked data nor double-counts a rollup.
 *  3. when a commit fails (disk full, I/O error) nothing is acked, the group
 *     is retried until it commits, and the queue behind it fills up and
 *     pushes back on the broker: no accepted batch is dropped. On a full
 *     database the rejects table is emptied first (rejects.h), so refused
 *     junk never stops the acks of valid data.
 */
#ifndef PARKHUB_WRITER_H
#define PARKHUB_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "alarms/alarms.h"
#include "parkhub/catalog.h"
#include "config/refs.h"
#include "parkhub/limits.h"
#include "ingest/queue.h"
#include "store/rejects.h"
#include "alarms/rules.h"
#include "store/store.h"
#include "parkhub/tz.h"

/* Where committed acks go: the hub posts them to hubmqtt's mailbox (never a
 * Paho call on the writer's thread, queue.h); tests capture them. post
 * returns 0 when taken, non-zero to be asked again on the writer's next pass
 * (within about 50 ms, with the stream's latest upto).
 * ctx is borrowed. post == NULL: no acks (tools). */
struct ph_ack_sink {
  int (*post)(void *ctx, const char *topic, int64_t epoch, int64_t upto);
  void *ctx;
};

struct ph_writer_conf {
  const struct ph_refs *refs;     /* config, catalogue, zones, standards (refs.h) */
  struct ph_queue *q;
  struct ph_store *store;         /* used only by the writer thread once started */
  struct ph_ack_sink acks;       /* committed acks (inv. 1) */
  struct ph_rules *rules;   /* NULL: no rules; used only by the writer thread once started */
  struct ph_alarms *alarms; /* on the store's connection; required with rules */
};

struct ph_writer_stats {
  uint64_t groups, batches, records, values, materials, duplicates, deferred, rejects, statuses, gaps;
  uint64_t materials_unclassified; /* ledger records whose code the park's registry does not know (materials.h) */
  uint64_t refused_ahead;                /* batches refused with PH_ESEQAHEAD (dedupe.h inv. 4) */
  uint64_t streams, streams_released;    /* (agent, epoch) streams in memory; released from it (inv. 5) */
  uint64_t commit_failures, acks_sent, acks_pending;
  uint64_t commit_us_total, commit_us_max;
  uint64_t wal_restarts; /* checkpoints the writer ran to start the WAL over (ph_store_wal_restart) */
  int64_t wal_frames;    /* frames in the WAL after the last commit */
  int64_t retention_deleted;
  int64_t disk_free_mb; /* free space where the database is, at the last check; -1 before it */
  bool disk_low;        /* disk_free_mb below db.min_free_mb */
  bool db_full;         /* the last write failed with PH_EFULL (disk or db.max_size_mb): nothing is acked */
  struct ph_rejects_stats rj; /* the rejects table's bounds (rows, deleted, not stored) */
};

struct ph_writer;

/* Loads the dedupe state and starts the thread. */
int ph_writer_start(const struct ph_writer_conf *conf, struct ph_writer **out, struct ph_err *err);
/* Waits (at most timeout_ms) until the queue is empty, everything committed
 * and every ack sent; returns 0 when it got there. */
int ph_writer_drain(struct ph_writer *w, int timeout_ms);
/* Stops after the queue is empty (close the queue first) and joins. */
void ph_writer_stop(struct ph_writer *w);
void ph_writer_stats(struct ph_writer *w, struct ph_writer_stats *st);
/* Changes the database size cap (db.max_size_mb, 0: none); any thread. The
 * writer applies it between transactions, also while it retries a group
 * that failed on a full database (so raising the cap lets it resume). */
void ph_writer_set_max_size(struct ph_writer *w, int64_t mb);
/* Acknowledges park's alarm_id on the writer's thread, which owns the
 * alarms, and returns once that transaction committed (so the answer shows
 * the new state). Any thread. PH_ENOTFOUND: no open alarm of that id;
 * PH_ETIMEOUT: not taken within timeout_ms (nothing changed); PH_ECLOSED:
 * the writer is stopping; else the commit's error. */
int ph_writer_ack_alarm(struct ph_writer *w, const char *park, const char *alarm_id, const char *by, const char *note,
                        int timeout_ms, struct ph_err *err);
/* Stores a stack test of park's ent (local date, its day number, who
 * entered it) on the writer's thread and tells the rules; returns once
 * committed. Errors as ph_writer_ack_alarm. */
int ph_writer_stack_test(struct ph_writer *w, const char *park, const char *ent, const char *date, long day,
                         const char *by, int timeout_ms, struct ph_err *err);

#endif
