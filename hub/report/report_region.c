/* report_region.c — the annual report of a region (report_region.h): each
 * park's own report, and a region section summed from those reports.
 *
 * Callers: report.c (`parkhub report --parks`), api_report.c
 * (GET /api/v1/report), tests. Threads: the caller's; the parks are built
 * one after another on the caller's connection, inside the caller's one
 * read transaction (one snapshot for the whole region). Owns nothing after
 * returning.
 *
 * Invariants (tests cite them; docs/report.md "Region report"):
 *  1. A park's section is ph_report_build's tree of that park, unchanged:
 *     its figures are the park report's by construction.
 *  2. The region section only adds up the parks' "park_summary" figures:
 *     it reads the trees, never the database, so it can disagree with the
 *     parks in no way but arithmetic.
 *  3. A regional total is a number only when every park that has the
 *     figure's row gives a number. Otherwise it is null, "<k>_na" names the
 *     parks without it and "<k>_missing_parks" lists them; when some parks
 *     do give it, "<k>_partial" is their sum and "<k>_partial_parks" lists
 *     exactly the parks it covers. Never a sum that silently leaves a park
 *     out, never a 0 in place of a missing figure.
 *  4. Counts (hours, days, enterprises) are sums of the parks' counts, and
 *     rates are recomputed from those sums, never averaged.
 */
#include "report_region.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/ids.h"
#include "parkhub/na_reasons.h"
#include "parkhub/timefmt.h"

/* Pollutant rows of a section: more than the catalogue holds (a park
 * report's rows are catalogue pollutants). */
#define MAX_POLLUTANTS 128

/* The region's tree in the making; oom as report_build.h's rb. */
struct rg {
  const cJSON *const *parks; /* park report trees */
  const char *const *ids;
  int n;
  bool oom;
};

static cJSON *chk(struct rg *g, cJSON *item) {
  if (!item) g->oom = true;
  return item;
}
/* Adds v (taken) to o at k: v, or NULL with g->oom set (v freed). */
static cJSON *put(struct rg *g, cJSON *o, const char *k, cJSON *v) {
  if (o && v && cJSON_AddItemToObject(o, k, v)) return v;
  cJSON_Delete(v);
  g->oom = true;
  return NULL;
}
static void put_num(struct rg *g, cJSON *o, const char *k, double v) { put(g, o, k, cJSON_CreateNumber(v)); }

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }
static const cJSON *summary(const struct rg *g, int i) { return get(g->parks[i], "park_summary"); }

/* The row of array rows whose "pollutant" is code, or NULL. */
static const cJSON *row_of(const cJSON *rows, const char *code) {
  const cJSON *it;
  cJSON_ArrayForEach(it, rows) {
    const cJSON *p = get(it, "pollutant");
    if (cJSON_IsString(p) && strcmp(p->valuestring, code) == 0) return it;
  }
  return NULL;
}

/* "p1, p2" of the parks flagged in which[] */
static void id_list(const struct rg *g, const bool *which, char *buf, size_t cap) {
  buf[0] = '\0';
  for (int i = 0; i < g->n; i++) {
    if (!which[i]) continue;
    size_t len = strlen(buf);
    snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", g->ids[i]);
  }
}

static cJSON *id_array(struct rg *g, const bool *which) {
  cJSON *a = chk(g, cJSON_CreateArray());
  for (int i = 0; a && i < g->n; i++)
    if (which[i] && !cJSON_AddItemToArray(a, cJSON_CreateString(g->ids[i]))) g->oom = true;
  return a;
}

/* inv. 3: key k summed over the objects objs[i] (NULL: the park has no
 * such row and takes no part). */
static void total(struct rg *g, cJSON *o, const char *k, const cJSON *const *objs) {
  bool have[PH_REPORT_REGION_MAX_PARKS] = {0}, miss[PH_REPORT_REGION_MAX_PARKS] = {0};
  int nhave = 0, nmiss = 0;
  double sum = 0;
  for (int i = 0; i < g->n; i++) {
    if (!objs[i]) continue;
    const cJSON *v = get(objs[i], k);
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
      sum += v->valuedouble;
      have[i] = true;
      nhave++;
    } else {
      miss[i] = true;
      nmiss++;
    }
  }
  char key[96], ids[PH_REPORT_REGION_MAX_PARKS * (PH_ID_MAX + 2)], why[sizeof ids + 128];
  snprintf(key, sizeof key, "%s_parks", k);
  put_num(g, o, key, nhave);
  if (nmiss == 0 && nhave > 0) {
    put_num(g, o, k, sum);
    return;
  }
  put(g, o, k, cJSON_CreateNull());
  id_list(g, miss, ids, sizeof ids);
  if (nhave == 0 && nmiss == 0) snprintf(why, sizeof why, "%s", PH_NA(REGION_NO_PARK_HAS_FIGURE));
  else snprintf(why, sizeof why, PH_NA(REGION_PARKS_WITHOUT_FIGURE), ids);
  snprintf(key, sizeof key, "%s_na", k);
  put(g, o, key, cJSON_CreateString(why));
  if (nmiss) {
    snprintf(key, sizeof key, "%s_missing_parks", k);
    put(g, o, key, id_array(g, miss));
  }
  if (nhave) {
    snprintf(key, sizeof key, "%s_partial", k);
    put_num(g, o, key, sum);
    snprintf(key, sizeof key, "%s_partial_parks", k);
    put(g, o, key, id_array(g, have));
  }
}

