/* chunk.c — the raw-sample blob codec (chunk.h). Callers: the writer
 * (encode), the query side and tests (decode). Pure code, no state. */
#include "parkhub/chunk.h"

#include <string.h>

#include "parkhub/alloc.h"

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

void ph_chunk_writer_reset(struct ph_chunk_writer *w) {
  w->len = 0;
  w->nrecords = 0;
  if (reserve(w, 2) == 0) {
    w->buf[0] = w->buf[1] = 0;
    w->len = 2;
  }
}

static void put_le(uint8_t *p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get_le(const uint8_t *p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

int ph_chunk_add(struct ph_chunk_writer *w, int64_t ts_ms, int state, const struct ph_chunk_value *v, size_t n) {
  if (n > 255 || w->nrecords == UINT16_MAX) return PH_ETOOMANY;
  if (w->len < 2) ph_chunk_writer_reset(w);
  if (reserve(w, PH_CHUNK_REC_HDR + n * PH_CHUNK_VAL)) return PH_ENOMEM;
  uint8_t *p = w->buf + w->len;
  put_le(p, (uint64_t)ts_ms, 8);
  p[8] = (uint8_t)state;
  p[9] = (uint8_t)n;
  p += PH_CHUNK_REC_HDR;
  for (size_t i = 0; i < n; i++, p += PH_CHUNK_VAL) {
    uint64_t bits;
    memcpy(&bits, &v[i].v, 8);
    put_le(p, v[i].metric_id, 2);
    p[2] = (uint8_t)v[i].flag;
    put_le(p + 3, bits, 8);
  }
  w->len += PH_CHUNK_REC_HDR + n * PH_CHUNK_VAL;
  w->nrecords++;
  put_le(w->buf, w->nrecords, 2);
  return 0;
}

int ph_chunk_reader_init(struct ph_chunk_reader *r, const void *blob, size_t len) {
  r->p = blob;
  r->end = r->p + len;
  if (len < 2) return PH_EINVAL;
  r->left = (uint16_t)get_le(r->p, 2);
  r->p += 2;
  return 0;
}

int ph_chunk_next(struct ph_chunk_reader *r, int64_t *ts_ms, int *state, struct ph_chunk_value *vals, size_t cap,
                  size_t *n) {
  if (r->left == 0) return r->p == r->end ? 0 : PH_EINVAL;
  if ((size_t)(r->end - r->p) < PH_CHUNK_REC_HDR) return PH_EINVAL;
  size_t nv = r->p[9];
  if (nv > cap || (size_t)(r->end - r->p) < PH_CHUNK_REC_HDR + nv * PH_CHUNK_VAL) return PH_EINVAL;
  *ts_ms = (int64_t)get_le(r->p, 8);
  *state = r->p[8];
  const uint8_t *p = r->p + PH_CHUNK_REC_HDR;
  for (size_t i = 0; i < nv; i++, p += PH_CHUNK_VAL) {
    uint64_t bits = get_le(p + 3, 8);
    vals[i].metric_id = (uint16_t)get_le(p, 2);
    vals[i].flag = (char)p[2];
    memcpy(&vals[i].v, &bits, 8);
  }
  *n = nv;
  r->p = p;
  r->left--;
  return 1;
}
