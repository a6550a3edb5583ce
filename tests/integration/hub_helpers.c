/*
 * hub_helpers.c — sandbox, hub and agent processes, test MQTT client and
 * read-only database views for the parkhub integration tests
 * (hub_helpers.h).
 *
 * Callers: tests/integration/test_hub_*.c, from the test's own thread.
 * Owns: everything in struct hh_env (temp dir, broker, processes, client,
 * the ack list). Database connections are opened read-only per call and
 * closed before returning, so no read snapshot outlives a helper and the
 * hub's WAL checkpoints are never held back.
 *
 * inv. 1: every wait has a deadline (CLOCK_MONOTONIC via pht_now_ms).
 * inv. 2: nothing here writes to the hub's database.
 * inv. 3: the rollup recomputation follows rollup.h's contract only
 *         (sums, counts, min/max, first/last by ts with storage-order ties,
 *         park-local hours and days), never the hub's code.
 */
#include "hub_helpers.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parkhub/batch.h"
#include "store/chunk.h"
#include "parkhub/timefmt.h"
#include "parkhub/tz.h"

static const char *const ents[HH_NENTS] = {"ent-a", "ent-b", "ent-c"};
static const char *const agents[HH_NENTS] = {"gw-a", "gw-b", "gw-c"};

const char *hh_ent(int i) { return i >= 0 && i < HH_NENTS ? ents[i] : "?"; }
const char *hh_agent(int i) { return i >= 0 && i < HH_NENTS ? agents[i] : "?"; }

const char *hh_parkhub(void) { return getenv("PH_PARKHUB"); }
const char *hh_parkagent(void) { return getenv("PH_PARKAGENT"); }

int hh_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int rc = 0;

	if (!f)
		return -errno;
	if (fputs(text, f) == EOF)
		rc = -EIO;
	if (fclose(f) != 0 && !rc)
		rc = -errno;
	return rc;
}

char *hh_slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			char *p = realloc(buf, cap + 65536);
			if (!p)
				break;
			buf = p;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	if (buf)
		buf[len] = '\0';
	return buf;
}

/* ---- the sandbox -------------------------------------------------------- */

int hh_write_hub_config(struct hh_env *e)
{
	char buf[16384];
	const struct hh_hub_opts *o = &e->opts;
	int n = snprintf(buf, sizeof buf,
			 "{\n"
			 "  \"hub_id\": \"hub-test\",\n"
			 "  \"mqtt\": {\"uris\": [\"%s\"], \"keepalive_s\": 10, \"reconnect_min_ms\": 100,\n"
			 "           \"reconnect_max_ms\": 1000},\n"
			 "  \"db\": {\"path\": \"%s\", \"min_free_mb\": 0},\n"
			 "  \"ingest\": {\"max_future_s\": %d, \"group_max\": %d, \"max_age_days\": %d},\n"
			 "  %s%s"
			 "  \"parks\": [{\"id\": \"%s\", \"name\": \"Test park\", \"tz\": \"%s\", %s%s\"enterprises\": [\n"
			 "    {\"id\": \"%s\", \"sector\": \"cu\", \"class\": \"existing\", \"agents\": [\"%s\"],"
			 " \"expected_interval_s\": %.17g%s%s},\n"
			 "    {\"id\": \"%s\", \"sector\": \"cu\", \"class\": \"new\", \"agents\": [\"%s\"],"
			 " \"expected_interval_s\": %.17g%s%s},\n"
			 "    {\"id\": \"%s\", \"sector\": \"al\", \"class\": \"existing\", \"agents\": [\"%s\"],"
			 " \"expected_interval_s\": %.17g%s%s}\n"
			 "  ]}]\n"
			 "}\n",
			 pht_broker_uri(&e->broker), e->db, o->max_future_s, o->group_max,
			 o->max_age_days ? o->max_age_days : 400, o->top_extra ? o->top_extra : "",
			 o->top_extra ? ",\n" : "", HH_PARK, o->tz, o->park_extra ? o->park_extra : "",
			 o->park_extra ? ", " : "", ents[0], agents[0], o->expected_interval_s,
			 o->ent_extra[0] ? ", " : "", o->ent_extra[0] ? o->ent_extra[0] : "", ents[1], agents[1],
			 o->expected_interval_s, o->ent_extra[1] ? ", " : "", o->ent_extra[1] ? o->ent_extra[1] : "",
			 ents[2], agents[2], o->expected_interval_s, o->ent_extra[2] ? ", " : "",
			 o->ent_extra[2] ? o->ent_extra[2] : "");
	if (n < 0 || (size_t)n >= sizeof buf)
		return -ENAMETOOLONG;
	return hh_write_file(e->hub_cfg, buf);
}

