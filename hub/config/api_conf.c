/* api_conf.c — the hub config's "http" object (api_conf.h): listen address,
 * port, bearer tokens (only their SHA-256, as hex), TLS files and
 * priorities, connection limits, timeouts and threads.
 *
 * Callers: the hub config loader (ph_api_conf_load on its "http" object),
 * tools that print a token's config value (ph_api_token_hash_hex).
 * Threads: the caller's; no state.
 *
 * Invariants:
 *  1. every key is checked: unknown keys, a bad address, a hash that is not
 *     64 hex digits, a duplicate token (name or hash), a manager without
 *     parks, a cert without a key are refused with the key's path.
 *  2. a token itself is never stored, only its hash (SHA-256 through
 *     OpenSSL's EVP API).
 *  3. HTTPS speaks TLS 1.2 or 1.3 only: tls_priorities must parse as a
 *     GnuTLS priority string (GnuTLS is libmicrohttpd's TLS library) that
 *     enables no SSL 3, TLS 1.0 or TLS 1.1, else the config is refused.
 *  4. the connection bounds are consistent: max_connections_per_ip and
 *     threads are at most max_connections.
 */
#include "config/api_conf.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <gnutls/gnutls.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/cfgmap.h"

void ph_api_conf_defaults(struct ph_api_conf *c) {
  memset(c, 0, sizeof *c);
  strcpy(c->listen, "127.0.0.1");
  c->port = PH_API_DEFAULT_PORT;
  c->threads = PH_API_DEFAULT_THREADS;
  c->timeout_s = PH_API_DEFAULT_TIMEOUT_S;
  c->header_timeout_s = PH_API_DEFAULT_HEADER_TIMEOUT_S;
  c->body_timeout_s = PH_API_DEFAULT_BODY_TIMEOUT_S;
  c->max_connections = PH_API_DEFAULT_CONNECTIONS;
  c->max_connections_per_ip = PH_API_DEFAULT_CONNECTIONS_PER_IP;
  strcpy(c->tls_priorities, PH_API_DEFAULT_TLS_PRIORITIES);
  c->max_points = PH_API_DEFAULT_MAX_POINTS;
}

#define STR_(x) #x
#define STR(x) STR_(x)
#define INT(key, field, lo, hi, def, help) \
  {key, PH_CFG_INT, false, offsetof(struct ph_api_conf, field), 0, lo, hi, STR(def), NULL, help}

static const char *const role_words[] = {"regulator", "manager", "admin", NULL};

static const struct ph_cfgmap http_map[] = {
    {"listen", PH_CFG_STR, false, offsetof(struct ph_api_conf, listen), sizeof ((struct ph_api_conf *)0)->listen,
     0, 0, "127.0.0.1", NULL, "address to bind (IPv4 or IPv6 literal)"},
    {"port", PH_CFG_INT, false, offsetof(struct ph_api_conf, port), 0, 1, 65535, "18080", NULL, "TCP port"},
    {"tokens", PH_CFG_ARRAY, false, 0, 0, 0, 0, NULL, NULL, "bearer tokens: [{name, sha256, role, parks}]"},
    {"cert", PH_CFG_STR, false, offsetof(struct ph_api_conf, cert), sizeof ((struct ph_api_conf *)0)->cert, 0, 0,
     NULL, NULL, "PEM certificate: HTTPS (with key)"},
    {"key", PH_CFG_STR, false, offsetof(struct ph_api_conf, key), sizeof ((struct ph_api_conf *)0)->key, 0, 0, NULL,
     NULL, "PEM private key: HTTPS (with cert)"},
    {"tls_priorities", PH_CFG_STR, false, offsetof(struct ph_api_conf, tls_priorities),
     sizeof ((struct ph_api_conf *)0)->tls_priorities, 0, 0, PH_API_DEFAULT_TLS_PRIORITIES, NULL,
     "GnuTLS priority string for HTTPS; TLS 1.2 at least (an older version is refused)"},
    INT("threads", threads, 1, 64, PH_API_DEFAULT_THREADS, "worker threads, each with its own read connection"),
    INT("max_connections", max_connections, 1, 10000, PH_API_DEFAULT_CONNECTIONS,
        "open connections at most; more wait in the kernel's backlog"),
    INT("max_connections_per_ip", max_connections_per_ip, 1, 10000, PH_API_DEFAULT_CONNECTIONS_PER_IP,
        "open connections from one address at most (≤ max_connections); more are closed at once"),
    INT("idle_timeout_s", timeout_s, 1, 3600, PH_API_DEFAULT_TIMEOUT_S,
        "a connection with no traffic for this long is closed"),
    INT("header_timeout_s", header_timeout_s, 1, 3600, PH_API_DEFAULT_HEADER_TIMEOUT_S,
        "a request's headers must be in within this of the connection (or its previous request), however "
        "slowly bytes keep coming"),
    INT("body_timeout_s", body_timeout_s, 1, 3600, PH_API_DEFAULT_BODY_TIMEOUT_S,
        "a request's body must be in within this of its headers"),
    PH_CFG_END,
};
#undef INT

