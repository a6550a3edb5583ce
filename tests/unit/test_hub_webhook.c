/* test_hub_webhook.c — the webhook sink (webhook.c): body formats, config
 * refusals, and real POSTs to a small HTTP receiver on 127.0.0.1 (a
 * socket server thread in this file) that answers from a script of status
 * codes: a 500 is retried with back-off, a 400 is not, a full queue drops
 * its oldest message.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "parkhub/alloc.h"
#include "alarms/deliver.h"
#include "alarms/webhook.h"

#define T0 1795399200000LL

/* ------------------------------------------------------ the receiver */

struct req {
  char path[256];
  char auth[128];
  char body[8192];
  int64_t at_ms;
};

static struct {
  int fd, port;
  pthread_t thread;
  atomic_bool stop;
  int script[32]; /* status per request; past the end: 200 */
  int nscript;
  int delay_ms;   /* before answering */
  pthread_mutex_t mu;
  struct req reqs[64];
  int nreqs;
} srv;

static int64_t mono_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void handle(int c) {
  char buf[16384];
  size_t len = 0;
  char *end = NULL;
  while (len < sizeof buf - 1 && !end) { /* headers */
    struct pollfd p = {c, POLLIN, 0};
    if (poll(&p, 1, 2000) <= 0) return;
    ssize_t n = read(c, buf + len, sizeof buf - 1 - len);
    if (n <= 0) return;
    len += (size_t)n;
    buf[len] = '\0';
    end = strstr(buf, "\r\n\r\n");
  }
  if (!end) return;
  size_t want = 0;
  struct req r = {0};
  for (char *l = buf; l < end; l = strstr(l, "\r\n") + 2) {
    if (!strncasecmp(l, "Content-Length:", 15)) want = (size_t)atol(l + 15);
    if (!strncasecmp(l, "Authorization:", 14)) sscanf(l + 14, " %127[^\r\n]", r.auth);
    if (l == buf) sscanf(l, "POST %255s", r.path);
  }
  size_t have = len - (size_t)(end + 4 - buf);
  while (have < want && len < sizeof buf - 1) {
    struct pollfd p = {c, POLLIN, 0};
    if (poll(&p, 1, 2000) <= 0) return;
    ssize_t n = read(c, buf + len, sizeof buf - 1 - len);
    if (n <= 0) return;
    len += (size_t)n;
    have += (size_t)n;
  }
  buf[len] = '\0';
  snprintf(r.body, sizeof r.body, "%s", end + 4);
  r.at_ms = mono_ms();
  pthread_mutex_lock(&srv.mu);
  int i = srv.nreqs;
  int status = i < srv.nscript ? srv.script[i] : 200;
  if (srv.nreqs < 64) srv.reqs[srv.nreqs++] = r;
  int delay = srv.delay_ms;
  pthread_mutex_unlock(&srv.mu);
  if (delay) usleep((useconds_t)delay * 1000);
  char resp[256];
  int n = snprintf(resp, sizeof resp, "HTTP/1.1 %d X\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
                   "Connection: close\r\n\r\nok", status);
  ssize_t w = write(c, resp, (size_t)n);
  (void)w;
}

