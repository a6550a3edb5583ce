/* rules_state.c — the rules engine's state tables (rules_int.h): indices of
 * parks and enterprises in the config, rule instances, and the point and
 * series tables (open addressing on a hash of park/ent/point[/metric]),
 * filled on first sight of a point or series with the park's matching rules.
 *
 * Callers: rules.c (evaluation), rules_load.c (start-up). Threads: the
 * rules engine's one thread at a time. Owns: the struct pt and struct ser it
 * allocates and their instances, freed by ph_rules_free.
 *
 * Invariants:
 *  1. Bounded: at most max_pts points and max_sers series; one more is
 *     refused (NULL, counted, logged rate-limited), never a crash, and the
 *     tables never grow past their mask.
 *  2. A new instance starts idle (since = clear_since = NONE) and learns
 *     from the sink whether its alarm is open (ph_rules_ask_state) before
 *     its first evaluation: a restart does not raise an alarm twice.
 *  3. A series gets one instance per rule of its park that applies to a
 *     series and whose scope matches (enabled, enterprise, point, metric);
 *     a series with a timer or hour rule is listed once in e->timers.
 */
#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "parkhub/timefmt.h"
#include "rules_int.h"

#define MOD "rules"

/* ------------------------------------------------------------- helpers */

static uint64_t fnv(uint64_t h, const char *s) {
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return (h ^ 0xff) * 1099511628211ULL;
}

long ph_rules_local_day(const struct ph_tz *tz, int64_t ms) {
  return (long)floor_div(ms + (int64_t)ph_tz_offset_s(tz, ms) * 1000, DAY_MS);
}

bool ph_rules_park_active(const struct ph_rules *e, int park_idx) {
  return park_idx >= 0 && park_idx < e->c.refs->cfg->nparks && e->parks[park_idx].n > 0;
}

int ph_rules_park_index(const struct ph_rules *e, const char *park) {
  for (int p = 0; p < e->c.refs->cfg->nparks; p++)
    if (strcmp(e->c.refs->cfg->parks[p].id, park) == 0) return p;
  return -1;
}

int ph_rules_ent_index(const struct ph_rules *e, int park, const char *ent) {
  const struct ph_hub_park *p = &e->c.refs->cfg->parks[park];
  for (int i = 0; i < p->nents; i++)
    if (strcmp(p->ents[i].id, ent) == 0) return i;
  return -1;
}

bool ph_rules_scope_matches(const struct ph_rule *r, const char *ent, const char *point, int metric) {
  return r->enabled && (!r->ent[0] || strcmp(r->ent, ent) == 0) && (!point || !r->point[0] || strcmp(r->point, point) == 0) &&
         (metric < 0 || r->metric_idx < 0 || r->metric_idx == metric);
}

void ph_rules_inst_init(struct inst *in, const struct ph_rule *r) {
  memset(in, 0, sizeof *in);
  in->r = r;
  in->since = in->clear_since = NONE;
  in->lim_from = in->lim_to = 0;
  in->tot_min = NONE;
  in->updated = NONE;
}

struct ph_alarm_key ph_rules_key_of(const struct ph_rules *e, const struct ph_rule *r, int park, int ent,
                                     const char *point) {
  return (struct ph_alarm_key){.park = e->c.refs->cfg->parks[park].id, .rule = r->id,
                               .ent = ent_cfg(e, park, ent)->id, .point = point ? point : ""};
}

int ph_rules_ask_state(struct ph_rules *e, struct inst *in, int park, int ent, const char *point,
                     struct ph_alarm_sink *sink) {
  if (!sink || !sink->state) return 0;
  struct ph_alarm_key k = ph_rules_key_of(e, in->r, park, ent, point);
  int s = sink->state(sink->ctx, &k);
  if (s < 0) return s;
  bool was = in->active;
  in->active = s == PH_ALARM_ACTIVE;
  if (in->active && !was) e->st.active++;
  if (!in->active && was) e->st.active--;
  return 0;
}

/* --------------------------------------------------------------- tables */

static int hash_find(uint32_t *tab, size_t mask, uint64_t h, bool (*eq)(const struct ph_rules *, uint32_t, const void *),
                     const struct ph_rules *e, const void *key, size_t *slot) {
  size_t i = (size_t)h & mask;
  for (size_t n = 0; n <= mask; n++, i = (i + 1) & mask) {
    if (!tab[i]) {
      *slot = i;
      return -1;
    }
    if (eq(e, tab[i] - 1, key)) return (int)(tab[i] - 1);
  }
  *slot = (size_t)-1;
  return -1;
}

