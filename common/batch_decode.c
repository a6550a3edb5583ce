/* batch_decode.c — decodes and validates an event batch (batch.h).
 *
 * Callers: the hub's ingest stage (every message), the agent's JSON-lines
 * and CSV sources and the tests' fake hub (ph_batch_decode_record per line
 * or row), tests and fuzzers.
 * Threads: none of its own; a struct ph_batch and a struct ph_batch_scratch
 * belong to one thread at a time. The C numeric locale for strtod_l is made
 * once per process (pthread_once) and never freed.
 *
 * How: json_strict.c (jsmn in strict mode, then a pass that checks the
 * rest of the JSON grammar) cuts the text into tokens in the caller's
 * scratch, which grows only up to a bound. Everything after it
 * walks well-formed JSON by token index: an object token's size is its
 * number of keys, each key's value is the next token, and skip() passes
 * over a value's subtree. Numbers: short decimals on an exact fast path
 * (fast_number), the rest with strtod_l in the C locale (no localeconv()
 * per number), which must use the whole token.
 *
 * Invariants (cited in tests):
 *  1. refuse before store: a record is appended only after all its checks
 *     passed; a failing record leaves the batch as it was.
 *  2. the header (agent, epoch, seq, oldest) is read leniently first, so the
 *     hub can ack and log a refused batch against its agent.
 *  3. the refusal code is the first fault found: a syntax fault anywhere in
 *     the text first (PH_EJSON, as when cJSON parsed the whole text before
 *     any check), then the checks below in document order; each fault has
 *     its own code (err.h).
 *  4. jsmn never writes past the scratch: it is told the capacity, which
 *     grows up to max_bytes / 2 + 2 tokens; a text that needs more (only an
 *     invalid one can: each token ends with a byte of its own, and all but
 *     the first follow a bracket, comma or colon of their own) is
 *     PH_ETOOLARGE.
 *  5. a key twice in one object is refused in every object, attrs included.
 *     (cJSON kept both and its lookups took the first; which value counts
 *     must not depend on the parser.) Keys are compared unescaped.
 */
#include <float.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "parkhub/batch.h"
#include "parkhub/timefmt.h"
#include "json_strict.h"

#define MAX_SAFE_INT 9007199254740991.0
#define KEY_BUF 128 /* unescaped keys longer than this match nothing we know */

/* Key lists: a word and its length, ended by {NULL, 0}. */
struct word {
  const char *s;
  size_t n;
};
#define W(lit) {lit, sizeof lit - 1}
static const struct word batch_keys[] = {W("v"),      W("agent"),  W("epoch"),   W("seq"), W("oldest"),
                                         W("sent"),   W("records"), {NULL, 0}};
static const struct word meas_keys[] = {W("ts"), W("point"), W("values"), W("flags"), W("state"), {NULL, 0}};
static const struct word mat_keys[] = {W("ts"),  W("point"), W("material"), W("dir"), W("qty_t"),
                                       W("lot"), W("supplier"), W("attrs"), {NULL, 0}};
static const char *const state_words[] = {"", "running", "startup", "shutdown", "stopped"};

bool ph_flag_valid(char f) { return f && strchr(PH_FLAGS, f) != NULL; }
const char *ph_state_name(enum ph_state s) { return (unsigned)s <= PH_STATE_STOPPED ? state_words[s] : ""; }
const char *ph_dir_name(enum ph_dir d) { return d == PH_DIR_OUT ? "out" : "in"; }

void ph_batch_init(struct ph_batch *b, enum ph_kind kind) {
  memset(b, 0, sizeof *b);
  b->v = PH_BATCH_VERSION;
  b->kind = kind;
}

void ph_batch_fini(struct ph_batch *b) {
  if (!b) return;
  ph_free(b->records);
  ph_free(b->values);
  ph_free(b->arena);
  memset(b, 0, sizeof *b);
}

void ph_batch_reset(struct ph_batch *b, enum ph_kind kind) {
  b->v = PH_BATCH_VERSION;
  b->agent[0] = '\0';
  b->epoch = b->seq = b->oldest = b->sent_ms = 0;
  b->kind = kind;
  b->header_ok = false;
  b->nrecords = b->nvalues = b->arena_len = 0;
}

void ph_batch_scratch_init(struct ph_batch_scratch *s) { memset(s, 0, sizeof *s); }

void ph_batch_scratch_fini(struct ph_batch_scratch *s) {
  if (!s) return;
  ph_free(s->tok);
  memset(s, 0, sizeof *s);
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return 0;
  size_t n = *cap ? *cap : 16;
  while (n < need) n *= 2;
  void *p = ph_realloc(*arr, n * elem);
  if (!p) return PH_ENOMEM;
  *arr = p;
  *cap = n;
  return 0;
}

/* ---- the C numeric locale, made once ------------------------------------ */

static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;

static void make_c_locale(void) { c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0); }

