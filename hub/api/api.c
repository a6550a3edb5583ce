/* api.c — the HTTP API's server (api.h): libmicrohttpd daemon lifecycle,
 * bearer-token access, dispatch through the route table (api_routes.c).
 * Elsewhere: per-thread read connections in api_worker.c, /metrics and
 * /healthz in api_metrics.c, the request's services (arguments, errors) in
 * api_req.c with the pure parsers in api_args.c, the row writer in
 * api_rows.c over api_out.c, the handlers in api_query.c, api_series.c,
 * api_summary.c, api_alarms.c, api_cems.c and api_parks.c (they include api_req.h and
 * api_rows.h, never this file), the connections' header and body
 * deadlines in api_conn.c, the helpers that compute a request's parts at
 * once (the parks of the summary across parks) in api_pool.c.
 *
 * Callers: the hub (ph_api_start/stop), tests, bench/query.
 * Threads: libmicrohttpd's pool (conf.threads) runs every request; a
 * watchdog thread (api_conn.c) ends connections past their deadline; each
 * pool thread lazily opens its own read-only SQLite connection (a
 * pthread key owns it: closed when the thread ends) and prepares the
 * statements of api_sql.h on it once; the pool's helpers (api_pool.c), one
 * per further CPU when the hub serves several parks, do the same. The hub's
 * callbacks run on the pool threads. Counters are atomics.
 *
 * A request, in order:
 *   /healthz                      no token needed
 *   token          → 401          Authorization: Bearer <token>, by SHA-256
 *   route          → 404 / 405    unknown path / method not allowed there
 *   park           → 404 / 403    not a served park / not the token's (across
 *                                 parks, API_RT_ACROSS: the handler checks parks=)
 *   role           → 403          ack: manager or admin; /metrics: admin
 *   arguments      → 400          named in the error: unknown, repeated, bad
 *   handler        → 200 (or 404 for an unknown series, 503 no database)
 *
 * Invariants:
 *  1. the API never writes the database: its connections are opened
 *     SQLITE_OPEN_READONLY, and an ack goes through env.ack.
 *  2. one read transaction per GET request (BEGIN … COMMIT on the worker's
 *     connection): a response, a page included, is one snapshot. In WAL
 *     mode it never blocks the writer. The one exception is the summary
 *     across parks: each park in a read transaction of its own, computed
 *     at once on several connections (api_pool.c inv. 3, api_parks.c).
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
 *  8. a 200 with a download name (a CSV: api_attachment) carries
 *     Content-Disposition: attachment; filename="…", the name ASCII
 *     [a-z0-9_.-] only (api_req.c inv. 3); errors never do.
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

#include "api/dashboard.h"
#include "api_conn.h"
#include "api_routes.h"
#include "api_server.h"
#include "parkhub/alloc.h"
#include "parkhub/ids.h"
#include "parkhub/log.h"
#include "parkhub/timefmt.h"

#define MOD "api"
#define TLS_FILE_MAX (1 << 20)

const int api_status_codes[PH_API_NCODES - 1] = {200, 400, 401, 403, 404, 405, 409, 413, 500, 501, 503};
const int64_t api_hist_us[API_NHIST] = {1000, 5000, 10000, 50000, 100000, 500000, 1000000, 5000000};

/* One HTTP request across libmicrohttpd's calls. */
struct call {
  int64_t t0_us;
  struct api_buf body;
  bool too_large;
};

static int64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
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

/* ---- routing ---- */

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

static int park_index(const struct ph_hub_config *cfg, const char *park) {
  for (int i = 0; i < cfg->nparks; i++)
    if (!strcmp(cfg->parks[i].id, park)) return i;
  return -1;
}

/* What a path names: /healthz, /metrics, a route of the table, or nothing. */
enum target_kind { T_NONE, T_HEALTHZ, T_METRICS, T_ROUTE };
struct target {
  enum target_kind kind;
  const struct api_route *rt;
  const char *park; /* NULL for routes without one */
};

static struct target resolve(char **seg, int n) {
  struct target t = {T_NONE, NULL, NULL};
  if (n == 1 && !strcmp(seg[0], "healthz")) t.kind = T_HEALTHZ;
  if (n == 1 && !strcmp(seg[0], "metrics")) t.kind = T_METRICS;
  if (n < 3 || strcmp(seg[0], "api") || strcmp(seg[1], "v1")) return t;
  if (strcmp(seg[2], "parks")) { /* across parks (api_parks.c): the handler checks the token's parks */
    if ((t.rt = api_route_find_across(seg + 2, n - 2))) t.kind = T_ROUTE;
    return t;
  }
  if ((t.rt = api_route_find(seg + 3, n - 3))) t.kind = T_ROUTE;
  if (t.rt && n > 3) t.park = seg[3];
  return t;
}

/* The park named in the path: 403 not the token's, 404 unknown, 403 (ack)
 * not its role. The token is asked first: a token limited to some parks
 * gets the same 403 for a park that exists and one that does not, so it
 * cannot learn which other parks this hub serves. */
