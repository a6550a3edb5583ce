/* The report's words (hub/report/report_words.c): every Chinese entry keeps
 * its key's printf conversions (inv. 1), reasons with a filling are
 * translated around it, unknown text stays English, and catalogue names
 * follow the language. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/na_reasons.h"
#include "report/report_words.h"

/* The printf conversions of s, in order ("%d%s%.0f" → "dsf"). */
static void convs(const char *s, char *out, size_t cap) {
  size_t n = 0;
  for (const char *p = s; *p && n + 1 < cap; p++) {
    if (*p != '%') continue;
    p++;
    if (*p == '%') continue;
    while (*p && strchr("0123456789.-+ #", *p)) p++;
    if (*p) out[n++] = *p;
  }
  out[n] = '\0';
}

/* The keys that a renderer formats (report_html*.c) must not lose an argument. */
Test(report_words, chinese_entries_keep_the_conversions_of_their_keys) {
  static const char *const fmts[] = {
      "Annual environmental report %d", "annual report %d", "sum over %.0f enterprise%s", "%.0f without the figure",
      "%s; the monitoring covers %s of the year",
      "UNEP Toolkit factor &#215; %s&#160;t activity (factors below)%s",
      "method: %s; stack tests &#215; flue-gas volume of the monitored operating hours%s%s%s; concentration "
      "applied: %s test",
  };
  for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
    const char *zh = ph_report_word(PH_LANG_ZH_CN, fmts[i]);
    char a[16], b[16];
    convs(fmts[i], a, sizeof a);
    convs(zh, b, sizeof b);
    cr_assert(zh != fmts[i], "no Chinese for '%s'", fmts[i]);
    cr_assert_str_eq(a, b, "'%s' → '%s'", fmts[i], zh);
  }
}

Test(report_words, words_and_reasons_in_both_languages) {
  char buf[256];
  cr_assert_str_eq(ph_report_word(PH_LANG_ZH_CN, "Data availability"), "数据有效率");
  cr_assert_str_eq(ph_report_word(PH_LANG_EN, "Data availability"), "Data availability");
  cr_assert_str_eq(ph_report_reason(PH_LANG_ZH_CN, "no baseline configured", buf, sizeof buf), "未配置基准年");
  /* a pattern, its filling an id (kept) or another reason (translated) */
  cr_assert_str_eq(ph_report_reason(PH_LANG_ZH_CN, "standard gb31574-2015 is not loaded", buf, sizeof buf),
                   "标准 gb31574-2015 未加载");
  cr_assert_str_eq(ph_report_reason(PH_LANG_ZH_CN, "incomplete: the plant was stopped in every monitored hour", buf,
                                    sizeof buf),
                   "不完整：所有监测小时内企业均停运");
  cr_assert_str_eq(ph_report_reason(PH_LANG_EN, "incomplete: x", buf, sizeof buf), "incomplete: x");
  /* unknown text stays as it is, never empty */
  cr_assert_str_eq(ph_report_reason(PH_LANG_ZH_CN, "a reason nobody wrote down", buf, sizeof buf),
                   "a reason nobody wrote down");
  cr_assert_str_eq(ph_report_reason(PH_LANG_ZH_CN, NULL, buf, sizeof buf), "");
  /* a short buffer truncates, still terminated */
  char small[8];
  ph_report_reason(PH_LANG_ZH_CN, "no baseline configured", small, sizeof small);
  cr_assert(strlen(small) < sizeof small);
}

Test(report_words, catalogue_names_follow_the_language) {
  cr_assert_str_eq(ph_report_name(PH_LANG_ZH_CN, "Sulphur dioxide", "二氧化硫"), "二氧化硫");
  cr_assert_str_eq(ph_report_name(PH_LANG_EN, "Sulphur dioxide", "二氧化硫"), "Sulphur dioxide");
  cr_assert_str_eq(ph_report_name(PH_LANG_ZH_CN, "Sulphur dioxide", ""), "Sulphur dioxide");
  cr_assert_str_eq(ph_report_name(PH_LANG_ZH_CN, NULL, NULL), "");
}

Test(report_words, reasons_with_several_parts_keep_them_in_order) {
  char buf[256];
  cr_assert_str_eq(ph_report_reason(PH_LANG_ZH_CN, "monitored 31 of 365 days (share 0.085 < 0.75)", buf, sizeof buf),
                   "年内监测 31 / 365 天（比例 0.085 < 0.75）");
  cr_assert_str_eq(ph_report_reason(PH_LANG_ZH_CN,
                                    "measured: no baseline configured; estimated: monitored 1 of 2 days (share 0.5 < 0.75)",
                                    buf, sizeof buf),
                   "实测：未配置基准年；估算：年内监测 1 / 2 天（比例 0.5 < 0.75）");
  /* a longer key is not taken for a shorter one */
  cr_assert_str_eq(ph_report_reason(PH_LANG_ZH_CN, "standard x is not loaded (hub config: limit_files)", buf, sizeof buf),
                   "标准 x 未加载（hub 配置：limit_files）");
  /* a short buffer: cut, terminated, never past its end */
  char small[12];
  ph_report_reason(PH_LANG_ZH_CN, "measured: no baseline configured; estimated: x", small, sizeof small);
  cr_assert(strlen(small) < sizeof small);
}

