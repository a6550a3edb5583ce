#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stddef.h>
#include <string.h>

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
  cr_assert(strstr(buf, "[1..100]"), "%s", buf);
  cr_assert(strstr(buf, "(default 10)"), "%s", buf);
  cr_assert(strstr(buf, "(required)"), "%s", buf);
  cr_assert(strstr(buf, "stop|drop_oldest"), "%s", buf);
  free(buf);
}
