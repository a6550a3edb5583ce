/* test_src_sim.c — the "sim" source (agents/sources/src_sim.c) against a capture
 * emitter. No sleeps: collect() is driven with synthetic now_ms values.
 * Cites src_sim.c's invariants: 1 determinism, 2 a position after every
 * record and resumes inside a tick, 3 budget/schedule/duration, 4 catalogue
 * ranges. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parkhub/batch.h"
#include "parkhub/catalog.h"
#include "parkhub/cfgmap.h"
#include "sources/source.h"

extern const struct ph_source_ops ph_src_sim;

#define T0 1763892000000LL /* 2025-11-23T10:00:00Z */

/* ---- capture emitter ------------------------------------------------------ */

struct cap_rec {
  enum ph_kind kind;
  struct ph_record r;
  size_t n;
  struct ph_value v[8];
  char attrs[128];
  bool has_attrs;
  int64_t tick; /* position reported before this record (= its tick index) */
  struct ph_source_pos before; /* the position in effect when it came: what a
                                * batch closed just before it commits */
};

struct cap {
  struct cap_rec *recs;
  size_t n, cap;
  int64_t last_pos; /* last position .a reported; -1: none */
  int64_t last_b;   /* and its .b */
  size_t npos;
  size_t since_pos; /* records since the last position */
  bool pos_bad;     /* a position was not valid, did not follow exactly one
                       record, or did not advance by one record (inv. 2) */
  size_t rejects;
  size_t call_records; /* records in the current collect() call */
  int64_t pos_base, pos_base_b; /* the resume position */
};

/* The position in effect: the last one reported, or the resume position. */
static struct ph_source_pos cap_pos(const struct cap *c) {
  if (c->last_pos < 0) return (struct ph_source_pos){.a = c->pos_base, .b = c->pos_base_b, .valid = 1};
  return (struct ph_source_pos){.a = c->last_pos, .b = c->last_b, .valid = 1};
}

static int cap_record(void *user, enum ph_kind kind, const struct ph_record *r, const struct ph_value *vals, size_t n,
                      const char *attrs_json) {
  struct cap *c = user;
  if (c->n == c->cap) {
    c->cap = c->cap ? c->cap * 2 : 1024;
    c->recs = realloc(c->recs, c->cap * sizeof *c->recs);
    cr_assert_not_null(c->recs);
  }
  struct cap_rec *d = &c->recs[c->n++];
  memset(d, 0, sizeof *d);
  d->kind = kind;
  d->r = *r;
  cr_assert_leq(n, 8);
  d->n = n;
  if (n) memcpy(d->v, vals, n * sizeof *vals);
  if (attrs_json) {
    cr_assert_lt(strlen(attrs_json), sizeof d->attrs);
    strcpy(d->attrs, attrs_json);
    d->has_attrs = true;
  }
  d->before = cap_pos(c);
  d->tick = d->before.a;
  c->call_records++;
  c->since_pos++;
  return 0;
}

static void cap_reject(void *user, const char *where, const struct ph_err *err) {
  (void)where;
  (void)err;
  ((struct cap *)user)->rejects++;
}

static void cap_position(void *user, const struct ph_source_pos *pos) {
  struct cap *c = user;
  struct ph_source_pos p = cap_pos(c);
  bool next_record = pos->a == p.a && pos->b == p.b + 1, next_tick = pos->a == p.a + 1 && pos->b == 0;
  if (!pos->valid || c->since_pos != 1 || !(next_record || next_tick)) c->pos_bad = true;
  c->last_pos = pos->a;
  c->last_b = pos->b;
  c->npos++;
  c->since_pos = 0;
}

static void cap_init(struct cap *c, const struct ph_source_pos *base) {
  memset(c, 0, sizeof *c);
  c->last_pos = -1;
  if (base && base->valid) c->pos_base = base->a, c->pos_base_b = base->b;
}

static void cap_fini(struct cap *c) {
  free(c->recs);
  memset(c, 0, sizeof *c);
}

/* ---- driving the source ------------------------------------------------------ */

static struct ph_catalog *cat;

static void setup(void) {
  struct ph_err err = {0};
  cr_assert_eq(ph_catalog_load_builtin(&cat, &err), 0, "%s", err.msg);
}

static void teardown(void) {
  ph_catalog_free(cat);
  cat = NULL;
}

TestSuite(src_sim, .init = setup, .fini = teardown);

struct sim {
  void *ctx;
  struct ph_source_io io;
  struct cap cap;
  struct ph_emitter em;
  int max_call_records;
};

/* Applies cfg through the cfgmap, as the core does, then init. */
static int sim_open(struct sim *s, const char *cfg, struct ph_err *err) {
  memset(s, 0, sizeof *s);
  s->ctx = calloc(1, ph_src_sim.ctx_size);
  cr_assert_not_null(s->ctx);
  cJSON *j = cJSON_Parse(cfg);
  cr_assert_not_null(j, "test JSON: %s", cfg);
  int rc = ph_cfgmap_apply(ph_src_sim.cfgmap, j, "sources[0]", s->ctx, err);
  cJSON_Delete(j);
  if (rc) return rc;
  struct ph_source_env env = {.cat = cat, .name = "sources[0]", .max_future_ms = 60000};
  return ph_src_sim.init(s->ctx, NULL, &env, err);
}

static void sim_must_open(struct sim *s, const char *cfg) {
  struct ph_err err = {0};
  cr_assert_eq(sim_open(s, cfg, &err), 0, "%s: %s", cfg, err.msg);
}

static void sim_start(struct sim *s, const struct ph_source_pos *resume) {
  struct ph_err err = {0};
  s->io.fd = 42;
  s->io.period_ms = -7;
  cr_assert_eq(ph_src_sim.start(s->ctx, resume, &s->io, &err), 0, "%s", err.msg);
  cap_init(&s->cap, resume);
  s->em = (struct ph_emitter){.record = cap_record, .reject = cap_reject, .position = cap_position, .user = &s->cap};
}

/* One collect() call; checks the budget (inv. 3). */
static int sim_collect(struct sim *s, int64_t now) {
  s->cap.call_records = 0;
  int rc = ph_src_sim.collect(s->ctx, &s->em, now);
  cr_assert_geq(rc, 0);
  cr_assert_leq(s->cap.call_records, PH_SOURCE_BUDGET, "%zu records in one collect()", s->cap.call_records);
  if ((int)s->cap.call_records > s->max_call_records) s->max_call_records = (int)s->cap.call_records;
  return rc;
}

/* Collects until idle at this now. */
static void sim_drain(struct sim *s, int64_t now) {
  for (int guard = 0; sim_collect(s, now) == 1; guard++) cr_assert_lt(guard, 1000000);
}

