/* ids.h — the identifier grammar of DESIGN.md: park, ent, agent, point and
 * metric codes match [a-z0-9][a-z0-9_-]{0,63}. Reserved words (hub, alerts,
 * alarms, rollup, cmd) never name an enterprise, so topics stay unambiguous. */
#ifndef PARKHUB_IDS_H
#define PARKHUB_IDS_H

#include <stdbool.h>
#include <stddef.h>

#define PH_ID_MAX 64 /* characters, without the NUL */

/* s need not be NUL-terminated; len is its length. */
bool ph_id_valid(const char *s, size_t len);
bool ph_id_valid_z(const char *s);
bool ph_id_reserved(const char *s, size_t len);
/* Valid and not reserved: what an enterprise id must be. */
bool ph_id_valid_ent(const char *s, size_t len);

#endif
