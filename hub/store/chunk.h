/* chunk.h — how the hub stores raw samples: one row per (batch, point,
 * UTC hour) holding that point's records of the batch as a compact blob,
 * instead of one row per value. A row costs SQLite ≈ 2 µs to insert; a
 * chunk of 20 records × 6 values costs one row (see bench/ingest).
 *
 * The writer writes version 2; the reader reads both (little-endian).
 *
 * Version 1 (the hub's first format, 76 bytes per CEMS record):
 *   u16 nrecords
 *   per record:  i64 ts_ms, u8 state, u8 nvalues,
 *                nvalues × (u16 metric_id, u8 flag, f64 value)
 *
 * Version 2 (≈ 4 × smaller: the bytes are written twice, WAL and file):
 *   u16 0xFFFF, u8 2, u16 nrecords
 *   per record:  varint zigzag(ts_ms − previous ts_ms; the first from 0),
 *                u8 state, u8 nvalues, u8 mode,
 *                unless mode & SAME_METRICS: nvalues × varint metric_id
 *                  (else the previous record's ids; nvalues must match),
 *                unless mode & ALL_N:        nvalues × u8 flag (else 'N'),
 *                nvalues × value
 *   value:       varint (zigzag(m) << 4 | e): the double m / 10^e, for
 *                e in 0..14 — only used when it gives back the very same
 *                bits; e = 15: the f64's 8 bytes follow.
 * A version 1 blob never starts with 0xFFFF: that would be 65 535 records,
 * and the hub never put more than PH_BATCH_MAX_RECORDS in one chunk.
 *
 * metric_id is the database's stable id of the metric (table metrics), not
 * the catalogue index, so a newer catalogue never reinterprets old data.
 */
#ifndef PARKHUB_CHUNK_H
#define PARKHUB_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "parkhub/err.h"

#define PH_CHUNK_MAX_VALUES 255 /* per record: nvalues is a byte */

struct ph_chunk_writer {
  uint8_t *buf; /* owned, grows */
  size_t len, cap;
  uint16_t nrecords;
  int64_t prev_ts;
  uint8_t prev_n; /* values of the previous record, whose ids are prev_ids */
  uint16_t prev_ids[PH_CHUNK_MAX_VALUES];
};

struct ph_chunk_value {
  uint16_t metric_id;
  char flag;
  double v;
};

void ph_chunk_writer_init(struct ph_chunk_writer *w);
void ph_chunk_writer_fini(struct ph_chunk_writer *w);
/* Starts an empty blob (an empty blob reads as zero records). */
void ph_chunk_writer_reset(struct ph_chunk_writer *w);
/* Appends one record. PH_ETOOMANY: n > PH_CHUNK_MAX_VALUES or 65 535
 * records already; PH_ENOMEM. */
int ph_chunk_add(struct ph_chunk_writer *w, int64_t ts_ms, int state, const struct ph_chunk_value *v, size_t n);

/* Walks a stored blob of either version. Returns 1 with the next record,
 * 0 at the end, PH_EINVAL when the blob is malformed or a record has more
 * values than cap (never reads past len). */
struct ph_chunk_reader {
  const uint8_t *p, *end;
  uint16_t left;
  int version;
  int64_t prev_ts;
  int prev_n; /* -1: no previous record */
  uint16_t prev_ids[PH_CHUNK_MAX_VALUES];
};
int ph_chunk_reader_init(struct ph_chunk_reader *r, const void *blob, size_t len);
int ph_chunk_next(struct ph_chunk_reader *r, int64_t *ts_ms, int *state, struct ph_chunk_value *vals, size_t cap,
                  size_t *n);

#endif
