/* store.c — the hub database (store.h).
 *
 * Callers: writer.c (every write), hub.c (open, retention).
 * Threads: the writer thread only.
 * Migrations: migrations[i] takes the schema from user_version i to i+1;
 * they run in one transaction at open, so a half-migrated file cannot exist.
 * auto_vacuum=INCREMENTAL is set before the first table exists so retention
 * can return pages to the file system without a blocking VACUUM.
 */
#include "store/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "ingest/idmap.h"
#include "parkhub/log.h"
#include "store_sql.h"

static const char *const migrations[] = {STORE_SQL_V1, STORE_SQL_V2, STORE_SQL_V3, STORE_SQL_V4, STORE_SQL_V5,
                                         STORE_SQL_V6, STORE_SQL_V7, STORE_SQL_V8, STORE_SQL_V9,
                                         STORE_SQL_V10, STORE_SQL_V11, STORE_SQL_V12};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))
_Static_assert(sizeof migrations / sizeof migrations[0] == PH_STORE_VERSION, "PH_STORE_VERSION (store.h) counts the migrations");

enum {
  S_AGENT_GET, S_AGENT_ADD, S_POINT_GET, S_POINT_ADD, S_METRIC_GET, S_METRIC_ADD, S_SERIES_GET, S_SERIES_ADD,
  S_CHUNK, S_MATERIAL, S_ROLLUP, S_CEMS_DIRTY, S_POINT_FIRST, S_STREAM_SAVE, S_STREAMS_LOAD, S_ABOVE_LOAD, S_ABOVE_ADD, S_ABOVE_TRIM, S_GAP,
  S_EVENT, S_STATUS, S_STATUS_GET, S_REJECT, S_RETENTION, S_STREAM_GET, S_ABOVE_GET, S_REJECTS_COUNT, S_REJECTS_TRIM,
  S_REJECTS_EXPIRE, S_REJECTS_CLEAR, S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
    STORE_SQL_AGENT_GET,   STORE_SQL_AGENT_ADD,    STORE_SQL_POINT_GET,  STORE_SQL_POINT_ADD,  STORE_SQL_METRIC_GET,
    STORE_SQL_METRIC_ADD,  STORE_SQL_SERIES_GET,   STORE_SQL_SERIES_ADD, STORE_SQL_CHUNK,      STORE_SQL_MATERIAL,
    STORE_SQL_ROLLUP,      STORE_SQL_CEMS_DIRTY,   STORE_SQL_POINT_FIRST,   STORE_SQL_STREAM_SAVE,  STORE_SQL_STREAMS_LOAD, STORE_SQL_ABOVE_LOAD, STORE_SQL_ABOVE_ADD,
    STORE_SQL_ABOVE_TRIM,  STORE_SQL_GAP,          STORE_SQL_EVENT,      STORE_SQL_STATUS,     STORE_SQL_STATUS_GET,
    STORE_SQL_REJECT,      STORE_SQL_RETENTION,    STORE_SQL_STREAM_GET, STORE_SQL_ABOVE_GET,  STORE_SQL_REJECTS_COUNT,
    STORE_SQL_REJECTS_TRIM, STORE_SQL_REJECTS_EXPIRE, STORE_SQL_REJECTS_CLEAR,
};

enum { C_AGENT, C_POINT, C_METRIC, C_SERIES, C_COUNT };

struct ph_store {
  sqlite3 *db;
  int wal_frames;            /* frames in the WAL after the last commit (wal_hook) */
  int64_t default_max_pages; /* max_page_count at open: "no cap" */
  sqlite3_stmt *st[S_COUNT];
  struct ph_idmap cache[C_COUNT];
};

static int fail(struct ph_store *s, struct ph_err *err, const char *what) {
  int code = sqlite3_errcode(s->db) == SQLITE_FULL ? PH_EFULL : PH_EDB;
  return ph_fail(err, code, "database: %s: %s", what, sqlite3_errmsg(s->db));
}

static int exec(struct ph_store *s, const char *sql, struct ph_err *err) {
  char *msg = NULL;
  if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK) return 0;
  int code = sqlite3_errcode(s->db) == SQLITE_FULL ? PH_EFULL : PH_EDB;
  ph_fail(err, code, "database: %.60s…: %s", sql, msg ? msg : "?");
  sqlite3_free(msg);
  return code;
}

