/*
 * alarm_helpers.c — hub config with rules, record publisher and alarm
 * watcher for the alarm integration tests (alarm_helpers.h).
 *
 * Callers: tests/integration/test_hub_alarm_*.c, test_hub_smelter_alarms.c,
 * from the test's own thread. Owns: what struct ah holds (the sandbox via
 * hub_helpers.c, the watcher client, the message list).
 *
 * inv. 1: every wait has a deadline (pht_now_ms).
 * inv. 2: nothing here writes to the hub's database (hh_db_* open it
 *         read-only).
 * inv. 3: the watcher keeps every message it received, in order; nothing
 *         is filtered out, so tests can assert exact sequences.
 */
#include "alarm_helpers.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parkhub/timefmt.h"

int ah_setup(struct ah *a)
{
	static int clients;
	char id[64];
	int rc;

	memset(a, 0, sizeof *a);
	if ((rc = hh_setup(&a->env, NULL)))
		return rc;
	snprintf(a->rules_path, sizeof a->rules_path, "%s/rules.json", a->env.dir);
	snprintf(id, sizeof id, "ah-watch-%d-%d", (int)getpid(), ++clients);
	if (!(a->watch = pht_mqtt_new(pht_broker_uri(&a->env.broker), id)))
		return -ENOMEM;
	if ((rc = pht_mqtt_connect(a->watch, 1, 10000)))
		return rc;
	if ((rc = pht_mqtt_subscribe(a->watch, "parkhub/v1/" HH_PARK "/alerts/#", 1, 5000)))
		return rc;
	return pht_mqtt_subscribe(a->watch, "parkhub/v1/" HH_PARK "/alarms/#", 1, 5000);
}

void ah_teardown(struct ah *a)
{
	pht_mqtt_free(a->watch);
	a->watch = NULL;
	for (size_t i = 0; i < a->n; i++)
		free(a->m[i].payload);
	free(a->m);
	a->m = NULL;
	a->n = a->cap = 0;
	hh_teardown(&a->env);
}

/* ", <extra>" of enterprise i, or nothing: two %s arguments. */
#define X(i) o->ent_extra[i] ? ", " : "", o->ent_extra[i] ? o->ent_extra[i] : ""

int ah_configure(struct ah *a, const struct ah_opts *o)
{
	char buf[4096];
	struct hh_env *e = &a->env;
	double ei = o->expected_interval_s > 0 ? o->expected_interval_s : 10;
	int rc;

	if (!o->rules)
		return -EINVAL;
	if ((rc = hh_write_file(a->rules_path, o->rules)))
		return rc;
	int n = snprintf(buf, sizeof buf,
			 "{\n"
			 "  \"hub_id\": \"hub-test\",\n"
			 "  \"mqtt\": {\"uris\": [\"%s\"], \"keepalive_s\": 10, \"reconnect_min_ms\": 100,\n"
			 "           \"reconnect_max_ms\": 1000},\n"
			 "  \"db\": {\"path\": \"%s\", \"min_free_mb\": 0},\n"
			 "  \"ingest\": {\"max_future_s\": 300, \"max_age_days\": %d},\n"
			 "  \"parks\": [{\"id\": \"%s\", \"name\": \"Test park\", \"tz\": \"%s\", \"rules_file\": \"%s\"%s%s,\n"
			 "    \"enterprises\": [\n"
			 "    {\"id\": \"%s\", \"sector\": \"cu\", \"class\": \"existing\", \"agents\": [\"%s\"],"
			 " \"expected_interval_s\": %.17g%s%s},\n"
			 "    {\"id\": \"%s\", \"sector\": \"cu\", \"class\": \"new\", \"special_limits\": true,"
			 " \"agents\": [\"%s\"], \"expected_interval_s\": %.17g%s%s},\n"
			 "    {\"id\": \"%s\", \"sector\": \"al\", \"class\": \"existing\", \"agents\": [\"%s\"],"
			 " \"expected_interval_s\": %.17g%s%s}\n"
			 "  ]}]\n"
			 "}\n",
			 pht_broker_uri(&e->broker), e->db, o->max_age_days ? o->max_age_days : 400, HH_PARK,
			 e->opts.tz, a->rules_path, o->park_extra ? ", " : "", o->park_extra ? o->park_extra : "", hh_ent(0), hh_agent(0), ei, X(0), hh_ent(1), hh_agent(1), ei, X(1),
			 hh_ent(2), hh_agent(2), ei, X(2));
	if (n < 0 || (size_t)n >= sizeof buf)
		return -ENAMETOOLONG;
	e->opts.expected_interval_s = ei;
	return hh_write_file(e->hub_cfg, buf);
}

int ah_start_hub(struct ah *a, const struct ah_opts *o)
{
	int rc = ah_configure(a, o);
	return rc ? rc : hh_hub_start(&a->env, 20000);
}

/* ---- records ------------------------------------------------------------ */

void ah_recs_reset(struct ah_recs *r)
{
	strcpy(r->buf, "[");
	r->len = 1;
	r->n = 0;
}

