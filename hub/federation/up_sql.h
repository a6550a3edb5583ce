/* up_sql.h — the SQL of federation (up_rows.c, up_outbox.c, up_apply.c).
 * The tables are migration 8 (store/store_sql.h).
 *
 * A forwarded row travels by its natural key (park, ent, point, metric and
 * the row's own time or number), never by the sender's local ids: the
 * regional hub numbers points and series its own way.
 *
 * Park side, one READ statement per kind: ?1 a, ?2 b, ?3 c, ?4 d (the
 * outbox row's key). Its columns: the identity texts (park, ent[, point[,
 * metric]]), the key integers, present (0: the row no longer exists, send
 * its deletion), then the values in the order of docs/wire.md.
 *
 * Regional side, per kind a DEL and a PUT (a PUT always follows its DEL: a
 * row is replaced whole). ?1 the local series or point id (park for
 * enterprise kinds, ?2 then the enterprise), then the key integers, then
 * the values; ?20 the sender's outbox epoch (materials only).
 */
#ifndef PH_UP_SQL_H
#define PH_UP_SQL_H

#include "domain/cems_agg_sql.h"

#define UP_SQL_SERIES(T, JOIN)                                                                             \
  " FROM series s JOIN points p ON p.id = s.point_id JOIN metrics m ON m.id = s.metric_id"                 \
  " LEFT JOIN " T " x ON x.series_id = s.id AND " JOIN " WHERE s.id = ?1"
#define UP_SQL_POINT(T, JOIN) " FROM points p LEFT JOIN " T " x ON x.point_id = p.id AND " JOIN " WHERE p.id = ?1"
#define UP_SQL_ENT(T, JOIN) " FROM (SELECT 1) LEFT JOIN " T " x ON x.park = ?3 AND x.ent = ?4 AND " JOIN

#define UP_SQL_HOURS_READ                                                                                  \
  "SELECT p.park, p.ent, p.point, m.code, ?2, x.series_id IS NOT NULL, x.day_ms, x.kind, x.valid_minutes," \
  " x.mean, x.valid, x.limit_value" UP_SQL_SERIES("cems_hours", "x.hour_ms = ?2")
#define UP_SQL_HOURS_DEL "DELETE FROM cems_hours WHERE series_id = ?1 AND hour_ms = ?2"
#define UP_SQL_HOURS_PUT                                                                                   \
  "INSERT INTO cems_hours(series_id, hour_ms, day_ms, kind, valid_minutes, mean, valid, limit_value)"     \
  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"

#define UP_SQL_DAYS_READ                                                                                   \
  "SELECT p.park, p.ent, p.point, m.code, ?2, x.series_id IS NOT NULL, x.valid_hours, x.mean, x.valid,"   \
  " x.ratio, x.converted, x.limit_value" UP_SQL_SERIES("cems_days", "x.day_ms = ?2")
#define UP_SQL_DAYS_DEL "DELETE FROM cems_days WHERE series_id = ?1 AND day_ms = ?2"
#define UP_SQL_DAYS_PUT                                                                                    \
  "INSERT INTO cems_days(series_id, day_ms, valid_hours, mean, valid, ratio, converted, limit_value)"      \
  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"

#define UP_SQL_AGG_READ                                                                                    \
  "SELECT p.park, p.ent, p.point, m.code, ?2, x.series_id IS NOT NULL, x.valid, x.with_limit, x.within,"  \
  " x.exceeded, x.worst_ratio, x.worst_hour, x.worst_mean, x.worst_limit, x.used, x.cq"                   \
  UP_SQL_SERIES("cems_agg_days", "x.day_ms = ?2")
#define UP_SQL_AGG_DEL "DELETE FROM cems_agg_days WHERE series_id = ?1 AND day_ms = ?2"
#define UP_SQL_AGG_PUT                                                                                     \
  "INSERT INTO cems_agg_days(series_id, day_ms, valid, with_limit, within, exceeded, worst_ratio,"         \
  " worst_hour, worst_mean, worst_limit, used, cq) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"

#define UP_SQL_ROLLUP_READ                                                                                 \
  "SELECT p.park, p.ent, p.point, m.code, ?2, x.series_id IS NOT NULL, x.n, x.n_valid, x.sum, x.sum_valid," \
  " x.min, x.max, x.first_ts, x.first, x.last_ts, x.last, x.expected, x.n_stop, x.n_trans"                \
  UP_SQL_SERIES("rollups", "x.period = 1 AND x.bucket_ms = ?2")
