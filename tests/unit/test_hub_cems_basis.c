/* The basis of stored CEMS figures (cems_basis.h): a configuration or a
 * standard that changed between two runs gets the park's figures
 * recomputed; an unchanged one writes nothing. The expected figures are
 * the fixture's own hand-computed ones (GB 31574-2015 Table 3 SO2 150,
 * Table 4 special 100: hub_cems_fixture.h). */
#include <stdio.h>
#include <stdlib.h>

#include "domain/cems_basis.h"
#include "hub_cems_fixture.h"
#include "parkhub/jsonfile.h"

TestSuite(cems_basis, .init = fx_setup, .fini = fx_teardown);

static struct ph_refs refs_now(void) {
  return (struct ph_refs){.cfg = &cfg, .cat = cat, .tz = {tzs[0]}, .limits = {lim}, .nlimits = 1};
}

static int64_t check(void) {
  struct ph_err err = {0};
  struct ph_refs r = refs_now();
  int64_t n = -1;
  cr_assert_eq(ph_cems_basis_check(db, &r, 1000, &n, &err), 0, "%s", err.msg);
  return n;
}

static int64_t n_exc_of(int64_t sid) {
  char q[128];
  snprintf(q, sizeof q, "SELECT count(*) FROM exceedances WHERE series_id = %lld", (long long)sid);
  return q_int(q);
}

/* cu-old, SO2 120 for the 20 first hours of 2017-03-01: within Table 3's
 * 150, so no exceedance while cu-old has no special limits. */
static int64_t so2_day(int64_t *day) {
  int64_t sid = series("cu-old", "hr", "so2");
  *day = local(2017, 3, 1, 0, 0);
  hourly_run(sid, *day, 0, 20, 120);
  return sid;
}

Test(cems_basis, a_new_database_records_the_basis_and_marks_nothing) {
  cr_assert_eq(check(), 0);
  cr_assert_eq(q_int("SELECT count(*) FROM cems_basis WHERE park = 'p1'"), 1);
  cr_assert_eq(check(), 0); /* the same basis again: nothing */
  cr_assert_eq(q_int("SELECT count(*) FROM cems_dirty"), 0);
}

Test(cems_basis, special_limits_added_after_the_fact_are_applied_to_the_stored_hours) {
  int64_t day, sid = so2_day(&day);
  cr_assert_eq(check(), 0); /* no hour stored yet: recorded only */
  update(local(2017, 3, 2, 0, 2));
  cr_assert_eq(n_exc_of(sid), 0);
  cr_assert_float_eq(get_hour(sid, day).limit, 150.0, EPS);

  /* The operator corrects the config: cu-old is in a designated area. */
  cfg.parks[0].ents[0].special_limits = true;
  /* Without the check the stored judgement stays (the defect this mends). */
  update(local(2017, 3, 2, 0, 3));
  cr_assert_eq(n_exc_of(sid), 0);

  cr_assert_eq(check(), 20); /* the 20 hours with data */
  int64_t closed = -1;
  struct ph_err err = {0};
  cr_assert_eq(ph_cems_closed_until(db, &closed, &err), 0);
  cr_assert_leq(closed, day, "figures must not be final over the hours marked");
  update(local(2017, 3, 2, 0, 4));
  /* 120 > 100: every hour and the day (mean 120, 20 valid hours) exceed. */
  cr_assert_eq(n_exc_of(sid), 21);
  cr_assert_float_eq(get_hour(sid, day).limit, 100.0, EPS);
  cr_assert_eq(check(), 0); /* recorded: a restart marks nothing */
}

Test(cems_basis, hours_from_before_the_check_are_recomputed_once) {
  int64_t day, sid = so2_day(&day);
  update(local(2017, 3, 2, 0, 2)); /* computed, no basis recorded */
  cfg.parks[0].ents[0].special_limits = true;
  cr_assert_eq(check(), 20);
  update(local(2017, 3, 2, 0, 3));
  cr_assert_eq(n_exc_of(sid), 21);
  cr_assert_eq(check(), 0);
}

Test(cems_basis, another_park_is_left_alone) {
  int64_t day, sid = so2_day(&day);
  check();
  update(local(2017, 3, 2, 0, 2));
  /* A second park appears in the config: recorded, p1's hours untouched. */
  struct ph_hub_park *p2 = &cfg.parks[1];
  strcpy(p2->id, "p2");
  strcpy(p2->tz, "Asia/Shanghai");
  cfg.nparks = 2;
  cr_assert_eq(check(), 0);
  cr_assert_eq(q_int("SELECT count(*) FROM cems_basis"), 2);
  cfg.nparks = 1; /* p2 has no enterprises to free */
  cr_assert_eq(n_exc_of(sid), 0);
}

/* What the update does not read changes nothing (inv. 4): a gateway
 * added, a name; what it reads does: an interval, a class date. */
Test(cems_basis, only_facts_the_update_reads_make_another_basis) {
  char a[PH_CEMS_BASIS_MAX], b[PH_CEMS_BASIS_MAX];
  struct ph_refs r = refs_now();
  ph_cems_basis_of(&r, 0, a, sizeof a);
  struct ph_hub_ent *e = &cfg.parks[0].ents[1];
  strcpy(e->agents[e->nagents++], "gw-2");
  strcpy(e->name, "another name");
  strcpy(cfg.parks[0].fingerprint, "0123456789abcdef");
  ph_cems_basis_of(&r, 0, b, sizeof b);
  cr_assert_str_eq(a, b);
  e->point_intervals[0].interval_s = 2; /* s1: 1 s → 2 s */
  ph_cems_basis_of(&r, 0, b, sizeof b);
  cr_assert_str_neq(a, b);
  e->point_intervals[0].interval_s = 1;
  ph_cems_basis_of(&r, 0, b, sizeof b);
  cr_assert_str_eq(a, b);
  e->class_since[0] = 0;
  strcpy(e->class_since, "2020-01-01");
  ph_cems_basis_of(&r, 0, b, sizeof b);
  cr_assert_str_neq(a, b);
}

/* The standard's text is part of the basis: the built-in one digests as
 * its source file does, and one changed limit changes the basis. */
Test(cems_basis, a_changed_standard_changes_the_basis) {
  char path[512], *text = NULL;
  size_t len = 0;
  struct ph_err err = {0};
  snprintf(path, sizeof path, "%s/schemas/limits/gb31574-2015.json", getenv("PH_SOURCE_DIR"));
  cr_assert_eq(ph_file_read(path, 0, &text, &len, &err), 0, "%s", err.msg);
  struct ph_limits *same, *changed;
  cr_assert_eq(ph_limits_load_json(text, len, path, &same, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_limits_digest(same), ph_limits_digest(lim), "the built-in standard is the file's text");
  char *at = strstr(text, "150");
  cr_assert_not_null(at);
  at[1] = '4'; /* 150 → 140 */
  cr_assert_eq(ph_limits_load_json(text, len, path, &changed, &err), 0, "%s", err.msg);
  char a[PH_CEMS_BASIS_MAX], b[PH_CEMS_BASIS_MAX];
  struct ph_refs r = refs_now();
  ph_cems_basis_of(&r, 0, a, sizeof a);
  r.limits[0] = changed;
  ph_cems_basis_of(&r, 0, b, sizeof b);
  cr_assert_str_neq(a, b);
  r.limits[0] = same;
  ph_cems_basis_of(&r, 0, b, sizeof b);
  cr_assert_str_eq(a, b);
  ph_limits_free(same);
  ph_limits_free(changed);
  ph_free(text);
}