int ah_recs_add(struct ah_recs *r, int64_t ts_ms, const char *point, const char *values, const char *flags,
		const char *state)
{
	char t[PH_TIME_STRLEN], st[64] = "";
	size_t room = sizeof r->buf - r->len;

	if (ph_time_format(ts_ms, t, sizeof t))
		return -EINVAL;
	if (state)
		snprintf(st, sizeof st, ",\"state\":\"%s\"", state);
	int n = snprintf(r->buf + r->len, room, "%s{\"ts\":\"%s\",\"point\":\"%s\",\"values\":{%s}%s%s%s%s}",
			 r->n ? "," : "", t, point, values, flags ? ",\"flags\":{" : "", flags ? flags : "",
			 flags ? "}" : "", st);
	if (n < 0 || (size_t)n + 2 >= room)
		return -ENOSPC;
	r->len += (size_t)n;
	r->n++;
	return 0;
}

int ah_send(struct ah *a, int i, const char *kind, struct ah_recs *r)
{
	static char batch[300 * 1024];
	size_t from = a->env.nacks;
	int rc;

	if (r->len + 2 > sizeof r->buf)
		return -ENOSPC;
	r->buf[r->len] = ']';
	r->buf[r->len + 1] = '\0';
	int64_t seq = ++a->seq[i];
	if ((rc = hh_batch(batch, sizeof batch, hh_agent(i), AH_EPOCH, seq, 1, r->buf)))
		return rc;
	r->buf[r->len] = '\0'; /* the array stays open for more records */
	if ((rc = hh_publish(&a->env, hh_ent(i), hh_agent(i), kind, batch)))
		return rc;
	rc = hh_wait_ack(&a->env, hh_ent(i), hh_agent(i), AH_EPOCH, seq, from, 20000);
	if (rc)
		fprintf(stderr, "ah_send: no ack for %s seq %lld (%s); hub log %s\n", hh_agent(i), (long long)seq,
			strerror(-rc), a->env.hub_log);
	ah_pump(a, 0);
	return rc;
}

int ah_send1(struct ah *a, int i, int64_t ts_ms, const char *point, const char *metric, double v, char flag)
{
	static struct ah_recs r;
	char values[128], flags[64];

	snprintf(values, sizeof values, "\"%s\":%.17g", metric, v);
	snprintf(flags, sizeof flags, "\"%s\":\"%c\"", metric, flag);
	ah_recs_reset(&r);
	int rc = ah_recs_add(&r, ts_ms, point, values, flag == 'N' ? NULL : flags, NULL);
	return rc ? rc : ah_send(a, i, NULL, &r);
}

/* ---- the watcher -------------------------------------------------------- */

static void str_field(const cJSON *j, const char *key, char *dst, size_t cap)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
	snprintf(dst, cap, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static int64_t time_field(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
	int64_t ms = 0;
	if (cJSON_IsString(v))
		ph_time_parse(v->valuestring, strlen(v->valuestring), &ms);
	return ms;
}

void ah_parse(struct ah_msg *m, const char *payload)
{
	cJSON *j = payload && *payload ? cJSON_Parse(payload) : NULL;
	const cJSON *v;

	m->empty = !payload || !*payload;
	str_field(j, "alarm_id", m->alarm_id, sizeof m->alarm_id);
	str_field(j, "rule", m->rule, sizeof m->rule);
	str_field(j, "ent", m->ent, sizeof m->ent);
	str_field(j, "point", m->point, sizeof m->point);
	str_field(j, "metric", m->metric, sizeof m->metric);
	str_field(j, "severity", m->severity, sizeof m->severity);
	str_field(j, "state", m->state, sizeof m->state);
	str_field(j, "transition", m->transition, sizeof m->transition);
	str_field(j, "message", m->message, sizeof m->message);
	str_field(j, "message_zh", m->message_zh, sizeof m->message_zh);
	str_field(j, "acked_by", m->acked_by, sizeof m->acked_by);
	str_field(j, "note", m->note, sizeof m->note);
	v = cJSON_GetObjectItemCaseSensitive(j, "value");
	if ((m->has_value = cJSON_IsNumber(v)))
		m->value = v->valuedouble;
	v = cJSON_GetObjectItemCaseSensitive(j, "peak");
	if ((m->has_peak = cJSON_IsNumber(v)))
		m->peak = v->valuedouble;
	v = cJSON_GetObjectItemCaseSensitive(j, "count");
	m->count = cJSON_IsNumber(v) ? (long long)v->valuedouble : 0;
	m->ts_ms = time_field(j, "ts");
	m->first_ms = time_field(j, "first");
	m->last_ms = time_field(j, "last");
	cJSON_Delete(j);
}

static void take(struct ah *a, const char *topic, char *payload)
{
	if (a->n == a->cap) {
		size_t ncap = a->cap ? 2 * a->cap : 256;
		struct ah_msg *p = realloc(a->m, ncap * sizeof *p);
		if (!p) {
			free(payload);
			return;
		}
		a->m = p;
		a->cap = ncap;
	}
	struct ah_msg *m = &a->m[a->n++];
	memset(m, 0, sizeof *m);
	snprintf(m->topic, sizeof m->topic, "%s", topic);
	m->alert = strncmp(topic, "parkhub/v1/" HH_PARK "/alerts/", strlen("parkhub/v1/" HH_PARK "/alerts/")) == 0;
	m->payload = payload;
	ah_parse(m, payload);
	if (!m->alert && m->empty) /* the alarm id is the topic's last level */
		snprintf(m->alarm_id, sizeof m->alarm_id, "%s", strrchr(topic, '/') + 1);
}

void ah_pump(struct ah *a, int timeout_ms)
{
	char topic[192];
	char *payload;
	int wait = timeout_ms;

	while (pht_mqtt_next(a->watch, wait, topic, sizeof topic, &payload, NULL) == 0) {
		take(a, topic, payload);
		wait = 0;
	}
}

static bool matches(const struct ah_msg *m, const char *rule, const char *transition)
{
	return m->alert && (!rule || strcmp(m->rule, rule) == 0) && (!transition || strcmp(m->transition, transition) == 0);
}

long ah_wait_alert(struct ah *a, const char *rule, const char *transition, size_t from, int timeout_ms)
{
	long long until = pht_now_ms() + timeout_ms;

	for (;;) {
		for (size_t i = from; i < a->n; i++)
			if (matches(&a->m[i], rule, transition))
				return (long)i;
		if (pht_now_ms() >= until)
			return -ETIMEDOUT;
		ah_pump(a, 50);
	}
}

void ah_alerts(struct ah *a, const char *rule, size_t from, char *out, size_t cap)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = from; i < a->n && len + 1 < cap; i++) {
		const struct ah_msg *m = &a->m[i];
		if (!matches(m, rule, NULL))
			continue;
		int n = snprintf(out + len, cap - len, "%s%s:%s", len ? " " : "", m->transition, m->state);
		if (n < 0)
			break;
		len += (size_t)n;
	}
}

