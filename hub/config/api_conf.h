/* api_conf.h — the hub config's "http" object: what the HTTP API
 * (api/api.h) listens on, its bearer tokens with their roles and parks,
 * TLS, connection bounds and timeouts. Here, below the API, so that the
 * config model (hub_config.h) does not depend on the API that reads it.
 *
 * Callers: hub_config.c (ph_api_conf_load on the "http" object), the API
 * (reads it), token_cmd.c (ph_api_token_hash_hex). Threads: the caller's.
 */
#ifndef PARKHUB_API_CONF_H
#define PARKHUB_API_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "parkhub/cfgmap.h" /* struct ph_cfg_problems */
#include "parkhub/err.h"
#include "parkhub/ids.h"

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
  int lang;      /* enum ph_lang when lang_set (hub_config.h: ph_reader_lang) */
  bool lang_set; /* the token gave "lang": it wins over its park's */
};

/* The hub config's "http" object:
 *   {"listen": "127.0.0.1", "port": 18080,
 *    "tokens": [{"name": "...", "sha256": "<64 hex>", "role": "regulator|manager|admin", "parks": ["..."],
 *                "lang": "zh-CN|en"}],
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
/* --check-config: with pr, every problem is noted there (then PH_ECONFIG,
 * already noted); without, as ph_api_conf_load. */
int ph_api_conf_load_all(const void *cjson_http_obj, struct ph_api_conf *c, struct ph_cfg_problems *pr,
                         struct ph_err *err);
/* 0 when prio is a GnuTLS priority string that enables TLS 1.2 or 1.3 and
 * nothing older; else PH_ECONFIG naming http.tls_priorities. */
int ph_api_tls_priorities_check(const char *prio, struct ph_err *err);
/* The keys of the "http" object, for --help. */
void ph_api_conf_help(FILE *out);
/* The config value for a token: lowercase hex of its SHA-256 (out: 65 bytes). */
int ph_api_token_hash_hex(const char *token, char out[2 * PH_API_SHA256_LEN + 1]);

#endif
