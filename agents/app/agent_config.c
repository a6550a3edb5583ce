/* agent_config.c — loads agent.json into struct ph_agent_config.
 * Every problem is reported as "file: json.path: reason"; at start the
 * first one stops the load, --check-config (ph_agent_config_check) notes
 * every one and goes on (cfgmap.h inv. 1). */
#include "app/agent_config.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "parkhub/batch.h" /* PH_OUTBOX_MAX_BATCHES_DEFAULT */
#include "parkhub/cfgmap.h"
#include "parkhub/jsonfile.h"
#include "parkhub/log.h"

#define F(field) offsetof(struct ph_agent_config, field), sizeof(((struct ph_agent_config *)0)->field)
#define N(field) offsetof(struct ph_agent_config, field), 0

static const char *const policies[] = {"stop", "drop_oldest", NULL};
static const char *const levels[] = {"debug", "info", "warn", "error", NULL};

static const struct ph_cfgmap top_map[] = {
    {"park", PH_CFG_ID, true, F(park), 0, 0, NULL, NULL, "park id"},
    {"ent", PH_CFG_ID, true, F(ent), 0, 0, NULL, NULL, "enterprise id"},
    {"agent", PH_CFG_ID, true, F(agent), 0, 0, NULL, NULL, "this agent's id (one per gateway)"},
    {"mqtt", PH_CFG_OBJECT, true, 0, 0, 0, 0, NULL, NULL, "broker connection (object, below)"},
    {"batch", PH_CFG_OBJECT, false, 0, 0, 0, 0, NULL, NULL, "batching (object, below)"},
    {"outbox", PH_CFG_OBJECT, true, 0, 0, 0, 0, NULL, NULL, "durable outbox (object, below)"},
    {"sources", PH_CFG_ARRAY, true, 0, 0, 0, 0, NULL, NULL, "inputs: objects with \"type\" (below)"},
    {"status_interval_s", PH_CFG_INT, false, N(status_interval_s), 5, 86400, "60", NULL, "status refresh period"},
    {"max_future_s", PH_CFG_INT, false, N(max_future_s), 0, 86400, "300", NULL,
     "records stamped further ahead of this clock are refused"},
    {"log_level", PH_CFG_ENUM, false, N(log_level), 0, 0, "info", levels, "log detail"},
    PH_CFG_END,
};
static const struct ph_cfgmap batch_map[] = {
    {"max_records", PH_CFG_INT, false, N(batch_max_records), 1, 1000, "100", NULL, "records per batch at most"},
    {"max_delay_ms", PH_CFG_INT, false, N(batch_max_delay_ms), 10, 600000, "1000", NULL,
     "a record waits at most this long for its batch"},
    PH_CFG_END,
};
static const struct ph_cfgmap outbox_map[] = {
    {"path", PH_CFG_STR, true, F(outbox_path), 0, 0, NULL, NULL, "SQLite file of the outbox"},
    {"max_batches", PH_CFG_INT, false, N(outbox_max_batches), 10, 10000000, PH_XSTR(PH_OUTBOX_MAX_BATCHES_DEFAULT),
     NULL, "outbox cap"},
    {"full_policy", PH_CFG_ENUM, false, N(outbox_policy), 0, 0, "stop", policies,
     "at the cap: stop reading sources, or drop the oldest batches"},
    {"resend_after_s", PH_CFG_INT, false, N(resend_after_s), 1, 86400, "30", NULL,
     "publish again what the online hub has not acked after this long"},
    PH_CFG_END,
};
#undef F
#undef N

/* Keys every source takes; each source's cfgmap lists them as SKIP. */
static bool find_common(const char *key) { return strcmp(key, "type") == 0 || strcmp(key, "name") == 0; }

/* A source names a problem by its path below it ("loggers[2].mn: …",
 * "columns.SO2: …") or not at all ("give exactly one of …"): msg becomes
 * "sources[1].loggers[2].mn: …" or "sources[1]: give exactly one of …". */
