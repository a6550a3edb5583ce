/*
 * Questions across parks (issue 19, item 3): a real Mosquitto and a real
 * parkhub serving three parks; a regulator's token covers p1 and p2, an
 * admin's every park. Two days of hourly SO2 (and CO, which has no limit)
 * go in over MQTT; then
 *   GET /api/v1/summary      equals each covered park's own summary, p3 absent
 *   GET /api/v1/exceedances  equals an oracle computed here from the data sent
 *   GET /api/v1/alarms       the per-park listings' rows, for the covered parks
 * in JSON and CSV (with the BOM); parks=p1,p3 is a 403 naming p3, an
 * unknown park a 404; the admin sees p3 too.
 *
 * Data: from D0 = Y-10-01 00:00 +08:00 (Y = last year: every hour closed),
 * 48 hours, interval 3600 s (one value with flag N is a valid hour). GB
 * 31574 SO2 limit 150 mg/Nm³ (cu); a valid day needs 20 valid hours; no
 * production record, so a day's converted mean is its mean.
 *   p1/ent-a stack-1  so2 spike(i), co 20             so2 exceeded some hours; co no limit
 *   p1/ent-b stack-1  so2 60                          within: no row
 *   p1/ent-b stack-2  so2 70 flagged D (fault)        no valid hour: not available
 *   p2/ent-a stack-1  so2 200 on day 0, 80 on day 1   hours and a day exceeded
 *   p3/ent-z stack-1  so2 300                         exceeded, only the admin sees it
 * One recent SO2 of 600 per park raises each park's so2_high alarm (> 500).
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "api/api.h"
#include "hub_helpers.h"
#include "parkhub/timefmt.h"

#define HOUR 3600000LL
#define NH 48
#define LIMIT 150.0
#define WAIT_MS 60000
#define REL(a, b) (fabs((a) - (b)) <= 1e-9 * fmax(1.0, fabs(b)))

static struct hh_env env;
static int http_port;
static int64_t d0;
static const char *const tok_reg = "regulator-token-p1-p2";
static const char *const tok_admin = "admin-token-every-park";
static char out[1 << 20];
static char hdrs[8192];

/* ---- the generator (and the oracle's only source) ---- */

static double a1_so2(int i) { return i % 10 == 3 ? 190.0 : 50.0 + (double)(i % 7) * 5; }
static double a2_so2(int i) { return i < 24 ? 200.0 : 80.0; }

struct series {
	const char *park, *ent, *agent, *point, *metric, *flag;
	double (*value)(int i);
	double constant;
};

static const struct series data[] = {
	{"p1", "ent-a", "gw-a", "stack-1", "so2", NULL, a1_so2, 0},
	{"p1", "ent-a", "gw-a", "stack-1", "co", NULL, NULL, 20},
	{"p1", "ent-b", "gw-b", "stack-1", "so2", NULL, NULL, 60},
	{"p1", "ent-b", "gw-b", "stack-2", "so2", "D", NULL, 70},
	{"p2", "ent-a", "gw-c", "stack-1", "so2", NULL, a2_so2, 0},
	{"p3", "ent-z", "gw-z", "stack-1", "so2", NULL, NULL, 300},
};
#define NSERIES (sizeof data / sizeof data[0])

static double value(const struct series *s, int i) { return s->value ? s->value(i) : s->constant; }

/* What /api/v1/exceedances must say of a series, from the data alone. */
struct want {
	bool row, na;
	int64_t hours_exceeded, hours_valid, days_exceeded, days_valid;
	double worst_hour, worst_day;
	int64_t worst_hour_ms, worst_day_ms;
};

