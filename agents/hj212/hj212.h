/* hj212.h — HJ 212 (污染物在线监控（监测）系统数据传输标准: HJ/T 212-2005,
 * HJ 212-2017, HJ 212-2025) packets: the framer, the data-segment parser,
 * the data-area decoder, the split-message assembler, the response builder,
 * the factor-code tables and the mapping to catalogue records. docs/hj212.md
 * says which version does what and what is not supported. Pure code, no I/O: the TCP
 * listener (agents/sources/src_hj212.c), `parkagent --hj212-dump`
 * (agents/hj212/hj212_dump.c), the unit tests and the fuzz target
 * (tests/fuzz/fuzz_hj212.c) share it.
 *
 *   ##dddd<data segment>CCCC\r\n      dddd = data length, 4 decimal digits
 *                                     CCCC = CRC of the data segment, 4 hex
 *   data segment: QN=…;ST=…;CN=…;PW=…;MN=…;Flag=…;[PNUM=…;PNO=…;]CP=&&…&&
 *
 * Everything here treats its input as hostile: every length is bounded
 * (data segment <= PH_HJ212_MAX_DATA and the framer's configured cap),
 * nothing recurses, nothing allocates after init, and a malformed input
 * yields a refusal code with a reason, never a crash.
 *
 * Invariants (cited in tests):
 *  1. the framer never loses a good packet behind garbage: after a refused
 *     candidate it drops only the first byte of its "##" and scans again,
 *     so a good packet that starts inside a broken one (or right after a
 *     stray '#') is still found.
 *  2. a candidate is refused as soon as it cannot be a packet (a CR LF
 *     before its declared end, a length over the cap): the framer waits for
 *     more bytes only for a candidate that can still complete.
 *  3. the framer's buffer is fixed at init (cap + 12 bytes of framing);
 *     feed() takes only what fits, so memory per connection is bounded.
 *  4. the parser reads fields by name, not position; unknown fields are
 *     ignored (HJ 212-2025 may add some), a known field twice is refused.
 *  5. mapping never invents a value: a code that maps to no metric, a value
 *     that is not a finite number in its metric's range, or a flag that is
 *     not one of N F M S D C T B is left out and counted, never guessed.
 *  6. a split message (PNUM > 1) is assembled within fixed bounds: at most
 *     PH_HJ212_SPLIT_MAX_PARTS parts and the assembler's byte cap, for at
 *     most its timeout; past any bound the parts are dropped with a reason,
 *     never kept growing.
 */
#ifndef PARKHUB_HJ212_H
#define PARKHUB_HJ212_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "parkhub/batch.h"
#include "parkhub/catalog.h"
#include "parkhub/cfgmap.h" /* struct ph_cfg_problems */
#include "parkhub/err.h"
#include "parkhub/ids.h"

#define PH_HJ212_MAX_DATA 9999   /* the 4-digit length field */
#define PH_HJ212_OVERHEAD 12     /* "##" + 4 digits + 4 hex + CR LF */
#define PH_HJ212_MN_MAX 64       /* the standard's MN is 24 chars; field MNs vary */
#define PH_HJ212_PW_MAX 32
#define PH_HJ212_QN_MAX 20
#define PH_HJ212_CODE_MAX 15
#define PH_HJ212_MAX_CODES 128   /* pollutant codes in one packet */
#define PH_HJ212_ACK_MAX 256     /* a 9014 response packet, framed */

/* ---- CRC (Appendix A) ---------------------------------------------------- */

enum ph_hj212_crc_mode {
  PH_HJ212_CRC_STD,       /* Appendix A: reg = (reg >> 8) ^ b; shift 8, poly 0xA001 */
  PH_HJ212_CRC_MODBUS_LE, /* CRC-16/MODBUS printed low byte first (some loggers) */
  PH_HJ212_CRC_ANY,       /* accept either (commissioning) */
};

uint16_t ph_hj212_crc(const char *data, size_t len);
/* CRC-16/MODBUS with its two bytes swapped, as those loggers print it. */
uint16_t ph_hj212_crc_modbus_le(const char *data, size_t len);

