/*
 * test_hub_alarm_values.c — value rules end to end over a real Mosquitto
 * and a real parkhub: hand-made batches with chosen timestamps (data time,
 * so minutes and hours of plant time pass in milliseconds), the alerts and
 * retained states a manager's subscriber sees, and the alarm rows in
 * SQLite. Each rule type raises once, holds while its condition holds,
 * clears with its hysteresis, and raises again on a new episode
 * (alarm_helpers.h; the rules are RULES below, one point per rule type).
 *
 * One behaviour per Test; every wait is bounded; nothing asserts wall-clock
 * time.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "alarm_helpers.h"
#include "parkhub/timefmt.h"
#include "parkhub/tz.h"

#define WAIT_MS 20000
#define SETTLE_MS 300

static const char RULES[] =
	"{\"v\": 1, \"park\": \"p1\", \"rules\": [\n"
	" {\"id\": \"so2_high\", \"severity\": \"major\", \"scope\": {\"ent\": \"ent-a\", \"point\": \"stack-1\", \"metric\": \"so2\"},\n"
	"  \"threshold\": {\"op\": \">\", \"limit\": 100, \"hysteresis\": 10, \"for_s\": 120}},\n"
	" {\"id\": \"nox_mean\", \"severity\": \"minor\", \"scope\": {\"point\": \"stack-2\", \"metric\": \"nox\"},\n"
	"  \"threshold\": {\"value\": \"mean\", \"window_min\": 5, \"op\": \">\", \"limit\": 200, \"hysteresis\": 20}},\n"
	" {\"id\": \"pm_max\", \"severity\": \"minor\", \"scope\": {\"point\": \"stack-2\", \"metric\": \"pm\"},\n"
	"  \"threshold\": {\"value\": \"max\", \"window_min\": 3, \"op\": \">\", \"limit\": 20, \"hysteresis\": 2}},\n"
	" {\"id\": \"so2_hour\", \"severity\": \"major\", \"scope\": {\"point\": \"stack-3\", \"metric\": \"so2\"},\n"
	"  \"threshold\": {\"value\": \"hour_mean\", \"op\": \">\", \"limit\": 100, \"hysteresis\": 10}},\n"
	" {\"id\": \"so2_limit\", \"severity\": \"critical\", \"scope\": {\"point\": \"stack-4\", \"metric\": \"so2\"},\n"
	"  \"threshold\": {\"op\": \">\", \"limit\": {\"ref\": \"stack\"}, \"hysteresis\": \"10%\"}},\n"
	" {\"id\": \"quench_window\", \"severity\": \"major\", \"scope\": {\"point\": \"furnace-1\", \"metric\": \"quench_out_temp\"},\n"
	"  \"residence\": {\"low\": 200, \"high\": 400, \"for_s\": 300, \"hysteresis\": 5}},\n"
	" {\"id\": \"furnace_ramp\", \"severity\": \"minor\", \"scope\": {\"point\": \"furnace-1\", \"metric\": \"furnace_temp\"},\n"
	"  \"rate\": {\"window_min\": 10, \"op\": \">\", \"limit\": 20, \"hysteresis\": 5}},\n"
	" {\"id\": \"cems_stuck\", \"severity\": \"minor\", \"scope\": {\"point\": \"cems-9\", \"metric\": \"*\"},\n"
	"  \"flatline\": {\"for_s\": 600, \"tolerance\": 0}},\n"
	" {\"id\": \"cems_flags\", \"severity\": \"minor\", \"scope\": {\"point\": \"cems-8\", \"metric\": \"so2\"},\n"
	"  \"flags\": {\"window_min\": 10, \"max_pct\": 20, \"min_values\": 10, \"hysteresis\": 5}}\n"
	"]}\n";

static struct ah A;
static struct ah_recs R;
static char got[4096], want_log[512], log_[4096];
static int64_t T0; /* a local hour start, five hours ago: every record is in the past */

static void setup(void)
{
	cr_assert_eq(ah_setup(&A), 0, "sandbox (broker, test clients)");
	struct ph_tz *tz = NULL;
	struct ph_err err = {0};
	cr_assert_eq(ph_tz_load(A.env.opts.tz, &tz, &err), 0, "%s", err.msg);
	T0 = ph_tz_hour_start(tz, ph_now_ms() - 5 * 3600000LL);
	ph_tz_free(tz);
	struct ah_opts o = {.rules = RULES};
	cr_assert_eq(ah_start_hub(&A, &o), 0, "hub start (log %s)", A.env.hub_log);
}

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

