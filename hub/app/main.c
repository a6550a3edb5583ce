/* main.c — parkhub's command line: options, signals, and the hand-over to
 * the hub (hub.c); `parkhub report …` hands over to the report (report.c).
 * Exit codes: 0 done, 1 failure (config, database, I/O), 2 bad command line. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/check_config.h"
#include "app/hub.h"
#include "parkhub/jsonarena.h"
#include "config/hub_config.h"
#include "parkhub/log.h"
#include "report/report.h"
#include "api/token_cmd.h"

#define PH_VERSION PH_HUB_VERSION

static void on_stop(int sig) {
  (void)sig;
  ph_hub_stop_flag = 1;
}

static void on_reload(int sig) {
  (void)sig;
  ph_hub_reload_flag = 1;
}

static void install_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sa.sa_handler = on_reload;
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
}

static const char report_usage[] =
    "Usage: parkhub report --config FILE --park P|--parks A,B|all --year Y --format json|csv|html [--lang zh-CN|en]\n"
    "                      [--out FILE]\n";

static void usage(FILE *out) {
  fputs("Usage: parkhub --config FILE [--check-config] [--log-level LEVEL]\n"
        "       parkhub report --config FILE --park P|--parks A,B|all --year Y --format json|csv|html\n"
        "                      [--lang zh-CN|en]\n"
        "                      [--out FILE]\n"
        "       parkhub hash-token [--new] < token\n"
        "\n"
        "parkhub is an industrial park's telemetry hub: it ingests the batches that the\n"
        "enterprises' parkagents publish over MQTT, validates, dedupes and stores them in\n"
        "SQLite, rolls them up per minute, hour and day, and acks each agent after commit.\n"
        "\n"
        "Options:\n"
        "  -c, --config FILE     hub configuration (JSON; schemas/hub-config.schema.json)\n"
        "      --check-config    validate the configuration and the files and folders it names\n"
        "                        (database folder writable, rules, limits and factors files load,\n"
        "                        TLS files readable); list every problem; exit 1 if any\n"
        "      --check-config-keys  the same for the keys only, not the files (a config checked\n"
        "                        away from the host it is for)\n"
        "  -l, --log-level L     debug, info, warn or error (overrides the config)\n"
        "  -h, --help            this help, with every configuration key\n"
        "  -V, --version         print the version\n"
        "\n"
        "parkhub report writes the annual report of park P for its local calendar year Y:\n"
        "per enterprise and for the park, emissions, compliance, the PCDD/F inventory, the\n"
        "stack-test plan, the material balance and indicators (docs/report.md). It opens\n"
        "the database (db.path) read-only and may run while the hub runs.\n"
        "  -c, --config FILE     hub configuration (the hub's own)\n"
        "  -p, --park P          park id\n"
        "  -P, --parks A,B|all   instead of --park: the region report of these parks (all: every\n"
        "                        park of the config): each park's report and the region's totals\n"
        "                        (a total only when every park has the figure; docs/report.md)\n"
        "  -y, --year Y          local calendar year (1971..9998)\n"
        "  -f, --format F        json (the full tree), csv (one block per section), html (printable)\n"
        "  -L, --lang L          zh-CN or en: the language of the html's words and of the csv's\n"
        "                        reasons (json keeps English); default: the park's (zh-CN for a\n"
        "                        park in a Chinese time zone)\n"
        "  -o, --out FILE        write FILE (complete or not at all); default: standard output\n"
        "\n"
        "parkhub hash-token reads an HTTP API bearer token from standard input and prints\n"
        "the SHA-256 that http.tokens[].sha256 holds; --new makes a random token and\n"
        "prints it with its hash.\n"
        "\n"
        "SIGTERM or SIGINT: stop (commit and ack what arrived). SIGHUP: read the config\n"
        "file again and apply every changed key marked [reloadable: SIGHUP] below; a\n"
        "changed key without the mark is logged as needing a restart and not applied.\n"
        "\n"
        "With an \"http\" object in the config the hub serves the query API (/api/v1,\n"
        "docs/openapi.yaml), /metrics, /healthz and the dashboard at /.\n"
        "\n"
        "Configuration keys:\n",
        out);
  ph_hub_config_help(out);
}

static int report_main(int argc, char **argv) {
  static const struct option opts[] = {
      {"config", required_argument, NULL, 'c'}, {"park", required_argument, NULL, 'p'},
      {"parks", required_argument, NULL, 'P'},
      {"year", required_argument, NULL, 'y'},   {"format", required_argument, NULL, 'f'},
      {"out", required_argument, NULL, 'o'},    {"lang", required_argument, NULL, 'L'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  struct ph_report_args a = {0};
  const char *year = NULL, *format = NULL, *lang = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "c:p:P:y:f:o:L:h", opts, NULL)) != -1) {
    switch (c) {
    case 'c': a.config = optarg; break;
    case 'p': a.park = optarg; break;
    case 'P': a.parks = optarg; break;
    case 'y': year = optarg; break;
    case 'f': format = optarg; break;
    case 'o': a.out_path = optarg; break;
    case 'L': lang = optarg; break;
    case 'h': fputs(report_usage, stdout); return 0;
    default: fprintf(stderr, "%sTry 'parkhub --help'.\n", report_usage); return 2;
    }
  }
  if (a.park && a.parks) {
    fprintf(stderr, "parkhub report: --park and --parks exclude each other\n%s", report_usage);
    return 2;
  }
  const char *missing = !a.config ? "--config FILE" : !a.park && !a.parks ? "--park P (or --parks)" : !year ? "--year Y" : !format ? "--format F" : NULL;
  if (optind < argc || missing) {
    fprintf(stderr, "parkhub report: %s%s\n%s", optind < argc ? "unexpected argument " : missing,
            optind < argc ? argv[optind] : " is required", report_usage);
    return 2;
  }
  char *end;
  errno = 0;
  long y = strtol(year, &end, 10);
  if (errno || end == year || *end || y < 1971 || y > 9998) {
    fprintf(stderr, "parkhub report: --year: '%s' is not a year between 1971 and 9998\n", year);
    return 2;
  }
  a.year = (int)y;
  if (ph_report_format_parse(format, &a.format)) {
    fprintf(stderr, "parkhub report: --format: '%s' is not json, csv or html\n", format);
    return 2;
  }
  if (lang && ph_lang_parse(lang, strlen(lang), &a.lang)) {
    fprintf(stderr, "parkhub report: --lang: '%s' is not zh-CN or en (e.g. --lang zh-CN)\n", lang);
    return 2;
  }
  a.lang_set = lang != NULL;
  struct ph_err err = {0};
  int rc = ph_report_run(&a, &err);
  if (rc) fprintf(stderr, "parkhub report: %s\n", err.msg);
  return rc == 0 ? 0 : rc == PH_EINVAL ? 2 : 1;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "report") == 0) return report_main(argc - 1, argv + 1);
  if (argc > 1 && strcmp(argv[1], "hash-token") == 0) return ph_token_cmd_main(argc - 1, argv + 1);
  static const struct option opts[] = {
      {"config", required_argument, NULL, 'c'}, {"check-config", no_argument, NULL, 'k'},
      {"check-config-keys", no_argument, NULL, 'K'},
      {"log-level", required_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0},
  };
  const char *config = NULL, *level = NULL;
  bool check = false, keys_only = false;
  int c;
  while ((c = getopt_long(argc, argv, "c:l:hV", opts, NULL)) != -1) {
    switch (c) {
    case 'c': config = optarg; break;
    case 'k': check = true; break;
    case 'K': check = keys_only = true; break;
    case 'l': level = optarg; break;
    case 'h': usage(stdout); return 0;
    case 'V': printf("parkhub %s\n", PH_VERSION); return 0;
    default: fputs("Try 'parkhub --help'.\n", stderr); return 2;
    }
  }
  if (optind < argc || !config) {
    fprintf(stderr, "parkhub: %s\nTry 'parkhub --help'.\n",
            optind < argc ? "unexpected argument" : "--config FILE is required");
    return 2;
  }
  enum ph_log_level lvl;
  if (level && ph_log_level_parse(level, &lvl)) {
    fprintf(stderr, "parkhub: --log-level: '%s' is not debug, info, warn or error\n", level);
    return 2;
  }
  ph_json_arena_install(); /* before any thread starts */
  if (check) return ph_hub_check_config(config, !keys_only, stdout);
  static struct ph_hub_config cfg;
  struct ph_err err = {0};
  int rc = ph_hub_config_load(config, &cfg, &err);
  if (rc) {
    fprintf(stderr, "parkhub: configuration error: %s\n(parkhub --config %s --check-config lists every problem)\n",
            err.msg, config);
  } else {
    ph_log_set_level(level ? lvl : (enum ph_log_level)cfg.log_level);
    install_signals();
    PH_INFO("hub", "parkhub %s starting: hub %s", PH_VERSION, cfg.hub_id);
    rc = ph_hub_run(&cfg, &err);
    if (rc)
      PH_ERROR("hub", "%s", err.msg);
    else
      PH_INFO("hub", "stopped cleanly");
  }
  ph_hub_config_fini(&cfg);
  return rc ? 1 : 0;
}
