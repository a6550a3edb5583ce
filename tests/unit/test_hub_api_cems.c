/* The regulator's figures over the API (api_cems.c): /cems/hours, /cems/days
 * and /cems/exceedances of a park, over loopback with libcurl, against CEMS
 * tables that ph_cems_update computed from rollup rows (hub_cems_fixture.h).
 * Every expected figure is worked out here from the rollups the test wrote
 * (minute means, GB 31574-2015 limits and benchmark volume), never read back
 * through the code under test.
 *
 * Park p1 (Asia/Shanghai, UTC+8), D = 2026-03-02 00:00 local:
 *   cu-old (existing plant, SO2 150 mg/Nm3)
 *     s5 so2 (5-s samples): hour 0: 30 minutes of 100 and 20 of 220 → 50
 *       valid minutes, mean 148; hour 1: 50 minutes of 180 → exceeded;
 *       hour 2: 40 valid minutes of 90, 20 minutes with 5 of 12 values N
 *       (invalid minutes) → an invalid hour. Day: 2 valid hours → invalid.
 *     stack-1 so2 (hourly data) 130 and flow 50 000 Nm3/h, 24 h; 100 t of
 *       cathode copper out that day → Q 1.2e6 Nm3 / (100 t × 10 000 m3/t)
 *       = ratio 1.2 → converted 156 > 150: a day exceedance.
 *   cu-special (designated area, special limit SO2 100)
 *     stack-1 so2 hours 0..19 at 120: 20 hour exceedances; the day (20 valid
 *     hours, no production: no conversion) 120 > 100 exceeded.
 *   an enterprise "gone" that is not configured any more: rows never shown.
 * Park p2 (UTC): x1, no data. Tokens: reg (regulator), reg2 (regulator of
 * p2 only), mgr (manager of p1).
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include "hub_cems_fixture.h"
#include "api/api.h"

static char dir[256], dbpath[300];
static struct ph_tz *tz_utc, *tzv[2];
static struct ph_api_conf conf;
static struct ph_api_env env;
static struct ph_refs refs;
static struct ph_api *api;
static int64_t D, UPDATED;

/* ---- the data ---- */

static void data(void) {
  D = local(2026, 3, 2, 0, 0);
  int64_t s5 = series("cu-old", "s5", "so2");
  minutes(s5, D, 0, 30, 12, 12, 12, 100, 0);
  minutes(s5, D, 30, 20, 12, 12, 12, 220, 0);
  minutes(s5, D + H, 0, 50, 12, 12, 12, 180, 0);
  minutes(s5, D + 2 * H, 0, 40, 12, 12, 12, 90, 0);
  minutes(s5, D + 2 * H, 40, 20, 12, 12, 5, 90, 500); /* 5 of 12 flagged N: invalid minutes */
  hourly_run(series("cu-old", "stack-1", "so2"), D, 0, 24, 130);
  hourly_run(series("cu-old", "stack-1", "flow"), D, 0, 24, 50000);
  material("cu-old", "scale", D + 20 * H, "cathode_cu", "out", 100);
  hourly_run(series("cu-special", "stack-1", "so2"), D, 0, 20, 120);
  UPDATED = local(2026, 3, 3, 0, 5);
  update(UPDATED);
  /* an enterprise no longer in the config: its stored means stay hidden */
  int64_t gone = series("gone", "stack-1", "so2");
  char q[300];
  snprintf(q, sizeof q,
           "INSERT INTO cems_hours(series_id, hour_ms, day_ms, kind, valid_minutes, mean, valid, limit_value)"
           " VALUES(%lld, %lld, %lld, 2, 0, 999, 1, 150)", (long long)gone, (long long)D, (long long)D);
  sql(q);
}

