/* src_sim.c — source "sim": a deterministic simulator of a secondary-copper
 * smelter, for demos, benchmarks and tests of everything downstream of the
 * sources (batcher, outbox, hub, rules, inventory).
 *
 * Callers: the agent core through ph_src_sim (registered in agents/sources/source.c);
 * tests/unit/test_src_sim.c. Threads: none of its own; the core calls it
 * from its loop thread only.
 * Owns: nothing outside its ctx (allocated and freed by the core). Records
 * are built in fixed buffers inside the ctx and copied by ph_emit, so the
 * hot path allocates nothing; init allocates nothing either, so exit has
 * nothing to free.
 *
 * What it emits, per tick i (tick i is due at anchor + (i - i0) / rate_hz):
 *
 *   point                 kind       what
 *   <prefix>stack-1       emission   pm so2 nox o2 flow temp moisture (CEMS)
 *   <prefix>furnace-1     process    furnace_temp quench_out_temp
 *                                    afterburner_temp afterburner_residence
 *                                    aci_rate baghouse_dp production_rate,
 *                                    state running
 *   <prefix>stack-1       emission   pcdd_f alone, when i > 0 and
 *                                    i % stack_test_every == 0
 *   <prefix>weighbridge   material   scrap_cu_2 in (attrs: cl_pct, and cu_pct,
 *                                    the lot's copper assay), when i > 0 and
 *                                    i % weighbridge_every == 0; every third
 *                                    weighing also cathode_cu out, slag out
 *   <prefix>outfall-1     emission   w_ph w_cod w_nh3n w_ss w_cu w_flow (the
 *                                    treated-wastewater outlet), state running
 *                                    or stopped, when outfall_every > 0 and
 *                                    i % outfall_every == 0 (tick 0 too)
 *
 * The outfall is opt-in (outfall_every 0 by default), and its record comes
 * last in its tick, so runs and resume positions without it are exactly
 * what they were before it existed. Its values are a treated copper-smelter
 * effluent: pH 6.5..8.5, COD 20..60, NH3-N 0.5..5, SS 10..40, Cu 0.05..0.4
 * mg/L, 25..65 m3/h. Every outfall_stopped_every-th outfall record (0:
 * never) says the plant is stopped while 2..8 m3/h still flow (a leak or a
 * bypass: what a "flow while stopped" rule is for). With excursions on, an
 * outfall record now and then (about 1 in OUT_UPSET_ONE_IN) is an upset:
 * pH 4.5..5.8 or COD 120..200 mg/L, for rules on pH and COD to catch.
 *
 * Quench excursions (excursions=true): ticks are cut into blocks of
 * EXC_BLOCK; each block holds one excursion of 60..300 ticks during which
 * quench_out_temp sits in 220..380 degC (the de novo window of
 * dioxin-inventory.md section 4); in a third of them the carbon injection
 * fails too (aci_rate near 0). A stack test taken within PCDD_LOOKBACK ticks
 * after an excursion reads higher, sometimes above the 0.5 ng TEQ/Nm3 of
 * GB 31574-2015.
 *
 * Schedule: the anchor is the now_ms of the first collect() after start()
 * (the core makes it within one period), and i0 is the tick start() resumed
 * from; so a restarted run goes on at the restart's "now", and the source
 * lives on whatever clock the core passes to collect(). A tick resumed in
 * its middle gets that new ts for the records it had left.
 * With start_ms set, the schedule is fixed instead: tick i is due at
 * start_ms + i / rate_hz, before and after a restart. A start in the past
 * backfills history (every due tick at once, PH_SOURCE_BUDGET records per
 * collect): how a test gets closed hours and days of data in seconds.
 *
 * Invariants (cited in tests):
 *  1. determinism: every value, flag, lot, supplier and attribute of tick i
 *     is a pure function of (seed, i): drawn from a counter-based hash of
 *     (seed, i, stream), never from a running PRNG state. Only ts_ms depends
 *     on the schedule. Hence a run resumed at record r of tick k emits
 *     exactly what an uninterrupted run emits from there on.
 *  2. every record is followed by ph_emit_position() of the record after
 *     it: {a = i, b = r} when r records of tick i are out and more follow,
 *     {a = i + 1, b = 0} after the tick's last one (so b < the tick's
 *     record count and a finished run ends at {duration_ticks, 0}). The
 *     batcher may commit a batch in the middle of a tick; start() resumes
 *     at {a, b} by building tick a's first b records again and dropping
 *     them, so the rest is built exactly as without the restart. Within
 *     one run a tick's records are never split across collect() calls,
 *     except where a resume or a refused record cut it.
 *  3. collect() emits at most PH_SOURCE_BUDGET records per call, and only
 *     ticks whose scheduled time is <= now_ms and whose index is below
 *     duration_ticks (when not 0).
 *  4. every emitted value lies in its metric's catalogue range: values are
 *     shaped to nominal bands, then checked against the catalogue and
 *     clamped (counted, logged at exit) if the catalogue is narrower.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/ids.h"
#include "parkhub/log.h"
#include "sources/source.h"
#include "sources/src_sim.h"

#define TAU 6.283185307179586

#define EXC_BLOCK 2000    /* ticks per excursion block (one excursion each) */
#define EXC_OFFSET_MIN 100 /* an excursion starts at offset 100..1699 of its block */
#define EXC_OFFSET_SPAN 1600
#define EXC_LEN_MIN 60
#define EXC_LEN_SPAN 241 /* 60..300 ticks */
#define PCDD_LOOKBACK 600 /* ticks before a stack test that can raise its result */

