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
  "DELETE FROM temp.cems_t_aggkey;"                                                                          \
  "CREATE TEMP TABLE IF NOT EXISTS cems_t_blk(series_id INTEGER NOT NULL, blk_ms INTEGER NOT NULL,"         \
  " PRIMARY KEY(series_id, blk_ms));"                                                                        \
  "DELETE FROM temp.cems_t_blk;"                                                                            \
  "CREATE TEMP TABLE IF NOT EXISTS cems_t_mon(series_id INTEGER NOT NULL, mon_ms INTEGER NOT NULL,"         \
  " PRIMARY KEY(series_id, mon_ms));"                                                                        \
  "DELETE FROM temp.cems_t_mon;"
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

/* ---- 8-day blocks above the days (migration 7, issue #19) ----
 *
 * cems_agg_blocks: per (series, block) the sums of its cems_agg_days rows
 * (same columns, the worst hour the worst of the days' worst, earlier on
 * ties); cems_day_blocks: per (series, block) the counts and worst day of
 * its cems_days rows (COMPLIANCE_SQL_DAYS, COMPLIANCE_SQL_DAY_WORST). A
 * block holds the days whose day_ms lies in [blk_ms, blk_ms + 8 days),
 * blk_ms a multiple of 8 days since the epoch: a fixed span, not a calendar
 * month, so the key is day_ms - day_ms % span in SQL and in C with no time
 * zone (DST days included: a day is in the block its start is in). A year
 * reads ~45 block rows and at most 14 edge days per series instead of 365;
 * a month ~3 blocks and the edge days.
 *
 * Kept by ph_cems_update in the transaction that writes their days: the
 * blocks of the (series, day) keys just re-aggregated (after
 * CEMS_AGG_SQL_PUT), and of the days just written to cems_days (after
 * CEMS_SQL_DAYS_PUT), each recomputed from its ≤ 8 day rows — so a late
 * hour reopening a day reaches its block. Invariant: a block row equals
 * CEMS_AGG_SQL_BLK_FILL_ALL / CEMS_AGG_SQL_DBLK_FILL_ALL over its days at
 * any commit; tests/unit/test_hub_cems_agg.c checks it. */
#define CEMS_AGG_BLOCK_MS 691200000LL /* 8 days */
#define CEMS_AGG_BLOCK_STR "691200000"
/* rounded down (SQL's % keeps the sign): the same key as floor_block in
 * cems_agg.c and STORE_SQL_MAT_BLK for any instant, before 1970 too */
#define CEMS_AGG_SQL_BLK(X) "(" X " - ((" X " % " CEMS_AGG_BLOCK_STR ") + " CEMS_AGG_BLOCK_STR ") % " CEMS_AGG_BLOCK_STR ")"

#define CEMS_AGG_SQL_BLOCK_TABLES                                                                            \
  "CREATE TABLE cems_agg_blocks(series_id INTEGER NOT NULL, blk_ms INTEGER NOT NULL,"                       \
  " valid INTEGER NOT NULL, with_limit INTEGER NOT NULL, within INTEGER NOT NULL, exceeded INTEGER NOT NULL," \
  " worst_ratio REAL, worst_hour INTEGER, worst_mean REAL, worst_limit REAL, used INTEGER NOT NULL,"        \
  " cq REAL NOT NULL, PRIMARY KEY(series_id, blk_ms)) WITHOUT ROWID;"                                       \
  "CREATE TABLE cems_day_blocks(series_id INTEGER NOT NULL, blk_ms INTEGER NOT NULL,"                       \
  " valid INTEGER NOT NULL, with_limit INTEGER NOT NULL, within INTEGER NOT NULL, exceeded INTEGER NOT NULL," \
  " worst_ratio REAL, worst_day INTEGER, worst_mean REAL, worst_converted REAL, worst_limit REAL,"          \
  " PRIMARY KEY(series_id, blk_ms)) WITHOUT ROWID;"

/* Cells above the days: the 8-day blocks (KEY blk_ms, a cell [k.blk_ms,
 * k.blk_ms + 8 days)) and the month cells (KEY mon_ms, [k.mon_ms, k.mon_end),
 * migration 12 below). KEYS: a table expression with series_id, KEY and,
 * for months, mon_end; END: the cell's end in terms of k. */
