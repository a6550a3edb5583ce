/* src_stdin.c — source "stdin": JSON records, one per line, on standard
 * input (a pipe from another program). Same format and checks as "jsonl";
 * no position survives a restart (a pipe cannot be re-read). */
#include <fcntl.h>
#include <stddef.h>
#include <unistd.h>

#include "parkhub/log.h"
#include "src_jsonl.h"

static int stdin_start(void *ctx, const struct ph_source_pos *resume, struct ph_source_io *io, struct ph_err *err) {
  (void)resume;
  struct jsonl_ctx *c = ctx;
  int rc = ph_linetail_open(&c->tail, NULL, NULL, true, err);
  /* collect() must never block: a pipe with nothing in it would. */
  int fl = fcntl(STDIN_FILENO, F_GETFL);
  if (fl >= 0) fcntl(STDIN_FILENO, F_SETFL, fl | O_NONBLOCK);
  io->fd = c->tail.fd;
  io->period_ms = 1000;
  c->io = io;
  return rc;
}

static int stdin_collect(void *ctx, struct ph_emitter *em, int64_t now_ms) {
  struct jsonl_ctx *c = ctx;
  int rc = jsonl_collect(ctx, em, now_ms);
  if (c->tail.eof && c->io->fd >= 0) {
    c->io->fd = -1; /* a closed pipe stays readable forever: stop watching it */
    PH_INFO(c->env->name, "standard input closed");
  }
  return rc;
}

static const struct ph_cfgmap stdin_map[] = {
    {"type", PH_CFG_SKIP, true, 0, 0, 0, 0, NULL, NULL, NULL},
    {"name", PH_CFG_SKIP, false, 0, 0, 0, 0, NULL, NULL, NULL},
    PH_CFG_END,
};

const struct ph_source_ops ph_src_stdin = {
    .name = "stdin",
    .help = "JSON records, one per line, on standard input",
    .cfgmap = stdin_map,
    .ctx_size = sizeof(struct jsonl_ctx),
    .init = jsonl_init,
    .start = stdin_start,
    .collect = stdin_collect,
    .exit = jsonl_exit,
};
