/* mqttlib.h — which Paho MQTT C library the agent runs on, loaded at start.
 *
 * Paho ships two builds of its async client: libpaho-mqtt3a (no TLS) and
 * libpaho-mqtt3as (TLS, linked against libssl and libcrypto). Linking the
 * TLS build costs every gateway ~2 MB of resident memory for OpenSSL's
 * pages even when no URI asks for TLS, so parkagent links neither: this
 * module dlopen()s exactly one of them — the TLS build only when the
 * configuration needs TLS (an ssl:// or mqtts:// URI, or a CA) — and hands
 * out a table of the Paho functions the agent calls. A plain agent never
 * maps libssl or libcrypto (tests/integration/test_agent_tls.c).
 *
 * Owns: the process-wide library handle and its function table (Paho's own
 * state is process-wide too: MQTTAsync_global_init). Never unloaded: Paho's
 * threads may outlive the last client by a moment.
 * Threads: open from the main thread before any client exists; the table
 * is read-only afterwards and may be read from any thread.
 *
 * Invariants:
 *  1. at most one Paho build is ever loaded into the process (the two
 *     export the same symbols; a second would interpose on the first).
 *  2. OpenSSL is initialised (do_openssl_init) iff the TLS build is loaded.
 */
#ifndef PARKHUB_MQTTLIB_H
#define PARKHUB_MQTTLIB_H

#include <MQTTAsync.h>
#include <stdbool.h>

#include "parkhub/err.h"

/* The Paho calls parkagent makes; same signatures as in MQTTAsync.h. */
struct ph_mqttlib {
  const char *soname; /* the library that was loaded */
  bool tls;           /* it is the TLS build */
  void (*global_init)(MQTTAsync_init_options *inits);
  int (*create)(MQTTAsync *handle, const char *uri, const char *client_id, int persistence_type,
                void *persistence_context, MQTTAsync_createOptions *options);
  int (*set_callbacks)(MQTTAsync handle, void *context, MQTTAsync_connectionLost *cl, MQTTAsync_messageArrived *ma,
                       MQTTAsync_deliveryComplete *dc);
  int (*connect)(MQTTAsync handle, const MQTTAsync_connectOptions *options);
  int (*disconnect)(MQTTAsync handle, const MQTTAsync_disconnectOptions *options);
  int (*is_connected)(MQTTAsync handle);
  int (*subscribe)(MQTTAsync handle, const char *topic, int qos, MQTTAsync_responseOptions *response);
  int (*send)(MQTTAsync handle, const char *topic, const MQTTAsync_message *msg, MQTTAsync_responseOptions *response);
  int (*wait)(MQTTAsync handle, MQTTAsync_token token, unsigned long timeout_ms);
  void (*free_message)(MQTTAsync_message **msg);
  void (*free)(void *ptr);
  void (*destroy)(MQTTAsync *handle);
};

/* The library names tried (SONAMEs from the libpaho-mqtt1.3 package). */
#define PH_MQTTLIB_PLAIN "libpaho-mqtt3a.so.1"
#define PH_MQTTLIB_TLS "libpaho-mqtt3as.so.1"

/* Loads the TLS build when tls is true, the plain one otherwise, resolves
 * every function and runs MQTTAsync_global_init (inv. 2). Idempotent for
 * the same tls; asking for the other build once one is loaded fails with
 * PH_EINVAL (inv. 1). PH_EMQTT when the library or a symbol is missing;
 * err says which. *out borrows the process-wide table. */
int ph_mqttlib_open(bool tls, const struct ph_mqttlib **out, struct ph_err *err);

#endif
