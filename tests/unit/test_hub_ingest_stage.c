/* test_hub_ingest_stage.c — the hub's first two stages (ingest/ingest.h)
 * alone, without a broker: messages go in through ph_ingest_message exactly
 * as hubmqtt.c's Paho callback hands them (topic with its length, payload),
 * the decoder thread runs, and the test reads the DECODED stage of a real
 * struct ph_queue as the writer would. Issue #17 item 5.
 *
 * Checks ingest.c's refusal table (who gets an ack), the item types (batch,
 * status, cmd/ack), the order, the stats, and shutdown (intake closed,
 * queued messages decoded before the decoder stops).
 *
 * Threads: the decoder's; the test's. Every wait is a bounded pop and the
 * suite has a Criterion timeout.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "hub_stage_fixture.h"
#include "ingest/ingest.h"
#include "ingest/queue.h"

#define WAIT_MS 10000
#define EPOCH 1764000000LL
#define T_E1 "parkhub/v1/p1/e1/gw/ev/emission"

static struct ph_queue *q;
static struct ph_ingest *in;

static void setup(void) {
  fx_load();
  cr_assert_eq(ph_queue_new(16, &q), 0);
  cr_assert_eq(ph_ingest_new(&fx_cfg, fx_cat, q, &in), 0);
  cr_assert_eq(ph_ingest_start(in), 0);
}

static void teardown(void) {
  ph_queue_close(q);
  ph_ingest_stop(in);
  ph_ingest_free(in);
  ph_queue_free(q);
  fx_unload();
}

TestSuite(hub_ingest_stage, .init = setup, .fini = teardown, .timeout = 60);

static void feed(const char *topic, const char *payload) {
  cr_assert_eq(ph_ingest_message(in, topic, strlen(topic), payload, strlen(payload)), 0);
}

/* The next decoded item (the writer's view); release it with done(). */
static struct ph_item *next(void) {
  struct ph_item *it = NULL;
  cr_assert_eq(ph_queue_pop(q, PH_STAGE_DECODED, &it, 1, WAIT_MS), 1, "nothing reached the decoded stage");
  return it;
}

static void done(struct ph_item *it) { ph_queue_release(q, it); }

static const char *good(const char *agent, int64_t seq) {
  static const double v[] = {35.2, 36.1};
  return fx_batch(agent, EPOCH, seq, 1, v, 2);
}

/* topic + payload in, one REJECT out with code and ackable as given. */
static void refused(const char *topic, const char *payload, int code, bool ackable, const char *needle) {
  feed(topic, payload);
  struct ph_item *it = next();
  cr_assert_eq(it->type, PH_ITEM_REJECT, "%s: not refused", topic);
  cr_assert_eq(it->code, code, "%s: %s, want %s (%s)", topic, ph_errname(it->code), ph_errname(code), it->reason);
  cr_assert_eq(it->ackable, ackable, "%s: ackable %d (%s)", topic, it->ackable, it->reason);
  cr_assert_not_null(strstr(it->reason, needle), "%s: reason '%s' lacks '%s'", topic, it->reason, needle);
  cr_assert_str_eq(it->topic_raw, topic);
  done(it);
}

Test(hub_ingest_stage, a_valid_batch_of_a_known_enterprise_decodes) {
  feed(T_E1, good("gw", 3));
  struct ph_item *it = next();
  cr_assert_eq(it->type, PH_ITEM_BATCH, "%s: %s", ph_errname(it->code), it->reason);
  cr_assert_eq(it->park_idx, 0);
  cr_assert_eq(it->ent_idx, 0);
  cr_assert_str_eq(it->topic.agent, "gw");
  cr_assert_eq(it->topic.kind, PH_KIND_EMISSION);
  cr_assert_str_eq(it->topic_raw, T_E1);
  cr_assert_gt(it->recv_ms, 0);
  cr_assert_eq(it->batch.epoch, EPOCH);
  cr_assert_eq(it->batch.seq, 3);
  cr_assert_eq(it->batch.nrecords, 2);
  cr_assert_float_eq(ph_record_values(&it->batch, &it->batch.records[1])[0].v, 36.1, 1e-12);
  done(it);
  /* the second enterprise of the park */
  feed("parkhub/v1/p1/e2/gw2/ev/emission", good("gw2", 1));
  it = next();
  cr_assert_eq(it->type, PH_ITEM_BATCH, "%s", it->reason);
  cr_assert_eq(it->ent_idx, 1);
  done(it);
  struct ph_ingest_stats st;
  ph_ingest_stats(in, &st);
  cr_assert_eq(st.messages, 2);
  cr_assert_eq(st.batches, 2);
  cr_assert_eq(st.refused, 0);
}