static int park_check(struct ph_api *a, struct api_req *r, const struct target *t) {
  bool valid = ph_id_valid_z(t->park);
  if (!api_token_sees(r->tok, t->park))
    return api_fail(r, 403, NULL, "this token may not see park %s", valid ? t->park : "(invalid id)");
  r->park_idx = valid ? park_index(a->env.refs->cfg, t->park) : -1;
  if (r->park_idx < 0) return api_fail(r, 404, NULL, "no such park");
  r->park = &a->env.refs->cfg->parks[r->park_idx];
  r->tz = a->env.refs->tz[r->park_idx];
  if ((t->rt->flags & API_RT_WRITES) && r->tok->role == PH_API_ROLE_REGULATOR)
    return api_fail(r, 403, NULL, "acknowledging needs a manager or admin token");
  return 0;
}

/* The request after authentication and routing; returns the status. */
static int dispatch(struct ph_api *a, struct api_req *r, const struct target *t, bool *want_auth,
                    const char **allow) {
  bool present;
  *want_auth = false;
  if (t->kind == T_HEALTHZ) return api_get_healthz(a, r);
  r->tok = authenticate(a, r->conn, &present);
  if (!r->tok) {
    *want_auth = true;
    return api_fail(r, 401, NULL, present ? "unknown or malformed bearer token" : "a bearer token is required");
  }
  if (t->kind == T_NONE) return api_fail(r, 404, NULL, "no such path");
  if (*allow) return api_fail(r, 405, NULL, "method not allowed here (allowed: %s)", *allow);
  if (t->kind == T_METRICS) {
    if (r->tok->role != PH_API_ROLE_ADMIN) return api_fail(r, 403, NULL, "/metrics needs an admin token");
    static const char *const none[] = {NULL};
    if (api_args_check(r, none)) return r->status;
    return api_get_metrics(a, r);
  }
  if (t->park && park_check(a, r, t)) return r->status;
  bool writes = t->rt->flags & API_RT_WRITES;
  if (!writes && !(t->rt->flags & API_RT_OWN_FORMAT) &&
      api_arg_output(r, MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT)))
    return r->status;
  char why[300];
  r->w = api_worker_get(a, why, sizeof why);
  if (!r->w) {
    PH_WARN(MOD, "no read connection: %s", why);
    return api_fail(r, 503, NULL, "the database is not available");
  }
  if (!writes) { /* inv. 2 */
    sqlite3_stmt *b = api_stmt(r, API_ST_BEGIN);
    if (!b || sqlite3_step(b) != SQLITE_DONE) return api_db_fail(r, "starting a read transaction");
  }
  return t->rt->handler(r);
}

static void count(struct ph_api *a, int status, int64_t t0_us) {
  int i = 0;
  while (i < PH_API_NCODES - 1 && api_status_codes[i] != status) i++;
  atomic_fetch_add(&a->by_code[i], 1);
  atomic_fetch_add(&a->requests, 1);
  int64_t us = mono_us() - t0_us;
  if (us < 0) us = 0;
  size_t h = 0;
  while (h < API_NHIST && us > api_hist_us[h]) h++;
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
  if (r->filename[0] && r->status == 200) { /* ASCII [a-z0-9_.-] only (api_req.c inv. 3): no quoting needed */
    char cd[API_FILENAME_MAX + 40];
    snprintf(cd, sizeof cd, "attachment; filename=\"%s\"", r->filename);
    MHD_add_response_header(resp, "Content-Disposition", cd);
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
  const char *allow = NULL;
  bool want_auth = false;
  struct target t = {T_NONE, NULL, NULL};
  int n = -1;
  if (strlen(url) < sizeof path) {
    strcpy(path, url);
    n = split(path, seg, 10);
  }
  if (n > 0) t = resolve(seg, n);
  if (t.kind != T_NONE) {
    bool post = t.rt && (t.rt->flags & API_RT_POST);
    bool is_get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
    if (post && strcmp(method, MHD_HTTP_METHOD_POST)) allow = "POST";
    if (!post && !is_get) allow = "GET, HEAD";
  }
  if (t.park) {
    r.nseg = n - 4 < 8 ? n - 4 : 8;
    for (int i = 0; i < r.nseg; i++) r.seg[i] = seg[4 + i];
  }
  r.body = call->body.p ? call->body.p : "";
  r.body_len = call->body.len;
  r.body_too_large = call->too_large;
  if (t.kind == T_HEALTHZ && allow)
    r.status = api_fail(&r, 405, NULL, "method not allowed here (allowed: %s)", allow);
  else
    r.status = dispatch(a, &r, &t, &want_auth, &allow);
  if (r.w) api_worker_done(r.w);
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
  api_pool_stop(a->pool);   /* after the daemon: no request queues a part; helpers close their connections */
  /* pool threads ran their key destructors as they ended; close what is left */
  while (a->workers) {
    struct api_worker *w = a->workers;
    a->workers = w->next;
    api_worker_close(w);
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
  if (pthread_key_create(&a->key, api_worker_destroy)) {
    api_free(a);
    return ph_fail(err, PH_ENOMEM, "api: no thread key");
  }
  a->key_made = true;
  if ((rc = api_conns_start(conf->header_timeout_s * 1000, conf->body_timeout_s * 1000, &a->conns, err))) {
    api_free(a);
    return rc;
  }
  if ((rc = api_pool_start(a, env->refs->cfg->nparks, &a->pool, err))) {
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
