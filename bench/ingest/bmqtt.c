/* bmqtt.c — blocking helpers over Paho async for the ingest benchmark
 * (bmqtt.h). Every wait is bounded by the caller's timeout. */
#include "bmqtt.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t b_mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void b_sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
  }
}

/* One pending operation. It lives in the waiter's stack frame; when the wait
 * times out we cannot free it under a late callback, so timed-out ops are
 * leaked on purpose (static pool below; the programs exit soon after). */
struct op {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done, ok, code;
};

static struct op *op_new(void) {
  struct op *o = calloc(1, sizeof *o);
  if (!o) return NULL;
  pthread_mutex_init(&o->mu, NULL);
  pthread_cond_init(&o->cv, NULL);
  return o;
}

static void op_finish(struct op *o, int ok, int code) {
  pthread_mutex_lock(&o->mu);
  o->done = 1;
  o->ok = ok;
  o->code = code;
  pthread_cond_signal(&o->cv);
  pthread_mutex_unlock(&o->mu);
}

/* 1 ok, 0 failed, -1 timed out (then o must not be freed). */
static int op_wait(struct op *o, int timeout_ms) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += timeout_ms / 1000;
  until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
  pthread_mutex_lock(&o->mu);
  while (!o->done)
    if (pthread_cond_timedwait(&o->cv, &o->mu, &until) == ETIMEDOUT) break;
  int r = o->done ? o->ok : -1;
  pthread_mutex_unlock(&o->mu);
  return r;
}

static void op_free(struct op *o) {
  pthread_mutex_destroy(&o->mu);
  pthread_cond_destroy(&o->cv);
  free(o);
}

static void on_ok(void *ctx, MQTTAsync_successData *d) {
  (void)d;
  op_finish(ctx, 1, 0);
}
static void on_fail(void *ctx, MQTTAsync_failureData *d) { op_finish(ctx, 0, d ? d->code : -1); }

/* Finishes an op started with rc from Paho; returns 0 or -1. */
static int finish(struct op *o, int rc, const char *what, int timeout_ms) {
  if (rc != MQTTASYNC_SUCCESS) {
    fprintf(stderr, "bench: %s could not start: code %d\n", what, rc);
    op_free(o);
    return -1;
  }
  int r = op_wait(o, timeout_ms);
  if (r == -1) {
    fprintf(stderr, "bench: %s: no answer within %d ms\n", what, timeout_ms);
    return -1; /* o leaks: a late callback may still touch it */
  }
  if (r == 0) fprintf(stderr, "bench: %s failed: code %d\n", what, o->code);
  op_free(o);
  return r ? 0 : -1;
}

int b_connect(MQTTAsync *c, const char *uri, const char *client_id, int inflight, void *cb_ctx,
              MQTTAsync_messageArrived *on_msg, int timeout_ms) {
  MQTTAsync_createOptions cro = MQTTAsync_createOptions_initializer;
  cro.maxBufferedMessages = inflight + 16; /* also caps sends while connected (DESIGN.md) */
  int rc = MQTTAsync_createWithOptions(c, uri, client_id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &cro);
  if (rc != MQTTASYNC_SUCCESS) {
    fprintf(stderr, "bench: cannot create an MQTT client for %s: code %d\n", uri, rc);
    return -1;
  }
  MQTTAsync_setCallbacks(*c, cb_ctx, NULL, on_msg, NULL);
  struct op *o = op_new();
  if (!o) return -1;
  MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
  co.keepAliveInterval = 30;
  co.cleansession = 1;
  co.connectTimeout = (timeout_ms + 999) / 1000;
  co.maxInflight = inflight;
  co.MQTTVersion = MQTTVERSION_3_1_1;
  co.onSuccess = on_ok;
  co.onFailure = on_fail;
  co.context = o;
  char what[300];
  snprintf(what, sizeof what, "connect %s to %s", client_id, uri);
  return finish(o, MQTTAsync_connect(*c, &co), what, timeout_ms);
}

int b_subscribe(MQTTAsync c, const char *filter, int qos, int timeout_ms) {
  struct op *o = op_new();
  if (!o) return -1;
  MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
  ro.onSuccess = on_ok;
  ro.onFailure = on_fail;
  ro.context = o;
  char what[300];
  snprintf(what, sizeof what, "subscribe %s", filter);
  return finish(o, MQTTAsync_subscribe(c, filter, qos, &ro), what, timeout_ms);
}

int b_publish_wait(MQTTAsync c, const char *topic, const char *payload, int retained, int timeout_ms) {
  struct op *o = op_new();
  if (!o) return -1;
  MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
  MQTTAsync_message m = MQTTAsync_message_initializer;
  m.payload = (void *)payload;
  m.payloadlen = (int)strlen(payload);
  m.qos = 1;
  m.retained = retained;
  ro.onSuccess = on_ok;
  ro.onFailure = on_fail;
  ro.context = o;
  char what[300];
  snprintf(what, sizeof what, "publish %s", topic);
  return finish(o, MQTTAsync_sendMessage(c, topic, &m, &ro), what, timeout_ms);
}

void b_close(MQTTAsync *c) {
  if (!*c) return;
  if (MQTTAsync_isConnected(*c)) {
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    d.timeout = 1000;
    MQTTAsync_disconnect(*c, &d);
    for (int i = 0; i < 150 && MQTTAsync_isConnected(*c); i++) b_sleep_ms(10);
  }
  MQTTAsync_destroy(c);
}

int b_write_kv(const char *path, const struct b_kv *kv, int n) {
  char tmp[1024];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f) {
    fprintf(stderr, "bench: cannot write %s: %s\n", tmp, strerror(errno));
    return -1;
  }
  for (int i = 0; i < n; i++) fprintf(f, "%s=%s\n", kv[i].key, kv[i].val);
  if (fclose(f) != 0 || rename(tmp, path) != 0) {
    fprintf(stderr, "bench: cannot write %s: %s\n", path, strerror(errno));
    return -1;
  }
  return 0;
}
