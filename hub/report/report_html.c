/* report_html.c — the report tree (report_json.c) as one printable HTML
 * page a regulator can file.
 *
 * Callers: ph_report_render. Threads: the caller's. Owns nothing.
 * This file is the page frame; the sections and the tables are in
 * report_html_sections.c and report_html_table.c (report_html.h).
 *
 * Page: a title block (park, year, standard, generation time, how far the
 * CEMS data are processed), the park summary, then one section per
 * enterprise starting on a new printed page. Inline CSS only (A4, print
 * margins, page breaks, a print stylesheet that keeps every table inside
 * the printable width); no script, no external resource, no web font.
 * Language: every word through html_w / html_reason (report_words.c) in
 * the language given to ph_report_render_html, and <html lang> says it.
 *
 * Invariants:
 *  1. Every text from the tree goes through html_esc() (names come from the
 *     hub config and may hold anything, "<script>" included).
 *  2. A null figure prints "n/a (reason)" from its "<key>_na" sibling;
 *     nothing is computed here, only formatted (units, significant digits,
 *     percentages of fractions).
 */
#include <stdio.h>

#include "report/report.h"
#include "report_html.h"

static const struct kv ent_kv[] = {
    {"id", "Enterprise id", NULL, F_TEXT},
    {"sector", "Sector (GB 31574-2015)", NULL, F_TEXT},
    {"plant_class", "Plant class", NULL, F_TEXT},
    {"class_since", "Class since", NULL, F_TEXT},
    {"special_limits", "Special limits (Table 4)", NULL, F_BOOL},
    {"standard", "Standard", NULL, F_TEXT},
    {"standard_loaded", "Standard loaded", NULL, F_BOOL},
    {"toolkit_class", "UNEP Toolkit class", NULL, F_TEXT},
    {"baseline_year", "Baseline year", NULL, F_INT},
};

/* ------------------------------------------------------------ page */

static const char css[] =
    "@page{size:A4;margin:14mm 12mm}"
    "*{box-sizing:border-box;-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "body{font:9.5pt/1.35 'DejaVu Sans','Liberation Sans','WenQuanYi Micro Hei','Noto Sans CJK SC','Microsoft YaHei',"
    "Arial,sans-serif;color:#111;margin:0 auto;max-width:186mm}"
    "h1{font-size:17pt;margin:0 0 2pt}h2{font-size:13.5pt;margin:14pt 0 4pt;border-bottom:1.5pt solid #222;"
    "padding-bottom:2pt}h3{font-size:11pt;margin:12pt 0 3pt;color:#123}h4{font-size:9.5pt;margin:8pt 0 2pt}"
    "h2,h3,h4{break-after:avoid;page-break-after:avoid}"
    ".sub{color:#555;font-size:8pt}.u{font-weight:normal;color:#444}"
    "table{border-collapse:collapse;width:100%;margin:2pt 0 6pt;font-size:8.5pt}"
    "th,td{border:0.6pt solid #999;padding:2pt 4pt;vertical-align:top;text-align:left;overflow-wrap:anywhere}"
    "thead th{background:#e8ecef}th.num{text-align:right}td.num{text-align:right;white-space:nowrap}"
    "table.kv{width:auto;min-width:60%}table.kv th{background:#f3f5f6;font-weight:normal;width:16em}"
    "tr{page-break-inside:avoid;break-inside:avoid}thead{display:table-header-group}"
    ".na{color:#8a4b00;font-style:italic}.bad{color:#b00000}"
    ".note{font-size:8pt;color:#444;margin:0 0 6pt}"
    ".nw{white-space:nowrap}.meta th{width:14em}.running{font-size:8pt;color:#666;border-bottom:0.5pt solid #bbb;margin-bottom:4pt}"
    ".ent{page-break-before:always;break-before:page}"
    "ol.notes{font-size:8pt;color:#333;padding-left:16pt}"
    /* print: the page's content width is the limit (A4 less the margins); a
     * wide table shrinks its text and lets ids and numbers wrap rather than
     * run past the edge (the compliance tables' last column was cut off) */
    "@media print{body{max-width:none}table{font-size:7.5pt}th,td{padding:1pt 2.5pt}"
    ".nw,td.num{white-space:normal}.sub{font-size:7pt}table.kv{font-size:8pt}}"
    "@media screen{body{margin:16px auto;padding:0 12px}.ent{border-top:3px double #999;margin-top:28px}}";

/* "gb31574-2015" → "GB 31574-2015" */
static void standard_name(FILE *f, const char *id) {
  size_t n = 0;
  while (id[n] >= 'a' && id[n] <= 'z') n++;
  for (size_t i = 0; i < n; i++) fputc(id[i] - 'a' + 'A', f);
  if (n && id[n]) fputc(' ', f);
  html_esc(f, id + n);
}

static void standards(FILE *f, const cJSON *report) {
  const cJSON *it;
  int i = 0;
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(report, "standards")) {
    if (!cJSON_IsString(it)) continue;
    if (i++) fputs(", ", f);
    standard_name(f, it->valuestring);
  }
  if (!i) fputs(html_w("none"), f);
}