#define SIM_SUFFIX_MAX 11 /* strlen("weighbridge"), the longest point suffix */
#define SIM_PREFIX_MAX (PH_ID_MAX - SIM_SUFFIX_MAX)
#define SIM_MAX_VALUES 8
#define SIM_MAX_RECORDS_PER_TICK 7 /* stack + furnace + pcdd_f + 3 material + outfall */
#define OUT_UPSET_ONE_IN 50        /* outfall records per upset, on average (excursions on) */

/* Metrics the simulator emits, in the order they appear in records. */
enum {
  M_PM, M_SO2, M_NOX, M_O2, M_FLOW, M_TEMP, M_MOIST,                      /* stack-1 */
  M_FURNACE, M_QUENCH, M_AB_TEMP, M_AB_RES, M_ACI, M_BAG_DP, M_PROD,      /* furnace-1 */
  M_PCDD,                                                                  /* stack test */
  M_SCRAP, M_CATHODE, M_SLAG,                                              /* weighbridge */
  M_WPH, M_WCOD, M_WNH3N, M_WSS, M_WCU, M_WFLOW,                           /* outfall-1 */
  M_COUNT
};
/* the catalogue must hold these only when the outfall is on */
#define WATER_FIRST M_WPH
#define WATER_N (M_WFLOW - M_WPH + 1)
#define STACK_FIRST M_PM
#define STACK_N (M_MOIST - M_PM + 1)
#define FURNACE_FIRST M_FURNACE
#define FURNACE_N (M_PROD - M_FURNACE + 1)

/* A smooth signal: base + a1 sin(2 pi i/p1 + phi1) + a2 sin(2 pi i/p2 + phi2)
 * + noise * u[-1,1], kept in [lo, hi] and rounded to 1/k. */
struct model {
  const char *code;
  enum ph_kind kind;
  double base, a1;
  int64_t p1;
  double a2;
  int64_t p2;
  double noise, lo, hi, k;
};

