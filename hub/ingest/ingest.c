/* ingest.c — MQTT message → queue item (ingest.h).
 *
 * Refusal decision table (who gets an ack):
 *   topic unparseable / not a served park        reject row, no ack
 *   unknown enterprise or agent of the park       reject row, no ack (identity)
 *   payload agent ≠ topic agent                   reject row, no ack (identity)
 *   batch invalid but header readable             reject row, acked: a
 *                                                 permanently bad batch must not
 *                                                 block the agent's outbox
 *   batch invalid, header unreadable              reject row, no ack
 */
#include "ingest/ingest.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "parkhub/jsonarena.h"
#include "parkhub/log.h"
#include "parkhub/timefmt.h"

#define DECODE_GROUP 64

struct ph_ingest {
  pthread_t decoder;
  bool started;
  const struct ph_hub_config *cfg;
  const struct ph_catalog *cat;
  struct ph_queue *q;
  volatile bool stopping;
  atomic_bool intake_closed;
  pthread_mutex_t mu; /* stats and rate limits: callback and decoder threads */
  struct ph_ingest_stats st;
  struct ph_ratelimit rl[PH_NCODES];
  struct ph_batch_scratch tokens; /* the decoder thread's JSON tokens, reused for every batch */
};

int ph_ingest_new(const struct ph_hub_config *cfg, const struct ph_catalog *cat, struct ph_queue *q,
                  struct ph_ingest **out) {
  struct ph_ingest *in = ph_calloc(1, sizeof *in);
  if (!in) return PH_ENOMEM;
  in->cfg = cfg;
  in->cat = cat;
  in->q = q;
  pthread_mutex_init(&in->mu, NULL);
  for (int i = 0; i < PH_NCODES; i++) ph_ratelimit_init(&in->rl[i], PH_INGEST_LOG_INTERVAL_MS);
  ph_batch_scratch_init(&in->tokens);
  *out = in;
  return 0;
}

void ph_ingest_free(struct ph_ingest *in) {
  if (!in) return;
  pthread_mutex_destroy(&in->mu);
  ph_batch_scratch_fini(&in->tokens);
  ph_free(in);
}

void ph_ingest_stats(struct ph_ingest *in, struct ph_ingest_stats *st) {
  pthread_mutex_lock(&in->mu);
  *st = in->st;
  pthread_mutex_unlock(&in->mu);
}

static int code_index(int code) { return code < 0 && -code < PH_NCODES ? -code : 0; }

/* Counts the refusal and logs it unless its reason was logged recently. */
static void note_refusal(struct ph_ingest *in, const struct ph_item *it) {
  int k = code_index(it->code);
  uint64_t suppressed = 0;
  pthread_mutex_lock(&in->mu);
  in->st.refused++;
  in->st.refused_by_code[k]++;
  int log = ph_ratelimit_ok(&in->rl[k], ph_mono_ms(), &suppressed);
  pthread_mutex_unlock(&in->mu);
  if (!log) return;
  char more[80] = "";
  if (suppressed) snprintf(more, sizeof more, " (and %llu more for this reason since the last line)",
                           (unsigned long long)suppressed);
  PH_WARN("ingest", "refused %s (%s): %s%s", it->topic_raw, ph_errname(it->code), it->reason, more);
}

static void set_topic(struct ph_item *it, const char *topic, size_t tlen) {
  size_t n = tlen < sizeof it->topic_raw - 1 ? tlen : sizeof it->topic_raw - 1;
  memcpy(it->topic_raw, topic, n);
  it->topic_raw[n] = '\0';
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)it->topic_raw[i] < 0x20) it->topic_raw[i] = '?'; /* keep logs one line */
}

