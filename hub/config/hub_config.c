/* hub_config.c — loads hub.json into struct ph_hub_config; every problem is
 * reported as "file: json.path: reason". Callers: main (start, and
 * --check-config through ph_hub_config_check), the hub's SIGHUP (load, then
 * ph_hub_config_diff / ph_hub_config_adopt), the report. One thread: the
 * caller's; no state of its own.
 *
 * Invariants:
 *  1. At start the first problem stops the load; in check mode (a problem
 *     list) every object is checked and a refused park or enterprise does
 *     not stop its siblings (cfgmap.h inv. 1).
 *  2. Each key's table entry carries its reload flag; only db.max_size_mb
 *     and log_level are PH_CFG_RELOAD: the writer and the loggers read them
 *     atomically. Every other value is read by running threads without a
 *     lock and waits for a restart. */
#include "config/hub_config.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "parkhub/catalog.h"
#include "parkhub/batch.h" /* PH_OUTBOX_MAX_BATCHES_DEFAULT */
#include "parkhub/cfgmap.h"
#include "parkhub/jsonfile.h"
#include "parkhub/timefmt.h"
#include "parkhub/tz.h"

static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const sectors[] = {"cu", "al", "pb", "zn", NULL};
static const char *const classes[] = {"existing", "new", NULL};
static const char *const dioxin_conc[] = {"latest", "mean", NULL};
static const char *const roles[] = {"park", "regional", NULL}; /* enum ph_hub_role */
const char *const ph_upstream_tables[] = {"cems_hours", "cems_days", "cems_agg_days", "rollups", "cems_op_hours",
                                          "cems_ent_days", "cems_ent_op_hours", "materials", "exceedances", "stack_tests",
                                          "alarms", "alarm_occurrences", "alarm_log", "stack_test_dates", "agent_status",
                                          "agent_events", NULL};

#define F(T, field) offsetof(struct T, field), sizeof(((struct T *)0)->field)
#define N(T, field) offsetof(struct T, field), 0

