/* The HTTP API's bounds (api.h, docs/security.md "HTTP API") over loopback:
 * /healthz still answers while idle connections or slow-header clients
 * hold what they can; a client that trickles its headers or its body is
 * cut at the deadline however often it sends a byte; the per-IP limit;
 * HTTPS refuses TLS 1.0 and 1.1; the "http" keys of the config.
 *
 * The attackers connect from 127.0.0.2 or 127.0.0.3 (Linux routes all of
 * 127/8 to lo), the /healthz probe from 127.0.0.1: a per-IP limit is what
 * keeps one source from taking every connection. Every attack loop is
 * bounded and stops itself; nothing listens beyond 127.0.0.1. No test
 * asserts a duration: the probes have a generous timeout, and "the attack
 * was still on" is checked by the attackers' sockets being open.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "parkhub/alloc.h"
#include "api/api.h"
#include "parkhub/catalog.h"
#include "config/hub_config.h"
#include "store/store.h"
#include "parkhub/timefmt.h"

/* A starved probe fails: attackers hold their connections longer than this
 * (the header deadline, and before it was there the 30 s idle timeout). */
#define PROBE_TIMEOUT_MS 10000L

static char dir[256], dbpath[300];
static struct ph_store *st;
static struct ph_hub_config cfg;
static struct ph_catalog *cat;
static struct ph_api_conf conf;
static struct ph_api_env env;
static struct ph_refs refs;
static struct ph_api *api;

static void setup(void) {
  struct ph_err err = {0};
  strcpy(dir, "/tmp/parkhub-apilim-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  snprintf(dbpath, sizeof dbpath, "%s/hub.db", dir);
  cr_assert_eq(ph_store_open(dbpath, &st, &err), 0, "%s", err.msg);
  memset(&cfg, 0, sizeof cfg);
  cfg.nparks = 1;
  strcpy(cfg.parks[0].id, "p1");
  strcpy(cfg.parks[0].tz, "UTC");
  cfg.parks[0].ents = ph_calloc(1, sizeof(struct ph_hub_ent));
  struct ph_hub_ent *e = &cfg.parks[0].ents[0];
  strcpy(e->id, "e1");
  e->expected_interval_s = 60;
  strcpy(e->standard, "gb31574-2015");
  strcpy(e->agents[e->nagents++], "gw1");
  cfg.parks[0].nents = 1;
  cr_assert_eq(ph_catalog_load_builtin(&cat, &err), 0, "%s", err.msg);
  ph_api_conf_defaults(&conf); /* the production defaults: what an attacker meets */
  conf.enabled = true;
  conf.port = 0;
  refs = (struct ph_refs){.cfg = &cfg, .cat = cat};
  env = (struct ph_api_env){.db_path = dbpath, .refs = &refs};
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void teardown(void) {
  ph_api_stop(api);
  api = NULL;
  ph_store_close(st);
  ph_hub_config_fini(&cfg);
  ph_catalog_free(cat);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
  curl_global_cleanup();
}

TestSuite(api_limits, .init = setup, .fini = teardown, .timeout = 90);

static void start_api(void) {
  struct ph_err err = {0};
  cr_assert_eq(ph_api_start(&conf, &env, &api, &err), 0, "%s", err.msg);
}

/* ---- clients ---- */

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static size_t sink(char *p, size_t sz, size_t n, void *u) {
  (void)p, (void)u;
  return sz * n;
}

/* GET /healthz from 127.0.0.1; *status gets the HTTP status. */
static CURLcode healthz(long *status) {
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/healthz", ph_api_port(api));
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, PROBE_TIMEOUT_MS);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  *status = 0;
  CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
  curl_easy_cleanup(c);
  return rc;
}

/* A TCP connection from src (a loopback address) to the API; -1 when the
 * kernel would not connect within 2 s. */
static int connect_from(const char *src) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  cr_assert_geq(fd, 0);
  struct sockaddr_in me = {.sin_family = AF_INET}, to = {.sin_family = AF_INET};
  cr_assert_eq(inet_pton(AF_INET, src, &me.sin_addr), 1);
  cr_assert_eq(bind(fd, (struct sockaddr *)&me, sizeof me), 0, "bind %s: %s", src, strerror(errno));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons((uint16_t)ph_api_port(api));
  if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  struct pollfd p = {.fd = fd, .events = POLLOUT};
  int soerr = 0;
  socklen_t len = sizeof soerr;
  if (poll(&p, 1, 2000) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) || soerr) {
    close(fd);
    return -1;
  }
  return fd;
}

