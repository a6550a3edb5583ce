/*
 * hub_helpers.h — shared by the parkhub integration tests
 * (tests/integration/test_hub_*.c): a per-test sandbox (temp dir, private
 * Mosquitto, the hub's config, database and log), the hub process, a test
 * client that publishes hand-made batches and collects the hub's acks and
 * retained status, real parkagent processes, and read-only views of the
 * hub's SQLite database: counts, a table dump, the raw samples decoded from
 * their chunks, and a recomputation of every rollup from those samples.
 *
 * The park is always "p1" with three enterprises, each with one agent:
 * ent-a/gw-a, ent-b/gw-b, ent-c/gw-c (hh_ent(i), hh_agent(i)).
 *
 * Every wait is bounded; functions return 0 or -errno (-ETIMEDOUT) so that
 * tests can cr_assert on them with a message. Nothing here touches a
 * process it did not start (signals go by PID via tests/support).
 * One thread: the test's own (it spawns the processes, see phtest.h).
 */
#ifndef HUB_HELPERS_H
#define HUB_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phtest.h"

#define HH_PARK "p1"
#define HH_NENTS 3

/* "ent-a".., "gw-a".. for i in 0..2. */
const char *hh_ent(int i);
const char *hh_agent(int i);

/* ---- the hub's configuration -------------------------------------------- */

/* Zero/NULL means the default given here. */
struct hh_hub_opts {
	const char *tz;             /* "Asia/Kolkata" (+05:30: local hours are not UTC hours) */
	int max_future_s;           /* 300 */
	double expected_interval_s; /* 10 */
	int group_max;              /* 256 */
	const char *top_extra;      /* more top-level members, e.g. "\"http\": {…}" (no comma) */
	const char *park_extra;     /* more members of park p1, e.g. "\"rules_file\": \"…\"" */
	const char *ent_extra[HH_NENTS]; /* more members of enterprise i, e.g. "\"monitoring_since\": \"…\"" */
	int max_age_days;           /* 400 */
};

/* ---- the sandbox -------------------------------------------------------- */

struct hh_ack {
	char ent[72], agent[72];
	int64_t epoch, upto;
};

struct hh_env {
	char dir[512];
	struct pht_broker broker;
	struct hh_hub_opts opts;    /* defaults filled in */
	char hub_cfg[600], hub_log[600], db[600];
	struct pht_proc hub;
	int hub_runs;               /* hub processes started */
	struct pht_mqtt *mq;        /* publisher; subscribed to acks and the hub status */
	struct hh_ack *acks;        /* every ack received, in order */
	size_t nacks, acks_cap;
	char hub_status[1024];      /* latest payload on parkhub/v1/p1/hub */
	size_t hub_statuses;        /* hub status messages received */
	struct pht_proc agent[HH_NENTS];
	char agent_cfg[HH_NENTS][600], agent_log[HH_NENTS][600], outbox[HH_NENTS][600];
	const char *park;           /* the park of e->db's agents for the checks (NULL: HH_PARK); a
				     * test with hubs of other parks points a copy of env at one */
};

/* e->park, or HH_PARK. */
const char *hh_park(const struct hh_env *e);

/* Temp dir, broker, hub config (o may be NULL), the test client (connected,
 * subscribed to parkhub/v1/p1/+/+/ack and parkhub/v1/p1/hub). Does not
 * start the hub. 0 or -errno (reason on stderr). */
int hh_setup(struct hh_env *e, const struct hh_hub_opts *o);
/* Kills the agents, stops the hub (SIGTERM, then SIGKILL), frees the
 * client, stops the broker, removes the dir (PHT_KEEP=1 keeps it).
 * Accepts a half set-up env. */
void hh_teardown(struct hh_env *e);
/* (Re)writes e->hub_cfg from e->opts. */
int hh_write_hub_config(struct hh_env *e);
int hh_write_file(const char *path, const char *text);
/* Returns new (free()): the whole file, NUL-terminated; NULL when unreadable. */
char *hh_slurp(const char *path);

