/* report_html_sections.c — the HTML renderer's sections (report_html.h):
 * emissions, water, compliance, PCDD/F (enterprise and park), the
 * monitoring period, the stack-test plan and the indicators, each as a
 * heading and its tables, with the column tables they use.
 *
 * Callers: report_html.c. Threads: the caller's. Owns nothing.
 *
 * Invariants (report_html.c inv. 1 and 2):
 *  1. A section without rows prints its scope's reason ("<section>_na")
 *     or a default, never an empty table.
 *  2. Only formatting: every figure comes from the tree as it is.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "report/report.h"
#include "parkhub/na_reasons.h"
#include "report_html.h"

static const struct col emission_cols[] = {
    {"pollutant", "Pollutant", NULL, F_ID, "name", F_TEXT, NULL},
    {"points", "Points", NULL, F_INT, NULL, 0, NULL},
    {"mass_t", "Mass emitted", "t", F_NUM, NULL, 0, NULL},
    {"hours_expected", "Point-hours expected", NULL, F_INT, NULL, 0, NULL},
    {"hours_used", "Point-hours used", NULL, F_INT, NULL, 0, NULL},
    {"hours_stopped", "Stopped point-hours", NULL, F_INT, NULL, 0, NULL},
    {"gap_share", "Gap share", NULL, F_PCT, NULL, 0, NULL},
};
static const struct col park_emission_cols[] = {
    {"pollutant", "Pollutant", NULL, F_ID, "name", F_TEXT, NULL},
    {"enterprises", "Enterprises", NULL, F_INT, NULL, 0, NULL},
    {"points", "Points", NULL, F_INT, NULL, 0, NULL},
    {"mass_t", "Mass emitted", "t", F_NUM, NULL, 0, NULL},
    {"hours_expected", "Point-hours expected", NULL, F_INT, NULL, 0, NULL},
    {"hours_used", "Point-hours used", NULL, F_INT, NULL, 0, NULL},
    {"hours_stopped", "Stopped point-hours", NULL, F_INT, NULL, 0, NULL},
    {"gap_share", "Gap share", NULL, F_PCT, NULL, 0, NULL},
};

void html_emissions(FILE *f, const cJSON *scope, bool park) {
  html_heading(f, "h3", "Emissions");
  const cJSON *rows = cJSON_GetObjectItemCaseSensitive(scope, "emissions");
  if (park)
    TABLE(f, rows, park_emission_cols, html_why_empty(scope, "emissions_na", PH_NA(NO_DATA)));
  else
    TABLE(f, rows, emission_cols, html_why_empty(scope, "emissions_na", PH_NA(NO_DATA)));
  if (cJSON_GetArraySize(rows))
    html_note(f, "Mass over the point-hours with both a valid hourly concentration and a valid hourly flow; expected "
                "point-hours are those of each point's monitoring period, less the hours the plant was stopped (they "
                "released nothing); the gap share is the share of expected point-hours without them (not filled).");
}

static const struct col water_outlet_cols[] = {
    {"point", "Outlet", NULL, F_ID, "discharge", F_TEXT, NULL},
    {"volume_m3", "Volume discharged", "m3", F_NUM, NULL, 0, NULL},
    {"flow_hours", "Valid flow hours", NULL, F_INT, NULL, 0, NULL},
    {"flow_days", "Days with flow", NULL, F_INT, NULL, 0, NULL},
};
static const struct col water_cols[] = {
    {"point", "Outlet", NULL, F_ID, "discharge", F_TEXT, NULL},
    {"pollutant", "Pollutant", NULL, F_ID, "name", F_TEXT, NULL},
    {"limit", "Limit", "@unit", F_RANGE, NULL, 0, NULL},
    {"days_valid", "Valid days", NULL, F_INT, NULL, 0, NULL},
    {"mean", "Mean of daily means", "@unit", F_NUM, NULL, 0, NULL},
    {"day_compliance", "Day compliance", NULL, F_PCT, NULL, 0, NULL},
    {"days_over", "Days over", NULL, F_BAD, NULL, 0, NULL},
    {"hours_out_of_range", "Hours out of range", NULL, F_BAD, NULL, 0, NULL},
    {"worst_day_mean", "Worst daily mean", "@unit", F_NUM, "worst_day_date", F_ID, NULL},
    {"load_kg", "Load", "kg", F_NUM, "load_kg_per_day", F_NUM, NULL},
};
static const struct col park_water_cols[] = {
    {"pollutant", "Pollutant", NULL, F_ID, NULL, 0, NULL},
    {"enterprises", "Enterprises", NULL, F_INT, NULL, 0, NULL},
    {"outlets", "Outlets", NULL, F_INT, NULL, 0, NULL},
    {"days_valid", "Valid days", NULL, F_INT, NULL, 0, NULL},
    {"day_compliance", "Day compliance", NULL, F_PCT, NULL, 0, NULL},
    {"days_over", "Days over", NULL, F_BAD, NULL, 0, NULL},
    {"hours_out_of_range", "Hours out of range", NULL, F_BAD, NULL, 0, NULL},
    {"load_kg", "Load", "kg", F_NUM, NULL, 0, NULL},
};

/* The water section (report_water.c): outlets, then one row per outlet and pollutant. */
void html_water(FILE *f, const cJSON *scope, bool park) {
  html_heading(f, "h3", "Water outlets");
  const cJSON *w = cJSON_GetObjectItemCaseSensitive(scope, "water");
  const char *none = html_why_empty(scope, "water_na", PH_NA(NO_WATER_OUTLET));
  if (!w || html_get_str(scope, "water_na")) {
    fputs("<p class=\"na\">", f);
    html_reason(f, none);
    fputs("</p>\n", f);
    return;
  }
  if (park) {
    static const struct kv park_kv[] = {{"outlets", "Outlets", NULL, F_INT},
                                        {"volume_m3", "Volume discharged", "m3", F_NUM}};
    KV(f, w, park_kv);
    TABLE(f, cJSON_GetObjectItemCaseSensitive(w, "pollutants"), park_water_cols, PH_NA(NO_WATER_POLLUTANT));
  } else {
    TABLE(f, cJSON_GetObjectItemCaseSensitive(w, "outlets_list"), water_outlet_cols, none);
    TABLE(f, cJSON_GetObjectItemCaseSensitive(w, "pollutants"), water_cols, PH_NA(NO_WATER_POLLUTANT));
  }
  html_note(f, "Daily means of valid days (20 valid hours) against the standard's water limit for the outlet's "
                "discharge type; pH is judged on each valid hourly mean. Only limit values verified from the "
                "standard's text are used. Load = &#931; hourly concentration &#215; hourly flow over the hours with "
                "both valid (kg; per day: over the days with a load).");
}

