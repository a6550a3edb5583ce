/* agent.c — the agent loop (agent.h).
 *
 * One thread: poll() over the publisher's eventfd and the sources' fds,
 * with a timeout to the nearest of the sources' periods, the batcher's
 * deadline, the publisher's timers and the status refresh.
 *
 *   back-pressure:  RUNNING --outbox at cap (policy stop)--> PAUSED
 *                   PAUSED  --outbox below 90 % of cap-----> RUNNING
 *   (each transition is logged once; sources are simply not called while
 *   paused, so nothing is read that could not be stored)
 *
 * Shutdown order: stop reading, flush open batches to the outbox, publish
 * what the window allows, say offline, disconnect, close the outbox.
 */
#include "app/agent.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "publish/batcher.h"
#include "parkhub/log.h"
#include "publish/outbox.h"
#include "publish/publisher.h"
#include "parkhub/timefmt.h"

volatile sig_atomic_t ph_agent_stop_flag, ph_agent_hup_flag;

#define MOD "agent"

struct agent {
  struct ph_agent_config *cfg;
  const struct ph_catalog *cat;
  struct ph_outbox *ob;
  struct ph_batcher *bt;
  struct ph_publisher *pub;
  struct ph_source_io io[PH_AGENT_MAX_SOURCES];
  int64_t next_collect[PH_AGENT_MAX_SOURCES];
  struct ph_emitter *em[PH_AGENT_MAX_SOURCES];
  bool paused;
  int64_t status_at;
};

static size_t status_json(void *user, char *buf, size_t cap) {
  struct agent *a = user;
  const struct ph_batcher_stats *bs = ph_batcher_stats(a->bt);
  const struct ph_publisher_stats *ps = ph_publisher_stats(a->pub);
  char ts[PH_TIME_STRLEN];
  ph_time_format(ph_now_ms(), ts, sizeof ts);
  cJSON *o = cJSON_CreateObject(), *srcs, *ob, *ct;
  cJSON_AddNumberToObject(o, "v", 1);
  cJSON_AddStringToObject(o, "agent", a->cfg->agent);
  cJSON_AddStringToObject(o, "state", "online");
  cJSON_AddStringToObject(o, "ts", ts);
  cJSON_AddStringToObject(o, "version", PH_VERSION);
  srcs = cJSON_AddArrayToObject(o, "sources");
  for (int i = 0; i < a->cfg->nsources; i++) cJSON_AddItemToArray(srcs, cJSON_CreateString(a->cfg->sources[i].name));
  cJSON_AddNumberToObject(o, "epoch", (double)ph_outbox_epoch(a->ob));
  cJSON_AddNumberToObject(o, "next_seq", (double)ph_outbox_next_seq(a->ob));
  cJSON_AddNumberToObject(o, "last_acked_seq", (double)ph_outbox_last_acked(a->ob));
  ob = cJSON_AddObjectToObject(o, "outbox");
  cJSON_AddNumberToObject(ob, "depth", (double)ph_outbox_depth(a->ob));
  cJSON_AddNumberToObject(ob, "cap", (double)a->cfg->outbox_max_batches);
  cJSON_AddNumberToObject(ob, "bytes", (double)ph_outbox_bytes(a->ob));
  cJSON_AddBoolToObject(ob, "full", a->paused || ph_outbox_depth(a->ob) >= a->cfg->outbox_max_batches);
  cJSON_AddStringToObject(ob, "policy", a->cfg->outbox_policy == PH_FULL_STOP ? "stop" : "drop_oldest");
  ct = cJSON_AddObjectToObject(o, "counters");
  cJSON_AddNumberToObject(ct, "records", (double)bs->records);
  cJSON_AddNumberToObject(ct, "rejected", (double)bs->rejected);
  cJSON_AddNumberToObject(ct, "batches", (double)bs->batches);
  cJSON_AddNumberToObject(ct, "dropped_batches", (double)bs->dropped_batches);
  cJSON_AddNumberToObject(ct, "published", (double)ps->published);
  cJSON_AddNumberToObject(ct, "acked", (double)ps->acked);
  cJSON_AddNumberToObject(ct, "resent_rounds", (double)ps->resent_rounds);
  cJSON_AddNumberToObject(ct, "failovers", (double)ps->failovers);
  bool ok = cJSON_PrintPreallocated(o, buf, (int)cap, 0);
  cJSON_Delete(o);
  return ok ? strlen(buf) : 0;
}

