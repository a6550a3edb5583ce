/* gen.c — the ingest benchmark's load generator (bench/ingest/README.md).
 *
 * Builds K agents × N event batches in memory before it connects (20
 * records × 6 emission values at point stack-1, timestamps 1 s apart, one
 * epoch, seq 1..N, oldest = seq), then publishes them at QoS 1 as fast as
 * the broker takes them, each agent over its own connection with its own
 * bounded in-flight window (a send slot is released on onSuccess: DESIGN.md's
 * maxBufferedMessages trap), interleaving the agents batch by batch.
 *
 * With --ready it first waits for a retained "online" on
 * parkhub/v1/bench-park/hub (the hub publishes it after subscribing; the
 * benchmark's other contenders publish the same when they are subscribed).
 * With --wait acks it then waits until every agent's cumulative ack
 * (parkhub/v1/bench-park/{ent}/{agent}/ack, {"epoch":E,"upto":U}) reaches N.
 *
 * Results go to --out as key=value lines; times are CLOCK_MONOTONIC ns.
 * Threads: main (builds, publishes, waits); Paho's (callbacks: count and
 * signal under g.mu, nothing else). Exit: 0 done, 1 failed or timed out,
 * 2 usage. */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bmqtt.h"

#define MAX_AGENTS 64
#define NVALUES 6

struct agent {
  int idx;
  MQTTAsync c;
  char topic[128];
  long next;     /* next seq to publish */
  int inflight;  /* under g.mu */
  long pubacked; /* under g.mu */
  long upto;     /* highest ack seen, under g.mu */
  int conn_rc;
  const char *uri;
};

static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int nagents;
  long nbatches;
  long long epoch;
  long pub_failures, ack_msgs, bad_acks;
  int hub_ready;
  int64_t all_acked_ns, all_puback_ns;
  int64_t progress_ns, stall_ns; /* last PUBACK or ack advance; how long without one is a stall */
  int stalled;
  long total_pubacked;
  struct agent ag[MAX_AGENTS];
} g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* ---- load ----------------------------------------------------------------- */

struct walk {
  double x, mean, sigma, lo, hi;
};

static uint64_t rng_next(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

/* Mean-reverting random walk: a stack's readings drift and wobble. */
static double walk_step(struct walk *w, uint64_t *rng) {
  double u = 0;
  for (int i = 0; i < 3; i++) u += (double)(rng_next(rng) >> 11) / 9007199254740992.0 - 0.5;
  w->x += 0.05 * (w->mean - w->x) + w->sigma * u;
  if (w->x < w->lo) w->x = w->lo;
  if (w->x > w->hi) w->x = w->hi;
  return w->x;
}

static void fmt_ts(int64_t ms, int with_ms, char *out, size_t cap) {
  time_t s = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&s, &tm);
  size_t n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
  if (with_ms)
    snprintf(out + n, cap - n, ".%03dZ", (int)(ms % 1000));
  else
    snprintf(out + n, cap - n, "Z");
}

struct load {
  char *buf;
  size_t *off;
  int *len;
  size_t bytes;
};

