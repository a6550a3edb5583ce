/*
 * alarm_helpers.h — shared by the alarm integration tests
 * (tests/integration/test_hub_alarm_*.c, test_hub_smelter_alarms.c): on top
 * of hub_helpers.h's sandbox (park p1, ent-a/gw-a, ent-b/gw-b, ent-c/gw-c),
 * a hub configuration with a rules file, a publisher of hand-made records
 * that waits for each batch's ack, and a watcher subscribed to
 * parkhub/v1/p1/alerts/# and parkhub/v1/p1/alarms/# that keeps every
 * message in arrival order, parsed.
 *
 * Why waiting for the ack is a barrier: the writer evaluates the rules on a
 * group right after its commit and before it sends the group's acks
 * (hub/store/writer.c process() → evaluate(), then send_acks()); so once a
 * batch's ack arrived, every alarm row its values caused is committed and
 * every message is in the delivery mailbox. Delivery is one FIFO publishing
 * on one MQTT connection, so once an expected alert arrived, every alert
 * the hub emitted before it has arrived too.
 *
 * Enterprises as configured here (GB 31574-2015 stack limits):
 *   ent-a  sector cu, class existing            SO2 150 mg/Nm3 from 2017-01-01
 *   ent-b  sector cu, class new, special limits SO2 100 mg/Nm3 (special) from 2015-07-01
 *   ent-c  sector al, class existing            SO2 150 mg/Nm3 from 2017-01-01
 *
 * Every wait is bounded; functions return 0 or -errno. One thread: the
 * test's own.
 */
#ifndef ALARM_HELPERS_H
#define ALARM_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub_helpers.h"

#define AH_EPOCH 1

/* One message seen on alerts/# or alarms/#. */
struct ah_msg {
	char topic[192];
	bool alert;             /* alerts/{severity}: a transition; else the retained state alarms/{id} */
	bool empty;             /* empty payload: the retained state removed (alarm closed) */
	char *payload;          /* as received, NUL-terminated */
	char alarm_id[72], rule[72], ent[72], point[72], metric[72], severity[16], state[24], transition[16];
	char message[1100], message_zh[1100], acked_by[80], note[600];
	bool has_value, has_peak;
	double value, peak;
	long long count;
	int64_t ts_ms, first_ms, last_ms; /* ts: alerts only; 0 when absent */
};

struct ah_opts {
	const char *rules;          /* the rules file's text (required) */
	double expected_interval_s; /* 10 */
	int max_age_days;           /* 400 */
	const char *ent_extra[HH_NENTS]; /* more members of enterprise i, e.g. "\"last_stack_test\": \"…\"" */
	const char *park_extra;     /* more members of park p1, e.g. "\"lang\": \"en\"" */
};

struct ah {
	struct hh_env env;
	int64_t seq[HH_NENTS];      /* last seq published per enterprise (epoch AH_EPOCH) */
	char rules_path[600];
	struct pht_mqtt *watch;
	struct ah_msg *m;           /* every message, in arrival order */
	size_t n, cap;
};

/* hh_setup, then the watcher (connected, subscribed). 0 or -errno. */
int ah_setup(struct ah *a);
/* Frees the watcher and the messages, then hh_teardown. Accepts a half set-up a. */
void ah_teardown(struct ah *a);
/* Writes the rules file and the hub config (overwriting hh_setup's). */
int ah_configure(struct ah *a, const struct ah_opts *o);
/* ah_configure + hh_hub_start. */
int ah_start_hub(struct ah *a, const struct ah_opts *o);

/* ---- records ------------------------------------------------------------ */

struct ah_recs {
	char buf[256 * 1024];
	size_t len;
	int n;
};

void ah_recs_reset(struct ah_recs *r);
/* Appends a record. values: the inside of the values object ("\"so2\":120");
 * flags (may be NULL): the inside of the flags object; state may be NULL.
 * -ENOSPC when the buffer is full. */
int ah_recs_add(struct ah_recs *r, int64_t ts_ms, const char *point, const char *values, const char *flags,
		const char *state);
/* Publishes r as the next batch of enterprise i (kind NULL: emission) and
 * waits for its ack (the barrier above). */
int ah_send(struct ah *a, int i, const char *kind, struct ah_recs *r);
/* One record of one metric (flag 'N' leaves the flags out). */
int ah_send1(struct ah *a, int i, int64_t ts_ms, const char *point, const char *metric, double v, char flag);

/* ---- the watcher -------------------------------------------------------- */

/* Takes what arrived, waiting up to timeout_ms for the first message. */
void ah_pump(struct ah *a, int timeout_ms);
/* Index of the first alert at index >= from of rule (NULL: any) with
 * transition (NULL: any), waiting up to timeout_ms; -ETIMEDOUT. */
long ah_wait_alert(struct ah *a, const char *rule, const char *transition, size_t from, int timeout_ms);
/* Alerts of rule (NULL: any) at index >= from, as "transition:state"
 * joined by spaces, e.g. "raised:active_unacked cleared:cleared_unacked". */
void ah_alerts(struct ah *a, const char *rule, size_t from, char *out, size_t cap);
/* Waits until ah_alerts(rule, from) equals want (or timeout_ms passed),
 * then keeps listening settle_ms for anything more; out gets the final
 * sequence. */
void ah_expect_alerts(struct ah *a, const char *rule, size_t from, const char *want, int timeout_ms, int settle_ms,
		      char *out, size_t cap);
/* The newest alert of rule at index >= from (NULL when none). */
const struct ah_msg *ah_last_alert(struct ah *a, const char *rule, size_t from);
/* The newest retained-state message of alarm_id (NULL when none). */
const struct ah_msg *ah_last_state(struct ah *a, const char *alarm_id);
/* Parses one payload of alerts/ or alarms/ into m (topic set by the caller). */
void ah_parse(struct ah_msg *m, const char *payload);

/* ---- the database -------------------------------------------------------- */

/* alarm_log transitions of rule, in order, joined by spaces ("raised cleared"). */
int ah_db_log(struct ah *a, const char *rule, char *out, size_t cap);
/* Alarm rows of rule (any state). */
int64_t ah_db_alarms(struct ah *a, const char *rule);
/* Occurrences of rule (all enterprises and points), in order of start, as
 * "start..end" in units of unit_ms after t0 ("%g"), joined by spaces; an
 * open one ends in "..open". */
int ah_db_occurrences(struct ah *a, const char *rule, int64_t t0, int64_t unit_ms, char *out, size_t cap);

#endif /* ALARM_HELPERS_H */
