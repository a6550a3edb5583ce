/* hj212_map.c — from a parsed HJ 212 packet to catalogue records (hj212.h):
 * MN → point, the packet's version (its logger's "version", else its
 * Flag's bits), pollutant code → metric (config "codes" first, then the
 * catalogue's `hj212` codes, HJ/T 212-2005 codes through hj212_codes.c),
 * the standard's units (or the logger's "units") → the catalogue's units,
 * the logger's local DataTime → UTC, the data flag per value → the
 * record's flags.
 *
 * Callers: src_hj212.c (init from its config, then per packet),
 * hj212_dump.c, tests, the fuzz target. Threads: none; a map is immutable
 * after init. Owns: the time zone.
 *
 * Loading for --check-config (ph_hj212_map_init_all with a problem list)
 * notes every bad entry of "codes", "loggers" (and their "corrected" and
 * "units"), "commands" and "tz", leaves it out and checks the next; a key
 * that is not the list it should be, or a list over its cap, stops that
 * key's check only. "codes" loads first: the loggers' "units" are checked
 * against it.
 *
 * Which value of a code becomes the record's value: -Rtd for real-time
 * data (2011), -Avg for minute, hourly and daily data (2051, 2061, 2031);
 * -ZsRtd/-ZsAvg instead for the logger's "corrected" codes; and, for period
 * data, -Cou where the factor has a catalogue metric for it (w00000 →
 * w_volume). -Min and -Max are parsed but not published: the hub computes
 * its own extremes. The record's ts is DataTime, which for 2051/2061/2031
 * is the start of the period (Table 4). docs/hj212.md says why.
 *
 * Invariants: hj212.h inv. 5 (nothing invented), and
 *  1. a value is published in the catalogue's unit: a code whose unit
 *     differs from its metric's has a known factor (checked at init for
 *     "codes" and "units"; a listed code without one maps to nothing, named).
 *  2. every code that maps to nothing is named with the reason
 *     (ph_hj212_records.unknown_*), never dropped silently.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/cfgmap.h"
#include "hj212/hj212.h"
#include "parkhub/tz.h"

/* Unit conversions to the catalogue's units. Concentrations in mg/m3 are
 * standard state already (HJ 75), so mg/m3 -> mg/Nm3 is 1. */
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
    /* water: concentrations, flows, volumes */
    {"ug/L", "mg/L", 1e-3},      {"ng/L", "mg/L", 1e-6},     {"g/L", "mg/L", 1000},
    {"L/s", "m3/h", 3.6},        {"m3/s", "m3/h", 3600},     {"m3/d", "m3/h", 1.0 / 24},
    {"m3/min", "m3/h", 60},      {"L/h", "m3/h", 1e-3},      {"L", "m3", 1e-3},
};

double ph_hj212_unit_factor(const char *from, const char *to) {
  if (strcmp(from, to) == 0) return 1;
  for (size_t i = 0; i < sizeof conversions / sizeof conversions[0]; i++)
    if (strcmp(conversions[i].from, from) == 0 && strcmp(conversions[i].to, to) == 0) return conversions[i].factor;
  return 0;
}

/* The unit the standard gives a code's values in (either generation), or
 * `fallback` (the metric's own) for a code it does not list. */
static const char *std_unit(const char *code, const char *fallback) {
  const struct ph_hj212_factor *f = ph_hj212_factor_2017(code);
  if (f) return f->unit;
  if ((f = ph_hj212_factor_2005(code))) return f->unit2005;
  return fallback;
}

static const char *const version_words[] = {"auto", "2005", "2017", "2025", NULL};

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
    {"version", PH_CFG_ENUM, false, offsetof(struct ph_hj212_logger, version), 0, 0, 0, "auto", version_words,
     "HJ 212 version its packets are read as; auto: the Flag's version bits (no Flag: HJ/T 212-2005)"},
    {"cou", PH_CFG_BOOL, false, offsetof(struct ph_hj212_logger, cou), 0, 0, 0, "true", NULL,
     "publish -Cou of period data where the catalogue has the quantity (w00000/B01 -> w_volume)"},
    {"corrected", PH_CFG_SKIP, false, 0, 0, 0, 0, NULL, NULL,
     "array of codes whose -ZsRtd/-ZsAvg (corrected to reference O2) is published instead of -Rtd/-Avg"},
    {"units", PH_CFG_SKIP, false, 0, 0, 0, 0, NULL, NULL,
     "object code -> unit this logger sends it in, where not the standard's (\"w00000\": \"m3/h\")"},
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

