/* rules_config.c — a rules file (schemas/rules.schema.json) → struct
 * ph_ruleset, and the message templates ({ent}, {value}, …) in English
 * (`message`) and Chinese (`message_zh`), each with a default per rule type.
 *
 * Callers: the hub at start (ph_ruleset_load_file), tests. Threads: any;
 * owns nothing beyond the ruleset it fills. Every refusal names the file
 * and the JSON path: "rules.json: rules[3].threshold.op: '>=' is not one
 * of >|<|outside".
 *
 * Invariants:
 *  1. a ruleset that loaded is consistent: each rule has exactly one type,
 *     the keys its type needs and none it cannot use, a catalogue metric
 *     where it needs one (never a material), low < high, unique ids, and a
 *     template whose placeholders all exist — the engine re-checks nothing.
 *  2. what the schema refuses, the loader refuses (the examples under
 *     tests/data/schemas/rules/ are loaded by test_hub_rules).
 *  3. a rendered message is one sentence for people: times in the park's
 *     zone as "YYYY-MM-DD HH:MM", units as symbols (mg/m³, °C), names in
 *     the message's language (the catalogue's name_zh for Chinese).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "parkhub/cfgmap.h"
#include "parkhub/jsonfile.h"
#include "parkhub/timefmt.h"
#include "alarms/webhook.h"
#include "rules_int.h"

static const char *const type_keys[PH_RULE_TYPES] = {"threshold", "residence", "rate",    "flatline",
                                                     "flags",     "gap",       "offline", "overdue"};
static const char *const value_words[] = {"instant", "mean", "max", "min", "hour_mean", NULL};
static const char *const op_words[] = {">", "<", "outside", NULL};
static const char *const sev_words[] = {"critical", "major", "minor", "warning", NULL};

const char *ph_rule_type_name(enum ph_rule_type t) { return (unsigned)t < PH_RULE_TYPES ? type_keys[t] : "?"; }

/* Everything a condition object may hold, before it is checked. */
struct raw {
  int value, op;
  int64_t window_min, min_values, period_days, warn_days;
  double low, high, limit, for_s, clear_for_s, tolerance, max_pct, after_s, intervals, silence, hyst;
  bool valid_only, status, if_never;
};

