/* hub.c — wires the hub's stages and owns start-up and shutdown order
 * (hub.h). Threads: main (this loop: MQTT set-up after connects, stats
 * log), Paho's (ingest), the decoder's, the writer's, alarm delivery's,
 * webhooks', and the HTTP API's pool (reads the database on connections of
 * its own; what it cannot read it asks through the callbacks below). */
#include "app/hub.h"

#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

#include "alarms/alarms.h"
#include "parkhub/alloc.h"
#include "api/api.h"
#include "alarms/deliver.h"
#include "parkhub/catalog.h"
#include "app/hub_metrics.h"
#include "domain/cems_basis.h"
#include "ingest/hubmqtt.h"
#include "ingest/ingest.h"
#include "parkhub/log.h"
#include "ingest/queue.h"
#include "alarms/rules.h"
#include "store/store.h"
#include "parkhub/timefmt.h"
#include "alarms/webhook.h"
#include "federation/forwarder.h"
#include "federation/regional.h"
#include "federation/up_outbox.h"
#include "store/writer.h"

volatile sig_atomic_t ph_hub_stop_flag;
volatile sig_atomic_t ph_hub_reload_flag;

#define MOD "hub"
#define STATS_EVERY_MS 60000

struct hub {
  const struct ph_hub_config *cfg;
  struct ph_refs refs; /* config, catalogue, zones, standards, factors: loaded once (refs.h) */
  struct ph_store *store;
  struct ph_queue *q;
  struct ph_ingest *in;
  struct ph_hubmqtt *mqtt;
  struct ph_writer *w;
  struct ph_rules *rules;
  struct ph_alarms *alarms;
  struct ph_deliver *deliver;
  struct ph_webhook *hooks[PH_DELIVER_MAX_SINKS];
  int nhooks;
  sqlite3 *ckpt; /* checkpoints the WAL off the writer's commit path */
  struct ph_api *api;
  struct ph_forwarder *up;       /* a park hub with "upstream": its link to the regional hub */
  struct ph_regional *regional;  /* role "regional": the parks' upward batches */
  int64_t max_size_mb; /* db.max_size_mb in force (SIGHUP may change it) */
};

#define API_ACK_TIMEOUT_MS 5000

/* ---- what the HTTP API asks of the hub (on its worker threads) ---- */

static int api_metrics(void *u, char *buf, size_t cap) {
  struct hub *h = u;
  struct ph_hub_snapshot s = {.have_deliver = h->deliver != NULL};
  ph_ingest_stats(h->in, &s.in);
  ph_queue_stats(h->q, &s.q);
  ph_writer_stats(h->w, &s.w);
  ph_hubmqtt_stats(h->mqtt, &s.mqtt);
  if (h->deliver) ph_deliver_stats(h->deliver, &s.dl);
  if ((s.have_up = h->up != NULL)) ph_forwarder_stats(h->up, &s.up);
  if ((s.have_reg = h->regional != NULL)) ph_regional_stats(h->regional, &s.reg);
  return ph_hub_metrics_text(&s, buf, cap);
}

static int api_health(void *u, char *why, size_t cap) {
  struct hub *h = u;
  struct ph_hubmqtt_stats ms;
  struct ph_writer_stats ws;
  ph_hubmqtt_stats(h->mqtt, &ms);
  ph_writer_stats(h->w, &ws);
  if (ws.db_full) {
    snprintf(why, cap, "database full (the disk, or db.max_size_mb): nothing is stored or acked until there is room");
    return 1;
  }
  if (ms.connected) return 0;
  snprintf(why, cap, "not connected to the MQTT broker");
  return 1;
}

static int api_ack(void *u, const char *park, const char *alarm_id, const char *by, const char *note, char *errbuf,
                   size_t cap) {
  struct hub *h = u;
  struct ph_err err = {0};
  int rc = ph_writer_ack_alarm(h->w, park, alarm_id, by, note, API_ACK_TIMEOUT_MS, &err);
  if (rc) snprintf(errbuf, cap, "%s", err.msg[0] ? err.msg : ph_strerror(rc));
  else PH_INFO(MOD, "alarm %s of %s acknowledged over HTTP by %s", alarm_id, park, by);
  if (rc == PH_ECLOSED) rc = PH_EAGAIN;
  return rc;
}

