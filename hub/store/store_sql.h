/* store_sql.h — the hub database's SQL, kept together (store.c).
 * Schema changes are new entries of migrations[] in store.c, never edits of
 * an applied one: PRAGMA user_version records how many have run. */
#ifndef PH_STORE_SQL_H
#define PH_STORE_SQL_H

#include "domain/cems_agg_sql.h"

/* Migration 1: the ingest schema. Times are UTC milliseconds. */
#define STORE_SQL_V1                                                                                       \
  "CREATE TABLE agents(id INTEGER PRIMARY KEY, park TEXT NOT NULL, ent TEXT NOT NULL, agent TEXT NOT NULL," \
  " UNIQUE(park, ent, agent));"                                                                            \
  "CREATE TABLE points(id INTEGER PRIMARY KEY, park TEXT NOT NULL, ent TEXT NOT NULL, point TEXT NOT NULL," \
  " UNIQUE(park, ent, point));"                                                                            \
  "CREATE TABLE metrics(id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE);"                               \
  "CREATE TABLE series(id INTEGER PRIMARY KEY, point_id INTEGER NOT NULL REFERENCES points(id),"           \
  " metric_id INTEGER NOT NULL REFERENCES metrics(id), UNIQUE(point_id, metric_id));"                      \
  /* dedupe state: highest seq below which every batch of (agent, epoch) is held */                        \
  "CREATE TABLE streams(agent_id INTEGER NOT NULL, epoch INTEGER NOT NULL, upto INTEGER NOT NULL,"         \
  " first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL, batches INTEGER NOT NULL DEFAULT 0,"              \
  " duplicates INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(agent_id, epoch)) WITHOUT ROWID;"                   \
  /* batches received above upto (out of order): still needed for dedupe */                               \
  "CREATE TABLE seq_above(agent_id INTEGER NOT NULL, epoch INTEGER NOT NULL, seq INTEGER NOT NULL,"        \
  " PRIMARY KEY(agent_id, epoch, seq)) WITHOUT ROWID;"                                                     \
  "CREATE TABLE gaps(id INTEGER PRIMARY KEY, agent_id INTEGER NOT NULL, epoch INTEGER NOT NULL,"           \
  " from_seq INTEGER NOT NULL, to_seq INTEGER NOT NULL, detected_ms INTEGER NOT NULL);"                    \
  "CREATE TABLE agent_events(id INTEGER PRIMARY KEY, agent_id INTEGER NOT NULL, ts_ms INTEGER NOT NULL,"   \
  " event TEXT NOT NULL, detail TEXT);"                                                                    \
  "CREATE TABLE agent_status(agent_id INTEGER PRIMARY KEY, state TEXT NOT NULL, ts_ms INTEGER NOT NULL,"   \
  " outbox_depth INTEGER, payload TEXT);"                                                                  \
  /* raw samples: one row per (batch, point, UTC hour), records packed (chunk.h) */                        \
  "CREATE TABLE samples(id INTEGER PRIMARY KEY, point_id INTEGER NOT NULL, ts_min INTEGER NOT NULL,"       \
  " ts_max INTEGER NOT NULL, agent_id INTEGER NOT NULL, epoch INTEGER NOT NULL, seq INTEGER NOT NULL,"      \
  " nrecords INTEGER NOT NULL, nvalues INTEGER NOT NULL, data BLOB NOT NULL);"                             \
  "CREATE INDEX samples_point_ts ON samples(point_id, ts_min);"                                            \
  "CREATE INDEX samples_ts ON samples(ts_min);"                                                            \
  "CREATE TABLE materials(id INTEGER PRIMARY KEY, point_id INTEGER NOT NULL, ts_ms INTEGER NOT NULL,"      \
  " material TEXT NOT NULL, dir TEXT NOT NULL CHECK(dir IN ('in','out')), qty_t REAL NOT NULL, lot TEXT,"  \
  " supplier TEXT, attrs TEXT, agent_id INTEGER NOT NULL, epoch INTEGER NOT NULL, seq INTEGER NOT NULL);"  \
  "CREATE INDEX materials_point_ts ON materials(point_id, ts_ms);"                                         \
  /* period: 0 minute, 1 hour, 2 day; bucket_ms: the bucket's start (hour/day: park-local) */              \
  "CREATE TABLE rollups(series_id INTEGER NOT NULL, period INTEGER NOT NULL, bucket_ms INTEGER NOT NULL,"  \
  " n INTEGER NOT NULL, n_valid INTEGER NOT NULL, sum REAL NOT NULL, sum_valid REAL NOT NULL,"             \
  " min REAL NOT NULL, max REAL NOT NULL, first_ts INTEGER NOT NULL, first REAL NOT NULL,"                 \
  " last_ts INTEGER NOT NULL, last REAL NOT NULL, expected REAL NOT NULL,"                                 \
  " PRIMARY KEY(series_id, period, bucket_ms)) WITHOUT ROWID;"                                             \
  "CREATE TABLE rejects(id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, park TEXT, topic TEXT NOT NULL,"   \
  " agent TEXT, epoch INTEGER, seq INTEGER, code TEXT NOT NULL, reason TEXT NOT NULL);"                    \
  "CREATE INDEX rejects_ts ON rejects(ts_ms);"

