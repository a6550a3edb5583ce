/* outbox.h — the agent's durable store-and-forward queue (SQLite, WAL,
 * synchronous=FULL so a committed batch survives a power cut).
 *
 * Owns: the outbox's epoch (set once when the file is created), the next
 * seq, the batches not yet covered by a hub ack (their records array as
 * JSON text), and each source's read position.
 *
 * Invariants:
 *  1. seq is strictly increasing and never reused: next_seq is stored in the
 *     same transaction as the batch that used it.
 *  2. a batch and the source positions after its records commit together,
 *     so after a crash a source re-reads exactly what no batch holds.
 *  3. a batch leaves only through ph_outbox_ack (the hub has it) or
 *     ph_outbox_drop_oldest (the cap policy; counted and declared to the
 *     hub through `oldest`).
 * One thread uses an outbox at a time.
 */
#ifndef PARKHUB_OUTBOX_H
#define PARKHUB_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "parkhub/err.h"
#include "parkhub/kind.h"
#include "sources/source.h"

struct ph_outbox;

struct ph_outbox_item {
  int64_t seq;
  enum ph_kind kind;
  int64_t created_ms;
  int nrecords;
  const char *body; /* records array JSON; valid until the next outbox call */
  size_t len;
};

/* Opens or creates the outbox at path. Returns new (ph_outbox_close). */
int ph_outbox_open(const char *path, struct ph_outbox **out, struct ph_err *err);
void ph_outbox_close(struct ph_outbox *ob);

int64_t ph_outbox_epoch(const struct ph_outbox *ob);
int64_t ph_outbox_next_seq(const struct ph_outbox *ob);
int64_t ph_outbox_depth(const struct ph_outbox *ob);   /* batches held */
int64_t ph_outbox_oldest(const struct ph_outbox *ob);  /* lowest seq held; next_seq when empty */
int64_t ph_outbox_last_acked(const struct ph_outbox *ob);
int64_t ph_outbox_bytes(const struct ph_outbox *ob);   /* body bytes held */

/* One transaction: begin, append batches and positions, commit. */
int ph_outbox_begin(struct ph_outbox *ob, struct ph_err *err);
int ph_outbox_append(struct ph_outbox *ob, enum ph_kind kind, const char *body, size_t len, int nrecords,
                     int64_t created_ms, int64_t *seq_out, struct ph_err *err);
int ph_outbox_set_position(struct ph_outbox *ob, const char *source, const struct ph_source_pos *pos,
                           struct ph_err *err);
int ph_outbox_commit(struct ph_outbox *ob, struct ph_err *err);
void ph_outbox_rollback(struct ph_outbox *ob);

/* pos->valid = 0 when the source has no stored position. */
int ph_outbox_get_position(struct ph_outbox *ob, const char *source, struct ph_source_pos *pos, struct ph_err *err);

/* The first batch with seq >= from; PH_ENOTFOUND when none. */
int ph_outbox_next(struct ph_outbox *ob, int64_t from, struct ph_outbox_item *item, struct ph_err *err);

/* The hub holds every batch with seq <= upto: delete them. */
int ph_outbox_ack(struct ph_outbox *ob, int64_t upto, int64_t *removed, struct ph_err *err);
/* Cap policy drop_oldest: delete the n oldest batches. */
int ph_outbox_drop_oldest(struct ph_outbox *ob, int64_t n, int64_t *dropped, struct ph_err *err);

#endif
