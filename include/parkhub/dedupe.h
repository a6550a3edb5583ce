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
 * One thread (the writer).
 */
#ifndef PARKHUB_DEDUPE_H
#define PARKHUB_DEDUPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PH_DEDUPE_MAX_ABOVE 65536 /* out-of-order seqs held per stream */

struct ph_stream {
  int64_t agent_id, epoch, upto;
  int64_t *above; /* sorted */
  size_t nabove, cap;
  bool dirty;        /* to save at commit */
  bool ack_pending;  /* to ack after commit */
  int64_t batches, duplicates; /* since the last save */
  char ack_topic[320];
};

enum ph_dedupe_verdict { PH_DEDUPE_NEW, PH_DEDUPE_DUP, PH_DEDUPE_DEFER };

struct ph_dedupe_result {
  enum ph_dedupe_verdict verdict;
  struct ph_stream *stream;
  bool new_stream, reinstall;  /* first batch of this (agent, epoch); the agent had another epoch */
  int64_t gap_from, gap_to;    /* lost seqs [from, to] when gap_from > 0 (each range reported once) */
  int ngaps;
  int64_t gaps[8][2];
  bool above;                  /* accepted out of order (the caller stores it in seq_above) */
};

struct ph_dedupe;

int ph_dedupe_new(struct ph_dedupe **out);
void ph_dedupe_free(struct ph_dedupe *d);
void ph_dedupe_reset(struct ph_dedupe *d);
/* Start-up: a stream's upto (above=0) or one of its out-of-order seqs (above=1). */
void ph_dedupe_load(void *d, int64_t agent_id, int64_t epoch, int64_t seq, int above);

/* Decides about batch (agent_id, epoch, seq, oldest) and updates the state. */
int ph_dedupe_check(struct ph_dedupe *d, int64_t agent_id, int64_t epoch, int64_t seq, int64_t oldest,
                    struct ph_dedupe_result *res);

/* Iterates streams (for saving and acking after commit). */
size_t ph_dedupe_count(const struct ph_dedupe *d);
struct ph_stream *ph_dedupe_at(struct ph_dedupe *d, size_t i);

#endif
