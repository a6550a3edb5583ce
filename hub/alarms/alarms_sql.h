/* alarms_sql.h — the alarm tables and statements (alarms.c).
 *
 * alarms: one row per alarm (an episode from raise to close; a cleared
 * alarm that is raised again before anyone acknowledged it stays the same
 * row). point and metric are '' when there is none, so the unique index
 * can cover enterprise-level alarms (NULLs are all distinct in an index).
 * alarms_open: at most one alarm that is not closed per (park, rule, ent,
 * point) — the database, not the code, guarantees it.
 * alarm_occurrences: one row per time the condition started holding (a
 * raise or raise again) until it cleared (end_ms): what a regulator counts.
 * alarm_log: every transition, with who acknowledged and their note.
 * Times are UTC milliseconds. CREATE … IF NOT EXISTS: safe to run at every
 * start, or as a migration of store.c. */
#ifndef PH_ALARMS_SQL_H
#define PH_ALARMS_SQL_H

#define ALARMS_SQL_SCHEMA                                                                                   \
  "CREATE TABLE IF NOT EXISTS alarms(id INTEGER PRIMARY KEY, alarm_id TEXT NOT NULL UNIQUE,"               \
  " park TEXT NOT NULL, rule TEXT NOT NULL, ent TEXT NOT NULL, point TEXT NOT NULL DEFAULT '',"            \
  " metric TEXT NOT NULL DEFAULT '',"                                                                      \
  " severity TEXT NOT NULL CHECK(severity IN ('critical','major','minor','warning')),"                     \
  " state TEXT NOT NULL CHECK(state IN ('active_unacked','active_acked','cleared_unacked','closed')),"     \
  " message TEXT NOT NULL, first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL,"                          \
  " count INTEGER NOT NULL CHECK(count >= 1), value REAL, peak REAL, acked_by TEXT, acked_ms INTEGER,"      \
  " note TEXT, raised_ms INTEGER NOT NULL, cleared_ms INTEGER, closed_ms INTEGER,"                         \
  " CHECK(state <> 'active_acked' OR (acked_by IS NOT NULL AND acked_ms IS NOT NULL)));"                   \
  "CREATE UNIQUE INDEX IF NOT EXISTS alarms_open ON alarms(park, rule, ent, point) WHERE state <> 'closed';" \
  "CREATE INDEX IF NOT EXISTS alarms_first ON alarms(park, first_ms);"                                     \
  /* the listing across parks, newest raised first (api/api_parks_sql.h) */                                \
  "CREATE INDEX IF NOT EXISTS alarms_raised ON alarms(raised_ms, id);"                                     \
  "CREATE TABLE IF NOT EXISTS alarm_occurrences(id INTEGER PRIMARY KEY,"                                   \
  " alarm INTEGER NOT NULL REFERENCES alarms(id), park TEXT NOT NULL, rule TEXT NOT NULL, ent TEXT NOT NULL," \
  " point TEXT NOT NULL, metric TEXT NOT NULL, severity TEXT NOT NULL, start_ms INTEGER NOT NULL,"          \
  " last_ms INTEGER NOT NULL, end_ms INTEGER, count INTEGER NOT NULL, value REAL, peak REAL);"              \
  "CREATE INDEX IF NOT EXISTS alarm_occurrences_start ON alarm_occurrences(park, ent, start_ms);"          \
  "CREATE INDEX IF NOT EXISTS alarm_occurrences_alarm ON alarm_occurrences(alarm);"                        \
  "CREATE TABLE IF NOT EXISTS alarm_log(id INTEGER PRIMARY KEY, alarm INTEGER NOT NULL REFERENCES alarms(id)," \
  " ts_ms INTEGER NOT NULL, transition TEXT NOT NULL, state TEXT NOT NULL, by TEXT, note TEXT);"           \
  "CREATE INDEX IF NOT EXISTS alarm_log_alarm ON alarm_log(alarm);"                                      \
  ALARMS_SQL_STACK_TESTS