int hh_setup(struct hh_env *e, const struct hh_hub_opts *o)
{
	static int clients;
	char id[64], filter[128];
	int rc;

	memset(e, 0, sizeof *e);
	if (o)
		e->opts = *o;
	if (!e->opts.tz)
		e->opts.tz = "Asia/Kolkata";
	if (!e->opts.max_future_s)
		e->opts.max_future_s = 300;
	if (!(e->opts.expected_interval_s > 0))
		e->opts.expected_interval_s = 10;
	if (!e->opts.group_max)
		e->opts.group_max = 256;
	if (!hh_parkhub()) {
		fprintf(stderr, "hh_setup: PH_PARKHUB is not set\n");
		return -EINVAL;
	}
	if ((rc = pht_tmpdir(e->dir, sizeof e->dir))) {
		fprintf(stderr, "hh_setup: temp dir: %s\n", strerror(-rc));
		return rc;
	}
	snprintf(e->hub_cfg, sizeof e->hub_cfg, "%s/hub.json", e->dir);
	snprintf(e->hub_log, sizeof e->hub_log, "%s/hub.log", e->dir);
	snprintf(e->db, sizeof e->db, "%s/hub.db", e->dir);
	for (int i = 0; i < HH_NENTS; i++) {
		snprintf(e->agent_cfg[i], sizeof e->agent_cfg[i], "%s/agent-%s.json", e->dir, agents[i]);
		snprintf(e->agent_log[i], sizeof e->agent_log[i], "%s/agent-%s.log", e->dir, agents[i]);
		snprintf(e->outbox[i], sizeof e->outbox[i], "%s/outbox-%s.db", e->dir, agents[i]);
	}
	if ((rc = pht_broker_start(&e->broker, NULL))) {
		fprintf(stderr, "hh_setup: broker: %s\n", strerror(-rc));
		return rc;
	}
	if ((rc = hh_write_hub_config(e)))
		return rc;
	snprintf(id, sizeof id, "hh-%d-%d", (int)getpid(), ++clients);
	if (!(e->mq = pht_mqtt_new(pht_broker_uri(&e->broker), id)))
		return -ENOMEM;
	if ((rc = pht_mqtt_connect(e->mq, 1, 10000))) {
		fprintf(stderr, "hh_setup: test client connect: %s\n", strerror(-rc));
		return rc;
	}
	snprintf(filter, sizeof filter, "parkhub/v1/%s/+/+/ack", HH_PARK);
	if ((rc = pht_mqtt_subscribe(e->mq, filter, 1, 5000)))
		return rc;
	snprintf(filter, sizeof filter, "parkhub/v1/%s/hub", HH_PARK);
	return pht_mqtt_subscribe(e->mq, filter, 1, 5000);
}

void hh_teardown(struct hh_env *e)
{
	for (int i = 0; i < HH_NENTS; i++)
		if (e->agent[i].pid)
			pht_proc_stop(&e->agent[i], 5000);
	if (e->hub.pid)
		pht_proc_stop(&e->hub, 10000);
	if (e->hub_runs) {
		char why[512];
		if (hh_log_clean(e->hub_log, why, sizeof why))
			fprintf(stderr, "hh_teardown: sanitizer report in the hub's log: %s\n", why);
	}
	pht_mqtt_free(e->mq);
	e->mq = NULL;
	pht_broker_cleanup(&e->broker);
	if (e->dir[0]) {
		if (getenv("PHT_KEEP") && *getenv("PHT_KEEP"))
			fprintf(stderr, "hh_teardown: keeping %s\n", e->dir);
		else
			pht_rmtree(e->dir);
	}
	free(e->acks);
	e->acks = NULL;
	e->nacks = e->acks_cap = 0;
	e->dir[0] = '\0';
}

/* ---- the hub process ---------------------------------------------------- */

int hh_hub_start(struct hh_env *e, int timeout_ms)
{
	const char *argv[] = {hh_parkhub(), "--config", e->hub_cfg, NULL};
	int64_t since = ph_now_ms() - 5;
	int rc;

	if (!argv[0])
		return -EINVAL;
	if ((rc = pht_proc_spawn(&e->hub, argv, e->hub_log)))
		return rc;
	e->hub_runs++;
	rc = hh_wait_hub_state(e, "online", since, timeout_ms);
	if (rc)
		fprintf(stderr, "hh_hub_start: the hub did not say online (%s); log %s\n", strerror(-rc), e->hub_log);
	return rc;
}

int hh_hub_stop(struct hh_env *e, int timeout_ms, int *status)
{
	int rc = pht_proc_kill(&e->hub, SIGTERM);

	if (rc)
		return rc;
	rc = pht_proc_wait(&e->hub, timeout_ms, status);
	if (rc == -ETIMEDOUT) {
		pht_proc_kill(&e->hub, SIGKILL);
		pht_proc_wait(&e->hub, 5000, NULL);
	}
	return rc;
}

int hh_hub_kill(struct hh_env *e)
{
	int rc = pht_proc_kill(&e->hub, SIGKILL);

	if (rc)
		return rc;
	return pht_proc_wait(&e->hub, 5000, NULL);
}

int hh_log_clean(const char *path, char *why, size_t cap)
{
	static const char *const bad[] = {"ERROR: AddressSanitizer", "LeakSanitizer", "runtime error", NULL};
	char *s = hh_slurp(path);
	int rc = 0;

	for (int i = 0; s && bad[i] && !rc; i++) {
		const char *p = strstr(s, bad[i]);
		if (p) {
			const char *b = p;
			while (b > s && b[-1] != '\n')
				b--;
			snprintf(why, cap, "%s: %.*s", path, (int)strcspn(b, "\n"), b);
			rc = -1;
		}
	}
	free(s);
	return rc;
}

/* 1 when the hub we started has exited on its own; says so on stderr once,
 * with the first sanitizer line of its log if there is one. */
static int hub_gone(struct hh_env *e)
{
	char why[512];

	if (!e->hub.pid || pht_proc_alive(&e->hub))
		return 0;
	fprintf(stderr, "hh: the hub (pid %d) exited while a test waited on it; log %s\n", (int)e->hub.pid,
		e->hub_log);
	if (hh_log_clean(e->hub_log, why, sizeof why))
		fprintf(stderr, "hh: %s\n", why);
	return 1;
}

/* ---- the test client ---------------------------------------------------- */

