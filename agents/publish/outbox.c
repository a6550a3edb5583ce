/* outbox.c — the agent's durable outbox in SQLite (outbox.h).
 *
 * Callers: the agent core's batcher (begin/append/set_position/commit), the
 * publisher loop (next, ack), the cap policy (drop_oldest).
 * Threads: the agent's main loop only.
 * Owns: the SQLite connection and its prepared statements, and an in-memory
 * copy of epoch, next_seq, depth, oldest and bytes kept equal to the file's
 * (inv. 4: the copy changes only after the transaction that changes the
 * file committed).
 *
 * Why synchronous=FULL: a batch may be published as soon as it commits; if a
 * power cut could roll the commit back, the same seq would be reused for
 * different records after the restart (outbox.h inv. 1).
 */
#include "publish/outbox.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <string.h>

#include "outbox_sql.h"
#include "parkhub/alloc.h"
#include "parkhub/timefmt.h"

enum { S_GET_META, S_SET_META, S_STATS, S_INSERT, S_SET_POS, S_GET_POS, S_NEXT, S_ACK_STATS, S_ACK, S_NTH, S_COUNT };

static const char *const stmt_sql[S_COUNT] = {
    OUTBOX_SQL_GET_META, OUTBOX_SQL_SET_META, OUTBOX_SQL_STATS, OUTBOX_SQL_INSERT,    OUTBOX_SQL_SET_POS,
    OUTBOX_SQL_GET_POS,  OUTBOX_SQL_NEXT,     OUTBOX_SQL_ACK_STATS, OUTBOX_SQL_ACK, OUTBOX_SQL_NTH_SEQ,
};

struct counters {
  int64_t next_seq, depth, oldest, bytes, last_acked;
};

struct ph_outbox {
  sqlite3 *db;
  sqlite3_stmt *st[S_COUNT];
  int64_t epoch;
  struct counters c;   /* committed state */
  struct counters txn; /* state inside an open transaction */
  int in_txn;
};

static int db_fail(struct ph_outbox *ob, struct ph_err *err, const char *what) {
  int ext = sqlite3_errcode(ob->db);
  int code = ext == SQLITE_FULL ? PH_EFULL : PH_EDB;
  return ph_fail(err, code, "outbox: %s: %s", what, sqlite3_errmsg(ob->db));
}

static sqlite3_stmt *stmt(struct ph_outbox *ob, int which) {
  sqlite3_stmt *s = ob->st[which];
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return s;
}

static int exec(struct ph_outbox *ob, const char *sql, struct ph_err *err) {
  char *msg = NULL;
  if (sqlite3_exec(ob->db, sql, NULL, NULL, &msg) == SQLITE_OK) return 0;
  int code = sqlite3_errcode(ob->db) == SQLITE_FULL ? PH_EFULL : PH_EDB;
  ph_fail(err, code, "outbox: %s: %s", sql, msg ? msg : "?");
  sqlite3_free(msg);
  return code;
}

static int get_meta(struct ph_outbox *ob, const char *key, int64_t *v) {
  sqlite3_stmt *s = stmt(ob, S_GET_META);
  sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) *v = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? PH_ENOTFOUND : PH_EDB;
}

static int set_meta(struct ph_outbox *ob, const char *key, int64_t v, struct ph_err *err) {
  sqlite3_stmt *s = stmt(ob, S_SET_META);
  sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, v);
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : db_fail(ob, err, "writing meta");
}

static int load_stats(struct ph_outbox *ob, struct ph_err *err) {
  sqlite3_stmt *s = stmt(ob, S_STATS);
  if (sqlite3_step(s) != SQLITE_ROW) return db_fail(ob, err, "reading the batch count");
  ob->c.depth = sqlite3_column_int64(s, 0);
  ob->c.oldest = ob->c.depth ? sqlite3_column_int64(s, 1) : ob->c.next_seq;
  ob->c.bytes = sqlite3_column_int64(s, 2);
  sqlite3_reset(s);
  return 0;
}

