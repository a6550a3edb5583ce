/* src_modbus.c — source "modbus": polls a PLC's registers over Modbus TCP
 * (libmodbus) at a fixed interval and emits them as records, one per
 * (point, kind) per poll:
 *
 *   {"type":"modbus","host":"10.0.0.20","port":502,"unit_id":1,"interval_ms":1000,
 *    "registers":[{"address":100,"table":"input","type":"float32","word_order":"big",
 *                  "scale":1,"offset":0,"metric":"quench_out_temp","point":"furnace-1"}]}
 *
 * Callers: the agent core (ph_src_modbus, registered in agents/sources/source.c);
 * tests/integration/test_agent_modbus.c. Register decoding is
 * modbus_decode.c (pure, unit-tested).
 * Threads: libmodbus only has blocking calls, and a source must never
 * block the core's loop, so the polling runs on a thread of its own
 * (poller). It hands finished polls to the loop through a bounded ring
 * under a mutex and wakes the loop through an eventfd (io->fd); collect()
 * runs on the loop thread and alone emits.
 * Owns: the poller thread, the libmodbus context (poller only), the
 * eventfd, the ring.
 *
 *   poller:  DISCONNECTED --modbus_connect ok--> CONNECTED
 *            CONNECTED --read fails with an I/O or protocol error--> DISCONNECTED
 *            DISCONNECTED --connect fails--> DISCONNECTED, retried after a
 *                                            back-off doubling up to reconnect_max_ms
 *   from → to                   function
 *   DISCONNECTED → CONNECTED    poll_once: try_connect
 *   CONNECTED → DISCONNECTED    poll_once: read failure (not a Modbus exception)
 *
 * A failed read (no connection, timeout, exception) never invents data:
 * the wire format has no "no value" (batch.h: every value is a finite
 * number in range), so a register whose read failed is published with its
 * last good value and flag B (communication fault, HJ 212 Table 8), which
 * the hub leaves out of compliance averages (only N counts); a register
 * that never read well is left out of the record (and a record with no
 * value is not emitted). The failure is logged on each transition.
 *
 * Invariants (cited in tests):
 *  1. one poll = one timestamp (the wall clock when the poll began) for
 *     every register read in it.
 *  2. bounded: at most RING polls wait for the loop (older ones are dropped
 *     and counted while the outbox is full), MAX_REGS registers.
 *  3. a value flagged N was read in that poll; a value flagged B is the
 *     last value flagged N of that register.
 */
#include <errno.h>
#include <math.h>
#include <modbus.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "parkhub/log.h"
#include "sources/modbus.h"
#include "sources/source.h"
#include "parkhub/timefmt.h"

#define MOD "modbus"
#define MAX_REGS 128
#define RING 16

struct reg {
  int64_t address;
  int table; /* 0 holding, 1 input */
  int type;  /* enum ph_modbus_type */
  int order; /* enum ph_modbus_order */
  double scale, offset;
  char metric_code[PH_ID_MAX + 1], point[PH_ID_MAX + 1];
  int metric;
  int group;
  int index; /* its place in "registers" (messages name it) */
  bool has_last;
  double last;
};

struct group {
  char point[PH_ID_MAX + 1];
  enum ph_kind kind;
};

struct poll_result {
  int64_t ts_ms;
  bool ok[MAX_REGS];
  double v[MAX_REGS];
};

struct modbus_ctx {
  char host[256];
  int64_t port, unit_id, interval_ms, timeout_ms, reconnect_max_ms;
  const struct ph_source_env *env;
  struct reg regs[MAX_REGS];
  int nregs;
  struct group groups[MAX_REGS];
  int ngroups;
  /* shared with the poller, under mu */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool stop, thread_started;
  struct poll_result ring[RING];
  int rhead, rlen;
  uint64_t dropped_polls;
  /* poller only */
  pthread_t th;
  modbus_t *mb;
  bool connected, ever_failed;
  int64_t backoff_ms, next_connect_mono;
  /* loop only */
  int efd;
  struct poll_result cur;
  uint64_t polls, failed_reads, refused;
};

