#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "parkhub/batch.h"
#include "parkhub/timefmt.h"

#define NOW 1795428000000LL /* 2026-11-23T10:00:00Z */

static struct ph_catalog *cat;
static struct ph_batch b;

static void setup(void) {
  cr_assert_eq(ph_catalog_load_builtin(&cat, NULL), 0);
  ph_batch_init(&b, PH_KIND_EMISSION);
}
static void teardown(void) {
  ph_batch_fini(&b);
  ph_catalog_free(cat);
}
TestSuite(batch, .init = setup, .fini = teardown);

static struct ph_decode_opts opts(enum ph_kind k) {
  return (struct ph_decode_opts){.cat = cat, .kind = k, .now_ms = NOW, .max_future_ms = 300000,
                                 .max_age_ms = 400LL * 86400000};
}

static int decode(enum ph_kind k, const char *json, struct ph_err *err) {
  struct ph_decode_opts o = opts(k);
  return ph_batch_decode(json, strlen(json), &o, &b, err);
}

#define HDR "\"v\":1,\"agent\":\"gw-01\",\"epoch\":1763892000,\"seq\":1042,\"oldest\":1038,\"sent\":\"2026-11-23T10:00:01.250Z\""
#define STACK "{\"ts\":\"2026-11-23T10:00:00Z\",\"point\":\"stack-1\",\"values\":{\"so2\":35.2,\"nox\":88.0,\"pm\":4.1,\"flow\":85000,\"o2\":12.1,\"temp\":135},\"flags\":{\"so2\":\"M\"}}"

Test(batch, decodes_the_design_example) {
  struct ph_err err = {0};
  cr_assert_eq(decode(PH_KIND_EMISSION, "{" HDR ",\"records\":[" STACK "]}", &err), 0, "%s", err.msg);
  cr_assert_str_eq(b.agent, "gw-01");
  cr_assert_eq(b.epoch, 1763892000);
  cr_assert_eq(b.seq, 1042);
  cr_assert_eq(b.oldest, 1038);
  cr_assert_eq(b.sent_ms, NOW + 1250);
  cr_assert_eq(b.nrecords, 1);
  cr_assert_eq(b.nvalues, 6);
  const struct ph_record *r = &b.records[0];
  cr_assert_str_eq(r->point, "stack-1");
  cr_assert_eq(r->ts_ms, NOW);
  const struct ph_value *v = ph_record_values(&b, r);
  int so2 = ph_catalog_find(cat, "so2", 3), nox = ph_catalog_find(cat, "nox", 3);
  cr_assert_eq(v[0].metric, so2);
  cr_assert_float_eq(v[0].v, 35.2, 1e-12);
  cr_assert_eq(v[0].flag, 'M');
  cr_assert_eq(v[1].metric, nox);
  cr_assert_eq(v[1].flag, 'N', "a metric without a flag is normal");
}

static void refused(enum ph_kind k, const char *json, int code, const char *needle) {
  struct ph_err err = {0};
  int rc = decode(k, json, &err);
  cr_assert_eq(rc, code, "%s: got %s (%s), want %s", json, ph_errname(rc) ? ph_errname(rc) : "OK", err.msg,
               ph_errname(code));
  cr_assert(strstr(err.msg, needle), "message '%s' lacks '%s'", err.msg, needle);
  cr_assert_eq(b.nrecords, 0, "inv. 1: nothing of a refused batch is kept");
}

#define REC(body) "{" HDR ",\"records\":[" body "]}"
#define TS "\"ts\":\"2026-11-23T10:00:00Z\",\"point\":\"stack-1\""

