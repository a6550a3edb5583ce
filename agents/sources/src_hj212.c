/* src_hj212.c — source "hj212": a TCP listener for HJ 212 data loggers
 * (CEMS and wastewater 数采仪; HJ/T 212-2005, HJ 212-2017 and HJ 212-2025
 * packets, read as each logger's "version" or its Flag says). Several
 * loggers at once; each connection has its own framer (hj212_frame.c);
 * packets are parsed (hj212_parse.c), checked (MN configured, PW), the
 * parts of a split message assembled (hj212_split.c), mapped to records
 * (hj212_map.c) and emitted; a packet whose Flag asks for it is answered
 * with the data response (ST=91, CN=9014, its QN echoed, Flag with its
 * version bits) once its records are in the outbox.
 *
 *   {"type":"hj212","listen":"0.0.0.0","port":9212,"password":"123456",
 *    "loggers":[{"mn":"88888880000001","point":"stack-1"}]}
 *
 * Callers: the agent core (ph_src_hj212, registered in agents/sources/source.c);
 * tests/integration/test_agent_hj212.c (the pure parts: tests/unit/test_src_hj212.c).
 * Threads: none of its own; the core calls it from its loop.
 * Owns: the listening socket, an epoll fd the core watches (so one fd
 * stands for the listener and every connection), the connections with
 * their framers and pending responses, and the map (time zone).
 *
 * When the response goes out (the choice, and why): after the batch that
 * holds the packet's records is committed to the outbox, never before.
 * Each packet that produced records gets the next number n; the source
 * reports position {a = n} after its records; ph_emit_committed tells
 * which n the last committed flush covered; responses wait in their
 * connection's queue until then (at most batch.max_delay_ms plus one
 * collect period, 100 ms). So a response means "durably stored here": a
 * logger that got no response (agent down, crash before the commit,
 * outbox full, bad CRC, wrong PW, unknown MN) resends, as the standard has
 * it do (Table 1: timeout 5–10 s, 3 retries). batch.max_delay_ms must stay
 * well below the logger's timeout. Packets whose Flag asks for no response
 * (A = 0, and every 2005-style packet) are at most once: if the agent is
 * down the logger does not know, and its own store is the only copy.
 *
 * Split messages (PNUM > 1): a connection sending one borrows an assembler
 * from a pool of split_slots (each split_max_bytes of data area, at most
 * split_max_parts parts); a part is answered as soon as it is held (a
 * logger may wait for each part's response before sending the next, as
 * the standard's split example does), and the last part after the whole
 * message's records are committed. The price, stated: a part answered
 * and then lost with the agent (crash or restart before the last part)
 * is not resent, so that message is lost; a message whose parts stop
 * coming is dropped after split_timeout_s, logged with the missing parts.
 * With no free slot a part is refused unanswered (the logger resends).
 *
 * Exactly-once across agent restarts: there is no file position to resume
 * from. A packet answered is stored; a packet not answered is resent by
 * the logger and stored then. The one duplicate left: the agent commits,
 * then dies before the response leaves; the logger resends after the
 * restart and the record is stored twice (same point, ts and values).
 * Within a run, resends of a packet seen recently (same MN, QN, CN, PNO;
 * last DEDUPE_SLOTS packets) are answered again but not emitted again.
 *
 * Invariants (cited in tests):
 *  1. a response is sent only for a packet that passed framing, parsing,
 *     the MN and PW checks, and only after every record it produced is
 *     committed (or, for a packet that produced none, after everything
 *     emitted before it is); responses on one connection keep packet order.
 *  2. bounded: at most max_clients connections (more are closed at once,
 *     counted); one framer buffer of max_packet + 12 bytes and
 *     PENDING_MAX queued responses per connection (a connection with a
 *     full queue is not read until it drains); split messages only in the
 *     split_slots assemblers, each fixed at start (hj212.h inv. 6), lent to
 *     one connection at a time and taken back at completion, refusal,
 *     timeout or close; idle connections are closed after idle_timeout_s;
 *     at most PH_SOURCE_BUDGET records per collect.
 *  3. nothing read is acted on before the outbox has room: with no room,
 *     collect returns without reading (TCP back-pressure reaches the logger).
 *  4. hostile input costs a refusal, never a crash or a stall: every
 *     refusal is counted by reason and logged rate-limited with the peer.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "parkhub/alloc.h"
#include "hj212/hj212.h"
#include "parkhub/log.h"
#include "sources/source.h"
#include "parkhub/timefmt.h"

#define MOD "hj212"
#define PENDING_MAX 32
#define DEDUPE_SLOTS 256
#define READ_CHUNK 4096
#define READ_MAX (64 * 1024) /* bytes per connection per collect: a flood cannot starve the others */

