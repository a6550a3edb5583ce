/* test_src_hj212.c — HJ 212-2017: the framer and CRC (hj212_frame.c), the
 * data-segment and CP parsers (hj212_parse.c), the mapping to records
 * (hj212_map.c) and the response packet. No network, no sleeps: bytes are
 * fed as TCP would deliver them (in one piece, byte by byte, with garbage).
 * Cites hj212.h's invariants: 1 resync keeps the next good packet, 2 early
 * refusal, 3 bounded buffer, 4 fields by name, 5 nothing invented. The real
 * packets come from tests/data/hj212/samples.txt (public sources, see its
 * comments), each with its expected CRC verdict. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hj212/hj212.h"
#include "parkhub/timefmt.h"

#define STD_EXAMPLE "QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&"

static struct ph_catalog *cat;
static void setup(void) {
  struct ph_err err = {0};
  cr_assert_eq(ph_catalog_load_builtin(&cat, &err), 0, "%s", err.msg);
}
static void teardown(void) { ph_catalog_free(cat); }

/* Frames seg with the standard CRC into a static buffer. */
static const char *framed(const char *seg) {
  static char buf[PH_HJ212_MAX_DATA + 64];
  int n = ph_hj212_frame(seg, strlen(seg), PH_HJ212_CRC_STD, false, buf, sizeof buf);
  cr_assert_gt(n, 0);
  return buf;
}

/* Feeds text in chunks of `step` bytes (0: all at once) and collects the
 * data segments of good frames, separated by '\n', and the refusals. */
struct run {
  char segs[65536];
  int nframes, nrefused;
  int codes[64];
};

static void drain(struct ph_hj212_framer *f, struct run *r) {
  const char *d;
  size_t n;
  struct ph_err err;
  int rc;
  while ((rc = ph_hj212_framer_next(f, &d, &n, &err)) != 0) {
    if (rc == 1) {
      strncat(r->segs, d, n);
      strcat(r->segs, "\n");
      r->nframes++;
    } else {
      if (r->nrefused < 64) r->codes[r->nrefused] = rc;
      r->nrefused++;
    }
  }
}

static void run_bytes(const char *p, size_t len, size_t step, struct ph_hj212_framer *f, struct run *r) {
  memset(r, 0, sizeof *r);
  size_t i = 0;
  while (i < len) {
    size_t chunk = step ? step : len - i;
    if (chunk > len - i) chunk = len - i;
    size_t took = ph_hj212_framer_feed(f, p + i, chunk);
    i += took;
    drain(f, r);
    cr_assert(took > 0 || ph_hj212_framer_space(f) > 0, "framer stuck with a full buffer (inv. 3)");
  }
  drain(f, r);
}

TestSuite(hj212_crc);

Test(hj212_crc, appendix_a_example_is_1c80_not_the_prose_typo) {
  cr_expect_eq(ph_hj212_crc(STD_EXAMPLE, strlen(STD_EXAMPLE)), 0x1C80);
  cr_expect_eq(ph_hj212_crc_modbus_le("123456789", 9), 0x374B, "CRC-16/MODBUS check value 4B37, bytes swapped");
}

TestSuite(hj212_frame, .init = setup, .fini = teardown);

/* Every packet of the public sample file: the ones marked HJ212 frame, the
 * ones marked FAIL are refused for their CRC (PH_ECRC), in both feeds. */
Test(hj212_frame, public_samples_match_their_recorded_crc_verdict) {
  char path[1024], line[4096];
  snprintf(path, sizeof path, "%s/tests/data/hj212/samples.txt", getenv("PH_SOURCE_DIR"));
  FILE *fp = fopen(path, "r");
  cr_assert_not_null(fp, "%s", path);
  char verdict[16] = "";
  int good = 0, bad = 0;
  struct ph_hj212_framer f;
  cr_assert_eq(ph_hj212_framer_init(&f, PH_HJ212_MAX_DATA, PH_HJ212_CRC_STD), 0);
  while (fgets(line, sizeof line, fp)) {
    line[strcspn(line, "\r\n")] = '\0';
    if (strncmp(line, "# result: ", 10) == 0) sscanf(line + 10, "%15s", verdict);
    if (strncmp(line, "##", 2) != 0) continue;
    strcat(line, "\r\n");
    for (size_t step = 0; step <= 1; step++) {
      struct run r;
      ph_hj212_framer_reset(&f);
      run_bytes(line, strlen(line), step, &f, &r);
      if (strcmp(verdict, "HJ212") == 0) {
        cr_expect_eq(r.nframes, 1, "%s (step %zu)", line, step);
        cr_expect_eq(r.nrefused, 0, "%s", line);
      } else {
        cr_expect_eq(r.nframes, 0, "%s", line);
        cr_expect_eq(r.nrefused, 1, "%s", line);
        cr_expect_eq(r.codes[0], PH_ECRC, "%s", line);
      }
    }
    strcmp(verdict, "HJ212") == 0 ? good++ : bad++;
  }
  fclose(fp);
  ph_hj212_framer_fini(&f);
  cr_expect_eq(good, 7);
  cr_expect_eq(bad, 4);
}