int hh_publish_raw(struct hh_env *e, const char *topic, const char *payload, int retained)
{
	return pht_mqtt_publish(e->mq, topic, payload, strlen(payload), 1, retained, 10000);
}

int hh_publish(struct hh_env *e, const char *ent, const char *agent, const char *kind, const char *payload)
{
	char topic[256];

	snprintf(topic, sizeof topic, "parkhub/v1/%s/%s/%s/ev/%s", HH_PARK, ent, agent, kind ? kind : "emission");
	return hh_publish_raw(e, topic, payload, 0);
}

int hh_batch(char *buf, size_t cap, const char *agent, int64_t epoch, int64_t seq, int64_t oldest,
	     const char *records)
{
	size_t len;
	int rc = ph_batch_wrap(buf, cap, agent, epoch, seq, oldest, ph_now_ms(), records, strlen(records), &len);

	return rc ? -EINVAL : 0;
}

static void take(struct hh_env *e, const char *topic, const char *payload)
{
	char park[72], ent[72], agent[72], what[16];
	char hubtopic[128];

	snprintf(hubtopic, sizeof hubtopic, "parkhub/v1/%s/hub", HH_PARK);
	if (strcmp(topic, hubtopic) == 0) {
		snprintf(e->hub_status, sizeof e->hub_status, "%s", payload);
		e->hub_statuses++;
		return;
	}
	if (sscanf(topic, "parkhub/v1/%71[^/]/%71[^/]/%71[^/]/%15s", park, ent, agent, what) != 4 ||
	    strcmp(what, "ack") != 0)
		return;
	cJSON *j = cJSON_Parse(payload);
	const cJSON *ep = cJSON_GetObjectItemCaseSensitive(j, "epoch");
	const cJSON *up = cJSON_GetObjectItemCaseSensitive(j, "upto");
	if (cJSON_IsNumber(ep) && cJSON_IsNumber(up)) {
		if (e->nacks == e->acks_cap) {
			size_t ncap = e->acks_cap ? 2 * e->acks_cap : 256;
			struct hh_ack *p = realloc(e->acks, ncap * sizeof *p);
			if (!p) {
				cJSON_Delete(j);
				return;
			}
			e->acks = p;
			e->acks_cap = ncap;
		}
		struct hh_ack *a = &e->acks[e->nacks++];
		snprintf(a->ent, sizeof a->ent, "%s", ent);
		snprintf(a->agent, sizeof a->agent, "%s", agent);
		a->epoch = (int64_t)ep->valuedouble;
		a->upto = (int64_t)up->valuedouble;
	} else {
		fprintf(stderr, "hh: malformed ack on %s: %s\n", topic, payload);
	}
	cJSON_Delete(j);
}

void hh_pump(struct hh_env *e, int timeout_ms)
{
	char topic[256];
	char *payload;
	size_t plen;
	int wait = timeout_ms;

	while (pht_mqtt_next(e->mq, wait, topic, sizeof topic, &payload, &plen) == 0) {
		take(e, topic, payload);
		free(payload);
		wait = 0;
	}
}

int hh_wait_ack(struct hh_env *e, const char *ent, const char *agent, int64_t epoch, int64_t upto, size_t from,
		int timeout_ms)
{
	long long until = pht_now_ms() + timeout_ms;

	for (;;) {
		for (size_t i = from; i < e->nacks; i++) {
			const struct hh_ack *a = &e->acks[i];
			if (strcmp(a->ent, ent) == 0 && strcmp(a->agent, agent) == 0 && a->epoch == epoch &&
			    a->upto >= upto)
				return 0;
		}
		if (pht_now_ms() >= until)
			return -ETIMEDOUT;
		if (hub_gone(e))
			return -ECHILD;
		hh_pump(e, 50);
	}
}

size_t hh_acks_for(struct hh_env *e, const char *ent, const char *agent, size_t from)
{
	size_t n = 0;

	for (size_t i = from; i < e->nacks; i++)
		if (strcmp(e->acks[i].ent, ent) == 0 && strcmp(e->acks[i].agent, agent) == 0)
			n++;
	return n;
}

int hh_last_ack(struct hh_env *e, const char *ent, const char *agent, int64_t *epoch, int64_t *upto)
{
	for (size_t i = e->nacks; i-- > 0;)
		if (strcmp(e->acks[i].ent, ent) == 0 && strcmp(e->acks[i].agent, agent) == 0) {
			*epoch = e->acks[i].epoch;
			*upto = e->acks[i].upto;
			return 0;
		}
	return -ENOENT;
}

static bool hub_state_is(const char *payload, const char *state, int64_t since)
{
	cJSON *j = cJSON_Parse(payload);
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "state");
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(j, "ts");
	bool ok = cJSON_IsString(st) && strcmp(st->valuestring, state) == 0;
	if (ok && since) {
		int64_t ms = 0;
		ok = cJSON_IsString(ts) && ph_time_parse(ts->valuestring, strlen(ts->valuestring), &ms) == 0 &&
		     ms >= since;
	}
	cJSON_Delete(j);
	return ok;
}

int hh_wait_hub_state(struct hh_env *e, const char *state, int64_t since_wall_ms, int timeout_ms)
{
	long long until = pht_now_ms() + timeout_ms;

	for (;;) {
		hh_pump(e, 50);
		if (hub_state_is(e->hub_status, state, since_wall_ms))
			return 0;
		if (pht_now_ms() >= until)
			return -ETIMEDOUT;
		if (hub_gone(e))
			return -ECHILD;
	}
}

/* ---- the database, read-only -------------------------------------------- */

