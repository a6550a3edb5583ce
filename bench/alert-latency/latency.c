/* latency.c — the alert-latency benchmark's driver (README.md here).
 *
 * Against a running broker and parkhub (run.sh starts both), two clients:
 *   load   publishes a steady background of emission batches from agent
 *          gw-load (so2 well below the rule's limit: the rules engine
 *          evaluates every value, nothing fires), paced by the clock at
 *          --rate records/s in batches of --batch records, QoS 1 with a
 *          bounded window (DESIGN.md: cap sends at the in-flight window);
 *          it follows the hub's acks to report how far behind the hub is;
 *   probe  runs --trials trials, one after the other; each times three
 *          round trips from just before MQTTAsync_sendMessage to the
 *          subscriber's messageArrived (both on CLOCK_MONOTONIC):
 *            echo   a message on a topic it subscribes itself: the bare
 *                   broker round trip, the baseline, under the same load;
 *            raise  a one-record batch from gw-probe with so2 = 1000 + i
 *                   (over the limit 500) until the "raised" alert whose
 *                   value is 1000 + i arrives on alerts/#;
 *            clear  a record of so2 = 10 until the "cleared" alert.
 *          A short pseudo-random pause (0..--jitter ms) between trials keeps
 *          them from locking onto the hub's timers.
 * Writes key=value figures to --out: p50/p99/max/mean per kind, timeouts,
 * the load offered and acked. Asserts nothing about time; every wait is
 * bounded (a trial's wait by --timeout ms; a missing alert counts as a
 * timeout). Exit 0 when every trial got its three messages.
 */
#include <MQTTAsync.h>
#include <dirent.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../ingest/bmqtt.h"
#include "parkhub/batch.h"
#include "parkhub/timefmt.h"

#define LOAD_WINDOW 64
#define LOAD_POINTS 50

enum { K_ECHO, K_RAISE, K_CLEAR, K_ACK, K_COUNT };
static const char *const kind_name[K_COUNT] = {"echo", "raise", "clear", "ack"};

struct opts {
  const char *uri, *out;
  int trials, rate, batch, jitter_ms, timeout_ms, warmup, nodelay;
};

/* ---- probe: waits for one expected message at a time ---- */
static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int want_kind; /* -1: nothing expected */
  int want_trial;
  int64_t got_ns;
  long stray; /* alerts nobody waited for */
  long ack_seq; /* the hub's ack of gw-probe's batch ack_seq: when it came */
  int64_t ack_ns;
} P = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, -1, -1, 0, 0, 0, 0};

static int probe_msg(void *ctx, char *topic, int tlen, MQTTAsync_message *m) {
  (void)ctx;
  (void)tlen;
  int64_t now = b_mono_ns();
  char buf[4096];
  int n = m->payloadlen < (int)sizeof buf - 1 ? m->payloadlen : (int)sizeof buf - 1;
  memcpy(buf, m->payload, (size_t)n);
  buf[n] = '\0';
  int kind = -1, trial = -1;
  if (strstr(topic, "/gw-probe/ack")) {
    const char *u = strstr(buf, "\"upto\":");
    pthread_mutex_lock(&P.mu);
    if (u && atol(u + 7) >= P.ack_seq && !P.ack_ns) {
      P.ack_ns = now;
      pthread_cond_signal(&P.cv);
    }
    pthread_mutex_unlock(&P.mu);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
  }
  if (strstr(topic, "/echo/")) {
    kind = K_ECHO;
    trial = atoi(strrchr(topic, '/') + 1);
  } else if (strstr(buf, "\"transition\":\"raised\"")) {
    const char *v = strstr(buf, "\"value\":");
    kind = K_RAISE;
    trial = v ? (int)(atof(v + 8) - 1000.0 + 0.5) : -1;
  } else if (strstr(buf, "\"transition\":\"cleared\"")) {
    kind = K_CLEAR;
    trial = -2; /* the value of a clear is the last raising one: matched on order */
  }
  pthread_mutex_lock(&P.mu);
  if (kind >= 0 && kind == P.want_kind && (trial == P.want_trial || trial == -2)) {
    P.got_ns = now;
    P.want_kind = -1;
    pthread_cond_signal(&P.cv);
  } else if (kind == K_RAISE || kind == K_CLEAR) {
    P.stray++;
  }
  pthread_mutex_unlock(&P.mu);
  MQTTAsync_freeMessage(&m);
  MQTTAsync_free(topic);
  return 1;
}

