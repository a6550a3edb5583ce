/* hj212_parse.c — the HJ 212-2017 data segment (§6.3.2) and its data area
 * CP=&&…&& (§6.3.3, Table 4) (hj212.h).
 *
 * Callers: src_hj212.c, hj212_dump.c, the unit tests and the fuzz target,
 * on segments the framer returned. Threads: none. Owns: nothing; results
 * go into caller-owned structs, CP is borrowed from the segment.
 *
 * Invariants (besides hj212.h's):
 *  1. every read is bounded by the segment's length; nothing assumes a
 *     NUL terminator, and every copied value has its length checked first.
 *  2. fields are found by name (inv. 4 of hj212.h): "QN=…;ST=…" in any
 *     order, 2005-style segments without QN and Flag included.
 *  3. CP is what lies between the first "CP=&&" and the last "&&" of the
 *     segment; nothing may follow that "&&".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hj212/hj212.h"
#include "parkhub/timefmt.h"

static const char *find(const char *s, size_t len, const char *needle) {
  size_t n = strlen(needle);
  for (size_t i = 0; i + n <= len; i++)
    if (memcmp(s + i, needle, n) == 0) return s + i;
  return NULL;
}

static bool is_digits(const char *s, size_t n) {
  if (!n) return false;
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

static long digits_value(const char *s, size_t n) {
  long v = 0;
  for (size_t i = 0; i < n; i++) v = v * 10 + (s[i] - '0');
  return v;
}

/* A printable ASCII value without the separators. */
static bool is_plain(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= ' ' || c >= 0x7f || c == ';' || c == '=' || c == '&' || c == ',') return false;
  }
  return true;
}

static int copy_field(const char *name, const char *v, size_t n, char *dst, size_t cap, struct ph_err *err) {
  if (n >= cap) return ph_fail(err, PH_ESTRLEN, "%s: %zu characters, more than %zu", name, n, cap - 1);
  if (!is_plain(v, n)) return ph_fail(err, PH_ETYPE, "%s: not printable ASCII", name);
  memcpy(dst, v, n);
  dst[n] = '\0';
  return 0;
}

static int int_field(const char *name, const char *v, size_t n, long lo, long hi, int *out, struct ph_err *err) {
  if (n > 8 || !is_digits(v, n)) return ph_fail(err, PH_ETYPE, "%s: '%.*s' is not a number", name, (int)(n > 16 ? 16 : n), v);
  long x = digits_value(v, n);
  if (x < lo || x > hi) return ph_fail(err, PH_ETYPE, "%s: %ld is outside %ld..%ld", name, x, lo, hi);
  *out = (int)x;
  return 0;
}

enum { H_QN, H_ST, H_CN, H_PW, H_MN, H_FLAG, H_PNUM, H_PNO, H_COUNT };
static const char *const hnames[H_COUNT] = {"QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO"};

static int header_field(struct ph_hj212_packet *p, const char *f, size_t n, unsigned *seen, struct ph_err *err) {
  const char *eq = memchr(f, '=', n);
  if (!eq) return ph_fail(err, PH_EJSON, "field '%.*s' has no '='", (int)(n > 24 ? 24 : n), f);
  size_t nl = (size_t)(eq - f), vl = n - nl - 1;
  const char *v = eq + 1;
  int h = 0;
  while (h < H_COUNT && !(strlen(hnames[h]) == nl && memcmp(hnames[h], f, nl) == 0)) h++;
  if (h == H_COUNT) return 0; /* inv. 4 of hj212.h: unknown fields are ignored */
  if (*seen & (1u << h)) return ph_fail(err, PH_EJSON, "%s given twice", hnames[h]);
  *seen |= 1u << h;
  switch (h) {
  case H_QN:
    if (vl > PH_HJ212_QN_MAX || !is_digits(v, vl)) return ph_fail(err, PH_ETYPE, "QN: not up to 20 digits");
    memcpy(p->qn, v, vl);
    p->qn[vl] = '\0';
    return 0;
  case H_ST:
    if (!vl) return ph_fail(err, PH_ETYPE, "ST: empty");
    return copy_field("ST", v, vl, p->st, sizeof p->st, err);
  case H_CN: return int_field("CN", v, vl, 0, 9999, &p->cn, err);
  case H_PW: p->has_pw = true; return copy_field("PW", v, vl, p->pw, sizeof p->pw, err);
  case H_MN:
    if (!vl) return ph_fail(err, PH_ETYPE, "MN: empty");
    return copy_field("MN", v, vl, p->mn, sizeof p->mn, err);
  case H_FLAG: return int_field("Flag", v, vl, 0, 255, &p->flag, err);
  case H_PNUM: return int_field("PNUM", v, vl, 1, 9999, &p->pnum, err);
  case H_PNO: return int_field("PNO", v, vl, 1, 9999, &p->pno, err);
  }
  return 0;
}

