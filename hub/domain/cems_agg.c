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
 */
#include "domain/cems_agg.h"

#include "cems_agg_sql.h"

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

int ph_cems_agg_rebuild(sqlite3 *db, struct ph_err *err) {
  char *msg = NULL;
  if (sqlite3_exec(db,
                   "DELETE FROM cems_agg_days;" CEMS_AGG_SQL_FILL_ALL ";DELETE FROM cems_agg_blocks;"
                   CEMS_AGG_SQL_BLK_FILL_ALL ";DELETE FROM cems_day_blocks;" CEMS_AGG_SQL_DBLK_FILL_ALL,
                   NULL, NULL, &msg) == SQLITE_OK)
    return 0;
  ph_fail(err, PH_EDB, "cems aggregates: rebuild: %s", msg ? msg : sqlite3_errmsg(db));
  sqlite3_free(msg);
  return PH_EDB;
}
