/* test_src_hj212_corpus.c — every packet of the public HJ 212 corpus
 * (tests/data/hj212/corpus.txt and samples.txt, provenance in their
 * comments and README.md) through `--hj212-dump` (hj212_dump.c): each
 * group of the corpus prints what its "# expect:" lines say and nothing its
 * "# expect-not:" lines name, and every packet of both files either becomes
 * records or is named with the reason it does not (issue #20: "turns every
 * decodable packet into records or names precisely why not"). No network;
 * each group is dumped from a file of its own in a temporary directory. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hj212/hj212.h"

static struct ph_catalog *cat;
static void setup(void) {
  struct ph_err err = {0};
  cr_assert_eq(ph_catalog_load_builtin(&cat, &err), 0, "%s", err.msg);
}
static void teardown(void) { ph_catalog_free(cat); }

/* Dumps `text` (packets, one per line) and returns the output (static). */
static const char *dump_text(const char *text) {
  static char *out;
  static size_t outlen;
  free(out);
  out = NULL;
  char path[] = "/tmp/ph-hj212-corpus-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  FILE *f = open_memstream(&out, &outlen);
  struct ph_err err = {0};
  int rc = ph_hj212_dump(path, cat, NULL, f, &err);
  fclose(f);
  unlink(path);
  cr_assert_eq(rc, 0, "%s", err.msg);
  return out;
}

/* Every packet of a dump either printed a record or is named in a
 * "# packet N:" line (hj212_dump.c names every packet that yields no
 * record): the packets without such a line are at most the record lines,
 * and the summary counts every packet. */
static void every_packet_accounted(const char *out, int packets) {
  long p = -1, r = -1, refused = -1, other = -1, held = -1;
  for (const char *x = out; (x = strstr(x, "# ")); x++)
    if (sscanf(x, "# %ld packets: %ld records, %ld refused, %ld not published, %ld split parts held", &p, &r,
               &refused, &other, &held) == 5)
      break;
  cr_assert_eq(p, packets, "summary: %s", out);
  long record_lines = 0, unnamed = 0;
  for (const char *x = out; (x = strstr(x, "{\"kind\":")); x++) record_lines++;
  cr_expect_eq(record_lines, r, "one line per record: %s", out);
  for (int n = 1; n <= packets; n++) {
    char tag[32];
    snprintf(tag, sizeof tag, "# packet %d:", n);
    char tag2[32];
    snprintf(tag2, sizeof tag2, "# packet %d (", n);
    if (!strstr(out, tag) && !strstr(out, tag2)) unnamed++;
  }
  cr_expect_leq(unnamed, record_lines, "a packet neither became a record nor was named: %s", out);
  cr_expect_leq(refused + other + held, p);
}

TestSuite(hj212_corpus, .init = setup, .fini = teardown);

Test(hj212_corpus, every_group_prints_what_it_expects) {
  char path[1024];
  snprintf(path, sizeof path, "%s/tests/data/hj212/corpus.txt", getenv("PH_SOURCE_DIR"));
  FILE *fp = fopen(path, "r");
  cr_assert_not_null(fp, "%s", path);
  static char line[16384], packets[65536], expects[32][512], nots[8][512];
  int ne = 0, nn = 0, npk = 0, groups = 0, with_source = 0;
  bool source = false;
  packets[0] = '\0';
  for (bool more = true; more;) {
    more = fgets(line, sizeof line, fp) != NULL;
    if (more) line[strcspn(line, "\r\n")] = '\0';
    if (more && strncmp(line, "# source: ", 10) == 0) source = true;
    if (more && strncmp(line, "# expect: ", 10) == 0 && ne < 32) snprintf(expects[ne++], 512, "%.500s", line + 10);
    if (more && strncmp(line, "# expect-not: ", 14) == 0 && nn < 8) snprintf(nots[nn++], 512, "%.500s", line + 14);
    if (more && strncmp(line, "##", 2) == 0) {
      strcat(packets, line);
      strcat(packets, "\n");
      npk++;
    }
    if ((!more || !line[0]) && npk) { /* end of a group */
      const char *out = dump_text(packets);
      for (int i = 0; i < ne; i++) cr_expect(strstr(out, expects[i]), "group %d: want '%s' in:\n%s", groups + 1, expects[i], out);
      for (int i = 0; i < nn; i++) cr_expect_not(strstr(out, nots[i]), "group %d: '%s' in:\n%s", groups + 1, nots[i], out);
      every_packet_accounted(out, npk);
      groups++;
      with_source += source;
      ne = nn = npk = 0;
      source = false;
      packets[0] = '\0';
    }
  }
  fclose(fp);
  cr_expect_geq(groups, 15);
  cr_expect_eq(with_source, groups, "every group names its source");
}

/* The older sample file: the 7 packets whose CRC is the standard's decode or
 * are named; the 4 bad CRCs are named as such. */
Test(hj212_corpus, samples_file_every_packet_named_or_recorded) {
  char path[1024];
  snprintf(path, sizeof path, "%s/tests/data/hj212/samples.txt", getenv("PH_SOURCE_DIR"));
  FILE *fp = fopen(path, "r");
  cr_assert_not_null(fp);
  static char text[65536], line[4096];
  int n = 0;
  while (fgets(line, sizeof line, fp))
    if (strncmp(line, "##", 2) == 0) {
      strcat(text, line);
      n++;
    }
  fclose(fp);
  const char *out = dump_text(text);
  every_packet_accounted(out, n);
  cr_expect(strstr(out, "\"values\":{\"w_ph\":8.33,\"w_temp\":9.7,\"w_tp\":0,\"w_tn\":3.563168,\"w_nh3n\":0.09055002}"),
            "the surface-water packet's codes map to the water metrics: %s", out);
  cr_expect(strstr(out, "5 codes mapped to no metric: a21004, a21007, a21006, a21001, a21003"),
            "unknown codes are listed by name: %s", out);
  cr_expect(strstr(out, "map them in \"codes\""), "with the hint: %s", out);
  int crc = 0;
  for (const char *x = out; (x = strstr(x, "refused (PH_ECRC)")); x++) crc++;
  cr_expect_eq(crc, 4, "%s", out);
}