/* Migration 2: CEMS hourly/daily means, compliance and exceedances (cems.c).
 * cems_hours/cems_days: one row per (series, local hour/day) that had data,
 * written once the period closed; mean = mean of the valid minute means
 * (hours) or of the valid hour means (days), NULL when none was valid;
 * limit_value: the stack limit in force that local day (NULL: none);
 * cems_days.converted: the mean after GB 31574-2015 §4.2.7 benchmark
 * exhaust-volume conversion (ratio > 1), else the mean. cems_ent_days: the
 * conversion's inputs per enterprise and day. exceedances: period 1 hour,
 * 2 day (as in rollups); recorded_ms is set once, when first found.
 * cems_dirty*: what changed since the last run, filled by the triggers
 * below on the writer's own statements (migration 3 moved the rollup ones
 * into the writer's statements; an hour rollup row written = that
 * hour of that series must be recomputed; an outgoing material = that
 * enterprise's day must be reconverted), so late data is always picked up.
 * The two INSERTs mark whatever an older database already holds. */
#define STORE_SQL_V2                                                                                       \
  "CREATE TABLE cems_hours(series_id INTEGER NOT NULL, hour_ms INTEGER NOT NULL, day_ms INTEGER NOT NULL,"  \
  " kind INTEGER NOT NULL, valid_minutes INTEGER NOT NULL, mean REAL, valid INTEGER NOT NULL,"             \
  " limit_value REAL, PRIMARY KEY(series_id, hour_ms)) WITHOUT ROWID;"                                     \
  "CREATE TABLE cems_days(series_id INTEGER NOT NULL, day_ms INTEGER NOT NULL, valid_hours INTEGER NOT NULL," \
  " mean REAL, valid INTEGER NOT NULL, ratio REAL, converted REAL, limit_value REAL,"                       \
  " PRIMARY KEY(series_id, day_ms)) WITHOUT ROWID;"                                                        \
  "CREATE TABLE cems_ent_days(park TEXT NOT NULL, ent TEXT NOT NULL, day_ms INTEGER NOT NULL,"             \
  " flow_nm3 REAL NOT NULL, product_t REAL NOT NULL, benchmark REAL NOT NULL, ratio REAL,"                 \
  " PRIMARY KEY(park, ent, day_ms)) WITHOUT ROWID;"                                                        \
  "CREATE TABLE exceedances(id INTEGER PRIMARY KEY, series_id INTEGER NOT NULL, period INTEGER NOT NULL,"   \
  " bucket_ms INTEGER NOT NULL, mean REAL NOT NULL, converted REAL NOT NULL, ratio REAL,"                 \
  " limit_value REAL NOT NULL, standard TEXT NOT NULL, recorded_ms INTEGER NOT NULL,"                      \
  " UNIQUE(series_id, period, bucket_ms));"                                                                \
  "CREATE TABLE cems_dirty(series_id INTEGER NOT NULL, hour_ms INTEGER NOT NULL,"                          \
  " PRIMARY KEY(series_id, hour_ms)) WITHOUT ROWID;"                                                       \
  "CREATE INDEX cems_dirty_hour ON cems_dirty(hour_ms);"                                                   \
  "CREATE TABLE cems_dirty_days(park TEXT NOT NULL, ent TEXT NOT NULL, day_ms INTEGER NOT NULL,"           \
  " PRIMARY KEY(park, ent, day_ms)) WITHOUT ROWID;"                                                        \
  "CREATE TABLE cems_dirty_materials(point_id INTEGER NOT NULL, ts_ms INTEGER NOT NULL);"                   \
  "CREATE TABLE cems_state(id INTEGER PRIMARY KEY CHECK(id = 1), run_ms INTEGER NOT NULL,"                 \
  " closed_ms INTEGER NOT NULL);"                                                                          \
  /* NOT EXISTS rather than OR IGNORE: an outer statement's conflict clause would override the trigger's */\
  "CREATE TRIGGER cems_touch_insert AFTER INSERT ON rollups WHEN NEW.period = 1 BEGIN"                     \
  " INSERT INTO cems_dirty(series_id, hour_ms) SELECT NEW.series_id, NEW.bucket_ms WHERE NOT EXISTS"       \
  " (SELECT 1 FROM cems_dirty WHERE series_id = NEW.series_id AND hour_ms = NEW.bucket_ms); END;"          \
  "CREATE TRIGGER cems_touch_update AFTER UPDATE ON rollups WHEN NEW.period = 1 BEGIN"                     \
  " INSERT INTO cems_dirty(series_id, hour_ms) SELECT NEW.series_id, NEW.bucket_ms WHERE NOT EXISTS"       \
  " (SELECT 1 FROM cems_dirty WHERE series_id = NEW.series_id AND hour_ms = NEW.bucket_ms); END;"          \
  "CREATE TRIGGER cems_touch_material AFTER INSERT ON materials WHEN NEW.dir = 'out' BEGIN"                \
  " INSERT INTO cems_dirty_materials(point_id, ts_ms) VALUES(NEW.point_id, NEW.ts_ms); END;"               \
  "INSERT INTO cems_dirty(series_id, hour_ms) SELECT series_id, bucket_ms FROM rollups WHERE period = 1;"   \
  "INSERT INTO cems_dirty_materials(point_id, ts_ms) SELECT point_id, ts_ms FROM materials WHERE dir = 'out';"