static int db_open(const char *path, sqlite3 **db)
{
	if (access(path, F_OK) != 0)
		return -ENOENT;
	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(*db);
		*db = NULL;
		return -EIO;
	}
	sqlite3_busy_timeout(*db, 5000);
	return 0;
}

static int vquery(const char *path, const char *fmt, va_list ap, int64_t *i64, char *text, size_t cap)
{
	char sql[2048];
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	int rc;

	vsnprintf(sql, sizeof sql, fmt, ap);
	if ((rc = db_open(path, &db)))
		return rc;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "hh: %s: %s\n", sql, sqlite3_errmsg(db));
		rc = -EIO;
	} else {
		int s = sqlite3_step(st);
		if (s == SQLITE_ROW) {
			if (i64)
				*i64 = sqlite3_column_int64(st, 0);
			if (text) {
				const unsigned char *t = sqlite3_column_text(st, 0);
				snprintf(text, cap, "%s", t ? (const char *)t : "");
			}
		} else if (s == SQLITE_DONE) {
			rc = -ENOENT;
		} else {
			rc = -EIO; /* e.g. the hub has not created the schema yet */
		}
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

int hh_db_i64(struct hh_env *e, int64_t *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vquery(e->db, fmt, ap, out, NULL, 0);
	va_end(ap);
	return rc;
}

int hh_db_text(struct hh_env *e, char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vquery(e->db, fmt, ap, NULL, out, cap);
	va_end(ap);
	return rc;
}

int hh_wait_db(struct hh_env *e, int64_t want, int64_t *last, int timeout_ms, const char *fmt, ...)
{
	long long until = pht_now_ms() + timeout_ms;
	int64_t v = INT64_MIN;

	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int64_t got = INT64_MIN;
		int rc = vquery(e->db, fmt, ap, &got, NULL, 0);
		va_end(ap);
		if (rc == 0)
			v = got;
		if (rc == 0 && got == want)
			break;
		if (pht_now_ms() >= until || hub_gone(e)) {
			if (last)
				*last = v;
			return pht_now_ms() >= until ? -ETIMEDOUT : -ECHILD;
		}
		hh_pump(e, 50); /* keep acks flowing into e->acks meanwhile */
	}
	if (last)
		*last = v;
	return 0;
}

/* A growing string. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		if (b->oom)
			return;
		size_t room = b->cap - b->len;
		va_start(ap, fmt);
		int n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t ncap = (b->cap + (size_t)n + 1) * 2;
		char *p = realloc(b->s, ncap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->s = p;
		b->cap = ncap;
	}
}

static uint64_t fnv(const void *p, size_t n)
{
	const unsigned char *c = p;
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 1099511628211ULL;
	return h;
}

static void dump_table(sqlite3 *db, const char *table, struct sbuf *b)
{
	char sql[2048] = "SELECT ";
	char order[256] = "";
	sqlite3_stmt *st;
	int ncols = 0;
	char cols[32][64];

	snprintf(sql, sizeof sql, "PRAGMA table_info(\"%.63s\")", table);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		b->oom = true;
		return;
	}
	while (sqlite3_step(st) == SQLITE_ROW && ncols < 32) {
		const char *c = (const char *)sqlite3_column_text(st, 1);
		/* A duplicate's only trace is in these two (hub_replay_changes_nothing). */
		if (strcmp(table, "streams") == 0 && (strcmp(c, "duplicates") == 0 || strcmp(c, "last_ms") == 0))
			continue;
		snprintf(cols[ncols++], sizeof cols[0], "%s", c);
	}
	sqlite3_finalize(st);
	strcpy(sql, "SELECT ");
	for (int i = 0; i < ncols; i++) {
		char part[80];
		snprintf(part, sizeof part, "%s\"%s\"", i ? ", " : "", cols[i]);
		strncat(sql, part, sizeof sql - strlen(sql) - 1);
		snprintf(part, sizeof part, "%s%d", i ? ", " : "", i + 1);
		strncat(order, part, sizeof order - strlen(order) - 1);
	}
	snprintf(sql + strlen(sql), sizeof sql - strlen(sql), " FROM \"%.63s\" ORDER BY %s", table, order);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		b->oom = true;
		return;
	}
	sb_printf(b, "== %s\n", table);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int i = 0; i < ncols; i++) {
			switch (sqlite3_column_type(st, i)) {
			case SQLITE_NULL: sb_printf(b, "|NULL"); break;
			case SQLITE_INTEGER: sb_printf(b, "|%lld", (long long)sqlite3_column_int64(st, i)); break;
			case SQLITE_FLOAT: sb_printf(b, "|%.17g", sqlite3_column_double(st, i)); break;
			case SQLITE_BLOB: {
				const void *p = sqlite3_column_blob(st, i);
				size_t n = (size_t)sqlite3_column_bytes(st, i);
				sb_printf(b, "|blob:%zu:%016llx", n, (unsigned long long)fnv(p, n));
				break;
			}
			default: sb_printf(b, "|'%s'", (const char *)sqlite3_column_text(st, i)); break;
			}
		}
		sb_printf(b, "\n");
	}
	sqlite3_finalize(st);
}

