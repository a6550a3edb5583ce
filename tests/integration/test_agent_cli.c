/*
 * test_agent_cli.c — parkagent's command line: --help exits 0 and lists the
 * configuration keys; --check-config accepts a good config without side
 * effects, and refuses a bad one with a non-zero exit and a message naming
 * the JSON path of the problem. No broker needed.
 */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent_helpers.h"

static char dir[512], cfg[600], outbox[600], data[600], out[16384];

static void setup(void)
{
	cr_assert_not_null(ah_parkagent(), "PH_PARKAGENT is not set");
	cr_assert_eq(pht_tmpdir(dir, sizeof dir), 0);
	snprintf(cfg, sizeof cfg, "%s/agent.json", dir);
	snprintf(outbox, sizeof outbox, "%s/outbox.db", dir);
	snprintf(data, sizeof data, "%s/data.jsonl", dir);
}

static void teardown(void) { pht_rmtree(dir); }

TestSuite(agent_cli, .init = setup, .fini = teardown, .timeout = 30);

/* Runs parkagent with args; returns its exit code, output in out. */
static int run(const char *a1, const char *a2, const char *a3)
{
	const char *argv[] = {ah_parkagent(), a1, a2, a3, NULL};
	int code = -1;

	cr_assert_eq(pht_run(argv, 10000, out, sizeof out, &code), 0, "parkagent did not finish");
	return code;
}

/* Writes the config text under test. */
static void write_cfg(const char *text)
{
	cr_assert_eq(ah_write_file(cfg, text), 0);
}

static void good_cfg(void)
{
	char src[800];
	snprintf(src, sizeof src, "[{\"type\":\"jsonl\",\"path\":\"%s\"}]", data);
	struct ah_cfg c = {.uri = "tcp://127.0.0.1:1", .outbox = outbox, .sources = src};
	cr_assert_eq(ah_write_config(cfg, &c), 0);
}

/* Refused with a non-zero exit and every needle in the message. */
static void expect_refused(const char *needle1, const char *needle2)
{
	int code = run("--check-config", "--config", cfg);
	cr_expect_neq(code, 0, "bad config accepted: %s", out);
	cr_expect_not_null(strstr(out, needle1), "message does not name '%s': %s", needle1, out);
	if (needle2)
		cr_expect_not_null(strstr(out, needle2), "message does not name '%s': %s", needle2, out);
	cr_expect_neq(access(outbox, F_OK), 0, "--check-config created the outbox");
}

Test(agent_cli, help_exits_zero_and_lists_config_keys)
{
	cr_expect_eq(run("--help", NULL, NULL), 0);
	cr_expect_not_null(strstr(out, "Usage: parkagent"), "%s", out);
	cr_expect_not_null(strstr(out, "outbox.full_policy"), "--help lists no outbox keys");
	cr_expect_not_null(strstr(out, "type \"jsonl\""), "--help lists no sources");
}

Test(agent_cli, check_config_accepts_good_config_without_side_effects)
{
	good_cfg();
	int code = run("--check-config", "--config", cfg);
	cr_expect_eq(code, 0, "good config refused: %s", out);
	cr_expect_not_null(strstr(out, "configuration OK"), "%s", out);
	cr_expect_neq(access(outbox, F_OK), 0, "--check-config created the outbox");
}

Test(agent_cli, check_config_names_unknown_key)
{
	char text[2048];
	snprintf(text, sizeof text,
		 "{\"park\":\"p1\",\"ent\":\"e1\",\"agent\":\"gw-01\",\"mqtt\":{\"uris\":[\"tcp://127.0.0.1:1\"]},"
		 "\"outbox\":{\"path\":\"%s\",\"max_batchs\":10},\"sources\":[{\"type\":\"sim\"}]}", outbox);
	write_cfg(text);
	expect_refused("outbox.max_batchs", NULL);
}