/* Drives a 1 Hz source from t0 through tick `last` (inclusive), `step` ms at a time. */
static void sim_run_to(struct sim *s, int64_t t0, int64_t first, int64_t last, int64_t step) {
  int64_t end = t0 + (last - first) * 1000;
  for (int64_t now = t0; now < end; now += step) sim_drain(s, now);
  sim_drain(s, end);
}

static void sim_close(struct sim *s) {
  ph_src_sim.exit(s->ctx);
  free(s->ctx);
  cap_fini(&s->cap);
}

static int metric(const char *code) {
  int i = ph_catalog_find(cat, code, strlen(code));
  cr_assert_geq(i, 0, "%s", code);
  return i;
}

static const struct ph_value *find_value(const struct cap_rec *r, int m) {
  for (size_t k = 0; k < r->n; k++)
    if (r->v[k].metric == m) return &r->v[k];
  return NULL;
}

/* Everything but the timestamp. */
static void assert_same_record(const struct cap_rec *a, const struct cap_rec *b, size_t at) {
  cr_assert_eq(a->kind, b->kind, "record %zu: kind", at);
  cr_assert_str_eq(a->r.point, b->r.point, "record %zu: point", at);
  cr_assert_eq(a->n, b->n, "record %zu: nvalues", at);
  for (size_t k = 0; k < a->n; k++) {
    cr_assert_eq(a->v[k].metric, b->v[k].metric, "record %zu value %zu: metric", at, k);
    cr_assert_eq(a->v[k].flag, b->v[k].flag, "record %zu value %zu: flag", at, k);
    cr_assert(a->v[k].v == b->v[k].v, "record %zu value %zu: %.17g != %.17g", at, k, a->v[k].v, b->v[k].v);
  }
  cr_assert_eq(a->r.state, b->r.state, "record %zu: state", at);
  if (a->kind == PH_KIND_MATERIAL) {
    cr_assert_str_eq(a->r.material, b->r.material, "record %zu: material", at);
    cr_assert_eq(a->r.dir, b->r.dir, "record %zu: dir", at);
    cr_assert(a->r.qty_t == b->r.qty_t, "record %zu: qty_t %.17g != %.17g", at, a->r.qty_t, b->r.qty_t);
    cr_assert_str_eq(a->r.lot, b->r.lot, "record %zu: lot", at);
    cr_assert_str_eq(a->r.supplier, b->r.supplier, "record %zu: supplier", at);
  }
  cr_assert_eq(a->has_attrs, b->has_attrs, "record %zu: attrs", at);
  cr_assert_str_eq(a->attrs, b->attrs, "record %zu: attrs", at);
}

static void run_ticks(struct sim *s, const char *cfg, int64_t ticks, int64_t step);
static size_t encode_decode(const struct cap *c, enum ph_kind kind);
#define run_ticks_with(s, cfg, ticks) run_ticks(s, cfg, ticks, 60000)

/* ---- config ------------------------------------------------------------------- */

Test(src_sim, registers_name_and_cfgmap) {
  cr_assert_str_eq(ph_src_sim.name, "sim");
  cr_assert_not_null(ph_src_sim.help);
  cr_assert_not_null(ph_src_sim.cfgmap);
  cr_assert_not_null(ph_src_sim.init);
  cr_assert_not_null(ph_src_sim.start);
  cr_assert_not_null(ph_src_sim.collect);
  cr_assert_not_null(ph_src_sim.exit);
}

Test(src_sim, defaults_and_core_keys) {
  struct sim s;
  sim_must_open(&s, "{\"type\":\"sim\",\"name\":\"smelter\"}");
  sim_start(&s, NULL);
  cr_assert_eq(s.io.fd, -1);
  cr_assert_eq(s.io.period_ms, 1000);
  sim_drain(&s, T0);
  /* tick 0: stack-1 and furnace-1, no stack test or weighing at tick 0 */
  cr_assert_eq(s.cap.n, 2);
  cr_assert_eq(s.cap.recs[0].kind, PH_KIND_EMISSION);
  cr_assert_str_eq(s.cap.recs[0].r.point, "stack-1");
  cr_assert_eq(s.cap.recs[0].n, 7);
  cr_assert_eq(s.cap.recs[0].r.ts_ms, T0);
  cr_assert_eq(s.cap.recs[1].kind, PH_KIND_PROCESS);
  cr_assert_str_eq(s.cap.recs[1].r.point, "furnace-1");
  cr_assert_eq(s.cap.recs[1].n, 7);
  cr_assert_eq(s.cap.recs[1].r.state, PH_STATE_RUNNING);
  cr_assert_eq(s.cap.last_pos, 1);
  /* defaults: stack test at 3600, weighing at 600 */
  sim_run_to(&s, T0, 0, 3600, 60000);
  size_t pcdd = 0, mat = 0;
  for (size_t i = 0; i < s.cap.n; i++) {
    if (s.cap.recs[i].kind == PH_KIND_MATERIAL) mat++;
    if (find_value(&s.cap.recs[i], metric("pcdd_f"))) pcdd++;
  }
  cr_assert_eq(pcdd, 1);
  cr_assert_eq(mat, 6 + 2 * 2); /* 600..3600: 6 weighings, 2 of them with shipments */
  sim_close(&s);
}

