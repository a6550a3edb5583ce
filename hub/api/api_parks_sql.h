/* api_parks_sql.h — the SQL of the answers across parks (api_parks.c).
 * Prepared per request and finalized before it returns; a list of parks is
 * bound as one JSON array of ids (?1) and read with json_each, never
 * pasted into the text. */
#ifndef PH_API_PARKS_SQL_H
#define PH_API_PARKS_SQL_H

/* API_SQL_ALARMS (api_sql.h) over the parks of ?1 (a JSON array of park
 * ids): the same filters ?2..?8 and columns, newest raised first across
 * the parks — by raised_ms, then id: on a regional hub the ids are each
 * park hub's own numbering (federation/up_rows.c inv. 5), which says
 * nothing of time across park hubs. The keyset is (raised_ms, id): ?9 and
 * ?7, the next row's (api_key, api_row + 1). */
#define API_PARKS_SQL_ALARMS                                                                               \
  "SELECT id AS api_row, raised_ms AS api_key, * FROM alarms WHERE park IN (SELECT value FROM json_each(?1))" \
  " AND (?2 IS NULL OR state = ?2 OR (?2 = 'open' AND state <> 'closed'))"                                 \
  " AND (?3 IS NULL OR severity = ?3) AND (?4 IS NULL OR ent = ?4)"                                        \
  " AND (?5 IS NULL OR last_ms >= ?5) AND (?6 IS NULL OR first_ms < ?6)"                                   \
  " AND (?7 IS NULL OR raised_ms < ?9 OR (raised_ms = ?9 AND id < ?7))"                                     \
  " ORDER BY raised_ms DESC, id DESC LIMIT ?8"

/* ?1 park, ?2 ent or NULL, ?3 metric or NULL: the (ent, point, metric)
 * series of the park, in that order. */
#define API_PARKS_SQL_SERIES                                                                               \
  "SELECT p.ent, p.point, mt.code FROM points p JOIN series s ON s.point_id = p.id"                        \
  " JOIN metrics mt ON mt.id = s.metric_id WHERE p.park = ?1 AND (?2 IS NULL OR p.ent = ?2)"               \
  " AND (?3 IS NULL OR mt.code = ?3) ORDER BY p.ent, p.point, mt.code"

#endif
