/*
 * test_cluster_federation.c — two parks and a region over a 3-node
 * RabbitMQ cluster, with node deaths (issue #21, item 5): the cluster of
 * deploy/cluster/cluster.sh; park hubs hub-p1 (park p1, ent-a/gw-a) and
 * hub-p2 (park p2, ent-b/gw-b), each fed by one simulated smelter
 * (parkagent, sim source) through the cluster and forwarding upward
 * (upstream.mqtt, a user of cluster.sh add-uplink: its own up topic and
 * ack only) through the same cluster to a regional hub (role regional).
 *
 * The stream: each simulator's schedule is fixed (start_ms) and begins
 * 20 minutes before the parks' local midnight, so its past ticks backfill
 * at once — closed hours and a closed day to forward, which a live stream
 * of a few minutes never gives — and its last LIVE_S seconds come in real
 * time, at RATE ticks/s, while the scenario runs. The parks' time zone is
 * a fixed offset chosen at setup so that their local time is then between
 * 00:50 and 01:50 (the backfill is 1 to 2.2 hours, whatever the hour the
 * test runs at). Weighings every 5 s keep materials going up all along.
 *
 * Scenario, mid-stream, one node down at a time (a quorum queue needs 2
 * of its 3 replicas; cluster.sh start-node waits until the node is up):
 *   1. SIGKILL node 1 (where the agents begin); start it again;
 *   2. SIGKILL the node hub-p1's session is on (its log); start it again;
 *   3. SIGKILL the node the regional hub is on (its log); start it again;
 *   4. stop the regional hub for OUTAGE_S, the minute (the park
 *      hubs' outboxes hold the changes meanwhile; the agents stream on);
 *   5. SIGKILL hub-p1 and start it again.
 * At the end, with the agents done and the park hubs' CEMS updates past
 * every hour before `cutoff` (the last whole hour at least 5 minutes
 * before the agents started, so closed before the scenario began):
 *   - every agent record stored exactly once in its park hub, in order
 *     (fault_helpers.h's comparison against the simulator's reference);
 *   - each park hub's outbox drained (up_outbox empty);
 *   - per park, the regional hub holds as many rows as the park hub of
 *     cems_hours, cems_agg_days, hour rollups (before cutoff) and
 *     materials (all), each more than 0, and the park's summary over
 *     [the first hour, cutoff) is equal on both sides (fed_helpers.h);
 *   - no gap: one upward stream per park hub at the region, its upto the
 *     park hub's last batch, nothing waiting above it, no loss declared;
 *   - agent 0, hub-p1 and the regional hub logged a failover.
 * It covers what test_cluster_failover checked (an agent's node and a
 * hub's node killed, exactly-once, failovers logged) and replaced it: CI
 * starts the cluster once.
 *
 * Time: the cluster takes 30-45 s to start on 2 busy cores, the whole test
 * about 3-4 minutes. Bounded waits only; no assertion on time.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/api.h"
#include "fault_helpers.h"
#include "fed_helpers.h"
#include "parkhub/timefmt.h"

#define RATE 2           /* ticks/s: about 5 records/s per agent live */
#define LIVE_S 120       /* the live part of the stream: the scenario runs inside it (about 95 s of it here) */
#define OUTAGE_S 60      /* the regional hub away: the minute */
#define WAIT_MS 240000   /* one bounded wait (a drain after the last failover) */
#define SCRIPT_MS 300000 /* one cluster.sh command (a restart: two tries of 120 s) */
#define HOUR 3600000LL
#define NHUBS 3          /* 0: hub-p1, 1: hub-p2, 2: the regional hub */
#define REGION 2

static const char *const token = "cluster-federation-admin-token";
static struct hh_env env;     /* the sandbox; agents k = 0, 1 are env's agents 0, 1 */
static struct hh_env pe[2];   /* env with park hub k's database: fault_helpers' view of park k */
static struct fh_ref ref[2];
static char why[8192], rmq[600], uris[3][64], tz[8];
static int base;
static bool cluster_up;
static int64_t start_ms, cutoff;
static long long t0;

