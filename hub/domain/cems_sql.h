/* cems_sql.h — the SQL of cems.c, compliance.c and emission_mass.c. The
 * tables are migration 2 (store_sql.h); the temp tables below are per
 * connection scratch space of one ph_cems_update call:
 *   cems_t_metric   emission metrics (conc: a concentration, converted)
 *   cems_t_product  material codes that count as product, per park (materials.h decides)
 *   cems_t_ent      configured enterprises met in this call (ent_key = park_idx × PH_HUB_MAX_ENTS + ent_idx)
 *   cems_t_pt       their points, with how their values are averaged (kind)
 *   cems_t_hour     the closed dirty (series, hour) pairs done in this call
 *   cems_t_hmap     local hour → its end and its local day, per park
 *   cems_t_lim      limit per enterprise, local day and metric
 *   cems_t_day      the closed dirty enterprise-days done in this call (ent_key -1: not configured, only dropped)
 */
/* Join order: CROSS JOIN pins it (SQLite never reorders around one), so the
 * small work tables always drive and rollups / cems_hours / exceedances are
 * only ever reached through their primary keys, whatever the statistics. */
#ifndef PH_CEMS_SQL_H
#define PH_CEMS_SQL_H

#define CEMS_SQL_TEMP                                                                                        \
  "CREATE TEMP TABLE IF NOT EXISTS cems_t_metric(metric_id INTEGER PRIMARY KEY, conc INTEGER NOT NULL);"     \
  "CREATE TEMP TABLE IF NOT EXISTS cems_t_product(park TEXT NOT NULL, code TEXT NOT NULL,"                  \
  " PRIMARY KEY(park, code));"                                                                               \
  "CREATE TEMP TABLE IF NOT EXISTS cems_t_ent(ent_key INTEGER PRIMARY KEY, standard TEXT NOT NULL);"         \
  "CREATE TEMP TABLE IF NOT EXISTS cems_t_pt(point_id INTEGER PRIMARY KEY, ent_key INTEGER NOT NULL,"        \
  " park_idx INTEGER NOT NULL, kind INTEGER NOT NULL);"                                                      \
  "CREATE INDEX IF NOT EXISTS temp.cems_t_pt_ent ON cems_t_pt(ent_key);"                                     \
  "CREATE TEMP TABLE IF NOT EXISTS cems_t_hour(series_id INTEGER NOT NULL, hour_ms INTEGER NOT NULL,"        \
  " PRIMARY KEY(series_id, hour_ms));"                                                                       \
  "CREATE TEMP TABLE IF NOT EXISTS cems_t_hmap(park_idx INTEGER NOT NULL, h0 INTEGER NOT NULL,"             \
  " h1 INTEGER NOT NULL, d0 INTEGER NOT NULL, PRIMARY KEY(park_idx, h0));"                                   \
  "CREATE TEMP TABLE IF NOT EXISTS cems_t_lim(ent_key INTEGER NOT NULL, d0 INTEGER NOT NULL,"               \
  " code TEXT NOT NULL, limit_value REAL NOT NULL, PRIMARY KEY(ent_key, d0, code));"                         \
  "CREATE TEMP TABLE IF NOT EXISTS cems_t_day(park TEXT NOT NULL, ent TEXT NOT NULL, d0 INTEGER NOT NULL,"   \
  " d1 INTEGER NOT NULL, ent_key INTEGER NOT NULL, bench REAL NOT NULL, standard TEXT NOT NULL,"             \
  " flow_nm3 REAL, product_t REAL, ratio REAL, PRIMARY KEY(park, ent, d0));"                                 \
  "DELETE FROM temp.cems_t_metric; DELETE FROM temp.cems_t_product; DELETE FROM temp.cems_t_ent;"            \
  "DELETE FROM temp.cems_t_pt; DELETE FROM temp.cems_t_hour; DELETE FROM temp.cems_t_hmap;"                  \
  "DELETE FROM temp.cems_t_lim; DELETE FROM temp.cems_t_day;"

/* ---- ph_cems_update, in the order it runs ---- */
#define CEMS_SQL_METRICS "SELECT id, code FROM metrics"
#define CEMS_SQL_METRIC_ADD "INSERT INTO temp.cems_t_metric(metric_id, conc) VALUES(?1, ?2)"
#define CEMS_SQL_PRODUCT_ADD "INSERT OR IGNORE INTO temp.cems_t_product(park, code) VALUES(?1, ?2)"

