/* report_indicators.c — the report's "indicators" section: the material
 * balance of the year (feed, product, residues, copper in and out, yield),
 * figures per t of product against the baseline year, and one row per
 * material of the ledger; for an enterprise or for the park.
 *
 * Callers: report_json.c (rb_indicators per enterprise, then for the park).
 * Threads: the caller's. Memory: one struct ph_indicators per call, freed
 * before returning.
 *
 * Invariants (report_json.c inv. 1, indicators.c inv. 1):
 *  1. Without a ledger record in the year every figure is null with "no
 *     material (weighbridge) record in the year", never 0.
 *  2. A per-t figure without product is null with the indicator's reason;
 *     a change needs both figures.
 *  3. The park's baseline mixes years: whether it has one is ph_indicators'
 *     answer alone.
 */
#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "parkhub/na_reasons.h"
#include "domain/indicators.h"
#include "report_build.h"

static const char *base_why(const struct ph_indicators *ind, const struct ind_ctx *c, char *buf, size_t cap) {
  if (c->ent && !c->baseline_year) snprintf(buf, cap, "%s", PH_NA(NO_BASELINE_YEAR));
  else if (!c->ent && ind->baseline_missing)
  {
    char n[16];
    snprintf(n, sizeof n, "%d", ind->baseline_missing);
    snprintf(buf, cap, ind->baseline_missing == 1 ? PH_NA(ONE_ENT_NO_BASELINE_YEAR) : PH_NA(ENTS_NO_BASELINE_YEAR), n);
  }
  else if (!c->ent && !ind->has_baseline) snprintf(buf, cap, "%s", PH_NA(NO_BASELINE_YEAR));
  else if (!c->base_ledger)
    snprintf(buf, cap, "%s", c->ent ? PH_NA(NO_MATERIAL_BASELINE_YEAR) : PH_NA(NO_MATERIAL_BASELINE_YEARS));
  else snprintf(buf, cap, "%s", c->ent ? PH_NA(NO_PRODUCT_BASELINE_YEAR) : PH_NA(NO_PRODUCT_BASELINE_YEARS));
  return buf;
}

static cJSON *per_t_row(struct rb *r, cJSON *rows, const char *code, const char *label, bool total_avail, double tot,
                      const char *total_unit, const char *unit, const struct ph_ind_value *v,
                      const struct ph_ind_value *b, bool has_base, double scale, const char *value_why,
                      const char *base_why_s) {
  cJSON *o = rb_row(r, rows);
  rb_str(r, o, "indicator", code);
  rb_str(r, o, "label", label);
  rb_num_or(r, o, "total", total_avail, tot, "%s", value_why);
  rb_str(r, o, "total_unit", total_unit);
  rb_num_or(r, o, "value", total_avail && v->avail, v->v * scale, "%s", value_why);
  rb_str(r, o, "unit", unit);
  rb_num_or(r, o, "baseline", has_base && b->avail, b->v * scale, "%s", base_why_s);
  rb_num_or(r, o, "change", v->change_avail, v->change * scale, "%s", PH_NA(NEEDS_BOTH_FIGURES));
  rb_num_or(r, o, "change_pct", v->change_pct_avail, v->change_pct, "%s",
         v->change_avail ? PH_NA(BASELINE_FIGURE_ZERO) : PH_NA(NEEDS_BOTH_FIGURES));
  return o;
}

/* One row per material of the ledger: the park's registry names it. */
static void material_rows(struct rb *r, const struct ph_ind_figures *f, cJSON *mats) {
  for (int i = 0; i < f->nmaterials; i++) {
    const struct ph_ind_material *mt = &f->materials[i];
    struct ph_material def;
    ph_material_lookup(&r->park->materials, r->cat, mt->code, &def);
    cJSON *o = rb_row(r, mats);
    rb_str(r, o, "material", mt->code);
    rb_str(r, o, "name", ph_material_name(&def));
    int ci = def.name_zh[0] ? -1 : ph_catalog_find(r->cat, mt->code, strlen(mt->code));
    rb_str(r, o, "name_zh", ci >= 0 ? rb_metric(r, ci)->name_zh : def.name_zh); /* the catalogue's when the park's registry has none */
    rb_str(r, o, "role", ph_role_name(mt->role));
    rb_num(r, o, "cu_fraction", mt->cu_fraction);
    rb_num(r, o, "in_t", mt->in_t);
    rb_num(r, o, "out_t", mt->out_t);
    rb_num(r, o, "cu_in_t", mt->cu_in_t);
    rb_num(r, o, "cu_out_t", mt->cu_out_t);
    rb_int(r, o, "lots", mt->lots);
    rb_int(r, o, "assay_lots", mt->assay_lots);
    rb_int(r, o, "assay_ignored_lots", mt->assay_ignored_lots);
  }
}