Test(batch, every_refusal_has_its_code_and_path) {
  refused(PH_KIND_EMISSION, "{" HDR, PH_EJSON, "JSON");
  refused(PH_KIND_EMISSION, "[1]", PH_ETYPE, "object");
  refused(PH_KIND_EMISSION, "{" HDR ",\"records\":[" STACK "],\"x\":1}", PH_EUNKNOWNKEY, "'x'");
  refused(PH_KIND_EMISSION, "{\"v\":1,\"agent\":\"gw\",\"epoch\":1,\"seq\":1,\"oldest\":1,\"records\":[" STACK "]}", PH_EMISSING, "'sent'");
  refused(PH_KIND_EMISSION, "{\"v\":2,\"agent\":\"gw\",\"epoch\":1,\"seq\":1,\"oldest\":1,\"sent\":\"2026-11-23T10:00:00Z\",\"records\":[" STACK "]}", PH_EVERSION, "version 2");
  refused(PH_KIND_EMISSION, "{\"v\":1,\"agent\":\"GW\",\"epoch\":1,\"seq\":1,\"oldest\":1,\"sent\":\"2026-11-23T10:00:00Z\",\"records\":[" STACK "]}", PH_EBADID, "batch.agent");
  refused(PH_KIND_EMISSION, "{\"v\":1,\"agent\":\"gw\",\"epoch\":1,\"seq\":0,\"oldest\":1,\"sent\":\"2026-11-23T10:00:00Z\",\"records\":[" STACK "]}", PH_ESEQ, "batch.seq");
  refused(PH_KIND_EMISSION, "{\"v\":1,\"agent\":\"gw\",\"epoch\":1,\"seq\":3,\"oldest\":4,\"sent\":\"2026-11-23T10:00:00Z\",\"records\":[" STACK "]}", PH_ESEQ, "oldest");
  refused(PH_KIND_EMISSION, "{\"v\":1,\"agent\":\"gw\",\"epoch\":1.5,\"seq\":3,\"oldest\":1,\"sent\":\"2026-11-23T10:00:00Z\",\"records\":[" STACK "]}", PH_ESEQ, "epoch");
  refused(PH_KIND_EMISSION, "{\"v\":1,\"agent\":\"gw\",\"epoch\":1,\"seq\":3,\"oldest\":1,\"sent\":\"yesterday\",\"records\":[" STACK "]}", PH_ETIME, "batch.sent");
  refused(PH_KIND_EMISSION, REC(), PH_EEMPTY, "no records");
  refused(PH_KIND_EMISSION, REC("{" TS ",\"values\":{}}"), PH_EEMPTY, "records[0].values");
  refused(PH_KIND_EMISSION, REC("{\"ts\":\"2026-11-23T11:00:00Z\",\"point\":\"s\",\"values\":{\"so2\":1}}"), PH_ESKEW, "ahead");
  refused(PH_KIND_EMISSION, REC("{\"ts\":\"2024-01-01T00:00:00Z\",\"point\":\"s\",\"values\":{\"so2\":1}}"), PH_ESKEW, "older");
  refused(PH_KIND_EMISSION, REC("{" TS ",\"values\":{\"sox\":1}}"), PH_EMETRIC, "'sox'");
  refused(PH_KIND_EMISSION, REC("{" TS ",\"values\":{\"furnace_temp\":900}}"), PH_EKIND, "process metric in a emission batch");
  refused(PH_KIND_EMISSION, REC("{" TS ",\"values\":{\"so2\":1e999}}"), PH_ENONFINITE, "so2");
  refused(PH_KIND_EMISSION, REC("{" TS ",\"values\":{\"so2\":-1}}"), PH_ERANGE, "plausible");
  refused(PH_KIND_EMISSION, REC("{" TS ",\"values\":{\"so2\":\"1\"}}"), PH_ETYPE, "values.so2");
  refused(PH_KIND_EMISSION, REC("{" TS ",\"values\":{\"so2\":1},\"flags\":{\"so2\":\"X\"}}"), PH_EFLAG, "flags.so2");
  refused(PH_KIND_EMISSION, REC("{" TS ",\"values\":{\"so2\":1},\"flags\":{\"nox\":\"N\"}}"), PH_EFLAG, "flags.nox");
  refused(PH_KIND_EMISSION, REC("{" TS ",\"values\":{\"so2\":1},\"state\":\"melting\"}"), PH_EENUM, "state");
  refused(PH_KIND_EMISSION, REC("{" TS ",\"values\":{\"so2\":1,\"so2\":2}}"), PH_EJSON, "duplicate");
  refused(PH_KIND_EMISSION, REC("{" TS "}"), PH_EMISSING, "'values'");
  refused(PH_KIND_EMISSION, REC("{" TS ",\"material\":\"slag\",\"dir\":\"out\",\"qty_t\":2}"), PH_EKIND, "material record");
  refused(PH_KIND_MATERIAL, REC("{" TS ",\"values\":{\"so2\":1}}"), PH_EKIND, "measurement record");
  refused(PH_KIND_MATERIAL, REC("{" TS ",\"material\":\"gold\",\"dir\":\"in\",\"qty_t\":2}"), PH_EMETRIC, "gold");
  refused(PH_KIND_MATERIAL, REC("{" TS ",\"material\":\"so2\",\"dir\":\"in\",\"qty_t\":2}"), PH_EKIND, "not a material");
  refused(PH_KIND_MATERIAL, REC("{" TS ",\"material\":\"slag\",\"dir\":\"up\",\"qty_t\":2}"), PH_EENUM, "dir");
  refused(PH_KIND_MATERIAL, REC("{" TS ",\"material\":\"slag\",\"dir\":\"in\",\"qty_t\":-2}"), PH_ERANGE, "qty_t");
  refused(PH_KIND_MATERIAL, REC("{" TS ",\"material\":\"slag\",\"dir\":\"in\",\"qty_t\":2,\"attrs\":[]}"), PH_ETYPE, "attrs");
  char big[3000];
  snprintf(big, sizeof big, REC("{" TS ",\"material\":\"slag\",\"dir\":\"in\",\"qty_t\":2,\"attrs\":{\"x\":\"%02500d\"}}"), 0);
  refused(PH_KIND_MATERIAL, big, PH_ESTRLEN, "attrs");
  snprintf(big, sizeof big, REC("{" TS ",\"material\":\"slag\",\"dir\":\"in\",\"qty_t\":2,\"lot\":\"%070d\"}"), 0);
  refused(PH_KIND_MATERIAL, big, PH_ESTRLEN, "lot");
}