#define CEMS_SQL_MAT_DIRTY                                                                                   \
  "SELECT p.park, p.ent, m.ts_ms FROM cems_dirty_materials m JOIN points p ON p.id = m.point_id"
#define CEMS_SQL_MAT_CLEAR "DELETE FROM cems_dirty_materials"
#define CEMS_SQL_DAY_DIRTY "INSERT OR IGNORE INTO cems_dirty_days(park, ent, day_ms) VALUES(?1, ?2, ?3)"

/* ?1 last closed hour start, ?2 bound */
#define CEMS_SQL_WORK_HOURS                                                                                  \
  "INSERT INTO temp.cems_t_hour(series_id, hour_ms) SELECT series_id, hour_ms FROM cems_dirty"              \
  " WHERE hour_ms <= ?1 ORDER BY hour_ms LIMIT ?2"
#define CEMS_SQL_WORK_POINTS                                                                                 \
  "SELECT DISTINCT p.id, p.park, p.ent, p.point FROM temp.cems_t_hour w JOIN series s ON s.id = w.series_id" \
  " JOIN points p ON p.id = s.point_id"
#define CEMS_SQL_ENT_POINTS "SELECT id, park, ent, point FROM points WHERE park = ?1 AND ent = ?2"
#define CEMS_SQL_PT_ADD                                                                                      \
  "INSERT OR IGNORE INTO temp.cems_t_pt(point_id, ent_key, park_idx, kind) VALUES(?1, ?2, ?3, ?4)"
#define CEMS_SQL_ENT_ADD "INSERT OR IGNORE INTO temp.cems_t_ent(ent_key, standard) VALUES(?1, ?2)"
#define CEMS_SQL_HMAP_NEED                                                                                   \
  "SELECT DISTINCT p.park_idx, w.hour_ms FROM temp.cems_t_hour w JOIN series s ON s.id = w.series_id"       \
  " JOIN temp.cems_t_pt p ON p.point_id = s.point_id"
#define CEMS_SQL_HMAP_ADD "INSERT OR IGNORE INTO temp.cems_t_hmap(park_idx, h0, h1, d0) VALUES(?1, ?2, ?3, ?4)"
#define CEMS_SQL_LIM_NEED                                                                                    \
  "SELECT DISTINCT p.ent_key, h.d0 FROM temp.cems_t_hour w JOIN series s ON s.id = w.series_id"             \
  " JOIN temp.cems_t_pt p ON p.point_id = s.point_id"                                                       \
  " JOIN temp.cems_t_hmap h ON h.park_idx = p.park_idx AND h.h0 = w.hour_ms"
#define CEMS_SQL_LIM_ADD "INSERT OR IGNORE INTO temp.cems_t_lim(ent_key, d0, code, limit_value) VALUES(?1, ?2, ?3, ?4)"

/* Hours from minute rollups (samples and minute data). The minute rule is
 * in the join: n_valid ≥ max(1, min(12, ⌊expected⌋)). */
#define CEMS_SQL_HOURS_FROM_MINUTES                                                                          \
  "INSERT OR REPLACE INTO cems_hours(series_id, hour_ms, day_ms, kind, valid_minutes, mean, valid, limit_value)" \
  " SELECT w.series_id, w.hour_ms, hm.d0, p.kind, count(m.bucket_ms), avg(m.sum_valid / m.n_valid),"        \
  "  count(m.bucket_ms) >= ?1, l.limit_value"                                                                \
  " FROM temp.cems_t_hour w CROSS JOIN series s ON s.id = w.series_id"                                       \
  " CROSS JOIN temp.cems_t_metric tm ON tm.metric_id = s.metric_id CROSS JOIN metrics mt ON mt.id = s.metric_id" \
  " CROSS JOIN temp.cems_t_pt p ON p.point_id = s.point_id AND p.kind < 2"                                   \
  " CROSS JOIN temp.cems_t_hmap hm ON hm.park_idx = p.park_idx AND hm.h0 = w.hour_ms"                        \
  " LEFT JOIN rollups m ON m.series_id = w.series_id AND m.period = 0 AND m.bucket_ms >= hm.h0"             \
  "  AND m.bucket_ms < hm.h1 AND m.n_valid > 0 AND m.n_valid >= max(1, min(?2, CAST(m.expected + 1e-9 AS INTEGER)))" \
  " LEFT JOIN temp.cems_t_lim l ON l.ent_key = p.ent_key AND l.d0 = hm.d0 AND l.code = mt.code"              \
  " GROUP BY w.series_id, w.hour_ms"
