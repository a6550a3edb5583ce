/* hub_config.h — parkhub's configuration (schemas/hub-config.schema.json):
 * MQTT, database and retention, ingest limits, the HTTP API (api_conf.h), and the parks it serves with
 * their enterprises (sector, plant class, agents, expected record rate, and
 * what compliance and the dioxin inventory need: standard, dated UNEP
 * Toolkit class, baseline, stack-test interval), and each park's materials
 * (materials.h: codes, names, roles, default metal content; checked against
 * the built-in catalogue). Loading checks every key.
 * An agent is identified by (park, enterprise, agent id): the same id may
 * name a gateway at two enterprises, never twice within one. */
#ifndef PARKHUB_HUB_CONFIG_H
#define PARKHUB_HUB_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config/api_conf.h" /* struct ph_api_conf: the "http" object */
#include "parkhub/cfgmap.h" /* struct ph_cfg_problems, ph_cfg_changes */
#include "parkhub/err.h"
#include "parkhub/ids.h"
#include "parkhub/lang.h"
#include "parkhub/limits.h" /* enum ph_sector, enum ph_plant_class */
#include "config/materials.h"
#include "parkhub/mqttconf.h"

#define PH_HUB_MAX_PARKS 64
#define PH_HUB_MAX_ENTS 1000
#define PH_HUB_MAX_AGENTS 64
#define PH_HUB_MAX_POINT_INTERVALS 64
#define PH_HUB_MAX_CLASSES 16
#define PH_HUB_MAX_LIMIT_FILES 8
#define PH_HUB_MAX_SECTIONS 16 /* top-level keys whose JSON is hashed for SIGHUP */

enum ph_dioxin_conc { PH_DIOXIN_LATEST, PH_DIOXIN_MEAN };

struct ph_point_interval {
  char point[PH_ID_MAX + 1];
  double interval_s;
};

/* A point's own monitoring period (local dates, "" = the enterprise's). */
struct ph_point_monitoring {
  char point[PH_ID_MAX + 1];
  char since[16], until[16];
};

/* What a point measures (issue #20): an air stack or a water outlet; a
 * water outlet discharges directly (to a water body) or indirectly (to a
 * public or park sewage plant), which selects the GB 31574-2015 water
 * limit column. A point not declared is PH_MEDIUM_UNSET: the hub treats it
 * as before (air stack figures from its air metrics). */
enum ph_medium { PH_MEDIUM_UNSET = 0, PH_MEDIUM_AIR, PH_MEDIUM_WATER };
enum ph_discharge { PH_DISCHARGE_NONE = 0, PH_DISCHARGE_DIRECT, PH_DISCHARGE_INDIRECT };

struct ph_point_medium {
  char point[PH_ID_MAX + 1];
  int medium;    /* enum ph_medium, never UNSET once loaded */
  int discharge; /* enum ph_discharge: set for water, NONE for air */
};

/* UNEP Toolkit source class of the enterprise from a date (a plant that
 * upgrades changes class; a year with a change is split at it). */
struct ph_dated_class {
  int toolkit_class; /* 1..6, copper category 2d */
  char since[16];    /* YYYY-MM-DD */
};

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
  /* compliance and inventory */
  char standard[PH_ID_MAX + 1];   /* limits file by its "standard" id */
  struct ph_point_interval point_intervals[PH_HUB_MAX_POINT_INTERVALS]; /* overrides expected_interval_s */
  int npoint_intervals;
  struct ph_dated_class classes[PH_HUB_MAX_CLASSES]; /* sorted by date */
  int nclasses;
  int64_t baseline_year;          /* 0: none */
  double baseline_pcdd_f_g_teq;   /* < 0: compute from the baseline year's data */
  int64_t stack_test_interval_days;
  /* the last PCDD/F stack test before the hub's records (local date, "" none):
   * the overdue rule and the monitoring plan count from it until a later
   * test is recorded (pcdd_f data, or one entered over the API) */
  char last_stack_test[16];
  long last_stack_test_day; /* its days since 1970-01-01; 0: none */
  int pcdd_f_concentration;       /* enum ph_dioxin_conc */
  /* monitoring period (monitoring.h): local dates, "" = from the first data / open-ended */
  char monitoring_since[16], monitoring_until[16];
  struct ph_point_monitoring point_monitoring[PH_HUB_MAX_POINT_INTERVALS];
  int npoint_monitoring;
  /* point medium (air stack / water outlet) and a water outlet's discharge type */
  struct ph_point_medium point_media[PH_HUB_MAX_POINT_INTERVALS];
  int npoint_media;
  int64_t max_seq_ahead;          /* seq/oldest further ahead of the hub's upto: refused (PH_ESEQAHEAD) */
};

struct ph_hub_park {
  char id[PH_ID_MAX + 1];
  char name[128];
  char tz[64];
  int lang;      /* enum ph_lang when lang_set; read it through ph_park_lang */
  bool lang_set; /* the config gave "lang" */
  char rules_file[512]; /* alarm rules (schemas/rules.schema.json); "" = none */
  struct ph_materials materials; /* the park's declared materials (materials.h); zeroed: catalogue only */
  struct ph_hub_ent *ents; /* owned */
  int nents;
  /* the park's facts as configured (its object less rules_file, a host's
   * path), hashed whatever the key order: a park hub forwards it, a
   * regional hub compares it with its own (docs/wire.md, Federation) */
  char fingerprint[17];
};

