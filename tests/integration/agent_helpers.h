/*
 * agent_helpers.h — shared by the parkagent integration tests
 * (tests/integration/test_agent_*.c): a per-test sandbox (temp dir, private
 * Mosquitto, fake hub), the agent's config file, its process, a JSON-lines
 * record generator, and a fake hub that plays parkhub's side of the wire
 * contract (DESIGN.md "Event batch").
 *
 * The fake hub. One Paho client (tests/support) subscribed to
 * parkhub/v1/+/+/+/ev/# and …/status, served by its own thread:
 *  - decodes every batch with the common library (ph_batch_decode, the
 *    built-in catalogue); an undecodable batch is counted, never acked;
 *  - keys dedupe on (agent, epoch, seq): a batch seen again is counted as a
 *    duplicate and its records are not stored twice; when its content
 *    differs from the first copy that is a "conflict" (a reused seq);
 *  - stores every record of a new batch as a canonical text key
 *    ("point|ts_ms|metric=value:flag,…|state", see ah_record_key) with
 *    (epoch, seq, index in batch), so tests compare what arrived with what
 *    they wrote, as multisets and in order;
 *  - acks cumulatively, like the hub: {"epoch":E,"upto":N} on
 *    parkhub/v1/{park}/{ent}/{agent}/ack, N = the highest seq such that
 *    every seq of that epoch up to N arrived, where a batch's `oldest`
 *    declares that the seqs below it will never come (they are counted as
 *    a gap unless they arrived). At most one ack per (agent, epoch) per
 *    round of received messages; acks are re-sent when duplicates arrive
 *    (the agent may have missed one). Acking can be switched off and on.
 *  - keeps the latest status message of each agent;
 *  - publishes the retained hub status on request;
 *  - reconnects by itself after a broker restart (and re-subscribes).
 * All hub state is under one mutex; the ah_hub_* calls are for the test's
 * own thread and never block longer than their timeout.
 *
 * Every wait here is bounded; functions return 0 / -errno (-ETIMEDOUT) so
 * tests can cr_assert on them with a message.
 */
#ifndef AGENT_HELPERS_H
#define AGENT_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phtest.h"

#define AH_PARK "p1"
#define AH_ENT "e1"
#define AH_AGENT "gw-01"

/* ---- config file -------------------------------------------------------- */

/* Zero means "the default given here". */
struct ah_cfg {
	const char *agent;      /* AH_AGENT */
	const char *uri;        /* required */
	const char *outbox;     /* required: outbox.path */
	int max_records;        /* 20 */
	int max_delay_ms;       /* 100 */
	long max_batches;       /* 100000 */
	const char *policy;     /* "stop" */
	int resend_after_s;     /* 30 */
	int status_interval_s;  /* 60 */
	int inflight;           /* 32 */
	const char *sources;    /* required: the "sources" array as JSON text */
	const char *tls;        /* none: the mqtt "tls" object as JSON text */
};

/* Writes a complete agent config (reconnect back-off 100..1000 ms, so a
 * restarted broker is found again within a second). 0 or -errno. */
int ah_write_config(const char *path, const struct ah_cfg *c);
/* Writes text to path (truncating). 0 or -errno. */
int ah_write_file(const char *path, const char *text);
/* Appends text to path. 0 or -errno. */
int ah_append_file(const char *path, const char *text);

/* ---- records: a JSON-lines generator ------------------------------------ */

/* Record i (i >= 0) as one JSON line without newline: an emission record of
 * point "stack-<1 + i % 3>", ts 2026-01-01T00:00:00Z + i s, so2/nox/pm/
 * flow/o2/temp derived from i (one decimal), flag N or M. */
void ah_jsonl_line(long i, char *buf, size_t cap);
/* Appends records [from, to) to path, one write per line, no fsync. */
int ah_jsonl_append(const char *path, long from, long to);

/* A list of record keys (what a test wrote, in order). */
struct ah_keys {
	char **v;
	size_t n, cap;
};
void ah_keys_free(struct ah_keys *k);
/* Key of one JSON record line, decoded exactly as the agent and the hub
 * decode it. 0, or -EINVAL when the line is not a valid record. */
