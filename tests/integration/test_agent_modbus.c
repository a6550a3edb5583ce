/*
 * test_agent_modbus.c — the "modbus" source end to end: a real Modbus TCP
 * server (ph_modbus_server, libmodbus, 127.0.0.1 on a free port) → a real
 * parkagent → a real Mosquitto → the fake hub of agent_helpers.h.
 *
 * One behaviour per Test: the register map decodes to the right metrics
 * and values (int16, uint16, int32, float32 in both word orders, scale and
 * offset, holding and input tables, two points of two kinds); a server
 * that disappears mid-run turns the values into their last good value
 * flagged B, and the agent reconnects and reads N values again when it is
 * back; a register the server refuses (exception) is never published
 * while its neighbours are.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_helpers.h"

#define WAIT_MS 30000

static struct ah_env env;
static struct pht_proc server;
static int port;
static char why[1024];

static void setup(void) { cr_assert_eq(ah_env_setup(&env, true), 0, "sandbox (broker, fake hub)"); }
static void teardown(void) {
	if (server.pid)
		pht_proc_stop(&server, 2000);
	ah_env_teardown(&env);
}

TestSuite(agent_modbus, .init = setup, .fini = teardown, .timeout = 90);

static int can_connect(void) {
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return ok;
}

static void start_server(void) {
	char bin[1024], p[16], log[700];
	snprintf(bin, sizeof bin, "%s/tests/integration/ph_modbus_server", getenv("PH_BINARY_DIR"));
	snprintf(p, sizeof p, "%d", port);
	snprintf(log, sizeof log, "%s/modbus.log", env.dir);
	const char *argv[] = {bin, p, NULL};
	cr_assert_eq(pht_proc_spawn(&server, argv, log), 0, "%s", bin);
	long long end = pht_now_ms() + 5000;
	while (!can_connect() && pht_now_ms() < end)
		pht_sleep_ms(20);
	/* the probe connection took the server's one client slot; it is back at accept() now */
	pht_sleep_ms(50);
}

#define REGS                                                                                                  \
	"{\"address\":0,\"type\":\"int16\",\"scale\":0.01,\"metric\":\"pressure\",\"point\":\"stack-1\"},"    \
	"{\"address\":1,\"type\":\"uint16\",\"scale\":0.01,\"metric\":\"so2\",\"point\":\"stack-1\"},"        \
	"{\"address\":2,\"type\":\"int32\",\"metric\":\"flow\",\"point\":\"stack-1\"},"                        \
	"{\"address\":4,\"type\":\"float32\",\"metric\":\"nox\",\"point\":\"stack-1\"},"                       \
	"{\"address\":6,\"type\":\"float32\",\"word_order\":\"little\",\"metric\":\"o2\",\"point\":\"stack-1\"}," \
	"{\"address\":0,\"table\":\"input\",\"scale\":0.1,\"metric\":\"temp\",\"point\":\"stack-1\"},"        \
	"{\"address\":10,\"scale\":0.1,\"offset\":-50,\"metric\":\"furnace_temp\",\"point\":\"furnace-1\"}"

static void start_agent(const char *regs, int interval_ms) {
	char src[4096];
	snprintf(src, sizeof src,
		 "[{\"type\":\"modbus\",\"name\":\"plc\",\"host\":\"127.0.0.1\",\"port\":%d,\"interval_ms\":%d,"
		 "\"timeout_ms\":300,\"reconnect_max_ms\":500,\"registers\":[%s]}]",
		 port, interval_ms, regs);
	struct ah_cfg c = {.sources = src};
	cr_assert_eq(ah_env_start_agent(&env, &c), 0);
}

/* Counts stored records whose key contains needle. */
static size_t count_keys(const char *needle) {
	struct ah_keys k = {0};
	cr_assert_eq(ah_hub_record_keys(env.hub, AH_AGENT, &k), 0);
	size_t n = 0;
	for (size_t i = 0; i < k.n; i++)
		n += strstr(k.v[i], needle) != NULL;
	ah_keys_free(&k);
	return n;
}