/* ingest.c's table: identity failures are never acked. */
Test(hub_ingest_stage, unknown_identities_are_refused_without_ack) {
  refused("parkhub/v1/p2/e1/gw/ev/emission", good("gw", 1), PH_ETOPIC, false, "p2");
  refused("parkhub/v1/p1/e9/gw/ev/emission", good("gw", 1), PH_EIDENTITY, false, "e9");
  refused("parkhub/v1/p1/e1/gw2/ev/emission", good("gw2", 1), PH_EIDENTITY, false, "gw2");
  struct ph_ingest_stats st;
  ph_ingest_stats(in, &st);
  cr_assert_eq(st.refused, 3);
  cr_assert_eq(st.refused_by_code[-PH_EIDENTITY], 2);
  cr_assert_eq(st.refused_by_code[-PH_ETOPIC], 1);
  cr_assert_eq(st.batches, 0);
}

Test(hub_ingest_stage, malformed_and_foreign_topics_are_refused) {
  refused("parkhub/v1/P1/e1/gw/ev/emission", good("gw", 1), PH_ETOPIC, false, "");
  refused("parkhub/v2/p1/e1/gw/ev/emission", good("gw", 1), PH_ETOPIC, false, "");
  refused("parkhub/v1/p1/e1/gw/ev/smoke", good("gw", 1), PH_ETOPIC, false, "");
  refused("parkhub/v1/p1/e1/gw/ev/emission/extra", good("gw", 1), PH_ETOPIC, false, "");
  refused("", good("gw", 1), PH_ETOPIC, false, "");
  /* well formed, but not what an agent publishes to the hub */
  refused("parkhub/v1/p1/e1/gw/ack", "{\"epoch\":1,\"upto\":1}", PH_ETOPIC, false, "not an agent");
  refused("parkhub/v1/p1/hub", "{}", PH_ETOPIC, false, "not an agent");
}

/* A topic byte below 0x20 never reaches a log line (logs stay one line). */
Test(hub_ingest_stage, control_bytes_of_a_topic_are_masked) {
  const char topic[] = "parkhub/v1/p1/e1/gw/ev/emi\nssion";
  feed(topic, good("gw", 1));
  struct ph_item *it = next();
  cr_assert_eq(it->type, PH_ITEM_REJECT);
  cr_assert_eq(it->code, PH_ETOPIC);
  cr_assert_str_eq(it->topic_raw, "parkhub/v1/p1/e1/gw/ev/emi?ssion");
  done(it);
}

/* The topic's length is what counts, not a NUL (Paho hands topics with a length). */
Test(hub_ingest_stage, the_topic_length_is_honoured) {
  const char topic[] = T_E1 "/trailing-garbage";
  const char *p = good("gw", 1);
  cr_assert_eq(ph_ingest_message(in, topic, strlen(T_E1), p, strlen(p)), 0);
  struct ph_item *it = next();
  cr_assert_eq(it->type, PH_ITEM_BATCH, "%s", it->reason);
  cr_assert_str_eq(it->topic_raw, T_E1);
  done(it);
}

Test(hub_ingest_stage, a_payload_agent_other_than_the_topics_is_refused_without_ack) {
  refused(T_E1, good("gw2", 1), PH_EIDENTITY, false, "gw2");
}

Test(hub_ingest_stage, junk_is_refused_without_ack) {
  refused(T_E1, "not json at all", PH_EJSON, false, "");
  refused(T_E1, "{\"v\":1,\"agent\":\"gw\"", PH_EJSON, false, "");
  refused(T_E1, "", PH_EJSON, false, "");
  refused(T_E1, "[]", PH_ETYPE, false, "");
}

