/* rules_load.c — building the rules engine (rules.h): ph_rules_new,
 * ph_rules_add, ph_rules_free, and ph_rules_load, which rebuilds the
 * engine's state from the database at start-up.
 *
 * Callers: the hub before its writer thread starts; tests.
 * Threads: the caller's; reads through the caller's connection only.
 *
 * What ph_rules_load restores, and from what (rules_sql.h):
 *   series, last value, last data time   every series row + its newest minute rollup
 *   minute rings (windows)               minute rollups of the last window
 *   "condition true since" (instant      the trailing run of minutes that held the
 *    thresholds, residence, flatline)     condition throughout (min/max of the minute
 *                                         rollups), to the minute; not for rules with
 *                                         a `when` gate (states are not rolled up)
 *   the current local hour               its hour rollup
 *   agent presence                       agent_status
 *   which alarms are open                the sink (alarms.h): every open alarm meets
 *                                         its instance, or is closed when its rule is
 *                                         gone, disabled or no longer in scope
 * Invariant: after a restart an alarm is never raised a second time for a
 * condition that did not clear (rules.h inv. 1).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "domain/cems.h"
#include "parkhub/timefmt.h"
#include "alarms/webhook.h"
#include "rules_int.h"
#include "rules_sql.h"

#define MOD "rules"
#define REPLAY_MAX_MIN 1440 /* minutes read back per series at most */


static size_t pow2_at_least(size_t n) {
  size_t p = 16;
  while (p < n) p <<= 1;
  return p;
}

int ph_rules_new(const struct ph_rules_conf *conf, struct ph_rules **out, struct ph_err *err) {
  *out = NULL;
  struct ph_rules *e = ph_calloc(1, sizeof *e);
  if (!e) return ph_fail(err, PH_ENOMEM, "rules: out of memory");
  e->c = *conf;
  e->max_sers = conf->max_series ? conf->max_series : 65536;
  e->max_pts = conf->max_points ? conf->max_points : 16384;
  if (e->max_sers > UINT32_MAX / 4 || e->max_pts > UINT32_MAX / 4) {
    ph_free(e);
    return ph_fail(err, PH_EINVAL, "rules: bounds too large");
  }
  e->ser_mask = pow2_at_least(e->max_sers * 2) - 1;
  e->pt_mask = pow2_at_least(e->max_pts * 2) - 1;
  e->started = ph_now_ms();
  ph_ratelimit_init(&e->rl_full, 60000);
  e->sers = ph_calloc(e->max_sers, sizeof *e->sers);
  e->ser_hash = ph_calloc(e->ser_mask + 1, sizeof *e->ser_hash);
  e->pts = ph_calloc(e->max_pts, sizeof *e->pts);
  e->pt_hash = ph_calloc(e->pt_mask + 1, sizeof *e->pt_hash);
  e->timers = ph_calloc(e->max_sers, sizeof *e->timers);
  bool ok = e->sers && e->ser_hash && e->pts && e->pt_hash && e->timers;
  for (int p = 0; p < conf->refs->cfg->nparks && ok; p++) {
    int n = conf->refs->cfg->parks[p].nents;
    if (!n) continue;
    if (!(e->ents[p] = ph_calloc((size_t)n, sizeof *e->ents[p]))) ok = false;
    for (int k = 0; k < n && ok; k++) {
      struct ent_st *en = &e->ents[p][k];
      en->park = p;
      en->ent = k;
      en->born = e->started;
      en->last_test_day = conf->refs->cfg->parks[p].ents[k].last_stack_test_day; /* ph_rules_set_stack_test: later */
      for (size_t l = 0; l < conf->refs->nlimits; l++)
        if (conf->refs->limits[l] && strcmp(ph_limits_standard(conf->refs->limits[l]), conf->refs->cfg->parks[p].ents[k].standard) == 0)
          en->limits = conf->refs->limits[l];
    }
  }
  if (!ok) {
    ph_rules_free(e);
    return ph_fail(err, PH_ENOMEM, "rules: out of memory");
  }
  e->st.memory = (e->max_sers + e->max_pts) * sizeof(void *) + (e->ser_mask + e->pt_mask + 2) * sizeof(uint32_t);
  *out = e;
  return 0;
}

