/* api_catalog_sql.h — SQL of api_catalog.c: one alarm by its id and its
 * occurrence and transition logs (alarms_sql.h's tables), newest first,
 * bounded by ?2. */
#ifndef PH_API_CATALOG_SQL_H
#define PH_API_CATALOG_SQL_H

#define API_CATALOG_SQL_ALARM                                                                                  \
  "SELECT id, alarm_id, rule, ent, point, metric, severity, state, message, first_ms, last_ms, count, value," \
   " peak, acked_by, acked_ms, note, cleared_ms, closed_ms, message_zh FROM alarms WHERE park = ?1 AND alarm_id = ?2"

#define API_CATALOG_SQL_OCCURRENCES                                                                            \
  "SELECT start_ms, last_ms, end_ms, count, value, peak, severity FROM alarm_occurrences WHERE alarm = ?1"     \
  " ORDER BY start_ms DESC, id DESC LIMIT ?2"

#define API_CATALOG_SQL_LOG                                                                                    \
  "SELECT ts_ms, transition, state, by, note FROM alarm_log WHERE alarm = ?1 ORDER BY ts_ms DESC, id DESC"     \
  " LIMIT ?2"

#endif
