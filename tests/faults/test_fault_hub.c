/*
 * test_fault_hub.c — the hub SIGKILLed mid-transaction, five times, and
 * restarted on the same database while three simulated smelters stream at
 * 2000 records/s each through Mosquitto.
 *
 * Aiming at the writer's transaction: group_max is 5000 (one transaction
 * takes everything the queue holds) and synchronous=FULL makes every commit
 * wait for the disk, so under this load the writer spends most of its time
 * inside a transaction; each kill comes at a random moment (seed printed)
 * after a restart, when the broker is delivering the burst it queued for
 * the hub's persistent session while it was dead. The test cannot see
 * where a kill landed and asserts no timing: it asserts that after all
 * kills every agent's batches 1..N are stored once, every produced record
 * is stored exactly once and in order, no outbox holds anything, and the
 * rollups (committed with their samples, writer.h inv. 2) equal their
 * recomputation — a kill between the samples and their rollups, or after
 * a commit but before its ack, would show here as a difference or a double.
 *
 * Bounded waits only.
 */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "fault_helpers.h"

#define NAGENTS 3
#define RATE 1000
#define TICKS 12000 /* 12 s of data per agent at 1000 ticks/s */
#define KILLS 5
#define WAIT_MS 150000

static struct hh_env env;
static struct fh_ref ref;
static char why[2048];

static void setup(void)
{
	struct hh_hub_opts o = {.group_max = 5000, .expected_interval_s = 1.0 / RATE};
	cr_assert_eq(hh_setup(&env, &o), 0, "sandbox (broker, test client)");
}
static void teardown(void)
{
	fh_ref_free(&ref);
	hh_teardown(&env);
}

TestSuite(fault_hub, .init = setup, .fini = teardown, .timeout = 280);

Test(fault_hub, hub_sigkill_mid_transaction_restart_loses_and_doubles_nothing)
{
	const struct fh_sim sim = {.seed = 21, .rate_hz = RATE, .ticks = TICKS, .stack_test_every = 500,
				   .weighbridge_every = 250};
	struct fh_outbox ob;
	char src[512];
	long stored, rows = 0;
	int64_t v = 0;

	if (!hh_parkagent())
		cr_skip_test("PH_PARKAGENT is not set");
	cr_assert_eq(fh_sim_reference(&sim, &ref, why, sizeof why), 0, "%s", why);
	cr_assert_eq(hh_hub_start(&env, 20000), 0, "hub start (log %s)", env.hub_log);
	cr_assert_eq(fh_sim_sources(&sim, src, sizeof src), 0);
	struct fh_agent_opts ao = {.sources = src, .max_records = 20, .max_delay_ms = 50, .resend_after_s = 2};
	for (int i = 0; i < NAGENTS; i++)
		cr_assert_eq(fh_agent_start(&env, i, &ao), 0, "agent %d", i);
	cr_assert_eq(hh_wait_db(&env, 1, &v, 60000, "SELECT count(*) > 0 FROM samples"), 0,
		     "nothing stored before the first kill (hub log %s)", env.hub_log);

	for (int k = 0; k < KILLS; k++) {
		int64_t before = fh_stored_records(&env);
		pht_sleep_ms(fh_rand_ms(150, 1500));
		cr_assert(pht_proc_alive(&env.hub), "the hub exited on its own (log %s)", env.hub_log);
		cr_assert_eq(hh_hub_kill(&env), 0, "SIGKILL %d", k + 1);
		int64_t after = fh_stored_records(&env);
		cr_log_info("kill %d: %lld records stored when killed (%lld more than at the restart)", k + 1,
			    (long long)after, (long long)(after - before));
		pht_sleep_ms(fh_rand_ms(100, 1000)); /* the agents go on; the broker queues for the hub */
		cr_assert_eq(hh_hub_start(&env, 30000), 0, "hub restart %d (log %s)", k + 1, env.hub_log);
	}

	for (int i = 0; i < NAGENTS; i++)
		cr_expect_eq(fh_wait_agent_done(&env, i, TICKS, WAIT_MS, &ob), 0,
			     "%s did not finish: position %lld of %d ticks, outbox depth %lld (agent log %s, hub log %s)",
			     hh_agent(i), (long long)ob.position, TICKS, (long long)ob.depth, env.agent_log[i],
			     env.hub_log);
	pht_sleep_ms(500);
	for (int i = 0; i < NAGENTS; i++) {
		cr_expect_eq(fh_check_agent(&env, i, &ref, &(struct fh_check_opts){.order = true, .want_rejects = 0},
					    &stored, why, sizeof why),
			     0, "%s", why);
		cr_log_info("%s: %ld records stored, %zu produced", hh_agent(i), stored, ref.n);
	}
	cr_expect_eq(hh_check_rollups(&env, &rows, why, sizeof why), 0, "%s", why);
	cr_expect_gt(rows, 0);
	hh_db_i64(&env, &v, "SELECT coalesce(sum(duplicates), 0) FROM streams");
	cr_log_info("duplicates the hub dropped: %lld", (long long)v);
	for (int i = 0; i < NAGENTS; i++) {
		int status = 0;
		cr_expect_eq(hh_agent_stop(&env, i, 10000, &status), 0);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s exit status %#x", hh_agent(i), status);
		cr_expect_eq(hh_log_clean(env.agent_log[i], why, sizeof why), 0, "%s", why);
	}
	int status = 0;
	cr_expect_eq(hh_hub_stop(&env, 10000, &status), 0, "hub stop (log %s)", env.hub_log);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hub exit status %#x", status);
	cr_expect_eq(hh_log_clean(env.hub_log, why, sizeof why), 0, "%s", why);
}
