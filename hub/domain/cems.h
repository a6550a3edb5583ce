/* cems.h — CEMS hourly and daily means and their compliance, materialised
 * in the hub database (tables of migration 2, hub/store/store_sql.h).
 *
 * Validity (HJ 75-2017 / HJ 212-2017 Appendix D, only flag-N values count):
 *   minute  from samples: n_valid ≥ min(12, ⌊expected⌋) where expected is
 *           the minute rollup's `expected` (60 / the point's interval), so
 *           12 values as at 5-s sampling, fewer only when the configured
 *           rate cannot give 12; its mean = sum_valid / n_valid.
 *           Minute data (interval ≥ 60 s): the same rule gives "its value
 *           has flag N" (expected is 1).
 *   hour    mean of the valid minute means; valid with ≥ 45 of them.
 *           Hourly data (interval ≥ 3600 s): the hour's own value, valid
 *           when it has flag N; minute rollups are not used.
 *   day     mean of the valid hour means; valid with ≥ 20 of them.
 * Hours and days are the park's local ones (rollups' hour/day buckets).
 * Only metrics of kind "emission" in the catalogue are computed.
 *
 * Compliance: each valid hourly mean against the stack limit in force for
 * the enterprise on that local date (its standard, sector, class — "new"
 * only from class_since when set — and special limits); each valid daily
 * mean after the benchmark exhaust-volume conversion of GB 31574-2015
 * §4.2.7: ratio = Q_total (Nm³, the enterprise's stacks' valid hourly flow
 * means × 1 h) / (product t that day × benchmark m³/t); converted = ratio ×
 * mean when ratio > 1, else the mean. Hourly means are judged as measured.
 * A mean above its limit is a row of `exceedances`.
 *
 * Incremental and idempotent: triggers on rollups (hour rows, inserted or
 * updated) and materials (outgoing) record what changed (cems_dirty*), in
 * the writer's own transaction; an update recomputes exactly those hours
 * once closed (hour start + 1 h + PH_CEMS_GRACE_MS ≤ now), then their
 * enterprise-days once closed. Late data re-dirties its hour, so it is
 * always picked up, however late; running an update with nothing dirty
 * writes nothing but cems_state. Cost on the writer: the triggers add about
 * 2 µs of CPU per rollup row it upserts (measured: 4 → 6 µs), i.e. per
 * (series, bucket) per commit, not per value.
 *
 * Threads: any, with its own connection; on the hub's writer connection it
 * must run on the writer thread (between groups).
 */
#ifndef PARKHUB_CEMS_H
#define PARKHUB_CEMS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parkhub/catalog.h"
#include "parkhub/err.h"
#include "config/hub_config.h"
#include "config/refs.h"
#include "parkhub/limits.h"
#include "parkhub/tz.h"

#define PH_CEMS_GRACE_MS 120000     /* a period is processed this long after it ends */
#define PH_CEMS_MINUTE_VALUES 12    /* valid values for a valid minute (5-s sampling) */
#define PH_CEMS_HOUR_MINUTES 45     /* valid minutes for a valid hour */
#define PH_CEMS_DAY_HOURS 20        /* valid hours for a valid day */
#define PH_CEMS_MAX_WORK 10000      /* series-hours per ph_cems_update call (≈ 0.4 s measured) */
#define PH_CEMS_FLOW "flow"         /* dry standard flow, Nm³/h */

/* How a point's values are averaged (cems_hours.kind). */
enum ph_cems_kind { PH_CEMS_SAMPLES, PH_CEMS_MINUTE_DATA, PH_CEMS_HOURLY_DATA };

/* rollups.period / exceedances.period */
enum { PH_CEMS_PERIOD_HOUR = 1, PH_CEMS_PERIOD_DAY = 2 };

/* From a point's interval (ph_hub_point_interval): ≥ 3600 s hourly data,
 * ≥ 60 s minute data, else samples. */
enum ph_cems_kind ph_cems_kind_of(double interval_s);

/* Whether an outgoing material counts as product for the benchmark volume
 * in park p: a material whose role in the park's registry (materials.h,
 * the one place that decides roles) is "product" — the park's declaration,
 * else the catalogue's (built in: cathode_cu, anode_cu, blister_cu,
 * cu_alloy). p NULL: the catalogue alone. */
bool ph_cems_is_product(const struct ph_hub_park *p, const struct ph_catalog *cat, const char *material);

/* Processes every closed hour and day that changed since the last call, in
 * one transaction (a savepoint when the connection is already in one).
 * refs (refs.h): the config, the zones (one per park), the catalogue and
 * the loaded standards; an enterprise uses the standard whose
 * ph_limits_standard equals its `standard` (none: its means get no limit,
 * with a warning). Borrows all.
 * Returns 0 when everything closed is done, 1 when it stopped after
 * PH_CEMS_MAX_WORK series-hours with more waiting (call again), or
 * PH_EDB/PH_EFULL/PH_ENOMEM (nothing of the call is kept). */
int ph_cems_update(sqlite3 *db, const struct ph_refs *refs, int64_t now_ms, struct ph_err *err);
/* The same with another bound on the series-hours per call (tests, tools). */
int ph_cems_update_some(sqlite3 *db, const struct ph_refs *refs, int64_t now_ms, long max_work, struct ph_err *err);

/* Marks every hour bucket in [from_ms, to_ms) that has data for
 * recomputation by the next update: after a change of configuration that
 * the stored means depend on (standard, class, special limits, intervals). */
int ph_cems_invalidate(sqlite3 *db, int64_t from_ms, int64_t to_ms, struct ph_err *err);

/* The instant up to which the CEMS tables are final: every hour and day
 * that ended by then and had data has been processed. 0 before the first
 * update. */
int ph_cems_closed_until(sqlite3 *db, int64_t *closed_ms, struct ph_err *err);

/* Local hours: the start of the one after the hour starting at hour_ms,
 * and how many start in [from_ms, to_ms) (0 when to ≤ from). Days alike. */
int64_t ph_cems_next_hour(const struct ph_tz *tz, int64_t hour_ms);
int64_t ph_cems_count_hours(const struct ph_tz *tz, int64_t from_ms, int64_t to_ms);
int64_t ph_cems_count_days(const struct ph_tz *tz, int64_t from_ms, int64_t to_ms);

#endif
