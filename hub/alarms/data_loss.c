/* data_loss.c — declared data losses: log lines and the data_loss alarm
 * (data_loss.h).
 *
 * Callers: writer.c. Thread: the writer (the alarms handle is its).
 *
 * Invariants:
 *  1. the alarm is raised only after the transaction holding the gaps row
 *     committed; a group that rolled back forgets its notes (the retry
 *     notes them again), so no alarm speaks of a loss not recorded.
 *  2. one alarm per (park, enterprise): raised and cleared in the same
 *     alarms transaction (cleared_unacked: it waits for an
 *     acknowledgement); a later loss raises it again with its own message
 *     (renew_message) and counts it (count, occurrences; value = batches).
 */
#include "alarms/data_loss.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/timefmt.h"

#define MOD "writer"

void ph_data_loss_init(struct ph_data_loss *dl) {
  memset(dl, 0, sizeof *dl);
  ph_ratelimit_init(&dl->rl_log, PH_DATA_LOSS_LOG_MS);
  ph_ratelimit_init(&dl->rl_fail, PH_DATA_LOSS_LOG_MS);
}

static void span_text(int64_t ms, char *buf, size_t cap) {
  int64_t s = ms / 1000;
  if (s < 120)
    snprintf(buf, cap, "%lld s", (long long)s);
  else if (s < 7200)
    snprintf(buf, cap, "%.1f min", (double)s / 60);
  else
    snprintf(buf, cap, "%.1f h", (double)s / 3600);
}

void ph_data_loss_message(const struct ph_hub_config *cfg, const struct ph_data_loss_note *n, char *buf, size_t cap) {
  const struct ph_hub_park *p = &cfg->parks[n->park_idx];
  char from[PH_TIME_STRLEN] = "", to[PH_TIME_STRLEN] = "", span[32] = "", when[160] = "";
  if (n->from_ms > 0) ph_time_format(n->from_ms, from, sizeof from);
  if (n->to_ms > 0) ph_time_format(n->to_ms, to, sizeof to);
  if (from[0] && to[0]) {
    span_text(n->to_ms > n->from_ms ? n->to_ms - n->from_ms : 0, span, sizeof span);
    snprintf(when, sizeof when, ": no data between %s and %s (%s)", from, to, span);
  } else if (to[0]) {
    snprintf(when, sizeof when, ": no data before %s", to);
  } else if (from[0]) {
    snprintf(when, sizeof when, ": no data after %s", from);
  }
  snprintf(buf, cap, "Data loss: agent %s of %s lost %lld batch%s of epoch %lld (seq %lld..%lld)%s", n->agent,
           p->ents[n->ent_idx].id, (long long)n->lost, n->lost == 1 ? "" : "es", (long long)n->epoch,
           (long long)n->first_seq, (long long)n->last_seq, when);
}

void ph_data_loss_note(struct ph_data_loss *dl, const struct ph_hub_config *cfg, const struct ph_data_loss_note *n) {
  uint64_t suppressed = 0;
  if (ph_ratelimit_ok(&dl->rl_log, ph_mono_ms(), &suppressed)) {
    char msg[512], more[96] = "";
    ph_data_loss_message(cfg, n, msg, sizeof msg);
    if (suppressed)
      snprintf(more, sizeof more, " (and %llu more data losses since the last line)", (unsigned long long)suppressed);
    PH_WARN(MOD, "%s/%s: %s; they will never arrive%s", cfg->parks[n->park_idx].id, cfg->parks[n->park_idx].ents[n->ent_idx].id,
            msg, more);
  }
  if (dl->n < PH_DATA_LOSS_MAX_NOTES)
    dl->notes[dl->n++] = *n;
  else
    dl->unraised++;
}

void ph_data_loss_forget(struct ph_data_loss *dl) { dl->n = 0; }

/* ev->priv: the message in each language (enum ph_lang order). */
static void render(const struct ph_alarm_event *ev, enum ph_lang lang, char *buf, size_t cap) {
  const char *const *msgs = ev->priv;
  snprintf(buf, cap, "%s", msgs[lang == PH_LANG_EN]);
}

