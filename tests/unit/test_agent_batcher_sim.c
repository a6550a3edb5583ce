/* test_agent_batcher_sim.c — the simulator through the batcher into a real
 * outbox, "killed" (the batcher dropped with its open batches, as a SIGKILL
 * loses them) and restarted from the position the outbox stored, the way
 * agents/app/agent.c starts its sources. tests/faults/test_fault_agent.c does
 * this with processes and a hub; here it is in one process, with a
 * synthetic clock, so every run cuts at the same records.
 *
 * max_records 10 makes the batcher commit in the middle of ticks: a batch
 * of one kind fills while the tick's records of other kinds come next
 * (batcher.h inv. 1 stores the position in effect with it). The outbox must
 * end holding, per kind and in order, exactly what an uninterrupted run
 * stores: no record lost, none twice (src_sim.c inv. 1, 2). */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parkhub/batch.h"
#include "publish/batcher.h"
#include "parkhub/catalog.h"
#include "parkhub/cfgmap.h"
#include "publish/outbox.h"
#include "sources/source.h"

extern const struct ph_source_ops ph_src_sim;

#define T0 1763892000000LL
#define TICKS 200
#define CFG "{\"seed\":31,\"stack_test_every\":4,\"weighbridge_every\":2,\"duration_ticks\":200}"

static struct ph_catalog *cat;
static char dir[64];

static void setup(void) {
  struct ph_err err = {0};
  cr_assert_eq(ph_catalog_load_builtin(&cat, &err), 0, "%s", err.msg);
  strcpy(dir, "/tmp/phbsimXXXXXX");
  cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void) {
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
  ph_catalog_free(cat);
}

TestSuite(batcher_sim, .init = setup, .fini = teardown);

/* ---- one agent process: outbox, batcher, the sim source ------------------ */

struct agent {
  struct ph_outbox *ob;
  struct ph_batcher *bt;
  struct ph_emitter *em;
  void *ctx;
  struct ph_source_pos resumed; /* what start() got from the outbox */
  int64_t now;                  /* the synthetic clock: one tick (1 Hz) per collect */
};

static void agent_start(struct agent *a, const char *path, int64_t now) {
  struct ph_err err = {0};
  memset(a, 0, sizeof *a);
  a->now = now;
  cr_assert_eq(ph_outbox_open(path, &a->ob, &err), 0, "%s", err.msg);
  struct ph_batcher_conf bc = {.cat = cat, .max_records = 10, .max_delay_ms = 50, .cap = 1000000};
  cr_assert_eq(ph_batcher_new(&bc, a->ob, &a->bt), 0);
  a->em = ph_batcher_emitter(a->bt, 0, "sim");
  cr_assert_not_null(a->ctx = calloc(1, ph_src_sim.ctx_size));
  cJSON *j = cJSON_Parse(CFG);
  cr_assert_eq(ph_cfgmap_apply(ph_src_sim.cfgmap, j, "sources[0]", a->ctx, &err), 0, "%s", err.msg);
  cJSON_Delete(j);
  struct ph_source_env env = {.cat = cat, .name = "sim", .max_future_ms = 60000};
  cr_assert_eq(ph_src_sim.init(a->ctx, NULL, &env, &err), 0, "%s", err.msg);
  struct ph_source_pos *pos = &a->resumed;
  cr_assert_eq(ph_outbox_get_position(a->ob, "sim", pos, &err), 0, "%s", err.msg);
  struct ph_source_io io = {.fd = -1};
  cr_assert_eq(ph_src_sim.start(a->ctx, pos->valid ? pos : NULL, &io, &err), 0, "%s", err.msg);
}

/* n collect() calls, one tick due each; a deadline flush every 25th, as the
 * agent's max_delay_ms would, so commits fall at tick ends too. */
static void agent_run(struct agent *a, int n) {
  struct ph_err err = {0};
  for (int k = 0; k < n; k++, a->now += 1000) {
    cr_assert_geq(ph_src_sim.collect(a->ctx, a->em, a->now), 0);
    if (k % 25 == 24) cr_assert_eq(ph_batcher_flush(a->bt, &err), 0, "%s", err.msg);
  }
}

/* SIGKILL: the open batches are lost, the outbox keeps what it committed. */
static void agent_kill(struct agent *a) {
  ph_batcher_free(a->bt);
  ph_src_sim.exit(a->ctx);
  free(a->ctx);
  ph_outbox_close(a->ob);
}

static void agent_stop(struct agent *a) {
  struct ph_err err = {0};
  cr_assert_eq(ph_batcher_flush(a->bt, &err), 0, "%s", err.msg);
  agent_kill(a);
}

/* ---- what an outbox holds --------------------------------------------------- */

struct keys {
  char **v;
  size_t n, cap;
};

