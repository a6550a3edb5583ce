/* api_metrics.c — GET /metrics (Prometheus text: the hub's own counters
 * through env.metrics, gauges read from the database, the API's request
 * counters and duration histogram, its connections) and GET /healthz.
 *
 * Callers: api.c's dispatch (/metrics after the admin check; /healthz
 * without a token). Threads: a pool thread's.
 *
 * Invariants:
 *  1. /metrics needs an admin token (checked by the caller); /healthz
 *     reveals only "ok" or a reason it is not ready.
 *  2. the counters are read with atomic loads: a scrape never blocks a
 *     request.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "api_server.h"
#include "parkhub/alloc.h"

#define METRICS_FIRST_CAP 65536

static void db_size_line(struct api_buf *b, const char *file, const char *path) {
  struct stat sb;
  long long n = stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
  api_buf_printf(b, "parkhub_db_size_bytes{file=\"%s\"} %lld\n", file, n);
}

/* Gauges read from the database: what is open and who is online. */
static void db_gauges(struct ph_api *a, struct api_req *r) {
  char why[256];
  if (!r->w && !(r->w = api_worker_get(a, why, sizeof why))) return;
  struct api_buf *b = &r->out;
  sqlite3_stmt *s;
  if (api_has_alarms(r) && (s = api_stmt(r, API_ST_OPEN_ALARMS))) {
    api_buf_puts(b, "# HELP parkhub_alarms_open Alarms not yet closed, by park and severity.\n"
                    "# TYPE parkhub_alarms_open gauge\n");
    static const char *const sev[] = {"critical", "major", "minor", "warning"};
    for (int p = 0; p < a->env.refs->cfg->nparks; p++) {
      long long n[4] = {0};
      sqlite3_reset(s);
      while (sqlite3_step(s) == SQLITE_ROW) {
        if (strcmp((const char *)sqlite3_column_text(s, 0), a->env.refs->cfg->parks[p].id)) continue;
        for (int k = 0; k < 4; k++)
          if (!strcmp((const char *)sqlite3_column_text(s, 1), sev[k])) n[k] = sqlite3_column_int64(s, 2);
      }
      for (int k = 0; k < 4; k++)
        api_buf_printf(b, "parkhub_alarms_open{park=\"%s\",severity=\"%s\"} %lld\n", a->env.refs->cfg->parks[p].id,
                       sev[k], n[k]);
    }
    sqlite3_reset(s);
  }
  if ((s = api_stmt(r, API_ST_ONLINE))) {
    api_buf_puts(b, "# HELP parkhub_agents_online Agents whose latest status message says online, by park.\n"
                    "# TYPE parkhub_agents_online gauge\n");
    for (int p = 0; p < a->env.refs->cfg->nparks; p++) {
      long long n = 0;
      sqlite3_reset(s);
      while (sqlite3_step(s) == SQLITE_ROW)
        if (!strcmp((const char *)sqlite3_column_text(s, 0), a->env.refs->cfg->parks[p].id)) n = sqlite3_column_int64(s, 1);
      api_buf_printf(b, "parkhub_agents_online{park=\"%s\"} %lld\n", a->env.refs->cfg->parks[p].id, n);
    }
    sqlite3_reset(s);
  }
}

