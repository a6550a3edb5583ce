/* modbus_decode.c — registers → value (modbus.h). Callers: src_modbus.c,
 * tests/unit/test_src_modbus.c. Threads: any (no state). Owns: nothing. */
#include <math.h>
#include <string.h>

#include "parkhub/err.h"
#include "sources/modbus.h"

int ph_modbus_width(enum ph_modbus_type t) { return t == PH_MB_INT16 || t == PH_MB_UINT16 ? 1 : 2; }

int ph_modbus_decode(const uint16_t *regs, enum ph_modbus_type t, enum ph_modbus_order o, double scale,
                     double offset, double *out) {
  double raw;
  uint32_t u32 = 0;
  if (ph_modbus_width(t) == 2)
    u32 = o == PH_MB_BIG ? (uint32_t)regs[0] << 16 | regs[1] : (uint32_t)regs[1] << 16 | regs[0];
  switch (t) {
  case PH_MB_INT16: raw = (int16_t)regs[0]; break;
  case PH_MB_UINT16: raw = regs[0]; break;
  case PH_MB_INT32: raw = (int32_t)u32; break;
  case PH_MB_UINT32: raw = u32; break;
  case PH_MB_FLOAT32: {
    float f;
    memcpy(&f, &u32, sizeof f);
    raw = f;
    break;
  }
  default: return PH_EINVAL;
  }
  double v = raw * scale + offset;
  if (!isfinite(v)) return PH_ENONFINITE; /* inv. 1 */
  *out = v;
  return 0;
}
