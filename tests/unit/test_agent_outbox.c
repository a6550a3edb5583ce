#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "publish/outbox.h"

static char dir[64], path[128];

static void setup(void) {
  strcpy(dir, "/tmp/phoutboxXXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/outbox.db", dir);
}
static void teardown(void) {
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}
TestSuite(outbox, .init = setup, .fini = teardown);

static struct ph_outbox *open_ob(void) {
  struct ph_outbox *ob;
  struct ph_err err = {0};
  cr_assert_eq(ph_outbox_open(path, &ob, &err), 0, "%s", err.msg);
  return ob;
}

static int64_t append(struct ph_outbox *ob, const char *body) {
  int64_t seq;
  struct ph_err err = {0};
  cr_assert_eq(ph_outbox_begin(ob, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_outbox_append(ob, PH_KIND_EMISSION, body, strlen(body), 1, 0, &seq, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_outbox_commit(ob, &err), 0, "%s", err.msg);
  return seq;
}

Test(outbox, seq_continues_across_reopen_and_acks) {
  struct ph_outbox *ob = open_ob();
  int64_t epoch = ph_outbox_epoch(ob);
  cr_assert_gt(epoch, 0);
  cr_assert_eq(append(ob, "[1]"), 1);
  cr_assert_eq(append(ob, "[2]"), 2);
  int64_t removed;
  cr_assert_eq(ph_outbox_ack(ob, 2, &removed, NULL), 0);
  cr_assert_eq(removed, 2);
  cr_assert_eq(ph_outbox_depth(ob), 0);
  ph_outbox_close(ob);
  ob = open_ob();
  cr_assert_eq(ph_outbox_epoch(ob), epoch, "the epoch belongs to the file");
  cr_assert_eq(append(ob, "[3]"), 3, "inv. 1: a seq is never reused, even when everything was acked");
  cr_assert_eq(ph_outbox_last_acked(ob), 2);
  ph_outbox_close(ob);
}

Test(outbox, a_new_file_is_a_new_epoch) {
  struct ph_outbox *ob = open_ob();
  int64_t epoch = ph_outbox_epoch(ob);
  append(ob, "[1]");
  ph_outbox_close(ob);
  unlink(path);
  usleep(2000);
  ob = open_ob();
  cr_assert_neq(ph_outbox_epoch(ob), epoch);
  cr_assert_eq(append(ob, "[1]"), 1, "a new epoch starts at seq 1");
  ph_outbox_close(ob);
}

Test(outbox, batches_come_back_in_order_until_acked) {
  struct ph_outbox *ob = open_ob();
  for (int i = 1; i <= 5; i++) {
    char b[16];
    snprintf(b, sizeof b, "[%d]", i);
    append(ob, b);
  }
  cr_assert_eq(ph_outbox_ack(ob, 2, NULL, NULL), 0);
  cr_assert_eq(ph_outbox_oldest(ob), 3);
  struct ph_outbox_item it;
  cr_assert_eq(ph_outbox_next(ob, 1, &it, NULL), 0);
  cr_assert_eq(it.seq, 3, "acked batches are gone");
  cr_assert_eq(strncmp(it.body, "[3]", it.len), 0);
  cr_assert_eq(ph_outbox_next(ob, 6, &it, NULL), PH_ENOTFOUND);
  cr_assert_eq(ph_outbox_ack(ob, 99, NULL, NULL), 0, "an ack beyond what exists is clamped");
  cr_assert_eq(ph_outbox_depth(ob), 0);
  cr_assert_eq(ph_outbox_last_acked(ob), 5);
  cr_assert_eq(ph_outbox_oldest(ob), 6);
  ph_outbox_close(ob);
}

Test(outbox, positions_commit_with_the_batch_or_not_at_all) {
  struct ph_outbox *ob = open_ob();
  struct ph_source_pos p = {.a = 42, .b = 1000, .c = 17, .valid = 1}, got;
  struct ph_err err = {0};
  int64_t seq;
  cr_assert_eq(ph_outbox_begin(ob, &err), 0);
  cr_assert_eq(ph_outbox_append(ob, PH_KIND_PROCESS, "[]", 2, 0, 0, &seq, &err), 0);
  cr_assert_eq(ph_outbox_set_position(ob, "src", &p, &err), 0);
  ph_outbox_rollback(ob);
  cr_assert_eq(ph_outbox_get_position(ob, "src", &got, &err), 0);
  cr_assert_not(got.valid, "inv. 2: rolled back together");
  cr_assert_eq(ph_outbox_depth(ob), 0);
  cr_assert_eq(ph_outbox_next_seq(ob), 1, "a rolled-back seq was never used");
  cr_assert_eq(ph_outbox_begin(ob, &err), 0);
  cr_assert_eq(ph_outbox_append(ob, PH_KIND_PROCESS, "[]", 2, 0, 0, &seq, &err), 0);
  cr_assert_eq(ph_outbox_set_position(ob, "src", &p, &err), 0);
  cr_assert_eq(ph_outbox_commit(ob, &err), 0);
  ph_outbox_close(ob);
  ob = open_ob();
  cr_assert_eq(ph_outbox_get_position(ob, "src", &got, &err), 0);
  cr_assert(got.valid);
  cr_assert(got.a == 42 && got.b == 1000 && got.c == 17);
  ph_outbox_close(ob);
}

Test(outbox, drop_oldest_removes_exactly_n) {
  struct ph_outbox *ob = open_ob();
  for (int i = 0; i < 10; i++) append(ob, "[0]");
  int64_t dropped;
  cr_assert_eq(ph_outbox_drop_oldest(ob, 3, &dropped, NULL), 0);
  cr_assert_eq(dropped, 3);
  cr_assert_eq(ph_outbox_depth(ob), 7);
  cr_assert_eq(ph_outbox_oldest(ob), 4, "the agent now declares 4 as its oldest");
  cr_assert_eq(ph_outbox_last_acked(ob), 0, "a drop is not an ack");
  ph_outbox_close(ob);
}

Test(outbox, unusable_path_is_explained) {
  struct ph_outbox *ob;
  struct ph_err err = {0};
  cr_assert_eq(ph_outbox_open("/nonexistent-dir/outbox.db", &ob, &err), PH_EDB);
  cr_assert(strstr(err.msg, "/nonexistent-dir/outbox.db"), "%s", err.msg);
}
