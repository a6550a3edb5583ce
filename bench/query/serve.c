/* serve.c — the API over a benchmark database (bench/query/README.md).
 *
 *   ph_bench_query_serve --init DB        create the hub schema (then gen.sql fills it)
 *   ph_bench_query_serve --aggregate DB   build the daily CEMS aggregates (and point_first) of gen.sql's data
 *   ph_bench_query_serve DB PORT [THREADS [--baseline]]
 *       serve park "bench" (and "bench1".."bench9" with BENCH_PARKS=10; each
 *       100 enterprises e000..e099, Asia/Shanghai) with the admin
 *       token "bench-token" until SIGINT/SIGTERM; prints "ready PORT". --baseline: every
 *       figure from the hours, as before the daily aggregates (the comparison's old path).
 */
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "api/api.h"
#include "parkhub/catalog.h"
#include "parkhub/factors.h"
#include "parkhub/limits.h"
#include "config/hub_config.h"
#include "domain/cems_agg.h"
#include "domain/stmt_cache.h"
#include "store/store.h"
#include "store/store_sql.h"
#include "parkhub/tz.h"

#define NENTS 100

/* The daily CEMS aggregates of gen.sql's hours, as migration 6 would build
 * them from an older database's, and each point's first hour (migration 9:
 * gen.sql writes rollups by SQL, not through the writer); one transaction. */
static int aggregate(const char *path) {
  sqlite3 *db;
  struct ph_err err = {0};
  int rc = sqlite3_open(path, &db) != SQLITE_OK || sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
           ph_cems_agg_rebuild(db, &err) ||
           sqlite3_exec(db, "DELETE FROM point_first;" STORE_SQL_POINT_FIRST_FILL, NULL, NULL, NULL) != SQLITE_OK ||
           sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK;
  if (rc) fprintf(stderr, "serve: aggregating: %s\n", err.msg[0] ? err.msg : sqlite3_errmsg(db));
  sqlite3_close(db);
  return rc;
}

int main(int argc, char **argv) {
  struct ph_err err = {0};
  if (argc == 3 && !strcmp(argv[1], "--init")) {
    struct ph_store *st;
    if (ph_store_open(argv[2], &st, &err)) {
      fprintf(stderr, "serve: %s\n", err.msg);
      return 1;
    }
    ph_store_close(st);
    return 0;
  }
  if (argc == 3 && !strcmp(argv[1], "--aggregate")) /* after gen.sql, which writes cems_hours directly */
    return aggregate(argv[2]);
  if (argc > 4 && !strcmp(argv[4], "--baseline")) { /* before any reader thread */
    ph_cems_agg_use(false);
    ph_stmt_cache_use(false);
  }
  if (argc < 3) {
    fprintf(stderr, "usage: %s --init DB | --aggregate DB | DB PORT [THREADS [--baseline]]\n", argv[0]);
    return 2;
  }
  static struct ph_hub_config cfg;
  /* BENCH_PARKS (run.sh): parks "bench", "bench1".."bench9", as gen.sql made them */
  const char *np = getenv("BENCH_PARKS");
  cfg.nparks = np ? atoi(np) : 1;
  if (cfg.nparks < 1 || cfg.nparks > 10) {
    fprintf(stderr, "serve: BENCH_PARKS must be 1..10\n");
    return 2;
  }
  for (int p = 0; p < cfg.nparks; p++) {
    struct ph_hub_park *pk = &cfg.parks[p];
    if (p == 0) strcpy(pk->id, "bench");
    else snprintf(pk->id, sizeof pk->id, "bench%d", p);
    snprintf(pk->name, sizeof pk->name, "Benchmark park %d", p);
    strcpy(pk->tz, "Asia/Shanghai");
    pk->ents = ph_calloc(NENTS, sizeof(struct ph_hub_ent));
    pk->nents = NENTS;
    for (int i = 0; i < NENTS; i++) {
      struct ph_hub_ent *e = &pk->ents[i];
      snprintf(e->id, sizeof e->id, "e%03d", i);
      snprintf(e->name, sizeof e->name, "Smelter %d", i);
      snprintf(e->agents[0], sizeof e->agents[0], "gw");
      e->nagents = 1;
      e->expected_interval_s = 3600;
      strcpy(e->standard, "gb31574-2015");
    }
  }
  struct ph_tz *tz;
  struct ph_catalog *cat;
  if (ph_tz_load("Asia/Shanghai", &tz, &err) || ph_catalog_load_builtin(&cat, &err)) {
    fprintf(stderr, "serve: %s\n", err.msg);
    return 1;
  }
  struct ph_api_conf conf;
  ph_api_conf_defaults(&conf);
  conf.enabled = true;
  conf.port = atoi(argv[2]);
  conf.max_connections = 512; /* run.sh's 200 concurrent summary clients all come from 127.0.0.1 */
  conf.max_connections_per_ip = 512;
  if (argc > 3) conf.threads = atoi(argv[3]);
  struct ph_api_token *t = &conf.tokens[conf.ntokens++];
  strcpy(t->name, "bench");
  t->role = PH_API_ROLE_ADMIN;
  char hex[65];
  ph_api_token_hash_hex("bench-token", hex);
  for (int i = 0; i < 32; i++) {
    unsigned x;
    sscanf(hex + 2 * i, "%2x", &x);
    t->sha256[i] = (unsigned char)x;
  }
  struct ph_limits *lim;
  struct ph_factors *fac;
  if (ph_limits_load_builtin(&lim, &err) || ph_factors_load_builtin(&fac, &err)) { /* the report needs both */
    fprintf(stderr, "serve: %s\n", err.msg);
    return 1;
  }
  struct ph_refs refs = {.cfg = &cfg, .cat = cat, .limits = {lim}, .nlimits = 1, .factors = fac};
  for (int p = 0; p < cfg.nparks; p++) refs.tz[p] = tz; /* one zone, shared read-only */
  struct ph_api_env env = {.db_path = argv[1], .refs = &refs};
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL); /* before the API's threads start: they inherit it */
  struct ph_api *api;
  if (ph_api_start(&conf, &env, &api, &err)) {
    fprintf(stderr, "serve: %s\n", err.msg);
    return 1;
  }
  printf("ready %d\n", ph_api_port(api));
  fflush(stdout);
  int sig;
  sigwait(&set, &sig);
  struct ph_api_stats s;
  ph_api_stats(api, &s);
  fprintf(stderr, "serve: %llu requests, %llu answered 200\n", (unsigned long long)s.requests,
          (unsigned long long)s.by_code[0]);
  ph_api_stop(api);
  ph_catalog_free(cat);
  ph_limits_free(lim);
  ph_factors_free(fac);
  ph_tz_free(tz);
  ph_hub_config_fini(&cfg);
  return 0;
}
