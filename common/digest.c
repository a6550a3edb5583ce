/* digest.c — digest.h. */
#include "parkhub/digest.h"

uint64_t ph_digest64(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ULL;
  return h;
}
