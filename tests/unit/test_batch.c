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
  refused(PH_KIND_MATERIAL, REC("{" TS ",\"material\":\"Gold\",\"dir\":\"in\",\"qty_t\":2}"), PH_EBADID,
          "records[0].material: 'Gold' is not an id");
  refused(PH_KIND_MATERIAL, REC("{" TS ",\"material\":7,\"dir\":\"in\",\"qty_t\":2}"), PH_ETYPE, "material");
  refused(PH_KIND_MATERIAL, REC("{" TS ",\"material\":\"furnace_temp\",\"dir\":\"in\",\"qty_t\":2}"), PH_EKIND,
          "'furnace_temp' is a process metric, not a material");
  refused(PH_KIND_MATERIAL, REC("{" TS ",\"material\":\"gold\",\"dir\":\"in\",\"qty_t\":1000.5}"), PH_ERANGE,
          "1000.5 t outside the plausible range 0..1000");
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

/* Item 5 of issue #15: a code no catalogue knows no longer refuses the
 * batch; the record carries its code text, the slag and dust beside it are
 * kept, and the catalogue's codes keep their own ranges and kind check. */
Test(batch, unknown_material_codes_are_accepted_with_their_text) {
  struct ph_err err = {0};
  const char *j = REC("{\"ts\":\"2026-11-23T08:10:00Z\",\"point\":\"wb-1\",\"material\":\"slag\",\"dir\":\"out\","
                      "\"qty_t\":6.3,\"attrs\":{\"cu_pct\":0.65}},"
                      "{\"ts\":\"2026-11-23T08:25:00Z\",\"point\":\"wb-1\",\"material\":\"scrap_al\",\"dir\":\"in\","
                      "\"qty_t\":12.4,\"lot\":\"AL-3\"},"
                      "{\"ts\":\"2026-11-23T08:40:00Z\",\"point\":\"wb-1\",\"material\":\"flue_dust\",\"dir\":\"out\","
                      "\"qty_t\":0.42}");
  cr_assert_eq(decode(PH_KIND_MATERIAL, j, &err), 0, "%s", err.msg);
  cr_assert_eq(b.nrecords, 3);
  cr_assert_str_eq(b.records[0].material, "slag");
  cr_assert_str_eq(b.records[1].material, "scrap_al");
  cr_assert_str_eq(b.records[1].lot, "AL-3");
  cr_assert_float_eq(b.records[1].qty_t, 12.4, 1e-12);
  cr_assert_str_eq(b.records[2].material, "flue_dust");
  /* a 64-character code (the id's maximum) fits the record */
  char code[65];
  memset(code, 'x', 64);
  code[64] = '\0';
  char buf[512];
  snprintf(buf, sizeof buf, REC("{" TS ",\"material\":\"%s\",\"dir\":\"in\",\"qty_t\":1000}"), code);
  cr_assert_eq(decode(PH_KIND_MATERIAL, buf, &err), 0, "%s", err.msg);
  cr_assert_str_eq(b.records[0].material, code);
  /* encoded and decoded again: the code text survives */
  char *out;
  size_t len;
  cr_assert_eq(ph_batch_encode(&b, cat, &out, &len), 0);
  cr_assert(strstr(out, code), "%s", out);
  ph_free(out);
  /* the agents' path (a JSON line, a CSV row): one record at a time, the same rule */
  struct ph_decode_opts o = opts(PH_KIND_MATERIAL);
  ph_batch_reset(&b, PH_KIND_MATERIAL);
  const char *line = "{" TS ",\"material\":\"brass_turnings\",\"dir\":\"in\",\"qty_t\":3,\"attrs\":{\"cu_pct\":61.5}}";
  cr_assert_eq(ph_batch_decode_record(&b, line, strlen(line), &o, "line 2", &err), 0, "%s", err.msg);
  cr_assert_str_eq(b.records[0].material, "brass_turnings");
  const char *bad = "{" TS ",\"material\":\"o2\",\"dir\":\"in\",\"qty_t\":3}";
  cr_assert_eq(ph_batch_decode_record(&b, bad, strlen(bad), &o, "line 3", &err), PH_EKIND);
  cr_assert_str_eq(err.msg, "line 3.material: 'o2' is an emission metric, not a material");
  cr_assert_eq(b.nrecords, 1, "inv. 1");
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
  cr_assert_str_eq(c.records[0].material, b.records[0].material);
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

/* ---- the jsmn decoder: what a tokenizer leaves to us (batch.h inv. 4) ---- */

#define VAL(x) REC("{" TS ",\"values\":{\"so2\":" x "}}")

Test(batch, numbers_and_literals_follow_the_json_grammar) {
  /* jsmn takes any run of printable characters for a primitive; cJSON let 01 and 1. through */
  const char *bad[] = {"tru", "truex", "nul", "01", "-01", "1.", "1.e5", ".5", "-", "1e", "1e+", "+1", "NaN",
                       "nan", "Infinity", "0x10", "1_000", "1/2", "--1", "1e5.5", "\"1\"1"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char j[512];
    snprintf(j, sizeof j, VAL("%s"), bad[i]);
    refused(PH_KIND_EMISSION, j, PH_EJSON, "not valid JSON");
  }
  const struct {
    const char *text;
    double v;
  } good[] = {{"0", 0}, {"-0", 0}, {"0.5", 0.5}, {"1e2", 100}, {"1E+2", 100}, {"125e-1", 12.5}, {"35.20", 35.2},
              {"0.0001", 1e-4}, {"12345678901234567890e-18", 12.345678901234567890}};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    char j[512];
    snprintf(j, sizeof j, VAL("%s"), good[i].text);
    struct ph_err err = {0};
    cr_assert_eq(decode(PH_KIND_EMISSION, j, &err), 0, "%s: %s", good[i].text, err.msg);
    cr_assert_eq(b.values[0].v, good[i].v, "%s decoded as %.17g", good[i].text, b.values[0].v);
  }
  /* literals where a number belongs: the type is wrong, the JSON is fine */
  refused(PH_KIND_EMISSION, VAL("true"), PH_ETYPE, "values.so2");
  refused(PH_KIND_EMISSION, VAL("null"), PH_ETYPE, "values.so2");
  refused(PH_KIND_EMISSION, VAL("[1]"), PH_ETYPE, "values.so2");
}

