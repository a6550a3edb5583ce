/* report_inventory.c — the report's "pcdd_f" section: per enterprise,
 * the PCDD/F inventory (measured over the monitored period and the year,
 * estimated from UNEP Toolkit factors, current, baseline and reduction),
 * its stacks and stack tests against the limit, and the factors used with
 * their source; for the park, the totals and one row per enterprise.
 *
 * Callers: report_json.c (rb_ent_pcdd_f per enterprise, then
 * rb_park_pcdd_f). Threads: the caller's. Memory: the inventory is computed
 * into r->inv (large scratch); the park's is freed before returning.
 *
 * Invariants (report_json.c inv. 1, inventory.c inv. 1):
 *  1. A figure that cannot be given is null with the reason, gathered from
 *     the parts that lack it (no class, class not in the table, ND factor).
 *  2. An empty ledger is missing data, not zero production: the section
 *     says so next to the estimate and next to a computed baseline.
 *  3. A park figure is given only when every enterprise has it.
 */
#include <stdio.h>
#include <string.h>

#include "domain/ent_limits.h"
#include "parkhub/na_reasons.h"
#include "report_build.h"

static void part_why(const struct ph_inv_part *p, const char *table, enum ph_vector v, char *buf, size_t cap) {
  char through[16], cls[16];
  rb_day_before(p->to, through, sizeof through);
  snprintf(cls, sizeof cls, "%d", p->toolkit_class);
  if (!p->toolkit_class)
    snprintf(buf, cap, PH_NA(NO_TOOLKIT_CLASS_FOR), p->from, through);
  else if (!p->factor)
    snprintf(buf, cap, PH_NA(CLASS_X_NOT_IN_TABLE), cls, table);
  else
    snprintf(buf, cap, v == PH_VEC_AIR ? PH_NA(CLASS_X_NO_AIR_FACTOR) : PH_NA(CLASS_X_NO_RESIDUE_FACTOR), cls, p->from,
             through);
}

/* The reason an estimated vector is not available: its parts' reasons. */
static void est_why(const struct ph_inv_estimated *es, enum ph_vector v, char *buf, size_t cap) {
  buf[0] = '\0';
  if (es->no_ledger) {
    snprintf(buf, cap, "%s", PH_NA(NO_LEDGER_OF_BASIS));
    return;
  }
  for (int i = 0; i < es->nparts; i++) {
    const struct ph_inv_part *p = &es->parts[i];
    if (v == PH_VEC_AIR ? p->air_avail : p->residue_avail) continue;
    char one[200];
    part_why(p, es->table, v, one, sizeof one);
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "%s%s", n ? "; " : "", one); /* joined as PH_NA(JOIN) */
  }
}