static void *serve(void *arg) {
  (void)arg;
  while (!atomic_load(&srv.stop)) {
    struct pollfd p = {srv.fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int c = accept(srv.fd, NULL, NULL);
    if (c < 0) continue;
    handle(c);
    close(c);
  }
  return NULL;
}

static void server_start(void) {
  memset(&srv, 0, sizeof srv);
  pthread_mutex_init(&srv.mu, NULL);
  srv.fd = socket(AF_INET, SOCK_STREAM, 0);
  cr_assert_geq(srv.fd, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cr_assert_eq(bind(srv.fd, (struct sockaddr *)&a, sizeof a), 0);
  socklen_t al = sizeof a;
  getsockname(srv.fd, (struct sockaddr *)&a, &al);
  srv.port = ntohs(a.sin_port);
  cr_assert_eq(listen(srv.fd, 16), 0);
  cr_assert_eq(pthread_create(&srv.thread, NULL, serve, NULL), 0);
}

static void server_stop(void) {
  atomic_store(&srv.stop, true);
  pthread_join(srv.thread, NULL);
  close(srv.fd);
}

static int nreqs(void) {
  pthread_mutex_lock(&srv.mu);
  int n = srv.nreqs;
  pthread_mutex_unlock(&srv.mu);
  return n;
}

/* ---------------------------------------------------------- fixture */

static struct ph_webhook *wh;

static void setup(void) {
  wh = NULL;
  server_start();
}
static void teardown(void) {
  ph_webhook_stop(wh);
  server_stop();
}
TestSuite(webhook, .init = setup, .fini = teardown, .timeout = 60);

static struct ph_alarm_msg msg(int alarm, enum ph_severity sev, enum ph_alarm_transition t) {
  struct ph_alarm_msg m = {.kind = PH_AM_TRANSITION, .transition = t, .ts_ms = T0 + 5000};
  struct ph_alarm *a = &m.alarm;
  a->row = alarm;
  snprintf(a->alarm_id, sizeof a->alarm_id, "a-20261123-%06d", alarm);
  strcpy(a->park, "p1");
  strcpy(a->ent, "cu-old");
  strcpy(a->point, "furnace-1");
  strcpy(a->rule, "quench_window");
  strcpy(a->metric, "quench_out_temp");
  a->severity = sev;
  a->state = t == PH_AT_RAISED ? PH_AS_ACTIVE_UNACKED : PH_AS_CLEARED_UNACKED;
  strcpy(a->message, "cu-old/furnace-1: quench outlet 352 degC inside the 200-400 degC de novo window");
  a->first_ms = T0;
  a->last_ms = T0 + 4000;
  a->count = 3;
  a->has_value = a->has_peak = true;
  a->value = 352;
  a->peak = 371.5;
  return m;
}

static struct ph_webhook_conf conf(const char *json) {
  char full[2048];
  snprintf(full, sizeof full, json, srv.port);
  cJSON *j = cJSON_Parse(full);
  cr_assert_not_null(j, "%s", full);
  struct ph_webhook_conf c;
  struct ph_err err = {0};
  cr_assert_eq(ph_webhook_conf_parse(j, "webhooks[0]", &c, &err), 0, "%s", err.msg);
  cJSON_Delete(j);
  return c;
}

static void start(const char *json) {
  struct ph_webhook_conf c = conf(json);
  struct ph_err err = {0};
  int rc = ph_webhook_start(&c, &wh, &err);
  if (rc == PH_EINVAL && strstr(err.msg, "without libcurl")) cr_skip_test("%s", err.msg);
  cr_assert_eq(rc, 0, "%s", err.msg);
}

/* A sink's rendering settings without a rules file. */
static struct ph_webhook_conf rconf(enum ph_webhook_format f, enum ph_lang lang, const struct ph_tz *tz) {
  struct ph_webhook_conf c;
  ph_webhook_conf_defaults(&c);
  c.format = f;
  c.lang = lang;
  c.tz = tz;
  return c;
}

/* ------------------------------------------------------------ tests */

Test(webhook, bodies_in_the_three_formats) {
  struct ph_alarm_msg m = msg(1, PH_SEV_MAJOR, PH_AT_RAISED);
  char buf[PH_ALARM_JSON_MAX * 2], alert[PH_ALARM_JSON_MAX];
  struct ph_webhook_conf cj = rconf(PH_WH_JSON, PH_LANG_EN, NULL), cw = rconf(PH_WH_WECOM, PH_LANG_EN, NULL),
                         cd = rconf(PH_WH_DINGTALK, PH_LANG_EN, NULL);
  int n = ph_webhook_render(&cj, &m, buf, sizeof buf);
  cr_assert_gt(n, 0);
  cr_assert_eq(ph_alert_json(&m.alarm, m.transition, m.ts_ms, alert, sizeof alert), n);
  cr_assert_str_eq(buf, alert, "json: the alert message as on MQTT");
  cr_assert_gt(ph_webhook_render(&cw, &m, buf, sizeof buf), 0);
  cJSON *j = cJSON_Parse(buf);
  cr_assert_not_null(j, "%s", buf);
  cr_assert_str_eq(cJSON_GetObjectItem(j, "msgtype")->valuestring, "markdown");
  const char *content = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "markdown"), "content")->valuestring;
  cr_assert(strstr(content, "### [MAJOR] quench_window raised: cu-old/furnace-1\n") == content, "%s", content);
  cr_assert(strstr(content, " UTC") != NULL, "no zone given: times say UTC: %s", content);
  cr_assert(strstr(content, "de novo window") != NULL);
  cr_assert(strstr(content, "peak: 371.5") != NULL, "%s", content);
  cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "markdown")), 1, "WeCom: content only");
  cJSON_Delete(j);
  cr_assert_gt(ph_webhook_render(&cd, &m, buf, sizeof buf), 0);
  j = cJSON_Parse(buf);
  cr_assert_not_null(j, "%s", buf);
  cJSON *md = cJSON_GetObjectItem(j, "markdown");
  cr_assert_str_eq(cJSON_GetObjectItem(md, "title")->valuestring, "[MAJOR] quench_window raised: cu-old/furnace-1");
  cr_assert(strstr(cJSON_GetObjectItem(md, "text")->valuestring, "de novo") != NULL);
  cJSON_Delete(j);
  cr_assert_eq(ph_webhook_render(&cw, &m, buf, 64), PH_EFULL);
}