/* ---- framer ---------------------------------------------------------------- */

struct ph_hj212_framer_stats {
  uint64_t frames;        /* good frames returned */
  uint64_t garbage_bytes; /* bytes dropped while looking for "##" */
  uint64_t bad_length;    /* length field not 4 digits, or CR LF before the declared end */
  uint64_t oversized;     /* declared length over the cap */
  uint64_t bad_tail;      /* no CR LF where the length says the packet ends */
  uint64_t bad_crc;       /* CRC not hex, or not matching */
};

/* Caller-owned; init allocates the one buffer (inv. 3). */
struct ph_hj212_framer {
  char *buf;
  size_t cap, off, len; /* valid bytes are buf[off .. off+len) */
  size_t max_data;
  enum ph_hj212_crc_mode crc;
  size_t consume;       /* bytes of the frame last returned, dropped on the next call */
  size_t scanned;       /* the head candidate has no CR LF before this offset */
  bool frame_crc_le;    /* the last frame matched the MODBUS-LE form (CRC_ANY) */
  struct ph_hj212_framer_stats st;
};

/* max_data: 1..PH_HJ212_MAX_DATA. 0 or PH_EINVAL / PH_ENOMEM. */
int ph_hj212_framer_init(struct ph_hj212_framer *f, size_t max_data, enum ph_hj212_crc_mode crc);
void ph_hj212_framer_fini(struct ph_hj212_framer *f);
/* Forgets buffered bytes (a new connection). */
void ph_hj212_framer_reset(struct ph_hj212_framer *f);
/* Free space: feed at most this many bytes. */
size_t ph_hj212_framer_space(struct ph_hj212_framer *f);
/* Copies up to n bytes in (borrows p); returns how many were taken. */
size_t ph_hj212_framer_feed(struct ph_hj212_framer *f, const void *p, size_t n);
/* The next event in the buffered bytes:
 *   1  a good frame: *data / *len is its data segment (borrowed, valid
 *      until the next call on f; not NUL-terminated);
 *   0  nothing more until more bytes are fed;
 *  <0  a refused candidate: PH_ETOOLARGE (declared length over the cap),
 *      PH_EFRAME (length field not 4 digits, a CR LF before the declared
 *      end, no CR LF at it), PH_ECRC (CRC not hex or not matching); err
 *      says why. Call again: the framer has
 *      resynchronised (inv. 1). */
int ph_hj212_framer_next(struct ph_hj212_framer *f, const char **data, size_t *len, struct ph_err *err);

/* ---- data segment ---------------------------------------------------------- */

#define PH_HJ212_FLAG_A 0x01 /* response required */
#define PH_HJ212_FLAG_D 0x02 /* PNUM / PNO present */

struct ph_hj212_packet {
  char qn[PH_HJ212_QN_MAX + 1]; /* "" when absent (HJ/T 212-2005 style) */
  char st[9];
  int cn;                       /* 0..9999 */
  char pw[PH_HJ212_PW_MAX + 1];
  bool has_pw;
  char mn[PH_HJ212_MN_MAX + 1];
  int flag;                     /* 0..255; -1 when absent */
  int pnum, pno;                /* 0 when absent */
  const char *cp;               /* between CP=&& and the closing &&; borrowed from the segment */
  size_t cp_len;
};

/* Parses one data segment (from the framer; need not be NUL-terminated).
 * 0, or PH_EMISSING (ST, CN, MN or CP absent), PH_ETYPE (a value of the
 * wrong shape), PH_ESTRLEN (a value too long), PH_EJSON (a field twice,
 * no '=') with err naming the field. */
int ph_hj212_parse(const char *seg, size_t len, struct ph_hj212_packet *p, struct ph_err *err);
static inline bool ph_hj212_wants_ack(const struct ph_hj212_packet *p) {
  return p->flag >= 0 && (p->flag & PH_HJ212_FLAG_A);
}

/* ---- data area (CP) -------------------------------------------------------- */

