/*
 * test_hub_alarm_webhook.c — webhooks end to end: a real parkhub posts its
 * alarm transitions to small HTTP receivers on 127.0.0.1
 * (http_receiver.h): the generic JSON (byte for byte the alert published
 * on MQTT), WeCom and DingTalk robot markdown, a receiver that fails first
 * (retried with back-off until it answers), and one that never answers —
 * while ingest keeps acking and MQTT alerts keep flowing
 * (alarm_helpers.h). Every wait is bounded.
 */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "alarm_helpers.h"
#include "http_receiver.h"
#include "parkhub/timefmt.h"

#define WAIT_MS 20000

enum { H_JSON, H_WECOM, H_DING, H_FLAKY, H_DEAD, NHOOKS };

static struct ah A;
static struct hr_server *H[NHOOKS];
static char got[4096], log_[4096];
static char rules[8192];
static cJSON *J;

static void setup(void)
{
	cr_assert_eq(ah_setup(&A), 0, "sandbox (broker, test clients)");
	cr_assert_eq(hr_start(&H[H_JSON], HR_OK, 0), 0);
	cr_assert_eq(hr_start(&H[H_WECOM], HR_OK, 0), 0);
	cr_assert_eq(hr_start(&H[H_DING], HR_OK, 0), 0);
	cr_assert_eq(hr_start(&H[H_FLAKY], HR_FAIL_FIRST, 2), 0);
	cr_assert_eq(hr_start(&H[H_DEAD], HR_SILENT, 0), 0);
}

static void teardown(void)
{
	int status = 0;
	if (A.env.hub.pid) {
		cr_expect_eq(hh_hub_stop(&A.env, 15000, &status), 0, "SIGTERM the hub (log %s)", A.env.hub_log);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hub exit status %#x (log %s)", status,
			  A.env.hub_log);
		cr_expect_eq(hh_log_clean(A.env.hub_log, log_, sizeof log_), 0, "%s", log_);
	}
	for (int i = 0; i < NHOOKS; i++) {
		hr_stop(H[i]);
		H[i] = NULL;
	}
	cJSON_Delete(J);
	J = NULL;
	ah_teardown(&A);
}

TestSuite(alarm_webhook, .init = setup, .fini = teardown, .timeout = 120);

static const char *markdown_field(const struct hr_request *r, const char *field)
{
	cJSON_Delete(J);
	J = cJSON_Parse(r->body);
	cr_assert_not_null(J, "not JSON: %s", r->body);
	const cJSON *mt = cJSON_GetObjectItemCaseSensitive(J, "msgtype");
	cr_expect(cJSON_IsString(mt) && strcmp(mt->valuestring, "markdown") == 0, "msgtype: %s", r->body);
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(J, "markdown");
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(md, field);
	cr_assert(cJSON_IsString(f), "markdown.%s missing: %s", field, r->body);
	return f->valuestring;
}

/* The payloads of the so2_high alerts on MQTT, in order. */
static const char *alert_payload(int k)
{
	for (size_t i = 0; i < A.n; i++)
		if (A.m[i].alert && strcmp(A.m[i].rule, "so2_high") == 0 && k-- == 0)
			return A.m[i].payload;
	cr_assert_fail("alert missing");
	return NULL;
}

static void expect_post(const struct hr_request *r, const char *path_prefix)
{
	cr_expect_str_eq(r->method, "POST");
	cr_expect(strncmp(r->target, path_prefix, strlen(path_prefix)) == 0, "target %s, want %s…", r->target, path_prefix);
	cr_expect(strncmp(r->content_type, "application/json", 16) == 0, "Content-Type %s", r->content_type);
}