Test(src_sim, period_follows_rate) {
  static const struct {
    const char *cfg;
    int period;
  } cases[] = {
      {"{\"rate_hz\":0.01}", 1000}, {"{\"rate_hz\":1}", 1000},  {"{\"rate_hz\":4}", 250},
      {"{\"rate_hz\":3}", 333},     {"{\"rate_hz\":10000}", 1}, {"{\"rate_hz\":1000}", 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct sim s;
    sim_must_open(&s, cases[i].cfg);
    sim_start(&s, NULL);
    cr_assert_eq(s.io.period_ms, cases[i].period, "%s: period %d", cases[i].cfg, s.io.period_ms);
    cr_assert_eq(s.io.fd, -1);
    sim_close(&s);
  }
}

Test(src_sim, refuses_bad_config) {
  static const char *const bad[] = {
      "{\"rate_hz\":0}",
      "{\"rate_hz\":20000}",
      "{\"rate_hz\":\"fast\"}",
      "{\"seed\":1.5}",
      "{\"stack_test_every\":-1}",
      "{\"weighbridge_every\":-5}",
      "{\"duration_ticks\":-1}",
      "{\"excursions\":1}",
      "{\"prefix\":\"Line 2\"}",
      "{\"prefix\":\"-x\"}",
      "{\"prefix\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", /* 54: too long */
      "{\"bogus\":1}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct sim s;
    struct ph_err err = {0};
    cr_assert_neq(sim_open(&s, bad[i], &err), 0, "accepted %s", bad[i]);
    cr_assert_neq(err.msg[0], '\0', "%s: no message", bad[i]);
    free(s.ctx);
  }
}

Test(src_sim, prefix_names_points) {
  struct sim s;
  sim_must_open(&s, "{\"prefix\":\"l2-\",\"weighbridge_every\":1,\"stack_test_every\":1}");
  sim_start(&s, NULL);
  sim_drain(&s, T0);
  sim_drain(&s, T0 + 1000);
  cr_assert_eq(s.cap.n, 2 + 4);
  cr_assert_str_eq(s.cap.recs[0].r.point, "l2-stack-1");
  cr_assert_str_eq(s.cap.recs[1].r.point, "l2-furnace-1");
  cr_assert_str_eq(s.cap.recs[2].r.point, "l2-stack-1");
  cr_assert_str_eq(s.cap.recs[3].r.point, "l2-furnace-1");
  cr_assert_str_eq(s.cap.recs[4].r.point, "l2-stack-1");
  cr_assert_str_eq(s.cap.recs[5].r.point, "l2-weighbridge");
  sim_close(&s);

  /* the longest prefix still makes valid ids */
  sim_must_open(&s, "{\"prefix\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"weighbridge_every\":1}");
  sim_start(&s, NULL);
  sim_drain(&s, T0);
  sim_drain(&s, T0 + 1000);
  cr_assert_eq(s.cap.n, 5);
  cr_assert_eq(strlen(s.cap.recs[4].r.point), PH_ID_MAX);
  cr_assert(ph_id_valid_z(s.cap.recs[4].r.point));
  sim_close(&s);
}

/* The built-in catalogue as JSON, with one metric changed or left out. */
static struct ph_catalog *catalog_variant(const char *drop, const char *narrow, double narrow_max) {
  cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "metrics");
  for (size_t i = 0; i < ph_catalog_count(cat); i++) {
    const struct ph_metric *m = ph_catalog_at(cat, i);
    if (drop && strcmp(m->code, drop) == 0) continue;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "code", m->code);
    cJSON_AddStringToObject(o, "kind", ph_kind_name(m->kind));
    cJSON_AddStringToObject(o, "unit", m->unit);
    cJSON_AddNumberToObject(o, "min", m->min);
    cJSON_AddNumberToObject(o, "max", narrow && strcmp(m->code, narrow) == 0 ? narrow_max : m->max);
    cJSON_AddStringToObject(o, "agg", ph_agg_name(m->agg));
    if (m->kind == PH_KIND_MATERIAL) { /* required for materials */
      cJSON_AddStringToObject(o, "role", ph_role_name(m->role));
      cJSON_AddNumberToObject(o, "cu_fraction", m->cu_fraction);
    }
    cJSON_AddItemToArray(arr, o);
  }
  char *text = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  struct ph_catalog *c = NULL;
  struct ph_err err = {0};
  cr_assert_eq(ph_catalog_load_json(text, strlen(text), "variant", &c, &err), 0, "%s", err.msg);
  free(text);
  return c;
}

Test(src_sim, refuses_a_catalogue_without_its_metrics) {
  struct ph_catalog *builtin = cat;
  cat = catalog_variant("quench_out_temp", NULL, 0);
  struct sim s;
  struct ph_err err = {0};
  int rc = sim_open(&s, "{}", &err);
  cr_assert_eq(rc, PH_ECONFIG);
  cr_assert(strstr(err.msg, "quench_out_temp"), "%s", err.msg);
  free(s.ctx);
  ph_catalog_free(cat);
  cat = builtin;
}

Test(src_sim, clamps_to_a_narrower_catalogue) {
  struct ph_catalog *builtin = cat;
  cat = catalog_variant(NULL, "pm", 4.0);
  struct sim s;
  run_ticks_with(&s, "{\"seed\":11}", 2000);
  int pm = metric("pm");
  bool at_max = false;
  for (size_t i = 0; i < s.cap.n; i++) {
    const struct ph_value *v = find_value(&s.cap.recs[i], pm);
    if (!v) continue;
    cr_assert_leq(v->v, 4.0);
    at_max |= v->v == 4.0;
  }
  cr_assert(at_max, "pm normally exceeds 4 mg/Nm3, so some values were clamped");
  cr_assert_eq(encode_decode(&s.cap, PH_KIND_EMISSION), 2000);
  sim_close(&s);
  ph_catalog_free(cat);
  cat = builtin;
}

/* ---- determinism and resume (inv. 1, 2) ------------------------------------------ */

static void run_ticks(struct sim *s, const char *cfg, int64_t ticks, int64_t step) {
  sim_must_open(s, cfg);
  sim_start(s, NULL);
  sim_run_to(s, T0, 0, ticks - 1, step);
  cr_assert_eq(s->cap.last_pos, ticks);
  cr_assert_eq(s->cap.last_b, 0);
  cr_assert_not(s->cap.pos_bad);
  cr_assert_eq(s->cap.npos, s->cap.n, "one position per record");
}

Test(src_sim, same_seed_same_stream) {
  const char *cfg = "{\"seed\":7,\"stack_test_every\":100,\"weighbridge_every\":30}";
  struct sim a, b;
  run_ticks(&a, cfg, 3000, 1000);
  run_ticks(&b, cfg, 3000, 45000); /* other collect() pattern, same data */
  cr_assert_eq(a.cap.n, b.cap.n);
  for (size_t i = 0; i < a.cap.n; i++) {
    assert_same_record(&a.cap.recs[i], &b.cap.recs[i], i);
    cr_assert_eq(a.cap.recs[i].r.ts_ms, b.cap.recs[i].r.ts_ms, "record %zu: ts", i);
  }
  sim_close(&a);
  sim_close(&b);
}

Test(src_sim, different_seed_different_stream) {
  struct sim a, b;
  run_ticks(&a, "{\"seed\":1}", 500, 1000);
  run_ticks(&b, "{\"seed\":2}", 500, 1000);
  cr_assert_eq(a.cap.n, b.cap.n);
  size_t values = 0, differ = 0;
  for (size_t i = 0; i < a.cap.n; i++) {
    cr_assert_eq(a.cap.recs[i].n, b.cap.recs[i].n);
    for (size_t k = 0; k < a.cap.recs[i].n; k++, values++) differ += a.cap.recs[i].v[k].v != b.cap.recs[i].v[k].v;
  }
  cr_assert_gt(differ, values / 2, "%zu of %zu values differ", differ, values);
  sim_close(&a);
  sim_close(&b);
}