enum {
  PH_HJ212_RTD = 1 << 0,
  PH_HJ212_AVG = 1 << 1,
  PH_HJ212_MIN = 1 << 2,
  PH_HJ212_MAX = 1 << 3,
  PH_HJ212_COU = 1 << 4,
  PH_HJ212_ZSRTD = 1 << 5, /* 折算: corrected to the reference O2 / excess air */
  PH_HJ212_ZSAVG = 1 << 6,
  PH_HJ212_ZSMIN = 1 << 7,
  PH_HJ212_ZSMAX = 1 << 8,
  PH_HJ212_NFIELDS = 9,
};
/* Index in ph_hj212_value.v of each field (the bit number above). */
enum { PH_HJ212_F_RTD, PH_HJ212_F_AVG, PH_HJ212_F_MIN, PH_HJ212_F_MAX, PH_HJ212_F_COU, PH_HJ212_F_ZSRTD,
       PH_HJ212_F_ZSAVG, PH_HJ212_F_ZSMIN, PH_HJ212_F_ZSMAX };

struct ph_hj212_value {
  char code[PH_HJ212_CODE_MAX + 1];
  double v[PH_HJ212_NFIELDS]; /* indexed by bit number of the field */
  unsigned have;              /* fields present and numeric */
  unsigned bad;               /* fields present but not a number, or given twice */
  char flag;                  /* 0 when absent; any printable character as sent; '?' when
                                 two different flags were sent (2005 loggers repeat the same one) */
};

struct ph_hj212_data {
  bool has_time;
  int64_t time_local_ms;      /* DataTime read as if it were UTC (the logger's local time) */
  struct ph_hj212_value val[PH_HJ212_MAX_CODES];
  size_t n;
  size_t ignored;             /* pairs of fields this code does not use (EFlag, PolId, ZsCou, …) */
};

/* Decodes p->cp. 0, or PH_ETIME (a bad DataTime), PH_ETOOMANY (more than
 * PH_HJ212_MAX_CODES codes), PH_EJSON (a pair without '='), PH_ESTRLEN. */
int ph_hj212_data_parse(const struct ph_hj212_packet *p, struct ph_hj212_data *d, struct ph_err *err);
/* "yyyyMMddHHmmss" or with "zzz" milliseconds → ms of that civil time read
 * as UTC. 0 or PH_ETIME. */
int ph_hj212_time_parse(const char *s, size_t len, int64_t *ms);

/* ---- the response (9014 data ack) ------------------------------------------ */

/* Writes the framed data-response packet for p (QN echoed, ST=91,
 * CN=9014, PW and MN as received, Flag = the version bits of `version`
 * without A or D: 0 for HJ/T 212-2005, 4 for 2017, 8 for 2025; CP=&&&&)
 * with the CRC in the form `crc` says (CRC_ANY: as the packet came,
 * crc_le). Returns the length, or PH_EFULL when cap is short. */
int ph_hj212_build_ack_v(const struct ph_hj212_packet *p, int version, enum ph_hj212_crc_mode crc, bool crc_le,
                         char *out, size_t cap);
/* The same for the version p's Flag says (no Flag: 2017's Flag=4). */
int ph_hj212_build_ack(const struct ph_hj212_packet *p, enum ph_hj212_crc_mode crc, bool crc_le, char *out,
                       size_t cap);

/* ---- versions and factor codes (hj212_codes.c) ---------------------------- */

enum {
  PH_HJ212_V_AUTO,    /* from the packet: Flag's version bits; no Flag: 2005 */
  PH_HJ212_V2005,     /* HJ/T 212-2005: version bits 000000, or no Flag */
  PH_HJ212_V2017,     /* HJ 212-2017: 000001 */
  PH_HJ212_V2025,     /* HJ 212-2025: 000010 */
  PH_HJ212_V_UNKNOWN, /* other version bits */
};

/* The version p is read as: `configured` (a logger's "version") unless it
 * is PH_HJ212_V_AUTO, else what p's Flag says. */
int ph_hj212_packet_version(const struct ph_hj212_packet *p, int configured);
const char *ph_hj212_version_name(int v);