TestSuite(alarm_values, .init = setup, .fini = teardown, .timeout = 90);

#define S(x) (T0 + (int64_t)((x) * 1000.0)) /* seconds after T0 */
#define M(x) (T0 + (int64_t)(x) * 60000)    /* minutes after T0 */

static void send1(int ent, int64_t ts, const char *point, const char *metric, double v)
{
	cr_assert_eq(ah_send1(&A, ent, ts, point, metric, v, 'N'), 0, "publish %s %s (log %s)", point, metric,
		     A.env.hub_log);
}

/* The MQTT alerts of rule equal want (waiting for them), and so do its
 * alarm_log rows (the transitions without the states). */
static void expect_rule(const char *rule, const char *want)
{
	ah_expect_alerts(&A, rule, 0, want, WAIT_MS, SETTLE_MS, got, sizeof got);
	cr_expect_str_eq(got, want, "alerts of %s: got '%s', want '%s' (log %s)", rule, got, want, A.env.hub_log);
	size_t l = 0;
	want_log[0] = '\0';
	for (const char *p = want; *p;) { /* "raised:active_unacked cleared:…" → "raised cleared" */
		size_t n = strcspn(p, ":");
		l += (size_t)snprintf(want_log + l, sizeof want_log - l, "%s%.*s", l ? " " : "", (int)n, p);
		p += n;
		p += strcspn(p, " ");
		p += *p == ' ';
	}
	ah_db_log(&A, rule, log_, sizeof log_);
	cr_expect_str_eq(log_, want_log, "alarm_log of %s: '%s', want '%s'", rule, log_, want_log);
}

/* Every alert seen is of one of the rules named (none of another rule fired). */
static void expect_only(const char *r1, const char *r2)
{
	for (size_t i = 0; i < A.n; i++)
		if (A.m[i].alert)
			cr_expect(strcmp(A.m[i].rule, r1) == 0 || (r2 && strcmp(A.m[i].rule, r2) == 0),
				  "unexpected alert of rule %s: %s", A.m[i].rule, A.m[i].payload);
}

static const struct ah_msg *nth_alert(const char *rule, int k)
{
	for (size_t i = 0; i < A.n; i++)
		if (A.m[i].alert && strcmp(A.m[i].rule, rule) == 0 && k-- == 0)
			return &A.m[i];
	cr_assert_fail("no alert #%d of %s", k, rule);
	return NULL;
}

/* An instant threshold with for_s 120 and hysteresis 10: raised once the
 * value stayed above 100 for 120 s of data time, updated (not raised
 * again) while it stays, untouched between 90 and 100, cleared at <= 90,
 * not raised by a spike shorter than for_s, raised again (same alarm, a
 * second occurrence) on the next long episode. */
