/*
 * test_fault_agent.c — agents SIGKILLed mid-stream and restarted, against
 * the real hub: gw-a three times and gw-b once, at random moments (seed
 * printed), while both stream through Mosquitto. A SIGKILL loses the
 * agent's open batch from memory, but its source position commits with the
 * batch (outbox.h inv. 1 and 2), so the restart emits again exactly the
 * records that were not committed, under new seqs of the same epoch; with
 * max_records 10 a batch often closes in the middle of a tick, so restarts
 * resume inside ticks (src_sim.c inv. 2). The
 * hub must end with batches 1..N once, every produced record exactly once
 * and in production order, empty outboxes and rollups equal to their
 * recomputation (fault_helpers.h).
 *
 * tests/integration/test_agent_crash.c checks the agent alone against a
 * fake hub; this is the whole chain with the hub's database as the judge.
 * Bounded waits only.
 */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "fault_helpers.h"

#define NAGENTS 2
#define RATE 500
#define TICKS 6000 /* 12 s of data per agent */
#define WAIT_MS 120000

static struct hh_env env;
static struct fh_ref ref;
static char why[2048];

static void setup(void)
{
	struct hh_hub_opts o = {.expected_interval_s = 1.0 / RATE};
	cr_assert_eq(hh_setup(&env, &o), 0, "sandbox (broker, test client)");
}
static void teardown(void)
{
	fh_ref_free(&ref);
	hh_teardown(&env);
}

TestSuite(fault_agent, .init = setup, .fini = teardown, .timeout = 240);

static void kill_and_restart(int i, int k)
{
	cr_assert(pht_proc_alive(&env.agent[i]), "%s exited on its own (log %s)", hh_agent(i), env.agent_log[i]);
	cr_assert_eq(pht_proc_kill(&env.agent[i], SIGKILL), 0);
	cr_assert_eq(pht_proc_wait(&env.agent[i], 5000, NULL), 0);
	pht_sleep_ms(fh_rand_ms(100, 800));
	cr_assert_eq(fh_agent_restart(&env, i), 0, "%s restart %d", hh_agent(i), k);
}

Test(fault_agent, agent_sigkill_restart_loses_and_doubles_nothing)
{
	const struct fh_sim sim = {.seed = 31, .rate_hz = RATE, .ticks = TICKS, .stack_test_every = 200,
				   .weighbridge_every = 100};
	struct fh_outbox ob;
	char src[512];
	long stored, rows = 0;
	int64_t v = 0;

	if (!hh_parkagent())
		cr_skip_test("PH_PARKAGENT is not set");
	cr_assert_eq(fh_sim_reference(&sim, &ref, why, sizeof why), 0, "%s", why);
	cr_assert_eq(hh_hub_start(&env, 20000), 0, "hub start (log %s)", env.hub_log);
	cr_assert_eq(fh_sim_sources(&sim, src, sizeof src), 0);
	struct fh_agent_opts ao = {.sources = src, .max_records = 10, .max_delay_ms = 50, .resend_after_s = 2};
	for (int i = 0; i < NAGENTS; i++)
		cr_assert_eq(fh_agent_start(&env, i, &ao), 0, "agent %d", i);
	cr_assert_eq(hh_wait_db(&env, 1, &v, 60000, "SELECT count(*) > 0 FROM samples"), 0,
		     "nothing stored (hub log %s)", env.hub_log);

	for (int k = 1; k <= 3; k++) {
		pht_sleep_ms(fh_rand_ms(500, 2500));
		kill_and_restart(0, k);
		if (k == 2)
			kill_and_restart(1, 1);
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
		cr_log_info("%s: %ld records stored, %zu produced; resumed %d times", hh_agent(i), stored, ref.n,
			    fh_file_count(env.agent_log[i], ", resuming"));
	}
	cr_expect_eq(fh_file_count(env.agent_log[0], ", resuming"), 3, "gw-a resumes its source after each restart");
	cr_expect_eq(hh_check_rollups(&env, &rows, why, sizeof why), 0, "%s", why);
	cr_expect_gt(rows, 0);
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
