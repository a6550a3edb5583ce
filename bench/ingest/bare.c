/* bare.c — contender (a) of the ingest benchmark: a bare Paho subscriber
 * (paho-mqtt3as, QoS 1) that only counts the batches it receives, so its
 * rate is the broker's delivery ceiling on this machine.
 *
 * Per message it reads the agent number from the topic
 * (parkhub/v1/bench-park/ent-K/gw-K/ev/emission) and the seq from the
 * payload's header (a memmem, no JSON parse) to count duplicates and, at the
 * end, losses. When subscribed it publishes a retained "online" on
 * parkhub/v1/bench-park/hub, like the hub does, so the generator knows when
 * to start. It is done when it has seen every (agent, seq), or after --idle
 * seconds without a message, or at --timeout; it then writes --out
 * (key=value, times CLOCK_MONOTONIC ns) and lingers until SIGTERM (at most
 * --linger s) so that run.sh can read its /proc/<pid>/stat and VmHWM.
 *
 * Threads: main (waits), Paho's receive thread (the callback: counts under
 * mu). Exit: 0 all received exactly once, 1 otherwise, 2 usage. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bmqtt.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int nagents;
static long nbatches;
static unsigned char *seen; /* [agent][seq], seq 1..nbatches */
static long messages, distinct, dups, strays;
static int64_t first_ns, last_ns;
static volatile sig_atomic_t stop_flag;

static void on_term(int sig) {
  (void)sig;
  stop_flag = 1;
}

static long num_after(const char *p, const char *end, const char *key, size_t klen) {
  const char *hit = memmem(p, (size_t)(end - p), key, klen);
  if (!hit) return -1;
  hit += klen;
  while (hit < end && (*hit == ' ' || *hit == ':')) hit++;
  long v = 0;
  int any = 0;
  while (hit < end && *hit >= '0' && *hit <= '9') v = v * 10 + (*hit++ - '0'), any = 1;
  return any ? v : -1;
}

static int on_msg(void *ctx, char *topic, int tlen, MQTTAsync_message *m) {
  (void)ctx;
  size_t tl = tlen ? (size_t)tlen : strlen(topic);
  int64_t now = b_mono_ns();
  long k = num_after(topic, topic + tl, "/gw-", 4);
  const char *pl = m->payload;
  size_t hdr = m->payloadlen < 200 ? (size_t)m->payloadlen : 200; /* seq sits in the header */
  long s = num_after(pl, pl + hdr, "\"seq\"", 5);
  pthread_mutex_lock(&mu);
  if (!first_ns) first_ns = now;
  messages++;
  if (k < 1 || k > nagents || s < 1 || s > nbatches) {
    strays++;
  } else {
    unsigned char *f = &seen[(size_t)(k - 1) * (size_t)(nbatches + 1) + (size_t)s];
    if (*f) {
      dups++;
    } else {
      *f = 1;
      if (++distinct == (long)nagents * nbatches) last_ns = now;
    }
  }
  pthread_mutex_unlock(&mu);
  MQTTAsync_freeMessage(&m);
  MQTTAsync_free(topic);
  return 1;
}

static void usage(FILE *f) {
  fputs("Usage: ph_bench_bare --uri URI --out FILE --agents K --batches N [--timeout S] [--idle S] [--linger S]\n",
        f);
}

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"uri", required_argument, NULL, 'u'},     {"out", required_argument, NULL, 'o'},
      {"agents", required_argument, NULL, 'k'},  {"batches", required_argument, NULL, 'n'},
      {"timeout", required_argument, NULL, 't'}, {"idle", required_argument, NULL, 'i'},
      {"linger", required_argument, NULL, 'l'},  {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *uri = NULL, *out = NULL;
  int timeout_s = 600, idle_s = 15, linger_s = 120, c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'u': uri = optarg; break;
    case 'o': out = optarg; break;
    case 'k': nagents = atoi(optarg); break;
    case 'n': nbatches = atol(optarg); break;
    case 't': timeout_s = atoi(optarg); break;
    case 'i': idle_s = atoi(optarg); break;
    case 'l': linger_s = atoi(optarg); break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (!uri || !out || nagents < 1 || nbatches < 1 || timeout_s < 1 || idle_s < 1 || linger_s < 0) {
    usage(stderr);
    return 2;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  if (!(seen = calloc((size_t)nagents * (size_t)(nbatches + 1), 1))) return 1;

  MQTTAsync cl = NULL;
  char id[64];
  snprintf(id, sizeof id, "bench-bare-%d", (int)getpid());
  int rc = 1;
  if (b_connect(&cl, uri, id, 16, NULL, on_msg, 20000) ||
      b_subscribe(cl, "parkhub/v1/" BENCH_PARK "/+/+/ev/+", 1, 10000) ||
      b_publish_wait(cl, "parkhub/v1/" BENCH_PARK "/hub", "{\"v\":1,\"hub\":\"bench-bare\",\"state\":\"online\"}", 1,
                     10000)) {
    b_close(&cl);
    return 1;
  }
  int64_t start = b_mono_ns(), deadline = start + (int64_t)timeout_s * 1000000000LL;
  long seen_msgs = -1;
  int64_t quiet_since = start;
  const char *why = "all received";
  for (;;) {
    pthread_mutex_lock(&mu);
    long d = distinct, m = messages;
    pthread_mutex_unlock(&mu);
    int64_t now = b_mono_ns();
    if (d == (long)nagents * nbatches) break;
    if (m != seen_msgs) seen_msgs = m, quiet_since = now;
    if (m > 0 && now - quiet_since > (int64_t)idle_s * 1000000000LL) {
      why = "idle: stopped waiting";
      break;
    }
    if (now >= deadline || stop_flag) {
      why = stop_flag ? "stopped" : "timeout";
      break;
    }
    b_sleep_ms(5);
  }
  pthread_mutex_lock(&mu);
  long expected = (long)nagents * nbatches;
  struct b_kv kv[] = {{"messages", ""}, {"distinct", ""}, {"dups", ""},    {"lost", ""},
                      {"strays", ""},   {"first_msg_ns", ""}, {"last_msg_ns", ""}, {"ok", ""}};
  snprintf(kv[0].val, 64, "%ld", messages);
  snprintf(kv[1].val, 64, "%ld", distinct);
  snprintf(kv[2].val, 64, "%ld", dups);
  snprintf(kv[3].val, 64, "%ld", expected - distinct);
  snprintf(kv[4].val, 64, "%ld", strays);
  snprintf(kv[5].val, 64, "%lld", (long long)first_ns);
  snprintf(kv[6].val, 64, "%lld", (long long)last_ns);
  snprintf(kv[7].val, 64, "%d", distinct == expected && dups == 0 && strays == 0);
  rc = distinct == expected && dups == 0 && strays == 0 ? 0 : 1;
  pthread_mutex_unlock(&mu);
  fprintf(stderr, "bare: %s: %ld messages, %ld distinct of %ld, %ld duplicates\n", why, messages, distinct, expected,
          dups);
  if (b_write_kv(out, kv, (int)(sizeof kv / sizeof kv[0]))) rc = 1;
  /* stay for run.sh's look at /proc/<pid>/stat and status; it sends SIGTERM */
  for (int i = 0; i < linger_s * 100 && !stop_flag; i++) b_sleep_ms(10);
  b_close(&cl);
  free(seen);
  return rc;
}