#define CEMS_AGG_SQL_BLK_END "k.blk_ms + " CEMS_AGG_BLOCK_STR
#define CEMS_AGG_SQL_MON_END_K "k.mon_end"
/* The worst day row of cell k (a correlated subquery's tail). */
#define CEMS_AGG_SQL_CELL_WORST(KEY, END, COL)                                                               \
  " (SELECT w." COL " FROM cems_agg_days w WHERE w.series_id = k.series_id AND w.day_ms >= k." KEY         \
  "  AND w.day_ms < " END " AND w.worst_hour IS NOT NULL ORDER BY w.worst_ratio DESC, w.worst_hour LIMIT 1)"
/* The rows of the cell keys KEYS into TABLE, from cems_agg_days. */
#define CEMS_AGG_SQL_CELL_SELECT(TABLE, KEY, END, KEYS)                                                      \
  "INSERT INTO " TABLE "(series_id, " KEY ", valid, with_limit, within, exceeded, worst_ratio,"             \
  " worst_hour, worst_mean, worst_limit, used, cq)"                                                          \
  " SELECT k.series_id, k." KEY ", total(a.valid), total(a.with_limit), total(a.within), total(a.exceeded)," \
  CEMS_AGG_SQL_CELL_WORST(KEY, END, "worst_ratio") "," CEMS_AGG_SQL_CELL_WORST(KEY, END, "worst_hour") ","     \
  CEMS_AGG_SQL_CELL_WORST(KEY, END, "worst_mean") "," CEMS_AGG_SQL_CELL_WORST(KEY, END, "worst_limit") ","     \
  " total(a.used), total(a.cq)"                                                                              \
  " FROM " KEYS " k CROSS JOIN cems_agg_days a ON a.series_id = k.series_id AND a.day_ms >= k." KEY          \
  "  AND a.day_ms < " END " GROUP BY k.series_id, k." KEY
#define CEMS_AGG_SQL_BLK_SELECT(KEYS) CEMS_AGG_SQL_CELL_SELECT("cems_agg_blocks", "blk_ms", CEMS_AGG_SQL_BLK_END, KEYS)

#define CEMS_AGG_SQL_DCELL_WORST(KEY, END, COL)                                                              \
  " (SELECT " COL " FROM cems_days w WHERE w.series_id = k.series_id AND w.day_ms >= k." KEY                \
  "  AND w.day_ms < " END " AND w.valid AND w.limit_value IS NOT NULL"                                      \
  "  ORDER BY w.converted / w.limit_value DESC, w.day_ms LIMIT 1)"
/* The same for the daily means' cells, from cems_days (as COMPLIANCE_SQL_DAYS and _DAY_WORST count). */
#define CEMS_AGG_SQL_DCELL_SELECT(TABLE, KEY, END, KEYS)                                                     \
  "INSERT INTO " TABLE "(series_id, " KEY ", valid, with_limit, within, exceeded, worst_ratio,"             \
  " worst_day, worst_mean, worst_converted, worst_limit)"                                                    \
  " SELECT k.series_id, k." KEY ", total(c.valid), total(c.valid AND c.limit_value IS NOT NULL),"            \
  " total(c.valid AND c.converted <= c.limit_value), total(c.valid AND c.converted > c.limit_value),"        \
  CEMS_AGG_SQL_DCELL_WORST(KEY, END, "w.converted / w.limit_value") ","                                      \
  CEMS_AGG_SQL_DCELL_WORST(KEY, END, "w.day_ms") "," CEMS_AGG_SQL_DCELL_WORST(KEY, END, "w.mean") ","         \
  CEMS_AGG_SQL_DCELL_WORST(KEY, END, "w.converted") "," CEMS_AGG_SQL_DCELL_WORST(KEY, END, "w.limit_value")   \
  " FROM " KEYS " k CROSS JOIN cems_days c ON c.series_id = k.series_id AND c.day_ms >= k." KEY              \
  "  AND c.day_ms < " END " GROUP BY k.series_id, k." KEY
#define CEMS_AGG_SQL_DBLK_SELECT(KEYS) CEMS_AGG_SQL_DCELL_SELECT("cems_day_blocks", "blk_ms", CEMS_AGG_SQL_BLK_END, KEYS)

