/* alarms_json.c — the alarm wire formats (alarms.h): alarm.schema.json
 * and alert.schema.json, and cmd-ack-reply.schema.json (cmd-ack.schema.json
 * is read in ingest/ack_cmd.c).
 *
 * Callers: alarms.c, deliver.c and webhook.c (any thread: pure functions,
 * no allocation).
 * Invariants:
 *  1. the output is strict JSON in UTF-8; strings are escaped here, never
 *     formatted with printf; a byte that is not part of a well-formed
 *     character (utf8.h: text a sender made, e.g. a cmd/ack's unknown key
 *     in its reply's reason) is written as U+FFFD; a field the schema makes optional is left out
 *     rather than written empty (point, metric, value, peak, acked_*, note).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alarms/alarms.h"
#include "parkhub/jsonfile.h"
#include "parkhub/timefmt.h"
#include "parkhub/utf8.h"

static const char *const state_names[] = {"active_unacked", "active_acked", "cleared_unacked", "closed"};
static const char *const transition_names[] = {"raised", "acked", "cleared", "closed"};

const char *ph_alarm_state_name(enum ph_alarm_state s) { return (unsigned)s < 4 ? state_names[s] : "?"; }
const char *ph_alarm_transition_name(enum ph_alarm_transition t) {
  return (unsigned)t < 4 ? transition_names[t] : "?";
}

static int put_raw(char *buf, size_t cap, size_t *len, const char *s, size_t n) {
  if (*len + n + 1 > cap) return PH_EFULL;
  memcpy(buf + *len, s, n);
  *len += n;
  buf[*len] = '\0';
  return 0;
}

int ph_json_put_string(char *buf, size_t cap, size_t *len, const char *s) {
  static const char hex[] = "0123456789abcdef";
  if (put_raw(buf, cap, len, "\"", 1)) return PH_EFULL;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char esc[8];
    size_t n = 0;
    switch (*p) {
    case '"': esc[n++] = '\\', esc[n++] = '"'; break;
    case '\\': esc[n++] = '\\', esc[n++] = '\\'; break;
    case '\n': esc[n++] = '\\', esc[n++] = 'n'; break;
    case '\r': esc[n++] = '\\', esc[n++] = 'r'; break;
    case '\t': esc[n++] = '\\', esc[n++] = 't'; break;
    default:
      if (*p < 0x20) {
        memcpy(esc, "\\u00", 4);
        n = 4;
        esc[n++] = hex[*p >> 4];
        esc[n++] = hex[*p & 15];
      } else if (*p < 0x80) {
        esc[n++] = (char)*p;
      } else {
        size_t k = ph_utf8_char(p, 4);
        if (k) {
          memcpy(esc, p, k);
          n = k;
          p += k - 1;
        } else {
          memcpy(esc, "\\ufffd", 6);
          n = 6;
        }
      }
    }
    if (put_raw(buf, cap, len, esc, n)) return PH_EFULL;
  }
  return put_raw(buf, cap, len, "\"", 1);
}

static int put_key(char *buf, size_t cap, size_t *len, const char *key) {
  int rc = put_raw(buf, cap, len, ",", *len > 1 ? 1 : 0);
  if (!rc) rc = ph_json_put_string(buf, cap, len, key);
  if (!rc) rc = put_raw(buf, cap, len, ":", 1);
  return rc;
}

static int put_str(char *buf, size_t cap, size_t *len, const char *key, const char *v) {
  int rc = put_key(buf, cap, len, key);
  return rc ? rc : ph_json_put_string(buf, cap, len, v);
}

static int put_num(char *buf, size_t cap, size_t *len, const char *key, double v) {
  char b[40];
  if (!isfinite(v)) return 0; /* never produced by decoded data; left out rather than invalid JSON */
  int n = snprintf(b, sizeof b, "%.15g", v);
  int rc = put_key(buf, cap, len, key);
  return rc ? rc : put_raw(buf, cap, len, b, (size_t)n);
}

static int put_int(char *buf, size_t cap, size_t *len, const char *key, int64_t v) {
  char b[32];
  int n = snprintf(b, sizeof b, "%lld", (long long)v);
  int rc = put_key(buf, cap, len, key);
  return rc ? rc : put_raw(buf, cap, len, b, (size_t)n);
}

static int put_time(char *buf, size_t cap, size_t *len, const char *key, int64_t ms) {
  char ts[PH_TIME_STRLEN];
  if (ph_time_format(ms, ts, sizeof ts)) return PH_EINVAL;
  return put_str(buf, cap, len, key, ts);
}