/* Migration 3: the writer marks dirty CEMS hours itself (ph_store_rollup,
 * in the rollup's transaction) instead of triggers on rollups: a trigger
 * program ran for every minute row to find the one hour row in sixty, a
 * quarter of each rollup upsert's cost (bench/ingest). The material
 * trigger stays (one outgoing material is rare). */
#define STORE_SQL_V3                                                                                       \
  "DROP TRIGGER cems_touch_insert;"                                                                        \
  "DROP TRIGGER cems_touch_update;"

/* Migration 4: operating states (docs/report.md "Operating states").
 * rollups.n_stop: values flagged F (HJ 212 "stopped") or from a record
 * whose state is stopped; n_trans: values from a record in startup or
 * shutdown. cems_op_hours: per point and closed local hour that had data,
 * its state from its own values — op 1 stopped (n_stop > half of its
 * values), 2 startup/shutdown (some n_trans), 0 operating; cems_ent_op_hours: the
 * enterprise's state from its process points (points without an emission
 * series): 1 when every process point that sent data that hour was
 * stopped, 2 when one was in startup/shutdown (written by cems.c). */
#define STORE_SQL_V4                                                                                       \
  "ALTER TABLE rollups ADD COLUMN n_stop INTEGER NOT NULL DEFAULT 0;"                                      \
  "ALTER TABLE rollups ADD COLUMN n_trans INTEGER NOT NULL DEFAULT 0;"                                     \
  "CREATE TABLE cems_op_hours(point_id INTEGER NOT NULL, hour_ms INTEGER NOT NULL, day_ms INTEGER NOT NULL," \
  " op INTEGER NOT NULL, PRIMARY KEY(point_id, hour_ms)) WITHOUT ROWID;"                                   \
  "CREATE TABLE cems_ent_op_hours(park TEXT NOT NULL, ent TEXT NOT NULL, hour_ms INTEGER NOT NULL,"        \
  " day_ms INTEGER NOT NULL, op INTEGER NOT NULL, PRIMARY KEY(park, ent, hour_ms)) WITHOUT ROWID;"

/* Migration 5 (issue #16): streams.data_ms, the newest record time stored
 * of the stream (where a declared gap's time span starts); gaps.from_ms and
 * gaps.to_ms, that span in data time (NULL: unknown). */
#define STORE_SQL_V5                                                                                       \
  "ALTER TABLE streams ADD COLUMN data_ms INTEGER;"                                                        \
  "ALTER TABLE gaps ADD COLUMN from_ms INTEGER;"                                                           \
  "ALTER TABLE gaps ADD COLUMN to_ms INTEGER;"

/* Migration 6 (issue #19): daily CEMS aggregates (domain/cems_agg_sql.h),
 * built here once from the hours an older database holds, in the
 * migration's transaction; then kept by ph_cems_update. The op-hour
 * indexes let the stopped and startup/shutdown hours of a year (few) be
 * found without reading every operating hour (monitoring.c). */
#define STORE_SQL_V6                                                                                       \
  CEMS_AGG_SQL_TABLE                                                                                       \
  "CREATE INDEX cems_op_hours_op ON cems_op_hours(point_id, op, hour_ms);"                                 \
  "CREATE INDEX cems_ent_op_hours_op ON cems_ent_op_hours(park, ent, op, hour_ms);"                        \
  CEMS_AGG_SQL_FILL_ALL ";"

/* Migration 7 (issue #19): 8-day blocks above the daily CEMS aggregates and
 * the daily means (domain/cems_agg_sql.h), built here once from the day rows
 * an older database holds; then kept by ph_cems_update. material_blocks:
 * per point, 8-day block (the same span, of ts_ms), material and direction,
 * the sum and count of the ledger's records, built here and then kept by a
 * trigger on insert (materials are only ever inserted); the summary reads
 * whole blocks from it and the records at its range's edges through the
 * material index, which gains the columns read (api_sql.h API_SQL_MATERIALS).
 * A block's sum is its records' in another order than a GROUP BY over them:
 * equal but for the last bits of a double. */
