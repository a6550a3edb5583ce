/* deliver.c — the delivery stage (deliver.h): a bounded mailbox and a
 * thread that publishes alarm messages and hands them to the sinks.
 *
 * Callers: alarms.c's emit (the writer thread) through ph_deliver_emit;
 * the hub at start and shutdown. Threads: posters (any), and the stage's
 * own, the only one that calls conf.publish (the hub passes a function
 * that calls Paho: nothing upstream of this mailbox ever does — queue.h).
 * Owns: the mailbox (a fixed pool of messages linked in FIFO order), the
 * message in hand, the JSON buffers.
 *
 * Mailbox: pool[capacity] entries, a doubly linked FIFO of used ones and a
 * free list; every operation under `mu` is O(1) except the searches for a
 * message of the same alarm (a REFRESH post, or a full mailbox), which are
 * O(capacity) and never wait for anything.
 *
 * Invariants:
 *  1. ph_deliver_post never waits for the stage's thread, for publish or
 *     for a sink: it holds `mu` for a copy and a bounded search only.
 *  2. messages of one alarm are published in the order they were posted
 *     (coalescing keeps the latest state and never reorders an alarm).
 *  3. the message in hand is published before the next is taken; a
 *     failing publish is retried with back-off, never skipped (until stop
 *     and its drain time run out: then it counts as lost).
 */
#include "alarms/deliver.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "parkhub/alloc.h"
#include "parkhub/log.h"
#include "parkhub/timefmt.h"
#include "parkhub/topic.h"

#define MOD "deliver"
#define NIL UINT32_MAX

struct entry {
  struct ph_alarm_msg m;
  uint32_t prev, next;
};

struct ph_deliver {
  struct ph_deliver_conf c;
  pthread_t thread;
  bool started;
  pthread_mutex_t mu;
  pthread_cond_t wake;  /* a message or stop */
  pthread_cond_t idle;  /* mailbox empty and nothing in hand */
  pthread_cond_t sleep; /* back-off; signalled on stop only */
  struct entry *pool;
  uint32_t head, tail, free_head;
  size_t n;
  bool stop, busy;
  int64_t drain_until;
  struct ph_deliver_stats st;
  struct ph_ratelimit rl;
  uint64_t lost_unlogged;
  /* the thread's own */
  struct ph_alarm_msg cur;
  char alert[PH_ALARM_JSON_MAX], state[PH_ALARM_JSON_MAX];
};

/* ---------------------------------------------------------------- list */

static void unlink_entry(struct ph_deliver *d, uint32_t i) {
  struct entry *e = &d->pool[i];
  if (e->prev != NIL) d->pool[e->prev].next = e->next;
  else d->head = e->next;
  if (e->next != NIL) d->pool[e->next].prev = e->prev;
  else d->tail = e->prev;
  e->next = d->free_head;
  e->prev = NIL;
  d->free_head = i;
  d->n--;
}

static void append(struct ph_deliver *d, const struct ph_alarm_msg *m) {
  uint32_t i = d->free_head;
  struct entry *e = &d->pool[i];
  d->free_head = e->next;
  e->m = *m;
  e->prev = d->tail;
  e->next = NIL;
  if (d->tail != NIL) d->pool[d->tail].next = i;
  else d->head = i;
  d->tail = i;
  d->n++;
  if (d->n > d->st.high_water) d->st.high_water = d->n;
}

static bool same_alarm(const struct ph_alarm_msg *a, const struct ph_alarm_msg *b) {
  if (a->kind == PH_AM_REPLY || b->kind == PH_AM_REPLY) return false; /* a reply answers one command: never merged */
  return a->alarm.row == b->alarm.row && strcmp(a->alarm.alarm_id, b->alarm.alarm_id) == 0 &&
         strcmp(a->alarm.park, b->alarm.park) == 0;
}