#define R(field) offsetof(struct raw, field), 0
#define BIG 1e300
#define SECS 2592000
#define END PH_CFG_END
static const struct ph_cfgmap threshold_map[] = {
    {"value", PH_CFG_ENUM, false, R(value), 0, 0, "instant", value_words, NULL},
    {"window_min", PH_CFG_INT, false, R(window_min), 1, PH_RULE_WINDOW_MAX, NULL, NULL, NULL},
    {"op", PH_CFG_ENUM, true, R(op), 0, 0, NULL, op_words, NULL},
    {"limit", PH_CFG_SKIP, false, 0, 0, 0, 0, NULL, NULL, NULL},
    {"low", PH_CFG_DBL, false, R(low), -BIG, BIG, NULL, NULL, NULL},
    {"high", PH_CFG_DBL, false, R(high), -BIG, BIG, NULL, NULL, NULL},
    {"hysteresis", PH_CFG_SKIP, false, 0, 0, 0, 0, NULL, NULL, NULL},
    {"for_s", PH_CFG_DBL, false, R(for_s), 0, SECS, "0", NULL, NULL},
    {"clear_for_s", PH_CFG_DBL, false, R(clear_for_s), 0, SECS, "0", NULL, NULL},
    {"valid_only", PH_CFG_BOOL, false, R(valid_only), 0, 0, "true", NULL, NULL},
    {"when", PH_CFG_SKIP, false, 0, 0, 0, 0, NULL, NULL, NULL},
    END,
};
static const struct ph_cfgmap residence_map[] = {
    {"low", PH_CFG_DBL, true, R(low), -BIG, BIG, NULL, NULL, NULL},
    {"high", PH_CFG_DBL, true, R(high), -BIG, BIG, NULL, NULL, NULL},
    {"for_s", PH_CFG_DBL, true, R(for_s), 0, SECS, NULL, NULL, NULL},
    {"hysteresis", PH_CFG_DBL, false, R(hyst), 0, BIG, "0", NULL, NULL},
    {"clear_for_s", PH_CFG_DBL, false, R(clear_for_s), 0, SECS, "0", NULL, NULL},
    {"valid_only", PH_CFG_BOOL, false, R(valid_only), 0, 0, "false", NULL, NULL},
    {"when", PH_CFG_SKIP, false, 0, 0, 0, 0, NULL, NULL, NULL},
    END,
};
static const struct ph_cfgmap rate_map[] = {
    {"window_min", PH_CFG_INT, true, R(window_min), 1, PH_RULE_WINDOW_MAX, NULL, NULL, NULL},
    {"op", PH_CFG_ENUM, true, R(op), 0, 0, NULL, op_words, NULL},
    {"limit", PH_CFG_DBL, false, R(limit), -BIG, BIG, NULL, NULL, NULL},
    {"low", PH_CFG_DBL, false, R(low), -BIG, BIG, NULL, NULL, NULL},
    {"high", PH_CFG_DBL, false, R(high), -BIG, BIG, NULL, NULL, NULL},
    {"hysteresis", PH_CFG_DBL, false, R(hyst), 0, BIG, "0", NULL, NULL},
    {"for_s", PH_CFG_DBL, false, R(for_s), 0, SECS, "0", NULL, NULL},
    {"clear_for_s", PH_CFG_DBL, false, R(clear_for_s), 0, SECS, "0", NULL, NULL},
    {"valid_only", PH_CFG_BOOL, false, R(valid_only), 0, 0, "false", NULL, NULL},
    {"when", PH_CFG_SKIP, false, 0, 0, 0, 0, NULL, NULL, NULL},
    END,
};
static const struct ph_cfgmap flatline_map[] = {
    {"for_s", PH_CFG_DBL, true, R(for_s), 60, SECS, NULL, NULL, NULL},
    {"tolerance", PH_CFG_DBL, false, R(tolerance), 0, BIG, "0", NULL, NULL},
    END,
};
static const struct ph_cfgmap flags_map[] = {
    {"window_min", PH_CFG_INT, true, R(window_min), 1, PH_RULE_WINDOW_MAX, NULL, NULL, NULL},
    {"max_pct", PH_CFG_DBL, true, R(max_pct), 0, 100, NULL, NULL, NULL},
    {"min_values", PH_CFG_INT, false, R(min_values), 1, 1000000, "10", NULL, NULL},
    {"hysteresis", PH_CFG_DBL, false, R(hyst), 0, 100, "0", NULL, NULL},
    {"for_s", PH_CFG_DBL, false, R(for_s), 0, SECS, "0", NULL, NULL},
    END,
};
static const struct ph_cfgmap gap_map[] = {
    {"after_s", PH_CFG_DBL, false, R(after_s), 1, SECS, NULL, NULL, NULL},
    {"intervals", PH_CFG_DBL, false, R(intervals), 1, 100000, NULL, NULL, NULL},
    END,
};
static const struct ph_cfgmap offline_map[] = {
    {"status", PH_CFG_BOOL, false, R(status), 0, 0, "true", NULL, NULL},
    {"silence_intervals", PH_CFG_DBL, false, R(silence), 1, 100000, NULL, NULL, NULL},
    {"for_s", PH_CFG_DBL, false, R(for_s), 0, SECS, "0", NULL, NULL},
    END,
};
static const struct ph_cfgmap overdue_map[] = {
    {"period_days", PH_CFG_INT, false, R(period_days), 1, 3660, NULL, NULL, NULL},
    {"warn_days", PH_CFG_INT, false, R(warn_days), 0, 3660, NULL, NULL, NULL},
    {"if_never", PH_CFG_BOOL, false, R(if_never), 0, 0, "true", NULL, NULL},
    END,
};
static const struct ph_cfgmap *const type_maps[PH_RULE_TYPES] = {
    threshold_map, residence_map, rate_map, flatline_map, flags_map, gap_map, offline_map, overdue_map};
#undef R

/* ---------------------------------------------------------- templates */

static const char *const placeholders[] = {"park",   "ent",   "ent_name", "point", "metric", "metric_name", "unit",
                                           "value",  "limit", "low",      "high",  "window", "for",         "since",
                                           "rule",   "severity", "agent", "days",  "due",    "agg",         NULL};

static int placeholder_index(const char *s, size_t len) {
  for (int i = 0; placeholders[i]; i++)
    if (strlen(placeholders[i]) == len && memcmp(placeholders[i], s, len) == 0) return i;
  return -1;
}

bool ph_rules_template_ok(const char *t, char *bad, size_t cap) {
  for (const char *p = t; *p; p++) {
    if (*p != '{') continue;
    const char *q = strchr(p, '}');
    if (!q || placeholder_index(p + 1, (size_t)(q - p - 1)) < 0) {
      snprintf(bad, cap, "%.*s", q ? (int)(q - p + 1) : 20, p);
      return false;
    }
    p = q;
  }
  return true;
}

struct out {
  char *buf;
  size_t cap, len;
};

static void put(struct out *o, const char *s, size_t n) {
  for (size_t i = 0; i < n && o->len + 1 < o->cap; i++) o->buf[o->len++] = s[i];
  o->buf[o->len] = '\0';
}
static void puts_(struct out *o, const char *s) { put(o, s, strlen(s)); }

static void put_num(struct out *o, double v) {
  char b[48];
  if (!isfinite(v)) {
    puts_(o, "?");
    return;
  }
  if (v != 0 && fabs(v) < 1) {
    snprintf(b, sizeof b, "%.3g", v);
  } else {
    snprintf(b, sizeof b, "%.2f", v);
    char *dot = strchr(b, '.');
    if (dot) {
      char *end = b + strlen(b) - 1;
      while (end > dot && *end == '0') *end-- = '\0';
      if (end == dot) *end = '\0';
    }
  }
  puts_(o, b);
}

