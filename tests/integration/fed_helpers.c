/*
 * fed_helpers.c — a park hub's and the regional hub's answers compared
 * (fed_helpers.h). Callers: test_federation.c, test_cluster_federation.c.
 * Threads: the test's own. Owns: the answers' buffers during a call.
 *
 * Invariants:
 *  1. figures compare to 1e-9 relative: both hubs run the same code on the
 *     same rows, only the summation order may differ;
 *  2. closed_until and id are each hub's own (its clock, its row ids) and
 *     are never compared;
 *  3. alarms are forwarded (issue #21): a regional hub's alarm counts,
 *     listings and logs compare as every other figure (their "id" is
 *     each hub's own, inv. 2).
 */
#include "fed_helpers.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub_helpers.h"

#define ANSWER_CAP (1 << 20)

bool fed_same(const cJSON *a, const cJSON *b, char *path, size_t cap)
{
	if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) {
		double x = a->valuedouble, y = b->valuedouble;
		return fabs(x - y) <= 1e-9 * fmax(1.0, fmax(fabs(x), fabs(y)));
	}
	if ((a->type & 0xff) != (b->type & 0xff))
		return false;
	if (cJSON_IsString(a))
		return !strcmp(a->valuestring, b->valuestring);
	if (cJSON_IsArray(a) || cJSON_IsObject(a)) {
		if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
			return false;
		const cJSON *x = a->child, *y = b->child;
		for (; x && y; x = x->next, y = y->next) {
			size_t n = strlen(path);
			snprintf(path + n, cap - n, "/%s", x->string ? x->string : "[]");
			if (x->string && (!y->string || strcmp(x->string, y->string)))
				return false;
			bool own = x->string && (!strcmp(x->string, "closed_until") || !strcmp(x->string, "id")); /* inv. 2 */
			if (!own && !fed_same(x, y, path, cap))
				return false;
			path[n] = 0;
		}
	}
	return true;
}

/* GET path on port into buf; the parsed answer or NULL (why filled). */
static cJSON *get_json(int port, const char *token, const char *path, char *buf, char *why, size_t cap)
{
	long st = hh_http_get(port, token, path, buf, ANSWER_CAP, NULL, 0);
	if (st != 200) {
		snprintf(why, cap, "port %d GET %s: status %ld: %.300s", port, path, st, buf);
		return NULL;
	}
	cJSON *j = cJSON_Parse(buf);
	if (!j)
		snprintf(why, cap, "port %d GET %s: not JSON: %.300s", port, path, buf);
	return j;
}

/* GET path on both hubs, both 200 and fed_same; a non-empty array named
 * nonempty (when given) in the park hub's answer; *park_answer (when given)
 * gets the park hub's answer (caller deletes). 0 or -1 with why. */
static int compare(int park_port, int region_port, const char *token, const char *path, const char *nonempty,
		   cJSON **park_answer, char *why, size_t cap)
{
	char where[512] = "";
	char *buf = malloc(ANSWER_CAP);
	cJSON *a = NULL, *b = NULL;
	int rc = -1;
	if (!buf) {
		snprintf(why, cap, "out of memory");
		return -1;
	}
	if (!(a = get_json(park_port, token, path, buf, why, cap)) || !(b = get_json(region_port, token, path, buf, why, cap)))
		goto out;
	if (nonempty && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(a, nonempty)) == 0) {
		snprintf(why, cap, "no %s in the park hub's %s", nonempty, path);
		goto out;
	}
	if (fed_same(a, b, where, sizeof where)) {
		rc = 0;
		goto out;
	}
	char *ta = cJSON_PrintUnformatted(a), *tb = cJSON_PrintUnformatted(b);
	snprintf(why, cap, "%s differs at %s:\npark hub %.1500s\nregional %.1500s", path, where, ta ? ta : "?",
		 tb ? tb : "?");
	free(ta);
	free(tb);
out:
	if (!rc && park_answer) {
		*park_answer = a;
		a = NULL;
	}
	cJSON_Delete(a);
	cJSON_Delete(b);
	free(buf);
	return rc;
}

