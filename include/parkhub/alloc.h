/* alloc.h — the allocator every parkhub module uses, so tests can make
 * the Nth allocation fail and check the unwinding. */
#ifndef PARKHUB_ALLOC_H
#define PARKHUB_ALLOC_H

#include <stddef.h>

void *ph_malloc(size_t n);
void *ph_calloc(size_t n, size_t size);
void *ph_realloc(void *p, size_t n);
char *ph_strdup(const char *s);
void ph_free(void *p);

/* Test hook: the allocation after `n` more successful ones fails; -1 disables. */
void ph_alloc_fail_after(long n);

#endif
