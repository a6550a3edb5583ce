/* api_out.c — the HTTP API's output (api_out.h): a growing buffer and the
 * two writers under the row writer (api_rows.c), JSON and CSV (RFC 4180).
 *
 * Callers: api_rows.c, api_req.c (error documents), the handlers for the
 * JSON around their rows. Threads: the caller's; a buffer belongs to one
 * request.
 *
 * Invariants:
 *  1. an append that cannot grow the buffer sets oom and writes nothing
 *     more; the server turns such a response into a 500, never a truncated
 *     200.
 *  2. numbers read back to the same double (shortest of %.15g / %.17g);
 *     NaN and infinities are null in JSON and empty in CSV.
 *  3. times are RFC 3339 UTC with milliseconds, as everywhere in parkhub.
 *  4. no CSV text cell starts a spreadsheet formula: one beginning with =,
 *     +, -, @, tab or CR is written quoted with a ' in front (OWASP's CSV
 *     injection rule; hub/report/report_csv.c does the same). Numbers (ac_num,
 *     ac_int) are not text and keep their sign.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_out.h"
#include "parkhub/alloc.h"
#include "parkhub/timefmt.h"

void api_buf_init(struct api_buf *b) { memset(b, 0, sizeof *b); }

void api_buf_fini(struct api_buf *b) {
  ph_free(b->p);
  memset(b, 0, sizeof *b);
}

void api_buf_reset(struct api_buf *b) {
  b->len = 0;
  b->oom = false;
  if (b->p) b->p[0] = 0;
}

static bool grow(struct api_buf *b, size_t need) {
  if (b->oom) return false;
  if (b->len + need < b->cap) return true;
  size_t cap = b->cap ? b->cap : 4096;
  while (b->len + need >= cap) cap *= 2;
  char *p = ph_realloc(b->p, cap);
  if (!p) {
    b->oom = true;
    return false;
  }
  b->p = p;
  b->cap = cap;
  return true;
}

void api_buf_put(struct api_buf *b, const void *s, size_t n) {
  if (!grow(b, n + 1)) return;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = 0;
}

void api_buf_puts(struct api_buf *b, const char *s) { api_buf_put(b, s, strlen(s)); }

void api_buf_printf(struct api_buf *b, const char *fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof small) {
    api_buf_put(b, small, (size_t)n);
    return;
  }
  if (!grow(b, (size_t)n + 1)) return;
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

/* v in decimal, as "%lld" writes it, into out (room for 21 bytes): its
 * length. A summary writes ~7 000 integers; through vsnprintf they were
 * a sixth of a park-month's time (perf, bench/query). */
static int fmt_int(int64_t v, char *out) {
  char t[24];
  int n = 0;
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v; /* INT64_MIN too */
  do t[n++] = (char)('0' + u % 10);
  while ((u /= 10) != 0);
  int len = 0;
  if (v < 0) out[len++] = '-';
  while (n) out[len++] = t[--n];
  out[len] = 0;
  return len;
}

/* The P significant digits d (an exponent x: d[0].d[1]… × 10^x) as "%.Pg"
 * writes them (C11 7.21.6.1): positional when -4 <= x < P, else d.ddde±XX
 * with at least two exponent digits; trailing zeros of the fraction and a
 * bare point dropped. out has room for 32 bytes; its length. */
static int g_style(bool neg, const char *d, int prec, int x, char *out) {
  int p = prec;
  while (p > 1 && d[p - 1] == '0') p--; /* the zeros "%g" drops; the leading digit is never 0 (v != 0) */
  int n = 0;
  if (neg) out[n++] = '-';
  if (x < -4 || x >= prec) {
    out[n++] = d[0];
    if (p > 1) {
      out[n++] = '.';
      memcpy(out + n, d + 1, (size_t)p - 1);
      n += p - 1;
    }
    return n + snprintf(out + n, 8, "e%c%02d", x < 0 ? '-' : '+', x < 0 ? -x : x);
  }
  if (x < 0) {
    out[n++] = '0';
    out[n++] = '.';
    for (int i = 0; i < -x - 1; i++) out[n++] = '0';
    memcpy(out + n, d, (size_t)p);
    n += p;
  } else {
    for (int i = 0; i <= x; i++) out[n++] = i < p ? d[i] : '0';
    if (p > x + 1) {
      out[n++] = '.';
      memcpy(out + n, d + x + 1, (size_t)(p - x - 1));
      n += p - x - 1;
    }
  }
  out[n] = 0;
  return n;
}

/* v (finite, not 0) with the digits of "%.15g" when they read back as v,
 * else of "%.17g" — what api_fmt_double promises — from one "%.16e": its
 * 17 digits rounded to 15 are the 15 "%.15g" writes unless digits 16-17
 * are "50" (the exact value may lie on either side of the half: then 0,
 * and the caller asks printf). The 17 digits were rounded from the exact
 * value, so "49" or less means below the half and "51" or more above it.
 * One printf instead of two for the values that need 17 digits, most of
 * a summary's: a park-month took 67.6 million instructions instead of 70.5
 * (callgrind, bench/query). */