#define STORE_SQL_MAT_BLK(T) "(" T " - ((" T " % " CEMS_AGG_BLOCK_STR ") + " CEMS_AGG_BLOCK_STR ") % " CEMS_AGG_BLOCK_STR ")"
#define STORE_SQL_V7                                                                                       \
  CEMS_AGG_SQL_BLOCK_TABLES                                                                                \
  CEMS_AGG_SQL_BLK_FILL_ALL ";"                                                                            \
  CEMS_AGG_SQL_DBLK_FILL_ALL ";"                                                                           \
  "DROP INDEX materials_point_ts;"                                                                         \
  "CREATE INDEX materials_point_ts ON materials(point_id, ts_ms, material, dir, qty_t);"                   \
  "CREATE TABLE material_blocks(point_id INTEGER NOT NULL, blk_ms INTEGER NOT NULL, material TEXT NOT NULL," \
  " dir TEXT NOT NULL, qty_t REAL NOT NULL, n INTEGER NOT NULL, PRIMARY KEY(point_id, blk_ms, material, dir))" \
  " WITHOUT ROWID;"                                                                                        \
  "INSERT INTO material_blocks(point_id, blk_ms, material, dir, qty_t, n) SELECT point_id, "               \
  STORE_SQL_MAT_BLK("ts_ms") ", material, dir, total(qty_t), count(*) FROM materials GROUP BY 1, 2, 3, 4;"  \
  "CREATE TRIGGER material_blocks_add AFTER INSERT ON materials BEGIN"                                     \
  " INSERT INTO material_blocks(point_id, blk_ms, material, dir, qty_t, n) VALUES(NEW.point_id, "          \
  STORE_SQL_MAT_BLK("NEW.ts_ms") ", NEW.material, NEW.dir, NEW.qty_t, 1)"                                  \
  " ON CONFLICT(point_id, blk_ms, material, dir) DO UPDATE SET qty_t = qty_t + excluded.qty_t, n = n + 1;" \
  " END;"

/* Migration 8 (issue #21, federation): the upward outbox of a park hub and
 * the regional hub's bookkeeping (hub/federation/). up_forward: the tables
 * this hub forwards upstream (upstream.forward, written at start; empty:
 * nothing is forwarded and the triggers below write nothing). up_outbox:
 * one row per change of a forwarded row, appended by the triggers in the
 * writer's own transaction (no code path can forget one); seq is the
 * change's revision (AUTOINCREMENT: never reused, even after the newest row
 * was deleted); a, b (integers) and c, d (texts) the row's local key;
 * batch: the upward batch seq it was given (NULL: not yet). up_state: the
 * outbox's epoch (its incarnation), the last batch seq given and the
 * regional hub's last ack. Regional side: up_streams, the dedupe state per
 * (sender, epoch) as streams is per agent; up_rev, per forwarded row
 * (sender, table, key) the newest (epoch, revision) applied, so an older
 * revision arriving late never replaces a newer one. IF NOT EXISTS: a
 * test turns a database back into an older version by dropping that
 * version's tables only (test_hub_cems_agg.c). */
#define UP_TRIG(NAME, TBL, EV, WHEN, SELECT)                                                               \
  "CREATE TRIGGER IF NOT EXISTS up_" NAME " AFTER " EV " ON " TBL " WHEN " WHEN                                           \
  " AND EXISTS (SELECT 1 FROM up_forward WHERE tbl = '" TBL "') BEGIN"                                      \
  " INSERT INTO up_outbox(kind, a, b, c, d) " SELECT "; END;"
#define UP_TRIG3(NAME, TBL, SELNEW, SELOLD)                                                                \
  UP_TRIG(NAME "_ins", TBL, "INSERT", "1", SELNEW) UP_TRIG(NAME "_upd", TBL, "UPDATE", "1", SELNEW)          \
  UP_TRIG(NAME "_del", TBL, "DELETE", "1", SELOLD)