/* Uninterrupted run vs the same run stopped at `cut` and restarted there. */
static void check_resume(int64_t cut, int64_t total) {
  const char *cfg = "{\"seed\":42,\"stack_test_every\":400,\"weighbridge_every\":100,\"duration_ticks\":3000}";
  struct sim whole, part1, part2;
  run_ticks(&whole, cfg, total, 7000);

  sim_must_open(&part1, cfg);
  sim_start(&part1, NULL);
  sim_run_to(&part1, T0, 0, cut - 1, 13000);
  cr_assert_eq(part1.cap.last_pos, cut);

  /* the restart: another process, another time, resumed at the stored position */
  const int64_t t1 = T0 + 86400000LL;
  struct ph_source_pos pos = {.a = part1.cap.last_pos, .b = 0, .valid = 1};
  sim_must_open(&part2, cfg);
  sim_start(&part2, &pos);
  sim_run_to(&part2, t1, cut, total - 1, 61000);
  cr_assert_not(part2.cap.pos_bad);
  cr_assert_eq(part2.cap.last_pos, total);
  cr_assert_eq(part2.cap.recs[0].r.ts_ms, t1, "the schedule restarts at the first collect");
  cr_assert_eq(part2.cap.recs[0].tick, cut);

  cr_assert_eq(part1.cap.n + part2.cap.n, whole.cap.n);
  for (size_t i = 0; i < whole.cap.n; i++) {
    const struct cap_rec *r = i < part1.cap.n ? &part1.cap.recs[i] : &part2.cap.recs[i - part1.cap.n];
    assert_same_record(&whole.cap.recs[i], r, i);
  }
  sim_close(&whole);
  sim_close(&part1);
  sim_close(&part2);
}

Test(src_sim, resume_continues_the_sequence) {
  check_resume(1200, 3000); /* tick 1200 has a stack test and a weighing with shipments */
  check_resume(1, 500);
  check_resume(1777, 2500);
}

Test(src_sim, resume_mid_catchup_budget) {
  /* a backlog cut short by the budget, then a crash: resume from the last position */
  const char *cfg = "{\"seed\":9,\"stack_test_every\":7,\"weighbridge_every\":3,\"duration_ticks\":5000}";
  struct sim whole, part1, part2;
  run_ticks(&whole, cfg, 5000, 1000);
  sim_must_open(&part1, cfg);
  sim_start(&part1, NULL);
  cr_assert_eq(sim_collect(&part1, T0), 0);
  cr_assert_eq(sim_collect(&part1, T0 + 10000000), 1, "backlog left after one budget");
  int64_t cut = part1.cap.last_pos;
  cr_assert_gt(cut, 1);
  cr_assert_lt(cut, 5000);
  cr_assert_eq(part1.cap.last_b, 0, "the budget stops between ticks");
  struct ph_source_pos pos = {.a = cut, .b = part1.cap.last_b, .valid = 1};
  sim_must_open(&part2, cfg);
  sim_start(&part2, &pos);
  sim_drain(&part2, T0 + 100000000); /* anchors: tick `cut` is due now */
  sim_drain(&part2, T0 + 200000000);
  cr_assert_eq(part2.cap.last_pos, 5000);
  cr_assert_eq(part1.cap.n + part2.cap.n, whole.cap.n);
  for (size_t i = 0; i < whole.cap.n; i++) {
    const struct cap_rec *r = i < part1.cap.n ? &part1.cap.recs[i] : &part2.cap.recs[i - part1.cap.n];
    assert_same_record(&whole.cap.recs[i], r, i);
  }
  sim_close(&whole);
  sim_close(&part1);
  sim_close(&part2);
}

/* A batch may close in the middle of a tick (the batcher's max_records); it
 * commits the position in effect before the first record it does not hold,
 * and a restart resumes there. Cut the uninterrupted run before record
 * `cut`, resume from that position: the records before the cut and the
 * resumed run must be the uninterrupted run, record for record, each once. */
static void check_resume_at_record(const struct sim *whole, const char *cfg, size_t cut, int64_t total) {
  const struct ph_source_pos pos = whole->cap.recs[cut].before;
  const int64_t t1 = T0 + 86400000LL;
  struct sim part2;
  sim_must_open(&part2, cfg);
  sim_start(&part2, &pos);
  sim_run_to(&part2, t1, pos.a, total - 1, 61000);
  cr_assert_not(part2.cap.pos_bad, "cut %zu", cut);
  cr_assert_eq(part2.cap.last_pos, total);
  cr_assert_eq(part2.cap.n, whole->cap.n - cut, "cut before record %zu, at {%lld, %lld}: %zu records resumed, want %zu",
               cut, (long long)pos.a, (long long)pos.b, part2.cap.n, whole->cap.n - cut);
  cr_assert_eq(part2.cap.recs[0].r.ts_ms, t1, "the schedule restarts at the first collect");
  for (size_t i = 0; i < part2.cap.n; i++) assert_same_record(&whole->cap.recs[cut + i], &part2.cap.recs[i], cut + i);
  sim_close(&part2);
}

Test(src_sim, resume_inside_a_tick) {
  /* ticks of 2 to 6 records: stack tests every 4, weighings every 2, with
   * shipments every 6 (tick 12 holds all six) */
  const char *cfg = "{\"seed\":42,\"stack_test_every\":4,\"weighbridge_every\":2,\"duration_ticks\":60}";
  struct sim whole;
  run_ticks(&whole, cfg, 60, 1000);
  size_t inside = 0, cuts = 0;
  for (size_t cut = 1; cut < whole.cap.n && whole.cap.recs[cut].tick < 30; cut++, cuts++) {
    inside += whole.cap.recs[cut].before.b > 0;
    check_resume_at_record(&whole, cfg, cut, 60);
  }
  cr_assert_gt(inside, cuts / 2, "%zu of %zu cuts inside a tick", inside, cuts);
  /* ticks 0..11 hold 2+2+3+2+4+2+5+2+4+2+3+2 = 33 records: tick 12 is 33..38 */
  cr_assert_eq(whole.cap.recs[33].tick, 12);
  cr_assert_eq(whole.cap.recs[33].before.b, 0);
  cr_assert_eq(whole.cap.recs[38].tick, 12);
  cr_assert_eq(whole.cap.recs[38].before.b, 5, "the sixth record of tick 12 resumes at b = 5");
  cr_assert_eq(whole.cap.recs[39].tick, 13);
  sim_close(&whole);
}

Test(src_sim, resume_position_checks) {
  /* b past what the tick holds now (the position was stored when tick 12 had
   * more records, under another config): the tick is out, tick 13 is next */
  const char *cfg = "{\"duration_ticks\":20}";
  struct sim whole, s;
  run_ticks(&whole, cfg, 20, 1000);
  struct ph_source_pos pos = {.a = 12, .b = 5, .valid = 1};
  sim_must_open(&s, cfg);
  sim_start(&s, &pos);
  sim_run_to(&s, T0, 13, 19, 1000);
  cr_assert_eq(s.cap.n, 14);
  for (size_t i = 0; i < s.cap.n; i++) assert_same_record(&whole.cap.recs[26 + i], &s.cap.recs[i], i);
  cr_assert_eq(s.cap.recs[0].r.ts_ms, T0);
  cr_assert_eq(s.cap.last_pos, 20);
  sim_close(&s);
  sim_close(&whole);

  /* negative indexes are refused */
  static const struct ph_source_pos bad[] = {{.a = -1, .valid = 1}, {.a = 3, .b = -1, .valid = 1}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct ph_err err = {0};
    struct ph_source_io io = {.fd = -1};
    sim_must_open(&s, cfg);
    cr_assert_eq(ph_src_sim.start(s.ctx, &bad[i], &io, &err), PH_EINVAL);
    cr_assert_neq(err.msg[0], '\0');
    ph_src_sim.exit(s.ctx);
    free(s.ctx);
  }
}

