/* test_hub_hubmqtt.c — the hub's ack mailbox (hubmqtt.h), without a
 * broker: the clients are created but never connected, so every posted
 * ack stays in the mailbox and the stats show what it holds. Issue #16
 * items 2 (acks for any number of agents) and 8 (acks per agent and epoch). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "ingest/hubmqtt.h"

static struct ph_hub_config cfg;
static struct ph_hubmqtt *m;

static void setup(void) {
  memset(&cfg, 0, sizeof cfg);
  snprintf(cfg.hub_id, sizeof cfg.hub_id, "hub-test");
  snprintf(cfg.mqtt.uris[0], sizeof cfg.mqtt.uris[0], "tcp://127.0.0.1:1"); /* never connected */
  cfg.mqtt.nuris = 1;
  snprintf(cfg.mqtt.client_id, sizeof cfg.mqtt.client_id, "hub-test");
  snprintf(cfg.parks[0].id, sizeof cfg.parks[0].id, "p1");
  cfg.nparks = 1;
  struct ph_err err = {0};
  cr_assert_eq(ph_hubmqtt_new(&cfg, NULL, &m, &err), 0, "%s", err.msg);
}

static void teardown(void) { ph_hubmqtt_free(m); }

TestSuite(hubmqtt, .init = setup, .fini = teardown);

static size_t waiting(void) {
  struct ph_hubmqtt_stats st;
  ph_hubmqtt_stats(m, &st);
  return st.acks_waiting;
}

Test(hubmqtt, acks_of_more_than_4096_agents_all_wait_for_the_connection) {
  /* 64 agents × 79 enterprises: far fewer than the config accepts (64 × 1000 × 64). */
  char topic[128];
  for (int i = 0; i < 5056; i++) {
    snprintf(topic, sizeof topic, "parkhub/v1/p1/ent-%d/gw-%d/ack", i / 64, i % 64);
    cr_assert_eq(ph_hubmqtt_post_ack(m, topic, 1000, 1), 0, "ack %d (%s) refused", i, topic);
  }
  cr_assert_eq(waiting(), 5056);
}

Test(hubmqtt, two_epochs_of_one_agent_keep_their_own_acks) {
  const char *t = "parkhub/v1/p1/ent-a/gw-a/ack";
  cr_assert_eq(ph_hubmqtt_post_ack(m, t, 1000, 7), 0);
  cr_assert_eq(ph_hubmqtt_post_ack(m, t, 2000, 1), 0);
  cr_assert_eq(waiting(), 2, "the ack of epoch 1000 was overwritten by epoch 2000's");
}

Test(hubmqtt, a_newer_ack_of_the_same_epoch_replaces_the_unsent_one) {
  const char *t = "parkhub/v1/p1/ent-a/gw-a/ack";
  cr_assert_eq(ph_hubmqtt_post_ack(m, t, 1000, 7), 0);
  cr_assert_eq(ph_hubmqtt_post_ack(m, t, 1000, 9), 0);
  cr_assert_eq(ph_hubmqtt_post_ack(m, "parkhub/v1/p1/ent-b/gw-b/ack", 1000, 9), 0);
  cr_assert_eq(waiting(), 2);
}
