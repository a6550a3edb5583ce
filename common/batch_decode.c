/* batch_decode.c — decodes and validates an event batch (batch.h).
 *
 * Callers: the hub's ingest stage (every message), the agent's JSON-lines
 * source (ph_batch_decode_record per line), tests and fuzzers.
 * Threads: none of its own; a struct ph_batch belongs to one thread.
 *
 * Invariants (cited in tests):
 *  1. refuse before store: a record is appended only after all its checks
 *     passed; a failing record leaves the batch as it was.
 *  2. the header (agent, epoch, seq, oldest) is read leniently first, so the
 *     hub can ack and log a refused batch against its agent.
 *  3. the refusal code is the first fault found, in document order of the
 *     checks below; each fault has its own code (err.h).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "parkhub/batch.h"
#include "parkhub/jsonfile.h"
#include "parkhub/timefmt.h"

#define MAX_SAFE_INT 9007199254740991.0

static const char *const batch_keys[] = {"v", "agent", "epoch", "seq", "oldest", "sent", "records", NULL};
static const char *const meas_keys[] = {"ts", "point", "values", "flags", "state", NULL};
static const char *const mat_keys[] = {"ts", "point", "material", "dir", "qty_t", "lot", "supplier", "attrs", NULL};
static const char *const state_words[] = {"", "running", "startup", "shutdown", "stopped"};

bool ph_flag_valid(char f) { return f && strchr(PH_FLAGS, f) != NULL; }
const char *ph_state_name(enum ph_state s) { return (unsigned)s <= PH_STATE_STOPPED ? state_words[s] : ""; }
const char *ph_dir_name(enum ph_dir d) { return d == PH_DIR_OUT ? "out" : "in"; }

void ph_batch_init(struct ph_batch *b, enum ph_kind kind) {
  memset(b, 0, sizeof *b);
  b->v = PH_BATCH_VERSION;
  b->kind = kind;
}

void ph_batch_fini(struct ph_batch *b) {
  if (!b) return;
  ph_free(b->records);
  ph_free(b->values);
  ph_free(b->arena);
  memset(b, 0, sizeof *b);
}

void ph_batch_reset(struct ph_batch *b, enum ph_kind kind) {
  b->v = PH_BATCH_VERSION;
  b->agent[0] = '\0';
  b->epoch = b->seq = b->oldest = b->sent_ms = 0;
  b->kind = kind;
  b->header_ok = false;
  b->nrecords = b->nvalues = b->arena_len = 0;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return 0;
  size_t n = *cap ? *cap : 16;
  while (n < need) n *= 2;
  void *p = ph_realloc(*arr, n * elem);
  if (!p) return PH_ENOMEM;
  *arr = p;
  *cap = n;
  return 0;
}

static bool in_list(const char *const *list, const char *s) {
  for (; *list; list++)
    if (strcmp(*list, s) == 0) return true;
  return false;
}

/* Duplicate keys would make "which value counts" depend on the parser. */
static int check_object(const cJSON *o, const char *const *allowed, const char *where, struct ph_err *err) {
  for (const cJSON *a = o->child; a; a = a->next) {
    for (const cJSON *b = a->next; b; b = b->next)
      if (strcmp(a->string, b->string) == 0) return ph_fail(err, PH_EJSON, "%s: duplicate key '%.64s'", where, a->string);
    if (allowed && !in_list(allowed, a->string))
      return ph_fail(err, PH_EUNKNOWNKEY, "%s: unknown field '%.64s'", where, a->string);
  }
  return 0;
}

/* One pass over an object's members: each allowed key lands in out[] at its
 * position in `allowed`; a second occurrence is a duplicate, a key not in
 * the list is unknown, and a missing one of the first `nrequired` is
 * reported. Replaces a scan per lookup on the hot path (bench/ingest). */
static int scan_fields(const cJSON *o, const char *const *allowed, int nrequired, const cJSON **out,
                       const char *where, struct ph_err *err) {
  int n = 0;
  while (allowed[n]) out[n++] = NULL;
  for (const cJSON *a = o->child; a; a = a->next) {
    int k = 0;
    while (k < n && strcmp(allowed[k], a->string) != 0) k++;
    if (k == n) return ph_fail(err, PH_EUNKNOWNKEY, "%s: unknown field '%.64s'", where, a->string);
    if (out[k]) return ph_fail(err, PH_EJSON, "%s: duplicate key '%.64s'", where, a->string);
    out[k] = a;
  }
  for (int k = 0; k < nrequired; k++)
    if (!out[k]) return ph_fail(err, PH_EMISSING, "%s: missing required field '%s'", where, allowed[k]);
  return 0;
}

