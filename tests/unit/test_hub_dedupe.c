#include <criterion/criterion.h>

#include "parkhub/batch.h"
#include "store/dedupe.h"

#define BOUND PH_OUTBOX_MAX_BATCHES_DEFAULT /* parks[].enterprises[].max_seq_ahead's default */
#define SEQ_MAX 9007199254740991LL         /* 2^53 - 1 */

static struct ph_dedupe *d;
static void setup(void) { cr_assert_eq(ph_dedupe_new(&d), 0); }
static void teardown(void) { ph_dedupe_free(d); }
TestSuite(dedupe, .init = setup, .fini = teardown);

static struct ph_dedupe_result check(int64_t seq, int64_t oldest) {
  struct ph_dedupe_result r;
  cr_assert_eq(ph_dedupe_check(d, 1, 100, seq, oldest, BOUND, &r), 0);
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
  cr_assert_eq(ph_dedupe_check(d, 1, 200, 1, 1, BOUND, &r), 0);
  cr_assert_eq(r.verdict, PH_DEDUPE_NEW, "seq 1 of a new epoch is new data");
  cr_assert(r.new_stream);
  cr_assert(r.reinstall);
  cr_assert_eq(ph_dedupe_check(d, 2, 100, 1, 1, BOUND, &r), 0);
  cr_assert_not(r.reinstall, "another agent's first epoch");
}

Test(dedupe, state_reloads_from_saved_rows) {
  ph_dedupe_load(d, 7, 9, 10, 0); /* upto 10 */
  ph_dedupe_load(d, 7, 9, 12, 1); /* 12 held above */
  struct ph_dedupe_result r;
  cr_assert_eq(ph_dedupe_check(d, 7, 9, 10, 1, BOUND, &r), 0);
  cr_assert_eq(r.verdict, PH_DEDUPE_DUP);
  cr_assert_eq(ph_dedupe_check(d, 7, 9, 12, 1, BOUND, &r), 0);
  cr_assert_eq(r.verdict, PH_DEDUPE_DUP);
  cr_assert_eq(ph_dedupe_check(d, 7, 9, 11, 1, BOUND, &r), 0);
  cr_assert_eq(r.verdict, PH_DEDUPE_NEW);
  cr_assert_eq(r.stream->upto, 12);
  ph_dedupe_reset(d);
  cr_assert_eq(ph_dedupe_count(d), 0);
}

/* ---- issue #16 item 1: implausible seqs (dedupe.h inv. 4) ---- */

Test(dedupe, a_seq_further_ahead_than_an_outbox_holds_is_refused_and_changes_nothing) {
  check(1, 1);
  check(2, 1);
  struct ph_dedupe_result r = check(SEQ_MAX, SEQ_MAX);
  cr_assert_eq(r.verdict, PH_DEDUPE_AHEAD);
  cr_assert_eq(r.ngaps, 0, "no gap is declared by a refused batch");
  cr_assert_eq(r.upto_before, 2);
  r = check(3, 1);
  cr_assert_eq(r.verdict, PH_DEDUPE_NEW, "the agent's next batch is new data");
  cr_assert_eq(r.stream->upto, 3);
}

Test(dedupe, a_gap_of_exactly_the_bound_is_plausible) {
  check(1, 1);
  struct ph_dedupe_result r = check(1 + BOUND, 1 + BOUND);
  cr_assert_eq(r.verdict, PH_DEDUPE_NEW);
  cr_assert_eq(r.lost, BOUND - 1);
  cr_assert_eq(check(2 + BOUND, 2 + BOUND).verdict, PH_DEDUPE_NEW);
  cr_assert_eq(check(3 + 2 * BOUND, 3 + 2 * BOUND).verdict, PH_DEDUPE_AHEAD, "one past the bound");
}