static void under_source(char *msg, size_t cap, const char *path) {
  size_t pl = strlen(path);
  if (strncmp(msg, path, pl) == 0 && (msg[pl] == '.' || msg[pl] == ':')) return; /* named already */
  size_t key = strcspn(msg, ": ");
  bool is_path = key > 0 && msg[key] == ':' && (msg[0] == '_' || (msg[0] >= 'a' && msg[0] <= 'z'));
  size_t add = pl + (is_path ? 1 : 2), n = strnlen(msg, cap - 1);
  if (add >= cap) return;
  if (n > cap - 1 - add) n = cap - 1 - add; /* the end of a long message gives way */
  memmove(msg + add, msg, n);
  msg[add + n] = '\0';
  memcpy(msg, path, pl);
  memcpy(msg + pl, is_path ? "." : ": ", add - pl);
}

static int load_source(const cJSON *o, int i, const struct ph_catalog *cat, struct ph_agent_config *c,
                       struct ph_cfg_problems *pr, struct ph_err *err) {
  char path[32];
  snprintf(path, sizeof path, "sources[%d]", i);
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
  if (!cJSON_IsObject(o)) return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "%s: must be an object", path), err);
  if (!cJSON_IsString(type)) return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "%s.type: required (a string)", path), err);
  struct ph_agent_source *s = &c->sources[c->nsources];
  if (!(s->ops = ph_source_find(type->valuestring)))
    return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "%s.type: unknown source type '%.40s' (see parkagent --help)",
                                   path, type->valuestring), err);
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
  if (name && (!cJSON_IsString(name) || !ph_id_valid_z(name->valuestring)))
    return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "%s.name: must be an id", path), err);
  if (name)
    strcpy(s->name, name->valuestring);
  else
    snprintf(s->name, sizeof s->name, "%s-%d", s->ops->name, i);
  for (int k = 0; k < c->nsources; k++)
    if (strcmp(c->sources[k].name, s->name) == 0)
      return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "%s.name: '%s' is used twice", path, s->name), err);
  if (!(s->ctx = ph_calloc(1, s->ops->ctx_size))) return ph_fail(err, PH_ENOMEM, "%s: out of memory", path);
  s->index = i;
  c->nsources++;
  s->env = (struct ph_source_env){.cat = cat, .name = s->name, .max_future_ms = c->max_future_s * 1000};
  int rc = ph_cfgmap_apply_all(s->ops->cfgmap, o, path, s->ctx, pr, err);
  /* Checking: the source's own key problems are noted; its init still runs
   * (it does no I/O: source.h) so that what hangs below them (registers,
   * columns, maps) is checked too (README "Checking a config"). */
  if (rc && !pr) return rc;
  int own = rc, before = pr ? pr->n : 0;
  s->env.pr = pr; /* the source notes each bad entry of its lists (source.h) */
  rc = s->ops->init ? s->ops->init(s->ctx, o, &s->env, err) : 0;
  s->env.pr = NULL;
  if (pr && pr->n > before) { /* noted by the source: named below it */
    for (int k = before; k < pr->n && k < PH_CFG_PROBLEMS_MAX; k++) under_source(pr->msg[k], sizeof pr->msg[k], path);
    return rc ? rc : PH_ECONFIG;
  }
  if (rc) {
    if (err) under_source(err->msg, sizeof err->msg, path);
    return ph_cfg_stop(pr, rc, err);
  }
  return own;
}

static int check_ent(const struct ph_agent_config *c, struct ph_err *err) {
  if (c->ent[0] && !ph_id_valid_ent(c->ent, strlen(c->ent)))
    return ph_fail(err, PH_ECONFIG, "ent: '%s' is reserved for park-level topics", c->ent);
  return 0;
}

/* With pr (--check-config) each part's problems are noted and the next
 * part is checked; without, the first problem stops. */
