/* cfgmap.c — fills a config struct from a JSON object through a table
 * (cfgmap.h). Callers: the agent's and hub's config loaders, each source's
 * init, the rules and webhook loaders; the hub's SIGHUP (ph_cfgmap_diff).
 * Threads: whichever loads; no state of its own. The same table prints
 * --help, so documentation cannot drift. */
#include "parkhub/cfgmap.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parkhub/ids.h"

const struct ph_cfgmap *ph_cfgmap_find(const struct ph_cfgmap *map, const char *key) {
  for (; map->key; map++)
    if (strcmp(map->key, key) == 0) return map;
  return NULL;
}

/* ---- problems ---- */

void ph_cfg_problem_add(struct ph_cfg_problems *p, const char *msg) {
  if (p->n < PH_CFG_PROBLEMS_MAX) snprintf(p->msg[p->n], sizeof p->msg[0], "%s", msg);
  p->n++;
}

void ph_cfg_problems_print(const struct ph_cfg_problems *p, FILE *out) {
  int kept = p->n < PH_CFG_PROBLEMS_MAX ? p->n : PH_CFG_PROBLEMS_MAX;
  for (int i = 0; i < kept; i++) fprintf(out, "  %s\n", p->msg[i]);
  if (p->n > kept) fprintf(out, "  and %d more\n", p->n - kept);
}

int ph_cfg_note(struct ph_cfg_problems *p, int rc, const struct ph_err *err) {
  if (!rc || !p) return rc;
  ph_cfg_problem_add(p, err->msg);
  return 0;
}

int ph_cfg_stop(struct ph_cfg_problems *p, int rc, const struct ph_err *err) {
  if (rc && p) ph_cfg_problem_add(p, err->msg);
  return rc;
}

/* ---- files the config names ---- */

static void file_problem(struct ph_cfg_problems *p, const char *key, const char *path, const char *what) {
  char msg[PH_ERR_MSG_MAX];
  snprintf(msg, sizeof msg, "%.60s: '%.100s' %.80s", key, path, what);
  ph_cfg_problem_add(p, msg);
}

void ph_cfg_check_readable(struct ph_cfg_problems *p, const char *key, const char *path) {
  struct stat st;
  char why[96];
  if (!path[0]) return;
  if (stat(path, &st) != 0) {
    snprintf(why, sizeof why, "cannot be read: %s", strerror(errno));
    file_problem(p, key, path, why);
  } else if (S_ISDIR(st.st_mode)) {
    file_problem(p, key, path, "is a folder, expected a file");
  } else if (access(path, R_OK) != 0) {
    snprintf(why, sizeof why, "cannot be read: %s", strerror(errno));
    file_problem(p, key, path, why);
  }
}

/* The folder of path into dir; false (and a problem) when it is not one. */
static bool folder_of(struct ph_cfg_problems *p, const char *key, const char *path, char *dir, size_t cap) {
  char why[160];
  snprintf(dir, cap, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash) snprintf(dir, cap, ".");
  else if (slash == dir) dir[1] = '\0';
  else *slash = '\0';
  struct stat st;
  if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return true;
  snprintf(why, sizeof why, "is in a folder that does not exist (%.100s): create it first", dir);
  file_problem(p, key, path, why);
  return false;
}

void ph_cfg_check_awaited(struct ph_cfg_problems *p, const char *key, const char *path) {
  char dir[512];
  struct stat st;
  if (path[0] && folder_of(p, key, path, dir, sizeof dir) && stat(path, &st) == 0) ph_cfg_check_readable(p, key, path);
}

void ph_cfg_check_writable(struct ph_cfg_problems *p, const char *key, const char *path) {
  if (!path[0]) return;
  char dir[512], why[160];
  struct stat st;
  if (!folder_of(p, key, path, dir, sizeof dir)) {
    return;
  } else if (access(dir, W_OK | X_OK) != 0) {
    snprintf(why, sizeof why, "is in a folder this user cannot write (%.100s): %s", dir, strerror(errno));
    file_problem(p, key, path, why);
  } else if (stat(path, &st) == 0 && (S_ISDIR(st.st_mode) || access(path, R_OK | W_OK) != 0)) {
    file_problem(p, key, path, S_ISDIR(st.st_mode) ? "is a folder, expected a file" : "exists but cannot be written");
  }
}

/* ---- numbers as people write them ---- */

void ph_cfg_num_text(double d, char *buf, size_t cap) {
  if (isfinite(d) && d == floor(d) && fabs(d) < 1e18)
    snprintf(buf, cap, "%lld", (long long)d);
  else
    snprintf(buf, cap, "%.15g", d);
}

/* ---- hints for unknown keys ---- */

