/* stmt_cache.c — per-thread prepared-statement cache (stmt_cache.h).
 *
 * Callers: compliance.c, emission_mass.c, monitoring.c (every statement);
 * the summary handler and the report bracket a computation.
 * Threads: any; the state is thread-local.
 */
#include "domain/stmt_cache.h"
#include "domain/cems_spans.h"
#include "parkhub/alloc.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define SLOTS 48 /* more than the distinct statements of one summary */
#define MEMOS 512 /* points of a park (100 enterprises × a few points) */

static bool use_cache = true;

void ph_stmt_cache_use(bool on) { use_cache = on; }

struct slot {
  const char *sql; /* compared by address: the SQL macros are string literals */
  sqlite3_stmt *st;
  bool busy;
};

static _Thread_local struct {
  sqlite3 *db; /* the bracket's connection; between brackets, that of the kept statements (NULL: none) */
  int depth;
  struct slot s[SLOTS];
  int nmemo, last; /* last: the entry found last (a summary asks about one point many times in a row) */
  struct memo {
    int64_t point_id, first, op[4];
    bool has_first, has_op;
  } memo[MEMOS];
} cache;

#define COUNTS 16 /* distinct ranges of one summary: a handful per monitoring window */

struct count_memo {
  int what;
  const void *tz; /* the zone outlives the bracket (the request's refs) */
  int64_t a, b, v;
};
/* The stopped hours of the key asked last (ph_stmt_memo_stop_*). */
static _Thread_local struct {
  bool valid;
  int64_t point_id, series_id, lo, hi;
  int64_t *hours;
  size_t n, cap;
} stop;

int ph_stmt_memo_stop_get(int64_t point_id, int64_t series_id, int64_t lo, int64_t hi, const int64_t **hours,
                          size_t *n) {
  if (!cache.depth || !stop.valid || stop.point_id != point_id || stop.series_id != series_id || stop.lo != lo ||
      stop.hi != hi)
    return 0;
  *hours = stop.hours;
  *n = stop.n;
  return 1;
}

void ph_stmt_memo_stop_put(int64_t point_id, int64_t series_id, int64_t lo, int64_t hi, const int64_t *hours,
                           size_t n) {
  if (!cache.depth) return;
  stop.valid = false;
  if (n > stop.cap) {
    int64_t *h = ph_realloc(stop.hours, n * sizeof *h);
    if (!h) return;
    stop.hours = h;
    stop.cap = n;
  }
  if (n) memcpy(stop.hours, hours, n * sizeof *hours);
  stop.n = n;
  stop.point_id = point_id, stop.series_id = series_id, stop.lo = lo, stop.hi = hi;
  stop.valid = true;
}

static _Thread_local struct count_memo counts[COUNTS];
static _Thread_local int ncounts, next_count;

int ph_stmt_count_get(int what, const void *tz, int64_t a, int64_t b, int64_t *v) {
  for (int i = 0; cache.depth && i < ncounts; i++)
    if (counts[i].what == what && counts[i].tz == tz && counts[i].a == a && counts[i].b == b) {
      *v = counts[i].v;
      return 1;
    }
  return 0;
}

void ph_stmt_count_put(int what, const void *tz, int64_t a, int64_t b, int64_t v) {
  if (!cache.depth) return;
  counts[next_count] = (struct count_memo){what, tz, a, b, v};
  next_count = (next_count + 1) % COUNTS; /* full: the oldest goes */
  if (ncounts < COUNTS) ncounts++;
}

/* The entry of point_id; when absent and add, a new one (NULL: full or
 * outside a bracket — asked again, never wrong). */
static struct memo *memo_of(int64_t point_id, bool add) {
  if (!cache.depth) return NULL;
  if (cache.last < cache.nmemo && cache.memo[cache.last].point_id == point_id) return &cache.memo[cache.last];
  for (int i = 0; i < cache.nmemo; i++)
    if (cache.memo[i].point_id == point_id) return &cache.memo[cache.last = i];
  if (!add || cache.nmemo == MEMOS) return NULL;
  cache.memo[cache.nmemo] = (struct memo){.point_id = point_id};
  return &cache.memo[cache.last = cache.nmemo++];
}

