/* The statement cache (domain/stmt_cache.h): a statement is prepared once
 * per bracket; ph_stmt_cache_end finalizes them, ph_stmt_cache_end_keep
 * keeps them for the next bracket on the same connection (a summary's
 * statements, issue #19), a bracket on another connection finalizes the
 * kept ones, and ph_stmt_finalize_all leaves a connection that closes. */
#include <criterion/criterion.h>
#include <sqlite3.h>

#include "domain/stmt_cache.h"

static const char *const Q = "SELECT ?1 + 1"; /* compared by address, as the SQL macros are */

static sqlite3 *open_mem(void) {
  sqlite3 *db;
  cr_assert_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
  return db;
}

/* Prepares Q, steps it with v, checks v + 1, releases it: the statement. */
static sqlite3_stmt *use(sqlite3 *db, int v) {
  sqlite3_stmt *s;
  cr_assert_eq(ph_stmt_prepare(db, Q, &s), SQLITE_OK);
  sqlite3_bind_int(s, 1, v);
  cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
  cr_assert_eq(sqlite3_column_int(s, 0), v + 1);
  ph_stmt_release(s);
  return s;
}

static int open_stmts(sqlite3 *db) {
  int n = 0;
  for (sqlite3_stmt *s = sqlite3_next_stmt(db, NULL); s; s = sqlite3_next_stmt(db, s)) n++;
  return n;
}

Test(stmt_cache, end_finalizes_and_end_keep_keeps_for_the_same_connection) {
  sqlite3 *a = open_mem();
  ph_stmt_cache_begin(a);
  sqlite3_stmt *first = use(a, 1);
  cr_assert_eq(use(a, 2), first, "prepared once inside a bracket");
  ph_stmt_cache_end(a);
  cr_assert_eq(open_stmts(a), 0, "end finalizes");

  ph_stmt_cache_begin(a);
  first = use(a, 3);
  ph_stmt_cache_end_keep(a);
  cr_assert_eq(open_stmts(a), 1, "end_keep keeps it");
  cr_assert_eq(sqlite3_stmt_busy(first), 0, "reset");
  ph_stmt_cache_begin(a);
  cr_assert_eq(use(a, 4), first, "the next bracket on the connection reuses it");
  ph_stmt_cache_end_keep(a);

  /* a bracket on another connection finalizes the kept ones first */
  sqlite3 *b = open_mem();
  ph_stmt_cache_begin(b);
  (void)use(b, 5);
  cr_assert_eq(open_stmts(a), 0, "another connection's bracket finalized a's");
  ph_stmt_cache_end_keep(b);
  cr_assert_eq(sqlite3_close(a), SQLITE_OK);

  /* the owner finalizes the kept statements before closing */
  cr_assert_eq(open_stmts(b), 1);
  ph_stmt_finalize_all(b);
  cr_assert_eq(open_stmts(b), 0);
  cr_assert_eq(sqlite3_close(b), SQLITE_OK);

  /* and the thread's cache no longer points at it: a new bracket prepares anew */
  sqlite3 *c = open_mem();
  ph_stmt_cache_begin(c);
  (void)use(c, 6);
  ph_stmt_cache_end(c);
  cr_assert_eq(open_stmts(c), 0);
  cr_assert_eq(sqlite3_close(c), SQLITE_OK);
}

Test(stmt_cache, a_statement_in_use_is_not_handed_out_twice) {
  sqlite3 *a = open_mem();
  ph_stmt_cache_begin(a);
  sqlite3_stmt *s1, *s2;
  cr_assert_eq(ph_stmt_prepare(a, Q, &s1), SQLITE_OK);
  cr_assert_eq(ph_stmt_prepare(a, Q, &s2), SQLITE_OK);
  cr_assert_neq(s1, s2, "nested use of the same SQL gets its own statement");
  ph_stmt_release(s2); /* both kept, in two slots */
  ph_stmt_release(s1);
  ph_stmt_cache_end_keep(a);
  cr_assert_eq(open_stmts(a), 2);
  ph_stmt_finalize_all(a);
  cr_assert_eq(sqlite3_close(a), SQLITE_OK);
}