static struct want oracle(const struct series *s)
{
	struct want w = {0};
	bool limit = !strcmp(s->metric, "so2");
	if (s->flag) { /* no valid hour, no valid day */
		w.row = w.na = true;
		return w;
	}
	for (int d = 0; d < NH / 24; d++) {
		double sum = 0;
		for (int h = 0; h < 24; h++) {
			int i = d * 24 + h;
			double v = value(s, i);
			sum += v;
			w.hours_valid++;
			if (limit && v > LIMIT)
				w.hours_exceeded++;
			if (limit && (!w.worst_hour_ms || v > w.worst_hour)) { /* ties: the earlier */
				w.worst_hour = v;
				w.worst_hour_ms = d0 + i * HOUR;
			}
		}
		w.days_valid++;
		if (limit && sum / 24 > LIMIT)
			w.days_exceeded++;
		if (limit && (!w.worst_day_ms || sum / 24 > w.worst_day)) {
			w.worst_day = sum / 24;
			w.worst_day_ms = d0 + d * 24 * HOUR;
		}
	}
	w.na = !limit;
	w.row = w.na || w.hours_exceeded + w.days_exceeded > 0;
	return w;
}

/* ---- setup ---- */

static int64_t local_midnight(int y, unsigned m, unsigned d) { return ph_days_from_civil(y, m, d) * 86400000LL - 8 * HOUR; }

static void write_config(void)
{
	static char cfg[8192], rules[3][700];
	char hr[65], ha[65];
	cr_assert_eq(ph_api_token_hash_hex(tok_reg, hr), 0);
	cr_assert_eq(ph_api_token_hash_hex(tok_admin, ha), 0);
	const char *parks[3] = {"p1", "p2", "p3"};
	for (int p = 0; p < 3; p++) {
		char path[700], text[400];
		snprintf(path, sizeof path, "%s/rules-%s.json", env.dir, parks[p]);
		snprintf(text, sizeof text,
			 "{\"v\": 1, \"park\": \"%s\", \"rules\": [{\"id\": \"so2_high\", \"severity\": \"major\","
			 " \"scope\": {\"metric\": \"so2\"}, \"threshold\": {\"op\": \">\", \"limit\": 500, \"hysteresis\": 10}}]}\n",
			 parks[p]);
		cr_assert_eq(hh_write_file(path, text), 0);
		snprintf(rules[p], sizeof rules[p], "%s", path);
	}
	const char *ent = "\"sector\": \"cu\", \"class\": \"existing\", \"expected_interval_s\": 3600";
	int n = snprintf(cfg, sizeof cfg,
			 "{\"hub_id\": \"hub-test\",\n"
			 " \"mqtt\": {\"uris\": [\"%s\"], \"keepalive_s\": 10, \"reconnect_min_ms\": 100, \"reconnect_max_ms\": 1000},\n"
			 " \"db\": {\"path\": \"%s\", \"min_free_mb\": 0},\n"
			 " \"ingest\": {\"max_future_s\": 300, \"max_age_days\": 800},\n"
			 " \"http\": {\"listen\": \"127.0.0.1\", \"port\": %d, \"tokens\": [\n"
			 "   {\"name\": \"reg\", \"sha256\": \"%s\", \"role\": \"regulator\", \"parks\": [\"p1\", \"p2\"]},\n"
			 "   {\"name\": \"admin\", \"sha256\": \"%s\", \"role\": \"admin\"}]},\n"
			 " \"parks\": [\n"
			 "  {\"id\": \"p1\", \"name\": \"Park one\", \"tz\": \"Asia/Shanghai\", \"rules_file\": \"%s\", \"enterprises\": [\n"
			 "    {\"id\": \"ent-a\", \"agents\": [\"gw-a\"], %s}, {\"id\": \"ent-b\", \"agents\": [\"gw-b\"], %s}]},\n"
			 "  {\"id\": \"p2\", \"name\": \"Park two\", \"tz\": \"Asia/Shanghai\", \"rules_file\": \"%s\", \"enterprises\": [\n"
			 "    {\"id\": \"ent-a\", \"agents\": [\"gw-c\"], %s}]},\n"
			 "  {\"id\": \"p3\", \"name\": \"Park three\", \"tz\": \"Asia/Shanghai\", \"rules_file\": \"%s\", \"enterprises\": [\n"
			 "    {\"id\": \"ent-z\", \"agents\": [\"gw-z\"], %s}]}]}\n",
			 pht_broker_uri(&env.broker), env.db, http_port, hr, ha, rules[0], ent, ent, rules[1], ent, rules[2], ent);
	cr_assert(n > 0 && (size_t)n < sizeof cfg);
	cr_assert_eq(hh_write_file(env.hub_cfg, cfg), 0);
}

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int y;
	unsigned m, d;
	ph_civil_from_days((ph_now_ms() + 8 * HOUR) / 86400000LL, &y, &m, &d);
	d0 = local_midnight(y - 1, 10, 1);
	http_port = pht_free_port();
	cr_assert_gt(http_port, 0);
	struct hh_hub_opts o = {.tz = "Asia/Shanghai", .expected_interval_s = 3600, .max_age_days = 800};
	cr_assert_eq(hh_setup(&env, &o), 0);
	write_config();
	cr_assert_eq(hh_hub_start(&env, WAIT_MS), 0, "hub start (log %s)", env.hub_log);
}