Test(alarm_values, threshold_instant_for_and_hysteresis)
{
	int64_t v = -1;

	send1(0, S(0), "stack-1", "so2", 50);
	send1(0, S(10), "stack-1", "so2", 120);
	send1(0, S(60), "stack-1", "so2", 130);
	hh_db_i64(&A.env, &v, "SELECT count(*) FROM alarms");
	cr_expect_eq(v, 0, "raised after 50 s of a 120 s for_s: %lld alarms", (long long)v);
	send1(0, S(130), "stack-1", "so2", 125); /* held 120 s: raised */
	cr_assert_geq(ah_wait_alert(&A, "so2_high", "raised", 0, WAIT_MS), 0, "no raise (log %s)", A.env.hub_log);
	send1(0, S(140), "stack-1", "so2", 140);
	send1(0, S(150), "stack-1", "so2", 95);  /* inside the dead band: nothing */
	send1(0, S(160), "stack-1", "so2", 150);
	send1(0, S(170), "stack-1", "so2", 90);  /* <= 100 - 10: cleared */
	send1(0, S(180), "stack-1", "so2", 200); /* a spike shorter than for_s */
	send1(0, S(190), "stack-1", "so2", 50);
	send1(0, S(200), "stack-1", "so2", 110);
	send1(0, S(330), "stack-1", "so2", 111); /* held 130 s: raised again */
	expect_rule("so2_high", "raised:active_unacked cleared:cleared_unacked raised:active_unacked");
	expect_only("so2_high", NULL);

	const struct ah_msg *r = nth_alert("so2_high", 0), *c = nth_alert("so2_high", 1), *r2 = nth_alert("so2_high", 2);
	cr_expect_str_eq(r->ent, "ent-a");
	cr_expect_str_eq(r->point, "stack-1");
	cr_expect_str_eq(r->metric, "so2");
	cr_expect_str_eq(r->severity, "major");
	cr_expect(strstr(r->topic, "/alerts/major") != NULL, "topic %s", r->topic);
	cr_expect(r->has_value && r->value == 125, "raised with value %g", r->value);
	cr_expect_eq(r->first_ms, S(10), "first: %lld s after T0, want 10 (when the condition began)",
		     (long long)(r->first_ms - T0) / 1000);
	cr_expect_eq(r->ts_ms, S(130), "raise ts: %lld s after T0", (long long)(r->ts_ms - T0) / 1000);
	cr_expect(strstr(r->message, "ent-a/stack-1") != NULL, "message: %s", r->message);
	cr_expect_eq(c->ts_ms, S(170), "clear ts: %lld s after T0", (long long)(c->ts_ms - T0) / 1000);
	/* alarm.schema.json: value is the latest value that kept the alarm active, last when */
	cr_expect(c->value == 150, "cleared with value %g, want 150 (the last that kept it active)", c->value);
	cr_expect_eq(c->last_ms, S(160), "last: %lld s after T0, want 160", (long long)(c->last_ms - T0) / 1000);
	cr_expect_str_eq(c->alarm_id, r->alarm_id, "a clear of another alarm");
	cr_expect_str_eq(r2->alarm_id, r->alarm_id, "raised again as a new alarm: cleared_unacked is re-raised in place");
	cr_expect(r2->has_peak && r2->peak == 150, "peak %g, want 150", r2->peak);
	cr_expect_eq(r2->count, 4, "count %lld: raise, two updates, raise again", r2->count);

	cr_expect_eq(ah_db_alarms(&A, "so2_high"), 1, "alarm rows");
	ah_db_occurrences(&A, "so2_high", T0, 1000, got, sizeof got);
	cr_expect_str_eq(got, "10..170 200..open", "occurrences (s after T0): %s", got);
	const struct ah_msg *st = ah_last_state(&A, r->alarm_id);
	cr_assert_not_null(st, "no retained state of %s", r->alarm_id);
	cr_expect_str_eq(st->state, "active_unacked");
}

/* A 5-minute mean and a 3-minute max on the same point: each raises on its
 * own aggregate (not on single values) and clears past its dead band. */
Test(alarm_values, threshold_window_mean_and_max)
{
	static const double nox[] = {100, 100, 100, 100, 100, 400, 400, 100, 100, 100, 100};
	static const double pm[] = {5, 25, 5, 5, 5, 5, 5, 5, 5, 5, 5};
	char values[128];

	ah_recs_reset(&R);
	for (int m = 0; m < 11; m++) {
		snprintf(values, sizeof values, "\"nox\":%g,\"pm\":%g", nox[m], pm[m]);
		cr_assert_eq(ah_recs_add(&R, M(m), "stack-2", values, NULL, NULL), 0);
	}
	cr_assert_eq(ah_send(&A, 1, NULL, &R), 0, "publish (log %s)", A.env.hub_log);
	/* nox mean over minutes m-4..m: 160 at m5, 220 at m6..m9 (raised at m6), 160 at m10 (<= 180: cleared) */
	expect_rule("nox_mean", "raised:active_unacked cleared:cleared_unacked");
	/* pm max over m-2..m: 25 at m1..m3 (raised at m1), 5 at m4 (<= 18: cleared) */
	expect_rule("pm_max", "raised:active_unacked cleared:cleared_unacked");
	expect_only("nox_mean", "pm_max");
	const struct ah_msg *r = nth_alert("nox_mean", 0), *c = nth_alert("nox_mean", 1);
	cr_expect_eq(r->ts_ms, M(6), "nox raised %lld min after T0, want 6", (long long)(r->ts_ms - T0) / 60000);
	cr_expect(fabs(r->value - 220) < 1e-9, "nox raised on the mean %g, want 220", r->value);
	cr_expect_eq(c->ts_ms, M(10), "nox cleared %lld min after T0, want 10", (long long)(c->ts_ms - T0) / 60000);
	cr_expect(fabs(c->value - 220) < 1e-9, "nox cleared with value %g, want 220 (the last that kept it active)", c->value);
	cr_expect_eq(c->last_ms, M(9), "nox last seen at minute %lld, want 9", (long long)(c->last_ms - T0) / 60000);
	cr_expect_str_eq(r->ent, "ent-b");
	r = nth_alert("pm_max", 0);
	c = nth_alert("pm_max", 1);
	cr_expect_eq(r->ts_ms, M(1), "pm raised at minute %lld, want 1", (long long)(r->ts_ms - T0) / 60000);
	cr_expect_eq(c->ts_ms, M(4), "pm cleared at minute %lld, want 4", (long long)(c->ts_ms - T0) / 60000);
	cr_expect(r->value == 25 && c->value == 25, "pm values %g, %g", r->value, c->value);
	cr_expect_eq(c->last_ms, M(3), "pm last seen at minute %lld, want 3", (long long)(c->last_ms - T0) / 60000);
}

