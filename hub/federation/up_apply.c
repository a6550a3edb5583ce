/* up_apply.c — an upward batch on the regional hub (up_apply.h).
 *
 * Callers: regional.c (the regional writer). Threads: that one.
 * Owns nothing between calls; the dedupe state is up_streams, in the same
 * transaction as the rows, so what is acked is stored and what is stored
 * is never applied twice over a newer revision.
 *
 * Dedupe per (sender, epoch), as an agent's stream (DESIGN.md): upto is the
 * highest seq below which every batch is held; batches above it arrived
 * out of order are listed (above, at most PH_UP_ABOVE_MAX). A batch at or
 * below upto, or listed, is a duplicate: nothing applied, acked again.
 * oldest > upto + 1 declares that the sender dropped batches: upto moves
 * past them (counted in the result, logged by the caller).
 *
 * Invariants:
 *  1. the ack (res->upto) covers only batches held in this transaction or
 *     an earlier committed one.
 *  2. a batch whose seq is further ahead of upto than PH_UP_SEQ_AHEAD_MAX,
 *     or whose oldest lies above its seq, is refused and moves nothing.
 *  3. bounded: payload ≤ PH_UP_PAYLOAD_MAX bytes, records ≤
 *     PH_UP_BATCH_MAX_RECORDS, the out-of-order list ≤ PH_UP_ABOVE_MAX.
 */
#include "federation/up_apply.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/stmt_cache.h"
#include "federation/up_outbox.h"
#include "federation/up_rows.h"
#include "store/store.h"
#include "up_sql.h"


struct stream {
  int64_t upto;
  int64_t above[PH_UP_ABOVE_MAX];
  int nabove;
};

static bool int_field(const cJSON *o, const char *name, int64_t min, int64_t *out) {
  const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, name);
  if (!cJSON_IsNumber(n) || !isfinite(n->valuedouble) || n->valuedouble != floor(n->valuedouble) ||
      n->valuedouble < (double)min || n->valuedouble > 9007199254740992.0)
    return false;
  *out = (int64_t)n->valuedouble;
  return true;
}

/* "config": {park: fingerprint}, optional; ids and short strings only. */
static int config_field(const cJSON *env, struct ph_up_result *res, struct ph_err *err) {
  const cJSON *c = cJSON_GetObjectItemCaseSensitive(env, "config"), *m;
  if (!c) return 0;
  if (!cJSON_IsObject(c)) return ph_fail(err, PH_ETYPE, "upward batch: config must be an object");
  cJSON_ArrayForEach(m, c) {
    if (!ph_id_valid_z(m->string) || !cJSON_IsString(m) || strlen(m->valuestring) >= sizeof res->config[0].fp)
      return ph_fail(err, PH_ETYPE, "upward batch: config must map park ids to fingerprints");
    if (res->nconfig == PH_UP_CONFIG_MAX) continue;
    snprintf(res->config[res->nconfig].park, sizeof res->config[0].park, "%s", m->string);
    snprintf(res->config[res->nconfig++].fp, sizeof res->config[0].fp, "%s", m->valuestring);
  }
  return 0;
}

/* The envelope: v, agent, epoch, seq, oldest, records, config. */
static int envelope(const cJSON *env, struct ph_up_result *res, int64_t *oldest, const cJSON **records,
                    struct ph_err *err) {
  int64_t v;
  const cJSON *agent = cJSON_GetObjectItemCaseSensitive(env, "agent");
  if (!cJSON_IsObject(env)) return ph_fail(err, PH_ETYPE, "upward batch: not a JSON object");
  if (!int_field(env, "v", 0, &v) || v != 1) return ph_fail(err, PH_EVERSION, "upward batch: v must be 1");
  if (!cJSON_IsString(agent) || !ph_id_valid_z(agent->valuestring))
    return ph_fail(err, PH_EBADID, "upward batch: agent missing or not an id");
  snprintf(res->sender, sizeof res->sender, "%s", agent->valuestring);
  if (!int_field(env, "epoch", 0, &res->epoch) || !int_field(env, "seq", 1, &res->seq) ||
      !int_field(env, "oldest", 1, oldest))
    return ph_fail(err, PH_ESEQ, "upward batch: epoch, seq and oldest must be integers (seq, oldest ≥ 1)");
  res->ackable = true;
  if (*oldest > res->seq) return ph_fail(err, PH_ESEQ, "upward batch: oldest %lld above seq %lld",
                                         (long long)*oldest, (long long)res->seq);
  *records = cJSON_GetObjectItemCaseSensitive(env, "records");
  if (!cJSON_IsArray(*records)) return ph_fail(err, PH_EMISSING, "upward batch: records missing");
  if (cJSON_GetArraySize(*records) > PH_UP_BATCH_MAX_RECORDS)
    return ph_fail(err, PH_ETOOMANY, "upward batch: more than %d records", PH_UP_BATCH_MAX_RECORDS);
  return config_field(env, res, err);
}

