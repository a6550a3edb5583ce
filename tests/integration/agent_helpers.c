/*
 * agent_helpers.c — sandbox, config writer, record generator and fake hub
 * for the parkagent integration tests (agent_helpers.h).
 *
 * Threads: the test's thread calls everything; the fake hub has one thread
 * of its own (hub_main) that alone uses the hub's Paho client. Shared hub
 * state (trackers, records, batches seen, statuses, stats, requests) is
 * under hub->mu; Paho calls are made with the mutex released.
 *
 * inv. 1: a record is stored once per (agent, epoch, seq): the first copy
 *         of a batch wins, later copies only count (dups, conflicts).
 * inv. 2: an ack never claims a seq the hub did not receive, except seqs
 *         below a batch's `oldest` (declared gone by the agent).
 * inv. 3: every wait is bounded by its timeout.
 */
#include "agent_helpers.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parkhub/batch.h"
#include "parkhub/catalog.h"
#include "parkhub/timefmt.h"
#include "parkhub/topic.h"

#define KEY_MAX 1024
#define STATUS_MAX 8192

/* ---- small files -------------------------------------------------------- */

static int write_mode(const char *path, const char *text, const char *mode)
{
	FILE *f = fopen(path, mode);
	size_t n = strlen(text);
	int rc = 0;

	if (!f) {
		rc = -errno;
		fprintf(stderr, "agent_helpers: opening %s: %s\n", path, strerror(-rc));
		return rc;
	}
	if (fwrite(text, 1, n, f) != n)
		rc = -EIO;
	if (fclose(f) != 0 && !rc)
		rc = -EIO;
	if (rc)
		fprintf(stderr, "agent_helpers: writing %s failed\n", path);
	return rc;
}

int ah_write_file(const char *path, const char *text) { return write_mode(path, text, "w"); }
int ah_append_file(const char *path, const char *text) { return write_mode(path, text, "a"); }

int ah_write_config(const char *path, const struct ah_cfg *c)
{
	char *buf;
	int n, rc;
	size_t cap;

	if (!c->uri || !c->outbox || !c->sources)
		return -EINVAL;
	cap = strlen(c->sources) + (c->tls ? strlen(c->tls) : 0) + 4096;
	if (!(buf = malloc(cap)))
		return -ENOMEM;
	n = snprintf(buf, cap,
		     "{\n"
		     "  \"park\": \"%s\", \"ent\": \"%s\", \"agent\": \"%s\",\n"
		     "  \"mqtt\": {\"uris\": [\"%s\"], \"inflight\": %d, \"keepalive_s\": 10,\n"
		     "           \"reconnect_min_ms\": 100, \"reconnect_max_ms\": 1000%s%s},\n"
		     "  \"batch\": {\"max_records\": %d, \"max_delay_ms\": %d},\n"
		     "  \"outbox\": {\"path\": \"%s\", \"max_batches\": %ld, \"full_policy\": \"%s\",\n"
		     "             \"resend_after_s\": %d},\n"
		     "  \"status_interval_s\": %d,\n"
		     "  \"sources\": %s\n"
		     "}\n",
		     AH_PARK, AH_ENT, c->agent ? c->agent : AH_AGENT, c->uri, c->inflight ? c->inflight : 32,
		     c->tls ? ", \"tls\": " : "", c->tls ? c->tls : "",
		     c->max_records ? c->max_records : 20, c->max_delay_ms ? c->max_delay_ms : 100, c->outbox,
		     c->max_batches ? c->max_batches : 100000, c->policy ? c->policy : "stop",
		     c->resend_after_s ? c->resend_after_s : 30, c->status_interval_s ? c->status_interval_s : 60,
		     c->sources);
	rc = n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : ah_write_file(path, buf);
	free(buf);
	return rc;
}

/* ---- records ------------------------------------------------------------ */

static int64_t base_ms(void) { return ph_days_from_civil(2026, 1, 1) * 86400000LL; }

void ah_jsonl_line(long i, char *buf, size_t cap)
{
	char ts[PH_TIME_STRLEN];

	ph_time_format(base_ms() + (int64_t)i * 1000, ts, sizeof ts);
	snprintf(buf, cap,
		 "{\"ts\":\"%s\",\"point\":\"stack-%ld\",\"values\":{\"so2\":%.1f,\"nox\":%.1f,\"pm\":%.1f,"
		 "\"flow\":%ld,\"o2\":%.1f,\"temp\":%.1f},\"flags\":{\"so2\":\"%c\"}}",
		 ts, 1 + i % 3, 20 + (double)(i * 7 % 600) / 10, 60 + (double)(i * 13 % 900) / 10,
		 1 + (double)(i % 90) / 10, 80000 + i % 15000, 10 + (double)(i % 40) / 10,
		 120 + (double)(i % 300) / 10, i % 17 == 0 ? 'M' : 'N');
}

int ah_jsonl_append(const char *path, long from, long to)
{
	char line[1024];
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd < 0) {
		int e = -errno;
		fprintf(stderr, "agent_helpers: opening %s: %s\n", path, strerror(-e));
		return e;
	}
	for (long i = from; i < to; i++) {
		ah_jsonl_line(i, line, sizeof line - 1);
		size_t n = strlen(line);
		line[n++] = '\n';
		if (write(fd, line, n) != (ssize_t)n) {
			int e = errno ? -errno : -EIO;
			fprintf(stderr, "agent_helpers: appending to %s: %s\n", path, strerror(-e));
			close(fd);
			return e;
		}
	}
	close(fd);
	return 0;
}

