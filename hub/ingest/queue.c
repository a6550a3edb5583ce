/* queue.c — bounded item pool + one FIFO per stage (queue.h).
 * Threads: Paho's callback (acquire, push RAW), the decoder (pop RAW, push
 * DECODED), the writer (pop DECODED, release); one mutex. */
#include "ingest/queue.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "parkhub/alloc.h"
#include "parkhub/timefmt.h"

/* A batch array grown past this many values by one huge batch is given back
 * when the item returns, so rare big batches do not pin memory in every item. */
#define TRIM_VALUES 8192
#define TRIM_RAW (64 * 1024)

struct fifo {
  struct ph_item **slot;
  size_t head, len;
  pthread_cond_t not_empty;
};

struct ph_queue {
  pthread_mutex_t mu;
  pthread_cond_t has_free;
  struct ph_item *items;
  struct ph_item **free_list;
  struct fifo f[PH_STAGES];
  size_t cap, nfree;
  bool closed;
  struct ph_queue_stats st;
};

int ph_queue_new(size_t capacity, struct ph_queue **out) {
  struct ph_queue *q = ph_calloc(1, sizeof *q);
  if (!q) return PH_ENOMEM;
  q->cap = capacity;
  q->items = ph_calloc(capacity, sizeof *q->items);
  q->free_list = ph_calloc(capacity, sizeof *q->free_list);
  for (int s = 0; s < PH_STAGES; s++) q->f[s].slot = ph_calloc(capacity, sizeof *q->f[s].slot);
  if (!q->items || !q->free_list || !q->f[0].slot || !q->f[1].slot) {
    ph_free(q->items);
    ph_free(q->free_list);
    for (int s = 0; s < PH_STAGES; s++) ph_free(q->f[s].slot);
    ph_free(q);
    return PH_ENOMEM;
  }
  for (size_t i = 0; i < capacity; i++) {
    ph_batch_init(&q->items[i].batch, PH_KIND_EMISSION);
    q->free_list[q->nfree++] = &q->items[i];
  }
  pthread_mutex_init(&q->mu, NULL);
  for (int s = 0; s < PH_STAGES; s++) pthread_cond_init(&q->f[s].not_empty, NULL);
  pthread_cond_init(&q->has_free, NULL);
  q->st.capacity = capacity;
  *out = q;
  return 0;
}

void ph_queue_free(struct ph_queue *q) {
  if (!q) return;
  for (size_t i = 0; i < q->cap; i++) {
    ph_batch_fini(&q->items[i].batch);
    ph_free(q->items[i].raw);
  }
  pthread_mutex_destroy(&q->mu);
  for (int s = 0; s < PH_STAGES; s++) {
    pthread_cond_destroy(&q->f[s].not_empty);
    ph_free(q->f[s].slot);
  }
  pthread_cond_destroy(&q->has_free);
  ph_free(q->items);
  ph_free(q->free_list);
  ph_free(q);
}

struct ph_item *ph_queue_acquire(struct ph_queue *q) {
  pthread_mutex_lock(&q->mu);
  if (!q->nfree && !q->closed) q->st.waits++;
  while (!q->nfree && !q->closed) pthread_cond_wait(&q->has_free, &q->mu);
  struct ph_item *it = q->closed ? NULL : q->free_list[--q->nfree];
  pthread_mutex_unlock(&q->mu);
  return it;
}

int ph_item_set_raw(struct ph_item *it, const void *payload, size_t len) {
  if (len + 1 > it->raw_cap) {
    size_t n = it->raw_cap ? it->raw_cap : 4096;
    while (n < len + 1) n *= 2;
    char *p = ph_realloc(it->raw, n);
    if (!p) return PH_ENOMEM;
    it->raw = p;
    it->raw_cap = n;
  }
  memcpy(it->raw, payload, len);
  it->raw[len] = '\0';
  it->raw_len = len;
  return 0;
}

void ph_queue_push_many(struct ph_queue *q, enum ph_stage stage, struct ph_item *const *items, size_t n) {
  struct fifo *f = &q->f[stage];
  if (!n) return;
  pthread_mutex_lock(&q->mu);
  for (size_t i = 0; i < n; i++) f->slot[(f->head + f->len++) % q->cap] = items[i];
  if (stage == PH_STAGE_RAW) q->st.pushed += n;
  pthread_cond_signal(&f->not_empty); /* one consumer per stage (the decoder, the writer) */
  pthread_mutex_unlock(&q->mu);
}

void ph_queue_push(struct ph_queue *q, enum ph_stage stage, struct ph_item *it) { ph_queue_push_many(q, stage, &it, 1); }

size_t ph_queue_pop(struct ph_queue *q, enum ph_stage stage, struct ph_item **out, size_t max, int timeout_ms) {
  struct fifo *f = &q->f[stage];
  struct timespec until = ph_deadline_ms(CLOCK_REALTIME, timeout_ms);
  pthread_mutex_lock(&q->mu);
  while (!f->len && timeout_ms > 0 && !(q->closed && stage == PH_STAGE_RAW))
    if (pthread_cond_timedwait(&f->not_empty, &q->mu, &until) != 0) break;
  size_t n = 0;
  while (f->len && n < max) {
    out[n++] = f->slot[f->head];
    f->head = (f->head + 1) % q->cap;
    f->len--;
  }
  pthread_mutex_unlock(&q->mu);
  return n;
}

static void trim(struct ph_item *it) {
  if (it->batch.values_cap > TRIM_VALUES) {
    ph_batch_fini(&it->batch);
    ph_batch_init(&it->batch, PH_KIND_EMISSION);
  }
  if (it->raw_cap > TRIM_RAW) {
    ph_free(it->raw);
    it->raw = NULL;
    it->raw_cap = 0;
  }
}

void ph_queue_release_many(struct ph_queue *q, struct ph_item *const *items, size_t n) {
  for (size_t i = 0; i < n; i++) trim(items[i]);
  pthread_mutex_lock(&q->mu);
  for (size_t i = 0; i < n; i++) q->free_list[q->nfree++] = items[i];
  pthread_cond_broadcast(&q->has_free); /* n items: every waiting producer (one per broker connection) */
  pthread_mutex_unlock(&q->mu);
}

void ph_queue_release(struct ph_queue *q, struct ph_item *it) { ph_queue_release_many(q, &it, 1); }

void ph_queue_close(struct ph_queue *q) {
  pthread_mutex_lock(&q->mu);
  q->closed = true;
  pthread_cond_broadcast(&q->has_free);
  for (int s = 0; s < PH_STAGES; s++) pthread_cond_broadcast(&q->f[s].not_empty);
  pthread_mutex_unlock(&q->mu);
}

void ph_queue_stats(struct ph_queue *q, struct ph_queue_stats *st) {
  pthread_mutex_lock(&q->mu);
  *st = q->st;
  st->stage_depth[PH_STAGE_RAW] = q->f[PH_STAGE_RAW].len;
  st->stage_depth[PH_STAGE_DECODED] = q->f[PH_STAGE_DECODED].len;
  st->depth = q->cap - q->nfree;
  pthread_mutex_unlock(&q->mu);
}