Test(alarm_webhook, json_wecom_dingtalk_retries_and_a_hung_endpoint)
{
	int64_t t0 = (ph_now_ms() - 3600000) / 1000 * 1000;
	snprintf(rules, sizeof rules,
		 "{\"v\": 1, \"rules\": [{\"id\": \"so2_high\", \"severity\": \"major\","
		 " \"scope\": {\"ent\": \"ent-a\", \"point\": \"stack-1\", \"metric\": \"so2\"},"
		 " \"threshold\": {\"op\": \">\", \"limit\": 100, \"hysteresis\": 10}}],\n"
		 " \"webhooks\": [\n"
		 "  {\"id\": \"hook-json\", \"url\": \"http://127.0.0.1:%d/alerts\"},\n"
		 "  {\"id\": \"hook-wecom\", \"url\": \"http://127.0.0.1:%d/cgi-bin/webhook/send?key=secret-k1\", \"format\": \"wecom\"},\n"
		 "  {\"id\": \"hook-ding\", \"url\": \"http://127.0.0.1:%d/robot/send?access_token=secret-t1\", \"format\": \"dingtalk\","
		 "   \"transitions\": [\"raised\"], \"lang\": \"en\"},\n"
		 "  {\"id\": \"hook-flaky\", \"url\": \"http://127.0.0.1:%d/flaky\", \"backoff_ms\": 50, \"backoff_max_ms\": 200,"
		 "   \"retries\": 5},\n"
		 "  {\"id\": \"hook-dead\", \"url\": \"http://127.0.0.1:%d/dead\", \"timeout_ms\": 300, \"retries\": 1,"
		 "   \"backoff_ms\": 50}\n"
		 " ]}\n",
		 hr_port(H[H_JSON]), hr_port(H[H_WECOM]), hr_port(H[H_DING]), hr_port(H[H_FLAKY]), hr_port(H[H_DEAD]));
	/* the sandbox's park is in Asia/Kolkata (en by its zone); its lang says zh-CN */
	struct ah_opts o = {.rules = rules, .park_extra = "\"lang\": \"zh-CN\""};
	cr_assert_eq(ah_start_hub(&A, &o), 0, "hub start (log %s)", A.env.hub_log);

	cr_assert_eq(ah_send1(&A, 0, t0, "stack-1", "so2", 150, 'N'), 0);
	cr_assert_eq(ah_send1(&A, 0, t0 + 10000, "stack-1", "so2", 50, 'N'), 0);
	/* while hook-dead hangs (each attempt until its 300 ms timeout): ingest acks every batch */
	for (int k = 0; k < 40; k++)
		cr_assert_eq(ah_send1(&A, 1, t0 + k * 1000, "stack-1", "so2", 500, 'N'), 0, "batch %d of ent-b not acked", k);
	cr_assert_eq(ah_send1(&A, 0, t0 + 20000, "stack-1", "so2", 160, 'N'), 0);
	ah_expect_alerts(&A, "so2_high", 0, "raised:active_unacked cleared:cleared_unacked raised:active_unacked", WAIT_MS, 0,
			 got, sizeof got);
	cr_assert_str_eq(got, "raised:active_unacked cleared:cleared_unacked raised:active_unacked",
			 "MQTT alerts while a webhook hangs: %s (log %s)", got, A.env.hub_log);

	/* generic JSON: the MQTT alert, byte for byte, once per transition */
	cr_assert_eq(hr_wait(H[H_JSON], 3, WAIT_MS), 0, "hook-json got %zu posts", hr_count(H[H_JSON]));
	for (int k = 0; k < 3; k++) {
		const struct hr_request *r = hr_get(H[H_JSON], (size_t)k);
		expect_post(r, "/alerts");
		cr_expect_str_eq(r->body, alert_payload(k), "hook-json post %d differs from the MQTT alert", k);
	}
	/* WeCom: markdown content with the rule, the transition, the alarm, in
	 * Chinese (the park's lang: the webhook gives none) */
	cr_assert_eq(hr_wait(H[H_WECOM], 3, WAIT_MS), 0, "hook-wecom got %zu posts", hr_count(H[H_WECOM]));
	static const char *const tr[] = {"触发", "已恢复", "触发"};
	const struct ah_msg *first = &A.m[ah_wait_alert(&A, "so2_high", "raised", 0, 0)];
	for (int k = 0; k < 3; k++) {
		const struct hr_request *r = hr_get(H[H_WECOM], (size_t)k);
		char want[128];
		expect_post(r, "/cgi-bin/webhook/send?key=secret-k1");
		const char *md = markdown_field(r, "content");
		snprintf(want, sizeof want, "### [重要] so2_high %s：ent-a/stack-1", tr[k]);
		cr_expect(strncmp(md, want, strlen(want)) == 0, "wecom post %d: %s", k, md);
		cr_expect(strstr(md, first->alarm_id) != NULL, "wecom post %d does not name %s", k, first->alarm_id);
		cr_expect(first->message_zh[0] && strstr(md, first->message_zh) != NULL,
			  "wecom post %d lacks the Chinese message (%s): %s", k, first->message_zh, md);
	}
	/* DingTalk: title + text, raised only (its transitions filter), in English (its lang) */
	cr_assert_eq(hr_wait(H[H_DING], 2, WAIT_MS), 0, "hook-ding got %zu posts", hr_count(H[H_DING]));
	for (int k = 0; k < 2; k++) {
		const struct hr_request *r = hr_get(H[H_DING], (size_t)k);
		expect_post(r, "/robot/send?access_token=secret-t1");
		cr_expect_str_eq(markdown_field(r, "title"), "[MAJOR] so2_high raised: ent-a/stack-1");
		cr_expect(strstr(markdown_field(r, "text"), first->alarm_id) != NULL, "dingtalk text: %s", r->body);
	}
	/* flaky: two 500s, then every message once */
	cr_assert_eq(hr_wait(H[H_FLAKY], 5, WAIT_MS), 0, "hook-flaky got %zu posts", hr_count(H[H_FLAKY]));
	for (int k = 0; k < 5; k++) {
		const struct hr_request *r = hr_get(H[H_FLAKY], (size_t)k);
		cr_expect_eq(r->status, k < 2 ? 500 : 200, "flaky post %d answered %d", k, r->status);
		cr_expect_str_eq(r->body, alert_payload(k < 3 ? 0 : k - 2), "flaky post %d: the wrong message", k);
	}
	/* dead: each message tried twice (retries 1), none answered */
	cr_assert_eq(hr_wait(H[H_DEAD], 6, WAIT_MS), 0, "hook-dead got %zu attempts", hr_count(H[H_DEAD]));
	for (int k = 0; k < 6; k++)
		cr_expect_str_eq(hr_get(H[H_DEAD], (size_t)k)->body, alert_payload(k / 2), "dead attempt %d", k);

	pht_sleep_ms(500); /* nothing more comes */
	cr_expect_eq(hr_count(H[H_JSON]), 3);
	cr_expect_eq(hr_count(H[H_WECOM]), 3);
	cr_expect_eq(hr_count(H[H_DING]), 2);
	cr_expect_eq(hr_count(H[H_FLAKY]), 5);
	cr_expect_eq(hr_count(H[H_DEAD]), 6);
	/* webhook.h inv. 2: URLs with their keys are never logged */
	int status = 0;
	cr_expect_eq(hh_hub_stop(&A.env, 15000, &status), 0, "SIGTERM the hub (log %s)", A.env.hub_log);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hub exit status %#x", status);
	FILE *f = fopen(A.env.hub_log, "r");
	cr_assert_not_null(f);
	char line[4096];
	while (fgets(line, sizeof line, f))
		cr_expect(!strstr(line, "secret-k1") && !strstr(line, "secret-t1"), "the hub logged a webhook key: %s", line);
	fclose(f);
	cr_expect_eq(hh_log_clean(A.env.hub_log, log_, sizeof log_), 0, "%s", log_);
}

