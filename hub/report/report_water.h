/* report_water.h — the report's "water" section (report_water.c), built
 * from water.h for each enterprise and summed for the park. Internal to
 * report_json.c. */
#ifndef HUB_REPORT_WATER_H
#define HUB_REPORT_WATER_H

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "parkhub/catalog.h"
#include "parkhub/err.h"
#include "config/hub_config.h"
#include "parkhub/ids.h"
#include "parkhub/limits.h"
#include "parkhub/tz.h"

#define PH_REPORT_WATER_MAX 32 /* water pollutants summed for the park */

struct ph_report_water_sum {
  char metric[PH_ID_MAX + 1];
  int outlets, ents;
  int64_t days_valid, days_with_limit, days_over, hours_with_limit, hours_out, days_out;
  double load_kg;
  int load_outlets, load_missing; /* outlets with / without a load figure */
};

struct ph_report_water_park {
  int outlets, ents;
  double volume_m3;
  int volume_missing;
  struct ph_report_water_sum p[PH_REPORT_WATER_MAX];
  int np;
  bool oom;
};

/* Adds "water" to an enterprise scope and its figures to *park. 0, or
 * PH_EDB/PH_ENOMEM with err. */
int ph_report_water_ent(sqlite3 *db, const char *park_id, const struct ph_hub_ent *e, const struct ph_catalog *cat,
                        const struct ph_limits *lim, const struct ph_tz *tz, int64_t from, int64_t to, cJSON *scope,
                        struct ph_report_water_park *park, struct ph_err *err);
/* Adds "water" to the park scope from the sums. */
int ph_report_water_park(const struct ph_report_water_park *park, cJSON *scope, struct ph_err *err);

#endif