/* The server closed (or reset) fd: EOF or an error is waiting. Data
 * (an answer) counts as not closed. */
static bool closed_by_server(int fd, int wait_ms) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  if (poll(&p, 1, wait_ms) != 1) return false;
  char b;
  ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* Sends one byte; false when the server has closed the connection. */
static bool send_byte(int fd, char ch) {
  if (closed_by_server(fd, 0)) return false;
  return send(fd, &ch, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1 || errno == EAGAIN;
}

static int count_open(const int *fds, int n) {
  int open = 0;
  for (int i = 0; i < n; i++)
    if (fds[i] >= 0 && !closed_by_server(fds[i], 0)) open++;
  return open;
}

static void close_all(int *fds, int n) {
  for (int i = 0; i < n; i++)
    if (fds[i] >= 0) close(fds[i]);
}

/* ---- exhaustion ---- */

#define IDLE_ATTACKERS 130

/* 130 connections that never send a byte (more than the old limit of 128). */
Test(api_limits, idle_connections_do_not_starve_healthz) {
  start_api();
  int fds[IDLE_ATTACKERS];
  for (int i = 0; i < IDLE_ATTACKERS; i++) fds[i] = connect_from("127.0.0.2");
  long status;
  CURLcode rc = healthz(&status);
  int open = count_open(fds, IDLE_ATTACKERS);
  close_all(fds, IDLE_ATTACKERS);
  cr_assert_eq(rc, CURLE_OK, "/healthz under %d idle connections: %s", IDLE_ATTACKERS, curl_easy_strerror(rc));
  cr_assert_eq(status, 200);
  cr_assert_gt(open, 0, "the attack was still on: the server held some of its connections");
}

#define SLOW_ATTACKERS 500
#define SLOW_ROUNDS 30 /* at most: one byte per socket per round, a round a second */

static const char slow_request[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";

struct slow_attack {
  int fds[SLOW_ATTACKERS];
  int rounds;
  atomic_bool stop;
  atomic_int done; /* rounds sent */
};

static void slow_round(struct slow_attack *a, int r) {
  for (int i = 0; i < SLOW_ATTACKERS; i++) {
    if (a->fds[i] < 0) continue;
    char ch = r < (int)sizeof slow_request - 1 ? slow_request[r] : 'a';
    if (!send_byte(a->fds[i], ch)) {
      close(a->fds[i]);
      a->fds[i] = -1;
    }
  }
  atomic_store(&a->done, r + 1);
}

static void *slow_thread(void *p) {
  struct slow_attack *a = p;
  for (int r = 1; r < SLOW_ROUNDS && !atomic_load(&a->stop); r++) {
    for (int k = 0; k < 10 && !atomic_load(&a->stop); k++) sleep_ms(100);
    if (!atomic_load(&a->stop)) slow_round(a, r);
  }
  return NULL;
}

/* 500 sockets sending one header byte a second from one address. */
Test(api_limits, slow_headers_do_not_starve_healthz) {
  start_api();
  static struct slow_attack a;
  memset(&a, 0, sizeof a);
  for (int i = 0; i < SLOW_ATTACKERS; i++) a.fds[i] = connect_from("127.0.0.2");
  slow_round(&a, 0);
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, slow_thread, &a), 0);
  for (int k = 0; k < 100 && atomic_load(&a.done) < 3; k++) sleep_ms(100); /* the trickle is under way */
  cr_assert_geq(atomic_load(&a.done), 3);
  long status;
  CURLcode rc = healthz(&status);
  int open = count_open(a.fds, SLOW_ATTACKERS);
  atomic_store(&a.stop, true);
  pthread_join(th, NULL);
  close_all(a.fds, SLOW_ATTACKERS);
  cr_assert_eq(rc, CURLE_OK, "/healthz under %d slow clients: %s", SLOW_ATTACKERS, curl_easy_strerror(rc));
  cr_assert_eq(status, 200);
  cr_assert_gt(open, 0, "the attack was still on");
}

