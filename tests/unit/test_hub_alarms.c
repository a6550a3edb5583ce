/* test_hub_alarms.c — the alarm lifecycle in SQLite (alarms.c), its wire
 * formats (alarms_json.c), and the rules engine driving it across a
 * restart (reopen the database, reload: open alarms stay, nothing is
 * raised twice).
 */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alarms/alarms.h"
#include "ingest/ack_cmd.h"
#include "parkhub/alloc.h"
#include "alarms/rules.h"
#include "store/store.h"
#include "parkhub/timefmt.h"

#define T0 1795399200000LL /* 2026-11-23T02:00:00Z */
#define S 1000LL

static sqlite3 *db;
static struct ph_alarms *al;
static struct ph_alarm_msg *msgs;
static int nmsgs;

static void capture(void *ctx, const struct ph_alarm_msg *m) {
  (void)ctx;
  cr_assert_lt(nmsgs, 2000);
  msgs[nmsgs++] = *m;
}

static struct ph_alarms *open_alarms(sqlite3 *d) {
  struct ph_err err = {0};
  struct ph_alarms_conf c = {.db = d, .emit = capture, .refresh_ms = 60000};
  struct ph_alarms *a;
  cr_assert_eq(ph_alarms_migrate(d, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_alarms_new(&c, &a, &err), 0, "%s", err.msg);
  return a;
}

static void setup(void) {
  msgs = ph_calloc(2000, sizeof *msgs);
  nmsgs = 0;
  cr_assert_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
  al = open_alarms(db);
}
static void teardown(void) {
  ph_alarms_free(al);
  sqlite3_close(db);
  ph_free(msgs);
}
TestSuite(alarms, .init = setup, .fini = teardown);

static void render(const struct ph_alarm_event *ev, enum ph_lang lang, char *buf, size_t cap) {
  if (lang == PH_LANG_EN)
    snprintf(buf, cap, "%s/%s: so2 %g mg/Nm3 above 150 mg/Nm3", ev->key.ent, ev->key.point, ev->value);
  else
    snprintf(buf, cap, "%s/%s：二氧化硫 %g mg/m³，超过限值 150 mg/m³", ev->key.ent, ev->key.point, ev->value);
}

static struct ph_alarm_event event(const char *rule, const char *point, int64_t ts, double v) {
  return (struct ph_alarm_event){.key = {"p1", rule, "cu-old", point}, .metric = "so2", .severity = PH_SEV_MAJOR,
                                 .ts_ms = ts, .since_ms = ts, .has_value = true, .value = v,
                                 .worse = PH_WORSE_HIGHER, .render = render};
}

static int64_t q1(const char *sql) {
  sqlite3_stmt *s;
  cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
  cr_assert_eq(sqlite3_step(s), SQLITE_ROW, "%s", sql);
  int64_t v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

static const char *qs(const char *sql) {
  static char buf[1200];
  sqlite3_stmt *s;
  cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK, "%s", sql);
  cr_assert_eq(sqlite3_step(s), SQLITE_ROW, "%s", sql);
  snprintf(buf, sizeof buf, "%s", sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0) : "(null)");
  sqlite3_finalize(s);
  return buf;
}

