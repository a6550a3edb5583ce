/* api_worker.c — the HTTP API's read connections: each libmicrohttpd pool
 * thread lazily opens its own read-only SQLite connection (a pthread key
 * owns it: closed when the thread ends) and prepares the statements of
 * api_sql.h on it once; a request borrows it through api_stmt / api_db.
 *
 * Callers: api.c (get, done, the key's destructor, closing at stop), the
 * handlers through api_req.h. Threads: the pool thread that owns the
 * worker; the list of workers is under ph_api.mu.
 *
 * Invariants:
 *  1. connections are SQLITE_OPEN_READONLY (api.c inv. 1).
 *  2. a request ends with every statement reset and its read transaction
 *     committed (api_worker_done), so the next request starts clean.
 *  3. SQL is the constants of api_sql.h, prepared once and reused.
 *  4. on a regional hub a connection reads the forwarded alarms and agent
 *     presence under the park hub's table names (API_SQL_REGIONAL_VIEWS,
 *     made before any statement is prepared), or it is not handed out.
 */
#include <stdio.h>
#include <string.h>

#include "api_server.h"
#include "domain/stmt_cache.h"
#include "parkhub/alloc.h"

#define MOD "api"
#define API_MMAP_SIZE "1099511627776" /* asked: 1 TiB, i.e. the whole file; SQLite caps it at its build limit (Debian: 2 GiB). Address space, not memory */

static const char *const sql_text[API_ST_COUNT] = {
    [API_ST_BEGIN] = API_SQL_BEGIN,
    [API_ST_COMMIT] = API_SQL_COMMIT,
    [API_ST_HAS_ALARMS] = API_SQL_HAS_ALARMS,
    [API_ST_HEALTH] = API_SQL_HEALTH,
    [API_ST_AGENTS] = API_SQL_AGENTS,
    [API_ST_POINTS] = API_SQL_POINTS,
    [API_ST_SERIES_ID] = API_SQL_SERIES_ID,
    [API_ST_ROLLUPS] = API_SQL_ROLLUPS,
    [API_ST_CHUNKS] = API_SQL_CHUNKS,
    [API_ST_ENT_METRICS] = API_SQL_ENT_METRICS,
    [API_ST_METRIC_CODES] = API_SQL_METRIC_CODES,
    [API_ST_MAT_POINTS] = API_SQL_MAT_POINTS,
    [API_ST_MATERIALS] = API_SQL_MATERIALS,
    [API_ST_ALARM_COUNTS] = API_SQL_ALARM_COUNTS,
    [API_ST_ALARMS] = API_SQL_ALARMS,
    [API_ST_ALARM_GET] = API_SQL_ALARM_GET,
    [API_ST_OPEN_ALARMS] = API_SQL_OPEN_ALARMS,
    [API_ST_ONLINE] = API_SQL_ONLINE,
};

void api_worker_close(struct api_worker *w) {
  for (int i = 0; i < API_ST_COUNT; i++) sqlite3_finalize(w->st[i]);
  if (w->db) ph_stmt_finalize_all(w->db); /* the summaries' kept statements (stmt_cache.h inv. 2) */
  sqlite3_close(w->db);
  ph_free(w);
}

static void worker_unlink(struct ph_api *a, struct api_worker *w) {
  pthread_mutex_lock(&a->mu);
  if (w->prev)
    w->prev->next = w->next;
  else
    a->workers = w->next;
  if (w->next) w->next->prev = w->prev;
  pthread_mutex_unlock(&a->mu);
}

/* pthread key destructor: the pool thread ends. */
void api_worker_destroy(void *p) {
  struct api_worker *w = p;
  worker_unlink(w->api, w);
  api_worker_close(w);
}

