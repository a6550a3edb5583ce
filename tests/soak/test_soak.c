/*
 * test_soak.c — the hub under a steady load for a long time (issue #16,
 * item 11): does its memory, its file descriptors, its threads or its WAL
 * grow without bound? docs/soak.md has the long run's curve and its reading.
 *
 * Setup: a private Mosquitto on a free loopback port, the hub with its HTTP
 * API on another free loopback port (127.0.0.1), three real parkagent
 * processes each running the deterministic simulator at PH_SOAK_RATE
 * ticks/s (default RATE = 20; 2 records of 7 values a tick: ~40 records/s
 * per agent, ~120 records/s in all) for PH_SOAK_SECONDS seconds (default
 * 90: the CI slice). While they run,
 * every PH_SOAK_SAMPLE_S seconds (default seconds/240, 3..30) the test
 * reads, for the hub's PID:
 *   /proc/PID/status         VmRSS, VmHWM, RssAnon, RssFile, Threads
 *   /proc/PID/smaps_rollup   Private_Clean, Private_Dirty, Anonymous
 *   /proc/PID/fd             open fds; those on the database or its -wal/-shm
 *   the database and -wal file sizes, records stored so far
 * and then asks the API a few questions (a minute series per enterprise,
 * the enterprises, /metrics as admin: the read side is part of the load,
 * and its per-thread read connections part of what is measured). Each
 * sample is a line of soak.csv in the sandbox (kept with PHT_KEEP=1), also
 * written to $PH_SOAK_OUT when set.
 *
 * Assertions (none on time; docs/soak.md has the long run's figures):
 *  1. threads: the most seen after the warm-up (the first quarter of the
 *     run) is not above the most seen during it (the hub's threads are a
 *     fixed set, 11 here: main, the pipeline's, Paho's and the API's pool
 *     of PH_API_DEFAULT_THREADS);
 *  2. fds other than the database's: the same — sockets, pipes and other
 *     files do not grow after the warm-up (samples are taken before the
 *     test's own HTTP requests, so no request socket is in flight);
 *     SQLite's own temporary files (its prefix etilqs_: a connection's
 *     temp database, opened when its TEMP tables first spill from the page
 *     cache, which may be after the warm-up, and a running statement's
 *     sorter or journal spill) are counted apart, at most 2 per connection;
 *  3. fds on the database, -wal and -shm: at most 2 per connection (the
 *     file and its WAL) for the writer's, the checkpointer's and one per
 *     API pool thread (opened lazily, so their count may still rise after
 *     the warm-up), plus the shared -shm;
 *  4. the WAL file never exceeds twice the writer's restart length
 *     (writer.c WAL_RESTART_FRAMES = 4096 frames of page_size + 24 bytes):
 *     the writer starts the WAL over, so it does not grow with the data;
 *  5. every API request answers 200;
 *  6. (plain builds; ASan's quarantine grows RSS by design) RSS never
 *     exceeds the first sample by more than RSS_GROWTH_MAX: the writer's
 *     SQLite page cache (hub/store/store.c cache_size=-16384: 16 MiB), which
 *     fills as the database grows and is most of the growth the long run
 *     found, plus 16 MiB for the rest (the long run: about 3 MB). It does not
 *     depend on the run's length: a leak of 4 kB/s crosses it within an
 *     hour of PH_SOAK_SECONDS; the CI slice only catches gross leaks;
 *  7. at the end the data is exact: every agent's batches 1..N stored once,
 *     every produced record stored exactly once and in order, empty
 *     outboxes (fault_helpers.h), rollups equal to their recomputation; the
 *     hub and agents exit 0 with clean logs.
 *
 * Bounded: the agents' simulators stop after their ticks; sampling stops
 * when they are done or PH_SOAK_SECONDS + DRAIN_S have passed; every wait
 * is bounded. ctest's limit (tests/soak/CMakeLists.txt) fits the default
 * slice; a long run calls the binary directly (docs/soak.md).
 */
#include <criterion/criterion.h>
#include <curl/curl.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault_helpers.h"
#include "api/api.h"
#include "parkhub/timefmt.h"

#define NAGENTS 3
#define RATE 20          /* ticks/s per agent (PH_SOAK_RATE) */
#define DRAIN_S 120      /* after the production: the last batches arrive */
#define WAL_RESTART_FRAMES 4096 /* hub/store/writer.c */
#define MAX_SAMPLES 20000
#define RSS_GROWTH_MAX (32L * 1024) /* kB: 16 MiB writer page cache + 16 MiB (assertion 6) */

