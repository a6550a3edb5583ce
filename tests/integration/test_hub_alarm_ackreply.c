/*
 * test_hub_alarm_ackreply.c — a cmd/ack is answered on
 * parkhub/v1/{park}/cmd/ack/reply (cmd-ack-reply.schema.json), end to end
 * over a real Mosquitto and a real parkhub process (alarm_helpers.h): a good
 * ack gets "acked", a second one "already_acked" naming who acknowledged
 * and when (the first acknowledger stays), an unknown alarm
 * "unknown_alarm", an unreadable command "invalid" with the field.
 *
 * A separate client subscribed to the reply topic only, as a manager's tool
 * would be. One behaviour per Test; every wait is bounded.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "alarm_helpers.h"
#include "parkhub/timefmt.h"

#define WAIT_MS 20000
#define REPLY_TOPIC "parkhub/v1/p1/cmd/ack/reply"

static const char RULES[] =
	"{\"v\": 1, \"park\": \"p1\", \"rules\": [\n"
	" {\"id\": \"so2_high\", \"severity\": \"major\", \"scope\": {\"ent\": \"ent-a\", \"metric\": \"so2\", \"point\": \"*\"},\n"
	"  \"threshold\": {\"op\": \">\", \"limit\": 100, \"hysteresis\": 10}}\n"
	"]}\n";

static struct ah A;
static struct pht_mqtt *mgr;
static char log_[4096];
static int64_t T0;

static void setup(void)
{
	cr_assert_eq(ah_setup(&A), 0, "sandbox (broker, test clients)");
	T0 = (ph_now_ms() - 3 * 3600000LL) / 60000 * 60000;
	struct ah_opts o = {.rules = RULES};
	cr_assert_eq(ah_start_hub(&A, &o), 0, "hub start (log %s)", A.env.hub_log);
	char id[64];
	snprintf(id, sizeof id, "mgr-%d", (int)getpid());
	mgr = pht_mqtt_new(pht_broker_uri(&A.env.broker), id);
	cr_assert_not_null(mgr);
	cr_assert_eq(pht_mqtt_connect(mgr, 1, 10000), 0);
	cr_assert_eq(pht_mqtt_subscribe(mgr, REPLY_TOPIC, 1, 5000), 0);
}

static void teardown(void)
{
	pht_mqtt_free(mgr);
	mgr = NULL;
	if (A.env.hub.pid) {
		int status = 0;
		cr_expect_eq(hh_hub_stop(&A.env, 10000, &status), 0, "SIGTERM the hub (log %s)", A.env.hub_log);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hub exit status %#x", status);
		cr_expect_eq(hh_log_clean(A.env.hub_log, log_, sizeof log_), 0, "%s", log_);
	}
	ah_teardown(&A);
}

TestSuite(ack_reply, .init = setup, .fini = teardown, .timeout = 90);

/* The next reply, parsed (the caller deletes it); fails the test after WAIT_MS. */
static cJSON *next_reply(void)
{
	char topic[192];
	char *payload = NULL;
	int rc = pht_mqtt_next(mgr, WAIT_MS, topic, sizeof topic, &payload, NULL);
	cr_assert_eq(rc, 0, "no reply on %s within %d ms (log %s)", REPLY_TOPIC, WAIT_MS, A.env.hub_log);
	cr_expect_str_eq(topic, REPLY_TOPIC);
	cJSON *j = cJSON_Parse(payload);
	cr_assert_not_null(j, "reply is not JSON: %s", payload);
	free(payload);
	return j;
}

static const char *str(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
	return cJSON_IsString(v) ? v->valuestring : "(absent)";
}

static void ack(const char *id, const char *by)
{
	char payload[512];
	snprintf(payload, sizeof payload, "{\"alarm_id\":\"%s\",\"by\":\"%s\"}", id, by);
	cr_assert_eq(hh_publish_raw(&A.env, "parkhub/v1/p1/cmd/ack", payload, 0), 0);
}

static void raise_one(char *id, size_t cap)
{
	cr_assert_eq(ah_send1(&A, 0, T0, "stack-1", "so2", 150, 'N'), 0, "publish (log %s)", A.env.hub_log);
	long i = ah_wait_alert(&A, "so2_high", "raised", 0, WAIT_MS);
	cr_assert_geq(i, 0, "no raised alert (log %s)", A.env.hub_log);
	snprintf(id, cap, "%s", A.m[i].alarm_id);
}

Test(ack_reply, good_ack_then_second_refused_with_who_and_when)
{
	char id[72];
	raise_one(id, sizeof id);

	ack(id, "值班经理");
	cJSON *r = next_reply();
	cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok")), "ok");
	cr_expect_str_eq(str(r, "result"), "acked");
	cr_expect_str_eq(str(r, "alarm_id"), id);
	cr_expect_str_eq(str(r, "park"), "p1");
	cr_expect_str_eq(str(r, "by"), "值班经理");
	cr_expect_str_eq(str(r, "state"), "active_acked");
	cr_expect_str_eq(str(r, "acked_by"), "值班经理");
	char first_at[64];
	snprintf(first_at, sizeof first_at, "%s", str(r, "acked_at"));
	cr_expect_str_neq(first_at, "(absent)");
	cJSON_Delete(r);

	ack(id, "shift lead");
	r = next_reply();
	cr_expect(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "ok")), "a second ack is refused");
	cr_expect_str_eq(str(r, "result"), "already_acked");
	cr_expect_str_eq(str(r, "by"), "shift lead", "who asked");
	cr_expect_str_eq(str(r, "acked_by"), "值班经理", "who acknowledged first");
	cr_expect_str_eq(str(r, "acked_at"), first_at, "when: the first acknowledgement's time");
	cr_expect(strstr(str(r, "reason"), "值班经理") != NULL, "reason: %s", str(r, "reason"));
	cr_expect_null(cJSON_GetObjectItemCaseSensitive(r, "state"), "no state on a refusal");
	cJSON_Delete(r);

	char text[256];
	hh_db_text(&A.env, text, sizeof text, "SELECT acked_by FROM alarms WHERE alarm_id = '%s'", id);
	cr_expect_str_eq(text, "值班经理", "the stored acknowledger stays the first");
}

Test(ack_reply, unknown_alarm_gets_its_reason)
{
	ack("a-19700101-999999", "someone");
	cJSON *r = next_reply();
	cr_expect(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "ok")));
	cr_expect_str_eq(str(r, "result"), "unknown_alarm");
	cr_expect_str_eq(str(r, "alarm_id"), "a-19700101-999999");
	cr_expect(strstr(str(r, "reason"), "a-19700101-999999") != NULL, "reason: %s", str(r, "reason"));
	cr_expect_null(cJSON_GetObjectItemCaseSensitive(r, "acked_by"));
	cJSON_Delete(r);
}

Test(ack_reply, invalid_field_named_in_the_reason)
{
	cr_assert_eq(hh_publish_raw(&A.env, "parkhub/v1/p1/cmd/ack", "{\"alarm_id\":\"a-1\",\"by\":\"\"}", 0), 0);
	cJSON *r = next_reply();
	cr_expect(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "ok")));
	cr_expect_str_eq(str(r, "result"), "invalid");
	cr_expect(strstr(str(r, "reason"), "by") != NULL, "reason names the field: %s", str(r, "reason"));
	cJSON_Delete(r);
}
