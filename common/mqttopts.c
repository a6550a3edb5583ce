/* mqttopts.c — Paho connect options from a struct ph_mqtt_conf (mqttopts.h). */
#include "parkhub/mqttopts.h"

#include <string.h>

void ph_mqtt_opts_init(struct ph_mqtt_opts *o, const struct ph_mqtt_conf *mc, const char *will_topic,
                       const char *will_msg) {
  /* Paho's initializers are the only correct starting point: they carry the
   * struct_id and struct_version Paho checks. */
  const MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
  const MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
  const MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
  memset(o, 0, sizeof *o);
  o->co = co;
  o->will = will;
  o->ssl = ssl;
  /* Paho's field is char ** but it only reads the URIs. */
  for (int i = 0; i < mc->nuris; i++) o->uris[i] = (char *)mc->uris[i];
  o->co.serverURIs = o->uris;
  o->co.serverURIcount = mc->nuris;
  o->co.keepAliveInterval = (int)mc->keepalive_s;
  /* MQTT 3.1.1 only (docs/wire.md). Paho's default tries 3.1.1 and, when
   * that connect fails for any reason, falls back to 3.1 — which a broker
   * accepts with other semantics (seen after a client-id takeover). */
  o->co.MQTTVersion = MQTTVERSION_3_1_1;
  /* Paho gives each URI this long for TCP connect + CONNACK, then tries the
   * next: a hung node of a cluster costs one timeout, not a stuck client. */
  o->co.connectTimeout = (int)((mc->connect_timeout_ms + 999) / 1000);
  if (mc->username[0]) o->co.username = mc->username;
  if (mc->password[0]) o->co.password = mc->password;
  if (will_topic) {
    o->will.topicName = will_topic;
    o->will.message = will_msg;
    o->will.retained = 1;
    o->will.qos = 1;
    o->co.will = &o->will;
  }
  if (mc->tls_on) {
    o->ssl.trustStore = mc->tls.ca[0] ? mc->tls.ca : NULL;
    o->ssl.keyStore = mc->tls.cert[0] ? mc->tls.cert : NULL;
    o->ssl.privateKey = mc->tls.key[0] ? mc->tls.key : NULL;
    o->ssl.enableServerCertAuth = mc->tls.verify;
    o->ssl.verify = mc->tls.verify;
    o->co.ssl = &o->ssl;
  }
}

void ph_mqtt_opts_node(struct ph_mqtt_opts *o, const struct ph_mqtt_conf *mc, int node) {
  o->uris[0] = (char *)mc->uris[node >= 0 && node < mc->nuris ? node : 0];
  o->co.serverURIs = o->uris;
  o->co.serverURIcount = 1;
}
