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
