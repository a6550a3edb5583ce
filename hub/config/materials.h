/* materials.h — a park's material registry: which material codes its
 * weighbridges send, what they are called, what part they play in the
 * balance and how much metal they carry by default. The one place that
 * decides a material's role (the CEMS benchmark volume's product, the
 * PCDD/F inventory's activity, the indicators all ask here).
 *
 * Sources, first match wins:
 *   1. the park's `materials` array in the hub configuration
 *      (schemas/hub-config.schema.json, $defs/material): code, name_zh,
 *      name_en, role, metals {"cu": 0.95, …};
 *   2. the built-in catalogue's material metrics (schemas/metrics.json:
 *      name, role, cu_fraction) — the defaults;
 *   3. anything else is unclassified: stored in the ledger and shown, never
 *      counted as feed, product or residue, no metal.
 * A declared code that is also a catalogue material keeps the catalogue's
 * name (as name_en) and Cu content when it omits name_en or metals.
 *
 * Metal content: a lot's assay in its attrs, `<metal>_pct` (percent,
 * PH_ASSAY_MIN_PCT..PH_ASSAY_MAX_PCT, a JSON number), wins over the
 * material's default for that lot; an assay that is not such a number is
 * ignored (and counted by whoever reads it: indicators.h).
 *
 * Memory: struct ph_materials owns its array (ph_materials_fini). Lookups
 * borrow everything and fill caller-owned structs; no allocation. A
 * registry is immutable after load and may be read by any thread.
 *
 * Invariants (tests cite them):
 *  1. a declared code is an id, appears once per park, and is not a
 *     catalogue metric of another kind (a process or emission code);
 *  2. metal fractions are 0..1 and sum to at most 1 per material;
 *  3. every code has an answer: lookups never fail, an unknown code is
 *     PH_ROLE_UNCLASSIFIED with no metal.
 */
#ifndef PARKHUB_MATERIALS_H
#define PARKHUB_MATERIALS_H

#include <stdbool.h>
#include <stdio.h>

#include "parkhub/catalog.h"
#include "parkhub/err.h"
#include "parkhub/ids.h"

#define PH_MAT_MAX 256          /* declared materials per park */
#define PH_MAT_MAX_METALS 8     /* metals per material */
#define PH_MAT_NAME_CHARS 63    /* characters of a name (UTF-8) */
#define PH_MAT_NAME_MAX 256     /* bytes of a name with its NUL: 63 characters of up to 4 bytes fit */
#define PH_METAL_MAX 2          /* a metal is its chemical symbol in lower case: cu, zn, pb, sn, ni, ag, … */
#define PH_ASSAY_MIN_PCT 0.0
#define PH_ASSAY_MAX_PCT 100.0

struct ph_metal_content {
  char metal[PH_METAL_MAX + 1];
  double fraction; /* mass fraction 0..1 */
};

struct ph_material {
  char code[PH_ID_MAX + 1];
  char name_zh[PH_MAT_NAME_MAX]; /* "" when not given */
  char name_en[PH_MAT_NAME_MAX]; /* "" when not given */
  enum ph_role role;             /* PH_ROLE_FEED..PH_ROLE_WATER, or PH_ROLE_UNCLASSIFIED */
  int nmetals;
  struct ph_metal_content metals[PH_MAT_MAX_METALS];
};

enum ph_mat_source { PH_MAT_UNCLASSIFIED, PH_MAT_CATALOGUE, PH_MAT_PARK };

/* The park's declarations, sorted by code. Zeroed: none (catalogue only). */
struct ph_materials {
  struct ph_material *v; /* owned */
  int n;
};

/* arr: the `materials` member (a const cJSON *, may be NULL: none); path
 * names it in messages ("parks[0].materials"); cat: the catalogue whose
 * materials are the defaults (borrowed). Fills out (zeroed first; on error
 * it holds nothing). PH_ECONFIG with err->msg naming the JSON path. */
int ph_materials_load(const void *arr, const char *path, const struct ph_catalog *cat, struct ph_materials *out,
                      struct ph_err *err);
/* The same for --check-config: with pr, each entry's problem is noted
 * (cfgmap.h) and the next entry read; out then holds the good entries and
 * 0 is returned unless pr is full. A problem of the whole (not an array,
 * too many) is returned. Without pr, ph_materials_load. */
struct ph_cfg_problems;
int ph_materials_load_noting(const void *arr, const char *path, const struct ph_catalog *cat,
                             struct ph_materials *out, struct ph_cfg_problems *pr, struct ph_err *err);
void ph_materials_fini(struct ph_materials *m);
/* One line per key of an entry, for --help. */
void ph_materials_help(const char *prefix, FILE *out);

/* The declared entry of code, or NULL. m may be NULL. Borrowed from m. */
const struct ph_material *ph_materials_declared(const struct ph_materials *m, const char *code);

/* What the park knows of code (inv. 3): fills *out and says where it came
 * from. m may be NULL (catalogue only); cat may be NULL (no defaults). */
enum ph_mat_source ph_material_lookup(const struct ph_materials *m, const struct ph_catalog *cat, const char *code,
                                      struct ph_material *out);
/* The role alone, without copying the entry. */
enum ph_role ph_material_role(const struct ph_materials *m, const struct ph_catalog *cat, const char *code);

/* Default mass fraction of metal in mat; 0 when it declares none. */
double ph_material_metal(const struct ph_material *mat, const char *metal);
/* The display name: name_en, else name_zh, else the code. */
const char *ph_material_name(const struct ph_material *mat);

/* Whether metal is a metal symbol (1..PH_METAL_MAX lower-case letters). */
bool ph_metal_valid(const char *metal);
/* The SQLite JSON path of a lot's assay of metal: "$.cu_pct". false when
 * metal is not valid or cap is short. */
bool ph_assay_path(const char *metal, char *buf, size_t cap);

#endif