/* Every block row again from every day row (migration 7, rebuild). */
#define CEMS_AGG_SQL_BLK_FILL_ALL                                                                            \
  CEMS_AGG_SQL_BLK_SELECT("(SELECT DISTINCT series_id, " CEMS_AGG_SQL_BLK("day_ms") " AS blk_ms"            \
                          " FROM cems_agg_days)")
#define CEMS_AGG_SQL_DBLK_FILL_ALL                                                                           \
  CEMS_AGG_SQL_DBLK_SELECT("(SELECT DISTINCT series_id, " CEMS_AGG_SQL_BLK("day_ms") " AS blk_ms"           \
                           " FROM cems_days)")

/* ph_cems_update: the blocks of the keys in temp.cems_t_blk. */
#define CEMS_AGG_SQL_BLK_CLEAR "DELETE FROM temp.cems_t_blk"
#define CEMS_AGG_SQL_BLK_KEYS                                                                                \
  "INSERT OR IGNORE INTO temp.cems_t_blk(series_id, blk_ms)"                                                \
  " SELECT series_id, " CEMS_AGG_SQL_BLK("day_ms") " FROM temp.cems_t_aggkey"
/* the series of the enterprise-days just written to cems_days (as CEMS_SQL_DAYS_PUT joins them) */
#define CEMS_AGG_SQL_DBLK_KEYS                                                                               \
  "INSERT OR IGNORE INTO temp.cems_t_blk(series_id, blk_ms)"                                                \
  " SELECT s.id, " CEMS_AGG_SQL_BLK("d.d0") " FROM temp.cems_t_day d"                                       \
  " CROSS JOIN temp.cems_t_pt p ON p.ent_key = d.ent_key CROSS JOIN series s ON s.point_id = p.point_id"    \
  " WHERE d.ent_key >= 0"
#define CEMS_AGG_SQL_BLK_DROP                                                                                \
  "DELETE FROM cems_agg_blocks WHERE (series_id, blk_ms) IN (SELECT series_id, blk_ms FROM temp.cems_t_blk)"
#define CEMS_AGG_SQL_DBLK_DROP                                                                               \
  "DELETE FROM cems_day_blocks WHERE (series_id, blk_ms) IN (SELECT series_id, blk_ms FROM temp.cems_t_blk)"
#define CEMS_AGG_SQL_BLK_PUT CEMS_AGG_SQL_BLK_SELECT("(SELECT series_id, blk_ms FROM temp.cems_t_blk)")
#define CEMS_AGG_SQL_DBLK_PUT CEMS_AGG_SQL_DBLK_SELECT("(SELECT series_id, blk_ms FROM temp.cems_t_blk)")

/* ---- month cells above the blocks (migration 12, issue #19) ----
 *
 * cems_agg_months and cems_day_months: the blocks' columns, per (series,
 * month cell): the sums of the day rows whose day_ms lies in [mon_ms,
 * mon_end). A month cell is a fixed span of the time line, like a block:
 * from 12:00 UTC on the last day of a calendar month to 12:00 UTC on the
 * last day of the next (mon_ms: the next month's 1st, 00:00 UTC, less
 * 12 h). So the writer, the migration and the regional hub key a day by its
 * start alone, with no time zone (CEMS_AGG_SQL_MON here, month_floor in
 * cems_agg.c: the same key). A local day starts at local midnight (up to
 * 2 h later where a change skips midnight); in a zone whose offsets stay
 * within (-10 h, +12 h] — Asia/Shanghai's +8 h among them — every day of a
 * local calendar month starts inside one cell, so a park-month reads one
 * row per series instead of ~9, a year 12 instead of ~60. In other zones
 * the cells are shifted against local months: a range is still covered
 * exactly (whole cells inside it, the days and blocks around them), with
 * more rows read.
 *
 * Kept like the blocks, in the same transactions, from the same day keys
 * (temp.cems_t_mon), each cell recomputed from its ≤ 31 day rows.
 * Invariant: a cell row equals CEMS_AGG_SQL_MON_FILL_ALL /
 * CEMS_AGG_SQL_DMON_FILL_ALL over its days at any commit
 * (tests/unit/test_hub_cems_agg.c). */
#define CEMS_AGG_SQL_MON(X)                                                                                  \
  "(CAST(strftime('%s', ((" X ") + 43200000) / 1000.0, 'unixepoch', 'start of month') AS INTEGER) * 1000"   \
  " - 43200000)"
