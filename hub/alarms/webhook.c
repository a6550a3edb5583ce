/* webhook.c — an HTTP sink for alarm transitions (webhook.h).
 *
 * Callers: deliver.c's thread (ph_webhook_post through ph_webhook_sink),
 * the hub at start/stop, rules_config.c (ph_webhook_conf_parse), tests.
 * Threads: posters (any) and the sink's own, the only user of its curl
 * handle. Owns: the queue (a ring of copies of the messages), one curl easy
 * handle (kept for connection reuse), the request body buffer.
 *
 *   post → queue (full: drop the oldest, count, log) → thread:
 *     render body → POST ──2xx──→ sent
 *                     ├─5xx/408/429/network──→ wait backoff (×2, ≤ max), retry ≤ retries times → failed
 *                     └─other status──→ failed (permanent: a retry cannot help)
 *
 * Invariants:
 *  1. ph_webhook_post never blocks: a copy under the mutex, nothing else.
 *  2. the URL (it may carry a key, e.g. WeCom's ?key=) and header values
 *     are never logged; logs name the sink by id and scheme://host.
 *  3. only http and https, no redirects, a timeout on every request.
 *  4. the chat formats (WeCom, DingTalk) speak the sink's language (its
 *     "lang", else the park's: ph_park_lang, set by the hub; zh-CN when
 *     nobody set it) and give every time in the park's zone
 *     as "YYYY-MM-DD HH:MM"; the json format stays the machine contract
 *     (alert.schema.json, RFC 3339 UTC).
 */
#include "alarms/webhook.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "parkhub/alloc.h"
#include "parkhub/cfgmap.h"
#include "alarms/deliver.h"
#include "parkhub/log.h"
#include "parkhub/timefmt.h"

#ifdef PH_HAVE_CURL
#include <curl/curl.h>
#endif

#define MOD "webhook"
#define BODY_MAX (PH_ALARM_JSON_MAX * 2)

/* ------------------------------------------------------------- config */

static const char *const format_words[] = {"json", "wecom", "dingtalk", NULL};
static const char *const sev_words[] = {"critical", "major", "minor", "warning", NULL};
static const char *const lang_words[] = {"zh-CN", "en", NULL};

#define W(f) offsetof(struct ph_webhook_conf, f), sizeof(((struct ph_webhook_conf *)0)->f)
#define WN(f) offsetof(struct ph_webhook_conf, f), 0
static const struct ph_cfgmap webhook_map[] = {
    {"id", PH_CFG_ID, false, W(id), 0, 0, NULL, NULL, "name in logs"},
    {"url", PH_CFG_STR, true, W(url), 0, 0, NULL, NULL, "http:// or https:// endpoint"},
    {"format", PH_CFG_ENUM, false, WN(format), 0, 0, "json", format_words, "request body"},
    {"min_severity", PH_CFG_ENUM, false, WN(min_severity), 0, 0, "warning", sev_words, "this or worse"},
    {"transitions", PH_CFG_SKIP, false, 0, 0, 0, 0, NULL, NULL, "which transitions (default all)"},
    {"timeout_ms", PH_CFG_INT, false, WN(timeout_ms), 100, 60000, "5000", NULL, "per request"},
    {"retries", PH_CFG_INT, false, WN(retries), 0, 20, "5", NULL, "after the first attempt"},
    {"backoff_ms", PH_CFG_INT, false, WN(backoff_ms), 10, 600000, "1000", NULL, "first retry delay"},
    {"backoff_max_ms", PH_CFG_INT, false, WN(backoff_max_ms), 10, 3600000, "60000", NULL, "longest retry delay"},
    {"queue", PH_CFG_INT, false, WN(queue), 1, 100000, "256", NULL, "messages waiting at most"},
    {"headers", PH_CFG_SKIP, false, 0, 0, 0, 0, NULL, NULL, "extra request headers"},
    {"lang", PH_CFG_ENUM, false, WN(lang), 0, 0, NULL, lang_words,
     "language of wecom/dingtalk texts; omitted: the park's (its lang, else by its zone)"},
    PH_CFG_END,
};
#undef W
#undef WN

