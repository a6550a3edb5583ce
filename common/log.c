/* log.c — one line per event on stderr: "2026-11-23T10:00:00.000Z WARN ingest: …".
 * Callers: binaries and their threads (libraries return errors instead).
 * Thread-safe: each line is formatted into a local buffer and written with
 * one write(2), so lines from different threads never interleave.
 *
 * Invariants:
 *  1. one event, one line: CR and LF in a message become spaces, and a
 *     line is cut at PH_LOG_LINE_MAX bytes, newline included.
 *  2. a line holds no terminal control: the message's other C0 controls,
 *     DEL, the C1 controls (U+0080..U+009F in UTF-8) and every byte that
 *     is not part of well-formed UTF-8 are written as \xNN. Names and
 *     notes from the outside (an ack's `by`) cannot move the cursor, clear
 *     the screen or change colours where an operator reads the log.
 *  3. an escape is written whole or not at all (a cut line never ends in
 *     half an escape or half a UTF-8 character). */
#include "parkhub/log.h"
#include "parkhub/utf8.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "parkhub/err.h"
#include "parkhub/timefmt.h"

static _Atomic int current_level = PH_LOG_INFO;
static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void ph_log_set_level(enum ph_log_level lvl) { atomic_store(&current_level, (int)lvl); }
enum ph_log_level ph_log_get_level(void) { return (enum ph_log_level)atomic_load(&current_level); }

int ph_log_level_parse(const char *s, enum ph_log_level *out) {
  static const char *const words[] = {"debug", "info", "warn", "error"};
  for (int i = 0; i < 4; i++)
    if (strcasecmp(s, words[i]) == 0) {
      *out = (enum ph_log_level)i;
      return 0;
    }
  return PH_EINVAL;
}

/* Appends msg to out[*len..cap) with inv. 1-3 applied; stops at the first
 * piece that does not fit whole. */
static void put_escaped(char *out, size_t cap, size_t *len, const char *msg, size_t mlen) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)msg;
  size_t i = 0, n = *len;
  while (i < mlen) {
    unsigned char c = p[i];
    size_t k = c >= 0x80 ? ph_utf8_char(p + i, mlen - i) : (c >= 0x20 && c != 0x7f) || c == '\n' || c == '\r';
    if (k) {
      if (n + k > cap) break;
      if (c == '\n' || c == '\r')
        out[n] = ' ';
      else
        memcpy(out + n, p + i, k);
      n += k, i += k;
      continue;
    }
    if (n + 4 > cap) break;
    out[n++] = '\\', out[n++] = 'x', out[n++] = hex[c >> 4], out[n++] = hex[c & 15];
    i++;
  }
  *len = n;
}

void ph_log(enum ph_log_level lvl, const char *module, const char *fmt, ...) {
  if ((int)lvl < atomic_load(&current_level)) return;
  char line[PH_LOG_LINE_MAX], msg[PH_LOG_LINE_MAX], ts[PH_TIME_STRLEN];
  ph_time_format(ph_now_ms(), ts, sizeof ts);
  int n = snprintf(line, sizeof line, "%s %s %s: ", ts, level_names[lvl], module);
  if (n < 0) return;
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  size_t len = (size_t)n < sizeof line - 1 ? (size_t)n : sizeof line - 1;
  size_t mlen = m < 0 ? 0 : (size_t)m < sizeof msg ? (size_t)m : sizeof msg - 1;
  put_escaped(line, sizeof line - 1, &len, msg, mlen); /* one byte kept for the newline */
  line[len++] = '\n';
  ssize_t w = write(STDERR_FILENO, line, len);
  (void)w;
}

void ph_ratelimit_init(struct ph_ratelimit *rl, int64_t interval_ms) {
  rl->interval_ms = interval_ms;
  rl->window_start_ms = INT64_MIN;
  rl->suppressed = 0;
}

int ph_ratelimit_ok(struct ph_ratelimit *rl, int64_t now_ms, uint64_t *suppressed_out) {
  if (rl->window_start_ms != INT64_MIN && now_ms - rl->window_start_ms < rl->interval_ms) {
    rl->suppressed++;
    return 0;
  }
  if (suppressed_out) *suppressed_out = rl->suppressed;
  rl->suppressed = 0;
  rl->window_start_ms = now_ms;
  return 1;
}