struct api_worker *api_worker_get(struct ph_api *a, char *why, size_t cap) {
  struct api_worker *w = pthread_getspecific(a->key);
  if (w) return w;
  w = ph_calloc(1, sizeof *w);
  if (!w) {
    snprintf(why, cap, "out of memory");
    return NULL;
  }
  w->api = a;
  int rc = sqlite3_open_v2(a->env.db_path, &w->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    snprintf(why, cap, "database %s: %s", a->env.db_path, w->db ? sqlite3_errmsg(w->db) : sqlite3_errstr(rc));
    atomic_fetch_add(&a->db_failures, 1);
    api_worker_close(w);
    return NULL;
  }
  sqlite3_busy_timeout(w->db, 2000);
  sqlite3_extended_result_codes(w->db, 1);
  /* Reads through a shared mapping of the database file, not a pread and a
   * copy per page: a park-year summary touches thousands of pages (one
   * first-data look-up per series, the blocks), ~24 % of its time in pread
   * with SQLite's default page cache (bench/query). Best effort: without it
   * (a build limited to 0, an error), reads are as before. */
  sqlite3_exec(w->db, "PRAGMA mmap_size=" API_MMAP_SIZE, NULL, NULL, NULL);
  if (a->env.refs->cfg->role == PH_HUB_ROLE_REGIONAL &&
      sqlite3_exec(w->db, API_SQL_REGIONAL_VIEWS, NULL, NULL, NULL) != SQLITE_OK) {
    snprintf(why, cap, "database %s: the forwarded alarms and presence: %s", a->env.db_path, sqlite3_errmsg(w->db));
    atomic_fetch_add(&a->db_failures, 1);
    api_worker_close(w);
    return NULL;
  }
  atomic_fetch_add(&a->db_opens, 1);
  pthread_mutex_lock(&a->mu);
  w->next = a->workers;
  if (w->next) w->next->prev = w;
  a->workers = w;
  pthread_mutex_unlock(&a->mu);
  pthread_setspecific(a->key, w);
  return w;
}

sqlite3 *api_db(struct api_req *r) { return r->w->db; }

sqlite3_stmt *api_stmt(struct api_req *r, enum api_stmt_id id) {
  struct api_worker *w = r->w;
  if (!w->st[id]) {
    if (sqlite3_prepare_v3(w->db, sql_text[id], -1, SQLITE_PREPARE_PERSISTENT, &w->st[id], NULL) != SQLITE_OK) {
      sqlite3_finalize(w->st[id]);
      w->st[id] = NULL;
      return NULL;
    }
    return w->st[id];
  }
  sqlite3_reset(w->st[id]);
  sqlite3_clear_bindings(w->st[id]);
  return w->st[id];
}

int api_db_fail(struct api_req *r, const char *what) {
  PH_WARN(MOD, "%s: %s", what, sqlite3_errmsg(r->w->db));
  return api_fail(r, 500, NULL, "database error while %s", what);
}

bool api_regional(const struct api_req *r) { return r->env->refs->cfg->role == PH_HUB_ROLE_REGIONAL; }

int api_fail_park_hub_owns(struct api_req *r, const char *what) {
  return api_fail(r, 409, NULL, "this is a regional hub: the alarms and stack tests of park %s are kept by the park's "
                                "own hub (this copy follows it); %s there",
                  r->park ? r->park->id : "?", what);
}

bool api_has_alarms(struct api_req *r) {
  sqlite3_stmt *s = api_stmt(r, API_ST_HAS_ALARMS);
  bool yes = s && sqlite3_step(s) == SQLITE_ROW;
  if (s) sqlite3_reset(s);
  return yes;
}

/* Ends the request's use of the connection: statements reset, read
 * transaction closed. */
void api_worker_done(struct api_worker *w) {
  for (int i = 0; i < API_ST_COUNT; i++)
    if (w->st[i]) sqlite3_reset(w->st[i]);
  if (!sqlite3_get_autocommit(w->db)) {
    sqlite3_stmt *c = w->st[API_ST_COMMIT];
    if (!c && sqlite3_prepare_v3(w->db, API_SQL_COMMIT, -1, SQLITE_PREPARE_PERSISTENT, &w->st[API_ST_COMMIT],
                                 NULL) == SQLITE_OK)
      c = w->st[API_ST_COMMIT];
    if (c) {
      sqlite3_step(c);
      sqlite3_reset(c);
    }
  }
}