static const struct ph_cfgmap top_map[] = {
    {"hub_id", PH_CFG_ID, true, F(ph_hub_config, hub_id), 0, 0, NULL, NULL, "this hub's id"},
    {"mqtt", PH_CFG_OBJECT, true, 0, 0, 0, 0, NULL, NULL, "broker connection (object, below)"},
    {"db", PH_CFG_OBJECT, true, 0, 0, 0, 0, NULL, NULL, "database (object, below)"},
    {"ingest", PH_CFG_OBJECT, false, 0, 0, 0, 0, NULL, NULL, "ingest limits (object, below)"},
    {"parks", PH_CFG_ARRAY, true, 0, 0, 0, 0, NULL, NULL, "the parks served (array, below)"},
    {"limit_files", PH_CFG_ARRAY, false, 0, 0, 0, 0, NULL, NULL, "paths of more emission standards (limits files)"},
    {"factors_file", PH_CFG_STR, false, F(ph_hub_config, factors_file), 0, 0, NULL, NULL,
     "UNEP Toolkit emission-factor table (default: built in)"},
    {"inventory_min_share", PH_CFG_DBL, false, N(ph_hub_config, inventory_min_share), 0.01, 1, "0.75", NULL,
     "an annual PCDD/F figure extrapolated from part of a year is given only when the monitored share of the year "
     "reaches this (below: not available)"},
    {"http", PH_CFG_OBJECT, false, 0, 0, 0, 0, NULL, NULL, "HTTP API and dashboard (object, below; omitted: off)"},
    {"log_level", PH_CFG_ENUM, PH_CFG_RELOAD, N(ph_hub_config, log_level), 0, 0, "info", levels, "log detail"},
    {"role", PH_CFG_ENUM, false, N(ph_hub_config, role), 0, 0, "park", roles,
     "park: stores its agents' data; regional: stores what park hubs forward (docs/wire.md, Federation)"},
    {"upstream", PH_CFG_OBJECT, false, 0, 0, 0, 0, NULL, NULL,
     "forward figures to a regional hub (object, below; omitted: none)"},
    PH_CFG_END,
};
static const struct ph_cfgmap upstream_map[] = {
    {"mqtt", PH_CFG_OBJECT, true, 0, 0, 0, 0, NULL, NULL,
     "the regional hub's broker: uris, client_id, username, password, tls, connect_timeout_ms (as mqtt)"},
    {"forward", PH_CFG_ARRAY, false, 0, 0, 0, 0, NULL, NULL,
     "tables forwarded (default all): cems_hours cems_days cems_agg_days rollups cems_op_hours cems_ent_days"
     " cems_ent_op_hours materials exceedances stack_tests alarms alarm_occurrences alarm_log stack_test_dates"
     " agent_status agent_events"},
    {"batch_records", PH_CFG_INT, false, N(ph_upstream_conf, batch_records), 1, 256, "256", NULL,
     "changes per upward batch"},
    {"inflight", PH_CFG_INT, false, N(ph_upstream_conf, inflight), 1, 64, "8", NULL,
     "upward batches sent and not yet acked"},
    PH_CFG_END,
};
static const struct ph_cfgmap db_map[] = {
    {"path", PH_CFG_STR, true, F(ph_hub_config, db_path), 0, 0, NULL, NULL, "SQLite database file"},
    {"retention_days", PH_CFG_INT, false, N(ph_hub_config, retention_days), 1, 3650, "90", NULL,
     "raw samples older than this are removed (rollups are kept)"},
    {"min_free_mb", PH_CFG_INT, false, N(ph_hub_config, min_free_mb), 0, 10000000, "512", NULL,
     "warn when the database's disk has less free space"},
    {"max_size_mb", PH_CFG_INT, PH_CFG_RELOAD, N(ph_hub_config, max_size_mb), 0, 10000000, "0", NULL,
     "hard cap of the database file in MB (0: none); when reached the hub stops acking and retries, like a full "
     "disk"},
    {"rejects_keep_days", PH_CFG_INT, false, N(ph_hub_config, rejects_keep_days), 1, 3650, "7", NULL,
     "refused batches (the rejects table) older than this are deleted"},
    {"rejects_max_mb", PH_CFG_INT, false, N(ph_hub_config, rejects_max_mb), 1, 10000000, "64", NULL,
     "the rejects table holds at most this many MB (each row counted at its largest, 1 KiB); the oldest go first"},
    {"rejects_max_pct", PH_CFG_INT, false, N(ph_hub_config, rejects_max_pct), 1, 100, "10", NULL,
     "with max_size_mb, the rejects table holds at most this share of it (percent); when the database is full "
     "the rejects are deleted before acks stop"},
    {"rejects_per_agent_per_min", PH_CFG_INT, false, N(ph_hub_config, rejects_per_min), 1, 1000000, "60", NULL,
     "refused batches stored per topic identity (park/ent/agent; anything else shares one) per minute; the rest "
     "are counted (/metrics) and summarised in the log, not stored"},
    PH_CFG_END,
};
static const struct ph_cfgmap ingest_map[] = {
    {"max_future_s", PH_CFG_INT, false, N(ph_hub_config, max_future_s), 0, 86400, "300", NULL,
     "refuse records stamped further ahead of the hub's clock"},
    {"max_age_days", PH_CFG_INT, false, N(ph_hub_config, max_age_days), 1, 3650, "400", NULL,
     "refuse records older than this"},
    {"queue_batches", PH_CFG_INT, false, N(ph_hub_config, queue_batches), 16, 100000, "1024", NULL,
     "batches waiting for the writer at most (back-pressure beyond)"},
    {"group_max", PH_CFG_INT, false, N(ph_hub_config, group_max), 1, 10000, "256", NULL,
     "batches committed in one transaction at most"},
    PH_CFG_END,
};
static const struct ph_cfgmap park_map[] = {
    {"id", PH_CFG_ID, true, F(ph_hub_park, id), 0, 0, NULL, NULL, "park id"},
    {"name", PH_CFG_STR, false, F(ph_hub_park, name), 0, 0, NULL, NULL, "display name"},
    {"tz", PH_CFG_STR, false, F(ph_hub_park, tz), 0, 0, "Asia/Shanghai", NULL,
     "time zone of the park's regulatory hours and days"},
    {"lang", PH_CFG_ENUM, false, F(ph_hub_park, lang), 0, 0, NULL, ph_hub_lang_words,
     "what its people read (dashboard, chat webhooks, report); omitted: zh-CN in Chinese zones, else en"},
    {"enterprises", PH_CFG_ARRAY, true, 0, 0, 0, 0, NULL, NULL, "the park's enterprises (below)"},
    {"rules_file", PH_CFG_STR, false, F(ph_hub_park, rules_file), 0, 0, NULL, NULL,
     "alarm rules and webhooks of the park (schemas/rules.schema.json)"},
    {"materials", PH_CFG_ARRAY, false, 0, 0, 0, 0, NULL, NULL,
     "the park's material codes (below); the built-in catalogue's materials are the defaults, any other "
     "code is stored as unclassified"},
    PH_CFG_END,
};
static const struct ph_cfgmap ent_map[] = {
    {"id", PH_CFG_ID, true, F(ph_hub_ent, id), 0, 0, NULL, NULL, "enterprise id"},
    {"name", PH_CFG_STR, false, F(ph_hub_ent, name), 0, 0, NULL, NULL, "display name"},
    {"sector", PH_CFG_ENUM, true, N(ph_hub_ent, sector), 0, 0, NULL, sectors, "GB 31574-2015 sector"},
    {"class", PH_CFG_ENUM, true, N(ph_hub_ent, plant_class), 0, 0, NULL, classes, "plant class"},
    {"class_since", PH_CFG_STR, false, F(ph_hub_ent, class_since), 0, 0, NULL, NULL, "YYYY-MM-DD"},
    {"special_limits", PH_CFG_BOOL, false, N(ph_hub_ent, special_limits), 0, 0, "false", NULL,
     "Table 4 special limits apply"},
    {"agents", PH_CFG_ARRAY, true, 0, 0, 0, 0, NULL, NULL, "ids of the enterprise's agents"},
    {"expected_interval_s", PH_CFG_DBL, false, N(ph_hub_ent, expected_interval_s), 0.001, 86400, "10", NULL,
     "seconds between records of a point, for data availability (60: minute data, 3600: hourly data)"},
    {"point_intervals", PH_CFG_OBJECT, false, 0, 0, 0, 0, NULL, NULL, "point → seconds, overriding expected_interval_s"},
    {"standard", PH_CFG_ID, false, F(ph_hub_ent, standard), 0, 0, "gb31574-2015", NULL, "emission standard (limits file)"},
    {"toolkit_class", PH_CFG_ARRAY, false, 0, 0, 0, 0, NULL, NULL,
     "{\"class\": 1..6, \"since\": \"YYYY-MM-DD\"}: UNEP Toolkit copper class over time"},
    {"baseline", PH_CFG_OBJECT, false, 0, 0, 0, 0, NULL, NULL,
     "{\"year\": Y} or {\"year\": Y, \"pcdd_f_g_teq\": G}: the PCDD/F baseline"},
    {"stack_test_interval_days", PH_CFG_INT, false, N(ph_hub_ent, stack_test_interval_days), 1, 3660, "365", NULL,
     "a PCDD/F stack test is due this long after the last"},
    {"last_stack_test", PH_CFG_STR, false, F(ph_hub_ent, last_stack_test), 0, 0, NULL, NULL,
     "YYYY-MM-DD: local date of the last PCDD/F stack test before the hub's records (a later recorded one wins)"},
    {"monitoring_since", PH_CFG_STR, false, F(ph_hub_ent, monitoring_since), 0, 0, NULL, NULL,
     "YYYY-MM-DD: first local day of monitoring (default: the hour of each point's first data)"},
    {"monitoring_until", PH_CFG_STR, false, F(ph_hub_ent, monitoring_until), 0, 0, NULL, NULL,
     "YYYY-MM-DD: last local day of monitoring (default: none, still monitored)"},
    {"point_monitoring", PH_CFG_OBJECT, false, 0, 0, 0, 0, NULL, NULL,
     "point → {\"since\": date, \"until\": date}, overriding the enterprise's monitoring period"},
    {"point_media", PH_CFG_OBJECT, false, 0, 0, 0, 0, NULL, NULL,
     "point → {\"medium\": \"air\"|\"water\", \"discharge\": \"direct\"|\"indirect\"}: an air "
     "stack or a water outlet; a water outlet needs its discharge type (direct: to a water body; indirect: to a "
     "public or park sewage plant), an air stack has none; undeclared points are treated as before"},
    {"max_seq_ahead", PH_CFG_INT, false, N(ph_hub_ent, max_seq_ahead), 1, 9007199254740991.0,
     PH_XSTR(PH_OUTBOX_MAX_BATCHES_DEFAULT), NULL,
     "the most batches its agents' outboxes hold (their outbox.max_batches): a batch whose seq or oldest is "
     "further ahead of what the hub holds is refused (PH_ESEQAHEAD) and does not move the ack"},
    {"pcdd_f_concentration", PH_CFG_ENUM, false, N(ph_hub_ent, pcdd_f_concentration), 0, 0, "latest", dioxin_conc,
     "stack-test concentration applied to a period: the latest test, or the mean of the year's tests"},
    PH_CFG_END,
};
#undef F
#undef N

