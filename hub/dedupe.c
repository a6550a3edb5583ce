/* dedupe.c — exactly-once bookkeeping per (agent, epoch) (dedupe.h).
 * Callers: writer.c. Threads: the writer only. */
#include "parkhub/dedupe.h"

#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "parkhub/err.h"
#include "parkhub/idmap.h"

struct ph_dedupe {
  struct ph_stream **streams;
  size_t n, cap;
  struct ph_idmap by_key;   /* "agent/epoch" → index */
  struct ph_idmap latest;   /* "agent" → highest epoch seen */
};

int ph_dedupe_new(struct ph_dedupe **out) {
  struct ph_dedupe *d = ph_calloc(1, sizeof *d);
  if (!d) return PH_ENOMEM;
  ph_idmap_init(&d->by_key);
  ph_idmap_init(&d->latest);
  *out = d;
  return 0;
}

void ph_dedupe_reset(struct ph_dedupe *d) {
  for (size_t i = 0; i < d->n; i++) {
    ph_free(d->streams[i]->above);
    ph_free(d->streams[i]);
  }
  d->n = 0;
  ph_idmap_fini(&d->by_key);
  ph_idmap_fini(&d->latest);
  ph_idmap_init(&d->by_key);
  ph_idmap_init(&d->latest);
}

void ph_dedupe_free(struct ph_dedupe *d) {
  if (!d) return;
  ph_dedupe_reset(d);
  ph_idmap_fini(&d->by_key);
  ph_idmap_fini(&d->latest);
  ph_free(d->streams);
  ph_free(d);
}

static struct ph_stream *get(struct ph_dedupe *d, int64_t agent_id, int64_t epoch, bool create, bool *created) {
  char key[48];
  int len = snprintf(key, sizeof key, "%lld/%lld", (long long)agent_id, (long long)epoch);
  int64_t idx;
  if (created) *created = false;
  if (ph_idmap_get(&d->by_key, key, (size_t)len, &idx)) return d->streams[idx];
  if (!create) return NULL;
  if (d->n == d->cap) {
    size_t ncap = d->cap ? d->cap * 2 : 64;
    struct ph_stream **p = ph_realloc(d->streams, ncap * sizeof *p);
    if (!p) return NULL;
    d->streams = p;
    d->cap = ncap;
  }
  struct ph_stream *s = ph_calloc(1, sizeof *s);
  if (!s || ph_idmap_put(&d->by_key, key, (size_t)len, (int64_t)d->n)) {
    ph_free(s);
    return NULL;
  }
  s->agent_id = agent_id;
  s->epoch = epoch;
  d->streams[d->n++] = s;
  if (created) *created = true;
  return s;
}

/* Returns the previous highest epoch of the agent (0: none) and records epoch. */
static int64_t note_epoch(struct ph_dedupe *d, int64_t agent_id, int64_t epoch) {
  char key[24];
  int len = snprintf(key, sizeof key, "%lld", (long long)agent_id);
  int64_t prev = 0;
  ph_idmap_get(&d->latest, key, (size_t)len, &prev);
  if (epoch > prev) ph_idmap_put(&d->latest, key, (size_t)len, epoch);
  return prev;
}

static size_t lower_bound(const struct ph_stream *s, int64_t seq) {
  size_t lo = 0, hi = s->nabove;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (s->above[mid] < seq)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static int above_insert(struct ph_stream *s, int64_t seq) {
  if (s->nabove == s->cap) {
    size_t ncap = s->cap ? s->cap * 2 : 16;
    int64_t *p = ph_realloc(s->above, ncap * sizeof *p);
    if (!p) return PH_ENOMEM;
    s->above = p;
    s->cap = ncap;
  }
  size_t i = lower_bound(s, seq);
  memmove(s->above + i + 1, s->above + i, (s->nabove - i) * sizeof *s->above);
  s->above[i] = seq;
  s->nabove++;
  return 0;
}

/* Moves upto over every consecutive seq held above it. */
static void absorb(struct ph_stream *s) {
  size_t k = 0;
  while (k < s->nabove && s->above[k] <= s->upto + 1) {
    if (s->above[k] == s->upto + 1) s->upto++;
    k++;
  }
  if (k) {
    memmove(s->above, s->above + k, (s->nabove - k) * sizeof *s->above);
    s->nabove -= k;
  }
}

void ph_dedupe_load(void *u, int64_t agent_id, int64_t epoch, int64_t seq, int above) {
  struct ph_dedupe *d = u;
  struct ph_stream *s = get(d, agent_id, epoch, true, NULL);
  if (!s) return;
  note_epoch(d, agent_id, epoch);
  if (!above) {
    s->upto = seq;
    absorb(s); /* rows saved while upto was lower are not "above" any more */
  } else if (seq > s->upto) {
    above_insert(s, seq);
  }
}

/* inv. 2: the seqs in [upto+1, oldest-1] not held above are lost. */
static void declare_gap(struct ph_stream *s, int64_t oldest, struct ph_dedupe_result *r) {
  int64_t from = s->upto + 1;
  for (size_t k = 0; k < s->nabove && s->above[k] < oldest; k++) {
    if (s->above[k] > from && r->ngaps < 8) {
      r->gaps[r->ngaps][0] = from;
      r->gaps[r->ngaps++][1] = s->above[k] - 1;
    }
    from = s->above[k] + 1;
  }
  if (from <= oldest - 1 && r->ngaps < 8) {
    r->gaps[r->ngaps][0] = from;
    r->gaps[r->ngaps++][1] = oldest - 1;
  }
  s->upto = oldest - 1;
  absorb(s);
}

int ph_dedupe_check(struct ph_dedupe *d, int64_t agent_id, int64_t epoch, int64_t seq, int64_t oldest,
                    struct ph_dedupe_result *r) {
  memset(r, 0, sizeof *r);
  bool created;
  struct ph_stream *s = get(d, agent_id, epoch, true, &created);
  if (!s) return PH_ENOMEM;
  r->stream = s;
  if (created) {
    r->new_stream = true;
    int64_t prev = note_epoch(d, agent_id, epoch);
    r->reinstall = prev != 0 && prev != epoch;
  }
  s->ack_pending = true; /* new or duplicate: the agent is told where we are */
  if (oldest > s->upto + 1) declare_gap(s, oldest, r);
  if (seq <= s->upto) {
    r->verdict = PH_DEDUPE_DUP;
  } else {
    size_t i = lower_bound(s, seq);
    if (i < s->nabove && s->above[i] == seq) {
      r->verdict = PH_DEDUPE_DUP;
    } else if (seq == s->upto + 1) {
      s->upto = seq;
      absorb(s);
      r->verdict = PH_DEDUPE_NEW;
    } else if (s->nabove >= PH_DEDUPE_MAX_ABOVE) {
      r->verdict = PH_DEDUPE_DEFER; /* the agent resends it once the hole is filled */
    } else {
      if (above_insert(s, seq)) return PH_ENOMEM;
      r->verdict = PH_DEDUPE_NEW;
      r->above = true;
    }
  }
  if (r->verdict == PH_DEDUPE_NEW) s->batches++;
  if (r->verdict == PH_DEDUPE_DUP) s->duplicates++;
  s->dirty = true;
  return 0;
}

size_t ph_dedupe_count(const struct ph_dedupe *d) { return d->n; }
struct ph_stream *ph_dedupe_at(struct ph_dedupe *d, size_t i) { return i < d->n ? d->streams[i] : NULL; }
