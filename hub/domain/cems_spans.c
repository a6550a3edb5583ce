/* cems_spans.c — a whole park's span rows in one statement (cems_spans.h).
 *
 * Callers: compliance.c and emission_mass.c (readers), the summary handler
 * and the report (the hint), stmt_cache.c (the reset at a bracket's end).
 * Threads: the caller's; the state is thread-local.
 * Owns: the rows read and the point listings, until ph_cems_spans_reset;
 * the rows' room (the pool) up to SPAN_ROWS_KEEP rows past it, freed at
 * the thread's exit.
 *
 * Invariants: cems_spans.h's, and
 *  3. memory stays below SPAN_ROWS_MAX rows and SPAN_SETS sets a bracket;
 *     past either, get answers 0 (inv. 2). Between brackets at most
 *     SPAN_ROWS_KEEP rows' room is kept per thread.
 */
#include "domain/cems_spans.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cems_agg_sql.h"
#include "domain/cems_agg.h"
#include "domain/stmt_cache.h"
#include "parkhub/alloc.h"
#include "parkhub/ids.h"

#define SPAN_SETS 256         /* (figure, pollutant, days) sets of one bracket: a report's months × pollutants */
#define SPAN_ROWS_MAX 524288 /* ≈ 60 MB at most a thread: a park-year is ~35 000 rows, a park report ~400 000 */
#define SPAN_ROWS_KEEP 65536  /* rows' room kept between brackets (8 MB) */
#define SPAN_PLISTS 64        /* pollutants of one bracket */
#define SPAN_POINTS_MAX 100000

/* The rows of one (figure, pollutant, days) for every series of the park:
 * pool[first, first + n), by series, part, start. */
struct set {
  enum ph_span_kind kind;
  char metric[PH_ID_MAX + 1];
  const struct ph_tz *tz; /* the park's zone: where the days start (ph_cems_agg_parts) */
  int64_t d0, d1;
  size_t first, n;
  int plist;     /* its series: st.plists[plist].covered */
  bool answered; /* false: past the bound, the callers' own statements answer */
};

/* The park's points with a series of one metric, by enterprise and point;
 * covered: the series of those with a first data hour (point_first),
 * ascending, and as a JSON array (the grouped statements' ?1). */
struct plist {
  char metric[PH_ID_MAX + 1];
  struct ph_span_point *v;
  size_t n;
  int64_t *covered;
  size_t ncovered;
  char *json;
  bool answered;
};

/* The rows' room is kept from bracket to bracket (up to SPAN_ROWS_KEEP):
 * a fresh megabyte per request cost more in page faults than the grouped
 * reads saved (perf, bench/query); the thread's exit frees it (a key's
 * destructor). */
static _Thread_local struct {
  const char *park; /* the hint; NULL: no grouped reads */
  struct set sets[SPAN_SETS];
  int nsets;
  struct ph_span_row *pool;
  size_t used, cap;
  struct plist plists[SPAN_PLISTS];
  int nplists;
  bool has_closed;
  int64_t closed;
} st;

static pthread_key_t pool_key;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void pool_free(void *p) { ph_free(p); }
static void pool_key_make(void) { (void)pthread_key_create(&pool_key, pool_free); }

void ph_cems_spans_park(const char *park) {
  if (ph_stmt_memo_on()) st.park = park; /* outside a bracket the hint would never be cleared */
}

bool ph_cems_spans_on(void) { return st.park && ph_stmt_memo_on(); }

void ph_cems_spans_reset(void) {
  if (st.cap > SPAN_ROWS_KEEP) { /* a report's many sets: not kept */
    ph_free(st.pool);
    st.pool = NULL;
    st.cap = 0;
    pthread_setspecific(pool_key, NULL);
  }
  for (int i = 0; i < st.nplists; i++) {
    ph_free(st.plists[i].v);
    ph_free(st.plists[i].covered);
    ph_free(st.plists[i].json);
  }
  st.nplists = 0;
  st.park = NULL;
  st.nsets = 0;
  st.used = 0;
  st.has_closed = false;
}

bool ph_cems_spans_closed_get(int64_t *closed_ms) {
  if (!st.park || !st.has_closed || !ph_stmt_memo_on()) return false;
  *closed_ms = st.closed;
  return true;
}

void ph_cems_spans_closed_put(int64_t closed_ms) {
  if (!st.park || !ph_stmt_memo_on()) return;
  st.closed = closed_ms;
  st.has_closed = true;
}

static int id_cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* The listing's series with a first data hour, ascending, and their JSON
 * array: 0 or PH_ENOMEM. The others are never in a grouped read: a point
 * without data asks for no span (monitoring.h: not monitored), and one
 * with data the writer has not seen (rows written by SQL) asks its own. */