static int find_identity(struct ph_ingest *in, struct ph_item *it, struct ph_err *err) {
  const struct ph_topic *t = &it->topic;
  for (int p = 0; p < in->cfg->nparks; p++) {
    const struct ph_hub_park *park = &in->cfg->parks[p];
    if (strcmp(park->id, t->park) != 0) continue;
    it->park_idx = p;
    for (int e = 0; e < park->nents; e++)
      if (strcmp(park->ents[e].id, t->ent) == 0) {
        it->ent_idx = e;
        if (!ph_hub_ent_has_agent(&park->ents[e], t->agent))
          return ph_fail(err, PH_EIDENTITY, "agent %s is not configured for enterprise %s", t->agent, t->ent);
        return 0;
      }
    return ph_fail(err, PH_EIDENTITY, "enterprise %s is not configured in park %s", t->ent, t->park);
  }
  return ph_fail(err, PH_ETOPIC, "park %s is not served by this hub", t->park);
}

static void decode_status(struct ph_item *it, const char *payload, size_t plen) {
  it->type = PH_ITEM_STATUS;
  it->outbox_depth = -1;
  strcpy(it->state, "offline"); /* an empty retained payload clears the status */
  size_t n = plen < sizeof it->payload - 1 ? plen : 0; /* oversized: kept as state only */
  memcpy(it->payload, payload, n);
  it->payload[n] = '\0';
  cJSON *j = plen ? cJSON_ParseWithLength(payload, plen) : NULL;
  const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "state");
  const cJSON *ob = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "outbox"), "depth");
  if (cJSON_IsString(st) && strcmp(st->valuestring, "online") == 0) strcpy(it->state, "online");
  if (cJSON_IsNumber(ob) && ob->valuedouble >= 0 && ob->valuedouble < 1e15) it->outbox_depth = (int64_t)ob->valuedouble;
  cJSON_Delete(j);
}

static void decode_event(struct ph_ingest *in, struct ph_item *it, const char *payload, size_t plen) {
  struct ph_decode_opts o = {.cat = in->cat, .kind = it->topic.kind, .now_ms = ph_now_ms(),
                             .max_future_ms = in->cfg->max_future_s * 1000,
                             .max_age_ms = in->cfg->max_age_days * 86400000LL, .scratch = &in->tokens};
  struct ph_err err = {0};
  int rc = ph_batch_decode(payload, plen, &o, &it->batch, &err);
  bool identified = it->batch.header_ok;
  if (identified && strcmp(it->batch.agent, it->topic.agent) != 0) {
    rc = ph_fail(&err, PH_EIDENTITY, "payload agent %s published under agent %s's topic", it->batch.agent,
                 it->topic.agent);
    identified = false;
  }
  if (rc == 0) {
    it->type = PH_ITEM_BATCH;
    return;
  }
  it->type = PH_ITEM_REJECT;
  it->ackable = identified;
  it->code = rc;
  memcpy(it->reason, err.msg, sizeof it->reason);
}

static void decode_ack(struct ph_item *it) {
  struct ph_err err = {0};
  int rc = ph_ack_decode(it->raw, it->raw_len, &it->ack, &err);
  if (!rc) return;
  it->type = PH_ITEM_REJECT; /* stored as a reject row, counted, logged; never acked */
  it->code = rc;
  memcpy(it->reason, err.msg, sizeof it->reason);
}

static void decode(struct ph_ingest *in, struct ph_item *it) {
  ph_json_arena_begin(); /* every cJSON tree below is deleted before _end */
  if (it->type == PH_ITEM_STATUS)
    decode_status(it, it->raw, it->raw_len);
  else if (it->type == PH_ITEM_ACK)
    decode_ack(it);
  else if (it->type == PH_ITEM_BATCH)
    decode_event(in, it, it->raw, it->raw_len);
  ph_json_arena_end();
  pthread_mutex_lock(&in->mu);
  if (it->type == PH_ITEM_BATCH) in->st.batches++;
  if (it->type == PH_ITEM_STATUS) in->st.statuses++;
  pthread_mutex_unlock(&in->mu);
  if (it->type == PH_ITEM_REJECT) note_refusal(in, it);
}