/* ---- schedule, budget, duration (inv. 3) ------------------------------------------ */

Test(src_sim, timestamps_are_the_schedule) {
  struct sim s;
  sim_must_open(&s, "{\"rate_hz\":4,\"weighbridge_every\":0,\"stack_test_every\":0}");
  sim_start(&s, NULL);
  cr_assert_eq(sim_collect(&s, T0), 0);
  cr_assert_eq(s.cap.n, 2);
  cr_assert_eq(sim_collect(&s, T0 + 249), 0);
  cr_assert_eq(s.cap.n, 2, "tick 1 is not due before 250 ms");
  cr_assert_eq(sim_collect(&s, T0 + 250), 0);
  cr_assert_eq(s.cap.n, 4);
  cr_assert_eq(sim_collect(&s, T0 + 10000), 0); /* catch up: ticks 2..40 */
  cr_assert_eq(s.cap.n, 82);
  for (size_t i = 0; i < s.cap.n; i++)
    cr_assert_eq(s.cap.recs[i].r.ts_ms, T0 + (int64_t)(i / 2) * 250, "record %zu", i);
  cr_assert_eq(sim_collect(&s, T0 + 5000), 0, "a clock step back emits nothing");
  cr_assert_eq(s.cap.n, 82);
  sim_close(&s);
}

Test(src_sim, budget_caps_each_collect) {
  static const char *const cfgs[] = {
      "{\"duration_ticks\":5000}",
      "{\"duration_ticks\":5000,\"stack_test_every\":7,\"weighbridge_every\":3}",
      "{\"duration_ticks\":20000,\"rate_hz\":10000,\"stack_test_every\":2,\"weighbridge_every\":1}",
  };
  for (size_t c = 0; c < sizeof cfgs / sizeof cfgs[0]; c++) {
    struct sim s;
    sim_must_open(&s, cfgs[c]);
    sim_start(&s, NULL);
    int calls = 0, busy = 0;
    int64_t now = T0 + 365LL * 86400000;
    sim_collect(&s, T0);
    while (1) {
      calls++;
      int rc = sim_collect(&s, now);
      if (rc == 0) break;
      busy++;
      cr_assert_gt(s.cap.call_records, PH_SOURCE_BUDGET - 6, "%s: a busy call stops only at the budget", cfgs[c]);
    }
    cr_assert_gt(busy, 1, "%s", cfgs[c]);
    cr_assert_leq(s.max_call_records, PH_SOURCE_BUDGET);
    cr_assert_not(s.cap.pos_bad);
    cr_assert_eq(s.cap.last_pos, c == 2 ? 20000 : 5000, "%s", cfgs[c]);
    /* the budget stops between ticks, so each record still carries its tick, in order */
    for (size_t i = 1; i < s.cap.n; i++) cr_assert_geq(s.cap.recs[i].tick, s.cap.recs[i - 1].tick);
    sim_close(&s);
  }
}

Test(src_sim, duration_bounds_the_run) {
  struct sim s;
  sim_must_open(&s, "{\"duration_ticks\":50,\"stack_test_every\":0,\"weighbridge_every\":0}");
  sim_start(&s, NULL);
  sim_drain(&s, T0);
  sim_drain(&s, T0 + 3600000);
  cr_assert_eq(s.cap.n, 100);
  cr_assert_eq(s.cap.last_pos, 50);
  cr_assert_eq(s.cap.npos, 100, "one per record");
  cr_assert_eq(sim_collect(&s, T0 + 7200000), 0);
  cr_assert_eq(s.cap.n, 100);
  cr_assert_eq(s.cap.recs[99].r.ts_ms, T0 + 49000);
  sim_close(&s);

  /* resumed at the end: nothing more */
  struct ph_source_pos pos = {.a = 50, .b = 0, .valid = 1};
  sim_must_open(&s, "{\"duration_ticks\":50}");
  sim_start(&s, &pos);
  cr_assert_eq(sim_collect(&s, T0), 0);
  cr_assert_eq(sim_collect(&s, T0 + 3600000), 0);
  cr_assert_eq(s.cap.n, 0);
  cr_assert_eq(s.cap.npos, 0);
  sim_close(&s);

  /* duration 0 runs on */
  sim_must_open(&s, "{\"duration_ticks\":0,\"rate_hz\":100}");
  sim_start(&s, NULL);
  sim_drain(&s, T0);
  sim_drain(&s, T0 + 100000);
  cr_assert_eq(s.cap.last_pos, 10001);
  sim_close(&s);
}

/* ---- what it emits ------------------------------------------------------------------ */

/* Encodes the captured records of `kind` in batches and decodes them with the
 * built-in catalogue; every batch must decode (inv. 4) to the same values. */
static size_t encode_decode(const struct cap *c, enum ph_kind kind) {
  struct ph_batch b, d;
  ph_batch_init(&b, kind);
  ph_batch_init(&d, kind);
  size_t total = 0, i = 0;
  while (i < c->n) {
    ph_batch_reset(&b, kind);
    snprintf(b.agent, sizeof b.agent, "gw-01");
    b.epoch = 1763892000;
    b.seq = b.oldest = 1 + (int64_t)total;
    b.sent_ms = T0;
    size_t first = i;
    for (; i < c->n && b.nrecords < 500; i++)
      if (c->recs[i].kind == kind)
        cr_assert_eq(ph_batch_add_record(&b, &c->recs[i].r, c->recs[i].v, c->recs[i].n,
                                         c->recs[i].has_attrs ? c->recs[i].attrs : NULL),
                     0);
    if (b.nrecords == 0) continue;
    char *json = NULL;
    size_t len = 0;
    cr_assert_eq(ph_batch_encode(&b, cat, &json, &len), 0);
    struct ph_decode_opts o = {.cat = cat, .kind = kind};
    struct ph_err err = {0};
    int rc = ph_batch_decode(json, len, &o, &d, &err);
    cr_assert_eq(rc, 0, "%s batch from record %zu: %s (%s)", ph_kind_name(kind), first, ph_errname(rc), err.msg);
    cr_assert_eq(d.nrecords, b.nrecords);
    cr_assert_eq(d.nvalues, b.nvalues);
    for (size_t k = 0; k < d.nvalues; k++) {
      cr_assert(d.values[k].v == b.values[k].v, "round trip %.17g -> %.17g", b.values[k].v, d.values[k].v);
      cr_assert_eq(d.values[k].flag, b.values[k].flag ? b.values[k].flag : 'N');
    }
    for (size_t k = 0; k < d.nrecords; k++) cr_assert(d.records[k].qty_t == b.records[k].qty_t);
    total += d.nrecords;
    free(json);
  }
  ph_batch_fini(&b);
  ph_batch_fini(&d);
  return total;
}

