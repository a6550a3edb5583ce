/*
 * test_hub_reload.c — SIGHUP applies every key marked reloadable (issue #17
 * item 6): with a real hub and broker, the config file gets a changed
 * reloadable key (db.max_size_mb, log_level) and a changed key that needs a
 * restart (ingest.max_future_s); after SIGHUP the log names each applied
 * change and warns about the other, and the effects show: the writer caps
 * the database, debug lines appear. A second SIGHUP with the same file
 * applies nothing again and still names the key waiting for a restart.
 *
 * Bounded waits only; no assertion on time.
 */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub_helpers.h"

#define WAIT_MS 20000

static struct hh_env env;

static void setup(void)
{
	cr_assert_not_null(hh_parkhub(), "PH_PARKHUB is not set");
	struct hh_hub_opts o = {.top_extra = "\"log_level\": \"info\""};
	cr_assert_eq(hh_setup(&env, &o), 0);
}

static void teardown(void) { hh_teardown(&env); }

TestSuite(hub_reload, .init = setup, .fini = teardown, .timeout = 120);

static int count(const char *needle)
{
	char *text = hh_slurp(env.hub_log);
	int n = 0;
	for (const char *p = text; p && (p = strstr(p, needle)); p += strlen(needle))
		n++;
	free(text);
	return n;
}

/* Waits until the log holds needle at least n times (bounded). */
static int wait_count(const char *needle, int n)
{
	for (int waited = 0; waited < WAIT_MS; waited += 100) {
		if (count(needle) >= n)
			return 0;
		pht_sleep_ms(100);
	}
	return -1;
}

/* The config file as hh_write_hub_config writes it, with max_size_mb added
 * to the db object. */
static void write_changed_config(void)
{
	env.opts.top_extra = "\"log_level\": \"debug\"";
	env.opts.max_future_s = 60;
	cr_assert_eq(hh_write_hub_config(&env), 0);
	char *t = hh_slurp(env.hub_cfg);
	cr_assert_not_null(t);
	const char *at = strstr(t, "\"min_free_mb\": 0");
	cr_assert_not_null(at, "template changed: %s", t);
	char text[16384];
	size_t head = (size_t)(at - t) + strlen("\"min_free_mb\": 0");
	snprintf(text, sizeof text, "%.*s, \"max_size_mb\": 4096%s", (int)head, t, t + head);
	free(t);
	cr_assert_eq(hh_write_file(env.hub_cfg, text), 0);
}

Test(hub_reload, sighup_applies_reloadable_keys_and_names_the_rest)
{
	cr_assert_eq(hh_hub_start(&env, WAIT_MS), 0, "hub start (log %s)", env.hub_log);
	cr_expect_eq(count(" DEBUG "), 0, "debug lines at log_level info");
	write_changed_config();

	cr_assert_eq(pht_proc_kill(&env.hub, SIGHUP), 0);
	cr_assert_eq(wait_count("SIGHUP: changed keys that need a restart, not applied: ingest.max_future_s", 1), 0,
		     "no warning naming the restart key (log %s)", env.hub_log);
	cr_expect_eq(count("SIGHUP: db.max_size_mb 0 → 4096 (applied)"), 1, "log %s", env.hub_log);
	cr_expect_eq(count("SIGHUP: log_level info → debug (applied)"), 1, "log %s", env.hub_log);
	cr_expect_eq(count("ingest.max_future_s") - count("not applied: ingest.max_future_s"), 0,
		     "the restart key was applied (log %s)", env.hub_log);
	/* the effects: the writer takes the cap, the log level is debug */
	cr_expect_eq(wait_count("database capped at 4096 MB", 1), 0, "the cap was not applied (log %s)", env.hub_log);

	/* the same file again: nothing applied twice, the restart key named
	 * again, and at log_level debug the unchanged reloadable keys */
	cr_assert_eq(pht_proc_kill(&env.hub, SIGHUP), 0);
	cr_assert_eq(wait_count("not applied: ingest.max_future_s", 2), 0, "log %s", env.hub_log);
	cr_expect_eq(count("(applied)"), 2, "a key applied twice (log %s)", env.hub_log);
	cr_expect_eq(count("DEBUG hub: SIGHUP: db.max_size_mb unchanged"), 1, "log_level debug not in force (log %s)",
		     env.hub_log);

	/* a broken file: the running config stays */
	cr_assert_eq(hh_write_file(env.hub_cfg, "{\"hub_id\": "), 0);
	cr_assert_eq(pht_proc_kill(&env.hub, SIGHUP), 0);
	cr_assert_eq(wait_count("SIGHUP: configuration not reloaded, keeping the running one", 1), 0, "log %s",
		     env.hub_log);
	cr_expect(pht_proc_alive(&env.hub), "the hub died of a broken config on SIGHUP");
	int status = -1;
	cr_expect_eq(hh_hub_stop(&env, WAIT_MS, &status), 0);
	char why[256];
	cr_expect_eq(hh_log_clean(env.hub_log, why, sizeof why), 0, "%s", why);
}
