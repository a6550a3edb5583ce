/* api_parks.h — what the answers across parks (api_parks.c) share with the
 * per-park handlers they reuse, so that a park's figures across parks are
 * computed and written by the very code of its own endpoint:
 *
 *   api_summary.c  one park's summary into a document the caller opens
 *   api_alarms.c   the alarm listing's arguments and pages
 *
 * Threads: the request's. Everything borrows the request. */
#ifndef PH_API_PARKS_H
#define PH_API_PARKS_H

#include <stdbool.h>
#include <stdint.h>

#include "api_out.h"
#include "api_req.h"
#include "api_rows.h"
#include "parkhub/catalog.h"

/* ---- api_parks.c ---- */

/* The parks a request is about, as config indexes, in the order to answer. */
struct park_set {
  int idx[PH_HUB_MAX_PARKS];
  int n;
};
/* parks= or every park the token covers (api_parks.c inv. 2), for the
 * region report (api_report.c): 0, or a 400/403/404 written. */
int api_parks_select(struct api_req *r, struct park_set *ps);

/* ---- api_summary.c ---- */

/* The summary's document writer: JSON (j) or CSV rows (w). */
struct api_sum_out {
  struct api_json j;
  struct api_rows w;
};

/* CSV columns across parks: park, then the per-park summary's columns. */
extern const struct api_col api_summary_park_cols[];

/* A summary pollutant: a continuously measured concentration (…/Nm3), not
 * PCDD/F (stack tests; the inventory's figure). */
bool api_summary_pollutant(const struct ph_catalog *cat, const char *code);
/* Opens the document: JSON sets the writer only (the caller writes its own
 * envelope, if any); CSV writes the header, with a leading park column
 * when park_col. */
void api_summary_begin(struct api_req *r, struct api_sum_out *o, bool park_col);
void api_summary_end(struct api_req *r, struct api_sum_out *o);
/* Park r->park (zone r->tz) over [from, to), every enterprise or the one
 * named ent: JSON, one park object (the per-park endpoint's whole
 * document); CSV, its rows. 0, or the status of a failure already written
 * (api_fail). */
int api_summary_park(struct api_req *r, struct api_sum_out *o, int64_t from, int64_t to, const char *ent);

/* ---- api_alarms.c ---- */

/* The alarm listing's filters and page (the per-park endpoint's arguments). */
struct api_alarm_q {
  int state, sev; /* -1: any */
  const char *ent;
  int64_t from, to, limit, cursor;
  int64_t cursor_key; /* the across-parks listing's: the next row's raised_ms (has_key) */
  bool has_from, has_to, has_key;
};

/* Parses the listing's arguments; extra (may be NULL) names one more that
 * the caller reads itself (parks=). 0, or a 400 written. */
int api_alarm_args(struct api_req *r, const char *extra, struct api_alarm_q *q);
/* Writes the page: s (NULL: no alarms table) is API_SQL_ALARMS' shape with
 * ?1 bound by the caller, ?2..?8 bound here from q (and ?9, the cursor's
 * key, when s has it: API_PARKS_SQL_ALARMS, whose column api_key is the
 * order's first key); head(u, j) writes the
 * JSON document's fields before the rows (NULL: none); path is the URL
 * path of the next page's link. Resets s, never finalizes it. Returns the
 * status. */
int api_alarm_page(struct api_req *r, const struct api_alarm_q *q, sqlite3_stmt *s,
                   void (*head)(void *u, struct api_json *j), void *u, const char *path);

#endif
