/* up_rows.h — one forwarded row, both ways: read on the park hub by its
 * outbox key and written as a record of an upward batch; applied on the
 * regional hub by its natural key, keeping the newest revision.
 *
 * A record (docs/wire.md, schemas/up-batch.schema.json):
 *   {"rev": R, "t": kind, "k": [park, ent, (point, (metric,)) key ints…], "v": [values…] | null}
 * v null: the row no longer exists on the park hub.
 *
 * Kinds (the tables forwarded, names as in upstream.forward): cems_hours,
 * cems_days, cems_agg_days, cems_ent_days, cems_op_hours,
 * cems_ent_op_hours, rollups (the hour rows of closed hours), materials,
 * exceedances (k: … metric, period, bucket_ms), stack_tests (the minute
 * rows of pcdd_f series: the stack tests' samples), and (issue #21, k:
 * park, then the park hub's row ids) alarms [park, id],
 * alarm_occurrences and alarm_log [park, alarm, id], stack_test_dates
 * (the dates an admin entered: [park, ent, id]), and agent presence:
 * agent_status (an agent and its latest status: [park, ent, agent]) and
 * agent_events ([park, ent, agent, id]).
 *
 * Threads: the caller's, on a connection of its own (sqlite3 *db borrowed).
 */
#ifndef PARKHUB_UP_ROWS_H
#define PARKHUB_UP_ROWS_H

#include <stdbool.h>
#include <stdint.h>

#include "parkhub/err.h"

#define PH_UP_NKINDS 16

/* The kind's name, or NULL past the last (i from 0). */
const char *ph_up_kind_name(int i);
/* Index of a kind by name, or -1. */
int ph_up_kind_find(const char *name);

/* One outbox row (up_outbox): its revision, kind and local key. */
struct ph_up_change {
  int64_t seq;
  char kind[32];
  int64_t a, b;
  bool a_null, b_null;
  char c[64], d[64];
};

/* Appends the record of ch to records (a cJSON array, as void * so this
 * header needs no cJSON): the row as it is now, or its deletion. *added 0
 * when there is nothing to name (a material row gone, an unknown kind).
 * 0 or PH_EDB/PH_ENOMEM with err set. */
int ph_up_row_encode(void *db, const struct ph_up_change *ch, void *records, int *added, struct ph_err *err);

struct ph_store;
/* Applies one record (a const cJSON *) sent by sender (a park hub id) in
 * its outbox epoch: replaces the row by its natural key unless up_rev holds
 * a newer (epoch, rev) for it; *applied 1 when it did, 0 when stale. Only
 * parks in parks[0..nparks) are accepted. Inside the caller's transaction.
 * 0, PH_EDB, or a refusal code (PH_ETYPE, PH_EMISSING, PH_EBADID,
 * PH_EIDENTITY, PH_EENUM) with err saying which field. */
int ph_up_row_apply(struct ph_store *s, const char *sender, int64_t epoch, const void *rec,
                    const char *const *parks, int nparks, int *applied, struct ph_err *err);

/* The 8-day blocks above the day rows a batch applies (up_sql.h): begin
 * before its first ph_up_row_apply, rebuild after its last, in the same
 * transaction (db: a sqlite3 *). 0 or PH_EDB with err set. */
int ph_up_blocks_begin(void *db, struct ph_err *err);
int ph_up_blocks_rebuild(void *db, struct ph_err *err);

#endif
