/* src_csv.c — source "csv": tails a CSV file (a weighbridge export, a
 * logger's dump) and maps columns to catalogue metrics:
 *
 *   {"type":"csv","path":"/data/stack.csv","point":"stack-1",
 *    "columns":{"SO2_mg":"so2","NOx_mg":"nox"},"flag_columns":{"SO2_flag":"so2"}}
 *
 * With "header": true (default) the first line names the columns; with
 * false, column keys are 1-based numbers ("1", "2", …). Timestamps are
 * RFC 3339, or Unix seconds / milliseconds (ts_format). Every row becomes a
 * JSON record (built with cJSON, printed to text) checked exactly as the hub
 * will check it (ph_batch_decode_record); a bad row is reported with its
 * line number.
 * Empty cells are absent values, never zero.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources/linetail.h"
#include "parkhub/timefmt.h"

#define MAX_COLS 128
#define MAX_MAPPED 64

struct mapping {
  char column[64];
  int col;     /* 0-based index, -1 until the header is known */
  int metric;  /* catalogue index */
  bool flag;   /* a flag column for `metric` */
};

struct csv_ctx {
  char path[512];
  bool from_start, header;
  char delimiter[2];
  char ts_column[64], point[PH_ID_MAX + 1], point_column[64];
  int ts_format; /* 0 rfc3339, 1 unix, 2 unix_ms */
  const struct ph_source_env *env;
  enum ph_kind kind;
  struct mapping map[MAX_MAPPED];
  int nmap;
  int ts_col, point_col;
  bool header_seen;
  struct ph_linetail tail;
  struct ph_batch scratch;
  struct ph_batch_scratch tokens; /* the decoder's JSON tokens, reused per row */
  char *cells[MAX_COLS];
};

/* One entry of columns (or flag_columns): 0 when it is good. */
static int add_mapping(struct csv_ctx *c, const char *key, const char *column, const char *metric, bool flag,
                       struct ph_err *err) {
  int idx = ph_catalog_find(c->env->cat, metric, strlen(metric));
  if (idx < 0) return ph_fail(err, PH_ECONFIG, "%s.%.40s: unknown metric '%.64s'", key, column, metric);
  enum ph_kind k = ph_catalog_at(c->env->cat, (size_t)idx)->kind;
  if (k == PH_KIND_MATERIAL)
    return ph_fail(err, PH_ECONFIG, "%s.%.40s: '%s' is a material; material records come from jsonl", key, column, metric);
  if (!flag && c->nmap && k != c->kind)
    return ph_fail(err, PH_ECONFIG, "%s.%.40s: '%s' is a %s metric, the others are %s", key, column, metric,
                   ph_kind_name(k), ph_kind_name(c->kind));
  int col = -1;
  if (!c->header) {
    char *end;
    long n = strtol(column, &end, 10);
    if (*end || n < 1 || n > MAX_COLS)
      return ph_fail(err, PH_ECONFIG, "%s.%.40s: without a header, column keys are numbers 1..%d", key, column,
                     MAX_COLS);
    col = (int)n - 1;
  }
  if (!flag) c->kind = k;
  struct mapping *m = &c->map[c->nmap++];
  snprintf(m->column, sizeof m->column, "%s", column);
  m->metric = idx;
  m->flag = flag;
  m->col = col;
  return 0;
}

/* columns or flag_columns: with env->pr each bad entry is noted and left
 * out; a map that is not an object, or longer than MAX_MAPPED, stops
 * (nothing, or too much, to go on with). */
static int load_map(struct csv_ctx *c, const cJSON *obj, bool flag, int *bad, struct ph_err *err) {
  const char *key = flag ? "flag_columns" : "columns";
  if (!obj && flag) return 0;
  int rc;
  if (!cJSON_IsObject(obj) || (!flag && !obj->child))
    return ph_source_note(c->env, ph_fail(err, PH_ECONFIG, "%s: must be an object of column → metric", key), err, bad);
  if (c->nmap + cJSON_GetArraySize(obj) > MAX_MAPPED)
    return ph_source_note(c->env, ph_fail(err, PH_ECONFIG, "%s: more than %d mapped columns in all", key, MAX_MAPPED),
                          err, bad);
  for (const cJSON *it = obj->child; it; it = it->next) {
    rc = cJSON_IsString(it) ? add_mapping(c, key, it->string, it->valuestring, flag, err)
                            : ph_fail(err, PH_ECONFIG, "%s.%.40s: must name a metric", key, it->string);
    if ((rc = ph_source_note(c->env, rc, err, bad))) return rc;
  }
  return 0;
}