struct pending {
  int64_t n; /* send once packet number n is committed */
  int len;
  char pkt[PH_HJ212_ACK_MAX];
};

struct conn {
  int fd; /* -1: free slot */
  char peer[64];
  int64_t last_rx_mono;
  bool reading; /* EPOLLIN registered */
  bool eof;
  struct ph_hj212_framer fr;
  struct pending q[PENDING_MAX];
  int qhead, qlen;
  int slot; /* the split-message assembler lent to it, or -1 */
};

struct dedupe {
  uint64_t hash;
  int64_t n;
};

struct hj212_ctx {
  /* config */
  char listen[64];
  int64_t port, max_clients, idle_timeout_s, max_packet;
  char password[PH_HJ212_PW_MAX + 1], tz[64];
  int crc;
  bool respond;
  int64_t split_slots, split_max_bytes, split_max_parts, split_timeout_s;
  const struct ph_source_env *env;
  struct ph_hj212_map map;
  bool inited, map_ok;
  /* runtime */
  int lfd, epfd;
  struct conn *conns;
  int64_t n;              /* packets numbered so far (positions) */
  struct dedupe dd[DEDUPE_SLOTS];
  int dd_next;
  struct ph_hj212_packet pkt, whole;
  struct ph_hj212_data data;
  struct ph_hj212_records recs;
  struct ph_hj212_asm *slots; /* split_slots assemblers */
  struct conn **slot_owner;   /* the connection each is lent to, or NULL */
  struct ph_ratelimit rl_refuse, rl_other, rl_unknown, rl_conn, rl_split;
  uint64_t packets, records, refused, other_cmds, responses, dups, closed_full, closed_idle, split_parts,
      split_messages, split_dropped;
};

static int hj212_init(void *ctx, const void *cfg, const struct ph_source_env *env, struct ph_err *err) {
  struct hj212_ctx *c = ctx;
  c->env = env;
  c->lfd = c->epfd = -1;
  c->inited = true;
  int bad = 0, rc;
  const cJSON *loggers = cJSON_GetObjectItemCaseSensitive(cfg, "loggers");
  if (cJSON_IsArray(loggers) && !loggers->child &&
      (rc = ph_source_note(env, ph_fail(err, PH_ECONFIG, "loggers: at least one data logger (mn, point)"), err, &bad)))
    return rc;
  /* every problem of loggers, codes, commands and tz is noted (env->pr) */
  if ((rc = ph_hj212_map_init_all(&c->map, env->cat, cfg, c->tz, c->password, env->pr, err)))
    return rc; /* the map holds nothing then */
  c->map_ok = true;
  c->map.max_future_ms = env->max_future_ms;
  if (bad) return ph_source_noted(bad);
  ph_ratelimit_init(&c->rl_refuse, 10000);
  ph_ratelimit_init(&c->rl_other, 60000);
  ph_ratelimit_init(&c->rl_unknown, 60000);
  ph_ratelimit_init(&c->rl_conn, 10000);
  ph_ratelimit_init(&c->rl_split, 10000);
  return 0;
}

static void slot_release(struct hj212_ctx *c, struct conn *k) {
  if (k->slot < 0) return;
  c->slot_owner[k->slot] = NULL;
  k->slot = -1;
}

/* A split message given up (timeout, refusal, close): counted and logged. */
static void split_dropped(struct hj212_ctx *c, struct conn *k, const char *why) {
  uint64_t supp;
  c->split_dropped++;
  if (ph_ratelimit_ok(&c->rl_split, ph_mono_ms(), &supp))
    PH_WARN(MOD, "%s: %s: %s (split messages dropped since: %llu)", c->env->name, k->peer, why,
            (unsigned long long)supp);
}

