/* hj212_map.c — from a parsed HJ 212 packet to catalogue records (hj212.h):
 * MN → point, pollutant code → metric (config "codes" first, then the
 * catalogue's `hj212` codes), the standard's default units → the
 * catalogue's units, the logger's local DataTime → UTC, the data flag per
 * value → the record's flags.
 *
 * Callers: src_hj212.c (init from its config, then per packet),
 * hj212_dump.c, tests. Threads: none; a map is immutable after init.
 * Owns: the time zone.
 *
 * Which value of a code becomes the record's value: -Rtd for real-time
 * data (2011), -Avg for minute, hourly and daily data (2051, 2061, 2031).
 * -Min, -Max and -Cou are parsed but not published: the hub computes its
 * own extremes and masses from the values. The record's ts is DataTime,
 * which for 2051/2061/2031 is the start of the period (Table 4).
 *
 * Invariants: hj212.h inv. 5 (nothing invented), and
 *  1. a value is published in the catalogue's unit: a code whose unit
 *     differs from its metric's has a known factor (checked at init), or
 *     the config is refused.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/cfgmap.h"
#include "parkhub/hj212.h"
#include "parkhub/tz.h"

/* Units HJ 212-2017 Table B.2 gives for the codes the catalogue knows, where
 * they are not the catalogue's own. Concentrations in mg/m³ are standard
 * state already (HJ 75), so mg/m3 → mg/Nm3 is 1. */
static const struct {
  const char *code, *unit;
} std_units[] = {
    {"a00000", "m3/s"},  /* flue-gas flow; the catalogue's flow is Nm3/h */
    {"a20007", "ng/m3"}, /* arsenic; the catalogue's as is mg/Nm3 */
};

static const struct {
  const char *from, *to;
  double factor;
} conversions[] = {
    {"m3/s", "Nm3/h", 3600},     {"Nm3/s", "Nm3/h", 3600},   {"m3/h", "Nm3/h", 1},
    {"mg/m3", "mg/Nm3", 1},      {"ug/m3", "mg/Nm3", 1e-3},  {"ng/m3", "mg/Nm3", 1e-6},
    {"ug/Nm3", "mg/Nm3", 1e-3},  {"ng/Nm3", "mg/Nm3", 1e-6}, {"g/m3", "mg/Nm3", 1000},
    {"Pa", "kPa", 1e-3},         {"kPa", "Pa", 1000},        {"MPa", "kPa", 1000},
    {"ng/m3", "ng TEQ/Nm3", 1},  {"ngTEQ/m3", "ng TEQ/Nm3", 1}, {"pg/m3", "ng TEQ/Nm3", 1e-3},
    {"t/d", "t/h", 1.0 / 24},    {"kg/d", "kg/h", 1.0 / 24},
};

double ph_hj212_unit_factor(const char *from, const char *to) {
  if (strcmp(from, to) == 0) return 1;
  for (size_t i = 0; i < sizeof conversions / sizeof conversions[0]; i++)
    if (strcmp(conversions[i].from, from) == 0 && strcmp(conversions[i].to, to) == 0) return conversions[i].factor;
  return 0;
}

static const char *std_unit(const char *code, const char *fallback) {
  for (size_t i = 0; i < sizeof std_units / sizeof std_units[0]; i++)
    if (strcmp(std_units[i].code, code) == 0) return std_units[i].unit;
  return fallback;
}

#define L(field) offsetof(struct ph_hj212_logger, field), sizeof(((struct ph_hj212_logger *)0)->field)
static const struct ph_cfgmap logger_map[] = {
    {"mn", PH_CFG_STR, true, L(mn), 0, 0, NULL, NULL, "the data logger's MN (device id)"},
    {"point", PH_CFG_ID, true, L(point[PH_HJ212_P_RTD]), 0, 0, NULL, NULL, "point of its records"},
    {"minute_point", PH_CFG_ID, false, L(point[PH_HJ212_P_MIN]), 0, 0, NULL, NULL,
     "point of minute data (2051); default: point"},
    {"hour_point", PH_CFG_ID, false, L(point[PH_HJ212_P_HOUR]), 0, 0, NULL, NULL,
     "point of hourly data (2061); default: point"},
    {"day_point", PH_CFG_ID, false, L(point[PH_HJ212_P_DAY]), 0, 0, NULL, NULL,
     "point of daily data (2031); default: point"},
    {"password", PH_CFG_STR, false, L(password), 0, 0, NULL, NULL, "this logger's PW (default: the source's)"},
    PH_CFG_END,
};
#undef L

static const char *const command_words[PH_HJ212_P_COUNT] = {"2011", "2051", "2061", "2031"};