Test(agent_cli, check_config_names_out_of_range_value)
{
	char text[2048];
	snprintf(text, sizeof text,
		 "{\"park\":\"p1\",\"ent\":\"e1\",\"agent\":\"gw-01\",\"mqtt\":{\"uris\":[\"tcp://127.0.0.1:1\"]},"
		 "\"batch\":{\"max_records\":5000},"
		 "\"outbox\":{\"path\":\"%s\"},\"sources\":[{\"type\":\"sim\"}]}", outbox);
	write_cfg(text);
	expect_refused("batch.max_records", NULL);
}

Test(agent_cli, check_config_names_wrong_type)
{
	char text[2048];
	snprintf(text, sizeof text,
		 "{\"park\":\"p1\",\"ent\":\"e1\",\"agent\":\"gw-01\","
		 "\"mqtt\":{\"uris\":[\"tcp://127.0.0.1:1\"],\"inflight\":\"many\"},"
		 "\"outbox\":{\"path\":\"%s\"},\"sources\":[{\"type\":\"sim\"}]}", outbox);
	write_cfg(text);
	expect_refused("mqtt.inflight", NULL);
}

Test(agent_cli, check_config_names_missing_required_key)
{
	write_cfg("{\"park\":\"p1\",\"ent\":\"e1\",\"agent\":\"gw-01\",\"mqtt\":{\"uris\":[\"tcp://127.0.0.1:1\"]},"
		  "\"sources\":[{\"type\":\"sim\"}]}");
	expect_refused("outbox: ", "required");
}

Test(agent_cli, check_config_names_bad_enum_value)
{
	char text[2048];
	snprintf(text, sizeof text,
		 "{\"park\":\"p1\",\"ent\":\"e1\",\"agent\":\"gw-01\",\"mqtt\":{\"uris\":[\"tcp://127.0.0.1:1\"]},"
		 "\"outbox\":{\"path\":\"%s\",\"full_policy\":\"drop_newest\"},\"sources\":[{\"type\":\"sim\"}]}",
		 outbox);
	write_cfg(text);
	expect_refused("outbox.full_policy", NULL);
}

Test(agent_cli, check_config_names_bad_id)
{
	char text[2048];
	snprintf(text, sizeof text,
		 "{\"park\":\"p1\",\"ent\":\"e1\",\"agent\":\"GW 01\",\"mqtt\":{\"uris\":[\"tcp://127.0.0.1:1\"]},"
		 "\"outbox\":{\"path\":\"%s\"},\"sources\":[{\"type\":\"sim\"}]}", outbox);
	write_cfg(text);
	expect_refused("agent: ", "GW 01");
}

Test(agent_cli, check_config_names_bad_uri)
{
	char text[2048];
	snprintf(text, sizeof text,
		 "{\"park\":\"p1\",\"ent\":\"e1\",\"agent\":\"gw-01\",\"mqtt\":{\"uris\":[\"http://127.0.0.1:1\"]},"
		 "\"outbox\":{\"path\":\"%s\"},\"sources\":[{\"type\":\"sim\"}]}", outbox);
	write_cfg(text);
	expect_refused("mqtt.uris[0]", NULL);
}

Test(agent_cli, check_config_names_unknown_source_type)
{
	char text[2048];
	snprintf(text, sizeof text,
		 "{\"park\":\"p1\",\"ent\":\"e1\",\"agent\":\"gw-01\",\"mqtt\":{\"uris\":[\"tcp://127.0.0.1:1\"]},"
		 "\"outbox\":{\"path\":\"%s\"},\"sources\":[{\"type\":\"sim\"},{\"type\":\"modbus-rtu\"}]}", outbox);
	write_cfg(text);
	expect_refused("sources[1].type", "modbus-rtu");
}

