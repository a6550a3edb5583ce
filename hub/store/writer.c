/* writer.c — the storage stage (writer.h; its state in writer_int.h, the
 * dedupe verdicts, stream saves and acks in writer_streams.c).
 *
 * Thread: its own; the only user of the store's connection after start.
 * Group processing:
 *
 *   pop ≤ group_max items → BEGIN → per item: dedupe → chunks / materials /
 *   rollup aggregation / rejects / presence → rollups merged → streams saved
 *   → COMMIT ──ok──→ data_loss alarms, rules → release items → acks (≤ in-flight cap;
 *            │       the rest wait) → idle epochs past the per-agent bound leave memory
 *            └fail─→ ROLLBACK, reload dedupe state, forget aggregates, wait,
 *                    apply a changed db.max_size_mb, retry the same items
 *                    (writer.h inv. 3); SQLITE_FULL (disk or cap) is logged
 *                    as "database full" and first deletes the rejects table
 *                    (rejects.h; then retries at once), the first success
 *                    after failures is logged as "writable again".
 */
#include "store/writer.h"

#include <libgen.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "parkhub/alloc.h"
#include "domain/cems.h"
#include "parkhub/timefmt.h"
#include "writer_int.h" /* the state; the exactly-once side is writer_streams.c */

/* A cmd/ack decoded in ingest fits the alarm it acknowledges (alarms.h). */
_Static_assert(PH_ACK_BY_MAX <= PH_ALARM_BY_MAX && PH_ACK_NOTE_MAX <= PH_ALARM_NOTE_MAX, "ack_cmd.h fits alarms.h");

#define MOD "writer"
#define PERIODIC_MS 60000
#define PERIODIC_LATE_MS 5000
#define RETRY_MS 1000
#define RULES_TICK_MS 1000
/* 4 096 frames of 4 kB pages: a WAL of about 16 MB at most under load. */
#define WAL_RESTART_FRAMES 4096

enum { MAIL_ACK = 1, MAIL_STACK_TEST };

struct ack_req {
  const char *park, *alarm_id, *by, *note;
};

struct stack_test_req {
  const char *park, *ent, *date, *by;
  long day;
};

static void forget_ids(struct ph_writer *w) {
  memset(w->metric_db, 0, w->ncat * sizeof *w->metric_db);
  ph_idcache_clear(&w->points);
  ph_idcache_clear(&w->agents);
  for (int i = 0; i < MAX_SLOTS; i++) w->slots[i].used = false;
}

static int metric_db_id(struct ph_writer *w, int32_t cat_idx, int64_t *id) {
  if (w->metric_db[cat_idx]) {
    *id = w->metric_db[cat_idx];
    return 0;
  }
  int rc = ph_store_metric_id(w->c.store, ph_catalog_at(w->c.refs->cat, (size_t)cat_idx)->code, id);
  if (!rc) w->metric_db[cat_idx] = *id;
  return rc;
}

static int flush_slot(struct ph_writer *w, struct slot *s, int64_t agent_id, const struct ph_batch *b) {
  s->used = false;
  if (!s->cw.nrecords) return 0;
  return ph_store_chunk(w->c.store, s->point_id, s->ts_min, s->ts_max, agent_id, b->epoch, b->seq, s->cw.nrecords,
                        s->nvalues, s->cw.buf, s->cw.len);
}

static int flush_slots(struct ph_writer *w, int64_t agent_id, const struct ph_batch *b) {
  for (int i = 0; i < MAX_SLOTS; i++) {
    if (!w->slots[i].used) continue;
    int rc = flush_slot(w, &w->slots[i], agent_id, b);
    if (rc) return rc;
  }
  return 0;
}

/* The point's ids, from the writer's cache or looked up (and cached);
 * valid until the next ph_idcache_reserve (store_measurements). */
static const struct ph_idcache_entry *point_of(struct ph_writer *w, const struct ph_item *it, const char *point,
                                               int *rc) {
  struct ph_idcache_entry *e = ph_idcache_find(&w->points, it->park_idx, it->ent_idx, point);
  if (e) return e;
  const struct ph_hub_park *park = &w->c.refs->cfg->parks[it->park_idx];
  int64_t id;
  if ((*rc = ph_store_point_id(w->c.store, park->id, park->ents[it->ent_idx].id, point, &id))) return NULL;
  if (!(e = ph_idcache_add(&w->points, it->park_idx, it->ent_idx, point, id))) {
    *rc = PH_ENOMEM;
    return NULL;
  }
  e->interval_s = ph_hub_point_interval(&park->ents[it->ent_idx], point);
  return e;
}

