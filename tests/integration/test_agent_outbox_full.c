/*
 * test_agent_outbox_full.c — the outbox cap (outbox.max_batches) when the
 * hub acks nothing: policy stop pauses the sources with an "OUTBOX FULL"
 * log line, never holds more than the cap, resumes once acks come, and
 * loses nothing; policy drop_oldest drops the oldest batches with a log
 * line and declares the gap through a higher `oldest`, which the hub's ack
 * then moves past; the status says the outbox is full.
 *
 * The fake hub (agent_helpers.h) records without acking until told to.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "agent_helpers.h"

#define WAIT_MS 30000
#define CAP 10

static struct ah_env env;
static char why[1024];

static void setup(void) { cr_assert_eq(ah_env_setup(&env, false), 0, "sandbox (broker, fake hub)"); }
static void teardown(void) { ah_env_teardown(&env); }

TestSuite(agent_outbox_full, .init = setup, .fini = teardown, .timeout = 90);

static void stop_cleanly(void)
{
	int status = 0;

	cr_assert_eq(pht_proc_kill(&env.agent, SIGTERM), 0);
	cr_assert_eq(pht_proc_wait(&env.agent, 10000, &status), 0, "agent did not stop on SIGTERM");
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "agent exit status %#x", status);
	cr_expect_eq(ah_log_clean(env.log, why, sizeof why), 0, "%s", why);
}

/* Policy stop with a trickle (5 lines / 50 ms, batches of 5): the agent
 * pauses at the cap, reads nothing more while paused, resumes once the
 * hub acks, and every line arrives exactly once. */
Test(agent_outbox_full, stop_policy_pauses_sources_then_resumes_without_loss)
{
	char src[1024];
	struct ah_keys want = {0};
	struct ah_cfg c = {.sources = ah_env_jsonl_source(&env, src, sizeof src), .max_records = 5,
			   .max_delay_ms = 50, .max_batches = CAP, .policy = "stop"};
	long n = 0;

	cr_assert_eq(ah_env_start_agent(&env, &c), 0);
	long long t0 = pht_now_ms();
	while (ah_file_count(env.log, "OUTBOX FULL") == 0 && pht_now_ms() - t0 < WAIT_MS) {
		cr_assert_eq(ah_jsonl_append(env.data, n, n + 5), 0);
		n += 5;
		pht_sleep_ms(50);
	}
	cr_assert_gt(ah_file_count(env.log, "OUTBOX FULL"), 0, "no OUTBOX FULL log line after %ld lines (see %s)", n,
		     env.log);
	/* Paused: more lines are written, nothing more reaches the hub. */
	pht_sleep_ms(300);
	size_t held = ah_hub_records(env.hub, AH_AGENT);
	cr_assert_eq(ah_jsonl_append(env.data, n, n + 200), 0);
	n += 200;
	pht_sleep_ms(1500);
	cr_expect_eq(ah_hub_records(env.hub, AH_AGENT), held, "records kept flowing while the outbox was full");

	ah_hub_set_acking(env.hub, true);
	cr_assert_eq(ah_wait_file_count(env.log, "sources resumed", 1, WAIT_MS), 0, "no resume log line (see %s)",
		     env.log);
	cr_assert_eq(ah_keys_add_range(&want, 0, n), 0);
	cr_assert_eq(ah_hub_wait_records(env.hub, AH_AGENT, (size_t)n, WAIT_MS), 0, "got %zu of %ld records",
		     ah_hub_records(env.hub, AH_AGENT), n);
	cr_assert_eq(ah_hub_wait_acked(env.hub, AH_AGENT, WAIT_MS), 0);
	cr_expect_eq(ah_hub_same_records(env.hub, AH_AGENT, &want, why, sizeof why), 0, "%s", why);
	cr_expect_eq(ah_hub_check_seqs(env.hub, AH_AGENT, true, why, sizeof why), 0, "%s", why);
	stop_cleanly();
	ah_keys_free(&want);
}

/* The cap is a cap: with policy stop the outbox never holds more than
 * max_batches, even when a source has much more to read at once. */
