/* hub_config.h — parkhub's configuration (schemas/hub-config.schema.json):
 * MQTT, database and retention, ingest limits, and the parks it serves with
 * their enterprises (sector, plant class, agents, expected record rate).
 * Loading checks every key and that no agent id is claimed twice in a park. */
#ifndef PARKHUB_HUB_CONFIG_H
#define PARKHUB_HUB_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "parkhub/err.h"
#include "parkhub/ids.h"
#include "parkhub/limits.h" /* enum ph_sector, enum ph_plant_class */
#include "parkhub/mqttconf.h"

#define PH_HUB_MAX_PARKS 64
#define PH_HUB_MAX_ENTS 1000
#define PH_HUB_MAX_AGENTS 64


struct ph_hub_ent {
  char id[PH_ID_MAX + 1];
  char name[128];
  int sector;      /* enum ph_sector */
  int plant_class; /* enum ph_plant_class */
  char class_since[16];
  bool special_limits;
  double expected_interval_s;
  char agents[PH_HUB_MAX_AGENTS][PH_ID_MAX + 1];
  int nagents;
};

struct ph_hub_park {
  char id[PH_ID_MAX + 1];
  char name[128];
  char tz[64];
  struct ph_hub_ent *ents; /* owned */
  int nents;
};

struct ph_hub_config {
  char hub_id[PH_ID_MAX + 1];
  struct ph_mqtt_conf mqtt;
  char db_path[512];
  int64_t retention_days, min_free_mb;
  int64_t max_future_s, max_age_days, queue_batches, group_max;
  int log_level;
  struct ph_hub_park parks[PH_HUB_MAX_PARKS];
  int nparks;
};

int ph_hub_config_load(const char *path, struct ph_hub_config *c, struct ph_err *err);
void ph_hub_config_fini(struct ph_hub_config *c);
void ph_hub_config_help(FILE *out);

/* Lookups; NULL when absent. */
const struct ph_hub_park *ph_hub_config_park(const struct ph_hub_config *c, const char *park);
const struct ph_hub_ent *ph_hub_config_ent(const struct ph_hub_park *p, const char *ent);
bool ph_hub_ent_has_agent(const struct ph_hub_ent *e, const char *agent);

#endif