static const struct col hour_cols[] = {
    {"pollutant", "Pollutant", NULL, F_ID, "name", F_TEXT, NULL},
    {"limit", "Limit", "@unit", F_RANGE, NULL, 0, NULL},
    {"hours_valid", "Valid hours", NULL, F_INT, NULL, 0, NULL},
    {"hour_compliance", "Compliance rate", NULL, F_PCT, NULL, 0, NULL},
    {"exceedance_hours", "Exceedance hours", NULL, F_BAD, NULL, 0, NULL},
    {"worst_hour_mean", "Worst hourly mean", "@unit", F_NUM, "worst_hour_time", F_TIME, NULL},
    {"worst_hour_point", "at", NULL, F_ID, "worst_hour_enterprise", F_ID, NULL},
    {"hour_availability", "Data availability", NULL, F_PCT, NULL, 0, NULL},
};
static const struct col day_cols[] = {
    {"pollutant", "Pollutant", NULL, F_ID, "name", F_TEXT, NULL},
    {"limit", "Limit", "@unit", F_RANGE, NULL, 0, NULL},
    {"days_valid", "Valid days", NULL, F_INT, NULL, 0, NULL},
    {"day_compliance", "Compliance rate", NULL, F_PCT, NULL, 0, NULL},
    {"exceedance_days", "Exceedance days", NULL, F_BAD, NULL, 0, NULL},
    {"worst_day_converted", "Worst daily mean (converted)", "@unit", F_NUM, "worst_day_date", F_ID, NULL},
    {"worst_day_point", "at", NULL, F_ID, "worst_day_enterprise", F_ID, NULL},
    {"day_availability", "Data availability", NULL, F_PCT, NULL, 0, NULL},
};