/* Hours of hourly data: the hour rollup itself. */
#define CEMS_SQL_HOURS_FROM_HOURLY                                                                           \
  "INSERT OR REPLACE INTO cems_hours(series_id, hour_ms, day_ms, kind, valid_minutes, mean, valid, limit_value)" \
  " SELECT w.series_id, w.hour_ms, hm.d0, 2, 0, CASE WHEN r.n_valid > 0 THEN r.sum_valid / r.n_valid END,"   \
  "  coalesce(r.n_valid > 0, 0), l.limit_value"                                                              \
  " FROM temp.cems_t_hour w CROSS JOIN series s ON s.id = w.series_id"                                       \
  " CROSS JOIN temp.cems_t_metric tm ON tm.metric_id = s.metric_id CROSS JOIN metrics mt ON mt.id = s.metric_id" \
  " CROSS JOIN temp.cems_t_pt p ON p.point_id = s.point_id AND p.kind = 2"                                   \
  " CROSS JOIN temp.cems_t_hmap hm ON hm.park_idx = p.park_idx AND hm.h0 = w.hour_ms"                        \
  " LEFT JOIN rollups r ON r.series_id = w.series_id AND r.period = 1 AND r.bucket_ms = w.hour_ms"           \
  " LEFT JOIN temp.cems_t_lim l ON l.ent_key = p.ent_key AND l.d0 = hm.d0 AND l.code = mt.code"
/* Operating state of each point-hour done (migration 4): from all of the
 * point's hour rollups, whatever the metric. ?1 unused. */
#define CEMS_SQL_OP_POINTS                                                                                   \
  "INSERT OR REPLACE INTO cems_op_hours(point_id, hour_ms, day_ms, op)"                                      \
  " SELECT k.pid, k.hour_ms, hm.d0, CASE WHEN 2 * total(r.n_stop) > total(r.n) THEN 1"                        \
  "  WHEN total(r.n_trans) > 0 THEN 2 ELSE 0 END"                                                            \
  " FROM (SELECT DISTINCT s0.point_id AS pid, w.hour_ms AS hour_ms FROM temp.cems_t_hour w"                 \
  "  JOIN series s0 ON s0.id = w.series_id) k"                                                               \
  " CROSS JOIN temp.cems_t_pt p ON p.point_id = k.pid"                                                       \
  " CROSS JOIN temp.cems_t_hmap hm ON hm.park_idx = p.park_idx AND hm.h0 = k.hour_ms"                        \
  " CROSS JOIN series s ON s.point_id = k.pid"                                                               \
  " CROSS JOIN rollups r ON r.series_id = s.id AND r.period = 1 AND r.bucket_ms = k.hour_ms"                 \
  " GROUP BY k.pid, k.hour_ms"
/* The enterprise's state in each hour done, from its process points (no
 * emission series): stopped when every one that sent data was stopped. */
#define CEMS_SQL_OP_ENTS                                                                                     \
  "INSERT OR REPLACE INTO cems_ent_op_hours(park, ent, hour_ms, day_ms, op)"                                 \
  " SELECT k.park, k.ent, k.hour_ms, k.d0, CASE WHEN min(o.op = 1) THEN 1 WHEN max(o.op = 2) THEN 2 ELSE 0 END" \
  " FROM (SELECT DISTINCT pt.park AS park, pt.ent AS ent, w.hour_ms AS hour_ms, hm.d0 AS d0"                 \
  "  FROM temp.cems_t_hour w JOIN series s ON s.id = w.series_id JOIN points pt ON pt.id = s.point_id"       \
  "  JOIN temp.cems_t_pt p ON p.point_id = pt.id"                                                           \
  "  JOIN temp.cems_t_hmap hm ON hm.park_idx = p.park_idx AND hm.h0 = w.hour_ms) k"                         \
  " CROSS JOIN points pp ON pp.park = k.park AND pp.ent = k.ent"                                             \
  " CROSS JOIN cems_op_hours o ON o.point_id = pp.id AND o.hour_ms = k.hour_ms"                              \
  " WHERE NOT EXISTS (SELECT 1 FROM series se JOIN temp.cems_t_metric tm ON tm.metric_id = se.metric_id"     \
  "  WHERE se.point_id = pp.id)"                                                                             \
  " GROUP BY k.park, k.ent, k.hour_ms"