void ph_webhook_conf_defaults(struct ph_webhook_conf *c) {
  memset(c, 0, sizeof *c);
  c->format = PH_WH_JSON;
  c->min_severity = PH_SEV_WARNING;
  c->timeout_ms = 5000;
  c->retries = 5;
  c->backoff_ms = 1000;
  c->backoff_max_ms = 60000;
  c->queue = 256;
  c->lang = PH_WH_LANG_PARK;
}

static bool header_name_ok(const char *s) {
  size_t n = strlen(s);
  if (n < 1 || n > 64) return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-')) return false;
  return true;
}

int ph_webhook_conf_parse(const void *cjson, const char *path, struct ph_webhook_conf *c, struct ph_err *err) {
  const cJSON *o = cjson;
  ph_webhook_conf_defaults(c);
  if (!cJSON_IsObject(o)) return ph_fail(err, PH_ECONFIG, "%s: must be an object", path);
  int format = 0, sev = 0;
  int rc = ph_cfgmap_apply(webhook_map, o, path, c, err);
  if (rc) return rc;
  format = (int)c->format;
  sev = (int)c->min_severity;
  c->format = (enum ph_webhook_format)format;
  c->min_severity = (enum ph_severity)sev;
  if (strncmp(c->url, "http://", 7) != 0 && strncmp(c->url, "https://", 8) != 0)
    return ph_fail(err, PH_ECONFIG, "%s.url: must start with http:// or https://", path);
  for (const char *p = c->url; *p; p++)
    if ((unsigned char)*p <= ' ') return ph_fail(err, PH_ECONFIG, "%s.url: white space or control characters", path);
  if (c->backoff_max_ms < c->backoff_ms)
    return ph_fail(err, PH_ECONFIG, "%s.backoff_max_ms: below backoff_ms", path);
  const cJSON *tr = cJSON_GetObjectItemCaseSensitive(o, "transitions");
  if (tr) {
    if (!cJSON_IsArray(tr) || !cJSON_GetArraySize(tr))
      return ph_fail(err, PH_ECONFIG, "%s.transitions: must be a non-empty array", path);
    int i = 0;
    for (const cJSON *it = tr->child; it; it = it->next, i++) {
      int k = -1;
      for (int t = 0; t < 4 && cJSON_IsString(it); t++)
        if (strcmp(it->valuestring, ph_alarm_transition_name((enum ph_alarm_transition)t)) == 0) k = t;
      if (k < 0) return ph_fail(err, PH_ECONFIG, "%s.transitions[%d]: not one of raised|acked|cleared|closed", path, i);
      if (c->transitions & (1u << k)) return ph_fail(err, PH_ECONFIG, "%s.transitions[%d]: listed twice", path, i);
      c->transitions |= 1u << k;
    }
  }
  const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "headers");
  if (h) {
    if (!cJSON_IsObject(h)) return ph_fail(err, PH_ECONFIG, "%s.headers: must be an object", path);
    for (const cJSON *it = h->child; it; it = it->next) {
      if (c->nheaders == PH_WEBHOOK_HEADERS_MAX)
        return ph_fail(err, PH_ECONFIG, "%s.headers: more than %d", path, PH_WEBHOOK_HEADERS_MAX);
      if (!header_name_ok(it->string))
        return ph_fail(err, PH_ECONFIG, "%s.headers: '%.64s' is not a header name ([A-Za-z0-9-]{1,64})", path, it->string);
      if (!cJSON_IsString(it) || strlen(it->valuestring) > 512 || strpbrk(it->valuestring, "\r\n"))
        return ph_fail(err, PH_ECONFIG, "%s.headers.%s: must be a string of at most 512 characters on one line", path,
                       it->string);
      snprintf(c->headers[c->nheaders][0], sizeof c->headers[0][0], "%s", it->string);
      snprintf(c->headers[c->nheaders][1], sizeof c->headers[0][1], "%s", it->valuestring);
      c->nheaders++;
    }
  }
  return 0;
}

