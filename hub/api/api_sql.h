/* api_sql.h — the HTTP API's SQL (api.c, api_query.c, api_series.c). Every
 * statement is a constant prepared once per worker connection; optional
 * filters are "(?n IS NULL OR column = ?n)", never text pasted into SQL.
 * The tables are store_sql.h's (and alarms_sql.h's, when present). */
#ifndef PH_API_SQL_H
#define PH_API_SQL_H

enum api_stmt_id {
  API_ST_BEGIN,
  API_ST_COMMIT,
  API_ST_HAS_ALARMS,
  API_ST_HEALTH,
  API_ST_AGENTS,
  API_ST_POINTS,
  API_ST_SERIES_ID,
  API_ST_ROLLUPS,
  API_ST_CHUNKS,
  API_ST_ENT_METRICS,
  API_ST_METRIC_CODES,
  API_ST_MAT_POINTS,
  API_ST_MATERIALS,
  API_ST_ALARM_COUNTS, /* the three alarm statements are prepared only once the table exists */
  API_ST_ALARMS,
  API_ST_ALARM_GET,
  API_ST_OPEN_ALARMS,
  API_ST_ONLINE,
  API_ST_COUNT
};

#define API_SQL_BEGIN "BEGIN"
#define API_SQL_COMMIT "COMMIT"
#define API_SQL_HAS_ALARMS "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alarms'"
#define API_SQL_HEALTH "SELECT count(*) FROM sqlite_master"

/* ?1 park: every agent the hub has met, with its latest status */
#define API_SQL_AGENTS                                                                                     \
  "SELECT a.ent, a.agent, st.state, st.ts_ms, st.outbox_depth FROM agents a"                               \
  " LEFT JOIN agent_status st ON st.agent_id = a.id WHERE a.park = ?1 ORDER BY a.ent, a.agent"

/* ?1 park, ?2 ent: points, their metrics and the newest minute rollup's last value */
#define API_SQL_POINTS                                                                                     \
  "SELECT p.point, mt.code, r.last_ts, r.last, r.bucket_ms FROM points p"                                  \
  " LEFT JOIN series s ON s.point_id = p.id LEFT JOIN metrics mt ON mt.id = s.metric_id"                   \
  " LEFT JOIN rollups r ON r.series_id = s.id AND r.period = 0 AND r.bucket_ms ="                          \
  "  (SELECT max(x.bucket_ms) FROM rollups x WHERE x.series_id = s.id AND x.period = 0)"                   \
  " WHERE p.park = ?1 AND p.ent = ?2 ORDER BY p.point, mt.code"

/* ?1 park, ?2 ent, ?3 point, ?4 metric → series id, point id, metric id */
#define API_SQL_SERIES_ID                                                                                  \
  "SELECT s.id, p.id, mt.id FROM points p JOIN series s ON s.point_id = p.id"                              \
  " JOIN metrics mt ON mt.id = s.metric_id"                                                                \
  " WHERE p.park = ?1 AND p.ent = ?2 AND p.point = ?3 AND mt.code = ?4"

/* ?1 series, ?2 period (0 minute, 1 hour, 2 day), [?3, ?4), ?5 rows at most */
#define API_SQL_ROLLUPS                                                                                    \
  "SELECT bucket_ms, n, n_valid, sum, min, max FROM rollups"                                               \
  " WHERE series_id = ?1 AND period = ?2 AND bucket_ms >= ?3 AND bucket_ms < ?4 ORDER BY bucket_ms LIMIT ?5"

/* ?1 point; chunks that start in [?2, ?3) and end at or after ?4 (a chunk
 * lies within one UTC hour), in start order */
#define API_SQL_CHUNKS                                                                                     \
  "SELECT id, ts_min, data FROM samples WHERE point_id = ?1 AND ts_min >= ?2 AND ts_min < ?3"              \
  " AND ts_max >= ?4 ORDER BY ts_min, id"

/* ?1 park: (ent, metric id) of every series, an enterprise's together (the
 * (park, ent, point) index's order, no sort); the summary maps the ids to
 * codes (API_SQL_METRIC_CODES) and keeps each pair once (api_summary.c) */
#define API_SQL_ENT_METRICS                                                                                \
  "SELECT p.ent, s.metric_id FROM points p CROSS JOIN series s ON s.point_id = p.id"                       \
  " WHERE p.park = ?1 ORDER BY p.ent"
#define API_SQL_METRIC_CODES "SELECT id, code FROM metrics ORDER BY id"