Test(batch, a_lone_top_level_value_is_json_but_not_a_batch) {
  refused(PH_KIND_EMISSION, "1", PH_ETYPE, "object");
  refused(PH_KIND_EMISSION, " true \n", PH_ETYPE, "object");
  refused(PH_KIND_EMISSION, "\"x\"", PH_ETYPE, "object");
  refused(PH_KIND_EMISSION, "tru", PH_EJSON, "JSON");
  refused(PH_KIND_EMISSION, "-", PH_EJSON, "JSON");
  refused(PH_KIND_EMISSION, "", PH_EJSON, "JSON");
  refused(PH_KIND_EMISSION, " \n\t", PH_EJSON, "JSON");
}

Test(batch, separators_and_brackets_are_checked) {
  const char *bad[] = {
      "{\"v\":1 \"agent\":\"gw\"}",             /* missing comma */
      "{\"v\":1,,\"agent\":\"gw\"}",            /* two commas */
      "{,\"v\":1}",                             /* leading comma */
      "{\"v\":1,}",                             /* trailing comma */
      "{\"v\" 1}",                              /* missing colon */
      "{\"v\"::1}",                             /* two colons */
      "{\"v\"}",                                /* key without a value */
      "{\"v\",\"agent\":\"gw\"}",               /* the same, then a member */
      "{\"v\":1:2}",                            /* a colon after a value */
      "{1:2}",                                  /* a number as key */
      "{\"v\":[1 2]}",                          /* array without comma */
      "{\"v\":[1,]}",                           /* trailing comma in an array */
      "{\"v\":[,1]}",                           /* leading comma in an array */
      "{\"v\":[\"a\":1]}",                      /* a colon in an array */
      "{\"v\":{\"a\":1}:2}",                    /* a colon after an object */
      "{\"v\":\"a\":\"b\"}",                    /* a string value used as a key */
      "{\"v\":1}}",                             /* an extra bracket */
      "{\"v\":1]",                              /* the wrong bracket */
      "{\"v\":1}{\"v\":1}",                     /* two values */
      "{\"v\":1},",                             /* a comma after the value */
      "{\"v\":1} x",                            /* garbage after the value */
      "{\"v\":1}\0{",                           /* bytes after a NUL */
      ":{\"v\":1}",                             /* a colon before the value */
      "{'v':1}",                                /* single quotes */
      "{\x01\"v\":1}",                          /* a control character as white space (cJSON skipped it) */
  };
  size_t lens[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct ph_decode_opts o = opts(PH_KIND_EMISSION);
    struct ph_err err = {0};
    size_t n = lens[i] ? lens[i] : strlen(bad[i]);
    int rc = ph_batch_decode(bad[i], n, &o, &b, &err);
    cr_assert_eq(rc, PH_EJSON, "%s: got %s (%s)", bad[i], ph_errname(rc) ? ph_errname(rc) : "OK", err.msg);
    cr_assert(strstr(err.msg, "batch: not valid JSON near line 1 column"), "%s", err.msg);
  }
}

