/* indicators.h — cleaner-production and recycling indicators per
 * enterprise and per park, for a local calendar month or year
 * (DESIGN.md "What the hub computes"):
 *
 *   - tonnes from the material ledger, by each material's role in the
 *     park's registry (materials.h: the park's declaration, else the
 *     catalogue's): feed (dir in), product (dir out), residue (dir out),
 *     consumable, energy, water (dir in); a material moving the other way
 *     is listed per material but not counted in these totals. A code
 *     neither declares is unclassified: its tonnes in and out and its lots
 *     are counted apart (unclassified_*), never in feed, product or
 *     residue, and it carries no metal;
 *   - quantities of the process metrics that aggregate by sum (electricity
 *     kWh, fuel_gas Nm³, fuel_oil kg, water m³ in the built-in catalogue):
 *     Σ of the day rollups' `sum` (all data flags) over the period;
 *   - per tonne of product: feed, each quantity, residues, consumables;
 *   - copper per lot: qty × attrs.cu_pct / 100 when the lot has an assay
 *     (a JSON number 0..100), else qty × the material's default Cu
 *     fraction; an assay that is present but not such a number is ignored
 *     (the default applies) and counted (assay_ignored_lots). Cu in = Σ
 *     over feed lots in, Cu out = Σ over product lots out, Cu in residues
 *     = Σ over residue lots out; yield = Cu out / Cu in, available only
 *     when Cu in > 0 ("no copper in feed") and product was weighed
 *     ("no product weighed in the period") — never 0 % for want of data;
 *   - change against the baseline year: the enterprise's configured
 *     baseline.year, whole year, for every per-tonne figure and the yield
 *     (delta and percent). For a park, the baseline is the sum of each
 *     enterprise's own baseline year, and changes are given only when every
 *     enterprise has one (baseline_missing counts those that do not).
 *
 * A ratio whose denominator is 0 is not available (avail false, na says
 * why), never 0.
 * Periods: month 1..12 = [1st 00:00 local, 1st of next month); month 0 =
 * the whole year. The park total is the sum of its configured enterprises.
 *
 * Reads through the caller's connection with prepared statements; borrows
 * every argument; results in caller-owned structs. Threads: the caller's.
 */
#ifndef PARKHUB_INDICATORS_H
#define PARKHUB_INDICATORS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "parkhub/catalog.h"
#include "parkhub/err.h"
#include "config/hub_config.h"
#include "parkhub/ids.h"
#include "config/materials.h"
#include "parkhub/tz.h"

#define PH_IND_MAX_MATERIALS 128
#define PH_IND_MAX_QUANTITIES 32

/* A ratio and its change against the baseline. */
struct ph_ind_value {
  bool avail;     /* false: denominator 0 (no product, no metal in) */
  const char *na; /* !avail: why, a static string ("no product weighed in the period") */
  double v;
  bool change_avail; /* current and baseline both available */
  double change;     /* v − baseline v */
  bool change_pct_avail;
  double change_pct; /* change / baseline v × 100, when baseline v ≠ 0 */
};

struct ph_ind_material {
  char code[PH_ID_MAX + 1];
  enum ph_role role;  /* in the park's registry; PH_ROLE_UNCLASSIFIED: declared nowhere */
  double cu_fraction; /* default Cu content (0 for unclassified) */
  double in_t, out_t;
  double cu_in_t, cu_out_t; /* Cu carried in and out: each lot's assay, or the default */
  int64_t lots;             /* ledger records */
  int64_t assay_lots;       /* lots whose Cu assay was used */
  int64_t assay_ignored_lots; /* lots with a cu_pct that is not a number 0..100: the default was used */
};

struct ph_ind_quantity {
  char code[PH_ID_MAX + 1]; /* a process metric with agg sum */
  char unit[24];
  double total;
  struct ph_ind_value per_t; /* per t of product */
};

struct ph_ind_figures {
  double feed_t, product_t, residue_t, consumable_t, energy_t, water_t;
  double unclassified_in_t, unclassified_out_t; /* codes neither the park nor the catalogue declares */
  int64_t unclassified_lots;
  double cu_in_t, cu_out_t, cu_residue_t;
  int64_t assay_lots, assay_ignored_lots; /* Σ over the materials */
  struct ph_ind_value feed_per_t, residue_per_t, consumable_per_t, yield;
  int nquantities; /* every process metric with agg sum of the catalogue, in its order */
  struct ph_ind_quantity quantities[PH_IND_MAX_QUANTITIES];
  int nmaterials; /* materials with ledger rows in the period, by code */
  int materials_omitted; /* more than PH_IND_MAX_MATERIALS: the rest are in the totals, not listed */
  struct ph_ind_material materials[PH_IND_MAX_MATERIALS];
};

struct ph_indicators {
  char park[PH_ID_MAX + 1];
  char ent[PH_ID_MAX + 1]; /* "" for the park */
  int year, month;         /* month 0: the whole year */
  int64_t from_ms, to_ms;
  struct ph_ind_figures cur;
  int baseline_year;    /* enterprise: its baseline year (0: none); park: 0 */
  bool has_baseline;    /* base holds the baseline and cur's changes are filled */
  int baseline_missing; /* enterprises counted here that have no baseline year */
  struct ph_ind_figures base; /* whole baseline year(s) */
};

/* ent NULL or "": the park (sum of its configured enterprises).
 * PH_ENOTFOUND: park or enterprise not configured; PH_EINVAL: year outside
 * 1971..9998 or month outside 0..12; PH_EDB. */
int ph_indicators(sqlite3 *db, const struct ph_hub_config *cfg, const struct ph_tz *tz,
                  const struct ph_catalog *cat, const char *park, const char *ent, int year, int month,
                  struct ph_indicators *out, struct ph_err *err);

/* The quantity of a process metric in f, or NULL when the catalogue has no
 * such sum metric. Borrowed from f. */
const struct ph_ind_quantity *ph_ind_quantity(const struct ph_ind_figures *f, const char *code);
/* The ledger line of a material in f, or NULL when it had no rows. */
const struct ph_ind_material *ph_ind_material(const struct ph_ind_figures *f, const char *code);

#endif