static void put_duration(struct out *o, int64_t ms, enum ph_lang lang) {
  static const char *const units[2][4] = {{" 天", " 小时", " 分钟", " 秒"}, {" d", " h", " min", " s"}};
  const char *const *u = units[lang == PH_LANG_EN];
  char b[48];
  int64_t s = ms / 1000;
  if (s % 86400 == 0 && s >= 86400)
    snprintf(b, sizeof b, "%lld%s", (long long)(s / 86400), u[0]);
  else if (s % 3600 == 0 && s >= 3600)
    snprintf(b, sizeof b, "%lld%s", (long long)(s / 3600), u[1]);
  else if (s % 60 == 0 && s >= 60)
    snprintf(b, sizeof b, "%lld%s", (long long)(s / 60), u[2]);
  else
    snprintf(b, sizeof b, "%lld%s", (long long)s, u[3]);
  puts_(o, b);
}

static void put_day(struct out *o, long day) {
  int y;
  unsigned m, d;
  char b[24];
  ph_civil_from_days(day, &y, &m, &d);
  snprintf(b, sizeof b, "%04d-%02u-%02u", y, m, d);
  puts_(o, b);
}

static const char *agg_text(const struct ph_rule *r, enum ph_lang lang, char *b, size_t cap) {
  bool en = lang == PH_LANG_EN;
  switch (r->type) {
  case PH_RULE_THRESHOLD:
    switch (r->value) {
    case PH_RV_INSTANT: return "";
    case PH_RV_MEAN: snprintf(b, cap, en ? "%d-min mean" : "%d 分钟均值", r->window_min); return b;
    case PH_RV_MAX: snprintf(b, cap, en ? "%d-min max" : "%d 分钟最大值", r->window_min); return b;
    case PH_RV_MIN: snprintf(b, cap, en ? "%d-min min" : "%d 分钟最小值", r->window_min); return b;
    case PH_RV_HOUR_MEAN: return en ? "hourly mean" : "小时均值";
    }
    return "";
  case PH_RULE_RATE: snprintf(b, cap, en ? "rate over %d min" : "%d 分钟变化率", r->window_min); return b;
  case PH_RULE_FLAGS: snprintf(b, cap, en ? "invalid share over %d min" : "%d 分钟内无效占比", r->window_min); return b;
  default: return "";
  }
}

static const char *severity_text(enum ph_severity s, enum ph_lang lang) {
  static const char *const zh[] = {"严重", "重要", "次要", "提示"};
  return lang == PH_LANG_EN || (unsigned)s > 3 ? ph_severity_name(s) : zh[s];
}

void ph_rules_render(const struct ph_alarm_event *ev, enum ph_lang lang, char *buf, size_t cap) {
  const struct render_ctx *c = ev->priv;
  const struct ph_rule *r = c->r;
  const bool en = lang == PH_LANG_EN;
  const struct ph_hub_park *park = &c->e->c.refs->cfg->parks[c->park];
  const struct ph_tz *tz = c->e->c.refs->tz[c->park];
  const struct ph_hub_ent *ent = &park->ents[c->ent];
  const struct ph_metric *m = c->metric >= 0 ? ph_catalog_at(c->e->c.refs->cat, (size_t)c->metric) : NULL;
  struct out o = {buf, cap, 0};
  if (!cap) return;
  buf[0] = '\0';
  char tmp[64];
  for (const char *p = en ? r->message : r->message_zh; *p; p++) {
    const char *q = *p == '{' ? strchr(p, '}') : NULL;
    int k = q ? placeholder_index(p + 1, (size_t)(q - p - 1)) : -1;
    if (k < 0) {
      put(&o, p, 1);
      continue;
    }
    p = q;
    size_t before = o.len;
    const char *name = placeholders[k];
    if (!strcmp(name, "park")) puts_(&o, park->id);
    else if (!strcmp(name, "ent")) puts_(&o, ent->id);
    else if (!strcmp(name, "ent_name")) puts_(&o, ent->name[0] ? ent->name : ent->id);
    else if (!strcmp(name, "point")) {
      if (c->point && c->point[0]) puts_(&o, c->point);
      else if (o.len && o.buf[o.len - 1] == '/') o.buf[--o.len] = '\0'; /* "{ent}/{point}" of an enterprise-level alarm */
    } else if (!strcmp(name, "metric")) puts_(&o, m ? m->code : r->metric);
    else if (!strcmp(name, "metric_name")) puts_(&o, m ? (!en && m->name_zh[0] ? m->name_zh : m->name) : r->metric);
    else if (!strcmp(name, "unit")) puts_(&o, m ? ph_unit_symbol(m->unit) : "");
    else if (!strcmp(name, "value")) { if (c->has_value) put_num(&o, c->value); }
    else if (!strcmp(name, "limit")) { if (c->has_limit) put_num(&o, c->limit); }
    else if (!strcmp(name, "low")) put_num(&o, r->low);
    else if (!strcmp(name, "high")) put_num(&o, r->high);
    else if (!strcmp(name, "window")) put_duration(&o, (int64_t)r->window_min * MIN_MS, lang);
    else if (!strcmp(name, "for")) put_duration(&o, r->for_ms, lang);
    else if (!strcmp(name, "since")) {
      char ts[40];
      if (c->since == NONE) {
        puts_(&o, en ? "never" : "从未");
      } else {
        ph_tz_format_human(tz, c->since, ts, sizeof ts);
        puts_(&o, ts);
      }
    } else if (!strcmp(name, "rule")) puts_(&o, r->id);
    else if (!strcmp(name, "severity")) puts_(&o, severity_text(r->severity, lang));
    else if (!strcmp(name, "agent")) puts_(&o, !en && c->agent_zh ? c->agent_zh : c->agent ? c->agent : "");
    else if (!strcmp(name, "days")) { if (c->has_days) { snprintf(tmp, sizeof tmp, "%lld", (long long)c->days); puts_(&o, tmp); } }
    else if (!strcmp(name, "due")) { if (c->has_days) put_day(&o, c->due_day); }
    else if (!strcmp(name, "agg")) puts_(&o, agg_text(r, lang, tmp, sizeof tmp));
    if (o.len == before && o.len && o.buf[o.len - 1] == ' ' && p[1] == ' ') p++; /* "{metric} {agg} {value}" */
  }
}

