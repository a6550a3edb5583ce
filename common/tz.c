/* tz.c — IANA time zones read from TZif files (RFC 8536), for local hour
 * and day boundaries without the C library's process-wide TZ.
 *
 * Callers: the hub's rollup/writer (per sample), config loading (ph_tz_load
 * per park). Threads: any; a loaded zone is read-only. Owns: one heap block
 * per zone (the struct and its transition table); the file buffer only
 * during ph_tz_load.
 *
 * The file is outside input: its size is capped (PH_TZ_FILE_MAX), every
 * count is checked against the bytes present before anything is read, and
 * every index is validated; any flaw is PH_ECONFIG naming the zone, the
 * file and the reason.
 *
 * Invariants:
 *  1. at[] is strictly ascending and each entry changes the offset:
 *     off[i] != off[i-1] (and off[0] != off0). Transitions that only change
 *     the abbreviation or the isdst flag are dropped at load, so every
 *     at[i] is a real boundary for ph_tz_hour_start / ph_tz_day_start.
 *  2. Every at[i] and every instant handled lies within ±LIMIT_MS, and
 *     every offset within ±MAX_UTOFF, so no sum below overflows.
 *  3. Instants before at[0] use off0 (time type 0, RFC 8536 §3.2);
 *     instants from at[n-1] on use the footer: none (off[n-1] stays),
 *     a fixed offset, or the DST rule evaluated per year (rule_lookup).
 *  4. A footer rule has std_off != dst_off (an equal pair is loaded as a
 *     fixed offset), so every rule event changes the offset (inv. 1).
 */
#include "parkhub/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parkhub/alloc.h"
#include "parkhub/timefmt.h"

#define LIMIT_MS 10000000000000000LL /* 1e16 ms, about ±316,000 years */
#define LIMIT_S (LIMIT_MS / 1000)
#define MAX_UTOFF (26 * 3600)         /* RFC 8536 suggests -89999..93599 */
#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL
#define FOOTER_MAX 128
#define DEFAULT_ZONEINFO "/usr/share/zoneinfo"

enum footer_kind { FOOT_NONE, FOOT_FIXED, FOOT_RULE };
enum rule_form { RULE_J1 /* Jn: 1..365, no Feb 29 */, RULE_J0 /* n: 0..365 */, RULE_M /* Mm.w.d */ };

struct rule_date {
  enum rule_form form;
  int n, m, w, d;
  int32_t time_s; /* local time of day of the change, may be <0 or >24 h */
};

struct ph_tz {
  char name[PH_TZ_NAME_MAX + 1];
  int32_t off0;        /* before at[0], or always when n == 0 and no footer */
  size_t n;            /* offset changes in the table */
  const int64_t *at;   /* UTC ms of change i (inv. 1) */
  const int32_t *off;  /* offset in seconds from at[i] on */
  enum footer_kind foot;
  int32_t std_off, dst_off; /* footer: seconds east of UTC */
  struct rule_date start, end;
  int64_t store[];     /* at[] then off[] */
};

/* An offset period: off applies from start (INT64_MIN: since always). */
struct period {
  int32_t off;
  int64_t start;
};

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b) { return a - floor_div(a, b) * b; }

static int64_t clamp(int64_t t) { return t < -LIMIT_MS ? -LIMIT_MS : t > LIMIT_MS ? LIMIT_MS : t; }

static bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* ---- footer rule ---------------------------------------------------- */

/* Days since the epoch of the rule's date in year y. */
static int64_t rule_day(const struct rule_date *r, int y) {
  int64_t jan1 = ph_days_from_civil(y, 1, 1);
  switch (r->form) {
  case RULE_J1:
    return jan1 + r->n - 1 + (is_leap(y) && r->n >= 60);
  case RULE_J0:
    return jan1 + r->n;
  case RULE_M:
  default: {
    int64_t first = ph_days_from_civil(y, (unsigned)r->m, 1);
    int64_t next = r->m == 12 ? ph_days_from_civil(y + 1, 1, 1) : ph_days_from_civil(y, (unsigned)r->m + 1, 1);
    int wd = (int)floor_mod(first + 4, 7); /* 1970-01-01 was a Thursday */
    int64_t day = first + (r->d - wd + 7) % 7 + (int64_t)(r->w - 1) * 7;
    while (day >= next) day -= 7; /* week 5 means "last" */
    return day;
  }
  }
}

