/* hj212_frame.c — HJ 212 packet framing (the same in 2005, 2017 and 2025): the CRC of Appendix A, the
 * byte-stream framer and the builder of framed responses (hj212.h).
 *
 * Callers: src_hj212.c (one framer per TCP connection), hj212_dump.c,
 * tests/unit/test_hj212.c, tests/fuzz/fuzz_hj212.c. Threads: none; a
 * framer belongs to one thread. Owns: the framer's one buffer.
 *
 * Framer states, per candidate at the head of the buffer:
 *
 *   SCAN ──"##"──> HEAD ──4 digits, len <= cap──> BODY ──CR LF at end, CRC ok──> frame
 *    ^              │ not digits / over cap          │ CR LF early / no CR LF at end / CRC bad
 *    └──────────────┴──── drop the first '#', refuse ┘                (inv. 1)
 *
 *   from → to                 function
 *   SCAN → HEAD               next(): memchr for '#', garbage before it dropped
 *   HEAD → SCAN (refused)     next(): bad digits (PH_EFRAME), len > cap (PH_ETOOLARGE)
 *   BODY → SCAN (refused)     next(): early CR LF, bad tail (PH_EFRAME), CRC (PH_ECRC)
 *   BODY → frame              next(): returns 1; the frame is dropped on the next call
 *
 * Invariants: those of hj212.h (1: drop only one byte after a refusal; 2: refuse
 * as early as possible; 3: fixed buffer).
 */
#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "hj212/hj212.h"

uint16_t ph_hj212_crc(const char *data, size_t len) {
  unsigned reg = 0xFFFF;
  for (size_t i = 0; i < len; i++) {
    reg = (reg >> 8) ^ (unsigned char)data[i];
    for (int k = 0; k < 8; k++) {
      unsigned lsb = reg & 1;
      reg >>= 1;
      if (lsb) reg ^= 0xA001;
    }
  }
  return (uint16_t)reg;
}

uint16_t ph_hj212_crc_modbus_le(const char *data, size_t len) {
  unsigned reg = 0xFFFF;
  for (size_t i = 0; i < len; i++) {
    reg ^= (unsigned char)data[i];
    for (int k = 0; k < 8; k++) reg = (reg & 1) ? (reg >> 1) ^ 0xA001 : reg >> 1;
  }
  return (uint16_t)(((reg & 0xFF) << 8) | (reg >> 8));
}

int ph_hj212_framer_init(struct ph_hj212_framer *f, size_t max_data, enum ph_hj212_crc_mode crc) {
  memset(f, 0, sizeof *f);
  if (max_data < 1 || max_data > PH_HJ212_MAX_DATA) return PH_EINVAL;
  f->cap = max_data + PH_HJ212_OVERHEAD;
  if (!(f->buf = ph_malloc(f->cap))) return PH_ENOMEM;
  f->max_data = max_data;
  f->crc = crc;
  return 0;
}

void ph_hj212_framer_fini(struct ph_hj212_framer *f) {
  if (!f) return;
  ph_free(f->buf);
  memset(f, 0, sizeof *f);
}

void ph_hj212_framer_reset(struct ph_hj212_framer *f) { f->off = f->len = f->consume = f->scanned = 0; }

static void drop(struct ph_hj212_framer *f, size_t n) {
  f->scanned = 0; /* a new head: its candidate is checked from the start */
  f->off += n;
  f->len -= n;
  if (!f->len) f->off = 0;
}

size_t ph_hj212_framer_space(struct ph_hj212_framer *f) {
  if (f->consume) {
    drop(f, f->consume);
    f->consume = 0;
  }
  return f->cap - f->len;
}

