#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <string.h>

#include "parkhub/mqttconf.h"

static int load(const char *json, bool hub, struct ph_mqtt_conf *c, struct ph_err *err) {
  cJSON *j = cJSON_Parse(json);
  cr_assert_not_null(j, "%s", json);
  int rc = ph_mqtt_conf_load(j, "mqtt", hub, c, err);
  cJSON_Delete(j);
  return rc;
}

Test(mqttconf, defaults_and_uris_in_order) {
  struct ph_mqtt_conf c;
  struct ph_err err = {0};
  cr_assert_eq(load("{\"uris\":[\"tcp://127.0.0.1:1883\",\"mqtt://b:1883\"]}", false, &c, &err), 0, "%s", err.msg);
  cr_assert_eq(c.nuris, 2);
  cr_assert_str_eq(c.uris[1], "mqtt://b:1883");
  cr_assert_eq(c.keepalive_s, 30);
  cr_assert_eq(c.inflight, 32);
  cr_assert_eq(c.connect_timeout_ms, 3000);
  cr_assert_eq(c.heartbeat_s, 5);
  cr_assert(c.tls.verify, "server verification is on by default");
  cr_assert_not(c.tls_on);
}

Test(mqttconf, tls_is_on_for_secure_uris_or_a_ca) {
  struct ph_mqtt_conf c;
  cr_assert_eq(load("{\"uris\":[\"ssl://h:8883\"]}", false, &c, NULL), 0);
  cr_assert(c.tls_on);
  cr_assert_eq(load("{\"uris\":[\"tcp://h:1\"],\"tls\":{\"ca\":\"/etc/ca.pem\"}}", false, &c, NULL), 0);
  cr_assert(c.tls_on);
}

static void refused(const char *json, bool hub, const char *needle) {
  struct ph_mqtt_conf c;
  struct ph_err err = {0};
  cr_assert_eq(load(json, hub, &c, &err), PH_ECONFIG, "%s accepted", json);
  cr_assert(strstr(err.msg, needle), "'%s' lacks '%s'", err.msg, needle);
}

Test(mqttconf, bad_settings_are_explained) {
  refused("{}", false, "mqtt.uris: required");
  refused("{\"uris\":[]}", false, "mqtt.uris");
  refused("{\"uris\":[\"http://h\"]}", false, "mqtt.uris[0]");
  refused("{\"uris\":[\"tcp://\"]}", false, "mqtt.uris[0]");
  refused("{\"uris\":[\"tcp://h:1\"],\"tls\":{\"cert\":\"c.pem\"}}", false, "cert and key go together");
  refused("{\"uris\":[\"tcp://h:1\"],\"shared_group\":\"g1\"}", false, "only the hub");
  refused("{\"uris\":[\"tcp://h:1\"],\"reconnect_min_ms\":5000,\"reconnect_max_ms\":1000}", false, "reconnect_min_ms");
  refused("{\"uris\":[\"tcp://h:1\"],\"tls\":{\"verfy\":false}}", false, "mqtt.tls.verfy: unknown key");
  refused("{\"uris\":[\"tcp://h:1\"],\"heartbeat_s\":5}", false, "only the hub sends a heartbeat");
  refused("{\"uris\":[\"tcp://h:1\"],\"connect_timeout_ms\":50}", false, "mqtt.connect_timeout_ms");
  refused("{\"uris\":[\"tcp://h:1\"],\"heartbeat_s\":0}", true, "mqtt.heartbeat_s");
}

Test(mqttconf, hub_takes_a_shared_group) {
  struct ph_mqtt_conf c;
  cr_assert_eq(load("{\"uris\":[\"tcp://h:1\"],\"shared_group\":\"hubs\"}", true, &c, NULL), 0);
  cr_assert_str_eq(c.shared_group, "hubs");
}

Test(mqttconf, cluster_nodes_and_timeouts) {
  struct ph_mqtt_conf c;
  struct ph_err err = {0};
  cr_assert_eq(load("{\"uris\":[\"tcp://127.0.0.1:1\",\"tcp://127.0.0.1:2\",\"tcp://127.0.0.1:3\"],"
                    "\"connect_timeout_ms\":1500,\"heartbeat_s\":2}",
                    true, &c, &err),
               0, "%s", err.msg);
  cr_assert_eq(c.nuris, 3);
  cr_assert_str_eq(c.uris[2], "tcp://127.0.0.1:3");
  cr_assert_eq(c.connect_timeout_ms, 1500);
  cr_assert_eq(c.heartbeat_s, 2);
}
