/*
 * test_cluster_failover.c — a park on a 3-node RabbitMQ cluster survives
 * its broker nodes' deaths (issue #21, item 1): the cluster of
 * deploy/cluster/cluster.sh (MQTT plugin, quorum queues, agent users with
 * their own topics only), a real parkhub and two simulated smelters
 * (parkagent, sim source) streaming at QoS 1 through it. Mid-stream the
 * node agent 0 is on is SIGKILLed and started again; then the node the hub
 * is on (read from the hub's log) is SIGKILLed. At the end every produced
 * record is stored exactly once, in order per point, the outboxes are
 * empty (fault_helpers.h's comparison), and the hub and agent 0 logged a
 * failover naming the node they moved to.
 *
 * The hub and the agents list the nodes in different orders, so they start
 * on different nodes. A quorum queue needs a majority of its 3 replicas:
 * the first node is back before the second dies.
 *
 * Time: the cluster takes 30–45 s to start on 2 busy cores; the whole
 * test about 2–2.5 min. Bounded waits only; no assertion on time.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault_helpers.h"

#define NAGENTS 2
#define RATE 20          /* ticks/s: about 40 records/s per agent */
#define STREAM_S 60      /* the simulators' run */
#define WAIT_MS 240000   /* the backlog drains after the last failover */
#define SCRIPT_MS 300000 /* one cluster.sh command (a restart: two tries of 120 s) */

static struct hh_env env;
static struct fh_ref ref;
static char why[2048], rmq[600], uris[3][64];
static int base;
static bool cluster_up;

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
	cr_log_info("cluster.sh %s %s: %s", what, a1 ? a1 : "", out);
	return 0;
}

static void setup(void)
{
	struct hh_hub_opts o = {.expected_interval_s = 1.0 / RATE};
	cr_assert_eq(hh_setup(&env, &o), 0, "sandbox");
	cr_assert_not_null(getenv("PH_SOURCE_DIR"), "PH_SOURCE_DIR (from ctest)");
	snprintf(rmq, sizeof rmq, "%s/rmq", env.dir);
	/* 41 ports from base (cluster.sh); below the ephemeral range */
	base = 20000 + (int)(getpid() % 200) * 50;
	for (int i = 0; i < 3; i++) snprintf(uris[i], sizeof uris[i], "tcp://127.0.0.1:%d", base + 1 + i);
}

static void teardown(void)
{
	if (cluster_up) cluster("stop", NULL, NULL, NULL, NULL, NULL);
	fh_ref_free(&ref);
	hh_teardown(&env);
}

TestSuite(cluster, .init = setup, .fini = teardown, .timeout = 900);

/* The "mqtt" object for a client on the cluster, the nodes from first. */
static void mqtt_member(int first, const char *user, char *buf, size_t cap)
{
	snprintf(buf, cap,
		 "{\"uris\": [\"%s\", \"%s\", \"%s\"], \"username\": \"%s\", \"password\": \"pw-%s\","
		 " \"keepalive_s\": 5, \"connect_timeout_ms\": 1000, \"reconnect_min_ms\": 100, \"reconnect_max_ms\": 1000%s}",
		 uris[first % 3], uris[(first + 1) % 3], uris[(first + 2) % 3], user, user,
		 strcmp(user, "hub") == 0 ? ", \"heartbeat_s\": 1" : "");
}

static int agent_start(int i, const char *sources)
{
	char mq[512], cfg[4096];
	mqtt_member(i, hh_agent(i), mq, sizeof mq);
	int n = snprintf(cfg, sizeof cfg,
			 "{\n  \"park\": \"%s\", \"ent\": \"%s\", \"agent\": \"%s\",\n  \"mqtt\": %s,\n"
			 "  \"batch\": {\"max_records\": 40, \"max_delay_ms\": 500},\n"
			 "  \"outbox\": {\"path\": \"%s\", \"resend_after_s\": 5},\n  \"status_interval_s\": 60,\n"
			 "  \"sources\": %s\n}\n",
			 HH_PARK, hh_ent(i), hh_agent(i), mq, env.outbox[i], sources);
	if (n < 0 || (size_t)n >= sizeof cfg) return -1;
	FILE *f = fopen(env.agent_cfg[i], "w");
	if (!f) return -1;
	fputs(cfg, f);
	fclose(f);
	return fh_agent_restart(&env, i);
}

/* The node (1..3) of the hub's last "sub ... connected to"/"failover" line. */
static int hub_node(void)
{
	char *log = hh_slurp(env.hub_log), *last = NULL;
	int node = 0;
	for (char *p = log; p && (p = strstr(p, "sub ")); p++)
		if (strncmp(p, "sub connected to ", 17) == 0 || strncmp(p, "sub failover: connected to ", 27) == 0) last = p;
	for (int i = 0; last && i < 3; i++) {
		char *eol = strchr(last, '\n'), *u = strstr(last, uris[i]);
		if (u && (!eol || u < eol)) node = i + 1;
	}
	free(log);
	return node;
}