/* inv. 4: an integer count summed over the parks that have the row. */
static double count(const cJSON *const *objs, int n, const char *k) {
  double s = 0;
  for (int i = 0; i < n; i++) {
    const cJSON *v = objs[i] ? get(objs[i], k) : NULL;
    if (cJSON_IsNumber(v)) s += v->valuedouble;
  }
  return s;
}

static void rate(struct rg *g, cJSON *o, const char *k, double num, double den, const char *why) {
  if (den > 0) put_num(g, o, k, num / den);
  else {
    char key[96];
    put(g, o, k, cJSON_CreateNull());
    snprintf(key, sizeof key, "%s_na", k);
    put(g, o, key, cJSON_CreateString(why));
  }
}

static void names(struct rg *g, cJSON *o, const cJSON *from) {
  static const char *const keys[] = {"pollutant", "name", "name_zh", "unit"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    const cJSON *v = get(from, keys[i]);
    if (cJSON_IsString(v)) put(g, o, keys[i], cJSON_CreateString(v->valuestring));
  }
}

/* The pollutants of section sec over the parks, in order of first appearance. */
static int pollutants(const struct rg *g, const char *sec, const char **codes, int cap) {
  int n = 0;
  for (int i = 0; i < g->n; i++) {
    const cJSON *it;
    cJSON_ArrayForEach(it, get(summary(g, i), sec)) {
      const cJSON *p = get(it, "pollutant");
      if (!cJSON_IsString(p)) continue;
      int k = 0;
      while (k < n && strcmp(codes[k], p->valuestring) != 0) k++;
      if (k == n && n < cap) codes[n++] = p->valuestring;
    }
  }
  return n;
}

static void rows_of(const struct rg *g, const char *sec, const char *code, const cJSON **objs) {
  for (int i = 0; i < g->n; i++) objs[i] = row_of(get(summary(g, i), sec), code);
}

/* A row's own figures before and after its summed counts (key order as
 * the park report's). */
typedef void (*row_fn)(struct rg *g, cJSON *o, const cJSON *const *objs);

/* One row per pollutant of the parks' `section`: its names, pre's figures,
 * the counts summed (inv. 4), post's figures. */
static void pollutant_rows(struct rg *g, cJSON *region, const char *section, const char *const *counts,
                           size_t ncounts, row_fn pre, row_fn post) {
  const char *codes[MAX_POLLUTANTS];
  const cJSON *objs[PH_REPORT_REGION_MAX_PARKS];
  cJSON *rows = put(g, region, section, cJSON_CreateArray());
  int n = pollutants(g, section, codes, MAX_POLLUTANTS);
  for (int c = 0; c < n && rows; c++) {
    rows_of(g, section, codes[c], objs);
    cJSON *o = chk(g, cJSON_CreateObject());
    if (!o || !cJSON_AddItemToArray(rows, o)) {
      cJSON_Delete(o);
      g->oom = true;
      return;
    }
    const cJSON *first = NULL;
    for (int i = 0; i < g->n && !first; i++) first = objs[i];
    names(g, o, first);
    if (pre) pre(g, o, objs);
    for (size_t k = 0; k < ncounts; k++) put_num(g, o, counts[k], count(objs, g->n, counts[k]));
    if (post) post(g, o, objs);
  }
}

static void mass_total(struct rg *g, cJSON *o, const cJSON *const *objs) { total(g, o, "mass_t", objs); }

static void gap_share(struct rg *g, cJSON *o, const cJSON *const *objs) {
  double exp = count(objs, g->n, "hours_expected"), used = count(objs, g->n, "hours_used");
  rate(g, o, "gap_share", exp - used, exp, PH_NA(NOTHING_EXPECTED));
}

