/* rollup.c — in-memory bucket aggregation for one transaction (rollup.h).
 *
 * Entries live in a dense array (items), found through an open-addressing
 * index of item positions keyed by (series, period, bucket). Values go into
 * their minute entry only; each minute entry knows its hour and day bucket,
 * and the flush folds minutes into hours and days first — a minute lies
 * inside one local hour and day (zone offsets are whole minutes), so the
 * fold gives the same aggregate as adding every value three times, at a
 * third of the per-value work. The flush then writes the entries sorted by
 * the table's key, so SQLite's upserts walk its B-tree in order.
 * Callers: writer.c. Threads: the writer only. */
#include "store/rollup.h"

#include <stdlib.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "parkhub/batch.h" /* enum ph_state */

#define NONE UINT32_MAX

struct entry {
  int64_t series_id, bucket_ms;
  int period;
  bool has_parents; /* a minute whose hour and day are folded at flush */
  double expected;
  int64_t parent_ms[PH_ROLLUP_PERIODS];
  double parent_expected[PH_ROLLUP_PERIODS];
  struct ph_rollup_agg a;
};

struct ph_rollup {
  struct entry *items;
  size_t n, items_cap;
  uint32_t *index; /* item position or NONE; cap a power of two */
  size_t cap;
};

int ph_rollup_new(struct ph_rollup **out) {
  struct ph_rollup *r = ph_calloc(1, sizeof *r);
  if (!r) return PH_ENOMEM;
  r->cap = 1024;
  r->items_cap = 512;
  r->index = ph_malloc(r->cap * sizeof *r->index);
  r->items = ph_malloc(r->items_cap * sizeof *r->items);
  if (!r->index || !r->items) {
    ph_rollup_free(r);
    return PH_ENOMEM;
  }
  memset(r->index, 0xff, r->cap * sizeof *r->index);
  *out = r;
  return 0;
}

void ph_rollup_free(struct ph_rollup *r) {
  if (!r) return;
  ph_free(r->index);
  ph_free(r->items);
  ph_free(r);
}

static size_t hash(int64_t series, int period, int64_t bucket) {
  uint64_t h = (uint64_t)series * 0x9E3779B97F4A7C15ULL ^ (uint64_t)bucket * 0xC2B2AE3D27D4EB4FULL ^ (uint64_t)period;
  return (size_t)(h ^ (h >> 29));
}

/* The index cell for the key: holding its item, or NONE where it would go. */
static uint32_t *cell(const struct ph_rollup *r, int64_t series, int period, int64_t bucket) {
  size_t i = hash(series, period, bucket) & (r->cap - 1);
  for (;;) {
    uint32_t k = r->index[i];
    if (k == NONE) return &r->index[i];
    const struct entry *e = &r->items[k];
    if (e->series_id == series && e->bucket_ms == bucket && e->period == period) return &r->index[i];
    i = (i + 1) & (r->cap - 1);
  }
}

static int grow_index(struct ph_rollup *r) {
  size_t ncap = r->cap * 2;
  uint32_t *ni = ph_malloc(ncap * sizeof *ni);
  if (!ni) return PH_ENOMEM;
  ph_free(r->index);
  r->index = ni;
  r->cap = ncap;
  memset(r->index, 0xff, r->cap * sizeof *r->index);
  for (size_t k = 0; k < r->n; k++)
    *cell(r, r->items[k].series_id, r->items[k].period, r->items[k].bucket_ms) = (uint32_t)k;
  return 0;
}

/* The entry for the key, created empty (a.n == 0) when new; NULL: no memory. */
static struct entry *get(struct ph_rollup *r, int64_t series, int period, int64_t bucket, double expected) {
  uint32_t *c = cell(r, series, period, bucket);
  if (*c != NONE) return &r->items[*c];
  if ((r->n + 1) * 4 > r->cap * 3) {
    if (grow_index(r)) return NULL;
    c = cell(r, series, period, bucket);
  }
  if (r->n == r->items_cap) {
    struct entry *ni = ph_realloc(r->items, r->items_cap * 2 * sizeof *ni);
    if (!ni) return NULL;
    r->items = ni;
    r->items_cap *= 2;
  }
  if (r->n >= NONE) return NULL;
  struct entry *e = &r->items[r->n];
  *e = (struct entry){.series_id = series, .period = period, .bucket_ms = bucket, .expected = expected};
  *c = (uint32_t)r->n++;
  return e;
}

unsigned ph_rollup_quality(char flag, int state) {
  unsigned q = flag == 'N' ? PH_ROLLUP_VALID : 0;
  if (flag == 'F' || state == PH_STATE_STOPPED) q |= PH_ROLLUP_STOP;
  if (state == PH_STATE_STARTUP || state == PH_STATE_SHUTDOWN) q |= PH_ROLLUP_TRANS;
  return q;
}

