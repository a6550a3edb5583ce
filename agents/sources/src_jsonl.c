/* src_jsonl.c — source "jsonl": tails a file of JSON lines, one record per
 * line, in the wire format of DESIGN.md:
 *
 *   {"ts":"2026-11-23T10:00:00Z","point":"stack-1","values":{"so2":35.2},"flags":{"so2":"N"}}
 *   {"ts":"…","point":"weighbridge","material":"scrap_cu_2","dir":"in","qty_t":31.4}
 *
 * A line may say "kind" (process|material|emission); otherwise the kind is
 * that of its first metric, or material for a "material" record. The kind
 * is read with cJSON; then the line's own text is validated exactly as the
 * hub will (ph_batch_decode_record, told to pass over "kind"); a bad line
 * is reported with its line number and reason, never published.
 * Survives rotation and truncation (linetail.c); resumes after the last
 * line that reached a committed batch.
 */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/jsonfile.h"
#include "src_jsonl.h"

int jsonl_init(void *ctx, const void *cfg, const struct ph_source_env *env, struct ph_err *err) {
  (void)cfg;
  (void)err;
  struct jsonl_ctx *c = ctx;
  c->env = env;
  c->tail.fd = -1;
  for (int k = 0; k < PH_KIND_COUNT; k++) ph_batch_init(&c->scratch[k], (enum ph_kind)k);
  ph_batch_scratch_init(&c->tokens);
  return 0;
}

static int jsonl_start(void *ctx, const struct ph_source_pos *resume, struct ph_source_io *io, struct ph_err *err) {
  struct jsonl_ctx *c = ctx;
  io->fd = -1;
  io->period_ms = 200; /* files are polled: rotation needs a stat() anyway */
  return ph_linetail_open(&c->tail, c->path, resume, c->from_start, err);
}

/* Decides the kind of a record object (its "kind" key, which the decoder
 * then passes over, or what its fields imply). */
static int record_kind(const cJSON *o, const struct ph_catalog *cat, enum ph_kind *k, struct ph_err *err) {
  const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
  if (kind) {
    int rc = cJSON_IsString(kind) ? ph_kind_parse(kind->valuestring, strlen(kind->valuestring), k) : PH_EENUM;
    return rc ? ph_fail(err, PH_EENUM, "kind: must be process, material or emission") : 0;
  }
  *k = PH_KIND_EMISSION;
  if (cJSON_GetObjectItemCaseSensitive(o, "material")) {
    *k = PH_KIND_MATERIAL;
    return 0;
  }
  const cJSON *vals = cJSON_GetObjectItemCaseSensitive(o, "values");
  if (cJSON_IsObject(vals) && vals->child) {
    int idx = ph_catalog_find(cat, vals->child->string, strlen(vals->child->string));
    if (idx >= 0) *k = ph_catalog_at(cat, (size_t)idx)->kind;
  }
  return 0;
}

static void handle_line(struct jsonl_ctx *c, struct ph_emitter *em, const char *line, size_t len, int64_t now_ms) {
  char where[40];
  snprintf(where, sizeof where, "line %lld", (long long)c->tail.lineno);
  struct ph_err err = {0};
  cJSON *o = NULL;
  if (ph_json_parse(line, len, where, (void **)&o, &err)) {
    ph_emit_reject(em, where, &err);
    return;
  }
  enum ph_kind k;
  if (!cJSON_IsObject(o)) {
    ph_fail(&err, PH_ETYPE, "%s: must be a JSON object", where);
  } else if (record_kind(o, c->env->cat, &k, &err) == 0) {
    struct ph_batch *b = &c->scratch[k];
    ph_batch_reset(b, k);
    struct ph_decode_opts opts = {.cat = c->env->cat, .kind = k, .now_ms = now_ms,
                                  .max_future_ms = c->env->max_future_ms, .scratch = &c->tokens,
                                  .skip_key = "kind"};
    if (ph_batch_decode_record(b, line, len, &opts, where, &err) == 0) {
      const struct ph_record *r = &b->records[0];
      ph_emit(em, k, r, ph_record_values(b, r), r->nvalues, ph_record_attrs(b, r));
      err.code = 0;
    }
  }
  cJSON_Delete(o);
  if (err.code) ph_emit_reject(em, where, &err);
}

int jsonl_collect(void *ctx, struct ph_emitter *em, int64_t now_ms) {
  struct jsonl_ctx *c = ctx;
  ph_linetail_poll(&c->tail);
  for (int n = 0; n < PH_SOURCE_BUDGET; n++) {
    if (!ph_emit_room(em, 1)) return 0; /* outbox at its cap: read nothing more now */
    char *line;
    size_t len;
    int rc = ph_linetail_next(&c->tail, &line, &len);
    if (rc == 0) return 0;
    if (rc == PH_ESTRLEN) {
      char where[40];
      snprintf(where, sizeof where, "line %lld", (long long)c->tail.lineno);
      struct ph_err err;
      ph_fail(&err, PH_ESTRLEN, "%s: longer than %d bytes, skipped", where, PH_LINE_MAX);
      ph_emit_reject(em, where, &err);
    } else if (len > 0) {
      handle_line(c, em, line, len, now_ms);
    }
    struct ph_source_pos pos = ph_linetail_pos(&c->tail);
    ph_emit_position(em, &pos);
  }
  return 1;
}

static int jsonl_reopen(void *ctx) { return ph_linetail_reopen(&((struct jsonl_ctx *)ctx)->tail); }

void jsonl_exit(void *ctx) {
  struct jsonl_ctx *c = ctx;
  if (c->tail.buf) ph_linetail_close(&c->tail);
  for (int k = 0; k < PH_KIND_COUNT; k++) ph_batch_fini(&c->scratch[k]);
  ph_batch_scratch_fini(&c->tokens);
}

#define F(field) offsetof(struct jsonl_ctx, field), sizeof(((struct jsonl_ctx *)0)->field)
static const struct ph_cfgmap jsonl_map[] = {
    {"type", PH_CFG_SKIP, true, 0, 0, 0, 0, NULL, NULL, NULL},
    {"name", PH_CFG_SKIP, false, 0, 0, 0, 0, NULL, NULL, NULL},
    {"path", PH_CFG_STR, true, F(path), 0, 0, NULL, NULL, "file to tail (rotation and truncation are followed)"},
    {"from_start", PH_CFG_BOOL, false, offsetof(struct jsonl_ctx, from_start), 0, 0, 0, "false", NULL,
     "on first start read the file from its beginning (default: only new lines)"},
    PH_CFG_END,
};
#undef F

const struct ph_source_ops ph_src_jsonl = {
    .name = "jsonl",
    .help = "tail a file of JSON records, one per line",
    .cfgmap = jsonl_map,
    .ctx_size = sizeof(struct jsonl_ctx),
    .init = jsonl_init,
    .start = jsonl_start,
    .collect = jsonl_collect,
    .reopen = jsonl_reopen,
    .exit = jsonl_exit,
};