/* The footer rule at t: the last DST start or end at or before t. The
 * events of four years around t are sorted, so rules whose DST spans the
 * new year (southern hemisphere) and times like 24:00 or 25:00 need no
 * special case; on a tie the later-generated event wins, which keeps
 * "DST all year" rules (start J1/0, end J365/25) in DST. */
static struct period rule_lookup(const struct ph_tz *tz, int64_t t) {
  int y;
  unsigned m, d;
  ph_civil_from_days(floor_div(floor_div(t, 1000) + tz->std_off, 86400), &y, &m, &d);
  struct {
    int64_t at;
    bool dst;
  } ev[8], tmp;
  int k = 0;
  for (int yy = y - 2; yy <= y + 1; yy++) {
    ev[k].at = (rule_day(&tz->start, yy) * 86400 + tz->start.time_s - tz->std_off) * 1000;
    ev[k++].dst = true;
    ev[k].at = (rule_day(&tz->end, yy) * 86400 + tz->end.time_s - tz->dst_off) * 1000;
    ev[k++].dst = false;
  }
  for (int i = 1; i < 8; i++) /* stable insertion sort */
    for (int j = i; j > 0 && ev[j - 1].at > ev[j].at; j--) tmp = ev[j], ev[j] = ev[j - 1], ev[j - 1] = tmp;
  struct period p = {ev[0].dst ? tz->std_off : tz->dst_off, INT64_MIN};
  for (int i = 0; i < 8 && ev[i].at <= t; i++) {
    p.off = ev[i].dst ? tz->dst_off : tz->std_off;
    p.start = ev[i].at;
  }
  return p;
}

/* ---- lookup ----------------------------------------------------------- */

static struct period lookup(const struct ph_tz *tz, int64_t t) {
  size_t n = tz->n;
  if (n > 0 && t < tz->at[n - 1]) {
    if (t < tz->at[0]) return (struct period){tz->off0, INT64_MIN};
    size_t lo = 0, hi = n - 1; /* at[lo] <= t < at[hi] */
    while (hi - lo > 1) {
      size_t mid = lo + (hi - lo) / 2;
      if (tz->at[mid] <= t)
        lo = mid;
      else
        hi = mid;
    }
    return (struct period){tz->off[lo], tz->at[lo]};
  }
  struct period p = {n ? tz->off[n - 1] : tz->off0, n ? tz->at[n - 1] : INT64_MIN};
  if (tz->foot == FOOT_FIXED) {
    p.off = tz->std_off;
  } else if (tz->foot == FOOT_RULE) {
    struct period r = rule_lookup(tz, t);
    p.off = r.off;
    if (r.start > p.start) p.start = r.start;
  }
  return p;
}

const char *ph_tz_name(const struct ph_tz *tz) { return tz->name; }

int32_t ph_tz_offset_s(const struct ph_tz *tz, int64_t utc_ms) { return lookup(tz, clamp(utc_ms)).off; }

int64_t ph_tz_hour_start(const struct ph_tz *tz, int64_t utc_ms) {
  int64_t t = clamp(utc_ms);
  struct period p = lookup(tz, t);
  int64_t h = t - floor_mod(t + p.off * 1000LL, HOUR_MS);
  return h < p.start ? p.start : h;
}

int64_t ph_tz_date_start(const struct ph_tz *tz, int64_t civil_day) {
  /* UTC noon of that date, moved by the zone's offset then: the local noon
   * of that date (an offset of +14 h alone puts UTC noon on the next local
   * date, so UTC noon itself is not enough), then back to its midnight. */
  int64_t noon = civil_day * DAY_MS + DAY_MS / 2;
  int64_t t = ph_tz_day_start(tz, noon - (int64_t)ph_tz_offset_s(tz, noon) * 1000);
  /* a skipped date lands on the date before (the offset at UTC noon is
   * already the one after the jump): the next date that exists */
  int y;
  unsigned m, d;
  ph_tz_local_date(tz, t, &y, &m, &d, NULL);
  return ph_days_from_civil(y, m, d) < civil_day ? ph_tz_next_day(tz, t) : t;
}

