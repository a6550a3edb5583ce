/* fuzz_ack_cmd.c — libFuzzer target: a person's alarm acknowledgement as
 * it arrives over MQTT (cmd/ack), decoded by the hub's ingest stage
 * (ph_ack_decode, hub/ingest/ack_cmd.c) on any bytes.
 *
 * Oracle besides the sanitizers: a refusal is one of the codes ack_cmd.h
 * lists and says why; an accepted ack has an alarm_id that is an id, a
 * non-empty `by`, and every field NUL-terminated within its buffer (the
 * writer copies them into the alarms' fixed fields, alarms.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ack_cmd.h"
#include "parkhub/ids.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int listed(int rc) {
  return rc == PH_ETOOLARGE || rc == PH_EJSON || rc == PH_EMISSING || rc == PH_EUNKNOWNKEY || rc == PH_ETYPE ||
         rc == PH_EBADID || rc == PH_ESTRLEN;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size ? size : 1); /* exactly size bytes: no NUL to lean on */
  if (!s) return 0;
  memcpy(s, data, size);
  struct ph_ack_cmd a;
  memset(&a, 0x5a, sizeof a); /* no zeroes for a missing terminator to hide behind */
  struct ph_err err = {0};
  int rc = ph_ack_decode(s, size, &a, &err);
  if (rc) {
    if (!listed(rc) || !err.msg[0]) abort();
  } else {
    if (!memchr(a.alarm_id, 0, sizeof a.alarm_id) || !memchr(a.by, 0, sizeof a.by) ||
        !memchr(a.note, 0, sizeof a.note))
      abort();
    if (!ph_id_valid_z(a.alarm_id) || !a.by[0]) abort();
  }
  free(s);
  return 0;
}