struct hub {
	const char *id, *park; /* park: NULL for the region */
	char cfg[FED_PATH_CAP], db[FED_PATH_CAP], log[FED_PATH_CAP];
	int port;
	struct pht_proc proc;
	bool running;
};
static struct hub hubs[NHUBS] = {{.id = "hub-p1", .park = "p1"}, {.id = "hub-p2", .park = "p2"}, {.id = "region"}};

/* One line per phase, with the seconds since the test began. */
static void phase(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void phase(const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	cr_log_info("[%5.1f s] %s", (double)(pht_now_ms() - t0) / 1000.0, line);
}

/* ---- the cluster ---- */

static int cluster(const char *what, const char *a1, const char *a2, const char *a3, const char *a4,
		   const char *a5)
{
	char script[600], out[16384];
	int code = -1;
	snprintf(script, sizeof script, "%s/deploy/cluster/cluster.sh", getenv("PH_SOURCE_DIR"));
	const char *argv[] = {script, what, rmq, a1, a2, a3, a4, a5, NULL};
	int rc = pht_run(argv, SCRIPT_MS, out, sizeof out, &code);
	if (rc || code) {
		fprintf(stderr, "cluster.sh %s: rc %d, exit %d:\n%s\n", what, rc, code, out);
		return rc ? rc : -1;
	}
	phase("cluster.sh %s %s: %s", what, a1 ? a1 : "", out);
	return 0;
}

static void node_cmd(const char *what, int node)
{
	char n[8];
	snprintf(n, sizeof n, "%d", node);
	cr_assert_eq(cluster(what, n, NULL, NULL, NULL, NULL), 0, "cluster.sh %s %d (logs under %s)", what, node, rmq);
}

/* The node (1..3) of the last "sub connected to" or "sub failover:
 * connected to" line of a hub's log (the regional hub's link and its own
 * session both say "sub": either is where it is). 0 when none. */
static int node_of(const char *log_path)
{
	char *log = hh_slurp(log_path), *last = NULL;
	int node = 0;
	for (char *p = log; p && (p = strstr(p, "sub ")); p++)
		if (strncmp(p, "sub connected to ", 17) == 0 || strncmp(p, "sub failover: connected to ", 27) == 0)
			last = p;
	for (int i = 0; last && i < 3; i++) {
		char *eol = strchr(last, '\n'), *u = strstr(last, uris[i]);
		if (u && (!eol || u < eol))
			node = i + 1;
	}
	free(log);
	return node;
}

/* An "mqtt" object on the cluster, the nodes from `first` (0..2) on. */
static void mqtt_obj(int first, const char *user, const char *extra, char *buf, size_t cap)
{
	int n = snprintf(buf, cap,
			 "{\"uris\": [\"%s\", \"%s\", \"%s\"], \"username\": \"%s\", \"password\": \"pw-%s\","
			 " \"keepalive_s\": 5, \"connect_timeout_ms\": 1000, \"reconnect_min_ms\": 100, \"reconnect_max_ms\": 1000%s}",
			 uris[first % 3], uris[(first + 1) % 3], uris[(first + 2) % 3], user, user, extra);
	cr_assert(n > 0 && (size_t)n < cap, "mqtt object too long");
}

/* ---- the hubs ---- */

static void park_obj(int k, char *buf, size_t cap)
{
	snprintf(buf, cap,
		 "{\"id\": \"%s\", \"tz\": \"%s\", \"enterprises\": [{\"id\": \"%s\", \"agents\": [\"%s\"],"
		 " \"sector\": \"cu\", \"class\": \"existing\", \"expected_interval_s\": %.17g}]}",
		 hubs[k].park, tz, hh_ent(k), hh_agent(k), 1.0 / RATE);
}

/* Park hubs begin on node 2, their uplinks too (a hub's connections all
 * say "sub connected to" in its log: on one list they begin on one node),
 * the region on node 3. */
static void write_config(int h)
{
	char cfg[8192], p[2][512], mq[512], up[512], role[1024], hash[65], upuser[80];
	cr_assert_eq(ph_api_token_hash_hex(token, hash), 0);
	park_obj(0, p[0], sizeof p[0]);
	park_obj(1, p[1], sizeof p[1]);
	if (h == REGION) {
		mqtt_obj(2, hubs[h].id, "", mq, sizeof mq);
		snprintf(role, sizeof role, "\"role\": \"regional\",");
	} else {
		mqtt_obj(1, hubs[h].id, ", \"heartbeat_s\": 1", mq, sizeof mq);
		snprintf(upuser, sizeof upuser, "%s-up", hubs[h].id);
		mqtt_obj(1, upuser, "", up, sizeof up);
		snprintf(role, sizeof role, "\"upstream\": {\"mqtt\": %s, \"batch_records\": 40, \"inflight\": 4},", up);
	}
	int n = snprintf(cfg, sizeof cfg,
			 "{\"hub_id\": \"%s\", %s\n \"mqtt\": %s,\n"
			 " \"db\": {\"path\": \"%s\", \"min_free_mb\": 0},\n"
			 " \"ingest\": {\"max_future_s\": 300, \"max_age_days\": 400},\n"
			 " \"http\": {\"listen\": \"127.0.0.1\", \"port\": %d, \"tokens\": [\n"
			 "   {\"name\": \"admin\", \"sha256\": \"%s\", \"role\": \"admin\"}]},\n"
			 " \"parks\": [%s%s%s]}\n",
			 hubs[h].id, role, mq, hubs[h].db, hubs[h].port, hash, h != 1 ? p[0] : "", h == REGION ? ", " : "",
			 h != 0 ? p[1] : "");
	cr_assert(n > 0 && (size_t)n < sizeof cfg);
	cr_assert_eq(hh_write_file(hubs[h].cfg, cfg), 0);
}

static void hub_start(int h)
{
	int rc = fed_hub_start(&hubs[h].proc, hubs[h].cfg, hubs[h].log, hubs[h].port, token, 60000);
	hubs[h].running = rc == 0 || rc == -ETIMEDOUT;
	cr_assert_eq(rc, 0, "%s did not start (log %s)", hubs[h].id, hubs[h].log);
}

static void hub_stop(int h, int sig)
{
	int status = 0;
	cr_assert_eq(pht_proc_kill(&hubs[h].proc, sig), 0);
	cr_assert_eq(pht_proc_wait(&hubs[h].proc, 20000, &status), 0, "%s did not stop (log %s)", hubs[h].id,
		     hubs[h].log);
	hubs[h].running = false;
	if (sig == SIGTERM)
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s exit status %#x", hubs[h].id, status);
}

/* ---- the agents ---- */

static struct fh_sim sims[2];

static void agent_start(int k)
{
	char mq[512], src[512], cfg[4096];
	mqtt_obj(0, hh_agent(k), "", mq, sizeof mq);
	cr_assert_eq(fh_sim_sources(&sims[k], src, sizeof src), 0);
	int n = snprintf(cfg, sizeof cfg,
			 "{\n  \"park\": \"%s\", \"ent\": \"%s\", \"agent\": \"%s\",\n  \"mqtt\": %s,\n"
			 "  \"batch\": {\"max_records\": 200, \"max_delay_ms\": 500},\n"
			 "  \"outbox\": {\"path\": \"%s\", \"resend_after_s\": 5},\n  \"status_interval_s\": 60,\n"
			 "  \"sources\": %s\n}\n",
			 hubs[k].park, hh_ent(k), hh_agent(k), mq, env.outbox[k], src);
	cr_assert(n > 0 && (size_t)n < sizeof cfg);
	cr_assert_eq(hh_write_file(env.agent_cfg[k], cfg), 0);
	cr_assert_eq(fh_agent_restart(&env, k), 0, "agent %d", k);
}

/* Until agent k's source finished and its outbox is empty (all acked). */
static void agent_done(int k)
{
	struct fh_outbox ob = {0};
	long long until = pht_now_ms() + WAIT_MS;
	while (pht_now_ms() < until) {
		if (fh_outbox_read(&pe[k], k, &ob) == 0 && ob.position == sims[k].ticks && ob.position_b == 0 && ob.depth == 0)
			return;
		pht_sleep_ms(200);
	}
	cr_assert_fail("%s did not drain: position %lld of %lld ticks, outbox depth %lld (agent log %s, hub log %s)",
		       hh_agent(k), (long long)ob.position, (long long)sims[k].ticks, (long long)ob.depth, env.agent_log[k],
		       hubs[k].log);
}

/* ---- setup ---- */

/* A fixed offset putting the parks' local time now in [00:50, 01:50), and
 * the stream's start: 20 minutes before that local midnight. */
static void choose_time(void)
{
	int64_t now = ph_now_ms(), tod = ((now % (24 * HOUR)) + 24 * HOUR) % (24 * HOUR);
	int64_t want = 50 * 60000LL - tod; /* local 00:50 - UTC time of day */
	int off = (int)((want + 24 * 10 * HOUR + HOUR - 1) / HOUR) - 240; /* ceil to the hour */
	off = ((off % 24) + 24) % 24;
	if (off > 12)
		off -= 24;
	snprintf(tz, sizeof tz, "%c%02d:00", off < 0 ? '-' : '+', off < 0 ? -off : off);
	int64_t local = now + off * HOUR;
	start_ms = local - local % (24 * HOUR) - off * HOUR - 20 * 60000LL;
}

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	cr_assert_eq(hh_setup(&env, NULL), 0, "sandbox");
	cr_assert_not_null(getenv("PH_SOURCE_DIR"), "PH_SOURCE_DIR (from ctest)");
	snprintf(rmq, sizeof rmq, "%s/rmq", env.dir);
	/* 41 ports from base (cluster.sh); below the ephemeral range */
	base = 20000 + (int)(getpid() % 200) * 50;
	for (int i = 0; i < 3; i++)
		snprintf(uris[i], sizeof uris[i], "tcp://127.0.0.1:%d", base + 1 + i);
	choose_time();
	for (int h = 0; h < NHUBS; h++) {
		cr_assert_eq(fed_hub_files(env.dir, hubs[h].id, hubs[h].cfg, hubs[h].db, hubs[h].log, &hubs[h].port), 0);
	}
	for (int k = 0; k < 2; k++) {
		pe[k] = env;
		snprintf(pe[k].db, sizeof pe[k].db, "%s", hubs[k].db);
		pe[k].park = hubs[k].park;
	}
}

