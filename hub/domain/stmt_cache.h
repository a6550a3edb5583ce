/* stmt_cache.h — prepared statements kept for the length of one
 * computation (a summary, a report) on one connection and thread.
 *
 * A park-year summary asks the domain modules for 400 (enterprise,
 * pollutant) figures, each a dozen small statements: preparing them anew
 * was half of its time (perf, bench/query). Between ph_stmt_cache_begin and
 * ph_stmt_cache_end, ph_stmt_prepare hands back the statement prepared
 * earlier for the same SQL text (reset, bindings cleared); outside, it
 * prepares and ph_stmt_release finalizes as before.
 *
 * Threads: the cache is the calling thread's own (thread-local), for one
 * connection at a time.
 * Invariants:
 *  1. a cached statement is handed out once at a time (in use: a fresh one
 *     is prepared), so a caller may nest the same SQL.
 *  2. ph_stmt_cache_end finalizes every statement it kept: none outlives
 *     the bracket, so closing the connection afterwards never fails.
 *     ph_stmt_cache_end_keep keeps them (reset, bindings cleared) for the
 *     thread's next bracket on the same connection; a bracket on another
 *     connection finalizes them first, so they are only kept while their
 *     connection is open, and its owner finalizes them
 *     (ph_stmt_finalize_all) before closing it.
 */
#ifndef PARKHUB_STMT_CACHE_H
#define PARKHUB_STMT_CACHE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void ph_stmt_cache_begin(sqlite3 *db);
void ph_stmt_cache_end(sqlite3 *db);
/* The same end, the statements kept for the next bracket on db (inv. 2):
 * for a connection that lives as long as the thread (the API's read
 * connections). Preparing a park-month's statements anew took 9 % of its
 * instructions (issue #19, callgrind). */
void ph_stmt_cache_end_keep(sqlite3 *db);
/* Finalizes every statement of db, kept ones included, before it is
 * closed: on the thread that kept them, or once that thread has ended. */
void ph_stmt_finalize_all(sqlite3 *db);

/* sqlite3_prepare_v2's code; *out NULL on failure. */
int ph_stmt_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out);
/* Back into the cache (reset) or finalized; NULL is a no-op. */
void ph_stmt_release(sqlite3_stmt *s);

/* A point's first data hour, remembered inside the bracket (the read
 * transaction does not change it; monitoring.c asks once per figure).
 * get: 1 and *v when known (*v -1: no data), else 0. */
int ph_stmt_memo_get(int64_t point_id, int64_t *v);
void ph_stmt_memo_put(int64_t point_id, int64_t v);

/* true inside a bracket: the memos below remember. */
bool ph_stmt_memo_on(void);

/* A point's operating-state hours (monitoring.c): the first and last
 * stopped hour (op[0], op[1]) and startup/shutdown hour (op[2], op[3]) of
 * the point or its enterprise, -1 for none; a range outside them holds
 * none, so their statements need not run. get: 1 when known. */
int ph_stmt_memo_op_get(int64_t point_id, int64_t op[4]);
void ph_stmt_memo_op_put(int64_t point_id, const int64_t op[4]);

/* A count of local hours or days over [a, b) in zone tz (what: 0 hours,
 * 1 days), remembered inside the bracket: every pair of a park's summary
 * asks the same few ranges. get: 1 and *v when known. */
int ph_stmt_count_get(int what, const void *tz, int64_t a, int64_t b, int64_t *v);
void ph_stmt_count_put(int what, const void *tz, int64_t a, int64_t b, int64_t v);

/* A point's stopped hours over [lo, hi) judged against series_id
 * (monitoring.c, MON_SQL_STOPPED), remembered inside the bracket for the
 * one key asked last: a summary asks them for the mass and then for the
 * compliance of the same pollutant and range (issue #19: once per point).
 * get: 1 with *hours (borrowed until the next put or the bracket's end),
 * *n. put: copies; a failure to copy remembers nothing. */
int ph_stmt_memo_stop_get(int64_t point_id, int64_t series_id, int64_t lo, int64_t hi, const int64_t **hours,
                          size_t *n);
void ph_stmt_memo_stop_put(int64_t point_id, int64_t series_id, int64_t lo, int64_t hi, const int64_t *hours,
                           size_t n);

/* false: no caching at all, every statement prepared and finalized as
 * before (bench/query's baseline); set before any reader starts. */
void ph_stmt_cache_use(bool on);

#endif
