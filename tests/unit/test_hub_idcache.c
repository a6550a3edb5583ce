#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "store/idcache.h"

Test(idcache, finds_what_was_added_by_park_enterprise_and_name) {
  struct ph_idcache c;
  ph_idcache_init(&c, 3);
  cr_assert_null(ph_idcache_find(&c, 0, 0, "stack-1"), "an empty cache holds nothing");
  ph_idcache_reserve(&c, 3);
  struct ph_idcache_entry *a = ph_idcache_add(&c, 0, 0, "stack-1", 11);
  cr_assert_not_null(a);
  a->series[2] = 99;
  cr_assert_not_null(ph_idcache_add(&c, 0, 1, "stack-1", 12)); /* same name, other enterprise */
  cr_assert_not_null(ph_idcache_add(&c, 1, 0, "stack-1", 13)); /* other park */
  cr_assert_eq(ph_idcache_find(&c, 0, 0, "stack-1")->id, 11);
  cr_assert_eq(ph_idcache_find(&c, 0, 0, "stack-1")->series[2], 99);
  cr_assert_eq(ph_idcache_find(&c, 0, 0, "stack-1")->series[0], 0, "series start not looked up");
  cr_assert_eq(ph_idcache_find(&c, 0, 1, "stack-1")->id, 12);
  cr_assert_eq(ph_idcache_find(&c, 1, 0, "stack-1")->id, 13);
  cr_assert_null(ph_idcache_find(&c, 0, 0, "stack-2"));
  ph_idcache_clear(&c);
  cr_assert_null(ph_idcache_find(&c, 0, 0, "stack-1"), "cleared");
  ph_idcache_fini(&c);
}

/* Bounded: a full cache refuses an add without a reserve, and a reserve
 * that does not fit empties it; what was cached can be added again. */
Test(idcache, stays_bounded) {
  struct ph_idcache c;
  ph_idcache_init(&c, 0);
  char name[32];
  for (int i = 0; i < PH_IDCACHE_MAX; i++) {
    snprintf(name, sizeof name, "p%d", i);
    ph_idcache_reserve(&c, 1);
    cr_assert_not_null(ph_idcache_add(&c, 0, 0, name, i + 1), "entry %d", i);
  }
  for (int i = 0; i < PH_IDCACHE_MAX; i += 997) {
    snprintf(name, sizeof name, "p%d", i);
    cr_assert_eq(ph_idcache_find(&c, 0, 0, name)->id, i + 1);
  }
  cr_assert_null(ph_idcache_add(&c, 0, 0, "one-more", 1), "full without a reserve");
  ph_idcache_reserve(&c, 1);
  cr_assert_null(ph_idcache_find(&c, 0, 0, "p0"), "the reserve emptied it");
  cr_assert_not_null(ph_idcache_add(&c, 0, 0, "p0", 7));
  cr_assert_eq(ph_idcache_find(&c, 0, 0, "p0")->id, 7);
  ph_idcache_fini(&c);
}

Test(idcache, one_entry_per_key_even_for_a_cut_name) {
  struct ph_idcache c;
  ph_idcache_init(&c, 1);
  char longname[PH_ID_MAX + 10];
  memset(longname, 'x', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  ph_idcache_reserve(&c, 2);
  struct ph_idcache_entry *a = ph_idcache_add(&c, 0, 0, longname, 1);
  struct ph_idcache_entry *b = ph_idcache_add(&c, 0, 0, longname, 2);
  cr_assert_eq(a, b, "the same key gives the same entry");
  cr_assert_eq(strlen(a->name), PH_ID_MAX);
  cr_assert_eq(a->id, 2);
  cr_assert_eq(c.n, 1u);
  ph_idcache_fini(&c);
}
