/* report_mass.c — the report's "emissions" section: per enterprise, the
 * mass of each continuously measured pollutant over the year with its
 * expected, used and stopped hours; for the park, the sums.
 *
 * Callers: report_json.c (rb_ent_emissions per enterprise, then
 * rb_park_emissions). Threads: the caller's. Owns nothing after a call.
 *
 * Invariants (report_json.c inv. 1 and 2):
 *  1. A mass without a single hour with both a valid concentration and a
 *     valid flow is null with the reason, except a plant stopped
 *     throughout, which released nothing (0 t).
 *  2. The park row sums the enterprises' masses and hours; its gap share is
 *     recomputed from those sums.
 */
#include <stdio.h>

#include "domain/emission_mass.h"
#include "parkhub/na_reasons.h"
#include "report_build.h"

static void mass_row(struct rb *r, cJSON *rows, const struct ph_metric *mt, int ents, const struct mass_sum *m) {
  cJSON *o = rb_row(r, rows);
  char why[128];
  const char *pw = ph_compliance_period_why(m->nmonitored, m->expected, m->stopped, why, sizeof why);
  rb_str(r, o, "pollutant", mt->code);
  rb_str(r, o, "name", mt->name);
  if (mt->name_zh[0]) rb_str(r, o, "name_zh", mt->name_zh);
  if (ents >= 0) rb_int(r, o, "enterprises", ents);
  rb_int(r, o, "points", m->npoints);
  if (m->used > 0)
    rb_num(r, o, "mass_t", m->kg / 1000.0);
  else if (m->nmonitored > 0 && m->expected == 0 && m->stopped > 0)
    rb_num(r, o, "mass_t", 0.0); /* stopped throughout: released nothing (monitoring.h) */
  else
    rb_na(r, o, "mass_t", "%s", pw ? pw : PH_NA(NO_HOUR_CONC_AND_FLOW));
  rb_int(r, o, "hours_expected", m->expected);
  rb_int(r, o, "hours_used", m->used);
  rb_int(r, o, "hours_stopped", m->stopped);
  rb_int(r, o, "gap_hours", m->expected - m->used);
  rb_num_or(r, o, "gap_share", m->expected > 0, (double)(m->expected - m->used) / (double)(m->expected ? m->expected : 1),
         "%s", pw ? pw : "");
}

int rb_ent_emissions(struct rb *r, const struct ph_hub_ent *e, const bool *measured, cJSON *scope) {
  cJSON *rows = rb_arr(r, scope, "emissions");
  for (int k = 0; k < r->nmass; k++) {
    int idx = r->mass_codes[k];
    if (!measured[idx]) continue;
    struct ph_emission_mass m;
    int rc = ph_emission_mass_compute(r->db, r->park, r->tz, r->cat, r->park->id, e->id, rb_metric(r, idx)->code, r->from,
                                      r->to, PH_MASS_BY_YEAR, &m, r->err);
    if (rc) {
      ph_emission_mass_fini(&m);
      return rc;
    }
    struct mass_sum one = {.npoints = m.npoints, .nmonitored = m.nmonitored, .kg = m.total.mass,
                           .expected = m.total.hours_expected, .used = m.total.hours_used,
                           .stopped = m.total.hours_stopped};
    mass_row(r, rows, rb_metric(r, idx), -1, &one);
    struct mass_sum *s = &r->mass[k];
    s->ents++;
    s->npoints += m.npoints;
    s->nmonitored += m.nmonitored;
    s->kg += m.total.mass;
    s->expected += m.total.hours_expected;
    s->used += m.total.hours_used;
    s->stopped += m.total.hours_stopped;
    ph_emission_mass_fini(&m);
  }
  if (cJSON_GetArraySize(rows) == 0)
    rb_str(r, scope, "emissions_na", PH_NA(NO_CONTINUOUS_CONCENTRATION));
  return 0;
}

void rb_park_emissions(struct rb *r, cJSON *scope) {
  cJSON *rows = rb_arr(r, scope, "emissions");
  for (int k = 0; k < r->nmass; k++) {
    const struct mass_sum *s = &r->mass[k];
    mass_row(r, rows, rb_metric(r, r->mass_codes[k]), s->ents, s);
  }
  if (r->nmass == 0) rb_str(r, scope, "emissions_na", PH_NA(NO_CONTINUOUS_CONCENTRATION));
}
