#include <criterion/criterion.h>
#include <string.h>

#include "parkhub/ids.h"

Test(ids, accepts_the_grammar) {
  cr_assert(ph_id_valid_z("a"));
  cr_assert(ph_id_valid_z("0"));
  cr_assert(ph_id_valid_z("smelter-a_2"));
  char max[PH_ID_MAX + 1];
  memset(max, 'x', PH_ID_MAX);
  max[PH_ID_MAX] = '\0';
  cr_assert(ph_id_valid_z(max), "64 characters is the maximum and is allowed");
}

Test(ids, refuses_everything_else) {
  const char *bad[] = {"", "A", "-a", "_a", "a.b", "a/b", "a b", "a+", "a#", "é", "gw\n"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) cr_assert_not(ph_id_valid_z(bad[i]), "'%s'", bad[i]);
  char long_id[PH_ID_MAX + 2];
  memset(long_id, 'x', PH_ID_MAX + 1);
  long_id[PH_ID_MAX + 1] = '\0';
  cr_assert_not(ph_id_valid_z(long_id), "65 characters is too long");
  cr_assert_not(ph_id_valid("ab\0c", 4), "an embedded NUL is refused");
}

Test(ids, reserved_words_never_name_an_enterprise) {
  const char *r[] = {"hub", "alerts", "alarms", "rollup", "cmd"};
  for (size_t i = 0; i < 5; i++) {
    cr_assert(ph_id_valid_z(r[i]));
    cr_assert_not(ph_id_valid_ent(r[i], strlen(r[i])), "%s", r[i]);
  }
  cr_assert(ph_id_valid_ent("hubs", 4));
  cr_assert(ph_id_valid_ent("cm", 2));
}