static void emissions(struct rg *g, cJSON *region) {
  static const char *const counts[] = {"points", "hours_expected", "hours_used", "hours_stopped", "gap_hours"};
  pollutant_rows(g, region, "emissions", counts, sizeof counts / sizeof counts[0], mass_total, gap_share);
}

static void compliance_rates(struct rg *g, cJSON *o, const cJSON *const *objs) {
  rate(g, o, "hour_compliance", count(objs, g->n, "hours_within"), count(objs, g->n, "hours_with_limit"),
       PH_NA(REGION_NO_HOUR_WITH_LIMIT));
  rate(g, o, "day_compliance", count(objs, g->n, "days_within"), count(objs, g->n, "days_with_limit"),
       PH_NA(REGION_NO_DAY_WITH_LIMIT));
}

static void compliance(struct rg *g, cJSON *region) {
  static const char *const counts[] = {"points",           "hours_expected", "hours_valid",    "hours_with_limit",
                                       "hours_within",     "exceedance_hours", "hours_stopped", "days_expected",
                                       "days_valid",       "days_with_limit", "days_within",    "exceedance_days",
                                       "days_stopped"};
  pollutant_rows(g, region, "compliance", counts, sizeof counts / sizeof counts[0], NULL, compliance_rates);
}

static void pcdd_f(struct rg *g, cJSON *region) {
  static const char *const keys[] = {"measured_g_teq", "estimated_air_g_teq", "estimated_residue_g_teq",
                                     "current_g_teq",  "baseline_g_teq",      "reduction_g_teq"};
  const cJSON *objs[PH_REPORT_REGION_MAX_PARKS];
  for (int i = 0; i < g->n; i++) objs[i] = get(summary(g, i), "pcdd_f");
  cJSON *o = put(g, region, "pcdd_f", cJSON_CreateObject());
  for (size_t k = 0; o && k < sizeof keys / sizeof keys[0]; k++) total(g, o, keys[k], objs);
}

static void region(struct rg *g, cJSON *root) {
  cJSON *r = put(g, root, "region", cJSON_CreateObject());
  if (!r) return;
  put_num(g, r, "parks", g->n);
  const cJSON *objs[PH_REPORT_REGION_MAX_PARKS];
  for (int i = 0; i < g->n; i++) objs[i] = summary(g, i);
  put_num(g, r, "enterprises", count(objs, g->n, "enterprises"));
  pcdd_f(g, r);
  emissions(g, r);
  compliance(g, r);
}

static void meta(struct rg *g, cJSON *root, const struct ph_report_env *env, int year, int64_t now_ms) {
  char t[48];
  static const char *const notes[] = {
      "Each park's section is that park's own annual report, unchanged; the region section only adds up the "
      "parks' summary figures.",
      "A regional total is given only when every park gives the figure; otherwise it is not available and names "
      "the parks without it, and a partial sum, when shown, says which parks it covers.",
      "Hours and days are summed over the parks; rates are recomputed from those sums, never averaged.",
      "Each park's year is its own local calendar year.",
  };
  put(g, root, "report", cJSON_CreateString("parkhub region report"));
  put_num(g, root, "format_version", PH_REPORT_VERSION);
  put(g, root, "hub_id", cJSON_CreateString(env->refs->cfg->hub_id));
  put_num(g, root, "year", year);
  if (ph_time_format(now_ms, t, sizeof t) == 0) put(g, root, "generated_at_utc", cJSON_CreateString(t));
  put_num(g, root, "parks_count", g->n);
  bool all[PH_REPORT_REGION_MAX_PARKS];
  for (int i = 0; i < g->n; i++) all[i] = true;
  put(g, root, "park_ids", id_array(g, all));
  cJSON *ns = chk(g, cJSON_CreateArray());
  for (size_t i = 0; ns && i < sizeof notes / sizeof notes[0]; i++)
    if (!cJSON_AddItemToArray(ns, cJSON_CreateString(notes[i]))) g->oom = true;
  put(g, root, "notes", ns);
}

static int check_parks(const struct ph_hub_config *cfg, const char *const *parks, int n, struct ph_err *err) {
  if (n < 1 || n > PH_REPORT_REGION_MAX_PARKS)
    return ph_fail(err, PH_EINVAL, "region report: %d parks (1 to %d)", n, PH_REPORT_REGION_MAX_PARKS);
  for (int i = 0; i < n; i++) {
    if (!parks[i] || !ph_hub_config_park(cfg, parks[i]))
      return ph_fail(err, PH_ENOTFOUND, "region report: park '%s' is not configured", parks[i] ? parks[i] : "");
    for (int j = 0; j < i; j++)
      if (strcmp(parks[i], parks[j]) == 0) return ph_fail(err, PH_EINVAL, "region report: park %s twice", parks[i]);
  }
  return 0;
}

