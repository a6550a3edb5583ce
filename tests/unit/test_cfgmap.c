#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parkhub/cfgmap.h"

struct conf {
  char name[16];
  char id[65];
  int64_t rate;
  double ratio;
  bool on;
  int policy;
};

static const char *const policies[] = {"stop", "drop_oldest", NULL};
static const struct ph_cfgmap map[] = {
    {"name", PH_CFG_STR, false, offsetof(struct conf, name), sizeof(((struct conf *)0)->name), 0, 0, "dflt", NULL, "a name"},
    {"id", PH_CFG_ID, true, offsetof(struct conf, id), sizeof(((struct conf *)0)->id), 0, 0, NULL, NULL, "an id"},
    {"rate", PH_CFG_INT, false, offsetof(struct conf, rate), 0, 1, 100, "10", NULL, "a rate"},
    {"ratio", PH_CFG_DBL, false, offsetof(struct conf, ratio), 0, 0, 1, "0.5", NULL, "a ratio"},
    {"on", PH_CFG_BOOL, false, offsetof(struct conf, on), 0, 0, 0, "true", NULL, "a switch"},
    {"policy", PH_CFG_ENUM, false, offsetof(struct conf, policy), 0, 0, 0, "stop", policies, "a policy"},
    PH_CFG_END,
};

static int apply(const char *json, struct conf *c, struct ph_err *err) {
  cJSON *j = cJSON_Parse(json);
  cr_assert_not_null(j, "test JSON: %s", json);
  memset(c, 0, sizeof *c);
  int rc = ph_cfgmap_apply(map, j, "outbox", c, err);
  cJSON_Delete(j);
  return rc;
}

Test(cfgmap, applies_values_and_defaults) {
  struct conf c;
  struct ph_err err = {0};
  cr_assert_eq(apply("{\"id\":\"gw-1\",\"rate\":42,\"policy\":\"drop_oldest\"}", &c, &err), 0, "%s", err.msg);
  cr_assert_str_eq(c.name, "dflt");
  cr_assert_str_eq(c.id, "gw-1");
  cr_assert_eq(c.rate, 42);
  cr_assert_float_eq(c.ratio, 0.5, 1e-12);
  cr_assert(c.on);
  cr_assert_eq(c.policy, 1);
}

static void refused(const char *json, const char *needle) {
  struct conf c;
  struct ph_err err = {0};
  cr_assert_eq(apply(json, &c, &err), PH_ECONFIG, "%s accepted", json);
  cr_assert(strstr(err.msg, needle), "message '%s' lacks '%s'", err.msg, needle);
}

Test(cfgmap, names_every_problem_by_path) {
  refused("{}", "outbox.id: required");
  refused("{\"id\":\"gw-1\",\"colour\":1}", "outbox.colour: unknown key");
  refused("{\"id\":\"GW\"}", "outbox.id: 'GW' is not an id");
  refused("{\"id\":\"gw\",\"rate\":0}", "outbox.rate: 0 is outside 1..100");
  refused("{\"id\":\"gw\",\"rate\":1.5}", "outbox.rate: must be a whole number");
  refused("{\"id\":\"gw\",\"rate\":\"5\"}", "outbox.rate: must be a number");
  refused("{\"id\":\"gw\",\"on\":1}", "outbox.on: must be true or false");
  refused("{\"id\":\"gw\",\"policy\":\"panic\"}", "'panic' is not one of stop|drop_oldest");
  refused("{\"id\":\"gw\",\"name\":\"this name is far too long\"}", "outbox.name: longer than 15");
  refused("[]", "outbox: must be an object");
}

Test(cfgmap, help_lists_keys_defaults_and_ranges) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  ph_cfgmap_help(map, "outbox.", f);
  fclose(f);
  cr_assert(strstr(buf, "outbox.rate"), "%s", buf);
  cr_assert(strstr(buf, "(1..100)"), "%s", buf);
  cr_assert(strstr(buf, "(default 10)"), "%s", buf);
  cr_assert(strstr(buf, "(required)"), "%s", buf);
  cr_assert(strstr(buf, "stop|drop_oldest"), "%s", buf);
  free(buf);
}

/* ---- several problems at once (--check-config) ---- */

static int apply_all(const char *json, struct conf *c, struct ph_cfg_problems *pr, struct ph_err *err) {
  cJSON *j = cJSON_Parse(json);
  cr_assert_not_null(j, "test JSON: %s", json);
  memset(c, 0, sizeof *c);
  int rc = ph_cfgmap_apply_all(map, j, "outbox", c, pr, err);
  cJSON_Delete(j);
  return rc;
}

static bool has(const struct ph_cfg_problems *pr, const char *needle) {
  for (int i = 0; i < pr->n && i < PH_CFG_PROBLEMS_MAX; i++)
    if (strstr(pr->msg[i], needle)) return true;
  return false;
}

