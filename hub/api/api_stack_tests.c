/* api_stack_tests.c — an admin enters the date of an enterprise's last
 * PCDD/F stack test (issue #18):
 *
 *   POST /api/v1/parks/{park}/enterprises/{ent}/stack-tests
 *        {"date": "2026-03-15", "by": "admin name"}
 *
 * Stored durably (the stack_tests table, through the writer: env.stack_test)
 * and counted by the overdue rule and the monitoring plan from then on,
 * when later than what the data and the config's last_stack_test say.
 *
 * Callers: api.c's dispatch, after access and park checks (a regulator
 * token already got 403 there: API_RT_WRITES). Threads: a worker's.
 *
 * Invariants:
 *  1. admin tokens only: any other role gets 403 and nothing is stored.
 *  2. the body is one JSON object with exactly `date` (a calendar date,
 *     not after today in the park's zone) and `by` (the ack's rule for
 *     who: 1..64 characters of UTF-8); anything else is a 400 naming the
 *     field, U+0000 included.
 *  3. a regional hub stores none (409): its stack_tests rows are the park
 *     hubs' (forwarded, issue #21), entered on the park hub.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "api_int.h"
#include "ingest/ack_cmd.h" /* ph_ack_fields_check: one rule for who */
#include "parkhub/log.h"
#include "parkhub/timefmt.h"
#include "parkhub/tz.h"

#define MOD "api"

static const char *const no_args[] = {NULL};

/* Days since 1970-01-01 of a calendar date YYYY-MM-DD; -1 when it is none. */
static long date_day(const char *s) {
  char ts[40];
  int64_t ms = 0;
  if (strlen(s) != 10) return -1;
  snprintf(ts, sizeof ts, "%sT00:00:00Z", s);
  if (ph_time_parse(ts, strlen(ts), &ms)) return -1;
  return (long)(ms / 86400000);
}

/* The body's date and by (inv. 2); 0 or the response status. */
static int read_body(struct api_req *r, const cJSON *doc, const char **date, const char **by) {
  for (const cJSON *it = doc->child; it; it = it->next) {
    char key[72];
    snprintf(key, sizeof key, "%.64s", it->string);
    const char **dst = !strcmp(key, "date") ? date : !strcmp(key, "by") ? by : NULL;
    if (!dst) return api_fail(r, 400, key, "%s: unknown field (allowed: date, by)", key);
    if (*dst) return api_fail(r, 400, key, "%s: given twice", key);
    if (!cJSON_IsString(it)) return api_fail(r, 400, key, "%s: must be a string", key);
    *dst = it->valuestring;
  }
  if (!*date) return api_fail(r, 400, "date", "date: required (YYYY-MM-DD, the local date of the test)");
  if (!*by) return api_fail(r, 400, "by", "by: required (who enters it)");
  struct ph_err fe = {0};
  if (ph_ack_fields_check(*by, NULL, &fe)) return api_fail(r, 400, "by", "%s", fe.msg);
  return 0;
}

/* Today's local date in the park's zone, as YYYY-MM-DD. */
static void today(const struct api_req *r, char *buf, size_t cap) {
  int y, h;
  unsigned m, d;
  ph_tz_local_date(r->tz, ph_now_ms(), &y, &m, &d, &h);
  snprintf(buf, cap, "%04d-%02u-%02u", y, m, d);
}

int api_post_stack_test(struct api_req *r) {
  if (api_args_check(r, no_args)) return r->status;
  if (r->tok->role != PH_API_ROLE_ADMIN) /* inv. 1 */
    return api_fail(r, 403, NULL, "entering a stack test needs an admin token");
  if (api_regional(r)) return api_fail_park_hub_owns(r, "enter the stack test"); /* inv. 3 */
  const char *ent = r->nseg > 1 ? r->seg[1] : "";
  if (!ph_hub_config_ent(r->park, ent)) return api_fail(r, 404, NULL, "no enterprise %.64s in park %s", ent, r->park->id);
  cJSON *doc = api_body_object(r, "{\"date\": \"YYYY-MM-DD\", \"by\": ...}");
  if (!doc) return r->status;
  const char *date = NULL, *by = NULL;
  char now[16];
  today(r, now, sizeof now);
  int status = read_body(r, doc, &date, &by);
  long day = status ? -1 : date_day(date);
  if (!status && day < 0) status = api_fail(r, 400, "date", "date: '%.16s' is not a date YYYY-MM-DD", date);
  if (!status && strcmp(date, now) > 0)
    status = api_fail(r, 400, "date", "date: %s is in the future (today is %s in the park)", date, now);
  if (!status && !r->env->stack_test) status = api_fail(r, 501, NULL, "entering stack tests is not available here");
  char msg[256] = "";
  int rc = status ? 0 : r->env->stack_test(r->env->u, r->park->id, ent, date, day, by, msg, sizeof msg);
  if (!status)
    PH_INFO(MOD, "stack test of %s/%s on %s entered by '%s' (token %s): %s", r->park->id, ent, date, by, r->tok->name,
            rc ? (msg[0] ? msg : ph_strerror(rc)) : "stored");
  if (!status && (rc == PH_EAGAIN || rc == PH_ETIMEOUT))
    status = api_fail(r, 503, NULL, "%s", msg[0] ? msg : "the hub cannot store it now; try again");
  else if (!status && rc)
    status = api_fail(r, 500, NULL, "%s", msg[0] ? msg : ph_strerror(rc));
  if (!status) {
    struct api_json j;
    aj_init(&j, &r->out);
    aj_obj(&j, NULL);
    aj_str(&j, "park", r->park->id);
    aj_str(&j, "ent", ent);
    aj_str(&j, "date", date);
    aj_str(&j, "by", by);
    aj_end_obj(&j);
    api_buf_put(&r->out, "\n", 1);
    r->ctype = "application/json";
    status = 200;
  }
  cJSON_Delete(doc);
  return status;
}
