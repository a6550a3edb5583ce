/* report_region_html.c — the region report (report_region.h) as one
 * printable HTML page: a title block, the region section (the PCDD/F
 * inventory totals, emissions and compliance summed over the parks), then
 * each park's own report exactly as its park page shows it, each starting
 * on a new printed page.
 *
 * Callers: ph_report_region_render. Threads: the caller's. Owns nothing.
 *
 * Invariants (those of report_html.c hold: every text escaped, a null
 * figure as "n/a (reason)"):
 *  1. A regional total that is not available says why (the parks without
 *     it, report_region.c inv. 3); its partial sum, when there is one, is
 *     shown beside it labelled "partial sum" with the parks it covers —
 *     never in the total's place.
 */
#include <stdio.h>

#include "parkhub/na_reasons.h"
#include "report_html.h"
#include "report_region.h"

static const struct col emission_cols[] = {
    {"pollutant", "Pollutant", NULL, F_ID, "name", F_TEXT, NULL},
    {"mass_t_parks", "Parks with the figure", NULL, F_INT, NULL, 0, NULL},
    {"points", "Points", NULL, F_INT, NULL, 0, NULL},
    {"mass_t", "Mass emitted", "t", F_NUM, "mass_t_partial", F_NUM, NULL},
    {"hours_expected", "Point-hours expected", NULL, F_INT, NULL, 0, NULL},
    {"hours_used", "Point-hours used", NULL, F_INT, NULL, 0, NULL},
    {"gap_share", "Gap share", NULL, F_PCT, NULL, 0, NULL},
};
static const struct col compliance_cols[] = {
    {"pollutant", "Pollutant", NULL, F_ID, "name", F_TEXT, NULL},
    {"hours_valid", "Valid hours", NULL, F_INT, NULL, 0, NULL},
    {"hour_compliance", "Compliance rate (hours)", NULL, F_PCT, NULL, 0, NULL},
    {"exceedance_hours", "Exceedance hours", NULL, F_BAD, NULL, 0, NULL},
    {"days_valid", "Valid days", NULL, F_INT, NULL, 0, NULL},
    {"day_compliance", "Compliance rate (days)", NULL, F_PCT, NULL, 0, NULL},
    {"exceedance_days", "Exceedance days", NULL, F_BAD, NULL, 0, NULL},
};

static void id_list(FILE *f, const cJSON *a) {
  const cJSON *it;
  int i = 0;
  cJSON_ArrayForEach(it, a) {
    if (!cJSON_IsString(it)) continue;
    if (i++) fputs(", ", f);
    html_esc(f, it->valuestring);
  }
}

/* inv. 1 */
static void total_row(FILE *f, const cJSON *pc, const char *label, const char *key) {
  char k[96];
  fputs("<tr><th>", f);
  html_esc(f, html_w(label));
  fputs("</th><td class=\"num\">", f);
  html_value(f, pc, key, F_NUM, "g TEQ");
  fputs("</td><td>", f);
  snprintf(k, sizeof k, "%s_partial", key);
  if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(pc, k))) {
    fprintf(f, "%s ", html_w("partial sum, parks"));
    snprintf(k, sizeof k, "%s_partial_parks", key);
    id_list(f, cJSON_GetObjectItemCaseSensitive(pc, k));
    fputs(": ", f);
    snprintf(k, sizeof k, "%s_partial", key);
    html_value(f, pc, k, F_NUM, "g TEQ");
  }
  fputs("</td></tr>\n", f);
}

static void title_block(FILE *f, const cJSON *rep) {
  const cJSON *y = cJSON_GetObjectItemCaseSensitive(rep, "year");
  fputs("<h1>", f);
  fprintf(f, html_w("Regional annual environmental report %d"), cJSON_IsNumber(y) ? (int)y->valuedouble : 0);
  fprintf(f, "</h1>\n<table class=\"kv meta\">\n<tr><th>%s</th><td>", html_w("Parks"));
  id_list(f, cJSON_GetObjectItemCaseSensitive(rep, "park_ids"));
  fprintf(f, "</td></tr>\n<tr><th>%s</th><td>", html_w("Generated"));
  html_esc(f, html_sget(rep, "generated_at_utc"));
  fprintf(f, " %s ", html_w("by hub"));
  html_esc(f, html_sget(rep, "hub_id"));
  fprintf(f, "</td></tr>\n<tr><th>%s</th><td>", html_w("Enterprises"));
  html_value(f, cJSON_GetObjectItemCaseSensitive(rep, "region"), "enterprises", F_INT, NULL);
  fputs("</td></tr>\n</table>\n", f);
}

static void region_section(FILE *f, const cJSON *rep) {
  const cJSON *reg = cJSON_GetObjectItemCaseSensitive(rep, "region");
  const cJSON *pc = cJSON_GetObjectItemCaseSensitive(reg, "pcdd_f");
  fprintf(f, "<section>\n<h2>%s</h2>\n", html_w("Region summary"));
  html_heading(f, "h3", "PCDD/F (dioxin) inventory");
  fputs("<table class=\"kv\">\n", f);
  total_row(f, pc, "Measured", "measured_g_teq");
  total_row(f, pc, "Estimated, air", "estimated_air_g_teq");
  total_row(f, pc, "Estimated, residue", "estimated_residue_g_teq");
  total_row(f, pc, "Current (air)", "current_g_teq");
  total_row(f, pc, "Baseline", "baseline_g_teq");
  total_row(f, pc, "Reduction", "reduction_g_teq");
  fputs("</table>\n", f);
  html_heading(f, "h3", "Emissions");
  TABLE(f, cJSON_GetObjectItemCaseSensitive(reg, "emissions"), emission_cols, PH_NA(NO_DATA));
  html_note(f, "A mass that is not available for every park is not summed; the figure under it, when there is one, "
               "is the partial sum of the parks that give it.");
  html_heading(f, "h3", "Compliance");
  TABLE(f, cJSON_GetObjectItemCaseSensitive(reg, "compliance"), compliance_cols, PH_NA(NO_DATA));
  html_notes(f, rep);
  fputs("</section>\n", f);
}

int ph_report_render_html_region(const cJSON *rep, enum ph_lang lang, FILE *f) {
  const cJSON *y = cJSON_GetObjectItemCaseSensitive(rep, "year");
  html_page_open(f, lang);
  fprintf(f, html_w("Regional annual environmental report %d"), cJSON_IsNumber(y) ? (int)y->valuedouble : 0);
  html_page_body(f);
  title_block(f, rep);
  region_section(f, rep);
  const cJSON *t;
  cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(rep, "park_reports")) {
    fputs("<div class=\"ent\"></div>\n", f); /* a new printed page for each park */
    html_park_report(f, t);
  }
  return html_page_close(f);
}
