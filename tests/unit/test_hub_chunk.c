#include <criterion/criterion.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "store/chunk.h"

Test(chunk, records_round_trip_exactly) {
  struct ph_chunk_writer w;
  ph_chunk_writer_init(&w);
  ph_chunk_writer_reset(&w);
  for (int i = 0; i < 300; i++) {
    struct ph_chunk_value v[3] = {{1, 'N', 35.2 + i}, {2, 'M', -0.052}, {65535, 'B', 1.0 / 3}};
    cr_assert_eq(ph_chunk_add(&w, 1795428000000LL + i * 1000, i % 5, v, (size_t)(i % 4)), 0);
  }
  struct ph_chunk_reader r;
  cr_assert_eq(ph_chunk_reader_init(&r, w.buf, w.len), 0);
  struct ph_chunk_value got[8];
  int64_t ts;
  int state;
  size_t n;
  for (int i = 0; i < 300; i++) {
    cr_assert_eq(ph_chunk_next(&r, &ts, &state, got, 8, &n), 1, "record %d", i);
    cr_assert_eq(ts, 1795428000000LL + i * 1000);
    cr_assert_eq(state, i % 5);
    cr_assert_eq(n, (size_t)(i % 4));
    if (n > 0) cr_assert_eq(got[0].v, 35.2 + i);
    if (n > 2) {
      cr_assert_eq(got[2].metric_id, 65535);
      cr_assert_eq(got[2].flag, 'B');
      cr_assert_eq(got[2].v, 1.0 / 3);
    }
  }
  cr_assert_eq(ph_chunk_next(&r, &ts, &state, got, 8, &n), 0, "end");
  ph_chunk_writer_fini(&w);
}

Test(chunk, malformed_blobs_are_refused_not_overread) {
  struct ph_chunk_writer w;
  ph_chunk_writer_init(&w);
  ph_chunk_writer_reset(&w);
  struct ph_chunk_value v[2] = {{1, 'N', 1}, {2, 'N', 2}};
  ph_chunk_add(&w, 5, 0, v, 2);
  ph_chunk_add(&w, 6, 0, v, 2);
  struct ph_chunk_value got[2];
  int64_t ts;
  int state;
  size_t n;
  for (size_t cut = 0; cut < w.len; cut++) { /* every truncation */
    struct ph_chunk_reader r;
    if (ph_chunk_reader_init(&r, w.buf, cut) != 0) continue;
    int rc;
    while ((rc = ph_chunk_next(&r, &ts, &state, got, 2, &n)) == 1) {
    }
    cr_assert_eq(rc, PH_EINVAL, "a blob cut at %zu bytes must be refused", cut);
  }
  struct ph_chunk_reader r;
  ph_chunk_reader_init(&r, w.buf, w.len);
  cr_assert_eq(ph_chunk_next(&r, &ts, &state, got, 1, &n), PH_EINVAL, "more values than the caller's room");
  ph_chunk_writer_fini(&w);
}

static bool same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* Every value comes back bit for bit, whether it is stored as a decimal or
 * as a raw double: the short decimals of a CEMS logger, long fractions,
 * both zeros, infinities, NaN, subnormals, the largest doubles, and values
 * one ulp away from a decimal (which must not be rounded to it). */
Test(chunk, v2_values_come_back_bit_for_bit) {
  static const double fixed[] = {0.0, -0.0, 1.0, -1.0, 35.2, 12.34, 150.3, 120000, -0.052, 1.0 / 3, 0.1, 0.2, 0.3,
                                 1e-300, 4.9e-324, -4.9e-324, 1.7976931348623157e308, 9007199254740991.0,
                                 9007199254740993.0, 123456789012345.6, 1e22, 1e-14, 99.99999999999999,
                                 (double)INFINITY, -(double)INFINITY, (double)NAN};
  struct ph_chunk_writer w;
  ph_chunk_writer_init(&w);
  ph_chunk_writer_reset(&w);
  size_t nfixed = sizeof fixed / sizeof fixed[0], total = 0;
  double want[4096];
  for (size_t i = 0; i < nfixed; i++) want[total++] = fixed[i];
  for (size_t i = 0; i < nfixed; i++) want[total++] = nextafter(fixed[i], (double)INFINITY);
  uint64_t x = 0x9E3779B97F4A7C15ull; /* xorshift: arbitrary bit patterns, reproducible */
  while (total < 4000) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    double d;
    memcpy(&d, &x, sizeof d);
    want[total++] = d;
    want[total++] = (double)(int64_t)(x % 2000001) / 100.0 - 10000.0; /* two decimals */
  }
  for (size_t i = 0; i < total; i += 8) {
    struct ph_chunk_value v[8];
    for (size_t k = 0; k < 8; k++) v[k] = (struct ph_chunk_value){(uint16_t)(k + 1), 'N', i + k < total ? want[i + k] : 0};
    cr_assert_eq(ph_chunk_add(&w, 1795428000000LL + (int64_t)i, 0, v, 8), 0);
  }
  struct ph_chunk_reader r;
  cr_assert_eq(ph_chunk_reader_init(&r, w.buf, w.len), 0);
  struct ph_chunk_value got[8];
  int64_t ts;
  int state;
  size_t n;
  for (size_t i = 0; i < total; i += 8) {
    cr_assert_eq(ph_chunk_next(&r, &ts, &state, got, 8, &n), 1);
    for (size_t k = 0; k < 8 && i + k < total; k++)
      cr_assert(same_bits(got[k].v, want[i + k]), "value %zu: %.17g came back as %.17g", i + k, want[i + k],
                got[k].v);
  }
  cr_assert_eq(ph_chunk_next(&r, &ts, &state, got, 8, &n), 0);
  ph_chunk_writer_fini(&w);
}