/* A factor of HJ 212-2017 Table B.1 (water) or B.2 (air) that the catalogue
 * has, with its HJ/T 212-2005 code where that code's unit is confirmed
 * (hj212_codes.c inv. 1 and its sources). Units as the catalogue writes
 * them; NULL where the standard gives none. */
struct ph_hj212_factor {
  const char *code;       /* HJ 212-2017 code, e.g. "w01018" */
  const char *code2005;   /* HJ/T 212-2005 code, e.g. "011"; NULL: none or not mapped */
  const char *name_zh;    /* the standard's name */
  const char *unit;       /* unit of -Rtd/-Avg/-Min/-Max (and Zs) */
  const char *cou_unit;   /* unit of -Cou */
  const char *unit2005;   /* unit of the 2005 code's values */
  const char *cou_metric; /* catalogue metric of -Cou (period data), or NULL */
};
size_t ph_hj212_factor_count(void);
const struct ph_hj212_factor *ph_hj212_factor_at(size_t i);
/* Lookups by a NUL-terminated code; NULL when not listed. */
const struct ph_hj212_factor *ph_hj212_factor_2017(const char *code);
const struct ph_hj212_factor *ph_hj212_factor_2005(const char *code);
/* The factor whose 2005 code this is but whose 2005 unit is not confirmed
 * (so it is not mapped: hj212_codes.c inv. 1), for naming why; or NULL. */
const struct ph_hj212_factor *ph_hj212_factor_2005_unmapped(const char *code);
/* True for a code of the 2017 shape (a letter and five digits). */
bool ph_hj212_code_is_2017(const char *code);

/* ---- split messages (hj212_split.c) --------------------------------------- */

#define PH_HJ212_SPLIT_MAX_PARTS 64

/* One message being assembled from its parts (PNUM/PNO, in any order). The
 * parts' data areas are kept in one buffer fixed at init; the whole
 * message's data area is the first part's with the later parts' pairs
 * appended in PNO order (a repeated DataTime equal to the first's is
 * dropped; a different one refuses the message). Caller-owned. */
struct ph_hj212_asm {
  bool busy;
  char mn[PH_HJ212_MN_MAX + 1], qn[PH_HJ212_QN_MAX + 1];
  int cn, pnum;
  uint64_t got; /* bit k: part k+1 is here */
  int64_t started_ms;
  struct ph_hj212_packet head; /* the first part's fields (cp unused) */
  bool have_head;
  char *buf;   /* 2 * cap: the parts' data areas, then the assembled one */
  size_t cap, used;
  int max_parts;
  struct { uint32_t off, len; } part[PH_HJ212_SPLIT_MAX_PARTS];
  struct { uint64_t messages, parts, dropped, timeouts; } st;
};

/* cap: bytes of data area for a whole message (1..1 MiB); max_parts
 * 2..PH_HJ212_SPLIT_MAX_PARTS. 0, PH_EINVAL or PH_ENOMEM. */
int ph_hj212_asm_init(struct ph_hj212_asm *a, size_t cap, int max_parts);
void ph_hj212_asm_fini(struct ph_hj212_asm *a);
/* Drops a message in progress (a closed connection); 1 when one was. */
int ph_hj212_asm_reset(struct ph_hj212_asm *a);

enum { PH_HJ212_ASM_HELD = 1, PH_HJ212_ASM_DONE = 2 };
/* Offers one part (p->pnum > 1). Returns PH_HJ212_ASM_HELD (kept; more to
 * come), PH_HJ212_ASM_DONE (*whole is the message: p's fields with cp the
 * assembled data area in a's buffer, pno 0; valid until the next call on
 * a), or a refusal with err saying why: PH_ETOOMANY (PNUM over max_parts),
 * PH_ETOOLARGE (over the byte cap), PH_ETIME (parts disagree on
 * DataTime). A part of another message while one is in progress drops
 * the one in progress (counted; err of the next refusal says so, and
 * `superseded` is set). A part sent again is taken again (the logger
 * resends what was not answered). */