/* The built-in catalogue, loaded once, kept for the process's life. */
static struct ph_catalog *g_cat;

static void load_catalog(void)
{
	struct ph_err err = {0};

	if (ph_catalog_load_builtin(&g_cat, &err))
		fprintf(stderr, "agent_helpers: catalogue: %s\n", err.msg);
}

static const struct ph_catalog *catalog(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, load_catalog);
	return g_cat;
}

/* The canonical text of one decoded record (what tests compare). */
static void record_key(const struct ph_batch *b, const struct ph_record *r, char *out, size_t cap)
{
	const struct ph_catalog *cat = catalog();
	size_t n = (size_t)snprintf(out, cap, "%s|%lld|", r->point, (long long)r->ts_ms);

	if (b->kind == PH_KIND_MATERIAL) {
		const char *attrs = ph_record_attrs(b, r);
		snprintf(out + n, cap - n, "M:%s|%s|%.17g|%s|%s|%s", r->material,
			 ph_dir_name(r->dir), r->qty_t, r->lot, r->supplier, attrs ? attrs : "");
		return;
	}
	const struct ph_value *v = ph_record_values(b, r);
	for (size_t i = 0; i < r->nvalues && n < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "%s=%.17g:%c,", ph_catalog_at(cat, (size_t)v[i].metric)->code,
				      v[i].v, v[i].flag);
	if (n < cap)
		snprintf(out + n, cap - n, "|%s", ph_state_name(r->state));
}

/* The kind the agent's jsonl source gives a line (src_jsonl.c). */
static enum ph_kind line_kind(cJSON *o)
{
	cJSON *kind = cJSON_DetachItemFromObjectCaseSensitive(o, "kind");
	enum ph_kind k = PH_KIND_EMISSION;

	if (kind) {
		if (cJSON_IsString(kind))
			ph_kind_parse(kind->valuestring, strlen(kind->valuestring), &k);
		cJSON_Delete(kind);
		return k;
	}
	if (cJSON_GetObjectItemCaseSensitive(o, "material"))
		return PH_KIND_MATERIAL;
	const cJSON *vals = cJSON_GetObjectItemCaseSensitive(o, "values");
	if (cJSON_IsObject(vals) && vals->child) {
		int idx = ph_catalog_find(catalog(), vals->child->string, strlen(vals->child->string));
		if (idx >= 0)
			k = ph_catalog_at(catalog(), (size_t)idx)->kind;
	}
	return k;
}

static int keys_push(struct ah_keys *k, const char *key)
{
	if (k->n == k->cap) {
		size_t nc = k->cap ? 2 * k->cap : 1024;
		char **nv = realloc(k->v, nc * sizeof *nv);
		if (!nv)
			return -ENOMEM;
		k->v = nv;
		k->cap = nc;
	}
	if (!(k->v[k->n] = strdup(key)))
		return -ENOMEM;
	k->n++;
	return 0;
}

void ah_keys_free(struct ah_keys *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
	memset(k, 0, sizeof *k);
}

int ah_keys_add_line(struct ah_keys *k, const char *line)
{
	cJSON *o = cJSON_Parse(line);
	struct ph_batch b;
	struct ph_err err = {0};
	char key[KEY_MAX];
	int rc = -EINVAL;

	if (!cJSON_IsObject(o) || !catalog()) {
		cJSON_Delete(o);
		return -EINVAL;
	}
	enum ph_kind kind = line_kind(o);
	struct ph_decode_opts opts = {.cat = catalog(), .kind = kind, .skip_key = "kind"};
	ph_batch_init(&b, kind);
	if (ph_batch_decode_record(&b, line, strlen(line), &opts, "line", &err) == 0) {
		record_key(&b, &b.records[0], key, sizeof key);
		rc = keys_push(k, key);
	}
	ph_batch_fini(&b);
	cJSON_Delete(o);
	return rc;
}

