/* rules.h — alarm rules as data (schemas/rules.schema.json) and the engine
 * that evaluates them on committed data.
 *
 * A rules file (one per park) compiles into a struct ph_ruleset
 * (ph_ruleset_load_*; a bad file is refused with "file: rules[3].threshold.op:
 * reason"). The engine (ph_rules_new, ph_rules_add per park) keeps bounded
 * in-memory state per series (park, ent, point, metric): the last value, a
 * ring of minute aggregates as long as the longest window of the rules on
 * it, the current local hour's aggregate, the start of the current
 * flat run; per (rule, series) the time the condition started holding and
 * whether its alarm is active.
 *
 * Rule types (the condition object's key in the file):
 *   threshold  instant value, mean/max/min over N minutes, or the mean of
 *              each local clock hour (evaluated when the hour closes) > limit,
 *              < limit or outside [low, high]; limit a number or the stack
 *              limit of the enterprise's standard on the value's local date
 *              (limits.h ph_limits_stack; sector, plant class, special);
 *   residence  inside [low, high] for longer than for_s (de novo window);
 *   rate       change per minute over N minutes;
 *   flatline   identical values (within tolerance) for for_s;
 *   flags      share of non-N flags over N minutes above max_pct;
 *   gap        no record on a point (or of a metric on it) for a while   (timer)
 *   offline    an agent's status says offline, or the enterprise is silent (timer + status)
 *   overdue    no record of a metric on a point for period_days           (timer)
 * Every rule has hysteresis where it has a level (clear below limit − h),
 * for_s (hold before raising) and, for value rules, clear_for_s.
 *
 * Time: value rules run on data time (the record's ts); timer rules on the
 * now_ms the caller passes (the hub's clock).
 *
 * Threads: an engine is used by one thread at a time (the hub's writer
 * thread: ph_rules_eval_* after each commit and ph_rules_tick on its
 * timer). It never calls Paho and never blocks on another stage: it
 * reports through a struct ph_alarm_sink (alarms.h provides one).
 *
 * Memory: bounded by conf.max_series and conf.max_points; each series
 * costs about 100 bytes per minute of its longest window. Allocation
 * happens when a series or point is first seen, never per value.
 *
 * Invariants:
 *  1. a rule's alarm is raised once per (rule, ent, point) while its
 *     condition holds: the engine asks the sink whether an alarm is already
 *     open when it first meets the key, so a restart does not re-raise.
 *  2. a value rule only evaluates values that are not older than the
 *     series' newest (late values update windows but raise nothing).
 *  3. nothing here allocates, reads the database or logs per value.
 */
#ifndef PARKHUB_RULES_H
#define PARKHUB_RULES_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parkhub/batch.h"   /* enum ph_state */
#include "parkhub/catalog.h"
#include "parkhub/err.h"
#include "config/refs.h"
#include "parkhub/ids.h"
#include "parkhub/lang.h"   /* enum ph_lang */
#include "parkhub/limits.h"
#include "parkhub/topic.h"   /* enum ph_severity */
#include "parkhub/tz.h"

/* ------------------------------------------------------------ the rules */

enum ph_rule_type {
  PH_RULE_THRESHOLD, PH_RULE_RESIDENCE, PH_RULE_RATE, PH_RULE_FLATLINE, PH_RULE_FLAGS,
  PH_RULE_GAP, PH_RULE_OFFLINE, PH_RULE_OVERDUE, PH_RULE_TYPES
};
/* What a threshold compares. */
enum ph_rule_value { PH_RV_INSTANT, PH_RV_MEAN, PH_RV_MAX, PH_RV_MIN, PH_RV_HOUR_MEAN };
enum ph_rule_op { PH_OP_GT, PH_OP_LT, PH_OP_OUTSIDE, PH_OP_INSIDE /* residence */ };

#define PH_RULE_MSG_MAX 512       /* template, bytes */
#define PH_RULES_MAX 1000         /* per file */
#define PH_RULE_WINDOW_MAX 1440   /* minutes */