static void pcdd_stack_rows(struct rb *r, const struct ph_hub_ent *e, const struct ph_inv_measured *m, cJSON *pc) {
  cJSON *stacks = rb_arr(r, pc, "stacks"), *tests = rb_arr(r, pc, "stack_tests");
  const struct ph_limits *l = rb_limits_for(r->env, e->standard);
  for (int i = 0; i < m->nstacks; i++) {
    const struct ph_inv_stack *s = &m->stacks[i];
    cJSON *o = rb_row(r, stacks);
    rb_str(r, o, "point", s->point);
    rb_num_or(r, o, "g_teq", s->avail, s->g_teq, "%s", s->why);
    rb_int(r, o, "tests", s->ntests);
    rb_num_or(r, o, "mean_ng_teq_nm3", s->ntests > 0, s->mean_ng_teq_nm3, "%s", PH_NA(NO_STACK_TEST_IN_YEAR));
    if (s->mon_source != PH_MON_NONE) {
      rb_time_at(r, o, "monitoring_since", s->since_ms);
      if (s->until_ms != PH_MON_OPEN) rb_time_at(r, o, "monitoring_until", s->until_ms);
      else rb_na(r, o, "monitoring_until", "%s", PH_NA(STILL_MONITORED));
    } else {
      rb_na(r, o, "monitoring_since", "%s", PH_NA(NOT_MONITORED_NO_SINCE));
      rb_na(r, o, "monitoring_until", "%s", PH_NA(NOT_MONITORED));
    }
    rb_str(r, o, "monitoring_source", ph_mon_source_name((enum ph_mon_source)s->mon_source));
    rb_num(r, o, "hours", s->hours);
    rb_num(r, o, "hours_stopped", s->hours_stopped);
    rb_num(r, o, "hours_measured", s->hours_measured);
    rb_num(r, o, "hours_gap", s->hours_gap);
    rb_num(r, o, "hours_before_first_test", s->hours_before_first_test);
    const char *noflow = s->hours == 0 ? PH_NA(NOT_MONITORED_IN_YEAR) : PH_NA(NO_VALID_FLOW_HOUR);
    rb_num_or(r, o, "mean_flow_nm3_h", s->hours_measured > 0, s->mean_flow_nm3_h, "%s", noflow);
    rb_num_or(r, o, "volume_nm3", s->volume_nm3 > 0, s->volume_nm3, "%s", noflow);
    rb_num_or(r, o, "measured_share", s->volume_nm3 > 0, s->measured_share, "%s", noflow);
    rb_num_or(r, o, "filled_share", s->volume_nm3 > 0, s->filled_share, "%s", noflow);
    for (int k = 0; k < s->nlisted; k++) {
      const struct ph_stack_test *t = &s->tests[k];
      cJSON *x = rb_row(r, tests);
      rb_str(r, x, "point", s->point);
      rb_time_at(r, x, "time", t->ts_ms);
      rb_num(r, x, "ng_teq_nm3", t->ng_teq_nm3);
      rb_int(r, x, "values", t->nvalues);
      long day = rb_local_day(r->tz, t->ts_ms);
      double lim;
      if (!l) {
        rb_na(r, x, "limit_ng_teq_nm3", PH_NA(STANDARD_X_NOT_LOADED), e->standard);
        rb_na(r, x, "above_limit", "%s", PH_NA(NO_LIMIT));
      } else if (ph_limits_stack(l, "pcdd_f", (enum ph_sector)e->sector, ph_ent_class_on(e, day), e->special_limits, day,
                                 &lim)) {
        rb_na(r, x, "limit_ng_teq_nm3", "%s", PH_NA(NO_PCDD_F_LIMIT_ON_DATE));
        rb_na(r, x, "above_limit", "%s", PH_NA(NO_LIMIT));
      } else {
        rb_num(r, x, "limit_ng_teq_nm3", lim);
        rb_bool(r, x, "above_limit", t->ng_teq_nm3 > lim);
      }
    }
    if (s->ntests > s->nlisted) {
      char why[128];
      char a[16], b[16];
      snprintf(a, sizeof a, "%d", s->nlisted);
      snprintf(b, sizeof b, "%d", s->ntests);
      snprintf(why, sizeof why, PH_NA(STACK_TESTS_LISTED), s->point, a, b);
      rb_str(r, pc, "stack_tests_note", why);
    }
  }
}