/* The mean of each local clock hour, judged when the hour has closed:
 * 120 raises (stamped at the hour's end, first = its start), 95 holds
 * (between 90 and 100), 80 clears. One batch per hour: the hub's timer may
 * close a past hour as soon as its batch is in, which changes nothing. */
Test(alarm_values, threshold_hour_mean_at_hour_close)
{
	static const double mean[] = {120, 95, 80};
	for (int h = 0; h < 3; h++) {
		ah_recs_reset(&R);
		for (int k = 0; k < 6; k++) {
			char values[64];
			/* the hour's values average to mean[h]: ±10 around it */
			snprintf(values, sizeof values, "\"so2\":%g", mean[h] + (k % 2 ? 10 : -10));
			cr_assert_eq(ah_recs_add(&R, T0 + h * 3600000LL + k * 600000LL, "stack-3", values, NULL, NULL), 0);
		}
		cr_assert_eq(ah_send(&A, 0, NULL, &R), 0, "hour %d (log %s)", h, A.env.hub_log);
	}
	send1(0, T0 + 3 * 3600000LL + 300000, "stack-3", "so2", 50); /* in the fourth hour: closes the third */
	expect_rule("so2_hour", "raised:active_unacked cleared:cleared_unacked");
	expect_only("so2_hour", NULL);
	const struct ah_msg *r = nth_alert("so2_hour", 0), *c = nth_alert("so2_hour", 1);
	cr_expect(fabs(r->value - 120) < 1e-9, "raised on the hour mean %g, want 120", r->value);
	cr_expect_eq(r->ts_ms, T0 + 3600000LL, "raised at %lld s after T0, want the hour's end (3600)",
		     (long long)(r->ts_ms - T0) / 1000);
	cr_expect_eq(r->first_ms, T0, "first %lld s after T0, want the hour's start", (long long)(r->first_ms - T0) / 1000);
	cr_expect(fabs(c->value - 120) < 1e-9, "cleared with value %g, want 120 (95 held, it did not update)", c->value);
	cr_expect_eq(c->ts_ms, T0 + 3 * 3600000LL, "cleared at %lld s after T0, want 10800", (long long)(c->ts_ms - T0) / 1000);
}

/* limit {"ref": "stack"}: GB 31574-2015's SO2 stack limit for the
 * enterprise: 150 mg/Nm3 for ent-a (cu, existing, normal limits), 100 for
 * ent-b (special limits, Table 4); hysteresis "10%" of that limit. */
