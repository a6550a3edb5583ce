#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/catalog.h"

static struct ph_catalog *cat;
static void setup(void) {
  struct ph_err err = {0};
  cr_assert_eq(ph_catalog_load_builtin(&cat, &err), 0, "%s", err.msg);
}
static void teardown(void) { ph_catalog_free(cat); }

TestSuite(catalog, .init = setup, .fini = teardown);

Test(catalog, builtin_holds_the_smelter_metrics) {
  const char *codes[] = {"pm", "so2", "nox", "hcl", "hf", "pb", "cu", "cd", "as", "co", "o2", "flow", "temp",
                         "moisture", "pcdd_f", "furnace_temp", "quench_out_temp", "aci_rate", "baghouse_dp",
                         "afterburner_temp", "afterburner_residence", "production_rate", "electricity",
                         "fuel_gas", "water", "scrap_cu_2", "cathode_cu", "slag"};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
    cr_assert_geq(ph_catalog_find(cat, codes[i], strlen(codes[i])), 0, "%s missing", codes[i]);
  const struct ph_metric *so2 = ph_catalog_at(cat, (size_t)ph_catalog_find(cat, "so2", 3));
  cr_assert_eq(so2->kind, PH_KIND_EMISSION);
  cr_assert_str_eq(so2->hj212, "a21026");
  cr_assert_str_eq(so2->unit, "mg/Nm3");
  cr_assert_eq(so2->agg, PH_AGG_MEAN);
  const struct ph_metric *d = ph_catalog_at(cat, (size_t)ph_catalog_find(cat, "pcdd_f", 6));
  cr_assert_str_eq(d->unit, "ng TEQ/Nm3");
  cr_assert_eq(ph_catalog_at(cat, (size_t)ph_catalog_find(cat, "electricity", 11))->agg, PH_AGG_SUM);
}

Test(catalog, lookup_is_exact) {
  cr_assert_eq(ph_catalog_find(cat, "so", 2), -1, "a prefix is not a code");
  cr_assert_eq(ph_catalog_find(cat, "so2x", 4), -1);
  cr_assert_eq(ph_catalog_find(cat, "SO2", 3), -1, "codes are case-sensitive");
  cr_assert_eq(ph_catalog_find(cat, "", 0), -1);
  cr_assert_geq(ph_catalog_find(cat, "so2 trailing", 3), 0, "length-delimited lookup");
  cr_assert_eq(ph_catalog_find_hj212(cat, "a21026"), ph_catalog_find(cat, "so2", 3));
  cr_assert_eq(ph_catalog_find_hj212(cat, ""), -1);
  for (size_t i = 0; i < ph_catalog_count(cat); i++) {
    const struct ph_metric *m = ph_catalog_at(cat, i);
    cr_assert_eq(ph_catalog_find(cat, m->code, strlen(m->code)), (int)i, "%s", m->code);
  }
  cr_assert_null(ph_catalog_at(cat, ph_catalog_count(cat)));
}

static int load(const char *json, struct ph_err *err) {
  struct ph_catalog *c = NULL;
  int rc = ph_catalog_load_json(json, strlen(json), "test.json", &c, err);
  ph_catalog_free(c);
  return rc;
}

Test(catalog, bad_files_are_explained) {
  struct ph_err err = {0};
  cr_assert_eq(load("{", &err), PH_EJSON);
  cr_assert(strstr(err.msg, "test.json"), "%s", err.msg);
  cr_assert_eq(load("{\"metrics\":[]}", &err), PH_ECONFIG);
  cr_assert_eq(load("{\"metrics\":[{\"code\":\"X\",\"kind\":\"process\",\"unit\":\"u\",\"agg\":\"mean\",\"min\":0,\"max\":1}]}", &err), PH_ECONFIG);
  cr_assert(strstr(err.msg, "metrics[0].code"), "%s", err.msg);
  cr_assert_eq(load("{\"metrics\":[{\"code\":\"x\",\"kind\":\"gas\",\"unit\":\"u\",\"agg\":\"mean\",\"min\":0,\"max\":1}]}", &err), PH_ECONFIG);
  cr_assert(strstr(err.msg, "kind"), "%s", err.msg);
  cr_assert_eq(load("{\"metrics\":[{\"code\":\"x\",\"kind\":\"process\",\"unit\":\"u\",\"agg\":\"mean\",\"min\":2,\"max\":1}]}", &err), PH_ECONFIG);
  cr_assert_eq(load("{\"metrics\":[{\"code\":\"x\",\"kind\":\"process\",\"unit\":\"u\",\"agg\":\"mean\",\"min\":0,\"max\":1},"
                    "{\"code\":\"x\",\"kind\":\"process\",\"unit\":\"u\",\"agg\":\"sum\",\"min\":0,\"max\":1}]}", &err), PH_ECONFIG);
  cr_assert(strstr(err.msg, "twice"), "%s", err.msg);
}

Test(catalog, file_on_disk_matches_builtin) {
  char path[512];
  snprintf(path, sizeof path, "%s/schemas/metrics.json", getenv("PH_SOURCE_DIR"));
  struct ph_catalog *c = NULL;
  struct ph_err err = {0};
  cr_assert_eq(ph_catalog_load_file(path, &c, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_catalog_count(c), ph_catalog_count(cat));
  ph_catalog_free(c);
  cr_assert_eq(ph_catalog_load_file("/nonexistent/metrics.json", &c, &err), PH_EIO);
  cr_assert(strstr(err.msg, "/nonexistent/metrics.json"), "%s", err.msg);
}
