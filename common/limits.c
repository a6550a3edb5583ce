/* limits.c — loads emission standards (limits.h) and answers "which limit
 * applies to this enterprise on this day". Callers: the hub's compliance
 * and rules code, reports. */
#include "parkhub/limits.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"
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

struct ph_limits {
  char standard[PH_ID_MAX + 1];
  long from[2]; /* by enum ph_plant_class */
  double benchmark;
  struct pollutant *p;
  size_t n;
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
  return 0;
}

int ph_limits_load_json(const char *text, size_t len, const char *origin, struct ph_limits **out,
                        struct ph_err *err) {
  cJSON *root = NULL;
  int rc = ph_json_parse(text, len, origin, (void **)&root, err);
  if (rc) return rc;
  struct ph_limits *l = ph_calloc(1, sizeof *l);
  rc = l ? load_root(root, l, origin, err) : ph_fail(err, PH_ENOMEM, "out of memory");
  cJSON_Delete(root);
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

void ph_limits_free(struct ph_limits *l) {
  if (!l) return;
  ph_free(l->p);
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