Test(cfgmap, collects_every_problem_of_an_object) {
  static struct ph_cfg_problems pr;
  struct conf c;
  struct ph_err err = {0};
  int rc = apply_all("{\"colour\":1,\"rate\":0,\"on\":1,\"ratio\":0.25}", &c, &pr, &err);
  cr_assert_eq(rc, PH_ECONFIG);
  cr_assert_eq(pr.n, 4, "4 problems, got %d", pr.n);
  cr_assert(has(&pr, "outbox.colour: unknown key"));
  cr_assert(has(&pr, "outbox.id: required"));
  cr_assert(has(&pr, "outbox.rate: 0 is outside 1..100"));
  cr_assert(has(&pr, "outbox.on: must be true or false"));
  cr_assert(strstr(err.msg, "outbox.colour"), "err keeps the first: %s", err.msg);
  cr_assert_float_eq(c.ratio, 0.25, 1e-12, "a good key is still applied");
}

Test(cfgmap, without_a_list_the_first_problem_stops) {
  struct conf c;
  struct ph_err err = {0};
  cr_assert_eq(apply_all("{\"rate\":0,\"on\":1}", &c, NULL, &err), PH_ECONFIG);
  cr_assert(strstr(err.msg, "outbox.id: required"), "%s", err.msg);
}

Test(cfgmap, problem_list_is_bounded) {
  static struct ph_cfg_problems pr;
  for (int i = 0; i < PH_CFG_PROBLEMS_MAX + 50; i++) ph_cfg_problem_add(&pr, "x: bad");
  cr_assert_eq(pr.n, PH_CFG_PROBLEMS_MAX + 50);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  ph_cfg_problems_print(&pr, f);
  fclose(f);
  cr_assert(strstr(buf, "and 50 more"), "%s", buf);
  free(buf);
}

Test(cfgmap, note_goes_on_with_a_list_and_stops_without) {
  static struct ph_cfg_problems pr;
  struct ph_err err = {0};
  ph_fail(&err, PH_ECONFIG, "a.b: bad");
  cr_assert_eq(ph_cfg_note(&pr, PH_ECONFIG, &err), 0);
  cr_assert_eq(ph_cfg_note(NULL, PH_ECONFIG, &err), PH_ECONFIG);
  cr_assert_eq(ph_cfg_stop(&pr, PH_ECONFIG, &err), PH_ECONFIG);
  cr_assert_eq(pr.n, 2);
}

/* ---- hints ---- */

static const struct ph_cfgmap broker_map[] = {
    {"uris", PH_CFG_ARRAY, PH_CFG_REQUIRED, 0, 0, 0, 0, NULL, NULL, "broker URIs"},
    {"keepalive_s", PH_CFG_INT, 0, 0, 0, 5, 3600, "30", NULL, "keepalive"},
    PH_CFG_END,
};

static void hinted(const char *json, const char *path, const char *want) {
  int64_t dummy[4] = {0};
  struct ph_err err = {0};
  cJSON *j = cJSON_Parse(json);
  cr_assert_eq(ph_cfgmap_apply(broker_map, j, path, dummy, &err), PH_ECONFIG, "%s accepted", json);
  cr_assert(strstr(err.msg, want), "'%s' lacks '%s'", err.msg, want);
  cJSON_Delete(j);
}

Test(cfgmap, unknown_keys_get_a_hint) {
  hinted("{\"uris\":[],\"host\":\"h\"}", "mqtt", "mqtt.host: unknown key; use mqtt.uris, e.g. [\"tcp://127.0.0.1:1883\"]");
  hinted("{\"uris\":[],\"keepalive\":5}", "mqtt", "did you mean 'keepalive_s'?");
  hinted("{\"uris\":[],\"zzzzzzzz\":5}", "broker", "expected one of: uris, keepalive_s");
  hinted("{\"uris\":[],\"agent\":\"gw\"}", "parks[0].enterprises[2]", "use agents, an array of ids");
  hinted("{\"uris\":[],\"park\":{}}", "", "the hub serves \"parks\"");
}

/* ---- --help in plain numbers ---- */

struct wide {
  int64_t ms;
  double big;
  char path[32];
};
static const struct ph_cfgmap wide_map[] = {
    {"ms", PH_CFG_INT, PH_CFG_RELOAD, offsetof(struct wide, ms), 0, 100, 3600000, "30000", NULL, "a delay"},
    {"big", PH_CFG_DBL, 0, offsetof(struct wide, big), 0, 0.001, 9007199254740991.0, "0.5", NULL, "a ratio"},
    {"path", PH_CFG_STR, 0, offsetof(struct wide, path), sizeof(((struct wide *)0)->path), 0, 0, "", NULL, "a file"},
    {"list", PH_CFG_ARRAY, 0, 0, 0, 0, 0, NULL, NULL, "some things"},
    {"old", PH_CFG_SKIP, 0, 0, 0, 0, 0, NULL, NULL, "array of things"},
    PH_CFG_END,
};

