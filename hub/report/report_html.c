/* report_html.c — the report tree (report_json.c) as one printable HTML
 * page a regulator can file.
 *
 * Callers: ph_report_render. Threads: the caller's. Owns nothing.
 *
 * Page: a title block (park, year, standard, generation time, how far the
 * CEMS data are processed), the park summary, then one section per
 * enterprise starting on a new printed page. Inline CSS only (A4, print
 * margins, page breaks); no script, no external resource, no web font.
 *
 * Invariants:
 *  1. Every text from the tree goes through esc() (names come from the
 *     hub config and may hold anything, "<script>" included).
 *  2. A null figure prints "n/a (reason)" from its "<key>_na" sibling;
 *     nothing is computed here, only formatted (units, significant digits,
 *     percentages of fractions).
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "report/report.h"

/* ------------------------------------------------------------ text */

/* inv. 1 */
static void esc(FILE *f, const char *s) {
  for (; s && *s; s++) {
    switch (*s) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '"': fputs("&quot;", f); break;
    case '\'': fputs("&#39;", f); break;
    default: fputc(*s, f);
    }
  }
}

/* A unit, escaped, with m3 → m³ and ug → µg. */
static void unit(FILE *f, const char *u) {
  for (const char *p = u; p && *p; p++) {
    if (p[0] == 'm' && p[1] == '3' && !(p[2] >= '0' && p[2] <= '9')) {
      fputs("m&#179;", f);
      p++;
    } else if (p[0] == 'u' && p[1] == 'g' && (p == u || !((p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= 'A' && p[-1] <= 'Z')))) {
      fputs("&#181;g", f);
      p++;
    } else {
      char c[2] = {*p, 0};
      esc(f, c);
    }
  }
}

static const char *get_str(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}
static const char *sget(const cJSON *o, const char *k) {
  const char *s = get_str(o, k);
  return s ? s : "";
}
static bool has_num(const cJSON *o, const char *k, double *v) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
  if (!cJSON_IsNumber(x)) return false;
  if (v) *v = x->valuedouble;
  return true;
}
static bool is_true(const cJSON *o, const char *k) { return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k)); }

/* ------------------------------------------------------------ numbers */

/* sig significant digits, no exponent for ordinary magnitudes, thin-space
 * groups of thousands. */
static void fmt_sig(double v, int sig, char *buf, size_t cap) {
  if (v == 0) {
    snprintf(buf, cap, "0");
    return;
  }
  double a = fabs(v);
  if (a < 1e-7 || a >= 1e15) {
    snprintf(buf, cap, "%.*e", sig - 1, v);
    return;
  }
  int dec = sig - 1 - (int)floor(log10(a));
  if (dec < 0) dec = 0;
  if (dec > 12) dec = 12;
  char raw[64];
  snprintf(raw, sizeof raw, "%.*f", dec, v);
  if (strchr(raw, '.')) { /* 0.07360 → 0.0736, 100.0 → 100 */
    size_t n = strlen(raw);
    while (raw[n - 1] == '0') raw[--n] = '\0';
    if (raw[n - 1] == '.') raw[--n] = '\0';
  }
  /* group the integer part */
  const char *p = raw, *dot = strchr(raw, '.');
  size_t o = 0;
  if (*p == '-') buf[o++] = *p++;
  size_t ndig = (size_t)((dot ? dot : raw + strlen(raw)) - p);
  for (size_t i = 0; i < ndig && o + 8 < cap; i++) {
    if (i && (ndig - i) % 3 == 0 && ndig > 4) o += (size_t)snprintf(buf + o, cap - o, "&#8239;");
    buf[o++] = p[i];
  }
  snprintf(buf + o, cap - o, "%s", dot ? dot : "");
}