/* Stack tests entered by an admin over the API (issue #18): the local date
 * of a PCDD/F test done before (or besides) the data; the overdue rule and
 * the monitoring plan take the latest of these, the config's
 * last_stack_test and the data. Kept, never updated: who entered what. */
#define ALARMS_SQL_STACK_TESTS                                                                              \
  "CREATE TABLE IF NOT EXISTS stack_tests(id INTEGER PRIMARY KEY, park TEXT NOT NULL, ent TEXT NOT NULL,"    \
  " day INTEGER NOT NULL, date TEXT NOT NULL, by TEXT NOT NULL, entered_ms INTEGER NOT NULL);"             \
  "CREATE INDEX IF NOT EXISTS stack_tests_ent ON stack_tests(park, ent, day);"
#define ALARMS_SQL_STACK_TEST_INSERT "INSERT INTO stack_tests(park, ent, day, date, by, entered_ms) VALUES(?,?,?,?,?,?)"

/* The Chinese message (issue #18), a column added to databases made before
 * it: ph_alarms_migrate adds it when ALARMS_SQL_HAS_ZH does not prepare. */
#define ALARMS_SQL_HAS_ZH "SELECT message_zh FROM alarms LIMIT 0"
#define ALARMS_SQL_ADD_ZH "ALTER TABLE alarms ADD COLUMN message_zh TEXT NOT NULL DEFAULT ''"

#define ALARMS_SQL_COLUMNS                                                                                  \
  "id, alarm_id, park, rule, ent, point, metric, severity, state, message, first_ms, last_ms, count, value," \
  " peak, acked_by, acked_ms, note, message_zh"
#define ALARMS_SQL_LOAD_OPEN "SELECT " ALARMS_SQL_COLUMNS " FROM alarms WHERE state <> 'closed' ORDER BY id"
#define ALARMS_SQL_GET_OPEN                                                                                 \
  "SELECT " ALARMS_SQL_COLUMNS " FROM alarms WHERE park = ?1 AND rule = ?2 AND ent = ?3 AND point = ?4"    \
  " AND state <> 'closed'"
#define ALARMS_SQL_OPEN_OCC                                                                                 \
  "SELECT id, count, peak, last_ms FROM alarm_occurrences WHERE alarm = ?1 AND end_ms IS NULL ORDER BY id DESC LIMIT 1"
#define ALARMS_SQL_MAX_ID "SELECT coalesce(max(id), 0) FROM alarms"
#define ALARMS_SQL_INSERT                                                                                   \
  "INSERT INTO alarms(id, alarm_id, park, rule, ent, point, metric, severity, state, message, first_ms,"    \
  " last_ms, count, value, peak, raised_ms, message_zh) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"            \
  " 'active_unacked', ?9, ?10, ?11, 1, ?12, ?13, ?14, ?15)"
#define ALARMS_SQL_UPDATE                                                                                   \
  "UPDATE alarms SET state = ?2, last_ms = ?3, count = ?4, value = ?5, peak = ?6, acked_by = ?7,"          \
  " acked_ms = ?8, note = ?9, cleared_ms = CASE WHEN ?2 = 'cleared_unacked' THEN ?10 ELSE cleared_ms END,"  \
  " closed_ms = CASE WHEN ?2 = 'closed' THEN ?10 ELSE NULL END WHERE id = ?1"
/* A re-raised event alarm's new message (ph_alarm_event.renew_message). */
#define ALARMS_SQL_MESSAGE "UPDATE alarms SET message = ?2, message_zh = ?3 WHERE id = ?1"
#define ALARMS_SQL_OCC_INSERT                                                                               \
  "INSERT INTO alarm_occurrences(alarm, park, rule, ent, point, metric, severity, start_ms, last_ms, count," \
  " value, peak) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?11)"
#define ALARMS_SQL_OCC_UPDATE                                                                               \
  "UPDATE alarm_occurrences SET last_ms = ?2, count = ?3, value = ?4, peak = ?5, end_ms = ?6 WHERE id = ?1"
#define ALARMS_SQL_LOG                                                                                      \
  "INSERT INTO alarm_log(alarm, ts_ms, transition, state, by, note) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"

#endif
