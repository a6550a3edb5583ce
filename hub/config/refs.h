/* refs.h — the hub's reference data as one bundle: the config, the metric
 * catalogue, each park's time zone, the limit standards and the emission
 * factors (the materials registries live in the config's parks). Loaded
 * once, at start (the hub) or per run (the report), and lent to every
 * stage as one pointer instead of piece by piece.
 *
 * Callers: hub.c (start), report.c (a report run), tests and benches.
 * Threads: loaded and freed by one thread; between the two it is read-only
 * and may be read by any thread.
 *
 * Invariants:
 *  1. after ph_refs_load succeeds every member is set: tz[p] for every
 *     configured park p (in config order), limits[0] the built-in
 *     GB 31574-2015 followed by the config's limit_files, factors the
 *     config's factors_file or the built-in table.
 *  2. the bundle owns what it loaded except cfg, which it borrows: the
 *     config must outlive it. ph_refs_fini frees what was loaded, also
 *     after a failed load.
 */
#ifndef PARKHUB_REFS_H
#define PARKHUB_REFS_H

#include <stddef.h>

#include "config/hub_config.h"
#include "parkhub/catalog.h"
#include "parkhub/err.h"
#include "parkhub/factors.h"
#include "parkhub/limits.h"
#include "parkhub/tz.h"

struct ph_refs {
  const struct ph_hub_config *cfg;                     /* borrowed */
  struct ph_catalog *cat;                              /* the built-in catalogue */
  struct ph_tz *tz[PH_HUB_MAX_PARKS];                  /* one per park, in config order */
  struct ph_limits *limits[1 + PH_HUB_MAX_LIMIT_FILES]; /* built-in standard, then limit_files */
  size_t nlimits;
  struct ph_factors *factors; /* PCDD/F emission factors (the inventory) */
};

/* Loads everything cfg names into r (inv. 1); err names what failed. */
int ph_refs_load(const struct ph_hub_config *cfg, struct ph_refs *r, struct ph_err *err);
void ph_refs_fini(struct ph_refs *r);
/* The zone of cfg->parks[park_idx]; NULL for an index out of range. */
const struct ph_tz *ph_refs_tz(const struct ph_refs *r, int park_idx);

#endif