/* The default: Chinese words, times in the park's zone, 24-hour (inv. 4). */
Test(webhook, chat_texts_are_chinese_in_park_time_by_default) {
  struct ph_tz *tz;
  struct ph_err err = {0};
  cr_assert_eq(ph_tz_load("Asia/Shanghai", &tz, &err), 0, "%s", err.msg);
  struct ph_alarm_msg m = msg(1, PH_SEV_CRITICAL, PH_AT_RAISED);
  struct ph_webhook_conf c = conf("{\"url\":\"http://127.0.0.1:%d/\",\"format\":\"dingtalk\"}");
  cr_assert_eq(c.lang, PH_WH_LANG_PARK, "no lang given: the hub sets the park's; left so it reads zh-CN");
  c.tz = tz;
  char buf[PH_ALARM_JSON_MAX * 2], want[64];
  cr_assert_gt(ph_webhook_render(&c, &m, buf, sizeof buf), 0);
  cJSON *j = cJSON_Parse(buf);
  cr_assert_not_null(j, "%s", buf);
  cJSON *md = cJSON_GetObjectItem(j, "markdown");
  cr_assert_str_eq(cJSON_GetObjectItem(md, "title")->valuestring, "[严重] quench_window 触发：cu-old/furnace-1");
  const char *text = cJSON_GetObjectItem(md, "text")->valuestring;
  /* T0 written out in Shanghai time, independently of the code under test */
  time_t t = (time_t)((T0 + 8 * 3600000LL) / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(want, sizeof want, "首次：%Y-%m-%d %H:%M", &tm);
  cr_assert(strstr(text, want) != NULL, "want %s in %s", want, text);
  cr_assert(strstr(text, "状态：**告警中，未确认**，评估 3 次") != NULL, "%s", text);
  cr_assert(strstr(text, "峰值：371.5") != NULL, "%s", text);
  cr_assert(strstr(text, "UTC") == NULL && strstr(text, "T0") == NULL, "no UTC, no ISO T: %s", text);
  cJSON_Delete(j);
  const char *bad = "{\"url\":\"http://x/\",\"lang\":\"fr\"}";
  cJSON *jb = cJSON_Parse(bad);
  struct ph_webhook_conf cb;
  cr_assert_eq(ph_webhook_conf_parse(jb, "webhooks[0]", &cb, &err), PH_ECONFIG);
  cr_assert(strstr(err.msg, "webhooks[0].lang") != NULL, "%s", err.msg);
  cJSON_Delete(jb);
  ph_tz_free(tz);
}

Test(webhook, config_refusals_name_the_key) {
  const char *bad[][2] = {
      {"{\"url\":\"ftp://x/\"}", "webhooks[0].url"},
      {"{\"url\":\"http://x/\",\"format\":\"slack\"}", "webhooks[0].format"},
      {"{\"url\":\"http://x/\",\"retries\":99}", "webhooks[0].retries"},
      {"{\"url\":\"http://x/\",\"backoff_ms\":5000,\"backoff_max_ms\":1000}", "webhooks[0].backoff_max_ms"},
      {"{\"url\":\"http://x/\",\"transitions\":[\"raised\",\"raised\"]}", "webhooks[0].transitions[1]"},
      {"{\"url\":\"http://x/\",\"headers\":{\"Bad Name\":\"v\"}}", "webhooks[0].headers"},
      {"{\"url\":\"http://x/\",\"colour\":\"red\"}", "webhooks[0].colour: unknown key"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cJSON *j = cJSON_Parse(bad[i][0]);
    struct ph_webhook_conf c;
    struct ph_err err = {0};
    cr_assert_eq(ph_webhook_conf_parse(j, "webhooks[0]", &c, &err), PH_ECONFIG, "%s", bad[i][0]);
    cr_assert(strstr(err.msg, bad[i][1]) != NULL, "%s → %s", bad[i][0], err.msg);
    cJSON_Delete(j);
  }
}

Test(webhook, a_500_is_retried_with_backoff_then_delivered) {
  srv.script[0] = 500;
  srv.script[1] = 503;
  srv.nscript = 2;
  start("{\"url\":\"http://127.0.0.1:%d/hook?key=SECRET\",\"format\":\"wecom\",\"backoff_ms\":100,"
        "\"headers\":{\"Authorization\":\"Bearer t0ken\"}}");
  struct ph_alarm_msg m = msg(1, PH_SEV_MAJOR, PH_AT_RAISED);
  cr_assert_eq(ph_webhook_post(wh, &m), 0);
  cr_assert_eq(ph_webhook_flush(wh, 10000), 0);
  cr_assert_eq(nreqs(), 3);
  struct ph_webhook_stats st;
  ph_webhook_stats(wh, &st);
  cr_assert_eq(st.sent, 1);
  cr_assert_eq(st.retries, 2);
  cr_assert_eq(st.failed, 0);
  cr_assert_eq(st.last_status, 200);
  cr_assert_geq(srv.reqs[1].at_ms - srv.reqs[0].at_ms, 90, "first back-off 100 ms");
  cr_assert_geq(srv.reqs[2].at_ms - srv.reqs[1].at_ms, 190, "then 200 ms");
  cr_assert_str_eq(srv.reqs[2].path, "/hook?key=SECRET");
  cr_assert_str_eq(srv.reqs[2].auth, "Bearer t0ken");
  cJSON *j = cJSON_Parse(srv.reqs[2].body);
  cr_assert_not_null(j, "%s", srv.reqs[2].body);
  cr_assert_str_eq(cJSON_GetObjectItem(j, "msgtype")->valuestring, "markdown");
  cJSON_Delete(j);
}

Test(webhook, a_400_is_not_retried_and_gives_up_after_retries) {
  srv.script[0] = 400;
  for (int i = 1; i < 10; i++) srv.script[i] = 500;
  srv.nscript = 10;
  start("{\"url\":\"http://127.0.0.1:%d/\",\"retries\":2,\"backoff_ms\":10}");
  struct ph_alarm_msg m = msg(1, PH_SEV_MAJOR, PH_AT_RAISED);
  ph_webhook_post(wh, &m);
  cr_assert_eq(ph_webhook_flush(wh, 10000), 0);
  cr_assert_eq(nreqs(), 1, "4xx: permanent");
  m = msg(2, PH_SEV_MAJOR, PH_AT_RAISED);
  ph_webhook_post(wh, &m);
  cr_assert_eq(ph_webhook_flush(wh, 10000), 0);
  cr_assert_eq(nreqs(), 4, "the first try and 2 retries");
  struct ph_webhook_stats st;
  ph_webhook_stats(wh, &st);
  cr_assert_eq(st.failed, 2);
  cr_assert_eq(st.sent, 0);
  cJSON *j = cJSON_Parse(srv.reqs[0].body);
  cr_assert_str_eq(cJSON_GetObjectItem(j, "transition")->valuestring, "raised", "format json: the alert");
  cJSON_Delete(j);
}

Test(webhook, filters_severity_transitions_and_refreshes) {
  start("{\"url\":\"http://127.0.0.1:%d/\",\"min_severity\":\"major\",\"transitions\":[\"raised\"]}");
  struct ph_alarm_msg m = msg(1, PH_SEV_MINOR, PH_AT_RAISED);
  cr_assert_eq(ph_webhook_post(wh, &m), 1, "minor is below major");
  m = msg(1, PH_SEV_CRITICAL, PH_AT_CLEARED);
  cr_assert_eq(ph_webhook_post(wh, &m), 1, "cleared is not listed");
  m = msg(1, PH_SEV_CRITICAL, PH_AT_RAISED);
  m.kind = PH_AM_REFRESH;
  cr_assert_eq(ph_webhook_post(wh, &m), 1, "refreshes never go to webhooks");
  m.kind = PH_AM_TRANSITION;
  struct ph_deliver_sink s = ph_webhook_sink(wh);
  cr_assert_eq(s.post(s.ctx, &m), 0);
  cr_assert_eq(ph_webhook_flush(wh, 10000), 0);
  cr_assert_eq(nreqs(), 1);
}

Test(webhook, a_full_queue_drops_the_oldest_and_post_never_waits) {
  srv.delay_ms = 300; /* a slow receiver */
  start("{\"url\":\"http://127.0.0.1:%d/\",\"queue\":2,\"retries\":0}");
  int64_t a = mono_ms();
  for (int i = 1; i <= 10; i++) {
    struct ph_alarm_msg m = msg(i, PH_SEV_MAJOR, PH_AT_RAISED);
    cr_assert_eq(ph_webhook_post(wh, &m), 0);
  }
  cr_assert_lt(mono_ms() - a, 100, "posting does not wait for the receiver");
  cr_assert_eq(ph_webhook_flush(wh, 10000), 0);
  struct ph_webhook_stats st;
  ph_webhook_stats(wh, &st);
  cr_assert_geq(st.dropped, 7);
  cr_assert_eq(st.sent + st.dropped, 10);
  cr_assert(strstr(srv.reqs[nreqs() - 1].body, "a-20261123-000010") != NULL, "the newest was kept");
}

Test(webhook, an_unreachable_receiver_times_out_and_is_counted) {
  server_stop();
  srv.stop = false;
  /* the port is closed now: connection refused, retried, then failed */
  start("{\"url\":\"http://127.0.0.1:%d/\",\"retries\":1,\"backoff_ms\":10,\"timeout_ms\":500}");
  struct ph_alarm_msg m = msg(1, PH_SEV_MAJOR, PH_AT_RAISED);
  ph_webhook_post(wh, &m);
  cr_assert_eq(ph_webhook_flush(wh, 10000), 0);
  struct ph_webhook_stats st;
  ph_webhook_stats(wh, &st);
  cr_assert_eq(st.failed, 1);
  cr_assert_eq(st.retries, 1);
  cr_assert_eq(st.last_status, 0);
  server_start(); /* for the teardown */
}
