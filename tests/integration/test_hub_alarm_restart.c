/*
 * test_hub_alarm_restart.c — open alarms across a hub restart (SIGTERM and
 * SIGKILL), and acknowledging alarms over MQTT (parkhub/v1/{park}/cmd/ack),
 * end to end over a real Mosquitto and real parkhub processes
 * (alarm_helpers.h).
 *
 * Restart: an active and a cleared-unacked alarm stay open in SQLite and
 * retained on the broker; the new hub raises neither again, updates the
 * active one and clears it when its condition goes; a `for` condition that
 * held before the restart keeps its start (rules_load.c).
 * Ack: active → acked → (clear) closed, cleared → (ack) closed, the
 * retained state removed once closed, bad or unknown acks change nothing.
 *
 * One behaviour per Test; every wait is bounded.
 */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
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
	" {\"id\": \"so2_high\", \"severity\": \"major\", \"scope\": {\"ent\": \"ent-a\", \"metric\": \"so2\", \"point\": \"*\"},\n"
	"  \"threshold\": {\"op\": \">\", \"limit\": 100, \"hysteresis\": 10}},\n"
	" {\"id\": \"nox_slow\", \"severity\": \"minor\", \"scope\": {\"ent\": \"ent-a\", \"point\": \"stack-3\", \"metric\": \"nox\"},\n"
	"  \"threshold\": {\"op\": \">\", \"limit\": 100, \"for_s\": 600}}\n"
	"]}\n";

static struct ah A;
static struct pht_mqtt *late;
static char got[4096], log_[4096];
static int64_t T0;

static void setup(void)
{
	cr_assert_eq(ah_setup(&A), 0, "sandbox (broker, test clients)");
	T0 = (ph_now_ms() - 3 * 3600000LL) / 60000 * 60000;
	struct ah_opts o = {.rules = RULES};
	cr_assert_eq(ah_start_hub(&A, &o), 0, "hub start (log %s)", A.env.hub_log);
}

static void stop_cleanly(void)
{
	int status = 0;
	cr_expect_eq(hh_hub_stop(&A.env, 10000, &status), 0, "SIGTERM the hub (log %s)", A.env.hub_log);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hub exit status %#x (log %s)", status, A.env.hub_log);
	cr_expect_eq(hh_log_clean(A.env.hub_log, log_, sizeof log_), 0, "%s", log_);
}

static void teardown(void)
{
	pht_mqtt_free(late);
	late = NULL;
	if (A.env.hub.pid)
		stop_cleanly();
	ah_teardown(&A);
}

TestSuite(alarm_restart, .init = setup, .fini = teardown, .timeout = 90);

#define S(x) (T0 + (int64_t)(x) * 1000)

static void send1(int64_t ts, const char *point, const char *metric, double v)
{
	cr_assert_eq(ah_send1(&A, 0, ts, point, metric, v, 'N'), 0, "publish (log %s)", A.env.hub_log);
}

static const struct ah_msg *wait_alert(const char *rule, const char *transition, size_t from)
{
	long i = ah_wait_alert(&A, rule, transition, from, WAIT_MS);
	cr_assert_geq(i, 0, "no %s alert of %s (log %s)", transition, rule, A.env.hub_log);
	return &A.m[i];
}

/* Waits until the newest retained state of id says state ("" = removed). */
static void wait_state(const char *id, const char *state)
{
	long long until = pht_now_ms() + WAIT_MS;
	const struct ah_msg *m;
	for (;;) {
		m = ah_last_state(&A, id);
		if (m && (state[0] ? strcmp(m->state, state) == 0 : m->empty))
			return;
		cr_assert_lt(pht_now_ms(), until, "retained state of %s: '%s', want '%s'", id, m ? m->state : "(none)",
			     state[0] ? state : "(removed)");
		ah_pump(&A, 50);
	}
}

/* What a subscriber that connects now gets as retained alarms/#:
 * "id=state" sorted by arrival, joined by spaces. */
static void retained_now(char *out, size_t cap)
{
	static int n;
	char id[64], topic[192];
	char *payload;
	size_t len = 0;

	snprintf(id, sizeof id, "late-%d-%d", (int)getpid(), ++n);
	late = pht_mqtt_new(pht_broker_uri(&A.env.broker), id);
	cr_assert_not_null(late);
	cr_assert_eq(pht_mqtt_connect(late, 1, 10000), 0);
	cr_assert_eq(pht_mqtt_subscribe(late, "parkhub/v1/p1/alarms/#", 1, 5000), 0);
	out[0] = '\0';
	while (pht_mqtt_next(late, 500, topic, sizeof topic, &payload, NULL) == 0) {
		struct ah_msg m = {0};
		ah_parse(&m, payload);
		len += (size_t)snprintf(out + len, cap - len, "%s%s=%s", len ? " " : "", strrchr(topic, '/') + 1,
					m.empty ? "(empty)" : m.state);
		free(payload);
	}
	pht_mqtt_free(late);
	late = NULL;
}