char *hh_db_dump(struct hh_env *e)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	struct sbuf b = {0};
	char names[64][64];
	int n = 0;

	if (db_open(e->db, &db))
		return NULL;
	/* One read transaction: every table from the same snapshot. */
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db,
			       "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
			       "ORDER BY name",
			       -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW && n < 64)
			snprintf(names[n++], sizeof names[0], "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	for (int i = 0; i < n; i++)
		dump_table(db, names[i], &b);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	if (b.oom || n == 0) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

/* ---- samples ------------------------------------------------------------ */

struct idname {
	int64_t id;
	char name[72];
};

struct series_row {
	int64_t id, point_id, metric_id;
};

static int push_value(struct hh_samples *s, size_t *cap, const struct hh_value *v)
{
	if (s->n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 4096;
		struct hh_value *p = realloc(s->v, ncap * sizeof *p);
		if (!p)
			return -ENOMEM;
		s->v = p;
		*cap = ncap;
	}
	s->v[s->n++] = *v;
	return 0;
}

void hh_samples_free(struct hh_samples *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
}

const char *hh_park(const struct hh_env *e) { return e->park ? e->park : HH_PARK; }

int hh_samples_load(struct hh_env *e, struct hh_samples *s, char *why, size_t cap)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	struct idname metrics[256];
	struct series_row *series = NULL;
	size_t nmetrics = 0, nseries = 0, series_cap = 0, vcap = 0;
	int rc = 0;

	memset(s, 0, sizeof *s);
	if ((rc = db_open(e->db, &db))) {
		snprintf(why, cap, "cannot open %s: %s", e->db, strerror(-rc));
		return -1;
	}
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db, "SELECT id, code FROM metrics", -1, &st, NULL) != SQLITE_OK) {
		snprintf(why, cap, "metrics: %s", sqlite3_errmsg(db));
		rc = -1;
		goto out;
	}
	while (sqlite3_step(st) == SQLITE_ROW && nmetrics < 256) {
		metrics[nmetrics].id = sqlite3_column_int64(st, 0);
		snprintf(metrics[nmetrics++].name, sizeof metrics[0].name, "%s", (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db, "SELECT id, point_id, metric_id FROM series", -1, &st, NULL) != SQLITE_OK) {
		snprintf(why, cap, "series: %s", sqlite3_errmsg(db));
		rc = -1;
		goto out;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (nseries == series_cap) {
			series_cap = series_cap ? 2 * series_cap : 64;
			series = realloc(series, series_cap * sizeof *series);
			if (!series) {
				sqlite3_finalize(st);
				snprintf(why, cap, "out of memory");
				rc = -1;
				goto out;
			}
		}
		series[nseries++] = (struct series_row){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
							sqlite3_column_int64(st, 2)};
	}
	sqlite3_finalize(st);

	if (sqlite3_prepare_v2(db,
			       "SELECT s.id, s.point_id, p.park, p.ent, p.point, s.agent_id, s.epoch, s.seq, s.nrecords,"
			       " s.nvalues, s.ts_min, s.ts_max, s.data FROM samples s JOIN points p ON p.id = s.point_id"
			       " ORDER BY s.id",
			       -1, &st, NULL) != SQLITE_OK) {
		snprintf(why, cap, "samples: %s", sqlite3_errmsg(db));
		rc = -1;
		goto out;
	}
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		struct hh_value v = {0};
		int64_t nrec = sqlite3_column_int64(st, 8), nval = sqlite3_column_int64(st, 9);
		int64_t ts_min = sqlite3_column_int64(st, 10), ts_max = sqlite3_column_int64(st, 11);
		int64_t got_min = INT64_MAX, got_max = INT64_MIN, got_rec = 0, got_val = 0;
		struct ph_chunk_reader r;
		struct ph_chunk_value vals[256];
		size_t nv;
		int64_t ts;
		int state, k;

		v.chunk_id = sqlite3_column_int64(st, 0);
		v.point_id = sqlite3_column_int64(st, 1);
		if (strcmp((const char *)sqlite3_column_text(st, 2), hh_park(e)) != 0) {
			snprintf(why, cap, "chunk %lld: park %s", (long long)v.chunk_id, sqlite3_column_text(st, 2));
			rc = -1;
			break;
		}
		snprintf(v.ent, sizeof v.ent, "%s", (const char *)sqlite3_column_text(st, 3));
		snprintf(v.point, sizeof v.point, "%s", (const char *)sqlite3_column_text(st, 4));
		v.agent_id = sqlite3_column_int64(st, 5);
		v.epoch = sqlite3_column_int64(st, 6);
		v.seq = sqlite3_column_int64(st, 7);
		s->nrecords_col += (long)nrec;
		if (ph_chunk_reader_init(&r, sqlite3_column_blob(st, 12), (size_t)sqlite3_column_bytes(st, 12))) {
			snprintf(why, cap, "chunk %lld: too short", (long long)v.chunk_id);
			rc = -1;
			break;
		}
		while ((k = ph_chunk_next(&r, &ts, &state, vals, 256, &nv)) == 1) {
			got_rec++;
			if (ts < got_min)
				got_min = ts;
			if (ts > got_max)
				got_max = ts;
			v.ts_ms = ts;
			v.state = state;
			v.rec = s->records++;
			for (size_t i = 0; i < nv; i++) {
				size_t m;
				got_val++;
				for (m = 0; m < nmetrics && metrics[m].id != vals[i].metric_id; m++)
					;
				if (m == nmetrics) {
					snprintf(why, cap, "chunk %lld: metric id %u not in table metrics",
						 (long long)v.chunk_id, vals[i].metric_id);
					rc = -1;
					break;
				}
				snprintf(v.metric, sizeof v.metric, "%s", metrics[m].name);
				v.series_id = 0;
				for (size_t q = 0; q < nseries; q++)
					if (series[q].point_id == v.point_id && series[q].metric_id == vals[i].metric_id)
						v.series_id = series[q].id;
				if (!v.series_id) {
					snprintf(why, cap, "chunk %lld: no series for point %lld metric %s",
						 (long long)v.chunk_id, (long long)v.point_id, v.metric);
					rc = -1;
					break;
				}
				v.flag = vals[i].flag;
				v.v = vals[i].v;
				if (push_value(s, &vcap, &v)) {
					snprintf(why, cap, "out of memory");
					rc = -1;
					break;
				}
			}
			if (rc)
				break;
		}
		if (rc)
			break;
		if (k != 0) {
			snprintf(why, cap, "chunk %lld: malformed blob", (long long)v.chunk_id);
			rc = -1;
		} else if (got_rec != nrec || got_val != nval) {
			snprintf(why, cap, "chunk %lld: nrecords %lld nvalues %lld, blob holds %lld and %lld",
				 (long long)v.chunk_id, (long long)nrec, (long long)nval, (long long)got_rec,
				 (long long)got_val);
			rc = -1;
		} else if (got_min != ts_min || got_max != ts_max) {
			snprintf(why, cap, "chunk %lld: ts_min/ts_max %lld/%lld, blob %lld/%lld", (long long)v.chunk_id,
				 (long long)ts_min, (long long)ts_max, (long long)got_min, (long long)got_max);
			rc = -1;
		} else if (ts_min / 3600000 != ts_max / 3600000) {
			snprintf(why, cap, "chunk %lld spans more than one UTC hour (%lld..%lld)", (long long)v.chunk_id,
				 (long long)ts_min, (long long)ts_max);
			rc = -1;
		}
	}
	sqlite3_finalize(st);
