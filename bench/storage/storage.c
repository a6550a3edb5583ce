/* storage.c — how much disk a park's CEMS data takes (bench/storage/README.md).
 *
 *   ph_bench_storage DIR [DAYS [ENTS]]      defaults: 7 days, 100 enterprises
 *
 * Generates DAYS local days (Asia/Shanghai, ending before yesterday) of
 * 1-minute CEMS data for ENTS enterprises × 2 stacks × 6 metrics (so2, nox,
 * pm, flow, o2, temp; one-decimal random walks; the first minute of each
 * day flagged C, calibration; about 1 minute in 100 missing) as the
 * agents' JSON batches (one an hour per enterprise, both stacks), decodes
 * them with the hub's decoder and writes them through the hub's writer
 * thread (dedupe, raw chunks, minute/hour/day rollups, acks) into
 * DIR/storage.db; then runs the CEMS update (hours, days, exceedances,
 * daily aggregates). The shortcut: no MQTT (broker and Paho add time,
 * never bytes). Prints the database size, per enterprise, per value and
 * extrapolated to a year, the generation time, the biggest tables, and
 * the summary's figures computed on it (every enterprise, three
 * pollutants) with their time. Every loop is bounded by DAYS × ENTS.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "config/hub_config.h"
#include "config/refs.h"
#include "domain/cems.h"
#include "domain/compliance.h"
#include "domain/emission_mass.h"
#include "domain/stmt_cache.h"
#include "ingest/queue.h"
#include "parkhub/batch.h"
#include "parkhub/catalog.h"
#include "parkhub/limits.h"
#include "parkhub/timefmt.h"
#include "parkhub/topic.h"
#include "parkhub/tz.h"
#include "store/store.h"
#include "store/writer.h"

#define NMET 6
#define DAY_MS 86400000LL
static const char *const metrics[NMET] = {"so2", "nox", "pm", "flow", "o2", "temp"};
static const double base[NMET] = {60, 120, 8, 60000, 11, 130}, spread[NMET] = {30, 50, 5, 15000, 3, 20};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int die(const char *what, const char *msg) {
  fprintf(stderr, "storage: %s: %s\n", what, msg);
  return 1;
}

static int write_config(const char *dir, const char *db, int ents, char *path, size_t cap) {
  snprintf(path, cap, "%s/hub.json", dir);
  FILE *f = fopen(path, "w");
  if (!f) return 1;
  fprintf(f, "{\"hub_id\":\"h\",\"mqtt\":{\"uris\":[\"tcp://127.0.0.1:1\"]},\"db\":{\"path\":\"%s\"},"
             "\"parks\":[{\"id\":\"bench\",\"tz\":\"Asia/Shanghai\",\"enterprises\":[", db);
  for (int e = 0; e < ents; e++)
    fprintf(f, "%s{\"id\":\"e%03d\",\"sector\":\"cu\",\"class\":\"existing\",\"agents\":[\"gw%03d\"],"
               "\"point_intervals\":{\"stack-1\":60,\"stack-2\":60}}", e ? "," : "", e, e);
  fprintf(f, "]}]}\n");
  return fclose(f) != 0;
}

/* A random walk per (enterprise, stack, metric), one decimal as CEMS report. */
static double walk(double *v, int m, unsigned *seed) {
  *seed = *seed * 1103515245u + 12345u;
  double step = ((double)((*seed >> 8) % 2001) / 1000.0 - 1.0) * spread[m] * 0.05;
  *v += step + (base[m] - *v) * 0.02;
  return round(*v * 10) / 10;
}

struct gen {
  struct ph_queue *q;
  const struct ph_catalog *cat;
  char *buf;
  size_t cap;
  double (*v)[2][NMET];
  unsigned seed;
  uint64_t values;
};