/* The days of the hours done become dirty (processed once they close). */
#define CEMS_SQL_DAYS_OF_HOURS                                                                               \
  "INSERT OR IGNORE INTO cems_dirty_days(park, ent, day_ms)"                                                 \
  " SELECT DISTINCT pt.park, pt.ent, hm.d0 FROM temp.cems_t_hour w JOIN series s ON s.id = w.series_id"     \
  " JOIN temp.cems_t_metric tm ON tm.metric_id = s.metric_id"                                                \
  " JOIN points pt ON pt.id = s.point_id JOIN temp.cems_t_pt p ON p.point_id = s.point_id"                  \
  " JOIN temp.cems_t_hmap hm ON hm.park_idx = p.park_idx AND hm.h0 = w.hour_ms"
#define CEMS_SQL_HOUR_EXC_DROP                                                                               \
  "DELETE FROM exceedances WHERE id IN (SELECT e.id FROM temp.cems_t_hour w CROSS JOIN exceedances e"       \
  " ON e.series_id = w.series_id AND e.period = 1 AND e.bucket_ms = w.hour_ms LEFT JOIN cems_hours h"       \
  " ON h.series_id = w.series_id AND h.hour_ms = w.hour_ms"                                                  \
  " WHERE coalesce(h.valid AND h.mean > h.limit_value, 0) = 0)"
#define CEMS_SQL_HOUR_EXC_PUT                                                                                \
  "INSERT INTO exceedances(series_id, period, bucket_ms, mean, converted, ratio, limit_value, standard, recorded_ms)" \
  " SELECT h.series_id, 1, h.hour_ms, h.mean, h.mean, NULL, h.limit_value, e.standard, ?1"                  \
  " FROM temp.cems_t_hour w CROSS JOIN cems_hours h ON h.series_id = w.series_id AND h.hour_ms = w.hour_ms" \
  " CROSS JOIN series s ON s.id = h.series_id CROSS JOIN temp.cems_t_pt p ON p.point_id = s.point_id"       \
  " CROSS JOIN temp.cems_t_ent e ON e.ent_key = p.ent_key"                                                   \
  " WHERE h.valid AND h.mean > h.limit_value"                                                                \
  " ON CONFLICT(series_id, period, bucket_ms) DO UPDATE SET mean = excluded.mean,"                           \
  " converted = excluded.converted, ratio = excluded.ratio, limit_value = excluded.limit_value,"             \
  " standard = excluded.standard"
#define CEMS_SQL_HOURS_DONE                                                                                  \
  "DELETE FROM cems_dirty WHERE (series_id, hour_ms) IN (SELECT series_id, hour_ms FROM temp.cems_t_hour)"

#define CEMS_SQL_DIRTY_DAYS "SELECT park, ent, day_ms FROM cems_dirty_days"
#define CEMS_SQL_DAY_ADD                                                                                     \
  "INSERT OR IGNORE INTO temp.cems_t_day(park, ent, d0, d1, ent_key, bench, standard)"                      \
  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
/* Q_total: the enterprise's valid hourly flow means × 1 h; product: its
 * outgoing product that local day. ?1 = the flow metric's code. */
#define CEMS_SQL_DAY_INPUTS                                                                                  \
  "UPDATE temp.cems_t_day SET flow_nm3 = (SELECT total(h.mean) FROM points pt"                               \
  "  JOIN series s ON s.point_id = pt.id JOIN metrics mt ON mt.id = s.metric_id AND mt.code = ?1"           \
  "  JOIN cems_hours h ON h.series_id = s.id AND h.hour_ms >= cems_t_day.d0 AND h.hour_ms < cems_t_day.d1"  \
  "  AND h.valid WHERE pt.park = cems_t_day.park AND pt.ent = cems_t_day.ent),"                             \
  " product_t = (SELECT total(m.qty_t) FROM points pt JOIN materials m ON m.point_id = pt.id"                \
  "  AND m.ts_ms >= cems_t_day.d0 AND m.ts_ms < cems_t_day.d1 AND m.dir = 'out'"                             \
  "  JOIN temp.cems_t_product pr ON pr.park = cems_t_day.park AND pr.code = m.material"                      \
  "  WHERE pt.park = cems_t_day.park AND pt.ent = cems_t_day.ent)"                                           \
  " WHERE ent_key >= 0"
