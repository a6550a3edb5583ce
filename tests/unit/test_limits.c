#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parkhub/limits.h"
#include "parkhub/timefmt.h"

static struct ph_limits *gb;
static void setup(void) {
  struct ph_err err = {0};
  cr_assert_eq(ph_limits_load_builtin(&gb, &err), 0, "%s", err.msg);
}
static void teardown(void) { ph_limits_free(gb); }
TestSuite(limits, .init = setup, .fini = teardown);

static long day(int y, unsigned m, unsigned d) { return (long)ph_days_from_civil(y, m, d); }

static double lim(const char *metric, enum ph_sector s, enum ph_plant_class c, bool special, long d) {
  double v = -1;
  int rc = ph_limits_stack(gb, metric, s, c, special, d, &v);
  return rc ? -1 : v;
}

/* Table 3 / Table 4 of GB 31574-2015 (shared/reference/gb31574-2015.md). */
Test(limits, table3_and_table4_values_for_copper) {
  long d = day(2026, 11, 23);
  cr_assert_eq(lim("so2", PH_SECTOR_CU, PH_CLASS_EXISTING, false, d), 150);
  cr_assert_eq(lim("so2", PH_SECTOR_CU, PH_CLASS_EXISTING, true, d), 100, "Table 4 special limit");
  cr_assert_eq(lim("pm", PH_SECTOR_CU, PH_CLASS_NEW, false, d), 30);
  cr_assert_eq(lim("pm", PH_SECTOR_CU, PH_CLASS_NEW, true, d), 10);
  cr_assert_eq(lim("nox", PH_SECTOR_CU, PH_CLASS_NEW, false, d), 200);
  cr_assert_eq(lim("pcdd_f", PH_SECTOR_CU, PH_CLASS_EXISTING, false, d), 0.5);
  cr_assert_eq(lim("pb", PH_SECTOR_CU, PH_CLASS_EXISTING, false, d), 2);
  cr_assert_eq(lim("pb", PH_SECTOR_AL, PH_CLASS_EXISTING, false, d), 1);
  cr_assert_eq(lim("cd", PH_SECTOR_ZN, PH_CLASS_EXISTING, false, d), 0.05);
}

Test(limits, sector_applicability) {
  long d = day(2026, 1, 1);
  cr_assert_eq(lim("hcl", PH_SECTOR_CU, PH_CLASS_EXISTING, false, d), -1, "HCl applies to Al only");
  cr_assert_eq(lim("hcl", PH_SECTOR_AL, PH_CLASS_EXISTING, false, d), 30);
  cr_assert_eq(lim("h2so4", PH_SECTOR_AL, PH_CLASS_EXISTING, false, d), -1, "H2SO4 mist: Cu, Pb, Zn");
  cr_assert_eq(lim("h2so4", PH_SECTOR_CU, PH_CLASS_EXISTING, false, d), 20);
  cr_assert_eq(lim("sb", PH_SECTOR_ZN, PH_CLASS_EXISTING, false, d), -1, "Sb: Pb, Cu");
  cr_assert_eq(lim("cu", PH_SECTOR_CU, PH_CLASS_EXISTING, false, d), -1, "no Cu-in-air limit is set");
}

/* New enterprises from 2015-07-01, existing ones from 2017-01-01: the day
 * before the change has no limit under this standard, the day of it has. */
Test(limits, dates_of_application_by_class) {
  cr_assert_eq(lim("so2", PH_SECTOR_CU, PH_CLASS_NEW, false, day(2015, 6, 30)), -1);
  cr_assert_eq(lim("so2", PH_SECTOR_CU, PH_CLASS_NEW, false, day(2015, 7, 1)), 150);
  cr_assert_eq(lim("so2", PH_SECTOR_CU, PH_CLASS_EXISTING, false, day(2016, 12, 31)), -1);
  cr_assert_eq(lim("so2", PH_SECTOR_CU, PH_CLASS_EXISTING, false, day(2017, 1, 1)), 150);
  cr_assert_eq(ph_limits_benchmark(gb), 10000);
  cr_assert_str_eq(ph_limits_standard(gb), "gb31574-2015");
}

