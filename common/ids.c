/* ids.c — the identifier grammar [a-z0-9][a-z0-9_-]{0,63} and the words
 * reserved for the park-level topics. */
#include "parkhub/ids.h"

#include <string.h>

static bool first_ok(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
static bool rest_ok(char c) { return first_ok(c) || c == '_' || c == '-'; }

bool ph_id_valid(const char *s, size_t len) {
  if (!s || len == 0 || len > PH_ID_MAX || !first_ok(s[0])) return false;
  for (size_t i = 1; i < len; i++)
    if (!rest_ok(s[i])) return false;
  return true;
}

bool ph_id_valid_z(const char *s) { return s && ph_id_valid(s, strnlen(s, PH_ID_MAX + 1)); }

bool ph_id_reserved(const char *s, size_t len) {
  static const char *const reserved[] = {"hub", "alerts", "alarms", "rollup", "cmd"};
  for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
    if (strlen(reserved[i]) == len && memcmp(reserved[i], s, len) == 0) return true;
  return false;
}

bool ph_id_valid_ent(const char *s, size_t len) { return ph_id_valid(s, len) && !ph_id_reserved(s, len); }