static int need_keys(const cJSON *o, const char *const *keys, const char *where, struct ph_err *err) {
  for (; *keys; keys++)
    if (!cJSON_GetObjectItemCaseSensitive(o, *keys))
      return ph_fail(err, PH_EMISSING, "%s: missing required field '%s'", where, *keys);
  return 0;
}

static int get_id(const cJSON *v, char *dst, const char *where, const char *key, struct ph_err *err) {
  if (!cJSON_IsString(v)) return ph_fail(err, PH_ETYPE, "%s.%s: must be a string", where, key);
  if (!ph_id_valid_z(v->valuestring))
    return ph_fail(err, PH_EBADID, "%s.%s: '%.70s' is not an id ([a-z0-9][a-z0-9_-]{0,63})", where, key,
                   v->valuestring);
  strcpy(dst, v->valuestring);
  return 0;
}

static int get_time(const cJSON *v, const struct ph_decode_opts *o, int64_t *ms, bool check_age, const char *where,
                    const char *key, struct ph_err *err) {
  if (!cJSON_IsString(v)) return ph_fail(err, PH_ETYPE, "%s.%s: must be an RFC 3339 string", where, key);
  if (ph_time_parse(v->valuestring, strlen(v->valuestring), ms))
    return ph_fail(err, PH_ETIME, "%s.%s: '%.40s' is not an RFC 3339 time", where, key, v->valuestring);
  if (o->now_ms && *ms > o->now_ms + o->max_future_ms)
    return ph_fail(err, PH_ESKEW, "%s.%s: %.40s is %lld s ahead of the hub's clock", where, key, v->valuestring,
                   (long long)((*ms - o->now_ms) / 1000));
  if (o->now_ms && check_age && o->max_age_ms && *ms < o->now_ms - o->max_age_ms)
    return ph_fail(err, PH_ESKEW, "%s.%s: %.40s is older than the allowed %lld days", where, key, v->valuestring,
                   (long long)(o->max_age_ms / 86400000));
  return 0;
}

static int get_seqnum(const cJSON *v, int64_t *out, const char *key, struct ph_err *err) {
  if (!cJSON_IsNumber(v)) return ph_fail(err, PH_ETYPE, "batch.%s: must be a number", key);
  double d = v->valuedouble;
  if (!(d >= 1 && d <= MAX_SAFE_INT) || d != floor(d))
    return ph_fail(err, PH_ESEQ, "batch.%s: must be an integer from 1 to 2^53-1", key);
  *out = (int64_t)d;
  return 0;
}

/* inv. 2: lenient pass over the header; failures here are reported later by the strict pass. */
static void read_header(const cJSON *root, struct ph_batch *b) {
  char agent[PH_ID_MAX + 1];
  int64_t e, s, old;
  if (get_id(cJSON_GetObjectItemCaseSensitive(root, "agent"), agent, "", "", NULL) ||
      get_seqnum(cJSON_GetObjectItemCaseSensitive(root, "epoch"), &e, "", NULL) ||
      get_seqnum(cJSON_GetObjectItemCaseSensitive(root, "seq"), &s, "", NULL) ||
      get_seqnum(cJSON_GetObjectItemCaseSensitive(root, "oldest"), &old, "", NULL) || old > s)
    return;
  strcpy(b->agent, agent);
  b->epoch = e;
  b->seq = s;
  b->oldest = old;
  b->header_ok = true;
}

static int decode_value(const cJSON *it, const struct ph_decode_opts *o, struct ph_value *out, const char *where,
                        struct ph_err *err) {
  int idx = ph_catalog_find(o->cat, it->string, strlen(it->string));
  if (idx < 0) return ph_fail(err, PH_EMETRIC, "%s.values: unknown metric '%.64s'", where, it->string);
  const struct ph_metric *m = ph_catalog_at(o->cat, (size_t)idx);
  if (m->kind != o->kind)
    return ph_fail(err, PH_EKIND, "%s.values.%s: a %s metric in a %s batch", where, m->code, ph_kind_name(m->kind),
                   ph_kind_name(o->kind));
  if (!cJSON_IsNumber(it)) return ph_fail(err, PH_ETYPE, "%s.values.%s: must be a number", where, m->code);
  double v = it->valuedouble;
  if (!isfinite(v)) return ph_fail(err, PH_ENONFINITE, "%s.values.%s: not a finite number", where, m->code);
  if (v < m->min || v > m->max)
    return ph_fail(err, PH_ERANGE, "%s.values.%s: %g outside the plausible range %g..%g %s", where, m->code, v,
                   m->min, m->max, m->unit);
  out->metric = idx;
  out->flag = 'N';
  out->v = v;
  return 0;
}