static int cover(struct plist *l, struct ph_err *err) {
  l->covered = ph_malloc((l->n ? l->n : 1) * sizeof *l->covered);
  l->json = ph_malloc(l->n * 21 + 3); /* "[" ids of ≤ 20 characters and their commas "]" */
  if (!l->covered || !l->json) return ph_fail(err, PH_ENOMEM, "cems spans: out of memory");
  for (size_t i = 0; i < l->n; i++)
    if (l->v[i].has_first) l->covered[l->ncovered++] = l->v[i].series_id;
  if (l->ncovered > 1) qsort(l->covered, l->ncovered, sizeof *l->covered, id_cmp);
  size_t at = 0;
  l->json[at++] = '[';
  for (size_t i = 0; i < l->ncovered; i++)
    at += (size_t)snprintf(l->json + at, 22, "%s%lld", i ? "," : "", (long long)l->covered[i]);
  l->json[at++] = ']';
  l->json[at] = 0;
  return 0;
}

static bool covers(const struct plist *l, int64_t series_id) {
  return bsearch(&series_id, l->covered, l->ncovered, sizeof *l->covered, id_cmp) != NULL;
}

/* Reads the park's points of the metric (CEMS_AGG_SQL_PARK_POINTS): 0;
 * 1 past the bound; or a PH_E* code. */
static int load_points(sqlite3 *db, struct plist *l, struct ph_err *err) {
  sqlite3_stmt *s;
  if (ph_stmt_prepare(db, CEMS_AGG_SQL_PARK_POINTS, &s) != SQLITE_OK) {
    ph_stmt_release(s);
    return ph_fail(err, PH_EDB, "cems spans: points: %s", sqlite3_errmsg(db));
  }
  sqlite3_bind_text(s, 1, st.park, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, l->metric, -1, SQLITE_STATIC);
  size_t cap = 0;
  int rc, bad = 0;
  while (!bad && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (l->n == cap) {
      size_t ncap = cap ? 2 * cap : 256;
      struct ph_span_point *v = ncap <= SPAN_POINTS_MAX ? ph_realloc(l->v, ncap * sizeof *v) : NULL;
      if (!v) {
        bad = ncap <= SPAN_POINTS_MAX ? ph_fail(err, PH_ENOMEM, "cems spans: out of memory") : 1;
        break;
      }
      l->v = v;
      cap = ncap;
    }
    struct ph_span_point *p = &l->v[l->n++];
    p->point_id = sqlite3_column_int64(s, 0);
    snprintf(p->ent, sizeof p->ent, "%s", (const char *)sqlite3_column_text(s, 1));
    snprintf(p->point, sizeof p->point, "%s", (const char *)sqlite3_column_text(s, 2));
    p->series_id = sqlite3_column_int64(s, 3);
    p->has_first = sqlite3_column_int(s, 4) != 0;
  }
  ph_stmt_release(s);
  if (!bad && rc != SQLITE_DONE) bad = ph_fail(err, PH_EDB, "cems spans: points: %s", sqlite3_errmsg(db));
  if (!bad) bad = cover(l, err);
  if (bad) {
    ph_free(l->v);
    ph_free(l->covered);
    ph_free(l->json);
    l->v = NULL, l->covered = NULL, l->json = NULL; /* the metric stays: asked once */
    l->n = l->ncovered = 0;
    return bad;
  }
  l->answered = true;
  return 0;
}

/* The plist of metric, listed now when new; NULL when not answered here
 * (*rc a PH_E* code on failure). */
static struct plist *plist_of(sqlite3 *db, const char *metric, int *rc, struct ph_err *err) {
  *rc = 0;
  for (int i = 0; i < st.nplists; i++)
    if (!strcmp(st.plists[i].metric, metric)) return st.plists[i].answered ? &st.plists[i] : NULL;
  if (st.nplists == SPAN_PLISTS) return NULL;
  struct plist *l = &st.plists[st.nplists];
  *l = (struct plist){0};
  snprintf(l->metric, sizeof l->metric, "%s", metric);
  int e = load_points(db, l, err);
  if (e < 0) {
    *rc = e;
    return NULL;
  }
  st.nplists++; /* past the bound too: asked once */
  return l->answered ? l : NULL;
}