Test(hj212_frame, several_packets_in_one_read_and_split_byte_by_byte) {
  char stream[4096] = "";
  for (int i = 0; i < 5; i++) {
    char seg[256];
    snprintf(seg, sizeof seg, "QN=2026010100000%d000;ST=31;CN=2011;PW=123456;MN=M1;Flag=4;CP=&&DataTime=20260101080000;a21026-Rtd=%d.5,a21026-Flag=N&&", i, i);
    strcat(stream, framed(seg));
  }
  struct ph_hj212_framer f;
  cr_assert_eq(ph_hj212_framer_init(&f, 1024, PH_HJ212_CRC_STD), 0);
  size_t steps[] = {0, 1, 7, 100};
  for (size_t s = 0; s < 4; s++) {
    struct run r;
    ph_hj212_framer_reset(&f);
    run_bytes(stream, strlen(stream), steps[s], &f, &r);
    cr_expect_eq(r.nframes, 5, "step %zu", steps[s]);
    cr_expect_eq(r.nrefused, 0);
    cr_expect(strstr(r.segs, "a21026-Rtd=4.5"), "last packet whole");
  }
  ph_hj212_framer_fini(&f);
}

/* inv. 1 and 2: garbage, a truncated packet, a bad CRC, a bad length field
 * and an oversized one, each followed at once by a good packet: every good
 * packet is found, in order, and every bad candidate is refused with its
 * own reason. */
Test(hj212_frame, resync_after_garbage_keeps_the_next_good_packet) {
  const char *good1 = "QN=1;ST=31;CN=2011;MN=A;Flag=4;CP=&&DataTime=20260101000000;a21026-Rtd=1&&";
  const char *good2 = "QN=2;ST=31;CN=2011;MN=A;Flag=4;CP=&&DataTime=20260101000000;a21026-Rtd=2&&";
  char g1[256], g2[256], stream[8192];
  strcpy(g1, framed(good1));
  strcpy(g2, framed(good2));
  char badcrc[256];
  strcpy(badcrc, g1);
  badcrc[strlen(badcrc) - 3] ^= 1; /* last CRC digit */
  char trunc[256];
  snprintf(trunc, sizeof trunc, "%.*s", (int)strlen(g1) - 20, g1);
  snprintf(stream, sizeof stream,
           "noise\x01\xff#%s"         /* garbage, a lone '#' */
           "%s\r\n%s"                 /* truncated with a CR LF, then good */
           "%s%s"                     /* truncated without CR LF, then good */
           "%s%s"                     /* bad CRC, then good */
           "##12a4xyz%s"              /* length not digits */
           "##9000QN=%s"              /* over the 1024 cap */
           "##0500QN=short\r\n%s",    /* CR LF long before the declared end */
           g1, trunc, g2, trunc, g1, badcrc, g2, g1, g2, g1);
  struct ph_hj212_framer f;
  cr_assert_eq(ph_hj212_framer_init(&f, 1024, PH_HJ212_CRC_STD), 0);
  for (size_t step = 0; step <= 3; step += 3) {
    struct run r;
    ph_hj212_framer_reset(&f);
    memset(&f.st, 0, sizeof f.st);
    run_bytes(stream, strlen(stream), step, &f, &r);
    cr_expect_eq(r.nframes, 7, "step %zu: %d frames:\n%s", step, r.nframes, r.segs);
    char want[4096] = "";
    const char *order[] = {good1, good2, good1, good2, good1, good2, good1};
    for (int i = 0; i < 7; i++) {
      strcat(want, order[i]);
      strcat(want, "\n");
    }
    cr_expect_str_eq(r.segs, want, "step %zu", step);
    cr_expect_eq(f.st.bad_crc, 1);
    cr_expect_eq(f.st.oversized, 1);
    cr_expect_geq(f.st.bad_length, 3, "truncated x2 (CR LF early or tail) + digits + short");
    cr_expect_gt(f.st.garbage_bytes, 0);
  }
  ph_hj212_framer_fini(&f);
}

