/* cems_agg.h — the daily CEMS aggregates (cems_agg_sql.h): how readers
 * split a range into whole local days (read from cems_agg_days) and the
 * hours at its edges (read from cems_hours), a full rebuild for checks,
 * and the benchmark's switch back to reading every hour.
 *
 * Threads: any. ph_cems_agg_use is set once before readers start (the
 * benchmark's baseline); it is read without a lock.
 */
#ifndef PARKHUB_CEMS_AGG_H
#define PARKHUB_CEMS_AGG_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "parkhub/err.h"
#include "parkhub/tz.h"

/* [lo, hi) split as [lo, *d0) hours, [*d0, *d1) whole local days, [*d1, hi)
 * hours. Without a whole day (or with the aggregates off): *d0 = *d1 = hi. */
void ph_cems_agg_days_in(const struct ph_tz *tz, int64_t lo, int64_t hi, int64_t *d0, int64_t *d1);

/* Whole local days [d0, d1) (day starts, as ph_cems_agg_days_in gives them)
 * split as [d0, *b0) days, [*b0, *b1) whole 8-day blocks (cems_agg_blocks,
 * cems_day_blocks: every day starting in a block), [*b1, d1) days. Without
 * a whole block (or with the aggregates off): *b0 = *b1 = d1. */
void ph_cems_agg_blocks_in(int64_t d0, int64_t d1, int64_t *b0, int64_t *b1);

/* Whole local days [d0, d1) of zone tz split into PH_CEMS_AGG_PARTS key
 * ranges for the span statements (cems_agg_sql.h): part k is [b[2k],
 * b[2k + 1]) of its table's key. Parts 0, 2, 4, 6: days; 1 and 5: whole
 * 8-day blocks; 3: month cells holding only days of [d0, d1) (a cell may
 * start before d0, at most after the day before d0 began: no day of it
 * lies there). Without such a cell the days, blocks, days of [d0, d1) are
 * parts 0-2 and parts 3-6 are empty (with the aggregates off: part 0 is
 * everything). tz NULL: cells starting at d0 only. */
#define PH_CEMS_AGG_PARTS 7
void ph_cems_agg_parts(const struct ph_tz *tz, int64_t d0, int64_t d1, int64_t b[2 * PH_CEMS_AGG_PARTS]);

/* The month cell holding instant t: its start (cems_agg_sql.h,
 * CEMS_AGG_SQL_MON: the same key), and the start of the next. */
int64_t ph_cems_agg_month_floor(int64_t t);
int64_t ph_cems_agg_month_next(int64_t mon_ms);

/* Whether readers use the aggregates (default true). false: every figure
 * from the hours, as before issue #19 — bench/query's baseline only. */
void ph_cems_agg_use(bool on);
bool ph_cems_agg_used(void);

/* Deletes every aggregate row and computes them all again from
 * cems_hours (and the blocks and month cells from them), in the caller's transaction if any (tests' recomputation,
 * bench/query's generated database). */
int ph_cems_agg_rebuild(sqlite3 *db, struct ph_err *err);

#endif