static void teardown(void)
{
	for (int h = 0; h < NHUBS; h++)
		if (hubs[h].running) {
			pht_proc_kill(&hubs[h].proc, SIGTERM);
			int status;
			if (pht_proc_wait(&hubs[h].proc, 20000, &status))
				pht_proc_kill(&hubs[h].proc, SIGKILL), pht_proc_wait(&hubs[h].proc, 5000, &status);
		}
	for (int h = 0; h < NHUBS; h++) {
		char w[600];
		cr_expect_eq(hh_log_clean(hubs[h].log, w, sizeof w), 0, "%s: %s", hubs[h].id, w);
	}
	if (cluster_up)
		cluster("stop", NULL, NULL, NULL, NULL, NULL);
	for (int k = 0; k < 2; k++)
		fh_ref_free(&ref[k]);
	hh_teardown(&env);
	curl_global_cleanup();
}

TestSuite(cluster, .init = setup, .fini = teardown, .timeout = 900);

/* ---- the checks ---- */

/* Rows of park k: "FROM ... WHERE" text joined to points for the park. */
static void same_count(int k, const char *what, const char *from_where)
{
	int64_t a = fed_db_i64(hubs[k].db, "SELECT count(*) %s", from_where);
	int64_t b = fed_db_i64(hubs[REGION].db, "SELECT count(*) %s", from_where);
	cr_log_info("%s %s: park hub %lld, region %lld", hubs[k].park, what, (long long)a, (long long)b);
	cr_expect_gt(a, 0, "%s: no %s on the park hub", hubs[k].park, what);
	cr_expect_eq(a, b, "%s %s: park hub %lld rows, region %lld", hubs[k].park, what, (long long)a, (long long)b);
}