int ph_hj212_parse(const char *seg, size_t len, struct ph_hj212_packet *p, struct ph_err *err) {
  memset(p, 0, sizeof *p);
  p->flag = -1;
  const char *cp = find(seg, len, "CP=&&");
  if (!cp) return ph_fail(err, PH_EMISSING, "no CP=&&…&& data area");
  /* inv. 3: the data area closes with the segment's last "&&". */
  const char *body = cp + 5, *end = seg + len;
  if (end - body < 2 || end[-1] != '&' || end[-2] != '&')
    return ph_fail(err, PH_EFRAME, "the data area does not close with && at the end of the segment");
  p->cp = body;
  p->cp_len = (size_t)(end - 2 - body);
  unsigned seen = 0;
  const char *f = seg;
  while (f < cp) {
    const char *semi = memchr(f, ';', (size_t)(cp - f));
    size_t n = semi ? (size_t)(semi - f) : (size_t)(cp - f);
    if (n) {
      int rc = header_field(p, f, n, &seen, err);
      if (rc) return rc;
    }
    f += n + 1;
  }
  for (int h = H_ST; h <= H_MN; h++)
    if (h != H_PW && !(seen & (1u << h))) return ph_fail(err, PH_EMISSING, "no %s field", hnames[h]);
  if ((p->pnum || p->pno) && !(p->pnum && p->pno && p->pno <= p->pnum))
    return ph_fail(err, PH_ETYPE, "PNO %d of PNUM %d: both needed, PNO <= PNUM", p->pno, p->pnum);
  return 0;
}

static bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int ph_hj212_time_parse(const char *s, size_t len, int64_t *ms) {
  if ((len != 14 && len != 17) || !is_digits(s, len)) return PH_ETIME;
  int y = (int)digits_value(s, 4);
  unsigned mo = (unsigned)digits_value(s + 4, 2), d = (unsigned)digits_value(s + 6, 2);
  long hh = digits_value(s + 8, 2), mi = digits_value(s + 10, 2), ss = digits_value(s + 12, 2);
  long zzz = len == 17 ? digits_value(s + 14, 3) : 0;
  static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)) || hh > 23 || mi > 59 ||
      ss > 59)
    return PH_ETIME;
  *ms = (ph_days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss) * 1000 + zzz;
  return 0;
}

static const char *const suffixes[PH_HJ212_NFIELDS] = {"Rtd",   "Avg",   "Min",   "Max",  "Cou",
                                                       "ZsRtd", "ZsAvg", "ZsMin", "ZsMax"};

static struct ph_hj212_value *value_for(struct ph_hj212_data *d, const char *code, size_t n) {
  for (size_t i = 0; i < d->n; i++)
    if (strlen(d->val[i].code) == n && memcmp(d->val[i].code, code, n) == 0) return &d->val[i];
  if (d->n == PH_HJ212_MAX_CODES) return NULL;
  struct ph_hj212_value *v = &d->val[d->n++];
  memset(v, 0, sizeof *v);
  memcpy(v->code, code, n);
  v->code[n] = '\0';
  return v;
}