void html_compliance(FILE *f, const cJSON *scope) {
  html_heading(f, "h3", "Compliance");
  const cJSON *rows = cJSON_GetObjectItemCaseSensitive(scope, "compliance");
  const char *empty = html_why_empty(scope, "compliance_na", PH_NA(NO_DATA));
  if (cJSON_GetArraySize(rows) == 0) {
    TABLE(f, rows, hour_cols, empty);
    return;
  }
  html_heading(f, "h4", "Hourly means");
  TABLE(f, rows, hour_cols, empty);
  html_heading(f, "h4", "Daily means");
  TABLE(f, rows, day_cols, empty);
  html_note(f, "Compliance = valid means within the limit / valid means with a limit in force. Daily means are "
                "judged after the benchmark exhaust-volume conversion (GB 31574-2015 &#167;4.2.7). The worst mean is "
                "the one with the highest ratio to its limit. Data availability = valid means / (closed periods "
                "&#215; points).");
}

/* One line of the PCDD/F summary: label, the figure, a note (HTML), and
 * the "<key without _g_teq>_note" of the tree if any (text, highlighted). */
static void pcdd_line(FILE *f, const cJSON *pc, const char *label, const char *key, const char *method_key,
                      const char *note) {
  char nk[96];
  snprintf(nk, sizeof nk, "%.*s_note", (int)(strlen(key) > 6 ? strlen(key) - 6 : strlen(key)), key);
  const char *warn = html_get_str(pc, nk);
  if (!cJSON_GetObjectItemCaseSensitive(pc, key)) return;
  fputs("<tr><th>", f);
  html_esc(f, html_w(label));
  fputs("</th><td class=\"num\">", f);
  html_value(f, pc, key, F_NUM, "g TEQ");
  fputs("</td><td>", f);
  if (method_key) {
    html_esc(f, html_w("method: "));
    html_reason(f, html_sget(pc, method_key));
    if (note) fputs("; ", f);
  }
  if (note) fputs(note, f);
  if (warn) {
    fputs(method_key || note ? "; <b class=\"bad\">" : "<b class=\"bad\">", f);
    html_reason(f, warn);
    fputs("</b>", f);
  }
  fputs("</td></tr>\n", f);
}

static const struct col stack_cols[] = {
    {"point", "Stack", NULL, F_ID, NULL, 0, NULL},
    {"g_teq", "Release", "g TEQ", F_NUM, NULL, 0, NULL},
    {"tests", "Tests", NULL, F_INT, NULL, 0, NULL},
    {"mean_ng_teq_nm3", "Mean test", "ng TEQ/Nm3", F_NUM, NULL, 0, NULL},
    {"volume_nm3", "Gas volume", "Nm3", F_NUM, NULL, 0, NULL},
    {"hours", "Monitored hours", "h", F_NUM, NULL, 0, NULL},
    {"hours_stopped", "Stopped hours", "h", F_NUM, NULL, 0, NULL},
    {"hours_gap", "Hours filled", "h", F_NUM, NULL, 0, NULL},
    {"filled_share", "Filled share", NULL, F_PCT, NULL, 0, NULL},
    {"hours_before_first_test", "Hours before first test", "h", F_NUM, NULL, 0, NULL},
};
static const struct col test_cols[] = {
    {"point", "Stack", NULL, F_ID, NULL, 0, NULL},
    {"time", "Test time", NULL, F_TIME, NULL, 0, NULL},
    {"ng_teq_nm3", "Result", "ng TEQ/Nm3", F_NUM, NULL, 0, NULL},
    {"limit_ng_teq_nm3", "Limit", "ng TEQ/Nm3", F_NUM, NULL, 0, NULL},
    {"above_limit", "Above limit", NULL, F_BOOLBAD, NULL, 0, NULL},
};
static const struct col factor_cols[] = {
    {"from", "Period", NULL, F_ID, "through", F_ID, " &#8211; "},
    {"toolkit_class", "Toolkit class", NULL, F_TEXT, "class_name", F_TEXT, ": "},
    {"activity_t", "Activity", "t", F_NUM, "basis", F_TEXT, NULL},
    {"air_ef_ug_teq_t", "Air factor", "ug TEQ/t", F_NUM, NULL, 0, NULL},
    {"residue_ef_ug_teq_t", "Residue factor", "ug TEQ/t", F_NUM, NULL, 0, NULL},
    {"air_g_teq", "Air", "g TEQ", F_NUM, NULL, 0, NULL},
    {"residue_g_teq", "Residue", "g TEQ", F_NUM, NULL, 0, NULL},
    {"status", "Factor status", NULL, F_STATUS, NULL, 0, NULL},
};

