/* test_src_hj212_versions.c — HJ 212 breadth at the gateway (issue #20):
 * the version of a packet (Flag's version bits, a logger's "version"), the
 * factor tables (hj212_codes.c) against the catalogue, water codes and
 * their units, HJ/T 212-2005 codes, -ZsRtd/-ZsAvg for a logger's
 * "corrected" codes, -Cou of water flow, a logger's "units", HJ 212-2025
 * packets and responses, and split messages (hj212_split.c) in every order
 * and past every bound (hj212.h inv. 6). No network, no clock: times are
 * given. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hj212/hj212.h"
#include "parkhub/timefmt.h"

static struct ph_catalog *cat;
static void setup(void) {
  struct ph_err err = {0};
  cr_assert_eq(ph_catalog_load_builtin(&cat, &err), 0, "%s", err.msg);
}
static void teardown(void) { ph_catalog_free(cat); }

static int map_from(struct ph_hj212_map *m, const char *json, struct ph_err *err) {
  cJSON *o = cJSON_Parse(json);
  cr_assert_not_null(o, "%s", json);
  int rc = ph_hj212_map_init(m, cat, o, "UTC", NULL, err);
  cJSON_Delete(o);
  return rc;
}

static int parse(const char *seg, struct ph_hj212_packet *p) {
  struct ph_err err = {0};
  int rc = ph_hj212_parse(seg, strlen(seg), p, &err);
  cr_assert_eq(rc, 0, "%s: %s", seg, err.msg);
  return rc;
}

/* Maps seg with m; returns map_records' code, err filled. */
static int records_of(const struct ph_hj212_map *m, const char *seg, struct ph_hj212_records *out, struct ph_err *err) {
  struct ph_hj212_packet p;
  static struct ph_hj212_data d;
  parse(seg, &p);
  int rc = ph_hj212_map_data(m, &p, &d, err);
  if (rc) return rc;
  return ph_hj212_map_records(m, &p, &d, 0, out, err);
}

static const struct ph_value *value_of(const struct ph_hj212_records *o, const char *code) {
  int idx = ph_catalog_find(cat, code, strlen(code));
  cr_assert_geq(idx, 0, "%s is in the catalogue", code);
  for (int i = 0; i < o->nrec; i++)
    for (int k = 0; k < o->rec[i].r.nvalues; k++)
      if (o->rec[i].v[k].metric == idx) return &o->rec[i].v[k];
  return NULL;
}

TestSuite(hj212_versions, .init = setup, .fini = teardown);

Test(hj212_versions, flag_version_bits_and_logger_setting) {
  struct ph_hj212_packet p = {.flag = -1};
  cr_expect_eq(ph_hj212_packet_version(&p, PH_HJ212_V_AUTO), PH_HJ212_V2005, "no Flag: 2005");
  static const struct {
    int flag, v;
  } cases[] = {{0, PH_HJ212_V2005},  {1, PH_HJ212_V2005},  {3, PH_HJ212_V2005},  {4, PH_HJ212_V2017},
               {5, PH_HJ212_V2017},  {7, PH_HJ212_V2017},  {8, PH_HJ212_V2025},  {9, PH_HJ212_V2025},
               {11, PH_HJ212_V2025}, {12, PH_HJ212_V_UNKNOWN}, {255, PH_HJ212_V_UNKNOWN}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    p.flag = cases[i].flag;
    cr_expect_eq(ph_hj212_packet_version(&p, PH_HJ212_V_AUTO), cases[i].v, "Flag=%d", cases[i].flag);
    cr_expect_eq(ph_hj212_packet_version(&p, PH_HJ212_V2017), PH_HJ212_V2017, "the logger's setting wins");
  }
  cr_expect_str_eq(ph_hj212_version_name(PH_HJ212_V2025), "HJ 212-2025");
}

/* Every factor of the table maps to a catalogue metric with its code, in a
 * unit the agent converts; 2005 codes are unique and never look like 2017
 * codes (hj212_codes.c inv. 2); the metals whose 2005 unit is not confirmed
 * have no 2005 mapping (inv. 1). */
