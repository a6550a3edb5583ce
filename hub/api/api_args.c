/* api_args.c — query-argument values without a request (api_args.h). */
#include "api_args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/cems.h" /* PH_CEMS_PERIOD_* */
#include "parkhub/timefmt.h"

int api_parse_time(const char *v, int64_t *out) {
  char t[64];
  size_t n = strlen(v);
  if (n >= sizeof t) return -1;
  memcpy(t, v, n + 1);
  for (size_t i = 19; i < n; i++)
    if (t[i] == ' ') t[i] = '+';
  return ph_time_parse(t, n, out) ? -1 : 0;
}

int api_parse_int(const char *v, int64_t min, int64_t max, int64_t *out) {
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (errno || *end || end == v || x < min || x > max) return -1;
  *out = x;
  return 0;
}

int api_parse_word(const char *v, const char *const *words, int *out) {
  for (int i = 0; words[i]; i++)
    if (!strcmp(words[i], v)) {
      *out = i;
      return 0;
    }
  return -1;
}

int api_parse_raw_cursor(const char *v, int64_t from, int64_t to, int64_t *t0, int64_t *skip) {
  char *e;
  errno = 0;
  long long t = strtoll(v, &e, 10), k = 0;
  if (errno || e == v) return -1;
  if (*e == '.') {
    const char *ks = e + 1;
    k = strtoll(ks, &e, 10);
    if (errno || e == ks || k < 0) return -1;
  }
  if (*e || t < from || t >= to) return -1;
  *t0 = t;
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

int api_parse_cems_cursor(const char *v, bool exceedances, int64_t from, int64_t to, struct api_cems_cursor *out) {
  char buf[4 * (PH_ID_MAX + 1) + 48], *part[5];
  int64_t t = 0, per = 0;
  if (strlen(v) >= sizeof buf) return -1;
  strcpy(buf, v);
  if (split_dots(buf, part, 5) != (exceedances ? 5 : 4)) return -1;
  char **ids = exceedances ? part + 2 : part;
  for (int i = 0; i < 3; i++)
    if (!ph_id_valid_z(ids[i])) return -1;
  if (!parse_ms(exceedances ? part[0] : part[3], &t) || t < from || t >= to) return -1;
  if (exceedances && (!parse_ms(part[1], &per) || (per != PH_CEMS_PERIOD_HOUR && per != PH_CEMS_PERIOD_DAY)))
    return -1;
  snprintf(out->ent, sizeof out->ent, "%s", ids[0]);
  snprintf(out->point, sizeof out->point, "%s", ids[1]);
  snprintf(out->metric, sizeof out->metric, "%s", ids[2]);
  out->t = t;
  out->period = (int)per;
  return 0;
}