struct ph_rule {
  char id[PH_ID_MAX + 1];
  enum ph_rule_type type;
  enum ph_severity severity;
  bool enabled;
  /* scope; "" = any */
  char park[PH_ID_MAX + 1], ent[PH_ID_MAX + 1], point[PH_ID_MAX + 1], metric[PH_ID_MAX + 1];
  int metric_idx; /* catalogue index, -1 = any */
  /* the condition */
  enum ph_rule_value value;
  int window_min;        /* mean/max/min, rate, flags */
  enum ph_rule_op op;
  bool limit_ref;        /* limit = the stack limit × factor */
  double limit, factor, low, high;
  double hyst;           /* dead band; a percentage of the limit when hyst_pct */
  bool hyst_pct;
  int64_t for_ms, clear_for_ms;
  bool valid_only;
  unsigned when_states;  /* bit (1 << enum ph_state); 0 = any state */
  double tolerance;      /* flatline */
  double max_pct;        /* flags */
  int64_t min_values;    /* flags */
  double after_s, intervals;        /* gap: after_s > 0, else intervals × the point's interval */
  bool status;                      /* offline: alarm on an offline status */
  double silence_intervals;         /* offline: 0 = no silence check */
  int period_days;                  /* overdue: 0 = the enterprise's stack_test_interval_days */
  int warn_days;                    /* overdue: -1 = fire once overdue */
  bool if_never;                    /* overdue */
  char message[PH_RULE_MSG_MAX + 1];    /* template ({ent}, {value}, …), English */
  char message_zh[PH_RULE_MSG_MAX + 1]; /* the same in Chinese */
};

struct ph_webhook_conf; /* webhook.h */

/* One rules file, compiled. Caller-owned: ph_ruleset_fini releases it. */
struct ph_ruleset {
  char origin[256];           /* file name, for messages */
  char park[PH_ID_MAX + 1];   /* "" when the file names no park */
  struct ph_rule *rules;
  size_t nrules;
  struct ph_webhook_conf *webhooks;
  size_t nwebhooks;
};

/* Compiles a rules file; cat (borrowed) resolves metric codes. On failure
 * out is empty and err says "file: rules[3].threshold.op: reason"
 * (PH_ECONFIG; PH_EIO/PH_EJSON for unreadable files, PH_ENOMEM). */
int ph_ruleset_load_file(const char *path, const struct ph_catalog *cat, struct ph_ruleset *out, struct ph_err *err);
int ph_ruleset_load_json(const char *text, size_t len, const char *origin, const struct ph_catalog *cat,
                         struct ph_ruleset *out, struct ph_err *err);
void ph_ruleset_fini(struct ph_ruleset *rs);

const char *ph_rule_type_name(enum ph_rule_type t);

/* -------------------------------------------------- what rules report */

/* Which open alarm: one per (park, rule, ent, point); point "" for
 * enterprise-level rules (offline, overdue with no record at all). */
struct ph_alarm_key {
  const char *park, *rule, *ent, *point;
};

/* How a value compares with the peak kept so far. */
enum ph_alarm_worse { PH_WORSE_NONE, PH_WORSE_HIGHER, PH_WORSE_LOWER, PH_WORSE_FARTHER /* from [low, high] */ };

/* Every alarm carries its message in both languages of parkhub/lang.h
 * (alarm.schema.json: message, message_zh). */

struct ph_alarm_event {
  struct ph_alarm_key key;
  const char *metric;   /* "" when none */
  enum ph_severity severity;
  int64_t ts_ms;        /* when the condition was seen (data time, or the clock for timer rules) */
  int64_t since_ms;     /* when it started holding */
  bool has_value;
  double value;
  enum ph_alarm_worse worse;
  double low, high;     /* PH_WORSE_FARTHER */
  /* Writes the human message in lang into buf (always NUL-terminated); the
   * sink calls it only when it needs one (a raise), so updates cost nothing. */
  void (*render)(const struct ph_alarm_event *ev, enum ph_lang lang, char *buf, size_t cap);
  const void *priv;     /* render's */
  /* An event alarm (the hub's data_loss): a raise again of its cleared
   * alarm renders a new message (rule alarms keep their first one). */
  bool renew_message;
};

/* The rule id of the hub's own alarm for a declared data loss (a gap an
 * agent declared; writer.c): one per (park, enterprise), raised and cleared
 * at once, so it waits for an acknowledgement. Not a rule of a rules file. */
#define PH_RULE_DATA_LOSS "data_loss"

enum ph_alarm_open { PH_ALARM_NONE, PH_ALARM_ACTIVE, PH_ALARM_CLEARED };

/* The engine's output. Every function returns 0 or a PH_E* code (a
 * database failure): the caller then rolls the alarms back and calls
 * ph_rules_resync. */