static const char *default_message(const struct ph_rule *r) {
  switch (r->type) {
  case PH_RULE_THRESHOLD:
    if (r->op == PH_OP_OUTSIDE) return "{ent}/{point}: {metric} {agg} {value} {unit} outside {low}-{high} {unit}";
    return r->op == PH_OP_GT ? "{ent}/{point}: {metric} {agg} {value} {unit} above {limit} {unit}"
                             : "{ent}/{point}: {metric} {agg} {value} {unit} below {limit} {unit}";
  case PH_RULE_RESIDENCE: return "{ent}/{point}: {metric} {value} {unit} inside {low}-{high} {unit} for more than {for}";
  case PH_RULE_RATE: return "{ent}/{point}: {metric} changing {value} {unit}/min ({agg})";
  case PH_RULE_FLATLINE: return "{ent}/{point}: {metric} stuck at {value} {unit} for more than {for}";
  case PH_RULE_FLAGS: return "{ent}/{point}: {value}% of {metric} values not flagged N ({agg}; limit {limit}%)";
  case PH_RULE_GAP: return "{ent}/{point}: no data since {since}";
  case PH_RULE_OFFLINE: return "{ent}: {agent} since {since}";
  case PH_RULE_OVERDUE:
    return r->warn_days >= 0 ? "{ent}/{point}: {metric} due on {due} ({days} days; last record {since})"
                             : "{ent}/{point}: {metric} overdue since {due} (last record {since})";
  default: return "{rule}";
  }
}

/* The same sentences in Chinese (inv. 3). */
static const char *default_message_zh(const struct ph_rule *r) {
  switch (r->type) {
  case PH_RULE_THRESHOLD:
    if (r->op == PH_OP_OUTSIDE) return "{ent}/{point}：{metric_name}{agg} {value} {unit}，超出 {low}–{high} {unit} 范围";
    return r->op == PH_OP_GT ? "{ent}/{point}：{metric_name}{agg} {value} {unit}，超过限值 {limit} {unit}"
                             : "{ent}/{point}：{metric_name}{agg} {value} {unit}，低于 {limit} {unit}";
  case PH_RULE_RESIDENCE:
    return "{ent}/{point}：{metric_name} {value} {unit}，处于 {low}–{high} {unit} 区间超过 {for}";
  case PH_RULE_RATE: return "{ent}/{point}：{metric_name}每分钟变化 {value} {unit}（{agg}）";
  case PH_RULE_FLATLINE: return "{ent}/{point}：{metric_name}停留在 {value} {unit} 超过 {for}";
  case PH_RULE_FLAGS: return "{ent}/{point}：{metric_name}有 {value}% 的数据标记不是 N（{agg}；限值 {limit}%）";
  case PH_RULE_GAP: return "{ent}/{point}：自 {since} 起没有数据";
  case PH_RULE_OFFLINE: return "{ent}：{agent}，自 {since} 起";
  case PH_RULE_OVERDUE:
    return r->warn_days >= 0 ? "{ent}/{point}：{metric_name}应于 {due} 前完成（还剩 {days} 天；上次 {since}）"
                             : "{ent}/{point}：{metric_name}自 {due} 起逾期（上次 {since}）";
  default: return "{rule}";
  }
}

/* --------------------------------------------------------------- loading */

struct ctx {
  const char *origin;
  const struct ph_catalog *cat;
  struct ph_err *err;
};