#define STORE_SQL_V8                                                                                       \
  "CREATE TABLE IF NOT EXISTS up_forward(tbl TEXT PRIMARY KEY) WITHOUT ROWID;"                                           \
  "CREATE TABLE IF NOT EXISTS up_outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, a INTEGER, b INTEGER," \
  " c TEXT, d TEXT, batch INTEGER);"                                                                       \
  "CREATE INDEX IF NOT EXISTS up_outbox_batch ON up_outbox(batch);"                                                      \
  "CREATE TABLE IF NOT EXISTS up_state(id INTEGER PRIMARY KEY CHECK(id = 1), epoch INTEGER NOT NULL,"                    \
  " last_batch INTEGER NOT NULL, acked INTEGER NOT NULL);"                                                 \
  "CREATE TABLE IF NOT EXISTS up_streams(sender TEXT NOT NULL, epoch INTEGER NOT NULL, upto INTEGER NOT NULL,"           \
  " above TEXT NOT NULL DEFAULT '', last_ms INTEGER NOT NULL, batches INTEGER NOT NULL DEFAULT 0,"          \
  " duplicates INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(sender, epoch)) WITHOUT ROWID;"                     \
  "CREATE TABLE IF NOT EXISTS up_rev(sender TEXT NOT NULL, kind TEXT NOT NULL, k TEXT NOT NULL, epoch INTEGER NOT NULL,"  \
  " rev INTEGER NOT NULL, PRIMARY KEY(sender, kind, k)) WITHOUT ROWID;"                                    \
  UP_TRIG3("hours", "cems_hours", "VALUES('cems_hours', NEW.series_id, NEW.hour_ms, NULL, NULL)",           \
           "VALUES('cems_hours', OLD.series_id, OLD.hour_ms, NULL, NULL)")                                 \
  UP_TRIG3("days", "cems_days", "VALUES('cems_days', NEW.series_id, NEW.day_ms, NULL, NULL)",               \
           "VALUES('cems_days', OLD.series_id, OLD.day_ms, NULL, NULL)")                                   \
  UP_TRIG3("agg", "cems_agg_days", "VALUES('cems_agg_days', NEW.series_id, NEW.day_ms, NULL, NULL)",        \
           "VALUES('cems_agg_days', OLD.series_id, OLD.day_ms, NULL, NULL)")                               \
  UP_TRIG3("ent_days", "cems_ent_days", "VALUES('cems_ent_days', NULL, NEW.day_ms, NEW.park, NEW.ent)",     \
           "VALUES('cems_ent_days', NULL, OLD.day_ms, OLD.park, OLD.ent)")                                 \
  UP_TRIG3("op", "cems_op_hours", "VALUES('cems_op_hours', NEW.point_id, NEW.hour_ms, NULL, NULL)",         \
           "VALUES('cems_op_hours', OLD.point_id, OLD.hour_ms, NULL, NULL)")                               \
  UP_TRIG3("ent_op", "cems_ent_op_hours",                                                                  \
           "VALUES('cems_ent_op_hours', NULL, NEW.hour_ms, NEW.park, NEW.ent)",                            \
           "VALUES('cems_ent_op_hours', NULL, OLD.hour_ms, OLD.park, OLD.ent)")                            \
  UP_TRIG3("exc", "exceedances", "VALUES('exceedances', NEW.series_id, NEW.bucket_ms, NEW.period, NULL)",      \
           "VALUES('exceedances', OLD.series_id, OLD.bucket_ms, OLD.period, NULL)")                       \
  UP_TRIG("mat_ins", "materials", "INSERT", "1", "VALUES('materials', NEW.id, NULL, NULL, NULL)")          \
  /* a closed point-hour (its op row written) carries its hour rollups up:     \
   * the rollups table itself has no trigger (migration 3: too hot) */                                    \
  "CREATE TRIGGER IF NOT EXISTS up_rollups AFTER INSERT ON cems_op_hours WHEN EXISTS"                                    \
  " (SELECT 1 FROM up_forward WHERE tbl = 'rollups') BEGIN"                                                \
  " INSERT INTO up_outbox(kind, a, b) SELECT 'rollups', s.id, NEW.hour_ms FROM series s"                   \
  " WHERE s.point_id = NEW.point_id; END;"                                                                \
  /* ... and the minute rows of its pcdd_f series in that hour: the stack     \
   * tests' samples, which the PCDD/F inventory reads (inventory_sql.h) */    \
  "CREATE TRIGGER IF NOT EXISTS up_stack_tests AFTER INSERT ON cems_op_hours WHEN EXISTS"                  \
  " (SELECT 1 FROM up_forward WHERE tbl = 'stack_tests') BEGIN"                                            \
  " INSERT INTO up_outbox(kind, a, b) SELECT 'stack_tests', s.id, r.bucket_ms FROM series s"               \
  " JOIN metrics m ON m.id = s.metric_id AND m.code = 'pcdd_f'"                                            \
  " JOIN rollups r ON r.series_id = s.id AND r.period = 0 AND r.bucket_ms >= NEW.hour_ms"                   \
  " AND r.bucket_ms < NEW.hour_ms + 3600000 WHERE s.point_id = NEW.point_id; END;"

/* Migration 9 (issue #19): point_first, per point the first hour with
 * data (the earliest hour rollup of any of its series): the start of its
 * monitoring period when none is configured (monitoring.c). Read before as
 * a min() over each series' hour rollups, 20 seeks into the largest b-tree
 * per point, the biggest share of a park-month summary. Kept by
 * ph_store_rollup in the rollup's transaction (STORE_SQL_POINT_FIRST), and on a regional
 * hub by the apply of a forwarded hour rollup (federation/up_rows.c): it
 * only moves earlier, as rollups are never deleted (retention prunes raw
 * samples only), so a late, replayed or out-of-order hour is one upsert.
 * Invariant: its rows equal STORE_SQL_POINT_FIRST_OF(rollups) at any
 * commit; tests/unit/test_hub_cems_agg.c checks it. */
#define STORE_SQL_POINT_FIRST_FILL                                                                         \
  "INSERT INTO point_first(point_id, first_ms) SELECT point_id, f FROM (SELECT s.point_id,"              \
  " min((SELECT min(r.bucket_ms) FROM rollups r WHERE r.series_id = s.id AND r.period = 1)) AS f"          \
  " FROM series s GROUP BY s.point_id) WHERE f IS NOT NULL"