int ah_keys_add_range(struct ah_keys *k, long from, long to)
{
	char line[1024];

	for (long i = from; i < to; i++) {
		ah_jsonl_line(i, line, sizeof line);
		int rc = ah_keys_add_line(k, line);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- the fake hub: state ------------------------------------------------ */

struct tracker {
	char park[PH_ID_MAX + 1], ent[PH_ID_MAX + 1], agent[PH_ID_MAX + 1];
	int64_t epoch;
	int order;          /* first appearance among this agent's epochs */
	uint8_t *seen;      /* by seq */
	uint64_t *hash;     /* content of the first copy, by seq */
	size_t cap;         /* seen/hash hold seqs < cap */
	int64_t lo, hi;     /* seqs received */
	int64_t upto;       /* what the next ack says */
	int64_t acked;      /* what the last ack sent said */
	bool due;           /* an ack should go out */
	size_t conflicts;
};

struct rec {
	char *key;
	int agent; /* index into hub->agents */
	int64_t epoch, seq;
	int idx, order;
};

struct status {
	char agent[PH_ID_MAX + 1];
	char *payload;
	size_t count;
};

struct ah_hub {
	struct pht_mqtt *m;
	pthread_t th;
	bool thread_started;
	pthread_mutex_t mu;
	/* under mu */
	bool stop, acking;
	char state[32];
	unsigned state_req, state_done;
	struct tracker *tr;
	size_t ntr;
	struct rec *recs;
	size_t nrecs, recs_cap;
	struct ah_batch_seen *seen;
	size_t nseen, seen_cap;
	struct status *st;
	size_t nst;
	char (*agents)[PH_ID_MAX + 1];
	size_t nagents;
	struct ah_hub_stats stats;
	/* hub thread only */
	struct ph_batch scratch;
};

static int agent_index(struct ah_hub *h, const char *agent, bool add)
{
	for (size_t i = 0; i < h->nagents; i++)
		if (strcmp(h->agents[i], agent) == 0)
			return (int)i;
	if (!add)
		return -1;
	void *n = realloc(h->agents, (h->nagents + 1) * sizeof *h->agents);
	if (!n)
		return -1;
	h->agents = n;
	snprintf(h->agents[h->nagents], sizeof h->agents[0], "%s", agent);
	return (int)h->nagents++;
}

static struct tracker *tracker_get(struct ah_hub *h, const struct ph_topic *t, int64_t epoch)
{
	int order = 0;

	for (size_t i = 0; i < h->ntr; i++) {
		if (strcmp(h->tr[i].agent, t->agent) == 0) {
			if (h->tr[i].epoch == epoch)
				return &h->tr[i];
			order++;
		}
	}
	struct tracker *n = realloc(h->tr, (h->ntr + 1) * sizeof *n);
	if (!n)
		return NULL;
	h->tr = n;
	struct tracker *x = &h->tr[h->ntr++];
	memset(x, 0, sizeof *x);
	snprintf(x->park, sizeof x->park, "%s", t->park);
	snprintf(x->ent, sizeof x->ent, "%s", t->ent);
	snprintf(x->agent, sizeof x->agent, "%s", t->agent);
	x->epoch = epoch;
	x->order = order;
	x->lo = x->hi = -1;
	return x;
}

static int tracker_grow(struct tracker *t, int64_t seq)
{
	if ((size_t)seq < t->cap)
		return 0;
	size_t nc = t->cap ? t->cap : 1024;
	while (nc <= (size_t)seq)
		nc *= 2;
	uint8_t *s = realloc(t->seen, nc);
	if (!s)
		return -ENOMEM;
	t->seen = s;
	uint64_t *hh = realloc(t->hash, nc * sizeof *hh);
	if (!hh)
		return -ENOMEM;
	t->hash = hh;
	memset(t->seen + t->cap, 0, nc - t->cap);
	memset(t->hash + t->cap, 0, (nc - t->cap) * sizeof *hh);
	t->cap = nc;
	return 0;
}

static bool tracker_has(const struct tracker *t, int64_t seq)
{
	return seq >= 0 && (size_t)seq < t->cap && t->seen[seq];
}

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (h ^ 0xff) * 1099511628211ULL;
}

static int push_seen(struct ah_hub *h, const struct ah_batch_seen *s)
{
	if (h->nseen == h->seen_cap) {
		size_t nc = h->seen_cap ? 2 * h->seen_cap : 1024;
		void *n = realloc(h->seen, nc * sizeof *h->seen);
		if (!n)
			return -ENOMEM;
		h->seen = n;
		h->seen_cap = nc;
	}
	h->seen[h->nseen++] = *s;
	return 0;
}

static int push_rec(struct ah_hub *h, const char *key, int agent, int64_t epoch, int64_t seq, int idx, int order)
{
	if (h->nrecs == h->recs_cap) {
		size_t nc = h->recs_cap ? 2 * h->recs_cap : 4096;
		void *n = realloc(h->recs, nc * sizeof *h->recs);
		if (!n)
			return -ENOMEM;
		h->recs = n;
		h->recs_cap = nc;
	}
	struct rec *r = &h->recs[h->nrecs];
	if (!(r->key = strdup(key)))
		return -ENOMEM;
	r->agent = agent;
	r->epoch = epoch;
	r->seq = seq;
	r->idx = idx;
	r->order = order;
	h->nrecs++;
	return 0;
}

/* A decoded batch (hub thread; takes mu). */
static void on_batch(struct ah_hub *h, const struct ph_topic *t, const struct ph_batch *b)
{
	char key[KEY_MAX];
	uint64_t hash = 1469598103934665603ULL;

	for (size_t i = 0; i < b->nrecords; i++) {
		record_key(b, &b->records[i], key, sizeof key);
		hash = fnv(hash, key);
	}
	pthread_mutex_lock(&h->mu);
	struct tracker *tr = tracker_get(h, t, b->epoch);
	int ai = agent_index(h, b->agent, true);
	if (!tr || ai < 0 || b->seq < 1 || tracker_grow(tr, b->seq)) {
		h->stats.bad++;
		pthread_mutex_unlock(&h->mu);
		return;
	}
	struct ah_batch_seen s = {.epoch = b->epoch, .seq = b->seq, .oldest = b->oldest,
				  .nrecords = (int)b->nrecords, .at_ms = pht_now_ms()};
	snprintf(s.agent, sizeof s.agent, "%s", b->agent);
	h->stats.batches++;
	if (b->oldest > h->stats.max_oldest)
		h->stats.max_oldest = b->oldest;
	if (tr->seen[b->seq]) {
		s.dup = true;
		h->stats.dups++;
		if (tr->hash[b->seq] != hash) {
			tr->conflicts++;
			h->stats.conflicts++;
		}
	} else {
		tr->seen[b->seq] = 1;
		tr->hash[b->seq] = hash;
		h->stats.new_batches++;
		if (tr->lo < 0 || b->seq < tr->lo)
			tr->lo = b->seq;
		if (b->seq > tr->hi)
			tr->hi = b->seq;
		for (size_t i = 0; i < b->nrecords; i++) {
			record_key(b, &b->records[i], key, sizeof key);
			if (push_rec(h, key, ai, b->epoch, b->seq, (int)i, tr->order) == 0)
				h->stats.records++;
		}
	}
	push_seen(h, &s);
	/* inv. 2: below `oldest` nothing more will come. */
	if (b->oldest - 1 > tr->upto) {
		for (int64_t q = tr->upto + 1; q < b->oldest; q++)
			if (!tracker_has(tr, q))
				h->stats.gap_seqs++;
		tr->upto = b->oldest - 1;
	}
	while (tracker_has(tr, tr->upto + 1))
		tr->upto++;
	tr->due = true;
	pthread_mutex_unlock(&h->mu);
}

static void on_status(struct ah_hub *h, const struct ph_topic *t, const char *payload)
{
	pthread_mutex_lock(&h->mu);
	struct status *s = NULL;
	for (size_t i = 0; i < h->nst; i++)
		if (strcmp(h->st[i].agent, t->agent) == 0)
			s = &h->st[i];
	if (!s) {
		void *n = realloc(h->st, (h->nst + 1) * sizeof *h->st);
		if (n) {
			h->st = n;
			s = &h->st[h->nst++];
			memset(s, 0, sizeof *s);
			snprintf(s->agent, sizeof s->agent, "%s", t->agent);
		}
	}
	if (s) {
		char *p = strdup(payload);
		if (p) {
			free(s->payload);
			s->payload = p;
			s->count++;
		}
	}
	pthread_mutex_unlock(&h->mu);
}

static void on_message(struct ah_hub *h, const char *topic, const char *payload, size_t len)
{
	struct ph_topic t;
	struct ph_err err = {0};

	if (ph_topic_parse(topic, strlen(topic), &t, &err)) {
		pthread_mutex_lock(&h->mu);
		h->stats.bad++;
		pthread_mutex_unlock(&h->mu);
		return;
	}
	if (t.type == PH_TOPIC_STATUS) {
		on_status(h, &t, payload);
		return;
	}
	if (t.type != PH_TOPIC_EVENT)
		return;
	struct ph_decode_opts o = {.cat = catalog(), .kind = t.kind};
	ph_batch_reset(&h->scratch, t.kind);
	if (ph_batch_decode(payload, len, &o, &h->scratch, &err) || strcmp(h->scratch.agent, t.agent) != 0) {
		fprintf(stderr, "fake hub: batch on %s refused: %s\n", topic, err.msg);
		pthread_mutex_lock(&h->mu);
		h->stats.bad++;
		pthread_mutex_unlock(&h->mu);
		return;
	}
	on_batch(h, &t, &h->scratch);
}

/* ---- the fake hub: its thread ------------------------------------------- */

static int subscribe_all(struct ah_hub *h)
{
	int rc = pht_mqtt_subscribe(h->m, "parkhub/v1/+/+/+/ev/#", 1, 5000);
	if (!rc)
		rc = pht_mqtt_subscribe(h->m, "parkhub/v1/+/+/+/status", 1, 5000);
	return rc;
}

static int publish_state(struct ah_hub *h, const char *state)
{
	char topic[PH_TOPIC_MAX], payload[128];
	snprintf(topic, sizeof topic, "parkhub/v1/%s/hub", AH_PARK);
	snprintf(payload, sizeof payload, "{\"v\":1,\"hub\":\"h\",\"state\":\"%s\"}", state);
	return pht_mqtt_publish(h->m, topic, payload, strlen(payload), 1, 1, 5000);
}

struct pending_ack {
	char topic[PH_TOPIC_MAX];
	int64_t epoch, upto;
	size_t tr;
};

static void send_acks(struct ah_hub *h)
{
	struct pending_ack *p = NULL;
	size_t n = 0;

	pthread_mutex_lock(&h->mu);
	if (h->acking && h->ntr && (p = calloc(h->ntr, sizeof *p))) {
		for (size_t i = 0; i < h->ntr; i++) {
			struct tracker *t = &h->tr[i];
			if (!t->due || t->upto < 1)
				continue;
			if (ph_topic_agent(p[n].topic, sizeof p[n].topic, PH_TOPIC_ACK, t->park, t->ent, t->agent,
					   0))
				continue;
			p[n].epoch = t->epoch;
			p[n].upto = t->upto;
			p[n].tr = i;
			t->due = false;
			n++;
		}
	}
	pthread_mutex_unlock(&h->mu);
	for (size_t i = 0; i < n; i++) {
		char payload[96];
		snprintf(payload, sizeof payload, "{\"epoch\":%lld,\"upto\":%lld}", (long long)p[i].epoch,
			 (long long)p[i].upto);
		int rc = pht_mqtt_publish(h->m, p[i].topic, payload, strlen(payload), 1, 0, 5000);
		pthread_mutex_lock(&h->mu);
		struct tracker *t = &h->tr[p[i].tr];
		if (rc) {
			t->due = true; /* try again next round */
		} else {
			h->stats.acks_sent++;
			if (p[i].upto > t->acked)
				t->acked = p[i].upto;
		}
		pthread_mutex_unlock(&h->mu);
	}
	free(p);
}

static void *hub_main(void *arg)
{
	struct ah_hub *h = arg;
	char topic[PH_TOPIC_MAX];

	for (;;) {
		pthread_mutex_lock(&h->mu);
		bool stop = h->stop;
		unsigned req = h->state_req;
		bool want_state = h->state_req != h->state_done;
		char state[32];
		snprintf(state, sizeof state, "%s", h->state);
		pthread_mutex_unlock(&h->mu);
		if (stop)
			break;
		if (!pht_mqtt_connected(h->m)) {
			if (pht_mqtt_connect(h->m, 1, 2000) == 0 && subscribe_all(h) == 0) {
				if (state[0])
					publish_state(h, state);
			} else {
				pht_sleep_ms(100);
			}
			continue;
		}
		if (want_state && publish_state(h, state) == 0) {
			pthread_mutex_lock(&h->mu);
			h->state_done = req;
			pthread_mutex_unlock(&h->mu);
		}
		for (int got = 0; got < 5000; got++) {
			char *payload = NULL;
			size_t len = 0;
			if (pht_mqtt_next(h->m, got ? 0 : 20, topic, sizeof topic, &payload, &len))
				break;
			on_message(h, topic, payload, len);
			free(payload);
		}
		send_acks(h);
	}
	return NULL;
}

struct ah_hub *ah_hub_start(const char *uri, bool ack)
{
	static int n;
	char id[64];
	struct ah_hub *h = calloc(1, sizeof *h);

	if (!h || !catalog()) {
		free(h);
		return NULL;
	}
	pthread_mutex_init(&h->mu, NULL);
	h->acking = ack;
	ph_batch_init(&h->scratch, PH_KIND_EMISSION);
	snprintf(id, sizeof id, "ah-hub-%d-%d", (int)getpid(), n++);
	if (!(h->m = pht_mqtt_new(uri, id)) || pht_mqtt_connect(h->m, 1, 5000) || subscribe_all(h)) {
		fprintf(stderr, "fake hub: cannot connect/subscribe to %s\n", uri);
		ah_hub_stop(h);
		return NULL;
	}
	if (pthread_create(&h->th, NULL, hub_main, h)) {
		ah_hub_stop(h);
		return NULL;
	}
	h->thread_started = true;
	return h;
}

void ah_hub_stop(struct ah_hub *h)
{
	if (!h)
		return;
	if (h->thread_started) {
		pthread_mutex_lock(&h->mu);
		h->stop = true;
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->th, NULL);
	}
	pht_mqtt_free(h->m);
	for (size_t i = 0; i < h->ntr; i++) {
		free(h->tr[i].seen);
		free(h->tr[i].hash);
	}
	free(h->tr);
	for (size_t i = 0; i < h->nrecs; i++)
		free(h->recs[i].key);
	free(h->recs);
	free(h->seen);
	for (size_t i = 0; i < h->nst; i++)
		free(h->st[i].payload);
	free(h->st);
	free(h->agents);
	ph_batch_fini(&h->scratch);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

void ah_hub_set_acking(struct ah_hub *h, bool on)
{
	pthread_mutex_lock(&h->mu);
	h->acking = on;
	if (on)
		for (size_t i = 0; i < h->ntr; i++)
			h->tr[i].due = true;
	pthread_mutex_unlock(&h->mu);
}

int ah_hub_set_state(struct ah_hub *h, const char *state, int timeout_ms)
{
	long long t0 = pht_now_ms();
	unsigned req;

	pthread_mutex_lock(&h->mu);
	snprintf(h->state, sizeof h->state, "%s", state);
	req = ++h->state_req;
	pthread_mutex_unlock(&h->mu);
	for (;;) {
		pthread_mutex_lock(&h->mu);
		bool done = (int)(h->state_done - req) >= 0;
		pthread_mutex_unlock(&h->mu);
		if (done)
			return 0;
		if (pht_now_ms() - t0 > timeout_ms)
			return -ETIMEDOUT;
		pht_sleep_ms(10);
	}
}

void ah_hub_stats(struct ah_hub *h, struct ah_hub_stats *out)
{
	pthread_mutex_lock(&h->mu);
	*out = h->stats;
	pthread_mutex_unlock(&h->mu);
}

size_t ah_hub_batches(struct ah_hub *h, size_t from, struct ah_batch_seen *out, size_t cap)
{
	size_t n = 0;

	pthread_mutex_lock(&h->mu);
	for (size_t i = from; i < h->nseen && n < cap; i++)
		out[n++] = h->seen[i];
	pthread_mutex_unlock(&h->mu);
	return n;
}

size_t ah_hub_records(struct ah_hub *h, const char *agent)
{
	size_t n = 0;

	pthread_mutex_lock(&h->mu);
	int ai = agent_index(h, agent, false);
	for (size_t i = 0; ai >= 0 && i < h->nrecs; i++)
		n += h->recs[i].agent == ai;
	pthread_mutex_unlock(&h->mu);
	return n;
}

int ah_hub_wait_records(struct ah_hub *h, const char *agent, size_t n, int timeout_ms)
{
	long long t0 = pht_now_ms();

	while (ah_hub_records(h, agent) < n) {
		if (pht_now_ms() - t0 > timeout_ms)
			return -ETIMEDOUT;
		pht_sleep_ms(20);
	}
	return 0;
}

int ah_hub_wait_acked(struct ah_hub *h, const char *agent, int timeout_ms)
{
	long long t0 = pht_now_ms();

	for (;;) {
		bool all = true, any = false;
		pthread_mutex_lock(&h->mu);
		for (size_t i = 0; i < h->ntr; i++) {
			const struct tracker *t = &h->tr[i];
			if (strcmp(t->agent, agent) != 0)
				continue;
			any = true;
			if (t->upto < t->hi || t->acked < t->upto || t->due)
				all = false;
		}
		pthread_mutex_unlock(&h->mu);
		if (any && all)
			return 0;
		if (pht_now_ms() - t0 > timeout_ms)
			return -ETIMEDOUT;
		pht_sleep_ms(20);
	}
}

/* ---- the fake hub: checks ----------------------------------------------- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int cmp_rec_order(const void *a, const void *b)
{
	const struct rec *x = *(const struct rec *const *)a, *y = *(const struct rec *const *)b;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The agent's records (pointers into h->recs), under mu. */
static struct rec **agent_recs(struct ah_hub *h, const char *agent, size_t *n)
{
	int ai = agent_index(h, agent, false);
	struct rec **v = malloc((h->nrecs + 1) * sizeof *v);

	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; ai >= 0 && i < h->nrecs; i++)
		if (h->recs[i].agent == ai)
			v[(*n)++] = &h->recs[i];
	return v;
}