static bool code_ok(const char *c) {
  size_t n = strlen(c);
  if (n < 1 || n > PH_HJ212_CODE_MAX) return false;
  for (size_t i = 0; i < n; i++)
    if (!((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= 'A' && c[i] <= 'Z') || (c[i] >= '0' && c[i] <= '9'))) return false;
  return true;
}

/* "corrected" and "units" of one logger: each bad entry noted in pr (and
 * left out), or, without pr, the first returned. A key of the wrong shape
 * has no entries to go on with. */
static int load_logger_codes(struct ph_hj212_logger *l, const cJSON *o, const char *path,
                             struct ph_cfg_problems *pr, struct ph_err *err) {
  const cJSON *zs = cJSON_GetObjectItemCaseSensitive(o, "corrected"), *units = cJSON_GetObjectItemCaseSensitive(o, "units");
  const cJSON *it;
  int rc, i = 0;
  if (zs && !cJSON_IsArray(zs) && (rc = ph_cfg_note(pr, ph_fail(err, PH_ECONFIG, "%s.corrected: must be an array of HJ 212 codes", path), err)))
    return rc;
  const cJSON *zl = cJSON_IsArray(zs) ? zs : NULL, *ul = cJSON_IsObject(units) ? units : NULL;
  cJSON_ArrayForEach(it, zl) {
    if (l->nzs == PH_HJ212_LOGGER_CODES)
      return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "%s.corrected: more than %d codes", path, PH_HJ212_LOGGER_CODES), err);
    if (!cJSON_IsString(it) || !code_ok(it->valuestring)) {
      rc = ph_fail(err, PH_ECONFIG, "%s.corrected[%d]: an HJ 212 code (1..15 letters and digits)", path, i++);
      if ((rc = ph_cfg_note(pr, rc, err))) return rc;
      continue;
    }
    i++;
    strcpy(l->zs[l->nzs++], it->valuestring);
  }
  if (units && !cJSON_IsObject(units) &&
      (rc = ph_cfg_note(pr, ph_fail(err, PH_ECONFIG, "%s.units: must be an object code -> unit", path), err)))
    return rc;
  cJSON_ArrayForEach(it, ul) {
    if (l->nunits == PH_HJ212_LOGGER_CODES)
      return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "%s.units: more than %d codes", path, PH_HJ212_LOGGER_CODES), err);
    rc = 0;
    if (!code_ok(it->string))
      rc = ph_fail(err, PH_ECONFIG, "%s.units.%.40s: not an HJ 212 code", path, it->string);
    else if (!cJSON_IsString(it) || !it->valuestring[0] || strlen(it->valuestring) >= sizeof l->units[0].unit)
      rc = ph_fail(err, PH_ECONFIG, "%s.units.%s: a unit of 1..23 characters", path, it->string);
    if (rc) {
      if ((rc = ph_cfg_note(pr, rc, err))) return rc;
      continue;
    }
    strcpy(l->units[l->nunits].code, it->string);
    strcpy(l->units[l->nunits].unit, it->valuestring);
    l->nunits++;
  }
  return 0;
}

/* The checks of one logger's own keys that need no other logger. */
static int check_mn(const struct ph_hj212_logger *l, const char *path, struct ph_err *err) {
  size_t n = strlen(l->mn);
  bool plain = n > 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)l->mn[i] <= ' ' || (unsigned char)l->mn[i] >= 0x7f || strchr(";=&,", l->mn[i])) plain = false;
  if (!plain) return ph_fail(err, PH_ECONFIG, "%s.mn: 1..%d printable characters without ;=&,", path, PH_HJ212_MN_MAX);
  return 0;
}

/* The catalogue metric a logger's "units" entry converts to, or -1. */
static int unit_metric(const struct ph_hj212_map *m, const char *code) {
  const struct ph_hj212_factor *f = ph_hj212_code_is_2017(code) ? NULL : ph_hj212_factor_2005(code);
  for (int c = 0; c < m->ncodes; c++)
    if (strcmp(m->codes[c].code, code) == 0) return m->codes[c].metric;
  return ph_catalog_find_hj212(m->cat, f ? f->code : code);
}

