/* mqttopts.h — Paho connect options from a struct ph_mqtt_conf.
 *
 * Owns the part of MQTTAsync_connect's options that the hub and the agent
 * fill the same way: the broker URIs, keep-alive, credentials, the will and
 * TLS (CA, client certificate and key, server verification). Each caller
 * then sets what is its own (clean session, reconnect, in-flight window,
 * callbacks and context).
 *
 * Only fills structures and calls nothing in Paho, so it serves both the
 * hub's linked Paho and the agent's dlopen'ed one (mqttlib.h): only the
 * header is needed. The options point into the struct ph_mqtt_opts and into
 * the configuration, so both must outlive the connect call. */
#ifndef PARKHUB_MQTTOPTS_H
#define PARKHUB_MQTTOPTS_H

#include <MQTTAsync.h>

#include "parkhub/mqttconf.h"

struct ph_mqtt_opts {
  MQTTAsync_connectOptions co;
  MQTTAsync_willOptions will;
  MQTTAsync_SSLOptions ssl;
  char *uris[PH_MQTT_MAX_URIS];
};

/* Fills o from mc. will_topic NULL: no will; otherwise a retained QoS 1
 * will with the text will_msg. connectTimeout is 10 s. */
/* Only node (an index into mc->uris) for this connect: the caller knows
 * which node a connect reached or failed at (Paho's own report of the URI
 * it reached, with several, can name the wrong one: seen on 1.3.12) and
 * moves to the next node itself. Call after ph_mqtt_opts_init. */
void ph_mqtt_opts_node(struct ph_mqtt_opts *o, const struct ph_mqtt_conf *mc, int node);
void ph_mqtt_opts_init(struct ph_mqtt_opts *o, const struct ph_mqtt_conf *mc, const char *will_topic,
                       const char *will_msg);

#endif
