/* The WAL stays bounded under sustained writes (ph_store_wal_restart): a
 * checkpoint from the writer's connection between transactions lets the next
 * transaction start the WAL over, while without it a WAL only grows. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"

static char dir[64], path[128], wal[140];

static struct ph_store *open_store(void) {
  strcpy(dir, "/tmp/phwalXXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/hub.db", dir);
  snprintf(wal, sizeof wal, "%s-wal", path);
  struct ph_store *st;
  struct ph_err err = {0};
  cr_assert_eq(ph_store_open(path, &st, &err), 0, "%s", err.msg);
  return st;
}

static void remove_store(struct ph_store *st) {
  ph_store_close(st);
  unlink(wal);
  char shm[140];
  snprintf(shm, sizeof shm, "%s-shm", path);
  unlink(shm);
  unlink(path);
  rmdir(dir);
}

static long long file_size(const char *p) {
  struct stat sb;
  return stat(p, &sb) == 0 ? (long long)sb.st_size : -1;
}

/* One transaction of 50 chunks of 4 kB: about 60 WAL frames. */
static void write_tx(struct ph_store *st, int64_t point, int tx) {
  static unsigned char blob[4000];
  memset(blob, tx & 0xff, sizeof blob);
  struct ph_err err = {0};
  cr_assert_eq(ph_store_begin(st, &err), 0, "%s", err.msg);
  for (int i = 0; i < 50; i++) {
    int64_t seq = (int64_t)tx * 50 + i + 1;
    cr_assert_eq(ph_store_chunk(st, point, seq * 1000, seq * 1000, 1, 1, seq, 1, 1, blob, sizeof blob), 0);
  }
  cr_assert_eq(ph_store_commit(st, &err), 0, "%s", err.msg);
}

static int64_t a_point(struct ph_store *st) {
  struct ph_err err = {0};
  int64_t point;
  cr_assert_eq(ph_store_begin(st, &err), 0);
  cr_assert_eq(ph_store_point_id(st, "p", "e", "stack-1", &point), 0);
  cr_assert_eq(ph_store_commit(st, &err), 0, "%s", err.msg);
  return point;
}

Test(store_wal, restart_keeps_the_wal_bounded) {
  struct ph_store *st = open_store();
  int64_t point = a_point(st);
  const int max_frames = 200;
  int restarts = 0, most = 0;
  struct ph_err err = {0};
  for (int tx = 0; tx < 100; tx++) { /* about 6 000 frames written in all */
    write_tx(st, point, tx);
    int frames = ph_store_wal_frames(st);
    if (frames > most) most = frames;
    int done = -1;
    cr_assert_eq(ph_store_wal_restart(st, max_frames, &done, &err), 0, "%s", err.msg);
    if (frames <= max_frames) cr_expect_eq(done, 0, "no checkpoint below the bound (frames %d)", frames);
    else cr_expect_eq(done, frames, "a checkpoint with no reader copies every frame (%d of %d)", done, frames);
    restarts += done > 0;
  }
  cr_expect_gt(restarts, 10);
  cr_expect_leq(most, max_frames + 100, "the WAL held %d frames after a commit", most);
  /* The WAL file is reused from its start, never longer than the bound plus
   * one transaction (a frame is a 4 kB page and a 24-byte header). */
  cr_expect_leq(file_size(wal), (long long)(max_frames + 100) * 4120, "WAL file %lld bytes", file_size(wal));
  sqlite3 *db = ph_store_db(st);
  sqlite3_stmt *s;
  cr_assert_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM samples", -1, &s, NULL), SQLITE_OK, "%s",
               sqlite3_errmsg(db));
  cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
  cr_expect_eq(sqlite3_column_int64(s, 0), 5000, "every chunk is still there");
  sqlite3_finalize(s);
  remove_store(st);
}

Test(store_wal, without_restart_the_wal_only_grows) {
  struct ph_store *st = open_store();
  int64_t point = a_point(st);
  for (int tx = 0; tx < 20; tx++) write_tx(st, point, tx);
  /* The baseline the test above is measured against: auto-checkpoints are
   * off (the hub checkpoints itself), so nothing restarts the WAL. */
  cr_expect_gt(ph_store_wal_frames(st), 20 * 50);
  cr_expect_gt(file_size(wal), 20LL * 50 * 4000);
  remove_store(st);
}

Test(store_wal, a_reader_holds_the_checkpoint_back_without_an_error) {
  struct ph_store *st = open_store();
  int64_t point = a_point(st);
  for (int tx = 0; tx < 10; tx++) write_tx(st, point, tx);
  sqlite3 *rd;
  cr_assert_eq(sqlite3_open_v2(path, &rd, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  cr_assert_eq(sqlite3_exec(rd, "BEGIN; SELECT count(*) FROM samples;", NULL, NULL, NULL), SQLITE_OK);
  write_tx(st, point, 10); /* after the reader's snapshot: these frames cannot be copied yet */
  int done = -1;
  struct ph_err err = {0};
  int before = ph_store_wal_frames(st);
  cr_assert_eq(ph_store_wal_restart(st, 100, &done, &err), 0, "%s", err.msg);
  cr_expect_lt(done, before, "the frames the reader's snapshot needs are not copied (%d of %d)", done, before);
  cr_assert_eq(sqlite3_exec(rd, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(rd);
  write_tx(st, point, 11);
  cr_assert_eq(ph_store_wal_restart(st, 100, &done, &err), 0, "%s", err.msg);
  cr_expect_gt(done, 0, "with the reader gone the checkpoint copies everything");
  remove_store(st);
}