Test(batch, white_space_nul_bytes_and_a_bom_around_the_value_are_fine) {
  char j[4096];
  int n = snprintf(j, sizeof j, "\xEF\xBB\xBF \r\n\t%s\n \t", REC(STACK));
  j[n++] = '\0';
  j[n++] = '\0'; /* a C string's terminator sent along (cJSON allowed these too) */
  struct ph_decode_opts o = opts(PH_KIND_EMISSION);
  struct ph_err err = {0};
  cr_assert_eq(ph_batch_decode(j, (size_t)n, &o, &b, &err), 0, "%s", err.msg);
  cr_assert_eq(b.nvalues, 6);
  /* white space everywhere a token may be surrounded */
  const char *spaced = "{ \"v\" : 1 , \"agent\" : \"gw-01\" , \"epoch\" : 1763892000 , \"seq\" : 1042 , \"oldest\" : 1038 ,"
                       " \"sent\" : \"2026-11-23T10:00:01.250Z\" , \"records\" : [ { \"ts\" : \"2026-11-23T10:00:00Z\" ,"
                       " \"point\" : \"stack-1\" , \"values\" : { \"so2\" : 1 , \"nox\" : 2 } } , { \"ts\" :"
                       " \"2026-11-23T10:00:00Z\" , \"point\" : \"stack-2\" , \"values\" : { \"so2\" : 3 } } ] }";
  cr_assert_eq(decode(PH_KIND_EMISSION, spaced, &err), 0, "%s", err.msg);
  cr_assert_eq(b.nrecords, 2);
  cr_assert_eq(b.nvalues, 3);
}

