/*
 * test_hub_stacktests.c — an admin enters the date of an enterprise's last
 * PCDD/F stack test over the API (issue #18), end to end over a real
 * Mosquitto and a real parkhub (hub_helpers.h):
 *   POST /api/v1/parks/p1/enterprises/{ent}/stack-tests {"date", "by"}
 * only an admin may (403 for a manager and a regulator, nothing stored);
 * a bad, future or missing date, an unknown field, an unknown enterprise
 * are refused by name; a good one is stored in the database, ends the
 * enterprise's "never tested" overdue alarm, and still counts after a
 * restart (no new alarm).
 *
 * One behaviour per Test; every wait is bounded.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_client.h"
#include "hub_helpers.h"
#include "api/api.h"
#include "parkhub/timefmt.h"

#define WAIT_MS 20000
#define PATH "/api/v1/parks/p1/enterprises/ent-a/stack-tests"
#define OPEN_SQL "SELECT count(*) FROM alarms WHERE rule = 'pcdd_overdue' AND state = 'active_unacked'"

static struct hh_env env;
static int http_port;
static const char *const tok_reg = "regulator-token-1", *const tok_mgr = "manager-token-1",
		  *const tok_adm = "admin-token-1";

/* POSTs body to path with token; the status and body in r (hh_http_resp_free it). */
static void post(const char *path, const char *token, const char *body, struct hh_http_resp *r)
{
	cr_assert_eq(hh_http_request(http_port, "POST", path, token, body, r), 0, "POST %s: %s", path, r->body);
}

/* Expects status (and, when param is given, the error naming it). */
static void expect(const char *token, const char *body, long status, const char *param)
{
	struct hh_http_resp r;
	post(PATH, token, body, &r);
	cr_expect_eq(r.status, status, "%s -> %ld, want %ld: %s", body, r.status, status, r.body);
	if (param) {
		char want[96];
		snprintf(want, sizeof want, "\"param\":\"%s\"", param);
		cr_expect(strstr(r.body, want) != NULL, "%s: no %s in %s", body, want, r.body);
	}
	hh_http_resp_free(&r);
}

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	http_port = pht_free_port();
	cr_assert_gt(http_port, 0);
	cr_assert_eq(hh_setup(&env, NULL), 0);
	static char top[2048], park[800], rules[700];
	cr_assert_eq(hc_http_member(http_port, tok_reg, tok_mgr, tok_adm, top, sizeof top), 0);
	snprintf(rules, sizeof rules, "%s/rules.json", env.dir);
	cr_assert_eq(hh_write_file(rules, "{\"v\": 1, \"park\": \"p1\", \"rules\": [{\"id\": \"pcdd_overdue\","
					  " \"severity\": \"major\", \"scope\": {\"ent\": \"ent-a\", \"metric\": \"pcdd_f\"},"
					  " \"overdue\": {}}]}\n"),
		     0);
	snprintf(park, sizeof park, "\"rules_file\": \"%s\"", rules);
	env.opts.top_extra = top;
	env.opts.park_extra = park;
	cr_assert_eq(hh_write_hub_config(&env), 0);
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
	curl_global_cleanup();
}

TestSuite(stack_tests, .init = setup, .fini = teardown, .timeout = 120);

/* A date n days from now, UTC (the park's zone differs by hours, not days). */
static void date_in(int days, char out[PH_TIME_STRLEN])
{
	cr_assert_eq(ph_time_format(ph_now_ms() + days * 86400000LL, out, PH_TIME_STRLEN), 0);
	out[10] = '\0';
}

Test(stack_tests, only_an_admin_enters_one_and_bad_ones_are_refused_by_name)
{
	char body[256], past[PH_TIME_STRLEN], future[PH_TIME_STRLEN];
	date_in(-30, past);
	date_in(3, future);
	snprintf(body, sizeof body, "{\"date\": \"%s\", \"by\": \"环保专员\"}", past);
	expect(tok_mgr, body, 403, NULL);
	expect(tok_reg, body, 403, NULL);
	snprintf(body, sizeof body, "{\"date\": \"%s\", \"by\": \"x\"}", future);
	expect(tok_adm, body, 400, "date");
	expect(tok_adm, "{\"date\": \"2026-02-30\", \"by\": \"x\"}", 400, "date");
	expect(tok_adm, "{\"by\": \"x\"}", 400, "date");
	expect(tok_adm, "{\"date\": \"2026-01-05\", \"by\": \"\"}", 400, "by");
	expect(tok_adm, "{\"date\": \"2026-01-05\", \"by\": \"x\", \"lab\": \"y\"}", 400, "lab");
	struct hh_http_resp r;
	post("/api/v1/parks/p1/enterprises/ent-zz/stack-tests", tok_adm, "{\"date\": \"2026-01-05\", \"by\": \"x\"}", &r);
	cr_expect_eq(r.status, 404, "%s", r.body);
	hh_http_resp_free(&r);
	int64_t n = -1;
	cr_assert_eq(hh_db_i64(&env, &n, "SELECT count(*) FROM stack_tests"), 0);
	cr_expect_eq(n, 0, "nothing refused is stored: %lld rows", (long long)n);
}

Test(stack_tests, an_entered_test_ends_the_never_tested_alarm_and_outlives_a_restart)
{
	int64_t last = -1;
	cr_assert_eq(hh_wait_db(&env, 1, &last, WAIT_MS, OPEN_SQL), 0, "never tested: overdue (log %s)", env.hub_log);
	char body[256], past[PH_TIME_STRLEN], text[256];
	date_in(-30, past);
	snprintf(body, sizeof body, "{\"date\": \"%s\", \"by\": \"环保专员\"}", past);
	struct hh_http_resp r;
	post(PATH, tok_adm, body, &r);
	cr_expect_eq(r.status, 200, "%s", r.body);
	cr_expect(strstr(r.body, past) != NULL, "%s", r.body);
	hh_http_resp_free(&r);
	cr_assert_eq(hh_db_text(&env, text, sizeof text, "SELECT park || '|' || ent || '|' || date || '|' || by FROM stack_tests"), 0);
	char want[128];
	snprintf(want, sizeof want, "p1|ent-a|%s|环保专员", past);
	cr_expect_str_eq(text, want);
	cr_expect_eq(hh_wait_db(&env, 0, &last, WAIT_MS, OPEN_SQL), 0, "the overdue alarm ends: %lld open", (long long)last);

	int status = 0;
	cr_assert_eq(hh_hub_stop(&env, 10000, &status), 0);
	cr_assert_eq(hh_hub_start(&env, WAIT_MS), 0, "restart (log %s)", env.hub_log);
	/* the rules run once a second: a few ticks, then nothing new may be open */
	struct timespec ts = {3, 0};
	nanosleep(&ts, NULL);
	int64_t open = -1;
	cr_assert_eq(hh_db_i64(&env, &open, OPEN_SQL), 0);
	cr_expect_eq(open, 0, "after the restart the entered test still counts: %lld open", (long long)open);
}
