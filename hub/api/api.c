/* api.c — the HTTP API's server (api.h): libmicrohttpd daemon, routing,
 * bearer-token access, per-thread read connections, /metrics and
 * /healthz. The data handlers are in api_query.c and api_series.c, the
 * writers in api_csv.c, the config in api_conf.c, the connections'
 * header and body deadlines in api_conn.c.
 *
 * Callers: the hub (ph_api_start/stop), tests, bench/query.
 * Threads: libmicrohttpd's pool (conf.threads) runs every request; a
 * watchdog thread (api_conn.c) ends connections past their deadline; each
 * pool thread lazily opens its own read-only SQLite connection (a
 * pthread key owns it: closed when the thread ends) and prepares the
 * statements of api_sql.h on it once. The hub's callbacks run on these
 * threads. Counters are atomics.
 *
 * A request, in order:
 *   /healthz                      no token needed
 *   token          → 401          Authorization: Bearer <token>, by SHA-256
 *   route          → 404 / 405    unknown path / method not allowed there
 *   park           → 404 / 403    not a served park / not the token's
 *   role           → 403          ack: manager or admin; /metrics: admin
 *   arguments      → 400          named in the error: unknown, repeated, bad
 *   handler        → 200 (or 404 for an unknown series, 503 no database)
 *
 * Invariants:
 *  1. the API never writes the database: its connections are opened
 *     SQLITE_OPEN_READONLY, and an ack goes through env.ack.
 *  2. one read transaction per GET request (BEGIN … COMMIT on the worker's
 *     connection): a response, a page included, is one snapshot. In WAL
 *     mode it never blocks the writer.
 *  3. SQL is the constants of api_sql.h (and of the modules called);
 *     arguments are bound, never pasted into SQL text.
 *  4. tokens are compared as SHA-256 digests with CRYPTO_memcmp, against
 *     every configured token (no early exit).
 *  5. every error body is JSON {"error":{"status","message","param"}},
 *     whatever format was asked for.
 *  6. every connection is bounded (docs/security.md, "HTTP API"): at most
 *     max_connections open (libmicrohttpd stops accepting; the kernel's
 *     backlog holds the rest), max_connections_per_ip from one address
 *     (libmicrohttpd closes the excess at once), headers within
 *     header_timeout_s and a body within body_timeout_s however slowly
 *     bytes trickle in (api_conn.c), idle_timeout_s of silence at any
 *     point, 32 KiB of headers (libmicrohttpd's per-connection memory),
 *     PH_API_BODY_MAX of body. One source cannot take every connection, so
 *     /healthz answers others while it tries.
 *  7. HTTPS negotiates TLS 1.2 or 1.3 only (http.tls_priorities, checked
 *     by ph_api_tls_priorities_check).
 */
#include "api/api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "api_args.h"
#include "api_conn.h"
#include "api_int.h"
#include "parkhub/alloc.h"
#include "api/dashboard.h"
#include "parkhub/log.h"
#include "parkhub/timefmt.h"

#define MOD "api"
#define TLS_FILE_MAX (1 << 20)
#define METRICS_FIRST_CAP 65536

static const int status_codes[PH_API_NCODES - 1] = {200, 400, 401, 403, 404, 405, 413, 500, 501, 503};
/* request duration histogram, upper bounds in µs (+Inf last) */
static const int64_t hist_us[] = {1000, 5000, 10000, 50000, 100000, 500000, 1000000, 5000000};
#define NHIST (sizeof hist_us / sizeof hist_us[0])

struct api_worker {
  struct api_worker *next, *prev;
  struct ph_api *api;
  sqlite3 *db;
  sqlite3_stmt *st[API_ST_COUNT];
};

struct ph_api {
  struct ph_api_conf conf;
  struct ph_api_env env;
  struct MHD_Daemon *d;
  struct api_conns *conns; /* deadlines (inv. 6) */
  int port;
  bool tls;
  char *tls_cert, *tls_key;
  pthread_key_t key;
  bool key_made;
  pthread_mutex_t mu; /* workers list, log rate limit */
  struct api_worker *workers;
  struct ph_ratelimit logrl;
  _Atomic uint64_t requests, by_code[PH_API_NCODES], db_opens, db_failures;
  _Atomic uint64_t hist[NHIST + 1], dur_us_sum;
};

/* One HTTP request across libmicrohttpd's calls. */
struct call {
  int64_t t0_us;
  struct api_buf body;
  bool too_large;
};