static void pcdd_factor_rows(struct rb *r, const struct ph_inv_estimated *es, cJSON *pc) {
  cJSON *rows = rb_arr(r, pc, "factors");
  for (int i = 0; i < es->nparts; i++) {
    const struct ph_inv_part *p = &es->parts[i];
    const struct ph_factor_class *f = p->factor;
    cJSON *o = rb_row(r, rows);
    char through[16], why[200];
    rb_day_before(p->to, through, sizeof through);
    rb_str(r, o, "from", p->from);
    rb_str(r, o, "through", through);
    if (p->toolkit_class) rb_int(r, o, "toolkit_class", p->toolkit_class);
    else rb_na(r, o, "toolkit_class", "%s", PH_NA(NO_TOOLKIT_CLASS));
    if (f) rb_str(r, o, "class_name", f->name);
    else rb_na(r, o, "class_name", "%s", p->toolkit_class ? PH_NA(CLASS_NOT_IN_TABLE) : PH_NA(NO_CLASS));
    rb_str(r, o, "basis", f ? ph_basis_name(f->basis) : ph_basis_name(PH_BASIS_PRODUCT));
    rb_num(r, o, "activity_t", p->activity_t);
    double air_ef = 0, res_ef = 0;
    bool has_air = f && ph_factor_get(f, PH_VEC_AIR, &air_ef), has_res = f && ph_factor_get(f, PH_VEC_RESIDUE, &res_ef);
    const char *nd = f ? PH_NA(ND_NO_FACTOR) : PH_NA(NO_FACTOR);
    rb_num_or(r, o, "air_ef_ug_teq_t", has_air, air_ef, "%s", nd);
    rb_num_or(r, o, "residue_ef_ug_teq_t", has_res, res_ef, "%s", nd);
    part_why(p, es->table, PH_VEC_AIR, why, sizeof why);
    rb_num_or(r, o, "air_g_teq", p->air_avail, p->air_g_teq, "%s", why);
    part_why(p, es->table, PH_VEC_RESIDUE, why, sizeof why);
    rb_num_or(r, o, "residue_g_teq", p->residue_avail, p->residue_g_teq, "%s", why);
    if (f) {
      rb_str(r, o, "source", f->source);
      rb_bool(r, o, "verified", f->verified);
      rb_str(r, o, "status", f->verified ? "verified" : "not verified");
    } else {
      rb_na(r, o, "source", "%s", PH_NA(NO_FACTOR));
      rb_na(r, o, "verified", "%s", PH_NA(NO_FACTOR));
      rb_na(r, o, "status", "%s", PH_NA(NO_FACTOR));
    }
  }
}

static void release(struct rb *r, cJSON *o, const char *key, const struct ph_release *rel, const char *why) {
  char k[64];
  rb_num_or(r, o, key, rel->method != PH_INV_NONE, rel->g_teq, "%s", why);
  snprintf(k, sizeof k, "%s_method", key);
  rb_str(r, o, k, ph_inv_method_name(rel->method));
  if (rel->method == PH_INV_NONE || rel->method == PH_INV_CONFIGURED) return;
  snprintf(k, sizeof k, "%s_annualised", key);
  rb_bool(r, o, k, rel->annualised);
  snprintf(k, sizeof k, "%s_share", key);
  rb_num(r, o, k, rel->share);
}

/* inv. 1: a computed baseline estimated from a year without any ledger
 * record is 0 g TEQ from 0 t (inventory.h: no activity releases nothing);
 * the report says so next to it. */
static int baseline_note(struct rb *r, const char *ent, const struct ph_release *b, cJSON *o) {
  if (b->method != PH_INV_ESTIMATED || !b->year) return 0;
  bool ledger = false;
  int rc = rb_any_data(r, ent, NULL, ph_inventory_midnight(r->tz, b->year, 1, 1),
                    ph_inventory_midnight(r->tz, b->year + 1, 1, 1), &ledger);
  if (rc || ledger) return rc;
  char why[160];
  char y[16];
  snprintf(y, sizeof y, "%d", b->year);
  snprintf(why, sizeof why, PH_NA(BASELINE_X_NO_LEDGER), y);
  rb_str(r, o, "baseline_note", why);
  return 0;
}