static int build_load(struct load *L, int nagents, long nbatches, int nrecords, int64_t base_ms, long long epoch) {
  size_t nmsg = (size_t)nagents * (size_t)nbatches;
  size_t per = 256 + (size_t)nrecords * 220, cap = nmsg * per;
  L->buf = malloc(cap);
  L->off = malloc(nmsg * sizeof *L->off);
  L->len = malloc(nmsg * sizeof *L->len);
  if (!L->buf || !L->off || !L->len) return -1;
  size_t pos = 0;
  for (int k = 0; k < nagents; k++) {
    uint64_t rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)(k + 1) * 0x100000001B3ULL;
    double d = k * 3.0;
    struct walk w[NVALUES] = {
        {35 + d, 35 + d, 2.0, 5, 150},        /* so2 mg/Nm3 */
        {88 + d, 88 + d, 4.0, 30, 250},       /* nox mg/Nm3 */
        {4.1, 4.1, 0.4, 0.3, 20},             /* pm mg/Nm3 */
        {85000, 85000, 1500, 60000, 110000},  /* flow Nm3/h */
        {12.1, 12.1, 0.3, 8, 17},             /* o2 % */
        {135 + d, 135 + d, 1.5, 110, 180},    /* temp degC */
    };
    for (long s = 1; s <= nbatches; s++) {
      size_t i = (size_t)k * (size_t)nbatches + (size_t)(s - 1);
      char *p = L->buf + pos, *end = p + per;
      int64_t first = base_ms + (int64_t)(s - 1) * nrecords * 1000;
      char sent[32], ts[32];
      fmt_ts(first + (int64_t)nrecords * 1000 + 250, 1, sent, sizeof sent);
      p += snprintf(p, (size_t)(end - p),
                    "{\"v\":1,\"agent\":\"gw-%d\",\"epoch\":%lld,\"seq\":%ld,\"oldest\":%ld,\"sent\":\"%s\","
                    "\"records\":[",
                    k + 1, epoch, s, s, sent);
      for (int r = 0; r < nrecords; r++) {
        int64_t t = first + (int64_t)r * 1000;
        fmt_ts(t, 0, ts, sizeof ts);
        double v[NVALUES];
        for (int m = 0; m < NVALUES; m++) v[m] = walk_step(&w[m], &rng);
        p += snprintf(p, (size_t)(end - p),
                      "%s{\"ts\":\"%s\",\"point\":\"stack-1\",\"values\":{\"so2\":%.1f,\"nox\":%.1f,\"pm\":%.2f,"
                      "\"flow\":%.0f,\"o2\":%.1f,\"temp\":%.1f}",
                      r ? "," : "", ts, v[0], v[1], v[2], v[3], v[4], v[5]);
        /* the CEMS's daily zero/span check: each UTC day's first minute flagged C (calibration) */
        if (((t / 1000) % 86400) < 60) p += snprintf(p, (size_t)(end - p), ",\"flags\":{\"so2\":\"C\",\"nox\":\"C\"}");
        p += snprintf(p, (size_t)(end - p), "}");
      }
      p += snprintf(p, (size_t)(end - p), "]}");
      if (p >= end) {
        fprintf(stderr, "gen: batch buffer too small\n");
        return -1;
      }
      L->off[i] = pos;
      L->len[i] = (int)(p - (L->buf + pos));
      pos += (size_t)L->len[i];
    }
  }
  L->bytes = pos;
  return 0;
}

/* ---- MQTT callbacks ----------------------------------------------------- */

static void pub_ok(void *ctx, MQTTAsync_successData *d) {
  (void)d;
  struct agent *a = ctx;
  pthread_mutex_lock(&g.mu);
  a->inflight--;
  a->pubacked++;
  g.progress_ns = b_mono_ns();
  if (++g.total_pubacked == (long)g.nagents * g.nbatches) g.all_puback_ns = g.progress_ns;
  pthread_cond_broadcast(&g.cv);
  pthread_mutex_unlock(&g.mu);
}

static void pub_fail(void *ctx, MQTTAsync_failureData *d) {
  (void)d;
  struct agent *a = ctx;
  pthread_mutex_lock(&g.mu);
  a->inflight--;
  g.pub_failures++;
  pthread_cond_broadcast(&g.cv);
  pthread_mutex_unlock(&g.mu);
}

static long long json_int(const char *p, int len, const char *key) {
  char k[32];
  int kl = snprintf(k, sizeof k, "\"%s\"", key);
  const char *hit = memmem(p, (size_t)len, k, (size_t)kl);
  if (!hit) return -1;
  hit += kl;
  const char *end = p + len;
  while (hit < end && (*hit == ' ' || *hit == ':')) hit++;
  long long v = 0;
  int any = 0;
  while (hit < end && *hit >= '0' && *hit <= '9') v = v * 10 + (*hit++ - '0'), any = 1;
  return any ? v : -1;
}