/* A chat webhook without a lang of its own speaks its park's (issue #18),
 * which without a "lang" in the park's config follows its zone: the
 * sandbox's Asia/Kolkata park gets English WeCom texts (the test above
 * gets Chinese from the park's "lang": "zh-CN"). */
Test(alarm_webhook, a_chat_webhook_without_lang_speaks_the_park_lang)
{
	int64_t t0 = (ph_now_ms() - 3600000) / 1000 * 1000;
	snprintf(rules, sizeof rules,
		 "{\"v\": 1, \"rules\": [{\"id\": \"so2_high\", \"severity\": \"major\","
		 " \"scope\": {\"ent\": \"ent-a\", \"point\": \"stack-1\", \"metric\": \"so2\"},"
		 " \"threshold\": {\"op\": \">\", \"limit\": 100}}],\n"
		 " \"webhooks\": [{\"id\": \"hook-wecom\", \"url\": \"http://127.0.0.1:%d/cgi-bin/webhook/send?key=k\","
		 " \"format\": \"wecom\"}]}\n",
		 hr_port(H[H_WECOM]));
	cr_assert_str_eq(A.env.opts.tz, "Asia/Kolkata", "a zone outside China: en by the zone");
	struct ah_opts o = {.rules = rules};
	cr_assert_eq(ah_start_hub(&A, &o), 0, "hub start (log %s)", A.env.hub_log);
	cr_assert_eq(ah_send1(&A, 0, t0, "stack-1", "so2", 150, 'N'), 0);
	cr_assert_eq(hr_wait(H[H_WECOM], 1, WAIT_MS), 0, "hook-wecom got %zu posts", hr_count(H[H_WECOM]));
	long i = ah_wait_alert(&A, "so2_high", "raised", 0, WAIT_MS);
	cr_assert_geq(i, 0, "no raised alert on MQTT (log %s)", A.env.hub_log);
	const struct hr_request *req = hr_get(H[H_WECOM], 0);
	cr_assert_not_null(req);
	const char *md = markdown_field(req, "content");
	cr_expect(strstr(md, "触发") == NULL, "no Chinese words: %s", md);
	cr_expect(strstr(md, A.m[i].message) != NULL, "the English message (%s): %s", A.m[i].message, md);
}