struct pkey {
  int park, ent;
  const char *point;
};
static uint64_t pt_hash_of(const struct ph_rules *e, int park, int ent, const char *point) {
  return fnv(fnv(fnv(1469598103934665603ULL, e->c.refs->cfg->parks[park].id), ent_cfg(e, park, ent)->id), point);
}
static bool pt_eq(const struct ph_rules *e, uint32_t i, const void *k) {
  const struct pkey *pk = k;
  const struct pt *p = e->pts[i];
  return p->park == pk->park && p->ent == pk->ent && strcmp(p->point, pk->point) == 0;
}

struct skey {
  const char *park, *ent, *point, *metric;
};
static bool ser_eq(const struct ph_rules *e, uint32_t i, const void *k) {
  const struct skey *sk = k;
  const struct ser *s = e->sers[i];
  const struct pt *p = e->pts[s->pt];
  return strcmp(ph_catalog_at(e->c.refs->cat, (size_t)s->metric)->code, sk->metric) == 0 &&
         strcmp(p->point, sk->point) == 0 && strcmp(ent_cfg(e, p->park, p->ent)->id, sk->ent) == 0 &&
         strcmp(e->c.refs->cfg->parks[p->park].id, sk->park) == 0;
}
static uint64_t ser_hash_of(const char *park, const char *ent, const char *point, const char *metric) {
  return fnv(fnv(fnv(fnv(1469598103934665603ULL, park), ent), point), metric);
}

static void note_full(struct ph_rules *e, const char *what, size_t max) {
  uint64_t sup = 0;
  e->st.untracked++;
  if (ph_ratelimit_ok(&e->rl_full, ph_mono_ms(), &sup))
    PH_WARN(MOD, "more than %zu %s: new ones are not evaluated (%llu values so far); raise the engine's bound", max,
            what, (unsigned long long)e->st.untracked);
}

struct pt *ph_rules_point(struct ph_rules *e, int park, int ent, const char *point, int64_t now_ms,
                          struct ph_alarm_sink *sink, int *rc) {
  *rc = 0;
  struct pkey k = {park, ent, point};
  size_t slot = (size_t)-1;
  int i = hash_find(e->pt_hash, e->pt_mask, pt_hash_of(e, park, ent, point), pt_eq, e, &k, &slot);
  if (i >= 0) return e->pts[i];
  if (e->npts >= e->max_pts || slot == (size_t)-1) {
    note_full(e, "points", e->max_pts);
    return NULL;
  }
  struct pt *p = ph_calloc(1, sizeof *p);
  if (!p) {
    *rc = PH_ENOMEM;
    return NULL;
  }
  p->park = park;
  p->ent = ent;
  snprintf(p->point, sizeof p->point, "%s", point);
  p->born = now_ms;
  p->interval_s = ph_hub_point_interval(ent_cfg(e, park, ent), point);
  if (!(p->interval_s > 0)) p->interval_s = 10;
  const struct park_rules *pr = &e->parks[park];
  int n = 0;
  for (size_t r = 0; r < pr->n; r++)
    n += pr->rules[r].type == PH_RULE_GAP && pr->rules[r].metric_idx < 0 &&
         ph_rules_scope_matches(&pr->rules[r], ent_cfg(e, park, ent)->id, point, -1);
  if (n && !(p->inst = ph_calloc((size_t)n, sizeof *p->inst))) {
    ph_free(p);
    *rc = PH_ENOMEM;
    return NULL;
  }
  for (size_t r = 0; r < pr->n; r++)
    if (pr->rules[r].type == PH_RULE_GAP && pr->rules[r].metric_idx < 0 &&
        ph_rules_scope_matches(&pr->rules[r], ent_cfg(e, park, ent)->id, point, -1))
      ph_rules_inst_init(&p->inst[p->ninst++], &pr->rules[r]);
  p->self = (uint32_t)e->npts;
  e->pts[e->npts] = p;
  e->pt_hash[slot] = (uint32_t)++e->npts;
  e->st.points = e->npts;
  e->st.instances += (size_t)p->ninst;
  e->st.memory += sizeof *p + (size_t)p->ninst * sizeof *p->inst;
  for (int j = 0; j < p->ninst; j++)
    if ((*rc = ph_rules_ask_state(e, &p->inst[j], park, ent, point, sink))) return NULL;
  return p;
}

static bool series_rule(const struct ph_rule *r) {
  return r->type == PH_RULE_THRESHOLD || r->type == PH_RULE_RESIDENCE || r->type == PH_RULE_RATE ||
         r->type == PH_RULE_FLATLINE || r->type == PH_RULE_FLAGS || r->type == PH_RULE_OVERDUE ||
         (r->type == PH_RULE_GAP && r->metric_idx >= 0);
}

