/* idcache.c — the writer's id cache (idcache.h): a dense array of entries
 * found through a fixed open-addressing index of their positions. */
#include "store/idcache.h"

#include <string.h>

#include "parkhub/alloc.h"

#define INDEX_CAP (2 * PH_IDCACHE_MAX) /* a power of two; never more than half full */
#define NONE UINT32_MAX

/* The index lives just behind the entries' bookkeeping: one allocation. */
static uint32_t *index_of(const struct ph_idcache *c) { return (uint32_t *)(void *)(c->e + PH_IDCACHE_MAX); }

void ph_idcache_init(struct ph_idcache *c, size_t nseries) {
  memset(c, 0, sizeof *c);
  c->nseries = nseries;
}

static void free_series(struct ph_idcache *c) {
  for (size_t i = 0; i < c->n; i++) ph_free(c->e[i].series);
  c->n = 0;
}

void ph_idcache_fini(struct ph_idcache *c) {
  if (c->e) free_series(c);
  ph_free(c->e);
  memset(c, 0, sizeof *c);
}

void ph_idcache_clear(struct ph_idcache *c) {
  if (!c->e) return;
  free_series(c);
  memset(index_of(c), 0xff, INDEX_CAP * sizeof(uint32_t));
}

static size_t hash(int park_idx, int ent_idx, const char *name) {
  uint64_t h = 1469598103934665603ULL ^ ((uint64_t)(uint32_t)park_idx << 32 | (uint32_t)ent_idx);
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) h = (h ^ *p) * 1099511628211ULL;
  return (size_t)(h ^ (h >> 31)) & (INDEX_CAP - 1);
}

/* The index cell holding the entry's position, or the empty cell where it would go. */
static uint32_t *cell(const struct ph_idcache *c, int park_idx, int ent_idx, const char *name) {
  uint32_t *ix = index_of(c);
  for (size_t i = hash(park_idx, ent_idx, name);; i = (i + 1) & (INDEX_CAP - 1)) {
    if (ix[i] == NONE) return &ix[i];
    const struct ph_idcache_entry *e = &c->e[ix[i]];
    if (e->park_idx == park_idx && e->ent_idx == ent_idx && strcmp(e->name, name) == 0) return &ix[i];
  }
}

struct ph_idcache_entry *ph_idcache_find(struct ph_idcache *c, int park_idx, int ent_idx, const char *name) {
  if (!c->e) return NULL;
  uint32_t k = *cell(c, park_idx, ent_idx, name);
  return k == NONE ? NULL : &c->e[k];
}

void ph_idcache_reserve(struct ph_idcache *c, size_t n) {
  if (c->n + n > PH_IDCACHE_MAX) ph_idcache_clear(c);
}

struct ph_idcache_entry *ph_idcache_add(struct ph_idcache *c, int park_idx, int ent_idx, const char *name,
                                        int64_t id) {
  if (!c->e) {
    c->e = ph_malloc(PH_IDCACHE_MAX * sizeof *c->e + INDEX_CAP * sizeof(uint32_t));
    if (!c->e) return NULL;
    c->cap = PH_IDCACHE_MAX;
    memset(index_of(c), 0xff, INDEX_CAP * sizeof(uint32_t));
  }
  if (c->n == c->cap) return NULL;
  struct ph_idcache_entry *e = &c->e[c->n];
  *e = (struct ph_idcache_entry){.park_idx = park_idx, .ent_idx = ent_idx, .id = id};
  size_t len = strnlen(name, PH_ID_MAX);
  memcpy(e->name, name, len);
  e->name[len] = '\0';
  uint32_t *slot = cell(c, park_idx, ent_idx, e->name);
  if (*slot != NONE) { /* already there (a name cut to PH_ID_MAX): one entry per key */
    c->e[*slot].id = id;
    return &c->e[*slot];
  }
  if (c->nseries && !(e->series = ph_calloc(c->nseries, sizeof *e->series))) return NULL;
  *slot = (uint32_t)c->n++;
  return e;
}