Test(alarm_values, threshold_limit_reference_gb31574)
{
	send1(0, S(0), "stack-4", "so2", 149); /* below 150 */
	send1(0, S(10), "stack-4", "so2", 151);
	cr_assert_geq(ah_wait_alert(&A, "so2_limit", "raised", 0, WAIT_MS), 0, "ent-a: no raise at 151");
	send1(0, S(20), "stack-4", "so2", 136); /* above 150 - 15 */
	send1(0, S(30), "stack-4", "so2", 135);
	send1(1, S(0), "stack-4", "so2", 101); /* special limit 100 */
	send1(1, S(10), "stack-4", "so2", 91);  /* above 100 - 10 */
	send1(1, S(20), "stack-4", "so2", 90);
	expect_rule("so2_limit", "raised:active_unacked cleared:cleared_unacked raised:active_unacked cleared:cleared_unacked");
	expect_only("so2_limit", NULL);
	const struct ah_msg *a1 = nth_alert("so2_limit", 0), *a2 = nth_alert("so2_limit", 1);
	const struct ah_msg *b1 = nth_alert("so2_limit", 2), *b2 = nth_alert("so2_limit", 3);
	cr_expect_str_eq(a1->ent, "ent-a");
	cr_expect(a1->value == 151 && a2->value == 151, "ent-a values %g %g", a1->value, a2->value);
	cr_expect_eq(a2->ts_ms, S(30), "ent-a cleared at %lld s, want 30 (136 is inside the dead band)",
		     (long long)(a2->ts_ms - T0) / 1000);
	cr_expect(strstr(a1->message, "above 150") != NULL, "ent-a message names the limit 150: %s", a1->message);
	cr_expect_str_eq(b1->ent, "ent-b");
	cr_expect(b1->value == 101 && b2->value == 101, "ent-b values %g %g", b1->value, b2->value);
	cr_expect_eq(b2->ts_ms, S(20), "ent-b cleared at %lld s, want 20", (long long)(b2->ts_ms - T0) / 1000);
	cr_expect(strstr(b1->message, "above 100") != NULL, "ent-b message names the special limit 100: %s", b1->message);
	cr_expect(strstr(b1->topic, "/alerts/critical") != NULL, "topic %s", b1->topic);
	cr_expect_str_neq(a1->alarm_id, b1->alarm_id, "one alarm per enterprise");
	cr_expect_eq(ah_db_alarms(&A, "so2_limit"), 2);
}

/* Residence in the 200-400 °C band for more than 300 s: a 210 s excursion
 * raises nothing; a long one raises once at 300 s, holds through a dip to
 * 198 (inside the 5 °C dead band), clears at 190. */
Test(alarm_values, residence_in_de_novo_window)
{
	ah_recs_reset(&R);
	int t;
	char values[64];
#define Q(ts, v)                                                                                  \
	do {                                                                                      \
		snprintf(values, sizeof values, "\"quench_out_temp\":%g", (double)(v));           \
		cr_assert_eq(ah_recs_add(&R, S(ts), "furnace-1", values, NULL, "running"), 0);    \
	} while (0)
	Q(0, 180);
	for (t = 30; t <= 240; t += 30)
		Q(t, 250); /* 210 s inside */
	Q(270, 180);
	Q(300, 300);
	for (t = 330; t <= 600; t += 30)
		Q(t, 310); /* 300 s inside at t = 600 */
	Q(630, 198);
	Q(660, 320);
	Q(690, 190);
#undef Q
	cr_assert_eq(ah_send(&A, 0, "process", &R), 0, "publish (log %s)", A.env.hub_log);
	expect_rule("quench_window", "raised:active_unacked cleared:cleared_unacked");
	expect_only("quench_window", NULL);
	const struct ah_msg *r = nth_alert("quench_window", 0), *c = nth_alert("quench_window", 1);
	cr_expect_eq(r->ts_ms, S(600), "raised at %lld s, want 600", (long long)(r->ts_ms - T0) / 1000);
	cr_expect_eq(r->first_ms, S(300), "first %lld s, want 300", (long long)(r->first_ms - T0) / 1000);
	cr_expect_eq(c->ts_ms, S(690), "cleared at %lld s, want 690", (long long)(c->ts_ms - T0) / 1000);
	cr_expect(c->has_peak && c->peak == 320, "peak %g, want 320", c->peak);
	ah_db_occurrences(&A, "quench_window", T0, 1000, got, sizeof got);
	cr_expect_str_eq(got, "300..690", "occurrences: %s", got);
}

/* Rate of change over 10 minutes: a step of 300 °C raises at the step
 * (300/9 min), holds while the window's first value is before the step,
 * clears once the whole window is after it. */