#define STORE_SQL_V9                                                                                       \
  "CREATE TABLE point_first(point_id INTEGER PRIMARY KEY, first_ms INTEGER NOT NULL);"                     \
  STORE_SQL_POINT_FIRST_FILL ";"
/* An hour rollup of series ?1 at ?2 written: its point's first hour (the
 * WHERE clause both ends the SELECT, which an upsert needs, and keeps the
 * usual case, a later hour, from writing). */
#define STORE_SQL_POINT_FIRST                                                                              \
  "INSERT INTO point_first(point_id, first_ms) SELECT point_id, ?2 FROM series WHERE id = ?1"             \
  " ON CONFLICT(point_id) DO UPDATE SET first_ms = excluded.first_ms WHERE excluded.first_ms < first_ms"

/* Migration 10 (issue #21): the regional hub's copies of the park hubs'
 * alarms (federation/up_rows.c). The park hub's alarm tables
 * (alarms/alarms_sql.h) cannot hold them: alarm_id is unique there, and
 * every park hub numbers its alarms a-<date>-000001 on. up_alarms,
 * up_alarm_occurrences and up_alarm_log have the park hub's columns in its
 * order (the API lists them by name, SELECT *); their ids are the park
 * hub's times 65536 plus the park hub's number in up_senders (migration 11:
 * the number of its outbox epoch, up_sender_nos)
 * (federation/up_rows.c inv. 5), so two park hubs' alarm 1 stay two rows,
 * an occurrence's alarm names the right one, and a listing by id keeps the
 * park hub's order. On a regional hub the API reads them under the park hub's names
 * (temp views, api/api_sql.h API_SQL_REGIONAL_VIEWS). The park hub's
 * triggers on its alarm tables are made after ph_alarms_migrate, which
 * creates those tables (federation/up_outbox.h ph_up_triggers). */
#define STORE_SQL_V10                                                                                      \
  "CREATE TABLE IF NOT EXISTS up_senders(sender TEXT PRIMARY KEY, no INTEGER NOT NULL UNIQUE) WITHOUT ROWID;" \
  "CREATE TABLE IF NOT EXISTS up_alarms(id INTEGER PRIMARY KEY, alarm_id TEXT NOT NULL, park TEXT NOT NULL," \
  " rule TEXT NOT NULL, ent TEXT NOT NULL, point TEXT NOT NULL DEFAULT '', metric TEXT NOT NULL DEFAULT '',"  \
  " severity TEXT NOT NULL, state TEXT NOT NULL, message TEXT NOT NULL, first_ms INTEGER NOT NULL,"          \
  " last_ms INTEGER NOT NULL, count INTEGER NOT NULL, value REAL, peak REAL, acked_by TEXT, acked_ms INTEGER," \
  " note TEXT, raised_ms INTEGER NOT NULL, cleared_ms INTEGER, closed_ms INTEGER,"                          \
  " message_zh TEXT NOT NULL DEFAULT '');"                                                                 \
  "CREATE INDEX IF NOT EXISTS up_alarms_id ON up_alarms(park, alarm_id);"                                  \
  "CREATE INDEX IF NOT EXISTS up_alarms_first ON up_alarms(park, first_ms);"                               \
  "CREATE TABLE IF NOT EXISTS up_alarm_occurrences(id INTEGER PRIMARY KEY, alarm INTEGER NOT NULL,"        \
  " park TEXT NOT NULL, rule TEXT NOT NULL, ent TEXT NOT NULL, point TEXT NOT NULL, metric TEXT NOT NULL,"  \
  " severity TEXT NOT NULL, start_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL, end_ms INTEGER,"          \
  " count INTEGER NOT NULL, value REAL, peak REAL);"                                                       \
  "CREATE INDEX IF NOT EXISTS up_alarm_occurrences_alarm ON up_alarm_occurrences(alarm);"                  \
  "CREATE TABLE IF NOT EXISTS up_alarm_log(id INTEGER PRIMARY KEY, alarm INTEGER NOT NULL,"                \
  " ts_ms INTEGER NOT NULL, transition TEXT NOT NULL, state TEXT NOT NULL, by TEXT, note TEXT);"           \
  "CREATE INDEX IF NOT EXISTS up_alarm_log_alarm ON up_alarm_log(alarm);"

/* Migration 11 (issue #21): agent presence upward, and the senders'
 * numbers per outbox epoch. */
/* up_sender_nos: the number in a copied row id (federation/up_rows.c inv.
 * 5) per (park hub, outbox epoch), not per park hub as up_senders gave it:
 * a park hub's database made anew numbers its alarms from 1 again, and
 * under one number its new alarm 1 would overwrite the copy of the old
 * one. A version-10 regional hub's numbers go to each sender's latest
 * epoch (the one still sending). */