static int api_stack_test(void *u, const char *park, const char *ent, const char *date, long day, const char *by,
                          char *errbuf, size_t cap) {
  struct hub *h = u;
  struct ph_err err = {0};
  int rc = ph_writer_stack_test(h->w, park, ent, date, day, by, API_ACK_TIMEOUT_MS, &err);
  if (rc) snprintf(errbuf, cap, "%s", err.msg[0] ? err.msg : ph_strerror(rc));
  return rc == PH_ECLOSED ? PH_EAGAIN : rc;
}

static int start_api(struct hub *h, struct ph_err *err) {
  if (!h->cfg->http.enabled) return 0;
  struct ph_api_env env = {.db_path = h->cfg->db_path, .refs = &h->refs, .u = h,
                           .metrics = api_metrics, .health = api_health, .ack = api_ack,
                           .stack_test = api_stack_test};
  int rc = ph_api_start(&h->cfg->http, &env, &h->api, err);
  if (!rc)
    PH_INFO(MOD, "HTTP API and dashboard on %s://%s:%d/ (%d tokens)", ph_api_tls(h->api) ? "https" : "http",
            h->cfg->http.listen, ph_api_port(h->api), h->cfg->http.ntokens);
  return rc;
}

static void log_stats(struct hub *h) {
  struct ph_writer_stats ws;
  struct ph_ingest_stats is;
  struct ph_queue_stats qs;
  ph_writer_stats(h->w, &ws);
  ph_ingest_stats(h->in, &is);
  ph_queue_stats(h->q, &qs);
  PH_INFO(MOD, "messages %llu, batches stored %llu (records %llu, values %llu), duplicates %llu, refused %llu, "
          "queue %zu/%zu, commits %llu, acks %llu",
          (unsigned long long)is.messages, (unsigned long long)ws.batches, (unsigned long long)ws.records,
          (unsigned long long)ws.values, (unsigned long long)ws.duplicates, (unsigned long long)is.refused, qs.depth,
          qs.capacity, (unsigned long long)ws.groups, (unsigned long long)ws.acks_sent);
  if (h->up) {
    struct ph_forwarder_stats fs;
    ph_forwarder_stats(h->up, &fs);
    PH_INFO(MOD, "upstream %s: outbox %lld changes (%lld not in a batch), batches sent %llu (resent %llu), "
            "acked up to %lld of %lld",
            fs.connected ? "connected" : "away", (long long)fs.pending, (long long)fs.unbatched,
            (unsigned long long)fs.batches_sent, (unsigned long long)fs.resends, (long long)fs.acked,
            (long long)fs.last_batch);
  }
  if (h->regional) {
    struct ph_regional_stats rs;
    ph_regional_stats(h->regional, &rs);
    PH_INFO(MOD, "regional: upward batches %llu (duplicates %llu, refused %llu), records %llu (applied %llu, "
            "older revisions %llu), declared gaps %llu",
            (unsigned long long)rs.batches, (unsigned long long)rs.duplicates, (unsigned long long)rs.refused,
            (unsigned long long)rs.records, (unsigned long long)rs.applied, (unsigned long long)rs.stale,
            (unsigned long long)rs.gaps);
  }
}

/* Alarm messages → MQTT, on the delivery thread (never upstream of the queue);
 * done when the broker has it, so none is lost with a connection. */
#define ALARM_PUBACK_MS 5000

/* The writer's ack sink (writer.h): onto hubmqtt's mailbox, sent by its
 * own thread, so the writer never calls Paho (queue.h). */
static int post_ack(void *ctx, const char *topic, int64_t epoch, int64_t upto) {
  return ph_hubmqtt_post_ack(ctx, topic, epoch, upto);
}

static int publish_alarm(void *ctx, const char *topic, const void *payload, size_t len, bool retained) {
  return ph_hubmqtt_publish_confirmed(ctx, topic, payload, len, retained, ALARM_PUBACK_MS);
}

/* Rules engine, webhooks, delivery and alarms, before the writer thread starts
 * (after that only the writer uses the engine, the alarms and the connection). */