enum fmt {
  F_TEXT,   /* string */
  F_INT,    /* integer count */
  F_BAD,    /* integer count, highlighted when > 0 */
  F_NUM,    /* 4 significant digits */
  F_PCT,    /* fraction 0..1 shown as % */
  F_PCTV,   /* a value already in % */
  F_TIME,   /* ISO local time → YYYY-MM-DD HH:MM */
  F_BOOL,   /* yes / no */
  F_BOOLBAD, /* yes highlighted */
  F_STATUS, /* text, highlighted when it says overdue / never / not verified, or is "unclassified" */
  F_UNIT,   /* a unit string */
  F_ID,     /* an id, a code or a date: text that does not wrap */
  F_RANGE,  /* a number; when null, "<k>_min–<k>_max" if both are numbers */
};

/* The figure o[k] as HTML (inv. 2); unit_s (may be NULL) follows a number. */
static void value(FILE *f, const cJSON *o, const char *k, enum fmt fm, const char *unit_s) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  char b[96];
  if (!v) {
    fputs("&#8212;", f);
    return;
  }
  double lo, hi;
  char kmin[96], kmax[96];
  snprintf(kmin, sizeof kmin, "%s_min", k);
  snprintf(kmax, sizeof kmax, "%s_max", k);
  if (cJSON_IsNull(v) && fm == F_RANGE && has_num(o, kmin, &lo) && has_num(o, kmax, &hi)) {
    fmt_sig(lo, 4, b, sizeof b);
    fputs(b, f);
    fmt_sig(hi, 4, b, sizeof b);
    fprintf(f, "&#8211;%s", b);
    if (unit_s && unit_s[0]) {
      fputs("&#160;", f);
      unit(f, unit_s);
    }
    return;
  }
  if (cJSON_IsNull(v)) {
    fputs("<span class=\"na\">n/a (", f);
    esc(f, ph_report_na(o, k));
    fputs(")</span>", f);
    return;
  }
  if (cJSON_IsBool(v)) {
    bool t = cJSON_IsTrue(v);
    fprintf(f, "%s%s%s", t && fm == F_BOOLBAD ? "<b class=\"bad\">" : "", t ? "yes" : "no",
            t && fm == F_BOOLBAD ? "</b>" : "");
    return;
  }
  if (cJSON_IsString(v)) {
    const char *s = v->valuestring;
    if (fm == F_TIME && strlen(s) >= 16) {
      fprintf(f, "%.10s&#160;%.5s", s, s + 11);
    } else if (fm == F_UNIT) {
      unit(f, s);
    } else if (fm == F_STATUS && (strstr(s, "overdue") || strstr(s, "never") || strstr(s, "not verified") ||
                                  strcmp(s, "unclassified") == 0)) {
      fputs("<b class=\"bad\">", f);
      esc(f, s);
      fputs("</b>", f);
    } else {
      esc(f, s);
    }
    return;
  }
  if (!cJSON_IsNumber(v)) return;
  double x = v->valuedouble;
  switch (fm) {
  case F_INT:
  case F_ID: snprintf(b, sizeof b, "%.0f", x); break;
  case F_BAD:
    fprintf(f, "%s%.0f%s", x > 0 ? "<b class=\"bad\">" : "", x, x > 0 ? "</b>" : "");
    return;
  case F_PCT: snprintf(b, sizeof b, "%.2f&#160;%%", x * 100); break;
  case F_PCTV: snprintf(b, sizeof b, "%.2f&#160;%%", x); break;
  default: fmt_sig(x, 4, b, sizeof b);
  }
  fputs(b, f);
  if (unit_s && unit_s[0]) {
    fputs("&#160;", f);
    unit(f, unit_s);
  }
}

/* ------------------------------------------------------------ tables */

struct col {
  const char *key, *label, *unit; /* unit "@k": the row's k; shown after each value */
  enum fmt f;
  const char *sub; /* optional: another key of the row, on a second line … */
  enum fmt subf;
  const char *sep; /* … or on the same line after this separator */
};

static const char *col_unit(const struct col *c, const cJSON *row) {
  if (!c->unit) return NULL;
  return c->unit[0] == '@' ? sget(row, c->unit + 1) : NULL;
}

static bool numeric(enum fmt f) {
  return f == F_INT || f == F_BAD || f == F_NUM || f == F_PCT || f == F_PCTV || f == F_RANGE;
}

