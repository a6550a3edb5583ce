/* api_cems_sql.h — the SQL of api_cems.c: the CEMS hourly and daily means
 * (cems_hours, cems_days, cems_ent_days of store_sql.h's migration 2, as
 * ph_cems_update wrote them) in pages. The exceedance list is
 * ph_compliance_exceedances' own query (cems_sql.h).
 *
 * Both statements bind alike:
 *   ?1 park, ?2 ent or NULL, ?3 point or NULL, ?4 metric code or NULL,
 *   [?5, ?6) the hour / day start,
 *   ?7 which rows: 0 all, 1 valid, 2 exceeded,
 *   (?8, ?9, ?10, ?11) the first (ent, point, metric, start) to give: the
 *   page's cursor, ('', '', '', ?5) for the first page (?8 = the ent filter
 *   when there is one, so the points index seeks to it).
 * Rows come one series after another, in time order within a series:
 * ORDER BY ent, point, metric, start — a total order (a series is one
 * (park, ent, point, metric)), so the keyset cursor resumes exactly.
 * CROSS JOIN pins the join order: points by their (park, ent, point) index,
 * then series, then the means through their primary keys.
 *
 * exceeded is the very expression compliance.c counts and cems.c records as
 * an exceedance: hours valid AND mean > limit, days valid AND converted >
 * limit (a NULL limit: none in force, never exceeded).
 */
#ifndef PH_API_CEMS_SQL_H
#define PH_API_CEMS_SQL_H

#define API_CEMS_SQL_WHERE                                                                                 \
  " WHERE p.park = ?1 AND (?2 IS NULL OR p.ent = ?2) AND (?3 IS NULL OR p.point = ?3)"                    \
  " AND (?4 IS NULL OR mt.code = ?4) AND p.ent >= ?8"

#define API_CEMS_SQL_HOURS                                                                                 \
  "SELECT p.ent, p.point, mt.code, h.hour_ms, h.kind, h.valid_minutes, h.valid, h.mean, h.limit_value,"   \
  " coalesce(h.valid AND h.mean > h.limit_value, 0) AS exceeded"                                          \
  " FROM points p CROSS JOIN series s ON s.point_id = p.id CROSS JOIN metrics mt ON mt.id = s.metric_id" \
  " CROSS JOIN cems_hours h ON h.series_id = s.id AND h.hour_ms >= ?5 AND h.hour_ms < ?6"                \
  API_CEMS_SQL_WHERE                                                                                       \
  " AND (p.ent, p.point, mt.code, h.hour_ms) >= (?8, ?9, ?10, ?11)"                                       \
  " AND (?7 = 0 OR (?7 = 1 AND h.valid) OR (?7 = 2 AND coalesce(h.valid AND h.mean > h.limit_value, 0)))" \
  " ORDER BY p.ent, p.point, mt.code, h.hour_ms"

/* the enterprise-day's conversion inputs come with each day (LEFT JOIN:
 * a day is shown even if its enterprise-day row were missing) */
#define API_CEMS_SQL_DAYS                                                                                  \
  "SELECT p.ent, p.point, mt.code, c.day_ms, c.valid_hours, c.valid, c.mean, c.ratio, c.converted,"       \
  " c.limit_value, coalesce(c.valid AND c.converted > c.limit_value, 0) AS exceeded,"                     \
  " d.flow_nm3, d.product_t, d.benchmark"                                                                  \
  " FROM points p CROSS JOIN series s ON s.point_id = p.id CROSS JOIN metrics mt ON mt.id = s.metric_id" \
  " CROSS JOIN cems_days c ON c.series_id = s.id AND c.day_ms >= ?5 AND c.day_ms < ?6"                   \
  " LEFT JOIN cems_ent_days d ON d.park = p.park AND d.ent = p.ent AND d.day_ms = c.day_ms"               \
  API_CEMS_SQL_WHERE                                                                                       \
  " AND (p.ent, p.point, mt.code, c.day_ms) >= (?8, ?9, ?10, ?11)"                                        \
  " AND (?7 = 0 OR (?7 = 1 AND c.valid) OR (?7 = 2 AND coalesce(c.valid AND c.converted > c.limit_value, 0)))" \
  " ORDER BY p.ent, p.point, mt.code, c.day_ms"

#endif
