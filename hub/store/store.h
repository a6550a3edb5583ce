/* store.h — the hub's SQLite database as the writer thread sees it: schema
 * and migrations, id caches, and one prepared statement per write.
 *
 * Owns: the writer's connection (WAL, synchronous=FULL: an acked batch
 * must survive a power cut), its statements and the id caches. Readers (the
 * API, tests) open their own connections on the same file.
 * One thread (the writer) uses a store.
 */
#ifndef PARKHUB_STORE_H
#define PARKHUB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "parkhub/err.h"

#define PH_STORE_VERSION 12

struct ph_store;

struct ph_rollup_agg {
  int64_t n, n_valid;
  int64_t n_stop;  /* values flagged F or from a record whose state is stopped */
  int64_t n_trans; /* values from a record whose state is startup or shutdown */
  double sum, sum_valid, min, max;
  int64_t first_ts, last_ts;
  double first, last;
};

int ph_store_open(const char *path, struct ph_store **out, struct ph_err *err);
void ph_store_close(struct ph_store *s);
/* The raw connection, for callers that read (sqlite3 *). */
void *ph_store_db(struct ph_store *s);

/* Caps the database file at mb MB (PRAGMA max_page_count on this
 * connection; 0 restores the value it had at open). Past the cap a write
 * fails with PH_EFULL, as on a full disk. SQLite never sets the cap below
 * the file's current size: *pages gets the cap in force, *page_size the
 * page size (either may be NULL). Outside a transaction. */
int ph_store_set_max_size(struct ph_store *s, int64_t mb, int64_t *pages, int64_t *page_size, struct ph_err *err);

int ph_store_begin(struct ph_store *s, struct ph_err *err);
int ph_store_commit(struct ph_store *s, struct ph_err *err);
void ph_store_rollback(struct ph_store *s);

/* Keeps the WAL bounded under sustained writes. A checkpoint from another
 * connection (the hub's, every second) copies frames while this one keeps
 * appending, so it never reaches the WAL's end, and SQLite starts a WAL
 * from its beginning only when a checkpoint did: under bench/ingest's load
 * the WAL grew to 246 MB, every commit writing into new file space. So,
 * between transactions, when the last commit left more than max_frames
 * frames, a passive checkpoint here copies the few frames still missing
 * (never waits for a reader; a reader's snapshot can hold it back) and the
 * next write transaction starts the WAL over. *backfilled (may be NULL):
 * frames now in the database file, 0 when no checkpoint ran. Returns 0 or
 * PH_EDB/PH_EFULL with err set. */
int ph_store_wal_restart(struct ph_store *s, int max_frames, int *backfilled, struct ph_err *err);
/* Frames in the WAL after the last commit on this connection; after a
 * ph_store_wal_restart, the frames that checkpoint could not copy. */
int ph_store_wal_frames(const struct ph_store *s);

/* Ids, created on first use. A cache entry made inside a transaction that
 * rolls back is forgotten (ph_store_rollback clears the caches). */
int ph_store_agent_id(struct ph_store *s, const char *park, const char *ent, const char *agent, int64_t *id);
int ph_store_point_id(struct ph_store *s, const char *park, const char *ent, const char *point, int64_t *id);
int ph_store_metric_id(struct ph_store *s, const char *code, int64_t *id);
int ph_store_series_id(struct ph_store *s, int64_t point_id, int64_t metric_id, int64_t *id);

int ph_store_chunk(struct ph_store *s, int64_t point_id, int64_t ts_min, int64_t ts_max, int64_t agent_id,
                   int64_t epoch, int64_t seq, int nrecords, int nvalues, const void *blob, size_t len);
int ph_store_material(struct ph_store *s, int64_t point_id, int64_t ts_ms, const char *material, const char *dir,
                      double qty_t, const char *lot, const char *supplier, const char *attrs, int64_t agent_id,
                      int64_t epoch, int64_t seq);
