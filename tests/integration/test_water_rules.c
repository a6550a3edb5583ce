/*
 * The demo's water rules (deploy/rules-demo.json, rules outfall_*) on a real
 * parkhub behind a real Mosquitto (issue 20): pH outside 6..9, COD above a
 * threshold, and wastewater flowing while the plant says it is stopped are
 * each raised by a record of the wastewater outlet, and not raised by a
 * record within bounds. The rules are the demo file's own (read from the
 * source tree, park renamed to the sandbox's p1), so the demo cannot ship a
 * water rule this test has not seen fire.
 *
 * Records are hand-made (alarm_helpers.c) on ent-a's point outfall-1, the
 * way the simulator (src_sim.c, outfall_every) sends them: one record with
 * w_ph w_cod w_flow and the plant's state. Thread: the test's own; every
 * wait is bounded.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>

#include "alarm_helpers.h"
#include "parkhub/timefmt.h"

#define WAIT_MS 20000

static struct ah A;
static struct ah_recs R;
static char log_[4096];
static int64_t T0; /* ten minutes ago */

/* The demo's outfall_* rules as a rules file for park p1 (new, free()). */
static char *demo_water_rules(void)
{
	const char *src = getenv("PH_SOURCE_DIR");
	cr_assert_not_null(src, "PH_SOURCE_DIR unset (run through ctest)");
	char path[600];
	snprintf(path, sizeof path, "%s/deploy/rules-demo.json", src);
	char *text = hh_slurp(path);
	cr_assert_not_null(text, "%s", path);
	cJSON *j = cJSON_Parse(text);
	free(text);
	cr_assert_not_null(j, "%s is not JSON", path);
	cJSON *rules = cJSON_GetObjectItemCaseSensitive(j, "rules"), *keep = cJSON_CreateArray();
	cr_assert(cJSON_IsArray(rules));
	for (int i = cJSON_GetArraySize(rules) - 1; i >= 0; i--) {
		cJSON *id = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rules, i), "id");
		if (cJSON_IsString(id) && strncmp(id->valuestring, "outfall_", 8) == 0)
			cJSON_AddItemToArray(keep, cJSON_DetachItemFromArray(rules, i));
	}
	cr_assert_eq(cJSON_GetArraySize(keep), 3, "the demo's water rules: pH range, COD, flow while stopped");
	cJSON_ReplaceItemInObjectCaseSensitive(j, "rules", keep);
	cJSON_ReplaceItemInObjectCaseSensitive(j, "park", cJSON_CreateString(HH_PARK));
	char *out = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	cr_assert_not_null(out);
	return out;
}

static void setup(void)
{
	cr_assert_eq(ah_setup(&A), 0, "sandbox (broker, test clients)");
	T0 = ph_now_ms() - 600000;
	char *rules = demo_water_rules();
	struct ah_opts o = {.rules = rules};
	int rc = ah_start_hub(&A, &o);
	free(rules);
	cr_assert_eq(rc, 0, "hub start (log %s)", A.env.hub_log);
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

TestSuite(water_rules, .init = setup, .fini = teardown, .timeout = 90);

/* One outfall record of ent-a, s seconds after T0; waits for its ack. */
static void outfall(int s, double ph, double cod, double flow, const char *state)
{
	char values[200];
	snprintf(values, sizeof values, "\"w_ph\":%g,\"w_cod\":%g,\"w_flow\":%g", ph, cod, flow);
	ah_recs_reset(&R);
	cr_assert_eq(ah_recs_add(&R, T0 + s * 1000LL, "outfall-1", values, NULL, state), 0);
	cr_assert_eq(ah_send(&A, 0, NULL, &R), 0, "batch not acked (log %s)", A.env.hub_log);
}

Test(water_rules, each_demo_water_rule_raises_on_its_condition_only)
{
	/* within bounds, plant running, water flowing: nothing */
	outfall(0, 7.2, 40, 45, "running");
	outfall(10, 8.9, 99, 50, "running");
	cr_assert_eq(ah_db_alarms(&A, "outfall_ph_range"), 0);
	cr_assert_eq(ah_db_alarms(&A, "outfall_cod_high"), 0);
	cr_assert_eq(ah_db_alarms(&A, "outfall_flow_while_stopped"), 0, "flow while running is no alarm");

	/* pH below 6 */
	outfall(20, 5.2, 40, 45, "running");
	cr_assert_geq(ah_wait_alert(&A, "outfall_ph_range", "raised", 0, WAIT_MS), 0, "pH 5.2: no raise (log %s)",
		      A.env.hub_log);
	cr_assert_eq(ah_db_alarms(&A, "outfall_cod_high"), 0);

	/* COD above the demo's 100 mg/L */
	outfall(30, 7.0, 150, 45, "running");
	cr_assert_geq(ah_wait_alert(&A, "outfall_cod_high", "raised", 0, WAIT_MS), 0, "COD 150: no raise (log %s)",
		      A.env.hub_log);
	cr_assert_eq(ah_db_alarms(&A, "outfall_flow_while_stopped"), 0);

	/* the plant stopped while 5 m3/h still flow */
	outfall(40, 7.0, 40, 5, "stopped");
	cr_assert_geq(ah_wait_alert(&A, "outfall_flow_while_stopped", "raised", 0, WAIT_MS),
		      0, "flow while stopped: no raise (log %s)", A.env.hub_log);
	cr_assert_eq(ah_db_alarms(&A, "outfall_flow_while_stopped"), 1);
}

Test(water_rules, ph_above_nine_is_out_of_range_too)
{
	outfall(0, 7.5, 40, 45, "running");
	outfall(10, 9.6, 40, 45, "running");
	cr_assert_geq(ah_wait_alert(&A, "outfall_ph_range", "raised", 0, WAIT_MS), 0, "pH 9.6: no raise (log %s)",
		      A.env.hub_log);
}

Test(water_rules, a_stopped_plant_without_flow_is_no_alarm)
{
	outfall(0, 7.5, 40, 0, "stopped");
	outfall(10, 7.5, 40, 0.5, "stopped");
	outfall(20, 7.5, 40, 45, "running");
	cr_assert_eq(ah_db_alarms(&A, "outfall_flow_while_stopped"), 0);
}
