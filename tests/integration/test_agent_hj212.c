/*
 * test_agent_hj212.c — the "hj212" source end to end: a simulated data
 * logger (a TCP client in this file) → a real parkagent → a real Mosquitto
 * → the fake hub of agent_helpers.h. Every server binds 127.0.0.1.
 *
 * One behaviour per Test: the round trip of real-time, minute, hourly and
 * daily data (metrics, units, flags, UTC timestamps); the response only
 * after the outbox commit and only when the Flag asks; a corpus of bad
 * packets (CRC-broken, truncated, oversized, garbage) among good ones,
 * split across TCP writes and several in one write; wrong PW / unknown MN
 * neither published nor answered; resends answered but not published
 * twice; several loggers at once and the max_clients bound; the
 * --hj212-dump commissioning mode; a split message, an HJ/T 212-2005 and
 * an HJ 212-2025 packet (issue #20).
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_helpers.h"
#include "hj212/hj212.h"
#include "parkhub/timefmt.h"

#define WAIT_MS 30000
#define MN1 "88888880000001"
#define MN2 "LD130133000015"

static struct ah_env env;
static char why[1024];
static int port;

static void setup(void) { cr_assert_eq(ah_env_setup(&env, true), 0, "sandbox (broker, fake hub)"); }
static void teardown(void) { ah_env_teardown(&env); }

TestSuite(agent_hj212, .init = setup, .fini = teardown, .timeout = 90);

/* Starts the agent with an hj212 source; extra is appended to the source
 * object (",\"key\":…"). Waits until it listens. */
static void start_agent(const char *extra, int max_delay_ms) {
	char src[2048];
	port = pht_free_port();
	cr_assert_gt(port, 0);
	snprintf(src, sizeof src,
		 "[{\"type\":\"hj212\",\"name\":\"cems\",\"listen\":\"127.0.0.1\",\"port\":%d,\"password\":\"123456\","
		 "\"loggers\":[{\"mn\":\"" MN1 "\",\"point\":\"stack-1\",\"minute_point\":\"stack-1-min\","
		 "\"hour_point\":\"stack-1-hour\",\"day_point\":\"stack-1-day\"},"
		 "{\"mn\":\"" MN2 "\",\"point\":\"stack-2\"}]%s}]",
		 port, extra ? extra : "");
	struct ah_cfg c = {.sources = src, .max_delay_ms = max_delay_ms};
	cr_assert_eq(ah_env_start_agent(&env, &c), 0);
	cr_assert_eq(ah_wait_file_count(env.log, "listening for HJ 212", 1, WAIT_MS), 0, "agent listening (see %s)",
		     env.log);
}

/* ---- the simulated data logger ------------------------------------------ */

static int logger_connect(void) {
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0, "connect: %s", strerror(errno));
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static void send_all(int fd, const char *p, size_t n) {
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		cr_assert_gt(w, 0, "send: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
}

/* Sends in chunks of `step` bytes with a pause between (TCP reads split). */
static void send_split(int fd, const char *p, size_t n, size_t step) {
	for (size_t i = 0; i < n; i += step) {
		send_all(fd, p + i, n - i < step ? n - i : step);
		pht_sleep_ms(2);
	}
}

/* A framed packet: the data segment seg with the standard CRC. */
static char *packet(char *buf, size_t cap, const char *seg) {
	int n = ph_hj212_frame(seg, strlen(seg), PH_HJ212_CRC_STD, false, buf, cap);
	cr_assert_gt(n, 0);
	return buf;
}

/* Reads responses for up to timeout_ms (or until `want` arrived); their
 * QNs go into qns (space-separated). Returns how many. */
static int read_responses(int fd, int want, int timeout_ms, char *qns, size_t cap, long long *first_at) {
	struct ph_hj212_framer f;
	int got = 0;
	long long end = pht_now_ms() + timeout_ms;
	qns[0] = '\0';
	cr_assert_eq(ph_hj212_framer_init(&f, 1024, PH_HJ212_CRC_STD), 0);
	while (got < want && pht_now_ms() < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, (int)(end - pht_now_ms())) <= 0)
			break;
		char buf[4096];
		ssize_t r = recv(fd, buf, sizeof buf, 0);
		if (r <= 0)
			break;
		ph_hj212_framer_feed(&f, buf, (size_t)r);
		const char *seg;
		size_t len;
		struct ph_err err;
		int rc;
		while ((rc = ph_hj212_framer_next(&f, &seg, &len, &err)) != 0) {
			cr_assert_eq(rc, 1, "the agent sent a bad frame: %s", err.msg);
			struct ph_hj212_packet pk;
			cr_assert_eq(ph_hj212_parse(seg, len, &pk, &err), 0, "%s", err.msg);
			cr_expect_eq(pk.cn, 9014, "a data response");
			cr_expect_str_eq(pk.st, "91");
			if (!got && first_at)
				*first_at = pht_now_ms();
			got++;
			strncat(qns, pk.qn, cap - strlen(qns) - 2);
			strcat(qns, " ");
		}
	}
	ph_hj212_framer_fini(&f);
	return got;
}

