/* rollup aggregation against a real (in-memory) SQLite store: merging
 * across flushes gives the same row as aggregating everything at once. */
#include <criterion/criterion.h>
#include <sqlite3.h>

#include "store/rollup.h"
#include "store/store.h"

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

/* Values added once (minute, hours and days folded at flush) give the same
 * rows as each value added to its three buckets — across minute, hour and
 * local-day boundaries (UTC+8: the local day starts at 16:00 UTC), with
 * values out of order and ties on timestamps. */
static void buckets_utc8(int64_t ts, struct ph_rollup_buckets *bk) {
  const int64_t off = 8 * 3600000LL;
  bk->start[PH_ROLLUP_MINUTE] = ts - ts % 60000;
  bk->start[PH_ROLLUP_HOUR] = ts - ts % 3600000;
  bk->start[PH_ROLLUP_DAY] = (ts + off) - (ts + off) % 86400000 - off;
  bk->expected[PH_ROLLUP_MINUTE] = 60;
  bk->expected[PH_ROLLUP_HOUR] = 3600;
  bk->expected[PH_ROLLUP_DAY] = 86400;
}

Test(rollup, value_folded_into_hours_and_days_equals_adding_each_period) {
  struct ph_store *st2;
  struct ph_rollup *ru2;
  struct ph_err err = {0};
  cr_assert_eq(ph_store_open(":memory:", &st2, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_rollup_new(&ru2), 0);
  const int64_t t0 = 1796140800000LL - 2 * 3600000LL + 59000; /* 2 h before a local midnight, 1 s before a minute */
  uint64_t x = 12345;
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 5000; i++) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      int64_t ts = t0 + (int64_t)(x >> 34) % (5 * 3600000LL); /* 5 hours, any order */
      if (i % 7 == 0) ts = t0 + 3600000LL;                    /* ties */
      double v = (double)(x >> 44) / 7.0;
      bool valid = (x >> 20) % 5 != 0;
      int64_t series = 1 + (int64_t)(x >> 30) % 3;
      struct ph_rollup_buckets bk;
      buckets_utc8(ts, &bk);
      cr_assert_eq(ph_rollup_add_value(ru, series, &bk, ts, v, valid), 0);
      for (int p = 0; p < PH_ROLLUP_PERIODS; p++)
        cr_assert_eq(ph_rollup_add(ru2, series, p, bk.start[p], bk.expected[p], ts, v, valid), 0);
    }
    flush();
    cr_assert_eq(ph_store_begin(st2, &err), 0);
    cr_assert_eq(ph_rollup_flush(ru2, st2, &err), 0, "%s", err.msg);
    cr_assert_eq(ph_store_commit(st2, &err), 0);
  }
  const char *q = "SELECT series_id, period, bucket_ms, n, n_valid, sum, sum_valid, min, max, first_ts, first, last_ts,"
                  " last, expected FROM rollups ORDER BY series_id, period, bucket_ms";
  sqlite3_stmt *a, *b;
  sqlite3_prepare_v2(ph_store_db(st), q, -1, &a, NULL);
  sqlite3_prepare_v2(ph_store_db(st2), q, -1, &b, NULL);
  int rows = 0, days = 0;
  for (;;) {
    int ra = sqlite3_step(a), rb = sqlite3_step(b);
    cr_assert_eq(ra, rb, "row %d: one table has more rows", rows);
    if (ra != SQLITE_ROW) break;
    for (int c = 0; c < 14; c++)
      if (c == 5 || c == 6) /* sums: folding adds in another order */
        cr_assert_float_eq(sqlite3_column_double(a, c), sqlite3_column_double(b, c), 1e-6, "row %d col %d", rows, c);
      else
        cr_assert_eq(sqlite3_column_double(a, c), sqlite3_column_double(b, c), "row %d col %d", rows, c);
    days += sqlite3_column_int(a, 1) == PH_ROLLUP_DAY;
    rows++;
  }
  cr_assert_gt(rows, 3 * 300, "minutes of 5 hours for 3 series");
  cr_assert_eq(days, 3 * 2, "two local days per series");
  sqlite3_finalize(a);
  sqlite3_finalize(b);
  ph_rollup_free(ru2);
  ph_store_close(st2);
}