static sqlite3_stmt *stmt(struct ph_store *s, int i) {
  sqlite3_reset(s->st[i]);
  return s->st[i];
}

/* Steps a write statement; 0 or PH_EDB/PH_EFULL. */
static int done(struct ph_store *s, sqlite3_stmt *st) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc == SQLITE_DONE) return 0;
  return sqlite3_errcode(s->db) == SQLITE_FULL || rc == SQLITE_FULL ? PH_EFULL : PH_EDB;
}

static int migrate(struct ph_store *s, struct ph_err *err) {
  sqlite3_stmt *v;
  int version = 0;
  if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &v, NULL) != SQLITE_OK) return fail(s, err, "user_version");
  if (sqlite3_step(v) == SQLITE_ROW) version = sqlite3_column_int(v, 0);
  sqlite3_finalize(v);
  if (version > NMIGRATIONS)
    return ph_fail(err, PH_EDB, "database: schema version %d is newer than this hub (%d)", version, NMIGRATIONS);
  if (version == NMIGRATIONS) return 0;
  int rc;
  if ((rc = exec(s, "BEGIN IMMEDIATE", err))) return rc;
  for (int i = version; i < NMIGRATIONS; i++) {
    if (version > 0 && i == 5) /* reads every CEMS hour once: say why an open takes a while */
      PH_INFO("store", "building the daily CEMS aggregates from the hours held (migration 6, once)");
    if ((rc = exec(s, migrations[i], err))) goto fail;
  }
  if (version > 0) PH_INFO("store", "database schema migrated from version %d to %d", version, NMIGRATIONS);
  char sql[64];
  snprintf(sql, sizeof sql, "PRAGMA user_version = %d", NMIGRATIONS);
  if ((rc = exec(s, sql, err)) || (rc = exec(s, "COMMIT", err))) goto fail;
  return 0;
fail:
  exec(s, "ROLLBACK", NULL);
  return rc;
}

/* First column of the pragma's row. */
static int pragma_i64(struct ph_store *s, const char *sql, int64_t *out, struct ph_err *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return fail(s, err, sql);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return rc == SQLITE_ROW ? 0 : fail(s, err, sql);
}

int ph_store_set_max_size(struct ph_store *s, int64_t mb, int64_t *pages, int64_t *page_size, struct ph_err *err) {
  int64_t psz = 0, want, got = 0;
  int rc = pragma_i64(s, "PRAGMA page_size", &psz, err);
  if (rc) return rc;
  if (psz <= 0) return ph_fail(err, PH_EDB, "database: page size %lld", (long long)psz);
  want = mb > 0 ? mb * 1048576 / psz : s->default_max_pages;
  if (want < 1) want = 1;
  char sql[64];
  snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld", (long long)want);
  if ((rc = pragma_i64(s, sql, &got, err))) return rc;
  if (pages) *pages = got;
  if (page_size) *page_size = psz;
  return 0;
}

/* Replaces SQLite's auto-checkpoint hook (wal_autocheckpoint=0 below): only
 * records the WAL's length for ph_store_wal_restart. */
static int wal_hook(void *ctx, sqlite3 *db, const char *name, int nframes) {
  (void)db, (void)name;
  ((struct ph_store *)ctx)->wal_frames = nframes;
  return SQLITE_OK;
}