/* A logger's "units" must convert to its code's metric (inv. 1); each one
 * that does not is noted in pr (without pr: the first returned). A code
 * whose own "codes" entry was refused is passed over: that entry's
 * problem is noted already. "codes" is loaded before the loggers. */
static int check_logger_units(const struct ph_hj212_map *m, const struct ph_hj212_logger *l, const char *path,
                              const cJSON *codes, struct ph_cfg_problems *pr, struct ph_err *err) {
  for (int k = 0; k < l->nunits; k++) {
    const char *code = l->units[k].code;
    int metric = unit_metric(m, code), rc = 0;
    if (metric < 0 && cJSON_GetObjectItemCaseSensitive(codes, code)) continue;
    const struct ph_metric *mt = metric < 0 ? NULL : ph_catalog_at(m->cat, (size_t)metric);
    if (!mt)
      rc = ph_fail(err, PH_ECONFIG, "%s.units.%s: the code maps to no catalogue metric", path, code);
    else if (!ph_hj212_unit_factor(l->units[k].unit, mt->unit))
      rc = ph_fail(err, PH_ECONFIG, "%s.units.%s: no conversion from %.23s to %s's unit %s", path, code,
                   l->units[k].unit, mt->code, mt->unit);
    if ((rc = ph_cfg_note(pr, rc, err))) return rc;
  }
  return 0;
}

/* One logger into m->loggers[m->nloggers]; with pr, every problem of it is
 * noted and PH_ECONFIG returned when there was one (the logger is left out,
 * so no later check trips over it). */
static int load_logger(struct ph_hj212_map *m, const cJSON *o, int idx, const cJSON *codes,
                       struct ph_cfg_problems *pr, struct ph_err *err) {
  char path[32];
  snprintf(path, sizeof path, "loggers[%d]", idx);
  struct ph_hj212_logger *l = &m->loggers[m->nloggers];
  memset(l, 0, sizeof *l);
  l->index = idx;
  if (!cJSON_IsObject(o)) return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "%s: must be an object", path), err);
  int before = pr ? pr->n : 0, rc;
  if ((rc = ph_cfgmap_apply_all(logger_map, o, path, l, pr, err)) && !pr) return rc;
  if ((l->mn[0] || !rc) && (rc = ph_cfg_note(pr, check_mn(l, path, err), err))) /* a missing mn is noted once */
    return rc;
  for (int k = 0; l->mn[0] && k < m->nloggers; k++)
    if (strcmp(m->loggers[k].mn, l->mn) == 0 &&
        (rc = ph_cfg_note(pr, ph_fail(err, PH_ECONFIG, "%s.mn: '%s' is listed twice (also loggers[%d])", path, l->mn,
                                      m->loggers[k].index), err)))
      return rc;
  for (int p = 1; p < PH_HJ212_P_COUNT; p++)
    if (!l->point[p][0]) strcpy(l->point[p], l->point[PH_HJ212_P_RTD]);
  if ((rc = load_logger_codes(l, o, path, pr, err)) || (rc = check_logger_units(m, l, path, codes, pr, err)))
    return rc;
  return pr && pr->n > before ? PH_ECONFIG : 0;
}

static int load_loggers(struct ph_hj212_map *m, const cJSON *arr, const cJSON *codes, struct ph_cfg_problems *pr,
                        struct ph_err *err) {
  if (!arr) return 0;
  if (!cJSON_IsArray(arr)) return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "loggers: must be an array of objects"), err);
  if (cJSON_GetArraySize(arr) > PH_HJ212_MAX_LOGGERS) /* a hostile list: not read at all */
    return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "loggers: more than %d", PH_HJ212_MAX_LOGGERS), err);
  const cJSON *o;
  int idx = 0;
  cJSON_ArrayForEach(o, arr) {
    int rc = load_logger(m, o, idx++, codes, pr, err);
    if (rc && !pr) return rc;
    if (!rc) m->nloggers++; /* a bad one is noted and left out */
  }
  return 0;
}