static int col_number(const char *s) {
  char *end;
  long n = strtol(s, &end, 10);
  return *s && !*end && n >= 1 && n <= MAX_COLS ? (int)n - 1 : -1;
}

/* Every problem of the mapping is named (with env->pr, all of them). */
static int csv_init(void *ctx, const void *cfg, const struct ph_source_env *env, struct ph_err *err) {
  struct csv_ctx *c = ctx;
  c->env = env;
  c->tail.fd = -1;
  ph_batch_init(&c->scratch, PH_KIND_EMISSION);
  ph_batch_scratch_init(&c->tokens);
  int rc, bad = 0;
  if ((rc = load_map(c, cJSON_GetObjectItemCaseSensitive(cfg, "columns"), false, &bad, err)) ||
      (rc = load_map(c, cJSON_GetObjectItemCaseSensitive(cfg, "flag_columns"), true, &bad, err)))
    return rc;
  rc = 0;
  if (!c->point[0] == !c->point_column[0])
    rc = ph_fail(err, PH_ECONFIG, "give exactly one of point (a fixed id) and point_column");
  else if (c->point[0] && !ph_id_valid_z(c->point))
    rc = ph_fail(err, PH_ECONFIG, "point: '%s' is not an id", c->point);
  if ((rc = ph_source_note(env, rc, err, &bad))) return rc;
  c->ts_col = c->point_col = -1;
  if (!c->header && (c->ts_col = col_number(c->ts_column)) < 0 &&
      (rc = ph_source_note(env, ph_fail(err, PH_ECONFIG, "ts_column: without a header, a column number 1..%d", MAX_COLS),
                           err, &bad)))
    return rc;
  if (!c->header && c->point_column[0] && (c->point_col = col_number(c->point_column)) < 0 &&
      (rc = ph_source_note(env, ph_fail(err, PH_ECONFIG, "point_column: without a header, a column number 1..%d",
                                        MAX_COLS), err, &bad)))
    return rc;
  return ph_source_noted(bad);
}

/* Splits line in place; quotes ("a,b" and "" for a quote) as RFC 4180. */
static int split(char *line, char delim, char **cells) {
  int n = 0;
  char *p = line;
  for (;;) {
    if (n == MAX_COLS) return n;
    char *out = p;
    cells[n++] = out;
    if (*p == '"') {
      p++;
      for (; *p; p++) {
        if (*p == '"' && p[1] == '"') {
          *out++ = '"';
          p++;
        } else if (*p == '"') {
          p++;
          break;
        } else {
          *out++ = *p;
        }
      }
      while (*p && *p != delim) p++;
    } else {
      while (*p && *p != delim) *out++ = *p++;
    }
    bool more = *p == delim;
    *out = '\0';
    if (!more) return n;
    p++;
  }
}

static int find_col(char **cells, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (strcmp(cells[i], name) == 0) return i;
  return -1;
}

static int read_header(struct csv_ctx *c, char **cells, int n, struct ph_err *err) {
  if ((c->ts_col = find_col(cells, n, c->ts_column)) < 0)
    return ph_fail(err, PH_ECONFIG, "header has no timestamp column '%s'", c->ts_column);
  if (c->point_column[0] && (c->point_col = find_col(cells, n, c->point_column)) < 0)
    return ph_fail(err, PH_ECONFIG, "header has no point column '%s'", c->point_column);
  for (int i = 0; i < c->nmap; i++)
    if ((c->map[i].col = find_col(cells, n, c->map[i].column)) < 0)
      return ph_fail(err, PH_ECONFIG, "header has no column '%s'", c->map[i].column);
  c->header_seen = true;
  return 0;
}