static void conn_close(struct hj212_ctx *c, struct conn *k, const char *why) {
  if (k->fd < 0) return;
  PH_INFO(MOD, "%s: %s: connection closed (%s)", c->env->name, k->peer, why);
  if (k->slot >= 0) {
    struct ph_hj212_asm *a = &c->slots[k->slot];
    char what[160];
    snprintf(what, sizeof what, "connection closed with split message MN %s CN %d unfinished: dropped", a->mn, a->cn);
    if (ph_hj212_asm_reset(a)) split_dropped(c, k, what);
    slot_release(c, k);
  }
  epoll_ctl(c->epfd, EPOLL_CTL_DEL, k->fd, NULL);
  close(k->fd);
  k->fd = -1;
  k->qlen = k->qhead = 0;
}

static void set_reading(struct hj212_ctx *c, struct conn *k, bool on) {
  if (k->reading == on) return;
  struct epoll_event ev = {.events = on ? EPOLLIN : 0, .data.ptr = k};
  epoll_ctl(c->epfd, EPOLL_CTL_MOD, k->fd, &ev);
  k->reading = on;
}

static int hj212_start(void *ctx, const struct ph_source_pos *resume, struct ph_source_io *io, struct ph_err *err) {
  struct hj212_ctx *c = ctx;
  (void)resume; /* a listener has no position to resume from: see the top of this file */
  char port[8];
  snprintf(port, sizeof port, "%d", (int)c->port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV}, *ai = NULL;
  int g = getaddrinfo(c->listen, port, &hints, &ai);
  if (g) return ph_fail(err, PH_ECONFIG, "listen: '%s' is not a numeric address (%s)", c->listen, gai_strerror(g));
  c->lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (c->lfd >= 0) setsockopt(c->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (c->lfd < 0 || bind(c->lfd, ai->ai_addr, ai->ai_addrlen) || listen(c->lfd, 16)) {
    int e = errno;
    freeaddrinfo(ai);
    return ph_fail(err, PH_EIO, "listen %s:%d: %s", c->listen, (int)c->port, strerror(e));
  }
  freeaddrinfo(ai);
  if (!(c->conns = ph_calloc((size_t)c->max_clients, sizeof *c->conns)))
    return ph_fail(err, PH_ENOMEM, "out of memory");
  for (int i = 0; i < c->max_clients; i++) c->conns[i].fd = c->conns[i].slot = -1;
  if (!(c->slots = ph_calloc((size_t)c->split_slots, sizeof *c->slots)) ||
      !(c->slot_owner = ph_calloc((size_t)c->split_slots, sizeof *c->slot_owner)))
    return ph_fail(err, PH_ENOMEM, "out of memory");
  for (int i = 0; i < c->split_slots; i++)
    if (ph_hj212_asm_init(&c->slots[i], (size_t)c->split_max_bytes, (int)c->split_max_parts))
      return ph_fail(err, PH_ENOMEM, "out of memory for %d split-message assemblers", (int)c->split_slots);
  if ((c->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) return ph_fail(err, PH_EIO, "epoll: %s", strerror(errno));
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->lfd, &ev);
  io->fd = c->epfd;
  io->period_ms = 100; /* responses waiting for a commit, idle timeouts */
  PH_INFO(MOD, "%s: listening for HJ 212 data loggers on %s:%d (%d logger%s configured)", c->env->name, c->listen,
          (int)c->port, c->map.nloggers, c->map.nloggers == 1 ? "" : "s");
  return 0;
}

static void accept_all(struct hj212_ctx *c, int64_t mono) {
  for (;;) {
    struct sockaddr_storage sa;
    socklen_t sl = sizeof sa;
    int fd = accept4(c->lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    char host[INET6_ADDRSTRLEN] = "?", peer[64];
    int port = 0;
    if (sa.ss_family == AF_INET) {
      inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, host, sizeof host);
      port = ntohs(((struct sockaddr_in *)&sa)->sin_port);
    } else if (sa.ss_family == AF_INET6) {
      inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, host, sizeof host);
      port = ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
    }
    snprintf(peer, sizeof peer, "%s:%d", host, port);
    struct conn *k = NULL;
    for (int i = 0; i < c->max_clients && !k; i++)
      if (c->conns[i].fd < 0) k = &c->conns[i];
    uint64_t supp;
    if (!k) {
      close(fd);
      c->closed_full++;
      if (ph_ratelimit_ok(&c->rl_conn, mono, &supp))
        PH_WARN(MOD, "%s: %s refused: already %d connections (max_clients); %llu more since", c->env->name, peer,
                (int)c->max_clients, (unsigned long long)supp);
      continue;
    }
    if (!k->fr.buf && ph_hj212_framer_init(&k->fr, (size_t)c->max_packet, (enum ph_hj212_crc_mode)c->crc)) {
      close(fd);
      continue;
    }
    ph_hj212_framer_reset(&k->fr);
    k->fd = fd;
    k->eof = false;
    k->qhead = k->qlen = 0;
    k->last_rx_mono = mono;
    snprintf(k->peer, sizeof k->peer, "%s", peer);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = k};
    epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev);
    k->reading = true;
    PH_INFO(MOD, "%s: data logger connected from %s", c->env->name, peer);
  }
}

