/*
 * test_hub_lifecycle.c — parkhub's process life over a real Mosquitto: a
 * SIGKILL while a simulated smelter streams loses and doubles nothing once
 * the hub runs again on the same database; the dedupe state (out-of-order
 * batches) survives a restart; SIGTERM stops it promptly and cleanly, idle
 * or under load, with its retained status saying offline (hub_helpers.h).
 *
 * One behaviour per Test; every wait is bounded.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "hub_helpers.h"
#include "parkhub/timefmt.h"

#define WAIT_MS 60000
#define START_MS 20000

static struct hh_env env;
static char why[1024];

static struct pht_mqtt *late; /* here, so a failed assertion leaks nothing */

static void setup(void) { cr_assert_eq(hh_setup(&env, NULL), 0, "sandbox (broker, test client)"); }

static void teardown(void)
{
	pht_mqtt_free(late);
	late = NULL;
	hh_teardown(&env);
}

TestSuite(hub, .init = setup, .fini = teardown, .timeout = 150);

static void start_hub(void)
{
	cr_assert_eq(hh_hub_start(&env, START_MS), 0, "hub start (log %s)", env.hub_log);
}

static void stop_hub_cleanly(void)
{
	int status = 0;

	cr_assert_eq(hh_hub_stop(&env, 10000, &status), 0, "the hub did not stop within 10 s of SIGTERM (log %s)",
		     env.hub_log);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hub exit status %#x (log %s)", status, env.hub_log);
	cr_expect_eq(hh_log_clean(env.hub_log, why, sizeof why), 0, "%s", why);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int count_in_file(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

/* ---- 4 ------------------------------------------------------------------- */

#define SIM_TICKS 6000
#define SIM_RATE 500
#define SIM_STACK_TEST 100
#define SIM_WEIGH 50

/* What src_sim emits in SIM_TICKS ticks (its top-of-file table):
 * stack-1 CEMS + furnace-1 every tick, a pcdd_f stack test when
 * i % stack_test_every == 0 (i > 0), a weighing when i % weighbridge_every
 * == 0 (i > 0), every third weighing with two shipments out. */
static void sim_production(long *measurements, long *materials)
{
	*measurements = *materials = 0;
	for (long i = 0; i < SIM_TICKS; i++) {
		*measurements += 2 + (i > 0 && i % SIM_STACK_TEST == 0);
		if (i > 0 && i % SIM_WEIGH == 0)
			*materials += 1 + ((i / SIM_WEIGH) % 3 == 0 ? 2 : 0);
	}
}

Test(hub, hub_survives_sigkill_mid_stream, .timeout = 180)
{
	char src[512];
	long want_meas, want_mat;
	int64_t v = -1;
	long rows = 0;

	if (!hh_parkagent())
		cr_skip_test("PH_PARKAGENT is not set");
	sim_production(&want_meas, &want_mat);
	env.opts.expected_interval_s = 1.0 / SIM_RATE;
	cr_assert_eq(hh_write_hub_config(&env), 0);
	start_hub();
	snprintf(src, sizeof src,
		 "[{\"type\":\"sim\",\"name\":\"sim\",\"seed\":7,\"rate_hz\":%d,\"duration_ticks\":%d,"
		 "\"stack_test_every\":%d,\"weighbridge_every\":%d}]",
		 SIM_RATE, SIM_TICKS, SIM_STACK_TEST, SIM_WEIGH);
	struct hh_agent_opts o = {.sources = src, .max_records = 5, .max_delay_ms = 50, .resend_after_s = 2};
	cr_assert_eq(hh_agent_start(&env, 0, &o), 0);

	/* Mid-stream: a fifth of the production stored, the agent still going. */
	long long until = pht_now_ms() + WAIT_MS;
	int64_t stored = 0;
	while (pht_now_ms() < until && pht_proc_alive(&env.hub)) {
		hh_db_i64(&env, &stored, "SELECT coalesce(sum(nrecords), 0) FROM samples");
		if (stored >= want_meas / 5)
			break;
		pht_sleep_ms(50);
	}
	cr_assert_geq(stored, want_meas / 5, "stored %lld before the kill (log %s)", (long long)stored, env.hub_log);
	cr_assert_eq(hh_hub_kill(&env), 0, "SIGKILL the hub");
	cr_assert(pht_proc_alive(&env.agent[0]), "the agent should still be streaming");
	pht_sleep_ms(3000); /* the agent goes on; the broker queues for the hub's session */

	/* Again, in the middle of the burst the broker delivers on reconnect:
	 * batches taken from the broker but not yet committed die with it. */
	hh_db_i64(&env, &stored, "SELECT coalesce(sum(nrecords), 0) FROM samples");
	int64_t before = stored;
	start_hub();
	until = pht_now_ms() + WAIT_MS;
	while (pht_now_ms() < until && pht_proc_alive(&env.hub)) {
		hh_db_i64(&env, &stored, "SELECT coalesce(sum(nrecords), 0) FROM samples");
		if (stored > before)
			break;
		pht_sleep_ms(5);
	}
	cr_assert_gt(stored, before, "nothing stored after the restart (log %s)", env.hub_log);
	cr_assert_eq(hh_hub_kill(&env), 0, "SIGKILL the hub again");
	cr_log_info("killed at %lld and %lld of %ld measurement records", (long long)before, (long long)stored,
		    want_meas);
	pht_sleep_ms(500);
	start_hub();

	cr_assert_eq(hh_wait_db(&env, want_meas, &v, 90000, "SELECT coalesce(sum(nrecords), 0) FROM samples"), 0,
		     "measurement records stored %lld, produced %ld (hub log %s, agent log %s)", (long long)v, want_meas,
		     env.hub_log, env.agent_log[0]);
	cr_assert_eq(hh_wait_db(&env, want_mat, &v, WAIT_MS, "SELECT count(*) FROM materials"), 0,
		     "material records stored %lld, produced %ld", (long long)v, want_mat);
	long depth = -1;
	until = pht_now_ms() + 30000;
	while ((depth = hh_outbox_depth(&env, 0)) != 0 && pht_now_ms() < until)
		pht_sleep_ms(100);
	cr_expect_eq(depth, 0, "the agent's outbox still holds %ld batches", depth);
	pht_sleep_ms(500); /* late duplicates would show up now */
	hh_db_i64(&env, &v, "SELECT coalesce(sum(nrecords), 0) FROM samples");
	cr_expect_eq(v, want_meas, "measurement records after the outbox emptied: %lld", (long long)v);
	hh_db_i64(&env, &v, "SELECT count(*) FROM materials");
	cr_expect_eq(v, want_mat, "material records after the outbox emptied: %lld", (long long)v);
	hh_db_i64(&env, &v, "SELECT count(*) FROM (SELECT DISTINCT material, lot FROM materials)");
	cr_expect_eq(v, want_mat, "distinct (material, lot): %lld", (long long)v);

	/* Every record once: (point, ts, values) are distinct per tick. */
	struct hh_samples s;
	cr_assert_eq(hh_samples_load(&env, &s, why, sizeof why), 0, "%s", why);
	cr_expect_eq(s.records, want_meas, "decoded records");
	char **keys = calloc((size_t)s.records + 1, sizeof *keys);
	cr_assert_not_null(keys);
	size_t nk = 0;
	for (size_t i = 0; i < s.n; i++) {
		if (i > 0 && s.v[i].rec == s.v[i - 1].rec)
			continue;
		char k[160];
		snprintf(k, sizeof k, "%s|%lld|%s", s.v[i].point, (long long)s.v[i].ts_ms, s.v[i].metric);
		keys[nk++] = strdup(k);
	}
	qsort(keys, nk, sizeof *keys, cmp_str);
	for (size_t i = 1; i < nk; i++)
		if (strcmp(keys[i], keys[i - 1]) == 0) {
			cr_expect_fail("record stored twice: %s", keys[i]);
			break;
		}
	for (size_t i = 0; i < nk; i++)
		free(keys[i]);
	free(keys);
	hh_samples_free(&s);

	cr_expect_eq(hh_check_rollups(&env, &rows, why, sizeof why), 0, "%s", why);
	cr_expect_gt(rows, 0);
	hh_db_i64(&env, &v, "SELECT count(*) FROM streams");
	cr_expect_eq(v, 1, "streams: %lld", (long long)v);
	hh_db_i64(&env, &v, "SELECT count(*) FROM gaps");
	cr_expect_eq(v, 0, "gaps (nothing was lost): %lld", (long long)v);

	cr_log_info("the agent published again %d times", count_in_file(env.agent_log[0], "publishing again"));
	int status = 0;
	cr_expect_eq(hh_agent_stop(&env, 0, 10000, &status), 0);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "agent exit status %#x", status);
	cr_expect_eq(hh_log_clean(env.agent_log[0], why, sizeof why), 0, "%s", why);
	stop_hub_cleanly();
}

/* ---- 11 ------------------------------------------------------------------ */

/* SIGTERM, then: exit code 0 within 3 s, no sanitizer report, and a
 * newcomer reads the retained hub status "offline". Returns how long it
 * took (ms). */
static long long sigterm_hub_and_check(void)
{
	char topic[256] = "", id[64];
	char *payload = NULL;
	int status = 0;
	static int late_clients;

	long long t0 = pht_now_ms();
	cr_assert_eq(pht_proc_kill(&env.hub, SIGTERM), 0);
	/* Wait longer than the 3 s allowed, to report how long it does take. */
	cr_assert_eq(pht_proc_wait(&env.hub, 35000, &status), 0, "the hub did not exit within 35 s of SIGTERM (log %s)",
		     env.hub_log);
	long long took = pht_now_ms() - t0;
	cr_expect_leq(took, 3000, "the hub took %lld ms to exit after SIGTERM (log %s)", took, env.hub_log);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hub exit status %#x (log %s)", status, env.hub_log);
	cr_expect_eq(hh_log_clean(env.hub_log, why, sizeof why), 0, "%s", why);
	cr_log_info("parkhub stopped %lld ms after SIGTERM", took);

	snprintf(id, sizeof id, "hh-late-%d-%d", (int)getpid(), ++late_clients);
	late = pht_mqtt_new(pht_broker_uri(&env.broker), id);
	cr_assert_not_null(late);
	cr_assert_eq(pht_mqtt_connect(late, 1, 10000), 0);
	cr_assert_eq(pht_mqtt_subscribe(late, "parkhub/v1/" HH_PARK "/hub", 1, 5000), 0);
	int rc = pht_mqtt_next(late, 5000, topic, sizeof topic, &payload, NULL);
	cr_expect_eq(rc, 0, "no retained hub status");
	if (rc == 0)
		cr_expect(strstr(payload, "\"state\":\"offline\"") != NULL, "retained hub status: %s", payload);
	free(payload);
	pht_mqtt_free(late);
	late = NULL;
	return took;
}

Test(hub, hub_stops_cleanly_on_sigterm)
{
	char t[PH_TIME_STRLEN], rec[256], batch[1024];
	int64_t v = -1;

	start_hub();
	for (int s = 1; s <= 3; s++) {
		ph_time_format(ph_now_ms() - 60000 + s * 1000, t, sizeof t);
		snprintf(rec, sizeof rec, "[{\"ts\":\"%s\",\"point\":\"stack-1\",\"values\":{\"so2\":%d.5}}]", t, s);
		cr_assert_eq(hh_batch(batch, sizeof batch, "gw-a", 42, s, 1, rec), 0);
		cr_assert_eq(hh_publish(&env, "ent-a", "gw-a", "emission", batch), 0);
	}
	cr_assert_eq(hh_wait_ack(&env, "ent-a", "gw-a", 42, 3, 0, WAIT_MS), 0, "ack (log %s)", env.hub_log);
	sigterm_hub_and_check();
	hh_db_i64(&env, &v, "SELECT coalesce(sum(nrecords), 0) FROM samples");
	cr_expect_eq(v, 3, "records stored: %lld", (long long)v);
}

/* hub.h: shutdown drains — "commit and ack what arrived" — then says
 * offline and disconnects; CONVENTIONS.md: "stop intake, drain queue,
 * commit, close". While a simulated smelter streams (about 200 batches/s). */
Test(hub, hub_stops_cleanly_on_sigterm_while_ingesting)
{
	char src[512];
	int64_t v = -1, epoch = 0, acked = -1, upto = -2;
	long rows = 0;

	if (!hh_parkagent())
		cr_skip_test("PH_PARKAGENT is not set");
	start_hub();
	snprintf(src, sizeof src, "[{\"type\":\"sim\",\"name\":\"sim\",\"rate_hz\":500}]");
	struct hh_agent_opts o = {.sources = src, .max_records = 5, .max_delay_ms = 50};
	cr_assert_eq(hh_agent_start(&env, 1, &o), 0);
	cr_assert_eq(hh_wait_db(&env, 1, &v, WAIT_MS, "SELECT count(*) > 200 FROM samples"), 0,
		     "the agent's batches are not stored (log %s)", env.agent_log[1]);

	sigterm_hub_and_check();

	/* What it committed is whole, and it acked what it committed. */
	cr_expect_eq(hh_check_rollups(&env, &rows, why, sizeof why), 0, "%s", why);
	hh_pump(&env, 300);
	cr_assert_eq(hh_last_ack(&env, "ent-b", "gw-b", &epoch, &acked), 0, "no ack seen");
	hh_db_i64(&env, &upto, "SELECT upto FROM streams WHERE epoch = %lld", (long long)epoch);
	cr_expect_eq(acked, upto, "committed upto %lld, last ack upto %lld: batches stored at shutdown were not acked",
		     (long long)upto, (long long)acked);
}

/* ---- dedupe state across a restart --------------------------------------- */

/* Publishes gw-b's batch seq (one record) of epoch 10, declaring oldest. */
static void publish_one(int64_t seq, int64_t oldest)
{
	char t[PH_TIME_STRLEN], rec[256], batch[1024];

	ph_time_format(ph_now_ms() - 600000 + seq * 1000, t, sizeof t);
	snprintf(rec, sizeof rec, "[{\"ts\":\"%s\",\"point\":\"stack-1\",\"values\":{\"so2\":%lld.25}}]", t,
		 (long long)seq);
	cr_assert_eq(hh_batch(batch, sizeof batch, "gw-b", 10, seq, oldest, rec), 0);
	cr_assert_eq(hh_publish(&env, "ent-b", "gw-b", "emission", batch), 0);
}

/* Out of order (1 3 7 2 4: 7 held above upto 4), a restart, then the agent
 * declares that it dropped 5, 6 and 8 (seq 9, oldest 9): the gap rows name
 * exactly those, not 4 (stored), and 3 sent again is a duplicate. */
Test(hub, hub_gap_after_restart_counts_only_missing_batches)
{
	const int64_t order[] = {1, 3, 7, 2, 4};
	char gaps[256] = "";
	int64_t v = -1;

	start_hub();
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
		publish_one(order[i], 1);
	cr_assert_eq(hh_wait_ack(&env, "ent-b", "gw-b", 10, 4, 0, WAIT_MS), 0, "ack upto 4 (log %s)", env.hub_log);
	cr_assert_eq(hh_wait_db(&env, 5, &v, WAIT_MS, "SELECT count(*) FROM samples"), 0);
	stop_hub_cleanly();

	start_hub();
	size_t mark = env.nacks;
	publish_one(3, 1); /* a duplicate: it is below upto */
	publish_one(9, 9);
	cr_assert_eq(hh_wait_ack(&env, "ent-b", "gw-b", 10, 9, mark, WAIT_MS), 0, "ack upto 9 (log %s)", env.hub_log);
	hh_db_text(&env, gaps, sizeof gaps,
		   "SELECT group_concat(r, ' ') FROM (SELECT from_seq || '..' || to_seq AS r FROM gaps ORDER BY from_seq)");
	cr_expect_str_eq(gaps, "5..6 8..8", "gap rows '%s', want '5..6 8..8' (seqs 1-4, 7 and 9 are stored)", gaps);
	hh_db_i64(&env, &v, "SELECT count(*) FROM samples");
	cr_expect_eq(v, 6, "chunks stored (seqs 1 2 3 4 7 9, once each): %lld", (long long)v);
	hh_db_i64(&env, &v, "SELECT count(DISTINCT seq) FROM samples");
	cr_expect_eq(v, 6, "distinct seqs stored: %lld", (long long)v);
	hh_db_i64(&env, &v, "SELECT coalesce(sum(duplicates), 0) FROM streams");
	cr_expect_eq(v, 1, "duplicates: %lld", (long long)v);
	stop_hub_cleanly();
}