static int date_ok(const char *s) {
  char ts[40];
  int64_t ms;
  snprintf(ts, sizeof ts, "%.16sT00:00:00Z", s);
  return strlen(s) == 10 && ph_time_parse(ts, strlen(ts), &ms) == 0;
}

static long date_day(const char *s) {
  char ts[40];
  int64_t ms = 0;
  snprintf(ts, sizeof ts, "%.16sT00:00:00Z", s);
  ph_time_parse(ts, strlen(ts), &ms);
  return (long)(ms / 86400000);
}

/* The loaders of an enterprise's maps and arrays below take pr: with it
 * (checking) each entry's problem is noted and the next entry is read
 * (README "Checking a config"); a problem of the whole (not a map, too
 * many entries) is returned for the caller to note. Without pr the first
 * problem is returned. */
static int load_point_intervals(const cJSON *o, const char *path, struct ph_hub_ent *e, struct ph_cfg_problems *pr,
                                struct ph_err *err) {
  if (!o) return 0;
  if (!cJSON_IsObject(o)) return ph_fail(err, PH_ECONFIG, "%s.point_intervals: must be an object of point → seconds", path);
  for (const cJSON *it = o->child; it; it = it->next) {
    if (e->npoint_intervals == PH_HUB_MAX_POINT_INTERVALS)
      return ph_fail(err, PH_ECONFIG, "%s.point_intervals: more than %d points", path, PH_HUB_MAX_POINT_INTERVALS);
    if (!ph_id_valid_z(it->string) || !cJSON_IsNumber(it) || !(it->valuedouble >= 0.001 && it->valuedouble <= 86400)) {
      int rc = ph_fail(err, PH_ECONFIG, "%s.point_intervals.%.64s: must map a point id to 0.001..86400 seconds", path,
                       it->string);
      if ((rc = ph_cfg_note(pr, rc, err))) return rc;
      continue; /* noted: the next entry */
    }
    struct ph_point_interval *pi = &e->point_intervals[e->npoint_intervals++];
    strcpy(pi->point, it->string);
    pi->interval_s = it->valuedouble;
  }
  return 0;
}

static int load_classes(const cJSON *a, const char *path, struct ph_hub_ent *e, struct ph_cfg_problems *pr,
                        struct ph_err *err) {
  if (!a) return 0;
  int n = cJSON_GetArraySize(a);
  if (!cJSON_IsArray(a) || n > PH_HUB_MAX_CLASSES)
    return ph_fail(err, PH_ECONFIG, "%s.toolkit_class: must be an array of at most %d {class, since}", path,
                   PH_HUB_MAX_CLASSES);
  const cJSON *it;
  int idx = 0, rc;
  cJSON_ArrayForEach(it, a) {
    const cJSON *cl = cJSON_GetObjectItemCaseSensitive(it, "class"), *since = cJSON_GetObjectItemCaseSensitive(it, "since");
    int k = e->nclasses, bad = 0;
    int64_t cls = 0;
    if (!cJSON_IsObject(it) || cJSON_GetArraySize(it) != 2 || !ph_json_int(cl, 1, 6, &cls) || !cJSON_IsString(since) ||
        !date_ok(since->valuestring))
      bad = ph_fail(err, PH_ECONFIG, "%s.toolkit_class[%d]: needs exactly \"class\" (1..6) and \"since\" (YYYY-MM-DD)",
                    path, idx);
    else if (k && date_day(since->valuestring) <= date_day(e->classes[k - 1].since))
      bad = ph_fail(err, PH_ECONFIG, "%s.toolkit_class[%d]: dates must increase", path, idx);
    idx++;
    if (bad) {
      if ((rc = ph_cfg_note(pr, bad, err))) return rc; /* without pr: the first problem stops */
      continue;                                       /* noted: the next entry */
    }
    e->classes[k].toolkit_class = (int)cls;
    snprintf(e->classes[k].since, sizeof e->classes[k].since, "%s", since->valuestring);
    e->nclasses++;
  }
  return 0;
}

static int load_baseline(const cJSON *o, const char *path, struct ph_hub_ent *e, struct ph_err *err) {
  e->baseline_pcdd_f_g_teq = -1;
  if (!o) return 0;
  const cJSON *y = cJSON_GetObjectItemCaseSensitive(o, "year"), *g = cJSON_GetObjectItemCaseSensitive(o, "pcdd_f_g_teq");
  int keys = cJSON_GetArraySize(o);
  int64_t year = 0;
  if (!cJSON_IsObject(o) || !ph_json_int(y, 1990, 2200, &year) || (g && (!cJSON_IsNumber(g) || !(g->valuedouble >= 0))) ||
      keys != 1 + (g != NULL))
    return ph_fail(err, PH_ECONFIG, "%s.baseline: must be {\"year\": 1990..2200} with an optional \"pcdd_f_g_teq\" ≥ 0",
                   path);
  e->baseline_year = year;
  if (g) e->baseline_pcdd_f_g_teq = g->valuedouble;
  return 0;
}