Test(agent_outbox_full, stop_policy_never_holds_more_than_the_cap)
{
	char src[1024], status[8192], val[64];
	struct ah_cfg c = {.sources = ah_env_jsonl_source(&env, src, sizeof src), .max_records = 10,
			   .max_batches = CAP, .policy = "stop"};

	cr_assert_eq(ah_jsonl_append(env.data, 0, 1000), 0); /* 100 batches' worth */
	cr_assert_eq(ah_env_start_agent(&env, &c), 0);
	cr_assert_eq(ah_wait_file_count(env.log, "OUTBOX FULL", 1, WAIT_MS), 0, "no OUTBOX FULL (see %s)", env.log);
	pht_sleep_ms(500);
	long depth = ah_outbox_depth(env.outbox);
	cr_expect_leq(depth, CAP, "outbox holds %ld batches, cap %d", depth, CAP);
	cr_expect_leq(ah_hub_records(env.hub, AH_AGENT), (size_t)CAP * 10, "%zu records were read past the cap",
		      ah_hub_records(env.hub, AH_AGENT));
	ah_hub_status(env.hub, AH_AGENT, status, sizeof status);
	if (ah_json_get(status, "outbox.depth", val, sizeof val) == 0)
		cr_expect_leq(atol(val), CAP, "status says depth %s, cap %d", val, CAP);
	stop_cleanly();
}

Test(agent_outbox_full, status_says_outbox_full)
{
	char src[1024], status[8192], val[64];
	struct ah_cfg c = {.sources = ah_env_jsonl_source(&env, src, sizeof src), .max_records = 10,
			   .max_batches = CAP, .policy = "stop"};

	cr_assert_eq(ah_jsonl_append(env.data, 0, 200), 0);
	cr_assert_eq(ah_env_start_agent(&env, &c), 0);
	int rc = ah_hub_wait_status(env.hub, AH_AGENT, "outbox.full", "true", 10000);
	ah_hub_status(env.hub, AH_AGENT, status, sizeof status);
	cr_assert_eq(rc, 0, "status never said outbox.full: %s", status);
	cr_expect_eq(ah_json_get(status, "state", val, sizeof val), 0);
	cr_expect_str_eq(val, "online");
	cr_expect_eq(ah_json_get(status, "outbox.depth", val, sizeof val), 0);
	cr_expect_geq(atol(val), CAP, "full with depth %s", val);
	cr_expect_eq(ah_json_get(status, "outbox.cap", val, sizeof val), 0);
	cr_expect_eq(atol(val), CAP);
	cr_expect_eq(ah_json_get(status, "outbox.policy", val, sizeof val), 0);
	cr_expect_str_eq(val, "stop");
	stop_cleanly();
}

/* Policy drop_oldest while the hub receives but does not ack: the agent
 * logs the drop, never holds more than the cap, and each batch's `oldest`
 * shows it: oldest rises past 1 and seq - oldest < cap. */
Test(agent_outbox_full, drop_oldest_policy_drops_and_raises_oldest)
{
	char src[1024];
	struct ah_cfg c = {.sources = ah_env_jsonl_source(&env, src, sizeof src), .max_records = 5,
			   .max_delay_ms = 50, .max_batches = CAP, .policy = "drop_oldest"};
	long n = 0;
	static struct ah_batch_seen seen[4096];

	cr_assert_eq(ah_env_start_agent(&env, &c), 0);
	long long t0 = pht_now_ms();
	while (pht_now_ms() - t0 < 2000) { /* ~40 batches */
		cr_assert_eq(ah_jsonl_append(env.data, n, n + 5), 0);
		n += 5;
		pht_sleep_ms(50);
	}
	cr_assert_eq(ah_wait_file_count(env.log, "dropped the", 1, WAIT_MS), 0, "no drop log line (see %s)", env.log);
	cr_expect_eq(ah_file_count(env.log, "OUTBOX FULL"), 0, "drop_oldest must not pause the sources");
	cr_assert_eq(ah_hub_wait_records(env.hub, AH_AGENT, (size_t)n, WAIT_MS), 0, "got %zu of %ld records",
		     ah_hub_records(env.hub, AH_AGENT), n);
	long depth = ah_outbox_depth(env.outbox);
	cr_expect_leq(depth, CAP, "outbox holds %ld batches, cap %d", depth, CAP);

	size_t k = ah_hub_batches(env.hub, 0, seen, sizeof seen / sizeof seen[0]);
	int64_t prev_oldest = 0, max_oldest = 0;
	for (size_t i = 0; i < k; i++) {
		if (seen[i].dup)
			continue;
		cr_expect_leq(seen[i].oldest, seen[i].seq, "batch %lld says oldest %lld", (long long)seen[i].seq,
			      (long long)seen[i].oldest);
		cr_expect_lt(seen[i].seq - seen[i].oldest, CAP, "batch %lld: oldest %lld, yet the cap is %d",
			     (long long)seen[i].seq, (long long)seen[i].oldest, CAP);
		cr_expect_geq(seen[i].oldest, prev_oldest, "oldest went back from %lld to %lld at seq %lld",
			      (long long)prev_oldest, (long long)seen[i].oldest, (long long)seen[i].seq);
		prev_oldest = seen[i].oldest;
		if (seen[i].oldest > max_oldest)
			max_oldest = seen[i].oldest;
	}
	cr_expect_gt(max_oldest, 1, "no batch declared a drop (max oldest %lld)", (long long)max_oldest);
	stop_cleanly();
}

