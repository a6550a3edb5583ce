/* materials.c — a park's material registry (materials.h has the rules).
 *
 * Callers: hub_config.c (ph_materials_load for each park's `materials`),
 * and whoever needs a material's role or metal content: the writer
 * (counts unclassified lots), cems.c (product for the benchmark volume),
 * inventory.c (activity rate), indicators.c (balance and yield), the
 * report. Threads: any; nothing here changes after load.
 * Owns: the declared entries of one park (struct ph_materials).
 *
 * Lookup: the declared entries are sorted by code at load, so a lookup is a
 * binary search there, then one in the catalogue (also sorted by code).
 *
 * Invariants: materials.h (1: ids, once, not a metric of another kind;
 * 2: fractions 0..1 summing to ≤ 1; 3: every code has an answer).
 */
#include "config/materials.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "parkhub/cfgmap.h"

/* Tolerance of inv. 2's sum (fractions written with a few decimals). */
#define SUM_EPS 1e-9

static const char *const roles[] = {"feed", "product", "residue", "consumable", "energy", "water", NULL};

/* One entry as the table reads it; role is an index in roles[]. */
struct entry {
  char code[PH_ID_MAX + 1];
  char name_zh[PH_MAT_NAME_MAX];
  char name_en[PH_MAT_NAME_MAX];
  int role;
};

#define F(field) offsetof(struct entry, field), sizeof(((struct entry *)0)->field)
static const struct ph_cfgmap entry_map[] = {
    {"code", PH_CFG_ID, true, F(code), 0, 0, NULL, NULL,
     "the material code the weighbridge sends (an id; may redeclare a catalogue material)"},
    {"name_zh", PH_CFG_STR, false, F(name_zh), 0, 0, NULL, NULL, "Chinese name"},
    {"name_en", PH_CFG_STR, false, F(name_en), 0, 0, NULL, NULL,
     "English name (default: the catalogue's name of that code)"},
    {"role", PH_CFG_ENUM, true, offsetof(struct entry, role), 0, 0, 0, NULL, roles,
     "part in the balance: feed and consumable, energy, water come in; product and residue go out"},
    {"metals", PH_CFG_SKIP, false, 0, 0, 0, 0, NULL, NULL,
     "object metal -> default mass fraction 0..1, e.g. {\"cu\": 0.95} (default: the catalogue's cu_fraction; a "
     "lot's attrs.<metal>_pct wins)"},
    PH_CFG_END,
};
#undef F

bool ph_metal_valid(const char *metal) {
  size_t n = metal ? strlen(metal) : 0;
  if (n < 1 || n > PH_METAL_MAX) return false;
  for (size_t i = 0; i < n; i++)
    if (metal[i] < 'a' || metal[i] > 'z') return false;
  return true;
}

bool ph_assay_path(const char *metal, char *buf, size_t cap) {
  if (!ph_metal_valid(metal)) return false;
  int n = snprintf(buf, cap, "$.%s_pct", metal);
  return n > 0 && (size_t)n < cap;
}

/* ------------------------------------------------------------ loading */

static int load_metals(const cJSON *o, const char *path, struct ph_material *m, struct ph_err *err) {
  if (!cJSON_IsObject(o))
    return ph_fail(err, PH_ECONFIG, "%s.metals: must be an object of metal symbol -> mass fraction 0..1", path);
  double sum = 0;
  for (const cJSON *it = o->child; it; it = it->next) {
    if (m->nmetals == PH_MAT_MAX_METALS)
      return ph_fail(err, PH_ECONFIG, "%s.metals: more than %d metals", path, PH_MAT_MAX_METALS);
    if (!ph_metal_valid(it->string))
      return ph_fail(err, PH_ECONFIG, "%s.metals.%.16s: not a metal symbol (1 or 2 lower-case letters: cu, zn, pb)",
                     path, it->string);
    for (int k = 0; k < m->nmetals; k++)
      if (strcmp(m->metals[k].metal, it->string) == 0)
        return ph_fail(err, PH_ECONFIG, "%s.metals.%s: appears twice", path, it->string);
    if (!cJSON_IsNumber(it) || !(it->valuedouble >= 0 && it->valuedouble <= 1))
      return ph_fail(err, PH_ECONFIG, "%s.metals.%s: must be a mass fraction 0..1 (0.95, not 95)", path, it->string);
    struct ph_metal_content *mc = &m->metals[m->nmetals++];
    strcpy(mc->metal, it->string);
    mc->fraction = it->valuedouble;
    sum += it->valuedouble;
  }
  if (sum > 1 + SUM_EPS) /* inv. 2 */
    return ph_fail(err, PH_ECONFIG, "%s.metals: the fractions add up to %g, more than 1", path, sum);
  return 0;
}