#define CEMS_AGG_SQL_MON_END(K)                                                                              \
  "(CAST(strftime('%s', ((" K ") + 43200000) / 1000.0, 'unixepoch', '+1 month') AS INTEGER) * 1000"         \
  " - 43200000)"

#define CEMS_AGG_SQL_MONTH_TABLES                                                                            \
  "CREATE TABLE cems_agg_months(series_id INTEGER NOT NULL, mon_ms INTEGER NOT NULL,"                       \
  " valid INTEGER NOT NULL, with_limit INTEGER NOT NULL, within INTEGER NOT NULL, exceeded INTEGER NOT NULL," \
  " worst_ratio REAL, worst_hour INTEGER, worst_mean REAL, worst_limit REAL, used INTEGER NOT NULL,"        \
  " cq REAL NOT NULL, PRIMARY KEY(series_id, mon_ms)) WITHOUT ROWID;"                                       \
  "CREATE TABLE cems_day_months(series_id INTEGER NOT NULL, mon_ms INTEGER NOT NULL,"                       \
  " valid INTEGER NOT NULL, with_limit INTEGER NOT NULL, within INTEGER NOT NULL, exceeded INTEGER NOT NULL," \
  " worst_ratio REAL, worst_day INTEGER, worst_mean REAL, worst_converted REAL, worst_limit REAL,"          \
  " PRIMARY KEY(series_id, mon_ms)) WITHOUT ROWID;"

/* Month keys (series_id, mon_ms) of SRC as the cells' KEYS, with mon_end. */
#define CEMS_AGG_SQL_MON_KEYS_OF(SRC)                                                                        \
  "(SELECT series_id, mon_ms, " CEMS_AGG_SQL_MON_END("mon_ms") " AS mon_end FROM " SRC ")"
#define CEMS_AGG_SQL_MON_SELECT(KEYS)                                                                        \
  CEMS_AGG_SQL_CELL_SELECT("cems_agg_months", "mon_ms", CEMS_AGG_SQL_MON_END_K, KEYS)
#define CEMS_AGG_SQL_DMON_SELECT(KEYS)                                                                       \
  CEMS_AGG_SQL_DCELL_SELECT("cems_day_months", "mon_ms", CEMS_AGG_SQL_MON_END_K, KEYS)

/* Every cell row again from every day row (migration 12, rebuild). */
#define CEMS_AGG_SQL_MON_FILL_ALL                                                                            \
  CEMS_AGG_SQL_MON_SELECT(CEMS_AGG_SQL_MON_KEYS_OF(                                                          \
      "(SELECT DISTINCT series_id, " CEMS_AGG_SQL_MON("day_ms") " AS mon_ms FROM cems_agg_days)"))
#define CEMS_AGG_SQL_DMON_FILL_ALL                                                                           \
  CEMS_AGG_SQL_DMON_SELECT(CEMS_AGG_SQL_MON_KEYS_OF(                                                         \
      "(SELECT DISTINCT series_id, " CEMS_AGG_SQL_MON("day_ms") " AS mon_ms FROM cems_days)"))

/* ph_cems_update: the cells of the keys in temp.cems_t_mon, from the same
 * day keys as the blocks (CEMS_AGG_SQL_BLK_KEYS, _DBLK_KEYS). */
#define CEMS_AGG_SQL_MON_CLEAR "DELETE FROM temp.cems_t_mon"
#define CEMS_AGG_SQL_MON_KEYS                                                                                \
  "INSERT OR IGNORE INTO temp.cems_t_mon(series_id, mon_ms)"                                                \
  " SELECT series_id, " CEMS_AGG_SQL_MON("day_ms") " FROM temp.cems_t_aggkey"
#define CEMS_AGG_SQL_DMON_KEYS                                                                               \
  "INSERT OR IGNORE INTO temp.cems_t_mon(series_id, mon_ms)"                                                \
  " SELECT s.id, " CEMS_AGG_SQL_MON("d.d0") " FROM temp.cems_t_day d"                                       \
  " CROSS JOIN temp.cems_t_pt p ON p.ent_key = d.ent_key CROSS JOIN series s ON s.point_id = p.point_id"    \
  " WHERE d.ent_key >= 0"