/* ------------------------------------------------------------- render */

struct buf {
  char *p;
  size_t cap, len;
  bool full;
};

static void add(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= b->cap - b->len) {
    b->full = true;
    return;
  }
  b->len += (size_t)n;
}

/* The words of the chat formats, per language (inv. 4). */
struct words {
  const char *sev[4];       /* enum ph_severity */
  const char *transition[4]; /* enum ph_alarm_transition */
  const char *state[4];     /* enum ph_alarm_state */
  const char *state_line, *evaluations, *value, *peak, *first, *last, *acked, *park, *alarm, *at;
};

static const struct words zh = {
    {"严重", "重要", "次要", "提示"},
    {"触发", "已确认", "已恢复", "已关闭"},
    {"告警中，未确认", "告警中，已确认", "已恢复，待确认", "已关闭"},
    "状态", "评估 %lld 次", "数值", "峰值", "首次", "最近", "确认人", "园区", "告警编号", "时间"};
static const struct words en = {
    {"CRITICAL", "MAJOR", "MINOR", "WARNING"},
    {"raised", "acknowledged", "cleared", "closed"},
    {"active, unacknowledged", "active, acknowledged", "cleared, unacknowledged", "closed"},
    "state", "%lld evaluations", "value", "peak", "first", "last", "acknowledged by", "park", "alarm", "at"};

static const char *pick(const char *const *v, unsigned i, unsigned n) { return i < n ? v[i] : "?"; }

/* Markdown of the common chat robots: a heading, the message, the facts. */
static void markdown(const struct ph_webhook_conf *c, const struct ph_alarm_msg *m, struct buf *b, char *title,
                     size_t tcap) {
  const struct ph_alarm *a = &m->alarm;
  const struct words *w = c->lang == PH_LANG_EN ? &en : &zh;
  const char *colon = c->lang == PH_LANG_EN ? ": " : "：", *comma = c->lang == PH_LANG_EN ? ", " : "，";
  char first[40] = "", last[40] = "", ts[40] = "", evals[40];
  ph_tz_format_human(c->tz, a->first_ms, first, sizeof first);
  ph_tz_format_human(c->tz, a->last_ms, last, sizeof last);
  ph_tz_format_human(c->tz, m->ts_ms, ts, sizeof ts);
  snprintf(evals, sizeof evals, w->evaluations, (long long)a->count);
  snprintf(title, tcap, "[%s] %s %s%s%s%s%s", pick(w->sev, (unsigned)a->severity, 4), a->rule,
           pick(w->transition, (unsigned)m->transition, 4), colon, a->ent, a->point[0] ? "/" : "", a->point);
  add(b, "### %s\n", title);
  add(b, "%s\n\n", c->lang != PH_LANG_EN && a->message_zh[0] ? a->message_zh : a->message);
  add(b, "> %s%s**%s**%s%s\n", w->state_line, colon, pick(w->state, (unsigned)a->state, 4), comma, evals);
  if (a->has_value) add(b, "> %s%s%.6g%s", w->value, colon, a->value, a->has_peak ? "" : "\n");
  if (a->has_value && a->has_peak) add(b, "%s%s%s%.6g\n", comma, w->peak, colon, a->peak);
  add(b, "> %s%s%s%s%s%s%s\n", w->first, colon, first, comma, w->last, colon, last);
  if (a->acked_by[0]) add(b, "> %s%s%s%s%s\n", w->acked, colon, a->acked_by, a->note[0] ? comma : "", a->note);
  add(b, "> %s %s%s%s %s%s%s%s%s\n", w->park, a->park, comma, w->alarm, a->alarm_id, comma, w->at, colon, ts);
}

