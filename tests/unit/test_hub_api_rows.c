/* test_hub_api_rows.c — the API's row writer (hub/api/api_rows.c) without a
 * server: one column description rendered as JSON and as CSV, CSV quoting
 * and formula defusing, the UTF-8 BOM on and off, rounding to a column's
 * decimals (CSV only), columns of one format only, grouped JSON; and the
 * CSV download's name (api_attachment) and local times. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_req.h"
#include "api/api_out.h"
#include "api/api_rows.h"
#include "config/hub_config.h"
#include "parkhub/timefmt.h"
#include "parkhub/tz.h"

#define BOM "\xEF\xBB\xBF"

static struct api_req req;

static void setup(void) {
  memset(&req, 0, sizeof req);
  api_buf_init(&req.out);
  req.bom = true;
}
static void teardown(void) { api_buf_fini(&req.out); }

TestSuite(api_rows, .init = setup, .fini = teardown);

static const struct api_col cols[] = {
    API_COL("name", API_STR),  API_COL("n", API_INT),       API_COL("ok", API_BOOL),
    API_COL("at", API_TIME),   {.name = "v", .type = API_NUM, .rounded = true, .decimals = 2},
    API_COLF("csv_only", API_STR, API_COL_CSV), API_COLF("json_only", API_STR, API_COL_JSON),
    API_COLF("opt", API_NUM, API_COL_OMIT_NULL), API_COL_END};

/* Two rows through the one description; the second ends early. */
static void write_rows(void) {
  struct api_rows w;
  ar_begin(&w, &req, cols);
  if (ar_head(&w)) aj_str(ar_head(&w), "park", "p1");
  ar_open(&w, "rows");
  ar_row(&w);
  ar_str(&w, "冶炼厂, \"一\"");
  ar_int(&w, -7);
  ar_bool(&w, true);
  ar_time(&w, 1772294400000); /* 2026-02-28T16:00:00Z */
  ar_num(&w, 25.746511627906976);
  ar_str(&w, "=1+1");
  ar_str(&w, "j");
  ar_num(&w, 1.5);
  ar_str(&w, "past the last column: dropped");
  ar_end_row(&w);
  ar_row(&w);
  ar_str(&w, "b");
  ar_null(&w);
  ar_bool(&w, false);
  ar_end_row(&w);
  ar_finish(&w, NULL);
}

Test(api_rows, json_from_the_description) {
  req.csv = false;
  write_rows();
  cr_assert_str_eq(req.ctype, "application/json");
  cJSON *doc = cJSON_Parse(req.out.p);
  cr_assert_not_null(doc, "%s", req.out.p);
  cr_assert_str_eq(cJSON_GetObjectItem(doc, "park")->valuestring, "p1");
  cr_assert_eq(cJSON_GetObjectItem(doc, "count")->valueint, 2);
  cr_assert(cJSON_IsNull(cJSON_GetObjectItem(doc, "next")));
  const cJSON *rows = cJSON_GetObjectItem(doc, "rows");
  cr_assert_eq(cJSON_GetArraySize(rows), 2);
  const cJSON *a = cJSON_GetArrayItem(rows, 0), *b = cJSON_GetArrayItem(rows, 1);
  cr_assert_str_eq(cJSON_GetObjectItem(a, "name")->valuestring, "冶炼厂, \"一\"");
  cr_assert_eq(cJSON_GetObjectItem(a, "n")->valueint, -7);
  cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(a, "ok")));
  cr_assert_str_eq(cJSON_GetObjectItem(a, "at")->valuestring, "2026-02-28T16:00:00.000Z");
  /* JSON keeps full precision: rounding is CSV's */
  cr_assert_eq(cJSON_GetObjectItem(a, "v")->valuedouble, 25.746511627906976);
  cr_assert_null(cJSON_GetObjectItem(a, "csv_only"));
  cr_assert_str_eq(cJSON_GetObjectItem(a, "json_only")->valuestring, "j");
  cr_assert_eq(cJSON_GetObjectItem(a, "opt")->valuedouble, 1.5);
  cr_assert_eq(cJSON_GetArraySize(a), 7, "no cell past the last column");
  /* padded with nulls; an omitted-when-null column is left out */
  cr_assert(cJSON_IsNull(cJSON_GetObjectItem(b, "n")));
  cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(b, "ok")));
  cr_assert(cJSON_IsNull(cJSON_GetObjectItem(b, "v")));
  cr_assert_null(cJSON_GetObjectItem(b, "opt"));
  cr_assert_eq(strncmp(req.out.p, BOM, 3) != 0, 1, "no BOM in JSON");
  cJSON_Delete(doc);
}