Test(batch, header_survives_a_refusal) {
  struct ph_err err = {0};
  cr_assert_eq(decode(PH_KIND_EMISSION, REC("{" TS ",\"values\":{\"sox\":1}}"), &err), PH_EMETRIC);
  cr_assert(b.header_ok, "inv. 2");
  cr_assert_str_eq(b.agent, "gw-01");
  cr_assert_eq(b.seq, 1042);
  cr_assert_eq(decode(PH_KIND_EMISSION, "{\"agent\":\"gw\"}", &err), PH_EMISSING);
  cr_assert_not(b.header_ok, "no seq: cannot be acked");
}

Test(batch, size_and_count_limits) {
  struct ph_decode_opts o = opts(PH_KIND_EMISSION);
  o.max_bytes = 100;
  const char *j = "{" HDR ",\"records\":[" STACK "]}";
  cr_assert_eq(ph_batch_decode(j, strlen(j), &o, &b, NULL), PH_ETOOLARGE);
  o.max_bytes = 0;
  o.max_records = 2;
  const char *three = "{" HDR ",\"records\":[" STACK "," STACK "," STACK "]}";
  cr_assert_eq(ph_batch_decode(three, strlen(three), &o, &b, NULL), PH_ETOOMANY);
  o.max_records = 3;
  cr_assert_eq(ph_batch_decode(three, strlen(three), &o, &b, NULL), 0);
  /* 65 values in one record */
  char big[4096] = "{" HDR ",\"records\":[{" TS ",\"values\":{";
  for (int i = 0; i < 65; i++) snprintf(big + strlen(big), sizeof big - strlen(big), "%s\"m%d\":1", i ? "," : "", i);
  strcat(big, "}}]}");
  cr_assert_eq(decode(PH_KIND_EMISSION, big, NULL), PH_ETOOMANY);
}