static struct slot *get_slot(struct ph_writer *w, const struct ph_item *it, const char *point, int64_t hour,
                             int64_t agent_id, int *rc) {
  struct slot *freeslot = NULL;
  *rc = 0;
  for (int i = 0; i < MAX_SLOTS; i++) {
    struct slot *s = &w->slots[i];
    if (s->used && s->hour == hour && strcmp(s->point, point) == 0) return s;
    if (!s->used && !freeslot) freeslot = s;
  }
  if (!freeslot) { /* more points × hours in one batch than slots: close them all */
    if ((*rc = flush_slots(w, agent_id, &it->batch))) return NULL;
    freeslot = &w->slots[0];
  }
  const struct ph_idcache_entry *pe = point_of(w, it, point, rc);
  if (!pe) return NULL;
  freeslot->used = true;
  freeslot->point_id = pe->id;
  freeslot->interval_s = pe->interval_s;
  freeslot->series = pe->series;
  strcpy(freeslot->point, point);
  freeslot->hour = hour;
  freeslot->ts_min = INT64_MAX;
  freeslot->ts_max = INT64_MIN;
  freeslot->nvalues = 0;
  freeslot->bk_valid = false;
  ph_chunk_writer_reset(&freeslot->cw);
  return freeslot;
}

/* A minute lies in one local hour and day (zone offsets are whole minutes),
 * so the zone is asked once per minute of a slot, not once per record. */
static const struct ph_rollup_buckets *buckets_for(const struct ph_tz *tz, int64_t ts, double interval_s,
                                                   struct slot *s) {
  int64_t minute = ts - ((ts % 60000) + 60000) % 60000;
  struct ph_rollup_buckets *bk = &s->bk;
  if (s->bk_valid && bk->start[PH_ROLLUP_MINUTE] == minute) return bk;
  s->bk_valid = true;
  bk->start[PH_ROLLUP_MINUTE] = minute;
  bk->start[PH_ROLLUP_HOUR] = ph_tz_hour_start(tz, ts);
  bk->start[PH_ROLLUP_DAY] = ph_tz_day_start(tz, ts);
  int64_t day_ms = ph_tz_next_day(tz, bk->start[PH_ROLLUP_DAY]) - bk->start[PH_ROLLUP_DAY];
  bk->expected[PH_ROLLUP_MINUTE] = 60.0 / interval_s;
  bk->expected[PH_ROLLUP_HOUR] = 3600.0 / interval_s;
  bk->expected[PH_ROLLUP_DAY] = (double)day_ms / 1000.0 / interval_s;
  return bk;
}

static int store_measurements(struct ph_writer *w, const struct ph_item *it, int64_t agent_id) {
  const struct ph_batch *b = &it->batch;
  const struct ph_tz *tz = w->c.refs->tz[it->park_idx];
  int rc = 0;
  ph_idcache_reserve(&w->points, b->nrecords); /* at most one new point per record */
  for (size_t i = 0; i < b->nrecords; i++) {
    const struct ph_record *r = &b->records[i];
    int64_t hour = r->ts_ms - ((r->ts_ms % 3600000) + 3600000) % 3600000;
    struct slot *s = get_slot(w, it, r->point, hour, agent_id, &rc);
    if (!s) return rc;
    const struct ph_rollup_buckets *bk = buckets_for(tz, r->ts_ms, s->interval_s, s);
    const struct ph_value *v = ph_record_values(b, r);
    for (uint16_t k = 0; k < r->nvalues; k++) {
      int64_t mid;
      if ((rc = metric_db_id(w, v[k].metric, &mid))) return rc;
      if (!s->series[v[k].metric] && (rc = ph_store_series_id(w->c.store, s->point_id, mid, &s->series[v[k].metric])))
        return rc;
      w->vbuf[k] = (struct ph_chunk_value){.metric_id = (uint16_t)mid, .flag = v[k].flag, .v = v[k].v};
      if ((rc = ph_rollup_add_value(w->ru, s->series[v[k].metric], bk, r->ts_ms, v[k].v,
                                     ph_rollup_quality(v[k].flag, (int)r->state))))
        return rc;
    }
    if ((rc = ph_chunk_add(&s->cw, r->ts_ms, (int)r->state, w->vbuf, r->nvalues))) return rc;
    if (r->ts_ms < s->ts_min) s->ts_min = r->ts_ms;
    if (r->ts_ms > s->ts_max) s->ts_max = r->ts_ms;
    s->nvalues += r->nvalues;
  }
  w->st.records += b->nrecords;
  w->st.values += b->nvalues;
  return flush_slots(w, agent_id, b);
}