Test(src_sim, every_record_decodes_as_valid) {
  static const char *const cfgs[] = {
      "{\"seed\":1,\"stack_test_every\":50,\"weighbridge_every\":10}",
      "{\"seed\":123456789,\"stack_test_every\":50,\"weighbridge_every\":10,\"excursions\":false}",
      "{\"seed\":-3,\"stack_test_every\":50,\"weighbridge_every\":10,\"prefix\":\"cu7_\"}",
  };
  for (size_t c = 0; c < sizeof cfgs / sizeof cfgs[0]; c++) {
    struct sim s;
    run_ticks(&s, cfgs[c], 20000, 600000);
    size_t n[PH_KIND_COUNT] = {0};
    for (size_t i = 0; i < s.cap.n; i++) n[s.cap.recs[i].kind]++;
    cr_assert_eq(n[PH_KIND_PROCESS], 20000);
    cr_assert_eq(n[PH_KIND_EMISSION], 20000 + 399);
    cr_assert_eq(n[PH_KIND_MATERIAL], 1999 + 2 * 666);
    for (int k = 0; k < PH_KIND_COUNT; k++)
      cr_assert_eq(encode_decode(&s.cap, (enum ph_kind)k), n[k], "%s: %s", cfgs[c], ph_kind_name((enum ph_kind)k));
    cr_assert_eq(s.cap.rejects, 0);
    sim_close(&s);
  }
}

struct band {
  const char *code;
  double lo, hi;
};

Test(src_sim, values_stay_in_their_bands) {
  static const struct band bands[] = {
      {"pm", 3, 8},
      {"so2", 20, 80},
      {"nox", 60, 150},
      {"o2", 10, 14},
      {"flow", 80000, 95000},
      {"temp", 120, 150},
      {"moisture", 6, 10},
      {"furnace_temp", 1150, 1250},
      {"quench_out_temp", 160, 380},
      {"afterburner_temp", 850, 950},
      {"afterburner_residence", 2.0, 2.5},
      {"aci_rate", 0, 12},
      {"baghouse_dp", 1200, 1800},
      {"production_rate", 2.5, 3.5},
      {"pcdd_f", 0.05, 0.6},
  };
  struct sim s;
  run_ticks(&s, "{\"seed\":5,\"stack_test_every\":50,\"weighbridge_every\":10}", 20000, 600000);
  size_t flagged = 0, over_limit = 0;
  for (size_t i = 0; i < s.cap.n; i++) {
    const struct cap_rec *r = &s.cap.recs[i];
    for (size_t k = 0; k < r->n; k++) {
      const struct ph_metric *m = ph_catalog_at(cat, (size_t)r->v[k].metric);
      bool found = false;
      for (size_t b = 0; b < sizeof bands / sizeof bands[0]; b++)
        if (strcmp(bands[b].code, m->code) == 0) {
          found = true;
          cr_assert(r->v[k].v >= bands[b].lo && r->v[k].v <= bands[b].hi, "%s = %g at record %zu", m->code,
                    r->v[k].v, i);
        }
      cr_assert(found, "unexpected metric %s", m->code);
      cr_assert(ph_flag_valid(r->v[k].flag));
      if (r->v[k].flag != 'N') flagged++;
      if (strcmp(m->code, "pcdd_f") == 0 && r->v[k].v > 0.5) over_limit++;
    }
  }
  /* ~1 tick in 500 has a C (so2) or M (all 7 stack values) flag */
  cr_assert_gt(flagged, 0);
  cr_assert_lt(flagged, 20000 * 7 / 100);
  cr_assert_gt(over_limit, 0, "some stack tests exceed the 0.5 ng TEQ/Nm3 limit");
  sim_close(&s);
}

/* Longest run of consecutive ticks with quench_out_temp in 200..400 degC. */
static int64_t longest_de_novo_run(const struct cap *c) {
  int q = metric("quench_out_temp");
  int64_t run = 0, best = 0, ticks = 0;
  for (size_t i = 0; i < c->n; i++) {
    const struct ph_value *v = find_value(&c->recs[i], q);
    if (!v) continue;
    ticks++;
    run = v->v >= 200 && v->v <= 400 ? run + 1 : 0;
    if (run > best) best = run;
  }
  cr_assert_eq(ticks, 20000);
  return best;
}

Test(src_sim, excursions_hold_the_de_novo_window) {
  struct sim on, off;
  run_ticks(&on, "{\"seed\":1,\"excursions\":true}", 20000, 3600000);
  run_ticks(&off, "{\"seed\":1,\"excursions\":false}", 20000, 3600000);
  int64_t best_on = longest_de_novo_run(&on.cap), best_off = longest_de_novo_run(&off.cap);
  cr_assert_geq(best_on, 60, "longest run with excursions: %lld ticks", (long long)best_on);
  cr_assert_leq(best_on, 300);
  cr_assert_eq(best_off, 0, "without excursions quench_out_temp never enters 200..400 (%lld)", (long long)best_off);
  /* the carbon injection fails in some excursions */
  int aci = metric("aci_rate");
  bool aci_low = false;
  for (size_t i = 0; i < on.cap.n; i++) {
    const struct ph_value *v = find_value(&on.cap.recs[i], aci);
    if (v && v->v < 1) aci_low = true;
  }
  cr_assert(aci_low);
  for (size_t i = 0; i < off.cap.n; i++) {
    const struct ph_value *v = find_value(&off.cap.recs[i], aci);
    if (v) cr_assert_geq(v->v, 8);
  }
  sim_close(&on);
  sim_close(&off);
}

