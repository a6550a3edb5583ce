/*
 * test_hub_heartbeat.c — the hub's heartbeat (docs/wire.md), on one real
 * Mosquitto with a real hub and agent:
 *   - hub_heartbeat_repeats_and_is_not_retained: with mqtt.heartbeat_s 1
 *     the hub publishes online messages carrying heartbeat_s again and
 *     again, and a subscriber that comes later gets the retained status
 *     (without heartbeat_s) first, never a heartbeat kept by the broker;
 *   - agent_takes_a_silent_hub_as_away: an agent that heard heartbeats
 *     logs the hub as away once they stop: the hub is frozen (SIGSTOP), so
 *     its connection stays open and its will (after 1.5 keepalives of 10 s)
 *     comes later than 3 missing heartbeats of 1 s; a SIGKILL would close
 *     the socket and fire the will at once;
 *   - hub_heartbeat_stops_while_nothing_receives: the hub's subscribing
 *     connection is taken over (a client connects with its client id, and
 *     Mosquitto closes the older one) while its publishing one stays up;
 *     with a long reconnect back-off no heartbeat comes while the sub
 *     side is down (hubmqtt.c inv. 4), and it comes back afterwards.
 * Bounded waits only; no assertion on time.
 */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "fault_helpers.h"

static struct hh_env env;

static void setup(void)
{
	cr_assert_eq(hh_setup(&env, NULL), 0, "sandbox");
	cr_assert_eq(fh_hub_config_set(&env, "mqtt", "heartbeat_s", "1"), 0);
}
static void teardown(void) { hh_teardown(&env); }

TestSuite(hub_heartbeat, .init = setup, .fini = teardown, .timeout = 180);

/* Counts messages on the test client's hub topic that hold needle, for up
 * to ms or until want were seen. */
static int count_hub_messages(struct pht_mqtt *m, const char *needle, int want, int ms)
{
	long long until = pht_now_ms() + ms;
	int n = 0;
	while (n < want && pht_now_ms() < until) {
		char topic[256], *payload = NULL;
		size_t len = 0;
		if (pht_mqtt_next(m, 200, topic, sizeof topic, &payload, &len) == 0 && payload) {
			if (strstr(topic, "/hub") && strstr(payload, needle)) n++;
			free(payload);
		}
	}
	return n;
}

Test(hub_heartbeat, hub_heartbeat_repeats_and_is_not_retained)
{
	cr_assert_eq(hh_hub_start(&env, 20000), 0, "hub start (log %s)", env.hub_log);
	cr_assert_eq(count_hub_messages(env.mq, "\"heartbeat_s\":1", 3, 30000), 3,
		     "fewer than 3 heartbeats (hub log %s)", env.hub_log);

	struct pht_mqtt *late = pht_mqtt_new(pht_broker_uri(&env.broker), "hb-late");
	cr_assert_not_null(late);
	cr_assert_eq(pht_mqtt_connect(late, 1, 10000), 0);
	cr_assert_eq(pht_mqtt_subscribe(late, "parkhub/v1/" HH_PARK "/hub", 1, 5000), 0);
	char topic[256], *payload = NULL;
	size_t len = 0;
	cr_assert_eq(pht_mqtt_next(late, 10000, topic, sizeof topic, &payload, &len), 0, "nothing retained");
	cr_expect(strstr(payload, "\"state\":\"online\""), "first message: %s", payload);
	cr_expect_null(strstr(payload, "heartbeat_s"), "a heartbeat was kept as the retained message: %s", payload);
	free(payload);
	pht_mqtt_free(late);
}