static int fmt_derived(double v, char *out) {
  char e[40];
  int n = snprintf(e, sizeof e, "%.16e", v);
  bool neg = e[0] == '-';
  const char *m = e + neg; /* d.dddddddddddddddde±XX */
  if (n < 22 || m[1] != '.' || m[18] != 'e') return 0;
  char d[18];
  d[0] = m[0];
  memcpy(d + 1, m + 2, 16);
  d[17] = 0;
  int x = atoi(m + 19);
  if (d[15] == '5' && d[16] == '0') return 0;
  char r[16];
  memcpy(r, d, 15);
  r[15] = 0;
  int rx = x;
  if (d[15] >= '5') { /* up, carrying */
    int i = 14;
    while (i >= 0 && r[i] == '9') r[i--] = '0';
    if (i >= 0) r[i]++;
    else {
      r[0] = '1'; /* 99…9 + 1: 10…0, one more power of ten */
      rx++;
    }
  }
  int len = g_style(neg, r, 15, rx, out);
  if (strtod(out, NULL) == v) return len;
  return g_style(neg, d, 17, x, out);
}

int api_fmt_double(double v, char *out, size_t cap) {
  /* a whole number below 10^15 (not -0): "%.15g" writes its digits and
   * nothing else (an exponent only from 10^15 on), which reads back exactly */
  if (cap >= 24 && v == trunc(v) && fabs(v) < 1e15 && !(v == 0 && signbit(v))) return fmt_int((int64_t)v, out);
  if (cap >= 32 && isfinite(v) && v != 0) {
    int n = fmt_derived(v, out);
    if (n > 0) return n;
  }
  int n = snprintf(out, cap, "%.15g", v);
  if (strtod(out, NULL) != v) n = snprintf(out, cap, "%.17g", v);
  return n;
}

int api_fmt_fixed(double v, int decimals, char *out, size_t cap) {
  if (decimals < 0) decimals = 0;
  if (decimals > 9) decimals = 9;
  int n = snprintf(out, cap, "%.*f", decimals, v);
  if (n > 0 && out[0] == '-' && (size_t)n < cap && strspn(out + 1, "0.") == (size_t)n - 1) {
    memmove(out, out + 1, (size_t)n); /* "-0.00" → "0.00" */
    n--;
  }
  return n;
}

/* ---- JSON ---- */

void aj_init(struct api_json *j, struct api_buf *b) {
  memset(j, 0, sizeof *j);
  j->b = b;
}

/* s as a JSON string, then tail (tn bytes) in one append when s needs no
 * escape — every key and most values: ~30 000 appends a park summary, a
 * twentieth of its time when each was three (callgrind, bench/query); 1
 * when done, 0 when s needs escaping (nothing written). */
static int plain_string(struct api_buf *b, const char *s, const char *tail, size_t tn) {
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++)
    if (*p < 0x20 || *p == '"' || *p == '\\') return 0;
  if (!grow(b, n + tn + 3)) return 1;
  char *o = b->p + b->len;
  o[0] = '"';
  memcpy(o + 1, s, n);
  o[n + 1] = '"';
  memcpy(o + n + 2, tail, tn);
  b->len += n + tn + 2;
  b->p[b->len] = 0;
  return 1;
}

void api_json_string(struct api_buf *b, const char *s) {
  static const char hex[] = "0123456789abcdef";
  if (plain_string(b, s, "", 0)) return;
  api_buf_put(b, "\"", 1);
  const unsigned char *p = (const unsigned char *)s, *run = p;
  for (; *p; p++) {
    if (*p >= 0x20 && *p != '"' && *p != '\\') continue;
    api_buf_put(b, run, (size_t)(p - run));
    char esc[8];
    switch (*p) {
    case '"': api_buf_put(b, "\\\"", 2); break;
    case '\\': api_buf_put(b, "\\\\", 2); break;
    case '\n': api_buf_put(b, "\\n", 2); break;
    case '\r': api_buf_put(b, "\\r", 2); break;
    case '\t': api_buf_put(b, "\\t", 2); break;
    default:
      memcpy(esc, "\\u00", 4);
      esc[4] = hex[*p >> 4];
      esc[5] = hex[*p & 15];
      api_buf_put(b, esc, 6);
    }
    run = p + 1;
  }
  api_buf_put(b, run, (size_t)(p - run));
  api_buf_put(b, "\"", 1);
}