static int check_date(const char *d, const char *path, const char *key, struct ph_err *err) {
  if (d[0] && !date_ok(d)) return ph_fail(err, PH_ECONFIG, "%s.%s: '%s' is not a date YYYY-MM-DD", path, key, d);
  return 0;
}

/* The last stack test: a date, and not after today anywhere on Earth (UTC+14
 * is the first zone into a day): the check runs before the park's zone
 * is at hand, and a day ahead in one zone is today in another. */
static int check_last_test(struct ph_hub_ent *e, const char *path, struct ph_err *err) {
  if (!e->last_stack_test[0]) return 0;
  if (!date_ok(e->last_stack_test))
    return ph_fail(err, PH_ECONFIG, "%s.last_stack_test: '%s' is not a date YYYY-MM-DD", path, e->last_stack_test);
  long day = date_day(e->last_stack_test), latest = (long)((ph_now_ms() + 14 * 3600000LL) / 86400000);
  if (day > latest)
    return ph_fail(err, PH_ECONFIG, "%s.last_stack_test: %s is in the future", path, e->last_stack_test);
  e->last_stack_test_day = day;
  return 0;
}

static int check_period(const char *since, const char *until, const char *path, struct ph_err *err) {
  if (since[0] && until[0] && date_day(until) < date_day(since))
    return ph_fail(err, PH_ECONFIG, "%s: monitoring until %s is before since %s", path, until, since);
  return 0;
}

/* One point's {since, until}: into *pm, or the entry's problem. */
static int load_one_period(const cJSON *it, const char *ppath, struct ph_point_monitoring *pm, struct ph_err *err) {
  if (!ph_id_valid_z(it->string) || !cJSON_IsObject(it))
    return ph_fail(err, PH_ECONFIG, "%s: must map a point id to {\"since\": date, \"until\": date}", ppath);
  snprintf(pm->point, sizeof pm->point, "%s", it->string);
  const cJSON *k;
  cJSON_ArrayForEach(k, it) {
    char *dst = strcmp(k->string, "since") == 0 ? pm->since : strcmp(k->string, "until") == 0 ? pm->until : NULL;
    if (!dst) return ph_fail(err, PH_ECONFIG, "%s.%.32s: unknown key (since, until)", ppath, k->string);
    if (!cJSON_IsString(k) || strlen(k->valuestring) != 10 || !date_ok(k->valuestring))
      return ph_fail(err, PH_ECONFIG, "%s.%s: must be a date YYYY-MM-DD", ppath, k->string);
    snprintf(dst, sizeof pm->since, "%s", k->valuestring);
  }
  return check_period(pm->since, pm->until, ppath, err);
}

static int load_point_monitoring(const cJSON *o, const char *path, struct ph_hub_ent *e, struct ph_cfg_problems *pr,
                                 struct ph_err *err) {
  if (!o) return 0;
  if (!cJSON_IsObject(o))
    return ph_fail(err, PH_ECONFIG, "%s.point_monitoring: must be an object of point → {since, until}", path);
  const cJSON *it;
  cJSON_ArrayForEach(it, o) {
    char ppath[160];
    snprintf(ppath, sizeof ppath, "%s.point_monitoring.%.64s", path, it->string);
    if (e->npoint_monitoring == PH_HUB_MAX_POINT_INTERVALS)
      return ph_fail(err, PH_ECONFIG, "%s.point_monitoring: more than %d points", path, PH_HUB_MAX_POINT_INTERVALS);
    struct ph_point_monitoring pm = {0};
    int rc = load_one_period(it, ppath, &pm, err);
    if (!rc) e->point_monitoring[e->npoint_monitoring++] = pm;
    else if ((rc = ph_cfg_note(pr, rc, err))) return rc; /* with pr: noted, the next entry */
  }
  return 0;
}

/* One point's {medium, discharge}: into *pm, or the entry's problem. */
static int load_one_medium(const cJSON *it, const char *ppath, struct ph_point_medium *pm, struct ph_err *err) {
  *pm = (struct ph_point_medium){.medium = PH_MEDIUM_UNSET, .discharge = PH_DISCHARGE_NONE};
  if (!ph_id_valid_z(it->string) || !cJSON_IsObject(it))
    return ph_fail(err, PH_ECONFIG, "%s: must map a point id to {\"medium\": …, \"discharge\": …}", ppath);
  const cJSON *k;
  cJSON_ArrayForEach(k, it) {
    if (strcmp(k->string, "medium") && strcmp(k->string, "discharge"))
      return ph_fail(err, PH_ECONFIG, "%s.%.32s: unknown key (medium, discharge)", ppath, k->string);
  }
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(it, "medium"), *d = cJSON_GetObjectItemCaseSensitive(it, "discharge");
  *pm = (struct ph_point_medium){.medium = PH_MEDIUM_UNSET, .discharge = PH_DISCHARGE_NONE};
  snprintf(pm->point, sizeof pm->point, "%s", it->string);
  if (cJSON_IsString(m) && strcmp(m->valuestring, "air") == 0) pm->medium = PH_MEDIUM_AIR;
  else if (cJSON_IsString(m) && strcmp(m->valuestring, "water") == 0) pm->medium = PH_MEDIUM_WATER;
  else return ph_fail(err, PH_ECONFIG, "%s.medium: must be \"air\" (a stack) or \"water\" (an outlet)", ppath);
  if (d && pm->medium == PH_MEDIUM_AIR)
    return ph_fail(err, PH_ECONFIG, "%s.discharge: an air stack has no discharge type (only water outlets)", ppath);
  if (pm->medium == PH_MEDIUM_WATER) {
    if (cJSON_IsString(d) && strcmp(d->valuestring, "direct") == 0) pm->discharge = PH_DISCHARGE_DIRECT;
    else if (cJSON_IsString(d) && strcmp(d->valuestring, "indirect") == 0) pm->discharge = PH_DISCHARGE_INDIRECT;
    else
      return ph_fail(err, PH_ECONFIG,
                     "%s.discharge: a water outlet needs \"direct\" (to a water body) or \"indirect\" (to a "
                     "sewage plant)",
                     ppath);
  }
  return 0;
}