static void teardown(void)
{
	char why[600];
	cr_expect_eq(hh_hub_stop_checked(&env, why, sizeof why), 0, "%s", why);
	hh_teardown(&env);
	curl_global_cleanup();
}

TestSuite(parks, .init = setup, .fini = teardown, .timeout = 280);

/* One batch per agent: every series of it, hour by hour. */
static void publish_all(void)
{
	static char recs[1 << 18], batch[1 << 19];
	int64_t seq = 0;
	for (size_t a = 0; a < NSERIES; a++) {
		if (a && !strcmp(data[a].agent, data[a - 1].agent))
			continue; /* the agent's batch is done */
		size_t len = 0;
		for (size_t k = a; k < NSERIES && !strcmp(data[k].agent, data[a].agent); k++)
			for (int i = 0; i < NH; i++) {
				char ts[PH_TIME_STRLEN], flags[64] = "";
				cr_assert_eq(ph_time_format(d0 + i * HOUR, ts, sizeof ts), 0);
				if (data[k].flag)
					snprintf(flags, sizeof flags, ",\"flags\":{\"%s\":\"%s\"}", data[k].metric, data[k].flag);
				int n = snprintf(recs + len, sizeof recs - len,
						 "%s{\"ts\":\"%s\",\"point\":\"%s\",\"values\":{\"%s\":%.17g}%s}", len ? "," : "[", ts,
						 data[k].point, data[k].metric, value(&data[k], i), flags);
				cr_assert(n > 0 && (size_t)n < sizeof recs - len);
				len += (size_t)n;
			}
		cr_assert(len + 2 < sizeof recs);
		strcpy(recs + len, "]");
		cr_assert_eq(hh_batch(batch, sizeof batch, data[a].agent, 7, ++seq, 1, recs), 0);
		char topic[256];
		snprintf(topic, sizeof topic, "parkhub/v1/%s/%s/%s/ev/emission", data[a].park, data[a].ent, data[a].agent);
		cr_assert_eq(hh_publish_raw(&env, topic, batch, 0), 0);
	}
	int64_t last = 0;
	cr_assert_eq(hh_wait_db(&env, (int64_t)NSERIES * NH, &last, WAIT_MS, "SELECT count(*) FROM rollups WHERE period = 1"),
		     0, "hour rollups: %lld of %lld (log %s)", (long long)last, (long long)NSERIES * NH, env.hub_log);
}

/* A recent SO2 of 600 in each park: its so2_high alarm. */
static void raise_alarms(void)
{
	static const char *const who[3][3] = {{"p1", "ent-a", "gw-a"}, {"p2", "ent-a", "gw-c"}, {"p3", "ent-z", "gw-z"}};
	char ts[PH_TIME_STRLEN], recs[256], batch[1024], topic[256];
	cr_assert_eq(ph_time_format(ph_now_ms() - 60000, ts, sizeof ts), 0);
	for (int p = 0; p < 3; p++) {
		snprintf(recs, sizeof recs, "[{\"ts\":\"%s\",\"point\":\"stack-1\",\"values\":{\"so2\":600}}]", ts);
		cr_assert_eq(hh_batch(batch, sizeof batch, who[p][2], 7, 100, 1, recs), 0);
		snprintf(topic, sizeof topic, "parkhub/v1/%s/%s/%s/ev/emission", who[p][0], who[p][1], who[p][2]);
		cr_assert_eq(hh_publish_raw(&env, topic, batch, 0), 0);
	}
	int64_t last = 0;
	cr_assert_eq(hh_wait_db(&env, 3, &last, WAIT_MS, "SELECT count(*) FROM alarms"), 0, "alarms: %lld (log %s)",
		     (long long)last, env.hub_log);
}