static const char *const sql_text[API_ST_COUNT] = {
    [API_ST_BEGIN] = API_SQL_BEGIN,
    [API_ST_COMMIT] = API_SQL_COMMIT,
    [API_ST_HAS_ALARMS] = API_SQL_HAS_ALARMS,
    [API_ST_HEALTH] = API_SQL_HEALTH,
    [API_ST_AGENTS] = API_SQL_AGENTS,
    [API_ST_POINTS] = API_SQL_POINTS,
    [API_ST_SERIES_ID] = API_SQL_SERIES_ID,
    [API_ST_ROLLUPS] = API_SQL_ROLLUPS,
    [API_ST_CHUNKS] = API_SQL_CHUNKS,
    [API_ST_ENT_METRICS] = API_SQL_ENT_METRICS,
    [API_ST_MATERIALS] = API_SQL_MATERIALS,
    [API_ST_ALARM_COUNTS] = API_SQL_ALARM_COUNTS,
    [API_ST_ALARMS] = API_SQL_ALARMS,
    [API_ST_ALARM_GET] = API_SQL_ALARM_GET,
    [API_ST_OPEN_ALARMS] = API_SQL_OPEN_ALARMS,
    [API_ST_ONLINE] = API_SQL_ONLINE,
};

static int64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- per-thread read connections ---- */

static void worker_close(struct api_worker *w) {
  for (int i = 0; i < API_ST_COUNT; i++) sqlite3_finalize(w->st[i]);
  sqlite3_close(w->db);
  ph_free(w);
}

static void worker_unlink(struct ph_api *a, struct api_worker *w) {
  pthread_mutex_lock(&a->mu);
  if (w->prev)
    w->prev->next = w->next;
  else
    a->workers = w->next;
  if (w->next) w->next->prev = w->prev;
  pthread_mutex_unlock(&a->mu);
}

/* pthread key destructor: the pool thread ends. */
static void worker_destroy(void *p) {
  struct api_worker *w = p;
  worker_unlink(w->api, w);
  worker_close(w);
}

static struct api_worker *worker_get(struct ph_api *a, char *why, size_t cap) {
  struct api_worker *w = pthread_getspecific(a->key);
  if (w) return w;
  w = ph_calloc(1, sizeof *w);
  if (!w) {
    snprintf(why, cap, "out of memory");
    return NULL;
  }
  w->api = a;
  int rc = sqlite3_open_v2(a->env.db_path, &w->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    snprintf(why, cap, "database %s: %s", a->env.db_path, w->db ? sqlite3_errmsg(w->db) : sqlite3_errstr(rc));
    atomic_fetch_add(&a->db_failures, 1);
    worker_close(w);
    return NULL;
  }
  sqlite3_busy_timeout(w->db, 2000);
  sqlite3_extended_result_codes(w->db, 1);
  atomic_fetch_add(&a->db_opens, 1);
  pthread_mutex_lock(&a->mu);
  w->next = a->workers;
  if (w->next) w->next->prev = w;
  a->workers = w;
  pthread_mutex_unlock(&a->mu);
  pthread_setspecific(a->key, w);
  return w;
}

sqlite3 *api_db(struct api_req *r) { return r->w->db; }

sqlite3_stmt *api_stmt(struct api_req *r, enum api_stmt_id id) {
  struct api_worker *w = r->w;
  if (!w->st[id]) {
    if (sqlite3_prepare_v3(w->db, sql_text[id], -1, SQLITE_PREPARE_PERSISTENT, &w->st[id], NULL) != SQLITE_OK) {
      sqlite3_finalize(w->st[id]);
      w->st[id] = NULL;
      return NULL;
    }
    return w->st[id];
  }
  sqlite3_reset(w->st[id]);
  sqlite3_clear_bindings(w->st[id]);
  return w->st[id];
}

int api_db_fail(struct api_req *r, const char *what) {
  PH_WARN(MOD, "%s: %s", what, sqlite3_errmsg(r->w->db));
  return api_fail(r, 500, NULL, "database error while %s", what);
}

bool api_has_alarms(struct api_req *r) {
  sqlite3_stmt *s = api_stmt(r, API_ST_HAS_ALARMS);
  bool yes = s && sqlite3_step(s) == SQLITE_ROW;
  if (s) sqlite3_reset(s);
  return yes;
}

/* Ends the request's use of the connection: statements reset, read
 * transaction closed. */
static void worker_done(struct api_worker *w) {
  for (int i = 0; i < API_ST_COUNT; i++)
    if (w->st[i]) sqlite3_reset(w->st[i]);
  if (!sqlite3_get_autocommit(w->db)) {
    sqlite3_stmt *c = w->st[API_ST_COMMIT];
    if (!c && sqlite3_prepare_v3(w->db, API_SQL_COMMIT, -1, SQLITE_PREPARE_PERSISTENT, &w->st[API_ST_COMMIT],
                                 NULL) == SQLITE_OK)
      c = w->st[API_ST_COMMIT];
    if (c) {
      sqlite3_step(c);
      sqlite3_reset(c);
    }
  }
}

