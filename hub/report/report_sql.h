/* report_sql.h — the SQL text of the report builder (report_build.c,
 * report_monitoring.c). Read-only statements, bound parameters only
 * (report_json.c inv. 4). */
#ifndef HUB_REPORT_SQL_H
#define HUB_REPORT_SQL_H

/* Metric codes with a series at some point of the enterprise. */
#define REP_SQL_ENT_METRICS                                                                               \
  "SELECT DISTINCT m.code FROM points p JOIN series s ON s.point_id = p.id"                              \
  " JOIN metrics m ON m.id = s.metric_id WHERE p.park = ?1 AND p.ent = ?2"
/* The limits recorded with the enterprise's hourly means of a pollutant in [?4, ?5). */
#define REP_SQL_LIMIT_RANGE                                                                               \
  "SELECT min(h.limit_value), max(h.limit_value) FROM points p JOIN series s ON s.point_id = p.id"       \
  " JOIN metrics m ON m.id = s.metric_id AND m.code = ?3"                                                 \
  " JOIN cems_hours h ON h.series_id = s.id AND h.hour_ms >= ?4 AND h.hour_ms < ?5"                       \
  " WHERE p.park = ?1 AND p.ent = ?2 AND h.limit_value IS NOT NULL"
/* Whether the enterprise has material ledger rows in [?3, ?4). */
#define REP_SQL_LEDGER                                                                                    \
  "SELECT EXISTS(SELECT 1 FROM materials m JOIN points p ON p.id = m.point_id"                           \
  " WHERE p.park = ?1 AND p.ent = ?2 AND m.ts_ms >= ?3 AND m.ts_ms < ?4)"
/* Whether the enterprise has day rollups of a metric in [?4, ?5). */
#define REP_SQL_SUM_DATA                                                                                  \
  "SELECT EXISTS(SELECT 1 FROM points p JOIN series s ON s.point_id = p.id"                              \
  " JOIN metrics m ON m.id = s.metric_id AND m.code = ?3 JOIN rollups r ON r.series_id = s.id"           \
  " AND r.period = 2 AND r.bucket_ms >= ?4 AND r.bucket_ms < ?5 WHERE p.park = ?1 AND p.ent = ?2)"
/* The enterprise's points, in name order (the monitoring period's rows). */
#define REP_SQL_ENT_POINTS "SELECT id, point FROM points WHERE park = ?1 AND ent = ?2 ORDER BY point"

#endif