Test(dedupe, an_outbox_claimed_larger_than_the_bound_is_refused_on_a_new_stream_too) {
  struct ph_dedupe_result r;
  cr_assert_eq(ph_dedupe_check(d, 5, 500, 1 + BOUND, 1, BOUND, &r), 0);
  cr_assert_eq(r.verdict, PH_DEDUPE_AHEAD, "seq - oldest + 1 > bound: more than an outbox holds");
  cr_assert_eq(ph_dedupe_count(d), 0, "a refused batch makes no stream");
  cr_assert_eq(ph_dedupe_check(d, 5, 500, BOUND, 1, BOUND, &r), 0);
  cr_assert_eq(r.verdict, PH_DEDUPE_NEW);
}

Test(dedupe, a_stream_the_hub_does_not_know_starts_where_its_first_batch_says) {
  struct ph_dedupe_result r;
  cr_assert_eq(ph_dedupe_check(d, 5, 600, 5 * BOUND, 5 * BOUND, BOUND, &r), 0);
  cr_assert_eq(r.verdict, PH_DEDUPE_NEW, "the hub may have lost its database: not refused");
  cr_assert_eq(r.lost, 5 * BOUND - 1);
}

Test(dedupe, a_declared_gap_counts_every_lost_batch_beyond_the_listed_ranges) {
  check(1, 1);
  for (int64_t s = 3; s <= 41; s += 2) check(s, 2); /* 3, 5, .. 41 held above: 20 holes of one */
  struct ph_dedupe_result r = check(50, 50);
  cr_assert_eq(r.ngaps, 8, "the first 8 ranges are listed");
  cr_assert_eq(r.lost, 48 - 20, "2..49 minus the 20 held: %lld", (long long)r.lost);
  cr_assert_eq(r.stream->upto, 50);
}

/* ---- issue #16 item 7: bounded epochs per agent (dedupe.h inv. 5) ---- */

/* The writer's commit and ack of every stream. */
static void commit_and_ack(void) {
  for (size_t i = 0; i < ph_dedupe_count(d); i++) {
    ph_dedupe_at(d, i)->dirty = false;
    ph_dedupe_at(d, i)->ack_pending = false;
  }
}

Test(dedupe, an_agents_older_epochs_leave_memory_once_saved_and_acked) {
  struct ph_dedupe_result r;
  for (int64_t e = 1; e <= 10000; e++) {
    cr_assert_eq(ph_dedupe_check(d, 1, e, 1, 1, BOUND, &r), 0);
    commit_and_ack();
    ph_dedupe_trim(d);
  }
  cr_assert_leq(ph_dedupe_count(d), PH_DEDUPE_EPOCHS, "streams in memory: %zu", ph_dedupe_count(d));
  cr_assert_eq(ph_dedupe_released(d), 10000 - ph_dedupe_count(d));
  cr_assert_eq(ph_dedupe_check(d, 1, 10000, 2, 1, BOUND, &r), 0);
  cr_assert_eq(r.verdict, PH_DEDUPE_NEW, "the live epoch is still in memory");
  cr_assert_eq(r.stream->upto, 2);
}

Test(dedupe, a_stream_waiting_for_its_commit_or_ack_is_kept) {
  struct ph_dedupe_result r;
  for (int64_t e = 1; e <= 3 * PH_DEDUPE_EPOCHS; e++) cr_assert_eq(ph_dedupe_check(d, 1, e, 1, 1, BOUND, &r), 0);
  ph_dedupe_trim(d);
  cr_assert_eq(ph_dedupe_count(d), 3 * PH_DEDUPE_EPOCHS, "all dirty: none may go");
  for (size_t i = 0; i < ph_dedupe_count(d); i++) ph_dedupe_at(d, i)->dirty = false;
  ph_dedupe_trim(d);
  cr_assert_eq(ph_dedupe_count(d), 3 * PH_DEDUPE_EPOCHS, "saved but not acked: none may go");
  commit_and_ack();
  ph_dedupe_trim(d);
  cr_assert_eq(ph_dedupe_count(d), PH_DEDUPE_EPOCHS);
}

