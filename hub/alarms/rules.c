/* rules.c — the rules engine: evaluation of committed values, agent
 * statuses and timers (rules.h; state layout in rules_int.h; its tables
 * and lookups in rules_state.c; start-up from the database in rules_load.c;
 * the file format in rules_config.c).
 *
 * Callers: the hub's writer thread (after each commit; its timer), tests.
 * Threads: one at a time. Owns: the series/point/enterprise state below,
 * allocated when first seen and freed by ph_rules_free.
 *
 * Per value (ph_rules_eval_value):
 *   series lookup (hash of park/ent/point/metric; first sight: match the
 *   park's rules, ask the sink which alarms are open)
 *   → late (ts < newest)? fold into its minute, done (inv. 2 of rules.h)
 *   → minute ring, local hour (a closed hour evaluates hour_mean rules),
 *     flat run → each instance: measure → condition → step
 *
 * An instance's step (value and timer rules alike):
 *
 *            raise cond.            held for_ms             clear cond.        held clear_for_ms
 *   idle ───────────────→ pending ──────────────→ ACTIVE ───────────────→ clearing ─────────────→ idle
 *    ↑   (since := ts)      │ cond. gone           │ ↑   (clear_since := ts)  │ clear cond. gone
 *    └──────────────────────┘ (since := NONE)      │ └─────────────────────────┘
 *                                                  └─ raise cond. again: sink->raise (update)
 *
 *   from → to              function
 *   idle → pending         step(): since = hint or ts
 *   pending → ACTIVE       step(): sink->raise (raise, or re-raise of a cleared alarm)
 *   ACTIVE → ACTIVE        step(): sink->raise (update count/last/value/peak; timer
 *                          rules at most once a minute, not on every tick)
 *   clearing → idle        step(): sink->clear (only when no other series of the
 *                          point keeps the same rule's alarm active: "*" metrics)
 *
 * Hysteresis: > L raises above L and clears at or below L − h; < L raises
 * below L and clears at or above L + h; outside [lo, hi] clears inside
 * [lo + h, hi − h]; inside [lo, hi] (residence) clears outside
 * [lo − h, hi + h]. A value between the two levels changes nothing.
 * A `when` gate that does not hold makes the clear condition true.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "domain/cems.h" /* ph_cems_next_hour */
#include "parkhub/timefmt.h"
#include "rules_int.h"

#define HOUR_GRACE_MS 120000 /* an hour with no later value is evaluated this long after it ends */
#define TIMER_UPDATE_MS 60000 /* a timer rule confirms its active alarm (count, last) once a minute */
/* ----------------------------------------------------------- evaluation */

struct judge {
  bool ok;           /* a measure exists */
  double m;          /* the measure */
  bool raise, clear; /* conditions */
  double limit;
  bool has_limit;
};

static double hyst_of(const struct ph_rule *r, double limit) {
  return r->hyst_pct ? fabs(limit) * r->hyst / 100.0 : r->hyst;
}

static void compare(const struct ph_rule *r, double m, double limit, struct judge *j) {
  double h;
  switch (r->op) {
  case PH_OP_GT:
    h = hyst_of(r, limit);
    j->raise = m > limit;
    j->clear = m <= limit - h;
    break;
  case PH_OP_LT:
    h = hyst_of(r, limit);
    j->raise = m < limit;
    j->clear = m >= limit + h;
    break;
  case PH_OP_OUTSIDE:
    j->raise = m < r->low || m > r->high;
    j->clear = m >= r->low + r->hyst && m <= r->high - r->hyst;
    break;
  case PH_OP_INSIDE:
    j->raise = m >= r->low && m <= r->high;
    j->clear = m < r->low - r->hyst || m > r->high + r->hyst;
    break;
  }
}

