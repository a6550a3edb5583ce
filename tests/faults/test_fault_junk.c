/*
 * test_fault_junk.c — one gateway's junk must not stop the park (issue #16
 * item 3). The hub's database is capped a little above its empty schema
 * (db.max_size_mb); a simulated smelter (gw-a) streams while the test
 * floods the broker with 25,000 refused messages: not JSON under gw-b's
 * own topic, and under a topic of no configured agent. Every batch of the
 * healthy agent must be stored once and acked (fault_helpers.h's
 * produced-vs-stored comparison), whatever the junk did.
 *
 *   junk_flood_never_stops_a_healthy_agents_acks   default bounds: the
 *       rejects are rate limited per topic identity, counted in /metrics,
 *       summarised in the log; /healthz stays ok.
 *   a_full_database_gives_up_the_rejects_before_acks_stop   bounds opened
 *       wide (every refusal stored, the table may take the whole cap), then
 *       data at 1000 records/s fills the database: the rows held for
 *       rejects are deleted before acks stop; while full, /healthz answers
 *       503 with the reason; SIGHUP with the cap removed lets it finish.
 *
 * Bounded loops and waits; no assertion on time.
 */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "fault_helpers.h"

#define RATE 100
#define TICKS 3000 /* 30 s of data */
#define JUNK 25000
#define WAIT_MS 120000

static struct hh_env env;
static struct fh_ref ref;
static char why[2048];
static int port;
static char http[512];

static void setup(void)
{
	port = pht_free_port();
	cr_assert_gt(port, 0);
	cr_assert_eq(fh_http_member(port, http, sizeof http), 0);
	struct hh_hub_opts o = {.expected_interval_s = 1.0 / RATE, .top_extra = http};
	cr_assert_eq(hh_setup(&env, &o), 0, "sandbox (broker, test client)");
}
static void teardown(void)
{
	fh_ref_free(&ref);
	hh_teardown(&env);
}

TestSuite(fault_junk, .init = setup, .fini = teardown, .timeout = 280);

static const struct fh_sim sim = {.seed = 77, .rate_hz = RATE, .ticks = TICKS, .stack_test_every = 500,
				  .weighbridge_every = 250};

static int64_t db_bytes(void)
{
	int64_t pages = 0, psz = 0;
	hh_db_i64(&env, &pages, "PRAGMA page_count");
	hh_db_i64(&env, &psz, "PRAGMA page_size");
	return pages * psz;
}

/* The hub on a database capped room_mb above its empty schema. */
static void start_capped_hub(int room_mb)
{
	char val[32];
	cr_assert_eq(hh_hub_start(&env, 20000), 0, "hub start (log %s)", env.hub_log);
	cr_assert_eq(hh_hub_stop(&env, 10000, NULL), 0);
	int64_t empty = db_bytes();
	snprintf(val, sizeof val, "%lld", (long long)(empty / 1048576 + room_mb));
	cr_assert_eq(fh_hub_config_set(&env, "db", "max_size_mb", val), 0);
	cr_log_info("empty database %lld bytes; db.max_size_mb %s", (long long)empty, val);
	cr_assert_eq(hh_hub_start(&env, 20000), 0, "hub start with the cap (log %s)", env.hub_log);
	env.hub_runs = 1; /* the uncapped run made the schema only */
}

static void start_agent(void)
{
	char src[512];
	cr_assert_eq(fh_sim_sources(&sim, src, sizeof src), 0);
	struct fh_agent_opts ao = {.sources = src, .max_records = 20, .max_delay_ms = 50, .resend_after_s = 2};
	cr_assert_eq(fh_agent_start(&env, 0, &ao), 0, "agent");
}

/* JUNK refused messages: 4 in 5 on gw-b's own topic, 1 in 5 on a topic of no configured agent. */
static void flood(void)
{
	static char junk[512];
	for (int i = 0; i < JUNK; i++) {
		snprintf(junk, sizeof junk, "junk %d: %0300d", i, i);
		bool other = i % 5 == 4;
		cr_assert_eq(hh_publish(&env, other ? "ent-x" : "ent-b", other ? "gw-x" : "gw-b", "emission", junk), 0,
			     "junk %d", i);
	}
}

/* The healthy agent: all produced, all acked, all stored once. */
static void check_healthy_agent(void)
{
	struct fh_outbox ob;
	long stored = 0;

	cr_assert_eq(fh_wait_agent_done(&env, 0, TICKS, WAIT_MS, &ob), 0,
		     "%s did not finish while the junk came: position %lld of %d ticks, outbox depth %lld (agent log "
		     "%s, hub log %s)",
		     hh_agent(0), (long long)ob.position, TICKS, (long long)ob.depth, env.agent_log[0], env.hub_log);
	pht_sleep_ms(500);
	cr_expect_eq(fh_check_agent(&env, 0, &ref, &(struct fh_check_opts){.order = true, .want_rejects = 0}, &stored,
				    why, sizeof why),
		     0, "%s", why);
	cr_log_info("%s: %ld records stored, %zu produced", hh_agent(0), stored, ref.n);
}

static void stop_all(void)
{
	int status = 0;
	cr_expect_eq(env.hub_runs, 1, "the hub was restarted");
	cr_expect_eq(hh_agent_stop(&env, 0, 10000, &status), 0);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "agent exit status %#x", status);
	cr_expect_eq(hh_hub_stop(&env, 10000, &status), 0, "hub stop (log %s)", env.hub_log);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hub exit status %#x", status);
	cr_expect_eq(hh_log_clean(env.hub_log, why, sizeof why), 0, "%s", why);
}