int rb_indicators(struct rb *r, const struct ind_ctx *c, cJSON *scope) {
  struct ph_indicators *ind = ph_malloc(sizeof *ind);
  if (!ind) return ph_fail(r->err, PH_ENOMEM, "report: out of memory");
  int rc = ph_indicators(r->db, r->env->refs->cfg, r->tz, r->cat, r->park->id, c->ent, r->year, 0, ind, r->err);
  if (rc) goto out;
  struct ind_ctx cc = *c;
  int by = c->ent ? c->baseline_year : 0;
  if ((rc = rb_any_data(r, c->ent, NULL, r->from, r->to, &cc.ledger))) goto out;
  if (by && (rc = rb_any_data(r, c->ent, NULL, ph_inventory_midnight(r->tz, by, 1, 1),
                           ph_inventory_midnight(r->tz, by + 1, 1, 1), &cc.base_ledger)))
    goto out;
  if (!c->ent) cc.base_ledger = ind->has_baseline; /* several years: ph_indicators says whether it has them */

  cJSON *io = rb_obj(r, scope, "indicators");
  const struct ph_ind_figures *f = &ind->cur, *b = &ind->base;
  const char *noledger = PH_NA(NO_LEDGER_IN_YEAR);
  rb_num_or(r, io, "feed_t", cc.ledger, f->feed_t, "%s", noledger);
  rb_num_or(r, io, "product_t", cc.ledger, f->product_t, "%s", noledger);
  rb_num_or(r, io, "residue_t", cc.ledger, f->residue_t, "%s", noledger);
  rb_num_or(r, io, "consumable_t", cc.ledger, f->consumable_t, "%s", noledger);
  rb_num_or(r, io, "energy_t", cc.ledger, f->energy_t, "%s", noledger);
  rb_num_or(r, io, "water_t", cc.ledger, f->water_t, "%s", noledger);
  rb_num_or(r, io, "unclassified_in_t", cc.ledger, f->unclassified_in_t, "%s", noledger);
  rb_num_or(r, io, "unclassified_out_t", cc.ledger, f->unclassified_out_t, "%s", noledger);
  rb_int(r, io, "unclassified_lots", f->unclassified_lots);
  rb_num_or(r, io, "cu_in_t", cc.ledger, f->cu_in_t, "%s", noledger);
  rb_num_or(r, io, "cu_out_t", cc.ledger, f->cu_out_t, "%s", noledger);
  rb_num_or(r, io, "cu_residue_t", cc.ledger, f->cu_residue_t, "%s", noledger);
  rb_num_or(r, io, "yield_pct", cc.ledger && f->yield.avail, f->yield.v * 100, "%s", cc.ledger ? f->yield.na : noledger);
  rb_int(r, io, "assay_lots", f->assay_lots);
  rb_int(r, io, "assay_ignored_lots", f->assay_ignored_lots);
  if (c->ent) {
    if (by) rb_int(r, io, "baseline_year", by);
    else rb_na(r, io, "baseline_year", "%s", PH_NA(NO_BASELINE_YEAR));
  } else {
    rb_int(r, io, "baseline_missing", ind->baseline_missing);
  }

  char bw[128], vw[128];
  base_why(ind, &cc, bw, sizeof bw);
  const char *noprod = cc.ledger ? f->feed_per_t.na : noledger; /* every per-t ratio's reason: no product */
  cJSON *rows = rb_arr(r, io, "per_t");
  per_t_row(r, rows, "feed", "Feed per t of product", cc.ledger, f->feed_t, "t", "t/t", &f->feed_per_t,
            &b->feed_per_t, ind->has_baseline, 1, noprod, bw);
  per_t_row(r, rows, "residue", "Residues per t of product", cc.ledger, f->residue_t, "t", "t/t", &f->residue_per_t,
            &b->residue_per_t, ind->has_baseline, 1, noprod, bw);
  per_t_row(r, rows, "consumable", "Consumables per t of product", cc.ledger, f->consumable_t, "t", "t/t",
            &f->consumable_per_t, &b->consumable_per_t, ind->has_baseline, 1, noprod, bw);
  for (int i = 0; i < f->nquantities; i++) {
    const struct ph_ind_quantity *q = &f->quantities[i], *qb = ph_ind_quantity(b, q->code);
    int idx = ph_catalog_find(r->cat, q->code, strlen(q->code));
    bool data = false, bdata = false;
    if ((rc = rb_any_data(r, c->ent, q->code, r->from, r->to, &data))) goto out;
    if (by && (rc = rb_any_data(r, c->ent, q->code, ph_inventory_midnight(r->tz, by, 1, 1),
                             ph_inventory_midnight(r->tz, by + 1, 1, 1), &bdata)))
      goto out;
    if (!c->ent) bdata = true; /* the park's baseline mixes years: judged by ph_indicators alone */
    char label[160], unit[40], bqw[160];
    /* "Electricity use in the interval" (a record's meaning) reads "Electricity use per t of product" here */
    const char *name = idx >= 0 ? rb_metric(r, idx)->name : q->code;
    size_t nl = strlen(name), sl = strlen(" in the interval");
    int keep = nl > sl && strcmp(name + nl - sl, " in the interval") == 0 ? (int)(nl - sl) : (int)nl;
    snprintf(label, sizeof label, "%.*s per t of product", keep, name);
    snprintf(unit, sizeof unit, "%s/t", q->unit);
    snprintf(vw, sizeof vw, "%s", !data ? PH_NA(NO_DATA_IN_YEAR) : noprod);
    snprintf(bqw, sizeof bqw, "%s", ind->has_baseline && !bdata ? PH_NA(NO_DATA_IN_BASELINE_YEAR) : bw);
    struct ph_ind_value none = {0};
    cJSON *o = per_t_row(r, rows, q->code, label, data, q->total, q->unit, unit, &q->per_t,
                         qb ? &qb->per_t : &none, ind->has_baseline && bdata, 1, vw, bqw);
    if (idx >= 0 && rb_metric(r, idx)->name_zh[0]) { /* the Chinese label beside (report_html: "<k>_zh") */
      snprintf(label, sizeof label, "每吨产品%s", rb_metric(r, idx)->name_zh);
      rb_str(r, o, "label_zh", label);
    }
  }
  per_t_row(r, rows, "yield", "Copper yield (Cu out in product / Cu in feed)", cc.ledger, f->cu_out_t, "t Cu", "%",
            &f->yield, &b->yield, ind->has_baseline, 100, cc.ledger ? f->yield.na : noledger, bw);

  if (f->materials_omitted) rb_int(r, io, "materials_omitted", f->materials_omitted);
  material_rows(r, f, rb_arr(r, io, "materials"));
out:
  ph_free(ind);
  return rc;
}