int ah_hub_same_records(struct ah_hub *h, const char *agent, const struct ah_keys *want, char *why, size_t cap)
{
	size_t n, i = 0, j = 0, missing = 0, extra = 0;
	char **got, **wantv;
	const char *first_missing = NULL, *first_extra = NULL;
	int rc;

	pthread_mutex_lock(&h->mu);
	struct rec **r = agent_recs(h, agent, &n);
	got = malloc((n + 1) * sizeof *got);
	wantv = malloc((want->n + 1) * sizeof *wantv);
	if (!r || !got || !wantv) {
		pthread_mutex_unlock(&h->mu);
		free(r), free(got), free(wantv);
		snprintf(why, cap, "out of memory");
		return -1;
	}
	for (size_t k = 0; k < n; k++)
		got[k] = r[k]->key;
	memcpy(wantv, want->v, want->n * sizeof *wantv);
	qsort(got, n, sizeof *got, cmp_str);
	qsort(wantv, want->n, sizeof *wantv, cmp_str);
	while (i < n || j < want->n) {
		int c = i == n ? 1 : j == want->n ? -1 : strcmp(got[i], wantv[j]);
		if (c == 0) {
			i++, j++;
		} else if (c < 0) {
			if (!first_extra)
				first_extra = got[i];
			extra++, i++;
		} else {
			if (!first_missing)
				first_missing = wantv[j];
			missing++, j++;
		}
	}
	rc = missing || extra ? -1 : 0;
	if (rc)
		snprintf(why, cap, "%zu records received, %zu written: %zu missing (first: %.200s), %zu extra or duplicated "
			 "(first: %.200s)", n, want->n, missing, first_missing ? first_missing : "-", extra,
			 first_extra ? first_extra : "-");
	pthread_mutex_unlock(&h->mu);
	free(r), free(got), free(wantv);
	return rc;
}

