/* api_pool.c — a small pool of helper threads, each with its own read-only
 * connection, that compute the parts of one request at once: the summary
 * across parks (api_parks.c) hands it one part per park, so ten park-years
 * take the time of ten divided by the cores instead of ten one after the
 * other on the request's connection.
 *
 *   request thread                          helpers (started once)
 *   api_par_run: job queued ──── work ────▶ take a part of the oldest job
 *     takes its own job's parts too          run it on the helper's connection
 *     waits until every part is done ◀─ done ─ count it done
 *
 * Callers: api.c (api_pool_start at ph_api_start, api_pool_stop before the
 * workers are closed), handlers through api_par_run (api_req.h).
 * Threads: the helpers and the request threads that queue jobs; the queue
 * and the counts are under pool.mu.
 * Ownership: the pool owns its threads; a helper's connection is an
 * api_worker owned by the helper thread's key (api_worker.c), closed when the
 * helper ends. A job and its parts are the caller's (its stack and
 * allocation): the pool only borrows them until the last part is done.
 *
 * Invariants:
 *  1. bounded: at most API_POOL_MAX helpers, started once with the API; a
 *     request adds no thread and no connection, only one job to the queue.
 *  2. progress without helpers: the caller also runs its own job's parts,
 *     so a request ends even when every helper is busy with another one (or
 *     none was started: one park, one CPU).
 *  3. a part runs in a read transaction of its own on the connection of the
 *     thread that runs it (BEGIN … api_worker_done): each part is one
 *     snapshot, the parts together are not. Sharing one snapshot across
 *     connections needs sqlite3_snapshot_open (SQLITE_ENABLE_SNAPSHOT),
 *     which the distribution's SQLite is built without.
 *  4. api_par_run returns only after every part is done: no helper touches
 *     a part, or the caller's job, after that.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api_server.h"
#include "parkhub/alloc.h"

#define MOD "api"
#define API_POOL_MAX 7 /* helpers; with the request's own thread, 8 connections at once */

struct api_job {
  struct api_job *next;
  struct api_req *parts;
  int n, taken, done; /* taken, done: under pool.mu */
  int (*fn)(struct api_req *part, void *u);
  void *u;
};

struct api_pool {
  struct ph_api *a;
  pthread_mutex_t mu;
  pthread_cond_t work, done;
  struct api_job *head, *tail; /* jobs with parts not yet taken, oldest first */
  bool stop;
  int n;
  pthread_t th[API_POOL_MAX];
};

/* The next part of job (under mu): its index; the job leaves the queue with
 * its last part. */
static int take(struct api_pool *pl, struct api_job *job) {
  int i = job->taken++;
  if (job->taken < job->n) return i;
  struct api_job **pp = &pl->head, *prev = NULL;
  while (*pp && *pp != job) prev = *pp, pp = &(*pp)->next;
  if (*pp) *pp = job->next;
  if (pl->tail == job) pl->tail = prev;
  return i;
}

/* Part i of job on connection w (NULL: none could be opened), in its own
 * read transaction (inv. 3). */
static void run_part(struct api_job *job, int i, struct api_worker *w) {
  struct api_req *p = &job->parts[i];
  p->w = w;
  if (!w) {
    p->status = api_fail(p, 503, NULL, "the database is not available");
    return;
  }
  sqlite3_stmt *b = api_stmt(p, API_ST_BEGIN);
  if (!b || sqlite3_step(b) != SQLITE_DONE)
    p->status = api_db_fail(p, "starting a read transaction");
  else
    p->status = job->fn(p, job->u);
  api_worker_done(w);
  p->w = NULL; /* another thread's connection: the caller never sees it */
}

static void *helper(void *arg) {
  struct api_pool *pl = arg;
  pthread_mutex_lock(&pl->mu);
  for (;;) {
    while (!pl->stop && !pl->head) pthread_cond_wait(&pl->work, &pl->mu);
    if (pl->stop) break;
    struct api_job *job = pl->head;
    int i = take(pl, job);
    pthread_mutex_unlock(&pl->mu);
    char why[300];
    struct api_worker *w = api_worker_get(pl->a, why, sizeof why); /* opened on first use, kept */
    if (!w) PH_WARN(MOD, "no read connection for a part: %s", why);
    run_part(job, i, w);
    pthread_mutex_lock(&pl->mu);
    if (++job->done == job->n) pthread_cond_broadcast(&pl->done);
  }
  pthread_mutex_unlock(&pl->mu);
  return NULL;
}

int api_pool_start(struct ph_api *a, int nparks, struct api_pool **out, struct ph_err *err) {
  *out = NULL;
  struct api_pool *pl = ph_calloc(1, sizeof *pl);
  if (!pl) return ph_fail(err, PH_ENOMEM, "out of memory");
  pl->a = a;
  pthread_mutex_init(&pl->mu, NULL);
  pthread_cond_init(&pl->work, NULL);
  pthread_cond_init(&pl->done, NULL);
  /* one helper per further CPU: the request's thread is the first; none
   * when there is one park (nothing to share) */
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  int want = nparks > 1 ? (int)(cpus > 1 ? cpus - 1 : 1) : 0;
  if (want > API_POOL_MAX) want = API_POOL_MAX;
  if (want > nparks - 1) want = nparks - 1 > 0 ? nparks - 1 : 0;
  for (; pl->n < want; pl->n++)
    if (pthread_create(&pl->th[pl->n], NULL, helper, pl)) break; /* fewer helpers: still correct (inv. 2) */
  *out = pl;
  return 0;
}

void api_pool_stop(struct api_pool *pl) {
  if (!pl) return;
  pthread_mutex_lock(&pl->mu);
  pl->stop = true;
  pthread_cond_broadcast(&pl->work);
  pthread_mutex_unlock(&pl->mu);
  for (int i = 0; i < pl->n; i++) pthread_join(pl->th[i], NULL); /* their connections close as they end */
  pthread_cond_destroy(&pl->work);
  pthread_cond_destroy(&pl->done);
  pthread_mutex_destroy(&pl->mu);
  ph_free(pl);
}

int api_pool_helpers(const struct api_pool *pl) { return pl ? pl->n : 0; }

void api_par_run(struct api_req *r, struct api_req *parts, int n, int (*fn)(struct api_req *part, void *u),
                 void *u) {
  struct api_pool *pl = r->w->api->pool;
  struct api_job job = {.parts = parts, .n = n, .fn = fn, .u = u};
  if (n <= 0) return;
  api_worker_done(r->w); /* the request's own transaction ends: each part has its own (inv. 3) */
  pthread_mutex_lock(&pl->mu);
  if (pl->tail) pl->tail->next = &job;
  else pl->head = &job;
  pl->tail = &job;
  pthread_cond_broadcast(&pl->work);
  while (job.taken < job.n) { /* inv. 2 */
    int i = take(pl, &job);
    pthread_mutex_unlock(&pl->mu);
    run_part(&job, i, r->w);
    pthread_mutex_lock(&pl->mu);
    job.done++;
  }
  while (job.done < job.n) pthread_cond_wait(&pl->done, &pl->mu); /* inv. 4 */
  pthread_mutex_unlock(&pl->mu);
}
