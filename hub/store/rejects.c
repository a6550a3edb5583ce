/* rejects.c — the rejects table within bounds (rejects.h).
 *
 * Callers: writer.c. Thread: the writer. Owns: a token bucket per topic
 * identity that sent a refusal (configured agents only; every other topic
 * shares bucket 0), the row count.
 *
 * Invariants:
 *  1. rows (committed) and pending (this transaction's) count the table:
 *     the count is read once at start and follows every insert and delete,
 *     so the size bound costs no query.
 *  2. after each of the writer's transactions the table holds at most
 *     max_rows rows (ph_rejects_enforce runs inside it).
 *  3. a bucket exists only for an identity of the config: memory is
 *     bounded by the configured agents, whatever topics a sender invents.
 */
#include "store/rejects.h"

#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "ingest/idmap.h"
#include "parkhub/log.h"
#include "parkhub/timefmt.h"

#define MOD "rejects"
#define SUMMARY_MS 10000

struct bucket {
  double tokens;
  int64_t last_ms;
};

struct ph_rejects {
  const struct ph_hub_config *cfg;
  struct ph_store *store;
  struct bucket *b; /* b[0]: every topic that is not a configured agent's */
  size_t nb, capb;
  struct ph_idmap ids; /* "park_idx/ent_idx/agent" → index in b */
  int64_t pending;     /* rows = committed + pending inside the transaction (inv. 1) */
  int64_t paused_until; /* mono ms: after a full database */
  struct ph_rejects_stats st;
  struct ph_ratelimit rl;
};

/* Rows of PH_REJECT_ROW_BYTES in mb MB. */
static int64_t rows_in(int64_t mb) { return mb * (1048576 / PH_REJECT_ROW_BYTES); }

void ph_rejects_set_max_size(struct ph_rejects *r, int64_t max_size_mb) {
  int64_t mb_rows = rows_in(r->cfg->rejects_max_mb);
  if (max_size_mb > 0) {
    int64_t share = rows_in(max_size_mb) * r->cfg->rejects_max_pct / 100;
    if (share < mb_rows) mb_rows = share;
  }
  r->st.max_rows = mb_rows > 0 ? mb_rows : 1;
}

int ph_rejects_new(const struct ph_hub_config *cfg, struct ph_store *store, struct ph_rejects **out,
                   struct ph_err *err) {
  struct ph_rejects *r = ph_calloc(1, sizeof *r);
  if (!r || !(r->b = ph_calloc(64, sizeof *r->b))) {
    ph_free(r);
    return ph_fail(err, PH_ENOMEM, "rejects: out of memory");
  }
  r->cfg = cfg;
  r->store = store;
  r->capb = 64;
  r->nb = 1;
  ph_idmap_init(&r->ids);
  ph_ratelimit_init(&r->rl, SUMMARY_MS);
  r->b[0] = (struct bucket){.tokens = (double)cfg->rejects_per_min, .last_ms = ph_mono_ms()};
  ph_rejects_set_max_size(r, cfg->max_size_mb);
  int64_t n = ph_store_rejects_count(store);
  if (n < 0) {
    ph_rejects_free(r);
    return ph_fail(err, (int)n, "rejects: counting the table's rows failed");
  }
  r->st.rows = n;
  *out = r;
  return 0;
}

void ph_rejects_free(struct ph_rejects *r) {
  if (!r) return;
  ph_idmap_fini(&r->ids);
  ph_free(r->b);
  ph_free(r);
}

/* The bucket of it's topic identity (inv. 3); b[0] when it names no configured agent. */
static struct bucket *bucket_of(struct ph_rejects *r, const struct ph_item *it) {
  if (it->park_idx < 0 || it->ent_idx < 0 || it->type != PH_ITEM_REJECT ||
      !ph_hub_ent_has_agent(&r->cfg->parks[it->park_idx].ents[it->ent_idx], it->topic.agent))
    return &r->b[0];
  char key[PH_ID_MAX + 32];
  int len = snprintf(key, sizeof key, "%d/%d/%s", it->park_idx, it->ent_idx, it->topic.agent);
  int64_t i;
  if (ph_idmap_get(&r->ids, key, (size_t)len, &i)) return &r->b[i];
  if (r->nb == r->capb) {
    struct bucket *p = ph_realloc(r->b, 2 * r->capb * sizeof *p);
    if (!p) return &r->b[0];
    r->b = p;
    r->capb *= 2;
  }
  if (ph_idmap_put(&r->ids, key, (size_t)len, (int64_t)r->nb)) return &r->b[0];
  r->b[r->nb] = (struct bucket){.tokens = (double)r->cfg->rejects_per_min, .last_ms = ph_mono_ms()};
  return &r->b[r->nb++];
}

