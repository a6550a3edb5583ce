/* utf8.c — utf8.h. */
#include "parkhub/utf8.h"

size_t ph_utf8_char(const unsigned char *p, size_t n) {
  unsigned char c = p[0];
  size_t k = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (k == 0 || k > n) return 0;
  unsigned char lo = 0x80, hi = 0xbf; /* the second byte's range (no overlongs, surrogates, > U+10FFFF) */
  if (c == 0xc2) lo = 0xa0;           /* U+0080..U+009F: C1 controls */
  if (c == 0xe0) lo = 0xa0;
  if (c == 0xed) hi = 0x9f;
  if (c == 0xf0) lo = 0x90;
  if (c == 0xf4) hi = 0x8f;
  if (p[1] < lo || p[1] > hi) return 0;
  for (size_t i = 2; i < k; i++)
    if ((p[i] & 0xc0) != 0x80) return 0;
  return k;
}