int ph_webhook_render(const struct ph_webhook_conf *c, const struct ph_alarm_msg *m, char *out, size_t cap) {
  enum ph_webhook_format f = c->format;
  if (f == PH_WH_JSON) return ph_alert_json(&m->alarm, m->transition, m->ts_ms, out, cap);
  char md[PH_ALARM_JSON_MAX], title[512];
  struct buf b = {md, sizeof md, 0, false};
  markdown(c, m, &b, title, sizeof title);
  size_t len = 0;
  int rc = 0;
  const char *head = "{\"msgtype\":\"markdown\",\"markdown\":{";
  if (strlen(head) + 1 > cap) return PH_EFULL;
  strcpy(out, head);
  len = strlen(head);
  if (f == PH_WH_DINGTALK) { /* DingTalk: title + text */
    rc = ph_json_put_string(out, cap, &len, "title");
    if (!rc && len + 2 < cap) out[len++] = ':', out[len] = '\0';
    if (!rc) rc = ph_json_put_string(out, cap, &len, title);
    if (!rc && len + 2 < cap) out[len++] = ',', out[len] = '\0';
    if (!rc) rc = ph_json_put_string(out, cap, &len, "text");
  } else { /* WeCom: content */
    rc = ph_json_put_string(out, cap, &len, "content");
  }
  if (!rc && len + 2 < cap) out[len++] = ':', out[len] = '\0';
  if (!rc) rc = ph_json_put_string(out, cap, &len, md);
  if (!rc && len + 3 < cap) {
    memcpy(out + len, "}}", 3);
    len += 2;
  } else if (!rc) {
    rc = PH_EFULL;
  }
  return rc ? rc : (int)len;
}

/* --------------------------------------------------------------- sink */

struct ph_webhook {
  struct ph_webhook_conf c;
  char name[PH_ID_MAX + 80]; /* id (scheme://host) — inv. 2 */
  pthread_t thread;
  bool started;
  pthread_mutex_t mu;
  pthread_cond_t cv, idle;
  struct ph_alarm_msg *q;
  size_t head, n, cap;
  bool stop, busy;
  struct ph_webhook_stats st;
  struct ph_ratelimit rl_drop, rl_fail;
  uint64_t drops_unlogged;
  /* the thread's own */
  struct ph_alarm_msg cur;
  char body[BODY_MAX];
#ifdef PH_HAVE_CURL
  CURL *curl;
  struct curl_slist *hdrs;
#endif
};

int ph_webhook_post(struct ph_webhook *w, const struct ph_alarm_msg *m) {
  const struct ph_webhook_conf *c = &w->c;
  bool filtered = m->kind != PH_AM_TRANSITION || m->alarm.severity > c->min_severity ||
                  (c->transitions && !(c->transitions & (1u << m->transition))) ||
                  (c->park[0] && strcmp(c->park, m->alarm.park) != 0);
  bool log = false;
  uint64_t dropped = 0, sup = 0;
  pthread_mutex_lock(&w->mu);
  if (w->stop) {
    pthread_mutex_unlock(&w->mu);
    return PH_ECLOSED;
  }
  if (filtered) {
    w->st.filtered++;
    pthread_mutex_unlock(&w->mu);
    return 1;
  }
  w->st.posted++;
  if (w->n == w->cap) { /* drop the oldest */
    w->head = (w->head + 1) % w->cap;
    w->n--;
    w->st.dropped++;
    w->drops_unlogged++;
  }
  w->q[(w->head + w->n) % w->cap] = *m;
  w->n++;
  if (w->drops_unlogged && ph_ratelimit_ok(&w->rl_drop, ph_mono_ms(), &sup)) {
    log = true;
    dropped = w->st.dropped;
    w->drops_unlogged = 0;
  }
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
  if (log)
    PH_WARN(MOD, "%s: queue full (%zu): oldest messages dropped, %llu so far", w->name, w->cap,
            (unsigned long long)dropped);
  return 0;
}

static int sink_post(void *ctx, const struct ph_alarm_msg *m) { return ph_webhook_post(ctx, m); }

struct ph_deliver_sink ph_webhook_sink(struct ph_webhook *w) {
  return (struct ph_deliver_sink){.ctx = w, .post = sink_post};
}