/* Mistakes people make often, by the object they sit in. */
static const struct {
  const char *parent, *key, *hint;
} hints[] = {
    {"mqtt", "host", "use mqtt.uris, e.g. [\"tcp://127.0.0.1:1883\"]"},
    {"mqtt", "port", "use mqtt.uris, e.g. [\"tcp://127.0.0.1:1883\"]"},
    {"mqtt", "uri", "use mqtt.uris (an array), e.g. [\"tcp://127.0.0.1:1883\"]"},
    {"mqtt", "url", "use mqtt.uris, e.g. [\"tcp://127.0.0.1:1883\"]"},
    {"mqtt", "broker", "use mqtt.uris, e.g. [\"tcp://127.0.0.1:1883\"]"},
    {"mqtt", "user", "use mqtt.username"},
    {"mqtt", "ca", "use mqtt.tls.ca (TLS settings go in the \"tls\" object)"},
    {"mqtt", "cafile", "use mqtt.tls.ca (TLS settings go in the \"tls\" object)"},
    {"", "park", "the hub serves \"parks\": an array of {\"id\", \"enterprises\", …}"},
    {"enterprises", "agent", "use agents, an array of ids, e.g. [\"gw-a\"]"},
    {"parks", "enterprise", "use enterprises, an array of objects"},
    {"db", "file", "use db.path"},
    {"outbox", "file", "use outbox.path"},
    {"", "log-level", "use log_level (with an underscore)"},
    {"", "loglevel", "use log_level"},
};

/* Levenshtein distance, capped: keys are short (< 64). */
static int distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 63 || lb > 63) return 99;
  int row[64];
  for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
  for (size_t i = 1; i <= la; i++) {
    int diag = row[0];
    row[0] = (int)i;
    for (size_t j = 1; j <= lb; j++) {
      int up = row[j], best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      diag = up;
      row[j] = best;
    }
  }
  return row[lb];
}

/* "; use …" from the table, "; did you mean 'x'?" for a near key, or the
 * keys the object takes. The parent is the path's last name without its
 * index ("parks[0].enterprises[2]" → "enterprises"). */
static void unknown_hint(const struct ph_cfgmap *map, const char *path, const char *key, char *buf, size_t cap) {
  const char *parent = strrchr(path, '.') ? strrchr(path, '.') + 1 : path;
  size_t plen = strcspn(parent, "[");
  for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++)
    if (strlen(hints[i].parent) == plen && strncmp(hints[i].parent, parent, plen) == 0 &&
        strcmp(hints[i].key, key) == 0) {
      snprintf(buf, cap, "; %s", hints[i].hint);
      return;
    }
  const char *near = NULL;
  int best = 3;
  for (const struct ph_cfgmap *e = map; e->key; e++) {
    size_t kl = strlen(key), el = strlen(e->key);
    /* "rate" for "rate_hz", "keepalive" for "keepalive_s": a cut-short key first */
    int d = kl >= 3 && el >= 3 && strncmp(key, e->key, kl < el ? kl : el) == 0 ? 0 : distance(key, e->key);
    if (d < best) best = d, near = e->key;
  }
  if (near) {
    snprintf(buf, cap, "; did you mean '%s'?", near);
    return;
  }
  size_t n = (size_t)snprintf(buf, cap, "; expected one of: ");
  for (const struct ph_cfgmap *e = map; e->key && n < cap; e++)
    n += (size_t)snprintf(buf + n, cap - n, "%s%s", e == map ? "" : ", ", e->key);
}

/* ---- applying ---- */

static int set_str(const struct ph_cfgmap *e, const char *s, const char *path, void *dst, struct ph_err *err) {
  if (strlen(s) >= e->size)
    return ph_fail(err, PH_ECONFIG, "%s%s: longer than %zu characters", path, e->key, e->size - 1);
  if (e->type == PH_CFG_ID && *s && !ph_id_valid_z(s))
    return ph_fail(err, PH_ECONFIG, "%s%s: '%.70s' is not an id ([a-z0-9][a-z0-9_-]{0,63})", path, e->key, s);
  strcpy((char *)dst + e->offset, s);
  return 0;
}

static int set_num(const struct ph_cfgmap *e, double d, const char *path, void *dst, struct ph_err *err) {
  if (!isfinite(d) || d < e->min || d > e->max) {
    char v[32], lo[32], hi[32];
    ph_cfg_num_text(d, v, sizeof v);
    ph_cfg_num_text(e->min, lo, sizeof lo);
    ph_cfg_num_text(e->max, hi, sizeof hi);
    return ph_fail(err, PH_ECONFIG, "%s%s: %s is outside %s..%s", path, e->key, v, lo, hi);
  }
  if (e->type == PH_CFG_INT) {
    if (d != floor(d)) return ph_fail(err, PH_ECONFIG, "%s%s: must be a whole number", path, e->key);
    *(int64_t *)((char *)dst + e->offset) = (int64_t)d;
  } else {
    *(double *)((char *)dst + e->offset) = d;
  }
  return 0;
}