Test(hj212_frame, lowercase_crc_and_modbus_le_mode) {
  const char *seg = "QN=1;ST=31;CN=2011;MN=A;Flag=4;CP=&&DataTime=20260101000000;a21026-Rtd=1&&";
  char pk[256], low[256];
  strcpy(pk, framed(seg));
  strcpy(low, pk);
  for (char *c = low + strlen(low) - 6; *c != '\r'; c++)
    if (*c >= 'A' && *c <= 'F') *c = (char)(*c - 'A' + 'a');
  struct ph_hj212_framer f;
  struct run r;
  cr_assert_eq(ph_hj212_framer_init(&f, 1024, PH_HJ212_CRC_STD), 0);
  run_bytes(low, strlen(low), 0, &f, &r);
  cr_expect_eq(r.nframes, 1, "lowercase hex CRC accepted");
  ph_hj212_framer_fini(&f);

  char le[256];
  int n = ph_hj212_frame(seg, strlen(seg), PH_HJ212_CRC_MODBUS_LE, false, le, sizeof le);
  cr_assert_gt(n, 0);
  cr_assert_eq(ph_hj212_framer_init(&f, 1024, PH_HJ212_CRC_STD), 0);
  run_bytes(le, (size_t)n, 0, &f, &r);
  cr_expect_eq(r.nframes, 0, "modbus-le CRC refused in hj212 mode");
  ph_hj212_framer_fini(&f);
  cr_assert_eq(ph_hj212_framer_init(&f, 1024, PH_HJ212_CRC_MODBUS_LE), 0);
  run_bytes(le, (size_t)n, 0, &f, &r);
  cr_expect_eq(r.nframes, 1, "accepted in modbus-le mode");
  ph_hj212_framer_fini(&f);
  cr_assert_eq(ph_hj212_framer_init(&f, 1024, PH_HJ212_CRC_ANY), 0);
  run_bytes(le, (size_t)n, 0, &f, &r);
  cr_expect_eq(r.nframes, 1);
  cr_expect(f.frame_crc_le, "ANY remembers which form matched, for the response");
  ph_hj212_framer_fini(&f);
}

/* inv. 3: a flood without "##" or with an endless candidate never grows
 * the buffer and never wedges the framer. */
Test(hj212_frame, bounded_buffer_under_flood) {
  struct ph_hj212_framer f;
  cr_assert_eq(ph_hj212_framer_init(&f, 64, PH_HJ212_CRC_STD), 0);
  char junk[1000];
  memset(junk, 'x', sizeof junk);
  junk[500] = '#';
  junk[501] = '#';
  struct run r;
  for (int i = 0; i < 100; i++) run_bytes(junk, sizeof junk, 0, &f, &r);
  cr_expect_leq(f.len, f.cap);
  char g[256];
  strcpy(g, framed("ST=31;CN=2011;MN=A;CP=&&&&"));
  run_bytes(g, strlen(g), 0, &f, &r);
  cr_expect_eq(r.nframes, 1, "a good packet after the flood");
  ph_hj212_framer_fini(&f);
}

TestSuite(hj212_parse, .init = setup, .fini = teardown);

Test(hj212_parse, segment_fields_by_name) {
  const char *s = "QN=20160801085857223;ST=32;CN=2061;PW=123456;MN=010000A8900016F000169DC0;Flag=7;PNUM=2;PNO=1;"
                  "CP=&&DataTime=20160801080000;w00000-Cou=63.0&&";
  struct ph_hj212_packet p;
  struct ph_err err = {0};
  cr_assert_eq(ph_hj212_parse(s, strlen(s), &p, &err), 0, "%s", err.msg);
  cr_expect_str_eq(p.qn, "20160801085857223");
  cr_expect_str_eq(p.st, "32");
  cr_expect_eq(p.cn, 2061);
  cr_expect_str_eq(p.pw, "123456");
  cr_expect_str_eq(p.mn, "010000A8900016F000169DC0");
  cr_expect_eq(p.flag, 7);
  cr_expect(ph_hj212_wants_ack(&p));
  cr_expect_eq(p.pnum, 2);
  cr_expect_eq(p.pno, 1);
  cr_expect_eq(p.cp_len, strlen("DataTime=20160801080000;w00000-Cou=63.0"));

  /* 2005 style: no QN, no Flag; PNO before PNUM; an unknown field. */
  const char *old = "ST=32;CN=2011;PW=123456;MN=LD130133000015;PNO=0002;PNUM=0002;Xyz=1;CP=&&DataTime=20160824003817;B01-Rtd=36.91&&";
  cr_assert_eq(ph_hj212_parse(old, strlen(old), &p, &err), 0, "%s", err.msg);
  cr_expect_str_eq(p.qn, "");
  cr_expect_eq(p.flag, -1);
  cr_expect_not(ph_hj212_wants_ack(&p), "no Flag: no response");
  cr_expect_eq(p.pno, 2);
}

