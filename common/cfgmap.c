/* cfgmap.c — fills a config struct from a JSON object through a table
 * (cfgmap.h). Callers: the agent's and hub's config loaders, each source's
 * init. The same table prints --help, so documentation cannot drift. */
#include "parkhub/cfgmap.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parkhub/ids.h"

static const struct ph_cfgmap *find_key(const struct ph_cfgmap *map, const char *key) {
  for (; map->key; map++)
    if (strcmp(map->key, key) == 0) return map;
  return NULL;
}

static int set_str(const struct ph_cfgmap *e, const char *s, const char *path, void *dst, struct ph_err *err) {
  if (strlen(s) >= e->size)
    return ph_fail(err, PH_ECONFIG, "%s%s: longer than %zu characters", path, e->key, e->size - 1);
  if (e->type == PH_CFG_ID && *s && !ph_id_valid_z(s))
    return ph_fail(err, PH_ECONFIG, "%s%s: '%.70s' is not an id ([a-z0-9][a-z0-9_-]{0,63})", path, e->key, s);
  strcpy((char *)dst + e->offset, s);
  return 0;
}

static int set_num(const struct ph_cfgmap *e, double d, const char *path, void *dst, struct ph_err *err) {
  if (!isfinite(d) || d < e->min || d > e->max)
    return ph_fail(err, PH_ECONFIG, "%s%s: %g is outside %g..%g", path, e->key, d, e->min, e->max);
  if (e->type == PH_CFG_INT) {
    if (d != floor(d)) return ph_fail(err, PH_ECONFIG, "%s%s: must be a whole number", path, e->key);
    *(int64_t *)((char *)dst + e->offset) = (int64_t)d;
  } else {
    *(double *)((char *)dst + e->offset) = d;
  }
  return 0;
}

static int set_enum(const struct ph_cfgmap *e, const char *s, const char *path, void *dst, struct ph_err *err) {
  for (int i = 0; e->words[i]; i++)
    if (strcmp(e->words[i], s) == 0) {
      *(int *)((char *)dst + e->offset) = i;
      return 0;
    }
  char allowed[256] = "";
  for (int i = 0; e->words[i]; i++) {
    strncat(allowed, i ? "|" : "", sizeof allowed - strlen(allowed) - 1);
    strncat(allowed, e->words[i], sizeof allowed - strlen(allowed) - 1);
  }
  return ph_fail(err, PH_ECONFIG, "%s%s: '%.40s' is not one of %s", path, e->key, s, allowed);
}

/* Applies a value given as text (a default). */
static int set_text(const struct ph_cfgmap *e, const char *s, const char *path, void *dst, struct ph_err *err) {
  switch (e->type) {
  case PH_CFG_STR:
  case PH_CFG_ID: return set_str(e, s, path, dst, err);
  case PH_CFG_INT:
  case PH_CFG_DBL: return set_num(e, strtod(s, NULL), path, dst, err);
  case PH_CFG_BOOL: *(bool *)((char *)dst + e->offset) = strcmp(s, "true") == 0; return 0;
  case PH_CFG_ENUM: return set_enum(e, s, path, dst, err);
  case PH_CFG_SKIP: return 0;
  }
  return 0;
}

static int set_json(const struct ph_cfgmap *e, const cJSON *v, const char *path, void *dst, struct ph_err *err) {
  switch (e->type) {
  case PH_CFG_STR:
  case PH_CFG_ID:
  case PH_CFG_ENUM:
    if (!cJSON_IsString(v)) return ph_fail(err, PH_ECONFIG, "%s%s: must be a string", path, e->key);
    return e->type == PH_CFG_ENUM ? set_enum(e, v->valuestring, path, dst, err)
                                  : set_str(e, v->valuestring, path, dst, err);
  case PH_CFG_INT:
  case PH_CFG_DBL:
    if (!cJSON_IsNumber(v)) return ph_fail(err, PH_ECONFIG, "%s%s: must be a number", path, e->key);
    return set_num(e, v->valuedouble, path, dst, err);
  case PH_CFG_BOOL:
    if (!cJSON_IsBool(v)) return ph_fail(err, PH_ECONFIG, "%s%s: must be true or false", path, e->key);
    *(bool *)((char *)dst + e->offset) = cJSON_IsTrue(v);
    return 0;
  case PH_CFG_SKIP: return 0;
  }
  return 0;
}

int ph_cfgmap_apply(const struct ph_cfgmap *map, const void *obj, const char *path, void *dst, struct ph_err *err) {
  const cJSON *o = obj;
  char prefix[200];
  snprintf(prefix, sizeof prefix, "%s%s", path, *path ? "." : "");
  if (o && !cJSON_IsObject(o)) return ph_fail(err, PH_ECONFIG, "%s: must be an object", *path ? path : "(root)");
  for (const cJSON *it = o ? o->child : NULL; it; it = it->next)
    if (!find_key(map, it->string))
      return ph_fail(err, PH_ECONFIG, "%s%.64s: unknown key", prefix, it->string);
  for (const struct ph_cfgmap *e = map; e->key; e++) {
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, e->key) : NULL;
    int rc = 0;
    if (v)
      rc = set_json(e, v, prefix, dst, err);
    else if (e->required)
      rc = ph_fail(err, PH_ECONFIG, "%s%s: required", prefix, e->key);
    else if (e->def)
      rc = set_text(e, e->def, prefix, dst, err);
    if (rc) return rc;
  }
  return 0;
}

static const char *type_name(const struct ph_cfgmap *e) {
  static const char *const names[] = {"string", "id", "integer", "number", "bool", "word", "object"};
  return names[e->type];
}

void ph_cfgmap_help(const struct ph_cfgmap *map, const char *prefix, FILE *out) {
  for (const struct ph_cfgmap *e = map; e->key; e++) {
    char key[96];
    snprintf(key, sizeof key, "%s%s", prefix, e->key);
    fprintf(out, "  %-28s %-7s %s", key, type_name(e), e->help ? e->help : "");
    if (e->type == PH_CFG_INT || e->type == PH_CFG_DBL) fprintf(out, " [%g..%g]", e->min, e->max);
    if (e->type == PH_CFG_ENUM) {
      fputs(" (", out);
      for (int i = 0; e->words[i]; i++) fprintf(out, "%s%s", i ? "|" : "", e->words[i]);
      fputs(")", out);
    }
    if (e->required)
      fputs(" (required)", out);
    else if (e->def)
      fprintf(out, " (default %s)", e->def);
    fputc('\n', out);
  }
}