static int bad(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct ctx *c, const char *fmt, ...) {
  char msg[PH_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return ph_fail(c->err, PH_ECONFIG, "%s: %s", c->origin, msg);
}

/* cfgmap messages are "path.key: reason": give them the file name. */
static int apply(struct ctx *c, const struct ph_cfgmap *map, const cJSON *o, const char *path, void *dst) {
  struct ph_err e = {0};
  if (ph_cfgmap_apply(map, o, path, dst, &e) == 0) return 0;
  return bad(c, "%s", e.msg);
}

/* A rule's template in one language: the file's, else the default; every
 * placeholder must exist (inv. 1). */
static int template_of(struct ctx *c, const cJSON *o, const char *key, const char *path, const char *def,
                       char *dst) {
  const cJSON *msg = cJSON_GetObjectItemCaseSensitive(o, key);
  if (msg) {
    if (!cJSON_IsString(msg) || !msg->valuestring[0] || strlen(msg->valuestring) > PH_RULE_MSG_MAX)
      return bad(c, "%s.%s: must be a string of 1..%d bytes", path, key, PH_RULE_MSG_MAX);
    strcpy(dst, msg->valuestring);
  } else {
    strcpy(dst, def);
  }
  char which[40];
  if (!ph_rules_template_ok(dst, which, sizeof which))
    return bad(c, "%s.%s: unknown placeholder %s (known: {park} {ent} {ent_name} {point} {metric} "
               "{metric_name} {unit} {value} {limit} {low} {high} {window} {for} {since} {rule} {severity} "
               "{agent} {days} {due} {agg})", path, key, which);
  return 0;
}

static int only_keys(struct ctx *c, const cJSON *o, const char *path, const char *const *keys) {
  for (const cJSON *it = o->child; it; it = it->next) {
    int ok = 0;
    for (int i = 0; keys[i]; i++) ok |= strcmp(keys[i], it->string) == 0;
    if (!ok) return bad(c, "%s.%.64s: unknown key", path, it->string);
  }
  return 0;
}

static int scope_id(struct ctx *c, const cJSON *o, const char *key, const char *path, char *dst) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  dst[0] = '\0';
  if (!v) return 0;
  if (!cJSON_IsString(v)) return bad(c, "%s.%s: must be a string", path, key);
  if (strcmp(v->valuestring, "*") == 0) return 0;
  if (!ph_id_valid_z(v->valuestring))
    return bad(c, "%s.%s: '%.70s' is not an id or \"*\"", path, key, v->valuestring);
  strcpy(dst, v->valuestring);
  return 0;
}

static int parse_scope(struct ctx *c, const cJSON *s, const char *path, struct ph_rule *r) {
  char p[96];
  snprintf(p, sizeof p, "%s.scope", path);
  r->metric_idx = -1;
  if (!s) return 0;
  if (!cJSON_IsObject(s)) return bad(c, "%s: must be an object", p);
  static const char *const keys[] = {"park", "ent", "point", "metric", NULL};
  int rc;
  if ((rc = only_keys(c, s, p, keys)) || (rc = scope_id(c, s, "park", p, r->park)) ||
      (rc = scope_id(c, s, "ent", p, r->ent)) || (rc = scope_id(c, s, "point", p, r->point)) ||
      (rc = scope_id(c, s, "metric", p, r->metric)))
    return rc;
  if (r->ent[0] && ph_id_reserved(r->ent, strlen(r->ent)))
    return bad(c, "%s.ent: '%s' is a reserved word, never an enterprise", p, r->ent);
  if (r->metric[0]) {
    r->metric_idx = ph_catalog_find(c->cat, r->metric, strlen(r->metric));
    if (r->metric_idx < 0) return bad(c, "%s.metric: '%s' is not in the metric catalogue", p, r->metric);
    if (ph_catalog_at(c->cat, (size_t)r->metric_idx)->kind == PH_KIND_MATERIAL)
      return bad(c, "%s.metric: '%s' is a material (a ledger entry, not a measured value)", p, r->metric);
  }
  return 0;
}

static int parse_when(struct ctx *c, const cJSON *w, const char *path, struct ph_rule *r) {
  if (!w) return 0;
  static const char *const keys[] = {"state", NULL};
  static const char *const states[] = {"running", "startup", "shutdown", "stopped"};
  static const enum ph_state vals[] = {PH_STATE_RUNNING, PH_STATE_STARTUP, PH_STATE_SHUTDOWN, PH_STATE_STOPPED};
  if (!cJSON_IsObject(w)) return bad(c, "%s.when: must be an object", path);
  int rc = only_keys(c, w, path, keys);
  if (rc) return rc;
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(w, "state");
  if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) < 1)
    return bad(c, "%s.when.state: must be a non-empty array of running|startup|shutdown|stopped", path);
  int i = 0;
  for (const cJSON *it = a->child; it; it = it->next, i++) {
    int k = -1;
    for (int j = 0; j < 4 && cJSON_IsString(it); j++)
      if (strcmp(it->valuestring, states[j]) == 0) k = j;
    if (k < 0) return bad(c, "%s.when.state[%d]: not one of running|startup|shutdown|stopped", path, i);
    if (r->when_states & (1u << vals[k])) return bad(c, "%s.when.state[%d]: listed twice", path, i);
    r->when_states |= 1u << vals[k];
  }
  return 0;
}

