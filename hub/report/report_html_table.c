/* report_html_table.c — the HTML renderer's text, numbers and tables
 * (report_html.h): escaping, units, significant digits with thin-space
 * groups, one figure as HTML, a table of rows and a key/value table.
 *
 * Callers: report_html.c, report_html_sections.c. Threads: the caller's.
 * Owns nothing.
 *
 * Invariants (report_html.c inv. 1 and 2):
 *  1. Every text from the tree goes through html_esc, labels and units too.
 *  2. A null figure prints "n/a (reason)" from its "<key>_na" sibling; a
 *     missing key prints a dash; nothing is computed, only formatted.
 *  3. The page's language is set once per render (html_lang_set, by
 *     ph_report_render_html on its own thread) and read by every label,
 *     reason and word here: thread-local, so two renders on two threads
 *     (the API's worker and a command) never mix, and the section
 *     functions need no extra argument to pass it down.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/catalog.h"
#include "report/report.h"
#include "report_html.h"
#include "report_words.h"

/* ------------------------------------------------------------ language */

/* The language of the page being rendered (inv. 3). */
static _Thread_local enum ph_lang page_lang = PH_LANG_EN;

void html_lang_set(enum ph_lang l) { page_lang = l; }
enum ph_lang html_lang(void) { return page_lang; }
const char *html_w(const char *en) { return ph_report_word(page_lang, en); }

void html_reason(FILE *f, const char *en) {
  char buf[640];
  html_esc(f, ph_report_reason(page_lang, en, buf, sizeof buf));
}

void html_na(FILE *f, const char *reason) {
  fputs("<span class=\"na\">", f);
  html_esc(f, html_w("n/a"));
  fputs(page_lang == PH_LANG_ZH_CN ? "（" : " (", f);
  html_reason(f, reason);
  fputs(page_lang == PH_LANG_ZH_CN ? "）</span>" : ")</span>", f);
}

/* ------------------------------------------------------------ text */

/* inv. 1 */
void html_esc(FILE *f, const char *s) {
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

/* A unit, escaped, as people write it: the catalogue's symbol form
 * (ph_unit_symbol: mg/Nm3 → mg/m³, degC → °C), then m3 → m³ and
 * ug → µg inside composed units ("ug TEQ/t", "m3/t"). */
void html_unit(FILE *f, const char *u) {
  u = ph_unit_symbol(u);
  for (const char *p = u; p && *p; p++) {
    if (p[0] == 'm' && p[1] == '3' && !(p[2] >= '0' && p[2] <= '9')) {
      fputs("m&#179;", f);
      p++;
    } else if (p[0] == 'u' && p[1] == 'g' && (p == u || !((p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= 'A' && p[-1] <= 'Z')))) {
      fputs("&#181;g", f);
      p++;
    } else {
      char c[2] = {*p, 0};
      html_esc(f, c);
    }
  }
}

const char *html_get_str(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}
const char *html_sget(const cJSON *o, const char *k) {
  const char *s = html_get_str(o, k);
  return s ? s : "";
}
bool html_has_num(const cJSON *o, const char *k, double *v) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
  if (!cJSON_IsNumber(x)) return false;
  if (v) *v = x->valuedouble;
  return true;
}
bool html_is_true(const cJSON *o, const char *k) { return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k)); }

/* ------------------------------------------------------------ numbers */

/* sig significant digits, no exponent for ordinary magnitudes, thin-space
 * groups of thousands. */
