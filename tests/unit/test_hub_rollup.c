/* rollup aggregation against a real (in-memory) SQLite store: merging
 * across flushes gives the same row as aggregating everything at once. */
#include <criterion/criterion.h>
#include <sqlite3.h>

#include "parkhub/rollup.h"
#include "parkhub/store.h"

static struct ph_store *st;
static struct ph_rollup *ru;
static void setup(void) {
  struct ph_err err = {0};
  cr_assert_eq(ph_store_open(":memory:", &st, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_rollup_new(&ru), 0);
}
static void teardown(void) {
  ph_rollup_free(ru);
  ph_store_close(st);
}
TestSuite(rollup, .init = setup, .fini = teardown);

struct row {
  long long n, n_valid;
  double sum, sum_valid, min, max, first, last;
  long long first_ts, last_ts;
};

static struct row get(long long bucket) {
  sqlite3_stmt *s;
  sqlite3_prepare_v2(ph_store_db(st), "SELECT n, n_valid, sum, sum_valid, min, max, first_ts, first, last_ts, last "
                                      "FROM rollups WHERE series_id = 1 AND period = 0 AND bucket_ms = ?1", -1, &s, NULL);
  sqlite3_bind_int64(s, 1, bucket);
  cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
  struct row r = {sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_double(s, 2),
                  sqlite3_column_double(s, 3), sqlite3_column_double(s, 4), sqlite3_column_double(s, 5),
                  sqlite3_column_double(s, 7), sqlite3_column_double(s, 9), sqlite3_column_int64(s, 6),
                  sqlite3_column_int64(s, 8)};
  sqlite3_finalize(s);
  return r;
}

static void add(int64_t ts, double v, bool valid) { cr_assert_eq(ph_rollup_add(ru, 1, PH_ROLLUP_MINUTE, 0, 6, ts, v, valid), 0); }
static void flush(void) {
  struct ph_err err = {0};
  cr_assert_eq(ph_store_begin(st, &err), 0);
  cr_assert_eq(ph_rollup_flush(ru, st, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_store_commit(st, &err), 0);
}

Test(rollup, merging_flushes_equals_one_aggregate) {
  /* Values out of time order, split over three transactions. */
  add(30000, 5.0, true);
  add(10000, 7.0, false);
  flush();
  add(50000, 1.0, true);
  add(10000, 9.0, true); /* same ts as an earlier value: first stays the earlier-stored 7 */
  flush();
  add(50000, 4.0, true); /* same ts as the last: last becomes the later-stored 4 */
  add(20000, 12.0, true);
  flush();
  struct row r = get(0);
  cr_assert_eq(r.n, 6);
  cr_assert_eq(r.n_valid, 5);
  cr_assert_float_eq(r.sum, 38.0, 1e-12);
  cr_assert_float_eq(r.sum_valid, 31.0, 1e-12);
  cr_assert_eq(r.min, 1.0);
  cr_assert_eq(r.max, 12.0);
  cr_assert_eq(r.first_ts, 10000);
  cr_assert_eq(r.first, 7.0);
  cr_assert_eq(r.last_ts, 50000);
  cr_assert_eq(r.last, 4.0);
}

Test(rollup, buckets_and_series_are_kept_apart_and_grow) {
  for (int s = 1; s <= 3000; s++) /* forces the table to grow several times */
    cr_assert_eq(ph_rollup_add(ru, s, PH_ROLLUP_HOUR, 3600000, 360, 10, (double)s, true), 0);
  cr_assert_eq(ph_rollup_pending(ru), 3000);
  flush();
  cr_assert_eq(ph_rollup_pending(ru), 0);
  sqlite3_stmt *q;
  sqlite3_prepare_v2(ph_store_db(st), "SELECT count(*), sum(sum) FROM rollups WHERE period = 1", -1, &q, NULL);
  cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
  cr_assert_eq(sqlite3_column_int(q, 0), 3000);
  cr_assert_float_eq(sqlite3_column_double(q, 1), 3000.0 * 3001 / 2, 1e-6);
  sqlite3_finalize(q);
}