static void refuse(struct hj212_ctx *c, struct ph_emitter *em, struct conn *k, const struct ph_err *err) {
  char where[128];
  snprintf(where, sizeof where, "%s MN %.40s", k->peer, c->pkt.mn[0] ? c->pkt.mn : "?");
  c->refused++;
  ph_emit_reject(em, where, err);
}

static void queue_response(struct hj212_ctx *c, struct conn *k, int64_t n, bool crc_le) {
  if (!c->respond || !ph_hj212_wants_ack(&c->pkt) || k->qlen == PENDING_MAX) return;
  struct pending *p = &k->q[(k->qhead + k->qlen) % PENDING_MAX];
  int v = ph_hj212_map_version(&c->map, &c->pkt);
  int len = ph_hj212_build_ack_v(&c->pkt, v, (enum ph_hj212_crc_mode)c->crc, crc_le, p->pkt, sizeof p->pkt);
  if (len <= 0) return;
  p->len = len;
  p->n = n;
  k->qlen++;
}

static uint64_t packet_hash(const struct ph_hj212_packet *p, int pno) {
  uint64_t h = 1469598103934665603ULL;
  char buf[160];
  int n = snprintf(buf, sizeof buf, "%s|%s|%d|%d", p->mn, p->qn, p->cn, pno);
  for (int i = 0; i < n && i < (int)sizeof buf; i++) h = (h ^ (unsigned char)buf[i]) * 1099511628211ULL;
  return h;
}

