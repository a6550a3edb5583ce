/* factors.h — PCDD/F emission factors as data (one JSON file per table in
 * schemas/factors/, in the format of schemas/factors.schema.json): per
 * source class of the UNEP Toolkit, a factor in µg TEQ per tonne of the
 * class's basis (product or feed) for each release vector, or ND — no
 * factor available, which reports must show as such and never count as
 * zero. Each class carries its source and whether it was verified against
 * it; reports print both.
 *
 *   release [g TEQ/a] = factor [µg TEQ/t] × activity [t/a] × 1e-6
 *
 * The UNEP Toolkit 2013 copper table (category 2d, classes 1..6) is
 * compiled in; the hub config's factors_file replaces it, so changing a
 * factor needs no code. A loaded table is immutable and may be shared
 * between threads.
 */
#ifndef PARKHUB_FACTORS_H
#define PARKHUB_FACTORS_H

#include <stdbool.h>
#include <stddef.h>

#include "parkhub/err.h"
#include "parkhub/ids.h"

/* Release vectors of the Toolkit, in its order. */
enum ph_vector { PH_VEC_AIR, PH_VEC_WATER, PH_VEC_LAND, PH_VEC_PRODUCT, PH_VEC_RESIDUE, PH_VEC_COUNT };

/* What the activity rate counts. */
enum ph_basis {
  PH_BASIS_PRODUCT, /* "t of product": ledger dir out of materials with role product */
  PH_BASIS_FEED     /* "t of feed": ledger dir in of materials with role feed */
};

struct ph_factor_class {
  int cls; /* as an enterprise's toolkit_class names it */
  char name[96];
  enum ph_basis basis;
  bool has[PH_VEC_COUNT]; /* false: ND, no factor (never zero) */
  double ef[PH_VEC_COUNT]; /* µg TEQ/t of basis where has[] */
  char source[256];
  bool verified;
};

struct ph_factors; /* opaque */

/* Returns new (*out; free with ph_factors_free). err explains a bad table. */
int ph_factors_load_builtin(struct ph_factors **out, struct ph_err *err); /* unep-toolkit-2013-cu */
int ph_factors_load_file(const char *path, struct ph_factors **out, struct ph_err *err);
int ph_factors_load_json(const char *text, size_t len, const char *origin, struct ph_factors **out,
                         struct ph_err *err);
/* The hub config's factors_file, or the built-in table when path is "" or NULL. */
int ph_factors_load(const char *path, struct ph_factors **out, struct ph_err *err);
/* Accepts NULL. */
void ph_factors_free(struct ph_factors *f);

/* Borrowed; valid while f lives. */
const char *ph_factors_table(const struct ph_factors *f);  /* "unep-toolkit-2013-cu" */
const char *ph_factors_title(const struct ph_factors *f);
const char *ph_factors_source(const struct ph_factors *f);
size_t ph_factors_count(const struct ph_factors *f);
const struct ph_factor_class *ph_factors_at(const struct ph_factors *f, size_t i); /* NULL out of range */
/* The row of class cls; NULL when the table has none. */
const struct ph_factor_class *ph_factors_class(const struct ph_factors *f, int cls);
/* true and *ef when the class has a factor for the vector; false for ND. */
bool ph_factor_get(const struct ph_factor_class *c, enum ph_vector v, double *ef);

const char *ph_vector_name(enum ph_vector v); /* "air", "water", "land", "product", "residue" */
const char *ph_basis_name(enum ph_basis b);   /* "t of product", "t of feed" */

#endif