/* Newest waiting message of m's alarm (kind: -1 any). */
static uint32_t find_last(const struct ph_deliver *d, const struct ph_alarm_msg *m, int kind) {
  for (uint32_t i = d->tail; i != NIL; i = d->pool[i].prev)
    if (same_alarm(&d->pool[i].m, m) && (kind < 0 || (int)d->pool[i].m.kind == kind)) return i;
  return NIL;
}

/* Makes room in a full mailbox for m; returns whether m was already placed. */
static bool make_room(struct ph_deliver *d, const struct ph_alarm_msg *m) {
  uint32_t i = find_last(d, m, -1);
  if (i != NIL) { /* (1) the alarm's latest state replaces its waiting one */
    if (d->pool[i].m.kind == PH_AM_TRANSITION) d->st.coalesced++;
    struct ph_alarm_msg keep = d->pool[i].m;
    d->pool[i].m = *m;
    if (m->kind == PH_AM_REFRESH && keep.kind == PH_AM_TRANSITION) { /* keep the alert, take the newer state */
      d->pool[i].m = keep;
      d->pool[i].m.alarm = m->alarm;
      d->st.coalesced--;
    }
    return true;
  }
  for (i = d->head; i != NIL; i = d->pool[i].next) /* (2) a waiting refresh */
    if (d->pool[i].m.kind == PH_AM_REFRESH) {
      unlink_entry(d, i);
      d->st.refresh_dropped++;
      return false;
    }
  for (i = d->head; i != NIL; i = d->pool[i].next) /* (3) two of one alarm: the older goes */
    for (uint32_t j = d->pool[i].next; j != NIL; j = d->pool[j].next)
      if (same_alarm(&d->pool[i].m, &d->pool[j].m)) {
        unlink_entry(d, i); /* the newer one stays, in its place */
        d->st.coalesced++;
        return false;
      }
  unlink_entry(d, d->head); /* (4) */
  d->st.lost++;
  d->lost_unlogged++;
  return false;
}

int ph_deliver_post(struct ph_deliver *d, const struct ph_alarm_msg *m) {
  bool log = false;
  uint64_t lost = 0, sup = 0;
  pthread_mutex_lock(&d->mu);
  if (d->stop) {
    pthread_mutex_unlock(&d->mu);
    return PH_ECLOSED;
  }
  d->st.posted++;
  bool placed = false;
  /* the alarm's newest waiting message, when a REFRESH, is superseded by
   * this newer one (replaced in place, or dropped for a transition) */
  uint32_t r = find_last(d, m, -1);
  if (r != NIL && d->pool[r].m.kind == PH_AM_REFRESH) {
    if (m->kind == PH_AM_REFRESH) {
      d->pool[r].m = *m;
      placed = true;
    } else {
      unlink_entry(d, r);
    }
  }
  if (!placed && d->n == d->c.capacity) placed = make_room(d, m);
  if (!placed) append(d, m);
  if (d->lost_unlogged && ph_ratelimit_ok(&d->rl, ph_mono_ms(), &sup)) {
    log = true;
    lost = d->st.lost;
    d->lost_unlogged = 0;
  }
  pthread_cond_signal(&d->wake);
  pthread_mutex_unlock(&d->mu);
  if (log)
    PH_ERROR(MOD, "mailbox full (%zu): oldest alarm messages dropped, %llu so far; the retained states catch up "
             "on the alarms' next change", d->c.capacity, (unsigned long long)lost);
  return 0;
}

void ph_deliver_emit(void *ctx, const struct ph_alarm_msg *m) { ph_deliver_post(ctx, m); }

/* -------------------------------------------------------------- thread */