/* ---- HTTP ---- */

/* GET path with tok: the body in out, the headers in hdrs; the status. */
static long api_get(const char *tok, const char *path)
{
	long st = hh_http_get(http_port, tok, path, out, sizeof out, hdrs, sizeof hdrs);
	cr_assert_gt(st, 0, "GET %s: no response", path);
	return st;
}

static cJSON *get_json(const char *tok, const char *path, long want)
{
	long st = api_get(tok, path);
	cr_assert_eq(st, want, "GET %s: %ld %s", path, st, out);
	cJSON *j = cJSON_Parse(out);
	cr_assert_not_null(j, "GET %s: not JSON: %.200s", path, out);
	return j;
}

static const cJSON *get(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	cr_assert_not_null(v, "no %s in %.300s", k, cJSON_PrintUnformatted(o));
	return v;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);
	cr_assert(cJSON_IsNumber(v), "%s is not a number: %s", k, cJSON_PrintUnformatted(v));
	return v->valuedouble;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);
	cr_assert(cJSON_IsString(v), "%s is not a string", k);
	return v->valuestring;
}

static bool starts(const char *s, const char *prefix) { return !strncmp(s, prefix, strlen(prefix)); }

static void period(char *q, size_t cap)
{
	char f[PH_TIME_STRLEN], t[PH_TIME_STRLEN];
	cr_assert_eq(ph_time_format(d0, f, sizeof f), 0);
	cr_assert_eq(ph_time_format(d0 + NH * HOUR, t, sizeof t), 0);
	snprintf(q, cap, "from=%s&to=%s", f, t);
}

static void load(void)
{
	publish_all();
	cr_assert_eq(hh_cems_update(&env, WAIT_MS), 0);
	raise_alarms();
}

/* ---- the tests ---- */

/* The cross-park summary is, park by park, the park's own summary: the
 * same JSON and the same bytes, though the parks are computed at once on
 * several connections (api_parks.c inv. 5). */
static char all_text[1 << 20];