/* One enterprise's hour: 60 minutes × 2 stacks, pushed to the writer. */
static int hour_batch(struct gen *g, int e, int64_t hour_ms, int64_t seq, int64_t day_ms) {
  char ts[40];
  ph_time_format(hour_ms + 3600000, ts, sizeof ts); /* sent at the hour's end */
  size_t len = (size_t)snprintf(g->buf, g->cap,
                                "{\"v\":1,\"agent\":\"gw%03d\",\"epoch\":1,\"seq\":%lld,\"oldest\":%lld,"
                                "\"sent\":\"%s\",\"records\":[", e, (long long)seq, (long long)seq, ts);
  int nrec = 0;
  for (int s = 0; s < 2; s++)
    for (int m = 0; m < 60; m++) {
      int64_t t = hour_ms + m * 60000LL;
      if ((((t / 60000) * 7 + e * 13 + s) % 100) == 0) continue; /* a missing minute */
      ph_time_format(t, ts, sizeof ts);
      len += (size_t)snprintf(g->buf + len, g->cap - len, "%s{\"ts\":\"%s\",\"point\":\"stack-%d\",\"values\":{",
                              nrec++ ? "," : "", ts, s + 1);
      for (int k = 0; k < NMET; k++)
        len += (size_t)snprintf(g->buf + len, g->cap - len, "%s\"%s\":%.1f", k ? "," : "", metrics[k],
                                walk(&g->v[e][s][k], k, &g->seed));
      len += (size_t)snprintf(g->buf + len, g->cap - len, "}%s}",
                              t == day_ms ? ",\"flags\":{\"so2\":\"C\",\"nox\":\"C\",\"pm\":\"C\",\"flow\":\"C\","
                                            "\"o2\":\"C\",\"temp\":\"C\"}" : "");
      g->values += NMET;
    }
  len += (size_t)snprintf(g->buf + len, g->cap - len, "]}");
  struct ph_item *it = ph_queue_acquire(g->q);
  if (!it) return die("queue", "closed");
  it->type = PH_ITEM_BATCH;
  it->park_idx = 0;
  it->ent_idx = e;
  it->recv_ms = ph_now_ms();
  it->ackable = false;
  it->code = 0;
  it->reason[0] = '\0';
  snprintf(it->topic_raw, sizeof it->topic_raw, "parkhub/v1/bench/e%03d/gw%03d/ev/emission", e, e);
  struct ph_err err = {0};
  struct ph_decode_opts o = {.cat = g->cat, .kind = PH_KIND_EMISSION};
  if (ph_topic_parse(it->topic_raw, strlen(it->topic_raw), &it->topic, &err) ||
      ph_batch_decode(g->buf, len, &o, &it->batch, &err)) {
    ph_queue_release(g->q, it);
    return die("batch", err.msg);
  }
  ph_queue_push(g->q, PH_STAGE_DECODED, it);
  return 0;
}

static int64_t q_int(sqlite3 *db, const char *sql) {
  sqlite3_stmt *s;
  int64_t v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

/* The biggest tables and indexes (dbstat, when SQLite has it). */
static void tables(sqlite3 *db) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(db, "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 8", -1, &s,
                         NULL) != SQLITE_OK) {
    printf("  (no dbstat in this SQLite: no per-table sizes)\n");
    sqlite3_finalize(s);
    return;
  }
  while (sqlite3_step(s) == SQLITE_ROW)
    printf("  %-28s %8.1f MiB\n", (const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1) / 1048576.0);
  sqlite3_finalize(s);
}

/* The summary's figures of every enterprise for so2, nox and pm over the
 * days generated, timed. */
