/* A park's material registry (materials.h): the built-in catalogue as
 * defaults, the park's `materials` array over it, everything else
 * unclassified; the loader's refusals name the JSON path. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parkhub/catalog.h"
#include "config/hub_config.h"
#include "config/materials.h"

static struct ph_catalog *cat;
static struct ph_materials reg;

static void setup(void) {
  struct ph_err err = {0};
  cr_assert_eq(ph_catalog_load_builtin(&cat, &err), 0, "%s", err.msg);
  memset(&reg, 0, sizeof reg);
}
static void teardown(void) {
  ph_materials_fini(&reg);
  ph_catalog_free(cat);
}
TestSuite(materials, .init = setup, .fini = teardown);

static int load(const char *json, struct ph_err *err) {
  cJSON *a = cJSON_Parse(json);
  cr_assert_not_null(a, "test JSON: %s", json);
  ph_materials_fini(&reg);
  int rc = ph_materials_load(a, "parks[0].materials", cat, &reg, err);
  cJSON_Delete(a);
  return rc;
}

Test(materials, catalogue_defaults_and_unclassified) {
  struct ph_material m;
  /* no declaration: the catalogue's material, its name and Cu content */
  cr_assert_eq(ph_material_lookup(NULL, cat, "scrap_cu_2", &m), PH_MAT_CATALOGUE);
  cr_assert_eq(m.role, PH_ROLE_FEED);
  cr_assert_float_eq(ph_material_metal(&m, "cu"), 0.95, 1e-15);
  cr_assert_float_eq(ph_material_metal(&m, "zn"), 0, 0);
  cr_assert_str_eq(ph_material_name(&m), "No. 2 copper scrap (94-96 % Cu)");
  cr_assert_eq(ph_material_role(&reg, cat, "cathode_cu"), PH_ROLE_PRODUCT);
  cr_assert_eq(ph_material_role(&reg, cat, "slag"), PH_ROLE_RESIDUE);
  /* inv. 3: any other code has an answer: unclassified, no metal, named by its code */
  cr_assert_eq(ph_material_lookup(&reg, cat, "scrap_al", &m), PH_MAT_UNCLASSIFIED);
  cr_assert_eq(m.role, PH_ROLE_UNCLASSIFIED);
  cr_assert_eq(m.nmetals, 0);
  cr_assert_str_eq(m.code, "scrap_al");
  cr_assert_str_eq(ph_material_name(&m), "scrap_al");
  cr_assert_str_eq(ph_role_name(m.role), "unclassified");
  /* a catalogue metric of another kind is no material either */
  cr_assert_eq(ph_material_role(&reg, cat, "so2"), PH_ROLE_UNCLASSIFIED);
  /* no catalogue at all: everything undeclared is unclassified */
  cr_assert_eq(ph_material_role(NULL, NULL, "slag"), PH_ROLE_UNCLASSIFIED);
}