static void add_value(struct ph_rollup_agg *a, int64_t ts_ms, double v, unsigned q) {
  if (a->n == 0) {
    *a = (struct ph_rollup_agg){.min = v, .max = v, .first_ts = ts_ms, .first = v, .last_ts = ts_ms, .last = v};
  } else {
    if (v < a->min) a->min = v;
    if (v > a->max) a->max = v;
    if (ts_ms < a->first_ts) a->first_ts = ts_ms, a->first = v;
    if (ts_ms >= a->last_ts) a->last_ts = ts_ms, a->last = v;
  }
  a->n++;
  a->sum += v;
  a->n_stop += (q & PH_ROLLUP_STOP) != 0;
  a->n_trans += (q & PH_ROLLUP_TRANS) != 0;
  if (q & PH_ROLLUP_VALID) {
    a->n_valid++;
    a->sum_valid += v;
  }
}

/* Folds b (later-stored) into a, as the store's upsert does. */
static void merge(struct ph_rollup_agg *a, const struct ph_rollup_agg *b) {
  if (a->n == 0) {
    *a = *b;
    return;
  }
  if (b->min < a->min) a->min = b->min;
  if (b->max > a->max) a->max = b->max;
  if (b->first_ts < a->first_ts) a->first_ts = b->first_ts, a->first = b->first;
  if (b->last_ts >= a->last_ts) a->last_ts = b->last_ts, a->last = b->last;
  a->n += b->n;
  a->n_valid += b->n_valid;
  a->n_stop += b->n_stop;
  a->n_trans += b->n_trans;
  a->sum += b->sum;
  a->sum_valid += b->sum_valid;
}

int ph_rollup_add(struct ph_rollup *r, int64_t series_id, int period, int64_t bucket_ms, double expected,
                  int64_t ts_ms, double v, unsigned q) {
  struct entry *e = get(r, series_id, period, bucket_ms, expected);
  if (!e) return PH_ENOMEM;
  add_value(&e->a, ts_ms, v, q);
  return 0;
}

int ph_rollup_add_value(struct ph_rollup *r, int64_t series_id, const struct ph_rollup_buckets *bk, int64_t ts_ms,
                        double v, unsigned q) {
  struct entry *e = get(r, series_id, PH_ROLLUP_MINUTE, bk->start[PH_ROLLUP_MINUTE], bk->expected[PH_ROLLUP_MINUTE]);
  if (!e) return PH_ENOMEM;
  if (!e->has_parents) {
    e->has_parents = true;
    memcpy(e->parent_ms, bk->start, sizeof e->parent_ms);
    memcpy(e->parent_expected, bk->expected, sizeof e->parent_expected);
  }
  add_value(&e->a, ts_ms, v, q);
  return 0;
}

/* Minutes into their hours and days; entries appended meanwhile are never
 * minutes with parents, so the loop's bound is fixed. */
static int fold_parents(struct ph_rollup *r) {
  size_t n = r->n;
  for (size_t k = 0; k < n; k++) {
    if (!r->items[k].has_parents) continue;
    struct entry m = r->items[k]; /* a copy: get() may move the items */
    for (int p = PH_ROLLUP_HOUR; p < PH_ROLLUP_PERIODS; p++) {
      struct entry *e = get(r, m.series_id, p, m.parent_ms[p], m.parent_expected[p]);
      if (!e) return PH_ENOMEM;
      merge(&e->a, &m.a);
    }
  }
  return 0;
}

static int by_key(const void *x, const void *y) {
  const struct entry *a = x, *b = y;
  if (a->series_id != b->series_id) return a->series_id < b->series_id ? -1 : 1;
  if (a->period != b->period) return a->period < b->period ? -1 : 1;
  return (a->bucket_ms > b->bucket_ms) - (a->bucket_ms < b->bucket_ms);
}

int ph_rollup_flush(struct ph_rollup *r, struct ph_store *s, struct ph_err *err) {
  if (fold_parents(r)) return ph_fail(err, PH_ENOMEM, "rollups: out of memory");
  qsort(r->items, r->n, sizeof *r->items, by_key); /* the index is stale from here: cleared below */
  for (size_t k = 0; k < r->n; k++) {
    const struct entry *e = &r->items[k];
    int rc = ph_store_rollup(s, e->series_id, e->period, e->bucket_ms, &e->a, e->expected);
    if (rc) {
      ph_rollup_clear(r);
      return ph_fail(err, rc, "database: writing rollups failed");
    }
  }
  ph_rollup_clear(r);
  return 0;
}

void ph_rollup_clear(struct ph_rollup *r) {
  memset(r->index, 0xff, r->cap * sizeof *r->index);
  r->n = 0;
}

size_t ph_rollup_pending(const struct ph_rollup *r) { return r->n; }