int ph_hj212_data_command(int cn) {
  switch (cn) {
  case 2011: return PH_HJ212_P_RTD;
  case 2051: return PH_HJ212_P_MIN;
  case 2061: return PH_HJ212_P_HOUR;
  case 2031: return PH_HJ212_P_DAY;
  }
  return -1;
}

static int load_loggers(struct ph_hj212_map *m, const cJSON *arr, struct ph_err *err) {
  if (!arr) return 0;
  if (!cJSON_IsArray(arr)) return ph_fail(err, PH_ECONFIG, "loggers: must be an array of objects");
  const cJSON *o;
  cJSON_ArrayForEach(o, arr) {
    if (m->nloggers == PH_HJ212_MAX_LOGGERS)
      return ph_fail(err, PH_ECONFIG, "loggers: more than %d", PH_HJ212_MAX_LOGGERS);
    char path[32];
    snprintf(path, sizeof path, "loggers[%d]", m->nloggers);
    struct ph_hj212_logger *l = &m->loggers[m->nloggers];
    memset(l, 0, sizeof *l);
    int rc = ph_cfgmap_apply(logger_map, o, path, l, err);
    if (rc) return rc;
    if (!o) return ph_fail(err, PH_ECONFIG, "%s: must be an object", path);
    size_t n = strlen(l->mn);
    bool plain = n > 0;
    for (size_t i = 0; i < n; i++)
      if ((unsigned char)l->mn[i] <= ' ' || (unsigned char)l->mn[i] >= 0x7f || strchr(";=&,", l->mn[i])) plain = false;
    if (!plain) return ph_fail(err, PH_ECONFIG, "%s.mn: 1..%d printable characters without ;=&,", path, PH_HJ212_MN_MAX);
    for (int k = 0; k < m->nloggers; k++)
      if (strcmp(m->loggers[k].mn, l->mn) == 0) return ph_fail(err, PH_ECONFIG, "%s.mn: '%s' is listed twice", path, l->mn);
    for (int p = 1; p < PH_HJ212_P_COUNT; p++)
      if (!l->point[p][0]) strcpy(l->point[p], l->point[PH_HJ212_P_RTD]);
    m->nloggers++;
  }
  return 0;
}

static int load_codes(struct ph_hj212_map *m, const cJSON *obj, struct ph_err *err) {
  if (!obj) return 0;
  if (!cJSON_IsObject(obj)) return ph_fail(err, PH_ECONFIG, "codes: must be an object of code → metric");
  const cJSON *it;
  cJSON_ArrayForEach(it, obj) {
    if (m->ncodes == PH_HJ212_MAX_OVERRIDES) return ph_fail(err, PH_ECONFIG, "codes: more than %d", PH_HJ212_MAX_OVERRIDES);
    size_t cl = strlen(it->string);
    bool ok = cl >= 1 && cl <= PH_HJ212_CODE_MAX;
    for (size_t i = 0; ok && i < cl; i++)
      ok = (it->string[i] >= 'a' && it->string[i] <= 'z') || (it->string[i] >= 'A' && it->string[i] <= 'Z') ||
           (it->string[i] >= '0' && it->string[i] <= '9');
    if (!ok) return ph_fail(err, PH_ECONFIG, "codes.%.40s: not an HJ 212 code (1..15 letters and digits)", it->string);
    struct ph_hj212_override *c = &m->codes[m->ncodes];
    strcpy(c->code, it->string);
    const cJSON *metric = it, *unit = NULL;
    if (cJSON_IsObject(it)) {
      for (const cJSON *k = it->child; k; k = k->next)
        if (strcmp(k->string, "metric") && strcmp(k->string, "unit"))
          return ph_fail(err, PH_ECONFIG, "codes.%s.%.40s: unknown key", c->code, k->string);
      metric = cJSON_GetObjectItemCaseSensitive(it, "metric");
      unit = cJSON_GetObjectItemCaseSensitive(it, "unit");
      if (unit && !cJSON_IsString(unit)) return ph_fail(err, PH_ECONFIG, "codes.%s.unit: must be a string", c->code);
    }
    if (cJSON_IsNull(metric)) {
      c->metric = -1; /* deliberately ignored */
      c->factor = 0;
      m->ncodes++;
      continue;
    }
    if (!cJSON_IsString(metric))
      return ph_fail(err, PH_ECONFIG, "codes.%s: a metric code, {\"metric\",\"unit\"} or null", c->code);
    c->metric = ph_catalog_find(m->cat, metric->valuestring, strlen(metric->valuestring));
    if (c->metric < 0) return ph_fail(err, PH_ECONFIG, "codes.%s: unknown metric '%.64s'", c->code, metric->valuestring);
    const struct ph_metric *mt = ph_catalog_at(m->cat, (size_t)c->metric);
    if (mt->kind == PH_KIND_MATERIAL)
      return ph_fail(err, PH_ECONFIG, "codes.%s: '%s' is a material, not a measurement", c->code, mt->code);
    const char *from = unit ? unit->valuestring : std_unit(c->code, mt->unit);
    if (!(c->factor = ph_hj212_unit_factor(from, mt->unit)))
      return ph_fail(err, PH_ECONFIG, "codes.%s: no conversion from %.24s to %s's unit %s", c->code, from, mt->code,
                     mt->unit);
    for (int k = 0; k < m->ncodes; k++)
      if (strcmp(m->codes[k].code, c->code) == 0) return ph_fail(err, PH_ECONFIG, "codes.%s: twice", c->code);
    m->ncodes++;
  }
  return 0;
}

