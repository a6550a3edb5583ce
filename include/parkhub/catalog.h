/* catalog.h — the metric catalogue (schemas/metrics.json): every metric
 * code a batch may carry, with its kind, canonical unit, plausible range,
 * how it aggregates, and its HJ 212-2017 pollutant code where one exists.
 * Material metrics also say what part they play in the recycling balance
 * (role: feed, product, residue, consumable) and their copper content
 * (cu_fraction, a typical value per grade that a plant may edit): the
 * cleaner-production indicators and the dioxin inventory's activity rate
 * (tonnes of product) read them.
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

/* A material's part in the balance. PH_ROLE_NONE: not given (only allowed
 * for non-material metrics). PH_ROLE_UNCLASSIFIED is never parsed: it is
 * what the park's material registry (materials.h) says of a code that
 * neither the park's configuration nor the catalogue declares. */
enum ph_role {
  PH_ROLE_NONE,
  PH_ROLE_FEED,
  PH_ROLE_PRODUCT,
  PH_ROLE_RESIDUE,
  PH_ROLE_CONSUMABLE,
  PH_ROLE_ENERGY,
  PH_ROLE_WATER,
  PH_ROLE_UNCLASSIFIED,
  PH_ROLE_COUNT
};

struct ph_metric {
  char code[PH_ID_MAX + 1];
  enum ph_kind kind;
  char unit[24];
  double min, max; /* plausible range, inclusive */
  enum ph_agg agg;
  char hj212[12]; /* "" when the standard has no code */
  char name[96];
  char name_zh[96]; /* UTF-8; "" when the catalogue gives none */
  enum ph_role role;  /* required for PH_KIND_MATERIAL, optional otherwise */
  double cu_fraction; /* copper mass fraction 0..1; 0 when not given */
  int decimals;       /* digits after the point people read (exports); -1 when not given */
};

struct ph_catalog; /* opaque */

/* Returns new; free with ph_catalog_free. err explains a bad file. */
int ph_catalog_load_builtin(struct ph_catalog **out, struct ph_err *err);
int ph_catalog_load_file(const char *path, struct ph_catalog **out, struct ph_err *err);
int ph_catalog_load_json(const char *text, size_t len, const char *origin,
                         struct ph_catalog **out, struct ph_err *err);
void ph_catalog_free(struct ph_catalog *c);

size_t ph_catalog_count(const struct ph_catalog *c);
/* A digest of the text the catalogue was loaded from (digest.h). */
uint64_t ph_catalog_digest(const struct ph_catalog *c);
/* Borrowed; valid while c lives. NULL when idx is out of range. */
const struct ph_metric *ph_catalog_at(const struct ph_catalog *c, size_t idx);
/* Index of code, or -1. s need not be NUL-terminated. */
int ph_catalog_find(const struct ph_catalog *c, const char *code, size_t len);
/* How people write a catalogue unit: "mg/Nm3" → "mg/m³" (GB 31574-2015's
 * unit, dry standard state), "Nm3/h" → "Nm³/h", "degC" → "°C"; a unit
 * without a symbol form comes back as it is. Static strings. */
const char *ph_unit_symbol(const char *unit);
/* Index of the metric with this HJ 212 code, or -1. */
int ph_catalog_find_hj212(const struct ph_catalog *c, const char *hj212);

const char *ph_agg_name(enum ph_agg a);
/* The roles one can declare, for messages. */
#define PH_ROLES "feed|product|residue|consumable|energy|water"

/* "feed", "product", "residue", "consumable", "energy", "water",
 * "unclassified"; "" for PH_ROLE_NONE. */
const char *ph_role_name(enum ph_role r);
/* 0 or PH_EENUM (NUL-terminated s; "" and "unclassified" are not roles one
 * can declare). */
int ph_role_parse(const char *s, enum ph_role *out);

#endif