#define CEMS_SQL_DAY_RATIO                                                                                   \
  "UPDATE temp.cems_t_day SET ratio = CASE WHEN bench > 0 AND product_t > 0"                                 \
  " THEN flow_nm3 / (product_t * bench) END WHERE ent_key >= 0"
#define CEMS_SQL_ENT_DAYS_PUT                                                                                \
  "INSERT OR REPLACE INTO cems_ent_days(park, ent, day_ms, flow_nm3, product_t, benchmark, ratio)"          \
  " SELECT park, ent, d0, flow_nm3, product_t, bench, ratio FROM temp.cems_t_day WHERE ent_key >= 0"
#define CEMS_SQL_DAYS_PUT                                                                                    \
  "INSERT OR REPLACE INTO cems_days(series_id, day_ms, valid_hours, mean, valid, ratio, converted, limit_value)" \
  " SELECT s.id, d.d0, sum(h.valid), avg(CASE WHEN h.valid THEN h.mean END), sum(h.valid) >= ?1, d.ratio,"  \
  "  CASE WHEN tm.conc AND d.ratio > 1 THEN d.ratio * avg(CASE WHEN h.valid THEN h.mean END)"               \
  "   ELSE avg(CASE WHEN h.valid THEN h.mean END) END, l.limit_value"                                        \
  " FROM temp.cems_t_day d CROSS JOIN temp.cems_t_pt p ON p.ent_key = d.ent_key"                             \
  " CROSS JOIN series s ON s.point_id = p.point_id CROSS JOIN temp.cems_t_metric tm ON tm.metric_id = s.metric_id" \
  " CROSS JOIN metrics mt ON mt.id = s.metric_id"                                                            \
  " CROSS JOIN cems_hours h ON h.series_id = s.id AND h.hour_ms >= d.d0 AND h.hour_ms < d.d1"                 \
  " LEFT JOIN temp.cems_t_lim l ON l.ent_key = d.ent_key AND l.d0 = d.d0 AND l.code = mt.code"               \
  " WHERE d.ent_key >= 0 GROUP BY s.id, d.d0"
#define CEMS_SQL_DAY_EXC_DROP                                                                                \
  "DELETE FROM exceedances WHERE id IN (SELECT e.id FROM temp.cems_t_day d"                                  \
  " CROSS JOIN temp.cems_t_pt p ON p.ent_key = d.ent_key CROSS JOIN series s ON s.point_id = p.point_id"    \
  " CROSS JOIN exceedances e ON e.series_id = s.id AND e.period = 2 AND e.bucket_ms = d.d0"                        \
  " LEFT JOIN cems_days c ON c.series_id = s.id AND c.day_ms = d.d0"                                         \
  " WHERE d.ent_key >= 0 AND coalesce(c.valid AND c.converted > c.limit_value, 0) = 0)"
#define CEMS_SQL_DAY_EXC_PUT                                                                                 \
  "INSERT INTO exceedances(series_id, period, bucket_ms, mean, converted, ratio, limit_value, standard, recorded_ms)" \
  " SELECT c.series_id, 2, c.day_ms, c.mean, c.converted, c.ratio, c.limit_value, d.standard, ?1"           \
  " FROM temp.cems_t_day d CROSS JOIN temp.cems_t_pt p ON p.ent_key = d.ent_key"                             \
  " CROSS JOIN series s ON s.point_id = p.point_id"                                                          \
  " CROSS JOIN cems_days c ON c.series_id = s.id AND c.day_ms = d.d0"                                        \
  " WHERE d.ent_key >= 0 AND c.valid AND c.converted > c.limit_value"                                        \
  " ON CONFLICT(series_id, period, bucket_ms) DO UPDATE SET mean = excluded.mean,"                           \
  " converted = excluded.converted, ratio = excluded.ratio, limit_value = excluded.limit_value,"             \
  " standard = excluded.standard"
