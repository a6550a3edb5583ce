/* hub_stage_fixture.h — shared by the stage tests (test_hub_writer.c,
 * test_hub_ingest_stage.c): a hub configuration loaded the way parkhub
 * loads it (ph_hub_config_load on a file in a temporary directory, so every
 * default is the real one), the built-in catalogue, the park's zone and the
 * built-in limits, and a JSON batch builder with times near now (the
 * decoder refuses times too far from the clock).
 *
 * Park p1 (Asia/Shanghai): enterprise e1 with agent gw (max_seq_ahead 100)
 * and enterprise e2 with agent gw2. Park p2 is not served.
 */
#ifndef HUB_STAGE_FIXTURE_H
#define HUB_STAGE_FIXTURE_H

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/hub_config.h"
#include "parkhub/catalog.h"
#include "parkhub/limits.h"
#include "parkhub/timefmt.h"
#include "parkhub/tz.h"

#define FX_UNUSED static __attribute__((unused)) /* not every test file uses every helper */
#define FX_AHEAD 100 /* e1's max_seq_ahead */

static char fx_dir[64], fx_db[128];
static struct ph_hub_config fx_cfg;
static struct ph_catalog *fx_cat;
static struct ph_tz *fx_tz[1];
static struct ph_limits *fx_lim[1];

static void fx_load(void) {
  strcpy(fx_dir, "/tmp/phstageXXXXXX");
  cr_assert_not_null(mkdtemp(fx_dir));
  snprintf(fx_db, sizeof fx_db, "%s/hub.db", fx_dir);
  char path[160];
  snprintf(path, sizeof path, "%s/hub.json", fx_dir);
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fprintf(f,
          "{\"hub_id\":\"h\",\"mqtt\":{\"uris\":[\"tcp://127.0.0.1:1\"]},\"db\":{\"path\":\"%s\"},\"parks\":["
          "{\"id\":\"p1\",\"tz\":\"Asia/Shanghai\",\"enterprises\":["
          "{\"id\":\"e1\",\"sector\":\"cu\",\"class\":\"new\",\"agents\":[\"gw\"],\"max_seq_ahead\":%d},"
          "{\"id\":\"e2\",\"sector\":\"cu\",\"class\":\"new\",\"agents\":[\"gw2\"]}]}]}",
          fx_db, FX_AHEAD);
  fclose(f);
  struct ph_err err = {0};
  cr_assert_eq(ph_hub_config_load(path, &fx_cfg, &err), 0, "%s", err.msg);
  unlink(path);
  cr_assert_eq(ph_catalog_load_builtin(&fx_cat, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_tz_load(fx_cfg.parks[0].tz, &fx_tz[0], &err), 0, "%s", err.msg);
  cr_assert_eq(ph_limits_load_builtin(&fx_lim[0], &err), 0, "%s", err.msg);
}

static void fx_unload(void) {
  ph_limits_free(fx_lim[0]);
  ph_tz_free(fx_tz[0]);
  ph_catalog_free(fx_cat);
  ph_hub_config_fini(&fx_cfg);
  char f[160];
  static const char *const sfx[] = {"", "-wal", "-shm"};
  for (int i = 0; i < 3; i++) {
    snprintf(f, sizeof f, "%s%s", fx_db, sfx[i]);
    unlink(f);
  }
  rmdir(fx_dir);
}

/* An emission batch of agent (epoch, seq, oldest) with one record per value
 * in so2[0..n), a minute apart, ending a few minutes before now, on point
 * stack-1. Returns a static buffer. */
FX_UNUSED const char *fx_batch(const char *agent, int64_t epoch, int64_t seq, int64_t oldest, const double *so2,
                               int n) {
  static char buf[8192];
  char ts[40], sent[40];
  int64_t now = ph_now_ms();
  now -= now % 60000;
  ph_time_format(now, sent, sizeof sent);
  int len = snprintf(buf, sizeof buf,
                     "{\"v\":1,\"agent\":\"%s\",\"epoch\":%lld,\"seq\":%lld,\"oldest\":%lld,\"sent\":\"%s\",\"records\":[",
                     agent, (long long)epoch, (long long)seq, (long long)oldest, sent);
  for (int i = 0; i < n; i++) {
    ph_time_format(now - (int64_t)(n - i + 2) * 60000, ts, sizeof ts);
    len += snprintf(buf + len, sizeof buf - (size_t)len, "%s{\"ts\":\"%s\",\"point\":\"stack-1\",\"values\":{\"so2\":%g}}",
                    i ? "," : "", ts, so2[i]);
  }
  snprintf(buf + len, sizeof buf - (size_t)len, "]}");
  cr_assert_lt((size_t)len + 2, sizeof buf);
  return buf;
}

#endif
