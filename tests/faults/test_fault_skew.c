/*
 * test_fault_skew.c — an agent's clock skewed beyond the hub's bound: the
 * gateway's data logger stamps records an hour ahead of the hub's clock
 * (ingest.max_future_s is 300 s), then 500 days behind it
 * (ingest.max_age_days is 400). The agent takes them (its own bound,
 * max_future_s, is set to a day here: the agent cannot know its clock is
 * wrong) and publishes them between batches of good records; the hub must
 * refuse exactly the skewed batches, each with a row in `rejects` (code
 * PH_ESKEW, a reason saying "ahead" or "older"), still ack them so the
 * agent's outbox drains (ingest.c: a bad batch that names its agent is
 * acked, it must not block the outbox), and store every good record
 * exactly once.
 *
 * The skewed clock is the source's (a JSON-lines file with fixed
 * timestamps), not the agent process's: the batch's `sent` stays on the
 * real clock. Bounded waits only; no assertion on time.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "fault_helpers.h"
#include "parkhub/timefmt.h"

#define WAIT_MS 60000
#define GOOD 100  /* good records per good phase */
#define SKEWED 60 /* skewed records per skewed phase */

static struct hh_env env;
static struct fh_ref ref;
static char why[2048];
static char data[700];

static void setup(void) { cr_assert_eq(hh_setup(&env, NULL), 0, "sandbox (broker, test client)"); }
static void teardown(void)
{
	fh_ref_free(&ref);
	hh_teardown(&env);
}

TestSuite(fault_skew, .init = setup, .fini = teardown, .timeout = 200);

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Appends n records stamped t0 + k s; good ones also go into the reference. */
static void append(int64_t t0, int n, int base, int good)
{
	FILE *f = fopen(data, "a");
	char ts[PH_TIME_STRLEN], key[256];

	cr_assert_not_null(f);
	for (int k = 0; k < n; k++) {
		double so2 = 20 + (base + k) * 0.25, nox = 80 + (base + k) % 50;
		ph_time_format(t0 + (int64_t)k * 1000, ts, sizeof ts);
		fprintf(f, "{\"ts\":\"%s\",\"point\":\"stack-1\",\"values\":{\"so2\":%.17g,\"nox\":%.17g}}\n", ts, so2, nox);
		if (good) {
			snprintf(key, sizeof key, "R|stack-1|0|nox=%.17g/N,so2=%.17g/N", nox, so2);
			ref.keys = realloc(ref.keys, (ref.n + 1) * sizeof *ref.keys);
			ref.ticks = realloc(ref.ticks, (ref.n + 1) * sizeof *ref.ticks);
			cr_assert(ref.keys && ref.ticks);
			ref.keys[ref.n] = strdup(key);
			ref.ticks[ref.n++] = base + k;
			ref.measurements++;
		}
	}
	cr_assert_eq(fclose(f), 0);
}

static int64_t rejects(const char *reason_like)
{
	int64_t v = -1;
	hh_db_i64(&env, &v,
		  "SELECT count(*) FROM rejects WHERE agent = 'gw-a' AND code = 'PH_ESKEW' AND reason LIKE '%%%s%%'",
		  reason_like);
	return v;
}

/* Everything published so far was acked, and nothing new came for 1 s. */
static void wait_drained(const char *what)
{
	long long until = pht_now_ms() + WAIT_MS;
	struct fh_outbox ob = {0}, prev = {0};
	long long stable_since = 0;

	for (;;) {
		cr_assert_eq(fh_outbox_read(&env, 0, &ob), 0);
		bool drained = ob.depth == 0 && ob.last_acked == ob.next_seq - 1;
		if (!drained || ob.next_seq != prev.next_seq)
			stable_since = 0;
		else if (!stable_since)
			stable_since = pht_now_ms();
		else if (pht_now_ms() - stable_since >= 1000)
			return;
		prev = ob;
		cr_assert_lt(pht_now_ms(), until, "%s: outbox depth %lld, acked %lld of %lld (agent log %s, hub log %s)",
			     what, (long long)ob.depth, (long long)ob.last_acked, (long long)(ob.next_seq - 1),
			     env.agent_log[0], env.hub_log);
		hh_pump(&env, 100);
	}
}

