/* dedupe.h — the hub's exactly-once state per (agent, epoch) stream:
 * `upto`, the highest seq below which every batch is held, and the seqs
 * received above it (out of order).
 *
 * Invariants:
 *  1. a batch is new iff seq > upto and seq is not in the above-set.
 *  2. a declared gap (the batch's oldest > upto + 1) moves upto to
 *     oldest - 1; the seqs in between that were never received are reported
 *     once as data loss.
 *  3. the in-memory state runs ahead of the database only inside the
 *     writer's open transaction; if that transaction fails the writer
 *     reloads the state from the database (ph_dedupe_reset + load).
 *  4. a batch whose seq is more than max_ahead past the upto of a stream
 *     the hub holds, or that claims more than max_ahead batches in the
 *     agent's outbox (seq - oldest + 1), is not plausible: it is refused
 *     (PH_DEDUPE_AHEAD) and changes nothing, so one forged or corrupt
 *     batch cannot end a stream. (oldest <= seq, so the seq bound is also
 *     the bound of a declared gap.) A stream the hub does not know starts
 *     where its first batch says: the hub may have lost its database.
 *  5. memory is bounded: per agent at most PH_DEDUPE_EPOCHS streams are
 *     kept once nothing of theirs waits to be saved or acked
 *     (ph_dedupe_trim releases the least recently used); the database
 *     keeps every stream, and a batch of a released one loads it back
 *     through the loader before it is judged.
 * One thread (the writer).
 */
#ifndef PARKHUB_DEDUPE_H
#define PARKHUB_DEDUPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h" /* struct ph_stream_row */

#define PH_DEDUPE_MAX_ABOVE 65536 /* out-of-order seqs held per stream */
#define PH_DEDUPE_EPOCHS 4        /* streams (epochs) per agent kept in memory when idle */

struct ph_stream {
  int64_t agent_id, epoch, upto;
  int64_t *above; /* sorted */
  size_t nabove, cap;
  int64_t data_ms;   /* newest record time stored (the writer keeps it); 0: unknown */
  uint64_t used;     /* when last judged or loaded (a counter): the least recent is released first */
  struct ph_stream *next_of_agent;
  bool dirty;        /* to save at commit */
  bool ack_pending;  /* to ack after commit */
  int64_t batches, duplicates; /* since the last save */
  char ack_topic[320];
};

enum ph_dedupe_verdict {
  PH_DEDUPE_NEW,
  PH_DEDUPE_DUP,
  PH_DEDUPE_DEFER, /* too many held out of order: the agent resends it */
  PH_DEDUPE_AHEAD  /* inv. 4: refused, nothing changed, not acked */
};

struct ph_dedupe_result {
  enum ph_dedupe_verdict verdict;
  struct ph_stream *stream;    /* NULL only for PH_DEDUPE_AHEAD on a stream the hub did not hold */
  bool new_stream, reinstall;  /* first batch of this (agent, epoch); the agent had another epoch */
  int ngaps;                   /* lost seqs gaps[i][0]..gaps[i][1] (the first 8 ranges; each reported once) */
  int64_t gaps[8][2];
  int64_t lost;                /* batches declared lost by this batch, all ranges */
  int64_t data_ms_before;      /* the stream's data_ms before this batch (where a gap's time span starts) */
  int64_t upto_before;         /* the stream's upto before this batch (0: new) */
  bool above;                  /* accepted out of order (the caller stores it in seq_above) */
};

struct ph_dedupe;

/* Loads stream (agent_id, epoch) from the database into d with
 * ph_dedupe_load_row when it is there (nothing when it is not); 0 or a
 * PH_E* code. */
typedef int (*ph_dedupe_loader)(void *ctx, struct ph_dedupe *d, int64_t agent_id, int64_t epoch);

int ph_dedupe_new(struct ph_dedupe **out);
void ph_dedupe_free(struct ph_dedupe *d);
void ph_dedupe_reset(struct ph_dedupe *d);
/* The loader of streams not in memory (NULL: none, every unknown stream is new). */
void ph_dedupe_set_loader(struct ph_dedupe *d, ph_dedupe_loader fn, void *ctx);
/* Start-up and loader: a stream's upto (above=0, data_ms) or one of its
 * out-of-order seqs (above=1, ignored when the stream is not in memory).
 * Loading an agent's stream may release its least recently used idle one
 * past PH_DEDUPE_EPOCHS (so load streams oldest first). */
void ph_dedupe_load_row(void *d, const struct ph_stream_row *row);
void ph_dedupe_load(void *d, int64_t agent_id, int64_t epoch, int64_t seq, int above);

/* Decides about batch (agent_id, epoch, seq, oldest) and updates the state;
 * max_ahead: inv. 4's bound (<= 0: none). 0 or PH_ENOMEM, or the loader's
 * error. */
int ph_dedupe_check(struct ph_dedupe *d, int64_t agent_id, int64_t epoch, int64_t seq, int64_t oldest,
                    int64_t max_ahead, struct ph_dedupe_result *res);

/* Releases, per agent, the least recently used streams past
 * PH_DEDUPE_EPOCHS that are neither dirty nor waiting for an ack (inv. 5).
 * Returns how many. Invalidates ph_dedupe_at indices. */
size_t ph_dedupe_trim(struct ph_dedupe *d);
/* Streams released since ph_dedupe_new. */
uint64_t ph_dedupe_released(const struct ph_dedupe *d);

/* Iterates streams (for saving and acking after commit). */
size_t ph_dedupe_count(const struct ph_dedupe *d);
struct ph_stream *ph_dedupe_at(struct ph_dedupe *d, size_t i);

#endif