#define R(field) offsetof(struct reg, field), sizeof(((struct reg *)0)->field)
#define RN(field) offsetof(struct reg, field), 0
static const char *const tables[] = {"holding", "input", NULL};
static const char *const types[] = {"int16", "uint16", "int32", "uint32", "float32", NULL};
static const char *const orders[] = {"big", "little", NULL};
static const struct ph_cfgmap reg_map[] = {
    {"address", PH_CFG_INT, true, RN(address), 0, 65535, NULL, NULL, "register address (0-based, as on the wire)"},
    {"table", PH_CFG_ENUM, false, RN(table), 0, 0, "holding", tables, "holding (FC 3) or input (FC 4) registers"},
    {"type", PH_CFG_ENUM, false, RN(type), 0, 0, "uint16", types, "how the register(s) hold the number"},
    {"word_order", PH_CFG_ENUM, false, RN(order), 0, 0, "big", orders,
     "32-bit types: big = first register holds the high word"},
    {"scale", PH_CFG_DBL, false, RN(scale), -1e9, 1e9, "1", NULL, "value = raw * scale + offset"},
    {"offset", PH_CFG_DBL, false, RN(offset), -1e9, 1e9, "0", NULL, "added after scale"},
    {"metric", PH_CFG_ID, true, R(metric_code), 0, 0, NULL, NULL, "catalogue metric (in its canonical unit)"},
    {"point", PH_CFG_ID, true, R(point), 0, 0, NULL, NULL, "point the value belongs to"},
    PH_CFG_END,
};
#undef R
#undef RN

/* The group (point, kind) of r, made when it is the first of it. */
static int group_of(struct modbus_ctx *c, const struct reg *r, enum ph_kind k) {
  for (int g = 0; g < c->ngroups; g++)
    if (strcmp(c->groups[g].point, r->point) == 0 && c->groups[g].kind == k) return g;
  struct group *g = &c->groups[c->ngroups];
  memcpy(g->point, r->point, sizeof g->point);
  g->kind = k;
  return c->ngroups++;
}

/* One register into c->regs[c->nregs]: 0 when it is good. Otherwise,
 * checking (env->pr), every problem of it is noted already; starting, err
 * holds the first. A register with a problem is left out, so no later one
 * is compared with it. */
static int load_reg(struct modbus_ctx *c, const cJSON *o, int idx, struct ph_err *err) {
  const struct ph_source_env *env = c->env;
  char path[32];
  snprintf(path, sizeof path, "registers[%d]", idx);
  struct reg *r = &c->regs[c->nregs];
  memset(r, 0, sizeof *r);
  int bad = 0, rc;
  if (!cJSON_IsObject(o)) {
    ph_source_note(env, ph_fail(err, PH_ECONFIG, "%s: must be an object", path), err, &bad);
    return PH_ECONFIG;
  }
  if ((rc = ph_cfgmap_apply_all(reg_map, o, path, r, env->pr, err)) && !env->pr) return rc;
  if (rc) bad++; /* noted there; the checks below see what did load */
  if (r->address + ph_modbus_width((enum ph_modbus_type)r->type) > 65536 &&
      (rc = ph_source_note(env, ph_fail(err, PH_ECONFIG, "%s.address: a 32-bit value needs two registers below 65536",
                                        path), err, &bad)))
    return rc;
  if (!r->metric_code[0] || !r->point[0]) return PH_ECONFIG; /* required: noted by the cfgmap */
  rc = 0;
  r->metric = ph_catalog_find(env->cat, r->metric_code, strlen(r->metric_code));
  enum ph_kind k = r->metric < 0 ? PH_KIND_MATERIAL : ph_catalog_at(env->cat, (size_t)r->metric)->kind;
  if (r->metric < 0)
    rc = ph_fail(err, PH_ECONFIG, "%s.metric: unknown metric '%s'", path, r->metric_code);
  else if (k == PH_KIND_MATERIAL)
    rc = ph_fail(err, PH_ECONFIG, "%s.metric: '%s' is a material, not a measurement", path, r->metric_code);
  if (rc) { /* the checks below need the metric */
    ph_source_note(env, rc, err, &bad);
    return PH_ECONFIG;
  }
  for (int i = 0; i < c->nregs; i++) {
    const struct reg *q = &c->regs[i];
    if (q->metric == r->metric && strcmp(q->point, r->point) == 0 &&
        (rc = ph_source_note(env, ph_fail(err, PH_ECONFIG, "%s: metric %s of point %s is mapped twice (also registers[%d])",
                                          path, r->metric_code, r->point, q->index), err, &bad)))
      return rc;
  }
  if (bad) return PH_ECONFIG;
  r->index = idx;
  r->group = group_of(c, r, k);
  return 0;
}

