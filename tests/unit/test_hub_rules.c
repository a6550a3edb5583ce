/* test_hub_rules.c — the rules file (rules_config.c) and the engine
 * (rules.c, rules_load.c) against a capture sink: each rule type raises
 * once, holds while its condition holds, clears with hysteresis; timers;
 * late data; bounds; state rebuilt from the rollups at start-up.
 *
 * Park p1 in Asia/Shanghai (UTC+8), GB 31574-2015 built in:
 *   cu-old      Cu, existing plant: SO2 stack limit 150 mg/Nm3
 *   cu-special  Cu, existing, special limits: SO2 100
 * Both have agent gw, 10 s expected interval. Data time starts at
 * 2026-11-23T02:00:00Z (10:00 local).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>

#include "parkhub/alloc.h"
#include "parkhub/jsonfile.h"
#include "alarms/rules.h"
#include "store/store.h"
#include "parkhub/timefmt.h"
#include "alarms/webhook.h"

#define T0 1795399200000LL /* 2026-11-23T02:00:00Z */
#define S 1000LL
#define M 60000LL
#define H 3600000LL
#define D 86400000LL

static struct ph_hub_config cfg;
static struct ph_catalog *cat;
static struct ph_tz *tz;
static struct ph_tz *tzs[1];
static struct ph_refs refs; /* engines borrow it */
static struct ph_limits *lim;
static struct ph_rules *eng;

/* ------------------------------------------------------ capture sink */

struct cev {
  char kind; /* R raised, U updated, C cleared, X closed */
  char rule[65], ent[65], point[65], metric[65];
  bool has_value;
  double value;
  int64_t ts, since;
  char msg[1100], msg_zh[1100];
};
#define MAXEV 20000
static struct cev *evs;
static int nev;
struct copen {
  char key[300];
  char metric[65];
  int state;
};
static struct copen opens[256];
static int nopens;

static void keystr(const struct ph_alarm_key *k, char *b, size_t cap) {
  snprintf(b, cap, "%s|%s|%s|%s", k->park, k->rule, k->ent, k->point ? k->point : "");
}
static struct copen *copen_find(const struct ph_alarm_key *k, bool make) {
  char b[300];
  keystr(k, b, sizeof b);
  for (int i = 0; i < nopens; i++)
    if (!strcmp(opens[i].key, b)) return &opens[i];
  if (!make) return NULL;
  cr_assert_lt(nopens, 256);
  strcpy(opens[nopens].key, b);
  opens[nopens].state = PH_ALARM_NONE;
  return &opens[nopens++];
}
static void log_ev(char kind, const struct ph_alarm_event *ev) {
  cr_assert_lt(nev, MAXEV);
  struct cev *c = &evs[nev++];
  memset(c, 0, sizeof *c);
  c->kind = kind;
  snprintf(c->rule, sizeof c->rule, "%s", ev->key.rule);
  snprintf(c->ent, sizeof c->ent, "%s", ev->key.ent);
  snprintf(c->point, sizeof c->point, "%s", ev->key.point);
  snprintf(c->metric, sizeof c->metric, "%s", ev->metric);
  c->has_value = ev->has_value;
  c->value = ev->value;
  c->ts = ev->ts_ms;
  c->since = ev->since_ms;
  if (kind == 'R') {
    ev->render(ev, PH_LANG_EN, c->msg, sizeof c->msg);
    ev->render(ev, PH_LANG_ZH_CN, c->msg_zh, sizeof c->msg_zh);
  }
}
static int cap_raise(void *ctx, const struct ph_alarm_event *ev) {
  (void)ctx;
  struct copen *o = copen_find(&ev->key, true);
  log_ev(o->state == PH_ALARM_ACTIVE ? 'U' : 'R', ev);
  o->state = PH_ALARM_ACTIVE;
  snprintf(o->metric, sizeof o->metric, "%s", ev->metric);
  return 0;
}
static int cap_clear(void *ctx, const struct ph_alarm_event *ev) {
  (void)ctx;
  struct copen *o = copen_find(&ev->key, false);
  if (!o || o->state != PH_ALARM_ACTIVE) return 0;
  log_ev('C', ev);
  o->state = PH_ALARM_CLEARED;
  return 0;
}
static int cap_state(void *ctx, const struct ph_alarm_key *k) {
  (void)ctx;
  struct copen *o = copen_find(k, false);
  return o ? o->state : PH_ALARM_NONE;
}
static int cap_foreach(void *ctx, int (*fn)(void *u, const struct ph_alarm_key *k, const char *metric), void *u) {
  (void)ctx;
  for (int i = 0; i < nopens; i++) {
    if (opens[i].state == PH_ALARM_NONE) continue;
    char park[65], rule[65], ent[65], point[65];
    sscanf(opens[i].key, "%64[^|]|%64[^|]|%64[^|]|%64[^|]", park, rule, ent, point);
    if (opens[i].key[strlen(opens[i].key) - 1] == '|') point[0] = '\0';
    struct ph_alarm_key k = {park, rule, ent, point};
    int rc = fn(u, &k, opens[i].metric);
    if (rc) return rc;
  }
  return 0;
}
static int cap_close(void *ctx, const struct ph_alarm_key *k, const char *why, int64_t now) {
  (void)ctx;
  (void)why;
  struct copen *o = copen_find(k, false);
  cr_assert_not_null(o);
  o->state = PH_ALARM_NONE;
  struct ph_alarm_event ev = {.key = *k, .metric = "", .ts_ms = now};
  log_ev('X', &ev);
  return 0;
}
static struct ph_alarm_sink sink = {NULL, cap_raise, cap_clear, cap_state, cap_foreach, cap_close};

static int count(char kind, const char *rule) {
  int n = 0;
  for (int i = 0; i < nev; i++) n += evs[i].kind == kind && (!rule || !strcmp(evs[i].rule, rule));
  return n;
}
static const struct cev *last(char kind, const char *rule) {
  for (int i = nev - 1; i >= 0; i--)
    if (evs[i].kind == kind && (!rule || !strcmp(evs[i].rule, rule))) return &evs[i];
  return NULL;
}