/* Sends and waits for the expected message; the latency in ns, or -1 on timeout. */
static int64_t round_trip(MQTTAsync c, const char *topic, const char *payload, int kind, int trial, int timeout_ms) {
  MQTTAsync_message msg = MQTTAsync_message_initializer;
  msg.payload = (void *)payload;
  msg.payloadlen = (int)strlen(payload);
  msg.qos = 1;
  pthread_mutex_lock(&P.mu);
  P.want_kind = kind;
  P.want_trial = trial;
  P.got_ns = 0;
  pthread_mutex_unlock(&P.mu);
  int64_t t0 = b_mono_ns();
  if (MQTTAsync_sendMessage(c, topic, &msg, NULL) != MQTTASYNC_SUCCESS) return -1;
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += timeout_ms / 1000;
  until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
  pthread_mutex_lock(&P.mu);
  while (!P.got_ns)
    if (pthread_cond_timedwait(&P.cv, &P.mu, &until) != 0) break;
  int64_t got = P.got_ns;
  P.want_kind = -1;
  pthread_mutex_unlock(&P.mu);
  return got ? got - t0 : -1;
}

/* ---- load ---- */
static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int inflight;
  atomic_long acked_upto, sent, send_errors;
  atomic_bool stop;
} L = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, false};

static void load_done(void *ctx, MQTTAsync_successData *d) {
  (void)ctx;
  (void)d;
  pthread_mutex_lock(&L.mu);
  L.inflight--;
  pthread_cond_signal(&L.cv);
  pthread_mutex_unlock(&L.mu);
}
static void load_failed(void *ctx, MQTTAsync_failureData *d) {
  (void)d;
  atomic_fetch_add(&L.send_errors, 1);
  load_done(ctx, NULL);
}

static int load_msg(void *ctx, char *topic, int tlen, MQTTAsync_message *m) { /* the hub's acks of gw-load */
  (void)ctx;
  (void)tlen;
  char buf[256];
  int n = m->payloadlen < (int)sizeof buf - 1 ? m->payloadlen : (int)sizeof buf - 1;
  memcpy(buf, m->payload, (size_t)n);
  buf[n] = '\0';
  const char *u = strstr(buf, "\"upto\":");
  if (u) {
    long v = atol(u + 7);
    if (v > atomic_load(&L.acked_upto)) atomic_store(&L.acked_upto, v);
  }
  MQTTAsync_freeMessage(&m);
  MQTTAsync_free(topic);
  return 1;
}

struct load_args {
  MQTTAsync c;
  const struct opts *o;
  int64_t base_ms;
};

