/* cems_agg_sql.h — the daily CEMS aggregates (table cems_agg_days,
 * migration 6 in store_sql.h): per (series, local day) the figures that the
 * summary and the report would otherwise read hour by hour from
 * cems_hours, so a year is 365 rows per series instead of 8 760.
 *
 * Written where the hours are born: ph_cems_update recomputes the rows of
 * the (series, day) pairs whose hours it just wrote (CEMS_AGG_SQL_KEYS,
 * _DROP, _PUT, in its transaction), and every series of the same point with
 * them (the mass of a concentration needs its point's flow hour). Migration
 * 6 builds them once from the hours an older database holds
 * (CEMS_AGG_SQL_FILL_ALL, in the migration's transaction).
 *
 * Columns (each exactly what compliance.c and emission_mass.c count over
 * that day's hours):
 *   valid, with_limit, within, exceeded   hour counts of COMPLIANCE_SQL_HOURS
 *   worst_ratio, worst_hour, worst_mean,  the day's worst hour as in COMPLIANCE_SQL_HOUR_WORST
 *   worst_limit                           (ratio desc, then the earlier hour); NULL: none with a limit
 *   used, cq                              hours with a valid concentration and a valid flow
 *                                         of the same point, and Σ C × Q over them (MASS_SQL_HOURS)
 * Invariant: a row equals CEMS_AGG_SQL_SELECT over its day's cems_hours at
 * any commit; tests/unit/test_cems_agg.c checks it against a rebuild.
 */
#ifndef PH_CEMS_AGG_SQL_H
#define PH_CEMS_AGG_SQL_H

/* A local day is at most 25 hours long (DST): a day's hours lie in
 * [day_ms, day_ms + 25 h) and carry its day_ms. */
#define CEMS_AGG_DAY_SPAN "90000000"

/* The flow series of series k's point ('flow' is PH_CEMS_FLOW, cems.h). */
#define CEMS_AGG_SQL_FLOW_OF(K)                                                                              \
  "(SELECT sf.id FROM series s0 CROSS JOIN series sf ON sf.point_id = s0.point_id"                          \
  " CROSS JOIN metrics mf ON mf.id = sf.metric_id AND mf.code = 'flow' WHERE s0.id = " K ")"

/* The rows of the keys KEYS (a table expression with series_id, day_ms,
 * flow_id), from cems_hours. */
#define CEMS_AGG_SQL_SELECT(KEYS)                                                                            \
  "INSERT INTO cems_agg_days(series_id, day_ms, valid, with_limit, within, exceeded, worst_ratio,"          \
  " worst_hour, worst_mean, worst_limit, used, cq)"                                                                                   \
  " SELECT k.series_id, k.day_ms, total(h.valid), total(h.valid AND h.limit_value IS NOT NULL),"             \
  " total(h.valid AND h.mean <= h.limit_value), total(h.valid AND h.mean > h.limit_value),"                  \
  " (SELECT w.mean / w.limit_value FROM cems_hours w WHERE w.series_id = k.series_id"                       \
  "  AND w.hour_ms >= k.day_ms AND w.hour_ms < k.day_ms + " CEMS_AGG_DAY_SPAN " AND w.day_ms = k.day_ms"      \
  "  AND w.valid AND w.limit_value IS NOT NULL ORDER BY w.mean / w.limit_value DESC, w.hour_ms LIMIT 1),"    \
  " (SELECT w.hour_ms FROM cems_hours w WHERE w.series_id = k.series_id"                                    \
  "  AND w.hour_ms >= k.day_ms AND w.hour_ms < k.day_ms + " CEMS_AGG_DAY_SPAN " AND w.day_ms = k.day_ms"      \
  "  AND w.valid AND w.limit_value IS NOT NULL ORDER BY w.mean / w.limit_value DESC, w.hour_ms LIMIT 1),"    \
  " (SELECT w.mean FROM cems_hours w WHERE w.series_id = k.series_id"                                       \
  "  AND w.hour_ms >= k.day_ms AND w.hour_ms < k.day_ms + " CEMS_AGG_DAY_SPAN " AND w.day_ms = k.day_ms"      \
  "  AND w.valid AND w.limit_value IS NOT NULL ORDER BY w.mean / w.limit_value DESC, w.hour_ms LIMIT 1),"    \
  " (SELECT w.limit_value FROM cems_hours w WHERE w.series_id = k.series_id"                                \
  "  AND w.hour_ms >= k.day_ms AND w.hour_ms < k.day_ms + " CEMS_AGG_DAY_SPAN " AND w.day_ms = k.day_ms"      \
  "  AND w.valid AND w.limit_value IS NOT NULL ORDER BY w.mean / w.limit_value DESC, w.hour_ms LIMIT 1),"    \
  " total(h.valid AND f.valid), total(CASE WHEN h.valid AND f.valid THEN h.mean * f.mean END)"               \
  " FROM " KEYS " k CROSS JOIN cems_hours h ON h.series_id = k.series_id AND h.hour_ms >= k.day_ms"         \
  "  AND h.hour_ms < k.day_ms + " CEMS_AGG_DAY_SPAN " AND h.day_ms = k.day_ms"                               \
  " LEFT JOIN cems_hours f ON f.series_id = k.flow_id AND f.hour_ms = h.hour_ms"                             \
  " GROUP BY k.series_id, k.day_ms"