#define UP_SQL_ROLLUP_DEL "DELETE FROM rollups WHERE series_id = ?1 AND period = 1 AND bucket_ms = ?2"
#define UP_SQL_ROLLUP_PUT                                                                                  \
  "INSERT INTO rollups(series_id, period, bucket_ms, n, n_valid, sum, sum_valid, min, max, first_ts,"     \
  " first, last_ts, last, expected, n_stop, n_trans)"                                                     \
  " VALUES(?1, 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"

/* Stack tests: the minute rows (period 0) of a pcdd_f series, each a
 * sample of a stack test (the inventory's input), queued with their
 * closed hour as the hour rows are. */
#define UP_SQL_TEST_READ                                                                                   \
  "SELECT p.park, p.ent, p.point, m.code, ?2, x.series_id IS NOT NULL, x.n, x.n_valid, x.sum, x.sum_valid," \
  " x.min, x.max, x.first_ts, x.first, x.last_ts, x.last, x.expected, x.n_stop, x.n_trans"                \
  UP_SQL_SERIES("rollups", "x.period = 0 AND x.bucket_ms = ?2")
#define UP_SQL_TEST_DEL "DELETE FROM rollups WHERE series_id = ?1 AND period = 0 AND bucket_ms = ?2"
#define UP_SQL_TEST_PUT                                                                                    \
  "INSERT INTO rollups(series_id, period, bucket_ms, n, n_valid, sum, sum_valid, min, max, first_ts,"     \
  " first, last_ts, last, expected, n_stop, n_trans)"                                                     \
  " VALUES(?1, 0, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"

#define UP_SQL_OP_READ                                                                                     \
  "SELECT p.park, p.ent, p.point, ?2, x.point_id IS NOT NULL, x.day_ms, x.op"                              \
  UP_SQL_POINT("cems_op_hours", "x.hour_ms = ?2")
#define UP_SQL_OP_DEL "DELETE FROM cems_op_hours WHERE point_id = ?1 AND hour_ms = ?2"
#define UP_SQL_OP_PUT "INSERT INTO cems_op_hours(point_id, hour_ms, day_ms, op) VALUES(?1, ?2, ?3, ?4)"

#define UP_SQL_ENT_DAYS_READ                                                                               \
  "SELECT ?3, ?4, ?2, x.park IS NOT NULL, x.flow_nm3, x.product_t, x.benchmark, x.ratio"                   \
  UP_SQL_ENT("cems_ent_days", "x.day_ms = ?2")
#define UP_SQL_ENT_DAYS_DEL "DELETE FROM cems_ent_days WHERE park = ?1 AND ent = ?2 AND day_ms = ?3"
#define UP_SQL_ENT_DAYS_PUT                                                                                \
  "INSERT INTO cems_ent_days(park, ent, day_ms, flow_nm3, product_t, benchmark, ratio)"                   \
  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"

#define UP_SQL_ENT_OP_READ                                                                                 \
  "SELECT ?3, ?4, ?2, x.park IS NOT NULL, x.day_ms, x.op" UP_SQL_ENT("cems_ent_op_hours", "x.hour_ms = ?2")
#define UP_SQL_ENT_OP_DEL "DELETE FROM cems_ent_op_hours WHERE park = ?1 AND ent = ?2 AND hour_ms = ?3"
#define UP_SQL_ENT_OP_PUT                                                                                  \
  "INSERT INTO cems_ent_op_hours(park, ent, hour_ms, day_ms, op) VALUES(?1, ?2, ?3, ?4, ?5)"

/* Exceedances: two key integers, period (1 hour, 2 day; the outbox keeps it in c) and bucket_ms. */
#define UP_SQL_EXC_READ                                                                                    \
  "SELECT p.park, p.ent, p.point, m.code, CAST(?3 AS INTEGER), ?2, x.id IS NOT NULL, x.mean, x.converted,"  \
  " x.ratio, x.limit_value, x.standard, x.recorded_ms"                                                     \
  UP_SQL_SERIES("exceedances", "x.period = CAST(?3 AS INTEGER) AND x.bucket_ms = ?2")
#define UP_SQL_EXC_DEL "DELETE FROM exceedances WHERE series_id = ?1 AND period = ?2 AND bucket_ms = ?3"
#define UP_SQL_EXC_PUT                                                                                     \
  "INSERT INTO exceedances(series_id, period, bucket_ms, mean, converted, ratio, limit_value, standard,"    \
  " recorded_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"