void ph_rules_free(struct ph_rules *e) {
  if (!e) return;
  for (size_t i = 0; i < e->nsers; i++) {
    ph_free(e->sers[i]->ring);
    ph_free(e->sers[i]->inst);
    ph_free(e->sers[i]);
  }
  for (size_t i = 0; i < e->npts; i++) {
    ph_free(e->pts[i]->inst);
    ph_free(e->pts[i]);
  }
  for (int p = 0; p < PH_HUB_MAX_PARKS; p++) {
    if (e->ents[p])
      for (int k = 0; k < e->c.refs->cfg->parks[p].nents; k++) ph_free(e->ents[p][k].inst);
    ph_free(e->ents[p]);
    ph_free(e->parks[p].rules);
  }
  ph_free(e->sers);
  ph_free(e->ser_hash);
  ph_free(e->pts);
  ph_free(e->pt_hash);
  ph_free(e->timers);
  ph_free(e);
}

int ph_rules_add(struct ph_rules *e, const char *park, struct ph_ruleset *rs, struct ph_err *err) {
  struct ph_rule *rules = rs->rules;
  size_t n = rs->nrules;
  rs->rules = NULL;
  rs->nrules = 0;
  int pi = ph_rules_park_index(e, park);
  const char *o = rs->origin[0] ? rs->origin : "rules";
  int rc = 0;
  if (pi < 0) rc = ph_fail(err, PH_ECONFIG, "%s: park %s is not served by this hub", o, park);
  else if (rs->park[0] && strcmp(rs->park, park) != 0)
    rc = ph_fail(err, PH_ECONFIG, "%s: park: the file is for park %s, not %s", o, rs->park, park);
  else if (e->parks[pi].rules || e->nsers || e->npts)
    rc = ph_fail(err, PH_EINVAL, "%s: park %s already has rules, or evaluation started", o, park);
  for (size_t i = 0; i < n && !rc; i++) {
    const struct ph_rule *r = &rules[i];
    if (r->park[0] && strcmp(r->park, park) != 0)
      rc = ph_fail(err, PH_ECONFIG, "%s: rules[%zu].scope.park: %s is not this file's park %s", o, i, r->park, park);
    else if (r->ent[0] && ph_rules_ent_index(e, pi, r->ent) < 0)
      rc = ph_fail(err, PH_ECONFIG, "%s: rules[%zu].scope.ent: %s is not an enterprise of park %s", o, i, r->ent, park);
  }
  for (size_t i = 0; i < rs->nwebhooks && !rc; i++) /* webhooks stay in rs: the caller starts them */
    if (!rs->webhooks[i].park[0]) snprintf(rs->webhooks[i].park, sizeof rs->webhooks[i].park, "%s", park);
  if (rc) {
    ph_free(rules);
    return rc;
  }
  e->parks[pi].rules = rules;
  e->parks[pi].n = n;
  /* enterprise-level instances */
  const struct ph_hub_park *pc = &e->c.refs->cfg->parks[pi];
  for (int k = 0; k < pc->nents; k++) {
    struct ent_st *en = &e->ents[pi][k];
    int cnt = 0;
    for (size_t i = 0; i < n; i++) {
      const struct ph_rule *r = &rules[i];
      cnt += (r->type == PH_RULE_OFFLINE || (r->type == PH_RULE_OVERDUE && r->if_never)) &&
             ph_rules_scope_matches(r, pc->ents[k].id, NULL, -1);
    }
    if (!cnt) continue;
    if (!(en->inst = ph_calloc((size_t)cnt, sizeof *en->inst))) return ph_fail(err, PH_ENOMEM, "rules: out of memory");
    for (size_t i = 0; i < n; i++) {
      const struct ph_rule *r = &rules[i];
      if ((r->type == PH_RULE_OFFLINE || (r->type == PH_RULE_OVERDUE && r->if_never)) &&
          ph_rules_scope_matches(r, pc->ents[k].id, NULL, -1))
        ph_rules_inst_init(&en->inst[en->ninst++], r);
    }
    e->st.instances += (size_t)en->ninst;
    for (size_t i = 0; i < n; i++)
      if (rules[i].limit_ref && ph_rules_scope_matches(&rules[i], pc->ents[k].id, NULL, -1) && !en->limits)
        PH_WARN(MOD, "%s: rule %s refers to the stack limit, but %s/%s's standard '%s' is not loaded: it never fires there",
                o, rules[i].id, park, pc->ents[k].id, pc->ents[k].standard);
  }
  return 0;
}

