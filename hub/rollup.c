/* rollup.c — in-memory bucket aggregation for one transaction (rollup.h).
 * An open-addressing table keyed by (series, period, bucket); entries live
 * until flush. Callers: writer.c. Threads: the writer only. */
#include "parkhub/rollup.h"

#include <string.h>

#include "parkhub/alloc.h"

struct entry {
  int64_t series_id, bucket_ms;
  int period; /* -1: empty slot */
  double expected;
  struct ph_rollup_agg a;
};

struct ph_rollup {
  struct entry *t;
  size_t cap, n;
};

static void empty_all(struct entry *t, size_t cap) {
  for (size_t i = 0; i < cap; i++) t[i].period = -1;
}

int ph_rollup_new(struct ph_rollup **out) {
  struct ph_rollup *r = ph_calloc(1, sizeof *r);
  if (!r) return PH_ENOMEM;
  r->cap = 1024;
  if (!(r->t = ph_malloc(r->cap * sizeof *r->t))) {
    ph_free(r);
    return PH_ENOMEM;
  }
  empty_all(r->t, r->cap);
  *out = r;
  return 0;
}

void ph_rollup_free(struct ph_rollup *r) {
  if (!r) return;
  ph_free(r->t);
  ph_free(r);
}

static size_t hash(int64_t series, int period, int64_t bucket) {
  uint64_t h = (uint64_t)series * 0x9E3779B97F4A7C15ULL ^ (uint64_t)bucket * 0xC2B2AE3D27D4EB4FULL ^ (uint64_t)period;
  return (size_t)(h ^ (h >> 29));
}

static struct entry *slot(struct entry *t, size_t cap, int64_t series, int period, int64_t bucket) {
  size_t i = hash(series, period, bucket) & (cap - 1);
  while (t[i].period >= 0 && !(t[i].series_id == series && t[i].period == period && t[i].bucket_ms == bucket))
    i = (i + 1) & (cap - 1);
  return &t[i];
}

static int grow(struct ph_rollup *r) {
  size_t ncap = r->cap * 2;
  struct entry *nt = ph_malloc(ncap * sizeof *nt);
  if (!nt) return PH_ENOMEM;
  empty_all(nt, ncap);
  for (size_t i = 0; i < r->cap; i++)
    if (r->t[i].period >= 0) *slot(nt, ncap, r->t[i].series_id, r->t[i].period, r->t[i].bucket_ms) = r->t[i];
  ph_free(r->t);
  r->t = nt;
  r->cap = ncap;
  return 0;
}

int ph_rollup_add(struct ph_rollup *r, int64_t series_id, int period, int64_t bucket_ms, double expected,
                  int64_t ts_ms, double v, bool valid) {
  if ((r->n + 1) * 4 > r->cap * 3 && grow(r)) return PH_ENOMEM;
  struct entry *e = slot(r->t, r->cap, series_id, period, bucket_ms);
  struct ph_rollup_agg *a = &e->a;
  if (e->period < 0) {
    e->series_id = series_id;
    e->period = period;
    e->bucket_ms = bucket_ms;
    e->expected = expected;
    *a = (struct ph_rollup_agg){.min = v, .max = v, .first_ts = ts_ms, .first = v, .last_ts = ts_ms, .last = v};
    r->n++;
  } else {
    if (v < a->min) a->min = v;
    if (v > a->max) a->max = v;
    if (ts_ms < a->first_ts) a->first_ts = ts_ms, a->first = v;
    if (ts_ms >= a->last_ts) a->last_ts = ts_ms, a->last = v;
  }
  a->n++;
  a->sum += v;
  if (valid) {
    a->n_valid++;
    a->sum_valid += v;
  }
  return 0;
}

int ph_rollup_flush(struct ph_rollup *r, struct ph_store *s, struct ph_err *err) {
  for (size_t i = 0; i < r->cap; i++) {
    struct entry *e = &r->t[i];
    if (e->period < 0) continue;
    int rc = ph_store_rollup(s, e->series_id, e->period, e->bucket_ms, &e->a, e->expected);
    if (rc) return ph_fail(err, rc, "database: writing rollups failed");
  }
  ph_rollup_clear(r);
  return 0;
}

void ph_rollup_clear(struct ph_rollup *r) {
  empty_all(r->t, r->cap);
  r->n = 0;
}

size_t ph_rollup_pending(const struct ph_rollup *r) { return r->n; }
