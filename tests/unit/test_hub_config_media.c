/* test_hub_config_media.c — point media in the hub configuration (issue #20
 * item 1): an air stack or a water outlet, a water outlet with its
 * discharge type; every refusal names the point and the key. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config/hub_config.h"

static const char *write_cfg(const char *point_media) {
  static char path[64];
  snprintf(path, sizeof path, "/tmp/ph_cfg_media_%d.json", (int)getpid());
  FILE *f = fopen(path, "w");
  cr_assert(f);
  fprintf(f,
          "{\"hub_id\":\"h\",\"mqtt\":{\"uris\":[\"tcp://127.0.0.1:1\"]},\"db\":{\"path\":\"x.db\"},\"parks\":["
          "{\"id\":\"p1\",\"enterprises\":[{\"id\":\"e1\",\"sector\":\"cu\",\"class\":\"new\",\"agents\":[\"a\"]%s%s}]}]}",
          point_media ? ",\"point_media\":" : "", point_media ? point_media : "");
  fclose(f);
  return path;
}

Test(hub_config_media, air_stack_and_water_outlets) {
  const char *path = write_cfg("{\"stack-1\":{\"medium\":\"air\"},\"ww-1\":{\"medium\":\"water\",\"discharge\":\"direct\"},"
                               "\"ww-2\":{\"medium\":\"water\",\"discharge\":\"indirect\"}}");
  struct ph_hub_config cfg;
  struct ph_err err = {0};
  cr_assert_eq(ph_hub_config_load(path, &cfg, &err), 0, "%s", err.msg);
  const struct ph_hub_ent *e = ph_hub_config_ent(ph_hub_config_park(&cfg, "p1"), "e1");
  enum ph_discharge d = PH_DISCHARGE_INDIRECT;
  cr_assert_eq(ph_hub_point_medium(e, "stack-1", &d), PH_MEDIUM_AIR);
  cr_assert_eq(d, PH_DISCHARGE_NONE);
  cr_assert_eq(ph_hub_point_medium(e, "ww-1", &d), PH_MEDIUM_WATER);
  cr_assert_eq(d, PH_DISCHARGE_DIRECT);
  cr_assert_eq(ph_hub_point_medium(e, "ww-2", &d), PH_MEDIUM_WATER);
  cr_assert_eq(d, PH_DISCHARGE_INDIRECT);
  cr_assert_eq(ph_hub_point_medium(e, "furnace-1", &d), PH_MEDIUM_UNSET, "undeclared: as before");
  cr_assert_eq(d, PH_DISCHARGE_NONE);
  cr_assert_eq(ph_hub_point_medium(e, "ww-1", NULL), PH_MEDIUM_WATER, "discharge out-param optional");
  cr_assert_str_eq(ph_medium_name(PH_MEDIUM_WATER), "water");
  cr_assert_str_eq(ph_discharge_name(PH_DISCHARGE_INDIRECT), "indirect");
  ph_hub_config_fini(&cfg);
  unlink(path);
}

Test(hub_config_media, absent_means_no_declared_points) {
  const char *path = write_cfg(NULL);
  struct ph_hub_config cfg;
  struct ph_err err = {0};
  cr_assert_eq(ph_hub_config_load(path, &cfg, &err), 0, "%s", err.msg);
  const struct ph_hub_ent *e = ph_hub_config_ent(ph_hub_config_park(&cfg, "p1"), "e1");
  cr_assert_eq(e->npoint_media, 0);
  cr_assert_eq(ph_hub_point_medium(e, "stack-1", NULL), PH_MEDIUM_UNSET);
  ph_hub_config_fini(&cfg);
  unlink(path);
}

static void refused(const char *point_media, const char *want) {
  const char *path = write_cfg(point_media);
  struct ph_hub_config cfg;
  struct ph_err err = {0};
  cr_assert_eq(ph_hub_config_load(path, &cfg, &err), PH_ECONFIG, "%s accepted", point_media);
  cr_assert(strstr(err.msg, path) && strstr(err.msg, want), "want '%s' in: %s", want, err.msg);
  ph_hub_config_fini(&cfg);
  unlink(path);
}

Test(hub_config_media, refusals_name_point_and_key) {
  refused("{\"ww-1\":{\"medium\":\"water\"}}", "point_media.ww-1.discharge: a water outlet needs");
  refused("{\"ww-1\":{\"medium\":\"water\",\"discharge\":\"sea\"}}", "point_media.ww-1.discharge: a water outlet needs");
  refused("{\"s-1\":{\"medium\":\"air\",\"discharge\":\"direct\"}}", "point_media.s-1.discharge: an air stack has no");
  refused("{\"s-1\":{\"medium\":\"soil\"}}", "point_media.s-1.medium: must be");
  refused("{\"s-1\":{}}", "point_media.s-1.medium: must be");
  refused("{\"s-1\":{\"medium\":\"air\",\"kind\":1}}", "point_media.s-1.kind: unknown key");
  refused("{\"Bad\":{\"medium\":\"air\"}}", "point_media.Bad: must map a point id");
  refused("{\"s-1\":\"air\"}", "point_media.s-1: must map a point id");
  refused("[\"s-1\"]", "point_media: must be an object");
}