/* ---------------------------------------------------------------- load */

enum { Q_SERIES, Q_STATUS, Q_LAST, Q_MINUTES, Q_HOUR, Q_COUNT };

struct load {
  struct ph_rules *e;
  sqlite3 *db;
  sqlite3_stmt *q[Q_COUNT];
  int64_t now;
  struct ph_alarm_sink *sink;
  struct ph_err *err;
};

static int db_fail(struct load *l, const char *what) {
  return ph_fail(l->err, PH_EDB, "rules: loading %s: %s", what, sqlite3_errmsg(l->db));
}

static bool replayable(const struct ph_rule *r) {
  if (r->when_states) return false;
  return (r->type == PH_RULE_THRESHOLD && r->value == PH_RV_INSTANT) || r->type == PH_RULE_RESIDENCE ||
         r->type == PH_RULE_FLATLINE;
}

struct row {
  int64_t bucket, n, nv, first_ts, last_ts;
  double sum, sumv, mn, mx, first, last;
};

/* Whether the whole minute held in's raise condition. */
static bool row_holds(struct ph_rules *e, struct inst *in, const struct ser *s, const struct row *w) {
  const struct ph_rule *r = in->r;
  if (r->valid_only && w->nv < w->n) return false;
  if (r->type == PH_RULE_RESIDENCE) return w->mn >= r->low && w->mx <= r->high;
  bool ok = true;
  double lim = ph_rules_limit(e, in, s, w->first_ts, &ok);
  if (!ok) return false;
  switch (r->op) {
  case PH_OP_GT: return w->mn > lim;
  case PH_OP_LT: return w->mx < lim;
  case PH_OP_OUTSIDE: return w->mn > r->high || w->mx < r->low;
  default: return false;
  }
}

static int load_minutes(struct load *l, struct ser *s, int64_t last_bucket) {
  struct ph_rules *e = l->e;
  int span = s->ring_len;
  double tol = 0;
  for (int i = 0; i < s->ninst; i++) {
    const struct ph_rule *r = s->inst[i].r;
    if (!replayable(r)) continue;
    int m = (int)((r->for_ms + MIN_MS - 1) / MIN_MS) + 1;
    if (m > span) span = m;
    if (r->type == PH_RULE_FLATLINE && r->tolerance > tol) tol = r->tolerance;
  }
  if (span <= 0) return 0;
  if (span > REPLAY_MAX_MIN) span = REPLAY_MAX_MIN;
  int64_t run[64];
  int nrun = s->ninst < 64 ? s->ninst : 64;
  for (int i = 0; i < nrun; i++) run[i] = NONE;
  int64_t prev = NONE, flat_start = NONE;
  double flat_v = 0;
  sqlite3_stmt *q = l->q[Q_MINUTES];
  sqlite3_reset(q);
  sqlite3_bind_int64(q, 2, last_bucket - (int64_t)(span - 1) * MIN_MS);
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) { /* ≤ span rows */
    struct row w = {
        .bucket = sqlite3_column_int64(q, 0), .n = sqlite3_column_int64(q, 1), .nv = sqlite3_column_int64(q, 2),
        .sum = sqlite3_column_double(q, 3), .sumv = sqlite3_column_double(q, 4), .mn = sqlite3_column_double(q, 5),
        .mx = sqlite3_column_double(q, 6), .first_ts = sqlite3_column_int64(q, 7), .first = sqlite3_column_double(q, 8),
        .last_ts = sqlite3_column_int64(q, 9), .last = sqlite3_column_double(q, 10)};
    bool contiguous = prev != NONE && w.bucket == prev + MIN_MS;
    if (s->ring_len && w.bucket > last_bucket - (int64_t)s->ring_len * MIN_MS) {
      struct minute *m = &s->ring[(size_t)(((w.bucket / MIN_MS) % s->ring_len + s->ring_len) % s->ring_len)];
      *m = (struct minute){.min = w.bucket / MIN_MS, .n = (int32_t)w.n, .nv = (int32_t)w.nv, .sum = w.sum,
                           .sumv = w.sumv, .mn = w.mn, .mx = w.mx, .first = w.first, .last = w.last,
                           .first_ts = w.first_ts, .last_ts = w.last_ts};
      /* valid-only extremes are not rolled up: the minute's own extremes, or its valid mean alone */
      if (w.nv == w.n) m->mnv = w.mn, m->mxv = w.mx;
      else if (w.nv) m->mnv = m->mxv = w.sumv / (double)w.nv;
    }
    for (int i = 0; i < nrun; i++) {
      struct inst *in = &s->inst[i];
      if (!replayable(in->r) || in->r->type == PH_RULE_FLATLINE) continue;
      if (!row_holds(e, in, s, &w)) run[i] = NONE;
      else if (run[i] == NONE || !contiguous) run[i] = w.first_ts;
    }
    bool flat = w.mx - w.mn <= tol;
    if (!flat) flat_start = NONE;
    else if (flat_start == NONE || !contiguous || fabs(w.first - flat_v) > tol) flat_start = w.first_ts, flat_v = w.first;
    prev = w.bucket;
  }
  sqlite3_reset(q);
  if (rc != SQLITE_DONE) return db_fail(l, "minute rollups");
  if (prev != last_bucket) return 0; /* the newest minute must be part of any run */
  for (int i = 0; i < nrun; i++) {
    struct inst *in = &s->inst[i];
    if (replayable(in->r) && in->r->type != PH_RULE_FLATLINE && !in->active) in->since = run[i];
  }
  if (flat_start != NONE) {
    s->flat_since = flat_start;
    s->flat_v = flat_v;
  }
  return 0;
}

