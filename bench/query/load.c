/* load.c — latency of one API request, repeated (bench/query/README.md).
 *
 *   ph_bench_query_load URL TOKEN N [MAX_SECONDS [CLIENTS]]
 *
 * CLIENTS (default 1) threads, each with one keep-alive connection, one
 * warm-up request, then its share of the N requests one after the other
 * (stopping early after MAX_SECONDS, default 120); prints
 *   n=… p50_ms=… p99_ms=… mean_ms=… max_ms=… bytes=… (of one response)
 * with clients=… errors=… when CLIENTS > 1. Exit 1 when a request fails
 * or does not answer 200 (every client finishes its loop first). */
#include <curl/curl.h>
#include <pthread.h>
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

struct client {
  const char *url, *token;
  int n;         /* requests to send */
  double t_end;  /* stop sending after this */
  double *lat;   /* n slots */
  int done, errors;
  size_t bytes;
};

static void *run(void *u) {
  struct client *k = u;
  CURL *c = curl_easy_init();
  char auth[300];
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", k->token);
  struct curl_slist *h = curl_slist_append(NULL, auth);
  size_t bytes = 0;
  curl_easy_setopt(c, CURLOPT_URL, k->url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &bytes);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
  for (int i = -1; i < k->n; i++) {
    bytes = 0;
    double t0 = now_ms();
    CURLcode rc = curl_easy_perform(c);
    double dt = now_ms() - t0;
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK || status != 200) {
      if (!k->errors++) fprintf(stderr, "load: %s: %s, status %ld\n", k->url, curl_easy_strerror(rc), status);
      continue;
    }
    k->bytes = bytes;
    if (i < 0) continue; /* warm-up */
    k->lat[k->done++] = dt;
    if (now_ms() > k->t_end) break;
  }
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s URL TOKEN N [MAX_SECONDS [CLIENTS]]\n", argv[0]);
    return 2;
  }
  int n = atoi(argv[3]);
  double max_s = argc > 4 ? atof(argv[4]) : 120;
  int nc = argc > 5 ? atoi(argv[5]) : 1;
  if (n < 1) n = 1;
  if (nc < 1) nc = 1;
  if (nc > 1000) nc = 1000;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  struct client *k = calloc((size_t)nc, sizeof *k);
  pthread_t *t = calloc((size_t)nc, sizeof *t);
  double t_end = now_ms() + max_s * 1e3;
  int per = (n + nc - 1) / nc, started = 0;
  for (int i = 0; i < nc; i++) {
    k[i] = (struct client){.url = argv[1], .token = argv[2], .n = per, .t_end = t_end};
    k[i].lat = calloc((size_t)per, sizeof(double));
    if (pthread_create(&t[i], NULL, run, &k[i])) break;
    started++;
  }
  int done = 0, errors = nc - started;
  double *lat = calloc((size_t)per * (size_t)nc, sizeof *lat);
  size_t bytes = 0;
  for (int i = 0; i < started; i++) {
    pthread_join(t[i], NULL);
    memcpy(lat + done, k[i].lat, (size_t)k[i].done * sizeof *lat);
    done += k[i].done;
    errors += k[i].errors;
    if (k[i].bytes) bytes = k[i].bytes;
    free(k[i].lat);
  }
  if (!done) {
    fprintf(stderr, "load: %s: no request answered 200\n", argv[1]);
    return 1;
  }
  qsort(lat, (size_t)done, sizeof *lat, cmp);
  double sum = 0;
  for (int i = 0; i < done; i++) sum += lat[i];
  int p99 = (int)((done - 1) * 0.99 + 0.5);
  printf("n=%d p50_ms=%.2f p99_ms=%.2f mean_ms=%.2f max_ms=%.2f bytes=%zu", done, lat[(done - 1) / 2], lat[p99],
         sum / done, lat[done - 1], bytes);
  if (nc > 1) printf(" clients=%d errors=%d", nc, errors);
  printf("\n");
  free(lat);
  free(k);
  free(t);
  curl_global_cleanup();
  return errors ? 1 : 0;
}
