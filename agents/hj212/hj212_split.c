/* hj212_split.c — assembles a split message (HJ 212 §6.3.2: Flag bit D,
 * PNUM total parts, PNO this part) from its parts, which may come in any
 * order and, in the field, with PNO before PNUM (hj212.h).
 *
 * Callers: src_hj212.c (one assembler per slot of a bounded pool, lent to
 * a connection while it sends a split message), hj212_dump.c, the tests
 * and the fuzz target. Threads: none; an assembler belongs to one thread.
 * Owns: its one buffer (2 * cap bytes, allocated at init).
 *
 * States:
 *
 *   IDLE ──part of a new message──> BUSY ──last missing part──> (DONE) IDLE
 *    ^                               │ part of another message: the old one is dropped, the new one starts
 *    └──────── refused part, timeout, reset ─┘
 *
 *   from → to          function
 *   IDLE → BUSY        ph_hj212_asm_add (HELD)
 *   BUSY → IDLE        ph_hj212_asm_add (DONE, or a refusal), ph_hj212_asm_expire, ph_hj212_asm_reset
 *
 * A message is known by (MN, QN, CN, PNUM): parts of one message share
 * them (the standard's split example sends PNO 1 and 2 of one QN).
 *
 * Invariants (hj212.h inv. 6):
 *  1. at most max_parts parts and cap bytes of data area are held; a part
 *     that would pass either refuses the whole message (its parts are
 *     dropped), so memory never grows past the buffer given at init.
 *  2. the assembled data area holds every part's pairs once, in PNO
 *     order; a part sent again replaces nothing (the first copy counts).
 *  3. a message is never completed from parts of two messages.
 */
#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "hj212/hj212.h"

#define ASM_MAX_CAP (1u << 20)

int ph_hj212_asm_init(struct ph_hj212_asm *a, size_t cap, int max_parts) {
  memset(a, 0, sizeof *a);
  if (cap < 1 || cap > ASM_MAX_CAP || max_parts < 2 || max_parts > PH_HJ212_SPLIT_MAX_PARTS) return PH_EINVAL;
  if (!(a->buf = ph_malloc(2 * cap))) return PH_ENOMEM;
  a->cap = cap;
  a->max_parts = max_parts;
  return 0;
}

void ph_hj212_asm_fini(struct ph_hj212_asm *a) {
  if (!a) return;
  ph_free(a->buf);
  memset(a, 0, sizeof *a);
}

static void clear(struct ph_hj212_asm *a) {
  a->busy = a->have_head = false;
  a->got = 0;
  a->used = 0;
  a->pnum = 0;
}

int ph_hj212_asm_reset(struct ph_hj212_asm *a) {
  bool was = a->busy;
  if (was) a->st.dropped++;
  clear(a);
  return was ? 1 : 0;
}

static bool same_message(const struct ph_hj212_asm *a, const struct ph_hj212_packet *p) {
  return a->busy && a->cn == p->cn && a->pnum == p->pnum && strcmp(a->mn, p->mn) == 0 && strcmp(a->qn, p->qn) == 0;
}

static int refuse(struct ph_hj212_asm *a, struct ph_err *err, int code, const char *why) {
  if (a->busy) a->st.dropped++;
  clear(a);
  return ph_fail(err, code, "%s", why);
}

/* The value of a "DataTime=" pair at the start of cp (its first pair), or NULL. */
static const char *leading_time(const char *cp, size_t len, size_t *vl) {
  if (len < 9 || memcmp(cp, "DataTime=", 9) != 0) return NULL;
  size_t n = 9;
  while (n < len && cp[n] != ';' && cp[n] != ',') n++;
  *vl = n - 9;
  return cp + 9;
}

