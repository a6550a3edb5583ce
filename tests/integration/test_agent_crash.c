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
	/* On a shortfall, go on: the checks below tell lost from reused. */
	if (ah_hub_wait_records(env.hub, AH_AGENT, (size_t)n, WAIT_MS) == 0)
		cr_expect_eq(ah_hub_wait_acked(env.hub, AH_AGENT, WAIT_MS), 0);
	else
		cr_expect_fail("got %zu of %ld records (see %s)", ah_hub_records(env.hub, AH_AGENT), n, env.log);
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

/* The simulator across SIGKILLs: a restart resumes at the record after the
 * last committed one, inside its tick when a batch closed there (src_sim.c
 * inv. 2), so every tick's records arrive once. */
Test(agent_crash, sim_sigkill_restart_resumes_after_the_last_commit)
{
	char src[512];
	struct ah_cfg c = {.sources = src, .max_records = 20, .max_delay_ms = 50};
	const int ticks = 3000; /* 600 ticks/s: 5 s of data */

	snprintf(src, sizeof src, AH_SIM_SOURCE, 600, ticks);
	cr_assert_eq(ah_env_start_agent(&env, &c), 0);
	for (int k = 0; k < 3; k++) {
		cr_assert_eq(ah_hub_wait_records(env.hub, AH_AGENT, (size_t)(k + 1) * 600, WAIT_MS), 0);
		cr_assert_eq(pht_proc_kill(&env.agent, SIGKILL), 0);
		cr_assert_eq(pht_proc_wait(&env.agent, 5000, NULL), 0);
		cr_assert_eq(ah_agent_start(&env.agent, env.cfg, env.log), 0, "restart %d", k + 1);
	}
	if (ah_hub_wait_records(env.hub, AH_AGENT, 2 * (size_t)ticks, WAIT_MS) == 0)
		cr_expect_eq(ah_hub_wait_acked(env.hub, AH_AGENT, WAIT_MS), 0);
	else
		cr_expect_fail("got %zu of %d records (see %s)", ah_hub_records(env.hub, AH_AGENT), 2 * ticks, env.log);
	pht_sleep_ms(300);
	cr_expect_eq(ah_hub_sim_check(env.hub, AH_AGENT, ticks, why, sizeof why), 0, "%s", why);
	cr_expect_eq(ah_hub_check_seqs(env.hub, AH_AGENT, true, why, sizeof why), 0, "%s", why);
	stop_cleanly();
}

/* The CSV source across a SIGKILL: the restart reads the header again and
 * resumes after the last committed row. */