static const struct model models[M_COUNT] = {
    [M_PM] = {"pm", PH_KIND_EMISSION, 5.5, 1.5, 5400, 0.6, 700, 0.3, 3, 8, 100},
    [M_SO2] = {"so2", PH_KIND_EMISSION, 50, 18, 7200, 7, 1100, 3, 20, 80, 10},
    [M_NOX] = {"nox", PH_KIND_EMISSION, 105, 30, 6300, 10, 800, 4, 60, 150, 10},
    [M_O2] = {"o2", PH_KIND_EMISSION, 12, 1.3, 4700, 0.4, 600, 0.2, 10, 14, 100},
    [M_FLOW] = {"flow", PH_KIND_EMISSION, 87500, 5000, 8100, 1500, 950, 500, 80000, 95000, 1},
    [M_TEMP] = {"temp", PH_KIND_EMISSION, 135, 10, 6600, 3, 500, 1, 120, 150, 10},
    [M_MOIST] = {"moisture", PH_KIND_EMISSION, 8, 1.3, 5900, 0.4, 750, 0.2, 6, 10, 100},
    [M_FURNACE] = {"furnace_temp", PH_KIND_PROCESS, 1200, 30, 3900, 12, 450, 5, 1150, 1250, 10},
    [M_QUENCH] = {"quench_out_temp", PH_KIND_PROCESS, 175, 9, 2900, 4, 350, 2, 160, 190, 10},
    [M_AB_TEMP] = {"afterburner_temp", PH_KIND_PROCESS, 900, 30, 4300, 12, 520, 5, 850, 950, 10},
    [M_AB_RES] = {"afterburner_residence", PH_KIND_PROCESS, 2.25, 0.15, 5100, 0.07, 610, 0.03, 2.0, 2.5, 100},
    [M_ACI] = {"aci_rate", PH_KIND_PROCESS, 10, 1.2, 3300, 0.5, 400, 0.3, 8, 12, 100},
    [M_BAG_DP] = {"baghouse_dp", PH_KIND_PROCESS, 1500, 200, 7700, 70, 880, 30, 1200, 1800, 1},
    [M_PROD] = {"production_rate", PH_KIND_PROCESS, 3.0, 0.3, 6100, 0.12, 730, 0.08, 2.5, 3.5, 1000},
    /* drawn by their own code below; lo/hi/k still shape them */
    [M_PCDD] = {"pcdd_f", PH_KIND_EMISSION, 0, 0, 1, 0, 1, 0, 0.05, 0.6, 1000},
    [M_SCRAP] = {"scrap_cu_2", PH_KIND_MATERIAL, 0, 0, 1, 0, 1, 0, 25, 35, 100},
    [M_CATHODE] = {"cathode_cu", PH_KIND_MATERIAL, 0, 0, 1, 0, 1, 0, 20, 30, 100},
    [M_SLAG] = {"slag", PH_KIND_MATERIAL, 0, 0, 1, 0, 1, 0, 3, 6, 100},
    /* treated effluent of a copper smelter's wastewater plant (slow: the
     * plant's tanks smooth it over hours) */
    [M_WPH] = {"w_ph", PH_KIND_EMISSION, 7.5, 0.5, 9300, 0.15, 1300, 0.1, 6.5, 8.5, 100},
    [M_WCOD] = {"w_cod", PH_KIND_EMISSION, 38, 10, 8700, 4, 1500, 2, 20, 60, 10},
    [M_WNH3N] = {"w_nh3n", PH_KIND_EMISSION, 2.5, 1.2, 7900, 0.4, 1700, 0.2, 0.5, 5, 100},
    [M_WSS] = {"w_ss", PH_KIND_EMISSION, 22, 7, 8300, 3, 1100, 1.5, 10, 40, 10},
    [M_WCU] = {"w_cu", PH_KIND_EMISSION, 0.18, 0.08, 9100, 0.03, 1200, 0.02, 0.05, 0.4, 1000},
    [M_WFLOW] = {"w_flow", PH_KIND_EMISSION, 45, 12, 6900, 4, 900, 1.5, 25, 65, 10},
};

/* Hash streams: one constant per independent quantity (inv. 1). Noise of
 * metric m uses S_NOISE + m, its phases S_PHASE + 2m and S_PHASE + 2m + 1. */
enum {
  S_NOISE = 0x100,
  S_PHASE = 0x200,
  S_FLAG = 0x300,
  S_EXC_START, S_EXC_LEN, S_EXC_LEVEL, S_EXC_ACI, S_EXC_NOISE,
  S_PCDD, S_PCDD_EXC,
  S_SCRAP, S_SUPPLIER, S_CL, S_CATHODE, S_SLAG, S_CU,
  S_OUT_UPSET, S_OUT_UPSET_KIND, S_OUT_UPSET_LEVEL, S_OUT_STOP_FLOW,
};

static const char *const suppliers[] = {
    "Coastal Scrap Trading", "Delta Metal Recovery", "Hillside Recyclers", "Riverside Cable Stripping",
    "Eastport Import Scrap",
};
#define NSUPPLIERS (sizeof suppliers / sizeof suppliers[0])

struct sim {
  /* config, filled by the core through cfgmap before init */
  int64_t seed;
  double rate_hz;
  bool excursions;
  int64_t stack_test_every;
  int64_t weighbridge_every;
  int64_t outfall_every;
  int64_t outfall_stopped_every;
  char prefix[SIM_PREFIX_MAX + 1];
  int64_t duration_ticks;
  int64_t start_ms; /* fixed schedule: tick 0 at this UTC ms; 0: anchored at the first collect */

  /* from init */
  const char *name;
  uint64_t seed_hash;
  int32_t idx[M_COUNT];          /* catalogue index per metric */
  double cmin[M_COUNT], cmax[M_COUNT];
  double phase[M_COUNT][2];
  char pt_stack[PH_ID_MAX + 1], pt_furnace[PH_ID_MAX + 1], pt_wb[PH_ID_MAX + 1], pt_out[PH_ID_MAX + 1];

  /* run state: the next record is record next_rec of tick next (inv. 2) */
  int64_t next;      /* next tick to emit */
  int next_rec;      /* records of tick `next` already out (or committed before a restart) */
  int64_t first;     /* tick emitted at the anchor */
  int64_t anchor_ms; /* scheduled time of tick `first` */
  bool anchored;
  uint64_t clamped;  /* values the catalogue check had to clamp (inv. 4) */

  /* per-record buffers, reused (ph_emit copies) */
  struct ph_record rec;
  struct ph_value vals[SIM_MAX_VALUES];
  char attrs[64];
};

/* ---- counter-based randomness (inv. 1) ---------------------------------- */

