/* catalog.c — loads the metric catalogue (schemas/metrics.json) into a
 * sorted array and looks codes up by binary search.
 * Callers: batch decode (every value), agents' sources, hub rollups, the
 * dioxin inventory and the cleaner-production indicators (role, cu_fraction).
 * Immutable after load; safe to share between threads. */
#include "parkhub/digest.h"
#include "parkhub/catalog.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "parkhub/jsonfile.h"

extern const char ph_catalog_builtin_json[];
extern const unsigned long ph_catalog_builtin_json_len;

struct ph_catalog {
  size_t n;
  struct ph_metric *m;
  /* code → index by open addressing: every value of every batch is looked
   * up here, so one hash and one compare instead of a binary search. */
  int32_t *slot; /* -1: empty */
  size_t nslots; /* a power of two ≥ 4 n */
  uint8_t *len;  /* strlen of each code */
  uint64_t digest; /* of the loaded text (digest.h) */
};

static uint32_t code_hash(const char *s, size_t len) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}

static int build_index(struct ph_catalog *c) {
  c->nslots = 16;
  while (c->nslots < 4 * c->n) c->nslots *= 2;
  if (!(c->slot = ph_malloc(c->nslots * sizeof *c->slot)) || !(c->len = ph_malloc(c->n))) return PH_ENOMEM;
  for (size_t i = 0; i < c->nslots; i++) c->slot[i] = -1;
  for (size_t i = 0; i < c->n; i++) {
    size_t len = strlen(c->m[i].code);
    c->len[i] = (uint8_t)len;
    size_t k = code_hash(c->m[i].code, len) & (c->nslots - 1);
    while (c->slot[k] >= 0) k = (k + 1) & (c->nslots - 1);
    c->slot[k] = (int32_t)i;
  }
  return 0;
}

static int str_field(const cJSON *o, const char *key, char *dst, size_t cap, bool required, const char *origin,
                     int idx, struct ph_err *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!v && !required) {
    dst[0] = '\0';
    return 0;
  }
  if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap)
    return ph_fail(err, PH_ECONFIG, "%s: metrics[%d].%s: must be a string shorter than %zu", origin, idx, key, cap);
  strcpy(dst, v->valuestring);
  return 0;
}

static int num_field(const cJSON *o, const char *key, double *dst, const char *origin, int idx, struct ph_err *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
    return ph_fail(err, PH_ECONFIG, "%s: metrics[%d].%s: must be a finite number", origin, idx, key);
  *dst = v->valuedouble;
  return 0;
}

/* role and cu_fraction: required for material metrics, optional (but
 * checked when present) for the others. */
static int load_balance(const cJSON *o, struct ph_metric *m, const char *origin, int idx, struct ph_err *err) {
  bool material = m->kind == PH_KIND_MATERIAL;
  const cJSON *role = cJSON_GetObjectItemCaseSensitive(o, "role");
  const cJSON *cu = cJSON_GetObjectItemCaseSensitive(o, "cu_fraction");
  m->role = PH_ROLE_NONE;
  m->cu_fraction = 0;
  if (material && !role)
    return ph_fail(err, PH_ECONFIG, "%s: metrics[%d].role: required for a material (" PH_ROLES ")",
                   origin, idx);
  if (material && !cu)
    return ph_fail(err, PH_ECONFIG, "%s: metrics[%d].cu_fraction: required for a material (copper mass fraction 0..1)",
                   origin, idx);
  if (role && (!cJSON_IsString(role) || ph_role_parse(role->valuestring, &m->role)))
    return ph_fail(err, PH_ECONFIG, "%s: metrics[%d].role: '%.16s' is not " PH_ROLES, origin, idx,
                   cJSON_IsString(role) ? role->valuestring : "(not a string)");
  if (!cu) return 0;
  int rc = num_field(o, "cu_fraction", &m->cu_fraction, origin, idx, err);
  if (rc) return rc;
  if (m->cu_fraction < 0 || m->cu_fraction > 1)
    return ph_fail(err, PH_ECONFIG, "%s: metrics[%d].cu_fraction: %g is not a mass fraction 0..1", origin, idx,
                   m->cu_fraction);
  return 0;
}