/* Walks back through offset periods while the instant just before a
 * period's start still lies on the same local date. */
int64_t ph_tz_day_start(const struct ph_tz *tz, int64_t utc_ms) {
  int64_t t = clamp(utc_ms);
  struct period p = lookup(tz, t);
  int64_t day = floor_div(t + p.off * 1000LL, DAY_MS);
  for (int i = 0; i < 64; i++) {
    int64_t midnight = day * DAY_MS - p.off * 1000LL;
    if (midnight > p.start) return midnight;
    /* midnight is at or before this period's start: the day began here
     * unless the instant before is on the same date (a repeated midnight,
     * e.g. America/Havana falling back from 01:00 to 00:00) */
    struct period q = lookup(tz, p.start - 1);
    if (floor_div(p.start - 1 + q.off * 1000LL, DAY_MS) != day) return p.start;
    p = q;
  }
  return p.start; /* only a hostile file changes the offset 64 times a day */
}

/* Probes noon of the next date (by the current offset), then takes the
 * start of the day found there; a probe landing on a later date covers a
 * skipped date. */
int64_t ph_tz_next_day(const struct ph_tz *tz, int64_t day_start_ms) {
  int64_t ds = clamp(day_start_ms);
  struct period p = lookup(tz, ds);
  int64_t day = floor_div(ds + p.off * 1000LL, DAY_MS);
  int64_t q = (day + 1) * DAY_MS + 12 * HOUR_MS - p.off * 1000LL;
  for (int i = 0; i < 8; i++, q += 12 * HOUR_MS) {
    struct period pq = lookup(tz, q);
    if (floor_div(q + pq.off * 1000LL, DAY_MS) > day) {
      int64_t s = ph_tz_day_start(tz, q);
      if (s > ds) return s;
    }
  }
  return ds + DAY_MS; /* only at the clamp limit or with a hostile file */
}

void ph_tz_local_date(const struct ph_tz *tz, int64_t utc_ms, int *y, unsigned *m, unsigned *d, int *hour) {
  int64_t t = clamp(utc_ms);
  int64_t local = t + lookup(tz, t).off * 1000LL;
  int yy;
  unsigned mm, dd;
  ph_civil_from_days(floor_div(local, DAY_MS), &yy, &mm, &dd);
  if (y) *y = yy;
  if (m) *m = mm;
  if (d) *d = dd;
  if (hour) *hour = (int)(floor_mod(local, DAY_MS) / HOUR_MS);
}

void ph_tz_free(struct ph_tz *tz) { ph_free(tz); }

/* ---- loading ---------------------------------------------------------- */

static struct ph_tz *tz_alloc(const char *name, size_t ntrans) {
  size_t words = ntrans + (ntrans + 1) / 2;
  struct ph_tz *tz = ph_calloc(1, sizeof *tz + words * sizeof(int64_t));
  if (!tz) return NULL;
  snprintf(tz->name, sizeof tz->name, "%s", name);
  tz->at = tz->store;
  tz->off = (const int32_t *)(tz->store + ntrans);
  return tz;
}

/* "+HH:MM" / "-HH:MM". */
static bool parse_fixed(const char *s, int32_t *off) {
  if ((s[0] != '+' && s[0] != '-') || strlen(s) != 6 || s[3] != ':') return false;
  for (int i = 1; i < 6; i++)
    if (i != 3 && (s[i] < '0' || s[i] > '9')) return false;
  int h = (s[1] - '0') * 10 + (s[2] - '0'), mi = (s[4] - '0') * 10 + (s[5] - '0');
  if (h > 23 || mi > 59) return false;
  *off = (s[0] == '-' ? -1 : 1) * (h * 3600 + mi * 60);
  return true;
}

static bool name_ok(const char *s) {
  if (s[0] == '/' || strstr(s, "..")) return false;
  for (; *s; s++)
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '/' ||
          *s == '_' || *s == '+' || *s == '-'))
      return false;
  return true;
}