/* A string's text: a pointer into the document when it has no escape, else
 * into the caller's buffer (unescaped, possibly cut at cap - 1 bytes); len is
 * always the full unescaped length. */
struct text {
  const char *p;
  size_t len;
};

static struct text text_of(const struct doc *d, int i, char *buf, size_t cap) {
  const jsmntok_t *t = &d->t[i];
  const char *s = d->js + t->start;
  size_t n = (size_t)(t->end - t->start);
  if (!(t->type & TOK_ESCAPED)) return (struct text){s, n};
  return (struct text){buf, json_unescape(s, n, buf, cap)};
}

/* %.*s length for a message: at most max bytes of the text we have. */
static int shown(struct text x, size_t max) { return (int)(x.len < max ? x.len : max); }

static bool text_eq(struct text x, const char *s, size_t n) { return x.len == n && memcmp(x.p, s, n) == 0; }
static bool text_is(struct text x, const char *word) { return text_eq(x, word, strlen(word)); }

static bool is_str(const struct doc *d, int i) { return i >= 0 && type_of(&d->t[i]) == JSMN_STRING; }
static bool is_obj(const struct doc *d, int i) { return i >= 0 && d->t[i].type == JSMN_OBJECT; }
static bool is_num(const struct doc *d, int i) {
  if (i < 0 || d->t[i].type != JSMN_PRIMITIVE) return false;
  char c = d->js[d->t[i].start];
  return c == '-' || is_digit(c);
}

/* The index after value i and everything inside it: the first token that
 * starts after i ends (tokens are in document order). A few steps, then a
 * binary search, so that passing over a big array is not a scan of it. */
static int skip_container(const struct doc *d, int i) {
  int end = d->t[i].end, j = i + 1;
  /* a container of scalars (values, flags) has exactly one token per key and value */
  int flat = i + 1 + (d->t[i].type == JSMN_OBJECT ? 2 : 1) * d->t[i].size;
  if (flat <= d->n && (flat == d->n || d->t[flat].start >= end) && d->t[flat - 1].start < end) return flat;
  for (int steps = 0; j < d->n && d->t[j].start < end; j++)
    if (++steps == 16) {
      int lo = j + 1, hi = d->n; /* t[j].start < end; answer in [lo, hi] */
      while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (d->t[mid].start < end)
          lo = mid + 1;
        else
          hi = mid;
      }
      return lo;
    }
  return j;
}

static inline int skip(const struct doc *d, int i) {
  return d->t[i].type == JSMN_OBJECT || d->t[i].type == JSMN_ARRAY ? skip_container(d, i) : i + 1;
}

/* The key after key k (its value at k + 1). */
static int next_key(const struct doc *d, int k) { return skip(d, k + 1); }

/* The exact fast path of decimal conversion (Clinger 1990; David Gay's
 * dtoa.c takes it too, glibc's strtod does not): when the digits make an
 * integer m <= 2^53 and the decimal exponent e is within ±22, m and 10^|e|
 * are exact doubles and one IEEE multiplication or division rounds their
 * exact product or quotient correctly, which is the value strtod returns.
 * Typical telemetry ("35.2", "85000", "0.41") takes it; anything else
 * (more than 19 significant digits, m > 2^53, |e| > 22) goes to strtod_l.
 * Needs double arithmetic without excess precision (FLT_EVAL_METHOD 0:
 * x86-64 SSE2, AArch64); elsewhere strtod_l does all. Unit test
 * numbers_convert_exactly_as_strtod checks it against strtod. */
static const double exact_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static bool fast_number(const char *p, const char *e, double *out) {
#if FLT_EVAL_METHOD == 0
  bool neg = *p == '-';
  p += neg;
  uint64_t m = 0;
  int digits = 0, exp10 = 0; /* significant digits (after leading zeros), power of ten so far */
  for (; p < e && is_digit(*p); p++) {
    if (m || *p != '0') digits++;
    m = m * 10 + (uint64_t)(*p - '0');
  }
  if (p < e && *p == '.')
    for (p++; p < e && is_digit(*p); p++) {
      if (m || *p != '0') digits++;
      m = m * 10 + (uint64_t)(*p - '0');
      exp10--;
    }
  if (digits > 19) return false; /* m may have wrapped: 19 digits fit in 64 bits */
  if (p < e) {                   /* an exponent: [eE][+-]?digits (the grammar was checked) */
    bool eneg = *++p == '-';
    p += *p == '-' || *p == '+';
    int x = 0;
    for (; p < e; p++) {
      if (x > 1000) return false;
      x = x * 10 + (*p - '0');
    }
    exp10 += eneg ? -x : x;
  }
  if (m == 0) {
    *out = neg ? -0.0 : 0.0;
    return true;
  }
  if (m > UINT64_C(1) << 53 || exp10 < -22 || exp10 > 22) return false;
  double v = (double)m;
  v = exp10 < 0 ? v / exact_pow10[-exp10] : v * exact_pow10[exp10];
  *out = neg ? -v : v;
  return true;
#else
  (void)p, (void)e, (void)out;
  return false;
#endif
}

