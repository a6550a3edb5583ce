/* hub_metrics.c — the hub's counters as Prometheus text (hub_metrics.h).
 *
 * Callers: hub.c's /metrics callback, on an API worker thread, with a
 * snapshot it took through the stages' thread-safe *_stats functions.
 * Invariant: the output is the whole text or, when cap is short, a
 * truncated prefix plus the length it needs (the API asks again).
 */
#include "app/hub_metrics.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "parkhub/err.h"

struct out {
  char *buf;
  size_t cap, len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t room = o->len < o->cap ? o->cap - o->len : 0;
  int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
  va_end(ap);
  if (n > 0) o->len += (size_t)n;
}

static void family(struct out *o, const char *name, const char *type, const char *help) {
  put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter(struct out *o, const char *name, const char *help, unsigned long long v) {
  family(o, name, "counter", help);
  put(o, "%s %llu\n", name, v);
}

static void gauge(struct out *o, const char *name, const char *help, double v) {
  family(o, name, "gauge", help);
  put(o, "%s %.9g\n", name, v);
}

/* Refusals at ingest, plus the writer's (PH_ESEQAHEAD needs the stream's state). */
static void ingest(struct out *o, const struct ph_ingest_stats *in, const struct ph_writer_stats *w) {
  counter(o, "parkhub_messages_received_total", "MQTT messages the hub received on its topics.", in->messages);
  counter(o, "parkhub_batches_received_total", "Event batches that decoded and validated.", in->batches);
  counter(o, "parkhub_status_received_total", "Agent status messages received.", in->statuses);
  family(o, "parkhub_refused_total", "counter", "Messages refused, by reason (error code).");
  put(o, "parkhub_refused_total{reason=\"all\"} %llu\n", (unsigned long long)(in->refused + w->refused_ahead));
  for (int i = 1; i < PH_NCODES; i++) {
    const char *name = ph_errname(-i);
    uint64_t n = in->refused_by_code[i] + (-i == PH_ESEQAHEAD ? w->refused_ahead : 0);
    if (n) put(o, "parkhub_refused_total{reason=\"%s\"} %llu\n", name ? name : "other", (unsigned long long)n);
  }
}

static void writer(struct out *o, const struct ph_writer_stats *w) {
  counter(o, "parkhub_batches_stored_total", "Batches committed to the database.", w->batches);
  counter(o, "parkhub_records_stored_total", "Records committed (measurements and materials).", w->records);
  counter(o, "parkhub_values_stored_total", "Measured values committed.", w->values);
  counter(o, "parkhub_materials_unclassified_total",
          "Material records stored with a code their park does not declare (nor the catalogue): in the ledger, "
          "counted apart in the report.",
          w->materials_unclassified);
  counter(o, "parkhub_duplicates_total", "Batches already stored (resends), acked and dropped.", w->duplicates);
  counter(o, "parkhub_rejects_stored_total", "Refused batches recorded in the rejects table.", w->rejects);
  counter(o, "parkhub_gaps_total", "Data losses declared by agents (oldest past the hub's upto).", w->gaps);
  gauge(o, "parkhub_streams_in_memory", "(agent, epoch) dedupe streams held in memory.", (double)w->streams);
  counter(o, "parkhub_streams_released_total",
          "Idle streams of an agent's older epochs released from memory (the database keeps them).",
          w->streams_released);
  counter(o, "parkhub_rejects_unstored_total",
          "Refused batches not stored in the rejects table: past db.rejects_per_agent_per_min of their topic "
          "identity, or within a minute of a full database (still counted in parkhub_refused_total).",
          w->rj.unstored);
  family(o, "parkhub_rejects_deleted_total", "counter",
         "Rows deleted from the rejects table: older than db.rejects_keep_days (age), past its size bound (size), "
         "to make room in a full database (full).");
  put(o, "parkhub_rejects_deleted_total{why=\"age\"} %llu\n", (unsigned long long)w->rj.deleted_age);
  put(o, "parkhub_rejects_deleted_total{why=\"size\"} %llu\n", (unsigned long long)w->rj.deleted_size);
  put(o, "parkhub_rejects_deleted_total{why=\"full\"} %llu\n", (unsigned long long)w->rj.deleted_full);
  gauge(o, "parkhub_rejects_rows", "Rows in the rejects table.", (double)w->rj.rows);
  gauge(o, "parkhub_rejects_max_rows", "The rejects table's size bound, in rows of 1 KiB.", (double)w->rj.max_rows);
  gauge(o, "parkhub_database_full", "1 while writes fail because the disk or db.max_size_mb is full (no acks).",
        w->db_full ? 1 : 0);
  counter(o, "parkhub_commits_total", "Writer transactions committed.", w->groups);
  counter(o, "parkhub_commit_failures_total", "Writer transactions that failed (retried; nothing acked).",
          w->commit_failures);
  gauge(o, "parkhub_commit_latency_seconds_mean", "Mean time of a writer transaction.",
        w->groups ? (double)w->commit_us_total / (double)w->groups / 1e6 : 0);
  gauge(o, "parkhub_commit_latency_seconds_max", "Longest writer transaction since start.",
        (double)w->commit_us_max / 1e6);
  gauge(o, "parkhub_wal_frames", "Frames in the database's WAL after the last commit.", (double)w->wal_frames);
  counter(o, "parkhub_wal_restarts_total",
          "Checkpoints the writer ran so that the WAL starts over (it stays near 16 MB under load).",
          w->wal_restarts);
  counter(o, "parkhub_acks_sent_total", "Cumulative acks published to agents.", w->acks_sent);
  gauge(o, "parkhub_acks_pending", "Acks waiting for room in the MQTT in-flight window.", (double)w->acks_pending);
  if (w->disk_free_mb >= 0) {
    gauge(o, "parkhub_disk_free_bytes", "Free space where the database is (checked every few seconds).",
          (double)w->disk_free_mb * 1048576.0);
    gauge(o, "parkhub_disk_low", "1 while the free space is below db.min_free_mb (logged as a warning).",
          w->disk_low ? 1 : 0);
  }
}

/* Federation (docs/wire.md): the park hub's upward outbox, the regional hub's intake. */
static void federation(struct out *o, const struct ph_hub_snapshot *s) {
  if (s->have_up) {
    gauge(o, "parkhub_upstream_connected", "1 while the link to the regional hub's broker is up.",
          s->up.connected ? 1 : 0);
    gauge(o, "parkhub_upstream_outbox_changes", "Forwarded-row changes not yet acked by the regional hub.",
          (double)s->up.pending);
    counter(o, "parkhub_upstream_batches_sent_total", "Upward batches published (resends included).",
            s->up.batches_sent);
    counter(o, "parkhub_upstream_resends_total", "Times the forwarder sent again from the regional hub's ack.",
            s->up.resends);
    counter(o, "parkhub_upstream_changes_acked_total", "Outbox changes deleted at the regional hub's ack.",
            s->up.changes_acked);
    counter(o, "parkhub_upstream_acks_refused_total", "Acks unreadable or not of this outbox's epoch, ignored.",
            s->up.refused_acks);
  }
  if (s->have_reg) {
    counter(o, "parkhub_regional_batches_total", "Upward batches received (committed, duplicate or refused).",
            s->reg.batches);
    counter(o, "parkhub_regional_duplicates_total", "Upward batches already held, acked again.",
            s->reg.duplicates);
    counter(o, "parkhub_regional_refused_total", "Upward batches refused (logged).", s->reg.refused);
    counter(o, "parkhub_regional_records_applied_total", "Forwarded rows replaced by a newer revision.",
            s->reg.applied);
    counter(o, "parkhub_regional_records_stale_total", "Forwarded rows older than the revision held: unchanged.",
            s->reg.stale);
    counter(o, "parkhub_regional_gaps_total", "Batches a park hub declared lost (oldest past the ack).",
            s->reg.gaps);
    counter(o, "parkhub_regional_config_mismatches_total",
            "Upward batches whose sender configures one of its parks otherwise than this hub (logged).",
            s->reg.config_mismatches);
  }
}

int ph_hub_metrics_text(const struct ph_hub_snapshot *s, char *buf, size_t cap) {
  struct out o = {.buf = buf, .cap = cap};
  if (cap) buf[0] = '\0';
  ingest(&o, &s->in, &s->w);
  gauge(&o, "parkhub_queue_depth", "Items between MQTT and the committed database.", (double)s->q.depth);
  gauge(&o, "parkhub_queue_capacity", "Items the ingest queue holds at most.", (double)s->q.capacity);
  counter(&o, "parkhub_queue_waits_total", "Times the MQTT callback waited for a free queue item (back-pressure).",
          s->q.waits);
  writer(&o, &s->w);
  gauge(&o, "parkhub_mqtt_connected", "1 while the hub is connected to its broker.", s->mqtt.connected ? 1 : 0);
  counter(&o, "parkhub_mqtt_connection_losses_total", "Broker connections lost.", s->mqtt.losses);
  counter(&o, "parkhub_mqtt_failovers_total", "Connections made to another broker node than the previous one.",
          s->mqtt.failovers);
  if (s->have_deliver) {
    counter(&o, "parkhub_alarm_messages_published_total", "Alarm transitions published on MQTT.", s->dl.published);
    counter(&o, "parkhub_alarm_messages_lost_total", "Alarm messages that could not be delivered.", s->dl.lost);
  }
  federation(&o, s);
  return o.len > (size_t)INT32_MAX ? -1 : (int)o.len;
}