Test(hj212_versions, factor_table_agrees_with_the_catalogue) {
  cr_assert_geq(ph_hj212_factor_count(), 30);
  for (size_t i = 0; i < ph_hj212_factor_count(); i++) {
    const struct ph_hj212_factor *f = ph_hj212_factor_at(i);
    cr_expect(ph_hj212_code_is_2017(f->code), "%s", f->code);
    int k = ph_catalog_find_hj212(cat, f->code);
    cr_assert_geq(k, 0, "%s has a catalogue metric", f->code);
    const struct ph_metric *mt = ph_catalog_at(cat, (size_t)k);
    cr_expect_gt(ph_hj212_unit_factor(f->unit, mt->unit), 0, "%s: %s -> %s", f->code, f->unit, mt->unit);
    cr_expect(f->name_zh && f->name_zh[0], "%s has its Chinese name", f->code);
    if (f->code2005 && f->unit2005) {
      cr_expect_not(ph_hj212_code_is_2017(f->code2005), "%s", f->code2005);
      cr_expect_eq(ph_hj212_factor_2005(f->code2005), f, "%s is unique", f->code2005);
      cr_expect_gt(ph_hj212_unit_factor(f->unit2005, mt->unit), 0, "%s", f->code2005);
    }
    if (f->cou_metric) {
      int c = ph_catalog_find(cat, f->cou_metric, strlen(f->cou_metric));
      cr_assert_geq(c, 0, "%s", f->cou_metric);
      cr_expect_gt(ph_hj212_unit_factor(f->cou_unit, ph_catalog_at(cat, (size_t)c)->unit), 0);
      cr_expect_eq(ph_catalog_at(cat, (size_t)c)->agg, PH_AGG_SUM, "a volume per interval sums");
    }
  }
  const char *water[] = {"w01001", "w01018", "w21003", "w21011", "w21001", "w01012", "w20122", "w20123", "w20120",
                         "w20115", "w20119", "w20111", "w20121", "w20116", "w20117", "w22001", "w00000"};
  for (size_t i = 0; i < sizeof water / sizeof water[0]; i++)
    cr_expect_not_null(ph_hj212_factor_2017(water[i]), "issue #20 lists %s", water[i]);
  const char *unconfirmed[] = {"020", "022", "024", "026", "027"};
  for (size_t i = 0; i < 5; i++) cr_expect_null(ph_hj212_factor_2005(unconfirmed[i]), "%s", unconfirmed[i]);
  cr_expect_str_eq(ph_hj212_factor_2005("011")->code, "w01018");
  cr_expect_str_eq(ph_hj212_factor_2005("B01")->code, "w00000");
  cr_expect_str_eq(ph_hj212_factor_2005("02")->code, "a21026");
  cr_expect_str_eq(ph_hj212_factor_2005("S08")->code, "a01013");
}

/* A 2017 wastewater packet: codes to the water metrics, µg/L to mg/L,
 * L/s to m3/h, flags kept. */
Test(hj212_versions, water_packet_2017_units_converted) {
  struct ph_hj212_map m;
  struct ph_err err = {0};
  cr_assert_eq(map_from(&m, "{\"loggers\":[{\"mn\":\"W1\",\"point\":\"outfall-1\"}]}", &err), 0, "%s", err.msg);
  static struct ph_hj212_records o;
  cr_assert_eq(records_of(&m, "QN=20260301143000000;ST=32;CN=2011;PW=123456;MN=W1;Flag=5;CP=&&DataTime=20260301143000;"
                              "w01018-Rtd=45.2,w01018-Flag=N;w21003-Rtd=1.2;w01001-Rtd=7.4;w21011-Rtd=0.3;w21001-Rtd=8;"
                              "w01012-Rtd=12;w20122-Rtd=0.21;w20123-Rtd=0.5;w20120-Rtd=12.5;w20115-Rtd=3;w20119-Rtd=40;"
                              "w20111-Rtd=0.5;w20121-Rtd=0.1;w20116-Rtd=0.2;w20117-Rtd=25,w20117-Flag=M;w22001-Rtd=1.1;"
                              "w00000-Rtd=12.5,w00000-Flag=N;w01010-Rtd=18.5&&",
                          &o, &err), 0, "%s", err.msg);
  cr_assert_eq(o.nrec, 1);
  cr_expect_eq(o.version, PH_HJ212_V2017);
  cr_expect_str_eq(o.rec[0].r.point, "outfall-1");
  cr_expect_eq(o.rec[0].r.nvalues, 18);
  cr_expect_eq(o.unknown, 0, "%s", o.unknown_list);
  cr_expect_eq(value_of(&o, "w_cod")->v, 45.2);
  cr_expect_eq(value_of(&o, "w_ph")->v, 7.4);
  cr_expect_float_eq(value_of(&o, "w_pb")->v, 0.0125, 1e-12, "w20120 µg/L to mg/L");
  cr_expect_float_eq(value_of(&o, "w_hg")->v, 0.0005, 1e-12);
  cr_expect_float_eq(value_of(&o, "w_cr6")->v, 0.025, 1e-12);
  cr_expect_eq(value_of(&o, "w_cr6")->flag, 'M');
  cr_expect_float_eq(value_of(&o, "w_flow")->v, 45.0, 1e-9, "12.5 L/s = 45 m3/h");
  cr_expect_eq(value_of(&o, "w_temp")->v, 18.5);
  ph_hj212_map_fini(&m);
}