static int load_point_media(const cJSON *o, const char *path, struct ph_hub_ent *e, struct ph_cfg_problems *pr,
                            struct ph_err *err) {
  if (!o) return 0;
  if (!cJSON_IsObject(o))
    return ph_fail(err, PH_ECONFIG, "%s.point_media: must be an object of point → {medium, discharge}", path);
  const cJSON *it;
  cJSON_ArrayForEach(it, o) {
    char ppath[160];
    snprintf(ppath, sizeof ppath, "%s.point_media.%.64s", path, it->string);
    if (e->npoint_media == PH_HUB_MAX_POINT_INTERVALS)
      return ph_fail(err, PH_ECONFIG, "%s.point_media: more than %d points", path, PH_HUB_MAX_POINT_INTERVALS);
    struct ph_point_medium pm;
    int rc = load_one_medium(it, ppath, &pm, err);
    if (!rc) e->point_media[e->npoint_media++] = pm;
    else if ((rc = ph_cfg_note(pr, rc, err))) return rc; /* with pr: noted, the next entry */
  }
  return 0;
}

static int check_class_since(const struct ph_hub_ent *e, const char *path, struct ph_err *err) {
  if (!e->class_since[0]) return 0;
  char ts[40];
  int64_t ms;
  snprintf(ts, sizeof ts, "%.16sT00:00:00Z", e->class_since);
  if (strlen(e->class_since) != 10 || ph_time_parse(ts, strlen(ts), &ms))
    return ph_fail(err, PH_ECONFIG, "%s.class_since: '%s' is not a date YYYY-MM-DD", path, e->class_since);
  return 0;
}

static int load_agents(const cJSON *ags, const char *path, struct ph_hub_ent *e, struct ph_cfg_problems *pr,
                       struct ph_err *err) {
  int n = cJSON_GetArraySize(ags);
  if (!cJSON_IsArray(ags) || n < 1 || n > PH_HUB_MAX_AGENTS)
    return ph_fail(err, PH_ECONFIG, "%s.agents: must list 1 to %d agent ids", path, PH_HUB_MAX_AGENTS);
  const cJSON *a;
  int i = 0, rc = 0;
  cJSON_ArrayForEach(a, ags) {
    if (!cJSON_IsString(a) || !ph_id_valid_z(a->valuestring))
      rc = ph_fail(err, PH_ECONFIG, "%s.agents[%d]: must be an id", path, i);
    else if (ph_hub_ent_has_agent(e, a->valuestring))
      rc = ph_fail(err, PH_ECONFIG, "%s.agents: '%s' is listed twice", path, a->valuestring);
    else
      strcpy(e->agents[e->nagents++], a->valuestring);
    i++;
    if (rc && (rc = ph_cfg_note(pr, rc, err))) return rc; /* with pr: noted, the next entry */
  }
  return 0;
}

/* With pr (--check-config) each part's problem is noted and the next part
 * is checked (cfgmap.h inv. 1); without, the first problem stops. */
static int load_ent(const cJSON *o, const char *path, struct ph_hub_park *p, struct ph_cfg_problems *pr,
                    struct ph_err *err) {
  struct ph_hub_ent *e = &p->ents[p->nents];
  memset(e, 0, sizeof *e); /* a refused enterprise's slot is used again when checking */
  int rc = ph_cfgmap_apply_all(ent_map, o, path, e, pr, err);
  if (rc && (!pr || !cJSON_IsObject(o))) return rc;
  /* Checking: a problem with its own keys (noted) does not hide the
   * problems below them (README "Checking a config"); only the checks of
   * the id, which may be the key that failed, are skipped. */
  int own = rc;
  if (!own && !ph_id_valid_ent(e->id, strlen(e->id)))
    return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "%s.id: '%s' is reserved", path, e->id), err);
  if (!own && ph_hub_config_ent(p, e->id))
    return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "%s.id: '%s' appears twice", path, e->id), err);
  if ((rc = ph_cfg_note(pr, load_point_intervals(cJSON_GetObjectItemCaseSensitive(o, "point_intervals"), path, e, pr, err), err)) ||
      (rc = ph_cfg_note(pr, load_classes(cJSON_GetObjectItemCaseSensitive(o, "toolkit_class"), path, e, pr, err), err)) ||
      (rc = ph_cfg_note(pr, load_baseline(cJSON_GetObjectItemCaseSensitive(o, "baseline"), path, e, err), err)) ||
      (rc = ph_cfg_note(pr, load_point_monitoring(cJSON_GetObjectItemCaseSensitive(o, "point_monitoring"), path, e, pr, err), err)) ||
      (rc = ph_cfg_note(pr, load_point_media(cJSON_GetObjectItemCaseSensitive(o, "point_media"), path, e, pr, err), err)) ||
      (rc = ph_cfg_note(pr, check_date(e->monitoring_since, path, "monitoring_since", err), err)) ||
      (rc = ph_cfg_note(pr, check_date(e->monitoring_until, path, "monitoring_until", err), err)) ||
      (rc = ph_cfg_note(pr, check_period(e->monitoring_since, e->monitoring_until, path, err), err)) ||
      (rc = ph_cfg_note(pr, check_class_since(e, path, err), err)) ||
      (rc = ph_cfg_note(pr, check_last_test(e, path, err), err)) ||
      (rc = ph_cfg_note(pr, load_agents(cJSON_GetObjectItemCaseSensitive(o, "agents"), path, e, pr, err), err)))
    return rc;
  if (own) return own; /* listed, not counted: its slot is used again */
  p->nents++;
  return 0;
}

/* The zone must exist and parse: loaded to check it, then let go. The
 * zones the stages use are loaded once more, into the reference bundle
 * (refs.h), from the checked config: a config is data, not a holder of
 * loaded state. */
