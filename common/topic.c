/* topic.c — build and parse the MQTT topics of DESIGN.md (see topic.h).
 * Pure functions; no allocation. Parse walks the levels once and names the
 * first bad one, so a refused topic can be logged with a useful reason. */
#include "parkhub/topic.h"

#include <stdio.h>
#include <string.h>

#define MAX_LEVELS 8

struct level {
  const char *s;
  size_t len;
};

static const char *const severity_names[] = {"critical", "major", "minor", "warning"};
static const char *const period_names[] = {"minute", "hour", "day"};

static int word_index(const char *const *words, int n, const char *s, size_t len) {
  for (int i = 0; i < n; i++)
    if (strlen(words[i]) == len && memcmp(words[i], s, len) == 0) return i;
  return -1;
}

const char *ph_severity_name(enum ph_severity s) { return (unsigned)s < 4 ? severity_names[s] : "?"; }
const char *ph_period_name(enum ph_period p) { return (unsigned)p < 3 ? period_names[p] : "?"; }

int ph_severity_parse(const char *s, size_t len, enum ph_severity *out) {
  int i = word_index(severity_names, 4, s, len);
  if (i < 0) return PH_EENUM;
  *out = (enum ph_severity)i;
  return 0;
}

int ph_period_parse(const char *s, size_t len, enum ph_period *out) {
  int i = word_index(period_names, 3, s, len);
  if (i < 0) return PH_EENUM;
  *out = (enum ph_period)i;
  return 0;
}

static bool is(const struct level *l, const char *w) { return strlen(w) == l->len && memcmp(w, l->s, l->len) == 0; }

static void copy_id(char *dst, const struct level *l) {
  memcpy(dst, l->s, l->len);
  dst[l->len] = '\0';
}

static int split(const char *s, size_t len, struct level *lv, int *n, struct ph_err *err) {
  *n = 0;
  size_t start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && s[i] == '\0') return ph_fail(err, PH_ETOPIC, "topic contains a NUL byte");
    if (i < len && s[i] != '/') continue;
    if (*n == MAX_LEVELS) return ph_fail(err, PH_ETOPIC, "topic has more than %d levels", MAX_LEVELS);
    lv[*n].s = s + start;
    lv[*n].len = i - start;
    (*n)++;
    start = i + 1;
  }
  return 0;
}

static int need_id(const struct level *l, const char *what, bool ent, char *dst, struct ph_err *err) {
  bool ok = ent ? ph_id_valid_ent(l->s, l->len) : ph_id_valid(l->s, l->len);
  if (!ok)
    return ph_fail(err, PH_ETOPIC, "topic: bad %s id '%.*s'", what, (int)(l->len > 70 ? 70 : l->len), l->s);
  copy_id(dst, l);
  return 0;
}

static int parse_park_level(const struct level *lv, int n, struct ph_topic *t, struct ph_err *err) {
  const struct level *w = &lv[3];
  if (is(w, "hub")) {
    t->type = PH_TOPIC_HUB;
    return n == 4 ? 0 : ph_fail(err, PH_ETOPIC, "topic: nothing may follow 'hub'");
  }
  if (n != 5) return ph_fail(err, PH_ETOPIC, "topic: '%.*s' needs exactly one more level", (int)w->len, w->s);
  const struct level *x = &lv[4];
  if (is(w, "alerts")) {
    t->type = PH_TOPIC_ALERTS;
    if (ph_severity_parse(x->s, x->len, &t->severity)) return ph_fail(err, PH_ETOPIC, "topic: bad severity");
    return 0;
  }
  if (is(w, "alarms")) {
    t->type = PH_TOPIC_ALARMS;
    return need_id(x, "alarm", false, t->alarm_id, err);
  }
  if (is(w, "cmd")) {
    t->type = PH_TOPIC_CMD_ACK;
    return is(x, "ack") ? 0 : ph_fail(err, PH_ETOPIC, "topic: unknown command");
  }
  t->type = PH_TOPIC_ROLLUP; /* the last reserved word: "rollup" */
  if (ph_period_parse(x->s, x->len, &t->period)) return ph_fail(err, PH_ETOPIC, "topic: bad rollup period");
  return 0;
}