/* Times go up and down (a batch need not be sorted), metric lists and
 * flags change from record to record, extreme times survive the deltas. */
Test(chunk, v2_times_metrics_and_flags_round_trip) {
  static const int64_t times[] = {1795428000000LL, 1795428001000LL, 1795427000000LL, 0, -1, INT64_MAX, INT64_MIN,
                                  1795428002000LL};
  struct ph_chunk_writer w;
  ph_chunk_writer_init(&w);
  ph_chunk_writer_reset(&w);
  for (int i = 0; i < 8; i++) {
    struct ph_chunk_value v[3] = {{7, 'N', 1.5}, {(uint16_t)(i < 4 ? 8 : 300), i == 5 ? 'C' : 'N', 2.5},
                                  {65535, 'N', -3}};
    cr_assert_eq(ph_chunk_add(&w, times[i], i % 5, v, i == 6 ? 2 : 3), 0);
  }
  struct ph_chunk_reader r;
  cr_assert_eq(ph_chunk_reader_init(&r, w.buf, w.len), 0);
  struct ph_chunk_value got[3];
  int64_t ts;
  int state;
  size_t n;
  for (int i = 0; i < 8; i++) {
    cr_assert_eq(ph_chunk_next(&r, &ts, &state, got, 3, &n), 1, "record %d", i);
    cr_assert_eq(ts, times[i], "record %d", i);
    cr_assert_eq(state, i % 5);
    cr_assert_eq(n, i == 6 ? 2u : 3u);
    cr_assert_eq(got[0].metric_id, 7);
    cr_assert_eq(got[1].metric_id, i < 4 ? 8 : 300, "record %d", i);
    cr_assert_eq(got[1].flag, i == 5 ? 'C' : 'N', "record %d", i);
    cr_assert_eq(got[1].v, 2.5);
    if (n == 3) cr_assert_eq(got[2].metric_id, 65535);
  }
  cr_assert_eq(ph_chunk_next(&r, &ts, &state, got, 3, &n), 0);
  ph_chunk_writer_fini(&w);
}

/* A CEMS record (1 s apart, six short decimals, all valid) costs a
 * fraction of version 1's 76 bytes: this is what the format is for. */
Test(chunk, v2_cems_records_are_small) {
  struct ph_chunk_writer w;
  ph_chunk_writer_init(&w);
  ph_chunk_writer_reset(&w);
  for (int i = 0; i < 20; i++) {
    struct ph_chunk_value v[6] = {{1, 'N', 35.2 + i}, {2, 'N', 80.1}, {3, 'N', 4.27},
                                  {4, 'N', 118000 + i}, {5, 'N', 10.6}, {6, 'N', 152.3}};
    cr_assert_eq(ph_chunk_add(&w, 1795428000000LL + i * 1000, 1, v, 6), 0);
  }
  size_t v1_len = 2 + 20 * (10 + 6 * 11);
  cr_assert_lt(w.len * 3, v1_len, "20 records: %zu bytes, version 1 took %zu", w.len, v1_len);
  ph_chunk_writer_fini(&w);
}

static size_t put_v1_record(uint8_t *p, int64_t ts, int state, const struct ph_chunk_value *v, int n) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)((uint64_t)ts >> (8 * i));
  p[8] = (uint8_t)state;
  p[9] = (uint8_t)n;
  size_t at = 10;
  for (int k = 0; k < n; k++, at += 11) {
    uint64_t bits;
    memcpy(&bits, &v[k].v, 8);
    p[at] = (uint8_t)v[k].metric_id;
    p[at + 1] = (uint8_t)(v[k].metric_id >> 8);
    p[at + 2] = (uint8_t)v[k].flag;
    for (int i = 0; i < 8; i++) p[at + 3 + i] = (uint8_t)(bits >> (8 * i));
  }
  return at;
}