static int build_alarms(struct hub *h, struct ph_err *err) {
  sqlite3 *db = ph_store_db(h->store);
  int rc;
  struct ph_rules_conf rc_ = {.refs = &h->refs};
  struct ph_deliver_conf dc = {.publish = publish_alarm, .publish_ctx = h->mqtt};
  if ((rc = ph_alarms_migrate(db, err)) || (rc = ph_up_triggers(db, err)) || (rc = ph_rules_new(&rc_, &h->rules, err)))
    return rc;
  for (int p = 0; p < h->cfg->nparks; p++) {
    if (!h->cfg->parks[p].rules_file[0]) continue;
    if (h->cfg->role == PH_HUB_ROLE_REGIONAL) {
      /* The park hub raises its park's alarms. Here, with no agents and no
       * ingest, the timer rules (offline, overdue) would raise false ones
       * for every enterprise, and a regulator would read them. */
      PH_INFO(MOD, "park %s: rules of %s not loaded: a regional hub raises no alarms (the park hub does)",
              h->cfg->parks[p].id, h->cfg->parks[p].rules_file);
      continue;
    }
    struct ph_ruleset rs;
    if ((rc = ph_ruleset_load_file(h->cfg->parks[p].rules_file, h->refs.cat, &rs, err))) return rc;
    size_t nrules = rs.nrules;
    rc = ph_rules_add(h->rules, h->cfg->parks[p].id, &rs, err);
    for (size_t i = 0; i < rs.nwebhooks && !rc; i++) {
      if (h->nhooks == PH_DELIVER_MAX_SINKS) {
        rc = ph_fail(err, PH_ECONFIG, "more than %d webhooks", PH_DELIVER_MAX_SINKS);
        break;
      }
      rs.webhooks[i].tz = h->refs.tz[p]; /* the times people read are the park's */
      if (rs.webhooks[i].lang == PH_WH_LANG_PARK) rs.webhooks[i].lang = ph_park_lang(&h->cfg->parks[p]);
      if (!(rc = ph_webhook_start(&rs.webhooks[i], &h->hooks[h->nhooks], err)))
        dc.sinks[dc.nsinks++] = ph_webhook_sink(h->hooks[h->nhooks++]);
    }
    PH_INFO(MOD, "park %s: %zu alarm rules, %zu webhooks from %s", h->cfg->parks[p].id, nrules, rs.nwebhooks,
            h->cfg->parks[p].rules_file);
    ph_ruleset_fini(&rs);
    if (rc) return rc;
  }
  if ((rc = ph_deliver_start(&dc, &h->deliver, err))) return rc;
  struct ph_alarms_conf ac = {.db = db, .emit = ph_deliver_emit, .emit_ctx = h->deliver};
  if ((rc = ph_alarms_new(&ac, &h->alarms, err))) return rc;
  struct ph_alarm_sink sink = ph_alarms_sink(h->alarms);
  int64_t now = ph_now_ms();
  if ((rc = ph_rules_load(h->rules, db, now, &sink, err))) return rc;
  return ph_alarms_publish_open(h->alarms, now); /* the broker may have lost the retained states */
}

