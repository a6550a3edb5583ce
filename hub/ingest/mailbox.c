/* mailbox.c — synchronous requests to one serving thread (mailbox.h).
 *
 * Callers: any thread through ph_mailbox_call; the serving thread (the
 * writer) through take/done. One mutex and one condition variable guard
 * the list and every request's state.
 *
 * Invariants:
 *  1. a request is in the list exactly while its state is QUEUED.
 *  2. ph_mailbox_call returns only when its request is QUEUED-and-withdrawn
 *     or DONE, never while TAKEN: the server cannot touch freed memory.
 */
#include "ingest/mailbox.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "parkhub/timefmt.h"

void ph_mailbox_init(struct ph_mailbox *mb) {
  memset(mb, 0, sizeof *mb);
  pthread_mutex_init(&mb->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&mb->done, &ca);
  pthread_condattr_destroy(&ca);
}

void ph_mailbox_fini(struct ph_mailbox *mb) {
  pthread_cond_destroy(&mb->done);
  pthread_mutex_destroy(&mb->mu);
}

static void unlink_mail(struct ph_mailbox *mb, struct ph_mail *m) {
  struct ph_mail **pp = &mb->head, *prev = NULL;
  while (*pp && *pp != m) {
    prev = *pp;
    pp = &(*pp)->next;
  }
  if (!*pp) return;
  *pp = m->next;
  if (mb->tail == m) mb->tail = prev;
  m->next = NULL;
}


int ph_mailbox_call(struct ph_mailbox *mb, struct ph_mail *m, int timeout_ms, struct ph_err *err) {
  struct timespec until = ph_deadline_ms(CLOCK_MONOTONIC, timeout_ms < 0 ? 0 : timeout_ms);
  m->state = PH_MAIL_QUEUED;
  m->rc = 0;
  m->msg[0] = '\0';
  m->next = NULL;
  pthread_mutex_lock(&mb->mu);
  if (mb->closed) {
    pthread_mutex_unlock(&mb->mu);
    return ph_fail(err, PH_ECLOSED, "the hub is stopping");
  }
  if (mb->tail) mb->tail->next = m;
  else mb->head = m;
  mb->tail = m;
  int timed_out = 0;
  while (m->state != PH_MAIL_DONE) {
    if (m->state == PH_MAIL_QUEUED && mb->closed) {
      unlink_mail(mb, m);
      pthread_mutex_unlock(&mb->mu);
      return ph_fail(err, PH_ECLOSED, "the hub is stopping");
    }
    if (m->state == PH_MAIL_QUEUED && timed_out) {
      unlink_mail(mb, m);
      pthread_mutex_unlock(&mb->mu);
      return ph_fail(err, PH_ETIMEOUT, "the writer did not take the request within %d ms", timeout_ms);
    }
    if (m->state == PH_MAIL_TAKEN) pthread_cond_wait(&mb->done, &mb->mu); /* invariant 2 */
    else if (pthread_cond_timedwait(&mb->done, &mb->mu, &until) == ETIMEDOUT) timed_out = 1;
  }
  pthread_mutex_unlock(&mb->mu);
  if (m->rc && err) ph_fail(err, m->rc, "%s", m->msg[0] ? m->msg : ph_strerror(m->rc));
  return m->rc;
}

struct ph_mail *ph_mailbox_take(struct ph_mailbox *mb) {
  pthread_mutex_lock(&mb->mu);
  struct ph_mail *m = mb->head;
  if (m) {
    mb->head = m->next;
    if (!mb->head) mb->tail = NULL;
    m->next = NULL;
    m->state = PH_MAIL_TAKEN;
  }
  pthread_mutex_unlock(&mb->mu);
  return m;
}

void ph_mailbox_done(struct ph_mailbox *mb, struct ph_mail *m, int rc, const char *msg) {
  pthread_mutex_lock(&mb->mu);
  m->rc = rc;
  snprintf(m->msg, sizeof m->msg, "%s", msg ? msg : "");
  m->state = PH_MAIL_DONE;
  pthread_cond_broadcast(&mb->done);
  pthread_mutex_unlock(&mb->mu);
}

void ph_mailbox_close(struct ph_mailbox *mb) {
  pthread_mutex_lock(&mb->mu);
  mb->closed = true;
  pthread_cond_broadcast(&mb->done);
  pthread_mutex_unlock(&mb->mu);
}