/* ---- the hub process ---------------------------------------------------- */

/* $PH_PARKHUB (NULL when unset). */
const char *hh_parkhub(void);
/* Spawns parkhub --config e->hub_cfg (output appended to e->hub_log) and
 * waits until it announced itself online on parkhub/v1/p1/hub with a
 * timestamp no older than the spawn (so it has subscribed). */
int hh_hub_start(struct hh_env *e, int timeout_ms);
/* SIGTERM and wait up to timeout_ms; *status gets the wait status. The
 * process is reaped (SIGKILLed first when it did not stop: -ETIMEDOUT). */
int hh_hub_stop(struct hh_env *e, int timeout_ms, int *status);
/* SIGKILL and reap. */
int hh_hub_kill(struct hh_env *e);
/* 0 when the file shows no sanitizer report ("ERROR: AddressSanitizer",
 * "LeakSanitizer", "runtime error"); else -1 and the offending line. */
int hh_log_clean(const char *path, char *why, size_t cap);

/* ---- the test client ---------------------------------------------------- */

/* Publishes payload at QoS 1 on parkhub/v1/p1/{ent}/{agent}/ev/{kind}
 * (kind NULL: "emission") and waits for the PUBACK. */
int hh_publish(struct hh_env *e, const char *ent, const char *agent, const char *kind, const char *payload);
/* Publishes to any topic (QoS 1), retained or not. */
int hh_publish_raw(struct hh_env *e, const char *topic, const char *payload, int retained);
/* A whole batch into buf: header (sent = now) + the records JSON array. */
int hh_batch(char *buf, size_t cap, const char *agent, int64_t epoch, int64_t seq, int64_t oldest,
	     const char *records);
/* Takes every message the client received so far (waiting up to
 * timeout_ms for the first) into e->acks / e->hub_status. */
void hh_pump(struct hh_env *e, int timeout_ms);
/* Waits until an ack for ent/agent with this epoch and upto >= upto
 * arrived at index >= from (an index of e->acks, e.g. an earlier nacks). */
int hh_wait_ack(struct hh_env *e, const char *ent, const char *agent, int64_t epoch, int64_t upto, size_t from,
		int timeout_ms);
/* Acks received for ent/agent (any epoch) from index `from` on. */
size_t hh_acks_for(struct hh_env *e, const char *ent, const char *agent, size_t from);
/* Latest ack for ent/agent: -ENOENT when none. */
int hh_last_ack(struct hh_env *e, const char *ent, const char *agent, int64_t *epoch, int64_t *upto);
/* Waits until the latest hub status says state (and, for "online", carries
 * a ts >= since_wall_ms). */
int hh_wait_hub_state(struct hh_env *e, const char *state, int64_t since_wall_ms, int timeout_ms);

/* Stops the hub when it runs (a clean exit expected) and checks its log
 * for sanitizer reports: 0, or -EIO with why filled — what a suite's
 * teardown expects before hh_teardown. */
int hh_hub_stop_checked(struct hh_env *e, char *why, size_t cap);

/* Restarts the hub and waits (timeout_ms) until the CEMS update it runs
 * 5 s after a start has processed every hour stored: the way to close
 * hours of past data. 0 or -errno (reason on stderr). */
int hh_cems_update(struct hh_env *e, int timeout_ms);

/* ---- HTTP ------------------------------------------------------------- */

/* GET http://127.0.0.1:port path with "Authorization: Bearer token": the
 * body (NUL-terminated) in body, the response headers in hdrs (may be
 * NULL). The status; -EIO when no response came, -E2BIG when the body or
 * the headers did not fit (what fitted is there). Needs curl_global_init
 * (once per process; the tests' setup does). */
long hh_http_get(int port, const char *token, const char *path, char *body, size_t cap, char *hdrs, size_t hcap);