static void title_block(FILE *f, const cJSON *rep) {
  const cJSON *y = cJSON_GetObjectItemCaseSensitive(rep, "year");
  int year = cJSON_IsNumber(y) ? (int)y->valuedouble : 0;
  fputs("<h1>", f);
  fprintf(f, html_w("Annual environmental report %d"), year);
  fputs("</h1>\n<p style=\"font-size:12pt;margin:0 0 8pt\"><b>", f);
  html_esc(f, html_sget(rep, "park_name"));
  fprintf(f, "</b> (%s ", html_w("park"));
  html_esc(f, html_sget(rep, "park"));
  fprintf(f, ") &#183; %s ", html_w("standard"));
  standards(f, rep);
  fprintf(f, "</p>\n<table class=\"kv meta\">\n<tr><th>%s</th><td>", html_w("Reporting period"));
  html_value(f, rep, "period_from", F_TIME, NULL);
  fprintf(f, " %s ", html_w("to"));
  html_value(f, rep, "period_to", F_TIME, NULL);
  fprintf(f, " (%s, ", html_w("local time"));
  html_esc(f, html_sget(rep, "tz"));
  fprintf(f, ")</td></tr>\n<tr><th>%s</th><td>", html_w("Generated"));
  html_value(f, rep, "generated_at", F_TIME, NULL);
  fprintf(f, " %s (", html_w("local"));
  html_esc(f, html_sget(rep, "generated_at_utc"));
  fprintf(f, ") %s ", html_w("by hub"));
  html_esc(f, html_sget(rep, "hub_id"));
  fprintf(f, "</td></tr>\n<tr><th>%s</th><td>", html_w("CEMS data processed up to"));
  html_value(f, rep, "cems_closed_until", F_TIME, NULL);
  if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(rep, "cems_data_through"))) {
    fprintf(f, "; %s ", html_w("emissions and compliance cover the hours before"));
    html_value(f, rep, "cems_data_through", F_TIME, NULL);
    if (!html_is_true(rep, "cems_year_complete"))
      fprintf(f, " <b class=\"bad\">%s</b>", html_w("(year not complete)"));
  }
  fprintf(f, "</td></tr>\n<tr><th>%s</th><td>", html_w("Emission factors"));
  html_esc(f, html_sget(rep, "factor_table_title"));
  fputs(" <span class=\"sub\">(", f);
  html_esc(f, html_sget(rep, "factor_table"));
  fprintf(f, ")</span></td></tr>\n<tr><th>%s</th><td>", html_w("Enterprises"));
  html_value(f, rep, "enterprises_count", F_INT, NULL);
  fputs("</td></tr>\n</table>\n", f);
}

void html_notes(FILE *f, const cJSON *rep) {
  html_heading(f, "h3", "Methods");
  fputs("<ol class=\"notes\">\n", f);
  const cJSON *it;
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(rep, "notes")) {
    fputs("<li>", f);
    html_reason(f, cJSON_IsString(it) ? it->valuestring : "");
    fputs("</li>\n", f);
  }
  fputs("</ol>\n", f);
}

/* A scope's sections in page order; the park has no monitoring period and
 * its own PCDD/F table. */
static void sections(FILE *f, const cJSON *scope, bool park) {
  if (!park) html_monitoring_period(f, scope);
  html_emissions(f, scope, park);
  html_compliance(f, scope);
  if (park)
    html_pcdd_park(f, scope);
  else
    html_pcdd_ent(f, scope);
  html_monitoring(f, scope, park);
  html_water(f, scope, park);
  html_indicators(f, scope);
}

void html_page_open(FILE *f, enum ph_lang lang) {
  html_lang_set(lang); /* report_html_table.c inv. 3 */
  fprintf(f, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n<title>", ph_lang_code(lang));
}

void html_page_body(FILE *f) { fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n", css); }

int html_page_close(FILE *f) {
  fputs("</body>\n</html>\n", f);
  html_lang_set(PH_LANG_EN);
  return ferror(f) ? PH_EIO : 0;
}

void html_park_report(FILE *f, const cJSON *rep) {
  const cJSON *park = cJSON_GetObjectItemCaseSensitive(rep, "park_summary");
  const cJSON *y = cJSON_GetObjectItemCaseSensitive(rep, "year");
  int year = cJSON_IsNumber(y) ? (int)y->valuedouble : 0;
  title_block(f, rep);

  fprintf(f, "<section>\n<h2>%s", html_w("Park summary: "));
  html_esc(f, html_sget(rep, "park_name"));
  fputs("</h2>\n", f);
  sections(f, park, true);
  html_notes(f, rep);
  fputs("</section>\n", f);

  const cJSON *e;
  cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(rep, "enterprises")) {
    fputs("<section class=\"ent\">\n<div class=\"running\">", f);
    html_esc(f, html_sget(rep, "park_name"));
    fputs(" &#183; ", f);
    fprintf(f, html_w("annual report %d"), year);
    fputs(" &#183; ", f);
    html_esc(f, html_sget(e, "id"));
    fputs("</div>\n<h2>", f);
    html_esc(f, html_sget(e, "name"));
    fputs("</h2>\n", f);
    KV(f, e, ent_kv);
    sections(f, e, false);
    fputs("</section>\n", f);
  }
}

int ph_report_render_html(const cJSON *rep, enum ph_lang lang, FILE *f) {
  const cJSON *y = cJSON_GetObjectItemCaseSensitive(rep, "year");
  int year = cJSON_IsNumber(y) ? (int)y->valuedouble : 0;
  html_page_open(f, lang);
  fprintf(f, html_w("Annual environmental report %d"), year);
  fputs(" &#8212; ", f);
  html_esc(f, html_sget(rep, "park_name"));
  fputs(" (", f);
  html_esc(f, html_sget(rep, "park"));
  fputs(")", f);
  html_page_body(f);
  html_park_report(f, rep);
  return html_page_close(f);
}
