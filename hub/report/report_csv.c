/* report_csv.c — the report tree (report_json.c) as CSV blocks.
 *
 * Callers: ph_report_render. Threads: the caller's. Owns nothing after
 * returning.
 *
 * Layout (docs/report.md): one CSV block per section, blocks separated by
 * one empty line, every block with its own header row. Each row starts with
 * three columns: section, scope ("park" or "enterprise") and scope_id (the
 * park's or the enterprise's id); the others are the JSON keys of that section's
 * rows, in order of first appearance. Sections are named by their path in
 * a scope: "report" (the tree's top-level figures), "park", "enterprise"
 * (a scope's own figures), "emissions", "compliance", "pcdd_f",
 * "pcdd_f.stacks", …; the park's and every enterprise's rows of a section
 * are in the same block.
 *
 * Invariants:
 *  1. Generic: every scalar of the tree is in exactly one cell; nothing is
 *     computed here.
 *  2. A null figure is written "n/a (reason)" from its "<key>_na" sibling,
 *     which then has no column of its own; a cell is empty only when the
 *     key does not exist for that row's scope (e.g. the park's
 *     "enterprises" count on an enterprise row).
 *  3. RFC 4180 quoting (comma, quote, CR, LF); LF line ends; text cells
 *     that a spreadsheet would take for a formula (= + - @, tab or CR at the start)
 *     get a leading apostrophe. Numbers are written with up to 10
 *     significant digits.
 *  4. Language (docs/report.md, "CSV and language"): the header row, the
 *     section names and every value that is a code stay the JSON's English
 *     keys and codes in every language, so a machine reads one layout; the
 *     human text is in the chosen language: the reason of a null figure
 *     ("n/a (" + reason + ")", the "n/a" marker itself stable), and the
 *     catalogue's names, which the rows carry as "name" and "name_zh"
 *     columns side by side.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "report/report.h"
#include "report_region.h"
#include "report_words.h"

struct srow {
  const char *scope, *id;
  const cJSON *o;
};
struct section {
  char name[96];
  struct srow *rows;
  size_t n, cap;
};
struct sections {
  struct section *s;
  size_t n, cap;
  bool oom;
};

static struct section *section(struct sections *ss, const char *name) {
  for (size_t i = 0; i < ss->n; i++)
    if (strcmp(ss->s[i].name, name) == 0) return &ss->s[i];
  if (ss->n == ss->cap) {
    size_t cap = ss->cap ? ss->cap * 2 : 16;
    struct section *n = ph_realloc(ss->s, cap * sizeof *n);
    if (!n) return NULL;
    ss->s = n;
    ss->cap = cap;
  }
  struct section *s = &ss->s[ss->n++];
  memset(s, 0, sizeof *s);
  snprintf(s->name, sizeof s->name, "%s", name);
  return s;
}

static void add_row(struct sections *ss, const char *name, const char *scope, const char *id, const cJSON *o) {
  struct section *s = section(ss, name);
  if (!s) {
    ss->oom = true;
    return;
  }
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    struct srow *n = ph_realloc(s->rows, cap * sizeof *n);
    if (!n) {
      ss->oom = true;
      return;
    }
    s->rows = n;
    s->cap = cap;
  }
  s->rows[s->n++] = (struct srow){scope, id, o};
}

static bool strings_only(const cJSON *a) {
  const cJSON *it;
  cJSON_ArrayForEach(it, a) if (!cJSON_IsString(it)) return false;
  return true;
}

/* A member that is a cell: scalars, null, non-empty arrays of strings
 * (an empty array is a section without rows). */
static bool is_cell(const cJSON *v) {
  return !cJSON_IsObject(v) && !(cJSON_IsArray(v) && (!v->child || !strings_only(v)));
}

/* "<k>_na" whose figure k is in the same object: folded into k's cell (inv. 2). */
static bool folded(const cJSON *o, const char *key) {
  size_t n = strlen(key);
  if (n < 4 || strcmp(key + n - 3, "_na") != 0) return false;
  char k[128];
  snprintf(k, sizeof k, "%.*s", (int)(n - 3), key);
  return cJSON_GetObjectItemCaseSensitive(o, k) != NULL;
}

/* The object's own cells as a row of `name`, then its nested sections. */
static void walk(struct sections *ss, const char *name, const char *scope, const char *id, const cJSON *o) {
  add_row(ss, name, scope, id, o);
  const cJSON *v;
  cJSON_ArrayForEach(v, o) {
    if (is_cell(v)) continue;
    char sub[96];
    bool top = strcmp(name, "park") == 0 || strcmp(name, "enterprise") == 0; /* "region" keeps its prefix */
    snprintf(sub, sizeof sub, "%s%s%s", top ? "" : name, top ? "" : ".", v->string);
    if (cJSON_IsObject(v)) {
      walk(ss, sub, scope, id, v);
    } else {
      const cJSON *it;
      cJSON_ArrayForEach(it, v) if (cJSON_IsObject(it)) walk(ss, sub, scope, id, it);
    }
  }
}

/* ---- cells ---- */

