/* api_routes.c — the route table of /api/v1 (api_routes.h). /healthz and
 * /metrics are the server's own (api.c, api_metrics.c); the dashboard's
 * files are served before routing (dashboard.c).
 *
 * Callers: api.c's request handler. Threads: any (the table is constant).
 *
 * Invariants:
 *  1. a path matches segment by segment, "*" one whole segment; the first
 *     match wins, so the table's order is the precedence.
 *  2. every handler here is declared in api_handlers.h (or its own file's
 *     header) and reaches the server only through api_req.h.
 */
#include "api_routes.h"

#include <string.h>

#include "api_handlers.h"

const struct api_route api_routes[] = {
    {"", API_RT_NO_PARK, api_get_parks},
    {"enterprises", 0, api_get_enterprises},
    {"enterprises/*/points", 0, api_get_points},
    {"series", 0, api_get_series},
    {"summary", 0, api_get_summary},
    {"alarms", 0, api_get_alarms},
    {"alarms/*/ack", API_RT_POST | API_RT_WRITES, api_post_ack},
    {"enterprises/*/stack-tests", API_RT_POST | API_RT_WRITES, api_post_stack_test}, /* api_stack_tests.c */
    {"cems/hours", 0, api_get_cems_hours},
    {"cems/days", 0, api_get_cems_days},
    {"cems/exceedances", 0, api_get_cems_exceedances},
    {"catalog", 0, api_get_catalog},           /* api_catalog.c */
    {"alarms/*/log", 0, api_get_alarm_log},    /* api_catalog.c */
    {"report", API_RT_OWN_FORMAT, api_get_report}, /* api_report.c */
    {"summary", API_RT_ACROSS, api_get_parks_summary},         /* api_parks.c */
    {"exceedances", API_RT_ACROSS, api_get_parks_exceedances}, /* api_parks.c */
    {"alarms", API_RT_ACROSS, api_get_parks_alarms},           /* api_parks.c */
    {"report", API_RT_ACROSS | API_RT_OWN_FORMAT, api_get_region_report}, /* api_report.c */
    {NULL, 0, NULL},
};

/* Whether the segments match pattern (segments split at slashes, "*" any one), inv. 1. */
static bool matches(const char *pattern, char **seg, int n) {
  int i = 0;
  const char *p = pattern;
  while (*p) {
    const char *slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    if (i == n) return false;
    if (!(len == 1 && *p == '*') && (strlen(seg[i]) != len || memcmp(seg[i], p, len))) return false;
    i++;
    p += len + (slash != NULL);
  }
  return i == n;
}

const struct api_route *api_route_find(char **seg, int n) {
  for (const struct api_route *rt = api_routes; rt->path; rt++) {
    if (rt->flags & API_RT_ACROSS) continue;
    if (rt->flags & API_RT_NO_PARK) {
      if (n == 0 && !*rt->path) return rt;
      continue;
    }
    if (n >= 1 && matches(rt->path, seg + 1, n - 1)) return rt;
  }
  return NULL;
}

const struct api_route *api_route_find_across(char **seg, int n) {
  for (const struct api_route *rt = api_routes; rt->path; rt++)
    if ((rt->flags & API_RT_ACROSS) && matches(rt->path, seg, n)) return rt;
  return NULL;
}