/* The hub's mqtt object: the nodes from node 2 on, its user, a 1 s heartbeat. */
static int hub_config(void)
{
	char list[256];
	snprintf(list, sizeof list, "[\"%s\", \"%s\", \"%s\"]", uris[1], uris[2], uris[0]);
	int rc = fh_hub_config_set(&env, "mqtt", "uris", list);
	if (!rc) rc = fh_hub_config_set(&env, "mqtt", "username", "\"hub\"");
	if (!rc) rc = fh_hub_config_set(&env, "mqtt", "password", "\"pw-hub\"");
	if (!rc) rc = fh_hub_config_set(&env, "mqtt", "keepalive_s", "5");
	if (!rc) rc = fh_hub_config_set(&env, "mqtt", "connect_timeout_ms", "1000");
	if (!rc) rc = fh_hub_config_set(&env, "mqtt", "heartbeat_s", "1");
	return rc;
}

static int hub_start(void)
{
	const char *argv[] = {hh_parkhub(), "--config", env.hub_cfg, NULL};
	int rc = pht_proc_spawn(&env.hub, argv, env.hub_log);
	if (!rc) env.hub_runs++;
	return rc ? rc : fh_wait_file_count(env.hub_log, "hub online", 1, 60000);
}

static void kill_node(int node)
{
	char n[8];
	snprintf(n, sizeof n, "%d", node);
	cr_assert_eq(cluster("kill", n, NULL, NULL, NULL, NULL), 0, "kill node %d", node);
}

Test(cluster, node_deaths_lose_and_duplicate_nothing)
{
	const struct fh_sim sim = {.seed = 21, .rate_hz = RATE, .ticks = (int64_t)STREAM_S * RATE,
				   .stack_test_every = 300, .weighbridge_every = 120};
	char src[512], b[16], pw[80];
	struct fh_outbox ob[NAGENTS];
	long stored;
	int64_t v = 0;

	if (!hh_parkagent()) cr_skip_test("PH_PARKAGENT is not set");
	cr_assert_eq(fh_sim_reference(&sim, &ref, why, sizeof why), 0, "%s", why);
	snprintf(b, sizeof b, "%d", base);
	long long t0 = pht_now_ms();
	cr_assert_eq(cluster("start", b, NULL, NULL, NULL, NULL), 0, "the cluster did not start (logs under %s)", rmq);
	cluster_up = true;
	cr_log_info("cluster started in %lld ms", pht_now_ms() - t0);
	cr_assert_eq(cluster("add-hub", "hub", "pw-hub", NULL, NULL, NULL), 0);
	for (int i = 0; i < NAGENTS; i++) {
		snprintf(pw, sizeof pw, "pw-%s", hh_agent(i));
		cr_assert_eq(cluster("add-agent", HH_PARK, hh_ent(i), hh_agent(i), pw, NULL), 0);
	}

	/* The hub's persistent session exists before any agent publishes
	 * (every broker drops QoS 1 messages nobody subscribed to). */
	cr_assert_eq(hub_config(), 0);
	cr_assert_eq(hub_start(), 0, "the hub did not say online (log %s)", env.hub_log);
	int hub_at = hub_node();
	cr_assert(hub_at >= 1, "no node in the hub's log (%s)", env.hub_log);
	cr_assert_eq(fh_sim_sources(&sim, src, sizeof src), 0);
	for (int i = 0; i < NAGENTS; i++) cr_assert_eq(agent_start(i, src), 0, "agent %d", i);
	cr_assert_eq(hh_wait_db(&env, 1, &v, 60000, "SELECT count(*) > 0 FROM samples"), 0,
		     "nothing stored (hub log %s, agent log %s)", env.hub_log, env.agent_log[0]);

	/* 1. agent 0's node (node 1: its list begins there) dies mid-stream,
	 * and comes back: a quorum queue needs 2 of its 3 replicas. */
	int first = hub_at == 1 ? 3 : 1;
	pht_sleep_ms(3000);
	kill_node(first);
	pht_sleep_ms(5000);
	char n[8];
	snprintf(n, sizeof n, "%d", first);
	cr_assert_eq(cluster("start-node", n, NULL, NULL, NULL, NULL), 0, "node %d did not start again", first);

	/* 2. the hub's node dies. */
	hub_at = hub_node();
	cr_assert(hub_at >= 1 && hub_at != first, "hub on node %d", hub_at);
	kill_node(hub_at);
	cr_assert_eq(fh_wait_file_count(env.hub_log, "sub failover: connected to", 1, 60000), 0,
		     "the hub did not fail over (log %s)", env.hub_log);

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
		cr_log_info("%s: %ld records stored, %zu produced; %d failovers logged", hh_agent(i), stored, ref.n,
			    fh_file_count(env.agent_log[i], "failover: connected to"));
	}
	/* agent 0 was on the first node killed (unless the hub was there too) */
	cr_expect_geq(fh_file_count(env.agent_log[0], "failover: connected to"), 1, "agent 0 logged no failover (%s)",
		      env.agent_log[0]);
	for (int i = 0; i < NAGENTS; i++) {
		int status = 0;
		cr_expect_eq(hh_agent_stop(&env, i, 10000, &status), 0);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s exit status %#x", hh_agent(i), status);
	}
	int status = 0;
	cr_expect_eq(hh_hub_stop(&env, 10000, &status), 0, "hub stop (log %s)", env.hub_log);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hub exit status %#x", status);
}
