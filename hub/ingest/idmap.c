/* idmap.c — string → int64 map (idmap.h). */
#include "ingest/idmap.h"

#include <stdbool.h>
#include <string.h>

#include "parkhub/alloc.h"
#include "parkhub/err.h"

static uint64_t fnv1a(const char *s, size_t len) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ULL;
  return h;
}

void ph_idmap_init(struct ph_idmap *m) { memset(m, 0, sizeof *m); }

void ph_idmap_fini(struct ph_idmap *m) {
  for (size_t i = 0; i < m->cap; i++) ph_free(m->slots[i].key);
  ph_free(m->slots);
  memset(m, 0, sizeof *m);
}

static struct ph_idmap_slot *find(const struct ph_idmap *m, const char *key, size_t len, uint64_t h) {
  size_t i = h & (m->cap - 1);
  for (;;) {
    struct ph_idmap_slot *s = &m->slots[i];
    if (!s->key || (s->hash == h && strlen(s->key) == len && memcmp(s->key, key, len) == 0)) return s;
    i = (i + 1) & (m->cap - 1);
  }
}

int ph_idmap_get(const struct ph_idmap *m, const char *key, size_t len, int64_t *value) {
  if (!m->cap) return 0;
  struct ph_idmap_slot *s = find(m, key, len, fnv1a(key, len));
  if (!s->key) return 0;
  *value = s->value;
  return 1;
}

static int grow(struct ph_idmap *m) {
  size_t ncap = m->cap ? m->cap * 2 : 64;
  struct ph_idmap_slot *old = m->slots, *fresh = ph_calloc(ncap, sizeof *fresh);
  if (!fresh) return PH_ENOMEM;
  size_t ocap = m->cap;
  m->slots = fresh;
  m->cap = ncap;
  for (size_t i = 0; i < ocap; i++)
    if (old[i].key) *find(m, old[i].key, strlen(old[i].key), old[i].hash) = old[i];
  ph_free(old);
  return 0;
}

int ph_idmap_put(struct ph_idmap *m, const char *key, size_t len, int64_t value) {
  if ((m->n + 1) * 10 > m->cap * 7 && grow(m)) return PH_ENOMEM;
  uint64_t h = fnv1a(key, len);
  struct ph_idmap_slot *s = find(m, key, len, h);
  if (!s->key) {
    if (!(s->key = ph_malloc(len + 1))) return PH_ENOMEM;
    memcpy(s->key, key, len);
    s->key[len] = '\0';
    s->hash = h;
    m->n++;
  }
  s->value = value;
  return 0;
}

int ph_idmap_del(struct ph_idmap *m, const char *key, size_t len) {
  if (!m->cap) return 0;
  struct ph_idmap_slot *s = find(m, key, len, fnv1a(key, len));
  if (!s->key) return 0;
  ph_free(s->key);
  s->key = NULL;
  m->n--;
  size_t mask = m->cap - 1, hole = (size_t)(s - m->slots);
  /* Backward shift: an entry after the hole moves into it unless its home
   * slot lies cyclically in (hole, j], where a lookup still finds it. */
  for (size_t j = (hole + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
    size_t home = (size_t)m->slots[j].hash & mask;
    bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (stays) continue;
    m->slots[hole] = m->slots[j];
    m->slots[j].key = NULL;
    hole = j;
  }
  return 1;
}
