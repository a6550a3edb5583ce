/*
 * test_agent_tls.c — parkagent loads the TLS build of Paho only when its
 * configuration asks for TLS (agents/publish/mqttlib.h), and both kinds of
 * agent still deliver: a plain agent never maps libssl or libcrypto (read
 * from /proc/PID/maps of the running process); a TLS agent delivers through
 * a real Mosquitto TLS listener with a CA made here by openssl(1), with
 * server verification and with a client certificate (mutual TLS), and
 * refuses a server its CA did not sign.
 *
 * Each test: a private Mosquitto with its plain listener (the fake hub's)
 * and, for TLS, a second listener on another free port; certificates in a
 * temp dir of their own. One behaviour per Test; every wait is bounded.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "agent_helpers.h"

#define WAIT_MS 30000
#define NREC 300

static struct ah_env env;
static char certs[512]; /* ca.pem, server.pem, client.pem, other-ca.pem and their keys */
static char tls_uri[64];
static char why[1024];

/* ---- certificates (openssl req / x509, EC P-256, valid two days) ---------- */

static int openssl(const char *const argv[])
{
	char out[4096];
	int code = -1;
	int rc = pht_run(argv, 30000, out, sizeof out, &code);

	if (rc || code)
		fprintf(stderr, "openssl %s failed (rc %d, exit %d): %s\n", argv[1], rc, code, out);
	return rc ? rc : code ? -EIO : 0;
}

static void path(char *buf, size_t cap, const char *name) { snprintf(buf, cap, "%s/%s", certs, name); }

/* A self-signed CA: <name>.pem, <name>.key. */
static int make_ca(const char *name)
{
	char key[600], crt[600], subj[128];

	snprintf(key, sizeof key, "%s/%s.key", certs, name);
	snprintf(crt, sizeof crt, "%s/%s.pem", certs, name);
	snprintf(subj, sizeof subj, "/CN=parkhub test %s", name);
	const char *const argv[] = {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
				    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt,
				    "-days", "2", "-subj", subj, NULL};
	return openssl(argv);
}

/* <name>.pem/.key signed by ca.pem; the server's names 127.0.0.1 and localhost. */
static int make_cert(const char *name, bool server)
{
	char key[600], csr[600], crt[600], ext[600], ca[600], cakey[600], subj[128];

	snprintf(key, sizeof key, "%s/%s.key", certs, name);
	snprintf(csr, sizeof csr, "%s/%s.csr", certs, name);
	snprintf(crt, sizeof crt, "%s/%s.pem", certs, name);
	snprintf(ext, sizeof ext, "%s/%s.ext", certs, name);
	path(ca, sizeof ca, "ca.pem");
	path(cakey, sizeof cakey, "ca.key");
	snprintf(subj, sizeof subj, "/CN=%s", server ? "127.0.0.1" : AH_AGENT);
	int rc = ah_write_file(ext, server ? "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
					     "extendedKeyUsage=serverAuth\n"
					   : "extendedKeyUsage=clientAuth\n");
	const char *const req[] = {"/usr/bin/openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
				   "-nodes", "-keyout", key, "-out", csr, "-subj", subj, NULL};
	const char *const sign[] = {"/usr/bin/openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", cakey,
				    "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext, NULL};
	if (!rc)
		rc = openssl(req);
	return rc ? rc : openssl(sign);
}

/* ---- sandboxes ------------------------------------------------------------ */

/* The common sandbox with a plain broker (no TLS listener, no certificates). */
static void setup_plain(void) { cr_assert_eq(ah_env_setup(&env, true), 0, "sandbox (broker, fake hub)"); }

/* Certificates, then the sandbox with a TLS listener beside the broker's
 * plain one (client certificates required when mtls). */
static void setup_tls_listener(bool mtls)
{
	char extra[2048], ca[600], crt[600], key[600];
	int port;

	cr_assert_eq(pht_tmpdir(certs, sizeof certs), 0);
	cr_assert_eq(make_ca("ca"), 0, "CA");
	cr_assert_eq(make_ca("other-ca"), 0, "second CA");
	cr_assert_eq(make_cert("server", true), 0, "server certificate");
	cr_assert_eq(make_cert("client", false), 0, "client certificate");
	cr_assert_gt(port = pht_free_port(), 0);
	path(ca, sizeof ca, "ca.pem");
	path(crt, sizeof crt, "server.pem");
	path(key, sizeof key, "server.key");
	snprintf(extra, sizeof extra, "listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\n%s", port, ca, crt,
		 key, mtls ? "require_certificate true\n" : "");
	cr_assert_eq(ah_env_setup_broker(&env, true, extra), 0, "sandbox with a TLS listener");
	snprintf(tls_uri, sizeof tls_uri, "ssl://127.0.0.1:%d", port);
}
static void setup_tls(void) { setup_tls_listener(false); }
static void setup_mtls(void) { setup_tls_listener(true); }

static void teardown(void)
{
	ah_env_teardown(&env);
	if (certs[0] && !getenv("PHT_KEEP"))
		pht_rmtree(certs);
	certs[0] = '\0';
}

/* ---- checks --------------------------------------------------------------- */

/* /proc/PID/maps of the running agent into buf (NUL-terminated). */
static void read_maps(char *buf, size_t cap)
{
	char p[64];
	FILE *f;
	size_t n;

	snprintf(p, sizeof p, "/proc/%d/maps", (int)env.agent.pid);
	cr_assert(pht_proc_alive(&env.agent), "the agent exited (see %s)", env.log);
	cr_assert_not_null(f = fopen(p, "r"), "%s", p);
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	cr_assert_lt(n, cap - 1, "maps larger than the buffer");
	buf[n] = '\0';
}

/* NREC records written, delivered, acked. */
static void expect_delivery(void)
{
	cr_assert_eq(ah_hub_wait_records(env.hub, AH_AGENT, NREC, WAIT_MS), 0, "got %zu of %d records (see %s)",
		     ah_hub_records(env.hub, AH_AGENT), NREC, env.log);
	cr_assert_eq(ah_hub_wait_acked(env.hub, AH_AGENT, WAIT_MS), 0);
	struct ah_keys want = {0};
	cr_assert_eq(ah_keys_add_range(&want, 0, NREC), 0);
	cr_expect_eq(ah_hub_same_records(env.hub, AH_AGENT, &want, why, sizeof why), 0, "%s", why);
	ah_keys_free(&want);
}

static void stop_agent_cleanly(void)
{
	int status = 0;

	cr_assert_eq(pht_proc_kill(&env.agent, SIGTERM), 0);
	cr_assert_eq(pht_proc_wait(&env.agent, 10000, &status), 0, "agent did not stop on SIGTERM");
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "agent exit status %#x", status);
	cr_expect_eq(ah_log_clean(env.log, why, sizeof why), 0, "%s", why);
}