int ph_cems_spans_points(sqlite3 *db, const char *metric, const char *ent, const struct ph_span_point **v,
                         size_t *n, struct ph_err *err) {
  *v = NULL;
  *n = 0;
  if (!st.park || !ph_stmt_memo_on() || !metric || !ent || strlen(metric) > PH_ID_MAX) return 0;
  int rc;
  struct plist *l = plist_of(db, metric, &rc, err);
  if (!l) return rc;
  if (!l->n) return 1; /* no point (and v may be NULL) */
  size_t i = 0, hi = l->n; /* the first point of ent (ORDER BY ent: SQLite's BINARY is strcmp's order) */
  while (i < hi) {
    size_t mid = i + (hi - i) / 2;
    if (strcmp(l->v[mid].ent, ent) < 0) i = mid + 1;
    else hi = mid;
  }
  size_t j = i;
  while (j < l->n && !strcmp(l->v[j].ent, ent)) j++;
  *v = l->v + i;
  *n = j - i;
  return 1;
}

static void read_row(sqlite3_stmt *s, enum ph_span_kind kind, struct ph_span_row *r) {
  r->series = sqlite3_column_int64(s, 0);
  r->part = sqlite3_column_int(s, 1);
  r->start = sqlite3_column_int64(s, 2);
  for (int k = 0; k < 4; k++) {
    r->n[k] = sqlite3_column_int64(s, 3 + k);
    r->w[k] = sqlite3_column_double(s, 7 + k);
  }
  r->has_bucket = sqlite3_column_type(s, 11) != SQLITE_NULL;
  r->bucket = sqlite3_column_int64(s, 11);
  r->used = kind == PH_SPAN_AGG ? sqlite3_column_int64(s, 12) : 0;
  r->cq = kind == PH_SPAN_AGG ? sqlite3_column_double(s, 13) : 0;
}

static int row_cmp(const void *a, const void *b) {
  const struct ph_span_row *x = a, *y = b;
  if (x->series != y->series) return x->series < y->series ? -1 : 1;
  if (x->part != y->part) return x->part < y->part ? -1 : 1;
  return (x->start > y->start) - (x->start < y->start);
}

/* A run: rows of one series and part, contiguous as read. */
struct run {
  int64_t series, start;
  int part;
  size_t at, n;
};

static int run_cmp(const void *a, const void *b) {
  const struct run *x = a, *y = b;
  if (x->series != y->series) return x->series < y->series ? -1 : 1;
  if (x->part != y->part) return x->part < y->part ? -1 : 1;
  return (x->start > y->start) - (x->start < y->start);
}

static bool sorted(const struct ph_span_row *v, size_t n) {
  for (size_t i = 1; i < n; i++)
    if (row_cmp(&v[i - 1], &v[i]) >= 0) return false;
  return true;
}

static int grow(void);

/* The set's rows by series, part, start (inv. 1). They come part by part,
 * each series' rows of a part together and by start (the index's order):
 * the ~600 runs are sorted and copied, not the ~6 000 rows (their qsort
 * was 6 % of a park-year; ORDER BY in SQL, a temporary b-tree, 3 ms a
 * set). Anything else in the rows: sorted whole. 0, or a grow code. */
static int order(struct set *x) {
  if (x->n < 2) return 0; /* and the pool may be NULL */
  struct ph_span_row *v = st.pool + x->first;
  size_t nrun = 0, cap = 0;
  struct run *runs = NULL;
  for (size_t i = 0; i < x->n; i++) {
    if (i && v[i].series == v[i - 1].series && v[i].part == v[i - 1].part) {
      runs[nrun - 1].n++;
      continue;
    }
    if (nrun == cap) {
      cap = cap ? 2 * cap : 256;
      struct run *r = ph_realloc(runs, cap * sizeof *r);
      if (!r) {
        ph_free(runs);
        return PH_ENOMEM;
      }
      runs = r;
    }
    runs[nrun++] = (struct run){v[i].series, v[i].start, v[i].part, i, 1};
  }
  if (nrun > 1) qsort(runs, nrun, sizeof *runs, run_cmp); /* none: runs is NULL */
  int rc = 0;
  for (size_t k = 0; !rc && k < x->n; k++) /* room behind the set */
    if (!(rc = grow())) st.used++;
  if (!rc) {
    v = st.pool + x->first; /* grow may have moved the pool */
    struct ph_span_row *out = v + x->n;
    for (size_t k = 0, at = 0; k < nrun; at += runs[k++].n) memcpy(out + at, v + runs[k].at, runs[k].n * sizeof *v);
    memcpy(v, out, x->n * sizeof *v);
    if (!sorted(v, x->n)) qsort(v, x->n, sizeof *v, row_cmp); /* n > 1 here */
  }
  st.used = x->first + x->n;
  ph_free(runs);
  return rc;
}

