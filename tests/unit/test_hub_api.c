/* The HTTP API (api.h) against a database filled with SQL, over loopback
 * with libcurl: status codes, JSON and CSV bodies equal to the stored rows,
 * pagination, roles and parks, bad arguments, 404/405/401/403, the ack
 * callback, /metrics, /healthz, HTTPS, and reads while the writer holds a
 * transaction open.
 *
 * Park p1 (Asia/Shanghai, UTC+8), T0 = 2026-03-01 00:00 local:
 *   e1 (agents gw1 online depth 7, gw2 offline depth 3)
 *     stack-1 so2: hour rollups T0+0..9 h: n 60, sum 60×(100+10i), min 90+10i, max 110.5+10i
 *                  minute rollups T0+0..4 min, last = 100 + 1.25 k at bucket + 59 s
 *                  day rollup T0: n 600, sum 87000
 *                  CEMS hours 0..9: mean 100+10i (hour 9 invalid), limit 150; flow 50 000 Nm³/h
 *                  raw chunks (below, at raw_data)
 *     stack-1 flow, scale (ledger only: in 10.5 + 4.5 t scrap_cu_1, out 3.25 t cathode_cu)
 *   e2 (agent gw: no status) stack-1 so2: no CEMS hours
 * Park p2 (UTC): x1.
 * cems_state closed at T0 + 10 h. Alarms (when made): al-1 e1 critical active_unacked, al-2 e1
 * minor closed (two days before), al-3 e2 major active_acked, al-4 p2 warning.
 * Tokens: reg (regulator), reg2 (regulator, p2 only), mgr (manager of p1), adm (admin).
 */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parkhub/alloc.h"
#include "api/api.h"
#include "parkhub/catalog.h"
#include "store/chunk.h"
#include "domain/compliance.h"
#include "domain/emission_mass.h"
#include "api/dashboard.h"
#include "config/hub_config.h"
#include "parkhub/limits.h"
#include "store/store.h"
#include "parkhub/timefmt.h"
#include "parkhub/tz.h"

#define H 3600000LL
#define MIN 60000LL

static char dir[256], dbpath[300];
static struct ph_store *st;
static sqlite3 *db;
static struct ph_hub_config cfg;
static struct ph_tz *tzs[2];
static struct ph_limits *limits[1];
static struct ph_factors *factors; /* the report needs the PCDD/F factors */
static struct ph_catalog *cat;
static struct ph_api_conf conf;
static struct ph_api_env env;
static struct ph_refs refs;
static struct ph_api *api;
static int64_t T0;
static int64_t sid_so2, sid_flow, sid_so2_e2, pid_stack;

/* hub callbacks */
static int not_ready;
static char acked_park[80], acked_id[80], acked_by[80], acked_note[600];
static int ack_calls;

static void sql(const char *text) {
  char *msg = NULL;
  cr_assert_eq(sqlite3_exec(db, text, NULL, NULL, &msg), SQLITE_OK, "%s: %s", text, msg ? msg : "");
}

