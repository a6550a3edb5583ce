/* mqttconf.c — loads the shared "mqtt" config object (mqttconf.h). */
#include "parkhub/mqttconf.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <string.h>

#include "parkhub/cfgmap.h"

#define F(field) offsetof(struct ph_mqtt_conf, field), sizeof(((struct ph_mqtt_conf *)0)->field)
#define N(field) offsetof(struct ph_mqtt_conf, field), 0

static const struct ph_cfgmap mqtt_map[] = {
    {"uris", PH_CFG_ARRAY, true, 0, 0, 0, 0, NULL, NULL, "broker URIs tried in turn: tcp://, ssl://, mqtt://, mqtts://"},
    {"client_id", PH_CFG_STR, false, F(client_id), 0, 0, NULL, NULL, "MQTT client id (default: derived from the ids)"},
    {"username", PH_CFG_STR, false, F(username), 0, 0, NULL, NULL, "user name at the broker"},
    {"password", PH_CFG_STR, false, F(password), 0, 0, NULL, NULL, "password at the broker"},
    {"keepalive_s", PH_CFG_INT, false, N(keepalive_s), 5, 3600, "30", NULL, "MQTT keepalive"},
    {"inflight", PH_CFG_INT, false, N(inflight), 1, 1000, "32", NULL, "QoS 1 publishes in flight at once"},
    {"reconnect_min_ms", PH_CFG_INT, false, N(reconnect_min_ms), 10, 600000, "500", NULL, "first reconnect delay"},
    {"reconnect_max_ms", PH_CFG_INT, false, N(reconnect_max_ms), 100, 3600000, "30000", NULL, "longest reconnect delay"},
    {"connect_timeout_ms", PH_CFG_INT, false, N(connect_timeout_ms), 200, 60000, "3000", NULL,
     "time a broker node gets for the TCP connect and CONNACK before the next URI is tried (rounded up to s)"},
    {"heartbeat_s", PH_CFG_INT, false, N(heartbeat_s), 1, 3600, "5", NULL,
     "hub: period of its non-retained heartbeat on parkhub/v1/{park}/hub (agents judge the hub by it)"},
    {"tls", PH_CFG_OBJECT, false, 0, 0, 0, 0, NULL, NULL, "TLS settings (object, below)"},
    {"shared_group", PH_CFG_ID, false, F(shared_group), 0, 0, NULL, NULL, "hub: MQTT 5 shared-subscription group"},
    {"clean_start", PH_CFG_SKIP, false, 0, 0, 0, 0, NULL, NULL, "hub: ignored, the hub always keeps its session"},
    PH_CFG_END,
};
#undef F
#undef N

#define T(field) offsetof(struct ph_tls_conf, field), sizeof(((struct ph_tls_conf *)0)->field)
static const struct ph_cfgmap tls_map[] = {
    {"ca", PH_CFG_STR, false, T(ca), 0, 0, NULL, NULL, "CA certificate file that signed the broker's certificate"},
    {"cert", PH_CFG_STR, false, T(cert), 0, 0, NULL, NULL, "client certificate (mutual TLS)"},
    {"key", PH_CFG_STR, false, T(key), 0, 0, NULL, NULL, "client private key (mutual TLS)"},
    {"verify", PH_CFG_BOOL, false, offsetof(struct ph_tls_conf, verify), 0, 0, 0, "true", NULL,
     "verify the broker's certificate and host name"},
    PH_CFG_END,
};
#undef T

static bool uri_ok(const char *u, bool *tls) {
  static const char *const plain[] = {"tcp://", "mqtt://"}, *const secure[] = {"ssl://", "mqtts://"};
  for (int i = 0; i < 2; i++) {
    if (strncmp(u, plain[i], strlen(plain[i])) == 0) return strlen(u) > strlen(plain[i]);
    if (strncmp(u, secure[i], strlen(secure[i])) == 0) {
      *tls = true;
      return strlen(u) > strlen(secure[i]);
    }
  }
  return false;
}

