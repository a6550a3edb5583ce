/*
 * test_agent_delivery.c — parkagent end to end over a real Mosquitto with a
 * fake hub that acks (agent_helpers.h): what its file sources read arrives
 * exactly once and in order, CSV rows are mapped by the header, and bad
 * input lines are refused, counted and logged with their line numbers
 * while the rest is published.
 *
 * One behaviour per Test; every wait is bounded (poll with a deadline).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "agent_helpers.h"

#define WAIT_MS 30000

static struct ah_env env;
static char why[1024];

static void setup(void) { cr_assert_eq(ah_env_setup(&env, true), 0, "sandbox (broker, fake hub)"); }

static void teardown(void) { ah_env_teardown(&env); }

/* SIGTERM, a clean exit, and no sanitizer report in the log. */
static void stop_agent_cleanly(void)
{
	int status = 0;

	cr_assert_eq(pht_proc_kill(&env.agent, SIGTERM), 0);
	cr_assert_eq(pht_proc_wait(&env.agent, 10000, &status), 0, "agent did not stop on SIGTERM");
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "agent exit status %#x", status);
	cr_expect_eq(ah_log_clean(env.log, why, sizeof why), 0, "%s", why);
}

TestSuite(agent_delivery, .init = setup, .fini = teardown, .timeout = 60);

Test(agent_delivery, jsonl_records_arrive_exactly_once_in_order)
{
	char src[1024];
	struct ah_keys want = {0};
	struct ah_cfg c = {.sources = ah_env_jsonl_source(&env, src, sizeof src), .max_records = 50};

	/* 3000 lines before the agent starts, 2000 more while it tails the file. */
	cr_assert_eq(ah_jsonl_append(env.data, 0, 3000), 0);
	cr_assert_eq(ah_env_start_agent(&env, &c), 0);
	cr_assert_eq(ah_hub_wait_records(env.hub, AH_AGENT, 1000, WAIT_MS), 0, "first records (see %s)", env.log);
	cr_assert_eq(ah_jsonl_append(env.data, 3000, 5000), 0);
	cr_assert_eq(ah_keys_add_range(&want, 0, 5000), 0);

	cr_assert_eq(ah_hub_wait_records(env.hub, AH_AGENT, 5000, WAIT_MS), 0, "got %zu of 5000 records",
		     ah_hub_records(env.hub, AH_AGENT));
	cr_assert_eq(ah_hub_wait_acked(env.hub, AH_AGENT, WAIT_MS), 0);
	pht_sleep_ms(300); /* anything extra would show up now */
	cr_expect_eq(ah_hub_same_records(env.hub, AH_AGENT, &want, why, sizeof why), 0, "%s", why);
	cr_expect_eq(ah_hub_records_in_order(env.hub, AH_AGENT, &want, why, sizeof why), 0, "%s", why);
	cr_expect_eq(ah_hub_check_seqs(env.hub, AH_AGENT, true, why, sizeof why), 0, "%s", why);
	struct ah_hub_stats st;
	ah_hub_stats(env.hub, &st);
	cr_expect_eq(st.bad, 0, "%zu batches did not decode", st.bad);
	cr_expect_eq(st.conflicts, 0);
	stop_agent_cleanly();
	ah_keys_free(&want);
}