double ph_rules_limit(struct ph_rules *e, struct inst *in, const struct ser *s, int64_t ts, bool *ok) {
  const struct ph_rule *r = in->r;
  if (!r->limit_ref) {
    *ok = true;
    return r->limit;
  }
  if (ts < in->lim_from || ts >= in->lim_to || in->lim_from == in->lim_to) {
    const struct pt *p = e->pts[s->pt];
    const struct ph_tz *tz = e->c.refs->tz[p->park];
    const struct ent_st *en = &e->ents[p->park][p->ent];
    const struct ph_hub_ent *ec = ent_cfg(e, p->park, p->ent);
    int64_t d0 = ph_tz_day_start(tz, ts);
    long day = ph_rules_local_day(tz, d0);
    enum ph_plant_class cls = (enum ph_plant_class)ec->plant_class;
    int y;
    unsigned mo, d;
    if (cls == PH_CLASS_NEW && ec->class_since[0] && sscanf(ec->class_since, "%d-%u-%u", &y, &mo, &d) == 3 &&
        day < ph_days_from_civil(y, mo, d))
      cls = PH_CLASS_EXISTING; /* as cems.c: a plant is "new" from class_since */
    double v = 0;
    in->lim_ok = en->limits && ph_limits_stack(en->limits, ph_catalog_at(e->c.refs->cat, (size_t)s->metric)->code,
                                               (enum ph_sector)ec->sector, cls, ec->special_limits, day, &v) == 0;
    in->lim = v * r->factor;
    in->lim_from = d0;
    in->lim_to = ph_tz_next_day(tz, d0);
  }
  *ok = in->lim_ok;
  return in->lim;
}

/* Reports to the sink and flips the instance. */
static int fire(struct ph_rules *e, struct inst *in, bool up, struct render_ctx *rc, int64_t ts,
                struct ph_alarm_sink *sink) {
  const struct ph_rule *r = in->r;
  const struct ph_metric *m = rc->metric >= 0 ? ph_catalog_at(e->c.refs->cat, (size_t)rc->metric) : NULL;
  struct ph_alarm_event ev = {
      .key = ph_rules_key_of(e, r, rc->park, rc->ent, rc->point),
      .metric = m ? m->code : "",
      .severity = r->severity,
      .ts_ms = ts,
      .since_ms = in->since == NONE ? ts : in->since,
      .has_value = rc->has_value,
      .value = rc->value,
      .worse = PH_WORSE_NONE,
      .low = r->low,
      .high = r->high,
      .render = ph_rules_render,
      .priv = rc,
  };
  if (rc->has_value) {
    switch (r->type) {
    case PH_RULE_THRESHOLD:
    case PH_RULE_RATE:
      ev.worse = r->op == PH_OP_GT ? PH_WORSE_HIGHER : r->op == PH_OP_LT ? PH_WORSE_LOWER : PH_WORSE_FARTHER;
      break;
    case PH_RULE_RESIDENCE:
    case PH_RULE_FLAGS: ev.worse = PH_WORSE_HIGHER; break;
    default: break;
    }
  }
  if (rc->since == NONE && in->since != NONE && r->type != PH_RULE_OVERDUE) rc->since = in->since;
  int err = up ? sink->raise(sink->ctx, &ev) : sink->clear(sink->ctx, &ev);
  if (err) {
    e->st.sink_errors++;
    return err;
  }
  if (up) in->updated = ts;
  if (up && !in->active) {
    in->active = true;
    e->st.active++;
    e->st.raises++;
  } else if (!up && in->active) {
    in->active = false;
    e->st.active--;
    e->st.clears++;
  }
  return 0;
}

/* Another series of the same point keeps this rule's ("*" metric) alarm active. */
static bool sibling_active(const struct ph_rules *e, const struct ser *self, const struct ph_rule *r) {
  if (r->metric_idx >= 0) return false;
  for (uint32_t i = e->pts[self->pt]->first_ser; i; i = e->sers[i - 1]->next) {
    const struct ser *s = e->sers[i - 1];
    if (s == self) continue;
    for (int j = 0; j < s->ninst; j++)
      if (s->inst[j].r == r && s->inst[j].active) return true;
  }
  return false;
}

/* The state machine of the top comment. hint: when the condition started
 * (NONE: now). */