/* One good frame: returns the records it emitted. */
static int handle_frame(struct hj212_ctx *c, struct ph_emitter *em, struct conn *k, const char *seg, size_t len,
                        int64_t now_ms) {
  struct ph_err err = {0};
  bool crc_le = k->fr.frame_crc_le;
  c->packets++;
  if (ph_hj212_parse(seg, len, &c->pkt, &err) || ph_hj212_map_check(&c->map, &c->pkt, false, &err)) {
    refuse(c, em, k, &err);
    return 0;
  }
  int cmd = ph_hj212_data_command(c->pkt.cn);
  uint64_t supp;
  if (cmd < 0 || !(c->map.commands & (1u << cmd))) {
    c->other_cmds++;
    if (ph_ratelimit_ok(&c->rl_other, ph_mono_ms(), &supp))
      PH_INFO(MOD, "%s: %s MN %s: CN %d not published (other commands since: %llu)", c->env->name, k->peer,
              c->pkt.mn, c->pkt.cn, (unsigned long long)supp);
    queue_response(c, k, c->n, crc_le); /* after whatever came before it */
    return 0;
  }
  uint64_t h = c->pkt.qn[0] ? packet_hash(&c->pkt, c->pkt.pno) : 0;
  for (int i = 0; h && i < DEDUPE_SLOTS; i++)
    if (c->dd[i].hash == h) {
      c->dups++;
      PH_DEBUG(MOD, "%s: MN %s QN %s sent again: answered, not published again", k->peer, c->pkt.mn, c->pkt.qn);
      queue_response(c, k, c->dd[i].n, crc_le);
      return 0;
    }
  const struct ph_hj212_packet *msg = &c->pkt;
  struct ph_hj212_asm *as = NULL;
  if (c->pkt.pnum > 1) { /* a part of a split message */
    if (k->slot < 0)
      for (int i = 0; i < c->split_slots && k->slot < 0; i++)
        if (!c->slot_owner[i]) {
          c->slot_owner[i] = k;
          k->slot = i;
        }
    if (k->slot < 0) {
      ph_fail(&err, PH_EFULL, "split message part %d of %d: all %d split_slots are busy; not answered, the logger resends",
              c->pkt.pno, c->pkt.pnum, (int)c->split_slots);
      refuse(c, em, k, &err);
      return 0;
    }
    as = &c->slots[k->slot];
    bool sup = false;
    c->split_parts++;
    int rc = ph_hj212_asm_add(as, &c->pkt, ph_mono_ms(), &c->whole, &sup, &err);
    if (sup) split_dropped(c, k, "unfinished split message dropped: a part of another message came");
    if (rc < 0) {
      if (!as->busy) { /* a refused message is dropped; one still in progress keeps its slot */
        split_dropped(c, k, err.msg);
        slot_release(c, k);
      }
      refuse(c, em, k, &err);
      return 0;
    }
    if (rc == PH_HJ212_ASM_HELD) { /* answered now: see the top of this file */
      queue_response(c, k, c->n, crc_le);
      return 0;
    }
    c->split_messages++;
    msg = &c->whole;
  }
  int mrc = ph_hj212_map_data(&c->map, msg, &c->data, &err);
  if (!mrc) mrc = ph_hj212_map_records(&c->map, msg, &c->data, now_ms, &c->recs, &err);
  if (as) slot_release(c, k); /* msg pointed into it until here */
  if (mrc) {
    refuse(c, em, k, &err);
    return 0;
  }
  if (c->recs.unknown && ph_ratelimit_ok(&c->rl_unknown, ph_mono_ms(), &supp))
    PH_WARN(MOD, "%s: MN %s (%s): %d code%s mapped to no metric: %s (%s: %s); add them to \"codes\" or ignore them "
            "with null (codes since: %llu)", c->env->name, c->pkt.mn, ph_hj212_version_name(c->recs.version),
            c->recs.unknown, c->recs.unknown == 1 ? "" : "s", c->recs.unknown_list, c->recs.unknown_code,
            c->recs.unknown_why, (unsigned long long)supp);
  if (c->recs.refused) refuse(c, em, k, &c->recs.first_refusal);
  int emitted = 0;
  for (int i = 0; i < c->recs.nrec; i++) {
    struct ph_hj212_out_rec *r = &c->recs.rec[i];
    if (!r->r.nvalues) continue;
    if (ph_emit(em, r->kind, &r->r, r->v, r->r.nvalues, NULL) == 0) emitted++;
  }
  c->records += (uint64_t)emitted;
  if (!emitted) { /* nothing to commit (every code unmapped or refused): answer after what came before */
    queue_response(c, k, c->n, crc_le);
    return 0;
  }
  c->n++;
  struct ph_source_pos pos = {.a = c->n, .valid = 1};
  ph_emit_position(em, &pos);
  /* Resends of the message (every part of a split one) are answered, not emitted again. */
  for (int pno = msg->pnum > 1 ? 1 : c->pkt.pno; h && pno <= (msg->pnum > 1 ? msg->pnum : c->pkt.pno); pno++) {
    c->dd[c->dd_next] = (struct dedupe){.hash = packet_hash(&c->pkt, pno), .n = c->n};
    c->dd_next = (c->dd_next + 1) % DEDUPE_SLOTS;
  }
  queue_response(c, k, c->n, crc_le);
  return emitted;
}

static void send_responses(struct hj212_ctx *c, struct conn *k, int64_t committed) {
  while (k->qlen && k->q[k->qhead].n <= committed) {
    struct pending *p = &k->q[k->qhead];
    ssize_t w = send(k->fd, p->pkt, (size_t)p->len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w != p->len) { /* a logger that does not read its responses: it will resend */
      conn_close(c, k, w < 0 ? strerror(errno) : "response not written whole");
      return;
    }
    c->responses++;
    k->qhead = (k->qhead + 1) % PENDING_MAX;
    k->qlen--;
  }
}