int ah_keys_add_line(struct ah_keys *k, const char *line);
/* Keys of ah_jsonl_line(i) for i in [from, to). */
int ah_keys_add_range(struct ah_keys *k, long from, long to);

/* ---- the fake hub ------------------------------------------------------- */

struct ah_hub;

struct ah_hub_stats {
	size_t batches;     /* batches received, duplicates included */
	size_t new_batches; /* distinct (agent, epoch, seq) */
	size_t dups;        /* batches received again */
	size_t conflicts;   /* a seq seen again with other records */
	size_t records;     /* records stored (after dedupe) */
	size_t bad;         /* messages that did not decode */
	size_t acks_sent;
	size_t gap_seqs;    /* seqs declared lost by `oldest` and never received */
	int64_t max_oldest; /* highest `oldest` seen */
};

/* One batch as it arrived (duplicates included), in arrival order. */
struct ah_batch_seen {
	char agent[65];
	int64_t epoch, seq, oldest;
	int nrecords;
	bool dup;
	long long at_ms; /* pht_now_ms() when handled */
};

/* Connects to uri, subscribes and starts the hub thread. Acking is on
 * unless ack is false. NULL on failure (reason on stderr). */
struct ah_hub *ah_hub_start(const char *uri, bool ack);
/* Stops the thread, disconnects, frees. Accepts NULL. */
void ah_hub_stop(struct ah_hub *h);
/* Switches acking; switching it on acks everything received so far. */
void ah_hub_set_acking(struct ah_hub *h, bool on);
/* Publishes the retained parkhub/v1/{park}/hub status, {"v":1,"hub":"h",
 * "state":state}, and waits (bounded) until it was published. */
int ah_hub_set_state(struct ah_hub *h, const char *state, int timeout_ms);
void ah_hub_stats(struct ah_hub *h, struct ah_hub_stats *out);
/* Copies up to cap batches seen (from index `from` on); returns how many. */
size_t ah_hub_batches(struct ah_hub *h, size_t from, struct ah_batch_seen *out, size_t cap);
/* Records stored for agent (all epochs). */
size_t ah_hub_records(struct ah_hub *h, const char *agent);
/* Waits until the hub stored at least n records of agent. */
int ah_hub_wait_records(struct ah_hub *h, const char *agent, size_t n, int timeout_ms);
/* Waits until the hub has acked every batch it received of agent's epochs
 * (every tracker's ack sent and nothing outstanding). */
int ah_hub_wait_acked(struct ah_hub *h, const char *agent, int timeout_ms);

/* 0 when the records stored for agent (all epochs, after dedupe) equal
 * want as multisets; else -1 with a reason in why. */
int ah_hub_same_records(struct ah_hub *h, const char *agent, const struct ah_keys *want, char *why,
			size_t cap);
/* 0 when the records stored for agent, sorted by (epoch, seq, index), are
 * exactly want in order; else -1 with a reason. */
int ah_hub_records_in_order(struct ah_hub *h, const char *agent, const struct ah_keys *want, char *why,
			    size_t cap);
/* 0 when, for every epoch of agent, the seqs received are consecutive from
 * 1 (from_one) or from the first one received, and no seq carried two
 * different contents (a reused seq); else -1 with a reason. Duplicated
 * records under different seqs show in ah_hub_same_records. */
int ah_hub_check_seqs(struct ah_hub *h, const char *agent, bool from_one, char *why, size_t cap);
/* Appends the keys of every record stored for agent (all epochs, after
 * dedupe) to out, in (epoch, seq, index) order. 0 or -ENOMEM. */
int ah_hub_record_keys(struct ah_hub *h, const char *agent, struct ah_keys *out);
/* The simulator as the producing source: stack-1 (emission) and furnace-1
 * (process) records only, one each per tick; printf arguments: rate_hz,
 * duration_ticks. */
#define AH_SIM_SOURCE                                                                                     \
	"[{\"type\":\"sim\",\"name\":\"smelter\",\"seed\":7,\"rate_hz\":%d,\"excursions\":false," \
	"\"stack_test_every\":0,\"weighbridge_every\":0,\"duration_ticks\":%d}]"
