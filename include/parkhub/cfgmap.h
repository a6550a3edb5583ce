/* cfgmap.h — one table per config object: { key, type, default, offset,
 * bounds, help }. ph_cfgmap_apply fills a struct from a JSON object:
 * applies defaults, checks types and ranges, refuses unknown keys and names
 * every problem by its JSON path ("sources[1].rate: must be ≤ 10000").
 * ph_cfgmap_help prints the same table for --help, so docs cannot drift. */
#ifndef PARKHUB_CFGMAP_H
#define PARKHUB_CFGMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "parkhub/err.h"

enum ph_cfg_type {
  PH_CFG_STR,   /* char[size] in the struct; size = sizeof field */
  PH_CFG_ID,    /* like STR, checked against the id grammar */
  PH_CFG_INT,   /* int64_t, within [min, max] */
  PH_CFG_DBL,   /* double, within [min, max] */
  PH_CFG_BOOL,  /* bool */
  PH_CFG_ENUM,  /* int: index of the value in `words` (NULL-terminated) */
  PH_CFG_SKIP,  /* a key the caller handles itself (objects, arrays) */
};

struct ph_cfgmap {
  const char *key;
  enum ph_cfg_type type;
  bool required;
  size_t offset;
  size_t size; /* STR/ID: sizeof the char array */
  double min, max;
  const char *def; /* default, as text; NULL: none (zero) */
  const char *const *words; /* ENUM */
  const char *help;
};

#define PH_CFG_END {NULL, PH_CFG_SKIP, false, 0, 0, 0, 0, NULL, NULL, NULL}

/* obj is a const cJSON *; path names it in messages ("" for the root).
 * Returns 0 or PH_ECONFIG with err->msg "file: path.key: reason" style text
 * (the caller prefixes the file). */
int ph_cfgmap_apply(const struct ph_cfgmap *map, const void *obj, const char *path,
                    void *dst, struct ph_err *err);
void ph_cfgmap_help(const struct ph_cfgmap *map, const char *prefix, FILE *out);

#endif
