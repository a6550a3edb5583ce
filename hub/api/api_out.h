/* api_out.h — the HTTP API's output primitives: a growing buffer and the
 * two low-level writers over it, JSON and CSV (RFC 4180), implemented in
 * api_out.c. Handlers write rows through api_rows.h, which renders either
 * format from one column description; they use these writers directly only
 * for the JSON around the rows (a document's head, nested detail).
 *
 * Ownership: a buffer owns its bytes (ph_malloc); a writer borrows its
 * buffer. Threads: one request's, never shared. */
#ifndef PH_API_OUT_H
#define PH_API_OUT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
/* v with exactly decimals (0..9) digits after the point, "-0" written as
 * "0" (a rounded -0.04 is not a negative reading). */
int api_fmt_fixed(double v, int decimals, char *out, size_t cap);

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
/* A value written already (n bytes of JSON, e.g. a document another writer
 * made): placed as is, with the comma and key this writer owes. */
void aj_raw(struct api_json *j, const char *key, const char *v, size_t n);
void api_json_string(struct api_buf *b, const char *s);         /* a quoted, escaped JSON string */

/* CSV writer (RFC 4180, CRLF rows). */
struct api_csv {
  struct api_buf *b;
  bool more; /* the row has a field already */
};
#define API_CSV_BOM "\xEF\xBB\xBF" /* UTF-8 byte order mark: Excel/WPS then read UTF-8 */
void ac_init(struct api_csv *c, struct api_buf *b);
void ac_line(struct api_csv *c, const char *raw); /* a whole line as is (headers) */
void ac_str(struct api_csv *c, const char *v);    /* NULL: empty */
void ac_num(struct api_csv *c, double v);         /* NaN: empty */
void ac_fixed(struct api_csv *c, double v, int decimals); /* NaN: empty */
void ac_int(struct api_csv *c, int64_t v);
void ac_time(struct api_csv *c, int64_t ms);
void ac_end(struct api_csv *c);

#endif