Test(agent_cli, check_config_names_unknown_source_key)
{
	char text[2048];
	snprintf(text, sizeof text,
		 "{\"park\":\"p1\",\"ent\":\"e1\",\"agent\":\"gw-01\",\"mqtt\":{\"uris\":[\"tcp://127.0.0.1:1\"]},"
		 "\"outbox\":{\"path\":\"%s\"},\"sources\":[{\"type\":\"jsonl\",\"pth\":\"/tmp/x\"}]}", outbox);
	write_cfg(text);
	expect_refused("sources[0]", "pth");
}

Test(agent_cli, check_config_names_csv_unknown_metric)
{
	char text[2048];
	snprintf(text, sizeof text,
		 "{\"park\":\"p1\",\"ent\":\"e1\",\"agent\":\"gw-01\",\"mqtt\":{\"uris\":[\"tcp://127.0.0.1:1\"]},"
		 "\"outbox\":{\"path\":\"%s\"},\"sources\":[{\"type\":\"csv\",\"path\":\"%s\",\"point\":\"stack-1\","
		 "\"columns\":{\"SO2\":\"sulphur\"}}]}", outbox, data);
	write_cfg(text);
	expect_refused("sources[0]", "columns.SO2");
}

Test(agent_cli, check_config_explains_invalid_json)
{
	write_cfg("{\"park\":\"p1\",\"ent\":\"e1\",}");
	expect_refused(cfg, NULL);
}

Test(agent_cli, check_config_explains_missing_file)
{
	snprintf(cfg, sizeof cfg, "%s/no-such.json", dir);
	expect_refused("no-such.json", NULL);
}

/* issue #18 item 5: every problem in one run, with hints and a non-zero
 * exit; the keys of several objects and several sources. */