Test(api_rows, csv_from_the_same_description) {
  req.csv = true;
  write_rows();
  cr_assert_str_eq(req.ctype, "text/csv; charset=utf-8");
  cr_assert_str_eq(req.out.p, BOM "name,n,ok,at,v,csv_only,opt\r\n"
                                  "\"冶炼厂, \"\"一\"\"\",-7,true,2026-02-28T16:00:00.000Z,25.75,\"'=1+1\",1.5\r\n"
                                  "b,,false,,,,\r\n");
}

Test(api_rows, bom_off_for_machines) {
  req.csv = true;
  req.bom = false;
  write_rows();
  cr_assert(!strncmp(req.out.p, "name,n,ok,at,v,csv_only,opt\r\n", 29), "%s", req.out.p);
}

Test(api_rows, rounding_to_decimals) {
  static const struct {
    double v;
    int decimals;
    const char *want;
  } cases[] = {{25.746511627906976, 1, "25.7"}, {25.75, 0, "26"},     {-0.04, 1, "0.0"},  {-0.06, 1, "-0.1"},
               {1e6 / 3, 3, "333333.333"},       {0.000012345, 5, "0.00001"}, {-0.0, 2, "0.00"}, {12, 2, "12.00"},
               {1e300, 9, NULL}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct api_col c[] = {{.name = "v", .type = API_NUM, .rounded = true, .decimals = cases[i].decimals},
                          API_COL_END};
    api_buf_reset(&req.out);
    req.csv = true;
    req.bom = false;
    struct api_rows w;
    ar_begin(&w, &req, c);
    ar_row(&w);
    ar_num(&w, cases[i].v);
    ar_end_row(&w);
    ar_end(&w);
    const char *cell = req.out.p + strlen("v\r\n");
    if (!cases[i].want) { /* 1e300 to 9 decimals: 301 digits, the point and 9, written whole */
      cr_assert_eq(strlen(cell), 301 + 1 + 9 + 2, "%s", cell);
      continue;
    }
    char want[64];
    snprintf(want, sizeof want, "%s\r\n", cases[i].want);
    cr_assert_str_eq(cell, want, "%g to %d decimals", cases[i].v, cases[i].decimals);
  }
  /* NaN and infinities are empty cells, rounded or not */
  api_buf_reset(&req.out);
  struct api_col c[] = {{.name = "v", .type = API_NUM, .rounded = true, .decimals = 2}, API_COL("w", API_NUM),
                        API_COL_END};
  struct api_rows w;
  ar_begin(&w, &req, c);
  ar_row(&w);
  ar_num(&w, NAN);
  ar_num(&w, INFINITY);
  ar_end_row(&w);
  cr_assert_str_eq(req.out.p, "v,w\r\n,\r\n");
}

