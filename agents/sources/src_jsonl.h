/* src_jsonl.h — shared by the JSON-lines file source and the stdin source:
 * both read one JSON record per line (src_jsonl.c). */
#ifndef PH_SRC_JSONL_H
#define PH_SRC_JSONL_H

#include "parkhub/batch.h"
#include "sources/linetail.h"
#include "sources/source.h"

struct jsonl_ctx {
  char path[512];
  bool from_start;
  const struct ph_source_env *env;
  struct ph_linetail tail;
  struct ph_source_io *io; /* the core's, for sources that change it later */
  struct ph_batch scratch[PH_KIND_COUNT]; /* one decoded record at a time */
  struct ph_batch_scratch tokens;         /* the decoder's JSON tokens, reused per line */
};

int jsonl_init(void *ctx, const void *cfg, const struct ph_source_env *env, struct ph_err *err);
int jsonl_collect(void *ctx, struct ph_emitter *em, int64_t now_ms);
void jsonl_exit(void *ctx);

#endif