static int build(struct hub *h, struct ph_err *err) {
  int rc;
  if ((rc = ph_refs_load(h->cfg, &h->refs, err))) return rc;
  if ((rc = ph_store_open(h->cfg->db_path, &h->store, err))) return rc;
  /* Before the writer: figures judged on another configuration are redone (cems_basis.h). */
  if (h->cfg->role == PH_HUB_ROLE_PARK &&
      (rc = ph_cems_basis_check(ph_store_db(h->store), &h->refs, ph_now_ms(), NULL, err)))
    return rc;
  if ((rc = ph_queue_new((size_t)h->cfg->queue_batches, &h->q)) ||
      (rc = ph_ingest_new(h->cfg, h->refs.cat, h->q, &h->in)))
    return ph_fail(err, rc, "out of memory");
  if ((rc = ph_hubmqtt_new(h->cfg, h->in, &h->mqtt, err))) return rc;
  if ((rc = build_alarms(h, err))) return rc;
  struct ph_writer_conf wc = {.refs = &h->refs, .q = h->q, .store = h->store,
                              .acks = {.post = post_ack, .ctx = h->mqtt},
                              .rules = h->rules,
                              .alarms = h->alarms};
  if ((rc = ph_writer_start(&wc, &h->w, err))) return rc;
  if ((rc = ph_ingest_start(h->in))) return ph_fail(err, rc, "cannot start the decoder thread");
  if (sqlite3_open_v2(h->cfg->db_path, &h->ckpt, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
    return ph_fail(err, PH_EDB, "database: a second connection for checkpoints: %s", sqlite3_errmsg(h->ckpt));
  sqlite3_busy_timeout(h->ckpt, 1000);
  if ((rc = start_api(h, err))) return rc;
  if (h->cfg->role == PH_HUB_ROLE_REGIONAL && (rc = ph_regional_start(h->cfg, &h->regional, err))) return rc;
  if (h->cfg->role == PH_HUB_ROLE_PARK && h->cfg->upstream.on && (rc = ph_forwarder_start(h->cfg, &h->up, err)))
    return rc;
  return ph_hubmqtt_start(h->mqtt, err);
}

static void teardown(struct hub *h) {
  /* Stop answering HTTP, stop intake, then commit and ack what arrived, then
   * say offline and go. */
  ph_api_stop(h->api);
  ph_regional_stop(h->regional); /* what it committed it acked; the rest its senders send again */
  ph_forwarder_stop(h->up);      /* the outbox is the database's: the next start goes on from the ack */
  if (h->in) ph_ingest_close_intake(h->in);
  if (h->w && ph_writer_drain(h->w, 5000)) PH_WARN(MOD, "shutdown: the writer did not drain within 5 s");
  if (h->deliver && ph_deliver_flush(h->deliver, 2000)) PH_WARN(MOD, "shutdown: alarm messages still unpublished");
  ph_hubmqtt_stop(h->mqtt);
  if (h->q) ph_queue_close(h->q);
  ph_ingest_stop(h->in);
  ph_writer_stop(h->w);
  ph_deliver_stop(h->deliver, 0); /* MQTT is down: what is left is counted as lost */
  for (int i = 0; i < h->nhooks; i++) {
    ph_webhook_flush(h->hooks[i], 2000);
    ph_webhook_stop(h->hooks[i]);
  }
  ph_alarms_free(h->alarms);
  ph_rules_free(h->rules);
  if (h->ckpt) sqlite3_exec(h->ckpt, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
  sqlite3_close(h->ckpt);
  ph_hubmqtt_free(h->mqtt);
  ph_ingest_free(h->in);
  ph_queue_free(h->q);
  ph_store_close(h->store);
  ph_refs_fini(&h->refs);
}

/* ---- SIGHUP: every key marked reloadable (cfgmap.h PH_CFG_RELOAD) ---- */

static void apply_max_size(struct hub *h, const struct ph_hub_config *next) {
  h->max_size_mb = next->max_size_mb;
  ph_writer_set_max_size(h->w, next->max_size_mb); /* the writer takes it atomically */
}

static void apply_log_level(struct hub *h, const struct ph_hub_config *next) {
  (void)h;
  ph_log_set_level((enum ph_log_level)next->log_level); /* an atomic the loggers read */
}

/* How each reloadable key is applied. A key marked reloadable with no entry
 * here is treated as needing a restart, so a mark cannot silently do
 * nothing. */
static const struct reloader {
  const char *key;
  void (*apply)(struct hub *h, const struct ph_hub_config *next);
} reloaders[] = {
    {"db.max_size_mb", apply_max_size},
    {"log_level", apply_log_level},
};

static const struct reloader *find_reloader(const char *key) {
  for (size_t i = 0; i < sizeof reloaders / sizeof reloaders[0]; i++)
    if (strcmp(reloaders[i].key, key) == 0) return &reloaders[i];
  return NULL;
}

static bool applies(const struct ph_cfg_change *c) { return c->reloadable && find_reloader(c->key); }

/* "a, b, c": the changed keys that wait for a restart, cut to cap. */
static void restart_list(const struct ph_cfg_changes *ch, char *buf, size_t cap) {
  size_t n = 0;
  buf[0] = '\0';
  int kept = ch->n < PH_CFG_CHANGES_MAX ? ch->n : PH_CFG_CHANGES_MAX;
  for (int i = 0; i < kept && n < cap; i++)
    if (!applies(&ch->c[i])) n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", ch->c[i].key);
  if (ch->n > kept && n < cap) snprintf(buf + n, cap - n, " and %d more", ch->n - kept);
}

/* Applies each reloadable change, logged before it takes effect (a quieter
 * log level would hide the line), and records it in running. */
static void apply_changes(struct hub *h, const struct ph_cfg_changes *ch, const struct ph_hub_config *next,
                          struct ph_hub_config *running) {
  int kept = ch->n < PH_CFG_CHANGES_MAX ? ch->n : PH_CFG_CHANGES_MAX;
  for (int i = 0; i < kept; i++) {
    const struct ph_cfg_change *c = &ch->c[i];
    if (!applies(c)) continue;
    PH_INFO(MOD, "SIGHUP: %s %s → %s (applied)", c->key, c->from, c->to);
    find_reloader(c->key)->apply(h, next);
    ph_hub_config_adopt(running, next, c->key);
  }
  for (size_t r = 0; r < sizeof reloaders / sizeof reloaders[0]; r++) {
    bool changed = false;
    for (int i = 0; i < kept; i++) changed |= strcmp(ch->c[i].key, reloaders[r].key) == 0;
    if (!changed) PH_DEBUG(MOD, "SIGHUP: %s unchanged", reloaders[r].key);
  }
}

/* SIGHUP: the config file again. What changed is compared with what runs:
 * `running` starts as the start-up config and takes each applied value, so
 * a key needing a restart is named at every SIGHUP until the restart. */
static void reload(struct hub *h) {
  static struct ph_hub_config next;    /* large; the main thread's only */
  static struct ph_hub_config running; /* a shallow copy: never finied */
  static struct ph_cfg_changes ch;
  static bool have_running;
  if (!have_running) {
    running = *h->cfg;
    have_running = true;
  }
  struct ph_err err = {0};
  if (!h->cfg->path[0] || ph_hub_config_load(h->cfg->path, &next, &err)) {
    PH_ERROR(MOD, "SIGHUP: configuration not reloaded, keeping the running one: %s",
             err.msg[0] ? err.msg : "no config file");
    ph_hub_config_fini(&next);
    return;
  }
  memset(&ch, 0, sizeof ch);
  ph_hub_config_diff(&running, &next, &ch);
  apply_changes(h, &ch, &next, &running);
  char restart[512];
  restart_list(&ch, restart, sizeof restart);
  if (restart[0])
    PH_WARN(MOD, "SIGHUP: changed keys that need a restart, not applied: %s", restart);
  else if (ch.n == 0)
    PH_INFO(MOD, "SIGHUP: configuration read again; no key changed");
  ph_hub_config_fini(&next);
}

int ph_hub_run(const struct ph_hub_config *cfg, struct ph_err *err) {
  struct hub h = {.cfg = cfg, .max_size_mb = cfg->max_size_mb};
  int rc = build(&h, err);
  if (!rc) {
    PH_INFO(MOD, "running: database %s, %d park%s", cfg->db_path, cfg->nparks, cfg->nparks == 1 ? "" : "s");
    int64_t stats_at = ph_mono_ms() + STATS_EVERY_MS, ckpt_at = 0;
    while (!ph_hub_stop_flag) {
      ph_hubmqtt_service(h.mqtt);
      if (ph_hub_reload_flag) {
        ph_hub_reload_flag = 0;
        reload(&h);
      }
      if (ph_mono_ms() >= ckpt_at) {
        /* PASSIVE: never waits for the writer. Under sustained writes it
         * never reaches the WAL's end; the writer's own catch-up checkpoint
         * (ph_store_wal_restart) is what lets the WAL start over. */
        sqlite3_exec(h.ckpt, "PRAGMA wal_checkpoint(PASSIVE)", NULL, NULL, NULL);
        ckpt_at = ph_mono_ms() + 1000;
      }
      if (ph_mono_ms() >= stats_at) {
        log_stats(&h);
        stats_at = ph_mono_ms() + STATS_EVERY_MS;
      }
      usleep(50000);
    }
    PH_INFO(MOD, "stopping: draining the queue");
    log_stats(&h);
  }
  teardown(&h);
  return rc;
}