static void words_text(const struct ph_cfgmap *e, char *buf, size_t cap) {
  buf[0] = '\0';
  for (int i = 0; e->words[i]; i++) {
    strncat(buf, i ? "|" : "", cap - strlen(buf) - 1);
    strncat(buf, e->words[i], cap - strlen(buf) - 1);
  }
}

static int set_enum(const struct ph_cfgmap *e, const char *s, const char *path, void *dst, struct ph_err *err) {
  for (int i = 0; e->words[i]; i++)
    if (strcmp(e->words[i], s) == 0) {
      *(int *)((char *)dst + e->offset) = i;
      return 0;
    }
  char allowed[200];
  words_text(e, allowed, sizeof allowed);
  return ph_fail(err, PH_ECONFIG, "%s%s: '%.40s' is not one of %s", path, e->key, s, allowed);
}

static bool is_skip(enum ph_cfg_type t) { return t == PH_CFG_SKIP || t == PH_CFG_OBJECT || t == PH_CFG_ARRAY; }

/* Applies a value given as text (a default). */
static int set_text(const struct ph_cfgmap *e, const char *s, const char *path, void *dst, struct ph_err *err) {
  switch (e->type) {
  case PH_CFG_STR:
  case PH_CFG_ID: return set_str(e, s, path, dst, err);
  case PH_CFG_INT:
  case PH_CFG_DBL: return set_num(e, strtod(s, NULL), path, dst, err);
  case PH_CFG_BOOL: *(bool *)((char *)dst + e->offset) = strcmp(s, "true") == 0; return 0;
  case PH_CFG_ENUM: return set_enum(e, s, path, dst, err);
  default: return 0;
  }
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
  default: return 0;
  }
}

static int apply_key(const struct ph_cfgmap *e, const cJSON *o, const char *prefix, void *dst, struct ph_err *err) {
  const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, e->key) : NULL;
  if (v) return set_json(e, v, prefix, dst, err);
  if (e->flags & PH_CFG_REQUIRED) return ph_fail(err, PH_ECONFIG, "%s%s: required", prefix, e->key);
  if (e->def) return set_text(e, e->def, prefix, dst, err); /* "" too: it clears a string */
  return 0;
}

/* Notes a problem; keeps the first in err (as the first-problem API did). */
static int problem(struct ph_cfg_problems *p, struct ph_err *err, const struct ph_err *one, int *first) {
  if (p) ph_cfg_problem_add(p, one->msg);
  if (!*first && err) *err = *one;
  if (!*first) *first = one->code ? one->code : PH_ECONFIG;
  return p ? 0 : *first;
}

int ph_cfgmap_apply_all(const struct ph_cfgmap *map, const void *obj, const char *path, void *dst,
                        struct ph_cfg_problems *p, struct ph_err *err) {
  const cJSON *o = obj;
  char prefix[200];
  snprintf(prefix, sizeof prefix, "%s%s", path, *path ? "." : "");
  struct ph_err one = {0};
  int first = 0;
  if (o && !cJSON_IsObject(o)) {
    ph_fail(&one, PH_ECONFIG, "%s: must be an object", *path ? path : "(root)");
    problem(p, err, &one, &first);
    return first;
  }
  for (const cJSON *it = o ? o->child : NULL; it; it = it->next) {
    if (ph_cfgmap_find(map, it->string)) continue;
    char hint[160];
    unknown_hint(map, path, it->string, hint, sizeof hint);
    ph_fail(&one, PH_ECONFIG, "%s%.64s: unknown key%s", prefix, it->string, hint);
    if (problem(p, err, &one, &first)) return first;
  }
  for (const struct ph_cfgmap *e = map; e->key; e++)
    if (apply_key(e, o, prefix, dst, &one) && problem(p, err, &one, &first)) return first;
  return first;
}

int ph_cfgmap_apply(const struct ph_cfgmap *map, const void *obj, const char *path, void *dst, struct ph_err *err) {
  return ph_cfgmap_apply_all(map, obj, path, dst, NULL, err);
}

/* ---- --help ---- */

static const char *type_name(const struct ph_cfgmap *e) {
  static const char *const names[] = {"string", "id", "integer", "number", "bool", "word", "value", "object", "array"};
  if (e->type != PH_CFG_SKIP) return names[e->type];
  /* tables that only say SKIP describe the value in their help text */
  const char *h = e->help ? e->help : "";
  if (strncmp(h, "array", 5) == 0 || strstr(h, "(array")) return "array";
  if (strncmp(h, "object", 6) == 0 || strstr(h, "(object") || strncmp(h, "{", 1) == 0) return "object";
  return "value";
}