int ph_stmt_memo_get(int64_t point_id, int64_t *v) {
  struct memo *m = memo_of(point_id, false);
  if (!m || !m->has_first) return 0;
  *v = m->first;
  return 1;
}

void ph_stmt_memo_put(int64_t point_id, int64_t v) {
  struct memo *m = memo_of(point_id, true);
  if (m) m->first = v, m->has_first = true;
}

bool ph_stmt_memo_on(void) { return cache.depth > 0; }

int ph_stmt_memo_op_get(int64_t point_id, int64_t op[4]) {
  struct memo *m = memo_of(point_id, false);
  if (!m || !m->has_op) return 0;
  memcpy(op, m->op, sizeof m->op);
  return 1;
}

void ph_stmt_memo_op_put(int64_t point_id, const int64_t op[4]) {
  struct memo *m = memo_of(point_id, true);
  if (m) memcpy(m->op, op, sizeof m->op), m->has_op = true;
}

static void slots_finalize(void) {
  for (int i = 0; i < SLOTS; i++) {
    sqlite3_finalize(cache.s[i].st);
    cache.s[i] = (struct slot){0};
  }
}

void ph_stmt_cache_begin(sqlite3 *db) {
  if (!use_cache) return;
  if (cache.depth++ > 0) return;
  if (cache.db != db) slots_finalize(); /* kept for another connection, still open (inv. 2) */
  cache.db = db;
}

/* The bracket's end: statements finalized, or kept (reset) when keep. */
static void end(bool keep) {
  if (!use_cache || cache.depth == 0 || --cache.depth > 0) return;
  if (keep) {
    for (int i = 0; i < SLOTS; i++)
      if (cache.s[i].st) {
        sqlite3_reset(cache.s[i].st);
        sqlite3_clear_bindings(cache.s[i].st);
        cache.s[i].busy = false;
      }
  } else {
    slots_finalize(); /* inv. 2 */
    cache.db = NULL;
  }
  ph_cems_spans_reset(); /* the grouped reads live as long as the bracket (cems_spans.h) */
  ph_free(stop.hours); /* nothing outlives the bracket (a thread's exit would leak it) */
  stop.hours = NULL;
  stop.cap = stop.n = 0;
  stop.valid = false;
  cache.nmemo = cache.last = 0;
  ncounts = next_count = 0;
}

void ph_stmt_cache_end(sqlite3 *db) {
  (void)db;
  end(false);
}

void ph_stmt_cache_end_keep(sqlite3 *db) {
  (void)db;
  end(true);
}

void ph_stmt_finalize_all(sqlite3 *db) {
  if (cache.db == db && cache.depth == 0) { /* this thread's kept ones: no pointer left behind */
    slots_finalize();
    cache.db = NULL;
  }
  sqlite3_stmt *s;
  while ((s = sqlite3_next_stmt(db, NULL))) sqlite3_finalize(s);
}

int ph_stmt_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out) {
  *out = NULL;
  struct slot *free_slot = NULL;
  if (cache.depth && db == cache.db)
    for (int i = 0; i < SLOTS; i++) {
      struct slot *k = &cache.s[i];
      if (k->sql == sql && !k->busy) {
        k->busy = true;
        *out = k->st;
        return SQLITE_OK;
      }
      if (!k->sql && !free_slot) free_slot = k;
    }
  int rc = sqlite3_prepare_v2(db, sql, -1, out, NULL);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(*out);
    *out = NULL;
    return rc;
  }
  if (free_slot) *free_slot = (struct slot){.sql = sql, .st = *out, .busy = true};
  return SQLITE_OK;
}

void ph_stmt_release(sqlite3_stmt *s) {
  if (!s) return;
  for (int i = 0; cache.depth && i < SLOTS; i++)
    if (cache.s[i].st == s) {
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
      cache.s[i].busy = false;
      return;
    }
  sqlite3_finalize(s);
}