static int load_uris(const cJSON *arr, const char *path, struct ph_mqtt_conf *c, struct ph_err *err) {
  int n = cJSON_GetArraySize(arr);
  if (!cJSON_IsArray(arr) || n < 1 || n > PH_MQTT_MAX_URIS)
    return ph_fail(err, PH_ECONFIG, "%s.uris: must be an array of 1 to %d URIs", path, PH_MQTT_MAX_URIS);
  const cJSON *u;
  cJSON_ArrayForEach(u, arr) {
    if (!cJSON_IsString(u) || strlen(u->valuestring) >= sizeof c->uris[0] || !uri_ok(u->valuestring, &c->tls_on))
      return ph_fail(err, PH_ECONFIG, "%s.uris[%d]: '%.80s' is not tcp://, ssl://, mqtt:// or mqtts://host:port",
                     path, c->nuris, cJSON_IsString(u) ? u->valuestring : "(not a string)");
    strcpy(c->uris[c->nuris++], u->valuestring);
  }
  return 0;
}

int ph_mqtt_conf_load(const void *obj, const char *path, bool hub, struct ph_mqtt_conf *c, struct ph_err *err) {
  return ph_mqtt_conf_load_all(obj, path, hub, c, NULL, err);
}

/* With pr every key problem of mqtt, its uris and mqtt.tls is noted
 * (cfgmap.h inv. 1); a check across keys notes its problem and stops. */
int ph_mqtt_conf_load_all(const void *obj, const char *path, bool hub, struct ph_mqtt_conf *c,
                          struct ph_cfg_problems *pr, struct ph_err *err) {
  memset(c, 0, sizeof *c);
  int rc = ph_cfgmap_apply_all(mqtt_map, obj, path, c, pr, err);
  if (rc && (!pr || !cJSON_IsObject((const cJSON *)obj))) return rc;
  /* Checking (pr): a problem of mqtt's own keys is noted and mqtt.tls and
   * uris are checked all the same; the checks across keys, which read the
   * keys that failed, are left out then. */
  int own = rc, trc;
  if (!own && !hub && c->shared_group[0])
    return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "%s.shared_group: only the hub subscribes with a group", path), err);
  if (!hub && cJSON_GetObjectItemCaseSensitive(obj, "heartbeat_s"))
    return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "%s.heartbeat_s: only the hub sends a heartbeat", path), err);
  c->mqtt5 = c->shared_group[0] != '\0';
  const cJSON *uris = cJSON_GetObjectItemCaseSensitive(obj, "uris"); /* absent with own: noted as required */
  if ((!own || uris) && (rc = ph_cfg_note(pr, load_uris(uris, path, c, err), err))) return rc;
  char tpath[128];
  snprintf(tpath, sizeof tpath, "%s.tls", path);
  if ((trc = ph_cfgmap_apply_all(tls_map, cJSON_GetObjectItemCaseSensitive(obj, "tls"), tpath, &c->tls, pr, err)) && !pr)
    return trc;
  if (c->tls.ca[0]) c->tls_on = true;
  if (!trc && !c->tls.cert[0] != !c->tls.key[0])
    return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "%s: cert and key go together (mutual TLS needs both)", tpath), err);
  if (!own && c->reconnect_min_ms > c->reconnect_max_ms)
    return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "%s.reconnect_min_ms: larger than reconnect_max_ms", path), err);
  return own ? own : trc;
}

void ph_mqtt_conf_uris_text(const struct ph_mqtt_conf *c, char *buf, size_t cap) {
  size_t n = 0;
  buf[0] = '\0';
  for (int i = 0; i < c->nuris && n < cap; i++) n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", c->uris[i]);
}

void ph_mqtt_conf_help(FILE *out, bool hub) {
  for (const struct ph_cfgmap *e = mqtt_map; e->key; e++) {
    if (!hub && (strcmp(e->key, "shared_group") == 0 || strcmp(e->key, "clean_start") == 0 ||
                 strcmp(e->key, "heartbeat_s") == 0))
      continue;
    struct ph_cfgmap one[2] = {*e, PH_CFG_END};
    ph_cfgmap_help(one, "mqtt.", out);
  }
  ph_cfgmap_help(tls_map, "mqtt.tls.", out);
}