#ifdef PH_HAVE_CURL
static size_t discard(char *p, size_t size, size_t n, void *u) {
  (void)p;
  (void)u;
  return size * n;
}

static void name_of(struct ph_webhook *w) {
  const char *u = w->c.url, *host = strstr(u, "://");
  host = host ? host + 3 : u;
  size_t scheme = (size_t)(host - u), hl = strcspn(host, "/?#@");
  if (strchr(host, '@') && strcspn(host, "@") < strcspn(host, "/?#")) { /* user:pass@host: skip the credentials */
    host = strchr(host, '@') + 1;
    hl = strcspn(host, "/?#");
  }
  snprintf(w->name, sizeof w->name, "%s (%.*s%.*s)", w->c.id[0] ? w->c.id : "webhook", (int)scheme, u,
           (int)(hl > 60 ? 60 : hl), host);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

/* One attempt: 0 sent, 1 retry, -1 permanent failure. */
static int attempt(struct ph_webhook *w, size_t len, long *status, char *why, size_t whycap) {
  curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, w->body);
  curl_easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE, (long)len);
  CURLcode rc = curl_easy_perform(w->curl);
  *status = 0;
  if (rc != CURLE_OK) {
    snprintf(why, whycap, "%s", curl_easy_strerror(rc));
    return 1;
  }
  curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, status);
  if (*status >= 200 && *status < 300) return 0;
  snprintf(why, whycap, "HTTP %ld", *status);
  return *status >= 500 || *status == 408 || *status == 429 ? 1 : -1;
}

static void send_one(struct ph_webhook *w) {
  int len = ph_webhook_render(&w->c, &w->cur, w->body, sizeof w->body);
  uint64_t sup = 0;
  if (len < 0) {
    pthread_mutex_lock(&w->mu);
    w->st.failed++;
    pthread_mutex_unlock(&w->mu);
    PH_ERROR(MOD, "%s: alarm %s does not fit a request body", w->name, w->cur.alarm.alarm_id);
    return;
  }
  int64_t wait = w->c.backoff_ms;
  for (int64_t try = 0;; try++) { /* ≤ retries + 1 attempts */
    long status;
    char why[CURL_ERROR_SIZE + 32];
    int r = attempt(w, (size_t)len, &status, why, sizeof why);
    pthread_mutex_lock(&w->mu);
    w->st.last_status = status;
    if (r == 0) {
      w->st.sent++;
      pthread_mutex_unlock(&w->mu);
      return;
    }
    if (r < 0 || try >= w->c.retries || w->stop) {
      w->st.failed++;
      bool log = ph_ratelimit_ok(&w->rl_fail, ph_mono_ms(), &sup);
      pthread_mutex_unlock(&w->mu);
      if (log)
        PH_WARN(MOD, "%s: alarm %s (%s) not delivered after %lld attempt%s: %s%s", w->name, w->cur.alarm.alarm_id,
                ph_alarm_transition_name(w->cur.transition), (long long)try + 1, try ? "s" : "", why,
                r < 0 ? " (not retried)" : "");
      return;
    }
    w->st.retries++;
    struct timespec until = ph_deadline_ms(CLOCK_REALTIME, wait);
    while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &until) == 0) {
      /* woken by a post: keep waiting until the back-off is over */
    }
    pthread_mutex_unlock(&w->mu);
    wait = wait * 2 > w->c.backoff_max_ms ? w->c.backoff_max_ms : wait * 2;
  }
}

static void *run(void *arg) {
  struct ph_webhook *w = arg;
  pthread_mutex_lock(&w->mu);
  for (;;) {
    while (!w->n && !w->stop) pthread_cond_wait(&w->cv, &w->mu);
    if (w->stop) break;
    w->cur = w->q[w->head];
    w->head = (w->head + 1) % w->cap;
    w->n--;
    w->busy = true;
    pthread_mutex_unlock(&w->mu);
    send_one(w);
    pthread_mutex_lock(&w->mu);
    w->busy = false;
    if (!w->n) pthread_cond_broadcast(&w->idle);
  }
  w->busy = false;
  pthread_cond_broadcast(&w->idle);
  pthread_mutex_unlock(&w->mu);
  return NULL;
}
#endif