/* Only for a token inside an object or array: a lone top-level primitive
 * may end the buffer, and is refused as not an object before any number. */
static double number(const struct doc *d, int i) {
  double v;
  if (fast_number(d->js + d->t[i].start, d->js + d->t[i].end, &v)) return v;
  char *end;
  v = strtod_l(d->js + d->t[i].start, &end, c_locale);
  /* check_syntax() accepted the token as a JSON number, which strtod reads
   * whole; the next byte (a delimiter jsmn saw) cannot extend it. */
  if (end != d->js + d->t[i].end) return NAN;
  return v;
}


/* Tokenizes text into s (grown up to max_tokens) and checks its syntax
 * (json_strict.c); the C locale for numbers is made first. */
static int tokenize(struct ph_batch_scratch *s, const char *text, size_t len, size_t max_tokens, const char *origin,
                    struct doc *d, struct ph_err *err) {
  pthread_once(&c_locale_once, make_c_locale);
  if (!c_locale) return ph_fail(err, PH_ENOMEM, "%s: out of memory (the C locale)", origin);
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) { /* a UTF-8 BOM, which cJSON skipped too */
    text += 3;
    len -= 3;
  }
  if (len > INT_MAX / 2) return ph_fail(err, PH_ETOOLARGE, "%s: %zu bytes, too large", origin, len);
  if (!s->cap) {
    size_t want = len / 4 + 16;
    if (want > max_tokens) want = max_tokens;
    if (grow(&s->tok, &s->cap, want, sizeof(jsmntok_t))) return ph_fail(err, PH_ENOMEM, "%s: out of memory", origin);
  }
  return json_tokenize(s, text, len, max_tokens, origin, d, err);
}

/* ---- objects ----------------------------------------------------------- */

static bool in_list(const struct word *list, struct text k, int *at) {
  for (int i = 0; list[i].s; i++)
    if (text_eq(k, list[i].s, list[i].n)) {
      *at = i;
      return true;
    }
  return false;
}

static bool same_key(const struct doc *d, int a, int b) {
  const jsmntok_t *x = &d->t[a], *y = &d->t[b];
  size_t nx = (size_t)(x->end - x->start), ny = (size_t)(y->end - y->start);
  const char *px = d->js + x->start, *py = d->js + y->start;
  if (!((x->type | y->type) & TOK_ESCAPED)) return nx == ny && memcmp(px, py, nx) == 0;
  /* attrs' keys are shorter than attrs (checked first); a longer key is
   * unknown wherever else it is, and is compared as written */
  char bx[PH_ATTRS_MAX + 1], by[PH_ATTRS_MAX + 1];
  struct text tx = text_of(d, a, bx, sizeof bx), ty = text_of(d, b, by, sizeof by);
  if (tx.len >= sizeof bx || ty.len >= sizeof by) return nx == ny && memcmp(px, py, nx) == 0;
  return tx.len == ty.len && memcmp(tx.p, ty.p, tx.len) == 0;
}

/* Refuses a key that comes again later in object o; with `allowed`, also a
 * key not in it, and then notes each allowed key's value in out[]. */
static int check_object(const struct doc *d, int o, const struct word *allowed, int *out, const char *where,
                        struct ph_err *err) {
  char buf[KEY_BUF];
  if (allowed)
    for (int k = 0; allowed[k].s; k++) out[k] = -1;
  int a = o + 1;
  for (int m = 0; m < d->t[o].size; m++, a = next_key(d, a)) {
    struct text ka = text_of(d, a, buf, sizeof buf);
    int b = next_key(d, a);
    for (int m2 = m + 1; m2 < d->t[o].size; m2++, b = next_key(d, b))
      if (same_key(d, a, b)) return ph_fail(err, PH_EJSON, "%s: duplicate key '%.*s'", where, shown(ka, 64), ka.p);
    int at;
    if (allowed) {
      if (!in_list(allowed, ka, &at))
        return ph_fail(err, PH_EUNKNOWNKEY, "%s: unknown field '%.*s'", where, shown(ka, 64), ka.p);
      out[at] = a + 1;
    }
  }
  return 0;
}

/* One pass over a record's members: each allowed key's value lands in out[]
 * at its position in `allowed`; a second occurrence is a duplicate, a key
 * not in the list is unknown (except skip_key, once), and a missing one of
 * the first `nrequired` is reported. *end: the token after the object. */
