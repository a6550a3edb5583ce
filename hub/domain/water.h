/* water.h — water outlets of an enterprise over a period (issue #20):
 * discharged volume, pollutant loads, and compliance of daily mean
 * concentrations with the water limits of the enterprise's standard
 * (limits.h, "water" section) for the outlet's discharge type.
 *
 * A water outlet is a point declared {"medium": "water"} in the
 * enterprise's point_media (hub_config.h). Its series are the catalogue's
 * water metrics (w_*); their hourly and daily means are the CEMS tables
 * (cems.h: one valid-hour and one valid-day rule for every figure).
 *
 *   volume      V = Σ valid hourly means of w_flow (m³/h) × 1 h          [m³]
 *   load        L = Σ over hours with a valid C_h and a valid Q_h of
 *                   C_h (mg/L) × Q_h (m³/h) × 1 h × 1e-3                   [kg]
 *               (mg/L × m³ = g). Per day this equals the flow-weighted
 *               daily mean concentration × that day's volume; load_t = L/1000.
 *               Hours with a valid flow but no valid concentration are
 *               gaps (load_gap_hours), never filled.
 *   compliance  each valid daily mean (≥ 20 valid hours, HJ 212-2017 App. D
 *               formula 25) against the limit in force that local day for
 *               the enterprise's sector, class (ent_limits.h), special
 *               flag and the outlet's discharge type; above the upper
 *               limit or below the lower one is a day over. pH (a range)
 *               is judged on each valid hourly mean; a day with an hour
 *               out of range is a day out of range.
 *               Only verified limit values are used: without one the
 *               figure is "not available" with the reason
 *               (ph_limits_water: "no verified limit", "no limit", …).
 * Threads: any, on a connection of its own (read only).
 */
#ifndef PARKHUB_WATER_H
#define PARKHUB_WATER_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "parkhub/catalog.h"
#include "parkhub/err.h"
#include "config/hub_config.h"
#include "parkhub/ids.h"
#include "parkhub/limits.h"
#include "parkhub/tz.h"

#define PH_WATER_FLOW "w_flow" /* m³/h */

struct ph_water_pollutant {
  char metric[PH_ID_MAX + 1];
  bool range;                 /* judged as a range (pH) on hourly means */
  int64_t days_valid;         /* valid daily means */
  int64_t days_with_limit;    /* of them with a verified limit in force */
  int64_t days_over;          /* daily mean above the limit (or outside the range) */
  int64_t hours_valid;        /* valid hourly means */
  int64_t hours_with_limit;   /* range pollutants: hours judged */
  int64_t hours_out;          /* range pollutants: hourly means outside the range */
  int64_t days_out;           /* range pollutants: days with an hour outside */
  double limit_lo, limit_hi;  /* the limit of the last judged day (lo -INFINITY: upper limit only); NAN: none */
  const char *limit_na;       /* why there is no limit (static), NULL when there is one */
  double mean;                /* mean of the valid daily means; NAN when none */
  double worst_day_mean;      /* highest daily mean (range: the hourly mean farthest outside, else highest) */
  int64_t worst_day_ms;       /* its local day (or hour for ranges) start, UTC ms; 0 when none */
  double load_kg;             /* NAN for pollutants not in mg/L (pH, temperature) */
  int64_t load_hours;         /* hours with a valid C and a valid Q */
  int64_t load_gap_hours;     /* hours with a valid Q but no valid C */
  int64_t load_days;          /* local days with at least one load hour (mean kg/day = load_kg / load_days) */
};

struct ph_water_outlet {
  char point[PH_ID_MAX + 1];
  int discharge;          /* enum ph_discharge */
  double volume_m3;       /* NAN when the outlet has no w_flow series */
  int64_t flow_hours;     /* valid w_flow hours */
  int64_t flow_days;      /* local days with at least one valid w_flow hour */
  struct ph_water_pollutant *p; /* owned */
  size_t np;
};

struct ph_water {
  struct ph_water_outlet *outlets; /* owned; in point_media order */
  size_t n;
};

/* Fills *out for enterprise e of park `park` over [from_ms, to_ms) (UTC ms,
 * local days of tz). cat: units (loads only for mg/L metrics). lim: the enterprise's standard (NULL: not loaded;
 * every limit is then "standard not loaded"). Returns new arrays: call
 * ph_water_fini, also after an error. */
int ph_water_summarise(sqlite3 *db, const char *park, const struct ph_hub_ent *e, const struct ph_catalog *cat,
                       const struct ph_limits *lim, const struct ph_tz *tz, int64_t from_ms, int64_t to_ms, struct ph_water *out,
                       struct ph_err *err);
void ph_water_fini(struct ph_water *w);

#endif