/* Comma and key before a value. */
static void pre(struct api_json *j, const char *key) {
  if (j->depth > 0 && j->depth <= API_JSON_DEPTH) {
    if (j->more[j->depth - 1]) api_buf_put(j->b, ",", 1);
    j->more[j->depth - 1] = true;
  }
  if (key && !plain_string(j->b, key, ":", 1)) {
    api_json_string(j->b, key);
    api_buf_put(j->b, ":", 1);
  }
}

static void open_(struct api_json *j, const char *key, char ch) {
  pre(j, key);
  api_buf_put(j->b, &ch, 1);
  if (j->depth < API_JSON_DEPTH) j->more[j->depth] = false;
  j->depth++;
}

static void close_(struct api_json *j, char ch) {
  api_buf_put(j->b, &ch, 1);
  if (j->depth > 0) j->depth--;
}

void aj_raw(struct api_json *j, const char *key, const char *v, size_t n) {
  pre(j, key);
  api_buf_put(j->b, v, n);
}

void aj_obj(struct api_json *j, const char *key) { open_(j, key, '{'); }
void aj_end_obj(struct api_json *j) { close_(j, '}'); }
void aj_arr(struct api_json *j, const char *key) { open_(j, key, '['); }
void aj_end_arr(struct api_json *j) { close_(j, ']'); }

void aj_str(struct api_json *j, const char *key, const char *v) {
  pre(j, key);
  if (v)
    api_json_string(j->b, v);
  else
    api_buf_put(j->b, "null", 4);
}

void aj_num(struct api_json *j, const char *key, double v) {
  pre(j, key);
  if (!isfinite(v)) {
    api_buf_put(j->b, "null", 4);
    return;
  }
  char t[40];
  api_buf_put(j->b, t, (size_t)api_fmt_double(v, t, sizeof t));
}

void aj_int(struct api_json *j, const char *key, int64_t v) {
  pre(j, key);
  char t[24];
  api_buf_put(j->b, t, (size_t)fmt_int(v, t));
}

void aj_bool(struct api_json *j, const char *key, bool v) {
  pre(j, key);
  api_buf_puts(j->b, v ? "true" : "false");
}

void aj_null(struct api_json *j, const char *key) {
  pre(j, key);
  api_buf_put(j->b, "null", 4);
}

void aj_time(struct api_json *j, const char *key, int64_t ms) {
  char t[PH_TIME_STRLEN];
  if (ph_time_format(ms, t, sizeof t))
    aj_null(j, key);
  else
    aj_str(j, key, t);
}

/* ---- CSV ---- */

void ac_init(struct api_csv *c, struct api_buf *b) {
  c->b = b;
  c->more = false;
}

void ac_line(struct api_csv *c, const char *raw) {
  api_buf_puts(c->b, raw);
  api_buf_put(c->b, "\r\n", 2);
  c->more = false;
}

static void sep(struct api_csv *c) {
  if (c->more) api_buf_put(c->b, ",", 1);
  c->more = true;
}

/* inv. 4: a cell a spreadsheet would take for a formula (OWASP: =, +, -,
 * @, tab or CR first). */
static bool formula_like(const char *v) { return *v && strchr("=+-@\t\r", *v); }

void ac_str(struct api_csv *c, const char *v) {
  sep(c);
  if (!v) return;
  bool defuse = formula_like(v);
  if (!defuse && !strpbrk(v, ",\"\r\n")) {
    api_buf_puts(c->b, v);
    return;
  }
  api_buf_put(c->b, defuse ? "\"'" : "\"", defuse ? 2 : 1);
  for (const char *p = v; *p; p++) {
    if (*p == '"') api_buf_put(c->b, "\"", 1);
    api_buf_put(c->b, p, 1);
  }
  api_buf_put(c->b, "\"", 1);
}

void ac_num(struct api_csv *c, double v) {
  sep(c);
  if (!isfinite(v)) return;
  char t[40];
  api_buf_put(c->b, t, (size_t)api_fmt_double(v, t, sizeof t));
}

void ac_fixed(struct api_csv *c, double v, int decimals) {
  sep(c);
  if (!isfinite(v)) return;
  char t[400]; /* %.9f of DBL_MAX: 309 digits, the point and 9 */
  int n = api_fmt_fixed(v, decimals, t, sizeof t);
  if (n > 0 && (size_t)n < sizeof t) api_buf_put(c->b, t, (size_t)n);
}

void ac_int(struct api_csv *c, int64_t v) {
  sep(c);
  char t[24];
  api_buf_put(c->b, t, (size_t)fmt_int(v, t));
}

void ac_time(struct api_csv *c, int64_t ms) {
  char t[PH_TIME_STRLEN];
  if (ph_time_format(ms, t, sizeof t)) t[0] = 0;
  ac_str(c, t);
}

void ac_end(struct api_csv *c) {
  api_buf_put(c->b, "\r\n", 2);
  c->more = false;
}
