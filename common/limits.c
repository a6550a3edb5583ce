/* limits.c — loads emission standards (limits.h) and answers "which limit
 * applies to this enterprise on this day". Callers: the hub's compliance
 * and rules code, reports. */
#include "parkhub/limits.h"
#include "parkhub/na_reasons.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "parkhub/digest.h"
#include "parkhub/ids.h"
#include "parkhub/jsonfile.h"
#include "parkhub/timefmt.h"

extern const char ph_limits_builtin_json[];
extern const unsigned long ph_limits_builtin_json_len;

#define NO_LIMIT (-1.0)

struct pollutant {
  char metric[PH_ID_MAX + 1];
  double limit[PH_SECTOR_COUNT], special[PH_SECTOR_COUNT]; /* NO_LIMIT where none */
};

/* A water pollutant: [column][discharge] with column 0 existing, 1 new,
 * 2 special; discharge 0 direct, 1 indirect. hi <= 0: no value. */
enum { WCOL_EXISTING, WCOL_NEW, WCOL_SPECIAL, WCOL_N };
struct wvalue {
  double lo, hi;
};
struct wpollutant {
  char metric[PH_ID_MAX + 1];
  bool verified, range;
  unsigned sectors; /* bit per enum ph_sector */
  struct wvalue v[WCOL_N][2];
};

struct ph_limits {
  char standard[PH_ID_MAX + 1];
  long from[2]; /* by enum ph_plant_class */
  double benchmark;
  struct pollutant *p;
  size_t n;
  struct wpollutant *w; /* water; NULL when the file has none */
  size_t nw;
  long wfrom[2];
  double wbenchmark;
  uint64_t digest; /* of the loaded text */
};

static const char *const sector_names[PH_SECTOR_COUNT] = {"cu", "al", "pb", "zn"};

const char *ph_sector_name(enum ph_sector s) { return (unsigned)s < PH_SECTOR_COUNT ? sector_names[s] : "?"; }

int ph_sector_parse(const char *s, enum ph_sector *out) {
  for (int i = 0; i < PH_SECTOR_COUNT; i++)
    if (strcmp(s, sector_names[i]) == 0) {
      *out = (enum ph_sector)i;
      return 0;
    }
  return PH_EENUM;
}

static int parse_date(const cJSON *v, long *day) {
  char ts[40];
  int64_t ms;
  if (!cJSON_IsString(v) || strlen(v->valuestring) != 10) return PH_EINVAL;
  snprintf(ts, sizeof ts, "%sT00:00:00Z", v->valuestring);
  if (ph_time_parse(ts, strlen(ts), &ms)) return PH_EINVAL;
  *day = (long)(ms / 86400000);
  return 0;
}

static int by_sector(const cJSON *o, double *out, const char *origin, const char *where, struct ph_err *err) {
  for (int s = 0; s < PH_SECTOR_COUNT; s++) out[s] = NO_LIMIT;
  if (!o) return 0;
  if (!cJSON_IsObject(o)) return ph_fail(err, PH_ECONFIG, "%s: %s: must be an object of sector → limit", origin, where);
  for (const cJSON *it = o->child; it; it = it->next) {
    enum ph_sector s;
    if (ph_sector_parse(it->string, &s))
      return ph_fail(err, PH_ECONFIG, "%s: %s.%.16s: not a sector (cu, al, pb, zn)", origin, where, it->string);
    if (!cJSON_IsNumber(it) || !(it->valuedouble > 0) || !isfinite(it->valuedouble))
      return ph_fail(err, PH_ECONFIG, "%s: %s.%s: must be a positive number", origin, where, it->string);
    out[s] = it->valuedouble;
  }
  return 0;
}

