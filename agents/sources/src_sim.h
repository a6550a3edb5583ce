/* src_sim.h — the schedule of the "sim" source's quench excursions
 * (agents/sources/src_sim.c), for tests that predict what a simulated smelter run
 * must raise. The values come from the same functions the source uses, so
 * a test never copies the schedule as numbers.
 *
 * Tick i lies in block i / PH_SIM_EXC_BLOCK; each block holds exactly one
 * excursion, ticks [start, start + len), during which quench_out_temp sits
 * inside 222..378 degC, and, when aci_fault, aci_rate is below 0.4 kg/h.
 * Outside excursions quench_out_temp stays in 160..190 and aci_rate in 8..12
 * (the source's models). */
#ifndef PARKHUB_SRC_SIM_H
#define PARKHUB_SRC_SIM_H

#include <stdbool.h>
#include <stdint.h>

#define PH_SIM_EXC_BLOCK 2000

struct ph_sim_excursion {
  int64_t start, len; /* ticks */
  double level;       /* plateau of quench_out_temp, degC */
  bool aci_fault;     /* the carbon injection fails during it */
};

/* The excursion of block b of a run with this seed (excursions on). */
void ph_sim_excursion(int64_t seed, int64_t block, struct ph_sim_excursion *out);

#endif
