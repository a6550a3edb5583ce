/* lang.h — the languages people read parkhub in (zh-CN first, en), and the
 * default for a park from its time zone. Owned by common/ (lang.c); used by
 * the alarms (texts, webhooks), the API (catalogue, dashboard defaults) and
 * the report, so that one code list and one default rule serve them all.
 *
 * Invariants:
 *  1. PH_LANG_ZH_CN is 0: a zeroed struct reads Chinese, the users' language.
 *  2. the codes are BCP 47 tags as the dashboard and HTML lang use them. */
#ifndef PARKHUB_LANG_H
#define PARKHUB_LANG_H

#include <stdbool.h>
#include <stddef.h>

enum ph_lang { PH_LANG_ZH_CN, PH_LANG_EN, PH_LANG_COUNT };

/* "zh-CN" or "en". */
const char *ph_lang_code(enum ph_lang l);
/* 0 or PH_EENUM; accepts the codes above (case-insensitive) and "zh" for
 * zh-CN. s need not be NUL-terminated. */
int ph_lang_parse(const char *s, size_t len, enum ph_lang *out);
/* zh-CN for the zones of mainland China, Hong Kong, Macao and Taiwan (their
 * parks' people read Chinese first), en otherwise; tz may be NULL. */
enum ph_lang ph_lang_for_tz(const char *tz);

#endif