/* -- POSIX TZ footer ("CST-8", "CET-1CEST,M3.5.0,M10.5.0/3") -- */

static bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static const char *p_abbr(const char *s) {
  const char *b;
  if (*s == '<') {
    for (b = ++s; is_alpha(*s) || is_digit(*s) || *s == '+' || *s == '-'; s++) {}
    return *s == '>' && s - b >= 3 ? s + 1 : NULL;
  }
  for (b = s; is_alpha(*s); s++) {}
  return s - b >= 3 ? s : NULL;
}

static const char *p_num(const char *s, int maxdigits, int max, int *out) {
  int v = 0, k = 0;
  for (; k < maxdigits && is_digit(*s); k++, s++) v = v * 10 + (*s - '0');
  if (k == 0 || v > max) return NULL;
  *out = v;
  return s;
}

/* [+-]hh[:mm[:ss]], hh <= maxh. */
static const char *p_hms(const char *s, int maxh, int32_t *out) {
  int sign = 1, h, mi = 0, se = 0;
  if (*s == '+' || *s == '-') sign = *s++ == '-' ? -1 : 1;
  if (!(s = p_num(s, 3, maxh, &h))) return NULL;
  if (*s == ':') {
    if (!(s = p_num(s + 1, 2, 59, &mi))) return NULL;
    if (*s == ':' && !(s = p_num(s + 1, 2, 59, &se))) return NULL;
  }
  *out = sign * (h * 3600 + mi * 60 + se);
  return s;
}

static const char *p_rule(const char *s, struct rule_date *r) {
  if (*s == 'M') {
    r->form = RULE_M;
    if (!(s = p_num(s + 1, 2, 12, &r->m)) || r->m < 1 || *s != '.') return NULL;
    if (!(s = p_num(s + 1, 1, 5, &r->w)) || r->w < 1 || *s != '.') return NULL;
    if (!(s = p_num(s + 1, 1, 6, &r->d))) return NULL;
  } else if (*s == 'J') {
    r->form = RULE_J1;
    if (!(s = p_num(s + 1, 3, 365, &r->n)) || r->n < 1) return NULL;
  } else {
    r->form = RULE_J0;
    if (!(s = p_num(s, 3, 365, &r->n))) return NULL;
  }
  r->time_s = 2 * 3600;
  if (*s == '/' && !(s = p_hms(s + 1, 167, &r->time_s))) return NULL; /* RFC 8536 §3.3.1 */
  return s;
}

/* Returns NULL when the footer is valid, else the reason (FOOTER_WHY...). */
#define FOOTER_WHY "footer TZ string: "

static const char *parse_footer(const char *s, struct ph_tz *tz) {
  int32_t std, dst;
  if (!*s) return NULL; /* empty: the last table offset stays */
  if (!(s = p_abbr(s))) return FOOTER_WHY "bad standard-time name";
  if (!(s = p_hms(s, 24, &std))) return FOOTER_WHY "bad standard-time offset";
  tz->std_off = -std; /* POSIX counts west of UTC */
  if (!*s) {
    tz->foot = FOOT_FIXED;
    return NULL;
  }
  if (!(s = p_abbr(s))) return FOOTER_WHY "bad DST name";
  dst = std - 3600;
  if (*s != ',' && *s && !(s = p_hms(s, 24, &dst))) return FOOTER_WHY "bad DST offset";
  tz->dst_off = -dst;
  if (*s != ',') return FOOTER_WHY "DST without rules";
  if (!(s = p_rule(s + 1, &tz->start)) || *s != ',') return FOOTER_WHY "bad DST start rule";
  if (!(s = p_rule(s + 1, &tz->end)) || *s) return FOOTER_WHY "bad DST end rule";
  tz->foot = tz->std_off == tz->dst_off ? FOOT_FIXED : FOOT_RULE;
  return NULL;
}

/* -- TZif -- */

struct reader {
  const uint8_t *p;
  size_t len, pos;
};