/* decimals: optional, 0..9 (the API's CSV rounds values to it). */
static int load_decimals(const cJSON *o, struct ph_metric *m, const char *origin, int idx, struct ph_err *err) {
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "decimals");
  m->decimals = -1;
  if (!d) return 0;
  if (!cJSON_IsNumber(d) || d->valuedouble != (double)(int)d->valuedouble || d->valueint < 0 || d->valueint > 9)
    return ph_fail(err, PH_ECONFIG, "%s: metrics[%d].decimals: must be a whole number 0..9", origin, idx);
  m->decimals = d->valueint;
  return 0;
}

static int load_metric(const cJSON *o, struct ph_metric *m, const char *origin, int idx, struct ph_err *err) {
  char kind[16], agg[8];
  int rc;
  if (!cJSON_IsObject(o)) return ph_fail(err, PH_ECONFIG, "%s: metrics[%d]: must be an object", origin, idx);
  if ((rc = str_field(o, "code", m->code, sizeof m->code, true, origin, idx, err)) ||
      (rc = str_field(o, "kind", kind, sizeof kind, true, origin, idx, err)) ||
      (rc = str_field(o, "unit", m->unit, sizeof m->unit, true, origin, idx, err)) ||
      (rc = str_field(o, "agg", agg, sizeof agg, true, origin, idx, err)) ||
      (rc = str_field(o, "hj212", m->hj212, sizeof m->hj212, false, origin, idx, err)) ||
      (rc = str_field(o, "name", m->name, sizeof m->name, false, origin, idx, err)) ||
      (rc = str_field(o, "name_zh", m->name_zh, sizeof m->name_zh, false, origin, idx, err)) ||
      (rc = num_field(o, "min", &m->min, origin, idx, err)) || (rc = num_field(o, "max", &m->max, origin, idx, err)))
    return rc;
  if (!ph_id_valid_z(m->code))
    return ph_fail(err, PH_ECONFIG, "%s: metrics[%d].code: '%s' is not a valid id", origin, idx, m->code);
  if (ph_kind_parse(kind, strlen(kind), &m->kind))
    return ph_fail(err, PH_ECONFIG, "%s: metrics[%d].kind: '%s' is not process|material|emission", origin, idx, kind);
  if (strcmp(agg, "mean") == 0)
    m->agg = PH_AGG_MEAN;
  else if (strcmp(agg, "sum") == 0)
    m->agg = PH_AGG_SUM;
  else
    return ph_fail(err, PH_ECONFIG, "%s: metrics[%d].agg: '%s' is not mean|sum", origin, idx, agg);
  if (m->min > m->max) return ph_fail(err, PH_ECONFIG, "%s: metrics[%d]: min > max", origin, idx);
  if ((rc = load_decimals(o, m, origin, idx, err))) return rc;
  return load_balance(o, m, origin, idx, err);
}

static int cmp_metric(const void *a, const void *b) {
  return strcmp(((const struct ph_metric *)a)->code, ((const struct ph_metric *)b)->code);
}

int ph_catalog_load_json(const char *text, size_t len, const char *origin, struct ph_catalog **out,
                         struct ph_err *err) {
  cJSON *root = NULL;
  int rc = ph_json_parse(text, len, origin, (void **)&root, err);
  if (rc) return rc;
  struct ph_catalog *c = ph_calloc(1, sizeof *c);
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "metrics");
  if (!c) {
    rc = ph_fail(err, PH_ENOMEM, "%s: out of memory", origin);
    goto fail;
  }
  if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0) {
    rc = ph_fail(err, PH_ECONFIG, "%s: metrics: must be a non-empty array", origin);
    goto fail;
  }
  c->n = (size_t)cJSON_GetArraySize(arr);
  if (!(c->m = ph_calloc(c->n, sizeof *c->m))) {
    rc = ph_fail(err, PH_ENOMEM, "%s: out of memory", origin);
    goto fail;
  }
  int i = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, arr) {
    if ((rc = load_metric(it, &c->m[i], origin, i, err))) goto fail;
    i++;
  }
  qsort(c->m, c->n, sizeof *c->m, cmp_metric);
  for (size_t k = 1; k < c->n; k++)
    if (strcmp(c->m[k - 1].code, c->m[k].code) == 0) {
      rc = ph_fail(err, PH_ECONFIG, "%s: metric code '%s' appears twice", origin, c->m[k].code);
      goto fail;
    }
  if (build_index(c)) {
    rc = ph_fail(err, PH_ENOMEM, "%s: out of memory", origin);
    goto fail;
  }
  cJSON_Delete(root);
  c->digest = ph_digest64(PH_DIGEST_SEED, text, len);
  *out = c;
  return 0;
