/* alarms_int.h — the alarm lifecycle's state, shared by alarms.c (the
 * transitions, the cache of open alarms, transactions, the sink) and
 * alarms_db.c (reading and writing rows). Not a public header.
 *
 * Threads: the writer's, one at a time. The cache holds a copy of every
 * row that is not closed (alarms.c inv. 2).
 */
#ifndef PH_ALARMS_INT_H
#define PH_ALARMS_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "alarms/alarms.h"
#include "parkhub/log.h"

enum {
  S_LOAD_OPEN, S_GET_OPEN, S_OPEN_OCC, S_MAX_ID, S_INSERT, S_UPDATE, S_OCC_INSERT, S_OCC_UPDATE, S_LOG, S_MESSAGE,
  S_STACK_TEST, S_COUNT
};

struct open {
  struct ph_alarm a;
  int64_t occ; /* open occurrence row; 0 when cleared */
  int64_t occ_start, occ_last, occ_count;
  bool occ_has_peak;
  double occ_peak;
  bool dirty;   /* memory ahead of the row (an update) */
  bool changed; /* count/value moved since its state was last emitted */
  int64_t emitted_ms;
};

struct ph_alarms {
  struct ph_alarms_conf c;
  sqlite3_stmt *q[S_COUNT];
  struct open **open; /* max_open slots */
  size_t nopen, max_open;
  uint32_t *hash; /* index + 1, TOMB: deleted */
  size_t mask, tombs;
  struct open **dirty; /* alarms updated in memory since the last commit */
  size_t ndirty;
  int64_t next_row;
  bool in_tx;
  struct ph_alarm_msg *outbox;
  size_t nout, outcap;
  int64_t next_refresh_scan;
  struct ph_alarms_stats st;
  struct ph_ratelimit rl;
};

/* alarms.c: the cache of open alarms */
struct open *ph_alarms_cache_add(struct ph_alarms *a, struct open *o); /* takes o */
void ph_alarms_clear_cache(struct ph_alarms *a);

/* alarms_db.c: rows */
int ph_alarms_db_err(struct ph_alarms *a, struct ph_err *err, const char *what);
sqlite3_stmt *ph_alarms_stmt(struct ph_alarms *a, int i); /* reset, bindings cleared */
int ph_alarms_run(struct ph_alarms *a, sqlite3_stmt *s);  /* 0, PH_EINVAL (constraint), PH_EFULL, PH_EDB */
int ph_alarms_adopt_row(struct ph_alarms *a, sqlite3_stmt *q, struct open **out);
int ph_alarms_write_alarm(struct ph_alarms *a, const struct open *o, int64_t now);
int ph_alarms_write_occ(struct ph_alarms *a, const struct open *o, int64_t end_ms); /* end INT64_MIN: still open */
int ph_alarms_new_occ(struct ph_alarms *a, struct open *o, int64_t start);
int ph_alarms_log_row(struct ph_alarms *a, const struct open *o, enum ph_alarm_transition t, int64_t ts,
                      const char *by, const char *note);

#endif
