/*
 * test_fault_outage.c — the broker away for 5 minutes at 100 records/s,
 * then back: two simulated smelters (50 ticks/s, about 100 records/s each)
 * stream through Mosquitto to the hub; the broker is stopped (SIGTERM, no
 * persistence: the hub's session and everything queued are gone) for the
 * outage, while the agents go on producing into their outboxes, and
 * started again on the same port. The backlog must drain and the hub end
 * with every agent's batches 1..N once, every produced record stored
 * exactly once and in production order per agent and point, empty
 * outboxes and rollups equal to their recomputation (fault_helpers.h).
 *
 * Length: PH_FAULT_OUTAGE_S seconds (default 300: the 5 minutes).
 * CI runs the suite twice (.ci/run: plain, then ASan+UBSan) within 30
 * minutes, so the sanitizer build (PH_FAULT_SANITIZED, set by
 * tests/faults/CMakeLists.txt when SANITIZE is given) defaults to a 60 s
 * outage; the full 5 minutes run in the plain build. The test's own limit
 * (Criterion 900 s, ctest 900 s) fits outages up to about 10 minutes.
 *
 * Bounded waits only; no assertion on time.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "fault_helpers.h"

#define NAGENTS 2
#define RATE 50         /* ticks/s: 2 records a tick, about 100 records/s */
#define BEFORE_S 5      /* streaming before the outage */
#define AFTER_S 10      /* and after it */
#define WAIT_MS 180000  /* the backlog drains and the production ends */

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

TestSuite(fault_outage, .init = setup, .fini = teardown, .timeout = 900);

static int outage_s(void)
{
	const char *s = getenv("PH_FAULT_OUTAGE_S");
	int v = s && *s ? atoi(s) : fh_sanitized() ? 60 : 300;
	return v > 0 ? v : 1;
}

Test(fault_outage, broker_outage_backlog_drains_in_order_nothing_lost)
{
	const int out_s = outage_s();
	const struct fh_sim sim = {.seed = 41, .rate_hz = RATE, .ticks = (int64_t)(BEFORE_S + out_s + AFTER_S) * RATE,
				   .stack_test_every = 300, .weighbridge_every = 120};
	struct fh_outbox ob[NAGENTS];
	char src[512];
	long stored, rows = 0;
	int64_t v = 0;

	if (!hh_parkagent())
		cr_skip_test("PH_PARKAGENT is not set");
	cr_log_info("outage of %d s (PH_FAULT_OUTAGE_S; %s build), %lld ticks per agent", out_s,
		    fh_sanitized() ? "sanitizer" : "plain", (long long)sim.ticks);
	cr_assert_eq(fh_sim_reference(&sim, &ref, why, sizeof why), 0, "%s", why);
	cr_assert_eq(hh_hub_start(&env, 20000), 0, "hub start (log %s)", env.hub_log);
	cr_assert_eq(fh_sim_sources(&sim, src, sizeof src), 0);
	struct fh_agent_opts ao = {.sources = src, .max_records = 50, .max_delay_ms = 1000, .resend_after_s = 5};
	for (int i = 0; i < NAGENTS; i++)
		cr_assert_eq(fh_agent_start(&env, i, &ao), 0, "agent %d", i);
	pht_sleep_ms(BEFORE_S * 1000);
	cr_assert_eq(hh_wait_db(&env, 1, &v, 30000, "SELECT count(*) > 0 FROM samples"), 0,
		     "nothing stored before the outage (hub log %s)", env.hub_log);

	cr_assert_eq(pht_broker_stop(&env.broker), 0, "broker stop");
	long long until = pht_now_ms() + (long long)out_s * 1000;
	/* What the hub took from the broker before it went is still being
	 * committed for a moment; after that nothing can arrive. */
	pht_sleep_ms(out_s > 4 ? 2000 : 0);
	int64_t at_stop = fh_stored_records(&env);
	while (pht_now_ms() < until) {
		pht_sleep_ms(1000);
		cr_assert(pht_proc_alive(&env.hub), "the hub exited during the outage (log %s)", env.hub_log);
		for (int i = 0; i < NAGENTS; i++)
			cr_assert(pht_proc_alive(&env.agent[i]), "%s exited during the outage (log %s)", hh_agent(i),
				  env.agent_log[i]);
	}
	int64_t at_end = fh_stored_records(&env);
	cr_expect_eq(at_end, at_stop, "records were stored while the broker was down: %lld, then %lld",
		     (long long)at_stop, (long long)at_end);
	for (int i = 0; i < NAGENTS; i++) {
		cr_assert_eq(fh_outbox_read(&env, i, &ob[i]), 0);
		/* about 100 records/s in batches of at most 50: >= 2 batches/s kept */
		cr_expect_geq(ob[i].depth, (int64_t)out_s, "%s holds only %lld batches after a %d s outage", hh_agent(i),
			      (long long)ob[i].depth, out_s);
		cr_log_info("%s: %lld batches in the outbox at the end of the outage", hh_agent(i),
			    (long long)ob[i].depth);
	}
	cr_assert_eq(pht_broker_restart(&env.broker), 0, "broker start after the outage");

	for (int i = 0; i < NAGENTS; i++)
		cr_expect_eq(fh_wait_agent_done(&env, i, sim.ticks, WAIT_MS, &ob[i]), 0,
			     "%s did not drain: position %lld of %lld ticks, outbox depth %lld (agent log %s, hub log %s)",
			     hh_agent(i), (long long)ob[i].position, (long long)sim.ticks, (long long)ob[i].depth,
			     env.agent_log[i], env.hub_log);
	pht_sleep_ms(500);
	for (int i = 0; i < NAGENTS; i++) {
		cr_expect_eq(fh_check_agent(&env, i, &ref, &(struct fh_check_opts){.order = true, .want_rejects = 0},
					    &stored, why, sizeof why),
			     0, "%s", why);
		cr_log_info("%s: %ld records stored, %zu produced", hh_agent(i), stored, ref.n);
	}
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
