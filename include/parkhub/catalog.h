/* catalog.h — the metric catalogue (schemas/metrics.json): every metric
 * code a batch may carry, with its kind, canonical unit, plausible range,
 * how it aggregates, and its HJ 212-2017 pollutant code where one exists.
 *
 * The built-in catalogue is compiled from schemas/metrics.json; another
 * file can be loaded instead (ph_catalog_load_file). A catalogue is
 * immutable after load and may be shared between threads. Metrics are kept
 * sorted by code; a metric's index is stable for the catalogue's life. */
#ifndef PARKHUB_CATALOG_H
#define PARKHUB_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "parkhub/err.h"
#include "parkhub/ids.h"
#include "parkhub/kind.h"

enum ph_agg { PH_AGG_MEAN, PH_AGG_SUM };

struct ph_metric {
  char code[PH_ID_MAX + 1];
  enum ph_kind kind;
  char unit[24];
  double min, max; /* plausible range, inclusive */
  enum ph_agg agg;
  char hj212[12]; /* "" when the standard has no code */
  char name[96];
};

struct ph_catalog; /* opaque */

/* Returns new; free with ph_catalog_free. err explains a bad file. */
int ph_catalog_load_builtin(struct ph_catalog **out, struct ph_err *err);
int ph_catalog_load_file(const char *path, struct ph_catalog **out, struct ph_err *err);
int ph_catalog_load_json(const char *text, size_t len, const char *origin,
                         struct ph_catalog **out, struct ph_err *err);
void ph_catalog_free(struct ph_catalog *c);

size_t ph_catalog_count(const struct ph_catalog *c);
/* Borrowed; valid while c lives. NULL when idx is out of range. */
const struct ph_metric *ph_catalog_at(const struct ph_catalog *c, size_t idx);
/* Index of code, or -1. s need not be NUL-terminated. */
int ph_catalog_find(const struct ph_catalog *c, const char *code, size_t len);
/* Index of the metric with this HJ 212 code, or -1. */
int ph_catalog_find_hj212(const struct ph_catalog *c, const char *hj212);

const char *ph_agg_name(enum ph_agg a);

#endif