static const uint8_t *take(struct reader *r, uint64_t n) {
  if (n > r->len - r->pos) return NULL;
  const uint8_t *p = r->p + r->pos;
  r->pos += (size_t)n;
  return p;
}

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p) { return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4)); }

struct block {
  int version; /* 1, 2, 3, ... */
  uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
  int tsize; /* 4 (v1 data) or 8 */
  const uint8_t *times, *idx, *types, *chars, *isstd, *isut;
};

static uint64_t block_len(const struct block *b) {
  return (uint64_t)b->timecnt * (b->tsize + 1) + (uint64_t)b->typecnt * 6 + b->charcnt +
         (uint64_t)b->leapcnt * (b->tsize + 4) + b->isstdcnt + b->isutcnt;
}

static int64_t trans_at(const struct block *b, uint32_t i) {
  return b->tsize == 8 ? be64(b->times + 8 * (size_t)i) : (int64_t)(int32_t)be32(b->times + 4 * (size_t)i);
}

static int32_t type_off(const struct block *b, unsigned t) { return (int32_t)be32(b->types + 6 * (size_t)t); }

/* Reads a header; returns NULL or the reason it is refused. */
static const char *read_header(struct reader *r, struct block *b, int tsize) {
  const uint8_t *h = take(r, 44);
  if (!h) return "truncated (header)";
  if (memcmp(h, "TZif", 4) != 0) return "not a TZif file (bad magic)";
  if (h[4] != 0 && (h[4] < '2' || h[4] > '9')) return "unknown TZif version";
  b->version = h[4] ? h[4] - '0' : 1;
  b->isutcnt = be32(h + 20);
  b->isstdcnt = be32(h + 24);
  b->leapcnt = be32(h + 28);
  b->timecnt = be32(h + 32);
  b->typecnt = be32(h + 36);
  b->charcnt = be32(h + 40);
  b->tsize = tsize;
  if (b->typecnt == 0 || b->typecnt > 256) return "time type count not in 1..256";
  if (b->charcnt == 0) return "no abbreviation characters";
  if (b->isutcnt != 0 && b->isutcnt != b->typecnt) return "UT indicator count differs from type count";
  if (b->isstdcnt != 0 && b->isstdcnt != b->typecnt) return "standard indicator count differs from type count";
  if (b->leapcnt) return "leap-second (right/) zone files are not supported";
  if (block_len(b) > r->len - r->pos) return "truncated (counts exceed the file)";
  return NULL;
}

/* Takes and validates the data block described by b. */
static const char *read_block(struct reader *r, struct block *b) {
  b->times = take(r, (uint64_t)b->timecnt * b->tsize);
  b->idx = take(r, b->timecnt);
  b->types = take(r, (uint64_t)b->typecnt * 6);
  b->chars = take(r, b->charcnt);
  if (!take(r, (uint64_t)b->leapcnt * (b->tsize + 4))) return "truncated (leap seconds)";
  b->isstd = take(r, b->isstdcnt);
  b->isut = take(r, b->isutcnt);
  if (!b->times || !b->idx || !b->types || !b->chars || !b->isstd || !b->isut) return "truncated (data)";
  for (uint32_t i = 0; i < b->timecnt; i++) {
    if (b->idx[i] >= b->typecnt) return "transition names a time type that does not exist";
    if (i > 0 && trans_at(b, i) <= trans_at(b, i - 1)) return "transition times not ascending";
  }
  for (uint32_t t = 0; t < b->typecnt; t++) {
    int32_t off = type_off(b, t);
    const uint8_t *ti = b->types + 6 * (size_t)t;
    if (off < -MAX_UTOFF || off > MAX_UTOFF) return "UTC offset beyond 26 hours";
    if (ti[4] > 1) return "bad DST flag";
    if (ti[5] >= b->charcnt) return "abbreviation index out of range";
  }
  if (b->chars[b->charcnt - 1] != '\0') return "abbreviations not NUL-terminated";
  for (uint32_t i = 0; i < b->isstdcnt; i++)
    if (b->isstd[i] > 1) return "bad standard/wall indicator";
  for (uint32_t i = 0; i < b->isutcnt; i++)
    if (b->isut[i] > 1 || (b->isut[i] && !b->isstd[i])) return "bad UT/local indicator";
  return NULL;
}