static int wait_keys(const char *needle, size_t n, int timeout_ms) {
	long long end = pht_now_ms() + timeout_ms;
	while (pht_now_ms() < end) {
		if (count_keys(needle) >= n)
			return 0;
		pht_sleep_ms(50);
	}
	return -ETIMEDOUT;
}

static void stop_agent_cleanly(void) {
	int status = 0;
	cr_assert_eq(pht_proc_kill(&env.agent, SIGTERM), 0);
	cr_assert_eq(pht_proc_wait(&env.agent, 10000, &status), 0, "agent did not stop on SIGTERM");
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "agent exit status %#x", status);
	cr_expect_eq(ah_log_clean(env.log, why, sizeof why), 0, "%s", why);
}

/* The keys the fake hub stores list values in the order the agent sent
 * them (register order), each as metric=value:flag. */
#define STACK_N "pressure=-1.23:N,so2=50:N,flow=100000:N,nox=35.25:N,o2=12.5:N,temp=135:N,"
#define FURNACE_N "furnace_temp=1200:N,"

Test(agent_modbus, register_map_decodes_to_metrics) {
	port = pht_free_port();
	start_server();
	start_agent(REGS, 200);
	cr_assert_eq(wait_keys(STACK_N, 3, WAIT_MS), 0, "got %zu stack records like " STACK_N " (see %s)",
		     count_keys(STACK_N), env.log);
	cr_expect_eq(wait_keys("furnace-1|", 3, WAIT_MS), 0);
	cr_expect_eq(count_keys(FURNACE_N), count_keys("furnace-1|"), "every furnace record reads 1200");
	cr_expect_eq(count_keys(":B"), 0, "no fault while the server answers");
	stop_agent_cleanly();
}

/* The server is killed mid-run: polls go on, every value its last good
 * one flagged B; the server comes back on the same port: the agent
 * reconnects by itself and N values follow. */
Test(agent_modbus, server_disappears_values_flagged_b_then_reconnects) {
	port = pht_free_port();
	start_server();
	start_agent(REGS, 200);
	cr_assert_eq(wait_keys(STACK_N, 2, WAIT_MS), 0, "see %s", env.log);
	cr_assert_eq(pht_proc_kill(&server, SIGKILL), 0);
	pht_proc_wait(&server, 5000, NULL);
	const char *stack_b = "pressure=-1.23:B,so2=50:B,flow=100000:B,nox=35.25:B,o2=12.5:B,temp=135:B,";
	cr_assert_eq(wait_keys(stack_b, 3, WAIT_MS), 0, "records flagged B with the last good values (see %s)", env.log);
	cr_expect_geq(wait_keys("furnace_temp=1200:B,", 3, WAIT_MS), 0);
	size_t n_before = count_keys(STACK_N);
	start_server();
	cr_assert_eq(wait_keys(STACK_N, n_before + 3, WAIT_MS), 0, "N values after the reconnect (see %s)", env.log);
	cr_expect_geq(ah_file_count(env.log, "connected to 127.0.0.1"), 2, "two connections (see %s)", env.log);
	cr_expect_eq(count_keys("=0:B"), 0, "no invented zeros");
	stop_agent_cleanly();
}

/* Address 40 is outside the server's map (exception 2): that metric never
 * appears, not even flagged, while the others are read normally. */
Test(agent_modbus, refused_register_never_published) {
	port = pht_free_port();
	start_server();
	start_agent("{\"address\":1,\"type\":\"uint16\",\"scale\":0.01,\"metric\":\"so2\",\"point\":\"stack-1\"},"
		    "{\"address\":40,\"metric\":\"nox\",\"point\":\"stack-1\"}", 200);
	cr_assert_eq(wait_keys("so2=50:N,", 3, WAIT_MS), 0, "see %s", env.log);
	cr_expect_eq(count_keys("nox"), 0);
	stop_agent_cleanly();
}
