/* rules_int.h — the rules engine's state, shared by rules.c (evaluation),
 * rules_state.c (its tables and lookups), rules_load.c (start-up from the
 * database) and rules_config.c (message templates). Not a public header.
 *
 * Layout (all bounded; indices are array positions, 0 = none where noted):
 *
 *   ents[park][ent]   struct ent_st   agents' status, last arrival, enterprise-level
 *                                     instances (offline, overdue "never")
 *   pts[]             struct pt       (park, ent, point): last data time, process
 *                                     state, its series (list), gap instances
 *   sers[]            struct ser      (pt, metric): last value, minute ring,
 *                                     current local hour, flat run, instances
 *   struct inst       one (rule, key): since, clear_since, active, caches
 */
#ifndef PH_RULES_INT_H
#define PH_RULES_INT_H

#include <stdint.h>

#include "parkhub/log.h"
#include "alarms/rules.h"

#define NONE INT64_MIN
#define MIN_MS 60000LL
#define DAY_MS 86400000LL

enum { AG_UNKNOWN, AG_ONLINE, AG_OFFLINE };

/* One minute of one series. */
struct minute {
  int64_t min; /* minute number (ts / 60000); slot empty when it is not the one looked for */
  int32_t n, nv;
  double sum, sumv, mn, mx, mnv, mxv, first, last;
  int64_t first_ts, last_ts;
};

/* Totals over the completed minutes of an instance's window. */
struct wtot {
  int64_t n, nv;
  double sum, sumv, mn, mx, mnv, mxv;
  bool has_first;
  double first;
  int64_t first_ts;
};

struct hour_agg {
  int64_t start, end; /* local clock hour [start, end) */
  int64_t n, nv;
  double sum, sumv;
  bool done; /* evaluated */
};

struct inst {
  const struct ph_rule *r;
  int64_t since, clear_since; /* NONE when not holding */
  bool active;                /* an active alarm is open for the key */
  int64_t updated;            /* when the sink last heard the condition holds (timer rules: once a minute) */
  bool seen;                  /* overdue "never": the enterprise has a record */
  /* stack limit cache: valid for [lim_from, lim_to) */
  int64_t lim_from, lim_to;
  double lim;
  bool lim_ok;
  /* window totals cache: minutes before tot_min, ring generation tot_gen */
  int64_t tot_min;
  uint32_t tot_gen;
  struct wtot tot;
};

struct ent_st {
  int park, ent;
  const struct ph_limits *limits; /* its standard; NULL when not loaded */
  int64_t last_rx;                /* the clock when its latest value was evaluated (load: data time) */
  int64_t born;
  long last_test_day; /* the last stack test known besides the data (config, API): local day; 0 none */
  uint8_t agent[PH_HUB_MAX_AGENTS];
  int64_t agent_since[PH_HUB_MAX_AGENTS];
  struct inst *inst;
  int ninst;
};

struct pt {
  uint32_t self; /* its index in pts */
  int park, ent;
  char point[PH_ID_MAX + 1];
  int64_t last_ts, born; /* last_ts 0: no record seen */
  enum ph_state state;
  double interval_s;
  uint32_t first_ser; /* index + 1 */
  struct inst *inst;
  int ninst;
};

struct ser {
  uint32_t pt;
  int metric;
  uint32_t next; /* next series of the point, index + 1 */
  int64_t last_ts, born;
  double last_v;
  int64_t cur_min; /* minute of last_ts */
  int64_t flat_since;
  double flat_v;
  struct minute *ring;
  int ring_len;
  uint32_t gen; /* bumped when a late value changes a past minute */
  bool has_hour, timer;
  struct hour_agg hour;
  struct inst *inst;
  int ninst;
};

struct park_rules {
  struct ph_rule *rules;
  size_t n;
};

struct ph_rules {
  struct ph_rules_conf c;
  int64_t started;
  struct park_rules parks[PH_HUB_MAX_PARKS];
  struct ent_st *ents[PH_HUB_MAX_PARKS];
  struct ser **sers;
  size_t nsers, max_sers, ser_mask;
  uint32_t *ser_hash; /* index + 1 */
  struct pt **pts;
  size_t npts, max_pts, pt_mask;
  uint32_t *pt_hash;
  uint32_t *timers; /* series with timer instances or hour rules */
  size_t ntimers;
  struct ph_rules_stats st;
  struct ph_ratelimit rl_full;
};

static inline int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

static inline const struct ph_hub_ent *ent_cfg(const struct ph_rules *e, int park, int ent) {
  return &e->c.refs->cfg->parks[park].ents[ent];
}

/* rules_state.c */
struct ph_alarm_key ph_rules_key_of(const struct ph_rules *e, const struct ph_rule *r, int park, int ent,
                                    const char *point);
int ph_rules_rule_window(const struct ph_rule *r); /* minutes of ring a rule needs; 0: none */
void ph_rules_inst_init(struct inst *in, const struct ph_rule *r);
int ph_rules_ask_state(struct ph_rules *e, struct inst *in, int park, int ent, const char *point,
                       struct ph_alarm_sink *sink);
struct ser *ph_rules_series(struct ph_rules *e, const char *park, const char *ent, const char *point,
                            const char *metric, int64_t now_ms, struct ph_alarm_sink *sink, int *rc);
struct pt *ph_rules_point(struct ph_rules *e, int park, int ent, const char *point, int64_t now_ms,
                          struct ph_alarm_sink *sink, int *rc);
int ph_rules_park_index(const struct ph_rules *e, const char *park);
int ph_rules_ent_index(const struct ph_rules *e, int park, const char *ent);
bool ph_rules_scope_matches(const struct ph_rule *r, const char *ent, const char *point, int metric);
double ph_rules_limit(struct ph_rules *e, struct inst *in, const struct ser *s, int64_t ts, bool *ok);
void ph_rules_ring_add(struct ser *s, int64_t ts, double v, bool valid);
int ph_rules_max_for_min(const struct ser *s);
long ph_rules_local_day(const struct ph_tz *tz, int64_t ms);

/* rules_config.c: templates. */
bool ph_rules_template_ok(const char *t, char *bad, size_t cap);
struct render_ctx {
  const struct ph_rules *e;
  const struct ph_rule *r;
  int park, ent;
  const char *point;
  int metric; /* -1 none */
  bool has_value, has_limit;
  double value, limit;
  int64_t since; /* NONE: never */
  bool has_days;
  int64_t days;
  long due_day;
  const char *agent, *agent_zh; /* offline: which agents, or how long silent, per language */
};
void ph_rules_render(const struct ph_alarm_event *ev, enum ph_lang lang, char *buf, size_t cap);

#endif