Test(batch, duplicate_keys_are_refused_in_every_object) {
  /* cJSON kept both members and its lookups found the first: now explicit */
  refused(PH_KIND_EMISSION, "{\"v\":1," HDR ",\"records\":[" STACK "]}", PH_EJSON, "batch: duplicate key 'v'");
  refused(PH_KIND_EMISSION, "{" HDR ",\"records\":[" STACK "],\"records\":[" STACK "]}", PH_EJSON,
          "duplicate key 'records'");
  refused(PH_KIND_EMISSION, REC("{" TS ",\"ts\":\"2026-11-23T10:00:00Z\",\"values\":{\"so2\":1}}"), PH_EJSON,
          "records[0]: duplicate key 'ts'");
  refused(PH_KIND_EMISSION, REC("{" TS ",\"values\":{\"so2\":1,\"nox\":2,\"so2\":1}}"), PH_EJSON, "duplicate key 'so2'");
  refused(PH_KIND_EMISSION, REC("{" TS ",\"values\":{\"so2\":1,\"s\\u006f2\":2}}"), PH_EJSON, "duplicate key 'so2'");
  refused(PH_KIND_EMISSION, REC("{" TS ",\"values\":{\"so2\":1},\"flags\":{\"so2\":\"N\",\"so2\":\"M\"}}"), PH_EJSON,
          "duplicate key 'so2'");
  refused(PH_KIND_EMISSION, REC("{" TS ",\"values\":{\"so2\":1},\"flags\":{\"so2\":\"N\",\"\\u0073o2\":\"M\"}}"),
          PH_EJSON, "duplicate key 'so2'");
#define MAT(extra) REC("{" TS ",\"material\":\"slag\",\"dir\":\"in\",\"qty_t\":2" extra "}")
  refused(PH_KIND_MATERIAL, MAT(",\"lot\":\"a\",\"lot\":\"b\""), PH_EJSON, "duplicate key 'lot'");
  refused(PH_KIND_MATERIAL, MAT(",\"attrs\":{\"a\":1,\"b\":2,\"a\":3}"), PH_EJSON, "records[0].attrs: duplicate key 'a'");
  refused(PH_KIND_MATERIAL, MAT(",\"attrs\":{\"x\":[{\"k\":1,\"k\":1}]}"), PH_EJSON, "attrs: duplicate key 'k'");
  refused(PH_KIND_MATERIAL, MAT(",\"attrs\":{\"a\":1,\"\\u0061\":1}"), PH_EJSON, "attrs: duplicate key 'a'");
  /* the same key in different objects is no duplicate */
  struct ph_err err = {0};
  cr_assert_eq(decode(PH_KIND_MATERIAL, MAT(",\"attrs\":{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}]}"), &err), 0, "%s",
               err.msg);
  cr_assert_str_eq(ph_record_attrs(&b, &b.records[0]), "{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}]}");
}

Test(batch, string_escapes_are_decoded_or_refused) {
  struct ph_err err = {0};
  /* free text is unescaped: \" \\ \/ \n \u00e9 and a surrogate pair (U+1F600) */
  cr_assert_eq(decode(PH_KIND_MATERIAL,
                      MAT(",\"lot\":\"A\\u00e9\\\"\\\\\\/\\n\",\"supplier\":\"\\ud83d\\ude00 \\u4e2d\\t\\b\\f\\r\""), &err),
               0, "%s", err.msg);
  cr_assert_str_eq(b.records[0].lot, "A\xc3\xa9\"\\/\n");
  cr_assert_str_eq(b.records[0].supplier, "\xf0\x9f\x98\x80 \xe4\xb8\xad\t\b\f\r");
  /* the length limit counts unescaped bytes: 64 x as \u0078 (6 bytes each) still fits a lot */
  char j[2048], lot[64 * 6 + 2] = "";
  for (int i = 0; i < 64; i++) strcat(lot, "\\u0078");
  snprintf(j, sizeof j, MAT(",\"lot\":\"%s\""), lot);
  cr_assert_eq(decode(PH_KIND_MATERIAL, j, &err), 0, "%s", err.msg);
  cr_assert_eq(strlen(b.records[0].lot), 64);
  strcat(lot, "x");
  snprintf(j, sizeof j, MAT(",\"lot\":\"%s\""), lot);
  refused(PH_KIND_MATERIAL, j, PH_ESTRLEN, "lot");
  /* ids: an escape that spells a valid id is that id; anything else is no id */
  cr_assert_eq(decode(PH_KIND_EMISSION, REC("{\"ts\":\"2026-11-23T10:00:00Z\",\"point\":\"st\\u0061ck-1\",\"values\":{\"so2\":1}}"), &err),
               0, "%s", err.msg);
  cr_assert_str_eq(b.records[0].point, "stack-1");
  refused(PH_KIND_EMISSION, REC("{\"ts\":\"2026-11-23T10:00:00Z\",\"point\":\"st\\u0041ck\",\"values\":{\"so2\":1}}"),
          PH_EBADID, "records[0].point: 'stAck'");
  refused(PH_KIND_EMISSION, REC("{\"ts\":\"2026-11-23T10:00:00Z\",\"point\":\"s\\u0000\",\"values\":{\"so2\":1}}"),
          PH_EBADID, "point");
  refused(PH_KIND_MATERIAL, MAT(",\"lot\":\"a\\u0000b\""), PH_EJSON, "lot: \\u0000");
  /* JSON refusals: lone surrogates (cJSON refused them too), bad escapes, raw control characters */
  refused(PH_KIND_MATERIAL, MAT(",\"lot\":\"\\ud800\""), PH_EJSON, "surrogate");
  refused(PH_KIND_MATERIAL, MAT(",\"lot\":\"\\udc00x\""), PH_EJSON, "surrogate");
  refused(PH_KIND_MATERIAL, MAT(",\"lot\":\"\\ud800\\u0041\""), PH_EJSON, "surrogate");
  refused(PH_KIND_MATERIAL, MAT(",\"attrs\":{\"k\":\"\\ud800\"}"), PH_EJSON, "surrogate");
  refused(PH_KIND_MATERIAL, MAT(",\"lot\":\"\\x41\""), PH_EJSON, "JSON");
  refused(PH_KIND_MATERIAL, MAT(",\"lot\":\"\\u12G4\""), PH_EJSON, "JSON");
  refused(PH_KIND_MATERIAL, MAT(",\"lot\":\"a\tb\""), PH_EJSON, "control character");
  refused(PH_KIND_MATERIAL, MAT(",\"attrs\":{\"k\":\"a\nb\"}"), PH_EJSON, "control character");
  /* keys are compared unescaped */
  cr_assert_eq(decode(PH_KIND_EMISSION, REC("{\"t\\u0073\":\"2026-11-23T10:00:00Z\",\"point\":\"p\",\"values\":{\"\\u0073o2\":1}}"), &err),
               0, "%s", err.msg);
}