static int parse_limit(struct ctx *c, const cJSON *l, const char *path, struct ph_rule *r) {
  if (cJSON_IsNumber(l)) {
    if (!isfinite(l->valuedouble)) return bad(c, "%s.limit: must be finite", path);
    r->limit = l->valuedouble;
    return 0;
  }
  if (!cJSON_IsObject(l)) return bad(c, "%s.limit: must be a number or {\"ref\": \"stack\"}", path);
  static const char *const keys[] = {"ref", "factor", NULL};
  char p[96];
  snprintf(p, sizeof p, "%s.limit", path);
  int rc = only_keys(c, l, p, keys);
  if (rc) return rc;
  const cJSON *ref = cJSON_GetObjectItemCaseSensitive(l, "ref");
  const cJSON *f = cJSON_GetObjectItemCaseSensitive(l, "factor");
  if (!cJSON_IsString(ref) || strcmp(ref->valuestring, "stack") != 0)
    return bad(c, "%s.ref: must be \"stack\" (the enterprise's stack limit)", p);
  r->limit_ref = true;
  r->factor = 1;
  if (f) {
    if (!cJSON_IsNumber(f) || !(f->valuedouble > 0) || f->valuedouble > 10)
      return bad(c, "%s.factor: must be a number in (0, 10]", p);
    r->factor = f->valuedouble;
  }
  return 0;
}

static int parse_hysteresis(struct ctx *c, const cJSON *h, const char *path, struct ph_rule *r) {
  if (!h) return 0;
  if (cJSON_IsNumber(h)) {
    if (!(h->valuedouble >= 0) || !isfinite(h->valuedouble)) return bad(c, "%s.hysteresis: must be >= 0", path);
    r->hyst = h->valuedouble;
    return 0;
  }
  const char *s = cJSON_IsString(h) ? h->valuestring : NULL;
  char *end = NULL;
  double v = s && *s >= '0' && *s <= '9' ? strtod(s, &end) : -1;
  if (!s || !end || strcmp(end, "%") != 0 || !(v >= 0) || v >= 1000 || strlen(s) > 8)
    return bad(c, "%s.hysteresis: must be a number >= 0 or a percentage like \"10%%\"", path);
  if (r->op == PH_OP_OUTSIDE) return bad(c, "%s.hysteresis: a percentage needs a limit (op > or <)", path);
  r->hyst = v;
  r->hyst_pct = true;
  return 0;
}

/* The condition object of rules[i]. */
static int parse_condition(struct ctx *c, const cJSON *o, const char *path, struct ph_rule *r) {
  if (!cJSON_IsObject(o)) return bad(c, "%s: must be an object", path);
  struct raw w;
  memset(&w, 0, sizeof w);
  int rc = apply(c, type_maps[r->type], o, path, &w);
  if (rc) return rc;
#define HAS(k) (cJSON_GetObjectItemCaseSensitive(o, k) != NULL)
  r->for_ms = (int64_t)llround(w.for_s * 1000);
  r->clear_for_ms = (int64_t)llround(w.clear_for_s * 1000);
  r->valid_only = w.valid_only;
  r->window_min = (int)w.window_min;
  r->warn_days = -1;
  switch (r->type) {
  case PH_RULE_THRESHOLD:
  case PH_RULE_RATE:
    r->op = (enum ph_rule_op)w.op;
    if (r->type == PH_RULE_THRESHOLD) {
      r->value = (enum ph_rule_value)w.value;
      bool windowed = r->value == PH_RV_MEAN || r->value == PH_RV_MAX || r->value == PH_RV_MIN;
      if (windowed && !HAS("window_min")) return bad(c, "%s.window_min: required for value %s", path, value_words[w.value]);
      if (!windowed && HAS("window_min"))
        return bad(c, "%s.window_min: only for value mean, max or min", path);
    }
    if (r->op == PH_OP_OUTSIDE) {
      if (!HAS("low") || !HAS("high")) return bad(c, "%s: op outside needs low and high", path);
      if (HAS("limit")) return bad(c, "%s.limit: not with op outside (low and high)", path);
      if (!(w.low < w.high)) return bad(c, "%s: low must be below high", path);
    } else {
      if (!HAS("limit")) return bad(c, "%s.limit: required for op %s", path, op_words[w.op]);
      if (HAS("low") || HAS("high")) return bad(c, "%s: low and high only with op outside", path);
    }
    r->low = w.low;
    r->high = w.high;
    if (r->type == PH_RULE_THRESHOLD) {
      if (HAS("limit") && (rc = parse_limit(c, cJSON_GetObjectItemCaseSensitive(o, "limit"), path, r))) return rc;
      if ((rc = parse_hysteresis(c, cJSON_GetObjectItemCaseSensitive(o, "hysteresis"), path, r))) return rc;
    } else {
      r->limit = w.limit;
      r->hyst = w.hyst;
    }
    if (r->op == PH_OP_OUTSIDE && r->hyst * 2 >= r->high - r->low)
      return bad(c, "%s.hysteresis: %g leaves no clear band inside [%g, %g]", path, r->hyst, r->low, r->high);
    return parse_when(c, cJSON_GetObjectItemCaseSensitive(o, "when"), path, r);
  case PH_RULE_RESIDENCE:
    r->op = PH_OP_INSIDE;
    r->low = w.low;
    r->high = w.high;
    r->hyst = w.hyst;
    if (!(w.low < w.high)) return bad(c, "%s: low must be below high", path);
    return parse_when(c, cJSON_GetObjectItemCaseSensitive(o, "when"), path, r);
  case PH_RULE_FLATLINE:
    r->tolerance = w.tolerance;
    r->for_ms = (int64_t)llround(w.for_s * 1000);
    return 0;
  case PH_RULE_FLAGS:
    r->op = PH_OP_GT;
    r->max_pct = r->limit = w.max_pct;
    r->min_values = w.min_values;
    r->hyst = w.hyst;
    return 0;
  case PH_RULE_GAP:
    if (HAS("after_s") && HAS("intervals")) return bad(c, "%s: after_s or intervals, not both", path);
    r->after_s = HAS("after_s") ? w.after_s : 0;
    r->intervals = HAS("intervals") ? w.intervals : 5;
    return 0;
  case PH_RULE_OFFLINE:
    r->status = w.status;
    r->silence_intervals = HAS("silence_intervals") ? w.silence : 0;
    if (!r->status && !r->silence_intervals)
      return bad(c, "%s: with status false, silence_intervals is needed (else it watches nothing)", path);
    return 0;
  case PH_RULE_OVERDUE:
    r->period_days = HAS("period_days") ? (int)w.period_days : 0;
    r->warn_days = HAS("warn_days") ? (int)w.warn_days : -1;
    r->if_never = w.if_never;
    return 0;
  default: return bad(c, "%s: unknown rule type", path);
  }
#undef HAS
}

