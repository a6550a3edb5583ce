/*
 * test_agent_resend.c — publishing again what the hub has not acked
 * (publisher.h inv. 3): only while the hub's retained status
 * (parkhub/v1/{park}/hub) says online, and only after
 * outbox.resend_after_s without progress. While no hub says it is online,
 * a missing ack is not loss, so nothing is republished — and the agent
 * waits for acks without burning CPU.
 *
 * The fake hub (agent_helpers.h) receives without acking until told to.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "agent_helpers.h"

#define WAIT_MS 15000
#define NBATCH 10

static struct ah_env env;
static char why[1024];
static struct ah_batch_seen seen[4096];

static void setup(void) { cr_assert_eq(ah_env_setup(&env, false), 0, "sandbox (broker, fake hub)"); }
static void teardown(void) { ah_env_teardown(&env); }

TestSuite(agent_resend, .init = setup, .fini = teardown, .timeout = 60);

/* Starts the agent on NBATCH batches of 10 lines and waits until the hub
 * has them once. */
static void start_with_unacked_batches(int resend_after_s)
{
	char src[1024];
	struct ah_cfg c = {.sources = ah_env_jsonl_source(&env, src, sizeof src), .max_records = 10,
			   .resend_after_s = resend_after_s};
	struct ah_hub_stats st;

	cr_assert_eq(ah_jsonl_append(env.data, 0, NBATCH * 10), 0);
	cr_assert_eq(ah_env_start_agent(&env, &c), 0);
	cr_assert_eq(ah_hub_wait_records(env.hub, AH_AGENT, NBATCH * 10, WAIT_MS), 0, "got %zu records (see %s)",
		     ah_hub_records(env.hub, AH_AGENT), env.log);
	ah_hub_stats(env.hub, &st);
	cr_assert_eq(st.new_batches, NBATCH);
}

static void stop_cleanly(void)
{
	int status = 0;

	cr_assert_eq(pht_proc_kill(&env.agent, SIGTERM), 0);
	cr_assert_eq(pht_proc_wait(&env.agent, 10000, &status), 0, "agent did not stop on SIGTERM");
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "agent exit status %#x", status);
	cr_expect_eq(ah_log_clean(env.log, why, sizeof why), 0, "%s", why);
}

Test(agent_resend, unacked_batches_republished_while_hub_online)
{
	struct ah_hub_stats st;

	cr_assert_eq(ah_hub_set_state(env.hub, "online", 5000), 0);
	start_with_unacked_batches(2);
	long long t0 = pht_now_ms();
	do {
		ah_hub_stats(env.hub, &st);
		if (st.dups >= NBATCH)
			break;
		pht_sleep_ms(20);
	} while (pht_now_ms() - t0 < WAIT_MS);
	cr_assert_geq(st.dups, NBATCH, "%zu batches republished of %d (see %s)", st.dups, NBATCH, env.log);
	cr_expect_eq(st.conflicts, 0, "a republished batch differs from the first copy");
	cr_expect_eq(st.records, NBATCH * 10, "republished records were stored twice");

	/* The copies came resend_after_s (2 s) after the originals, not at once. */
	size_t k = ah_hub_batches(env.hub, 0, seen, sizeof seen / sizeof seen[0]);
	long long first_at[NBATCH + 1] = {0};
	for (size_t i = 0; i < k; i++) {
		if (seen[i].seq < 1 || seen[i].seq > NBATCH)
			continue;
		if (!seen[i].dup)
			first_at[seen[i].seq] = seen[i].at_ms;
		else
			cr_expect_geq(seen[i].at_ms - first_at[seen[i].seq], 1500,
				      "seq %lld republished %lld ms after the original", (long long)seen[i].seq,
				      seen[i].at_ms - first_at[seen[i].seq]);
	}
	cr_expect_gt(ah_file_count(env.log, "publishing again from seq 1"), 0, "no resend log line (see %s)", env.log);

	/* Once acked, nothing is republished any more. */
	ah_hub_set_acking(env.hub, true);
	cr_assert_eq(ah_hub_wait_acked(env.hub, AH_AGENT, WAIT_MS), 0);
	pht_sleep_ms(500);
	ah_hub_stats(env.hub, &st);
	size_t dups = st.dups;
	pht_sleep_ms(3000); /* more than resend_after_s: a resend would show */
	ah_hub_stats(env.hub, &st);
	cr_expect_eq(st.dups, dups, "acked batches were published again");
	stop_cleanly();
}