static int load_pollutant(const cJSON *o, struct pollutant *p, const char *origin, int i, struct ph_err *err) {
  char where[48];
  snprintf(where, sizeof where, "pollutants[%d]", i);
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "metric");
  if (!cJSON_IsObject(o) || !cJSON_IsString(m) || !ph_id_valid_z(m->valuestring))
    return ph_fail(err, PH_ECONFIG, "%s: %s.metric: must be a metric code", origin, where);
  strcpy(p->metric, m->valuestring);
  char sub[64];
  snprintf(sub, sizeof sub, "%s.limit", where);
  int rc = by_sector(cJSON_GetObjectItemCaseSensitive(o, "limit"), p->limit, origin, sub, err);
  snprintf(sub, sizeof sub, "%s.special", where);
  if (!rc) rc = by_sector(cJSON_GetObjectItemCaseSensitive(o, "special"), p->special, origin, sub, err);
  if (!rc && !cJSON_GetObjectItemCaseSensitive(o, "limit"))
    rc = ph_fail(err, PH_ECONFIG, "%s: %s.limit: required", origin, where);
  return rc;
}

static int water_value(const cJSON *v, bool range, struct wvalue *out, const char *origin, const char *where,
                       struct ph_err *err) {
  out->lo = -INFINITY;
  out->hi = 0;
  if (!v || cJSON_IsNull(v)) return 0;
  if (!range) {
    if (!cJSON_IsNumber(v) || !(v->valuedouble > 0) || !isfinite(v->valuedouble))
      return ph_fail(err, PH_ECONFIG, "%s: %s: must be a positive number or null", origin, where);
    out->hi = v->valuedouble;
    return 0;
  }
  const cJSON *mn = cJSON_GetObjectItemCaseSensitive(v, "min"), *mx = cJSON_GetObjectItemCaseSensitive(v, "max");
  if (!cJSON_IsObject(v) || cJSON_GetArraySize(v) != 2 || !cJSON_IsNumber(mn) || !cJSON_IsNumber(mx) ||
      !(mn->valuedouble >= 0) || !(mx->valuedouble > mn->valuedouble) || !isfinite(mx->valuedouble))
    return ph_fail(err, PH_ECONFIG, "%s: %s: a range must be {\"min\": a, \"max\": b} with 0 <= a < b, or null",
                   origin, where);
  out->lo = mn->valuedouble;
  out->hi = mx->valuedouble;
  return 0;
}