static const char *tok_adm = "soak-admin-token";

struct sample {
	double t_s;
	int64_t stored;
	long vmrss, vmhwm, rss_anon, rss_file, priv_clean, priv_dirty, anonymous; /* kB */
	int threads, fds, db_fds, tmp_fds;
	int64_t db_bytes, wal_bytes;
	int64_t wal_restarts;
	long http_ok, http_bad;
};

static struct hh_env env;
static struct fh_ref ref;
static char why[2048];
static int http_port;
static struct sample *smp;
static size_t nsmp;

static void csv_close(void);

static int env_int(const char *name, int def)
{
	const char *s = getenv(name);
	int v = s && *s ? atoi(s) : def;
	return v > 0 ? v : def;
}

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	http_port = pht_free_port();
	cr_assert_gt(http_port, 0);
	struct hh_hub_opts o = {.expected_interval_s = 1.0 / env_int("PH_SOAK_RATE", RATE)};
	cr_assert_eq(hh_setup(&env, &o), 0, "sandbox (broker, test client)");
	static char top[512];
	char h[2 * PH_API_SHA256_LEN + 1];
	cr_assert_eq(ph_api_token_hash_hex(tok_adm, h), 0);
	snprintf(top, sizeof top,
		 "\"http\": {\"listen\": \"127.0.0.1\", \"port\": %d, \"tokens\": ["
		 "{\"name\": \"adm\", \"sha256\": \"%s\", \"role\": \"admin\"}]}",
		 http_port, h);
	env.opts.top_extra = top;
	cr_assert_eq(hh_write_hub_config(&env), 0);
	smp = calloc(MAX_SAMPLES, sizeof *smp);
	cr_assert_not_null(smp);
}

static void teardown(void)
{
	csv_close();
	fh_ref_free(&ref);
	hh_teardown(&env);
	free(smp);
	curl_global_cleanup();
}

TestSuite(soak, .init = setup, .fini = teardown);

/* ---- /proc ---------------------------------------------------------------- */

/* "Key:   123 kB" lines of a /proc file into the matching fields. */
static void read_kv(const char *path, const char *const keys[], long *vals[], size_t n)
{
	FILE *f = fopen(path, "r");
	char line[256];
	if (!f)
		return;
	while (fgets(line, sizeof line, f))
		for (size_t i = 0; i < n; i++) {
			size_t kl = strlen(keys[i]);
			if (strncmp(line, keys[i], kl) == 0 && line[kl] == ':')
				*vals[i] = strtol(line + kl + 1, NULL, 10);
		}
	fclose(f);
}

static int64_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* SQLite names its temporary files so (SQLITE_TEMP_FILE_PREFIX). */
static bool sqlite_temp(const char *target)
{
	const char *base = strrchr(target, '/');
	return base && strncmp(base + 1, "etilqs_", 7) == 0;
}

static void count_fds(pid_t pid, int *fds, int *db_fds, int *tmp_fds)
{
	char dir[64], p[PATH_MAX], target[PATH_MAX];
	snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
	*fds = *db_fds = *tmp_fds = 0;
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	size_t dblen = strlen(env.db);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		(*fds)++;
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		ssize_t n = readlink(p, target, sizeof target - 1);
		if (n > 0) {
			target[n] = 0;
			if (strncmp(target, env.db, dblen) == 0)
				(*db_fds)++;
			else if (sqlite_temp(target))
				(*tmp_fds)++;
		}
	}
	closedir(d);
}

static void take_sample(struct sample *s, double t_s)
{
	pid_t pid = env.hub.pid;
	char path[64];
	long threads = 0;
	memset(s, 0, sizeof *s);
	s->t_s = t_s;
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	read_kv(path, (const char *const[]){"VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"},
		(long *[]){&s->vmrss, &s->vmhwm, &s->rss_anon, &s->rss_file, &threads}, 5);
	s->threads = (int)threads;
	snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
	read_kv(path, (const char *const[]){"Private_Clean", "Private_Dirty", "Anonymous"},
		(long *[]){&s->priv_clean, &s->priv_dirty, &s->anonymous}, 3);
	count_fds(pid, &s->fds, &s->db_fds, &s->tmp_fds);
	char wal[640];
	snprintf(wal, sizeof wal, "%s-wal", env.db);
	s->db_bytes = file_size(env.db);
	s->wal_bytes = file_size(wal);
	s->stored = fh_stored_records(&env);
}

/* ---- the API ------------------------------------------------------------- */

