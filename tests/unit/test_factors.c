/* Emission-factor tables (factors.h): the built-in UNEP Toolkit copper
 * table holds the reference values with ND kept apart from 0, every row
 * carries its source and verified: false; the loader refuses what
 * schemas/factors.schema.json refuses (the invalid-*.json examples). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parkhub/factors.h"
#include "parkhub/jsonfile.h"

static struct ph_factors *f;
static void setup(void) {
  struct ph_err err = {0};
  cr_assert_eq(ph_factors_load_builtin(&f, &err), 0, "%s", err.msg);
}
static void teardown(void) { ph_factors_free(f); }
TestSuite(factors, .init = setup, .fini = teardown);

static char *src_path(const char *rel) {
  static char buf[1024];
  snprintf(buf, sizeof buf, "%s/%s", getenv("PH_SOURCE_DIR"), rel);
  return buf;
}

Test(factors, builtin_is_the_toolkit_copper_table) {
  cr_assert_str_eq(ph_factors_table(f), "unep-toolkit-2013-cu");
  cr_assert(strstr(ph_factors_source(f), "2013"), "%s", ph_factors_source(f));
  cr_assert_eq(ph_factors_count(f), 6);
  /* class: air, residue (µg TEQ/t of product); < 0 = ND (reference/dioxin-inventory.md) */
  static const double want[6][2] = {{800, 630}, {50, 630}, {5, 300}, {0.03, -1}, {0.01, -1}, {-1, -1}};
  for (int cls = 1; cls <= 6; cls++) {
    const struct ph_factor_class *c = ph_factors_class(f, cls);
    cr_assert_not_null(c, "class %d", cls);
    cr_assert_eq(c->cls, cls);
    cr_assert_eq(c->basis, PH_BASIS_PRODUCT, "class %d", cls);
    cr_assert_not(c->verified, "class %d: the reference says the values are not verified", cls);
    cr_assert(strlen(c->source) > 10, "class %d has no source", cls);
    cr_assert(strlen(c->name) > 5);
    double ef = -7;
    bool has = ph_factor_get(c, PH_VEC_AIR, &ef);
    cr_assert_eq(has, want[cls - 1][0] >= 0, "class %d air", cls);
    if (has) cr_assert_float_eq(ef, want[cls - 1][0], 1e-12, "class %d air", cls);
    has = ph_factor_get(c, PH_VEC_RESIDUE, &ef);
    cr_assert_eq(has, want[cls - 1][1] >= 0, "class %d residue", cls);
    if (has) cr_assert_float_eq(ef, want[cls - 1][1], 1e-12, "class %d residue", cls);
    /* not in the reference table: ND, not 0 */
    ef = -7;
    cr_assert_not(ph_factor_get(c, PH_VEC_WATER, &ef));
    cr_assert_not(ph_factor_get(c, PH_VEC_LAND, &ef));
    cr_assert_not(ph_factor_get(c, PH_VEC_PRODUCT, &ef));
    cr_assert_eq(ef, -7, "an ND lookup leaves the output alone");
  }
  cr_assert_null(ph_factors_class(f, 7));
  cr_assert_null(ph_factors_class(f, 0));
  cr_assert_null(ph_factors_at(f, 6));
  cr_assert_not(ph_factor_get(NULL, PH_VEC_AIR, &(double){0}));
  cr_assert_str_eq(ph_vector_name(PH_VEC_RESIDUE), "residue");
  cr_assert_str_eq(ph_basis_name(PH_BASIS_FEED), "t of feed");
}

Test(factors, file_on_disk_is_the_builtin_and_the_checked_example) {
  struct ph_factors *g = NULL;
  struct ph_err err = {0};
  cr_assert_eq(ph_factors_load_file(src_path("schemas/factors/unep-toolkit-2013-cu.json"), &g, &err), 0, "%s",
               err.msg);
  cr_assert_eq(ph_factors_count(g), ph_factors_count(f));
  for (size_t i = 0; i < ph_factors_count(f); i++)
    cr_assert_eq(memcmp(ph_factors_at(g, i), ph_factors_at(f, i), sizeof(struct ph_factor_class)), 0, "row %zu", i);
  ph_factors_free(g);
  /* check_schemas.py validates the example copy: it must not drift from the real file */
  char *a, *b;
  size_t na, nb;
  cr_assert_eq(ph_file_read(src_path("schemas/factors/unep-toolkit-2013-cu.json"), 0, &a, &na, &err), 0);
  cr_assert_eq(ph_file_read(src_path("tests/data/schemas/factors/valid-unep-toolkit-2013-cu.json"), 0, &b, &nb, &err),
               0, "%s", err.msg);
  cr_assert(na == nb && memcmp(a, b, na) == 0, "valid-unep-toolkit-2013-cu.json differs from the built-in table");
  free(a);
  free(b);
  /* "" = built-in, as the hub config's factors_file */
  cr_assert_eq(ph_factors_load("", &g, &err), 0);
  cr_assert_str_eq(ph_factors_table(g), "unep-toolkit-2013-cu");
  ph_factors_free(g);
  cr_assert_eq(ph_factors_load("/nonexistent/factors.json", &g, &err), PH_EIO);
  cr_assert_null(g);
  cr_assert(strstr(err.msg, "/nonexistent/factors.json"), "%s", err.msg);
}

