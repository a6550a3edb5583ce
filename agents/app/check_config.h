/* check_config.h — `parkagent --check-config`: every problem of a config
 * in one run (check_config.c). */
#ifndef PARKAGENT_CHECK_CONFIG_H
#define PARKAGENT_CHECK_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "parkhub/catalog.h"

/* Prints "FILE: configuration OK (…)" or "FILE: configuration error: N
 * problems:" and one line per problem to out; returns 0 when none, 1
 * otherwise (the exit code). files: also the files and folders the keys
 * name (false: the keys only, for a config checked away from its host). */
int ph_agent_check_config(const char *path, const struct ph_catalog *cat, bool files, FILE *out);

#endif
