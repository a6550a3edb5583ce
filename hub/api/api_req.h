/* api_req.h — one HTTP request as the handlers see it, and the services
 * they may call on it: query arguments (parsed by api_args.h, refused as
 * 400), the worker's read connection and statements, error documents, the
 * CSV download's file name. No libmicrohttpd type and nothing of the
 * server's: a handler depends on this header, api_rows.h and the modules it
 * reads, never on api.c.
 *
 * Implemented by api_req.c (arguments, errors, file names) and
 * api_worker.c (connections and statements). Threads: the request's. */
#ifndef PH_API_REQ_H
#define PH_API_REQ_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"
#include "api_out.h"
#include "api_sql.h"
#include "config/hub_config.h"
#include "parkhub/catalog.h"
#include "parkhub/tz.h"

struct api_worker; /* per thread: read connection and statements (api_worker.c) */

#define API_FILENAME_MAX 160

struct api_req {
  const struct ph_api_env *env;
  const struct ph_api_conf *conf;
  void *conn; /* struct MHD_Connection *: only api_req.c and api.c look inside */
  const struct ph_api_token *tok;
  struct api_worker *w;
  const char *seg[8]; /* path segments after /api/v1/parks/{park} */
  int nseg;
  int park_idx;
  const struct ph_hub_park *park;
  const struct ph_tz *tz;
  bool csv;
  bool bom;             /* CSV starts with a UTF-8 BOM (default; bom=0 turns it off) */
  const char *format;   /* the format argument as given, or NULL */
  const char *body;     /* request body (POST) */
  size_t body_len;
  bool body_too_large;  /* longer than PH_API_BODY_MAX: 413 */
  /* response */
  int status;
  struct api_buf out;
  const char *ctype;
  char link[1200];                     /* next page: the URL path and query, "" when none */
  char filename[API_FILENAME_MAX];     /* CSV: Content-Disposition attachment name, "" when none */
};

/* A query argument, or NULL. */
const char *api_arg(struct api_req *r, const char *name);
/* 0 when every argument is in allowed (NULL-terminated; "format" and "bom"
 * always are) and none is repeated; else writes a 400 and returns it. */
int api_args_check(struct api_req *r, const char *const *allowed);
/* Writes the error document {"error":{"status","message","param"}} and
 * returns status. param may be NULL. Clears a download file name. */
int api_fail(struct api_req *r, int status, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A POST body that must be one JSON object (whitespace after it at most,
 * no U+0000 in any string, at most PH_API_BODY_MAX bytes): the parsed
 * object (returns new: cJSON_Delete it), or NULL with a 413 or a 400
 * written (shape: the object's keys, for the message). */
struct cJSON *api_body_object(struct api_req *r, const char *shape);
/* The token may act on park (its parks list, or every park). */
bool api_token_sees(const struct ph_api_token *t, const char *park);

/* Argument wrappers over api_args.h: 0, or a 400 written naming the argument. */
int api_arg_time(struct api_req *r, const char *name, bool required, int64_t *out, bool *given);
int api_arg_id(struct api_req *r, const char *name, bool required, const char **out);
int api_arg_int(struct api_req *r, const char *name, int64_t min, int64_t max, int64_t def, int64_t *out);
/* Index of the argument's value in words (NULL-terminated), def when absent. */
int api_arg_word(struct api_req *r, const char *name, const char *const *words, int def, int *out);
/* format= / Accept: and bom=: sets r->csv, r->format, r->bom. */
int api_arg_output(struct api_req *r, const char *accept);
/* Appends to r->link the output arguments the request gave (format as
 * settled, bom=0), so that the next page comes in the same form. */
void api_link_output(struct api_req *r);
/* [from, to) at most max_ms long: 0, or a 400 naming "to". */
int api_arg_period(struct api_req *r, int64_t from, int64_t to, int64_t max_ms, const char *max_text);

/* The CSV download's name, "<park>_<what>[_<detail>][_<first>_<last>].csv":
 * first and last are the park's local dates of from and of to - 1 ms
 * (to is exclusive), left out when from == to == 0. what and detail are
 * ids or words (ASCII); any other byte becomes '_'. */
void api_attachment(struct api_req *r, const char *what, const char *detail, int64_t from, int64_t to);
/* "YYYY-MM-DD HH:MM" (seconds too when with_s) in the park's zone. */
void api_local_minute(const struct ph_tz *tz, int64_t ms, bool with_s, char *buf, size_t cap);

/* ---- the worker's read connection (api_worker.c) ---- */

/* The worker's statement, reset and unbound; NULL on failure (the
 * connection's error is in api_db_fail). */
sqlite3_stmt *api_stmt(struct api_req *r, enum api_stmt_id id);
sqlite3 *api_db(struct api_req *r);
int api_db_fail(struct api_req *r, const char *what);
/* Runs fn(&parts[i], u) for every i < n on the API's read connections,
 * several at once (api_pool.c): the request's own thread and the pool's
 * helpers each take parts. The caller fills each part as a request of its
 * own (a copy of r, its own out buffer; w is set here); fn writes its answer
 * or its error (api_fail) into the part and returns its status, kept in
 * part->status. Each part runs in a read transaction of its own, and r's
 * transaction ends first: the parts are not one snapshot (api_pool.c inv.
 * 3). Returns when every part is done. */
void api_par_run(struct api_req *r, struct api_req *parts, int n, int (*fn)(struct api_req *part, void *u),
                 void *u);
/* Whether the alarms table exists (another module makes it). */
bool api_has_alarms(struct api_req *r);
/* A regional hub holds copies of the park hubs' alarms and entered stack
 * test dates (forwarded, issue #21): it lists and counts them as the park
 * hub does, but they change on the park hub only (a local ack or entry
 * would diverge from the rows it copies and never reach the park's
 * operators): 409 naming the park and what (e.g. "acknowledge the alarm"). */
bool api_regional(const struct api_req *r);
int api_fail_park_hub_owns(struct api_req *r, const char *what);

#endif