/* ---- errors and arguments ---- */

int api_fail(struct api_req *r, int status, const char *param, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  api_buf_reset(&r->out);
  struct api_json j;
  aj_init(&j, &r->out);
  aj_obj(&j, NULL);
  aj_obj(&j, "error");
  aj_int(&j, "status", status);
  aj_str(&j, "message", msg);
  if (param) aj_str(&j, "param", param);
  aj_end_obj(&j);
  aj_end_obj(&j);
  api_buf_put(&r->out, "\n", 1);
  r->ctype = "application/json";
  r->link[0] = 0;
  r->status = status;
  return status;
}

const char *api_arg(struct api_req *r, const char *name) {
  return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct args_check {
  struct api_req *r;
  const char *const *allowed;
  unsigned seen;
  const char *bad, *why;
};

static enum MHD_Result args_it(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  (void)kind;
  struct args_check *c = cls;
  int i = 0;
  if (strcmp(key, "format") != 0) {
    for (i = 1; c->allowed[i - 1]; i++)
      if (!strcmp(c->allowed[i - 1], key)) break;
    if (!c->allowed[i - 1]) {
      c->bad = key, c->why = "unknown argument";
      return MHD_NO;
    }
  }
  if (i < 32 && (c->seen & (1u << i))) {
    c->bad = key, c->why = "given more than once";
    return MHD_NO;
  }
  if (i < 32) c->seen |= 1u << i;
  if (!value || !*value) {
    c->bad = key, c->why = "needs a value";
    return MHD_NO;
  }
  return MHD_YES;
}

int api_args_check(struct api_req *r, const char *const *allowed) {
  struct args_check c = {.r = r, .allowed = allowed};
  MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, args_it, &c);
  if (!c.bad) return 0;
  char name[72];
  snprintf(name, sizeof name, "%.64s", c.bad);
  return api_fail(r, 400, name, "%s: %s", name, c.why);
}

int api_arg_time(struct api_req *r, const char *name, bool required, int64_t *out, bool *given) {
  const char *v = api_arg(r, name);
  if (given) *given = v != NULL;
  if (!v) return required ? api_fail(r, 400, name, "%s: required (RFC 3339 time)", name) : 0;
  if (api_parse_time(v, out))
    return api_fail(r, 400, name, "%s: '%.40s' is not an RFC 3339 time (e.g. 2026-01-01T00:00:00Z)", name, v);
  return 0;
}

int api_arg_id(struct api_req *r, const char *name, bool required, const char **out) {
  const char *v = api_arg(r, name);
  *out = v;
  if (!v) return required ? api_fail(r, 400, name, "%s: required", name) : 0;
  if (!ph_id_valid_z(v)) return api_fail(r, 400, name, "%s: not an id ([a-z0-9][a-z0-9_-]{0,63})", name);
  return 0;
}

int api_arg_int(struct api_req *r, const char *name, int64_t min, int64_t max, int64_t def, int64_t *out) {
  const char *v = api_arg(r, name);
  *out = def;
  if (!v) return 0;
  if (api_parse_int(v, min, max, out))
    return api_fail(r, 400, name, "%s: must be a whole number in %lld..%lld", name, (long long)min,
                    (long long)max);
  return 0;
}

int api_arg_word(struct api_req *r, const char *name, const char *const *words, int def, int *out) {
  const char *v = api_arg(r, name);
  *out = def;
  if (!v || !api_parse_word(v, words, out)) return 0;
  char allowed[200] = "";
  for (int i = 0; words[i]; i++) {
    strncat(allowed, i ? "|" : "", sizeof allowed - strlen(allowed) - 1);
    strncat(allowed, words[i], sizeof allowed - strlen(allowed) - 1);
  }
  return api_fail(r, 400, name, "%s: must be one of %s", name, allowed);
}

bool api_token_sees(const struct ph_api_token *t, const char *park) {
  if (t->nparks == 0) return true;
  for (int i = 0; i < t->nparks; i++)
    if (!strcmp(t->parks[i], park)) return true;
  return false;
}

/* ---- access ---- */

/* The configured token presented in the Authorization header, or NULL.
 * inv. 4: digests compared in constant time, every token visited. */