Test(batch, attrs_are_stored_as_written_without_white_space) {
  struct ph_err err = {0};
  cr_assert_eq(decode(PH_KIND_MATERIAL,
                      MAT(",\"attrs\": { \"note\" : \"a \\\"b\\\" \\u00e9 \\/\" , \"n\" : [ 1 , 2.50 , -0 , 1E3 , {\"x\" : null} ] ,"
                          " \"t\" : true }"),
                      &err),
               0, "%s", err.msg);
  /* strings and numbers verbatim (escapes too), the white space between tokens gone */
  cr_assert_str_eq(ph_record_attrs(&b, &b.records[0]),
                   "{\"note\":\"a \\\"b\\\" \\u00e9 \\/\",\"n\":[1,2.50,-0,1E3,{\"x\":null}],\"t\":true}");
  /* the limit is on the stored form: 2047 bytes and the NUL */
  char j[8192], pad[2100];
  int fits = 2047 - (int)strlen("{\"x\":\"\"}");
  memset(pad, 'p', (size_t)fits);
  pad[fits] = '\0';
  snprintf(j, sizeof j, MAT(",\"attrs\":{\"x\" :  \"%s\"}"), pad);
  cr_assert_eq(decode(PH_KIND_MATERIAL, j, &err), 0, "%s", err.msg);
  cr_assert_eq(strlen(ph_record_attrs(&b, &b.records[0])), 2047);
  pad[fits] = 'p';
  pad[fits + 1] = '\0';
  snprintf(j, sizeof j, MAT(",\"attrs\":{\"x\":\"%s\"}"), pad);
  refused(PH_KIND_MATERIAL, j, PH_ESTRLEN, "attrs");
  /* an escape at the limit is not split */
  pad[fits - 1] = '\0';
  snprintf(j, sizeof j, MAT(",\"attrs\":{\"x\":\"%s\\n\"}"), pad);
  refused(PH_KIND_MATERIAL, j, PH_ESTRLEN, "attrs");
}