/* The catalogue's word on code: its material metric, or NULL. *other (may
 * be NULL) is set to a metric of another kind with that code, or NULL. */
static const struct ph_metric *catalogue_material(const struct ph_catalog *cat, const char *code,
                                                  const struct ph_metric **other) {
  int i = cat ? ph_catalog_find(cat, code, strlen(code)) : -1;
  const struct ph_metric *mt = i >= 0 ? ph_catalog_at(cat, (size_t)i) : NULL;
  if (other) *other = mt && mt->kind != PH_KIND_MATERIAL ? mt : NULL;
  return mt && mt->kind == PH_KIND_MATERIAL ? mt : NULL;
}

static void from_catalogue(const struct ph_metric *mt, struct ph_material *m) {
  memset(m, 0, sizeof *m);
  snprintf(m->code, sizeof m->code, "%s", mt->code);
  snprintf(m->name_en, sizeof m->name_en, "%s", mt->name);
  m->role = mt->role;
  m->nmetals = 1;
  strcpy(m->metals[0].metal, "cu");
  m->metals[0].fraction = mt->cu_fraction;
}

/* Characters of a UTF-8 string (cJSON has checked nothing: count lead bytes). */
static size_t chars(const char *s) {
  size_t n = 0;
  for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

static int load_one(const cJSON *o, const char *path, const struct ph_catalog *cat, struct ph_material *m,
                    struct ph_err *err) {
  struct entry e;
  memset(&e, 0, sizeof e);
  int rc = ph_cfgmap_apply(entry_map, o, path, &e, err);
  if (rc) return rc;
  if (chars(e.name_zh) > PH_MAT_NAME_CHARS || chars(e.name_en) > PH_MAT_NAME_CHARS)
    return ph_fail(err, PH_ECONFIG, "%s.%s: longer than %d characters", path,
                   chars(e.name_zh) > PH_MAT_NAME_CHARS ? "name_zh" : "name_en", PH_MAT_NAME_CHARS);
  if (cJSON_GetObjectItemCaseSensitive(o, "name_zh") && !e.name_zh[0])
    return ph_fail(err, PH_ECONFIG, "%s.name_zh: must not be empty", path);
  if (cJSON_GetObjectItemCaseSensitive(o, "name_en") && !e.name_en[0])
    return ph_fail(err, PH_ECONFIG, "%s.name_en: must not be empty", path);
  const struct ph_metric *other;
  const struct ph_metric *mt = catalogue_material(cat, e.code, &other);
  if (other) /* inv. 1: the decoder refuses it as a material anyway */
    return ph_fail(err, PH_ECONFIG, "%s.code: '%s' is %s %s metric of the catalogue, not a material", path, e.code,
                   other->kind == PH_KIND_EMISSION ? "an" : "a", ph_kind_name(other->kind));
  memset(m, 0, sizeof *m);
  if (mt) from_catalogue(mt, m); /* defaults for what the entry leaves out */
  strcpy(m->code, e.code);
  if (e.name_en[0]) strcpy(m->name_en, e.name_en);
  strcpy(m->name_zh, e.name_zh);
  m->role = (enum ph_role)(PH_ROLE_FEED + e.role);
  const cJSON *metals = cJSON_GetObjectItemCaseSensitive(o, "metals");
  if (metals) {
    m->nmetals = 0;
    if ((rc = load_metals(metals, path, m, err))) return rc;
  }
  return 0;
}

static int by_code(const void *a, const void *b) {
  return strcmp(((const struct ph_material *)a)->code, ((const struct ph_material *)b)->code);
}

int ph_materials_load_noting(const void *arr, const char *path, const struct ph_catalog *cat,
                             struct ph_materials *out, struct ph_cfg_problems *pr, struct ph_err *err) {
  memset(out, 0, sizeof *out);
  const cJSON *a = arr;
  if (!a) return 0;
  int n = cJSON_GetArraySize(a);
  if (!cJSON_IsArray(a) || n > PH_MAT_MAX)
    return ph_fail(err, PH_ECONFIG, "%s: must be an array of at most %d materials", path, PH_MAT_MAX);
  if (n == 0) return 0;
  if (!(out->v = ph_calloc((size_t)n, sizeof *out->v))) return ph_fail(err, PH_ENOMEM, "%s: out of memory", path);
  char epath[160];
  int rc = 0, i = 0, k = 0, at[PH_MAT_MAX]; /* at[i]: the array index of kept entry i */
  const cJSON *o;
  cJSON_ArrayForEach(o, a) {
    snprintf(epath, sizeof epath, "%s[%d]", path, k);
    memset(&out->v[i], 0, sizeof out->v[i]); /* a refused entry's slot is used again when checking */
    int bad = load_one(o, epath, cat, &out->v[i], err);
    for (int d = 0; d < i && !bad; d++) /* inv. 1 */
      if (strcmp(out->v[d].code, out->v[i].code) == 0)
        bad = ph_fail(err, PH_ECONFIG, "%s.code: '%s' is already declared at %s[%d]", epath, out->v[i].code, path,
                      at[d]);
    if (!bad) at[i++] = k;
    k++;
    if (bad && (rc = ph_cfg_note(pr, bad, err))) break; /* without pr: the first problem stops */
  }
  if (rc) {
    ph_materials_fini(out);
    return rc;
  }
  out->n = i;
  qsort(out->v, (size_t)i, sizeof *out->v, by_code);
  return 0;
}

int ph_materials_load(const void *arr, const char *path, const struct ph_catalog *cat, struct ph_materials *out,
                      struct ph_err *err) {
  return ph_materials_load_noting(arr, path, cat, out, NULL, err);
}

void ph_materials_fini(struct ph_materials *m) {
  if (!m) return;
  ph_free(m->v);
  memset(m, 0, sizeof *m);
}

void ph_materials_help(const char *prefix, FILE *out) { ph_cfgmap_help(entry_map, prefix, out); }

/* ------------------------------------------------------------ lookups */

const struct ph_material *ph_materials_declared(const struct ph_materials *m, const char *code) {
  if (!m || !m->n || !code) return NULL;
  struct ph_material key;
  snprintf(key.code, sizeof key.code, "%s", code);
  return bsearch(&key, m->v, (size_t)m->n, sizeof *m->v, by_code);
}

enum ph_mat_source ph_material_lookup(const struct ph_materials *m, const struct ph_catalog *cat, const char *code,
                                      struct ph_material *out) {
  const struct ph_material *d = ph_materials_declared(m, code);
  if (d) {
    *out = *d;
    return PH_MAT_PARK;
  }
  const struct ph_metric *mt = code ? catalogue_material(cat, code, NULL) : NULL;
  if (mt) {
    from_catalogue(mt, out);
    return PH_MAT_CATALOGUE;
  }
  memset(out, 0, sizeof *out); /* inv. 3 */
  snprintf(out->code, sizeof out->code, "%s", code ? code : "");
  out->role = PH_ROLE_UNCLASSIFIED;
  return PH_MAT_UNCLASSIFIED;
}

enum ph_role ph_material_role(const struct ph_materials *m, const struct ph_catalog *cat, const char *code) {
  const struct ph_material *d = ph_materials_declared(m, code);
  if (d) return d->role;
  const struct ph_metric *mt = code ? catalogue_material(cat, code, NULL) : NULL;
  return mt ? mt->role : PH_ROLE_UNCLASSIFIED;
}

double ph_material_metal(const struct ph_material *mat, const char *metal) {
  for (int i = 0; i < mat->nmetals; i++)
    if (strcmp(mat->metals[i].metal, metal) == 0) return mat->metals[i].fraction;
  return 0;
}

const char *ph_material_name(const struct ph_material *mat) {
  return mat->name_en[0] ? mat->name_en : mat->name_zh[0] ? mat->name_zh : mat->code;
}
