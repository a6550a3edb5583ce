/*
 * test_hub_cli.c — parkhub's command line: --check-config explains what is
 * wrong with a configuration by its key path and exits non-zero, accepts a
 * good one, and --help lists every configuration key (hub_helpers.h for the
 * binary's path; no broker needed).
 *
 * One behaviour per Test; every run is bounded (pht_run).
 */
#include <criterion/criterion.h>

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
