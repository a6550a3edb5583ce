/* webhook.h — an HTTP sink for alarm transitions (libcurl).
 *
 * Formats (webhook.format in the rules file):
 *   json      the alert message of alert.schema.json, as published on MQTT;
 *   wecom     {"msgtype":"markdown","markdown":{"content":"…"}} (WeCom group robot);
 *   dingtalk  {"msgtype":"markdown","markdown":{"title":"…","text":"…"}} (DingTalk robot).
 *
 * Each sink has its own thread and a bounded FIFO: ph_webhook_post copies
 * the message and returns at once (never blocks, never does I/O); when the
 * queue is full the oldest waiting message is dropped, counted and logged
 * (rate-limited). The thread POSTs one message at a time with a timeout;
 * a 2xx is success; 5xx, 408, 429 and network errors are retried after
 * backoff_ms, doubling up to backoff_max_ms, at most `retries` times; other
 * statuses are permanent failures (counted, logged, dropped). A failing
 * sink only delays its own queue.
 *
 * Built without libcurl (PH_HAVE_CURL unset), ph_webhook_start refuses
 * with PH_EINVAL: see hub/CMakeLists.txt.
 */
#ifndef PARKHUB_WEBHOOK_H
#define PARKHUB_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alarms/alarms.h"
#include "parkhub/err.h"
#include "parkhub/ids.h"
#include "parkhub/lang.h"
#include "parkhub/tz.h"

#define PH_WEBHOOK_URL_MAX 1024
/* A webhook whose rules file gave no "lang": the hub sets its park's
 * (ph_park_lang) before ph_webhook_start; left so, it reads zh-CN. */
#define PH_WH_LANG_PARK PH_LANG_COUNT
#define PH_WEBHOOK_HEADERS_MAX 8

enum ph_webhook_format { PH_WH_JSON, PH_WH_WECOM, PH_WH_DINGTALK };

struct ph_webhook_conf {
  char id[PH_ID_MAX + 1];       /* for logs; "" = "webhook[i]" */
  char park[PH_ID_MAX + 1];     /* only this park's alarms; "" = all */
  char url[PH_WEBHOOK_URL_MAX]; /* never logged beyond scheme://host (it may carry a key) */
  enum ph_webhook_format format;
  enum ph_severity min_severity; /* this or worse (critical is 0) */
  unsigned transitions;          /* bit (1 << enum ph_alarm_transition); 0 = all */
  int64_t timeout_ms, retries, backoff_ms, backoff_max_ms, queue;
  char headers[PH_WEBHOOK_HEADERS_MAX][2][520]; /* name, value */
  int nheaders;
  enum ph_lang lang;         /* language of the chat formats' text; PH_WH_LANG_PARK: not given */
  const struct ph_tz *tz;    /* not from the file: the park's zone, for the times people read
                              * (set by whoever starts the sink; NULL: UTC, marked so) */
};

struct ph_webhook_stats {
  uint64_t posted, filtered, sent, retries, failed, dropped;
  size_t queued;
  int64_t last_status; /* HTTP status of the last attempt; 0: none or network error */
};

struct ph_webhook;

/* Defaults of the rules file (format json, all severities and transitions,
 * timeout 5 s, 5 retries, back-off 1 s … 60 s, queue 1000). */
void ph_webhook_conf_defaults(struct ph_webhook_conf *c);
/* Fills c from a rules-file webhook object (a const cJSON *); path names
 * it in messages ("webhooks[0]"). PH_ECONFIG. */
int ph_webhook_conf_parse(const void *cjson, const char *path, struct ph_webhook_conf *c, struct ph_err *err);

int ph_webhook_start(const struct ph_webhook_conf *c, struct ph_webhook **out, struct ph_err *err);
/* Never blocks. 0 queued, 1 filtered out (severity, transition, park, a
 * REFRESH), PH_ECLOSED after stop. m borrowed (copied). */
int ph_webhook_post(struct ph_webhook *w, const struct ph_alarm_msg *m);
/* Waits until the queue is empty and nothing is in flight (tests,
 * shutdown); 0 or PH_ETIMEOUT. */
int ph_webhook_flush(struct ph_webhook *w, int timeout_ms);
/* Stops the thread (an attempt in flight ends within its timeout) and
 * frees; what still waits is dropped and counted. Accepts NULL. */
void ph_webhook_stop(struct ph_webhook *w);
void ph_webhook_stats(struct ph_webhook *w, struct ph_webhook_stats *st);

/* The request body for m in format f; returns its length or PH_EFULL. */
int ph_webhook_render(const struct ph_webhook_conf *c, const struct ph_alarm_msg *m, char *buf, size_t cap);

#endif