static int fields(const struct ph_alarm *a, char *buf, size_t cap, size_t *len) {
  int rc = put_raw(buf, cap, len, "{\"v\":1", 6);
  if (!rc) rc = put_str(buf, cap, len, "alarm_id", a->alarm_id);
  if (!rc) rc = put_str(buf, cap, len, "park", a->park);
  if (!rc) rc = put_str(buf, cap, len, "ent", a->ent);
  if (!rc && a->point[0]) rc = put_str(buf, cap, len, "point", a->point);
  if (!rc) rc = put_str(buf, cap, len, "rule", a->rule);
  if (!rc) rc = put_str(buf, cap, len, "severity", ph_severity_name(a->severity));
  if (!rc) rc = put_str(buf, cap, len, "state", ph_alarm_state_name(a->state));
  if (!rc) rc = put_str(buf, cap, len, "message", a->message);
  if (!rc && a->message_zh[0]) rc = put_str(buf, cap, len, "message_zh", a->message_zh);
  if (!rc && a->metric[0]) rc = put_str(buf, cap, len, "metric", a->metric);
  if (!rc && a->has_value) rc = put_num(buf, cap, len, "value", a->value);
  if (!rc && a->has_peak) rc = put_num(buf, cap, len, "peak", a->peak);
  if (!rc) rc = put_time(buf, cap, len, "first", a->first_ms);
  if (!rc) rc = put_time(buf, cap, len, "last", a->last_ms);
  if (!rc) rc = put_int(buf, cap, len, "count", a->count < 1 ? 1 : a->count);
  if (!rc && a->acked_by[0]) rc = put_str(buf, cap, len, "acked_by", a->acked_by);
  if (!rc && a->acked_by[0]) rc = put_time(buf, cap, len, "acked_at", a->acked_ms);
  if (!rc && a->note[0]) rc = put_str(buf, cap, len, "note", a->note);
  return rc;
}

int ph_alarm_json(const struct ph_alarm *a, char *buf, size_t cap) {
  size_t len = 0;
  if (!cap) return PH_EFULL;
  buf[0] = '\0';
  int rc = fields(a, buf, cap, &len);
  if (!rc) rc = put_raw(buf, cap, &len, "}", 1);
  return rc ? rc : (int)len;
}

int ph_alert_json(const struct ph_alarm *a, enum ph_alarm_transition t, int64_t ts_ms, char *buf, size_t cap) {
  size_t len = 0;
  if (!cap) return PH_EFULL;
  buf[0] = '\0';
  int rc = fields(a, buf, cap, &len);
  if (!rc) rc = put_str(buf, cap, &len, "transition", ph_alarm_transition_name(t));
  if (!rc) rc = put_time(buf, cap, &len, "ts", ts_ms);
  if (!rc) rc = put_raw(buf, cap, &len, "}", 1);
  return rc ? rc : (int)len;
}


/* The reply's `result`: what a client branches on (reason is for people). */
static const char *reply_result(int code) {
  switch (code) {
  case 0: return "acked";
  case PH_ENOTFOUND: return "unknown_alarm";
  case PH_EALREADY: return "already_acked";
  case PH_ETOOLARGE: case PH_EJSON: case PH_ETYPE: case PH_EMISSING: case PH_EUNKNOWNKEY: case PH_EBADID:
  case PH_ESTRLEN: case PH_EINVAL:
    return "invalid";
  default: return "failed"; /* the hub could not store it: send it again */
  }
}

int ph_ack_reply_json(const struct ph_alarm_msg *m, char *buf, size_t cap) {
  const struct ph_alarm *a = &m->alarm;
  const struct ph_ack_reply *r = &m->reply;
  size_t len = 0;
  if (!cap) return PH_EFULL;
  buf[0] = '\0';
  int rc = put_raw(buf, cap, &len, "{\"v\":1", 6);
  if (!rc) rc = put_str(buf, cap, &len, "park", a->park);
  if (!rc && a->alarm_id[0]) rc = put_str(buf, cap, &len, "alarm_id", a->alarm_id);
  if (!rc && r->by[0]) rc = put_str(buf, cap, &len, "by", r->by);
  if (!rc) rc = put_key(buf, cap, &len, "ok");
  if (!rc) rc = put_raw(buf, cap, &len, r->code ? "false" : "true", r->code ? 5 : 4);
  if (!rc) rc = put_str(buf, cap, &len, "result", reply_result(r->code));
  if (!rc && r->code && r->reason[0]) rc = put_str(buf, cap, &len, "reason", r->reason);
  if (!rc && !r->code) rc = put_str(buf, cap, &len, "state", ph_alarm_state_name(a->state));
  bool who = (r->code == 0 || r->code == PH_EALREADY) && a->acked_by[0];
  if (!rc && who) rc = put_str(buf, cap, &len, "acked_by", a->acked_by);
  if (!rc && who) rc = put_time(buf, cap, &len, "acked_at", a->acked_ms);
  if (!rc) rc = put_time(buf, cap, &len, "ts", m->ts_ms);
  if (!rc) rc = put_raw(buf, cap, &len, "}", 1);
  return rc ? rc : (int)len;
}