int ph_store_open(const char *path, struct ph_store **out, struct ph_err *err) {
  struct ph_store *s = ph_calloc(1, sizeof *s);
  if (!s) return ph_fail(err, PH_ENOMEM, "database: out of memory");
  for (int i = 0; i < C_COUNT; i++) ph_idmap_init(&s->cache[i]);
  int rc;
  if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    rc = ph_fail(err, PH_EDB, "database: cannot open %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
    goto fail;
  }
  sqlite3_busy_timeout(s->db, 10000);
  if ((rc = exec(s, "PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                    "PRAGMA foreign_keys=ON; PRAGMA cache_size=-16384; PRAGMA wal_autocheckpoint=0;", err)) ||
      (rc = migrate(s, err)))
    goto fail;
  if ((rc = pragma_i64(s, "PRAGMA max_page_count", &s->default_max_pages, err))) goto fail;
  sqlite3_wal_hook(s->db, wal_hook, s);
  for (int i = 0; i < S_COUNT; i++)
    if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK) {
      rc = fail(s, err, stmt_sql[i]);
      goto fail;
    }
  *out = s;
  return 0;
fail:
  ph_store_close(s);
  return rc;
}

void ph_store_close(struct ph_store *s) {
  if (!s) return;
  for (int i = 0; i < S_COUNT; i++) sqlite3_finalize(s->st[i]);
  sqlite3_close(s->db);
  for (int i = 0; i < C_COUNT; i++) ph_idmap_fini(&s->cache[i]);
  ph_free(s);
}

void *ph_store_db(struct ph_store *s) { return s->db; }

int ph_store_begin(struct ph_store *s, struct ph_err *err) { return exec(s, "BEGIN IMMEDIATE", err); }
int ph_store_commit(struct ph_store *s, struct ph_err *err) { return exec(s, "COMMIT", err); }

int ph_store_wal_frames(const struct ph_store *s) { return s->wal_frames; }

int ph_store_wal_restart(struct ph_store *s, int max_frames, int *backfilled, struct ph_err *err) {
  int log = 0, done = 0;
  if (backfilled) *backfilled = 0;
  if (s->wal_frames <= max_frames) return 0;
  int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) return fail(s, err, "WAL checkpoint");
  if (backfilled) *backfilled = done;
  /* The frames not copied yet, until the next commit reports the WAL's
   * length again: a writer loop with nothing to write does not checkpoint
   * again after a complete one. */
  s->wal_frames = log > done ? log - done : 0;
  return 0;
}

void ph_store_rollback(struct ph_store *s) {
  exec(s, "ROLLBACK", NULL);
  /* Ids created in the rolled-back transaction no longer exist. */
  for (int i = 0; i < C_COUNT; i++) {
    ph_idmap_fini(&s->cache[i]);
    ph_idmap_init(&s->cache[i]);
  }
}

/* Looks up (or inserts) the row named by up to three text keys. */
static int lookup(struct ph_store *s, int cache, int get, int add, const char *k1, const char *k2, const char *k3,
                  int64_t *id) {
  char key[3 * 65 + 4];
  int len = snprintf(key, sizeof key, "%s\x1f%s\x1f%s", k1, k2 ? k2 : "", k3 ? k3 : "");
  if (len < 0 || (size_t)len >= sizeof key) return PH_EINVAL;
  if (ph_idmap_get(&s->cache[cache], key, (size_t)len, id)) return 0;
  const char *keys[3] = {k1, k2, k3};
  for (int which = get;; which = add) {
    sqlite3_stmt *st = stmt(s, which);
    for (int i = 0; i < 3 && keys[i]; i++) sqlite3_bind_text(st, i + 1, keys[i], -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (which == get && rc == SQLITE_ROW) {
      *id = sqlite3_column_int64(st, 0);
      sqlite3_reset(st);
      break;
    }
    sqlite3_reset(st);
    if (which == add) {
      if (rc != SQLITE_DONE) return sqlite3_errcode(s->db) == SQLITE_FULL ? PH_EFULL : PH_EDB;
      *id = sqlite3_last_insert_rowid(s->db);
      break;
    }
    if (rc != SQLITE_DONE) return PH_EDB;
  }
  return ph_idmap_put(&s->cache[cache], key, (size_t)len, *id);
}

int ph_store_agent_id(struct ph_store *s, const char *park, const char *ent, const char *agent, int64_t *id) {
  return lookup(s, C_AGENT, S_AGENT_GET, S_AGENT_ADD, park, ent, agent, id);
}
int ph_store_point_id(struct ph_store *s, const char *park, const char *ent, const char *point, int64_t *id) {
  return lookup(s, C_POINT, S_POINT_GET, S_POINT_ADD, park, ent, point, id);
}
int ph_store_metric_id(struct ph_store *s, const char *code, int64_t *id) {
  return lookup(s, C_METRIC, S_METRIC_GET, S_METRIC_ADD, code, NULL, NULL, id);
}

int ph_store_series_id(struct ph_store *s, int64_t point_id, int64_t metric_id, int64_t *id) {
  char key[48];
  int len = snprintf(key, sizeof key, "%lld/%lld", (long long)point_id, (long long)metric_id);
  if (ph_idmap_get(&s->cache[C_SERIES], key, (size_t)len, id)) return 0;
  sqlite3_stmt *st = stmt(s, S_SERIES_GET);
  sqlite3_bind_int64(st, 1, point_id);
  sqlite3_bind_int64(st, 2, metric_id);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
  } else {
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return PH_EDB;
    st = stmt(s, S_SERIES_ADD);
    sqlite3_bind_int64(st, 1, point_id);
    sqlite3_bind_int64(st, 2, metric_id);
    if ((rc = done(s, st))) return rc;
    *id = sqlite3_last_insert_rowid(s->db);
  }
  return ph_idmap_put(&s->cache[C_SERIES], key, (size_t)len, *id);
}