static int check_tz(const char *zone, const char *path, struct ph_err *err) {
  struct ph_tz *tz = NULL;
  struct ph_err tzerr = {0};
  if (ph_tz_load(zone, &tz, &tzerr)) return ph_fail(err, PH_ECONFIG, "%s.tz: %s", path, tzerr.msg);
  ph_tz_free(tz);
  return 0;
}

/* FNV-1a over the value, objects order-free (members XORed): two files
 * that say the same in another key order or layout give the same hash. */
static uint64_t fnv(uint64_t h, const char *s) {
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}
static uint64_t fact_hash(const cJSON *v, int depth) {
  uint64_t h = 1469598103934665603ULL;
  char num[40];
  if (depth > 32) return h; /* configs are shallow; a bound all the same */
  if (cJSON_IsObject(v)) {
    uint64_t x = 0;
    for (const cJSON *m = v->child; m; m = m->next) {
      if (depth == 0 && !strcmp(m->string, "rules_file")) continue;
      char sub[24];
      snprintf(sub, sizeof sub, "%016llx", (unsigned long long)fact_hash(m, depth + 1));
      x ^= fnv(fnv(fnv(h, m->string), "="), sub);
    }
    snprintf(num, sizeof num, "{%016llx}", (unsigned long long)x);
    return fnv(h, num);
  }
  if (cJSON_IsArray(v)) {
    h = fnv(h, "[");
    for (const cJSON *m = v->child; m; m = m->next) {
      snprintf(num, sizeof num, "%016llx,", (unsigned long long)fact_hash(m, depth + 1));
      h = fnv(h, num);
    }
    return fnv(h, "]");
  }
  if (cJSON_IsString(v)) return fnv(fnv(h, "\""), v->valuestring);
  if (cJSON_IsNumber(v)) {
    snprintf(num, sizeof num, "%.17g", v->valuedouble);
    return fnv(h, num);
  }
  return fnv(h, cJSON_IsTrue(v) ? "true" : cJSON_IsFalse(v) ? "false" : "null");
}

static int load_park(const cJSON *o, int i, const struct ph_catalog *cat, struct ph_hub_config *c,
                     struct ph_cfg_problems *pr, struct ph_err *err) {
  char path[32], epath[64];
  snprintf(path, sizeof path, "parks[%d]", i);
  struct ph_hub_park *p = &c->parks[c->nparks];
  memset(p, 0, sizeof *p); /* a refused park's slot is used again when checking */
  int rc = ph_cfgmap_apply_all(park_map, o, path, p, pr, err);
  if (rc && (!pr || !cJSON_IsObject(o))) return rc;
  int own = rc; /* checking: noted; its enterprises and materials are checked all the same (load_ent) */
  p->lang_set = cJSON_GetObjectItemCaseSensitive(o, "lang") != NULL; /* else ph_park_lang follows tz */
  snprintf(p->fingerprint, sizeof p->fingerprint, "%016llx", (unsigned long long)fact_hash(o, 0));
  if (!own && ph_hub_config_park(c, p->id))
    return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "%s.id: '%s' appears twice", path, p->id), err);
  if ((!own || p->tz[0]) && (rc = ph_cfg_note(pr, check_tz(p->tz, path, err), err))) return rc;
  const cJSON *ents = cJSON_GetObjectItemCaseSensitive(o, "enterprises");
  int n = cJSON_GetArraySize(ents);
  if (!cJSON_IsArray(ents) || n < 1 || n > PH_HUB_MAX_ENTS)
    return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "%s.enterprises: must list 1 to %d enterprises", path, PH_HUB_MAX_ENTS), err);
  if (!(p->ents = ph_calloc((size_t)n, sizeof *p->ents))) return ph_fail(err, PH_ENOMEM, "out of memory");
  c->nparks++;
  snprintf(epath, sizeof epath, "%s.materials", path);
  rc = ph_materials_load_noting(cJSON_GetObjectItemCaseSensitive(o, "materials"), epath, cat, &p->materials, pr, err);
  if ((rc = ph_cfg_note(pr, rc, err))) return rc;
  int k = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, ents) {
    snprintf(epath, sizeof epath, "%s.enterprises[%d]", path, k++);
    if ((rc = load_ent(e, epath, p, pr, err)) && !pr) return rc;
  }
  return own;
}

/* A token scoped to a park this hub does not serve is a typo, not a policy. */
static int check_token_parks(const struct ph_hub_config *c, struct ph_cfg_problems *pr, struct ph_err *err) {
  for (int t = 0; t < c->http.ntokens; t++)
    for (int k = 0; k < c->http.tokens[t].nparks; k++)
      if (!ph_hub_config_park(c, c->http.tokens[t].parks[k])) {
        int rc = ph_fail(err, PH_ECONFIG, "http.tokens[%d].parks[%d]: '%s' is not a park of this hub", t, k,
                         c->http.tokens[t].parks[k]);
        if ((rc = ph_cfg_note(pr, rc, err))) return rc;
      }
  return 0;
}

static int load_limit_files(const cJSON *lf, struct ph_hub_config *c, struct ph_err *err) {
  if (!lf) return 0;
  if (!cJSON_IsArray(lf) || cJSON_GetArraySize(lf) > PH_HUB_MAX_LIMIT_FILES)
    return ph_fail(err, PH_ECONFIG, "limit_files: must be an array of at most %d paths", PH_HUB_MAX_LIMIT_FILES);
  const cJSON *it;
  cJSON_ArrayForEach(it, lf) {
    if (!cJSON_IsString(it) || !it->valuestring[0] || strlen(it->valuestring) >= sizeof c->limit_files[0])
      return ph_fail(err, PH_ECONFIG, "limit_files[%d]: must be a path", c->nlimit_files);
    strcpy(c->limit_files[c->nlimit_files++], it->valuestring);
  }
  return 0;
}

/* FNV-1a of each object or array key's JSON text: SIGHUP tells which
 * changed without keeping the tree (ph_hub_config_diff). */