static int store_materials(struct ph_writer *w, const struct ph_item *it, int64_t agent_id) {
  const struct ph_batch *b = &it->batch;
  const struct ph_hub_park *park = &w->c.refs->cfg->parks[it->park_idx];
  uint64_t unclassified = 0;
  for (size_t i = 0; i < b->nrecords; i++) {
    const struct ph_record *r = &b->records[i];
    int64_t pid;
    int rc = ph_store_point_id(w->c.store, park->id, park->ents[it->ent_idx].id, r->point, &pid);
    if (!rc)
      rc = ph_store_material(w->c.store, pid, r->ts_ms, r->material,
                             ph_dir_name(r->dir), r->qty_t, r->lot, r->supplier, ph_record_attrs(b, r), agent_id,
                             b->epoch, b->seq);
    if (rc) return rc;
    /* stored all the same: the park's registry only says how it is counted (materials.h) */
    unclassified += ph_material_role(&park->materials, w->c.refs->cat, r->material) == PH_ROLE_UNCLASSIFIED;
  }
  w->st.records += b->nrecords;
  w->st.materials += b->nrecords;
  w->st.materials_unclassified += unclassified;
  return 0;
}

static int agent_id_of(struct ph_writer *w, const struct ph_item *it, int64_t *id) {
  const struct ph_idcache_entry *e = ph_idcache_find(&w->agents, it->park_idx, it->ent_idx, it->topic.agent);
  if (e) {
    *id = e->id;
    return 0;
  }
  int rc = ph_store_agent_id(w->c.store, it->topic.park, it->topic.ent, it->topic.agent, id);
  ph_idcache_reserve(&w->agents, 1);
  if (!rc && !ph_idcache_add(&w->agents, it->park_idx, it->ent_idx, it->topic.agent, *id)) rc = PH_ENOMEM;
  return rc;
}

/* A refused batch as a rejects row, within the table's bounds (rejects.h). */
static int store_reject(struct ph_writer *w, const struct ph_item *it, int code) {
  return ph_rejects_store(w->rj, it, code);
}

static int handle(struct ph_writer *w, struct ph_item *it, bool *stored) {
  int64_t agent_id = 0;
  enum ph_dedupe_verdict v = PH_DEDUPE_NEW;
  int rc = 0;
  *stored = false;
  switch (it->type) {
  case PH_ITEM_BATCH:
    if ((rc = agent_id_of(w, it, &agent_id)) || (rc = ph_writer_dedupe(w, it, agent_id, &v))) return rc;
    if (v == PH_DEDUPE_AHEAD) return store_reject(w, it, PH_ESEQAHEAD);
    if (v != PH_DEDUPE_NEW) return 0;
    w->st.batches++;
    *stored = it->batch.kind != PH_KIND_MATERIAL;
    return it->batch.kind == PH_KIND_MATERIAL ? store_materials(w, it, agent_id) : store_measurements(w, it, agent_id);
  case PH_ITEM_ACK: /* nothing to store with the data: the alarms take it after the commit */
    *stored = true;
    return 0;
  case PH_ITEM_REJECT:
    /* Acked when identified (ingest.c), unless its seq is not plausible: then stored, never acked. */
    if (it->ackable && ((rc = agent_id_of(w, it, &agent_id)) || (rc = ph_writer_dedupe(w, it, agent_id, &v))))
      return rc;
    if (it->ackable && v != PH_DEDUPE_NEW && v != PH_DEDUPE_AHEAD) return 0;
    return store_reject(w, it, it->code);
  case PH_ITEM_STATUS: {
    int changed = 0;
    if ((rc = agent_id_of(w, it, &agent_id)) ||
        (rc = ph_store_status(w->c.store, agent_id, it->state, it->recv_ms, it->outbox_depth, it->payload, &changed)))
      return rc;
    w->st.statuses++;
    *stored = true;
    return changed ? ph_store_event(w->c.store, agent_id, it->recv_ms, it->state, NULL) : 0;
  }
  }
  return 0;
}