/* A new file gets its epoch (ms since 1970: two installs never share one)
 * and seq 1; an existing one keeps both. */
static int init_meta(struct ph_outbox *ob, struct ph_err *err) {
  int rc;
  int64_t version;
  if ((rc = exec(ob, "BEGIN IMMEDIATE", err))) return rc;
  if (get_meta(ob, "schema_version", &version) == PH_ENOTFOUND) {
    if ((rc = set_meta(ob, "schema_version", OUTBOX_SCHEMA_VERSION, err)) ||
        (rc = set_meta(ob, "epoch", ph_now_ms(), err)) || (rc = set_meta(ob, "next_seq", 1, err)) ||
        (rc = set_meta(ob, "last_acked", 0, err)))
      goto fail;
  } else if (version != OUTBOX_SCHEMA_VERSION) {
    rc = ph_fail(err, PH_EDB, "outbox: schema version %lld, this agent knows %d", (long long)version,
                 OUTBOX_SCHEMA_VERSION);
    goto fail;
  }
  if (get_meta(ob, "epoch", &ob->epoch) || get_meta(ob, "next_seq", &ob->c.next_seq) ||
      get_meta(ob, "last_acked", &ob->c.last_acked)) {
    rc = ph_fail(err, PH_EDB, "outbox: meta table is incomplete");
    goto fail;
  }
  if ((rc = exec(ob, "COMMIT", err))) goto fail;
  return load_stats(ob, err);
fail:
  exec(ob, "ROLLBACK", NULL);
  return rc;
}

/* Gateway memory (issue #3): by default each connection threads a free
 * list through a 120 kB lookaside buffer and a 20-page bulk page-cache
 * allocation (~87 kB) when it opens, so both are resident from the start
 * whether used or not. The outbox runs a handful of short statements on a
 * 256 kB cache: a small lookaside and pages allocated as needed do as well.
 * Process-wide and only possible before SQLite initialises, so the first
 * outbox sets it; later calls are refused by SQLite and change nothing. */
#define LOOKASIDE_SLOT 128
#define LOOKASIDE_SLOTS 32

static void small_sqlite(void) {
  static bool tried;
  if (tried) return;
  tried = true;
  sqlite3_config(SQLITE_CONFIG_LOOKASIDE, LOOKASIDE_SLOT, LOOKASIDE_SLOTS);
  sqlite3_config(SQLITE_CONFIG_PAGECACHE, (void *)NULL, 0, 0); /* no initial bulk allocation */
}