struct tok_in {
  char name[PH_API_TOKEN_NAME_MAX + 1];
  char sha256[2 * PH_API_SHA256_LEN + 1];
  int role;
  int lang;
};
static const char *const lang_words[] = {"zh-CN", "en", NULL}; /* enum ph_lang's order */

static const struct ph_cfgmap token_map[] = {
    {"name", PH_CFG_STR, true, offsetof(struct tok_in, name), sizeof ((struct tok_in *)0)->name, 0, 0, NULL, NULL,
     "who holds the token (logs)"},
    {"sha256", PH_CFG_STR, true, offsetof(struct tok_in, sha256), sizeof ((struct tok_in *)0)->sha256, 0, 0, NULL,
     NULL, "hex SHA-256 of the token"},
    {"role", PH_CFG_ENUM, true, offsetof(struct tok_in, role), 0, 0, 0, NULL, role_words, "what it may do"},
    {"parks", PH_CFG_ARRAY, false, 0, 0, 0, 0, NULL, NULL, "parks it may see (omitted: all; manager: required)"},
    {"lang", PH_CFG_ENUM, false, offsetof(struct tok_in, lang), 0, 0, 0, NULL, lang_words,
     "its reader's language (dashboard); omitted: the park's"},
    PH_CFG_END,
};

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

static int load_parks(const cJSON *arr, const char *path, struct ph_api_token *t, struct ph_err *err) {
  if (!cJSON_IsArray(arr)) return ph_fail(err, PH_ECONFIG, "%s.parks: must be an array of park ids", path);
  int i = 0;
  for (const cJSON *p = arr->child; p; p = p->next, i++) {
    if (!cJSON_IsString(p) || !ph_id_valid_z(p->valuestring))
      return ph_fail(err, PH_ECONFIG, "%s.parks[%d]: must be a park id ([a-z0-9][a-z0-9_-]{0,63})", path, i);
    if (t->nparks == PH_API_TOKEN_PARKS)
      return ph_fail(err, PH_ECONFIG, "%s.parks: more than %d parks", path, PH_API_TOKEN_PARKS);
    for (int k = 0; k < t->nparks; k++)
      if (!strcmp(t->parks[k], p->valuestring))
        return ph_fail(err, PH_ECONFIG, "%s.parks[%d]: '%s' given twice", path, i, p->valuestring);
    strcpy(t->parks[t->nparks++], p->valuestring);
  }
  return 0;
}

static int load_token(const cJSON *o, int idx, struct ph_api_conf *c, struct ph_cfg_problems *pr, struct ph_err *err) {
  char path[48];
  snprintf(path, sizeof path, "http.tokens[%d]", idx);
  struct tok_in in = {0};
  int rc = ph_cfgmap_apply_all(token_map, o, path, &in, pr, err);
  if (rc) return pr ? 0 : rc; /* with pr, each of its keys' problems is noted */
  struct ph_api_token *t = &c->tokens[c->ntokens];
  memset(t, 0, sizeof *t);
  if (!in.name[0]) return ph_fail(err, PH_ECONFIG, "%s.name: must not be empty", path);
  if (strlen(in.sha256) != 2 * PH_API_SHA256_LEN)
    return ph_fail(err, PH_ECONFIG, "%s.sha256: must be 64 hex digits (the SHA-256 of the token)", path);
  for (int i = 0; i < PH_API_SHA256_LEN; i++) {
    int hi = hexval(in.sha256[2 * i]), lo = hexval(in.sha256[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return ph_fail(err, PH_ECONFIG, "%s.sha256: must be 64 hex digits (the SHA-256 of the token)", path);
    t->sha256[i] = (unsigned char)(hi << 4 | lo);
  }
  strcpy(t->name, in.name);
  t->role = in.role;
  t->lang = in.lang;
  t->lang_set = cJSON_GetObjectItemCaseSensitive(o, "lang") != NULL;
  const cJSON *parks = cJSON_GetObjectItemCaseSensitive(o, "parks");
  if (parks && (rc = load_parks(parks, path, t, err))) return rc;
  if (t->role == PH_API_ROLE_MANAGER && t->nparks == 0)
    return ph_fail(err, PH_ECONFIG, "%s.parks: a manager needs the parks it manages", path);
  for (int k = 0; k < c->ntokens; k++) {
    if (!strcmp(c->tokens[k].name, t->name))
      return ph_fail(err, PH_ECONFIG, "%s.name: '%s' is also http.tokens[%d]", path, t->name, k);
    if (!memcmp(c->tokens[k].sha256, t->sha256, PH_API_SHA256_LEN))
      return ph_fail(err, PH_ECONFIG, "%s.sha256: the same token as http.tokens[%d]", path, k);
  }
  c->ntokens++;
  return 0;
}

/* What needs the keys whole: the address, pairs of keys, the tokens. With
 * pr (checking) each problem is noted and the next check runs; own: the
 * object's keys had problems already (noted), so the cross-key checks,
 * which read them, are left out and only the tokens are checked. */
static int check_http(const cJSON *o, struct ph_api_conf *c, bool own, struct ph_cfg_problems *pr, struct ph_err *err) {
  int rc;
  unsigned char addr[sizeof(struct in6_addr)];
  if (!own && inet_pton(AF_INET, c->listen, addr) != 1 && inet_pton(AF_INET6, c->listen, addr) != 1 &&
      (rc = ph_cfg_note(pr, ph_fail(err, PH_ECONFIG, "http.listen: '%.64s' is not an IPv4 or IPv6 address", c->listen), err)))
    return rc;
  if (!own && !c->cert[0] != !c->key[0] &&
      (rc = ph_cfg_note(pr, ph_fail(err, PH_ECONFIG, "http.%s: HTTPS needs both cert and key", c->cert[0] ? "key" : "cert"), err)))
    return rc;
  if (!own && c->max_connections_per_ip > c->max_connections &&
      (rc = ph_cfg_note(pr, ph_fail(err, PH_ECONFIG, "http.max_connections_per_ip: %lld is more than max_connections (%lld)",
                                    (long long)c->max_connections_per_ip, (long long)c->max_connections), err)))
    return rc;
  if (!own && c->threads > c->max_connections &&
      (rc = ph_cfg_note(pr, ph_fail(err, PH_ECONFIG, "http.threads: %lld is more than max_connections (%lld)",
                                    (long long)c->threads, (long long)c->max_connections), err)))
    return rc;
  if (!own && (rc = ph_cfg_note(pr, ph_api_tls_priorities_check(c->tls_priorities, err), err))) return rc;
  const cJSON *toks = cJSON_GetObjectItemCaseSensitive(o, "tokens");
  if (toks) {
    if (!cJSON_IsArray(toks)) return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "http.tokens: must be an array"), err);
    int i = 0;
    for (const cJSON *t = toks->child; t; t = t->next, i++) {
      if (c->ntokens == PH_API_MAX_TOKENS)
        return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "http.tokens: more than %d tokens", PH_API_MAX_TOKENS), err);
      if ((rc = ph_cfg_note(pr, load_token(t, i, c, pr, err), err))) return rc;
    }
  }
  c->enabled = true;
  return 0;
}

