/*
 * fault_helpers.c — produced-vs-stored comparison and process helpers of
 * the fault-injection suite (fault_helpers.h).
 *
 * Callers: tests/faults/test_fault_*.c, from the test's own thread.
 * Owns: nothing between calls but the random seed; every database (the
 * hub's and the outboxes) is opened read-only per call and closed before
 * returning.
 *
 * inv. 1: the reference comes from the simulator's own code driven with a
 *         synthetic clock, never from what the hub stored.
 * inv. 2: nothing here writes to a database; every wait has a deadline.
 * inv. 3: record keys leave out ts (the only part of a record that depends
 *         on the schedule, src_sim.c inv. 1); order is checked separately.
 */
#include "fault_helpers.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "parkhub/batch.h"
#include "parkhub/catalog.h"
#include "parkhub/cfgmap.h"
#include "sources/source.h"
#include "parkhub/timefmt.h"

extern const struct ph_source_ops ph_src_sim;

int fh_sanitized(void)
{
#ifdef PH_FAULT_SANITIZED
	return 1;
#else
	return 0;
#endif
}

int fh_rand_ms(int lo, int hi)
{
	static int seeded;
	if (!seeded) {
		unsigned seed = (unsigned)pht_now_ms() ^ ((unsigned)getpid() << 16);
		srand(seed);
		fprintf(stderr, "fault_helpers: random seed %u\n", seed);
		seeded = 1;
	}
	return hi <= lo ? lo : lo + rand() % (hi - lo + 1);
}

/* ---- growing string arrays ---------------------------------------------- */

struct keys {
	char **k;
	int64_t *tick;
	size_t n, cap;
};

static int keys_add(struct keys *ks, const char *k, int64_t tick)
{
	if (ks->n == ks->cap) {
		size_t ncap = ks->cap ? 2 * ks->cap : 1024;
		char **p = realloc(ks->k, ncap * sizeof *p);
		if (!p)
			return -ENOMEM;
		ks->k = p;
		int64_t *t = realloc(ks->tick, ncap * sizeof *t);
		if (!t)
			return -ENOMEM;
		ks->tick = t;
		ks->cap = ncap;
	}
	if (!(ks->k[ks->n] = strdup(k)))
		return -ENOMEM;
	ks->tick[ks->n++] = tick;
	return 0;
}

static void keys_free(struct keys *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		free(ks->k[i]);
	free(ks->k);
	free(ks->tick);
	memset(ks, 0, sizeof *ks);
}

/* Sorts keys (and their ticks with them). */
struct kt {
	char *k;
	int64_t t;
};

static int cmp_kt(const void *a, const void *b)
{
	const struct kt *x = a, *y = b;
	int c = strcmp(x->k, y->k);
	return c ? c : (x->t > y->t) - (x->t < y->t);
}

static int keys_sort(struct keys *ks)
{
	struct kt *a = malloc((ks->n ? ks->n : 1) * sizeof *a);
	if (!a)
		return -ENOMEM;
	for (size_t i = 0; i < ks->n; i++)
		a[i] = (struct kt){ks->k[i], ks->tick[i]};
	qsort(a, ks->n, sizeof *a, cmp_kt);
	for (size_t i = 0; i < ks->n; i++)
		ks->k[i] = a[i].k, ks->tick[i] = a[i].t;
	free(a);
	return 0;
}