/* ------------------------------------------------------------ fixture */

static void ent_init(struct ph_hub_ent *e, const char *id, bool special) {
  memset(e, 0, sizeof *e);
  strcpy(e->id, id);
  e->sector = PH_SECTOR_CU;
  e->plant_class = PH_CLASS_EXISTING;
  e->special_limits = special;
  e->expected_interval_s = 10;
  e->stack_test_interval_days = 365;
  strcpy(e->standard, "gb31574-2015");
  strcpy(e->agents[e->nagents++], "gw");
}

static void setup(void) {
  struct ph_err err = {0};
  evs = ph_calloc(MAXEV, sizeof *evs);
  nev = nopens = 0;
  cr_assert_eq(ph_catalog_load_builtin(&cat, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_tz_load("Asia/Shanghai", &tz, &err), 0, "%s", err.msg);
  tzs[0] = tz;
  cr_assert_eq(ph_limits_load_builtin(&lim, &err), 0, "%s", err.msg);
  memset(&cfg, 0, sizeof cfg);
  cfg.nparks = 1;
  strcpy(cfg.parks[0].id, "p1");
  strcpy(cfg.parks[0].tz, "Asia/Shanghai");
  cfg.parks[0].ents = ph_calloc(2, sizeof *cfg.parks[0].ents);
  ent_init(&cfg.parks[0].ents[0], "cu-old", false);
  ent_init(&cfg.parks[0].ents[1], "cu-special", true);
  cfg.parks[0].nents = 2;
  eng = NULL;
}

static void teardown(void) {
  ph_rules_free(eng);
  ph_hub_config_fini(&cfg);
  ph_limits_free(lim);
  ph_tz_free(tz);
  ph_catalog_free(cat);
  ph_free(evs);
}

TestSuite(rules, .init = setup, .fini = teardown);

static struct ph_rules *engine_with(const char *json, size_t max_series) {
  struct ph_err err = {0};
  struct ph_ruleset rs;
  cr_assert_eq(ph_ruleset_load_json(json, strlen(json), "test.json", cat, &rs, &err), 0, "%s", err.msg);
  struct ph_limits *ls[1] = {lim};
  refs = (struct ph_refs){.cfg = &cfg, .cat = cat, .tz = {tzs[0]}, .limits = {ls[0]}, .nlimits = 1};
  struct ph_rules_conf c = {.refs = &refs, .max_series = max_series};
  struct ph_rules *e;
  cr_assert_eq(ph_rules_new(&c, &e, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_rules_add(e, "p1", &rs, &err), 0, "%s", err.msg);
  ph_ruleset_fini(&rs);
  return e;
}

static void feed_full(const char *ent, const char *point, const char *metric, int64_t ts, double v, char flag,
                      enum ph_state st) {
  struct ph_obs o = {.park = "p1", .ent = ent, .point = point, .metric = metric, .ts_ms = ts, .value = v,
                     .flag = flag, .state = st};
  cr_assert_eq(ph_rules_eval_value(eng, &o, ts + 500, &sink), 0);
}
static void feed(const char *metric, int64_t ts, double v) {
  feed_full("cu-old", "stack-1", metric, ts, v, 'N', PH_STATE_NONE);
}

/* ----------------------------------------------------------- the file */

static int refused(const char *json, char *msg, size_t cap) {
  struct ph_err err = {0};
  struct ph_ruleset rs;
  int rc = ph_ruleset_load_json(json, strlen(json), "r.json", cat, &rs, &err);
  snprintf(msg, cap, "%s", err.msg);
  ph_ruleset_fini(&rs);
  return rc;
}

Test(rules, schema_examples_agree_with_the_loader) {
  const char *src = getenv("PH_SOURCE_DIR");
  if (!src) cr_skip_test("PH_SOURCE_DIR unset (run through ctest)");
  char dir[512];
  snprintf(dir, sizeof dir, "%s/tests/data/schemas/rules", src);
  DIR *d = opendir(dir);
  cr_assert_not_null(d, "%s", dir);
  int nvalid = 0, ninvalid = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    bool valid = !strncmp(de->d_name, "valid-", 6), invalid = !strncmp(de->d_name, "invalid-", 8);
    if (!valid && !invalid) continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    struct ph_err err = {0};
    struct ph_ruleset rs;
    int rc = ph_ruleset_load_file(path, cat, &rs, &err);
    ph_ruleset_fini(&rs);
    if (valid) {
      cr_expect_eq(rc, 0, "%s: %s", de->d_name, err.msg);
      nvalid++;
    } else {
      cr_expect_neq(rc, 0, "%s: loaded, but the schema refuses it", de->d_name);
      ninvalid++;
    }
    if (invalid) cr_expect(strstr(err.msg, de->d_name) != NULL, "message names the file: %s", err.msg);
  }
  closedir(d);
  cr_assert_geq(nvalid, 3);
  cr_assert_geq(ninvalid, 10);
}

Test(rules, the_demo_rules_load_for_the_demo_park) {
  const char *src = getenv("PH_SOURCE_DIR");
  if (!src) cr_skip_test("PH_SOURCE_DIR unset (run through ctest)");
  char path[512];
  snprintf(path, sizeof path, "%s/deploy/rules-demo.json", src);
  struct ph_err err = {0};
  struct ph_ruleset rs;
  cr_assert_eq(ph_ruleset_load_file(path, cat, &rs, &err), 0, "%s", err.msg);
  cr_assert_eq(rs.nrules, 13); /* 10 air and process rules, 3 on the wastewater outlet */
  strcpy(cfg.parks[0].id, "demo-park");
  struct ph_limits *ls[1] = {lim};
  refs = (struct ph_refs){.cfg = &cfg, .cat = cat, .tz = {tzs[0]}, .limits = {ls[0]}, .nlimits = 1};
  struct ph_rules_conf c = {.refs = &refs};
  cr_assert_eq(ph_rules_new(&c, &eng, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_rules_add(eng, "demo-park", &rs, &err), 0, "%s", err.msg);
  ph_ruleset_fini(&rs);
}

Test(rules, refusals_name_file_path_and_reason) {
  char m[PH_ERR_MSG_MAX];
  cr_assert_eq(refused("{\"v\":1,\"rules\":[{\"id\":\"a\",\"severity\":\"major\",\"scope\":{\"metric\":\"so2\"},"
                       "\"threshold\":{\"op\":\">\",\"limit\":1}},{\"id\":\"b\",\"severity\":\"major\",\"scope\":"
                       "{\"metric\":\"so2\"},\"threshold\":{\"op\":\">=\",\"limit\":1}}]}", m, sizeof m),
               PH_ECONFIG);
  cr_assert(strstr(m, "r.json: rules[1].threshold.op") != NULL, "%s", m);
  cr_assert_eq(refused("{\"v\":1,\"rules\":[{\"id\":\"a\",\"severity\":\"major\",\"scope\":{\"metric\":\"so2\"},"
                       "\"threshold\":{\"op\":\">\",\"limit\":1},\"message\":\"{ent} {colour}\"}]}", m, sizeof m),
               PH_ECONFIG);
  cr_assert(strstr(m, "rules[0].message: unknown placeholder {colour}") != NULL, "%s", m);
  cr_assert_eq(refused("{\"v\":1,\"rules\":[{\"id\":\"a\",\"severity\":\"major\",\"scope\":{\"metric\":\"so2\"},"
                       "\"threshold\":{\"op\":\">\",\"limit\":1}},{\"id\":\"a\",\"severity\":\"minor\",\"gap\":{}}]}",
                       m, sizeof m), PH_ECONFIG);
  cr_assert(strstr(m, "rules[1].id: 'a' is already") != NULL, "%s", m);
  cr_assert_eq(refused("{\"v\":1,\"rules\":[{\"id\":\"a\",\"severity\":\"major\",\"scope\":{\"metric\":\"slag\"},"
                       "\"threshold\":{\"op\":\">\",\"limit\":1}}]}", m, sizeof m), PH_ECONFIG);
  cr_assert(strstr(m, "rules[0].scope.metric: 'slag' is a material") != NULL, "%s", m);
  cr_assert_eq(refused("{\"v\":1,\"rules\":[{\"id\":\"a\",\"severity\":\"major\",\"scope\":{\"metric\":\"h2s\"},"
                       "\"threshold\":{\"op\":\">\",\"limit\":1}}]}", m, sizeof m), PH_ECONFIG);
  cr_assert(strstr(m, "not in the metric catalogue") != NULL, "%s", m);
  cr_assert_eq(refused("{\"v\":1,\"rules\":[{\"id\":\"a\",\"severity\":\"major\",\"scope\":{\"metric\":\"o2\"},"
                       "\"residence\":{\"low\":5,\"high\":1,\"for_s\":60}}]}", m, sizeof m), PH_ECONFIG);
  cr_assert(strstr(m, "rules[0].residence: low must be below high") != NULL, "%s", m);
  cr_assert_eq(refused("{\"v\":1,\"rules\":[],\"webhooks\":[{\"url\":\"http://x/\",\"headers\":{\"X-A\":\"a\\r\\nb\"}}]}",
                       m, sizeof m), PH_ECONFIG);
  cr_assert(strstr(m, "webhooks[0].headers.X-A") != NULL, "%s", m);
  cr_assert_eq(refused("{\"v\":1,\"rules\":[", m, sizeof m), PH_EJSON);
  /* scope against the hub config */
  struct ph_err err = {0};
  struct ph_ruleset rs;
  const char *j = "{\"v\":1,\"rules\":[{\"id\":\"a\",\"severity\":\"minor\",\"scope\":{\"ent\":\"cu-nowhere\"},\"gap\":{}}]}";
  cr_assert_eq(ph_ruleset_load_json(j, strlen(j), "r.json", cat, &rs, &err), 0);
  struct ph_limits *ls[1] = {lim};
  refs = (struct ph_refs){.cfg = &cfg, .cat = cat, .tz = {tzs[0]}, .limits = {ls[0]}, .nlimits = 1};
  struct ph_rules_conf c = {.refs = &refs};
  cr_assert_eq(ph_rules_new(&c, &eng, &err), 0);
  cr_assert_eq(ph_rules_add(eng, "p1", &rs, &err), PH_ECONFIG);
  cr_assert(strstr(err.msg, "rules[0].scope.ent: cu-nowhere is not an enterprise of park p1") != NULL, "%s", err.msg);
  ph_ruleset_fini(&rs);
}

/* ----------------------------------------------------- value rules */

Test(rules, threshold_raises_once_holds_and_clears_with_hysteresis) {
  eng = engine_with("{\"v\":1,\"rules\":[{\"id\":\"so2_high\",\"severity\":\"major\",\"scope\":{\"metric\":\"so2\"},"
                    "\"threshold\":{\"op\":\">\",\"limit\":100,\"hysteresis\":10}}]}", 0);
  feed("so2", T0, 90);
  cr_assert_eq(count('R', NULL), 0);
  feed("so2", T0 + 10 * S, 120);
  cr_assert_eq(count('R', "so2_high"), 1);
  const struct cev *r = last('R', "so2_high");
  cr_assert_str_eq(r->point, "stack-1");
  cr_assert_str_eq(r->metric, "so2");
  cr_assert_str_eq(r->msg, "cu-old/stack-1: so2 120 mg/m³ above 100 mg/m³");
  /* the Chinese sentence: the catalogue's name, the same figures and units */
  cr_assert_str_eq(r->msg_zh, "cu-old/stack-1：二氧化硫 120 mg/m³，超过限值 100 mg/m³");
  feed("so2", T0 + 20 * S, 130);
  feed("so2", T0 + 30 * S, 95); /* inside the dead band: still active, no update either */
  cr_assert_eq(count('R', NULL), 1, "raised once");
  cr_assert_eq(count('U', NULL), 1, "130 updated it; 95 neither raises nor clears");
  cr_assert_eq(count('C', NULL), 0);
  feed("so2", T0 + 40 * S, 90); /* ≤ 100 − 10 */
  cr_assert_eq(count('C', "so2_high"), 1);
  feed("so2", T0 + 50 * S, 99);
  cr_assert_eq(count('R', NULL), 1);
  feed("so2", T0 + 60 * S, 101);
  cr_assert_eq(count('R', NULL), 2, "a new occurrence after the clear");
}

Test(rules, threshold_for_holds_before_raising_and_a_dip_restarts_it) {
  eng = engine_with("{\"v\":1,\"rules\":[{\"id\":\"t\",\"severity\":\"minor\",\"scope\":{\"metric\":\"so2\"},"
                    "\"threshold\":{\"op\":\">\",\"limit\":100,\"for_s\":60,\"clear_for_s\":30}}]}", 0);
  feed("so2", T0, 120);
  feed("so2", T0 + 30 * S, 120);
  feed("so2", T0 + 40 * S, 80); /* dip */
  feed("so2", T0 + 50 * S, 120);
  feed("so2", T0 + 100 * S, 120);
  cr_assert_eq(count('R', NULL), 0, "held only 50 s since the dip");
  feed("so2", T0 + 110 * S, 120);
  cr_assert_eq(count('R', NULL), 1);
  cr_assert_eq(last('R', "t")->since, T0 + 50 * S, "first = when it started holding");
  feed("so2", T0 + 120 * S, 50);
  feed("so2", T0 + 140 * S, 50);
  cr_assert_eq(count('C', NULL), 0, "clear_for_s 30 not yet");
  feed("so2", T0 + 150 * S, 50);
  cr_assert_eq(count('C', NULL), 1);
}

Test(rules, invalid_flags_are_ignored_by_valid_only_rules) {
  eng = engine_with("{\"v\":1,\"rules\":[{\"id\":\"t\",\"severity\":\"minor\",\"scope\":{\"metric\":\"so2\"},"
                    "\"threshold\":{\"op\":\">\",\"limit\":100}}]}", 0);
  feed_full("cu-old", "stack-1", "so2", T0, 900, 'C', PH_STATE_NONE); /* calibration */
  cr_assert_eq(count('R', NULL), 0);
  feed_full("cu-old", "stack-1", "so2", T0 + S, 900, 'N', PH_STATE_NONE);
  cr_assert_eq(count('R', NULL), 1);
}

Test(rules, limit_reference_uses_each_enterprises_stack_limit) {
  eng = engine_with("{\"v\":1,\"rules\":[{\"id\":\"so2_lim\",\"severity\":\"major\",\"scope\":{\"metric\":\"so2\"},"
                    "\"threshold\":{\"value\":\"mean\",\"window_min\":60,\"op\":\">\",\"limit\":{\"ref\":\"stack\"},"
                    "\"hysteresis\":\"10%\"},\"message\":\"{ent}: {agg} {value} over {limit} {unit}\"}]}", 0);
  feed_full("cu-old", "stack-1", "so2", T0, 120, 'N', PH_STATE_NONE);
  feed_full("cu-special", "stack-1", "so2", T0, 120, 'N', PH_STATE_NONE);
  cr_assert_eq(count('R', NULL), 1, "120 is over the special limit 100 only");
  cr_assert_str_eq(last('R', NULL)->ent, "cu-special");
  cr_assert_str_eq(last('R', NULL)->msg, "cu-special: 60-min mean 120 over 100 mg/m³");
  /* cu-old: the 60-minute mean climbs over 150 */
  for (int i = 1; i <= 30; i++) feed_full("cu-old", "stack-1", "so2", T0 + i * M, 200, 'N', PH_STATE_NONE);
  cr_assert_eq(count('R', NULL), 2);
  const struct cev *r = last('R', NULL);
  cr_assert_str_eq(r->ent, "cu-old");
  cr_assert_str_eq(r->msg, "cu-old: 60-min mean 160 over 150 mg/m³", "%s", r->msg); /* (120 + 200) / 2 */
  cr_assert_eq(count('U', NULL), 29, "held: updated, not raised again");
  /* the mean falls: it clears only at or below 135 (the 10 % dead band) */
  for (int i = 31; i < 200 && !count('C', NULL); i++) feed_full("cu-old", "stack-1", "so2", T0 + i * M, 100, 'N', PH_STATE_NONE);
  cr_assert_eq(count('C', NULL), 1);
  cr_assert_leq(last('C', NULL)->value, 135.0 + 1e-9);
  cr_assert_gt(last('C', NULL)->value, 130.0, "cleared at the first mean under the band: %g", last('C', NULL)->value);
}

Test(rules, window_max_and_mean_follow_the_ring) {
  eng = engine_with("{\"v\":1,\"rules\":[{\"id\":\"mx\",\"severity\":\"minor\",\"scope\":{\"metric\":\"nox\"},"
                    "\"threshold\":{\"value\":\"max\",\"window_min\":5,\"op\":\">\",\"limit\":300}}]}", 0);
  feed("nox", T0, 310);
  cr_assert_eq(count('R', NULL), 1);
  for (int i = 1; i <= 4; i++) feed("nox", T0 + i * M, 100);
  cr_assert_eq(count('C', NULL), 0, "310 is still in the 5-minute window");
  feed("nox", T0 + 5 * M, 100);
  cr_assert_eq(count('C', NULL), 1, "it left the window");
}

Test(rules, hour_mean_is_judged_when_the_local_hour_closes) {
  eng = engine_with("{\"v\":1,\"rules\":[{\"id\":\"hr\",\"severity\":\"critical\",\"scope\":{\"metric\":\"so2\"},"
                    "\"threshold\":{\"value\":\"hour_mean\",\"op\":\">\",\"limit\":{\"ref\":\"stack\"}}}]}", 0);
  for (int i = 0; i < 60; i++) feed("so2", T0 + i * M, i < 30 ? 100 : 220); /* mean 160 */
  cr_assert_eq(count('R', NULL), 0, "the hour is still open");
  feed("so2", T0 + H, 10);
  cr_assert_eq(count('R', NULL), 1);
  cr_assert_float_eq(last('R', NULL)->value, 160, 1e-9);
  cr_assert_eq(last('R', NULL)->ts, T0 + H, "judged at the hour's end");
  /* the next hour has no later value: the timer closes it after the grace */
  cr_assert_eq(ph_rules_tick(eng, T0 + 2 * H + 60 * S, &sink), 0);
  cr_assert_eq(count('C', NULL), 0);
  cr_assert_eq(ph_rules_tick(eng, T0 + 2 * H + 3 * M, &sink), 0);
  cr_assert_eq(count('C', NULL), 1, "mean 10 clears");
}

Test(rules, residence_in_the_de_novo_window) {
  eng = engine_with("{\"v\":1,\"rules\":[{\"id\":\"quench_window\",\"severity\":\"major\",\"scope\":{\"point\":\"furnace-1\","
                    "\"metric\":\"quench_out_temp\"},\"residence\":{\"low\":200,\"high\":400,\"for_s\":300,\"hysteresis\":5}}]}",
                    0);
  int64_t t = T0;
  for (; t < T0 + 4 * M; t += 10 * S) feed_full("cu-old", "furnace-1", "quench_out_temp", t, 180, 'N', PH_STATE_RUNNING);
  int64_t in_from = t;
  for (; t <= in_from + 290 * S; t += 10 * S) feed_full("cu-old", "furnace-1", "quench_out_temp", t, 350, 'N', PH_STATE_RUNNING);
  cr_assert_eq(count('R', NULL), 0, "290 s inside");
  feed_full("cu-old", "furnace-1", "quench_out_temp", in_from + 300 * S, 360, 'N', PH_STATE_RUNNING);
  cr_assert_eq(count('R', NULL), 1);
  cr_assert_eq(last('R', NULL)->since, in_from);
  feed_full("cu-old", "furnace-1", "quench_out_temp", in_from + 310 * S, 403, 'N', PH_STATE_RUNNING);
  cr_assert_eq(count('C', NULL), 0, "403 is within the 5 degC dead band");
  feed_full("cu-old", "furnace-1", "quench_out_temp", in_from + 320 * S, 390, 'N', PH_STATE_RUNNING);
  cr_assert_eq(count('R', NULL), 1);
  feed_full("cu-old", "furnace-1", "quench_out_temp", in_from + 330 * S, 406, 'N', PH_STATE_RUNNING);
  cr_assert_eq(count('C', NULL), 1);
  cr_assert_eq(count('R', NULL), 1);
}

Test(rules, rate_of_change_over_a_window) {
  eng = engine_with("{\"v\":1,\"rules\":[{\"id\":\"ramp\",\"severity\":\"minor\",\"scope\":{\"metric\":\"furnace_temp\"},"
                    "\"rate\":{\"window_min\":4,\"op\":\">\",\"limit\":20,\"hysteresis\":5}}]}", 0);
  double v = 1000;
  for (int i = 0; i <= 6; i++) feed_full("cu-old", "furnace-1", "furnace_temp", T0 + i * M, v += 5, 'N', PH_STATE_NONE);
  cr_assert_eq(count('R', NULL), 0, "5 degC/min");
  for (int i = 7; i <= 12; i++) feed_full("cu-old", "furnace-1", "furnace_temp", T0 + i * M, v += 30, 'N', PH_STATE_NONE);
  cr_assert_eq(count('R', NULL), 1);
  cr_assert_gt(last('R', NULL)->value, 20);
  for (int i = 13; i <= 20; i++) feed_full("cu-old", "furnace-1", "furnace_temp", T0 + i * M, v, 'N', PH_STATE_NONE);
  cr_assert_eq(count('C', NULL), 1, "flat again");
  cr_assert_eq(count('R', NULL), 1);
}

Test(rules, flatline_on_any_metric_of_a_point) {
  eng = engine_with("{\"v\":1,\"rules\":[{\"id\":\"stuck\",\"severity\":\"minor\",\"scope\":{\"point\":\"stack-1\",\"metric\":\"*\"},"
                    "\"flatline\":{\"for_s\":600}}]}", 0);
  for (int i = 0; i <= 60; i++) {
    feed("o2", T0 + i * 10 * S, 12.5);               /* stuck */
    feed("so2", T0 + i * 10 * S, 50 + (i % 3));      /* alive */
  }
  cr_assert_eq(count('R', NULL), 1);
  cr_assert_str_eq(last('R', NULL)->metric, "o2");
  cr_assert_eq(last('R', NULL)->since, T0);
  /* co also sticks: the point's one alarm stays, updated */
  for (int i = 61; i <= 130; i++) {
    feed("o2", T0 + i * 10 * S, 12.5);
    feed("co", T0 + i * 10 * S, 7);
  }
  cr_assert_eq(count('R', NULL), 1, "one alarm per (rule, ent, point)");
  feed("o2", T0 + 131 * 10 * S, 12.6); /* o2 moves, co still stuck */
  cr_assert_eq(count('C', NULL), 0, "co holds the point's alarm");
  feed("co", T0 + 131 * 10 * S, 7.5);
  cr_assert_eq(count('C', NULL), 1);
}

Test(rules, share_of_invalid_flags) {
  eng = engine_with("{\"v\":1,\"rules\":[{\"id\":\"flags\",\"severity\":\"minor\",\"scope\":{\"point\":\"stack-1\",\"metric\":\"*\"},"
                    "\"flags\":{\"window_min\":10,\"max_pct\":25,\"min_values\":10,\"hysteresis\":5}}]}", 0);
  for (int i = 0; i < 20; i++) feed_full("cu-old", "stack-1", "pm", T0 + i * 15 * S, 5, i % 2 ? 'D' : 'N', PH_STATE_NONE);
  cr_assert_eq(count('R', NULL), 1);
  cr_assert_float_eq(last('R', NULL)->value, 50, 1e-9, "50 %% at the first judged value");
  for (int i = 20; i < 80; i++) feed_full("cu-old", "stack-1", "pm", T0 + i * 15 * S, 5, 'N', PH_STATE_NONE);
  cr_assert_eq(count('C', NULL), 1);
  cr_assert_leq(last('C', NULL)->value, 20.0);
}

Test(rules, aci_rate_low_while_running_only) {
  eng = engine_with("{\"v\":1,\"rules\":[{\"id\":\"aci_low\",\"severity\":\"major\",\"scope\":{\"point\":\"furnace-1\","
                    "\"metric\":\"aci_rate\"},\"threshold\":{\"op\":\"<\",\"limit\":5,\"for_s\":120,\"hysteresis\":0.5,"
                    "\"when\":{\"state\":[\"running\"]}}}]}", 0);
  for (int i = 0; i <= 20; i++) feed_full("cu-old", "furnace-1", "aci_rate", T0 + i * 10 * S, 1, 'N', PH_STATE_STOPPED);
  cr_assert_eq(count('R', NULL), 0, "the furnace is stopped");
  int64_t t = T0 + 300 * S;
  for (int i = 0; i <= 11; i++) feed_full("cu-old", "furnace-1", "aci_rate", t + i * 10 * S, 3, 'N', PH_STATE_RUNNING);
  cr_assert_eq(count('R', NULL), 0, "110 s");
  feed_full("cu-old", "furnace-1", "aci_rate", t + 120 * S, 3, 'N', PH_STATE_NONE); /* state kept from earlier records */
  cr_assert_eq(count('R', NULL), 1);
  cr_assert(strstr(last('R', NULL)->msg, "3 kg/h below 5 kg/h") != NULL, "%s", last('R', NULL)->msg);
  feed_full("cu-old", "furnace-1", "aci_rate", t + 130 * S, 3, 'N', PH_STATE_STOPPED);
  cr_assert_eq(count('C', NULL), 1, "the gate closed: not running any more");
}

Test(rules, late_values_update_windows_but_raise_nothing) {
  eng = engine_with("{\"v\":1,\"rules\":[{\"id\":\"t\",\"severity\":\"minor\",\"scope\":{\"metric\":\"so2\"},"
                    "\"threshold\":{\"op\":\">\",\"limit\":100}}]}", 0);
  feed("so2", T0 + M, 50);
  feed("so2", T0, 500); /* older than the newest */
  cr_assert_eq(count('R', NULL), 0);
  struct ph_rules_stats st;
  ph_rules_stats(eng, &st);
  cr_assert_eq(st.late, 1);
}

Test(rules, memory_stays_within_the_series_bound) {
  eng = engine_with("{\"v\":1,\"rules\":[{\"id\":\"t\",\"severity\":\"minor\",\"scope\":{\"metric\":\"so2\"},"
                    "\"threshold\":{\"value\":\"mean\",\"window_min\":60,\"op\":\">\",\"limit\":100}}]}", 8);
  char point[16];
  for (int i = 0; i < 20; i++) {
    snprintf(point, sizeof point, "p%d", i);
    feed_full("cu-old", point, "so2", T0, 500, 'N', PH_STATE_NONE);
  }
  struct ph_rules_stats st;
  ph_rules_stats(eng, &st);
  cr_assert_eq(st.series, 8);
  cr_assert_eq(st.untracked, 12);
  cr_assert_eq(count('R', NULL), 8);
  cr_assert_lt(st.memory, 4u << 20);
}

/* ----------------------------------------------------- timer rules */

Test(rules, gap_on_a_point_raises_on_the_timer_and_clears_on_data) {
  eng = engine_with("{\"v\":1,\"rules\":[{\"id\":\"gap\",\"severity\":\"minor\",\"scope\":{\"point\":\"stack-1\"},"
                    "\"gap\":{\"intervals\":6}}]}", 0);
  feed("so2", T0, 10);
  cr_assert_eq(ph_rules_tick(eng, T0 + 60 * S, &sink), 0);
  cr_assert_eq(count('R', NULL), 0, "60 s = 6 intervals: not more");
  cr_assert_eq(ph_rules_tick(eng, T0 + 61 * S, &sink), 0);
  cr_assert_eq(count('R', NULL), 1);
  cr_assert_eq(last('R', NULL)->since, T0 + 60 * S);
  /* T0 + 60 s is 2026-11-23 02:00 UTC: 10:00 in the park (Shanghai, +8) */
  cr_assert(strstr(last('R', NULL)->msg, "no data since 2026-11-23 10:00") != NULL, "%s", last('R', NULL)->msg);
  cr_assert(strstr(last('R', NULL)->msg_zh, "自 2026-11-23 10:00 起没有数据") != NULL, "%s", last('R', NULL)->msg_zh);
  cr_assert_eq(ph_rules_tick(eng, T0 + 120 * S, &sink), 0);
  cr_assert_eq(count('R', NULL), 1);
  cr_assert_eq(count('U', NULL), 0, "a timer confirms its alarm once a minute, not every tick");
  cr_assert_eq(ph_rules_tick(eng, T0 + 62 * S + 60 * S, &sink), 0);
  cr_assert_eq(count('U', NULL), 1);
  feed("so2", T0 + 123 * S, 10);
  cr_assert_eq(count('C', NULL), 1, "data arrived: cleared at once");
}

Test(rules, offline_by_status_and_by_silence) {
  eng = engine_with("{\"v\":1,\"rules\":[{\"id\":\"offline\",\"severity\":\"major\",\"scope\":{\"ent\":\"cu-old\"},"
                    "\"offline\":{\"silence_intervals\":30,\"for_s\":60}}]}", 0);
  int64_t now = T0;
  feed("so2", now, 10);
  cr_assert_eq(ph_rules_eval_status(eng, "p1", "cu-old", "gw", "offline", now + S, now + S, &sink), 0);
  cr_assert_eq(count('R', NULL), 0, "for_s 60");
  cr_assert_eq(ph_rules_tick(eng, now + 61 * S, &sink), 0);
  cr_assert_eq(count('R', NULL), 1);
  const struct cev *r = last('R', NULL);
  cr_assert_str_eq(r->point, "", "enterprise-level");
  cr_assert(strstr(r->msg, "cu-old: agent gw offline since") != NULL, "%s", r->msg);
  cr_assert(strstr(r->msg_zh, "cu-old：网关 gw 离线，自 ") != NULL, "%s", r->msg_zh);
  cr_assert_eq(ph_rules_eval_status(eng, "p1", "cu-old", "gw", "online", now + 90 * S, now + 90 * S, &sink), 0);
  cr_assert_eq(count('C', NULL), 1, "online again, and 90 s of silence is within the allowed 300");
  feed("so2", now + 95 * S, 10);
  /* silence: no value for 30 × 10 s */
  cr_assert_eq(ph_rules_tick(eng, now + 95 * S + 300 * S, &sink), 0);
  cr_assert_eq(count('R', NULL), 1);
  cr_assert_eq(ph_rules_tick(eng, now + 95 * S + 361 * S, &sink), 0);
  cr_assert_eq(count('R', NULL), 2);
  cr_assert(strstr(last('R', NULL)->msg, "no data for") != NULL, "%s", last('R', NULL)->msg);
}

Test(rules, overdue_stack_test_warns_then_alarms_and_a_test_clears_both) {
  eng = engine_with("{\"v\":1,\"rules\":["
                    "{\"id\":\"due\",\"severity\":\"warning\",\"scope\":{\"metric\":\"pcdd_f\"},\"overdue\":{\"warn_days\":30,\"if_never\":false}},"
                    "{\"id\":\"overdue\",\"severity\":\"major\",\"scope\":{\"metric\":\"pcdd_f\"},\"overdue\":{}}]}", 0);
  /* cu-special never had a test: the enterprise-level alarm, at once */
  cr_assert_eq(ph_rules_tick(eng, T0, &sink), 0);
  cr_assert_eq(count('R', "overdue"), 2, "neither enterprise has a test on record");
  cr_assert_str_eq(last('R', "overdue")->point, "", "enterprise-level");
  cr_assert(strstr(last('R', "overdue")->msg, "cu-special: pcdd_f overdue since 2026-11-23 (last record never)") != NULL,
            "%s", last('R', "overdue")->msg);
  /* cu-old has one; cu-special gets one now */
  feed_full("cu-old", "stack-1", "pcdd_f", T0, 0.05, 'S', PH_STATE_NONE);
  feed_full("cu-special", "stack-2", "pcdd_f", T0, 0.08, 'S', PH_STATE_NONE);
  cr_assert_eq(ph_rules_tick(eng, T0 + D, &sink), 0);
  cr_assert_eq(count('C', "overdue"), 2, "the never-tested alarms clear");
  /* 2026-11-23 local + 365 days = due 2027-11-23 */
  cr_assert_eq(ph_rules_tick(eng, T0 + 333 * D, &sink), 0);
  cr_assert_eq(count('R', "due"), 0, "32 days left");
  cr_assert_eq(ph_rules_tick(eng, T0 + 335 * D, &sink), 0);
  cr_assert_eq(count('R', "due"), 2, "30 days left, both stacks");
  cr_assert(strstr(last('R', "due")->msg, "due on 2027-11-23 (30 days") != NULL, "%s", last('R', "due")->msg);
  cr_assert_eq(ph_rules_tick(eng, T0 + 365 * D, &sink), 0);
  cr_assert_eq(count('R', "overdue"), 2, "due today is not overdue");
  cr_assert_eq(ph_rules_tick(eng, T0 + 366 * D, &sink), 0);
  cr_assert_eq(count('R', "overdue"), 4);
  cr_assert_eq(ph_rules_tick(eng, T0 + 367 * D, &sink), 0);
  cr_assert_eq(count('R', "overdue"), 4, "held, not raised again");
  feed_full("cu-old", "stack-1", "pcdd_f", T0 + 367 * D, 0.04, 'S', PH_STATE_NONE);
  cr_assert_eq(count('C', "overdue"), 3, "a new test clears at once");
  cr_assert_eq(count('C', "due"), 1);
}

/* A last stack test given in the config (issue #18): no false "overdue" at
 * the first start; due from that date; an enterprise without one still
 * raises the never-tested alarm. A test in the data later than the date
 * counts from the data; an earlier one from the date. */
Test(rules, configured_last_stack_test_counts_until_a_later_one_is_recorded) {
  long t0_day = (long)(T0 / D);                          /* 2026-11-23 */
  cfg.parks[0].ents[1].last_stack_test_day = t0_day - 253; /* 2026-03-15 */
  eng = engine_with("{\"v\":1,\"rules\":["
                    "{\"id\":\"overdue\",\"severity\":\"major\",\"scope\":{\"metric\":\"pcdd_f\"},\"overdue\":{}}]}", 0);
  cr_assert_eq(ph_rules_tick(eng, T0, &sink), 0);
  cr_assert_eq(count('R', "overdue"), 1, "only the enterprise with no date and no test");
  cr_assert_str_eq(last('R', "overdue")->ent, "cu-old");
  /* 2026-03-15 + 365 days = due 2027-03-15: not overdue on that day, overdue the next */
  cr_assert_eq(ph_rules_tick(eng, T0 + 112 * D, &sink), 0);
  cr_assert_eq(count('R', "overdue"), 1, "due today is not overdue");
  cr_assert_eq(ph_rules_tick(eng, T0 + 113 * D, &sink), 0);
  cr_assert_eq(count('R', "overdue"), 2);
  const struct cev *r = last('R', "overdue");
  cr_assert_str_eq(r->ent, "cu-special");
  cr_assert(strstr(r->msg, "overdue since 2027-03-15 (last record 2026-03-15") != NULL, "%s", r->msg);
  /* an older test in the data: the date still counts (still overdue, not raised again) */
  feed_full("cu-special", "stack-2", "pcdd_f", T0 - 300 * D, 0.08, 'S', PH_STATE_NONE);
  cr_assert_eq(ph_rules_tick(eng, T0 + 114 * D, &sink), 0);
  cr_assert_eq(count('R', "overdue"), 3, "the stack's own alarm, from the configured date");
  cr_assert(strstr(last('R', "overdue")->msg, "last record 2026-03-15") != NULL, "%s", last('R', "overdue")->msg);
  /* a later test in the data clears it */
  feed_full("cu-special", "stack-2", "pcdd_f", T0 + 114 * D, 0.07, 'S', PH_STATE_NONE);
  cr_assert_eq(ph_rules_tick(eng, T0 + 115 * D, &sink), 0);
  cr_assert_eq(count('R', "overdue"), 3);
  cr_assert_geq(count('C', "overdue"), 2, "the enterprise-level and the stack's alarms clear");
}

/* ------------------------------------------------------- start-up */

static void put_minute(struct ph_store *st, int64_t series, int64_t bucket, double mn, double mx, int n) {
  struct ph_rollup_agg a = {.n = n, .n_valid = n, .sum = (mn + mx) / 2 * n, .sum_valid = (mn + mx) / 2 * n,
                            .min = mn, .max = mx, .first_ts = bucket + S, .first = mn, .last_ts = bucket + 55 * S,
                            .last = mx};
  struct ph_err err = {0};
  cr_assert_eq(ph_store_begin(st, &err), 0);
  cr_assert_eq(ph_store_rollup(st, series, 0, bucket, &a, 6), 0);
  cr_assert_eq(ph_store_commit(st, &err), 0);
}

Test(rules, start_up_rebuilds_since_and_windows_from_the_rollups) {
  struct ph_err err = {0};
  struct ph_store *st;
  cr_assert_eq(ph_store_open(":memory:", &st, &err), 0, "%s", err.msg);
  int64_t pid, mid, sid, mid2, sid2;
  cr_assert_eq(ph_store_point_id(st, "p1", "cu-old", "furnace-1", &pid), 0);
  cr_assert_eq(ph_store_metric_id(st, "quench_out_temp", &mid), 0);
  cr_assert_eq(ph_store_series_id(st, pid, mid, &sid), 0);
  cr_assert_eq(ph_store_metric_id(st, "furnace_temp", &mid2), 0);
  cr_assert_eq(ph_store_series_id(st, pid, mid2, &sid2), 0);
  /* quench: 3 minutes outside, then 4 whole minutes inside the window */
  for (int i = 0; i < 3; i++) put_minute(st, sid, T0 + i * M, 150, 170, 6);
  for (int i = 3; i < 7; i++) put_minute(st, sid, T0 + i * M, 300, 350, 6);
  /* furnace: mean 1000 over the last 10 minutes */
  for (int i = 0; i < 7; i++) put_minute(st, sid2, T0 + i * M, 1000, 1000, 6);
  eng = engine_with("{\"v\":1,\"rules\":["
                    "{\"id\":\"qw\",\"severity\":\"major\",\"scope\":{\"metric\":\"quench_out_temp\"},\"residence\":{\"low\":200,\"high\":400,\"for_s\":300}},"
                    "{\"id\":\"hot\",\"severity\":\"minor\",\"scope\":{\"metric\":\"furnace_temp\"},"
                    "\"threshold\":{\"value\":\"mean\",\"window_min\":10,\"op\":\">\",\"limit\":900}}]}", 0);
  cr_assert_eq(ph_rules_load(eng, ph_store_db(st), T0 + 7 * M, &sink, &err), 0, "%s", err.msg);
  struct ph_rules_stats rs;
  ph_rules_stats(eng, &rs);
  cr_assert_eq(rs.series, 2);
  /* inside since 3:01 (restored); 7:10 is 249 s later, 8:05 is 304 s */
  feed_full("cu-old", "furnace-1", "quench_out_temp", T0 + 7 * M + 10 * S, 320, 'N', PH_STATE_NONE);
  cr_assert_eq(count('R', "qw"), 0);
  feed_full("cu-old", "furnace-1", "quench_out_temp", T0 + 8 * M + 5 * S, 320, 'N', PH_STATE_NONE);
  cr_assert_eq(count('R', "qw"), 1, "the condition held before the restart");
  cr_assert_eq(last('R', "qw")->since, T0 + 3 * M + S);
  /* a value of 0 cannot pull the restored 10-minute mean under 900 */
  feed_full("cu-old", "furnace-1", "furnace_temp", T0 + 7 * M + 10 * S, 0, 'N', PH_STATE_NONE);
  cr_assert_eq(count('R', "hot"), 1);
  cr_assert_float_eq(last('R', "hot")->value, 1000.0 * 42 / 43, 1e-6, "42 restored values + the new one");
  ph_store_close(st);
}

Test(rules, start_up_meets_open_alarms_and_closes_orphans) {
  /* alarms open before the restart: one of a rule that still exists, one of a removed rule */
  struct ph_alarm_event ev = {.key = {"p1", "t", "cu-old", "stack-1"}, .metric = "so2", .ts_ms = T0, .since_ms = T0,
                              .render = NULL};
  struct copen *o = copen_find(&ev.key, true);
  o->state = PH_ALARM_ACTIVE;
  strcpy(o->metric, "so2");
  struct ph_alarm_key gone = {"p1", "old_rule", "cu-old", "stack-1"};
  o = copen_find(&gone, true);
  o->state = PH_ALARM_ACTIVE;
  eng = engine_with("{\"v\":1,\"rules\":[{\"id\":\"t\",\"severity\":\"minor\",\"scope\":{\"metric\":\"so2\"},"
                    "\"threshold\":{\"op\":\">\",\"limit\":100}}]}", 0);
  struct ph_err err = {0};
  struct ph_store *st;
  cr_assert_eq(ph_store_open(":memory:", &st, &err), 0);
  cr_assert_eq(ph_rules_load(eng, ph_store_db(st), T0, &sink, &err), 0, "%s", err.msg);
  cr_assert_eq(count('X', "old_rule"), 1, "the removed rule's alarm is closed");
  feed("so2", T0 + S, 150);
  cr_assert_eq(count('R', NULL), 0, "not raised twice");
  cr_assert_eq(count('U', "t"), 1);
  feed("so2", T0 + 2 * S, 50);
  cr_assert_eq(count('C', "t"), 1, "and it clears like any other");
  ph_store_close(st);
}
