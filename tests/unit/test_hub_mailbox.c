/* test_hub_mailbox.c — synchronous requests to one serving thread
 * (ingest/mailbox.h) alone: the server takes the oldest request first, the
 * caller gets the server's answer, a request not taken in time is withdrawn
 * (PH_ETIMEOUT, nothing done), a taken one is waited for past its timeout
 * (mailbox.c inv. 2), and close refuses queued and later calls with
 * PH_ECLOSED. Issue #17 item 5.
 *
 * Threads: callers run on helper threads; the test is the server. Every
 * wait for another thread is a bounded poll and the suite has a Criterion
 * timeout. No assertion is about how long anything took.
 */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "ingest/mailbox.h"

#define WAIT_MS 5000

static struct ph_mailbox mb;

static void setup(void) { ph_mailbox_init(&mb); }
static void teardown(void) { ph_mailbox_fini(&mb); }
TestSuite(hub_mailbox, .init = setup, .fini = teardown, .timeout = 30);

struct caller {
  pthread_t t;
  struct ph_mail m;
  int timeout_ms;
  int rc;
  struct ph_err err;
  atomic_bool done;
};

static void *call(void *arg) {
  struct caller *c = arg;
  c->rc = ph_mailbox_call(&mb, &c->m, c->timeout_ms, &c->err);
  atomic_store(&c->done, true);
  return NULL;
}

static void start(struct caller *c, int kind, int timeout_ms) {
  memset(c, 0, sizeof *c);
  c->m.kind = kind;
  c->m.arg = c;
  c->timeout_ms = timeout_ms;
  cr_assert_eq(pthread_create(&c->t, NULL, call, c), 0);
}

static bool wait_done(struct caller *c) {
  for (int i = 0; i < WAIT_MS && !atomic_load(&c->done); i++) usleep(1000);
  return atomic_load(&c->done);
}

/* Requests queued and not taken (the list is the mailbox's; read under its lock). */
static int queued(void) {
  int n = 0;
  pthread_mutex_lock(&mb.mu);
  for (struct ph_mail *m = mb.head; m; m = m->next) n++;
  pthread_mutex_unlock(&mb.mu);
  return n;
}

static bool wait_queued(int n) {
  for (int i = 0; i < WAIT_MS && queued() < n; i++) usleep(1000);
  return queued() >= n;
}

Test(hub_mailbox, the_caller_gets_the_servers_answer) {
  struct caller c;
  start(&c, 3, 60000);
  cr_assert(wait_queued(1));
  struct ph_mail *m = ph_mailbox_take(&mb);
  cr_assert_eq(m, &c.m);
  cr_assert_eq(m->kind, 3);
  cr_assert_eq(m->arg, &c, "the server sees the caller's data");
  cr_assert_eq(m->state, PH_MAIL_TAKEN);
  ph_mailbox_done(&mb, m, PH_ENOTFOUND, "no open alarm a-1");
  cr_assert(wait_done(&c));
  pthread_join(c.t, NULL);
  cr_assert_eq(c.rc, PH_ENOTFOUND);
  cr_assert_eq(c.err.code, PH_ENOTFOUND);
  cr_assert_str_eq(c.err.msg, "no open alarm a-1");
  cr_assert_null(ph_mailbox_take(&mb), "answered: no longer in the mailbox");
}

Test(hub_mailbox, success_and_an_error_without_a_message) {
  struct caller a, b;
  start(&a, 1, 60000);
  cr_assert(wait_queued(1));
  ph_mailbox_done(&mb, ph_mailbox_take(&mb), 0, NULL);
  cr_assert(wait_done(&a));
  pthread_join(a.t, NULL);
  cr_assert_eq(a.rc, 0);
  cr_assert_eq(a.err.code, 0, "success leaves err alone");

  start(&b, 1, 60000);
  cr_assert(wait_queued(1));
  ph_mailbox_done(&mb, ph_mailbox_take(&mb), PH_EINVAL, NULL);
  cr_assert(wait_done(&b));
  pthread_join(b.t, NULL);
  cr_assert_eq(b.rc, PH_EINVAL);
  cr_assert_str_eq(b.err.msg, ph_strerror(PH_EINVAL), "no message: the code's name");
}

