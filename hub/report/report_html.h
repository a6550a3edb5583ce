/* report_html.h — the HTML renderer's parts, internal to hub/report/:
 *
 *   report_html.c           the page: head and style, title block, methods,
 *                           the park summary then one section per enterprise
 *   report_html_sections.c  one function per section of a scope
 *   report_html_table.c     text, numbers and tables (escaping, units,
 *                           significant digits, "n/a (reason)")
 *
 * Threads: the caller's. Nothing is owned: every function reads the tree
 * (borrowed) and writes to f. The invariants of report_html.c hold for all
 * three files (every text through html_esc; null figures as "n/a (reason)").
 */
#ifndef HUB_REPORT_HTML_H
#define HUB_REPORT_HTML_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "parkhub/lang.h"

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

struct col {
  const char *key, *label, *unit; /* unit "@k": the row's k; shown after each value */
  enum fmt f;
  const char *sub; /* optional: another key of the row, on a second line … */
  enum fmt subf;
  const char *sep; /* … or on the same line after this separator */
};

struct kv {
  const char *key, *label, *unit;
  enum fmt f;
};

/* ---- report_html_table.c ---- */

/* The page's language (report_html_table.c inv. 3) and its words. */
void html_lang_set(enum ph_lang l);
enum ph_lang html_lang(void);
const char *html_w(const char *en); /* report_words.h, in the page's language */
void html_reason(FILE *f, const char *en); /* escaped, translated (patterns too) */
void html_na(FILE *f, const char *reason); /* "n/a (reason)" in the page's language */
void html_note(FILE *f, const char *html_en); /* <p class="note"> with the translated HTML */

void html_esc(FILE *f, const char *s); /* inv. 1 */
void html_unit(FILE *f, const char *u); /* escaped, with m3 → m³ and ug → µg */
const char *html_get_str(const cJSON *o, const char *k); /* NULL when not a string */
const char *html_sget(const cJSON *o, const char *k);    /* "" when not a string */
bool html_has_num(const cJSON *o, const char *k, double *v);
bool html_is_true(const cJSON *o, const char *k);
void html_fmt_sig(double v, int sig, char *buf, size_t cap);
/* The figure o[k] as HTML (inv. 2); unit_s (may be NULL) follows a number. */
void html_value(FILE *f, const cJSON *o, const char *k, enum fmt fm, const char *unit_s);
void html_table(FILE *f, const cJSON *rows, const struct col *cols, size_t n, const char *empty);
void html_kv_table(FILE *f, const cJSON *o, const struct kv *kv, size_t n);
void html_heading(FILE *f, const char *tag, const char *text);
/* A scope-level reason ("emissions_na" …) when the section has no rows. */
const char *html_why_empty(const cJSON *scope, const char *k, const char *dflt);

#define TABLE(f, rows, cols, empty) html_table(f, rows, cols, sizeof cols / sizeof cols[0], empty)
#define KV(f, o, kv) html_kv_table(f, o, kv, sizeof kv / sizeof kv[0])

/* ---- report_html.c: the page frame, shared with the region page
 * (report_region_html.c) ---- */

void html_page_open(FILE *f, enum ph_lang lang); /* up to <title>: the caller writes the title */
void html_page_body(FILE *f);                    /* </title>, the style, <body> */
int html_page_close(FILE *f);                    /* </body>; 0 or PH_EIO */
void html_park_report(FILE *f, const cJSON *rep); /* a park's report: title block, summary, enterprises */
void html_notes(FILE *f, const cJSON *rep);       /* "Methods": the report's notes, numbered */

/* ---- report_html_sections.c: a scope's sections (park: the park summary) ---- */

void html_emissions(FILE *f, const cJSON *scope, bool park);
void html_water(FILE *f, const cJSON *scope, bool park);
void html_compliance(FILE *f, const cJSON *scope);
void html_monitoring_period(FILE *f, const cJSON *scope);
void html_pcdd_ent(FILE *f, const cJSON *scope);
void html_pcdd_park(FILE *f, const cJSON *scope);
void html_monitoring(FILE *f, const cJSON *scope, bool park);
void html_indicators(FILE *f, const cJSON *scope);

#endif