static int step(struct ph_rules *e, struct inst *in, const struct judge *j, int64_t ts, int64_t hint,
                struct render_ctx *rc, const struct ser *s, struct ph_alarm_sink *sink) {
  const struct ph_rule *r = in->r;
  if (!in->active) {
    in->clear_since = NONE;
    if (!j->raise) {
      in->since = NONE;
      return 0;
    }
    if (in->since == NONE) in->since = hint != NONE && hint <= ts ? hint : ts;
    if (ts - in->since < r->for_ms) return 0;
    return fire(e, in, true, rc, ts, sink);
  }
  if (j->clear) {
    if (in->clear_since == NONE) in->clear_since = ts;
    if (ts - in->clear_since < r->clear_for_ms) return 0;
    in->since = in->clear_since = NONE;
    if (s && sibling_active(e, s, r)) { /* the point's alarm stays: only this series stops holding it */
      in->active = false;
      e->st.active--;
      return 0;
    }
    return fire(e, in, false, rc, ts, sink);
  }
  in->clear_since = NONE;
  if (!j->raise) return 0;
  bool timer = r->type == PH_RULE_GAP || r->type == PH_RULE_OFFLINE || r->type == PH_RULE_OVERDUE;
  if (timer && in->updated != NONE && ts - in->updated < TIMER_UPDATE_MS) return 0; /* not a row update per tick */
  return fire(e, in, true, rc, ts, sink);
}

static void rctx_for(const struct ph_rules *e, const struct ser *s, const struct inst *in, struct render_ctx *rc) {
  const struct pt *p = e->pts[s->pt];
  memset(rc, 0, sizeof *rc);
  rc->e = e;
  rc->r = in->r;
  rc->park = p->park;
  rc->ent = p->ent;
  rc->point = p->point;
  rc->metric = s->metric;
  rc->since = NONE;
}

/* ---- minute ring */

static void minute_add(struct minute *m, int64_t ts, double v, bool valid) {
  if (m->n == 0) {
    m->mn = m->mx = m->first = m->last = v;
    m->first_ts = m->last_ts = ts;
  }
  m->n++;
  m->sum += v;
  if (v < m->mn) m->mn = v;
  if (v > m->mx) m->mx = v;
  if (ts < m->first_ts) m->first_ts = ts, m->first = v;
  if (ts >= m->last_ts) m->last_ts = ts, m->last = v;
  if (valid) {
    if (m->nv == 0) m->mnv = m->mxv = v;
    m->nv++;
    m->sumv += v;
    if (v < m->mnv) m->mnv = v;
    if (v > m->mxv) m->mxv = v;
  }
}

void ph_rules_ring_add(struct ser *s, int64_t ts, double v, bool valid) {
  if (!s->ring_len) return;
  int64_t mn = floor_div(ts, MIN_MS);
  if (s->cur_min != NONE && mn <= s->cur_min - s->ring_len) return; /* older than the ring */
  struct minute *m = &s->ring[(size_t)(((mn % s->ring_len) + s->ring_len) % s->ring_len)];
  if (m->min != mn) {
    if (m->min != NONE && m->min > mn) return;
    memset(m, 0, sizeof *m);
    m->min = mn;
  }
  minute_add(m, ts, v, valid);
  if (s->cur_min != NONE && mn < s->cur_min) s->gen++;
}

static const struct minute *slot_of(const struct ser *s, int64_t mn) {
  const struct minute *m = &s->ring[(size_t)(((mn % s->ring_len) + s->ring_len) % s->ring_len)];
  return m->min == mn ? m : NULL;
}

/* Totals over the completed minutes of in's window, cached per minute. */
static const struct wtot *totals(const struct ser *s, struct inst *in) {
  if (in->tot_min == s->cur_min && in->tot_gen == s->gen) return &in->tot;
  struct wtot *t = &in->tot;
  memset(t, 0, sizeof *t);
  int w = ph_rules_rule_window(in->r);
  for (int64_t mn = s->cur_min - w + 1; mn < s->cur_min; mn++) { /* ≤ window − 1 minutes */
    const struct minute *m = slot_of(s, mn);
    if (!m || !m->n) continue;
    if (!t->n) t->mn = m->mn, t->mx = m->mx;
    if (m->nv && !t->nv) t->mnv = m->mnv, t->mxv = m->mxv;
    t->n += m->n;
    t->nv += m->nv;
    t->sum += m->sum;
    t->sumv += m->sumv;
    if (m->mn < t->mn) t->mn = m->mn;
    if (m->mx > t->mx) t->mx = m->mx;
    if (m->nv && m->mnv < t->mnv) t->mnv = m->mnv;
    if (m->nv && m->mxv > t->mxv) t->mxv = m->mxv;
    if (!t->has_first) t->has_first = true, t->first = m->first, t->first_ts = m->first_ts;
  }
  in->tot_min = s->cur_min;
  in->tot_gen = s->gen;
  return t;
}

