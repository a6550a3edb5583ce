/* inventory.h — the PCDD/F (dioxin) inventory per enterprise and per park
 * and year, two ways side by side, the reduction against the configured
 * baseline, and the stack-test monitoring plan
 * (docs: reference/dioxin-inventory.md; DESIGN.md "What the hub computes").
 *
 * Year: the park's local calendar year, [Jan 1 00:00 local, next Jan 1).
 *
 * Measured, per stack — a point of the enterprise with a `pcdd_f` series:
 *   - stack tests: each stored pcdd_f value (ng TEQ/Nm³) is one test, read
 *     from the minute rollups (raw samples are pruned by retention; rollups
 *     are kept), all data flags counted (a test is a laboratory result,
 *     usually flagged S); two values in one minute are one test, their mean;
 *   - hours counted: the local hours of the year inside the stack's
 *     monitoring period that have closed (ph_cems_closed_until), less the
 *     hours in which the plant was stopped without a valid flow hour
 *     (monitoring.h): those released nothing. Hours before monitoring
 *     began, after it ended and not yet closed are not counted, never
 *     filled;
 *   - gas volume: the `flow` series (Nm³/h) of the same point, per counted
 *     hour: a valid CEMS hour of flow (cems.h: ≥ 45 valid minutes, the one
 *     rule every volume uses) contributes its mean × 1 h; every other
 *     counted (operating) hour is a gap filled with the mean of the valid
 *     hours; filled_share = filled volume / total volume, always shown;
 *   - concentration applied: latest (the enterprise's pcdd_f_concentration
 *     "latest", default) — the latest test at or before the start of the
 *     hour (a test at 10:30 applies from 11:00); hours before the year's
 *     first test use that first test, and hours_before_first_test says how
 *     many; mean — the mean of the year's tests for every hour;
 *   - release over the monitored period g TEQ = Σ C × V × 1e-9 (period_g_teq).
 *   Annual figure: the monitored share of the year = counted-or-stopped
 *   hours / hours of the year (Σ over stacks). Share 1: the period figure
 *   is the annual one. Share ≥ cfg inventory_min_share: annualised =
 *   period / share, labelled "annualised" with its share. Below: not
 *   available, "monitored N of M days". The method is "measured" only when
 *   at most half the volume was filled, else "filled".
 *   A stack with flow but no test in the year, or tests but no flow, has no
 *   figure (why says which) and leaves the enterprise's measured figure
 *   incomplete; a stack with neither in the year is not counted. Points
 *   that carry flow but never a pcdd_f test are not dioxin stacks.
 *
 * Estimated (UNEP Toolkit): the year is split where the enterprise's dated
 * class changes (at local midnight of the `since` date); per part, the
 * class's factor (factors.h) × activity in t (material ledger of the
 * enterprise: dir out of role-product materials, or dir in of role-feed
 * ones when the factor's basis is feed, roles as the park's material
 * registry gives them, materials.h; unclassified codes count for neither)
 * × 1e-6 = g TEQ, air and residue
 * separately. ND factor or no class for a part with activity: that part and
 * the year's total are not available (never zero). A part with no activity
 * contributes 0 whatever its factor.
 *
 * Current figure (the one reductions use): the annual measured figure when
 * available (complete, share enough), else the estimated air release when
 * the enterprise was monitored the whole year, else not available with
 * the reason (a ledger of part of the year is not a year's activity).
 * Baseline: the configured baseline.pcdd_f_g_teq (method "configured"), or
 * the current figure of baseline.year computed the same way.
 * Reduction = baseline − current, g TEQ/a (air). Like-for-like reductions
 * (measured vs measured, estimated vs estimated) are given as well when
 * the baseline is computed.
 *
 * Monitoring plan: per stack, next test due = local date of its last test
 * + stack_test_interval_days (default 365); days_left = due − today (local),
 * overdue when < 0; a stack's last test is the later of its data and the
 * enterprise's last_stack_test (config, or entered over the API). An
 * enterprise with no stack on record but a last_stack_test is due from
 * that date (no stacks listed); with neither it is never_tested and
 * overdue. Called by the report and the alarms' overdue rule.
 *
 * All functions read through the caller's connection (a read connection on
 * the hub's database; prepared statements only) and borrow every argument.
 * Results go to caller-owned structs; struct ph_inventory is large (tens of
 * KiB): allocate it on the heap or statically. Threads: any, one db per
 * thread as SQLite requires.
 */