#define CEMS_AGG_SQL_MON_DROP                                                                                \
  "DELETE FROM cems_agg_months WHERE (series_id, mon_ms) IN (SELECT series_id, mon_ms FROM temp.cems_t_mon)"
#define CEMS_AGG_SQL_DMON_DROP                                                                               \
  "DELETE FROM cems_day_months WHERE (series_id, mon_ms) IN (SELECT series_id, mon_ms FROM temp.cems_t_mon)"
#define CEMS_AGG_SQL_MON_PUT CEMS_AGG_SQL_MON_SELECT(CEMS_AGG_SQL_MON_KEYS_OF("temp.cems_t_mon"))
#define CEMS_AGG_SQL_DMON_PUT CEMS_AGG_SQL_DMON_SELECT(CEMS_AGG_SQL_MON_KEYS_OF("temp.cems_t_mon"))

/* ---- readers of a span: ?1 series; the whole days of a range in seven
 * parts (ph_cems_agg_parts): part k is [?(2k+2), ?(2k+3)) of its key: days
 * in parts 0, 2, 4, 6, 8-day blocks in 1 and 5, month cells in 3. An empty
 * part costs no seek: its "lo < hi" is a constant term, tested before the
 * loop. Columns: valid, with_limit, within, exceeded, worst ratio, mean,
 * converted, limit, bucket (NULL: no worst in the row). */
#define CEMS_AGG_SQL_SPAN_PART(COLS, TABLE, KEY, LO, HI)                                                     \
  "SELECT " COLS " FROM " TABLE " WHERE " LO " < " HI " AND series_id = ?1 AND " KEY " >= " LO " AND " KEY   \
  " < " HI
#define CEMS_AGG_SQL_SPAN7(DCOLS, DAYS, CCOLS, BLOCKS, MONTHS)                                               \
  CEMS_AGG_SQL_SPAN_PART(DCOLS, DAYS, "day_ms", "?2", "?3")                                                  \
  " UNION ALL " CEMS_AGG_SQL_SPAN_PART(CCOLS, BLOCKS, "blk_ms", "?4", "?5")                                  \
  " UNION ALL " CEMS_AGG_SQL_SPAN_PART(DCOLS, DAYS, "day_ms", "?6", "?7")                                    \
  " UNION ALL " CEMS_AGG_SQL_SPAN_PART(CCOLS, MONTHS, "mon_ms", "?8", "?9")                                  \
  " UNION ALL " CEMS_AGG_SQL_SPAN_PART(DCOLS, DAYS, "day_ms", "?10", "?11")                                  \
  " UNION ALL " CEMS_AGG_SQL_SPAN_PART(CCOLS, BLOCKS, "blk_ms", "?12", "?13")                                \
  " UNION ALL " CEMS_AGG_SQL_SPAN_PART(DCOLS, DAYS, "day_ms", "?14", "?15")
#define CEMS_AGG_SQL_HOUR_COLS                                                                               \
  "valid, with_limit, within, exceeded, worst_ratio, worst_mean, worst_mean, worst_limit, worst_hour"
#define CEMS_AGG_SQL_HOUR_SPAN                                                                               \
  CEMS_AGG_SQL_SPAN7(CEMS_AGG_SQL_HOUR_COLS, "cems_agg_days", CEMS_AGG_SQL_HOUR_COLS, "cems_agg_blocks",     \
                     "cems_agg_months")
#define CEMS_AGG_SQL_DAY_COLS                                                                                \
  "valid, valid AND limit_value IS NOT NULL, valid AND converted <= limit_value,"                            \
  " valid AND converted > limit_value, converted / limit_value, mean, converted, limit_value,"               \
  " CASE WHEN valid AND limit_value IS NOT NULL THEN day_ms END"
#define CEMS_AGG_SQL_DBLK_COLS                                                                               \
  "valid, with_limit, within, exceeded, worst_ratio, worst_mean, worst_converted, worst_limit, worst_day"
#define CEMS_AGG_SQL_DAY_SPAN                                                                                \
  CEMS_AGG_SQL_SPAN7(CEMS_AGG_SQL_DAY_COLS, "cems_days", CEMS_AGG_SQL_DBLK_COLS, "cems_day_blocks",          \
                     "cems_day_months")