static const char *parse_tzif(const uint8_t *buf, size_t len, const char *name, struct ph_tz **out, char *footer) {
  struct reader r = {buf, len, 0};
  struct block b;
  const char *why = read_header(&r, &b, 4);
  if (why) return why;
  footer[0] = '\0';
  if (b.version >= 2) {
    take(&r, block_len(&b)); /* v1 data: superseded by the 64-bit block */
    if ((why = read_header(&r, &b, 8))) return why;
    if (b.version < 2) return "second header is not version 2+";
    if ((why = read_block(&r, &b))) return why;
    const uint8_t *nl = take(&r, 1);
    if (!nl) return "truncated (footer)";
    if (*nl != '\n') return "no newline before the footer";
    size_t flen = 0;
    while (r.pos + flen < len && buf[r.pos + flen] != '\n') {
      if (buf[r.pos + flen] == '\0' || flen >= FOOTER_MAX) return "footer too long or contains NUL";
      flen++;
    }
    if (r.pos + flen >= len) return "truncated (footer)";
    memcpy(footer, buf + r.pos, flen);
    footer[flen] = '\0';
    r.pos += flen + 1;
  } else if ((why = read_block(&r, &b))) {
    return why;
  }
  if (r.pos != len) return "trailing bytes after the data";

  struct ph_tz *tz = tz_alloc(name, b.timecnt);
  if (!tz) return NULL; /* *out stays NULL: out of memory */
  int64_t *at = tz->store;
  int32_t *off = (int32_t *)(tz->store + b.timecnt);
  int32_t prev = tz->off0 = type_off(&b, 0);
  size_t n = 0;
  for (uint32_t i = 0; i < b.timecnt; i++) {
    int64_t t = trans_at(&b, i);
    int32_t o = type_off(&b, b.idx[i]);
    if (t > LIMIT_S) break; /* inv. 2 */
    if (t < -LIMIT_S) {
      prev = tz->off0 = o;
      continue;
    }
    if (o == prev) continue; /* inv. 1 */
    at[n] = t * 1000;
    off[n++] = prev = o;
  }
  tz->n = n;
  if ((why = parse_footer(footer, tz))) {
    ph_tz_free(tz);
    return why;
  }
  *out = tz;
  return NULL;
}

static int read_file(const char *path, uint8_t **buf, size_t *len, const char *name, struct ph_err *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return ph_fail(err, PH_ECONFIG, "time zone '%s': no such zone (%.150s not found)", name, path);
    return ph_fail(err, PH_ECONFIG, "time zone '%s': cannot open %.150s: %s", name, path, strerror(errno));
  }
  struct stat st;
  int rc = 0;
  if (fstat(fd, &st) != 0) {
    rc = ph_fail(err, PH_ECONFIG, "time zone '%s': cannot stat %.150s: %s", name, path, strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    rc = ph_fail(err, PH_ECONFIG, "time zone '%s': %.150s is not a zone file", name, path);
  } else if (st.st_size > PH_TZ_FILE_MAX) {
    rc = ph_fail(err, PH_ECONFIG, "time zone '%s': %.150s is larger than %d bytes", name, path, PH_TZ_FILE_MAX);
  } else if (!(*buf = ph_malloc((size_t)st.st_size + 1))) {
    rc = ph_fail(err, PH_ENOMEM, "time zone '%s': out of memory", name);
  } else {
    *len = 0;
    while (*len < (size_t)st.st_size) {
      ssize_t k = read(fd, *buf + *len, (size_t)st.st_size - *len);
      if (k < 0 && errno == EINTR) continue;
      if (k < 0) {
        rc = ph_fail(err, PH_ECONFIG, "time zone '%s': cannot read %.150s: %s", name, path, strerror(errno));
        ph_free(*buf);
        *buf = NULL;
        break;
      }
      if (k == 0) break; /* shrank meanwhile: parsed as truncated */
      *len += (size_t)k;
    }
  }
  close(fd);
  return rc;
}