static int load_commands(struct ph_hj212_map *m, const cJSON *arr, struct ph_err *err) {
  if (!arr) {
    m->commands = (1u << PH_HJ212_P_COUNT) - 1;
    return 0;
  }
  if (!cJSON_IsArray(arr)) return ph_fail(err, PH_ECONFIG, "commands: must be an array of \"2011\"|\"2051\"|\"2061\"|\"2031\"");
  const cJSON *it;
  cJSON_ArrayForEach(it, arr) {
    int k = 0;
    while (k < PH_HJ212_P_COUNT && !(cJSON_IsString(it) && strcmp(it->valuestring, command_words[k]) == 0)) k++;
    if (k == PH_HJ212_P_COUNT)
      return ph_fail(err, PH_ECONFIG, "commands: each one of \"2011\", \"2051\", \"2061\", \"2031\"");
    m->commands |= 1u << k;
  }
  return 0;
}

int ph_hj212_map_init(struct ph_hj212_map *m, const struct ph_catalog *cat, const void *cfg, const char *tz,
                      const char *password, struct ph_err *err) {
  memset(m, 0, sizeof *m);
  m->cat = cat;
  if (password && strlen(password) > PH_HJ212_PW_MAX)
    return ph_fail(err, PH_ECONFIG, "password: more than %d characters", PH_HJ212_PW_MAX);
  snprintf(m->password, sizeof m->password, "%s", password ? password : "");
  const cJSON *o = cfg;
  int rc;
  if ((rc = load_loggers(m, o ? cJSON_GetObjectItemCaseSensitive(o, "loggers") : NULL, err)) ||
      (rc = load_codes(m, o ? cJSON_GetObjectItemCaseSensitive(o, "codes") : NULL, err)) ||
      (rc = load_commands(m, o ? cJSON_GetObjectItemCaseSensitive(o, "commands") : NULL, err)))
    return rc;
  struct ph_err tzerr = {0};
  if (ph_tz_load(tz && *tz ? tz : "Asia/Shanghai", &m->tz, &tzerr))
    return ph_fail(err, PH_ECONFIG, "tz: %s", tzerr.msg);
  return 0;
}

void ph_hj212_map_fini(struct ph_hj212_map *m) {
  if (!m) return;
  ph_tz_free(m->tz);
  m->tz = NULL;
}

const struct ph_hj212_logger *ph_hj212_map_logger(const struct ph_hj212_map *m, const char *mn) {
  for (int i = 0; i < m->nloggers; i++)
    if (strcmp(m->loggers[i].mn, mn) == 0) return &m->loggers[i];
  return NULL;
}

int ph_hj212_map_check(const struct ph_hj212_map *m, const struct ph_hj212_packet *p, bool any_mn,
                       struct ph_err *err) {
  const struct ph_hj212_logger *l = ph_hj212_map_logger(m, p->mn);
  if (!l && !(any_mn && m->nloggers == 0))
    return ph_fail(err, PH_EIDENTITY, "MN '%s' is not a configured data logger", p->mn);
  const char *want = l && l->password[0] ? l->password : m->password;
  if (*want && (!p->has_pw || strcmp(p->pw, want) != 0))
    return ph_fail(err, PH_EPASSWORD, "MN '%s': PW does not match the configured access password", p->mn);
  return 0;
}

/* The dump without a config names points after the MN. */
static int point_from_mn(const char *mn, char *out) {
  size_t n = 0;
  for (; mn[n] && n < PH_ID_MAX; n++) {
    char c = mn[n];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    out[n] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ? c : '-';
  }
  out[n] = '\0';
  return ph_id_valid_z(out) ? 0 : PH_EBADID;
}

/* Local civil time (ms read as UTC) → UTC: two steps settle it wherever the
 * offset does not change within a day of the instant. */
static int64_t local_to_utc(const struct ph_tz *tz, int64_t local) {
  int64_t utc = local - (int64_t)ph_tz_offset_s(tz, local) * 1000;
  return local - (int64_t)ph_tz_offset_s(tz, utc) * 1000;
}