Test(batch, material_records_round_trip) {
  const char *j = REC("{\"ts\":\"2026-11-23T09:58:12.5Z\",\"point\":\"weighbridge\",\"material\":\"scrap_cu_2\",\"dir\":\"in\","
                      "\"qty_t\":31.42,\"lot\":\"L-2026-1123-07\",\"supplier\":\"Qingyuan Metals\",\"attrs\":{\"cl_pct\":0.4,\"grade\":\"No.2\"}}");
  struct ph_err err = {0};
  cr_assert_eq(decode(PH_KIND_MATERIAL, j, &err), 0, "%s", err.msg);
  cr_assert_eq(b.records[0].dir, PH_DIR_IN);
  cr_assert_str_eq(ph_record_attrs(&b, &b.records[0]), "{\"cl_pct\":0.4,\"grade\":\"No.2\"}");
  char *out;
  size_t len;
  cr_assert_eq(ph_batch_encode(&b, cat, &out, &len), 0);
  struct ph_batch c;
  ph_batch_init(&c, PH_KIND_MATERIAL);
  struct ph_decode_opts o = opts(PH_KIND_MATERIAL);
  cr_assert_eq(ph_batch_decode(out, len, &o, &c, &err), 0, "%s: %s", out, err.msg);
  cr_assert_eq(c.records[0].material, b.records[0].material);
  cr_assert_float_eq(c.records[0].qty_t, 31.42, 1e-12);
  cr_assert_str_eq(c.records[0].lot, "L-2026-1123-07");
  cr_assert_str_eq(c.records[0].supplier, "Qingyuan Metals");
  cr_assert_eq(c.records[0].ts_ms, NOW - 107500);
  ph_free(out);
  ph_batch_fini(&c);
}

Test(batch, built_batches_encode_and_decode_to_the_same_values) {
  struct ph_batch w;
  ph_batch_init(&w, PH_KIND_PROCESS);
  strcpy(w.agent, "gw-9");
  w.epoch = 7;
  w.seq = 12;
  w.oldest = 3;
  w.sent_ms = NOW;
  int ft = ph_catalog_find(cat, "furnace_temp", 12), q = ph_catalog_find(cat, "quench_out_temp", 15);
  for (int i = 0; i < 100; i++) {
    struct ph_record r = {.ts_ms = NOW - 100000 + i * 1000, .state = i % 2 ? PH_STATE_RUNNING : PH_STATE_NONE};
    snprintf(r.point, sizeof r.point, "furnace-%d", i % 3);
    struct ph_value v[2] = {{ft, 'N', 1150.25 + i}, {q, i == 5 ? 'D' : 'N', 0.1 * i + 1.0 / 3}};
    cr_assert_eq(ph_batch_add_record(&w, &r, v, 2, NULL), 0);
  }
  char *out;
  size_t len;
  cr_assert_eq(ph_batch_encode(&w, cat, &out, &len), 0);
  struct ph_err err = {0};
  cr_assert_eq(decode(PH_KIND_PROCESS, out, &err), 0, "%s", err.msg);
  cr_assert_eq(b.nrecords, 100);
  cr_assert_eq(b.oldest, 3);
  for (size_t i = 0; i < 100; i++) {
    cr_assert_eq(b.records[i].ts_ms, w.records[i].ts_ms);
    cr_assert_eq(b.records[i].state, w.records[i].state);
    for (int k = 0; k < 2; k++) {
      const struct ph_value *x = ph_record_values(&b, &b.records[i]) + k, *y = ph_record_values(&w, &w.records[i]) + k;
      cr_assert_eq(x->metric, y->metric);
      cr_assert_eq(x->flag, y->flag);
      cr_assert_eq(x->v, y->v, "doubles survive the text round trip exactly");
    }
  }
  ph_free(out);
  ph_batch_fini(&w);
}

Test(batch, decoding_again_reuses_the_buffers) {
  const char *j = "{" HDR ",\"records\":[" STACK "," STACK "]}";
  cr_assert_eq(decode(PH_KIND_EMISSION, j, NULL), 0);
  void *recs = b.records, *vals = b.values;
  for (int i = 0; i < 50; i++) cr_assert_eq(decode(PH_KIND_EMISSION, j, NULL), 0);
  cr_assert_eq(b.records, recs);
  cr_assert_eq(b.values, vals);
}

Test(batch, allocation_failure_is_reported_not_fatal) {
  struct ph_batch fresh;
  ph_batch_init(&fresh, PH_KIND_EMISSION);
  struct ph_decode_opts o = opts(PH_KIND_EMISSION);
  const char *j = "{" HDR ",\"records\":[" STACK "]}";
  ph_alloc_fail_after(0);
  int rc = ph_batch_decode(j, strlen(j), &o, &fresh, NULL);
  ph_alloc_fail_after(-1);
  cr_assert_eq(rc, PH_ENOMEM);
  cr_assert_eq(ph_batch_decode(j, strlen(j), &o, &fresh, NULL), 0);
  ph_batch_fini(&fresh);
}
