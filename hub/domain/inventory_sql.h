/* inventory_sql.h — the SQL text of the PCDD/F inventory and the
 * stack-test plan (inventory.c). Read-only statements, bound parameters
 * only (inventory.c inv. 4). */
#ifndef HUB_DOMAIN_INVENTORY_SQL_H
#define HUB_DOMAIN_INVENTORY_SQL_H

/* Dioxin stacks of an enterprise: points with a pcdd_f series. */
#define INV_SQL_STACKS                                                                                    \
  "SELECT p.id, p.point, s.id FROM points p JOIN series s ON s.point_id = p.id"                          \
  " JOIN metrics m ON m.id = s.metric_id WHERE p.park = ?1 AND p.ent = ?2 AND m.code = ?3 ORDER BY p.point"
#define INV_SQL_SERIES                                                                                    \
  "SELECT s.id FROM series s JOIN metrics m ON m.id = s.metric_id WHERE s.point_id = ?1 AND m.code = ?2"
/* Stack tests of the year: minute rollups (period 0). */
#define INV_SQL_TESTS                                                                                     \
  "SELECT first_ts, n, sum FROM rollups WHERE series_id = ?1 AND period = 0 AND bucket_ms >= ?2"         \
  " AND bucket_ms < ?3 AND n > 0 ORDER BY bucket_ms"
/* Valid CEMS hours of flow (cems.h: the one valid-hour rule). */
#define INV_SQL_FLOW                                                                                      \
  "SELECT hour_ms, mean FROM cems_hours WHERE series_id = ?1 AND hour_ms >= ?2 AND hour_ms < ?3"         \
  " AND valid ORDER BY hour_ms"
#define INV_SQL_LAST_TEST                                                                                 \
  "SELECT last_ts FROM rollups WHERE series_id = ?1 AND period = 0 AND bucket_ms <= ?2 AND n > 0"        \
  " ORDER BY bucket_ms DESC LIMIT 1"
#define INV_SQL_MATERIALS                                                                                 \
  "SELECT m.material, m.dir, SUM(m.qty_t) FROM materials m JOIN points p ON p.id = m.point_id"           \
  " WHERE p.park = ?1 AND p.ent = ?2 AND m.ts_ms >= ?3 AND m.ts_ms < ?4 GROUP BY m.material, m.dir"

/* The latest stack test an admin entered (hub/alarms/alarms_sql.h makes the table). */
#define INV_SQL_ENTERED_TEST "SELECT max(day) FROM stack_tests WHERE park = ?1 AND ent = ?2"

#endif
