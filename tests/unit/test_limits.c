#include <criterion/criterion.h>
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
