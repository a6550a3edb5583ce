/* idcache.h — the writer's own memory of the row ids it needs for every
 * batch: an agent's or a point's id, keyed by the park and enterprise
 * (indices into the config) and the name; for a point also its expected
 * interval and its series ids by catalogue index. It spares each batch the
 * string keys and hashed lookups of store.c's caches. The writer clears it
 * whenever store.c forgets its ids (a rolled-back transaction).
 *
 * Bounded: the entries are allocated once (PH_IDCACHE_MAX). A caller
 * about to add up to n entries calls ph_idcache_reserve(n) first, which
 * empties the cache unless they fit (the ids are looked up again; nothing
 * is lost); entries and their series arrays stay valid until the next
 * reserve or clear. Names are ids (at most PH_ID_MAX characters; a longer
 * one is cut). One thread.
 */
#ifndef PARKHUB_IDCACHE_H
#define PARKHUB_IDCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "parkhub/ids.h"

#define PH_IDCACHE_MAX 4096

struct ph_idcache_entry {
  int park_idx, ent_idx;
  char name[PH_ID_MAX + 1];
  int64_t id;
  double interval_s;
  int64_t *series; /* nseries ids, 0 = not looked up yet; NULL when nseries is 0 */
};

struct ph_idcache {
  struct ph_idcache_entry *e;
  size_t n, cap, nseries;
};

void ph_idcache_init(struct ph_idcache *c, size_t nseries);
void ph_idcache_fini(struct ph_idcache *c);
void ph_idcache_clear(struct ph_idcache *c);
/* The entry, or NULL when the name is not cached. */
struct ph_idcache_entry *ph_idcache_find(struct ph_idcache *c, int park_idx, int ent_idx, const char *name);
/* Empties the cache unless n more entries fit. */
void ph_idcache_reserve(struct ph_idcache *c, size_t n);
/* A new entry (name cut to PH_ID_MAX), its series all 0; NULL: out of
 * memory, or full (no reserve before). */
struct ph_idcache_entry *ph_idcache_add(struct ph_idcache *c, int park_idx, int ent_idx, const char *name,
                                        int64_t id);

#endif
