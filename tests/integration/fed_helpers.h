/*
 * fed_helpers.h — shared by the federation tests (tests/integration/
 * test_federation.c, tests/cluster/test_cluster_federation.c): a park
 * hub's answer and the regional hub's to the same API request, compared.
 *
 * Callers: those tests' own thread. Nothing here starts or stops a
 * process; the hubs' HTTP APIs must answer on 127.0.0.1. Needs
 * curl_global_init (the tests' setup does).
 */
#ifndef FED_HELPERS_H
#define FED_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "phtest.h"

/* a and b are the same figures: numbers equal to 1e-9 relative, strings,
 * types, keys and array lengths equal; members named closed_until and id
 * are each hub's own and skipped (alarms included: they are forwarded).
 * path (a buffer of cap, "" on entry) gets where the first difference is. */
bool fed_same(const cJSON *a, const cJSON *b, char *path, size_t cap);

/* GET /api/v1/parks/{park}/{what}?{range} with token on the park hub's
 * port and on the regional hub's, both 200 and fed_same. For "summary"
 * the park hub's answer must list enterprises (an empty park compares
 * equal to anything empty). 0, or -1 with the reason (the status or the
 * difference's path and both answers, cut) in why. */
int fed_same_answer(int park_port, int region_port, const char *token, const char *park, const char *what,
		    const char *range, char *why, size_t cap);

/* The park's alarms on both hubs: its listing (which must not be empty),
 * the listing across parks (?parks=park), and each alarm's log, all 200
 * and fed_same. 0, or -1 with the reason in why. */
int fed_same_alarms(int park_port, int region_port, const char *token, const char *park, char *why, size_t cap);

/* The park's enterprises with their agents' presence on both hubs
 * (GET /api/v1/parks/{park}/enterprises), 200 and fed_same, and at least
 * one agent the park hub lists with a known state (so presence unknown on
 * both sides does not pass). 0, or -1 with the reason in why. */
int fed_same_presence(int park_port, int region_port, const char *token, const char *park, char *why, size_t cap);

/* A hub's files under dir, named for its id: {id}.json, {id}.db, {id}.log
 * (each buffer FED_PATH_CAP), and a free port for its API. 0 or -1. */
#define FED_PATH_CAP 600
int fed_hub_files(const char *dir, const char *id, char *cfg, char *db, char *log, int *port);

/* Spawns parkhub --config cfg (output appended to log) and waits until
 * its API answers /healthz on port (token): 0, the spawn's error, or
 * -ETIMEDOUT (the process is left running: the caller's teardown stops it). */
int fed_hub_start(struct pht_proc *p, const char *cfg, const char *log, int port, const char *token, int timeout_ms);

/* First column of the first row of the query (printf-style) on the
 * database at path, read-only; -1 when unreadable or no row. */
int64_t fed_db_i64(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Polls fed_db_i64(path, q) until it gives want (bounded); the last value. */
int64_t fed_wait_i64(const char *path, int64_t want, int timeout_ms, const char *q);

#endif /* FED_HELPERS_H */
