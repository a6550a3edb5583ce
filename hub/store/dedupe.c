/* dedupe.c — exactly-once bookkeeping per (agent, epoch) (dedupe.h).
 *
 * Callers: writer.c (and its loader, store.c). Threads: the writer only.
 * Owns: the streams in memory (a dense array indexed by "agent/epoch"),
 * and per agent a list of its streams and its highest epoch seen.
 *
 * A stream's life in memory:
 *
 *   (db only) ──check / load──→ in memory ──trim (idle, past the per-agent
 *       ↑                                     bound, least recently used)──┐
 *       └────────────────────────────────────────────────────────────────────┘
 *
 *   idle = neither dirty (saved at the next commit) nor ack_pending.
 */
#include "store/dedupe.h"

#include <stdio.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "parkhub/err.h"
#include "ingest/idmap.h"

struct agent_st {
  int64_t agent_id, latest; /* latest: highest epoch seen (0: none) */
  struct ph_stream *streams; /* its streams in memory, via next_of_agent */
  size_t n;
  bool over; /* listed in over[]: it held more than PH_DEDUPE_EPOCHS streams */
};

struct ph_dedupe {
  struct ph_stream **streams;
  size_t n, cap;
  struct ph_idmap by_key;    /* "agent/epoch" → index in streams */
  struct agent_st *agents;
  size_t nagents, agents_cap;
  struct ph_idmap agent_idx; /* "agent" → index in agents */
  size_t *over;              /* agents that may have streams to release (ph_dedupe_trim looks only at these) */
  size_t nover, over_cap;
  uint64_t tick, released;
  ph_dedupe_loader loader;
  void *loader_ctx;
};

int ph_dedupe_new(struct ph_dedupe **out) {
  struct ph_dedupe *d = ph_calloc(1, sizeof *d);
  if (!d) return PH_ENOMEM;
  ph_idmap_init(&d->by_key);
  ph_idmap_init(&d->agent_idx);
  *out = d;
  return 0;
}

void ph_dedupe_reset(struct ph_dedupe *d) {
  for (size_t i = 0; i < d->n; i++) {
    ph_free(d->streams[i]->above);
    ph_free(d->streams[i]);
  }
  d->n = 0;
  d->nagents = 0;
  d->nover = 0;
  ph_idmap_fini(&d->by_key);
  ph_idmap_fini(&d->agent_idx);
  ph_idmap_init(&d->by_key);
  ph_idmap_init(&d->agent_idx);
}

void ph_dedupe_free(struct ph_dedupe *d) {
  if (!d) return;
  ph_dedupe_reset(d);
  ph_free(d->streams);
  ph_free(d->agents);
  ph_free(d->over);
  ph_free(d);
}

void ph_dedupe_set_loader(struct ph_dedupe *d, ph_dedupe_loader fn, void *ctx) {
  d->loader = fn;
  d->loader_ctx = ctx;
}

static int stream_key(char *key, size_t cap, int64_t agent_id, int64_t epoch) {
  return snprintf(key, cap, "%lld/%lld", (long long)agent_id, (long long)epoch);
}

static struct ph_stream *find(const struct ph_dedupe *d, int64_t agent_id, int64_t epoch) {
  char key[48];
  int len = stream_key(key, sizeof key, agent_id, epoch);
  int64_t idx;
  return ph_idmap_get(&d->by_key, key, (size_t)len, &idx) ? d->streams[idx] : NULL;
}

static struct agent_st *agent_of(struct ph_dedupe *d, int64_t agent_id, bool create) {
  char key[24];
  int len = snprintf(key, sizeof key, "%lld", (long long)agent_id);
  int64_t idx;
  if (ph_idmap_get(&d->agent_idx, key, (size_t)len, &idx)) return &d->agents[idx];
  if (!create) return NULL;
  if (d->nagents == d->agents_cap) {
    size_t ncap = d->agents_cap ? d->agents_cap * 2 : 64;
    struct agent_st *p = ph_realloc(d->agents, ncap * sizeof *p);
    if (!p) return NULL;
    d->agents = p;
    d->agents_cap = ncap;
  }
  if (ph_idmap_put(&d->agent_idx, key, (size_t)len, (int64_t)d->nagents)) return NULL;
  struct agent_st *a = &d->agents[d->nagents++];
  *a = (struct agent_st){.agent_id = agent_id};
  return a;
}