static void refuse_value(struct ph_hj212_records *out, int code, const char *code_name, const char *why,
                         double v) {
  if (!out->refused++)
    ph_fail(&out->first_refusal, code, "%s: %s%s", code_name, why, isfinite(v) ? "" : " (not finite)");
}

static void resolve(const struct ph_hj212_map *m, const char *code, int *metric, double *factor) {
  for (int i = 0; i < m->ncodes; i++)
    if (strcmp(m->codes[i].code, code) == 0) {
      *metric = m->codes[i].metric;
      *factor = m->codes[i].factor;
      return;
    }
  *metric = ph_catalog_find_hj212(m->cat, code);
  *factor = 0;
  if (*metric >= 0) {
    const struct ph_metric *mt = ph_catalog_at(m->cat, (size_t)*metric);
    if (mt->kind == PH_KIND_MATERIAL) {
      *metric = -1;
      return;
    }
    *factor = ph_hj212_unit_factor(std_unit(code, mt->unit), mt->unit);
    if (*factor == 0) *metric = -1; /* a unit pair without a factor: not guessed (inv. 1) */
  }
}

int ph_hj212_map_records(const struct ph_hj212_map *m, const struct ph_hj212_packet *p,
                         const struct ph_hj212_data *d, int64_t now_ms, struct ph_hj212_records *out,
                         struct ph_err *err) {
  out->nrec = out->unknown = out->refused = 0;
  out->unknown_code[0] = '\0';
  ph_err_clear(&out->first_refusal);
  int cmd = ph_hj212_data_command(p->cn);
  if (cmd < 0) return ph_fail(err, PH_EENUM, "CN %d is not a data upload", p->cn);
  if (!d->has_time) return ph_fail(err, PH_EMISSING, "CN %d without DataTime", p->cn);
  int64_t ts = local_to_utc(m->tz, d->time_local_ms);
  if (now_ms && ts > now_ms + m->max_future_ms)
    return ph_fail(err, PH_ESKEW, "DataTime is %lld s ahead of this clock (tz %s)", (long long)((ts - now_ms) / 1000),
                   ph_tz_name(m->tz));
  char point[PH_ID_MAX + 1];
  const struct ph_hj212_logger *l = ph_hj212_map_logger(m, p->mn);
  if (l)
    strcpy(point, l->point[cmd]);
  else if (point_from_mn(p->mn, point))
    return ph_fail(err, PH_EBADID, "MN '%s' makes no point id", p->mn);
  int field = cmd == PH_HJ212_P_RTD ? 0 : 1; /* -Rtd, else -Avg */
  unsigned bit = 1u << field;
  struct ph_hj212_out_rec *byk[PH_KIND_COUNT] = {0};
  for (size_t i = 0; i < d->n; i++) {
    const struct ph_hj212_value *hv = &d->val[i];
    if (!(hv->have & bit) && !(hv->bad & bit)) continue; /* e.g. only -Cou: nothing to publish */
    int metric;
    double factor;
    resolve(m, hv->code, &metric, &factor);
    if (metric < 0) {
      if (!out->unknown++) snprintf(out->unknown_code, sizeof out->unknown_code, "%s", hv->code);
      continue;
    }
    const struct ph_metric *mt = ph_catalog_at(m->cat, (size_t)metric);
    if (hv->bad & bit) {
      refuse_value(out, PH_ETYPE, hv->code, field ? "-Avg is not a number" : "-Rtd is not a number", 0);
      continue;
    }
    char flag = hv->flag ? hv->flag : 'N';
    if (!ph_flag_valid(flag)) {
      refuse_value(out, PH_EFLAG, hv->code, "-Flag is not one of N F M S D C T B", 0);
      continue;
    }
    double v = hv->v[field] * factor;
    if (!isfinite(v) || v < mt->min || v > mt->max) {
      char why[256];
      snprintf(why, sizeof why, "%g %.24s is outside %.64s's plausible range %g..%g", v, mt->unit, mt->code, mt->min, mt->max);
      refuse_value(out, PH_ERANGE, hv->code, why, v);
      continue;
    }
    struct ph_hj212_out_rec *r = byk[mt->kind];
    if (!r) {
      r = byk[mt->kind] = &out->rec[out->nrec++];
      memset(&r->r, 0, sizeof r->r);
      r->kind = mt->kind;
      r->r.ts_ms = ts;
      r->r.attrs_off = -1;
      strcpy(r->r.point, point);
    }
    bool dup = false;
    for (uint16_t k = 0; k < r->r.nvalues; k++) dup |= r->v[k].metric == metric;
    if (dup || r->r.nvalues == PH_RECORD_MAX_VALUES) {
      refuse_value(out, PH_EJSON, hv->code, "a second code for the same metric, or too many values", 0);
      continue;
    }
    r->v[r->r.nvalues++] = (struct ph_value){.metric = metric, .flag = flag, .v = v};
  }
  return 0;
}
