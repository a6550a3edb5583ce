/* api_conn.c — deadlines for the HTTP API's connections (api_conn.h).
 *
 * Callers: api.c, from libmicrohttpd's callbacks. Threads: libmicrohttpd's
 * pool threads call api_conns_notify and the phase functions (each for its
 * own connection); one watchdog thread of ours closes the connections whose
 * deadline passed. Owns the watch list: one entry per open connection,
 * made when libmicrohttpd starts the connection and freed when it closes
 * it, so the list is bounded by http.max_connections.
 *
 * A connection's phases:
 *
 *   STARTED ──► HEADERS ──(headers in)──► BODY ──(body in)──► ANSWERING
 *                  ▲                                              │
 *                  └──────────(request over, kept alive)──────────┘
 *
 *   phase      deadline (from the phase's start)   set by
 *   HEADERS    header_ms                           api_conns_notify(STARTED),
 *                                                  api_conns_request_done
 *   BODY       body_ms                             api_conns_headers_in
 *   ANSWERING  none: libmicrohttpd's idle timeout  api_conns_answering
 *
 * Invariants:
 *  1. a deadline runs from the start of its phase and nothing the client
 *     sends moves it; libmicrohttpd's idle timeout, which every received
 *     byte restarts, is not what bounds a request's headers and body.
 *  2. the watchdog ends a late connection with shutdown(2) on its socket
 *     while it holds the list lock; libmicrohttpd then reads EOF and closes
 *     the connection its normal way (callbacks run, counts and the per-IP
 *     table stay right). The fd is still that connection's: libmicrohttpd
 *     calls NOTIFY_CLOSED — which takes the same lock to unlink the entry —
 *     before it closes the socket, so the number cannot have been reused.
 *  3. a connection is cut at most once; every cut is counted by phase and
 *     logged (the first, then a count every 10 s).
 *  4. the watchdog sleeps until the earliest deadline, at most 1 s; stop
 *     wakes it at once.
 */
#include "api_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "parkhub/alloc.h"
#include "parkhub/log.h"
#include "parkhub/timefmt.h"

#define MOD "api"
#define WATCHDOG_MAX_SLEEP_MS 1000

enum phase { W_HEADERS, W_BODY, W_ANSWERING };

struct watch {
  struct watch *next, *prev;
  int fd;
  enum phase phase;
  int64_t since_ms; /* start of the phase, ph_mono_ms */
  bool cut;
  char peer[INET6_ADDRSTRLEN];
};

struct api_conns {
  pthread_mutex_t mu; /* everything below */
  pthread_cond_t cv;
  pthread_t th;
  bool started, stopping;
  int64_t header_ms, body_ms;
  struct watch *head;
  int open;
  uint64_t opened, cut_headers, cut_body;
  struct ph_ratelimit logrl;
};

static struct watch *watch_of(struct MHD_Connection *c) {
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return ci ? ci->socket_context : NULL;
}

static void set_phase(struct api_conns *cs, struct MHD_Connection *c, enum phase p) {
  struct watch *w = watch_of(c);
  if (!w) return;
  pthread_mutex_lock(&cs->mu);
  w->phase = p;
  w->since_ms = ph_mono_ms();
  pthread_mutex_unlock(&cs->mu);
}

void api_conns_headers_in(struct api_conns *cs, struct MHD_Connection *c) { set_phase(cs, c, W_BODY); }
void api_conns_answering(struct api_conns *cs, struct MHD_Connection *c) { set_phase(cs, c, W_ANSWERING); }
void api_conns_request_done(struct api_conns *cs, struct MHD_Connection *c) { set_phase(cs, c, W_HEADERS); }

/* Under cs->mu: counts and logs w's cut, once (inv. 3). */
static void note_cut(struct api_conns *cs, struct watch *w) {
  w->cut = true;
  bool headers = w->phase == W_HEADERS;
  if (headers)
    cs->cut_headers++;
  else
    cs->cut_body++;
  uint64_t more = 0;
  if (!ph_ratelimit_ok(&cs->logrl, ph_mono_ms(), &more)) return;
  char tail[64] = "";
  if (more) snprintf(tail, sizeof tail, " (%llu more since the last such line)", (unsigned long long)more);
  PH_WARN(MOD, "closed a connection from %s: its request %s did not arrive within %lld s%s", w->peer,
          headers ? "headers" : "body", (long long)((headers ? cs->header_ms : cs->body_ms) / 1000), tail);
}

bool api_conns_body_late(struct api_conns *cs, struct MHD_Connection *c) {
  struct watch *w = watch_of(c);
  if (!w) return false;
  pthread_mutex_lock(&cs->mu);
  bool late = w->phase == W_BODY && ph_mono_ms() - w->since_ms >= cs->body_ms;
  if (late && !w->cut) note_cut(cs, w); /* the caller ends it */
  pthread_mutex_unlock(&cs->mu);
  return late;
}