static int parse_rule(struct ctx *c, const cJSON *o, int i, struct ph_rule *r) {
  char path[48];
  snprintf(path, sizeof path, "rules[%d]", i);
  if (!cJSON_IsObject(o)) return bad(c, "%s: must be an object", path);
  static const char *const keys[] = {"id", "severity", "scope", "message", "message_zh", "description", "enabled",
                                     "threshold", "residence", "rate", "flatline", "flags", "gap", "offline",
                                     "overdue", NULL};
  int rc = only_keys(c, o, path, keys);
  if (rc) return rc;
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
  const cJSON *sev = cJSON_GetObjectItemCaseSensitive(o, "severity");
  const cJSON *desc = cJSON_GetObjectItemCaseSensitive(o, "description");
  const cJSON *en = cJSON_GetObjectItemCaseSensitive(o, "enabled");
  if (!id) return bad(c, "%s.id: required", path);
  if (!cJSON_IsString(id) || !ph_id_valid_z(id->valuestring))
    return bad(c, "%s.id: must be an id ([a-z0-9][a-z0-9_-]{0,63})", path);
  if (strcmp(id->valuestring, PH_RULE_DATA_LOSS) == 0)
    return bad(c, "%s.id: '%s' is reserved for the hub's own data loss alarm", path, PH_RULE_DATA_LOSS);
  strcpy(r->id, id->valuestring);
  if (!sev) return bad(c, "%s.severity: required", path);
  int s = -1;
  for (int k = 0; k < 4 && cJSON_IsString(sev); k++)
    if (strcmp(sev->valuestring, sev_words[k]) == 0) s = k;
  if (s < 0) return bad(c, "%s.severity: must be one of critical|major|minor|warning", path);
  r->severity = (enum ph_severity)s;
  if (en && !cJSON_IsBool(en)) return bad(c, "%s.enabled: must be true or false", path);
  r->enabled = !en || cJSON_IsTrue(en);
  if (desc && (!cJSON_IsString(desc) || strlen(desc->valuestring) > 512 * 4))
    return bad(c, "%s.description: must be a string of at most 512 characters", path);
  int ntypes = 0;
  const cJSON *cond = NULL;
  for (int t = 0; t < PH_RULE_TYPES; t++) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, type_keys[t]);
    if (x) ntypes++, cond = x, r->type = (enum ph_rule_type)t;
  }
  if (ntypes != 1)
    return bad(c, "%s: needs exactly one of threshold, residence, rate, flatline, flags, gap, offline, overdue (has %d)",
               path, ntypes);
  if ((rc = parse_scope(c, cJSON_GetObjectItemCaseSensitive(o, "scope"), path, r))) return rc;
  char cpath[64];
  snprintf(cpath, sizeof cpath, "%s.%s", path, type_keys[r->type]);
  if ((rc = parse_condition(c, cond, cpath, r))) return rc;
  bool needs_metric = r->type == PH_RULE_THRESHOLD || r->type == PH_RULE_RESIDENCE || r->type == PH_RULE_RATE ||
                      r->type == PH_RULE_OVERDUE;
  if (needs_metric && r->metric_idx < 0)
    return bad(c, "%s.scope.metric: a %s rule watches one named metric", path, type_keys[r->type]);
  if (r->type == PH_RULE_OFFLINE && (r->point[0] || r->metric[0] ||
                                     cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "scope"), "point") ||
                                     cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "scope"), "metric")))
    return bad(c, "%s.scope: offline is enterprise-level: no point or metric", path);
  if ((rc = template_of(c, o, "message", path, default_message(r), r->message))) return rc;
  return template_of(c, o, "message_zh", path, default_message_zh(r), r->message_zh);
}

