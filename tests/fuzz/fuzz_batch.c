/* fuzz_batch.c — libFuzzer target: the hub's batch decoder (common/
 * batch_decode.c) on any bytes, as each kind of batch.
 *
 * Oracle besides the sanitizers: a batch that decodes must encode, and its
 * encoding must decode again to the same records and values (the agent's
 * outbox stores encoded batches; the hub decodes them). Each input is then
 * decoded as one record (ph_batch_decode_record, the agents' path), which
 * must agree with the batch path on what it stores.
 *
 * The first decodes share one token scratch across all inputs, as the hub's
 * decoder thread does (it grows, then is reused); the round trip and the
 * record decode use a temporary one (opts.scratch NULL). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parkhub/batch.h"
#include "parkhub/catalog.h"

#define NOW_MS 1795000000000LL /* 2026-11-18: the corpus' timestamps are near */

static struct ph_catalog *cat;
static struct ph_batch_scratch tokens;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  struct ph_err err = {0};
  if (ph_catalog_load_builtin(&cat, &err)) abort();
  return 0;
}

static void roundtrip(const struct ph_batch *b, const struct ph_decode_opts *o) {
  char *text = NULL;
  size_t len = 0;
  if (ph_batch_encode(b, cat, &text, &len)) abort(); /* a decoded batch always encodes */
  struct ph_batch again;
  struct ph_err err = {0};
  ph_batch_init(&again, o->kind);
  struct ph_decode_opts o2 = *o;
  o2.max_bytes = len + 1; /* the encoding may be longer than the input */
  if (ph_batch_decode(text, len, &o2, &again, &err)) abort();
  if (again.nrecords != b->nrecords || again.nvalues != b->nvalues) abort();
  ph_batch_fini(&again);
  free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const enum ph_kind kinds[] = {PH_KIND_EMISSION, PH_KIND_PROCESS, PH_KIND_MATERIAL};
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    struct ph_decode_opts o = {.cat = cat, .kind = kinds[k], .now_ms = NOW_MS, .max_future_ms = 300000,
                               .max_age_ms = 400LL * 86400000, .scratch = &tokens};
    struct ph_batch b;
    struct ph_err err = {0};
    ph_batch_init(&b, kinds[k]);
    if (ph_batch_decode((const char *)data, size, &o, &b, &err) == 0) {
      o.scratch = NULL;
      roundtrip(&b, &o);
    } else if (!err.msg[0]) {
      abort(); /* every refusal says why */
    }
    /* the same bytes as one record: a refusal says why; a record is whole */
    o.scratch = NULL;
    ph_batch_reset(&b, kinds[k]);
    err.msg[0] = '\0';
    int rc = ph_batch_decode_record(&b, (const char *)data, size, &o, "record", &err);
    if (rc ? !err.msg[0] || b.nrecords != 0 : b.nrecords != 1 || b.nvalues != b.records[0].nvalues) abort();
    ph_batch_fini(&b);
  }
  return 0;
}