int api_get_metrics(struct ph_api *a, struct api_req *r) {
  struct api_buf *b = &r->out;
  if (a->env.metrics) {
    size_t cap = METRICS_FIRST_CAP;
    for (int attempt = 0; attempt < 2; attempt++) {
      char *t = ph_malloc(cap);
      if (!t) return api_fail(r, 500, NULL, "out of memory");
      int n = a->env.metrics(a->env.u, t, cap);
      if (n < 0) {
        ph_free(t);
        return api_fail(r, 500, NULL, "the hub's metrics failed");
      }
      if ((size_t)n < cap) {
        api_buf_put(b, t, (size_t)n);
        if (n > 0 && t[n - 1] != '\n') api_buf_put(b, "\n", 1);
        ph_free(t);
        break;
      }
      ph_free(t);
      cap = (size_t)n + 1;
    }
  }
  db_gauges(a, r);
  api_buf_puts(b, "# HELP parkhub_db_size_bytes Size of the hub database files.\n"
                  "# TYPE parkhub_db_size_bytes gauge\n");
  char path[600];
  db_size_line(b, "main", a->env.db_path);
  snprintf(path, sizeof path, "%s-wal", a->env.db_path);
  db_size_line(b, "wal", path);
  api_buf_puts(b, "# HELP parkhub_api_requests_total HTTP API requests answered, by status code.\n"
                  "# TYPE parkhub_api_requests_total counter\n");
  for (int i = 0; i < PH_API_NCODES; i++) {
    char code[8];
    if (i < PH_API_NCODES - 1)
      snprintf(code, sizeof code, "%d", api_status_codes[i]);
    else
      strcpy(code, "other");
    api_buf_printf(b, "parkhub_api_requests_total{code=\"%s\"} %llu\n", code,
                   (unsigned long long)atomic_load(&a->by_code[i]));
  }
  api_buf_puts(b, "# HELP parkhub_api_request_duration_seconds Time to answer an API request.\n"
                  "# TYPE parkhub_api_request_duration_seconds histogram\n");
  uint64_t cum = 0;
  for (size_t i = 0; i <= API_NHIST; i++) {
    cum += atomic_load(&a->hist[i]);
    if (i < API_NHIST)
      api_buf_printf(b, "parkhub_api_request_duration_seconds_bucket{le=\"%g\"} %llu\n", (double)api_hist_us[i] / 1e6,
                     (unsigned long long)cum);
    else
      api_buf_printf(b, "parkhub_api_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
  }
  api_buf_printf(b, "parkhub_api_request_duration_seconds_sum %.6f\n",
                 (double)atomic_load(&a->dur_us_sum) / 1e6);
  api_buf_printf(b, "parkhub_api_request_duration_seconds_count %llu\n", (unsigned long long)cum);
  struct api_conns_stats cst;
  api_conns_stats(a->conns, &cst);
  api_buf_puts(b, "# HELP parkhub_api_connections_open HTTP connections open now.\n"
                  "# TYPE parkhub_api_connections_open gauge\n");
  api_buf_printf(b, "parkhub_api_connections_open %d\n", cst.open);
  api_buf_puts(b, "# HELP parkhub_api_connections_cut_total HTTP connections closed because the request's headers or "
                  "body missed their deadline (http.header_timeout_s, http.body_timeout_s).\n"
                  "# TYPE parkhub_api_connections_cut_total counter\n");
  api_buf_printf(b, "parkhub_api_connections_cut_total{phase=\"headers\"} %llu\n",
                 (unsigned long long)cst.cut_headers);
  api_buf_printf(b, "parkhub_api_connections_cut_total{phase=\"body\"} %llu\n", (unsigned long long)cst.cut_body);
  api_buf_puts(b, "# HELP parkhub_api_db_connections_opened_total Read connections the API opened.\n"
                  "# TYPE parkhub_api_db_connections_opened_total counter\n");
  api_buf_printf(b, "parkhub_api_db_connections_opened_total %llu\n", (unsigned long long)atomic_load(&a->db_opens));
  r->ctype = "text/plain; version=0.0.4; charset=utf-8";
  return 200;
}

int api_get_healthz(struct ph_api *a, struct api_req *r) {
  char why[256] = "";
  int ready = 1;
  struct api_worker *w = api_worker_get(a, why, sizeof why);
  if (!w) {
    ready = 0;
  } else {
    r->w = w;
    sqlite3_stmt *s = api_stmt(r, API_ST_HEALTH);
    if (!s || sqlite3_step(s) != SQLITE_ROW) {
      snprintf(why, sizeof why, "database: %s", sqlite3_errmsg(w->db));
      ready = 0;
    }
    if (s) sqlite3_reset(s);
  }
  if (ready && a->env.health && a->env.health(a->env.u, why, sizeof why)) ready = 0;
  struct api_json j;
  aj_init(&j, &r->out);
  aj_obj(&j, NULL);
  aj_str(&j, "status", ready ? "ok" : "not ready");
  if (!ready) aj_str(&j, "reason", why[0] ? why : "not ready");
  aj_end_obj(&j);
  api_buf_put(&r->out, "\n", 1);
  r->ctype = "application/json";
  return ready ? 200 : 503;
}

