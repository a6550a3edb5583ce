/* log.h — one line per event to stderr: time, level, module, message.
 *
 * Libraries return errors; binaries and long-running threads log them.
 * ph_ratelimit lets a hot path log the first occurrence of a complaint
 * and then a count once per interval, so an attacker cannot flood the log.
 */
#ifndef PARKHUB_LOG_H
#define PARKHUB_LOG_H

#include <stdint.h>

enum ph_log_level { PH_LOG_DEBUG, PH_LOG_INFO, PH_LOG_WARN, PH_LOG_ERROR };

void ph_log_set_level(enum ph_log_level lvl);
enum ph_log_level ph_log_get_level(void);
/* Parses "debug|info|warn|error"; returns 0 or PH_EINVAL. */
int ph_log_level_parse(const char *s, enum ph_log_level *out);

#define PH_LOG_LINE_MAX 1024 /* bytes of a log line, newline included; longer ones are cut */

/* Writes one line; control characters and bytes that are not UTF-8 in the
 * message come out as \xNN, CR and LF as spaces (common/log.c inv. 1-3). */
void ph_log(enum ph_log_level lvl, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define PH_DEBUG(mod, ...) ph_log(PH_LOG_DEBUG, mod, __VA_ARGS__)
#define PH_INFO(mod, ...)  ph_log(PH_LOG_INFO, mod, __VA_ARGS__)
#define PH_WARN(mod, ...)  ph_log(PH_LOG_WARN, mod, __VA_ARGS__)
#define PH_ERROR(mod, ...) ph_log(PH_LOG_ERROR, mod, __VA_ARGS__)

/* Caller-owned; not thread-safe (one per thread or under the caller's lock). */
struct ph_ratelimit {
  int64_t interval_ms;
  int64_t window_start_ms;
  uint64_t suppressed;
};

void ph_ratelimit_init(struct ph_ratelimit *rl, int64_t interval_ms);
/* Returns 1 when the caller should log now; *suppressed_out then holds how
 * many events were swallowed since the last logged one. */
int ph_ratelimit_ok(struct ph_ratelimit *rl, int64_t now_ms, uint64_t *suppressed_out);

#endif