static struct ph_stream *create(struct ph_dedupe *d, struct agent_st *a, int64_t epoch) {
  char key[48];
  int len = stream_key(key, sizeof key, a->agent_id, epoch);
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
  s->agent_id = a->agent_id;
  s->epoch = epoch;
  s->used = ++d->tick;
  s->next_of_agent = a->streams;
  a->streams = s;
  a->n++;
  d->streams[d->n++] = s;
  if (a->n > PH_DEDUPE_EPOCHS && !a->over) { /* listed for ph_dedupe_trim (unlisted on no memory: kept) */
    if (d->nover == d->over_cap) {
      size_t ncap = d->over_cap ? d->over_cap * 2 : 16;
      size_t *p = ph_realloc(d->over, ncap * sizeof *p);
      if (p) d->over = p, d->over_cap = ncap;
    }
    if (d->nover < d->over_cap) {
      d->over[d->nover++] = (size_t)(a - d->agents);
      a->over = true;
    }
  }
  return s;
}

/* Frees s (in memory only: the database keeps its row). */
static void release(struct ph_dedupe *d, struct agent_st *a, struct ph_stream *s) {
  for (struct ph_stream **pp = &a->streams; *pp; pp = &(*pp)->next_of_agent)
    if (*pp == s) {
      *pp = s->next_of_agent;
      a->n--;
      break;
    }
  char key[48];
  int len = stream_key(key, sizeof key, s->agent_id, s->epoch);
  int64_t idx = 0;
  ph_idmap_get(&d->by_key, key, (size_t)len, &idx);
  ph_idmap_del(&d->by_key, key, (size_t)len);
  if ((size_t)idx != d->n - 1) { /* the last one moves into its place */
    struct ph_stream *moved = d->streams[d->n - 1];
    d->streams[idx] = moved;
    len = stream_key(key, sizeof key, moved->agent_id, moved->epoch);
    ph_idmap_put(&d->by_key, key, (size_t)len, idx); /* replaces: never allocates */
  }
  d->n--;
  d->released++;
  ph_free(s->above);
  ph_free(s);
}

/* inv. 5 for one agent: the least recently used idle streams past the
 * bound go; keep (may be NULL) stays whatever its age. */
static size_t trim_agent(struct ph_dedupe *d, struct agent_st *a, const struct ph_stream *keep) {
  size_t freed = 0;
  while (a->n > PH_DEDUPE_EPOCHS) {
    struct ph_stream *lru = NULL;
    for (struct ph_stream *s = a->streams; s; s = s->next_of_agent)
      if (s != keep && !s->dirty && !s->ack_pending && (!lru || s->used < lru->used)) lru = s;
    if (!lru) break; /* all busy: trimmed after their commit */
    release(d, a, lru);
    freed++;
  }
  return freed;
}

size_t ph_dedupe_trim(struct ph_dedupe *d) {
  size_t freed = 0, keep = 0;
  for (size_t i = 0; i < d->nover; i++) {
    struct agent_st *a = &d->agents[d->over[i]];
    freed += trim_agent(d, a, NULL);
    if (a->n > PH_DEDUPE_EPOCHS) d->over[keep++] = d->over[i]; /* busy ones: next time */
    else a->over = false;
  }
  d->nover = keep;
  return freed;
}

uint64_t ph_dedupe_released(const struct ph_dedupe *d) { return d->released; }

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

void ph_dedupe_load_row(void *u, const struct ph_stream_row *row) {
  struct ph_dedupe *d = u;
  struct ph_stream *s = find(d, row->agent_id, row->epoch);
  if (row->above) { /* only for a stream in memory (inv. 5: the others were released) */
    if (s && row->seq > s->upto) above_insert(s, row->seq);
    return;
  }
  struct agent_st *a = agent_of(d, row->agent_id, true);
  if (!a) return;
  if (row->epoch > a->latest) a->latest = row->epoch;
  if (!s && !(s = create(d, a, row->epoch))) return;
  s->used = ++d->tick;
  s->upto = row->seq;
  if (row->data_ms > s->data_ms) s->data_ms = row->data_ms;
  absorb(s); /* rows saved while upto was lower are not "above" any more */
  trim_agent(d, a, s); /* the one just loaded is about to be used */
}

