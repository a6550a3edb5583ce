/* json_strict.h — strict JSON tokens for the batch decoder, private to
 * common/ (json_strict.c tokenizes and checks; batch_decode.c walks the
 * tokens). The agent reaches it only through ph_batch_decode.
 *
 * Threads: none of its own. Memory: tokens live in the caller's
 * struct ph_batch_scratch; a struct doc borrows them and the text.
 */
#ifndef PH_COMMON_JSON_STRICT_H
#define PH_COMMON_JSON_STRICT_H

/* Both files must see the same jsmntok_t (parent links); only json_strict.c
 * (JSMN_STATIC) compiles jsmn's functions, the decoder needs its types. */
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#ifndef JSMN_STATIC
#define JSMN_HEADER
#endif
#include <jsmn.h>

#include <stdbool.h>
#include <stddef.h>

#include "parkhub/batch.h"
#include "parkhub/err.h"

/* A tokenized text. */
struct doc {
  const char *js; /* the text (after a UTF-8 BOM, if it had one) */
  jsmntok_t *t;
  int n; /* tokens */
};

/* json_tokenize adds this to the type of a string token that holds a
 * backslash, so that reading a string without one needs no scan. */
#define TOK_ESCAPED 8
static inline int type_of(const jsmntok_t *t) { return (int)t->type & ~TOK_ESCAPED; }

static inline bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
static inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* PH_EJSON "<origin>: not valid JSON near line L column C: <why>". */
int json_fail(const char *js, size_t at, const char *origin, const char *why, struct ph_err *err);

/* Tokenizes text (len bytes, no BOM, len <= INT_MAX / 2) into s, growing
 * s->tok up to max_tokens, and checks the whole JSON grammar. 0 and *d set;
 * PH_EJSON (with where), PH_ETOOLARGE, PH_ENOMEM. */
int json_tokenize(struct ph_batch_scratch *s, const char *text, size_t len, size_t max_tokens, const char *origin,
                  struct doc *d, struct ph_err *err);

/* Unescapes a string token's bytes s[0..n) that json_tokenize accepted into
 * dst (cap > 0 bytes, cut at cap - 1 and NUL-ended); returns the full
 * unescaped length. */
size_t json_unescape(const char *s, size_t n, char *dst, size_t cap);

#endif
