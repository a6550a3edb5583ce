/* up_rows.c — one forwarded row, read (park hub) and applied (regional
 * hub) (up_rows.h).
 *
 * Callers: up_outbox.c (encode, the forwarder's thread), up_apply.c (apply,
 * the regional writer). Threads: the caller's; statements through the
 * caller's statement cache bracket (domain/stmt_cache.h) when it opened one.
 * Owns nothing between calls.
 *
 * Invariants:
 *  1. a record names its row by natural key (park, ent, point, metric and
 *     one integer), never by a local id: each hub numbers its own series.
 *  2. a record carries the whole row as it is when sent: a later revision
 *     of the same row always carries data at least as new.
 *  3. the regional copy of a row changes only for a newer (epoch, rev)
 *     than the one applied last (up_rev): replays and late resends of an
 *     older revision are harmless.
 *  4. a record of a park the regional hub does not serve is refused.
 *  5. a key integer that is the sender's row id (alarms, their occurrences
 *     and log, entered stack test dates, agent events: kind.rowid) is stored as
 *     id << 16 | the number of the sender's outbox epoch (up_sender_nos):
 *     two park hubs' alarm 1 are two rows, an occurrence names its alarm's
 *     regional id, and each park hub's rows keep its order whatever order
 *     its batches arrive in (the regional hub applies batches above a gap),
 *     so a listing by id is the park hub's. A park hub whose database was
 *     made anew (a new epoch) numbers its rows from 1 again: its new rows
 *     get a new number and never overwrite the copies of the old ones,
 *     which stay as they last were (the region keeps that history).
 *  6. a record its table refuses (a null in a NOT NULL column) is a
 *     refusal of the batch (PH_EINVAL, skipped: regional.c), never a
 *     database failure the sender would resend for ever.
 */
#include "federation/up_rows.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "domain/stmt_cache.h"
#include "parkhub/ids.h"
#include "store/store.h"
#include "up_sql.h"

/* A kind's identity texts: park[, ent[, point[, metric]]], or an agent's
 * park, ent, agent. The first four count their texts; those of ID_PARK,
 * ID_ENT and ID_AGENT are bound as texts, a point's and a series' as the
 * regional hub's own id of them. */
enum ident { ID_PARK = 1, ID_ENT = 2, ID_POINT = 3, ID_SERIES = 4, ID_AGENT = 5 };
enum block { BLK_NONE, BLK_AGG, BLK_DAYS }; /* up_t_blk's kind (up_sql.h) + 1 */

/* A sender's row id as the regional tables hold it (inv. 5): the id times
 * 2^SENDER_BITS plus the sender's number, so ids stay unique across
 * senders and in each sender's own order (listings page by id). */
#define SENDER_BITS 16
#define ROWID_MAX (INT64_C(1) << (62 - SENDER_BITS))

struct kind {
  const char *name;
  enum ident ident; /* texts leading k: park[, ent[, point[, metric]]] */
  int nkeys;        /* integers after them (0: presence; 2: exceedances' period, bucket_ms; an alarm's and a row's id) */
  int nvals;
  const char *read, *del, *put;
  enum block block;                  /* a day row: its 8-day block is rebuilt after the batch */
  bool point_first;                  /* an hour rollup: its point's first hour may move earlier */
  bool epoch_param;                  /* ?20 is the sender's outbox epoch (materials) */
  bool rowid[2];                     /* key integers that are the sender's row ids (not a time, a period) */
};