void ph_dedupe_load(void *d, int64_t agent_id, int64_t epoch, int64_t seq, int above) {
  struct ph_stream_row row = {.agent_id = agent_id, .epoch = epoch, .seq = seq, .above = above};
  ph_dedupe_load_row(d, &row);
}

/* inv. 2: the seqs in [upto+1, oldest-1] not held above are lost. */
static void declare_gap(struct ph_stream *s, int64_t oldest, struct ph_dedupe_result *r) {
  int64_t from = s->upto + 1;
  r->lost = (oldest - 1 - s->upto) - (int64_t)lower_bound(s, oldest);
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

/* inv. 4. s: the stream when the hub holds it. */
static bool implausible(const struct ph_stream *s, int64_t seq, int64_t oldest, int64_t max_ahead) {
  if (max_ahead <= 0) return false;
  return seq - oldest >= max_ahead || (s && seq - s->upto > max_ahead);
}

/* The stream in memory, or loaded from the database; NULL when neither. */
static int lookup(struct ph_dedupe *d, int64_t agent_id, int64_t epoch, struct ph_stream **out) {
  *out = find(d, agent_id, epoch);
  if (*out || !d->loader) return 0;
  int rc = d->loader(d->loader_ctx, d, agent_id, epoch);
  if (!rc) *out = find(d, agent_id, epoch);
  return rc;
}

static void judge_seq(struct ph_stream *s, int64_t seq, struct ph_dedupe_result *r, int *rc) {
  if (seq <= s->upto) {
    r->verdict = PH_DEDUPE_DUP;
    return;
  }
  size_t i = lower_bound(s, seq);
  if (i < s->nabove && s->above[i] == seq) {
    r->verdict = PH_DEDUPE_DUP;
  } else if (seq == s->upto + 1) {
    s->upto = seq;
    absorb(s);
    r->verdict = PH_DEDUPE_NEW;
  } else if (s->nabove >= PH_DEDUPE_MAX_ABOVE) {
    r->verdict = PH_DEDUPE_DEFER; /* the agent resends it once the hole is filled */
  } else if ((*rc = above_insert(s, seq)) == 0) {
    r->verdict = PH_DEDUPE_NEW;
    r->above = true;
  }
}

int ph_dedupe_check(struct ph_dedupe *d, int64_t agent_id, int64_t epoch, int64_t seq, int64_t oldest,
                    int64_t max_ahead, struct ph_dedupe_result *r) {
  memset(r, 0, sizeof *r);
  struct ph_stream *s;
  int rc = lookup(d, agent_id, epoch, &s);
  if (rc) return rc;
  if (implausible(s, seq, oldest, max_ahead)) {
    r->verdict = PH_DEDUPE_AHEAD;
    r->stream = s;
    r->upto_before = s ? s->upto : 0;
    return 0;
  }
  if (!s) {
    struct agent_st *a = agent_of(d, agent_id, true);
    if (!a || !(s = create(d, a, epoch))) return PH_ENOMEM;
    r->new_stream = true;
    r->reinstall = a->latest != 0 && a->latest != epoch;
    if (epoch > a->latest) a->latest = epoch;
  }
  r->stream = s;
  r->upto_before = s->upto;
  r->data_ms_before = s->data_ms;
  s->used = ++d->tick;
  s->ack_pending = true; /* new or duplicate: the agent is told where we are */
  if (oldest > s->upto + 1) declare_gap(s, oldest, r);
  judge_seq(s, seq, r, &rc);
  if (rc) return rc;
  if (r->verdict == PH_DEDUPE_NEW) s->batches++;
  if (r->verdict == PH_DEDUPE_DUP) s->duplicates++;
  s->dirty = true;
  return 0;
}

size_t ph_dedupe_count(const struct ph_dedupe *d) { return d->n; }
struct ph_stream *ph_dedupe_at(struct ph_dedupe *d, size_t i) { return i < d->n ? d->streams[i] : NULL; }
