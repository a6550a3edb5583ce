/* test_hub_queue.c — the hand-over between the hub's stages (ingest/
 * queue.h) alone, without a broker: FIFO order per stage, the fixed pool's
 * back-pressure (acquire waits while every item is in use and proceeds when
 * one is released), close waking producers and the decoder, the stats.
 * Issue #17 item 5.
 *
 * Threads: a helper thread plays the blocked producer or consumer; the test
 * waits for it with a bounded poll (never an unbounded join on something
 * that may hang) and the suite has a Criterion timeout. No assertion is
 * about how long anything took.
 */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest/queue.h"

#define WAIT_MS 5000 /* bound of every wait for another thread */

static struct ph_queue *q;

static void teardown(void) { ph_queue_free(q); }
TestSuite(hub_queue, .fini = teardown, .timeout = 30);

static void make(size_t capacity) { cr_assert_eq(ph_queue_new(capacity, &q), 0); }

/* Polls f until it is set, at most WAIT_MS; returns its value. */
static bool wait_flag(atomic_bool *f) {
  for (int i = 0; i < WAIT_MS && !atomic_load(f); i++) usleep(1000);
  return atomic_load(f);
}

/* Polls the queue's stats until the producers' waits reach n, at most WAIT_MS. */
static bool wait_waits(uint64_t n) {
  struct ph_queue_stats st;
  for (int i = 0; i < WAIT_MS; i++) {
    ph_queue_stats(q, &st);
    if (st.waits >= n) return true;
    usleep(1000);
  }
  return false;
}

/* An acquired item tagged with k (recv_ms), to check the order it comes out in. */
static struct ph_item *tagged(int64_t k) {
  struct ph_item *it = ph_queue_acquire(q);
  cr_assert_not_null(it);
  it->recv_ms = k;
  return it;
}

Test(hub_queue, each_stage_is_fifo_and_independent) {
  make(8);
  struct ph_item *it[6];
  for (int i = 0; i < 6; i++) it[i] = tagged(i);
  ph_queue_push(q, PH_STAGE_RAW, it[0]);
  ph_queue_push(q, PH_STAGE_DECODED, it[3]);
  ph_queue_push(q, PH_STAGE_RAW, it[1]);
  ph_queue_push_many(q, PH_STAGE_DECODED, (struct ph_item *const[]){it[4], it[5]}, 2);
  ph_queue_push(q, PH_STAGE_RAW, it[2]);

  struct ph_item *out[8];
  cr_assert_eq(ph_queue_pop(q, PH_STAGE_DECODED, out, 8, 0), 3, "the decoded stage holds only its own");
  for (int i = 0; i < 3; i++) cr_assert_eq(out[i]->recv_ms, 3 + i, "decoded item %d out of order", i);
  cr_assert_eq(ph_queue_pop(q, PH_STAGE_RAW, out, 2, 0), 2, "pop takes at most max");
  cr_assert_eq(out[0]->recv_ms, 0);
  cr_assert_eq(out[1]->recv_ms, 1);
  cr_assert_eq(ph_queue_pop(q, PH_STAGE_RAW, out, 8, 0), 1);
  cr_assert_eq(out[0]->recv_ms, 2);
  cr_assert_eq(ph_queue_pop(q, PH_STAGE_RAW, out, 8, 0), 0, "empty: nothing, without waiting (timeout 0)");
  ph_queue_release_many(q, it, 6);
}