static void restart_keeps_open_alarms(bool kill)
{
	char want[512], ret[1024];

	/* before: stack-1 active, stack-2 raised and cleared (open until acked), nox above for 300 s */
	send1(S(0), "stack-1", "so2", 150);
	send1(S(0), "stack-2", "so2", 150);
	send1(S(10), "stack-2", "so2", 50);
	for (int t = 0; t <= 300; t += 60)
		send1(S(t), "stack-3", "nox", 150);
	ah_expect_alerts(&A, "so2_high", 0, "raised:active_unacked raised:active_unacked cleared:cleared_unacked",
			 WAIT_MS, 0, got, sizeof got);
	cr_assert_str_eq(got, "raised:active_unacked raised:active_unacked cleared:cleared_unacked", "before: %s", got);
	char a1[72], a2[72];
	snprintf(a1, sizeof a1, "%s", A.m[ah_wait_alert(&A, "so2_high", "raised", 0, 0)].alarm_id);
	snprintf(a2, sizeof a2, "%s", ah_last_alert(&A, "so2_high", 0)->alarm_id);
	cr_assert_str_neq(a1, a2);
	wait_state(a1, "active_unacked");
	wait_state(a2, "cleared_unacked");

	if (kill)
		cr_assert_eq(hh_hub_kill(&A.env), 0, "SIGKILL the hub");
	else
		stop_cleanly();

	/* the broker keeps both states while no hub runs */
	retained_now(ret, sizeof ret);
	snprintf(want, sizeof want, "%s=active_unacked %s=cleared_unacked", a1, a2);
	cr_expect_str_eq(ret, want, "retained while the hub is down: '%s', want '%s'", ret, want);

	size_t mark = A.n;
	cr_assert_eq(hh_hub_start(&A.env, 20000), 0, "hub restart (log %s)", A.env.hub_log);
	send1(S(20), "stack-1", "so2", 160); /* still above: an update, not a raise */
	for (int t = 360; t <= 600; t += 60)
		send1(S(t), "stack-3", "nox", 150); /* held since S(0): raised at S(600), not S(960) */
	const struct ah_msg *n = wait_alert("nox_slow", "raised", mark);
	cr_expect_eq(n->ts_ms, S(600), "nox_slow raised %lld s after T0, want 600 (its start survived the restart)",
		     (long long)(n->ts_ms - T0) / 1000);
	cr_expect_eq(n->first_ms, S(0), "nox_slow first %lld s after T0, want 0", (long long)(n->first_ms - T0) / 1000);
	send1(S(30), "stack-1", "so2", 50); /* clears the alarm raised before the restart */
	ah_expect_alerts(&A, "so2_high", mark, "cleared:cleared_unacked", WAIT_MS, SETTLE_MS, got, sizeof got);
	cr_expect_str_eq(got, "cleared:cleared_unacked", "so2_high alerts after the restart: '%s'", got);
	const struct ah_msg *c = ah_last_alert(&A, "so2_high", mark);
	cr_assert_not_null(c);
	cr_expect_str_eq(c->alarm_id, a1, "the clear is of the alarm raised before the restart");
	cr_expect_eq(c->count, 2, "count %lld: the raise and the update after the restart", c->count);
	ah_db_log(&A, "so2_high", log_, sizeof log_);
	cr_expect_str_eq(log_, "raised raised cleared cleared", "alarm_log: %s", log_);
	cr_expect_eq(ah_db_alarms(&A, "so2_high"), 2, "alarm rows");
	ah_alerts(&A, "nox_slow", 0, got, sizeof got);
	cr_expect_str_eq(got, "raised:active_unacked", "nox_slow alerts: %s", got);
	/* the restarted hub re-published the open states (retained only, no alert) */
	bool again = false;
	for (size_t i = mark; i < A.n; i++)
		again |= !A.m[i].alert && strcmp(A.m[i].alarm_id, a2) == 0 && strcmp(A.m[i].state, "cleared_unacked") == 0;
	cr_expect(again, "no retained state of %s re-published after the restart", a2);
	retained_now(ret, sizeof ret);
	int64_t nid = -1;
	hh_db_i64(&A.env, &nid, "SELECT count(*) FROM alarms WHERE state <> 'closed'");
	cr_expect_eq(nid, 3, "open alarms: %lld", (long long)nid);
	cr_expect(strstr(ret, a2) && strstr(ret, a1), "retained after the restart: %s", ret);
}

Test(alarm_restart, sigterm_keeps_open_alarms_and_raises_nothing_again) { restart_keeps_open_alarms(false); }

Test(alarm_restart, sigkill_keeps_open_alarms_and_raises_nothing_again) { restart_keeps_open_alarms(true); }