int ph_rules_rule_window(const struct ph_rule *r) {
  if (r->type == PH_RULE_RATE || r->type == PH_RULE_FLAGS) return r->window_min;
  if (r->type == PH_RULE_THRESHOLD && (r->value == PH_RV_MEAN || r->value == PH_RV_MAX || r->value == PH_RV_MIN))
    return r->window_min;
  return 0;
}

static bool timer_rule(const struct ph_rule *r) {
  return r->type == PH_RULE_OVERDUE || r->type == PH_RULE_GAP ||
         (r->type == PH_RULE_THRESHOLD && r->value == PH_RV_HOUR_MEAN);
}

struct ser *ph_rules_series(struct ph_rules *e, const char *park, const char *ent, const char *point,
                            const char *metric, int64_t now_ms, struct ph_alarm_sink *sink, int *rc) {
  *rc = 0;
  struct skey k = {park, ent, point, metric};
  size_t slot = (size_t)-1;
  int i = hash_find(e->ser_hash, e->ser_mask, ser_hash_of(park, ent, point, metric), ser_eq, e, &k, &slot);
  if (i >= 0) return e->sers[i];
  int pi = ph_rules_park_index(e, park);
  int ei = pi >= 0 ? ph_rules_ent_index(e, pi, ent) : -1;
  int mi = ph_catalog_find(e->c.refs->cat, metric, strlen(metric));
  if (ei < 0 || mi < 0) return NULL; /* not ours: ingest refuses these, a stale row at load may not */
  if (e->nsers >= e->max_sers || slot == (size_t)-1) {
    note_full(e, "series", e->max_sers);
    return NULL;
  }
  struct pt *p = ph_rules_point(e, pi, ei, point, now_ms, sink, rc);
  if (!p) return NULL;
  const struct park_rules *pr = &e->parks[pi];
  int n = 0, ring = 0;
  bool hour = false, timer = false;
  for (size_t r = 0; r < pr->n; r++) {
    const struct ph_rule *ru = &pr->rules[r];
    if (!series_rule(ru) || !ph_rules_scope_matches(ru, ent, point, mi)) continue;
    n++;
    if (ph_rules_rule_window(ru) > ring) ring = ph_rules_rule_window(ru);
    hour |= ru->type == PH_RULE_THRESHOLD && ru->value == PH_RV_HOUR_MEAN;
    timer |= timer_rule(ru);
  }
  struct ser *s = ph_calloc(1, sizeof *s);
  if (!s || (n && !(s->inst = ph_calloc((size_t)n, sizeof *s->inst))) ||
      (ring && !(s->ring = ph_calloc((size_t)ring, sizeof *s->ring)))) {
    if (s) ph_free(s->inst);
    ph_free(s);
    *rc = PH_ENOMEM;
    return NULL;
  }
  s->metric = mi;
  s->born = now_ms;
  s->last_ts = NONE;
  s->cur_min = NONE;
  s->flat_since = NONE;
  s->ring_len = ring;
  for (int j = 0; j < ring; j++) s->ring[j].min = NONE;
  s->has_hour = hour;
  s->timer = timer || hour;
  for (size_t r = 0; r < pr->n; r++)
    if (series_rule(&pr->rules[r]) && ph_rules_scope_matches(&pr->rules[r], ent, point, mi))
      ph_rules_inst_init(&s->inst[s->ninst++], &pr->rules[r]);
  uint32_t idx = (uint32_t)e->nsers;
  s->pt = p->self;
  s->next = p->first_ser;
  p->first_ser = idx + 1;
  e->sers[idx] = s;
  e->ser_hash[slot] = idx + 1;
  e->nsers++;
  if (s->timer) e->timers[e->ntimers++] = idx;
  e->st.series = e->nsers;
  e->st.instances += (size_t)s->ninst;
  e->st.memory += sizeof *s + (size_t)s->ninst * sizeof *s->inst + (size_t)ring * sizeof *s->ring;
  /* an enterprise-level "never" overdue instance learns a record exists */
  struct ent_st *en = &e->ents[pi][ei];
  for (int j = 0; j < en->ninst; j++) {
    const struct ph_rule *ru = en->inst[j].r;
    if (ru->type == PH_RULE_OVERDUE && ru->metric_idx == mi && (!ru->point[0] || strcmp(ru->point, point) == 0))
      en->inst[j].seen = true;
  }
  for (int j = 0; j < s->ninst; j++)
    if ((*rc = ph_rules_ask_state(e, &s->inst[j], pi, ei, point, sink))) return NULL;
  return s;
}
