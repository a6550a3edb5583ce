/* cems_agg.c — the daily CEMS aggregates' helpers (cems_agg.h).
 *
 * Callers: compliance.c and emission_mass.c (readers), tests and
 * bench/query (rebuild, baseline). The rows themselves are written by
 * ph_cems_update (cems.c) and migration 6 (store_sql.h).
 *
 * Invariants:
 *  1. [lo, *d0) ∪ [*d0, *d1) ∪ [*d1, hi) = [lo, hi), disjoint; every day
 *     in [*d0, *d1) starts and ends inside [lo, hi), so its aggregate row
 *     holds exactly its hours of that range.
 *  2. [d0, *b0) ∪ [*b0, *b1) ∪ [*b1, d1) = [d0, d1), disjoint; every block
 *     in [*b0, *b1) lies inside [d0, d1), so its row holds exactly its days
 *     of that range (days are taken by their start, day_ms).
 *  3. ph_cems_agg_parts: the parts hold every day starting in [d0, d1)
 *     once and no other: days and blocks tile [d0, e) and [f, d1) (inv. 2
 *     on each), the cells [m0, m1) with m0 ≤ e and m1 ≤ f; no day starts
 *     in [m0, d0) (the day before d0 began before m0) nor in [m1, f). Cell starts and ends
 *     are those of CEMS_AGG_SQL_MON (tests/unit/test_hub_cems_agg.c
 *     compares them for many instants, before 1970 too).
 */
#include "domain/cems_agg.h"

#include "cems_agg_sql.h"
#include "parkhub/timefmt.h"

#define DAY_MS 86400000LL
#define HALF_DAY_MS 43200000LL /* a month cell starts at 12:00 UTC (cems_agg_sql.h) */

static bool use_agg = true;

void ph_cems_agg_use(bool on) { use_agg = on; }
bool ph_cems_agg_used(void) { return use_agg; }

void ph_cems_agg_days_in(const struct ph_tz *tz, int64_t lo, int64_t hi, int64_t *d0, int64_t *d1) {
  *d0 = *d1 = hi;
  if (!use_agg || hi <= lo) return;
  int64_t a = ph_tz_day_start(tz, lo);
  if (a < lo) a = ph_tz_next_day(tz, a);
  int64_t b = ph_tz_day_start(tz, hi); /* the day holding hi starts at or before it */
  if (b <= a) return;                  /* inv. 1: no whole day */
  *d0 = a;
  *d1 = b;
}

static int64_t floor_block(int64_t t) {
  int64_t r = t % CEMS_AGG_BLOCK_MS;
  return t - (r < 0 ? r + CEMS_AGG_BLOCK_MS : r);
}

void ph_cems_agg_blocks_in(int64_t d0, int64_t d1, int64_t *b0, int64_t *b1) {
  *b0 = *b1 = d1;
  if (!use_agg || d1 <= d0) return;
  int64_t a = floor_block(d0);
  if (a < d0) a += CEMS_AGG_BLOCK_MS;
  int64_t b = floor_block(d1);
  if (b <= a) return; /* inv. 2: no whole block */
  *b0 = a;
  *b1 = b;
}

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The cell of t is the calendar month of the UTC date of t + 12 h. */
int64_t ph_cems_agg_month_floor(int64_t t) {
  int y;
  unsigned m, d;
  ph_civil_from_days(floor_div(t + HALF_DAY_MS, DAY_MS), &y, &m, &d);
  return ph_days_from_civil(y, m, 1) * DAY_MS - HALF_DAY_MS;
}

int64_t ph_cems_agg_month_next(int64_t mon_ms) {
  int y;
  unsigned m, d;
  ph_civil_from_days(floor_div(mon_ms + HALF_DAY_MS, DAY_MS), &y, &m, &d);
  return (m == 12 ? ph_days_from_civil(y + 1, 1, 1) : ph_days_from_civil(y, m + 1, 1)) * DAY_MS - HALF_DAY_MS;
}

/* The first month cell of [d0, d1): the cell holding d0 when no day of it
 * starts before d0 (inv. 3), else the next. */
static int64_t first_cell(const struct ph_tz *tz, int64_t d0) {
  int64_t c = ph_cems_agg_month_floor(d0);
  if (c == d0 || (c < d0 && tz && ph_tz_day_start(tz, d0 - 1) < c)) return c;
  return ph_cems_agg_month_next(c);
}

void ph_cems_agg_parts(const struct ph_tz *tz, int64_t d0, int64_t d1, int64_t b[2 * PH_CEMS_AGG_PARTS]) {
  int64_t m0 = d1, m1 = d1, e = d1, f = d1; /* cells [m0, m1); days before them end at e, after them start at f */
  if (use_agg && d1 > d0) {
    int64_t c = first_cell(tz, d0), z = ph_cems_agg_month_floor(d1); /* the cell holding d1 holds its day */
    if (z > c) {
      m0 = c, m1 = z, e = c > d0 ? c : d0;
      f = tz && ph_tz_day_start(tz, d1 - 1) < z ? d1 : z; /* no day starts in [z, d1): no seek there */
    }
  }
  b[0] = d0;
  ph_cems_agg_blocks_in(d0, e, &b[1], &b[3]);
  b[2] = b[1];
  b[4] = b[3];
  b[5] = e;
  b[6] = m0;
  b[7] = m1;
  b[8] = f;
  ph_cems_agg_blocks_in(f, d1, &b[9], &b[11]);
  b[10] = b[9];
  b[12] = b[11];
  b[13] = d1;
}

int ph_cems_agg_rebuild(sqlite3 *db, struct ph_err *err) {
  char *msg = NULL;
  if (sqlite3_exec(db,
                   "DELETE FROM cems_agg_days;" CEMS_AGG_SQL_FILL_ALL ";DELETE FROM cems_agg_blocks;"
                   CEMS_AGG_SQL_BLK_FILL_ALL ";DELETE FROM cems_day_blocks;" CEMS_AGG_SQL_DBLK_FILL_ALL
                   ";DELETE FROM cems_agg_months;" CEMS_AGG_SQL_MON_FILL_ALL ";DELETE FROM cems_day_months;"
                   CEMS_AGG_SQL_DMON_FILL_ALL,
                   NULL, NULL, &msg) == SQLITE_OK)
    return 0;
  ph_fail(err, PH_EDB, "cems aggregates: rebuild: %s", msg ? msg : sqlite3_errmsg(db));
  sqlite3_free(msg);
  return PH_EDB;
}