int ph_store_chunk(struct ph_store *s, int64_t point_id, int64_t ts_min, int64_t ts_max, int64_t agent_id,
                   int64_t epoch, int64_t seq, int nrecords, int nvalues, const void *blob, size_t len) {
  sqlite3_stmt *st = stmt(s, S_CHUNK);
  sqlite3_bind_int64(st, 1, point_id);
  sqlite3_bind_int64(st, 2, ts_min);
  sqlite3_bind_int64(st, 3, ts_max);
  sqlite3_bind_int64(st, 4, agent_id);
  sqlite3_bind_int64(st, 5, epoch);
  sqlite3_bind_int64(st, 6, seq);
  sqlite3_bind_int(st, 7, nrecords);
  sqlite3_bind_int(st, 8, nvalues);
  sqlite3_bind_blob(st, 9, blob, (int)len, SQLITE_STATIC);
  return done(s, st);
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v) {
  if (v && *v)
    sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, i);
}

int ph_store_material(struct ph_store *s, int64_t point_id, int64_t ts_ms, const char *material, const char *dir,
                      double qty_t, const char *lot, const char *supplier, const char *attrs, int64_t agent_id,
                      int64_t epoch, int64_t seq) {
  sqlite3_stmt *st = stmt(s, S_MATERIAL);
  sqlite3_bind_int64(st, 1, point_id);
  sqlite3_bind_int64(st, 2, ts_ms);
  sqlite3_bind_text(st, 3, material, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, dir, -1, SQLITE_STATIC);
  sqlite3_bind_double(st, 5, qty_t);
  bind_text_or_null(st, 6, lot);
  bind_text_or_null(st, 7, supplier);
  bind_text_or_null(st, 8, attrs);
  sqlite3_bind_int64(st, 9, agent_id);
  sqlite3_bind_int64(st, 10, epoch);
  sqlite3_bind_int64(st, 11, seq);
  return done(s, st);
}

int ph_store_rollup(struct ph_store *s, int64_t series_id, int period, int64_t bucket_ms,
                    const struct ph_rollup_agg *a, double expected) {
  sqlite3_stmt *st = stmt(s, S_ROLLUP);
  sqlite3_bind_int64(st, 1, series_id);
  sqlite3_bind_int(st, 2, period);
  sqlite3_bind_int64(st, 3, bucket_ms);
  sqlite3_bind_int64(st, 4, a->n);
  sqlite3_bind_int64(st, 5, a->n_valid);
  sqlite3_bind_double(st, 6, a->sum);
  sqlite3_bind_double(st, 7, a->sum_valid);
  sqlite3_bind_double(st, 8, a->min);
  sqlite3_bind_double(st, 9, a->max);
  sqlite3_bind_int64(st, 10, a->first_ts);
  sqlite3_bind_double(st, 11, a->first);
  sqlite3_bind_int64(st, 12, a->last_ts);
  sqlite3_bind_double(st, 13, a->last);
  sqlite3_bind_double(st, 14, expected);
  sqlite3_bind_int64(st, 15, a->n_stop);
  sqlite3_bind_int64(st, 16, a->n_trans);
  int rc = done(s, st);
  if (rc || period != PH_STORE_PERIOD_HOUR) return rc;
  st = stmt(s, S_CEMS_DIRTY);
  sqlite3_bind_int64(st, 1, series_id);
  sqlite3_bind_int64(st, 2, bucket_ms);
  if ((rc = done(s, st))) return rc;
  return ph_store_point_first(s, series_id, bucket_ms);
}

