/* writer_streams.c — the writer's exactly-once side (writer_int.h):
 * the dedupe verdict on each identified batch and what follows it (gaps
 * rows and the data_loss note, the first/new epoch event, refusals ahead
 * of the stream), saving the streams in the group's transaction, and the
 * acks after the commit (writer.h inv. 1).
 *
 * Callers: writer.c. Thread: the writer's.
 */
#include <stdio.h>
#include <string.h>

#include "parkhub/timefmt.h"
#include "parkhub/topic.h"
#include "writer_int.h"

#define MOD "writer"

int ph_writer_reload_dedupe(struct ph_writer *w, struct ph_err *err) {
  ph_dedupe_reset(w->dd);
  return ph_store_load_streams(w->c.store, ph_dedupe_load_row, w->dd, err);
}

/* dedupe.h inv. 5: a stream released from memory comes back from the database. */
int ph_writer_load_stream(void *ctx, struct ph_dedupe *d, int64_t agent_id, int64_t epoch) {
  struct ph_writer *w = ctx;
  return ph_store_load_stream(w->c.store, agent_id, epoch, ph_dedupe_load_row, d);
}

/* Record times of a decoded batch (0, 0 for a refused one: its records are not trusted). */
static void batch_span(const struct ph_item *it, int64_t *min_ms, int64_t *max_ms) {
  *min_ms = *max_ms = 0;
  if (it->type != PH_ITEM_BATCH) return;
  for (size_t i = 0; i < it->batch.nrecords; i++) {
    int64_t ts = it->batch.records[i].ts_ms;
    if (!*min_ms || ts < *min_ms) *min_ms = ts;
    if (ts > *max_ms) *max_ms = ts;
  }
}

/* The lost seqs as gaps rows, and a note for the log and the alarm (data_loss.h). */
static int record_gaps(struct ph_writer *w, const struct ph_item *it, int64_t agent_id, const struct ph_dedupe_result *r,
                       int64_t min_ms, int64_t now) {
  const struct ph_batch *b = &it->batch;
  struct ph_store_gap_row g = {.agent_id = agent_id, .epoch = b->epoch, .detected_ms = now,
                               .from_ms = r->data_ms_before, .to_ms = min_ms};
  for (int k = 0; k < r->ngaps; k++) {
    g.from_seq = r->gaps[k][0];
    g.to_seq = r->gaps[k][1];
    int rc = ph_store_gap(w->c.store, &g);
    if (rc) return rc;
    w->st.gaps++;
  }
  struct ph_data_loss_note n = {.park_idx = it->park_idx, .ent_idx = it->ent_idx, .epoch = b->epoch,
                                .first_seq = r->gaps[0][0], .last_seq = r->gaps[r->ngaps - 1][1], .lost = r->lost,
                                .from_ms = r->data_ms_before, .to_ms = min_ms};
  snprintf(n.agent, sizeof n.agent, "%s", it->topic.agent);
  ph_data_loss_note(&w->loss, w->c.refs->cfg, &n);
  return ph_store_above_trim(w->c.store, agent_id, b->epoch, r->stream->upto);
}

/* The agent_events row of a stream's first batch; a new epoch after another is logged (rate limited). */
static int note_new_stream(struct ph_writer *w, const struct ph_item *it, int64_t agent_id, bool reinstall,
                           int64_t now) {
  char detail[96];
  int64_t epoch = it->batch.epoch;
  snprintf(detail, sizeof detail, "epoch %lld", (long long)epoch);
  uint64_t sup = 0;
  if (reinstall && ph_ratelimit_ok(&w->epoch_rl, ph_mono_ms(), &sup)) {
    char more[96] = "";
    if (sup) snprintf(more, sizeof more, " (and %llu more new epochs since the last line)", (unsigned long long)sup);
    PH_WARN(MOD, "%s/%s/%s starts a new epoch %lld: its outbox was re-created (reinstall or wipe)%s", it->topic.park,
            it->topic.ent, it->topic.agent, (long long)epoch, more);
  }
  return ph_store_event(w->c.store, agent_id, now, reinstall ? "new_epoch" : "first_epoch", detail);
}

/* dedupe.h inv. 4: why the batch is refused, into it's reason (it is
 * stored as a reject row with PH_ESEQAHEAD and logged, rate limited). */