static int scan_fields(const struct doc *d, int o, const struct word *allowed, int nrequired, const char *skip_key,
                       int *out, int *end, const char *where, struct ph_err *err) {
  char buf[KEY_BUF];
  int n = 0, skipped = -1;
  while (allowed[n].s) out[n++] = -1;
  int a = o + 1;
  for (int m = 0; m < d->t[o].size; m++, a = next_key(d, a)) {
    struct text ka = text_of(d, a, buf, sizeof buf);
    int k;
    if (!in_list(allowed, ka, &k)) {
      if (!skip_key || !text_is(ka, skip_key))
        return ph_fail(err, PH_EUNKNOWNKEY, "%s: unknown field '%.*s'", where, shown(ka, 64), ka.p);
      if (skipped >= 0) return ph_fail(err, PH_EJSON, "%s: duplicate key '%s'", where, skip_key);
      skipped = a;
      continue;
    }
    if (out[k] >= 0) return ph_fail(err, PH_EJSON, "%s: duplicate key '%.*s'", where, shown(ka, 64), ka.p);
    out[k] = a + 1;
  }
  *end = a;
  for (int k = 0; k < nrequired; k++)
    if (out[k] < 0) return ph_fail(err, PH_EMISSING, "%s: missing required field '%s'", where, allowed[k].s);
  return 0;
}

/* The value of the first member named key, or -1 (lenient: duplicates are refused later). */
static int member(const struct doc *d, int o, const char *key) {
  if (!is_obj(d, o)) return -1;
  char buf[KEY_BUF];
  size_t n = strlen(key);
  int a = o + 1;
  for (int m = 0; m < d->t[o].size; m++, a = next_key(d, a))
    if (text_eq(text_of(d, a, buf, sizeof buf), key, n)) return a + 1;
  return -1;
}

/* ---- fields -------------------------------------------------------------- */

static int get_id(const struct doc *d, int v, char *dst, const char *where, const char *key, struct ph_err *err) {
  if (!is_str(d, v)) return ph_fail(err, PH_ETYPE, "%s.%s: must be a string", where, key);
  char buf[KEY_BUF];
  struct text x = text_of(d, v, buf, sizeof buf);
  if (x.len > PH_ID_MAX || !ph_id_valid(x.p, x.len))
    return ph_fail(err, PH_EBADID, "%s.%s: '%.*s' is not an id ([a-z0-9][a-z0-9_-]{0,63})", where, key,
                   shown(x, 70), x.p);
  memcpy(dst, x.p, x.len);
  dst[x.len] = '\0';
  return 0;
}

static int get_time(const struct doc *d, int v, const struct ph_decode_opts *o, int64_t *ms, bool check_age,
                    const char *where, const char *key, struct ph_err *err) {
  if (!is_str(d, v)) return ph_fail(err, PH_ETYPE, "%s.%s: must be an RFC 3339 string", where, key);
  char buf[64];
  struct text x = text_of(d, v, buf, sizeof buf);
  int w = shown(x, 40);
  if (x.len >= sizeof buf || ph_time_parse(x.p, x.len, ms))
    return ph_fail(err, PH_ETIME, "%s.%s: '%.*s' is not an RFC 3339 time", where, key, w, x.p);
  if (o->now_ms && *ms > o->now_ms + o->max_future_ms)
    return ph_fail(err, PH_ESKEW, "%s.%s: %.*s is %lld s ahead of the hub's clock", where, key, w, x.p,
                   (long long)((*ms - o->now_ms) / 1000));
  if (o->now_ms && check_age && o->max_age_ms && *ms < o->now_ms - o->max_age_ms)
    return ph_fail(err, PH_ESKEW, "%s.%s: %.*s is older than the allowed %lld days", where, key, w, x.p,
                   (long long)(o->max_age_ms / 86400000));
  return 0;
}

static int get_seqnum(const struct doc *d, int v, int64_t *out, const char *key, struct ph_err *err) {
  if (!is_num(d, v)) return ph_fail(err, PH_ETYPE, "batch.%s: must be a number", key);
  double x = number(d, v);
  if (!(x >= 1 && x <= MAX_SAFE_INT) || x != floor(x))
    return ph_fail(err, PH_ESEQ, "batch.%s: must be an integer from 1 to 2^53-1", key);
  *out = (int64_t)x;
  return 0;
}

/* Optional free text (lot, supplier): unescaped, shorter than cap. */
static int get_str(const struct doc *d, int v, const char *key, char *dst, size_t cap, const char *where,
                   struct ph_err *err) {
  dst[0] = '\0';
  if (v < 0) return 0;
  if (!is_str(d, v)) return ph_fail(err, PH_ETYPE, "%s.%s: must be a string", where, key);
  struct text x = text_of(d, v, dst, cap);
  if (x.len >= cap) return ph_fail(err, PH_ESTRLEN, "%s.%s: longer than %zu characters", where, key, cap - 1);
  if (memchr(x.p, '\0', x.len)) return ph_fail(err, PH_EJSON, "%s.%s: \\u0000 cannot be stored", where, key);
  if (x.p != dst) memcpy(dst, x.p, x.len);
  dst[x.len] = '\0';
  return 0;
}

/* ---- header ---------------------------------------------------------------- */