/* ?1 park: its points, an enterprise's together (the (park, ent, point) index order) */
#define API_SQL_MAT_POINTS "SELECT id, ent FROM points WHERE park = ?1 ORDER BY ent"
/* ?1 point: its material ledger over records [?2, ?3), 8-day blocks [?3, ?4)
 * (material_blocks, migration 7: per block, material and direction the sum
 * and count of its records, kept by a trigger on insert), records [?4, ?5)
 * (ph_cems_agg_blocks_in): a year is ~45 block rows per material instead of
 * a row per record. The summary totals them per (ent, material, dir) itself:
 * a GROUP BY over a year's 73 000 records of 100 enterprises went through a
 * temporary b-tree, 30-45 ms of a 180 ms park-year summary (bench/query). */
#define API_SQL_MATERIALS                                                                                  \
  "SELECT material, dir, qty_t, 1 FROM materials WHERE point_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3"       \
  " UNION ALL SELECT material, dir, qty_t, n FROM material_blocks"                                         \
  " WHERE point_id = ?1 AND blk_ms >= ?3 AND blk_ms < ?4"                                                  \
  " UNION ALL SELECT material, dir, qty_t, 1 FROM materials WHERE point_id = ?1 AND ts_ms >= ?4 AND ts_ms < ?5"

/* ?1 park, [?2, ?3): alarms that were open at some time in the range */
/* /metrics gauges: open alarms per park and severity; agents whose last status says online */
#define API_SQL_OPEN_ALARMS                                                                                \
  "SELECT park, severity, count(*) FROM alarms WHERE state <> 'closed' GROUP BY park, severity"
#define API_SQL_ONLINE                                                                                     \
  "SELECT a.park, count(*) FROM agents a JOIN agent_status st ON st.agent_id = a.id"                       \
  " WHERE st.state = 'online' GROUP BY a.park"

#define API_SQL_ALARM_COUNTS                                                                               \
  "SELECT ent, severity, count(*) FROM alarms WHERE park = ?1 AND first_ms < ?3 AND last_ms >= ?2"         \
  " GROUP BY ent, severity"

/* Columns are read by name (SELECT *), so the table may gain columns.
 * ?2 state ('open': any but closed), ?3 severity, ?4 ent, ?5 from, ?6 to,
 * ?7 cursor (rows below it), ?8 rows at most; newest first. */
#define API_SQL_ALARMS                                                                                     \
  "SELECT id AS api_row, * FROM alarms WHERE park = ?1"                                                    \
  " AND (?2 IS NULL OR state = ?2 OR (?2 = 'open' AND state <> 'closed'))"                                 \
  " AND (?3 IS NULL OR severity = ?3) AND (?4 IS NULL OR ent = ?4)"                                        \
  " AND (?5 IS NULL OR last_ms >= ?5) AND (?6 IS NULL OR first_ms < ?6)"                                   \
  " AND (?7 IS NULL OR id < ?7) ORDER BY id DESC LIMIT ?8"
#define API_SQL_ALARM_GET "SELECT id AS api_row, * FROM alarms WHERE park = ?1 AND alarm_id = ?2"

/* A regional hub's read connections (issue #21): the park hubs' alarms and
 * agent presence it holds (store_sql.h migrations 10 and 11) under the park
 * hub's table names. A temp view shadows main's table of the same name on
 * this connection only, so every alarm and agent statement above is the
 * park hub's own, and the paging key is the id (a view has no rowid; id is
 * the alarms' rowid alias). */
#define API_SQL_REGIONAL_VIEWS                                                                             \
  "CREATE TEMP VIEW IF NOT EXISTS alarms AS SELECT * FROM main.up_alarms;"                                 \
  "CREATE TEMP VIEW IF NOT EXISTS alarm_occurrences AS SELECT * FROM main.up_alarm_occurrences;"           \
  "CREATE TEMP VIEW IF NOT EXISTS alarm_log AS SELECT * FROM main.up_alarm_log;"                          \
  /* agent presence (migration 11): the regional hub's own agents table \
   * holds none (it runs no agents' ingest) */                                   \
  "CREATE TEMP VIEW IF NOT EXISTS agents AS SELECT id, park, ent, agent FROM main.up_agent_status;"         \
  "CREATE TEMP VIEW IF NOT EXISTS agent_status AS SELECT id AS agent_id, state, ts_ms, outbox_depth,"      \
  " NULL AS payload"                                                                                       \
  " FROM main.up_agent_status WHERE state IS NOT NULL;"                                                    \
  "CREATE TEMP VIEW IF NOT EXISTS agent_events AS SELECT e.id, s.id AS agent_id, e.ts_ms, e.event, e.detail" \
  " FROM main.up_agent_events e JOIN main.up_agent_status s ON s.park = e.park AND s.ent = e.ent"            \
  " AND s.agent = e.agent;"

#endif
