/* main.c — parkagent's command line: options, signals, and the hand-over
 * to the agent loop (agent.c). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/agent.h"
#include "app/check_config.h"
#include "app/agent_config.h"
#include "parkhub/log.h"

int ph_hj212_dump(const char *path, const struct ph_catalog *cat, const struct ph_agent_config *cfg, FILE *out,
                  struct ph_err *err); /* hj212_dump.c */

static void usage(FILE *out) {
  fputs("Usage: parkagent --config FILE [--check-config] [--log-level LEVEL]\n"
        "       parkagent --hj212-dump CAPTURE [--config FILE]\n"
        "\n"
        "parkagent reads process, material and emission records from its sources on an\n"
        "enterprise gateway, keeps them in a durable outbox and publishes them over MQTT to\n"
        "the park's hub, deleting a batch only when the hub has confirmed storing it.\n"
        "\n"
        "Options:\n"
        "  -c, --config FILE     agent configuration (JSON; schemas/agent-config.schema.json)\n"
        "      --check-config    validate the configuration and the files and folders it names\n"
        "                        (outbox folder writable, source files and TLS files readable);\n"
        "                        list every problem; exit 1 if any\n"
        "      --check-config-keys  the same for the keys only, not the files (a config checked\n"
        "                        away from the host it is for)\n"
        "      --hj212-dump F    decode a capture of HJ 212 packets (raw TCP bytes, or one packet\n"
        "                        a line) and print the records it would publish, one JSON line\n"
        "                        each, and why any packet would be refused; with --config, the\n"
        "                        first hj212 source's loggers, codes and tz apply\n"
        "  -l, --log-level L     debug, info, warn or error (overrides the config)\n"
        "  -h, --help            this help, with every configuration key\n"
        "  -V, --version         print the version\n"
        "\n"
        "Signals: SIGTERM/SIGINT flush to the outbox and exit; SIGHUP reopens the sources'\n"
        "files (no configuration key is reloaded: a changed config needs a restart).\n"
        "\n"
        "Configuration keys:\n",
        out);
  ph_agent_config_help(out);
}

static void on_stop(int sig) {
  (void)sig;
  ph_agent_stop_flag = 1;
}
static void on_hup(int sig) {
  (void)sig;
  ph_agent_hup_flag = 1;
}

static void install_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop; /* no SA_RESTART: poll() must return to see the flag */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sa.sa_handler = on_hup;
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"config", required_argument, NULL, 'c'}, {"check-config", no_argument, NULL, 'k'},
      {"check-config-keys", no_argument, NULL, 'K'},
      {"log-level", required_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'}, {"hj212-dump", required_argument, NULL, 'D'},
      {NULL, 0, NULL, 0},
  };
  const char *config = NULL, *level = NULL, *dump = NULL;
  bool check = false, keys_only = false;
  int c;
  while ((c = getopt_long(argc, argv, "c:l:hV", opts, NULL)) != -1) {
    switch (c) {
    case 'c': config = optarg; break;
    case 'k': check = true; break;
    case 'K': check = keys_only = true; break;
    case 'l': level = optarg; break;
    case 'h': usage(stdout); return 0;
    case 'V': printf("parkagent %s\n", PH_VERSION); return 0;
    case 'D': dump = optarg; break;
    default: fputs("Try 'parkagent --help'.\n", stderr); return 2;
    }
  }
  if (optind < argc || (!config && !dump)) {
    fprintf(stderr, "parkagent: %s\nTry 'parkagent --help'.\n",
            optind < argc ? "unexpected argument" : "--config FILE is required");
    return 2;
  }
  enum ph_log_level lvl;
  if (level && ph_log_level_parse(level, &lvl)) {
    fprintf(stderr, "parkagent: --log-level: '%s' is not debug, info, warn or error\n", level);
    return 2;
  }
  struct ph_catalog *cat = NULL;
  struct ph_err err = {0};
  if (ph_catalog_load_builtin(&cat, &err)) {
    fprintf(stderr, "parkagent: %s\n", err.msg);
    return 1;
  }
  if (check && config && !dump) {
    int code = ph_agent_check_config(config, cat, !keys_only, stdout);
    ph_catalog_free(cat);
    return code;
  }
  static struct ph_agent_config cfg;
  int rc = config ? ph_agent_config_load(config, cat, &cfg, &err) : 0;
  if (rc) {
    fprintf(stderr, "parkagent: configuration error: %s\n(parkagent --config %s --check-config lists every problem)\n",
            err.msg, config);
  } else if (dump) {
    if ((rc = ph_hj212_dump(dump, cat, config ? &cfg : NULL, stdout, &err))) fprintf(stderr, "parkagent: %s\n", err.msg);
  } else {
    ph_log_set_level(level ? lvl : (enum ph_log_level)cfg.log_level);
    install_signals();
    PH_INFO("agent", "parkagent %s starting: park %s, enterprise %s, agent %s", PH_VERSION, cfg.park, cfg.ent,
            cfg.agent);
    rc = ph_agent_run(&cfg, cat, &err);
    if (rc)
      PH_ERROR("agent", "%s", err.msg);
    else
      PH_INFO("agent", "stopped cleanly");
  }
  ph_agent_config_fini(&cfg);
  ph_catalog_free(cat);
  return rc ? 1 : 0;
}
