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

Test(catalog, materials_carry_role_and_copper_content) {
  /* the brief's typical copper contents (metrics.json notes they are editable) */
  static const struct {
    const char *code;
    enum ph_role role;
    double cu;
  } want[] = {{"scrap_cu_1", PH_ROLE_FEED, 0.99},       {"scrap_cu_2", PH_ROLE_FEED, 0.95},
              {"scrap_cu_mixed", PH_ROLE_FEED, 0.80},   {"scrap_cu_ewaste", PH_ROLE_FEED, 0.20},
              {"blister_cu", PH_ROLE_PRODUCT, 0.985},   {"anode_cu", PH_ROLE_PRODUCT, 0.995},
              {"cathode_cu", PH_ROLE_PRODUCT, 0.9999},  {"cu_alloy", PH_ROLE_PRODUCT, 0.65},
              {"slag", PH_ROLE_RESIDUE, 0.01},          {"flue_dust", PH_ROLE_RESIDUE, 0.05},
              {"activated_carbon", PH_ROLE_CONSUMABLE, 0}, {"lime", PH_ROLE_CONSUMABLE, 0}};
  size_t nmat = 0;
  for (size_t i = 0; i < ph_catalog_count(cat); i++) {
    const struct ph_metric *m = ph_catalog_at(cat, i);
    if (m->kind == PH_KIND_MATERIAL) {
      nmat++;
      cr_assert_neq(m->role, PH_ROLE_NONE, "%s has no role", m->code);
    } else {
      cr_assert_eq(m->role, PH_ROLE_NONE, "%s", m->code);
      cr_assert_eq(m->cu_fraction, 0, "%s", m->code);
    }
  }
  cr_assert_eq(nmat, sizeof want / sizeof want[0], "every material metric is listed here");
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    int k = ph_catalog_find(cat, want[i].code, strlen(want[i].code));
    cr_assert_geq(k, 0, "%s", want[i].code);
    const struct ph_metric *m = ph_catalog_at(cat, (size_t)k);
    cr_assert_eq(m->role, want[i].role, "%s: role %s", m->code, ph_role_name(m->role));
    cr_assert_float_eq(m->cu_fraction, want[i].cu, 1e-12, "%s", m->code);
  }
}

Test(catalog, role_names_round_trip) {
  for (int r = PH_ROLE_FEED; r < PH_ROLE_UNCLASSIFIED; r++) {
    enum ph_role got = PH_ROLE_NONE;
    cr_assert_eq(ph_role_parse(ph_role_name((enum ph_role)r), &got), 0);
    cr_assert_eq(got, (enum ph_role)r);
  }
  enum ph_role got;
  cr_assert_eq(ph_role_parse("", &got), PH_EENUM);
  cr_assert_eq(ph_role_parse("Feed", &got), PH_EENUM);
  /* the registry's verdict on an undeclared code, never a declared role */
  cr_assert_str_eq(ph_role_name(PH_ROLE_UNCLASSIFIED), "unclassified");
  cr_assert_eq(ph_role_parse("unclassified", &got), PH_EENUM);
  cr_assert_str_eq(ph_role_name(PH_ROLE_ENERGY), "energy");
  cr_assert_str_eq(ph_role_name(PH_ROLE_WATER), "water");
  cr_assert_str_eq(ph_role_name(PH_ROLE_NONE), "");
}

#define MAT(extra) "{\"metrics\":[{\"code\":\"slag\",\"kind\":\"material\",\"unit\":\"t\",\"agg\":\"sum\",\"min\":0,\"max\":1" extra "}]}"
#define PROC(extra) "{\"metrics\":[{\"code\":\"water\",\"kind\":\"process\",\"unit\":\"m3\",\"agg\":\"sum\",\"min\":0,\"max\":1" extra "}]}"