/* With pr every problem of "http" is noted (cfgmap.h inv. 1), those of its
 * tokens too, each token's keys and parks on their own. */
int ph_api_conf_load_all(const void *cjson_http_obj, struct ph_api_conf *c, struct ph_cfg_problems *pr,
                         struct ph_err *err) {
  const cJSON *o = cjson_http_obj;
  ph_api_conf_defaults(c);
  if (!o) return 0;
  int rc = ph_cfgmap_apply_all(http_map, o, "http", c, pr, err);
  if (rc && (!pr || !cJSON_IsObject(o))) return rc; /* with pr, noted there */
  int crc = check_http(o, c, rc != 0, pr, err);
  return rc ? rc : crc;
}

int ph_api_conf_load(const void *cjson_http_obj, struct ph_api_conf *c, struct ph_err *err) {
  return ph_api_conf_load_all(cjson_http_obj, c, NULL, err);
}

void ph_api_conf_help(FILE *out) {
  ph_cfgmap_help(http_map, "http.", out);
  ph_cfgmap_help(token_map, "http.tokens[].", out);
}

/* inv. 3 */
int ph_api_tls_priorities_check(const char *prio, struct ph_err *err) {
  gnutls_priority_t p = NULL;
  const char *where = NULL;
  int rc = gnutls_priority_init(&p, prio, &where);
  if (rc < 0)
    return ph_fail(err, PH_ECONFIG, "http.tls_priorities: not a GnuTLS priority string (%s, at '%.40s')",
                   gnutls_strerror(rc), where ? where : "");
  const unsigned int *v = NULL;
  int n = gnutls_priority_protocol_list(p, &v);
  int tls12 = 0;
  const char *old = NULL;
  for (int i = 0; i < n; i++) {
    if (v[i] == GNUTLS_SSL3 || v[i] == GNUTLS_TLS1_0 || v[i] == GNUTLS_TLS1_1)
      old = gnutls_protocol_get_name((gnutls_protocol_t)v[i]);
    if (v[i] == GNUTLS_TLS1_2 || v[i] == GNUTLS_TLS1_3) tls12 = 1;
  }
  gnutls_priority_deinit(p);
  if (old)
    return ph_fail(err, PH_ECONFIG, "http.tls_priorities: enables %s; HTTPS needs TLS 1.2 or later (e.g. %s)", old,
                   PH_API_DEFAULT_TLS_PRIORITIES);
  if (!tls12) return ph_fail(err, PH_ECONFIG, "http.tls_priorities: enables neither TLS 1.2 nor TLS 1.3");
  return 0;
}

int ph_api_token_hash_hex(const char *token, char out[2 * PH_API_SHA256_LEN + 1]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!token || EVP_Digest(token, strlen(token), md, &n, EVP_sha256(), NULL) != 1 || n != PH_API_SHA256_LEN)
    return PH_EINVAL;
  static const char hex[] = "0123456789abcdef";
  for (unsigned i = 0; i < n; i++) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 15];
  }
  out[2 * n] = 0;
  return 0;
}