#ifndef PARKHUB_INVENTORY_H
#define PARKHUB_INVENTORY_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "parkhub/catalog.h"
#include "parkhub/err.h"
#include "parkhub/factors.h"
#include "config/hub_config.h"
#include "parkhub/ids.h"
#include "parkhub/tz.h"

#define PH_INV_MAX_STACKS 32 /* dioxin stacks per enterprise; more is PH_EFULL */
#define PH_INV_MAX_TESTS 32  /* tests listed per stack and year (all are used) */
#define PH_INV_MAX_PARTS (PH_HUB_MAX_CLASSES + 1)
#define PH_DATE_LEN 11 /* "YYYY-MM-DD" + NUL */

enum ph_inv_method {
  PH_INV_NONE,      /* not available */
  PH_INV_MEASURED,  /* stack tests × measured gas volume */
  PH_INV_ESTIMATED, /* Toolkit factor × production */
  PH_INV_CONFIGURED, /* explicit baseline figure from the hub config */
  PH_INV_FILLED      /* stack tests × gas volume, more than half of it filled */
};

struct ph_stack_test {
  int64_t ts_ms;          /* first value of the minute */
  char date[PH_DATE_LEN]; /* local date */
  double ng_teq_nm3;
  int nvalues; /* values in that minute (1 normally) */
};

struct ph_inv_stack {
  char point[PH_ID_MAX + 1];
  bool avail; /* a figure was computed */
  char why[96]; /* when not: "no stack test in the year", "no flow data in the year" */
  int ntests;   /* tests in the year (all used) */
  int nlisted;  /* ≤ PH_INV_MAX_TESTS of them below, oldest first */
  struct ph_stack_test tests[PH_INV_MAX_TESTS];
  int concentration; /* enum ph_dioxin_conc applied */
  double mean_ng_teq_nm3;         /* mean of the year's tests */
  double hours_before_first_test; /* latest: hours that used the first test before it was taken */
  double hours;         /* closed hours of the year inside the monitoring period */
  double hours_stopped; /* of them stopped, without a valid flow hour: no release */
  double hours_measured, hours_gap; /* operating hours with a valid flow hour / filled */
  int64_t since_ms, until_ms;       /* monitoring period (monitoring.h); source 0: not monitored */
  int mon_source;
  double mean_flow_nm3_h; /* of the valid hours: what fills the gaps */
  double volume_nm3, volume_measured_nm3, volume_filled_nm3;
  double measured_share; /* volume_measured / volume (0..1) */
  double filled_share;   /* volume_filled / volume */
  double g_teq;          /* over the monitored period */
};

struct ph_inv_measured {
  bool avail;    /* at least one stack has a figure; g_teq sums those */
  bool complete; /* every counted stack has one */
  double g_teq;  /* over the monitored period (Σ stacks) */
  double filled_share;    /* filled volume / volume */
  double year_hours;      /* hours of the year × counted stacks */
  double monitored_hours; /* Σ stacks' counted + stopped hours */
  double monitored_share; /* monitored_hours / year_hours */
  bool annual_avail;      /* complete, and the share is 1 or reaches the threshold */
  bool annualised;        /* share < 1: annual = g_teq / share */
  double annual_g_teq;
  bool mostly_filled;     /* filled_share > 0.5: the method is "filled", not "measured" */
  char annual_why[160];   /* when not annual_avail */
  int concentration;          /* enum ph_dioxin_conc */
  bool first_test_extended;   /* some hours before a first test used it */
  double volume_nm3, volume_measured_nm3, measured_share;
  int nstacks;
  struct ph_inv_stack stacks[PH_INV_MAX_STACKS];
};

/* A part of the year with one Toolkit class. */
struct ph_inv_part {
  int64_t from_ms, to_ms;                      /* [from, to) */
  char from[PH_DATE_LEN], to[PH_DATE_LEN];     /* local dates, to exclusive */
  int toolkit_class;                           /* 0: none configured */
  const struct ph_factor_class *factor;        /* borrowed from the table; NULL: class not in it */
  double activity_t;                           /* t of the factor's basis */
  bool air_avail, residue_avail;
  double air_g_teq, residue_g_teq;
};

struct ph_inv_estimated {
  bool air_avail, residue_avail;
  double air_g_teq, residue_g_teq;
  double activity_t; /* Σ parts */
  bool no_ledger;    /* no material record of the basis in the year: not available, not 0 */
  char table[PH_ID_MAX + 1];
  int nparts;
  struct ph_inv_part parts[PH_INV_MAX_PARTS];
};

struct ph_release {
  enum ph_inv_method method; /* PH_INV_NONE: not available */
  int year;
  double g_teq;
  bool annualised;  /* extrapolated from part of the year */
  double share;     /* the monitored share it rests on (1: the whole year) */
};