/* The window's aggregate (completed minutes + the current one). */
static bool window_measure(const struct ser *s, struct inst *in, double v, int64_t ts, struct judge *j) {
  const struct ph_rule *r = in->r;
  const struct wtot *t = totals(s, in);
  const struct minute *c = slot_of(s, s->cur_min);
  struct minute z = {0};
  if (!c) c = &z;
  bool valid = r->valid_only;
  int64_t n = valid ? t->nv + c->nv : t->n + c->n;
  switch (r->type) {
  case PH_RULE_FLAGS: {
    int64_t all = t->n + c->n, nv = t->nv + c->nv;
    if (all < r->min_values || all == 0) return false;
    j->m = 100.0 * (double)(all - nv) / (double)all;
    return true;
  }
  case PH_RULE_RATE: {
    double first = t->has_first ? t->first : c->first;
    int64_t first_ts = t->has_first ? t->first_ts : c->first_ts;
    if (!t->has_first && !c->n) return false;
    double dt_min = (double)(ts - first_ts) / (double)MIN_MS;
    double need = r->window_min / 2.0;
    if (dt_min < need || dt_min <= 0) return false;
    j->m = (v - first) / dt_min;
    return true;
  }
  default: break;
  }
  if (n == 0) return false;
  switch (r->value) {
  case PH_RV_MEAN: j->m = valid ? (t->sumv + c->sumv) / (double)n : (t->sum + c->sum) / (double)n; return true;
  case PH_RV_MAX: {
    double a = valid ? t->mxv : t->mx, b = valid ? c->mxv : c->mx;
    bool ha = valid ? t->nv > 0 : t->n > 0, hb = valid ? c->nv > 0 : c->n > 0;
    j->m = ha && hb ? fmax(a, b) : ha ? a : b;
    return true;
  }
  case PH_RV_MIN: {
    double a = valid ? t->mnv : t->mn, b = valid ? c->mnv : c->mn;
    bool ha = valid ? t->nv > 0 : t->n > 0, hb = valid ? c->nv > 0 : c->n > 0;
    j->m = ha && hb ? fmin(a, b) : ha ? a : b;
    return true;
  }
  default: return false;
  }
}

static bool gate_ok(const struct ph_rule *r, const struct pt *p) {
  return !r->when_states || (r->when_states & (1u << p->state));
}