Test(batch, nesting_is_bounded_without_recursion) {
  /* the batch is 4 deep down to attrs: 996 more is the limit of 1000 (cJSON's) */
  char j[8192], deep[2100];
  for (int extra = 996; extra <= 997; extra++) {
    int n = 0;
    for (int i = 0; i < extra; i++) deep[n++] = '[';
    for (int i = 0; i < extra; i++) deep[n++] = ']';
    deep[n] = '\0';
    snprintf(j, sizeof j, MAT(",\"attrs\":{\"d\":%s}"), deep);
    struct ph_err err = {0};
    int rc = decode(PH_KIND_MATERIAL, j, &err);
    if (extra == 996) cr_assert_eq(rc, 0, "%s", err.msg);
    else cr_assert(rc == PH_EJSON && strstr(err.msg, "nested deeper than 1000"), "%s", err.msg);
  }
  /* 100 000 levels in an unknown field: refused as too deep, not a stack overflow */
  size_t n = 200000;
  char *big = ph_malloc(n + 64);
  size_t k = (size_t)sprintf(big, "{\"x\":");
  for (size_t i = 0; i < 100000; i++) big[k++] = '[';
  for (size_t i = 0; i < 100000; i++) big[k++] = ']';
  big[k++] = '}';
  struct ph_decode_opts o = opts(PH_KIND_EMISSION);
  struct ph_err err = {0};
  cr_assert_eq(ph_batch_decode(big, k, &o, &b, &err), PH_EJSON);
  cr_assert(strstr(err.msg, "nested deeper"), "%s", err.msg);
  ph_free(big);
}

Test(batch, every_truncation_of_a_batch_is_refused) {
  const char *j = REC(STACK "," STACK);
  size_t n = strlen(j);
  struct ph_decode_opts o = opts(PH_KIND_EMISSION);
  for (size_t len = 0; len < n; len++) {
    struct ph_err err = {0};
    char *cut = ph_malloc(len + 1); /* exactly len bytes readable: ASan catches a read past them */
    memcpy(cut, j, len);
    int rc = ph_batch_decode(cut, len, &o, &b, &err);
    ph_free(cut);
    cr_assert_eq(rc, PH_EJSON, "%zu bytes: got %s (%s)", len, ph_errname(rc) ? ph_errname(rc) : "OK", err.msg);
    cr_assert_eq(b.nrecords, 0);
  }
  cr_assert_eq(ph_batch_decode(j, n, &o, &b, NULL), 0);
}

Test(batch, the_token_array_is_bounded_and_reused) {
  struct ph_batch_scratch s;
  ph_batch_scratch_init(&s);
  struct ph_decode_opts o = opts(PH_KIND_EMISSION);
  o.scratch = &s;
  /* steady state: the same array for every batch, grown once */
  const char *j = REC(STACK "," STACK "," STACK);
  cr_assert_eq(ph_batch_decode(j, strlen(j), &o, &b, NULL), 0);
  void *tok = s.tok;
  size_t cap = s.cap;
  for (int i = 0; i < 50; i++) cr_assert_eq(ph_batch_decode(j, strlen(j), &o, &b, NULL), 0);
  cr_assert_eq(s.tok, tok);
  cr_assert_eq(s.cap, cap);
  /* a text that needs more tokens than max_bytes / 2 + 2 (only invalid JSON can) is too large */
  o.max_bytes = 1000;
  char brackets[1000];
  memset(brackets, '[', sizeof brackets);
  struct ph_err err = {0};
  cr_assert_eq(ph_batch_decode(brackets, sizeof brackets, &o, &b, &err), PH_ETOOLARGE);
  cr_assert(strstr(err.msg, "more than 502 JSON tokens"), "%s", err.msg);
  cr_assert_leq(s.cap, 502, "the array never grows past the bound");
  /* the densest valid text within the limit fits: [1,1,…,1] of 999 bytes is 501 tokens */
  memset(brackets, '1', sizeof brackets);
  brackets[0] = '[';
  for (int i = 2; i < 998; i += 2) brackets[i] = ',';
  brackets[998] = ']';
  cr_assert_eq(ph_batch_decode(brackets, 999, &o, &b, &err), PH_ETYPE, "%s", err.msg);
  /* at the default limit: 120 000 records of 1 is valid JSON, refused for its count */
  o.max_bytes = 0;
  size_t n = 0, cap2 = 300000;
  char *big = ph_malloc(cap2);
  n += (size_t)snprintf(big, cap2, "{" HDR ",\"records\":[1");
  for (int i = 1; i < 120000; i++) big[n++] = ',', big[n++] = '1';
  n += (size_t)snprintf(big + n, cap2 - n, "]}");
  cr_assert_lt(n, PH_BATCH_MAX_BYTES);
  cr_assert_eq(ph_batch_decode(big, n, &o, &b, &err), PH_ETOOMANY, "%s", err.msg);
  ph_free(big);
  ph_batch_scratch_fini(&s);
  ph_batch_scratch_fini(&s); /* fini twice is harmless */
}