/* Period data: -Avg, and the water volume from w00000-Cou (m3) unless the
 * logger turns "cou" off; a logger sending flow in m3/h says so in "units". */
Test(hj212_versions, water_volume_from_cou_and_logger_units) {
  struct ph_hj212_map m;
  struct ph_err err = {0};
  cr_assert_eq(map_from(&m, "{\"loggers\":[{\"mn\":\"W1\",\"point\":\"o1\"},"
                            "{\"mn\":\"W2\",\"point\":\"o2\",\"cou\":false,\"units\":{\"w00000\":\"m3/h\",\"w20120\":\"mg/L\"}}]}",
                        &err), 0, "%s", err.msg);
  static struct ph_hj212_records o;
  const char *body = "CP=&&DataTime=20260301140000;w00000-Avg=10,w00000-Cou=36.0,w00000-Flag=N;w01018-Avg=30,w01018-Cou=1.08;"
                     "w20120-Avg=0.02&&";
  char seg[512];
  snprintf(seg, sizeof seg, "QN=1;ST=32;CN=2061;MN=W1;Flag=4;%s", body);
  cr_assert_eq(records_of(&m, seg, &o, &err), 0, "%s", err.msg);
  cr_expect_float_eq(value_of(&o, "w_flow")->v, 36.0, 1e-9, "10 L/s");
  cr_expect_eq(value_of(&o, "w_volume")->v, 36.0, "w00000-Cou in m3");
  cr_expect_eq(value_of(&o, "w_cod")->v, 30, "the pollutant's Cou (kg) has no metric: the hub computes masses");
  cr_expect_float_eq(value_of(&o, "w_pb")->v, 0.00002, 1e-12);
  snprintf(seg, sizeof seg, "QN=1;ST=32;CN=2061;MN=W2;Flag=4;%s", body);
  cr_assert_eq(records_of(&m, seg, &o, &err), 0, "%s", err.msg);
  cr_expect_eq(value_of(&o, "w_flow")->v, 10, "this logger sends m3/h");
  cr_expect_null(value_of(&o, "w_volume"), "cou: false");
  cr_expect_eq(value_of(&o, "w_pb")->v, 0.02, "this logger sends lead in mg/L");
  /* real-time data has no period: its Cou is not a period's volume */
  cr_assert_eq(records_of(&m, "QN=2;ST=32;CN=2011;MN=W1;Flag=4;CP=&&DataTime=20260301140000;w00000-Rtd=1,w00000-Cou=5&&",
                          &o, &err), 0);
  cr_expect_null(value_of(&o, "w_volume"));
  ph_hj212_map_fini(&m);
  cr_expect_eq(map_from(&m, "{\"loggers\":[{\"mn\":\"W\",\"point\":\"o\",\"units\":{\"w00000\":\"furlongs\"}}]}", &err),
               PH_ECONFIG);
  cr_expect(strstr(err.msg, "loggers[0].units.w00000"), "%s", err.msg);
  cr_expect_eq(map_from(&m, "{\"loggers\":[{\"mn\":\"W\",\"point\":\"o\",\"units\":{\"x99\":\"mg/L\"}}]}", &err),
               PH_ECONFIG);
  cr_expect_eq(map_from(&m, "{\"loggers\":[{\"mn\":\"W\",\"point\":\"o\",\"version\":\"2010\"}]}", &err), PH_ECONFIG);
  cr_expect_eq(map_from(&m, "{\"loggers\":[{\"mn\":\"W\",\"point\":\"o\",\"corrected\":[\"a-b\"]}]}", &err), PH_ECONFIG);
}