static int decode_values(const cJSON *vals, const struct ph_decode_opts *o, struct ph_batch *b, struct ph_record *r,
                         const char *where, struct ph_err *err) {
  int rc;
  if (!cJSON_IsObject(vals)) return ph_fail(err, PH_ETYPE, "%s.values: must be an object", where);
  int n = cJSON_GetArraySize(vals);
  if (n == 0) return ph_fail(err, PH_EEMPTY, "%s.values: no values", where);
  if (n > PH_RECORD_MAX_VALUES)
    return ph_fail(err, PH_ETOOMANY, "%s.values: %d values, more than %d", where, n, PH_RECORD_MAX_VALUES);
  if (grow((void **)&b->values, &b->values_cap, b->nvalues + (size_t)n, sizeof *b->values))
    return ph_fail(err, PH_ENOMEM, "%s: out of memory", where);
  r->value_off = (uint32_t)b->nvalues;
  r->nvalues = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, vals) {
    struct ph_value *v = &b->values[r->value_off + r->nvalues];
    if ((rc = decode_value(it, o, v, where, err))) return rc;
    for (uint16_t k = 0; k < r->nvalues; k++) /* a known metric twice: compare indices, not strings */
      if (b->values[r->value_off + k].metric == v->metric)
        return ph_fail(err, PH_EJSON, "%s: duplicate key '%.64s'", where, it->string);
    r->nvalues++;
  }
  return 0;
}

static int decode_flags(const cJSON *flags, const struct ph_decode_opts *o, struct ph_batch *b,
                        const struct ph_record *r, const char *where, struct ph_err *err) {
  if (!flags) return 0;
  if (!cJSON_IsObject(flags)) return ph_fail(err, PH_ETYPE, "%s.flags: must be an object", where);
  int rc = check_object(flags, NULL, where, err);
  if (rc) return rc;
  const cJSON *it;
  cJSON_ArrayForEach(it, flags) {
    int idx = ph_catalog_find(o->cat, it->string, strlen(it->string));
    struct ph_value *v = NULL;
    for (uint16_t k = 0; idx >= 0 && k < r->nvalues; k++)
      if (b->values[r->value_off + k].metric == idx) v = &b->values[r->value_off + k];
    if (!v) return ph_fail(err, PH_EFLAG, "%s.flags.%.64s: no such metric in values", where, it->string);
    if (!cJSON_IsString(it) || strlen(it->valuestring) != 1 || !ph_flag_valid(it->valuestring[0]))
      return ph_fail(err, PH_EFLAG, "%s.flags.%s: must be one of the letters " PH_FLAGS, where, it->string);
    v->flag = it->valuestring[0];
  }
  return 0;
}

static int decode_state(const cJSON *st, struct ph_record *r, const char *where, struct ph_err *err) {
  r->state = PH_STATE_NONE;
  if (!st) return 0;
  if (!cJSON_IsString(st)) return ph_fail(err, PH_ETYPE, "%s.state: must be a string", where);
  for (int i = 1; i <= PH_STATE_STOPPED; i++)
    if (strcmp(st->valuestring, state_words[i]) == 0) {
      r->state = (enum ph_state)i;
      return 0;
    }
  return ph_fail(err, PH_EENUM, "%s.state: '%.32s' is not running|startup|shutdown|stopped", where, st->valuestring);
}

/* Field positions in meas_keys / mat_keys. */
enum { F_TS, F_POINT, F_VALUES, F_FLAGS, F_STATE };
enum { M_TS, M_POINT, M_MATERIAL, M_DIR, M_QTY, M_LOT, M_SUPPLIER, M_ATTRS };

static int decode_measurement(const cJSON **f, const struct ph_decode_opts *o, struct ph_batch *b,
                              struct ph_record *r, const char *where, struct ph_err *err) {
  int rc;
  if ((rc = decode_values(f[F_VALUES], o, b, r, where, err)) || (rc = decode_flags(f[F_FLAGS], o, b, r, where, err)) ||
      (rc = decode_state(f[F_STATE], r, where, err)))
    return rc;
  return 0;
}

static int get_str(const cJSON *v, const char *key, char *dst, size_t cap, const char *where, struct ph_err *err) {
  dst[0] = '\0';
  if (!v) return 0;
  if (!cJSON_IsString(v)) return ph_fail(err, PH_ETYPE, "%s.%s: must be a string", where, key);
  if (strlen(v->valuestring) >= cap)
    return ph_fail(err, PH_ESTRLEN, "%s.%s: longer than %zu characters", where, key, cap - 1);
  strcpy(dst, v->valuestring);
  return 0;
}