/* Every register is checked (with env->pr each bad one is noted and left
 * out); "registers" that is not a list, or a hostile one, stops: there is
 * nothing to go on with. */
static int mb_init(void *ctx, const void *cfg, const struct ph_source_env *env, struct ph_err *err) {
  struct modbus_ctx *c = ctx;
  c->env = env;
  c->efd = -1;
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->cv, NULL);
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(cfg, "registers");
  if (!cJSON_IsArray(arr) || !arr->child)
    return ph_fail(err, PH_ECONFIG, "registers: must be a non-empty array of objects");
  if (cJSON_GetArraySize(arr) > MAX_REGS) return ph_fail(err, PH_ECONFIG, "registers: more than %d", MAX_REGS);
  const cJSON *o;
  int idx = 0, bad = 0;
  cJSON_ArrayForEach(o, arr) {
    int rc = load_reg(c, o, idx++, err);
    if (rc && !env->pr) return rc;
    if (rc) bad++; /* noted: the next register */
    else c->nregs++;
  }
  return ph_source_noted(bad);
}

static bool connection_error(int e) {
  if (e < MODBUS_ENOBASE) return true; /* ETIMEDOUT, ECONNRESET, EPIPE, … */
  return e == EMBBADDATA || e == EMBBADCRC || e == EMBBADEXC || e == EMBUNKEXC || e == EMBMDATA || e == EMBBADSLAVE;
}

static void drop_connection(struct modbus_ctx *c, const char *why) {
  modbus_close(c->mb);
  modbus_free(c->mb);
  c->mb = NULL;
  c->connected = false;
  c->ever_failed = true;
  PH_WARN(MOD, "%s: %s:%d: %s; values are flagged B (last good value) until it answers again", c->env->name, c->host,
          (int)c->port, why);
}

static void try_connect(struct modbus_ctx *c) {
  int64_t mono = ph_mono_ms();
  if (mono < c->next_connect_mono) return;
  char port[8];
  snprintf(port, sizeof port, "%d", (int)c->port);
  c->mb = modbus_new_tcp_pi(c->host, port);
  if (c->mb) {
    modbus_set_slave(c->mb, (int)c->unit_id);
    modbus_set_response_timeout(c->mb, (uint32_t)(c->timeout_ms / 1000), (uint32_t)(c->timeout_ms % 1000) * 1000);
    if (modbus_connect(c->mb) == 0) {
      c->connected = true;
      c->backoff_ms = 0;
      PH_INFO(MOD, "%s: connected to %s:%d (unit %d)", c->env->name, c->host, (int)c->port, (int)c->unit_id);
      return;
    }
    int e = errno;
    modbus_free(c->mb);
    c->mb = NULL;
    if (!c->backoff_ms || c->backoff_ms >= c->reconnect_max_ms)
      PH_WARN(MOD, "%s: cannot connect to %s:%d: %s (retrying)", c->env->name, c->host, (int)c->port, modbus_strerror(e));
  }
  c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : c->interval_ms;
  if (c->backoff_ms > c->reconnect_max_ms) c->backoff_ms = c->reconnect_max_ms;
  c->next_connect_mono = mono + c->backoff_ms;
  c->ever_failed = true;
}