Test(limits, another_standard_is_another_file) {
  const char *doc = "{\"standard\":\"local-2024\",\"title\":\"t\",\"applies_from\":{\"new\":\"2024-01-01\",\"existing\":\"2025-01-01\"},"
                    "\"pollutants\":[{\"metric\":\"so2\",\"unit\":\"mg/Nm3\",\"limit\":{\"cu\":50}}]}";
  struct ph_limits *l;
  struct ph_err err = {0};
  cr_assert_eq(ph_limits_load_json(doc, strlen(doc), "local.json", &l, &err), 0, "%s", err.msg);
  double v;
  cr_assert_eq(ph_limits_stack(l, "so2", PH_SECTOR_CU, PH_CLASS_NEW, true, day(2024, 6, 1), &v), 0);
  cr_assert_eq(v, 50, "no special limit given: the normal one applies");
  cr_assert_eq(ph_limits_benchmark(l), 0);
  ph_limits_free(l);
}

Test(limits, bad_files_are_explained) {
  struct ph_limits *l;
  struct ph_err err = {0};
  const char *bad[] = {
      "{\"standard\":\"x\",\"title\":\"t\",\"applies_from\":{\"new\":\"2024-13-01\",\"existing\":\"2025-01-01\"},\"pollutants\":[]}",
      "{\"standard\":\"x\",\"title\":\"t\",\"applies_from\":{\"new\":\"2024-01-01\",\"existing\":\"2025-01-01\"},\"pollutants\":[{\"metric\":\"so2\",\"limit\":{\"fe\":1}}]}",
      "{\"standard\":\"x\",\"title\":\"t\",\"applies_from\":{\"new\":\"2024-01-01\",\"existing\":\"2025-01-01\"},\"pollutants\":[{\"metric\":\"so2\",\"limit\":{\"cu\":-1}}]}",
      "{\"standard\":\"x\",\"title\":\"t\",\"applies_from\":{\"new\":\"2024-01-01\",\"existing\":\"2025-01-01\"},\"pollutants\":[{\"metric\":\"so2\"}]}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_assert_eq(ph_limits_load_json(bad[i], strlen(bad[i]), "bad.json", &l, &err), PH_ECONFIG, "%zu accepted", i);
    cr_assert(strstr(err.msg, "bad.json"), "%s", err.msg);
  }
}

/* Water (issue #20): the built-in GB 31574-2015 lists the catalogue's water
 * pollutants with no verified value, so no water limit is ever returned and
 * the reason says so. */
Test(limits, builtin_water_is_listed_but_unverified) {
  cr_assert_geq(ph_limits_water_count(gb), 16);
  bool cod = false;
  for (size_t i = 0; i < ph_limits_water_count(gb); i++) {
    cr_assert_not(ph_limits_water_verified(gb, i), "%s must not be verified", ph_limits_water_metric(gb, i));
    if (strcmp(ph_limits_water_metric(gb, i), "w_cod") == 0) cod = true;
  }
  cr_assert(cod);
  double lo = 0, hi = 0;
  const char *why = NULL;
  cr_assert_eq(ph_limits_water(gb, "w_cod", PH_SECTOR_CU, PH_CLASS_NEW, false, false, day(2025, 1, 1), &lo, &hi, &why),
               PH_ENOTFOUND);
  cr_assert_str_eq(why, "no verified limit");
  cr_assert_eq(ph_limits_water(gb, "w_ph", PH_SECTOR_CU, PH_CLASS_EXISTING, true, true, day(2025, 1, 1), &lo, &hi, &why),
               PH_ENOTFOUND);
  cr_assert_str_eq(why, "no verified limit");
  cr_assert_eq(ph_limits_water(gb, "so2", PH_SECTOR_CU, PH_CLASS_NEW, false, false, day(2025, 1, 1), &lo, &hi, &why),
               PH_ENOTFOUND);
  cr_assert_str_eq(why, "no limit", "an air pollutant has no water limit");
  cr_assert_eq(ph_limits_water_benchmark(gb), 0, "benchmark drainage volume unverified: none");
}

/* The test fixture (tests/data/schemas/limits/valid-water.json, not a real
 * standard): columns by class, discharge and special; a range; an
 * unverified entry. */