Test(agent_resend, unacked_batches_not_republished_without_hub_status)
{
	struct ah_hub_stats st;

	start_with_unacked_batches(1);
	pht_sleep_ms(3500); /* 3.5 x resend_after_s: any resend would show */
	ah_hub_stats(env.hub, &st);
	cr_expect_eq(st.dups, 0, "%zu batches republished while no hub said it was online", st.dups);
	cr_expect_eq(ah_file_count(env.log, "publishing again"), 0);
	stop_cleanly();
}

Test(agent_resend, unacked_batches_not_republished_while_hub_offline)
{
	struct ah_hub_stats st;

	cr_assert_eq(ah_hub_set_state(env.hub, "offline", 5000), 0);
	start_with_unacked_batches(1);
	pht_sleep_ms(3500);
	ah_hub_stats(env.hub, &st);
	cr_expect_eq(st.dups, 0, "%zu batches republished while the hub said offline", st.dups);
	stop_cleanly();
}

/* Unacked batches and no online hub: the agent has nothing to do but wait.
 * It must sleep in poll(), not spin: CPU over 2 s well under one core. */
Test(agent_resend, agent_idles_while_unacked_and_no_hub_online)
{
	start_with_unacked_batches(1);
	pht_sleep_ms(1500); /* past resend_after_s */
	long c0 = ah_proc_cpu_ms(env.agent.pid);
	long long t0 = pht_now_ms();
	pht_sleep_ms(2000);
	long c1 = ah_proc_cpu_ms(env.agent.pid);
	long long wall = pht_now_ms() - t0;
	cr_assert_geq(c0, 0);
	cr_expect_lt(c1 - c0, 200, "agent used %ld ms of CPU in %lld ms while only waiting for acks", c1 - c0, wall);
	stop_cleanly();
}

/* The hub's status is retained state on the broker. A broker restarted
 * without persistence has none: after reconnecting, the agent must not go
 * on trusting the "online" it saw before (it publishes its unacked batches
 * once on the new connection, then waits to hear from a hub). */
Test(agent_resend, hub_online_not_trusted_after_broker_restart)
{
	struct ah_hub_stats st;

	cr_assert_eq(ah_hub_set_state(env.hub, "online", 5000), 0);
	start_with_unacked_batches(1);
	long long t0 = pht_now_ms();
	do { /* the agent believes the hub: it resends */
		ah_hub_stats(env.hub, &st);
		if (st.dups >= NBATCH)
			break;
		pht_sleep_ms(20);
	} while (pht_now_ms() - t0 < WAIT_MS);
	cr_assert_geq(st.dups, NBATCH, "no resend while the hub was online (see %s)", env.log);

	/* Broker restart: retained hub status gone; a new hub that says nothing. */
	ah_hub_stop(env.hub);
	env.hub = NULL;
	cr_assert_eq(pht_broker_restart(&env.broker), 0);
	cr_assert_not_null(env.hub = ah_hub_start(pht_broker_uri(&env.broker), false));
	cr_assert_eq(ah_wait_file_count(env.log, "connected;", 2, WAIT_MS), 0, "agent did not reconnect (see %s)",
		     env.log);
	/* The reconnect publishes the unacked batches once ... */
	cr_assert_eq(ah_hub_wait_records(env.hub, AH_AGENT, NBATCH * 10, WAIT_MS), 0);
	/* ... and with no hub online, never again. */
	pht_sleep_ms(3500);
	ah_hub_stats(env.hub, &st);
	cr_expect_eq(st.dups, 0, "%zu batches republished after the broker restart, with no hub status on the broker",
		     st.dups);
	stop_cleanly();
}