static void *load_run(void *arg) {
  struct load_args *a = arg;
  const struct opts *o = a->o;
  static char recs[256 * 1024], batch[300 * 1024];
  const char *topic = "parkhub/v1/" BENCH_PARK "/ent-load/gw-load/ev/emission";
  int64_t start = b_mono_ns();
  double per_batch_ns = 1e9 * o->batch / o->rate;
  for (long j = 1; !atomic_load(&L.stop); j++) {
    int64_t due = start + (int64_t)((double)(j - 1) * per_batch_ns);
    int64_t now = b_mono_ns();
    if (due > now) {
      struct timespec ts = {(time_t)((due - now) / 1000000000LL), (long)((due - now) % 1000000000LL)};
      nanosleep(&ts, NULL);
    }
    size_t len = 1;
    recs[0] = '[';
    for (int r = 0; r < o->batch; r++) {
      char t[PH_TIME_STRLEN];
      /* each point's records are one second apart in data time: in order per series */
      long k = (j - 1) * o->batch + r;
      ph_time_format(a->base_ms + (k / LOAD_POINTS) * 1000, t, sizeof t);
      len += (size_t)snprintf(recs + len, sizeof recs - len,
                              "%s{\"ts\":\"%s\",\"point\":\"stack-%ld\",\"values\":{\"so2\":%.1f,\"nox\":%.1f,"
                              "\"o2\":11.5,\"flow\":85000}}",
                              r ? "," : "", t, k % LOAD_POINTS + 1, 40 + (double)(k % 200) / 10, 90 + (double)(k % 70) / 10);
    }
    snprintf(recs + len, sizeof recs - len, "]");
    size_t blen;
    if (ph_batch_wrap(batch, sizeof batch, "gw-load", 1, j, 1, ph_now_ms(), recs, strlen(recs), &blen)) break;
    pthread_mutex_lock(&L.mu);
    while (L.inflight >= LOAD_WINDOW && !atomic_load(&L.stop)) {
      struct timespec until;
      clock_gettime(CLOCK_REALTIME, &until);
      until.tv_nsec += 100000000L;
      if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
      pthread_cond_timedwait(&L.cv, &L.mu, &until);
    }
    L.inflight++;
    pthread_mutex_unlock(&L.mu);
    MQTTAsync_message m = MQTTAsync_message_initializer;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    m.payload = batch;
    m.payloadlen = (int)blen;
    m.qos = 1;
    ro.onSuccess = load_done;
    ro.onFailure = load_failed;
    if (MQTTAsync_sendMessage(a->c, topic, &m, &ro) != MQTTASYNC_SUCCESS) {
      atomic_fetch_add(&L.send_errors, 1);
      load_done(NULL, NULL);
      b_sleep_ms(10);
      j--; /* the same seq again */
      continue;
    }
    atomic_store(&L.sent, j);
  }
  return NULL;
}

/* Paho C 1.3.12 never sets TCP_NODELAY on its sockets (upstream issue 530):
 * a small QoS 1 packet sent while the previous one is unacknowledged waits
 * for the peer's delayed ACK (~40 ms on Linux). The driver's clients are
 * the instrument, not what is measured: their sockets get TCP_NODELAY,
 * found among this process's fds once connected. */
static int nodelay_all(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0, one = 1;
  if (!d) return 0;
  for (struct dirent *e; (e = readdir(d));) {
    int fd = atoi(e->d_name);
    struct sockaddr_storage a;
    socklen_t al = sizeof a;
    if (fd <= 2 || getpeername(fd, (struct sockaddr *)&a, &al) != 0) continue;
    if ((a.ss_family == AF_INET || a.ss_family == AF_INET6) && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0)
      n++;
  }
  closedir(d);
  return n;
}

/* ---- figures ---- */
static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

struct figs {
  double p50, p99, max, mean;
  int n;
};

static struct figs figures(int64_t *v, int n) {
  struct figs f = {NAN, NAN, NAN, NAN, n};
  if (!n) return f;
  qsort(v, (size_t)n, sizeof *v, cmp_i64);
  double sum = 0;
  for (int i = 0; i < n; i++) sum += (double)v[i];
  /* nearest rank */
  f.p50 = (double)v[(int)ceil(0.50 * n) - 1] / 1e6;
  f.p99 = (double)v[(int)ceil(0.99 * n) - 1] / 1e6;
  f.max = (double)v[n - 1] / 1e6;
  f.mean = sum / n / 1e6;
  return f;
}

static int usage(void) {
  fprintf(stderr, "usage: ph_bench_alert --uri URI --out FILE [--trials N] [--rate RECORDS_PER_S] [--batch RECORDS]\n"
                  "       [--jitter MS] [--timeout MS] [--warmup N] [--nodelay 0|1]\n");
  return 2;
}

