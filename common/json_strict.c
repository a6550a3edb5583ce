/* json_strict.c — strict JSON for the batch decoder (json_strict.h): jsmn
 * cuts the text into tokens, then one pass checks what jsmn leaves
 * unchecked; string escapes are decoded here too.
 *
 * Callers: batch_decode.c (every batch and every record line). Threads:
 * none of its own; the scratch belongs to the calling thread. Owns nothing:
 * tokens live in the caller's struct ph_batch_scratch.
 *
 * How: jsmn (Debian's libjsmn-dev, header-only, in strict mode with parent
 * links; its functions are compiled into this file alone) checks brackets,
 * string escapes and which characters may start a value, and nothing else,
 * so check_syntax() then checks the rest of the JSON grammar in one pass
 * over the tokens: the separators between tokens, that every primitive is
 * exactly true, false, null or a JSON number, strings (no raw control
 * characters, no lone surrogates), the nesting depth and a single root.
 *
 * Invariants (batch_decode.c inv. 3 and 4 rest on them):
 *  1. A syntax fault anywhere in the text is PH_EJSON with its line and
 *     column, found before the decoder looks at any value.
 *  2. jsmn never writes past the scratch: it is told the capacity, which
 *     grows up to max_tokens; a text that needs more is PH_ETOOLARGE.
 *  3. After json_tokenize returns 0 the tokens are well-formed JSON: every
 *     string token that holds a backslash is marked TOK_ESCAPED, and
 *     json_unescape may assume valid escapes.
 */
#define JSMN_STATIC
#include "json_strict.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"

static void line_col(const char *js, size_t at, int *line, int *col) {
  *line = 1;
  *col = 1;
  for (size_t i = 0; i < at; i++) {
    if (js[i] == '\n') {
      (*line)++;
      *col = 1;
    } else {
      (*col)++;
    }
  }
}

int json_fail(const char *js, size_t at, const char *origin, const char *why, struct ph_err *err) {
  int line, col;
  line_col(js, at, &line, &col);
  return ph_fail(err, PH_EJSON, "%s: not valid JSON near line %d column %d: %s", origin, line, col, why);
}

/* RFC 8259 §6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static bool number_ok(const char *s, const char *e) {
  if (s < e && *s == '-') s++;
  if (s == e || !is_digit(*s)) return false;
  if (*s++ != '0')
    while (s < e && is_digit(*s)) s++;
  if (s < e && *s == '.') {
    const char *d = ++s;
    while (s < e && is_digit(*s)) s++;
    if (s == d) return false;
  }
  if (s < e && (*s == 'e' || *s == 'E')) {
    s++;
    if (s < e && (*s == '+' || *s == '-')) s++;
    const char *d = s;
    while (s < e && is_digit(*s)) s++;
    if (s == d) return false;
  }
  return s == e;
}

/* jsmn's strict mode only checks a primitive's first character (-, a digit, t, f, n). */
static bool primitive_ok(const char *s, size_t n) {
  switch (s[0]) {
    case 't': return n == 4 && memcmp(s, "true", 4) == 0;
    case 'f': return n == 5 && memcmp(s, "false", 5) == 0;
    case 'n': return n == 4 && memcmp(s, "null", 4) == 0;
    default: return number_ok(s, s + n);
  }
}

static unsigned hex4(const char *s) {
  unsigned u = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    u = u * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  return u;
}

static bool low_surrogate_at(const char *s, size_t k, size_t n, unsigned *lo) {
  if (k + 6 > n || s[k] != '\\' || s[k + 1] != 'u') return false;
  *lo = hex4(s + k + 2);
  return *lo >= 0xDC00 && *lo <= 0xDFFF;
}

/* A string's bytes: no raw control character (RFC 8259 §7) and no lone
 * surrogate in a \u escape (cJSON refused those too). jsmn has checked the
 * escape letters and that each \u has four hex digits. */
