/* agent_config.h — parkagent's configuration (schemas/agent-config.schema.json):
 * identity, MQTT, batching, outbox, status and the sources. Loading checks
 * every key (unknown keys are errors) and runs each source's init, so
 * `parkagent --check-config` finds every problem a start would. */
#ifndef PARKHUB_AGENT_CONFIG_H
#define PARKHUB_AGENT_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "parkhub/catalog.h"
#include "parkhub/cfgmap.h" /* struct ph_cfg_problems */
#include "parkhub/err.h"
#include "parkhub/ids.h"
#include "parkhub/mqttconf.h"
#include "sources/source.h"

#define PH_AGENT_MAX_SOURCES 32

enum ph_full_policy { PH_FULL_STOP, PH_FULL_DROP_OLDEST };

struct ph_agent_source {
  const struct ph_source_ops *ops;
  char name[PH_ID_MAX + 1];
  int index; /* its place in the config's "sources" (messages name it) */
  void *ctx; /* ops->ctx_size bytes, init done; owned */
  struct ph_source_env env;
  bool started;
};

struct ph_agent_config {
  char park[PH_ID_MAX + 1], ent[PH_ID_MAX + 1], agent[PH_ID_MAX + 1];
  struct ph_mqtt_conf mqtt;
  int64_t batch_max_records, batch_max_delay_ms;
  char outbox_path[512];
  int64_t outbox_max_batches, resend_after_s;
  int outbox_policy; /* enum ph_full_policy */
  int64_t status_interval_s, max_future_s;
  int log_level;     /* enum ph_log_level */
  struct ph_agent_source sources[PH_AGENT_MAX_SOURCES];
  int nsources;
};

/* cat is borrowed and must outlive c (sources keep it). */
int ph_agent_config_load(const char *path, const struct ph_catalog *cat, struct ph_agent_config *c,
                         struct ph_err *err);
/* --check-config: like ph_agent_config_load, but notes every problem in pr
 * (messages "json.path: reason") and goes on; PH_ECONFIG when any. Call
 * ph_agent_config_fini afterwards either way. */
int ph_agent_config_check(const char *path, const struct ph_catalog *cat, struct ph_agent_config *c,
                          struct ph_cfg_problems *pr);
/* Calls each source's exit; accepts a half-loaded config. */
void ph_agent_config_fini(struct ph_agent_config *c);
void ph_agent_config_help(FILE *out);

#endif
