/* digest.h — a 64-bit digest of bytes, to notice that reference data
 * changed (a standard's file, the catalogue) between two runs. Not for
 * security: nobody gains by forging a collision of the data they load
 * themselves, and a collision costs only a recomputation not done.
 *
 * FNV-1a (Fowler–Noll–Vo, 64-bit offset basis and prime). Pure; any thread.
 */
#ifndef PARKHUB_DIGEST_H
#define PARKHUB_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define PH_DIGEST_SEED 1469598103934665603ULL

/* Continues digest h over n bytes at p (start with PH_DIGEST_SEED). */
uint64_t ph_digest64(uint64_t h, const void *p, size_t n);

#endif