struct ph_alarm_sink {
  void *ctx;
  /* The condition holds: raise a new alarm, re-raise a cleared one, or
   * update the active one (count, last, value, peak). */
  int (*raise)(void *ctx, const struct ph_alarm_event *ev);
  /* The condition is gone (past the hysteresis): clear the alarm. */
  int (*clear)(void *ctx, const struct ph_alarm_event *ev);
  /* Whether an alarm is open for k (enum ph_alarm_open). */
  int (*state)(void *ctx, const struct ph_alarm_key *k);
  /* Restart: fn for every open alarm; and closing one whose rule is gone. */
  int (*foreach_open)(void *ctx, int (*fn)(void *u, const struct ph_alarm_key *k, const char *metric), void *u);
  int (*close)(void *ctx, const struct ph_alarm_key *k, const char *why, int64_t now_ms);
};

/* ---------------------------------------------------------- the engine */

/* One committed value. Strings are borrowed for the call. */
struct ph_obs {
  const char *park, *ent, *point, *metric; /* ids; metric: a catalogue code */
  int64_t ts_ms;
  double value;
  char flag;           /* HJ 212 flag; 'N' = valid */
  enum ph_state state; /* the record's process state; PH_STATE_NONE when it gave none */
};

struct ph_rules_conf {
  const struct ph_refs *refs; /* borrowed: must outlive the engine (refs.h) */
  size_t max_series;  /* 0: 65536 */
  size_t max_points;  /* 0: 16384 */
};

struct ph_rules_stats {
  uint64_t values, evaluated, late, raises, clears, untracked; /* untracked: values of series past max_series */
  uint64_t ticks, sink_errors;
  size_t series, points, instances, active;
  size_t memory; /* bytes of series/point state */
};

struct ph_rules;

int ph_rules_new(const struct ph_rules_conf *conf, struct ph_rules **out, struct ph_err *err);
void ph_rules_free(struct ph_rules *e);
/* Adds a park's rules: rs->rules move into the engine (rs->rules is NULL
 * afterwards, also on failure); rs->webhooks stay in rs, their `park` set
 * to this park, for the caller to start (webhook.h) before
 * ph_ruleset_fini(rs). Checks the rules against the config: the park is
 * served, the file's park (if any) is this one, a rule's park/ent scope
 * names configured ones. Once per park, before ph_rules_load. */
int ph_rules_add(struct ph_rules *e, const char *park, struct ph_ruleset *rs, struct ph_err *err);

/* Start-up, before the first evaluation (borrows db, read only): rebuilds
 * what the rules need from the stored data — every stored series' latest
 * value, the minute rollups of the windows and of the `for` periods (so a
 * condition that held before the restart keeps its start, to the minute),
 * the current hour, the agents' last status — and meets every open alarm of
 * the sink: alarms whose rule is gone, disabled or no longer in scope are
 * closed (sink->close); the others are marked active or cleared so they
 * are never raised twice and their timers can clear them. */
int ph_rules_load(struct ph_rules *e, sqlite3 *db, int64_t now_ms, struct ph_alarm_sink *sink, struct ph_err *err);

/* A stack test of park's ent on local day `day` (days since 1970-01-01),
 * entered over the API (or read back at load): the overdue rules count
 * from it when it is later than the data's and the config's; the next
 * tick clears what it ends. PH_ENOTFOUND: no such enterprise. */
int ph_rules_stack_test(struct ph_rules *e, const char *park, const char *ent, long day);

/* False when park (its index in the hub config) has no rules: the writer
 * then skips evaluating its values and statuses altogether. */
bool ph_rules_park_active(const struct ph_rules *e, int park_idx);
/* A committed value (writer thread, after commit). */
int ph_rules_eval_value(struct ph_rules *e, const struct ph_obs *o, int64_t now_ms, struct ph_alarm_sink *sink);
/* A committed agent status ("online"/"offline") received at ts_ms. */
int ph_rules_eval_status(struct ph_rules *e, const char *park, const char *ent, const char *agent, const char *state,
                         int64_t ts_ms, int64_t now_ms, struct ph_alarm_sink *sink);
/* Timer rules (gap, offline, overdue) and hours that closed without a
 * later value. Call every few seconds; cost: one pass over the points and
 * series that have timer rules (memory only). */
int ph_rules_tick(struct ph_rules *e, int64_t now_ms, struct ph_alarm_sink *sink);
/* After the caller rolled the alarms back: asks the sink again which
 * alarms are open (every tracked rule instance). */
int ph_rules_resync(struct ph_rules *e, struct ph_alarm_sink *sink);

void ph_rules_stats(const struct ph_rules *e, struct ph_rules_stats *st);

#endif
