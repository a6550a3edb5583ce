/*
 * test_hub_http.c — the HTTP API of a real parkhub process (the "http"
 * object of its config) on loopback, fed through a real Mosquitto:
 *
 *  1. series: hourly mean/min/max/count, minute counts and raw values equal
 *     what is computed here from the stored sample chunks; CSV carries the
 *     same figures as JSON.
 *  2. access: no token 401, unknown token 401, regulator may not ack (403),
 *     /metrics only for admin; bad parameters 400 naming the parameter (the
 *     CEMS listings too);
 *     unknown park 404; /healthz without a token; the dashboard at /.
 *  3. acknowledging over HTTP: an alarm raised by a rule is acked by a
 *     manager's POST, the database and the retained MQTT state show it,
 *     acking it again changes nothing, an unknown alarm is 404.
 *  4. /metrics counts what the database holds.
 */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_client.h"
#include "hub_helpers.h"
#include "api/api.h"
#include "parkhub/timefmt.h"

#define WAIT_MS 20000
#define HOUR 3600000LL
#define STEP_MS 10000 /* one record every 10 s */
#define HOURS 3
#define PER_BATCH 60

static struct hh_env env;
static int http_port;
static int64_t t0; /* a local hour start in Asia/Kolkata (+05:30), HOURS + 1 h ago */

static const char *const tok_reg = "regulator-token-1", *const tok_mgr = "manager-token-1",
		  *const tok_adm = "admin-token-1";

/* ---- HTTP ---------------------------------------------------------------- */

struct resp {
	long status;
	char *body;
	size_t len;
	cJSON *json;
};

static void http(const char *method, const char *path, const char *token, const char *body, struct resp *r)
{
	memset(r, 0, sizeof *r);
	struct hh_http_resp h;
	cr_assert_eq(hh_http_request(http_port, method, path, token, body, &h), 0, "%s %s: %s", method, path, h.body);
	r->status = h.status;
	r->body = h.body;
	r->len = h.len;
	r->json = cJSON_Parse(r->body);
}

static void get(const char *path, const char *token, struct resp *r) { http("GET", path, token, NULL, r); }

static void resp_free(struct resp *r)
{
	cJSON_Delete(r->json);
	free(r->body);
	memset(r, 0, sizeof *r);
}

static const cJSON *jget(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	cr_assert_not_null(v, "no %s", k);
	return v;
}

/* The error document's status and param ("" when none). */
static void expect_error(const struct resp *r, long status, const char *param)
{
	cr_assert_eq(r->status, status, "status %ld, want %ld: %s", r->status, status, r->body);
	cr_assert_not_null(r->json, "an error is JSON: %s", r->body);
	const cJSON *e = jget(r->json, "error");
	cr_assert_eq((long)cJSON_GetNumberValue(jget(e, "status")), status);
	if (param)
		cr_assert_str_eq(cJSON_GetStringValue(jget(e, "param")), param, "%s", r->body);
}

/* ---- the sandbox --------------------------------------------------------- */

static void fmt_time(int64_t ms, char buf[PH_TIME_STRLEN]) { cr_assert_eq(ph_time_format(ms, buf, PH_TIME_STRLEN), 0); }

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	http_port = pht_free_port();
	cr_assert_gt(http_port, 0);
	cr_assert_eq(hh_setup(&env, NULL), 0);
	static char top[2048], park[800], rules[700];
	cr_assert_eq(hc_http_member(http_port, tok_reg, tok_mgr, tok_adm, top, sizeof top), 0);
	snprintf(rules, sizeof rules, "%s/rules.json", env.dir);
	cr_assert_eq(hh_write_file(rules,
				   "{\"v\": 1, \"park\": \"p1\", \"rules\": [{\"id\": \"so2_high\", \"severity\": \"major\","
				   " \"scope\": {\"ent\": \"ent-b\", \"point\": \"stack-1\", \"metric\": \"so2\"},"
				   " \"threshold\": {\"op\": \">\", \"limit\": 300},"
				   " \"message\": \"{ent}/{point}: SO2 {value} above {limit}\"}]}\n"),
		     0);
	snprintf(park, sizeof park, "\"rules_file\": \"%s\"", rules);
	env.opts.top_extra = top;
	env.opts.park_extra = park;
	cr_assert_eq(hh_write_hub_config(&env), 0);
	cr_assert_eq(hh_hub_start(&env, WAIT_MS), 0, "hub start (log %s)", env.hub_log);
	int64_t now = ph_now_ms();
	int64_t h = (now - (HOURS + 1) * HOUR) / HOUR * HOUR;
	t0 = h + HOUR / 2; /* Kolkata's local hours start at UTC :30 */
}