out:
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	free(series);
	if (rc)
		hh_samples_free(s);
	return rc ? -1 : 0;
}

void hh_value_key(const struct hh_value *v, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s|%s|%lld|%s|%.17g|%c|%d", v->ent, v->point, (long long)v->ts_ms, v->metric, v->v,
		 v->flag, v->state);
}

/* ---- rollups ------------------------------------------------------------ */

struct ru_key {
	int64_t series, bucket;
	int period;
	size_t idx; /* into the values: storage order */
};

static int cmp_key(const void *a, const void *b)
{
	const struct ru_key *x = a, *y = b;
	if (x->series != y->series)
		return x->series < y->series ? -1 : 1;
	if (x->period != y->period)
		return x->period < y->period ? -1 : 1;
	if (x->bucket != y->bucket)
		return x->bucket < y->bucket ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

struct ru_agg {
	int64_t series, bucket;
	int period;
	int64_t n, n_valid;
	double sum, sum_valid, min, max, first, last, expected;
	int64_t first_ts, last_ts;
};

static bool close_rel(double a, double b, double tol)
{
	if (a == b)
		return true;
	double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
	return fabs(a - b) <= tol * m;
}

static const char *const period_name[3] = {"minute", "hour", "day"};

static int compare_row(const struct ru_agg *w, sqlite3_stmt *st, char *why, size_t cap)
{
	struct ru_agg g = {
		.series = sqlite3_column_int64(st, 0),
		.period = sqlite3_column_int(st, 1),
		.bucket = sqlite3_column_int64(st, 2),
		.n = sqlite3_column_int64(st, 3),
		.n_valid = sqlite3_column_int64(st, 4),
		.sum = sqlite3_column_double(st, 5),
		.sum_valid = sqlite3_column_double(st, 6),
		.min = sqlite3_column_double(st, 7),
		.max = sqlite3_column_double(st, 8),
		.first_ts = sqlite3_column_int64(st, 9),
		.first = sqlite3_column_double(st, 10),
		.last_ts = sqlite3_column_int64(st, 11),
		.last = sqlite3_column_double(st, 12),
		.expected = sqlite3_column_double(st, 13),
	};
	const char *what = NULL;
	char detail[160] = "";

#define DIFF_I(f)                                                                                                    \
	if (!what && w->f != g.f) {                                                                                  \
		what = #f;                                                                                           \
		snprintf(detail, sizeof detail, "recomputed %lld, stored %lld", (long long)w->f, (long long)g.f);    \
	}
#define DIFF_D(f, tol)                                                                                               \
	if (!what && !close_rel(w->f, g.f, tol)) {                                                                   \
		what = #f;                                                                                           \
		snprintf(detail, sizeof detail, "recomputed %.17g, stored %.17g", w->f, g.f);                        \
	}
	DIFF_I(n)
	DIFF_I(n_valid)
	DIFF_D(sum, 1e-9)
	DIFF_D(sum_valid, 1e-9)
	DIFF_D(min, 0)
	DIFF_D(max, 0)
	DIFF_I(first_ts)
	DIFF_D(first, 0)
	DIFF_I(last_ts)
	DIFF_D(last, 0)
	DIFF_D(expected, 1e-12)
#undef DIFF_I
#undef DIFF_D
	if (!what)
		return 0;
	snprintf(why, cap, "rollup series %lld %s bucket %lld: %s differs: %s", (long long)w->series,
		 period_name[w->period], (long long)w->bucket, what, detail);
	return -1;
}

int hh_check_rollups(struct hh_env *e, long *nrows, char *why, size_t cap)
{
	struct hh_samples s;
	struct ph_tz *tz = NULL;
	struct ph_err err = {0};
	struct ru_key *keys = NULL;
	struct ru_agg *aggs = NULL;
	size_t nkeys, naggs = 0;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = -1;
	long rows = 0;

	*nrows = 0;
	if (hh_samples_load(e, &s, why, cap))
		return -1;
	if (ph_tz_load(e->opts.tz, &tz, &err)) {
		snprintf(why, cap, "tz %s: %s", e->opts.tz, err.msg);
		goto out;
	}
	nkeys = 3 * s.n;
	keys = malloc((nkeys ? nkeys : 1) * sizeof *keys);
	aggs = malloc((nkeys ? nkeys : 1) * sizeof *aggs);
	if (!keys || !aggs) {
		snprintf(why, cap, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < s.n; i++) {
		int64_t ts = s.v[i].ts_ms;
		int64_t minute = ts - ((ts % 60000) + 60000) % 60000;
		keys[3 * i] = (struct ru_key){s.v[i].series_id, minute, 0, i};
		keys[3 * i + 1] = (struct ru_key){s.v[i].series_id, ph_tz_hour_start(tz, ts), 1, i};
		keys[3 * i + 2] = (struct ru_key){s.v[i].series_id, ph_tz_day_start(tz, ts), 2, i};
	}
	qsort(keys, nkeys, sizeof *keys, cmp_key);
	for (size_t i = 0; i < nkeys; i++) {
		const struct ru_key *k = &keys[i];
		const struct hh_value *v = &s.v[k->idx];
		struct ru_agg *a = naggs ? &aggs[naggs - 1] : NULL;
		if (!a || a->series != k->series || a->period != k->period || a->bucket != k->bucket) {
			a = &aggs[naggs++];
			double ei = e->opts.expected_interval_s;
			*a = (struct ru_agg){.series = k->series, .period = k->period, .bucket = k->bucket,
					     .min = v->v, .max = v->v, .first_ts = v->ts_ms, .first = v->v,
					     .last_ts = v->ts_ms, .last = v->v};
			a->expected = k->period == 0   ? 60.0 / ei
				      : k->period == 1 ? 3600.0 / ei
						       : (double)(ph_tz_next_day(tz, k->bucket) - k->bucket) / 1000.0 / ei;
		} else {
			if (v->v < a->min)
				a->min = v->v;
			if (v->v > a->max)
				a->max = v->v;
			if (v->ts_ms < a->first_ts) /* ties: the earlier-stored first */
				a->first_ts = v->ts_ms, a->first = v->v;
			if (v->ts_ms >= a->last_ts) /* ties: the later-stored last */
				a->last_ts = v->ts_ms, a->last = v->v;
		}
		a->n++;
		a->sum += v->v;
		if (v->flag == 'N') {
			a->n_valid++;
			a->sum_valid += v->v;
		}
	}

	if (db_open(e->db, &db)) {
		snprintf(why, cap, "cannot open %s", e->db);
		goto out;
	}
	if (sqlite3_prepare_v2(db,
			       "SELECT series_id, period, bucket_ms, n, n_valid, sum, sum_valid, min, max, first_ts,"
			       " first, last_ts, last, expected FROM rollups ORDER BY series_id, period, bucket_ms",
			       -1, &st, NULL) != SQLITE_OK) {
		snprintf(why, cap, "rollups: %s", sqlite3_errmsg(db));
		goto out;
	}
	size_t w = 0;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t series = sqlite3_column_int64(st, 0), bucket = sqlite3_column_int64(st, 2);
		int period = sqlite3_column_int(st, 1);
		rows++;
		if (period < 0 || period > 2) {
			snprintf(why, cap, "rollup series %lld has period %d", (long long)series, period);
			goto out;
		}
		if (w < naggs && (aggs[w].series < series || (aggs[w].series == series && (aggs[w].period < period ||
					(aggs[w].period == period && aggs[w].bucket < bucket))))) {
			snprintf(why, cap, "no rollups row for series %lld %s bucket %lld (%lld samples in it)",
				 (long long)aggs[w].series, period_name[aggs[w].period], (long long)aggs[w].bucket,
				 (long long)aggs[w].n);
			goto out;
		}
		if (w == naggs || aggs[w].series != series || aggs[w].period != period || aggs[w].bucket != bucket) {
			snprintf(why, cap, "rollups row series %lld %s bucket %lld has no samples (n %lld)",
				 (long long)series, period_name[period], (long long)bucket,
				 (long long)sqlite3_column_int64(st, 3));
			goto out;
		}
		if (compare_row(&aggs[w], st, why, cap))
			goto out;
		w++;
	}
	if (step != SQLITE_DONE) {
		snprintf(why, cap, "rollups: %s", sqlite3_errmsg(db));
		goto out;
	}
	if (w < naggs) {
		snprintf(why, cap, "no rollups row for series %lld %s bucket %lld (%lld samples in it)",
			 (long long)aggs[w].series, period_name[aggs[w].period], (long long)aggs[w].bucket,
			 (long long)aggs[w].n);
		goto out;
	}
	*nrows = rows;
	rc = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	ph_tz_free(tz);
	free(keys);
	free(aggs);
	hh_samples_free(&s);
	return rc;
}

/* ---- parkagent ---------------------------------------------------------- */

int hh_agent_start(struct hh_env *e, int i, const struct hh_agent_opts *o)
{
	const char *argv[] = {hh_parkagent(), "--config", e->agent_cfg[i], NULL};
	size_t cap;
	char *buf;
	int n, rc;

	if (!argv[0] || !o->sources || i < 0 || i >= HH_NENTS)
		return -EINVAL;
	cap = strlen(o->sources) + 4096;
	if (!(buf = malloc(cap)))
		return -ENOMEM;
	n = snprintf(buf, cap,
		     "{\n"
		     "  \"park\": \"%s\", \"ent\": \"%s\", \"agent\": \"%s\",\n"
		     "  \"mqtt\": {\"uris\": [\"%s\"], \"keepalive_s\": 10, \"reconnect_min_ms\": 100,\n"
		     "           \"reconnect_max_ms\": 1000},\n"
		     "  \"batch\": {\"max_records\": %d, \"max_delay_ms\": %d},\n"
		     "  \"outbox\": {\"path\": \"%s\", \"resend_after_s\": %d},\n"
		     "  \"status_interval_s\": 60,\n"
		     "  \"sources\": %s\n"
		     "}\n",
		     HH_PARK, ents[i], agents[i], pht_broker_uri(&e->broker), o->max_records ? o->max_records : 50,
		     o->max_delay_ms ? o->max_delay_ms : 100, e->outbox[i], o->resend_after_s ? o->resend_after_s : 30,
		     o->sources);
	rc = n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : hh_write_file(e->agent_cfg[i], buf);
	free(buf);
	if (rc)
		return rc;
	return pht_proc_spawn(&e->agent[i], argv, e->agent_log[i]);
}

int hh_agent_stop(struct hh_env *e, int i, int timeout_ms, int *status)
{
	int rc = pht_proc_kill(&e->agent[i], SIGTERM);

	if (rc)
		return rc;
	rc = pht_proc_wait(&e->agent[i], timeout_ms, status);
	if (rc == -ETIMEDOUT) {
		pht_proc_kill(&e->agent[i], SIGKILL);
		pht_proc_wait(&e->agent[i], 5000, NULL);
	}
	return rc;
}

long hh_outbox_depth(struct hh_env *e, int i)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long n = -EIO;
	int rc;

	if ((rc = db_open(e->outbox[i], &db)))
		return rc;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM batches", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			n = (long)sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return n;
}