static int write_group(struct ph_writer *w, struct ph_item **items, size_t n, struct ph_err *err) {
  int rc = ph_store_begin(w->c.store, err);
  if (rc) return rc;
  for (size_t i = 0; i < n && !rc; i++) rc = handle(w, items[i], &w->stored[i]);
  if (!rc) rc = ph_rejects_enforce(w->rj);
  if (rc) {
    ph_fail(err, rc, "database: storing a batch failed: %s", ph_strerror(rc));
  } else if (!(rc = ph_rollup_flush(w->ru, w->c.store, err)) && !(rc = ph_writer_save_streams(w))) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    rc = ph_store_commit(w->c.store, err);
    clock_gettime(CLOCK_MONOTONIC, &b);
    uint64_t us = (uint64_t)((b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000);
    w->st.commit_us_total += us;
    if (us > w->st.commit_us_max) w->st.commit_us_max = us;
  } else if (rc && !err->msg[0]) {
    ph_fail(err, rc, "database: %s", ph_strerror(rc));
  }
  if (rc == 0) {
    ph_writer_mark_saved(w);
    ph_rejects_committed(w->rj);
    w->st.groups++;
    return 0;
  }
  /* writer.h inv. 3: undo memory that ran ahead of the database. */
  ph_store_rollback(w->c.store);
  ph_rollup_clear(w->ru);
  ph_data_loss_forget(&w->loss);
  ph_rejects_rolled_back(w->rj);
  forget_ids(w);
  struct ph_err lerr = {0};
  if (ph_writer_reload_dedupe(w, &lerr)) PH_ERROR(MOD, "%s", lerr.msg);
  return rc;
}

static void check_disk(struct ph_writer *w) {
  char path[sizeof w->c.refs->cfg->db_path];
  strcpy(path, w->c.refs->cfg->db_path);
  struct statvfs fs;
  if (statvfs(dirname(path), &fs) != 0) return;
  uint64_t free_mb = (uint64_t)fs.f_bavail * fs.f_frsize / (1024 * 1024);
  w->st.disk_free_mb = (int64_t)free_mb;
  w->st.disk_low = (int64_t)free_mb < w->c.refs->cfg->min_free_mb;
  if (w->st.disk_low)
    PH_WARN(MOD, "low disk space: %llu MB free where the database is (db.min_free_mb %lld)",
            (unsigned long long)free_mb, (long long)w->c.refs->cfg->min_free_mb);
}

static void periodic(struct ph_writer *w) {
  int64_t now = ph_mono_ms();
  if (now < w->next_periodic) return;
  w->next_periodic = now + PERIODIC_MS;
  check_disk(w);
  struct ph_err err = {0};
  int64_t cutoff = ph_now_ms() - w->c.refs->cfg->retention_days * 86400000LL, n;
  /* Bounded steps, each its own short transaction, so ingest never waits long. */
  for (int i = 0; i < 20 && (n = ph_store_retention(w->c.store, cutoff, 5000, &err)) > 0; i++)
    w->st.retention_deleted += n;
  if (n < 0) PH_WARN(MOD, "%s", err.msg);
  if (ph_rejects_expire(w->rj, ph_now_ms(), &err) < 0) PH_WARN(MOD, "%s", err.msg);
  /* CEMS hourly/daily validity and compliance for the hours that closed. */
  struct ph_err cerr = {0};
  int crc = ph_cems_update(ph_store_db(w->c.store), w->c.refs,
                           ph_now_ms(), &cerr);
  if (crc < 0) PH_WARN(MOD, "CEMS update: %s", cerr.msg);
  else if (crc == 1) w->next_periodic = ph_mono_ms() + 1000; /* backlog: the next bounded step in 1 s */
}

/* After the data committed: rules on the committed values and statuses,
 * acks of alarms, in one alarms transaction; its messages go to the
 * delivery mailbox at its commit (never a Paho call here: queue.h). A
 * failure loses only these evaluations (the data is stored; the rules see
 * the next values). */
/* Whether item i of the group has anything for the rules or the alarms. */
/* A cmd/ack of a served park, applied or refused: it gets a reply (alarms.h). */
static bool is_cmd_ack(const struct ph_item *it) {
  return it->type == PH_ITEM_ACK ||
         (it->type == PH_ITEM_REJECT && it->park_idx >= 0 && it->topic.type == PH_TOPIC_CMD_ACK);
}

