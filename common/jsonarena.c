/* jsonarena.c — the per-thread cJSON arena (jsonarena.h).
 * When the block is full, allocations fall back to malloc; frees tell the
 * two apart by address, so mixing is safe. */
#include "parkhub/jsonarena.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

static _Thread_local char *block;
static _Thread_local size_t used;
static _Thread_local bool active;

static void *arena_malloc(size_t n) {
  if (active) {
    size_t need = (n + 15) & ~(size_t)15;
    if (block && used + need <= PH_JSON_ARENA_SIZE) {
      void *p = block + used;
      used += need;
      return p;
    }
  }
  return malloc(n);
}

static void arena_free(void *p) {
  if (block && (char *)p >= block && (char *)p < block + PH_JSON_ARENA_SIZE) return;
  free(p);
}

void ph_json_arena_install(void) {
  cJSON_Hooks h = {.malloc_fn = arena_malloc, .free_fn = arena_free};
  cJSON_InitHooks(&h);
}

void ph_json_arena_begin(void) {
  if (!block) block = malloc(PH_JSON_ARENA_SIZE);
  used = 0;
  active = block != NULL;
}

void ph_json_arena_end(void) {
  active = false;
  used = 0;
}

void ph_json_arena_thread_fini(void) {
  active = false;
  free(block);
  block = NULL;
}
