/* Every file of tests/data/batches/MANIFEST.tsv through the decoder: each
 * valid file decodes, each invalid one returns exactly its intended code.
 * The schema side of the same manifest is tests/schema/check_schemas.py. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "parkhub/batch.h"
#include "parkhub/jsonfile.h"

#define NOW 1795428000000LL /* 2026-11-23T10:00:00Z: the corpus's "now" */

Test(corpus, every_file_gets_its_intended_code) {
  const char *src = getenv("PH_SOURCE_DIR");
  cr_assert_not_null(src, "PH_SOURCE_DIR not set (run through ctest)");
  char dir[1024], path[1400], line[512];
  snprintf(dir, sizeof dir, "%s/tests/data/batches", src);
  snprintf(path, sizeof path, "%s/MANIFEST.tsv", dir);
  FILE *m = fopen(path, "r");
  cr_assert_not_null(m, "%s missing", path);
  struct ph_catalog *cat;
  cr_assert_eq(ph_catalog_load_builtin(&cat, NULL), 0);
  struct ph_batch b;
  ph_batch_init(&b, PH_KIND_EMISSION);
  int files = 0, failures = 0, codes_seen[64] = {0};
  cr_assert_not_null(fgets(line, sizeof line, m), "empty manifest");
  while (fgets(line, sizeof line, m)) {
    char file[256], kind[32], expect[32], schema[32];
    if (sscanf(line, "%255s %31s %31s %31s", file, kind, expect, schema) != 4) continue;
    enum ph_kind k;
    cr_assert_eq(ph_kind_parse(kind, strlen(kind), &k), 0, "%s: bad kind %s", file, kind);
    int want = strcmp(expect, "OK") == 0 ? 0 : ph_errcode_by_name(expect);
    cr_assert(strcmp(expect, "OK") == 0 || want != 0, "%s: unknown code %s", file, expect);
    snprintf(path, sizeof path, "%s/%s", dir, file);
    char *text;
    size_t len;
    cr_assert_eq(ph_file_read(path, 8u << 20, &text, &len, NULL), 0, "%s unreadable", path);
    struct ph_decode_opts o = {.cat = cat, .kind = k, .now_ms = NOW, .max_future_ms = 300000,
                               .max_age_ms = 400LL * 86400000};
    struct ph_err err = {0};
    int rc = ph_batch_decode(text, len, &o, &b, &err);
    ph_free(text);
    if (rc != want) {
      failures++;
      cr_log_error("%s: got %s (%s), want %s", file, rc ? ph_errname(rc) : "OK", err.msg, expect);
    }
    if (rc < 0 && -rc < 64) codes_seen[-rc]++;
    files++;
  }
  fclose(m);
  ph_batch_fini(&b);
  ph_catalog_free(cat);
  cr_assert_geq(files, 40, "the corpus has %d files, fewer than 40", files);
  cr_assert_eq(failures, 0, "%d corpus files decoded to the wrong code", failures);
  const int must[] = {PH_EJSON, PH_ETOOLARGE, PH_EVERSION, PH_EMISSING, PH_ETYPE, PH_EUNKNOWNKEY, PH_EBADID,
                      PH_ESEQ, PH_ETIME, PH_ESKEW, PH_EEMPTY, PH_ETOOMANY, PH_EMETRIC, PH_EKIND, PH_ENONFINITE,
                      PH_ERANGE, PH_EFLAG, PH_EENUM, PH_ESTRLEN};
  for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
    cr_expect_gt(codes_seen[-must[i]], 0, "no corpus file hits %s", ph_errname(must[i]));
}