/* Batches dropped before anyone received them: the remaining ones carry
 * `oldest` past the gap, the hub records the gap and acks past it, and the
 * agent's outbox drains. The hub is away while the agent fills the outbox,
 * then comes online; the agent publishes again after resend_after_s. */
Test(agent_outbox_full, drop_oldest_gap_is_declared_and_acked_past)
{
	char src[1024];
	struct ah_cfg c = {.sources = ah_env_jsonl_source(&env, src, sizeof src), .max_records = 10,
			   .max_batches = CAP, .policy = "drop_oldest", .resend_after_s = 1, .status_interval_s = 5};
	struct ah_hub_stats st;
	static struct ah_batch_seen seen[1024];

	ah_hub_stop(env.hub); /* nobody listens: what the agent publishes now is gone */
	env.hub = NULL;
	cr_assert_eq(ah_jsonl_append(env.data, 0, 400), 0); /* 40 batches, 30 of them dropped */
	cr_assert_eq(ah_env_start_agent(&env, &c), 0);
	cr_assert_eq(ah_wait_file_count(env.log, "dropped the", 1, WAIT_MS), 0, "no drop log line (see %s)", env.log);
	/* Connected and the survivors published to nobody: from now on only a
	 * resend can bring them to the hub. */
	cr_assert_eq(ah_wait_file_count(env.log, "connected;", 1, WAIT_MS), 0, "never connected (see %s)", env.log);
	long long t0 = pht_now_ms();
	long depth;
	while ((depth = ah_outbox_depth(env.outbox)) != CAP && pht_now_ms() - t0 < 10000)
		pht_sleep_ms(20);
	cr_assert_eq(depth, CAP, "outbox holds %ld batches", depth);
	pht_sleep_ms(300);

	cr_assert_not_null(env.hub = ah_hub_start(pht_broker_uri(&env.broker), true));
	cr_assert_eq(ah_hub_set_state(env.hub, "online", 5000), 0);
	cr_assert_eq(ah_hub_wait_records(env.hub, AH_AGENT, 100, WAIT_MS), 0, "got %zu records",
		     ah_hub_records(env.hub, AH_AGENT));
	cr_assert_eq(ah_hub_wait_acked(env.hub, AH_AGENT, WAIT_MS), 0, "the hub did not ack past the gap");
	size_t k = ah_hub_batches(env.hub, 0, seen, sizeof seen / sizeof seen[0]);
	for (size_t i = 0; i < k; i++)
		cr_expect_eq(seen[i].oldest, 31, "batch %lld carries oldest %lld, expected 31", (long long)seen[i].seq,
			     (long long)seen[i].oldest);
	ah_hub_stats(env.hub, &st);
	cr_expect_eq(st.gap_seqs, 30, "the hub saw a gap of %zu seqs", st.gap_seqs);
	cr_expect_eq(st.records, 100);
	t0 = pht_now_ms();
	while (ah_outbox_depth(env.outbox) != 0 && pht_now_ms() - t0 < 10000)
		pht_sleep_ms(20);
	cr_expect_eq(ah_outbox_depth(env.outbox), 0, "the ack past the gap did not drain the outbox");
	cr_expect_eq(ah_hub_wait_status(env.hub, AH_AGENT, "counters.dropped_batches", "30", 12000), 0,
		     "status does not count 30 dropped batches");
	stop_cleanly();
}