static void check_park(int k)
{
	const char *p = hubs[k].park;
	char q[1024];
	snprintf(q, sizeof q,
		 "FROM cems_hours h JOIN series s ON s.id = h.series_id JOIN points p ON p.id = s.point_id"
		 " WHERE p.park = '%s' AND h.hour_ms < %lld", p, (long long)cutoff);
	same_count(k, "cems_hours", q);
	snprintf(q, sizeof q,
		 "FROM cems_agg_days d JOIN series s ON s.id = d.series_id JOIN points p ON p.id = s.point_id"
		 " WHERE p.park = '%s' AND d.day_ms + 86400000 <= %lld", p, (long long)cutoff);
	same_count(k, "cems_agg_days", q);
	snprintf(q, sizeof q,
		 "FROM rollups r JOIN series s ON s.id = r.series_id JOIN points p ON p.id = s.point_id"
		 " WHERE p.park = '%s' AND r.period = 1 AND r.bucket_ms < %lld", p, (long long)cutoff);
	same_count(k, "hour rollups", q);
	snprintf(q, sizeof q, "FROM materials m JOIN points p ON p.id = m.point_id WHERE p.park = '%s'", p);
	same_count(k, "materials", q);

	/* no gap: one stream, at the park hub's last batch, nothing above it */
	int64_t last = fed_db_i64(hubs[k].db, "SELECT last_batch FROM up_state"), acked = fed_db_i64(hubs[k].db, "SELECT acked FROM up_state");
	cr_expect_gt(last, 0, "%s forwarded no batch", hubs[k].id);
	cr_expect_eq(acked, last, "%s: acked %lld of %lld batches", hubs[k].id, (long long)acked, (long long)last);
	cr_expect_eq(fed_db_i64(hubs[REGION].db, "SELECT count(*) FROM up_streams WHERE sender = '%s'", hubs[k].id), 1,
		     "%s: one upward stream (one epoch) at the region", hubs[k].id);
	cr_expect_eq(fed_db_i64(hubs[REGION].db, "SELECT upto FROM up_streams WHERE sender = '%s'", hubs[k].id), last,
		     "%s: the region's upto is its last batch", hubs[k].id);
	cr_expect_eq(fed_db_i64(hubs[REGION].db, "SELECT count(*) FROM up_streams WHERE sender = '%s' AND above != ''", hubs[k].id), 0,
		     "%s: batches wait above the region's upto", hubs[k].id);

	/* the park's figures over the forwarded hours, equal on both sides */
	char range[160], f[40], t[40];
	cr_assert_eq(ph_time_format(start_ms - start_ms % HOUR, f, sizeof f), 0);
	cr_assert_eq(ph_time_format(cutoff, t, sizeof t), 0);
	snprintf(range, sizeof range, "from=%s&to=%s", f, t);
	cr_expect_eq(fed_same_answer(hubs[k].port, hubs[REGION].port, token, p, "summary", range, why, sizeof why), 0,
		     "%s", why);
	/* the gateway's presence (its last status, forwarded as it changed) */
	for (int i = 0; i < 60 && fed_same_presence(hubs[k].port, hubs[REGION].port, token, p, why, sizeof why); i++)
		pht_sleep_ms(500);
	cr_expect_eq(fed_same_presence(hubs[k].port, hubs[REGION].port, token, p, why, sizeof why), 0, "%s", why);
}

