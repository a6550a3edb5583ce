/*
 * test_hub_cli.c — parkhub's command line: --check-config explains what is
 * wrong with a configuration by its key path and exits non-zero, accepts a
 * good one, and --help lists every configuration key (hub_helpers.h for the
 * binary's path; no broker needed).
 *
 * One behaviour per Test; every run is bounded (pht_run).
 */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hub_helpers.h"

static char dir[512];
static char out[65536];

static void setup(void)
{
	cr_assert_not_null(hh_parkhub(), "PH_PARKHUB is not set");
	cr_assert_eq(pht_tmpdir(dir, sizeof dir), 0);
}

static void teardown(void)
{
	if (dir[0])
		pht_rmtree(dir);
	dir[0] = '\0';
}

TestSuite(hub, .init = setup, .fini = teardown, .timeout = 60);

/* A valid config with `replace` substituted for `from` (both may be NULL). */
static void write_config(const char *path, const char *from, const char *replace)
{
	char text[4096], db[700];
	snprintf(db, sizeof db, "%s/hub.db", dir);
	snprintf(text, sizeof text,
		 "{\n"
		 "  \"hub_id\": \"hub-test\",\n"
		 "  \"mqtt\": {\"uris\": [\"tcp://127.0.0.1:1\"]},\n"
		 "  \"db\": {\"path\": \"%s\", \"retention_days\": 90},\n"
		 "  \"ingest\": {\"max_future_s\": 300},\n"
		 "  \"parks\": [{\"id\": \"p1\", \"tz\": \"Asia/Shanghai\", \"enterprises\": [\n"
		 "    {\"id\": \"ent-a\", \"sector\": \"cu\", \"class\": \"existing\", \"agents\": [\"gw-a\"]},\n"
		 "    {\"id\": \"ent-b\", \"sector\": \"cu\", \"class\": \"new\", \"agents\": [\"gw-b\"]}\n"
		 "  ]}]\n"
		 "}\n",
		 db);
	if (from) {
		char *p = strstr(text, from);
		cr_assert_not_null(p, "'%s' not in the template", from);
		char tail[4096];
		snprintf(tail, sizeof tail, "%s", p + strlen(from));
		snprintf(p, sizeof text - (size_t)(p - text), "%s%s", replace, tail);
	}
	cr_assert_eq(hh_write_file(path, text), 0);
}

static int check_config(const char *path, int *code)
{
	const char *argv[] = {hh_parkhub(), "--check-config", "--config", path, NULL};
	return pht_run(argv, 20000, out, sizeof out, code);
}

