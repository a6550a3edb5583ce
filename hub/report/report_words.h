/* report_words.h — the annual report's words in each language (issue #18),
 * internal to hub/report/: the one place that holds them (report_words.c).
 *
 * The English text is the key (as gettext's msgid): the renderers write
 * their labels, headings, notes and the tree's reasons in English and ask
 * for the words of the chosen language; English is the key itself, every
 * other language has one table. A text without an entry comes back as it
 * is (English), never as an empty cell.
 *
 * Threads: any (the tables are constant). Memory: every returned string is
 * static or the caller's buffer.
 */
#ifndef HUB_REPORT_WORDS_H
#define HUB_REPORT_WORDS_H

#include <stddef.h>

#include "parkhub/lang.h"

/* The words for en in l: a static string, or en itself when the table has
 * no entry (or l is English). en NULL → "". */
const char *ph_report_word(enum ph_lang l, const char *en);

/* A "not available" reason (or any text of the tree) in l: the whole text
 * when the table has it, else a pattern with one "%s" ("standard %s is not
 * loaded", "incomplete: %s") whose filling is translated in turn (an id
 * stays as it is). Writes to buf (cap > 0) and returns buf. */
const char *ph_report_reason(enum ph_lang l, const char *en, char *buf, size_t cap);

/* A catalogue name in l: name_zh for Chinese when the catalogue gives one,
 * else name. Either may be NULL. */
const char *ph_report_name(enum ph_lang l, const char *name, const char *name_zh);

#endif
