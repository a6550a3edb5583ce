/*
 * test_hub_bounds.c — the hub's state stays bounded and correct under what
 * a park (or a broken gateway) can throw at it (issue #16):
 *
 *   hub_acks_agents_past_the_4096th       4,160 configured agents each
 *       publish a batch: every one gets its ack (the ack mailbox grows with
 *       the agents; it was a fixed table of 4,096 topics).
 *   hub_acks_every_epoch_of_an_epoch_flood  one agent starts 300 epochs in
 *       a burst (several acked in one writer cycle): every (agent, epoch)
 *       gets its own ack; the streams held in memory stay bounded
 *       (/metrics), the "new epoch" warning is rate limited, and a batch of
 *       a released epoch is still a duplicate.
 *
 * Real Mosquitto and parkhub (hub_helpers.h). Bounded waits; the only use
 * of time is the rate limit's allowance, computed from the measured run.
 */
#include <criterion/criterion.h>

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "hub_helpers.h"
#include "api/api.h"
#include "store/dedupe.h"
#include "parkhub/timefmt.h"

#define WAIT_MS 60000
#define START_MS 20000

static struct hh_env env;
static char why[1024];
static char *big; /* a generated config, freed by the teardown */

static void setup(void) { cr_assert_eq(hh_setup(&env, NULL), 0, "sandbox (broker, test client)"); }
static void teardown(void)
{
	hh_teardown(&env);
	free(big);
	big = NULL;
}

TestSuite(hub_bounds, .init = setup, .fini = teardown, .timeout = 240);

static void stop_hub_cleanly(void)
{
	int status = 0;

	cr_assert_eq(hh_hub_stop(&env, 10000, &status), 0, "the hub did not stop within 10 s of SIGTERM (log %s)",
		     env.hub_log);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hub exit status %#x (log %s)", status, env.hub_log);
	cr_expect_eq(hh_log_clean(env.hub_log, why, sizeof why), 0, "%s", why);
}

/* One record at ts as a batch's records array. */
static void one_record(char *buf, size_t cap, int64_t ts)
{
	char t[PH_TIME_STRLEN];
	ph_time_format(ts, t, sizeof t);
	snprintf(buf, cap, "[{\"ts\":\"%s\",\"point\":\"stack-1\",\"values\":{\"so2\":20.5}}]", t);
}

/* ---- 1 ------------------------------------------------------------------- */

#define BIG_ENTS 65
#define BIG_AGENTS 64 /* per enterprise: the config's most */