Test(hub, hub_check_config_explains_errors)
{
	static const struct {
		const char *from, *to, *path;
	} bad[] = {
		{"\"sector\": \"cu\", \"class\": \"new\"", "\"sector\": \"steel\", \"class\": \"new\"",
		 "parks[0].enterprises[1].sector"},
		{"\"max_future_s\": 300", "\"max_future_s\": -5", "ingest.max_future_s"},
		{"\"retention_days\": 90", "\"retention_days\": 90, \"paht\": 1", "db.paht"},
		{"\"agents\": [\"gw-b\"]", "\"agents\": [\"gw-b\", \"gw-b\"]", "parks[0].enterprises[1].agents"},
		{"\"hub_id\": \"hub-test\"", "\"hub_id\": \"Hub Test\"", "hub_id"},
		{"\"tz\": \"Asia/Shanghai\"", "\"tz\": 8", "parks[0].tz"},
		{"\"id\": \"ent-a\"", "\"id\": \"alerts\"", "parks[0].enterprises[0].id"},
		{"\"uris\": [\"tcp://127.0.0.1:1\"]", "\"uris\": []", "mqtt.uris"},
	};
	char path[700];
	int code = -1;

	snprintf(path, sizeof path, "%s/hub.json", dir);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		write_config(path, bad[i].from, bad[i].to);
		cr_assert_eq(check_config(path, &code), 0, "run");
		cr_expect_neq(code, 0, "case %zu (%s): exit code 0 for a bad config; output: %s", i, bad[i].path, out);
		cr_expect(strstr(out, bad[i].path) != NULL, "case %zu: the message does not name %s: %s", i, bad[i].path,
			  out);
		cr_expect(strstr(out, path) != NULL, "case %zu: the message does not name the file: %s", i, out);
	}
	/* not JSON at all */
	cr_assert_eq(hh_write_file(path, "{\"hub_id\": \"h\",\n  \"mqtt\": {\n"), 0);
	cr_assert_eq(check_config(path, &code), 0);
	cr_expect_neq(code, 0, "exit code 0 for broken JSON: %s", out);
	cr_expect(strstr(out, path) != NULL, "the message does not name the file: %s", out);
	/* a missing file */
	char missing[720];
	snprintf(missing, sizeof missing, "%s/nope.json", dir);
	cr_assert_eq(check_config(missing, &code), 0);
	cr_expect_neq(code, 0, "exit code 0 for a missing file: %s", out);
	/* and a good one */
	write_config(path, NULL, NULL);
	cr_assert_eq(check_config(path, &code), 0);
	cr_expect_eq(code, 0, "a good config: %s", out);
	cr_expect(strstr(out, "configuration OK") != NULL, "%s", out);
	char db[700];
	snprintf(db, sizeof db, "%s/hub.db", dir);
	cr_expect(access(db, F_OK) != 0, "--check-config created the database");
}

/* hub_config.h: "Loading checks ... that no agent id is claimed twice in a
 * park": one gateway listed under two enterprises could publish as either. */
/* An agent is identified by (park, enterprise, agent): "gw-a" may name a
 * gateway at each of two enterprises (the topic carries the enterprise, and
 * the broker's ACL and the hub's identity check keep them apart), but not
 * twice within one enterprise. */
Test(hub, hub_check_config_agent_ids_are_per_enterprise)
{
	char path[700];
	int code = -1;

	snprintf(path, sizeof path, "%s/hub.json", dir);
	write_config(path, "\"agents\": [\"gw-b\"]", "\"agents\": [\"gw-a\"]");
	cr_assert_eq(check_config(path, &code), 0, "run");
	cr_expect_eq(code, 0, "gw-a at ent-a and at ent-b is refused: %s", out);
	write_config(path, "\"agents\": [\"gw-b\"]", "\"agents\": [\"gw-b\", \"gw-b\"]");
	cr_assert_eq(check_config(path, &code), 0, "run");
	cr_expect_neq(code, 0, "gw-b listed twice in one enterprise is accepted: %s", out);
	cr_expect(strstr(out, "agents") != NULL, "the message does not name the key: %s", out);
}

Test(hub, hub_help)
{
	const char *argv[] = {hh_parkhub(), "--help", NULL};
	static const char *const keys[] = {"--config", "--check-config", "hub_id", "mqtt.uris", "mqtt.keepalive_s",
					   "db.path", "db.retention_days", "ingest.max_future_s", "ingest.max_age_days",
					   "ingest.queue_batches", "ingest.group_max", "parks[].id", "parks[].tz",
					   "parks[].enterprises[].id", "parks[].enterprises[].sector",
					   "parks[].enterprises[].agents", "parks[].enterprises[].expected_interval_s"};
	int code = -1;

	cr_assert_eq(pht_run(argv, 20000, out, sizeof out, &code), 0);
	cr_expect_eq(code, 0, "--help exit code");
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		cr_expect(strstr(out, keys[i]) != NULL, "--help does not list %s", keys[i]);
	const char *bad[] = {hh_parkhub(), "--no-such-option", NULL};
	cr_assert_eq(pht_run(bad, 20000, out, sizeof out, &code), 0);
	cr_expect_neq(code, 0, "an unknown option exits 0");
}

/* ---- issue #18 item 5: every problem in one run, files and folders ---- */