static char *help_of(const struct ph_cfgmap *m) {
  static char text[8192];
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  ph_cfgmap_help(m, "x.", f);
  fclose(f);
  snprintf(text, sizeof text, "%s", buf);
  free(buf);
  return text;
}

Test(cfgmap, help_prints_plain_numbers_arrays_and_the_reload_flag) {
  char *buf = help_of(wide_map);
  cr_assert(strstr(buf, "(100..3600000)"), "%s", buf);
  cr_assert(strstr(buf, "(0.001..9007199254740991)"), "%s", buf);
  cr_assert_null(strstr(buf, "e+"), "exponent in %s", buf);
  cr_assert_null(strstr(buf, "(default )"), "empty default shown: %s", buf);
  cr_assert_null(strstr(buf, "object"), "an array labelled object: %s", buf);
  cr_assert(strstr(buf, "x.list                       array"), "%s", buf);
  cr_assert(strstr(buf, "x.old                        array"), "%s", buf);
  char *ms = strstr(buf, "x.ms"), *nl = ms ? strchr(ms, '\n') : NULL;
  cr_assert(ms && nl);
  *nl = '\0';
  cr_assert(strstr(ms, "[reloadable: SIGHUP]"), "%s", ms);
  cr_assert_null(strstr(nl + 1, "reloadable"), "only ms is reloadable: %s", nl + 1);
}

Test(cfgmap, numbers_as_people_write_them) {
  char b[32];
  ph_cfg_num_text(3.6e6, b, sizeof b);
  cr_assert_str_eq(b, "3600000");
  ph_cfg_num_text(0.75, b, sizeof b);
  cr_assert_str_eq(b, "0.75");
  ph_cfg_num_text(-5, b, sizeof b);
  cr_assert_str_eq(b, "-5");
}

/* ---- SIGHUP: what changed ---- */

Test(cfgmap, diff_names_changed_keys_with_their_reload_flag) {
  struct wide a = {.ms = 1000, .big = 0.5, .path = "a.db"}, b = a;
  static struct ph_cfg_changes ch;
  ph_cfgmap_diff(wide_map, "x.", &a, &b, &ch);
  cr_assert_eq(ch.n, 0, "no change, %d reported", ch.n);
  b.ms = 2000;
  strcpy(b.path, "b.db");
  ph_cfgmap_diff(wide_map, "x.", &a, &b, &ch);
  cr_assert_eq(ch.n, 2);
  cr_assert_str_eq(ch.c[0].key, "x.ms");
  cr_assert(ch.c[0].reloadable);
  cr_assert_str_eq(ch.c[0].from, "1000");
  cr_assert_str_eq(ch.c[0].to, "2000");
  cr_assert_str_eq(ch.c[1].key, "x.path");
  cr_assert_not(ch.c[1].reloadable);
  cr_assert_eq(ph_cfgmap_copy(&wide_map[0], &a, &b), 0);
  cr_assert_eq(a.ms, 2000);
  cr_assert_str_eq(a.path, "a.db", "only the key copied");
  cr_assert_eq(ph_cfgmap_copy(&wide_map[3], &a, &b), PH_EINVAL, "an array is the caller's");
}

/* ---- files the config names ---- */

Test(cfgmap, file_checks_name_missing_folders_and_files) {
  static struct ph_cfg_problems pr;
  char dir[64], file[96];
  snprintf(dir, sizeof dir, "/tmp/ph_cfgmap_%d", (int)getpid());
  snprintf(file, sizeof file, "%s/nope/x.db", dir);
  ph_cfg_check_writable(&pr, "db.path", file);
  cr_assert_eq(pr.n, 1);
  cr_assert(strstr(pr.msg[0], "db.path") && strstr(pr.msg[0], "does not exist"), "%s", pr.msg[0]);
  ph_cfg_check_readable(&pr, "sources[0].path", file);
  cr_assert_eq(pr.n, 2);
  cr_assert(strstr(pr.msg[1], "sources[0].path") && strstr(pr.msg[1], "cannot be read"), "%s", pr.msg[1]);
  cr_assert_eq(mkdir(dir, 0700), 0);
  snprintf(file, sizeof file, "%s/x.db", dir);
  ph_cfg_check_writable(&pr, "db.path", file);
  ph_cfg_check_readable(&pr, "ca", "");
  cr_assert_eq(pr.n, 2, "a writable folder or an empty path is no problem: %s", pr.msg[2]);
  ph_cfg_check_readable(&pr, "ca", dir);
  cr_assert_eq(pr.n, 3);
  cr_assert(strstr(pr.msg[2], "is a folder"), "%s", pr.msg[2]);
  rmdir(dir);
}
