/* alarms_json.c — the alarm wire formats (alarms.h): alarm.schema.json,
 * alert.schema.json, and parsing cmd-ack.schema.json.
 *
 * Callers: alarms.c, deliver.c and webhook.c (any thread: pure functions,
 * no allocation except ph_ack_decode's cJSON tree).
 * Invariants:
 *  1. the output is strict JSON in UTF-8; strings are escaped here, never
 *     formatted with printf; a field the schema makes optional is left out
 *     rather than written empty (point, metric, value, peak, acked_*, note).
 *  2. ph_ack_decode refuses what cmd-ack.schema.json refuses (unknown or
 *     duplicate keys, bad id, `by` of 1..64 and `note` of ≤ 512 characters
 *     of valid UTF-8), and also trailing data after the object and U+0000
 *     in any string (raw or \u0000), which cJSON would cut short.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alarms/alarms.h"
#include "parkhub/jsonfile.h"
#include "parkhub/timefmt.h"

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
      } else {
        esc[n++] = (char)*p;
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

/* Code points of valid UTF-8 s, or -1. */
static long utf8_chars(const char *s) {
  long n = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; n++) {
    int k = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 : (*p & 0xf8) == 0xf0 ? 3 : -1;
    if (k < 0 || (k == 1 && *p < 0xc2)) return -1;
    p++;
    for (int i = 0; i < k; i++, p++)
      if ((*p & 0xc0) != 0x80) return -1;
  }
  return n;
}

int ph_ack_decode(const char *payload, size_t len, struct ph_ack_cmd *out, struct ph_err *err) {
  memset(out, 0, sizeof *out);
  if (len > 8192) return ph_fail(err, PH_ETOOLARGE, "cmd/ack: %zu bytes, more than 8192", len);
  char key[72];
  if (ph_json_find_nul(payload, len, key, sizeof key))
    return ph_fail(err, PH_EJSON, "cmd/ack%s%s: U+0000 is not allowed", key[0] ? "." : "", key);
  const char *end = NULL;
  cJSON *j = cJSON_ParseWithLengthOpts(payload, len, &end, 0);
  if (!j) return ph_fail(err, PH_EJSON, "cmd/ack: not valid JSON");
  int rc = 0;
  for (const char *p = end; p < payload + len && !rc; p++)
    if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') rc = ph_fail(err, PH_EJSON, "cmd/ack: trailing data");
  if (!rc && !cJSON_IsObject(j)) rc = ph_fail(err, PH_ETYPE, "cmd/ack: must be an object");
  for (const cJSON *it = j->child; it && !rc; it = it->next) {
    if (strcmp(it->string, "alarm_id") && strcmp(it->string, "by") && strcmp(it->string, "note"))
      rc = ph_fail(err, PH_EUNKNOWNKEY, "cmd/ack.%.64s: unknown key", it->string);
    for (const cJSON *o = j->child; o != it && !rc; o = o->next)
      if (strcmp(o->string, it->string) == 0) rc = ph_fail(err, PH_EJSON, "cmd/ack.%s: given twice", it->string);
  }
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "alarm_id");
  const cJSON *by = cJSON_GetObjectItemCaseSensitive(j, "by");
  const cJSON *note = cJSON_GetObjectItemCaseSensitive(j, "note");
  if (!rc && !id) rc = ph_fail(err, PH_EMISSING, "cmd/ack.alarm_id: required");
  if (!rc && !by) rc = ph_fail(err, PH_EMISSING, "cmd/ack.by: required");
  if (!rc && (!cJSON_IsString(id) || !cJSON_IsString(by) || (note && !cJSON_IsString(note))))
    rc = ph_fail(err, PH_ETYPE, "cmd/ack: alarm_id, by and note must be strings");
  if (!rc && !ph_id_valid_z(id->valuestring)) rc = ph_fail(err, PH_EBADID, "cmd/ack.alarm_id: not an alarm id");
  if (!rc) {
    long nb = utf8_chars(by->valuestring), nn = note ? utf8_chars(note->valuestring) : 0;
    if (nb < 0 || nn < 0) rc = ph_fail(err, PH_EJSON, "cmd/ack: by and note must be UTF-8");
    else if (nb < 1 || nb > 64 || strlen(by->valuestring) > PH_ALARM_BY_MAX)
      rc = ph_fail(err, PH_ESTRLEN, "cmd/ack.by: 1..64 characters");
    else if (nn > 512 || (note && strlen(note->valuestring) > PH_ALARM_NOTE_MAX))
      rc = ph_fail(err, PH_ESTRLEN, "cmd/ack.note: at most 512 characters");
  }
  if (!rc) {
    strcpy(out->alarm_id, id->valuestring);
    strcpy(out->by, by->valuestring);
    if (note) strcpy(out->note, note->valuestring);
  }
  cJSON_Delete(j);
  return rc;
}