/* Publishes until it succeeds; false when stopping ran out of time. */
static bool publish(struct ph_deliver *d, const char *topic, const void *payload, size_t len, bool retained) {
  int wait = d->c.retry_min_ms;
  for (;;) {
    int rc = d->c.publish(d->c.publish_ctx, topic, payload, len, retained);
    pthread_mutex_lock(&d->mu);
    if (!rc) {
      d->st.published++;
      pthread_mutex_unlock(&d->mu);
      return true;
    }
    d->st.publish_failures++;
    if (d->stop && ph_mono_ms() >= d->drain_until) {
      d->st.lost++;
      pthread_mutex_unlock(&d->mu);
      return false;
    }
    struct timespec t = ph_deadline_ms(CLOCK_REALTIME, wait);
    pthread_cond_timedwait(&d->sleep, &d->mu, &t);
    pthread_mutex_unlock(&d->mu);
    wait = wait * 2 > d->c.retry_max_ms ? d->c.retry_max_ms : wait * 2;
  }
}

static void deliver_one(struct ph_deliver *d) {
  const struct ph_alarm_msg *m = &d->cur;
  for (int i = 0; i < d->c.nsinks; i++)
    if (d->c.sinks[i].post && d->c.sinks[i].post(d->c.sinks[i].ctx, m) == 0) {
      pthread_mutex_lock(&d->mu);
      d->st.sunk++;
      pthread_mutex_unlock(&d->mu);
    }
  if (!d->c.publish) return;
  char topic[PH_TOPIC_MAX];
  if (m->kind == PH_AM_REPLY) { /* alarms.h: PH_ACK_REPLY_TOPIC, not retained */
    int n = ph_ack_reply_json(m, d->alert, sizeof d->alert);
    if (n > 0 && snprintf(topic, sizeof topic, PH_ACK_REPLY_TOPIC, m->alarm.park) < (int)sizeof topic)
      publish(d, topic, d->alert, (size_t)n, false);
    return;
  }
  struct ph_topic t = {.type = PH_TOPIC_ALERTS, .severity = m->alarm.severity};
  snprintf(t.park, sizeof t.park, "%s", m->alarm.park);
  if (m->kind == PH_AM_TRANSITION) {
    int n = ph_alert_json(&m->alarm, m->transition, m->ts_ms, d->alert, sizeof d->alert);
    if (n > 0 && ph_topic_build(&t, topic, sizeof topic) == 0 && !publish(d, topic, d->alert, (size_t)n, false))
      return;
  }
  t.type = PH_TOPIC_ALARMS;
  snprintf(t.alarm_id, sizeof t.alarm_id, "%s", m->alarm.alarm_id);
  int n = m->alarm.state == PH_AS_CLOSED ? 0 : ph_alarm_json(&m->alarm, d->state, sizeof d->state);
  if (n >= 0 && ph_topic_build(&t, topic, sizeof topic) == 0) publish(d, topic, d->state, (size_t)n, true);
}

static void *run(void *arg) {
  struct ph_deliver *d = arg;
  pthread_mutex_lock(&d->mu);
  for (;;) {
    while (!d->n && !d->stop) pthread_cond_wait(&d->wake, &d->mu);
    if (!d->n) break; /* stopping, all sent */
    if (d->stop && ph_mono_ms() >= d->drain_until) {
      d->st.lost += d->n;
      while (d->head != NIL) unlink_entry(d, d->head);
      break;
    }
    d->cur = d->pool[d->head].m;
    unlink_entry(d, d->head);
    d->busy = true;
    pthread_mutex_unlock(&d->mu);
    deliver_one(d); /* no lock held: posts go on (inv. 1) */
    pthread_mutex_lock(&d->mu);
    d->busy = false;
    if (!d->n) pthread_cond_broadcast(&d->idle);
  }
  d->busy = false;
  pthread_cond_broadcast(&d->idle);
  pthread_mutex_unlock(&d->mu);
  return NULL;
}

/* ----------------------------------------------------------- lifecycle */

