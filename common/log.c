/* log.c — one line per event on stderr: "2026-11-23T10:00:00.000Z WARN ingest: …".
 * Callers: binaries and their threads (libraries return errors instead).
 * Thread-safe: each line is formatted into a local buffer and written with
 * one write(2), so lines from different threads never interleave. */
#include "parkhub/log.h"

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

void ph_log(enum ph_log_level lvl, const char *module, const char *fmt, ...) {
  if ((int)lvl < atomic_load(&current_level)) return;
  char line[1024], ts[PH_TIME_STRLEN];
  ph_time_format(ph_now_ms(), ts, sizeof ts);
  int n = snprintf(line, sizeof line, "%s %s %s: ", ts, level_names[lvl], module);
  if (n < 0) return;
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  va_end(ap);
  size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
  if (len > sizeof line - 2) len = sizeof line - 2; /* truncated: still one line */
  for (size_t i = (size_t)n; i < len; i++)
    if (line[i] == '\n' || line[i] == '\r') line[i] = ' ';
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