static uint64_t splitmix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static uint64_t hash(const struct sim *c, int64_t i, uint64_t stream) {
  return splitmix64(splitmix64(c->seed_hash ^ (uint64_t)i) ^ (stream * 0xd6e8feb86659fd93ULL));
}

/* Uniform in [0, 1). */
static double u01(const struct sim *c, int64_t i, uint64_t stream) {
  return (double)(hash(c, i, stream) >> 11) * 0x1.0p-53;
}

/* Uniform in [-1, 1). */
static double u11(const struct sim *c, int64_t i, uint64_t stream) { return 2.0 * u01(c, i, stream) - 1.0; }

/* ---- value shaping -------------------------------------------------------- */

static double shape(int m, double x) {
  const struct model *d = &models[m];
  if (!(x >= d->lo)) x = d->lo; /* also catches NaN */
  if (x > d->hi) x = d->hi;
  return round(x * d->k) / d->k;
}

/* inv. 4: the last word is the catalogue's. */
static double checked(struct sim *c, int m, double x) {
  if (!(x >= c->cmin[m])) {
    x = c->cmin[m];
    c->clamped++;
  } else if (x > c->cmax[m]) {
    x = c->cmax[m];
    c->clamped++;
  }
  return x;
}

static double wave(int64_t i, int64_t period, double phase) {
  return sin(TAU * (double)(i % period) / (double)period + phase);
}

static double smooth(const struct sim *c, int m, int64_t i) {
  const struct model *d = &models[m];
  double x = d->base + d->a1 * wave(i, d->p1, c->phase[m][0]) + d->a2 * wave(i, d->p2, c->phase[m][1]) +
             d->noise * u11(c, i, S_NOISE + (uint64_t)m);
  return shape(m, x);
}

/* ---- excursions ------------------------------------------------------------ */

struct excursion {
  int64_t start, len;
  double level;   /* plateau of quench_out_temp, degC */
  bool aci_fault; /* carbon injection fails during it */
};

static void excursion_of_block(const struct sim *c, int64_t b, struct excursion *e) {
  e->start = b * EXC_BLOCK + EXC_OFFSET_MIN + (int64_t)(hash(c, b, S_EXC_START) % EXC_OFFSET_SPAN);
  e->len = EXC_LEN_MIN + (int64_t)(hash(c, b, S_EXC_LEN) % EXC_LEN_SPAN);
  e->level = 250.0 + 90.0 * u01(c, b, S_EXC_LEVEL);
  e->aci_fault = hash(c, b, S_EXC_ACI) % 3 == 0;
}

static bool in_excursion(const struct sim *c, int64_t i, struct excursion *e) {
  memset(e, 0, sizeof *e);
  if (!c->excursions) return false;
  excursion_of_block(c, i / EXC_BLOCK, e);
  return i >= e->start && i < e->start + e->len;
}

void ph_sim_excursion(int64_t seed, int64_t block, struct ph_sim_excursion *out) {
  struct sim c = {0}; /* only seed_hash is read */
  struct excursion e;
  _Static_assert(PH_SIM_EXC_BLOCK == EXC_BLOCK, "src_sim.h and src_sim.c disagree on the block");
  c.seed_hash = splitmix64((uint64_t)seed);
  excursion_of_block(&c, block, &e);
  *out = (struct ph_sim_excursion){.start = e.start, .len = e.len, .level = e.level, .aci_fault = e.aci_fault};
}

/* Whether an excursion overlaps ticks [lo, hi]. */
static bool excursion_within(const struct sim *c, int64_t lo, int64_t hi) {
  if (!c->excursions) return false;
  if (lo < 0) lo = 0;
  for (int64_t b = lo / EXC_BLOCK; b <= hi / EXC_BLOCK; b++) {
    struct excursion e;
    excursion_of_block(c, b, &e);
    if (e.start <= hi && e.start + e.len - 1 >= lo) return true;
  }
  return false;
}

/* ---- records ----------------------------------------------------------------- */

static bool is_stack_test(const struct sim *c, int64_t i) {
  return c->stack_test_every > 0 && i > 0 && i % c->stack_test_every == 0;
}

static bool is_weighing(const struct sim *c, int64_t i) {
  return c->weighbridge_every > 0 && i > 0 && i % c->weighbridge_every == 0;
}

static bool is_shipment(const struct sim *c, int64_t i) {
  return is_weighing(c, i) && (i / c->weighbridge_every) % 3 == 0;
}

static bool is_outfall(const struct sim *c, int64_t i) { return c->outfall_every > 0 && i % c->outfall_every == 0; }

/* the outfall record of tick i says the plant is stopped */
static bool is_outfall_stopped(const struct sim *c, int64_t i) {
  if (c->outfall_stopped_every <= 0) return false;
  return (i / c->outfall_every) % c->outfall_stopped_every == c->outfall_stopped_every - 1;
}