int ph_hj212_asm_add(struct ph_hj212_asm *a, const struct ph_hj212_packet *p, int64_t now_ms,
                     struct ph_hj212_packet *whole, bool *superseded, struct ph_err *err);
/* Drops a message whose first part came more than timeout_ms before
 * now_ms; returns 1 with err naming the missing parts, else 0. */
int ph_hj212_asm_expire(struct ph_hj212_asm *a, int64_t now_ms, int64_t timeout_ms, struct ph_err *err);
/* Frames any data segment. Returns the length or PH_EFULL / PH_ETOOLARGE. */
int ph_hj212_frame(const char *seg, size_t len, enum ph_hj212_crc_mode crc, bool crc_le, char *out, size_t cap);

/* ---- mapping to records (hj212_map.c) ------------------------------------- */

#define PH_HJ212_MAX_LOGGERS 64
#define PH_HJ212_MAX_OVERRIDES 64
#define PH_HJ212_LOGGER_CODES 16 /* per logger: "corrected" codes, "units" */

enum { PH_HJ212_P_RTD, PH_HJ212_P_MIN, PH_HJ212_P_HOUR, PH_HJ212_P_DAY, PH_HJ212_P_COUNT };

struct ph_hj212_logger {
  int index; /* its place in "loggers" (messages name it; a refused one before it is left out) */
  char mn[PH_HJ212_MN_MAX + 1];
  char point[PH_HJ212_P_COUNT][PH_ID_MAX + 1]; /* by command: 2011, 2051, 2061, 2031 */
  char password[PH_HJ212_PW_MAX + 1];          /* "" : the source's */
  int version;                                 /* PH_HJ212_V_*: "version" */
  bool cou;                                    /* "cou": publish -Cou where the catalogue has its quantity */
  /* "corrected": codes whose -ZsRtd/-ZsAvg is published instead of -Rtd/-Avg */
  char zs[PH_HJ212_LOGGER_CODES][PH_HJ212_CODE_MAX + 1];
  int nzs;
  /* "units": the unit this logger sends a code's values in, where it is not the standard's */
  struct {
    char code[PH_HJ212_CODE_MAX + 1];
    char unit[24];
  } units[PH_HJ212_LOGGER_CODES];
  int nunits;
};

struct ph_hj212_override {
  char code[PH_HJ212_CODE_MAX + 1];
  int metric;    /* catalogue index, or -1: ignore this code */
  double factor; /* to the metric's unit */
};

struct ph_tz;

struct ph_hj212_map {
  const struct ph_catalog *cat; /* borrowed */
  struct ph_tz *tz;             /* owned */
  char password[PH_HJ212_PW_MAX + 1];
  unsigned commands;            /* bit PH_HJ212_P_*: which data commands become records */
  int64_t max_future_ms;
  struct ph_hj212_logger loggers[PH_HJ212_MAX_LOGGERS];
  int nloggers;
  struct ph_hj212_override codes[PH_HJ212_MAX_OVERRIDES];
  int ncodes;
};

/* Fills m from a source's config object (const cJSON *): "tz", "password",
 * "commands" (an array of "2011" | "2051" | "2061" | "2031"), "loggers"
 * and "codes". With cfg NULL: tz Asia/Shanghai, every command, no
 * loggers (the dump then names points after the MN). Loads the zone; on
 * failure m holds nothing to free. */
int ph_hj212_map_init(struct ph_hj212_map *m, const struct ph_catalog *cat, const void *cfg, const char *tz,
                      const char *password, struct ph_err *err);
/* The same for a config being checked (--check-config): with pr, every
 * problem of "loggers", "codes", "commands", the loggers' "units" and "tz"
 * is noted in pr, each named by its path ("loggers[2].mn: …"), a bad entry
 * is left out and the next one checked; PH_ECONFIG when any was noted
 * (nothing to free then). Without pr, as ph_hj212_map_init. */
int ph_hj212_map_init_all(struct ph_hj212_map *m, const struct ph_catalog *cat, const void *cfg, const char *tz,
                          const char *password, struct ph_cfg_problems *pr, struct ph_err *err);