Test(fault_skew, skewed_batches_refused_with_reason_acked_good_ones_stored_once)
{
	char src[1024];
	int64_t v = -1, now = ph_now_ms();
	long stored = 0;

	if (!hh_parkagent())
		cr_skip_test("PH_PARKAGENT is not set");
	snprintf(data, sizeof data, "%.600s/logger.jsonl", env.dir);
	cr_assert_eq(hh_write_file(data, ""), 0);
	cr_assert_eq(hh_hub_start(&env, 20000), 0, "hub start (log %s)", env.hub_log);
	snprintf(src, sizeof src, "[{\"type\":\"jsonl\",\"name\":\"logger\",\"path\":\"%s\",\"from_start\":true}]", data);
	struct fh_agent_opts ao = {.sources = src, .max_records = 20, .max_delay_ms = 100, .resend_after_s = 2,
				   .top_extra = "\"max_future_s\": 86400"};
	cr_assert_eq(fh_agent_start(&env, 0, &ao), 0);

	append(now - 3600000, GOOD, 0, 1);
	cr_assert_eq(hh_wait_db(&env, GOOD, &v, WAIT_MS, "SELECT coalesce(sum(nrecords), 0) FROM samples"), 0,
		     "good records stored: %lld (agent log %s)", (long long)v, env.agent_log[0]);
	wait_drained("first good phase");

	append(now + 3600000, SKEWED, 1000, 0); /* an hour ahead of the hub */
	cr_assert_eq(hh_wait_db(&env, 1, &v, WAIT_MS,
				"SELECT count(*) > 0 FROM rejects WHERE agent = 'gw-a' AND code = 'PH_ESKEW'"),
		     0, "no PH_ESKEW reject for records an hour ahead (hub log %s)", env.hub_log);
	wait_drained("records an hour ahead");
	int64_t ahead = rejects("ahead of the hub");

	append(now - 500LL * 86400000, SKEWED, 2000, 0); /* 500 days behind */
	cr_assert_eq(hh_wait_db(&env, 1, &v, WAIT_MS,
				"SELECT count(*) > 0 FROM rejects WHERE agent = 'gw-a' AND reason LIKE '%%older than%%'"),
		     0, "no PH_ESKEW reject for records 500 days old (hub log %s)", env.hub_log);
	wait_drained("records 500 days old");
	int64_t older = rejects("older than");

	append(now - 1800000, GOOD, 3000, 1);
	cr_assert_eq(hh_wait_db(&env, 2 * GOOD, &v, WAIT_MS, "SELECT coalesce(sum(nrecords), 0) FROM samples"), 0,
		     "good records stored: %lld", (long long)v);
	wait_drained("second good phase");

	/* 60 records in batches of at most 20: at least 3 refused batches each. */
	cr_expect_geq(ahead, 3, "refused batches an hour ahead: %lld", (long long)ahead);
	cr_expect_geq(older, 3, "refused batches 500 days old: %lld", (long long)older);
	hh_db_i64(&env, &v, "SELECT count(*) FROM rejects WHERE agent = 'gw-a'");
	cr_expect_eq(v, ahead + older, "rejects of gw-a: %lld, of which PH_ESKEW ahead %lld and older %lld",
		     (long long)v, (long long)ahead, (long long)older);
	char reason[512] = "";
	hh_db_text(&env, reason, sizeof reason, "SELECT reason FROM rejects WHERE reason LIKE '%%ahead%%' LIMIT 1");
	cr_log_info("refused %lld batches ahead, %lld too old; e.g. \"%s\"", (long long)ahead, (long long)older, reason);
	cr_expect_geq(fh_file_count(env.hub_log, "PH_ESKEW"), 1, "the refusal is not in the hub's log");

	/* Good records once, refused batches acked (outbox empty), seqs 1..N
	 * each stored or refused: fault_helpers' accounting. */
	qsort(ref.keys, ref.n, sizeof *ref.keys, cmp_str); /* ticks unused: keys are unique */
	for (size_t k = 0; k < ref.n; k++)
		ref.ticks[k] = -1;
	cr_expect_eq(fh_check_agent(&env, 0, &ref, &(struct fh_check_opts){.order = false, .want_rejects = ahead + older},
				    &stored, why, sizeof why),
		     0, "%s", why);
	cr_expect_eq(stored, 2 * GOOD, "records stored: %ld", stored);

	int status = 0;
	cr_expect_eq(hh_agent_stop(&env, 0, 10000, &status), 0);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "agent exit status %#x", status);
	cr_expect_eq(hh_hub_stop(&env, 10000, &status), 0, "hub stop (log %s)", env.hub_log);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hub exit status %#x", status);
	cr_expect_eq(hh_log_clean(env.hub_log, why, sizeof why), 0, "%s", why);
}