static int load_water_pollutant(const cJSON *o, struct wpollutant *w, const char *origin, int i, struct ph_err *err) {
  static const char *const cols[WCOL_N] = {"existing", "new", "special"};
  static const char *const dis[2] = {"direct", "indirect"};
  char where[96];
  snprintf(where, sizeof where, "water.pollutants[%d]", i);
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "metric"), *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
  const cJSON *ver = cJSON_GetObjectItemCaseSensitive(o, "verified"), *lim = cJSON_GetObjectItemCaseSensitive(o, "limits");
  const cJSON *src = cJSON_GetObjectItemCaseSensitive(o, "source"), *cl = cJSON_GetObjectItemCaseSensitive(o, "clause");
  const cJSON *sec = cJSON_GetObjectItemCaseSensitive(o, "sectors");
  if (!cJSON_IsObject(o) || !cJSON_IsString(m) || !ph_id_valid_z(m->valuestring))
    return ph_fail(err, PH_ECONFIG, "%s: %s.metric: must be a metric code", origin, where);
  snprintf(w->metric, sizeof w->metric, "%s", m->valuestring);
  if (!cJSON_IsString(kind) || (strcmp(kind->valuestring, "max") && strcmp(kind->valuestring, "range")))
    return ph_fail(err, PH_ECONFIG, "%s: %s.kind: must be \"max\" or \"range\"", origin, where);
  w->range = strcmp(kind->valuestring, "range") == 0;
  if (!cJSON_IsBool(ver)) return ph_fail(err, PH_ECONFIG, "%s: %s.verified: must be true or false", origin, where);
  w->verified = cJSON_IsTrue(ver);
  if (w->verified && (!cJSON_IsString(src) || strncmp(src->valuestring, "http", 4) != 0 || !cJSON_IsString(cl) ||
                      !cl->valuestring[0]))
    return ph_fail(err, PH_ECONFIG, "%s: %s: a verified value needs its \"source\" (URL) and \"clause\"", origin,
                   where);
  w->sectors = (1u << PH_SECTOR_COUNT) - 1;
  if (sec) {
    w->sectors = 0;
    const cJSON *it;
    if (!cJSON_IsArray(sec)) return ph_fail(err, PH_ECONFIG, "%s: %s.sectors: must be an array", origin, where);
    cJSON_ArrayForEach(it, sec) {
      enum ph_sector s;
      if (!cJSON_IsString(it) || ph_sector_parse(it->valuestring, &s))
        return ph_fail(err, PH_ECONFIG, "%s: %s.sectors: not a sector (cu, al, pb, zn)", origin, where);
      w->sectors |= 1u << s;
    }
  }
  if (lim && !cJSON_IsObject(lim)) return ph_fail(err, PH_ECONFIG, "%s: %s.limits: must be an object", origin, where);
  for (const cJSON *c = lim ? lim->child : NULL; c; c = c->next) {
    int ci = -1;
    for (int k = 0; k < WCOL_N; k++)
      if (strcmp(c->string, cols[k]) == 0) ci = k;
    if (ci < 0 || !cJSON_IsObject(c))
      return ph_fail(err, PH_ECONFIG, "%s: %s.limits.%.16s: must be existing, new or special, each {direct, indirect}",
                     origin, where, c->string);
    for (const cJSON *d = c->child; d; d = d->next)
      if (strcmp(d->string, dis[0]) && strcmp(d->string, dis[1]))
        return ph_fail(err, PH_ECONFIG, "%s: %s.limits.%s.%.16s: must be direct or indirect", origin, where, c->string,
                       d->string);
  }
  for (int k = 0; k < WCOL_N; k++)
    for (int d = 0; d < 2; d++) {
      char sub[160];
      snprintf(sub, sizeof sub, "%s.limits.%s.%s", where, cols[k], dis[d]);
      const cJSON *col = lim ? cJSON_GetObjectItemCaseSensitive(lim, cols[k]) : NULL;
      int rc = water_value(col ? cJSON_GetObjectItemCaseSensitive(col, dis[d]) : NULL, w->range, &w->v[k][d], origin,
                           sub, err);
      if (rc) return rc;
    }
  return 0;
}

static int load_water(const cJSON *o, struct ph_limits *l, const char *origin, struct ph_err *err) {
  l->wfrom[0] = l->from[0];
  l->wfrom[1] = l->from[1];
  if (!o) return 0;
  const cJSON *pols = cJSON_GetObjectItemCaseSensitive(o, "pollutants"), *av = cJSON_GetObjectItemCaseSensitive(o, "averaging");
  const cJSON *from = cJSON_GetObjectItemCaseSensitive(o, "applies_from");
  const cJSON *bench = cJSON_GetObjectItemCaseSensitive(o, "benchmark_drainage_m3_per_t");
  if (!cJSON_IsObject(o)) return ph_fail(err, PH_ECONFIG, "%s: water: must be an object", origin);
  if (!cJSON_IsString(av) || strcmp(av->valuestring, "day"))
    return ph_fail(err, PH_ECONFIG, "%s: water.averaging: must be \"day\"", origin);
  if (from && (parse_date(cJSON_GetObjectItemCaseSensitive(from, "new"), &l->wfrom[PH_CLASS_NEW]) ||
               parse_date(cJSON_GetObjectItemCaseSensitive(from, "existing"), &l->wfrom[PH_CLASS_EXISTING])))
    return ph_fail(err, PH_ECONFIG, "%s: water.applies_from: needs dates YYYY-MM-DD for new and existing", origin);
  if (bench) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(bench, "value"), *ver = cJSON_GetObjectItemCaseSensitive(bench, "verified");
    if (!cJSON_IsBool(ver) || !(cJSON_IsNull(v) || (cJSON_IsNumber(v) && v->valuedouble > 0)))
      return ph_fail(err, PH_ECONFIG,
                     "%s: water.benchmark_drainage_m3_per_t: needs \"value\" (positive or null) and \"verified\"",
                     origin);
    if (cJSON_IsTrue(ver) && cJSON_IsNumber(v)) l->wbenchmark = v->valuedouble;
  }
  int n = cJSON_GetArraySize(pols);
  if (!cJSON_IsArray(pols) || n > 64)
    return ph_fail(err, PH_ECONFIG, "%s: water.pollutants: must list at most 64 pollutants", origin);
  if (n && !(l->w = ph_calloc((size_t)n, sizeof *l->w))) return ph_fail(err, PH_ENOMEM, "out of memory");
  const cJSON *it;
  cJSON_ArrayForEach(it, pols) {
    int rc = load_water_pollutant(it, &l->w[l->nw], origin, (int)l->nw, err);
    if (rc) return rc;
    l->nw++;
  }
  return 0;
}