/* Starts the agent on uri with the given "tls" object (NULL: none). */
static void start_agent(const char *uri, const char *tls)
{
	char src[1024];
	struct ah_cfg c = {.uri = uri, .tls = tls, .sources = ah_env_jsonl_source(&env, src, sizeof src)};

	cr_assert_eq(ah_jsonl_append(env.data, 0, NREC), 0);
	cr_assert_eq(ah_env_start_agent(&env, &c), 0);
}

/* {"ca": <certs>/<ca>[, "cert": client.pem, "key": client.key], "verify": true} */
static const char *tls_json(char *buf, size_t cap, const char *ca, bool client)
{
	snprintf(buf, cap, "{\"ca\": \"%s/%s\", %s%s%s%s%s \"verify\": true}", certs, ca,
		 client ? "\"cert\": \"" : "", client ? certs : "", client ? "/client.pem\", \"key\": \"" : "",
		 client ? certs : "", client ? "/client.key\"," : "");
	return buf;
}

/* ---- tests ---------------------------------------------------------------- */

Test(agent_tls, plain_agent_never_maps_openssl, .init = setup_plain, .fini = teardown, .timeout = 60)
{
	static char maps[1 << 16];

	start_agent(pht_broker_uri(&env.broker), NULL);
	expect_delivery();
	read_maps(maps, sizeof maps);
	cr_expect_null(strstr(maps, "libssl"), "a plain agent maps libssl:\n%s", maps);
	cr_expect_null(strstr(maps, "libcrypto"), "a plain agent maps libcrypto:\n%s", maps);
	cr_expect_null(strstr(maps, "libpaho-mqtt3as"), "a plain agent maps the TLS Paho:\n%s", maps);
	cr_expect_not_null(strstr(maps, "libpaho-mqtt3a.so"), "the plain Paho is not mapped:\n%s", maps);
	cr_expect_eq(ah_file_count(env.log, "client library libpaho-mqtt3a.so.1 (no TLS)"), 1, "see %s", env.log);
	stop_agent_cleanly();
}

Test(agent_tls, tls_agent_delivers_with_server_verification, .init = setup_tls, .fini = teardown, .timeout = 90)
{
	static char maps[1 << 16];
	char tls[2048];

	start_agent(tls_uri, tls_json(tls, sizeof tls, "ca.pem", false));
	expect_delivery();
	read_maps(maps, sizeof maps);
	cr_expect_not_null(strstr(maps, "libpaho-mqtt3as.so"), "the TLS Paho is not mapped:\n%s", maps);
	cr_expect_not_null(strstr(maps, "libssl"), "libssl is not mapped:\n%s", maps);
	cr_expect_eq(ah_file_count(env.log, "client library libpaho-mqtt3as.so.1 (TLS)"), 1, "see %s", env.log);
	stop_agent_cleanly();
}

Test(agent_tls, tls_agent_delivers_with_a_client_certificate, .init = setup_mtls, .fini = teardown, .timeout = 90)
{
	char tls[2048];

	start_agent(tls_uri, tls_json(tls, sizeof tls, "ca.pem", true));
	expect_delivery();
	stop_agent_cleanly();
}

Test(agent_tls, tls_agent_refuses_a_server_its_ca_did_not_sign, .init = setup_tls, .fini = teardown,
     .timeout = 90)
{
	char tls[2048];

	start_agent(tls_uri, tls_json(tls, sizeof tls, "other-ca.pem", false));
	/* It keeps trying: two failed TLS handshakes, nothing published, everything kept. */
	cr_assert_eq(ah_wait_file_count(env.log, "connect failed", 2, WAIT_MS), 0, "no failed connect in %s", env.log);
	cr_expect_eq(ah_file_count(env.log, "connected;"), 0, "the agent connected to a server it cannot verify");
	cr_expect_eq(ah_hub_records(env.hub, AH_AGENT), 0);
	cr_expect_eq(ah_wait_file_count(env.log, "client library libpaho-mqtt3as.so.1 (TLS)", 1, 1000), 0);
	long depth = -1;
	for (int i = 0; i < 100 && (depth = ah_outbox_depth(env.outbox)) < 1; i++)
		pht_sleep_ms(50);
	cr_expect_gt(depth, 0, "the records are not kept in the outbox");
	stop_agent_cleanly();
}