/* One entry of "codes" into m->codes[m->ncodes]; 0 when it is good. */
static int load_code(struct ph_hj212_map *m, const cJSON *it, struct ph_err *err) {
  if (!code_ok(it->string))
    return ph_fail(err, PH_ECONFIG, "codes.%.40s: not an HJ 212 code (1..15 letters and digits)", it->string);
  struct ph_hj212_override *c = &m->codes[m->ncodes];
  strcpy(c->code, it->string);
  for (int k = 0; k < m->ncodes; k++)
    if (strcmp(m->codes[k].code, c->code) == 0) return ph_fail(err, PH_ECONFIG, "codes.%s: twice", c->code);
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
    return 0;
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
  return 0;
}

/* "codes": each bad entry noted in pr and left out (without pr: the first
 * returned). */
static int load_codes(struct ph_hj212_map *m, const cJSON *obj, struct ph_cfg_problems *pr, struct ph_err *err) {
  if (!obj) return 0;
  if (!cJSON_IsObject(obj)) return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "codes: must be an object of code → metric"), err);
  if (cJSON_GetArraySize(obj) > PH_HJ212_MAX_OVERRIDES) /* a hostile map: not read at all */
    return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "codes: more than %d", PH_HJ212_MAX_OVERRIDES), err);
  const cJSON *it;
  cJSON_ArrayForEach(it, obj) {
    int rc = load_code(m, it, err);
    if (!rc)
      m->ncodes++;
    else if ((rc = ph_cfg_note(pr, rc, err))) /* noted: the next entry */
      return rc;
  }
  return 0;
}

/* "commands": each bad entry noted in pr (without pr: the first returned). */
static int load_commands(struct ph_hj212_map *m, const cJSON *arr, struct ph_cfg_problems *pr, struct ph_err *err) {
  if (!arr) {
    m->commands = (1u << PH_HJ212_P_COUNT) - 1;
    return 0;
  }
  if (!cJSON_IsArray(arr))
    return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "commands: must be an array of \"2011\"|\"2051\"|\"2061\"|\"2031\""), err);
  const cJSON *it;
  int i = 0, rc;
  cJSON_ArrayForEach(it, arr) {
    int k = 0;
    while (k < PH_HJ212_P_COUNT && !(cJSON_IsString(it) && strcmp(it->valuestring, command_words[k]) == 0)) k++;
    if (k < PH_HJ212_P_COUNT)
      m->commands |= 1u << k;
    else if ((rc = ph_cfg_note(pr, ph_fail(err, PH_ECONFIG, "commands[%d]: one of \"2011\", \"2051\", \"2061\", \"2031\"", i), err)))
      return rc;
    i++;
  }
  return 0;
}

int ph_hj212_map_init(struct ph_hj212_map *m, const struct ph_catalog *cat, const void *cfg, const char *tz,
                      const char *password, struct ph_err *err) {
  return ph_hj212_map_init_all(m, cat, cfg, tz, password, NULL, err);
}

/* Each part is checked even when one before it had problems (with pr):
 * they are independent, and a bad entry is left out of its list. */