void html_fmt_sig(double v, int sig, char *buf, size_t cap) {
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


/* The figure o[k] as HTML (inv. 2); unit_s (may be NULL) follows a number. */
void html_value(FILE *f, const cJSON *o, const char *k, enum fmt fm, const char *unit_s) {
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
  if (cJSON_IsNull(v) && fm == F_RANGE && html_has_num(o, kmin, &lo) && html_has_num(o, kmax, &hi)) {
    html_fmt_sig(lo, 4, b, sizeof b);
    fputs(b, f);
    html_fmt_sig(hi, 4, b, sizeof b);
    fprintf(f, "&#8211;%s", b);
    if (unit_s && unit_s[0]) {
      fputs("&#160;", f);
      html_unit(f, unit_s);
    }
    return;
  }
  if (cJSON_IsNull(v)) {
    html_na(f, ph_report_na(o, k));
    return;
  }
  if (cJSON_IsBool(v)) {
    bool t = cJSON_IsTrue(v);
    fprintf(f, "%s%s%s", t && fm == F_BOOLBAD ? "<b class=\"bad\">" : "", html_w(t ? "yes" : "no"),
            t && fm == F_BOOLBAD ? "</b>" : "");
    return;
  }
  if (cJSON_IsString(v)) {
    const char *s = v->valuestring;
    char kz[96]; /* "<k>_zh" beside a text: the catalogue's Chinese name or label */
    snprintf(kz, sizeof kz, "%s_zh", k);
    s = ph_report_name(page_lang, s, html_get_str(o, kz));
    if (fm == F_TIME && strlen(s) >= 16) {
      fprintf(f, "%.10s&#160;%.5s", s, s + 11);
    } else if (fm == F_UNIT) {
      html_unit(f, s);
    } else if (fm == F_STATUS && (strstr(s, "overdue") || strstr(s, "never") || strstr(s, "not verified") ||
                                  strcmp(s, "unclassified") == 0)) {
      fputs("<b class=\"bad\">", f);
      html_reason(f, s);
      fputs("</b>", f);
    } else if (fm == F_TEXT || fm == F_STATUS) {
      html_reason(f, s); /* words of the tree ("verified", "feed") and reasons; other text as it is */
    } else {
      html_esc(f, s);
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
  default: html_fmt_sig(x, 4, b, sizeof b);
  }
  fputs(b, f);
  if (unit_s && unit_s[0]) {
    fputs("&#160;", f);
    html_unit(f, unit_s);
  }
}

/* ------------------------------------------------------------ tables */


static const char *col_unit(const struct col *c, const cJSON *row) {
  if (!c->unit) return NULL;
  return c->unit[0] == '@' ? html_sget(row, c->unit + 1) : NULL;
}

static bool numeric(enum fmt f) {
  return f == F_INT || f == F_BAD || f == F_NUM || f == F_PCT || f == F_PCTV || f == F_RANGE;
}

void html_table(FILE *f, const cJSON *rows, const struct col *cols, size_t n, const char *empty) {
  if (cJSON_GetArraySize(rows) == 0) {
    fputs("<p class=\"na\">", f);
    html_reason(f, empty);
    fputs("</p>\n", f);
    return;
  }
  fputs("<table>\n<thead><tr>", f);
  for (size_t i = 0; i < n; i++) {
    fprintf(f, "<th%s>", numeric(cols[i].f) ? " class=\"num\"" : "");
    html_esc(f, html_w(cols[i].label));
    if (cols[i].unit && cols[i].unit[0] != '@') {
      fputs(" <span class=\"u\">(", f);
      html_unit(f, cols[i].unit);
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
      html_value(f, r, cols[i].key, cols[i].f, col_unit(&cols[i], r));
      const cJSON *sv = cols[i].sub ? cJSON_GetObjectItemCaseSensitive(r, cols[i].sub) : NULL;
      if (sv && !cJSON_IsNull(sv)) {
        fputs(cols[i].sep ? cols[i].sep : "<br><span class=\"sub\">", f);
        html_value(f, r, cols[i].sub, cols[i].subf, NULL);
        if (!cols[i].sep) fputs("</span>", f);
      }
      fputs("</td>", f);
    }
    fputs("</tr>\n", f);
  }
  fputs("</tbody></table>\n", f);
}


void html_kv_table(FILE *f, const cJSON *o, const struct kv *kv, size_t n) {
  fputs("<table class=\"kv\">\n", f);
  for (size_t i = 0; i < n; i++) {
    if (!cJSON_GetObjectItemCaseSensitive(o, kv[i].key)) continue;
    fputs("<tr><th>", f);
    html_esc(f, html_w(kv[i].label));
    fputs("</th><td>", f);
    html_value(f, o, kv[i].key, kv[i].f, kv[i].unit);
    fputs("</td></tr>\n", f);
  }
  fputs("</table>\n", f);
}

void html_heading(FILE *f, const char *tag, const char *text) {
  fprintf(f, "<%s>", tag);
  html_esc(f, html_w(text));
  fprintf(f, "</%s>\n", tag);
}

/* A scope-level reason ("emissions_na" …) when the section has no rows. */
const char *html_why_empty(const cJSON *scope, const char *k, const char *dflt) {
  const char *s = html_get_str(scope, k);
  return s ? s : dflt;
}

/* A note paragraph: its HTML (not escaped: the renderer's own text) in the
 * page's language. */
void html_note(FILE *f, const char *html_en) {
  fputs("<p class=\"note\">", f);
  fputs(html_w(html_en), f);
  fputs("</p>\n", f);
}