/* Materials are only ever added: the key is the sender's row id; the
 * regional copy carries agent_id 0 (no agent of this hub sent it: the
 * agents table gets no row for a park hub), epoch = the sender's outbox
 * epoch (?20), seq = that id. */
#define UP_SQL_MAT_READ                                                                                    \
  "SELECT p.park, p.ent, p.point, x.id, 1, x.ts_ms, x.material, x.dir, x.qty_t, x.lot, x.supplier, x.attrs" \
  " FROM materials x JOIN points p ON p.id = x.point_id WHERE x.id = ?1"
#define UP_SQL_MAT_DEL "DELETE FROM materials WHERE point_id = ?1 AND agent_id = 0 AND epoch = ?20 AND seq = ?2"
#define UP_SQL_MAT_PUT                                                                                     \
  "INSERT INTO materials(point_id, seq, ts_ms, material, dir, qty_t, lot, supplier, attrs, agent_id, epoch)" \
  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, ?20)"

/* ---- alarms and entered stack tests (issue #21, migration 10) ----
 * Keyed by the park and the park hub's row ids (an occurrence and a log row
 * also by their alarm's): k = [park, (alarm,) id]. The regional hub keeps
 * them under id << 16 | the sender's number (up_rows.c inv. 5), so ?2 (and
 * ?3) are those ids;
 * the stack test dates are keyed [park, ent, id] (?1 park, ?2 ent, ?3 id). */
#define UP_SQL_ALARM_READ                                                                                  \
  "SELECT ?3, ?1, x.id IS NOT NULL, x.alarm_id, x.rule, x.ent, x.point, x.metric, x.severity, x.state,"     \
  " x.message, x.first_ms, x.last_ms, x.count, x.value, x.peak, x.acked_by, x.acked_ms, x.note,"           \
  " x.raised_ms, x.cleared_ms, x.closed_ms, x.message_zh FROM (SELECT 1) LEFT JOIN alarms x ON x.id = ?1"
#define UP_SQL_ALARM_DEL "DELETE FROM up_alarms WHERE id = ?2"
#define UP_SQL_ALARM_PUT                                                                                   \
  "INSERT INTO up_alarms(id, park, alarm_id, rule, ent, point, metric, severity, state, message, first_ms,"  \
  " last_ms, count, value, peak, acked_by, acked_ms, note, raised_ms, cleared_ms, closed_ms, message_zh)"   \
  " VALUES(?2, ?1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,"  \
  " ?22)"
#define UP_SQL_OCC_READ                                                                                    \
  "SELECT ?3, ?1, ?2, x.id IS NOT NULL, x.rule, x.ent, x.point, x.metric, x.severity, x.start_ms,"          \
  " x.last_ms, x.end_ms, x.count, x.value, x.peak FROM (SELECT 1) LEFT JOIN alarm_occurrences x ON x.id = ?2"
#define UP_SQL_OCC_DEL "DELETE FROM up_alarm_occurrences WHERE id = ?3"
#define UP_SQL_OCC_PUT                                                                                     \
  "INSERT INTO up_alarm_occurrences(id, alarm, park, rule, ent, point, metric, severity, start_ms, last_ms," \
  " end_ms, count, value, peak) VALUES(?3, ?2, ?1, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
#define UP_SQL_LOG_READ                                                                                    \
  "SELECT ?3, ?1, ?2, x.id IS NOT NULL, x.ts_ms, x.transition, x.state, x.by, x.note"                       \
  " FROM (SELECT 1) LEFT JOIN alarm_log x ON x.id = ?2"
#define UP_SQL_LOG_DEL "DELETE FROM up_alarm_log WHERE id = ?3"
#define UP_SQL_LOG_PUT                                                                                     \
  "INSERT INTO up_alarm_log(id, alarm, ts_ms, transition, state, by, note) VALUES(?3, ?2, ?4, ?5, ?6, ?7, ?8)"
/* The dates an admin entered (alarms_sql.h stack_tests): the regional
 * hub's table of the same name, which the monitoring plan and the report
 * read; its own entries (none: a regulator enters none) keep their ids. */
#define UP_SQL_DATES_READ                                                                                  \
  "SELECT ?3, ?4, ?1, x.id IS NOT NULL, x.day, x.date, x.by, x.entered_ms"                                  \
  " FROM (SELECT 1) LEFT JOIN stack_tests x ON x.id = ?1"
