/* jsonfile.c — bounded file reads and cJSON parsing with errors that name
 * the file, line and column, for config and catalogue loading. */
#include "parkhub/jsonfile.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "parkhub/alloc.h"

int ph_file_read(const char *path, size_t max, char **text, size_t *len, struct ph_err *err) {
  if (max == 0) max = PH_JSONFILE_MAX;
  FILE *f = fopen(path, "rb");
  if (!f) return ph_fail(err, PH_EIO, "%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    return ph_fail(err, PH_EIO, "%s: not a regular file", path);
  }
  if ((size_t)st.st_size > max) {
    fclose(f);
    return ph_fail(err, PH_ETOOLARGE, "%s: %lld bytes, more than the %zu allowed", path, (long long)st.st_size, max);
  }
  char *buf = ph_malloc((size_t)st.st_size + 1);
  if (!buf) {
    fclose(f);
    return ph_fail(err, PH_ENOMEM, "%s: out of memory", path);
  }
  size_t n = fread(buf, 1, (size_t)st.st_size, f);
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    ph_free(buf);
    return ph_fail(err, PH_EIO, "%s: read error", path);
  }
  buf[n] = '\0';
  *text = buf;
  *len = n;
  return 0;
}

static void line_col(const char *text, const char *at, int *line, int *col) {
  *line = 1;
  *col = 1;
  for (const char *p = text; p < at; p++) {
    if (*p == '\n') {
      (*line)++;
      *col = 1;
    } else {
      (*col)++;
    }
  }
}

int ph_json_parse(const char *text, size_t len, const char *origin, void **root, struct ph_err *err) {
  const char *end = NULL;
  cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
  if (!j) {
    int line = 0, col = 0;
    if (end && end >= text && end <= text + len) line_col(text, end, &line, &col);
    return ph_fail(err, PH_EJSON, "%s: not valid JSON near line %d column %d", origin, line, col);
  }
  /* cJSON stops after the first value: anything but white space after it is an error. */
  for (const char *p = end; p && p < text + len; p++)
    if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != '\0') {
      int line, col;
      line_col(text, p, &line, &col);
      cJSON_Delete(j);
      return ph_fail(err, PH_EJSON, "%s: trailing data after the JSON value at line %d column %d", origin, line,
                     col);
    }
  *root = j;
  return 0;
}

int ph_json_load_file(const char *path, void **root, struct ph_err *err) {
  char *text;
  size_t len;
  int rc = ph_file_read(path, 0, &text, &len, err);
  if (rc) return rc;
  rc = ph_json_parse(text, len, path, root, err);
  ph_free(text);
  return rc;
}

bool ph_json_int(const void *j, int64_t lo, int64_t hi, int64_t *out) {
  const cJSON *n = j;
  if (!cJSON_IsNumber(n)) return false;
  double d = n->valuedouble;
  /* NaN fails both comparisons; lo and hi are exact as doubles for |x| <= 2^53 */
  if (!(d >= (double)lo && d <= (double)hi) || d != floor(d)) return false;
  *out = (int64_t)d;
  return true;
}

/* The raw member name before the value that starts at text[v] (a key is
 * '"name"' then ':'), or "" when there is none. */
static void member_name(const char *text, size_t v, char *key, size_t cap) {
  if (!key || !cap) return;
  key[0] = 0;
  size_t i = v;
  while (i > 0 && strchr(" \t\r\n", text[i - 1])) i--;
  if (i == 0 || text[i - 1] != ':') return;
  i--;
  while (i > 0 && strchr(" \t\r\n", text[i - 1])) i--;
  if (i < 2 || text[i - 1] != '"') return;
  size_t end = i - 1, start = end;
  while (start > 0 && text[start - 1] != '"') start--;
  if (start == 0) return;
  snprintf(key, cap, "%.*s", (int)(end - start < 64 ? end - start : 64), text + start);
}

bool ph_json_find_nul(const char *text, size_t len, char *key, size_t cap) {
  if (key && cap) key[0] = 0;
  bool in_str = false;
  size_t start = 0;
  for (size_t i = 0; i < len; i++) {
    char c = text[i];
    if (c == 0) {
      if (in_str) member_name(text, start, key, cap);
      return true;
    }
    if (!in_str) {
      if (c == '"') in_str = true, start = i;
      continue;
    }
    if (c == '"') {
      in_str = false;
    } else if (c == '\\') {
      if (i + 5 < len && !memcmp(text + i + 1, "u0000", 5)) {
        member_name(text, start, key, cap);
        return true;
      }
      i++; /* the escaped character: \\ and \" stay inside the string */
    }
  }
  return false;
}