Test(hub_mailbox, the_oldest_request_is_taken_first) {
  struct caller c[3];
  for (int i = 0; i < 3; i++) {
    start(&c[i], 10 + i, 60000);
    cr_assert(wait_queued(i + 1), "caller %d never queued", i); /* one at a time: a known order */
  }
  for (int i = 0; i < 3; i++) {
    struct ph_mail *m = ph_mailbox_take(&mb);
    cr_assert_not_null(m);
    cr_assert_eq(m->kind, 10 + i, "request %d out of order", i);
    ph_mailbox_done(&mb, m, i, NULL);
  }
  cr_assert_null(ph_mailbox_take(&mb), "take never waits: NULL when empty");
  for (int i = 0; i < 3; i++) {
    cr_assert(wait_done(&c[i]));
    pthread_join(c[i].t, NULL);
    cr_assert_eq(c[i].rc, i, "caller %d got another's answer", i);
  }
}

Test(hub_mailbox, a_request_not_taken_in_time_is_withdrawn) {
  struct caller c;
  start(&c, 1, 50);
  cr_assert(wait_done(&c), "the call did not give up");
  pthread_join(c.t, NULL);
  cr_assert_eq(c.rc, PH_ETIMEOUT);
  cr_assert_eq(c.err.code, PH_ETIMEOUT);
  cr_assert_null(ph_mailbox_take(&mb), "withdrawn: the server never sees it (its memory is gone)");
}

/* mailbox.c inv. 2: once taken, the caller waits for the answer even past
 * its timeout, so the server never writes into a returned caller's stack. */
Test(hub_mailbox, a_taken_request_is_answered_even_past_the_timeout) {
  struct caller c;
  start(&c, 1, 100);
  cr_assert(wait_queued(1));
  struct ph_mail *m = ph_mailbox_take(&mb);
  cr_assert_not_null(m);
  usleep(300000); /* past the caller's timeout */
  cr_assert_not(atomic_load(&c.done), "the caller returned while its request was taken");
  ph_mailbox_done(&mb, m, 7, "late but done");
  cr_assert(wait_done(&c));
  pthread_join(c.t, NULL);
  cr_assert_eq(c.rc, 7, "the server's answer, not PH_ETIMEOUT");
  cr_assert_str_eq(c.err.msg, "late but done");
}

Test(hub_mailbox, close_refuses_queued_and_later_calls) {
  struct caller c;
  start(&c, 1, 60000);
  cr_assert(wait_queued(1));
  ph_mailbox_close(&mb);
  cr_assert(wait_done(&c), "close did not wake the queued caller");
  pthread_join(c.t, NULL);
  cr_assert_eq(c.rc, PH_ECLOSED);
  cr_assert_eq(c.err.code, PH_ECLOSED);
  cr_assert_null(ph_mailbox_take(&mb), "a refused request left the mailbox");

  struct ph_mail m = {.kind = 1};
  struct ph_err err = {0};
  cr_assert_eq(ph_mailbox_call(&mb, &m, 60000, &err), PH_ECLOSED, "after close: refused at once");
  cr_assert_eq(err.code, PH_ECLOSED);
  cr_assert_null(ph_mailbox_take(&mb));
}

/* The writer stopping while it serves one request: that caller still gets
 * its answer (it was taken), the one behind it is refused. */
Test(hub_mailbox, close_while_serving_answers_the_taken_one) {
  struct caller a, b;
  start(&a, 1, 60000);
  cr_assert(wait_queued(1));
  start(&b, 2, 60000);
  cr_assert(wait_queued(2));
  struct ph_mail *m = ph_mailbox_take(&mb);
  cr_assert_eq(m->kind, 1);
  ph_mailbox_close(&mb);
  cr_assert(wait_done(&b));
  pthread_join(b.t, NULL);
  cr_assert_eq(b.rc, PH_ECLOSED);
  cr_assert_not(atomic_load(&a.done), "a taken request is not refused by close");
  ph_mailbox_done(&mb, m, 0, NULL);
  cr_assert(wait_done(&a));
  pthread_join(a.t, NULL);
  cr_assert_eq(a.rc, 0);
}