int rb_ent_pcdd_f(struct rb *r, const struct ph_hub_ent *e, cJSON *scope) {
  struct ph_inventory *inv = r->inv;
  int rc = ph_inventory_year(r->db, r->env->refs->cfg, r->tz, r->cat, r->env->refs->factors, r->park->id, e->id, r->year, inv,
                             r->err);
  if (rc) return rc;
  cJSON *pc = rb_obj(r, scope, "pcdd_f");
  const struct ph_inv_measured *m = &inv->measured;
  char why[600];
  /* over the monitored period; the annual figure below (inventory.h) */
  if (m->avail && m->complete) {
    rb_num(r, pc, "measured_period_g_teq", m->g_teq);
  } else if (m->nstacks == 0) {
    rb_na(r, pc, "measured_period_g_teq", "%s", PH_NA(NO_TEST_NO_FLOW));
  } else {
    why[0] = '\0';
    for (int i = 0; i < m->nstacks; i++) {
      if (m->stacks[i].avail) continue;
      size_t n = strlen(why);
      char one[256];
      snprintf(one, sizeof one, PH_NA(AT), m->stacks[i].point, m->stacks[i].why);
      snprintf(why + n, sizeof why - n, "%s%s", n ? "; " : "", one); /* joined as PH_NA(JOIN) */
    }
    rb_na(r, pc, "measured_period_g_teq", PH_NA(INCOMPLETE), why);
  }
  rb_num_or(r, pc, "measured_g_teq", m->annual_avail, m->annual_g_teq, "%s", m->annual_why);
  rb_str(r, pc, "measured_method", m->mostly_filled ? "filled" : "measured");
  rb_bool(r, pc, "measured_annualised", m->annualised);
  rb_num(r, pc, "monitored_share", m->monitored_share);
  rb_num_or(r, pc, "filled_share", m->avail && m->volume_nm3 > 0, m->filled_share, "%s", PH_NA(NO_MEASURED_FIGURE));
  rb_num_or(r, pc, "measured_share", m->avail && m->volume_nm3 > 0, m->measured_share, "%s", PH_NA(NO_MEASURED_FIGURE));
  rb_num_or(r, pc, "volume_nm3", m->avail, m->volume_nm3, "%s", PH_NA(NO_MEASURED_FIGURE));
  rb_int(r, pc, "stacks_counted", m->nstacks);
  rb_str(r, pc, "concentration", m->concentration == PH_DIOXIN_MEAN ? "mean" : "latest");
  rb_bool(r, pc, "first_test_extended", m->first_test_extended);
  const struct ph_inv_estimated *es = &inv->estimated;
  est_why(es, PH_VEC_AIR, why, sizeof why);
  rb_num_or(r, pc, "estimated_air_g_teq", es->air_avail, es->air_g_teq, "%s", why);
  est_why(es, PH_VEC_RESIDUE, why, sizeof why);
  rb_num_or(r, pc, "estimated_residue_g_teq", es->residue_avail, es->residue_g_teq, "%s", why);
  rb_num(r, pc, "activity_t", es->activity_t);
  bool ledger = false;
  if ((rc = rb_any_data(r, e->id, NULL, r->from, r->to, &ledger))) return rc;
  if (!ledger) /* an empty ledger is missing data, not zero production */
    rb_str(r, pc, "estimated_note", "no material (weighbridge) record in the year: no estimate");
  rb_str(r, pc, "factor_table", es->table);
  release(r, pc, "current_g_teq", &inv->current, inv->current_why);
  if (inv->baseline.year) rb_int(r, pc, "baseline_year", inv->baseline.year);
  else rb_na(r, pc, "baseline_year", "%s", PH_NA(NO_BASELINE));
  if (!inv->baseline.year)
    snprintf(why, sizeof why, "%s", PH_NA(NO_BASELINE));
  else
  {
    char y[16];
    snprintf(y, sizeof y, "%d", inv->baseline.year);
    snprintf(why, sizeof why, PH_NA(BASELINE_X_NO_FIGURE), y);
  }
  release(r, pc, "baseline_g_teq", &inv->baseline, why);
  if ((rc = baseline_note(r, e->id, &inv->baseline, pc))) return rc;
  rb_num_or(r, pc, "reduction_g_teq", inv->reduction_avail, inv->reduction_g_teq, "%s", PH_NA(NEEDS_BASELINE_AND_CURRENT));
  const char *lfl = inv->baseline.method == PH_INV_CONFIGURED ? PH_NA(BASELINE_IS_CONFIGURED)
                    : !inv->baseline.year                     ? PH_NA(NO_BASELINE)
                                                              : NULL;
  rb_num_or(r, pc, "reduction_measured_g_teq", inv->reduction_measured_avail, inv->reduction_measured_g_teq, "%s",
         lfl ? lfl : PH_NA(NEEDS_MEASURED_BOTH_YEARS));
  rb_num_or(r, pc, "reduction_estimated_g_teq", inv->reduction_estimated_avail, inv->reduction_estimated_g_teq, "%s",
         lfl ? lfl : PH_NA(NEEDS_ESTIMATED_BOTH_YEARS));
  pcdd_stack_rows(r, e, m, pc);
  pcdd_factor_rows(r, es, pc);
  return 0;
}