static int load_series(struct load *l) {
  struct ph_rules *e = l->e;
  sqlite3_stmt *q = l->q[Q_SERIES];
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    const char *park = (const char *)sqlite3_column_text(q, 1), *ent = (const char *)sqlite3_column_text(q, 2);
    const char *point = (const char *)sqlite3_column_text(q, 3), *code = (const char *)sqlite3_column_text(q, 4);
    if (!park || !ent || !point || !code) continue;
    int err = 0;
    struct ser *s = ph_rules_series(e, park, ent, point, code, l->now, l->sink, &err);
    if (err) {
      sqlite3_reset(q);
      return ph_fail(l->err, err, "rules: loading series %s/%s/%s/%s: %s", park, ent, point, code, ph_strerror(err));
    }
    if (!s) continue;
    sqlite3_stmt *m = l->q[Q_LAST];
    sqlite3_reset(m);
    sqlite3_bind_int64(m, 1, sqlite3_column_int64(q, 0));
    if (sqlite3_step(m) != SQLITE_ROW) continue;
    int64_t bucket = sqlite3_column_int64(m, 0), last_ts = sqlite3_column_int64(m, 1);
    s->last_ts = last_ts;
    s->last_v = sqlite3_column_double(m, 2);
    s->cur_min = bucket / MIN_MS;
    s->flat_since = last_ts;
    s->flat_v = s->last_v;
    sqlite3_reset(m);
    struct pt *p = e->pts[s->pt];
    struct ent_st *en = &e->ents[p->park][p->ent];
    if (last_ts > p->last_ts) p->last_ts = last_ts;
    if (last_ts > en->last_rx) en->last_rx = last_ts; /* the data time stands in for the arrival */
    sqlite3_bind_int64(l->q[Q_MINUTES], 1, sqlite3_column_int64(q, 0));
    if ((err = load_minutes(l, s, bucket))) {
      sqlite3_reset(q);
      return err;
    }
    if (s->has_hour) {
      const struct ph_tz *tz = e->c.refs->tz[p->park];
      sqlite3_stmt *h = l->q[Q_HOUR];
      s->hour.start = ph_tz_hour_start(tz, last_ts);
      s->hour.end = ph_cems_next_hour(tz, s->hour.start);
      sqlite3_reset(h);
      sqlite3_bind_int64(h, 1, sqlite3_column_int64(q, 0));
      sqlite3_bind_int64(h, 2, s->hour.start);
      if (sqlite3_step(h) == SQLITE_ROW) {
        s->hour.n = sqlite3_column_int64(h, 0);
        s->hour.nv = sqlite3_column_int64(h, 1);
        s->hour.sum = sqlite3_column_double(h, 2);
        s->hour.sumv = sqlite3_column_double(h, 3);
      }
      sqlite3_reset(h);
    }
  }
  sqlite3_reset(q);
  return rc == SQLITE_DONE ? 0 : db_fail(l, "series");
}

