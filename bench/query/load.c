/* load.c — latency of one API request, repeated (bench/query/README.md).
 *
 *   ph_bench_query_load URL TOKEN N [MAX_SECONDS]
 *
 * One keep-alive connection, one warm-up request, then N requests one
 * after the other (stopping early after MAX_SECONDS, default 120); prints
 *   n=… p50_ms=… p99_ms=… mean_ms=… max_ms=… bytes=… (of one response)
 * Exit 1 when a request fails or does not answer 200. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t sink(char *p, size_t sz, size_t n, void *u) {
  (void)p;
  *(size_t *)u += sz * n;
  return sz * n;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s URL TOKEN N [MAX_SECONDS]\n", argv[0]);
    return 2;
  }
  int n = atoi(argv[3]);
  double max_s = argc > 4 ? atof(argv[4]) : 120;
  if (n < 1) n = 1;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURL *c = curl_easy_init();
  char auth[300];
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", argv[2]);
  struct curl_slist *h = curl_slist_append(NULL, auth);
  size_t bytes = 0;
  curl_easy_setopt(c, CURLOPT_URL, argv[1]);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &bytes);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
  double *lat = calloc((size_t)n, sizeof *lat);
  int done = 0;
  double t_end = now_ms() + max_s * 1e3;
  for (int i = -1; i < n; i++) {
    bytes = 0;
    double t0 = now_ms();
    CURLcode rc = curl_easy_perform(c);
    double dt = now_ms() - t0;
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK || status != 200) {
      fprintf(stderr, "load: %s: %s, status %ld\n", argv[1], curl_easy_strerror(rc), status);
      return 1;
    }
    if (i < 0) continue; /* warm-up */
    lat[done++] = dt;
    if (now_ms() > t_end) break;
  }
  qsort(lat, (size_t)done, sizeof *lat, cmp);
  double sum = 0;
  for (int i = 0; i < done; i++) sum += lat[i];
  int p99 = (int)((done - 1) * 0.99 + 0.5);
  printf("n=%d p50_ms=%.2f p99_ms=%.2f mean_ms=%.2f max_ms=%.2f bytes=%zu\n", done, lat[(done - 1) / 2], lat[p99],
         sum / done, lat[done - 1], bytes);
  free(lat);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  curl_global_cleanup();
  return 0;
}