void ph_ruleset_fini(struct ph_ruleset *rs) {
  if (!rs) return;
  ph_free(rs->rules);
  ph_free(rs->webhooks);
  memset(rs, 0, sizeof *rs);
}

static int load_doc(struct ctx *c, const cJSON *root, struct ph_ruleset *rs) {
  if (!cJSON_IsObject(root)) return bad(c, "(root): must be an object");
  static const char *const keys[] = {"v", "park", "rules", "webhooks", NULL};
  int rc = only_keys(c, root, "(root)", keys);
  if (rc) return rc;
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "v");
  const cJSON *park = cJSON_GetObjectItemCaseSensitive(root, "park");
  const cJSON *rules = cJSON_GetObjectItemCaseSensitive(root, "rules");
  const cJSON *hooks = cJSON_GetObjectItemCaseSensitive(root, "webhooks");
  if (!v) return bad(c, "v: required");
  if (!cJSON_IsNumber(v) || v->valuedouble != 1) return bad(c, "v: must be 1");
  if (park) {
    if (!cJSON_IsString(park) || !ph_id_valid_z(park->valuestring)) return bad(c, "park: must be an id");
    strcpy(rs->park, park->valuestring);
  }
  if (!rules) return bad(c, "rules: required");
  if (!cJSON_IsArray(rules)) return bad(c, "rules: must be an array");
  int n = cJSON_GetArraySize(rules);
  if (n > PH_RULES_MAX) return bad(c, "rules: %d rules, more than the %d allowed", n, PH_RULES_MAX);
  if (n && !(rs->rules = ph_calloc((size_t)n, sizeof *rs->rules)))
    return ph_fail(c->err, PH_ENOMEM, "%s: out of memory", c->origin);
  int i = 0;
  for (const cJSON *it = rules->child; it; it = it->next, i++) {
    if ((rc = parse_rule(c, it, i, &rs->rules[i]))) return rc;
    for (int j = 0; j < i; j++)
      if (strcmp(rs->rules[j].id, rs->rules[i].id) == 0)
        return bad(c, "rules[%d].id: '%s' is already the id of rules[%d]", i, rs->rules[i].id, j);
    rs->nrules++;
  }
  if (hooks) {
    if (!cJSON_IsArray(hooks)) return bad(c, "webhooks: must be an array");
    int nh = cJSON_GetArraySize(hooks);
    if (nh > 16) return bad(c, "webhooks: %d, more than the 16 allowed", nh);
    if (nh && !(rs->webhooks = ph_calloc((size_t)nh, sizeof *rs->webhooks)))
      return ph_fail(c->err, PH_ENOMEM, "%s: out of memory", c->origin);
    i = 0;
    for (const cJSON *it = hooks->child; it; it = it->next, i++) {
      char path[32];
      struct ph_err e = {0};
      snprintf(path, sizeof path, "webhooks[%d]", i);
      if (ph_webhook_conf_parse(it, path, &rs->webhooks[i], &e)) return bad(c, "%s", e.msg);
      strcpy(rs->webhooks[i].park, rs->park);
      rs->nwebhooks++;
    }
  }
  return 0;
}

int ph_ruleset_load_json(const char *text, size_t len, const char *origin, const struct ph_catalog *cat,
                         struct ph_ruleset *out, struct ph_err *err) {
  memset(out, 0, sizeof *out);
  snprintf(out->origin, sizeof out->origin, "%s", origin);
  void *root = NULL;
  int rc = ph_json_parse(text, len, origin, &root, err);
  if (rc) return rc;
  struct ctx c = {.origin = origin, .cat = cat, .err = err};
  rc = load_doc(&c, root, out);
  cJSON_Delete(root);
  if (rc) {
    ph_ruleset_fini(out);
    snprintf(out->origin, sizeof out->origin, "%s", origin);
  }
  return rc;
}

int ph_ruleset_load_file(const char *path, const struct ph_catalog *cat, struct ph_ruleset *out, struct ph_err *err) {
  char *text;
  size_t len;
  memset(out, 0, sizeof *out);
  int rc = ph_file_read(path, 0, &text, &len, err);
  if (rc) return rc;
  rc = ph_ruleset_load_json(text, len, path, cat, out, err);
  ph_free(text);
  return rc;
}