static const char *string_fault(const char *s, size_t n, bool *escaped) {
  for (size_t k = 0; k < n; k++) {
    unsigned char c = (unsigned char)s[k];
    if (c < 0x20) return "a control character in a string must be escaped";
    if (c != '\\') continue;
    *escaped = true;
    if (s[++k] != 'u') continue;
    unsigned u = hex4(s + k + 1), lo;
    k += 4;
    if (u >= 0xDC00 && u <= 0xDFFF) return "a \\u escape is a lone low surrogate";
    if (u >= 0xD800 && u <= 0xDBFF) {
      if (!low_surrogate_at(s, k + 1, n, &lo)) return "a \\u escape is a high surrogate without its low one";
      k += 6;
    }
  }
  return NULL;
}

static size_t put_utf8(char *dst, size_t at, size_t cap, unsigned cp) {
  char b[4];
  size_t n;
  if (cp < 0x80) {
    b[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    b[0] = (char)(0xC0 | cp >> 6);
    b[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    b[0] = (char)(0xE0 | cp >> 12);
    b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
    b[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    b[0] = (char)(0xF0 | cp >> 18);
    b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    b[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    b[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  for (size_t i = 0; i < n; i++, at++)
    if (at + 1 < cap) dst[at] = b[i];
  return at;
}

/* Unescapes a string that check_syntax() accepted into dst (cap > 0 bytes,
 * always NUL-terminated, cut at cap - 1); returns the full length. */
size_t json_unescape(const char *s, size_t n, char *dst, size_t cap) {
  size_t o = 0;
  for (size_t k = 0; k < n; k++) {
    char c = s[k];
    if (c == '\\') {
      c = s[++k];
      switch (c) {
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u': {
          unsigned cp = hex4(s + k + 1), lo;
          k += 4;
          if (cp >= 0xD800 && cp <= 0xDBFF && low_surrogate_at(s, k + 1, n, &lo)) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            k += 6;
          }
          o = put_utf8(dst, o, cap, cp);
          continue;
        }
        default: break; /* " \ / stand for themselves */
      }
    }
    if (o + 1 < cap) dst[o] = c;
    o++;
  }
  dst[o < cap ? o : cap - 1] = '\0';
  return o;
}

/* ---- syntax: what jsmn leaves unchecked ----------------------------------- */

/* Every token in document order: the bytes between the previous token and
 * this one must be white space, then closing brackets (each followed by
 * white space) and then the separator this token needs: none for the first
 * child of an object or array, ':' for a key's value, ',' for a later
 * member. After the last token, only closing brackets and white space up to
 * where jsmn stopped (the end, or a NUL byte), then white space or NULs. */
static int check_syntax(const struct doc *d, size_t stop, size_t len, const char *origin, struct ph_err *err) {
  jsmntok_t *t = d->t;
  const char *js = d->js;
  size_t at = 0; /* just after the previous token */
  int depth = 0;
  for (int i = 0; i < d->n; i++) {
    jsmntok_t *k = &t[i];
    size_t open = (size_t)(k->type == JSMN_STRING ? k->start - 1 : k->start); /* not yet marked */
    int p = k->parent;
    char want = 0;
    if (i > 0) {
      if (p < 0) return json_fail(js, open, origin, "trailing data after the JSON value", err);
      /* jsmn makes a token after ':' the child of the token before it */
      int pt = type_of(&t[p]);
      if (pt == JSMN_PRIMITIVE || (pt == JSMN_STRING && (t[p].parent < 0 || t[t[p].parent].type != JSMN_OBJECT)))
        return json_fail(js, open, origin, "a ':' that follows no key", err);
      if (pt == JSMN_STRING && p != i - 1) return json_fail(js, open, origin, "expected ','", err);
      want = pt == JSMN_STRING ? ':' : p == i - 1 ? 0 : ',';
      if (t[p].type == JSMN_OBJECT && (k->type != JSMN_STRING || k->size != 1))
        return json_fail(js, open, origin, "an object member needs a string key, ':' and a value", err);
    }
    /* compact JSON: nothing, or just the separator, between the two tokens */
    if (!(want ? open == at + 1 && js[at] == want : open == at)) {
      size_t q = at;
      while (q < open && is_ws(js[q])) q++;
      if (want == ',')
        while (q < open && (js[q] == ']' || js[q] == '}')) {
          depth--;
          q++;
          while (q < open && is_ws(js[q])) q++;
        }
      if (want) {
        if (q == open || js[q] != want)
          return json_fail(js, q, origin, want == ':' ? "expected ':'" : "expected ','", err);
        q++;
        while (q < open && is_ws(js[q])) q++;
      }
      if (q != open) return json_fail(js, q, origin, "unexpected character", err);
    }
    size_t n = (size_t)(k->end - k->start);
    const char *why;
    switch (k->type) {
      case JSMN_PRIMITIVE:
        if (!primitive_ok(js + k->start, n))
          return json_fail(js, open, origin, "not a number, true, false or null", err);
        at = (size_t)k->end;
        break;
      case JSMN_STRING: {
        bool escaped = false;
        if ((why = string_fault(js + k->start, n, &escaped))) return json_fail(js, open, origin, why, err);
        if (escaped) k->type = (jsmntype_t)(k->type | TOK_ESCAPED);
        at = (size_t)k->end + 1;
        break;
      }
      default:
        if (++depth > PH_JSON_MAX_DEPTH) {
          char why_depth[64];
          snprintf(why_depth, sizeof why_depth, "nested deeper than %d", PH_JSON_MAX_DEPTH);
          return json_fail(js, open, origin, why_depth, err);
        }
        at = (size_t)k->start + 1;
        break;
    }
  }
  for (; at < stop; at++)
    if (!is_ws(js[at]) && js[at] != ']' && js[at] != '}')
      return json_fail(js, at, origin, "trailing data after the JSON value", err);
  for (; at < len; at++)
    if (!is_ws(js[at]) && js[at] != '\0') return json_fail(js, at, origin, "trailing data after the JSON value", err);
  return 0;
}

/* Tokenizes text into s (grown up to max_tokens) and checks its syntax. */
int json_tokenize(struct ph_batch_scratch *s, const char *text, size_t len, size_t max_tokens, const char *origin,
                  struct doc *d, struct ph_err *err) {
  jsmn_parser p;
  jsmn_init(&p);
  int r;
  /* jsmn resumes where it stopped after JSMN_ERROR_NOMEM (it keeps indices, not pointers) */
  while ((r = jsmn_parse(&p, text, len, s->tok, (unsigned)(s->cap < max_tokens ? s->cap : max_tokens))) ==
         JSMN_ERROR_NOMEM) {
    if (s->cap >= max_tokens)
      return ph_fail(err, PH_ETOOLARGE, "%s: more than %zu JSON tokens in %zu bytes", origin, max_tokens, len);
    size_t cap = s->cap * 2 < max_tokens ? s->cap * 2 : max_tokens;
    void *bigger = ph_realloc(s->tok, cap * sizeof(jsmntok_t));
    if (!bigger) return ph_fail(err, PH_ENOMEM, "%s: out of memory", origin);
    s->tok = bigger;
    s->cap = cap;
  }
  jsmntok_t *t = s->tok;
  d->js = text;
  d->t = t;
  d->n = (int)p.toknext;
  size_t stop = p.pos;
  if (r == JSMN_ERROR_PART && p.toknext == 0) {
    /* Strict jsmn wants a delimiter after a primitive even at the end of
     * the text; a lone top-level primitive is still JSON (not an object,
     * which the caller refuses as PH_ETYPE, as it did after cJSON). */
    size_t e = p.pos;
    while (e < len && text[e] > ' ' && text[e] != ',' && text[e] != ']' && text[e] != '}') e++;
    if (e > p.pos && primitive_ok(text + p.pos, e - p.pos)) {
      t[0] = (jsmntok_t){.type = JSMN_PRIMITIVE, .start = (int)p.pos, .end = (int)e, .size = 0, .parent = -1};
      d->n = 1;
      stop = e;
      r = 1;
    }
  }
  if (r == JSMN_ERROR_PART) return json_fail(text, p.pos, origin, "the text ends inside a value", err);
  if (r < 0) return json_fail(text, p.pos, origin, "unexpected character", err);
  if (d->n == 0) return json_fail(text, stop, origin, "no value", err);
  return check_syntax(d, stop, len, origin, err);
}