/* Databases written before version 2 keep their samples readable. */
Test(chunk, version_1_blobs_still_read) {
  uint8_t blob[2 + 2 * (10 + 2 * 11)];
  struct ph_chunk_value a[2] = {{1, 'N', 35.2}, {9, 'C', -0.052}}, b[1] = {{4, 'M', 1.0 / 3}};
  size_t len = 2;
  blob[0] = 2, blob[1] = 0;
  len += put_v1_record(blob + len, 1795428000000LL, 1, a, 2);
  len += put_v1_record(blob + len, 1795428001000LL, 3, b, 1);
  struct ph_chunk_reader r;
  cr_assert_eq(ph_chunk_reader_init(&r, blob, len), 0);
  struct ph_chunk_value got[2];
  int64_t ts;
  int state;
  size_t n;
  cr_assert_eq(ph_chunk_next(&r, &ts, &state, got, 2, &n), 1);
  cr_assert(ts == 1795428000000LL && state == 1 && n == 2);
  cr_assert(got[0].metric_id == 1 && got[0].flag == 'N' && got[0].v == 35.2);
  cr_assert(got[1].metric_id == 9 && got[1].flag == 'C' && got[1].v == -0.052);
  cr_assert_eq(ph_chunk_next(&r, &ts, &state, got, 2, &n), 1);
  cr_assert(ts == 1795428001000LL && state == 3 && n == 1 && got[0].metric_id == 4 && got[0].v == 1.0 / 3);
  cr_assert_eq(ph_chunk_next(&r, &ts, &state, got, 2, &n), 0);
  for (size_t cut = 0; cut < len; cut++) { /* and a cut version 1 blob is refused, not overread */
    if (ph_chunk_reader_init(&r, blob, cut) != 0) continue;
    int rc;
    while ((rc = ph_chunk_next(&r, &ts, &state, got, 2, &n)) == 1) {
    }
    cr_assert_eq(rc, PH_EINVAL, "cut at %zu", cut);
  }
}

/* Hostile bytes: unknown versions and mode bits, "same metrics" with no
 * previous record, overlong varints, a raw tag with stray bits. */
Test(chunk, v2_malformed_headers_are_refused) {
  struct ph_chunk_reader r;
  struct ph_chunk_value got[4];
  int64_t ts;
  int state;
  size_t n;
  static const uint8_t bad_version[] = {0xFF, 0xFF, 3, 0, 0};
  cr_assert_eq(ph_chunk_reader_init(&r, bad_version, sizeof bad_version), PH_EINVAL);
  static const uint8_t short_hdr[] = {0xFF, 0xFF, 2, 1};
  cr_assert_eq(ph_chunk_reader_init(&r, short_hdr, sizeof short_hdr), PH_EINVAL);
  const uint8_t *const recs[] = {
      (const uint8_t[]){0xFF, 0xFF, 2, 1, 0, 0x00, 0, 1, 4, 1, 0x00},             /* unknown mode bit */
      (const uint8_t[]){0xFF, 0xFF, 2, 1, 0, 0x00, 0, 1, 1, 0x00},                /* same metrics, first record */
      (const uint8_t[]){0xFF, 0xFF, 2, 1, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80}, /* cut-off varint */
      (const uint8_t[]){0xFF, 0xFF, 2, 1, 0, 0x00, 0, 1, 2, 0x83, 0x80, 0x04},    /* id > 65535 */
      (const uint8_t[]){0xFF, 0xFF, 2, 1, 0, 0x00, 0, 1, 2, 1, 0x1F, 0, 0, 0, 0, 0, 0, 0, 0}, /* raw tag with bits */
      (const uint8_t[]){0xFF, 0xFF, 2, 1, 0, 0x00, 0, 5, 2, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0},    /* 5 values, room 4 */
  };
  static const size_t lens[] = {11, 10, 11, 12, 19, 19};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    cr_assert_eq(ph_chunk_reader_init(&r, recs[i], lens[i]), 0, "case %zu", i);
    cr_assert_eq(ph_chunk_next(&r, &ts, &state, got, 4, &n), PH_EINVAL, "case %zu", i);
  }
  static const uint8_t ok[] = {0xFF, 0xFF, 2, 1, 0, 0x00, 0, 1, 2, 1, 0x20}; /* one value: zigzag(1) << 4, e 0 */
  cr_assert_eq(ph_chunk_reader_init(&r, ok, sizeof ok), 0);
  cr_assert_eq(ph_chunk_next(&r, &ts, &state, got, 4, &n), 1);
  cr_assert(n == 1 && got[0].metric_id == 1 && got[0].flag == 'N');
  cr_assert_eq(got[0].v, 1.0);
}
