/* ent_limits.c — the limit that applies to an enterprise (ent_limits.h).
 * Callers: cems.c (hourly/daily compliance), report_json.c, the API's
 * points (latest values against their limits). Pure functions. */
#include "domain/ent_limits.h"

#include <stdio.h>
#include <string.h>

#include "parkhub/err.h"
#include "parkhub/timefmt.h"

const struct ph_limits *ph_limits_pick(struct ph_limits *const *limits, size_t n, const char *standard) {
  for (size_t i = 0; i < n; i++)
    if (limits[i] && strcmp(ph_limits_standard(limits[i]), standard) == 0) return limits[i];
  return NULL;
}

enum ph_plant_class ph_ent_class_on(const struct ph_hub_ent *e, long day) {
  int y;
  unsigned m, d;
  if (e->plant_class == PH_CLASS_NEW && e->class_since[0] && sscanf(e->class_since, "%d-%u-%u", &y, &m, &d) == 3 &&
      day < ph_days_from_civil(y, m, d))
    return PH_CLASS_EXISTING;
  return (enum ph_plant_class)e->plant_class;
}

int ph_ent_stack_limit(struct ph_limits *const *limits, size_t n, const struct ph_hub_ent *e, const char *metric,
                       long day, double *limit) {
  const struct ph_limits *l = ph_limits_pick(limits, n, e->standard);
  if (!l) return PH_ENOTFOUND;
  return ph_limits_stack(l, metric, (enum ph_sector)e->sector, ph_ent_class_on(e, day), e->special_limits, day,
                         limit);
}
