/* api_rows.c — the format-neutral row writer (api_rows.h): a table of rows
 * described once and rendered as JSON or CSV. The handler names its
 * columns, then gives each row's cells in column order; JSON gets one
 * object per row inside an array of the document, CSV a header line and
 * one line per row.
 *
 * Callers: every data handler. Threads: the request's.
 *
 * Invariants:
 *  1. every row has every column of its format, in the header's order: a
 *     cell given past the last column is dropped, a row ended early is
 *     padded with nulls (empty in CSV), so a CSV line always has the
 *     header's field count. A column of the other format only (API_COL_CSV
 *     / API_COL_JSON) takes its cell and writes nothing.
 *  2. null is JSON null and an empty CSV field; booleans are true/false in
 *     both; times are RFC 3339 UTC (api_out.c inv. 3).
 *  3. a CSV document starts with the UTF-8 BOM unless the request said
 *     bom=0, so that Excel and WPS on Chinese Windows read UTF-8 names.
 *  4. rounding is CSV's alone (a column's `decimals`): JSON numbers stay
 *     exact (api_out.c inv. 2).
 */
#include "api_rows.h"

#include <string.h>

static bool shown(const struct api_rows *w, const struct api_col *c) {
  return !(c->flags & (w->csv ? API_COL_JSON : API_COL_CSV));
}

void ar_begin_cols(struct api_rows *w, struct api_req *r, const struct api_col *cols) {
  memset(w, 0, sizeof *w);
  w->r = r;
  w->cols = cols;
  w->csv = r->csv;
  while (cols[w->ncols].name && w->ncols < API_ROWS_MAXCOLS) w->ncols++;
  r->ctype = r->csv ? "text/csv; charset=utf-8" : "application/json";
  if (w->csv) {
    if (r->bom) api_buf_puts(&r->out, API_CSV_BOM); /* inv. 3 */
    ac_init(&w->c, &r->out);
    for (int i = 0; i < w->ncols; i++)
      if (shown(w, &cols[i])) ac_str(&w->c, cols[i].name);
    ac_end(&w->c);
  } else {
    aj_init(&w->j, &r->out);
    aj_obj(&w->j, NULL);
  }
}

void ar_begin_names(struct api_rows *w, struct api_req *r, const char *const *names) {
  struct api_col own[API_ROWS_MAXCOLS + 1];
  int n = 0;
  for (; names[n] && n < API_ROWS_MAXCOLS; n++) own[n] = (struct api_col){.name = names[n], .type = API_STR};
  own[n] = (struct api_col)API_COL_END;
  ar_begin_cols(w, r, own); /* clears w */
  memcpy(w->own, own, sizeof own);
  w->cols = w->own;
}

void ar_group(struct api_rows *w, const char *key) { w->group_key = key; }

struct api_json *ar_head(struct api_rows *w) { return w->csv ? NULL : &w->j; }

void ar_open(struct api_rows *w, const char *key) {
  if (!w->csv) aj_arr(&w->j, key);
}

void ar_row(struct api_rows *w) {
  w->col = 0;
  w->row_open = false;
  if (!w->csv && !w->group_key) {
    aj_obj(&w->j, NULL);
    w->row_open = true;
  }
}

static void close_group(struct api_rows *w) {
  if (!w->group_open) return;
  aj_end_arr(&w->j);
  aj_end_obj(&w->j);
  w->group_open = false;
}

/* JSON, grouped: column 0's value opens a new group when it changes. */
static void group_cell(struct api_rows *w, const char *key, const char *v) {
  if (w->group_open && v && !strcmp(w->group, v)) return;
  close_group(w);
  aj_obj(&w->j, NULL);
  aj_str(&w->j, key, v);
  aj_arr(&w->j, w->group_key);
  snprintf(w->group, sizeof w->group, "%s", v ? v : "");
  w->group_open = true;
}

/* The next column to write a cell in, or NULL when this format does not
 * show it or the row is full (the cell is dropped, inv. 1). In grouped
 * JSON, the row object opens at its first cell after the group's. */
static const struct api_col *next_col(struct api_rows *w) {
  if (w->col >= w->ncols) return NULL;
  const struct api_col *c = &w->cols[w->col++];
  if (!shown(w, c)) return NULL;
  if (!w->csv && w->group_key && w->col > 1 && !w->row_open) {
    aj_obj(&w->j, NULL);
    w->row_open = true;
  }
  return c;
}

void ar_null(struct api_rows *w) {
  const struct api_col *c = next_col(w);
  if (!c) return;
  if (w->csv)
    ac_str(&w->c, NULL);
  else if (w->group_key && w->col == 1)
    group_cell(w, c->name, NULL);
  else if (!(c->flags & API_COL_OMIT_NULL))
    aj_null(&w->j, c->name);
}

void ar_str(struct api_rows *w, const char *v) {
  if (!v) return ar_null(w);
  const struct api_col *c = next_col(w);
  if (!c) return;
  if (w->csv)
    ac_str(&w->c, v);
  else if (w->group_key && w->col == 1)
    group_cell(w, c->name, v);
  else
    aj_str(&w->j, c->name, v);
}

void ar_int(struct api_rows *w, int64_t v) {
  const struct api_col *c = next_col(w);
  if (!c) return;
  if (w->csv)
    ac_int(&w->c, v);
  else
    aj_int(&w->j, c->name, v);
}

void ar_num(struct api_rows *w, double v) {
  if (v != v) return ar_null(w); /* NaN: null, so that OMIT_NULL applies */
  const struct api_col *c = next_col(w);
  if (!c) return;
  if (w->csv && c->rounded)
    ac_fixed(&w->c, v, c->decimals); /* inv. 4 */
  else if (w->csv)
    ac_num(&w->c, v);
  else
    aj_num(&w->j, c->name, v);
}

void ar_bool(struct api_rows *w, bool v) {
  const struct api_col *c = next_col(w);
  if (!c) return;
  if (w->csv)
    ac_str(&w->c, v ? "true" : "false");
  else
    aj_bool(&w->j, c->name, v);
}

void ar_time(struct api_rows *w, int64_t ms) {
  const struct api_col *c = next_col(w);
  if (!c) return;
  if (w->csv)
    ac_time(&w->c, ms);
  else
    aj_time(&w->j, c->name, ms);
}

struct api_json *ar_json(struct api_rows *w) { return w->csv || !w->row_open ? NULL : &w->j; }

void ar_end_row(struct api_rows *w) {
  bool group_only = !w->csv && w->group_key && !w->row_open;
  if (!group_only)
    while (w->col < w->ncols) ar_null(w); /* inv. 1 */
  if (w->csv)
    ac_end(&w->c);
  else if (w->row_open)
    aj_end_obj(&w->j);
  w->row_open = false;
  if (!group_only) w->count++;
}

void ar_end(struct api_rows *w) {
  if (w->csv) return;
  close_group(w);
  aj_end_arr(&w->j);
  aj_end_obj(&w->j);
  api_buf_put(&w->r->out, "\n", 1);
}

static void finish(struct api_rows *w, bool with_cursor, const char *cursor, const char *next) {
  if (w->csv) return;
  close_group(w);
  aj_end_arr(&w->j);
  aj_int(&w->j, "count", w->count);
  if (with_cursor) aj_str(&w->j, "cursor", cursor);
  aj_str(&w->j, "next", next);
  aj_end_obj(&w->j);
  api_buf_put(&w->r->out, "\n", 1);
}

void ar_finish(struct api_rows *w, const char *next) { finish(w, false, NULL, next); }

void ar_finish_cursor(struct api_rows *w, const char *cursor, const char *next) { finish(w, true, cursor, next); }
