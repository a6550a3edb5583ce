/* batch_encode.c — builds batches (ph_batch_add_record) and encodes them as
 * the wire JSON of DESIGN.md (ph_batch_encode).
 * Callers: the agent's batcher; tests (round trips with batch_decode.c).
 * Only non-N flags are written: N is the default the decoder assumes. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "parkhub/batch.h"
#include "parkhub/timefmt.h"

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

int ph_batch_add_record(struct ph_batch *b, const struct ph_record *r, const struct ph_value *vals, size_t n,
                        const char *attrs_json) {
  if (n > PH_RECORD_MAX_VALUES || b->nrecords >= PH_BATCH_MAX_RECORDS) return PH_ETOOMANY;
  size_t alen = attrs_json ? strlen(attrs_json) + 1 : 0;
  if (alen > PH_ATTRS_MAX) return PH_ESTRLEN;
  if (grow((void **)&b->records, &b->records_cap, b->nrecords + 1, sizeof *b->records) ||
      grow((void **)&b->values, &b->values_cap, b->nvalues + n, sizeof *b->values) ||
      grow((void **)&b->arena, &b->arena_cap, b->arena_len + alen, 1))
    return PH_ENOMEM;
  struct ph_record *dst = &b->records[b->nrecords++];
  *dst = *r;
  dst->value_off = (uint32_t)b->nvalues;
  dst->nvalues = (uint16_t)n;
  if (n) memcpy(b->values + b->nvalues, vals, n * sizeof *vals);
  b->nvalues += n;
  dst->attrs_off = -1;
  if (alen) {
    memcpy(b->arena + b->arena_len, attrs_json, alen);
    dst->attrs_off = (int32_t)b->arena_len;
    b->arena_len += alen;
  }
  return 0;
}

static bool add_time(cJSON *o, const char *key, int64_t ms) {
  char ts[PH_TIME_STRLEN];
  return ph_time_format(ms, ts, sizeof ts) == 0 && cJSON_AddStringToObject(o, key, ts);
}

static bool encode_measurement(cJSON *o, const struct ph_batch *b, const struct ph_record *r,
                               const struct ph_catalog *cat) {
  cJSON *vals = cJSON_AddObjectToObject(o, "values");
  cJSON *flags = NULL;
  if (!vals) return false;
  const struct ph_value *v = ph_record_values(b, r);
  for (uint16_t k = 0; k < r->nvalues; k++) {
    const struct ph_metric *m = ph_catalog_at(cat, (size_t)v[k].metric);
    if (!m || !cJSON_AddNumberToObject(vals, m->code, v[k].v)) return false;
    if (v[k].flag && v[k].flag != 'N') {
      char f[2] = {v[k].flag, '\0'};
      if (!flags && !(flags = cJSON_AddObjectToObject(o, "flags"))) return false;
      if (!cJSON_AddStringToObject(flags, m->code, f)) return false;
    }
  }
  if (r->state != PH_STATE_NONE && !cJSON_AddStringToObject(o, "state", ph_state_name(r->state))) return false;
  return true;
}

static bool encode_material(cJSON *o, const struct ph_batch *b, const struct ph_record *r,
                            const struct ph_catalog *cat) {
  (void)cat; /* the record carries its code (any id: the plant's own) */
  if (!r->material[0] || !cJSON_AddStringToObject(o, "material", r->material) ||
      !cJSON_AddStringToObject(o, "dir", ph_dir_name(r->dir)) || !cJSON_AddNumberToObject(o, "qty_t", r->qty_t))
    return false;
  if (r->lot[0] && !cJSON_AddStringToObject(o, "lot", r->lot)) return false;
  if (r->supplier[0] && !cJSON_AddStringToObject(o, "supplier", r->supplier)) return false;
  const char *attrs = ph_record_attrs(b, r);
  if (attrs) {
    cJSON *a = cJSON_Parse(attrs);
    if (!a) return false;
    cJSON_AddItemToObject(o, "attrs", a);
  }
  return true;
}

static bool encode_records(cJSON *recs, const struct ph_batch *b, const struct ph_catalog *cat) {
  for (size_t i = 0; i < b->nrecords; i++) {
    const struct ph_record *r = &b->records[i];
    cJSON *o = cJSON_CreateObject();
    if (!o) return false;
    cJSON_AddItemToArray(recs, o);
    if (!add_time(o, "ts", r->ts_ms) || !cJSON_AddStringToObject(o, "point", r->point)) return false;
    if (!(b->kind == PH_KIND_MATERIAL ? encode_material(o, b, r, cat) : encode_measurement(o, b, r, cat))) return false;
  }
  return true;
}

static cJSON *encode_tree(const struct ph_batch *b, const struct ph_catalog *cat) {
  cJSON *root = cJSON_CreateObject();
  if (!root) return NULL;
  cJSON *recs;
  if (!cJSON_AddNumberToObject(root, "v", b->v) || !cJSON_AddStringToObject(root, "agent", b->agent) ||
      !cJSON_AddNumberToObject(root, "epoch", (double)b->epoch) ||
      !cJSON_AddNumberToObject(root, "seq", (double)b->seq) ||
      !cJSON_AddNumberToObject(root, "oldest", (double)b->oldest) || !add_time(root, "sent", b->sent_ms) ||
      !(recs = cJSON_AddArrayToObject(root, "records")) || !encode_records(recs, b, cat)) {
    cJSON_Delete(root);
    return NULL;
  }
  return root;
}

/* cJSON allocates with malloc, which is what ph_free releases. */
static int print(cJSON *root, char **out, size_t *len) {
  if (!root) return PH_ENOMEM;
  char *s = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  if (!s) return PH_ENOMEM;
  *len = strlen(s);
  *out = s;
  return 0;
}

int ph_batch_encode(const struct ph_batch *b, const struct ph_catalog *cat, char **out, size_t *len) {
  return print(encode_tree(b, cat), out, len);
}

int ph_batch_encode_records(const struct ph_batch *b, const struct ph_catalog *cat, char **out, size_t *len) {
  cJSON *recs = cJSON_CreateArray();
  if (recs && !encode_records(recs, b, cat)) {
    cJSON_Delete(recs);
    recs = NULL;
  }
  return print(recs, out, len);
}

int ph_batch_wrap(char *buf, size_t cap, const char *agent, int64_t epoch, int64_t seq, int64_t oldest,
                  int64_t sent_ms, const char *records, size_t len, size_t *out_len) {
  char sent[PH_TIME_STRLEN];
  if (!ph_id_valid_z(agent) || ph_time_format(sent_ms, sent, sizeof sent)) return PH_EINVAL;
  int n = snprintf(buf, cap, "{\"v\":%d,\"agent\":\"%s\",\"epoch\":%lld,\"seq\":%lld,\"oldest\":%lld,\"sent\":\"%s\",\"records\":",
                   PH_BATCH_VERSION, agent, (long long)epoch, (long long)seq, (long long)oldest, sent);
  if (n < 0 || (size_t)n + len + 2 > cap) return PH_EFULL;
  memcpy(buf + n, records, len);
  buf[(size_t)n + len] = '}';
  buf[(size_t)n + len + 1] = '\0';
  *out_len = (size_t)n + len + 1;
  return 0;
}
