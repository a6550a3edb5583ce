/* utf8.h — one definition of a well-formed UTF-8 character (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF) for the places that
 * must not pass on anything else: the log (log.c) and the JSON the hub
 * writes from text it was sent (alarms_json.c). Owned by common/ (utf8.c).
 * Pure; any thread. */
#ifndef PARKHUB_UTF8_H
#define PARKHUB_UTF8_H

#include <stddef.h>

/* Length (2..4) of the well-formed multi-byte character at p, n bytes left,
 * that is not a C1 control (U+0080..U+009F), or 0. Reads p[i] only after
 * p[1..i-1] were continuation bytes, so a NUL-terminated string may be
 * passed with n = 4. */
size_t ph_utf8_char(const unsigned char *p, size_t n);

#endif