static void hash_sections(const cJSON *root, struct ph_hub_config *c) {
  int i = 0;
  for (const struct ph_cfgmap *e = top_map; e->key && i < PH_HUB_MAX_SECTIONS; e++, i++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, e->key);
    char *text = v ? cJSON_PrintUnformatted(v) : NULL;
    uint64_t h = 1469598103934665603ULL;
    for (const char *s = text ? text : ""; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    c->section_hash[i] = h;
    cJSON_free(text);
  }
}

static int load_parks(const cJSON *parks, struct ph_hub_config *c, struct ph_cfg_problems *pr, struct ph_err *err) {
  int n = cJSON_GetArraySize(parks);
  if (!cJSON_IsArray(parks) || n < 1 || n > PH_HUB_MAX_PARKS)
    return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "parks: must list 1 to %d parks", PH_HUB_MAX_PARKS), err);
  /* the parks' materials are checked against the catalogue the hub runs with: the built-in one */
  struct ph_catalog *cat = NULL;
  int rc = ph_catalog_load_builtin(&cat, err);
  if (rc) return ph_cfg_stop(pr, rc, err);
  int i = 0;
  const cJSON *p;
  cJSON_ArrayForEach(p, parks) {
    if ((rc = load_park(p, i++, cat, c, pr, err)) && !pr) break;
  }
  ph_catalog_free(cat);
  return pr ? 0 : rc;
}

static int load_forward(const cJSON *fw, struct ph_upstream_conf *u, struct ph_err *err) {
  if (!fw) { /* default: every table */
    for (int i = 0; ph_upstream_tables[i] && i < PH_UP_MAX_FORWARD; i++)
      snprintf(u->forward[u->nforward++], sizeof u->forward[0], "%s", ph_upstream_tables[i]);
    return 0;
  }
  if (!cJSON_IsArray(fw) || cJSON_GetArraySize(fw) > PH_UP_MAX_FORWARD)
    return ph_fail(err, PH_ECONFIG, "upstream.forward: must be an array of at most %d table names", PH_UP_MAX_FORWARD);
  const cJSON *it;
  cJSON_ArrayForEach(it, fw) {
    int k = 0;
    while (ph_upstream_tables[k] && !(cJSON_IsString(it) && !strcmp(it->valuestring, ph_upstream_tables[k]))) k++;
    if (!ph_upstream_tables[k])
      return ph_fail(err, PH_ECONFIG, "upstream.forward[%d]: not a table a park hub forwards (--help lists them)",
                     u->nforward);
    snprintf(u->forward[u->nforward++], sizeof u->forward[0], "%s", it->valuestring);
  }
  return 0;
}

/* "upstream" (a park hub only): its own broker connection and what it forwards. */
static int load_upstream(const cJSON *root, struct ph_hub_config *c, struct ph_cfg_problems *pr, struct ph_err *err) {
  const cJSON *up = cJSON_GetObjectItemCaseSensitive(root, "upstream");
  int rc;
  if (!up) return 0;
  c->upstream.on = true;
  if (c->role == PH_HUB_ROLE_REGIONAL &&
      (rc = ph_cfg_note(pr, ph_fail(err, PH_ECONFIG, "upstream: a regional hub forwards nothing (role)"), err)))
    return rc;
  if ((rc = ph_cfgmap_apply_all(upstream_map, up, "upstream", &c->upstream, pr, err)) && !pr) return rc;
  if (!cJSON_IsObject(up)) return rc;
  if ((rc = ph_mqtt_conf_load_all(cJSON_GetObjectItemCaseSensitive(up, "mqtt"), "upstream.mqtt", false,
                                  &c->upstream.mqtt, pr, err)) && !pr)
    return rc;
  if (!c->upstream.mqtt.client_id[0])
    snprintf(c->upstream.mqtt.client_id, sizeof c->upstream.mqtt.client_id, "parkhub-%s-up", c->hub_id);
  return ph_cfg_note(pr, load_forward(cJSON_GetObjectItemCaseSensitive(up, "forward"), &c->upstream, err), err);
}

static int load_root(const cJSON *root, struct ph_hub_config *c, struct ph_cfg_problems *pr, struct ph_err *err) {
  int rc;
  if ((rc = ph_cfgmap_apply_all(top_map, root, "", c, pr, err)) && !pr) return rc;
  if (!cJSON_IsObject(root)) return rc; /* nothing below to check */
  if ((rc = ph_mqtt_conf_load_all(cJSON_GetObjectItemCaseSensitive(root, "mqtt"), "mqtt", true, &c->mqtt, pr, err)) && !pr)
    return rc; /* with pr, noted there */
  if ((rc = ph_cfgmap_apply_all(db_map, cJSON_GetObjectItemCaseSensitive(root, "db"), "db", c, pr, err)) && !pr)
    return rc;
  if ((rc = ph_cfgmap_apply_all(ingest_map, cJSON_GetObjectItemCaseSensitive(root, "ingest"), "ingest", c, pr, err)) && !pr)
    return rc;
  if ((rc = ph_api_conf_load_all(cJSON_GetObjectItemCaseSensitive(root, "http"), &c->http, pr, err)) && !pr)
    return rc;
  if ((rc = ph_cfg_note(pr, load_limit_files(cJSON_GetObjectItemCaseSensitive(root, "limit_files"), c, err), err)))
    return rc;
  if (!c->mqtt.client_id[0]) snprintf(c->mqtt.client_id, sizeof c->mqtt.client_id, "parkhub-%s", c->hub_id);
  if ((rc = load_upstream(root, c, pr, err)) && !pr) return rc;
  if ((rc = load_parks(cJSON_GetObjectItemCaseSensitive(root, "parks"), c, pr, err)) ||
      (rc = check_token_parks(c, pr, err)))
    return rc;
  hash_sections(root, c);
  return pr && pr->n ? PH_ECONFIG : 0;
}

int ph_hub_config_check(const char *path, struct ph_hub_config *c, struct ph_cfg_problems *pr) {
  memset(c, 0, sizeof *c);
  snprintf(c->path, sizeof c->path, "%s", path);
  cJSON *root = NULL;
  struct ph_err err = {0};
  int rc = ph_json_load_file(path, (void **)&root, &err);
  if (rc) return ph_cfg_stop(pr, rc, &err);
  rc = load_root(root, c, pr, &err);
  cJSON_Delete(root);
  return rc;
}