/* One value rule on one in-order value. */
static int eval_inst(struct ph_rules *e, struct ser *s, struct inst *in, const struct ph_obs *o,
                     struct ph_alarm_sink *sink) {
  const struct ph_rule *r = in->r;
  const struct pt *p = e->pts[s->pt];
  struct judge j = {0};
  bool valid = o->flag == 'N';
  switch (r->type) {
  case PH_RULE_THRESHOLD:
    if (r->value == PH_RV_HOUR_MEAN) return 0; /* at the hour's close */
    if (r->value == PH_RV_INSTANT) {
      if (r->valid_only && !valid) return 0;
      j.m = o->value;
      j.ok = true;
    } else {
      j.ok = window_measure(s, in, o->value, o->ts_ms, &j);
    }
    break;
  case PH_RULE_RESIDENCE:
    if (r->valid_only && !valid) return 0;
    j.m = o->value;
    j.ok = true;
    break;
  case PH_RULE_RATE:
    if (r->valid_only && !valid) return 0;
    j.ok = window_measure(s, in, o->value, o->ts_ms, &j);
    break;
  case PH_RULE_FLAGS: j.ok = window_measure(s, in, o->value, o->ts_ms, &j); break;
  case PH_RULE_FLATLINE:
    j.ok = true;
    j.m = o->value;
    j.raise = s->flat_since != NONE && o->ts_ms - s->flat_since >= r->for_ms;
    j.clear = !j.raise;
    break;
  default: return 0; /* timer rules */
  }
  if (!j.ok) return 0;
  e->st.evaluated++;
  if (r->type != PH_RULE_FLATLINE) {
    bool lim_ok = true;
    double lim = r->type == PH_RULE_THRESHOLD ? ph_rules_limit(e, in, s, o->ts_ms, &lim_ok) : r->limit;
    if (!lim_ok) {
      j.raise = false;
      j.clear = true; /* no limit in force that day */
    } else {
      compare(r, j.m, lim, &j);
      j.limit = lim;
      j.has_limit = r->op == PH_OP_GT || r->op == PH_OP_LT;
    }
  }
  if (!gate_ok(r, p)) j.raise = false, j.clear = true;
  struct render_ctx rc;
  rctx_for(e, s, in, &rc);
  rc.has_value = true;
  rc.value = j.m;
  rc.has_limit = j.has_limit;
  rc.limit = j.limit;
  int64_t hint = r->type == PH_RULE_FLATLINE ? s->flat_since : NONE;
  return step(e, in, &j, o->ts_ms, hint, &rc, s, sink);
}

/* The local hour of s closed: hour_mean rules judge its mean at its end. */
static int close_hour(struct ph_rules *e, struct ser *s, struct ph_alarm_sink *sink) {
  struct hour_agg *h = &s->hour;
  if (h->done || !h->n) {
    h->done = true;
    return 0;
  }
  h->done = true;
  for (int i = 0; i < s->ninst; i++) {
    struct inst *in = &s->inst[i];
    const struct ph_rule *r = in->r;
    if (r->type != PH_RULE_THRESHOLD || r->value != PH_RV_HOUR_MEAN) continue;
    int64_t n = r->valid_only ? h->nv : h->n;
    if (!n) continue;
    struct judge j = {.ok = true, .m = (r->valid_only ? h->sumv : h->sum) / (double)n};
    bool lim_ok = true;
    double lim = ph_rules_limit(e, in, s, h->start, &lim_ok);
    if (!lim_ok) j.clear = true;
    else compare(r, j.m, lim, &j);
    struct render_ctx rc;
    rctx_for(e, s, in, &rc);
    rc.has_value = true;
    rc.value = j.m;
    rc.has_limit = lim_ok && r->op != PH_OP_OUTSIDE;
    rc.limit = lim;
    e->st.evaluated++;
    int err = step(e, in, &j, h->end, h->start, &rc, s, sink);
    if (err) return err;
  }
  return 0;
}

static int hour_add(struct ph_rules *e, struct ser *s, int64_t ts, double v, bool valid, struct ph_alarm_sink *sink) {
  struct hour_agg *h = &s->hour;
  if (ts < h->start) return 0; /* late: that hour was judged */
  if (ts >= h->end || h->end == 0) {
    int err = h->end ? close_hour(e, s, sink) : 0;
    if (err) return err;
    const struct ph_tz *tz = e->c.refs->tz[e->pts[s->pt]->park];
    memset(h, 0, sizeof *h);
    h->start = ph_tz_hour_start(tz, ts);
    h->end = ph_cems_next_hour(tz, h->start);
  }
  h->n++;
  h->sum += v;
  if (valid) h->nv++, h->sumv += v;
  return 0;
}

/* ---- timer instances */

static int gap_inst(struct ph_rules *e, struct inst *in, const struct pt *p, const struct ser *s, int64_t now,
                    struct ph_alarm_sink *sink) {
  const struct ph_rule *r = in->r;
  int64_t last = s ? (s->last_ts == NONE ? 0 : s->last_ts) : p->last_ts;
  int64_t ref = last ? last : p->born;
  int64_t thr = r->after_s > 0 ? (int64_t)(r->after_s * 1000) : (int64_t)(r->intervals * p->interval_s * 1000);
  struct judge j = {.ok = true};
  j.raise = now - ref > thr;
  j.clear = !j.raise;
  if (!j.raise && !in->active && in->since == NONE) return 0;
  struct render_ctx rc = {.e = e, .r = r, .park = p->park, .ent = p->ent, .point = p->point,
                          .metric = s ? s->metric : -1, .since = last ? last : NONE};
  return step(e, in, &j, now, ref + thr, &rc, s, sink);
}