static int64_t scalar(const char *text) {
  sqlite3_stmt *s;
  cr_assert_eq(sqlite3_prepare_v2(db, text, -1, &s, NULL), SQLITE_OK, "%s", text);
  cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
  int64_t v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

static void ent_init(struct ph_hub_ent *e, const char *id, const char *name, const char *a1, const char *a2) {
  memset(e, 0, sizeof *e);
  strcpy(e->id, id);
  strcpy(e->name, name);
  e->sector = PH_SECTOR_CU;
  e->expected_interval_s = 3600;
  strcpy(e->standard, "gb31574-2015");
  strcpy(e->agents[e->nagents++], a1);
  if (a2) strcpy(e->agents[e->nagents++], a2);
}

static int64_t series(const char *park, const char *ent, const char *point, const char *metric) {
  char q[600];
  snprintf(q, sizeof q, "INSERT OR IGNORE INTO points(park, ent, point) VALUES('%s', '%s', '%s')", park, ent, point);
  sql(q);
  snprintf(q, sizeof q, "INSERT OR IGNORE INTO metrics(code) VALUES('%s')", metric);
  sql(q);
  snprintf(q, sizeof q,
           "INSERT OR IGNORE INTO series(point_id, metric_id) SELECT p.id, m.id FROM points p, metrics m"
           " WHERE p.park = '%s' AND p.ent = '%s' AND p.point = '%s' AND m.code = '%s'",
           park, ent, point, metric);
  sql(q);
  snprintf(q, sizeof q,
           "SELECT s.id FROM series s JOIN points p ON p.id = s.point_id JOIN metrics m ON m.id = s.metric_id"
           " WHERE p.park = '%s' AND p.ent = '%s' AND p.point = '%s' AND m.code = '%s'",
           park, ent, point, metric);
  return scalar(q);
}

static void rollup(int64_t sid, int period, int64_t t, int64_t n, double sum, double mn, double mx, int64_t last_ts,
                   double last) {
  char q[600];
  snprintf(q, sizeof q,
           "INSERT INTO rollups(series_id, period, bucket_ms, n, n_valid, sum, sum_valid, min, max, first_ts, first,"
           " last_ts, last, expected) VALUES(%lld, %d, %lld, %lld, %lld, %.17g, %.17g, %.17g, %.17g, %lld, %.17g,"
           " %lld, %.17g, 60)",
           (long long)sid, period, (long long)t, (long long)n, (long long)(n - 2), sum, sum * 0.9, mn, mx,
           (long long)t, mn, (long long)last_ts, last);
  sql(q);
}

static void cems_hour(int64_t sid, int64_t h, bool valid, double mean, const char *limit) {
  char q[400], m[40] = "NULL";
  if (valid) snprintf(m, sizeof m, "%.17g", mean);
  snprintf(q, sizeof q,
           "INSERT INTO cems_hours(series_id, hour_ms, day_ms, kind, valid_minutes, mean, valid, limit_value)"
           " VALUES(%lld, %lld, %lld, 2, 60, %s, %d, %s)",
           (long long)sid, (long long)h, (long long)T0, m, valid, limit);
  sql(q);
}

static void chunk(int64_t point, int64_t mid, const int64_t *ts, const double *v, const char *flags, int n) {
  struct ph_chunk_writer w;
  ph_chunk_writer_init(&w);
  for (int i = 0; i < n; i++) {
    struct ph_chunk_value vals[2] = {{(uint16_t)mid, flags[i], v[i]}, {(uint16_t)(mid + 100), 'N', 42.0}};
    cr_assert_eq(ph_chunk_add(&w, ts[i], 0, vals, 2), 0);
  }
  sqlite3_stmt *s;
  cr_assert_eq(sqlite3_prepare_v2(db,
                                  "INSERT INTO samples(point_id, ts_min, ts_max, agent_id, epoch, seq, nrecords,"
                                  " nvalues, data) VALUES(?1, ?2, ?3, 1, 1, 1, ?4, ?5, ?6)",
                                  -1, &s, NULL),
               SQLITE_OK);
  int64_t lo = ts[0], hi = ts[0];
  for (int i = 1; i < n; i++) lo = ts[i] < lo ? ts[i] : lo, hi = ts[i] > hi ? ts[i] : hi;
  sqlite3_bind_int64(s, 1, point);
  sqlite3_bind_int64(s, 2, lo);
  sqlite3_bind_int64(s, 3, hi);
  sqlite3_bind_int(s, 4, n);
  sqlite3_bind_int(s, 5, 2 * n);
  sqlite3_bind_blob(s, 6, w.buf, (int)w.len, SQLITE_TRANSIENT);
  cr_assert_eq(sqlite3_step(s), SQLITE_DONE, "%s", sqlite3_errmsg(db));
  sqlite3_finalize(s);
  ph_chunk_writer_fini(&w);
}

/* The raw samples of e1/stack-1 so2, sorted (ts, chunk, position):
 *   T0 1 | T0+2s 0.5 (M) | T0+5s 2 | T0+5s 20 (M) | T0+10s 3 | T0+1h 4 | T0+1h+5s 5
 * plus T0-10s -1, outside [T0, ...). */
static const double raw_expect[] = {1, 0.5, 2, 20, 3, 4, 5};
static const char raw_flags[] = "NMNMNNN";
static int64_t raw_ts(int i) {
  static const int64_t off[] = {0, 2000, 5000, 5000, 10000, H, H + 5000};
  return T0 + off[i];
}

static void raw_data(void) {
  int64_t mid = scalar("SELECT id FROM metrics WHERE code = 'so2'");
  int64_t a_ts[] = {T0, T0 + 5000, T0 + 10000};
  double a_v[] = {1, 2, 3};
  chunk(pid_stack, mid, a_ts, a_v, "NNN", 3);
  int64_t b_ts[] = {T0 + 5000, T0 + 2000};
  double b_v[] = {20, 0.5};
  chunk(pid_stack, mid, b_ts, b_v, "MM", 2);
  int64_t c_ts[] = {T0 + H, T0 + H + 5000};
  double c_v[] = {4, 5};
  chunk(pid_stack, mid, c_ts, c_v, "NN", 2);
  int64_t d_ts[] = {T0 - 10000};
  double d_v[] = {-1};
  chunk(pid_stack, mid, d_ts, d_v, "N", 1);
}

static void make_alarms(void) {
  sql("CREATE TABLE IF NOT EXISTS alarms(id INTEGER PRIMARY KEY, alarm_id TEXT NOT NULL UNIQUE,"
      " park TEXT NOT NULL, rule TEXT NOT NULL, ent TEXT NOT NULL, point TEXT NOT NULL DEFAULT '',"
      " metric TEXT NOT NULL DEFAULT '', severity TEXT NOT NULL, state TEXT NOT NULL, message TEXT NOT NULL,"
      " first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL, count INTEGER NOT NULL, value REAL, peak REAL,"
      " acked_by TEXT, acked_ms INTEGER, note TEXT, raised_ms INTEGER NOT NULL, cleared_ms INTEGER,"
      " closed_ms INTEGER)");
  char q[1200];
  snprintf(q, sizeof q,
           "INSERT INTO alarms(alarm_id, park, rule, ent, point, metric, severity, state, message, first_ms, last_ms,"
           " count, value, peak, acked_by, acked_ms, raised_ms, closed_ms) VALUES"
           " ('al-1', 'p1', 'r-so2', 'e1', 'stack-1', 'so2', 'critical', 'active_unacked',"
           "  'SO2 over \"limit\", hourly', %lld, %lld, 3, 180, 190, NULL, NULL, %lld, NULL),"
           " ('al-2', 'p1', 'r-x', 'e1', '', '', 'minor', 'closed', 'old', %lld, %lld, 1, NULL, NULL, NULL, NULL,"
           "  %lld, %lld),"
           " ('al-3', 'p1', 'r-y', 'e2', 'stack-1', 'so2', 'major', 'active_acked', 'acked one', %lld, %lld, 2, 1.5,"
           "  2.5, 'ops', %lld, %lld, NULL),"
           " ('al-4', 'p2', 'r-z', 'x1', '', '', 'warning', 'active_unacked', 'other park', %lld, %lld, 1, NULL,"
           "  NULL, NULL, NULL, %lld, NULL)",
           (long long)(T0 + H), (long long)(T0 + 2 * H), (long long)(T0 + H), (long long)(T0 - 48 * H),
           (long long)(T0 - 47 * H), (long long)(T0 - 48 * H), (long long)(T0 - 47 * H), (long long)(T0 + 3 * H),
           (long long)(T0 + 4 * H), (long long)(T0 + 3 * H + MIN), (long long)(T0 + 3 * H), (long long)T0,
           (long long)T0, (long long)T0);
  sql(q);
}

static void data(void) {
  T0 = ph_days_from_civil(2026, 3, 1) * 86400000LL - 8 * H;
  sid_so2 = series("p1", "e1", "stack-1", "so2");
  sid_flow = series("p1", "e1", "stack-1", "flow");
  sid_so2_e2 = series("p1", "e2", "stack-1", "so2");
  pid_stack = scalar("SELECT id FROM points WHERE park = 'p1' AND ent = 'e1' AND point = 'stack-1'");
  sql("INSERT INTO points(park, ent, point) VALUES('p1', 'e1', 'scale')");
  for (int i = 0; i < 10; i++)
    rollup(sid_so2, 1, T0 + i * H, 60, 60.0 * (100 + 10 * i), 90 + 10 * i, 110.5 + 10 * i, T0 + i * H + 59 * MIN,
           100 + 10 * i);
  for (int k = 0; k < 5; k++)
    rollup(sid_so2, 0, T0 + k * MIN, 12, 12 * (100 + 1.25 * k), 99, 101 + k, T0 + k * MIN + 59000, 100 + 1.25 * k);
  rollup(sid_so2, 2, T0, 600, 87000, 90, 200.5, T0 + 10 * H, 190);
  rollup(sid_flow, 0, T0, 1, 50000, 50000, 50000, T0, 50000);
  for (int i = 0; i < 10; i++) {
    cems_hour(sid_so2, T0 + i * H, i != 9, 100 + 10 * i, "150");
    cems_hour(sid_flow, T0 + i * H, true, 50000, "NULL");
  }
  char q[600];
  snprintf(q, sizeof q, "INSERT INTO cems_state(id, run_ms, closed_ms) VALUES(1, %lld, %lld)",
           (long long)(T0 + 10 * H + 5 * MIN), (long long)(T0 + 10 * H));
  sql(q);
  int64_t scale = scalar("SELECT id FROM points WHERE park = 'p1' AND ent = 'e1' AND point = 'scale'");
  snprintf(q, sizeof q,
           "INSERT INTO materials(point_id, ts_ms, material, dir, qty_t, agent_id, epoch, seq) VALUES"
           " (%lld, %lld, 'scrap_cu_1', 'in', 10.5, 1, 1, 1), (%lld, %lld, 'scrap_cu_1', 'in', 4.5, 1, 1, 2),"
           " (%lld, %lld, 'cathode_cu', 'out', 3.25, 1, 1, 3), (%lld, %lld, 'scrap_cu_1', 'in', 100, 1, 1, 4)",
           (long long)scale, (long long)(T0 + H), (long long)scale, (long long)(T0 + 2 * H), (long long)scale,
           (long long)(T0 + 3 * H), (long long)scale, (long long)(T0 - H));
  sql(q);
  sql("INSERT INTO agents(id, park, ent, agent) VALUES(1, 'p1', 'e1', 'gw1'), (2, 'p1', 'e1', 'gw2'),"
      " (3, 'p1', 'e2', 'gw')");
  snprintf(q, sizeof q,
           "INSERT INTO agent_status(agent_id, state, ts_ms, outbox_depth, payload) VALUES"
           " (1, 'online', %lld, 7, '{}'), (2, 'offline', %lld, 3, '{}')",
           (long long)(T0 + 5 * MIN), (long long)T0);
  sql(q);
}

static int cb_health(void *u, char *why, size_t cap) {
  (void)u;
  if (not_ready) snprintf(why, cap, "mqtt: not connected");
  return not_ready;
}

static int cb_metrics(void *u, char *buf, size_t cap) {
  (void)u;
  /* longer than the API's first buffer once in a while: the retry path */
  static const char head[] = "# TYPE parkhub_ingest_batches_total counter\nparkhub_ingest_batches_total 42\n";
  size_t need = sizeof head - 1 + 70000;
  if (need < cap) {
    memcpy(buf, head, sizeof head - 1);
    memset(buf + sizeof head - 1, '#', 69999);
    buf[need - 1] = '\n';
    buf[need] = 0;
  }
  return (int)need;
}

static int cb_ack(void *u, const char *park, const char *alarm_id, const char *by, const char *note, char *errbuf,
                  size_t cap) {
  (void)u;
  ack_calls++;
  snprintf(acked_park, sizeof acked_park, "%s", park);
  snprintf(acked_id, sizeof acked_id, "%s", alarm_id);
  snprintf(acked_by, sizeof acked_by, "%s", by);
  snprintf(acked_note, sizeof acked_note, "%s", note);
  if (!strcmp(alarm_id, "al-2")) { /* what the alarms say of a second acknowledgement */
    snprintf(errbuf, cap, "ack: alarm %s was already acknowledged by Li Wei at 2026-11-23T01:00:00.000Z", alarm_id);
    return PH_EALREADY;
  }
  if (strcmp(alarm_id, "al-1")) {
    snprintf(errbuf, cap, "ack: no open alarm %s in park %s", alarm_id, park);
    return PH_ENOTFOUND;
  }
  /* what the hub would do on its writer: commit the new state */
  sqlite3 *w;
  cr_assert_eq(sqlite3_open(dbpath, &w), SQLITE_OK);
  sqlite3_busy_timeout(w, 2000);
  sqlite3_stmt *s;
  cr_assert_eq(sqlite3_prepare_v2(w, "UPDATE alarms SET state = 'active_acked', acked_by = ?1, acked_ms = 1, note = ?2"
                                     " WHERE alarm_id = 'al-1'", -1, &s, NULL), SQLITE_OK);
  sqlite3_bind_text(s, 1, by, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, note, -1, SQLITE_STATIC);
  cr_assert_eq(sqlite3_step(s), SQLITE_DONE);
  sqlite3_finalize(s);
  sqlite3_close(w);
  return 0;
}

static void add_token(const char *name, const char *token, int role, const char *park) {
  struct ph_api_token *t = &conf.tokens[conf.ntokens++];
  memset(t, 0, sizeof *t);
  strcpy(t->name, name);
  t->role = role;
  char hex[65];
  cr_assert_eq(ph_api_token_hash_hex(token, hex), 0);
  for (int i = 0; i < 32; i++) {
    unsigned x;
    sscanf(hex + 2 * i, "%2x", &x);
    t->sha256[i] = (unsigned char)x;
  }
  if (park) strcpy(t->parks[t->nparks++], park);
}

static void start_api(void) {
  struct ph_err err = {0};
  cr_assert_eq(ph_api_start(&conf, &env, &api, &err), 0, "%s", err.msg);
  cr_assert_gt(ph_api_port(api), 0);
}

static void setup(void) {
  struct ph_err err = {0};
  strcpy(dir, "/tmp/parkhub-api-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  snprintf(dbpath, sizeof dbpath, "%s/hub.db", dir);
  cr_assert_eq(ph_store_open(dbpath, &st, &err), 0, "%s", err.msg);
  db = ph_store_db(st);
  memset(&cfg, 0, sizeof cfg);
  cfg.nparks = 2;
  strcpy(cfg.parks[0].id, "p1");
  strcpy(cfg.parks[0].name, "Park One");
  strcpy(cfg.parks[0].tz, "Asia/Shanghai");
  cfg.parks[0].ents = ph_calloc(2, sizeof(struct ph_hub_ent));
  ent_init(&cfg.parks[0].ents[0], "e1", "Smelter \"One\", Ltd", "gw1", "gw2");
  ent_init(&cfg.parks[0].ents[1], "e2", "Two", "gw", NULL);
  cfg.parks[0].nents = 2;
  strcpy(cfg.parks[1].id, "p2");
  strcpy(cfg.parks[1].name, "Park Two");
  strcpy(cfg.parks[1].tz, "UTC");
  cfg.parks[1].ents = ph_calloc(1, sizeof(struct ph_hub_ent));
  ent_init(&cfg.parks[1].ents[0], "x1", "X", "gw", NULL);
  cfg.parks[1].nents = 1;
  cr_assert_eq(ph_tz_load("Asia/Shanghai", &tzs[0], &err), 0, "%s", err.msg);
  cr_assert_eq(ph_tz_load("UTC", &tzs[1], &err), 0, "%s", err.msg);
  cr_assert_eq(ph_catalog_load_builtin(&cat, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_limits_load_builtin(&limits[0], &err), 0, "%s", err.msg);
  data();
  ph_api_conf_defaults(&conf);
  conf.enabled = true;
  conf.port = 0;
  conf.threads = 2;
  conf.timeout_s = 5;
  add_token("reg", "reg-token", PH_API_ROLE_REGULATOR, NULL);
  add_token("reg2", "reg2-token", PH_API_ROLE_REGULATOR, "p2");
  add_token("mgr", "mgr-token", PH_API_ROLE_MANAGER, "p1");
  add_token("adm", "adm-token", PH_API_ROLE_ADMIN, NULL);
  cr_assert_eq(ph_factors_load_builtin(&factors, &err), 0, "%s", err.msg);
  refs = (struct ph_refs){.cfg = &cfg, .cat = cat, .tz = {tzs[0], tzs[1]}, .limits = {limits[0]}, .nlimits = 1,
                          .factors = factors};
  env = (struct ph_api_env){.db_path = dbpath, .refs = &refs,
                            .metrics = cb_metrics,
                            .health = cb_health, .ack = cb_ack};
  not_ready = 0;
  ack_calls = 0;
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void teardown(void) {
  ph_api_stop(api);
  api = NULL;
  ph_store_close(st);
  ph_hub_config_fini(&cfg);
  ph_tz_free(tzs[0]);
  ph_tz_free(tzs[1]);
  ph_catalog_free(cat);
  ph_limits_free(limits[0]);
  ph_factors_free(factors);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
  curl_global_cleanup();
}

/* ---- HTTP client ---- */

struct resp {
  long status;
  char *body;
  size_t len;
  char ctype[128], link[1400], allow[64], www[128], disposition[256];
  cJSON *json;
};

static size_t on_body(char *p, size_t sz, size_t n, void *u) {
  struct resp *r = u;
  r->body = realloc(r->body, r->len + sz * n + 1);
  memcpy(r->body + r->len, p, sz * n);
  r->len += sz * n;
  r->body[r->len] = 0;
  return sz * n;
}

static void header_value(const char *line, size_t n, const char *name, char *out, size_t cap) {
  size_t k = strlen(name);
  if (n <= k || strncasecmp(line, name, k) != 0) return;
  const char *v = line + k;
  size_t m = n - k;
  while (m && (*v == ' ')) v++, m--;
  while (m && (v[m - 1] == '\r' || v[m - 1] == '\n')) m--;
  snprintf(out, cap, "%.*s", (int)m, v);
}

static size_t on_header(char *p, size_t sz, size_t n, void *u) {
  struct resp *r = u;
  header_value(p, sz * n, "Content-Type:", r->ctype, sizeof r->ctype);
  header_value(p, sz * n, "Link:", r->link, sizeof r->link);
  header_value(p, sz * n, "Allow:", r->allow, sizeof r->allow);
  header_value(p, sz * n, "WWW-Authenticate:", r->www, sizeof r->www);
  header_value(p, sz * n, "Content-Disposition:", r->disposition, sizeof r->disposition);
  return sz * n;
}

static void resp_free(struct resp *r) {
  free(r->body);
  cJSON_Delete(r->json);
  memset(r, 0, sizeof *r);
}

/* method path (with query) token (NULL: none) body (POST) accept (NULL: none) */
static void http_on(struct ph_api *a, const char *method, const char *path, const char *token, const char *body,
                    const char *accept, const char *cainfo, struct resp *r) {
  memset(r, 0, sizeof *r);
  CURL *c = curl_easy_init();
  char url[2048], auth[256], acc[128];
  snprintf(url, sizeof url, "%s://127.0.0.1:%d%s", cainfo ? "https" : "http", ph_api_port(a), path);
  struct curl_slist *h = NULL;
  if (token) {
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    h = curl_slist_append(h, auth);
  }
  if (accept) {
    snprintf(acc, sizeof acc, "Accept: %s", accept);
    h = curl_slist_append(h, acc);
  }
  if (body) h = curl_slist_append(h, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  if (body) curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (cainfo) curl_easy_setopt(c, CURLOPT_CAINFO, cainfo);
  CURLcode rc = curl_easy_perform(c);
  cr_assert_eq(rc, CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(rc));
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  if (!r->body) r->body = calloc(1, 1);
  if (strstr(r->ctype, "json")) r->json = cJSON_Parse(r->body);
}

static void http(const char *method, const char *path, const char *token, const char *body, const char *accept,
                 struct resp *r) {
  http_on(api, method, path, token, body, accept, NULL, r);
}

static void get(const char *path, const char *token, struct resp *r) { http("GET", path, token, NULL, NULL, r); }

static const char *jstr(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  cr_assert(cJSON_IsString(v), "%s is not a string", k);
  return v->valuestring;
}

static double jnum(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  cr_assert(cJSON_IsNumber(v), "%s is not a number", k);
  return v->valuedouble;
}

static bool jnull(const cJSON *o, const char *k) { return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, k)); }

static const cJSON *jget(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  cr_assert_not_null(v, "no %s", k);
  return v;
}

/* the error document, with its status and param */
static void expect_error(const struct resp *r, long status, const char *param) {
  cr_assert_eq(r->status, status, "status %ld, want %ld: %s", r->status, status, r->body);
  cr_assert_not_null(r->json, "not JSON: %s", r->body);
  const cJSON *e = jget(r->json, "error");
  cr_assert_eq((long)jnum(e, "status"), status);
  cr_assert(strlen(jstr(e, "message")) > 0);
  if (param)
    cr_assert_str_eq(jstr(e, "param"), param, "%s", r->body);
  else
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(e, "param"), "%s", r->body);
}

static void fmt_time(int64_t ms, char *out) { cr_assert_eq(ph_time_format(ms, out, PH_TIME_STRLEN), 0); }

/* a series query of e1/stack-1 so2 from T0 for `hours` */
static void series_path(char *out, size_t cap, const char *metric, int64_t from, int64_t to, const char *extra) {
  char f[PH_TIME_STRLEN], t[PH_TIME_STRLEN];
  fmt_time(from, f);
  fmt_time(to, t);
  snprintf(out, cap, "/api/v1/parks/p1/series?ent=e1&point=stack-1&metric=%s&from=%s&to=%s%s", metric, f, t,
           extra ? extra : "");
}

/* Every CSV starts with the UTF-8 byte order mark unless bom=0 (docs/api.md, "CSV"). */
#define BOM "\xEF\xBB\xBF"

TestSuite(hub_api, .init = setup, .fini = teardown, .timeout = 60);

/* ---- health, access, routing ---- */

Test(hub_api, healthz_needs_no_token_and_says_not_ready) {
  start_api();
  struct resp r;
  get("/healthz", NULL, &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_str_eq(jstr(r.json, "status"), "ok");
  cr_assert(strstr(r.ctype, "application/json"));
  resp_free(&r);
  not_ready = 1;
  get("/healthz", NULL, &r);
  cr_assert_eq(r.status, 503);
  cr_assert_str_eq(jstr(r.json, "status"), "not ready");
  cr_assert_str_eq(jstr(r.json, "reason"), "mqtt: not connected");
  resp_free(&r);
  http("POST", "/healthz", NULL, "{}", NULL, &r);
  cr_assert_eq(r.status, 405);
  resp_free(&r);
}

Test(hub_api, healthz_503_without_a_database) {
  snprintf(dbpath, sizeof dbpath, "%s/missing/hub.db", dir);
  start_api();
  struct resp r;
  get("/healthz", NULL, &r);
  cr_assert_eq(r.status, 503, "%s", r.body);
  cr_assert(strstr(jstr(r.json, "reason"), "database"));
  resp_free(&r);
  get("/api/v1/parks/p1/enterprises", "reg-token", &r);
  expect_error(&r, 503, NULL);
  resp_free(&r);
}

Test(hub_api, tokens_401) {
  start_api();
  struct resp r;
  get("/api/v1/parks", NULL, &r);
  expect_error(&r, 401, NULL);
  cr_assert(strstr(r.www, "Bearer"), "WWW-Authenticate: %s", r.www);
  resp_free(&r);
  get("/api/v1/parks", "not-a-token", &r);
  expect_error(&r, 401, NULL);
  resp_free(&r);
  /* the hash, not the token, is in the config: presenting the hex is no good */
  char hex[65];
  ph_api_token_hash_hex("reg-token", hex);
  get("/api/v1/parks", hex, &r);
  expect_error(&r, 401, NULL);
  resp_free(&r);
  get("/metrics", NULL, &r);
  expect_error(&r, 401, NULL);
  resp_free(&r);
  /* unknown paths need a token too: nothing is told to strangers */
  get("/nothing", NULL, &r);
  expect_error(&r, 401, NULL);
  resp_free(&r);
}

/* The dashboard's files need no token; they are the embedded bytes of
 * hub/api/dashboard/, and only GET/HEAD reach them. */
Test(hub_api, dashboard_files) {
  start_api();
  static const char *const files[][2] = {{"/", "text/html"},
                                         {"/dashboard/app.js", "text/javascript"},
                                         {"/dashboard/app.css", "text/css"},
                                         {"/dashboard/uPlot.iife.min.js", "text/javascript"},
                                         {"/dashboard/uPlot.min.css", "text/css"},
                                         {"/dashboard/uPlot.LICENSE", "text/plain"}};
  struct resp r;
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    get(files[i][0], NULL, &r);
    cr_assert_eq(r.status, 200, "%s: %ld", files[i][0], r.status);
    cr_assert(strstr(r.ctype, files[i][1]), "%s: %s", files[i][0], r.ctype);
    struct ph_asset as;
    cr_assert_eq(ph_dashboard_asset(files[i][0], &as), 0);
    cr_assert_eq(strlen(r.body), as.len, "%s: the whole file", files[i][0]);
    cr_assert_gt(as.len, 100);
    resp_free(&r);
  }
  get("/", NULL, &r);
  cr_assert(strstr(r.body, "<title>parkhub"), "the page");
  cr_assert(strstr(r.body, "/dashboard/app.js"));
  resp_free(&r);
  get("/dashboard/uPlot.LICENSE", NULL, &r);
  cr_assert(strstr(r.body, "MIT"), "the chart library's licence is served with it");
  resp_free(&r);
  http("POST", "/", NULL, "x", NULL, &r);
  cr_assert_eq(r.status, 405);
  cr_assert_str_eq(r.allow, "GET, HEAD");
  resp_free(&r);
  get("/dashboard/missing.js", NULL, &r); /* not a file: an API path, so a token first */
  cr_assert_eq(r.status, 401);
  resp_free(&r);
}

Test(hub_api, unknown_paths_404_wrong_methods_405) {
  start_api();
  static const char *const paths[] = {"/dashboard", "/dashboard/", "/dashboard/nope.js", "/index.html", "/api", "/api/v1", "/api/v2/parks", "/api/v1/parks/p1",
                                      "/api/v1/parks/p1/nothing", "/api/v1/parks/p1/enterprises/e1",
                                      "/api/v1/parks/p1/series/", "/api/v1//parks", "/api/v1/parks/p1/alarms/al-1"};
  struct resp r;
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    get(paths[i], "adm-token", &r);
    cr_assert_eq(r.status, 404, "%s: %ld", paths[i], r.status);
    expect_error(&r, 404, NULL);
    resp_free(&r);
  }
  get("/api/v1/parks/nope/enterprises", "adm-token", &r);
  expect_error(&r, 404, NULL);
  resp_free(&r);
  get("/api/v1/parks/NOT_AN_ID/enterprises", "adm-token", &r);
  expect_error(&r, 404, NULL);
  resp_free(&r);
  get("/api/v1/parks/p1/enterprises/e9/points", "adm-token", &r);
  expect_error(&r, 404, NULL);
  resp_free(&r);
  http("POST", "/api/v1/parks", "adm-token", "{}", NULL, &r);
  expect_error(&r, 405, NULL);
  cr_assert_str_eq(r.allow, "GET, HEAD");
  resp_free(&r);
  http("DELETE", "/api/v1/parks/p1/alarms", "adm-token", NULL, NULL, &r);
  expect_error(&r, 405, NULL);
  resp_free(&r);
  get("/api/v1/parks/p1/alarms/al-1/ack", "adm-token", &r);
  expect_error(&r, 405, NULL);
  cr_assert_str_eq(r.allow, "POST");
  resp_free(&r);
}

Test(hub_api, roles_and_parks_403) {
  start_api();
  struct resp r;
  /* a manager sees its park only; a regulator limited to p2 likewise */
  get("/api/v1/parks/p2/enterprises", "mgr-token", &r);
  expect_error(&r, 403, NULL);
  resp_free(&r);
  get("/api/v1/parks/p1/summary?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z", "reg2-token", &r);
  expect_error(&r, 403, NULL);
  resp_free(&r);
  get("/api/v1/parks/p2/enterprises", "reg2-token", &r);
  cr_assert_eq(r.status, 200);
  resp_free(&r);
  /* only admins read /metrics */
  get("/metrics", "reg-token", &r);
  expect_error(&r, 403, NULL);
  resp_free(&r);
  get("/metrics", "mgr-token", &r);
  expect_error(&r, 403, NULL);
  resp_free(&r);
  /* regulators do not acknowledge; managers not outside their parks */
  http("POST", "/api/v1/parks/p1/alarms/al-1/ack", "reg-token", "{\"by\":\"x\"}", NULL, &r);
  expect_error(&r, 403, NULL);
  resp_free(&r);
  http("POST", "/api/v1/parks/p2/alarms/al-4/ack", "mgr-token", "{\"by\":\"x\"}", NULL, &r);
  expect_error(&r, 403, NULL);
  resp_free(&r);
  cr_assert_eq(ack_calls, 0);
}

Test(hub_api, parks_by_token) {
  start_api();
  struct resp r;
  get("/api/v1/parks", "reg-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  const cJSON *parks = jget(r.json, "parks");
  cr_assert_eq(cJSON_GetArraySize(parks), 2);
  cr_assert_str_eq(jstr(cJSON_GetArrayItem(parks, 0), "park"), "p1");
  cr_assert_str_eq(jstr(cJSON_GetArrayItem(parks, 0), "tz"), "Asia/Shanghai");
  cr_assert_eq(jnum(cJSON_GetArrayItem(parks, 0), "enterprises"), 2);
  resp_free(&r);
  get("/api/v1/parks", "mgr-token", &r);
  cr_assert_eq(cJSON_GetArraySize(jget(r.json, "parks")), 1);
  cr_assert_str_eq(jstr(cJSON_GetArrayItem(jget(r.json, "parks"), 0), "park"), "p1");
  resp_free(&r);
  get("/api/v1/parks?format=csv", "reg2-token", &r);
  cr_assert_eq(r.status, 200);
  cr_assert(strstr(r.ctype, "text/csv"));
  cr_assert_str_eq(r.body, BOM "park,name,tz,enterprises\r\np2,Park Two,UTC,1\r\n");
  cr_assert_str_eq(r.disposition, "attachment; filename=\"parkhub_parks.csv\"");
  resp_free(&r);
  /* bom=0 for machines: the same bytes without the mark; JSON has neither */
  get("/api/v1/parks?format=csv&bom=0", "reg2-token", &r);
  cr_assert_str_eq(r.body, "park,name,tz,enterprises\r\np2,Park Two,UTC,1\r\n");
  resp_free(&r);
  get("/api/v1/parks?bom=0", "reg2-token", &r);
  cr_assert_eq(r.status, 200);
  cr_assert_eq(r.body[0], '{');
  cr_assert_str_eq(r.disposition, "");
  resp_free(&r);
  get("/api/v1/parks?format=csv&bom=yes", "reg2-token", &r);
  expect_error(&r, 400, "bom");
  cr_assert_str_eq(r.disposition, "", "an error is no download");
  resp_free(&r);
  get("/api/v1/parks?format=csv&bom=0&bom=1", "reg2-token", &r);
  expect_error(&r, 400, "bom");
  resp_free(&r);
}

/* ---- enterprises and points ---- */

Test(hub_api, enterprises_with_presence) {
  start_api();
  struct resp r;
  get("/api/v1/parks/p1/enterprises", "mgr-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  const cJSON *ents = jget(r.json, "enterprises");
  cr_assert_eq(cJSON_GetArraySize(ents), 2);
  const cJSON *e1 = cJSON_GetArrayItem(ents, 0), *e2 = cJSON_GetArrayItem(ents, 1);
  cr_assert_str_eq(jstr(e1, "ent"), "e1");
  cr_assert_str_eq(jstr(e1, "name"), "Smelter \"One\", Ltd");
  cr_assert(cJSON_IsTrue(jget(e1, "online")));
  cr_assert_eq(jnum(e1, "outbox_depth"), 10);
  char t[PH_TIME_STRLEN];
  fmt_time(T0 + 5 * MIN, t);
  cr_assert_str_eq(jstr(e1, "last_status"), t);
  const cJSON *agents = jget(e1, "agents");
  cr_assert_eq(cJSON_GetArraySize(agents), 2);
  cr_assert_str_eq(jstr(cJSON_GetArrayItem(agents, 1), "agent"), "gw2");
  cr_assert_str_eq(jstr(cJSON_GetArrayItem(agents, 1), "state"), "offline");
  cr_assert_eq(jnum(cJSON_GetArrayItem(agents, 1), "outbox_depth"), 3);
  cr_assert(cJSON_IsFalse(jget(e2, "online")));
  cr_assert(jnull(e2, "outbox_depth"));
  cr_assert_str_eq(jstr(cJSON_GetArrayItem(jget(e2, "agents"), 0), "state"), "unknown");
  resp_free(&r);

  http("GET", "/api/v1/parks/p1/enterprises", "mgr-token", NULL, "text/csv", &r);
  cr_assert_eq(r.status, 200);
  char want[512];
  snprintf(want, sizeof want,
           BOM "ent,name,sector,online,agents_online,agents,outbox_depth,last_status\r\n"
           "e1,\"Smelter \"\"One\"\", Ltd\",cu,true,1,2,10,%s\r\ne2,Two,cu,false,0,1,,\r\n",
           t);
  cr_assert_str_eq(r.body, want);
  resp_free(&r);
}

Test(hub_api, points_with_latest_values) {
  start_api();
  struct resp r;
  get("/api/v1/parks/p1/enterprises/e1/points", "reg-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  const cJSON *pts = jget(r.json, "points");
  cr_assert_eq(cJSON_GetArraySize(pts), 2);
  const cJSON *scale = cJSON_GetArrayItem(pts, 0), *stack = cJSON_GetArrayItem(pts, 1);
  cr_assert_str_eq(jstr(scale, "point"), "scale");
  cr_assert_eq(cJSON_GetArraySize(jget(scale, "metrics")), 0);
  cr_assert_str_eq(jstr(stack, "point"), "stack-1");
  const cJSON *ms = jget(stack, "metrics");
  cr_assert_eq(cJSON_GetArraySize(ms), 2);
  const cJSON *flow = cJSON_GetArrayItem(ms, 0), *so2 = cJSON_GetArrayItem(ms, 1);
  cr_assert_str_eq(jstr(flow, "metric"), "flow");
  cr_assert_eq(jnum(flow, "last"), 50000);
  cr_assert_str_eq(jstr(so2, "metric"), "so2");
  cr_assert_str_eq(jstr(so2, "unit"), "mg/Nm3");
  /* the newest minute rollup (T0 + 4 min) and its last value */
  cr_assert_eq(jnum(so2, "last"), 100 + 1.25 * 4);
  char t[PH_TIME_STRLEN];
  fmt_time(T0 + 4 * MIN + 59000, t);
  cr_assert_str_eq(jstr(so2, "ts"), t);
  /* GB 31574-2015 Table 3, copper, SO2: 150 mg/Nm3 (new and existing plants alike since 2017) */
  cr_assert_eq(jnum(so2, "limit"), 150);
  cr_assert_null(cJSON_GetObjectItemCaseSensitive(flow, "limit"), "flow has no emission limit");
  resp_free(&r);
  get("/api/v1/parks/p1/enterprises/e1/points?format=csv", "reg-token", &r);
  char csv[600], t2[PH_TIME_STRLEN];
  fmt_time(T0, t2); /* flow's only minute: last_ts = T0 */
  snprintf(csv, sizeof csv, BOM "point,metric,unit,last,ts,limit\r\nscale,,,,,\r\nstack-1,flow,Nm3/h,50000,%s,\r\n"
                            "stack-1,so2,mg/Nm3,105,%s,150\r\n", t2, t);
  cr_assert_str_eq(r.body, csv);
  cr_assert_str_eq(r.disposition, "attachment; filename=\"p1_points_e1.csv\"");
  resp_free(&r);
  /* JSON is no download */
  get("/api/v1/parks/p1/enterprises/e1/points", "reg-token", &r);
  cr_assert_str_eq(r.disposition, "");
  resp_free(&r);
}

/* ---- series ---- */

/* Expected value of an hour rollup row from the database itself. */
static double stored(int period, int64_t t, const char *expr) {
  char q[300];
  snprintf(q, sizeof q, "SELECT %s FROM rollups WHERE series_id = %lld AND period = %d AND bucket_ms = %lld", expr,
           (long long)sid_so2, period, (long long)t);
  sqlite3_stmt *s;
  cr_assert_eq(sqlite3_prepare_v2(db, q, -1, &s, NULL), SQLITE_OK);
  cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
  double v = sqlite3_column_double(s, 0);
  sqlite3_finalize(s);
  return v;
}

Test(hub_api, series_hourly_every_agg_equals_the_rows) {
  start_api();
  static const char *const aggs[] = {"mean", "min", "max", "sum", "count"};
  static const char *const exprs[] = {"sum / n", "min", "max", "sum", "n"};
  for (int a = 0; a < 5; a++) {
    char path[600], extra[64];
    snprintf(extra, sizeof extra, "&step=1h&agg=%s", aggs[a]);
    series_path(path, sizeof path, "so2", T0, T0 + 24 * H, extra);
    struct resp r;
    get(path, "reg-token", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(jstr(r.json, "unit"), "mg/Nm3");
    cr_assert_str_eq(jstr(r.json, "agg"), aggs[a]);
    cr_assert(jnull(r.json, "next"));
    const cJSON *pts = jget(r.json, "points");
    cr_assert_eq(cJSON_GetArraySize(pts), 10);
    cr_assert_eq(jnum(r.json, "count"), 10);
    for (int i = 0; i < 10; i++) {
      const cJSON *p = cJSON_GetArrayItem(pts, i);
      char t[PH_TIME_STRLEN];
      fmt_time(T0 + i * H, t);
      cr_assert_str_eq(jstr(p, "t"), t);
      cr_assert_eq(jnum(p, "v"), stored(1, T0 + i * H, exprs[a]), "%s hour %d", aggs[a], i);
      cr_assert_eq(jnum(p, "n"), 60);
      cr_assert_eq(jnum(p, "n_valid"), 58);
    }
    resp_free(&r);
  }
  /* CSV, byte for byte; [from, to) excludes the bucket at to */
  char path[600];
  series_path(path, sizeof path, "so2", T0 + 8 * H, T0 + 9 * H + 1, "&step=1h&agg=max&format=csv");
  struct resp r;
  get(path, "reg-token", &r);
  char want[300], t8[PH_TIME_STRLEN], t9[PH_TIME_STRLEN];
  fmt_time(T0 + 8 * H, t8);
  fmt_time(T0 + 9 * H, t9);
  /* the series on every row, local time (Asia/Shanghai) before UTC, so2 to 1 decimal (schemas/metrics.json) */
  snprintf(want, sizeof want,
           BOM "park,ent,point,metric,unit,local,t,v,n,n_valid\r\n"
               "p1,e1,stack-1,so2,mg/Nm3,2026-03-01 08:00,%s,190.5,60,58\r\n"
               "p1,e1,stack-1,so2,mg/Nm3,2026-03-01 09:00,%s,200.5,60,58\r\n",
           t8, t9);
  cr_assert_str_eq(r.body, want);
  cr_assert_str_eq(r.disposition, "attachment; filename=\"p1_series_e1_stack-1_so2_2026-03-01_2026-03-01.csv\"");
  resp_free(&r);
  series_path(path, sizeof path, "so2", T0 + 8 * H, T0 + 9 * H, "&step=1h&agg=max&format=csv");
  get(path, "reg-token", &r);
  snprintf(want, sizeof want,
           BOM "park,ent,point,metric,unit,local,t,v,n,n_valid\r\np1,e1,stack-1,so2,mg/Nm3,2026-03-01 08:00,%s,190.5,60,58\r\n",
           t8);
  cr_assert_str_eq(r.body, want);
  resp_free(&r);
}

Test(hub_api, series_minutes_days_and_offsets) {
  start_api();
  char path[600];
  struct resp r;
  series_path(path, sizeof path, "so2", T0, T0 + H, "&step=1m");
  get(path, "reg-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_eq(cJSON_GetArraySize(jget(r.json, "points")), 5);
  cr_assert_eq(jnum(cJSON_GetArrayItem(jget(r.json, "points"), 3), "v"), 100 + 1.25 * 3);
  resp_free(&r);
  series_path(path, sizeof path, "so2", T0, T0 + 24 * H, "&step=1d&agg=mean");
  get(path, "reg-token", &r);
  cr_assert_eq(cJSON_GetArraySize(jget(r.json, "points")), 1);
  cr_assert_eq(jnum(cJSON_GetArrayItem(jget(r.json, "points"), 0), "v"), 87000.0 / 600);
  resp_free(&r);
  /* a time with an offset, its '+' percent-encoded; the default step is 1h */
  get("/api/v1/parks/p1/series?ent=e1&point=stack-1&metric=so2&from=2026-03-01T00:00:00%2B08:00"
      "&to=2026-03-01T02:00:00%2B08:00",
      "reg-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_str_eq(jstr(r.json, "step"), "1h");
  cr_assert_eq(cJSON_GetArraySize(jget(r.json, "points")), 2);
  resp_free(&r);
  /* …and a '+' that arrived unencoded (a space to form decoding) */
  get("/api/v1/parks/p1/series?ent=e1&point=stack-1&metric=so2&from=2026-03-01T00:00:00+08:00"
      "&to=2026-03-01T02:00:00+08:00",
      "reg-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_eq(cJSON_GetArraySize(jget(r.json, "points")), 2);
  resp_free(&r);
}

Test(hub_api, series_pages_follow_the_cursor) {
  start_api();
  char path[1400];
  series_path(path, sizeof path, "so2", T0, T0 + 24 * H, "&step=1h&limit=3");
  int pages = 0, total = 0;
  double seen[16];
  while (path[0]) {
    struct resp r;
    get(path, "reg-token", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    const cJSON *pts = jget(r.json, "points");
    for (int i = 0; i < cJSON_GetArraySize(pts); i++) seen[total++] = jnum(cJSON_GetArrayItem(pts, i), "v");
    pages++;
    if (jnull(r.json, "next")) {
      cr_assert_eq(r.link[0], 0);
      path[0] = 0;
    } else {
      char want[1400];
      snprintf(want, sizeof want, "<%s>; rel=\"next\"", jstr(r.json, "next"));
      cr_assert_str_eq(r.link, want);
      snprintf(path, sizeof path, "%s", jstr(r.json, "next"));
    }
    resp_free(&r);
    cr_assert_leq(pages, 10);
  }
  cr_assert_eq(pages, 4);
  cr_assert_eq(total, 10);
  for (int i = 0; i < 10; i++) cr_assert_eq(seen[i], 100 + 10 * i);
}

Test(hub_api, series_raw_from_chunks_in_order_and_pages) {
  raw_data();
  start_api();
  char path[1400];
  struct resp r;
  series_path(path, sizeof path, "so2", T0, T0 + 2 * H, "&step=raw");
  get(path, "reg-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  const cJSON *pts = jget(r.json, "points");
  cr_assert_eq(cJSON_GetArraySize(pts), 7, "%s", r.body);
  for (int i = 0; i < 7; i++) {
    const cJSON *p = cJSON_GetArrayItem(pts, i);
    char t[PH_TIME_STRLEN], f[2] = {raw_flags[i], 0};
    fmt_time(raw_ts(i), t);
    cr_assert_str_eq(jstr(p, "t"), t);
    cr_assert_eq(jnum(p, "v"), raw_expect[i], "value %d", i);
    cr_assert_str_eq(jstr(p, "flag"), f);
  }
  cr_assert_null(cJSON_GetObjectItemCaseSensitive(r.json, "agg"));
  resp_free(&r);

  /* pages of 3: the second starts between the two values at T0+5s */
  series_path(path, sizeof path, "so2", T0, T0 + 2 * H, "&step=raw&limit=3&format=csv");
  char all[2000] = "";
  int pages = 0;
  while (path[0]) {
    get(path, "reg-token", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    static const char head[] = BOM "park,ent,point,metric,unit,local,t,v,flag\r\n";
    cr_assert(!strncmp(r.body, head, sizeof head - 1), "%s", r.body);
    strcat(all, r.body + sizeof head - 1);
    if (pages == 0) {
      char c[64];
      snprintf(c, sizeof c, "cursor=%lld.1", (long long)(T0 + 5000));
      cr_assert(strstr(r.link, c), "link %s", r.link);
    }
    pages++;
    if (r.link[0]) {
      char *end = strchr(r.link, '>');
      cr_assert_not_null(end);
      snprintf(path, sizeof path, "%.*s", (int)(end - r.link - 1), r.link + 1);
    } else {
      path[0] = 0;
    }
    resp_free(&r);
    cr_assert_leq(pages, 10);
  }
  cr_assert_eq(pages, 3);
  char want[2000] = "";
  for (int i = 0; i < 7; i++) {
    char t[PH_TIME_STRLEN], loc[32], line[160];
    fmt_time(raw_ts(i), t);
    ph_tz_format_local(tzs[0], raw_ts(i), loc, sizeof loc); /* "2026-03-01T00:00:05+08:00" */
    loc[10] = ' ';
    loc[19] = 0;
    snprintf(line, sizeof line, "p1,e1,stack-1,so2,mg/Nm3,%s,%s,%.1f,%c\r\n", loc, t, raw_expect[i], raw_flags[i]);
    strcat(want, line);
  }
  cr_assert_str_eq(all, want);

  /* from inside an hour: the chunk that started before `from` still counts */
  series_path(path, sizeof path, "so2", T0 + 3000, T0 + H + 1, "&step=raw");
  get(path, "reg-token", &r);
  pts = jget(r.json, "points");
  cr_assert_eq(cJSON_GetArraySize(pts), 4, "%s", r.body);
  cr_assert_eq(jnum(cJSON_GetArrayItem(pts, 0), "v"), 2);
  cr_assert_eq(jnum(cJSON_GetArrayItem(pts, 3), "v"), 4);
  resp_free(&r);
}

Test(hub_api, series_bad_arguments_400_naming_them) {
  start_api();
  struct {
    const char *query, *param;
  } cases[] = {
      {"ent=e1&point=stack-1&metric=so2&to=2026-03-02T00:00:00Z", "from"},
      {"ent=e1&point=stack-1&metric=so2&from=yesterday&to=2026-03-02T00:00:00Z", "from"},
      {"ent=e1&point=stack-1&metric=so2&from=2026-03-01T00:00:00Z", "to"},
      {"ent=e1&point=stack-1&metric=so2&from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "to"},
      {"ent=e1&point=stack-1&metric=so2&from=2026-03-01T00:00:00Z&to=2026-03-04T00:00:00Z&step=raw", "to"},
      {"ent=e1&point=stack-1&metric=so2&from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&step=1m", "to"},
      {"ent=e1&point=stack-1&metric=so2&from=2024-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&step=1h", "to"},
      {"ent=e1&point=stack-1&metric=so2&from=2000-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&step=1d", "to"},
      {"ent=e1&point=stack-1&metric=so2&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&step=5m", "step"},
      {"ent=e1&point=stack-1&metric=so2&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&agg=median", "agg"},
      {"ent=e1&point=stack-1&metric=so2&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&step=raw&agg=max", "agg"},
      {"ent=e1&point=stack-1&metric=so2&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&limit=0", "limit"},
      {"ent=e1&point=stack-1&metric=so2&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&limit=10001", "limit"},
      {"ent=e1&point=stack-1&metric=so2&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&limit=x", "limit"},
      {"ent=e1&point=stack-1&metric=so2&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&cursor=12", "cursor"},
      {"ent=e1&point=stack-1&metric=so2&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&step=raw&cursor=a.b",
       "cursor"},
      {"ent=e1&point=stack-1&metric=so2&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&format=xml", "format"},
      {"ent=e1&point=stack-1&metric=so2&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&colour=red", "colour"},
      {"ent=e1&ent=e2&point=stack-1&metric=so2&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z", "ent"},
      {"ent=E1&point=stack-1&metric=so2&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z", "ent"},
      {"ent=e1&point=stack-1&metric=&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z", "metric"},
      {"ent=e1&point=stack-1&metric=unobtainium&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z", "metric"},
      {"point=stack-1&metric=so2&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z", "ent"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char path[600];
    snprintf(path, sizeof path, "/api/v1/parks/p1/series?%s", cases[i].query);
    struct resp r;
    get(path, "reg-token", &r);
    cr_assert_eq(r.status, 400, "%s: %ld %s", cases[i].query, r.status, r.body);
    expect_error(&r, 400, cases[i].param);
    resp_free(&r);
  }
  /* well-formed, but nothing of the kind: 404 */
  struct resp r;
  get("/api/v1/parks/p1/series?ent=e9&point=stack-1&metric=so2&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z",
      "reg-token", &r);
  expect_error(&r, 404, "ent");
  resp_free(&r);
  get("/api/v1/parks/p1/series?ent=e1&point=stack-9&metric=so2&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z",
      "reg-token", &r);
  expect_error(&r, 404, "point");
  resp_free(&r);
  /* errors are JSON even when CSV was asked for */
  http("GET", "/api/v1/parks/p1/series?ent=e1", "reg-token", NULL, "text/csv", &r);
  expect_error(&r, 400, "point");
  resp_free(&r);
}

/* ---- summary ---- */

Test(hub_api, summary_equals_the_modules_and_the_rows) {
  make_alarms();
  start_api();
  char path[600], f[PH_TIME_STRLEN], t[PH_TIME_STRLEN];
  fmt_time(T0, f);
  fmt_time(T0 + 24 * H, t);
  snprintf(path, sizeof path, "/api/v1/parks/p1/summary?from=%s&to=%s", f, t);
  struct resp r;
  get(path, "mgr-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  const cJSON *ents = jget(r.json, "enterprises");
  cr_assert_eq(cJSON_GetArraySize(ents), 2);
  const cJSON *e1 = cJSON_GetArrayItem(ents, 0), *e2 = cJSON_GetArrayItem(ents, 1);
  const cJSON *pol = jget(e1, "pollutants");
  cr_assert_eq(cJSON_GetArraySize(pol), 1, "only so2 is a pollutant (flow is not): %s", r.body);
  const cJSON *so2 = cJSON_GetArrayItem(pol, 0);
  cr_assert_str_eq(jstr(so2, "metric"), "so2");
  /* from the rows: hours 0..8 valid, mean 100 + 10 i, flow 50 000 Nm³/h → Σ mean × 0.05 kg */
  const cJSON *mass = jget(so2, "mass");
  cr_assert_float_eq(jnum(mass, "value"), 1260 * 0.05, 1e-9);
  cr_assert_str_eq(jstr(mass, "unit"), "kg");
  cr_assert_eq(jnum(mass, "hours_used"), 9);
  cr_assert_eq(jnum(mass, "hours_expected"), 10);
  const cJSON *hours = jget(so2, "hours");
  cr_assert_eq(jnum(hours, "valid"), 9);
  cr_assert_eq(jnum(hours, "within"), 6);
  cr_assert_eq(jnum(hours, "exceeded"), 3);
  cr_assert_float_eq(jnum(hours, "rate"), 6.0 / 9, 1e-12);
  cr_assert_float_eq(jnum(hours, "availability"), 0.9, 1e-12);
  cr_assert(jnull(jget(so2, "days"), "rate"));
  /* and the modules agree, number for number */
  struct ph_emission_mass m;
  struct ph_compliance c;
  struct ph_err err = {0};
  cr_assert_eq(ph_emission_mass_compute(db, NULL, tzs[0], cat, "p1", "e1", "so2", T0, T0 + 24 * H, PH_MASS_BY_DAY, &m,
                                        &err), 0, "%s", err.msg);
  cr_assert_eq(jnum(mass, "value"), m.total.mass);
  cr_assert_eq(jnum(mass, "gap_share"), m.total.gap_share);
  ph_emission_mass_fini(&m);
  cr_assert_eq(ph_compliance_summary(db, NULL, tzs[0], "p1", "e1", NULL, "so2", T0, T0 + 24 * H, &c, &err), 0);
  cr_assert_eq(jnum(hours, "expected"), c.hours.expected);
  /* alarms open at some time in the range: al-1 (critical); al-2 ended before */
  const cJSON *al = jget(e1, "alarms");
  cr_assert_eq(jnum(al, "critical"), 1);
  cr_assert_eq(jnum(al, "minor"), 0);
  cr_assert_eq(jnum(jget(e2, "alarms"), "major"), 1);
  /* ledger in the range */
  const cJSON *mat = jget(e1, "materials");
  cr_assert_eq(jnum(mat, "in_t"), 15);
  cr_assert_eq(jnum(mat, "out_t"), 3.25);
  cr_assert_eq(cJSON_GetArraySize(jget(mat, "items")), 2);
  /* e2: a series without any hour of data is not monitored: no figure, the reason, never 0 kg
   * and never a gap */
  const cJSON *e2so2 = cJSON_GetArrayItem(jget(e2, "pollutants"), 0);
  cr_assert_eq(jnum(jget(e2so2, "mass"), "hours_used"), 0);
  cr_assert_eq(jnum(jget(e2so2, "mass"), "hours_expected"), 0);
  cr_assert(jnull(jget(e2so2, "mass"), "value"));
  cr_assert(strstr(jstr(jget(e2so2, "mass"), "value_na"), "not monitored") != NULL);
  cr_assert(jnull(jget(e2so2, "mass"), "gap_share"));
  cr_assert(jnull(jget(e2so2, "hours"), "availability"));
  cr_assert(strstr(jstr(jget(e2so2, "hours"), "availability_na"), "not monitored") != NULL);
  cr_assert(strstr(jstr(jget(e2so2, "hours"), "rate_na"), "not monitored") != NULL);
  const cJSON *tot = jget(r.json, "totals");
  /* e2 has no so2 mass (not monitored): the park's sum is not available, never e1's alone
   * passed off as the park's; e1's 63 kg is there, labelled as partial */
  const cJSON *tso2 = cJSON_GetArrayItem(jget(tot, "mass"), 0);
  cr_assert(jnull(tso2, "value"));
  cr_assert(strstr(jstr(tso2, "value_na"), "not available for 1 of 2 enterprises") != NULL, "%s", jstr(tso2, "value_na"));
  cr_assert_eq(jnum(tso2, "enterprises_missing"), 1);
  cr_assert_float_eq(jnum(tso2, "partial_value"), 63, 1e-9);
  cr_assert_eq(jnum(jget(tot, "alarms"), "critical"), 1);
  cr_assert_eq(jnum(jget(tot, "materials"), "in_t"), 15);
  resp_free(&r);

  /* one enterprise asked for: every enterprise in scope has the figure, so the total is given */
  snprintf(path, sizeof path, "/api/v1/parks/p1/summary?from=%s&to=%s&ent=e1", f, t);
  get(path, "mgr-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  tso2 = cJSON_GetArrayItem(jget(jget(r.json, "totals"), "mass"), 0);
  cr_assert_float_eq(jnum(tso2, "value"), 63, 1e-9);
  cr_assert_eq(jnum(tso2, "enterprises_missing"), 0);
  resp_free(&r);

  snprintf(path, sizeof path, "/api/v1/parks/p1/summary?from=%s&to=%s&ent=e1&format=csv", f, t);
  get(path, "mgr-token", &r);
  cr_assert_eq(r.status, 200);
  cr_assert(!strncmp(r.body, BOM "ent,section,item,value,unit\r\n", 32), "%s", r.body);
  /* [T0, T0 + 24 h) is one local day, the 1st of March in Shanghai */
  cr_assert_str_eq(r.disposition, "attachment; filename=\"p1_summary_e1_2026-03-01_2026-03-01.csv\"");
  cr_assert(strstr(r.body, "\r\ne1,mass,so2,63,kg\r\n"), "%s", r.body);
  cr_assert(strstr(r.body, "\r\ne1,exceeded_hours,so2,3,\r\n"));
  cr_assert(strstr(r.body, "\r\ne1,alarms,critical,1,\r\n"));
  cr_assert(strstr(r.body, "\r\ne1,material_in,scrap_cu_1,15,t\r\n"));
  cr_assert(strstr(r.body, "\r\ne1,material_out,cathode_cu,3.25,t\r\n"));
  cr_assert_null(strstr(r.body, "e2,"));
  resp_free(&r);

  get("/api/v1/parks/p1/summary?from=2026-01-01T00:00:00Z&to=2027-03-01T00:00:00Z", "mgr-token", &r);
  expect_error(&r, 400, "to");
  resp_free(&r);
  get("/api/v1/parks/p1/summary?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&ent=e7", "mgr-token", &r);
  expect_error(&r, 404, "ent");
  resp_free(&r);
}

/* Issue #20: the summary's water part is water.h's figures. e2 gets a
 * water outlet ww-1 (indirect) with, at T0 + 0..2 h: w_flow 10 m³/h valid
 * each hour; w_cod 50, 60, then an invalid hour; and a valid day of w_cod
 * (mean 55). By hand: volume 3 × 10 = 30 m³; COD load 10×50 + 10×60 =
 * 1 100 g = 1.1 kg over 2 hours, 1 gap hour, 1 day; 1 valid day; no
 * verified water limit in GB 31574-2015 as built in. e1 has no outlet. */
Test(hub_api, summary_has_the_water_outlets) {
  struct ph_hub_ent *e2 = &cfg.parks[0].ents[1];
  e2->point_media[0] = (struct ph_point_medium){"ww-1", PH_MEDIUM_WATER, PH_DISCHARGE_INDIRECT};
  e2->npoint_media = 1;
  int64_t f = series("p1", "e2", "ww-1", "w_flow"), c = series("p1", "e2", "ww-1", "w_cod");
  for (int h = 0; h < 3; h++) {
    cems_hour(f, T0 + h * H, true, 10, "NULL");
    cems_hour(c, T0 + h * H, h < 2, h == 0 ? 50 : 60, "NULL");
  }
  char q[300];
  snprintf(q, sizeof q,
           "INSERT INTO cems_days(series_id, day_ms, valid_hours, mean, valid, ratio, converted, limit_value)"
           " VALUES(%lld, %lld, 20, 55, 1, NULL, 55, NULL)", (long long)c, (long long)T0);
  sql(q);
  start_api();
  char path[600], fr[PH_TIME_STRLEN], t[PH_TIME_STRLEN];
  fmt_time(T0, fr);
  fmt_time(T0 + 24 * H, t);
  snprintf(path, sizeof path, "/api/v1/parks/p1/summary?from=%s&to=%s", fr, t);
  struct resp r;
  get(path, "mgr-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  const cJSON *ents = jget(r.json, "enterprises");
  const cJSON *w1 = jget(cJSON_GetArrayItem(ents, 0), "water"), *w2 = jget(cJSON_GetArrayItem(ents, 1), "water");
  cr_assert_eq(jnum(w1, "outlets"), 0);
  cr_assert(strstr(jstr(w1, "outlets_na"), "no water outlet"));
  cr_assert_eq(jnum(w2, "outlets"), 1);
  const cJSON *o = cJSON_GetArrayItem(jget(w2, "items"), 0);
  cr_assert_str_eq(jstr(o, "point"), "ww-1");
  cr_assert_str_eq(jstr(o, "discharge"), "indirect");
  cr_assert_float_eq(jnum(o, "volume_m3"), 30, 1e-9);
  const cJSON *cod = cJSON_GetArrayItem(jget(o, "pollutants"), 0);
  cr_assert_str_eq(jstr(cod, "metric"), "w_cod");
  cr_assert_float_eq(jnum(cod, "load_kg"), 1.1, 1e-9);
  cr_assert_eq(jnum(cod, "load_hours"), 2);
  cr_assert_eq(jnum(cod, "load_gap_hours"), 1);
  cr_assert_eq(jnum(cod, "days_valid"), 1);
  cr_assert_float_eq(jnum(cod, "mean"), 55, 1e-9);
  cr_assert(jnull(cod, "limit"));
  cr_assert_str_eq(jstr(cod, "limit_na"), "no verified limit");
  cr_assert_eq(jnum(cod, "days_over"), 0);
  resp_free(&r);

  snprintf(path, sizeof path, "/api/v1/parks/p1/summary?from=%s&to=%s&ent=e2&format=csv", fr, t);
  get(path, "mgr-token", &r);
  cr_assert_eq(r.status, 200);
  cr_assert(strstr(r.body, "\r\ne2,water_volume,ww-1,30,m3\r\n"), "%s", r.body);
  cr_assert(strstr(r.body, "\r\ne2,water_load,ww-1/w_cod,1.1,kg\r\n"), "%s", r.body);
  resp_free(&r);
}

/* Item 5 of issue #15: each ledger item says its role in the park's
 * registry, and codes the park does not declare are totalled apart. */
Test(hub_api, summary_shows_roles_and_unclassified_tonnes) {
  int64_t scale = scalar("SELECT id FROM points WHERE park = 'p1' AND ent = 'e1' AND point = 'scale'");
  char q[300];
  snprintf(q, sizeof q,
           "INSERT INTO materials(point_id, ts_ms, material, dir, qty_t, agent_id, epoch, seq) VALUES"
           " (%lld, %lld, 'scrap_al', 'in', 2, 1, 1, 5)",
           (long long)scale, (long long)(T0 + 4 * H));
  sql(q);
  start_api();
  char path[600], f[PH_TIME_STRLEN], t[PH_TIME_STRLEN];
  fmt_time(T0, f);
  fmt_time(T0 + 24 * H, t);
  snprintf(path, sizeof path, "/api/v1/parks/p1/summary?from=%s&to=%s", f, t);
  struct resp r;
  get(path, "mgr-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  const cJSON *mat = jget(cJSON_GetArrayItem(jget(r.json, "enterprises"), 0), "materials");
  cr_assert_eq(jnum(mat, "in_t"), 17, "unclassified tonnes are still tonnes in");
  cr_assert_eq(jnum(mat, "unclassified_in_t"), 2);
  cr_assert_eq(jnum(mat, "unclassified_out_t"), 0);
  const cJSON *it;
  int seen = 0;
  cJSON_ArrayForEach(it, jget(mat, "items")) {
    const char *code = jstr(it, "material"), *role = jstr(it, "role");
    const char *want = !strcmp(code, "scrap_al")     ? "unclassified"
                       : !strcmp(code, "scrap_cu_1") ? "feed"
                       : !strcmp(code, "cathode_cu") ? "product"
                                                     : NULL;
    if (!want) continue;
    seen++;
    cr_assert_str_eq(role, want, "%s", code);
  }
  cr_assert_eq(seen, 3, "%s", r.body);
  cr_assert_eq(jnum(jget(jget(r.json, "totals"), "materials"), "unclassified_in_t"), 2);
  resp_free(&r);
  snprintf(path, sizeof path, "/api/v1/parks/p1/summary?from=%s&to=%s&ent=e1&format=csv", f, t);
  get(path, "mgr-token", &r);
  cr_assert_eq(r.status, 200);
  cr_assert(strstr(r.body, "\r\ne1,material_in,scrap_al,2,t\r\n"), "%s", r.body);
  cr_assert(strstr(r.body, "\r\ne1,materials_unclassified,in,2,t\r\n"), "%s", r.body);
  cr_assert(strstr(r.body, "\r\ne1,materials_unclassified,out,0,t\r\n"), "%s", r.body);
  resp_free(&r);
}

Test(hub_api, summary_without_alarms_table) {
  start_api();
  struct resp r;
  get("/api/v1/parks/p1/summary?from=2026-02-28T00:00:00Z&to=2026-03-02T00:00:00Z", "reg-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_eq(jnum(jget(cJSON_GetArrayItem(jget(r.json, "enterprises"), 0), "alarms"), "critical"), 0);
  resp_free(&r);
}

/* ---- alarms ---- */

Test(hub_api, alarms_list_filters_and_pages) {
  make_alarms();
  start_api();
  struct resp r;
  get("/api/v1/parks/p1/alarms", "reg-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  const cJSON *as = jget(r.json, "alarms");
  cr_assert_eq(cJSON_GetArraySize(as), 3);
  const cJSON *a3 = cJSON_GetArrayItem(as, 0), *a1 = cJSON_GetArrayItem(as, 2);
  cr_assert_str_eq(jstr(a3, "alarm_id"), "al-3"); /* newest first */
  cr_assert_str_eq(jstr(a3, "acked_by"), "ops");
  char t[PH_TIME_STRLEN];
  fmt_time(T0 + 3 * H + MIN, t);
  cr_assert_str_eq(jstr(a3, "acked"), t);
  cr_assert_str_eq(jstr(a1, "message"), "SO2 over \"limit\", hourly");
  cr_assert_str_eq(jstr(a1, "rule"), "r-so2");
  cr_assert_eq(jnum(a1, "peak"), 190);
  cr_assert(jnull(a1, "acked_by"));
  cr_assert_null(cJSON_GetObjectItemCaseSensitive(a1, "id"));
  resp_free(&r);

  static const struct {
    const char *q;
    int n;
    const char *first;
  } f[] = {{"state=open", 2, "al-3"},       {"state=closed", 1, "al-2"},          {"severity=critical", 1, "al-1"},
           {"ent=e2", 1, "al-3"},           {"from=2026-02-28T17:30:00Z", 2, "al-3"},
           {"to=2026-02-28T17:30:00Z", 2, "al-2"}, {"state=active_unacked&severity=major", 0, NULL}};
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
    char path[300];
    snprintf(path, sizeof path, "/api/v1/parks/p1/alarms?%s", f[i].q);
    get(path, "reg-token", &r);
    cr_assert_eq(r.status, 200, "%s: %s", f[i].q, r.body);
    cr_assert_eq(cJSON_GetArraySize(jget(r.json, "alarms")), f[i].n, "%s: %s", f[i].q, r.body);
    if (f[i].first) cr_assert_str_eq(jstr(cJSON_GetArrayItem(jget(r.json, "alarms"), 0), "alarm_id"), f[i].first);
    resp_free(&r);
  }

  /* pages of one */
  char path[1400] = "/api/v1/parks/p1/alarms?limit=1&format=csv";
  int pages = 0;
  char ids[64] = "";
  while (path[0]) {
    get(path, "reg-token", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(!strncmp(r.body, BOM "alarm_id,park,rule,ent,", 26), "%s", r.body);
    const char *row = strstr(r.body, "\r\n") + 2;
    strncat(ids, row, 4);
    pages++;
    if (r.link[0]) {
      char *end = strchr(r.link, '>');
      snprintf(path, sizeof path, "%.*s", (int)(end - r.link - 1), r.link + 1);
      cr_assert(strstr(path, "format=csv"));
    } else {
      path[0] = 0;
    }
    resp_free(&r);
    cr_assert_leq(pages, 5);
  }
  cr_assert_eq(pages, 3);
  cr_assert_str_eq(ids, "al-3al-2al-1");
  /* the next page comes in the same form: bom=0 carried in the link */
  get("/api/v1/parks/p1/alarms?limit=1&format=csv&bom=0", "reg-token", &r);
  cr_assert(!strncmp(r.body, "alarm_id,", 9), "%s", r.body);
  cr_assert(strstr(r.link, "&format=csv&bom=0>"), "%s", r.link);
  cr_assert_str_eq(r.disposition, "attachment; filename=\"p1_alarms.csv\"");
  resp_free(&r);

  get("/api/v1/parks/p1/alarms?state=burning", "reg-token", &r);
  expect_error(&r, 400, "state");
  resp_free(&r);
  get("/api/v1/parks/p1/alarms?severity=huge", "reg-token", &r);
  expect_error(&r, 400, "severity");
  resp_free(&r);
  get("/api/v1/parks/p1/alarms?cursor=-3", "reg-token", &r);
  expect_error(&r, 400, "cursor");
  resp_free(&r);
}

Test(hub_api, alarms_empty_without_table) {
  start_api();
  struct resp r;
  get("/api/v1/parks/p1/alarms?state=open", "reg-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_eq(cJSON_GetArraySize(jget(r.json, "alarms")), 0);
  resp_free(&r);
  get("/api/v1/parks/p1/alarms?format=csv", "reg-token", &r);
  cr_assert_eq(r.status, 200);
  cr_assert(!strncmp(r.body, BOM "alarm_id,", 12));
  resp_free(&r);
}

/* Across parks (api_parks.c): the parks a token covers, parks= checked as
 * a path's park would be, the listing's pages across the parks. */
Test(hub_api, across_parks_alarms_and_arguments) {
  make_alarms();
  start_api();
  struct resp r;
  get("/api/v1/alarms", "reg-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_eq(cJSON_GetArraySize(jget(r.json, "alarms")), 4, "%s", r.body);
  cr_assert_eq(cJSON_GetArraySize(jget(r.json, "parks")), 2);
  resp_free(&r);
  get("/api/v1/alarms", "reg2-token", &r); /* p2 only */
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_eq(cJSON_GetArraySize(jget(r.json, "alarms")), 1, "%s", r.body);
  cr_assert_str_eq(jstr(cJSON_GetArrayItem(jget(r.json, "alarms"), 0), "alarm_id"), "al-4");
  cr_assert_str_eq(jstr(cJSON_GetArrayItem(jget(r.json, "alarms"), 0), "park"), "p2");
  resp_free(&r);
  get("/api/v1/alarms?parks=p1&state=open", "reg-token", &r);
  cr_assert_eq(cJSON_GetArraySize(jget(r.json, "alarms")), 2, "%s", r.body);
  resp_free(&r);

  /* pages of one across the parks, each alarm once */
  char path[1400] = "/api/v1/alarms?limit=1";
  char ids[64] = "";
  int pages = 0;
  while (path[0]) {
    get(path, "reg-token", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    strncat(ids, jstr(cJSON_GetArrayItem(jget(r.json, "alarms"), 0), "alarm_id"), 4);
    if (r.link[0]) {
      char *end = strchr(r.link, '>');
      snprintf(path, sizeof path, "%.*s", (int)(end - r.link - 1), r.link + 1);
      cr_assert(!strncmp(path, "/api/v1/alarms?limit=1&cursor=", 30), "%s", path);
    } else {
      path[0] = 0;
    }
    resp_free(&r);
    cr_assert_leq(++pages, 6);
  }
  cr_assert_eq(pages, 4, "%s", ids);
  /* newest raised first across the parks, whatever the ids say (on a
   * regional hub they are each park hub's own numbering): al-3 raised at
   * T0+3h, al-1 T0+1h, al-4 (p2) T0, al-2 T0-48h; ids 4, 3, 2, 1 */
  cr_assert_str_eq(ids, "al-3al-1al-4al-2");
  /* a per-park cursor (an id only) names no row of this listing */
  get("/api/v1/alarms?limit=1&cursor=3", "reg-token", &r);
  expect_error(&r, 400, "cursor");
  resp_free(&r);
  get("/api/v1/alarms?limit=1&cursor=x_3", "reg-token", &r);
  expect_error(&r, 400, "cursor");
  resp_free(&r);
  get("/api/v1/alarms?format=csv", "reg2-token", &r);
  cr_assert_eq(r.status, 200);
  cr_assert(!strncmp(r.body, BOM "alarm_id,park,", 17), "%s", r.body);
  cr_assert_str_eq(r.disposition, "attachment; filename=\"parkhub_alarms.csv\"");
  resp_free(&r);

  /* parks=: outside the token 403, unknown 404, malformed 400, each naming parks */
  static const struct {
    const char *q, *tok;
    long status;
  } bad[] = {{"/api/v1/alarms?parks=p1", "reg2-token", 403},
             {"/api/v1/summary?parks=p2,p1&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z", "reg2-token", 403},
             {"/api/v1/exceedances?parks=p1&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z", "reg2-token", 403},
             {"/api/v1/alarms?parks=zz", "reg-token", 404},
             {"/api/v1/alarms?parks=P1", "reg-token", 400},
             {"/api/v1/alarms?parks=p1,,p2", "reg-token", 400},
             {"/api/v1/alarms?parks=p1,p1", "reg-token", 400},
             {"/api/v1/alarms?parks=", "reg-token", 400}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    get(bad[i].q, bad[i].tok, &r);
    expect_error(&r, bad[i].status, "parks");
    resp_free(&r);
  }
  get("/api/v1/alarms?ent=x1", "reg-token", &r); /* p2's enterprise: found across the parks */
  cr_assert_eq(cJSON_GetArraySize(jget(r.json, "alarms")), 1, "%s", r.body);
  resp_free(&r);
  get("/api/v1/alarms?ent=x1", "mgr-token", &r); /* the manager's park p1 has no x1 */
  expect_error(&r, 404, "ent");
  resp_free(&r);
  get("/api/v1/exceedances?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&metric=flow", "reg-token", &r);
  expect_error(&r, 400, "metric");
  resp_free(&r);
  get("/api/v1/summary?from=2026-03-01T00:00:00Z&to=2027-06-01T00:00:00Z", "reg-token", &r);
  expect_error(&r, 400, "to");
  resp_free(&r);
  get("/api/v1/nothing", "reg-token", &r);
  cr_assert_eq(r.status, 404);
  resp_free(&r);
  http("POST", "/api/v1/summary", "reg-token", "{}", NULL, &r);
  cr_assert_eq(r.status, 405);
  resp_free(&r);
}

/* The summary across parks computes its parks at once (api_parks.c inv. 5):
 * a park that fails fails the whole request with that park's error, never
 * a 200 with the other parks, whichever part failed and in either format.
 * A park without a loaded zone is the failure here (api_summary_park). */
Test(hub_api, across_parks_summary_one_failing_park_fails_it) {
  start_api();
  struct resp r;
  static const char q[] = "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z";
  char path[200];
  snprintf(path, sizeof path, "/api/v1/summary?%s", q);
  get(path, "reg-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_eq(cJSON_GetArraySize(jget(r.json, "parks")), 2, "%s", r.body);
  resp_free(&r);
  for (int bad = 0; bad < 2; bad++) {
    refs.tz[bad] = NULL; /* the API reads refs through env: the next request sees it */
    const char *name = bad ? "p2" : "p1", *fmt[] = {"", "&format=csv"};
    for (int f = 0; f < 2; f++) {
      snprintf(path, sizeof path, "/api/v1/summary?%s%s", q, fmt[f]);
      get(path, "reg-token", &r);
      expect_error(&r, 500, NULL);
      cr_assert(strstr(jstr(jget(r.json, "error"), "message"), name) != NULL, "%s", r.body);
      cr_assert_str_eq(r.disposition, "", "an error is no download");
      resp_free(&r);
    }
    snprintf(path, sizeof path, "/api/v1/summary?%s&parks=%s", q, bad ? "p1" : "p2"); /* the other park alone */
    get(path, "reg-token", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    resp_free(&r);
    refs.tz[bad] = tzs[bad];
  }
}

/* The exceedance rows of the fixture: e1's hours 6..8 (160, 170, 180 > 150). */
Test(hub_api, across_parks_exceedances) {
  start_api();
  struct resp r;
  get("/api/v1/exceedances?from=2026-02-28T16:00:00Z&to=2026-03-01T16:00:00Z", "reg-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  const cJSON *it, *e1 = NULL;
  cJSON_ArrayForEach(it, jget(r.json, "exceedances")) {
    const char *status = jstr(it, "status");
    cr_assert(!strcmp(status, "exceeded") || !strcmp(status, "not_available"), "%s", status);
    if (!strcmp(jstr(it, "ent"), "e1") && !strcmp(jstr(it, "metric"), "so2")) e1 = it;
  }
  cr_assert_not_null(e1, "%s", r.body);
  cr_assert_str_eq(jstr(e1, "status"), "exceeded");
  cr_assert_eq(jnum(e1, "hours_exceeded"), 3);
  cr_assert_eq(jnum(e1, "hours_valid"), 9);
  cr_assert_eq(jnum(e1, "worst_hour_mean"), 180);
  cr_assert_eq(jnum(e1, "worst_hour_limit"), 150);
  char t[PH_TIME_STRLEN];
  fmt_time(T0 + 8 * H, t);
  cr_assert_str_eq(jstr(e1, "worst_hour_start"), t);
  resp_free(&r);
}

/* RFC 4180 fields of one CSV row starting at *p (advanced past its CRLF):
 * at most cap fields, each malloc'd; returns how many. */
static int csv_row(const char **p, char **f, int cap) {
  int n = 0;
  const char *s = *p;
  while (*s && n < cap) {
    size_t len = 0, fcap = strlen(s) + 1;
    char *out = malloc(fcap);
    if (*s == '"') {
      for (s++; *s; s++) {
        if (*s == '"' && s[1] == '"') out[len++] = '"', s++;
        else if (*s == '"') { s++; break; }
        else out[len++] = *s;
      }
    } else {
      while (*s && *s != ',' && *s != '\r') out[len++] = *s++;
    }
    out[len] = 0;
    f[n++] = out;
    if (*s == ',') { s++; continue; }
    if (*s == '\r' && s[1] == '\n') s += 2;
    break;
  }
  *p = s;
  return n;
}

static int csv_col(char **head, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (!strcmp(head[i], name)) return i;
  cr_assert_fail("no column %s", name);
  return -1;
}

/* OWASP's CSV injection rule: a text cell that a spreadsheet would read as
 * a formula (=, +, -, @, tab, CR first) comes back with a ' before it. */
Test(hub_api, alarms_csv_defuses_formulas) {
  make_alarms();
  sql("UPDATE alarms SET acked_by = '=HYPERLINK(\"http://x\")', note = '+1+1' WHERE alarm_id = 'al-1'");
  sql("UPDATE alarms SET acked_by = '-2', note = '@SUM(A1)' WHERE alarm_id = 'al-2'");
  sql("UPDATE alarms SET acked_by = char(9) || 'tab', note = char(13) || 'cr' WHERE alarm_id = 'al-3'");
  start_api();
  struct resp r;
  get("/api/v1/parks/p1/alarms?format=csv&bom=0", "reg-token", &r); /* a machine's read: no BOM */
  cr_assert_eq(r.status, 200, "%s", r.body);
  const char *p = r.body;
  char *head[32], *row[32];
  int nh = csv_row(&p, head, 32);
  int cid = csv_col(head, nh, "alarm_id"), cby = csv_col(head, nh, "acked_by"), cnote = csv_col(head, nh, "note");
  static const struct {
    const char *id, *by, *note;
  } want[] = {{"al-1", "'=HYPERLINK(\"http://x\")", "'+1+1"}, {"al-2", "'-2", "'@SUM(A1)"},
              {"al-3", "'\ttab", "'\rcr"}};
  int seen = 0;
  while (*p) {
    int n = csv_row(&p, row, 32);
    cr_assert_eq(n, nh, "a row has as many cells as the header: %s", r.body);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
      if (strcmp(row[cid], want[i].id)) continue;
      cr_assert_str_eq(row[cby], want[i].by, "%s acked_by", want[i].id);
      cr_assert_str_eq(row[cnote], want[i].note, "%s note", want[i].id);
      seen++;
    }
    for (int k = 0; k < n; k++) free(row[k]);
  }
  cr_assert_eq(seen, 3, "%s", r.body);
  for (int k = 0; k < nh; k++) free(head[k]);
  resp_free(&r);
  /* JSON is data, not a sheet: the text as stored */
  get("/api/v1/parks/p1/alarms", "reg-token", &r);
  cr_assert_str_eq(jstr(cJSON_GetArrayItem(jget(r.json, "alarms"), 2), "acked_by"), "=HYPERLINK(\"http://x\")");
  resp_free(&r);
}

Test(hub_api, ack_through_the_hub_callback) {
  make_alarms();
  start_api();
  struct resp r;
  http("POST", "/api/v1/parks/p1/alarms/al-1/ack", "mgr-token", "{\"by\":\"Li Wei\",\"note\":\"fan restarted\"}",
       NULL, &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_eq(ack_calls, 1);
  cr_assert_str_eq(acked_park, "p1");
  cr_assert_str_eq(acked_id, "al-1");
  cr_assert_str_eq(acked_by, "Li Wei");
  cr_assert_str_eq(acked_note, "fan restarted");
  cr_assert(cJSON_IsTrue(jget(r.json, "acked")));
  const cJSON *al = jget(r.json, "alarm");
  cr_assert_str_eq(jstr(al, "state"), "active_acked");
  cr_assert_str_eq(jstr(al, "acked_by"), "Li Wei");
  resp_free(&r);

  http("POST", "/api/v1/parks/p1/alarms/al-9/ack", "adm-token", "{\"by\":\"x\"}", NULL, &r);
  expect_error(&r, 404, NULL);
  resp_free(&r);
  http("POST", "/api/v1/parks/p1/alarms/al-2/ack", "adm-token", "{\"by\":\"Zhang\"}", NULL, &r);
  expect_error(&r, 409, NULL);
  cr_assert(strstr(r.body, "already acknowledged by Li Wei") != NULL, "409 says who: %s", r.body);
  resp_free(&r);
  static const struct {
    const char *body, *param;
  } bad[] = {{"", "body"},
             {"[1]", "body"},
             {"{\"note\":\"n\"}", "by"},
             {"{\"by\":\"\"}", "by"},
             {"{\"by\":7}", "by"},
             {"{\"by\":\"x\",\"note\":3}", "note"},
             {"{\"by\":\"\x80\x80\x80\"}", "by"},           /* the cmd/ack's UTF-8 rule (ack_cmd.h) */
             {"{\"by\":\"x\",\"by\":\"y\"}", "by"},          /* given twice */
             {"{\"by\":\"x\",\"note\":\"\xED\xA0\x80\"}", "note"},
             {"{\"by\":\"x\",\"alarm_id\":\"al-1\"}", "alarm_id"},
             {"{\"by\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}", "by"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    http("POST", "/api/v1/parks/p1/alarms/al-1/ack", "mgr-token", bad[i].body, NULL, &r);
    expect_error(&r, 400, bad[i].param);
    resp_free(&r);
  }
  /* 64 characters of UTF-8 are fine, whatever their bytes */
  char body[400] = "{\"by\":\"";
  for (int i = 0; i < 64; i++) strcat(body, "\xe6\x9d\x8e");
  strcat(body, "\"}");
  http("POST", "/api/v1/parks/p1/alarms/al-1/ack", "mgr-token", body, NULL, &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  resp_free(&r);
  char *big = malloc(PH_API_BODY_MAX + 100);
  memset(big, ' ', PH_API_BODY_MAX + 99);
  big[PH_API_BODY_MAX + 99] = 0;
  big[0] = '{';
  big[PH_API_BODY_MAX + 98] = '}';
  http("POST", "/api/v1/parks/p1/alarms/al-1/ack", "mgr-token", big, NULL, &r);
  expect_error(&r, 413, NULL);
  resp_free(&r);
  free(big);
  cr_assert_eq(ack_calls, 4, "al-1, al-9, al-2 and the 64-character name reached the hub; the 413 did not");
}

/* An ack body is one JSON object and nothing after it; U+0000 would cut
 * `by` short where it is stored (C strings), so it is refused, not cut. */
Test(hub_api, ack_refuses_trailing_data_and_nul) {
  make_alarms();
  start_api();
  struct resp r;
  static const struct {
    const char *body, *param;
  } bad[] = {{"{\"by\":\"x\"} garbage", "body"},
             {"{\"by\":\"x\"}{\"by\":\"y\"}", "body"},
             {"{\"by\":\"x\"}]", "body"},
             {"{\"by\":\"Li\\u0000 Wei\"}", "by"},
             {"{\"by\":\"x\",\"note\":\"a\\u0000b\"}", "note"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    http("POST", "/api/v1/parks/p1/alarms/al-1/ack", "mgr-token", bad[i].body, NULL, &r);
    expect_error(&r, 400, bad[i].param);
    resp_free(&r);
  }
  cr_assert_eq(ack_calls, 0, "nothing was acknowledged");
  /* whitespace after the object is fine, and so is an escaped backslash before u0000 */
  http("POST", "/api/v1/parks/p1/alarms/al-1/ack", "mgr-token", "{\"by\":\"x\\\\u0000\"} \r\n", NULL, &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_str_eq(acked_by, "x\\u0000");
  resp_free(&r);
}

Test(hub_api, ack_501_without_callback) {
  env.ack = NULL;
  start_api();
  struct resp r;
  http("POST", "/api/v1/parks/p1/alarms/al-1/ack", "adm-token", "{\"by\":\"x\"}", NULL, &r);
  expect_error(&r, 501, NULL);
  resp_free(&r);
}

/* ---- /metrics ---- */

Test(hub_api, metrics_hub_text_and_ours) {
  start_api();
  struct resp r;
  get("/api/v1/parks", "reg-token", &r);
  resp_free(&r);
  get("/api/v1/parks/nope/enterprises", "reg-token", &r);
  resp_free(&r);
  get("/metrics", "adm-token", &r);
  cr_assert_eq(r.status, 200);
  cr_assert(strstr(r.ctype, "text/plain"));
  cr_assert(strstr(r.body, "parkhub_ingest_batches_total 42\n"));
  cr_assert(strstr(r.body, "parkhub_api_requests_total{code=\"200\"} 1\n"), "%s", strstr(r.body, "parkhub_api"));
  cr_assert(strstr(r.body, "parkhub_api_requests_total{code=\"404\"} 1\n"));
  struct stat sb;
  cr_assert_eq(stat(dbpath, &sb), 0);
  char line[128];
  snprintf(line, sizeof line, "parkhub_db_size_bytes{file=\"main\"} %lld\n", (long long)sb.st_size);
  cr_assert(strstr(r.body, line), "%s", line);
  cr_assert(strstr(r.body, "parkhub_api_request_duration_seconds_count 2\n"));
  resp_free(&r);
  get("/metrics?x=1", "adm-token", &r);
  expect_error(&r, 400, "x");
  resp_free(&r);
  struct ph_api_stats s;
  ph_api_stats(api, &s);
  cr_assert_eq(s.requests, 4);
  cr_assert_eq(s.by_code[0], 2);
}

/* ---- concurrency and the writer ---- */

struct worker_arg {
  const char *path;
  const char *want;
  int ok;
};

static void *hammer(void *p) {
  struct worker_arg *w = p;
  for (int i = 0; i < 25; i++) {
    struct resp r;
    http("GET", w->path, "reg-token", NULL, NULL, &r);
    if (r.status == 200 && !strcmp(r.body, w->want)) w->ok++;
    resp_free(&r);
  }
  return NULL;
}

Test(hub_api, concurrent_readers_get_the_same_answer) {
  start_api();
  char path[600];
  series_path(path, sizeof path, "so2", T0, T0 + 24 * H, "&step=1h");
  struct resp r;
  get(path, "reg-token", &r);
  cr_assert_eq(r.status, 200);
  struct worker_arg a[4];
  pthread_t th[4];
  for (int i = 0; i < 4; i++) {
    a[i] = (struct worker_arg){path, r.body, 0};
    pthread_create(&th[i], NULL, hammer, &a[i]);
  }
  for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < 4; i++) cr_assert_eq(a[i].ok, 25);
  resp_free(&r);
}

Test(hub_api, reads_while_the_writer_holds_a_transaction) {
  start_api();
  sql("BEGIN IMMEDIATE");
  rollup(sid_so2, 1, T0 + 12 * H, 1, 1, 1, 1, T0 + 12 * H, 1);
  char path[600];
  series_path(path, sizeof path, "so2", T0, T0 + 24 * H, "&step=1h");
  struct resp r;
  int64_t t = ph_mono_ms();
  get(path, "reg-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_lt(ph_mono_ms() - t, 1000, "a reader waited for the writer");
  cr_assert_eq(cJSON_GetArraySize(jget(r.json, "points")), 10, "uncommitted rows are not visible");
  resp_free(&r);
  sql("COMMIT");
  get(path, "reg-token", &r);
  cr_assert_eq(cJSON_GetArraySize(jget(r.json, "points")), 11);
  resp_free(&r);
  /* and the API never writes: its connection is read-only */
  sqlite3 *ro;
  cr_assert_eq(sqlite3_open_v2(dbpath, &ro, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  cr_assert_eq(sqlite3_exec(ro, "DELETE FROM rollups", NULL, NULL, NULL), SQLITE_READONLY);
  sqlite3_close(ro);
}

/* an idle connection is closed after conf.timeout_s */
Test(hub_api, idle_connections_time_out) {
  conf.timeout_s = 1;
  start_api();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)ph_api_port(api))};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  cr_assert_eq(write(fd, "GET /healthz HTTP/1.1\r\n", 24), 24); /* and never the rest */
  int64_t t = ph_mono_ms();
  struct pollfd p = {.fd = fd, .events = POLLIN};
  cr_assert_eq(poll(&p, 1, 5000), 1, "still open after 5 s");
  char b[64];
  cr_assert_leq(read(fd, b, sizeof b), 0, "closed without an answer");
  cr_assert_geq(ph_mono_ms() - t, 500);
  close(fd);
}

/* ---- HTTPS ---- */

static void make_cert(const char *cert_path, const char *key_path) {
  EVP_PKEY *pk = EVP_EC_gen("P-256");
  cr_assert_not_null(pk);
  X509 *x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, pk);
  X509_NAME *nm = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"parkhub test", -1, -1, 0);
  X509_set_issuer_name(x, nm);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
  cr_assert_not_null(ext);
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  cr_assert_gt(X509_sign(x, pk, EVP_sha256()), 0);
  FILE *f = fopen(cert_path, "w");
  PEM_write_X509(f, x);
  fclose(f);
  f = fopen(key_path, "w");
  PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
  fclose(f);
  X509_free(x);
  EVP_PKEY_free(pk);
}

Test(hub_api, https_with_cert_and_key) {
  snprintf(conf.cert, sizeof conf.cert, "%s/cert.pem", dir);
  snprintf(conf.key, sizeof conf.key, "%s/key.pem", dir);
  make_cert(conf.cert, conf.key);
  start_api();
  cr_assert(ph_api_tls(api));
  struct resp r;
  http_on(api, "GET", "/api/v1/parks", "reg-token", NULL, NULL, conf.cert, &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_eq(cJSON_GetArraySize(jget(r.json, "parks")), 2);
  resp_free(&r);
}

/* ---- start-up and config ---- */

Test(hub_api, start_refuses_bad_setups) {
  struct ph_err err = {0};
  struct ph_api *a = NULL;
  strcpy(conf.tokens[2].parks[0], "p9");
  cr_assert_eq(ph_api_start(&conf, &env, &a, &err), PH_ECONFIG);
  cr_assert(strstr(err.msg, "http.tokens[2].parks[0]"), "%s", err.msg);
  cr_assert_null(a);
  strcpy(conf.tokens[2].parks[0], "p1");
  snprintf(conf.cert, sizeof conf.cert, "%s/none.pem", dir);
  snprintf(conf.key, sizeof conf.key, "%s/none.key", dir);
  cr_assert_eq(ph_api_start(&conf, &env, &a, &err), PH_ECONFIG);
  cr_assert(strstr(err.msg, "http.cert"), "%s", err.msg);
  conf.cert[0] = conf.key[0] = 0;
  /* a port in use */
  start_api();
  conf.port = ph_api_port(api);
  cr_assert_eq(ph_api_start(&conf, &env, &a, &err), PH_EIO);
  cr_assert_null(a);
}

static int load(const char *json, struct ph_api_conf *c, struct ph_err *err) {
  cJSON *o = cJSON_Parse(json);
  cr_assert_not_null(o, "%s", json);
  int rc = ph_api_conf_load(o, c, err);
  cJSON_Delete(o);
  return rc;
}

Test(hub_api_conf, loads_and_checks) {
  struct ph_api_conf c;
  struct ph_err err = {0};
  char hex[65];
  cr_assert_eq(ph_api_token_hash_hex("abc", hex), 0);
  cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  cr_assert_eq(ph_api_conf_load(NULL, &c, &err), 0);
  cr_assert(!c.enabled);
  cr_assert_str_eq(c.listen, "127.0.0.1");
  cr_assert_eq(c.port, 18080);
  cr_assert_eq(load("{\"listen\":\"::1\",\"port\":8443,\"cert\":\"/c.pem\",\"key\":\"/k.pem\",\"tokens\":["
                    "{\"name\":\"epb\",\"sha256\":\"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD\","
                    "\"role\":\"regulator\"},"
                    "{\"name\":\"ppp\",\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000001\","
                    "\"role\":\"manager\",\"parks\":[\"demo-park\",\"p2\"]}]}",
                    &c, &err),
               0, "%s", err.msg);
  cr_assert(c.enabled);
  cr_assert_str_eq(c.listen, "::1");
  cr_assert_eq(c.port, 8443);
  cr_assert_eq(c.ntokens, 2);
  cr_assert_eq(c.tokens[0].sha256[0], 0xba);
  cr_assert_eq(c.tokens[0].sha256[31], 0xad);
  cr_assert_eq(c.tokens[0].role, PH_API_ROLE_REGULATOR);
  cr_assert_eq(c.tokens[1].role, PH_API_ROLE_MANAGER);
  cr_assert_eq(c.tokens[1].nparks, 2);
  cr_assert_str_eq(c.tokens[1].parks[1], "p2");
  cr_assert_eq(c.threads, PH_API_DEFAULT_THREADS);
  cr_assert_eq(c.max_points, 10000);

  static const struct {
    const char *json, *path;
  } bad[] = {
      {"{\"port\":0}", "http.port"},
      {"{\"port\":\"80\"}", "http.port"},
      {"{\"listen\":\"localhost\"}", "http.listen"},
      {"{\"colour\":1}", "http.colour"},
      {"{\"cert\":\"/c.pem\"}", "http.key"},
      {"{\"tokens\":{}}", "http.tokens"},
      {"{\"tokens\":[{\"name\":\"a\",\"sha256\":\"ab\",\"role\":\"admin\"}]}", "http.tokens[0].sha256"},
      {"{\"tokens\":[{\"name\":\"a\",\"sha256\":\"zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\","
       "\"role\":\"admin\"}]}",
       "http.tokens[0].sha256"},
      {"{\"tokens\":[{\"name\":\"a\",\"sha256\":\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\","
       "\"role\":\"root\"}]}",
       "http.tokens[0].role"},
      {"{\"tokens\":[{\"sha256\":\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\","
       "\"role\":\"admin\"}]}",
       "http.tokens[0].name"},
      {"{\"tokens\":[{\"name\":\"a\",\"sha256\":\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\","
       "\"role\":\"manager\"}]}",
       "http.tokens[0].parks"},
      {"{\"tokens\":[{\"name\":\"a\",\"sha256\":\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\","
       "\"role\":\"manager\",\"parks\":[\"Demo Park\"]}]}",
       "http.tokens[0].parks[0]"},
      {"{\"tokens\":[{\"name\":\"a\",\"sha256\":\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\","
       "\"role\":\"admin\",\"token\":\"plain\"}]}",
       "http.tokens[0].token"},
      {"{\"tokens\":[{\"name\":\"a\",\"sha256\":\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\","
       "\"role\":\"admin\"},{\"name\":\"b\",\"sha256\":"
       "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\",\"role\":\"admin\"}]}",
       "http.tokens[1].sha256"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    memset(&err, 0, sizeof err);
    cr_assert_eq(load(bad[i].json, &c, &err), PH_ECONFIG, "%s", bad[i].json);
    cr_assert(strstr(err.msg, bad[i].path), "%s: %s", bad[i].json, err.msg);
  }
}

/* The annual report over HTTP (api_report.c): the same model as the command,
 * as a download in each rendering, for any role that sees the park. */
Test(hub_api, the_annual_report_downloads_in_three_renderings) {
  start_api();
  struct resp r;
  get("/api/v1/parks/p1/report?year=2026&format=csv", "reg-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert(strstr(r.ctype, "text/csv") != NULL, "%s", r.ctype);
  cr_assert(strncmp(r.body, BOM, 3) == 0, "CSV starts with the BOM");
  cr_assert_str_eq(r.disposition, "attachment; filename=\"p1_report_2026.csv\"");
  resp_free(&r);
  get("/api/v1/parks/p1/report?year=2026&format=csv&bom=0", "mgr-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert(strncmp(r.body, BOM, 3) != 0, "bom=0: no mark");
  resp_free(&r);
  get("/api/v1/parks/p1/report?year=2026", "reg-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert(strstr(r.ctype, "text/html") != NULL, "html by default: %s", r.ctype);
  cr_assert(strstr(r.body, "<html") != NULL);
  cr_assert_str_eq(r.disposition, "attachment; filename=\"p1_report_2026.html\"");
  resp_free(&r);
  /* the language: the park's by default (Asia/Shanghai: zh-CN), lang= to choose, a bad one refused */
  get("/api/v1/parks/p1/report?year=2026", "reg-token", &r);
  cr_assert(strstr(r.body, "<html lang=\"zh-CN\">") != NULL && strstr(r.body, "年度环境报告") != NULL);
  resp_free(&r);
  get("/api/v1/parks/p1/report?year=2026&lang=en", "reg-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert(strstr(r.body, "<html lang=\"en\">") != NULL && strstr(r.body, "Annual environmental report") != NULL);
  resp_free(&r);
  get("/api/v1/parks/p1/report?year=2026&lang=fr", "reg-token", &r);
  expect_error(&r, 400, "lang");
  cr_assert(strstr(r.body, "lang=zh-CN") != NULL, "the error gives an example: %s", r.body);
  resp_free(&r);
  get("/api/v1/parks/p1/report?year=2026&format=json", "adm-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_not_null(r.json, "JSON parses");
  cr_assert_str_eq(jstr(r.json, "park"), "p1", "%s", r.body);
  resp_free(&r);
  get("/api/v1/parks/p1/report?year=1900", "reg-token", &r);
  expect_error(&r, 400, "year");
  resp_free(&r);
  get("/api/v1/parks/p1/report?format=xml", "reg-token", &r);
  expect_error(&r, 400, "format");
  resp_free(&r);
  get("/api/v1/parks/p1/report?year=2026", "reg2-token", &r);
  cr_assert_eq(r.status, 403, "a token for p2 does not read p1's report: %s", r.body);
  resp_free(&r);
}

/* The region's annual report over HTTP (api_report.c, report_region.h): the
 * token's parks or parks=, settled as the other answers across parks; each
 * park's section is that park's own report as its endpoint serves it. */
Test(hub_api, the_region_report_covers_the_tokens_parks) {
  start_api();
  struct resp r, one;
  get("/api/v1/report?year=2026&format=json", "reg-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_str_eq(r.disposition, "attachment; filename=\"region_report_2026.json\"");
  const cJSON *ids = jget(r.json, "park_ids"), *parks = jget(r.json, "park_reports");
  cr_assert_eq(cJSON_GetArraySize(ids), 2, "a regulator of every park: p1 and p2: %s", r.body);
  cr_assert_str_eq(cJSON_GetArrayItem(ids, 0)->valuestring, "p1");
  cr_assert_not_null(jget(r.json, "region"));
  get("/api/v1/parks/p1/report?year=2026&format=json", "reg-token", &one);
  cr_assert_eq(one.status, 200, "%s", one.body);
  /* generated_at is each build's clock: compare the park's figures, not the stamp */
  cJSON *a = cJSON_Duplicate(cJSON_GetArrayItem(parks, 0), true), *b = cJSON_Duplicate(one.json, true);
  static const char *const stamps[] = {"generated_at", "generated_at_utc"};
  for (size_t i = 0; i < 2; i++) {
    cJSON_DeleteItemFromObject(a, stamps[i]);
    cJSON_DeleteItemFromObject(b, stamps[i]);
  }
  cr_assert(cJSON_Compare(a, b, true), "p1's section differs from p1's own report");
  cJSON_Delete(a);
  cJSON_Delete(b);
  resp_free(&one);
  resp_free(&r);
  get("/api/v1/report?year=2026&format=json", "reg2-token", &r); /* a token of p2 only */
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_eq(cJSON_GetArraySize(jget(r.json, "park_ids")), 1);
  cr_assert_str_eq(cJSON_GetArrayItem(jget(r.json, "park_ids"), 0)->valuestring, "p2");
  resp_free(&r);
  get("/api/v1/report?year=2026&format=csv&parks=p2", "reg-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert(strncmp(r.body, BOM "section,scope,scope_id", 25) == 0, "%.40s", r.body);
  cr_assert(strstr(r.body, "\nreport,park,p2,") != NULL && strstr(r.body, "\nreport,park,p1,") == NULL);
  resp_free(&r);
  get("/api/v1/report?year=2026&lang=en", "reg-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert(strstr(r.body, "Regional annual environmental report 2026") != NULL);
  resp_free(&r);
  static const struct {
    const char *q, *tok, *param;
    long status;
  } bad[] = {{"/api/v1/report?parks=p1", "reg2-token", "parks", 403},
             {"/api/v1/report?parks=zz", "reg-token", "parks", 404},
             {"/api/v1/report?parks=p1,p1", "reg-token", "parks", 400},
             {"/api/v1/report?year=1900", "reg-token", "year", 400},
             {"/api/v1/report?lang=fr", "reg-token", "lang", 400},
             {"/api/v1/report?format=xml", "reg-token", "format", 400}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    get(bad[i].q, bad[i].tok, &r);
    expect_error(&r, bad[i].status, bad[i].param);
    resp_free(&r);
  }
}

/* A summary over whole 8-day material blocks and edge days equals the
 * records sent, summed here: 50 days of one delivery in and one dispatch
 * out (46 of them in the range), and 5000 materials of distinct names on
 * one day (more than one merge of the summary's rows: api_summary.c
 * MATERIAL_COMPACT_ROWS), each its own item. */
Test(hub_api, a_month_of_materials_through_blocks_equals_the_records) {
  int64_t scale = scalar("SELECT id FROM points WHERE park = 'p1' AND ent = 'e1' AND point = 'scale'");
  int64_t mar4 = ph_days_from_civil(2026, 3, 4) * 86400000LL - 8 * H; /* local midnight, UTC+8 */
  char q[700];
  snprintf(q, sizeof q,
           "WITH RECURSIVE d(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM d WHERE i < 49)"
           " INSERT INTO materials(point_id, ts_ms, material, dir, qty_t, agent_id, epoch, seq)"
           " SELECT %lld, %lld + i * 86400000 + 5 * 3600000, 'scrap_cu_1', 'in', 1.25, 1, 1, 1000 + 2 * i FROM d"
           " UNION ALL SELECT %lld, %lld + i * 86400000 + 7 * 3600000, 'slag_x', 'out', 0.5, 1, 1, 1001 + 2 * i FROM d",
           (long long)scale, (long long)mar4, (long long)scale, (long long)mar4);
  sql(q);
  snprintf(q, sizeof q,
           "WITH RECURSIVE d(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM d WHERE i < 4999)"
           " INSERT INTO materials(point_id, ts_ms, material, dir, qty_t, agent_id, epoch, seq)"
           " SELECT %lld, %lld + 2 * 86400000 + 9 * 3600000 + i, printf('junk_%%04d', i), 'in', 0.001, 1, 1, 5000 + i"
           " FROM d",
           (long long)scale, (long long)mar4);
  sql(q);
  start_api();
  struct resp r;
  /* [2026-03-05, 2026-04-20) local: days 1..46 of the 50 */
  get("/api/v1/parks/p1/summary?from=2026-03-04T16:00:00Z&to=2026-04-19T16:00:00Z&ent=e1", "mgr-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  const cJSON *mat = jget(cJSON_GetArrayItem(jget(r.json, "enterprises"), 0), "materials");
  cr_assert_float_eq(jnum(mat, "in_t"), 46 * 1.25 + 5000 * 0.001, 1e-9);
  cr_assert_float_eq(jnum(mat, "out_t"), 46 * 0.5, 1e-9);
  const cJSON *items = jget(mat, "items"), *it;
  int junk = 0, scrap = 0, slag = 0;
  cJSON_ArrayForEach(it, items) {
    const char *m = jget(it, "material")->valuestring;
    if (!strncmp(m, "junk_", 5)) {
      junk++;
      cr_assert_float_eq(jnum(it, "qty_t"), 0.001, 1e-12, "%s", m);
    } else if (!strcmp(m, "scrap_cu_1")) {
      scrap++;
      cr_assert_float_eq(jnum(it, "qty_t"), 46 * 1.25, 1e-9);
    } else if (!strcmp(m, "slag_x")) {
      slag++;
      cr_assert_float_eq(jnum(it, "qty_t"), 46 * 0.5, 1e-9);
    }
  }
  cr_assert_eq(junk, 5000, "each distinct material is one item");
  cr_assert_eq(scrap, 1);
  cr_assert_eq(slag, 1);
  resp_free(&r);
}
