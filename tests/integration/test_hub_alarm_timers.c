/*
 * test_hub_alarm_timers.c — the timer rules end to end over a real
 * Mosquitto and a real parkhub: a data gap, an agent offline by its
 * retained status, an enterprise gone silent, a stack test overdue and due
 * soon, and an enterprise that never had one (alarm_helpers.h). These run
 * on the hub's clock (its rules timer ticks once a second), so records are
 * stamped around now and the Tests take a few seconds each; every wait is
 * bounded and nothing asserts how long anything took.
 *
 * One behaviour per Test, each with its own rules file.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "alarm_helpers.h"
#include "parkhub/timefmt.h"

#define WAIT_MS 20000
#define SETTLE_MS 300
#define DAY_MS 86400000LL

static struct ah A;
static char got[4096], log_[4096];

static void setup(void) { cr_assert_eq(ah_setup(&A), 0, "sandbox (broker, test clients)"); }

static void teardown(void)
{
	int status = 0;
	if (A.env.hub.pid) {
		cr_expect_eq(hh_hub_stop(&A.env, 10000, &status), 0, "SIGTERM the hub (log %s)", A.env.hub_log);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hub exit status %#x (log %s)", status,
			  A.env.hub_log);
		cr_expect_eq(hh_log_clean(A.env.hub_log, log_, sizeof log_), 0, "%s", log_);
	}
	ah_teardown(&A);
}

TestSuite(alarm_timers, .init = setup, .fini = teardown, .timeout = 90);

static void start(const char *rules, double interval_s)
{
	struct ah_opts o = {.rules = rules, .expected_interval_s = interval_s};
	cr_assert_eq(ah_start_hub(&A, &o), 0, "hub start (log %s)", A.env.hub_log);
}

static void expect_rule(const char *rule, const char *want, const char *want_log)
{
	ah_expect_alerts(&A, rule, 0, want, WAIT_MS, SETTLE_MS, got, sizeof got);
	cr_expect_str_eq(got, want, "alerts of %s: got '%s', want '%s' (log %s)", rule, got, want, A.env.hub_log);
	ah_db_log(&A, rule, log_, sizeof log_);
	cr_expect_str_eq(log_, want_log, "alarm_log of %s: '%s', want '%s'", rule, log_, want_log);
}

static const struct ah_msg *wait_alert(const char *rule, const char *transition, size_t from)
{
	long i = ah_wait_alert(&A, rule, transition, from, WAIT_MS);
	cr_assert_geq(i, 0, "no %s alert of %s (log %s)", transition, rule, A.env.hub_log);
	return &A.m[i];
}

/* No record on ent-a/stack-1 for more than after_s: raised once (first =
 * the last record + after_s), not raised again while the point stays
 * silent, cleared by the next record. Another point is not in scope. */
Test(alarm_timers, gap_raises_once_and_clears_on_data)
{
	start("{\"v\": 1, \"rules\": [{\"id\": \"cems_gap\", \"severity\": \"minor\","
	      " \"scope\": {\"ent\": \"ent-a\", \"point\": \"stack-1\"}, \"gap\": {\"after_s\": 2}}]}",
	      10);
	int64_t ts0 = ph_now_ms();
	cr_assert_eq(ah_send1(&A, 0, ts0, "stack-1", "so2", 50, 'N'), 0);
	cr_assert_eq(ah_send1(&A, 0, ts0, "stack-2", "so2", 50, 'N'), 0); /* out of scope */
	const struct ah_msg *r = wait_alert("cems_gap", "raised", 0);
	cr_expect_str_eq(r->ent, "ent-a");
	cr_expect_str_eq(r->point, "stack-1");
	cr_expect_eq(r->first_ms, ts0 + 2000, "first %lld ms after the last record, want 2000",
		     (long long)(r->first_ms - ts0));
	cr_expect(strstr(r->message, "no data since") != NULL, "message: %s", r->message);
	pht_sleep_ms(3000); /* three more ticks with the point still silent */
	ah_pump(&A, 0);
	ah_alerts(&A, "cems_gap", 0, got, sizeof got);
	cr_expect_str_eq(got, "raised:active_unacked", "while silent: %s", got);
	cr_assert_eq(ah_send1(&A, 0, ph_now_ms(), "stack-1", "so2", 51, 'N'), 0);
	expect_rule("cems_gap", "raised:active_unacked cleared:cleared_unacked", "raised cleared");
	cr_expect_eq(ah_db_alarms(&A, "cems_gap"), 1);
}