/* 0 when the hub holds, for agent, exactly `ticks` stack-1 and `ticks`
 * furnace-1 records and nothing else, and no tick twice: a tick's values
 * are a pure function of (seed, tick) (src_sim.c inv. 1), so a tick
 * delivered twice shows as two records with the same point and values,
 * whatever their timestamps. Else -1 with a reason. */
int ah_hub_sim_check(struct ah_hub *h, const char *agent, long ticks, char *why, size_t cap);
/* Epochs of agent in order of first appearance; returns how many. */
size_t ah_hub_epochs(struct ah_hub *h, const char *agent, int64_t *out, size_t cap);
/* Lowest and highest seq received in an epoch; -ENOENT when none. */
int ah_hub_seq_range(struct ah_hub *h, const char *agent, int64_t epoch, int64_t *lo, int64_t *hi);

/* Latest status payload of agent into buf; returns how many status
 * messages arrived (0: none yet, buf ""). */
size_t ah_hub_status(struct ah_hub *h, const char *agent, char *buf, size_t cap);
/* The value at a dotted path ("state", "outbox.depth") of a JSON text,
 * rendered as text: strings as is, numbers with %.17g, true/false/null.
 * -ENOENT when absent. */
int ah_json_get(const char *json, const char *path, char *out, size_t cap);
/* Waits until agent's latest status has `path` rendered equal to want. */
int ah_hub_wait_status(struct ah_hub *h, const char *agent, const char *path, const char *want,
		       int timeout_ms);
/* Waits until agent's latest status has the number at `path` >= min. */
int ah_hub_wait_status_ge(struct ah_hub *h, const char *agent, const char *path, double min, int timeout_ms);

/* ---- the agent process and its log -------------------------------------- */

/* $PH_PARKAGENT, the binary under test (NULL when unset). */
const char *ah_parkagent(void);
/* Spawns parkagent --config cfg, output appended to log. 0 or -errno. */
int ah_agent_start(struct pht_proc *p, const char *cfg, const char *log);
/* Occurrences of needle in the file (0 when it cannot be read). */
int ah_file_count(const char *path, const char *needle);
/* Waits until the file holds needle at least n times. */
int ah_wait_file_count(const char *path, const char *needle, int n, int timeout_ms);
/* 0 when the log shows no sanitizer report; else -1 and the offending line. */
int ah_log_clean(const char *path, char *why, size_t cap);
/* User+system CPU time of a running process, in ms; -1 when unreadable. */
long ah_proc_cpu_ms(pid_t pid);

/* ---- the outbox file, read from outside --------------------------------- */

/* Batches held in the outbox file (read-only connection); -errno on error. */
long ah_outbox_depth(const char *path);

/* ---- the sandbox every test uses ---------------------------------------- */

struct ah_env {
	char dir[512];
	struct pht_broker broker;
	struct ah_hub *hub;
	struct pht_proc agent;
	char cfg[600], log[600], outbox[600], data[600];
};

/* Temp dir, broker, hub (acking as given); paths: dir/agent.json,
 * dir/agent.log, dir/outbox.db, dir/data.jsonl. 0 or -errno. */
int ah_env_setup(struct ah_env *e, bool hub_acks);
/* The same with broker_extra appended to the broker's config
 * (pht_broker_start), e.g. a second, TLS listener. */
int ah_env_setup_broker(struct ah_env *e, bool hub_acks, const char *broker_extra);
/* Stops the agent (SIGTERM, then SIGKILL) and hub, the broker, removes the
 * dir (PHT_KEEP=1 keeps it and prints where). Accepts a half set-up env. */
void ah_env_teardown(struct ah_env *e);
/* Writes e->cfg from c (uri and outbox filled in when NULL) and starts
 * the agent. 0 or -errno. */
int ah_env_start_agent(struct ah_env *e, struct ah_cfg *c);
/* A jsonl source reading e->data from its start, as a "sources" array. */
const char *ah_env_jsonl_source(const struct ah_env *e, char *buf, size_t cap);
/* Removes the outbox file and its -wal/-shm companions. */
int ah_env_delete_outbox(const struct ah_env *e);

#endif /* AGENT_HELPERS_H */