/* hours used and Σ C × Q of the span (emission_mass.c) */
#define CEMS_AGG_SQL_MASS_SPAN                                                                               \
  CEMS_AGG_SQL_SPAN7("used, cq", "cems_agg_days", "used, cq", "cems_agg_blocks", "cems_agg_months")

/* ---- the same spans for many series at once (cems_spans.c) ----
 * ?1 the series, a JSON array of ids; the parts as above, ?2..?15. Columns:
 * series, part (0..6), start, then the span statement's columns (and used,
 * cq for the aggregates). No ORDER BY: its temporary b-tree took 3 of a
 * year-set's 5 ms; cems_spans.c orders the rows by series, part, start in
 * memory (its inv. 1). The series come from the caller (the park's points
 * of the pollutant with a first data hour, CEMS_AGG_SQL_PARK_POINTS): no
 * series look-up here, and no seeks for the points without data (half of
 * a park's points). */
#define CEMS_AGG_SQL_PARK_SERIES "WITH ser(id) AS MATERIALIZED (SELECT value FROM json_each(?1)) "
#define CEMS_AGG_SQL_PARK_PART(PART, KEY, COLS, TABLE, LO, HI)                                               \
  "SELECT ser.id, " PART ", a." KEY ", " COLS " FROM ser CROSS JOIN " TABLE " a"                             \
  " ON " LO " < " HI " AND a.series_id = ser.id AND a." KEY " >= " LO " AND a." KEY " < " HI
#define CEMS_AGG_SQL_PARK_SPAN7(DCOLS, DAYS, CCOLS, BLOCKS, MONTHS)                                          \
  CEMS_AGG_SQL_PARK_SERIES                                                                                   \
  CEMS_AGG_SQL_PARK_PART("0", "day_ms", DCOLS, DAYS, "?2", "?3")                                             \
  " UNION ALL " CEMS_AGG_SQL_PARK_PART("1", "blk_ms", CCOLS, BLOCKS, "?4", "?5")                             \
  " UNION ALL " CEMS_AGG_SQL_PARK_PART("2", "day_ms", DCOLS, DAYS, "?6", "?7")                               \
  " UNION ALL " CEMS_AGG_SQL_PARK_PART("3", "mon_ms", CCOLS, MONTHS, "?8", "?9")                             \
  " UNION ALL " CEMS_AGG_SQL_PARK_PART("4", "day_ms", DCOLS, DAYS, "?10", "?11")                             \
  " UNION ALL " CEMS_AGG_SQL_PARK_PART("5", "blk_ms", CCOLS, BLOCKS, "?12", "?13")                           \
  " UNION ALL " CEMS_AGG_SQL_PARK_PART("6", "day_ms", DCOLS, DAYS, "?14", "?15")
/* The park's points with a series of metric ?2, as COMPLIANCE_SQL_POINTS_ENT
 * and MASS_SQL_POINTS_ENT list one enterprise's, and whether each has a
 * first data hour (point_first) (cems_spans.c). */
#define CEMS_AGG_SQL_PARK_POINTS                                                                             \
  "SELECT p.id, p.ent, p.point, s.id, EXISTS (SELECT 1 FROM point_first f WHERE f.point_id = p.id)"         \
  " FROM metrics mt CROSS JOIN points p CROSS JOIN series s ON s.point_id = p.id AND s.metric_id = mt.id"   \
  " WHERE mt.code = ?2 AND p.park = ?1 ORDER BY p.ent, p.point"
#define CEMS_AGG_SQL_PARK_AGG_COLS CEMS_AGG_SQL_HOUR_COLS ", used, cq"
#define CEMS_AGG_SQL_PARK_AGG_SPAN                                                                           \
  CEMS_AGG_SQL_PARK_SPAN7(CEMS_AGG_SQL_PARK_AGG_COLS, "cems_agg_days", CEMS_AGG_SQL_PARK_AGG_COLS,           \
                          "cems_agg_blocks", "cems_agg_months")
#define CEMS_AGG_SQL_PARK_DAY_SPAN                                                                           \
  CEMS_AGG_SQL_PARK_SPAN7(CEMS_AGG_SQL_DAY_COLS, "cems_days", CEMS_AGG_SQL_DBLK_COLS, "cems_day_blocks",     \
                          "cems_day_months")

#endif
