#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parkhub/alloc.h"
#include "parkhub/jsonfile.h"

static char path[64];

static void write_file(const char *text) {
  strcpy(path, "/tmp/phjsonXXXXXX");
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
}

Test(jsonfile, syntax_errors_name_file_line_and_column) {
  write_file("{\n  \"a\": 1,\n  \"b\": ]\n}\n");
  void *root = NULL;
  struct ph_err err = {0};
  cr_assert_eq(ph_json_load_file(path, &root, &err), PH_EJSON);
  cr_assert(strstr(err.msg, path), "%s", err.msg);
  cr_assert(strstr(err.msg, "line 3"), "%s", err.msg);
  unlink(path);
}

Test(jsonfile, trailing_data_is_refused) {
  void *root = NULL;
  struct ph_err err = {0};
  cr_assert_eq(ph_json_parse("{} x", 4, "t", &root, &err), PH_EJSON);
  cr_assert(strstr(err.msg, "trailing"), "%s", err.msg);
  cr_assert_eq(ph_json_parse("{} \n", 4, "t", &root, &err), 0);
  cJSON_Delete(root);
}

Test(jsonfile, missing_and_oversized_files) {
  char *text;
  size_t len;
  struct ph_err err = {0};
  cr_assert_eq(ph_file_read("/nonexistent/x.json", 0, &text, &len, &err), PH_EIO);
  cr_assert(strstr(err.msg, "/nonexistent/x.json"));
  write_file("0123456789");
  cr_assert_eq(ph_file_read(path, 5, &text, &len, &err), PH_ETOOLARGE);
  cr_assert_eq(ph_file_read(path, 10, &text, &len, &err), 0);
  cr_assert_eq(len, 10);
  cr_assert_str_eq(text, "0123456789");
  ph_free(text);
  cr_assert_eq(ph_file_read("/tmp", 0, &text, &len, &err), PH_EIO, "a directory is not a config file");
  unlink(path);
}

/* Found by fuzz_hub_config: a config's "year": 1e300 was cast to int before
 * its range was checked (undefined behaviour). The range comes first now. */
Test(jsonfile, json_int_checks_the_range_before_converting) {
  static const struct {
    const char *text;
    bool ok;
    int64_t v;
  } cases[] = {{"2020", true, 2020},  {"1990", true, 1990},     {"2200", true, 2200},   {"1989", false, 0},
               {"2201", false, 0},    {"2020.5", false, 0},     {"1e300", false, 0},    {"-1e300", false, 0},
               {"2.02e3", true, 2020}, {"\"2020\"", false, 0},  {"null", false, 0},     {"1e-300", false, 0}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cJSON *j = cJSON_Parse(cases[i].text);
    cr_assert_not_null(j, "%s", cases[i].text);
    int64_t v = -7;
    bool ok = ph_json_int(j, 1990, 2200, &v);
    cr_assert_eq(ok, cases[i].ok, "%s", cases[i].text);
    cr_assert_eq(v, cases[i].ok ? cases[i].v : -7, "%s: *out only on success", cases[i].text);
    cJSON_Delete(j);
  }
  cJSON *big = cJSON_Parse("9007199254740992");
  int64_t v = 0;
  cr_assert(ph_json_int(big, 0, PH_JSON_INT_MAX, &v));
  cr_assert_eq(v, PH_JSON_INT_MAX);
  cJSON_Delete(big);
  big = cJSON_Parse("1e19"); /* beyond int64_t */
  cr_assert(!ph_json_int(big, 0, PH_JSON_INT_MAX, &v));
  cJSON_Delete(big);
}

Test(jsonfile, find_nul_in_strings) {
  char key[72];
  static const char raw[] = "{\"a\":\"x\0y\"}";
  cr_assert(ph_json_find_nul(raw, sizeof raw - 1, key, sizeof key));
  cr_assert_str_eq(key, "a");
  const char *t = "{\"by\" : \"Li\\u0000\"}";
  cr_assert(ph_json_find_nul(t, strlen(t), key, sizeof key));
  cr_assert_str_eq(key, "by");
  t = "[\"\\u0000\"]";
  cr_assert(ph_json_find_nul(t, strlen(t), key, sizeof key));
  cr_assert_str_eq(key, "");
  t = "{\"k\\u0000\":1}";
  cr_assert(ph_json_find_nul(t, strlen(t), NULL, 0));
  /* an escaped backslash then u0000 is text; \u0000 outside a string is not JSON anyway */
  t = "{\"a\":\"\\\\u0000\",\"b\":\"\\\"\\u0001\"}";
  cr_assert_not(ph_json_find_nul(t, strlen(t), key, sizeof key));
  t = "{\"a\":\"\\u000\"}";
  cr_assert_not(ph_json_find_nul(t, strlen(t), key, sizeof key));
  cr_assert_not(ph_json_find_nul("\"\\u00", 5, key, sizeof key), "a cut escape at the end");
}