int ah_hub_records_in_order(struct ah_hub *h, const char *agent, const struct ah_keys *want, char *why,
			    size_t cap)
{
	size_t n;
	int rc = 0;

	pthread_mutex_lock(&h->mu);
	struct rec **r = agent_recs(h, agent, &n);
	if (!r) {
		pthread_mutex_unlock(&h->mu);
		snprintf(why, cap, "out of memory");
		return -1;
	}
	qsort(r, n, sizeof *r, cmp_rec_order);
	if (n != want->n) {
		snprintf(why, cap, "%zu records received, %zu written", n, want->n);
		rc = -1;
	}
	for (size_t i = 0; !rc && i < n; i++)
		if (strcmp(r[i]->key, want->v[i]) != 0) {
			snprintf(why, cap, "record %zu (epoch %lld seq %lld #%d) is %.200s, written: %.200s", i,
				 (long long)r[i]->epoch, (long long)r[i]->seq, r[i]->idx, r[i]->key, want->v[i]);
			rc = -1;
		}
	pthread_mutex_unlock(&h->mu);
	free(r);
	return rc;
}

int ah_hub_check_seqs(struct ah_hub *h, const char *agent, bool from_one, char *why, size_t cap)
{
	int rc = 0;
	bool any = false;

	pthread_mutex_lock(&h->mu);
	for (size_t i = 0; !rc && i < h->ntr; i++) {
		const struct tracker *t = &h->tr[i];
		if (strcmp(t->agent, agent) != 0)
			continue;
		any = true;
		if (t->conflicts) {
			snprintf(why, cap, "epoch %lld: %zu seqs arrived twice with different records (seq reused)",
				 (long long)t->epoch, t->conflicts);
			rc = -1;
		} else if (from_one && t->lo != 1) {
			snprintf(why, cap, "epoch %lld: first seq received is %lld, not 1", (long long)t->epoch,
				 (long long)t->lo);
			rc = -1;
		}
		for (int64_t q = t->lo; !rc && q <= t->hi; q++)
			if (!tracker_has(t, q)) {
				snprintf(why, cap, "epoch %lld: seq %lld missing between %lld and %lld",
					 (long long)t->epoch, (long long)q, (long long)t->lo, (long long)t->hi);
				rc = -1;
			}
	}
	if (!any && !rc) {
		snprintf(why, cap, "no batch of agent %s received", agent);
		rc = -1;
	}
	pthread_mutex_unlock(&h->mu);
	return rc;
}

