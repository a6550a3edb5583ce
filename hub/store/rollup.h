/* rollup.h — per-transaction aggregation of values into minute, hour and
 * day buckets per series, merged into the rollups table once per bucket at
 * commit (ph_rollup_flush) instead of once per value.
 *
 * Invariant: for every (series, period, bucket) the stored row equals the
 * aggregate of all samples stored for it: the merge is associative (counts
 * and sums add, min/max combine, first/last by timestamp, ties keep the
 * earlier-stored first and the later-stored last), and it commits in the
 * same transaction as the samples it counts.
 */
#ifndef PARKHUB_ROLLUP_H
#define PARKHUB_ROLLUP_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

enum { PH_ROLLUP_MINUTE, PH_ROLLUP_HOUR, PH_ROLLUP_DAY, PH_ROLLUP_PERIODS };
_Static_assert(PH_ROLLUP_HOUR == PH_STORE_PERIOD_HOUR, "store.h and rollup.h agree on the hour");

struct ph_rollup;

/* The buckets one timestamp falls in (minute: UTC; hour and day: the park's
 * zone) and the samples each should hold at the enterprise's rate. */
struct ph_rollup_buckets {
  int64_t start[PH_ROLLUP_PERIODS];
  double expected[PH_ROLLUP_PERIODS];
};

/* What one value says besides itself (ph_rollup_add's q, a bit set; a bool
 * `valid` passes as PH_ROLLUP_VALID). */
enum { PH_ROLLUP_VALID = 1, PH_ROLLUP_STOP = 2, PH_ROLLUP_TRANS = 4 };
/* The bits for a value's flag and its record's state (enum ph_state). */
unsigned ph_rollup_quality(char flag, int state);

int ph_rollup_new(struct ph_rollup **out);
void ph_rollup_free(struct ph_rollup *r);
/* Adds one value to one bucket; expected = samples the bucket should hold at the
 * enterprise's rate (for data availability). */
int ph_rollup_add(struct ph_rollup *r, int64_t series_id, int period, int64_t bucket_ms, double expected,
                  int64_t ts_ms, double v, unsigned q);
/* Adds one value to its minute, hour and day buckets (bk from the value's
 * timestamp; the hour and day are aggregated from the minutes at flush). */
int ph_rollup_add_value(struct ph_rollup *r, int64_t series_id, const struct ph_rollup_buckets *bk, int64_t ts_ms,
                        double v, unsigned q);
/* Upserts every bucket touched and empties the aggregate. */
int ph_rollup_flush(struct ph_rollup *r, struct ph_store *s, struct ph_err *err);
/* Forgets everything (after a rolled-back transaction). */
void ph_rollup_clear(struct ph_rollup *r);
size_t ph_rollup_pending(const struct ph_rollup *r);

#endif
