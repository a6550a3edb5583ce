/*
 * test_hub_recompute.c — a configuration corrected after the fact reaches
 * the stored figures (hub/domain/cems_basis.h): a real Mosquitto and a real
 * parkhub; a day of hourly SO2 120 mg/Nm³ from an existing Cu plant is
 * judged within GB 31574-2015 Table 3's 150; the operator then marks the
 * plant as in a designated area (special_limits, Table 4: SO2 100) and
 * restarts the hub, which must judge the same stored day again: 24 hour
 * exceedances and the day's (mean 120 > 100, 24 valid hours ≥ 20). A
 * restart with the same configuration recomputes nothing.
 *
 * Data: D0 = last year's 10-02 00:00 +08:00 (every hour long closed), 24
 * hourly values (expected_interval_s 3600: one N value is a valid hour).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub_helpers.h"
#include "parkhub/timefmt.h"

#define HOUR 3600000LL
#define WAIT_MS 60000
#define SAYS "recomputing its CEMS figures"

static struct hh_env env;

static void setup(void)
{
	struct hh_hub_opts o = {.tz = "Asia/Shanghai", .expected_interval_s = 3600, .max_age_days = 800};
	cr_assert_eq(hh_setup(&env, &o), 0);
	cr_assert_eq(hh_hub_start(&env, WAIT_MS), 0, "hub start (log %s)", env.hub_log);
}

static void teardown(void)
{
	char why[600];
	cr_expect_eq(hh_hub_stop_checked(&env, why, sizeof why), 0, "%s", why);
	hh_teardown(&env);
}

TestSuite(recompute, .init = setup, .fini = teardown, .timeout = 240);

static int64_t d0(void)
{
	int y;
	unsigned m, d;
	ph_civil_from_days((ph_now_ms() + 8 * HOUR) / 86400000LL, &y, &m, &d);
	return ph_days_from_civil(y - 1, 10, 2) * 86400000LL - 8 * HOUR;
}

static void publish_day(int64_t day)
{
	static char recs[1 << 14], batch[1 << 15];
	size_t len = 0;
	for (int i = 0; i < 24; i++) {
		char ts[PH_TIME_STRLEN];
		cr_assert_eq(ph_time_format(day + i * HOUR, ts, sizeof ts), 0);
		int n = snprintf(recs + len, sizeof recs - len, "%s{\"ts\":\"%s\",\"point\":\"stack-1\",\"values\":{\"so2\":120}}",
				 len ? "," : "[", ts);
		cr_assert(n > 0 && (size_t)n < sizeof recs - len);
		len += (size_t)n;
	}
	strcpy(recs + len, "]");
	cr_assert_eq(hh_batch(batch, sizeof batch, hh_agent(0), 3, 1, 1, recs), 0);
	cr_assert_eq(hh_publish(&env, hh_ent(0), hh_agent(0), "emission", batch), 0);
	int64_t last = 0;
	cr_assert_eq(hh_wait_db(&env, 24, &last, WAIT_MS, "SELECT count(*) FROM rollups WHERE period = 1"), 0,
		     "hour rollups: %lld of 24 (log %s)", (long long)last, env.hub_log);
}

static int64_t db_int(const char *q)
{
	int64_t v = -1;
	cr_assert_eq(hh_db_i64(&env, &v, "%s", q), 0, "%s", q);
	return v;
}

/* How many times the hub's log says it recomputed. */
static int said(void)
{
	char *log = hh_slurp(env.hub_log);
	cr_assert_not_null(log);
	int n = 0;
	for (const char *p = log; (p = strstr(p, SAYS)); p += strlen(SAYS))
		n++;
	free(log);
	return n;
}

Test(recompute, special_limits_set_after_the_fact_judge_the_stored_day_again)
{
	publish_day(d0());
	cr_assert_eq(hh_cems_update(&env, WAIT_MS), 0);
	cr_assert_eq(db_int("SELECT count(*) FROM cems_hours WHERE valid = 1"), 24);
	cr_assert_eq(db_int("SELECT count(*) FROM exceedances"), 0, "120 is within Table 3's 150");
	cr_assert_eq(db_int("SELECT count(*) FROM cems_hours WHERE limit_value = 150"), 24);

	/* The same configuration again: nothing recomputed. */
	cr_assert_eq(hh_cems_update(&env, WAIT_MS), 0);
	cr_assert_eq(said(), 0, "recomputed with an unchanged configuration (log %s)", env.hub_log);

	/* The operator's correction: the plant is in a designated area. */
	env.opts.ent_extra[0] = "\"special_limits\": true";
	cr_assert_eq(hh_write_hub_config(&env), 0);
	cr_assert_eq(hh_cems_update(&env, WAIT_MS), 0);
	cr_assert_eq(said(), 1, "no recomputation logged (log %s)", env.hub_log);
	cr_assert_eq(db_int("SELECT count(*) FROM cems_hours WHERE limit_value = 100"), 24);
	cr_assert_eq(db_int("SELECT count(*) FROM exceedances WHERE period = 1 AND limit_value = 100"), 24);
	cr_assert_eq(db_int("SELECT count(*) FROM exceedances WHERE period = 2 AND limit_value = 100"), 1);
	cr_assert_eq(db_int("SELECT count(*) FROM exceedances"), 25);
}
