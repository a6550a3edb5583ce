#include <criterion/criterion.h>
#include <string.h>

#include "parkhub/topic.h"

static struct ph_topic parse_ok(const char *s) {
  struct ph_topic t;
  struct ph_err err = {0};
  int rc = ph_topic_parse(s, strlen(s), &t, &err);
  cr_assert_eq(rc, 0, "%s: %s", s, err.msg);
  return t;
}

static void roundtrip(const char *s) {
  struct ph_topic t = parse_ok(s);
  char buf[PH_TOPIC_MAX];
  cr_assert_eq(ph_topic_build(&t, buf, sizeof buf), 0, "%s", s);
  cr_assert_str_eq(buf, s);
}

Test(topic, every_design_topic_round_trips) {
  roundtrip("parkhub/v1/p1/smelter-a/gw-01/ev/process");
  roundtrip("parkhub/v1/p1/smelter-a/gw-01/ev/material");
  roundtrip("parkhub/v1/p1/smelter-a/gw-01/ev/emission");
  roundtrip("parkhub/v1/p1/smelter-a/gw-01/status");
  roundtrip("parkhub/v1/p1/smelter-a/gw-01/ack");
  roundtrip("parkhub/v1/p1/hub");
  roundtrip("parkhub/v1/p1/alerts/critical");
  roundtrip("parkhub/v1/p1/alerts/warning");
  roundtrip("parkhub/v1/p1/alarms/a-42");
  roundtrip("parkhub/v1/p1/cmd/ack");
  roundtrip("parkhub/v1/p1/rollup/hour");
}

Test(topic, parse_fills_the_fields) {
  struct ph_topic t = parse_ok("parkhub/v1/yx-park/cu-smelter/gw-7/ev/emission");
  cr_assert_eq(t.type, PH_TOPIC_EVENT);
  cr_assert_str_eq(t.park, "yx-park");
  cr_assert_str_eq(t.ent, "cu-smelter");
  cr_assert_str_eq(t.agent, "gw-7");
  cr_assert_eq(t.kind, PH_KIND_EMISSION);
  t = parse_ok("parkhub/v1/p/alerts/major");
  cr_assert_eq(t.type, PH_TOPIC_ALERTS);
  cr_assert_eq(t.severity, PH_SEV_MAJOR);
  t = parse_ok("parkhub/v1/p/rollup/day");
  cr_assert_eq(t.period, PH_PERIOD_DAY);
}

Test(topic, refuses_bad_topics_with_a_reason) {
  const char *bad[] = {
      "",
      "parkhub/v1",
      "parkhub/v2/p/e/a/status",
      "other/v1/p/e/a/status",
      "parkhub/v1/P/e/a/status",
      "parkhub/v1/p/e/a/ev/telemetry",
      "parkhub/v1/p/e/a/ev",
      "parkhub/v1/p/e/a/ev/process/extra",
      "parkhub/v1/p/e/+/status",
      "parkhub/v1/p/e/#",
      "parkhub/v1/p//a/status",
      "parkhub/v1/p/e/a/statuses",
      "parkhub/v1/p/hub/x",
      "parkhub/v1/p/alerts/urgent",
      "parkhub/v1/p/alerts",
      "parkhub/v1/p/cmd/nack",
      "parkhub/v1/p/rollup/week",
      "parkhub/v1/p/alarms/Bad",
      "parkhub/v1/p/e/a/status/",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct ph_topic t;
    struct ph_err err = {0};
    cr_assert_eq(ph_topic_parse(bad[i], strlen(bad[i]), &t, &err), PH_ETOPIC, "'%s' accepted", bad[i]);
    cr_assert_neq(err.msg[0], '\0', "'%s' refused without a reason", bad[i]);
  }
}

Test(topic, embedded_nul_and_overlong_are_refused) {
  struct ph_topic t;
  cr_assert_eq(ph_topic_parse("parkhub/v1/p\0/e/a/status", 24, &t, NULL), PH_ETOPIC);
  char big[PH_TOPIC_MAX + 10];
  memset(big, 'a', sizeof big);
  cr_assert_eq(ph_topic_parse(big, sizeof big, &t, NULL), PH_ETOPIC);
}

Test(topic, build_refuses_bad_ids_and_short_buffers) {
  char buf[PH_TOPIC_MAX];
  cr_assert_eq(ph_topic_agent(buf, sizeof buf, PH_TOPIC_STATUS, "p", "hub", "a", PH_KIND_PROCESS), PH_EINVAL,
               "reserved word as enterprise");
  cr_assert_eq(ph_topic_agent(buf, sizeof buf, PH_TOPIC_STATUS, "p", "e", "A", PH_KIND_PROCESS), PH_EINVAL);
  cr_assert_eq(ph_topic_agent(buf, 10, PH_TOPIC_STATUS, "p", "e", "a", PH_KIND_PROCESS), PH_EFULL);
  cr_assert_eq(ph_topic_agent(buf, sizeof buf, PH_TOPIC_EVENT, "p", "e", "a", PH_KIND_MATERIAL), 0);
  cr_assert_str_eq(buf, "parkhub/v1/p/e/a/ev/material");
}