static int load_status(struct load *l) {
  struct ph_rules *e = l->e;
  sqlite3_stmt *q = l->q[Q_STATUS];
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    const char *park = (const char *)sqlite3_column_text(q, 0), *ent = (const char *)sqlite3_column_text(q, 1);
    const char *agent = (const char *)sqlite3_column_text(q, 2), *state = (const char *)sqlite3_column_text(q, 3);
    if (!park || !ent || !agent || !state) continue;
    int pi = ph_rules_park_index(e, park);
    int ei = pi >= 0 ? ph_rules_ent_index(e, pi, ent) : -1;
    if (ei < 0) continue;
    const struct ph_hub_ent *ec = &e->c.refs->cfg->parks[pi].ents[ei];
    for (int a = 0; a < ec->nagents; a++)
      if (strcmp(ec->agents[a], agent) == 0) {
        e->ents[pi][ei].agent[a] = strcmp(state, "online") == 0 ? AG_ONLINE : AG_OFFLINE;
        e->ents[pi][ei].agent_since[a] = sqlite3_column_int64(q, 4);
      }
  }
  sqlite3_reset(q);
  return rc == SQLITE_DONE ? 0 : db_fail(l, "agent status");
}

/* Open alarms, copied out of the sink before any is closed. */
struct open_key {
  char park[PH_ID_MAX + 1], rule[PH_ID_MAX + 1], ent[PH_ID_MAX + 1], point[PH_ID_MAX + 1], metric[PH_ID_MAX + 1];
};
struct open_list {
  struct open_key *k;
  size_t n, cap;
};

static int collect(void *u, const struct ph_alarm_key *k, const char *metric) {
  struct open_list *ol = u;
  if (ol->n == ol->cap) {
    size_t cap = ol->cap ? ol->cap * 2 : 64;
    struct open_key *nk = ph_realloc(ol->k, cap * sizeof *nk);
    if (!nk) return PH_ENOMEM;
    ol->k = nk;
    ol->cap = cap;
  }
  struct open_key *o = &ol->k[ol->n++];
  snprintf(o->park, sizeof o->park, "%s", k->park);
  snprintf(o->rule, sizeof o->rule, "%s", k->rule);
  snprintf(o->ent, sizeof o->ent, "%s", k->ent);
  snprintf(o->point, sizeof o->point, "%s", k->point ? k->point : "");
  snprintf(o->metric, sizeof o->metric, "%s", metric ? metric : "");
  return 0;
}

/* Why the open alarm o has no instance any more (NULL: it has one now). */
static const char *meet(struct load *l, const struct open_key *o, int *err) {
  struct ph_rules *e = l->e;
  *err = 0;
  int pi = ph_rules_park_index(e, o->park);
  if (pi < 0) return "its park is no longer served";
  if (strcmp(o->rule, PH_RULE_DATA_LOSS) == 0) /* the hub's own event alarm: waits for its acknowledgement */
    return ph_rules_ent_index(e, pi, o->ent) < 0 ? "its enterprise is no longer configured" : NULL;
  const struct ph_rule *r = NULL;
  for (size_t i = 0; i < e->parks[pi].n && !r; i++)
    if (strcmp(e->parks[pi].rules[i].id, o->rule) == 0) r = &e->parks[pi].rules[i];
  if (!r) return "its rule is no longer configured";
  if (!r->enabled) return "its rule is disabled";
  int ei = ph_rules_ent_index(e, pi, o->ent);
  if (ei < 0) return "its enterprise is no longer configured";
  bool ent_level = r->type == PH_RULE_OFFLINE || (r->type == PH_RULE_OVERDUE && !o->point[0]);
  if (ent_level) {
    const struct ent_st *en = &e->ents[pi][ei];
    for (int i = 0; i < en->ninst; i++)
      if (en->inst[i].r == r) return NULL;
    return "its enterprise is no longer in the rule's scope";
  }
  if (!o->point[0]) return "it names no point";
  if (r->type == PH_RULE_GAP && r->metric_idx < 0) {
    if (!ph_rules_scope_matches(r, o->ent, o->point, -1)) return "its point is no longer in the rule's scope";
    ph_rules_point(e, pi, ei, o->point, l->now, l->sink, err);
    return NULL;
  }
  const char *metric = r->metric_idx >= 0 ? r->metric : o->metric;
  int mi = metric[0] ? ph_catalog_find(e->c.refs->cat, metric, strlen(metric)) : -1;
  if (mi < 0) return "it names no metric the rule watches";
  if (!ph_rules_scope_matches(r, o->ent, o->point, mi)) return "its point or metric is no longer in the rule's scope";
  ph_rules_series(e, o->park, o->ent, o->point, metric, l->now, l->sink, err);
  return NULL;
}