static int load_root(const cJSON *root, struct ph_limits *l, const char *origin, struct ph_err *err) {
  const cJSON *std = cJSON_GetObjectItemCaseSensitive(root, "standard");
  const cJSON *from = cJSON_GetObjectItemCaseSensitive(root, "applies_from");
  const cJSON *bench = cJSON_GetObjectItemCaseSensitive(root, "benchmark_exhaust_m3_per_t");
  const cJSON *pols = cJSON_GetObjectItemCaseSensitive(root, "pollutants");
  if (!cJSON_IsString(std) || strlen(std->valuestring) > PH_ID_MAX || !std->valuestring[0])
    return ph_fail(err, PH_ECONFIG, "%s: standard: must name the standard", origin);
  strcpy(l->standard, std->valuestring);
  if (parse_date(cJSON_GetObjectItemCaseSensitive(from, "new"), &l->from[PH_CLASS_NEW]) ||
      parse_date(cJSON_GetObjectItemCaseSensitive(from, "existing"), &l->from[PH_CLASS_EXISTING]))
    return ph_fail(err, PH_ECONFIG, "%s: applies_from: needs dates YYYY-MM-DD for new and existing", origin);
  if (bench && (!cJSON_IsNumber(bench) || !(bench->valuedouble > 0)))
    return ph_fail(err, PH_ECONFIG, "%s: benchmark_exhaust_m3_per_t: must be a positive number", origin);
  l->benchmark = bench ? bench->valuedouble : 0;
  int n = cJSON_GetArraySize(pols);
  if (!cJSON_IsArray(pols) || n < 1 || n > 64)
    return ph_fail(err, PH_ECONFIG, "%s: pollutants: must list 1 to 64 pollutants", origin);
  if (!(l->p = ph_calloc((size_t)n, sizeof *l->p))) return ph_fail(err, PH_ENOMEM, "out of memory");
  const cJSON *it;
  cJSON_ArrayForEach(it, pols) {
    int rc = load_pollutant(it, &l->p[l->n], origin, (int)l->n, err);
    if (rc) return rc;
    l->n++;
  }
  return load_water(cJSON_GetObjectItemCaseSensitive(root, "water"), l, origin, err);
}

int ph_limits_load_json(const char *text, size_t len, const char *origin, struct ph_limits **out,
                        struct ph_err *err) {
  cJSON *root = NULL;
  int rc = ph_json_parse(text, len, origin, (void **)&root, err);
  if (rc) return rc;
  struct ph_limits *l = ph_calloc(1, sizeof *l);
  rc = l ? load_root(root, l, origin, err) : ph_fail(err, PH_ENOMEM, "out of memory");
  cJSON_Delete(root);
  if (l) l->digest = ph_digest64(PH_DIGEST_SEED, text, len);
  if (rc) {
    ph_limits_free(l);
    return rc;
  }
  *out = l;
  return 0;
}