/* Room for one more row in the pool: 0; 1 past the bound (inv. 3); PH_ENOMEM. */
static int grow(void) {
  if (st.used < st.cap) return 0;
  if (st.cap >= SPAN_ROWS_MAX) return 1;
  size_t ncap = st.cap ? st.cap * 2 : 4096;
  if (ncap > SPAN_ROWS_MAX) ncap = SPAN_ROWS_MAX;
  struct ph_span_row *r = ph_realloc(st.pool, ncap * sizeof *r);
  if (!r) return PH_ENOMEM;
  pthread_once(&pool_once, pool_key_make);
  pthread_setspecific(pool_key, r);
  st.pool = r;
  st.cap = ncap;
  return 0;
}

/* Reads the set's rows with the grouped statement into the pool: 0; 1
 * past the bound (not answered here); or a PH_E* code. */
static int load(sqlite3 *db, struct set *x, struct ph_err *err) {
  int64_t t[2 * PH_CEMS_AGG_PARTS];
  ph_cems_agg_parts(x->tz, x->d0, x->d1, t);
  sqlite3_stmt *s;
  const char *sql = x->kind == PH_SPAN_AGG ? CEMS_AGG_SQL_PARK_AGG_SPAN : CEMS_AGG_SQL_PARK_DAY_SPAN;
  if (ph_stmt_prepare(db, sql, &s) != SQLITE_OK) {
    ph_stmt_release(s);
    return ph_fail(err, PH_EDB, "cems spans: %s", sqlite3_errmsg(db));
  }
  sqlite3_bind_text(s, 1, st.plists[x->plist].json, -1, SQLITE_STATIC);
  for (int k = 0; k < 2 * PH_CEMS_AGG_PARTS; k++) sqlite3_bind_int64(s, 2 + k, t[k]);
  x->first = st.used;
  int rc, bad = 0;
  while (!bad && (rc = sqlite3_step(s)) == SQLITE_ROW)
    if (!(bad = grow())) read_row(s, x->kind, &st.pool[st.used++]);
  ph_stmt_release(s);
  if (bad < 0) ph_fail(err, bad, "cems spans: out of memory");
  else if (!bad && rc != SQLITE_DONE) bad = ph_fail(err, PH_EDB, "cems spans: %s", sqlite3_errmsg(db));
  if (bad) {
    st.used = x->first; /* the set's rows dropped */
    return bad;
  }
  x->n = st.used - x->first;
  if ((bad = order(x))) {
    st.used = x->first;
    return bad < 0 ? ph_fail(err, bad, "cems spans: out of memory") : bad;
  }
  x->answered = true;
  return 0;
}

/* The set of (kind, metric, d0, d1), read now when new; NULL when not answered here. */
static struct set *set_of(sqlite3 *db, enum ph_span_kind kind, const char *metric, const struct ph_tz *tz,
                          int64_t d0, int64_t d1, int *rc, struct ph_err *err) {
  *rc = 0;
  for (int i = 0; i < st.nsets; i++) {
    struct set *x = &st.sets[i];
    if (x->kind == kind && x->tz == tz && x->d0 == d0 && x->d1 == d1 && !strcmp(x->metric, metric))
      return x->answered ? x : NULL;
  }
  if (st.nsets == SPAN_SETS || strlen(metric) > PH_ID_MAX) return NULL; /* inv. 3 */
  struct plist *l = plist_of(db, metric, rc, err);
  if (!l) return NULL;
  struct set *x = &st.sets[st.nsets];
  *x = (struct set){.kind = kind, .tz = tz, .d0 = d0, .d1 = d1, .plist = (int)(l - st.plists)};
  snprintf(x->metric, sizeof x->metric, "%s", metric);
  int e = load(db, x, err);
  if (e < 0) {
    *rc = e;
    return NULL;
  }
  st.nsets++; /* kept past the bound too: asked once, then answered by the callers' statements */
  return x->answered ? x : NULL;
}

int ph_cems_spans_get(sqlite3 *db, enum ph_span_kind kind, const char *metric, const struct ph_tz *tz,
                      int64_t series_id, int64_t d0, int64_t d1, const struct ph_span_row **rows, size_t *n,
                      struct ph_err *err) {
  *rows = NULL;
  *n = 0;
  if (!st.park || !ph_stmt_memo_on() || !metric) return 0;
  int rc;
  struct set *x = set_of(db, kind, metric, tz, d0, d1, &rc, err);
  if (!x) return rc;
  const struct plist *l = &st.plists[x->plist];
  if (!covers(l, series_id)) return 0; /* a point without a first data hour: its own statement answers */
  if (!x->n) return 1;                  /* no row at all (and the pool may be NULL) */
  const struct ph_span_row *v = st.pool + x->first;
  size_t lo = 0, hi = x->n; /* the first row of series_id */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (v[mid].series < series_id) lo = mid + 1;
    else hi = mid;
  }
  size_t end = lo;
  while (end < x->n && v[end].series == series_id) end++;
  *rows = v + lo;
  *n = end - lo;
  return 1;
}