/* ingest.c's table: a readable header makes an invalid batch ackable, so
 * a permanently bad batch does not block the agent's outbox. */
Test(hub_ingest_stage, an_invalid_batch_with_a_readable_header_is_ackable) {
  char bad[512];
  char sent[40];
  ph_time_format(ph_now_ms(), sent, sizeof sent);
  snprintf(bad, sizeof bad,
           "{\"v\":1,\"agent\":\"gw\",\"epoch\":%lld,\"seq\":9,\"oldest\":1,\"sent\":\"%s\",\"records\":"
           "[{\"ts\":\"%s\",\"point\":\"stack-1\",\"values\":{\"so2\":-5e9}}]}",
           (long long)EPOCH, sent, sent);
  feed(T_E1, bad);
  struct ph_item *it = next();
  cr_assert_eq(it->type, PH_ITEM_REJECT);
  cr_assert_eq(it->code, PH_ERANGE, "%s: %s", ph_errname(it->code), it->reason);
  cr_assert(it->ackable);
  cr_assert(it->batch.header_ok);
  cr_assert_eq(it->batch.epoch, EPOCH);
  cr_assert_eq(it->batch.seq, 9);
  cr_assert_str_eq(it->batch.agent, "gw");
  done(it);
  /* a process metric in an emission batch: refused by kind, still ackable */
  snprintf(bad, sizeof bad,
           "{\"v\":1,\"agent\":\"gw\",\"epoch\":%lld,\"seq\":10,\"oldest\":1,\"sent\":\"%s\",\"records\":"
           "[{\"ts\":\"%s\",\"point\":\"stack-1\",\"values\":{\"no-such-metric\":1}}]}",
           (long long)EPOCH, sent, sent);
  feed(T_E1, bad);
  it = next();
  cr_assert_eq(it->type, PH_ITEM_REJECT);
  cr_assert_eq(it->code, PH_EMETRIC, "%s: %s", ph_errname(it->code), it->reason);
  cr_assert(it->ackable);
  done(it);
}

Test(hub_ingest_stage, a_payload_over_the_batch_limit_is_refused_before_decoding) {
  size_t n = PH_BATCH_MAX_BYTES + 1;
  char *big = malloc(n);
  cr_assert_not_null(big);
  memset(big, ' ', n);
  cr_assert_eq(ph_ingest_message(in, T_E1, strlen(T_E1), big, n), 0);
  free(big);
  struct ph_item *it = next();
  cr_assert_eq(it->type, PH_ITEM_REJECT);
  cr_assert_eq(it->code, PH_ETOOLARGE);
  cr_assert_not(it->ackable);
  done(it);
}

Test(hub_ingest_stage, a_status_becomes_a_status_item) {
  feed("parkhub/v1/p1/e1/gw/status", "{\"state\":\"online\",\"outbox\":{\"depth\":42}}");
  struct ph_item *it = next();
  cr_assert_eq(it->type, PH_ITEM_STATUS, "%s", it->reason);
  cr_assert_str_eq(it->state, "online");
  cr_assert_eq(it->outbox_depth, 42);
  cr_assert_str_eq(it->payload, "{\"state\":\"online\",\"outbox\":{\"depth\":42}}");
  cr_assert_eq(it->ent_idx, 0);
  done(it);
  /* an empty retained payload clears the status: offline, depth unknown */
  feed("parkhub/v1/p1/e1/gw/status", "");
  it = next();
  cr_assert_eq(it->type, PH_ITEM_STATUS);
  cr_assert_str_eq(it->state, "offline");
  cr_assert_eq(it->outbox_depth, -1);
  done(it);
  /* junk is no status: offline, never a crash */
  feed("parkhub/v1/p1/e1/gw/status", "{\"state\":\"online\",\"outbox\":{\"depth\":-3}");
  it = next();
  cr_assert_eq(it->type, PH_ITEM_STATUS);
  cr_assert_str_eq(it->state, "offline");
  cr_assert_eq(it->outbox_depth, -1);
  done(it);
  struct ph_ingest_stats st;
  ph_ingest_stats(in, &st);
  cr_assert_eq(st.statuses, 3);
  /* a status of an agent the park does not know is refused like its data */
  refused("parkhub/v1/p1/e1/ghost/status", "{\"state\":\"online\"}", PH_EIDENTITY, false, "ghost");
}