#define CEMS_SQL_DAYS_DONE                                                                                   \
  "DELETE FROM cems_dirty_days WHERE (park, ent, day_ms) IN (SELECT park, ent, d0 FROM temp.cems_t_day)"

#define CEMS_SQL_PENDING_HOUR "SELECT min(hour_ms) FROM cems_dirty WHERE hour_ms <= ?1"
#define CEMS_SQL_PENDING_DAY "SELECT min(day_ms) FROM cems_dirty_days WHERE day_ms <= ?1"
#define CEMS_SQL_STATE_PUT "INSERT OR REPLACE INTO cems_state(id, run_ms, closed_ms) VALUES(1, ?1, ?2)"
#define CEMS_SQL_STATE_GET "SELECT closed_ms FROM cems_state WHERE id = 1"
#define CEMS_SQL_INVALIDATE                                                                                  \
  "INSERT INTO cems_dirty(series_id, hour_ms) SELECT r.series_id, r.bucket_ms FROM series s"                 \
  " CROSS JOIN rollups r ON r.series_id = s.id AND r.period = 1 AND r.bucket_ms >= ?1 AND r.bucket_ms < ?2"    \
  " WHERE NOT EXISTS"                                                                                        \
  " (SELECT 1 FROM cems_dirty d WHERE d.series_id = r.series_id AND d.hour_ms = r.bucket_ms)"

/* ---- compliance.c ---- ?1 park, ?2 ent or NULL, ?3 point or NULL, ?4 metric, ?5 from, ?6 to */
#define CEMS_SQL_SEL_SERIES                                                                                  \
  " FROM points p JOIN series s ON s.point_id = p.id JOIN metrics mt ON mt.id = s.metric_id AND mt.code = ?4" \
  " WHERE p.park = ?1 AND (?2 IS NULL OR p.ent = ?2) AND (?3 IS NULL OR p.point = ?3)"
#define COMPLIANCE_SQL_POINTS "SELECT p.id, p.ent, p.point, s.id" CEMS_SQL_SEL_SERIES " ORDER BY p.ent, p.point"
/* The same for one enterprise (?2 not NULL): "?2 IS NULL OR p.ent = ?2" keeps
 * SQLite from using the (park, ent, point) index, so every call read every
 * point of the park — 400 calls in a park summary (perf, bench/query). */
#define CEMS_SQL_SEL_ENT_SERIES                                                                              \
  " FROM points p JOIN series s ON s.point_id = p.id JOIN metrics mt ON mt.id = s.metric_id AND mt.code = ?4" \
  " WHERE p.park = ?1 AND p.ent = ?2 AND (?3 IS NULL OR p.point = ?3)"
#define COMPLIANCE_SQL_POINTS_ENT "SELECT p.id, p.ent, p.point, s.id" CEMS_SQL_SEL_ENT_SERIES " ORDER BY p.ent, p.point"
/* The per-period statements below are asked per point (?2 and ?3 set):
 * they name it outright for the same reason. */
#define COMPLIANCE_SQL_HOURS                                                                                 \
  "SELECT total(h.valid), total(h.valid AND h.limit_value IS NOT NULL),"                                     \
  " total(h.valid AND h.mean <= h.limit_value), total(h.valid AND h.mean > h.limit_value)"                   \
  " FROM points p JOIN series s ON s.point_id = p.id JOIN metrics mt ON mt.id = s.metric_id AND mt.code = ?4" \
  " JOIN cems_hours h ON h.series_id = s.id AND h.hour_ms >= ?5 AND h.hour_ms < ?6"                          \
  " WHERE p.park = ?1 AND p.ent = ?2 AND p.point = ?3"
#define COMPLIANCE_SQL_HOUR_WORST                                                                            \
  "SELECT h.mean / h.limit_value, h.mean, h.mean, h.limit_value, h.hour_ms, p.point"                         \
  " FROM points p JOIN series s ON s.point_id = p.id JOIN metrics mt ON mt.id = s.metric_id AND mt.code = ?4" \
  " JOIN cems_hours h ON h.series_id = s.id AND h.hour_ms >= ?5 AND h.hour_ms < ?6"                          \
  " WHERE p.park = ?1 AND p.ent = ?2 AND p.point = ?3"                      \
  " AND h.valid AND h.limit_value IS NOT NULL ORDER BY h.mean / h.limit_value DESC, h.hour_ms LIMIT 1"