static void *decoder(void *arg) {
  struct ph_ingest *in = arg;
  struct ph_item *items[DECODE_GROUP];
  for (;;) {
    size_t n = ph_queue_pop(in->q, PH_STAGE_RAW, items, DECODE_GROUP, 200);
    for (size_t i = 0; i < n; i++) decode(in, items[i]);
    ph_queue_push_many(in->q, PH_STAGE_DECODED, items, n);
    if (!n) {
      struct ph_queue_stats st;
      ph_queue_stats(in->q, &st);
      if (in->stopping && st.stage_depth[PH_STAGE_RAW] == 0) {
        ph_json_arena_thread_fini();
        return NULL;
      }
    }
  }
}

int ph_ingest_start(struct ph_ingest *in) {
  if (pthread_create(&in->decoder, NULL, decoder, in) != 0) return PH_ENOMEM;
  in->started = true;
  return 0;
}

void ph_ingest_stop(struct ph_ingest *in) {
  if (!in || !in->started) return;
  in->stopping = true;
  pthread_join(in->decoder, NULL);
  in->started = false;
}

void ph_ingest_close_intake(struct ph_ingest *in) { atomic_store(&in->intake_closed, true); }

int ph_ingest_message(struct ph_ingest *in, const char *topic, size_t tlen, const void *payload, size_t plen) {
  if (atomic_load(&in->intake_closed)) {
    pthread_mutex_lock(&in->mu);
    in->st.dropped_at_stop++;
    pthread_mutex_unlock(&in->mu);
    return PH_ECLOSED;
  }
  struct ph_item *it = ph_queue_acquire(in->q); /* may wait: back-pressure */
  if (!it) return PH_ECLOSED;
  it->park_idx = it->ent_idx = -1;
  it->recv_ms = ph_now_ms();
  it->ackable = false;
  it->code = 0;
  it->reason[0] = '\0';
  /* Items are pooled: a cmd/ack refused before its decode (too large, no
   * memory) must not answer with the alarm id and name of an earlier one. */
  memset(&it->ack, 0, sizeof it->ack);
  it->batch.header_ok = false;
  set_topic(it, topic, tlen);
  struct ph_err err = {0};
  int rc = ph_topic_parse(topic, tlen, &it->topic, &err);
  bool cmd_ack = !rc && it->topic.type == PH_TOPIC_CMD_ACK;
  if (!rc && it->topic.type != PH_TOPIC_EVENT && it->topic.type != PH_TOPIC_STATUS && !cmd_ack)
    rc = ph_fail(&err, PH_ETOPIC, "not an agent's event or status topic, nor cmd/ack");
  if (cmd_ack) {
    rc = ph_fail(&err, PH_ETOPIC, "park %s is not served by this hub", it->topic.park);
    for (int p = 0; p < in->cfg->nparks; p++)
      if (strcmp(in->cfg->parks[p].id, it->topic.park) == 0) it->park_idx = p, rc = 0;
  } else if (!rc) {
    rc = find_identity(in, it, &err);
  }
  pthread_mutex_lock(&in->mu);
  in->st.messages++;
  pthread_mutex_unlock(&in->mu);
  size_t max = PH_BATCH_MAX_BYTES;
  if (!rc && plen > max)
    rc = ph_fail(&err, PH_ETOOLARGE, "batch: %zu bytes, more than the %zu allowed", plen, max);
  if (!rc && ph_item_set_raw(it, payload, plen)) rc = ph_fail(&err, PH_ENOMEM, "out of memory for the payload");
  if (rc) {
    it->type = PH_ITEM_REJECT;
    it->code = rc;
    memcpy(it->reason, err.msg, sizeof it->reason);
  } else {
    /* Decoded on the decoder thread; the type says what to decode it as. */
    it->type = it->topic.type == PH_TOPIC_STATUS ? PH_ITEM_STATUS : cmd_ack ? PH_ITEM_ACK : PH_ITEM_BATCH;
  }
  ph_queue_push(in->q, PH_STAGE_RAW, it);
  return 0;
}