static cJSON *ts_item(const struct csv_ctx *c, const char *cell) {
  if (c->ts_format == 0) return cJSON_CreateString(cell);
  char *end;
  double v = strtod(cell, &end);
  char buf[PH_TIME_STRLEN];
  if (*end || !*cell || !isfinite(v) || ph_time_format((int64_t)(c->ts_format == 1 ? v * 1000 : v), buf, sizeof buf))
    return cJSON_CreateString(cell); /* the decoder refuses it with the reason */
  return cJSON_CreateString(buf);
}

/* Builds the wire record for one row; cells beyond the row are empty. */
static cJSON *row_record(struct csv_ctx *c, char **cells, int n) {
  cJSON *o = cJSON_CreateObject(), *vals = cJSON_AddObjectToObject(o, "values"), *flags = NULL;
  cJSON_AddItemToObject(o, "ts", ts_item(c, c->ts_col < n ? cells[c->ts_col] : ""));
  cJSON_AddStringToObject(o, "point", c->point_col >= 0 ? (c->point_col < n ? cells[c->point_col] : "") : c->point);
  for (int i = 0; i < c->nmap; i++) {
    const struct mapping *m = &c->map[i];
    const char *cell = m->col < n ? cells[m->col] : "";
    if (!*cell) continue;
    const char *code = ph_catalog_at(c->env->cat, (size_t)m->metric)->code;
    if (m->flag) {
      if (!flags) flags = cJSON_AddObjectToObject(o, "flags");
      cJSON_AddStringToObject(flags, code, cell);
      continue;
    }
    char *end;
    double v = strtod(cell, &end);
    if (*end) /* the decoder refuses a string with PH_ETYPE and names the metric */
      cJSON_AddStringToObject(vals, code, cell);
    else if (!isfinite(v)) /* "nan", "inf", "1e999": JSON has no such number (cJSON prints null); one */
      cJSON_AddRawToObject(vals, code, "1e999"); /* that overflows is refused as not finite, naming the metric */
    else
      cJSON_AddNumberToObject(vals, code, v);
  }
  return o;
}

static void handle_line(struct csv_ctx *c, struct ph_emitter *em, char *line, int64_t now_ms) {
  char where[40];
  snprintf(where, sizeof where, "line %lld", (long long)c->tail.lineno);
  struct ph_err err = {0};
  int n = split(line, c->delimiter[0], c->cells);
  if (c->header && !c->header_seen) {
    if (read_header(c, c->cells, n, &err)) ph_emit_reject(em, where, &err);
    return;
  }
  cJSON *o = row_record(c, c->cells, n);
  char *json = o ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  if (!json) {
    ph_fail(&err, PH_ENOMEM, "%s: out of memory", where);
    ph_emit_reject(em, where, &err);
    return;
  }
  ph_batch_reset(&c->scratch, c->kind);
  struct ph_decode_opts opts = {.cat = c->env->cat, .kind = c->kind, .now_ms = now_ms,
                                .max_future_ms = c->env->max_future_ms, .scratch = &c->tokens};
  if (ph_batch_decode_record(&c->scratch, json, strlen(json), &opts, where, &err) == 0) {
    const struct ph_record *r = &c->scratch.records[0];
    ph_emit(em, c->kind, r, ph_record_values(&c->scratch, r), r->nvalues, NULL);
  } else {
    ph_emit_reject(em, where, &err);
  }
  cJSON_free(json);
}

static int csv_start(void *ctx, const struct ph_source_pos *resume, struct ph_source_io *io, struct ph_err *err) {
  struct csv_ctx *c = ctx;
  io->fd = -1;
  io->period_ms = 200;
  /* Resuming mid-file skips the header line: read it again from the start. */
  if (c->header && resume && resume->valid && resume->b > 0) {
    struct ph_linetail head;
    char *line;
    size_t len;
    int rc = ph_linetail_open(&head, c->path, NULL, true, err);
    if (rc) return rc;
    if (ph_linetail_next(&head, &line, &len) == 1) {
      int n = split(line, c->delimiter[0], c->cells);
      rc = read_header(c, c->cells, n, err);
    }
    ph_linetail_close(&head);
    if (rc) return rc;
  }
  return ph_linetail_open(&c->tail, c->path, resume, c->from_start || c->header, err);
}