int ah_hub_record_keys(struct ah_hub *h, const char *agent, struct ah_keys *out)
{
	size_t n;
	int rc = 0;

	pthread_mutex_lock(&h->mu);
	struct rec **r = agent_recs(h, agent, &n);
	if (!r)
		rc = -ENOMEM;
	else
		qsort(r, n, sizeof *r, cmp_rec_order);
	for (size_t i = 0; !rc && i < n; i++)
		rc = keys_push(out, r[i]->key);
	pthread_mutex_unlock(&h->mu);
	free(r);
	return rc;
}

int ah_hub_sim_check(struct ah_hub *h, const char *agent, long ticks, char *why, size_t cap)
{
	struct ah_keys got = {0};
	long stack = 0, furnace = 0, other = 0;
	int rc = 0;

	if (ah_hub_record_keys(h, agent, &got)) {
		snprintf(why, cap, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < got.n; i++) {
		/* "point|ts_ms|values|state" -> "point|values|state" */
		char *bar = strchr(got.v[i], '|'), *bar2 = bar ? strchr(bar + 1, '|') : NULL;
		if (bar2)
			memmove(bar, bar2, strlen(bar2) + 1);
		if (strncmp(got.v[i], "stack-1|", 8) == 0)
			stack++;
		else if (strncmp(got.v[i], "furnace-1|", 10) == 0)
			furnace++;
		else
			other++;
	}
	if (stack != ticks || furnace != ticks || other) {
		snprintf(why, cap, "%ld ticks: %ld stack-1, %ld furnace-1 and %ld other records", ticks, stack, furnace,
			 other);
		rc = -1;
	}
	qsort(got.v, got.n, sizeof *got.v, cmp_str);
	for (size_t i = 1; !rc && i < got.n; i++)
		if (strcmp(got.v[i - 1], got.v[i]) == 0) {
			snprintf(why, cap, "a tick arrived twice (other timestamps, same values): %.300s", got.v[i]);
			rc = -1;
		}
	ah_keys_free(&got);
	return rc;
}

size_t ah_hub_epochs(struct ah_hub *h, const char *agent, int64_t *out, size_t cap)
{
	size_t n = 0;

	pthread_mutex_lock(&h->mu);
	for (size_t i = 0; i < h->ntr && n < cap; i++)
		if (strcmp(h->tr[i].agent, agent) == 0)
			out[n++] = h->tr[i].epoch;
	pthread_mutex_unlock(&h->mu);
	return n;
}

int ah_hub_seq_range(struct ah_hub *h, const char *agent, int64_t epoch, int64_t *lo, int64_t *hi)
{
	int rc = -ENOENT;

	pthread_mutex_lock(&h->mu);
	for (size_t i = 0; i < h->ntr; i++)
		if (strcmp(h->tr[i].agent, agent) == 0 && h->tr[i].epoch == epoch && h->tr[i].lo >= 0) {
			*lo = h->tr[i].lo;
			*hi = h->tr[i].hi;
			rc = 0;
		}
	pthread_mutex_unlock(&h->mu);
	return rc;
}

size_t ah_hub_status(struct ah_hub *h, const char *agent, char *buf, size_t cap)
{
	size_t n = 0;

	if (cap)
		buf[0] = '\0';
	pthread_mutex_lock(&h->mu);
	for (size_t i = 0; i < h->nst; i++)
		if (strcmp(h->st[i].agent, agent) == 0) {
			n = h->st[i].count;
			snprintf(buf, cap, "%s", h->st[i].payload ? h->st[i].payload : "");
		}
	pthread_mutex_unlock(&h->mu);
	return n;
}

int ah_json_get(const char *json, const char *path, char *out, size_t cap)
{
	cJSON *root = cJSON_Parse(json);
	const cJSON *o = root;
	char part[128];
	const char *p = path;
	int rc = 0;

	while (o && *p) {
		size_t n = strcspn(p, ".");
		snprintf(part, sizeof part, "%.*s", (int)n, p);
		o = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, part) : NULL;
		p += n + (p[n] == '.');
	}
	if (!o)
		rc = -ENOENT;
	else if (cJSON_IsString(o))
		snprintf(out, cap, "%s", o->valuestring);
	else if (cJSON_IsNumber(o))
		snprintf(out, cap, "%.17g", o->valuedouble);
	else if (cJSON_IsBool(o))
		snprintf(out, cap, "%s", cJSON_IsTrue(o) ? "true" : "false");
	else if (cJSON_IsNull(o))
		snprintf(out, cap, "null");
	else
		rc = -EINVAL;
	cJSON_Delete(root);
	return rc;
}

