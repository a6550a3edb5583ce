/* kind.c — names of the three event kinds. */
#include "parkhub/kind.h"

#include <string.h>

#include "parkhub/err.h"

static const char *const names[PH_KIND_COUNT] = {"process", "material", "emission"};

const char *ph_kind_name(enum ph_kind k) { return (unsigned)k < PH_KIND_COUNT ? names[k] : "?"; }

int ph_kind_parse(const char *s, size_t len, enum ph_kind *out) {
  for (int i = 0; i < PH_KIND_COUNT; i++)
    if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0) {
      *out = (enum ph_kind)i;
      return 0;
    }
  return PH_EENUM;
}