/* Whether a row may be stored now; counts and summarises the ones that may not. */
static bool admit(struct ph_rejects *r, const struct ph_item *it) {
  int64_t now = ph_mono_ms();
  const char *why = NULL;
  if (now < r->paused_until) {
    why = "the database was full: no refused batch is stored for a minute";
  } else {
    struct bucket *b = bucket_of(r, it);
    double per_min = (double)r->cfg->rejects_per_min;
    b->tokens += (double)(now - b->last_ms) * per_min / 60000.0;
    if (b->tokens > per_min) b->tokens = per_min;
    b->last_ms = now;
    if (b->tokens >= 1) {
      b->tokens -= 1;
      return true;
    }
    why = b == &r->b[0] ? "refused batches from topics of no configured agent, more than db.rejects_per_agent_per_min"
                        : "refused batches from one agent, more than db.rejects_per_agent_per_min";
  }
  r->st.unstored++;
  uint64_t sup = 0;
  if (ph_ratelimit_ok(&r->rl, now, &sup))
    PH_WARN(MOD, "not stored in the rejects table: %s (latest %s; %llu not stored since start, "
            "parkhub_rejects_unstored_total; every refusal still counts in parkhub_refused_total)",
            why, it->topic_raw, (unsigned long long)r->st.unstored);
  return false;
}

int ph_rejects_store(struct ph_rejects *r, const struct ph_item *it, int code) {
  if (!admit(r, it)) return 0;
  int rc = ph_store_reject(r->store, it->recv_ms, it->park_idx >= 0 ? it->topic.park : NULL, it->topic_raw,
                           it->batch.header_ok ? it->batch.agent : NULL, it->batch.header_ok ? it->batch.epoch : 0,
                           it->batch.header_ok ? it->batch.seq : 0, ph_errname(code), it->reason);
  if (rc) return rc;
  r->pending++;
  r->st.stored++;
  return 0;
}

int ph_rejects_enforce(struct ph_rejects *r) {
  int64_t over = r->st.rows + r->pending - r->st.max_rows;
  if (over <= 0) return 0;
  int64_t n = ph_store_rejects_trim(r->store, over);
  if (n < 0) return (int)n;
  r->pending -= n;
  r->st.deleted_size += (uint64_t)n;
  return 0;
}

void ph_rejects_committed(struct ph_rejects *r) {
  r->st.rows += r->pending;
  r->pending = 0;
}

void ph_rejects_rolled_back(struct ph_rejects *r) { r->pending = 0; }

int64_t ph_rejects_expire(struct ph_rejects *r, int64_t now_ms, struct ph_err *err) {
  int64_t cutoff = now_ms - r->cfg->rejects_keep_days * 86400000LL, total = 0, n;
  for (int i = 0; i < 20 && (n = ph_store_rejects_expire(r->store, cutoff, PH_REJECTS_EXPIRE_STEP)) > 0; i++) {
    total += n;
    r->st.rows -= n;
    r->st.deleted_age += (uint64_t)n;
    if (n < PH_REJECTS_EXPIRE_STEP) break;
  }
  if (n < 0) return ph_fail(err, (int)n, "rejects: deleting rows older than %lld days failed",
                            (long long)r->cfg->rejects_keep_days);
  return total;
}

int64_t ph_rejects_give_up(struct ph_rejects *r, struct ph_err *err) {
  r->paused_until = ph_mono_ms() + PH_REJECTS_PAUSE_MS;
  if (r->st.rows <= 0) return 0;
  int64_t n = ph_store_rejects_clear(r->store);
  if (n < 0) return ph_fail(err, (int)n, "rejects: deleting the table to make room failed");
  r->st.rows = 0;
  r->st.deleted_full += (uint64_t)n;
  PH_WARN(MOD, "database full: deleted all %lld rows of the rejects table to make room for data; no refused batch "
          "is stored for the next %d s", (long long)n, PH_REJECTS_PAUSE_MS / 1000);
  return n;
}

void ph_rejects_stats(const struct ph_rejects *r, struct ph_rejects_stats *st) { *st = r->st; }
