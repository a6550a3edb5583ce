/* mailbox.h — synchronous requests from any thread to one serving thread
 * (the writer owns the alarms' connection, so an HTTP worker that wants an
 * alarm acknowledged asks it here and waits for the committed answer).
 *
 * A request lives in the caller's memory (usually its stack) from
 * ph_mailbox_call until it returns: the serving thread only borrows it
 * between ph_mailbox_take and ph_mailbox_done. A caller that times out
 * before its request was taken withdraws it (nothing was done: PH_ETIMEOUT);
 * once taken it waits for the answer, so a taken request never dangles.
 * After ph_mailbox_close every queued and later call returns PH_ECLOSED.
 */
#ifndef PARKHUB_MAILBOX_H
#define PARKHUB_MAILBOX_H

#include <pthread.h>
#include <stdbool.h>

#include "parkhub/err.h"

enum ph_mail_state { PH_MAIL_QUEUED, PH_MAIL_TAKEN, PH_MAIL_DONE };

struct ph_mail {
  int kind;  /* the server's: what to do */
  void *arg; /* the caller's: the request's data (and room for an answer) */
  /* below: the mailbox's */
  enum ph_mail_state state;
  int rc;
  char msg[PH_ERR_MSG_MAX];
  struct ph_mail *next;
};

struct ph_mailbox {
  pthread_mutex_t mu;
  pthread_cond_t done; /* CLOCK_MONOTONIC */
  struct ph_mail *head, *tail;
  bool closed;
};

void ph_mailbox_init(struct ph_mailbox *mb);
void ph_mailbox_fini(struct ph_mailbox *mb);
/* Queues m and waits (at most timeout_ms until it is taken) for its answer:
 * returns the server's rc with its message in err, PH_ETIMEOUT or PH_ECLOSED. */
int ph_mailbox_call(struct ph_mailbox *mb, struct ph_mail *m, int timeout_ms, struct ph_err *err);
/* Server: the oldest queued request, or NULL; never waits. */
struct ph_mail *ph_mailbox_take(struct ph_mailbox *mb);
/* Server: answers a taken request (msg may be NULL). */
void ph_mailbox_done(struct ph_mailbox *mb, struct ph_mail *m, int rc, const char *msg);
/* Refuses queued and future calls with PH_ECLOSED (the server is stopping). */
void ph_mailbox_close(struct ph_mailbox *mb);

#endif
