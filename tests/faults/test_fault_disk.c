/*
 * test_fault_disk.c — the hub's disk full: a simulated smelter streams at
 * 2000 records/s until the database cannot grow, the hub stops acking
 * (nothing is committed, the last ack stays where it was, the agent keeps
 * everything in its outbox), says so in its log ("database full
 * (SQLITE_FULL ..."), retries, and resumes once there is room again,
 * without a restart; at the end nothing accepted is lost or doubled
 * (fault_helpers.h) and the rollups equal their recomputation.
 *
 *   db_cap_full_then_sighup_raises_it   the database capped with
 *       db.max_size_mb (SQLite max_page_count on the hub's write
 *       connection: works without privileges); room returns when the cap
 *       is removed from the config and the hub gets SIGHUP.
 *   tmpfs_full_then_remounted_larger   the database on a small tmpfs (a
 *       real ENOSPC); room returns when the tmpfs is remounted larger.
 *       Needs mount(2) (root in a sandbox that allows it); skipped
 *       otherwise, the first case covers the hub's side.
 *
 * Bounded waits only; no assertion on time.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fault_helpers.h"

#define RATE 1000
#define TICKS 30000 /* 30 s of data: the database fills well before the end */
#define WAIT_MS 120000

static struct hh_env env;
static struct fh_ref ref;
static char why[2048];
static char mnt[512]; /* the tmpfs, when mounted */

static void setup(void)
{
	struct hh_hub_opts o = {.expected_interval_s = 1.0 / RATE};
	cr_assert_eq(hh_setup(&env, &o), 0, "sandbox (broker, test client)");
}
static void teardown(void)
{
	fh_ref_free(&ref);
	hh_teardown(&env); /* stops the hub first */
	if (mnt[0]) {
		umount2(mnt, MNT_DETACH);
		mnt[0] = '\0';
	}
}

TestSuite(fault_disk, .init = setup, .fini = teardown, .timeout = 280);

static const struct fh_sim sim = {.seed = 51, .rate_hz = RATE, .ticks = TICKS, .stack_test_every = 500,
				  .weighbridge_every = 250};

static int64_t db_bytes(void)
{
	int64_t pages = 0, psz = 0;
	hh_db_i64(&env, &pages, "PRAGMA page_count");
	hh_db_i64(&env, &psz, "PRAGMA page_size");
	return pages * psz;
}

static void start_agent(void)
{
	char src[512];
	cr_assert_eq(fh_sim_sources(&sim, src, sizeof src), 0);
	struct fh_agent_opts ao = {.sources = src, .max_records = 20, .max_delay_ms = 50, .resend_after_s = 2};
	cr_assert_eq(fh_agent_start(&env, 0, &ao), 0, "agent");
}

/* The database is full: nothing commits and nothing is acked for a while. */
static void check_stuck(void)
{
	int64_t epoch = 0, ack1 = -1, ack2 = -1, upto1 = -1, upto2 = -1, rec1, rec2;
	struct fh_outbox ob1, ob2;

	cr_assert_eq(fh_wait_file_count(env.hub_log, "database full (SQLITE_FULL", 1, 60000), 0,
		     "the hub never said its database is full (stored %lld records; log %s)",
		     (long long)fh_stored_records(&env), env.hub_log);
	hh_pump(&env, 1500); /* settle: the window below starts with the hub stuck */
	hh_pump(&env, 0);
	hh_db_i64(&env, &upto1, "SELECT coalesce(max(upto), 0) FROM streams");
	rec1 = fh_stored_records(&env);
	hh_last_ack(&env, hh_ent(0), hh_agent(0), &epoch, &ack1);
	cr_assert_eq(fh_outbox_read(&env, 0, &ob1), 0);
	pht_sleep_ms(3000);
	hh_pump(&env, 0);
	hh_last_ack(&env, hh_ent(0), hh_agent(0), &epoch, &ack2);
	hh_db_i64(&env, &upto2, "SELECT coalesce(max(upto), 0) FROM streams");
	rec2 = fh_stored_records(&env);
	cr_assert_eq(fh_outbox_read(&env, 0, &ob2), 0);
	/* Acks of what committed before the window may still arrive (they
	 * travel through the hub's ack thread and the broker); none may cover
	 * a batch that was not committed when the window began. */
	cr_expect_leq(ack2, upto1, "the hub acked up to %lld while its database was full (committed: %lld)",
		      (long long)ack2, (long long)upto1);
	cr_expect_eq(upto2, upto1, "streams.upto moved from %lld to %lld while full", (long long)upto1,
		     (long long)upto2);
	cr_expect_eq(rec2, rec1, "records stored while full: %lld then %lld", (long long)rec1, (long long)rec2);
	cr_expect_gt(ob2.next_seq, ob1.next_seq, "the agent stopped producing batches");
	cr_expect_gt(ob2.depth, 0, "the agent's outbox should hold the unacked batches");
	cr_expect(pht_proc_alive(&env.hub), "the hub exited on a full database (log %s)", env.hub_log);
	cr_log_info("full at %lld records stored, %lld database bytes; committed upto %lld, acks %lld then %lld; outbox "
		    "%lld batches", (long long)rec2, (long long)db_bytes(), (long long)upto1, (long long)ack1,
		    (long long)ack2, (long long)ob2.depth);
}