static void put_text(FILE *f, const char *s, bool guard) {
  bool quote = strpbrk(s, ",\"\r\n") != NULL;
  bool formula = guard && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r');
  if (quote) fputc('"', f);
  if (formula) fputc('\'', f);
  for (const char *p = s; *p; p++) {
    if (*p == '"') fputc('"', f);
    fputc(*p, f);
  }
  if (quote) fputc('"', f);
}

static void put_cell(FILE *f, const cJSON *o, const char *key, enum ph_lang lang) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  char buf[640], why[560];
  if (!v) return;
  if (cJSON_IsNumber(v)) {
    fprintf(f, "%.10g", v->valuedouble);
  } else if (cJSON_IsBool(v)) {
    fputs(cJSON_IsTrue(v) ? "true" : "false", f);
  } else if (cJSON_IsNull(v)) {
    snprintf(buf, sizeof buf, "n/a (%s)", ph_report_reason(lang, ph_report_na(o, key), why, sizeof why)); /* inv. 4 */
    put_text(f, buf, false);
  } else if (cJSON_IsString(v)) {
    put_text(f, v->valuestring, true);
  } else if (cJSON_IsArray(v)) {
    size_t n = 0;
    buf[0] = '\0';
    const cJSON *it;
    cJSON_ArrayForEach(it, v) {
      n += (size_t)snprintf(buf + n, n < sizeof buf ? sizeof buf - n : 0, "%s%s", n ? "; " : "", it->valuestring);
      if (n >= sizeof buf) break;
    }
    put_text(f, buf, true);
  }
}

/* Columns of a section: cell keys of its rows in order of first appearance. */
static int columns(const struct section *s, const char ***out, size_t *nout) {
  size_t n = 0, cap = 32;
  const char **cols = ph_malloc(cap * sizeof *cols);
  if (!cols) return PH_ENOMEM;
  for (size_t r = 0; r < s->n; r++) {
    const cJSON *v;
    cJSON_ArrayForEach(v, s->rows[r].o) {
      if (!is_cell(v) || folded(s->rows[r].o, v->string)) continue;
      size_t i = 0;
      while (i < n && strcmp(cols[i], v->string) != 0) i++;
      if (i < n) continue;
      if (n == cap) {
        const char **nc = ph_realloc(cols, cap * 2 * sizeof *nc);
        if (!nc) {
          ph_free(cols);
          return PH_ENOMEM;
        }
        cols = nc;
        cap *= 2;
      }
      cols[n++] = v->string;
    }
  }
  *out = cols;
  *nout = n;
  return 0;
}

static int block(FILE *f, const struct section *s, enum ph_lang lang) {
  const char **cols;
  size_t n;
  if (columns(s, &cols, &n)) return PH_ENOMEM;
  fputs("section,scope,scope_id", f);
  for (size_t i = 0; i < n; i++) {
    fputc(',', f);
    put_text(f, cols[i], false);
  }
  fputc('\n', f);
  for (size_t r = 0; r < s->n; r++) {
    put_text(f, s->name, false);
    fputc(',', f);
    put_text(f, s->rows[r].scope, false);
    fputc(',', f);
    put_text(f, s->rows[r].id, false);
    for (size_t i = 0; i < n; i++) {
      fputc(',', f);
      put_cell(f, s->rows[r].o, cols[i], lang);
    }
    fputc('\n', f);
  }
  ph_free(cols);
  return 0;
}

static int blocks(struct sections *ss, enum ph_lang lang, FILE *out) {
  int rc = ss->oom ? PH_ENOMEM : 0;
  for (size_t i = 0; i < ss->n && !rc; i++) {
    if (i) fputc('\n', out);
    rc = block(out, &ss->s[i], lang);
  }
  for (size_t i = 0; i < ss->n; i++) ph_free(ss->s[i].rows);
  ph_free(ss->s);
  if (!rc && ferror(out)) rc = PH_EIO;
  return rc;
}

/* The region report's own blocks (report_region.h): "region_report" (the
 * top-level figures), "region", "region.pcdd_f", "region.emissions",
 * "region.compliance", scope "region"; the parks follow as their own
 * reports (report_region.c). */
int ph_report_render_csv_region(const cJSON *report, enum ph_lang lang, FILE *out) {
  struct sections ss = {0};
  add_row(&ss, "region_report", "region", "", report);
  const cJSON *reg = cJSON_GetObjectItemCaseSensitive(report, "region");
  if (cJSON_IsObject(reg)) walk(&ss, "region", "region", "", reg);
  return blocks(&ss, lang, out);
}

int ph_report_render_csv(const cJSON *report, enum ph_lang lang, FILE *out) {
  struct sections ss = {0};
  const cJSON *park = cJSON_GetObjectItemCaseSensitive(report, "park_summary");
  const char *park_id = "";
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(park, "id");
  if (cJSON_IsString(p)) park_id = p->valuestring;
  add_row(&ss, "report", "park", park_id, report);
  if (cJSON_IsObject(park)) walk(&ss, "park", "park", park_id, park);
  const cJSON *e;
  cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(report, "enterprises")) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
    walk(&ss, "enterprise", "enterprise", cJSON_IsString(id) ? id->valuestring : "", e);
  }
  return blocks(&ss, lang, out);
}