Test(agent_crash, csv_sigkill_restart_resumes_after_last_committed_row)
{
	char src[2048], csv[700], line[256], rec[512];
	struct ah_keys want = {0};
	struct ah_cfg c = {.sources = src, .max_records = 10, .max_delay_ms = 50};
	int i = 0;

	snprintf(csv, sizeof csv, "%s/stack.csv", env.dir);
	cr_assert_eq(ah_write_file(csv, "ts,SO2,NOx\n"), 0);
	snprintf(src, sizeof src,
		 "[{\"type\":\"csv\",\"name\":\"cems\",\"path\":\"%s\",\"point\":\"stack-2\","
		 "\"columns\":{\"SO2\":\"so2\",\"NOx\":\"nox\"}}]", csv);
	for (int round = 0; round < 4; round++) {
		/* 300 rows per round, 10 every 20 ms, then SIGKILL and restart */
		if (round == 0) {
			for (; i < 300; i++) {
				snprintf(line, sizeof line, "2026-04-01T%02d:%02d:%02dZ,%d.5,%d.25\n", i / 3600,
					 i / 60 % 60, i % 60, 10 + i % 500, 50 + i % 700);
				cr_assert_eq(ah_append_file(csv, line), 0);
			}
			cr_assert_eq(ah_env_start_agent(&env, &c), 0);
			continue;
		}
		for (int end = i + 300; i < end; i++) {
			snprintf(line, sizeof line, "2026-04-01T%02d:%02d:%02dZ,%d.5,%d.25\n", i / 3600, i / 60 % 60,
				 i % 60, 10 + i % 500, 50 + i % 700);
			cr_assert_eq(ah_append_file(csv, line), 0);
			if (i % 10 == 9)
				pht_sleep_ms(20);
		}
		cr_assert_eq(pht_proc_kill(&env.agent, SIGKILL), 0);
		cr_assert_eq(pht_proc_wait(&env.agent, 5000, NULL), 0);
		cr_assert_eq(ah_agent_start(&env.agent, env.cfg, env.log), 0);
	}
	for (int k = 0; k < i; k++) {
		snprintf(rec, sizeof rec, "{\"ts\":\"2026-04-01T%02d:%02d:%02dZ\",\"point\":\"stack-2\","
			 "\"values\":{\"so2\":%d.5,\"nox\":%d.25}}", k / 3600, k / 60 % 60, k % 60, 10 + k % 500,
			 50 + k % 700);
		cr_assert_eq(ah_keys_add_line(&want, rec), 0);
	}
	if (ah_hub_wait_records(env.hub, AH_AGENT, (size_t)i, WAIT_MS) == 0)
		cr_expect_eq(ah_hub_wait_acked(env.hub, AH_AGENT, WAIT_MS), 0);
	else
		cr_expect_fail("got %zu of %d rows (see %s)", ah_hub_records(env.hub, AH_AGENT), i, env.log);
	pht_sleep_ms(300);
	cr_expect_eq(ah_hub_same_records(env.hub, AH_AGENT, &want, why, sizeof why), 0, "%s", why);
	cr_expect_eq(ah_hub_check_seqs(env.hub, AH_AGENT, true, why, sizeof why), 0, "%s", why);
	cr_expect_eq(ah_file_count(env.log, "invalid record"), 0, "rows were refused (see %s)", env.log);
	stop_cleanly();
	ah_keys_free(&want);
}

/* A clean stop (SIGTERM) commits the records of the batch still open
 * (max_delay_ms not reached) to the outbox; the next start publishes it
 * again and the hub's ack empties the outbox. */
Test(agent_crash, sigterm_stores_open_batch_and_restart_delivers_it)
{
	char src[1024];
	struct ah_keys want = {0};
	struct ah_cfg c = {.sources = ah_env_jsonl_source(&env, src, sizeof src), .max_records = 100,
			   .max_delay_ms = 600000};

	ah_hub_set_acking(env.hub, false);
	cr_assert_eq(ah_env_start_agent(&env, &c), 0);
	cr_assert_eq(ah_wait_file_count(env.log, "connected;", 1, WAIT_MS), 0, "agent did not connect (see %s)",
		     env.log);
	cr_assert_eq(ah_jsonl_append(env.data, 0, 7), 0);
	pht_sleep_ms(1000); /* read (jsonl polls every 200 ms), but the batch waits for 10 minutes */
	cr_assert_eq(ah_hub_records(env.hub, AH_AGENT), 0, "the batch went out before max_delay_ms");
	stop_cleanly();
	cr_assert_eq(ah_outbox_depth(env.outbox), 1, "SIGTERM did not store the open batch");

	ah_hub_set_acking(env.hub, true);
	cr_assert_eq(ah_agent_start(&env.agent, env.cfg, env.log), 0);
	cr_assert_eq(ah_wait_file_count(env.log, "connected;", 2, WAIT_MS), 0, "agent did not connect (see %s)",
		     env.log);
	long long t0 = pht_now_ms();
	while (ah_outbox_depth(env.outbox) != 0 && pht_now_ms() - t0 < WAIT_MS)
		pht_sleep_ms(20);
	cr_expect_eq(ah_outbox_depth(env.outbox), 0, "the stored batch was not published and acked after the restart");
	cr_assert_eq(ah_keys_add_range(&want, 0, 7), 0);
	cr_expect_eq(ah_hub_same_records(env.hub, AH_AGENT, &want, why, sizeof why), 0, "%s", why);
	cr_expect_eq(ah_hub_check_seqs(env.hub, AH_AGENT, true, why, sizeof why), 0, "%s", why);
	stop_cleanly();
	ah_keys_free(&want);
}
