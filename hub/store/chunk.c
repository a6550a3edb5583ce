/* chunk.c — the raw-sample blob codec (chunk.h). Callers: the writer
 * (encode), the query side and tests (decode). Pure code, no state. */
#include "store/chunk.h"

#include <stdbool.h>
#include <string.h>

#include "parkhub/alloc.h"

#define V2_HDR 5 /* 0xFF 0xFF, version, u16 nrecords */
#define V2_NREC_AT 3
#define V1_REC_HDR 10 /* ts + state + nvalues */
#define V1_VAL 11     /* metric + flag + value */
#define MODE_SAME_METRICS 1u
#define MODE_ALL_N 2u
#define RAW_E 15u
#define MAX_DEC_E 14
#define MAX_MANTISSA 9007199254740992.0 /* 2^53: every integer below is a double */
/* The most a record can take: ts, state, nvalues, mode, then per value an
 * id, a flag and a raw double behind its tag. */
#define V2_REC_MAX(n) (10 + 3 + (n) * (3 + 1 + 1 + 8))

static const double pow10_exact[MAX_DEC_E + 1] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6, 1e7,
                                                   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14};

void ph_chunk_writer_init(struct ph_chunk_writer *w) { memset(w, 0, sizeof *w); }
void ph_chunk_writer_fini(struct ph_chunk_writer *w) {
  ph_free(w->buf);
  memset(w, 0, sizeof *w);
}

static int reserve(struct ph_chunk_writer *w, size_t more) {
  if (w->len + more <= w->cap) return 0;
  size_t n = w->cap ? w->cap : 512;
  while (n < w->len + more) n *= 2;
  uint8_t *p = ph_realloc(w->buf, n);
  if (!p) return PH_ENOMEM;
  w->buf = p;
  w->cap = n;
  return 0;
}

static void put_le(uint8_t *p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get_le(const uint8_t *p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

static uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static int64_t unzigzag(uint64_t u) { return (int64_t)(u >> 1) ^ -(int64_t)(u & 1); }

static uint8_t *put_varint(uint8_t *p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  *p++ = (uint8_t)v;
  return p;
}

/* NULL when the varint is cut off by end or longer than 10 bytes. */
static const uint8_t *get_varint(const uint8_t *p, const uint8_t *end, uint64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    uint8_t b = *p++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return p;
    }
  }
  return NULL;
}

/* The one way a decimal becomes a double, on both sides: the writer only
 * takes a decimal that this gives back bit for bit. */
static double decimal_value(int64_t m, unsigned e) { return (double)m / pow10_exact[e]; }

static bool same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* The shortest m, e with decimal_value(m, e) == v exactly; false if none. */
static bool as_decimal(double v, int64_t *m, unsigned *e) {
  for (unsigned k = 0; k <= MAX_DEC_E; k++) {
    double x = v * pow10_exact[k];
    if (!(x > -MAX_MANTISSA && x < MAX_MANTISSA)) return false; /* also NaN and ±inf */
    int64_t c = (int64_t)(x < 0 ? x - 0.5 : x + 0.5);
    if (same_bits(decimal_value(c, k), v)) {
      *m = c;
      *e = k;
      return true;
    }
  }
  return false;
}

static uint8_t *put_value(uint8_t *p, double v) {
  int64_t m;
  unsigned e;
  if (as_decimal(v, &m, &e)) return put_varint(p, zigzag(m) << 4 | e);
  uint64_t bits;
  memcpy(&bits, &v, 8);
  *p++ = RAW_E;
  put_le(p, bits, 8);
  return p + 8;
}

void ph_chunk_writer_reset(struct ph_chunk_writer *w) {
  w->len = 0;
  w->nrecords = 0;
  w->prev_ts = 0;
  w->prev_n = 0;
  if (reserve(w, V2_HDR) == 0) {
    w->buf[0] = w->buf[1] = 0xFF;
    w->buf[2] = 2;
    put_le(w->buf + V2_NREC_AT, 0, 2);
    w->len = V2_HDR;
  }
}

static unsigned mode_of(const struct ph_chunk_writer *w, const struct ph_chunk_value *v, size_t n) {
  unsigned mode = MODE_ALL_N;
  for (size_t i = 0; i < n; i++)
    if (v[i].flag != 'N') mode = 0;
  if (w->nrecords == 0 || w->prev_n != n) return mode;
  for (size_t i = 0; i < n; i++)
    if (w->prev_ids[i] != v[i].metric_id) return mode;
  return mode | MODE_SAME_METRICS;
}

int ph_chunk_add(struct ph_chunk_writer *w, int64_t ts_ms, int state, const struct ph_chunk_value *v, size_t n) {
  if (n > PH_CHUNK_MAX_VALUES || w->nrecords == UINT16_MAX) return PH_ETOOMANY;
  if (w->len < V2_HDR) ph_chunk_writer_reset(w);
  if (reserve(w, V2_REC_MAX(n))) return PH_ENOMEM;
  uint8_t *p = w->buf + w->len;
  unsigned mode = mode_of(w, v, n);
  p = put_varint(p, zigzag((int64_t)((uint64_t)ts_ms - (uint64_t)w->prev_ts)));
  *p++ = (uint8_t)state;
  *p++ = (uint8_t)n;
  *p++ = (uint8_t)mode;
  if (!(mode & MODE_SAME_METRICS))
    for (size_t i = 0; i < n; i++) p = put_varint(p, v[i].metric_id);
  if (!(mode & MODE_ALL_N))
    for (size_t i = 0; i < n; i++) *p++ = (uint8_t)v[i].flag;
  for (size_t i = 0; i < n; i++) p = put_value(p, v[i].v);
  w->len = (size_t)(p - w->buf);
  for (size_t i = 0; i < n; i++) w->prev_ids[i] = v[i].metric_id;
  w->prev_n = (uint8_t)n;
  w->prev_ts = ts_ms;
  w->nrecords++;
  put_le(w->buf + V2_NREC_AT, w->nrecords, 2);
  return 0;
}