static void finish_and_check(void)
{
	struct fh_outbox ob;
	long stored, rows = 0;

	cr_assert_eq(fh_wait_file_count(env.hub_log, "database writable again", 1, 60000), 0,
		     "the hub did not resume after room came back (log %s)", env.hub_log);
	cr_expect_eq(fh_wait_agent_done(&env, 0, TICKS, WAIT_MS, &ob), 0,
		     "%s did not finish: position %lld of %d ticks, outbox depth %lld (agent log %s, hub log %s)",
		     hh_agent(0), (long long)ob.position, TICKS, (long long)ob.depth, env.agent_log[0], env.hub_log);
	pht_sleep_ms(500);
	cr_expect_eq(fh_check_agent(&env, 0, &ref, &(struct fh_check_opts){.order = true, .want_rejects = 0}, &stored,
				    why, sizeof why),
		     0, "%s", why);
	cr_log_info("%s: %ld records stored, %zu produced", hh_agent(0), stored, ref.n);
	cr_expect_eq(hh_check_rollups(&env, &rows, why, sizeof why), 0, "%s", why);
	cr_expect_gt(rows, 0);
	cr_expect_eq(env.hub_runs, 1, "the hub was restarted");
	int status = 0;
	cr_expect_eq(hh_agent_stop(&env, 0, 10000, &status), 0);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "agent exit status %#x", status);
	cr_expect_eq(hh_hub_stop(&env, 10000, &status), 0, "hub stop (log %s)", env.hub_log);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hub exit status %#x", status);
	cr_expect_eq(hh_log_clean(env.hub_log, why, sizeof why), 0, "%s", why);
}

Test(fault_disk, db_cap_full_then_sighup_raises_it)
{
	if (!hh_parkagent())
		cr_skip_test("PH_PARKAGENT is not set");
	cr_assert_eq(fh_sim_reference(&sim, &ref, why, sizeof why), 0, "%s", why);
	/* The empty schema first, to cap just above it. */
	cr_assert_eq(hh_hub_start(&env, 20000), 0, "hub start (log %s)", env.hub_log);
	cr_assert_eq(hh_hub_stop(&env, 10000, NULL), 0);
	int64_t empty = db_bytes();
	/* 1 MB of room: the 30 s of data take about 2 MB (chunk.h v2), so the cap is hit midway */
	int64_t cap_mb = empty / 1048576 + 1;
	char val[32];
	snprintf(val, sizeof val, "%lld", (long long)cap_mb);
	cr_assert_eq(fh_hub_config_set(&env, "db", "max_size_mb", val), 0);
	cr_log_info("empty database %lld bytes; db.max_size_mb %lld", (long long)empty, (long long)cap_mb);
	cr_assert_eq(hh_hub_start(&env, 20000), 0, "hub start with the cap (log %s)", env.hub_log);
	env.hub_runs = 1; /* the uncapped run above made the schema only */
	cr_expect_eq(fh_file_count(env.hub_log, "database capped at"), 1, "the cap is not logged (log %s)", env.hub_log);
	start_agent();

	check_stuck();
	cr_assert_eq(fh_hub_config_set(&env, "db", "max_size_mb", "0"), 0);
	cr_assert_eq(pht_proc_kill(&env.hub, SIGHUP), 0);
	cr_assert_eq(fh_wait_file_count(env.hub_log, "SIGHUP: db.max_size_mb", 1, 10000), 0,
		     "the hub did not take the new cap on SIGHUP (log %s)", env.hub_log);
	finish_and_check();
}

Test(fault_disk, tmpfs_full_then_remounted_larger)
{
	if (!hh_parkagent())
		cr_skip_test("PH_PARKAGENT is not set");
	snprintf(mnt, sizeof mnt, "%.490s/tmpfs", env.dir);
	cr_assert_eq(mkdir(mnt, 0700), 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=1536k,mode=0700") != 0) {
		int err = errno;
		mnt[0] = '\0';
		cr_skip_test("cannot mount a tmpfs here (%s): the db.max_size_mb case covers a full database",
			     strerror(err));
	}
	cr_assert_eq(fh_sim_reference(&sim, &ref, why, sizeof why), 0, "%s", why);
	cr_assert_lt(strlen(mnt) + 8, sizeof env.db);
	snprintf(env.db, sizeof env.db, "%.500s/hub.db", mnt);
	cr_assert_eq(hh_write_hub_config(&env), 0);
	cr_assert_eq(hh_hub_start(&env, 20000), 0, "hub start on the tmpfs (log %s)", env.hub_log);
	start_agent();

	check_stuck();
	cr_assert_eq(mount("tmpfs", mnt, "tmpfs", MS_REMOUNT, "size=256m,mode=0700"), 0, "remount: %s",
		     strerror(errno));
	finish_and_check();
}
