/* bmqtt.h — the little the ingest benchmark's C programs share: a
 * monotonic clock (CLOCK_MONOTONIC is one clock for every process of the
 * machine, so timestamps of different programs compare), and blocking,
 * bounded connect / subscribe / publish over Paho async (paho-mqtt3as,
 * MQTT 3.1.1, no Paho persistence).
 *
 * Threads: the calling thread blocks on a private mutex+condvar that Paho's
 * callbacks signal; callbacks only set fields and signal (DESIGN.md: keep
 * Paho callbacks short, change no options inside them). */
#ifndef BENCH_BMQTT_H
#define BENCH_BMQTT_H

#include <MQTTAsync.h>
#include <stdint.h>

#define BENCH_PARK "bench-park"

int64_t b_mono_ns(void);
void b_sleep_ms(int ms);

/* Creates and connects a client (clean session, keepalive 30 s). inflight
 * sets maxInflight and maxBufferedMessages (inflight + 16). Returns 0 or -1
 * with a message on stderr; timeout_ms bounds the wait for CONNACK. */
int b_connect(MQTTAsync *c, const char *uri, const char *client_id, int inflight, void *cb_ctx,
              MQTTAsync_messageArrived *on_msg, int timeout_ms);
/* Subscribes and waits for SUBACK; 0 or -1. */
int b_subscribe(MQTTAsync c, const char *filter, int qos, int timeout_ms);
/* Publishes at QoS 1 and waits for PUBACK; 0 or -1. */
int b_publish_wait(MQTTAsync c, const char *topic, const char *payload, int retained, int timeout_ms);
/* Disconnects (bounded) and destroys. */
void b_close(MQTTAsync *c);

/* Writes "key=value" lines atomically (tmp + rename) to path. */
struct b_kv {
  const char *key;
  char val[64];
};
int b_write_kv(const char *path, const struct b_kv *kv, int n);

#endif