static void table(FILE *f, const cJSON *rows, const struct col *cols, size_t n, const char *empty) {
  if (cJSON_GetArraySize(rows) == 0) {
    fputs("<p class=\"na\">", f);
    esc(f, empty);
    fputs("</p>\n", f);
    return;
  }
  fputs("<table>\n<thead><tr>", f);
  for (size_t i = 0; i < n; i++) {
    fprintf(f, "<th%s>", numeric(cols[i].f) ? " class=\"num\"" : "");
    esc(f, cols[i].label);
    if (cols[i].unit && cols[i].unit[0] != '@') {
      fputs(" <span class=\"u\">(", f);
      unit(f, cols[i].unit);
      fputs(")</span>", f);
    }
    fputs("</th>", f);
  }
  fputs("</tr></thead>\n<tbody>\n", f);
  const cJSON *r;
  cJSON_ArrayForEach(r, rows) {
    fputs("<tr>", f);
    for (size_t i = 0; i < n; i++) {
      const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, cols[i].key);
      bool num = numeric(cols[i].f) && (cJSON_IsNumber(v) || cols[i].f == F_RANGE);
      fprintf(f, "<td%s>", num ? " class=\"num\"" : cols[i].f == F_ID || cols[i].f == F_TIME ? " class=\"nw\"" : "");
      value(f, r, cols[i].key, cols[i].f, col_unit(&cols[i], r));
      const cJSON *sv = cols[i].sub ? cJSON_GetObjectItemCaseSensitive(r, cols[i].sub) : NULL;
      if (sv && !cJSON_IsNull(sv)) {
        fputs(cols[i].sep ? cols[i].sep : "<br><span class=\"sub\">", f);
        value(f, r, cols[i].sub, cols[i].subf, NULL);
        if (!cols[i].sep) fputs("</span>", f);
      }
      fputs("</td>", f);
    }
    fputs("</tr>\n", f);
  }
  fputs("</tbody></table>\n", f);
}
#define TABLE(f, rows, cols, empty) table(f, rows, cols, sizeof cols / sizeof cols[0], empty)

struct kv {
  const char *key, *label, *unit;
  enum fmt f;
};

static void kv_table(FILE *f, const cJSON *o, const struct kv *kv, size_t n) {
  fputs("<table class=\"kv\">\n", f);
  for (size_t i = 0; i < n; i++) {
    if (!cJSON_GetObjectItemCaseSensitive(o, kv[i].key)) continue;
    fputs("<tr><th>", f);
    esc(f, kv[i].label);
    fputs("</th><td>", f);
    value(f, o, kv[i].key, kv[i].f, kv[i].unit);
    fputs("</td></tr>\n", f);
  }
  fputs("</table>\n", f);
}
#define KV(f, o, kv) kv_table(f, o, kv, sizeof kv / sizeof kv[0])

static void heading(FILE *f, const char *tag, const char *text) {
  fprintf(f, "<%s>", tag);
  esc(f, text);
  fprintf(f, "</%s>\n", tag);
}

/* A scope-level reason ("emissions_na" …) when the section has no rows. */
static const char *why_empty(const cJSON *scope, const char *k, const char *dflt) {
  const char *s = get_str(scope, k);
  return s ? s : dflt;
}

/* ------------------------------------------------------------ sections */

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