/* A packet of logger mn, command cn, at local time lt ("yyyyMMddHHmmss"),
 * with the CP body given. */
static const char *seg_of(char *buf, size_t cap, const char *qn, int cn, const char *mn, int flag, const char *pw,
			  const char *lt, const char *body) {
	snprintf(buf, cap, "QN=%s;ST=31;CN=%d;PW=%s;MN=%s;Flag=%d;CP=&&DataTime=%s;%s&&", qn, cn, pw, mn, flag, lt,
		 body);
	return buf;
}

static void want_rec(struct ah_keys *k, const char *json) {
	cr_assert_eq(ah_keys_add_line(k, json), 0, "%s", json);
}

static void stop_agent_cleanly(void) {
	int status = 0;
	cr_assert_eq(pht_proc_kill(&env.agent, SIGTERM), 0);
	cr_assert_eq(pht_proc_wait(&env.agent, 10000, &status), 0, "agent did not stop on SIGTERM");
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "agent exit status %#x", status);
	cr_expect_eq(ah_log_clean(env.log, why, sizeof why), 0, "%s", why);
}

/* Real-time, minute, hourly and daily data: the right points, metrics,
 * units (a00000 m³/s → Nm³/h), flags and UTC timestamps (DataTime is
 * China Standard Time, UTC+8), one response per packet echoing its QN. */
Test(agent_hj212, round_trip_all_data_commands) {
	char seg[1024], pk[1200], stream[8192] = "", qns[512];
	struct ah_keys want = {0};
	start_agent(NULL, 0);
	int fd = logger_connect();
	strcat(stream, packet(pk, sizeof pk, seg_of(seg, sizeof seg, "20260301143000001", 2011, MN1, 5, "123456",
						  "20260301143000", "a21026-Rtd=35.2,a21026-Flag=N;a21002-Rtd=88.0,a21002-Flag=C;"
						  "a34013-Rtd=4.1,a34013-Flag=N;a00000-Rtd=23.5,a00000-Flag=N;a19001-Rtd=12.1,a19001-Flag=N;"
						  "a01012-Rtd=135.0,a01012-Flag=T")));
	want_rec(&want, "{\"ts\":\"2026-03-01T06:30:00Z\",\"point\":\"stack-1\",\"values\":{\"so2\":35.2,\"nox\":88,"
			"\"pm\":4.1,\"flow\":84600,\"o2\":12.1,\"temp\":135},\"flags\":{\"nox\":\"C\",\"temp\":\"T\"}}");
	strcat(stream, packet(pk, sizeof pk, seg_of(seg, sizeof seg, "20260301143100002", 2051, MN1, 5, "123456",
						  "20260301143000", "a21026-Avg=35.0,a21026-Min=30.1,a21026-Max=40.2,a21026-Flag=N;"
						  "a21026-Cou=0.12;a21002-Avg=87.5,a21002-Flag=M")));
	want_rec(&want, "{\"ts\":\"2026-03-01T06:30:00Z\",\"point\":\"stack-1-min\",\"values\":{\"so2\":35.0,"
			"\"nox\":87.5},\"flags\":{\"nox\":\"M\"}}");
	strcat(stream, packet(pk, sizeof pk, seg_of(seg, sizeof seg, "20260301150000003", 2061, MN1, 5, "123456",
						  "20260301140000", "a21026-Avg=34.0,a21026-Flag=N;a01013-Avg=-0.052,a01013-Flag=D")));
	want_rec(&want, "{\"ts\":\"2026-03-01T06:00:00Z\",\"point\":\"stack-1-hour\",\"values\":{\"so2\":34.0,"
			"\"pressure\":-0.052},\"flags\":{\"pressure\":\"D\"}}");
	strcat(stream, packet(pk, sizeof pk, seg_of(seg, sizeof seg, "20260302000500004", 2031, MN1, 5, "123456",
						  "20260301000000", "a21026-Avg=33.0,a21026-Flag=N")));
	want_rec(&want, "{\"ts\":\"2026-02-28T16:00:00Z\",\"point\":\"stack-1-day\",\"values\":{\"so2\":33.0}}");
	send_all(fd, stream, strlen(stream)); /* several packets in one write */

	cr_assert_eq(ah_hub_wait_records(env.hub, AH_AGENT, 4, WAIT_MS), 0, "got %zu of 4 records (see %s)",
		     ah_hub_records(env.hub, AH_AGENT), env.log);
	cr_expect_eq(read_responses(fd, 4, 10000, qns, sizeof qns, NULL), 4, "responses: %s", qns);
	cr_expect_str_eq(qns, "20260301143000001 20260301143100002 20260301150000003 20260302000500004 ",
			 "one per packet, in order, QN echoed");
	cr_assert_eq(ah_hub_wait_acked(env.hub, AH_AGENT, WAIT_MS), 0);
	pht_sleep_ms(300);
	cr_expect_eq(ah_hub_same_records(env.hub, AH_AGENT, &want, why, sizeof why), 0, "%s", why);
	close(fd);
	stop_agent_cleanly();
	ah_keys_free(&want);
}