int fed_same_answer(int park_port, int region_port, const char *token, const char *park, const char *what,
		    const char *range, char *why, size_t cap)
{
	char path[512];
	snprintf(path, sizeof path, "/api/v1/parks/%s/%s?%s", park, what, range);
	return compare(park_port, region_port, token, path, !strcmp(what, "summary") ? "enterprises" : NULL, NULL, why,
		       cap);
}

int fed_same_alarms(int park_port, int region_port, const char *token, const char *park, char *why, size_t cap)
{
	char path[512];
	cJSON *list = NULL;
	snprintf(path, sizeof path, "/api/v1/parks/%s/alarms?limit=1000", park);
	int rc = compare(park_port, region_port, token, path, "alarms", &list, why, cap);
	snprintf(path, sizeof path, "/api/v1/alarms?parks=%s&limit=1000", park);
	if (!rc)
		rc = compare(park_port, region_port, token, path, "alarms", NULL, why, cap);
	const cJSON *al, *alarms = rc ? NULL : cJSON_GetObjectItemCaseSensitive(list, "alarms");
	cJSON_ArrayForEach(al, alarms)
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(al, "alarm_id");
		snprintf(path, sizeof path, "/api/v1/parks/%s/alarms/%s/log", park, cJSON_IsString(id) ? id->valuestring : "?");
		if ((rc = compare(park_port, region_port, token, path, NULL, NULL, why, cap)))
			break;
	}
	cJSON_Delete(list);
	return rc;
}

int fed_same_presence(int park_port, int region_port, const char *token, const char *park, char *why, size_t cap)
{
	char path[512];
	cJSON *list = NULL;
	snprintf(path, sizeof path, "/api/v1/parks/%s/enterprises", park);
	int rc = compare(park_port, region_port, token, path, "enterprises", &list, why, cap), agents = 0;
	const cJSON *ent, *ag, *ents = rc ? NULL : cJSON_GetObjectItemCaseSensitive(list, "enterprises");
	cJSON_ArrayForEach(ent, ents)
	{
		cJSON_ArrayForEach(ag, cJSON_GetObjectItemCaseSensitive(ent, "agents"))
		{
			const cJSON *st = cJSON_GetObjectItemCaseSensitive(ag, "state");
			agents += cJSON_IsString(st) && strcmp(st->valuestring, "unknown") != 0;
		}
	}
	if (!rc && !agents) {
		snprintf(why, cap, "%s: no agent with a known presence on the park hub", path);
		rc = -1;
	}
	cJSON_Delete(list);
	return rc;
}

int fed_hub_files(const char *dir, const char *id, char *cfg, char *db, char *log, int *port)
{
	int a = snprintf(cfg, FED_PATH_CAP, "%s/%s.json", dir, id), b = snprintf(db, FED_PATH_CAP, "%s/%s.db", dir, id);
	int c = snprintf(log, FED_PATH_CAP, "%s/%s.log", dir, id);
	*port = pht_free_port();
	return a > 0 && a < FED_PATH_CAP && b > 0 && b < FED_PATH_CAP && c > 0 && c < FED_PATH_CAP && *port > 0 ? 0 : -1;
}

int fed_hub_start(struct pht_proc *p, const char *cfg, const char *log, int port, const char *token, int timeout_ms)
{
	const char *argv[] = {hh_parkhub(), "--config", cfg, NULL};
	char body[256];
	if (!argv[0])
		return -EINVAL;
	int rc = pht_proc_spawn(p, argv, log);
	for (int i = 0; !rc && i < timeout_ms / 100; i++) { /* up once its API answers */
		if (hh_http_get(port, token, "/healthz", body, sizeof body, NULL, 0) == 200)
			return 0;
		pht_sleep_ms(100);
	}
	return rc ? rc : -ETIMEDOUT;
}

int64_t fed_db_i64(const char *path, const char *fmt, ...)
{
	char q[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(q, sizeof q, fmt, ap);
	va_end(ap);
	sqlite3 *db = NULL;
	sqlite3_stmt *st;
	int64_t v = -1;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		if (sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				v = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
	}
	sqlite3_close(db);
	return v;
}

int64_t fed_wait_i64(const char *path, int64_t want, int timeout_ms, const char *q)
{
	int64_t v = -1;
	for (int i = 0; i < timeout_ms / 200 && (v = fed_db_i64(path, "%s", q)) != want; i++)
		pht_sleep_ms(200);
	return v;
}
