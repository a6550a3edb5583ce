/* fuzz_hj212.c — libFuzzer target for the HJ 212 framer, parser, split
 * assembler and mapping (agents/hj212/hj212_frame.c, hj212_parse.c,
 * hj212_split.c, hj212_map.c, hj212_codes.c): the code that reads bytes
 * from data loggers on the network. Built and run by
 * tests/fuzz/run.sh (ctest fuzz_bounded); seeds in tests/fuzz/corpus/hj212/.
 *
 * The first input byte chooses how the rest is cut into TCP reads (1..127
 * bytes, or all at once) and the CRC mode; the rest is the byte stream.
 * Every frame found is parsed, checked, mapped to records and answered,
 * as src_hj212.c does, by three maps: no loggers (version from the Flag),
 * a logger on HJ/T 212-2005 with "corrected" codes, and a logger on
 * HJ 212-2025 with its own "units"; parts of split messages go through a
 * small assembler first. Besides the sanitizers' checks it asserts the
 * framer's bounds (hj212.h inv. 3), the assembler's (inv. 6) and that a
 * record carries only finite values in range with valid flags (inv. 5). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hj212/hj212.h"

static struct ph_catalog *cat;
static struct ph_hj212_map map, map_cfg, map_old, map_new;
static struct ph_hj212_asm as;
static struct ph_hj212_packet pkt;
static struct ph_hj212_data data;
static struct ph_hj212_records recs;

#define CHECK(c) \
  do {           \
    if (!(c)) abort(); \
  } while (0)

static void setup(void) {
  struct ph_err err;
  CHECK(ph_catalog_load_builtin(&cat, &err) == 0);
  CHECK(ph_hj212_map_init(&map, cat, NULL, "+08:00", NULL, &err) == 0);
  CHECK(ph_hj212_map_init(&map_cfg, cat, NULL, "UTC", "123456", &err) == 0);
  strcpy(map_cfg.loggers[0].mn, "88888880000001");
  for (int p = 0; p < PH_HJ212_P_COUNT; p++) strcpy(map_cfg.loggers[0].point[p], "stack-1");
  map_cfg.nloggers = 1;
  /* the same MN read as 2005 with corrected codes, and as 2025 with units */
  CHECK(ph_hj212_map_init(&map_old, cat, NULL, "UTC", NULL, &err) == 0);
  map_old.loggers[0] = map_cfg.loggers[0];
  map_old.loggers[0].version = PH_HJ212_V2005;
  map_old.loggers[0].cou = true;
  strcpy(map_old.loggers[0].zs[0], "02");
  strcpy(map_old.loggers[0].zs[1], "a21026");
  map_old.loggers[0].nzs = 2;
  map_old.nloggers = 1;
  CHECK(ph_hj212_map_init(&map_new, cat, NULL, "UTC", NULL, &err) == 0);
  map_new.loggers[0] = map_cfg.loggers[0];
  map_new.loggers[0].version = PH_HJ212_V2025;
  strcpy(map_new.loggers[0].units[0].code, "w00000");
  strcpy(map_new.loggers[0].units[0].unit, "m3/h");
  map_new.loggers[0].nunits = 1;
  map_new.nloggers = 1;
  CHECK(ph_hj212_asm_init(&as, 2048, 8) == 0);
}

static struct ph_hj212_packet whole;

static void frame(const char *seg, size_t len, bool le, int crc, int64_t now) {
  struct ph_err err;
  if (ph_hj212_parse(seg, len, &pkt, &err)) return;
  char ack[PH_HJ212_ACK_MAX];
  ph_hj212_build_ack(&pkt, (enum ph_hj212_crc_mode)crc, le, ack, sizeof ack);
  for (int v = PH_HJ212_V2005; v <= PH_HJ212_V_UNKNOWN; v++)
    CHECK(ph_hj212_build_ack_v(&pkt, v, (enum ph_hj212_crc_mode)crc, le, ack, sizeof ack) > 0);
  const struct ph_hj212_packet *msg = &pkt;
  if (pkt.pnum > 1) { /* as src_hj212.c: assemble first */
    ph_hj212_asm_expire(&as, now, 5, &err);
    int rc = ph_hj212_asm_add(&as, &pkt, now, &whole, NULL, &err);
    CHECK(as.used <= as.cap && (!as.busy || __builtin_popcountll(as.got) <= as.pnum));
    if (rc != PH_HJ212_ASM_DONE) return;
    CHECK(whole.cp_len <= as.cap && whole.cp >= as.buf + as.cap && whole.cp + whole.cp_len <= as.buf + 2 * as.cap);
    msg = &whole;
  }
  const struct ph_hj212_map *maps[4] = {&map, &map_cfg, &map_old, &map_new};
  for (int m = 0; m < 4; m++) {
    if (ph_hj212_map_check(maps[m], msg, m == 0, &err)) continue;
    if (ph_hj212_map_data(maps[m], msg, &data, &err)) continue;
    if (ph_hj212_map_records(maps[m], msg, &data, 0, &recs, &err)) continue;
    CHECK(recs.unknown == 0 || recs.unknown_code[0]);
    CHECK(recs.nrec >= 0 && recs.nrec <= 2);
    for (int i = 0; i < recs.nrec; i++)
      for (int k = 0; k < recs.rec[i].r.nvalues; k++) {
        const struct ph_value *v = &recs.rec[i].v[k];
        const struct ph_metric *mt = ph_catalog_at(cat, (size_t)v->metric);
        CHECK(mt && isfinite(v->v) && v->v >= mt->min && v->v <= mt->max && ph_flag_valid(v->flag));
        CHECK(ph_id_valid_z(recs.rec[i].r.point));
      }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n) {
  if (!cat) setup();
  if (!n) return 0;
  size_t step = in[0] & 0x7f ? (size_t)(in[0] & 0x7f) : n;
  int crc = in[0] >> 7 ? PH_HJ212_CRC_ANY : PH_HJ212_CRC_STD;
  in++;
  n--;
  struct ph_hj212_framer f;
  CHECK(ph_hj212_framer_init(&f, 1 + (n % PH_HJ212_MAX_DATA), (enum ph_hj212_crc_mode)crc) == 0);
  size_t i = 0;
  for (;;) {
    const char *seg;
    size_t len;
    struct ph_err err;
    int rc;
    while ((rc = ph_hj212_framer_next(&f, &seg, &len, &err)) != 0) {
      CHECK(f.len <= f.cap && f.off + f.len <= f.cap);
      if (rc == 1) {
        CHECK(len <= f.max_data && seg >= f.buf && seg + len <= f.buf + f.cap);
        frame(seg, len, f.frame_crc_le, crc, (int64_t)i);
      }
    }
    if (i == n) break;
    size_t want = n - i < step ? n - i : step;
    size_t took = ph_hj212_framer_feed(&f, in + i, want);
    CHECK(took > 0); /* after next() returned 0 there is always room (inv. 3) */
    i += took;
  }
  ph_hj212_framer_fini(&f);
  return 0;
}