/* The sources of the factors used, once each. */
static void factor_sources(FILE *f, const cJSON *rows) {
  const cJSON *r, *q;
  bool any = false;
  cJSON_ArrayForEach(r, rows) {
    const char *src = html_get_str(r, "source");
    if (!src) continue;
    bool seen = false;
    cJSON_ArrayForEach(q, rows) {
      if (q == r) break;
      const char *o = html_get_str(q, "source");
      seen = seen || (o && strcmp(o, src) == 0);
    }
    if (seen) continue;
    if (!any) fprintf(f, "<p class=\"note\">%s", html_w("Sources: "));
    else fputs("<br>", f);
    any = true;
    fputs(html_w("class "), f);
    html_value(f, r, "toolkit_class", F_ID, NULL);
    fputs(" &#8212; ", f);
    html_esc(f, src);
    fputs(" (", f);
    html_value(f, r, "status", F_STATUS, NULL);
    fputs(")", f);
  }
  if (any) fputs("</p>\n", f);
}

static const struct kv period_kv[] = {
    {"since", "Monitored since", NULL, F_TIME},
    {"until", "Monitored until", NULL, F_TIME},
    {"source", "Start of monitoring from", NULL, F_TEXT},
    {"monitored_hours", "Monitored hours of the year", "h", F_INT},
    {"monitored_share", "Monitored share of the year", NULL, F_PCT},
    {"status", "Status", NULL, F_TEXT},
};
static const struct col period_cols[] = {
    {"point", "Point", NULL, F_ID, NULL, 0, NULL},
    {"since", "Since", NULL, F_TIME, NULL, 0, NULL},
    {"hours", "Monitored hours", "h", F_INT, NULL, 0, NULL},
    {"hours_stopped", "Stopped hours", "h", F_INT, NULL, 0, NULL},
    {"hours_startup_shutdown", "Startup/shutdown hours", "h", F_INT, NULL, 0, NULL},
    {"days_stopped", "Stopped days", NULL, F_INT, NULL, 0, NULL},
};

/* The enterprise's monitoring period and operating states (monitoring.h). */
void html_monitoring_period(FILE *f, const cJSON *scope) {
  const cJSON *mp = cJSON_GetObjectItemCaseSensitive(scope, "monitoring_period");
  if (!mp) return;
  html_heading(f, "h3", "Monitoring period and operating states");
  KV(f, mp, period_kv);
  TABLE(f, cJSON_GetObjectItemCaseSensitive(mp, "points"), period_cols, PH_NA(NO_POINT));
}