#define STORE_SQL_V11_SENDERS                                                                              \
  "CREATE TABLE IF NOT EXISTS up_sender_nos(sender TEXT NOT NULL, epoch INTEGER NOT NULL,"                  \
  " no INTEGER NOT NULL UNIQUE, PRIMARY KEY(sender, epoch)) WITHOUT ROWID;"                                \
  "INSERT OR IGNORE INTO up_sender_nos(sender, epoch, no) SELECT s.sender, coalesce((SELECT max(st.epoch)"  \
  " FROM up_streams st WHERE st.sender = s.sender), 0), s.no FROM up_senders s;"                           \
  "DROP TABLE IF EXISTS up_senders;"
/* Agent presence upward. The park hub queues an
 * agent's presence (kind agent_status: its agents row with its latest
 * status, keyed by the agent's id) when either changes, and each
 * agent_events row; the regional hub keeps the copies by the agent's
 * natural key (park, ent, agent), since its own agents table is for agents
 * of its own (none: a regional hub runs no agents' ingest). Its API reads
 * them under the park hub's names (temp views, api/api_sql.h
 * API_SQL_REGIONAL_VIEWS). up_agent_events ids are the park hub's times
 * 65536 plus its epoch's number in up_sender_nos, as the alarm copies'. */
#define STORE_SQL_V11                                                                                      \
  STORE_SQL_V11_SENDERS                                                                                    \
  "CREATE TABLE IF NOT EXISTS up_agent_status(id INTEGER PRIMARY KEY, park TEXT NOT NULL, ent TEXT NOT NULL," \
  " agent TEXT NOT NULL, state TEXT, ts_ms INTEGER, outbox_depth INTEGER,"                                 \
  " UNIQUE(park, ent, agent));"                                                                            \
  "CREATE TABLE IF NOT EXISTS up_agent_events(id INTEGER PRIMARY KEY, park TEXT NOT NULL, ent TEXT NOT NULL," \
  " agent TEXT NOT NULL, ts_ms INTEGER NOT NULL, event TEXT NOT NULL, detail TEXT);"                       \
  "CREATE INDEX IF NOT EXISTS up_agent_events_agent ON up_agent_events(park, ent, agent, id);"             \
  /* the alarm listing across parks orders by the time an alarm was raised */                              \
  "CREATE INDEX IF NOT EXISTS up_alarms_raised ON up_alarms(raised_ms, id);"                               \
  UP_TRIG3("status", "agent_status", "VALUES('agent_status', NEW.agent_id, NULL, NULL, NULL)",               \
           "VALUES('agent_status', OLD.agent_id, NULL, NULL, NULL)")                                       \
  /* an agent met before its first status is listed with none, as here */                                  \
  "CREATE TRIGGER IF NOT EXISTS up_agent_ins AFTER INSERT ON agents WHEN EXISTS"                            \
  " (SELECT 1 FROM up_forward WHERE tbl = 'agent_status') BEGIN"                                           \
  " INSERT INTO up_outbox(kind, a) VALUES('agent_status', NEW.id); END;"                                  \
  UP_TRIG3("events", "agent_events", "VALUES('agent_events', NEW.agent_id, NEW.id, NULL, NULL)",            \
           "VALUES('agent_events', OLD.agent_id, OLD.id, NULL, NULL)")

/* Migration 12 (issue #19): month cells above the 8-day blocks
 * (domain/cems_agg_sql.h), built here once from the day rows an older
 * database holds; then kept by ph_cems_update (a park hub) and up_rows.c
 * (a regional hub). A park-month reads one row per series and figure. */
#define STORE_SQL_V12                                                                                      \
  CEMS_AGG_SQL_MONTH_TABLES                                                                                \
  CEMS_AGG_SQL_MON_FILL_ALL ";"                                                                            \
  CEMS_AGG_SQL_DMON_FILL_ALL ";"

#define STORE_SQL_AGENT_GET "SELECT id FROM agents WHERE park = ?1 AND ent = ?2 AND agent = ?3"
#define STORE_SQL_AGENT_ADD "INSERT INTO agents(park, ent, agent) VALUES(?1, ?2, ?3)"
#define STORE_SQL_POINT_GET "SELECT id FROM points WHERE park = ?1 AND ent = ?2 AND point = ?3"
#define STORE_SQL_POINT_ADD "INSERT INTO points(park, ent, point) VALUES(?1, ?2, ?3)"
#define STORE_SQL_METRIC_GET "SELECT id FROM metrics WHERE code = ?1"
#define STORE_SQL_METRIC_ADD "INSERT INTO metrics(code) VALUES(?1)"
#define STORE_SQL_SERIES_GET "SELECT id FROM series WHERE point_id = ?1 AND metric_id = ?2"
#define STORE_SQL_SERIES_ADD "INSERT INTO series(point_id, metric_id) VALUES(?1, ?2)"
#define STORE_SQL_CHUNK                                                                                    \
  "INSERT INTO samples(point_id, ts_min, ts_max, agent_id, epoch, seq, nrecords, nvalues, data)"           \
  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
