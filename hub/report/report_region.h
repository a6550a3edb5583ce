/* report_region.h — the annual report of a region: several parks of one hub
 * in one document (issue #21 item 3; docs/report.md "Region report").
 *
 *   parkhub report --config hub.json --parks a,b|all --year Y --format …
 *   GET /api/v1/report?year=Y&format=html|csv|json[&parks=a,b][&lang=]
 *
 * Tree: { meta (report, format_version, hub_id, year, generated_at_utc,
 *         parks_count, park_ids, notes),
 *         "region": { parks, enterprises, "pcdd_f": {totals},
 *                     "emissions": [row per pollutant],
 *                     "compliance": [row per pollutant] },
 *         "park_reports": [ the park's own report tree (report.h), … ] }
 *
 * Each park's section IS that park's report (ph_report_build, unchanged),
 * so its figures equal the park report's; the region section is computed
 * from those trees only (report_region.c inv. 1 to 3).
 *
 * Threads: the caller's. Memory: as report.h.
 */
#ifndef HUB_REPORT_REGION_H
#define HUB_REPORT_REGION_H

#include "report/report.h"

#define PH_REPORT_REGION_MAX_PARKS PH_HUB_MAX_PARKS

/* The region report of parks[0..n) (borrowed ids, each configured, no
 * twice; 1 ≤ n ≤ PH_REPORT_REGION_MAX_PARKS) for each park's local year
 * `year`. *out is new (cJSON_Delete). PH_EINVAL: no park, too many, a park
 * twice, year out of range; PH_ENOTFOUND: a park not configured; else as
 * ph_report_build. err says which. */
int ph_report_region_build(sqlite3 *db, const struct ph_report_env *env, const char *const *parks, int n, int year,
                           int64_t now_ms, cJSON **out, struct ph_err *err);

/* Renders a region tree: JSON as it is; CSV as the region's blocks, then
 * each park's report as ph_report_render_csv writes it; HTML as one page,
 * the region section then each park's report. 0 or PH_EIO / PH_ENOMEM. */
int ph_report_region_render(const cJSON *region, enum ph_report_format fmt, enum ph_lang lang, FILE *out);

/* The language of a region report when none is asked for: the parks'
 * default language (ph_report_default_lang) when they agree, else English
 * (no park's language is preferred over another's). */
enum ph_lang ph_report_region_default_lang(const struct ph_hub_config *cfg, const char *const *parks, int n);

/* "a,b,c" → ids in buf (the ids point into buf); "all" or NULL → every
 * configured park. PH_EINVAL with err for an empty item, a bad id, too
 * many; PH_ENOTFOUND for a park not configured. */
int ph_report_region_parks(const struct ph_hub_config *cfg, const char *list, char *buf, size_t cap,
                           const char **ids, int *n, struct ph_err *err);

/* CSV of the region section only (report_csv.c); the caller adds the parks. */
int ph_report_render_csv_region(const cJSON *region_report, enum ph_lang lang, FILE *out);
/* HTML of the whole region tree (report_region_html.c). */
int ph_report_render_html_region(const cJSON *region_report, enum ph_lang lang, FILE *out);

#endif