Test(agent_cli, check_config_lists_every_problem_at_once)
{
	char text[2048];
	snprintf(text, sizeof text,
		 "{\"park\":\"p1\",\"ent\":\"e1\",\"agent\":\"gw-01\",\"log_levl\":\"info\","
		 "\"mqtt\":{\"uris\":[\"tcp://127.0.0.1:1\"],\"host\":\"127.0.0.1\"},"
		 "\"batch\":{\"max_records\":5000},"
		 "\"outbox\":{\"path\":\"%s\",\"full_policy\":\"drop_newest\"},"
		 "\"sources\":[{\"type\":\"sim\",\"rate\":\"fast\"},{\"type\":\"nosuch\"}]}", outbox);
	write_cfg(text);
	int code = run("--check-config", "--config", cfg);
	cr_expect_eq(code, 1, "exit code %d: %s", code, out);
	static const char *const want[] = {
		"log_levl: unknown key; did you mean 'log_level'?",
		"mqtt.host: unknown key; use mqtt.uris",
		"batch.max_records: 5000 is outside 1..1000",
		"outbox.full_policy",
		"sources[0].rate",
		"sources[1].type: unknown source type 'nosuch'",
		"configuration error: 6 problems",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		cr_expect_not_null(strstr(out, want[i]), "'%s' not listed: %s", want[i], out);
}

/* The files and folders the config names: an outbox in a missing folder,
 * a tailed file in a missing folder, an unreadable CA file. */
Test(agent_cli, check_config_checks_the_files_it_names)
{
	char src[800], tls[800];
	snprintf(src, sizeof src, "[{\"type\":\"nosuch\"},{\"type\":\"jsonl\",\"path\":\"%s/no-dir/data.jsonl\"}]", dir);
	snprintf(tls, sizeof tls, "{\"ca\":\"%s/no-such-ca.pem\"}", dir);
	char box[700];
	snprintf(box, sizeof box, "%s/no-outbox-dir/outbox.db", dir);
	struct ah_cfg c = {.uri = "ssl://127.0.0.1:1", .outbox = box, .sources = src, .tls = tls};
	cr_assert_eq(ah_write_config(cfg, &c), 0);
	int code = run("--check-config", "--config", cfg);
	cr_expect_eq(code, 1, "exit code %d: %s", code, out);
	cr_expect_not_null(strstr(out, "outbox.path"), "%s", out);
	cr_expect_not_null(strstr(out, "no-outbox-dir"), "%s", out);
	cr_expect_not_null(strstr(out, "sources[1].path"), "the source after a refused one: %s", out);
	cr_expect_not_null(strstr(out, "mqtt.tls.ca"), "%s", out);
	cr_expect_not_null(strstr(out, "configuration error: 4 problems"), "%s", out);
	/* the keys only: the unknown source type alone */
	code = run("--check-config-keys", "--config", cfg);
	cr_expect_eq(code, 1);
	cr_expect_not_null(strstr(out, "configuration error: 1 problem:"), "--check-config-keys looked at files: %s", out);
}

Test(agent_cli, help_shows_plain_numbers_and_arrays)
{
	cr_expect_eq(run("--help", NULL, NULL), 0);
	cr_expect_null(strstr(out, "e+0"), "an exponent in --help");
	cr_expect_null(strstr(out, "(default )"), "an empty default in --help");
	cr_expect_null(strstr(out, "reloadable"), "the agent reloads no key");
	const char *uris = strstr(out, "mqtt.uris");
	cr_assert_not_null(uris);
	const char *nl = strchr(uris, '\n'), *arr = strstr(uris, " array ");
	cr_expect(arr && nl && arr < nl, "mqtt.uris not labelled an array");
}

/* issue #18 item 5: a connect failure names the broker (a closed port on
 * loopback: refused at once). */
Test(agent_cli, connect_failure_names_the_broker_uri)
{
	char log[700];
	snprintf(log, sizeof log, "%s/agent.log", dir);
	good_cfg();
	const char *argv[] = {ah_parkagent(), "--config", cfg, NULL};
	struct pht_proc p = {0};
	cr_assert_eq(pht_proc_spawn(&p, argv, log), 0);
	int rc = ah_wait_file_count(log, "connect failed to tcp://127.0.0.1:1:", 1, 15000);
	pht_proc_kill(&p, SIGTERM);
	cr_expect_eq(pht_proc_wait(&p, 10000, NULL), 0, "the agent did not stop");
	cr_expect_eq(rc, 0, "no connect failure naming the URI in %s", log);
}

/* Problems at three levels, each object with one of its own keys wrong as
 * well: the root, mqtt and mqtt.tls below it, a source and its registers
 * below it. Every one is listed in one run (README "Checking a config"). */
Test(agent_cli, check_config_lists_problems_below_a_failed_object)
{
	char text[2048];
	snprintf(text, sizeof text,
		 "{\"park\":\"p1\",\"ent\":\"e1\",\"agent\":\"gw-01\",\"colour\":1,"
		 "\"mqtt\":{\"uris\":[\"tcp://127.0.0.1:1\"],\"keepalive_s\":\"often\",\"tls\":{\"ca\":3}},"
		 "\"outbox\":{\"path\":\"%s\"},"
		 "\"sources\":[{\"type\":\"modbus\",\"name\":\"plc\",\"host\":\"10.0.0.20\",\"port\":70000,"
		 "\"registers\":[{\"address\":100,\"type\":\"float64\",\"metric\":\"quench_out_temp\",\"point\":\"f-1\"}]}]}",
		 outbox);
	write_cfg(text);
	int code = run("--check-config", "--config", cfg);
	cr_expect_eq(code, 1, "exit code %d: %s", code, out);
	static const char *const want[] = {
		"colour: unknown key",                 /* the root */
		"mqtt.keepalive_s: must be a number",  /* mqtt's own key */
		"mqtt.tls.ca: must be a string",       /* below it */
		"sources[0].port: 70000 is outside",   /* the source's own key */
		"registers[0].type: 'float64'",        /* below it */
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		cr_expect_not_null(strstr(out, want[i]), "'%s' not listed: %s", want[i], out);
	cr_expect_not_null(strstr(out, "configuration error: 5 problems"), "%s", out);
}

/* --check-config of cfg: exit 1, every one of want listed, and total
 * problems in all (each listed once). */
static void expect_problems(const char *const *want, size_t nwant, int total)
{
	char count[64];
	int code = run("--check-config", "--config", cfg);
	cr_expect_eq(code, 1, "exit code %d: %s", code, out);
	for (size_t i = 0; i < nwant; i++)
		cr_expect_not_null(strstr(out, want[i]), "'%s' not listed: %s", want[i], out);
	snprintf(count, sizeof count, "configuration error: %d problems:", total);
	cr_expect_not_null(strstr(out, count), "not '%s': %s", count, out);
}

/* issue #18: a source's own check (its init) lists every bad entry of its
 * lists, not only the first: two HJ 212 loggers with a bad mn and a third
 * listed twice, two Modbus registers mapping one metric twice plus one with
 * a bad type, in two sources. Each is named by its path below the source. */
Test(agent_cli, check_config_lists_every_bad_entry_of_each_source)
{
	char text[4096];
	snprintf(text, sizeof text,
		 "{\"park\":\"p1\",\"ent\":\"e1\",\"agent\":\"gw-01\",\"mqtt\":{\"uris\":[\"tcp://127.0.0.1:1\"]},"
		 "\"outbox\":{\"path\":\"%s\"},\"sources\":["
		 "{\"type\":\"hj212\",\"port\":9212,\"loggers\":[{\"mn\":\"A;1\",\"point\":\"s-1\"},"
		 "{\"mn\":\"M2\",\"point\":\"s-2\"},{\"mn\":\"B=3\",\"point\":\"s-3\"},{\"mn\":\"M2\",\"point\":\"s-4\"}],"
		 "\"codes\":{\"a21026\":\"sulphur\",\"a21002\":\"nox\"}},"
		 "{\"type\":\"modbus\",\"host\":\"10.0.0.20\",\"registers\":["
		 "{\"address\":100,\"type\":\"float32\",\"metric\":\"quench_out_temp\",\"point\":\"f-1\"},"
		 "{\"address\":102,\"type\":\"float32\",\"metric\":\"quench_out_temp\",\"point\":\"f-1\"},"
		 "{\"address\":104,\"type\":\"float64\",\"metric\":\"furnace_temp\",\"point\":\"f-1\"},"
		 "{\"address\":106,\"metric\":\"nosuch\",\"point\":\"f-1\"}]}]}",
		 outbox);
	write_cfg(text);
	static const char *const want[] = {
		"sources[0].codes.a21026: unknown metric 'sulphur'",
		"sources[0].loggers[0].mn: ",
		"sources[0].loggers[2].mn: ",
		"sources[0].loggers[3].mn: 'M2' is listed twice (also loggers[1])",
		"sources[1].registers[1]: metric quench_out_temp of point f-1 is mapped twice (also registers[0])",
		"sources[1].registers[2].type: 'float64'",
		"sources[1].registers[3].metric: unknown metric 'nosuch'",
	};
	expect_problems(want, sizeof want / sizeof want[0], 7);
}

/* The simulator: a prefix too long for the point ids it makes and a rate
 * out of range, each named once (its init, which checks the same bounds
 * for a ctx filled another way, repeated the rate as "sim-0.rate_hz"). */
Test(agent_cli, check_config_lists_the_simulators_problems_once)
{
	char text[4096], prefix[61];
	memset(prefix, 'a', 60);
	prefix[60] = 0;
	snprintf(text, sizeof text,
		 "{\"park\":\"p1\",\"ent\":\"e1\",\"agent\":\"gw-01\",\"mqtt\":{\"uris\":[\"tcp://127.0.0.1:1\"]},"
		 "\"outbox\":{\"path\":\"%s\"},\"sources\":[{\"type\":\"sim\",\"rate_hz\":0,\"prefix\":\"%s\"}]}",
		 outbox, prefix);
	write_cfg(text);
	static const char *const want[] = {
		"sources[0].rate_hz: 0 is outside 0.01..10000",
		"sources[0].prefix: longer than 53 characters",
	};
	expect_problems(want, sizeof want / sizeof want[0], 2);
}

/* The same for a CSV source's column maps, and its keys that do not hang
 * on a list: every one in one run. */
Test(agent_cli, check_config_lists_every_bad_csv_column)
{
	char text[4096];
	snprintf(text, sizeof text,
		 "{\"park\":\"p1\",\"ent\":\"e1\",\"agent\":\"gw-01\",\"mqtt\":{\"uris\":[\"tcp://127.0.0.1:1\"]},"
		 "\"outbox\":{\"path\":\"%s\"},\"sources\":[{\"type\":\"sim\"},"
		 "{\"type\":\"csv\",\"path\":\"%s\",\"header\":false,\"ts_column\":\"1\","
		 "\"columns\":{\"2\":\"so2\",\"x\":\"nox\",\"4\":\"zzz\",\"5\":\"furnace_temp\"},\"flag_columns\":{\"6\":7}}]}",
		 outbox, data);
	write_cfg(text);
	static const char *const want[] = {
		"sources[1].columns.x: without a header",
		"sources[1].columns.4: unknown metric 'zzz'",
		"sources[1].columns.5: 'furnace_temp' is a process metric, the others are emission",
		"sources[1].flag_columns.6: must name a metric",
		"sources[1]: give exactly one of point",
	};
	expect_problems(want, sizeof want / sizeof want[0], 5);
}

/* At start a bad source list still stops the agent, and the error names
 * the first problem by its path; a good config with the same sources
 * passes the check. */
Test(agent_cli, bad_source_list_stops_start_and_good_one_passes)
{
	char text[4096];
	const char *fmt =
		"{\"park\":\"p1\",\"ent\":\"e1\",\"agent\":\"gw-01\",\"mqtt\":{\"uris\":[\"tcp://127.0.0.1:1\"]},"
		"\"outbox\":{\"path\":\"%s\"},\"sources\":["
		"{\"type\":\"hj212\",\"port\":9212,\"loggers\":[{\"mn\":\"M1\",\"point\":\"s-1\"},{\"mn\":\"%s\",\"point\":\"s-2\"}]},"
		"{\"type\":\"modbus\",\"host\":\"127.0.0.1\",\"port\":1,\"registers\":["
		"{\"address\":100,\"type\":\"float32\",\"metric\":\"quench_out_temp\",\"point\":\"f-1\"},"
		"{\"address\":102,\"type\":\"%s\",\"metric\":\"furnace_temp\",\"point\":\"f-1\"}]},"
		"{\"type\":\"csv\",\"path\":\"%s\",\"point\":\"stack-1\",\"columns\":{\"SO2\":\"so2\",\"NOx\":\"nox\"}}]}";
	snprintf(text, sizeof text, fmt, outbox, "M;2", "float64", data);
	write_cfg(text);
	const char *argv[] = {ah_parkagent(), "--config", cfg, NULL};
	int code = -1;
	cr_assert_eq(pht_run(argv, 10000, out, sizeof out, &code), 0, "parkagent did not finish");
	cr_expect_eq(code, 1, "a bad config started: %s", out);
	cr_expect_not_null(strstr(out, "configuration error:"), "%s", out);
	cr_expect_not_null(strstr(out, "sources[0].loggers[1].mn: "), "the first problem by its path: %s", out);
	cr_expect_neq(access(outbox, F_OK), 0, "a refused config created the outbox");
	snprintf(text, sizeof text, fmt, outbox, "M2", "uint16", data);
	write_cfg(text);
	code = run("--check-config", "--config", cfg);
	cr_expect_eq(code, 0, "good config refused: %s", out);
	cr_expect_not_null(strstr(out, "configuration OK"), "%s", out);
	cr_expect_not_null(strstr(out, "3 sources"), "%s", out);
}