Test(parks, summary_is_each_covered_parks_own_summary)
{
	load();
	char q[200], path[400];
	period(q, sizeof q);
	snprintf(path, sizeof path, "/api/v1/summary?%s", q);
	cJSON *all = get_json(tok_reg, path, 200);
	snprintf(all_text, sizeof all_text, "%s", out);
	const cJSON *parks = get(all, "parks");
	cr_assert_eq(cJSON_GetArraySize(parks), 2, "the token covers p1 and p2: %s", out);
	const char *want[2] = {"p1", "p2"};
	for (int k = 0; k < 2; k++) {
		const cJSON *p = cJSON_GetArrayItem(parks, k);
		cr_assert_str_eq(str(p, "park"), want[k]);
		snprintf(path, sizeof path, "/api/v1/parks/%s/summary?%s", want[k], q);
		cJSON *one = get_json(tok_reg, path, 200);
		cr_assert(cJSON_Compare(p, one, 1), "%s differs:\nacross %s\nown    %s", want[k], cJSON_PrintUnformatted(p),
			  cJSON_PrintUnformatted(one));
		size_t n = strlen(out);
		cr_assert(n > 2 && out[n - 1] == '\n', "%s: %.200s", path, out);
		out[n - 1] = 0; /* the document's newline: the object is followed by ',' or ']' across parks */
		cr_assert(strstr(all_text, out) != NULL, "%s: its bytes are not in the answer across parks:\n%.300s", want[k],
			  out);
		cJSON_Delete(one);
	}
	/* a figure that matters, so that two empty documents cannot pass */
	const cJSON *a = cJSON_GetArrayItem(get(cJSON_GetArrayItem(parks, 1), "enterprises"), 0);
	const cJSON *so2 = cJSON_GetArrayItem(get(a, "pollutants"), 0);
	cr_assert_str_eq(str(so2, "metric"), "so2");
	cr_assert_eq(num(get(so2, "hours"), "exceeded"), 24);
	cJSON_Delete(all);

	/* the admin sees the three parks */
	snprintf(path, sizeof path, "/api/v1/summary?%s", q);
	all = get_json(tok_admin, path, 200);
	cr_assert_eq(cJSON_GetArraySize(get(all, "parks")), 3);
	cr_assert_str_eq(str(cJSON_GetArrayItem(get(all, "parks"), 2), "park"), "p3");
	cJSON_Delete(all);

	/* parks= narrows; outside the token a 403 naming the park, the same
	 * for a park that does not exist (a limited token learns nothing of
	 * other parks); unknown to a token for every park a 404 */
	snprintf(path, sizeof path, "/api/v1/summary?%s&parks=p2", q);
	all = get_json(tok_reg, path, 200);
	cr_assert_eq(cJSON_GetArraySize(get(all, "parks")), 1);
	cJSON_Delete(all);
	snprintf(path, sizeof path, "/api/v1/summary?%s&parks=p1,p3", q);
	cJSON *e = get_json(tok_reg, path, 403);
	cr_assert(strstr(str(get(e, "error"), "message"), "p3") != NULL, "%s", out);
	cr_assert_str_eq(str(get(e, "error"), "param"), "parks");
	cJSON_Delete(e);
	snprintf(path, sizeof path, "/api/v1/summary?%s&parks=p9", q);
	e = get_json(tok_reg, path, 403);
	cr_assert(strstr(str(get(e, "error"), "message"), "p9") != NULL, "%s", out);
	cJSON_Delete(e);
	e = get_json(tok_admin, path, 404);
	cr_assert(strstr(str(get(e, "error"), "message"), "p9") != NULL, "%s", out);
	cJSON_Delete(e);
	/* the same for a park in the path */
	snprintf(path, sizeof path, "/api/v1/parks/p3/summary?%s", q);
	e = get_json(tok_reg, path, 403);
	char m3[256];
	snprintf(m3, sizeof m3, "%s", str(get(e, "error"), "message"));
	cJSON_Delete(e);
	snprintf(path, sizeof path, "/api/v1/parks/p9/summary?%s", q);
	e = get_json(tok_reg, path, 403);
	cr_assert(strstr(str(get(e, "error"), "message"), "p9") && strstr(m3, "p3"), "%s / %s", m3, out);
	cJSON_Delete(e);
	cJSON_Delete(get_json(tok_admin, path, 404));
	snprintf(path, sizeof path, "/api/v1/summary?%s&parks=p1,p1", q);
	cJSON_Delete(get_json(tok_reg, path, 400));

	/* CSV: the BOM, a park column, the covered parks' rows only */
	snprintf(path, sizeof path, "/api/v1/summary?%s&format=csv", q);
	cr_assert_eq(api_get(tok_reg, path), 200, "%s", out);
	cr_assert(starts(out, "\xEF\xBB\xBF" "park,ent,section,item,value,unit\r\n"), "%.60s", out);
	cr_assert(strstr(hdrs, "Content-Disposition: attachment; filename=\"") != NULL, "%s", hdrs);
	int rows = 0, p1 = 0, p2 = 0;
	for (char *line = strstr(out, "\r\n") + 2; *line; line = strstr(line, "\r\n") + 2, rows++) {
		p1 += !strncmp(line, "p1,", 3);
		p2 += !strncmp(line, "p2,", 3);
		cr_assert(!strncmp(line, "p1,", 3) || !strncmp(line, "p2,", 3), "a row of another park: %.80s", line);
	}
	cr_assert(p1 > 0 && p2 > 0, "rows: p1 %d, p2 %d", p1, p2);
}

/* Find the row of (park, ent, point, metric), NULL when none. */
static const cJSON *row_of(const cJSON *rows, const struct series *s)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, rows) {
		if (!strcmp(str(it, "park"), s->park) && !strcmp(str(it, "ent"), s->ent) && !strcmp(str(it, "point"), s->point) &&
		    !strcmp(str(it, "metric"), s->metric))
			return it;
	}
	return NULL;
}

