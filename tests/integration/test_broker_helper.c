/*
 * test_broker_helper.c — tests of the integration-test support library
 * (tests/support, phtest): a private Mosquitto per test, its restart and
 * persistence, the blocking Paho client, and the process helpers.
 *
 * One behaviour per Test. Every wait is bounded; each test also has a
 * Criterion timeout so a hang fails instead of blocking ctest.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "phtest.h"

#define WAIT_MS 5000

/* Connects a client (cr_assert on failure). */
static struct pht_mqtt *client(const struct pht_broker *b, const char *id)
{
	struct pht_mqtt *m = pht_mqtt_new(pht_broker_uri(b), id);

	cr_assert_not_null(m, "pht_mqtt_new(%s)", pht_broker_uri(b));
	cr_assert_eq(pht_mqtt_connect(m, 1, WAIT_MS), 0, "connect to %s", pht_broker_uri(b));
	return m;
}

/* Pops one message and checks topic and payload. */
static void expect_msg(struct pht_mqtt *m, const char *topic, const char *payload)
{
	char t[256];
	char *p = NULL;
	size_t n = 0;

	cr_assert_eq(pht_mqtt_next(m, WAIT_MS, t, sizeof t, &p, &n), 0, "no message on %s", topic);
	cr_expect_str_eq(t, topic);
	cr_expect_eq(n, strlen(payload));
	cr_expect_str_eq(p, payload);
	free(p);
}

Test(broker_helper, broker_accepts_qos1_round_trip, .timeout = 30)
{
	struct pht_broker b;
	struct pht_mqtt *sub, *pub;

	cr_assert_eq(pht_broker_start(&b, NULL), 0);
	cr_expect_gt(b.port, 0);
	cr_expect_neq(b.port, 1883);
	sub = client(&b, "pht-sub");
	pub = client(&b, "pht-pub");
	cr_assert_eq(pht_mqtt_subscribe(sub, "pht/#", 1, WAIT_MS), 0);
	cr_assert_eq(pht_mqtt_publish(pub, "pht/a", "hello", 5, 1, 0, WAIT_MS), 0);
	expect_msg(sub, "pht/a", "hello");
	cr_expect_eq(pht_mqtt_next(sub, 100, NULL, 0, NULL, NULL), -ETIMEDOUT);
	cr_expect_eq(pht_mqtt_dropped(sub), 0);
	pht_mqtt_free(pub);
	pht_mqtt_free(sub);
	pht_broker_cleanup(&b);
}

Test(broker_helper, full_queue_drops_and_counts, .timeout = 30)
{
	struct pht_broker b;
	struct pht_mqtt *sub, *pub;
	char t[64];
	long long t0;

	cr_assert_eq(pht_broker_start(&b, NULL), 0);
	sub = client(&b, "pht-full-sub");
	pub = client(&b, "pht-full-pub");
	pht_mqtt_set_queue_max(sub, 3);
	cr_assert_eq(pht_mqtt_subscribe(sub, "pht/full/#", 1, WAIT_MS), 0);
	for (int i = 0; i < 5; i++) {
		snprintf(t, sizeof t, "pht/full/%d", i);
		cr_assert_eq(pht_mqtt_publish(pub, t, "x", 1, 1, 0, WAIT_MS), 0);
	}
	t0 = pht_now_ms();
	while (pht_mqtt_dropped(sub) < 2 && pht_now_ms() - t0 < WAIT_MS)
		pht_sleep_ms(10);
	cr_expect_eq(pht_mqtt_dropped(sub), 2);
	cr_expect_eq(pht_mqtt_queued(sub), 3);
	for (int i = 0; i < 3; i++) {
		snprintf(t, sizeof t, "pht/full/%d", i);
		expect_msg(sub, t, "x");
	}
	pht_mqtt_free(pub);
	pht_mqtt_free(sub);
	pht_broker_cleanup(&b);
}

Test(broker_helper, connect_to_stopped_broker_is_refused, .timeout = 30)
{
	struct pht_broker b;
	struct pht_mqtt *m;

	cr_assert_eq(pht_broker_start(&b, NULL), 0);
	cr_assert_eq(pht_broker_stop(&b), 0);
	m = pht_mqtt_new(pht_broker_uri(&b), "pht-refused");
	cr_assert_not_null(m);
	cr_expect_eq(pht_mqtt_connect(m, 1, WAIT_MS), -ECONNREFUSED);
	cr_expect_not(pht_mqtt_connected(m));
	pht_mqtt_free(m);
	pht_broker_cleanup(&b);
}

/* Without the $pht/wake kick each of these connects takes ~2.1 s (Paho's
 * receive thread sleeps in a 1 s poll that does not include new sockets). */
Test(broker_helper, later_clients_connect_without_paho_poll_delay, .timeout = 30)
{
	struct pht_broker b;
	struct pht_mqtt *m[4];

	cr_assert_eq(pht_broker_start(&b, NULL), 0);
	for (int i = 0; i < 4; i++) {
		char id[32];
		long long t0 = pht_now_ms();
		snprintf(id, sizeof id, "pht-fast-%d", i);
		m[i] = client(&b, id);
		if (i > 0)
			cr_expect_lt(pht_now_ms() - t0, 1000, "connect %d took %lld ms", i,
				     pht_now_ms() - t0);
	}
	for (int i = 0; i < 4; i++)
		pht_mqtt_free(m[i]);
	pht_broker_cleanup(&b);
}