Test(hj212_parse, malformed_segments_refused_with_reason) {
  static const struct {
    const char *seg;
    int code;
  } cases[] = {
      {"QN=1;ST=31;CN=2011;MN=A;Flag=4", PH_EMISSING},                       /* no CP */
      {"QN=1;ST=31;CN=2011;MN=A;CP=&&a=1", PH_EFRAME},                        /* CP not closed */
      {"QN=1;ST=31;CN=2011;MN=A;CP=&&a=1&&x", PH_EFRAME},                     /* junk after && */
      {"QN=1;ST=31;MN=A;CP=&&&&", PH_EMISSING},                               /* no CN */
      {"QN=1;ST=31;CN=20x1;MN=A;CP=&&&&", PH_ETYPE},
      {"QN=1;ST=31;CN=2011;CN=2011;MN=A;CP=&&&&", PH_EJSON},                  /* twice */
      {"QN=1;ST=31;CN=2011;MN=A;Flag=256;CP=&&&&", PH_ETYPE},
      {"QN=1;ST=31;CN=2011;MN=A;PNO=3;PNUM=2;CP=&&&&", PH_ETYPE},
      {"QN=1;ST=31;CN=2011;MN=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA;CP=&&&&", PH_ESTRLEN},
      {"QN=1;ST=31;CN=2011;MNA;CP=&&&&", PH_EJSON},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct ph_hj212_packet p;
    struct ph_err err = {0};
    int rc = ph_hj212_parse(cases[i].seg, strlen(cases[i].seg), &p, &err);
    cr_expect_eq(rc, cases[i].code, "%s: %d (%s)", cases[i].seg, rc, err.msg);
    cr_expect(rc == 0 || err.msg[0], "a reason for %s", cases[i].seg);
  }
}

Test(hj212_parse, data_area_values_flags_time) {
  const char *s = "QN=1;ST=31;CN=2051;MN=A;CP=&&DataTime=20260301143000;a21026-Avg=35.2,a21026-Min=30,a21026-Max=40,"
                  "a21026-Flag=N;a01013-Avg=-0.052,a01013-Flag=D;a34013-ZsAvg=3;a34013-Avg=abc;PolId=a21026;"
                  "a19001-Avg=12.1,a19001-Avg=12.2&&";
  struct ph_hj212_packet p;
  struct ph_err err = {0};
  cr_assert_eq(ph_hj212_parse(s, strlen(s), &p, &err), 0, "%s", err.msg);
  static struct ph_hj212_data d;
  cr_assert_eq(ph_hj212_data_parse(&p, &d, &err), 0, "%s", err.msg);
  cr_expect(d.has_time);
  cr_expect_eq(d.time_local_ms, (ph_days_from_civil(2026, 3, 1) * 86400 + 14 * 3600 + 30 * 60) * 1000LL);
  cr_assert_eq(d.n, 4, "a21026 a01013 a34013 a19001");
  cr_expect_str_eq(d.val[0].code, "a21026");
  cr_expect_eq(d.val[0].have, PH_HJ212_AVG | PH_HJ212_MIN | PH_HJ212_MAX);
  cr_expect_eq(d.val[0].v[1], 35.2);
  cr_expect_eq(d.val[0].flag, 'N');
  cr_expect_eq(d.val[1].v[1], -0.052, "negative values occur in real packets");
  cr_expect_eq(d.val[1].flag, 'D');
  cr_expect_eq(d.val[2].bad, PH_HJ212_AVG, "not a number: marked, not zero");
  cr_expect_eq(d.val[3].bad, PH_HJ212_AVG, "given twice: which one counts would be a guess");
  cr_expect_eq(d.val[2].have, PH_HJ212_ZSAVG, "the converted (Zs) value is read too");
  cr_expect_eq(d.val[2].v[PH_HJ212_F_ZSAVG], 3);
  cr_expect_eq(d.ignored, 1, "PolId");

  int64_t ms;
  cr_expect_eq(ph_hj212_time_parse("20210305003817000", 17, &ms), 0, "with milliseconds");
  cr_expect_neq(ph_hj212_time_parse("20230230000000", 14, &ms), 0, "30 February");
  cr_expect_neq(ph_hj212_time_parse("2023013100000", 13, &ms), 0);
  cr_expect_neq(ph_hj212_time_parse("20230131250000", 14, &ms), 0);
}

