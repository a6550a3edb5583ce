/* cems_spans.h — a whole park's span rows read in one statement (issue #19).
 *
 * A park summary or report asks compliance.c and emission_mass.c for every
 * (enterprise, pollutant) pair; each asked its span statements
 * (cems_agg_sql.h: CEMS_AGG_SQL_HOUR_SPAN, _DAY_SPAN, _MASS_SPAN) once per
 * point — about 1 200 small statements for a park-month, two thirds of its
 * time (perf, bench/query). Inside a stmt_cache bracket whose caller said
 * it computes the whole park (ph_cems_spans_park), the first asker of a
 * (figure, pollutant, days) reads the rows of every point of the park
 * with a first data hour in one grouped statement
 * (CEMS_AGG_SQL_PARK_AGG_SPAN, _PARK_DAY_SPAN, over the series of one
 * listing of the park's points per pollutant, CEMS_AGG_SQL_PARK_POINTS),
 * orders them by series, part and day, and keeps them until the bracket
 * ends; every point then walks its own rows from memory. The listing also
 * answers compliance.c's and emission_mass.c's point listings, and
 * closed-until is asked once.
 *
 * Threads: the state is the calling thread's own (thread-local), like
 * stmt_cache's. Ownership: rows are this module's, valid until the bracket
 * ends (ph_cems_spans_reset, called by ph_stmt_cache_end).
 *
 * Invariants (tests cite them):
 *  1. a series' rows are those its own span statement returns, in the same
 *     order (ph_cems_agg_parts' seven parts in turn, each by its start)
 *     and with the same values, so every sum — the mass's doubles
 *     included — and every worst-period pick is the same.
 *  2. outside a whole-park bracket, for other days than asked first, for
 *     a series of a point without a point_first row, or beyond the memory
 *     bound, get answers 0 and the caller runs its own statement: never a
 *     wrong answer, only a slower one.
 */
#ifndef PARKHUB_CEMS_SPANS_H
#define PARKHUB_CEMS_SPANS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parkhub/err.h"
#include "parkhub/ids.h"
#include "parkhub/tz.h"

enum ph_span_kind {
  PH_SPAN_AGG, /* cems_agg_days / cems_agg_blocks: hour counts, worst hour, used, Σ C × Q */
  PH_SPAN_DAY, /* cems_days / cems_day_blocks: daily means' counts and worst day */
};

/* One row of a span statement: the columns as compliance.c and
 * emission_mass.c read them (counts, worst ratio, mean, converted, limit,
 * bucket; hours used and Σ C × Q for PH_SPAN_AGG). */
struct ph_span_row {
  int64_t series, start; /* the series, and the day's or block's start */
  int part;              /* 0..6, ph_cems_agg_parts' parts: days, blocks, days, months, days, blocks, days */
  int64_t n[4];
  double w[4];
  int64_t bucket;
  bool has_bucket;
  int64_t used;
  double cq;
};

/* Inside a stmt_cache bracket: the computation covers every enterprise of
 * park (borrowed for the bracket), so grouped reads pay; NULL: it does not. */
void ph_cems_spans_park(const char *park);

/* The rows of series_id (a series of metric at a point of the hinted park,
 * whose days start in zone tz) over the days [d0, d1), their blocks and months (ph_cems_agg_parts): 1 with
 * *rows, *n (0 rows possible); 0 when not answered here (inv. 2); a
 * negative PH_E* code when the grouped statement failed (err filled). */
int ph_cems_spans_get(sqlite3 *db, enum ph_span_kind kind, const char *metric, const struct ph_tz *tz,
                      int64_t series_id, int64_t d0, int64_t d1, const struct ph_span_row **rows, size_t *n,
                      struct ph_err *err);

/* A point of the park with a series of a metric (COMPLIANCE_SQL_POINTS_ENT's
 * and MASS_SQL_POINTS_ENT's columns). */
struct ph_span_point {
  int64_t point_id, series_id;
  char ent[PH_ID_MAX + 1], point[PH_ID_MAX + 1];
  bool has_first; /* a first data hour in point_first: its series are in the grouped reads */
};

/* The points of enterprise ent with a series of metric, by point name, as
 * those statements list them, from one listing of the park per metric:
 * 1 with *v, *n; 0 when not answered here (inv. 2); a negative PH_E* code. */
int ph_cems_spans_points(sqlite3 *db, const char *metric, const char *ent, const struct ph_span_point **v,
                         size_t *n, struct ph_err *err);

/* The closed-until instant (ph_cems_closed_until), asked once inside a
 * whole-park bracket: the read transaction does not change it. get: true
 * and *closed_ms when known. */
bool ph_cems_spans_closed_get(int64_t *closed_ms);
void ph_cems_spans_closed_put(int64_t closed_ms);

/* true inside a whole-park bracket (a read-only summary or report): other
 * memos that a writer's bracket must not keep may keep (monitoring.c). */
bool ph_cems_spans_on(void);

/* The bracket ended: every row freed, the hint cleared. */
void ph_cems_spans_reset(void);

#endif