int ph_chunk_reader_init(struct ph_chunk_reader *r, const void *blob, size_t len) {
  r->p = blob;
  r->end = r->p + len;
  r->prev_ts = 0;
  r->prev_n = -1;
  if (len < 2) return PH_EINVAL;
  if (get_le(r->p, 2) != 0xFFFF) {
    r->version = 1;
    r->left = (uint16_t)get_le(r->p, 2);
    r->p += 2;
    return 0;
  }
  if (len < V2_HDR || r->p[2] != 2) return PH_EINVAL;
  r->version = 2;
  r->left = (uint16_t)get_le(r->p + V2_NREC_AT, 2);
  r->p += V2_HDR;
  return 0;
}

static int next_v1(struct ph_chunk_reader *r, int64_t *ts_ms, int *state, struct ph_chunk_value *vals, size_t cap,
                   size_t *n) {
  if ((size_t)(r->end - r->p) < V1_REC_HDR) return PH_EINVAL;
  size_t nv = r->p[9];
  if (nv > cap || (size_t)(r->end - r->p) < V1_REC_HDR + nv * V1_VAL) return PH_EINVAL;
  *ts_ms = (int64_t)get_le(r->p, 8);
  *state = r->p[8];
  const uint8_t *p = r->p + V1_REC_HDR;
  for (size_t i = 0; i < nv; i++, p += V1_VAL) {
    uint64_t bits = get_le(p + 3, 8);
    vals[i].metric_id = (uint16_t)get_le(p, 2);
    vals[i].flag = (char)p[2];
    memcpy(&vals[i].v, &bits, 8);
  }
  *n = nv;
  r->p = p;
  return 1;
}

static const uint8_t *get_value(const uint8_t *p, const uint8_t *end, double *out) {
  uint64_t tag;
  if (!(p = get_varint(p, end, &tag))) return NULL;
  unsigned e = (unsigned)(tag & 15u);
  if (e == RAW_E) {
    if (tag != RAW_E || end - p < 8) return NULL;
    uint64_t bits = get_le(p, 8);
    memcpy(out, &bits, 8);
    return p + 8;
  }
  if (e > MAX_DEC_E) return NULL;
  int64_t m = unzigzag(tag >> 4);
  if (m <= -(int64_t)MAX_MANTISSA || m >= (int64_t)MAX_MANTISSA) return NULL; /* never written */
  *out = decimal_value(m, e);
  return p;
}

static int next_v2(struct ph_chunk_reader *r, int64_t *ts_ms, int *state, struct ph_chunk_value *vals, size_t cap,
                   size_t *n) {
  const uint8_t *p = r->p, *end = r->end;
  uint64_t d;
  if (!(p = get_varint(p, end, &d)) || end - p < 3) return PH_EINVAL;
  int st = p[0];
  size_t nv = p[1];
  unsigned mode = p[2];
  p += 3;
  if (nv > cap || (mode & ~(MODE_SAME_METRICS | MODE_ALL_N))) return PH_EINVAL;
  if (mode & MODE_SAME_METRICS) {
    if (r->prev_n != (int)nv) return PH_EINVAL;
    for (size_t i = 0; i < nv; i++) vals[i].metric_id = r->prev_ids[i];
  } else {
    for (size_t i = 0; i < nv; i++) {
      uint64_t id;
      if (!(p = get_varint(p, end, &id)) || id > UINT16_MAX) return PH_EINVAL;
      vals[i].metric_id = (uint16_t)id;
    }
  }
  if (!(mode & MODE_ALL_N) && (size_t)(end - p) < nv) return PH_EINVAL;
  for (size_t i = 0; i < nv; i++) vals[i].flag = mode & MODE_ALL_N ? 'N' : (char)*p++;
  for (size_t i = 0; i < nv; i++)
    if (!(p = get_value(p, end, &vals[i].v))) return PH_EINVAL;
  r->prev_ts = (int64_t)((uint64_t)r->prev_ts + (uint64_t)unzigzag(d));
  for (size_t i = 0; i < nv; i++) r->prev_ids[i] = vals[i].metric_id;
  r->prev_n = (int)nv;
  *ts_ms = r->prev_ts;
  *state = st;
  *n = nv;
  r->p = p;
  return 1;
}

int ph_chunk_next(struct ph_chunk_reader *r, int64_t *ts_ms, int *state, struct ph_chunk_value *vals, size_t cap,
                  size_t *n) {
  if (r->left == 0) return r->p == r->end ? 0 : PH_EINVAL;
  int rc = r->version == 1 ? next_v1(r, ts_ms, state, vals, cap, n) : next_v2(r, ts_ms, state, vals, cap, n);
  if (rc == 1) r->left--;
  return rc;
}
