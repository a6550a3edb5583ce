/* lang.c — language codes and the default per time zone (lang.h).
 * Pure functions; any thread. */
#include "parkhub/lang.h"

#include <string.h>
#include <strings.h>

#include "parkhub/err.h"

static const char *const codes[PH_LANG_COUNT] = {"zh-CN", "en"};

/* The zones of mainland China, Hong Kong, Macao and Taiwan, with their
 * old aliases still found in tzdata. */
static const char *const zh_zones[] = {"Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin",
                                       "Asia/Urumqi",   "Asia/Kashgar",   "Asia/Hong_Kong", "Asia/Macau",
                                       "Asia/Macao",    "Asia/Taipei",    "PRC",            "ROC",
                                       "Hongkong",      NULL};

const char *ph_lang_code(enum ph_lang l) { return (unsigned)l < PH_LANG_COUNT ? codes[l] : codes[0]; }

int ph_lang_parse(const char *s, size_t len, enum ph_lang *out) {
  if (!s) return PH_EENUM;
  for (int i = 0; i < PH_LANG_COUNT; i++) {
    if (strlen(codes[i]) == len && !strncasecmp(s, codes[i], len)) {
      *out = (enum ph_lang)i;
      return 0;
    }
  }
  if (len == 2 && !strncasecmp(s, "zh", 2)) {
    *out = PH_LANG_ZH_CN;
    return 0;
  }
  return PH_EENUM;
}

enum ph_lang ph_lang_for_tz(const char *tz) {
  if (!tz) return PH_LANG_EN;
  for (int i = 0; zh_zones[i]; i++)
    if (!strcmp(tz, zh_zones[i])) return PH_LANG_ZH_CN;
  return PH_LANG_EN;
}