static int load_root(const cJSON *root, const struct ph_catalog *cat, struct ph_agent_config *c,
                     struct ph_cfg_problems *pr, struct ph_err *err) {
  int rc;
  if ((rc = ph_cfgmap_apply_all(top_map, root, "", c, pr, err)) && !pr) return rc;
  if (!cJSON_IsObject(root)) return rc; /* nothing below to check */
  if ((rc = ph_cfg_note(pr, check_ent(c, err), err))) return rc;
  if ((rc = ph_mqtt_conf_load_all(cJSON_GetObjectItemCaseSensitive(root, "mqtt"), "mqtt", false, &c->mqtt, pr, err)) && !pr)
    return rc; /* with pr, noted there */
  if ((rc = ph_cfgmap_apply_all(batch_map, cJSON_GetObjectItemCaseSensitive(root, "batch"), "batch", c, pr, err)) && !pr)
    return rc;
  if ((rc = ph_cfgmap_apply_all(outbox_map, cJSON_GetObjectItemCaseSensitive(root, "outbox"), "outbox", c, pr, err)) && !pr)
    return rc;
  if (!c->mqtt.client_id[0]) snprintf(c->mqtt.client_id, sizeof c->mqtt.client_id, "parkagent-%s-%s-%s", c->park, c->ent, c->agent);
  const cJSON *srcs = cJSON_GetObjectItemCaseSensitive(root, "sources");
  int n = cJSON_GetArraySize(srcs);
  if (!cJSON_IsArray(srcs) || n < 1 || n > PH_AGENT_MAX_SOURCES)
    return ph_cfg_stop(pr, ph_fail(err, PH_ECONFIG, "sources: must be an array of 1 to %d sources", PH_AGENT_MAX_SOURCES), err);
  int i = 0;
  const cJSON *o;
  cJSON_ArrayForEach(o, srcs) {
    if ((rc = load_source(o, i++, cat, c, pr, err)) && !pr) return rc;
  }
  return pr && pr->n ? PH_ECONFIG : 0;
}

int ph_agent_config_check(const char *path, const struct ph_catalog *cat, struct ph_agent_config *c,
                          struct ph_cfg_problems *pr) {
  memset(c, 0, sizeof *c);
  cJSON *root = NULL;
  struct ph_err err = {0};
  int rc = ph_json_load_file(path, (void **)&root, &err);
  if (rc) return ph_cfg_stop(pr, rc, &err);
  rc = load_root(root, cat, c, pr, &err);
  cJSON_Delete(root);
  return rc;
}

int ph_agent_config_load(const char *path, const struct ph_catalog *cat, struct ph_agent_config *c,
                         struct ph_err *err) {
  memset(c, 0, sizeof *c);
  cJSON *root = NULL;
  int rc = ph_json_load_file(path, (void **)&root, err);
  if (rc) return rc;
  rc = load_root(root, cat, c, NULL, err);
  cJSON_Delete(root);
  if (rc && err && !strstr(err->msg, path)) {
    char inner[PH_ERR_MSG_MAX];
    strcpy(inner, err->msg);
    ph_fail(err, rc, "%s: %s", path, inner);
  }
  return rc;
}

void ph_agent_config_fini(struct ph_agent_config *c) {
  for (int i = 0; i < c->nsources; i++) {
    struct ph_agent_source *s = &c->sources[i];
    if (s->ctx && s->ops->exit) s->ops->exit(s->ctx);
    ph_free(s->ctx);
    s->ctx = NULL;
  }
  c->nsources = 0;
}

void ph_agent_config_help(FILE *out) {
  ph_cfgmap_help(top_map, "", out);
  ph_mqtt_conf_help(out, false);
  ph_cfgmap_help(batch_map, "batch.", out);
  ph_cfgmap_help(outbox_map, "outbox.", out);
  fputs("\nsources[] — every source takes \"type\" and an optional \"name\":\n", out);
  for (const struct ph_source_ops *const *s = ph_source_all(); *s; s++) {
    fprintf(out, "\n  type \"%s\": %s\n", (*s)->name, (*s)->help);
    for (const struct ph_cfgmap *e = (*s)->cfgmap; e->key; e++) {
      if (find_common(e->key)) continue;
      struct ph_cfgmap one[2] = {*e, PH_CFG_END};
      ph_cfgmap_help(one, "  ", out);
    }
  }
}