/* Everything of a record but its ts (the only schedule-dependent part). */
static char *record_key(const struct ph_batch *b, const struct ph_record *r) {
  char buf[4096];
  size_t off = (size_t)snprintf(buf, sizeof buf, "%s|%d|%s|%d|%.17g|%s|%s|%s", r->point, (int)r->state,
                                r->material, (int)r->dir, r->qty_t, r->lot, r->supplier,
                                ph_record_attrs(b, r) ? ph_record_attrs(b, r) : "-");
  const struct ph_value *v = ph_record_values(b, r);
  for (size_t k = 0; k < r->nvalues && off < sizeof buf; k++)
    off += (size_t)snprintf(buf + off, sizeof buf - off, "|%d=%.17g/%c", (int)v[k].metric, v[k].v, v[k].flag);
  cr_assert_lt(off, sizeof buf);
  char *s = strdup(buf);
  cr_assert_not_null(s);
  return s;
}

static void keys_add(struct keys *ks, char *k) {
  if (ks->n == ks->cap) {
    ks->cap = ks->cap ? 2 * ks->cap : 256;
    cr_assert_not_null(ks->v = realloc(ks->v, ks->cap * sizeof *ks->v));
  }
  ks->v[ks->n++] = k;
}

static void keys_free(struct keys *ks) {
  for (size_t i = 0; i < ks->n; i++) free(ks->v[i]);
  free(ks->v);
}

/* The records of every batch in the outbox at path, per kind, in seq order;
 * and the position it stored for the source. */
static void outbox_records(const char *path, struct keys out[PH_KIND_COUNT], struct ph_source_pos *pos) {
  struct ph_outbox *ob;
  struct ph_err err = {0};
  struct ph_batch b;
  static char buf[PH_BATCH_MAX_BYTES + 1024];
  cr_assert_eq(ph_outbox_open(path, &ob, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_outbox_get_position(ob, "sim", pos, &err), 0, "%s", err.msg);
  memset(out, 0, PH_KIND_COUNT * sizeof *out);
  ph_batch_init(&b, PH_KIND_EMISSION);
  struct ph_outbox_item it;
  for (int64_t seq = 1; ph_outbox_next(ob, seq, &it, &err) == 0; seq = it.seq + 1) {
    size_t len;
    cr_assert_eq(ph_batch_wrap(buf, sizeof buf, "gw-01", ph_outbox_epoch(ob), it.seq, it.seq, T0, it.body, it.len,
                               &len),
                 0);
    struct ph_decode_opts o = {.cat = cat, .kind = it.kind};
    cr_assert_eq(ph_batch_decode(buf, len, &o, &b, &err), 0, "seq %lld: %s", (long long)it.seq, err.msg);
    cr_assert_eq((int)b.nrecords, it.nrecords);
    for (size_t i = 0; i < b.nrecords; i++) keys_add(&out[it.kind], record_key(&b, &b.records[i]));
  }
  ph_batch_fini(&b);
  ph_outbox_close(ob);
}

/* ---- the test ------------------------------------------------------------------- */

Test(batcher_sim, kills_inside_ticks_lose_and_double_nothing) {
  char whole_path[128], cut_path[128];
  snprintf(whole_path, sizeof whole_path, "%s/whole.db", dir);
  snprintf(cut_path, sizeof cut_path, "%s/cut.db", dir);

  struct agent a;
  agent_start(&a, whole_path, T0);
  agent_run(&a, TICKS);
  agent_stop(&a);

  /* kills after these many collect() calls of each run; the restart after
   * 0 is killed before it commits anything */
  static const int runs[] = {23, 9, 0, 41, 17, 5, 60};
  int64_t now = T0;
  int inside = 0; /* restarts that resumed in the middle of a tick */
  for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
    agent_start(&a, cut_path, now);
    inside += a.resumed.valid && a.resumed.b > 0;
    agent_run(&a, runs[r]);
    now = a.now + 500; /* the restart, half a tick later */
    agent_kill(&a);
  }
  agent_start(&a, cut_path, now);
  inside += a.resumed.valid && a.resumed.b > 0;
  agent_run(&a, TICKS); /* more than enough for what is left */
  agent_stop(&a);

  struct keys want[PH_KIND_COUNT], got[PH_KIND_COUNT];
  struct ph_source_pos wpos, gpos;
  outbox_records(whole_path, want, &wpos);
  outbox_records(cut_path, got, &gpos);
  cr_assert(wpos.valid && wpos.a == TICKS && wpos.b == 0, "uninterrupted run ends at {%lld, %lld}",
            (long long)wpos.a, (long long)wpos.b);
  cr_assert(gpos.valid && gpos.a == TICKS && gpos.b == 0, "killed run ends at {%lld, %lld}", (long long)gpos.a,
            (long long)gpos.b);
  for (int k = 0; k < PH_KIND_COUNT; k++) {
    cr_assert_eq(got[k].n, want[k].n, "%s: %zu records stored, %zu produced", ph_kind_name((enum ph_kind)k),
                 got[k].n, want[k].n);
    for (size_t i = 0; i < want[k].n; i++)
      cr_assert_str_eq(got[k].v[i], want[k].v[i], "%s record %zu", ph_kind_name((enum ph_kind)k), i);
    keys_free(&want[k]);
    keys_free(&got[k]);
  }
  /* the cuts this test is about happened */
  cr_assert_geq(inside, 3, "only %d of %zu restarts resumed inside a tick", inside, sizeof runs / sizeof runs[0]);
}
