/* api_int.h — what the HTTP API's files share: the request as the
 * handlers see it (no libmicrohttpd types: api.c owns the server), the
 * output buffer with its JSON and CSV writers (api_csv.c), row output
 * (api_rows.c), and the handlers (api_query.c, api_series.c, api_cems.c). */
#ifndef PH_API_INT_H
#define PH_API_INT_H

#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api_sql.h"
#include "api/api.h"
#include "parkhub/catalog.h"
#include "config/hub_config.h"
#include "parkhub/tz.h"

/* ---- output buffer (api_csv.c) ---- */

struct api_buf {
  char *p; /* ph_malloc'd; NUL-terminated while len < cap */
  size_t len, cap;
  bool oom; /* an append failed: the response becomes a 500 */
};

void api_buf_init(struct api_buf *b);
void api_buf_fini(struct api_buf *b);
void api_buf_reset(struct api_buf *b);
void api_buf_put(struct api_buf *b, const void *s, size_t n);
void api_buf_puts(struct api_buf *b, const char *s);
void api_buf_printf(struct api_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Shortest text that reads back as the same double ("%.15g", else "%.17g"). */
int api_fmt_double(double v, char *out, size_t cap);

/* JSON writer: keys are NULL inside arrays; commas are its business. */
#define API_JSON_DEPTH 16
struct api_json {
  struct api_buf *b;
  int depth;
  bool more[API_JSON_DEPTH]; /* the container at that depth already has an element */
};
void aj_init(struct api_json *j, struct api_buf *b);
void aj_obj(struct api_json *j, const char *key);
void aj_end_obj(struct api_json *j);
void aj_arr(struct api_json *j, const char *key);
void aj_end_arr(struct api_json *j);
void aj_str(struct api_json *j, const char *key, const char *v); /* NULL: null */
void aj_num(struct api_json *j, const char *key, double v);       /* NaN/inf: null */
void aj_int(struct api_json *j, const char *key, int64_t v);
void aj_bool(struct api_json *j, const char *key, bool v);
void aj_null(struct api_json *j, const char *key);
void aj_time(struct api_json *j, const char *key, int64_t ms); /* RFC 3339 UTC */
void api_json_string(struct api_buf *b, const char *s);         /* a quoted, escaped JSON string */

/* CSV writer (RFC 4180, CRLF rows). */
struct api_csv {
  struct api_buf *b;
  bool more; /* the row has a field already */
};
void ac_init(struct api_csv *c, struct api_buf *b);
void ac_line(struct api_csv *c, const char *raw); /* a whole line as is (headers) */
void ac_str(struct api_csv *c, const char *v);    /* NULL: empty */
void ac_num(struct api_csv *c, double v);         /* NaN: empty */
void ac_int(struct api_csv *c, int64_t v);
void ac_time(struct api_csv *c, int64_t ms);
void ac_end(struct api_csv *c);

/* Row output (api_rows.c): a handler describes each row once, cell by cell
 * in the order of its columns (NULL-terminated names, borrowed for the
 * writer's life); JSON renders {..., "<key>": [ {col: cell, ...}, ... ],
 * "count": n, "next": ...}, CSV a header line of the names and one line per
 * row. ar_head is the JSON document for the fields before the array, NULL
 * for CSV (which has none). */
struct api_req;
struct api_rows {
  struct api_req *r;
  const char *const *cols;
  int ncols, col;
  int64_t count; /* rows ended */
  bool csv;
  struct api_json j;
  struct api_csv c;
};
void ar_begin(struct api_rows *w, struct api_req *r, const char *const *cols); /* sets r->ctype */
struct api_json *ar_head(struct api_rows *w);
void ar_open(struct api_rows *w, const char *key); /* the array of rows (JSON) */
void ar_row(struct api_rows *w);
void ar_str(struct api_rows *w, const char *v); /* NULL: null */
void ar_int(struct api_rows *w, int64_t v);
void ar_num(struct api_rows *w, double v); /* NaN/inf: null */
void ar_bool(struct api_rows *w, bool v);
void ar_time(struct api_rows *w, int64_t ms); /* RFC 3339 UTC */
void ar_null(struct api_rows *w);
void ar_end_row(struct api_rows *w); /* missing cells become null */
void ar_finish(struct api_rows *w, const char *next); /* JSON: count, next (NULL: null), end */

/* ---- the request (api.c) ---- */

struct api_worker; /* per thread: read connection and statements */

struct api_req {
  const struct ph_api_env *env;
  const struct ph_api_conf *conf;
  void *conn; /* struct MHD_Connection * */
  const struct ph_api_token *tok;
  struct api_worker *w;
  const char *seg[8]; /* path segments after /api/v1/parks/{park} */
  int nseg;
  int park_idx;
  const struct ph_hub_park *park;
  const struct ph_tz *tz;
  bool csv;
  const char *format;            /* the format argument as given, or NULL */
  const char *body;              /* request body (POST) */
  size_t body_len;
  bool body_too_large;           /* longer than PH_API_BODY_MAX: 413 */
  /* response */
  int status;
  struct api_buf out;
  const char *ctype;
  char link[1200];   /* next page: the URL path and query, "" when none */
};

/* A query argument, or NULL. */
const char *api_arg(struct api_req *r, const char *name);
/* 0 when every argument is in allowed (NULL-terminated; "format" always is)
 * and none is repeated; else writes a 400 and returns it. */
int api_args_check(struct api_req *r, const char *const *allowed);
/* The worker's statement, reset and unbound; NULL on failure (the
 * connection's error is in api_db_fail). */
sqlite3_stmt *api_stmt(struct api_req *r, enum api_stmt_id id);
sqlite3 *api_db(struct api_req *r);
int api_db_fail(struct api_req *r, const char *what);
/* Writes the error document {"error":{"status","message","param"}} and
 * returns status. param may be NULL. */
int api_fail(struct api_req *r, int status, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Whether the alarms table exists (another module makes it). */
bool api_has_alarms(struct api_req *r);
/* The token may act on park (its parks list, or every park). */
bool api_token_sees(const struct ph_api_token *t, const char *park);

/* Argument parsers: 0, or a 400 written naming the argument. */
int api_arg_time(struct api_req *r, const char *name, bool required, int64_t *out, bool *given);
int api_arg_id(struct api_req *r, const char *name, bool required, const char **out);
int api_arg_int(struct api_req *r, const char *name, int64_t min, int64_t max, int64_t def, int64_t *out);
/* Index of the argument's value in words (NULL-terminated), def when absent. */
int api_arg_word(struct api_req *r, const char *name, const char *const *words, int def, int *out);

/* ---- handlers: fill r->out, return the status ---- */

int api_get_parks(struct api_req *r);
int api_get_enterprises(struct api_req *r);
int api_get_points(struct api_req *r);
int api_get_series(struct api_req *r);
int api_get_summary(struct api_req *r);
int api_get_alarms(struct api_req *r);
int api_post_ack(struct api_req *r);
/* The dashboard's catalogue and one alarm's log (api_catalog.c) */
int api_get_catalog(struct api_req *r);
int api_get_alarm_log(struct api_req *r);

/* CEMS means and exceedances (api_cems.c) */
int api_get_cems_hours(struct api_req *r);
int api_get_cems_days(struct api_req *r);
int api_get_cems_exceedances(struct api_req *r);

#endif