void ph_hj212_map_fini(struct ph_hj212_map *m);
/* The catalogue unit conversion factor from an HJ 212 unit, or 0 when the
 * pair is unknown. Both NUL-terminated. */
double ph_hj212_unit_factor(const char *from, const char *to);

struct ph_hj212_out_rec {
  enum ph_kind kind;
  struct ph_record r;
  struct ph_value v[PH_RECORD_MAX_VALUES];
};

struct ph_hj212_records {
  int nrec;
  struct ph_hj212_out_rec rec[2]; /* emission, process */
  int version;                    /* PH_HJ212_V_* the packet was read as */
  int unknown;                    /* codes that map to no metric */
  char unknown_code[PH_HJ212_CODE_MAX + 1];
  char unknown_list[160];         /* the unknown codes, comma-separated ("…" when cut) */
  char unknown_why[192];          /* why the first one maps to nothing */
  int refused;                    /* values left out (inv. 5) */
  struct ph_err first_refusal;
};

/* Which logger sent p: its entry, or NULL when the MN is not configured. */
const struct ph_hj212_logger *ph_hj212_map_logger(const struct ph_hj212_map *m, const char *mn);
/* 0 when p may be taken: its MN is configured (or there are no loggers and
 * `any_mn`), and its PW is the configured one (when one is configured);
 * else PH_EIDENTITY (unknown MN) or PH_EPASSWORD with the reason. */
int ph_hj212_map_check(const struct ph_hj212_map *m, const struct ph_hj212_packet *p, bool any_mn,
                       struct ph_err *err);
/* Decodes p's data area for mapping, naming what cannot be read: as
 * ph_hj212_data_parse, and for an HJ 212-2025 data command whose data area
 * is not name=value pairs, PH_EVERSION saying it is probably encrypted
 * (SM4), which this agent does not decrypt (docs/hj212.md). */
int ph_hj212_map_data(const struct ph_hj212_map *m, const struct ph_hj212_packet *p, struct ph_hj212_data *d,
                      struct ph_err *err);
/* The version a packet of this map's loggers is read as. */
int ph_hj212_map_version(const struct ph_hj212_map *m, const struct ph_hj212_packet *p);
/* Index PH_HJ212_P_* of a data command, or -1 for any other CN. */
int ph_hj212_data_command(int cn);
/* Builds the records of one data packet (2011/2051/2061/2031 in
 * m->commands), read as the version its logger's "version" or its Flag
 * says: a code is looked up in that version's table (2017 and 2025 share
 * the 2017 codes); a packet without Flag from a logger set to "auto" may
 * carry either generation's codes (they never collide), each read in its
 * own generation's units. Real-time data publish -Rtd, period data -Avg
 * (-ZsRtd/-ZsAvg for the logger's "corrected" codes) and, for period data
 * and loggers with "cou", -Cou where the factor has a catalogue metric
 * for it. now_ms 0: no clock check. Returns 0 (out->nrec may be 0 when
 * nothing mapped: out->unknown_* name the codes and why), or a refusal of
 * the whole packet: PH_EMISSING (no DataTime), PH_ETIME, PH_ESKEW
 * (DataTime ahead of the clock), PH_EBADID (no point for an unconfigured
 * MN), PH_EVERSION (version bits of no known version). */
int ph_hj212_map_records(const struct ph_hj212_map *m, const struct ph_hj212_packet *p,
                         const struct ph_hj212_data *d, int64_t now_ms, struct ph_hj212_records *out,
                         struct ph_err *err);

/* ---- `parkagent --hj212-dump` (hj212_dump.c) -------------------------------- */

struct ph_agent_config;
/* Decodes a capture (raw stream or one packet per line) and prints the
 * records and, for every packet not published, why (borrows all). cfg
 * NULL: no loggers, points named after the MN. 0, or PH_EIO / PH_ENOMEM. */
int ph_hj212_dump(const char *path, const struct ph_catalog *cat, const struct ph_agent_config *cfg, FILE *out,
                  struct ph_err *err);

#endif
