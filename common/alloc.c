/* alloc.c — ph_malloc and friends: libc's allocator plus a failure hook for
 * tests (ph_alloc_fail_after). The hook is a process-wide counter; tests
 * that use it run single-threaded. */
#include "parkhub/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static _Atomic long fail_after = -1;

void ph_alloc_fail_after(long n) { atomic_store(&fail_after, n); }

static int should_fail(void) {
  long n = atomic_load(&fail_after);
  if (n < 0) return 0;
  if (n == 0) return 1;
  atomic_store(&fail_after, n - 1);
  return 0;
}

void *ph_malloc(size_t n) { return should_fail() ? NULL : malloc(n ? n : 1); }
void *ph_calloc(size_t n, size_t size) { return should_fail() ? NULL : calloc(n ? n : 1, size ? size : 1); }
void *ph_realloc(void *p, size_t n) { return should_fail() ? NULL : realloc(p, n ? n : 1); }
void ph_free(void *p) { free(p); }

char *ph_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = ph_malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}