Test(materials, the_parks_declarations_override_and_extend) {
  struct ph_err err = {0};
  cr_assert_eq(load("[{\"code\":\"scrap_cu_2\",\"name_zh\":\"二号铜\",\"role\":\"feed\",\"metals\":{\"cu\":0.93}},"
                    " {\"code\":\"slag\",\"name_en\":\"Slag sold to cement works\",\"role\":\"product\"},"
                    " {\"code\":\"brass_turnings\",\"name_zh\":\"黄铜屑\",\"role\":\"feed\","
                    "  \"metals\":{\"cu\":0.62,\"zn\":0.35,\"pb\":0.02}},"
                    " {\"code\":\"coke\",\"role\":\"energy\"}, {\"code\":\"well_water\",\"role\":\"water\"}]",
                    &err),
               0, "%s", err.msg);
  cr_assert_eq(reg.n, 5);
  for (int i = 1; i < reg.n; i++) cr_assert(strcmp(reg.v[i - 1].code, reg.v[i].code) < 0, "sorted by code");
  struct ph_material m;
  /* a catalogue code redeclared: its metals replace the default, the catalogue's name stays as name_en */
  cr_assert_eq(ph_material_lookup(&reg, cat, "scrap_cu_2", &m), PH_MAT_PARK);
  cr_assert_float_eq(ph_material_metal(&m, "cu"), 0.93, 1e-15);
  cr_assert_str_eq(m.name_zh, "二号铜");
  cr_assert_str_eq(m.name_en, "No. 2 copper scrap (94-96 % Cu)");
  /* a role changed by the park; metals left out keep the catalogue's Cu (0.01) */
  cr_assert_eq(ph_material_lookup(&reg, cat, "slag", &m), PH_MAT_PARK);
  cr_assert_eq(m.role, PH_ROLE_PRODUCT);
  cr_assert_float_eq(ph_material_metal(&m, "cu"), 0.01, 1e-15);
  cr_assert_str_eq(ph_material_name(&m), "Slag sold to cement works");
  /* a code of the park's own */
  cr_assert_eq(ph_material_lookup(&reg, cat, "brass_turnings", &m), PH_MAT_PARK);
  cr_assert_eq(m.role, PH_ROLE_FEED);
  cr_assert_eq(m.nmetals, 3);
  cr_assert_float_eq(ph_material_metal(&m, "zn"), 0.35, 1e-15);
  cr_assert_str_eq(ph_material_name(&m), "黄铜屑", "no English name: the Chinese one");
  cr_assert_eq(ph_material_role(&reg, cat, "coke"), PH_ROLE_ENERGY);
  cr_assert_eq(ph_material_role(&reg, cat, "well_water"), PH_ROLE_WATER);
  cr_assert_eq(ph_material_lookup(&reg, cat, "coke", &m), PH_MAT_PARK);
  cr_assert_eq(m.nmetals, 0, "a code of the park's own without metals carries none");
  /* the rest of the catalogue is still there, the rest of the world still unclassified */
  cr_assert_eq(ph_material_role(&reg, cat, "cathode_cu"), PH_ROLE_PRODUCT);
  cr_assert_eq(ph_material_role(&reg, cat, "scrap_al"), PH_ROLE_UNCLASSIFIED);
  cr_assert_null(ph_materials_declared(&reg, "cathode_cu"));
  cr_assert_not_null(ph_materials_declared(&reg, "coke"));
}

static void refused(const char *json, const char *needle) {
  struct ph_err err = {0};
  cr_assert_eq(load(json, &err), PH_ECONFIG, "%s accepted", json);
  cr_assert(strstr(err.msg, needle), "'%s' lacks '%s'", err.msg, needle);
  cr_assert_eq(reg.n, 0, "nothing kept of a refused array");
  cr_assert_null(reg.v);
}

Test(materials, refusals_name_the_json_path) {
  refused("{}", "parks[0].materials: must be an array");
  refused("[{\"role\":\"feed\"}]", "parks[0].materials[0].code: required");
  refused("[{\"code\":\"x\"}]", "parks[0].materials[0].role: required");
  refused("[{\"code\":\"x\",\"role\":\"unclassified\"}]", "materials[0].role: 'unclassified' is not one of");
  refused("[{\"code\":\"X\",\"role\":\"feed\"}]", "materials[0].code: 'X' is not an id");
  /* inv. 1 */
  refused("[{\"code\":\"x\",\"role\":\"feed\"},{\"code\":\"x\",\"role\":\"residue\"}]",
          "parks[0].materials[1].code: 'x' is already declared at parks[0].materials[0]");
  refused("[{\"code\":\"so2\",\"role\":\"feed\"}]", "materials[0].code: 'so2' is an emission metric of the catalogue");
  refused("[{\"code\":\"electricity\",\"role\":\"energy\"}]", "'electricity' is a process metric");
  /* inv. 2 */
  refused("[{\"code\":\"x\",\"role\":\"feed\",\"metals\":{\"cu\":95}}]", "materials[0].metals.cu: must be a mass fraction");
  refused("[{\"code\":\"x\",\"role\":\"feed\",\"metals\":{\"cu\":-0.1}}]", "metals.cu: must be a mass fraction");
  refused("[{\"code\":\"x\",\"role\":\"feed\",\"metals\":{\"cu\":\"0.9\"}}]", "metals.cu: must be a mass fraction");
  refused("[{\"code\":\"x\",\"role\":\"feed\",\"metals\":{\"cu\":0.7,\"zn\":0.4}}]",
          "materials[0].metals: the fractions add up to 1.1, more than 1");
  refused("[{\"code\":\"x\",\"role\":\"feed\",\"metals\":{\"Cu\":0.7}}]", "metals.Cu: not a metal symbol");
  refused("[{\"code\":\"x\",\"role\":\"feed\",\"metals\":{\"cu\":0.1,\"cu\":0.2}}]", "metals.cu: appears twice");
  refused("[{\"code\":\"x\",\"role\":\"feed\",\"metals\":[0.9]}]", "materials[0].metals: must be an object");
  refused("[{\"code\":\"x\",\"role\":\"feed\",\"metals\":{\"a\":0,\"b\":0,\"c\":0,\"d\":0,\"e\":0,\"f\":0,\"g\":0,\"h\":0,"
          "\"i\":0}}]",
          "more than 8 metals");
  refused("[{\"code\":\"x\",\"role\":\"feed\",\"cu_fraction\":0.9}]", "materials[0].cu_fraction: unknown key");
  refused("[{\"code\":\"x\",\"role\":\"feed\",\"name_zh\":\"\"}]", "materials[0].name_zh: must not be empty");
  char big[4096] = "[{\"code\":\"x\",\"role\":\"feed\",\"name_zh\":\"";
  for (int i = 0; i < 64; i++) strcat(big, "铜");
  strcat(big, "\"}]");
  refused(big, "materials[0].name_zh: longer than 63 characters");
  /* the upper bound of the array */
  char *many = malloc(PH_MAT_MAX * 40 + 64);
  strcpy(many, "[");
  for (int i = 0; i <= PH_MAT_MAX; i++)
    sprintf(many + strlen(many), "%s{\"code\":\"m%d\",\"role\":\"feed\"}", i ? "," : "", i);
  strcat(many, "]");
  refused(many, "at most 256 materials");
  free(many);
}

