/* compliance.h — per enterprise (or park, or point), pollutant and period:
 * how many valid hourly and daily means there were, how many had a limit,
 * how many kept to it, the worst, and the data availability; plus the
 * recorded exceedances. Reads the tables ph_cems_update fills (cems.h), so
 * the figures are those of the last update.
 *
 * Periods: [from_ms, to_ms) in UTC ms, normally local day/month/year
 * boundaries (ph_tz_day_start …); an hour or day counts when it starts in
 * the range. Expected periods stop at ph_cems_closed_until: hours and days
 * that have not closed (or were not processed yet) are neither valid nor
 * missing. Per point, only periods inside its monitoring period count
 * (valid, expected, exceeded alike), and stopped hours without a valid mean
 * are not expected (monitoring.h): a plant that was not yet monitored or
 * was stopped has no gap.
 *
 * Threads: any, on a connection of its own (a read connection is enough).
 */
#ifndef PARKHUB_COMPLIANCE_H
#define PARKHUB_COMPLIANCE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parkhub/err.h"
#include "config/hub_config.h"
#include "parkhub/ids.h"
#include "parkhub/tz.h"

struct ph_compliance_worst {
  double ratio;      /* judged value / limit (hours: mean, days: converted); 0 when nothing had a limit */
  double mean;       /* measured mean */
  double converted;  /* days: after the benchmark-volume conversion; hours: = mean */
  double limit;
  int64_t bucket_ms; /* start of that hour/day; 0 when none */
  char point[PH_ID_MAX + 1];
};

struct ph_compliance_periods {
  int64_t expected;   /* Σ over points: closed periods in the range and the point's monitoring period, less stopped */
  int64_t stopped;    /* periods left out of expected because the plant was stopped (monitoring.h) */
  int64_t transition; /* hours only: startup/shutdown hours among the expected (kept, counted) */
  int64_t valid;      /* valid means (CEMS rules) */
  int64_t with_limit; /* valid means for which a limit was in force */
  int64_t within;     /* of those, ≤ the limit */
  int64_t exceeded;   /* of those, > the limit: exceedance hours / days */
  double rate;        /* within / with_limit: the compliance rate; NAN when with_limit is 0 */
  double availability; /* valid / expected; NAN when expected is 0 */
  struct ph_compliance_worst worst;
};

struct ph_compliance {
  int npoints;       /* points with a series of the metric */
  int nmonitored;    /* of them with a monitoring period overlapping the range (closed or not) */
  int64_t closed_ms; /* ph_cems_closed_until at the time of the query */
  int64_t hours_to_ms, days_to_ms; /* where the expected hours and days stopped */
  int64_t to_ms;                    /* the range's end, as asked */
  struct ph_compliance_periods hours, days;
};

/* park required; ent NULL = the whole park; point NULL = all the points of
 * the enterprise (or park). pk: the park's configuration (monitoring
 * periods; NULL: every point from its first data); tz: the park's zone
 * (borrowed). Fills *out; PH_EINVAL for a bad argument, PH_EDB. */
int ph_compliance_summary(sqlite3 *db, const struct ph_hub_park *pk, const struct ph_tz *tz, const char *park, const char *ent, const char *point,
                          const char *metric, int64_t from_ms, int64_t to_ms, struct ph_compliance *out,
                          struct ph_err *err);

/* Why a figure over a range cannot be given, or NULL when it can — the one
 * wording of the report and the API. period: availability, gap shares,
 * masses (nmonitored points monitored, expected and stopped periods); rate:
 * the compliance rate (NULL when some valid mean had a limit). buf holds the
 * text. */
const char *ph_compliance_period_why(int nmonitored, int64_t expected, int64_t stopped, char *buf, size_t cap);
const char *ph_compliance_rate_why(const struct ph_compliance_periods *p, int nmonitored, bool hours, char *buf,
                                   size_t cap);

struct ph_exceedance {
  int64_t id; /* exceedances.id: stable while the exceedance persists */
  char park[PH_ID_MAX + 1], ent[PH_ID_MAX + 1], point[PH_ID_MAX + 1], metric[PH_ID_MAX + 1];
  int period;         /* PH_CEMS_PERIOD_HOUR or PH_CEMS_PERIOD_DAY */
  int64_t bucket_ms;  /* start of the local hour / day */
  double mean, converted, ratio; /* ratio: NAN when no conversion applied (hours, or no production record) */
  double limit;
  char standard[PH_ID_MAX + 1];
  int64_t recorded_ms; /* when an update first found it */
};

/* Calls fn for each recorded exceedance of the park (ent, metric: NULL =
 * all) starting in [from_ms, to_ms), in time order; fn returning non-zero
 * stops the walk and is returned. */
int ph_compliance_exceedances(sqlite3 *db, const char *park, const char *ent, const char *metric, int64_t from_ms,
                              int64_t to_ms, int (*fn)(void *u, const struct ph_exceedance *e), void *u,
                              struct ph_err *err);

#endif