static void teardown(void)
{
	char why[300] = "";
	int status = 0;
	if (env.hub.pid > 0)
		cr_expect_eq(hh_hub_stop(&env, 10000, &status), 0, "clean stop");
	cr_expect_eq(hh_log_clean(env.hub_log, why, sizeof why), 0, "%s", why);
	hh_teardown(&env);
	curl_global_cleanup();
}

TestSuite(hub_http, .init = setup, .fini = teardown, .timeout = 240);

/* so2 and nox of record k: deterministic, with an M flag now and then. */
static double so2_of(int k) { return 40 + (k % 37) * 1.5 + (k % 5) * 0.125; }

/* HOURS hours of ent-a/stack-1 records from t0, every 10 s, in batches. */
static void publish_hours(void)
{
	static char recs[PER_BATCH * 200], batch[sizeof recs + 512];
	int total = (int)(HOURS * HOUR / STEP_MS);
	int64_t seq = 0;
	for (int k0 = 0; k0 < total; k0 += PER_BATCH) {
		size_t len = 0;
		len += (size_t)snprintf(recs + len, sizeof recs - len, "[");
		for (int k = k0; k < k0 + PER_BATCH && k < total; k++) {
			char ts[PH_TIME_STRLEN];
			fmt_time(t0 + (int64_t)k * STEP_MS, ts);
			len += (size_t)snprintf(recs + len, sizeof recs - len,
						"%s{\"ts\":\"%s\",\"point\":\"stack-1\",\"values\":{\"so2\":%.17g,\"nox\":%d}%s}",
						k > k0 ? "," : "", ts, so2_of(k), 80 + k % 11,
						k % 13 == 0 ? ",\"flags\":{\"so2\":\"M\"}" : "");
		}
		snprintf(recs + len, sizeof recs - len, "]");
		seq++;
		cr_assert_eq(hh_batch(batch, sizeof batch, hh_agent(0), 77, seq, 1, recs), 0);
		cr_assert_eq(hh_publish(&env, hh_ent(0), hh_agent(0), "emission", batch), 0);
	}
	cr_assert_eq(hh_wait_ack(&env, hh_ent(0), hh_agent(0), 77, seq, 0, WAIT_MS), 0, "ack of seq %lld (log %s)",
		     (long long)seq, env.hub_log);
}

static void series_path(char *out, size_t cap, const char *metric, const char *step, const char *agg, int64_t from,
			int64_t to, const char *extra)
{
	char f[PH_TIME_STRLEN], t[PH_TIME_STRLEN];
	fmt_time(from, f);
	fmt_time(to, t);
	snprintf(out, cap, "/api/v1/parks/p1/series?ent=ent-a&point=stack-1&metric=%s&step=%s%s%s&from=%s&to=%s%s",
		 metric, step, agg ? "&agg=" : "", agg ? agg : "", f, t, extra ? extra : "");
}

struct hour_fig {
	double sum, min, max;
	long n, n_valid;
};

/* Per local hour from t0, computed from the decoded sample chunks. */
static void hours_from_samples(struct hour_fig fig[HOURS])
{
	struct hh_samples s;
	char why[300] = "";
	cr_assert_eq(hh_samples_load(&env, &s, why, sizeof why), 0, "%s", why);
	for (int h = 0; h < HOURS; h++)
		fig[h] = (struct hour_fig){.min = INFINITY, .max = -INFINITY};
	long seen = 0;
	for (size_t i = 0; i < s.n; i++) {
		const struct hh_value *v = &s.v[i];
		if (strcmp(v->ent, "ent-a") || strcmp(v->point, "stack-1") || strcmp(v->metric, "so2"))
			continue;
		int h = (int)((v->ts_ms - t0) / HOUR);
		cr_assert(h >= 0 && h < HOURS, "a stored value outside the published hours");
		struct hour_fig *f = &fig[h];
		f->sum += v->v;
		f->n++;
		f->n_valid += v->flag == 'N';
		f->min = fmin(f->min, v->v);
		f->max = fmax(f->max, v->v);
		seen++;
	}
	cr_assert_eq(seen, HOURS * HOUR / STEP_MS, "every published so2 value is stored once");
	hh_samples_free(&s);
}