static void check_time(const cJSON *row, const char *k, int64_t want)
{
	int64_t ms;
	const char *v = str(row, k);
	cr_assert_eq(ph_time_parse(v, strlen(v), &ms), 0, "%s: %s", k, v);
	cr_assert_eq(ms, want, "%s: %s", k, v);
}

/* The exceedance listing against the oracle, for each token. */
static void check_exceedances(const char *tok, bool sees_p3)
{
	char q[200], path[400];
	period(q, sizeof q);
	snprintf(path, sizeof path, "/api/v1/exceedances?%s", q);
	cJSON *j = get_json(tok, path, 200);
	const cJSON *rows = get(j, "exceedances");
	int want_rows = 0;
	for (size_t k = 0; k < NSERIES; k++) {
		const struct series *s = &data[k];
		struct want w = oracle(s);
		bool shown = w.row && (sees_p3 || strcmp(s->park, "p3"));
		const cJSON *r = row_of(rows, s);
		want_rows += shown;
		cr_assert_eq(r != NULL, shown, "%s/%s/%s %s: row %s", s->park, s->ent, s->point, s->metric,
			     r ? "present" : "absent");
		if (!r)
			continue;
		cr_assert_str_eq(str(r, "status"), w.na ? "not_available" : "exceeded");
		cr_assert_eq(num(r, "hours_valid"), w.hours_valid, "%s/%s", s->park, s->ent);
		cr_assert_eq(num(r, "days_valid"), w.days_valid, "%s/%s", s->park, s->ent);
		if (w.na) { /* the reasons, never a 0 for a figure not there */
			cr_assert(cJSON_IsString(get(r, "hours_na")) && cJSON_IsString(get(r, "days_na")));
			cr_assert(cJSON_IsNull(get(r, "worst_hour_mean")) && cJSON_IsNull(get(r, "worst_hour_limit")));
			cr_assert(cJSON_IsNull(get(r, "hours_exceeded")) && cJSON_IsNull(get(r, "days_exceeded")),
				  "nothing judged: the counts over the limit are not available, not 0");
			cr_assert(strstr(str(r, "hours_na"), s->flag ? "no valid hourly mean" : "no limit") != NULL, "%s",
				  str(r, "hours_na"));
			continue;
		}
		cr_assert_eq(num(r, "hours_exceeded"), w.hours_exceeded, "%s/%s", s->park, s->ent);
		cr_assert_eq(num(r, "hours_with_limit"), w.hours_valid);
		cr_assert_eq(num(r, "days_exceeded"), w.days_exceeded, "%s/%s", s->park, s->ent);
		cr_assert(REL(num(r, "worst_hour_mean"), w.worst_hour), "%g vs %g", num(r, "worst_hour_mean"), w.worst_hour);
		cr_assert(REL(num(r, "worst_hour_limit"), LIMIT));
		cr_assert(REL(num(r, "worst_hour_ratio"), w.worst_hour / LIMIT));
		check_time(r, "worst_hour_start", w.worst_hour_ms);
		cr_assert(REL(num(r, "worst_day_converted"), w.worst_day), "%g vs %g", num(r, "worst_day_converted"),
			  w.worst_day);
		check_time(r, "worst_day_start", w.worst_day_ms);
		cr_assert_str_eq(str(r, "unit"), "mg/Nm3");
	}
	cr_assert_eq(cJSON_GetArraySize(rows), want_rows, "%s", out);
	cr_assert_eq(num(j, "count"), want_rows);
	cJSON_Delete(j);
}

