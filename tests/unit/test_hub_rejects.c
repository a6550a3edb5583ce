/* test_hub_rejects.c — the rejects table's bounds (rejects.h) on a real
 * store in a temp dir: the rate per topic identity, the size bound, a full
 * database giving the rows up, the row count through a rollback. Issue #16
 * item 3. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parkhub/alloc.h"
#include "store/rejects.h"
#include "parkhub/timefmt.h"

static char dir[64], path[128];
static struct ph_hub_config cfg;
static struct ph_hub_ent ents[2];
static struct ph_store *st;
static struct ph_rejects *rj;
static struct ph_item *it;

static void setup(void) {
  strcpy(dir, "/tmp/phrejXXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/hub.db", dir);
  struct ph_err err = {0};
  cr_assert_eq(ph_store_open(path, &st, &err), 0, "%s", err.msg);
  memset(&cfg, 0, sizeof cfg);
  memset(ents, 0, sizeof ents);
  strcpy(cfg.parks[0].id, "p1");
  cfg.parks[0].ents = ents;
  cfg.parks[0].nents = 2;
  cfg.nparks = 1;
  strcpy(ents[0].id, "ent-a");
  strcpy(ents[0].agents[0], "gw-a");
  ents[0].nagents = 1;
  strcpy(ents[1].id, "ent-b");
  strcpy(ents[1].agents[0], "gw-b");
  ents[1].nagents = 1;
  cfg.rejects_keep_days = 7;
  cfg.rejects_max_mb = 64;
  cfg.rejects_max_pct = 10;
  cfg.rejects_per_min = 5;
  cr_assert_not_null(it = ph_calloc(1, sizeof *it));
}

static void teardown(void) {
  ph_rejects_free(rj);
  ph_store_close(st);
  ph_free(it);
  char f[160];
  const char *sfx[] = {"", "-wal", "-shm"};
  for (int i = 0; i < 3; i++) {
    snprintf(f, sizeof f, "%s%s", path, sfx[i]);
    unlink(f);
  }
  rmdir(dir);
}

TestSuite(rejects, .init = setup, .fini = teardown);

static void make(void) {
  struct ph_err err = {0};
  cr_assert_eq(ph_rejects_new(&cfg, st, &rj, &err), 0, "%s", err.msg);
}

/* A refusal on agent's topic of enterprise ent (-1: a topic of no configured agent). */
static void refusal(int ent, const char *agent) {
  memset(it, 0, sizeof *it);
  it->type = PH_ITEM_REJECT;
  it->park_idx = ent >= 0 ? 0 : -1;
  it->ent_idx = ent;
  it->recv_ms = ph_now_ms();
  it->code = PH_EJSON;
  strcpy(it->topic.park, "p1");
  strcpy(it->topic.ent, ent >= 0 ? ents[ent].id : "ent-x");
  strcpy(it->topic.agent, agent);
  snprintf(it->topic_raw, sizeof it->topic_raw, "parkhub/v1/p1/%s/%s/ev/emission", it->topic.ent, agent);
  strcpy(it->reason, "batch: not valid JSON");
}

/* n refusals in one committed transaction. */
static void store_n(int n, int ent, const char *agent) {
  struct ph_err err = {0};
  cr_assert_eq(ph_store_begin(st, &err), 0, "%s", err.msg);
  for (int i = 0; i < n; i++) {
    refusal(ent, agent);
    cr_assert_eq(ph_rejects_store(rj, it, PH_EJSON), 0);
  }
  cr_assert_eq(ph_rejects_enforce(rj), 0);
  cr_assert_eq(ph_store_commit(st, &err), 0, "%s", err.msg);
  ph_rejects_committed(rj);
}

static struct ph_rejects_stats stats(void) {
  struct ph_rejects_stats s;
  ph_rejects_stats(rj, &s);
  return s;
}

Test(rejects, one_agents_burst_past_its_allowance_is_counted_not_stored) {
  make();
  store_n(50, 0, "gw-a");
  cr_assert_eq(stats().rows, 5, "rows %lld: a minute's allowance", (long long)stats().rows);
  cr_assert_eq(stats().unstored, 45);
  store_n(3, 1, "gw-b");
  cr_assert_eq(stats().rows, 8, "gw-b has its own allowance");
  store_n(10, -1, "gw-x");
  store_n(10, 0, "gw-zz"); /* not an agent of ent-a: shares with every unknown topic */
  cr_assert_eq(stats().rows, 13, "topics of no configured agent share one allowance");
  cr_assert_eq(ph_store_rejects_count(st), 13);
}

Test(rejects, the_table_keeps_to_its_share_of_the_database_cap) {
  cfg.rejects_per_min = 1000000;
  make();
  ph_rejects_set_max_size(rj, 1); /* 10 % of 1 MB: 102 rows of 1 KiB */
  cr_assert_eq(stats().max_rows, 102);
  store_n(150, -1, "gw-x");
  cr_assert_eq(ph_store_rejects_count(st), 102);
  cr_assert_eq(stats().rows, 102);
  cr_assert_eq(stats().deleted_size, 48);
  ph_rejects_set_max_size(rj, 0);
  cr_assert_eq(stats().max_rows, 64 * 1024, "no cap: db.rejects_max_mb");
}

Test(rejects, a_full_database_gives_the_rows_up_and_pauses_storing) {
  cfg.rejects_per_min = 1000000;
  make();
  store_n(20, 0, "gw-a");
  struct ph_err err = {0};
  cr_assert_eq(ph_rejects_give_up(rj, &err), 20, "%s", err.msg);
  cr_assert_eq(ph_store_rejects_count(st), 0);
  cr_assert_eq(stats().deleted_full, 20);
  store_n(5, 0, "gw-a");
  cr_assert_eq(ph_store_rejects_count(st), 0, "paused after a full database");
  cr_assert_eq(stats().unstored, 5);
  cr_assert_eq(ph_rejects_give_up(rj, &err), 0, "nothing left to give up");
}

Test(rejects, a_rolled_back_transaction_leaves_the_count_as_committed) {
  cfg.rejects_per_min = 1000000;
  make();
  store_n(4, 0, "gw-a");
  struct ph_err err = {0};
  cr_assert_eq(ph_store_begin(st, &err), 0);
  refusal(0, "gw-a");
  cr_assert_eq(ph_rejects_store(rj, it, PH_EJSON), 0);
  ph_store_rollback(st);
  ph_rejects_rolled_back(rj);
  cr_assert_eq(stats().rows, 4);
  ph_rejects_free(rj);
  rj = NULL;
  make();
  cr_assert_eq(stats().rows, 4, "counted again at start");
}
