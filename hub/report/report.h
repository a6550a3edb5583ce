/* report.h — the annual report of a park: `parkhub report --config hub.json
 * --park P --year Y --format json|csv|html [--lang zh-CN|en] [--out FILE]` (docs/report.md).
 *
 * Per enterprise and for the park, for the park's local calendar year Y:
 * emissions (t per pollutant, with the share of gap hours), compliance per
 * pollutant with a limit (valid hours, rate, exceedance hours and days,
 * worst value and when, data availability), the PCDD/F inventory (measured,
 * estimated, baseline, reduction, the factors used with their source and
 * whether they are verified), the stack-test plan, and the material balance
 * with its indicators and their change against the baseline year.
 *
 * One source of truth: ph_report_build makes a cJSON tree from the
 * computation modules (cems, compliance, emission_mass, inventory,
 * indicators); the CSV and HTML renderers only read that tree.
 *
 * Not-available figures: a figure that cannot be given is JSON null, and a
 * sibling key "<key>_na" holds the reason; renderers print "n/a (reason)".
 * A figure is never a silent 0.
 *
 * Read-only: the report opens the hub database with SQLITE_OPEN_READONLY on
 * a connection of its own, reads everything in one read transaction (one
 * snapshot while the hub writes), and never runs the CEMS update: it
 * reports what the CEMS tables hold up to ph_cems_closed_until and says
 * that instant.
 *
 * Threads: the caller's. Memory: see each function.
 */
#ifndef PARKHUB_REPORT_H
#define PARKHUB_REPORT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "parkhub/catalog.h"
#include "parkhub/err.h"
#include "parkhub/factors.h"
#include "parkhub/lang.h"
#include "config/refs.h"
#include "parkhub/limits.h"
#include "parkhub/tz.h"

#define PH_REPORT_VERSION 1 /* "format_version" of the JSON tree */

enum ph_report_format { PH_REPORT_JSON, PH_REPORT_CSV, PH_REPORT_HTML };

/* What a report is computed with; everything borrowed. */
struct ph_report_env {
  const struct ph_refs *refs; /* config, catalogue, factors, standards (refs.h) */
};

/* The report of a configured park for the local year `year` as of now_ms
 * (generation time; the stack-test plan's "today"). db: a connection on the
 * hub database (read-only is enough); the park's zone comes from
 * env->refs. *out is new
 * (cJSON_Delete). PH_ENOTFOUND: park not configured; PH_EINVAL: year
 * outside 1971..9998; PH_EDB; PH_ENOMEM. err says which. */
int ph_report_build(sqlite3 *db, const struct ph_report_env *env, const char *park, int year, int64_t now_ms,
                    cJSON **out, struct ph_err *err);

/* Renderers: read the tree (borrowed), write to out in the language lang
 * (HTML: every word people read; CSV: the n/a reasons and the legend block
 * of column labels, the header keeps the JSON keys; JSON: English keys and
 * reasons, whatever lang). 0 or PH_EIO. */
int ph_report_render_json(const cJSON *report, FILE *out);
int ph_report_render_csv(const cJSON *report, enum ph_lang lang, FILE *out);
int ph_report_render_html(const cJSON *report, enum ph_lang lang, FILE *out);
int ph_report_render(const cJSON *report, enum ph_report_format fmt, enum ph_lang lang, FILE *out);

/* The language of a park's report when none is asked for. The one place
 * that decides it: for now the park's zone (ph_lang_for_tz); the park's own
 * "lang" key once the config has one. */
enum ph_lang ph_report_default_lang(const struct ph_hub_park *park);

/* "json", "csv", "html" → *fmt; PH_EINVAL otherwise. */
int ph_report_format_parse(const char *s, enum ph_report_format *fmt);

/* The reason a figure is not available: the string at "<key>_na" of obj,
 * or "not available" when there is none. Borrowed from obj. */
const char *ph_report_na(const cJSON *obj, const char *key);

/* The whole command: load the config, find the park, open the database
 * read-only, load zone, catalogue, factors and limits, build, render to
 * out_path (NULL or "-": stdout; a file is written whole or not at all).
 * Returns 0, PH_EINVAL for a bad argument (park not configured, year out of
 * range: the command line's fault), or another code (config, database,
 * I/O); err says what and why. */
struct ph_report_args {
  const char *config, *park, *out_path;
  const char *parks; /* instead of park: "a,b" or "all", the region report (report_region.h) */
  int year;
  enum ph_report_format format;
  bool lang_set; /* false: ph_report_default_lang of the park */
  enum ph_lang lang;
  int64_t now_ms; /* 0: the wall clock */
};
int ph_report_run(const struct ph_report_args *a, struct ph_err *err);

#endif
