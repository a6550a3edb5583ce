/* cems_basis_sql.h — SQL of cems_basis.c. */
#ifndef PH_CEMS_BASIS_SQL_H
#define PH_CEMS_BASIS_SQL_H

/* The basis each park's stored CEMS figures were computed on. Made here,
 * not by a store migration: only a park hub's start reads or writes it. */
#define BASIS_SQL_TABLE                                                                                    \
  "CREATE TABLE IF NOT EXISTS cems_basis(park TEXT PRIMARY KEY, basis TEXT NOT NULL, set_ms INTEGER NOT NULL)"

#define BASIS_SQL_GET "SELECT basis FROM cems_basis WHERE park = ?1"
#define BASIS_SQL_SET                                                                                      \
  "INSERT INTO cems_basis(park, basis, set_ms) VALUES(?1, ?2, ?3)"                                          \
  " ON CONFLICT(park) DO UPDATE SET basis = excluded.basis, set_ms = excluded.set_ms"

/* Whether the park has any stored hour (a database from before this check). */
#define BASIS_SQL_HAS_HOURS                                                                                \
  "SELECT EXISTS(SELECT 1 FROM points p JOIN series s ON s.point_id = p.id"                                  \
  " JOIN cems_hours h ON h.series_id = s.id WHERE p.park = ?1)"

/* Every hour with data of the park's series, for the next ph_cems_update
 * (cems_dirty's triggers' own rule: a row once). */
#define BASIS_SQL_INVALIDATE                                                                               \
  "INSERT INTO cems_dirty(series_id, hour_ms) SELECT r.series_id, r.bucket_ms FROM points p"                 \
  " JOIN series s ON s.point_id = p.id JOIN rollups r ON r.series_id = s.id AND r.period = 1"                \
  " WHERE p.park = ?1 AND NOT EXISTS"                                                                       \
  " (SELECT 1 FROM cems_dirty d WHERE d.series_id = r.series_id AND d.hour_ms = r.bucket_ms)"

/* Figures are final only up to the first hour marked (inv. 1), at once,
 * not from the writer's first update on. */
#define BASIS_SQL_CLOSED_BACK                                                                              \
  "UPDATE cems_state SET closed_ms = min(closed_ms, (SELECT min(hour_ms) FROM cems_dirty))"                  \
  " WHERE id = 1 AND EXISTS(SELECT 1 FROM cems_dirty)"

#endif