#define CEMS_AGG_SQL_TABLE                                                                                   \
  "CREATE TABLE cems_agg_days(series_id INTEGER NOT NULL, day_ms INTEGER NOT NULL,"                         \
  " valid INTEGER NOT NULL, with_limit INTEGER NOT NULL, within INTEGER NOT NULL, exceeded INTEGER NOT NULL," \
  " worst_ratio REAL, worst_hour INTEGER, worst_mean REAL, worst_limit REAL, used INTEGER NOT NULL,"        \
  " cq REAL NOT NULL,"                          \
  " PRIMARY KEY(series_id, day_ms)) WITHOUT ROWID;"

/* Every row again from every hour (migration 6, and the tests' recomputation). */
#define CEMS_AGG_SQL_FILL_ALL                                                                                \
  CEMS_AGG_SQL_SELECT("(SELECT d.series_id, d.day_ms, " CEMS_AGG_SQL_FLOW_OF("d.series_id") " AS flow_id"   \
                      " FROM (SELECT DISTINCT series_id, day_ms FROM cems_hours) d)")

/* ---- ph_cems_update (cems.c), after the hours of temp.cems_t_hour are written ---- */
#define CEMS_AGG_SQL_TEMP                                                                                    \
  "CREATE TEMP TABLE IF NOT EXISTS cems_t_aggkey(series_id INTEGER NOT NULL, day_ms INTEGER NOT NULL,"      \
  " PRIMARY KEY(series_id, day_ms));"                                                                        \
  "DELETE FROM temp.cems_t_aggkey;"
/* The days of the hours done, for every emission series of their points. */
#define CEMS_AGG_SQL_KEYS                                                                                    \
  "INSERT OR IGNORE INTO temp.cems_t_aggkey(series_id, day_ms)"                                             \
  " SELECT DISTINCT s2.id, hm.d0 FROM temp.cems_t_hour w CROSS JOIN series s ON s.id = w.series_id"         \
  " CROSS JOIN temp.cems_t_metric tm ON tm.metric_id = s.metric_id"                                         \
  " CROSS JOIN temp.cems_t_pt p ON p.point_id = s.point_id"                                                 \
  " CROSS JOIN temp.cems_t_hmap hm ON hm.park_idx = p.park_idx AND hm.h0 = w.hour_ms"                       \
  " CROSS JOIN series s2 ON s2.point_id = s.point_id"                                                       \
  " CROSS JOIN temp.cems_t_metric tm2 ON tm2.metric_id = s2.metric_id"
#define CEMS_AGG_SQL_DROP                                                                                    \
  "DELETE FROM cems_agg_days WHERE (series_id, day_ms) IN (SELECT series_id, day_ms FROM temp.cems_t_aggkey)"
#define CEMS_AGG_SQL_PUT                                                                                     \
  CEMS_AGG_SQL_SELECT("(SELECT a.series_id, a.day_ms, " CEMS_AGG_SQL_FLOW_OF("a.series_id") " AS flow_id"   \
                      " FROM temp.cems_t_aggkey a)")

/* ---- readers: ?1 series, ?2 first day, ?3 end (days starting in [?2, ?3)) ---- */
#define CEMS_AGG_SQL_HOURS                                                                                   \
  "SELECT total(valid), total(with_limit), total(within), total(exceeded) FROM cems_agg_days"               \
  " WHERE series_id = ?1 AND day_ms >= ?2 AND day_ms < ?3"
/* ?4 the point's name (the worst period's column 5, as COMPLIANCE_SQL_HOUR_WORST) */
#define CEMS_AGG_SQL_WORST                                                                                   \
  "SELECT worst_ratio, worst_mean, worst_mean, worst_limit, worst_hour, ?4 FROM cems_agg_days"             \
  " WHERE series_id = ?1 AND day_ms >= ?2 AND day_ms < ?3 AND worst_hour IS NOT NULL"                       \
  " ORDER BY worst_ratio DESC, worst_hour LIMIT 1"
#define CEMS_AGG_SQL_MASS                                                                                    \
  "SELECT day_ms, used, cq FROM cems_agg_days WHERE series_id = ?1 AND day_ms >= ?2 AND day_ms < ?3"        \
  " AND used > 0 ORDER BY day_ms"

#endif