static const struct ph_api_token *authenticate(struct ph_api *a, struct MHD_Connection *c, bool *present) {
  const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
  *present = h != NULL;
  if (!h || strncasecmp(h, "Bearer ", 7) != 0) return NULL;
  const char *tok = h + 7;
  while (*tok == ' ') tok++;
  size_t n = strlen(tok);
  while (n && tok[n - 1] == ' ') n--;
  if (n == 0 || n > PH_API_TOKEN_MAX) return NULL;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  if (EVP_Digest(tok, n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != PH_API_SHA256_LEN) return NULL;
  const struct ph_api_token *found = NULL;
  for (int i = 0; i < a->conf.ntokens; i++)
    if (CRYPTO_memcmp(md, a->conf.tokens[i].sha256, PH_API_SHA256_LEN) == 0) found = &a->conf.tokens[i];
  OPENSSL_cleanse(md, sizeof md);
  return found;
}

/* ---- /metrics and /healthz ---- */

static void db_size_line(struct api_buf *b, const char *file, const char *path) {
  struct stat sb;
  long long n = stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
  api_buf_printf(b, "parkhub_db_size_bytes{file=\"%s\"} %lld\n", file, n);
}

/* Gauges read from the database: what is open and who is online. */
static void db_gauges(struct ph_api *a, struct api_req *r) {
  char why[256];
  if (!r->w && !(r->w = worker_get(a, why, sizeof why))) return;
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

static int get_metrics(struct ph_api *a, struct api_req *r) {
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
      snprintf(code, sizeof code, "%d", status_codes[i]);
    else
      strcpy(code, "other");
    api_buf_printf(b, "parkhub_api_requests_total{code=\"%s\"} %llu\n", code,
                   (unsigned long long)atomic_load(&a->by_code[i]));
  }
  api_buf_puts(b, "# HELP parkhub_api_request_duration_seconds Time to answer an API request.\n"
                  "# TYPE parkhub_api_request_duration_seconds histogram\n");
  uint64_t cum = 0;
  for (size_t i = 0; i <= NHIST; i++) {
    cum += atomic_load(&a->hist[i]);
    if (i < NHIST)
      api_buf_printf(b, "parkhub_api_request_duration_seconds_bucket{le=\"%g\"} %llu\n", (double)hist_us[i] / 1e6,
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

static int get_healthz(struct ph_api *a, struct api_req *r) {
  char why[256] = "";
  int ready = 1;
  struct api_worker *w = worker_get(a, why, sizeof why);
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

/* ---- routing ---- */

enum route { R_NONE, R_HEALTHZ, R_METRICS, R_PARKS, R_ENTS, R_POINTS, R_SERIES, R_SUMMARY, R_ALARMS, R_ACK,
             R_CEMS_HOURS, R_CEMS_DAYS, R_CEMS_EXCEEDANCES, R_CATALOG, R_ALARM_LOG };

/* Splits path (modified in place) into at most cap segments; -1 when there
 * are more or an empty one (a double or trailing slash). */
static int split(char *path, char **seg, int cap) {
  int n = 0;
  if (*path != '/') return -1;
  for (char *p = path + 1;;) {
    if (n == cap) return -1;
    seg[n++] = p;
    char *slash = strchr(p, '/');
    if (!slash) break;
    *slash = 0;
    p = slash + 1;
  }
  for (int i = 0; i < n; i++)
    if (!*seg[i]) return n == 1 ? 0 : -1;
  return n;
}

static enum route route_of(char **seg, int n, const char **park, bool *post) {
  *post = false;
  *park = NULL;
  if (n == 1 && !strcmp(seg[0], "healthz")) return R_HEALTHZ;
  if (n == 1 && !strcmp(seg[0], "metrics")) return R_METRICS;
  if (n < 3 || strcmp(seg[0], "api") || strcmp(seg[1], "v1") || strcmp(seg[2], "parks")) return R_NONE;
  if (n == 3) return R_PARKS;
  *park = seg[3];
  if (n == 5 && !strcmp(seg[4], "enterprises")) return R_ENTS;
  if (n == 7 && !strcmp(seg[4], "enterprises") && !strcmp(seg[6], "points")) return R_POINTS;
  if (n == 5 && !strcmp(seg[4], "series")) return R_SERIES;
  if (n == 5 && !strcmp(seg[4], "summary")) return R_SUMMARY;
  if (n == 5 && !strcmp(seg[4], "alarms")) return R_ALARMS;
  if (n == 6 && !strcmp(seg[4], "cems") && !strcmp(seg[5], "hours")) return R_CEMS_HOURS;
  if (n == 6 && !strcmp(seg[4], "cems") && !strcmp(seg[5], "days")) return R_CEMS_DAYS;
  if (n == 6 && !strcmp(seg[4], "cems") && !strcmp(seg[5], "exceedances")) return R_CEMS_EXCEEDANCES;
  if (n == 5 && !strcmp(seg[4], "catalog")) return R_CATALOG;                                /* api_catalog.c */
  if (n == 7 && !strcmp(seg[4], "alarms") && !strcmp(seg[6], "log")) return R_ALARM_LOG; /* api_catalog.c */
  if (n == 7 && !strcmp(seg[4], "alarms") && !strcmp(seg[6], "ack")) {
    *post = true;
    return R_ACK;
  }
  return R_NONE;
}

static int park_index(const struct ph_hub_config *cfg, const char *park) {
  for (int i = 0; i < cfg->nparks; i++)
    if (!strcmp(cfg->parks[i].id, park)) return i;
  return -1;
}

static int want_csv(struct api_req *r) {
  const char *f = api_arg(r, "format");
  r->format = f;
  if (f) {
    if (!strcmp(f, "csv")) return r->csv = true, 0;
    if (!strcmp(f, "json")) return r->csv = false, 0;
    return api_fail(r, 400, "format", "format: must be json or csv");
  }
  const char *acc = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
  r->csv = acc && strstr(acc, "text/csv") != NULL;
  return 0;
}

/* The request after authentication and routing; returns the status. */
static int dispatch(struct ph_api *a, struct api_req *r, enum route rt, const char *park, bool *want_auth,
                    const char **allow) {
  bool present;
  *want_auth = false;
  if (rt == R_HEALTHZ) return get_healthz(a, r);
  r->tok = authenticate(a, r->conn, &present);
  if (!r->tok) {
    *want_auth = true;
    return api_fail(r, 401, NULL, present ? "unknown or malformed bearer token" : "a bearer token is required");
  }
  if (rt == R_NONE) return api_fail(r, 404, NULL, "no such path");
  if (*allow) return api_fail(r, 405, NULL, "method not allowed here (allowed: %s)", *allow);
  if (rt == R_METRICS) {
    if (r->tok->role != PH_API_ROLE_ADMIN) return api_fail(r, 403, NULL, "/metrics needs an admin token");
    static const char *const none[] = {NULL};
    if (api_args_check(r, none)) return r->status;
    return get_metrics(a, r);
  }
  if (park) {
    r->park_idx = ph_id_valid_z(park) ? park_index(a->env.refs->cfg, park) : -1;
    if (r->park_idx < 0) return api_fail(r, 404, NULL, "no such park");
    r->park = &a->env.refs->cfg->parks[r->park_idx];
    r->tz = a->env.refs->tz[r->park_idx];
    if (!api_token_sees(r->tok, park)) return api_fail(r, 403, NULL, "this token may not see park %s", park);
    if (rt == R_ACK && r->tok->role == PH_API_ROLE_REGULATOR)
      return api_fail(r, 403, NULL, "acknowledging needs a manager or admin token");
  }
  if (rt != R_ACK && want_csv(r)) return r->status;
  char why[300];
  r->w = worker_get(a, why, sizeof why);
  if (!r->w) {
    PH_WARN(MOD, "no read connection: %s", why);
    return api_fail(r, 503, NULL, "the database is not available");
  }
  if (rt != R_ACK) {
    sqlite3_stmt *b = api_stmt(r, API_ST_BEGIN);
    if (!b || sqlite3_step(b) != SQLITE_DONE) return api_db_fail(r, "starting a read transaction");
  }
  switch (rt) {
  case R_PARKS: return api_get_parks(r);
  case R_ENTS: return api_get_enterprises(r);
  case R_POINTS: return api_get_points(r);
  case R_SERIES: return api_get_series(r);
  case R_SUMMARY: return api_get_summary(r);
  case R_ALARMS: return api_get_alarms(r);
  case R_CEMS_HOURS: return api_get_cems_hours(r);
  case R_CEMS_DAYS: return api_get_cems_days(r);
  case R_CEMS_EXCEEDANCES: return api_get_cems_exceedances(r);
  case R_ACK: return api_post_ack(r);
  case R_CATALOG: return api_get_catalog(r);
  case R_ALARM_LOG: return api_get_alarm_log(r);
  default: return api_fail(r, 404, NULL, "no such path");
  }
}

static void count(struct ph_api *a, int status, int64_t t0_us) {
  int i = 0;
  while (i < PH_API_NCODES - 1 && status_codes[i] != status) i++;
  atomic_fetch_add(&a->by_code[i], 1);
  atomic_fetch_add(&a->requests, 1);
  int64_t us = mono_us() - t0_us;
  if (us < 0) us = 0;
  size_t h = 0;
  while (h < NHIST && us > hist_us[h]) h++;
  atomic_fetch_add(&a->hist[h], 1);
  atomic_fetch_add(&a->dur_us_sum, (uint64_t)us);
}

static void free_body(void *p) { ph_free(p); }

static enum MHD_Result respond(struct MHD_Connection *c, struct api_req *r, bool want_auth, const char *allow) {
  struct MHD_Response *resp;
  if (r->out.oom) {
    api_buf_fini(&r->out);
    static const char oom[] = "{\"error\":{\"status\":500,\"message\":\"out of memory\"}}\n";
    resp = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
    r->status = 500;
    r->ctype = "application/json";
  } else if (r->out.p) {
    resp = MHD_create_response_from_buffer_with_free_callback(r->out.len, r->out.p, free_body);
    if (resp) r->out.p = NULL; /* the response owns it now */
  } else {
    resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
  }
  if (!resp) return MHD_NO;
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype ? r->ctype : "application/json");
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  if (want_auth) MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"parkhub\"");
  if (r->status == 405 && allow) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
  if (r->link[0]) {
    char link[1300];
    snprintf(link, sizeof link, "<%s>; rel=\"next\"", r->link);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LINK, link);
  }
  enum MHD_Result ok = MHD_queue_response(c, (unsigned)r->status, resp);
  MHD_destroy_response(resp);
  return ok;
}

/* The dashboard's files: no token (the page asks for one), GET and HEAD only. */
static enum MHD_Result respond_asset(struct ph_api *a, struct MHD_Connection *c, const struct ph_asset *as,
                                     const char *method, int64_t t0_us) {
  bool get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
  struct MHD_Response *resp = get ? MHD_create_response_from_buffer(as->len, (void *)as->data, MHD_RESPMEM_PERSISTENT)
                                  : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
  if (!resp) return MHD_NO;
  unsigned status = get ? 200 : 405;
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, get ? as->ctype : "text/plain");
  if (!get) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(resp, "X-Frame-Options", "DENY");
  MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
  MHD_add_response_header(resp, "Content-Security-Policy",
                          "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                          "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
  count(a, (int)status, t0_us);
  enum MHD_Result ok = MHD_queue_response(c, status, resp);
  MHD_destroy_response(resp);
  return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
  (void)version;
  struct ph_api *a = cls;
  struct call *call = *con_cls;
  if (!call) {
    if (!(call = ph_calloc(1, sizeof *call))) return MHD_NO;
    call->t0_us = mono_us();
    *con_cls = call;
    api_conns_headers_in(a->conns, c);
    return MHD_YES;
  }
  if (*upload_size) {
    if (api_conns_body_late(a->conns, c)) return MHD_NO; /* inv. 6: ends the connection */
    if (call->body.len + *upload_size > PH_API_BODY_MAX)
      call->too_large = true;
    else
      api_buf_put(&call->body, upload, *upload_size);
    *upload_size = 0;
    return MHD_YES;
  }
  api_conns_answering(a->conns, c);

  struct ph_asset as;
  if (ph_dashboard_asset(url, &as) == 0) return respond_asset(a, c, &as, method, call->t0_us);
  struct api_req r = {.env = &a->env, .conf = &a->conf, .conn = c, .park_idx = -1};
  api_buf_init(&r.out);
  char path[512], *seg[10];
  const char *park = NULL, *allow = NULL;
  bool post = false, want_auth = false;
  enum route rt = R_NONE;
  int n = -1;
  if (strlen(url) < sizeof path) {
    strcpy(path, url);
    n = split(path, seg, 10);
  }
  if (n > 0) rt = route_of(seg, n, &park, &post);
  if (rt != R_NONE) {
    bool is_get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
    if (post && strcmp(method, MHD_HTTP_METHOD_POST)) allow = "POST";
    if (!post && !is_get) allow = "GET, HEAD";
  }
  if (rt != R_NONE && park) {
    r.nseg = n - 4 < 8 ? n - 4 : 8;
    for (int i = 0; i < r.nseg; i++) r.seg[i] = seg[4 + i];
  }
  r.body = call->body.p ? call->body.p : "";
  r.body_len = call->body.len;
  r.body_too_large = call->too_large;
  if (rt == R_HEALTHZ && allow)
    r.status = api_fail(&r, 405, NULL, "method not allowed here (allowed: %s)", allow);
  else
    r.status = dispatch(a, &r, rt, park, &want_auth, &allow);
  if (r.w) worker_done(r.w);
  count(a, r.status, call->t0_us);
  enum MHD_Result ok = respond(c, &r, want_auth, allow);
  api_buf_fini(&r.out);
  return ok;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
  (void)toe;
  struct ph_api *a = cls;
  api_conns_request_done(a->conns, c);
  struct call *call = *con_cls;
  if (!call) return;
  api_buf_fini(&call->body);
  ph_free(call);
  *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
  struct ph_api *a = cls;
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  size_t n = strlen(msg);
  while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = 0;
  uint64_t suppressed = 0;
  pthread_mutex_lock(&a->mu);
  int ok = ph_ratelimit_ok(&a->logrl, ph_mono_ms(), &suppressed);
  pthread_mutex_unlock(&a->mu);
  if (!ok) return;
  if (suppressed)
    PH_WARN(MOD, "libmicrohttpd: %s (%llu more suppressed)", msg, (unsigned long long)suppressed);
  else
    PH_WARN(MOD, "libmicrohttpd: %s", msg);
}

/* ---- start / stop ---- */

static int read_file(const char *path, const char *what, char **out, struct ph_err *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return ph_fail(err, PH_ECONFIG, "http.%s: cannot open %s: %s", what, path, strerror(errno));
  char *buf = ph_malloc(TLS_FILE_MAX + 1);
  if (!buf) {
    fclose(f);
    return ph_fail(err, PH_ENOMEM, "out of memory");
  }
  size_t n = fread(buf, 1, TLS_FILE_MAX + 1, f);
  int bad = ferror(f);
  fclose(f);
  if (bad || n == 0 || n > TLS_FILE_MAX) {
    ph_free(buf);
    return ph_fail(err, PH_ECONFIG, "http.%s: %s is empty, unreadable or larger than 1 MiB", what, path);
  }
  buf[n] = 0;
  *out = buf;
  return 0;
}

static void api_free(struct ph_api *a) {
  if (!a) return;
  if (a->d) MHD_stop_daemon(a->d);
  api_conns_stop(a->conns); /* after the daemon: no connection is left */
  /* pool threads ran their key destructors as they ended; close what is left */
  while (a->workers) {
    struct api_worker *w = a->workers;
    a->workers = w->next;
    worker_close(w);
  }
  if (a->key_made) pthread_key_delete(a->key);
  pthread_mutex_destroy(&a->mu);
  if (a->tls_key) OPENSSL_cleanse(a->tls_key, strlen(a->tls_key));
  ph_free(a->tls_key);
  ph_free(a->tls_cert);
  ph_free(a);
}

static int check_conf(const struct ph_api_conf *c, const struct ph_api_env *env, struct ph_err *err) {
  if (!env || !env->db_path || !env->refs->cfg || !env->refs->cat)
    return ph_fail(err, PH_EINVAL, "api: needs a database path, the hub config and the catalogue");
  if (c->port < 0 || c->port > 65535) return ph_fail(err, PH_ECONFIG, "http.port: %lld is outside 1..65535",
                                                     (long long)c->port);
  if (c->threads < 1 || c->threads > 64 || c->timeout_s < 1 || c->header_timeout_s < 1 || c->body_timeout_s < 1 ||
      c->max_connections < c->threads || c->max_connections_per_ip < 1 ||
      c->max_connections_per_ip > c->max_connections || c->max_points < 1)
    return ph_fail(err, PH_EINVAL, "api: threads 1..64 and ≤ max_connections, per-IP connections 1..max_connections, "
                                   "timeouts and points ≥ 1");
  for (int i = 0; i < c->ntokens; i++)
    for (int k = 0; k < c->tokens[i].nparks; k++)
      if (!ph_hub_config_park(env->refs->cfg, c->tokens[i].parks[k]))
        return ph_fail(err, PH_ECONFIG, "http.tokens[%d].parks[%d]: '%s' is not a park this hub serves", i, k,
                       c->tokens[i].parks[k]);
  if (!c->cert[0] != !c->key[0]) return ph_fail(err, PH_ECONFIG, "http: HTTPS needs both cert and key");
  if (c->cert[0]) return ph_api_tls_priorities_check(c->tls_priorities, err);
  return 0;
}

int ph_api_start(const struct ph_api_conf *conf, const struct ph_api_env *env, struct ph_api **out,
                 struct ph_err *err) {
  *out = NULL;
  int rc = check_conf(conf, env, err);
  if (rc) return rc;
  struct ph_api *a = ph_calloc(1, sizeof *a);
  if (!a) return ph_fail(err, PH_ENOMEM, "out of memory");
  a->conf = *conf;
  a->env = *env;
  pthread_mutex_init(&a->mu, NULL);
  ph_ratelimit_init(&a->logrl, 10000);
  if (pthread_key_create(&a->key, worker_destroy)) {
    api_free(a);
    return ph_fail(err, PH_ENOMEM, "api: no thread key");
  }
  a->key_made = true;
  if ((rc = api_conns_start(conf->header_timeout_s * 1000, conf->body_timeout_s * 1000, &a->conns, err))) {
    api_free(a);
    return rc;
  }

  union {
    struct sockaddr sa;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
  } addr;
  memset(&addr, 0, sizeof addr);
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
  if (inet_pton(AF_INET, conf->listen, &addr.in4.sin_addr) == 1) {
    addr.in4.sin_family = AF_INET;
    addr.in4.sin_port = htons((uint16_t)conf->port);
  } else if (inet_pton(AF_INET6, conf->listen, &addr.in6.sin6_addr) == 1) {
    addr.in6.sin6_family = AF_INET6;
    addr.in6.sin6_port = htons((uint16_t)conf->port);
    flags |= MHD_USE_IPv6;
  } else {
    api_free(a);
    return ph_fail(err, PH_ECONFIG, "http.listen: '%.64s' is not an IPv4 or IPv6 address", conf->listen);
  }

  struct MHD_OptionItem opts[16];
  int no = 0;
  opts[no++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &addr.sa};
  opts[no++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)conf->threads, NULL};
  opts[no++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)conf->timeout_s, NULL};
  opts[no++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, (intptr_t)conf->max_connections, NULL};
  opts[no++] =
      (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)conf->max_connections_per_ip, NULL};
  opts[no++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, a};
  opts[no++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)api_conns_notify, a->conns};
  if (conf->cert[0]) {
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
      api_free(a);
      return ph_fail(err, PH_ECONFIG, "http.cert: this libmicrohttpd was built without TLS");
    }
    if ((rc = read_file(conf->cert, "cert", &a->tls_cert, err)) || (rc = read_file(conf->key, "key", &a->tls_key, err))) {
      api_free(a);
      return rc;
    }
    flags |= MHD_USE_TLS;
    opts[no++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, a->tls_cert};
    opts[no++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, a->tls_key};
    opts[no++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)conf->tls_priorities};
    a->tls = true;
  }
  opts[no++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

  /* the logger first: libmicrohttpd uses it only for options after it */
  a->d = MHD_start_daemon(flags, (uint16_t)conf->port, NULL, NULL, on_request, a, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
                          a, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
  if (!a->d) {
    int e = errno;
    api_free(a);
    return ph_fail(err, PH_EIO, "http: cannot listen on %s port %lld%s%s (address in use, or a bad TLS cert/key?)",
                   conf->listen, (long long)conf->port, e ? ": " : "", e ? strerror(e) : "");
  }
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(a->d, MHD_DAEMON_INFO_BIND_PORT);
  a->port = di ? di->port : (int)conf->port;
  PH_INFO(MOD,
          "listening on %s%s%s port %d (%s), %lld threads, %d tokens; connections ≤ %lld (≤ %lld per address), "
          "headers in %lld s, body in %lld s, idle %lld s",
          strchr(conf->listen, ':') ? "[" : "", conf->listen, strchr(conf->listen, ':') ? "]" : "", a->port,
          a->tls ? "https" : "http", (long long)conf->threads, conf->ntokens, (long long)conf->max_connections,
          (long long)conf->max_connections_per_ip, (long long)conf->header_timeout_s, (long long)conf->body_timeout_s,
          (long long)conf->timeout_s);
  *out = a;
  return 0;
}

void ph_api_stop(struct ph_api *a) { api_free(a); }

int ph_api_port(const struct ph_api *a) { return a ? a->port : 0; }
bool ph_api_tls(const struct ph_api *a) { return a && a->tls; }

void ph_api_stats(const struct ph_api *a, struct ph_api_stats *st) {
  memset(st, 0, sizeof *st);
  if (!a) return;
  struct ph_api *m = (struct ph_api *)a; /* atomics: loads only */
  st->requests = atomic_load(&m->requests);
  for (int i = 0; i < PH_API_NCODES; i++) st->by_code[i] = atomic_load(&m->by_code[i]);
  st->db_opens = atomic_load(&m->db_opens);
  st->db_failures = atomic_load(&m->db_failures);
  struct api_conns_stats cst;
  api_conns_stats(m->conns, &cst);
  st->connections = cst.opened;
  st->cut_at_header_deadline = cst.cut_headers;
  st->cut_at_body_deadline = cst.cut_body;
}
