/* test_hub_config_lang.c — the language of a park and of a reader (issue
 * #18 item 1; hub_config.h ph_park_lang, ph_reader_lang): the park's
 * "lang" wins over its zone's default, a token's "lang" over its park's,
 * and a word that is not a language is refused with its path. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config/hub_config.h"

#define ENT "{\"id\":\"e1\",\"sector\":\"cu\",\"class\":\"new\",\"agents\":[\"a\"]}"
#define SHA(c) "\"" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c "\""

static const char *write_cfg(const char *name, const char *parks, const char *tokens) {
  static char path[96];
  snprintf(path, sizeof path, "/tmp/ph_cfg_lang_%s_%d.json", name, (int)getpid());
  FILE *f = fopen(path, "w");
  cr_assert(f);
  fprintf(f,
          "{\"hub_id\":\"h\",\"mqtt\":{\"uris\":[\"tcp://127.0.0.1:1\"]},\"db\":{\"path\":\"/tmp/x.db\"},"
          "\"http\":{\"tokens\":[%s]},\"parks\":[%s]}",
          tokens, parks);
  fclose(f);
  return path;
}

Test(hub_config_lang, park_lang_wins_over_its_zone_and_token_lang_over_its_park) {
  const char *path = write_cfg(
      "ok",
      "{\"id\":\"sh-en\",\"tz\":\"Asia/Shanghai\",\"lang\":\"en\",\"enterprises\":[" ENT "]},"
      "{\"id\":\"sh\",\"tz\":\"Asia/Shanghai\",\"enterprises\":[" ENT "]},"
      "{\"id\":\"berlin\",\"tz\":\"Europe/Berlin\",\"enterprises\":[" ENT "]},"
      "{\"id\":\"berlin-zh\",\"tz\":\"Europe/Berlin\",\"lang\":\"zh-CN\",\"enterprises\":[" ENT "]}",
      "{\"name\":\"t-en\",\"sha256\":" SHA("a") ",\"role\":\"regulator\",\"lang\":\"en\"},"
      "{\"name\":\"t-none\",\"sha256\":" SHA("b") ",\"role\":\"regulator\"}");
  static struct ph_hub_config c;
  struct ph_err err = {0};
  cr_assert_eq(ph_hub_config_load(path, &c, &err), 0, "%s", err.msg);
  cr_expect_eq(ph_park_lang(ph_hub_config_park(&c, "sh-en")), PH_LANG_EN, "the park's lang over its zone");
  cr_expect_eq(ph_park_lang(ph_hub_config_park(&c, "sh")), PH_LANG_ZH_CN, "a Chinese zone: zh-CN");
  cr_expect_eq(ph_park_lang(ph_hub_config_park(&c, "berlin")), PH_LANG_EN, "another zone: en");
  cr_expect_eq(ph_park_lang(ph_hub_config_park(&c, "berlin-zh")), PH_LANG_ZH_CN);
  const struct ph_api_token *ten = &c.http.tokens[0], *tnone = &c.http.tokens[1];
  cr_expect_eq(ph_reader_lang(ten, ph_hub_config_park(&c, "sh")), PH_LANG_EN, "the token's lang over the park's");
  cr_expect_eq(ph_reader_lang(tnone, ph_hub_config_park(&c, "sh")), PH_LANG_ZH_CN, "no token lang: the park's");
  cr_expect_eq(ph_reader_lang(tnone, ph_hub_config_park(&c, "sh-en")), PH_LANG_EN);
  cr_expect_eq(ph_reader_lang(NULL, ph_hub_config_park(&c, "berlin-zh")), PH_LANG_ZH_CN);
  ph_hub_config_fini(&c);
  unlink(path);
}

Test(hub_config_lang, a_word_that_is_no_language_is_refused_with_its_path) {
  const char *path = write_cfg("bad", "{\"id\":\"p1\",\"lang\":\"fr\",\"enterprises\":[" ENT "]}",
                               "{\"name\":\"t\",\"sha256\":" SHA("c") ",\"role\":\"regulator\",\"lang\":\"de\"}");
  static struct ph_hub_config c;
  static struct ph_cfg_problems pr;
  cr_assert_eq(ph_hub_config_check(path, &c, &pr), PH_ECONFIG);
  bool park = false, tok = false;
  for (int i = 0; i < pr.n && i < PH_CFG_PROBLEMS_MAX; i++) {
    park |= strstr(pr.msg[i], "parks[0].lang: 'fr' is not one of") != NULL;
    tok |= strstr(pr.msg[i], "http.tokens[0].lang: 'de' is not one of") != NULL;
  }
  cr_expect(park, "park lang refused: %s", pr.n ? pr.msg[0] : "(none)");
  cr_expect(tok, "token lang refused: %s", pr.n ? pr.msg[pr.n - 1] : "(none)");
  ph_hub_config_fini(&c);
  unlink(path);
}