Test(broker_helper, two_brokers_get_different_ports, .timeout = 30)
{
	struct pht_broker a, b;

	cr_assert_eq(pht_broker_start(&a, NULL), 0);
	cr_assert_eq(pht_broker_start(&b, NULL), 0);
	cr_expect_neq(a.port, b.port);
	cr_expect_str_neq(a.dir, b.dir);
	cr_expect_str_neq(pht_broker_uri(&a), pht_broker_uri(&b));
	cr_expect(pht_proc_alive(&a.proc));
	cr_expect(pht_proc_alive(&b.proc));
	pht_broker_cleanup(&a);
	pht_broker_cleanup(&b);
}

Test(broker_helper, restart_keeps_port_and_client_reconnects, .timeout = 30)
{
	struct pht_broker b;
	struct pht_mqtt *m, *sub;
	char uri[sizeof b.uri];
	int port;

	cr_assert_eq(pht_broker_start(&b, NULL), 0);
	port = b.port;
	snprintf(uri, sizeof uri, "%s", pht_broker_uri(&b));
	m = client(&b, "pht-reconnect");

	cr_assert_eq(pht_broker_restart(&b), 0);
	cr_expect_eq(b.port, port);
	cr_expect_str_eq(pht_broker_uri(&b), uri);
	cr_assert_eq(pht_mqtt_wait_lost(m, WAIT_MS), 0, "Paho never noticed the restart");
	cr_assert_eq(pht_mqtt_connect(m, 1, WAIT_MS), 0, "reconnect after restart");
	cr_expect(pht_mqtt_connected(m));

	sub = client(&b, "pht-reconnect-sub");
	cr_assert_eq(pht_mqtt_subscribe(sub, "pht/again", 1, WAIT_MS), 0);
	cr_assert_eq(pht_mqtt_publish(m, "pht/again", "x", 1, 1, 0, WAIT_MS), 0);
	expect_msg(sub, "pht/again", "x");
	pht_mqtt_free(sub);
	pht_mqtt_free(m);
	pht_broker_cleanup(&b);
}

Test(broker_helper, persistence_keeps_retained_across_restart, .timeout = 30)
{
	struct pht_broker b;
	struct pht_mqtt *m;
	char db[600];
	struct stat st;

	cr_assert_eq(pht_broker_start(&b, "persistence true\npersistence_location %DIR%/"), 0);
	m = client(&b, "pht-retain-pub");
	cr_assert_eq(pht_mqtt_publish(m, "pht/retained", "kept", 4, 1, 1, WAIT_MS), 0);
	pht_mqtt_free(m);

	cr_assert_eq(pht_broker_restart(&b), 0);
	snprintf(db, sizeof db, "%s/mosquitto.db", b.dir);
	cr_expect_eq(stat(db, &st), 0, "no persistence file %s", db);

	m = client(&b, "pht-retain-sub");
	cr_assert_eq(pht_mqtt_subscribe(m, "pht/#", 1, WAIT_MS), 0);
	expect_msg(m, "pht/retained", "kept");
	pht_mqtt_free(m);
	pht_broker_cleanup(&b);
}

/* The control for the test above: by default the test broker keeps nothing. */
Test(broker_helper, default_broker_forgets_retained_on_restart, .timeout = 30)
{
	struct pht_broker b;
	struct pht_mqtt *m;

	cr_assert_eq(pht_broker_start(&b, NULL), 0);
	m = client(&b, "pht-forget-pub");
	cr_assert_eq(pht_mqtt_publish(m, "pht/retained", "gone", 4, 1, 1, WAIT_MS), 0);
	pht_mqtt_free(m);

	cr_assert_eq(pht_broker_restart(&b), 0);
	m = client(&b, "pht-forget-sub");
	cr_assert_eq(pht_mqtt_subscribe(m, "pht/#", 1, WAIT_MS), 0);
	cr_expect_eq(pht_mqtt_next(m, 300, NULL, 0, NULL, NULL), -ETIMEDOUT);
	pht_mqtt_free(m);
	pht_broker_cleanup(&b);
}

Test(broker_helper, extra_conf_expands_dir, .timeout = 30)
{
	struct pht_broker b;
	char conf[8192], want[700];
	const char *argv[] = { "/bin/cat", NULL, NULL };
	int code = -1;

	cr_assert_eq(pht_broker_start(&b, "persistence true\npersistence_location %DIR%/"), 0);
	argv[1] = b.conf;
	cr_assert_eq(pht_run(argv, WAIT_MS, conf, sizeof conf, &code), 0);
	cr_expect_eq(code, 0);
	snprintf(want, sizeof want, "persistence_location %s/\n", b.dir);
	cr_expect_not_null(strstr(conf, want), "conf:\n%s", conf);
	cr_expect_null(strstr(conf, "persistence false"), "default not left out:\n%s", conf);
	cr_expect_not_null(strstr(conf, "max_queued_messages 0\n"));
	pht_broker_cleanup(&b);
}