int ph_limits_load_builtin(struct ph_limits **out, struct ph_err *err) {
  return ph_limits_load_json(ph_limits_builtin_json, ph_limits_builtin_json_len, "built-in gb31574-2015.json", out,
                             err);
}

int ph_limits_load_file(const char *path, struct ph_limits **out, struct ph_err *err) {
  char *text;
  size_t len;
  int rc = ph_file_read(path, 0, &text, &len, err);
  if (rc) return rc;
  rc = ph_limits_load_json(text, len, path, out, err);
  ph_free(text);
  return rc;
}

uint64_t ph_limits_digest(const struct ph_limits *l) { return l->digest; }

void ph_limits_free(struct ph_limits *l) {
  if (!l) return;
  ph_free(l->p);
  ph_free(l->w);
  ph_free(l);
}

const char *ph_limits_standard(const struct ph_limits *l) { return l->standard; }
double ph_limits_benchmark(const struct ph_limits *l) { return l->benchmark; }
long ph_limits_applies_from(const struct ph_limits *l, enum ph_plant_class cls) { return l->from[cls == PH_CLASS_NEW]; }
size_t ph_limits_count(const struct ph_limits *l) { return l->n; }
const char *ph_limits_metric(const struct ph_limits *l, size_t i) { return i < l->n ? l->p[i].metric : NULL; }

int ph_limits_stack(const struct ph_limits *l, const char *metric, enum ph_sector sector, enum ph_plant_class cls,
                    bool special, long day, double *limit) {
  if ((unsigned)sector >= PH_SECTOR_COUNT || day < ph_limits_applies_from(l, cls)) return PH_ENOTFOUND;
  for (size_t i = 0; i < l->n; i++) {
    if (strcmp(l->p[i].metric, metric) != 0) continue;
    double v = special && l->p[i].special[sector] > 0 ? l->p[i].special[sector] : l->p[i].limit[sector];
    if (v <= 0) return PH_ENOTFOUND;
    *limit = v;
    return 0;
  }
  return PH_ENOTFOUND;
}

int ph_limits_water(const struct ph_limits *l, const char *metric, enum ph_sector sector, enum ph_plant_class cls,
                    bool special, bool indirect, long day, double *lo, double *hi, const char **why) {
  const char *dummy;
  if (!why) why = &dummy;
  *why = PH_NA(NO_LIMIT);
  for (size_t i = 0; i < l->nw; i++) {
    const struct wpollutant *w = &l->w[i];
    if (strcmp(w->metric, metric) != 0) continue;
    if (!w->verified) { /* an unverified entry (its values, even its listing) is never used */
      *why = PH_NA(NO_VERIFIED_LIMIT);
      return PH_ENOTFOUND;
    }
    if ((unsigned)sector >= PH_SECTOR_COUNT || !(w->sectors & (1u << sector))) return PH_ENOTFOUND;
    if (day < l->wfrom[cls == PH_CLASS_NEW]) {
      *why = PH_NA(LIMIT_NOT_IN_FORCE);
      return PH_ENOTFOUND;
    }
    const struct wvalue *v = &w->v[cls == PH_CLASS_NEW ? WCOL_NEW : WCOL_EXISTING][indirect];
    if (special && w->v[WCOL_SPECIAL][indirect].hi > 0) v = &w->v[WCOL_SPECIAL][indirect];
    if (!(v->hi > 0)) return PH_ENOTFOUND;
    *lo = v->lo;
    *hi = v->hi;
    *why = NULL;
    return 0;
  }
  return PH_ENOTFOUND;
}

size_t ph_limits_water_count(const struct ph_limits *l) { return l->nw; }
const char *ph_limits_water_metric(const struct ph_limits *l, size_t i) { return i < l->nw ? l->w[i].metric : NULL; }
bool ph_limits_water_verified(const struct ph_limits *l, size_t i) { return i < l->nw && l->w[i].verified; }
double ph_limits_water_benchmark(const struct ph_limits *l) { return l->wbenchmark; }
