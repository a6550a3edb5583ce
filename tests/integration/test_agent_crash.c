/*
 * test_agent_crash.c — the agent's durability across process deaths:
 * SIGKILL mid-stream and a restart lose nothing and reuse no seq (outbox.h
 * inv. 1 and 2: seq and source positions commit with the batch); an outbox
 * deleted while the agent is stopped starts a new epoch at seq 1
 * (DESIGN.md "epoch").
 *
 * The fake hub (agent_helpers.h) dedupes on (agent, epoch, seq) and flags a
 * seq that arrives twice with different records (a reused seq).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "agent_helpers.h"

#define WAIT_MS 30000
#define LINES_PER_TICK 20 /* every 20 ms: 1000 records/s */
#define TICK_MS 20

static struct ah_env env;
static char why[1024];

static void setup(void) { cr_assert_eq(ah_env_setup(&env, true), 0, "sandbox (broker, fake hub)"); }
static void teardown(void) { ah_env_teardown(&env); }

TestSuite(agent_crash, .init = setup, .fini = teardown, .timeout = 90);

static long produce_for(long next, int ms)
{
	long long end = pht_now_ms() + ms;

	while (pht_now_ms() < end) {
		cr_assert_eq(ah_jsonl_append(env.data, next, next + LINES_PER_TICK), 0);
		next += LINES_PER_TICK;
		pht_sleep_ms(TICK_MS);
	}
	return next;
}

static void stop_cleanly(void)
{
	int status = 0;

	cr_assert_eq(pht_proc_kill(&env.agent, SIGTERM), 0);
	cr_assert_eq(pht_proc_wait(&env.agent, 10000, &status), 0, "agent did not stop on SIGTERM");
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "agent exit status %#x", status);
	cr_expect_eq(ah_log_clean(env.log, why, sizeof why), 0, "%s", why);
}

/* Three SIGKILLs at different moments of a steady stream (1000 records/s,
 * batches of 10, 50 ms delay): each restart resumes after the last
 * committed line and at the next unused seq. */
Test(agent_crash, sigkill_mid_stream_restart_loses_nothing_reuses_no_seq)
{
	static const int run_ms[] = {1500, 700, 1100};
	char src[1024];
	struct ah_keys want = {0};
	struct ah_cfg c = {.sources = ah_env_jsonl_source(&env, src, sizeof src), .max_records = 10,
			   .max_delay_ms = 50};
	long n = 0;

	cr_assert_eq(ah_env_start_agent(&env, &c), 0);
	for (int k = 0; k < 3; k++) {
		n = produce_for(n, run_ms[k]);
		cr_assert_eq(pht_proc_kill(&env.agent, SIGKILL), 0);
		cr_assert_eq(pht_proc_wait(&env.agent, 5000, NULL), 0);
		n = produce_for(n, 300); /* the file grows while the agent is dead */
		cr_assert_eq(ah_agent_start(&env.agent, env.cfg, env.log), 0, "restart %d", k + 1);
	}
	n = produce_for(n, 1000);

	cr_assert_eq(ah_keys_add_range(&want, 0, n), 0);
	cr_assert_eq(ah_hub_wait_records(env.hub, AH_AGENT, (size_t)n, WAIT_MS), 0, "got %zu of %ld records (see %s)",
		     ah_hub_records(env.hub, AH_AGENT), n, env.log);
	cr_assert_eq(ah_hub_wait_acked(env.hub, AH_AGENT, WAIT_MS), 0);
	pht_sleep_ms(300);
	cr_expect_eq(ah_hub_same_records(env.hub, AH_AGENT, &want, why, sizeof why), 0, "%s", why);
	cr_expect_eq(ah_hub_check_seqs(env.hub, AH_AGENT, true, why, sizeof why), 0, "%s", why);
	int64_t epochs[4];
	cr_expect_eq(ah_hub_epochs(env.hub, AH_AGENT, epochs, 4), 1, "a SIGKILL must not start a new epoch");
	cr_expect_eq(ah_file_count(env.log, ", resuming"), 3, "each restart resumes the source (see %s)", env.log);
	stop_cleanly();
	ah_keys_free(&want);
}

Test(agent_crash, outbox_deleted_while_stopped_starts_new_epoch_at_seq_1)
{
	char src[1024], val[64];
	struct ah_cfg c = {.sources = ah_env_jsonl_source(&env, src, sizeof src), .status_interval_s = 5};
	int64_t ep[4], lo, hi;

	cr_assert_eq(ah_jsonl_append(env.data, 0, 500), 0);
	cr_assert_eq(ah_env_start_agent(&env, &c), 0);
	cr_assert_eq(ah_hub_wait_records(env.hub, AH_AGENT, 500, WAIT_MS), 0);
	cr_assert_eq(ah_hub_wait_acked(env.hub, AH_AGENT, WAIT_MS), 0);
	stop_cleanly();
	cr_assert_eq(ah_hub_epochs(env.hub, AH_AGENT, ep, 4), 1);
	cr_assert_eq(ah_hub_seq_range(env.hub, AH_AGENT, ep[0], &lo, &hi), 0);
	cr_assert_gt(hi, 1, "the first epoch should have several batches");

	cr_assert_eq(ah_env_delete_outbox(&env), 0);
	cr_assert_eq(ah_agent_start(&env.agent, env.cfg, env.log), 0);
	/* The new outbox knows no position: the file is read again from its
	 * start (from_start), into the new epoch; then 100 new lines. */
	cr_assert_eq(ah_jsonl_append(env.data, 500, 600), 0);
	cr_assert_eq(ah_hub_wait_records(env.hub, AH_AGENT, 500 + 600, WAIT_MS), 0, "got %zu records (see %s)",
		     ah_hub_records(env.hub, AH_AGENT), env.log);
	cr_assert_eq(ah_hub_epochs(env.hub, AH_AGENT, ep, 4), 2, "the agent kept its old epoch");
	cr_expect_gt(ep[1], ep[0], "new epoch %lld is not after the old one %lld", (long long)ep[1], (long long)ep[0]);
	cr_assert_eq(ah_hub_seq_range(env.hub, AH_AGENT, ep[1], &lo, &hi), 0);
	cr_expect_eq(lo, 1, "the new epoch starts at seq %lld", (long long)lo);
	cr_expect_eq(ah_hub_check_seqs(env.hub, AH_AGENT, true, why, sizeof why), 0, "%s", why);
	/* The hub's acks of the new epoch are taken: the outbox drains and the
	 * status names the new epoch. */
	cr_assert_eq(ah_hub_wait_acked(env.hub, AH_AGENT, WAIT_MS), 0);
	snprintf(val, sizeof val, "%lld", (long long)ep[1]);
	cr_expect_eq(ah_hub_wait_status(env.hub, AH_AGENT, "epoch", val, 10000), 0, "status epoch is not %s", val);
	cr_expect_eq(ah_hub_wait_status(env.hub, AH_AGENT, "outbox.depth", "0", 10000), 0,
		     "the new epoch's batches were not released by the acks");
	stop_cleanly();
}
