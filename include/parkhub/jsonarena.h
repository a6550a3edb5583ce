/* jsonarena.h — a per-thread bump allocator for cJSON. Decoding a batch
 * made one cJSON node per value and key; with the C library's allocator
 * that was ~15 % of the hub's CPU (bench/ingest). Batches are now decoded
 * from jsmn tokens (batch_decode.c) and allocate nothing; the hub's decoder
 * thread still parses status and ack messages with cJSON inside the arena.
 * Between ph_json_arena_begin
 * and _end, cJSON's allocations on the calling thread come from one reused
 * block and its frees are no-ops; outside, and on other threads, cJSON uses
 * malloc/free as usual. A tree built inside must be deleted before _end.
 */
#ifndef PARKHUB_JSONARENA_H
#define PARKHUB_JSONARENA_H

#include <stddef.h>

#define PH_JSON_ARENA_SIZE (512 * 1024)

/* Routes cJSON through the arena-aware allocator; call once, before threads. */
void ph_json_arena_install(void);
/* Starts using this thread's arena (allocated on first use). */
void ph_json_arena_begin(void);
/* Stops using it; everything allocated inside is reclaimed at once. */
void ph_json_arena_end(void);
/* Frees this thread's arena block (thread exit). */
void ph_json_arena_thread_fini(void);

#endif