/* period as in rollup.h (0 minute, 1 hour, 2 day); an hour row also marks
 * that hour dirty for the CEMS computation (cems.c), in the same transaction. */
#define PH_STORE_PERIOD_HOUR 1
/* An hour rollup of series_id at hour_ms exists: its point's first hour
 * (point_first, migration 9) moves earlier if it is. ph_store_rollup does
 * this itself; a regional hub's apply of a forwarded hour rollup calls it.
 * 0 or PH_EDB/PH_EFULL. */
int ph_store_point_first(struct ph_store *s, int64_t series_id, int64_t hour_ms);
int ph_store_rollup(struct ph_store *s, int64_t series_id, int period, int64_t bucket_ms,
                    const struct ph_rollup_agg *a, double expected);

/* data_ms: the stream's newest record time (kept as the maximum; 0: unknown). */
int ph_store_stream_save(struct ph_store *s, int64_t agent_id, int64_t epoch, int64_t upto, int64_t now_ms,
                         int64_t batches, int64_t duplicates, int64_t data_ms);
int ph_store_above_add(struct ph_store *s, int64_t agent_id, int64_t epoch, int64_t seq);
int ph_store_above_trim(struct ph_store *s, int64_t agent_id, int64_t epoch, int64_t upto);
/* A declared data loss: seqs from_seq..to_seq of (agent_id, epoch) will
 * never arrive; from_ms..to_ms the data time it spans (0: unknown). */
struct ph_store_gap_row {
  int64_t agent_id, epoch, from_seq, to_seq, detected_ms, from_ms, to_ms;
};
int ph_store_gap(struct ph_store *s, const struct ph_store_gap_row *g);
int ph_store_event(struct ph_store *s, int64_t agent_id, int64_t ts_ms, const char *event, const char *detail);
/* Sets the agent's latest status; *changed says whether its state word changed. */
int ph_store_status(struct ph_store *s, int64_t agent_id, const char *state, int64_t ts_ms, int64_t outbox_depth,
                    const char *payload, int *changed);
int ph_store_reject(struct ph_store *s, int64_t ts_ms, const char *park, const char *topic, const char *agent,
                    int64_t epoch, int64_t seq, const char *code, const char *reason);

/* The rejects table's bounds (rejects.h): rows in it; deleting the n
 * oldest, those older than before_ms (at most limit), all of them. Each
 * returns rows deleted, or PH_EDB/PH_EFULL; inside or outside a
 * transaction (outside: one of its own). */
int64_t ph_store_rejects_count(struct ph_store *s);
int64_t ph_store_rejects_trim(struct ph_store *s, int64_t n);
int64_t ph_store_rejects_expire(struct ph_store *s, int64_t before_ms, int limit);
int64_t ph_store_rejects_clear(struct ph_store *s);

/* One row of the dedupe state: a stream's upto (above = 0, with its
 * data_ms) or one of its out-of-order seqs (above = 1). */
struct ph_stream_row {
  int64_t agent_id, epoch, seq, data_ms;
  int above;
};
typedef void (*ph_store_stream_fn)(void *u, const struct ph_stream_row *row);

/* Loading the dedupe state at start-up: calls fn for each stream, least
 * recently active first, then each out-of-order seq (seq_above). */
int ph_store_load_streams(struct ph_store *s, ph_store_stream_fn fn, void *u, struct ph_err *err);
/* The same for one stream (a batch of an epoch the dedupe released):
 * nothing when the database does not hold it. 0 or PH_EDB. */
int ph_store_load_stream(struct ph_store *s, int64_t agent_id, int64_t epoch, ph_store_stream_fn fn, void *u);

/* Deletes up to `limit` sample chunks older than before_ms, then gives
 * freed pages back (incremental vacuum). Returns chunks deleted or <0. */
int64_t ph_store_retention(struct ph_store *s, int64_t before_ms, int limit, struct ph_err *err);

#endif