static int meet_open_alarms(struct load *l) {
  struct ph_alarm_sink *sink = l->sink;
  if (!sink || !sink->foreach_open) return 0;
  struct open_list ol = {0};
  int rc = sink->foreach_open(sink->ctx, collect, &ol);
  size_t closed = 0;
  for (size_t i = 0; i < ol.n && !rc; i++) {
    const struct open_key *o = &ol.k[i];
    const char *why = meet(l, o, &rc);
    if (rc || !why) continue;
    struct ph_alarm_key k = {o->park, o->rule, o->ent, o->point};
    char reason[128];
    snprintf(reason, sizeof reason, "closed at start-up: %s", why);
    PH_INFO(MOD, "alarm %s/%s/%s/%s %s", o->park, o->rule, o->ent, o->point, reason);
    if (sink->close) rc = sink->close(sink->ctx, &k, reason, l->now);
    closed++;
  }
  if (!rc && ol.n) PH_INFO(MOD, "%zu open alarm%s at start-up, %zu closed", ol.n, ol.n == 1 ? "" : "s", closed);
  ph_free(ol.k);
  if (rc) ph_fail(l->err, rc, "rules: meeting the open alarms: %s", ph_strerror(rc));
  return rc;
}

/* Stack tests entered over the API: a later one than the config's counts.
 * A database made before the table has none. */
static int load_stack_tests(struct load *l) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(l->db, RULES_SQL_STACK_TESTS, -1, &q, NULL) != SQLITE_OK) return 0;
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW)
    ph_rules_stack_test(l->e, (const char *)sqlite3_column_text(q, 0), (const char *)sqlite3_column_text(q, 1),
                        (long)sqlite3_column_int64(q, 2));
  sqlite3_finalize(q);
  return rc == SQLITE_DONE ? 0 : db_fail(l, "stack tests");
}

int ph_rules_stack_test(struct ph_rules *e, const char *park, const char *ent, long day) {
  const struct ph_hub_config *cfg = e->c.refs->cfg;
  for (int p = 0; p < cfg->nparks; p++)
    for (int k = 0; e->ents[p] && k < cfg->parks[p].nents; k++)
      if (park && ent && !strcmp(cfg->parks[p].id, park) && !strcmp(cfg->parks[p].ents[k].id, ent)) {
        if (day > e->ents[p][k].last_test_day) e->ents[p][k].last_test_day = day; /* the latest wins */
        return 0;
      }
  return PH_ENOTFOUND; /* an enterprise no longer configured: its rows stay, unused */
}

int ph_rules_load(struct ph_rules *e, sqlite3 *db, int64_t now_ms, struct ph_alarm_sink *sink, struct ph_err *err) {
  static const char *const sql[Q_COUNT] = {RULES_SQL_SERIES, RULES_SQL_STATUS, RULES_SQL_LAST_MINUTE, RULES_SQL_MINUTES,
                                           RULES_SQL_HOUR};
  struct load l = {.e = e, .db = db, .now = now_ms, .sink = sink, .err = err};
  int rc = 0;
  for (int i = 0; i < Q_COUNT && !rc; i++)
    if (sqlite3_prepare_v2(db, sql[i], -1, &l.q[i], NULL) != SQLITE_OK) rc = db_fail(&l, "(prepare)");
  for (int p = 0; p < PH_HUB_MAX_PARKS; p++)
    for (int k = 0; e->ents[p] && k < e->c.refs->cfg->parks[p].nents; k++) e->ents[p][k].born = now_ms;
  if (!rc) rc = load_series(&l);
  if (!rc) rc = load_status(&l);
  if (!rc) rc = load_stack_tests(&l);
  if (!rc) rc = meet_open_alarms(&l);
  if (!rc && (rc = ph_rules_resync(e, sink))) ph_fail(err, rc, "rules: asking the alarms what is open: %s", ph_strerror(rc));
  for (int i = 0; i < Q_COUNT; i++) sqlite3_finalize(l.q[i]);
  if (!rc)
    PH_INFO(MOD, "loaded: %zu series, %zu points, %zu rule instances (%zu with an active alarm)", e->nsers, e->npts,
            e->st.instances, e->st.active);
  return rc;
}
