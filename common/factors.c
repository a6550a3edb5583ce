/* factors.c — loads emission-factor tables (factors.h) and looks classes up.
 * Callers: the hub's dioxin inventory (hub/domain/inventory.c), reports.
 * Immutable after load; safe to share between threads.
 *
 * Invariants:
 *  1. A factor is either a number ≥ 0 (has[v] true) or ND (has[v] false);
 *     a vector missing from the file is ND. Nothing turns ND into 0.
 *  2. The loader refuses what schemas/factors.schema.json refuses (unknown
 *     keys, bad basis or unit, negative factors, missing source or
 *     verified) and, beyond the schema, a class number given twice.
 */
#include "parkhub/factors.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "parkhub/jsonfile.h"

extern const char ph_factors_builtin_json[];
extern const unsigned long ph_factors_builtin_json_len;

#define UNIT "µg TEQ/t"
#define MAX_CLASSES 64

struct ph_factors {
  char table[PH_ID_MAX + 1];
  char title[128];
  char source[256];
  struct ph_factor_class *c;
  size_t n;
};

static const char *const vector_names[PH_VEC_COUNT] = {"air", "water", "land", "product", "residue"};
static const char *const basis_names[] = {"t of product", "t of feed"};

const char *ph_vector_name(enum ph_vector v) { return (unsigned)v < PH_VEC_COUNT ? vector_names[v] : "?"; }
const char *ph_basis_name(enum ph_basis b) { return b == PH_BASIS_FEED ? basis_names[1] : basis_names[0]; }

static bool key_in(const char *k, const char *const *keys) {
  for (; *keys; keys++)
    if (strcmp(k, *keys) == 0) return true;
  return false;
}

static int unknown_keys(const cJSON *o, const char *const *keys, const char *origin, const char *where,
                        struct ph_err *err) {
  for (const cJSON *it = o->child; it; it = it->next)
    if (!key_in(it->string, keys))
      return ph_fail(err, PH_ECONFIG, "%s: %s%.64s: unknown key", origin, where, it->string);
  return 0;
}

static int str_copy(const cJSON *o, const char *key, char *dst, size_t cap, const char *origin, const char *where,
                    struct ph_err *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) >= cap)
    return ph_fail(err, PH_ECONFIG, "%s: %s%s: must be a non-empty string shorter than %zu", origin, where, key, cap);
  strcpy(dst, v->valuestring);
  return 0;
}

static int load_class(const cJSON *o, struct ph_factor_class *c, const char *origin, int i, struct ph_err *err) {
  static const char *const keys[] = {"class", "name", "basis", "air", "water", "land", "product", "residue",
                                     "source", "verified", "note", NULL};
  char where[32];
  snprintf(where, sizeof where, "classes[%d].", i);
  if (!cJSON_IsObject(o)) return ph_fail(err, PH_ECONFIG, "%s: classes[%d]: must be an object", origin, i);
  int rc = unknown_keys(o, keys, origin, where, err);
  if (rc) return rc;
  const cJSON *cl = cJSON_GetObjectItemCaseSensitive(o, "class");
  int64_t cls = 0;
  if (!ph_json_int(cl, 1, 99, &cls)) return ph_fail(err, PH_ECONFIG, "%s: %sclass: must be an integer 1..99", origin, where);
  c->cls = (int)cls;
  if ((rc = str_copy(o, "name", c->name, sizeof c->name, origin, where, err)) ||
      (rc = str_copy(o, "source", c->source, sizeof c->source, origin, where, err)))
    return rc;
  const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "basis");
  if (cJSON_IsString(b) && strcmp(b->valuestring, basis_names[0]) == 0)
    c->basis = PH_BASIS_PRODUCT;
  else if (cJSON_IsString(b) && strcmp(b->valuestring, basis_names[1]) == 0)
    c->basis = PH_BASIS_FEED;
  else
    return ph_fail(err, PH_ECONFIG, "%s: %sbasis: must be \"t of product\" or \"t of feed\"", origin, where);
  const cJSON *ver = cJSON_GetObjectItemCaseSensitive(o, "verified");
  if (!cJSON_IsBool(ver)) return ph_fail(err, PH_ECONFIG, "%s: %sverified: must be true or false", origin, where);
  c->verified = cJSON_IsTrue(ver);
  for (int v = 0; v < PH_VEC_COUNT; v++) {
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, vector_names[v]);
    bool required = v == PH_VEC_AIR || v == PH_VEC_RESIDUE;
    c->has[v] = false;
    c->ef[v] = 0;
    if (!f && !required) continue; /* inv. 1: absent = ND */
    if (cJSON_IsString(f) && strcmp(f->valuestring, "ND") == 0) continue;
    if (!cJSON_IsNumber(f) || !isfinite(f->valuedouble) || f->valuedouble < 0)
      return ph_fail(err, PH_ECONFIG, "%s: %s%s: must be a factor ≥ 0 (µg TEQ/t) or \"ND\"%s", origin, where,
                     vector_names[v], required && !f ? " (required)" : "");
    c->has[v] = true;
    c->ef[v] = f->valuedouble;
  }
  return 0;
}

