/* ent_limits.h — which emission limit applies to a configured enterprise:
 * its standard among the loaded ones, its plant class on a local date (a
 * "new" plant with class_since counts as existing before that date), and
 * the stack limit of a pollutant on that date. One place for the rule that
 * CEMS compliance, the report and the API all apply. No state. */
#ifndef PARKHUB_ENT_LIMITS_H
#define PARKHUB_ENT_LIMITS_H

#include <stddef.h>

#include "config/hub_config.h"
#include "parkhub/limits.h"

/* The loaded standard whose id is standard; NULL when none is. */
const struct ph_limits *ph_limits_pick(struct ph_limits *const *limits, size_t n, const char *standard);
/* The plant class on local date day (days since 1970-01-01). */
enum ph_plant_class ph_ent_class_on(const struct ph_hub_ent *e, long day);
/* The stack limit of metric for e on local date day, in the metric's
 * canonical unit: 0, or PH_ENOTFOUND (standard not loaded, no limit for the
 * pollutant and sector, or not in force for the class yet). */
int ph_ent_stack_limit(struct ph_limits *const *limits, size_t n, const struct ph_hub_ent *e, const char *metric,
                       long day, double *limit);

#endif
