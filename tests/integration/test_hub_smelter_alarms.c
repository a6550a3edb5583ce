/*
 * test_hub_smelter_alarms.c — a simulated smelter run with injected quench
 * excursions produces exactly the expected alarms: a real parkagent with
 * the seeded "sim" source (excursions on) publishes through a real
 * Mosquitto to a real parkhub whose rules watch the de novo window after
 * the quench and the carbon injection; the expected occurrences come from
 * the simulator's own excursion schedule (agents/sources/src_sim.h), not
 * from numbers copied here.
 *
 * Time: the sim stamps tick i at anchor + i * 1000 / rate_hz ms (src_sim.c,
 * "Schedule"), so at 1000 Hz a tick is 1 ms of data time and each 2000-tick
 * block (one excursion of 60..300 ticks) passes in 2 s. The rules' for_s
 * are scaled to match: 0.15 s = 150 ticks, 0.1 s = 100 ticks.
 *
 * What each rule must do, per excursion [s, s + len):
 *   quench_window  residence in 200..400 °C for >= 150 ms: raised at tick
 *                  s + 150 when len > 150; cleared at tick s + len (the
 *                  first value after it is <= 190, below 200 − 5)
 *   aci_low        aci_rate < 5 while running for >= 100 ms: the same with
 *                  100, in excursions with aci_fault only; cleared at
 *                  s + len (>= 8, above 5 + 0.5)
 * The alarm is raised once, cleared, and raised again (the same alarm, a
 * new occurrence) by the next qualifying excursion, nobody acking it.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "alarm_helpers.h"
#include "sources/src_sim.h"

#define SEED 7
#define RATE_HZ 1000
#define BLOCKS 8
#define TICKS (BLOCKS * PH_SIM_EXC_BLOCK)
#define QUENCH_FOR_TICKS 150
#define ACI_FOR_TICKS 100

static struct ah A;
static char got[8192], want[8192], log_[4096];

static void setup(void) { cr_assert_eq(ah_setup(&A), 0, "sandbox (broker, test clients)"); }

static void teardown(void)
{
	int status = 0;
	if (A.env.agent[0].pid)
		hh_agent_stop(&A.env, 0, 10000, NULL);
	if (A.env.hub.pid) {
		cr_expect_eq(hh_hub_stop(&A.env, 10000, &status), 0, "SIGTERM the hub (log %s)", A.env.hub_log);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hub exit status %#x (log %s)", status,
			  A.env.hub_log);
		cr_expect_eq(hh_log_clean(A.env.hub_log, log_, sizeof log_), 0, "%s", log_);
	}
	ah_teardown(&A);
}

TestSuite(smelter, .init = setup, .fini = teardown, .timeout = 150);

struct expected {
	char occ[4096];   /* "start..end" in ticks, as ah_db_occurrences prints them */
	char alerts[4096];
	int n, short_ones; /* qualifying excursions; excursions of the kind too short to raise */
	int64_t first_start;
};

/* The occurrences a rule must record: every excursion (with an ACI fault,
 * when aci) longer than for_ticks. */
static void expect_from_schedule(bool aci, int64_t for_ticks, struct expected *x)
{
	size_t ol = 0, al = 0;
	memset(x, 0, sizeof *x);
	for (int b = 0; b < BLOCKS; b++) {
		struct ph_sim_excursion e;
		ph_sim_excursion(SEED, b, &e);
		cr_assert(e.start >= (int64_t)b * PH_SIM_EXC_BLOCK && e.start + e.len <= (int64_t)(b + 1) * PH_SIM_EXC_BLOCK,
			  "block %d's excursion %lld+%lld leaves its block", b, (long long)e.start, (long long)e.len);
		if (!aci)
			cr_log_info("block %d: excursion at tick %lld, %lld ticks, %.0f degC%s", b, (long long)e.start,
			    (long long)e.len, e.level, e.aci_fault ? ", carbon injection fails" : "");
		if (aci && !e.aci_fault)
			continue;
		if (e.len - 1 < for_ticks) { /* the condition holds from tick s to s + len - 1 */
			x->short_ones++;
			continue;
		}
		if (!x->n)
			x->first_start = e.start;
		ol += (size_t)snprintf(x->occ + ol, sizeof x->occ - ol, "%s%lld..%lld", ol ? " " : "", (long long)e.start,
				       (long long)(e.start + e.len));
		al += (size_t)snprintf(x->alerts + al, sizeof x->alerts - al, "%sraised:active_unacked cleared:cleared_unacked",
				       al ? " " : "");
		x->n++;
	}
}