static const struct kind kinds[PH_UP_NKINDS] = {
    {"cems_hours", ID_SERIES, 1, 6, UP_SQL_HOURS_READ, UP_SQL_HOURS_DEL, UP_SQL_HOURS_PUT, .block = BLK_NONE},
    {"cems_days", ID_SERIES, 1, 6, UP_SQL_DAYS_READ, UP_SQL_DAYS_DEL, UP_SQL_DAYS_PUT, .block = BLK_DAYS},
    {"cems_agg_days", ID_SERIES, 1, 10, UP_SQL_AGG_READ, UP_SQL_AGG_DEL, UP_SQL_AGG_PUT, .block = BLK_AGG},
    {"rollups", ID_SERIES, 1, 13, UP_SQL_ROLLUP_READ, UP_SQL_ROLLUP_DEL, UP_SQL_ROLLUP_PUT, .point_first = true},
    {"cems_op_hours", ID_POINT, 1, 2, UP_SQL_OP_READ, UP_SQL_OP_DEL, UP_SQL_OP_PUT, .block = BLK_NONE},
    {"cems_ent_days", ID_ENT, 1, 4, UP_SQL_ENT_DAYS_READ, UP_SQL_ENT_DAYS_DEL, UP_SQL_ENT_DAYS_PUT, .block = BLK_NONE},
    {"cems_ent_op_hours", ID_ENT, 1, 2, UP_SQL_ENT_OP_READ, UP_SQL_ENT_OP_DEL, UP_SQL_ENT_OP_PUT, .block = BLK_NONE},
    {"materials", ID_POINT, 1, 7, UP_SQL_MAT_READ, UP_SQL_MAT_DEL, UP_SQL_MAT_PUT, .epoch_param = true},
    {"exceedances", ID_SERIES, 2, 6, UP_SQL_EXC_READ, UP_SQL_EXC_DEL, UP_SQL_EXC_PUT, .block = BLK_NONE},
    {"stack_tests", ID_SERIES, 1, 13, UP_SQL_TEST_READ, UP_SQL_TEST_DEL, UP_SQL_TEST_PUT, .block = BLK_NONE},
    {"alarms", ID_PARK, 1, 20, UP_SQL_ALARM_READ, UP_SQL_ALARM_DEL, UP_SQL_ALARM_PUT, .rowid = {true}},
    {"alarm_occurrences", ID_PARK, 2, 11, UP_SQL_OCC_READ, UP_SQL_OCC_DEL, UP_SQL_OCC_PUT,
     .rowid = {true, true}},
    {"alarm_log", ID_PARK, 2, 5, UP_SQL_LOG_READ, UP_SQL_LOG_DEL, UP_SQL_LOG_PUT, .rowid = {true, true}},
    {"stack_test_dates", ID_ENT, 1, 4, UP_SQL_DATES_READ, UP_SQL_DATES_DEL, UP_SQL_DATES_PUT,
     .rowid = {true}},
    {"agent_status", ID_AGENT, 0, 3, UP_SQL_PRES_READ, UP_SQL_PRES_DEL, UP_SQL_PRES_PUT, .block = BLK_NONE},
    {"agent_events", ID_AGENT, 1, 3, UP_SQL_AEV_READ, UP_SQL_AEV_DEL, UP_SQL_AEV_PUT, .rowid = {true}},
};

static int ntexts(enum ident i) { return i == ID_AGENT ? 3 : (int)i; }
static bool texts_bound(enum ident i) { return i <= ID_ENT || i == ID_AGENT; }

#define EPOCH_PARAM 20 /* ?20: the sender's outbox epoch (kind.epoch_param) */
#define EXACT_INT 9007199254740992.0 /* 2^53: integers a JSON number holds exactly */

const char *ph_up_kind_name(int i) { return i >= 0 && i < PH_UP_NKINDS ? kinds[i].name : NULL; }

int ph_up_kind_find(const char *name) {
  for (int i = 0; i < PH_UP_NKINDS; i++)
    if (!strcmp(kinds[i].name, name)) return i;
  return -1;
}

static int db_fail(sqlite3 *db, struct ph_err *err, const char *what) {
  int code = sqlite3_errcode(db) == SQLITE_FULL ? PH_EFULL : PH_EDB;
  return ph_fail(err, code, "federation: %s: %s", what, sqlite3_errmsg(db));
}

/* ---- park side ---- */

static cJSON *column_json(sqlite3_stmt *st, int col) {
  switch (sqlite3_column_type(st, col)) {
  case SQLITE_INTEGER: return cJSON_CreateNumber((double)sqlite3_column_int64(st, col));
  case SQLITE_FLOAT: return cJSON_CreateNumber(sqlite3_column_double(st, col));
  case SQLITE_TEXT: return cJSON_CreateString((const char *)sqlite3_column_text(st, col));
  default: return cJSON_CreateNull();
  }
}

