/* outbox_sql.h — the outbox's SQL, kept together (see outbox.c). */
#ifndef PH_OUTBOX_SQL_H
#define PH_OUTBOX_SQL_H

#define OUTBOX_SCHEMA_VERSION 1

#define OUTBOX_SQL_SCHEMA                                                                          \
  "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"                 \
  "CREATE TABLE IF NOT EXISTS batches(seq INTEGER PRIMARY KEY, kind INTEGER NOT NULL,"             \
  " created_ms INTEGER NOT NULL, nrecords INTEGER NOT NULL, body TEXT NOT NULL);"                   \
  "CREATE TABLE IF NOT EXISTS positions(source TEXT PRIMARY KEY, a INTEGER NOT NULL,"              \
  " b INTEGER NOT NULL, c INTEGER NOT NULL);"

#define OUTBOX_SQL_GET_META "SELECT value FROM meta WHERE key = ?1"
#define OUTBOX_SQL_SET_META "INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2"
#define OUTBOX_SQL_STATS "SELECT count(*), coalesce(min(seq), 0), coalesce(sum(length(body)), 0) FROM batches"
#define OUTBOX_SQL_INSERT "INSERT INTO batches(seq, kind, created_ms, nrecords, body) VALUES(?1, ?2, ?3, ?4, ?5)"
#define OUTBOX_SQL_SET_POS                                                                         \
  "INSERT INTO positions(source, a, b, c) VALUES(?1, ?2, ?3, ?4)"                                 \
  " ON CONFLICT(source) DO UPDATE SET a = ?2, b = ?3, c = ?4"
#define OUTBOX_SQL_GET_POS "SELECT a, b, c FROM positions WHERE source = ?1"
#define OUTBOX_SQL_NEXT "SELECT seq, kind, created_ms, nrecords, body FROM batches WHERE seq >= ?1 ORDER BY seq LIMIT 1"
#define OUTBOX_SQL_ACK_STATS "SELECT count(*), coalesce(sum(length(body)), 0) FROM batches WHERE seq <= ?1"
#define OUTBOX_SQL_ACK "DELETE FROM batches WHERE seq <= ?1"
#define OUTBOX_SQL_NTH_SEQ "SELECT seq FROM batches ORDER BY seq LIMIT 1 OFFSET ?1"

#endif