static bool is_code(const char *s, size_t n) {
  if (!n || n > PH_HJ212_CODE_MAX) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

/* A number as §6.3.3.2.2 writes them: sign, digits, one dot; at most 24 chars. */
static int number(const char *s, size_t n, double *out) {
  char buf[25];
  if (!n || n >= sizeof buf) return -1;
  size_t i = 0, digits = 0, dots = 0;
  if (s[0] == '-' || s[0] == '+') i++;
  for (; i < n; i++) {
    if (s[i] >= '0' && s[i] <= '9')
      digits++;
    else if (s[i] == '.' && !dots)
      dots++;
    else
      return -1;
  }
  if (!digits) return -1;
  memcpy(buf, s, n);
  buf[n] = '\0';
  *out = strtod(buf, NULL);
  return isfinite(*out) ? 0 : -1;
}

static int data_pair(struct ph_hj212_data *d, const char *f, size_t n, struct ph_err *err) {
  const char *eq = memchr(f, '=', n);
  if (!eq) return ph_fail(err, PH_EJSON, "CP: '%.*s' has no '='", (int)(n > 24 ? 24 : n), f);
  size_t nl = (size_t)(eq - f), vl = n - nl - 1;
  const char *v = eq + 1;
  if (nl == 8 && memcmp(f, "DataTime", 8) == 0) {
    if (d->has_time) return ph_fail(err, PH_ETIME, "CP: DataTime given twice");
    if (ph_hj212_time_parse(v, vl, &d->time_local_ms))
      return ph_fail(err, PH_ETIME, "CP: DataTime '%.*s' is not yyyyMMddHHmmss", (int)(vl > 20 ? 20 : vl), v);
    d->has_time = true;
    return 0;
  }
  const char *dash = NULL;
  for (size_t i = nl; i > 0; i--)
    if (f[i - 1] == '-') {
      dash = f + i - 1;
      break;
    }
  if (!dash || !is_code(f, (size_t)(dash - f))) {
    d->ignored++; /* PolId, RtdInterval, SBxxx-… without a code, … */
    return 0;
  }
  size_t cl = (size_t)(dash - f), sl = nl - cl - 1;
  const char *suf = dash + 1;
  int field = -1;
  bool is_flag = sl == 4 && memcmp(suf, "Flag", 4) == 0;
  for (int k = 0; k < PH_HJ212_NFIELDS && !is_flag; k++)
    if (strlen(suffixes[k]) == sl && memcmp(suffixes[k], suf, sl) == 0) field = k;
  if (!is_flag && field < 0) {
    d->ignored++; /* EFlag, SampleTime, ValidNum, ZsCou, … */
    return 0;
  }
  struct ph_hj212_value *val = value_for(d, f, cl);
  if (!val) return ph_fail(err, PH_ETOOMANY, "CP: more than %d pollutant codes", PH_HJ212_MAX_CODES);
  if (is_flag) {
    /* Not one letter, or two different ones: refused when mapped (inv. 5).
     * The same letter again is one flag: 2005 loggers repeat it after each
     * field ("01-Rtd=3.56,01-Flag=N;01-ZsRtd=4.93,01-Flag=N"). */
    if (vl != 1 || (unsigned char)v[0] <= ' ' || (unsigned char)v[0] >= 0x7f || (val->flag && val->flag != v[0]))
      val->flag = '?';
    else
      val->flag = v[0];
    return 0;
  }
  unsigned bit = 1u << field;
  double x;
  if ((val->have | val->bad) & bit || number(v, vl, &x)) {
    val->have &= ~bit;
    val->bad |= bit;
  } else {
    val->v[field] = x;
    val->have |= bit;
  }
  return 0;
}

int ph_hj212_data_parse(const struct ph_hj212_packet *p, struct ph_hj212_data *d, struct ph_err *err) {
  d->has_time = false;
  d->time_local_ms = 0;
  d->n = d->ignored = 0;
  const char *s = p->cp, *end = p->cp + p->cp_len;
  while (s < end) {
    size_t n = 0;
    while (s + n < end && s[n] != ';' && s[n] != ',') n++;
    if (n) {
      int rc = data_pair(d, s, n, err);
      if (rc) return rc;
    }
    s += n + 1;
  }
  return 0;
}
