/* fuzz_topic.c — libFuzzer target: the MQTT topic parser (common/topic.c,
 * parkhub/topic.h) on any bytes, as the hub's Paho callback hands a topic
 * (with a length, not NUL-terminated), and the severity and period words.
 *
 * Oracle besides the sanitizers: a refusal is PH_ETOPIC and says why; a
 * topic that parses builds back (ph_topic_build) to exactly the same bytes
 * (the grammar has one spelling per topic, so the hub and the agents agree
 * on what a topic names); every id it holds is an id (ids.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parkhub/ids.h"
#include "parkhub/topic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ids(const struct ph_topic *t) {
  if (!ph_id_valid_z(t->park)) abort();
  switch (t->type) {
  case PH_TOPIC_EVENT:
  case PH_TOPIC_STATUS:
  case PH_TOPIC_ACK:
    if (!ph_id_valid_z(t->ent) || !ph_id_valid_z(t->agent)) abort();
    break;
  case PH_TOPIC_ALARMS:
    if (!ph_id_valid_z(t->alarm_id)) abort();
    break;
  default:
    break;
  }
}

/* a word accepted is spelled exactly as its name */
static int same(const char *name, const char *s, size_t n) { return strlen(name) == n && !memcmp(name, s, n); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* a copy of exactly size bytes: the parser must not read past len */
  char *s = malloc(size ? size : 1);
  if (!s) return 0;
  memcpy(s, data, size);
  struct ph_topic t;
  struct ph_err err = {0};
  int rc = ph_topic_parse(s, size, &t, &err);
  if (rc) {
    if (rc != PH_ETOPIC || !err.msg[0]) abort();
  } else {
    check_ids(&t);
    char back[PH_TOPIC_MAX];
    if (ph_topic_build(&t, back, sizeof back)) abort();
    if (strlen(back) != size || memcmp(back, s, size) != 0) abort();
  }
  enum ph_severity sev;
  if (!ph_severity_parse(s, size, &sev) && !same(ph_severity_name(sev), s, size)) abort();
  enum ph_period per;
  if (!ph_period_parse(s, size, &per) && !same(ph_period_name(per), s, size)) abort();
  free(s);
  return 0;
}