static int count_lines_with(const char *text, const char *needle)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Keys, an unknown key with a hint and a database in a missing folder, all
 * in one run, with a non-zero exit. */
Test(hub, hub_check_config_lists_every_problem_at_once)
{
	char path[700], text[4096], bad_db[700];
	int code = -1;

	snprintf(path, sizeof path, "%s/hub.json", dir);
	snprintf(bad_db, sizeof bad_db, "%s/no-such-folder/hub.db", dir);
	snprintf(text, sizeof text,
		 "{\"hub_id\": \"hub-test\",\n"
		 " \"mqtt\": {\"host\": \"127.0.0.1\", \"port\": 1883, \"uris\": [\"tcp://127.0.0.1:1\"]},\n"
		 " \"db\": {\"path\": \"%s\", \"retention_days\": 0},\n"
		 " \"ingest\": {\"max_future_s\": -5},\n"
		 " \"parks\": [{\"id\": \"p1\", \"tz\": \"Asia/Shanghai\", \"enterprises\": [\n"
		 "   {\"id\": \"ent-a\", \"sector\": \"steel\", \"class\": \"existing\", \"agents\": [\"gw-a\"]},\n"
		 "   {\"id\": \"ent-b\", \"sector\": \"cu\", \"class\": \"new\", \"agents\": [\"gw-b\", \"gw-b\"]}]}]}\n",
		 bad_db);
	cr_assert_eq(hh_write_file(path, text), 0);
	cr_assert_eq(check_config(path, &code), 0, "run");
	cr_expect_eq(code, 1, "exit code %d: %s", code, out);
	static const char *const want[] = {
		"mqtt.host: unknown key; use mqtt.uris, e.g. [\"tcp://127.0.0.1:1883\"]",
		"mqtt.port: unknown key; use mqtt.uris",
		"db.retention_days: 0 is outside 1..3650",
		"ingest.max_future_s: -5 is outside 0..86400",
		"parks[0].enterprises[0].sector",
		"parks[0].enterprises[1].agents",
		"db.path",
		"no-such-folder",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		cr_expect(strstr(out, want[i]) != NULL, "'%s' not listed: %s", want[i], out);
	cr_expect(strstr(out, "configuration error: 7 problems") != NULL, "%s", out);
	cr_expect(strstr(out, path) != NULL, "the file is not named: %s", out);
	/* the keys only: the folder is not looked at */
	const char *keys_only[] = {hh_parkhub(), "--check-config-keys", "--config", path, NULL};
	cr_assert_eq(pht_run(keys_only, 20000, out, sizeof out, &code), 0);
	cr_expect_eq(code, 1);
	cr_expect(strstr(out, "configuration error: 6 problems") != NULL, "%s", out);
	cr_expect(strstr(out, "no-such-folder") == NULL, "--check-config-keys looked at files: %s", out);
}

/* Problems at three levels, each level's object with a problem of its own
 * keys too: the root, a park, an enterprise (and a date inside it), the
 * http object and one of its tokens, mqtt and mqtt.tls, and two bad
 * entries in one array and in one map. Every one is listed by its path in
 * one run: a failed key of an object does not hide what hangs below it,
 * nor a bad entry the next one (README "Checking a config"). */
Test(hub, hub_check_config_lists_problems_below_a_failed_object)
{
	char path[700], text[4096], db[700];
	int code = -1;

	snprintf(path, sizeof path, "%s/hub.json", dir);
	snprintf(db, sizeof db, "%s/hub.db", dir);
	snprintf(text, sizeof text,
		 "{\"hub_id\": \"hub-test\", \"colour\": 1,\n"
		 " \"mqtt\": {\"keepalive_s\": \"often\", \"uris\": [\"tcp://127.0.0.1:1\"],\n"
		 "          \"tls\": {\"ca\": 5}},\n"
		 " \"db\": {\"path\": \"%s\"},\n"
		 " \"http\": {\"port\": 0, \"tokens\": [{\"name\": \"t\", \"sha256\": \"xyz\", \"role\": \"boss\"}]},\n"
		 " \"parks\": [{\"id\": \"p1\", \"lang\": \"fr\", \"enterprises\": [\n"
		 "   {\"id\": \"ent-a\", \"sector\": \"steel\", \"class\": \"existing\", \"agents\": [\"gw-a\", \"gw-a\", \"Bad!\"],\n"
		 "    \"monitoring_since\": \"2026-13-01\",\n"
		 "    \"point_media\": {\"stack-1\": {\"medium\": \"lava\"}, \"outlet-1\": {\"medium\": \"water\"}}}]}]}\n",
		 db);
	cr_assert_eq(hh_write_file(path, text), 0);
	cr_assert_eq(check_config(path, &code), 0, "run");
	cr_expect_eq(code, 1, "exit code %d: %s", code, out);
	static const char *const want[] = {
		"colour: unknown key",                                  /* level 1: the root */
		"mqtt.keepalive_s: must be a number",                   /* level 2: mqtt's own key */
		"mqtt.tls.ca: must be a string",                        /* level 3: below it */
		"http.port: 0 is outside",                              /* level 2: http's own key */
		"http.tokens[0].role: 'boss' is not one of",            /* level 3: a token's own key */
		"parks[0].lang: 'fr' is not one of",                    /* level 2: the park's own key */
		"parks[0].enterprises[0].sector: 'steel' is not one of", /* level 3: the enterprise's own key */
		"parks[0].enterprises[0].monitoring_since: '2026-13-01' is not a date",
		"parks[0].enterprises[0].point_media.stack-1.medium",   /* level 4 */
		"parks[0].enterprises[0].agents: 'gw-a' is listed twice",
		"parks[0].enterprises[0].agents[2]: must be an id",          /* the next entry of the same array */
		"parks[0].enterprises[0].point_media.outlet-1.discharge",    /* the next entry of the same map */
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		cr_expect(strstr(out, want[i]) != NULL, "'%s' not listed: %s", want[i], out);
	cr_expect(strstr(out, "configuration error: 12 problems") != NULL, "%s", out);
}

/* Every bad entry of a park's materials and of an enterprise's
 * toolkit_class is listed, not only the first (a duplicate named against
 * the entry it repeats, by its place in the file). */
Test(hub, hub_check_config_lists_every_bad_material_and_class)
{
	char path[700], text[4096], db[700];
	int code = -1;

	snprintf(path, sizeof path, "%s/hub.json", dir);
	snprintf(db, sizeof db, "%s/hub.db", dir);
	snprintf(text, sizeof text,
		 "{\"hub_id\": \"hub-test\", \"mqtt\": {\"uris\": [\"tcp://127.0.0.1:1\"]}, \"db\": {\"path\": \"%s\"},\n"
		 " \"parks\": [{\"id\": \"p1\", \"tz\": \"Asia/Shanghai\",\n"
		 "   \"materials\": [{\"code\": \"scrap_a\", \"role\": \"feed\"}, {\"code\": \"X\", \"role\": \"feed\"},\n"
		 "                 {\"code\": \"scrap_a\", \"role\": \"residue\"}, {\"code\": \"slag_b\", \"role\": \"lava\"}],\n"
		 "   \"enterprises\": [{\"id\": \"ent-a\", \"sector\": \"cu\", \"class\": \"existing\", \"agents\": [\"gw-a\"],\n"
		 "    \"toolkit_class\": [{\"class\": 9, \"since\": \"2025-01-01\"}, {\"class\": 2, \"since\": \"2025-03-01\"},\n"
		 "                      {\"class\": 3, \"since\": \"2025-02-01\"}, {\"class\": 3}]}]}]}\n",
		 db);
	cr_assert_eq(hh_write_file(path, text), 0);
	cr_assert_eq(check_config(path, &code), 0, "run");
	cr_expect_eq(code, 1, "exit code %d: %s", code, out);
	static const char *const want[] = {
		"parks[0].materials[1].code: 'X' is not an id",
		"parks[0].materials[2].code: 'scrap_a' is already declared at parks[0].materials[0]",
		"parks[0].materials[3].role: 'lava' is not one of",
		"parks[0].enterprises[0].toolkit_class[0]: needs exactly",
		"parks[0].enterprises[0].toolkit_class[2]: dates must increase",
		"parks[0].enterprises[0].toolkit_class[3]: needs exactly",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		cr_expect(strstr(out, want[i]) != NULL, "'%s' not listed: %s", want[i], out);
	cr_expect(strstr(out, "configuration error: 6 problems") != NULL, "%s", out);
}

/* One file problem per case: each fails --check-config (ExecStartPre) and
 * names its key. */
Test(hub, hub_check_config_checks_the_files_it_names)
{
	char path[700], rules[700], bad_json[700], bad_rule[700], repl[1400];
	int code = -1;

	snprintf(path, sizeof path, "%s/hub.json", dir);
	snprintf(rules, sizeof rules, "%s/rules.json", dir);
	snprintf(bad_json, sizeof bad_json, "%s/broken-rules.json", dir);
	snprintf(bad_rule, sizeof bad_rule, "%s/bad-rules.json", dir);
	cr_assert_eq(hh_write_file(bad_json, "{\"v\": 1, \"rules\": [\n"), 0);
	cr_assert_eq(hh_write_file(bad_rule,
				   "{\"v\": 1, \"park\": \"p1\", \"rules\": [{\"id\": \"r1\", \"severity\": \"major\","
				   " \"scope\": {\"point\": \"stack-1\", \"metric\": \"no_such_metric\"},"
				   " \"threshold\": {\"value\": \"instant\", \"op\": \">\", \"limit\": 1}}]}\n"),
		     0);
	const struct {
		const char *from, *fmt, *arg, *key, *what;
	} cases[] = {
		{"\"tz\": \"Asia/Shanghai\"", "\"tz\": \"Asia/Shanghai\", \"rules_file\": \"%s\"", rules,
		 "parks[0].rules_file", "No such file"},
		{"\"tz\": \"Asia/Shanghai\"", "\"tz\": \"Asia/Shanghai\", \"rules_file\": \"%s\"", bad_json,
		 "parks[0].rules_file", "broken-rules.json"},
		{"\"tz\": \"Asia/Shanghai\"", "\"tz\": \"Asia/Shanghai\", \"rules_file\": \"%s\"", bad_rule,
		 "parks[0].rules_file", "no_such_metric"},
		{"\"uris\": [\"tcp://127.0.0.1:1\"]", "\"uris\": [\"ssl://127.0.0.1:1\"], \"tls\": {\"ca\": \"%s\"}",
		 "/nonexistent/ca.pem", "mqtt.tls.ca", "cannot be read"},
		{"\"retention_days\": 90", "\"retention_days\": 90, \"path\": \"%s\"", "/nonexistent/dir/hub.db", "db.path",
		 "folder that does not exist"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(repl, sizeof repl, cases[i].fmt, cases[i].arg);
		if (strcmp(cases[i].key, "db.path") == 0) {
			/* the template has its own path: replace the whole db object */
			char db[800];
			snprintf(db, sizeof db, "\"db\": {\"path\": \"%s\"}", cases[i].arg);
			write_config(path, NULL, NULL);
			char *t = hh_slurp(path);
			cr_assert_not_null(t);
			char *s = strstr(t, "\"db\": {"), *e = s ? strchr(s, '}') : NULL;
			cr_assert(s && e);
			char text[4096];
			snprintf(text, sizeof text, "%.*s%s%s", (int)(s - t), t, db, e + 1);
			free(t);
			cr_assert_eq(hh_write_file(path, text), 0);
		} else {
			write_config(path, cases[i].from, repl);
		}
		cr_assert_eq(check_config(path, &code), 0, "run");
		cr_expect_eq(code, 1, "case %zu (%s): exit code %d: %s", i, cases[i].key, code, out);
		cr_expect(strstr(out, cases[i].key) != NULL, "case %zu: %s not named: %s", i, cases[i].key, out);
		cr_expect(strstr(out, cases[i].what) != NULL, "case %zu: '%s' not said: %s", i, cases[i].what, out);
		cr_expect_eq(count_lines_with(out, "\n  "), 1, "case %zu: one problem expected: %s", i, out);
	}
	/* a rules file that loads and passes the rules checker is fine */
	cr_assert_eq(hh_write_file(rules, "{\"v\": 1, \"park\": \"p1\", \"rules\": []}\n"), 0);
	snprintf(repl, sizeof repl, "\"tz\": \"Asia/Shanghai\", \"rules_file\": \"%s\"", rules);
	write_config(path, "\"tz\": \"Asia/Shanghai\"", repl);
	cr_assert_eq(check_config(path, &code), 0, "run");
	cr_expect_eq(code, 0, "a good rules file refused: %s", out);
}

/* issue #18 item 5: types, ranges and defaults in plain numbers; #17 item
 * 6: the reloadable keys marked. */
Test(hub, hub_help_plain_numbers_and_reload_marks)
{
	const char *argv[] = {hh_parkhub(), "--help", NULL};
	int code = -1;

	cr_assert_eq(pht_run(argv, 20000, out, sizeof out, &code), 0);
	cr_expect_eq(code, 0);
	cr_expect(strstr(out, "e+0") == NULL, "an exponent in --help");
	cr_expect(strstr(out, "(default )") == NULL, "an empty default in --help");
	cr_expect(strstr(out, "100..3600000") != NULL, "mqtt.reconnect_max_ms range");
	const char *uris = strstr(out, "mqtt.uris");
	cr_assert_not_null(uris);
	cr_expect(strncmp(uris + strlen("mqtt.uris"), "                    array", 25) == 0, "mqtt.uris not an array: %.80s",
		  uris);
	static const char *const reloadable[] = {"db.max_size_mb", "log_level"};
	for (size_t i = 0; i < 2; i++) {
		const char *l = strstr(out, reloadable[i]);
		cr_assert_not_null(l, "%s", reloadable[i]);
		const char *nl = strchr(l, '\n'), *mark = strstr(l, "[reloadable: SIGHUP]");
		cr_expect(mark && nl && mark < nl, "%s not marked reloadable", reloadable[i]);
	}
	const char *keys = strstr(out, "Configuration keys:");
	cr_assert_not_null(keys);
	cr_expect_eq(count_lines_with(keys, "[reloadable: SIGHUP]"), 2, "only 2 reloadable keys");
}

/* issue #18 item 5: a connect failure names the broker (the template's
 * tcp://127.0.0.1:1, a closed port: refused at once). */
Test(hub, hub_connect_failure_names_the_broker_uri)
{
	char path[700], log[700];
	snprintf(path, sizeof path, "%s/hub.json", dir);
	snprintf(log, sizeof log, "%s/hub.log", dir);
	write_config(path, NULL, NULL);
	const char *argv[] = {hh_parkhub(), "--config", path, NULL};
	struct pht_proc p = {0};
	cr_assert_eq(pht_proc_spawn(&p, argv, log), 0);
	int found = 0;
	for (int waited = 0; waited < 15000 && !found; waited += 100) {
		char *text = hh_slurp(log);
		found = text && strstr(text, "connect failed to tcp://127.0.0.1:1:") != NULL;
		free(text);
		if (!found)
			pht_sleep_ms(100);
	}
	pht_proc_kill(&p, SIGTERM);
	cr_expect_eq(pht_proc_wait(&p, 10000, NULL), 0, "the hub did not stop");
	cr_expect(found, "no connect failure naming the URI in %s", log);
}