/* HJ/T 212-2005: no QN, no Flag, old codes; B01 in L/s, its Cou in m3;
 * 2005 codes and 2017 codes each in their own units. */
Test(hj212_versions, old_2005_codes_water_and_air) {
  struct ph_hj212_map m;
  struct ph_err err = {0};
  cr_assert_eq(map_from(&m, "{\"loggers\":[{\"mn\":\"LD1\",\"point\":\"o1\"},{\"mn\":\"LD2\",\"point\":\"s1\"},"
                            "{\"mn\":\"LD3\",\"point\":\"s3\",\"version\":\"2017\"}]}", &err), 0, "%s", err.msg);
  static struct ph_hj212_records o;
  cr_assert_eq(records_of(&m, "ST=32;CN=2051;PW=123456;MN=LD1;CP=&&DataTime=20160824045000000;011-Cou=66.9,011-Min=19.73,"
                              "011-Avg=19.73,011-Max=19.73;060-Cou=1.635,060-Avg=0.48;B01-Cou=3392.21,B01-Avg=5653.68;"
                              "001-Avg=7.1;023-Avg=0.2;029-Avg=0.3;020-Avg=0.001&&",
                          &o, &err), 0, "%s", err.msg);
  cr_expect_eq(o.version, PH_HJ212_V2005);
  cr_expect_eq(value_of(&o, "w_cod")->v, 19.73);
  cr_expect_eq(value_of(&o, "w_nh3n")->v, 0.48);
  cr_expect_float_eq(value_of(&o, "w_flow")->v, 5653.68 * 3.6, 1e-6);
  cr_expect_eq(value_of(&o, "w_volume")->v, 3392.21);
  cr_expect_eq(value_of(&o, "w_ph")->v, 7.1);
  cr_expect_eq(value_of(&o, "w_cr")->v, 0.2);
  cr_expect_eq(value_of(&o, "w_cu")->v, 0.3);
  cr_expect_eq(o.unknown, 1, "total Hg 020: its 2005 unit is not confirmed, so it is not mapped");
  cr_expect_str_eq(o.unknown_code, "020");
  cr_expect(strstr(o.unknown_why, "w20111 总汞, whose 2005 unit is not confirmed"), "%s", o.unknown_why);
  /* air, with the same flag repeated after ZsRtd, as 2005 loggers send it */
  cr_assert_eq(records_of(&m, "ST=31;CN=2011;PW=123456;MN=LD2;CP=&&DataTime=20160824050243000;S01-Rtd=10.2,S01-Flag=N;"
                              "01-Rtd=3.56,01-Flag=N;01-ZsRtd=4.93,01-Flag=N;02-Rtd=13.00,02-Flag=N;02-ZsRtd=18.05,"
                              "02-Flag=N;03-Rtd=32.742,03-Flag=N;B02-Rtd=38.57;S08-Rtd=-0.15&&",
                          &o, &err), 0, "%s", err.msg);
  cr_expect_eq(o.refused, 0, "%s", o.first_refusal.msg);
  cr_expect_eq(value_of(&o, "pm")->v, 3.56, "-Rtd, not the converted value, by default");
  cr_expect_eq(value_of(&o, "so2")->flag, 'N', "one letter twice is one flag");
  cr_expect_float_eq(value_of(&o, "flow")->v, 38.57 * 3600, 1e-6, "B02 m3/s");
  cr_expect_eq(value_of(&o, "pressure")->v, -0.15);
  /* a logger set to 2017 sending an old code: named, with the fix */
  cr_assert_eq(records_of(&m, "ST=31;CN=2011;MN=LD3;CP=&&DataTime=20160824050243000;02-Rtd=13&&", &o, &err), 0);
  cr_expect_eq(o.unknown, 1);
  cr_expect(strstr(o.unknown_why, "HJ/T 212-2005 code"), "%s", o.unknown_why);
  cr_expect(strstr(o.unknown_why, "\"version\": \"2005\""), "%s", o.unknown_why);
  /* a 2005 packet (Flag=0) carrying a 2017 code: named too */
  cr_assert_eq(records_of(&m, "QN=1;ST=31;CN=2011;MN=LD2;Flag=0;CP=&&DataTime=20160824050243000;a21026-Rtd=13&&", &o,
                          &err), 0);
  cr_expect_eq(o.unknown, 1);
  cr_expect(strstr(o.unknown_why, "HJ 212-2017 code in a packet read as HJ/T 212-2005"), "%s", o.unknown_why);
  ph_hj212_map_fini(&m);
}

