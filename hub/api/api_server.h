/* api_server.h — the server's own state, shared by the server's files only:
 * api.c (libmicrohttpd lifecycle, dispatch), api_worker.c (per-thread read
 * connections), api_metrics.c (/metrics and /healthz). Handlers never
 * include it (api_req.h is theirs). */
#ifndef PH_API_SERVER_H
#define PH_API_SERVER_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "api_conn.h"
#include "api_req.h"
#include "api_sql.h"
#include "parkhub/log.h"

/* request duration histogram, upper bounds in µs (+Inf last) */
#define API_NHIST 8
extern const int64_t api_hist_us[API_NHIST];
/* the counted status codes, in ph_api_stats.by_code order ("other" last) */
extern const int api_status_codes[PH_API_NCODES - 1];

struct api_worker {
  struct api_worker *next, *prev;
  struct ph_api *api;
  sqlite3 *db;
  sqlite3_stmt *st[API_ST_COUNT];
};

struct ph_api {
  struct ph_api_conf conf;
  struct ph_api_env env;
  struct MHD_Daemon *d;
  struct api_conns *conns; /* deadlines (api.c inv. 6) */
  int port;
  bool tls;
  char *tls_cert, *tls_key;
  pthread_key_t key;
  bool key_made;
  pthread_mutex_t mu; /* workers list, log rate limit */
  struct api_worker *workers;
  struct api_pool *pool; /* helpers for the parts of a request (api_pool.c) */
  struct ph_ratelimit logrl;
  _Atomic uint64_t requests, by_code[PH_API_NCODES], db_opens, db_failures;
  _Atomic uint64_t hist[API_NHIST + 1], dur_us_sum;
};

/* api_worker.c: the calling thread's read connection, opened on first use
 * (NULL with why on failure); its end-of-request cleanup; closing. */
struct api_worker *api_worker_get(struct ph_api *a, char *why, size_t cap);
void api_worker_done(struct api_worker *w);
void api_worker_close(struct api_worker *w);
void api_worker_destroy(void *w); /* the pthread key's destructor */

/* api_pool.c: helper threads with their own read connections (one per
 * further CPU, none for one park); stop joins them, closing their
 * connections, and comes before the workers are closed. */
struct api_pool;
int api_pool_start(struct ph_api *a, int nparks, struct api_pool **out, struct ph_err *err);
void api_pool_stop(struct api_pool *pl);
int api_pool_helpers(const struct api_pool *pl);

/* api_metrics.c */
int api_get_metrics(struct ph_api *a, struct api_req *r);
int api_get_healthz(struct ph_api *a, struct api_req *r);

#endif
