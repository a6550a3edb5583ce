/* report.c — `parkhub report`: from the command line's arguments to a
 * rendered file (report.h). Builds the tree with report_json.c, renders it
 * with report_tree.c (JSON), report_csv.c or report_html.c: it only
 * dispatches; the renderers never call back into it.
 *
 * Callers: main.c (the `report` subcommand), tests. Threads: the caller's.
 * Owns, during one run: the config, zone, catalogue, factor table, limit
 * tables, a read-only database connection and the tree; all released
 * before returning.
 *
 * Invariants:
 *  1. The database is opened SQLITE_OPEN_READONLY on a connection of its
 *     own and read in one transaction: one consistent snapshot while the
 *     hub keeps writing, and no write, ever (no CEMS update, no migration).
 *  2. A file given with --out is complete or absent: the report goes to
 *     FILE.tmp-PID, renamed over FILE only after a successful render.
 *  3. One function picks a park's default language (ph_report_default_lang)
 *     for the command and the API alike: the park's "lang", else its
 *     zone's language (ph_park_lang).
 */
#include "report/report.h"
#include "report/report_region.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "parkhub/timefmt.h"

int ph_report_format_parse(const char *s, enum ph_report_format *fmt) {
  static const struct {
    const char *name;
    enum ph_report_format f;
  } names[] = {{"json", PH_REPORT_JSON}, {"csv", PH_REPORT_CSV}, {"html", PH_REPORT_HTML}};
  for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
    if (strcmp(s, names[i].name) == 0) {
      *fmt = names[i].f;
      return 0;
    }
  return PH_EINVAL;
}

int ph_report_render(const cJSON *report, enum ph_report_format fmt, enum ph_lang lang, FILE *out) {
  switch (fmt) {
  case PH_REPORT_JSON: return ph_report_render_json(report, out);
  case PH_REPORT_CSV: return ph_report_render_csv(report, lang, out);
  case PH_REPORT_HTML: return ph_report_render_html(report, lang, out);
  }
  return PH_EINVAL;
}

/* inv. 3 */
enum ph_lang ph_report_default_lang(const struct ph_hub_park *park) { return park ? ph_park_lang(park) : PH_LANG_EN; }

/* ---- the command ---- */

struct run {
  struct ph_hub_config cfg;
  bool cfg_loaded;
  struct ph_refs refs;
  bool refs_loaded;
  sqlite3 *db;
  cJSON *tree;
};

static void run_free(struct run *r) {
  cJSON_Delete(r->tree);
  if (r->db) {
    sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(r->db);
  }
  if (r->refs_loaded) ph_refs_fini(&r->refs);
  if (r->cfg_loaded) ph_hub_config_fini(&r->cfg);
}

/* inv. 1 */
static int open_db(struct run *r, const char *path, struct ph_err *err) {
  if (access(path, R_OK) != 0)
    return ph_fail(err, PH_EDB, "database %s: %s (db.path of the hub config)", path, strerror(errno));
  if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    return ph_fail(err, PH_EDB, "database %s: cannot open read-only: %s", path, sqlite3_errmsg(r->db));
  sqlite3_busy_timeout(r->db, 5000);
  sqlite3_stmt *s;
  int version = -1;
  if (sqlite3_prepare_v2(r->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK) {
    if (sqlite3_step(s) == SQLITE_ROW) version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
  }
  if (version < 0) return ph_fail(err, PH_EDB, "database %s: not readable: %s", path, sqlite3_errmsg(r->db));
  if (version < PH_STORE_VERSION)
    return ph_fail(err, PH_EDB,
                   "database %s: schema version %d, the report needs %d (start the hub once on it to migrate)", path,
                   version, PH_STORE_VERSION);
  if (version > PH_STORE_VERSION)
    return ph_fail(err, PH_EDB, "database %s: schema version %d is newer than this parkhub (%d)", path, version,
                   PH_STORE_VERSION);
  if (sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
    return ph_fail(err, PH_EDB, "database %s: %s", path, sqlite3_errmsg(r->db));
  return 0;
}

static void list_parks(const struct ph_hub_config *c, char *buf, size_t cap) {
  buf[0] = '\0';
  for (int i = 0; i < c->nparks; i++) {
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", c->parks[i].id);
  }
}

/* inv. 2 */
static int render(const cJSON *tree, enum ph_report_format fmt, enum ph_lang lang, bool region, FILE *f) {
  return region ? ph_report_region_render(tree, fmt, lang, f) : ph_report_render(tree, fmt, lang, f);
}

static int write_out(const cJSON *tree, enum ph_report_format fmt, enum ph_lang lang, const char *path, bool region,
                     struct ph_err *err) {
  if (!path || strcmp(path, "-") == 0) {
    int rc = render(tree, fmt, lang, region, stdout);
    if (!rc && fflush(stdout) != 0) rc = PH_EIO;
    return rc ? ph_fail(err, rc, "writing the report to stdout: %s", strerror(errno)) : 0;
  }
  char tmp[4200];
  if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid()) >= (int)sizeof tmp)
    return ph_fail(err, PH_EINVAL, "--out: path too long");
  FILE *f = fopen(tmp, "w");
  if (!f) return ph_fail(err, PH_EIO, "--out %s: %s", path, strerror(errno));
  int rc = render(tree, fmt, lang, region, f);
  int saved = errno;
  if (fclose(f) != 0 && !rc) {
    rc = PH_EIO;
    saved = errno;
  }
  if (!rc && rename(tmp, path) != 0) {
    rc = PH_EIO;
    saved = errno;
  }
  if (rc) {
    unlink(tmp);
    return ph_fail(err, rc, "--out %s: %s", path, strerror(saved));
  }
  return 0;
}