Test(materials, metal_symbols_and_assay_paths) {
  char p[16];
  cr_assert(ph_metal_valid("cu"));
  cr_assert(ph_metal_valid("s"));
  cr_assert_not(ph_metal_valid("cuu"));
  cr_assert_not(ph_metal_valid("Cu"));
  cr_assert_not(ph_metal_valid(""));
  cr_assert(ph_assay_path("cu", p, sizeof p));
  cr_assert_str_eq(p, "$.cu_pct");
  cr_assert_not(ph_assay_path("cu'", p, sizeof p), "nothing but a symbol reaches SQL");
  cr_assert_not(ph_assay_path("zn", p, 4), "short buffer");
}

/* Through the hub configuration: parks[].materials, the file's name and the path in the message. */
Test(materials, hub_config_loads_each_parks_materials) {
  char path[] = "/tmp/ph_mat_cfgXXXXXX";
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs("{\"hub_id\":\"h\",\"mqtt\":{\"uris\":[\"tcp://127.0.0.1:1\"]},\"db\":{\"path\":\"x.db\"},\"parks\":["
        "{\"id\":\"p1\",\"materials\":[{\"code\":\"brass_turnings\",\"role\":\"feed\",\"metals\":{\"cu\":0.62}}],"
        " \"enterprises\":[{\"id\":\"e1\",\"sector\":\"cu\",\"class\":\"new\",\"agents\":[\"a\"]}]},"
        "{\"id\":\"p2\",\"enterprises\":[{\"id\":\"e1\",\"sector\":\"cu\",\"class\":\"new\",\"agents\":[\"a\"]}]}]}",
        f);
  fclose(f);
  struct ph_hub_config cfg;
  struct ph_err err = {0};
  cr_assert_eq(ph_hub_config_load(path, &cfg, &err), 0, "%s", err.msg);
  const struct ph_hub_park *p1 = ph_hub_config_park(&cfg, "p1"), *p2 = ph_hub_config_park(&cfg, "p2");
  cr_assert_eq(ph_material_role(&p1->materials, cat, "brass_turnings"), PH_ROLE_FEED);
  cr_assert_eq(ph_material_role(&p2->materials, cat, "brass_turnings"), PH_ROLE_UNCLASSIFIED, "per park");
  cr_assert_eq(ph_material_role(&p2->materials, cat, "scrap_cu_1"), PH_ROLE_FEED);
  ph_hub_config_fini(&cfg);
  cr_assert_eq(cfg.nparks, 0);

  f = fopen(path, "w");
  fputs("{\"hub_id\":\"h\",\"mqtt\":{\"uris\":[\"tcp://127.0.0.1:1\"]},\"db\":{\"path\":\"x.db\"},\"parks\":["
        "{\"id\":\"p1\",\"materials\":[{\"code\":\"ok\",\"role\":\"feed\"},{\"code\":\"fuel_gas\",\"role\":\"energy\"}],"
        " \"enterprises\":[{\"id\":\"e1\",\"sector\":\"cu\",\"class\":\"new\",\"agents\":[\"a\"]}]}]}",
        f);
  fclose(f);
  cr_assert_eq(ph_hub_config_load(path, &cfg, &err), PH_ECONFIG);
  cr_assert(strstr(err.msg, path) && strstr(err.msg, "parks[0].materials[1].code: 'fuel_gas' is a process metric"),
            "%s", err.msg);
  ph_hub_config_fini(&cfg);
  unlink(path);
}
