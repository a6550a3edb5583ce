/* queue.c — bounded item pool + FIFO between ingest and writer (queue.h).
 * Threads: any number of producers (Paho's callback thread), one consumer
 * (the writer); one mutex, two condition variables. */
#include "parkhub/queue.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "parkhub/alloc.h"

/* A batch array grown past this many values by one huge batch is given back
 * when the item returns, so rare big batches do not pin memory in every item. */
#define TRIM_VALUES 8192

struct ph_queue {
  pthread_mutex_t mu;
  pthread_cond_t not_empty, has_free;
  struct ph_item *items;
  struct ph_item **free_list, **fifo;
  size_t cap, nfree, head, len;
  bool closed;
  struct ph_queue_stats st;
};

int ph_queue_new(size_t capacity, struct ph_queue **out) {
  struct ph_queue *q = ph_calloc(1, sizeof *q);
  if (!q) return PH_ENOMEM;
  q->cap = capacity;
  q->items = ph_calloc(capacity, sizeof *q->items);
  q->free_list = ph_calloc(capacity, sizeof *q->free_list);
  q->fifo = ph_calloc(capacity, sizeof *q->fifo);
  if (!q->items || !q->free_list || !q->fifo) {
    ph_free(q->items);
    ph_free(q->free_list);
    ph_free(q->fifo);
    ph_free(q);
    return PH_ENOMEM;
  }
  for (size_t i = 0; i < capacity; i++) {
    ph_batch_init(&q->items[i].batch, PH_KIND_EMISSION);
    q->free_list[q->nfree++] = &q->items[i];
  }
  pthread_mutex_init(&q->mu, NULL);
  pthread_cond_init(&q->not_empty, NULL);
  pthread_cond_init(&q->has_free, NULL);
  q->st.capacity = capacity;
  *out = q;
  return 0;
}

void ph_queue_free(struct ph_queue *q) {
  if (!q) return;
  for (size_t i = 0; i < q->cap; i++) ph_batch_fini(&q->items[i].batch);
  pthread_mutex_destroy(&q->mu);
  pthread_cond_destroy(&q->not_empty);
  pthread_cond_destroy(&q->has_free);
  ph_free(q->items);
  ph_free(q->free_list);
  ph_free(q->fifo);
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

void ph_queue_push(struct ph_queue *q, struct ph_item *it) {
  pthread_mutex_lock(&q->mu);
  q->fifo[(q->head + q->len) % q->cap] = it;
  q->len++;
  q->st.pushed++;
  pthread_cond_signal(&q->not_empty);
  pthread_mutex_unlock(&q->mu);
}

size_t ph_queue_pop(struct ph_queue *q, struct ph_item **out, size_t max, int timeout_ms) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += timeout_ms / 1000;
  until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&q->mu);
  while (!q->len && timeout_ms > 0)
    if (pthread_cond_timedwait(&q->not_empty, &q->mu, &until) != 0) break;
  size_t n = 0;
  while (q->len && n < max) {
    out[n++] = q->fifo[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
  }
  pthread_mutex_unlock(&q->mu);
  return n;
}

void ph_queue_release(struct ph_queue *q, struct ph_item *it) {
  if (it->batch.values_cap > TRIM_VALUES) {
    ph_batch_fini(&it->batch);
    ph_batch_init(&it->batch, PH_KIND_EMISSION);
  }
  pthread_mutex_lock(&q->mu);
  q->free_list[q->nfree++] = it;
  pthread_cond_signal(&q->has_free);
  pthread_mutex_unlock(&q->mu);
}

void ph_queue_close(struct ph_queue *q) {
  pthread_mutex_lock(&q->mu);
  q->closed = true;
  pthread_cond_broadcast(&q->has_free);
  pthread_cond_broadcast(&q->not_empty);
  pthread_mutex_unlock(&q->mu);
}

void ph_queue_stats(struct ph_queue *q, struct ph_queue_stats *st) {
  pthread_mutex_lock(&q->mu);
  *st = q->st;
  st->depth = q->len;
  pthread_mutex_unlock(&q->mu);
}