void html_pcdd_ent(FILE *f, const cJSON *scope) {
  const cJSON *pc = cJSON_GetObjectItemCaseSensitive(scope, "pcdd_f");
  html_heading(f, "h3", "PCDD/F (dioxin) inventory");
  if (!pc) return;
  char note[400], share[64] = "", act[64] = "", mon[64] = "";
  double v;
  if (html_has_num(pc, "filled_share", &v)) snprintf(share, sizeof share, "%.2f&#160;%%", v * 100);
  if (html_has_num(pc, "monitored_share", &v)) snprintf(mon, sizeof mon, "%.2f&#160;%%", v * 100);
  if (html_has_num(pc, "activity_t", &v)) html_fmt_sig(v, 4, act, sizeof act);
  fputs("<table class=\"kv\">\n", f);
  snprintf(note, sizeof note,
           html_w("method: %s; stack tests &#215; flue-gas volume of the monitored operating hours%s%s%s; concentration "
                  "applied: %s test"),
           html_w(html_sget(pc, "measured_method")), share[0] ? html_w(", of which filled with the mean flow ") : "",
           share, share[0] ? "" : "",
           html_w(strcmp(html_sget(pc, "concentration"), "mean") == 0 ? "mean of the year's" : "latest"));
  pcdd_line(f, pc, "Measured, monitored period", "measured_period_g_teq", NULL, note);
  const cJSON *ann = cJSON_GetObjectItemCaseSensitive(pc, "measured_annualised");
  snprintf(note, sizeof note, html_w("%s; the monitoring covers %s of the year"),
           html_w(cJSON_IsTrue(ann) ? "<b>annualised</b> from part of the year" : "the year's figure"), mon);
  pcdd_line(f, pc, "Measured, annual", "measured_g_teq", NULL, note);
  snprintf(note, sizeof note, html_w("UNEP Toolkit factor &#215; %s&#160;t activity (factors below)%s"), act,
           html_get_str(pc, "estimated_note") ? html_w("; <b class=\"bad\">no material record in the year</b>") : "");
  pcdd_line(f, pc, "Estimated, air", "estimated_air_g_teq", NULL, note);
  pcdd_line(f, pc, "Estimated, residue", "estimated_residue_g_teq", NULL, note);
  pcdd_line(f, pc, "Current (air)", "current_g_teq", "current_g_teq_method",
            html_w("the annual measured figure when available, else the estimate when the year is monitored enough"));
  fprintf(f, "<tr><th>%s</th><td class=\"num\">", html_w("Baseline year"));
  html_value(f, pc, "baseline_year", F_INT, NULL);
  fputs("</td><td></td></tr>\n", f);
  pcdd_line(f, pc, "Baseline release", "baseline_g_teq", "baseline_g_teq_method", NULL);
  pcdd_line(f, pc, "Reduction (baseline − current)", "reduction_g_teq", NULL, html_w("g TEQ/a, air"));
  pcdd_line(f, pc, "Reduction, measured vs measured", "reduction_measured_g_teq", NULL, NULL);
  pcdd_line(f, pc, "Reduction, estimated vs estimated", "reduction_estimated_g_teq", NULL, NULL);
  fputs("</table>\n", f);
  html_heading(f, "h4", "Stacks");
  TABLE(f, cJSON_GetObjectItemCaseSensitive(pc, "stacks"), stack_cols, PH_NA(NO_PCDD_F_STACK));
  html_heading(f, "h4", "Stack tests");
  TABLE(f, cJSON_GetObjectItemCaseSensitive(pc, "stack_tests"), test_cols, PH_NA(NO_STACK_TEST_IN_YEAR));
  if (html_get_str(pc, "stack_tests_note")) {
    fputs("<p class=\"note\">", f);
    html_reason(f, html_get_str(pc, "stack_tests_note"));
    fputs("</p>\n", f);
  }
  html_heading(f, "h4", "Emission factors used");
  TABLE(f, cJSON_GetObjectItemCaseSensitive(pc, "factors"), factor_cols, PH_NA(NO_PART_OF_YEAR));
  factor_sources(f, cJSON_GetObjectItemCaseSensitive(pc, "factors"));
  fprintf(f, "<p class=\"note\">%s", html_w("Factor table: "));
  html_esc(f, html_sget(pc, "factor_table"));
  fprintf(f, "%s</p>\n", html_w(". A factor marked &#8220;not verified&#8221; has not been checked against its source."));
}

static const struct col park_pcdd_cols[] = {
    {"enterprise", "Enterprise", NULL, F_ID, NULL, 0, NULL},
    {"measured_g_teq", "Measured", "g TEQ", F_NUM, NULL, 0, NULL},
    {"estimated_air_g_teq", "Estimated air", "g TEQ", F_NUM, NULL, 0, NULL},
    {"estimated_residue_g_teq", "Estimated residue", "g TEQ", F_NUM, NULL, 0, NULL},
    {"current_g_teq", "Current", "g TEQ", F_NUM, "current_g_teq_method", F_TEXT, NULL},
    {"baseline_g_teq", "Baseline", "g TEQ", F_NUM, "baseline_year", F_ID, NULL},
    {"reduction_g_teq", "Reduction", "g TEQ", F_NUM, NULL, 0, NULL},
};

static void pcdd_total(FILE *f, const cJSON *pc, const char *label, const char *key) {
  char k[96];
  double n = 0, miss = 0;
  fputs("<tr><th>", f);
  html_esc(f, html_w(label));
  fputs("</th><td class=\"num\">", f);
  html_value(f, pc, key, F_NUM, "g TEQ");
  snprintf(k, sizeof k, "%s_enterprises", key);
  html_has_num(pc, k, &n);
  snprintf(k, sizeof k, "%s_missing", key);
  html_has_num(pc, k, &miss);
  fputs("</td><td>", f);
  fprintf(f, html_w("sum over %.0f enterprise%s"), n, n == 1 || html_lang() != PH_LANG_EN ? "" : "s");
  if (miss > 0) {
    fputs("; <b class=\"bad\">", f);
    fprintf(f, html_w("%.0f without the figure"), miss);
    fputs("</b>", f);
  }
  fputs("</td></tr>\n", f);
}