/* The ring of each stage wraps around its capacity many times in order. */
Test(hub_queue, order_survives_wrapping_the_ring) {
  make(3);
  int64_t next_in = 0, next_out = 0;
  for (int round = 0; round < 20; round++) {
    struct ph_item *in[2] = {tagged(next_in), tagged(next_in + 1)};
    next_in += 2;
    ph_queue_push_many(q, PH_STAGE_RAW, in, 2);
    struct ph_item *out[3];
    size_t n = ph_queue_pop(q, PH_STAGE_RAW, out, 3, 0);
    cr_assert_eq(n, 2);
    for (size_t i = 0; i < n; i++) cr_assert_eq(out[i]->recv_ms, next_out++, "round %d", round);
    ph_queue_push_many(q, PH_STAGE_DECODED, out, n); /* the decoder hands on the whole group */
    n = ph_queue_pop(q, PH_STAGE_DECODED, out, 3, 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(out[0]->recv_ms, next_out - 2);
    cr_assert_eq(out[1]->recv_ms, next_out - 1);
    ph_queue_release_many(q, out, n);
  }
}

struct producer {
  pthread_t t;
  atomic_bool done;
  struct ph_item *got;
};

static void *acquire_one(void *arg) {
  struct producer *p = arg;
  p->got = ph_queue_acquire(q);
  atomic_store(&p->done, true);
  return NULL;
}

static void start_producer(struct producer *p) {
  memset(p, 0, sizeof *p);
  cr_assert_eq(pthread_create(&p->t, NULL, acquire_one, p), 0);
}

Test(hub_queue, acquire_waits_for_a_free_item_and_gets_the_released_one) {
  make(2);
  struct ph_item *a = tagged(1), *b = tagged(2);
  struct ph_queue_stats st;
  ph_queue_stats(q, &st);
  cr_assert_eq(st.depth, 2);
  cr_assert_eq(st.capacity, 2);
  cr_assert_eq(st.waits, 0);

  struct producer p;
  start_producer(&p);
  cr_assert(wait_waits(1), "the producer never found the pool empty");
  cr_assert_not(atomic_load(&p.done), "acquire returned while every item was in use");

  ph_queue_release(q, b);
  cr_assert(wait_flag(&p.done), "the producer did not proceed after a release");
  pthread_join(p.t, NULL);
  cr_assert_eq(p.got, b, "the waiting producer gets the item that was released");
  ph_queue_stats(q, &st);
  cr_assert_eq(st.depth, 2);
  cr_assert_eq(st.waits, 1);
  ph_queue_release_many(q, (struct ph_item *const[]){a, p.got}, 2);
  ph_queue_stats(q, &st);
  cr_assert_eq(st.depth, 0);
}

Test(hub_queue, close_wakes_a_waiting_producer_with_null) {
  make(1);
  struct ph_item *a = tagged(1);
  struct producer p;
  start_producer(&p);
  cr_assert(wait_waits(1));
  cr_assert_not(atomic_load(&p.done));
  ph_queue_close(q);
  cr_assert(wait_flag(&p.done), "close did not wake the producer");
  pthread_join(p.t, NULL);
  cr_assert_null(p.got);
  ph_queue_release(q, a);
  cr_assert_null(ph_queue_acquire(q), "after close acquire never hands out an item, even a free one");
}

struct consumer {
  pthread_t t;
  enum ph_stage stage;
  atomic_bool done;
  size_t n;
};

static void *pop_long(void *arg) {
  struct consumer *c = arg;
  struct ph_item *out[4];
  c->n = ph_queue_pop(q, c->stage, out, 4, 60000); /* far longer than the suite's timeout */
  atomic_store(&c->done, true);
  return NULL;
}

/* The decoder's loop ends on close: a pop of the raw stage waiting on an
 * empty queue returns 0 at once instead of waiting out its timeout. */
Test(hub_queue, close_wakes_the_raw_consumer_and_empty_pop_returns_nothing) {
  make(2);
  struct consumer c = {.stage = PH_STAGE_RAW};
  cr_assert_eq(pthread_create(&c.t, NULL, pop_long, &c), 0);
  usleep(20000); /* most likely waiting by now; if not, it finds the queue closed: the same outcome */
  cr_assert_not(atomic_load(&c.done), "pop returned from an empty, open queue before its timeout");
  ph_queue_close(q);
  cr_assert(wait_flag(&c.done), "close did not wake the raw consumer");
  pthread_join(c.t, NULL);
  cr_assert_eq(c.n, 0);
  struct ph_item *out[1];
  cr_assert_eq(ph_queue_pop(q, PH_STAGE_RAW, out, 1, 60000), 0, "closed and empty: nothing");
}

Test(hub_queue, pop_still_returns_what_was_queued_before_close) {
  make(4);
  struct ph_item *a = tagged(1), *b = tagged(2);
  ph_queue_push(q, PH_STAGE_RAW, a);
  ph_queue_push(q, PH_STAGE_DECODED, b);
  ph_queue_close(q);
  struct ph_item *out[4];
  cr_assert_eq(ph_queue_pop(q, PH_STAGE_RAW, out, 4, 1000), 1, "the decoder drains the raw stage after close");
  cr_assert_eq(out[0], a);
  cr_assert_eq(ph_queue_pop(q, PH_STAGE_DECODED, out, 4, 1000), 1, "the writer drains the decoded stage");
  cr_assert_eq(out[0], b);
  ph_queue_release_many(q, (struct ph_item *const[]){a, b}, 2);
}

Test(hub_queue, a_consumer_wakes_on_push) {
  make(2);
  struct consumer c = {.stage = PH_STAGE_DECODED};
  cr_assert_eq(pthread_create(&c.t, NULL, pop_long, &c), 0);
  struct ph_item *a = tagged(7);
  ph_queue_push(q, PH_STAGE_DECODED, a);
  cr_assert(wait_flag(&c.done), "a push did not wake the consumer");
  pthread_join(c.t, NULL);
  cr_assert_eq(c.n, 1);
  ph_queue_release(q, a);
}

Test(hub_queue, stats_count_raw_pushes_and_depth_per_stage) {
  make(4);
  struct ph_item *a = tagged(1), *b = tagged(2), *c = tagged(3);
  ph_queue_push_many(q, PH_STAGE_RAW, (struct ph_item *const[]){a, b}, 2);
  ph_queue_push(q, PH_STAGE_DECODED, c); /* the decoder's hand-on is not a new message */
  struct ph_queue_stats st;
  ph_queue_stats(q, &st);
  cr_assert_eq(st.pushed, 2);
  cr_assert_eq(st.stage_depth[PH_STAGE_RAW], 2);
  cr_assert_eq(st.stage_depth[PH_STAGE_DECODED], 1);
  cr_assert_eq(st.depth, 3, "depth counts items in use, in either stage");
  struct ph_item *out[4];
  cr_assert_eq(ph_queue_pop(q, PH_STAGE_RAW, out, 4, 0), 2);
  ph_queue_stats(q, &st);
  cr_assert_eq(st.stage_depth[PH_STAGE_RAW], 0);
  cr_assert_eq(st.depth, 3, "popped but not released: still in use");
  ph_queue_release_many(q, out, 2);
  ph_queue_release(q, c);
  ph_queue_stats(q, &st);
  cr_assert_eq(st.depth, 0);
}

Test(hub_queue, set_raw_copies_grows_and_a_huge_payload_is_given_back_on_release) {
  make(1);
  struct ph_item *it = ph_queue_acquire(q);
  cr_assert_eq(ph_item_set_raw(it, "abc", 3), 0);
  cr_assert_eq(it->raw_len, 3);
  cr_assert_str_eq(it->raw, "abc", "NUL-terminated for the decoders");
  size_t big = 100 * 1024;
  char *payload = malloc(big);
  cr_assert_not_null(payload);
  memset(payload, 'x', big);
  cr_assert_eq(ph_item_set_raw(it, payload, big), 0);
  cr_assert_eq(it->raw_len, big);
  cr_assert_geq(it->raw_cap, big + 1);
  cr_assert_eq(memcmp(it->raw, payload, big), 0);
  cr_assert_eq(it->raw[big], '\0');
  free(payload);
  ph_queue_release(q, it);
  it = ph_queue_acquire(q); /* the only item: the same one */
  cr_assert_null(it->raw, "a rare huge payload does not pin memory in a pooled item");
  cr_assert_eq(it->raw_cap, 0);
  cr_assert_eq(ph_item_set_raw(it, "de", 2), 0);
  cr_assert_str_eq(it->raw, "de");
  ph_queue_release(q, it);
}