static int summary(sqlite3 *db, const struct ph_refs *refs, int ents, int64_t from, int64_t to) {
  const struct ph_hub_park *p = &refs->cfg->parks[0];
  double t0 = now_s(), kg = 0;
  int64_t exceeded = 0;
  ph_stmt_cache_begin(db);
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  for (int e = 0; e < ents; e++)
    for (int k = 0; k < 3; k++) {
      struct ph_emission_mass m;
      struct ph_compliance c;
      struct ph_err err = {0};
      int rc = ph_emission_mass_compute(db, p, refs->tz[0], refs->cat, "bench", p->ents[e].id, metrics[k], from, to,
                                        PH_MASS_BY_YEAR, &m, &err);
      if (!rc) kg += m.total.mass;
      ph_emission_mass_fini(&m);
      if (!rc) rc = ph_compliance_summary(db, p, refs->tz[0], "bench", p->ents[e].id, NULL, metrics[k], from, to, &c,
                                          &err);
      if (rc) return die("summary", err.msg);
      exceeded += c.hours.exceeded;
    }
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  ph_stmt_cache_end(db);
  printf("summary figures (%d enterprises × so2, nox, pm over the days): %.0f ms; %.1f t emitted, %lld exceedance hours\n",
         ents, (now_s() - t0) * 1e3, kg / 1000, (long long)exceeded);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s DIR [DAYS [ENTS]]\n", argv[0]);
    return 2;
  }
  int days = argc > 2 ? atoi(argv[2]) : 7, ents = argc > 3 ? atoi(argv[3]) : 100;
  if (days < 1 || days > 366 || ents < 1 || ents > 100) return die("arguments", "DAYS 1..366, ENTS 1..100");
  char db_path[512], cfg_path[600];
  snprintf(db_path, sizeof db_path, "%s/storage.db", argv[1]);
  for (const char *sfx = ""; sfx; sfx = !*sfx ? "-wal" : strcmp(sfx, "-wal") == 0 ? "-shm" : NULL) {
    char f[600];
    snprintf(f, sizeof f, "%s%s", db_path, sfx);
    remove(f);
  }
  static struct ph_hub_config cfg;
  struct ph_err err = {0};
  struct ph_catalog *cat;
  struct ph_tz *tz;
  struct ph_limits *lim;
  if (write_config(argv[1], db_path, ents, cfg_path, sizeof cfg_path)) return die("config", "cannot write");
  if (ph_hub_config_load(cfg_path, &cfg, &err) || ph_catalog_load_builtin(&cat, &err) ||
      ph_tz_load("Asia/Shanghai", &tz, &err) || ph_limits_load_builtin(&lim, &err))
    return die("loading", err.msg);
  struct ph_refs refs = {.cfg = &cfg, .cat = cat, .tz = {tz}, .limits = {lim}, .nlimits = 1};
  struct ph_store *st;
  struct ph_queue *q;
  struct ph_writer *w;
  if (ph_store_open(db_path, &st, &err)) return die("store", err.msg);
  if (ph_queue_new((size_t)cfg.queue_batches, &q)) return die("queue", "cannot make");
  struct ph_writer_conf wc = {.refs = &refs, .q = q, .store = st};
  if (ph_writer_start(&wc, &w, &err)) return die("writer", err.msg);

  int64_t d0 = ph_tz_day_start(tz, ph_now_ms()) - (int64_t)(days + 1) * DAY_MS; /* closed days (UTC+8, no DST) */
  struct gen g = {.q = q, .cat = cat, .cap = 64 * 1024, .seed = 42};
  g.buf = malloc(g.cap);
  g.v = calloc((size_t)ents, sizeof *g.v);
  for (int e = 0; e < ents; e++)
    for (int s = 0; s < 2; s++)
      for (int k = 0; k < NMET; k++) g.v[e][s][k] = base[k];
  double t0 = now_s();
  int64_t seq = 0;
  for (int d = 0; d < days; d++)
    for (int h = 0; h < 24; h++) {
      seq++;
      for (int e = 0; e < ents; e++)
        if (hour_batch(&g, e, d0 + d * DAY_MS + h * 3600000LL, seq, d0 + d * DAY_MS)) return 1;
    }
  if (ph_writer_drain(w, 600000)) return die("writer", "did not drain in 10 minutes");
  double t_write = now_s() - t0;
  ph_queue_close(q);
  ph_writer_stop(w);
  sqlite3 *db = ph_store_db(st);
  double t1 = now_s();
  int rc;
  for (int i = 0; i < 100000 && (rc = ph_cems_update(db, &refs, ph_now_ms(), &err)) == 1; i++) {
  }
  if (rc < 0) return die("cems update", err.msg);
  double t_cems = now_s() - t1;
  sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
  struct stat sb;
  if (stat(db_path, &sb)) return die("stat", db_path);
  double mib = sb.st_size / 1048576.0, year = 365.0 / days;
  printf("generated: %d days × %d enterprises × 2 stacks × %d metrics, 1-minute data: %llu values\n", days, ents, NMET,
         (unsigned long long)g.values);
  printf("time: writer %.1f s (%.0f values/s), CEMS update %.1f s\n", t_write, g.values / t_write, t_cems);
  printf("database: %.1f MiB; %.1f bytes per value; %.2f MiB per enterprise for these days\n", mib,
         sb.st_size / (double)g.values, mib / ents);
  printf("a year, extrapolated (x %.1f): %.1f GiB for these %d enterprises, %.1f MiB per enterprise,"
         " %.1f GiB per 100 enterprises\n", year, mib * year / 1024, ents, mib * year / ents,
         mib * year / ents * 100 / 1024);
  printf("rows: %lld raw chunks, %lld minute rollups, %lld hour rollups, %lld CEMS hours, %lld daily aggregates\n",
         (long long)q_int(db, "SELECT count(*) FROM samples"),
         (long long)q_int(db, "SELECT count(*) FROM rollups WHERE period = 0"),
         (long long)q_int(db, "SELECT count(*) FROM rollups WHERE period = 1"),
         (long long)q_int(db, "SELECT count(*) FROM cems_hours"),
         (long long)q_int(db, "SELECT count(*) FROM cems_agg_days"));
  tables(db);
  rc = summary(db, &refs, ents, d0, d0 + days * DAY_MS);
  ph_store_close(st);
  ph_queue_free(q);
  free(g.buf);
  free(g.v);
  ph_limits_free(lim);
  ph_tz_free(tz);
  ph_catalog_free(cat);
  ph_hub_config_fini(&cfg);
  remove(cfg_path);
  return rc;
}