/* Connections from one address beyond the per-IP limit are closed at once;
 * the others, and other addresses, are served. */
Test(api_limits, per_ip_limit_closes_the_excess) {
  conf.max_connections_per_ip = 4;
  start_api();
  int fds[10], closed = 0;
  for (int i = 0; i < 10; i++) fds[i] = connect_from("127.0.0.3");
  for (int tries = 0; tries < 50 && closed < 6; tries++) { /* bounded: 5 s */
    sleep_ms(100);
    closed = 10 - count_open(fds, 10);
  }
  int open = count_open(fds, 10);
  long status;
  CURLcode rc = healthz(&status);
  close_all(fds, 10);
  cr_assert_eq(10 - open, 6, "6 of 10 closed, %d are", 10 - open);
  cr_assert_eq(rc, CURLE_OK, "%s", curl_easy_strerror(rc));
  cr_assert_eq(status, 200);
  struct ph_api_stats s;
  ph_api_stats(api, &s);
  cr_assert_geq(s.connections, 5, "4 from 127.0.0.3 and the probe");
}

/* ---- deadlines a trickle cannot push back ---- */

#define TRICKLE_WRITES 60 /* at most: one byte every 250 ms, 15 s in all */

/* Sends head, then one byte of filler every 250 ms; returns the bytes of
 * filler sent before the server closed the connection, or -1 when it never
 * did within TRICKLE_WRITES. */
static int trickle(const char *src, const char *head) {
  int fd = connect_from(src);
  cr_assert_geq(fd, 0);
  cr_assert_eq(send(fd, head, strlen(head), MSG_NOSIGNAL), (ssize_t)strlen(head));
  int sent = -1;
  for (int i = 0; i < TRICKLE_WRITES; i++) {
    if (!send_byte(fd, 'a') || closed_by_server(fd, 250)) {
      sent = i;
      break;
    }
  }
  char b[64];
  ssize_t n = recv(fd, b, sizeof b, MSG_DONTWAIT);
  close(fd);
  cr_assert_leq(n, 0, "closed without an answer");
  return sent;
}

/* The idle timeout is reset by every byte; the header deadline is not. */
Test(api_limits, header_trickle_is_cut_at_the_deadline) {
  conf.header_timeout_s = 2; /* the idle timeout stays at its default */
  start_api();
  int sent = trickle("127.0.0.1", "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
  cr_assert_geq(sent, 0, "the connection outlived %d bytes sent 250 ms apart", TRICKLE_WRITES);
  long status;
  cr_assert_eq(healthz(&status), CURLE_OK);
  cr_assert_eq(status, 200);
  struct ph_api_stats s;
  ph_api_stats(api, &s);
  cr_assert_eq(s.cut_at_header_deadline, 1);
  cr_assert_eq(s.cut_at_body_deadline, 0);
}

/* A kept-alive connection's next request gets a fresh header deadline. */
Test(api_limits, keep_alive_requests_are_served) {
  conf.header_timeout_s = 2;
  start_api();
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/healthz", ph_api_port(api));
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, PROBE_TIMEOUT_MS);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  for (int i = 0; i < 4; i++) { /* 4 requests 1 s apart on one connection: past one header deadline */
    long status = 0, conns = -1;
    cr_assert_eq(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &conns);
    cr_assert_eq(status, 200);
    if (i) cr_assert_eq(conns, 0, "request %d reused the connection", i);
    sleep_ms(1000);
  }
  curl_easy_cleanup(c);
  struct ph_api_stats s;
  ph_api_stats(api, &s);
  cr_assert_eq(s.connections, 1);
  cr_assert_eq(s.cut_at_header_deadline, 0);
}