/* inv. 2: lenient pass over the header; failures here are reported later by the strict pass. */
static void read_header(const struct doc *d, struct ph_batch *b) {
  char agent[PH_ID_MAX + 1];
  int64_t e, s, old;
  if (get_id(d, member(d, 0, "agent"), agent, "", "", NULL) || get_seqnum(d, member(d, 0, "epoch"), &e, "", NULL) ||
      get_seqnum(d, member(d, 0, "seq"), &s, "", NULL) || get_seqnum(d, member(d, 0, "oldest"), &old, "", NULL) ||
      old > s)
    return;
  strcpy(b->agent, agent);
  b->epoch = e;
  b->seq = s;
  b->oldest = old;
  b->header_ok = true;
}

/* ---- measurement records --------------------------------------------------- */

static int decode_value(const struct doc *d, int key, const struct ph_decode_opts *o, struct ph_value *out,
                        const char *where, struct ph_err *err) {
  char buf[KEY_BUF];
  struct text k = text_of(d, key, buf, sizeof buf);
  int idx = k.len < sizeof buf ? ph_catalog_find(o->cat, k.p, k.len) : -1;
  if (idx < 0) return ph_fail(err, PH_EMETRIC, "%s.values: unknown metric '%.*s'", where, shown(k, 64), k.p);
  const struct ph_metric *m = ph_catalog_at(o->cat, (size_t)idx);
  if (m->kind != o->kind)
    return ph_fail(err, PH_EKIND, "%s.values.%s: a %s metric in a %s batch", where, m->code, ph_kind_name(m->kind),
                   ph_kind_name(o->kind));
  if (!is_num(d, key + 1)) return ph_fail(err, PH_ETYPE, "%s.values.%s: must be a number", where, m->code);
  double v = number(d, key + 1);
  if (!isfinite(v)) return ph_fail(err, PH_ENONFINITE, "%s.values.%s: not a finite number", where, m->code);
  if (v < m->min || v > m->max)
    return ph_fail(err, PH_ERANGE, "%s.values.%s: %g outside the plausible range %g..%g %s", where, m->code, v,
                   m->min, m->max, m->unit);
  out->metric = idx;
  out->flag = 'N';
  out->v = v;
  return 0;
}

static int decode_values(const struct doc *d, int vals, const struct ph_decode_opts *o, struct ph_batch *b,
                         struct ph_record *r, const char *where, struct ph_err *err) {
  int rc;
  if (!is_obj(d, vals)) return ph_fail(err, PH_ETYPE, "%s.values: must be an object", where);
  int n = d->t[vals].size;
  if (n == 0) return ph_fail(err, PH_EEMPTY, "%s.values: no values", where);
  if (n > PH_RECORD_MAX_VALUES)
    return ph_fail(err, PH_ETOOMANY, "%s.values: %d values, more than %d", where, n, PH_RECORD_MAX_VALUES);
  if (grow((void **)&b->values, &b->values_cap, b->nvalues + (size_t)n, sizeof *b->values))
    return ph_fail(err, PH_ENOMEM, "%s: out of memory", where);
  r->value_off = (uint32_t)b->nvalues;
  r->nvalues = 0;
  int key = vals + 1;
  for (int m = 0; m < n; m++, key = next_key(d, key)) {
    struct ph_value *v = &b->values[r->value_off + r->nvalues];
    if ((rc = decode_value(d, key, o, v, where, err))) return rc;
    for (uint16_t k = 0; k < r->nvalues; k++) /* a known metric twice: compare indices, not strings */
      if (b->values[r->value_off + k].metric == v->metric)
        return ph_fail(err, PH_EJSON, "%s: duplicate key '%s'", where, ph_catalog_at(o->cat, (size_t)v->metric)->code);
    r->nvalues++;
  }
  return 0;
}

static int decode_flags(const struct doc *d, int flags, const struct ph_decode_opts *o, struct ph_batch *b,
                        const struct ph_record *r, const char *where, struct ph_err *err) {
  if (flags < 0) return 0;
  if (!is_obj(d, flags)) return ph_fail(err, PH_ETYPE, "%s.flags: must be an object", where);
  /* each flag names one of at most PH_RECORD_MAX_VALUES values; the bound
   * also keeps the duplicate check below from going quadratic on a hostile batch */
  if (d->t[flags].size > PH_RECORD_MAX_VALUES)
    return ph_fail(err, PH_ETOOMANY, "%s.flags: %d flags, more than %d", where, d->t[flags].size,
                   PH_RECORD_MAX_VALUES);
  int rc = check_object(d, flags, NULL, NULL, where, err);
  if (rc) return rc;
  char buf[KEY_BUF];
  int key = flags + 1;
  for (int m = 0; m < d->t[flags].size; m++, key = next_key(d, key)) {
    struct text k = text_of(d, key, buf, sizeof buf);
    int idx = k.len < sizeof buf ? ph_catalog_find(o->cat, k.p, k.len) : -1;
    struct ph_value *v = NULL;
    for (uint16_t j = 0; idx >= 0 && j < r->nvalues; j++)
      if (b->values[r->value_off + j].metric == idx) v = &b->values[r->value_off + j];
    if (!v) return ph_fail(err, PH_EFLAG, "%s.flags.%.*s: no such metric in values", where, shown(k, 64), k.p);
    char fbuf[8];
    struct text f = is_str(d, key + 1) ? text_of(d, key + 1, fbuf, sizeof fbuf) : (struct text){"", 0};
    if (f.len != 1 || !ph_flag_valid(f.p[0]))
      return ph_fail(err, PH_EFLAG, "%s.flags.%.*s: must be one of the letters " PH_FLAGS, where, shown(k, 64), k.p);
    v->flag = f.p[0];
  }
  return 0;
}

