/* dashboard.h — the dashboard's static files (hub/api/dashboard/), compiled
 * into the binary so that the hub serves them with nothing to install:
 * "/" is the page, "/dashboard/<name>" its script, styles and the vendored
 * chart library with its licence. The page reads only the public API. */
#ifndef PARKHUB_DASHBOARD_H
#define PARKHUB_DASHBOARD_H

#include <stddef.h>

struct ph_asset {
  const char *path;  /* URL path */
  const char *ctype; /* Content-Type */
  const char *data;
  size_t len;
};

/* Fills out with the asset at URL path: 0, or -1 when there is none. */
int ph_dashboard_asset(const char *path, struct ph_asset *out);

#endif