Test(api_limits, body_trickle_is_cut_at_the_deadline) {
  conf.body_timeout_s = 2;
  start_api();
  int sent = trickle("127.0.0.1", "POST /api/v1/parks/p1/alarms/al-1/ack HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Content-Type: application/json\r\nContent-Length: 10000\r\n\r\n");
  cr_assert_geq(sent, 0, "the connection outlived %d body bytes sent 250 ms apart", TRICKLE_WRITES);
  struct ph_api_stats s;
  ph_api_stats(api, &s);
  cr_assert_eq(s.cut_at_body_deadline, 1);
}

/* ---- HTTPS ---- */

static void make_cert(const char *cert_path, const char *key_path) {
  EVP_PKEY *pk = EVP_EC_gen("P-256");
  cr_assert_not_null(pk);
  X509 *x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, pk);
  X509_NAME *nm = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"parkhub test", -1, -1, 0);
  X509_set_issuer_name(x, nm);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
  cr_assert_not_null(ext);
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  cr_assert_gt(X509_sign(x, pk, EVP_sha256()), 0);
  FILE *f = fopen(cert_path, "w");
  PEM_write_X509(f, x);
  fclose(f);
  f = fopen(key_path, "w");
  PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
  fclose(f);
  X509_free(x);
  EVP_PKEY_free(pk);
}

/* GET /healthz over HTTPS with the client held to exactly one TLS version.
 * The client's own floor is lowered (OpenSSL 3 refuses TLS < 1.2 at its
 * default security level), so only the server can refuse. */
static CURLcode https_healthz(long version, long max_version, long *status) {
  char url[128];
  snprintf(url, sizeof url, "https://127.0.0.1:%d/healthz", ph_api_port(api));
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, PROBE_TIMEOUT_MS);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CAINFO, conf.cert);
  curl_easy_setopt(c, CURLOPT_SSLVERSION, version | max_version);
  curl_easy_setopt(c, CURLOPT_SSL_CIPHER_LIST, "DEFAULT:@SECLEVEL=0");
  *status = 0;
  CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
  curl_easy_cleanup(c);
  return rc;
}

Test(api_limits, https_refuses_tls_1_0_and_1_1) {
  snprintf(conf.cert, sizeof conf.cert, "%s/cert.pem", dir);
  snprintf(conf.key, sizeof conf.key, "%s/key.pem", dir);
  make_cert(conf.cert, conf.key);
  start_api();
  long status;
  CURLcode rc = https_healthz(CURL_SSLVERSION_TLSv1_1, CURL_SSLVERSION_MAX_TLSv1_1, &status);
  cr_assert_neq(rc, CURLE_OK, "a TLS 1.1 handshake was accepted (status %ld)", status);
  rc = https_healthz(CURL_SSLVERSION_TLSv1_0, CURL_SSLVERSION_MAX_TLSv1_0, &status);
  cr_assert_neq(rc, CURLE_OK, "a TLS 1.0 handshake was accepted (status %ld)", status);
  rc = https_healthz(CURL_SSLVERSION_TLSv1_2, CURL_SSLVERSION_MAX_TLSv1_2, &status);
  cr_assert_eq(rc, CURLE_OK, "TLS 1.2: %s", curl_easy_strerror(rc));
  cr_assert_eq(status, 200);
  rc = https_healthz(CURL_SSLVERSION_TLSv1_3, CURL_SSLVERSION_MAX_TLSv1_3, &status);
  cr_assert_eq(rc, CURLE_OK, "TLS 1.3: %s", curl_easy_strerror(rc));
  cr_assert_eq(status, 200);
}