static void help_range(const struct ph_cfgmap *e, FILE *out) {
  char lo[32], hi[32];
  ph_cfg_num_text(e->min, lo, sizeof lo);
  ph_cfg_num_text(e->max, hi, sizeof hi);
  fprintf(out, " (%s..%s)", lo, hi);
}

void ph_cfgmap_help(const struct ph_cfgmap *map, const char *prefix, FILE *out) {
  for (const struct ph_cfgmap *e = map; e->key; e++) {
    char key[96];
    snprintf(key, sizeof key, "%s%s", prefix, e->key);
    fprintf(out, "  %-28s %-7s %s", key, type_name(e), e->help ? e->help : "");
    if (e->type == PH_CFG_INT || e->type == PH_CFG_DBL) help_range(e, out);
    if (e->type == PH_CFG_ENUM) {
      char words[200];
      words_text(e, words, sizeof words);
      fprintf(out, " (%s)", words);
    }
    if (e->flags & PH_CFG_REQUIRED)
      fputs(" (required)", out);
    else if (e->def && e->def[0])
      fprintf(out, " (default %s)", e->def);
    if (e->flags & PH_CFG_RELOAD) fputs(" [reloadable: SIGHUP]", out);
    fputc('\n', out);
  }
}

/* ---- SIGHUP: what changed ---- */

void ph_cfg_change_add(struct ph_cfg_changes *out, const char *key, const char *from, const char *to,
                       bool reloadable) {
  if (out->n < PH_CFG_CHANGES_MAX) {
    struct ph_cfg_change *c = &out->c[out->n];
    snprintf(c->key, sizeof c->key, "%s", key);
    snprintf(c->from, sizeof c->from, "%s", from);
    snprintf(c->to, sizeof c->to, "%s", to);
    c->reloadable = reloadable;
  }
  out->n++;
}

static void value_text(const struct ph_cfgmap *e, const void *base, char *buf, size_t cap) {
  const char *p = (const char *)base + e->offset;
  switch (e->type) {
  case PH_CFG_STR:
  case PH_CFG_ID: snprintf(buf, cap, "'%s'", p); break;
  case PH_CFG_INT: snprintf(buf, cap, "%lld", (long long)*(const int64_t *)(const void *)p); break;
  case PH_CFG_DBL: ph_cfg_num_text(*(const double *)(const void *)p, buf, cap); break;
  case PH_CFG_BOOL: snprintf(buf, cap, "%s", *(const bool *)(const void *)p ? "true" : "false"); break;
  case PH_CFG_ENUM: snprintf(buf, cap, "%s", e->words[*(const int *)(const void *)p]); break;
  default: buf[0] = '\0'; break;
  }
}

/* Compared raw, not as text: the text may be cut short. */
static bool differs(const struct ph_cfgmap *e, const void *a, const void *b) {
  const char *pa = (const char *)a + e->offset, *pb = (const char *)b + e->offset;
  switch (e->type) {
  case PH_CFG_STR:
  case PH_CFG_ID: return strcmp(pa, pb) != 0;
  case PH_CFG_INT: return *(const int64_t *)(const void *)pa != *(const int64_t *)(const void *)pb;
  case PH_CFG_DBL: return *(const double *)(const void *)pa != *(const double *)(const void *)pb;
  case PH_CFG_BOOL: return *(const bool *)(const void *)pa != *(const bool *)(const void *)pb;
  case PH_CFG_ENUM: return *(const int *)(const void *)pa != *(const int *)(const void *)pb;
  default: return false;
  }
}

void ph_cfgmap_diff(const struct ph_cfgmap *map, const char *prefix, const void *a, const void *b,
                    struct ph_cfg_changes *out) {
  for (const struct ph_cfgmap *e = map; e->key; e++) {
    if (is_skip(e->type) || !differs(e, a, b)) continue;
    char from[64], to[64], key[96];
    value_text(e, a, from, sizeof from);
    value_text(e, b, to, sizeof to);
    snprintf(key, sizeof key, "%s%s", prefix, e->key);
    ph_cfg_change_add(out, key, from, to, (e->flags & PH_CFG_RELOAD) != 0);
  }
}

static size_t value_size(const struct ph_cfgmap *e) {
  switch (e->type) {
  case PH_CFG_STR:
  case PH_CFG_ID: return e->size;
  case PH_CFG_INT: return sizeof(int64_t);
  case PH_CFG_DBL: return sizeof(double);
  case PH_CFG_BOOL: return sizeof(bool);
  case PH_CFG_ENUM: return sizeof(int);
  default: return 0;
  }
}

int ph_cfgmap_copy(const struct ph_cfgmap *e, void *dst, const void *src) {
  size_t n = value_size(e);
  if (!n) return PH_EINVAL;
  memcpy((char *)dst + e->offset, (const char *)src + e->offset, n);
  return 0;
}