#define UP_SQL_DATES_DEL "DELETE FROM stack_tests WHERE id = ?3"
#define UP_SQL_DATES_PUT                                                                                   \
  "INSERT INTO stack_tests(id, park, ent, day, date, by, entered_ms) VALUES(?3, ?1, ?2, ?4, ?5, ?6, ?7)"

/* ---- agent presence (issue #21, migration 11) ----
 * Keyed by the agent's natural key [park, ent, agent] (?1, ?2, ?3 on the
 * regional side); the park hub's outbox names the agent by its id (a) and
 * an event by its row id (b). agent_status carries the agents row with its
 * latest status (null columns: met, no status yet; not the agent's raw
 * status document, which no regional answer shows: each refresh would
 * carry it up again); agent_events keeps
 * the park hub's ids as the alarms' (?4, up_rows.c inv. 5). */
#define UP_SQL_PRES_READ                                                                                   \
  "SELECT a.park, a.ent, a.agent, 1, st.state, st.ts_ms, st.outbox_depth FROM agents a"                    \
  " LEFT JOIN agent_status st ON st.agent_id = a.id WHERE a.id = ?1"
#define UP_SQL_PRES_DEL "DELETE FROM up_agent_status WHERE park = ?1 AND ent = ?2 AND agent = ?3"
#define UP_SQL_PRES_PUT                                                                                    \
  "INSERT INTO up_agent_status(park, ent, agent, state, ts_ms, outbox_depth) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
#define UP_SQL_AEV_READ                                                                                    \
  "SELECT a.park, a.ent, a.agent, ?2, x.id IS NOT NULL, x.ts_ms, x.event, x.detail FROM agents a"          \
  " LEFT JOIN agent_events x ON x.id = ?2 WHERE a.id = ?1"
#define UP_SQL_AEV_DEL "DELETE FROM up_agent_events WHERE id = ?4"
#define UP_SQL_AEV_PUT                                                                                     \
  "INSERT INTO up_agent_events(id, park, ent, agent, ts_ms, event, detail) VALUES(?4, ?1, ?2, ?3, ?5, ?6, ?7)"

/* The rows a park hub held before it forwarded their kind (alarms raised
 * before the forwarder's first setup at a start, a hub upgraded from v9):
 * queued once, oldest first, when the kind joins up_forward
 * (ph_up_outbox_setup). ?1 the kind, ?2 its table: whether the kind was
 * forwarded, and whether its table exists (ph_alarms_migrate made it). */
#define UP_SQL_FORWARD_HAS                                                                                 \
  "SELECT (SELECT count(*) FROM up_forward WHERE tbl = ?1),"                                               \
  " (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?2)"
#define UP_SQL_BACKFILL(KIND, SELECT) "INSERT INTO up_outbox(kind, a, b, c, d) SELECT '" KIND "', " SELECT
#define UP_SQL_BACKFILL_ALARMS UP_SQL_BACKFILL("alarms", "id, NULL, park, NULL FROM alarms ORDER BY id")
#define UP_SQL_BACKFILL_OCC UP_SQL_BACKFILL("alarm_occurrences", "alarm, id, park, NULL FROM alarm_occurrences ORDER BY id")
#define UP_SQL_BACKFILL_LOG                                                                                \
  UP_SQL_BACKFILL("alarm_log", "l.alarm, l.id, a.park, NULL FROM alarm_log l JOIN alarms a ON a.id = l.alarm"  \
                  " ORDER BY l.id")
#define UP_SQL_BACKFILL_DATES UP_SQL_BACKFILL("stack_test_dates", "id, NULL, park, ent FROM stack_tests ORDER BY id")
#define UP_SQL_BACKFILL_PRES UP_SQL_BACKFILL("agent_status", "id, NULL, NULL, NULL FROM agents ORDER BY id")
#define UP_SQL_BACKFILL_AEV UP_SQL_BACKFILL("agent_events", "agent_id, id, NULL, NULL FROM agent_events ORDER BY id")

/* The number of a park hub's outbox epoch on the regional hub (up_rows.c
 * inv. 5): given at its first row id, never changed. */
#define UP_SQL_SENDER_GET "SELECT no FROM up_sender_nos WHERE sender = ?1 AND epoch = ?2"
#define UP_SQL_SENDER_ADD                                                                                  \
  "INSERT INTO up_sender_nos(sender, epoch, no) SELECT ?1, ?2, coalesce(max(no), 0) + 1 FROM up_sender_nos"  \
  " RETURNING no"