static int stream_load(sqlite3 *db, const struct ph_up_result *res, struct stream *s) {
  sqlite3_stmt *st;
  memset(s, 0, sizeof *s);
  if (sqlite3_prepare_v2(db, UP_SQL_STREAM_GET, -1, &st, NULL) != SQLITE_OK) return PH_EDB;
  sqlite3_bind_text(st, 1, res->sender, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, res->epoch);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    s->upto = sqlite3_column_int64(st, 0);
    const char *p = (const char *)sqlite3_column_text(st, 1);
    while (p && *p && s->nabove < PH_UP_ABOVE_MAX) {
      char *end;
      s->above[s->nabove++] = strtoll(p, &end, 10);
      p = *end == ',' ? end + 1 : end;
      if (end == p && *p) break;
    }
  }
  sqlite3_finalize(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : PH_EDB;
}

static int stream_save(sqlite3 *db, const struct ph_up_result *res, const struct stream *s, int64_t now_ms) {
  char above[PH_UP_ABOVE_MAX * 21 + 1] = "";
  size_t n = 0;
  for (int i = 0; i < s->nabove; i++)
    n += (size_t)snprintf(above + n, sizeof above - n, "%s%lld", i ? "," : "", (long long)s->above[i]);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, UP_SQL_STREAM_PUT, -1, &st, NULL) != SQLITE_OK) return PH_EDB;
  sqlite3_bind_text(st, 1, res->sender, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, res->epoch);
  sqlite3_bind_int64(st, 3, s->upto);
  sqlite3_bind_text(st, 4, above, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 5, now_ms);
  sqlite3_bind_int64(st, 6, res->duplicate ? 0 : 1);
  sqlite3_bind_int64(st, 7, res->duplicate ? 1 : 0);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? 0 : PH_EDB;
}

static bool listed(const struct stream *s, int64_t seq) {
  for (int i = 0; i < s->nabove; i++)
    if (s->above[i] == seq) return true;
  return false;
}

/* Drops listed seqs at or below upto; then takes consecutive ones into upto. */
static void settle(struct stream *s) {
  bool moved = true;
  while (moved) {
    moved = false;
    int k = 0;
    for (int i = 0; i < s->nabove; i++) {
      if (s->above[i] == s->upto + 1) s->upto++, moved = true;
      if (s->above[i] > s->upto) s->above[k++] = s->above[i];
    }
    s->nabove = k;
  }
}

/* Where seq fits: 1 duplicate, 0 new, or a refusal. */
static int place(struct stream *s, struct ph_up_result *res, int64_t oldest, struct ph_err *err) {
  if (res->seq <= s->upto || listed(s, res->seq)) return 1;
  if (res->seq - s->upto > PH_UP_SEQ_AHEAD_MAX) {
    res->ackable = false;
    return ph_fail(err, PH_ESEQAHEAD, "upward batch: seq %lld is more than %d ahead of the ack %lld",
                   (long long)res->seq, PH_UP_SEQ_AHEAD_MAX, (long long)s->upto);
  }
  if (res->seq != s->upto + 1 && s->nabove == PH_UP_ABOVE_MAX) {
    res->ackable = false;
    return ph_fail(err, PH_ETOOMANY, "upward batch: %d batches already wait above the ack", PH_UP_ABOVE_MAX);
  }
  if (oldest > s->upto + 1) { /* declared loss: the sender holds nothing below oldest */
    res->gap = true;
    s->upto = oldest - 1;
    settle(s);
  }
  return 0;
}

