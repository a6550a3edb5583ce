/*
 * test_agent_status.c — the agent's retained status on
 * parkhub/v1/{park}/{ent}/{agent}/status (schemas/status.schema.json):
 * online with its outbox depth while it runs, offline through the MQTT
 * will when it dies (SIGKILL), offline by its own message on a clean stop
 * (SIGTERM). "Retained" is checked with a client that subscribes after the
 * fact and still gets the message.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "agent_helpers.h"

#define WAIT_MS 15000

static struct ah_env env;
static char why[1024];

static void setup(void) { cr_assert_eq(ah_env_setup(&env, false), 0, "sandbox (broker, fake hub)"); }
static void teardown(void) { ah_env_teardown(&env); }

TestSuite(agent_status, .init = setup, .fini = teardown, .timeout = 60);

/* A new subscriber's first message on the agent's status topic (the
 * retained one), into buf. */
static int retained_status(char *buf, size_t cap)
{
	char topic[256];
	char *payload = NULL;
	size_t len = 0;
	struct pht_mqtt *m = pht_mqtt_new(pht_broker_uri(&env.broker), "ah-status-late");
	int rc = m ? pht_mqtt_connect(m, 1, 5000) : -1;

	snprintf(topic, sizeof topic, "parkhub/v1/%s/%s/%s/status", AH_PARK, AH_ENT, AH_AGENT);
	if (!rc)
		rc = pht_mqtt_subscribe(m, topic, 1, 5000);
	if (!rc)
		rc = pht_mqtt_next(m, 5000, NULL, 0, &payload, &len);
	if (!rc)
		snprintf(buf, cap, "%s", payload);
	free(payload);
	pht_mqtt_free(m);
	return rc;
}

static const char *field(const char *json, const char *path)
{
	static char val[256];
	if (ah_json_get(json, path, val, sizeof val))
		snprintf(val, sizeof val, "(absent)");
	return val;
}

Test(agent_status, online_status_is_retained_with_outbox_depth)
{
	char src[1024], status[8192];
	/* Nothing acked: 30 lines in batches of 10 stay in the outbox. */
	struct ah_cfg c = {.sources = ah_env_jsonl_source(&env, src, sizeof src), .max_records = 10,
			   .status_interval_s = 5};

	cr_assert_eq(ah_jsonl_append(env.data, 0, 30), 0);
	cr_assert_eq(ah_env_start_agent(&env, &c), 0);
	cr_assert_eq(ah_hub_wait_records(env.hub, AH_AGENT, 30, WAIT_MS), 0);
	int rc = ah_hub_wait_status(env.hub, AH_AGENT, "outbox.depth", "3", WAIT_MS);
	ah_hub_status(env.hub, AH_AGENT, status, sizeof status);
	cr_assert_eq(rc, 0, "status never showed outbox.depth 3: %s", status);
	cr_expect_str_eq(field(status, "state"), "online");
	cr_expect_str_eq(field(status, "agent"), AH_AGENT);
	cr_expect_str_eq(field(status, "v"), "1");
	cr_expect_str_eq(field(status, "next_seq"), "4");
	cr_expect_str_eq(field(status, "last_acked_seq"), "0");
	cr_expect_str_eq(field(status, "outbox.full"), "false");

	cr_assert_eq(retained_status(status, sizeof status), 0, "no retained status for a late subscriber");
	cr_expect_str_eq(field(status, "state"), "online");
	cr_expect_str_eq(field(status, "outbox.depth"), "3", "retained status: %s", status);
	pht_proc_stop(&env.agent, 10000);
	cr_expect_eq(ah_log_clean(env.log, why, sizeof why), 0, "%s", why);
}

Test(agent_status, sigkill_leaves_offline_status_via_will)
{
	char src[1024], status[8192];
	struct ah_cfg c = {.sources = ah_env_jsonl_source(&env, src, sizeof src)};

	cr_assert_eq(ah_env_start_agent(&env, &c), 0);
	cr_assert_eq(ah_hub_wait_status(env.hub, AH_AGENT, "state", "online", WAIT_MS), 0, "never online (see %s)",
		     env.log);
	cr_assert_eq(pht_proc_kill(&env.agent, SIGKILL), 0);
	cr_assert_eq(pht_proc_wait(&env.agent, 5000, NULL), 0);
	int rc = ah_hub_wait_status(env.hub, AH_AGENT, "state", "offline", WAIT_MS);
	ah_hub_status(env.hub, AH_AGENT, status, sizeof status);
	cr_assert_eq(rc, 0, "no offline status after SIGKILL: %s", status);
	cr_expect_str_eq(field(status, "agent"), AH_AGENT);

	cr_assert_eq(retained_status(status, sizeof status), 0, "no retained status for a late subscriber");
	cr_expect_str_eq(field(status, "state"), "offline", "retained: %s", status);
}

Test(agent_status, sigterm_publishes_offline_status)
{
	char src[1024], status[8192];
	struct ah_cfg c = {.sources = ah_env_jsonl_source(&env, src, sizeof src)};
	int wstatus = 0;

	cr_assert_eq(ah_env_start_agent(&env, &c), 0);
	cr_assert_eq(ah_hub_wait_status(env.hub, AH_AGENT, "state", "online", WAIT_MS), 0, "never online (see %s)",
		     env.log);
	cr_assert_eq(pht_proc_kill(&env.agent, SIGTERM), 0);
	cr_assert_eq(pht_proc_wait(&env.agent, 10000, &wstatus), 0, "agent did not stop on SIGTERM");
	cr_expect(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0, "agent exit status %#x", wstatus);
	int rc = ah_hub_wait_status(env.hub, AH_AGENT, "state", "offline", WAIT_MS);
	ah_hub_status(env.hub, AH_AGENT, status, sizeof status);
	cr_assert_eq(rc, 0, "no offline status after SIGTERM: %s", status);

	cr_assert_eq(retained_status(status, sizeof status), 0, "no retained status for a late subscriber");
	cr_expect_str_eq(field(status, "state"), "offline", "retained: %s", status);
	cr_expect_eq(ah_log_clean(env.log, why, sizeof why), 0, "%s", why);
}