Test(hub_heartbeat, agent_takes_a_silent_hub_as_away)
{
	const struct fh_sim sim = {.seed = 5, .rate_hz = 5, .ticks = 100000, .stack_test_every = 300,
				   .weighbridge_every = 120};
	char src[512];

	if (!hh_parkagent()) cr_skip_test("PH_PARKAGENT is not set");
	cr_assert_eq(hh_hub_start(&env, 20000), 0, "hub start (log %s)", env.hub_log);
	cr_assert_eq(fh_sim_sources(&sim, src, sizeof src), 0);
	struct fh_agent_opts ao = {.sources = src, .max_records = 10, .max_delay_ms = 200, .resend_after_s = 2};
	cr_assert_eq(fh_agent_start(&env, 0, &ao), 0);
	int64_t v = 0;
	cr_assert_eq(hh_wait_db(&env, 1, &v, 30000, "SELECT count(*) > 0 FROM samples"), 0, "nothing stored");
	pht_sleep_ms(3000); /* heartbeats every second: the agent hears some (it believes the retained status until then) */
	cr_expect_eq(fh_file_count(env.agent_log[0], "no heartbeat from the hub"), 0, "away while the hub ran");
	cr_assert_eq(pht_proc_kill(&env.hub, SIGSTOP), 0);
	int rc = fh_wait_file_count(env.agent_log[0], "no heartbeat from the hub", 1, 12000);
	pht_proc_kill(&env.hub, SIGCONT);
	cr_expect_eq(rc, 0, "the agent did not take the silent hub as away (log %s)", env.agent_log[0]);
	int status = 0;
	cr_expect_eq(hh_agent_stop(&env, 0, 10000, &status), 0);
}

Test(hub_heartbeat, hub_heartbeat_stops_while_nothing_receives)
{
	/* back-off 10-30 s after the loss: the window below sees the sub side down */
	cr_assert_eq(fh_hub_config_set(&env, "mqtt", "client_id", "\"hub-hb\""), 0);
	cr_assert_eq(fh_hub_config_set(&env, "mqtt", "reconnect_min_ms", "20000"), 0);
	cr_assert_eq(fh_hub_config_set(&env, "mqtt", "reconnect_max_ms", "40000"), 0);
	cr_assert_eq(hh_hub_start(&env, 20000), 0, "hub start (log %s)", env.hub_log);
	cr_assert_eq(count_hub_messages(env.mq, "\"heartbeat_s\":1", 2, 30000), 2,
		     "no heartbeats to begin with (hub log %s)", env.hub_log);
	int ups = fh_file_count(env.hub_log, "sub connected to");
	cr_assert_geq(ups, 1, "no sub connection logged (hub log %s)", env.hub_log);

	struct pht_mqtt *thief = pht_mqtt_new(pht_broker_uri(&env.broker), "hub-hb");
	cr_assert_not_null(thief);
	cr_assert_eq(pht_mqtt_connect(thief, 1, 10000), 0);
	cr_assert_eq(fh_wait_file_count(env.hub_log, "sub connection to", 1, 15000), 0,
		     "the hub's sub connection was not lost (hub log %s)", env.hub_log);
	pht_mqtt_free(thief);
	count_hub_messages(env.mq, "heartbeat_s", 1000, 1500); /* drop one sent before the loss */
	int beats = count_hub_messages(env.mq, "heartbeat_s", 1, 3000);
	cr_assert_eq(fh_file_count(env.hub_log, "sub connected to"), ups,
		     "the sub side came back inside the window: back-off not applied? (hub log %s)", env.hub_log);
	cr_expect_eq(beats, 0, "a heartbeat while the hub's sub connection was down (hub log %s)", env.hub_log);

	/* The sub side comes back after its back-off, and heartbeats resume.
	 * Before the connect options said MQTT 3.1.1, Paho 1.3.12 reconnected
	 * the taken-over client by itself at MQTT 3.1 with no callback and the
	 * hub's own connect got no answer: the sub side never came back. */
	cr_assert_eq(fh_wait_file_count(env.hub_log, "sub connected to", ups + 1, 90000), 0,
		     "the sub side did not come back after the takeover (hub log %s)", env.hub_log);
	cr_expect_eq(count_hub_messages(env.mq, "heartbeat_s", 2, 30000), 2,
		     "no heartbeats once the sub side was back (hub log %s)", env.hub_log);
}