Test(alarms, migrate_twice_is_harmless) {
  struct ph_err err = {0};
  cr_assert_eq(ph_alarms_migrate(db, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_alarms_migrate(db, &err), 0, "%s", err.msg);
}

/* A database made before the Chinese message gets the column (empty for the old rows). */
Test(alarms, an_older_alarms_table_gets_message_zh) {
  sqlite3 *old;
  struct ph_err err = {0};
  cr_assert_eq(sqlite3_open(":memory:", &old), SQLITE_OK);
  cr_assert_eq(sqlite3_exec(old,
                            "CREATE TABLE alarms(id INTEGER PRIMARY KEY, alarm_id TEXT NOT NULL UNIQUE,"
                            " park TEXT NOT NULL, rule TEXT NOT NULL, ent TEXT NOT NULL, point TEXT NOT NULL DEFAULT '',"
                            " metric TEXT NOT NULL DEFAULT '', severity TEXT NOT NULL, state TEXT NOT NULL,"
                            " message TEXT NOT NULL, first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL,"
                            " count INTEGER NOT NULL, value REAL, peak REAL, acked_by TEXT, acked_ms INTEGER,"
                            " note TEXT, raised_ms INTEGER NOT NULL, cleared_ms INTEGER, closed_ms INTEGER);"
                            "INSERT INTO alarms(alarm_id, park, rule, ent, severity, state, message, first_ms, last_ms,"
                            " count, raised_ms) VALUES('a-1', 'p1', 'r', 'e', 'major', 'closed', 'old', 1, 1, 1, 1)",
                            NULL, NULL, NULL),
               SQLITE_OK);
  cr_assert_eq(ph_alarms_migrate(old, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_alarms_migrate(old, &err), 0, "twice: %s", err.msg);
  sqlite3_stmt *s;
  cr_assert_eq(sqlite3_prepare_v2(old, "SELECT message, message_zh FROM alarms", -1, &s, NULL), SQLITE_OK);
  cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
  cr_assert_str_eq((const char *)sqlite3_column_text(s, 0), "old");
  cr_assert_str_eq((const char *)sqlite3_column_text(s, 1), "", "an old alarm has no Chinese sentence, not a made-up one");
  sqlite3_finalize(s);
  sqlite3_close(old);
}

Test(alarms, raise_update_clear_ack_close) {
  struct ph_err err = {0};
  struct ph_alarm_event ev = event("so2_lim", "stack-1", T0, 160);
  cr_assert_eq(ph_alarms_begin(al, &err), 0);
  cr_assert_eq(ph_alarms_raise(al, &ev), 0);
  cr_assert_eq(nmsgs, 0, "nothing leaves before the commit");
  for (int i = 1; i <= 5; i++) {
    ev = event("so2_lim", "stack-1", T0 + i * S, 160 + i * 10);
    cr_assert_eq(ph_alarms_raise(al, &ev), 0);
  }
  ev = event("so2_lim", "stack-1", T0 + 6 * S, 155);
  cr_assert_eq(ph_alarms_raise(al, &ev), 0);
  cr_assert_eq(ph_alarms_commit(al, T0 + 7 * S, &err), 0, "%s", err.msg);
  cr_assert_eq(nmsgs, 1, "one transition; the updates are not transitions");
  cr_assert_eq(msgs[0].kind, PH_AM_TRANSITION);
  cr_assert_eq(msgs[0].transition, PH_AT_RAISED);
  const struct ph_alarm *a = &msgs[0].alarm;
  cr_assert_str_eq(a->alarm_id, "a-20261123-000001");
  cr_assert_str_eq(a->message, "cu-old/stack-1: so2 160 mg/Nm3 above 150 mg/Nm3");
  cr_assert_str_eq(a->message_zh, "cu-old/stack-1：二氧化硫 160 mg/m³，超过限值 150 mg/m³", "both languages rendered");
  char id[64];
  strcpy(id, a->alarm_id);
  cr_assert_str_eq(qs("SELECT state FROM alarms"), "active_unacked");
  cr_assert_eq(q1("SELECT count FROM alarms"), 7);
  cr_assert_eq(q1("SELECT peak FROM alarms"), 210);
  cr_assert_eq(q1("SELECT value FROM alarms"), 155);
  cr_assert_eq(q1("SELECT last_ms FROM alarms"), T0 + 6 * S);
  cr_assert_eq(q1("SELECT count(*) FROM alarm_occurrences"), 1);
  cr_assert_eq(q1("SELECT count FROM alarm_occurrences"), 7);
  cr_assert_eq(ph_alarms_state(al, &ev.key), PH_ALARM_ACTIVE);
  /* clear → cleared_unacked, the occurrence ends */
  ev = event("so2_lim", "stack-1", T0 + 10 * S, 120);
  cr_assert_eq(ph_alarms_clear(al, &ev), 0);
  cr_assert_eq(nmsgs, 2);
  cr_assert_eq(msgs[1].transition, PH_AT_CLEARED);
  cr_assert_eq(msgs[1].alarm.state, PH_AS_CLEARED_UNACKED);
  cr_assert_eq(q1("SELECT end_ms FROM alarm_occurrences"), T0 + 10 * S);
  cr_assert_eq(ph_alarms_state(al, &ev.key), PH_ALARM_CLEARED);
  /* ack of another park's alarm id: not found */
  cr_assert_eq(ph_alarms_ack(al, "p2", id, "wang.li", NULL, T0 + 20 * S, &err), PH_ENOTFOUND);
  cr_assert_eq(ph_alarms_ack(al, "p1", "a-nope", "wang.li", NULL, T0 + 20 * S, &err), PH_ENOTFOUND);
  /* ack → closed */
  cr_assert_eq(ph_alarms_ack(al, "p1", id, "wang.li", "quench pump restarted", T0 + 20 * S, &err), 0, "%s", err.msg);
  cr_assert_eq(nmsgs, 3);
  cr_assert_eq(msgs[2].transition, PH_AT_ACKED);
  cr_assert_eq(msgs[2].alarm.state, PH_AS_CLOSED);
  cr_assert_str_eq(msgs[2].alarm.acked_by, "wang.li");
  cr_assert_str_eq(qs("SELECT state FROM alarms"), "closed");
  cr_assert_eq(q1("SELECT closed_ms FROM alarms"), T0 + 20 * S);
  cr_assert_eq(ph_alarms_state(al, &ev.key), PH_ALARM_NONE);
  cr_assert_eq(q1("SELECT count(*) FROM alarm_log"), 3);
  cr_assert_str_eq(qs("SELECT note FROM alarm_log WHERE transition = 'acked'"), "quench pump restarted");
  cr_assert_eq(ph_alarms_ack(al, "p1", id, "wang.li", NULL, T0 + 21 * S, &err), PH_ENOTFOUND, "closed");
}

Test(alarms, ack_first_then_clear_closes) {
  struct ph_err err = {0};
  struct ph_alarm_event ev = event("r", "stack-1", T0, 160);
  cr_assert_eq(ph_alarms_raise(al, &ev), 0);
  cr_assert_eq(ph_alarms_ack(al, "p1", msgs[0].alarm.alarm_id, "li", NULL, T0 + S, &err), 0);
  cr_assert_eq(msgs[1].alarm.state, PH_AS_ACTIVE_ACKED);
  cr_assert_eq(msgs[1].alarm.acked_ms, T0 + S);
  /* a second acknowledgement is refused, says who and when, and changes nothing */
  cr_assert_eq(ph_alarms_ack(al, "p1", msgs[0].alarm.alarm_id, "zhang", "me too", T0 + 2 * S, &err), PH_EALREADY);
  cr_assert(strstr(err.msg, "already acknowledged by li at ") != NULL, "%s", err.msg);
  cr_assert_eq(nmsgs, 2);
  sqlite3_stmt *q;
  cr_assert_eq(sqlite3_prepare_v2(db, "SELECT acked_by, acked_ms, (SELECT count(*) FROM alarm_log WHERE transition = 'acked')"
                                      " FROM alarms", -1, &q, NULL), SQLITE_OK);
  cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
  cr_assert_str_eq((const char *)sqlite3_column_text(q, 0), "li");
  cr_assert_eq(sqlite3_column_int64(q, 1), T0 + S);
  cr_assert_eq(sqlite3_column_int64(q, 2), 1, "one acknowledgement logged");
  sqlite3_finalize(q);
  ev = event("r", "stack-1", T0 + 3 * S, 170);
  cr_assert_eq(ph_alarms_raise(al, &ev), 0);
  cr_assert_eq(ph_alarms_state(al, &ev.key), PH_ALARM_ACTIVE, "acked is still active");
  cr_assert_eq(ph_alarms_clear(al, &ev), 0);
  cr_assert_eq(nmsgs, 3);
  cr_assert_eq(msgs[2].transition, PH_AT_CLEARED);
  cr_assert_eq(msgs[2].alarm.state, PH_AS_CLOSED);
  cr_assert_str_eq(qs("SELECT state FROM alarms"), "closed");
}

Test(alarms, raise_again_before_the_ack_is_a_new_occurrence_of_the_same_alarm) {
  struct ph_alarm_event ev = event("r", "stack-1", T0, 160);
  cr_assert_eq(ph_alarms_raise(al, &ev), 0);
  cr_assert_eq(ph_alarms_clear(al, &ev), 0);
  ev = event("r", "stack-1", T0 + 60 * S, 180);
  cr_assert_eq(ph_alarms_raise(al, &ev), 0);
  cr_assert_eq(nmsgs, 3);
  cr_assert_eq(msgs[2].transition, PH_AT_RAISED);
  cr_assert_eq(msgs[2].alarm.state, PH_AS_ACTIVE_UNACKED);
  cr_assert_str_eq(msgs[2].alarm.alarm_id, msgs[0].alarm.alarm_id);
  cr_assert_eq(q1("SELECT count(*) FROM alarms"), 1);
  cr_assert_eq(q1("SELECT count(*) FROM alarm_occurrences"), 2, "a regulator counts two exceedances");
  cr_assert_eq(q1("SELECT count(*) FROM alarm_occurrences WHERE end_ms IS NULL"), 1);
  cr_assert_eq(q1("SELECT peak FROM alarm_occurrences WHERE end_ms IS NULL"), 180);
}

Test(alarms, the_unique_index_refuses_a_second_open_alarm) {
  struct ph_alarm_event ev = event("r", "stack-1", T0, 160);
  cr_assert_eq(ph_alarms_raise(al, &ev), 0);
  /* plain SQL: the database itself refuses */
  char *msg = NULL;
  int rc = sqlite3_exec(db,
                        "INSERT INTO alarms(alarm_id, park, rule, ent, point, metric, severity, state, message,"
                        " first_ms, last_ms, count, raised_ms) VALUES('a-x', 'p1', 'r', 'cu-old', 'stack-1', 'so2',"
                        " 'major', 'active_acked', 'm', 1, 1, 1, 1)",
                        NULL, NULL, &msg);
  cr_assert_eq(rc, SQLITE_CONSTRAINT, "%s", msg ? msg : "");
  sqlite3_free(msg);
  /* an enterprise-level key too ('' point) */
  struct ph_alarm_event e2 = event("off", "", T0, 0);
  cr_assert_eq(ph_alarms_raise(al, &e2), 0);
  rc = sqlite3_exec(db,
                    "INSERT INTO alarms(alarm_id, park, rule, ent, point, severity, state, message, first_ms, last_ms,"
                    " count, raised_ms) VALUES('a-y', 'p1', 'off', 'cu-old', '', 'major', 'cleared_unacked', 'm', 1,"
                    " 1, 1, 1)",
                    NULL, NULL, NULL);
  cr_assert_eq(rc, SQLITE_CONSTRAINT);
  /* a second handle whose memory is behind the database tries it too */
  struct ph_alarms *other;
  struct ph_err err = {0};
  struct ph_alarms_conf c = {.db = db, .emit = capture};
  sqlite3_exec(db, "UPDATE alarms SET state = 'closed' WHERE rule = 'off'", NULL, NULL, NULL);
  cr_assert_eq(ph_alarms_new(&c, &other, &err), 0);
  cr_assert_eq(sqlite3_exec(db, "UPDATE alarms SET state = 'active_unacked' WHERE rule = 'off'", NULL, NULL, NULL),
               SQLITE_OK);
  int before = nmsgs;
  cr_assert_eq(ph_alarms_raise(other, &e2), 0, "recovered, not failed");
  struct ph_alarms_stats st;
  ph_alarms_stats(other, &st);
  cr_assert_eq(st.conflicts, 1);
  cr_assert_eq(st.raised, 0);
  cr_assert_eq(nmsgs, before, "an update, not a second raise");
  cr_assert_eq(q1("SELECT count(*) FROM alarms WHERE rule = 'off' AND state <> 'closed'"), 1);
  cr_assert_eq(q1("SELECT count FROM alarms WHERE rule = 'off'"), 2);
  ph_alarms_free(other);
}

Test(alarms, a_rollback_publishes_nothing_and_memory_follows_the_database) {
  struct ph_err err = {0};
  cr_assert_eq(ph_alarms_begin(al, &err), 0);
  struct ph_alarm_event ev = event("r", "stack-1", T0, 160);
  cr_assert_eq(ph_alarms_raise(al, &ev), 0);
  cr_assert_eq(ph_alarms_state(al, &ev.key), PH_ALARM_ACTIVE);
  ph_alarms_rollback(al);
  cr_assert_eq(nmsgs, 0);
  cr_assert_eq(q1("SELECT count(*) FROM alarms"), 0);
  cr_assert_eq(ph_alarms_state(al, &ev.key), PH_ALARM_NONE);
  cr_assert_eq(ph_alarms_raise(al, &ev), 0);
  cr_assert_eq(nmsgs, 1);
}

Test(alarms, active_alarms_are_refreshed_at_most_every_refresh_ms) {
  struct ph_err err = {0};
  struct ph_alarm_event ev = event("r", "stack-1", T0, 160);
  cr_assert_eq(ph_alarms_begin(al, &err), 0);
  cr_assert_eq(ph_alarms_raise(al, &ev), 0);
  cr_assert_eq(ph_alarms_commit(al, T0, &err), 0);
  for (int i = 1; i <= 3; i++) {
    cr_assert_eq(ph_alarms_begin(al, &err), 0);
    ev = event("r", "stack-1", T0 + i * 30 * S, 170);
    cr_assert_eq(ph_alarms_raise(al, &ev), 0);
    cr_assert_eq(ph_alarms_commit(al, T0 + i * 30 * S, &err), 0);
  }
  cr_assert_eq(nmsgs, 2, "raised, then one refresh after 60 s");
  cr_assert_eq(msgs[1].kind, PH_AM_REFRESH);
  cr_assert_eq(msgs[1].alarm.count, 3);
}

Test(alarms, json_follows_the_schemas) {
  struct ph_alarm a = {.row = 7, .severity = PH_SEV_MAJOR, .state = PH_AS_ACTIVE_ACKED, .first_ms = T0,
                       .last_ms = T0 + 120 * S, .count = 3, .has_value = true, .value = 352.1, .has_peak = true,
                       .peak = 431.9, .acked_ms = T0 + 400 * S};
  strcpy(a.alarm_id, "a-20261123-000007");
  strcpy(a.park, "p1");
  strcpy(a.ent, "cu-old");
  strcpy(a.rule, "quench_window");
  strcpy(a.metric, "quench_out_temp");
  strcpy(a.point, "furnace-1");
  strcpy(a.message, "quench \"outlet\" 352 degC\nin the window");
  strcpy(a.acked_by, "王丽");
  char buf[PH_ALARM_JSON_MAX];
  int n = ph_alert_json(&a, PH_AT_ACKED, T0 + 400 * S, buf, sizeof buf);
  cr_assert_gt(n, 0);
  cJSON *j = cJSON_Parse(buf);
  cr_assert_not_null(j, "%s", buf);
  cr_assert_str_eq(cJSON_GetObjectItem(j, "state")->valuestring, "active_acked");
  cr_assert_str_eq(cJSON_GetObjectItem(j, "transition")->valuestring, "acked");
  cr_assert_str_eq(cJSON_GetObjectItem(j, "acked_by")->valuestring, "王丽");
  cr_assert_str_eq(cJSON_GetObjectItem(j, "acked_at")->valuestring, "2026-11-23T02:06:40.000Z");
  cr_assert_str_eq(cJSON_GetObjectItem(j, "message")->valuestring, a.message);
  cr_assert_float_eq(cJSON_GetObjectItem(j, "peak")->valuedouble, 431.9, 1e-12);
  cr_assert_null(cJSON_GetObjectItem(j, "note"), "optional fields are left out, not empty");
  cJSON_Delete(j);
  a.point[0] = a.metric[0] = '\0';
  a.has_value = a.has_peak = false;
  n = ph_alarm_json(&a, buf, sizeof buf);
  j = cJSON_Parse(buf);
  cr_assert_null(cJSON_GetObjectItem(j, "point"));
  cr_assert_null(cJSON_GetObjectItem(j, "value"));
  cr_assert_null(cJSON_GetObjectItem(j, "transition"));
  cJSON_Delete(j);
  cr_assert_eq(ph_alarm_json(&a, buf, 40), PH_EFULL);
}

Test(alarms, cmd_ack_decoding) {
  struct ph_ack_cmd c;
  struct ph_err err = {0};
#define OK(s) cr_assert_eq(ph_ack_decode(s, strlen(s), &c, &err), 0, "%s: %s", s, err.msg)
#define NO(s, code) cr_assert_eq(ph_ack_decode(s, strlen(s), &c, &err), code, "%s", s)
  OK("{\"alarm_id\":\"a-20261123-000417\",\"by\":\"wang.li\",\"note\":\"pump restarted\"}");
  cr_assert_str_eq(c.alarm_id, "a-20261123-000417");
  cr_assert_str_eq(c.note, "pump restarted");
  OK("{\"alarm_id\":\"a-1\",\"by\":\"王丽王丽王丽王丽王丽王丽王丽王丽王丽王丽王丽王丽王丽王丽王丽王丽王丽王丽王丽王丽王丽王丽王丽王丽王丽王丽王丽王丽王丽王丽王丽王丽\"}");
  NO("{\"alarm_id\":\"a-1\"}", PH_EMISSING);
  NO("{\"alarm_id\":\"A-1\",\"by\":\"x\"}", PH_EBADID);
  NO("{\"alarm_id\":\"a-1\",\"by\":\"\"}", PH_ESTRLEN);
  NO("{\"alarm_id\":\"a-1\",\"by\":\"x\",\"who\":\"y\"}", PH_EUNKNOWNKEY);
  NO("{\"alarm_id\":\"a-1\",\"by\":\"x\",\"by\":\"y\"}", PH_EJSON);
  NO("{\"alarm_id\":\"a-1\",\"by\":7}", PH_ETYPE);
  /* not UTF-8 (RFC 3629): bare continuation bytes, an overlong form, a surrogate, beyond U+10FFFF */
  NO("{\"alarm_id\":\"a-1\",\"by\":\"\x80\x80\"}", PH_EJSON);
  NO("{\"alarm_id\":\"a-1\",\"by\":\"\xE0\x80\xAF\"}", PH_EJSON);
  NO("{\"alarm_id\":\"a-1\",\"by\":\"\xED\xA0\x80\"}", PH_EJSON);
  NO("{\"alarm_id\":\"a-1\",\"by\":\"\xF4\x90\x80\x80\"}", PH_EJSON);
  NO("{\"alarm_id\":\"a-1\",\"by\":\"x\"} trailing", PH_EJSON);
  NO("[1]", PH_ETYPE);
  /* U+0000 would silently cut `by` short: refused, escaped or raw */
  NO("{\"alarm_id\":\"a-1\",\"by\":\"x\\u0000y\"}", PH_EJSON);
  NO("{\"alarm_id\":\"a-1\",\"by\":\"x\",\"note\":\"\\u0000\"}", PH_EJSON);
  static const char raw[] = "{\"alarm_id\":\"a-1\",\"by\":\"x\0y\"}";
  cr_assert_eq(ph_ack_decode(raw, sizeof raw - 1, &c, &err), PH_EJSON, "a raw NUL in by");
  OK("{\"alarm_id\":\"a-1\",\"by\":\"x\\\\u0000\"}"); /* an escaped backslash, then text */
  cr_assert_str_eq(c.by, "x\\u0000");
  char big[700];
  snprintf(big, sizeof big, "{\"alarm_id\":\"a-1\",\"by\":\"x\",\"note\":\"%0513d\"}", 0);
  NO(big, PH_ESTRLEN);
#undef OK
#undef NO
}

/* ------------------------------------------------ rules + alarms, restart */

static struct ph_hub_config cfg;
static struct ph_refs refs; /* the engine borrows it */

static struct ph_rules *engine(struct ph_catalog *cat, struct ph_tz **tzs, const char *json) {
  struct ph_err err = {0};
  struct ph_ruleset rs;
  cr_assert_eq(ph_ruleset_load_json(json, strlen(json), "t.json", cat, &rs, &err), 0, "%s", err.msg);
  refs = (struct ph_refs){.cfg = &cfg, .cat = cat, .tz = {tzs[0]}};
  struct ph_rules_conf rc = {.refs = &refs};
  struct ph_rules *e;
  cr_assert_eq(ph_rules_new(&rc, &e, &err), 0, "%s", err.msg);
  cr_assert_eq(ph_rules_add(e, "p1", &rs, &err), 0, "%s", err.msg);
  ph_ruleset_fini(&rs);
  return e;
}

static void feed(struct ph_rules *e, struct ph_alarm_sink *sink, int64_t ts, double v) {
  struct ph_obs o = {"p1", "cu-old", "furnace-1", "quench_out_temp", ts, v, 'N', PH_STATE_RUNNING};
  cr_assert_eq(ph_rules_eval_value(e, &o, ts, sink), 0);
}

Test(alarms, restart_keeps_open_alarms_and_never_raises_twice) {
  char dir[] = "/tmp/ph-alarms-XXXXXX", path[64];
  cr_assert_not_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/hub.db", dir);
  struct ph_err err = {0};
  struct ph_catalog *cat;
  struct ph_tz *tz;
  cr_assert_eq(ph_catalog_load_builtin(&cat, &err), 0);
  cr_assert_eq(ph_tz_load("Asia/Shanghai", &tz, &err), 0);
  struct ph_tz *tzs[1] = {tz};
  memset(&cfg, 0, sizeof cfg);
  cfg.nparks = 1;
  strcpy(cfg.parks[0].id, "p1");
  cfg.parks[0].ents = ph_calloc(1, sizeof *cfg.parks[0].ents);
  cfg.parks[0].nents = 1;
  strcpy(cfg.parks[0].ents[0].id, "cu-old");
  strcpy(cfg.parks[0].ents[0].agents[0], "gw");
  cfg.parks[0].ents[0].nagents = 1;
  cfg.parks[0].ents[0].expected_interval_s = 10;
  const char *rules = "{\"v\":1,\"rules\":[{\"id\":\"quench_window\",\"severity\":\"major\","
                      "\"scope\":{\"metric\":\"quench_out_temp\"},\"residence\":{\"low\":200,\"high\":400,\"for_s\":60}}]}";
  char alarm_id[64];
  for (int run = 0; run < 3; run++) {
    struct ph_store *st;
    cr_assert_eq(ph_store_open(path, &st, &err), 0, "%s", err.msg);
    sqlite3 *d = ph_store_db(st);
    struct ph_alarms *a = open_alarms(d);
    struct ph_alarm_sink sink = ph_alarms_sink(a);
    struct ph_rules *e = engine(cat, tzs, rules);
    cr_assert_eq(ph_rules_load(e, d, T0 + run * 600 * S, &sink, &err), 0, "%s", err.msg);
    int64_t t = T0 + run * 600 * S;
    int before = nmsgs;
    cr_assert_eq(ph_alarms_begin(a, &err), 0);
    for (int i = 0; i < 12; i++) feed(e, &sink, t + i * 10 * S, 300);
    cr_assert_eq(ph_alarms_commit(a, t + 120 * S, &err), 0, "%s", err.msg);
    struct ph_alarms_stats as;
    ph_alarms_stats(a, &as);
    if (run == 0) {
      cr_assert_eq(nmsgs - before, 1, "raised once (%d messages)", nmsgs - before);
      cr_assert_eq(as.raised, 1);
      strcpy(alarm_id, msgs[nmsgs - 1].alarm.alarm_id);
    } else {
      cr_assert_eq(nmsgs - before, 0, "run %d: the open alarm is followed, not raised again", run);
      cr_assert_eq(as.raised + as.reraised, 0);
      cr_assert_gt(as.updated, 0);
    }
    cr_assert_eq(as.open, 1);
    ph_rules_free(e);
    ph_alarms_free(a);
    ph_store_close(st);
  }
  /* a fourth start: the value leaves the window and the same alarm clears */
  struct ph_store *st;
  cr_assert_eq(ph_store_open(path, &st, &err), 0);
  sqlite3 *d = ph_store_db(st);
  struct ph_alarms *a = open_alarms(d);
  struct ph_alarm_sink sink = ph_alarms_sink(a);
  struct ph_rules *e = engine(cat, tzs, rules);
  cr_assert_eq(ph_rules_load(e, d, T0 + 2000 * S, &sink, &err), 0, "%s", err.msg);
  int before = nmsgs;
  feed(e, &sink, T0 + 2000 * S, 150);
  cr_assert_eq(nmsgs - before, 1);
  cr_assert_eq(msgs[nmsgs - 1].transition, PH_AT_CLEARED);
  cr_assert_str_eq(msgs[nmsgs - 1].alarm.alarm_id, alarm_id);
  cr_assert_eq(msgs[nmsgs - 1].alarm.count, 30, "6 after the 60 s hold, then 12 in each later run");
  sqlite3 *saved = db;
  db = d;
  cr_assert_eq(q1("SELECT count(*) FROM alarms"), 1);
  cr_assert_eq(q1("SELECT count(*) FROM alarm_occurrences"), 1, "one exceedance across three restarts");
  db = saved;
  /* the rule is removed from the file: a still-open alarm is closed at start-up */
  ph_rules_free(e);
  e = engine(cat, tzs, "{\"v\":1,\"rules\":[]}");
  cr_assert_eq(ph_rules_load(e, d, T0 + 3000 * S, &sink, &err), 0, "%s", err.msg);
  cr_assert_eq(msgs[nmsgs - 1].transition, PH_AT_CLOSED);
  cr_assert_eq(msgs[nmsgs - 1].alarm.state, PH_AS_CLOSED);
  ph_rules_free(e);
  ph_alarms_free(a);
  ph_store_close(st);
  ph_hub_config_fini(&cfg);
  ph_tz_free(tz);
  ph_catalog_free(cat);
  unlink(path);
  char wal[80];
  snprintf(wal, sizeof wal, "%s-wal", path);
  unlink(wal);
  snprintf(wal, sizeof wal, "%s-shm", path);
  unlink(wal);
  rmdir(dir);
}

Test(alarms, many_alarms_open_and_close_in_any_order) {
  struct ph_err err = {0};
  char points[300][16];
  cr_assert_eq(ph_alarms_begin(al, &err), 0);
  for (int i = 0; i < 300; i++) {
    snprintf(points[i], sizeof points[i], "p%d", i);
    struct ph_alarm_event ev = event("r", points[i], T0 + i, 200);
    cr_assert_eq(ph_alarms_raise(al, &ev), 0);
  }
  cr_assert_eq(ph_alarms_commit(al, T0 + 1000, &err), 0);
  /* ack every third, then clear every other one: acked + cleared close and leave memory */
  for (int i = 0; i < 300; i += 3) cr_assert_eq(ph_alarms_ack(al, "p1", msgs[i].alarm.alarm_id, "li", NULL, T0 + 2000, &err), 0);
  for (int i = 299; i >= 0; i -= 2) {
    struct ph_alarm_event ev = event("r", points[i], T0 + 3000, 100);
    cr_assert_eq(ph_alarms_clear(al, &ev), 0);
  }
  int open = 0;
  for (int i = 0; i < 300; i++) {
    struct ph_alarm_event ev = event("r", points[i], 0, 0);
    int st = ph_alarms_state(al, &ev.key);
    bool acked = i % 3 == 0, cleared = i % 2 == 1;
    int want = acked && cleared ? PH_ALARM_NONE : cleared ? PH_ALARM_CLEARED : PH_ALARM_ACTIVE;
    cr_assert_eq(st, want, "p%d: %d, want %d", i, st, want);
    open += want != PH_ALARM_NONE;
  }
  struct ph_alarms_stats st;
  ph_alarms_stats(al, &st);
  cr_assert_eq((int)st.open, open);
  cr_assert_eq(q1("SELECT count(*) FROM alarms WHERE state <> 'closed'"), open);
}

/* The JSON the hub writes from text it was sent (a cmd/ack reply's reason
 * naming an unknown key, a name cut at its byte bound) stays UTF-8: a byte
 * outside a well-formed character becomes U+FFFD, Chinese passes whole. */
Test(alarms, json_strings_stay_utf8) {
  char buf[256];
  size_t len = 0;
  cr_assert_eq(ph_json_put_string(buf, sizeof buf, &len, "值班\xff" "a\xe5\x80" "b\xc0\xaf" "c\xed\xa0\x80"), 0);
  cr_assert_str_eq(buf, "\"值班\\ufffda\\ufffd\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffd\\ufffd\"");
  cJSON *j = cJSON_Parse(buf);
  cr_assert_not_null(j, "%s", buf);
  cJSON_Delete(j);
  len = 0;
  cr_assert_eq(ph_json_put_string(buf, sizeof buf, &len, "ok \xe5\x80\xbc"), 0); /* 值 */
  cr_assert_str_eq(buf, "\"ok 值\"");
}