int main(int argc, char **argv) {
  struct opts o = {.trials = 1000, .rate = 10000, .batch = 20, .jitter_ms = 5, .timeout_ms = 5000, .warmup = 20, .nodelay = 1};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--uri")) o.uri = argv[i + 1];
    else if (!strcmp(argv[i], "--out")) o.out = argv[i + 1];
    else if (!strcmp(argv[i], "--trials")) o.trials = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--rate")) o.rate = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--batch")) o.batch = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--jitter")) o.jitter_ms = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--timeout")) o.timeout_ms = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--warmup")) o.warmup = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--nodelay")) o.nodelay = atoi(argv[i + 1]);
    else return usage();
  }
  if (!o.uri || !o.out || o.trials < 1 || o.trials > 1000000 || o.batch < 1 || o.batch > 1000 || o.rate < 0)
    return usage();

  MQTTAsync probe = NULL, load = NULL;
  if (b_connect(&probe, o.uri, "bench-alert-probe", 16, NULL, probe_msg, 10000) ||
      b_subscribe(probe, "parkhub/v1/" BENCH_PARK "/alerts/#", 1, 5000) ||
      b_subscribe(probe, "bench-alert/echo/#", 1, 5000) ||
      b_subscribe(probe, "parkhub/v1/" BENCH_PARK "/ent-probe/gw-probe/ack", 1, 5000))
    return 1;
  if (b_connect(&load, o.uri, "bench-alert-load", LOAD_WINDOW, NULL, load_msg, 10000) ||
      b_subscribe(load, "parkhub/v1/" BENCH_PARK "/ent-load/gw-load/ack", 1, 5000))
    return 1;

  if (o.nodelay) fprintf(stderr, "ph_bench_alert: TCP_NODELAY on %d sockets\n", nodelay_all());
  int64_t now_ms = ph_now_ms();
  struct load_args la = {.c = load, .o = &o, .base_ms = now_ms - 3 * 86400000LL};
  pthread_t lt;
  bool loading = o.rate > 0;
  if (loading && pthread_create(&lt, NULL, load_run, &la) != 0) return 1;
  b_sleep_ms(loading ? 2000 : 0); /* the load reaches its steady state */
  int64_t load_t0 = b_mono_ns();
  long sent0 = atomic_load(&L.sent), acked0 = atomic_load(&L.acked_upto);

  int total = o.trials + o.warmup;
  int64_t *lat[K_COUNT];
  int n[K_COUNT] = {0}, timeouts[K_COUNT] = {0};
  for (int k = 0; k < K_COUNT; k++)
    if (!(lat[k] = calloc((size_t)total, sizeof *lat[k]))) return 1;
  const char *ptopic = "parkhub/v1/" BENCH_PARK "/ent-probe/gw-probe/ev/emission";
  int64_t pbase = now_ms - 2 * 86400000LL;
  uint64_t rnd = 0x9e3779b97f4a7c15ULL;
  long seq = 0;
  for (int i = 0; i < total; i++) {
    char topic[128], payload[64], recs[256], batch[1024], t[PH_TIME_STRLEN];
    size_t blen;
    bool keep = i >= o.warmup;
    snprintf(topic, sizeof topic, "bench-alert/echo/%d", i);
    snprintf(payload, sizeof payload, "{\"trial\":%d}", i);
    int64_t d = round_trip(probe, topic, payload, K_ECHO, i, o.timeout_ms);
    if (keep) d >= 0 ? (void)(lat[K_ECHO][n[K_ECHO]++] = d) : (void)timeouts[K_ECHO]++;
    for (int k = K_RAISE; k <= K_CLEAR; k++) {
      ph_time_format(pbase + (int64_t)i * 2000 + (k == K_CLEAR) * 1000, t, sizeof t);
      snprintf(recs, sizeof recs, "[{\"ts\":\"%s\",\"point\":\"probe-1\",\"values\":{\"so2\":%d}}]", t,
               k == K_RAISE ? 1000 + i : 10);
      if (ph_batch_wrap(batch, sizeof batch, "gw-probe", 1, ++seq, 1, ph_now_ms(), recs, strlen(recs), &blen)) return 1;
      pthread_mutex_lock(&P.mu);
      P.ack_seq = seq;
      P.ack_ns = 0;
      pthread_mutex_unlock(&P.mu);
      int64_t t0 = b_mono_ns();
      d = round_trip(probe, ptopic, batch, k, i, o.timeout_ms);
      if (keep) d >= 0 ? (void)(lat[k][n[k]++] = d) : (void)timeouts[k]++;
      if (k == K_RAISE) { /* the batch's ack: committed and evaluated (writer.c), the alert on its way */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += o.timeout_ms / 1000 + 1;
        pthread_mutex_lock(&P.mu);
        while (!P.ack_ns)
          if (pthread_cond_timedwait(&P.cv, &P.mu, &until) != 0) break;
        int64_t a = P.ack_ns;
        pthread_mutex_unlock(&P.mu);
        if (keep) a ? (void)(lat[K_ACK][n[K_ACK]++] = a - t0) : (void)timeouts[K_ACK]++;
      }
    }
    rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
    if (o.jitter_ms > 0) {
      int us = (int)((rnd >> 33) % (uint64_t)(o.jitter_ms * 1000));
      struct timespec ts = {0, (long)us * 1000L};
      nanosleep(&ts, NULL);
    }
  }
  double secs = (double)(b_mono_ns() - load_t0) / 1e9;
  long sent1 = atomic_load(&L.sent), acked1 = atomic_load(&L.acked_upto);
  atomic_store(&L.stop, true);
  pthread_mutex_lock(&L.mu);
  pthread_cond_broadcast(&L.cv);
  pthread_mutex_unlock(&L.mu);
  if (loading) pthread_join(lt, NULL);

  struct b_kv kv[64];
  int nk = 0;