static int tick_records(const struct sim *c, int64_t i) {
  return 2 + is_stack_test(c, i) + (is_weighing(c, i) ? (is_shipment(c, i) ? 3 : 1) : 0) + is_outfall(c, i);
}

static int64_t tick_ms(const struct sim *c, int64_t i) {
  if (c->start_ms > 0) return c->start_ms + (int64_t)floor((double)i * 1000.0 / c->rate_hz);
  return c->anchor_ms + (int64_t)floor((double)(i - c->first) * 1000.0 / c->rate_hz);
}

static bool finished(const struct sim *c, int64_t i) { return c->duration_ticks > 0 && i >= c->duration_ticks; }

/* Where one tick's records go (inv. 2): the core, after the first `skip`,
 * which a restart resumed past and which are built only to be dropped. */
struct tick_out {
  struct ph_emitter *em;
  int64_t tick;
  int n;    /* records of the tick */
  int skip; /* records committed before the restart */
  int done; /* records built so far and emitted or dropped: the position's b */
};

static int out_record(struct tick_out *o, enum ph_kind kind, const struct ph_record *r, const struct ph_value *vals,
                      size_t n, const char *attrs) {
  if (o->done < o->skip) {
    o->done++;
    return 0;
  }
  int rc = ph_emit(o->em, kind, r, vals, n, attrs);
  if (rc) return rc; /* not taken: the position stays before it */
  o->done++;
  /* after the tick's last record, the next tick's start, so that positions
   * have one spelling and a finished run ends at {duration_ticks, 0} */
  struct ph_source_pos pos = {.a = o->tick, .b = o->done, .valid = 1};
  if (o->done >= o->n) pos = (struct ph_source_pos){.a = o->tick + 1, .b = 0, .valid = 1};
  ph_emit_position(o->em, &pos);
  return 0;
}

static void start_record(struct sim *c, const char *point, int64_t ts) {
  memset(&c->rec, 0, sizeof c->rec);
  c->rec.ts_ms = ts;
  snprintf(c->rec.point, sizeof c->rec.point, "%s", point);
  c->rec.state = PH_STATE_NONE;
  c->rec.attrs_off = -1;
}

static void put(struct sim *c, size_t slot, int m, double x, char flag) {
  c->vals[slot].metric = c->idx[m];
  c->vals[slot].flag = flag;
  c->vals[slot].v = checked(c, m, x);
}

static int emit_stack(struct sim *c, struct tick_out *o, int64_t i, int64_t ts) {
  double f = u01(c, i, S_FLAG); /* ~1 tick in 500 carries a non-N flag */
  char all = f < 0.002 && f >= 0.001 ? 'M' : 'N';
  start_record(c, c->pt_stack, ts);
  for (int k = 0; k < STACK_N; k++) {
    int m = STACK_FIRST + k;
    put(c, (size_t)k, m, smooth(c, m, i), m == M_SO2 && f < 0.001 ? 'C' : all);
  }
  return out_record(o, PH_KIND_EMISSION, &c->rec, c->vals, STACK_N, NULL);
}

static int emit_furnace(struct sim *c, struct tick_out *o, int64_t i, int64_t ts) {
  struct excursion e;
  bool exc = in_excursion(c, i, &e);
  start_record(c, c->pt_furnace, ts);
  c->rec.state = PH_STATE_RUNNING;
  for (int k = 0; k < FURNACE_N; k++) {
    int m = FURNACE_FIRST + k;
    double x = smooth(c, m, i);
    if (exc && m == M_QUENCH) {
      double t = e.level + 15.0 * sin(TAU * (double)(i - e.start) / 45.0) + 4.0 * u11(c, i, S_EXC_NOISE);
      t = t < 222 ? 222 : t > 378 ? 378 : t;
      x = round(t * 10) / 10;
    } else if (exc && m == M_ACI && e.aci_fault) {
      x = round((0.05 + 0.3 * u01(c, i, S_EXC_NOISE)) * 100) / 100;
    }
    put(c, (size_t)k, m, x, 'N');
  }
  return out_record(o, PH_KIND_PROCESS, &c->rec, c->vals, FURNACE_N, NULL);
}

static int emit_stack_test(struct sim *c, struct tick_out *o, int64_t i, int64_t ts) {
  int64_t look = c->stack_test_every < PCDD_LOOKBACK ? c->stack_test_every : PCDD_LOOKBACK;
  double x = 0.06 + 0.29 * u01(c, i, S_PCDD);
  if (excursion_within(c, i - look, i)) x += 0.12 + 0.2 * u01(c, i, S_PCDD_EXC);
  start_record(c, c->pt_stack, ts);
  put(c, 0, M_PCDD, shape(M_PCDD, x), 'N');
  return out_record(o, PH_KIND_EMISSION, &c->rec, c->vals, 1, NULL);
}

