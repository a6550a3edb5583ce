/* modbus.h — register decoding for the Modbus TCP source (agents/sources/src_modbus.c):
 * one or two 16-bit registers → a number, by type and word order, then
 * scale and offset. Pure code, no I/O, shared by the source and its unit
 * tests (tests/unit/test_src_modbus.c).
 *
 *   int16, uint16     one register
 *   int32, uint32,    two registers; word order "big": the first register
 *   float32           holds the high 16 bits (Modbus convention, ABCD),
 *                     "little": the first holds the low 16 bits (CDAB);
 *                     bytes within a register are always big-endian, as
 *                     the protocol sends them (libmodbus has already
 *                     turned them into host uint16_t values)
 *
 *   value = raw * scale + offset
 *
 * Invariant 1: a decoded value is finite or the call fails (a float32 NaN
 * or infinity, e.g. a PLC's "no value" pattern, is never published).
 */
#ifndef PARKHUB_MODBUS_H
#define PARKHUB_MODBUS_H

#include <stdint.h>

enum ph_modbus_type { PH_MB_INT16, PH_MB_UINT16, PH_MB_INT32, PH_MB_UINT32, PH_MB_FLOAT32, PH_MB_TYPE_COUNT };
enum ph_modbus_order { PH_MB_BIG, PH_MB_LITTLE };

/* Registers the type occupies: 1 or 2. */
int ph_modbus_width(enum ph_modbus_type t);
/* regs holds ph_modbus_width(t) registers. 0, or PH_ENONFINITE / PH_EINVAL. */
int ph_modbus_decode(const uint16_t *regs, enum ph_modbus_type t, enum ph_modbus_order o, double scale,
                     double offset, double *out);

#endif
