#include <criterion/criterion.h>
#include <string.h>

#include "parkhub/chunk.h"

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