/* Reads and handles what one connection has; returns records emitted. */
static int serve(struct hj212_ctx *c, struct ph_emitter *em, struct conn *k, int budget, int64_t now_ms,
                 int64_t mono, bool *more) {
  int emitted = 0;
  size_t taken = 0;
  for (;;) {
    const char *seg;
    size_t len;
    struct ph_err err = {0};
    /* Frames already buffered first; then read. */
    while (emitted < budget && k->qlen < PENDING_MAX && ph_emit_room(em, 2)) {
      int rc = ph_hj212_framer_next(&k->fr, &seg, &len, &err);
      if (rc == 0) break;
      if (rc < 0) {
        c->packets++;
        refuse(c, em, k, &err);
        continue;
      }
      emitted += handle_frame(c, em, k, seg, len, now_ms);
    }
    if (emitted >= budget || !ph_emit_room(em, 2)) {
      *more = true;
      return emitted;
    }
    if (k->qlen == PENDING_MAX) { /* inv. 2: wait for commits before reading more */
      set_reading(c, k, false);
      return emitted;
    }
    if (k->eof) {
      conn_close(c, k, "closed by the logger");
      return emitted;
    }
    if (taken >= READ_MAX) {
      *more = true;
      return emitted;
    }
    char buf[READ_CHUNK];
    size_t room = ph_hj212_framer_space(&k->fr);
    ssize_t r = recv(k->fd, buf, room < sizeof buf ? room : sizeof buf, MSG_DONTWAIT);
    if (r == 0) {
      k->eof = true;
      continue; /* handle what is buffered, then close */
    }
    if (r < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) conn_close(c, k, strerror(errno));
      return emitted;
    }
    k->last_rx_mono = mono;
    taken += ph_hj212_framer_feed(&k->fr, buf, (size_t)r);
  }
}

static int hj212_collect(void *ctx, struct ph_emitter *em, int64_t now_ms) {
  struct hj212_ctx *c = ctx;
  int64_t mono = ph_mono_ms();
  struct ph_source_pos pos;
  int rc = ph_emit_committed(em, &pos);
  int64_t committed = rc < 0 ? c->n : rc == 1 ? pos.a : 0;
  if (committed > c->n) committed = c->n; /* a position from before a restart */
  for (int i = 0; i < c->max_clients; i++) {
    struct conn *k = &c->conns[i];
    if (k->fd < 0) continue;
    send_responses(c, k, committed);
    if (k->fd >= 0 && k->qlen < PENDING_MAX) set_reading(c, k, true);
  }
  if (!ph_emit_room(em, 2)) return 0; /* inv. 3 */
  accept_all(c, mono);
  int budget = PH_SOURCE_BUDGET, emitted = 0;
  bool more = false;
  for (int i = 0; i < c->max_clients && emitted < budget; i++) {
    struct conn *k = &c->conns[i];
    if (k->fd < 0) continue;
    struct ph_err serr = {0};
    if (k->slot >= 0 && ph_hj212_asm_expire(&c->slots[k->slot], mono, c->split_timeout_s * 1000, &serr)) {
      split_dropped(c, k, serr.msg);
      slot_release(c, k);
    }
    emitted += serve(c, em, k, budget - emitted, now_ms, mono, &more);
    if (k->fd >= 0 && mono - k->last_rx_mono > c->idle_timeout_s * 1000) {
      c->closed_idle++;
      conn_close(c, k, "idle timeout");
    }
  }
  if (rc < 0) /* no commit tracking (tests): answer what was just handled */
    for (int i = 0; i < c->max_clients; i++)
      if (c->conns[i].fd >= 0) send_responses(c, &c->conns[i], c->n);
  return more || emitted >= budget ? 1 : 0;
}

static void hj212_exit(void *ctx) {
  struct hj212_ctx *c = ctx;
  if (!c->inited) return; /* the cfgmap refused the config: init never ran */
  if (c->packets)
    PH_INFO(MOD, "%s: %llu packets, %llu records, %llu refused, %llu other commands, %llu responses, %llu resends, "
            "%llu split parts, %llu split messages, %llu dropped",
            c->env->name, (unsigned long long)c->packets, (unsigned long long)c->records,
            (unsigned long long)c->refused, (unsigned long long)c->other_cmds, (unsigned long long)c->responses,
            (unsigned long long)c->dups, (unsigned long long)c->split_parts, (unsigned long long)c->split_messages,
            (unsigned long long)c->split_dropped);
  for (int i = 0; c->conns && i < c->max_clients; i++) {
    if (c->conns[i].fd >= 0) close(c->conns[i].fd);
    ph_hj212_framer_fini(&c->conns[i].fr);
  }
  ph_free(c->conns);
  c->conns = NULL;
  for (int i = 0; c->slots && i < c->split_slots; i++) ph_hj212_asm_fini(&c->slots[i]);
  ph_free(c->slots);
  ph_free(c->slot_owner);
  c->slots = NULL;
  c->slot_owner = NULL;
  if (c->lfd >= 0) close(c->lfd);
  if (c->epfd >= 0) close(c->epfd);
  c->lfd = c->epfd = -1;
  if (c->map_ok) ph_hj212_map_fini(&c->map);
  c->map_ok = false;
}