static void poll_once(struct modbus_ctx *c, struct poll_result *p) {
  p->ts_ms = ph_now_ms(); /* inv. 1 */
  memset(p->ok, 0, sizeof p->ok);
  if (!c->connected) try_connect(c);
  for (int i = 0; i < c->nregs && c->connected; i++) {
    struct reg *r = &c->regs[i];
    uint16_t buf[2];
    int w = ph_modbus_width((enum ph_modbus_type)r->type);
    int n = r->table == 0 ? modbus_read_registers(c->mb, (int)r->address, w, buf)
                          : modbus_read_input_registers(c->mb, (int)r->address, w, buf);
    if (n == w) {
      p->ok[i] = ph_modbus_decode(buf, (enum ph_modbus_type)r->type, (enum ph_modbus_order)r->order, r->scale,
                                  r->offset, &p->v[i]) == 0;
      continue;
    }
    int e = errno;
    if (connection_error(e)) {
      char why[160];
      snprintf(why, sizeof why, "reading %s register %d: %s", tables[r->table], (int)r->address, modbus_strerror(e));
      drop_connection(c, why);
    }
  }
}

static void *poller(void *arg) {
  struct modbus_ctx *c = arg;
  struct poll_result *p = &(struct poll_result){0};
  pthread_mutex_lock(&c->mu);
  while (!c->stop) {
    pthread_mutex_unlock(&c->mu);
    struct timespec due;
    clock_gettime(CLOCK_MONOTONIC, &due);
    poll_once(c, p);
    pthread_mutex_lock(&c->mu);
    if (c->rlen == RING) { /* inv. 2: the oldest waiting poll gives way */
      c->rhead = (c->rhead + 1) % RING;
      c->rlen--;
      c->dropped_polls++;
    }
    c->ring[(c->rhead + c->rlen) % RING] = *p;
    c->rlen++;
    uint64_t one = 1;
    if (write(c->efd, &one, sizeof one) < 0) { /* the counter cannot overflow here; nothing to do */
    }
    due = ph_timespec_add_ms(due, c->interval_ms);
    while (!c->stop && pthread_cond_timedwait(&c->cv, &c->mu, &due) != ETIMEDOUT) {
    }
  }
  pthread_mutex_unlock(&c->mu);
  if (c->mb) {
    modbus_close(c->mb);
    modbus_free(c->mb);
    c->mb = NULL;
  }
  return NULL;
}