Test(catalog, role_and_cu_fraction_required_for_materials_only) {
  struct ph_err err = {0};
  cr_assert_eq(load(MAT(",\"role\":\"residue\",\"cu_fraction\":0.01"), &err), 0, "%s", err.msg);
  cr_assert_eq(load(MAT(",\"cu_fraction\":0.01"), &err), PH_ECONFIG);
  cr_assert(strstr(err.msg, "metrics[0].role: required"), "%s", err.msg);
  cr_assert_eq(load(MAT(",\"role\":\"residue\""), &err), PH_ECONFIG);
  cr_assert(strstr(err.msg, "metrics[0].cu_fraction: required"), "%s", err.msg);
  cr_assert_eq(load(MAT(",\"role\":\"scrap\",\"cu_fraction\":0.01"), &err), PH_ECONFIG);
  cr_assert(strstr(err.msg, "'scrap'"), "%s", err.msg);
  cr_assert_eq(load(MAT(",\"role\":\"feed\",\"cu_fraction\":1.5"), &err), PH_ECONFIG);
  cr_assert(strstr(err.msg, "0..1"), "%s", err.msg);
  cr_assert_eq(load(MAT(",\"role\":\"feed\",\"cu_fraction\":-0.1"), &err), PH_ECONFIG);
  cr_assert_eq(load(MAT(",\"role\":\"feed\",\"cu_fraction\":\"0.9\""), &err), PH_ECONFIG);
  cr_assert_eq(load(MAT(",\"role\":7,\"cu_fraction\":0.9"), &err), PH_ECONFIG);
  /* optional elsewhere, but checked when given */
  cr_assert_eq(load(PROC(""), &err), 0, "%s", err.msg);
  cr_assert_eq(load(PROC(",\"role\":\"consumable\",\"cu_fraction\":0"), &err), 0, "%s", err.msg);
  cr_assert_eq(load(PROC(",\"cu_fraction\":2"), &err), PH_ECONFIG);
  cr_assert_eq(load(PROC(",\"role\":\"waste\""), &err), PH_ECONFIG);
  cr_assert_eq(load(PROC(",\"role\":\"unclassified\""), &err), PH_ECONFIG, "the registry's verdict, not a role");
  cr_assert(strstr(err.msg, "feed|product|residue|consumable|energy|water"), "%s", err.msg);
  cr_assert_eq(load(MAT(",\"role\":\"energy\",\"cu_fraction\":0"), &err), 0, "%s", err.msg);
  /* the loader reads what it was given */
  struct ph_catalog *c = NULL;
  const char *j = MAT(",\"role\":\"feed\",\"cu_fraction\":0.42,\"note\":\"assay 2025\"");
  cr_assert_eq(ph_catalog_load_json(j, strlen(j), "t", &c, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_catalog_at(c, 0)->role, PH_ROLE_FEED);
  cr_assert_float_eq(ph_catalog_at(c, 0)->cu_fraction, 0.42, 1e-15);
  ph_catalog_free(c);
}

/* Chinese names are what the Chinese users read: every built-in metric has
 * one, and the pollutants carry the standard's terms (GB 31574-2015 Table 3,
 * HJ 212-2017), written out here rather than read back. */
Test(catalog, every_builtin_metric_has_its_chinese_name) {
  struct ph_catalog *c = NULL;
  struct ph_err err = {0};
  cr_assert_eq(ph_catalog_load_builtin(&c, &err), 0, "%s", err.msg);
  for (size_t i = 0; i < ph_catalog_count(c); i++)
    cr_assert(ph_catalog_at(c, i)->name_zh[0] != '\0', "%s has no name_zh", ph_catalog_at(c, i)->code);
  static const struct {
    const char *code, *zh;
  } want[] = {{"so2", "二氧化硫"}, {"pm", "颗粒物"}, {"nox", "氮氧化物"}, {"pcdd_f", "二噁英类"},
              {"h2so4", "硫酸雾"}, {"pb", "铅及其化合物"}, {"w_cod", "化学需氧量"}, {"w_nh3n", "氨氮"}};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    int k = ph_catalog_find(c, want[i].code, strlen(want[i].code));
    cr_assert_geq(k, 0, "%s missing", want[i].code);
    cr_assert_str_eq(ph_catalog_at(c, (size_t)k)->name_zh, want[i].zh);
  }
  ph_catalog_free(c);
}
