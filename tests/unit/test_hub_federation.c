/* test_hub_federation.c — the upward outbox and its regional application
 * (hub/federation/up_outbox.c, up_rows.c, up_apply.c) on two real
 * databases: a park hub's (rows written as the CEMS computation writes
 * them, so the migration-7 triggers fill the outbox) and a regional hub's.
 * No broker: the batch text goes from one to the other by hand.
 * Alarms (issue #21): the alarm tables made by ph_alarms_migrate after the
 * store's migrations, their triggers by ph_up_triggers.
 */
#include <criterion/criterion.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alarms/alarms.h"
#include "api/api_sql.h"
#include "federation/up_apply.h"
#include "federation/up_outbox.h"
#include "config/hub_config.h"
#include "federation/up_rows.h"
#include "parkhub/alloc.h"
#include "store/store.h"

static char dir[64], park_path[128], reg_path[128];
static struct ph_store *park, *reg;
static sqlite3 *pdb; /* the forwarder's own connection to the park hub's database */
static const char *const parks[] = {"p1"};
#define HOUR 3600000LL
#define T0 1767225600000LL /* 2026-01-01T00:00Z */

static void setup(void) {
  struct ph_err err = {0};
  strcpy(dir, "/tmp/phfedXXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  snprintf(park_path, sizeof park_path, "%s/park.db", dir);
  snprintf(reg_path, sizeof reg_path, "%s/reg.db", dir);
  cr_assert_eq(ph_store_open(park_path, &park, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_store_open(reg_path, &reg, &err), 0, "%s", err.msg);
  cr_assert_eq(sqlite3_open(park_path, &pdb), SQLITE_OK);
  sqlite3_busy_timeout(pdb, 5000);
}

static void teardown(void) {
  sqlite3_close(pdb);
  ph_store_close(park);
  ph_store_close(reg);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_assert_eq(system(cmd), 0);
}

static void sql(struct ph_store *s, const char *q) {
  char *msg = NULL;
  cr_assert_eq(sqlite3_exec(ph_store_db(s), q, NULL, NULL, &msg), SQLITE_OK, "%s: %s", q, msg ? msg : "");
}

static int64_t count(sqlite3 *db, const char *q) {
  sqlite3_stmt *st;
  cr_assert_eq(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK, "%s", q);
  cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
  int64_t n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

/* A park with one point e1/s1 with so2 and flow series. */
static void park_series(void) {
  int64_t pt, so2, flow, s1, s2;
  cr_assert_eq(ph_store_point_id(park, "p1", "e1", "s1", &pt), 0);
  cr_assert_eq(ph_store_metric_id(park, "flow", &flow), 0); /* other ids than the regional's (inv. 1) */
  cr_assert_eq(ph_store_metric_id(park, "so2", &so2), 0);
  cr_assert_eq(ph_store_series_id(park, pt, so2, &s1), 0);
  cr_assert_eq(ph_store_series_id(park, pt, flow, &s2), 0);
}

static void forward_all(void) {
  const char *fw[PH_UP_NKINDS];
  for (int i = 0; i < PH_UP_NKINDS; i++) fw[i] = ph_up_kind_name(i);
  struct ph_err err = {0};
  cr_assert_eq(ph_up_outbox_setup(pdb, fw, PH_UP_NKINDS, 1767225600, &err), 0, "%s", err.msg);
}

/* The CEMS rows of one hour as cems.c writes them (INSERT OR REPLACE). */
static void write_hour(int64_t h, double so2, double flow) {
  char q[1024];
  snprintf(q, sizeof q,
           "INSERT OR REPLACE INTO cems_hours VALUES(1, %lld, %lld, 0, 60, %.17g, 1, 100);"
           "INSERT OR REPLACE INTO cems_hours VALUES(2, %lld, %lld, 0, 60, %.17g, 1, NULL);"
           "INSERT OR REPLACE INTO rollups(series_id, period, bucket_ms, n, n_valid, sum, sum_valid, min, max,"
           " first_ts, first, last_ts, last, expected) VALUES(1, 1, %lld, 60, 60, %.17g, %.17g, 1, 2, %lld, 1, %lld, 2, 60);"
           "INSERT OR REPLACE INTO cems_op_hours VALUES(1, %lld, %lld, 0);",
           (long long)h, (long long)T0, so2, (long long)h, (long long)T0, flow, (long long)h, so2 * 60, so2 * 60,
           (long long)h, (long long)h, (long long)h, (long long)T0);
  sql(park, q);
}

/* Moves every outbox change to the regional database, batch by batch;
 * returns the batches sent. Each applied in a transaction, then acked. */
static int drain(int max, int64_t *last_upto) {
  struct ph_err err = {0};
  int batches = 0;
  for (int guard = 0; guard < 100; guard++) {
    int64_t seq;
    cr_assert_eq(ph_up_outbox_assign(pdb, max, &seq, &err), 0, "%s", err.msg);
    if (!seq) break;
    char *json;
    size_t len;
    int nrec;
    cr_assert_eq(ph_up_outbox_build(pdb, "hubp1", seq, T0, &json, &len, &nrec, &err), 0, "%s", err.msg);
    struct ph_up_result res;
    cr_assert_eq(ph_store_begin(reg, &err), 0);
    cr_assert_eq(ph_up_apply(reg, "p1", json, len, parks, 1, T0, &res, &err), 0, "%s", err.msg);
    cr_assert_eq(ph_store_commit(reg, &err), 0);
    int64_t deleted;
    cr_assert_eq(ph_up_outbox_ack(pdb, res.epoch, res.upto, &deleted, &err), 0, "%s", err.msg);
    *last_upto = res.upto;
    ph_free(json);
    batches++;
  }
  return batches;
}

/* The same rows on both sides, by natural key. */
static void assert_equal_tables(void) {
  sqlite3 *r = ph_store_db(reg);
  char q[512];
  snprintf(q, sizeof q, "ATTACH '%s' AS pk", park_path);
  cr_assert_eq(sqlite3_exec(r, q, NULL, NULL, NULL), SQLITE_OK);
  const char *diff =
      "SELECT count(*) FROM (SELECT p.park, p.ent, p.point, m.code, h.hour_ms, h.day_ms, h.kind, h.valid_minutes,"
      " h.mean, h.valid, h.limit_value FROM %s.cems_hours h JOIN %s.series s ON s.id = h.series_id"
      " JOIN %s.points p ON p.id = s.point_id JOIN %s.metrics m ON m.id = s.metric_id"
      " EXCEPT SELECT p.park, p.ent, p.point, m.code, h.hour_ms, h.day_ms, h.kind, h.valid_minutes,"
      " h.mean, h.valid, h.limit_value FROM %s.cems_hours h JOIN %s.series s ON s.id = h.series_id"
      " JOIN %s.points p ON p.id = s.point_id JOIN %s.metrics m ON m.id = s.metric_id)";
  for (int way = 0; way < 2; way++) {
    const char *a = way ? "main" : "pk", *b = way ? "pk" : "main";
    char big[2048];
    snprintf(big, sizeof big, diff, a, a, a, a, b, b, b, b);
    cr_assert_eq(count(r, big), 0, "cems_hours differ (%s minus %s)", a, b);
  }
  cr_assert_eq(count(r, "SELECT count(*) FROM main.cems_hours"), count(r, "SELECT count(*) FROM pk.cems_hours"));
  cr_assert_eq(count(r, "SELECT count(*) FROM (SELECT op, day_ms, hour_ms FROM main.cems_op_hours"
                        " EXCEPT SELECT op, day_ms, hour_ms FROM pk.cems_op_hours)"), 0);
  cr_assert_eq(count(r, "SELECT count(*) FROM (SELECT bucket_ms, n, n_valid, sum, sum_valid, min, max, first_ts,"
                        " first, last_ts, last, expected FROM main.rollups EXCEPT SELECT bucket_ms, n, n_valid, sum,"
                        " sum_valid, min, max, first_ts, first, last_ts, last, expected FROM pk.rollups)"), 0);
  cr_assert_eq(count(r, "SELECT count(*) FROM main.rollups"), count(r, "SELECT count(*) FROM pk.rollups"));
  cr_assert_eq(sqlite3_exec(r, "DETACH pk", NULL, NULL, NULL), SQLITE_OK);
}

TestSuite(hub_federation, .init = setup, .fini = teardown);

Test(hub_federation, nothing_is_queued_unless_forwarded) {
  park_series();
  write_hour(T0, 10, 1000); /* no upstream configured: the triggers write nothing */
  cr_assert_eq(count(pdb, "SELECT count(*) FROM up_outbox"), 0);
  forward_all();
  write_hour(T0 + HOUR, 10, 1000);
  cr_assert_gt(count(pdb, "SELECT count(*) FROM up_outbox"), 0);
}

Test(hub_federation, rows_reach_the_region_and_the_outbox_empties) {
  park_series();
  forward_all();
  for (int h = 0; h < 30; h++) write_hour(T0 + h * HOUR, 10 + h * 0.1, 1000 + h);
  sql(park, "INSERT INTO materials(point_id, ts_ms, material, dir, qty_t, lot, supplier, attrs, agent_id, epoch, seq)"
            " VALUES(1, 1767225600000, 'cathode_cu', 'out', 12.5, 'L1', NULL, '{\"cu_pct\":99.99}', 7, 3, 9)");
  int64_t upto = 0;
  int n = drain(7, &upto);
  cr_assert_gt(n, 3, "small batches: several of them (%d)", n);
  cr_assert_eq(upto, n, "the ack covers every batch");
  cr_assert_eq(count(pdb, "SELECT count(*) FROM up_outbox"), 0, "every change acked is deleted");
  assert_equal_tables();
  sqlite3 *r = ph_store_db(reg);
  cr_assert_eq(count(r, "SELECT count(*) FROM materials WHERE material = 'cathode_cu' AND dir = 'out' AND qty_t = 12.5"
                        " AND lot = 'L1' AND attrs = '{\"cu_pct\":99.99}' AND agent_id = 0"), 1);
  cr_assert_eq(count(r, "SELECT count(*) FROM agents"), 0, "a park hub is no agent of the region's");
}

Test(hub_federation, a_revision_replaces_and_a_replay_changes_nothing) {
  struct ph_err err = {0};
  park_series();
  forward_all();
  write_hour(T0, 10, 1000);
  int64_t seq, upto = 0;
  cr_assert_eq(ph_up_outbox_assign(pdb, 100, &seq, &err), 0);
  char *old;
  size_t old_len;
  int nrec;
  /* batch 1 built now (the first figure), applied only after the revision */
  cr_assert_eq(ph_up_outbox_build(pdb, "hubp1", seq, T0, &old, &old_len, &nrec, &err), 0, "%s", err.msg);
  cr_assert_gt(nrec, 0);
  write_hour(T0, 55.5, 1000); /* late data revised the closed hour */
  cr_assert_eq(drain(100, &upto), 1, "batch 2 only (batch 1 is in flight)");
  /* batch 1 arrives late: its seq is new to the region but its rows are older revisions */
  struct ph_up_result res;
  cr_assert_eq(ph_store_begin(reg, &err), 0);
  cr_assert_eq(ph_up_apply(reg, "p1", old, old_len, parks, 1, T0, &res, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_store_commit(reg, &err), 0);
  cr_assert_eq(res.applied, 0, "older revisions never replace newer ones");
  cr_assert_eq(res.stale, res.records);
  cr_assert_eq(res.upto, 2);
  /* and once more: a duplicate */
  cr_assert_eq(ph_store_begin(reg, &err), 0);
  cr_assert_eq(ph_up_apply(reg, "p1", old, old_len, parks, 1, T0, &res, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_store_commit(reg, &err), 0);
  cr_assert(res.duplicate);
  ph_free(old);
  cr_assert_eq(count(ph_store_db(reg), "SELECT count(*) FROM cems_hours WHERE mean = 55.5"), 1);
  assert_equal_tables();
}

Test(hub_federation, exceedances_travel_by_period_and_bucket) {
  park_series();
  forward_all();
  sql(park, "INSERT INTO exceedances(series_id, period, bucket_ms, mean, converted, ratio, limit_value, standard,"
            " recorded_ms) VALUES(1, 1, 1767225600000, 180, 180, NULL, 150, 'gb31574-2015', 5),"
            " (1, 2, 1767225600000, 160, 170, 1.1, 150, 'gb31574-2015', 6)");
  sql(park, "UPDATE exceedances SET mean = 190 WHERE period = 1");
  int64_t upto;
  drain(100, &upto);
  sqlite3 *r = ph_store_db(reg);
  cr_assert_eq(count(r, "SELECT count(*) FROM exceedances"), 2);
  cr_assert_eq(count(r, "SELECT count(*) FROM exceedances WHERE period = 1 AND mean = 190 AND recorded_ms = 5"), 1);
  cr_assert_eq(count(r, "SELECT count(*) FROM exceedances WHERE period = 2 AND converted = 170 AND ratio = 1.1"), 1);
  sql(park, "DELETE FROM exceedances WHERE period = 2"); /* no longer exceeded after late data */
  drain(100, &upto);
  cr_assert_eq(count(r, "SELECT count(*) FROM exceedances"), 1);
}

Test(hub_federation, a_deleted_row_is_deleted_upstream) {
  park_series();
  forward_all();
  write_hour(T0, 10, 1000);
  sql(park, "DELETE FROM cems_op_hours");
  int64_t upto;
  drain(100, &upto);
  cr_assert_eq(count(ph_store_db(reg), "SELECT count(*) FROM cems_op_hours"), 0);
  assert_equal_tables();
}

Test(hub_federation, hostile_batches_are_refused_with_a_reason) {
  struct ph_err err = {0};
  struct ph_up_result res;
  const char *bad[] = {
      "not json",
      "{\"v\":2,\"agent\":\"h\",\"epoch\":1,\"seq\":1,\"oldest\":1,\"records\":[]}",
      "{\"v\":1,\"agent\":\"H!\",\"epoch\":1,\"seq\":1,\"oldest\":1,\"records\":[]}",
      "{\"v\":1,\"agent\":\"h\",\"epoch\":1,\"seq\":1,\"oldest\":2,\"records\":[]}",
      "{\"v\":1,\"agent\":\"h\",\"epoch\":1,\"seq\":9999999,\"oldest\":1,\"records\":[]}",
      "{\"v\":1,\"agent\":\"h\",\"epoch\":1,\"seq\":1,\"oldest\":1,\"records\":[{\"rev\":1,\"t\":\"nope\",\"k\":[],\"v\":null}]}",
      "{\"v\":1,\"agent\":\"h\",\"epoch\":1,\"seq\":1,\"oldest\":1,\"records\":[{\"rev\":1,\"t\":\"cems_op_hours\","
      "\"k\":[\"p9\",\"e1\",\"s1\",1],\"v\":null}]}",
      "{\"v\":1,\"agent\":\"h\",\"epoch\":1,\"seq\":1,\"oldest\":1,\"records\":[{\"rev\":1,\"t\":\"cems_op_hours\","
      "\"k\":[\"p1\",\"e1\",\"s1\",1],\"v\":[1]}]}",
      /* an alarm: a row id out of range; a null where the table needs a value */
      "{\"v\":1,\"agent\":\"h\",\"epoch\":1,\"seq\":1,\"oldest\":1,\"records\":[{\"rev\":1,\"t\":\"alarm_log\","
      "\"k\":[\"p1\",1,0],\"v\":[1,\"raised\",\"active_unacked\",null,null]}]}",
      "{\"v\":1,\"agent\":\"h\",\"epoch\":1,\"seq\":1,\"oldest\":1,\"records\":[{\"rev\":1,\"t\":\"alarm_log\","
      "\"k\":[\"p1\",1,2],\"v\":[null,\"raised\",\"active_unacked\",null,null]}]}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_assert_eq(ph_store_begin(reg, &err), 0);
    int rc = ph_up_apply(reg, "p1", bad[i], strlen(bad[i]), parks, 1, T0, &res, &err);
    ph_store_rollback(reg);
    cr_assert_lt(rc, 0, "refused: %s", bad[i]);
    cr_assert_neq(rc, PH_EDB, "a refusal, not a database failure to retry: %s", bad[i]);
    cr_assert_gt(strlen(err.msg), 0);
  }
  cr_assert_lt(ph_up_apply(reg, "p2", "{}", 2, parks, 1, T0, &res, &err), 0, "a park not served");
  /* a bad record in a readable batch: skipped so the sender moves on */
  const char *b = bad[7];
  cr_assert_eq(ph_store_begin(reg, &err), 0);
  cr_assert_lt(ph_up_apply(reg, "p1", b, strlen(b), parks, 1, T0, &res, &err), 0);
  ph_store_rollback(reg);
  cr_assert(res.ackable);
  int64_t upto = 0;
  cr_assert_eq(ph_store_begin(reg, &err), 0);
  cr_assert_eq(ph_up_skip(reg, &res, T0, &upto), 0);
  cr_assert_eq(ph_store_commit(reg, &err), 0);
  cr_assert_eq(upto, 1);
  cr_assert_eq(count(ph_store_db(reg), "SELECT count(*) FROM cems_op_hours"), 0);
}

Test(hub_federation, an_ack_of_another_epoch_or_beyond_changes_nothing) {
  struct ph_err err = {0};
  park_series();
  forward_all();
  write_hour(T0, 10, 1000);
  int64_t seq, deleted;
  cr_assert_eq(ph_up_outbox_assign(pdb, 100, &seq, &err), 0);
  cr_assert_eq(ph_up_outbox_ack(pdb, 42, seq, &deleted, &err), 0);
  cr_assert_eq(deleted, 0);
  cr_assert_eq(ph_up_outbox_ack(pdb, 1767225600, seq + 1, &deleted, &err), 0);
  cr_assert_eq(deleted, 0);
  cr_assert_eq(ph_up_outbox_ack(pdb, 1767225600, seq, &deleted, &err), 0);
  cr_assert_gt(deleted, 0);
}

Test(hub_federation, the_config_names_every_forwarded_table) {
  int n = 0;
  for (; ph_upstream_tables[n]; n++)
    cr_assert_geq(ph_up_kind_find(ph_upstream_tables[n]), 0, "%s has no reader", ph_upstream_tables[n]);
  cr_assert_eq(n, PH_UP_NKINDS, "upstream.forward lists %d tables, federation knows %d", n, PH_UP_NKINDS);
}

/* The schema's examples (tests/data/schemas/up-batch/): the valid ones
 * apply, the invalid ones are refused — schema and code agree. */
Test(hub_federation, the_schema_examples_agree_with_the_code) {
  const char *src = getenv("PH_SOURCE_DIR");
  cr_assert_not_null(src, "PH_SOURCE_DIR is not set");
  static const char *const files[] = {"valid-revisions.json", "valid-empty.json", "invalid-table.json",
                                      "invalid-no-rev.json", "invalid-agent.json", "invalid-version.json"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    char path[1024], buf[8192];
    snprintf(path, sizeof path, "%s/tests/data/schemas/up-batch/%s", src, files[i]);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    struct ph_err err = {0};
    struct ph_up_result res;
    cr_assert_eq(ph_store_begin(reg, &err), 0);
    int rc = ph_up_apply(reg, "p1", buf, len, parks, 1, T0, &res, &err);
    ph_store_rollback(reg);
    if (files[i][0] == 'v') cr_assert_eq(rc, 0, "%s: %s", files[i], err.msg);
    else cr_assert_lt(rc, 0, "%s is refused", files[i]);
  }
}

/* The alarm tables on both sides and the park hub's triggers on them, as
 * hub.c makes them (build_alarms). */
static void alarm_tables(void) {
  struct ph_err err = {0};
  cr_assert_eq(ph_alarms_migrate(ph_store_db(park), &err), 0, "%s", err.msg);
  cr_assert_eq(ph_alarms_migrate(ph_store_db(reg), &err), 0, "%s", err.msg);
  cr_assert_eq(ph_up_triggers(ph_store_db(park), &err), 0, "%s", err.msg);
  cr_assert_eq(ph_up_triggers(ph_store_db(reg), &err), 0, "%s", err.msg);
}

/* An alarm raised, acknowledged and cleared, as alarms.c writes it. */
static void park_alarm(int64_t id, const char *ent) {
  char q[2048];
  snprintf(q, sizeof q,
           "INSERT INTO alarms(id, alarm_id, park, rule, ent, point, metric, severity, state, message, first_ms,"
           " last_ms, count, value, peak, raised_ms, message_zh) VALUES(%lld, 'a-20260101-%06lld', 'p1', 'so2_high',"
           " '%s', 's1', 'so2', 'major', 'active_unacked', 'so2 high', %lld, %lld, 1, 120, 120, %lld, 'so2 高');"
           "INSERT INTO alarm_occurrences(alarm, park, rule, ent, point, metric, severity, start_ms, last_ms, count,"
           " value, peak) VALUES(%lld, 'p1', 'so2_high', '%s', 's1', 'so2', 'major', %lld, %lld, 1, 120, 120);"
           "INSERT INTO alarm_log(alarm, ts_ms, transition, state) VALUES(%lld, %lld, 'raised', 'active_unacked');"
           "UPDATE alarms SET state = 'active_acked', acked_by = 'ops', acked_ms = %lld, note = 'seen' WHERE id = %lld;"
           "INSERT INTO alarm_log(alarm, ts_ms, transition, state, by, note)"
           " VALUES(%lld, %lld, 'acked', 'active_acked', 'ops', 'seen');",
           (long long)id, (long long)id, ent, (long long)T0, (long long)T0, (long long)T0, (long long)id, ent,
           (long long)T0, (long long)T0, (long long)id, (long long)T0, (long long)(T0 + 60000), (long long)id,
           (long long)id, (long long)(T0 + 60000));
  sql(park, q);
}

/* Every outbox change in one batch, applied as sent by sender. */
static void send_as(const char *sender, int64_t seq) {
  struct ph_err err = {0};
  char *json;
  size_t len;
  int nrec;
  cr_assert_eq(ph_up_outbox_build(pdb, sender, seq, T0, &json, &len, &nrec, &err), 0, "%s", err.msg);
  cr_assert_gt(nrec, 0);
  struct ph_up_result res;
  cr_assert_eq(ph_store_begin(reg, &err), 0);
  cr_assert_eq(ph_up_apply(reg, "p1", json, len, parks, 1, T0, &res, &err), 0, "%s", err.msg);
  cr_assert_eq(res.applied, res.records, "%s: %d of %d applied", sender, res.applied, res.records);
  cr_assert_eq(ph_store_commit(reg, &err), 0);
  ph_free(json);
}

/* The park hub's rows of the three alarm tables and the regional copies
 * (the columns a listing or a log shows, the alarm by its alarm_id). */
#define ALARM_COLS "alarm_id, park, rule, ent, point, metric, severity, state, message, first_ms, last_ms, count," \
                   " value, peak, acked_by, acked_ms, note, raised_ms, cleared_ms, closed_ms, message_zh"
#define LOG_ROWS(A, L) "SELECT a.alarm_id, l.ts_ms, l.transition, l.state, l.by, l.note FROM " L " l JOIN " A " a ON a.id = l.alarm"
#define OCC_ROWS(A, O) "SELECT a.alarm_id, o.start_ms, o.last_ms, o.end_ms, o.count, o.value, o.peak FROM " O " o JOIN " A " a ON a.id = o.alarm"

Test(hub_federation, alarms_of_two_park_hubs_reach_the_region_apart_and_equal) {
  struct ph_err err = {0};
  alarm_tables();
  forward_all();
  park_alarm(1, "e1");
  park_alarm(2, "e2");
  sql(park, "INSERT INTO stack_tests(park, ent, day, date, by, entered_ms) VALUES('p1', 'e1', 20400, '2025-11-08', 'admin', 1)");
  cr_assert_eq(count(pdb, "SELECT count(DISTINCT kind) FROM up_outbox"), 4, "alarms, occurrences, log, test dates");
  int64_t seq;
  cr_assert_eq(ph_up_outbox_assign(pdb, 256, &seq, &err), 0, "%s", err.msg);
  /* the same rows from two park hubs (each numbers its alarms from 1):
   * two copies, never one overwriting the other (up_rows.c inv. 5) */
  send_as("hubp1", seq);
  send_as("hubp2", seq);
  sqlite3 *r = ph_store_db(reg);
  cr_assert_eq(count(r, "SELECT count(*) FROM up_alarms"), 4);
  cr_assert_eq(count(r, "SELECT count(DISTINCT id) FROM up_alarms"), 4);
  cr_assert_eq(count(r, "SELECT count(*) FROM up_alarm_log"), 8);
  cr_assert_eq(count(r, "SELECT count(*) FROM alarms"), 0, "the region's own alarm table stays its own");
  char q[1024];
  snprintf(q, sizeof q, "ATTACH '%s' AS pk", park_path);
  cr_assert_eq(sqlite3_exec(r, q, NULL, NULL, NULL), SQLITE_OK);
  /* per sender the copies equal the park hub's rows, each occurrence and
   * log row under its own alarm */
  for (int k = 1; k <= 2; k++) {
    snprintf(q, sizeof q,
             "SELECT count(*) FROM (SELECT " ALARM_COLS " FROM pk.alarms EXCEPT SELECT " ALARM_COLS " FROM main.up_alarms"
             " WHERE id %% 65536 = (SELECT no FROM up_sender_nos WHERE sender = 'hubp%d'))", k);
    cr_assert_eq(count(r, q), 0, "hubp%d's alarms", k);
  }
  cr_assert_eq(count(r, "SELECT count(*) FROM (" LOG_ROWS("pk.alarms", "pk.alarm_log") " EXCEPT "
                        LOG_ROWS("main.up_alarms", "main.up_alarm_log") ")"), 0);
  cr_assert_eq(count(r, "SELECT count(*) FROM (" OCC_ROWS("pk.alarms", "pk.alarm_occurrences") " EXCEPT "
                        OCC_ROWS("main.up_alarms", "main.up_alarm_occurrences") ")"), 0);
  cr_assert_eq(count(r, "SELECT count(*) FROM (SELECT u.alarm_id FROM up_alarm_log l JOIN up_alarms u ON u.id = l.alarm"
                        " GROUP BY l.alarm HAVING count(*) <> 2)"), 0, "two log rows under each copy");
  cr_assert_eq(count(r, "SELECT count(*) FROM stack_tests WHERE park = 'p1' AND ent = 'e1' AND day = 20400"), 2);
  cr_assert_eq(sqlite3_exec(r, "DETACH pk", NULL, NULL, NULL), SQLITE_OK);
  /* a later transition replaces the copy of that sender only */
  sql(park, "UPDATE alarms SET state = 'closed', closed_ms = 5 WHERE id = 1");
  cr_assert_eq(ph_up_outbox_assign(pdb, 256, &seq, &err), 0, "%s", err.msg);
  send_as("hubp1", seq);
  cr_assert_eq(count(r, "SELECT count(*) FROM up_alarms WHERE state = 'closed'"), 1);
  cr_assert_eq(count(r, "SELECT count(*) FROM up_alarms WHERE alarm_id = 'a-20260101-000001'"), 2);
}

Test(hub_federation, a_version_9_database_gets_migrations_10_to_12_and_the_alarm_triggers) {
  struct ph_err err = {0};
  alarm_tables();
  /* what a version-9 park hub's database looks like */
  sql(park, "DROP TABLE up_sender_nos; DROP TABLE up_alarms; DROP TABLE up_alarm_occurrences; DROP TABLE up_alarm_log;"
            " DROP TABLE up_agent_status; DROP TABLE up_agent_events;"
            " DROP TABLE cems_agg_months; DROP TABLE cems_day_months; PRAGMA user_version = 9");
  sqlite3_stmt *st;
  cr_assert_eq(sqlite3_prepare_v2(ph_store_db(park), "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                                  " AND tbl_name IN ('alarms', 'alarm_occurrences', 'alarm_log', 'stack_tests',"
                                  " 'agents', 'agent_status', 'agent_events')",
                                  -1, &st, NULL), SQLITE_OK);
  while (sqlite3_step(st) == SQLITE_ROW) {
    char q[200];
    snprintf(q, sizeof q, "DROP TRIGGER %s", (const char *)sqlite3_column_text(st, 0));
    cr_assert_eq(sqlite3_exec(pdb, q, NULL, NULL, NULL), SQLITE_OK, "%s", q);
  }
  sqlite3_finalize(st);
  cr_assert_eq(count(pdb, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'alarms'"), 0);
  ph_store_close(park);
  cr_assert_eq(ph_store_open(park_path, &park, &err), 0, "%s", err.msg);
  cr_assert_eq(count(ph_store_db(park), "PRAGMA user_version"), PH_STORE_VERSION);
  cr_assert_eq(count(ph_store_db(park), "SELECT count(*) FROM up_alarms"), 0, "migration 10's tables");
  cr_assert_eq(count(ph_store_db(park), "SELECT count(*) FROM up_agent_status"), 0, "migration 11's tables");
  cr_assert_eq(count(pdb, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN"
                          " ('agents', 'agent_status', 'agent_events')"), 7, "migration 11's triggers");
  /* the hub's start (hub.c build_alarms) */
  cr_assert_eq(ph_alarms_migrate(ph_store_db(park), &err), 0, "%s", err.msg);
  cr_assert_eq(ph_up_triggers(ph_store_db(park), &err), 0, "%s", err.msg);
  cr_assert_eq(ph_up_triggers(ph_store_db(park), &err), 0, "twice: %s", err.msg);
  cr_assert_eq(count(pdb, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN"
                          " ('alarms', 'alarm_occurrences', 'alarm_log', 'stack_tests')"), 12);
  /* an alarm the v9 hub raised before: queued once when forwarding starts */
  park_alarm(1, "e1");
  cr_assert_eq(count(pdb, "SELECT count(*) FROM up_outbox"), 0, "nothing forwarded yet");
  forward_all();
  cr_assert_eq(count(pdb, "SELECT count(*) FROM up_outbox WHERE kind = 'alarms'"), 1, "the alarm as it is");
  cr_assert_eq(count(pdb, "SELECT count(*) FROM up_outbox WHERE kind = 'alarm_log' AND c = 'p1'"), 2);
  forward_all(); /* the next start: already forwarded, nothing queued again */
  cr_assert_eq(count(pdb, "SELECT count(*) FROM up_outbox"), 4, "alarm, occurrence, two log rows");
  park_alarm(2, "e2"); /* from now on through the triggers */
  cr_assert_eq(count(pdb, "SELECT count(*) FROM up_outbox WHERE kind = 'alarms' AND a = 2"), 2, "the raise and the ack");
  cr_assert_eq(count(pdb, "SELECT count(*) FROM up_outbox WHERE kind = 'alarm_log' AND a = 2 AND c = 'p1'"), 2);
}

/* Rows of API_SQL_AGENTS (the agent listing) for p1 on db, one text. */
static void agent_rows(sqlite3 *db, char *out, size_t cap) {
  sqlite3_stmt *st;
  cr_assert_eq(sqlite3_prepare_v2(db, API_SQL_AGENTS, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
  sqlite3_bind_text(st, 1, "p1", -1, SQLITE_STATIC);
  size_t n = 0;
  out[0] = 0;
  while (sqlite3_step(st) == SQLITE_ROW && n < cap)
    n += (size_t)snprintf(out + n, cap - n, "%s|%s|%s|%lld|%s;", sqlite3_column_text(st, 0),
                          sqlite3_column_text(st, 1),
                          sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "-",
                          (long long)sqlite3_column_int64(st, 3),
                          sqlite3_column_text(st, 4) ? (const char *)sqlite3_column_text(st, 4) : "-");
  sqlite3_finalize(st);
}

/* Agent presence (issue #21): an agent with its status and events, and one
 * met but with no status yet, read on the regional hub through the API's
 * views (API_SQL_REGIONAL_VIEWS) exactly as the park hub lists them. */
Test(hub_federation, agent_presence_reaches_the_region_as_the_park_hub_lists_it) {
  int64_t a1, a2, upto = 0;
  int changed;
  forward_all();
  cr_assert_eq(ph_store_agent_id(park, "p1", "e1", "gw-a", &a1), 0);
  cr_assert_eq(ph_store_status(park, a1, "online", T0, 3, "{\"state\":\"online\"}", &changed), 0);
  cr_assert_eq(ph_store_event(park, a1, T0, "online", NULL), 0);
  cr_assert_eq(ph_store_agent_id(park, "p1", "e2", "gw-b", &a2), 0); /* met by a batch, no status yet */
  cr_assert_gt(drain(256, &upto), 0);
  sqlite3 *r = NULL;
  cr_assert_eq(sqlite3_open_v2(reg_path, &r, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  cr_assert_eq(sqlite3_exec(r, API_SQL_REGIONAL_VIEWS, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(r));
  char here[512], there[512];
  agent_rows(pdb, here, sizeof here);
  agent_rows(r, there, sizeof there);
  cr_assert_str_eq(there, here);
  cr_assert_str_eq(here, "e1|gw-a|online|1767225600000|3;e2|gw-b|-|0|-;");
  /* the agent goes offline: the copy follows, still one row per agent */
  cr_assert_eq(ph_store_status(park, a1, "offline", T0 + 60000, -1, NULL, &changed), 0);
  cr_assert_eq(ph_store_event(park, a1, T0 + 60000, "offline", "will"), 0);
  cr_assert_gt(drain(256, &upto), 0);
  agent_rows(pdb, here, sizeof here);
  agent_rows(r, there, sizeof there);
  cr_assert_str_eq(there, here);
  cr_assert_str_eq(here, "e1|gw-a|offline|1767225660000|-;e2|gw-b|-|0|-;");
  cr_assert_eq(count(r, "SELECT count(*) FROM main.up_agent_status"), 2);
  cr_assert_eq(count(r, "SELECT count(*) FROM main.agents"), 0, "the region's own agents table stays its own");
  /* the events, each under its agent, in the park hub's order */
  cr_assert_eq(count(r, "SELECT count(*) FROM agent_events e JOIN agents a ON a.id = e.agent_id"
                        " WHERE a.agent = 'gw-a'"), 2);
  cr_assert_eq(count(r, "SELECT count(*) FROM (SELECT event FROM agent_events ORDER BY id LIMIT 1)"
                        " WHERE event = 'online'"), 1);
  cr_assert_eq(count(r, "SELECT count(*) FROM agent_events WHERE event = 'offline' AND detail = 'will'"), 1);
  sqlite3_close(r);
}

Test(hub_federation, agents_met_before_forwarding_are_queued_once) {
  int64_t a1;
  int changed;
  cr_assert_eq(ph_store_agent_id(park, "p1", "e1", "gw-a", &a1), 0);
  cr_assert_eq(ph_store_status(park, a1, "online", T0, 0, NULL, &changed), 0);
  cr_assert_eq(ph_store_event(park, a1, T0, "online", NULL), 0);
  cr_assert_eq(count(pdb, "SELECT count(*) FROM up_outbox"), 0, "nothing forwarded yet");
  forward_all();
  cr_assert_eq(count(pdb, "SELECT count(*) FROM up_outbox WHERE kind = 'agent_status' AND a = 1"), 1);
  cr_assert_eq(count(pdb, "SELECT count(*) FROM up_outbox WHERE kind = 'agent_events' AND a = 1"), 1);
  forward_all(); /* the next start: nothing queued again */
  cr_assert_eq(count(pdb, "SELECT count(*) FROM up_outbox"), 2);
}

/* One upward batch of hubp1 with one alarm record, applied. */
static void apply_alarm(int64_t epoch, int64_t seq, int64_t id, const char *alarm_id, const char *state) {
  char json[1024];
  snprintf(json, sizeof json,
           "{\"v\":1,\"agent\":\"hubp1\",\"epoch\":%lld,\"seq\":%lld,\"oldest\":1,\"records\":[{\"rev\":%lld,"
           "\"t\":\"alarms\",\"k\":[\"p1\",%lld],\"v\":[\"%s\",\"so2_high\",\"e1\",\"s1\",\"so2\",\"major\",\"%s\","
           "\"so2 high\",%lld,%lld,1,120,120,null,null,null,%lld,null,null,\"so2 高\"]}]}",
           (long long)epoch, (long long)seq, (long long)seq, (long long)id, alarm_id, state, (long long)T0,
           (long long)T0, (long long)T0);
  struct ph_err err = {0};
  struct ph_up_result res;
  cr_assert_eq(ph_store_begin(reg, &err), 0);
  cr_assert_eq(ph_up_apply(reg, "p1", json, strlen(json), parks, 1, T0, &res, &err), 0, "%s", err.msg);
  cr_assert_eq(res.applied, 1, "%s", json);
  cr_assert_eq(ph_store_commit(reg, &err), 0);
}

/* A park hub whose database was made anew (a new outbox epoch) numbers its
 * alarms from 1 again: its new alarm 1 is a copy of its own, and the copies
 * of the old database's alarms stay as they last were (up_rows.c inv. 5). */
Test(hub_federation, a_park_hub_made_anew_never_overwrites_its_old_alarm_copies) {
  sqlite3 *r = ph_store_db(reg);
  apply_alarm(100, 1, 1, "a-20260101-000001", "active_unacked");
  apply_alarm(100, 2, 2, "a-20260101-000002", "active_unacked");
  apply_alarm(200, 1, 1, "a-20261201-000001", "active_unacked"); /* the new database's first alarm */
  cr_assert_eq(count(r, "SELECT count(*) FROM up_alarms"), 3);
  cr_assert_eq(count(r, "SELECT count(*) FROM up_alarms WHERE alarm_id = 'a-20260101-000001'"), 1, "the old alarm 1");
  cr_assert_eq(count(r, "SELECT count(*) FROM up_alarms WHERE alarm_id = 'a-20261201-000001'"), 1, "the new alarm 1");
  cr_assert_eq(count(r, "SELECT count(DISTINCT id % 65536) FROM up_alarms"), 2, "one number per epoch");
  apply_alarm(200, 2, 1, "a-20261201-000001", "closed"); /* the new one's later state: its own copy only */
  cr_assert_eq(count(r, "SELECT count(*) FROM up_alarms WHERE state = 'closed'"), 1);
  cr_assert_eq(count(r, "SELECT count(*) FROM up_alarms WHERE alarm_id = 'a-20260101-000001' AND state = 'closed'"), 0);
}

/* A version-10 regional hub's numbers (one per park hub) go to each
 * sender's latest epoch: the copies it holds stay under their ids. */
Test(hub_federation, migration_11_keeps_a_version_10_senders_numbers) {
  struct ph_err err = {0};
  apply_alarm(100, 1, 1, "a-20260101-000001", "active_unacked");
  int64_t id = count(ph_store_db(reg), "SELECT id FROM up_alarms");
  sql(reg, "CREATE TABLE up_senders(sender TEXT PRIMARY KEY, no INTEGER NOT NULL UNIQUE) WITHOUT ROWID;"
           " INSERT INTO up_senders SELECT sender, no FROM up_sender_nos; DROP TABLE up_sender_nos;"
           " DROP TABLE cems_agg_months; DROP TABLE cems_day_months; PRAGMA user_version = 10");
  ph_store_close(reg);
  cr_assert_eq(ph_store_open(reg_path, &reg, &err), 0, "%s", err.msg);
  cr_assert_eq(count(ph_store_db(reg), "SELECT count(*) FROM sqlite_master WHERE name = 'up_senders'"), 0);
  apply_alarm(100, 2, 1, "a-20260101-000001", "closed");
  cr_assert_eq(count(ph_store_db(reg), "SELECT count(*) FROM up_alarms"), 1, "the same copy, updated");
  cr_assert_eq(count(ph_store_db(reg), "SELECT id FROM up_alarms WHERE state = 'closed'"), id);
}
