/* indicators_sql.h — the SQL of indicators.c (indicators.h). */
#ifndef PH_INDICATORS_SQL_H
#define PH_INDICATORS_SQL_H

/* The ledger of one enterprise over [?3, ?4), per material and direction:
 * Σ qty_t, lots, and of the lots whose assay at JSON path ?5 ("$.cu_pct")
 * is a JSON number within ?6..?7 (percent): Σ qty_t, Σ metal t, how many;
 * how many lots carry that key with anything else (ignored). attrs that are
 * not JSON (the decoder never stores such) count as having no assay. */
#define IND_SQL_MATERIALS                                                                                 \
  "SELECT material, dir, total(qty_t), count(*), total(CASE WHEN ok THEN qty_t END),"                     \
  " total(CASE WHEN ok THEN qty_t * pct / 100.0 END), count(CASE WHEN ok THEN 1 END),"                   \
  " count(CASE WHEN ty IS NOT NULL AND NOT ok THEN 1 END)"                                              \
  " FROM (SELECT material, dir, qty_t, ty, pct,"                                                         \
  "   coalesce(ty IN ('integer', 'real') AND pct >= ?6 AND pct <= ?7, 0) AS ok"                          \
  "  FROM (SELECT m.material, m.dir, m.qty_t,"                                                           \
  "    CASE WHEN json_valid(m.attrs) THEN json_type(m.attrs, ?5) END AS ty,"                              \
  "    CASE WHEN json_valid(m.attrs) THEN json_extract(m.attrs, ?5) END AS pct"                           \
  "   FROM materials m JOIN points p ON p.id = m.point_id"                                                \
  "   WHERE p.park = ?1 AND p.ent = ?2 AND m.ts_ms >= ?3 AND m.ts_ms < ?4))"                              \
  " GROUP BY material, dir"
/* Σ of day rollups per metric, of the metrics ?5 (a JSON array of codes:
 * the catalogue's process sum metrics, the only ones kept). Reading only
 * those (4 of bench/query's 20 metrics), in code order (the metrics
 * index: no sorter), took a park report's indicators (ph_indicators) from
 * 5.8 to 2.1 billion instructions, the report from 9.1 to 5.4 (callgrind,
 * bench/query's 10-park database). */
#define IND_SQL_SUMS                                                                                      \
  "SELECT m.code, SUM(r.sum) FROM points p JOIN series s ON s.point_id = p.id"                           \
  " JOIN metrics m ON m.id = s.metric_id JOIN rollups r ON r.series_id = s.id"                            \
  " WHERE p.park = ?1 AND p.ent = ?2 AND m.code IN (SELECT value FROM json_each(?5))"                     \
  " AND r.period = 2 AND r.bucket_ms >= ?3 AND r.bucket_ms < ?4 GROUP BY m.code"

#endif
