/* batcher.c — records → batches → outbox transactions (batcher.h).
 *
 * Callers: sources through the emitters it hands out (ph_emit*), and the
 * agent loop (deadline, flush, full). Threads: the agent's main loop only.
 * Owns: one open struct ph_batch per kind, the latest reported position of
 * each source, and the rate limiter for reject log lines.
 */
#include "publish/batcher.h"

#include <string.h>

#include "parkhub/alloc.h"
#include "parkhub/log.h"
#include "parkhub/timefmt.h"

#define REJECT_BURST 20          /* reject lines logged per window */
#define REJECT_WINDOW_MS 10000
#define MAX_VALUES_PER_BATCH 4000 /* keeps an encoded batch well under PH_BATCH_MAX_BYTES */

struct src_slot {
  struct ph_batcher *owner;
  struct ph_emitter em;
  char name[PH_ID_MAX + 1];
  struct ph_source_pos pos;
  bool pos_dirty;
  struct ph_source_pos committed; /* pos as of the last successful flush (ph_emit_committed) */
};

struct ph_batcher {
  struct ph_batcher_conf conf;
  struct ph_outbox *ob;
  struct ph_batch open[PH_KIND_COUNT];
  int64_t first_mono; /* when the oldest open record arrived; 0: none open */
  struct src_slot src[PH_BATCHER_MAX_SOURCES];
  struct ph_batcher_stats st;
  int64_t reject_window_ms;
  unsigned reject_lines;
  uint64_t reject_suppressed;
};

static size_t open_records(const struct ph_batcher *b) {
  size_t n = 0;
  for (int k = 0; k < PH_KIND_COUNT; k++) n += b->open[k].nrecords;
  return n;
}

static int on_record(void *user, enum ph_kind kind, const struct ph_record *r, const struct ph_value *vals,
                     size_t n, const char *attrs) {
  struct src_slot *s = user;
  struct ph_batcher *b = s->owner;
  struct ph_batch *bt = &b->open[kind];
  if ((int64_t)bt->nrecords >= b->conf.max_records || bt->nvalues + n > MAX_VALUES_PER_BATCH) {
    struct ph_err err = {0};
    int rc = ph_batcher_flush(b, &err);
    if (rc && rc != PH_EFULL) PH_ERROR("batcher", "%s", err.msg);
    if (rc && (int64_t)bt->nrecords >= b->conf.max_records + PH_SOURCE_BUDGET) {
      b->st.rejected++; /* only a source that ignores ph_emit_room gets here */
      PH_ERROR("batcher", "%s: outbox full and the open batch too: record dropped", s->name);
      return PH_EFULL;
    }
  }
  int rc = ph_batch_add_record(bt, r, vals, n, attrs);
  if (rc) {
    PH_ERROR("batcher", "%s: record dropped: %s", s->name, ph_strerror(rc));
    b->st.rejected++;
    return rc;
  }
  b->st.records++;
  if (!b->first_mono) b->first_mono = ph_mono_ms();
  return 0;
}

static void on_reject(void *user, const char *where, const struct ph_err *err) {
  struct src_slot *s = user;
  struct ph_batcher *b = s->owner;
  b->st.rejected++;
  int64_t now = ph_mono_ms();
  if (now - b->reject_window_ms >= REJECT_WINDOW_MS) {
    if (b->reject_suppressed)
      PH_WARN("batcher", "%llu more invalid records were not logged", (unsigned long long)b->reject_suppressed);
    b->reject_window_ms = now;
    b->reject_lines = 0;
    b->reject_suppressed = 0;
  }
  if (b->reject_lines++ < REJECT_BURST)
    PH_WARN(s->name, "invalid record at %s refused (%s): %s", where, ph_errname(err->code), err->msg);
  else
    b->reject_suppressed++;
}

static int open_kinds(const struct ph_batcher *b) {
  int n = 0;
  for (int k = 0; k < PH_KIND_COUNT; k++) n += b->open[k].nrecords > 0;
  return n;
}

/* inv. 2 with policy stop: take records while what is open could still be
 * committed without passing the cap. A record of a kind not open yet may
 * make the open set one batch too many; then the flush waits (PH_EFULL) and
 * the records stay in memory until acks make room: the cap is never passed. */
static bool has_room(const struct ph_batcher *b, size_t n) {
  (void)n;
  int k = open_kinds(b);
  return b->conf.drop_oldest || ph_outbox_depth(b->ob) + (k ? k : 1) <= b->conf.cap;
}

static bool on_room(void *user, size_t n) { return has_room(((struct src_slot *)user)->owner, n); }

static bool on_committed(void *user, struct ph_source_pos *out) {
  struct src_slot *s = user;
  *out = s->committed;
  return s->committed.valid;
}

static void on_position(void *user, const struct ph_source_pos *pos) {
  struct src_slot *s = user;
  s->pos = *pos;
  s->pos_dirty = true;
}

