/* rules_sql.h — what the rules engine reads at start-up (rules_load.c),
 * on the hub's tables of store_sql.h, read only. Every query after the
 * first two is an index seek on rollups' primary key
 * (series_id, period, bucket_ms): no table scan per series. */
#ifndef PH_RULES_SQL_H
#define PH_RULES_SQL_H

/* Every stored series with its names (one pass over the small series table). */
#define RULES_SQL_SERIES                                                                                    \
  "SELECT s.id, p.park, p.ent, p.point, m.code FROM series s JOIN points p ON p.id = s.point_id"           \
  " JOIN metrics m ON m.id = s.metric_id ORDER BY s.id"
/* The agents' latest status. */
#define RULES_SQL_STATUS                                                                                    \
  "SELECT a.park, a.ent, a.agent, st.state, st.ts_ms FROM agent_status st JOIN agents a ON a.id = st.agent_id"
/* A series' newest minute. */
#define RULES_SQL_LAST_MINUTE                                                                               \
  "SELECT bucket_ms, last_ts, last FROM rollups WHERE series_id = ?1 AND period = 0"                       \
  " ORDER BY bucket_ms DESC LIMIT 1"
/* A series' minutes from ?2 on, oldest first. */
#define RULES_SQL_MINUTES                                                                                   \
  "SELECT bucket_ms, n, n_valid, sum, sum_valid, min, max, first_ts, first, last_ts, last FROM rollups"    \
  " WHERE series_id = ?1 AND period = 0 AND bucket_ms >= ?2 ORDER BY bucket_ms"
/* One local hour of a series. */
#define RULES_SQL_HOUR "SELECT n, n_valid, sum, sum_valid FROM rollups WHERE series_id = ?1 AND period = 1 AND bucket_ms = ?2"

/* The latest stack test an admin entered per enterprise (alarms_sql.h). */
#define RULES_SQL_STACK_TESTS "SELECT park, ent, max(day) FROM stack_tests GROUP BY park, ent"

#endif