Test(src_sim, stack_tests_and_weighings_at_their_intervals) {
  struct sim s;
  run_ticks(&s, "{\"seed\":3,\"stack_test_every\":100,\"weighbridge_every\":30,\"duration_ticks\":1000}", 1000,
            100000);
  int pcdd = metric("pcdd_f");
  size_t tests = 0, scraps = 0, cathodes = 0, slags = 0;
  for (size_t i = 0; i < s.cap.n; i++) {
    const struct cap_rec *r = &s.cap.recs[i];
    int64_t tick = (r->r.ts_ms - T0) / 1000;
    cr_assert_eq(r->tick, tick);
    if (r->kind == PH_KIND_EMISSION && find_value(r, pcdd)) {
      cr_assert_eq(r->n, 1, "pcdd_f comes alone");
      cr_assert_str_eq(r->r.point, "stack-1");
      cr_assert(tick > 0 && tick % 100 == 0, "stack test at tick %lld", (long long)tick);
      tests++;
    }
    if (r->kind != PH_KIND_MATERIAL) continue;
    cr_assert_str_eq(r->r.point, "weighbridge");
    cr_assert(tick > 0 && tick % 30 == 0, "weighing at tick %lld", (long long)tick);
    cr_assert_eq(r->n, 0);
    if (strcmp(r->r.material, "scrap_cu_2") == 0) {
      char lot[32];
      snprintf(lot, sizeof lot, "L%lld", (long long)tick);
      cr_assert_str_eq(r->r.lot, lot);
      cr_assert_eq(r->r.dir, PH_DIR_IN);
      cr_assert(r->r.qty_t >= 25 && r->r.qty_t <= 35, "scrap %g t", r->r.qty_t);
      cr_assert_neq(r->r.supplier[0], '\0');
      cr_assert(r->has_attrs);
      cJSON *a = cJSON_Parse(r->attrs);
      cr_assert_not_null(a, "attrs %s", r->attrs);
      cJSON *cl = cJSON_GetObjectItemCaseSensitive(a, "cl_pct");
      cr_assert(cJSON_IsNumber(cl));
      cr_assert(cl->valuedouble >= 0.1 && cl->valuedouble <= 1.5, "cl_pct %g", cl->valuedouble);
      cJSON *cu = cJSON_GetObjectItemCaseSensitive(a, "cu_pct"); /* the lot's assay */
      cr_assert(cJSON_IsNumber(cu));
      cr_assert(cu->valuedouble >= 86 && cu->valuedouble <= 96, "cu_pct %g", cu->valuedouble);
      cJSON_Delete(a);
      scraps++;
    } else if (strcmp(r->r.material, "cathode_cu") == 0) {
      cr_assert_eq(r->r.dir, PH_DIR_OUT);
      cr_assert((tick / 30) % 3 == 0);
      cr_assert(r->r.qty_t >= 20 && r->r.qty_t <= 30, "cathode %g t", r->r.qty_t);
      cathodes++;
    } else if (strcmp(r->r.material, "slag") == 0) {
      cr_assert_eq(r->r.dir, PH_DIR_OUT);
      cr_assert((tick / 30) % 3 == 0);
      cr_assert(r->r.qty_t >= 3 && r->r.qty_t <= 6, "slag %g t", r->r.qty_t);
      slags++;
    } else {
      cr_assert_fail("unexpected material %s", r->r.material);
    }
  }
  cr_assert_eq(tests, 9);     /* 100..900 */
  cr_assert_eq(scraps, 33);   /* 30..990 */
  cr_assert_eq(cathodes, 11); /* 90..990 */
  cr_assert_eq(slags, 11);
  sim_close(&s);

  /* 0 = never */
  run_ticks(&s, "{\"stack_test_every\":0,\"weighbridge_every\":0}", 5000, 600000);
  cr_assert_eq(s.cap.n, 10000);
  for (size_t i = 0; i < s.cap.n; i++) {
    cr_assert_neq(s.cap.recs[i].kind, PH_KIND_MATERIAL);
    cr_assert_null(find_value(&s.cap.recs[i], pcdd));
  }
  sim_close(&s);
}

/* ---- the wastewater outlet (outfall_every) ---------------------------------- */

/* Nominal bands of the treated effluent (src_sim.c's header). */
static const struct band water_bands[] = {
    {"w_ph", 6.5, 8.5}, {"w_cod", 20, 60},  {"w_nh3n", 0.5, 5},
    {"w_ss", 10, 40},   {"w_cu", 0.05, 0.4}, {"w_flow", 25, 65},
};
#define NWATER (sizeof water_bands / sizeof water_bands[0])

static bool is_outfall_rec(const struct cap_rec *r) { return strcmp(r->r.point, "outfall-1") == 0; }

Test(src_sim, outfall_records_at_their_interval) {
  struct sim s;
  run_ticks(&s,
            "{\"seed\":9,\"excursions\":false,\"outfall_every\":10,\"outfall_stopped_every\":4,"
            "\"duration_ticks\":1000}",
            1000, 100000);
  int flow = metric("w_flow");
  size_t outs = 0, stopped = 0;
  for (size_t i = 0; i < s.cap.n; i++) {
    const struct cap_rec *r = &s.cap.recs[i];
    if (!is_outfall_rec(r)) continue;
    int64_t tick = (r->r.ts_ms - T0) / 1000;
    cr_assert_eq(tick % 10, 0, "outfall record at tick %lld", (long long)tick);
    cr_assert_eq(r->kind, PH_KIND_EMISSION);
    cr_assert_eq(r->n, NWATER);
    /* comes last in its tick */
    cr_assert(i + 1 == s.cap.n || s.cap.recs[i + 1].tick == tick + 1, "tick %lld", (long long)tick);
    bool stop = (tick / 10) % 4 == 3;
    cr_assert_eq(r->r.state, stop ? PH_STATE_STOPPED : PH_STATE_RUNNING, "tick %lld", (long long)tick);
    for (size_t k = 0; k < NWATER; k++) {
      const struct ph_value *v = find_value(r, metric(water_bands[k].code));
      cr_assert_not_null(v, "%s at tick %lld", water_bands[k].code, (long long)tick);
      cr_assert_eq(v->flag, 'N');
      if (stop && v->metric == flow) {
        cr_assert(v->v >= 2 && v->v <= 8, "flow while stopped %g", v->v);
        continue;
      }
      cr_assert(v->v >= water_bands[k].lo && v->v <= water_bands[k].hi, "%s = %g at tick %lld", water_bands[k].code,
                v->v, (long long)tick);
    }
    outs++;
    stopped += stop;
  }
  cr_assert_eq(outs, 100); /* 0, 10, ..., 990 */
  cr_assert_eq(stopped, 25);
  sim_close(&s);
}

/* Turning the outlet on adds its records and changes nothing else (the
 * outfall is opt-in; existing runs keep their exact records). */
Test(src_sim, outfall_leaves_the_other_records_alone) {
  struct sim off, on;
  run_ticks(&off, "{\"seed\":4,\"stack_test_every\":50,\"weighbridge_every\":20}", 2000, 7000);
  run_ticks(&on, "{\"seed\":4,\"stack_test_every\":50,\"weighbridge_every\":20,\"outfall_every\":3}", 2000, 7000);
  size_t j = 0, outs = 0;
  for (size_t i = 0; i < on.cap.n; i++) {
    if (is_outfall_rec(&on.cap.recs[i])) {
      outs++;
      continue;
    }
    cr_assert_lt(j, off.cap.n);
    assert_same_record(&off.cap.recs[j], &on.cap.recs[i], i);
    cr_assert_eq(off.cap.recs[j].r.ts_ms, on.cap.recs[i].r.ts_ms);
    j++;
  }
  cr_assert_eq(j, off.cap.n);
  cr_assert_eq(outs, 667); /* ticks 0, 3, ..., 1998 */
  sim_close(&off);
  sim_close(&on);
}