/* An agent's retained status offline raises the enterprise-level alarm at
 * once (for_s 0; no point), online clears it. */
Test(alarm_timers, offline_status_raises_and_online_clears)
{
	char t[PH_TIME_STRLEN], payload[256];

	start("{\"v\": 1, \"rules\": [{\"id\": \"gw_offline\", \"severity\": \"major\", \"scope\": {\"ent\": \"ent-b\"},"
	      " \"offline\": {\"status\": true, \"for_s\": 0}}]}",
	      10);
	cr_assert_eq(hh_publish_raw(&A.env, "parkhub/v1/p1/ent-b/gw-b/status", "{\"v\":1,\"agent\":\"gw-b\",\"state\":\"offline\"}", 1), 0);
	const struct ah_msg *r = wait_alert("gw_offline", "raised", 0);
	cr_expect_str_eq(r->ent, "ent-b");
	cr_expect_str_eq(r->point, "", "an enterprise-level alarm has no point: %s", r->payload);
	cr_expect(strstr(r->message, "gw-b") != NULL, "message names the agent: %s", r->message);
	ph_time_format(ph_now_ms(), t, sizeof t);
	snprintf(payload, sizeof payload, "{\"v\":1,\"agent\":\"gw-b\",\"state\":\"online\",\"ts\":\"%s\"}", t);
	cr_assert_eq(hh_publish_raw(&A.env, "parkhub/v1/p1/ent-b/gw-b/status", payload, 1), 0);
	expect_rule("gw_offline", "raised:active_unacked cleared:cleared_unacked", "raised cleared");
}

/* An enterprise that sends nothing for silence_intervals × its interval
 * (3 × 1 s) raises "no data", its next record clears it; an enterprise
 * not in scope never does. */
Test(alarm_timers, silent_enterprise_raises_and_data_clears)
{
	start("{\"v\": 1, \"rules\": [{\"id\": \"ent_silent\", \"severity\": \"major\", \"scope\": {\"ent\": \"ent-c\"},"
	      " \"offline\": {\"status\": false, \"silence_intervals\": 3}}]}",
	      1);
	const struct ah_msg *r = wait_alert("ent_silent", "raised", 0);
	cr_expect_str_eq(r->ent, "ent-c");
	cr_expect(strstr(r->message, "no data for") != NULL, "message: %s", r->message);
	cr_assert_eq(ah_send1(&A, 2, ph_now_ms(), "stack-1", "so2", 20, 'N'), 0);
	expect_rule("ent_silent", "raised:active_unacked cleared:cleared_unacked", "raised cleared");
	ah_alerts(&A, NULL, 0, got, sizeof got);
	cr_expect_str_eq(got, "raised:active_unacked cleared:cleared_unacked", "alerts of any rule: %s", got);
}

/* A PCDD/F stack test every 30 days, a warning 5 days before: a test 27
 * days ago is due in 3 days (warning only), one 32 days ago is overdue
 * (both); a new test clears both at once. An enterprise that never had a
 * test raises an enterprise-level alarm (if_never) that its first test
 * clears. */
