/* report_tree.c — reading the report's tree as it is: the reason a figure
 * is not available (ph_report_na) and the JSON rendering, which prints the
 * tree unchanged (report.h).
 *
 * Callers: report_html.c, report.c (ph_report_render), tests. Threads: the
 * caller's. Owns nothing.
 *
 * Why a file of its own: the renderers need ph_report_na and report.c
 * dispatches to the renderers; with it here the calls run one way,
 * report.c → renderers → report_tree.c, and no renderer calls back into
 * report.c.
 *
 * Invariants:
 *  1. ph_report_na never returns NULL: PH_NA(NOT_AVAILABLE) stands in for a
 *     missing or non-string "<key>_na".
 */
#include <stdio.h>

#include "report/report.h"
#include "parkhub/na_reasons.h"

const char *ph_report_na(const cJSON *o, const char *key) {
  char k[128];
  snprintf(k, sizeof k, "%s_na", key);
  const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(w) ? w->valuestring : PH_NA(NOT_AVAILABLE);
}

int ph_report_render_json(const cJSON *report, FILE *out) {
  char *text = cJSON_Print(report);
  if (!text) return PH_ENOMEM;
  int ok = fputs(text, out) >= 0 && fputc('\n', out) != EOF;
  cJSON_free(text);
  return ok ? 0 : PH_EIO;
}
