/* cems_basis.h — whether a park's stored CEMS figures were computed on the
 * reference data in force now, and their recomputation when not.
 *
 * What ph_cems_update stores (cems.h: hourly and daily validity, the limit
 * in force, exceedances, operating hours, the daily aggregates and blocks
 * built from them) depends on the park's configuration (each enterprise's
 * standard, sector, class and class_since, special limits, the points'
 * intervals, the materials that count as product, the zone), on the limit
 * standards and on the catalogue. All are loaded at start. An operator who
 * corrects an enterprise's class or adds special limits and restarts the
 * hub would otherwise keep a year of exceedances judged against the old
 * limits, and a regulator would read them.
 *
 * A park's basis is a text: a digest of the park's facts that the update
 * reads (inv. 4), the digests of every loaded standard and of the
 * catalogue (digest.h) and PH_CEMS_BASIS_VERSION (raised when a change of
 * code changes what the same data computes to).
 *
 * Callers: hub.c, at the start of a park hub, on the writer's connection
 * before the writer thread starts (no other thread uses it yet). A regional
 * hub stores the park hubs' figures and computes none: it does not call.
 *
 * Invariants:
 *  1. a park whose stored basis is another one's gets every hour with data
 *     marked for recomputation (cems_dirty) and its new basis, in one
 *     transaction; the writer's updates then recompute them in bounded
 *     steps (PH_CEMS_MAX_WORK), days after their hours; until they are
 *     done ph_cems_closed_until stays before the first of them, so readers
 *     count only what is final, never the old judgement.
 *  2. a park with no stored basis: with no stored hour it is recorded as
 *     is; with stored hours (a database from before this check) nobody
 *     knows what they were computed on, so they are recomputed (1).
 *  3. an equal basis writes nothing.
 *  4. the park's facts are exactly what ph_cems_update reads of the config:
 *     the zone, the materials' roles, and each enterprise's id, standard,
 *     sector, class, class_since, special limits and intervals. A change
 *     elsewhere (a name, an agent, a rules file, a monitoring date, which
 *     readers apply when they read) recomputes nothing: a year of a large
 *     park is minutes of the writer's time. A new fact the update reads
 *     must be added here.
 */
#ifndef PARKHUB_CEMS_BASIS_H
#define PARKHUB_CEMS_BASIS_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "config/refs.h"
#include "parkhub/err.h"

#define PH_CEMS_BASIS_VERSION 1
#define PH_CEMS_BASIS_MAX 96 /* "<16 hex>-<16 hex>-v<n>" and room */

/* The basis of park p_idx of refs->cfg into out (PH_CEMS_BASIS_MAX). */
void ph_cems_basis_of(const struct ph_refs *refs, int p_idx, char *out, size_t cap);

/* Checks every park of refs->cfg (inv. 1-3); *hours gets how many hours
 * were marked in all (NULL: not wanted). Logs each park recomputed.
 * 0, or PH_EDB with nothing of the call kept. */
int ph_cems_basis_check(sqlite3 *db, const struct ph_refs *refs, int64_t now_ms, int64_t *hours,
                        struct ph_err *err);

#endif
