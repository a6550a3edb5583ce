/* api_routes.h — the HTTP API's route table (api_routes.c): which handler
 * answers which path and method. The server (api.c) matches a request
 * against it; adding an endpoint is one line in the table. */
#ifndef PH_API_ROUTES_H
#define PH_API_ROUTES_H

#include <stdbool.h>

struct api_req;

#define API_RT_POST 1u      /* POST (else GET and HEAD) */
#define API_RT_NO_PARK 2u   /* /api/v1/parks itself: no park segment */
#define API_RT_WRITES 4u    /* acts through the hub (ack): manager or admin, no read transaction, JSON only */
#define API_RT_OWN_FORMAT 8u /* the handler reads format= itself (the report: html|csv|json) */
#define API_RT_ACROSS 16u   /* across parks: the path is after /api/v1/, no park segment; the handler settles parks= against the token (api_parks.c) */

struct api_route {
  const char *path; /* after /api/v1/parks/{park}/ ("" with API_RT_NO_PARK; after /api/v1/ with API_RT_ACROSS); "*" one segment */
  unsigned flags;
  int (*handler)(struct api_req *r);
};

/* The table, ended by a {NULL} entry. */
extern const struct api_route api_routes[];

/* The route of the segments after /api/v1/parks (seg[0] is the park, when
 * there is one), or NULL. */
const struct api_route *api_route_find(char **seg, int n);
/* The API_RT_ACROSS route of the segments after /api/v1 (not "parks"), or NULL. */
const struct api_route *api_route_find_across(char **seg, int n);

#endif