/* A logger's "corrected" codes publish -ZsRtd/-ZsAvg; a missing Zs value
 * is named, not replaced by the measured one. */
Test(hj212_versions, corrected_values_for_listed_codes) {
  struct ph_hj212_map m;
  struct ph_err err = {0};
  cr_assert_eq(map_from(&m, "{\"loggers\":[{\"mn\":\"S\",\"point\":\"s\",\"corrected\":[\"a21026\",\"a34013\",\"02\"]}]}",
                        &err), 0, "%s", err.msg);
  static struct ph_hj212_records o;
  cr_assert_eq(records_of(&m, "QN=1;ST=31;CN=2061;MN=S;Flag=4;CP=&&DataTime=20260301140000;a21026-Avg=30,a21026-ZsAvg=42.5;"
                              "a34013-Avg=5;a19001-Avg=12&&",
                          &o, &err), 0, "%s", err.msg);
  cr_expect_eq(value_of(&o, "so2")->v, 42.5);
  cr_expect_null(value_of(&o, "pm"), "no -ZsAvg: left out");
  cr_expect_eq(o.refused, 1);
  cr_expect(strstr(o.first_refusal.msg, "-ZsAvg missing"), "%s", o.first_refusal.msg);
  cr_expect_eq(value_of(&o, "o2")->v, 12, "codes not listed: the measured value");
  cr_assert_eq(records_of(&m, "ST=31;CN=2011;MN=S;CP=&&DataTime=20260301140000;02-Rtd=13,02-ZsRtd=18.05&&", &o, &err), 0);
  cr_expect_eq(value_of(&o, "so2")->v, 18.05, "2005 code listed");
  ph_hj212_map_fini(&m);
}

/* HJ 212-2025: Flag 8/9 read as 2025 with 2017's codes; unknown version
 * bits refused; a data area that is not name=value pairs named as probably
 * encrypted; the response carries 2025's version bits (Flag=8), exactly as
 * the public 2025 implementation's example (caoyiliang/HJ212 Test/Program.cs). */
Test(hj212_versions, hj212_2025_packets_and_response) {
  struct ph_hj212_map m;
  struct ph_err err = {0};
  cr_assert_eq(map_from(&m, "{\"loggers\":[{\"mn\":\"010000A8900016F000169DC0\",\"point\":\"s\"}]}", &err), 0);
  static struct ph_hj212_records o;
  cr_assert_eq(records_of(&m, "QN=20260601085857223;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=9;"
                              "CP=&&DataTime=20260601085857;w01018-Rtd=50.4,w01018-Flag=N&&",
                          &o, &err), 0, "%s", err.msg);
  cr_expect_eq(o.version, PH_HJ212_V2025);
  cr_expect_eq(value_of(&o, "w_cod")->v, 50.4);
  cr_expect_eq(records_of(&m, "QN=1;ST=32;CN=2011;MN=010000A8900016F000169DC0;Flag=13;CP=&&DataTime=20260601085857&&", &o,
                          &err), PH_EVERSION);
  cr_expect(strstr(err.msg, "version bits 3"), "%s", err.msg);
  cr_expect_eq(records_of(&m, "QN=1;ST=32;CN=2011;MN=010000A8900016F000169DC0;Flag=9;CP=&&3FA9C0D2E17B44A0&&", &o, &err),
               PH_EVERSION);
  cr_expect(strstr(err.msg, "encrypted"), "%s", err.msg);
  cr_expect_eq(records_of(&m, "QN=1;ST=32;CN=2011;MN=010000A8900016F000169DC0;Flag=9;CP=&&P6Xn2kQ9vB1sLw==&&", &o, &err),
               PH_EVERSION, "base64-like text with '='");
  cr_expect_eq(records_of(&m, "QN=1;ST=32;CN=2011;MN=010000A8900016F000169DC0;Flag=5;CP=&&3FA9C0D2E17B44A0&&", &o, &err),
               PH_EJSON, "in 2017 it is just malformed");
  /* the 9014 response, against the 2025 implementation's own example */
  struct ph_hj212_packet p;
  parse("QN=20240601085857223;ST=32;CN=1062;PW=123456;MN=010000A8900016F000169DC0;Flag=9;CP=&&RtdInterval=30&&", &p);
  char ack[PH_HJ212_ACK_MAX];
  int n = ph_hj212_build_ack(&p, PH_HJ212_CRC_STD, false, ack, sizeof ack);
  cr_assert_gt(n, 0);
  const char *want = "QN=20240601085857223;ST=91;CN=9014;PW=123456;MN=010000A8900016F000169DC0;Flag=8;CP=&&&&";
  cr_expect_eq(memcmp(ack + 6, want, strlen(want)), 0, "%.*s", n, ack);
  n = ph_hj212_build_ack_v(&p, PH_HJ212_V2005, PH_HJ212_CRC_STD, false, ack, sizeof ack);
  cr_expect(strstr(ack, ";Flag=0;"), "2005: no version bits: %s", ack);
  ph_hj212_map_fini(&m);
}

