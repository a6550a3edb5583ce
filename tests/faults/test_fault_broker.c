/*
 * test_fault_broker.c — the broker restarted mid-stream, without and with
 * persistence: two simulated smelters stream through Mosquitto to a real
 * hub; the broker goes down twice while they do (without persistence once
 * on SIGTERM and once on SIGKILL, losing every queued message and the
 * hub's session; with persistence twice on SIGTERM, so the restarted broker
 * delivers the hub's queued messages again next to the agents' own
 * republishing). In the end every agent's batches 1..N are at the hub once,
 * every produced record is stored exactly once and in production order,
 * nothing is left in the outboxes and the rollups equal their
 * recomputation (fault_helpers.h).
 *
 * Bounded waits only; no assertion on time.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "fault_helpers.h"

#define NAGENTS 2
#define RATE 200
#define TICKS 4000 /* 20 s of data per agent */
#define WAIT_MS 120000

static struct hh_env env;
static struct fh_ref ref;
static char why[2048];

static void setup(void) { cr_assert_eq(hh_setup(&env, NULL), 0, "sandbox (broker, test client)"); }
static void teardown(void)
{
	fh_ref_free(&ref);
	hh_teardown(&env);
}

TestSuite(fault_broker, .init = setup, .fini = teardown, .timeout = 240);

static const struct fh_sim sim = {.seed = 11, .rate_hz = RATE, .ticks = TICKS, .stack_test_every = 100,
				  .weighbridge_every = 50};

static void start_all(void)
{
	char src[512];

	cr_assert_eq(fh_sim_reference(&sim, &ref, why, sizeof why), 0, "%s", why);
	env.opts.expected_interval_s = 1.0 / RATE;
	cr_assert_eq(hh_write_hub_config(&env), 0);
	cr_assert_eq(hh_hub_start(&env, 20000), 0, "hub start (log %s)", env.hub_log);
	cr_assert_eq(fh_sim_sources(&sim, src, sizeof src), 0);
	struct fh_agent_opts o = {.sources = src, .max_records = 20, .max_delay_ms = 100, .resend_after_s = 2};
	for (int i = 0; i < NAGENTS; i++)
		cr_assert_eq(fh_agent_start(&env, i, &o), 0, "agent %d", i);
}

/* Waits until the hub stored at least `want` measurement records. */
static void wait_stored(int64_t want, const char *what)
{
	long long until = pht_now_ms() + WAIT_MS;
	int64_t got = 0;

	while (pht_now_ms() < until && (got = fh_stored_records(&env)) < want) {
		cr_assert(pht_proc_alive(&env.hub), "the hub exited (log %s)", env.hub_log);
		pht_sleep_ms(50);
	}
	cr_assert_geq(got, want, "%s: %lld records stored, want %lld (hub log %s)", what, (long long)got,
		      (long long)want, env.hub_log);
}

static void finish_and_check(void)
{
	struct fh_outbox ob;
	long stored, rows = 0;
	int64_t dups = 0;

	for (int i = 0; i < NAGENTS; i++) {
		int rc = fh_wait_agent_done(&env, i, TICKS, WAIT_MS, &ob);
		cr_expect_eq(rc, 0,
			     "%s did not finish: position %lld of %d ticks, outbox depth %lld (agent log %s, hub log %s)",
			     hh_agent(i), (long long)ob.position, TICKS, (long long)ob.depth, env.agent_log[i],
			     env.hub_log);
	}
	pht_sleep_ms(500); /* late duplicates from the broker would land now */
	for (int i = 0; i < NAGENTS; i++) {
		cr_expect_eq(fh_check_agent(&env, i, &ref, &(struct fh_check_opts){.order = true, .want_rejects = 0},
					    &stored, why, sizeof why),
			     0, "%s", why);
		cr_log_info("%s: %ld records stored, %zu produced", hh_agent(i), stored, ref.n);
	}
	cr_expect_eq(hh_check_rollups(&env, &rows, why, sizeof why), 0, "%s", why);
	cr_expect_gt(rows, 0);
	hh_db_i64(&env, &dups, "SELECT coalesce(sum(duplicates), 0) FROM streams");
	cr_log_info("duplicates the hub dropped: %lld; agents published again %d and %d times", (long long)dups,
		    fh_file_count(env.agent_log[0], "publishing again"), fh_file_count(env.agent_log[1], "publishing again"));
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

Test(fault_broker, broker_restart_without_persistence_loses_and_doubles_nothing)
{
	if (!hh_parkagent())
		cr_skip_test("PH_PARKAGENT is not set");
	start_all();
	int64_t total = ref.measurements * NAGENTS;

	wait_stored(total / 5, "before the first restart");
	cr_assert_eq(pht_broker_restart(&env.broker), 0, "broker restart (SIGTERM, no persistence)");
	wait_stored(total / 2, "after the first restart");
	cr_assert_eq(pht_broker_kill(&env.broker), 0, "broker SIGKILL");
	pht_sleep_ms(fh_rand_ms(200, 1500)); /* the agents go on into their outboxes */
	cr_assert_eq(pht_broker_restart(&env.broker), 0, "broker start after the SIGKILL");
	finish_and_check();
}

Test(fault_broker, broker_restart_with_persistence_loses_and_doubles_nothing)
{
	char conf[1024];

	if (!hh_parkagent())
		cr_skip_test("PH_PARKAGENT is not set");
	snprintf(conf, sizeof conf, "persistence true\npersistence_location %s/\nautosave_interval 1", env.broker.dir);
	cr_assert_eq(fh_broker_reconfigure(&env, conf), 0, "broker with persistence");
	start_all();
	int64_t total = ref.measurements * NAGENTS;

	wait_stored(total / 5, "before the first restart");
	cr_assert_eq(pht_broker_restart(&env.broker), 0, "broker restart (SIGTERM saves its persistence file)");
	wait_stored(total / 2, "after the first restart");
	cr_assert_eq(pht_broker_restart(&env.broker), 0, "second broker restart");
	finish_and_check();
	char db[700];
	snprintf(db, sizeof db, "%s/mosquitto.db", env.broker.dir);
	FILE *f = fopen(db, "r");
	cr_expect_not_null(f, "the broker wrote no persistence file %s", db);
	if (f)
		fclose(f);
}