Test(factors, another_table_loads_with_feed_basis_and_zero_apart_from_nd) {
  struct ph_factors *g = NULL;
  struct ph_err err = {0};
  cr_assert_eq(ph_factors_load_file(src_path("tests/data/schemas/factors/valid-minimal.json"), &g, &err), 0, "%s",
               err.msg);
  const struct ph_factor_class *c = ph_factors_class(g, 1);
  cr_assert_not_null(c);
  cr_assert_eq(c->basis, PH_BASIS_FEED);
  cr_assert(c->verified);
  double ef = -1;
  cr_assert(ph_factor_get(c, PH_VEC_LAND, &ef), "land 0 is a factor");
  cr_assert_eq(ef, 0);
  cr_assert_not(ph_factor_get(c, PH_VEC_WATER, &ef), "water ND");
  cr_assert(ph_factor_get(c, PH_VEC_AIR, &ef));
  cr_assert_float_eq(ef, 3.5, 1e-12);
  ph_factors_free(g);
}

Test(factors, loader_refuses_every_invalid_example) {
  const char *dir = src_path("tests/data/schemas/factors");
  char d[1024];
  snprintf(d, sizeof d, "%s", dir);
  DIR *dh = opendir(d);
  cr_assert_not_null(dh, "%s", d);
  int n = 0;
  struct dirent *de;
  while ((de = readdir(dh))) {
    if (strncmp(de->d_name, "invalid-", 8) != 0) continue;
    char p[1400];
    snprintf(p, sizeof p, "%s/%s", d, de->d_name);
    struct ph_factors *g = NULL;
    struct ph_err err = {0};
    cr_assert_eq(ph_factors_load_file(p, &g, &err), PH_ECONFIG, "%s: loaded", de->d_name);
    cr_assert_null(g);
    cr_assert(strstr(err.msg, de->d_name), "%s: %s", de->d_name, err.msg);
    n++;
  }
  closedir(dh);
  cr_assert_geq(n, 8);
}

static int load(const char *json, struct ph_err *err) {
  struct ph_factors *g = NULL;
  int rc = ph_factors_load_json(json, strlen(json), "t.json", &g, err);
  ph_factors_free(g);
  return rc;
}

#define HEAD "{\"table\":\"t\",\"title\":\"T\",\"source\":\"s\",\"unit\":\"µg TEQ/t\",\"classes\":["
#define ROW(c, air) \
  "{\"class\":" #c ",\"name\":\"n\",\"basis\":\"t of product\",\"air\":" air ",\"residue\":\"ND\",\"source\":\"s\",\"verified\":false}"

Test(factors, bad_tables_are_explained) {
  struct ph_err err = {0};
  cr_assert_eq(load(HEAD ROW(1, "1") "]}", &err), 0, "%s", err.msg);
  cr_assert_eq(load(HEAD ROW(1, "1") "," ROW(1, "2") "]}", &err), PH_ECONFIG);
  cr_assert(strstr(err.msg, "classes[1].class") && strstr(err.msg, "twice"), "%s", err.msg);
  cr_assert_eq(load(HEAD ROW(1, "\"nd\"") "]}", &err), PH_ECONFIG);
  cr_assert(strstr(err.msg, "classes[0].air"), "%s", err.msg);
  cr_assert_eq(load(HEAD ROW(1, "-0.5") "]}", &err), PH_ECONFIG);
  cr_assert_eq(load(HEAD ROW(0, "1") "]}", &err), PH_ECONFIG);
  cr_assert(strstr(err.msg, "class"), "%s", err.msg);
  cr_assert_eq(load(HEAD "]}", &err), PH_ECONFIG);
  cr_assert_eq(load("{\"table\":\"t\",\"title\":\"T\",\"source\":\"s\",\"unit\":\"ng TEQ/t\",\"classes\":[" ROW(1, "1") "]}", &err),
               PH_ECONFIG);
  cr_assert(strstr(err.msg, "unit"), "%s", err.msg);
  cr_assert_eq(load("[1]", &err), PH_ECONFIG);
  cr_assert_eq(load("{", &err), PH_EJSON);
}