/* The park hub's triggers on the tables ph_alarms_migrate makes (after the
 * store's migrations, hence not in migration 8): IF NOT EXISTS, run at
 * every start (ph_up_triggers), so a hub upgraded from v9 gets them. An
 * alarm row changes at each transition and count; each change queues its
 * row, as migration 8's triggers do. A log row carries its alarm's park. */
#define UP_SQL_ATRIG(NAME, TBL, KIND, EV, ROW)                                                             \
  "CREATE TRIGGER IF NOT EXISTS up_" NAME " AFTER " EV " ON " TBL " WHEN EXISTS"                            \
  " (SELECT 1 FROM up_forward WHERE tbl = '" KIND "') BEGIN INSERT INTO up_outbox(kind, a, b, c, d)"        \
  " VALUES('" KIND "', " ROW "); END;"
#define UP_SQL_ATRIG3(NAME, TBL, KIND, NEWROW, OLDROW)                                                     \
  UP_SQL_ATRIG(NAME "_ins", TBL, KIND, "INSERT", NEWROW) UP_SQL_ATRIG(NAME "_upd", TBL, KIND, "UPDATE", NEWROW) \
  UP_SQL_ATRIG(NAME "_del", TBL, KIND, "DELETE", OLDROW)
#define UP_SQL_TRIGGERS                                                                                    \
  UP_SQL_ATRIG3("alarms", "alarms", "alarms", "NEW.id, NULL, NEW.park, NULL", "OLD.id, NULL, OLD.park, NULL") \
  UP_SQL_ATRIG3("occ", "alarm_occurrences", "alarm_occurrences", "NEW.alarm, NEW.id, NEW.park, NULL",        \
                "OLD.alarm, OLD.id, OLD.park, NULL")                                                       \
  UP_SQL_ATRIG3("alog", "alarm_log", "alarm_log",                                                          \
                "NEW.alarm, NEW.id, (SELECT park FROM alarms WHERE id = NEW.alarm), NULL",                 \
                "OLD.alarm, OLD.id, (SELECT park FROM alarms WHERE id = OLD.alarm), NULL")                 \
  UP_SQL_ATRIG3("dates", "stack_tests", "stack_test_dates", "NEW.id, NULL, NEW.park, NEW.ent",              \
                "OLD.id, NULL, OLD.park, OLD.ent")
/* ---- the regional hub's 8-day blocks (migration 7) and month cells (12) ----
 * The park hub keeps cems_agg_blocks and cems_day_blocks (and the month
 * cells, cems_agg_months and cems_day_months) in ph_cems_update,
 * which never runs here: the blocks are not forwarded but rebuilt, at the
 * end of each batch, from the day rows it applied (kind 0: cems_agg_days,
 * 1: cems_days), as ph_cems_update rebuilds the blocks of the days it
 * wrote. material_blocks needs nothing: its trigger sees the inserts, and a
 * forwarded material is only ever inserted (its revision is its outbox row,
 * never re-sent newer). The rebuild is one statement each (prepared once,
 * cached by the caller's bracket), in this order. */
#define UP_SQL_BLK_TEMP                                                                                    \
  "CREATE TEMP TABLE IF NOT EXISTS up_t_blk(kind INTEGER NOT NULL, series_id INTEGER NOT NULL,"             \
  " blk_ms INTEGER NOT NULL, PRIMARY KEY(kind, series_id, blk_ms)) WITHOUT ROWID;"                          \
  "DELETE FROM temp.up_t_blk;"                                                                              \
  "CREATE TEMP TABLE IF NOT EXISTS up_t_mon(kind INTEGER NOT NULL, series_id INTEGER NOT NULL,"             \
  " mon_ms INTEGER NOT NULL, PRIMARY KEY(kind, series_id, mon_ms)) WITHOUT ROWID;"                          \
  "DELETE FROM temp.up_t_mon"
#define UP_SQL_BLK_KEY                                                                                     \
  "INSERT OR IGNORE INTO temp.up_t_blk(kind, series_id, blk_ms) VALUES(?1, ?2, " CEMS_AGG_SQL_BLK("?3") ")"
