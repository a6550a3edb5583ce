/* kind.h — the three kinds of event (DESIGN.md): process, material, emission.
 * A kind names an event topic (…/ev/{kind}) and a metric's family. */
#ifndef PARKHUB_KIND_H
#define PARKHUB_KIND_H

#include <stddef.h>

enum ph_kind { PH_KIND_PROCESS, PH_KIND_MATERIAL, PH_KIND_EMISSION, PH_KIND_COUNT };

const char *ph_kind_name(enum ph_kind k);
/* 0 or PH_EENUM. s need not be NUL-terminated. */
int ph_kind_parse(const char *s, size_t len, enum ph_kind *out);

#endif