int ph_deliver_start(const struct ph_deliver_conf *c, struct ph_deliver **out, struct ph_err *err) {
  *out = NULL;
  if (c->nsinks < 0 || c->nsinks > PH_DELIVER_MAX_SINKS) return ph_fail(err, PH_EINVAL, "deliver: bad sink count");
  struct ph_deliver *d = ph_calloc(1, sizeof *d);
  if (!d) return ph_fail(err, PH_ENOMEM, "deliver: out of memory");
  d->c = *c;
  if (!d->c.capacity) d->c.capacity = 1024;
  if (d->c.capacity >= NIL) d->c.capacity = NIL - 1;
  if (d->c.retry_min_ms <= 0) d->c.retry_min_ms = 50;
  if (d->c.retry_max_ms < d->c.retry_min_ms) d->c.retry_max_ms = d->c.retry_min_ms > 2000 ? d->c.retry_min_ms : 2000;
  if (!(d->pool = ph_calloc(d->c.capacity, sizeof *d->pool))) {
    ph_free(d);
    return ph_fail(err, PH_ENOMEM, "deliver: out of memory for %zu messages", c->capacity);
  }
  for (size_t i = 0; i < d->c.capacity; i++) d->pool[i].next = i + 1 < d->c.capacity ? (uint32_t)i + 1 : NIL;
  d->head = d->tail = NIL;
  d->free_head = 0;
  ph_ratelimit_init(&d->rl, 10000);
  pthread_mutex_init(&d->mu, NULL);
  pthread_cond_init(&d->wake, NULL);
  pthread_cond_init(&d->idle, NULL);
  pthread_cond_init(&d->sleep, NULL);
  if (pthread_create(&d->thread, NULL, run, d) != 0) {
    ph_deliver_stop(d, 0);
    return ph_fail(err, PH_ENOMEM, "deliver: cannot start its thread");
  }
  d->started = true;
  *out = d;
  return 0;
}

int ph_deliver_flush(struct ph_deliver *d, int timeout_ms) {
  struct timespec t = ph_deadline_ms(CLOCK_REALTIME, timeout_ms);
  int rc = 0;
  pthread_mutex_lock(&d->mu);
  while ((d->n || d->busy) && rc == 0) rc = pthread_cond_timedwait(&d->idle, &d->mu, &t);
  bool done = !d->n && !d->busy;
  pthread_mutex_unlock(&d->mu);
  return done ? 0 : PH_ETIMEOUT;
}

void ph_deliver_stop(struct ph_deliver *d, int drain_ms) {
  if (!d) return;
  pthread_mutex_lock(&d->mu);
  d->stop = true;
  d->drain_until = ph_mono_ms() + (drain_ms > 0 ? drain_ms : 0);
  pthread_cond_broadcast(&d->wake);
  pthread_mutex_unlock(&d->mu);
  if (d->started) {
    /* wake a back-off sleep once the drain time is over */
    for (;;) {
      pthread_mutex_lock(&d->mu);
      bool over = ph_mono_ms() >= d->drain_until;
      bool done = !d->n && !d->busy;
      if (over) pthread_cond_broadcast(&d->sleep);
      pthread_mutex_unlock(&d->mu);
      if (done || over) break;
      struct timespec ts = {0, 10000000L};
      nanosleep(&ts, NULL);
    }
    pthread_join(d->thread, NULL);
  }
  if (d->st.lost)
    PH_WARN(MOD, "stopped; %llu alarm messages were lost in all (mailbox full, or unpublished at the stop)",
            (unsigned long long)d->st.lost);
  pthread_mutex_destroy(&d->mu);
  pthread_cond_destroy(&d->wake);
  pthread_cond_destroy(&d->idle);
  pthread_cond_destroy(&d->sleep);
  ph_free(d->pool);
  ph_free(d);
}

void ph_deliver_stats(struct ph_deliver *d, struct ph_deliver_stats *st) {
  pthread_mutex_lock(&d->mu);
  *st = d->st;
  st->queued = d->n;
  pthread_mutex_unlock(&d->mu);
}
