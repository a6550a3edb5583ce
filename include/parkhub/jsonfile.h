/* jsonfile.h — reading JSON documents from files with bounded size and
 * errors that name the file (and, for syntax errors, line and column). */
#ifndef PARKHUB_JSONFILE_H
#define PARKHUB_JSONFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parkhub/err.h"

#define PH_JSONFILE_MAX (4 * 1024 * 1024)

/* Returns new: *text (NUL-terminated, ph_free) and *len. PH_ETOOLARGE when
 * the file is larger than max (0: PH_JSONFILE_MAX). */
int ph_file_read(const char *path, size_t max, char **text, size_t *len, struct ph_err *err);

/* Returns new: *root is a cJSON tree (cJSON_Delete). */
int ph_json_load_file(const char *path, void **root, struct ph_err *err);
/* Parses text; on a syntax error names origin, line and column. */
int ph_json_parse(const char *text, size_t len, const char *origin, void **root,
                  struct ph_err *err);

/* True when j (a const cJSON *) is a number that is an integer in [lo, hi];
 * then *out gets it. Checks the range before any conversion: casting a
 * double outside the target type's range is undefined behaviour, and
 * documents are hostile. */
bool ph_json_int(const void *j, int64_t lo, int64_t hi, int64_t *out);
/* True when text (len bytes) holds U+0000: a raw NUL byte anywhere, or the
 * escape \u0000 inside a string. cJSON decodes it into a C string that it
 * silently cuts short, so callers refuse such documents instead. key (may
 * be NULL) gets the member name whose string value holds it ("" when it is
 * not a member's value). Does not validate the JSON otherwise. */
bool ph_json_find_nul(const char *text, size_t len, char *key, size_t cap);
#define PH_JSON_INT_MAX 9007199254740992LL /* 2^53: larger integers are not exact in JSON numbers */

#endif