/* ---- split messages ------------------------------------------------------ */

TestSuite(hj212_split, .init = setup, .fini = teardown);

/* The parts of the standard's split example shape (Table C.50: Flag=7,
 * PNUM, PNO, each part with DataTime), PNO and PNUM in either order. */
static const char *part_seg(char *buf, size_t n, int pnum, int pno, bool pno_first, const char *qn, const char *body) {
  if (pno_first)
    snprintf(buf, n, "QN=%s;ST=32;CN=2061;PW=123456;MN=W1;Flag=7;PNO=%d;PNUM=%d;CP=&&DataTime=20160801080000;%s&&", qn,
             pno, pnum, body);
  else
    snprintf(buf, n, "QN=%s;ST=32;CN=2061;PW=123456;MN=W1;Flag=7;PNUM=%d;PNO=%d;CP=&&DataTime=20160801080000;%s&&", qn,
             pnum, pno, body);
  return buf;
}

static const char *const bodies[3] = {"w00000-Avg=10,w00000-Cou=36.0", "w01018-Avg=45.2,w01018-Flag=N",
                                      "w21003-Avg=1.5;w01001-Avg=7.2"};

/* Feeds the three parts in `order`; returns the last add's code. */
static int feed(struct ph_hj212_asm *a, const int order[3], bool pno_first, struct ph_hj212_packet *whole) {
  int rc = 0;
  for (int i = 0; i < 3; i++) {
    char seg[512];
    struct ph_hj212_packet p;
    parse(part_seg(seg, sizeof seg, 3, order[i], pno_first, "20160801085857223", bodies[order[i] - 1]), &p);
    struct ph_err err = {0};
    rc = ph_hj212_asm_add(a, &p, 1000 + i, whole, NULL, &err);
    if (i < 2) cr_assert_eq(rc, PH_HJ212_ASM_HELD, "part %d: %s", order[i], err.msg);
  }
  return rc;
}