int ph_hj212_map_init_all(struct ph_hj212_map *m, const struct ph_catalog *cat, const void *cfg, const char *tz,
                          const char *password, struct ph_cfg_problems *pr, struct ph_err *err) {
  memset(m, 0, sizeof *m);
  m->cat = cat;
  int before = pr ? pr->n : 0, rc;
  if (password && strlen(password) > PH_HJ212_PW_MAX &&
      (rc = ph_cfg_note(pr, ph_fail(err, PH_ECONFIG, "password: more than %d characters", PH_HJ212_PW_MAX), err)))
    return rc;
  snprintf(m->password, sizeof m->password, "%.*s", PH_HJ212_PW_MAX, password ? password : "");
  const cJSON *o = cfg, *codes = o ? cJSON_GetObjectItemCaseSensitive(o, "codes") : NULL;
  /* with pr a part that stopped (its list is not one) has noted why: the next part goes on */
  /* "codes" first: a logger's "units" are checked against them */
  if ((rc = load_codes(m, codes, pr, err)) && !pr) return rc;
  if ((rc = load_loggers(m, o ? cJSON_GetObjectItemCaseSensitive(o, "loggers") : NULL, codes, pr, err)) && !pr) return rc;
  if ((rc = load_commands(m, o ? cJSON_GetObjectItemCaseSensitive(o, "commands") : NULL, pr, err)) && !pr) return rc;
  struct ph_err tzerr = {0};
  if (ph_tz_load(tz && *tz ? tz : "Asia/Shanghai", &m->tz, &tzerr) &&
      (rc = ph_cfg_note(pr, ph_fail(err, PH_ECONFIG, "tz: %s", tzerr.msg), err)))
    return rc;
  if (pr && pr->n > before) { /* m holds nothing to free on failure */
    ph_hj212_map_fini(m);
    return PH_ECONFIG;
  }
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

/* How a code of a packet becomes a metric. */
struct resolved {
  int metric;                      /* catalogue index; -1: none (why says) */
  double factor;                   /* to the metric's unit */
  bool ignored;                    /* "codes" maps it to null: not unknown */
  const struct ph_hj212_factor *f; /* its factor entry, when listed */
  const char *unit;                /* the unit its values were read in */
};

static const char *logger_unit(const struct ph_hj212_logger *l, const char *code) {
  for (int i = 0; l && i < l->nunits; i++)
    if (strcmp(l->units[i].code, code) == 0) return l->units[i].unit;
  return NULL;
}

/* version: the packet's (PH_HJ212_V2005/2017/2025); mixed: a packet without
 * Flag from a logger on "auto", which may carry either generation's codes. */
static void resolve(const struct ph_hj212_map *m, const struct ph_hj212_logger *l, int version, bool mixed,
                    const char *code, struct resolved *r, char *why, size_t whyn) {
  memset(r, 0, sizeof *r);
  r->metric = -1;
  why[0] = '\0';
  for (int i = 0; i < m->ncodes; i++)
    if (strcmp(m->codes[i].code, code) == 0) { /* "codes": the unit was checked at init */
      r->metric = m->codes[i].metric;
      r->factor = m->codes[i].factor;
      r->ignored = r->metric < 0;
      return;
    }
  const struct ph_hj212_factor *f17 = ph_hj212_factor_2017(code), *f05 = ph_hj212_factor_2005(code);
  bool old = version == PH_HJ212_V2005 && !ph_hj212_code_is_2017(code);
  if (mixed) old = f05 != NULL;
  const char *unit = NULL;
  const struct ph_hj212_factor *fu = f05 ? NULL : ph_hj212_factor_2005_unmapped(code);
  if (fu && (old || mixed)) {
    snprintf(why, whyn, "the HJ/T 212-2005 code of %s %s, whose 2005 unit is not confirmed: map it in \"codes\" "
             "with its unit", fu->code, fu->name_zh);
    return;
  }
  if (old) {
    if (!f05) {
      snprintf(why, whyn, "not an HJ/T 212-2005 code of the catalogue's factors (the packet is read as %s)",
               ph_hj212_version_name(version));
      return;
    }
    r->f = f05;
    r->metric = ph_catalog_find_hj212(m->cat, f05->code);
    unit = f05->unit2005;
  } else {
    if (version == PH_HJ212_V2005 && !mixed) {
      snprintf(why, whyn, "an HJ 212-2017 code in a packet read as HJ/T 212-2005 (set the logger's \"version\")");
      return;
    }
    r->f = f17;
    r->metric = ph_catalog_find_hj212(m->cat, code);
    if (r->metric < 0 && f05) {
      snprintf(why, whyn, "an HJ/T 212-2005 code (%s, now %s) in a packet read as %s (set the logger's \"version\": \"2005\")",
               f05->name_zh, f05->code, ph_hj212_version_name(version));
      return;
    }
  }
  if (r->metric < 0) {
    snprintf(why, whyn, "%s", ph_hj212_code_is_2017(code) ? "no catalogue metric has this HJ 212-2017 code"
                                                          : "not an HJ 212-2017 code, nor an HJ/T 212-2005 code of "
                                                            "the catalogue's factors");
    return;
  }
  const struct ph_metric *mt = ph_catalog_at(m->cat, (size_t)r->metric);
  if (mt->kind == PH_KIND_MATERIAL) {
    r->metric = -1;
    snprintf(why, whyn, "its catalogue metric %s is a material", mt->code);
    return;
  }
  const char *lu = logger_unit(l, code);
  r->unit = lu ? lu : unit ? unit : std_unit(code, mt->unit);
  if (!(r->factor = ph_hj212_unit_factor(r->unit, mt->unit))) { /* not guessed (inv. 1) */
    snprintf(why, whyn, "no conversion from %.23s to %s's unit %s", r->unit, mt->code, mt->unit);
    r->metric = -1;
  }
}

static void note_unknown(struct ph_hj212_records *out, const char *code, const char *why) {
  if (!out->unknown++) {
    snprintf(out->unknown_code, sizeof out->unknown_code, "%s", code);
    snprintf(out->unknown_why, sizeof out->unknown_why, "%s", why);
  }
  size_t n = strlen(out->unknown_list), cl = strlen(code);
  if (n + cl + 6 < sizeof out->unknown_list)
    snprintf(out->unknown_list + n, sizeof out->unknown_list - n, "%s%s", n ? ", " : "", code);
  else if (n + 4 < sizeof out->unknown_list && strcmp(out->unknown_list + n - 3, "…"))
    strcat(out->unknown_list, "…");
}

int ph_hj212_map_version(const struct ph_hj212_map *m, const struct ph_hj212_packet *p) {
  const struct ph_hj212_logger *l = ph_hj212_map_logger(m, p->mn);
  return ph_hj212_packet_version(p, l ? l->version : PH_HJ212_V_AUTO);
}

int ph_hj212_map_data(const struct ph_hj212_map *m, const struct ph_hj212_packet *p, struct ph_hj212_data *d,
                      struct ph_err *err) {
  int rc = ph_hj212_data_parse(p, d, err);
  bool data_cmd = p->cn >= 2000 && p->cn <= 2999;
  if (ph_hj212_map_version(m, p) != PH_HJ212_V2025 || !data_cmd || !p->cp_len) return rc;
  /* HJ 212-2025 encrypts the data area of data commands (SM4-ECB); what that
   * looks like on the wire is not verified here (docs/hj212.md), so an area
   * that is not name=value pairs with a DataTime is named, not decoded. */
  if (rc == PH_EJSON || (rc == 0 && !d->has_time && d->n == 0))
    return ph_fail(err, PH_EVERSION,
                   "HJ 212-2025 CN %d whose data area is not name=value pairs: probably encrypted (SM4), which this "
                   "agent does not decrypt (docs/hj212.md)", p->cn);
  return rc;
}

static bool is_corrected(const struct ph_hj212_logger *l, const char *code) {
  for (int i = 0; l && i < l->nzs; i++)
    if (strcmp(l->zs[i], code) == 0) return true;
  return false;
}

/* Adds one value to the record of its metric's kind; refusals counted. */
static void put_value(const struct ph_hj212_map *m, struct ph_hj212_records *out, struct ph_hj212_out_rec **byk,
                      int64_t ts, const char *point, const char *code, const char *field, int metric, double v,
                      char flag) {
  const struct ph_metric *mt = ph_catalog_at(m->cat, (size_t)metric);
  char label[PH_HJ212_CODE_MAX + 8];
  snprintf(label, sizeof label, "%s-%s", code, field);
  if (!isfinite(v) || v < mt->min || v > mt->max) {
    char why[256];
    snprintf(why, sizeof why, "%g %.24s is outside %.64s's plausible range %g..%g", v, mt->unit, mt->code, mt->min,
             mt->max);
    refuse_value(out, PH_ERANGE, label, why, v);
    return;
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
    refuse_value(out, PH_EJSON, label, "a second code for the same metric, or too many values", 0);
    return;
  }
  r->v[r->r.nvalues++] = (struct ph_value){.metric = metric, .flag = flag, .v = v};
}

static const char *const field_names[PH_HJ212_NFIELDS] = {"Rtd", "Avg", "Min", "Max", "Cou",
                                                          "ZsRtd", "ZsAvg", "ZsMin", "ZsMax"};

int ph_hj212_map_records(const struct ph_hj212_map *m, const struct ph_hj212_packet *p,
                         const struct ph_hj212_data *d, int64_t now_ms, struct ph_hj212_records *out,
                         struct ph_err *err) {
  out->nrec = out->unknown = out->refused = 0;
  out->unknown_code[0] = out->unknown_list[0] = out->unknown_why[0] = '\0';
  ph_err_clear(&out->first_refusal);
  const struct ph_hj212_logger *l = ph_hj212_map_logger(m, p->mn);
  int configured = l ? l->version : PH_HJ212_V_AUTO;
  int version = out->version = ph_hj212_packet_version(p, configured);
  bool mixed = configured == PH_HJ212_V_AUTO && p->flag < 0;
  int cmd = ph_hj212_data_command(p->cn);
  if (cmd < 0) return ph_fail(err, PH_EENUM, "CN %d is not a data upload", p->cn);
  if (version == PH_HJ212_V_UNKNOWN)
    return ph_fail(err, PH_EVERSION, "Flag=%d: version bits %d are none of HJ/T 212-2005 (0), 2017 (1), 2025 (2); "
                   "set the logger's \"version\" if it is known", p->flag, p->flag >> 2);
  if (!d->has_time) return ph_fail(err, PH_EMISSING, "CN %d without DataTime", p->cn);
  int64_t ts = local_to_utc(m->tz, d->time_local_ms);
  if (now_ms && ts > now_ms + m->max_future_ms)
    return ph_fail(err, PH_ESKEW, "DataTime is %lld s ahead of this clock (tz %s)", (long long)((ts - now_ms) / 1000),
                   ph_tz_name(m->tz));
  char point[PH_ID_MAX + 1];
  if (l)
    strcpy(point, l->point[cmd]);
  else if (point_from_mn(p->mn, point))
    return ph_fail(err, PH_EBADID, "MN '%s' makes no point id", p->mn);
  bool period = cmd != PH_HJ212_P_RTD, cou = period && (!l || l->cou);
  struct ph_hj212_out_rec *byk[PH_KIND_COUNT] = {0};
  for (size_t i = 0; i < d->n; i++) {
    const struct ph_hj212_value *hv = &d->val[i];
    bool zs = is_corrected(l, hv->code);
    int field = period ? (zs ? PH_HJ212_F_ZSAVG : PH_HJ212_F_AVG) : (zs ? PH_HJ212_F_ZSRTD : PH_HJ212_F_RTD);
    int plain = period ? PH_HJ212_F_AVG : PH_HJ212_F_RTD;
    unsigned bit = 1u << field, pbit = 1u << plain, cbit = 1u << PH_HJ212_F_COU;
    bool has_main = (hv->have | hv->bad) & bit, has_plain = (hv->have | hv->bad) & pbit;
    bool has_cou = cou && ((hv->have | hv->bad) & cbit);
    if (!has_main && !has_cou && !(zs && has_plain)) continue; /* e.g. only -Min/-Max: nothing to publish */
    struct resolved r;
    char why[192];
    resolve(m, l, version, mixed, hv->code, &r, why, sizeof why);
    int cou_metric = -1;
    double cou_factor = 0;
    if (has_cou && r.f && r.f->cou_metric && r.f->cou_unit) {
      cou_metric = ph_catalog_find(m->cat, r.f->cou_metric, strlen(r.f->cou_metric));
      if (cou_metric >= 0)
        cou_factor = ph_hj212_unit_factor(r.f->cou_unit, ph_catalog_at(m->cat, (size_t)cou_metric)->unit);
      if (cou_factor == 0) cou_metric = -1;
    }
    if (r.ignored) continue;
    if (r.metric < 0 && cou_metric < 0) {
      if (has_main || (zs && has_plain)) note_unknown(out, hv->code, why);
      continue;
    }
    char flag = hv->flag ? hv->flag : 'N';
    if (!ph_flag_valid(flag)) {
      refuse_value(out, PH_EFLAG, hv->code, "-Flag is not one of N F M S D C T B", 0);
      continue;
    }
    if (r.metric >= 0 && zs && !has_main && has_plain) {
      char w[96];
      snprintf(w, sizeof w, "-%s missing (the logger's \"corrected\" lists this code)", field_names[field]);
      refuse_value(out, PH_EMISSING, hv->code, w, 0);
    } else if (r.metric >= 0 && has_main) {
      if (hv->bad & bit) {
        char w[64];
        snprintf(w, sizeof w, "-%s is not a number (or given twice)", field_names[field]);
        refuse_value(out, PH_ETYPE, hv->code, w, 0);
      } else {
        put_value(m, out, byk, ts, point, hv->code, field_names[field], r.metric, hv->v[field] * r.factor, flag);
      }
    }
    if (cou_metric >= 0) {
      if (hv->bad & cbit)
        refuse_value(out, PH_ETYPE, hv->code, "-Cou is not a number (or given twice)", 0);
      else
        put_value(m, out, byk, ts, point, hv->code, "Cou", cou_metric, hv->v[PH_HJ212_F_COU] * cou_factor, flag);
    }
  }
  return 0;
}