Test(batch, flags_are_bounded_like_values) {
  char big[8192] = "{" HDR ",\"records\":[{" TS ",\"values\":{\"so2\":1},\"flags\":{";
  for (int i = 0; i < 65; i++) snprintf(big + strlen(big), sizeof big - strlen(big), "%s\"m%d\":\"N\"", i ? "," : "", i);
  strcat(big, "}}]}");
  refused(PH_KIND_EMISSION, big, PH_ETOOMANY, "records[0].flags: 65 flags");
}

Test(batch, one_record_decodes_from_its_text) {
  struct ph_decode_opts o = opts(PH_KIND_EMISSION);
  struct ph_err err = {0};
  const char *rec = STACK;
  ph_batch_reset(&b, PH_KIND_EMISSION);
  cr_assert_eq(ph_batch_decode_record(&b, rec, strlen(rec), &o, "line 3", &err), 0, "%s", err.msg);
  cr_assert_eq(b.nrecords, 1);
  cr_assert_eq(b.nvalues, 6);
  cr_assert_eq(b.values[0].flag, 'M');
  /* refusals name `where` and leave the batch as it was (inv. 1) */
  const char *bad = "{" TS ",\"values\":{\"so2\":1,\"sox\":2}}";
  cr_assert_eq(ph_batch_decode_record(&b, bad, strlen(bad), &o, "line 4", &err), PH_EMETRIC);
  cr_assert_str_eq(err.msg, "line 4.values: unknown metric 'sox'");
  cr_assert_eq(b.nrecords, 1);
  cr_assert_eq(ph_batch_decode_record(&b, "{" TS ",", strlen("{" TS ","), &o, "line 5", &err), PH_EJSON);
  cr_assert(strstr(err.msg, "line 5: not valid JSON near line 1 column"), "%s", err.msg);
  cr_assert_eq(ph_batch_decode_record(&b, "[]", 2, &o, "line 6", &err), PH_ETYPE);
  cr_assert_str_eq(err.msg, "line 6: must be an object");
  /* the agents' "kind": passed over when asked, once */
  const char *kinded = "{\"kind\":\"emission\"," TS ",\"values\":{\"so2\":1}}";
  cr_assert_eq(ph_batch_decode_record(&b, kinded, strlen(kinded), &o, "line 7", &err), PH_EUNKNOWNKEY);
  o.skip_key = "kind";
  cr_assert_eq(ph_batch_decode_record(&b, kinded, strlen(kinded), &o, "line 7", &err), 0, "%s", err.msg);
  cr_assert_eq(b.nrecords, 2);
  const char *twice = "{\"kind\":\"emission\"," TS ",\"values\":{\"so2\":1},\"kind\":\"process\"}";
  cr_assert_eq(ph_batch_decode_record(&b, twice, strlen(twice), &o, "line 8", &err), PH_EJSON);
  cr_assert_str_eq(err.msg, "line 8: duplicate key 'kind'");
  /* a record cannot be larger than a batch may be */
  o.max_bytes = 10;
  cr_assert_eq(ph_batch_decode_record(&b, rec, strlen(rec), &o, "line 9", &err), PH_ETOOLARGE);
  cr_assert_eq(b.nrecords, 2);
}