#define STORE_SQL_MATERIAL                                                                                 \
  "INSERT INTO materials(point_id, ts_ms, material, dir, qty_t, lot, supplier, attrs, agent_id, epoch, seq)" \
  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
#define STORE_SQL_ROLLUP                                                                                   \
  "INSERT INTO rollups(series_id, period, bucket_ms, n, n_valid, sum, sum_valid, min, max, first_ts,"     \
  " first, last_ts, last, expected, n_stop, n_trans)"                                                     \
  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"                         \
  " ON CONFLICT(series_id, period, bucket_ms) DO UPDATE SET n = n + excluded.n,"                          \
  " n_valid = n_valid + excluded.n_valid, sum = sum + excluded.sum,"                                      \
  " sum_valid = sum_valid + excluded.sum_valid, min = min(min, excluded.min),"                            \
  " max = max(max, excluded.max),"                                                                        \
  " first = CASE WHEN excluded.first_ts < first_ts THEN excluded.first ELSE first END,"                   \
  " first_ts = min(first_ts, excluded.first_ts),"                                                         \
  " last = CASE WHEN excluded.last_ts >= last_ts THEN excluded.last ELSE last END,"                       \
  " last_ts = max(last_ts, excluded.last_ts), expected = excluded.expected,"                              \
  " n_stop = n_stop + excluded.n_stop, n_trans = n_trans + excluded.n_trans"
/* An hour rollup row written: that hour must be recomputed (cems.c inv. 2). */
#define STORE_SQL_CEMS_DIRTY "INSERT OR IGNORE INTO cems_dirty(series_id, hour_ms) VALUES(?1, ?2)"
#define STORE_SQL_STREAM_SAVE                                                                              \
  "INSERT INTO streams(agent_id, epoch, upto, first_ms, last_ms, batches, duplicates, data_ms)"           \
  " VALUES(?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7) ON CONFLICT(agent_id, epoch) DO UPDATE SET upto = ?3,"         \
  " last_ms = ?4, batches = batches + ?5, duplicates = duplicates + ?6,"                                   \
  " data_ms = max(coalesce(data_ms, 0), ?7)"
/* Least recently active first: the dedupe keeps the newest epochs of an agent (dedupe.h inv. 5). */
#define STORE_SQL_STREAMS_LOAD "SELECT agent_id, epoch, upto, coalesce(data_ms, 0) FROM streams ORDER BY last_ms, epoch"
#define STORE_SQL_ABOVE_LOAD "SELECT agent_id, epoch, seq FROM seq_above ORDER BY agent_id, epoch, seq"
#define STORE_SQL_STREAM_GET "SELECT agent_id, epoch, upto, coalesce(data_ms, 0) FROM streams WHERE agent_id = ?1 AND epoch = ?2"
#define STORE_SQL_ABOVE_GET "SELECT agent_id, epoch, seq FROM seq_above WHERE agent_id = ?1 AND epoch = ?2 ORDER BY seq"
#define STORE_SQL_ABOVE_ADD "INSERT OR IGNORE INTO seq_above(agent_id, epoch, seq) VALUES(?1, ?2, ?3)"
#define STORE_SQL_ABOVE_TRIM "DELETE FROM seq_above WHERE agent_id = ?1 AND epoch = ?2 AND seq <= ?3"
#define STORE_SQL_GAP                                                                                      \
  "INSERT INTO gaps(agent_id, epoch, from_seq, to_seq, detected_ms, from_ms, to_ms)"                       \
  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
#define STORE_SQL_EVENT "INSERT INTO agent_events(agent_id, ts_ms, event, detail) VALUES(?1, ?2, ?3, ?4)"
#define STORE_SQL_STATUS                                                                                   \
  "INSERT INTO agent_status(agent_id, state, ts_ms, outbox_depth, payload) VALUES(?1, ?2, ?3, ?4, ?5)"    \
  " ON CONFLICT(agent_id) DO UPDATE SET state = ?2, ts_ms = ?3, outbox_depth = ?4, payload = ?5"
#define STORE_SQL_STATUS_GET "SELECT state FROM agent_status WHERE agent_id = ?1"
#define STORE_SQL_REJECT                                                                                   \
  "INSERT INTO rejects(ts_ms, park, topic, agent, epoch, seq, code, reason) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
/* The rejects table's bounds (rejects.h): its rows, the oldest first, by age, all. */
#define STORE_SQL_REJECTS_COUNT "SELECT count(*) FROM rejects"
#define STORE_SQL_REJECTS_TRIM "DELETE FROM rejects WHERE id IN (SELECT id FROM rejects ORDER BY id LIMIT ?1)"
#define STORE_SQL_REJECTS_EXPIRE "DELETE FROM rejects WHERE id IN (SELECT id FROM rejects WHERE ts_ms < ?1 LIMIT ?2)"
#define STORE_SQL_REJECTS_CLEAR "DELETE FROM rejects"
#define STORE_SQL_RETENTION "DELETE FROM samples WHERE id IN (SELECT id FROM samples WHERE ts_min < ?1 LIMIT ?2)"

#endif