/* parkhub/v1/bench-park/ent-K/gw-K/ack and parkhub/v1/bench-park/hub */
static int obs_msg(void *ctx, char *topic, int tlen, MQTTAsync_message *m) {
  (void)ctx;
  size_t tl = tlen ? (size_t)tlen : strlen(topic);
  const char *pl = m->payload;
  int plen = m->payloadlen;
  static const char hubt[] = "parkhub/v1/" BENCH_PARK "/hub";
  pthread_mutex_lock(&g.mu);
  if (tl == sizeof hubt - 1 && memcmp(topic, hubt, tl) == 0) {
    if (plen > 0 && memmem(pl, (size_t)plen, "\"online\"", 8)) g.hub_ready = 1;
  } else {
    g.ack_msgs++;
    int k = 0;
    char t[256];
    snprintf(t, sizeof t, "%.*s", (int)(tl < 255 ? tl : 255), topic);
    long long epoch = json_int(pl, plen, "epoch"), upto = json_int(pl, plen, "upto");
    if (sscanf(t, "parkhub/v1/" BENCH_PARK "/ent-%*d/gw-%d/ack", &k) != 1 || k < 1 || k > g.nagents ||
        epoch != g.epoch || upto < 0) {
      g.bad_acks++;
    } else if (upto > g.ag[k - 1].upto) {
      g.ag[k - 1].upto = (long)upto;
      g.progress_ns = b_mono_ns();
      int all = 1;
      for (int i = 0; i < g.nagents; i++) all &= g.ag[i].upto >= g.nbatches;
      if (all && !g.all_acked_ns) g.all_acked_ns = b_mono_ns();
    }
  }
  pthread_cond_broadcast(&g.cv);
  pthread_mutex_unlock(&g.mu);
  MQTTAsync_freeMessage(&m);
  MQTTAsync_free(topic);
  return 1;
}

/* ---- main ---------------------------------------------------------------- */

static int window;

static void *connect_agent(void *arg) {
  struct agent *a = arg;
  char id[64];
  snprintf(id, sizeof id, "bench-gen-gw-%d-%d", a->idx + 1, (int)getpid());
  a->conn_rc = b_connect(&a->c, a->uri, id, window, a, NULL, 20000);
  return NULL;
}

/* Waits on g.cv (g.mu held) until pred(), the deadline, or a stall (no
 * PUBACK and no ack advance for g.stall_ns); 0 or -1. */