struct hh_http_resp {
	long status;
	char *body; /* NUL-terminated, never NULL after hh_http_request: free it (hh_http_resp_free) */
	size_t len;
};
/* method (GET, POST, …) path, token and a JSON body (each may be NULL);
 * the whole body, grown as it comes. 0, or -1 with curl's reason in
 * r->body when the request did not complete. */
int hh_http_request(int port, const char *method, const char *path, const char *token, const char *json,
		    struct hh_http_resp *r);
void hh_http_resp_free(struct hh_http_resp *r);

/* ---- the database, read-only -------------------------------------------- */

/* First column of the first row of the query (printf-style) as an int64;
 * NULL reads as 0. -ENOENT when no row, -EIO on an SQL error. */
int hh_db_i64(struct hh_env *e, int64_t *out, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Polls hh_db_i64 until it equals want; *last gets the last value. */
int hh_wait_db(struct hh_env *e, int64_t want, int64_t *last, int timeout_ms, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* First column of the first row as text into out ("" for NULL). */
int hh_db_text(struct hh_env *e, char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Every table, sorted, as text (returns new, free()); blobs as length+hash.
 * Leaves out streams.duplicates and streams.last_ms (a duplicate's only
 * trace). NULL on error. */
char *hh_db_dump(struct hh_env *e);

/* One stored value, decoded from samples.data (storage order: chunk id,
 * record, value). */
struct hh_value {
	int64_t chunk_id, series_id, point_id, agent_id, epoch, seq;
	char ent[72], point[72], metric[72];
	int64_t ts_ms;
	int state;
	char flag;
	double v;
	long rec;                  /* index of the record over all chunks */
};

struct hh_samples {
	struct hh_value *v;
	size_t n;
	long records;              /* sum of the decoded records */
	long nrecords_col;         /* sum of samples.nrecords */
};

/* Decodes every chunk; checks each one's nrecords, nvalues, ts_min/ts_max
 * and that it holds one UTC hour. 0, or -1 with the reason in why. */
int hh_samples_load(struct hh_env *e, struct hh_samples *s, char *why, size_t cap);
void hh_samples_free(struct hh_samples *s);
/* Canonical text of a value: "ent|point|ts_ms|metric|%.17g|flag|state". */
void hh_value_key(const struct hh_value *v, char *buf, size_t cap);

/* For every (series, period, bucket) the rollups row equals the
 * recomputation from the decoded samples (n, n_valid, sum, sum_valid with
 * relative tolerance 1e-9, min, max, first/last with their ts — ties: the
 * earlier-stored first, the later-stored last —, expected), and no row
 * lacks samples. Buckets: minute = UTC minute, hour and day = local to
 * e->opts.tz. *nrows gets the rows compared. 0, or -1 with the first
 * difference in why. */
int hh_check_rollups(struct hh_env *e, long *nrows, char *why, size_t cap);

/* ---- parkagent ---------------------------------------------------------- */

/* $PH_PARKAGENT (NULL when unset). */
const char *hh_parkagent(void);

struct hh_agent_opts {
	const char *sources;        /* required: the "sources" array as JSON text */
	int max_records;            /* 50 */
	int max_delay_ms;           /* 100 */
	int resend_after_s;         /* 30 */
};

/* Writes agent i's config (park p1, ent hh_ent(i), agent hh_agent(i),
 * outbox e->outbox[i]) and spawns it. 0 or -errno. */
int hh_agent_start(struct hh_env *e, int i, const struct hh_agent_opts *o);
/* SIGTERM, wait (then SIGKILL); *status gets the wait status. */
int hh_agent_stop(struct hh_env *e, int i, int timeout_ms, int *status);
/* Batches in agent i's outbox (read-only); -errno when unreadable. */
long hh_outbox_depth(struct hh_env *e, int i);

#endif /* HUB_HELPERS_H */