static int decode_state(const struct doc *d, int st, struct ph_record *r, const char *where, struct ph_err *err) {
  r->state = PH_STATE_NONE;
  if (st < 0) return 0;
  if (!is_str(d, st)) return ph_fail(err, PH_ETYPE, "%s.state: must be a string", where);
  char buf[KEY_BUF];
  struct text x = text_of(d, st, buf, sizeof buf);
  for (int i = 1; i <= PH_STATE_STOPPED; i++)
    if (text_is(x, state_words[i])) {
      r->state = (enum ph_state)i;
      return 0;
    }
  return ph_fail(err, PH_EENUM, "%s.state: '%.*s' is not running|startup|shutdown|stopped", where, shown(x, 32), x.p);
}

/* Field positions in meas_keys / mat_keys. */
enum { F_TS, F_POINT, F_VALUES, F_FLAGS, F_STATE };
enum { M_TS, M_POINT, M_MATERIAL, M_DIR, M_QTY, M_LOT, M_SUPPLIER, M_ATTRS };

static int decode_measurement(const struct doc *d, const int *f, const struct ph_decode_opts *o, struct ph_batch *b,
                              struct ph_record *r, const char *where, struct ph_err *err) {
  int rc;
  if ((rc = decode_values(d, f[F_VALUES], o, b, r, where, err)) ||
      (rc = decode_flags(d, f[F_FLAGS], o, b, r, where, err)) || (rc = decode_state(d, f[F_STATE], r, where, err)))
    return rc;
  return 0;
}

/* ---- material records ------------------------------------------------------ */

/* attrs is stored as JSON text: the object's own bytes, verbatim but for the
 * white space between tokens (strings and numbers are kept as written; the
 * syntax check has made sure they are valid JSON), so it stays compact. */
static int decode_attrs(const struct doc *d, int attrs, struct ph_batch *b, struct ph_record *r, const char *where,
                        struct ph_err *err) {
  r->attrs_off = -1;
  if (attrs < 0) return 0;
  if (!is_obj(d, attrs)) return ph_fail(err, PH_ETYPE, "%s.attrs: must be an object", where);
  if (grow((void **)&b->arena, &b->arena_cap, b->arena_len + PH_ATTRS_MAX + 1, 1))
    return ph_fail(err, PH_ENOMEM, "%s: out of memory", where);
  char *dst = b->arena + b->arena_len;
  size_t n = 0;
  bool in_str = false;
  for (const char *s = d->js + d->t[attrs].start, *e = d->js + d->t[attrs].end; s < e; s++) {
    if (!in_str && is_ws(*s)) continue;
    size_t w = in_str && *s == '\\' ? 2 : 1; /* an escape: the backslash and the byte it escapes */
    if (n + w >= PH_ATTRS_MAX) /* as before: at most PH_ATTRS_MAX bytes with the NUL */
      return ph_fail(err, PH_ESTRLEN, "%s.attrs: more than %d bytes as JSON", where, PH_ATTRS_MAX);
    if (*s == '"') in_str = !in_str;
    dst[n++] = *s;
    if (w == 2) dst[n++] = *++s;
  }
  dst[n++] = '\0';
  /* inv. 5: duplicate keys in attrs' objects, at any depth (small: attrs is bounded above) */
  char buf[KEY_BUF];
  for (int i = attrs, end = skip(d, attrs); i < end; i++) {
    if (d->t[i].type != JSMN_OBJECT) continue;
    int a = i + 1;
    for (int m = 0; m < d->t[i].size; m++, a = next_key(d, a)) {
      int c = next_key(d, a);
      for (int m2 = m + 1; m2 < d->t[i].size; m2++, c = next_key(d, c))
        if (same_key(d, a, c)) {
          struct text k = text_of(d, a, buf, sizeof buf);
          return ph_fail(err, PH_EJSON, "%s.attrs: duplicate key '%.*s'", where, shown(k, 64), k.p);
        }
    }
  }
  r->attrs_off = (int32_t)b->arena_len;
  b->arena_len += n;
  return 0;
}

