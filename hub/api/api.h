/* api.h — the hub's HTTP query API (libmicrohttpd): parks, enterprises and
 * their presence, points with their latest values, time series from the
 * rollups or the raw sample chunks, a park summary (emitted mass,
 * compliance, availability, alarms, material totals), alarms and their
 * acknowledgement, plus /metrics (Prometheus) and /healthz. JSON by
 * default, CSV with ?format=csv or Accept: text/csv (a named download that
 * starts with a UTF-8 BOM for Excel/WPS; bom=0 for machines).
 * docs/openapi.yaml is the contract of every path.
 *
 * The module only reads the database, each worker thread through a
 * read-only connection of its own (WAL: readers never block the writer).
 * What it cannot do by reading (acknowledging an alarm, the hub's own
 * counters, readiness) it asks the hub through the callbacks of struct
 * ph_api_env.
 *
 * Access: "Authorization: Bearer <token>"; the config holds only the
 * SHA-256 of each token. Roles: regulator reads, manager reads and
 * acknowledges, admin does everything (and reads /metrics); a token's
 * "parks" limits it to those parks (omitted: every park; required for a
 * manager). /healthz needs no token.
 */
#ifndef PARKHUB_API_H
#define PARKHUB_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "parkhub/err.h"
#include "parkhub/ids.h"

#include "config/api_conf.h" /* struct ph_api_conf: the "http" object */
#include "config/refs.h"

struct ph_hub_config;
struct ph_tz;
struct ph_catalog;
struct ph_limits;

/* What the hub lends the API. Everything is borrowed and must outlive the
 * API. The callbacks run on the API's worker threads, several at once:
 * they must be thread-safe and should not block for long. */
struct ph_api_env {
  const char *db_path;             /* the hub's database (WAL) */
  const struct ph_refs *refs;      /* config (parks, enterprises), zones, catalogue, standards */
  void *u; /* first argument of every callback */
  /* Writes the hub's own metrics (Prometheus text format) into buf; returns
   * the length it needs, snprintf-style (called again with a larger buf
   * when that is ≥ cap), or < 0 on failure. NULL: none. */
  int (*metrics)(void *u, char *buf, size_t cap);
  /* 0 when the hub is ready; otherwise non-zero with a reason in why.
   * NULL: always ready. */
  int (*health)(void *u, char *why, size_t cap);
  /* Acknowledges park's alarm_id (by, note validated as cmd-ack.schema.json;
   * note may be ""). Returns 0, or PH_ENOTFOUND (no open alarm of that id:
   * 404), PH_EINVAL (400), PH_EAGAIN / PH_ETIMEOUT (503), another code (500),
   * with a message in errbuf. Should return once the ack is committed, so
   * that the reply shows the new state. NULL: acks get 501. */
  int (*ack)(void *u, const char *park, const char *alarm_id, const char *by, const char *note, char *errbuf,
             size_t cap);
  /* Records a stack test of park's ent on local date (YYYY-MM-DD, checked;
   * day: its days since 1970-01-01) entered by `by`; returns once stored.
   * Codes as ack. NULL: 501. */
  int (*stack_test)(void *u, const char *park, const char *ent, const char *date, long day, const char *by,
                    char *errbuf, size_t cap);
};

#define PH_API_NCODES 12 /* 200 400 401 403 404 405 409 413 500 501 503, other */

struct ph_api_stats {
  uint64_t requests;
  uint64_t by_code[PH_API_NCODES]; /* in the order above */
  uint64_t db_opens, db_failures;
  uint64_t connections;                        /* accepted so far */
  uint64_t cut_at_header_deadline, cut_at_body_deadline;
};

struct ph_api;

/* Validates conf against env (token parks must be served parks, TLS files
 * readable, TLS supported by libmicrohttpd), binds and starts the worker
 * threads. conf is copied; env borrowed. PH_ECONFIG, PH_EIO (bind). */
int ph_api_start(const struct ph_api_conf *conf, const struct ph_api_env *env, struct ph_api **out,
                 struct ph_err *err);
/* Stops accepting, finishes the requests under way, joins, closes the read
 * connections. Accepts NULL. */
void ph_api_stop(struct ph_api *a);
/* The bound port (conf port 0 binds a free one). */
int ph_api_port(const struct ph_api *a);
bool ph_api_tls(const struct ph_api *a);
void ph_api_stats(const struct ph_api *a, struct ph_api_stats *st);

#endif