/* {"rev","t","k","v"} from the READ row in st. */
static cJSON *record_of(sqlite3_stmt *st, const struct kind *k, int64_t rev) {
  cJSON *rec = cJSON_CreateObject(), *key = cJSON_CreateArray(), *v;
  if (!rec || !key) goto oom;
  cJSON_AddNumberToObject(rec, "rev", (double)rev);
  cJSON_AddStringToObject(rec, "t", k->name);
  cJSON_AddItemToObject(rec, "k", key);
  int nk = ntexts(k->ident) + k->nkeys;
  for (int i = 0; i < nk; i++) cJSON_AddItemToArray(key, column_json(st, i));
  if (!sqlite3_column_int(st, nk)) {
    v = cJSON_AddNullToObject(rec, "v");
  } else if ((v = cJSON_AddArrayToObject(rec, "v"))) {
    for (int i = 0; i < k->nvals; i++) cJSON_AddItemToArray(v, column_json(st, nk + 1 + i));
  }
  if (!v) goto oom;
  return rec;
oom:
  cJSON_Delete(rec);
  if (!rec) cJSON_Delete(key);
  return NULL;
}

int ph_up_row_encode(void *dbv, const struct ph_up_change *ch, void *records, int *added, struct ph_err *err) {
  sqlite3 *db = dbv;
  *added = 0;
  int ki = ph_up_kind_find(ch->kind);
  if (ki < 0) return 0; /* a kind of a newer hub: nothing this one can name */
  const struct kind *k = &kinds[ki];
  sqlite3_stmt *st;
  if (ph_stmt_prepare(db, k->read, &st) != SQLITE_OK) return db_fail(db, err, k->name);
  if (ch->a_null) sqlite3_bind_null(st, 1); else sqlite3_bind_int64(st, 1, ch->a);
  if (ch->b_null) sqlite3_bind_null(st, 2); else sqlite3_bind_int64(st, 2, ch->b);
  sqlite3_bind_text(st, 3, ch->c, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, ch->d, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(st), out = 0;
  if (rc == SQLITE_ROW) {
    cJSON *rec = record_of(st, k, ch->seq);
    if (!rec) out = ph_fail(err, PH_ENOMEM, "federation: out of memory");
    else {
      cJSON_AddItemToArray(records, rec);
      *added = 1;
    }
  } else if (rc != SQLITE_DONE) {
    out = db_fail(db, err, k->name);
  }
  ph_stmt_release(st);
  return out;
}

/* ---- regional side ---- */

struct parsed {
  const struct kind *k;
  int64_t rev;
  const char *id[4]; /* park, ent, point, metric */
  int64_t key[2];
  int64_t bound[2]; /* key as bound: the regional id where kind.rowid says so */
  const cJSON *v;    /* array, or NULL: deleted */
  char ktext[4 * (PH_ID_MAX + 1) + 48];
};

static bool exact_int(const cJSON *n, int64_t *out) {
  if (!cJSON_IsNumber(n) || !isfinite(n->valuedouble) || fabs(n->valuedouble) > EXACT_INT ||
      n->valuedouble != floor(n->valuedouble))
    return false;
  *out = (int64_t)n->valuedouble;
  return true;
}

static bool served(const char *park, const char *const *parks, int nparks) {
  for (int i = 0; i < nparks; i++)
    if (!strcmp(parks[i], park)) return true;
  return false;
}

static int parse_record(const cJSON *rec, const char *const *parks, int nparks, struct parsed *p,
                        struct ph_err *err) {
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(rec, "t"), *k = cJSON_GetObjectItemCaseSensitive(rec, "k");
  p->v = cJSON_GetObjectItemCaseSensitive(rec, "v");
  if (!cJSON_IsObject(rec)) return ph_fail(err, PH_ETYPE, "record: not an object");
  if (!exact_int(cJSON_GetObjectItemCaseSensitive(rec, "rev"), &p->rev) || p->rev < 1)
    return ph_fail(err, PH_EMISSING, "record: rev missing or not a positive integer");
  if (!cJSON_IsString(t)) return ph_fail(err, PH_EMISSING, "record: t missing");
  int ki = ph_up_kind_find(t->valuestring);
  if (ki < 0) return ph_fail(err, PH_EENUM, "record: t \"%.40s\" is no forwarded table", t->valuestring);
  p->k = &kinds[ki];
  int nid = ntexts(p->k->ident);
  if (!cJSON_IsArray(k) || cJSON_GetArraySize(k) != nid + p->k->nkeys)
    return ph_fail(err, PH_ETYPE, "record %s: k must be an array of %d items", p->k->name, nid + p->k->nkeys);
  for (int i = 0; i < nid; i++) {
    const cJSON *s = cJSON_GetArrayItem(k, i);
    if (!cJSON_IsString(s) || !ph_id_valid_z(s->valuestring))
      return ph_fail(err, PH_EBADID, "record %s: k[%d] is not an id", p->k->name, i);
    p->id[i] = s->valuestring;
  }
  for (int i = 0; i < p->k->nkeys; i++)
    if (!exact_int(cJSON_GetArrayItem(k, nid + i), &p->key[i]) ||
        (p->k->rowid[i] && (p->key[i] < 1 || p->key[i] >= ROWID_MAX)))
      return ph_fail(err, PH_ETYPE, "record %s: k[%d] is not an integer%s", p->k->name, nid + i,
                     p->k->rowid[i] ? " row id (1 to 2^46)" : "");
  if (!served(p->id[0], parks, nparks))
    return ph_fail(err, PH_EIDENTITY, "record %s: park \"%s\" is not one this hub serves", p->k->name, p->id[0]);
  if (cJSON_IsNull(p->v)) p->v = NULL;
  else if (!cJSON_IsArray(p->v) || cJSON_GetArraySize(p->v) != p->k->nvals)
    return ph_fail(err, PH_ETYPE, "record %s: v must be null or an array of %d values", p->k->name, p->k->nvals);
  for (int i = 0; p->v && i < p->k->nvals; i++) {
    const cJSON *x = cJSON_GetArrayItem(p->v, i);
    if (!cJSON_IsNull(x) && !cJSON_IsString(x) && !(cJSON_IsNumber(x) && isfinite(x->valuedouble)))
      return ph_fail(err, PH_ETYPE, "record %s: v[%d] must be a number, a string or null", p->k->name, i);
  }
  int n = 0;
  for (int i = 0; i < nid; i++) n += snprintf(p->ktext + n, sizeof p->ktext - (size_t)n, "%s/", p->id[i]);
  for (int i = 0; i < p->k->nkeys; i++)
    n += snprintf(p->ktext + n, sizeof p->ktext - (size_t)n, "%s%lld", i ? "/" : "", (long long)p->key[i]);
  return 0;
}

/* 1 when up_rev holds (epoch, rev) or newer for the row. */
static int is_stale(sqlite3 *db, const char *sender, const struct parsed *p, int64_t epoch, int *stale) {
  sqlite3_stmt *st;
  if (ph_stmt_prepare(db, UP_SQL_REV_GET, &st) != SQLITE_OK) return PH_EDB;
  sqlite3_bind_text(st, 1, sender, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, p->k->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, p->ktext, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  *stale = 0;
  if (rc == SQLITE_ROW) {
    int64_t e = sqlite3_column_int64(st, 0), r = sqlite3_column_int64(st, 1);
    *stale = e > epoch || (e == epoch && r >= p->rev);
  }
  ph_stmt_release(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : PH_EDB;
}

static void bind_json(sqlite3_stmt *st, int i, const cJSON *x) {
  int64_t n;
  if (cJSON_IsString(x)) sqlite3_bind_text(st, i, x->valuestring, -1, SQLITE_STATIC);
  else if (exact_int(x, &n)) sqlite3_bind_int64(st, i, n);
  else if (cJSON_IsNumber(x)) sqlite3_bind_double(st, i, x->valuedouble);
  else sqlite3_bind_null(st, i);
}

/* Binds the row's identity and key (and values when with_values). */
static void bind_row(sqlite3_stmt *st, const struct parsed *p, int64_t local, int64_t epoch, bool with_values) {
  int i = 1;
  if (texts_bound(p->k->ident)) {
    for (int j = 0; j < ntexts(p->k->ident); j++) sqlite3_bind_text(st, i++, p->id[j], -1, SQLITE_STATIC);
  } else {
    sqlite3_bind_int64(st, i++, local);
  }
  for (int j = 0; j < p->k->nkeys; j++) sqlite3_bind_int64(st, i++, p->bound[j]);
  for (int j = 0; with_values && j < p->k->nvals; j++) bind_json(st, i++, cJSON_GetArrayItem(p->v, j));
  if (p->k->epoch_param) sqlite3_bind_int64(st, EPOCH_PARAM, epoch);
}

static int run(sqlite3 *db, const char *sql, const struct parsed *p, int64_t local, int64_t epoch, bool vals) {
  sqlite3_stmt *st;
  if (ph_stmt_prepare(db, sql, &st) != SQLITE_OK) return PH_EDB;
  bind_row(st, p, local, epoch, vals);
  int rc = sqlite3_step(st);
  ph_stmt_release(st);
  /* a value its table refuses (a null where the park hub never has one):
   * the sender's record, not this database, is at fault (inv. 6) */
  return rc == SQLITE_DONE ? 0 : (rc & 0xff) == SQLITE_CONSTRAINT ? PH_EINVAL : PH_EDB;
}

/* The regional hub's own id of the row's series or point (made on first use). */
static int local_id(struct ph_store *s, const struct parsed *p, int64_t *out) {
  int64_t point, metric;
  if (texts_bound(p->k->ident)) return 0;
  if (ph_store_point_id(s, p->id[0], p->id[1], p->id[2], &point)) return PH_EDB;
  *out = point;
  if (p->k->ident == ID_POINT) return 0;
  if (ph_store_metric_id(s, p->id[3], &metric)) return PH_EDB;
  return ph_store_series_id(s, point, metric, out) ? PH_EDB : 0;
}

/* The number of the sender's outbox epoch (given at its first row id,
 * kept in up_sender_nos). */
static int sender_no(sqlite3 *db, const char *sender, int64_t epoch, int64_t *no) {
  for (int pass = 0; pass < 2; pass++) {
    sqlite3_stmt *st;
    if (ph_stmt_prepare(db, pass ? UP_SQL_SENDER_ADD : UP_SQL_SENDER_GET, &st) != SQLITE_OK) return PH_EDB;
    sqlite3_bind_text(st, 1, sender, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, epoch);
    int rc = sqlite3_step(st);
    *no = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    ph_stmt_release(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return PH_EDB;
    if (*no) return 0;
  }
  return PH_EDB;
}

/* p->bound: the key as the regional tables hold it (inv. 5). */
static int map_ids(sqlite3 *db, const char *sender, int64_t epoch, struct parsed *p) {
  int64_t no = 0;
  for (int j = 0; j < p->k->nkeys; j++) {
    p->bound[j] = p->key[j];
    if (!p->k->rowid[j]) continue;
    if (!no && sender_no(db, sender, epoch, &no)) return PH_EDB;
    if (no >= (INT64_C(1) << SENDER_BITS)) return PH_EDB; /* 65535 senders' epochs: up_sender_nos says which */
    p->bound[j] = (p->key[j] << SENDER_BITS) | no;
  }
  return 0;
}

static int save_rev(sqlite3 *db, const char *sender, const struct parsed *p, int64_t epoch) {
  sqlite3_stmt *st;
  if (ph_stmt_prepare(db, UP_SQL_REV_PUT, &st) != SQLITE_OK) return PH_EDB;
  sqlite3_bind_text(st, 1, sender, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, p->k->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, p->ktext, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, epoch);
  sqlite3_bind_int64(st, 5, p->rev);
  int rc = sqlite3_step(st);
  ph_stmt_release(st);
  return rc == SQLITE_DONE ? 0 : PH_EDB;
}

/* One cell key (SQL: UP_SQL_BLK_KEY or _MON_KEY) of a day row. */
static int note_cell(sqlite3 *db, const char *sql, const struct parsed *p, int64_t local) {
  sqlite3_stmt *st;
  if (ph_stmt_prepare(db, sql, &st) != SQLITE_OK) return PH_EDB;
  sqlite3_bind_int(st, 1, (int)p->k->block - 1);
  sqlite3_bind_int64(st, 2, local);
  sqlite3_bind_int64(st, 3, p->key[0]);
  int rc = sqlite3_step(st);
  ph_stmt_release(st);
  return rc == SQLITE_DONE ? 0 : PH_EDB;
}

/* A day row of the aggregates or the daily means changed: its 8-day block
 * and its month cell are rebuilt at the end of the batch
 * (ph_up_blocks_rebuild). */
static int note_block(sqlite3 *db, const struct parsed *p, int64_t local) {
  if (p->k->block == BLK_NONE) return 0;
  int rc = note_cell(db, UP_SQL_BLK_KEY, p, local);
  return rc ? rc : note_cell(db, UP_SQL_MON_KEY, p, local);
}

int ph_up_blocks_begin(void *dbv, struct ph_err *err) {
  sqlite3 *db = dbv;
  return sqlite3_exec(db, UP_SQL_BLK_TEMP, NULL, NULL, NULL) == SQLITE_OK ? 0 : db_fail(db, err, "block keys");
}

int ph_up_blocks_rebuild(void *dbv, struct ph_err *err) {
  static const char *const steps[] = {UP_SQL_BLK_AGG_DEL, UP_SQL_BLK_AGG_PUT, UP_SQL_BLK_DAY_DEL, UP_SQL_BLK_DAY_PUT,
                                      UP_SQL_BLK_CLEAR,   UP_SQL_MON_AGG_DEL, UP_SQL_MON_AGG_PUT, UP_SQL_MON_DAY_DEL,
                                      UP_SQL_MON_DAY_PUT, UP_SQL_MON_CLEAR};
  sqlite3 *db = dbv;
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    sqlite3_stmt *st;
    if (ph_stmt_prepare(db, steps[i], &st) != SQLITE_OK) return db_fail(db, err, "8-day blocks and month cells");
    int rc = sqlite3_step(st);
    ph_stmt_release(st);
    if (rc != SQLITE_DONE) return db_fail(db, err, "8-day blocks and month cells");
  }
  return 0;
}

int ph_up_row_apply(struct ph_store *s, const char *sender, int64_t epoch, const void *rec,
                    const char *const *parks, int nparks, int *applied, struct ph_err *err) {
  sqlite3 *db = ph_store_db(s);
  struct parsed p = {0};
  int64_t local = 0;
  int stale, rc;
  *applied = 0;
  if ((rc = parse_record(rec, parks, nparks, &p, err))) return rc;
  if (is_stale(db, sender, &p, epoch, &stale)) return db_fail(db, err, "up_rev");
  if (stale) return 0;
  if (local_id(s, &p, &local) || map_ids(db, sender, epoch, &p)) return db_fail(db, err, "ids");
  if ((rc = run(db, p.k->del, &p, local, epoch, false)) || (p.v && (rc = run(db, p.k->put, &p, local, epoch, true))))
    return rc == PH_EINVAL ? ph_fail(err, rc, "record %s %s: a value its table refuses: %s", p.k->name, p.ktext,
                                     sqlite3_errmsg(db))
                           : db_fail(db, err, p.k->name);
  if (save_rev(db, sender, &p, epoch) || note_block(db, &p, local) ||
      (p.v && p.k->point_first && ph_store_point_first(s, local, p.key[0])))
    return db_fail(db, err, p.k->name);
  *applied = 1;
  return 0;
}