Test(agent_delivery, csv_rows_mapped_by_header_arrive)
{
	char src[2048], line[256];
	struct ah_keys want = {0};
	const char *csv_path_fmt = "%s/stack.csv";
	char csv[700];

	snprintf(csv, sizeof csv, csv_path_fmt, env.dir);
	/* Columns in an order of their own, an unmapped one, a flag column,
	 * an empty cell (absent value, not zero). */
	cr_assert_eq(ah_write_file(csv, "time,SO2_mg,unused,NOx_mg,SO2_flag,O2_pct\n"), 0);
	for (int i = 0; i < 300; i++) {
		char ts[32];
		snprintf(ts, sizeof ts, "2026-03-01T%02d:%02d:%02dZ", i / 3600, i / 60 % 60, i % 60);
		if (i == 7)
			snprintf(line, sizeof line, "%s,%.1f,x,,N,%.1f\n", ts, 30 + i * 0.1, 11.5);
		else
			snprintf(line, sizeof line, "%s,%.1f,x,%.1f,%c,%.1f\n", ts, 30 + i * 0.1, 90 + i * 0.2,
				 i % 10 == 0 ? 'C' : 'N', 11.5);
		cr_assert_eq(ah_append_file(csv, line), 0);
		char rec[512];
		if (i == 7)
			snprintf(rec, sizeof rec,
				 "{\"ts\":\"%s\",\"point\":\"stack-9\",\"values\":{\"so2\":%.1f,\"o2\":%.1f},"
				 "\"flags\":{\"so2\":\"N\"}}", ts, 30 + i * 0.1, 11.5);
		else
			snprintf(rec, sizeof rec,
				 "{\"ts\":\"%s\",\"point\":\"stack-9\",\"values\":{\"so2\":%.1f,\"nox\":%.1f,"
				 "\"o2\":%.1f},\"flags\":{\"so2\":\"%c\"}}", ts, 30 + i * 0.1, 90 + i * 0.2, 11.5,
				 i % 10 == 0 ? 'C' : 'N');
		cr_assert_eq(ah_keys_add_line(&want, rec), 0, "%s", rec);
	}
	snprintf(src, sizeof src,
		 "[{\"type\":\"csv\",\"name\":\"cems\",\"path\":\"%s\",\"from_start\":true,\"ts_column\":\"time\","
		 "\"point\":\"stack-9\",\"columns\":{\"SO2_mg\":\"so2\",\"NOx_mg\":\"nox\",\"O2_pct\":\"o2\"},"
		 "\"flag_columns\":{\"SO2_flag\":\"so2\"}}]", csv);
	struct ah_cfg c = {.sources = src};
	cr_assert_eq(ah_env_start_agent(&env, &c), 0);

	cr_assert_eq(ah_hub_wait_records(env.hub, AH_AGENT, 300, WAIT_MS), 0, "got %zu of 300 rows (see %s)",
		     ah_hub_records(env.hub, AH_AGENT), env.log);
	cr_assert_eq(ah_hub_wait_acked(env.hub, AH_AGENT, WAIT_MS), 0);
	pht_sleep_ms(300);
	cr_expect_eq(ah_hub_records_in_order(env.hub, AH_AGENT, &want, why, sizeof why), 0, "%s", why);
	cr_expect_eq(ah_hub_check_seqs(env.hub, AH_AGENT, true, why, sizeof why), 0, "%s", why);
	cr_expect_eq(ah_file_count(env.log, "invalid record"), 0, "the header or a row was refused (see %s)",
		     env.log);
	stop_agent_cleanly();
	ah_keys_free(&want);
}

Test(agent_delivery, sim_bounded_run_arrives_exactly_once)
{
	char src[512];
	struct ah_cfg c = {.sources = src, .max_records = 50};

	snprintf(src, sizeof src, AH_SIM_SOURCE, 1000, 2000);
	cr_assert_eq(ah_env_start_agent(&env, &c), 0);
	cr_assert_eq(ah_hub_wait_records(env.hub, AH_AGENT, 4000, WAIT_MS), 0, "got %zu of 4000 records (see %s)",
		     ah_hub_records(env.hub, AH_AGENT), env.log);
	cr_assert_eq(ah_hub_wait_acked(env.hub, AH_AGENT, WAIT_MS), 0);
	pht_sleep_ms(300);
	cr_expect_eq(ah_hub_sim_check(env.hub, AH_AGENT, 2000, why, sizeof why), 0, "%s", why);
	cr_expect_eq(ah_hub_check_seqs(env.hub, AH_AGENT, true, why, sizeof why), 0, "%s", why);
	stop_agent_cleanly();
}

/* A logger creates its CSV file with the header and appends rows later:
 * the rows are read as rows, not as a (bad) header. */
Test(agent_delivery, csv_rows_appended_after_header_arrive)
{
	char src[2048], csv[700], line[256], rec[512];
	struct ah_keys want = {0};

	snprintf(csv, sizeof csv, "%s/stack.csv", env.dir);
	cr_assert_eq(ah_write_file(csv, "ts,SO2\n"), 0);
	snprintf(src, sizeof src,
		 "[{\"type\":\"csv\",\"name\":\"cems\",\"path\":\"%s\",\"point\":\"stack-9\","
		 "\"columns\":{\"SO2\":\"so2\"}}]", csv);
	struct ah_cfg c = {.sources = src};
	cr_assert_eq(ah_env_start_agent(&env, &c), 0);
	cr_assert_eq(ah_wait_file_count(env.log, "source cems (csv) started", 1, WAIT_MS), 0);
	pht_sleep_ms(600); /* a few collect periods (200 ms) with only the header there */
	for (int i = 0; i < 50; i++) {
		snprintf(line, sizeof line, "2026-03-01T00:%02d:%02dZ,%.1f\n", i / 60, i % 60, 40 + i * 0.5);
		cr_assert_eq(ah_append_file(csv, line), 0);
		snprintf(rec, sizeof rec, "{\"ts\":\"2026-03-01T00:%02d:%02dZ\",\"point\":\"stack-9\","
			 "\"values\":{\"so2\":%.1f}}", i / 60, i % 60, 40 + i * 0.5);
		cr_assert_eq(ah_keys_add_line(&want, rec), 0);
	}
	int rc = ah_hub_wait_records(env.hub, AH_AGENT, 50, 10000);
	cr_expect_eq(rc, 0, "got %zu of 50 rows appended after the header (see %s)",
		     ah_hub_records(env.hub, AH_AGENT), env.log);
	cr_expect_eq(ah_file_count(env.log, "invalid record"), 0, "rows were refused (see %s)", env.log);
	if (!rc) {
		cr_assert_eq(ah_hub_wait_acked(env.hub, AH_AGENT, WAIT_MS), 0);
		cr_expect_eq(ah_hub_records_in_order(env.hub, AH_AGENT, &want, why, sizeof why), 0, "%s", why);
	}
	stop_agent_cleanly();
	ah_keys_free(&want);
}

