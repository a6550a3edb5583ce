/* check_config.c — `parkagent --check-config` (main.c): what a start would
 * refuse, all at once. Callers: main() only, before any thread starts.
 * Owns nothing past the call.
 *
 * Invariants:
 *  1. Every problem is listed in one run (cfgmap.h: at most
 *     PH_CFG_PROBLEMS_MAX, then "and N more"): the keys and each source's
 *     init (ph_agent_config_check), then the files and folders they name.
 *  2. Nothing is written: the outbox folder is only tested for write
 *     permission (access(2)); no outbox is created. */
#include "app/check_config.h"

#include <string.h>

#include "app/agent_config.h"

/* A source that tails a file names it by "path" (csv, jsonl); the file may
 * appear later (linetail.c waits for it), its folder must exist. */
static void check_source_files(const struct ph_agent_config *c, struct ph_cfg_problems *pr) {
  for (int i = 0; i < c->nsources; i++) {
    const struct ph_agent_source *s = &c->sources[i];
    const struct ph_cfgmap *e = ph_cfgmap_find(s->ops->cfgmap, "path");
    if (!e || e->type != PH_CFG_STR || !s->ctx) continue;
    char key[48];
    snprintf(key, sizeof key, "sources[%d].path", s->index);
    ph_cfg_check_awaited(pr, key, (const char *)s->ctx + e->offset);
  }
}

static void check_paths(const struct ph_agent_config *c, struct ph_cfg_problems *pr) {
  ph_cfg_check_writable(pr, "outbox.path", c->outbox_path);
  ph_cfg_check_readable(pr, "mqtt.tls.ca", c->mqtt.tls.ca);
  ph_cfg_check_readable(pr, "mqtt.tls.cert", c->mqtt.tls.cert);
  ph_cfg_check_readable(pr, "mqtt.tls.key", c->mqtt.tls.key);
  check_source_files(c, pr);
}

int ph_agent_check_config(const char *path, const struct ph_catalog *cat, bool files, FILE *out) {
  static struct ph_agent_config cfg; /* large; main's only */
  static struct ph_cfg_problems pr;
  memset(&pr, 0, sizeof pr);
  int rc = ph_agent_config_check(path, cat, &cfg, &pr);
  if (files && (rc == 0 || pr.n > 0)) check_paths(&cfg, &pr); /* a file that did not parse names no paths */
  if (pr.n == 0)
    fprintf(out, "%s: configuration OK (park %s, enterprise %s, agent %s, %d source%s)\n", path, cfg.park, cfg.ent,
            cfg.agent, cfg.nsources, cfg.nsources == 1 ? "" : "s");
  else {
    fprintf(out, "%s: configuration error: %d problem%s:\n", path, pr.n, pr.n == 1 ? "" : "s");
    ph_cfg_problems_print(&pr, out);
  }
  ph_agent_config_fini(&cfg);
  return pr.n == 0 ? 0 : 1;
}