Test(api_rows, csv_quoting_and_formulas) {
  static const struct {
    const char *in, *out;
  } cases[] = {{"plain", "plain"},         {"a,b", "\"a,b\""},        {"say \"hi\"", "\"say \"\"hi\"\"\""},
               {"two\r\nlines", "\"two\r\nlines\""}, {"=SUM(A1)", "\"'=SUM(A1)\""}, {"+1", "\"'+1\""},
               {"-2", "\"'-2\""},          {"@x", "\"'@x\""},         {"\tt", "\"'\tt\""},
               {"\rr", "\"'\rr\""},        {"", ""},                  {"中文名称", "中文名称"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct api_col c[] = {API_COL("s", API_STR), API_COL_END};
    api_buf_reset(&req.out);
    req.csv = true;
    req.bom = false;
    struct api_rows w;
    ar_begin(&w, &req, c);
    ar_row(&w);
    ar_str(&w, cases[i].in);
    ar_end_row(&w);
    char want[64];
    snprintf(want, sizeof want, "s\r\n%s\r\n", cases[i].out);
    cr_assert_str_eq(req.out.p, want, "cell %zu", i);
  }
}

/* Rows nest under their first column in JSON, flat in CSV; a group without
 * rows is an empty array in JSON and a row of empty cells in CSV. */
static void write_groups(void) {
  static const struct api_col g[] = {API_COL("point", API_STR), API_COL("metric", API_STR), API_COL("last", API_NUM),
                                     API_COL_END};
  struct api_rows w;
  ar_begin(&w, &req, g);
  ar_group(&w, "metrics");
  ar_open(&w, "points");
  const char *rows[][2] = {{"scale", NULL}, {"s1", "flow"}, {"s1", "so2"}, {"s2", "o2"}};
  for (int i = 0; i < 4; i++) {
    ar_row(&w);
    ar_str(&w, rows[i][0]);
    if (rows[i][1]) {
      ar_str(&w, rows[i][1]);
      ar_num(&w, i);
    }
    ar_end_row(&w);
  }
  ar_end(&w);
}

Test(api_rows, grouped_json_flat_csv) {
  req.csv = false;
  write_groups();
  cr_assert_str_eq(req.out.p, "{\"points\":[{\"point\":\"scale\",\"metrics\":[]},"
                              "{\"point\":\"s1\",\"metrics\":[{\"metric\":\"flow\",\"last\":1},"
                              "{\"metric\":\"so2\",\"last\":2}]},"
                              "{\"point\":\"s2\",\"metrics\":[{\"metric\":\"o2\",\"last\":3}]}]}\n");
  api_buf_reset(&req.out);
  req.csv = true;
  req.bom = false;
  write_groups();
  cr_assert_str_eq(req.out.p, "point,metric,last\r\nscale,,\r\ns1,flow,1\r\ns1,so2,2\r\ns2,o2,3\r\n");
}

Test(api_rows, json_only_detail_and_cursor) {
  struct api_col c[] = {API_COL("id", API_STR), API_COL_END};
  for (int csv = 0; csv < 2; csv++) {
    api_buf_reset(&req.out);
    req.csv = csv;
    req.bom = false;
    struct api_rows w;
    ar_begin(&w, &req, c);
    ar_open(&w, "items");
    ar_row(&w);
    ar_str(&w, "a");
    struct api_json *j = ar_json(&w);
    cr_assert_eq(j == NULL, csv == 1, "detail is JSON's alone");
    if (j) aj_int(j, "extra", 1);
    ar_end_row(&w);
    ar_finish_cursor(&w, "42", "/next?cursor=42");
  }
  cr_assert_str_eq(req.out.p, "id\r\na\r\n");
  api_buf_reset(&req.out);
  req.csv = false;
  struct api_rows w;
  ar_begin(&w, &req, c);
  ar_open(&w, "items");
  ar_row(&w);
  ar_str(&w, "a");
  aj_int(ar_json(&w), "extra", 1);
  ar_end_row(&w);
  ar_finish_cursor(&w, "42", "/next?cursor=42");
  cr_assert_str_eq(req.out.p, "{\"items\":[{\"id\":\"a\",\"extra\":1}],\"count\":1,\"cursor\":\"42\","
                              "\"next\":\"/next?cursor=42\"}\n");
}

/* ---- download names and local times ---- */

Test(api_rows, attachment_names) {
  struct ph_tz *tz;
  struct ph_err err = {0};
  cr_assert_eq(ph_tz_load("Asia/Shanghai", &tz, &err), 0, "%s", err.msg);
  struct ph_hub_park park;
  memset(&park, 0, sizeof park);
  snprintf(park.id, sizeof park.id, "p1");
  req.park = &park;
  req.tz = tz;
  int64_t from, to;
  cr_assert_eq(ph_time_parse("2026-12-01T00:00:00+08:00", 25, &from), 0);
  cr_assert_eq(ph_time_parse("2026-12-08T00:00:00+08:00", 25, &to), 0);
  req.csv = false;
  api_attachment(&req, "series", "so2", from, to);
  cr_assert_str_eq(req.filename, "", "JSON is no download");
  req.csv = true;
  api_attachment(&req, "series", "so2", from, to);
  cr_assert_str_eq(req.filename, "p1_series_so2_2026-12-01_2026-12-07.csv", "to is exclusive: the last day is the 7th");
  api_attachment(&req, "parks", NULL, 0, 0);
  cr_assert_str_eq(req.filename, "p1_parks.csv");
  /* anything outside [a-z0-9_.-] becomes '_': no quoting in the header, ever */
  api_attachment(&req, "x\"y", "a/b c\r\n", 0, 0);
  cr_assert_str_eq(req.filename, "p1_x_y_a_b_c__.csv");
  /* bounded: a long detail is cut, the name still ends in .csv */
  char longer[400];
  memset(longer, 'a', sizeof longer - 1);
  longer[sizeof longer - 1] = 0;
  api_attachment(&req, "series", longer, from, to);
  size_t n = strlen(req.filename);
  cr_assert_lt(n, sizeof req.filename);
  cr_assert_str_eq(req.filename + n - 4, ".csv");
  ph_tz_free(tz);
}

Test(api_rows, local_minutes) {
  struct ph_tz *tz;
  struct ph_err err = {0};
  cr_assert_eq(ph_tz_load("Asia/Shanghai", &tz, &err), 0, "%s", err.msg);
  int64_t t;
  cr_assert_eq(ph_time_parse("2026-12-06T19:43:05Z", 20, &t), 0);
  char buf[32];
  api_local_minute(tz, t, false, buf, sizeof buf);
  cr_assert_str_eq(buf, "2026-12-07 03:43");
  api_local_minute(tz, t, true, buf, sizeof buf);
  cr_assert_str_eq(buf, "2026-12-07 03:43:05");
  api_local_minute(NULL, -1, true, buf, sizeof buf); /* before the epoch, no zone: UTC */
  cr_assert_str_eq(buf, "1969-12-31 23:59:59");
  ph_tz_free(tz);
}

/* Bare column names, as handlers gave them before columns had types: the
 * same rows (a handler file written against the old form still compiles). */
Test(api_rows, bare_names) {
  static const char *const names[] = {"a", "b", NULL};
  req.csv = true;
  req.bom = false;
  struct api_rows w;
  ar_begin(&w, &req, names);
  ar_row(&w);
  ar_str(&w, "x");
  ar_num(&w, 0.5);
  ar_end_row(&w);
  ar_end(&w);
  cr_assert_str_eq(req.out.p, "a,b\r\nx,0.5\r\n");
}

/* Numbers are written as before their fast paths (api_out.c): a double as
 * "%.15g" (or "%.17g" when that does not read back), an integer as "%lld",
 * byte for byte, at the edges of the whole-number path too. */
Test(api_rows, number_bytes_as_printf_writes_them) {
  static const double ds[] = {0,      -0.0,  1,       -1,      7,          10,     150,         3600,
                              1e14,   -1e14, 999999999999999.0, 1e15, -1e15, 1e15 + 2, 9007199254740992.0,
                              1e300,  0.5,   -0.25,   0.1,     1.0 / 3,    2.5e-7, 5442.607308, 123456789.125,
                              4.9e-324, 1e-5};
  for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
    char want[40], got[40];
    snprintf(want, sizeof want, "%.15g", ds[i]);
    if (strtod(want, NULL) != ds[i]) snprintf(want, sizeof want, "%.17g", ds[i]);
    int n = api_fmt_double(ds[i], got, sizeof got);
    cr_assert_str_eq(got, want, "%.17g", ds[i]);
    cr_assert_eq(n, (int)strlen(want));
  }
  /* the one-printf path (api_out.c fmt_derived) against printf itself:
   * random bit patterns (every magnitude, subnormals), figures a summary
   * writes (ratios of counts, sums of masses, a few decimals), values whose
   * 16th-17th digits are "50" and "49"/"51" either side, and 15 nines that
   * carry into another power of ten */
  uint64_t z = 0x9E3779B97F4A7C15ULL;
  for (int i = 0; i < 400000; i++) {
    z ^= z << 13, z ^= z >> 7, z ^= z << 17; /* xorshift64 */
    double v;
    switch (i % 6) {
    case 0: memcpy(&v, &z, sizeof v); break;
    case 1: v = (double)(z % 100000) / (double)(1 + (z >> 40) % 100000); break;
    case 2: v = (double)(z % 100000000) / 1000.0 * 0.1; break;
    case 3: v = (double)(z >> 11) * 0x1p-53 * pow(10, (double)((int)(z % 40) - 20)); break;
    case 4: v = (i & 8 ? -1 : 1) * (0.999999999999999 + (double)(z % 1000) * 1e-18) * pow(10, (double)((int)(z % 30) - 15)); break;
    default: { /* 17 digits ending "49", "50" or "51", read back (the double nearest them) */
      char t[40];
      static const char *const tails[] = {"49", "50", "51"};
      snprintf(t, sizeof t, "%d.%014llu%se%d", 1 + (int)(z % 9), (unsigned long long)((z >> 8) % 100000000000000ULL),
               tails[(z >> 60) % 3], (int)((z >> 20) % 60) - 30);
      v = strtod(t, NULL);
    }
    }
    if (!isfinite(v)) continue;
    char want[40], got[40];
    snprintf(want, sizeof want, "%.15g", v);
    if (strtod(want, NULL) != v) snprintf(want, sizeof want, "%.17g", v);
    int n = api_fmt_double(v, got, sizeof got);
    cr_assert_str_eq(got, want, "%a", v);
    cr_assert_eq(n, (int)strlen(want));
  }
  static const int64_t is[] = {0, 1, -1, 9, 10, -10, 1234567890123LL, INT64_MAX, INT64_MIN, INT64_MIN + 1};
  for (size_t i = 0; i < sizeof is / sizeof is[0]; i++) {
    char want[32];
    snprintf(want, sizeof want, "%lld", (long long)is[i]);
    struct api_buf b;
    api_buf_init(&b);
    struct api_json j;
    aj_init(&j, &b);
    aj_int(&j, NULL, is[i]);
    cr_assert_str_eq(b.p, want);
    api_buf_reset(&b);
    struct api_csv c;
    ac_init(&c, &b);
    ac_int(&c, is[i]);
    cr_assert_str_eq(b.p, want);
    api_buf_fini(&b);
  }
}