static int start_sources(struct agent *a, struct ph_err *err) {
  for (int i = 0; i < a->cfg->nsources; i++) {
    struct ph_agent_source *s = &a->cfg->sources[i];
    struct ph_source_pos pos;
    int rc = ph_outbox_get_position(a->ob, s->name, &pos, err);
    if (rc) return rc;
    a->io[i] = (struct ph_source_io){.fd = -1, .period_ms = 1000};
    if ((rc = s->ops->start(s->ctx, pos.valid ? &pos : NULL, &a->io[i], err))) {
      char inner[PH_ERR_MSG_MAX];
      strcpy(inner, err->msg);
      return ph_fail(err, rc, "source %s: %s", s->name, inner);
    }
    s->started = true;
    a->em[i] = ph_batcher_emitter(a->bt, i, s->name);
    a->next_collect[i] = 0;
    PH_INFO(MOD, "source %s (%s) started%s", s->name, s->ops->name, pos.valid ? ", resuming" : "");
  }
  return 0;
}

static void check_backpressure(struct agent *a) {
  int64_t depth = ph_outbox_depth(a->ob), cap = a->cfg->outbox_max_batches;
  if (!a->paused && ph_batcher_full(a->bt)) {
    a->paused = true;
    PH_ERROR(MOD, "OUTBOX FULL: %lld batches (cap %lld) and the hub has not acked them; sources paused until it "
             "does (outbox.full_policy stop)", (long long)depth, (long long)cap);
    ph_publisher_status_now(a->pub);
  } else if (a->paused && depth < cap - cap / 10 && !ph_batcher_full(a->bt)) {
    a->paused = false;
    PH_WARN(MOD, "outbox below 90 %% of its cap (%lld batches): sources resumed", (long long)depth);
    ph_publisher_status_now(a->pub);
  }
}

static void flush(struct agent *a) {
  struct ph_err err = {0};
  int rc = ph_batcher_flush(a->bt, &err);
  if (rc && rc != PH_EFULL) PH_ERROR(MOD, "flush to the outbox failed (will retry): %s", err.msg);
}

static void collect_due(struct agent *a, const struct pollfd *pfd, const int *pidx, int64_t now) {
  if (a->paused) return;
  for (int i = 0; i < a->cfg->nsources; i++) {
    struct ph_agent_source *s = &a->cfg->sources[i];
    bool ready = pidx[i] >= 0 && (pfd[pidx[i]].revents & (POLLIN | POLLHUP | POLLERR));
    if (!ready && now < a->next_collect[i]) continue;
    int rc = s->ops->collect(s->ctx, a->em[i], ph_now_ms());
    if (rc < 0) PH_WARN(MOD, "source %s: %s", s->name, ph_strerror(rc));
    a->next_collect[i] = rc == 1 ? now : now + (a->io[i].period_ms > 0 ? a->io[i].period_ms : 1000);
    check_backpressure(a);
    if (a->paused) return;
  }
}

static int64_t next_wakeup(const struct agent *a, int64_t now) {
  int64_t t = a->status_at;
  if (!a->paused)
    for (int i = 0; i < a->cfg->nsources; i++)
      if (a->next_collect[i] < t) t = a->next_collect[i];
  int64_t d = ph_batcher_deadline(a->bt);
  if (d < t) t = d;
  d = ph_publisher_deadline(a->pub);
  if (d < t) t = d;
  t -= now;
  return t < 0 ? 0 : t > 1000 ? 1000 : t;
}

