/* monitoring.h — which hours of a point the regulatory figures expect:
 * its monitoring period, and the hours in which the plant was stopped
 * (docs/report.md "Monitoring periods and operating states").
 *
 * Monitoring period of a point: [since, until) —
 *   since: the point's `since` in the enterprise's point_monitoring, else
 *          the enterprise's monitoring_since (local midnight of that date),
 *          else the start of the local hour of the first data the hub holds
 *          for the point (its earliest hour rollup, any metric);
 *   until: the point's `until`, else the enterprise's monitoring_until (the
 *          local midnight after that date), else open.
 * A point with neither a configured since nor any data is not monitored:
 * nothing is expected of it, and figures say "not monitored", never a gap.
 *
 * Operating state of a closed point-hour (cems.c writes it, migration 4):
 *   stopped     more than half of the point's values in the hour are
 *               flagged F (HJ 212-2017 "停运", stopped) or come from records
 *               whose state is stopped; or every process point of the
 *               enterprise (a point without an emission series) that sent
 *               data in the hour was stopped;
 *   startup/shutdown  some values came from records in that state (kept,
 *               and counted);
 *   operating   otherwise, and every hour without any data.
 * A stopped hour is left out of the expected hours only when it has no
 * valid mean of the series being judged: data outranks a declared state, so
 * a valid hour (and any exceedance in it) always counts.
 *
 * Expected hours of a (point, series) over [from, to) = local hours that
 * start in [from, to) ∩ [since, until) − such stopped hours. Expected days:
 * local days that start in that range, less the days all of whose hours
 * in the range are stopped. The caller bounds `to` by ph_cems_closed_until.
 *
 * Threads: any, on the caller's connection (read-only). Borrows everything.
 */
#ifndef PARKHUB_MONITORING_H
#define PARKHUB_MONITORING_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "parkhub/err.h"
#include "config/hub_config.h"
#include "parkhub/tz.h"

enum ph_mon_source { PH_MON_NONE, PH_MON_CONFIGURED, PH_MON_FIRST_DATA };

#define PH_MON_OPEN INT64_MAX /* until of an open-ended period */

struct ph_monitoring_window {
  int64_t since_ms, until_ms;  /* [since, until); until PH_MON_OPEN when open-ended */
  enum ph_mon_source source;   /* of since; PH_MON_NONE: not monitored (since, until meaningless) */
};

/* e: the enterprise's configuration (NULL: no configured period); tz its
 * park's zone; point_id/point: the points row and its id text. */
int ph_monitoring_window(sqlite3 *db, const struct ph_hub_ent *e, const struct ph_tz *tz, int64_t point_id,
                         const char *point, struct ph_monitoring_window *out, struct ph_err *err);

/* The enterprise's period: the earliest since and the latest until of its
 * points that have one (configured or from data); PH_MON_NONE when none. */
int ph_monitoring_ent_window(sqlite3 *db, const struct ph_hub_ent *e, const struct ph_tz *tz, const char *park,
                             struct ph_monitoring_window *out, struct ph_err *err);

/* Whether the window is a monitoring period that overlaps [from, to). */
bool ph_monitoring_overlaps(const struct ph_monitoring_window *w, int64_t from, int64_t to);

/* [from, to) cut to the window; *lo ≥ *hi when nothing is left. */
void ph_monitoring_clip(const struct ph_monitoring_window *w, int64_t from, int64_t to, int64_t *lo, int64_t *hi);

struct ph_monitoring_hours {
  int64_t hours;      /* local hours starting in the clipped range */
  int64_t stopped;    /* of them stopped and without a valid mean of the series */
  int64_t transition; /* of them in startup or shutdown */
  int64_t expected;   /* hours − stopped */
  int64_t days;       /* local days starting in the clipped range */
  int64_t days_stopped;  /* of them with every hour in range stopped */
  int64_t days_expected; /* days − days_stopped */
};

/* Counts for (point, series) over [from, to) within w. series_id 0: no
 * series is judged (every stopped hour leaves). */
int ph_monitoring_hours(sqlite3 *db, const struct ph_tz *tz, const char *park, const char *ent, int64_t point_id,
                        int64_t series_id, const struct ph_monitoring_window *w, int64_t from, int64_t to,
                        struct ph_monitoring_hours *out, struct ph_err *err);

/* Calls fn(u, hour_ms) for every stopped hour counted by
 * ph_monitoring_hours with the same arguments, in time order; fn returning
 * non-zero stops the walk and is returned. */
int ph_monitoring_stopped_each(sqlite3 *db, const char *park, const char *ent, int64_t point_id, int64_t series_id,
                               int64_t from, int64_t to, int (*fn)(void *u, int64_t hour_ms), void *u,
                               struct ph_err *err);

const char *ph_mon_source_name(enum ph_mon_source s); /* "none", "configured", "first data" */

#endif
