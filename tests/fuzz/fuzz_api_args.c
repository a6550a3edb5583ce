/* fuzz_api_args.c — libFuzzer target: the HTTP API's query-argument
 * parsers (hub/api/api_args.h: from/to times, limit/cursor numbers, the
 * step/agg/period/format/state words, the raw series' and the CEMS
 * listings' cursors, the parks= id list) and the id check of park/ent/point/metric (ids.h),
 * on any bytes as the one value of an argument (libmicrohttpd hands
 * NUL-terminated, URL-decoded text: the input is cut at its first NUL).
 *
 * Oracle besides the sanitizers: api_args.h inv. 2 (what is accepted is
 * within the bounds asked for, a CEMS cursor's ids are ids); a time
 * accepted that ph_time_format can write parses back from that text to
 * the same instant; an accepted id is at most PH_ID_MAX bytes; an accepted
 * id list holds 1..cap distinct ids that joined by commas give the value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_args.h"
#include "parkhub/ids.h"
#include "parkhub/timefmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ints(const char *v) {
  static const int64_t bounds[][2] = {{1, 100000}, {1, INT64_MAX}, {INT64_MIN, INT64_MAX}, {0, 0}};
  for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
    int64_t x = 12345;
    if (!api_parse_int(v, bounds[i][0], bounds[i][1], &x, NULL) && (x < bounds[i][0] || x > bounds[i][1])) abort();
  }
}

static void words(const char *v) {
  static const char *const lists[][7] = {{"1m", "1h", "1d", "raw", NULL},
                                         {"mean", "min", "max", "sum", "last", NULL},
                                         {"json", "csv", NULL},
                                         {"hour", "day", NULL},
                                         {NULL}};
  for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
    int n = 0, k = -1;
    while (lists[l][n]) n++;
    if (!api_parse_word(v, lists[l], &k, NULL) && (k < 0 || k >= n || strcmp(lists[l][k], v))) abort();
  }
}

static void times(const char *v) {
  int64_t ms, again;
  char text[64];
  if (api_parse_time(v, &ms, NULL)) return;
  if (ph_time_format(ms, text, sizeof text)) return; /* beyond what the API ever writes: nothing to compare */
  if (ph_time_parse(text, strlen(text), &again) || again != ms) abort();
}

static void cursors(const char *v) {
  static const int64_t ranges[][2] = {{0, 1}, {1764000000000LL, 1764086400000LL}, {INT64_MIN, INT64_MAX}};
  for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
    int64_t t0 = 0, skip = -1;
    if (api_parse_raw_cursor(v, ranges[i][0], ranges[i][1], &t0, &skip, NULL)) continue;
    if (t0 < ranges[i][0] || t0 >= ranges[i][1] || skip < 0) abort();
  }
  for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
    for (int exc = 0; exc < 2; exc++) {
      struct api_cems_cursor c;
      if (api_parse_cems_cursor(v, exc, ranges[i][0], ranges[i][1], &c, NULL)) continue;
      if (c.t < ranges[i][0] || c.t >= ranges[i][1]) abort();
      if (!ph_id_valid_z(c.ent) || !ph_id_valid_z(c.point) || !ph_id_valid_z(c.metric)) abort();
      if (exc ? c.period != 1 && c.period != 2 : c.period != 0) abort();
    }
}

static void id_lists(const char *v) {
  char ids[4][PH_ID_MAX + 1], joined[4 * (PH_ID_MAX + 1) + 1] = "";
  int n = -1;
  if (api_parse_id_list(v, ids, 4, &n, NULL)) return;
  if (n < 1 || n > 4) abort();
  for (int i = 0; i < n; i++) {
    if (!ph_id_valid_z(ids[i])) abort();
    for (int k = 0; k < i; k++)
      if (!strcmp(ids[i], ids[k])) abort();
    strcat(joined, i ? "," : "");
    strcat(joined, ids[i]);
  }
  if (strcmp(joined, v)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *v = malloc(size + 1);
  if (!v) return 0;
  memcpy(v, data, size);
  v[size] = '\0';
  ints(v);
  words(v);
  times(v);
  cursors(v);
  id_lists(v);
  if (ph_id_valid_z(v) && strlen(v) > PH_ID_MAX) abort();
  free(v);
  return 0;
}
