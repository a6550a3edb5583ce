/* idmap.h — a string → int64 map for the hub's id caches (agents, points,
 * metrics, series): open addressing, FNV-1a, grows at 70 % load; deletion
 * shifts the probe run back (no tombstones). Keys are copied. One thread at a time. */
#ifndef PARKHUB_IDMAP_H
#define PARKHUB_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct ph_idmap_slot {
  char *key; /* NULL: empty */
  uint64_t hash;
  int64_t value;
};

struct ph_idmap {
  struct ph_idmap_slot *slots;
  size_t cap, n;
};

void ph_idmap_init(struct ph_idmap *m);
void ph_idmap_fini(struct ph_idmap *m);
/* 1 and *value when present, 0 when not. */
int ph_idmap_get(const struct ph_idmap *m, const char *key, size_t len, int64_t *value);
/* 0 or PH_ENOMEM. Replaces an existing value. */
int ph_idmap_put(struct ph_idmap *m, const char *key, size_t len, int64_t value);
/* Removes key; 1 when it was there, 0 when not. */
int ph_idmap_del(struct ph_idmap *m, const char *key, size_t len);

#endif
