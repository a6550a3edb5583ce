#include <criterion/criterion.h>

#include "parkhub/dedupe.h"

static struct ph_dedupe *d;
static void setup(void) { cr_assert_eq(ph_dedupe_new(&d), 0); }
static void teardown(void) { ph_dedupe_free(d); }
TestSuite(dedupe, .init = setup, .fini = teardown);

static struct ph_dedupe_result check(int64_t seq, int64_t oldest) {
  struct ph_dedupe_result r;
  cr_assert_eq(ph_dedupe_check(d, 1, 100, seq, oldest, &r), 0);
  return r;
}

Test(dedupe, in_order_batches_advance_upto) {
  for (int64_t s = 1; s <= 5; s++) {
    struct ph_dedupe_result r = check(s, 1);
    cr_assert_eq(r.verdict, PH_DEDUPE_NEW);
    cr_assert_eq(r.stream->upto, s);
    cr_assert_eq(r.new_stream, s == 1);
  }
}

Test(dedupe, a_replay_is_a_duplicate_and_still_acked) {
  check(1, 1);
  check(2, 1);
  struct ph_dedupe_result r = check(2, 1);
  cr_assert_eq(r.verdict, PH_DEDUPE_DUP);
  cr_assert(r.stream->ack_pending, "the agent may have missed the ack: send it again");
  cr_assert_eq(check(1, 1).verdict, PH_DEDUPE_DUP);
}

Test(dedupe, out_of_order_is_held_above_then_absorbed) {
  check(1, 1);
  struct ph_dedupe_result r = check(3, 2);
  cr_assert_eq(r.verdict, PH_DEDUPE_NEW);
  cr_assert(r.above);
  cr_assert_eq(r.stream->upto, 1, "2 is still missing");
  cr_assert_eq(check(3, 2).verdict, PH_DEDUPE_DUP, "3 is held above: a duplicate");
  r = check(2, 2);
  cr_assert_eq(r.verdict, PH_DEDUPE_NEW);
  cr_assert_eq(r.stream->upto, 3, "2 fills the hole and 3 is absorbed");
  cr_assert_eq(r.stream->nabove, 0);
}

Test(dedupe, declared_gap_is_reported_once_and_skipped) {
  check(1, 1);
  check(3, 2); /* held above */
  struct ph_dedupe_result r = check(6, 5);
  /* 2 never came (the agent says it holds only >= 5); 3 did; 4 never came. */
  cr_assert_eq(r.ngaps, 2);
  cr_assert_eq(r.gaps[0][0], 2);
  cr_assert_eq(r.gaps[0][1], 2);
  cr_assert_eq(r.gaps[1][0], 4);
  cr_assert_eq(r.gaps[1][1], 4);
  cr_assert_eq(r.stream->upto, 4, "upto moves to oldest - 1");
  cr_assert(r.above, "6 waits for 5");
  r = check(5, 5);
  cr_assert_eq(r.ngaps, 0, "a gap is reported once");
  cr_assert_eq(r.stream->upto, 6);
}

Test(dedupe, epochs_are_separate_streams_and_a_new_one_is_a_reinstall) {
  check(1, 1);
  check(2, 1);
  struct ph_dedupe_result r;
  cr_assert_eq(ph_dedupe_check(d, 1, 200, 1, 1, &r), 0);
  cr_assert_eq(r.verdict, PH_DEDUPE_NEW, "seq 1 of a new epoch is new data");
  cr_assert(r.new_stream);
  cr_assert(r.reinstall);
  cr_assert_eq(ph_dedupe_check(d, 2, 100, 1, 1, &r), 0);
  cr_assert_not(r.reinstall, "another agent's first epoch");
}

Test(dedupe, state_reloads_from_saved_rows) {
  ph_dedupe_load(d, 7, 9, 10, 0); /* upto 10 */
  ph_dedupe_load(d, 7, 9, 12, 1); /* 12 held above */
  struct ph_dedupe_result r;
  cr_assert_eq(ph_dedupe_check(d, 7, 9, 10, 1, &r), 0);
  cr_assert_eq(r.verdict, PH_DEDUPE_DUP);
  cr_assert_eq(ph_dedupe_check(d, 7, 9, 12, 1, &r), 0);
  cr_assert_eq(r.verdict, PH_DEDUPE_DUP);
  cr_assert_eq(ph_dedupe_check(d, 7, 9, 11, 1, &r), 0);
  cr_assert_eq(r.verdict, PH_DEDUPE_NEW);
  cr_assert_eq(r.stream->upto, 12);
  ph_dedupe_reset(d);
  cr_assert_eq(ph_dedupe_count(d), 0);
}
