/* Retention removes old raw-sample chunks in bounded steps and gives the
 * pages back to the file system (auto_vacuum=INCREMENTAL), keeping rollups. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"

static char dir[64], path[128];

static long long one(sqlite3 *db, const char *sql) {
  sqlite3_stmt *s;
  cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK, "%s", sql);
  cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
  long long v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

Test(retention, old_chunks_go_and_the_file_shrinks) {
  strcpy(dir, "/tmp/phretXXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/hub.db", dir);
  struct ph_store *st;
  struct ph_err err = {0};
  cr_assert_eq(ph_store_open(path, &st, &err), 0, "%s", err.msg);
  sqlite3 *db = ph_store_db(st);
  int64_t point;
  cr_assert_eq(ph_store_begin(st, &err), 0);
  cr_assert_eq(ph_store_point_id(st, "p", "e", "stack-1", &point), 0);
  static unsigned char blob[4000];
  memset(blob, 7, sizeof blob);
  const int64_t day = 86400000;
  for (int i = 0; i < 2000; i++) /* 1000 chunks 200 days old, 1000 from today */
    cr_assert_eq(ph_store_chunk(st, point, (i < 1000 ? 0 : 200 * day) + i, (i < 1000 ? 0 : 200 * day) + i, 1, 1, i + 1,
                                1, 1, blob, sizeof blob), 0);
  struct ph_rollup_agg a = {.n = 1, .n_valid = 1, .sum = 1, .sum_valid = 1, .min = 1, .max = 1, .first = 1, .last = 1};
  cr_assert_eq(ph_store_rollup(st, 1, 0, 0, &a, 1), 0);
  cr_assert_eq(ph_store_commit(st, &err), 0);
  sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
  long long pages_before = one(db, "PRAGMA page_count");

  /* cutoff: 100 days; steps of 300 chunks, as the writer does */
  int64_t total = 0, n;
  int steps = 0;
  while ((n = ph_store_retention(st, 100 * day, 300, &err)) > 0) {
    cr_assert_leq(n, 300, "a step deletes at most its limit");
    total += n;
    steps++;
  }
  cr_assert_eq(n, 0, "%s", err.msg);
  cr_assert_eq(total, 1000);
  cr_assert_eq(steps, 4);
  cr_assert_eq(one(db, "SELECT count(*) FROM samples"), 1000, "recent chunks stay");
  cr_assert_eq(one(db, "SELECT count(*) FROM samples WHERE ts_min < 100 * 86400000"), 0);
  cr_assert_eq(one(db, "SELECT count(*) FROM rollups"), 1, "rollups are kept");
  sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
  long long pages_after = one(db, "PRAGMA page_count");
  cr_assert_lt(pages_after, pages_before * 3 / 4, "pages returned: %lld → %lld", pages_before, pages_after);
  cr_assert_eq(one(db, "PRAGMA freelist_count"), 0, "no free pages left behind");
  ph_store_close(st);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}