static int csv_collect(void *ctx, struct ph_emitter *em, int64_t now_ms) {
  struct csv_ctx *c = ctx;
  ph_linetail_poll(&c->tail);
  for (int n = 0; n < PH_SOURCE_BUDGET; n++) {
    if (!ph_emit_room(em, 1)) return 0; /* outbox at its cap: read nothing more now */
    char *line;
    size_t len;
    ino_t ino = c->tail.ino;
    int64_t lineno = c->tail.lineno;
    int rc = ph_linetail_next(&c->tail, &line, &len);
    if (rc == 0) return 0;
    /* A rotated or truncated file starts again with its header. */
    if (c->header && (c->tail.ino != ino || c->tail.lineno <= lineno)) c->header_seen = false;
    if (rc == PH_ESTRLEN) {
      struct ph_err err;
      ph_fail(&err, PH_ESTRLEN, "line %lld: longer than %d bytes, skipped", (long long)c->tail.lineno, PH_LINE_MAX);
      ph_emit_reject(em, "csv", &err);
    } else if (len > 0) {
      handle_line(c, em, line, now_ms);
    }
    struct ph_source_pos pos = ph_linetail_pos(&c->tail);
    ph_emit_position(em, &pos);
  }
  return 1;
}

static int csv_reopen(void *ctx) { return ph_linetail_reopen(&((struct csv_ctx *)ctx)->tail); }

static void csv_exit(void *ctx) {
  struct csv_ctx *c = ctx;
  if (c->tail.buf) ph_linetail_close(&c->tail);
  ph_batch_fini(&c->scratch);
  ph_batch_scratch_fini(&c->tokens);
}

#define F(field) offsetof(struct csv_ctx, field), sizeof(((struct csv_ctx *)0)->field)
static const char *const ts_formats[] = {"rfc3339", "unix", "unix_ms", NULL};
static const struct ph_cfgmap csv_map[] = {
    {"type", PH_CFG_SKIP, true, 0, 0, 0, 0, NULL, NULL, NULL},
    {"name", PH_CFG_SKIP, false, 0, 0, 0, 0, NULL, NULL, NULL},
    {"path", PH_CFG_STR, true, F(path), 0, 0, NULL, NULL, "CSV file to tail"},
    {"from_start", PH_CFG_BOOL, false, offsetof(struct csv_ctx, from_start), 0, 0, 0, "false", NULL,
     "on first start read existing rows too (a header is always read)"},
    {"header", PH_CFG_BOOL, false, offsetof(struct csv_ctx, header), 0, 0, 0, "true", NULL,
     "the first line names the columns"},
    {"delimiter", PH_CFG_STR, false, F(delimiter), 0, 0, ",", NULL, "one character"},
    {"ts_column", PH_CFG_STR, false, F(ts_column), 0, 0, "ts", NULL, "column with the timestamp"},
    {"ts_format", PH_CFG_ENUM, false, offsetof(struct csv_ctx, ts_format), 0, 0, 0, "rfc3339", ts_formats,
     "how timestamps are written"},
    {"point", PH_CFG_ID, false, F(point), 0, 0, NULL, NULL, "the point every row belongs to"},
    {"point_column", PH_CFG_STR, false, F(point_column), 0, 0, NULL, NULL, "…or the column naming the point"},
    {"columns", PH_CFG_SKIP, true, 0, 0, 0, 0, NULL, NULL, "object: column → metric code"},
    {"flag_columns", PH_CFG_SKIP, false, 0, 0, 0, 0, NULL, NULL, "object: column → metric whose flag it holds"},
    PH_CFG_END,
};
#undef F

const struct ph_source_ops ph_src_csv = {
    .name = "csv",
    .help = "tail a CSV file, mapping columns to metrics",
    .cfgmap = csv_map,
    .ctx_size = sizeof(struct csv_ctx),
    .init = csv_init,
    .start = csv_start,
    .collect = csv_collect,
    .reopen = csv_reopen,
    .exit = csv_exit,
};