static bool wants_rules(const struct ph_writer *w, const struct ph_item *it, bool stored) {
  return (stored && (it->type == PH_ITEM_ACK || ph_rules_park_active(w->c.rules, it->park_idx))) || is_cmd_ack(it);
}

/* After the alarms' transaction (tx_rc: its result), each cmd/ack's answer. */
static void reply_acks(struct ph_writer *w, struct ph_item **items, size_t first, size_t n, int tx_rc, int64_t now) {
  for (size_t i = first; i < n; i++) {
    const struct ph_item *it = items[i];
    if (!is_cmd_ack(it)) continue;
    struct ph_ack_reply r = {.code = tx_rc && it->type == PH_ITEM_ACK ? tx_rc : it->code};
    snprintf(r.by, sizeof r.by, "%s", it->ack.by);
    const char *failed = "the hub could not store it: send it again";
    snprintf(r.reason, sizeof r.reason, "%s", tx_rc && it->type == PH_ITEM_ACK ? failed : it->reason);
    ph_alarms_reply(w->c.alarms, w->c.refs->cfg->parks[it->park_idx].id, it->ack.alarm_id, &r, now);
  }
}

static void evaluate(struct ph_writer *w, struct ph_item **items, size_t n) {
  if (!w->c.rules) return;
  size_t first = 0;
  while (first < n && !wants_rules(w, items[first], w->stored[first])) first++;
  if (first == n) return; /* parks without rules: no alarm transaction either */
  struct ph_alarm_sink sink = ph_alarms_sink(w->c.alarms);
  struct ph_err err = {0};
  int64_t now = ph_now_ms();
  uint64_t sup = 0;
  int rc = ph_alarms_begin(w->c.alarms, &err);
  for (size_t i = first; i < n && !rc; i++) {
    const struct ph_item *it = items[i];
    if (!wants_rules(w, it, w->stored[i])) continue;
    const struct ph_hub_park *park = &w->c.refs->cfg->parks[it->park_idx];
    if (it->type == PH_ITEM_BATCH) {
      const struct ph_batch *b = &it->batch;
      const char *ent = park->ents[it->ent_idx].id;
      for (size_t r = 0; r < b->nrecords && !rc; r++) {
        const struct ph_record *rec = &b->records[r];
        const struct ph_value *v = ph_record_values(b, rec);
        for (uint16_t k = 0; k < rec->nvalues && !rc; k++) {
          struct ph_obs o = {.park = park->id, .ent = ent, .point = rec->point,
                             .metric = ph_catalog_at(w->c.refs->cat, (size_t)v[k].metric)->code, .ts_ms = rec->ts_ms,
                             .value = v[k].v, .flag = v[k].flag, .state = rec->state};
          rc = ph_rules_eval_value(w->c.rules, &o, now, &sink);
        }
      }
    } else if (it->type == PH_ITEM_STATUS) {
      rc = ph_rules_eval_status(w->c.rules, park->id, park->ents[it->ent_idx].id, it->topic.agent, it->state,
                                it->recv_ms, now, &sink);
    } else if (it->type == PH_ITEM_ACK) {
      struct ph_err aerr = {0};
      int arc = ph_alarms_ack(w->c.alarms, park->id, it->ack.alarm_id, it->ack.by, it->ack.note, now, &aerr);
      items[i]->code = arc; /* for its reply */
      memcpy(items[i]->reason, aerr.msg, sizeof aerr.msg);
      if (arc == PH_ENOTFOUND || arc == PH_EALREADY) PH_INFO(MOD, "cmd/ack from %s: %s", it->ack.by, aerr.msg);
      else rc = arc;
    }
  }
  if (!rc) rc = ph_alarms_commit(w->c.alarms, now, &err);
  else ph_alarms_rollback(w->c.alarms);
  reply_acks(w, items, first, n, rc, now);
  if (rc) {
    ph_rules_resync(w->c.rules, &sink);
    if (ph_ratelimit_ok(&w->rules_rl, ph_mono_ms(), &sup))
      PH_ERROR(MOD, "alarms: %s — these evaluations are lost (%llu more failures since the last line)",
               err.msg[0] ? err.msg : ph_strerror(rc), (unsigned long long)sup);
  }
}

