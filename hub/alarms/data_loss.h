/* data_loss.h — what the hub does when an agent declares a data loss (a
 * batch whose oldest is past what the hub holds of its stream: the agent
 * dropped batches, DESIGN.md): besides the gaps row (the writer stores it
 * in the data's transaction), a log line (the first, then a count every
 * PH_DATA_LOSS_LOG_MS) and the hub's data_loss alarm of the enterprise
 * (rules.h PH_RULE_DATA_LOSS), raised and cleared at once after the commit
 * so that it waits for an acknowledgement; its message gives the agent,
 * the epoch and seqs, the size in batches and the data time it spans.
 *
 * Callers: writer.c. Thread: the writer. Owns: the notes of the group
 * being written (at most PH_DATA_LOSS_MAX_NOTES; more in one group are
 * counted in `unraised` and only logged and stored as gaps rows).
 */
#ifndef PARKHUB_DATA_LOSS_H
#define PARKHUB_DATA_LOSS_H

#include <stddef.h>
#include <stdint.h>

#include "alarms/alarms.h"
#include "config/hub_config.h"
#include "config/refs.h"
#include "parkhub/log.h"
#include "alarms/rules.h"

#define PH_DATA_LOSS_MAX_NOTES 64
#define PH_DATA_LOSS_LOG_MS 10000

struct ph_data_loss_note {
  int park_idx, ent_idx;
  char agent[PH_ID_MAX + 1];
  int64_t epoch, first_seq, last_seq; /* the lost seqs lie in first..last (some may have arrived) */
  int64_t lost;                       /* batches lost */
  int64_t from_ms, to_ms;             /* data time: the newest held before, the oldest after; 0: unknown */
};

struct ph_data_loss {
  struct ph_data_loss_note notes[PH_DATA_LOSS_MAX_NOTES];
  size_t n;
  uint64_t unraised; /* losses whose alarm was not raised (too many in a group, or the alarm transaction failed) */
  struct ph_ratelimit rl_log, rl_fail;
};

void ph_data_loss_init(struct ph_data_loss *dl);
/* One batch's declared loss, in the data's transaction: logged (rate
 * limited) and kept for ph_data_loss_raise. */
void ph_data_loss_note(struct ph_data_loss *dl, const struct ph_hub_config *cfg, const struct ph_data_loss_note *n);
/* The data's transaction rolled back: the notes go (the retry notes them again). */
void ph_data_loss_forget(struct ph_data_loss *dl);
/* After the data committed: one alarm raise and clear per note, in one
 * alarms transaction (alarms may be NULL: nothing); on failure it is
 * rolled back, rules (may be NULL) resynced and the failure logged. The
 * notes are forgotten either way. Returns 0 or the failure's code. */
int ph_data_loss_raise(struct ph_data_loss *dl, const struct ph_refs *refs, struct ph_alarms *alarms,
                       struct ph_rules *rules, int64_t now_ms);
/* The alarm's message for n into buf (always NUL-terminated). */
void ph_data_loss_message(const struct ph_hub_config *cfg, const struct ph_data_loss_note *n, char *buf, size_t cap);

#endif
