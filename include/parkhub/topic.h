/* topic.h — builds and parses every MQTT topic of DESIGN.md:
 *
 *   parkhub/v1/{park}/{ent}/{agent}/ev/{kind}   PH_TOPIC_EVENT
 *   parkhub/v1/{park}/{ent}/{agent}/status      PH_TOPIC_STATUS
 *   parkhub/v1/{park}/{ent}/{agent}/ack         PH_TOPIC_ACK
 *   parkhub/v1/{park}/hub                       PH_TOPIC_HUB
 *   parkhub/v1/{park}/alerts/{severity}         PH_TOPIC_ALERTS
 *   parkhub/v1/{park}/alarms/{alarm_id}         PH_TOPIC_ALARMS
 *   parkhub/v1/{park}/cmd/ack                   PH_TOPIC_CMD_ACK
 *   parkhub/v1/{park}/rollup/{period}           PH_TOPIC_ROLLUP
 *
 * Every id is checked against ids.h; parse refuses anything else with
 * PH_ETOPIC and a message naming the bad level. */
#ifndef PARKHUB_TOPIC_H
#define PARKHUB_TOPIC_H

#include <stddef.h>

#include "parkhub/err.h"
#include "parkhub/ids.h"
#include "parkhub/kind.h"

#define PH_TOPIC_PREFIX "parkhub/v1/"
#define PH_TOPIC_MAX 320 /* longest topic we build or accept, with NUL */

enum ph_topic_type {
  PH_TOPIC_EVENT,
  PH_TOPIC_STATUS,
  PH_TOPIC_ACK,
  PH_TOPIC_HUB,
  PH_TOPIC_ALERTS,
  PH_TOPIC_ALARMS,
  PH_TOPIC_CMD_ACK,
  PH_TOPIC_ROLLUP,
};

enum ph_severity { PH_SEV_CRITICAL, PH_SEV_MAJOR, PH_SEV_MINOR, PH_SEV_WARNING };
enum ph_period { PH_PERIOD_MINUTE, PH_PERIOD_HOUR, PH_PERIOD_DAY };

struct ph_topic {
  enum ph_topic_type type;
  char park[PH_ID_MAX + 1];
  char ent[PH_ID_MAX + 1];      /* EVENT, STATUS, ACK */
  char agent[PH_ID_MAX + 1];    /* EVENT, STATUS, ACK */
  enum ph_kind kind;            /* EVENT */
  enum ph_severity severity;    /* ALERTS */
  char alarm_id[PH_ID_MAX + 1]; /* ALARMS */
  enum ph_period period;        /* ROLLUP */
};

/* s need not be NUL-terminated (Paho hands topics with a length). */
int ph_topic_parse(const char *s, size_t len, struct ph_topic *out, struct ph_err *err);
/* Writes the topic into buf; PH_EINVAL on a bad id, PH_EFULL when cap is short. */
int ph_topic_build(const struct ph_topic *t, char *buf, size_t cap);

/* Convenience builders for the per-agent topics. */
int ph_topic_agent(char *buf, size_t cap, enum ph_topic_type type, const char *park,
                   const char *ent, const char *agent, enum ph_kind kind);

const char *ph_severity_name(enum ph_severity s);
int ph_severity_parse(const char *s, size_t len, enum ph_severity *out);
const char *ph_period_name(enum ph_period p);
int ph_period_parse(const char *s, size_t len, enum ph_period *out);

#endif
