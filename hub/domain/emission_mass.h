/* emission_mass.h — mass of a pollutant emitted by an enterprise (or a
 * park) over a period, from the CEMS hourly means (cems.h):
 *
 *   hour mass = C_hour × Q_hour × 1 h × factor
 *
 * with C_hour the valid hourly mean concentration and Q_hour the valid
 * hourly mean dry standard flow (metric `flow`, Nm³/h) of the same point;
 * factor 1e-6 for mg/Nm³ (→ kg), 1e-9 for ng TEQ/Nm³ (→ g TEQ, PCDD/F).
 * A point-hour without a valid concentration or a valid flow is a gap: it
 * is counted and reported with its share of the period, never as zero
 * emission, and no value is filled in for it.
 *
 * Periods: [from_ms, to_ms) in UTC ms; rows per local hour, day, month or
 * year, cut at from/to; hours are expected only up to ph_cems_closed_until,
 * only inside each point's monitoring period, and not when the plant was
 * stopped (monitoring.h: a stopped hour without a valid concentration
 * released nothing and is not a gap).
 * Threads: any, on a connection of its own.
 */
#ifndef PARKHUB_EMISSION_MASS_H
#define PARKHUB_EMISSION_MASS_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "parkhub/catalog.h"
#include "parkhub/err.h"
#include "config/hub_config.h"
#include "parkhub/ids.h"
#include "parkhub/tz.h"

enum ph_mass_by { PH_MASS_BY_HOUR, PH_MASS_BY_DAY, PH_MASS_BY_MONTH, PH_MASS_BY_YEAR };

struct ph_emission_mass_row {
  int64_t start_ms, end_ms; /* the local period, cut at from/to */
  double mass;              /* in the result's unit, over the hours used */
  double mass_t;            /* in t when the unit is kg; NAN otherwise */
  int64_t hours_expected;   /* Σ points: closed hours in their monitoring period, less stopped ones */
  int64_t hours_stopped;    /* stopped hours without a valid concentration: not expected, no release */
  int64_t hours_used;       /* point-hours with both a valid C and a valid Q */
  int64_t gap_hours;        /* expected − used */
  double gap_share;         /* gap_hours / hours_expected; NAN when nothing was expected */
};

struct ph_emission_mass {
  char metric[PH_ID_MAX + 1];
  char unit[16];      /* "kg", or "g TEQ" for concentrations in ng TEQ/Nm3 */
  int npoints;        /* points with a series of the pollutant */
  int nmonitored;     /* of them monitored during part of the period */
  int64_t closed_ms;  /* ph_cems_closed_until at the time of the query */
  struct ph_emission_mass_row total;
  struct ph_emission_mass_row *rows; /* owned; ph_emission_mass_fini frees */
  size_t nrows;
};

/* Fills *out (returns new rows: call ph_emission_mass_fini, also after an
 * error). pk: the park's configuration (monitoring periods; NULL: from first
 * data). park required; ent NULL = the whole park. metric: a concentration
 * of the catalogue (unit mg/Nm3, ug/Nm3 or ng TEQ/Nm3), else PH_EINVAL.
 * tz, cat borrowed. */
int ph_emission_mass_compute(sqlite3 *db, const struct ph_hub_park *pk, const struct ph_tz *tz, const struct ph_catalog *cat, const char *park,
                             const char *ent, const char *metric, int64_t from_ms, int64_t to_ms, enum ph_mass_by by,
                             struct ph_emission_mass *out, struct ph_err *err);
void ph_emission_mass_fini(struct ph_emission_mass *m);

/* Why the total mass cannot be given, or NULL when it can: the one wording
 * of the report and the API. A plant stopped through every monitored hour
 * released nothing: its 0 is a figure (NULL). */
const char *ph_emission_mass_why(const struct ph_emission_mass *m);

#endif
