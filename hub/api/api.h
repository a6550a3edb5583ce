/* api.h — the hub's HTTP query API (libmicrohttpd): parks, enterprises and
 * their presence, points with their latest values, time series from the
 * rollups or the raw sample chunks, a park summary (emitted mass,
 * compliance, availability, alarms, material totals), alarms and their
 * acknowledgement, plus /metrics (Prometheus) and /healthz. JSON by
 * default, CSV with ?format=csv or Accept: text/csv. docs/openapi.yaml is
 * the contract of every path.
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

/* Declared only, so that hub_config.h may include this header to hold a
 * struct ph_api_conf. */
struct ph_hub_config;
struct ph_tz;
struct ph_catalog;
struct ph_limits;

#define PH_API_MAX_TOKENS 64
#define PH_API_TOKEN_NAME_MAX 64
#define PH_API_TOKEN_PARKS 16
#define PH_API_SHA256_LEN 32
#define PH_API_TOKEN_MAX 512 /* longest bearer token accepted, bytes */

/* Defaults of the "http" keys (ph_api_conf_defaults; docs/security.md,
 * section "HTTP API", lists every bound with its key). */
#define PH_API_DEFAULT_PORT 18080
#define PH_API_DEFAULT_THREADS 4
#define PH_API_DEFAULT_TIMEOUT_S 15        /* idle_timeout_s */
#define PH_API_DEFAULT_HEADER_TIMEOUT_S 10
#define PH_API_DEFAULT_BODY_TIMEOUT_S 30
#define PH_API_DEFAULT_CONNECTIONS 128
#define PH_API_DEFAULT_CONNECTIONS_PER_IP 16
/* GnuTLS priorities: TLS 1.3 and 1.2 only. A configured string may not
 * enable anything older (ph_api_conf_load refuses it). */
#define PH_API_DEFAULT_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define PH_API_TLS_PRIORITIES_MAX 512
/* Not config keys. */
#define PH_API_DEFAULT_MAX_POINTS 10000
#define PH_API_BODY_MAX 16384 /* request bodies (ack) larger than this get 413 */

enum ph_api_role { PH_API_ROLE_REGULATOR, PH_API_ROLE_MANAGER, PH_API_ROLE_ADMIN };

struct ph_api_token {
  char name[PH_API_TOKEN_NAME_MAX + 1];    /* for logs only */
  unsigned char sha256[PH_API_SHA256_LEN]; /* SHA-256 of the token */
  int role;                                /* enum ph_api_role */
  char parks[PH_API_TOKEN_PARKS][PH_ID_MAX + 1];
  int nparks; /* 0: every park */
};

/* The hub config's "http" object:
 *   {"listen": "127.0.0.1", "port": 18080,
 *    "tokens": [{"name": "...", "sha256": "<64 hex>", "role": "regulator|manager|admin", "parks": ["..."]}],
 *    "cert": "path.pem", "key": "path.pem", "tls_priorities": "...",
 *    "threads": 4, "max_connections": 128, "max_connections_per_ip": 16,
 *    "idle_timeout_s": 15, "header_timeout_s": 10, "body_timeout_s": 30}
 * cert and key together switch HTTPS on (PEM files, read at start). */
struct ph_api_conf {
  bool enabled;    /* the config had an "http" object */
  char listen[64]; /* an IPv4 or IPv6 address literal */
  int64_t port;
  struct ph_api_token tokens[PH_API_MAX_TOKENS];
  int ntokens;
  char cert[512], key[512];
  char tls_priorities[PH_API_TLS_PRIORITIES_MAX]; /* GnuTLS priority string (HTTPS only) */
  int64_t threads;                /* worker threads (MHD's pool), each with its own read connection */
  int64_t max_connections;        /* further connections wait in the kernel's backlog */
  int64_t max_connections_per_ip; /* further connections from that address are closed at once */
  int64_t timeout_s;              /* idle_timeout_s: a connection silent this long is closed */
  int64_t header_timeout_s;       /* a request's headers must be in this long after the connection
                                     (or its previous request) — however often bytes arrive */
  int64_t body_timeout_s;         /* and its body this long after the headers */
  /* Not a config key: ph_api_conf_defaults sets it; tests and tools may
   * change it before ph_api_start. */
  int64_t max_points; /* points per series response (pages beyond) */
};

/* Defaults: listen 127.0.0.1, port 18080, no tokens, no TLS, enabled false. */
void ph_api_conf_defaults(struct ph_api_conf *c);
/* Fills c from the "http" object (a const cJSON *; NULL: defaults, not
 * enabled). Checks every key; err names the problem by its path
 * ("http.tokens[1].sha256: ..."). PH_ECONFIG. */
int ph_api_conf_load(const void *cjson_http_obj, struct ph_api_conf *c, struct ph_err *err);
/* 0 when prio is a GnuTLS priority string that enables TLS 1.2 or 1.3 and
 * nothing older; else PH_ECONFIG naming http.tls_priorities. */
int ph_api_tls_priorities_check(const char *prio, struct ph_err *err);
/* The keys of the "http" object, for --help. */
void ph_api_conf_help(FILE *out);
/* The config value for a token: lowercase hex of its SHA-256 (out: 65 bytes). */
int ph_api_token_hash_hex(const char *token, char out[2 * PH_API_SHA256_LEN + 1]);

/* What the hub lends the API. Everything is borrowed and must outlive the
 * API. The callbacks run on the API's worker threads, several at once:
 * they must be thread-safe and should not block for long. */
struct ph_api_env {
  const char *db_path;             /* the hub's database (WAL) */
  const struct ph_hub_config *cfg; /* parks and enterprises */
  struct ph_tz *const *tz;         /* one per park, in config order */
  const struct ph_catalog *cat;
  struct ph_limits *const *limits; /* loaded standards: points carry the limit in force today */
  size_t nlimits;
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
};

#define PH_API_NCODES 11 /* 200 400 401 403 404 405 413 500 501 503, other */

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