void html_pcdd_park(FILE *f, const cJSON *scope) {
  const cJSON *pc = cJSON_GetObjectItemCaseSensitive(scope, "pcdd_f");
  html_heading(f, "h3", "PCDD/F (dioxin) inventory");
  if (!pc) return;
  fputs("<table class=\"kv\">\n", f);
  pcdd_total(f, pc, "Measured", "measured_g_teq");
  pcdd_total(f, pc, "Estimated, air", "estimated_air_g_teq");
  pcdd_total(f, pc, "Estimated, residue", "estimated_residue_g_teq");
  pcdd_total(f, pc, "Current (air)", "current_g_teq");
  pcdd_total(f, pc, "Baseline", "baseline_g_teq");
  pcdd_total(f, pc, "Reduction", "reduction_g_teq");
  fputs("</table>\n", f);
  const cJSON *rows = cJSON_GetObjectItemCaseSensitive(pc, "enterprises"), *r;
  TABLE(f, rows, park_pcdd_cols, PH_NA(NO_ENTERPRISE));
  cJSON_ArrayForEach(r, rows) {
    if (!html_get_str(r, "baseline_note")) continue;
    fputs("<p class=\"note\"><b class=\"bad\">", f);
    html_esc(f, html_sget(r, "enterprise"));
    fputs(": ", f);
    html_reason(f, html_get_str(r, "baseline_note"));
    fputs("</b></p>\n", f);
  }
}

static const struct kv plan_kv[] = {
    {"as_of", "As of", NULL, F_TEXT},
    {"interval_days", "Test interval", "days", F_INT},
    {"next_due", "Next stack test due", NULL, F_TEXT},
    {"status", "Status", NULL, F_STATUS},
};
static const struct col plan_cols[] = {
    {"point", "Stack", NULL, F_ID, NULL, 0, NULL},
    {"last_test", "Last test", NULL, F_ID, NULL, 0, NULL},
    {"next_due", "Next due", NULL, F_ID, NULL, 0, NULL},
    {"days_left", "Days left", NULL, F_INT, NULL, 0, NULL},
    {"overdue", "Overdue", NULL, F_BOOLBAD, NULL, 0, NULL},
};
static const struct col park_plan_cols[] = {
    {"enterprise", "Enterprise", NULL, F_ID, NULL, 0, NULL},
    {"stacks", "Stacks tested", NULL, F_INT, NULL, 0, NULL},
    {"next_due", "Next due", NULL, F_ID, NULL, 0, NULL},
    {"days_left", "Days left", NULL, F_INT, NULL, 0, NULL},
    {"status", "Status", NULL, F_STATUS, NULL, 0, NULL},
};

void html_monitoring(FILE *f, const cJSON *scope, bool park) {
  const cJSON *mo = cJSON_GetObjectItemCaseSensitive(scope, "monitoring");
  html_heading(f, "h3", "Monitoring plan: PCDD/F stack tests");
  if (!mo) return;
  if (park) {
    fprintf(f, "<p>%s", html_w("As of "));
    html_esc(f, html_sget(mo, "as_of"));
    fputs(html_w("; enterprises overdue: "), f);
    html_value(f, mo, "overdue_enterprises", F_BAD, NULL);
    fputs(".</p>\n", f);
    TABLE(f, cJSON_GetObjectItemCaseSensitive(mo, "enterprises"), park_plan_cols, PH_NA(NO_ENTERPRISE));
    return;
  }
  KV(f, mo, plan_kv);
  TABLE(f, cJSON_GetObjectItemCaseSensitive(mo, "stacks"), plan_cols, PH_NA(NO_STACK_TEST_ON_RECORD));
}