Test(hub_ingest_stage, a_cmd_ack_becomes_an_ack_item) {
  feed("parkhub/v1/p1/cmd/ack", "{\"alarm_id\":\"a-17\",\"by\":\"operator Li\",\"note\":\"seen\"}");
  struct ph_item *it = next();
  cr_assert_eq(it->type, PH_ITEM_ACK, "%s: %s", ph_errname(it->code), it->reason);
  cr_assert_eq(it->park_idx, 0);
  cr_assert_str_eq(it->ack.alarm_id, "a-17");
  cr_assert_str_eq(it->ack.by, "operator Li");
  cr_assert_str_eq(it->ack.note, "seen");
  done(it);
  refused("parkhub/v1/p1/cmd/ack", "{\"by\":\"x\"}", PH_EMISSING, false, "alarm_id");
  refused("parkhub/v1/p1/cmd/ack", "{\"alarm_id\":\"a-1\",\"by\":\"x\",\"extra\":1}", PH_EUNKNOWNKEY, false, "");
  refused("parkhub/v1/p1/cmd/ack", "{\"alarm_id\":\"A 1\",\"by\":\"x\"}", PH_EBADID, false, "");
  refused("parkhub/v1/p1/cmd/ack", "nope", PH_EJSON, false, "");
  refused("parkhub/v1/p2/cmd/ack", "{\"alarm_id\":\"a-1\",\"by\":\"x\"}", PH_ETOPIC, false, "p2");
}

/* Order in = order out, across types: the writer sees a stream's batches as sent. */
Test(hub_ingest_stage, items_leave_in_the_order_they_arrived) {
  for (int64_t s = 1; s <= 12; s++) {
    if (s % 4 == 0) feed("parkhub/v1/p9/e1/gw/ev/emission", "x");
    else feed(T_E1, good("gw", s));
  }
  for (int64_t s = 1; s <= 12; s++) {
    struct ph_item *it = next();
    if (s % 4 == 0) {
      cr_assert_eq(it->type, PH_ITEM_REJECT, "item %lld", (long long)s);
    } else {
      cr_assert_eq(it->type, PH_ITEM_BATCH, "item %lld: %s", (long long)s, it->reason);
      cr_assert_eq(it->batch.seq, s, "out of order");
    }
    done(it);
  }
}

/* Shutdown, step 1: intake closed, a message is dropped and counted, never queued. */
Test(hub_ingest_stage, after_close_intake_messages_are_dropped_and_counted) {
  ph_ingest_close_intake(in);
  const char *p = good("gw", 1);
  cr_assert_eq(ph_ingest_message(in, T_E1, strlen(T_E1), p, strlen(p)), PH_ECLOSED);
  struct ph_ingest_stats st;
  ph_ingest_stats(in, &st);
  cr_assert_eq(st.dropped_at_stop, 1);
  cr_assert_eq(st.messages, 0);
  struct ph_queue_stats qs;
  ph_queue_stats(q, &qs);
  cr_assert_eq(qs.depth, 0);
}

/* Queue closed, then stop: the decoder decodes what is queued before it returns. */
Test(hub_ingest_stage, stop_decodes_what_was_queued) {
  for (int64_t s = 1; s <= 10; s++) feed(T_E1, good("gw", s));
  ph_queue_close(q);
  ph_ingest_stop(in);
  struct ph_queue_stats qs;
  ph_queue_stats(q, &qs);
  cr_assert_eq(qs.stage_depth[PH_STAGE_RAW], 0);
  cr_assert_eq(qs.stage_depth[PH_STAGE_DECODED], 10);
  for (int64_t s = 1; s <= 10; s++) {
    struct ph_item *it = NULL;
    cr_assert_eq(ph_queue_pop(q, PH_STAGE_DECODED, &it, 1, 0), 1);
    cr_assert_eq(it->type, PH_ITEM_BATCH);
    cr_assert_eq(it->batch.seq, s);
    done(it);
  }
  const char *p = good("gw", 11);
  cr_assert_eq(ph_ingest_message(in, T_E1, strlen(T_E1), p, strlen(p)), PH_ECLOSED, "the queue is closed");
}
