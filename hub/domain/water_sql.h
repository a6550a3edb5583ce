/* water_sql.h — the SQL of water.c (prepared, parameters only). */
#ifndef HUB_WATER_SQL_H
#define HUB_WATER_SQL_H

/* ?1 park ?2 ent ?3 point: the outlet's series */
#define WATER_SQL_SERIES                                                                                     \
  "SELECT m.code, s.id FROM series s JOIN points p ON p.id = s.point_id JOIN metrics m ON m.id = s.metric_id" \
  " WHERE p.park = ?1 AND p.ent = ?2 AND p.point = ?3 ORDER BY m.code"

/* ?1 flow series ?2 from ?3 to: valid flow hours */
#define WATER_SQL_FLOW                                                                                       \
  "SELECT COUNT(*), TOTAL(mean), COUNT(DISTINCT day_ms) FROM cems_hours"                                    \
  " WHERE series_id = ?1 AND valid = 1 AND mean IS NOT NULL AND hour_ms >= ?2 AND hour_ms < ?3"

/* ?1 concentration series ?2 flow series ?3 from ?4 to: load over hours with both valid, and the gaps */
#define WATER_SQL_LOAD                                                                                       \
  "SELECT COUNT(c.mean), TOTAL(c.mean * f.mean), COUNT(*) - COUNT(c.mean),"                                \
  " COUNT(DISTINCT CASE WHEN c.mean IS NOT NULL THEN f.day_ms END) FROM cems_hours f"                \
  " LEFT JOIN cems_hours c ON c.series_id = ?1 AND c.hour_ms = f.hour_ms AND c.valid = 1"                   \
  " AND c.mean IS NOT NULL"                                                                                 \
  " WHERE f.series_id = ?2 AND f.valid = 1 AND f.mean IS NOT NULL AND f.hour_ms >= ?3 AND f.hour_ms < ?4"

/* ?1 series ?2 from ?3 to: valid daily means */
#define WATER_SQL_DAYS                                                                                       \
  "SELECT day_ms, mean FROM cems_days WHERE series_id = ?1 AND valid = 1 AND mean IS NOT NULL"              \
  " AND day_ms >= ?2 AND day_ms < ?3 ORDER BY day_ms"

/* ?1 series ?2 from ?3 to: valid hourly means */
#define WATER_SQL_HOURS                                                                                      \
  "SELECT hour_ms, day_ms, mean FROM cems_hours WHERE series_id = ?1 AND valid = 1 AND mean IS NOT NULL"    \
  " AND hour_ms >= ?2 AND hour_ms < ?3 ORDER BY hour_ms"

#endif
