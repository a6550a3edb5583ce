/* api_rows.c — a table of rows described once and rendered as JSON or CSV
 * (api_int.h, "row output"): the handler names its columns, then gives each
 * row's cells in column order; JSON gets one object per row inside an array
 * of the document, CSV a header line and one line per row. No handler
 * branches on the format for a row.
 *
 * Callers: the handlers of api_cems.c. Threads: the request's.
 *
 * Invariants:
 *  1. every row has every column, in the header's order: a cell given past
 *     the last column is dropped, a row ended early is padded with nulls
 *     (empty in CSV), so a CSV line always has the header's field count.
 *  2. null is JSON null and an empty CSV field; booleans are true/false in
 *     both; times are RFC 3339 UTC (api_csv.c inv. 3).
 */
#include <string.h>

#include "api_int.h"

void ar_begin(struct api_rows *w, struct api_req *r, const char *const *cols) {
  memset(w, 0, sizeof *w);
  w->r = r;
  w->cols = cols;
  w->csv = r->csv;
  while (cols[w->ncols]) w->ncols++;
  r->ctype = r->csv ? "text/csv; charset=utf-8" : "application/json";
  if (w->csv) {
    ac_init(&w->c, &r->out);
    for (int i = 0; i < w->ncols; i++) ac_str(&w->c, cols[i]);
    ac_end(&w->c);
  } else {
    aj_init(&w->j, &r->out);
    aj_obj(&w->j, NULL);
  }
}

struct api_json *ar_head(struct api_rows *w) { return w->csv ? NULL : &w->j; }

void ar_open(struct api_rows *w, const char *key) {
  if (!w->csv) aj_arr(&w->j, key);
}

void ar_row(struct api_rows *w) {
  w->col = 0;
  if (!w->csv) aj_obj(&w->j, NULL);
}

/* The next column's name, or NULL past the last (the cell is dropped). */
static const char *next_col(struct api_rows *w) { return w->col < w->ncols ? w->cols[w->col++] : NULL; }

void ar_null(struct api_rows *w) {
  const char *k = next_col(w);
  if (!k) return;
  if (w->csv)
    ac_str(&w->c, NULL);
  else
    aj_null(&w->j, k);
}

void ar_str(struct api_rows *w, const char *v) {
  if (!v) return ar_null(w);
  const char *k = next_col(w);
  if (!k) return;
  if (w->csv)
    ac_str(&w->c, v);
  else
    aj_str(&w->j, k, v);
}

void ar_int(struct api_rows *w, int64_t v) {
  const char *k = next_col(w);
  if (!k) return;
  if (w->csv)
    ac_int(&w->c, v);
  else
    aj_int(&w->j, k, v);
}

void ar_num(struct api_rows *w, double v) {
  const char *k = next_col(w);
  if (!k) return;
  if (w->csv)
    ac_num(&w->c, v);
  else
    aj_num(&w->j, k, v);
}

void ar_bool(struct api_rows *w, bool v) {
  const char *k = next_col(w);
  if (!k) return;
  if (w->csv)
    ac_str(&w->c, v ? "true" : "false");
  else
    aj_bool(&w->j, k, v);
}

void ar_time(struct api_rows *w, int64_t ms) {
  const char *k = next_col(w);
  if (!k) return;
  if (w->csv)
    ac_time(&w->c, ms);
  else
    aj_time(&w->j, k, ms);
}

void ar_end_row(struct api_rows *w) {
  while (w->col < w->ncols) ar_null(w); /* inv. 1 */
  if (w->csv)
    ac_end(&w->c);
  else
    aj_end_obj(&w->j);
  w->count++;
}

void ar_finish(struct api_rows *w, const char *next) {
  if (w->csv) return;
  aj_end_arr(&w->j);
  aj_int(&w->j, "count", w->count);
  if (next)
    aj_str(&w->j, "next", next);
  else
    aj_null(&w->j, "next");
  aj_end_obj(&w->j);
  api_buf_put(&w->r->out, "\n", 1);
}