static void expect_close(double got, double want, const char *what, int h)
{
	cr_assert(fabs(got - want) <= 1e-9 * fmax(1, fabs(want)), "%s of hour %d: %.17g, from the samples %.17g", what,
		  h, got, want);
}

/* ---- 1 ------------------------------------------------------------------- */

Test(hub_http, series_equal_the_stored_samples)
{
	publish_hours();
	struct hour_fig fig[HOURS];
	hours_from_samples(fig);
	static const char *const aggs[] = {"mean", "min", "max", "count", "sum"};
	char path[1024];
	for (size_t a = 0; a < sizeof aggs / sizeof aggs[0]; a++) {
		struct resp r;
		series_path(path, sizeof path, "so2", "1h", aggs[a], t0, t0 + HOURS * HOUR, NULL);
		get(path, tok_reg, &r);
		cr_assert_eq(r.status, 200, "%s: %s", path, r.body);
		const cJSON *pts = jget(r.json, "points");
		cr_assert_eq(cJSON_GetArraySize(pts), HOURS, "%s", r.body);
		for (int h = 0; h < HOURS; h++) {
			const cJSON *p = cJSON_GetArrayItem(pts, h);
			char want_t[PH_TIME_STRLEN];
			fmt_time(t0 + h * HOUR, want_t);
			cr_assert_str_eq(cJSON_GetStringValue(jget(p, "t")), want_t, "local hour start");
			double v = cJSON_GetNumberValue(jget(p, "v"));
			const struct hour_fig *f = &fig[h];
			double want = a == 0 ? f->sum / (double)f->n : a == 1 ? f->min : a == 2 ? f->max : a == 3 ? (double)f->n : f->sum;
			expect_close(v, want, aggs[a], h);
			cr_assert_eq((long)cJSON_GetNumberValue(jget(p, "n")), f->n);
			cr_assert_eq((long)cJSON_GetNumberValue(jget(p, "n_valid")), f->n_valid, "flag N only");
		}
		resp_free(&r);
	}

	/* CSV: the same hours and figures; each row names its series and its
	 * local time, the mean is rounded to so2's 1 decimal (schemas/metrics.json) */
	struct resp r;
	series_path(path, sizeof path, "so2", "1h", "mean", t0, t0 + HOURS * HOUR, "&format=csv&bom=0");
	get(path, tok_reg, &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	char *save = NULL, *line = strtok_r(r.body, "\r\n", &save);
	cr_assert_str_eq(line, "park,ent,point,metric,unit,local,t,v,n,n_valid");
	for (int h = 0; h < HOURS; h++) {
		line = strtok_r(NULL, "\r\n", &save);
		cr_assert_not_null(line, "hour %d in the CSV", h);
		char t[64], local[64];
		double v;
		long n, nv;
		cr_assert_eq(sscanf(line, "p1,ent-a,stack-1,so2,mg/Nm3,%63[^,],%63[^,],%lf,%ld,%ld", local, t, &v, &n, &nv),
			     5, "%s", line);
		cr_assert(strlen(local) == 16 && local[10] == ' ' && !strcmp(local + 13, ":00"), "local hour %s", local);
		char want_t[PH_TIME_STRLEN];
		fmt_time(t0 + h * HOUR, want_t);
		cr_assert_str_eq(t, want_t);
		cr_assert(fabs(v - fig[h].sum / (double)fig[h].n) <= 0.05 + 1e-9, "csv mean of hour %d: %g", h, v);
		cr_assert_eq(n, fig[h].n);
		cr_assert_eq(nv, fig[h].n_valid);
	}
	cr_assert_null(strtok_r(NULL, "\r\n", &save), "nothing after the last hour");
	resp_free(&r);

	/* raw: the first hour's values in time order, each with its flag */
	series_path(path, sizeof path, "so2", "raw", NULL, t0, t0 + HOUR, NULL);
	get(path, tok_reg, &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	const cJSON *pts = jget(r.json, "points");
	cr_assert_eq(cJSON_GetArraySize(pts), HOUR / STEP_MS);
	int k = 0;
	for (const cJSON *p = pts->child; p; p = p->next, k++) {
		char want_t[PH_TIME_STRLEN];
		fmt_time(t0 + (int64_t)k * STEP_MS, want_t);
		cr_assert_str_eq(cJSON_GetStringValue(jget(p, "t")), want_t);
		cr_assert_eq(cJSON_GetNumberValue(jget(p, "v")), so2_of(k), "raw value %d", k);
		cr_assert_str_eq(cJSON_GetStringValue(jget(p, "flag")), k % 13 == 0 ? "M" : "N");
	}
	resp_free(&r);

	/* minutes: six records each */
	series_path(path, sizeof path, "nox", "1m", "count", t0, t0 + HOUR, NULL);
	get(path, tok_reg, &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	pts = jget(r.json, "points");
	cr_assert_eq(cJSON_GetArraySize(pts), 60);
	for (const cJSON *p = pts->child; p; p = p->next)
		cr_assert_eq(cJSON_GetNumberValue(jget(p, "v")), 6);
	resp_free(&r);
}

/* ---- 2 ------------------------------------------------------------------- */

Test(hub_http, access_and_bad_parameters)
{
	struct resp r;
	get("/healthz", NULL, &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_assert_str_eq(cJSON_GetStringValue(jget(r.json, "status")), "ok");
	resp_free(&r);
	get("/", NULL, &r);
	cr_assert_eq(r.status, 200);
	cr_assert(strstr(r.body, "<title>parkhub"), "the dashboard");
	resp_free(&r);

	get("/api/v1/parks", NULL, &r);
	expect_error(&r, 401, NULL);
	resp_free(&r);
	get("/api/v1/parks", "not-a-configured-token", &r);
	expect_error(&r, 401, NULL);
	resp_free(&r);
	get("/api/v1/parks", tok_reg, &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_assert_str_eq(cJSON_GetStringValue(jget(cJSON_GetArrayItem(jget(r.json, "parks"), 0), "park")), "p1");
	resp_free(&r);
	get("/api/v1/parks/p9/enterprises", tok_adm, &r);
	expect_error(&r, 404, NULL);
	resp_free(&r);
	get("/metrics", tok_reg, &r);
	expect_error(&r, 403, NULL);
	resp_free(&r);
	get("/metrics", tok_mgr, &r);
	expect_error(&r, 403, NULL);
	resp_free(&r);
	http("POST", "/api/v1/parks/p1/alarms/a-1/ack", tok_reg, "{\"by\": \"r\"}", &r);
	expect_error(&r, 403, NULL);
	resp_free(&r);

	char path[1024];
	series_path(path, sizeof path, "so2", "2h", "mean", t0, t0 + HOUR, NULL);
	get(path, tok_reg, &r);
	expect_error(&r, 400, "step");
	resp_free(&r);
	series_path(path, sizeof path, "so2", "1h", "median", t0, t0 + HOUR, NULL);
	get(path, tok_reg, &r);
	expect_error(&r, 400, "agg");
	resp_free(&r);
	get("/api/v1/parks/p1/series?ent=ent-a&point=stack-1&metric=so2&from=yesterday&to=2026-01-01T00:00:00Z", tok_reg,
	    &r);
	expect_error(&r, 400, "from");
	resp_free(&r);
	get("/api/v1/parks/p1/series?ent=ent-a&point=stack-1&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z", tok_reg,
	    &r);
	expect_error(&r, 400, "metric");
	resp_free(&r);
	/* the regulator's CEMS figures: routed, argument-checked, readable by a regulator */
	get("/api/v1/parks/p1/cems/hours?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&only=some", tok_reg, &r);
	expect_error(&r, 400, "only");
	resp_free(&r);
	get("/api/v1/parks/p1/cems/exceedances?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z", tok_reg, &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_assert_eq(cJSON_GetArraySize(jget(r.json, "exceedances")), 0);
	resp_free(&r);
	get("/api/v1/parks/p1/enterprises?colour=red", tok_reg, &r);
	expect_error(&r, 400, "colour");
	resp_free(&r);
	get("/api/v1/parks/p1/enterprises?format=xml", tok_reg, &r);
	expect_error(&r, 400, "format");
	resp_free(&r);
}

/* ---- 3 ------------------------------------------------------------------- */

/* The open alarm's id (waits for the rule to raise it). */
static void wait_open_alarm(char *id, size_t cap)
{
	int64_t n = 0;
	cr_assert_eq(hh_wait_db(&env, 1, &n, WAIT_MS, "SELECT count(*) FROM alarms WHERE state = 'active_unacked'"), 0,
		     "one alarm raised (%lld; log %s)", (long long)n, env.hub_log);
	struct resp r;
	get("/api/v1/parks/p1/alarms?state=open", tok_mgr, &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	const cJSON *alarms = jget(r.json, "alarms");
	cr_assert_eq(cJSON_GetArraySize(alarms), 1, "%s", r.body);
	const cJSON *a = cJSON_GetArrayItem(alarms, 0);
	cr_assert_str_eq(cJSON_GetStringValue(jget(a, "rule")), "so2_high");
	cr_assert_str_eq(cJSON_GetStringValue(jget(a, "state")), "active_unacked");
	snprintf(id, cap, "%s", cJSON_GetStringValue(jget(a, "alarm_id")));
	resp_free(&r);
}

/* The retained state of the alarm on MQTT, as a late subscriber sees it. */
static void retained_state(const char *id, char *state, size_t cap)
{
	struct pht_mqtt *m = pht_mqtt_new(pht_broker_uri(&env.broker), "http-test-late-sub");
	cr_assert_not_null(m);
	cr_assert_eq(pht_mqtt_connect(m, 1, 5000), 0);
	char filter[128];
	snprintf(filter, sizeof filter, "parkhub/v1/p1/alarms/%s", id);
	cr_assert_eq(pht_mqtt_subscribe(m, filter, 1, 5000), 0);
	char topic[256], *payload = NULL;
	size_t len = 0;
	/* a fresh subscriber gets the state at once only because it is retained */
	cr_assert_eq(pht_mqtt_next(m, 5000, topic, sizeof topic, &payload, &len), 0, "the retained state of %s", id);
	cJSON *j = cJSON_Parse(payload);
	cr_assert_not_null(j, "%s", payload);
	snprintf(state, cap, "%s", cJSON_GetStringValue(jget(j, "state")));
	cJSON_Delete(j);
	free(payload);
	pht_mqtt_free(m);
}

Test(hub_http, acknowledge_over_http)
{
	char recs[256], batch[1024], id[80];
	char ts[PH_TIME_STRLEN];
	fmt_time(ph_now_ms() - 2000, ts);
	snprintf(recs, sizeof recs, "[{\"ts\":\"%s\",\"point\":\"stack-1\",\"values\":{\"so2\":420}}]", ts);
	cr_assert_eq(hh_batch(batch, sizeof batch, hh_agent(1), 5, 1, 1, recs), 0);
	cr_assert_eq(hh_publish(&env, hh_ent(1), hh_agent(1), "emission", batch), 0);
	wait_open_alarm(id, sizeof id);

	char path[256];
	struct resp r;
	snprintf(path, sizeof path, "/api/v1/parks/p1/alarms/%s/ack", id);
	http("POST", path, tok_mgr, "{\"by\": \"duty manager\", \"note\": \"stack test booked\", \"extra\": 1}", &r);
	expect_error(&r, 400, "extra");
	resp_free(&r);
	http("POST", path, tok_mgr, "{\"by\": \"duty manager\", \"note\": \"stack test booked\"}", &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_assert(cJSON_IsTrue(jget(r.json, "acked")));
	resp_free(&r);

	char s[64] = "";
	cr_assert_eq(hh_db_text(&env, s, sizeof s, "SELECT state FROM alarms WHERE alarm_id = '%s'", id), 0);
	cr_assert_str_eq(s, "active_acked", "committed before the reply");
	cr_assert_eq(hh_db_text(&env, s, sizeof s, "SELECT acked_by FROM alarms WHERE alarm_id = '%s'", id), 0);
	cr_assert_str_eq(s, "duty manager");
	int64_t n = 0;
	cr_assert_eq(hh_db_i64(&env, &n,
			       "SELECT count(*) FROM alarm_log l JOIN alarms a ON a.id = l.alarm WHERE a.alarm_id = '%s'"
			       " AND l.transition = 'acked' AND l.by = 'duty manager' AND l.note = 'stack test booked'",
			       id),
		     0);
	cr_assert_eq(n, 1, "one 'acked' transition in the log");
	/* the delivery thread publishes the new state after the commit */
	char state[64] = "";
	for (int i = 0; i < 50 && strcmp(state, "active_acked"); i++) {
		retained_state(id, state, sizeof state);
		if (strcmp(state, "active_acked"))
			pht_sleep_ms(100);
	}
	cr_assert_str_eq(state, "active_acked", "the retained alarm state on MQTT");

	/* again: refused with who and when (409), no change, no second log row */
	http("POST", path, tok_mgr, "{\"by\": \"someone else\"}", &r);
	cr_assert_eq(r.status, 409, "%s", r.body);
	cr_assert(strstr(r.body, "already acknowledged by duty manager at ") != NULL, "%s", r.body);
	resp_free(&r);
	cr_assert_eq(hh_db_text(&env, s, sizeof s, "SELECT acked_by FROM alarms WHERE alarm_id = '%s'", id), 0);
	cr_assert_str_eq(s, "duty manager", "the first acknowledgement stands");
	cr_assert_eq(hh_db_i64(&env, &n,
			       "SELECT count(*) FROM alarm_log l JOIN alarms a ON a.id = l.alarm WHERE a.alarm_id = '%s'"
			       " AND l.transition = 'acked'",
			       id),
		     0);
	cr_assert_eq(n, 1);

	http("POST", "/api/v1/parks/p1/alarms/a-19700101-000009/ack", tok_adm, "{\"by\": \"admin\"}", &r);
	expect_error(&r, 404, NULL);
	resp_free(&r);
}

/* ---- 4 ------------------------------------------------------------------- */

/* The value of a metric line "name value" (labels included in name). */
static double metric_value(const char *text, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, name, n) && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	cr_assert_fail("no metric %s in /metrics", name);
	return 0;
}

Test(hub_http, metrics_count_what_is_stored)
{
	publish_hours();
	int64_t batches = 0, open = 0;
	cr_assert_eq(hh_db_i64(&env, &batches, "SELECT count(DISTINCT seq) FROM samples"), 0);
	struct resp r;
	get("/metrics", tok_adm, &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_assert_eq(metric_value(r.body, "parkhub_batches_stored_total"), (double)batches, "%s", r.body);
	cr_assert_eq(metric_value(r.body, "parkhub_records_stored_total"), (double)(HOURS * HOUR / STEP_MS));
	cr_assert_eq(metric_value(r.body, "parkhub_values_stored_total"), (double)(2 * HOURS * HOUR / STEP_MS));
	cr_assert_eq(metric_value(r.body, "parkhub_mqtt_connected"), 1);
	cr_assert_eq(hh_db_i64(&env, &open, "SELECT count(*) FROM alarms WHERE state <> 'closed' AND severity = 'major'"),
		     0);
	cr_assert_eq(metric_value(r.body, "parkhub_alarms_open{park=\"p1\",severity=\"major\"}"), (double)open);
	cr_assert_eq(metric_value(r.body, "parkhub_refused_total{reason=\"all\"}"), 0);
	resp_free(&r);

	/* the disk's free space, once the writer has looked (5 s after start) */
	bool seen = false;
	for (int i = 0; i < 100 && !seen; i++) {
		get("/metrics", tok_adm, &r);
		seen = strstr(r.body, "\nparkhub_disk_free_bytes ") != NULL;
		if (seen) {
			cr_assert_gt(metric_value(r.body, "parkhub_disk_free_bytes"), 0);
			cr_assert_eq(metric_value(r.body, "parkhub_disk_low"), 0, "db.min_free_mb is 0 here");
		}
		resp_free(&r);
		if (!seen)
			pht_sleep_ms(200);
	}
	cr_assert(seen, "parkhub_disk_free_bytes within 20 s");
}