static int emit_material(struct sim *c, struct tick_out *o, int m, enum ph_dir dir, char lot_letter, double qty,
                         int64_t i, int64_t ts, const char *supplier, const char *attrs) {
  start_record(c, c->pt_wb, ts);
  snprintf(c->rec.material, sizeof c->rec.material, "%s", models[m].code);
  c->rec.dir = dir;
  c->rec.qty_t = checked(c, m, shape(m, qty));
  snprintf(c->rec.lot, sizeof c->rec.lot, "%c%lld", lot_letter, (long long)i);
  if (supplier) snprintf(c->rec.supplier, sizeof c->rec.supplier, "%s", supplier);
  return out_record(o, PH_KIND_MATERIAL, &c->rec, NULL, 0, attrs);
}

static int emit_weighing(struct sim *c, struct tick_out *o, int64_t i, int64_t ts) {
  double cl = 0.1 + 1.4 * pow(u01(c, i, S_CL), 2.0); /* mostly low, now and then a dirty lot */
  double cu = 86.0 + 10.0 * u01(c, i, S_CU);            /* the lot's assay: No. 2 copper scrap, 86..96 % Cu */
  snprintf(c->attrs, sizeof c->attrs, "{\"cl_pct\":%.2f,\"cu_pct\":%.1f}", cl, cu);
  int rc = emit_material(c, o, M_SCRAP, PH_DIR_IN, 'L', 25.0 + 10.0 * u01(c, i, S_SCRAP), i, ts,
                         suppliers[hash(c, i, S_SUPPLIER) % NSUPPLIERS], c->attrs);
  if (rc || !is_shipment(c, i)) return rc;
  if ((rc = emit_material(c, o, M_CATHODE, PH_DIR_OUT, 'C', 20.0 + 10.0 * u01(c, i, S_CATHODE), i, ts, NULL,
                          NULL)))
    return rc;
  return emit_material(c, o, M_SLAG, PH_DIR_OUT, 'S', 3.0 + 3.0 * u01(c, i, S_SLAG), i, ts, NULL, NULL);
}

/* One outfall record (see the header): smooth values, an upset now and then
 * when excursions are on, a trickle of flow when the plant is stopped. */
static int emit_outfall(struct sim *c, struct tick_out *o, int64_t i, int64_t ts) {
  bool upset = c->excursions && hash(c, i, S_OUT_UPSET) % OUT_UPSET_ONE_IN == 0;
  bool upset_ph = hash(c, i, S_OUT_UPSET_KIND) % 2 == 0;
  bool stopped = is_outfall_stopped(c, i);
  start_record(c, c->pt_out, ts);
  c->rec.state = stopped ? PH_STATE_STOPPED : PH_STATE_RUNNING;
  for (int k = 0; k < WATER_N; k++) {
    int m = WATER_FIRST + k;
    double x = smooth(c, m, i);
    /* upsets and the stopped trickle lie outside the bands: rounded here, not shaped */
    if (upset && upset_ph && m == M_WPH) x = round((4.5 + 1.3 * u01(c, i, S_OUT_UPSET_LEVEL)) * 100) / 100;
    if (upset && !upset_ph && m == M_WCOD) x = round((120 + 80 * u01(c, i, S_OUT_UPSET_LEVEL)) * 10) / 10;
    if (stopped && m == M_WFLOW) x = round((2 + 6 * u01(c, i, S_OUT_STOP_FLOW)) * 10) / 10;
    put(c, (size_t)k, m, x, 'N');
  }
  return out_record(o, PH_KIND_EMISSION, &c->rec, c->vals, WATER_N, NULL);
}

static int emit_tick(struct sim *c, struct tick_out *o, int64_t i, int64_t ts) {
  int rc;
  if ((rc = emit_stack(c, o, i, ts)) || (rc = emit_furnace(c, o, i, ts))) return rc;
  if (is_stack_test(c, i) && (rc = emit_stack_test(c, o, i, ts))) return rc;
  if (is_weighing(c, i) && (rc = emit_weighing(c, o, i, ts))) return rc;
  if (is_outfall(c, i) && (rc = emit_outfall(c, o, i, ts))) return rc;
  return 0;
}

/* ---- the source interface ------------------------------------------------------ */

/* The metrics the simulator sends, each in the catalogue with its kind.
 * With env->pr every missing or mistyped metric is noted (--check-config
 * lists them all). */