static int wait_until(int (*pred)(void), int64_t deadline_ns) {
  while (!pred()) {
    int64_t now = b_mono_ns();
    if (now >= deadline_ns) return -1;
    if (g.progress_ns && now - g.progress_ns > g.stall_ns) {
      g.stalled = 1;
      return -1;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t step = deadline_ns - now < 200000000LL ? deadline_ns - now : 200000000LL;
    ts.tv_nsec += (long)step;
    while (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_cond_timedwait(&g.cv, &g.mu, &ts);
  }
  return 0;
}
static int pred_ready(void) { return g.hub_ready; }
static int pred_all_puback(void) {
  long inflight = 0;
  for (int i = 0; i < g.nagents; i++) inflight += g.ag[i].inflight;
  return inflight == 0;
}
static int pred_all_acked(void) { return g.all_acked_ns != 0; }

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

static void usage(FILE *f) {
  fputs("Usage: ph_bench_gen --uri URI --out FILE [options]\n"
        "  --agents K        agents (each its own connection, enterprise ent-K, agent gw-K; default 4)\n"
        "  --batches N       batches per agent, seq 1..N (default 2500)\n"
        "  --records R       records per batch (default 20; 6 values each)\n"
        "  --base-ms MS      first record's timestamp, UTC ms (default: now - K..N span - 1 h)\n"
        "  --epoch E         outbox epoch (default 1763892000)\n"
        "  --window W        QoS 1 sends in flight per agent at most (default 256)\n"
        "  --ready           wait for a retained online on parkhub/v1/bench-park/hub before publishing\n"
        "  --wait-acks       after publishing, wait until every agent's ack upto reaches N\n"
        "  --timeout S       overall bound, seconds (default 600)\n"
        "  --stall S         give up after S seconds without a PUBACK or an ack advance (default 60)\n",
        f);
}

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"uri", required_argument, NULL, 'u'},     {"out", required_argument, NULL, 'o'},
      {"agents", required_argument, NULL, 'k'},  {"batches", required_argument, NULL, 'n'},
      {"records", required_argument, NULL, 'r'}, {"base-ms", required_argument, NULL, 'b'},
      {"epoch", required_argument, NULL, 'e'},   {"window", required_argument, NULL, 'w'},
      {"ready", no_argument, NULL, 'R'},         {"wait-acks", no_argument, NULL, 'A'},
      {"timeout", required_argument, NULL, 't'}, {"stall", required_argument, NULL, 's'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *uri = NULL, *out = NULL;
  int nagents = 4, nrecords = 20, ready = 0, wait_acks = 0, timeout_s = 600, stall_s = 60;
  long nbatches = 2500;
  long long epoch = 1763892000LL, base_ms = 0;
  window = 256;
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'u': uri = optarg; break;
    case 'o': out = optarg; break;
    case 'k': nagents = atoi(optarg); break;
    case 'n': nbatches = atol(optarg); break;
    case 'r': nrecords = atoi(optarg); break;
    case 'b': base_ms = atoll(optarg); break;
    case 'e': epoch = atoll(optarg); break;
    case 'w': window = atoi(optarg); break;
    case 'R': ready = 1; break;
    case 'A': wait_acks = 1; break;
    case 't': timeout_s = atoi(optarg); break;
    case 's': stall_s = atoi(optarg); break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (!uri || !out || nagents < 1 || nagents > MAX_AGENTS || nbatches < 1 || nrecords < 1 || nrecords > 1000 ||
      window < 1 || window > 65535 || timeout_s < 1 || stall_s < 1) {
    usage(stderr);
    return 2;
  }
  if (!base_ms) base_ms = ((long long)time(NULL) - (long long)nbatches * nrecords - 3600) * 1000LL;
  g.nagents = nagents;
  g.nbatches = nbatches;
  g.epoch = epoch;
  g.stall_ns = (int64_t)stall_s * 1000000000LL;
  int64_t deadline = b_mono_ns() + (int64_t)timeout_s * 1000000000LL;

  struct load L = {0};
  if (build_load(&L, nagents, nbatches, nrecords, base_ms, epoch)) {
    fprintf(stderr, "gen: out of memory building the load\n");
    return 1;
  }
  size_t nmsg = (size_t)nagents * (size_t)nbatches;
  fprintf(stderr, "gen: %d agents × %ld batches × %d records: %zu messages, %.1f MB, %.0f bytes/message\n", nagents,
          nbatches, nrecords, nmsg, L.bytes / 1e6, (double)L.bytes / (double)nmsg);

  int rc = 1;
  MQTTAsync obs = NULL;
  if (ready || wait_acks) {
    char id[64];
    snprintf(id, sizeof id, "bench-gen-obs-%d", (int)getpid());
    if (b_connect(&obs, uri, id, 16, NULL, obs_msg, 20000) ||
        b_subscribe(obs, "parkhub/v1/" BENCH_PARK "/+/+/ack", 1, 10000) ||
        b_subscribe(obs, "parkhub/v1/" BENCH_PARK "/hub", 1, 10000))
      goto done;
  }
  pthread_t th[MAX_AGENTS];
  for (int k = 0; k < nagents; k++) {
    struct agent *a = &g.ag[k];
    a->idx = k;
    a->uri = uri;
    a->next = 1;
    snprintf(a->topic, sizeof a->topic, "parkhub/v1/" BENCH_PARK "/ent-%d/gw-%d/ev/emission", k + 1, k + 1);
    pthread_create(&th[k], NULL, connect_agent, a);
  }
  int conn_ok = 1;
  for (int k = 0; k < nagents; k++) {
    pthread_join(th[k], NULL);
    if (g.ag[k].conn_rc) conn_ok = 0;
  }
  if (!conn_ok) goto done;

  pthread_mutex_lock(&g.mu);
  if (ready && wait_until(pred_ready, deadline)) {
    pthread_mutex_unlock(&g.mu);
    fprintf(stderr, "gen: the contender never said online on parkhub/v1/" BENCH_PARK "/hub\n");
    goto done;
  }
  double cpu0 = cpu_s();
  int64_t t_first = b_mono_ns();
  g.progress_ns = t_first;
  long remaining = (long)nmsg, send_errors = 0;
  int timed_out = 0;
  while (remaining > 0 && !timed_out) {
    int sent_any = 0;
    for (int k = 0; k < nagents; k++) {
      struct agent *a = &g.ag[k];
      if (a->next > nbatches || a->inflight >= window) continue;
      a->inflight++;
      long s = a->next++;
      pthread_mutex_unlock(&g.mu);
      size_t i = (size_t)k * (size_t)nbatches + (size_t)(s - 1);
      MQTTAsync_message m = MQTTAsync_message_initializer;
      MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
      m.payload = L.buf + L.off[i];
      m.payloadlen = L.len[i];
      m.qos = 1;
      ro.onSuccess = pub_ok;
      ro.onFailure = pub_fail;
      ro.context = a;
      int prc = MQTTAsync_sendMessage(a->c, a->topic, &m, &ro);
      pthread_mutex_lock(&g.mu);
      if (prc != MQTTASYNC_SUCCESS) { /* give the slot back and try again shortly */
        a->inflight--;
        a->next--;
        if (++send_errors % 1000 == 1) fprintf(stderr, "gen: sendMessage: code %d (retrying)\n", prc);
        continue;
      }
      remaining--;
      sent_any = 1;
    }
    if (!sent_any) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += 100000000L;
      if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
      pthread_cond_timedwait(&g.cv, &g.mu, &ts);
      int64_t now = b_mono_ns();
      if (now - g.progress_ns > g.stall_ns) g.stalled = 1;
      timed_out = now >= deadline || g.stalled;
    }
  }
  int64_t t_sent = b_mono_ns();
  int ok = !timed_out && wait_until(pred_all_puback, deadline) == 0;
  if (!ok) fprintf(stderr, "gen: %s publishing (%ld messages not sent or not PUBACKed)\n",
                   g.stalled ? "stalled" : "timed out", (long)nmsg - g.total_pubacked);
  if (ok && wait_acks && wait_until(pred_all_acked, deadline)) {
    ok = 0;
    fprintf(stderr, "gen: %s waiting for the acks:",
            g.stalled ? "no ack advanced for --stall seconds (stalled)" : "timed out");
    for (int k = 0; k < nagents; k++) fprintf(stderr, " gw-%d upto %ld/%ld", k + 1, g.ag[k].upto, nbatches);
    fputc('\n', stderr);
  }
  double cpu1 = cpu_s();
  long long records = (long long)nmsg * nrecords;
  struct b_kv kv[] = {
      {"messages", ""},        {"records", ""},       {"values", ""},        {"bytes", ""},
      {"first_pub_ns", ""},    {"all_sent_ns", ""},   {"all_puback_ns", ""}, {"all_acked_ns", ""},
      {"pub_failures", ""},    {"send_errors", ""},   {"ack_msgs", ""},      {"bad_acks", ""},
      {"gen_cpu_s", ""},       {"window", ""},        {"base_ms", ""},       {"ok", ""},
      {"stalled", ""},
  };
  snprintf(kv[0].val, 64, "%zu", nmsg);
  snprintf(kv[1].val, 64, "%lld", records);
  snprintf(kv[2].val, 64, "%lld", records * NVALUES);
  snprintf(kv[3].val, 64, "%zu", L.bytes);
  snprintf(kv[4].val, 64, "%lld", (long long)t_first);
  snprintf(kv[5].val, 64, "%lld", (long long)t_sent);
  snprintf(kv[6].val, 64, "%lld", (long long)g.all_puback_ns);
  snprintf(kv[7].val, 64, "%lld", (long long)g.all_acked_ns);
  snprintf(kv[8].val, 64, "%ld", g.pub_failures);
  snprintf(kv[9].val, 64, "%ld", send_errors);
  snprintf(kv[10].val, 64, "%ld", g.ack_msgs);
  snprintf(kv[11].val, 64, "%ld", g.bad_acks);
  snprintf(kv[12].val, 64, "%.3f", cpu1 - cpu0);
  snprintf(kv[13].val, 64, "%d", window);
  snprintf(kv[14].val, 64, "%lld", base_ms);
  snprintf(kv[15].val, 64, "%d", ok && g.pub_failures == 0);
  snprintf(kv[16].val, 64, "%d", g.stalled);
  pthread_mutex_unlock(&g.mu);
  if (b_write_kv(out, kv, (int)(sizeof kv / sizeof kv[0]))) ok = 0;
  rc = ok && g.pub_failures == 0 ? 0 : 1;
done:
  for (int k = 0; k < nagents; k++) b_close(&g.ag[k].c);
  b_close(&obs);
  free(L.buf);
  free(L.off);
  free(L.len);
  return rc;
}