static void explain_ahead(struct ph_writer *w, struct ph_item *it, const struct ph_dedupe_result *r, int64_t bound) {
  const struct ph_batch *b = &it->batch;
  snprintf(it->reason, sizeof it->reason,
           "epoch %lld seq %lld (oldest %lld): further ahead of the hub's stream (upto %lld) than the agent's outbox "
           "holds (parks[].enterprises[].max_seq_ahead %lld); not stored, the ack stays at %lld",
           (long long)b->epoch, (long long)b->seq, (long long)b->oldest, (long long)r->upto_before, (long long)bound,
           (long long)r->upto_before);
  uint64_t sup = 0;
  if (ph_ratelimit_ok(&w->ahead_rl, ph_mono_ms(), &sup))
    PH_WARN(MOD, "refused %s (PH_ESEQAHEAD): %s%s", it->topic_raw, it->reason,
            sup ? " (more since the last line: see parkhub_refused_total)" : "");
}

/* Dedupe for an identified batch (stored or refused); *verdict says what to do with it. */
int ph_writer_dedupe(struct ph_writer *w, struct ph_item *it, int64_t agent_id, enum ph_dedupe_verdict *verdict) {
  const struct ph_batch *b = &it->batch;
  int64_t bound = w->c.refs->cfg->parks[it->park_idx].ents[it->ent_idx].max_seq_ahead;
  struct ph_dedupe_result r;
  int rc = ph_dedupe_check(w->dd, agent_id, b->epoch, b->seq, b->oldest, bound, &r);
  if (rc) return rc;
  *verdict = r.verdict;
  if (r.verdict == PH_DEDUPE_AHEAD) {
    w->st.refused_ahead++;
    if (it->type == PH_ITEM_BATCH) explain_ahead(w, it, &r, bound); /* a refused batch keeps its own reason */
    return 0;
  }
  if (!r.stream->ack_topic[0])
    ph_topic_agent(r.stream->ack_topic, sizeof r.stream->ack_topic, PH_TOPIC_ACK, it->topic.park, it->topic.ent,
                   it->topic.agent, PH_KIND_PROCESS);
  int64_t now = ph_now_ms(), min_ms, max_ms;
  batch_span(it, &min_ms, &max_ms);
  if (r.ngaps && (rc = record_gaps(w, it, agent_id, &r, min_ms, now))) return rc;
  if (r.new_stream && (rc = note_new_stream(w, it, agent_id, r.reinstall, now))) return rc;
  if (r.above && (rc = ph_store_above_add(w->c.store, agent_id, b->epoch, b->seq))) return rc;
  if (r.verdict == PH_DEDUPE_NEW && max_ms > r.stream->data_ms) r.stream->data_ms = max_ms;
  if (r.verdict == PH_DEDUPE_DUP) w->st.duplicates++;
  if (r.verdict == PH_DEDUPE_DEFER) w->st.deferred++;
  return 0;
}

int ph_writer_save_streams(struct ph_writer *w) {
  int64_t now = ph_now_ms();
  for (size_t i = 0; i < ph_dedupe_count(w->dd); i++) {
    struct ph_stream *s = ph_dedupe_at(w->dd, i);
    if (!s->dirty) continue;
    int rc = ph_store_stream_save(w->c.store, s->agent_id, s->epoch, s->upto, now, s->batches, s->duplicates,
                                  s->data_ms);
    if (!rc) rc = ph_store_above_trim(w->c.store, s->agent_id, s->epoch, s->upto);
    if (rc) return rc;
  }
  return 0;
}

void ph_writer_mark_saved(struct ph_writer *w) {
  for (size_t i = 0; i < ph_dedupe_count(w->dd); i++) {
    struct ph_stream *s = ph_dedupe_at(w->dd, i);
    if (s->dirty) s->dirty = false, s->batches = s->duplicates = 0;
  }
}

void ph_writer_send_acks(struct ph_writer *w) {
  uint64_t pending = 0;
  for (size_t i = 0; i < ph_dedupe_count(w->dd); i++) {
    struct ph_stream *s = ph_dedupe_at(w->dd, i);
    if (!s->ack_pending || s->dirty) continue; /* inv. 1: dirty means not committed yet */
    if (!w->c.acks.post) {
      s->ack_pending = false;
      continue;
    }
    if (w->c.acks.post(w->c.acks.ctx, s->ack_topic, s->epoch, s->upto) == 0) {
      s->ack_pending = false;
      w->st.acks_sent++;
    } else {
      pending++;
    }
  }
  w->st.acks_pending = pending;
  /* dedupe.h inv. 5: what is acked and saved of an agent's older epochs leaves memory. */
  if (ph_dedupe_count(w->dd) > 0) ph_dedupe_trim(w->dd);
  w->st.streams = ph_dedupe_count(w->dd);
  w->st.streams_released = ph_dedupe_released(w->dd);
}
