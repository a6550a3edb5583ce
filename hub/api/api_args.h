/* api_args.h — the HTTP API's query-argument parsers, pure functions: a
 * value as it came (NUL-terminated, any length, any bytes) in, a result
 * or a refusal out. No request, no server, no allocation, no global state:
 * the server's wrappers (api_req.c) look arguments up and turn a refusal
 * into a 400 naming the argument; a fuzz target calls these directly.
 *
 * Every parser returns 0, or a negative PH_E* code with err->msg saying
 * what was wrong without the argument's name (the caller prefixes
 * "<name>: "). Values quoted in messages are cut to 40 bytes. err may be
 * NULL (a fuzz target wants only the verdict).
 *
 * Invariants:
 *  1. bounded: no parser reads past the value's NUL or more than
 *     API_ARG_MAX bytes of it before refusing; outputs are written only on
 *     success (out-params keep their value on a refusal).
 *  2. ids are [a-z0-9][a-z0-9_-]{0,63} (ids.h), times RFC 3339 with an
 *     offset or Z (timefmt.h), integers decimal within [min, max].
 */
#ifndef PH_API_ARGS_H
#define PH_API_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include "parkhub/err.h"
#include "parkhub/ids.h"

#define API_ARG_MAX 256 /* longer values are refused unread */

/* RFC 3339 time → ms since the epoch. A space where the offset's '+'
 * belongs (a '+' form-decoded to a space) reads as '+'. PH_ETIME. */
int api_parse_time(const char *value, int64_t *out, struct ph_err *err);
/* An id (ids.h). PH_EBADID. */
int api_parse_id(const char *value, struct ph_err *err);
/* A whole decimal number in [min, max]. PH_ERANGE. */
int api_parse_int(const char *value, int64_t min, int64_t max, int64_t *out, struct ph_err *err);
/* The index of value in words (NULL-terminated). PH_EENUM. */
int api_parse_word(const char *value, const char *const *words, int *out, struct ph_err *err);
/* "0" or "1" (bom=0 for machines). PH_EENUM. */
int api_parse_bit(const char *value, bool *out, struct ph_err *err);
/* The response format: format= json|csv when given (NULL: not given),
 * else CSV when the Accept header (NULL: none) names text/csv. PH_EENUM. */
int api_parse_format(const char *format, const char *accept, bool *csv, struct ph_err *err);
/* A period [from, to): to after from and at most max_ms long (max_text
 * names that span in the message). PH_ERANGE. */
int api_parse_period(int64_t from, int64_t to, int64_t max_ms, const char *max_text, struct ph_err *err);
/* A page cursor "T" (a time in ms inside [from, to)). PH_EINVAL. */
int api_parse_time_cursor(const char *value, int64_t from, int64_t to, int64_t *t, struct ph_err *err);
/* A raw-series cursor "T" or "T.K" (K ≥ 0 values at T already sent), T
 * inside [from, to). PH_EINVAL. */
int api_parse_raw_cursor(const char *value, int64_t from, int64_t to, int64_t *t, int64_t *skip, struct ph_err *err);

/* A comma-separated list of distinct ids ("a,b"), at most cap of them, each
 * written to out[i] (PH_ID_MAX + 1 bytes each). PH_EBADID for a bad or
 * empty item, PH_ERANGE past cap, PH_EINVAL for an id given twice; *n is
 * written only on success (out's rows are scratch on a refusal). */
int api_parse_id_list(const char *value, char (*out)[PH_ID_MAX + 1], int cap, int *n, struct ph_err *err);

/* A CEMS listing's keyset cursor: "ent.point.metric.T" (hours, days) or
 * "T.P.ent.point.metric" (exceedances; P the period, 1 hour or 2 day, as
 * PH_CEMS_PERIOD_*), the ids valid, T inside [from, to). Ids hold no '.',
 * so the split is unambiguous. PH_EINVAL. */
struct api_cems_cursor {
  char ent[PH_ID_MAX + 1], point[PH_ID_MAX + 1], metric[PH_ID_MAX + 1];
  int64_t t;
  int period; /* exceedances; 0 otherwise */
};
int api_parse_cems_cursor(const char *value, bool exceedances, int64_t from, int64_t to, struct api_cems_cursor *out,
                         struct ph_err *err);

#endif