Test(smelter, excursions_raise_exactly_the_expected_alarms)
{
	static struct expected q, c;
	char src[512], rules[2048];
	int64_t v = -1, t0 = 0;

	if (!hh_parkagent())
		cr_skip_test("PH_PARKAGENT is not set");
	expect_from_schedule(false, QUENCH_FOR_TICKS, &q);
	expect_from_schedule(true, ACI_FOR_TICKS, &c);
	/* the seed gives a run worth testing: both kinds raise, and some excursions are too short */
	cr_assert(q.n >= 2 && q.short_ones >= 1, "seed %d: %d quench excursions qualify, %d too short", SEED, q.n,
		  q.short_ones);
	cr_assert(c.n >= 1, "seed %d: no ACI fault long enough", SEED);

	snprintf(rules, sizeof rules,
		 "{\"v\": 1, \"park\": \"p1\", \"rules\": [\n"
		 " {\"id\": \"quench_window\", \"severity\": \"major\", \"scope\": {\"point\": \"furnace-1\", \"metric\": \"quench_out_temp\"},\n"
		 "  \"residence\": {\"low\": 200, \"high\": 400, \"for_s\": %g, \"hysteresis\": 5, \"valid_only\": false}},\n"
		 " {\"id\": \"aci_low\", \"severity\": \"major\", \"scope\": {\"point\": \"furnace-1\", \"metric\": \"aci_rate\"},\n"
		 "  \"threshold\": {\"op\": \"<\", \"limit\": 5, \"for_s\": %g, \"hysteresis\": 0.5, \"when\": {\"state\": [\"running\"]}}}\n"
		 "]}\n",
		 QUENCH_FOR_TICKS * 1000.0 / RATE_HZ / 1000.0, ACI_FOR_TICKS * 1000.0 / RATE_HZ / 1000.0);
	struct ah_opts o = {.rules = rules, .expected_interval_s = 1.0 / RATE_HZ};
	cr_assert_eq(ah_start_hub(&A, &o), 0, "hub start (log %s)", A.env.hub_log);
	snprintf(src, sizeof src,
		 "[{\"type\":\"sim\",\"name\":\"sim\",\"seed\":%d,\"rate_hz\":%d,\"duration_ticks\":%d,\"excursions\":true,"
		 "\"stack_test_every\":0,\"weighbridge_every\":0}]",
		 SEED, RATE_HZ, TICKS);
	struct hh_agent_opts ao = {.sources = src, .max_records = 100, .max_delay_ms = 50};
	cr_assert_eq(hh_agent_start(&A.env, 0, &ao), 0, "agent start");

	/* every tick stored: a stack-1 and a furnace-1 record each */
	cr_assert_eq(hh_wait_db(&A.env, 2 * TICKS, &v, 90000, "SELECT coalesce(sum(nrecords), 0) FROM samples"), 0,
		     "records stored %lld of %d (hub log %s, agent log %s)", (long long)v, 2 * TICKS, A.env.hub_log,
		     A.env.agent_log[0]);
	cr_assert_eq(hh_db_i64(&A.env, &t0,
			       "SELECT min(s.ts_min) FROM samples s JOIN points p ON p.id = s.point_id WHERE p.point = 'furnace-1'"),
		     0);
	hh_db_i64(&A.env, &v,
		  "SELECT max(s.ts_max) FROM samples s JOIN points p ON p.id = s.point_id WHERE p.point = 'furnace-1'");
	cr_assert_eq(v - t0, TICKS - 1, "the last tick is %lld ms after the first, want %d (1 ms per tick)",
		     (long long)(v - t0), TICKS - 1);

	ah_expect_alerts(&A, "quench_window", 0, q.alerts, 30000, 500, got, sizeof got);
	cr_expect_str_eq(got, q.alerts, "quench_window alerts:\n got  %s\n want %s", got, q.alerts);
	ah_expect_alerts(&A, "aci_low", 0, c.alerts, 30000, 0, got, sizeof got);
	cr_expect_str_eq(got, c.alerts, "aci_low alerts:\n got  %s\n want %s", got, c.alerts);

	ah_db_occurrences(&A, "quench_window", t0, 1, got, sizeof got);
	cr_expect_str_eq(got, q.occ, "quench_window occurrences (ticks):\n got  %s\n want %s", got, q.occ);
	ah_db_occurrences(&A, "aci_low", t0, 1, got, sizeof got);
	cr_expect_str_eq(got, c.occ, "aci_low occurrences (ticks):\n got  %s\n want %s", got, c.occ);
	cr_expect_eq(ah_db_alarms(&A, "quench_window"), 1, "one alarm, raised again per excursion");
	cr_expect_eq(ah_db_alarms(&A, "aci_low"), 1);
	hh_db_i64(&A.env, &v, "SELECT count(*) FROM alarms WHERE rule NOT IN ('quench_window', 'aci_low')");
	cr_expect_eq(v, 0, "other alarms: %lld", (long long)v);

	const struct ah_msg *r = &A.m[ah_wait_alert(&A, "quench_window", "raised", 0, 0)];
	cr_expect_eq(r->ts_ms - t0, q.first_start + QUENCH_FOR_TICKS, "first raise at tick %lld, want %lld",
		     (long long)(r->ts_ms - t0), (long long)(q.first_start + QUENCH_FOR_TICKS));
	cr_expect_eq(r->first_ms - t0, q.first_start, "first at tick %lld, want %lld", (long long)(r->first_ms - t0),
		     (long long)q.first_start);
	cr_expect_str_eq(r->ent, "ent-a");
	cr_expect(r->has_value && r->value >= 222 && r->value <= 378, "raised at %g degC", r->value);
	r = ah_last_alert(&A, "aci_low", 0);
	cr_assert_not_null(r);
	sprintf(want, "%d", c.n);
	hh_db_text(&A.env, got, sizeof got, "SELECT count(*) FROM alarm_log l JOIN alarms a ON a.id = l.alarm"
					    " WHERE a.rule = 'aci_low' AND l.transition = 'raised'");
	cr_expect_str_eq(got, want, "aci_low raises logged: %s, want %s", got, want);

	int status = 0;
	cr_expect_eq(hh_agent_stop(&A.env, 0, 10000, &status), 0);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "agent exit status %#x", status);
}