/* Federation (issue #21). park: the hub stores its agents' data and may
 * forward upstream; regional: the hub stores what park hubs forward (its
 * parks' upward topics) and never runs the agents' ingest for them. */
enum ph_hub_role { PH_HUB_ROLE_PARK, PH_HUB_ROLE_REGIONAL };

#define PH_UP_MAX_FORWARD 16
/* The tables a park hub can forward (upstream.forward), NULL-terminated;
 * hub/federation/up_rows.c knows each of them. */
extern const char *const ph_upstream_tables[];

/* "upstream": the regional hub's broker (its own connection, node list,
 * credentials and TLS, as "mqtt"), what to forward, batch size and batches
 * in flight. on: the key was given. */
struct ph_upstream_conf {
  bool on;
  struct ph_mqtt_conf mqtt;
  char forward[PH_UP_MAX_FORWARD][PH_ID_MAX + 1];
  int nforward;
  int64_t batch_records, inflight;
};

struct ph_hub_config {
  char hub_id[PH_ID_MAX + 1];
  int role; /* enum ph_hub_role */
  struct ph_upstream_conf upstream;
  struct ph_mqtt_conf mqtt;
  char path[512];    /* the file it was loaded from (SIGHUP reads it again) */
  char db_path[512];
  int64_t retention_days, min_free_mb;
  int64_t max_size_mb; /* hard cap of the database file (SQLite max_page_count); 0: none */
  /* the rejects table: age, size (MB; percent of max_size_mb), rows stored per identity per minute */
  int64_t rejects_keep_days, rejects_max_mb, rejects_max_pct, rejects_per_min;
  int64_t max_future_s, max_age_days, queue_batches, group_max;
  int log_level;
  struct ph_hub_park parks[PH_HUB_MAX_PARKS];
  int nparks;
  char limit_files[PH_HUB_MAX_LIMIT_FILES][512]; /* more standards besides the built-in GB 31574-2015 */
  int nlimit_files;
  char factors_file[512];                        /* "" = built-in UNEP Toolkit table */
  double inventory_min_share; /* annualise a PCDD/F figure only from this monitored share of the year */
  struct ph_api_conf http;                       /* HTTP API and dashboard; http.enabled false: none */
  uint64_t section_hash[PH_HUB_MAX_SECTIONS];    /* per top-level key, its JSON text's hash (SIGHUP) */
};

int ph_hub_config_load(const char *path, struct ph_hub_config *c, struct ph_err *err);
/* --check-config: loads like ph_hub_config_load but notes every problem in
 * pr (messages "json.path: reason") and goes on; PH_ECONFIG when any.
 * Call ph_hub_config_fini afterwards either way. */
int ph_hub_config_check(const char *path, struct ph_hub_config *c, struct ph_cfg_problems *pr);
/* SIGHUP: every key whose value differs from a to b, with its reload flag;
 * an object or array key (mqtt, parks, http, limit_files) as a whole. */
void ph_hub_config_diff(const struct ph_hub_config *a, const struct ph_hub_config *b, struct ph_cfg_changes *out);
/* Copies one scalar key's value ("db.max_size_mb") from src to dst, once
 * SIGHUP applied it; PH_EINVAL for an object or array key ("mqtt"),
 * PH_ENOTFOUND for no such key. */
int ph_hub_config_adopt(struct ph_hub_config *dst, const struct ph_hub_config *src, const char *key);
void ph_hub_config_fini(struct ph_hub_config *c);
void ph_hub_config_help(FILE *out);

/* Lookups; NULL when absent. */
const struct ph_hub_park *ph_hub_config_park(const struct ph_hub_config *c, const char *park);
const struct ph_hub_ent *ph_hub_config_ent(const struct ph_hub_park *p, const char *ent);
bool ph_hub_ent_has_agent(const struct ph_hub_ent *e, const char *agent);
/* Seconds between records of a point: its override or the enterprise's. */
double ph_hub_point_interval(const struct ph_hub_ent *e, const char *point);
/* The point's declared medium (PH_MEDIUM_UNSET when not declared); its
 * discharge type in *discharge when not NULL (PH_DISCHARGE_NONE unless water). */
enum ph_medium ph_hub_point_medium(const struct ph_hub_ent *e, const char *point, enum ph_discharge *discharge);
const char *ph_medium_name(enum ph_medium m);       /* "air", "water", "unset" */
const char *ph_discharge_name(enum ph_discharge d); /* "direct", "indirect", "none" */
/* The park's language (issue #18): its "lang", else by its zone
 * (ph_lang_for_tz). What the dashboard opens in, what chat webhooks without
 * their own "lang" speak, and the annual report's default. */
enum ph_lang ph_park_lang(const struct ph_hub_park *p);
/* A reader's language: the token's "lang" (t may be NULL), else the park's. */
enum ph_lang ph_reader_lang(const struct ph_api_token *t, const struct ph_hub_park *p);
/* "zh-CN", "en": the config words of a "lang" key, in enum ph_lang order. */
extern const char *const ph_hub_lang_words[];
/* Toolkit class in force on local date day (days since 1970); 0 when none. */
int ph_hub_ent_class_on(const struct ph_hub_ent *e, long day);

#endif