#define KV(k, fmt, ...) (kv[nk].key = (k), snprintf(kv[nk].val, sizeof kv[nk].val, fmt, __VA_ARGS__), nk++)
  static char keys[K_COUNT][6][32];
  /* round_trip's t0 is taken inside it, a few µs after the ack's: the same send */
  for (int k = 0; k < K_COUNT; k++) {
    struct figs f = figures(lat[k], n[k]);
    snprintf(keys[k][0], 32, "%s_p50_ms", kind_name[k]);
    snprintf(keys[k][1], 32, "%s_p99_ms", kind_name[k]);
    snprintf(keys[k][2], 32, "%s_max_ms", kind_name[k]);
    snprintf(keys[k][3], 32, "%s_mean_ms", kind_name[k]);
    snprintf(keys[k][4], 32, "%s_n", kind_name[k]);
    snprintf(keys[k][5], 32, "%s_timeouts", kind_name[k]);
    KV(keys[k][0], "%.2f", f.p50);
    KV(keys[k][1], "%.2f", f.p99);
    KV(keys[k][2], "%.2f", f.max);
    KV(keys[k][3], "%.2f", f.mean);
    KV(keys[k][4], "%d", f.n);
    KV(keys[k][5], "%d", timeouts[k]);
  }
  KV("seconds", "%.2f", secs);
  KV("load_records_per_s", "%.0f", (double)(sent1 - sent0) * o.batch / secs);
  KV("load_acked_records_per_s", "%.0f", (double)(acked1 - acked0) * o.batch / secs);
  KV("load_sent_batches", "%ld", sent1);
  KV("load_acked_upto", "%ld", acked1);
  KV("load_send_errors", "%ld", atomic_load(&L.send_errors));
  KV("stray_alerts", "%ld", P.stray);
  int bad = timeouts[K_ECHO] + timeouts[K_RAISE] + timeouts[K_CLEAR] + timeouts[K_ACK];
  KV("ok", "%d", bad == 0);
  b_write_kv(o.out, kv, nk);
  b_close(&probe);
  b_close(&load);
  for (int k = 0; k < K_COUNT; k++) free(lat[k]);
  return bad ? 1 : 0;
}