Test(limits, water_columns_ranges_and_unverified) {
  struct ph_limits *l;
  struct ph_err err = {0};
  const char *src = getenv("PH_SOURCE_DIR");
  char path[1024];
  cr_assert(src, "PH_SOURCE_DIR (set by ctest)");
  snprintf(path, sizeof path, "%s/tests/data/schemas/limits/valid-water.json", src);
  cr_assert_eq(ph_limits_load_file(path, &l, &err), 0, "%s", err.msg);
  double lo = 0, hi = 0;
  const char *why = "x";
  long d = day(2020, 1, 1);
  cr_assert_eq(ph_limits_water(l, "w_cod", PH_SECTOR_CU, PH_CLASS_NEW, false, false, d, &lo, &hi, &why), 0);
  cr_assert(isinf(lo) && lo < 0 && hi == 50 && why == NULL);
  cr_assert_eq(ph_limits_water(l, "w_cod", PH_SECTOR_CU, PH_CLASS_NEW, false, true, d, &lo, &hi, &why), 0);
  cr_assert_eq(hi, 200, "indirect column");
  cr_assert_eq(ph_limits_water(l, "w_cod", PH_SECTOR_CU, PH_CLASS_EXISTING, false, false, d, &lo, &hi, &why), 0);
  cr_assert_eq(hi, 60, "existing column");
  cr_assert_eq(ph_limits_water(l, "w_cod", PH_SECTOR_CU, PH_CLASS_EXISTING, true, false, d, &lo, &hi, &why), 0);
  cr_assert_eq(hi, 60, "no special value: the class's column");
  cr_assert_eq(ph_limits_water(l, "w_cod", PH_SECTOR_CU, PH_CLASS_EXISTING, false, true, d, &lo, &hi, &why),
               PH_ENOTFOUND, "existing indirect is null");
  cr_assert_str_eq(why, "no limit");
  cr_assert_eq(ph_limits_water(l, "w_cod", PH_SECTOR_CU, PH_CLASS_EXISTING, false, false, day(2016, 12, 31), &lo, &hi,
                               &why),
               PH_ENOTFOUND);
  cr_assert_str_eq(why, "not in force", "existing plants from 2017-01-01");
  cr_assert_eq(ph_limits_water(l, "w_ph", PH_SECTOR_ZN, PH_CLASS_NEW, false, false, d, &lo, &hi, &why), 0);
  cr_assert(lo == 6 && hi == 9);
  cr_assert_eq(ph_limits_water(l, "w_cu", PH_SECTOR_CU, PH_CLASS_NEW, false, false, d, &lo, &hi, &why), PH_ENOTFOUND);
  cr_assert_str_eq(why, "no verified limit");
  cr_assert_eq(ph_limits_water_count(l), 3);
  cr_assert(ph_limits_water_verified(l, 0) && !ph_limits_water_verified(l, 2));
  ph_limits_free(l);
}

Test(limits, bad_water_sections_are_explained) {
  const char *head = "{\"standard\":\"x\",\"title\":\"t\",\"applies_from\":{\"new\":\"2024-01-01\",\"existing\":\"2025-01-01\"},"
                     "\"pollutants\":[{\"metric\":\"so2\",\"limit\":{\"cu\":1}}],\"water\":";
  struct {
    const char *water, *want;
  } bad[] = {
      {"{\"averaging\":\"hour\",\"pollutants\":[]}", "water.averaging"},
      {"{\"averaging\":\"day\",\"pollutants\":[{\"metric\":\"w_cod\",\"kind\":\"max\",\"verified\":true,\"limits\":{}}]}",
       "needs its \"source\" (URL) and \"clause\""},
      {"{\"averaging\":\"day\",\"pollutants\":[{\"metric\":\"w_ph\",\"kind\":\"range\",\"verified\":false,"
       "\"limits\":{\"new\":{\"direct\":{\"min\":9,\"max\":6}}}}]}",
       "water.pollutants[0].limits.new.direct: a range"},
      {"{\"averaging\":\"day\",\"pollutants\":[{\"metric\":\"w_cod\",\"kind\":\"max\",\"verified\":false,"
       "\"limits\":{\"new\":{\"sea\":5}}}]}",
       "limits.new.sea: must be direct or indirect"},
      {"{\"averaging\":\"day\",\"pollutants\":[{\"metric\":\"w_cod\",\"kind\":\"max\",\"verified\":false,"
       "\"limits\":{\"old\":{}}}]}",
       "limits.old: must be existing, new or special"},
      {"{\"averaging\":\"day\",\"pollutants\":[{\"metric\":\"w_cod\",\"kind\":\"max\",\"verified\":false,"
       "\"limits\":{\"new\":{\"direct\":-1}}}]}",
       "limits.new.direct: must be a positive number or null"},
      {"{\"averaging\":\"day\",\"pollutants\":[{\"metric\":\"w_cod\",\"kind\":\"mean\",\"verified\":false}]}", "kind"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char doc[1024];
    snprintf(doc, sizeof doc, "%s%s}", head, bad[i].water);
    struct ph_limits *l = NULL;
    struct ph_err err = {0};
    cr_assert_eq(ph_limits_load_json(doc, strlen(doc), "bad.json", &l, &err), PH_ECONFIG, "%zu accepted", i);
    cr_assert(strstr(err.msg, "bad.json") && strstr(err.msg, bad[i].want), "%zu: want '%s' in %s", i, bad[i].want,
              err.msg);
  }
}
