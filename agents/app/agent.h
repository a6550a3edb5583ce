/* agent.h — parkagent's core: wires config, sources, batcher, outbox and
 * publisher together and runs the single-threaded loop until asked to stop. */
#ifndef PARKHUB_AGENT_H
#define PARKHUB_AGENT_H

#include <signal.h>

#include "app/agent_config.h"
#include "parkhub/catalog.h"

#define PH_VERSION "0.1.0"

/* Set from signal handlers: stop (SIGTERM/SIGINT) and reopen (SIGHUP). */
extern volatile sig_atomic_t ph_agent_stop_flag, ph_agent_hup_flag;

/* Runs until ph_agent_stop_flag; returns 0 after a clean stop. cfg and cat
 * are borrowed; sources in cfg are started and stopped here. */
int ph_agent_run(struct ph_agent_config *cfg, const struct ph_catalog *cat, struct ph_err *err);

#endif