/* A park figure is the sum of its enterprises' and is given only when every
 * enterprise has it: a sum over some of them is not the park's. */
static void total(struct rb *r, cJSON *o, const char *key, const struct ph_inv_total *t) {
  char k[64];
  char a[16], b[16];
  snprintf(a, sizeof a, "%d", t->missing);
  snprintf(b, sizeof b, "%d", t->counted + t->missing);
  rb_num_or(r, o, key, t->counted > 0 && t->missing == 0, t->g_teq, PH_NA(ENTS_WITHOUT_FIGURE), a, b);
  snprintf(k, sizeof k, "%s_enterprises", key);
  rb_int(r, o, k, t->counted);
  snprintf(k, sizeof k, "%s_missing", key);
  rb_int(r, o, k, t->missing);
}

int rb_park_pcdd_f(struct rb *r, cJSON *scope) {
  struct ph_inventory_park pk;
  int rc = ph_inventory_park(r->db, r->env->refs->cfg, r->tz, r->cat, r->env->refs->factors, r->park->id, r->year, &pk, r->err);
  if (rc) {
    ph_inventory_park_fini(&pk);
    return rc;
  }
  cJSON *pc = rb_obj(r, scope, "pcdd_f");
  total(r, pc, "measured_g_teq", &pk.measured);
  total(r, pc, "estimated_air_g_teq", &pk.estimated_air);
  total(r, pc, "estimated_residue_g_teq", &pk.estimated_residue);
  total(r, pc, "current_g_teq", &pk.current);
  total(r, pc, "baseline_g_teq", &pk.baseline);
  total(r, pc, "reduction_g_teq", &pk.reduction);
  cJSON *rows = rb_arr(r, pc, "enterprises");
  for (int i = 0; i < pk.nents; i++) {
    const struct ph_inv_ent_row *e = &pk.ents[i];
    cJSON *o = rb_row(r, rows);
    rb_str(r, o, "enterprise", e->ent);
    rb_num_or(r, o, "measured_g_teq", e->measured_complete, e->measured_g_teq, "%s", e->measured_why);
    rb_bool(r, o, "measured_annualised", e->measured_annualised);
    rb_num(r, o, "monitored_share", e->monitored_share);
    rb_num_or(r, o, "filled_share", e->measured_complete, e->filled_share, "%s", e->measured_why);
    rb_num_or(r, o, "measured_share", e->measured_complete, e->measured_share, "%s", e->measured_why);
    rb_num_or(r, o, "estimated_air_g_teq", e->estimated_air_avail, e->estimated_air_g_teq, "%s",
           e->estimated_no_ledger ? PH_NA(NO_LEDGER_OF_BASIS) : PH_NA(NO_FACTOR_PART_OF_YEAR));
    rb_num_or(r, o, "estimated_residue_g_teq", e->estimated_residue_avail, e->estimated_residue_g_teq, "%s",
           e->estimated_no_ledger ? PH_NA(NO_LEDGER_OF_BASIS) : PH_NA(NO_FACTOR_PART_OF_YEAR));
    release(r, o, "current_g_teq", &e->current, e->current_why);
    if (e->baseline.year) rb_int(r, o, "baseline_year", e->baseline.year);
    else rb_na(r, o, "baseline_year", "%s", PH_NA(NO_BASELINE));
    release(r, o, "baseline_g_teq", &e->baseline, e->baseline.year ? PH_NA(NO_BASELINE_FIGURE) : PH_NA(NO_BASELINE));
    rb_num_or(r, o, "reduction_g_teq", e->reduction_avail, e->reduction_g_teq, "%s", PH_NA(NEEDS_BASELINE_AND_CURRENT));
    if ((rc = baseline_note(r, e->ent, &e->baseline, o))) break;
  }
  ph_inventory_park_fini(&pk);
  return rc;
}
