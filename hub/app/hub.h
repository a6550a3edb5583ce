/* hub.h — parkhub's core: builds the pipeline (ingest → queue → writer →
 * acks) from the config, runs until asked to stop, and shuts down in order:
 * drain (commit and ack what arrived), say offline, disconnect, stop the
 * writer. */
#ifndef PARKHUB_HUB_H
#define PARKHUB_HUB_H

#include <signal.h>

#include "config/hub_config.h"

#define PH_HUB_VERSION "0.1.0"

extern volatile sig_atomic_t ph_hub_stop_flag;
/* Set by SIGHUP: the hub reads cfg->path again and applies what can change
 * while it runs (db.max_size_mb); other changes are logged as needing a
 * restart. */
extern volatile sig_atomic_t ph_hub_reload_flag;

int ph_hub_run(const struct ph_hub_config *cfg, struct ph_err *err);

#endif