/* inv. 1 and 2 with the outlet on: same data whatever the collect() pattern,
 * and a resume at any record of a tick holding it goes on exactly. */
Test(src_sim, outfall_is_deterministic_and_resumes) {
  const char *cfg = "{\"seed\":11,\"stack_test_every\":4,\"weighbridge_every\":2,\"outfall_every\":3,"
                    "\"outfall_stopped_every\":2,\"duration_ticks\":40}";
  struct sim a, b;
  run_ticks(&a, cfg, 40, 1000);
  run_ticks(&b, cfg, 40, 45000);
  cr_assert_eq(a.cap.n, b.cap.n);
  size_t outs = 0;
  for (size_t i = 0; i < a.cap.n; i++) {
    assert_same_record(&a.cap.recs[i], &b.cap.recs[i], i);
    outs += is_outfall_rec(&a.cap.recs[i]);
  }
  cr_assert_eq(outs, 14); /* 0, 3, ..., 39 */
  /* tick 12: stack, furnace, pcdd_f, 3 weighbridge records, outfall: 7 */
  size_t first12 = 0;
  while (a.cap.recs[first12].tick < 12) first12++;
  cr_assert_eq(a.cap.recs[first12 + 6].tick, 12);
  cr_assert(is_outfall_rec(&a.cap.recs[first12 + 6]));
  cr_assert_eq(a.cap.recs[first12 + 6].before.b, 6);
  for (size_t cut = 1; cut < a.cap.n && a.cap.recs[cut].tick < 20; cut++) check_resume_at_record(&a, cfg, cut, 40);
  sim_close(&a);
  sim_close(&b);
}

/* With excursions on, some outfall records are upsets: pH below 6 or COD
 * above 100 mg/L (what the demo's water rules catch); without, none. */
Test(src_sim, outfall_upsets_with_excursions) {
  struct sim on, off;
  run_ticks(&on, "{\"seed\":2,\"outfall_every\":1,\"stack_test_every\":0,\"weighbridge_every\":0}", 5000, 600000);
  run_ticks(&off,
            "{\"seed\":2,\"excursions\":false,\"outfall_every\":1,\"stack_test_every\":0,\"weighbridge_every\":0}",
            5000, 600000);
  int ph = metric("w_ph"), cod = metric("w_cod");
  size_t low_ph = 0, high_cod = 0, outs = 0;
  for (size_t i = 0; i < on.cap.n; i++) {
    const struct cap_rec *r = &on.cap.recs[i];
    if (!is_outfall_rec(r)) continue;
    outs++;
    const struct ph_value *p = find_value(r, ph), *c = find_value(r, cod);
    cr_assert(p->v >= 4.5 && p->v <= 8.5, "pH %g", p->v);
    cr_assert(c->v >= 20 && c->v <= 200, "COD %g", c->v);
    low_ph += p->v < 6;
    high_cod += c->v > 100;
    cr_assert(!(p->v < 6 && c->v > 100), "one upset at a time");
  }
  cr_assert_eq(outs, 5000);
  /* about 1 in 50 records, half of each kind: ~50 each */
  cr_assert(low_ph >= 20 && low_ph <= 100, "%zu low pH", low_ph);
  cr_assert(high_cod >= 20 && high_cod <= 100, "%zu high COD", high_cod);
  for (size_t i = 0; i < off.cap.n; i++) {
    const struct cap_rec *r = &off.cap.recs[i];
    if (!is_outfall_rec(r)) continue;
    cr_assert_geq(find_value(r, ph)->v, 6.5);
    cr_assert_leq(find_value(r, cod)->v, 60);
  }
  sim_close(&on);
  sim_close(&off);
}

/* The water metrics are needed only when the outlet is on. */
Test(src_sim, outfall_needs_the_water_metrics_only_when_on) {
  struct ph_catalog *builtin = cat;
  cat = catalog_variant("w_cod", NULL, 0);
  struct sim s;
  struct ph_err err = {0};
  sim_must_open(&s, "{}");
  free(s.ctx);
  int rc = sim_open(&s, "{\"outfall_every\":60}", &err);
  cr_assert_eq(rc, PH_ECONFIG);
  cr_assert(strstr(err.msg, "w_cod"), "%s", err.msg);
  free(s.ctx);
  rc = sim_open(&s, "{\"outfall_every\":-1}", &err);
  cr_assert_neq(rc, 0, "a negative interval is refused");
  free(s.ctx);
  ph_catalog_free(cat);
  cat = builtin;
}

/* start_ms fixes the schedule (inv. 3: only due ticks): a past start is
 * backfilled at once, budget by budget, and a restart keeps the schedule. */
Test(src_sim, start_ms_fixes_and_backfills_the_schedule) {
  const int64_t start = T0 - 3 * 3600000LL; /* three hours before "now" */
  const char *cfg = "{\"seed\":8,\"rate_hz\":0.01,\"outfall_every\":36,\"stack_test_every\":0,"
                    "\"weighbridge_every\":0,\"start_ms\":1763881200000}";
  cr_assert_eq(start, 1763881200000LL);
  struct sim s;
  sim_must_open(&s, cfg);
  sim_start(&s, NULL);
  sim_drain(&s, T0);
  /* ticks 0..108 (100 s each) are due by T0: 109 ticks, outfall at 0, 36, 72, 108 */
  cr_assert_eq(s.cap.last_pos, 109);
  size_t outs = 0;
  for (size_t i = 0; i < s.cap.n; i++) {
    const struct cap_rec *r = &s.cap.recs[i];
    cr_assert_eq(r->r.ts_ms, start + r->tick * 100000, "record %zu", i);
    if (is_outfall_rec(r)) cr_assert_eq(r->r.ts_ms, start + (int64_t)outs++ * 3600000);
  }
  cr_assert_eq(outs, 4);
  cr_assert_eq(s.cap.n, 109 * 2 + 4);
  /* a restart at another "now" resumes on the same schedule */
  struct ph_source_pos pos = {.a = 50, .b = 0, .valid = 1};
  struct sim t;
  sim_must_open(&t, cfg);
  sim_start(&t, &pos);
  sim_drain(&t, T0 + 86400000LL);
  cr_assert_eq(t.cap.recs[0].tick, 50);
  cr_assert_eq(t.cap.recs[0].r.ts_ms, start + 50 * 100000);
  for (size_t i = 0; i < s.cap.n && s.cap.recs[i].tick < 109; i++) {
    if (s.cap.recs[i].tick < 50) continue;
    size_t j = i;
    while (j < s.cap.n && s.cap.recs[j].tick >= 50) j++;
    for (size_t k = i; k < j; k++) {
      assert_same_record(&s.cap.recs[k], &t.cap.recs[k - i], k);
      cr_assert_eq(s.cap.recs[k].r.ts_ms, t.cap.recs[k - i].r.ts_ms);
    }
    break;
  }
  sim_close(&s);
  sim_close(&t);
}