/* The response waits for the outbox commit (batch.max_delay_ms 1500 here:
 * it cannot come sooner), and a packet with Flag=4 (no A bit) gets none. */
Test(agent_hj212, response_after_commit_and_only_when_asked) {
	char seg[1024], pk[1200], qns[256];
	start_agent(NULL, 1500);
	int fd = logger_connect();
	packet(pk, sizeof pk, seg_of(seg, sizeof seg, "20260301143000001", 2011, MN1, 4, "123456", "20260301143000",
				     "a21026-Rtd=10"));
	send_all(fd, pk, strlen(pk));
	cr_assert_eq(ah_hub_wait_records(env.hub, AH_AGENT, 1, WAIT_MS), 0, "see %s", env.log);
	cr_expect_eq(read_responses(fd, 1, 1500, qns, sizeof qns, NULL), 0, "Flag=4 asks for no response");

	packet(pk, sizeof pk, seg_of(seg, sizeof seg, "20260301143000002", 2011, MN1, 5, "123456", "20260301143001",
				     "a21026-Rtd=11"));
	long long sent = pht_now_ms(), at = 0;
	send_all(fd, pk, strlen(pk));
	cr_assert_eq(read_responses(fd, 1, 10000, qns, sizeof qns, &at), 1);
	cr_expect_geq(at - sent, 1200, "answered after %lld ms: before the batch could have been committed", at - sent);
	cr_expect_eq(ah_hub_wait_records(env.hub, AH_AGENT, 2, WAIT_MS), 0);
	close(fd);
	stop_agent_cleanly();
}

/* A corpus of bad packets among good ones, written in one piece, split
 * byte-wise and in 7-byte pieces: exactly the good ones are published and
 * answered; each bad one is refused with its reason in the log. */