int ph_batcher_new(const struct ph_batcher_conf *conf, struct ph_outbox *ob, struct ph_batcher **out) {
  struct ph_batcher *b = ph_calloc(1, sizeof *b);
  if (!b) return PH_ENOMEM;
  b->conf = *conf;
  b->ob = ob;
  for (int k = 0; k < PH_KIND_COUNT; k++) ph_batch_init(&b->open[k], (enum ph_kind)k);
  *out = b;
  return 0;
}

void ph_batcher_free(struct ph_batcher *b) {
  if (!b) return;
  for (int k = 0; k < PH_KIND_COUNT; k++) ph_batch_fini(&b->open[k]);
  ph_free(b);
}

struct ph_emitter *ph_batcher_emitter(struct ph_batcher *b, int i, const char *name) {
  if (i < 0 || i >= PH_BATCHER_MAX_SOURCES) return NULL;
  struct src_slot *s = &b->src[i];
  s->owner = b;
  snprintf(s->name, sizeof s->name, "%s", name);
  s->em = (struct ph_emitter){
      .record = on_record, .reject = on_reject, .position = on_position, .room = on_room,
      .committed = on_committed, .user = s};
  return &s->em;
}

int64_t ph_batcher_deadline(const struct ph_batcher *b) {
  return b->first_mono ? b->first_mono + b->conf.max_delay_ms : INT64_MAX;
}

bool ph_batcher_full(const struct ph_batcher *b) { return !has_room(b, 1); }

const struct ph_batcher_stats *ph_batcher_stats(const struct ph_batcher *b) { return &b->st; }

/* inv. 2: make room before appending `incoming` batches. */
static int make_room(struct ph_batcher *b, int incoming, struct ph_err *err) {
  int64_t over = ph_outbox_depth(b->ob) + incoming - b->conf.cap;
  if (!b->conf.drop_oldest || over <= 0) return 0;
  int64_t dropped = 0;
  int rc = ph_outbox_drop_oldest(b->ob, over, &dropped, err);
  if (rc) return rc;
  b->st.dropped_batches += (uint64_t)dropped;
  PH_ERROR("outbox", "outbox full (cap %lld batches): dropped the %lld oldest unacknowledged batches, "
           "%llu dropped so far; the hub records the gap as data loss",
           (long long)b->conf.cap, (long long)dropped, (unsigned long long)b->st.dropped_batches);
  return 0;
}

static int append_open(struct ph_batcher *b, int64_t now, struct ph_err *err) {
  for (int k = 0; k < PH_KIND_COUNT; k++) {
    struct ph_batch *bt = &b->open[k];
    if (!bt->nrecords) continue;
    char *body;
    size_t len;
    int64_t seq;
    int rc = ph_batch_encode_records(bt, b->conf.cat, &body, &len);
    if (rc) return ph_fail(err, rc, "batcher: encoding a batch: %s", ph_strerror(rc));
    rc = ph_outbox_append(b->ob, (enum ph_kind)k, body, len, (int)bt->nrecords, now, &seq, err);
    ph_free(body);
    if (rc) return rc;
  }
  for (int i = 0; i < PH_BATCHER_MAX_SOURCES; i++) {
    struct src_slot *s = &b->src[i];
    if (!s->owner || !s->pos_dirty || !s->pos.valid) continue;
    int rc = ph_outbox_set_position(b->ob, s->name, &s->pos, err);
    if (rc) return rc;
  }
  return 0;
}

int ph_batcher_flush(struct ph_batcher *b, struct ph_err *err) {
  bool dirty = false;
  for (int i = 0; i < PH_BATCHER_MAX_SOURCES; i++) dirty |= b->src[i].pos_dirty;
  size_t nrec = open_records(b);
  if (!nrec && !dirty) return 0;
  int nbatches = open_kinds(b);
  if (!b->conf.drop_oldest && ph_outbox_depth(b->ob) + nbatches > b->conf.cap) {
    /* Policy stop: the records wait in memory (their positions unstored, so
     * a restart re-reads them); try again after another max_delay_ms. */
    if (b->first_mono) b->first_mono = ph_mono_ms();
    return PH_EFULL;
  }
  int rc = make_room(b, nbatches, err);
  if (!rc) rc = ph_outbox_begin(b->ob, err);
  if (rc) {
    b->st.flush_errors++;
    return rc;
  }
  if ((rc = append_open(b, ph_now_ms(), err)) || (rc = ph_outbox_commit(b->ob, err))) {
    ph_outbox_rollback(b->ob);
    b->st.flush_errors++;
    return rc; /* inv. 1: records and positions stay open for the next try */
  }
  for (int k = 0; k < PH_KIND_COUNT; k++) ph_batch_reset(&b->open[k], (enum ph_kind)k);
  for (int i = 0; i < PH_BATCHER_MAX_SOURCES; i++) {
    if (b->src[i].pos_dirty && b->src[i].pos.valid) b->src[i].committed = b->src[i].pos;
    b->src[i].pos_dirty = false;
  }
  b->st.batches += (uint64_t)nbatches;
  b->first_mono = 0;
  return 0;
}