static void emissions(FILE *f, const cJSON *scope, bool park) {
  heading(f, "h3", "Emissions");
  const cJSON *rows = cJSON_GetObjectItemCaseSensitive(scope, "emissions");
  if (park)
    TABLE(f, rows, park_emission_cols, why_empty(scope, "emissions_na", "no data"));
  else
    TABLE(f, rows, emission_cols, why_empty(scope, "emissions_na", "no data"));
  if (cJSON_GetArraySize(rows))
    fputs("<p class=\"note\">Mass over the point-hours with both a valid hourly concentration and a valid hourly flow; "
          "expected point-hours are those of each point's monitoring period, less the hours the plant was stopped "
          "(they released nothing); the gap share is the share of expected point-hours without them (not "
          "filled).</p>\n",
          f);
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
static void water(FILE *f, const cJSON *scope, bool park) {
  heading(f, "h3", "Water outlets");
  const cJSON *w = cJSON_GetObjectItemCaseSensitive(scope, "water");
  const char *none = why_empty(scope, "water_na", "no water outlet");
  if (!w || get_str(scope, "water_na")) {
    fputs("<p class=\"na\">", f);
    esc(f, none);
    fputs("</p>\n", f);
    return;
  }
  if (park) {
    static const struct kv park_kv[] = {{"outlets", "Outlets", NULL, F_INT},
                                        {"volume_m3", "Volume discharged", "m3", F_NUM}};
    KV(f, w, park_kv);
    TABLE(f, cJSON_GetObjectItemCaseSensitive(w, "pollutants"), park_water_cols, "no water pollutant on record");
  } else {
    TABLE(f, cJSON_GetObjectItemCaseSensitive(w, "outlets_list"), water_outlet_cols, none);
    TABLE(f, cJSON_GetObjectItemCaseSensitive(w, "pollutants"), water_cols, "no water pollutant on record");
  }
  fputs("<p class=\"note\">Daily means of valid days (20 valid hours) against the standard's water limit for the "
        "outlet's discharge type; pH is judged on each valid hourly mean. Only limit values verified from the "
        "standard's text are used. Load = &#931; hourly concentration &#215; hourly flow over the hours with both "
        "valid (kg; per day: over the days with a load).</p>\n",
        f);
}

static const struct col hour_cols[] = {
    {"pollutant", "Pollutant", NULL, F_ID, NULL, 0, NULL},
    {"limit", "Limit", "@unit", F_RANGE, NULL, 0, NULL},
    {"hours_valid", "Valid hours", NULL, F_INT, NULL, 0, NULL},
    {"hour_compliance", "Compliance", NULL, F_PCT, NULL, 0, NULL},
    {"exceedance_hours", "Exceedance hours", NULL, F_BAD, NULL, 0, NULL},
    {"worst_hour_mean", "Worst hourly mean", "@unit", F_NUM, "worst_hour_time", F_TIME, NULL},
    {"worst_hour_point", "at", NULL, F_ID, "worst_hour_enterprise", F_ID, NULL},
    {"hour_availability", "Data availability", NULL, F_PCT, NULL, 0, NULL},
};
static const struct col day_cols[] = {
    {"pollutant", "Pollutant", NULL, F_ID, NULL, 0, NULL},
    {"limit", "Limit", "@unit", F_RANGE, NULL, 0, NULL},
    {"days_valid", "Valid days", NULL, F_INT, NULL, 0, NULL},
    {"day_compliance", "Compliance", NULL, F_PCT, NULL, 0, NULL},
    {"exceedance_days", "Exceedance days", NULL, F_BAD, NULL, 0, NULL},
    {"worst_day_converted", "Worst daily mean (converted)", "@unit", F_NUM, "worst_day_date", F_ID, NULL},
    {"worst_day_point", "at", NULL, F_ID, "worst_day_enterprise", F_ID, NULL},
    {"day_availability", "Data availability", NULL, F_PCT, NULL, 0, NULL},
};

static void compliance(FILE *f, const cJSON *scope) {
  heading(f, "h3", "Compliance");
  const cJSON *rows = cJSON_GetObjectItemCaseSensitive(scope, "compliance");
  const char *empty = why_empty(scope, "compliance_na", "no data");
  if (cJSON_GetArraySize(rows) == 0) {
    TABLE(f, rows, hour_cols, empty);
    return;
  }
  heading(f, "h4", "Hourly means");
  TABLE(f, rows, hour_cols, empty);
  heading(f, "h4", "Daily means");
  TABLE(f, rows, day_cols, empty);
  fputs("<p class=\"note\">Compliance = valid means within the limit / valid means with a limit in force. Daily means "
        "are judged after the benchmark exhaust-volume conversion (GB 31574-2015 &#167;4.2.7). The worst mean is the "
        "one with the highest ratio to its limit. Data availability = valid means / (closed periods &#215; points).</p>\n",
        f);
}

/* One line of the PCDD/F summary: label, the figure, a note (HTML), and
 * the "<key without _g_teq>_note" of the tree if any (text, highlighted). */
static void pcdd_line(FILE *f, const cJSON *pc, const char *label, const char *key, const char *method_key,
                      const char *note) {
  char nk[96];
  snprintf(nk, sizeof nk, "%.*s_note", (int)(strlen(key) > 6 ? strlen(key) - 6 : strlen(key)), key);
  const char *warn = get_str(pc, nk);
  if (!cJSON_GetObjectItemCaseSensitive(pc, key)) return;
  fputs("<tr><th>", f);
  esc(f, label);
  fputs("</th><td class=\"num\">", f);
  value(f, pc, key, F_NUM, "g TEQ");
  fputs("</td><td>", f);
  if (method_key) {
    fputs("method: ", f);
    esc(f, sget(pc, method_key));
    if (note) fputs("; ", f);
  }
  if (note) fputs(note, f);
  if (warn) {
    fputs(method_key || note ? "; <b class=\"bad\">" : "<b class=\"bad\">", f);
    esc(f, warn);
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
    const char *src = get_str(r, "source");
    if (!src) continue;
    bool seen = false;
    cJSON_ArrayForEach(q, rows) {
      if (q == r) break;
      const char *o = get_str(q, "source");
      seen = seen || (o && strcmp(o, src) == 0);
    }
    if (seen) continue;
    fputs(any ? "<br>" : "<p class=\"note\">Sources: ", f);
    any = true;
    fputs("class ", f);
    value(f, r, "toolkit_class", F_ID, NULL);
    fputs(" &#8212; ", f);
    esc(f, src);
    fputs(" (", f);
    value(f, r, "status", F_STATUS, NULL);
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
static void monitoring_period(FILE *f, const cJSON *scope) {
  const cJSON *mp = cJSON_GetObjectItemCaseSensitive(scope, "monitoring_period");
  if (!mp) return;
  heading(f, "h3", "Monitoring period and operating states");
  KV(f, mp, period_kv);
  TABLE(f, cJSON_GetObjectItemCaseSensitive(mp, "points"), period_cols, "no point on record");
}

static void pcdd_ent(FILE *f, const cJSON *scope) {
  const cJSON *pc = cJSON_GetObjectItemCaseSensitive(scope, "pcdd_f");
  heading(f, "h3", "PCDD/F (dioxin) inventory");
  if (!pc) return;
  char note[400], share[64] = "", act[64] = "", mon[64] = "";
  double v;
  if (has_num(pc, "filled_share", &v)) snprintf(share, sizeof share, "%.2f&#160;%%", v * 100);
  if (has_num(pc, "monitored_share", &v)) snprintf(mon, sizeof mon, "%.2f&#160;%%", v * 100);
  if (has_num(pc, "activity_t", &v)) fmt_sig(v, 4, act, sizeof act);
  fputs("<table class=\"kv\">\n", f);
  snprintf(note, sizeof note,
           "method: %s; stack tests &#215; flue-gas volume of the monitored operating hours%s%s%s; concentration "
           "applied: %s test",
           sget(pc, "measured_method"), share[0] ? ", of which filled with the mean flow " : "", share,
           share[0] ? "" : "", strcmp(sget(pc, "concentration"), "mean") == 0 ? "mean of the year's" : "latest");
  pcdd_line(f, pc, "Measured, monitored period", "measured_period_g_teq", NULL, note);
  const cJSON *ann = cJSON_GetObjectItemCaseSensitive(pc, "measured_annualised");
  snprintf(note, sizeof note, "%s; the monitoring covers %s of the year",
           cJSON_IsTrue(ann) ? "<b>annualised</b> from part of the year" : "the year's figure", mon);
  pcdd_line(f, pc, "Measured, annual", "measured_g_teq", NULL, note);
  snprintf(note, sizeof note, "UNEP Toolkit factor &#215; %s&#160;t activity (factors below)%s", act,
           get_str(pc, "estimated_note") ? "; <b class=\"bad\">no material record in the year</b>" : "");
  pcdd_line(f, pc, "Estimated, air", "estimated_air_g_teq", NULL, note);
  pcdd_line(f, pc, "Estimated, residue", "estimated_residue_g_teq", NULL, note);
  pcdd_line(f, pc, "Current (air)", "current_g_teq", "current_g_teq_method",
            "the annual measured figure when available, else the estimate when the year is monitored enough");
  fputs("<tr><th>Baseline year</th><td class=\"num\">", f);
  value(f, pc, "baseline_year", F_INT, NULL);
  fputs("</td><td></td></tr>\n", f);
  pcdd_line(f, pc, "Baseline release", "baseline_g_teq", "baseline_g_teq_method", NULL);
  pcdd_line(f, pc, "Reduction (baseline − current)", "reduction_g_teq", NULL, "g TEQ/a, air");
  pcdd_line(f, pc, "Reduction, measured vs measured", "reduction_measured_g_teq", NULL, NULL);
  pcdd_line(f, pc, "Reduction, estimated vs estimated", "reduction_estimated_g_teq", NULL, NULL);
  fputs("</table>\n", f);
  heading(f, "h4", "Stacks");
  TABLE(f, cJSON_GetObjectItemCaseSensitive(pc, "stacks"), stack_cols, "no PCDD/F stack on record in the year");
  heading(f, "h4", "Stack tests");
  TABLE(f, cJSON_GetObjectItemCaseSensitive(pc, "stack_tests"), test_cols, "no stack test in the year");
  if (get_str(pc, "stack_tests_note")) {
    fputs("<p class=\"note\">", f);
    esc(f, get_str(pc, "stack_tests_note"));
    fputs("</p>\n", f);
  }
  heading(f, "h4", "Emission factors used");
  TABLE(f, cJSON_GetObjectItemCaseSensitive(pc, "factors"), factor_cols, "no part of the year");
  factor_sources(f, cJSON_GetObjectItemCaseSensitive(pc, "factors"));
  fputs("<p class=\"note\">Factor table: ", f);
  esc(f, sget(pc, "factor_table"));
  fputs(". A factor marked &#8220;not verified&#8221; has not been checked against its source.</p>\n", f);
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
  esc(f, label);
  fputs("</th><td class=\"num\">", f);
  value(f, pc, key, F_NUM, "g TEQ");
  snprintf(k, sizeof k, "%s_enterprises", key);
  has_num(pc, k, &n);
  snprintf(k, sizeof k, "%s_missing", key);
  has_num(pc, k, &miss);
  fprintf(f, "</td><td>sum over %.0f enterprise%s", n, n == 1 ? "" : "s");
  if (miss > 0) fprintf(f, "; <b class=\"bad\">%.0f without the figure</b>", miss);
  fputs("</td></tr>\n", f);
}

static void pcdd_park(FILE *f, const cJSON *scope) {
  const cJSON *pc = cJSON_GetObjectItemCaseSensitive(scope, "pcdd_f");
  heading(f, "h3", "PCDD/F (dioxin) inventory");
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
  TABLE(f, rows, park_pcdd_cols, "no enterprise");
  cJSON_ArrayForEach(r, rows) {
    if (!get_str(r, "baseline_note")) continue;
    fputs("<p class=\"note\"><b class=\"bad\">", f);
    esc(f, sget(r, "enterprise"));
    fputs(": ", f);
    esc(f, get_str(r, "baseline_note"));
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

static void monitoring(FILE *f, const cJSON *scope, bool park) {
  const cJSON *mo = cJSON_GetObjectItemCaseSensitive(scope, "monitoring");
  heading(f, "h3", "Monitoring plan: PCDD/F stack tests");
  if (!mo) return;
  if (park) {
    fputs("<p>As of ", f);
    esc(f, sget(mo, "as_of"));
    fputs("; enterprises overdue: ", f);
    value(f, mo, "overdue_enterprises", F_BAD, NULL);
    fputs(".</p>\n", f);
    TABLE(f, cJSON_GetObjectItemCaseSensitive(mo, "enterprises"), park_plan_cols, "no enterprise");
    return;
  }
  KV(f, mo, plan_kv);
  TABLE(f, cJSON_GetObjectItemCaseSensitive(mo, "stacks"), plan_cols, "no stack test on record");
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
    {"name_zh", "Chinese name", NULL, F_TEXT, NULL, 0, NULL},
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

static void indicators(FILE *f, const cJSON *scope) {
  const cJSON *io = cJSON_GetObjectItemCaseSensitive(scope, "indicators");
  heading(f, "h3", "Material balance and indicators");
  if (!io) return;
  KV(f, io, balance_kv);
  const cJSON *rows = cJSON_GetObjectItemCaseSensitive(io, "per_t"), *r;
  const char *why = NULL;
  bool base = false;
  cJSON_ArrayForEach(r, rows) {
    base = base || has_num(r, "baseline", NULL);
    if (!why && !has_num(r, "baseline", NULL)) why = ph_report_na(r, "baseline");
  }
  if (base || !why) {
    TABLE(f, rows, per_t_cols, "no indicator");
  } else { /* no baseline figure at all: one line says why instead of a column of n/a */
    TABLE(f, rows, per_t_cols_nobase, "no indicator");
    fputs("<p class=\"note\">Change against the baseline: <span class=\"na\">n/a (", f);
    esc(f, why);
    fputs(")</span></p>\n", f);
  }
  heading(f, "h4", "Material ledger");
  TABLE(f, cJSON_GetObjectItemCaseSensitive(io, "materials"), material_cols, "no material record in the year");
}

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
    "*{box-sizing:border-box}"
    "body{font:9.5pt/1.35 'DejaVu Sans','Liberation Sans',Arial,sans-serif;color:#111;margin:0 auto;max-width:186mm}"
    "h1{font-size:17pt;margin:0 0 2pt}h2{font-size:13.5pt;margin:14pt 0 4pt;border-bottom:1.5pt solid #222;"
    "padding-bottom:2pt}h3{font-size:11pt;margin:12pt 0 3pt;color:#123}h4{font-size:9.5pt;margin:8pt 0 2pt}"
    ".sub{color:#555;font-size:8pt}.u{font-weight:normal;color:#444}"
    "table{border-collapse:collapse;width:100%;margin:2pt 0 6pt;font-size:8.5pt}"
    "th,td{border:0.6pt solid #999;padding:2pt 4pt;vertical-align:top;text-align:left}"
    "thead th{background:#e8ecef}th.num{text-align:right}td.num{text-align:right;white-space:nowrap}"
    "table.kv{width:auto;min-width:60%}table.kv th{background:#f3f5f6;font-weight:normal;width:16em}"
    "tr{page-break-inside:avoid;break-inside:avoid}thead{display:table-header-group}"
    ".na{color:#8a4b00;font-style:italic}.bad{color:#b00000}"
    ".note{font-size:8pt;color:#444;margin:0 0 6pt}"
    ".nw{white-space:nowrap}.meta th{width:14em}.running{font-size:8pt;color:#666;border-bottom:0.5pt solid #bbb;margin-bottom:4pt}"
    ".ent{page-break-before:always;break-before:page}"
    "ol.notes{font-size:8pt;color:#333;padding-left:16pt}"
    "@media screen{body{margin:16px auto;padding:0 12px}.ent{border-top:3px double #999;margin-top:28px}}";

/* "gb31574-2015" → "GB 31574-2015" */
static void standard_name(FILE *f, const char *id) {
  size_t n = 0;
  while (id[n] >= 'a' && id[n] <= 'z') n++;
  for (size_t i = 0; i < n; i++) fputc(id[i] - 'a' + 'A', f);
  if (n && id[n]) fputc(' ', f);
  esc(f, id + n);
}

static void standards(FILE *f, const cJSON *report) {
  const cJSON *it;
  int i = 0;
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(report, "standards")) {
    if (!cJSON_IsString(it)) continue;
    if (i++) fputs(", ", f);
    standard_name(f, it->valuestring);
  }
  if (!i) fputs("none", f);
}

static void title_block(FILE *f, const cJSON *rep) {
  const cJSON *y = cJSON_GetObjectItemCaseSensitive(rep, "year");
  int year = cJSON_IsNumber(y) ? (int)y->valuedouble : 0;
  fprintf(f, "<h1>Annual environmental report %d</h1>\n<p style=\"font-size:12pt;margin:0 0 8pt\"><b>", year);
  esc(f, sget(rep, "park_name"));
  fputs("</b> (park ", f);
  esc(f, sget(rep, "park"));
  fputs(") &#183; standard ", f);
  standards(f, rep);
  fputs("</p>\n<table class=\"kv meta\">\n<tr><th>Reporting period</th><td>", f);
  value(f, rep, "period_from", F_TIME, NULL);
  fputs(" to ", f);
  value(f, rep, "period_to", F_TIME, NULL);
  fputs(" (local time, ", f);
  esc(f, sget(rep, "tz"));
  fputs(")</td></tr>\n<tr><th>Generated</th><td>", f);
  value(f, rep, "generated_at", F_TIME, NULL);
  fputs(" local (", f);
  esc(f, sget(rep, "generated_at_utc"));
  fputs(") by hub ", f);
  esc(f, sget(rep, "hub_id"));
  fputs("</td></tr>\n<tr><th>CEMS data processed up to</th><td>", f);
  value(f, rep, "cems_closed_until", F_TIME, NULL);
  if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(rep, "cems_data_through"))) {
    fputs("; emissions and compliance cover the hours before ", f);
    value(f, rep, "cems_data_through", F_TIME, NULL);
    if (!is_true(rep, "cems_year_complete")) fputs(" <b class=\"bad\">(year not complete)</b>", f);
  }
  fputs("</td></tr>\n<tr><th>Emission factors</th><td>", f);
  esc(f, sget(rep, "factor_table_title"));
  fputs(" <span class=\"sub\">(", f);
  esc(f, sget(rep, "factor_table"));
  fputs(")</span></td></tr>\n<tr><th>Enterprises</th><td>", f);
  value(f, rep, "enterprises_count", F_INT, NULL);
  fputs("</td></tr>\n</table>\n", f);
}

static void notes(FILE *f, const cJSON *rep) {
  heading(f, "h3", "Methods");
  fputs("<ol class=\"notes\">\n", f);
  const cJSON *it;
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(rep, "notes")) {
    fputs("<li>", f);
    esc(f, cJSON_IsString(it) ? it->valuestring : "");
    fputs("</li>\n", f);
  }
  fputs("</ol>\n", f);
}

int ph_report_render_html(const cJSON *rep, FILE *f) {
  const cJSON *park = cJSON_GetObjectItemCaseSensitive(rep, "park_summary");
  const cJSON *y = cJSON_GetObjectItemCaseSensitive(rep, "year");
  int year = cJSON_IsNumber(y) ? (int)y->valuedouble : 0;
  fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", f);
  fprintf(f, "Annual environmental report %d &#8212; ", year);
  esc(f, sget(rep, "park_name"));
  fputs(" (", f);
  esc(f, sget(rep, "park"));
  fprintf(f, ")</title>\n<style>%s</style>\n</head>\n<body>\n", css);
  title_block(f, rep);

  fputs("<section>\n<h2>Park summary: ", f);
  esc(f, sget(rep, "park_name"));
  fputs("</h2>\n", f);
  emissions(f, park, true);
  compliance(f, park);
  pcdd_park(f, park);
  monitoring(f, park, true);
  water(f, park, true);
  indicators(f, park);
  notes(f, rep);
  fputs("</section>\n", f);

  const cJSON *e;
  cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(rep, "enterprises")) {
    fputs("<section class=\"ent\">\n<div class=\"running\">", f);
    esc(f, sget(rep, "park_name"));
    fprintf(f, " &#183; annual report %d &#183; ", year);
    esc(f, sget(e, "id"));
    fputs("</div>\n<h2>", f);
    esc(f, sget(e, "name"));
    fputs("</h2>\n", f);
    KV(f, e, ent_kv);
    monitoring_period(f, e);
    emissions(f, e, false);
    compliance(f, e);
    pcdd_ent(f, e);
    monitoring(f, e, false);
    water(f, e, false);
    indicators(f, e);
    fputs("</section>\n", f);
  }
  fputs("</body>\n</html>\n", f);
  return ferror(f) ? PH_EIO : 0;
}
