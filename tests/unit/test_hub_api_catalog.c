/* The dashboard's API documents (api_catalog.c) over loopback:
 * GET /api/v1/parks/{park}/catalog gives the token's role and whether it
 * may acknowledge, the park's zone and default language (zh-CN for a
 * Chinese zone, en otherwise), the metric catalogue and each enterprise's
 * expected interval with its per-point overrides; GET
 * /api/v1/parks/{park}/alarms/{id}/log gives one alarm with its
 * occurrences and transition log, newest first, bounded by limit; both
 * refuse CSV, unknown arguments, other parks' alarms and tokens that may
 * not see the park. A real SQLite store with the alarms module's schema
 * (ph_alarms_migrate); the API on 127.0.0.1, an ephemeral port. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alarms/alarms.h"
#include "api/api.h"
#include "config/hub_config.h"
#include "parkhub/alloc.h"
#include "parkhub/catalog.h"
#include "parkhub/tz.h"
#include "store/store.h"

static char dir[256], dbpath[300];
static struct ph_store *st;
static sqlite3 *db;
static struct ph_hub_config cfg;
static struct ph_tz *tzs[2];
static struct ph_catalog *cat;
static struct ph_api_conf conf;
static struct ph_api_env env;
static struct ph_refs refs;
static struct ph_api *api;

static void sql(const char *text) {
  char *msg = NULL;
  cr_assert_eq(sqlite3_exec(db, text, NULL, NULL, &msg), SQLITE_OK, "%s: %s", text, msg ? msg : "");
}

static void ent_init(struct ph_hub_ent *e, const char *id, double interval_s) {
  memset(e, 0, sizeof *e);
  strcpy(e->id, id);
  strcpy(e->name, id);
  e->sector = PH_SECTOR_CU;
  e->expected_interval_s = interval_s;
  strcpy(e->standard, "gb31574-2015");
  strcpy(e->agents[e->nagents++], "gw");
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
    cr_assert_eq(sscanf(hex + 2 * i, "%2x", &x), 1);
    t->sha256[i] = (unsigned char)x;
  }
  if (park) strcpy(t->parks[t->nparks++], park);
}

/* Alarm 1 of p1 with two occurrences and three transitions; alarm 2 of p2. */
static void alarms(void) {
  struct ph_err err = {0};
  cr_assert_eq(ph_alarms_migrate(db, &err), 0, "%s", err.msg);
  sql("INSERT INTO alarms(id, alarm_id, park, rule, ent, point, metric, severity, state, message, first_ms, last_ms,"
      " count, value, peak, acked_by, acked_ms, note, raised_ms) VALUES"
      " (1, 'a-1', 'p1', 'so2_high', 'e1', 'stack-1', 'so2', 'major', 'active_acked', 'SO2 over the limit',"
      "  1000000, 5000000, 2, 180, 210, '李伟', 4000000, '风机已重启', 1000000),"
      " (2, 'a-2', 'p2', 'offline', 'x1', '', '', 'minor', 'active_unacked', 'offline', 1000, 2000, 1, NULL, NULL,"
      "  NULL, NULL, NULL, 1000)");
  sql("INSERT INTO alarm_occurrences(alarm, park, rule, ent, point, metric, severity, start_ms, last_ms, end_ms,"
      " count, value, peak) VALUES"
      " (1, 'p1', 'so2_high', 'e1', 'stack-1', 'so2', 'major', 1000000, 2000000, 2500000, 1, 170, 190),"
      " (1, 'p1', 'so2_high', 'e1', 'stack-1', 'so2', 'major', 3000000, 5000000, NULL, 1, 180, 210)");
  sql("INSERT INTO alarm_log(alarm, ts_ms, transition, state, by, note) VALUES"
      " (1, 1000000, 'raised', 'active_unacked', NULL, NULL),"
      " (1, 3000000, 'reraised', 'active_unacked', NULL, NULL),"
      " (1, 4000000, 'acked', 'active_acked', '李伟', '风机已重启')");
}

