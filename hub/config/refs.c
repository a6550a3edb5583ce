/* refs.c — loading the reference bundle (refs.h). */
#include "config/refs.h"

#include <string.h>

int ph_refs_load(const struct ph_hub_config *cfg, struct ph_refs *r, struct ph_err *err) {
  memset(r, 0, sizeof *r);
  r->cfg = cfg;
  int rc;
  if ((rc = ph_catalog_load_builtin(&r->cat, err))) return rc;
  if ((rc = ph_factors_load(cfg->factors_file, &r->factors, err))) return rc;
  if ((rc = ph_limits_load_builtin(&r->limits[0], err))) return rc;
  r->nlimits = 1;
  for (int i = 0; i < cfg->nlimit_files; i++, r->nlimits++)
    if ((rc = ph_limits_load_file(cfg->limit_files[i], &r->limits[r->nlimits], err))) return rc;
  for (int p = 0; p < cfg->nparks; p++)
    if ((rc = ph_tz_load(cfg->parks[p].tz, &r->tz[p], err))) return rc;
  return 0;
}

void ph_refs_fini(struct ph_refs *r) {
  for (size_t i = 0; i < r->nlimits; i++) ph_limits_free(r->limits[i]);
  for (int p = 0; p < PH_HUB_MAX_PARKS; p++) ph_tz_free(r->tz[p]);
  ph_catalog_free(r->cat);
  ph_factors_free(r->factors);
  memset(r, 0, sizeof *r);
}

const struct ph_tz *ph_refs_tz(const struct ph_refs *r, int park_idx) {
  if (!r->cfg || park_idx < 0 || park_idx >= r->cfg->nparks) return NULL;
  return r->tz[park_idx];
}