/* Timer rules (gap, offline, overdue, closed hours), once a second. */
static void tick_rules(struct ph_writer *w) {
  if (!w->c.rules || ph_mono_ms() < w->next_rules_tick) return;
  w->next_rules_tick = ph_mono_ms() + RULES_TICK_MS;
  struct ph_alarm_sink sink = ph_alarms_sink(w->c.alarms);
  struct ph_err err = {0};
  int64_t now = ph_now_ms();
  int rc = ph_alarms_begin(w->c.alarms, &err);
  if (!rc) rc = ph_rules_tick(w->c.rules, now, &sink);
  if (!rc) rc = ph_alarms_commit(w->c.alarms, now, &err);
  else ph_alarms_rollback(w->c.alarms);
  if (rc) ph_rules_resync(w->c.rules, &sink);
  uint64_t sup = 0;
  if (rc && ph_ratelimit_ok(&w->rules_rl, ph_mono_ms(), &sup))
    PH_ERROR(MOD, "alarm timers: %s", err.msg[0] ? err.msg : ph_strerror(rc));
}

/* db.max_size_mb onto the connection when it changed (at start, after a
 * SIGHUP); between transactions only. */
static void apply_max_size(struct ph_writer *w) {
  int64_t want = atomic_load(&w->max_size_mb);
  if (want == w->max_size_applied) return;
  struct ph_err err = {0};
  int64_t pages = 0, psz = 0;
  if (ph_store_set_max_size(w->c.store, want, &pages, &psz, &err)) {
    PH_ERROR(MOD, "db.max_size_mb %lld: %s", (long long)want, err.msg);
  } else if (want > 0) {
    int64_t mb = pages * psz / 1048576;
    if (mb > want)
      PH_WARN(MOD, "db.max_size_mb %lld: the database is already %lld MB; it may not grow further", (long long)want,
              (long long)mb);
    else
      PH_INFO(MOD, "database capped at %lld MB (db.max_size_mb; %lld pages of %lld bytes)", (long long)want,
              (long long)pages, (long long)psz);
  } else if (w->max_size_applied > 0) {
    PH_INFO(MOD, "database size cap removed (db.max_size_mb 0)");
  }
  ph_rejects_set_max_size(w->rj, want); /* the rejects' share follows the cap */
  w->max_size_applied = want; /* a failure is not retried until the next change */
}

/* The stats for other threads (/metrics, /healthz). */
static void publish_stats(struct ph_writer *w) {
  ph_rejects_stats(w->rj, &w->st.rj);
  w->st.rejects = w->st.rj.stored;
  pthread_mutex_lock(&w->stats_mu);
  w->pub = w->st;
  pthread_mutex_unlock(&w->stats_mu);
}

static void process(struct ph_writer *w, struct ph_item **items, size_t n) {
  struct ph_err err = {0};
  uint64_t failures = 0;
  int rc;
  while ((rc = write_group(w, items, n, &err)) != 0) {
    w->st.commit_failures++;
    w->st.db_full = rc == PH_EFULL;
    failures++;
    struct ph_err gerr = {0};
    /* rejects.h: the space held for refused batches goes before acks stop */
    if (rc == PH_EFULL && ph_rejects_give_up(w->rj, &gerr) > 0) continue;
    if (gerr.msg[0]) PH_ERROR(MOD, "%s", gerr.msg);
    publish_stats(w); /* /healthz says the database is full while this lasts */
    uint64_t sup = 0;
    if (ph_ratelimit_ok(&w->fail_rl, ph_mono_ms(), &sup)) {
      if (rc == PH_EFULL)
        PH_ERROR(MOD, "database full (SQLITE_FULL: the disk, or db.max_size_mb, is full): %s — nothing of these %zu "
                 "batches is acked; retrying every %d ms until there is room (%llu failures)", err.msg, n, RETRY_MS,
                 (unsigned long long)w->st.commit_failures);
      else
        PH_ERROR(MOD, "%s — nothing of these %zu batches is acked; retrying every %d ms (%llu failures)", err.msg, n,
                 RETRY_MS, (unsigned long long)w->st.commit_failures);
    }
    if (atomic_load(&w->stop)) {
      PH_ERROR(MOD, "stopping with %zu unstored batches: their agents still hold them and will resend", n);
      break;
    }
    usleep(RETRY_MS * 1000);
    apply_max_size(w); /* a raised cap (SIGHUP) is what a full database waits for */
    err.msg[0] = '\0';
  }
  if (rc == 0) w->st.db_full = false;
  if (rc == 0 && failures)
    PH_INFO(MOD, "database writable again after %llu failed attempts: %zu batches committed, acking resumes",
            (unsigned long long)failures, n);
  if (rc == 0) { /* the items are still ours: released below */
    ph_data_loss_raise(&w->loss, w->c.refs, w->c.alarms, w->c.rules, ph_now_ms());
    evaluate(w, items, n);
  }
  ph_queue_release_many(w->c.q, items, n);
}