Test(parks, exceedances_match_the_data_sent)
{
	load();
	check_exceedances(tok_reg, false);
	check_exceedances(tok_admin, true);
	char q[200], path[400];
	period(q, sizeof q);

	/* filters: status and metric */
	snprintf(path, sizeof path, "/api/v1/exceedances?%s&status=exceeded&metric=so2", q);
	cJSON *j = get_json(tok_reg, path, 200);
	cr_assert_eq(cJSON_GetArraySize(get(j, "exceedances")), 2, "%s", out); /* p1/ent-a and p2/ent-a */
	cJSON_Delete(j);
	snprintf(path, sizeof path, "/api/v1/exceedances?%s&metric=flow", q);
	cJSON_Delete(get_json(tok_reg, path, 400));
	snprintf(path, sizeof path, "/api/v1/exceedances?%s&parks=p3", q);
	cJSON_Delete(get_json(tok_reg, path, 403));
	/* more rows than the limit: a clear refusal naming it */
	snprintf(path, sizeof path, "/api/v1/exceedances?%s&limit=2", q);
	j = get_json(tok_reg, path, 400);
	cr_assert_str_eq(str(get(j, "error"), "param"), "limit");
	cJSON_Delete(j);
	/* longer than 400 days */
	cJSON_Delete(get_json(tok_reg, "/api/v1/exceedances?from=2024-01-01T00:00:00Z&to=2025-03-01T00:00:00Z", 400));

	/* CSV: BOM, header, one line per row */
	snprintf(path, sizeof path, "/api/v1/exceedances?%s&format=csv", q);
	cr_assert_eq(api_get(tok_reg, path), 200, "%s", out);
	cr_assert(starts(out, "\xEF\xBB\xBF" "park,ent,point,metric,unit,status,hours_exceeded,"), "%.80s", out);
	cr_assert(strstr(hdrs, "Content-Disposition: attachment; filename=\"") != NULL, "%s", hdrs);
	int lines = 0;
	for (char *p = out; (p = strstr(p, "\r\n")); p += 2)
		lines++;
	cr_assert_eq(lines, 1 + 4, "header and 4 rows: %s", out);
	cr_assert(strstr(out, "\r\np2,ent-a,stack-1,so2,mg/Nm3,exceeded,24,") != NULL, "%s", out);
}

Test(parks, alarms_of_the_covered_parks)
{
	load();
	cJSON *j = get_json(tok_reg, "/api/v1/alarms", 200);
	const cJSON *rows = get(j, "alarms"), *it;
	cr_assert_eq(cJSON_GetArraySize(rows), 2, "%s", out);
	int seen[2] = {0, 0};
	cJSON_ArrayForEach(it, rows) {
		const char *p = str(it, "park");
		cr_assert(!strcmp(p, "p1") || !strcmp(p, "p2"), "an alarm of %s", p);
		seen[p[1] - '1']++;
		/* the same row as the park's own listing */
		char path[200];
		snprintf(path, sizeof path, "/api/v1/parks/%s/alarms", p);
		cJSON *one = get_json(tok_reg, path, 200); /* it is j's, parsed: out may change */
		cr_assert(cJSON_Compare(cJSON_GetArrayItem(get(one, "alarms"), 0), it, 1), "%s differs", p);
		cJSON_Delete(one);
	}
	cr_assert(seen[0] == 1 && seen[1] == 1);
	cJSON_Delete(j);
	j = get_json(tok_admin, "/api/v1/alarms?severity=major", 200);
	cr_assert_eq(cJSON_GetArraySize(get(j, "alarms")), 3, "%s", out);
	cJSON_Delete(j);
	/* pages: one alarm a page, a next link across the parks */
	j = get_json(tok_admin, "/api/v1/alarms?limit=1", 200);
	cr_assert_eq(cJSON_GetArraySize(get(j, "alarms")), 1);
	cr_assert(strstr(str(j, "next"), "/api/v1/alarms?limit=1&cursor=") == str(j, "next"), "%s", out);
	cJSON_Delete(j);
	cJSON_Delete(get_json(tok_reg, "/api/v1/alarms?parks=p3", 403));
	cJSON_Delete(get_json(tok_reg, "/api/v1/alarms?ent=ent-z", 404));
	cr_assert_eq(api_get(tok_reg, "/api/v1/alarms?format=csv"), 200);
	cr_assert(starts(out, "\xEF\xBB\xBF" "park,") || starts(out, "\xEF\xBB\xBF" "alarm_id,"), "%.80s", out);
	int lines = 0;
	for (char *p = out; (p = strstr(p, "\r\n")); p += 2)
		lines++;
	cr_assert_eq(lines, 3, "header and 2 rows: %s", out);
}
