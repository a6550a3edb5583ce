/* tz.h — IANA time zones without the C library's process-wide TZ.
 *
 * The hub rolls data up per local hour and per local day of each park
 * (regulatory days are local days), with several zones in one process and
 * several threads; localtime_r follows one global TZ, so zones are loaded
 * here from the TZif files under /usr/share/zoneinfo instead.
 *
 * A struct ph_tz is immutable after ph_tz_load: share it between threads
 * freely. Only ph_tz_load allocates or reads files and the environment;
 * the lookups below are a binary search (plus, past the file's last
 * transition, the footer's DST rule) with no allocation and no locks.
 *
 * Instants are UTC milliseconds since the Unix epoch. Arguments beyond
 * ±10^16 ms (about ±316,000 years) are clamped to that range.
 */
#ifndef PARKHUB_TZ_H
#define PARKHUB_TZ_H

#include <stdbool.h>
#include <stdint.h>

#include "parkhub/err.h"

struct ph_tz;

#define PH_TZ_NAME_MAX 64       /* longest accepted name, without the NUL */
#define PH_TZ_FILE_MAX 262144   /* larger TZif files are refused */

/* Loads a zone. name is
 *   - an IANA name ("Asia/Shanghai"): the TZif file of that name under
 *     $PH_ZONEINFO, or /usr/share/zoneinfo when PH_ZONEINFO is unset/empty;
 *     names with "..", a leading '/', or characters outside [A-Za-z0-9/_+-]
 *     are refused, so a config value cannot name another file;
 *   - "UTC";
 *   - a fixed offset "+HH:MM" / "-HH:MM" (HH ≤ 23, MM ≤ 59).
 * Borrows name. On success *out is new (free with ph_tz_free). On failure
 * *out is NULL and err (may be NULL) says why: PH_ECONFIG for a refused
 * name, a missing zone, or a malformed/truncated file (the message names
 * the zone and the reason); PH_ENOMEM. */
int ph_tz_load(const char *name, struct ph_tz **out, struct ph_err *err);
/* Accepts NULL. */
void ph_tz_free(struct ph_tz *tz);

/* The name given to ph_tz_load; valid until ph_tz_free. */
const char *ph_tz_name(const struct ph_tz *tz);

/* UTC offset (local - UTC) in seconds at the instant utc_ms. */
int32_t ph_tz_offset_s(const struct ph_tz *tz, int64_t utc_ms);

/* UTC ms of the start of the local hour containing utc_ms: local HH:00:00
 * (so on :30 UTC for Asia/Kolkata). An hour never reaches back across an
 * offset change: in a DST fall-back the repeated local hour is two buckets
 * of an hour each, and when an offset change is not a whole number of hours
 * (e.g. Australia/Lord_Howe) the hour starts at the change. */
int64_t ph_tz_hour_start(const struct ph_tz *tz, int64_t utc_ms);

/* UTC ms of the local midnight that starts the local day containing utc_ms
 * (DST days are 23 or 25 hours long). When midnight does not exist (a
 * change skips it, e.g. America/Santiago at 24:00) the day starts at the
 * change; the result is the start of the unbroken run of instants, ending
 * at utc_ms, that all lie on the same local date. */
int64_t ph_tz_day_start(const struct ph_tz *tz, int64_t utc_ms);

/* UTC ms of the local midnight that starts local date `civil_day` (days
 * since 1970-01-01, as ph_days_from_civil counts them), in any zone of
 * -12..+14 h. A date the zone skipped entirely (Pacific/Apia 2011-12-30)
 * gives the start of the next date that exists. */
int64_t ph_tz_date_start(const struct ph_tz *tz, int64_t civil_day);

/* Start of the local day after the one containing day_start_ms (normally
 * a ph_tz_day_start result). Always > day_start_ms; when a local date is
 * skipped entirely (Pacific/Apia, 2011-12-30) it is the next date that
 * exists. */
int64_t ph_tz_next_day(const struct ph_tz *tz, int64_t day_start_ms);

/* Local calendar date and hour (0..23) at utc_ms; any out-pointer may be
 * NULL. */
/* "YYYY-MM-DDTHH:MM:SS+HH:MM": utc_ms in the zone, with its offset then
 * (ISO 8601; what the report and the API print for local times). */
void ph_tz_format_local(const struct ph_tz *tz, int64_t utc_ms, char *buf, size_t cap);
/* "YYYY-MM-DD HH:MM": utc_ms in the zone, 24-hour, no offset — what people
 * read in messages (alarm texts, webhooks). tz NULL: UTC, with " UTC"
 * appended so a reader never mistakes it for local time. */
void ph_tz_format_human(const struct ph_tz *tz, int64_t utc_ms, char *buf, size_t cap);
/* The same without the " UTC" mark, seconds too when with_s: what tables
 * and CSV columns of park-local time hold ("2026-12-07 03:43[:05]"). */
void ph_tz_format_minute(const struct ph_tz *tz, int64_t utc_ms, bool with_s, char *buf, size_t cap);

void ph_tz_local_date(const struct ph_tz *tz, int64_t utc_ms, int *y, unsigned *m, unsigned *d, int *hour);

#endif