size_t ph_hj212_framer_feed(struct ph_hj212_framer *f, const void *p, size_t n) {
  size_t room = ph_hj212_framer_space(f);
  if (n > room) n = room;
  if (!n) return 0;
  if (f->off + f->len + n > f->cap) { /* compact */
    memmove(f->buf, f->buf + f->off, f->len);
    f->off = 0;
  }
  memcpy(f->buf + f->off + f->len, p, n);
  f->len += n;
  return n;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* A refusal: drop the first '#' of the candidate only (inv. 1): in "###0101…"
 * the good packet starts at the second '#'. Count, explain. */
static int refuse(struct ph_hj212_framer *f, uint64_t *counter, int code, struct ph_err *err, const char *why) {
  drop(f, 1);
  (*counter)++;
  return ph_fail(err, code, "%s", why);
}

int ph_hj212_framer_next(struct ph_hj212_framer *f, const char **data, size_t *len, struct ph_err *err) {
  if (f->consume) {
    drop(f, f->consume);
    f->consume = 0;
  }
  for (;;) {
    const char *b = f->buf + f->off;
    /* SCAN: find "##"; keep a lone trailing '#', it may be the first half. */
    size_t i = 0;
    while (i < f->len && !(b[i] == '#' && (i + 1 == f->len || b[i + 1] == '#'))) i++;
    if (i) {
      f->st.garbage_bytes += i;
      drop(f, i);
      b = f->buf + f->off;
    }
    if (f->len < 6) return 0;
    /* HEAD */
    size_t dlen = 0;
    for (int k = 2; k < 6; k++) {
      if (b[k] < '0' || b[k] > '9')
        return refuse(f, &f->st.bad_length, PH_EFRAME, err, "data length is not 4 decimal digits");
      dlen = dlen * 10 + (size_t)(b[k] - '0');
    }
    if (dlen > f->max_data) {
      char why[96];
      snprintf(why, sizeof why, "data length %zu over the cap of %zu", dlen, f->max_data);
      return refuse(f, &f->st.oversized, PH_ETOOLARGE, err, why);
    }
    size_t total = dlen + PH_HJ212_OVERHEAD;
    /* BODY: a CR LF inside the data or CRC means the length is wrong (inv. 2). */
    size_t k = f->scanned > 6 ? f->scanned : 6; /* bytes before were checked by an earlier call */
    for (; k < total - 2 && k + 1 < f->len; k++)
      if (b[k] == '\r' && b[k + 1] == '\n')
        return refuse(f, &f->st.bad_length, PH_EFRAME, err, "packet ends before its declared length");
    f->scanned = k;
    if (f->len < total) return 0;
    if (b[total - 2] != '\r' || b[total - 1] != '\n')
      return refuse(f, &f->st.bad_tail, PH_EFRAME, err, "no CR LF where the declared length ends the packet");
    const char *seg = b + 6, *crc = b + 6 + dlen;
    unsigned want = 0;
    for (int j = 0; j < 4; j++) {
      int h = hexval(crc[j]);
      if (h < 0) return refuse(f, &f->st.bad_crc, PH_ECRC, err, "CRC is not 4 hex digits");
      want = want << 4 | (unsigned)h;
    }
    bool std_ok = f->crc != PH_HJ212_CRC_MODBUS_LE && ph_hj212_crc(seg, dlen) == want;
    bool le_ok = !std_ok && f->crc != PH_HJ212_CRC_STD && ph_hj212_crc_modbus_le(seg, dlen) == want;
    if (!std_ok && !le_ok) {
      char why[128];
      snprintf(why, sizeof why, "CRC %04X does not match the data segment (%s %04X)", want,
               f->crc == PH_HJ212_CRC_MODBUS_LE ? "modbus-le" : "HJ 212",
               f->crc == PH_HJ212_CRC_MODBUS_LE ? ph_hj212_crc_modbus_le(seg, dlen) : ph_hj212_crc(seg, dlen));
      return refuse(f, &f->st.bad_crc, PH_ECRC, err, why);
    }
    f->frame_crc_le = le_ok;
    f->consume = total;
    f->st.frames++;
    *data = seg;
    *len = dlen;
    return 1;
  }
}

int ph_hj212_frame(const char *seg, size_t len, enum ph_hj212_crc_mode crc, bool crc_le, char *out, size_t cap) {
  if (len > PH_HJ212_MAX_DATA) return PH_ETOOLARGE;
  if (len + PH_HJ212_OVERHEAD + 1 > cap) return PH_EFULL;
  bool le = crc == PH_HJ212_CRC_MODBUS_LE || (crc == PH_HJ212_CRC_ANY && crc_le);
  uint16_t c = le ? ph_hj212_crc_modbus_le(seg, len) : ph_hj212_crc(seg, len);
  snprintf(out, 7, "##%04zu", len);
  memcpy(out + 6, seg, len);
  snprintf(out + 6 + len, 7, "%04X\r\n", c);
  return (int)(len + PH_HJ212_OVERHEAD);
}

int ph_hj212_build_ack_v(const struct ph_hj212_packet *p, int version, enum ph_hj212_crc_mode crc, bool crc_le,
                         char *out, size_t cap) {
  /* The response's Flag carries the version bits of the packet's version
   * and neither A nor D: 2017's examples answer with Flag=4, a 2025 library
   * with Flag=8 (docs/hj212.md). */
  int flag = version == PH_HJ212_V2005 ? 0 : version == PH_HJ212_V2025 ? 8 : 4;
  char seg[PH_HJ212_ACK_MAX];
  int n = snprintf(seg, sizeof seg, "QN=%s;ST=91;CN=9014;PW=%s;MN=%s;Flag=%d;CP=&&&&", p->qn, p->pw, p->mn, flag);
  if (n < 0 || (size_t)n >= sizeof seg) return PH_EFULL;
  return ph_hj212_frame(seg, (size_t)n, crc, crc_le, out, cap);
}

int ph_hj212_build_ack(const struct ph_hj212_packet *p, enum ph_hj212_crc_mode crc, bool crc_le, char *out,
                       size_t cap) {
  int v = p->flag < 0 ? PH_HJ212_V2017 : ph_hj212_packet_version(p, PH_HJ212_V_AUTO);
  return ph_hj212_build_ack_v(p, v, crc, crc_le, out, cap);
}
