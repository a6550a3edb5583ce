/*
 * fault_helpers.h — shared by the fault-injection suite (tests/faults/):
 * what an agent produced against what the hub stored.
 *
 * The reference: the simulator (agents/sources/src_sim.c) is deterministic — the
 * records of tick i are a pure function of (seed, i), only their ts depends
 * on the schedule — so fh_sim_reference() drives the same source code
 * (ph_src_sim, linked from parkagent_core) over duration_ticks ticks with a
 * capture emitter and keeps every record's content. The agent's outbox
 * (SQLite, read-only) says how many batches it made (next_seq - 1), in which
 * epoch, how many it still holds, and how far its source got.
 *
 * fh_check_agent() then asserts, for one agent (hub_helpers.h's ent-a/gw-a
 * .. ent-c/gw-c), that:
 *   - the hub has one stream for it, in the outbox's epoch, with no gaps;
 *     its upto is the outbox's last seq, and the outbox is empty (all acked);
 *   - the seqs found in samples, materials and rejects are exactly 1..upto,
 *     each in one table only (every batch stored or refused, none lost);
 *   - no (seq, point, UTC hour) has two chunks (no batch stored twice);
 *   - the records stored equal the reference as multisets: same count, and
 *     every produced record (point, state, metric=value/flag for every
 *     value; materials by material, dir, lot, quantity) stored exactly once;
 *   - optionally (order), per point the stored records in (seq, position)
 *     order are the produced ticks in increasing order, with ts rising.
 * The first difference goes to why; nothing here asserts a time.
 *
 * Also: agents with extra config members (fh_agent_start), a member added
 * to the hub's config file (fh_hub_config_set), broker reconfiguration,
 * log searches and bounded waits on the agents' progress.
 * One thread: the test's own.
 */
#ifndef FAULT_HELPERS_H
#define FAULT_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub_helpers.h"

/* The simulator's settings a scenario uses (seed, rate, duration, ...). */
struct fh_sim {
	int64_t seed;
	double rate_hz;
	int64_t ticks;             /* duration_ticks: the run is finite and known */
	int64_t stack_test_every;  /* 0: the simulator's default is not used; give it */
	int64_t weighbridge_every;
	int64_t start_ms;          /* 0: anchored at the agent's start; else the fixed schedule (a past start backfills) */
};

/* The "sources" JSON array of one sim source named "sim" into buf. */
int fh_sim_sources(const struct fh_sim *s, char *buf, size_t cap);

/* What the simulator emits over s->ticks ticks: one key per record (see
 * above), sorted, plus each record's tick. Returns new (fh_ref_free). */
struct fh_ref {
	char **keys;      /* sorted; "M|..." for materials, "R|point|state|values" for measurements */
	int64_t *ticks;   /* ticks[i]: tick of keys[i] */
	size_t n;
	long measurements, materials;
};
int fh_sim_reference(const struct fh_sim *s, struct fh_ref *ref, char *why, size_t cap);
void fh_ref_free(struct fh_ref *ref);

/* What agent i's outbox (read-only) says. -errno when unreadable. */
struct fh_outbox {
	int64_t epoch, next_seq, depth, last_acked;
	int64_t position;   /* positions.a of source "sim": the tick it resumes at, -1 when none */
	int64_t position_b; /* positions.b: records of that tick done (0 between ticks) */
};
int fh_outbox_read(struct hh_env *e, int i, struct fh_outbox *o);

/* Waits until agent i's source finished (position {ticks, 0}) and its outbox
 * is empty: everything produced was acked. 0, -ETIMEDOUT or -ESRCH (the
 * hub exited: nothing would ack); o gets the last reading. */
int fh_wait_agent_done(struct hh_env *e, int i, int64_t ticks, int timeout_ms, struct fh_outbox *o);

struct fh_check_opts {
	bool order;        /* check per-point order (ticks and ts increasing) */
	long want_rejects; /* batches refused expected (-1: any; they still count in the seq range) */
};

/* The produced-vs-stored comparison for agent i against ref. 0, or -1 with
 * the first difference in why. stored_records gets the records found. */
int fh_check_agent(struct hh_env *e, int i, const struct fh_ref *ref, const struct fh_check_opts *o,
		   long *stored_records, char *why, size_t cap);

/* Writes agent i's config like hh_agent_start, with top_extra (more
 * top-level members, may be NULL) and spawns it. */
struct fh_agent_opts {
	const char *sources;
	int max_records, max_delay_ms, resend_after_s;
	const char *top_extra;
};
int fh_agent_start(struct hh_env *e, int i, const struct fh_agent_opts *o);
/* Spawns agent i again on the config written before. */
int fh_agent_restart(struct hh_env *e, int i);

/* Sets member key of the hub config's object `object` ("db", "ingest") to
 * the JSON text value, in e->hub_cfg (after hh_write_hub_config). */
int fh_hub_config_set(struct hh_env *e, const char *object, const char *key, const char *value_json);

/* Appends lines to the broker's config and restarts it (same port); the
 * test client then reconnects and subscribes again. Before the hub starts. */
int fh_broker_reconfigure(struct hh_env *e, const char *lines);
/* After the broker restarted: the test client reconnects and resubscribes
 * (it is the test's window on acks and the hub status). */
int fh_client_reconnect(struct hh_env *e, int timeout_ms);

/* Lines of path containing needle. */
int fh_file_count(const char *path, const char *needle);
/* Waits until path has at least n lines with needle. */
int fh_wait_file_count(const char *path, const char *needle, int n, int timeout_ms);

/* Random milliseconds in [lo, hi] (seeded once from the clock and the pid;
 * the seed is printed so a run can be told apart). */
int fh_rand_ms(int lo, int hi);

/* Stored measurement records so far (sum of samples.nrecords), or -1. */
int64_t fh_stored_records(struct hh_env *e);

/* The hub's HTTP API for /healthz and /metrics: the "http" member of the
 * hub config (127.0.0.1:port, one admin token FH_ADMIN_TOKEN) into buf. */
#define FH_ADMIN_TOKEN "fault-admin-token-1"
int fh_http_member(int port, char *buf, size_t cap);
/* GET http://127.0.0.1:port/path with the admin token: *status and the
 * body (NUL-terminated, truncated to cap - 1). 0 or -EIO. */
int fh_http_get(int port, const char *path, long *status, char *body, size_t cap);
/* The value of the metric line "name value" (name with its labels) in
 * /metrics; -1 when absent or unreadable. */
double fh_metric(int port, const char *name);

/* 1 under ASan/UBSan builds (PH_FAULT_SANITIZED from CMake), else 0. */
int fh_sanitized(void);

#endif /* FAULT_HELPERS_H */