int hh_hub_stop_checked(struct hh_env *e, char *why, size_t cap)
{
	int status = 0;

	why[0] = 0;
	if (e->hub.pid > 0 && (hh_hub_stop(e, 10000, &status) || status)) {
		snprintf(why, cap, "the hub did not stop cleanly (status %d, log %s)", status, e->hub_log);
		return -EIO;
	}
	return hh_log_clean(e->hub_log, why, cap) ? -EIO : 0;
}

int hh_cems_update(struct hh_env *e, int timeout_ms)
{
	int status = 0, rc;
	int64_t t0 = ph_now_ms(), last = 0;

	if ((rc = hh_hub_stop(e, 10000, &status)) || (rc = hh_hub_start(e, timeout_ms)))
		return rc;
	rc = hh_wait_db(e, 1, &last, timeout_ms,
			"SELECT run_ms > %lld AND NOT EXISTS (SELECT 1 FROM cems_dirty) FROM cems_state", (long long)t0);
	if (rc)
		fprintf(stderr, "hh_cems_update: the CEMS update did not run (log %s)\n", e->hub_log);
	return rc;
}

/* ---- HTTP: the tests' one client (libcurl, 127.0.0.1, no proxy) ---- */

/* A response part: grows (cap 0: realloc) or fills a caller's buffer (cut
 * at cap - 1, noted in cut). Always NUL-terminated once written to. */