static int decode_material(const struct doc *d, const int *f, const struct ph_decode_opts *o, struct ph_batch *b,
                           struct ph_record *r, const char *where, struct ph_err *err) {
  int dir = f[M_DIR], qty = f[M_QTY];
  char buf[KEY_BUF];
  /* any id: the plant's own codes are the hub's park registry's business (inv. 3) */
  int rc = get_id(d, f[M_MATERIAL], r->material, where, "material", err);
  if (rc) return rc;
  int idx = ph_catalog_find(o->cat, r->material, strlen(r->material));
  const struct ph_metric *m = idx >= 0 ? ph_catalog_at(o->cat, (size_t)idx) : NULL;
  if (m && m->kind != PH_KIND_MATERIAL)
    return ph_fail(err, PH_EKIND, "%s.material: '%s' is %s %s metric, not a material", where, m->code,
                   m->kind == PH_KIND_EMISSION ? "an" : "a", ph_kind_name(m->kind));
  double qmin = m ? m->min : 0, qmax = m ? m->max : PH_MATERIAL_QTY_MAX;
  if (!is_str(d, dir)) return ph_fail(err, PH_ETYPE, "%s.dir: must be a string", where);
  struct text dt = text_of(d, dir, buf, sizeof buf);
  if (!text_is(dt, "in") && !text_is(dt, "out"))
    return ph_fail(err, PH_EENUM, "%s.dir: '%.*s' is not in|out", where, shown(dt, 16), dt.p);
  r->dir = dt.p[0] == 'o' ? PH_DIR_OUT : PH_DIR_IN;
  if (!is_num(d, qty)) return ph_fail(err, PH_ETYPE, "%s.qty_t: must be a number", where);
  double q = number(d, qty);
  if (!isfinite(q)) return ph_fail(err, PH_ENONFINITE, "%s.qty_t: not a finite number", where);
  if (q < qmin || q > qmax)
    return ph_fail(err, PH_ERANGE, "%s.qty_t: %g t outside the plausible range %g..%g", where, q, qmin, qmax);
  r->qty_t = q;
  if ((rc = get_str(d, f[M_LOT], "lot", r->lot, sizeof r->lot, where, err)) ||
      (rc = get_str(d, f[M_SUPPLIER], "supplier", r->supplier, sizeof r->supplier, where, err)) ||
      (rc = decode_attrs(d, f[M_ATTRS], b, r, where, err)))
    return rc;
  return 0;
}

/* ---- records and batches ----------------------------------------------- */

/* *next: the token after the record (the walk knows it; skip() would search). */
static int decode_record(struct ph_batch *b, const struct doc *d, int rec, const struct ph_decode_opts *o,
                         int *next, const char *where, struct ph_err *err) {
  if (!is_obj(d, rec)) return ph_fail(err, PH_ETYPE, "%s: must be an object", where);
  bool material_shape = member(d, rec, "values") >= 0     ? false
                        : member(d, rec, "material") >= 0 ? true
                                                          : o->kind == PH_KIND_MATERIAL;
  if (material_shape != (o->kind == PH_KIND_MATERIAL))
    return ph_fail(err, PH_EKIND, "%s: a %s record in a %s batch", where, material_shape ? "material" : "measurement",
                   ph_kind_name(o->kind));
  int f[8];
  int rc = scan_fields(d, rec, material_shape ? mat_keys : meas_keys, material_shape ? 5 : 3, o->skip_key, f, next,
                       where, err);
  if (rc) return rc;
  /* decoded in place, in the slot after the last record; counted only when whole (inv. 1).
   * Field by field, not memset: a record is 300 bytes, mostly lot and supplier. */
  if (grow((void **)&b->records, &b->records_cap, b->nrecords + 1, sizeof *b->records))
    return ph_fail(err, PH_ENOMEM, "%s: out of memory", where);
  struct ph_record *r = &b->records[b->nrecords];
  r->ts_ms = 0;
  r->point[0] = '\0';
  r->value_off = (uint32_t)b->nvalues;
  r->nvalues = 0;
  r->state = PH_STATE_NONE;
  r->material[0] = '\0';
  r->dir = PH_DIR_IN;
  r->qty_t = 0;
  r->lot[0] = r->supplier[0] = '\0';
  r->attrs_off = -1;
  if ((rc = get_time(d, f[F_TS], o, &r->ts_ms, true, where, "ts", err)) ||
      (rc = get_id(d, f[F_POINT], r->point, where, "point", err)))
    return rc;
  if (material_shape)
    rc = decode_material(d, f, o, b, r, where, err);
  else
    rc = decode_measurement(d, f, o, b, r, where, err);
  if (rc) return rc;
  b->nrecords++;
  b->nvalues += r->nvalues;
  return 0;
}

/* inv. 1 around one record: undo what a failed record appended to the arena
 * (values and records count only once the record is whole). */
static int add_record(struct ph_batch *b, const struct doc *d, int rec, const struct ph_decode_opts *o, int *next,
                      const char *where, struct ph_err *err) {
  size_t arena_len = b->arena_len;
  int rc = decode_record(b, d, rec, o, next, where, err);
  if (rc) b->arena_len = arena_len;
  return rc;
}

static size_t max_bytes(const struct ph_decode_opts *o) { return o->max_bytes ? o->max_bytes : PH_BATCH_MAX_BYTES; }