/* Bad lines of several kinds among good ones: each is refused with its line
 * number in the log, counted in the status, and every good line arrives. */
Test(agent_delivery, malformed_lines_counted_logged_rest_published)
{
	static const char *const bad[] = {
		"{\"ts\":\"2026-01-01T00:00:00Z\",\"point\":\"stack-1\",\"values\":{\"so2\":1.0}", /* cut JSON */
		"not json at all",
		"{\"ts\":\"2026-01-01T00:00:01Z\",\"point\":\"stack-1\",\"values\":{\"no_such_metric\":1}}",
		"{\"ts\":\"2026-01-01T00:00:02Z\",\"point\":\"stack-1\",\"values\":{\"so2\":-5}}", /* below range */
		"{\"point\":\"stack-1\",\"values\":{\"so2\":1.0}}",                                /* no ts */
		"{\"ts\":\"2026-01-01T00:00:03Z\",\"point\":\"Stack 1\",\"values\":{\"so2\":1.0}}", /* bad id */
		"[1,2,3]",
		NULL, /* a line longer than PH_LINE_MAX (64 KiB): skipped whole */
	};
	const int nbad = (int)(sizeof bad / sizeof bad[0]);
	int bad_line[sizeof bad / sizeof bad[0]];
	char src[1024], line[1024], status[8192], val[64];
	struct ah_keys want = {0};
	int lineno = 0, good = 0;

	for (int i = 0, b = 0; i < 250; i++) {
		if (i % 25 == 5 && b < nbad) {
			if (bad[b]) {
				cr_assert_eq(ah_append_file(env.data, bad[b]), 0);
			} else {
				static char longline[70001];
				memset(longline, 'x', sizeof longline - 1);
				cr_assert_eq(ah_append_file(env.data, longline), 0);
			}
			cr_assert_eq(ah_append_file(env.data, "\n"), 0);
			bad_line[b++] = ++lineno;
		}
		ah_jsonl_line(i, line, sizeof line);
		cr_assert_eq(ah_keys_add_line(&want, line), 0);
		strcat(line, "\n");
		cr_assert_eq(ah_append_file(env.data, line), 0);
		lineno++;
		good++;
	}
	struct ah_cfg c = {.sources = ah_env_jsonl_source(&env, src, sizeof src), .status_interval_s = 5};
	cr_assert_eq(ah_env_start_agent(&env, &c), 0);

	cr_assert_eq(ah_hub_wait_records(env.hub, AH_AGENT, (size_t)good, WAIT_MS), 0, "got %zu of %d records",
		     ah_hub_records(env.hub, AH_AGENT), good);
	cr_assert_eq(ah_hub_wait_acked(env.hub, AH_AGENT, WAIT_MS), 0);
	cr_expect_eq(ah_hub_same_records(env.hub, AH_AGENT, &want, why, sizeof why), 0, "%s", why);
	for (int b = 0; b < nbad; b++) {
		char needle[64];
		snprintf(needle, sizeof needle, "line %d ", bad_line[b]);
		/* "invalid record at line N refused (…)": the number, then a space */
		cr_expect_gt(ah_file_count(env.log, needle), 0, "no log line names line %d (%s)", bad_line[b],
			     bad[b] ? bad[b] : "over-long line");
	}
	/* The count reaches the status (published every status_interval_s). */
	char want_rej[16];
	snprintf(want_rej, sizeof want_rej, "%d", nbad);
	int rc = ah_hub_wait_status(env.hub, AH_AGENT, "counters.rejected", want_rej, 12000);
	ah_hub_status(env.hub, AH_AGENT, status, sizeof status);
	cr_expect_eq(rc, 0, "status never showed counters.rejected = %d: %s", nbad, status);
	if (ah_json_get(status, "counters.records", val, sizeof val) == 0)
		cr_expect_eq(atoi(val), good, "counters.records %s, %d good lines", val, good);
	stop_agent_cleanly();
	ah_keys_free(&want);
}