static int load_root(const cJSON *root, struct ph_factors *f, const char *origin, struct ph_err *err) {
  static const char *const keys[] = {"$schema", "table", "title", "source", "category", "unit", "description",
                                     "classes", NULL};
  if (!cJSON_IsObject(root)) return ph_fail(err, PH_ECONFIG, "%s: must be a JSON object", origin);
  int rc = unknown_keys(root, keys, origin, "", err);
  if (rc) return rc;
  if ((rc = str_copy(root, "table", f->table, sizeof f->table, origin, "", err)) ||
      (rc = str_copy(root, "title", f->title, sizeof f->title, origin, "", err)) ||
      (rc = str_copy(root, "source", f->source, sizeof f->source, origin, "", err)))
    return rc;
  const cJSON *unit = cJSON_GetObjectItemCaseSensitive(root, "unit");
  if (!cJSON_IsString(unit) || strcmp(unit->valuestring, UNIT) != 0)
    return ph_fail(err, PH_ECONFIG, "%s: unit: must be \"" UNIT "\"", origin);
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "classes");
  int n = cJSON_GetArraySize(arr);
  if (!cJSON_IsArray(arr) || n < 1 || n > MAX_CLASSES)
    return ph_fail(err, PH_ECONFIG, "%s: classes: must list 1 to %d classes", origin, MAX_CLASSES);
  if (!(f->c = ph_calloc((size_t)n, sizeof *f->c))) return ph_fail(err, PH_ENOMEM, "%s: out of memory", origin);
  const cJSON *it;
  cJSON_ArrayForEach(it, arr) {
    if ((rc = load_class(it, &f->c[f->n], origin, (int)f->n, err))) return rc;
    for (size_t k = 0; k < f->n; k++)
      if (f->c[k].cls == f->c[f->n].cls)
        return ph_fail(err, PH_ECONFIG, "%s: classes[%zu].class: %d appears twice", origin, f->n, f->c[k].cls);
    f->n++;
  }
  return 0;
}

int ph_factors_load_json(const char *text, size_t len, const char *origin, struct ph_factors **out,
                         struct ph_err *err) {
  cJSON *root = NULL;
  *out = NULL;
  int rc = ph_json_parse(text, len, origin, (void **)&root, err);
  if (rc) return rc;
  struct ph_factors *f = ph_calloc(1, sizeof *f);
  rc = f ? load_root(root, f, origin, err) : ph_fail(err, PH_ENOMEM, "%s: out of memory", origin);
  cJSON_Delete(root);
  if (rc) {
    ph_factors_free(f);
    return rc;
  }
  *out = f;
  return 0;
}

int ph_factors_load_builtin(struct ph_factors **out, struct ph_err *err) {
  return ph_factors_load_json(ph_factors_builtin_json, ph_factors_builtin_json_len,
                              "built-in unep-toolkit-2013-cu.json", out, err);
}

int ph_factors_load_file(const char *path, struct ph_factors **out, struct ph_err *err) {
  char *text;
  size_t len;
  *out = NULL;
  int rc = ph_file_read(path, 0, &text, &len, err);
  if (rc) return rc;
  rc = ph_factors_load_json(text, len, path, out, err);
  ph_free(text);
  return rc;
}

int ph_factors_load(const char *path, struct ph_factors **out, struct ph_err *err) {
  return path && path[0] ? ph_factors_load_file(path, out, err) : ph_factors_load_builtin(out, err);
}

void ph_factors_free(struct ph_factors *f) {
  if (!f) return;
  ph_free(f->c);
  ph_free(f);
}

const char *ph_factors_table(const struct ph_factors *f) { return f->table; }
const char *ph_factors_title(const struct ph_factors *f) { return f->title; }
const char *ph_factors_source(const struct ph_factors *f) { return f->source; }
size_t ph_factors_count(const struct ph_factors *f) { return f->n; }

const struct ph_factor_class *ph_factors_at(const struct ph_factors *f, size_t i) { return i < f->n ? &f->c[i] : NULL; }

const struct ph_factor_class *ph_factors_class(const struct ph_factors *f, int cls) {
  for (size_t i = 0; i < f->n; i++)
    if (f->c[i].cls == cls) return &f->c[i];
  return NULL;
}

bool ph_factor_get(const struct ph_factor_class *c, enum ph_vector v, double *ef) {
  if (!c || (unsigned)v >= PH_VEC_COUNT || !c->has[v]) return false;
  *ef = c->ef[v];
  return true;
}