/* Runs fn on the text's tokens in o's scratch, or in a temporary one. */
static int with_tokens(const char *text, size_t len, const struct ph_decode_opts *o, const char *origin,
                       int (*fn)(const struct doc *, const struct ph_decode_opts *, void *, struct ph_err *),
                       void *arg, struct ph_err *err) {
  struct ph_batch_scratch tmp, *s = o->scratch;
  if (!s) {
    ph_batch_scratch_init(&tmp);
    s = &tmp;
  }
  struct doc d;
  int rc = tokenize(s, text, len, max_bytes(o) / 2 + 2, origin, &d, err);
  if (!rc) rc = fn(&d, o, arg, err);
  if (s == &tmp) ph_batch_scratch_fini(&tmp);
  return rc;
}

struct record_call {
  struct ph_batch *b;
  const char *where;
};

static int record_fn(const struct doc *d, const struct ph_decode_opts *o, void *arg, struct ph_err *err) {
  struct record_call *c = arg;
  int next;
  return add_record(c->b, d, 0, o, &next, c->where, err);
}

int ph_batch_decode_record(struct ph_batch *b, const char *json, size_t len, const struct ph_decode_opts *o,
                           const char *where, struct ph_err *err) {
  size_t max = max_bytes(o);
  if (len > max) return ph_fail(err, PH_ETOOLARGE, "%s: %zu bytes, more than the %zu allowed", where, len, max);
  struct record_call c = {b, where};
  return with_tokens(json, len, o, where, record_fn, &c, err);
}

static int decode_root(const struct doc *d, const struct ph_decode_opts *o, void *arg, struct ph_err *err) {
  struct ph_batch *b = arg;
  int rc, f[8];
  if (!is_obj(d, 0)) return ph_fail(err, PH_ETYPE, "batch: must be a JSON object");
  read_header(d, b);
  if ((rc = check_object(d, 0, batch_keys, f, "batch", err))) return rc;
  for (int k = 0; batch_keys[k].s; k++)
    if (f[k] < 0) return ph_fail(err, PH_EMISSING, "batch: missing required field '%s'", batch_keys[k].s);
  enum { B_V, B_AGENT, B_EPOCH, B_SEQ, B_OLDEST, B_SENT, B_RECORDS };
  if (!is_num(d, f[B_V])) return ph_fail(err, PH_ETYPE, "batch.v: must be a number");
  double v = number(d, f[B_V]);
  if (v != PH_BATCH_VERSION)
    return ph_fail(err, PH_EVERSION, "batch.v: version %g is not supported (this hub speaks %d)", v,
                   PH_BATCH_VERSION);
  if ((rc = get_id(d, f[B_AGENT], b->agent, "batch", "agent", err)) ||
      (rc = get_seqnum(d, f[B_EPOCH], &b->epoch, "epoch", err)) ||
      (rc = get_seqnum(d, f[B_SEQ], &b->seq, "seq", err)) ||
      (rc = get_seqnum(d, f[B_OLDEST], &b->oldest, "oldest", err)))
    return rc;
  if (b->oldest > b->seq)
    return ph_fail(err, PH_ESEQ, "batch.oldest: %lld is after seq %lld", (long long)b->oldest, (long long)b->seq);
  if ((rc = get_time(d, f[B_SENT], o, &b->sent_ms, false, "batch", "sent", err))) return rc;
  int recs = f[B_RECORDS];
  if (d->t[recs].type != JSMN_ARRAY) return ph_fail(err, PH_ETYPE, "batch.records: must be an array");
  int n = d->t[recs].size;
  size_t max = o->max_records ? o->max_records : PH_BATCH_MAX_RECORDS;
  if (n == 0) return ph_fail(err, PH_EEMPTY, "batch.records: no records");
  if ((size_t)n > max) return ph_fail(err, PH_ETOOMANY, "batch.records: %d records, more than %zu", n, max);
  int it = recs + 1;
  for (int i = 0; i < n; i++) {
    char where[32] = "records[", *w = where + 8, digits[12];
    int nd = 0, idx = i;
    do digits[nd++] = (char)('0' + idx % 10); while ((idx /= 10) && nd < 11);
    while (nd) *w++ = digits[--nd];
    *w++ = ']';
    *w = '\0';
    if ((rc = add_record(b, d, it, o, &it, where, err))) return rc;
  }
  return 0;
}

int ph_batch_decode(const char *buf, size_t len, const struct ph_decode_opts *o, struct ph_batch *b,
                    struct ph_err *err) {
  ph_batch_reset(b, o->kind);
  size_t max = max_bytes(o);
  if (len > max) return ph_fail(err, PH_ETOOLARGE, "batch: %zu bytes, more than the %zu allowed", len, max);
  int rc = with_tokens(buf, len, o, "batch", decode_root, b, err);
  if (rc) b->nrecords = b->nvalues = b->arena_len = 0;
  return rc;
}
