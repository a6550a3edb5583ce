/* api_args.c — the HTTP API's query-argument parsers (api_args.h): pure
 * functions from a value to a result or a refusal with a reason.
 *
 * Callers: api_req.c's wrappers (api_arg_*), the handlers for the checks
 * that span arguments (period, cursors), the unit tests and the argument
 * fuzz target. Threads: any; no state.
 *
 * Invariants: those of api_args.h (bounded reads, outputs only on success,
 * one refusal code per kind of argument).
 */
#include "api_args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parkhub/ids.h"
#include "parkhub/timefmt.h"

/* The value is not longer than API_ARG_MAX (inv. 1): strnlen reads no further. */
static bool too_long(const char *v) { return strnlen(v, API_ARG_MAX + 1) > API_ARG_MAX; }

int api_parse_time(const char *value, int64_t *out, struct ph_err *err) {
  char t[64];
  size_t n = strnlen(value, sizeof t);
  if (n >= sizeof t) return ph_fail(err, PH_ETIME, "not an RFC 3339 time (e.g. 2026-01-01T00:00:00Z)");
  memcpy(t, value, n + 1);
  for (size_t i = 19; i < n; i++) /* the '+' of an offset form-decoded to a space */
    if (t[i] == ' ') t[i] = '+';
  int64_t ms;
  if (ph_time_parse(t, n, &ms))
    return ph_fail(err, PH_ETIME, "'%.40s' is not an RFC 3339 time (e.g. 2026-01-01T00:00:00Z)", value);
  *out = ms;
  return 0;
}

int api_parse_id(const char *value, struct ph_err *err) {
  if (too_long(value) || !ph_id_valid_z(value))
    return ph_fail(err, PH_EBADID, "not an id ([a-z0-9][a-z0-9_-]{0,63})");
  return 0;
}

int api_parse_int(const char *value, int64_t min, int64_t max, int64_t *out, struct ph_err *err) {
  char *end;
  errno = 0;
  long long x = too_long(value) ? 0 : strtoll(value, &end, 10);
  if (too_long(value) || errno || *end || end == value || x < min || x > max)
    return ph_fail(err, PH_ERANGE, "must be a whole number in %lld..%lld", (long long)min, (long long)max);
  *out = x;
  return 0;
}

int api_parse_word(const char *value, const char *const *words, int *out, struct ph_err *err) {
  for (int i = 0; words[i]; i++)
    if (!strcmp(words[i], value)) {
      *out = i;
      return 0;
    }
  char allowed[200] = "";
  for (int i = 0; words[i]; i++) {
    strncat(allowed, i ? "|" : "", sizeof allowed - strlen(allowed) - 1);
    strncat(allowed, words[i], sizeof allowed - strlen(allowed) - 1);
  }
  return ph_fail(err, PH_EENUM, "must be one of %s", allowed);
}

int api_parse_bit(const char *value, bool *out, struct ph_err *err) {
  static const char *const bits[] = {"0", "1", NULL};
  int i;
  int rc = api_parse_word(value, bits, &i, err);
  if (!rc) *out = i == 1;
  return rc;
}

int api_parse_format(const char *format, const char *accept, bool *csv, struct ph_err *err) {
  if (format) {
    static const char *const fmts[] = {"json", "csv", NULL};
    int i;
    if (api_parse_word(format, fmts, &i, err)) return ph_fail(err, PH_EENUM, "must be json or csv");
    *csv = i == 1;
    return 0;
  }
  /* the header is libmicrohttpd's, bounded by its 32 KiB of headers */
  *csv = accept && strstr(accept, "text/csv") != NULL;
  return 0;
}

int api_parse_period(int64_t from, int64_t to, int64_t max_ms, const char *max_text, struct ph_err *err) {
  if (to <= from) return ph_fail(err, PH_ERANGE, "must be after from");
  /* to - from cannot overflow: both are parsed times (years 0..9999) */
  if (to - from > max_ms) return ph_fail(err, PH_ERANGE, "the range is longer than %s", max_text);
  return 0;
}