Test(hj212_split, parts_in_any_order_become_one_record) {
  static const int orders[][3] = {{1, 2, 3}, {3, 2, 1}, {2, 3, 1}};
  struct ph_hj212_map m;
  struct ph_err err = {0};
  cr_assert_eq(map_from(&m, "{\"loggers\":[{\"mn\":\"W1\",\"point\":\"o1\"}]}", &err), 0);
  struct ph_hj212_asm a;
  cr_assert_eq(ph_hj212_asm_init(&a, 4096, 16), 0);
  for (size_t k = 0; k < 3; k++)
    for (int pf = 0; pf < 2; pf++) {
      struct ph_hj212_packet whole;
      cr_assert_eq(feed(&a, orders[k], pf, &whole), PH_HJ212_ASM_DONE);
      cr_expect_eq(whole.pno, 0);
      cr_expect_eq(whole.pnum, 3);
      cr_expect_str_eq(whole.qn, "20160801085857223");
      static struct ph_hj212_data d;
      static struct ph_hj212_records o;
      cr_assert_eq(ph_hj212_map_data(&m, &whole, &d, &err), 0, "%.*s: %s", (int)whole.cp_len, whole.cp, err.msg);
      cr_assert_eq(ph_hj212_map_records(&m, &whole, &d, 0, &o, &err), 0, "%s", err.msg);
      cr_assert_eq(o.nrec, 1, "one record for the whole message");
      cr_expect_eq(o.rec[0].r.nvalues, 5, "%.*s", (int)whole.cp_len, whole.cp);
      cr_expect_eq(value_of(&o, "w_volume")->v, 36.0);
      cr_expect_eq(value_of(&o, "w_cod")->v, 45.2);
      cr_expect_eq(value_of(&o, "w_ph")->v, 7.2);
      cr_expect_eq(o.rec[0].r.ts_ms, (ph_days_from_civil(2016, 8, 1) * 86400 + 8 * 3600) * 1000LL);
    }
  cr_expect_eq(a.st.messages, 6);
  cr_expect_eq(a.st.dropped, 0);
  ph_hj212_asm_fini(&a);
  ph_hj212_map_fini(&m);
}

Test(hj212_split, resent_part_counts_once_and_other_message_supersedes) {
  struct ph_hj212_asm a;
  cr_assert_eq(ph_hj212_asm_init(&a, 4096, 16), 0);
  char seg[512];
  struct ph_hj212_packet p, whole;
  struct ph_err err = {0};
  bool sup = false;
  parse(part_seg(seg, sizeof seg, 2, 1, false, "111", bodies[0]), &p);
  cr_expect_eq(ph_hj212_asm_add(&a, &p, 0, &whole, &sup, &err), PH_HJ212_ASM_HELD);
  cr_expect_eq(ph_hj212_asm_add(&a, &p, 1, &whole, &sup, &err), PH_HJ212_ASM_HELD, "resent: held again (answered again)");
  parse(part_seg(seg, sizeof seg, 2, 2, false, "222", bodies[1]), &p);
  cr_expect_eq(ph_hj212_asm_add(&a, &p, 2, &whole, &sup, &err), PH_HJ212_ASM_HELD, "another QN: a new message");
  cr_expect(sup, "the unfinished one is dropped, counted");
  cr_expect_eq(a.st.dropped, 1);
  parse(part_seg(seg, sizeof seg, 2, 1, false, "222", bodies[0]), &p);
  cr_assert_eq(ph_hj212_asm_add(&a, &p, 3, &whole, &sup, &err), PH_HJ212_ASM_DONE, "%s", err.msg);
  cr_expect_eq(whole.cp_len, strlen("DataTime=20160801080000;w00000-Avg=10,w00000-Cou=36.0;w01018-Avg=45.2,w01018-Flag=N"),
               "%.*s", (int)whole.cp_len, whole.cp);
  ph_hj212_asm_fini(&a);
}