static int decode_attrs(const cJSON *attrs, struct ph_batch *b, struct ph_record *r, const char *where,
                        struct ph_err *err) {
  r->attrs_off = -1;
  if (!attrs) return 0;
  if (!cJSON_IsObject(attrs)) return ph_fail(err, PH_ETYPE, "%s.attrs: must be an object", where);
  char buf[PH_ATTRS_MAX + 1];
  if (!cJSON_PrintPreallocated((cJSON *)attrs, buf, sizeof buf, 0))
    return ph_fail(err, PH_ESTRLEN, "%s.attrs: more than %d bytes as JSON", where, PH_ATTRS_MAX);
  size_t n = strlen(buf) + 1;
  if (n > PH_ATTRS_MAX) return ph_fail(err, PH_ESTRLEN, "%s.attrs: more than %d bytes as JSON", where, PH_ATTRS_MAX);
  if (grow((void **)&b->arena, &b->arena_cap, b->arena_len + n, 1))
    return ph_fail(err, PH_ENOMEM, "%s: out of memory", where);
  memcpy(b->arena + b->arena_len, buf, n);
  r->attrs_off = (int32_t)b->arena_len;
  b->arena_len += n;
  return 0;
}

static int decode_material(const cJSON **f, const struct ph_decode_opts *o, struct ph_batch *b,
                           struct ph_record *r, const char *where, struct ph_err *err) {
  const cJSON *mat = f[M_MATERIAL], *dir = f[M_DIR], *qty = f[M_QTY];
  if (!cJSON_IsString(mat)) return ph_fail(err, PH_ETYPE, "%s.material: must be a string", where);
  int idx = ph_catalog_find(o->cat, mat->valuestring, strlen(mat->valuestring));
  if (idx < 0) return ph_fail(err, PH_EMETRIC, "%s.material: unknown material '%.64s'", where, mat->valuestring);
  const struct ph_metric *m = ph_catalog_at(o->cat, (size_t)idx);
  if (m->kind != PH_KIND_MATERIAL)
    return ph_fail(err, PH_EKIND, "%s.material: '%s' is a %s metric, not a material", where, m->code,
                   ph_kind_name(m->kind));
  r->material = idx;
  if (!cJSON_IsString(dir)) return ph_fail(err, PH_ETYPE, "%s.dir: must be a string", where);
  if (strcmp(dir->valuestring, "in") && strcmp(dir->valuestring, "out"))
    return ph_fail(err, PH_EENUM, "%s.dir: '%.16s' is not in|out", where, dir->valuestring);
  r->dir = dir->valuestring[0] == 'o' ? PH_DIR_OUT : PH_DIR_IN;
  if (!cJSON_IsNumber(qty)) return ph_fail(err, PH_ETYPE, "%s.qty_t: must be a number", where);
  if (!isfinite(qty->valuedouble)) return ph_fail(err, PH_ENONFINITE, "%s.qty_t: not a finite number", where);
  if (qty->valuedouble < m->min || qty->valuedouble > m->max)
    return ph_fail(err, PH_ERANGE, "%s.qty_t: %g t outside the plausible range %g..%g", where, qty->valuedouble,
                   m->min, m->max);
  r->qty_t = qty->valuedouble;
  int rc;
  if ((rc = get_str(f[M_LOT], "lot", r->lot, sizeof r->lot, where, err)) ||
      (rc = get_str(f[M_SUPPLIER], "supplier", r->supplier, sizeof r->supplier, where, err)) ||
      (rc = decode_attrs(f[M_ATTRS], b, r, where, err)))
    return rc;
  return 0;
}

static int decode_record(struct ph_batch *b, const cJSON *rec, const struct ph_decode_opts *o, const char *where,
                         struct ph_err *err) {
  if (!cJSON_IsObject(rec)) return ph_fail(err, PH_ETYPE, "%s: must be an object", where);
  bool material_shape = cJSON_GetObjectItemCaseSensitive(rec, "values")
                            ? false
                            : cJSON_GetObjectItemCaseSensitive(rec, "material") ? true : o->kind == PH_KIND_MATERIAL;
  if (material_shape != (o->kind == PH_KIND_MATERIAL))
    return ph_fail(err, PH_EKIND, "%s: a %s record in a %s batch", where, material_shape ? "material" : "measurement",
                   ph_kind_name(o->kind));
  const cJSON *f[8];
  int rc = scan_fields(rec, material_shape ? mat_keys : meas_keys, material_shape ? 5 : 3, f, where, err);
  if (rc) return rc;
  struct ph_record r;
  memset(&r, 0, sizeof r);
  r.attrs_off = -1;
  if ((rc = get_time(f[F_TS], o, &r.ts_ms, true, where, "ts", err)) ||
      (rc = get_id(f[F_POINT], r.point, where, "point", err)))
    return rc;
  if (material_shape)
    rc = decode_material(f, o, b, &r, where, err);
  else
    rc = decode_measurement(f, o, b, &r, where, err);
  if (rc) return rc;
  if (grow((void **)&b->records, &b->records_cap, b->nrecords + 1, sizeof *b->records))
    return ph_fail(err, PH_ENOMEM, "%s: out of memory", where);
  b->records[b->nrecords++] = r;
  b->nvalues += r.nvalues;
  return 0;
}

