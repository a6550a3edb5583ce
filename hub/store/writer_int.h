/* writer_int.h — the writer's state, shared by writer.c (the thread,
 * groups, chunks, rollups, rules, housekeeping) and writer_streams.c (the
 * exactly-once side: dedupe verdicts and what follows them, saving the
 * streams, acking after commit). Not a public header; writer.h has the
 * invariants. One thread (the writer's) uses it after ph_writer_start.
 */
#ifndef PH_WRITER_INT_H
#define PH_WRITER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/chunk.h"
#include "alarms/data_loss.h"
#include "store/dedupe.h"
#include "store/idcache.h"
#include "parkhub/log.h"
#include "ingest/mailbox.h"
#include "store/rejects.h"
#include "store/rollup.h"
#include "store/writer.h"

#define MAX_SLOTS 16

/* The open chunk of one point (and UTC hour) within a batch. */
struct slot {
  bool used;
  char point[PH_ID_MAX + 1];
  int64_t point_id, hour;
  double interval_s; /* expected seconds between its records */
  int64_t ts_min, ts_max;
  int nvalues;
  struct ph_chunk_writer cw;
  int64_t *series; /* per catalogue index, 0 = not looked up yet: the point's idcache entry's */
  struct ph_rollup_buckets bk; /* of the minute of its last record, when bk_valid */
  bool bk_valid;
};

struct ph_writer {
  struct ph_writer_conf c;
  pthread_t thread;
  atomic_bool stop;
  atomic_bool idle; /* queue empty, all committed and acked */
  pthread_mutex_t stats_mu;
  struct ph_writer_stats st;  /* the writer thread's own */
  struct ph_writer_stats pub; /* copy for other threads, under stats_mu */
  struct ph_dedupe *dd;
  struct ph_rollup *ru;
  size_t ncat;
  int64_t *metric_db; /* catalogue index → metrics.id; 0 = not looked up */
  struct ph_idcache points, agents; /* ids per (park, enterprise, name) */
  struct slot slots[MAX_SLOTS];
  struct ph_chunk_value *vbuf;
  struct ph_item **items;
  bool *stored; /* per item of the group: committed (new batch, status, ack) → rules after commit */
  int64_t next_periodic, next_rules_tick;
  struct ph_ratelimit rules_rl;
  struct ph_ratelimit fail_rl;
  struct ph_ratelimit epoch_rl, ahead_rl; /* new-epoch and PH_ESEQAHEAD lines: the first, then a count */
  struct ph_data_loss loss;               /* declared gaps of the group: log lines, alarms after commit */
  struct ph_rejects *rj;                  /* the rejects table's bounds */
  struct ph_mailbox mb; /* requests from other threads (HTTP acks) */
  atomic_int_fast64_t max_size_mb; /* wanted db.max_size_mb (any thread sets it) */
  int64_t max_size_applied;        /* what the connection has; -1: not yet */
};

/* writer_streams.c */
/* The dedupe state again from the database (start, after a rollback). */
int ph_writer_reload_dedupe(struct ph_writer *w, struct ph_err *err);
/* dedupe.h's loader: a released stream from the database. */
int ph_writer_load_stream(void *ctx, struct ph_dedupe *d, int64_t agent_id, int64_t epoch);
/* The verdict on an identified batch (stored or refused) and its rows:
 * gaps, events, seq_above; a refusal ahead (PH_ESEQAHEAD) sets it's reason. */
int ph_writer_dedupe(struct ph_writer *w, struct ph_item *it, int64_t agent_id, enum ph_dedupe_verdict *verdict);
/* Before the commit: the dirty streams' rows. After it: they are saved. */
int ph_writer_save_streams(struct ph_writer *w);
void ph_writer_mark_saved(struct ph_writer *w);
/* After the commit: acks of the committed streams to hubmqtt's mailbox,
 * then idle old epochs leave memory (dedupe.h inv. 5). */
void ph_writer_send_acks(struct ph_writer *w);

#endif
