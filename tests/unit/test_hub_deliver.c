/* test_hub_deliver.c — the delivery stage (deliver.c) against a fake
 * publish function: topics and payloads, retries in order, and posting
 * that never blocks while publish does (a publish that sleeps), with the
 * mailbox coalescing to each alarm's latest state.
 */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "parkhub/alloc.h"
#include "alarms/deliver.h"
#include "parkhub/timefmt.h"

#define T0 1795399200000LL

struct pub {
  char topic[320];
  char payload[2048];
  size_t len;
  bool retained;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct pub *pubs;
static int npubs;
static atomic_int fail_next;   /* publishes to refuse with PH_EAGAIN */
static atomic_int sleep_ms;    /* each publish takes this long */
static atomic_int calls;

static int fake_publish(void *ctx, const char *topic, const void *payload, size_t len, bool retained) {
  (void)ctx;
  atomic_fetch_add(&calls, 1);
  int ms = atomic_load(&sleep_ms);
  if (ms) {
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
  }
  if (atomic_load(&fail_next) > 0) {
    atomic_fetch_sub(&fail_next, 1);
    return PH_EAGAIN;
  }
  pthread_mutex_lock(&mu);
  if (npubs < 20000) {
    struct pub *p = &pubs[npubs++];
    snprintf(p->topic, sizeof p->topic, "%s", topic);
    p->len = len < sizeof p->payload - 1 ? len : sizeof p->payload - 1;
    memcpy(p->payload, payload, p->len);
    p->payload[p->len] = '\0';
    p->retained = retained;
  }
  pthread_mutex_unlock(&mu);
  return 0;
}

static atomic_int sunk;
static int fake_sink(void *ctx, const struct ph_alarm_msg *m) {
  (void)ctx;
  (void)m;
  atomic_fetch_add(&sunk, 1);
  return 0;
}

static struct ph_deliver *d;

static void setup(void) {
  pubs = ph_calloc(20000, sizeof *pubs);
  npubs = 0;
  atomic_store(&fail_next, 0);
  atomic_store(&sleep_ms, 0);
  atomic_store(&calls, 0);
  atomic_store(&sunk, 0);
  d = NULL;
}
static void teardown(void) {
  ph_deliver_stop(d, 1000);
  ph_free(pubs);
}
TestSuite(deliver, .init = setup, .fini = teardown, .timeout = 60);

static void start(size_t capacity, bool with_sink) {
  struct ph_err err = {0};
  struct ph_deliver_conf c = {.publish = fake_publish, .capacity = capacity, .retry_min_ms = 5, .retry_max_ms = 40};
  if (with_sink) c.sinks[c.nsinks++] = (struct ph_deliver_sink){NULL, fake_sink};
  cr_assert_eq(ph_deliver_start(&c, &d, &err), 0, "%s", err.msg);
}

static struct ph_alarm_msg msg(int alarm, enum ph_alarm_msg_kind kind, enum ph_alarm_transition t,
                               enum ph_alarm_state s, int64_t count) {
  struct ph_alarm_msg m = {.kind = kind, .transition = t, .ts_ms = T0 + count * 1000};
  struct ph_alarm *a = &m.alarm;
  a->row = alarm;
  snprintf(a->alarm_id, sizeof a->alarm_id, "a-20261123-%06d", alarm);
  strcpy(a->park, "p1");
  strcpy(a->ent, "cu-old");
  strcpy(a->point, "stack-1");
  strcpy(a->rule, "so2_lim");
  strcpy(a->metric, "so2");
  a->severity = PH_SEV_MAJOR;
  a->state = s;
  strcpy(a->message, "so2 over the limit");
  a->first_ms = T0;
  a->last_ms = T0 + count * 1000;
  a->count = count;
  return m;
}

static int64_t now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

Test(deliver, a_transition_is_an_alert_then_the_retained_state) {
  start(0, true);
  struct ph_alarm_msg m = msg(1, PH_AM_TRANSITION, PH_AT_RAISED, PH_AS_ACTIVE_UNACKED, 1);
  cr_assert_eq(ph_deliver_post(d, &m), 0);
  cr_assert_eq(ph_deliver_flush(d, 5000), 0);
  cr_assert_eq(npubs, 2);
  cr_assert_str_eq(pubs[0].topic, "parkhub/v1/p1/alerts/major");
  cr_assert_not(pubs[0].retained);
  cJSON *j = cJSON_Parse(pubs[0].payload);
  cr_assert_str_eq(cJSON_GetObjectItem(j, "transition")->valuestring, "raised");
  cr_assert_str_eq(cJSON_GetObjectItem(j, "alarm_id")->valuestring, "a-20261123-000001");
  cJSON_Delete(j);
  cr_assert_str_eq(pubs[1].topic, "parkhub/v1/p1/alarms/a-20261123-000001");
  cr_assert(pubs[1].retained);
  j = cJSON_Parse(pubs[1].payload);
  cr_assert_str_eq(cJSON_GetObjectItem(j, "state")->valuestring, "active_unacked");
  cr_assert_null(cJSON_GetObjectItem(j, "transition"), "the retained state is alarm.schema.json");
  cJSON_Delete(j);
  /* a refresh: the retained state only; closed: an empty retained payload */
  m = msg(1, PH_AM_REFRESH, PH_AT_RAISED, PH_AS_ACTIVE_UNACKED, 9);
  ph_deliver_post(d, &m);
  m = msg(1, PH_AM_TRANSITION, PH_AT_ACKED, PH_AS_CLOSED, 9);
  ph_deliver_post(d, &m);
  cr_assert_eq(ph_deliver_flush(d, 5000), 0);
  cr_assert_geq(npubs, 4);
  cr_assert_str_eq(pubs[npubs - 2].topic, "parkhub/v1/p1/alerts/major");
  cr_assert(strstr(pubs[npubs - 2].payload, "\"state\":\"closed\"") != NULL);
  cr_assert_str_eq(pubs[npubs - 1].topic, "parkhub/v1/p1/alarms/a-20261123-000001");
  cr_assert(pubs[npubs - 1].retained);
  cr_assert_eq(pubs[npubs - 1].len, 0, "closed: an empty retained payload removes it");
  cr_assert_eq(atomic_load(&sunk), npubs == 4 ? 2 : 3, "every message taken also went to the sink");
}

Test(deliver, failed_publishes_are_retried_in_order) {
  start(0, false);
  atomic_store(&fail_next, 5);
  for (int i = 1; i <= 3; i++) {
    struct ph_alarm_msg m = msg(i, PH_AM_TRANSITION, PH_AT_RAISED, PH_AS_ACTIVE_UNACKED, 1);
    ph_deliver_post(d, &m);
  }
  cr_assert_eq(ph_deliver_flush(d, 5000), 0);
  cr_assert_eq(npubs, 6);
  for (int i = 0; i < 3; i++) {
    char id[64];
    snprintf(id, sizeof id, "a-20261123-%06d", i + 1);
    cr_assert(strstr(pubs[2 * i].payload, id) != NULL, "message %d in order", i);
    cr_assert(strstr(pubs[2 * i + 1].topic, id) != NULL);
  }
  struct ph_deliver_stats st;
  ph_deliver_stats(d, &st);
  cr_assert_eq(st.publish_failures, 5);
  cr_assert_eq(st.published, 6);
  cr_assert_eq(st.lost, 0);
}

Test(deliver, posting_never_blocks_while_publish_does) {
  start(16, true);
  atomic_store(&sleep_ms, 300); /* a broker that hangs */
  int64_t worst = 0, t_all = now_us();
  int64_t latest[11] = {0};
  for (int i = 0; i < 3000; i++) {
    int alarm = 1 + i % 10;
    int64_t count = i + 1;
    enum ph_alarm_msg_kind k = i % 3 == 0 ? PH_AM_TRANSITION : PH_AM_REFRESH;
    enum ph_alarm_transition t = (i / 10) % 2 ? PH_AT_CLEARED : PH_AT_RAISED;
    struct ph_alarm_msg m = msg(alarm, k, t, t == PH_AT_CLEARED ? PH_AS_CLEARED_UNACKED : PH_AS_ACTIVE_UNACKED, count);
    int64_t a = now_us();
    cr_assert_eq(ph_deliver_post(d, &m), 0);
    int64_t took = now_us() - a;
    if (took > worst) worst = took;
    latest[alarm] = count;
  }
  t_all = now_us() - t_all;
  cr_assert_lt(t_all, 1000000, "3000 posts in %lld us while publish sleeps 300 ms", (long long)t_all);
  cr_assert_lt(worst, 50000, "the slowest post took %lld us", (long long)worst);
  struct ph_deliver_stats st;
  ph_deliver_stats(d, &st);
  cr_assert_eq(st.posted, 3000);
  cr_assert_leq(st.queued, 16);
  cr_assert_gt(st.coalesced + st.refresh_dropped, 0);
  cr_assert_eq(st.lost, 0, "10 alarms fit 16 places: nothing is lost, only intermediate states");
  atomic_store(&sleep_ms, 0);
  cr_assert_eq(ph_deliver_flush(d, 10000), 0);
  /* each alarm's last retained state is its latest */
  for (int alarm = 1; alarm <= 10; alarm++) {
    char topic[128];
    snprintf(topic, sizeof topic, "parkhub/v1/p1/alarms/a-20261123-%06d", alarm);
    int64_t seen = -1;
    for (int i = 0; i < npubs; i++)
      if (!strcmp(pubs[i].topic, topic)) {
        cJSON *j = cJSON_Parse(pubs[i].payload);
        cr_assert_not_null(j);
        seen = (int64_t)cJSON_GetObjectItem(j, "count")->valuedouble;
        cJSON_Delete(j);
      }
    cr_assert_eq(seen, latest[alarm], "alarm %d: retained count %lld, latest %lld", alarm, (long long)seen,
                 (long long)latest[alarm]);
  }
}

Test(deliver, more_alarms_than_places_loses_the_oldest_and_counts_it) {
  start(4, false);
  atomic_store(&sleep_ms, 200);
  for (int i = 0; i < 40; i++) {
    struct ph_alarm_msg m = msg(1 + i, PH_AM_TRANSITION, PH_AT_RAISED, PH_AS_ACTIVE_UNACKED, 1);
    cr_assert_eq(ph_deliver_post(d, &m), 0);
  }
  struct ph_deliver_stats st;
  ph_deliver_stats(d, &st);
  cr_assert_geq(st.lost, 35);
  cr_assert_leq(st.queued, 4);
  atomic_store(&sleep_ms, 0);
  cr_assert_eq(ph_deliver_flush(d, 10000), 0);
  cr_assert(strstr(pubs[npubs - 1].topic, "a-20261123-000040") != NULL, "the newest survived");
}

Test(deliver, stop_gives_up_after_its_drain_time) {
  start(0, false);
  atomic_store(&fail_next, 1000000);
  struct ph_alarm_msg m = msg(1, PH_AM_TRANSITION, PH_AT_RAISED, PH_AS_ACTIVE_UNACKED, 1);
  ph_deliver_post(d, &m);
  m = msg(2, PH_AM_TRANSITION, PH_AT_RAISED, PH_AS_ACTIVE_UNACKED, 1);
  ph_deliver_post(d, &m);
  int64_t a = now_us();
  ph_deliver_stop(d, 200);
  d = NULL;
  int64_t took = now_us() - a;
  cr_assert_lt(took, 2000000, "stop took %lld us", (long long)took);
  cr_assert_geq(took, 150000);
}