Test(agent_hj212, packet_corpus_good_ones_survive_bad_ones) {
	char seg[2048], pk[1200], good[3][1200], stream[16384] = "", qns[512];
	struct ah_keys want = {0};
	start_agent(",\"max_packet\":1024", 0);
	for (int i = 0; i < 3; i++) {
		char qn[24], lt[16], body[64], rec[256];
		snprintf(qn, sizeof qn, "2026030114300000%d", i);
		snprintf(lt, sizeof lt, "2026030114300%d", i);
		snprintf(body, sizeof body, "a21026-Rtd=%d.5,a21026-Flag=N", 20 + i);
		strcpy(good[i], packet(pk, sizeof pk, seg_of(seg, sizeof seg, qn, 2011, MN1, 5, "123456", lt, body)));
		snprintf(rec, sizeof rec, "{\"ts\":\"2026-03-01T06:30:0%dZ\",\"point\":\"stack-1\",\"values\":{\"so2\":%d.5}}",
			 i, 20 + i);
		want_rec(&want, rec);
	}
	char badcrc[1200], trunc[1200], oversized[2100];
	strcpy(badcrc, good[0]);
	badcrc[strlen(badcrc) - 3] = badcrc[strlen(badcrc) - 3] == '0' ? '1' : '0';
	snprintf(trunc, sizeof trunc, "%.*s", (int)strlen(good[1]) / 2, good[1]);
	memset(seg, 'x', 1100);
	seg[1100] = '\0';
	snprintf(oversized, sizeof oversized, "##1100%sFFFF\r\n", seg); /* over max_packet 1024 */
	snprintf(stream, sizeof stream, "garbage\r\n%s%s%s%s\x01\x02##00zz%s%s", badcrc, good[0], trunc, oversized,
		 good[1], good[2]);

	int fd = logger_connect();
	send_split(fd, stream, strlen(stream) / 2, 1);
	send_split(fd, stream + strlen(stream) / 2, strlen(stream) - strlen(stream) / 2, 7);
	cr_assert_eq(ah_hub_wait_records(env.hub, AH_AGENT, 3, WAIT_MS), 0, "got %zu of 3 (see %s)",
		     ah_hub_records(env.hub, AH_AGENT), env.log);
	cr_expect_eq(read_responses(fd, 3, 10000, qns, sizeof qns, NULL), 3, "%s", qns);
	cr_expect_str_eq(qns, "20260301143000000 20260301143000001 20260301143000002 ");
	cr_assert_eq(ah_hub_wait_acked(env.hub, AH_AGENT, WAIT_MS), 0);
	pht_sleep_ms(300);
	cr_expect_eq(ah_hub_same_records(env.hub, AH_AGENT, &want, why, sizeof why), 0, "%s", why);
	cr_expect_geq(ah_file_count(env.log, "PH_ECRC"), 1, "CRC refusal logged (see %s)", env.log);
	cr_expect_geq(ah_file_count(env.log, "PH_ETOOLARGE"), 1, "oversized refusal logged");
	cr_expect_geq(ah_file_count(env.log, "PH_EFRAME"), 2, "truncated and bad length logged");
	close(fd);
	stop_agent_cleanly();
	ah_keys_free(&want);
}

/* A wrong PW and an unknown MN: neither published nor answered; the
 * logger's next good packet still is. */
Test(agent_hj212, wrong_password_and_unknown_mn_refused_unanswered) {
	char seg[1024], pk[1200], stream[4096] = "", qns[256];
	start_agent(NULL, 0);
	int fd = logger_connect();
	strcat(stream, packet(pk, sizeof pk, seg_of(seg, sizeof seg, "1", 2011, MN1, 5, "000000", "20260301143000",
						  "a21026-Rtd=1")));
	strcat(stream, packet(pk, sizeof pk, seg_of(seg, sizeof seg, "2", 2011, "NOBODY01", 5, "123456",
						  "20260301143000", "a21026-Rtd=2")));
	strcat(stream, packet(pk, sizeof pk, seg_of(seg, sizeof seg, "3", 2011, MN2, 5, "123456", "20260301143000",
						  "a21026-Rtd=3")));
	send_all(fd, stream, strlen(stream));
	cr_assert_eq(ah_hub_wait_records(env.hub, AH_AGENT, 1, WAIT_MS), 0, "see %s", env.log);
	cr_expect_eq(read_responses(fd, 3, 3000, qns, sizeof qns, NULL), 1, "%s", qns);
	cr_expect_str_eq(qns, "3 ");
	pht_sleep_ms(300);
	cr_expect_eq(ah_hub_records(env.hub, AH_AGENT), 1);
	cr_expect_geq(ah_file_count(env.log, "PH_EPASSWORD"), 1, "see %s", env.log);
	cr_expect_geq(ah_file_count(env.log, "NOBODY01"), 1);
	close(fd);
	stop_agent_cleanly();
}

/* A logger that got no response resends the same packet (same QN): it is
 * answered again but published once. */
Test(agent_hj212, resend_answered_again_published_once) {
	char seg[1024], pk[1200], qns[256];
	start_agent(NULL, 0);
	int fd = logger_connect();
	packet(pk, sizeof pk, seg_of(seg, sizeof seg, "20260301143000009", 2011, MN1, 5, "123456", "20260301143000",
				     "a21026-Rtd=7"));
	send_all(fd, pk, strlen(pk));
	cr_assert_eq(read_responses(fd, 1, 10000, qns, sizeof qns, NULL), 1);
	send_all(fd, pk, strlen(pk));
	cr_assert_eq(read_responses(fd, 1, 10000, qns, sizeof qns, NULL), 1, "the resend is answered");
	cr_assert_eq(ah_hub_wait_acked(env.hub, AH_AGENT, WAIT_MS), 0);
	pht_sleep_ms(500);
	cr_expect_eq(ah_hub_records(env.hub, AH_AGENT), 1, "published once");
	close(fd);
	stop_agent_cleanly();
}