static int sim_metrics(struct sim *c, const struct ph_source_env *env, struct ph_err *err, int *bad) {
  int rc;
  for (int m = 0; m < M_COUNT; m++) {
    if (m >= WATER_FIRST && m < WATER_FIRST + WATER_N && c->outfall_every == 0) {
      c->idx[m] = -1; /* the outfall is off: a catalogue without water metrics will do */
      continue;
    }
    const char *code = models[m].code;
    int idx = ph_catalog_find(env->cat, code, strlen(code));
    const struct ph_metric *pm = idx < 0 ? NULL : ph_catalog_at(env->cat, (size_t)idx);
    if (!pm) {
      if ((rc = ph_source_note(env, ph_fail(err, PH_ECONFIG, "%s: metric '%s' is not in the catalogue", c->name, code),
                               err, bad)))
        return rc;
      continue;
    }
    if (pm->kind != models[m].kind) {
      if ((rc = ph_source_note(env,
                               ph_fail(err, PH_ECONFIG, "%s: metric '%s' is a %s metric in the catalogue, not %s",
                                       c->name, code, ph_kind_name(pm->kind), ph_kind_name(models[m].kind)),
                               err, bad)))
        return rc;
      continue;
    }
    c->idx[m] = idx;
    c->cmin[m] = pm->min;
    c->cmax[m] = pm->max;
  }
  return 0;
}

/* Every problem of the settings is named (with env->pr, all of them). */
static int sim_init(void *ctx, const void *cjson_cfg, const struct ph_source_env *env, struct ph_err *err) {
  struct sim *c = ctx;
  int bad = 0, rc;
  (void)cjson_cfg; /* everything is in the cfgmap */
  c->name = env && env->name ? env->name : "sim";
  if (!env || !env->cat) return ph_fail(err, PH_EINVAL, "%s: no metric catalogue", c->name);
  /* the cfgmap bounds these already and, checking a config (env->pr), has
   * named each bad one: only a ctx filled another way gets them here */
  if (!env->pr && !(c->rate_hz >= 0.01 && c->rate_hz <= 10000) &&
      (rc = ph_source_note(env, ph_fail(err, PH_ECONFIG, "%s.rate_hz: %g is outside 0.01..10000", c->name, c->rate_hz),
                           err, &bad)))
    return rc;
  if (!env->pr && (c->stack_test_every < 0 || c->weighbridge_every < 0 || c->outfall_every < 0 || c->outfall_stopped_every < 0 ||
       c->duration_ticks < 0 || c->start_ms < 0) &&
      (rc = ph_source_note(env,
                           ph_fail(err, PH_ECONFIG,
                                   "%s: stack_test_every, weighbridge_every, outfall_every, outfall_stopped_every, "
                                   "duration_ticks and start_ms must be >= 0",
                                   c->name),
                           err, &bad)))
    return rc;
  if ((rc = sim_metrics(c, env, err, &bad))) return rc;
  c->seed_hash = splitmix64((uint64_t)c->seed);
  for (int m = 0; m < M_COUNT; m++)
    for (int k = 0; k < 2; k++) c->phase[m][k] = TAU * u01(c, 0, S_PHASE + 2 * (uint64_t)m + (uint64_t)k);
  snprintf(c->pt_stack, sizeof c->pt_stack, "%s%s", c->prefix, "stack-1");
  snprintf(c->pt_furnace, sizeof c->pt_furnace, "%s%s", c->prefix, "furnace-1");
  snprintf(c->pt_wb, sizeof c->pt_wb, "%s%s", c->prefix, "weighbridge");
  snprintf(c->pt_out, sizeof c->pt_out, "%s%s", c->prefix, "outfall-1");
  if ((!ph_id_valid_z(c->pt_stack) || !ph_id_valid_z(c->pt_furnace) || !ph_id_valid_z(c->pt_wb) ||
       !ph_id_valid_z(c->pt_out)) &&
      (rc = ph_source_note(env,
                           ph_fail(err, PH_ECONFIG,
                                   "%s.prefix: '%.60s' does not make valid point ids ([a-z0-9][a-z0-9_-]{0,63})",
                                   c->name, c->prefix),
                           err, &bad)))
    return rc;
  return ph_source_noted(bad);
}

static int sim_start(void *ctx, const struct ph_source_pos *resume, struct ph_source_io *io, struct ph_err *err) {
  struct sim *c = ctx;
  int64_t from = resume && resume->valid ? resume->a : 0, rec = resume && resume->valid ? resume->b : 0;
  if (from < 0 || rec < 0)
    return ph_fail(err, PH_EINVAL, "%s: resume position {%lld, %lld} is not a tick and record index", c->name,
                   (long long)from, (long long)rec);
  /* b can reach the tick's record count only when stack_test_every or
   * weighbridge_every or outfall_every changed since the position was stored: the tick is
   * out, whatever it holds now */
  if (rec >= tick_records(c, from)) from++, rec = 0;
  c->next = c->first = from;
  c->next_rec = (int)rec;
  c->anchored = false; /* the first collect() anchors the schedule */
  double period = 1000.0 / c->rate_hz;
  io->period_ms = period >= 1000 ? 1000 : period <= 1 ? 1 : (int)period;
  io->fd = -1;
  return 0;
}

