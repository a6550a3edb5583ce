/* ack_cmd.c — reading a cmd/ack message (ack_cmd.h).
 *
 * Callers: ingest.c (decoder thread); pure, no allocation but cJSON's tree.
 * Invariants:
 *  1. ph_ack_decode refuses what cmd-ack.schema.json refuses (unknown or
 *     duplicate keys, bad id, `by` of 1..64 and `note` of <= 512 characters
 *     of valid UTF-8), and also trailing data after the object and U+0000
 *     in any string (raw or \u0000), which cJSON would cut short.
 */
#include "ingest/ack_cmd.h"

#include <cjson/cJSON.h>
#include <string.h>

#include "parkhub/ids.h"
#include "parkhub/jsonfile.h"

/* Code points of s when it is valid UTF-8 (shortest forms, no surrogates,
 * at most U+10FFFF), else -1. */
static long utf8_chars(const char *s) {
  long n = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; n++) {
    unsigned c = *p;
    int k = c < 0x80 ? 0 : c >= 0xC2 && c <= 0xDF ? 1 : (c & 0xF0) == 0xE0 ? 2 : c >= 0xF0 && c <= 0xF4 ? 3 : -1;
    if (k < 0) return -1;
    unsigned lo = 0x80, hi = 0xBF; /* the second byte's range (RFC 3629, section 4) */
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
    p++;
    for (int i = 0; i < k; i++, p++)
      if (*p < (i ? 0x80 : lo) || *p > (i ? 0xBF : hi)) return -1;
  }
  return n;
}

int ph_ack_fields_check(const char *by, const char *note, struct ph_err *err) {
  long nb = by ? utf8_chars(by) : 0, nn = note ? utf8_chars(note) : 0;
  if (nb < 0 || nn < 0) return ph_fail(err, PH_EJSON, "%s: must be UTF-8", nb < 0 ? "by" : "note");
  if (nb < 1 || nb > PH_ACK_BY_CHARS || strlen(by) > PH_ACK_BY_MAX)
    return ph_fail(err, PH_ESTRLEN, "by: must be a string of 1 to %d characters", PH_ACK_BY_CHARS);
  if (nn > PH_ACK_NOTE_CHARS || (note && strlen(note) > PH_ACK_NOTE_MAX))
    return ph_fail(err, PH_ESTRLEN, "note: must be a string of at most %d characters", PH_ACK_NOTE_CHARS);
  return 0;
}

int ph_ack_decode(const char *payload, size_t len, struct ph_ack_cmd *out, struct ph_err *err) {
  memset(out, 0, sizeof *out);
  if (len > 8192) return ph_fail(err, PH_ETOOLARGE, "cmd/ack: %zu bytes, more than 8192", len);
  char key[72];
  if (ph_json_find_nul(payload, len, key, sizeof key))
    return ph_fail(err, PH_EJSON, "cmd/ack%s%s: U+0000 is not allowed", key[0] ? "." : "", key);
  const char *end = NULL;
  cJSON *j = cJSON_ParseWithLengthOpts(payload, len, &end, 0);
  if (!j) return ph_fail(err, PH_EJSON, "cmd/ack: not valid JSON");
  int rc = 0;
  for (const char *p = end; p < payload + len && !rc; p++)
    if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') rc = ph_fail(err, PH_EJSON, "cmd/ack: trailing data");
  if (!rc && !cJSON_IsObject(j)) rc = ph_fail(err, PH_ETYPE, "cmd/ack: must be an object");
  for (const cJSON *it = j->child; it && !rc; it = it->next) {
    if (strcmp(it->string, "alarm_id") && strcmp(it->string, "by") && strcmp(it->string, "note"))
      rc = ph_fail(err, PH_EUNKNOWNKEY, "cmd/ack.%.64s: unknown key", it->string);
    for (const cJSON *o = j->child; o != it && !rc; o = o->next)
      if (strcmp(o->string, it->string) == 0) rc = ph_fail(err, PH_EJSON, "cmd/ack.%s: given twice", it->string);
  }
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "alarm_id");
  const cJSON *by = cJSON_GetObjectItemCaseSensitive(j, "by");
  const cJSON *note = cJSON_GetObjectItemCaseSensitive(j, "note");
  if (!rc && !id) rc = ph_fail(err, PH_EMISSING, "cmd/ack.alarm_id: required");
  if (!rc && !by) rc = ph_fail(err, PH_EMISSING, "cmd/ack.by: required");
  if (!rc && (!cJSON_IsString(id) || !cJSON_IsString(by) || (note && !cJSON_IsString(note))))
    rc = ph_fail(err, PH_ETYPE, "cmd/ack: alarm_id, by and note must be strings");
  if (!rc && !ph_id_valid_z(id->valuestring)) rc = ph_fail(err, PH_EBADID, "cmd/ack.alarm_id: not an alarm id");
  if (!rc) {
    struct ph_err fe = {0};
    if ((rc = ph_ack_fields_check(by->valuestring, note ? note->valuestring : NULL, &fe)))
      ph_fail(err, rc, "cmd/ack.%s", fe.msg);
  }
  if (!rc) {
    strcpy(out->alarm_id, id->valuestring);
    strcpy(out->by, by->valuestring);
    if (note) strcpy(out->note, note->valuestring);
  }
  cJSON_Delete(j);
  return rc;
}