/* Three loggers connected at once (max_clients 3) each get their data
 * through; a fourth connection is closed at once. */
Test(agent_hj212, several_loggers_at_once_and_max_clients) {
	char seg[1024], pk[1200], qns[256], qn[24];
	start_agent(",\"max_clients\":3", 0);
	int fds[3];
	for (int i = 0; i < 3; i++)
		fds[i] = logger_connect();
	pht_sleep_ms(300);
	int extra = logger_connect();
	struct pollfd p = {.fd = extra, .events = POLLIN};
	char b;
	cr_expect_eq(poll(&p, 1, 5000), 1, "the fourth connection is closed");
	cr_expect_eq(recv(extra, &b, 1, 0), 0);
	close(extra);
	for (int round = 0; round < 5; round++)
		for (int i = 0; i < 3; i++) {
			char lt[16], body[64];
			snprintf(qn, sizeof qn, "2026030114300%d%d", round, i);
			snprintf(lt, sizeof lt, "2026030114%02d%02d", round, i);
			snprintf(body, sizeof body, "a21026-Rtd=%d", 10 * i + round);
			packet(pk, sizeof pk, seg_of(seg, sizeof seg, qn, 2011, i == 1 ? MN2 : MN1, 5, "123456", lt, body));
			send_all(fds[i], pk, strlen(pk));
		}
	for (int i = 0; i < 3; i++)
		cr_expect_eq(read_responses(fds[i], 5, 10000, qns, sizeof qns, NULL), 5, "logger %d: %s", i, qns);
	cr_expect_eq(ah_hub_wait_records(env.hub, AH_AGENT, 15, WAIT_MS), 0, "got %zu of 15",
		     ah_hub_records(env.hub, AH_AGENT));
	cr_expect_geq(ah_file_count(env.log, "max_clients"), 1, "see %s", env.log);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	stop_agent_cleanly();
}

/* --hj212-dump: the public samples decode to the records the source would
 * publish, and the refusals are named. */
Test(agent_hj212, dump_prints_records_and_refusals) {
	char path[1024], out[65536];
	int code = -1;
	snprintf(path, sizeof path, "%s/tests/data/hj212/samples.txt", getenv("PH_SOURCE_DIR"));
	const char *argv[] = {ah_parkagent(), "--hj212-dump", path, NULL};
	cr_assert_eq(pht_run(argv, 20000, out, sizeof out, &code), 0);
	cr_expect_eq(code, 0, "%s", out);
	cr_expect(strstr(out, "{\"kind\":\"emission\",\"ts\":\"2019-10-12T05:37:10.000Z\",\"point\":\"y80110010000010\""),
		  "%s", out);
	cr_expect(strstr(out, "{\"kind\":\"emission\",\"ts\":\"2021-03-01T03:11:00.000Z\",\"point\":\"zldsz20210127\","
			      "\"values\":{\"w_ph\":8.33,"),
		  "the water packet decodes to the catalogue's water metrics: %s", out);
	cr_expect(strstr(out, "# 11 packets: 2 records, 4 refused, 1 not published"), "%s", out);
	cr_expect(strstr(out, "PH_ECRC"), "%s", out);
}

/* A packet whose codes all map to nothing is still answered (there is
 * nothing to commit, so it must not wait for a flush that never comes),
 * and a connection silent for idle_timeout_s is closed by the agent. */
Test(agent_hj212, unmapped_packet_answered_and_idle_connection_closed) {
	char seg[1024], pk[1200], qns[256];
	start_agent(",\"idle_timeout_s\":1", 0);
	int fd = logger_connect();
	packet(pk, sizeof pk, seg_of(seg, sizeof seg, "20260301143000077", 2011, MN1, 5, "123456", "20260301143000",
				     "w01009-Rtd=7.1")); /* dissolved oxygen: no catalogue metric */
	send_all(fd, pk, strlen(pk));
	cr_expect_eq(read_responses(fd, 1, 5000, qns, sizeof qns, NULL), 1, "see %s", env.log);
	cr_expect_geq(ah_file_count(env.log, "mapped to no metric"), 1);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char b;
	long long t0 = pht_now_ms();
	cr_expect_eq(poll(&p, 1, 5000), 1, "closed when idle");
	cr_expect_eq(recv(fd, &b, 1, 0), 0);
	cr_expect_lt(pht_now_ms() - t0, 4000);
	cr_expect_geq(ah_file_count(env.log, "idle timeout"), 1);
	close(fd);
	cr_expect_eq(ah_hub_records(env.hub, AH_AGENT), 0);
	stop_agent_cleanly();
}