Test(hub_bounds, hub_acks_agents_past_the_4096th)
{
	size_t cap = 64 * 1024 + BIG_ENTS * (BIG_AGENTS * 8 + 160), len = 0;
	char recs[256], batch[1024], ent[16], agent[16];
	int64_t ts = (ph_now_ms() / 1000) * 1000 - 600000;
	static bool acked[BIG_ENTS][BIG_AGENTS];

	cr_assert_not_null(big = malloc(cap));
	len += (size_t)snprintf(big + len, cap - len,
				"{\"hub_id\": \"hub-test\", \"mqtt\": {\"uris\": [\"%s\"], \"keepalive_s\": 10,"
				" \"reconnect_min_ms\": 100, \"reconnect_max_ms\": 1000},"
				" \"db\": {\"path\": \"%s\", \"min_free_mb\": 0},"
				" \"parks\": [{\"id\": \"%s\", \"enterprises\": [",
				pht_broker_uri(&env.broker), env.db, HH_PARK);
	for (int e = 0; e < BIG_ENTS; e++) {
		len += (size_t)snprintf(big + len, cap - len, "%s{\"id\": \"e%03d\", \"sector\": \"cu\", \"class\": \"new\","
							      " \"agents\": [", e ? "," : "", e);
		for (int a = 0; a < BIG_AGENTS; a++)
			len += (size_t)snprintf(big + len, cap - len, "%s\"g%02d\"", a ? "," : "", a);
		len += (size_t)snprintf(big + len, cap - len, "]}");
	}
	len += (size_t)snprintf(big + len, cap - len, "]}]}\n");
	cr_assert_lt(len, cap - 1);
	cr_assert_eq(hh_write_file(env.hub_cfg, big), 0);
	cr_assert_eq(hh_hub_start(&env, START_MS), 0, "hub start (log %s)", env.hub_log);

	one_record(recs, sizeof recs, ts);
	for (int e = 0; e < BIG_ENTS; e++)
		for (int a = 0; a < BIG_AGENTS; a++) {
			snprintf(ent, sizeof ent, "e%03d", e);
			snprintf(agent, sizeof agent, "g%02d", a);
			cr_assert_eq(hh_batch(batch, sizeof batch, agent, 5000, 1, 1, recs), 0);
			cr_assert_eq(hh_publish(&env, ent, agent, "emission", batch), 0, "publish %s/%s", ent, agent);
		}

	size_t seen = 0, scanned = 0;
	long long until = pht_now_ms() + WAIT_MS;
	while (seen < BIG_ENTS * BIG_AGENTS && pht_now_ms() < until) {
		hh_pump(&env, 100);
		for (; scanned < env.nacks; scanned++) {
			const struct hh_ack *k = &env.acks[scanned];
			int e, a;
			if (sscanf(k->ent, "e%d", &e) != 1 || sscanf(k->agent, "g%d", &a) != 1 || e < 0 || e >= BIG_ENTS ||
			    a < 0 || a >= BIG_AGENTS || k->epoch != 5000 || k->upto < 1 || acked[e][a])
				continue;
			acked[e][a] = true;
			seen++;
		}
	}
	cr_expect_eq(seen, (size_t)BIG_ENTS * BIG_AGENTS, "agents acked: %zu of %d (log %s)", seen,
		     BIG_ENTS * BIG_AGENTS, env.hub_log);
	for (int e = 0, shown = 0; e < BIG_ENTS && shown < 3; e++)
		for (int a = 0; a < BIG_AGENTS && shown < 3; a++)
			if (!acked[e][a]) {
				cr_log_error("no ack for e%03d/g%02d", e, a);
				shown++;
			}
	int64_t v = -1;
	hh_db_i64(&env, &v, "SELECT count(*) FROM streams WHERE upto = 1");
	cr_expect_eq(v, BIG_ENTS * BIG_AGENTS, "streams stored: %lld", (long long)v);
	stop_hub_cleanly();
}

/* ---- 2 ------------------------------------------------------------------- */

#define ADMIN_TOKEN "bounds-admin-token-1"

struct body {
	char *p;
	size_t n;
};

static size_t on_body(char *p, size_t sz, size_t n, void *u)
{
	struct body *b = u;
	char *q = realloc(b->p, b->n + sz * n + 1);
	if (!q)
		return 0;
	memcpy(q + b->n, p, sz * n);
	b->n += sz * n;
	q[b->n] = '\0';
	b->p = q;
	return sz * n;
}

/* The value of a metric line "name value" in GET /metrics; -1 when absent. */
static double metric(int port, const char *name)
{
	char url[128];
	struct body b = {0};
	double v = -1;

	snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", port);
	CURL *c = curl_easy_init();
	cr_assert_not_null(c);
	struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer " ADMIN_TOKEN);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 15000L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	CURLcode rc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	size_t nl = strlen(name);
	for (const char *l = b.p; rc == CURLE_OK && l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, name, nl) == 0 && l[nl] == ' ') {
			v = strtod(l + nl + 1, NULL);
			break;
		}
	free(b.p);
	cr_assert_eq(rc, CURLE_OK, "GET %s: %s", url, curl_easy_strerror(rc));
	return v;
}

static int count_lines(const char *path, const char *needle)
{
	char *text = hh_slurp(path);
	int n = 0;
	for (const char *p = text; p && (p = strstr(p, needle)); p += strlen(needle))
		n++;
	free(text);
	return n;
}

#define EPOCHS 300