int ph_webhook_start(const struct ph_webhook_conf *c, struct ph_webhook **out, struct ph_err *err) {
  *out = NULL;
#ifndef PH_HAVE_CURL
  (void)c;
  return ph_fail(err, PH_EINVAL, "webhook: this parkhub was built without libcurl (hub/CMakeLists.txt: PH_HAVE_CURL)");
#else
  pthread_once(&curl_once, curl_init);
  if (curl_init_rc != CURLE_OK) return ph_fail(err, PH_EIO, "webhook: libcurl: %s", curl_easy_strerror(curl_init_rc));
  struct ph_webhook *w = ph_calloc(1, sizeof *w);
  if (!w) return ph_fail(err, PH_ENOMEM, "webhook: out of memory");
  w->c = *c;
  w->cap = c->queue > 0 ? (size_t)c->queue : 256;
  name_of(w);
  ph_ratelimit_init(&w->rl_drop, 10000);
  ph_ratelimit_init(&w->rl_fail, 10000);
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  pthread_cond_init(&w->idle, NULL);
  w->q = ph_calloc(w->cap, sizeof *w->q);
  w->curl = curl_easy_init();
  w->hdrs = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");
  for (int i = 0; i < c->nheaders && w->hdrs; i++) {
    char line[sizeof c->headers[0][0] + sizeof c->headers[0][1] + 4];
    snprintf(line, sizeof line, "%s: %s", c->headers[i][0], c->headers[i][1]);
    struct curl_slist *l = curl_slist_append(w->hdrs, line);
    if (!l) {
      curl_slist_free_all(w->hdrs);
      w->hdrs = NULL;
    }
    w->hdrs = l;
  }
  if (!w->q || !w->curl || !w->hdrs) {
    ph_webhook_stop(w);
    return ph_fail(err, PH_ENOMEM, "webhook: out of memory");
  }
  CURL *h = w->curl;
  curl_easy_setopt(h, CURLOPT_URL, c->url);
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, w->hdrs);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "parkhub-webhook/1");
  if (pthread_create(&w->thread, NULL, run, w) != 0) {
    ph_webhook_stop(w);
    return ph_fail(err, PH_ENOMEM, "webhook: cannot start its thread");
  }
  w->started = true;
  *out = w;
  return 0;
#endif
}

int ph_webhook_flush(struct ph_webhook *w, int timeout_ms) {
  int64_t until = ph_mono_ms() + timeout_ms;
  for (;;) { /* polls: tests and shutdown only */
    pthread_mutex_lock(&w->mu);
    bool done = !w->n && !w->busy;
    pthread_mutex_unlock(&w->mu);
    if (done) return 0;
    if (ph_mono_ms() >= until) return PH_ETIMEOUT;
    struct timespec t = {0, 5000000L};
    nanosleep(&t, NULL);
  }
}

void ph_webhook_stop(struct ph_webhook *w) {
  if (!w) return;
#ifdef PH_HAVE_CURL
  pthread_mutex_lock(&w->mu);
  w->stop = true;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
  if (w->started) pthread_join(w->thread, NULL);
  if (w->n) {
    w->st.dropped += w->n;
    PH_WARN(MOD, "%s: stopped with %zu messages unsent", w->name, w->n);
  }
  if (w->curl) curl_easy_cleanup(w->curl);
  curl_slist_free_all(w->hdrs);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->cv);
  pthread_cond_destroy(&w->idle);
  ph_free(w->q);
#endif
  ph_free(w);
}

void ph_webhook_stats(struct ph_webhook *w, struct ph_webhook_stats *st) {
  pthread_mutex_lock(&w->mu);
  *st = w->st;
  st->queued = w->n;
  pthread_mutex_unlock(&w->mu);
}