Test(dedupe, other_agents_keep_their_epochs) {
  struct ph_dedupe_result r;
  cr_assert_eq(ph_dedupe_check(d, 2, 7, 1, 1, BOUND, &r), 0);
  for (int64_t e = 1; e <= 100; e++) cr_assert_eq(ph_dedupe_check(d, 1, e, 1, 1, BOUND, &r), 0);
  commit_and_ack();
  ph_dedupe_trim(d);
  cr_assert_eq(ph_dedupe_count(d), PH_DEDUPE_EPOCHS + 1);
  cr_assert_eq(ph_dedupe_check(d, 2, 7, 1, 1, BOUND, &r), 0);
  cr_assert_eq(r.verdict, PH_DEDUPE_DUP, "agent 2's stream kept its state");
}

/* A database of one released stream: (agent 1, epoch 1) at upto 5, 7 held above. */
static int loads;
static int fake_db(void *ctx, struct ph_dedupe *dd, int64_t agent_id, int64_t epoch) {
  (void)ctx;
  loads++;
  if (agent_id != 1 || epoch != 1) return 0;
  ph_dedupe_load_row(dd, &(struct ph_stream_row){.agent_id = 1, .epoch = 1, .seq = 5, .data_ms = 1000});
  ph_dedupe_load_row(dd, &(struct ph_stream_row){.agent_id = 1, .epoch = 1, .seq = 7, .above = 1});
  return 0;
}

Test(dedupe, a_batch_of_a_released_epoch_is_judged_on_its_stream_loaded_back) {
  struct ph_dedupe_result r;
  ph_dedupe_set_loader(d, fake_db, NULL);
  cr_assert_eq(ph_dedupe_check(d, 1, 1, 5, 1, BOUND, &r), 0);
  cr_assert_eq(loads, 1);
  cr_assert_eq(r.verdict, PH_DEDUPE_DUP, "seq 5 was stored before the stream left memory");
  cr_assert_not(r.new_stream);
  cr_assert_eq(r.data_ms_before, 1000);
  cr_assert_eq(ph_dedupe_check(d, 1, 1, 7, 1, BOUND, &r), 0);
  cr_assert_eq(r.verdict, PH_DEDUPE_DUP, "seq 7 is held above");
  cr_assert_eq(ph_dedupe_check(d, 1, 1, 6, 1, BOUND, &r), 0);
  cr_assert_eq(r.verdict, PH_DEDUPE_NEW);
  cr_assert_eq(r.stream->upto, 7);
  cr_assert_eq(loads, 1, "loaded once, then in memory");
  cr_assert_eq(ph_dedupe_check(d, 1, 2, 1, 1, BOUND, &r), 0);
  cr_assert(r.new_stream, "not in the database either: a new stream");
}

Test(dedupe, a_loaded_stream_is_kept_even_when_the_agents_other_streams_are_busy) {
  struct ph_dedupe_result r;
  ph_dedupe_set_loader(d, fake_db, NULL);
  for (int64_t e = 10; e < 10 + 2 * PH_DEDUPE_EPOCHS; e++) cr_assert_eq(ph_dedupe_check(d, 1, e, 1, 1, BOUND, &r), 0);
  cr_assert_eq(ph_dedupe_check(d, 1, 1, 5, 1, BOUND, &r), 0);
  cr_assert_eq(r.verdict, PH_DEDUPE_DUP, "loaded back, not mistaken for a new stream");
}

Test(dedupe, loading_keeps_the_most_recently_active_epochs) {
  for (int64_t e = 1; e <= 20; e++) ph_dedupe_load(d, 1, e, 3, 0); /* rows come least recently active first */
  ph_dedupe_load(d, 1, 2, 5, 1);                                     /* above row of a released stream: ignored */
  cr_assert_eq(ph_dedupe_count(d), PH_DEDUPE_EPOCHS);
  for (size_t i = 0; i < ph_dedupe_count(d); i++)
    cr_assert_gt(ph_dedupe_at(d, i)->epoch, 20 - PH_DEDUPE_EPOCHS, "epoch %lld kept",
                 (long long)ph_dedupe_at(d, i)->epoch);
}
