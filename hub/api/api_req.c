/* api_req.c — the request's services for the handlers (api_req.h): query
 * arguments looked up in libmicrohttpd and parsed by api_args.c, error
 * documents, the CSV download's file name.
 *
 * Callers: the handlers and api.c's dispatch. Threads: the request's.
 *
 * Invariants:
 *  1. every error body is JSON {"error":{"status","message","param"}},
 *     whatever format was asked for (api.c inv. 5), and carries no
 *     Content-Disposition.
 *  2. a refused argument is named twice: in "param" and at the start of the
 *     message ("from: ..."), with the parser's reason (api_args.h).
 *  3. a download's file name is ASCII from [a-z0-9_.-] only: ids and words
 *     are, other bytes become '_', so no header quoting is ever needed.
 */
#include "api_req.h"

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api_args.h"
#include "api_out.h"
#include "parkhub/ids.h"
#include "parkhub/jsonfile.h"
#include "parkhub/timefmt.h"

int api_fail(struct api_req *r, int status, const char *param, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  api_buf_reset(&r->out);
  struct api_json j;
  aj_init(&j, &r->out);
  aj_obj(&j, NULL);
  aj_obj(&j, "error");
  aj_int(&j, "status", status);
  aj_str(&j, "message", msg);
  if (param) aj_str(&j, "param", param);
  aj_end_obj(&j);
  aj_end_obj(&j);
  api_buf_put(&r->out, "\n", 1);
  r->ctype = "application/json";
  r->link[0] = 0;
  r->filename[0] = 0; /* inv. 1 */
  r->status = status;
  return status;
}

/* A 400 for argument name with the parser's reason (inv. 2). */
static int refuse(struct api_req *r, const char *name, const struct ph_err *err) {
  return api_fail(r, 400, name, "%s: %s", name, err->msg);
}

const char *api_arg(struct api_req *r, const char *name) {
  return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct args_check {
  const char *const *allowed;
  unsigned seen;
  const char *bad, *why;
};

/* "format" and "bom" are every path's; they take bits 30 and 31. */
static int always_allowed(const char *key) {
  if (!strcmp(key, "format")) return 30;
  if (!strcmp(key, "bom")) return 31;
  return -1;
}

static enum MHD_Result args_it(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  (void)kind;
  struct args_check *c = cls;
  int i = always_allowed(key);
  if (i < 0) {
    for (i = 0; c->allowed[i]; i++)
      if (!strcmp(c->allowed[i], key)) break;
    if (!c->allowed[i]) {
      c->bad = key, c->why = "unknown argument";
      return MHD_NO;
    }
  }
  if (i < 32 && (c->seen & (1u << i))) { /* lists are short: an index past 29 goes unchecked */
    c->bad = key, c->why = "given more than once";
    return MHD_NO;
  }
  if (i < 30 || i == always_allowed(key)) c->seen |= 1u << i;
  if (!value || !*value) {
    c->bad = key, c->why = "needs a value";
    return MHD_NO;
  }
  return MHD_YES;
}

int api_args_check(struct api_req *r, const char *const *allowed) {
  struct args_check c = {.allowed = allowed};
  MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, args_it, &c);
  if (!c.bad) return 0;
  char name[72];
  snprintf(name, sizeof name, "%.64s", c.bad);
  return api_fail(r, 400, name, "%s: %s", name, c.why);
}

int api_arg_time(struct api_req *r, const char *name, bool required, int64_t *out, bool *given) {
  const char *v = api_arg(r, name);
  if (given) *given = v != NULL;
  if (!v) return required ? api_fail(r, 400, name, "%s: required (RFC 3339 time)", name) : 0;
  struct ph_err err;
  return api_parse_time(v, out, &err) ? refuse(r, name, &err) : 0;
}

int api_arg_id(struct api_req *r, const char *name, bool required, const char **out) {
  const char *v = api_arg(r, name);
  *out = v;
  if (!v) return required ? api_fail(r, 400, name, "%s: required", name) : 0;
  struct ph_err err;
  return api_parse_id(v, &err) ? refuse(r, name, &err) : 0;
}

int api_arg_int(struct api_req *r, const char *name, int64_t min, int64_t max, int64_t def, int64_t *out) {
  const char *v = api_arg(r, name);
  *out = def;
  if (!v) return 0;
  struct ph_err err;
  return api_parse_int(v, min, max, out, &err) ? refuse(r, name, &err) : 0;
}