Test(hub_bounds, hub_acks_every_epoch_of_an_epoch_flood)
{
	char recs[256], batch[1024], top[256], hash[65];
	int64_t ts = (ph_now_ms() / 1000) * 1000 - 600000, v = -1;
	int port = pht_free_port();
	static bool acked[EPOCHS];

	cr_assert_gt(port, 0);
	cr_assert_eq(ph_api_token_hash_hex(ADMIN_TOKEN, hash), 0);
	snprintf(top, sizeof top,
		 "\"http\": {\"listen\": \"127.0.0.1\", \"port\": %d, \"tokens\": [{\"name\": \"ops\", \"sha256\":"
		 " \"%s\", \"role\": \"admin\"}]}",
		 port, hash);
	env.opts.top_extra = top;
	cr_assert_eq(hh_write_hub_config(&env), 0);
	cr_assert_eq(hh_hub_start(&env, START_MS), 0, "hub start (log %s)", env.hub_log);

	long long t0 = pht_now_ms();
	one_record(recs, sizeof recs, ts);
	for (int e = 0; e < EPOCHS; e++) {
		cr_assert_eq(hh_batch(batch, sizeof batch, "gw-a", 10000 + e, 1, 1, recs), 0);
		cr_assert_eq(hh_publish(&env, "ent-a", "gw-a", "emission", batch), 0, "publish epoch %d", 10000 + e);
	}
	int seen = 0;
	size_t scanned = 0;
	long long until = pht_now_ms() + WAIT_MS;
	while (seen < EPOCHS && pht_now_ms() < until) {
		hh_pump(&env, 100);
		for (; scanned < env.nacks; scanned++) {
			const struct hh_ack *k = &env.acks[scanned];
			int64_t e = k->epoch - 10000;
			if (strcmp(k->agent, "gw-a") || e < 0 || e >= EPOCHS || k->upto != 1 || acked[e])
				continue;
			acked[e] = true;
			seen++;
		}
	}
	long long elapsed = pht_now_ms() - t0;
	cr_expect_eq(seen, EPOCHS, "epochs acked: %d of %d (log %s)", seen, EPOCHS, env.hub_log);
	for (int e = 0, shown = 0; e < EPOCHS && shown < 3; e++)
		if (!acked[e]) {
			cr_log_error("no ack for epoch %d", 10000 + e);
			shown++;
		}

	/* Memory: the acked epochs left it (one agent: at most PH_DEDUPE_EPOCHS). */
	double streams = -1;
	until = pht_now_ms() + 10000;
	while ((streams = metric(port, "parkhub_streams_in_memory")) != PH_DEDUPE_EPOCHS && pht_now_ms() < until)
		pht_sleep_ms(100);
	cr_expect_eq(streams, PH_DEDUPE_EPOCHS, "parkhub_streams_in_memory %g (want %d)", streams, PH_DEDUPE_EPOCHS);
	/* The log: the first warning, then at most one line per 10 s. */
	int lines = count_lines(env.hub_log, "starts a new epoch");
	cr_expect_geq(lines, 1, "no new-epoch warning at all (log %s)", env.hub_log);
	cr_expect_leq(lines, 2 + elapsed / 10000, "%d new-epoch warnings in %lld ms (log %s)", lines, elapsed,
		      env.hub_log);
	hh_db_i64(&env, &v, "SELECT count(*) FROM streams");
	cr_expect_eq(v, EPOCHS, "the database keeps every stream: %lld", (long long)v);

	/* A batch of a released epoch is still recognised. */
	size_t mark = env.nacks;
	cr_assert_eq(hh_batch(batch, sizeof batch, "gw-a", 10000, 1, 1, recs), 0);
	cr_assert_eq(hh_publish(&env, "ent-a", "gw-a", "emission", batch), 0);
	cr_expect_eq(hh_wait_ack(&env, "ent-a", "gw-a", 10000, 1, mark, WAIT_MS), 0, "no ack of the resend");
	cr_expect_eq(hh_wait_db(&env, 1, &v, WAIT_MS, "SELECT duplicates FROM streams WHERE epoch = 10000"), 0,
		     "the resend of epoch 10000 is not counted as a duplicate: %lld", (long long)v);
	hh_db_i64(&env, &v, "SELECT coalesce(sum(nrecords), 0) FROM samples");
	cr_expect_eq(v, EPOCHS, "records stored: %lld (the resend stored again?)", (long long)v);
	stop_hub_cleanly();
}