Test(alarm_values, rate_of_change)
{
	ah_recs_reset(&R);
	for (int m = 0; m < 20; m++) {
		char values[64];
		snprintf(values, sizeof values, "\"furnace_temp\":%d", m < 10 ? 1000 : 1300);
		cr_assert_eq(ah_recs_add(&R, M(m), "furnace-1", values, NULL, "running"), 0);
	}
	cr_assert_eq(ah_send(&A, 2, "process", &R), 0, "publish (log %s)", A.env.hub_log);
	expect_rule("furnace_ramp", "raised:active_unacked cleared:cleared_unacked");
	expect_only("furnace_ramp", NULL);
	const struct ah_msg *r = nth_alert("furnace_ramp", 0), *c = nth_alert("furnace_ramp", 1);
	cr_expect_eq(r->ts_ms, M(10), "raised at minute %lld, want 10", (long long)(r->ts_ms - T0) / 60000);
	cr_expect(fabs(r->value - 300.0 / 9.0) < 1e-9, "rate %g /min, want 33.3", r->value);
	cr_expect_eq(c->ts_ms, M(19), "cleared at minute %lld, want 19", (long long)(c->ts_ms - T0) / 60000);
	cr_expect_eq(c->last_ms, M(18), "last seen at minute %lld, want 18", (long long)(c->last_ms - T0) / 60000);
	cr_expect_str_eq(r->ent, "ent-c");
}

/* Flat line ("*" metrics): so2 stuck at 50 for 600 s raises once (its
 * metric named), nox moving on the same point raises nothing, and the
 * first different so2 value clears. */
Test(alarm_values, flatline_stuck_sensor)
{
	ah_recs_reset(&R);
	for (int m = 0; m <= 12; m++) {
		char values[64];
		snprintf(values, sizeof values, "\"so2\":%d,\"nox\":%d", m < 12 ? 50 : 51, 100 + m);
		cr_assert_eq(ah_recs_add(&R, M(m), "cems-9", values, NULL, NULL), 0);
	}
	cr_assert_eq(ah_send(&A, 0, NULL, &R), 0, "publish (log %s)", A.env.hub_log);
	expect_rule("cems_stuck", "raised:active_unacked cleared:cleared_unacked");
	expect_only("cems_stuck", NULL);
	const struct ah_msg *r = nth_alert("cems_stuck", 0), *c = nth_alert("cems_stuck", 1);
	cr_expect_str_eq(r->metric, "so2");
	cr_expect(r->value == 50, "stuck value %g", r->value);
	cr_expect_eq(r->ts_ms, M(10), "raised at minute %lld, want 10", (long long)(r->ts_ms - T0) / 60000);
	cr_expect_eq(r->first_ms, M(0), "first at minute %lld, want 0", (long long)(r->first_ms - T0) / 60000);
	cr_expect_eq(c->ts_ms, M(12), "cleared at minute %lld, want 12", (long long)(c->ts_ms - T0) / 60000);
}

/* Share of values not flagged N over 10 minutes above 20 %: three M flags
 * in a row raise at the third (30 %), the share falls back as they leave
 * the window, 20 % holds (not past the 5-point dead band), 10 % clears. */
Test(alarm_values, flag_share)
{
	ah_recs_reset(&R);
	for (int m = 0; m <= 22; m++)
		cr_assert_eq(ah_recs_add(&R, M(m), "cems-8", "\"so2\":42", m >= 10 && m <= 12 ? "\"so2\":\"M\"" : NULL, NULL), 0);
	cr_assert_eq(ah_send(&A, 0, NULL, &R), 0, "publish (log %s)", A.env.hub_log);
	expect_rule("cems_flags", "raised:active_unacked cleared:cleared_unacked");
	expect_only("cems_flags", NULL);
	const struct ah_msg *r = nth_alert("cems_flags", 0), *c = nth_alert("cems_flags", 1);
	cr_expect_eq(r->ts_ms, M(12), "raised at minute %lld, want 12", (long long)(r->ts_ms - T0) / 60000);
	cr_expect(fabs(r->value - 30) < 1e-9, "share %g %%, want 30", r->value);
	cr_expect_eq(c->ts_ms, M(21), "cleared at minute %lld, want 21", (long long)(c->ts_ms - T0) / 60000);
	cr_expect_eq(c->last_ms, M(19), "last seen at minute %lld, want 19 (20 %% at minute 20 is not above 20)",
		     (long long)(c->last_ms - T0) / 60000);
}
