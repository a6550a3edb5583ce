/* api_args.h — the HTTP API's query-argument values, parsed without a
 * request: the parsing half of api_arg_time / api_arg_int / api_arg_word
 * (api.c, which add the lookup and the 400 document) and the cursors of
 * the raw series (api_series.c) and of the CEMS listings (api_cems.c). Apart so that they can be fuzzed on any bytes
 * (tests/fuzz/fuzz_api_args.c) without libmicrohttpd; the API's behaviour
 * is theirs unchanged.
 *
 * Callers: api.c, api_series.c, api_cems.c, the fuzz target. Any thread; no state.
 * Each borrows its text (NUL-terminated, as libmicrohttpd hands arguments)
 * and writes its out-params only on success.
 *
 * Invariants:
 *  1. every parser returns 0 or -1 and reads no byte past the text's NUL.
 *  2. a value accepted is within the bounds asked for (int: min..max;
 *     word: an index of words; cursors: from <= t < to, raw skip >= 0,
 *     CEMS ids valid and period 1 or 2 for exceedances).
 */
#ifndef PH_API_ARGS_H
#define PH_API_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include "parkhub/ids.h"

/* RFC 3339 time (ph_time_parse); a '+' of the offset that reached us as a
 * space (form encoding) is read as '+'. */
int api_parse_time(const char *v, int64_t *out);
/* A whole decimal number in min..max. */
int api_parse_int(const char *v, int64_t min, int64_t max, int64_t *out);
/* The index of v in words (NULL-terminated). */
int api_parse_word(const char *v, const char *const *words, int *out);
/* The raw series' cursor "T" or "T.K" (time T, the first K values at T
 * already sent), T within [from, to). */
int api_parse_raw_cursor(const char *v, int64_t from, int64_t to, int64_t *t0, int64_t *skip);

/* The CEMS listings' cursor (api_cems.c): the key of the next page's first
 * row. Hours and days: "ent.point.metric.t"; exceedances:
 * "t.period.ent.point.metric" (period 1 hour, 2 day; 0 for the others).
 * Ids hold no '.', so the split is unambiguous; t within [from, to). */
struct api_cems_cursor {
  char ent[PH_ID_MAX + 1], point[PH_ID_MAX + 1], metric[PH_ID_MAX + 1];
  int64_t t;
  int period;
};
int api_parse_cems_cursor(const char *v, bool exceedances, int64_t from, int64_t to, struct api_cems_cursor *out);

#endif