/* The Chinese sentence: what was lost, local times (the park's zone). */
static void message_zh(const struct ph_hub_config *cfg, const struct ph_tz *tz, const struct ph_data_loss_note *n,
                       char *buf, size_t cap) {
  const struct ph_hub_park *p = &cfg->parks[n->park_idx];
  char from[40] = "", to[40] = "", when[160] = "";
  if (n->from_ms > 0) ph_tz_format_human(tz, n->from_ms, from, sizeof from);
  if (n->to_ms > 0) ph_tz_format_human(tz, n->to_ms, to, sizeof to);
  if (from[0] && to[0])
    snprintf(when, sizeof when, "：%s 至 %s 之间没有数据", from, to);
  else if (to[0])
    snprintf(when, sizeof when, "：%s 之前没有数据", to);
  else if (from[0])
    snprintf(when, sizeof when, "：%s 之后没有数据", from);
  snprintf(buf, cap, "数据丢失：%s 的网关 %s 丢失了第 %lld 轮（epoch）的 %lld 批数据（序号 %lld..%lld）%s",
           p->ents[n->ent_idx].id, n->agent, (long long)n->epoch, (long long)n->lost, (long long)n->first_seq,
           (long long)n->last_seq, when);
}

static int raise_one(struct ph_alarms *alarms, const struct ph_refs *refs, const struct ph_data_loss_note *n,
                     int64_t now) {
  const struct ph_hub_config *cfg = refs->cfg;
  const struct ph_tz *tz = refs->tz[n->park_idx];
  const struct ph_hub_park *p = &cfg->parks[n->park_idx];
  char msg[PH_ALARM_MSG_MAX + 1], zh[PH_ALARM_MSG_MAX + 1];
  ph_data_loss_message(cfg, n, msg, sizeof msg);
  message_zh(cfg, tz, n, zh, sizeof zh);
  const char *msgs[2] = {zh, msg}; /* enum ph_lang order */
  struct ph_alarm_event ev = {
      .key = {.park = p->id, .rule = PH_RULE_DATA_LOSS, .ent = p->ents[n->ent_idx].id, .point = ""},
      .metric = "",
      .severity = PH_SEV_MAJOR,
      .ts_ms = now,
      .since_ms = n->from_ms > 0 && n->from_ms < now ? n->from_ms : now,
      .has_value = true,
      .value = (double)n->lost,
      .worse = PH_WORSE_HIGHER,
      .render = render,
      .priv = msgs,
      .renew_message = true,
  };
  int rc = ph_alarms_raise(alarms, &ev);
  return rc ? rc : ph_alarms_clear(alarms, &ev);
}

int ph_data_loss_raise(struct ph_data_loss *dl, const struct ph_refs *refs, struct ph_alarms *alarms,
                       struct ph_rules *rules, int64_t now_ms) {
  size_t n = dl->n;
  dl->n = 0;
  if (!n || !alarms) return 0;
  struct ph_err err = {0};
  int rc = ph_alarms_begin(alarms, &err);
  bool began = rc == 0;
  for (size_t i = 0; i < n && !rc; i++) rc = raise_one(alarms, refs, &dl->notes[i], now_ms);
  if (!rc) {
    if (!(rc = ph_alarms_commit(alarms, now_ms, &err))) return 0; /* a failed commit rolled back itself */
  } else if (began) {
    ph_alarms_rollback(alarms);
  }
  if (rules) { /* the alarms reloaded what is open: the engine asks again */
    struct ph_alarm_sink sink = ph_alarms_sink(alarms);
    ph_rules_resync(rules, &sink);
  }
  dl->unraised += n;
  uint64_t sup = 0;
  if (ph_ratelimit_ok(&dl->rl_fail, ph_mono_ms(), &sup))
    PH_ERROR(MOD, "data_loss alarms: %s — %zu not raised (the gaps rows are stored)",
             err.msg[0] ? err.msg : ph_strerror(rc), n);
  return rc;
}