#define COMPLIANCE_SQL_DAYS                                                                                  \
  "SELECT total(c.valid), total(c.valid AND c.limit_value IS NOT NULL),"                                     \
  " total(c.valid AND c.converted <= c.limit_value), total(c.valid AND c.converted > c.limit_value)"         \
  " FROM points p JOIN series s ON s.point_id = p.id JOIN metrics mt ON mt.id = s.metric_id AND mt.code = ?4" \
  " JOIN cems_days c ON c.series_id = s.id AND c.day_ms >= ?5 AND c.day_ms < ?6"                             \
  " WHERE p.park = ?1 AND p.ent = ?2 AND p.point = ?3"
#define COMPLIANCE_SQL_DAY_WORST                                                                             \
  "SELECT c.converted / c.limit_value, c.mean, c.converted, c.limit_value, c.day_ms, p.point"                \
  " FROM points p JOIN series s ON s.point_id = p.id JOIN metrics mt ON mt.id = s.metric_id AND mt.code = ?4" \
  " JOIN cems_days c ON c.series_id = s.id AND c.day_ms >= ?5 AND c.day_ms < ?6"                             \
  " WHERE p.park = ?1 AND p.ent = ?2 AND p.point = ?3"                      \
  " AND c.valid AND c.limit_value IS NOT NULL ORDER BY c.converted / c.limit_value DESC, c.day_ms LIMIT 1"
/* ?1 park, ?2 ent or NULL, ?3 metric or NULL, ?4 from, ?5 to */
#define COMPLIANCE_SQL_EXCEEDANCES                                                                           \
  "SELECT e.id, p.park, p.ent, p.point, mt.code, e.period, e.bucket_ms, e.mean, e.converted, e.ratio,"       \
  " e.limit_value, e.standard, e.recorded_ms FROM points p JOIN series s ON s.point_id = p.id"              \
  " JOIN metrics mt ON mt.id = s.metric_id JOIN exceedances e ON e.series_id = s.id"                        \
  " WHERE p.park = ?1 AND (?2 IS NULL OR p.ent = ?2) AND (?3 IS NULL OR mt.code = ?3)"                      \
  " AND e.bucket_ms >= ?4 AND e.bucket_ms < ?5 ORDER BY e.bucket_ms, e.period, p.ent, p.point, mt.code"

/* ---- emission_mass.c ---- ?1 park, ?2 ent or NULL, ?3 metric, ?4 from, ?5 to, ?6 flow code */
#define MASS_SQL_POINTS                                                                                      \
  "SELECT p.id, p.ent, p.point, s.id FROM points p JOIN series s ON s.point_id = p.id"                      \
  " JOIN metrics mt ON mt.id = s.metric_id AND mt.code = ?3 WHERE p.park = ?1 AND (?2 IS NULL OR p.ent = ?2)" \
  " ORDER BY p.ent, p.point"
#define MASS_SQL_POINTS_ENT                                                                                  \
  "SELECT p.id, p.ent, p.point, s.id FROM points p JOIN series s ON s.point_id = p.id"                      \
  " JOIN metrics mt ON mt.id = s.metric_id AND mt.code = ?3 WHERE p.park = ?1 AND p.ent = ?2"               \
  " ORDER BY p.ent, p.point"
/* One point's hours with a valid C and a valid Q: ?1 point id, ?2 metric, ?3 flow code, ?4 from, ?5 to */
#define MASS_SQL_HOURS                                                                                       \
  "SELECT c.hour_ms, c.mean * f.mean FROM series sc JOIN metrics mc ON mc.id = sc.metric_id AND mc.code = ?2" \
  " JOIN series sf ON sf.point_id = sc.point_id JOIN metrics mf ON mf.id = sf.metric_id AND mf.code = ?3"    \
  " JOIN cems_hours c ON c.series_id = sc.id AND c.hour_ms >= ?4 AND c.hour_ms < ?5 AND c.valid"             \
  " JOIN cems_hours f ON f.series_id = sf.id AND f.hour_ms = c.hour_ms AND f.valid"                          \
  " WHERE sc.point_id = ?1 ORDER BY c.hour_ms"

#endif