struct http_sink {
	char *p;
	size_t len, cap;
	bool grow, cut;
};

static size_t http_put(char *p, size_t sz, size_t n, void *u)
{
	struct http_sink *s = u;
	size_t k = sz * n, take = k;
	if (s->grow) {
		char *nb = realloc(s->p, s->len + k + 1);
		if (!nb)
			return 0;
		s->p = nb;
	} else if (take > s->cap - 1 - s->len) {
		take = s->cap - 1 - s->len;
		s->cut = true;
	}
	memcpy(s->p + s->len, p, take);
	s->len += take;
	s->p[s->len] = 0;
	return k;
}

/* One request; the status in *status (0 when none came). curl's code. */
static CURLcode http_do(int port, const char *method, const char *path, const char *token, const char *json,
			struct http_sink *b, struct http_sink *h, long *status)
{
	char url[1200], auth[600];
	CURL *c = curl_easy_init();
	*status = 0;
	if (!c)
		return CURLE_OUT_OF_MEMORY;
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
	struct curl_slist *hl = NULL;
	if (token) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
		hl = curl_slist_append(hl, auth);
	}
	if (json) {
		hl = curl_slist_append(hl, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_put);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	if (h) {
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_put);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	}
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return rc;
}

long hh_http_get(int port, const char *token, const char *path, char *body, size_t cap, char *hdrs, size_t hcap)
{
	struct http_sink b = {.p = body, .cap = cap}, h = {.p = hdrs, .cap = hcap};
	long status;
	body[0] = 0;
	if (hdrs)
		hdrs[0] = 0;
	if (http_do(port, "GET", path, token, NULL, &b, hdrs ? &h : NULL, &status) != CURLE_OK)
		return -EIO;
	return b.cut || h.cut ? -E2BIG : status;
}

int hh_http_request(int port, const char *method, const char *path, const char *token, const char *json,
		    struct hh_http_resp *r)
{
	struct http_sink b = {.grow = true};
	memset(r, 0, sizeof *r);
	CURLcode rc = http_do(port, method, path, token, json, &b, NULL, &r->status);
	r->body = b.p ? b.p : calloc(1, 1);
	r->len = b.len;
	if (rc != CURLE_OK) {
		free(r->body);
		r->body = strdup(curl_easy_strerror(rc));
		r->len = r->body ? strlen(r->body) : 0;
		return -1;
	}
	return r->body ? 0 : -1;
}

void hh_http_resp_free(struct hh_http_resp *r)
{
	free(r->body);
	memset(r, 0, sizeof *r);
}