int ph_outbox_open(const char *path, struct ph_outbox **out, struct ph_err *err) {
  small_sqlite();
  struct ph_outbox *ob = ph_calloc(1, sizeof *ob);
  if (!ob) return ph_fail(err, PH_ENOMEM, "outbox: out of memory");
  int rc;
  if (sqlite3_open_v2(path, &ob->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
      SQLITE_OK) {
    rc = ph_fail(err, PH_EDB, "outbox: cannot open %s: %s", path, ob->db ? sqlite3_errmsg(ob->db) : "out of memory");
    goto fail;
  }
  sqlite3_busy_timeout(ob->db, 5000);
  /* A small page cache keeps the gateway's RSS low; the outbox is read mostly at its head. */
  if ((rc = exec(ob, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-256;", err)) ||
      (rc = exec(ob, OUTBOX_SQL_SCHEMA, err)))
    goto fail;
  for (int i = 0; i < S_COUNT; i++)
    if (sqlite3_prepare_v3(ob->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &ob->st[i], NULL) != SQLITE_OK) {
      rc = db_fail(ob, err, stmt_sql[i]);
      goto fail;
    }
  if ((rc = init_meta(ob, err))) goto fail;
  *out = ob;
  return 0;
fail:
  ph_outbox_close(ob);
  return rc;
}

void ph_outbox_close(struct ph_outbox *ob) {
  if (!ob) return;
  for (int i = 0; i < S_COUNT; i++) sqlite3_finalize(ob->st[i]);
  sqlite3_close(ob->db);
  ph_free(ob);
}

int64_t ph_outbox_epoch(const struct ph_outbox *ob) { return ob->epoch; }
int64_t ph_outbox_next_seq(const struct ph_outbox *ob) { return ob->c.next_seq; }
int64_t ph_outbox_depth(const struct ph_outbox *ob) { return ob->c.depth; }
int64_t ph_outbox_oldest(const struct ph_outbox *ob) { return ob->c.oldest; }
int64_t ph_outbox_last_acked(const struct ph_outbox *ob) { return ob->c.last_acked; }
int64_t ph_outbox_bytes(const struct ph_outbox *ob) { return ob->c.bytes; }

int ph_outbox_begin(struct ph_outbox *ob, struct ph_err *err) {
  if (ob->in_txn) return ph_fail(err, PH_EINVAL, "outbox: transaction already open");
  sqlite3_reset(ob->st[S_NEXT]); /* ends the read ph_outbox_next left open */
  int rc = exec(ob, "BEGIN IMMEDIATE", err);
  if (rc) return rc;
  ob->in_txn = 1;
  ob->txn = ob->c;
  return 0;
}

int ph_outbox_append(struct ph_outbox *ob, enum ph_kind kind, const char *body, size_t len, int nrecords,
                     int64_t created_ms, int64_t *seq_out, struct ph_err *err) {
  if (!ob->in_txn) return ph_fail(err, PH_EINVAL, "outbox: append outside a transaction");
  sqlite3_stmt *s = stmt(ob, S_INSERT);
  int64_t seq = ob->txn.next_seq;
  sqlite3_bind_int64(s, 1, seq);
  sqlite3_bind_int(s, 2, (int)kind);
  sqlite3_bind_int64(s, 3, created_ms);
  sqlite3_bind_int(s, 4, nrecords);
  sqlite3_bind_text(s, 5, body, (int)len, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) return db_fail(ob, err, "storing a batch");
  if ((rc = set_meta(ob, "next_seq", seq + 1, err))) return rc; /* inv. 1 */
  if (ob->txn.depth == 0) ob->txn.oldest = seq;
  ob->txn.next_seq = seq + 1;
  ob->txn.depth++;
  ob->txn.bytes += (int64_t)len;
  *seq_out = seq;
  return 0;
}

int ph_outbox_set_position(struct ph_outbox *ob, const char *source, const struct ph_source_pos *pos,
                           struct ph_err *err) {
  sqlite3_stmt *s = stmt(ob, S_SET_POS);
  sqlite3_bind_text(s, 1, source, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, pos->a);
  sqlite3_bind_int64(s, 3, pos->b);
  sqlite3_bind_int64(s, 4, pos->c);
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : db_fail(ob, err, "storing a source position");
}

int ph_outbox_commit(struct ph_outbox *ob, struct ph_err *err) {
  if (!ob->in_txn) return ph_fail(err, PH_EINVAL, "outbox: commit without a transaction");
  int rc = exec(ob, "COMMIT", err);
  if (rc) {
    ph_outbox_rollback(ob);
    return rc;
  }
  ob->in_txn = 0;
  ob->c = ob->txn; /* inv. 4 */
  return 0;
}

void ph_outbox_rollback(struct ph_outbox *ob) {
  if (!ob->in_txn) return;
  exec(ob, "ROLLBACK", NULL);
  ob->in_txn = 0;
}

int ph_outbox_get_position(struct ph_outbox *ob, const char *source, struct ph_source_pos *pos, struct ph_err *err) {
  sqlite3_stmt *s = stmt(ob, S_GET_POS);
  sqlite3_bind_text(s, 1, source, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  memset(pos, 0, sizeof *pos);
  if (rc == SQLITE_ROW) {
    pos->a = sqlite3_column_int64(s, 0);
    pos->b = sqlite3_column_int64(s, 1);
    pos->c = sqlite3_column_int64(s, 2);
    pos->valid = 1;
  }
  sqlite3_reset(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(ob, err, "reading a source position");
}

int ph_outbox_next(struct ph_outbox *ob, int64_t from, struct ph_outbox_item *item, struct ph_err *err) {
  sqlite3_stmt *s = stmt(ob, S_NEXT);
  sqlite3_bind_int64(s, 1, from);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return PH_ENOTFOUND;
  if (rc != SQLITE_ROW) return db_fail(ob, err, "reading a batch");
  item->seq = sqlite3_column_int64(s, 0);
  item->kind = (enum ph_kind)sqlite3_column_int(s, 1);
  item->created_ms = sqlite3_column_int64(s, 2);
  item->nrecords = sqlite3_column_int(s, 3);
  item->body = (const char *)sqlite3_column_text(s, 4);
  item->len = (size_t)sqlite3_column_bytes(s, 4);
  /* Left un-reset on purpose: body stays valid until the next call. */
  return 0;
}

/* Deletes seq <= upto in one transaction; counts what went. */
static int delete_upto(struct ph_outbox *ob, int64_t upto, bool acked, int64_t *removed, struct ph_err *err) {
  int rc;
  if ((rc = ph_outbox_begin(ob, err))) return rc;
  sqlite3_stmt *s = stmt(ob, S_ACK_STATS);
  sqlite3_bind_int64(s, 1, upto);
  if (sqlite3_step(s) != SQLITE_ROW) {
    rc = db_fail(ob, err, "counting acked batches");
    goto fail;
  }
  int64_t n = sqlite3_column_int64(s, 0), bytes = sqlite3_column_int64(s, 1);
  sqlite3_reset(s);
  s = stmt(ob, S_ACK);
  sqlite3_bind_int64(s, 1, upto);
  if (sqlite3_step(s) != SQLITE_DONE) {
    rc = db_fail(ob, err, "deleting acked batches");
    goto fail;
  }
  sqlite3_reset(s);
  if (acked && (rc = set_meta(ob, "last_acked", upto, err))) goto fail;
  if ((rc = ph_outbox_commit(ob, err))) return rc;
  ob->c.depth -= n;
  ob->c.bytes -= bytes;
  if (acked) ob->c.last_acked = upto;
  if (n) ob->c.oldest = ob->c.depth ? upto + 1 : ob->c.next_seq;
  if (ob->c.depth) {
    struct ph_outbox_item it;
    if (ph_outbox_next(ob, upto + 1, &it, NULL) == 0) ob->c.oldest = it.seq;
    sqlite3_reset(ob->st[S_NEXT]);
  }
  if (removed) *removed = n;
  return 0;
fail:
  sqlite3_reset(s);
  ph_outbox_rollback(ob);
  return rc;
}

int ph_outbox_ack(struct ph_outbox *ob, int64_t upto, int64_t *removed, struct ph_err *err) {
  if (removed) *removed = 0;
  if (upto <= ob->c.last_acked) return 0;
  if (upto >= ob->c.next_seq) upto = ob->c.next_seq - 1; /* never ack what was not made */
  return delete_upto(ob, upto, true, removed, err);
}

int ph_outbox_drop_oldest(struct ph_outbox *ob, int64_t n, int64_t *dropped, struct ph_err *err) {
  if (dropped) *dropped = 0;
  if (n <= 0 || ob->c.depth == 0) return 0;
  sqlite3_stmt *s = stmt(ob, S_NTH);
  sqlite3_bind_int64(s, 1, (n > ob->c.depth ? ob->c.depth : n) - 1);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(s);
    return db_fail(ob, err, "finding the oldest batches");
  }
  int64_t upto = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return delete_upto(ob, upto, false, dropped, err);
}