int ph_store_point_first(struct ph_store *s, int64_t series_id, int64_t hour_ms) {
  sqlite3_stmt *st = stmt(s, S_POINT_FIRST); /* the point's first hour (migration 9) */
  sqlite3_bind_int64(st, 1, series_id);
  sqlite3_bind_int64(st, 2, hour_ms);
  return done(s, st);
}

int ph_store_stream_save(struct ph_store *s, int64_t agent_id, int64_t epoch, int64_t upto, int64_t now_ms,
                         int64_t batches, int64_t duplicates, int64_t data_ms) {
  sqlite3_stmt *st = stmt(s, S_STREAM_SAVE);
  sqlite3_bind_int64(st, 1, agent_id);
  sqlite3_bind_int64(st, 2, epoch);
  sqlite3_bind_int64(st, 3, upto);
  sqlite3_bind_int64(st, 4, now_ms);
  sqlite3_bind_int64(st, 5, batches);
  sqlite3_bind_int64(st, 6, duplicates);
  sqlite3_bind_int64(st, 7, data_ms);
  return done(s, st);
}

static int three_ints(struct ph_store *s, int which, int64_t a, int64_t b, int64_t c) {
  sqlite3_stmt *st = stmt(s, which);
  sqlite3_bind_int64(st, 1, a);
  sqlite3_bind_int64(st, 2, b);
  sqlite3_bind_int64(st, 3, c);
  return done(s, st);
}

int ph_store_above_add(struct ph_store *s, int64_t agent_id, int64_t epoch, int64_t seq) {
  return three_ints(s, S_ABOVE_ADD, agent_id, epoch, seq);
}
int ph_store_above_trim(struct ph_store *s, int64_t agent_id, int64_t epoch, int64_t upto) {
  return three_ints(s, S_ABOVE_TRIM, agent_id, epoch, upto);
}

static void bind_ms_or_null(sqlite3_stmt *st, int i, int64_t ms) {
  if (ms > 0)
    sqlite3_bind_int64(st, i, ms);
  else
    sqlite3_bind_null(st, i);
}

int ph_store_gap(struct ph_store *s, const struct ph_store_gap_row *g) {
  sqlite3_stmt *st = stmt(s, S_GAP);
  sqlite3_bind_int64(st, 1, g->agent_id);
  sqlite3_bind_int64(st, 2, g->epoch);
  sqlite3_bind_int64(st, 3, g->from_seq);
  sqlite3_bind_int64(st, 4, g->to_seq);
  sqlite3_bind_int64(st, 5, g->detected_ms);
  bind_ms_or_null(st, 6, g->from_ms);
  bind_ms_or_null(st, 7, g->to_ms);
  return done(s, st);
}

int ph_store_event(struct ph_store *s, int64_t agent_id, int64_t ts_ms, const char *event, const char *detail) {
  sqlite3_stmt *st = stmt(s, S_EVENT);
  sqlite3_bind_int64(st, 1, agent_id);
  sqlite3_bind_int64(st, 2, ts_ms);
  sqlite3_bind_text(st, 3, event, -1, SQLITE_STATIC);
  bind_text_or_null(st, 4, detail);
  return done(s, st);
}

int ph_store_status(struct ph_store *s, int64_t agent_id, const char *state, int64_t ts_ms, int64_t outbox_depth,
                    const char *payload, int *changed) {
  sqlite3_stmt *st = stmt(s, S_STATUS_GET);
  sqlite3_bind_int64(st, 1, agent_id);
  int rc = sqlite3_step(st);
  *changed = rc != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(st, 0), state) != 0;
  sqlite3_reset(st);
  st = stmt(s, S_STATUS);
  sqlite3_bind_int64(st, 1, agent_id);
  sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, ts_ms);
  if (outbox_depth >= 0)
    sqlite3_bind_int64(st, 4, outbox_depth);
  else
    sqlite3_bind_null(st, 4);
  bind_text_or_null(st, 5, payload);
  return done(s, st);
}