static int parse_agent_level(const struct level *lv, int n, struct ph_topic *t, struct ph_err *err) {
  int rc;
  if ((rc = need_id(&lv[3], "enterprise", true, t->ent, err))) return rc;
  if (n < 6) return ph_fail(err, PH_ETOPIC, "topic: too few levels");
  if ((rc = need_id(&lv[4], "agent", false, t->agent, err))) return rc;
  const struct level *w = &lv[5];
  if (n == 6 && is(w, "status")) {
    t->type = PH_TOPIC_STATUS;
    return 0;
  }
  if (n == 6 && is(w, "ack")) {
    t->type = PH_TOPIC_ACK;
    return 0;
  }
  if (n == 7 && is(w, "ev")) {
    t->type = PH_TOPIC_EVENT;
    if (ph_kind_parse(lv[6].s, lv[6].len, &t->kind)) return ph_fail(err, PH_ETOPIC, "topic: bad event kind");
    return 0;
  }
  return ph_fail(err, PH_ETOPIC, "topic: unknown agent topic");
}

int ph_topic_parse(const char *s, size_t len, struct ph_topic *t, struct ph_err *err) {
  struct level lv[MAX_LEVELS];
  int n, rc;
  memset(t, 0, sizeof *t);
  if (len >= PH_TOPIC_MAX) return ph_fail(err, PH_ETOPIC, "topic longer than %d bytes", PH_TOPIC_MAX - 1);
  if ((rc = split(s, len, lv, &n, err))) return rc;
  if (n < 4 || !is(&lv[0], "parkhub") || !is(&lv[1], "v1"))
    return ph_fail(err, PH_ETOPIC, "topic does not start with " PH_TOPIC_PREFIX "{park}/");
  if ((rc = need_id(&lv[2], "park", false, t->park, err))) return rc;
  const struct level *w = &lv[3];
  if (ph_id_reserved(w->s, w->len)) return parse_park_level(lv, n, t, err);
  return parse_agent_level(lv, n, t, err);
}

static int out(size_t cap, int n) { return n < 0 || (size_t)n >= cap ? PH_EFULL : 0; }

int ph_topic_build(const struct ph_topic *t, char *buf, size_t cap) {
  if (!ph_id_valid_z(t->park)) return PH_EINVAL;
  const char *p = t->park;
  switch (t->type) {
  case PH_TOPIC_EVENT:
  case PH_TOPIC_STATUS:
  case PH_TOPIC_ACK:
    if (!ph_id_valid_ent(t->ent, strnlen(t->ent, PH_ID_MAX + 1)) || !ph_id_valid_z(t->agent)) return PH_EINVAL;
    if (t->type == PH_TOPIC_EVENT) {
      if ((unsigned)t->kind >= PH_KIND_COUNT) return PH_EINVAL;
      return out(cap, snprintf(buf, cap, PH_TOPIC_PREFIX "%s/%s/%s/ev/%s", p, t->ent, t->agent, ph_kind_name(t->kind)));
    }
    return out(cap, snprintf(buf, cap, PH_TOPIC_PREFIX "%s/%s/%s/%s", p, t->ent, t->agent,
                                  t->type == PH_TOPIC_STATUS ? "status" : "ack"));
  case PH_TOPIC_HUB:
    return out(cap, snprintf(buf, cap, PH_TOPIC_PREFIX "%s/hub", p));
  case PH_TOPIC_ALERTS:
    if ((unsigned)t->severity > PH_SEV_WARNING) return PH_EINVAL;
    return out(cap, snprintf(buf, cap, PH_TOPIC_PREFIX "%s/alerts/%s", p, ph_severity_name(t->severity)));
  case PH_TOPIC_ALARMS:
    if (!ph_id_valid_z(t->alarm_id)) return PH_EINVAL;
    return out(cap, snprintf(buf, cap, PH_TOPIC_PREFIX "%s/alarms/%s", p, t->alarm_id));
  case PH_TOPIC_CMD_ACK:
    return out(cap, snprintf(buf, cap, PH_TOPIC_PREFIX "%s/cmd/ack", p));
  case PH_TOPIC_ROLLUP:
    if ((unsigned)t->period > PH_PERIOD_DAY) return PH_EINVAL;
    return out(cap, snprintf(buf, cap, PH_TOPIC_PREFIX "%s/rollup/%s", p, ph_period_name(t->period)));
  }
  return PH_EINVAL;
}

int ph_topic_agent(char *buf, size_t cap, enum ph_topic_type type, const char *park, const char *ent,
                   const char *agent, enum ph_kind kind) {
  struct ph_topic t = {.type = type, .kind = kind};
  if (strlen(park) > PH_ID_MAX || strlen(ent) > PH_ID_MAX || strlen(agent) > PH_ID_MAX) return PH_EINVAL;
  strcpy(t.park, park);
  strcpy(t.ent, ent);
  strcpy(t.agent, agent);
  return ph_topic_build(&t, buf, cap);
}