/* seq is held from now on. */
static void hold(struct stream *s, int64_t seq) {
  if (seq == s->upto + 1) s->upto = seq;
  else if (s->nabove < PH_UP_ABOVE_MAX) s->above[s->nabove++] = seq; /* place() left room */
  settle(s);
}

static int apply_records(struct ph_store *st, const cJSON *records, const char *const *parks,
                         int nparks, struct ph_up_result *res, struct ph_err *err) {
  const cJSON *rec;
  int rc = ph_up_blocks_begin(ph_store_db(st), err);
  if (rc) return rc;
  cJSON_ArrayForEach(rec, records) {
    int applied;
    if ((rc = ph_up_row_apply(st, res->sender, res->epoch, rec, parks, nparks, &applied, err))) {
      if (rc != PH_EDB && rc != PH_EFULL) /* say which record: the batch is refused whole */
        snprintf(err->msg + strlen(err->msg), sizeof err->msg - strlen(err->msg), " (record %d)", res->records);
      return rc;
    }
    res->records++;
    res->applied += applied;
    res->stale += !applied;
  }
  return ph_up_blocks_rebuild(ph_store_db(st), err);
}

int ph_up_apply(struct ph_store *s, const char *topic_park, const void *payload, size_t len,
                const char *const *parks, int nparks, int64_t now_ms, struct ph_up_result *res, struct ph_err *err) {
  sqlite3 *db = ph_store_db(s);
  const cJSON *records = NULL;
  struct stream sm = {0};
  int64_t oldest = 0;
  memset(res, 0, sizeof *res);
  if (len > PH_UP_PAYLOAD_MAX) return ph_fail(err, PH_ETOOLARGE, "upward batch: %zu bytes (at most %d)", len, PH_UP_PAYLOAD_MAX);
  bool ours = false;
  for (int i = 0; i < nparks; i++) ours = ours || !strcmp(parks[i], topic_park);
  if (!ours) return ph_fail(err, PH_EIDENTITY, "upward batch: park \"%s\" is not one this hub serves", topic_park);
  cJSON *env = cJSON_ParseWithLength(payload, len);
  if (!env) return ph_fail(err, PH_EJSON, "upward batch: not valid JSON");
  int rc = envelope(env, res, &oldest, &records, err);
  if (!rc && (rc = stream_load(db, res, &sm))) ph_fail(err, rc, "database: up_streams: %s", sqlite3_errmsg(db));
  if (!rc) {
    int where = place(&sm, res, oldest, err);
    if (where < 0) rc = where;
    res->duplicate = where == 1;
  }
  if (!rc && !res->duplicate) {
    ph_stmt_cache_begin(db);
    rc = apply_records(s, records, parks, nparks, res, err);
    ph_stmt_cache_end(db);
    if (!rc) {
      hold(&sm, res->seq);
    }
  }
  if (!rc && stream_save(db, res, &sm, now_ms)) rc = ph_fail(err, PH_EDB, "database: up_streams: %s", sqlite3_errmsg(db));
  res->upto = sm.upto;
  cJSON_Delete(env);
  return rc;
}

int ph_up_skip(struct ph_store *s, const struct ph_up_result *refused, int64_t now_ms, int64_t *upto) {
  sqlite3 *db = ph_store_db(s);
  struct ph_up_result res = *refused;
  struct stream sm = {0};
  struct ph_err err = {0};
  res.duplicate = false;
  res.ackable = true;
  int rc = stream_load(db, &res, &sm);
  if (rc) return rc;
  int where = place(&sm, &res, 1, &err); /* oldest 1: declares no gap */
  if (where < 0) return where;
  if (where == 0) hold(&sm, res.seq);
  res.duplicate = where == 1;
  if (stream_save(db, &res, &sm, now_ms)) return PH_EDB;
  *upto = sm.upto;
  return 0;
}
