/* api_report.c — the annual report over HTTP (issue #18: downloadable from
 * the dashboard):
 *
 *   GET /api/v1/parks/{park}/report?year=YYYY&format=html|csv|json[&lang=zh-CN|en][&bom=0]
 *
 * The same report `parkhub report` writes (report.h: one model, three
 * renderings), of the park's local year, as a download named
 * "<park>_report_<year>.<ext>". Every role that may see the park may read
 * it: it holds nothing a summary does not.
 *
 * Callers: api.c's dispatch (route flag API_RT_OWN_FORMAT: the handler
 * reads format itself, since html is not a format of the data endpoints).
 * Threads: a worker's, inside the request's read transaction (api.c inv. 2),
 * so the report sees one snapshot, as the command's does.
 *
 * Invariants:
 *  1. read-only, through ph_report_build on the worker's connection.
 *  2. the year is the park's local calendar year, 1971..9998; default: the
 *     current one.
 *  3. CSV starts with a UTF-8 BOM unless bom=0, like every CSV of the API.
 *  4. one report at a time per hub: a year of a large park takes seconds of
 *     a worker and holds a read snapshot (which keeps the WAL from being
 *     started over); a second request meanwhile gets 503, not a queue.
 *  5. lang picks the language people read (HTML words, CSV reasons;
 *     report.h); default: the park's (ph_report_default_lang, the one
 *     function the command uses too). A bad value is a 400 with an example.
 *
 * The region's report (issue #21 item 3; report_region.h):
 *
 *   GET /api/v1/report?year=YYYY&format=html|csv|json[&parks=a,b][&lang=][&bom=0]
 *
 * over parks= or every park the token covers, settled as the other
 * answers across parks settle it (api_parks_select: 403 for a park the
 * token may not see, 404 for one the hub does not serve); invariants 1 to 5
 * hold for it too, with the region's default language
 * (ph_report_region_default_lang) and the first park's year as the default
 * year. Named "region_report_<year>.<ext>".
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_args.h"
#include "api_int.h"
#include "parkhub/log.h"
#include "parkhub/timefmt.h"
#include "api_parks.h"
#include "report/report.h"
#include "report/report_region.h"

static const char *const formats[] = {"html", "csv", "json", NULL};
static const char *const ctypes[] = {"text/html; charset=utf-8", "text/csv; charset=utf-8",
                                     "application/json"};
static const enum ph_report_format report_formats[] = {PH_REPORT_HTML, PH_REPORT_CSV, PH_REPORT_JSON};

/* The park's local year now. */
static int64_t this_year(const struct ph_tz *tz) {
  int y = 1970;
  ph_tz_local_date(tz, ph_now_ms(), &y, NULL, NULL, NULL);
  return y;
}

/* Renders tree (a park's, or the region's when region) as fmt into r->out
 * (a memory stream, then one copy). */
static int render(struct api_req *r, const cJSON *tree, int fmt, enum ph_lang lang, bool bom, bool region) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return api_fail(r, 500, NULL, "out of memory");
  int rc = region ? ph_report_region_render(tree, report_formats[fmt], lang, f)
                  : ph_report_render(tree, report_formats[fmt], lang, f);
  if (fclose(f) != 0 && !rc) rc = PH_EIO;
  if (!rc) {
    if (bom && report_formats[fmt] == PH_REPORT_CSV) api_buf_put(&r->out, "\xEF\xBB\xBF", 3);
    api_buf_put(&r->out, text, len);
  }
  free(text); /* open_memstream's buffer is the C library's */
  return rc ? api_fail(r, 500, NULL, "rendering the report failed") : 200;
}

static atomic_flag building = ATOMIC_FLAG_INIT; /* inv. 4 */

static int build(struct api_req *r, int fmt, int64_t year, enum ph_lang lang, bool bom) {
  struct ph_err err = {0};
  struct ph_report_env env = {.refs = r->env->refs};
  cJSON *tree = NULL;
  int rc = ph_report_build(api_db(r), &env, r->park->id, (int)year, ph_now_ms(), &tree, &err);
  if (rc) {
    PH_WARN("api", "report of %s for %lld: %s", r->park->id, (long long)year, err.msg);
    return api_fail(r, 500, NULL, "%s", err.msg); /* the year was checked: what is left is the hub's */
  }
  int status = render(r, tree, fmt, lang, bom, false);
  cJSON_Delete(tree);
  return status;
}