int ah_hub_wait_status(struct ah_hub *h, const char *agent, const char *path, const char *want, int timeout_ms)
{
	long long t0 = pht_now_ms();
	char *buf = malloc(STATUS_MAX), val[256];

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (ah_hub_status(h, agent, buf, STATUS_MAX) && ah_json_get(buf, path, val, sizeof val) == 0 &&
		    strcmp(val, want) == 0)
			break;
		if (pht_now_ms() - t0 > timeout_ms) {
			free(buf);
			return -ETIMEDOUT;
		}
		pht_sleep_ms(20);
	}
	free(buf);
	return 0;
}

int ah_hub_wait_status_ge(struct ah_hub *h, const char *agent, const char *path, double min, int timeout_ms)
{
	long long t0 = pht_now_ms();
	char *buf = malloc(STATUS_MAX), val[256];

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (ah_hub_status(h, agent, buf, STATUS_MAX) && ah_json_get(buf, path, val, sizeof val) == 0 &&
		    strtod(val, NULL) >= min)
			break;
		if (pht_now_ms() - t0 > timeout_ms) {
			free(buf);
			return -ETIMEDOUT;
		}
		pht_sleep_ms(20);
	}
	free(buf);
	return 0;
}

/* ---- the agent process and its log -------------------------------------- */

