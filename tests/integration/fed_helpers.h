/*
 * fed_helpers.h — shared by the federation tests (tests/integration/
 * test_federation.c, tests/cluster/test_cluster_federation.c): a park
 * hub's answer and the regional hub's to the same API request, compared.
 *
 * Callers: those tests' own thread. Nothing here starts or stops a
 * process; the hubs' HTTP APIs must answer on 127.0.0.1. Needs
 * curl_global_init (the tests' setup does).
 */
#ifndef FED_HELPERS_H
#define FED_HELPERS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* a and b are the same figures: numbers equal to 1e-9 relative, strings,
 * types, keys and array lengths equal; members named closed_until and id
 * are each hub's own and skipped. path (a buffer of cap, "" on entry) gets
 * where the first difference is. */
bool fed_same(const cJSON *a, const cJSON *b, char *path, size_t cap);

/* GET /api/v1/parks/{park}/{what}?{range} with token on the park hub's
 * port and on the regional hub's, both 200 and fed_same. For "summary"
 * the park hub's answer must list enterprises (an empty park compares
 * equal to anything empty). 0, or -1 with the reason (the status or the
 * difference's path and both answers, cut) in why. */
int fed_same_answer(int park_port, int region_port, const char *token, const char *park, const char *what,
		    const char *range, char *why, size_t cap);

#endif /* FED_HELPERS_H */