Test(fault_junk, junk_flood_never_stops_a_healthy_agents_acks)
{
	if (!hh_parkagent())
		cr_skip_test("PH_PARKAGENT is not set");
	cr_assert_eq(fh_sim_reference(&sim, &ref, why, sizeof why), 0, "%s", why);
	start_capped_hub(2);
	start_agent();
	flood();
	check_healthy_agent();

	long status = 0;
	char body[1024];
	cr_expect_eq(fh_http_get(port, "/healthz", &status, body, sizeof body), 0);
	cr_expect_eq(status, 200, "/healthz %ld: %s", status, body);
	int64_t rows = -1;
	hh_db_i64(&env, &rows, "SELECT count(*) FROM rejects");
	cr_expect_gt(rows, 0, "no refused batch stored at all");
	cr_expect_lt(rows, JUNK / 10, "rejects rows: %lld of %d refused (the rate limit should hold most)",
		     (long long)rows, JUNK);
	double unstored = fh_metric(port, "parkhub_rejects_unstored_total");
	cr_expect_gt(unstored, 0, "parkhub_rejects_unstored_total %g", unstored);
	double refused = fh_metric(port, "parkhub_refused_total{reason=\"all\"}");
	cr_expect_geq(refused, JUNK, "parkhub_refused_total %g: every refusal counts, stored or not", refused);
	cr_expect_geq(fh_file_count(env.hub_log, "not stored in the rejects table"), 1, "no summary in the log (%s)",
		      env.hub_log);
	stop_all();
}

/* Line number of the first line of path holding needle; 0 when none. */
static int first_line(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[8192];
	int n = 0, at = 0;
	while (f && !at && fgets(line, sizeof line, f))
		if (++n && strstr(line, needle))
			at = n;
	if (f)
		fclose(f);
	return at;
}

Test(fault_junk, a_full_database_gives_up_the_rejects_before_acks_stop)
{
	/* Rejects stored without a rate limit up to the whole cap; then data
	 * at 1000 records/s fills the database. The rows held for rejects go
	 * first; only then do acks stop, and /healthz says why. */
	static const struct fh_sim fast = {.seed = 78, .rate_hz = 1000, .ticks = 30000, .stack_test_every = 500,
					   .weighbridge_every = 250};
	char src[512], body[1024];
	long status = 0;
	struct fh_outbox ob;
	long stored = 0;

	if (!hh_parkagent())
		cr_skip_test("PH_PARKAGENT is not set");
	cr_assert_eq(fh_sim_reference(&fast, &ref, why, sizeof why), 0, "%s", why);
	cr_assert_eq(fh_hub_config_set(&env, "db", "rejects_per_agent_per_min", "1000000"), 0);
	cr_assert_eq(fh_hub_config_set(&env, "db", "rejects_max_pct", "100"), 0);
	cr_assert_eq(fh_hub_config_set(&env, "db", "rejects_max_mb", "100000"), 0);
	start_capped_hub(1);
	for (int i = 0; i < 3000; i++) {
		static char junk[512];
		snprintf(junk, sizeof junk, "junk %d: %0300d", i, i);
		cr_assert_eq(hh_publish(&env, "ent-b", "gw-b", "emission", junk), 0, "junk %d", i);
	}
	int64_t rows = -1;
	cr_assert_eq(hh_wait_db(&env, 1, &rows, 60000, "SELECT count(*) >= 1000 FROM rejects"), 0,
		     "the junk was not stored (log %s)", env.hub_log);
	cr_assert_eq(fh_sim_sources(&fast, src, sizeof src), 0);
	struct fh_agent_opts ao = {.sources = src, .max_records = 20, .max_delay_ms = 50, .resend_after_s = 2};
	cr_assert_eq(fh_agent_start(&env, 0, &ao), 0, "agent");

	cr_assert_eq(fh_wait_file_count(env.hub_log, "database full (SQLITE_FULL", 1, 90000), 0,
		     "the database never filled (log %s)", env.hub_log);
	int gave_up = first_line(env.hub_log, "rows of the rejects table to make room");
	int full = first_line(env.hub_log, "database full (SQLITE_FULL");
	cr_expect(gave_up > 0 && gave_up < full, "the rejects were not deleted before acks stopped (lines %d, %d; log %s)",
		  gave_up, full, env.hub_log);
	hh_db_i64(&env, &rows, "SELECT count(*) FROM rejects");
	cr_expect_eq(rows, 0, "rejects rows while the database is full: %lld", (long long)rows);
	cr_expect_gt(fh_metric(port, "parkhub_rejects_deleted_total{why=\"full\"}"), 0);
	cr_expect_eq(fh_http_get(port, "/healthz", &status, body, sizeof body), 0);
	cr_expect_eq(status, 503, "/healthz %ld while the database is full: %s", status, body);
	cr_expect(strstr(body, "database full") != NULL, "/healthz gives no reason: %s", body);
	cr_expect_eq(fh_metric(port, "parkhub_database_full"), 1);

	cr_assert_eq(fh_hub_config_set(&env, "db", "max_size_mb", "0"), 0);
	cr_assert_eq(pht_proc_kill(&env.hub, SIGHUP), 0);
	cr_assert_eq(fh_wait_agent_done(&env, 0, fast.ticks, WAIT_MS, &ob), 0,
		     "%s did not finish: position %lld, outbox depth %lld (hub log %s)", hh_agent(0),
		     (long long)ob.position, (long long)ob.depth, env.hub_log);
	pht_sleep_ms(500);
	cr_expect_eq(fh_check_agent(&env, 0, &ref, &(struct fh_check_opts){.order = true, .want_rejects = 0}, &stored,
				    why, sizeof why),
		     0, "%s", why);
	cr_expect_eq(fh_http_get(port, "/healthz", &status, body, sizeof body), 0);
	cr_expect_eq(status, 200, "/healthz %ld once there is room: %s", status, body);
	stop_all();
}