/* A priority string that lets TLS 1.1 back in is refused, not obeyed. */
Test(api_limits, tls_priorities_below_1_2_are_refused) {
  snprintf(conf.cert, sizeof conf.cert, "%s/cert.pem", dir);
  snprintf(conf.key, sizeof conf.key, "%s/key.pem", dir);
  make_cert(conf.cert, conf.key);
  strcpy(conf.tls_priorities, "NORMAL:+VERS-TLS1.1");
  struct ph_err err = {0};
  struct ph_api *a = NULL;
  cr_assert_eq(ph_api_start(&conf, &env, &a, &err), PH_ECONFIG);
  cr_assert_null(a);
  cr_assert(strstr(err.msg, "http.tls_priorities") && strstr(err.msg, "TLS 1.2 or later"), "%s", err.msg);
  strcpy(conf.tls_priorities, "NORMAL:-VERS-ALL:+VERS-TLS1.3");
  start_api();
  long status;
  cr_assert_neq(https_healthz(CURL_SSLVERSION_TLSv1_2, CURL_SSLVERSION_MAX_TLSv1_2, &status), CURLE_OK,
                "the configured string is the one in force");
  cr_assert_eq(https_healthz(CURL_SSLVERSION_TLSv1_3, CURL_SSLVERSION_MAX_TLSv1_3, &status), CURLE_OK);
}

/* ---- the "http" keys ---- */

static int load(const char *json, struct ph_api_conf *c, struct ph_err *err) {
  cJSON *o = cJSON_Parse(json);
  cr_assert_not_null(o, "%s", json);
  int rc = ph_api_conf_load(o, c, err);
  cJSON_Delete(o);
  return rc;
}

Test(api_conf_limits, keys_defaults_and_refusals) {
  struct ph_api_conf c;
  struct ph_err err = {0};
  cr_assert_eq(load("{}", &c, &err), 0, "%s", err.msg);
  cr_assert_eq(c.threads, 4);
  cr_assert_eq(c.max_connections, 128);
  cr_assert_eq(c.max_connections_per_ip, 16);
  cr_assert_eq(c.timeout_s, 15);
  cr_assert_eq(c.header_timeout_s, 10);
  cr_assert_eq(c.body_timeout_s, 30);
  cr_assert_str_eq(c.tls_priorities, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2");
  cr_assert_eq(load("{\"threads\":8,\"max_connections\":512,\"max_connections_per_ip\":32,\"idle_timeout_s\":20,"
                    "\"header_timeout_s\":5,\"body_timeout_s\":12,\"tls_priorities\":\"SECURE128:-VERS-ALL:+VERS-TLS1.3\"}",
                    &c, &err),
               0, "%s", err.msg);
  cr_assert_eq(c.threads, 8);
  cr_assert_eq(c.max_connections, 512);
  cr_assert_eq(c.max_connections_per_ip, 32);
  cr_assert_eq(c.timeout_s, 20);
  cr_assert_eq(c.header_timeout_s, 5);
  cr_assert_eq(c.body_timeout_s, 12);
  cr_assert_str_eq(c.tls_priorities, "SECURE128:-VERS-ALL:+VERS-TLS1.3");
  static const struct {
    const char *json, *path;
  } bad[] = {
      {"{\"threads\":0}", "http.threads"},
      {"{\"threads\":65}", "http.threads"},
      {"{\"max_connections\":0}", "http.max_connections"},
      {"{\"max_connections\":8,\"max_connections_per_ip\":9}", "http.max_connections_per_ip"},
      {"{\"max_connections\":2,\"max_connections_per_ip\":2,\"threads\":3}", "http.threads"},
      {"{\"idle_timeout_s\":0}", "http.idle_timeout_s"},
      {"{\"header_timeout_s\":0}", "http.header_timeout_s"},
      {"{\"body_timeout_s\":\"30\"}", "http.body_timeout_s"},
      {"{\"tls_priorities\":\"NORMAL\"}", "http.tls_priorities"},
      {"{\"tls_priorities\":\"NORMAL:-VERS-ALL:+VERS-TLS1.0\"}", "http.tls_priorities"},
      {"{\"tls_priorities\":\"NOT-A-PRIORITY\"}", "http.tls_priorities"},
      {"{\"tls_priorities\":\"NORMAL:-VERS-ALL:+VERS-DTLS1.2\"}", "http.tls_priorities"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    memset(&err, 0, sizeof err);
    cr_assert_eq(load(bad[i].json, &c, &err), PH_ECONFIG, "%s", bad[i].json);
    cr_assert(strstr(err.msg, bad[i].path), "%s: %s", bad[i].json, err.msg);
  }
}
