/* check_config.c — `parkhub --check-config` (main.c): what a start would
 * refuse, all at once. Callers: main() only, before any thread starts.
 * Owns nothing past the call.
 *
 * Invariants:
 *  1. Every problem is listed in one run (cfgmap.h: at most
 *     PH_CFG_PROBLEMS_MAX, then "and N more"): the keys
 *     (ph_hub_config_check), then the files and folders the keys name.
 *  2. What a start reads is read the same way here: limits and factors
 *     files load, each park's rules file loads and its rules are added to a
 *     rules engine for this config (ph_rules_add checks enterprises,
 *     points, metrics and limit references), so a systemd ExecStartPre
 *     that passes means the start gets past its config.
 *  3. Nothing is written: the database folder is only tested for write
 *     permission (access(2)), no file is created. */
#include "app/check_config.h"

#include <stdbool.h>
#include <string.h>

#include "alarms/rules.h"
#include "config/hub_config.h"
#include "config/refs.h"
#include "parkhub/catalog.h"
#include "parkhub/factors.h"
#include "parkhub/limits.h"
#include "parkhub/tz.h"


static void note_err(struct ph_cfg_problems *pr, const char *key, const struct ph_err *err) {
  char msg[PH_ERR_MSG_MAX + 64]; /* cut to PH_ERR_MSG_MAX when kept */
  snprintf(msg, sizeof msg, "%.60s: %s", key, err->msg);
  ph_cfg_problem_add(pr, msg);
}

static void check_paths(const struct ph_hub_config *c, struct ph_cfg_problems *pr) {
  ph_cfg_check_writable(pr, "db.path", c->db_path);
  ph_cfg_check_readable(pr, "mqtt.tls.ca", c->mqtt.tls.ca);
  ph_cfg_check_readable(pr, "mqtt.tls.cert", c->mqtt.tls.cert);
  ph_cfg_check_readable(pr, "mqtt.tls.key", c->mqtt.tls.key);
  if (c->http.enabled) {
    ph_cfg_check_readable(pr, "http.cert", c->http.cert);
    ph_cfg_check_readable(pr, "http.key", c->http.key);
  }
}

/* The reference data a start loads; a file that does not load is a problem. */
static void load_refs(const struct ph_hub_config *c, struct ph_refs *r, struct ph_cfg_problems *pr) {
  struct ph_err err = {0};
  char key[48];
  r->cfg = c;
  if (ph_catalog_load_builtin(&r->cat, &err)) note_err(pr, "catalogue", &err);
  if (ph_limits_load_builtin(&r->limits[0], &err)) note_err(pr, "limits", &err);
  else r->nlimits = 1;
  for (int i = 0; i < c->nlimit_files; i++) {
    snprintf(key, sizeof key, "limit_files[%d]", i);
    if (ph_limits_load_file(c->limit_files[i], &r->limits[r->nlimits], &err)) note_err(pr, key, &err);
    else r->nlimits++;
  }
  if (ph_factors_load(c->factors_file, &r->factors, &err)) note_err(pr, "factors_file", &err);
  for (int p = 0; p < c->nparks; p++)
    if (ph_tz_load(c->parks[p].tz, &r->tz[p], &err)) r->tz[p] = NULL; /* reported by the config check */
}

/* The engine checks rules against the config: only for a whole config
 * (every park's zone loaded); otherwise the files are only loaded. */
static struct ph_rules *rules_engine(const struct ph_hub_config *c, struct ph_refs *r, bool whole,
                                     struct ph_cfg_problems *pr) {
  struct ph_err err = {0};
  struct ph_rules *engine = NULL;
  struct ph_rules_conf rc = {.refs = r};
  for (int p = 0; p < c->nparks; p++)
    if (!r->tz[p]) whole = false; /* the zone's problem is listed already */
  if (whole && ph_rules_new(&rc, &engine, &err)) note_err(pr, "rules", &err);
  return engine;
}

static void check_rules(const struct ph_hub_config *c, struct ph_refs *r, bool whole, struct ph_cfg_problems *pr) {
  if (!r->cat) return;
  struct ph_rules *engine = rules_engine(c, r, whole, pr);
  for (int p = 0; p < c->nparks; p++) {
    const char *file = c->parks[p].rules_file;
    char key[48];
    snprintf(key, sizeof key, "parks[%d].rules_file", p);
    if (!file[0]) continue;
    struct ph_err err = {0};
    struct ph_ruleset rs;
    memset(&rs, 0, sizeof rs);
    if (ph_ruleset_load_file(file, r->cat, &rs, &err) || (engine && ph_rules_add(engine, c->parks[p].id, &rs, &err)))
      note_err(pr, key, &err);
    ph_ruleset_fini(&rs);
  }
  ph_rules_free(engine);
}

int ph_hub_check_config(const char *path, bool files, FILE *out) {
  static struct ph_hub_config cfg; /* large; main's only */
  static struct ph_cfg_problems pr;
  memset(&pr, 0, sizeof pr);
  int rc = ph_hub_config_check(path, &cfg, &pr);
  /* a file that did not parse has no keys to follow */
  if (files && (rc == 0 || pr.n > 0)) {
    struct ph_refs r; /* filled piece by piece: every piece that fails is listed */
    memset(&r, 0, sizeof r);
    check_paths(&cfg, &pr);
    load_refs(&cfg, &r, &pr);
    check_rules(&cfg, &r, rc == 0, &pr);
    ph_refs_fini(&r);
  }
  if (pr.n == 0) {
    int ents = 0;
    for (int i = 0; i < cfg.nparks; i++) ents += cfg.parks[i].nents;
    fprintf(out, "%s: configuration OK (hub %s, %d park%s, %d enterprise%s)\n", path, cfg.hub_id, cfg.nparks,
            cfg.nparks == 1 ? "" : "s", ents, ents == 1 ? "" : "s");
  } else {
    fprintf(out, "%s: configuration error: %d problem%s:\n", path, pr.n, pr.n == 1 ? "" : "s");
    ph_cfg_problems_print(&pr, out);
  }
  ph_hub_config_fini(&cfg);
  return pr.n == 0 ? 0 : 1;
}