/* common/batch_decode.c converts short decimals on an exact fast path and
 * the rest with strtod_l: either way the double must be strtod's, bit for
 * bit. Random numbers of every shape within flow's range (0..5e6 Nm³/h),
 * 1000 records a batch. */
Test(batch, numbers_convert_exactly_as_strtod) {
  static const char *fixed[] = {"0", "-0", "0.0", "0e0", "0.000e-400", "1", "5000000", "4999999.999999999999",
                                "0.1", "0.2", "0.3", "0.30000000000000004", "2.5e-324", "1e-320", "4.9e-324",
                                "9007199254740993e-10", "9007199254740992e-10", "90071992547409921e-11",
                                "1234567.890123456789", "0.000001", "1e-22", "1e-23", "3e6", "12345678901234567890e-13",
                                "0.1234567890123456789", "123456.7890123456789012345", "1.7976931348623157e-302",
                                "4.35", "85000.0", "1e+6", "1E-0", "5e0006"};
  struct ph_decode_opts o = opts(PH_KIND_EMISSION);
  o.max_bytes = 1 << 20;
  size_t cap = 1 << 20;
  char *j = ph_malloc(cap), num[1000][48];
  unsigned seed = 12345;
#define RND() (seed = seed * 1103515245u + 12345u, (seed >> 8) & 0xFFFFFF)
  int checked = 0, fast_shapes = 0;
  for (int batch = 0; batch < 120; batch++) {
    size_t n = (size_t)snprintf(j, cap, "{" HDR ",\"records\":[");
    for (int r = 0; r < 1000; r++) {
      char *s = num[r];
      int idx = batch * 1000 + r;
      if (idx < (int)(sizeof fixed / sizeof fixed[0])) {
        snprintf(num[r], sizeof num[r], "%s", fixed[idx]);
      } else {
        int shape = (int)(RND() % 4), intd = (int)(RND() % 7) + 1, fracd = (int)(RND() % 22);
        size_t k = 0;
        s[k++] = (char)('1' + RND() % 4); /* < 5e6 even with 7 integer digits */
        for (int i = 1; i < intd; i++) s[k++] = (char)('0' + RND() % 10);
        if (shape == 0 && RND() % 3 == 0) s[0] = '0', k = 1; /* 0.xxx */
        if (shape != 1 && fracd) {
          s[k++] = '.';
          for (int i = 0; i < fracd; i++) s[k++] = (char)('0' + RND() % 10);
        }
        if (shape == 3) k += (size_t)sprintf(s + k, "e-%u", RND() % 30);
        if (shape == 2 && intd < 5) k += (size_t)sprintf(s + k, "E+%u", RND() % 2);
        s[k] = '\0';
        if (k <= 17 && shape != 3) fast_shapes++;
      }
      n += (size_t)snprintf(j + n, cap - n, "%s{\"ts\":\"2026-11-23T10:00:00Z\",\"point\":\"p%d\",\"values\":{\"flow\":%s}}",
                            r ? "," : "", r, s);
    }
    n += (size_t)snprintf(j + n, cap - n, "]}");
    struct ph_err err = {0};
    cr_assert_eq(ph_batch_decode(j, n, &o, &b, &err), 0, "%s", err.msg);
    for (int r = 0; r < 1000; r++) {
      double want = strtod(num[r], NULL), got = b.values[r].v;
      cr_assert(memcmp(&want, &got, sizeof want) == 0, "%s: decoded %.17g, strtod says %.17g", num[r], got, want);
      checked++;
    }
  }
  cr_assert_eq(checked, 120000);
  cr_assert_gt(fast_shapes, 10000, "the fast path's shapes are well represented");
  ph_free(j);
}