/* --parks: the region report (report_region.h), on the open snapshot. */
static int run_region(struct run *r, const struct ph_report_args *a, struct ph_err *err) {
  char buf[PH_REPORT_REGION_MAX_PARKS * (PH_ID_MAX + 1) + 1];
  const char *ids[PH_REPORT_REGION_MAX_PARKS];
  int n, rc = ph_report_region_parks(&r->cfg, a->parks, buf, sizeof buf, ids, &n, err);
  if (rc) return rc == PH_ENOTFOUND ? PH_EINVAL : rc; /* the command line's fault */
  if ((rc = ph_refs_load(&r->cfg, &r->refs, err)) || (rc = open_db(r, r->cfg.db_path, err))) return rc;
  struct ph_report_env env = {.refs = &r->refs};
  if ((rc = ph_report_region_build(r->db, &env, ids, n, a->year, a->now_ms ? a->now_ms : ph_now_ms(), &r->tree, err)))
    return rc;
  enum ph_lang lang = a->lang_set ? a->lang : ph_report_region_default_lang(&r->cfg, ids, n);
  return write_out(r->tree, a->format, lang, a->out_path, true, err);
}

int ph_report_run(const struct ph_report_args *a, struct ph_err *err) {
  struct run r = {0};
  int rc;
  char parks[1024];
  if (a && a->config && a->parks && !a->park) {
    if (a->year < 1971 || a->year > 9998) return ph_fail(err, PH_EINVAL, "--year %d is outside 1971..9998", a->year);
    if ((rc = ph_hub_config_load(a->config, &r.cfg, err))) return rc;
    r.cfg_loaded = r.refs_loaded = true; /* ph_refs_fini frees a partial load too */
    rc = run_region(&r, a, err);
    run_free(&r);
    return rc;
  }
  if (!a || !a->config || !a->park) return ph_fail(err, PH_EINVAL, "--config, --park and --year are required");
  if (a->year < 1971 || a->year > 9998) return ph_fail(err, PH_EINVAL, "--year %d is outside 1971..9998", a->year);
  if ((rc = ph_hub_config_load(a->config, &r.cfg, err))) goto out;
  r.cfg_loaded = true;
  const struct ph_hub_park *p = ph_hub_config_park(&r.cfg, a->park);
  if (!p) {
    list_parks(&r.cfg, parks, sizeof parks);
    rc = ph_fail(err, PH_EINVAL, "--park '%s' is not a park of %s (configured: %s)", a->park, a->config, parks);
    goto out;
  }
  r.refs_loaded = true; /* ph_refs_fini frees a partial load too */
  if ((rc = ph_refs_load(&r.cfg, &r.refs, err))) goto out;
  if ((rc = open_db(&r, r.cfg.db_path, err))) goto out;
  struct ph_report_env env = {.refs = &r.refs};
  if ((rc = ph_report_build(r.db, &env, a->park, a->year, a->now_ms ? a->now_ms : ph_now_ms(), &r.tree, err)))
    goto out;
  rc = write_out(r.tree, a->format, a->lang_set ? a->lang : ph_report_default_lang(p), a->out_path, false, err);
out:
  run_free(&r);
  return rc;
}