Test(alarm_timers, overdue_and_due_soon)
{
	start("{\"v\": 1, \"rules\": [\n"
	      " {\"id\": \"pcdd_overdue\", \"severity\": \"major\", \"scope\": {\"ent\": \"ent-a\", \"metric\": \"pcdd_f\"},"
	      "  \"overdue\": {\"period_days\": 30, \"if_never\": false}},\n"
	      " {\"id\": \"pcdd_due_soon\", \"severity\": \"warning\", \"scope\": {\"ent\": \"ent-a\", \"metric\": \"pcdd_f\"},"
	      "  \"overdue\": {\"period_days\": 30, \"warn_days\": 5, \"if_never\": false}},\n"
	      " {\"id\": \"pcdd_never\", \"severity\": \"major\", \"scope\": {\"ent\": \"ent-c\", \"metric\": \"pcdd_f\"},"
	      "  \"overdue\": {\"period_days\": 30, \"if_never\": true}}]}",
	      10);
	int64_t now = ph_now_ms();
	const struct ah_msg *m = wait_alert("pcdd_never", "raised", 0);
	cr_expect_str_eq(m->ent, "ent-c");
	cr_expect_str_eq(m->point, "", "no record at all: enterprise-level (%s)", m->payload);

	cr_assert_eq(ah_send1(&A, 0, now - 27 * DAY_MS, "stack-1", "pcdd_f", 0.2, 'N'), 0);
	m = wait_alert("pcdd_due_soon", "raised", 0);
	cr_expect_str_eq(m->point, "stack-1");
	cr_expect_str_eq(m->severity, "warning");
	cr_expect(strstr(m->message, "(3 days") != NULL, "due in 3 days: %s", m->message);
	size_t mark = A.n;
	cr_assert_eq(ah_send1(&A, 0, now - 32 * DAY_MS, "stack-2", "pcdd_f", 0.2, 'N'), 0);
	m = wait_alert("pcdd_overdue", "raised", mark);
	cr_expect_str_eq(m->point, "stack-2");
	cr_expect(strstr(m->message, "overdue since") != NULL, "message: %s", m->message);
	m = wait_alert("pcdd_due_soon", "raised", mark);
	cr_expect_str_eq(m->point, "stack-2");

	cr_assert_eq(ah_send1(&A, 0, now - DAY_MS, "stack-2", "pcdd_f", 0.1, 'N'), 0); /* the new test */
	cr_assert_eq(ah_send1(&A, 2, now - DAY_MS, "stack-1", "pcdd_f", 0.1, 'N'), 0); /* ent-c's first */
	expect_rule("pcdd_overdue", "raised:active_unacked cleared:cleared_unacked", "raised cleared");
	expect_rule("pcdd_due_soon", "raised:active_unacked raised:active_unacked cleared:cleared_unacked",
		    "raised raised cleared");
	expect_rule("pcdd_never", "raised:active_unacked cleared:cleared_unacked", "raised cleared");
	const struct ah_msg *c = ah_last_alert(&A, "pcdd_due_soon", 0);
	cr_expect_str_eq(c->point, "stack-2", "the warning of stack-2 cleared, stack-1's stays");
	int64_t open = -1;
	hh_db_i64(&A.env, &open, "SELECT count(*) FROM alarms WHERE state = 'active_unacked'");
	cr_expect_eq(open, 1, "active alarms left: %lld (stack-1's warning)", (long long)open);
}

/* The date of the last stack test in the config (issue #18): the first
 * start raises no "overdue" for an enterprise tested 10 days ago; one
 * with no date and no test is still overdue (never tested); one whose
 * configured test is 400 days old is overdue, its message naming it. */
Test(alarm_timers, configured_last_stack_test_no_false_overdue_at_first_start)
{
	char recent[PH_TIME_STRLEN], old[PH_TIME_STRLEN], ra[64], rc_[64];
	int64_t now = ph_now_ms();
	ph_time_format(now - 10 * DAY_MS, recent, sizeof recent); /* the date's first 10 characters */
	ph_time_format(now - 400 * DAY_MS, old, sizeof old);
	recent[10] = old[10] = '\0';
	snprintf(ra, sizeof ra, "\"last_stack_test\": \"%s\"", recent);
	snprintf(rc_, sizeof rc_, "\"last_stack_test\": \"%s\"", old);
	struct ah_opts o = {.rules = "{\"v\": 1, \"rules\": [{\"id\": \"pcdd_overdue\", \"severity\": \"major\","
				     " \"scope\": {\"metric\": \"pcdd_f\"}, \"overdue\": {}}]}",
			    .expected_interval_s = 10, .ent_extra = {ra, NULL, rc_}};
	cr_assert_eq(ah_start_hub(&A, &o), 0, "hub start (log %s)", A.env.hub_log);
	ah_expect_alerts(&A, "pcdd_overdue", 0, "raised:active_unacked raised:active_unacked", WAIT_MS, 2 * SETTLE_MS,
			 got, sizeof got);
	cr_expect_str_eq(got, "raised:active_unacked raised:active_unacked", "alerts: %s (log %s)", got, A.env.hub_log);
	bool b = false, c = false;
	for (size_t i = 0; i < A.n; i++) {
		if (!A.m[i].alert)
			continue;
		cr_expect_str_neq(A.m[i].ent, "ent-a", "ent-a was tested %s: not overdue (%s)", recent, A.m[i].message);
		b |= strcmp(A.m[i].ent, "ent-b") == 0;
		if (strcmp(A.m[i].ent, "ent-c") == 0) {
			c = true;
			cr_expect(strstr(A.m[i].message, old) != NULL, "names the configured test %s: %s", old,
				  A.m[i].message);
		}
	}
	cr_expect(b, "ent-b, never tested, is overdue");
	cr_expect(c, "ent-c, tested %s, is overdue", old);
}