fail:
  cJSON_Delete(root);
  ph_catalog_free(c);
  return rc;
}

int ph_catalog_load_builtin(struct ph_catalog **out, struct ph_err *err) {
  return ph_catalog_load_json(ph_catalog_builtin_json, ph_catalog_builtin_json_len, "built-in metrics.json", out,
                              err);
}

int ph_catalog_load_file(const char *path, struct ph_catalog **out, struct ph_err *err) {
  char *text;
  size_t len;
  int rc = ph_file_read(path, 0, &text, &len, err);
  if (rc) return rc;
  rc = ph_catalog_load_json(text, len, path, out, err);
  ph_free(text);
  return rc;
}

void ph_catalog_free(struct ph_catalog *c) {
  if (!c) return;
  ph_free(c->slot);
  ph_free(c->len);
  ph_free(c->m);
  ph_free(c);
}

uint64_t ph_catalog_digest(const struct ph_catalog *c) { return c->digest; }

size_t ph_catalog_count(const struct ph_catalog *c) { return c->n; }

const struct ph_metric *ph_catalog_at(const struct ph_catalog *c, size_t idx) {
  return idx < c->n ? &c->m[idx] : NULL;
}

int ph_catalog_find(const struct ph_catalog *c, const char *code, size_t len) {
  if (len == 0 || len > PH_ID_MAX) return -1;
  for (size_t k = code_hash(code, len) & (c->nslots - 1);; k = (k + 1) & (c->nslots - 1)) {
    int32_t i = c->slot[k];
    if (i < 0) return -1;
    if (c->len[i] == len && memcmp(c->m[i].code, code, len) == 0) return i;
  }
}

int ph_catalog_find_hj212(const struct ph_catalog *c, const char *hj212) {
  if (!hj212 || !*hj212) return -1;
  for (size_t i = 0; i < c->n; i++)
    if (strcmp(c->m[i].hj212, hj212) == 0) return (int)i;
  return -1;
}

const char *ph_agg_name(enum ph_agg a) { return a == PH_AGG_SUM ? "sum" : "mean"; }

static const char *const role_names[PH_ROLE_COUNT] = {"",       "feed",  "product",     "residue",
                                                       "consumable", "energy", "water", "unclassified"};

const char *ph_role_name(enum ph_role r) { return (unsigned)r < PH_ROLE_COUNT ? role_names[r] : "?"; }

int ph_role_parse(const char *s, enum ph_role *out) {
  for (int i = PH_ROLE_FEED; i < PH_ROLE_UNCLASSIFIED; i++)
    if (strcmp(s, role_names[i]) == 0) {
      *out = (enum ph_role)i;
      return 0;
    }
  return PH_EENUM;
}

const char *ph_unit_symbol(const char *unit) {
  static const char *const map[][2] = {
      {"mg/Nm3", "mg/m³"}, {"ug/Nm3", "µg/m³"}, {"µg/Nm3", "µg/m³"}, {"ng/Nm3", "ng/m³"},
      {"ng TEQ/Nm3", "ng TEQ/m³"}, {"Nm3/h", "Nm³/h"}, {"Nm3", "Nm³"}, {"m3/h", "m³/h"},
      {"m3", "m³"}, {"degC", "°C"}, {"pH", ""},
  };
  if (!unit) return "";
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(unit, map[i][0]) == 0) return map[i][1];
  return unit;
}