int ph_store_reject(struct ph_store *s, int64_t ts_ms, const char *park, const char *topic, const char *agent,
                    int64_t epoch, int64_t seq, const char *code, const char *reason) {
  sqlite3_stmt *st = stmt(s, S_REJECT);
  sqlite3_bind_int64(st, 1, ts_ms);
  bind_text_or_null(st, 2, park);
  sqlite3_bind_text(st, 3, topic, -1, SQLITE_STATIC);
  bind_text_or_null(st, 4, agent);
  if (epoch > 0) sqlite3_bind_int64(st, 5, epoch); else sqlite3_bind_null(st, 5);
  if (seq > 0) sqlite3_bind_int64(st, 6, seq); else sqlite3_bind_null(st, 6);
  sqlite3_bind_text(st, 7, code, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 8, reason, -1, SQLITE_STATIC);
  return done(s, st);
}

/* Steps st, calling fn per row (columns agent_id, epoch, seq[, data_ms]). */
static int rows(struct ph_store *s, sqlite3_stmt *st, int above, ph_store_stream_fn fn, void *u, int *nrows) {
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    struct ph_stream_row r = {.agent_id = sqlite3_column_int64(st, 0), .epoch = sqlite3_column_int64(st, 1),
                              .seq = sqlite3_column_int64(st, 2), .above = above,
                              .data_ms = above ? 0 : sqlite3_column_int64(st, 3)};
    fn(u, &r);
    if (nrows) (*nrows)++;
  }
  sqlite3_reset(st);
  (void)s;
  return rc == SQLITE_DONE ? 0 : rc;
}

int64_t ph_store_rejects_count(struct ph_store *s) {
  sqlite3_stmt *st = stmt(s, S_REJECTS_COUNT);
  int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : PH_EDB;
  sqlite3_reset(st);
  return n;
}

/* Runs a DELETE; rows deleted or PH_EDB/PH_EFULL. */
static int64_t deleted(struct ph_store *s, sqlite3_stmt *st) {
  int rc = done(s, st);
  return rc ? rc : sqlite3_changes(s->db);
}

int64_t ph_store_rejects_trim(struct ph_store *s, int64_t n) {
  sqlite3_stmt *st = stmt(s, S_REJECTS_TRIM);
  sqlite3_bind_int64(st, 1, n);
  return deleted(s, st);
}

int64_t ph_store_rejects_expire(struct ph_store *s, int64_t before_ms, int limit) {
  sqlite3_stmt *st = stmt(s, S_REJECTS_EXPIRE);
  sqlite3_bind_int64(st, 1, before_ms);
  sqlite3_bind_int(st, 2, limit);
  return deleted(s, st);
}

int64_t ph_store_rejects_clear(struct ph_store *s) { return deleted(s, stmt(s, S_REJECTS_CLEAR)); }

int ph_store_load_streams(struct ph_store *s, ph_store_stream_fn fn, void *u, struct ph_err *err) {
  if (rows(s, stmt(s, S_STREAMS_LOAD), 0, fn, u, NULL) || rows(s, stmt(s, S_ABOVE_LOAD), 1, fn, u, NULL))
    return fail(s, err, "loading the dedupe state");
  return 0;
}

int ph_store_load_stream(struct ph_store *s, int64_t agent_id, int64_t epoch, ph_store_stream_fn fn, void *u) {
  int found = 0;
  sqlite3_stmt *st = stmt(s, S_STREAM_GET);
  sqlite3_bind_int64(st, 1, agent_id);
  sqlite3_bind_int64(st, 2, epoch);
  if (rows(s, st, 0, fn, u, &found)) return PH_EDB;
  if (!found) return 0;
  st = stmt(s, S_ABOVE_GET);
  sqlite3_bind_int64(st, 1, agent_id);
  sqlite3_bind_int64(st, 2, epoch);
  return rows(s, st, 1, fn, u, NULL) ? PH_EDB : 0;
}

int64_t ph_store_retention(struct ph_store *s, int64_t before_ms, int limit, struct ph_err *err) {
  sqlite3_stmt *st = stmt(s, S_RETENTION);
  sqlite3_bind_int64(st, 1, before_ms);
  sqlite3_bind_int(st, 2, limit);
  int rc = done(s, st);
  if (rc) return fail(s, err, "retention");
  int64_t n = sqlite3_changes(s->db);
  if (n > 0 && (rc = exec(s, "PRAGMA incremental_vacuum(2000)", err))) return rc;
  return n;
}