/* Local midnight starting local day `day`. */
static int64_t test_day_ms(const struct ph_tz *tz, long day) { return ph_tz_date_start(tz, day); }

/* Days from today to the next test due after last_day; *due its day. */
static int64_t due_in(struct ph_rules *e, const struct ph_rule *r, const struct ph_tz *tz, int park, int ent,
                      long last_day, int64_t now, long *due) {
  int period = r->period_days ? r->period_days : (int)ent_cfg(e, park, ent)->stack_test_interval_days;
  if (period <= 0) period = 365;
  *due = last_day + period;
  return *due - ph_rules_local_day(tz, now);
}

static int overdue_inst(struct ph_rules *e, struct inst *in, const struct ser *s, int64_t now,
                        struct ph_alarm_sink *sink) {
  const struct ph_rule *r = in->r;
  const struct pt *p = e->pts[s->pt];
  if (s->last_ts == NONE) return 0; /* known only from an open alarm: wait for data */
  const struct ph_tz *tz = e->c.refs->tz[p->park];
  long last_day = ph_rules_local_day(tz, s->last_ts), known = e->ents[p->park][p->ent].last_test_day;
  int64_t since = s->last_ts;
  if (known > last_day) { /* a later test entered (config, API) than the data holds */
    last_day = known;
    since = test_day_ms(tz, known);
  }
  struct judge j = {.ok = true};
  long due = 0;
  int64_t left = due_in(e, r, tz, p->park, p->ent, last_day, now, &due);
  j.raise = r->warn_days < 0 ? left < 0 : left <= r->warn_days;
  j.clear = !j.raise;
  if (!j.raise && !in->active) {
    in->since = NONE;
    return 0;
  }
  struct render_ctx rc;
  rctx_for(e, s, in, &rc);
  rc.since = since;
  rc.has_days = true;
  rc.days = left < 0 ? -left : left;
  rc.due_day = due;
  return step(e, in, &j, now, NONE, &rc, s, sink);
}

/* Enterprise-level: offline (status, silence) and overdue "never". */
static int ent_inst(struct ph_rules *e, struct ent_st *en, struct inst *in, int64_t now, struct ph_alarm_sink *sink) {
  const struct ph_rule *r = in->r;
  const struct ph_hub_ent *ec = ent_cfg(e, en->park, en->ent);
  struct render_ctx rc = {.e = e, .r = r, .park = en->park, .ent = en->ent, .point = "", .metric = r->metric_idx,
                          .since = NONE};
  struct judge j = {.ok = true};
  int64_t hint = NONE;
  char agents[PH_HUB_MAX_AGENTS * 8 + 32] = "", agents_zh[sizeof agents + 32] = "";
  if (r->type == PH_RULE_OFFLINE) {
    for (int a = 0; a < ec->nagents && r->status; a++)
      if (en->agent[a] == AG_OFFLINE) {
        j.raise = true;
        if (hint == NONE || en->agent_since[a] < hint) hint = en->agent_since[a];
        size_t l = strlen(agents), lz = strlen(agents_zh);
        if (l < sizeof agents - PH_ID_MAX - 16) {
          snprintf(agents + l, sizeof agents - l, "%s%s", l ? ", " : "agent ", ec->agents[a]);
          snprintf(agents_zh + lz, sizeof agents_zh - lz, "%s%s", lz ? "、" : "网关 ", ec->agents[a]);
        }
      }
    if (j.raise) {
      strncat(agents, " offline", sizeof agents - strlen(agents) - 1);
      strncat(agents_zh, " 离线", sizeof agents_zh - strlen(agents_zh) - 1);
    }
    if (r->silence_intervals > 0) {
      int64_t ref = en->last_rx ? en->last_rx : en->born;
      int64_t thr = (int64_t)(r->silence_intervals * ec->expected_interval_s * 1000);
      if (now - ref > thr) {
        if (!j.raise) {
          snprintf(agents, sizeof agents, "no data for %lld s", (long long)((now - ref) / 1000));
          snprintf(agents_zh, sizeof agents_zh, "%lld 秒没有数据", (long long)((now - ref) / 1000));
          hint = ref;
        }
        j.raise = true;
      }
    }
    rc.agent = agents;
    rc.agent_zh = agents_zh;
    rc.since = hint;
  } else if (!in->seen && en->last_test_day) { /* no record, but a test date entered (config, API) */
    const struct ph_tz *tz = e->c.refs->tz[en->park];
    long due = 0;
    int64_t left = due_in(e, r, tz, en->park, en->ent, en->last_test_day, now, &due);
    j.raise = r->warn_days < 0 ? left < 0 : left <= r->warn_days;
    rc.since = hint = test_day_ms(tz, en->last_test_day);
    rc.has_days = true;
    rc.days = left < 0 ? -left : left;
    rc.due_day = due;
  } else { /* overdue, no record at all */
    j.raise = !in->seen;
    hint = en->born;
    if (j.raise) {
      long today = ph_rules_local_day(e->c.refs->tz[en->park], now);
      rc.has_days = true;
      rc.days = 0;
      rc.due_day = today;
    }
  }
  j.clear = !j.raise;
  if (!j.raise && !in->active && in->since == NONE) return 0;
  return step(e, in, &j, now, hint, &rc, NULL, sink);
}