/* The read side of the load: a minute series of the last 10 minutes per
 * enterprise, the enterprises, /metrics (its WAL restarts into s). */
static void api_round(struct sample *s, long *ok, long *bad)
{
	char path[512], f[PH_TIME_STRLEN], t[PH_TIME_STRLEN];
	int64_t now = ph_now_ms();
	ph_time_format(now - 600000, f, sizeof f);
	ph_time_format(now + 60000, t, sizeof t);
	for (int i = 0; i <= NAGENTS + 1; i++) {
		struct hh_http_resp b;
		if (i < NAGENTS)
			snprintf(path, sizeof path,
				 "/api/v1/parks/p1/series?ent=%s&point=stack-1&metric=so2&step=1m&from=%s&to=%s",
				 hh_ent(i), f, t);
		else if (i == NAGENTS)
			snprintf(path, sizeof path, "/api/v1/parks/p1/enterprises");
		else
			snprintf(path, sizeof path, "/metrics");
		long st = hh_http_request(http_port, "GET", path, tok_adm, NULL, &b) ? 0 : b.status;
		if (st == 200)
			(*ok)++;
		else {
			if ((*bad)++ < 5)
				cr_log_error("GET %s: %ld %.300s", path, st, b.body ? b.body : "");
		}
		if (i == NAGENTS + 1 && st == 200) {
			const char *m = strstr(b.body, "\nparkhub_wal_restarts_total ");
			if (m)
				s->wal_restarts = strtoll(m + strlen("\nparkhub_wal_restarts_total "), NULL, 10);
		}
		hh_http_resp_free(&b);
	}
}

/* ---- the CSV ------------------------------------------------------------- */

/* soak.csv in the sandbox and $PH_SOAK_OUT, a line per sample as it is
 * taken (flushed: a long run can be watched, and a crash keeps the curve). */
static FILE *csv_f[2];

static void csv_open(const char *const paths[2])
{
	for (int k = 0; k < 2; k++) {
		if (!paths[k] || !*paths[k])
			continue;
		if (!(csv_f[k] = fopen(paths[k], "w"))) {
			cr_log_warn("cannot write %s: %s", paths[k], strerror(errno));
			continue;
		}
		fprintf(csv_f[k], "t_s,stored_records,vmrss_kb,vmhwm_kb,rss_anon_kb,rss_file_kb,private_clean_kb,"
				  "private_dirty_kb,anonymous_kb,threads,fds,db_fds,db_bytes,wal_bytes,wal_restarts,"
				  "http_ok,http_bad\n");
		fflush(csv_f[k]);
	}
}

static void csv_line(const struct sample *s)
{
	for (int k = 0; k < 2; k++) {
		if (!csv_f[k])
			continue;
		fprintf(csv_f[k], "%.1f,%lld,%ld,%ld,%ld,%ld,%ld,%ld,%ld,%d,%d,%d,%lld,%lld,%lld,%ld,%ld\n", s->t_s,
			(long long)s->stored, s->vmrss, s->vmhwm, s->rss_anon, s->rss_file, s->priv_clean, s->priv_dirty,
			s->anonymous, s->threads, s->fds, s->db_fds, (long long)s->db_bytes, (long long)s->wal_bytes,
			(long long)s->wal_restarts, s->http_ok, s->http_bad);
		fflush(csv_f[k]);
	}
}

static void csv_close(void)
{
	for (int k = 0; k < 2; k++)
		if (csv_f[k])
			fclose(csv_f[k]);
	csv_f[0] = csv_f[1] = NULL;
}

static void log_sample(const char *what, const struct sample *s)
{
	cr_log_info("%s t=%.0fs stored=%lld rss=%ld kB private=%ld kB anon=%ld kB threads=%d fds=%d (db %d) "
		    "db=%lld B wal=%lld B wal_restarts=%lld",
		    what, s->t_s, (long long)s->stored, s->vmrss, s->priv_clean + s->priv_dirty, s->anonymous,
		    s->threads, s->fds, s->db_fds, (long long)s->db_bytes, (long long)s->wal_bytes,
		    (long long)s->wal_restarts);
}

/* ---- the run ------------------------------------------------------------- */