/* Joins the parts into the second half of buf; 0 or a refusal. */
static int assemble(struct ph_hj212_asm *a, struct ph_err *err) {
  char *out = a->buf + a->cap;
  size_t n = 0;
  const char *t0 = NULL;
  size_t t0l = 0;
  for (int k = 0; k < a->pnum; k++) {
    const char *cp = a->buf + a->part[k].off;
    size_t len = a->part[k].len;
    size_t tl;
    const char *t = leading_time(cp, len, &tl);
    if (t && !t0) {
      t0 = t;
      t0l = tl;
    } else if (t) {
      if (tl != t0l || memcmp(t, t0, tl) != 0) {
        char why[128];
        snprintf(why, sizeof why, "split message: part %d has DataTime %.*s, another part %.*s", k + 1,
                 (int)(tl > 20 ? 20 : tl), t, (int)(t0l > 20 ? 20 : t0l), t0);
        return refuse(a, err, PH_ETIME, why);
      }
      cp += 9 + tl; /* drop the repeated DataTime and its separator */
      len -= 9 + tl;
      if (len) {
        cp++;
        len--;
      }
    }
    if (!len) continue;
    if (n + len + 1 > a->cap) return refuse(a, err, PH_ETOOLARGE, "split message: assembled data area over the cap");
    if (n) out[n++] = ';';
    memcpy(out + n, cp, len);
    n += len;
  }
  a->used = n; /* the assembled length, for the caller's packet */
  return 0;
}

int ph_hj212_asm_add(struct ph_hj212_asm *a, const struct ph_hj212_packet *p, int64_t now_ms,
                     struct ph_hj212_packet *whole, bool *superseded, struct ph_err *err) {
  if (superseded) *superseded = false;
  char why[160];
  if (p->pnum < 2 || p->pno < 1 || p->pno > p->pnum) return ph_fail(err, PH_EINVAL, "not a part of a split message");
  if (p->pnum > a->max_parts) {
    snprintf(why, sizeof why, "split message of %d parts: more than the %d this agent assembles", p->pnum,
             a->max_parts);
    if (same_message(a, p)) return refuse(a, err, PH_ETOOMANY, why);
    return ph_fail(err, PH_ETOOMANY, "%s", why);
  }
  if (a->busy && !same_message(a, p)) { /* inv. 3 */
    a->st.dropped++;
    clear(a);
    if (superseded) *superseded = true;
  }
  if (!a->busy) {
    a->busy = true;
    a->cn = p->cn;
    a->pnum = p->pnum;
    snprintf(a->mn, sizeof a->mn, "%s", p->mn);
    snprintf(a->qn, sizeof a->qn, "%s", p->qn);
    a->started_ms = now_ms;
    a->got = 0;
    a->used = 0;
    a->have_head = false;
    a->st.messages++;
  }
  uint64_t bit = 1ull << (p->pno - 1);
  a->st.parts++;
  if (!(a->got & bit)) { /* inv. 2: a resent part adds nothing */
    if (a->used + p->cp_len > a->cap) {
      snprintf(why, sizeof why, "split message: parts over %zu bytes of data area", a->cap);
      return refuse(a, err, PH_ETOOLARGE, why);
    }
    memcpy(a->buf + a->used, p->cp, p->cp_len);
    a->part[p->pno - 1].off = (uint32_t)a->used;
    a->part[p->pno - 1].len = (uint32_t)p->cp_len;
    a->used += p->cp_len;
    a->got |= bit;
    if (p->pno == 1 || !a->have_head) {
      a->head = *p;
      a->have_head = true;
    }
  }
  uint64_t all = a->pnum == 64 ? ~0ull : (1ull << a->pnum) - 1;
  if (a->got != all) return PH_HJ212_ASM_HELD;
  int rc = assemble(a, err);
  if (rc) return rc;
  *whole = a->head;
  whole->cp = a->buf + a->cap;
  whole->cp_len = a->used;
  whole->pno = 0;
  a->busy = false; /* the buffer stays valid until the next call */
  a->got = 0;
  a->have_head = false;
  return PH_HJ212_ASM_DONE;
}

int ph_hj212_asm_expire(struct ph_hj212_asm *a, int64_t now_ms, int64_t timeout_ms, struct ph_err *err) {
  if (!a->busy || now_ms - a->started_ms <= timeout_ms) return 0;
  char missing[96] = "";
  size_t n = 0;
  for (int k = 0; k < a->pnum && n + 8 < sizeof missing; k++)
    if (!(a->got & (1ull << k))) n += (size_t)snprintf(missing + n, sizeof missing - n, "%s%d", n ? "," : "", k + 1);
  ph_fail(err, PH_ETIMEOUT, "split message MN %s QN %s CN %d: part(s) %s of %d missing after %lld s: dropped", a->mn,
          a->qn[0] ? a->qn : "-", a->cn, missing, a->pnum, (long long)(timeout_ms / 1000));
  a->st.timeouts++;
  a->st.dropped++;
  clear(a);
  return 1;
}