const char *ah_parkagent(void) { return getenv("PH_PARKAGENT"); }

int ah_agent_start(struct pht_proc *p, const char *cfg, const char *log)
{
	const char *bin = ah_parkagent();
	if (!bin)
		return -ENOENT;
	const char *argv[] = {bin, "--config", cfg, NULL};
	return pht_proc_spawn(p, argv, log);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - len < 65536) {
			char *n = realloc(buf, cap = cap ? 2 * cap : 131072);
			if (!n) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = n;
		}
		size_t r = fread(buf + len, 1, cap - len - 1, f);
		if (!r)
			break;
		len += r;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

int ah_file_count(const char *path, const char *needle)
{
	char *s = slurp(path);
	int n = 0;

	for (const char *p = s; p && (p = strstr(p, needle)); p += strlen(needle))
		n++;
	free(s);
	return n;
}

int ah_wait_file_count(const char *path, const char *needle, int n, int timeout_ms)
{
	long long t0 = pht_now_ms();

	while (ah_file_count(path, needle) < n) {
		if (pht_now_ms() - t0 > timeout_ms)
			return -ETIMEDOUT;
		pht_sleep_ms(20);
	}
	return 0;
}

int ah_log_clean(const char *path, char *why, size_t cap)
{
	static const char *const bad[] = {"AddressSanitizer", "LeakSanitizer", "runtime error:", "UndefinedBehavior",
					  NULL};
	char *s = slurp(path);
	int rc = 0;

	for (int i = 0; s && bad[i] && !rc; i++) {
		const char *p = strstr(s, bad[i]);
		if (p) {
			const char *b = p;
			while (b > s && b[-1] != '\n')
				b--;
			snprintf(why, cap, "%.*s", (int)strcspn(b, "\n"), b);
			rc = -1;
		}
	}
	free(s);
	return rc;
}

long ah_proc_cpu_ms(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long ut, st;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	/* after ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (long)((ut + st) * 1000 / (unsigned long)sysconf(_SC_CLK_TCK));
}

static long outbox_count(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long n = -EIO;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
		sqlite3_busy_timeout(db, 2000);
		if (sqlite3_prepare_v2(db, "SELECT count(*) FROM batches", -1, &s, NULL) == SQLITE_OK &&
		    sqlite3_step(s) == SQLITE_ROW)
			n = (long)sqlite3_column_int64(s, 0);
		else
			fprintf(stderr, "agent_helpers: reading %s: %s\n", path, sqlite3_errmsg(db));
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	return n;
}

long ah_outbox_depth(const char *path)
{
	long long t0 = pht_now_ms();
	long n;

	/* A read-only reader can meet a transient lock (WAL recovery, a
	 * checkpoint): try again for a bounded while. */
	while ((n = outbox_count(path)) < 0 && pht_now_ms() - t0 < 3000)
		pht_sleep_ms(20);
	return n;
}

/* ---- the sandbox -------------------------------------------------------- */

int ah_env_setup(struct ah_env *e, bool hub_acks) { return ah_env_setup_broker(e, hub_acks, NULL); }

int ah_env_setup_broker(struct ah_env *e, bool hub_acks, const char *broker_extra)
{
	int rc;

	memset(e, 0, sizeof *e);
	if ((rc = pht_tmpdir(e->dir, sizeof e->dir)))
		return rc;
	snprintf(e->cfg, sizeof e->cfg, "%s/agent.json", e->dir);
	snprintf(e->log, sizeof e->log, "%s/agent.log", e->dir);
	snprintf(e->outbox, sizeof e->outbox, "%s/outbox.db", e->dir);
	snprintf(e->data, sizeof e->data, "%s/data.jsonl", e->dir);
	if ((rc = pht_broker_start(&e->broker, broker_extra)))
		return rc;
	if (!(e->hub = ah_hub_start(pht_broker_uri(&e->broker), hub_acks)))
		return -EIO;
	return 0;
}

void ah_env_teardown(struct ah_env *e)
{
	if (e->agent.pid)
		pht_proc_stop(&e->agent, 5000);
	ah_hub_stop(e->hub);
	e->hub = NULL;
	if (e->broker.dir[0])
		pht_broker_cleanup(&e->broker);
	if (e->dir[0]) {
		if (getenv("PHT_KEEP"))
			fprintf(stderr, "agent test dir kept: %s\n", e->dir);
		else
			pht_rmtree(e->dir);
	}
}

int ah_env_start_agent(struct ah_env *e, struct ah_cfg *c)
{
	int rc;

	if (!c->uri)
		c->uri = pht_broker_uri(&e->broker);
	if (!c->outbox)
		c->outbox = e->outbox;
	if ((rc = ah_write_config(e->cfg, c)))
		return rc;
	return ah_agent_start(&e->agent, e->cfg, e->log);
}

const char *ah_env_jsonl_source(const struct ah_env *e, char *buf, size_t cap)
{
	snprintf(buf, cap, "[{\"type\":\"jsonl\",\"name\":\"file\",\"path\":\"%s\",\"from_start\":true}]", e->data);
	return buf;
}

int ah_env_delete_outbox(const struct ah_env *e)
{
	static const char *const suffix[] = {"", "-wal", "-shm", NULL};
	char p[700];
	int rc = 0;

	for (int i = 0; suffix[i]; i++) {
		snprintf(p, sizeof p, "%s%s", e->outbox, suffix[i]);
		if (unlink(p) != 0 && errno != ENOENT)
			rc = -errno;
	}
	return rc;
}