/* ---------------------------------------------------------------- API */

int ph_rules_eval_value(struct ph_rules *e, const struct ph_obs *o, int64_t now_ms, struct ph_alarm_sink *sink) {
  int rc = 0;
  e->st.values++;
  struct ser *s = ph_rules_series(e, o->park, o->ent, o->point, o->metric, now_ms, sink, &rc);
  if (!s) return rc;
  struct pt *p = e->pts[s->pt];
  struct ent_st *en = &e->ents[p->park][p->ent];
  if (now_ms > en->last_rx) en->last_rx = now_ms;
  if (o->state != PH_STATE_NONE) p->state = o->state;
  bool valid = o->flag == 'N';
  if (s->last_ts != NONE && o->ts_ms < s->last_ts) { /* rules.h inv. 2 */
    e->st.late++;
    ph_rules_ring_add(s, o->ts_ms, o->value, valid);
    return 0;
  }
  s->last_ts = o->ts_ms;
  s->last_v = o->value;
  if (o->ts_ms > p->last_ts) p->last_ts = o->ts_ms;
  if (s->ring_len) {
    ph_rules_ring_add(s, o->ts_ms, o->value, valid);
  }
  s->cur_min = floor_div(o->ts_ms, MIN_MS);
  if (s->has_hour && (rc = hour_add(e, s, o->ts_ms, o->value, valid, sink))) return rc;
  double tol = 0;
  for (int i = 0; i < s->ninst; i++)
    if (s->inst[i].r->type == PH_RULE_FLATLINE && s->inst[i].r->tolerance > tol) tol = s->inst[i].r->tolerance;
  if (s->flat_since == NONE || fabs(o->value - s->flat_v) > tol) {
    s->flat_since = o->ts_ms;
    s->flat_v = o->value;
  }
  for (int i = 0; i < s->ninst && !rc; i++) {
    struct inst *in = &s->inst[i];
    switch (in->r->type) {
    case PH_RULE_OVERDUE:
      if (in->active) rc = overdue_inst(e, in, s, now_ms, sink); /* a new record clears at once */
      break;
    case PH_RULE_GAP:
      if (in->active) rc = gap_inst(e, in, p, s, now_ms, sink);
      break;
    default: rc = eval_inst(e, s, in, o, sink);
    }
  }
  for (int i = 0; i < p->ninst && !rc; i++)
    if (p->inst[i].active) rc = gap_inst(e, &p->inst[i], p, NULL, now_ms, sink);
  for (int i = 0; i < en->ninst && !rc; i++)
    if (en->inst[i].active && en->inst[i].r->type == PH_RULE_OFFLINE) rc = ent_inst(e, en, &en->inst[i], now_ms, sink);
  return rc;
}