static void ack(const char *id, const char *by, const char *note)
{
	char payload[512];
	snprintf(payload, sizeof payload, "{\"alarm_id\":\"%s\",\"by\":\"%s\",\"note\":\"%s\"}", id, by, note);
	cr_assert_eq(hh_publish_raw(&A.env, "parkhub/v1/p1/cmd/ack", payload, 0), 0);
}

/* cmd/ack: an active alarm becomes acked (who, note), then closed by its
 * clear (its retained state removed); a cleared one is closed by the ack;
 * a malformed ack, an unknown id and a second ack change nothing; a new
 * episode after a closed alarm is a new alarm. */
Test(alarm_restart, ack_over_mqtt)
{
	char text[256];

	send1(S(0), "stack-1", "so2", 150);
	const struct ah_msg *r = wait_alert("so2_high", "raised", 0);
	char a1[72];
	snprintf(a1, sizeof a1, "%s", r->alarm_id);
	ack(a1, "duty manager", "called the plant");
	const struct ah_msg *k = wait_alert("so2_high", "acked", 0);
	cr_expect_str_eq(k->alarm_id, a1);
	cr_expect_str_eq(k->state, "active_acked");
	cr_expect_str_eq(k->acked_by, "duty manager");
	cr_expect_str_eq(k->note, "called the plant");
	hh_db_text(&A.env, text, sizeof text, "SELECT state || '|' || acked_by || '|' || note FROM alarms WHERE alarm_id = '%s'", a1);
	cr_expect_str_eq(text, "active_acked|duty manager|called the plant", "alarm row: %s", text);
	hh_db_text(&A.env, text, sizeof text, "SELECT by || '|' || note FROM alarm_log WHERE transition = 'acked'");
	cr_expect_str_eq(text, "duty manager|called the plant", "alarm_log: %s", text);
	send1(S(10), "stack-1", "so2", 50);
	wait_alert("so2_high", "cleared", 0);
	wait_state(a1, "");

	send1(S(0), "stack-2", "so2", 150);
	send1(S(10), "stack-2", "so2", 50);
	ah_expect_alerts(&A, "so2_high", 0,
			 "raised:active_unacked acked:active_acked cleared:closed raised:active_unacked cleared:cleared_unacked",
			 WAIT_MS, 0, got, sizeof got);
	char a2[72];
	snprintf(a2, sizeof a2, "%s", ah_last_alert(&A, "so2_high", 0)->alarm_id);
	cr_assert_str_neq(a2, a1);
	cr_assert_eq(hh_publish_raw(&A.env, "parkhub/v1/p1/cmd/ack", "{\"alarm_id\": 7}", 0), 0);
	cr_assert_eq(hh_publish_raw(&A.env, "parkhub/v1/p1/cmd/ack", "not json", 0), 0);
	ack("a-19700101-999999", "someone", "no such alarm");
	ack(a2, "shift lead", "sensor purge");
	wait_state(a2, "");

	size_t mark = A.n;
	send1(S(20), "stack-1", "so2", 170); /* a new episode: a new alarm */
	r = wait_alert("so2_high", "raised", mark);
	char a3[72];
	snprintf(a3, sizeof a3, "%s", r->alarm_id);
	cr_expect_str_neq(a3, a1, "a closed alarm is not raised again");
	ack(a3, "duty manager", "first");
	ack(a3, "duty manager", "second, ignored");
	send1(S(30), "stack-1", "so2", 60);
	ah_expect_alerts(&A, "so2_high", 0,
			 "raised:active_unacked acked:active_acked cleared:closed raised:active_unacked cleared:cleared_unacked"
			 " acked:closed raised:active_unacked acked:active_acked cleared:closed",
			 WAIT_MS, SETTLE_MS, got, sizeof got);
	cr_expect_str_eq(got,
			 "raised:active_unacked acked:active_acked cleared:closed raised:active_unacked cleared:cleared_unacked"
			 " acked:closed raised:active_unacked acked:active_acked cleared:closed",
			 "alerts: %s", got);
	ah_db_log(&A, "so2_high", log_, sizeof log_);
	cr_expect_str_eq(log_, "raised acked cleared raised cleared acked raised acked cleared", "alarm_log: %s", log_);
	hh_db_text(&A.env, text, sizeof text, "SELECT note FROM alarms WHERE alarm_id = '%s'", a3);
	cr_expect_str_eq(text, "first", "the second ack changed the note: %s", text);
	int64_t open = -1;
	hh_db_i64(&A.env, &open, "SELECT count(*) FROM alarms WHERE state <> 'closed'");
	cr_expect_eq(open, 0, "open alarms: %lld", (long long)open);
	char ret[1024];
	retained_now(ret, sizeof ret);
	cr_expect_str_eq(ret, "", "retained alarm states left: %s", ret);
}
