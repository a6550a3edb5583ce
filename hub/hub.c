/* hub.c — wires the hub's stages and owns start-up and shutdown order
 * (hub.h). Threads: main (this loop: MQTT set-up after connects, stats
 * log), Paho's (ingest), the writer's. */
#include "parkhub/hub.h"

#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

#include "parkhub/alloc.h"
#include "parkhub/catalog.h"
#include "parkhub/hubmqtt.h"
#include "parkhub/ingest.h"
#include "parkhub/limits.h"
#include "parkhub/log.h"
#include "parkhub/queue.h"
#include "parkhub/store.h"
#include "parkhub/timefmt.h"
#include "parkhub/tz.h"
#include "parkhub/writer.h"

volatile sig_atomic_t ph_hub_stop_flag;

#define MOD "hub"
#define STATS_EVERY_MS 60000

struct hub {
  const struct ph_hub_config *cfg;
  struct ph_catalog *cat;
  struct ph_tz *tz[PH_HUB_MAX_PARKS];
  struct ph_limits *limits[1 + PH_HUB_MAX_LIMIT_FILES];
  size_t nlimits;
  struct ph_store *store;
  struct ph_queue *q;
  struct ph_ingest *in;
  struct ph_hubmqtt *mqtt;
  struct ph_writer *w;
  sqlite3 *ckpt; /* checkpoints the WAL off the writer's commit path */
};

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
}

static int build(struct hub *h, struct ph_err *err) {
  int rc;
  if ((rc = ph_catalog_load_builtin(&h->cat, err))) return rc;
  if ((rc = ph_limits_load_builtin(&h->limits[0], err))) return rc;
  h->nlimits = 1;
  for (int i = 0; i < h->cfg->nlimit_files; i++, h->nlimits++)
    if ((rc = ph_limits_load_file(h->cfg->limit_files[i], &h->limits[h->nlimits], err))) return rc;
  for (int p = 0; p < h->cfg->nparks; p++)
    if ((rc = ph_tz_load(h->cfg->parks[p].tz, &h->tz[p], err))) return rc;
  if ((rc = ph_store_open(h->cfg->db_path, &h->store, err))) return rc;
  if ((rc = ph_queue_new((size_t)h->cfg->queue_batches, &h->q)) ||
      (rc = ph_ingest_new(h->cfg, h->cat, h->q, &h->in)))
    return ph_fail(err, rc, "out of memory");
  if ((rc = ph_hubmqtt_new(h->cfg, h->in, &h->mqtt, err))) return rc;
  struct ph_writer_conf wc = {.cfg = h->cfg, .cat = h->cat, .q = h->q, .store = h->store, .mqtt = h->mqtt,
                              .tz = h->tz, .limits = h->limits, .nlimits = h->nlimits};
  if ((rc = ph_writer_start(&wc, &h->w, err))) return rc;
  if ((rc = ph_ingest_start(h->in))) return ph_fail(err, rc, "cannot start the decoder thread");
  if (sqlite3_open_v2(h->cfg->db_path, &h->ckpt, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
    return ph_fail(err, PH_EDB, "database: a second connection for checkpoints: %s", sqlite3_errmsg(h->ckpt));
  sqlite3_busy_timeout(h->ckpt, 1000);
  return ph_hubmqtt_start(h->mqtt, err);
}

static void teardown(struct hub *h) {
  /* Stop intake, then commit and ack what arrived, then say offline and go. */
  if (h->in) ph_ingest_close_intake(h->in);
  if (h->w && ph_writer_drain(h->w, 5000)) PH_WARN(MOD, "shutdown: the writer did not drain within 5 s");
  ph_hubmqtt_stop(h->mqtt);
  if (h->q) ph_queue_close(h->q);
  ph_ingest_stop(h->in);
  ph_writer_stop(h->w);
  for (size_t i = 0; i < h->nlimits; i++) ph_limits_free(h->limits[i]);
  if (h->ckpt) sqlite3_exec(h->ckpt, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
  sqlite3_close(h->ckpt);
  ph_hubmqtt_free(h->mqtt);
  ph_ingest_free(h->in);
  ph_queue_free(h->q);
  ph_store_close(h->store);
  for (int p = 0; p < PH_HUB_MAX_PARKS; p++) ph_tz_free(h->tz[p]);
  ph_catalog_free(h->cat);
}

int ph_hub_run(const struct ph_hub_config *cfg, struct ph_err *err) {
  struct hub h = {.cfg = cfg};
  int rc = build(&h, err);
  if (!rc) {
    PH_INFO(MOD, "running: database %s, %d park%s", cfg->db_path, cfg->nparks, cfg->nparks == 1 ? "" : "s");
    int64_t stats_at = ph_mono_ms() + STATS_EVERY_MS, ckpt_at = 0;
    while (!ph_hub_stop_flag) {
      ph_hubmqtt_service(h.mqtt);
      if (ph_mono_ms() >= ckpt_at) {
        /* PASSIVE: never waits for the writer; the WAL stays small. */
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