int ph_batch_decode_record(struct ph_batch *b, const void *cjson_record, const struct ph_decode_opts *o,
                           const char *where, struct ph_err *err) {
  size_t arena_len = b->arena_len; /* inv. 1: undo what a failed record appended */
  int rc = decode_record(b, cjson_record, o, where, err);
  if (rc) b->arena_len = arena_len;
  return rc;
}

static int decode_root(const cJSON *root, const struct ph_decode_opts *o, struct ph_batch *b, struct ph_err *err) {
  int rc;
  if (!cJSON_IsObject(root)) return ph_fail(err, PH_ETYPE, "batch: must be a JSON object");
  read_header(root, b);
  if ((rc = check_object(root, batch_keys, "batch", err)) || (rc = need_keys(root, batch_keys, "batch", err)))
    return rc;
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "v");
  if (!cJSON_IsNumber(v)) return ph_fail(err, PH_ETYPE, "batch.v: must be a number");
  if (v->valuedouble != PH_BATCH_VERSION)
    return ph_fail(err, PH_EVERSION, "batch.v: version %g is not supported (this hub speaks %d)", v->valuedouble,
                   PH_BATCH_VERSION);
  if ((rc = get_id(cJSON_GetObjectItemCaseSensitive(root, "agent"), b->agent, "batch", "agent", err)) ||
      (rc = get_seqnum(cJSON_GetObjectItemCaseSensitive(root, "epoch"), &b->epoch, "epoch", err)) ||
      (rc = get_seqnum(cJSON_GetObjectItemCaseSensitive(root, "seq"), &b->seq, "seq", err)) ||
      (rc = get_seqnum(cJSON_GetObjectItemCaseSensitive(root, "oldest"), &b->oldest, "oldest", err)))
    return rc;
  if (b->oldest > b->seq) return ph_fail(err, PH_ESEQ, "batch.oldest: %lld is after seq %lld", (long long)b->oldest, (long long)b->seq);
  if ((rc = get_time(cJSON_GetObjectItemCaseSensitive(root, "sent"), o, &b->sent_ms, false, "batch", "sent", err)))
    return rc;
  const cJSON *recs = cJSON_GetObjectItemCaseSensitive(root, "records");
  if (!cJSON_IsArray(recs)) return ph_fail(err, PH_ETYPE, "batch.records: must be an array");
  int n = cJSON_GetArraySize(recs);
  size_t max = o->max_records ? o->max_records : PH_BATCH_MAX_RECORDS;
  if (n == 0) return ph_fail(err, PH_EEMPTY, "batch.records: no records");
  if ((size_t)n > max) return ph_fail(err, PH_ETOOMANY, "batch.records: %d records, more than %zu", n, max);
  int i = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, recs) {
    char where[32] = "records[", *w = where + 8, digits[12];
    int nd = 0, idx = i++;
    do digits[nd++] = (char)('0' + idx % 10); while ((idx /= 10) && nd < 11);
    while (nd) *w++ = digits[--nd];
    *w++ = ']';
    *w = '\0';
    if ((rc = ph_batch_decode_record(b, it, o, where, err))) return rc;
  }
  return 0;
}

int ph_batch_decode(const char *buf, size_t len, const struct ph_decode_opts *o, struct ph_batch *b,
                    struct ph_err *err) {
  ph_batch_reset(b, o->kind);
  size_t max = o->max_bytes ? o->max_bytes : PH_BATCH_MAX_BYTES;
  if (len > max) return ph_fail(err, PH_ETOOLARGE, "batch: %zu bytes, more than the %zu allowed", len, max);
  cJSON *root = NULL;
  int rc = ph_json_parse(buf, len, "batch", (void **)&root, err);
  if (rc) return rc;
  rc = decode_root(root, o, b, err);
  cJSON_Delete(root);
  if (rc) {
    b->nrecords = b->nvalues = b->arena_len = 0;
  }
  return rc;
}