/* Issue #20 end to end: a split message (PNUM=2, parts in reverse order,
 * one with PNO before PNUM) becomes one record and each part is answered;
 * an HJ/T 212-2005 packet (no QN, no Flag, old codes) is read with the old
 * codes and not answered; an HJ 212-2025 packet (Flag=9) is read with the
 * 2017 codes and answered with Flag=8. */
Test(agent_hj212, split_message_2005_and_2025_packets) {
	char seg[1024], pk[1200], qns[512];
	struct ah_keys want = {0};
	start_agent(NULL, 0);
	int fd = logger_connect();
	snprintf(seg, sizeof seg, "QN=20260301150000007;ST=31;CN=2061;PW=123456;MN=" MN1 ";Flag=7;PNO=2;PNUM=2;"
		 "CP=&&DataTime=20260301140000;a21002-Avg=80.5,a21002-Flag=N&&");
	packet(pk, sizeof pk, seg);
	send_all(fd, pk, strlen(pk));
	cr_expect_eq(read_responses(fd, 1, 10000, qns, sizeof qns, NULL), 1, "a held part is answered (see %s)", env.log);
	snprintf(seg, sizeof seg, "QN=20260301150000007;ST=31;CN=2061;PW=123456;MN=" MN1 ";Flag=7;PNUM=2;PNO=1;"
		 "CP=&&DataTime=20260301140000;a21026-Avg=34.0,a21026-Flag=N&&");
	packet(pk, sizeof pk, seg);
	send_all(fd, pk, strlen(pk));
	want_rec(&want, "{\"ts\":\"2026-03-01T06:00:00Z\",\"point\":\"stack-1-hour\",\"values\":{\"so2\":34.0,\"nox\":80.5}}");
	cr_expect_eq(read_responses(fd, 1, 10000, qns, sizeof qns, NULL), 1, "the last part after the commit");
	cr_expect_str_eq(qns, "20260301150000007 ");

	snprintf(seg, sizeof seg, "ST=31;CN=2011;PW=123456;MN=" MN2 ";CP=&&DataTime=20260301143000;02-Rtd=13.00,"
		 "02-Flag=N;02-ZsRtd=18.05,02-Flag=N;B02-Rtd=38.57&&");
	packet(pk, sizeof pk, seg);
	send_all(fd, pk, strlen(pk));
	want_rec(&want, "{\"ts\":\"2026-03-01T06:30:00Z\",\"point\":\"stack-2\",\"values\":{\"so2\":13.0,\"flow\":138852}}");
	snprintf(seg, sizeof seg, "QN=20260301143005009;ST=32;CN=2011;PW=123456;MN=" MN1 ";Flag=9;"
		 "CP=&&DataTime=20260301143005;w01018-Rtd=50.4,w01018-Flag=N;w00000-Rtd=2.5&&");
	packet(pk, sizeof pk, seg);
	send_all(fd, pk, strlen(pk));
	want_rec(&want, "{\"ts\":\"2026-03-01T06:30:05Z\",\"point\":\"stack-1\",\"values\":{\"w_cod\":50.4,\"w_flow\":9}}");
	cr_expect_eq(read_responses(fd, 1, 10000, qns, sizeof qns, NULL), 1, "only the 2025 packet asks");
	cr_expect_str_eq(qns, "20260301143005009 ");
	cr_assert_eq(ah_hub_wait_records(env.hub, AH_AGENT, 3, WAIT_MS), 0, "got %zu of 3 records (see %s)",
		     ah_hub_records(env.hub, AH_AGENT), env.log);
	cr_assert_eq(ah_hub_wait_acked(env.hub, AH_AGENT, WAIT_MS), 0);
	pht_sleep_ms(300);
	cr_expect_eq(ah_hub_same_records(env.hub, AH_AGENT, &want, why, sizeof why), 0, "%s", why);
	close(fd);
	stop_agent_cleanly();
	ah_keys_free(&want);
}