int ph_report_region_build(sqlite3 *db, const struct ph_report_env *env, const char *const *parks, int n, int year,
                           int64_t now_ms, cJSON **out, struct ph_err *err) {
  *out = NULL;
  if (!db || !env || !env->refs || !env->refs->cfg || !parks) return ph_fail(err, PH_EINVAL, "region report: missing argument");
  int rc = check_parks(env->refs->cfg, parks, n, err);
  if (rc) return rc;
  cJSON *root = cJSON_CreateObject(), *list = cJSON_CreateArray();
  const cJSON *trees[PH_REPORT_REGION_MAX_PARKS];
  struct rg g = {.parks = trees, .ids = parks, .n = n};
  if (!root || !list) {
    cJSON_Delete(root);
    cJSON_Delete(list);
    return ph_fail(err, PH_ENOMEM, "region report: out of memory");
  }
  meta(&g, root, env, year, now_ms);
  for (int i = 0; i < n && !rc; i++) { /* inv. 1 */
    cJSON *t = NULL;
    rc = ph_report_build(db, env, parks[i], year, now_ms, &t, err);
    if (!rc && !cJSON_AddItemToArray(list, t)) {
      cJSON_Delete(t);
      rc = ph_fail(err, PH_ENOMEM, "region report: out of memory");
    }
    trees[i] = t;
  }
  if (!rc) region(&g, root); /* inv. 2 */
  if (!cJSON_AddItemToObject(root, "park_reports", list)) {
    cJSON_Delete(list);
    g.oom = true;
  }
  if (!rc && g.oom) rc = ph_fail(err, PH_ENOMEM, "region report: out of memory building the tree");
  if (rc) {
    cJSON_Delete(root);
    return rc;
  }
  *out = root;
  return 0;
}

enum ph_lang ph_report_region_default_lang(const struct ph_hub_config *cfg, const char *const *parks, int n) {
  enum ph_lang l = PH_LANG_EN;
  for (int i = 0; i < n; i++) {
    enum ph_lang p = ph_report_default_lang(ph_hub_config_park(cfg, parks[i]));
    if (i && p != l) return PH_LANG_EN;
    l = p;
  }
  return l;
}

int ph_report_region_parks(const struct ph_hub_config *cfg, const char *list, char *buf, size_t cap,
                           const char **ids, int *n, struct ph_err *err) {
  *n = 0;
  if (!list || strcmp(list, "all") == 0) {
    for (int i = 0; i < cfg->nparks && i < PH_REPORT_REGION_MAX_PARKS; i++) ids[(*n)++] = cfg->parks[i].id;
    return *n ? 0 : ph_fail(err, PH_EINVAL, "no park configured");
  }
  if (snprintf(buf, cap, "%s", list) >= (int)cap) return ph_fail(err, PH_EINVAL, "--parks: list too long");
  char *save = NULL;
  for (char *p = buf, *tok; (tok = strtok_r(p, ",", &save)); p = NULL) {
    if (!ph_id_valid_z(tok)) return ph_fail(err, PH_EINVAL, "--parks: '%s' is not a park id", tok);
    if (*n == PH_REPORT_REGION_MAX_PARKS)
      return ph_fail(err, PH_EINVAL, "--parks: more than %d parks", PH_REPORT_REGION_MAX_PARKS);
    if (!ph_hub_config_park(cfg, tok)) return ph_fail(err, PH_ENOTFOUND, "--parks: park '%s' is not configured", tok);
    ids[(*n)++] = tok;
  }
  return *n ? 0 : ph_fail(err, PH_EINVAL, "--parks: no park named");
}

int ph_report_region_render(const cJSON *rep, enum ph_report_format fmt, enum ph_lang lang, FILE *out) {
  switch (fmt) {
  case PH_REPORT_JSON: return ph_report_render_json(rep, out);
  case PH_REPORT_HTML: return ph_report_render_html_region(rep, lang, out);
  case PH_REPORT_CSV: break;
  }
  int rc = ph_report_render_csv_region(rep, lang, out);
  const cJSON *t;
  cJSON_ArrayForEach(t, get(rep, "park_reports")) {
    if (rc) break;
    fputc('\n', out); /* blocks are separated by one empty line (report_csv.c) */
    rc = ph_report_render_csv(t, lang, out);
  }
  return rc;
}