static void setup(void) {
  struct ph_err err = {0};
  strcpy(dir, "/tmp/parkhub-apicat-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  snprintf(dbpath, sizeof dbpath, "%s/hub.db", dir);
  cr_assert_eq(ph_store_open(dbpath, &st, &err), 0, "%s", err.msg);
  db = ph_store_db(st);
  memset(&cfg, 0, sizeof cfg);
  cfg.nparks = 2;
  strcpy(cfg.parks[0].id, "p1");
  strcpy(cfg.parks[0].tz, "Asia/Shanghai");
  cfg.parks[0].ents = ph_calloc(1, sizeof(struct ph_hub_ent));
  ent_init(&cfg.parks[0].ents[0], "e1", 60);
  strcpy(cfg.parks[0].ents[0].point_intervals[0].point, "stack-1");
  cfg.parks[0].ents[0].point_intervals[0].interval_s = 10;
  cfg.parks[0].ents[0].npoint_intervals = 1;
  cfg.parks[0].nents = 1;
  strcpy(cfg.parks[1].id, "p2");
  strcpy(cfg.parks[1].tz, "Europe/Berlin");
  cfg.parks[1].ents = ph_calloc(1, sizeof(struct ph_hub_ent));
  ent_init(&cfg.parks[1].ents[0], "x1", 30);
  cfg.parks[1].nents = 1;
  cr_assert_eq(ph_tz_load("Asia/Shanghai", &tzs[0], &err), 0, "%s", err.msg);
  cr_assert_eq(ph_tz_load("Europe/Berlin", &tzs[1], &err), 0, "%s", err.msg);
  cr_assert_eq(ph_catalog_load_builtin(&cat, &err), 0, "%s", err.msg);
  alarms();
  ph_api_conf_defaults(&conf);
  conf.enabled = true;
  conf.port = 0;
  conf.threads = 2;
  add_token("reg", "reg-token", PH_API_ROLE_REGULATOR, NULL);
  add_token("mgr", "mgr-token", PH_API_ROLE_MANAGER, "p1");
  add_token("adm", "adm-token", PH_API_ROLE_ADMIN, NULL);
  add_token("reg-en", "reg-en-token", PH_API_ROLE_REGULATOR, NULL); /* its own lang: en */
  conf.tokens[conf.ntokens - 1].lang = PH_LANG_EN;
  conf.tokens[conf.ntokens - 1].lang_set = true;
  refs = (struct ph_refs){.cfg = &cfg, .cat = cat, .tz = {tzs[0], tzs[1]}};
  env = (struct ph_api_env){.db_path = dbpath, .refs = &refs};
  curl_global_init(CURL_GLOBAL_DEFAULT);
  cr_assert_eq(ph_api_start(&conf, &env, &api, &err), 0, "%s", err.msg);
}

static void teardown(void) {
  ph_api_stop(api);
  api = NULL;
  ph_store_close(st);
  ph_hub_config_fini(&cfg);
  ph_tz_free(tzs[0]);
  ph_tz_free(tzs[1]);
  ph_catalog_free(cat);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
  curl_global_cleanup();
}

TestSuite(api_catalog, .init = setup, .fini = teardown, .timeout = 60);

/* ---- HTTP client ---- */

struct resp {
  long status;
  char *body;
  size_t len;
  cJSON *json;
};

static size_t on_body(char *p, size_t sz, size_t n, void *u) {
  struct resp *r = u;
  r->body = realloc(r->body, r->len + sz * n + 1);
  cr_assert_not_null(r->body);
  memcpy(r->body + r->len, p, sz * n);
  r->len += sz * n;
  r->body[r->len] = 0;
  return sz * n;
}

static void get(const char *path, const char *token, struct resp *r) {
  memset(r, 0, sizeof *r);
  CURL *c = curl_easy_init();
  char url[1024], auth[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d%s", ph_api_port(api), path);
  struct curl_slist *h = NULL;
  if (token) {
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    h = curl_slist_append(h, auth);
  }
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  CURLcode rc = curl_easy_perform(c);
  cr_assert_eq(rc, CURLE_OK, "GET %s: %s", path, curl_easy_strerror(rc));
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  if (!r->body) r->body = calloc(1, 1);
  r->json = cJSON_Parse(r->body);
  cr_assert_not_null(r->json, "GET %s: not JSON: %s", path, r->body);
}

static void resp_free(struct resp *r) {
  free(r->body);
  cJSON_Delete(r->json);
  memset(r, 0, sizeof *r);
}

static const cJSON *jget(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  cr_assert_not_null(v, "no %s", k);
  return v;
}

static const char *jstr(const cJSON *o, const char *k) {
  const cJSON *v = jget(o, k);
  cr_assert(cJSON_IsString(v), "%s is not a string", k);
  return v->valuestring;
}

static double jnum(const cJSON *o, const char *k) {
  const cJSON *v = jget(o, k);
  cr_assert(cJSON_IsNumber(v), "%s is not a number", k);
  return v->valuedouble;
}

static void expect_error(struct resp *r, long status, const char *param) {
  cr_assert_eq(r->status, status, "status %ld, want %ld: %s", r->status, status, r->body);
  const cJSON *e = jget(r->json, "error");
  if (param) cr_assert_str_eq(jstr(e, "param"), param, "%s", r->body);
  resp_free(r);
}

/* ---- /catalog ---- */

Test(api_catalog, manager_of_a_chinese_park) {
  struct resp r;
  get("/api/v1/parks/p1/catalog", "mgr-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_str_eq(jstr(r.json, "park"), "p1");
  cr_assert_str_eq(jstr(r.json, "tz"), "Asia/Shanghai");
  cr_assert_str_eq(jstr(r.json, "lang"), "zh-CN");
  cr_assert_str_eq(jstr(r.json, "role"), "manager");
  cr_assert(cJSON_IsTrue(jget(r.json, "may_ack")));
  const cJSON *ms = jget(r.json, "metrics");
  cr_assert_eq((size_t)cJSON_GetArraySize(ms), ph_catalog_count(cat));
  bool so2 = false, scrap = false;
  const cJSON *m;
  cJSON_ArrayForEach(m, ms) {
    if (!strcmp(jstr(m, "code"), "so2")) {
      so2 = true;
      cr_assert_str_eq(jstr(m, "unit"), "mg/Nm3");
      cr_assert_str_eq(jstr(m, "kind"), "emission");
      cr_assert_str_eq(jstr(m, "name"), "Sulphur dioxide");
      cr_assert_str_eq(jstr(m, "name_zh"), "二氧化硫");
      cr_assert_null(cJSON_GetObjectItemCaseSensitive(m, "role"), "so2 is no material");
    }
    if (!strcmp(jstr(m, "code"), "scrap_cu_2")) {
      scrap = true;
      cr_assert_str_eq(jstr(m, "role"), "feed");
    }
  }
  cr_assert(so2 && scrap, "%s", r.body);
  const cJSON *ents = jget(r.json, "enterprises");
  cr_assert_eq(cJSON_GetArraySize(ents), 1);
  const cJSON *e = cJSON_GetArrayItem(ents, 0);
  cr_assert_str_eq(jstr(e, "ent"), "e1");
  cr_assert_float_eq(jnum(e, "expected_interval_s"), 60, 1e-9);
  cr_assert_float_eq(jnum(jget(e, "point_intervals"), "stack-1"), 10, 1e-9);
  resp_free(&r);
}

Test(api_catalog, regulator_of_another_zone) {
  struct resp r;
  get("/api/v1/parks/p2/catalog", "reg-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_str_eq(jstr(r.json, "lang"), "en");
  cr_assert_str_eq(jstr(r.json, "role"), "regulator");
  cr_assert(cJSON_IsFalse(jget(r.json, "may_ack")));
  const cJSON *e = cJSON_GetArrayItem(jget(r.json, "enterprises"), 0);
  cr_assert_eq(cJSON_GetArraySize(jget(e, "point_intervals")), 0);
  resp_free(&r);
  get("/api/v1/parks/p2/catalog", "adm-token", &r);
  cr_assert_str_eq(jstr(r.json, "role"), "admin");
  cr_assert(cJSON_IsTrue(jget(r.json, "may_ack")));
  resp_free(&r);
}

Test(api_catalog, catalog_refusals) {
  struct resp r;
  get("/api/v1/parks/p1/catalog?format=csv", "mgr-token", &r);
  expect_error(&r, 400, "format");
  get("/api/v1/parks/p1/catalog?lang=zh", "mgr-token", &r);
  expect_error(&r, 400, "lang");
  get("/api/v1/parks/p2/catalog", "mgr-token", &r);
  expect_error(&r, 403, NULL);
  get("/api/v1/parks/p1/catalog", NULL, &r);
  expect_error(&r, 401, NULL);
  get("/api/v1/parks/p9/catalog", "reg-token", &r);
  expect_error(&r, 404, NULL);
}

/* ---- /alarms/{id}/log ---- */

Test(api_catalog, alarm_log) {
  struct resp r;
  get("/api/v1/parks/p1/alarms/a-1/log", "reg-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  const cJSON *a = jget(r.json, "alarm");
  cr_assert_str_eq(jstr(a, "alarm_id"), "a-1");
  cr_assert_str_eq(jstr(a, "rule"), "so2_high");
  cr_assert_str_eq(jstr(a, "state"), "active_acked");
  cr_assert_str_eq(jstr(a, "acked_by"), "李伟");
  cr_assert_str_eq(jstr(a, "note"), "风机已重启");
  cr_assert_str_eq(jstr(a, "first"), "1970-01-01T00:16:40.000Z");
  cr_assert(cJSON_IsNull(jget(a, "closed")));
  const cJSON *occ = jget(r.json, "occurrences");
  cr_assert_eq(cJSON_GetArraySize(occ), 2);
  /* newest first; the open one has no end */
  cr_assert_str_eq(jstr(cJSON_GetArrayItem(occ, 0), "start"), "1970-01-01T00:50:00.000Z");
  cr_assert(cJSON_IsNull(jget(cJSON_GetArrayItem(occ, 0), "end")));
  cr_assert_float_eq(jnum(cJSON_GetArrayItem(occ, 0), "peak"), 210, 1e-9);
  cr_assert_str_eq(jstr(cJSON_GetArrayItem(occ, 1), "end"), "1970-01-01T00:41:40.000Z");
  const cJSON *log = jget(r.json, "log");
  cr_assert_eq(cJSON_GetArraySize(log), 3);
  cr_assert_str_eq(jstr(cJSON_GetArrayItem(log, 0), "transition"), "acked");
  cr_assert_str_eq(jstr(cJSON_GetArrayItem(log, 0), "by"), "李伟");
  cr_assert_str_eq(jstr(cJSON_GetArrayItem(log, 2), "transition"), "raised");
  cr_assert(cJSON_IsNull(jget(cJSON_GetArrayItem(log, 2), "by")));
  resp_free(&r);
  get("/api/v1/parks/p1/alarms/a-1/log?limit=1", "mgr-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_eq(cJSON_GetArraySize(jget(r.json, "occurrences")), 1);
  cr_assert_eq(cJSON_GetArraySize(jget(r.json, "log")), 1);
  resp_free(&r);
}

Test(api_catalog, alarm_log_refusals) {
  struct resp r;
  get("/api/v1/parks/p1/alarms/a-2/log", "reg-token", &r); /* p2's alarm */
  expect_error(&r, 404, NULL);
  get("/api/v1/parks/p1/alarms/nope/log", "reg-token", &r);
  expect_error(&r, 404, NULL);
  get("/api/v1/parks/p1/alarms/a%20b/log", "reg-token", &r); /* not an id */
  expect_error(&r, 404, NULL);
  get("/api/v1/parks/p1/alarms/a-1/log?limit=0", "reg-token", &r);
  expect_error(&r, 400, "limit");
  get("/api/v1/parks/p1/alarms/a-1/log?limit=1001", "reg-token", &r);
  expect_error(&r, 400, "limit");
  get("/api/v1/parks/p1/alarms/a-1/log?format=csv", "reg-token", &r);
  expect_error(&r, 400, "format");
  get("/api/v1/parks/p2/alarms/a-2/log", "mgr-token", &r);
  expect_error(&r, 403, NULL);
}

/* The language to open in: the token's lang over the park's zone (and
 * over a park's lang: hub_config.h ph_reader_lang, test_hub_config_lang). */
Test(api_catalog, a_token_lang_wins_over_the_park_zone) {
  struct resp r;
  get("/api/v1/parks/p1/catalog", "reg-en-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_str_eq(jstr(r.json, "lang"), "en", "a Chinese park, a token that reads English");
  resp_free(&r);
  get("/api/v1/parks/p1/catalog", "reg-token", &r);
  cr_assert_str_eq(jstr(r.json, "lang"), "zh-CN", "the same park, a token without lang");
  resp_free(&r);
}