int ph_rules_eval_status(struct ph_rules *e, const char *park, const char *ent, const char *agent, const char *state,
                         int64_t ts_ms, int64_t now_ms, struct ph_alarm_sink *sink) {
  int pi = ph_rules_park_index(e, park);
  int ei = pi >= 0 ? ph_rules_ent_index(e, pi, ent) : -1;
  if (ei < 0) return 0;
  struct ent_st *en = &e->ents[pi][ei];
  const struct ph_hub_ent *ec = ent_cfg(e, pi, ei);
  for (int a = 0; a < ec->nagents; a++) {
    if (strcmp(ec->agents[a], agent) != 0) continue;
    uint8_t st = strcmp(state, "online") == 0 ? AG_ONLINE : AG_OFFLINE;
    if (en->agent[a] != st) en->agent_since[a] = ts_ms;
    en->agent[a] = st;
  }
  int rc = 0;
  for (int i = 0; i < en->ninst && !rc; i++)
    if (en->inst[i].r->type == PH_RULE_OFFLINE) rc = ent_inst(e, en, &en->inst[i], now_ms, sink);
  return rc;
}

int ph_rules_tick(struct ph_rules *e, int64_t now_ms, struct ph_alarm_sink *sink) {
  int rc = 0;
  e->st.ticks++;
  for (size_t t = 0; t < e->ntimers && !rc; t++) {
    struct ser *s = e->sers[e->timers[t]];
    if (s->has_hour && s->hour.end && !s->hour.done && now_ms >= s->hour.end + HOUR_GRACE_MS)
      rc = close_hour(e, s, sink);
    for (int i = 0; i < s->ninst && !rc; i++) {
      struct inst *in = &s->inst[i];
      if (in->r->type == PH_RULE_OVERDUE) rc = overdue_inst(e, in, s, now_ms, sink);
      else if (in->r->type == PH_RULE_GAP) rc = gap_inst(e, in, e->pts[s->pt], s, now_ms, sink);
    }
  }
  for (size_t i = 0; i < e->npts && !rc; i++)
    for (int k = 0; k < e->pts[i]->ninst && !rc; k++) rc = gap_inst(e, &e->pts[i]->inst[k], e->pts[i], NULL, now_ms, sink);
  for (int p = 0; p < e->c.refs->cfg->nparks && !rc; p++)
    for (int k = 0; k < e->c.refs->cfg->parks[p].nents && !rc; k++) {
      struct ent_st *en = &e->ents[p][k];
      for (int i = 0; i < en->ninst && !rc; i++) rc = ent_inst(e, en, &en->inst[i], now_ms, sink);
    }
  return rc;
}

int ph_rules_resync(struct ph_rules *e, struct ph_alarm_sink *sink) {
  int rc = 0;
  for (size_t i = 0; i < e->nsers && !rc; i++) {
    struct ser *s = e->sers[i];
    const struct pt *p = e->pts[s->pt];
    for (int k = 0; k < s->ninst && !rc; k++) rc = ph_rules_ask_state(e, &s->inst[k], p->park, p->ent, p->point, sink);
  }
  for (size_t i = 0; i < e->npts && !rc; i++) {
    struct pt *p = e->pts[i];
    for (int k = 0; k < p->ninst && !rc; k++) rc = ph_rules_ask_state(e, &p->inst[k], p->park, p->ent, p->point, sink);
  }
  for (int p = 0; p < e->c.refs->cfg->nparks && !rc; p++)
    for (int k = 0; k < e->c.refs->cfg->parks[p].nents && !rc; k++) {
      struct ent_st *en = &e->ents[p][k];
      for (int i = 0; i < en->ninst && !rc; i++) rc = ph_rules_ask_state(e, &en->inst[i], p, k, "", sink);
    }
  return rc;
}

void ph_rules_stats(const struct ph_rules *e, struct ph_rules_stats *st) { *st = e->st; }
