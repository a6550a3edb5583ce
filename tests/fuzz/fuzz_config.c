/* fuzz_config.c — libFuzzer target: a config loader on any bytes
 * (FUZZ_HUB: parkhub's hub_config.c with its http/api_conf.c part;
 * otherwise parkagent's agent_config.c with every source's keys).
 *
 * The loaders read a path, so each input is written to one file of this
 * process first. Oracle besides the sanitizers: a refusal always explains
 * itself, and an accepted config loads the same way twice. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef FUZZ_HUB
#include "config/hub_config.h"
#else
#include "app/agent_config.h"
#include "parkhub/catalog.h"
static struct ph_catalog *cat;
#endif

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  /* tmpfs when there is one: a file per input costs less there */
  const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  snprintf(path, sizeof path, "%s/parkhub-fuzz-config-%ld.json", dir, (long)getpid());
#ifndef FUZZ_HUB
  struct ph_err err = {0};
  if (ph_catalog_load_builtin(&cat, &err)) abort();
#endif
  return 0;
}

static int load(void) {
  struct ph_err err = {0};
#ifdef FUZZ_HUB
  static struct ph_hub_config c; /* large: not on the stack */
  int rc = ph_hub_config_load(path, &c, &err);
  ph_hub_config_fini(&c); /* also after a refusal: what was loaded so far */
#else
  static struct ph_agent_config c;
  int rc = ph_agent_config_load(path, cat, &c, &err);
  ph_agent_config_fini(&c); /* accepts a half-loaded config */
#endif
  if (rc && !err.msg[0]) abort(); /* every refusal says why */
  return rc;
}

/* libFuzzer calls no destructor: the file goes when the process exits normally. */
static void remove_file(void) { unlink(path); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int registered;
  if (!registered) registered = atexit(remove_file) == 0;
  FILE *f = fopen(path, "wb");
  if (!f) abort();
  if (size && fwrite(data, 1, size, f) != size) abort();
  fclose(f);
  int rc = load();
  if (!rc && load() != 0) abort(); /* deterministic */
  return 0;
}