void ah_expect_alerts(struct ah *a, const char *rule, size_t from, const char *want, int timeout_ms, int settle_ms,
		      char *out, size_t cap)
{
	long long until = pht_now_ms() + timeout_ms;

	for (;;) {
		ah_alerts(a, rule, from, out, cap);
		if (strcmp(out, want) == 0 || pht_now_ms() >= until)
			break;
		ah_pump(a, 50);
	}
	until = pht_now_ms() + settle_ms;
	while (pht_now_ms() < until)
		ah_pump(a, 20);
	ah_alerts(a, rule, from, out, cap);
}

const struct ah_msg *ah_last_alert(struct ah *a, const char *rule, size_t from)
{
	for (size_t i = a->n; i-- > from;)
		if (matches(&a->m[i], rule, NULL))
			return &a->m[i];
	return NULL;
}

const struct ah_msg *ah_last_state(struct ah *a, const char *alarm_id)
{
	for (size_t i = a->n; i-- > 0;)
		if (!a->m[i].alert && strcmp(a->m[i].alarm_id, alarm_id) == 0)
			return &a->m[i];
	return NULL;
}

/* ---- the database -------------------------------------------------------- */

int ah_db_log(struct ah *a, const char *rule, char *out, size_t cap)
{
	int rc = hh_db_text(&a->env, out, cap,
			    "SELECT coalesce(group_concat(t, ' '), '') FROM (SELECT l.transition AS t FROM alarm_log l"
			    " JOIN alarms al ON al.id = l.alarm WHERE al.rule = '%s' ORDER BY l.id)",
			    rule);
	if (rc)
		out[0] = '\0';
	return rc;
}

int64_t ah_db_alarms(struct ah *a, const char *rule)
{
	int64_t n = -1;
	hh_db_i64(&a->env, &n, "SELECT count(*) FROM alarms WHERE rule = '%s'", rule);
	return n;
}

int ah_db_occurrences(struct ah *a, const char *rule, int64_t t0, int64_t unit_ms, char *out, size_t cap)
{
	/* SQLite prints integral REALs as "12.0": integer division when exact, else a REAL */
	int rc = hh_db_text(
		&a->env, out, cap,
		"SELECT coalesce(group_concat(r, ' '), '') FROM (SELECT"
		" (CASE WHEN (start_ms - %lld) %% %lld = 0 THEN (start_ms - %lld) / %lld"
		"  ELSE (start_ms - %lld) * 1.0 / %lld END) || '..' ||"
		" (CASE WHEN end_ms IS NULL THEN 'open' WHEN (end_ms - %lld) %% %lld = 0 THEN (end_ms - %lld) / %lld"
		"  ELSE (end_ms - %lld) * 1.0 / %lld END) AS r"
		" FROM alarm_occurrences WHERE rule = '%s' ORDER BY start_ms, id)",
		(long long)t0, (long long)unit_ms, (long long)t0, (long long)unit_ms, (long long)t0, (long long)unit_ms,
		(long long)t0, (long long)unit_ms, (long long)t0, (long long)unit_ms, (long long)t0, (long long)unit_ms,
		rule);
	if (rc)
		out[0] = '\0';
	return rc;
}
