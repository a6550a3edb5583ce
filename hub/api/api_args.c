/* api_args.c — query-argument values without a request (api_args.h). */
#include "api_args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