#define UP_SQL_BLK_KEYS(K) "(SELECT series_id, blk_ms FROM temp.up_t_blk WHERE kind = " K ")"
#define UP_SQL_BLK_AGG_DEL "DELETE FROM cems_agg_blocks WHERE (series_id, blk_ms) IN " UP_SQL_BLK_KEYS("0")
#define UP_SQL_BLK_AGG_PUT CEMS_AGG_SQL_BLK_SELECT(UP_SQL_BLK_KEYS("0"))
#define UP_SQL_BLK_DAY_DEL "DELETE FROM cems_day_blocks WHERE (series_id, blk_ms) IN " UP_SQL_BLK_KEYS("1")
#define UP_SQL_BLK_DAY_PUT CEMS_AGG_SQL_DBLK_SELECT(UP_SQL_BLK_KEYS("1"))
#define UP_SQL_BLK_CLEAR "DELETE FROM temp.up_t_blk"
/* The month cells (migration 12) the same way, after the blocks. */
#define UP_SQL_MON_KEY                                                                                     \
  "INSERT OR IGNORE INTO temp.up_t_mon(kind, series_id, mon_ms) VALUES(?1, ?2, " CEMS_AGG_SQL_MON("?3") ")"
#define UP_SQL_MON_KEYS(K)                                                                                 \
  CEMS_AGG_SQL_MON_KEYS_OF("(SELECT series_id, mon_ms FROM temp.up_t_mon WHERE kind = " K ")")
#define UP_SQL_MON_AGG_DEL                                                                                 \
  "DELETE FROM cems_agg_months WHERE (series_id, mon_ms) IN (SELECT series_id, mon_ms FROM temp.up_t_mon"   \
  " WHERE kind = 0)"
#define UP_SQL_MON_AGG_PUT CEMS_AGG_SQL_MON_SELECT(UP_SQL_MON_KEYS("0"))
#define UP_SQL_MON_DAY_DEL                                                                                 \
  "DELETE FROM cems_day_months WHERE (series_id, mon_ms) IN (SELECT series_id, mon_ms FROM temp.up_t_mon"   \
  " WHERE kind = 1)"
#define UP_SQL_MON_DAY_PUT CEMS_AGG_SQL_DMON_SELECT(UP_SQL_MON_KEYS("1"))
#define UP_SQL_MON_CLEAR "DELETE FROM temp.up_t_mon"

/* ---- the park hub's outbox ---- */
#define UP_SQL_FORWARD_CLEAR "DELETE FROM up_forward"
#define UP_SQL_FORWARD_ADD "INSERT OR IGNORE INTO up_forward(tbl) VALUES(?1)"
#define UP_SQL_STATE_INIT "INSERT OR IGNORE INTO up_state(id, epoch, last_batch, acked) VALUES(1, ?1, 0, 0)"
#define UP_SQL_STATE_GET "SELECT epoch, last_batch, acked FROM up_state WHERE id = 1"
/* The next batch: up to ?2 changes not yet in one, oldest first. */
#define UP_SQL_ASSIGN                                                                                      \
  "UPDATE up_outbox SET batch = ?1 WHERE seq IN (SELECT seq FROM up_outbox WHERE batch IS NULL"            \
  " ORDER BY seq LIMIT ?2)"
#define UP_SQL_STATE_BATCH "UPDATE up_state SET last_batch = ?1 WHERE id = 1"
#define UP_SQL_BATCH_ROWS "SELECT seq, kind, a, b, c, d FROM up_outbox WHERE batch = ?1 ORDER BY seq"
#define UP_SQL_OLDEST "SELECT min(batch) FROM up_outbox WHERE batch IS NOT NULL"
#define UP_SQL_DEPTH "SELECT count(*), count(batch) FROM up_outbox"
#define UP_SQL_ACK_DELETE "DELETE FROM up_outbox WHERE batch <= ?1"
#define UP_SQL_STATE_ACKED "UPDATE up_state SET acked = max(acked, ?1) WHERE id = 1"

/* ---- the regional hub ---- */
#define UP_SQL_STREAM_GET "SELECT upto, above FROM up_streams WHERE sender = ?1 AND epoch = ?2"
#define UP_SQL_STREAM_PUT                                                                                  \
  "INSERT INTO up_streams(sender, epoch, upto, above, last_ms, batches, duplicates)"                       \
  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(sender, epoch) DO UPDATE SET upto = ?3, above = ?4,"    \
  " last_ms = ?5, batches = batches + ?6, duplicates = duplicates + ?7"
#define UP_SQL_REV_GET "SELECT epoch, rev FROM up_rev WHERE sender = ?1 AND kind = ?2 AND k = ?3"
#define UP_SQL_REV_PUT                                                                                     \
  "INSERT INTO up_rev(sender, kind, k, epoch, rev) VALUES(?1, ?2, ?3, ?4, ?5)"                             \
  " ON CONFLICT(sender, kind, k) DO UPDATE SET epoch = ?4, rev = ?5"

#endif