struct ph_inventory {
  char park[PH_ID_MAX + 1], ent[PH_ID_MAX + 1];
  int year;
  char current_why[400]; /* when current.method is PH_INV_NONE */
  int64_t from_ms, to_ms;
  struct ph_inv_measured measured;
  struct ph_inv_estimated estimated;
  struct ph_release current;  /* measured when complete, else estimated air */
  struct ph_release baseline; /* year 0 and PH_INV_NONE: no baseline configured */
  bool reduction_avail;
  double reduction_g_teq; /* baseline − current */
  /* like-for-like, computed baseline only */
  bool reduction_measured_avail, reduction_estimated_avail;
  double reduction_measured_g_teq, reduction_estimated_g_teq;
};

/* Sum over the enterprises of a park of one figure. */
struct ph_inv_total {
  double g_teq;
  int counted, missing; /* enterprises with and without the figure */
};

struct ph_inv_ent_row {
  char ent[PH_ID_MAX + 1];
  bool measured_complete; /* an annual measured figure (complete, share enough) */
  double measured_g_teq, measured_share;
  bool measured_annualised;
  double monitored_share, filled_share;
  char measured_why[160], current_why[400];
  bool estimated_air_avail, estimated_residue_avail, estimated_no_ledger;
  double estimated_air_g_teq, estimated_residue_g_teq;
  struct ph_release current, baseline;
  bool reduction_avail;
  double reduction_g_teq;
};

struct ph_inventory_park {
  char park[PH_ID_MAX + 1];
  int year;
  int nents;
  struct ph_inv_ent_row *ents; /* owned; ph_inventory_park_fini frees */
  struct ph_inv_total measured, estimated_air, estimated_residue, current, baseline, reduction;
};

/* The inventory of one enterprise of a configured park. tz is the park's
 * zone, cat the catalogue (default material roles under the park's own,
 * materials.h), f the factor table.
 * PH_ENOTFOUND: park or enterprise not configured; PH_EINVAL: year outside
 * 1971..9998; PH_EFULL: more than PH_INV_MAX_STACKS stacks; PH_EDB. */
int ph_inventory_year(sqlite3 *db, const struct ph_hub_config *cfg, const struct ph_tz *tz,
                      const struct ph_catalog *cat, const struct ph_factors *f, const char *park, const char *ent,
                      int year, struct ph_inventory *out, struct ph_err *err);

/* Every configured enterprise of the park, and the park's sums. out->ents
 * is new: release with ph_inventory_park_fini (also after a failure). */
int ph_inventory_park(sqlite3 *db, const struct ph_hub_config *cfg, const struct ph_tz *tz,
                      const struct ph_catalog *cat, const struct ph_factors *f, const char *park, int year,
                      struct ph_inventory_park *out, struct ph_err *err);
void ph_inventory_park_fini(struct ph_inventory_park *p);

struct ph_plan_stack {
  char point[PH_ID_MAX + 1];
  int64_t last_test_ms;
  char last_test[PH_DATE_LEN], due[PH_DATE_LEN]; /* local dates */
  int64_t due_day;   /* days since 1970-01-01 */
  int64_t days_left; /* due − today; negative when overdue */
  bool overdue;
};

struct ph_monitoring_plan {
  char park[PH_ID_MAX + 1], ent[PH_ID_MAX + 1];
  int64_t interval_days;
  int64_t now_ms;
  char today[PH_DATE_LEN];
  bool never_tested; /* no stack test on record: overdue */
  bool overdue;      /* never tested, or some stack overdue */
  /* the earliest due stack (unset when never_tested) */
  char due[PH_DATE_LEN];
  int64_t due_day, days_left;
  int nstacks;
  struct ph_plan_stack stacks[PH_INV_MAX_STACKS];
};

/* When the enterprise's next stack tests are due, as of now_ms (tests
 * after now_ms are ignored). Errors as ph_inventory_year. */
int ph_monitoring_plan(sqlite3 *db, const struct ph_hub_config *cfg, const struct ph_tz *tz, const char *park,
                       const char *ent, int64_t now_ms, struct ph_monitoring_plan *out, struct ph_err *err);

const char *ph_inv_method_name(enum ph_inv_method m); /* "none", "measured", "estimated", "configured" */

/* UTC ms of local midnight starting the local date y-m-d (m may be 13: Jan
 * of y+1). Shared with the indicators. */
int64_t ph_inventory_midnight(const struct ph_tz *tz, int y, unsigned m, unsigned d);

#endif