/* inv. 6: parts, bytes and time are bounded; each bound names itself. */
Test(hj212_split, bounds_on_parts_bytes_time_and_time_agreement) {
  struct ph_hj212_asm a;
  cr_assert_eq(ph_hj212_asm_init(&a, 128, 4), 0);
  char seg[512], big[200];
  struct ph_hj212_packet p, whole;
  struct ph_err err = {0};
  parse(part_seg(seg, sizeof seg, 5, 1, false, "1", bodies[0]), &p);
  cr_expect_eq(ph_hj212_asm_add(&a, &p, 0, &whole, NULL, &err), PH_ETOOMANY);
  cr_expect(strstr(err.msg, "5 parts"), "%s", err.msg);
  memset(big, 0, sizeof big);
  strcpy(big, "w01018-Avg=1");
  for (size_t i = strlen(big); i + 12 < 150; i += 12) strcat(big, ";w01018-Max=");
  strcat(big, "1");
  parse(part_seg(seg, sizeof seg, 2, 1, false, "2", bodies[0]), &p);
  cr_expect_eq(ph_hj212_asm_add(&a, &p, 0, &whole, NULL, &err), PH_HJ212_ASM_HELD);
  parse(part_seg(seg, sizeof seg, 2, 2, false, "2", big), &p);
  cr_expect_eq(ph_hj212_asm_add(&a, &p, 0, &whole, NULL, &err), PH_ETOOLARGE);
  cr_expect_not(a.busy, "the message's parts are dropped");
  /* timeout: the missing part is named */
  parse(part_seg(seg, sizeof seg, 3, 2, false, "3", bodies[1]), &p);
  cr_expect_eq(ph_hj212_asm_add(&a, &p, 1000, &whole, NULL, &err), PH_HJ212_ASM_HELD);
  cr_expect_eq(ph_hj212_asm_expire(&a, 60999, 60000, &err), 0, "not yet");
  cr_expect_eq(ph_hj212_asm_expire(&a, 61001, 60000, &err), 1);
  cr_expect(strstr(err.msg, "part(s) 1,3 of 3 missing"), "%s", err.msg);
  cr_expect_eq(a.st.timeouts, 1);
  /* parts of one message disagreeing on DataTime */
  ph_hj212_asm_fini(&a);
  cr_assert_eq(ph_hj212_asm_init(&a, 4096, 4), 0);
  parse("QN=4;ST=32;CN=2061;MN=W1;Flag=7;PNUM=2;PNO=1;CP=&&DataTime=20160801080000;w01018-Avg=1&&", &p);
  cr_expect_eq(ph_hj212_asm_add(&a, &p, 0, &whole, NULL, &err), PH_HJ212_ASM_HELD);
  parse("QN=4;ST=32;CN=2061;MN=W1;Flag=7;PNUM=2;PNO=2;CP=&&DataTime=20160801090000;w21003-Avg=1&&", &p);
  cr_expect_eq(ph_hj212_asm_add(&a, &p, 0, &whole, NULL, &err), PH_ETIME);
  cr_expect(strstr(err.msg, "DataTime"), "%s", err.msg);
  /* a part without DataTime joins the first part's */
  parse("QN=5;ST=32;CN=2061;MN=W1;Flag=7;PNUM=2;PNO=2;CP=&&w21003-Avg=1&&", &p);
  cr_expect_eq(ph_hj212_asm_add(&a, &p, 0, &whole, NULL, &err), PH_HJ212_ASM_HELD);
  parse("QN=5;ST=32;CN=2061;MN=W1;Flag=7;PNUM=2;PNO=1;CP=&&DataTime=20160801080000;w01018-Avg=1&&", &p);
  cr_assert_eq(ph_hj212_asm_add(&a, &p, 0, &whole, NULL, &err), PH_HJ212_ASM_DONE, "%s", err.msg);
  cr_expect_eq(memcmp(whole.cp, "DataTime=20160801080000;w01018-Avg=1;w21003-Avg=1", whole.cp_len), 0, "%.*s",
               (int)whole.cp_len, whole.cp);
  ph_hj212_asm_fini(&a);
  struct ph_hj212_asm bad;
  cr_expect_eq(ph_hj212_asm_init(&bad, 0, 4), PH_EINVAL);
  cr_expect_eq(ph_hj212_asm_init(&bad, 64, 65), PH_EINVAL);
  ph_hj212_asm_fini(&bad);
}

/* The dump assembles split parts from a capture, in either field order. */
Test(hj212_split, dump_assembles_a_split_capture) {
  char seg[512], pk[600], text[2048] = "", path[] = "/tmp/ph-hj212-split-XXXXXX";
  for (int i = 2; i >= 1; i--) {
    part_seg(seg, sizeof seg, 2, i, i == 2, "20160801085857223", bodies[i - 1]);
    cr_assert_gt(ph_hj212_frame(seg, strlen(seg), PH_HJ212_CRC_STD, false, pk, sizeof pk), 0);
    strcat(text, pk);
  }
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  struct ph_err err = {0};
  cr_assert_eq(ph_hj212_dump(path, cat, NULL, f, &err), 0, "%s", err.msg);
  fclose(f);
  unlink(path);
  cr_expect(strstr(out, "part 2 of 2 held"), "%s", out);
  cr_expect(strstr(out, "part 1 of 2 completes the split message"), "%s", out);
  cr_expect(strstr(out, "\"values\":{\"w_flow\":36,\"w_volume\":36,\"w_cod\":45.2}"), "%s", out);
  cr_expect(strstr(out, "# 2 packets: 1 records, 0 refused, 0 not published, 1 split parts held"), "%s", out);
  free(out);
}