static void peer_text(struct MHD_Connection *c, char *out, size_t cap) {
  snprintf(out, cap, "?");
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  const struct sockaddr *sa = ci ? ci->client_addr : NULL;
  if (sa && sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)cap);
  else if (sa && sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, (socklen_t)cap);
}

void api_conns_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                      enum MHD_ConnectionNotificationCode code) {
  struct api_conns *cs = cls;
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct watch *w = ci ? ph_calloc(1, sizeof *w) : NULL;
    *socket_context = w;
    if (!w) {
      PH_WARN(MOD, "a connection without deadlines (out of memory); the idle timeout still applies");
      return;
    }
    w->fd = ci->connect_fd;
    w->phase = W_HEADERS;
    w->since_ms = ph_mono_ms();
    peer_text(c, w->peer, sizeof w->peer);
    pthread_mutex_lock(&cs->mu);
    w->next = cs->head;
    if (w->next) w->next->prev = w;
    cs->head = w;
    cs->open++;
    cs->opened++;
    pthread_mutex_unlock(&cs->mu);
    return;
  }
  struct watch *w = *socket_context; /* MHD_CONNECTION_NOTIFY_CLOSED: the socket is still open (inv. 2) */
  if (!w) return;
  pthread_mutex_lock(&cs->mu);
  if (w->prev)
    w->prev->next = w->next;
  else
    cs->head = w->next;
  if (w->next) w->next->prev = w->prev;
  cs->open--;
  pthread_mutex_unlock(&cs->mu);
  ph_free(w);
  *socket_context = NULL;
}

/* Under cs->mu: closes w's socket for reading and writing (inv. 2, 3). */
static void cut(struct api_conns *cs, struct watch *w) {
  note_cut(cs, w);
  if (shutdown(w->fd, SHUT_RDWR) != 0 && errno != ENOTCONN)
    PH_WARN(MOD, "shutdown of a late connection from %s: %s", w->peer, strerror(errno));
}

/* Under cs->mu: cuts what is late, returns the next deadline (inv. 4). */
static int64_t sweep(struct api_conns *cs, int64_t now) {
  int64_t next = now + WATCHDOG_MAX_SLEEP_MS;
  for (struct watch *w = cs->head; w; w = w->next) {
    int64_t limit = w->phase == W_HEADERS ? cs->header_ms : w->phase == W_BODY ? cs->body_ms : 0;
    if (!limit || w->cut) continue;
    int64_t due = w->since_ms + limit;
    if (due <= now)
      cut(cs, w);
    else if (due < next)
      next = due;
  }
  return next;
}

static void *watchdog(void *p) {
  struct api_conns *cs = p;
  pthread_mutex_lock(&cs->mu);
  while (!cs->stopping) {
    int64_t now = ph_mono_ms(), next = sweep(cs, now);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t wait_ms = next > now ? next - now : 1;
    ts.tv_sec += (time_t)(wait_ms / 1000);
    ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_cond_timedwait(&cs->cv, &cs->mu, &ts);
  }
  pthread_mutex_unlock(&cs->mu);
  return NULL;
}

int api_conns_start(int64_t header_ms, int64_t body_ms, struct api_conns **out, struct ph_err *err) {
  *out = NULL;
  struct api_conns *cs = ph_calloc(1, sizeof *cs);
  if (!cs) return ph_fail(err, PH_ENOMEM, "out of memory");
  cs->header_ms = header_ms;
  cs->body_ms = body_ms;
  ph_ratelimit_init(&cs->logrl, 10000);
  pthread_mutex_init(&cs->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&cs->cv, &ca);
  pthread_condattr_destroy(&ca);
  if (pthread_create(&cs->th, NULL, watchdog, cs) != 0) {
    api_conns_stop(cs);
    return ph_fail(err, PH_EIO, "http: cannot start the connection watchdog thread");
  }
  cs->started = true;
  *out = cs;
  return 0;
}

void api_conns_stop(struct api_conns *cs) {
  if (!cs) return;
  if (cs->started) {
    pthread_mutex_lock(&cs->mu);
    cs->stopping = true;
    pthread_cond_signal(&cs->cv);
    pthread_mutex_unlock(&cs->mu);
    pthread_join(cs->th, NULL);
  }
  /* libmicrohttpd has stopped: every connection was closed and unlinked */
  while (cs->head) {
    struct watch *w = cs->head;
    cs->head = w->next;
    ph_free(w);
  }
  pthread_cond_destroy(&cs->cv);
  pthread_mutex_destroy(&cs->mu);
  ph_free(cs);
}

void api_conns_stats(struct api_conns *cs, struct api_conns_stats *st) {
  memset(st, 0, sizeof *st);
  if (!cs) return;
  pthread_mutex_lock(&cs->mu);
  st->cut_headers = cs->cut_headers;
  st->cut_body = cs->cut_body;
  st->opened = cs->opened;
  st->open = cs->open;
  pthread_mutex_unlock(&cs->mu);
}
