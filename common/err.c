/* err.c — names and texts of the PH_E* codes, and ph_fail().
 * Callers: every module. No state. */
#include "parkhub/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct errdef {
  int code;
  const char *name;
  const char *text;
};

static const struct errdef errdefs[] = {
#define PH_ERR_DEF(name, val, text) {val, #name, text},
    PH_ERRORS(PH_ERR_DEF)
#undef PH_ERR_DEF
};

static const struct errdef *find(int code) {
  for (size_t i = 0; i < sizeof errdefs / sizeof errdefs[0]; i++)
    if (errdefs[i].code == code) return &errdefs[i];
  return NULL;
}

const char *ph_strerror(int code) {
  if (code == 0) return "success";
  const struct errdef *d = find(code);
  return d ? d->text : "unknown error";
}

const char *ph_errname(int code) {
  const struct errdef *d = find(code);
  return d ? d->name : NULL;
}

int ph_errcode_by_name(const char *name) {
  for (size_t i = 0; i < sizeof errdefs / sizeof errdefs[0]; i++)
    if (strcmp(errdefs[i].name, name) == 0) return errdefs[i].code;
  return 0;
}

int ph_fail(struct ph_err *err, int code, const char *fmt, ...) {
  if (err) {
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return code;
}

void ph_err_clear(struct ph_err *err) {
  if (!err) return;
  err->code = 0;
  err->msg[0] = '\0';
}
