/*
 * test_hub_mqtt_limits.c — a PUBLISH larger than the hub accepts never
 * reaches the hub. Paho reads a whole packet into memory before the hub can
 * look at its size, so the broker must refuse it: its max_packet_size is
 * PH_MQTT_MAX_PACKET_BYTES (include/parkhub/batch.h) in the tests' broker
 * (tests/support/broker.c), in deploy/production/make-park.sh and in
 * deploy/demo.sh. A real parkhub behind the tests' broker:
 *
 *  1. the three configs carry the hub's number;
 *  2. a 64 MiB publish is refused by the broker (the publisher does not get
 *     its PUBACK), the hub records nothing of it, and the hub's peak
 *     resident memory (VmHWM) does not grow by anything near 64 MiB;
 *  3. the broker still passes everything up to the hub's own limit: a
 *     batch one byte over PH_BATCH_MAX_BYTES reaches the hub, which refuses
 *     it itself (a reject row, PH_ETOOLARGE), and a PH_BATCH_MAX_BYTES
 *     payload on the longest topic is accepted by the broker.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub_helpers.h"
#include "parkhub/batch.h"
#include "parkhub/timefmt.h"

#define WAIT_MS 20000
#define BIG_BYTES (64L * 1024 * 1024)
#define HWM_SLACK_KB (16L * 1024) /* far below the 64 MiB a buffered packet would add */

static struct hh_env env;

static void setup(void)
{
	cr_assert_eq(hh_setup(&env, NULL), 0);
	cr_assert_eq(hh_hub_start(&env, WAIT_MS), 0, "hub start (log %s)", env.hub_log);
}

static void teardown(void)
{
	char why[300] = "";
	int status = 0;
	if (env.hub.pid > 0)
		cr_expect_eq(hh_hub_stop(&env, 10000, &status), 0, "clean stop");
	cr_expect_eq(hh_log_clean(env.hub_log, why, sizeof why), 0, "%s", why);
	hh_teardown(&env);
}

TestSuite(hub_mqtt_limits, .init = setup, .fini = teardown, .timeout = 240);

/* VmHWM of pid in kB, from /proc. */
static long vm_hwm_kb(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	long kb = -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(f);
	cr_assert_gt(kb, 0, "no VmHWM in %s", path);
	return kb;
}

/* The file under the source tree holds "max_packet_size <PH_MQTT_MAX_PACKET_BYTES>". */
static void expect_conf_line(const char *rel)
{
	char path[1024], want[64];
	snprintf(path, sizeof path, "%s/%s", getenv("PH_SOURCE_DIR"), rel);
	char *text = hh_slurp(path);
	cr_assert_not_null(text, "%s", path);
	snprintf(want, sizeof want, "\nmax_packet_size %d\n", PH_MQTT_MAX_PACKET_BYTES);
	cr_expect_not_null(strstr(text, want), "%s does not set%s", rel, want);
	free(text);
}

Test(hub_mqtt_limits, configs_carry_the_hubs_limit)
{
	cr_assert_eq(PHT_MAX_PACKET, PH_MQTT_MAX_PACKET_BYTES);
	expect_conf_line("deploy/production/make-park.sh");
	expect_conf_line("deploy/demo.sh");
	char *conf = hh_slurp(env.broker.conf);
	cr_assert_not_null(conf);
	char want[64];
	snprintf(want, sizeof want, "max_packet_size %d\n", PH_MQTT_MAX_PACKET_BYTES);
	cr_expect_not_null(strstr(conf, want), "the tests' broker: %s", conf);
	free(conf);
}

/* Publishes len bytes of 'x' on topic from a client of its own; 0 once the
 * broker acknowledged it. */
static int publish_from_own_client(const char *id, const char *topic, size_t len)
{
	struct pht_mqtt *m = pht_mqtt_new(pht_broker_uri(&env.broker), id);
	cr_assert_not_null(m);
	cr_assert_eq(pht_mqtt_connect(m, 1, 10000), 0);
	char *p = malloc(len);
	cr_assert_not_null(p);
	memset(p, 'x', len);
	int rc = pht_mqtt_publish(m, topic, p, len, 1, 0, 20000);
	free(p);
	pht_mqtt_free(m);
	return rc;
}

/* A good batch published after, and its ack: everything published before
 * it that the broker passed on has reached the hub. */
static void sync_with_hub(int64_t seq)
{
	char recs[256], batch[1024], ts[PH_TIME_STRLEN];
	cr_assert_eq(ph_time_format(ph_now_ms() - 60000, ts, sizeof ts), 0);
	snprintf(recs, sizeof recs, "[{\"ts\":\"%s\",\"point\":\"stack-1\",\"values\":{\"so2\":10}}]", ts);
	cr_assert_eq(hh_batch(batch, sizeof batch, hh_agent(0), 5, seq, 1, recs), 0);
	size_t from = env.nacks;
	cr_assert_eq(hh_publish(&env, hh_ent(0), hh_agent(0), NULL, batch), 0);
	cr_assert_eq(hh_wait_ack(&env, hh_ent(0), hh_agent(0), 5, seq, from, WAIT_MS), 0);
}

Test(hub_mqtt_limits, oversize_publish_is_refused_by_the_broker)
{
	sync_with_hub(1);
	long hwm0 = vm_hwm_kb(env.hub.pid);
	char topic[256];
	snprintf(topic, sizeof topic, "parkhub/v1/%s/%s/%s/ev/emission", HH_PARK, hh_ent(0), hh_agent(0));
	int rc = publish_from_own_client("big-publisher", topic, (size_t)BIG_BYTES);
	cr_expect_neq(rc, 0, "the broker acknowledged a %ld-byte publish", BIG_BYTES);
	sync_with_hub(2);
	long hwm1 = vm_hwm_kb(env.hub.pid);
	int64_t rejects = -1;
	cr_assert_eq(hh_db_i64(&env, &rejects, "SELECT count(*) FROM rejects"), 0);
	cr_expect_eq(rejects, 0, "the hub saw the big publish (a reject row)");
	cr_assert_lt(hwm1 - hwm0, HWM_SLACK_KB, "the hub's peak memory grew by %ld kB (from %ld kB)", hwm1 - hwm0,
		     hwm0);
}

Test(hub_mqtt_limits, the_broker_passes_what_the_hub_decides)
{
	char topic[512];
	snprintf(topic, sizeof topic, "parkhub/v1/%s/%s/%s/ev/emission", HH_PARK, hh_ent(0), hh_agent(0));
	cr_assert_eq(publish_from_own_client("over-by-one", topic, PH_BATCH_MAX_BYTES + 1), 0,
		     "a packet within the broker's limit is accepted");
	int64_t n = 0;
	cr_assert_eq(hh_wait_db(&env, 1, &n, WAIT_MS, "SELECT count(*) FROM rejects WHERE code = 'PH_ETOOLARGE'"), 0,
		     "the hub refused it itself (%lld reject rows)", (long long)n);
	/* the longest topic an agent can have: ids of 64 characters */
	char id[65];
	memset(id, 'z', 64);
	id[64] = 0;
	snprintf(topic, sizeof topic, "parkhub/v1/%s/%s/%s/ev/emission", id, id, id);
	cr_assert_eq(publish_from_own_client("longest-topic", topic, PH_BATCH_MAX_BYTES), 0,
		     "a whole batch on the longest topic fits the broker's limit");
}