TestSuite(hj212_map, .init = setup, .fini = teardown);

static int map_from(struct ph_hj212_map *m, const char *json, struct ph_err *err) {
  cJSON *o = cJSON_Parse(json);
  cr_assert_not_null(o);
  const cJSON *tz = cJSON_GetObjectItemCaseSensitive(o, "tz"), *pw = cJSON_GetObjectItemCaseSensitive(o, "password");
  int rc = ph_hj212_map_init(m, cat, o, tz ? tz->valuestring : NULL, pw ? pw->valuestring : NULL, err);
  cJSON_Delete(o);
  return rc;
}

static void records_of(const struct ph_hj212_map *m, const char *seg, struct ph_hj212_records *out, int want_rc) {
  struct ph_hj212_packet p;
  static struct ph_hj212_data d;
  struct ph_err err = {0};
  cr_assert_eq(ph_hj212_parse(seg, strlen(seg), &p, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_hj212_data_parse(&p, &d, &err), 0, "%s", err.msg);
  int rc = ph_hj212_map_records(m, &p, &d, 0, out, &err);
  cr_assert_eq(rc, want_rc, "%s", err.msg);
}

static const struct ph_value *value_of(const struct ph_hj212_records *o, const char *code) {
  int idx = ph_catalog_find(cat, code, strlen(code));
  for (int i = 0; i < o->nrec; i++)
    for (int k = 0; k < o->rec[i].r.nvalues; k++)
      if (o->rec[i].v[k].metric == idx) return &o->rec[i].v[k];
  return NULL;
}

/* MN → point, codes → metrics, m³/s → Nm³/h, Beijing time → UTC, flags kept. */
Test(hj212_map, realtime_packet_to_catalogue_record) {
  struct ph_hj212_map m;
  struct ph_err err = {0};
  cr_assert_eq(map_from(&m, "{\"loggers\":[{\"mn\":\"88888880000001\",\"point\":\"stack-1\"}]}", &err), 0, "%s", err.msg);
  static struct ph_hj212_records o;
  records_of(&m, "QN=20260301143000000;ST=31;CN=2011;PW=123456;MN=88888880000001;Flag=5;CP=&&DataTime=20260301143000;"
             "a21026-Rtd=35.2,a21026-Flag=N;a21002-Rtd=88,a21002-Flag=C;a00000-Rtd=23.5,a00000-Flag=N;"
             "a19001-Rtd=12.1;a99999-Rtd=1;a01012-Rtd=135,a01012-Flag=T&&", &o, 0);
  cr_assert_eq(o.nrec, 1);
  cr_expect_eq(o.rec[0].kind, PH_KIND_EMISSION);
  cr_expect_str_eq(o.rec[0].r.point, "stack-1");
  cr_expect_eq(o.rec[0].r.ts_ms, (ph_days_from_civil(2026, 3, 1) * 86400 + 6 * 3600 + 30 * 60) * 1000LL,
               "14:30 CST is 06:30 UTC");
  cr_expect_eq(o.rec[0].r.nvalues, 5);
  cr_expect_eq(value_of(&o, "so2")->v, 35.2);
  cr_expect_eq(value_of(&o, "nox")->flag, 'C');
  cr_expect_float_eq(value_of(&o, "flow")->v, 23.5 * 3600, 1e-6, "a00000 m3/s to Nm3/h");
  cr_expect_eq(value_of(&o, "o2")->flag, 'N', "no -Flag: N");
  cr_expect_eq(value_of(&o, "temp")->flag, 'T');
  cr_expect_eq(o.unknown, 1);
  cr_expect_str_eq(o.unknown_code, "a99999");
  ph_hj212_map_fini(&m);
}

Test(hj212_map, period_data_uses_avg_and_its_point_and_tz_key) {
  struct ph_hj212_map m;
  struct ph_err err = {0};
  cr_assert_eq(map_from(&m, "{\"tz\":\"UTC\",\"loggers\":[{\"mn\":\"M1\",\"point\":\"stack-1\",\"hour_point\":\"stack-1-h\"}],"
                            "\"codes\":{\"a00000\":{\"metric\":\"flow\",\"unit\":\"m3/h\"},\"a21026\":null,\"x01\":\"pm\"}}",
                        &err), 0, "%s", err.msg);
  static struct ph_hj212_records o;
  records_of(&m, "QN=1;ST=31;CN=2061;MN=M1;Flag=4;CP=&&DataTime=20260301140000;a00000-Avg=85000,a00000-Cou=85000;"
             "a21026-Avg=30;x01-Avg=4.5,x01-Flag=M;a34013-Rtd=9&&", &o, 0);
  cr_assert_eq(o.nrec, 1);
  cr_expect_str_eq(o.rec[0].r.point, "stack-1-h");
  cr_expect_eq(o.rec[0].r.ts_ms, (ph_days_from_civil(2026, 3, 1) * 86400 + 14 * 3600) * 1000LL, "tz UTC");
  cr_expect_eq(o.rec[0].r.nvalues, 2, "flow and pm; a21026 ignored by config; a34013 has no -Avg");
  cr_expect_eq(value_of(&o, "flow")->v, 85000, "configured unit m3/h");
  cr_expect_eq(value_of(&o, "pm")->flag, 'M');
  ph_hj212_map_fini(&m);
  cr_expect_eq(map_from(&m, "{\"codes\":{\"a21026\":{\"metric\":\"so2\",\"unit\":\"furlongs\"}}}", &err), PH_ECONFIG);
  cr_expect(strstr(err.msg, "no conversion"), "%s", err.msg);
  cr_expect_eq(map_from(&m, "{\"tz\":\"Mars/Olympus\"}", &err), PH_ECONFIG);
}

/* inv. 5: out of range, a bad flag, not a number: left out and counted. */
Test(hj212_map, implausible_values_left_out_not_guessed) {
  struct ph_hj212_map m;
  struct ph_err err = {0};
  cr_assert_eq(map_from(&m, "{\"loggers\":[{\"mn\":\"M1\",\"point\":\"stack-1\"}]}", &err), 0);
  static struct ph_hj212_records o;
  records_of(&m, "ST=31;CN=2011;MN=M1;CP=&&DataTime=20260301140000;a21026-Rtd=-5;a21002-Rtd=50,a21002-Flag=P;"
             "a34013-Rtd=1e5;a19001-Rtd=12&&", &o, 0);
  cr_assert_eq(o.nrec, 1);
  cr_expect_eq(o.rec[0].r.nvalues, 1, "only o2");
  cr_expect_eq(o.refused, 3);
  cr_expect_eq(o.first_refusal.code, PH_ERANGE, "%s", o.first_refusal.msg);
  records_of(&m, "ST=31;CN=2011;MN=M1;CP=&&a21026-Rtd=5&&", &o, PH_EMISSING);
  records_of(&m, "ST=31;CN=2081;MN=M1;CP=&&DataTime=20260301140000&&", &o, PH_EENUM);
  ph_hj212_map_fini(&m);
}

Test(hj212_map, mn_and_password_checked) {
  struct ph_hj212_map m;
  struct ph_err err = {0};
  cr_assert_eq(map_from(&m, "{\"password\":\"123456\",\"loggers\":[{\"mn\":\"M1\",\"point\":\"s1\"},"
                            "{\"mn\":\"M2\",\"point\":\"s2\",\"password\":\"abc\"}]}", &err), 0, "%s", err.msg);
  struct ph_hj212_packet p = {.flag = 4, .has_pw = true};
  strcpy(p.mn, "M1");
  strcpy(p.pw, "123456");
  cr_expect_eq(ph_hj212_map_check(&m, &p, false, &err), 0);
  strcpy(p.pw, "654321");
  cr_expect_eq(ph_hj212_map_check(&m, &p, false, &err), PH_EPASSWORD);
  strcpy(p.mn, "M2");
  strcpy(p.pw, "abc");
  cr_expect_eq(ph_hj212_map_check(&m, &p, false, &err), 0, "per-logger password");
  strcpy(p.mn, "M3");
  cr_expect_eq(ph_hj212_map_check(&m, &p, false, &err), PH_EIDENTITY);
  cr_expect(strstr(err.msg, "M3"), "%s", err.msg);
  ph_hj212_map_fini(&m);
}

Test(hj212_map, response_packet_is_a_valid_9014_echoing_qn) {
  const char *s = "QN=20260301143000123;ST=31;CN=2011;PW=123456;MN=M1;Flag=5;CP=&&DataTime=20260301143000&&";
  struct ph_hj212_packet p, a;
  struct ph_err err = {0};
  cr_assert_eq(ph_hj212_parse(s, strlen(s), &p, &err), 0);
  char ack[PH_HJ212_ACK_MAX];
  int n = ph_hj212_build_ack(&p, PH_HJ212_CRC_STD, false, ack, sizeof ack);
  cr_assert_gt(n, 0);
  cr_expect_eq(memcmp(ack + n - 2, "\r\n", 2), 0);
  struct ph_hj212_framer f;
  cr_assert_eq(ph_hj212_framer_init(&f, 1024, PH_HJ212_CRC_STD), 0);
  cr_assert_eq(ph_hj212_framer_feed(&f, ack, (size_t)n), (size_t)n);
  const char *d;
  size_t dl;
  cr_assert_eq(ph_hj212_framer_next(&f, &d, &dl, &err), 1, "%s", err.msg);
  cr_assert_eq(ph_hj212_parse(d, dl, &a, &err), 0, "%s", err.msg);
  cr_expect_str_eq(a.qn, p.qn);
  cr_expect_str_eq(a.st, "91");
  cr_expect_eq(a.cn, 9014);
  cr_expect_str_eq(a.mn, "M1");
  cr_expect_eq(a.flag, 4, "the response itself asks for no response");
  cr_expect_eq(a.cp_len, 0);
  ph_hj212_framer_fini(&f);
}

/* issue #18: --check-config lists every bad entry of the map's lists. With
 * a problem list each is noted by its path and the good entries load; the
 * same config at start stops at the first problem. */
Test(hj212_map, check_notes_every_bad_entry_and_goes_on) {
  const char *json = "{\"loggers\":[{\"mn\":\"A;1\",\"point\":\"s1\"},{\"mn\":\"M2\",\"point\":\"s2\"},"
                     "{\"mn\":\"B=3\",\"point\":\"s3\",\"units\":{\"a01012\":\"furlongs\"}},{\"mn\":\"M2\",\"point\":\"s4\"}],"
                     "\"codes\":{\"a21026\":\"sulphur\",\"a21002\":\"nox\"},\"commands\":[\"2011\",\"9999\"]}";
  cJSON *o = cJSON_Parse(json);
  cr_assert_not_null(o);
  static struct ph_hj212_map m;
  static struct ph_cfg_problems pr;
  struct ph_err err = {0};
  memset(&pr, 0, sizeof pr);
  cr_expect_eq(ph_hj212_map_init_all(&m, cat, o, "UTC", NULL, &pr, &err), PH_ECONFIG);
  static const char *const want[] = {
      "codes.a21026: unknown metric 'sulphur'",
      "loggers[0].mn: ",
      "loggers[2].mn: ",
      "loggers[2].units.a01012: no conversion from furlongs",
      "loggers[3].mn: 'M2' is listed twice (also loggers[1])",
      "commands[1]: ",
  };
  cr_expect_eq(pr.n, (int)(sizeof want / sizeof want[0]), "%d problems", pr.n);
  for (size_t i = 0; i < sizeof want / sizeof want[0] && (int)i < pr.n; i++)
    cr_expect(strstr(pr.msg[i], want[i]) == pr.msg[i], "problem %zu: '%s', want '%s…'", i, pr.msg[i], want[i]);
  cr_expect_eq(m.nloggers, 1, "the good logger loaded, the bad ones left out");
  cr_expect_eq(m.ncodes, 1, "the good code loaded");
  /* at start: the first problem alone, the map left with nothing to free */
  cr_expect_eq(ph_hj212_map_init(&m, cat, o, "UTC", NULL, &err), PH_ECONFIG);
  cr_expect(strstr(err.msg, "codes.a21026") == err.msg, "%s", err.msg);
  cJSON_Delete(o);
}