int api_arg_word(struct api_req *r, const char *name, const char *const *words, int def, int *out) {
  const char *v = api_arg(r, name);
  *out = def;
  if (!v) return 0;
  struct ph_err err;
  return api_parse_word(v, words, out, &err) ? refuse(r, name, &err) : 0;
}

int api_arg_output(struct api_req *r, const char *accept) {
  struct ph_err err;
  r->format = api_arg(r, "format");
  if (api_parse_format(r->format, accept, &r->csv, &err)) return refuse(r, "format", &err);
  const char *bom = api_arg(r, "bom");
  r->bom = true;
  if (bom && api_parse_bit(bom, &r->bom, &err)) return refuse(r, "bom", &err);
  return 0;
}

void api_link_output(struct api_req *r) {
  size_t n = strlen(r->link);
  if (r->format && n < sizeof r->link)
    n += (size_t)snprintf(r->link + n, sizeof r->link - n, "&format=%s", r->csv ? "csv" : "json");
  if (!r->bom && n < sizeof r->link) snprintf(r->link + n, sizeof r->link - n, "&bom=0");
}

int api_arg_period(struct api_req *r, int64_t from, int64_t to, int64_t max_ms, const char *max_text) {
  struct ph_err err;
  return api_parse_period(from, to, max_ms, max_text, &err) ? refuse(r, "to", &err) : 0;
}

struct cJSON *api_body_object(struct api_req *r, const char *shape) {
  if (r->body_too_large) {
    api_fail(r, 413, NULL, "the request body is larger than %d bytes", PH_API_BODY_MAX);
    return NULL;
  }
  char nul_in[72];
  if (ph_json_find_nul(r->body, r->body_len, nul_in, sizeof nul_in)) { /* cJSON would cut the string short */
    api_fail(r, 400, nul_in[0] ? nul_in : "body", "%s: U+0000 is not allowed", nul_in[0] ? nul_in : "body");
    return NULL;
  }
  const char *end = NULL;
  cJSON *doc = cJSON_ParseWithLengthOpts(r->body, r->body_len, &end, 0);
  bool trailing = false;
  for (const char *p = end; doc && p < r->body + r->body_len; p++)
    if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') trailing = true;
  if (!doc || !cJSON_IsObject(doc) || trailing) {
    cJSON_Delete(doc);
    api_fail(r, 400, "body", "body: must be one JSON object %s%s", shape, trailing ? " and nothing after it" : "");
    return NULL;
  }
  return doc;
}

bool api_token_sees(const struct ph_api_token *t, const char *park) {
  if (t->nparks == 0) return true;
  for (int i = 0; i < t->nparks; i++)
    if (!strcmp(t->parks[i], park)) return true;
  return false;
}

/* ---- local times and download names ---- */

void api_local_minute(const struct ph_tz *tz, int64_t ms, bool with_s, char *buf, size_t cap) {
  ph_tz_format_minute(tz, ms, with_s, buf, cap);
}

/* Appends "_" and s, any byte outside [a-z0-9_.-] as '_' (inv. 3). */
static size_t put_part(char *buf, size_t n, size_t cap, const char *s) {
  if (n + 1 < cap) buf[n++] = '_';
  for (; *s && n + 1 < cap; s++) {
    char ch = *s;
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
    buf[n++] = ok ? ch : '_';
  }
  buf[n] = 0;
  return n;
}

void api_attachment(struct api_req *r, const char *what, const char *detail, int64_t from, int64_t to) {
  if (!r->csv) return;
  char *f = r->filename;
  size_t cap = sizeof r->filename - 4, n = 0; /* room for ".csv" */
  f[0] = 0;
  n = put_part(f, n, cap, r->park ? r->park->id : "parkhub");
  memmove(f, f + 1, n); /* no leading '_' (n bytes: the NUL comes along) */
  n--;
  n = put_part(f, n, cap, what);
  if (detail) n = put_part(f, n, cap, detail);
  if (from || to) {
    char a[32], b[32];
    api_local_minute(r->tz, from, false, a, sizeof a);
    api_local_minute(r->tz, to > from ? to - 1 : to, false, b, sizeof b);
    a[10] = b[10] = 0; /* the dates */
    n = put_part(f, n, cap, a);
    n = put_part(f, n, cap, b);
  }
  snprintf(f + n, sizeof r->filename - n, ".csv");
}