/* An alarm ack from another thread, in a transaction of its own. */
static int serve_ack(struct ph_writer *w, const struct ack_req *r, struct ph_err *err) {
  int64_t now = ph_now_ms();
  int rc = ph_alarms_begin(w->c.alarms, err);
  if (!rc) rc = ph_alarms_ack(w->c.alarms, r->park, r->alarm_id, r->by, r->note, now, err);
  if (!rc) return ph_alarms_commit(w->c.alarms, now, err);
  ph_alarms_rollback(w->c.alarms);
  return rc;
}

/* A stack test an admin entered: stored, then the rules count from it. */
static int serve_stack_test(struct ph_writer *w, const struct stack_test_req *r, struct ph_err *err) {
  int rc = ph_alarms_stack_test(w->c.alarms, r->park, r->ent, r->day, r->date, r->by, ph_now_ms(), err);
  if (!rc && w->c.rules) ph_rules_stack_test(w->c.rules, r->park, r->ent, r->day);
  return rc;
}

static void serve_mail(struct ph_writer *w) {
  struct ph_mail *m;
  while ((m = ph_mailbox_take(&w->mb))) {
    struct ph_err err = {0};
    int rc = PH_EINVAL;
    if (m->kind == MAIL_ACK && w->c.alarms) rc = serve_ack(w, m->arg, &err);
    else if (m->kind == MAIL_STACK_TEST && w->c.alarms) rc = serve_stack_test(w, m->arg, &err);
    else ph_fail(&err, rc, "this hub has no alarms");
    ph_mailbox_done(&w->mb, m, rc, err.msg);
  }
}

/* After the acks, so they do not wait for it (store.h). */
static void wal_restart(struct ph_writer *w) {
  int done = 0;
  struct ph_err err = {0};
  w->st.wal_frames = ph_store_wal_frames(w->c.store);
  if (ph_store_wal_restart(w->c.store, WAL_RESTART_FRAMES, &done, &err)) {
    uint64_t sup = 0;
    if (ph_ratelimit_ok(&w->fail_rl, ph_mono_ms(), &sup)) PH_WARN(MOD, "%s", err.msg);
  } else if (done) {
    w->st.wal_restarts++;
  }
}

static void *run(void *arg) {
  struct ph_writer *w = arg;
  size_t max = (size_t)w->c.refs->cfg->group_max;
  for (;;) {
    apply_max_size(w);
    size_t n = ph_queue_pop(w->c.q, PH_STAGE_DECODED, w->items, max, 50);
    if (n) atomic_store(&w->idle, false); /* before the items are released: drain must not see a stale idle */
    if (n) process(w, w->items, n);
    ph_writer_send_acks(w);
    wal_restart(w);
    tick_rules(w);
    serve_mail(w);
    publish_stats(w);
    atomic_store(&w->idle, n == 0 && w->st.acks_pending == 0);
    if (!n && atomic_load(&w->stop)) break;
    /* Housekeeping (disk check, retention, CEMS hours) waits for a quiet
     * moment, but never longer than PERIODIC_LATE_MS past its time: a busy
     * park's queue may never be empty. */
    if (!n || ph_mono_ms() >= w->next_periodic + PERIODIC_LATE_MS) periodic(w);
  }
  return NULL;
}