static void loop(struct agent *a) {
  struct pollfd pfd[PH_AGENT_MAX_SOURCES + 1];
  int pidx[PH_AGENT_MAX_SOURCES];
  memset(pfd, 0, sizeof pfd);
  while (!ph_agent_stop_flag) {
    int n = 0;
    pfd[n++] = (struct pollfd){.fd = ph_publisher_fd(a->pub), .events = POLLIN};
    for (int i = 0; i < a->cfg->nsources; i++) {
      pidx[i] = -1;
      if (!a->paused && a->io[i].fd >= 0) {
        pidx[i] = n;
        pfd[n++] = (struct pollfd){.fd = a->io[i].fd, .events = POLLIN};
      }
    }
    int64_t now = ph_mono_ms();
    if (poll(pfd, (nfds_t)n, (int)next_wakeup(a, now)) < 0 && errno != EINTR) {
      PH_ERROR(MOD, "poll: %s", strerror(errno));
      break;
    }
    now = ph_mono_ms();
    if (ph_agent_hup_flag) {
      ph_agent_hup_flag = 0;
      for (int i = 0; i < a->cfg->nsources; i++)
        if (a->cfg->sources[i].ops->reopen) a->cfg->sources[i].ops->reopen(a->cfg->sources[i].ctx);
      PH_INFO(MOD, "SIGHUP: sources reopened");
    }
    collect_due(a, pfd, pidx, now);
    if (ph_batcher_deadline(a->bt) <= now) flush(a);
    ph_publisher_service(a->pub, now);
    check_backpressure(a);
    if (now >= a->status_at) {
      ph_publisher_status_now(a->pub);
      a->status_at = now + a->cfg->status_interval_s * 1000;
    }
  }
}

static void teardown(struct agent *a) {
  if (a->bt && a->ob) flush(a);
  if (a->pub) {
    ph_publisher_service(a->pub, ph_mono_ms());
    ph_publisher_free(a->pub);
  }
  /* Sources are closed by ph_agent_config_fini, which owns them. */
  ph_batcher_free(a->bt);
  ph_outbox_close(a->ob);
}

int ph_agent_run(struct ph_agent_config *cfg, const struct ph_catalog *cat, struct ph_err *err) {
  struct agent a = {.cfg = cfg, .cat = cat};
  int rc = ph_outbox_open(cfg->outbox_path, &a.ob, err);
  if (rc) return rc;
  PH_INFO(MOD, "outbox %s: epoch %lld, next seq %lld, %lld batches held", cfg->outbox_path,
          (long long)ph_outbox_epoch(a.ob), (long long)ph_outbox_next_seq(a.ob), (long long)ph_outbox_depth(a.ob));
  struct ph_batcher_conf bc = {.cat = cat, .max_records = cfg->batch_max_records,
                               .max_delay_ms = cfg->batch_max_delay_ms, .cap = cfg->outbox_max_batches,
                               .drop_oldest = cfg->outbox_policy == PH_FULL_DROP_OLDEST};
  struct ph_publisher_conf pc = {.mqtt = &cfg->mqtt, .park = cfg->park, .ent = cfg->ent, .agent = cfg->agent,
                                 .resend_after_ms = cfg->resend_after_s * 1000, .status = status_json, .user = &a};
  if ((rc = ph_batcher_new(&bc, a.ob, &a.bt)) ? ph_fail(err, rc, "out of memory") : 0) goto out;
  if ((rc = ph_publisher_new(&pc, a.ob, &a.pub, err)) || (rc = start_sources(&a, err))) goto out;
  a.status_at = ph_mono_ms() + cfg->status_interval_s * 1000;
  loop(&a);
  PH_INFO(MOD, "stopping: flushing to the outbox");
out:
  teardown(&a);
  return rc;
}
