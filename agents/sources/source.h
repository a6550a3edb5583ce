/* source.h — the agent's input interface. Every input (JSON-lines tail, CSV
 * tail, stdin, simulator, later HJ 212 and Modbus) is a `const struct
 * ph_source_ops` defined at the end of its own file and listed in
 * agents/sources/source.c.
 *
 * The agent core owns the loop, the timers and the fds; a source never
 * sleeps or spins. Lifecycle:
 *
 *   init(ctx, cfg)          ctx is zeroed memory of ops->ctx_size with the
 *                           cfgmap already applied; parse extra config, no I/O;
 *                           with env->pr (--check-config) every bad entry of
 *                           its lists is noted and the next one checked
 *                           (ph_source_note); a problem that makes the rest
 *                           meaningless may stop, saying so in a comment
 *   start(ctx, resume, io)  open files/sockets; set io->fd and/or
 *                           io->period_ms (io stays valid while the source
 *                           runs: it may change them later, e.g. fd = -1 at
 *                           EOF); resume is the position committed
 *                           with the last stored batch (or NULL: first run)
 *   collect(ctx, em, now)   fd readable or period elapsed: read, emit up to
 *                           PH_SOURCE_BUDGET records, never block; return 1
 *                           when more is ready now, 0 when idle, <0 on error
 *   reopen(ctx)             SIGHUP: reopen files (optional)
 *   exit(ctx)               close and free what init/start made
 *
 * Exactly-once across crashes: a source reports its position (where the
 * next read starts) after each record with ph_emit_position(); the core
 * stores the position of the last record that made it into a committed
 * batch in the same SQLite transaction as that batch, and hands it back to
 * start() after a restart.
 */
#ifndef PARKHUB_SOURCE_H
#define PARKHUB_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parkhub/batch.h"
#include "parkhub/catalog.h"
#include "parkhub/cfgmap.h"
#include "parkhub/err.h"

#define PH_SOURCE_BUDGET 2000 /* records per collect() call */

struct ph_source_pos {
  int64_t a, b, c; /* meaning is the source's: e.g. inode, offset, line number */
  int valid;
};

struct ph_source_io {
  int fd;          /* watched for POLLIN; -1: none */
  int period_ms;   /* collect() at least this often; 0: only on fd */
};

/* What a source may read from the core. Borrowed for the source's life. */
struct ph_source_env {
  const struct ph_catalog *cat;
  const char *name;      /* the source's name in the config, for logs */
  int64_t max_future_ms; /* records further ahead of the clock are refused */
  /* --check-config: init notes every problem of its own config here
   * (ph_source_note) and goes on to the next entry of its lists; NULL at
   * start, when the first problem stops init. Only during init. */
  struct ph_cfg_problems *pr;
};

/* The core's side (the batcher), or a capture sink in tests. Sources call
 * the ph_emit* functions below, never these pointers. */
struct ph_emitter {
  int (*record)(void *user, enum ph_kind kind, const struct ph_record *r, const struct ph_value *vals, size_t n,
                const char *attrs_json);
  void (*reject)(void *user, const char *where, const struct ph_err *err);
  void (*position)(void *user, const struct ph_source_pos *pos);
  bool (*room)(void *user, size_t n); /* NULL: always room */
  /* The position last stored with a committed batch (see
   * ph_emit_committed); NULL: the emitter cannot tell (a capture sink). */
  bool (*committed)(void *user, struct ph_source_pos *out);
  void *user;
};

/* Hands one record to the core, which copies it (sources reuse buffers).
 * The record must be valid for `kind` (sources validate with
 * ph_batch_decode_record or build from the catalogue). Returns 0. */
int ph_emit(struct ph_emitter *em, enum ph_kind kind, const struct ph_record *r, const struct ph_value *vals,
            size_t n, const char *attrs_json);
/* A record the source refused: counted and logged (rate-limited) by the core
 * with `where` ("line 17") and the reason. */
void ph_emit_reject(struct ph_emitter *em, const char *where, const struct ph_err *err);
/* True when n more records can be taken now. A source asks before it
 * consumes input (a line, a tick) and, when there is no room, stops and
 * returns 0 without consuming: the outbox is at its cap and the core calls
 * the source again once the hub has acked. */
bool ph_emit_room(struct ph_emitter *em, size_t n);
/* Where reading resumes after the records emitted so far. */
void ph_emit_position(struct ph_emitter *em, const struct ph_source_pos *pos);
/* For sources that answer their sender (HJ 212): the last position this
 * source reported that is now stored in the outbox together with every
 * record emitted before it. Returns 1 and fills *out; 0 when nothing was
 * committed yet in this run; -1 when the emitter cannot tell (tests'
 * capture sinks): then treat everything emitted as committed. */
int ph_emit_committed(struct ph_emitter *em, struct ph_source_pos *out);

struct ph_source_ops {
  const char *name; /* the config's "type" */
  const char *help; /* one line for --help */
  const struct ph_cfgmap *cfgmap; /* offsets into ctx; "type" and "name" are the core's */
  size_t ctx_size;
  int (*init)(void *ctx, const void *cjson_cfg, const struct ph_source_env *env, struct ph_err *err);
  int (*start)(void *ctx, const struct ph_source_pos *resume, struct ph_source_io *io, struct ph_err *err);
  int (*collect)(void *ctx, struct ph_emitter *em, int64_t now_ms);
  int (*reopen)(void *ctx);
  void (*exit)(void *ctx);
};

/* A problem of a source's own config, found by its init (see env->pr):
 * err->msg names it by its path below the source ("loggers[2].mn: …"; the
 * core puts "sources[1]." in front). Checking (env->pr set): noted, and
 * returns 0, so that init goes on with the next entry and counts it (*bad
 * += 1; bad may be NULL); starting: returns rc, the first problem stops.
 * rc 0: returns 0, nothing noted. */
int ph_source_note(const struct ph_source_env *env, int rc, const struct ph_err *err, int *bad);
/* What init returns at its end: 0 when bad is 0, else PH_ECONFIG (the
 * problems are in env->pr already: the core does not note it again). */
int ph_source_noted(int bad);

/* The registry (agents/sources/source.c). NULL when the type is unknown. */
const struct ph_source_ops *ph_source_find(const char *type);
/* NULL-terminated list, for --help. */
const struct ph_source_ops *const *ph_source_all(void);

#endif
