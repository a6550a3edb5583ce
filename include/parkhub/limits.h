/* limits.h — emission standards as data (schemas/limits/ holds one JSON
 * file per standard, in the format of schemas/limits.schema.json): for each pollutant the stack limit per
 * sector, the special limit (designated areas), the boundary limit, and the
 * dates from which the standard applies to new and to existing
 * enterprises; the benchmark exhaust volume per tonne of product.
 *
 * GB 31574-2015 is compiled in; more standards load from files, so adding
 * one needs no code. A loaded standard is immutable and may be shared
 * between threads. Dates are the park's local calendar dates.
 */
#ifndef PARKHUB_LIMITS_H
#define PARKHUB_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parkhub/err.h"

enum ph_sector { PH_SECTOR_CU, PH_SECTOR_AL, PH_SECTOR_PB, PH_SECTOR_ZN, PH_SECTOR_COUNT };
enum ph_plant_class { PH_CLASS_EXISTING, PH_CLASS_NEW };

struct ph_limits;

int ph_limits_load_builtin(struct ph_limits **out, struct ph_err *err); /* GB 31574-2015 */
int ph_limits_load_file(const char *path, struct ph_limits **out, struct ph_err *err);
int ph_limits_load_json(const char *text, size_t len, const char *origin, struct ph_limits **out,
                        struct ph_err *err);
void ph_limits_free(struct ph_limits *l);

const char *ph_limits_standard(const struct ph_limits *l); /* e.g. "gb31574-2015" */
/* A digest of the text the standard was loaded from (digest.h): stored
 * figures computed under another digest were judged against other limits. */
uint64_t ph_limits_digest(const struct ph_limits *l);
/* Benchmark exhaust volume in m³ per tonne of product; 0 when the standard has none. */
double ph_limits_benchmark(const struct ph_limits *l);
/* Days since 1970-01-01 from which the standard applies to the class. */
long ph_limits_applies_from(const struct ph_limits *l, enum ph_plant_class cls);

/* The stack limit (in the metric's canonical unit) that applies to an
 * enterprise of this sector and class, with or without special limits, on
 * the local date `day` (days since 1970-01-01). PH_ENOTFOUND when the
 * standard sets none for the pollutant and sector, or is not yet in force
 * for the class on that day. */
int ph_limits_stack(const struct ph_limits *l, const char *metric, enum ph_sector sector, enum ph_plant_class cls,
                    bool special, long day, double *limit);
/* Water (the file's optional "water" section, issue #20): the limit for a
 * water outlet of an enterprise of this sector and class, special or not,
 * discharging directly or indirectly, on local date `day`. A limit is an
 * upper bound (*lo = -INFINITY) or a range (pH: *lo..*hi); a value is
 * inside when lo <= v <= hi. Only values marked "verified" with a source
 * and clause are returned. PH_ENOTFOUND otherwise, with *why (static text)
 * saying which: "no verified limit" (present but unverified), "no limit"
 * (the column is empty or the pollutant not listed), "not in force". The
 * special column applies when special is true and it has a value; else the
 * class's column. */
int ph_limits_water(const struct ph_limits *l, const char *metric, enum ph_sector sector, enum ph_plant_class cls,
                    bool special, bool indirect, long day, double *lo, double *hi, const char **why);
/* Water pollutants listed (verified or not), the i-th metric, and whether
 * any value of it is verified. */
size_t ph_limits_water_count(const struct ph_limits *l);
const char *ph_limits_water_metric(const struct ph_limits *l, size_t i);
bool ph_limits_water_verified(const struct ph_limits *l, size_t i);
/* Benchmark drainage volume in m³ per t of product; 0 when none or unverified. */
double ph_limits_water_benchmark(const struct ph_limits *l);

/* Number of pollutants and the metric code of the i-th (for reports). */
size_t ph_limits_count(const struct ph_limits *l);
const char *ph_limits_metric(const struct ph_limits *l, size_t i);

const char *ph_sector_name(enum ph_sector s);
int ph_sector_parse(const char *s, enum ph_sector *out);

#endif