/* For hj212_dump.c: the map of a configured hj212 source. */
const struct ph_hj212_map *ph_src_hj212_map(const void *ctx, int *crc) {
  const struct hj212_ctx *c = ctx;
  if (crc) *crc = c->crc;
  return &c->map;
}

#define F(field) offsetof(struct hj212_ctx, field), sizeof(((struct hj212_ctx *)0)->field)
#define N(field) offsetof(struct hj212_ctx, field), 0
static const char *const crc_words[] = {"hj212", "modbus-le", "any", NULL};
static const struct ph_cfgmap hj212_map_cfg[] = {
    {"type", PH_CFG_SKIP, true, 0, 0, 0, 0, NULL, NULL, NULL},
    {"name", PH_CFG_SKIP, false, 0, 0, 0, 0, NULL, NULL, NULL},
    {"listen", PH_CFG_STR, false, F(listen), 0, 0, "127.0.0.1", NULL,
     "address to listen on (0.0.0.0: every interface, where the loggers are)"},
    {"port", PH_CFG_INT, true, N(port), 1, 65535, NULL, NULL, "TCP port the data loggers connect to"},
    {"max_clients", PH_CFG_INT, false, N(max_clients), 1, 256, "16", NULL, "connections at once; more are closed"},
    {"idle_timeout_s", PH_CFG_INT, false, N(idle_timeout_s), 1, 86400, "600", NULL,
     "close a connection silent this long"},
    {"max_packet", PH_CFG_INT, false, N(max_packet), 64, 9999, "4096", NULL,
     "longest data segment accepted (the length field allows 9999)"},
    {"password", PH_CFG_STR, false, F(password), 0, 0, "", NULL, "access password (PW) packets must carry; \"\": any"},
    {"tz", PH_CFG_STR, false, F(tz), 0, 0, "Asia/Shanghai", NULL, "time zone of the loggers' DataTime"},
    {"crc", PH_CFG_ENUM, false, N(crc), 0, 0, "hj212", crc_words,
     "CRC form: the standard's, CRC-16/MODBUS low byte first, or either"},
    {"respond", PH_CFG_BOOL, false, offsetof(struct hj212_ctx, respond), 0, 0, 0, "true", NULL,
     "answer with the data response (9014) when a packet's Flag asks for one"},
    {"split_slots", PH_CFG_INT, false, N(split_slots), 1, 64, "8", NULL,
     "split messages (PNUM/PNO) assembled at once, across all connections"},
    {"split_max_bytes", PH_CFG_INT, false, N(split_max_bytes), 1024, 65536, "16384", NULL,
     "data-area bytes of one split message (memory: 2x per slot)"},
    {"split_max_parts", PH_CFG_INT, false, N(split_max_parts), 2, 64, "16", NULL, "parts (PNUM) of one split message"},
    {"split_timeout_s", PH_CFG_INT, false, N(split_timeout_s), 1, 3600, "60", NULL,
     "drop a split message whose parts stop coming for this long"},
    {"commands", PH_CFG_SKIP, false, 0, 0, 0, 0, NULL, NULL,
     "array of data commands to publish: \"2011\" real-time, \"2051\" minute, \"2061\" hourly, \"2031\" daily (default all)"},
    {"loggers", PH_CFG_SKIP, true, 0, 0, 0, 0, NULL, NULL,
     "array of {mn, point, minute_point, hour_point, day_point, password, version, cou, corrected, units}"},
    {"codes", PH_CFG_SKIP, false, 0, 0, 0, 0, NULL, NULL,
     "object: HJ 212 code → metric, {\"metric\",\"unit\"}, or null to ignore (default: the catalogue's hj212 codes)"},
    PH_CFG_END,
};
#undef F
#undef N

const struct ph_source_ops ph_src_hj212 = {
    .name = "hj212",
    .help = "listen on TCP for HJ 212 data loggers (CEMS, wastewater; 2005/2017/2025), answer 9014 after the outbox commit",
    .cfgmap = hj212_map_cfg,
    .ctx_size = sizeof(struct hj212_ctx),
    .init = hj212_init,
    .start = hj212_start,
    .collect = hj212_collect,
    .exit = hj212_exit,
};