/* The in-memory database, copied to a file the API's read connections open. */
static void to_file(void) {
  sqlite3 *f;
  cr_assert_eq(sqlite3_open(dbpath, &f), SQLITE_OK);
  sqlite3_backup *b = sqlite3_backup_init(f, "main", db, "main");
  cr_assert_not_null(b, "%s", sqlite3_errmsg(f));
  cr_assert_eq(sqlite3_backup_step(b, -1), SQLITE_DONE);
  cr_assert_eq(sqlite3_backup_finish(b), SQLITE_OK);
  sqlite3_close(f);
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

static void setup(void) {
  fx_setup();
  strcpy(dir, "/tmp/parkhub-api-cems-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  snprintf(dbpath, sizeof dbpath, "%s/hub.db", dir);
  data();
  to_file();
  /* park p2 joins after the update (which knows one zone): for the scoping tests */
  struct ph_err err = {0};
  cr_assert_eq(ph_tz_load("UTC", &tz_utc, &err), 0, "%s", err.msg);
  tzv[0] = tz;
  tzv[1] = tz_utc;
  cfg.nparks = 2;
  strcpy(cfg.parks[1].id, "p2");
  strcpy(cfg.parks[1].tz, "UTC");
  cfg.parks[1].ents = ph_calloc(1, sizeof *cfg.parks[1].ents);
  strcpy(cfg.parks[1].ents[0].id, "x1");
  cfg.parks[1].nents = 1;

  ph_api_conf_defaults(&conf);
  conf.enabled = true;
  conf.port = 0;
  conf.threads = 2;
  conf.timeout_s = 5;
  add_token("reg", "reg-token", PH_API_ROLE_REGULATOR, NULL);
  add_token("reg2", "reg2-token", PH_API_ROLE_REGULATOR, "p2");
  add_token("mgr", "mgr-token", PH_API_ROLE_MANAGER, "p1");
  refs = (struct ph_refs){.cfg = &cfg, .cat = cat, .limits = {lim}, .nlimits = 1};
  for (int p = 0; p < cfg.nparks; p++) refs.tz[p] = tzv[p];
  env = (struct ph_api_env){.db_path = dbpath, .refs = &refs};
  curl_global_init(CURL_GLOBAL_DEFAULT);
  cr_assert_eq(ph_api_start(&conf, &env, &api, &err), 0, "%s", err.msg);
}

static void teardown(void) {
  ph_api_stop(api);
  api = NULL;
  ph_tz_free(tz_utc);
  fx_teardown();
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
  curl_global_cleanup();
}

/* Every CSV starts with the UTF-8 byte order mark unless bom=0 (docs/api.md, "CSV"). */
#define BOM "\xEF\xBB\xBF"

TestSuite(api_cems, .init = setup, .fini = teardown, .timeout = 60);

/* ---- HTTP ---- */

struct resp {
  long status;
  char *body;
  size_t len;
  char ctype[128], link[1400], disposition[256];
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
  while (m && *v == ' ') v++, m--;
  while (m && (v[m - 1] == '\r' || v[m - 1] == '\n')) m--;
  snprintf(out, cap, "%.*s", (int)m, v);
}

static size_t on_header(char *p, size_t sz, size_t n, void *u) {
  struct resp *r = u;
  header_value(p, sz * n, "Content-Type:", r->ctype, sizeof r->ctype);
  header_value(p, sz * n, "Link:", r->link, sizeof r->link);
  header_value(p, sz * n, "Content-Disposition:", r->disposition, sizeof r->disposition);
  return sz * n;
}

static void http(const char *method, const char *path, const char *token, const char *accept, struct resp *r) {
  memset(r, 0, sizeof *r);
  CURL *c = curl_easy_init();
  char url[2048], auth[256], acc[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d%s", ph_api_port(api), path);
  struct curl_slist *h = NULL;
  if (token) {
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    h = curl_slist_append(h, auth);
  }
  if (accept) {
    snprintf(acc, sizeof acc, "Accept: %s", accept);
    h = curl_slist_append(h, acc);
  }
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(c);
  cr_assert_eq(rc, CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(rc));
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  if (!r->body) r->body = calloc(1, 1);
  if (strstr(r->ctype, "json")) r->json = cJSON_Parse(r->body);
}

static void get(const char *path, const char *token, struct resp *r) { http("GET", path, token, NULL, r); }

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
static bool jnull(const cJSON *o, const char *k) { return cJSON_IsNull(jget(o, k)); }
static bool jtrue(const cJSON *o, const char *k) {
  const cJSON *v = jget(o, k);
  cr_assert(cJSON_IsBool(v), "%s is not a boolean", k);
  return cJSON_IsTrue(v);
}

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

/* GET /api/v1/parks/p1/cems/{what} over [from, from + days) plus query. */
static void cems_path(char *out, size_t cap, const char *what, int64_t from, int days, const char *extra) {
  char f[PH_TIME_STRLEN], t[PH_TIME_STRLEN];
  fmt_time(from, f);
  fmt_time(from + days * 24 * H, t);
  snprintf(out, cap, "/api/v1/parks/p1/cems/%s?from=%s&to=%s%s", what, f, t, extra ? extra : "");
}

/* GET with the regulator's token, 200 expected; the rows array. */
static const cJSON *rows_of(const char *what, const char *extra, struct resp *r) {
  char path[1400];
  cems_path(path, sizeof path, what, D, 1, extra);
  get(path, "reg-token", r);
  cr_assert_eq(r->status, 200, "%s: %s", path, r->body);
  cr_assert(strstr(r->ctype, "application/json"), "%s", r->ctype);
  const cJSON *a = jget(r->json, what);
  cr_assert_eq((int)jnum(r->json, "count"), cJSON_GetArraySize(a));
  return a;
}

/* A number as the API writes it (shortest text that reads back the same). */
static void num_text(double v, char *out, size_t cap) {
  snprintf(out, cap, "%.15g", v);
  if (strtod(out, NULL) != v) snprintf(out, cap, "%.17g", v);
}

/* ---- hours ---- */

Test(api_cems, hours_valid_invalid_limit_and_exceedance) {
  struct resp r;
  const cJSON *a = rows_of("hours", "&ent=cu-old&point=s5&metric=so2", &r);
  cr_assert_str_eq(jstr(r.json, "park"), "p1");
  cr_assert_str_eq(jstr(r.json, "tz"), "Asia/Shanghai");
  cr_assert(cJSON_IsString(jget(r.json, "closed_until")), "the tables were updated");
  cr_assert(jnull(r.json, "next"));
  cr_assert_eq(cJSON_GetArraySize(a), 3, "%s", r.body);
  /* the means from the minutes written above, the limit of the standard */
  const double mean0 = (30 * 100.0 + 20 * 220.0) / 50, mean1 = 180, limit = 150;
  static const char *const local_start[] = {"2026-03-02T00:00:00+08:00", "2026-03-02T01:00:00+08:00",
                                            "2026-03-02T02:00:00+08:00"};
  for (int i = 0; i < 3; i++) {
    const cJSON *h = cJSON_GetArrayItem(a, i);
    char t[PH_TIME_STRLEN];
    fmt_time(D + i * H, t);
    cr_assert_str_eq(jstr(h, "park"), "p1");
    cr_assert_str_eq(jstr(h, "ent"), "cu-old");
    cr_assert_str_eq(jstr(h, "point"), "s5");
    cr_assert_str_eq(jstr(h, "metric"), "so2");
    cr_assert_str_eq(jstr(h, "unit"), "mg/Nm3");
    cr_assert_str_eq(jstr(h, "start"), t);
    cr_assert_str_eq(jstr(h, "local"), local_start[i]);
    cr_assert_str_eq(jstr(h, "source"), "samples");
    cr_assert_eq(jnum(h, "limit"), limit, "GB 31574-2015, an existing copper plant");
  }
  const cJSON *h0 = cJSON_GetArrayItem(a, 0), *h1 = cJSON_GetArrayItem(a, 1), *h2 = cJSON_GetArrayItem(a, 2);
  cr_assert_eq(jnum(h0, "valid_minutes"), 50);
  cr_assert(jtrue(h0, "valid"));
  cr_assert_float_eq(jnum(h0, "mean"), mean0, 1e-9);
  cr_assert_not(jtrue(h0, "exceeded"), "148 ≤ 150");
  cr_assert_float_eq(jnum(h0, "limit_ratio"), mean0 / limit, 1e-12);
  cr_assert_eq(jnum(h1, "valid_minutes"), 50);
  cr_assert_float_eq(jnum(h1, "mean"), mean1, 1e-9);
  cr_assert(jtrue(h1, "exceeded"), "180 > 150");
  cr_assert_float_eq(jnum(h1, "limit_ratio"), 1.2, 1e-12);
  /* 40 valid minutes < 45: invalid, no mean, never exceeded */
  cr_assert_eq(jnum(h2, "valid_minutes"), 40);
  cr_assert_not(jtrue(h2, "valid"));
  cr_assert(jnull(h2, "mean"));
  cr_assert_not(jtrue(h2, "exceeded"));
  cr_assert(jnull(h2, "limit_ratio"));
  resp_free(&r);

  a = rows_of("hours", "&ent=cu-old&point=s5&metric=so2&only=valid", &r);
  cr_assert_eq(cJSON_GetArraySize(a), 2);
  resp_free(&r);
  a = rows_of("hours", "&ent=cu-old&point=s5&only=exceeded", &r);
  cr_assert_eq(cJSON_GetArraySize(a), 1);
  cr_assert_float_eq(jnum(cJSON_GetArrayItem(a, 0), "mean"), mean1, 1e-9);
  resp_free(&r);

  /* hourly data: the hour's own value, no minutes */
  a = rows_of("hours", "&ent=cu-old&point=stack-1&metric=so2", &r);
  cr_assert_eq(cJSON_GetArraySize(a), 24);
  cr_assert_str_eq(jstr(cJSON_GetArrayItem(a, 23), "source"), "hourly");
  cr_assert_eq(jnum(cJSON_GetArrayItem(a, 23), "valid_minutes"), 0);
  cr_assert_eq(jnum(cJSON_GetArrayItem(a, 23), "mean"), 130);
  resp_free(&r);
}

Test(api_cems, hours_park_wide_and_one_enterprise) {
  struct resp r;
  /* 3 s5 hours + 24 stack-1 so2 + 24 stack-1 flow (cu-old) + 20 (cu-special); "gone" never */
  const cJSON *a = rows_of("hours", NULL, &r);
  cr_assert_eq(cJSON_GetArraySize(a), 71, "%s", r.body);
  int old = 0, special = 0, flow = 0;
  for (const cJSON *h = a->child; h; h = h->next) {
    old += !strcmp(jstr(h, "ent"), "cu-old");
    special += !strcmp(jstr(h, "ent"), "cu-special");
    if (!strcmp(jstr(h, "metric"), "flow")) {
      flow++;
      cr_assert_str_eq(jstr(h, "unit"), "Nm3/h");
      cr_assert(jnull(h, "limit"), "no limit for the flow");
      cr_assert_not(jtrue(h, "exceeded"));
      cr_assert(jnull(h, "limit_ratio"));
    }
  }
  cr_assert_eq(old, 51);
  cr_assert_eq(special, 20);
  cr_assert_eq(flow, 24);
  /* one series after another: cu-old s5, stack-1 flow, stack-1 so2, then cu-special */
  cr_assert_str_eq(jstr(cJSON_GetArrayItem(a, 0), "point"), "s5");
  cr_assert_str_eq(jstr(cJSON_GetArrayItem(a, 3), "metric"), "flow");
  cr_assert_str_eq(jstr(cJSON_GetArrayItem(a, 27), "metric"), "so2");
  cr_assert_str_eq(jstr(cJSON_GetArrayItem(a, 51), "ent"), "cu-special");
  resp_free(&r);

  /* the designated area's special limit, every hour over it */
  a = rows_of("hours", "&ent=cu-special", &r);
  cr_assert_eq(cJSON_GetArraySize(a), 20);
  for (const cJSON *h = a->child; h; h = h->next) {
    cr_assert_eq(jnum(h, "limit"), 100, "special limit");
    cr_assert_eq(jnum(h, "mean"), 120);
    cr_assert(jtrue(h, "exceeded"));
    cr_assert_float_eq(jnum(h, "limit_ratio"), 1.2, 1e-12);
  }
  resp_free(&r);
  a = rows_of("hours", "&metric=so2&only=exceeded", &r);
  cr_assert_eq(cJSON_GetArraySize(a), 21, "cu-old's hour 1 and cu-special's 20");
  resp_free(&r);
  /* a point of that name in every enterprise */
  a = rows_of("hours", "&point=stack-1&metric=so2", &r);
  cr_assert_eq(cJSON_GetArraySize(a), 44);
  resp_free(&r);
  /* a period without data */
  char path[600];
  cems_path(path, sizeof path, "hours", D - 24 * H, 1, NULL);
  get(path, "reg-token", &r);
  cr_assert_eq(r.status, 200);
  cr_assert_eq(cJSON_GetArraySize(jget(r.json, "hours")), 0);
  resp_free(&r);
}

Test(api_cems, hours_csv_header_and_rows) {
  char path[600];
  cems_path(path, sizeof path, "hours", D, 1, "&ent=cu-old&point=s5&metric=so2&format=csv");
  struct resp r;
  get(path, "reg-token", &r);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert(strstr(r.ctype, "text/csv"), "%s", r.ctype);
  char want[2000], t[3][PH_TIME_STRLEN], m0[40], q0[40];
  for (int i = 0; i < 3; i++) fmt_time(D + i * H, t[i]);
  num_text((30 * 100.0 + 20 * 220.0) / 50, m0, sizeof m0);
  num_text((30 * 100.0 + 20 * 220.0) / 50 / 150, q0, sizeof q0);
  snprintf(want, sizeof want,
           BOM "park,ent,point,metric,unit,start,local,source,valid_minutes,valid,mean,limit,exceeded,limit_ratio\r\n"
           "p1,cu-old,s5,so2,mg/Nm3,%s,2026-03-02T00:00:00+08:00,samples,50,true,%s,150,false,%s\r\n"
           "p1,cu-old,s5,so2,mg/Nm3,%s,2026-03-02T01:00:00+08:00,samples,50,true,180,150,true,1.2\r\n"
           "p1,cu-old,s5,so2,mg/Nm3,%s,2026-03-02T02:00:00+08:00,samples,40,false,,150,false,\r\n",
           t[0], m0, q0, t[1], t[2]);
  cr_assert_str_eq(r.body, want);
  /* a download named after the park, what, the enterprise and the local dates */
  cr_assert_str_eq(r.disposition, "attachment; filename=\"p1_cems_hours_cu-old_2026-03-02_2026-03-02.csv\"");
  resp_free(&r);
  /* Accept: text/csv does the same; an empty page is the header alone */
  cems_path(path, sizeof path, "hours", D - 24 * H, 1, NULL);
  http("GET", path, "reg-token", "text/csv", &r);
  cr_assert_eq(r.status, 200);
  cr_assert_str_eq(r.body,
                   BOM "park,ent,point,metric,unit,start,local,source,valid_minutes,valid,mean,limit,exceeded,limit_ratio\r\n");
  cr_assert_str_eq(r.disposition, "attachment; filename=\"p1_cems_hours_2026-03-01_2026-03-01.csv\"");
  resp_free(&r);
}

/* Follows next from path until the last page; returns the pages and
 * appends each page's rows (CSV without its header, or JSON rows) to all. */
static int follow(char *path, size_t cap, const char *what, char *all, size_t allcap, int max_pages) {
  int pages = 0;
  while (path[0]) {
    struct resp r;
    get(path, "reg-token", &r);
    cr_assert_eq(r.status, 200, "%s: %s", path, r.body);
    if (r.json) {
      const cJSON *a = jget(r.json, what);
      for (const cJSON *x = a->child; x; x = x->next) {
        char *s = cJSON_PrintUnformatted(x);
        strncat(all, s, allcap - strlen(all) - 1);
        strncat(all, "\n", allcap - strlen(all) - 1);
        free(s);
      }
      if (jnull(r.json, "next")) {
        cr_assert_eq(r.link[0], 0);
      } else {
        char want[1400];
        snprintf(want, sizeof want, "<%s>; rel=\"next\"", jstr(r.json, "next"));
        cr_assert_str_eq(r.link, want);
      }
    } else {
      const char *rows = strstr(r.body, "\r\n");
      cr_assert_not_null(rows);
      strncat(all, rows + 2, allcap - strlen(all) - 1);
    }
    pages++;
    if (r.link[0]) {
      char *end = strchr(r.link, '>');
      cr_assert_not_null(end);
      snprintf(path, cap, "%.*s", (int)(end - r.link - 1), r.link + 1);
    } else {
      path[0] = 0;
    }
    resp_free(&r);
    cr_assert_leq(pages, max_pages);
  }
  return pages;
}

Test(api_cems, hours_and_days_pages_follow_the_cursor) {
  static char whole[200000], paged[200000];
  char path[1400];
  for (int csv = 0; csv < 2; csv++) {
    whole[0] = paged[0] = 0;
    cems_path(path, sizeof path, "hours", D, 1, csv ? "&format=csv" : NULL);
    cr_assert_eq(follow(path, sizeof path, "hours", whole, sizeof whole, 1), 1);
    cems_path(path, sizeof path, "hours", D, 1, csv ? "&limit=10&format=csv" : "&limit=10");
    cr_assert_eq(follow(path, sizeof path, "hours", paged, sizeof paged, 20), 8, "71 rows in pages of 10");
    cr_assert_str_eq(paged, whole);
  }
  /* a filter and only= survive the cursor */
  whole[0] = paged[0] = 0;
  cems_path(path, sizeof path, "hours", D, 1, "&metric=so2&only=exceeded");
  cr_assert_eq(follow(path, sizeof path, "hours", whole, sizeof whole, 1), 1);
  cems_path(path, sizeof path, "hours", D, 1, "&metric=so2&only=exceeded&limit=4");
  cr_assert_eq(follow(path, sizeof path, "hours", paged, sizeof paged, 20), 6, "21 rows in pages of 4");
  cr_assert_str_eq(paged, whole);
  /* days: 4 rows in pages of 3 */
  whole[0] = paged[0] = 0;
  cems_path(path, sizeof path, "days", D, 1, NULL);
  cr_assert_eq(follow(path, sizeof path, "days", whole, sizeof whole, 1), 1);
  cems_path(path, sizeof path, "days", D, 1, "&limit=3");
  cr_assert_eq(follow(path, sizeof path, "days", paged, sizeof paged, 5), 2);
  cr_assert_str_eq(paged, whole);
}

/* ---- days ---- */

static const cJSON *day_of(const cJSON *a, const char *ent, const char *point, const char *metric) {
  for (const cJSON *d = a->child; d; d = d->next)
    if (!strcmp(jstr(d, "ent"), ent) && !strcmp(jstr(d, "point"), point) && !strcmp(jstr(d, "metric"), metric))
      return d;
  cr_assert_fail("no day of %s/%s %s", ent, point, metric);
  return NULL;
}

Test(api_cems, days_with_the_benchmark_volume_ratio) {
  struct resp r;
  const cJSON *a = rows_of("days", NULL, &r);
  cr_assert_eq(cJSON_GetArraySize(a), 4, "cu-old s5 so2, stack-1 flow and so2; cu-special so2: %s", r.body);
  /* Q = 24 h × 50 000 Nm3/h; product 100 t; GB 31574-2015 benchmark 10 000 m3/t (copper) */
  const double q = 24 * 50000.0, ratio = q / (100 * 10000.0), conv = 130 * ratio;
  const cJSON *d = day_of(a, "cu-old", "stack-1", "so2");
  char t[PH_TIME_STRLEN];
  fmt_time(D, t);
  cr_assert_str_eq(jstr(d, "start"), t);
  cr_assert_str_eq(jstr(d, "local"), "2026-03-02T00:00:00+08:00");
  cr_assert_str_eq(jstr(d, "date"), "2026-03-02");
  cr_assert_str_eq(jstr(d, "unit"), "mg/Nm3");
  cr_assert_eq(jnum(d, "valid_hours"), 24);
  cr_assert(jtrue(d, "valid"));
  cr_assert_float_eq(jnum(d, "mean"), 130, 1e-9);
  cr_assert_float_eq(jnum(d, "ratio"), ratio, 1e-12);
  cr_assert_float_eq(jnum(d, "converted"), conv, 1e-9);
  cr_assert_eq(jnum(d, "limit"), 150);
  cr_assert(jtrue(d, "exceeded"), "converted 156 > 150 while the mean 130 is not");
  cr_assert_float_eq(jnum(d, "limit_ratio"), conv / 150, 1e-12);
  cr_assert_float_eq(jnum(d, "flow_nm3"), q, 1e-6);
  cr_assert_eq(jnum(d, "product_t"), 100);
  cr_assert_eq(jnum(d, "benchmark_m3_t"), 10000);
  /* the flow is not a concentration: never converted, no limit */
  d = day_of(a, "cu-old", "stack-1", "flow");
  cr_assert_float_eq(jnum(d, "converted"), 50000, 1e-6);
  cr_assert(jnull(d, "limit"));
  cr_assert_not(jtrue(d, "exceeded"));
  /* two valid hours are no valid day: no mean, the enterprise-day's ratio still shown */
  d = day_of(a, "cu-old", "s5", "so2");
  cr_assert_eq(jnum(d, "valid_hours"), 2);
  cr_assert_not(jtrue(d, "valid"));
  cr_assert(jnull(d, "mean"));
  cr_assert(jnull(d, "converted"));
  cr_assert_not(jtrue(d, "exceeded"));
  cr_assert_float_eq(jnum(d, "ratio"), ratio, 1e-12);
  /* no production that day: no ratio, the mean is judged as measured */
  d = day_of(a, "cu-special", "stack-1", "so2");
  cr_assert_eq(jnum(d, "valid_hours"), 20);
  cr_assert(jnull(d, "ratio"));
  cr_assert_eq(jnum(d, "converted"), 120);
  cr_assert_eq(jnum(d, "limit"), 100);
  cr_assert(jtrue(d, "exceeded"));
  cr_assert_eq(jnum(d, "product_t"), 0);
  resp_free(&r);

  a = rows_of("days", "&ent=cu-old&metric=so2&only=exceeded", &r);
  cr_assert_eq(cJSON_GetArraySize(a), 1);
  cr_assert_str_eq(jstr(cJSON_GetArrayItem(a, 0), "point"), "stack-1");
  resp_free(&r);
  a = rows_of("days", "&only=valid", &r);
  cr_assert_eq(cJSON_GetArraySize(a), 3);
  resp_free(&r);

  char path[600];
  cems_path(path, sizeof path, "days", D, 1, "&ent=cu-special&format=csv");
  get(path, "reg-token", &r);
  char want[800];
  snprintf(want, sizeof want,
           BOM "park,ent,point,metric,unit,start,local,date,valid_hours,valid,mean,ratio,converted,limit,exceeded,"
           "limit_ratio,flow_nm3,product_t,benchmark_m3_t\r\n"
           "p1,cu-special,stack-1,so2,mg/Nm3,%s,2026-03-02T00:00:00+08:00,2026-03-02,20,true,120,,120,100,true,1.2,0,"
           "0,10000\r\n",
           t);
  cr_assert_str_eq(r.body, want);
  resp_free(&r);
}

/* ---- exceedances ---- */

Test(api_cems, exceedances_as_recorded) {
  struct resp r;
  const cJSON *a = rows_of("exceedances", NULL, &r);
  /* cu-old: hour 1 of s5 and the day of stack-1; cu-special: 20 hours and the day */
  cr_assert_eq(cJSON_GetArraySize(a), 23, "%s", r.body);
  /* time order (hour start, then hours before days, then by enterprise) */
  int64_t prev = 0;
  for (const cJSON *e = a->child; e; e = e->next) {
    int64_t ms;
    cr_assert_eq(ph_time_parse(jstr(e, "start"), strlen(jstr(e, "start")), &ms), 0);
    cr_assert_geq(ms, prev);
    prev = ms;
  }
  const cJSON *e0 = cJSON_GetArrayItem(a, 0), *e1 = cJSON_GetArrayItem(a, 1), *e2 = cJSON_GetArrayItem(a, 2);
  cr_assert_str_eq(jstr(e0, "period"), "hour");
  cr_assert_str_eq(jstr(e0, "ent"), "cu-special");
  cr_assert_str_eq(jstr(e1, "period"), "day");
  cr_assert_str_eq(jstr(e1, "ent"), "cu-old");
  cr_assert_str_eq(jstr(e2, "period"), "day");
  cr_assert_str_eq(jstr(e2, "ent"), "cu-special");
  resp_free(&r);

  a = rows_of("exceedances", "&ent=cu-old", &r);
  cr_assert_eq(cJSON_GetArraySize(a), 2, "%s", r.body);
  const cJSON *day = cJSON_GetArrayItem(a, 0), *hour = cJSON_GetArrayItem(a, 1);
  char t[PH_TIME_STRLEN], rec[PH_TIME_STRLEN];
  fmt_time(D, t);
  fmt_time(UPDATED, rec); /* the update that found them */
  cr_assert_str_eq(jstr(day, "period"), "day");
  cr_assert_str_eq(jstr(day, "point"), "stack-1");
  cr_assert_str_eq(jstr(day, "start"), t);
  cr_assert_str_eq(jstr(day, "local"), "2026-03-02T00:00:00+08:00");
  cr_assert_float_eq(jnum(day, "mean"), 130, 1e-9);
  cr_assert_float_eq(jnum(day, "ratio"), 1.2, 1e-12);
  cr_assert_float_eq(jnum(day, "converted"), 156, 1e-9);
  cr_assert_eq(jnum(day, "limit"), 150);
  cr_assert_float_eq(jnum(day, "limit_ratio"), 156.0 / 150, 1e-12);
  cr_assert_str_eq(jstr(day, "standard"), "gb31574-2015");
  cr_assert_str_eq(jstr(day, "recorded"), rec);
  cr_assert_str_eq(jstr(hour, "period"), "hour");
  cr_assert_str_eq(jstr(hour, "point"), "s5");
  cr_assert_str_eq(jstr(hour, "local"), "2026-03-02T01:00:00+08:00");
  cr_assert_float_eq(jnum(hour, "mean"), 180, 1e-9);
  cr_assert_float_eq(jnum(hour, "converted"), 180, 1e-9);
  cr_assert(jnull(hour, "ratio"), "hours are judged as measured");
  resp_free(&r);

  a = rows_of("exceedances", "&period=day", &r);
  cr_assert_eq(cJSON_GetArraySize(a), 2);
  resp_free(&r);
  a = rows_of("exceedances", "&period=hour&point=s5", &r);
  cr_assert_eq(cJSON_GetArraySize(a), 1);
  resp_free(&r);
  a = rows_of("exceedances", "&metric=flow", &r);
  cr_assert_eq(cJSON_GetArraySize(a), 0);
  resp_free(&r);

  /* pages of 5 and of 2 (the second page starts inside the first hour's
   * three rows), JSON and CSV: the same rows as one page */
  static char whole[100000], paged[100000];
  char path[1400];
  for (int csv = 0; csv < 2; csv++) {
    whole[0] = 0;
    cems_path(path, sizeof path, "exceedances", D, 1, csv ? "&format=csv" : NULL);
    cr_assert_eq(follow(path, sizeof path, "exceedances", whole, sizeof whole, 1), 1);
    paged[0] = 0;
    cems_path(path, sizeof path, "exceedances", D, 1, csv ? "&limit=5&format=csv" : "&limit=5");
    cr_assert_eq(follow(path, sizeof path, "exceedances", paged, sizeof paged, 10), 5, "23 rows in pages of 5");
    cr_assert_str_eq(paged, whole);
    paged[0] = 0;
    cems_path(path, sizeof path, "exceedances", D, 1, csv ? "&limit=2&format=csv" : "&limit=2");
    cr_assert_eq(follow(path, sizeof path, "exceedances", paged, sizeof paged, 20), 12, "23 rows in pages of 2");
    cr_assert_str_eq(paged, whole);
  }
  cems_path(path, sizeof path, "exceedances", D, 1, "&ent=cu-old&format=csv");
  get(path, "reg-token", &r);
  cr_assert(!strncmp(r.body,
                     BOM "park,ent,point,metric,unit,start,local,period,mean,converted,ratio,limit,limit_ratio,standard,"
                     "recorded\r\np1,cu-old,stack-1,so2,mg/Nm3,",
                     strlen(BOM "park,ent,point,metric,unit,start,local,period,mean,converted,ratio,limit,limit_ratio,"
                            "standard,recorded\r\np1,cu-old,stack-1,so2,mg/Nm3,")),
            "%s", r.body);
  resp_free(&r);
}

/* ---- access and arguments ---- */

Test(api_cems, scoping_like_the_other_reads) {
  static const char *const what[] = {"hours", "days", "exceedances"};
  struct resp r;
  for (int i = 0; i < 3; i++) {
    char path[600];
    cems_path(path, sizeof path, what[i], D, 1, NULL);
    get(path, "reg2-token", &r); /* a regulator of p2 only */
    expect_error(&r, 403, NULL);
    resp_free(&r);
    get(path, NULL, &r);
    expect_error(&r, 401, NULL);
    resp_free(&r);
    get(path, "mgr-token", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    resp_free(&r);
    http("POST", path, "reg-token", NULL, &r);
    expect_error(&r, 405, NULL);
    resp_free(&r);
    /* the manager of p1 may not see p2; p2 seen by its regulator is empty */
    snprintf(path, sizeof path, "/api/v1/parks/p2/cems/%s?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z", what[i]);
    get(path, "mgr-token", &r);
    expect_error(&r, 403, NULL);
    resp_free(&r);
    get(path, "reg2-token", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(jnum(r.json, "count"), 0);
    resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/parks/p9/cems/%s?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z", what[i]);
    get(path, "reg-token", &r);
    expect_error(&r, 404, NULL);
    resp_free(&r);
  }
  get("/api/v1/parks/p1/cems", "reg-token", &r);
  expect_error(&r, 404, NULL);
  resp_free(&r);
  get("/api/v1/parks/p1/cems/minutes", "reg-token", &r);
  expect_error(&r, 404, NULL);
  resp_free(&r);
}

Test(api_cems, bad_arguments_400_naming_them) {
  static const struct {
    const char *what, *query, *param;
  } cases[] = {
      {"hours", "to=2026-03-02T00:00:00Z", "from"},
      {"hours", "from=2026-03-01&to=2026-03-02T00:00:00Z", "from"},
      {"days", "from=2026-03-01T00:00:00Z", "to"},
      {"hours", "from=2026-03-02T00:00:00Z&to=2026-03-02T00:00:00Z", "to"},
      {"hours", "from=2026-03-01T00:00:00Z&to=2026-04-02T00:00:00Z", "to"}, /* 32 days */
      {"days", "from=2025-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", "to"},  /* 424 days */
      {"exceedances", "from=2025-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", "to"},
      {"hours", "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&only=some", "only"},
      {"days", "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&only=", "only"},
      {"exceedances", "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&period=week", "period"},
      {"exceedances", "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&only=valid", "only"},
      {"hours", "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&period=hour", "period"},
      {"hours", "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&limit=0", "limit"},
      {"days", "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&limit=10001", "limit"},
      {"exceedances", "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&limit=ten", "limit"},
      {"hours", "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&cursor=garbage", "cursor"},
      {"hours", "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&cursor=e.p.so2.1", "cursor"}, /* before from */
      {"days", "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&cursor=E.p.so2.1772323200000", "cursor"},
      {"exceedances", "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&cursor=1772323200000.3.e.p.so2", "cursor"},
      {"exceedances", "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&cursor=e.p.so2.1772323200000", "cursor"},
      {"hours", "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&metric=unobtainium", "metric"},
      {"hours", "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&metric=furnace_temp", "metric"},
      {"days", "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&ent=Cu-Old", "ent"},
      {"days", "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&point=stack 1", "point"},
      {"hours", "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&ent=cu-old&ent=cu-new", "ent"},
      {"hours", "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&colour=red", "colour"},
      {"hours", "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&format=xml", "format"},
  };
  struct resp r;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char path[600];
    snprintf(path, sizeof path, "/api/v1/parks/p1/cems/%s?%s", cases[i].what, cases[i].query);
    for (char *p = path; *p; p++)
      if (*p == ' ') *p = '+'; /* a space, form-encoded */
    get(path, "reg-token", &r);
    cr_assert_eq(r.status, 400, "%s: %ld %s", path, r.status, r.body);
    expect_error(&r, 400, cases[i].param);
    resp_free(&r);
  }
  /* well-formed, but not an enterprise of the park: 404 */
  get("/api/v1/parks/p1/cems/hours?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&ent=gone", "reg-token", &r);
  expect_error(&r, 404, "ent");
  resp_free(&r);
  /* errors are JSON even when CSV was asked for */
  http("GET", "/api/v1/parks/p1/cems/days?from=x", "reg-token", "text/csv", &r);
  expect_error(&r, 400, "from");
  resp_free(&r);
}