Test(broker_helper, stop_ends_the_process, .timeout = 30)
{
	struct pht_broker b;
	pid_t pid;

	cr_assert_eq(pht_broker_start(&b, NULL), 0);
	pid = b.proc.pid;
	cr_assert_gt(pid, 0);
	cr_assert_eq(kill(pid, 0), 0);
	cr_assert_eq(pht_broker_stop(&b), 0);
	cr_expect_eq(b.proc.pid, 0);
	cr_expect_eq(kill(pid, 0), -1);
	cr_expect_eq(errno, ESRCH);
	pht_broker_cleanup(&b);
}

Test(broker_helper, kill_ends_the_process_and_restart_recovers, .timeout = 30)
{
	struct pht_broker b;
	struct pht_mqtt *m;
	pid_t pid;

	cr_assert_eq(pht_broker_start(&b, NULL), 0);
	pid = b.proc.pid;
	cr_assert_eq(pht_broker_kill(&b), 0);
	cr_expect_eq(kill(pid, 0), -1);
	cr_assert_eq(pht_broker_restart(&b), 0);
	m = client(&b, "pht-after-kill");
	pht_mqtt_free(m);
	pht_broker_cleanup(&b);
}

Test(broker_helper, cleanup_removes_the_dir, .timeout = 30)
{
	struct pht_broker b;
	char dir[sizeof b.dir];
	struct stat st;

	unsetenv("PHT_KEEP");
	cr_assert_eq(pht_broker_start(&b, NULL), 0);
	snprintf(dir, sizeof dir, "%s", b.dir);
	cr_assert_eq(stat(dir, &st), 0);
	pht_broker_cleanup(&b);
	cr_expect_eq(stat(dir, &st), -1);
	cr_expect_eq(b.proc.pid, 0);
}

Test(proc_helper, run_captures_output_and_exit_code, .timeout = 30)
{
	const char *argv[] = { "/bin/sh", "-c", "echo hi; exit 3", NULL };
	char out[64];
	int code = -1;

	cr_assert_eq(pht_run(argv, WAIT_MS, out, sizeof out, &code), 0);
	cr_expect_str_eq(out, "hi\n");
	cr_expect_eq(code, 3);
}

Test(proc_helper, run_times_out_and_kills, .timeout = 30)
{
	const char *argv[] = { "/bin/sh", "-c", "echo started; sleep 5", NULL };
	char out[64];
	long long t0 = pht_now_ms();

	cr_expect_eq(pht_run(argv, 200, out, sizeof out, NULL), -ETIMEDOUT);
	cr_expect_lt(pht_now_ms() - t0, 2000);
	cr_expect_str_eq(out, "started\n");
}

Test(proc_helper, wait_times_out_on_sleep, .timeout = 30)
{
	const char *argv[] = { "/bin/sleep", "5", NULL };
	struct pht_proc p;
	long long t0;

	cr_assert_eq(pht_proc_spawn(&p, argv, NULL), 0);
	t0 = pht_now_ms();
	cr_expect_eq(pht_proc_wait(&p, 100, NULL), -ETIMEDOUT);
	cr_expect_lt(pht_now_ms() - t0, 1000);
	cr_expect(pht_proc_alive(&p));
	cr_expect_eq(pht_proc_stop(&p, 1000), 0, "sleep should end on SIGTERM");
	cr_expect_eq(p.pid, 0);
	cr_expect_not(pht_proc_alive(&p));
}

Test(proc_helper, spawn_reports_exec_failure, .timeout = 30)
{
	const char *argv[] = { "/nonexistent/parkhub-no-such-binary", NULL };
	struct pht_proc p;

	cr_expect_eq(pht_proc_spawn(&p, argv, NULL), -ENOENT);
	cr_expect_eq(p.pid, 0);
}

Test(proc_helper, spawn_appends_output_to_log, .timeout = 30)
{
	const char *argv[] = { "/bin/sh", "-c", "echo out; echo err >&2; exit 0", NULL };
	const char *cat[] = { "/bin/cat", NULL, NULL };
	struct pht_proc p;
	char dir[512], log[600], out[256];
	int st = -1, code = -1;

	cr_assert_eq(pht_tmpdir(dir, sizeof dir), 0);
	cr_expect_not_null(strstr(dir, "parkhub-test-"));
	snprintf(log, sizeof log, "%s/child.log", dir);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(pht_proc_spawn(&p, argv, log), 0);
		cr_assert_eq(pht_proc_wait(&p, WAIT_MS, &st), 0);
		cr_expect_eq(st, 0);
	}
	cat[1] = log;
	cr_assert_eq(pht_run(cat, WAIT_MS, out, sizeof out, &code), 0);
	cr_expect_str_eq(out, "out\nerr\nout\nerr\n");
	cr_expect_eq(pht_rmtree(dir), 0);
	cr_expect_eq(access(dir, F_OK), -1);
}