Test(soak, steady_load_fds_threads_wal_bounded_data_exact)
{
	const int seconds = env_int("PH_SOAK_SECONDS", 90);
	const int rate = env_int("PH_SOAK_RATE", RATE);
	int every = env_int("PH_SOAK_SAMPLE_S", 0);
	if (every <= 0)
		every = seconds / 240 < 3 ? 3 : seconds / 240 > 30 ? 30 : seconds / 240;
	const struct fh_sim sim = {.seed = 61, .rate_hz = rate, .ticks = (int64_t)seconds * rate,
				   .stack_test_every = 600, .weighbridge_every = 200};
	struct fh_outbox ob;
	char src[512];
	long stored, rows = 0, ok = 0, bad = 0;
	int64_t page_size = 0;

	if (!hh_parkagent())
		cr_skip_test("PH_PARKAGENT is not set");
	cr_log_info("soak: %d s (PH_SOAK_SECONDS), a sample every %d s (PH_SOAK_SAMPLE_S), %d agents at %d ticks/s, "
		    "%lld ticks each",
		    seconds, every, NAGENTS, rate, (long long)sim.ticks);
	cr_assert_eq(fh_sim_reference(&sim, &ref, why, sizeof why), 0, "%s", why);
	cr_assert_eq(hh_hub_start(&env, 20000), 0, "hub start (log %s)", env.hub_log);
	cr_assert_eq(fh_sim_sources(&sim, src, sizeof src), 0);
	struct fh_agent_opts ao = {.sources = src, .max_records = 50, .max_delay_ms = 1000, .resend_after_s = 10};
	for (int i = 0; i < NAGENTS; i++)
		cr_assert_eq(fh_agent_start(&env, i, &ao), 0, "agent %d", i);

	/* The clock starts when every agent has a stored batch: the series
	 * asked for exist from then on (before, 404 is the right answer). */
	int64_t v = 0;
	cr_assert_eq(hh_wait_db(&env, NAGENTS, &v, 60000, "SELECT count(DISTINCT agent_id) FROM samples"), 0,
		     "%lld of %d agents stored within 60 s (hub log %s)", (long long)v, NAGENTS, env.hub_log);
	char csv[700];
	snprintf(csv, sizeof csv, "%s/soak.csv", env.dir);
	csv_open((const char *const[]){csv, getenv("PH_SOAK_OUT")});
	const int64_t t0 = ph_mono_ms();
	const int64_t stop_at = t0 + (int64_t)(seconds + DRAIN_S) * 1000;
	int64_t next = t0;
	for (;;) {
		cr_assert(pht_proc_alive(&env.hub), "the hub exited (log %s)", env.hub_log);
		cr_assert_lt(nsmp, (size_t)MAX_SAMPLES, "too many samples: raise PH_SOAK_SAMPLE_S");
		struct sample *s = &smp[nsmp];
		take_sample(s, (double)(ph_mono_ms() - t0) / 1000.0);
		api_round(s, &ok, &bad);
		s->http_ok = ok;
		s->http_bad = bad;
		csv_line(s);
		nsmp++;
		if (nsmp % 20 == 1)
			log_sample("sample", s);
		int done = 0;
		for (int i = 0; i < NAGENTS; i++)
			if (fh_outbox_read(&env, i, &ob) == 0 && ob.position >= sim.ticks && ob.depth == 0)
				done++;
		if (done == NAGENTS || ph_mono_ms() >= stop_at)
			break;
		next += (int64_t)every * 1000;
		int64_t wait = next - ph_mono_ms();
		if (wait > 0)
			pht_sleep_ms((int)wait);
	}
	/* One more after a pause with nothing arriving: the hub idle. */
	pht_sleep_ms(every * 1000);
	take_sample(&smp[nsmp], (double)(ph_mono_ms() - t0) / 1000.0);
	smp[nsmp].http_ok = ok;
	smp[nsmp].http_bad = bad;
	smp[nsmp].wal_restarts = smp[nsmp - 1].wal_restarts;
	csv_line(&smp[nsmp]);
	nsmp++;
	log_sample("idle", &smp[nsmp - 1]);
	csv_close();
	cr_log_info("samples: %s%s%s", csv, getenv("PH_SOAK_OUT") ? " and " : "",
		    getenv("PH_SOAK_OUT") ? getenv("PH_SOAK_OUT") : "");

	/* Warm-up: the first quarter (at least two samples). */
	size_t warm = nsmp / 4 < 2 ? 2 : nsmp / 4;
	cr_assert_gt(nsmp, warm, "too few samples (%zu) for a warm-up and a rest: PH_SOAK_SAMPLE_S", nsmp);
	int th_w = 0, th_r = 0, fd_w = 0, fd_r = 0, dbfd_max = 0, tmp_max = 0;
	int64_t wal_max = 0;
	long rss_first = smp[0].vmrss, rss_warm = smp[warm - 1].vmrss, rss_last = smp[nsmp - 1].vmrss, rss_max = 0;
	for (size_t i = 0; i < nsmp; i++) {
		const struct sample *s = &smp[i];
		int other = s->fds - s->db_fds - s->tmp_fds;
		tmp_max = s->tmp_fds > tmp_max ? s->tmp_fds : tmp_max;
		if (i < warm) {
			th_w = s->threads > th_w ? s->threads : th_w;
			fd_w = other > fd_w ? other : fd_w;
		} else {
			th_r = s->threads > th_r ? s->threads : th_r;
			fd_r = other > fd_r ? other : fd_r;
		}
		dbfd_max = s->db_fds > dbfd_max ? s->db_fds : dbfd_max;
		wal_max = s->wal_bytes > wal_max ? s->wal_bytes : wal_max;
		rss_max = s->vmrss > rss_max ? s->vmrss : rss_max;
	}
	cr_log_info("RSS: first %ld kB, end of warm-up %ld kB, last %ld kB, max %ld kB; growth after the warm-up "
		    "%ld kB over %.0f s",
		    rss_first, rss_warm, rss_last, rss_max, rss_last - rss_warm, smp[nsmp - 1].t_s - smp[warm - 1].t_s);
	if (!fh_sanitized())
		cr_expect_leq(rss_max - rss_first, RSS_GROWTH_MAX,
			      "RSS grew %ld kB above the first sample (%ld kB), more than the writer's page cache "
			      "and the margin (%ld kB; docs/soak.md) (%s)",
			      rss_max - rss_first, rss_first, RSS_GROWTH_MAX, csv);

	cr_expect_leq(th_r, th_w, "threads grew after the warm-up: %d, at most %d during it (%s)", th_r, th_w, csv);
	cr_expect_leq(fd_r, fd_w, "non-database fds grew after the warm-up: %d, at most %d during it (%s)", fd_r, fd_w,
		     csv);
	const int db_conns = 2 + PH_API_DEFAULT_THREADS;
	cr_expect_leq(dbfd_max, 2 * db_conns + 1, "database fds: %d, more than 2 per connection (%d) + the -shm",
		     dbfd_max, db_conns);
	cr_expect_leq(tmp_max, 2 * db_conns, "SQLite temporary files: %d, more than 2 per connection (%d)", tmp_max,
		      db_conns);
	cr_assert_eq(hh_db_i64(&env, &page_size, "PRAGMA page_size"), 0);
	const int64_t wal_bound = 2 * (int64_t)WAL_RESTART_FRAMES * (page_size + 24) + 32;
	cr_expect_leq(wal_max, wal_bound, "WAL reached %lld bytes, above twice the restart length (%lld)",
		     (long long)wal_max, (long long)wal_bound);
	cr_expect_eq(bad, 0, "%ld API requests failed (of %ld)", bad, ok + bad);
	cr_expect_gt(ok, 0);

	for (int i = 0; i < NAGENTS; i++)
		cr_expect_eq(fh_wait_agent_done(&env, i, sim.ticks, DRAIN_S * 1000, &ob), 0,
			     "%s did not finish: position %lld of %lld ticks, outbox depth %lld (agent log %s, hub log %s)",
			     hh_agent(i), (long long)ob.position, (long long)sim.ticks, (long long)ob.depth,
			     env.agent_log[i], env.hub_log);
	for (int i = 0; i < NAGENTS; i++) {
		cr_expect_eq(fh_check_agent(&env, i, &ref, &(struct fh_check_opts){.order = true, .want_rejects = 0},
					    &stored, why, sizeof why),
			     0, "%s", why);
		cr_log_info("%s: %ld records stored, %zu produced", hh_agent(i), stored, ref.n);
	}
	cr_expect_eq(hh_check_rollups(&env, &rows, why, sizeof why), 0, "%s", why);
	cr_expect_gt(rows, 0);
	for (int i = 0; i < NAGENTS; i++) {
		int status = 0;
		cr_expect_eq(hh_agent_stop(&env, i, 10000, &status), 0);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s exit status %#x", hh_agent(i), status);
		cr_expect_eq(hh_log_clean(env.agent_log[i], why, sizeof why), 0, "%s", why);
	}
	int status = 0;
	cr_expect_eq(hh_hub_stop(&env, 10000, &status), 0, "hub stop (log %s)", env.hub_log);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hub exit status %#x", status);
	cr_expect_eq(hh_log_clean(env.hub_log, why, sizeof why), 0, "%s", why);
}