/* format, year (default: the year now in zone tz), bom and lang (default
 * dflt): 0, or a 400 written. */
static int report_args(struct api_req *r, const char *const *allowed, const struct ph_tz *tz, enum ph_lang dflt,
                       int *fmt, int64_t *year, bool *bom, enum ph_lang *lang) {
  struct ph_err err = {0};
  if (api_args_check(r, allowed) || api_arg_word(r, "format", formats, 0, fmt) ||
      api_arg_int(r, "year", 1971, 9998, this_year(tz), year))
    return r->status;
  const char *b = api_arg(r, "bom");
  if (b && api_parse_bit(b, bom, &err)) return api_fail(r, 400, "bom", "bom: %s", err.msg);
  *lang = dflt; /* inv. 5 */
  const char *l = api_arg(r, "lang");
  if (l && ph_lang_parse(l, strlen(l), lang))
    return api_fail(r, 400, "lang", "lang: '%s' is not a language of the report (zh-CN or en), e.g. lang=zh-CN", l);
  return 0;
}

static int done(struct api_req *r, int fmt, const char *name, int64_t year) {
  r->status = 200;
  r->ctype = ctypes[fmt];
  snprintf(r->filename, sizeof r->filename, "%s_report_%lld.%s", name, (long long)year, formats[fmt]);
  return 200;
}

int api_get_report(struct api_req *r) {
  static const char *const allowed[] = {"year", "lang", NULL};
  int fmt = 0;
  int64_t year;
  bool bom = true;
  enum ph_lang lang;
  if (report_args(r, allowed, r->tz, ph_report_default_lang(r->park), &fmt, &year, &bom, &lang)) return r->status;
  if (atomic_flag_test_and_set(&building))
    return api_fail(r, 503, NULL, "another report is being built; try again in a few seconds");
  int status = build(r, fmt, year, lang, bom);
  atomic_flag_clear(&building);
  return status != 200 ? status : done(r, fmt, r->park->id, year);
}

static int build_region(struct api_req *r, const char *const *ids, int n, int fmt, int64_t year, enum ph_lang lang,
                        bool bom) {
  struct ph_err err = {0};
  struct ph_report_env env = {.refs = r->env->refs};
  cJSON *tree = NULL;
  int rc = ph_report_region_build(api_db(r), &env, ids, n, (int)year, ph_now_ms(), &tree, &err);
  if (rc) {
    PH_WARN("api", "region report for %lld: %s", (long long)year, err.msg);
    return api_fail(r, 500, NULL, "%s", err.msg); /* parks and year were checked: what is left is the hub's */
  }
  int status = render(r, tree, fmt, lang, bom, true);
  cJSON_Delete(tree);
  return status;
}

int api_get_region_report(struct api_req *r) {
  static const char *const allowed[] = {"year", "lang", "parks", NULL};
  const struct ph_hub_config *cfg = r->env->refs->cfg;
  struct park_set ps;
  if (api_parks_select(r, &ps)) return r->status;
  if (ps.n == 0) return api_fail(r, 403, "parks", "this token may not see any park of this hub");
  const char *ids[PH_HUB_MAX_PARKS];
  for (int k = 0; k < ps.n; k++) ids[k] = cfg->parks[ps.idx[k]].id;
  int fmt = 0;
  int64_t year;
  bool bom = true;
  enum ph_lang lang;
  if (report_args(r, allowed, r->env->refs->tz[ps.idx[0]], ph_report_region_default_lang(cfg, ids, ps.n), &fmt, &year,
                  &bom, &lang))
    return r->status;
  if (atomic_flag_test_and_set(&building)) /* inv. 4: a region is several parks' reports */
    return api_fail(r, 503, NULL, "another report is being built; try again in a few seconds");
  int status = build_region(r, ids, ps.n, fmt, year, lang, bom);
  atomic_flag_clear(&building);
  return status != 200 ? status : done(r, fmt, "region", year);
}
