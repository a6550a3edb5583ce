/* ack_cmd.h — a person's acknowledgement of an alarm as it arrives over
 * MQTT (cmd/ack, cmd-ack.schema.json), decoded by the ingest stage and
 * carried in a queue item to the writer, which hands it to the alarms.
 * Here, not in alarms.h, so that ingest depends on nothing downstream.
 */
#ifndef PARKHUB_ACK_CMD_H
#define PARKHUB_ACK_CMD_H

#include <stddef.h>

#include "parkhub/err.h"
#include "parkhub/ids.h"

#define PH_ACK_BY_CHARS 64    /* `by`: 1..64 characters of UTF-8 */
#define PH_ACK_NOTE_CHARS 512 /* `note`: at most 512 */
#define PH_ACK_BY_MAX 256     /* bytes: room for 64 characters of UTF-8 */
#define PH_ACK_NOTE_MAX 2048  /* bytes: room for 512 */

/* The parsed form of a cmd/ack message. */
struct ph_ack_cmd {
  char alarm_id[PH_ID_MAX + 1];
  char by[PH_ACK_BY_MAX + 1];
  char note[PH_ACK_NOTE_MAX + 1];
};

/* Parses a cmd/ack payload; PH_ETOOLARGE, PH_EJSON, PH_EMISSING,
 * PH_EUNKNOWNKEY, PH_ETYPE, PH_EBADID, PH_ESTRLEN with err naming the field. */
int ph_ack_decode(const char *payload, size_t len, struct ph_ack_cmd *out, struct ph_err *err);
/* The one rule for who acknowledges and their note, over MQTT and HTTP:
 * valid UTF-8 (RFC 3629), `by` 1..64 characters, `note` (NULL: none) at
 * most 512, each within its byte bound. PH_EJSON or PH_ESTRLEN, err
 * naming the field ("by: ..."). */
int ph_ack_fields_check(const char *by, const char *note, struct ph_err *err);

#endif