Test(cluster, federation_survives_node_and_hub_deaths)
{
	char b[16], pw[100], user[80];
	long stored;

	if (!hh_parkhub() || !hh_parkagent())
		cr_skip_test("PH_PARKHUB or PH_PARKAGENT is not set");
	t0 = pht_now_ms();
	snprintf(b, sizeof b, "%d", base);
	cluster_up = true; /* a start that failed half-way is stopped too (teardown) */
	cr_assert_eq(cluster("start", b, NULL, NULL, NULL, NULL), 0, "the cluster did not start (logs under %s)", rmq);
	for (int h = 0; h < NHUBS; h++) {
		snprintf(pw, sizeof pw, "pw-%s", hubs[h].id);
		cr_assert_eq(cluster("add-hub", hubs[h].id, pw, NULL, NULL, NULL), 0);
	}
	for (int k = 0; k < 2; k++) {
		snprintf(pw, sizeof pw, "pw-%s", hh_agent(k));
		cr_assert_eq(cluster("add-agent", hubs[k].park, hh_ent(k), hh_agent(k), pw, NULL), 0);
		snprintf(user, sizeof user, "%s-up", hubs[k].id);
		snprintf(pw, sizeof pw, "pw-%s", user);
		cr_assert_eq(cluster("add-uplink", user, pw, hubs[k].park, hubs[k].id, NULL), 0);
	}

	/* Sessions before publishers (every broker drops QoS 1 messages nobody
	 * subscribed to): the region, then the park hubs, then the agents. */
	for (int h = 0; h < NHUBS; h++)
		write_config(h);
	hub_start(REGION);
	cr_assert_eq(fh_wait_file_count(hubs[REGION].log, "sub connected to", 1, 60000), 0,
		     "the regional hub's sessions (log %s)", hubs[REGION].log);
	for (int k = 0; k < 2; k++) {
		hub_start(k);
		cr_assert_eq(fh_wait_file_count(hubs[k].log, "hub online", 2, 60000), 0, "%s (log %s)", hubs[k].id,
			     hubs[k].log);
	}
	int64_t now = ph_now_ms();
	cutoff = (now - 5 * 60000LL) / HOUR * HOUR;
	cr_assert_gt(cutoff, start_ms, "tz %s: the backfill has a closed hour", tz);
	for (int k = 0; k < 2; k++) {
		sims[k] = (struct fh_sim){.seed = 21 + k, .rate_hz = RATE, .stack_test_every = 600,
					  .weighbridge_every = 10, .start_ms = start_ms,
					  .ticks = ((now - start_ms) / 1000 + LIVE_S) * RATE};
		cr_assert_eq(fh_sim_reference(&sims[k], &ref[k], why, sizeof why), 0, "%s", why);
		agent_start(k);
	}
	phase("parks at tz %s; stream from %lld (%lld ticks, the last %d s live); cutoff %lld", tz, (long long)start_ms,
	      (long long)sims[0].ticks, LIVE_S, (long long)cutoff);
	cr_assert_eq(fed_wait_i64(hubs[REGION].db, 1, WAIT_MS, "SELECT count(DISTINCT p.park) = 2 FROM materials m JOIN points p ON p.id = m.point_id"),
		     1, "nothing forwarded (logs %s, %s, %s)", hubs[0].log, hubs[1].log, hubs[REGION].log);
	phase("both parks' materials reach the region: the upward stream runs");

	/* 1. a node dies (node 1: the agents begin there) and comes back */
	pht_sleep_ms(3000);
	node_cmd("kill", 1);
	pht_sleep_ms(5000);
	node_cmd("start-node", 1);

	/* 2. the node hub-p1's session is on */
	int at = node_of(hubs[0].log), before = fh_file_count(hubs[0].log, "sub failover: connected to");
	cr_assert(at >= 1, "no node in %s", hubs[0].log);
	node_cmd("kill", at);
	cr_assert_eq(fh_wait_file_count(hubs[0].log, "sub failover: connected to", before + 1, 60000), 0,
		     "hub-p1 did not fail over (log %s)", hubs[0].log);
	node_cmd("start-node", at);

	/* 3. the node the regional hub is on */
	at = node_of(hubs[REGION].log);
	before = fh_file_count(hubs[REGION].log, "failover: connected to");
	cr_assert(at >= 1, "no node in %s", hubs[REGION].log);
	node_cmd("kill", at);
	cr_assert_eq(fh_wait_file_count(hubs[REGION].log, "failover: connected to", before + 1, 60000), 0,
		     "the regional hub did not fail over (log %s)", hubs[REGION].log);
	node_cmd("start-node", at);

	/* 4. the region away: the park hubs go on, their outboxes hold */
	hub_stop(REGION, SIGTERM);
	phase("regional hub stopped");
	pht_sleep_ms(OUTAGE_S * 1000);
	phase("after %d s: outboxes %lld and %lld changes", OUTAGE_S, (long long)fed_db_i64(hubs[0].db, "SELECT count(*) FROM up_outbox"),
	      (long long)fed_db_i64(hubs[1].db, "SELECT count(*) FROM up_outbox"));
	hub_start(REGION);
	phase("regional hub back");

	/* 5. a park hub dies and comes back (its session and its uplink each
	 * say "hub online") */
	int online = fh_file_count(hubs[0].log, "hub online");
	hub_stop(0, SIGKILL);
	hub_start(0);
	cr_assert_eq(fh_wait_file_count(hubs[0].log, "hub online", online + 2, 60000), 0, "hub-p1 again (log %s)",
		     hubs[0].log);
	phase("hub-p1 killed and back");

	for (int k = 0; k < 2; k++)
		agent_done(k);
	phase("agents done");
	for (int k = 0; k < 2; k++) {
		int status = 0;
		cr_expect_eq(hh_agent_stop(&env, k, 10000, &status), 0);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s exit status %#x", hh_agent(k), status);
	}
	/* the hours before cutoff processed (their rows queued), then sent */
	char q[256];
	for (int k = 0; k < 2; k++) {
		snprintf(q, sizeof q, "SELECT count(*) FROM cems_dirty WHERE hour_ms < %lld", (long long)cutoff);
		cr_assert_eq(fed_wait_i64(hubs[k].db, 0, WAIT_MS, q), 0, "%s: hours before cutoff not processed (log %s)", hubs[k].id,
			     hubs[k].log);
		snprintf(q, sizeof q, "SELECT count(*) FROM cems_dirty_days WHERE day_ms + 86400000 <= %lld",
			 (long long)cutoff);
		cr_assert_eq(fed_wait_i64(hubs[k].db, 0, WAIT_MS, q), 0, "%s: days before cutoff not processed", hubs[k].id);
		int64_t v = fed_wait_i64(hubs[k].db, 0, WAIT_MS, "SELECT count(*) FROM up_outbox");
		cr_assert_eq(v, 0, "%s: %lld changes not acked (logs %s, %s)", hubs[k].id, (long long)v, hubs[k].log,
			     hubs[REGION].log);
	}
	phase("outboxes drained");

	for (int k = 0; k < 2; k++) {
		cr_expect_eq(fh_check_agent(&pe[k], k, &ref[k],
					    &(struct fh_check_opts){.order = true, .want_rejects = 0},
					    &stored, why, sizeof why),
			     0, "%s", why);
		cr_log_info("%s: %ld records stored, %zu produced; %d failovers logged", hh_agent(k), stored, ref[k].n,
			    fh_file_count(env.agent_log[k], "failover: connected to"));
		check_park(k);
	}
	cr_expect_geq(fh_file_count(env.agent_log[0], "failover: connected to"), 1, "agent 0 logged no failover (%s)",
		      env.agent_log[0]);
	cr_expect_eq(fh_file_count(hubs[REGION].log, "declared batches below"), 0, "the region saw a declared loss (%s)",
		     hubs[REGION].log);
	phase("checked");
	for (int h = 0; h < NHUBS; h++)
		hub_stop(h, SIGTERM);
}