static int sim_collect(void *ctx, struct ph_emitter *em, int64_t now_ms) {
  struct sim *c = ctx;
  if (!c->anchored) {
    c->anchor_ms = now_ms;
    c->anchored = true;
  }
  int emitted = 0;
  while (!finished(c, c->next)) {
    int64_t ts = tick_ms(c, c->next);
    if (ts > now_ms) return 0;
    struct tick_out o = {.em = em, .tick = c->next, .n = tick_records(c, c->next), .skip = c->next_rec};
    int n = o.n - o.skip; /* what is left of the tick */
    if (emitted + n > PH_SOURCE_BUDGET) return 1; /* inv. 3; the tick is due: come back now */
    if (!ph_emit_room(em, (size_t)n)) return 0;   /* outbox at its cap: this tick waits */
    int rc = emit_tick(c, &o, c->next, ts);
    if (rc) {
      /* the core refused a record: the last position is the one before it,
       * where the next call (or a restart) takes the tick up again */
      c->next_rec = o.done;
      return rc < 0 ? rc : PH_EINVAL;
    }
    emitted += n;
    c->next++;
    c->next_rec = 0;
  }
  return 0;
}

static void sim_exit(void *ctx) {
  struct sim *c = ctx;
  if (c && c->clamped)
    PH_WARN("src_sim", "%s: %llu values clamped to the catalogue's ranges", c->name ? c->name : "sim",
            (unsigned long long)c->clamped);
}

#define F(field) offsetof(struct sim, field)
static const struct ph_cfgmap sim_cfgmap[] = {
    {"type", PH_CFG_SKIP, false, 0, 0, 0, 0, NULL, NULL, "\"sim\" (read by the core)"},
    {"name", PH_CFG_SKIP, false, 0, 0, 0, 0, NULL, NULL, "the source's name in logs (read by the core)"},
    {"seed", PH_CFG_INT, false, F(seed), 0, -9007199254740991.0, 9007199254740991.0, "1", NULL,
     "same seed, same data (values of tick i depend only on seed and i)"},
    {"rate_hz", PH_CFG_DBL, false, F(rate_hz), 0, 0.01, 10000, "1", NULL, "ticks per second (records per point)"},
    {"excursions", PH_CFG_BOOL, false, F(excursions), 0, 0, 0, "true", NULL,
     "quench-outlet excursions into the 200-400 degC de novo window, about one per 2000 ticks"},
    {"stack_test_every", PH_CFG_INT, false, F(stack_test_every), 0, 0, 1e12, "3600", NULL,
     "ticks between PCDD/F stack-test results (0: never)"},
    {"weighbridge_every", PH_CFG_INT, false, F(weighbridge_every), 0, 0, 1e12, "600", NULL,
     "ticks between weighbridge records (0: never)"},
    {"outfall_every", PH_CFG_INT, false, F(outfall_every), 0, 0, 1e12, "0", NULL,
     "ticks between records of the wastewater outlet outfall-1 (pH, COD, NH3-N, SS, Cu, flow; 0: no outlet)"},
    {"outfall_stopped_every", PH_CFG_INT, false, F(outfall_stopped_every), 0, 0, 1e12, "0", NULL,
     "every n-th outfall record says the plant is stopped while a little water still flows (0: never)"},
    {"prefix", PH_CFG_ID, false, F(prefix), sizeof(((struct sim *)0)->prefix), 0, 0, "", NULL,
     "prepended to the point names stack-1, furnace-1, weighbridge, outfall-1"},
    {"duration_ticks", PH_CFG_INT, false, F(duration_ticks), 0, 0, 9007199254740991.0, "0", NULL,
     "stop after this many ticks (0: run forever)"},
    {"start_ms", PH_CFG_INT, false, F(start_ms), 0, 0, 9007199254740991.0, "0", NULL,
     "fixed schedule: tick 0 at this UTC time in ms, a past one backfilled at once (0: start at the first collect)"},
    PH_CFG_END,
};
#undef F

const struct ph_source_ops ph_src_sim = {
    .name = "sim",
    .help = "deterministic secondary-copper smelter: stack CEMS, furnace, PCDD/F stack tests, weighbridge, "
            "optional wastewater outlet",
    .cfgmap = sim_cfgmap,
    .ctx_size = sizeof(struct sim),
    .init = sim_init,
    .start = sim_start,
    .collect = sim_collect,
    .reopen = NULL,
    .exit = sim_exit,
};