Test(report_words, a_list_of_reasons_is_translated_part_by_part) {
  char buf[256];
  cr_assert_str_eq(ph_report_reason(PH_LANG_ZH_CN, "class 1 since 2015-01-01; class 3 since 2025-03-15", buf, sizeof buf),
                   "类别 1，自 2015-01-01 起；类别 3，自 2025-03-15 起");
  cr_assert_str_eq(ph_report_reason(PH_LANG_ZH_CN, "measured: no factor; estimated: no class", buf, sizeof buf),
                   "实测：无因子；估算：无类别");
}

/* issue #18: every "not available" reason the hub can give (its one table,
 * parkhub/na_reasons.h) has a zh-CN entry with the same parts, and a filled
 * one comes out in Chinese (a reason without an entry would fall back to
 * English in a zh-CN report); English is the key itself. */
Test(report_words, every_not_available_reason_has_chinese_and_english) {
  for (int i = 0; i < PH_NA_COUNT; i++) {
    const char *en = ph_na_reasons[i];
    cr_assert(en && en[0], "reason %d has no text", i);
    char a[16], b[16], sample[256], buf[512];
    convs(en, a, sizeof a);
    cr_expect(strspn(a, "s") == strlen(a), "'%s': parts are %%s only (a translation places them)", en);
    cr_expect_str_eq(ph_report_word(PH_LANG_EN, en), en);
    const char *zh = ph_report_word(PH_LANG_ZH_CN, en);
    cr_expect(zh != en, "no zh-CN entry for '%s'", en);
    convs(zh, b, sizeof b);
    cr_expect_str_eq(a, b, "'%s' → '%s' changes its parts", en, zh);
    bool cjk = false;
    for (const char *p = zh; *p; p++) cjk = cjk || (unsigned char)*p >= 0x80;
    cr_expect(cjk, "'%s' → '%s': no Chinese in it", en, zh);
    /* each part filled with a number, as the producers fill them; the
     * joins of reasons with reasons (report_words.c: only then) */
    const char *fill = strcmp(en, "%s; %s") && strcmp(en, "%s: %s") ? "7" : "no limit";
    size_t n = 0;
    for (const char *p = en; *p && n + strlen(fill) + 1 < sizeof sample; p++) {
      if (p[0] == '%' && p[1] == 's') {
        memcpy(sample + n, fill, strlen(fill));
        n += strlen(fill);
        p++;
      } else {
        sample[n++] = *p;
      }
    }
    sample[n] = '\0';
    ph_report_reason(PH_LANG_ZH_CN, sample, buf, sizeof buf);
    cr_expect_str_neq(buf, sample, "'%s' stays English in a zh-CN report", sample);
  }
}

/* The joins ("%s; %s", "%s: %s", "%s to %s %s") translate reasons joined
 * and ranges, never free text that holds ": " or " to " (a name without
 * name_zh, a note): such text stays as it is. */
Test(report_words, joins_translate_reasons_not_free_text) {
  char buf[512];
  cr_expect_str_eq(ph_report_reason(PH_LANG_ZH_CN, "Sent to lab A", buf, sizeof buf), "Sent to lab A");
  cr_expect_str_eq(ph_report_reason(PH_LANG_ZH_CN, "Guixi Smelter: line 2", buf, sizeof buf),
                   "Guixi Smelter: line 2");
  cr_expect_str_eq(ph_report_reason(PH_LANG_ZH_CN, "a; b", buf, sizeof buf), "a; b");
  /* a point and its reason; reasons joined; a limit's range */
  char want[256];
  snprintf(want, sizeof want, "stack-1：%s", ph_report_word(PH_LANG_ZH_CN, "no limit"));
  cr_expect_str_eq(ph_report_reason(PH_LANG_ZH_CN, "stack-1: no limit", buf, sizeof buf), want);
  snprintf(want, sizeof want, "%s；%s", ph_report_word(PH_LANG_ZH_CN, "no limit"),
           ph_report_word(PH_LANG_ZH_CN, "standard not loaded"));
  cr_expect_str_eq(ph_report_reason(PH_LANG_ZH_CN, "no limit; standard not loaded", buf, sizeof buf), want);
  cr_expect_str_eq(ph_report_reason(PH_LANG_ZH_CN, "5 to 10 mg/m³", buf, sizeof buf), "5 至 10 mg/m³");
  cr_expect_str_eq(ph_report_reason(PH_LANG_ZH_CN, "5 to ten mg/m³", buf, sizeof buf), "5 to ten mg/m³");
}
