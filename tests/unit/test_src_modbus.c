/* test_src_modbus.c — register decoding of the Modbus source
 * (agents/sources/modbus_decode.c): types, word order, scale and offset, and
 * modbus.h inv. 1 (NaN / infinity never become a value). */
#include <criterion/criterion.h>
#include <math.h>

#include "parkhub/err.h"
#include "sources/modbus.h"

static double dec(const uint16_t *r, enum ph_modbus_type t, enum ph_modbus_order o, double s, double off) {
  double v = -999;
  cr_assert_eq(ph_modbus_decode(r, t, o, s, off, &v), 0);
  return v;
}

Test(modbus_decode, sixteen_bit_types_scale_offset) {
  uint16_t r[] = {0xFF85};
  cr_expect_eq(dec(r, PH_MB_INT16, PH_MB_BIG, 1, 0), -123);
  cr_expect_eq(dec(r, PH_MB_UINT16, PH_MB_BIG, 1, 0), 65413);
  uint16_t t[] = {12500};
  cr_expect_float_eq(dec(t, PH_MB_UINT16, PH_MB_BIG, 0.1, -50), 1200, 1e-9);
  cr_expect_eq(ph_modbus_width(PH_MB_INT16), 1);
  cr_expect_eq(ph_modbus_width(PH_MB_FLOAT32), 2);
}

Test(modbus_decode, thirty_two_bit_types_both_word_orders) {
  uint16_t big[] = {0x0001, 0x86A0}, little[] = {0x86A0, 0x0001};
  cr_expect_eq(dec(big, PH_MB_INT32, PH_MB_BIG, 1, 0), 100000);
  cr_expect_eq(dec(little, PH_MB_INT32, PH_MB_LITTLE, 1, 0), 100000);
  uint16_t neg[] = {0xFFFF, 0xFFFE};
  cr_expect_eq(dec(neg, PH_MB_INT32, PH_MB_BIG, 1, 0), -2);
  cr_expect_eq(dec(neg, PH_MB_UINT32, PH_MB_BIG, 1, 0), 4294967294.0);
  uint16_t fb[] = {0x420D, 0x0000}, fl[] = {0x0000, 0x4148};
  cr_expect_eq(dec(fb, PH_MB_FLOAT32, PH_MB_BIG, 1, 0), 35.25);
  cr_expect_eq(dec(fl, PH_MB_FLOAT32, PH_MB_LITTLE, 1, 0), 12.5);
  cr_expect_eq(dec(fb, PH_MB_FLOAT32, PH_MB_BIG, 2, 1), 71.5, "scale and offset after the type");
}

Test(modbus_decode, nan_and_infinity_refused) {
  uint16_t nan[] = {0x7FC0, 0x0000}, inf[] = {0x7F80, 0x0000};
  double v = 1;
  cr_expect_eq(ph_modbus_decode(nan, PH_MB_FLOAT32, PH_MB_BIG, 1, 0, &v), PH_ENONFINITE);
  cr_expect_eq(ph_modbus_decode(inf, PH_MB_FLOAT32, PH_MB_BIG, 1, 0, &v), PH_ENONFINITE);
  cr_expect_eq(v, 1, "out untouched");
}
