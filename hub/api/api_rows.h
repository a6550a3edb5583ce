/* api_rows.h — the format-neutral row writer (in the manner of collectd's
 * format_json): a handler describes its columns once — name, type, CSV
 * rounding, which format shows them — then gives each row's cells in
 * column order; the writer renders JSON or CSV from that description. A
 * handler never branches on the format for a row.
 *
 *   JSON  { <head fields>, "<key>": [ {col: cell, ...}, ... ] [, "count": n,
 *           "next": …] }        (ar_head for the fields before the array)
 *   CSV   [BOM] header line of the column names, then one line per row
 *
 * Detail that only JSON carries (an enterprise's agents array) goes through
 * ar_json, which is NULL for CSV. A grouped table (ar_group) nests rows
 * under their first column in JSON ({"point": p, "metrics": [...]}) and
 * stays flat in CSV.
 *
 * Implemented by api_rows.c. Borrows the request and the column array for
 * the writer's life. Threads: the request's. */
#ifndef PH_API_ROWS_H
#define PH_API_ROWS_H

#include <stdbool.h>
#include <stdint.h>

#include "api_out.h"
#include "api_req.h"

enum api_col_type { API_STR, API_INT, API_NUM, API_BOOL, API_TIME };

#define API_COL_CSV 1u       /* the column is in CSV only */
#define API_COL_JSON 2u      /* the column is in JSON only */
#define API_COL_OMIT_NULL 4u /* JSON: a null cell leaves its key out */

struct api_col {
  const char *name;
  enum api_col_type type;
  unsigned flags;
  bool rounded; /* API_NUM in CSV: written with exactly `decimals` digits (JSON keeps full precision) */
  int decimals;
};

/* Column entries (designated, so that a new field defaults to 0). */
#define API_COL(n, t) {.name = (n), .type = (t)}
#define API_COLF(n, t, f) {.name = (n), .type = (t), .flags = (f)}
#define API_COL_END {.name = NULL}

#define API_ROWS_MAXCOLS 48

struct api_rows {
  struct api_req *r;
  const struct api_col *cols;
  int ncols, col;
  int64_t count; /* rows ended */
  bool csv;
  /* grouping (JSON): rows nest under their first column's value */
  const char *group_key;
  char group[160];
  bool group_open, row_open;
  struct api_json j;
  struct api_csv c;
  struct api_col own[API_ROWS_MAXCOLS + 1]; /* ar_begin_names' description */
};

/* Starts the document: ctype, the BOM (r->bom) and header line for CSV,
 * the outer object for JSON. cols ends with API_COL_END. */
void ar_begin_cols(struct api_rows *w, struct api_req *r, const struct api_col *cols);
/* The same from bare names (NULL-terminated): text cells, no rounding; the
 * form handlers used before columns had types, kept so that they compile. */
void ar_begin_names(struct api_rows *w, struct api_req *r, const char *const *names);
/* Either description: ar_begin(w, r, cols) picks by the type of cols. */
#define ar_begin(w, r, cols)                                                                              \
  _Generic((cols), const struct api_col *: ar_begin_cols, struct api_col *: ar_begin_cols,                 \
           default: ar_begin_names)((w), (r), (cols))
/* JSON rows nest under column 0 (a string): {col0: v, key: [rows...]}. */
void ar_group(struct api_rows *w, const char *key);
/* The JSON document for the fields before the array; NULL for CSV. */
struct api_json *ar_head(struct api_rows *w);
void ar_open(struct api_rows *w, const char *key); /* the array of rows (JSON) */
void ar_row(struct api_rows *w);
void ar_str(struct api_rows *w, const char *v); /* NULL: null */
void ar_int(struct api_rows *w, int64_t v);
void ar_num(struct api_rows *w, double v); /* NaN/inf: null */
void ar_bool(struct api_rows *w, bool v);
void ar_time(struct api_rows *w, int64_t ms); /* RFC 3339 UTC */
void ar_null(struct api_rows *w);
/* The row's JSON object, for detail only JSON has (after the cells); NULL for CSV. */
struct api_json *ar_json(struct api_rows *w);
/* Missing cells become null. In a grouped table, a row with no cell after
 * the group's is the group alone (JSON: an empty array; CSV: a row). */
void ar_end_row(struct api_rows *w);
/* Ends the document: JSON closes the array and the object. */
void ar_end(struct api_rows *w);
/* Ends a paged document: JSON adds "count" and "next" (NULL: null). */
void ar_finish(struct api_rows *w, const char *next);
/* As ar_finish, with "cursor" (the next page's cursor, NULL: null) before "next". */
void ar_finish_cursor(struct api_rows *w, const char *cursor, const char *next);

#endif