int ph_tz_load(const char *name, struct ph_tz **out, struct ph_err *err) {
  *out = NULL;
  if (!name || !*name || strlen(name) > PH_TZ_NAME_MAX)
    return ph_fail(err, PH_ECONFIG, "time zone '%.64s': name empty or longer than %d characters", name ? name : "",
                   PH_TZ_NAME_MAX);
  int32_t fixed = 0;
  if (strcmp(name, "UTC") == 0 || parse_fixed(name, &fixed)) {
    if (!(*out = tz_alloc(name, 0))) return ph_fail(err, PH_ENOMEM, "time zone '%s': out of memory", name);
    (*out)->off0 = fixed;
    return 0;
  }
  if (!name_ok(name))
    return ph_fail(err, PH_ECONFIG,
                   "time zone '%s': not a zone name (use an IANA name such as Asia/Shanghai, UTC, or +HH:MM)", name);
  const char *dir = getenv("PH_ZONEINFO");
  if (!dir || !*dir) dir = DEFAULT_ZONEINFO;
  char path[1024];
  if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
    return ph_fail(err, PH_ECONFIG, "time zone '%s': zoneinfo path too long", name);
  uint8_t *buf = NULL;
  size_t len = 0;
  int rc = read_file(path, &buf, &len, name, err);
  if (rc) return rc;
  char footer[FOOTER_MAX + 1];
  const char *why = parse_tzif(buf, len, name, out, footer);
  ph_free(buf);
  if (why) {
    if (strncmp(why, FOOTER_WHY, strlen(FOOTER_WHY)) == 0)
      return ph_fail(err, PH_ECONFIG, "time zone '%s': %.150s: %s '%s'", name, path, why, footer);
    return ph_fail(err, PH_ECONFIG, "time zone '%s': %.150s: %s", name, path, why);
  }
  if (!*out) return ph_fail(err, PH_ENOMEM, "time zone '%s': out of memory", name);
  return 0;
}

void ph_tz_format_local(const struct ph_tz *tz, int64_t utc_ms, char *buf, size_t cap) {
  const int64_t day_ms = 86400000;
  int32_t off = ph_tz_offset_s(tz, utc_ms);
  int64_t l = utc_ms + (int64_t)off * 1000;
  int64_t day = l / day_ms - (l % day_ms != 0 && l < 0), rem = l - day * day_ms;
  int y;
  unsigned m, d;
  ph_civil_from_days(day, &y, &m, &d);
  int a = off < 0 ? -off : off;
  snprintf(buf, cap, "%04d-%02u-%02uT%02d:%02d:%02d%c%02d:%02d", y, m % 100u, d % 100u, (int)(rem / 3600000),
           (int)(rem / 60000 % 60), (int)(rem / 1000 % 60), off < 0 ? '-' : '+', a / 3600 % 100, a / 60 % 60);
}

void ph_tz_format_minute(const struct ph_tz *tz, int64_t utc_ms, bool with_s, char *buf, size_t cap) {
  const int64_t day_ms = 86400000;
  int32_t off = tz ? ph_tz_offset_s(tz, utc_ms) : 0;
  int64_t l = utc_ms + (int64_t)off * 1000;
  int64_t day = l / day_ms - (l % day_ms != 0 && l < 0), rem = l - day * day_ms;
  int y;
  unsigned m, d;
  ph_civil_from_days(day, &y, &m, &d);
  if (with_s)
    snprintf(buf, cap, "%04d-%02u-%02u %02d:%02d:%02d", y, m % 100u, d % 100u, (int)(rem / 3600000),
             (int)(rem / 60000 % 60), (int)(rem / 1000 % 60));
  else
    snprintf(buf, cap, "%04d-%02u-%02u %02d:%02d", y, m % 100u, d % 100u, (int)(rem / 3600000), (int)(rem / 60000 % 60));
}

void ph_tz_format_human(const struct ph_tz *tz, int64_t utc_ms, char *buf, size_t cap) {
  ph_tz_format_minute(tz, utc_ms, false, buf, cap);
  if (!tz) {
    size_t n = strlen(buf);
    if (n < cap) snprintf(buf + n, cap - n, " UTC");
  }
}