int ph_writer_start(const struct ph_writer_conf *conf, struct ph_writer **out, struct ph_err *err) {
  struct ph_writer *w = ph_calloc(1, sizeof *w);
  if (!w) return ph_fail(err, PH_ENOMEM, "writer: out of memory");
  w->c = *conf;
  w->ncat = ph_catalog_count(conf->refs->cat);
  pthread_mutex_init(&w->stats_mu, NULL);
  ph_mailbox_init(&w->mb);
  ph_ratelimit_init(&w->fail_rl, 10000);
  ph_ratelimit_init(&w->epoch_rl, 10000);
  ph_ratelimit_init(&w->ahead_rl, 10000);
  ph_data_loss_init(&w->loss);
  atomic_init(&w->max_size_mb, conf->refs->cfg->max_size_mb);
  w->max_size_applied = 0; /* the connection starts uncapped: only a cap > 0 needs applying */
  w->next_periodic = ph_mono_ms() + 5000;
  w->st.disk_free_mb = -1;
  int rc = ph_dedupe_new(&w->dd);
  if (!rc) ph_dedupe_set_loader(w->dd, ph_writer_load_stream, w);
  if (!rc) rc = ph_rollup_new(&w->ru);
  w->metric_db = ph_calloc(w->ncat, sizeof *w->metric_db);
  w->vbuf = ph_calloc(PH_RECORD_MAX_VALUES, sizeof *w->vbuf);
  w->items = ph_calloc((size_t)conf->refs->cfg->group_max, sizeof *w->items);
  w->stored = ph_calloc((size_t)conf->refs->cfg->group_max, sizeof *w->stored);
  ph_ratelimit_init(&w->rules_rl, 10000);
  for (int i = 0; i < MAX_SLOTS; i++) ph_chunk_writer_init(&w->slots[i].cw);
  ph_idcache_init(&w->points, w->ncat);
  ph_idcache_init(&w->agents, 0);
  if (rc || !w->metric_db || !w->vbuf || !w->items || !w->stored) {
    rc = ph_fail(err, PH_ENOMEM, "writer: out of memory");
    goto fail;
  }
  if ((rc = ph_rejects_new(conf->refs->cfg, conf->store, &w->rj, err))) goto fail;
  if ((rc = ph_writer_reload_dedupe(w, err))) goto fail;
  PH_INFO(MOD, "dedupe state loaded: %zu agent streams", ph_dedupe_count(w->dd));
  if (pthread_create(&w->thread, NULL, run, w) != 0) {
    rc = ph_fail(err, PH_ENOMEM, "writer: cannot start its thread");
    goto fail;
  }
  *out = w;
  return 0;
fail:
  w->thread = 0;
  ph_writer_stop(w);
  return rc;
}

int ph_writer_drain(struct ph_writer *w, int timeout_ms) {
  int64_t until = ph_mono_ms() + timeout_ms;
  struct ph_queue_stats qs;
  for (;;) {
    ph_queue_stats(w->c.q, &qs);
    if (qs.depth == 0 && atomic_load(&w->idle)) return 0;
    if (ph_mono_ms() >= until) return PH_ETIMEOUT;
    usleep(20000);
  }
}

void ph_writer_stop(struct ph_writer *w) {
  if (!w) return;
  atomic_store(&w->stop, true);
  ph_mailbox_close(&w->mb);
  if (w->thread) pthread_join(w->thread, NULL);
  ph_dedupe_free(w->dd);
  ph_rejects_free(w->rj);
  ph_rollup_free(w->ru);
  for (int i = 0; i < MAX_SLOTS; i++) ph_chunk_writer_fini(&w->slots[i].cw);
  ph_idcache_fini(&w->points);
  ph_idcache_fini(&w->agents);
  ph_free(w->metric_db);
  ph_free(w->vbuf);
  ph_free(w->items);
  ph_free(w->stored);
  pthread_mutex_destroy(&w->stats_mu);
  ph_mailbox_fini(&w->mb);
  ph_free(w);
}

void ph_writer_set_max_size(struct ph_writer *w, int64_t mb) { atomic_store(&w->max_size_mb, mb); }

void ph_writer_stats(struct ph_writer *w, struct ph_writer_stats *st) {
  pthread_mutex_lock(&w->stats_mu);
  *st = w->pub;
  pthread_mutex_unlock(&w->stats_mu);
}

int ph_writer_ack_alarm(struct ph_writer *w, const char *park, const char *alarm_id, const char *by, const char *note,
                        int timeout_ms, struct ph_err *err) {
  struct ack_req r = {.park = park, .alarm_id = alarm_id, .by = by, .note = note ? note : ""};
  struct ph_mail m = {.kind = MAIL_ACK, .arg = &r};
  return ph_mailbox_call(&w->mb, &m, timeout_ms, err);
}

int ph_writer_stack_test(struct ph_writer *w, const char *park, const char *ent, const char *date, long day,
                         const char *by, int timeout_ms, struct ph_err *err) {
  struct stack_test_req r = {.park = park, .ent = ent, .date = date, .by = by, .day = day};
  struct ph_mail m = {.kind = MAIL_STACK_TEST, .arg = &r};
  return ph_mailbox_call(&w->mb, &m, timeout_ms, err);
}
