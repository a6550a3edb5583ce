/* mqttconf.h — the "mqtt" object both configs share: broker URIs (tried in
 * turn), client id, credentials, keepalive, in-flight window, reconnect
 * back-off, the time a node gets to answer a connect (then the next URI is
 * tried: the URIs are the nodes of a clustered broker, or one Mosquitto),
 * TLS (server verification on by default; client certificate for mutual
 * TLS), and for the hub the heartbeat period and an optional MQTT 5
 * shared-subscription group. Loading only; the binaries turn it into Paho
 * options. */
#ifndef PARKHUB_MQTTCONF_H
#define PARKHUB_MQTTCONF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "parkhub/cfgmap.h" /* struct ph_cfg_problems */
#include "parkhub/err.h"
#include "parkhub/ids.h"

#define PH_MQTT_MAX_URIS 8

struct ph_tls_conf {
  char ca[512], cert[512], key[512];
  bool verify;
};

struct ph_mqtt_conf {
  char uris[PH_MQTT_MAX_URIS][256];
  int nuris;
  char client_id[256];
  char username[128];
  char password[256];
  int64_t keepalive_s;
  int64_t inflight;
  int64_t reconnect_min_ms, reconnect_max_ms;
  int64_t connect_timeout_ms; /* TCP connect + CONNACK of one node, then the next URI */
  int64_t heartbeat_s;        /* hub only: period of the non-retained heartbeat */
  struct ph_tls_conf tls;
  bool tls_on;  /* an ssl:// or mqtts:// URI, or a CA given */
  char shared_group[PH_ID_MAX + 1]; /* hub only; "" = none */
  bool mqtt5;   /* hub only: set when shared_group is */
};

/* obj: const cJSON * of the "mqtt" object; path names it in messages.
 * hub=true also accepts shared_group. */
int ph_mqtt_conf_load(const void *obj, const char *path, bool hub, struct ph_mqtt_conf *c, struct ph_err *err);
/* --check-config: with pr, every problem is noted there (then PH_ECONFIG,
 * already noted); without, as ph_mqtt_conf_load. */
int ph_mqtt_conf_load_all(const void *obj, const char *path, bool hub, struct ph_mqtt_conf *c,
                          struct ph_cfg_problems *pr, struct ph_err *err);
void ph_mqtt_conf_help(FILE *out, bool hub);
/* "tcp://a:1883, ssl://b:8883": the broker URIs for a log line (cut to cap). */
void ph_mqtt_conf_uris_text(const struct ph_mqtt_conf *c, char *buf, size_t cap);

#endif