static int mb_start(void *ctx, const struct ph_source_pos *resume, struct ph_source_io *io, struct ph_err *err) {
  struct modbus_ctx *c = ctx;
  (void)resume; /* a poller has no position: each poll is new data */
  if ((c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) return ph_fail(err, PH_EIO, "eventfd: %s", strerror(errno));
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_destroy(&c->cv);
  pthread_cond_init(&c->cv, &ca);
  pthread_condattr_destroy(&ca);
  if (pthread_create(&c->th, NULL, poller, c)) return ph_fail(err, PH_EIO, "cannot start the poller thread");
  c->thread_started = true;
  io->fd = c->efd;
  io->period_ms = 1000;
  PH_INFO(MOD, "%s: polling %d register%s of %s:%d every %lld ms", c->env->name, c->nregs, c->nregs == 1 ? "" : "s",
          c->host, (int)c->port, (long long)c->interval_ms);
  return 0;
}

static void emit_poll(struct modbus_ctx *c, struct ph_emitter *em, const struct poll_result *p) {
  struct ph_value vals[MAX_REGS];
  c->polls++;
  for (int g = 0; g < c->ngroups; g++) {
    uint16_t n = 0;
    for (int i = 0; i < c->nregs; i++) {
      struct reg *r = &c->regs[i];
      if (r->group != g) continue;
      const struct ph_metric *m = ph_catalog_at(c->env->cat, (size_t)r->metric);
      if (p->ok[i] && (p->v[i] < m->min || p->v[i] > m->max)) {
        struct ph_err err;
        ph_fail(&err, PH_ERANGE, "register %d: %g %s outside %s's plausible range %g..%g", (int)r->address, p->v[i],
                m->unit, m->code, m->min, m->max);
        c->refused++;
        ph_emit_reject(em, c->env->name, &err);
        continue;
      }
      if (p->ok[i]) {
        r->has_last = true;
        r->last = p->v[i];
        vals[n++] = (struct ph_value){.metric = r->metric, .flag = 'N', .v = p->v[i]};
      } else {
        c->failed_reads++;
        if (r->has_last) vals[n++] = (struct ph_value){.metric = r->metric, .flag = 'B', .v = r->last}; /* inv. 3 */
      }
      if (n == PH_RECORD_MAX_VALUES) break;
    }
    if (!n) continue;
    struct ph_record rec;
    memset(&rec, 0, sizeof rec);
    rec.ts_ms = p->ts_ms;
    rec.attrs_off = -1;
    strcpy(rec.point, c->groups[g].point);
    ph_emit(em, c->groups[g].kind, &rec, vals, n, NULL);
  }
}

static int mb_collect(void *ctx, struct ph_emitter *em, int64_t now_ms) {
  struct modbus_ctx *c = ctx;
  (void)now_ms;
  uint64_t cnt;
  if (read(c->efd, &cnt, sizeof cnt) < 0) { /* EAGAIN: woken by the period */
  }
  for (int k = 0; k < PH_SOURCE_BUDGET; k++) {
    if (!ph_emit_room(em, (size_t)c->ngroups)) return 0;
    pthread_mutex_lock(&c->mu);
    bool have = c->rlen > 0;
    if (have) {
      c->cur = c->ring[c->rhead];
      c->rhead = (c->rhead + 1) % RING;
      c->rlen--;
    }
    pthread_mutex_unlock(&c->mu);
    if (!have) return 0;
    emit_poll(c, em, &c->cur);
  }
  return 1;
}

static void mb_exit(void *ctx) {
  struct modbus_ctx *c = ctx;
  if (!c->env) return; /* init never ran */
  if (c->thread_started) {
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->th, NULL);
    PH_INFO(MOD, "%s: %llu polls, %llu failed register reads, %llu values refused, %llu polls dropped", c->env->name,
            (unsigned long long)c->polls, (unsigned long long)c->failed_reads, (unsigned long long)c->refused,
            (unsigned long long)c->dropped_polls);
  }
  if (c->efd >= 0) close(c->efd);
  c->efd = -1;
  pthread_mutex_destroy(&c->mu);
  pthread_cond_destroy(&c->cv);
}

#define F(field) offsetof(struct modbus_ctx, field), sizeof(((struct modbus_ctx *)0)->field)
#define N(field) offsetof(struct modbus_ctx, field), 0
static const struct ph_cfgmap mb_map[] = {
    {"type", PH_CFG_SKIP, true, 0, 0, 0, 0, NULL, NULL, NULL},
    {"name", PH_CFG_SKIP, false, 0, 0, 0, 0, NULL, NULL, NULL},
    {"host", PH_CFG_STR, true, F(host), 0, 0, NULL, NULL, "PLC address (IP or name)"},
    {"port", PH_CFG_INT, false, N(port), 1, 65535, "502", NULL, "Modbus TCP port"},
    {"unit_id", PH_CFG_INT, false, N(unit_id), 0, 255, "1", NULL, "unit identifier (slave id)"},
    {"interval_ms", PH_CFG_INT, false, N(interval_ms), 100, 3600000, "1000", NULL, "poll period"},
    {"timeout_ms", PH_CFG_INT, false, N(timeout_ms), 50, 60000, "1000", NULL, "response timeout per request"},
    {"reconnect_max_ms", PH_CFG_INT, false, N(reconnect_max_ms), 100, 600000, "10000", NULL,
     "longest wait between connection attempts (back-off from interval_ms)"},
    {"registers", PH_CFG_SKIP, true, 0, 0, 0, 0, NULL, NULL,
     "array of {address, table, type, word_order, scale, offset, metric, point}"},
    PH_CFG_END,
};
#undef F
#undef N

const struct ph_source_ops ph_src_modbus = {
    .name = "modbus",
    .help = "poll PLC registers over Modbus TCP; a failed read is flagged B (communication fault)",
    .cfgmap = mb_map,
    .ctx_size = sizeof(struct modbus_ctx),
    .init = mb_init,
    .start = mb_start,
    .collect = mb_collect,
    .exit = mb_exit,
};