static int cmp_part(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "R|point|state|m=v/f,m=v/f" with the value parts sorted. */
static void measurement_key(char *buf, size_t cap, const char *point, int state, char parts[][128], size_t n)
{
	char *ptrs[PH_RECORD_MAX_VALUES];
	size_t len;

	for (size_t i = 0; i < n; i++)
		ptrs[i] = parts[i];
	qsort(ptrs, n, sizeof *ptrs, cmp_part);
	len = (size_t)snprintf(buf, cap, "R|%s|%d|", point, state);
	for (size_t i = 0; i < n && len < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? "," : "", ptrs[i]);
}

static void material_key(char *buf, size_t cap, const char *point, const char *material, const char *dir,
			 const char *lot, double qty)
{
	snprintf(buf, cap, "M|%s|%s|%s|%s|%.17g", point, material, dir, lot ? lot : "", qty);
}

/* ---- the reference ------------------------------------------------------- */

int fh_sim_sources(const struct fh_sim *s, char *buf, size_t cap)
{
	int n = snprintf(buf, cap,
			 "[{\"type\":\"sim\",\"name\":\"sim\",\"seed\":%lld,\"rate_hz\":%.17g,\"duration_ticks\":%lld,"
			 "\"stack_test_every\":%lld,\"weighbridge_every\":%lld,\"start_ms\":%lld}]",
			 (long long)s->seed, s->rate_hz, (long long)s->ticks, (long long)s->stack_test_every,
			 (long long)s->weighbridge_every, (long long)s->start_ms);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

struct capture {
	const struct ph_catalog *cat;
	struct keys ks;
	int64_t tick; /* .a of the last position = the tick being emitted */
	long since_pos; /* records since the last position */
	long measurements, materials;
	int rc;
};

static int cap_record(void *user, enum ph_kind kind, const struct ph_record *r, const struct ph_value *vals, size_t n,
		      const char *attrs)
{
	struct capture *c = user;
	char key[2048];
	(void)attrs;

	if (kind == PH_KIND_MATERIAL) {
		material_key(key, sizeof key, r->point, r->material,
			     ph_dir_name(r->dir), r->lot, r->qty_t);
		c->materials++;
	} else {
		char parts[PH_RECORD_MAX_VALUES][128];
		for (size_t i = 0; i < n && i < PH_RECORD_MAX_VALUES; i++)
			snprintf(parts[i], sizeof parts[i], "%s=%.17g/%c",
				 ph_catalog_at(c->cat, (size_t)vals[i].metric)->code, vals[i].v, vals[i].flag);
		measurement_key(key, sizeof key, r->point, (int)r->state, parts, n);
		c->measurements++;
	}
	if (!c->rc)
		c->rc = keys_add(&c->ks, key, c->tick);
	c->since_pos++;
	return 0;
}

static void cap_reject(void *user, const char *where, const struct ph_err *err)
{
	struct capture *c = user;
	fprintf(stderr, "fh_sim_reference: the simulator refused a record at %s: %s\n", where, err->msg);
	c->rc = -EINVAL;
}

/* Exactly-once across the SIGKILLs rests on a position after every record
 * (source.h), since a batch may close after any record: a reference run
 * that breaks this is refused. After a tick's last record the simulator
 * reports the next tick's start (src_sim.c inv. 2), so .a is each record's
 * tick. */
static void cap_position(void *user, const struct ph_source_pos *pos)
{
	struct capture *c = user;
	if (c->since_pos != 1 && !c->rc) {
		fprintf(stderr, "fh_sim_reference: position {%lld, %lld} after %ld records, want one\n",
			(long long)pos->a, (long long)pos->b, c->since_pos);
		c->rc = -EPROTO;
	}
	c->since_pos = 0;
	c->tick = pos->a;
}

int fh_sim_reference(const struct fh_sim *s, struct fh_ref *ref, char *why, size_t cap)
{
	struct ph_catalog *cat = NULL;
	struct ph_err err = {0};
	struct capture c = {0};
	struct ph_source_io io = {.fd = -1};
	char cfg[512];
	void *ctx = NULL;
	int rc = -1;

	memset(ref, 0, sizeof *ref);
	if (ph_catalog_load_builtin(&cat, &err)) {
		snprintf(why, cap, "catalogue: %s", err.msg);
		return -1;
	}
	c.cat = cat;
	snprintf(cfg, sizeof cfg,
		 "{\"type\":\"sim\",\"name\":\"sim\",\"seed\":%lld,\"rate_hz\":%.17g,\"duration_ticks\":%lld,"
		 "\"stack_test_every\":%lld,\"weighbridge_every\":%lld}",
		 (long long)s->seed, s->rate_hz, (long long)s->ticks, (long long)s->stack_test_every,
		 (long long)s->weighbridge_every);
	cJSON *j = cJSON_Parse(cfg);
	struct ph_source_env env = {.cat = cat, .name = "sim", .max_future_ms = 300000};
	if (!(ctx = calloc(1, ph_src_sim.ctx_size)) || !j) {
		snprintf(why, cap, "out of memory");
		goto out;
	}
	if (ph_cfgmap_apply(ph_src_sim.cfgmap, j, "sources[0]", ctx, &err) || ph_src_sim.init(ctx, NULL, &env, &err) ||
	    ph_src_sim.start(ctx, NULL, &io, &err)) {
		snprintf(why, cap, "simulator: %s", err.msg);
		goto out;
	}
	struct ph_emitter em = {.record = cap_record, .reject = cap_reject, .position = cap_position, .user = &c};
	/* Anchor at t0, then a clock past the last tick: everything is due. */
	const int64_t t0 = 1763892000000LL;
	int64_t end = t0 + (int64_t)((double)s->ticks * 1000.0 / s->rate_hz) + 1000;
	ph_src_sim.collect(ctx, &em, t0);
	for (long guard = 0; c.tick < s->ticks && guard < 100000000L; guard++) {
		int k = ph_src_sim.collect(ctx, &em, end);
		if (k < 0) {
			snprintf(why, cap, "simulator collect: %d", k);
			goto out;
		}
		if (k == 0 && c.tick < s->ticks) {
			snprintf(why, cap, "simulator stopped at tick %lld of %lld", (long long)c.tick,
				 (long long)s->ticks);
			goto out;
		}
	}
	if (c.rc || keys_sort(&c.ks)) {
		snprintf(why, cap, "reference: error %d", c.rc);
		goto out;
	}
	ref->keys = c.ks.k;
	ref->ticks = c.ks.tick;
	ref->n = c.ks.n;
	ref->measurements = c.measurements;
	ref->materials = c.materials;
	memset(&c.ks, 0, sizeof c.ks);
	rc = 0;
out:
	if (ctx)
		ph_src_sim.exit(ctx);
	free(ctx);
	cJSON_Delete(j);
	keys_free(&c.ks);
	ph_catalog_free(cat);
	return rc;
}

void fh_ref_free(struct fh_ref *ref)
{
	for (size_t i = 0; i < ref->n; i++)
		free(ref->keys[i]);
	free(ref->keys);
	free(ref->ticks);
	memset(ref, 0, sizeof *ref);
}

/* ---- read-only databases -------------------------------------------------- */

static int ro_open(const char *path, sqlite3 **db)
{
	*db = NULL;
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

static int q_i64(sqlite3 *db, int64_t *out, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int q_i64(sqlite3 *db, int64_t *out, const char *fmt, ...)
{
	char sql[1024];
	sqlite3_stmt *st;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int fh_outbox_read(struct hh_env *e, int i, struct fh_outbox *o)
{
	sqlite3 *db;
	int rc;

	memset(o, 0, sizeof *o);
	o->position = -1;
	if ((rc = ro_open(e->outbox[i], &db)))
		return rc;
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL); /* one snapshot */
	if ((rc = q_i64(db, &o->epoch, "SELECT value FROM meta WHERE key = 'epoch'")) ||
	    (rc = q_i64(db, &o->next_seq, "SELECT value FROM meta WHERE key = 'next_seq'")) ||
	    (rc = q_i64(db, &o->last_acked, "SELECT value FROM meta WHERE key = 'last_acked'")) ||
	    (rc = q_i64(db, &o->depth, "SELECT count(*) FROM batches")))
		goto out;
	if (q_i64(db, &o->position, "SELECT a FROM positions WHERE source = 'sim'") ||
	    q_i64(db, &o->position_b, "SELECT b FROM positions WHERE source = 'sim'"))
		o->position = -1;
out:
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

int fh_wait_agent_done(struct hh_env *e, int i, int64_t ticks, int timeout_ms, struct fh_outbox *o)
{
	long long until = pht_now_ms() + timeout_ms;

	for (;;) {
		int rc = fh_outbox_read(e, i, o);
		if (rc == 0 && o->position == ticks && o->position_b == 0 && o->depth == 0)
			return 0;
		if (!pht_proc_alive(&e->hub)) { /* nothing will ack any more: say so now, not at the timeout */
			fprintf(stderr, "fault_helpers: the hub exited while %s drained (hub log %s)\n", hh_agent(i),
				e->hub_log);
			return -ESRCH;
		}
		if (pht_now_ms() >= until)
			return -ETIMEDOUT;
		hh_pump(e, 100); /* keeps the test client's queue short */
	}
}

int64_t fh_stored_records(struct hh_env *e)
{
	int64_t v = -1;
	if (hh_db_i64(e, &v, "SELECT coalesce(sum(nrecords), 0) FROM samples"))
		return -1;
	return v;
}

/* ---- the comparison ------------------------------------------------------ */

struct stored_rec {
	int64_t seq, chunk, rec, ts;
	char point[72];
	char *key;
};

static int cmp_order(const void *a, const void *b)
{
	const struct stored_rec *x = a, *y = b;
	int c = strcmp(x->point, y->point);
	if (c)
		return c;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	if (x->chunk != y->chunk)
		return x->chunk < y->chunk ? -1 : 1;
	return (x->rec > y->rec) - (x->rec < y->rec);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Tick of key in ref when the key is unique there, else -1. */
static int64_t ref_tick(const struct fh_ref *ref, const char *key)
{
	size_t lo = 0, hi = ref->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp(ref->keys[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= ref->n || strcmp(ref->keys[lo], key) != 0)
		return -1;
	if (lo + 1 < ref->n && strcmp(ref->keys[lo + 1], key) == 0)
		return -1;
	return ref->ticks[lo];
}

/* The seq bookkeeping of one agent's stream. */
static int check_seqs(sqlite3 *db, struct hh_env *e, int i, int64_t agent_id, const struct fh_check_opts *o,
		      char *why, size_t cap)
{
	struct fh_outbox ob;
	int64_t nstreams = -1, epoch = 0, upto = -1, v = -1;
	const char *park = hh_park(e);
	int rc;

	if ((rc = fh_outbox_read(e, i, &ob))) {
		snprintf(why, cap, "%s: outbox %s unreadable: %s", hh_agent(i), e->outbox[i], strerror(-rc));
		return -1;
	}
	q_i64(db, &nstreams, "SELECT count(*) FROM streams WHERE agent_id = %lld", (long long)agent_id);
	if (nstreams != 1) {
		snprintf(why, cap, "%s: %lld streams at the hub, want 1 (one epoch)", hh_agent(i), (long long)nstreams);
		return -1;
	}
	q_i64(db, &epoch, "SELECT epoch FROM streams WHERE agent_id = %lld", (long long)agent_id);
	q_i64(db, &upto, "SELECT upto FROM streams WHERE agent_id = %lld", (long long)agent_id);
	if (epoch != ob.epoch) {
		snprintf(why, cap, "%s: the hub's stream has epoch %lld, the outbox %lld", hh_agent(i), (long long)epoch,
			 (long long)ob.epoch);
		return -1;
	}
	if (upto != ob.next_seq - 1) {
		snprintf(why, cap, "%s: the hub's upto is %lld, the agent made batches 1..%lld", hh_agent(i),
			 (long long)upto, (long long)(ob.next_seq - 1));
		return -1;
	}
	if (ob.depth != 0 || ob.last_acked != upto) {
		snprintf(why, cap, "%s: the outbox still holds %lld batches (last acked %lld of %lld)", hh_agent(i),
			 (long long)ob.depth, (long long)ob.last_acked, (long long)upto);
		return -1;
	}
	q_i64(db, &v, "SELECT count(*) FROM gaps WHERE agent_id = %lld", (long long)agent_id);
	if (v != 0) {
		snprintf(why, cap, "%s: %lld gap rows (declared data loss)", hh_agent(i), (long long)v);
		return -1;
	}
	q_i64(db, &v,
	      "SELECT count(*) FROM (SELECT 1 FROM samples WHERE agent_id = %lld GROUP BY epoch, seq, point_id,"
	      " ts_min / 3600000 HAVING count(*) > 1)",
	      (long long)agent_id);
	if (v != 0) {
		snprintf(why, cap, "%s: %lld (seq, point, hour) with more than one chunk: a batch stored twice",
			 hh_agent(i), (long long)v);
		return -1;
	}

	/* Every seq 1..upto in exactly one of samples, materials, rejects. */
	unsigned char *seen = calloc((size_t)upto + 2, 1);
	char sql[512];
	sqlite3_stmt *st;
	long rejects = 0;
	if (!seen) {
		snprintf(why, cap, "out of memory");
		return -1;
	}
	snprintf(sql, sizeof sql,
		 "SELECT DISTINCT seq, 0 FROM samples WHERE agent_id = %lld AND epoch = %lld"
		 " UNION ALL SELECT DISTINCT seq, 1 FROM materials WHERE agent_id = %lld AND epoch = %lld"
		 " UNION ALL SELECT seq, 2 FROM rejects WHERE park = '%s' AND agent = '%s' AND epoch = %lld"
		 " AND topic LIKE 'parkhub/v1/%s/%s/%s/%%'",
		 (long long)agent_id, (long long)epoch, (long long)agent_id, (long long)epoch, park, hh_agent(i),
		 (long long)epoch, park, hh_ent(i), hh_agent(i));
	rc = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(why, cap, "%s: %s", sql, sqlite3_errmsg(db));
		free(seen);
		return -1;
	}
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		int table = sqlite3_column_int(st, 1);
		static const char *const names[] = {"samples", "materials", "rejects"};
		if (seq < 1 || seq > upto) {
			snprintf(why, cap, "%s: seq %lld in %s is outside 1..%lld", hh_agent(i), (long long)seq,
				 names[table], (long long)upto);
			rc = -1;
		} else if (seen[seq]) {
			snprintf(why, cap, "%s: seq %lld is in %s and %s", hh_agent(i), (long long)seq,
				 names[seen[seq] - 1], names[table]);
			rc = -1;
		} else {
			seen[seq] = (unsigned char)(table + 1);
			rejects += table == 2;
		}
	}
	sqlite3_finalize(st);
	for (int64_t s = 1; !rc && s <= upto; s++)
		if (!seen[s]) {
			snprintf(why, cap, "%s: batch %lld of epoch %lld is in none of samples, materials, rejects (lost)",
				 hh_agent(i), (long long)s, (long long)epoch);
			rc = -1;
		}
	free(seen);
	if (!rc && o && o->want_rejects >= 0 && rejects != o->want_rejects) {
		snprintf(why, cap, "%s: %ld refused batches, want %ld", hh_agent(i), rejects, o->want_rejects);
		rc = -1;
	}
	return rc;
}

int fh_check_agent(struct hh_env *e, int i, const struct fh_ref *ref, const struct fh_check_opts *o,
		   long *stored_records, char *why, size_t cap)
{
	struct hh_samples s = {0};
	struct stored_rec *recs = NULL;
	char **keys = NULL;
	size_t nrecs = 0, rcap = 0;
	sqlite3 *db = NULL;
	int64_t agent_id = -1;
	int rc = -1;

	*stored_records = 0;
	if (ro_open(e->db, &db)) {
		snprintf(why, cap, "cannot open %s", e->db);
		return -1;
	}
	if (q_i64(db, &agent_id, "SELECT id FROM agents WHERE park = '%s' AND ent = '%s' AND agent = '%s'",
		  hh_park(e), hh_ent(i), hh_agent(i))) {
		snprintf(why, cap, "%s: not in the hub's agents table", hh_agent(i));
		goto out;
	}
	if (check_seqs(db, e, i, agent_id, o, why, cap))
		goto out;
	if (hh_samples_load(e, &s, why, cap))
		goto out;

	/* Records of this agent's enterprise, one key each. */
	for (size_t k = 0; k < s.n;) {
		size_t end = k;
		while (end < s.n && s.v[end].rec == s.v[k].rec)
			end++;
		const struct hh_value *v = &s.v[k];
		if (strcmp(v->ent, hh_ent(i)) == 0) {
			char parts[PH_RECORD_MAX_VALUES][128], key[2048];
			size_t n = 0;
			for (size_t q = k; q < end && n < PH_RECORD_MAX_VALUES; q++, n++)
				snprintf(parts[n], sizeof parts[n], "%s=%.17g/%c", s.v[q].metric, s.v[q].v, s.v[q].flag);
			measurement_key(key, sizeof key, v->point, v->state, parts, n);
			if (nrecs == rcap) {
				rcap = rcap ? 2 * rcap : 4096;
				struct stored_rec *p = realloc(recs, rcap * sizeof *p);
				if (!p) {
					snprintf(why, cap, "out of memory");
					goto out;
				}
				recs = p;
			}
			struct stored_rec *r = &recs[nrecs++];
			*r = (struct stored_rec){.seq = v->seq, .chunk = v->chunk_id, .rec = v->rec, .ts = v->ts_ms};
			snprintf(r->point, sizeof r->point, "%s", v->point);
			if (!(r->key = strdup(key))) {
				nrecs--;
				snprintf(why, cap, "out of memory");
				goto out;
			}
		}
		k = end;
	}

	/* Materials. */
	sqlite3_stmt *st;
	char sql[512];
	snprintf(sql, sizeof sql,
		 "SELECT p.point, m.material, m.dir, m.lot, m.qty_t, m.seq, m.id, m.ts_ms FROM materials m"
		 " JOIN points p ON p.id = m.point_id WHERE m.agent_id = %lld",
		 (long long)agent_id);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(why, cap, "materials: %s", sqlite3_errmsg(db));
		goto out;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		char key[512];
		material_key(key, sizeof key, (const char *)sqlite3_column_text(st, 0),
			     (const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2),
			     (const char *)sqlite3_column_text(st, 3), sqlite3_column_double(st, 4));
		if (nrecs == rcap) {
			rcap = rcap ? 2 * rcap : 4096;
			struct stored_rec *p = realloc(recs, rcap * sizeof *p);
			if (!p)
				break;
			recs = p;
		}
		struct stored_rec *r = &recs[nrecs++];
		*r = (struct stored_rec){.seq = sqlite3_column_int64(st, 5), .chunk = sqlite3_column_int64(st, 6),
					 .rec = 0, .ts = sqlite3_column_int64(st, 7)};
		snprintf(r->point, sizeof r->point, "%s", (const char *)sqlite3_column_text(st, 0));
		if (!(r->key = strdup(key)))
			nrecs--;
	}
	sqlite3_finalize(st);
	*stored_records = (long)nrecs;

	/* Multisets: stored == produced. */
	if (!(keys = malloc((nrecs ? nrecs : 1) * sizeof *keys))) {
		snprintf(why, cap, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < nrecs; k++)
		keys[k] = recs[k].key;
	qsort(keys, nrecs, sizeof *keys, cmp_str);
	size_t a = 0, b = 0;
	long missing = 0, extra = 0;
	const char *first_missing = NULL, *first_extra = NULL;
	while (a < ref->n || b < nrecs) {
		int c = a == ref->n ? 1 : b == nrecs ? -1 : strcmp(ref->keys[a], keys[b]);
		if (c == 0) {
			a++, b++;
		} else if (c < 0) {
			if (!first_missing)
				first_missing = ref->keys[a];
			missing++, a++;
		} else {
			if (!first_extra)
				first_extra = keys[b];
			extra++, b++;
		}
	}
	if (missing || extra) {
		snprintf(why, cap,
			 "%s: produced %zu records (%ld measurements, %ld materials), stored %zu: %ld produced records not"
			 " stored (first: %.300s), %ld stored records not produced or stored twice (first: %.300s)",
			 hh_agent(i), ref->n, ref->measurements, ref->materials, nrecs, missing,
			 first_missing ? first_missing : "-", extra, first_extra ? first_extra : "-");
		goto out;
	}

	/* Order per point: ticks and ts increase along (seq, storage order). */
	if (o && o->order) {
		qsort(recs, nrecs, sizeof *recs, cmp_order);
		for (size_t k = 1; k < nrecs; k++) {
			const struct stored_rec *p = &recs[k - 1], *r = &recs[k];
			if (strcmp(p->point, r->point) != 0)
				continue;
			int64_t tp = ref_tick(ref, p->key), tr = ref_tick(ref, r->key);
			if (r->ts < p->ts) {
				snprintf(why, cap, "%s: %s: seq %lld has ts %lld before seq %lld's %lld", hh_agent(i),
					 r->point, (long long)r->seq, (long long)r->ts, (long long)p->seq,
					 (long long)p->ts);
				goto out;
			}
			if (tp >= 0 && tr >= 0 && tr < tp) { /* a tick may hold two records of a point */
				snprintf(why, cap, "%s: %s: tick %lld (seq %lld) stored after tick %lld (seq %lld)",
					 hh_agent(i), r->point, (long long)tr, (long long)r->seq, (long long)tp,
					 (long long)p->seq);
				goto out;
			}
		}
	}
	rc = 0;
out:
	for (size_t k = 0; k < nrecs; k++)
		free(recs[k].key);
	free(recs);
	free(keys);
	hh_samples_free(&s);
	sqlite3_close(db);
	return rc;
}

/* ---- processes and configs ---------------------------------------------- */

int fh_agent_start(struct hh_env *e, int i, const struct fh_agent_opts *o)
{
	size_t cap;
	char *buf;
	int n, rc;

	if (!hh_parkagent() || !o->sources || i < 0 || i >= HH_NENTS)
		return -EINVAL;
	cap = strlen(o->sources) + (o->top_extra ? strlen(o->top_extra) : 0) + 4096;
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
		     "  %s%s"
		     "  \"sources\": %s\n"
		     "}\n",
		     HH_PARK, hh_ent(i), hh_agent(i), pht_broker_uri(&e->broker), o->max_records ? o->max_records : 50,
		     o->max_delay_ms ? o->max_delay_ms : 100, e->outbox[i], o->resend_after_s ? o->resend_after_s : 30,
		     o->top_extra ? o->top_extra : "", o->top_extra ? ",\n" : "", o->sources);
	rc = n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : hh_write_file(e->agent_cfg[i], buf);
	free(buf);
	if (rc)
		return rc;
	return fh_agent_restart(e, i);
}

int fh_agent_restart(struct hh_env *e, int i)
{
	const char *argv[] = {hh_parkagent(), "--config", e->agent_cfg[i], NULL};
	if (!argv[0])
		return -EINVAL;
	return pht_proc_spawn(&e->agent[i], argv, e->agent_log[i]);
}

int fh_hub_config_set(struct hh_env *e, const char *object, const char *key, const char *value_json)
{
	char *text = hh_slurp(e->hub_cfg);
	cJSON *root = text ? cJSON_Parse(text) : NULL;
	cJSON *obj = cJSON_GetObjectItemCaseSensitive(root, object);
	cJSON *val = cJSON_Parse(value_json);
	int rc = -EINVAL;

	free(text);
	if (root && val) {
		if (!obj) {
			obj = cJSON_CreateObject();
			cJSON_AddItemToObject(root, object, obj);
		}
		cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
		cJSON_AddItemToObject(obj, key, val);
		val = NULL;
		char *out = cJSON_Print(root);
		rc = out ? hh_write_file(e->hub_cfg, out) : -ENOMEM;
		cJSON_free(out);
	}
	cJSON_Delete(val);
	cJSON_Delete(root);
	return rc;
}

int fh_client_reconnect(struct hh_env *e, int timeout_ms)
{
	char filter[128];
	long long until = pht_now_ms() + timeout_ms;
	int rc;

	pht_mqtt_wait_lost(e->mq, timeout_ms);
	do {
		rc = pht_mqtt_connect(e->mq, 1, 5000);
	} while (rc && pht_now_ms() < until && (pht_sleep_ms(200), 1));
	if (rc)
		return rc;
	snprintf(filter, sizeof filter, "parkhub/v1/%s/+/+/ack", HH_PARK);
	if ((rc = pht_mqtt_subscribe(e->mq, filter, 1, 5000)))
		return rc;
	snprintf(filter, sizeof filter, "parkhub/v1/%s/hub", HH_PARK);
	return pht_mqtt_subscribe(e->mq, filter, 1, 5000);
}

int fh_broker_reconfigure(struct hh_env *e, const char *lines)
{
	char *conf = hh_slurp(e->broker.conf);
	FILE *f;
	int rc;

	if (!conf)
		return -errno;
	if (!(f = fopen(e->broker.conf, "w"))) {
		free(conf);
		return -errno;
	}
	/* Keep the old lines except those setting a key that `lines` sets. */
	for (char *line = strtok(conf, "\n"); line; line = strtok(NULL, "\n")) {
		char key[64];
		const char *p = lines;
		bool replaced = false;
		if (sscanf(line, "%63s", key) == 1)
			for (; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
				size_t k = strlen(key);
				if (strncmp(p, key, k) == 0 && (p[k] == ' ' || p[k] == '\t'))
					replaced = true;
			}
		if (!replaced)
			fprintf(f, "%s\n", line);
	}
	fprintf(f, "%s\n", lines);
	free(conf);
	if (fclose(f))
		return -errno;
	if ((rc = pht_broker_restart(&e->broker)))
		return rc;
	return fh_client_reconnect(e, 15000);
}

int fh_file_count(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[8192];
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

int fh_wait_file_count(const char *path, const char *needle, int n, int timeout_ms)
{
	long long until = pht_now_ms() + timeout_ms;

	while (fh_file_count(path, needle) < n) {
		if (pht_now_ms() >= until)
			return -ETIMEDOUT;
		pht_sleep_ms(100);
	}
	return 0;
}

int fh_http_member(int port, char *buf, size_t cap)
{
	char hash[65];
	if (ph_api_token_hash_hex(FH_ADMIN_TOKEN, hash) != 0)
		return -EINVAL;
	int n = snprintf(buf, cap,
			 "\"http\": {\"listen\": \"127.0.0.1\", \"port\": %d, \"tokens\": [{\"name\": \"ops\","
			 " \"sha256\": \"%s\", \"role\": \"admin\"}]}",
			 port, hash);
	return n > 0 && (size_t)n < cap ? 0 : -ENAMETOOLONG;
}

struct body {
	char *p;
	size_t len, cap;
};

static size_t on_body(char *p, size_t sz, size_t n, void *u)
{
	struct body *b = u;
	size_t take = sz * n;
	if (b->len + take >= b->cap)
		take = b->cap - 1 - b->len;
	memcpy(b->p + b->len, p, take);
	b->len += take;
	b->p[b->len] = '\0';
	return sz * n; /* the rest is read and dropped */
}

int fh_http_get(int port, const char *path, long *status, char *body, size_t cap)
{
	char url[256];
	struct body b = {body, 0, cap};
	CURL *c = curl_easy_init();

	if (!c || cap < 1)
		return -EIO;
	body[0] = '\0';
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
	struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer " FH_ADMIN_TOKEN);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 15000L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	CURLcode rc = curl_easy_perform(c);
	*status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? 0 : -EIO;
}

double fh_metric(int port, const char *name)
{
	static char text[1 << 20];
	long status = 0;
	size_t nl = strlen(name);

	if (fh_http_get(port, "/metrics", &status, text, sizeof text) || status != 200)
		return -1;
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, name, nl) == 0 && l[nl] == ' ')
			return strtod(l + nl + 1, NULL);
	return -1;
}
