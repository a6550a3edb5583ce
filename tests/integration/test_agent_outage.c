/*
 * test_agent_outage.c — the broker goes away for 10 s while the agent's
 * source keeps producing: the outbox holds what could not be published,
 * the agent reconnects when the broker is back and publishes again from
 * the oldest unacked batch, and the fake hub (agent_helpers.h) ends up
 * with every record exactly once after dedupe on (agent, epoch, seq).
 *
 * The longest test of the agent suite (about 20 s). Bounded waits only.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <sys/wait.h>

#include "agent_helpers.h"

#define WAIT_MS 30000
#define LINES_PER_TICK 25 /* every 50 ms: 500 records/s */
#define TICK_MS 50

static struct ah_env env;
static char why[1024];

static void setup(void) { cr_assert_eq(ah_env_setup(&env, true), 0, "sandbox (broker, fake hub)"); }
static void teardown(void) { ah_env_teardown(&env); }

TestSuite(agent_outage, .init = setup, .fini = teardown, .timeout = 90);

/* Appends LINES_PER_TICK lines every TICK_MS for ms milliseconds. */
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

Test(agent_outage, broker_down_10s_nothing_lost_nothing_duplicated)
{
	char src[1024];
	struct ah_keys want = {0};
	struct ah_cfg c = {.sources = ah_env_jsonl_source(&env, src, sizeof src), .max_records = 20};
	long n = 0;

	cr_assert_eq(ah_env_start_agent(&env, &c), 0);
	n = produce_for(n, 2000);
	cr_assert_eq(ah_hub_wait_records(env.hub, AH_AGENT, 100, WAIT_MS), 0, "nothing arrived before the outage");

	cr_assert_eq(pht_broker_stop(&env.broker), 0);
	long before = n;
	n = produce_for(n, 10000);
	/* While the broker was away the agent kept reading into its outbox. */
	long depth = ah_outbox_depth(env.outbox);
	cr_expect_geq(depth, (n - before) / 20 - 5, "outbox holds %ld batches after %ld records during the outage",
		      depth, n - before);
	cr_assert_eq(pht_broker_restart(&env.broker), 0);
	n = produce_for(n, 2000);

	cr_assert_eq(ah_keys_add_range(&want, 0, n), 0);
	/* On a shortfall, go on: the checks below say what went missing. */
	if (ah_hub_wait_records(env.hub, AH_AGENT, (size_t)n, WAIT_MS) == 0)
		cr_expect_eq(ah_hub_wait_acked(env.hub, AH_AGENT, WAIT_MS), 0);
	else
		cr_expect_fail("got %zu of %ld records (see %s)", ah_hub_records(env.hub, AH_AGENT), n, env.log);
	pht_sleep_ms(300);
	cr_expect_eq(ah_hub_same_records(env.hub, AH_AGENT, &want, why, sizeof why), 0, "%s", why);
	cr_expect_eq(ah_hub_records_in_order(env.hub, AH_AGENT, &want, why, sizeof why), 0, "%s", why);
	cr_expect_eq(ah_hub_check_seqs(env.hub, AH_AGENT, true, why, sizeof why), 0, "%s", why);
	/* Once everything is acked the outbox is empty again. */
	long long t0 = pht_now_ms();
	while (ah_outbox_depth(env.outbox) != 0 && pht_now_ms() - t0 < 10000)
		pht_sleep_ms(50);
	cr_expect_eq(ah_outbox_depth(env.outbox), 0, "outbox not drained after the hub acked everything");

	int status = 0;
	cr_assert_eq(pht_proc_kill(&env.agent, SIGTERM), 0);
	cr_assert_eq(pht_proc_wait(&env.agent, 10000, &status), 0);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "agent exit status %#x", status);
	cr_expect_eq(ah_log_clean(env.log, why, sizeof why), 0, "%s", why);
	ah_keys_free(&want);
}