int api_parse_id_list(const char *value, char (*out)[PH_ID_MAX + 1], int cap, int *n, struct ph_err *err) {
  if (too_long(value)) return ph_fail(err, PH_EBADID, "longer than %d bytes", API_ARG_MAX);
  int k = 0;
  for (const char *p = value;; k++) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (k == cap) return ph_fail(err, PH_ERANGE, "more than %d ids", cap);
    if (len == 0 || len > PH_ID_MAX || !ph_id_valid(p, len))
      return ph_fail(err, PH_EBADID, "'%.*s' is not an id ([a-z0-9][a-z0-9_-]{0,63}, comma-separated)",
                     (int)(len < 40 ? len : 40), p);
    for (int i = 0; i < k; i++)
      if (strlen(out[i]) == len && !memcmp(out[i], p, len))
        return ph_fail(err, PH_EINVAL, "'%.*s' is given twice", (int)len, p);
    memcpy(out[k], p, len);
    out[k][len] = 0;
    if (!comma) break;
    p = comma + 1;
  }
  *n = k + 1;
  return 0;
}

int api_parse_time_cursor(const char *value, int64_t from, int64_t to, int64_t *t, struct ph_err *err) {
  int64_t x;
  struct ph_err ignored;
  if (api_parse_int(value, from, to - 1, &x, &ignored)) return ph_fail(err, PH_EINVAL, "not a cursor of this query");
  *t = x;
  return 0;
}

int api_parse_raw_cursor(const char *value, int64_t from, int64_t to, int64_t *t, int64_t *skip, struct ph_err *err) {
  char *e;
  if (too_long(value)) return ph_fail(err, PH_EINVAL, "not a cursor of this query");
  errno = 0;
  long long tt = strtoll(value, &e, 10), k = 0;
  bool bad = errno || e == value;
  if (!bad && *e == '.') {
    const char *ks = e + 1;
    k = strtoll(ks, &e, 10);
    bad = errno || e == ks || k < 0 || *ks == '-' || *ks == '+' || *ks == ' ';
  }
  if (bad || *e || tt < from || tt >= to) return ph_fail(err, PH_EINVAL, "not a cursor of this query");
  *t = tt;
  *skip = k;
  return 0;
}

/* "a.b.c" → up to n parts (modifies s); the count, or -1 past n. */
static int split_dots(char *s, char **part, int n) {
  int k = 0;
  for (char *p = s;; p++) {
    if (k == n) return -1;
    part[k++] = p;
    p = strchr(p, '.');
    if (!p) return k;
    *p = 0;
  }
}

static bool parse_ms(const char *s, int64_t *out) {
  char *e;
  errno = 0;
  long long x = strtoll(s, &e, 10);
  if (errno || e == s || *e) return false;
  *out = x;
  return true;
}

int api_parse_cems_cursor(const char *value, bool exceedances, int64_t from, int64_t to, struct api_cems_cursor *out,
                         struct ph_err *err) {
  char buf[4 * (PH_ID_MAX + 1) + 48], *part[5];
  int64_t t = 0, per = 0;
  size_t n = strnlen(value, sizeof buf);
  bool ok = n < sizeof buf;
  if (ok) memcpy(buf, value, n + 1);
  ok = ok && split_dots(buf, part, 5) == (exceedances ? 5 : 4);
  char **ids = exceedances ? part + 2 : part;
  for (int i = 0; ok && i < 3; i++) ok = ph_id_valid_z(ids[i]);
  ok = ok && parse_ms(exceedances ? part[0] : part[3], &t) && t >= from && t < to;
  if (ok && exceedances) ok = parse_ms(part[1], &per) && (per == 1 || per == 2);
  if (!ok) return ph_fail(err, PH_EINVAL, "not a cursor of this query (take it from the previous page's next)");
  snprintf(out->ent, sizeof out->ent, "%s", ids[0]);
  snprintf(out->point, sizeof out->point, "%s", ids[1]);
  snprintf(out->metric, sizeof out->metric, "%s", ids[2]);
  out->t = t;
  out->period = (int)per;
  return 0;
}
