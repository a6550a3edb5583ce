/* chunk.h — how the hub stores raw samples: one row per (batch, point,
 * UTC hour) holding that point's records of the batch as a compact blob,
 * instead of one row per value. A row costs SQLite ≈ 2 µs to insert; a
 * chunk of 20 records × 6 values costs one row (see bench/ingest).
 *
 * Blob layout (little-endian, packed):
 *   u16 nrecords
 *   per record:  i64 ts_ms, u8 state, u8 nvalues,
 *                nvalues × (u16 metric_id, u8 flag, f64 value)
 * metric_id is the database's stable id of the metric (table metrics), not
 * the catalogue index, so a newer catalogue never reinterprets old data.
 */
#ifndef PARKHUB_CHUNK_H
#define PARKHUB_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "parkhub/err.h"

#define PH_CHUNK_REC_HDR 10  /* ts + state + nvalues */
#define PH_CHUNK_VAL 11      /* metric + flag + value */

struct ph_chunk_writer {
  uint8_t *buf; /* owned, grows */
  size_t len, cap;
  uint16_t nrecords;
};

struct ph_chunk_value {
  uint16_t metric_id;
  char flag;
  double v;
};

void ph_chunk_writer_init(struct ph_chunk_writer *w);
void ph_chunk_writer_fini(struct ph_chunk_writer *w);
void ph_chunk_writer_reset(struct ph_chunk_writer *w);
int ph_chunk_add(struct ph_chunk_writer *w, int64_t ts_ms, int state, const struct ph_chunk_value *v, size_t n);

/* Walks a stored blob. Returns 1 with the next record, 0 at the end,
 * PH_EINVAL when the blob is malformed (never reads past len). */
struct ph_chunk_reader {
  const uint8_t *p, *end;
  uint16_t left;
};
int ph_chunk_reader_init(struct ph_chunk_reader *r, const void *blob, size_t len);
int ph_chunk_next(struct ph_chunk_reader *r, int64_t *ts_ms, int *state, struct ph_chunk_value *vals, size_t cap,
                  size_t *n);

#endif
