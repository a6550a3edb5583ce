/* cems_basis.c — cems_basis.h: a park's stored CEMS figures against the
 * reference data in force, and their recomputation. */
#include "domain/cems_basis.h"

#include <stdio.h>
#include <string.h>

#include "domain/cems_basis_sql.h"
#include "parkhub/catalog.h"
#include "parkhub/digest.h"
#include "parkhub/limits.h"
#include "parkhub/log.h"

#define MOD "cems"

static uint64_t put_s(uint64_t d, const char *s) { return ph_digest64(d, s, strlen(s) + 1); }
static uint64_t put_i(uint64_t d, int64_t v) { return ph_digest64(d, &v, sizeof v); }
static uint64_t put_f(uint64_t d, double v) {
  char num[32];
  snprintf(num, sizeof num, "%.17g", v); /* the value, not its bytes: -0.0, padding */
  return put_s(d, num);
}

/* The facts of park p that ph_cems_update reads (inv. 4): the zone, which
 * materials are product, and per enterprise its limits and intervals. */
static uint64_t park_facts(const struct ph_hub_park *p) {
  uint64_t d = put_s(PH_DIGEST_SEED, p->tz);
  for (int i = 0; i < p->materials.n; i++)
    d = put_i(put_s(d, p->materials.v[i].code), p->materials.v[i].role);
  for (int i = 0; i < p->nents; i++) {
    const struct ph_hub_ent *e = &p->ents[i];
    d = put_s(put_s(put_s(d, e->id), e->standard), e->class_since);
    d = put_i(put_i(put_i(d, e->sector), e->plant_class), e->special_limits);
    d = put_f(d, e->expected_interval_s);
    for (int k = 0; k < e->npoint_intervals; k++)
      d = put_f(put_s(d, e->point_intervals[k].point), e->point_intervals[k].interval_s);
  }
  return d;
}

void ph_cems_basis_of(const struct ph_refs *refs, int p_idx, char *out, size_t cap) {
  uint64_t d = PH_DIGEST_SEED;
  for (size_t i = 0; i < refs->nlimits; i++) d = put_i(d, (int64_t)ph_limits_digest(refs->limits[i]));
  d = put_i(d, (int64_t)ph_catalog_digest(refs->cat));
  snprintf(out, cap, "%016llx-%016llx-v%d", (unsigned long long)park_facts(&refs->cfg->parks[p_idx]),
           (unsigned long long)d, PH_CEMS_BASIS_VERSION);
}

static int fail(sqlite3 *db, struct ph_err *err, const char *what) {
  return ph_fail(err, PH_EDB, "CEMS basis: %s: %s", what, sqlite3_errmsg(db));
}

/* One statement with the park (and maybe a text and a time) bound, stepped
 * once: its first column as an integer into *v (NULL: not wanted), or text
 * into txt (cap bytes; "" when no row). */
static int step1(sqlite3 *db, const char *sql, const char *park, const char *text, int64_t t, int64_t *v, char *txt,
                 size_t cap, struct ph_err *err) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) return fail(db, err, "prepare");
  if (park) sqlite3_bind_text(s, 1, park, -1, SQLITE_STATIC);
  if (text) sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
  if (t) sqlite3_bind_int64(s, 3, t);
  int rc = sqlite3_step(s);
  if (txt) {
    const unsigned char *c = rc == SQLITE_ROW ? sqlite3_column_text(s, 0) : NULL;
    snprintf(txt, cap, "%s", c ? (const char *)c : "");
  }
  if (v) *v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
  sqlite3_finalize(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(db, err, "step");
}

/* Park p: compare, mark and record (inv. 1-3); *marked += its hours. */
static int check_park(sqlite3 *db, const struct ph_refs *refs, int p, int64_t now_ms, int64_t *marked,
                      struct ph_err *err) {
  const char *park = refs->cfg->parks[p].id;
  char now[PH_CEMS_BASIS_MAX], stored[PH_CEMS_BASIS_MAX];
  ph_cems_basis_of(refs, p, now, sizeof now);
  int64_t has_hours = 0, n = 0;
  int rc = step1(db, BASIS_SQL_GET, park, NULL, 0, NULL, stored, sizeof stored, err);
  if (!rc && !strcmp(stored, now)) return 0; /* inv. 3 */
  if (!rc && !stored[0]) rc = step1(db, BASIS_SQL_HAS_HOURS, park, NULL, 0, &has_hours, NULL, 0, err);
  if (!rc && (stored[0] || has_hours)) {
    rc = step1(db, BASIS_SQL_INVALIDATE, park, NULL, 0, NULL, NULL, 0, err);
    n = sqlite3_changes(db);
  }
  if (!rc) rc = step1(db, BASIS_SQL_SET, park, now, now_ms, NULL, NULL, 0, err);
  if (rc) return rc;
  if (n)
    PH_WARN(MOD, "park %s: %s: recomputing its CEMS figures, %lld hours (basis %s, was %s)", park,
            stored[0] ? "configuration, limit standards or catalogue changed since they were computed"
                      : "figures from before their basis was recorded",
            (long long)n, now, stored[0] ? stored : "not recorded");
  *marked += n;
  return 0;
}

int ph_cems_basis_check(sqlite3 *db, const struct ph_refs *refs, int64_t now_ms, int64_t *hours,
                        struct ph_err *err) {
  int64_t marked = 0;
  if (sqlite3_exec(db, BASIS_SQL_TABLE "; BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    return fail(db, err, "begin");
  int rc = 0;
  for (int p = 0; p < refs->cfg->nparks && !rc; p++) rc = check_park(db, refs, p, now_ms, &marked, err);
  if (!rc && marked && sqlite3_exec(db, BASIS_SQL_CLOSED_BACK, NULL, NULL, NULL) != SQLITE_OK)
    rc = fail(db, err, "closed_until");
  if (!rc && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) rc = fail(db, err, "commit");
  if (rc) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  else if (hours) *hours = marked;
  return rc;
}
