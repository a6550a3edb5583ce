/* dashboard.c — the embedded dashboard files (dashboard.h). The byte
 * arrays are generated at build time from hub/api/dashboard/ by
 * common/embed.cmake (hub/CMakeLists.txt). Constant data: thread-safe. */
#include "api/dashboard.h"

#include <string.h>

extern const char ph_dash_index_html[], ph_dash_app_js[], ph_dash_app_css[], ph_dash_uplot_js[],
    ph_dash_uplot_css[], ph_dash_uplot_license[];
extern const unsigned long ph_dash_index_html_len, ph_dash_app_js_len, ph_dash_app_css_len, ph_dash_uplot_js_len,
    ph_dash_uplot_css_len, ph_dash_uplot_license_len;

#define JS "text/javascript; charset=utf-8"
#define CSS "text/css; charset=utf-8"

struct entry {
  struct ph_asset a;
  const unsigned long *len; /* the generated length: not a constant expression, read at lookup */
};

static const struct entry assets[] = {
    {{"/", "text/html; charset=utf-8", ph_dash_index_html, 0}, &ph_dash_index_html_len},
    {{"/dashboard/app.js", JS, ph_dash_app_js, 0}, &ph_dash_app_js_len},
    {{"/dashboard/app.css", CSS, ph_dash_app_css, 0}, &ph_dash_app_css_len},
    {{"/dashboard/uPlot.iife.min.js", JS, ph_dash_uplot_js, 0}, &ph_dash_uplot_js_len},
    {{"/dashboard/uPlot.min.css", CSS, ph_dash_uplot_css, 0}, &ph_dash_uplot_css_len},
    {{"/dashboard/uPlot.LICENSE", "text/plain; charset=utf-8", ph_dash_uplot_license, 0}, &ph_dash_uplot_license_len},
};

int ph_dashboard_asset(const char *path, struct ph_asset *out) {
  for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++)
    if (!strcmp(path, assets[i].a.path)) {
      *out = assets[i].a;
      out->len = (size_t)*assets[i].len;
      return 0;
    }
  return -1;
}