int ph_hub_config_load(const char *path, struct ph_hub_config *c, struct ph_err *err) {
  memset(c, 0, sizeof *c);
  cJSON *root = NULL;
  int rc = ph_json_load_file(path, (void **)&root, err);
  if (rc) return rc;
  rc = load_root(root, c, NULL, err);
  cJSON_Delete(root);
  snprintf(c->path, sizeof c->path, "%s", path);
  if (rc && err && !strstr(err->msg, path)) {
    char inner[PH_ERR_MSG_MAX];
    strcpy(inner, err->msg);
    ph_fail(err, rc, "%s: %s", path, inner);
  }
  return rc;
}

void ph_hub_config_fini(struct ph_hub_config *c) {
  for (int i = 0; i < c->nparks; i++) {
    ph_free(c->parks[i].ents);
    ph_materials_fini(&c->parks[i].materials);
  }
  c->nparks = 0;
}

const char *const ph_hub_lang_words[] = {"zh-CN", "en", NULL}; /* the order of enum ph_lang */

enum ph_lang ph_park_lang(const struct ph_hub_park *p) {
  return p->lang_set ? (enum ph_lang)p->lang : ph_lang_for_tz(p->tz);
}

enum ph_lang ph_reader_lang(const struct ph_api_token *t, const struct ph_hub_park *p) {
  return t && t->lang_set ? (enum ph_lang)t->lang : ph_park_lang(p);
}

const struct ph_hub_park *ph_hub_config_park(const struct ph_hub_config *c, const char *park) {
  for (int i = 0; i < c->nparks; i++)
    if (strcmp(c->parks[i].id, park) == 0) return &c->parks[i];
  return NULL;
}

const struct ph_hub_ent *ph_hub_config_ent(const struct ph_hub_park *p, const char *ent) {
  for (int i = 0; i < p->nents; i++)
    if (strcmp(p->ents[i].id, ent) == 0) return &p->ents[i];
  return NULL;
}

enum ph_medium ph_hub_point_medium(const struct ph_hub_ent *e, const char *point, enum ph_discharge *discharge) {
  for (int i = 0; i < e->npoint_media; i++)
    if (strcmp(e->point_media[i].point, point) == 0) {
      if (discharge) *discharge = (enum ph_discharge)e->point_media[i].discharge;
      return (enum ph_medium)e->point_media[i].medium;
    }
  if (discharge) *discharge = PH_DISCHARGE_NONE;
  return PH_MEDIUM_UNSET;
}

const char *ph_medium_name(enum ph_medium m) {
  return m == PH_MEDIUM_AIR ? "air" : m == PH_MEDIUM_WATER ? "water" : "unset";
}

const char *ph_discharge_name(enum ph_discharge d) {
  return d == PH_DISCHARGE_DIRECT ? "direct" : d == PH_DISCHARGE_INDIRECT ? "indirect" : "none";
}

double ph_hub_point_interval(const struct ph_hub_ent *e, const char *point) {
  for (int i = 0; i < e->npoint_intervals; i++)
    if (strcmp(e->point_intervals[i].point, point) == 0) return e->point_intervals[i].interval_s;
  return e->expected_interval_s;
}

int ph_hub_ent_class_on(const struct ph_hub_ent *e, long day) {
  int cls = 0;
  for (int i = 0; i < e->nclasses && date_day(e->classes[i].since) <= day; i++) cls = e->classes[i].toolkit_class;
  return cls;
}

bool ph_hub_ent_has_agent(const struct ph_hub_ent *e, const char *agent) {
  for (int i = 0; i < e->nagents; i++)
    if (strcmp(e->agents[i], agent) == 0) return true;
  return false;
}

void ph_hub_config_diff(const struct ph_hub_config *a, const struct ph_hub_config *b, struct ph_cfg_changes *out) {
  ph_cfgmap_diff(top_map, "", a, b, out);
  ph_cfgmap_diff(db_map, "db.", a, b, out);
  ph_cfgmap_diff(ingest_map, "ingest.", a, b, out);
  int i = 0;
  for (const struct ph_cfgmap *e = top_map; e->key && i < PH_HUB_MAX_SECTIONS; e++, i++) {
    /* db and ingest hold only scalars, compared key by key above */
    if ((e->type != PH_CFG_OBJECT && e->type != PH_CFG_ARRAY) || strcmp(e->key, "db") == 0 ||
        strcmp(e->key, "ingest") == 0 || a->section_hash[i] == b->section_hash[i])
      continue;
    ph_cfg_change_add(out, e->key, "", "", (e->flags & PH_CFG_RELOAD) != 0);
  }
}

int ph_hub_config_adopt(struct ph_hub_config *dst, const struct ph_hub_config *src, const char *key) {
  static const struct {
    const char *prefix;
    const struct ph_cfgmap *map;
  } maps[] = {{"db.", db_map}, {"ingest.", ingest_map}, {"", top_map}};
  for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) {
    size_t n = strlen(maps[i].prefix);
    if (strncmp(key, maps[i].prefix, n) != 0) continue;
    const struct ph_cfgmap *e = ph_cfgmap_find(maps[i].map, key + n);
    if (!e) continue;
    return ph_cfgmap_copy(e, dst, src);
  }
  return PH_ENOTFOUND;
}

void ph_hub_config_help(FILE *out) {
  ph_cfgmap_help(top_map, "", out);
  ph_mqtt_conf_help(out, true);
  ph_cfgmap_help(upstream_map, "upstream.", out);
  ph_cfgmap_help(db_map, "db.", out);
  ph_cfgmap_help(ingest_map, "ingest.", out);
  ph_api_conf_help(out);
  ph_cfgmap_help(park_map, "parks[].", out);
  ph_materials_help("parks[].materials[].", out);
  ph_cfgmap_help(ent_map, "parks[].enterprises[].", out);
}
