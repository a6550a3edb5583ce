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

/* Code points of valid UTF-8 s, or -1. */
static long utf8_chars(const char *s) {
  long n = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; n++) {
    int k = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 : (*p & 0xf8) == 0xf0 ? 3 : -1;
    if (k < 0 || (k == 1 && *p < 0xc2)) return -1;
    p++;
    for (int i = 0; i < k; i++, p++)
      if ((*p & 0xc0) != 0x80) return -1;
  }
  return n;
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
    long nb = utf8_chars(by->valuestring), nn = note ? utf8_chars(note->valuestring) : 0;
    if (nb < 0 || nn < 0) rc = ph_fail(err, PH_EJSON, "cmd/ack: by and note must be UTF-8");
    else if (nb < 1 || nb > 64 || strlen(by->valuestring) > PH_ACK_BY_MAX)
      rc = ph_fail(err, PH_ESTRLEN, "cmd/ack.by: 1..64 characters");
    else if (nn > 512 || (note && strlen(note->valuestring) > PH_ACK_NOTE_MAX))
      rc = ph_fail(err, PH_ESTRLEN, "cmd/ack.note: at most 512 characters");
  }
  if (!rc) {
    strcpy(out->alarm_id, id->valuestring);
    strcpy(out->by, by->valuestring);
    if (note) strcpy(out->note, note->valuestring);
  }
  cJSON_Delete(j);
  return rc;
}