static const struct kv balance_kv[] = {
    {"feed_t", "Feed (scrap) in", "t", F_NUM},
    {"product_t", "Product out", "t", F_NUM},
    {"residue_t", "Residues out", "t", F_NUM},
    {"consumable_t", "Consumables in", "t", F_NUM},
    {"energy_t", "Fuels weighed in", "t", F_NUM},
    {"water_t", "Water weighed in", "t", F_NUM},
    {"unclassified_in_t", "Unclassified materials in", "t", F_NUM},
    {"unclassified_out_t", "Unclassified materials out", "t", F_NUM},
    {"unclassified_lots", "Lots of unclassified materials", NULL, F_BAD},
    {"cu_in_t", "Copper in feed", "t", F_NUM},
    {"cu_out_t", "Copper in product", "t", F_NUM},
    {"cu_residue_t", "Copper in residues", "t", F_NUM},
    {"yield_pct", "Copper yield", NULL, F_PCTV},
    {"assay_lots", "Lots with a copper assay", NULL, F_INT},
    {"assay_ignored_lots", "Lots whose assay was ignored (not 0..100 %)", NULL, F_BAD},
    {"baseline_year", "Baseline year", NULL, F_INT},
    {"baseline_missing", "Enterprises without a baseline year", NULL, F_INT},
};
static const struct col per_t_cols[] = {
    {"label", "Indicator", NULL, F_TEXT, NULL, 0, NULL},
    {"total", "Year total", "@total_unit", F_NUM, NULL, 0, NULL},
    {"value", "Value", "@unit", F_NUM, NULL, 0, NULL},
    {"baseline", "Baseline", "@unit", F_NUM, NULL, 0, NULL},
    {"change", "Change", "@unit", F_NUM, NULL, 0, NULL},
    {"change_pct", "Change, %", NULL, F_PCTV, NULL, 0, NULL},
};
static const struct col per_t_cols_nobase[] = {
    {"label", "Indicator", NULL, F_TEXT, NULL, 0, NULL},
    {"total", "Year total", "@total_unit", F_NUM, NULL, 0, NULL},
    {"value", "Value", "@unit", F_NUM, NULL, 0, NULL},
};
static const struct col material_cols[] = {
    {"material", "Material", NULL, F_ID, "name", F_TEXT, NULL},
    {"role", "Role", NULL, F_STATUS, NULL, 0, NULL}, /* "unclassified" in red */
    {"cu_fraction", "Cu fraction (default)", NULL, F_NUM, NULL, 0, NULL},
    {"in_t", "In", "t", F_NUM, NULL, 0, NULL},
    {"out_t", "Out", "t", F_NUM, NULL, 0, NULL},
    {"cu_in_t", "Cu in", "t", F_NUM, NULL, 0, NULL},
    {"cu_out_t", "Cu out", "t", F_NUM, NULL, 0, NULL},
    {"lots", "Lots", NULL, F_INT, NULL, 0, NULL},
    {"assay_lots", "Assayed", NULL, F_INT, NULL, 0, NULL},
    {"assay_ignored_lots", "Assay ignored", NULL, F_BAD, NULL, 0, NULL},
};

void html_indicators(FILE *f, const cJSON *scope) {
  const cJSON *io = cJSON_GetObjectItemCaseSensitive(scope, "indicators");
  html_heading(f, "h3", "Material balance and indicators");
  if (!io) return;
  KV(f, io, balance_kv);
  const cJSON *rows = cJSON_GetObjectItemCaseSensitive(io, "per_t"), *r;
  const char *why = NULL;
  bool base = false;
  cJSON_ArrayForEach(r, rows) {
    base = base || html_has_num(r, "baseline", NULL);
    if (!why && !html_has_num(r, "baseline", NULL)) why = ph_report_na(r, "baseline");
  }
  if (base || !why) {
    TABLE(f, rows, per_t_cols, PH_NA(NO_INDICATOR));
  } else { /* no baseline figure at all: one line says why instead of a column of n/a */
    TABLE(f, rows, per_t_cols_nobase, PH_NA(NO_INDICATOR));
    fprintf(f, "<p class=\"note\">%s", html_w("Change against the baseline: "));
    html_na(f, why);
    fputs("</p>\n", f);
  }
  html_heading(f, "h4", "Material ledger");
  TABLE(f, cJSON_GetObjectItemCaseSensitive(io, "materials"), material_cols, PH_NA(NO_MATERIAL_IN_YEAR));
}
