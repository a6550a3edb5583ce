/*
 * A simulated wastewater outlet end to end (issue 20): a real Mosquitto, a
 * real parkagent running the "sim" source with its outlet on
 * (outfall_every) and a fixed schedule in the past (start_ms: three closed
 * local days backfilled at once), and a real parkhub. The hub's water
 * figures — daily volume, loads, daily-mean compliance — in `parkhub
 * report` (JSON) and in the summary API are checked against an oracle the
 * test computes itself from what the simulator emitted: the same source
 * run in this process on the same config (src_sim.c inv. 1: every value is
 * a pure function of seed and tick), summed with plain loops (no hub code).
 *
 * Schedule: rate_hz 0.01 (a tick every 100 s), outfall_every 36: one
 * outfall-1 record per hour, at d0 + k h (k = 0..71), d0 a local midnight
 * (Asia/Shanghai) at least four days ago. The hub treats outfall-1 as
 * hourly data (point_intervals 3600: an hour is valid when its value has
 * flag N), so every local day has 24 valid hours and is a valid day.
 *
 * Limits: with the built-in standard (GB 31574-2015, whose water values are
 * shipped null and unverified) every water limit must be "not available"
 * with its reason — never a judged day, never 0 days over. Then a limits
 * file of the test's own (TEST VALUES, marked so in the file, never
 * shipped) with a COD limit between the lowest and highest daily mean: the
 * days over are the days the oracle finds over, at least one over and one
 * within.
 *
 * The second test sends the same kind of outlet through the agent's "hj212"
 * source: a data logger (a TCP client here) sending hourly data (CN 2061)
 * in HJ 212-2017 codes, one hour split in two parts (PNUM/PNO), then a day
 * in the HJ/T 212-2005 codes installed loggers still send, with the flow in
 * L/s and its -Cou; the hub's figures equal the values sent, summed here.
 *
 * Thread: the test's own. Every wait is bounded.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "hub_helpers.h"
#include "api/api.h"
#include "hj212/hj212.h"
#include "parkhub/batch.h"
#include "parkhub/catalog.h"
#include "parkhub/cfgmap.h"
#include "parkhub/timefmt.h"
#include "sources/source.h"

extern const struct ph_source_ops ph_src_sim;

#define HOUR 3600000LL
#define DAY (24 * HOUR)
#define NDAYS 3
#define NH (NDAYS * 24)
#define TICKS (NH * 36)
#define WAIT_MS 30000
#define REL(a, b) (fabs((a) - (b)) <= 1e-9 * fmax(1.0, fabs(b)))

static struct hh_env env;
static int http_port, year;
static int64_t d0; /* local midnight, UTC ms */
static const char *const tok_reg = "regulator-token-water";
static char out[262144];
static char sim_src[512];

/* ---- the oracle: the simulator run here ------------------------------------ */

enum { W_PH, W_COD, W_NH3N, W_SS, W_CU, W_FLOW, W_N };
static const char *const wcodes[W_N] = {"w_ph", "w_cod", "w_nh3n", "w_ss", "w_cu", "w_flow"};
static double hv[NH][W_N]; /* the outfall's value of each hour */
static int nhv;

static int or_record(void *user, enum ph_kind kind, const struct ph_record *r, const struct ph_value *vals, size_t n,
		     const char *attrs)
{
	const struct ph_catalog *cat = user;
	(void)kind;
	(void)attrs;
	if (strcmp(r->point, "outfall-1") != 0)
		return 0;
	int64_t k = (r->ts_ms - d0) / HOUR;
	cr_assert_eq(r->ts_ms, d0 + k * HOUR, "an outfall record on the hour");
	cr_assert(k >= 0 && k < NH);
	for (size_t i = 0; i < n; i++) {
		const struct ph_metric *m = ph_catalog_at(cat, (size_t)vals[i].metric);
		cr_assert_eq(vals[i].flag, 'N');
		for (int w = 0; w < W_N; w++)
			if (strcmp(m->code, wcodes[w]) == 0)
				hv[k][w] = vals[i].v;
	}
	nhv++;
	return 0;
}
static void or_reject(void *user, const char *where, const struct ph_err *err)
{
	(void)user;
	cr_assert_fail("sim rejected a record at %s: %s", where, err->msg);
}
static void or_position(void *user, const struct ph_source_pos *pos)
{
	(void)user;
	(void)pos;
}

static void oracle_run(void)
{
	struct ph_catalog *cat = NULL;
	struct ph_err err = {0};
	cr_assert_eq(ph_catalog_load_builtin(&cat, &err), 0, "%s", err.msg);
	void *ctx = calloc(1, ph_src_sim.ctx_size);
	cr_assert_not_null(ctx);
	cJSON *j = cJSON_Parse(sim_src);
	cr_assert_not_null(j);
	cr_assert_eq(ph_cfgmap_apply(ph_src_sim.cfgmap, j, "sources[0]", ctx, &err), 0, "%s", err.msg);
	cJSON_Delete(j);
	struct ph_source_env senv = {.cat = cat, .name = "sources[0]", .max_future_ms = 60000};
	cr_assert_eq(ph_src_sim.init(ctx, NULL, &senv, &err), 0, "%s", err.msg);
	struct ph_source_io io;
	cr_assert_eq(ph_src_sim.start(ctx, NULL, &io, &err), 0, "%s", err.msg);
	struct ph_emitter em = {.record = or_record, .reject = or_reject, .position = or_position, .user = cat};
	int64_t now = ph_now_ms();
	for (int guard = 0; ph_src_sim.collect(ctx, &em, now) == 1; guard++)
		cr_assert_lt(guard, 100000);
	ph_src_sim.exit(ctx);
	free(ctx);
	ph_catalog_free(cat);
	cr_assert_eq(nhv, NH, "the simulator emitted %d outfall records", nhv);
}

struct day_want {
	double volume, load_kg[W_N], mean[W_N];
};

/* Plain sums over the hours of [from_h, to_h). */
static void oracle_span(int from_h, int to_h, struct day_want *w)
{
	memset(w, 0, sizeof *w);
	for (int h = from_h; h < to_h; h++) {
		w->volume += hv[h][W_FLOW]; /* m3/h x 1 h */
		for (int k = 0; k < W_N; k++) {
			w->load_kg[k] += hv[h][k] * hv[h][W_FLOW] * 1e-3; /* mg/L x m3 = g */
			w->mean[k] += hv[h][k] / (to_h - from_h);
		}
	}
}

/* ---- the hub ------------------------------------------------------------------ */

static int64_t local_midnight_days_ago(int n)
{
	int64_t day = (ph_now_ms() + 8 * HOUR) / DAY - n;
	return day * DAY - 8 * HOUR;
}

static char ent_a[400], top[1024], limit_file[700];

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	d0 = local_midnight_days_ago(5);
	int y0, y1;
	unsigned m, d;
	ph_civil_from_days((d0 + 8 * HOUR) / DAY, &y0, &m, &d);
	ph_civil_from_days((d0 + 8 * HOUR + NH * HOUR - 1) / DAY, &y1, &m, &d);
	if (y0 != y1) /* the three days across New Year: take the three before it */
		d0 -= NDAYS * DAY;
	ph_civil_from_days((d0 + 8 * HOUR) / DAY, &year, &m, &d);
	snprintf(sim_src, sizeof sim_src,
		 "{\"type\": \"sim\", \"name\": \"works\", \"seed\": 20, \"rate_hz\": 0.01, \"excursions\": false,"
		 " \"stack_test_every\": 0, \"weighbridge_every\": 0, \"outfall_every\": 36,"
		 " \"start_ms\": %lld, \"duration_ticks\": %d}",
		 (long long)d0, TICKS);
	http_port = pht_free_port();
	cr_assert_gt(http_port, 0);
	char hr[65];
	cr_assert_eq(ph_api_token_hash_hex(tok_reg, hr), 0);
	snprintf(top, sizeof top,
		 "\"http\": {\"listen\": \"127.0.0.1\", \"port\": %d, \"tokens\": ["
		 "{\"name\": \"reg\", \"sha256\": \"%s\", \"role\": \"regulator\"}]}",
		 http_port, hr);
	snprintf(ent_a, sizeof ent_a,
		 "\"point_intervals\": {\"outfall-1\": 3600},"
		 " \"point_media\": {\"stack-1\": {\"medium\": \"air\"},"
		 " \"outfall-1\": {\"medium\": \"water\", \"discharge\": \"direct\"}}");
	struct hh_hub_opts o = {.tz = "Asia/Shanghai", .max_age_days = 800, .top_extra = top,
				.ent_extra = {ent_a, NULL, NULL}};
	cr_assert_eq(hh_setup(&env, &o), 0);
	snprintf(limit_file, sizeof limit_file, "%s/test-water-limits.json", env.dir);
	cr_assert_eq(hh_hub_start(&env, WAIT_MS), 0, "hub start (log %s)", env.hub_log);
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

TestSuite(water, .init = setup, .fini = teardown, .timeout = 280);

/* The hub runs its CEMS update 5 s after it starts: a restart processes every hour stored. */
static void cems_done(void)
{
	int status = 0;
	int64_t t0 = ph_now_ms(), last = 0;
	cr_assert_eq(hh_hub_stop(&env, 10000, &status), 0);
	cr_assert_eq(hh_hub_start(&env, WAIT_MS), 0);
	cr_assert_eq(hh_wait_db(&env, 1, &last, 60000,
				"SELECT run_ms > %lld AND NOT EXISTS (SELECT 1 FROM cems_dirty) FROM cems_state",
				(long long)t0),
		     0, "the CEMS update did not run (log %s)", env.hub_log);
}

static int run_report(const char *outp)
{
	char ys[8];
	snprintf(ys, sizeof ys, "%d", year);
	const char *argv[] = {hh_parkhub(), "report", "--config", env.hub_cfg, "--park", "p1", "--year", ys,
			      "--format", "json", "--out", outp, NULL};
	int code = -1;
	cr_assert_eq(pht_run(argv, 60000, out, sizeof out, &code), 0, "parkhub report did not finish");
	return code;
}

static const cJSON *get(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	cr_assert_not_null(v, "no %s in %s", k, cJSON_PrintUnformatted(o));
	return v;
}
static double num(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);
	cr_assert(cJSON_IsNumber(v), "%s is not a number: %s", k, cJSON_PrintUnformatted(v));
	return v->valuedouble;
}
static const cJSON *by(const cJSON *arr, const char *k, const char *v)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, arr) {
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(it, k);
		if (cJSON_IsString(x) && strcmp(x->valuestring, v) == 0)
			return it;
	}
	cr_assert_fail("no %s = %s in %s", k, v, cJSON_PrintUnformatted(arr));
	return NULL;
}

static long api_get(const char *path)
{
	long st = hh_http_get(http_port, tok_reg, path, out, sizeof out, NULL, 0);
	cr_assert_gt(st, 0, "GET %s: no whole response (%ld)", path, st);
	return st;
}

/* Starts the agent on sources (a JSON array). */
static void start_agent(const char *sources)
{
	struct hh_agent_opts ao = {.sources = sources, .max_records = 500, .max_delay_ms = 100};
	cr_assert_eq(hh_agent_start(&env, 0, &ao), 0);
}

/* Waits until the hub holds every outfall hour, then stops the agent. */
static void agent_done(void)
{
	int64_t last = -1;
	cr_assert_eq(hh_wait_db(&env, NH, &last, 120000,
				"SELECT TOTAL(r.n) FROM rollups r JOIN series s ON s.id = r.series_id"
				" JOIN points p ON p.id = s.point_id JOIN metrics m ON m.id = s.metric_id"
				" WHERE p.point = 'outfall-1' AND m.code = 'w_flow' AND r.period = 0"),
		     0, "outfall flow values stored: %lld of %d (log %s)", (long long)last, NH, env.hub_log);
	int status = 0;
	cr_assert_eq(hh_agent_stop(&env, 0, 10000, &status), 0);
}

/* The agent with the simulated outlet, until the hub holds every outfall hour. */
static void run_agent(void)
{
	char sources[600];
	snprintf(sources, sizeof sources, "[%s]", sim_src);
	start_agent(sources);
	agent_done();
}

/* The report's and the summary's water rows of ent-a's outlet. */
static cJSON *report_json(void)
{
	char path[700];
	snprintf(path, sizeof path, "%s/report.json", env.dir);
	cr_assert_eq(run_report(path), 0, "%s", out);
	char *text = hh_slurp(path);
	cJSON *rep = cJSON_Parse(text);
	free(text);
	cr_assert_not_null(rep);
	return rep;
}

static cJSON *summary_json(void)
{
	char path[300];
	snprintf(path, sizeof path, "/api/v1/parks/p1/summary?from=%04d-01-01T00:00:00%%2B08:00&to=%04d-01-01T00:00:00%%2B08:00",
		 year, year + 1);
	cr_assert_eq(api_get(path), 200, "%s", out);
	cJSON *j = cJSON_Parse(out);
	cr_assert_not_null(j, "%s", out);
	return j;
}

/* Volume and loads of the whole run, in the report and the summary; their
 * per-day means equal the oracle's days. */
static void check_volume_and_loads(const cJSON *rep, const cJSON *sum)
{
	struct day_want all;
	oracle_span(0, NH, &all);
	const cJSON *rw = get(by(get(rep, "enterprises"), "id", "ent-a"), "water");
	cr_assert_eq(num(rw, "outlets"), 1);
	const cJSON *ro = by(get(rw, "outlets_list"), "point", "outfall-1");
	cr_assert_str_eq(get(ro, "discharge")->valuestring, "direct");
	cr_assert(REL(num(ro, "volume_m3"), all.volume), "report volume %.12g, oracle %.12g", num(ro, "volume_m3"),
		  all.volume);
	cr_assert_eq(num(ro, "flow_hours"), NH);
	cr_assert_eq(num(ro, "flow_days"), NDAYS);
	const cJSON *sw = get(by(get(sum, "enterprises"), "ent", "ent-a"), "water");
	const cJSON *so = by(get(sw, "items"), "point", "outfall-1");
	cr_assert(REL(num(so, "volume_m3"), all.volume), "summary volume %.12g, oracle %.12g", num(so, "volume_m3"),
		  all.volume);
	for (int k = 0; k < W_N; k++) {
		if (k == W_FLOW)
			continue;
		const cJSON *rp = NULL, *it;
		cJSON_ArrayForEach(it, get(rw, "pollutants"))
			if (strcmp(get(it, "pollutant")->valuestring, wcodes[k]) == 0)
				rp = it;
		cr_assert_not_null(rp, "report row of %s", wcodes[k]);
		const cJSON *sp = by(get(so, "pollutants"), "metric", wcodes[k]);
		cr_assert_eq(num(rp, "days_valid"), NDAYS, "%s", wcodes[k]);
		cr_assert(REL(num(rp, "mean"), all.mean[k]), "%s mean %.12g, oracle %.12g", wcodes[k], num(rp, "mean"),
			  all.mean[k]);
		if (k == W_PH) { /* not a concentration: no load */
			cr_assert(cJSON_IsNull(get(rp, "load_kg")));
			cr_assert(cJSON_IsNull(get(sp, "load_kg")));
			continue;
		}
		cr_assert(REL(num(rp, "load_kg"), all.load_kg[k]), "%s load %.12g kg, oracle %.12g", wcodes[k],
			  num(rp, "load_kg"), all.load_kg[k]);
		cr_assert(REL(num(rp, "load_t"), all.load_kg[k] / 1000), "%s", wcodes[k]);
		cr_assert_eq(num(rp, "load_hours"), NH);
		cr_assert_eq(num(rp, "load_days"), NDAYS);
		cr_assert(REL(num(rp, "load_kg_per_day"), all.load_kg[k] / NDAYS), "%s", wcodes[k]);
		cr_assert(REL(num(sp, "load_kg"), all.load_kg[k]), "summary %s load %.12g kg, oracle %.12g", wcodes[k],
			  num(sp, "load_kg"), all.load_kg[k]);
	}
	/* one day alone: the summary over day 1 is that day's volume and loads */
	char path[300], f[40], t[40];
	cr_assert_eq(ph_time_format(d0 + DAY, f, sizeof f), 0);
	cr_assert_eq(ph_time_format(d0 + 2 * DAY, t, sizeof t), 0);
	snprintf(path, sizeof path, "/api/v1/parks/p1/summary?from=%s&to=%s&ent=ent-a", f, t);
	cr_assert_eq(api_get(path), 200, "%s", out);
	cJSON *j = cJSON_Parse(out);
	cr_assert_not_null(j, "%s", out);
	struct day_want d1;
	oracle_span(24, 48, &d1);
	const cJSON *o1 = by(get(get(by(get(j, "enterprises"), "ent", "ent-a"), "water"), "items"), "point", "outfall-1");
	cr_assert(REL(num(o1, "volume_m3"), d1.volume), "day 1 volume %.12g, oracle %.12g", num(o1, "volume_m3"),
		  d1.volume);
	cr_assert(REL(num(by(get(o1, "pollutants"), "metric", "w_cod"), "load_kg"), d1.load_kg[W_COD]));
	cJSON_Delete(j);
}

static const cJSON *report_row(const cJSON *rep, const char *metric)
{
	const cJSON *it, *rw = get(by(get(rep, "enterprises"), "id", "ent-a"), "water");
	cJSON_ArrayForEach(it, get(rw, "pollutants"))
		if (strcmp(get(it, "pollutant")->valuestring, metric) == 0)
			return it;
	cr_assert_fail("no report row for %s", metric);
	return NULL;
}

Test(water, a_simulated_outlet_reaches_the_report_and_the_summary)
{
	oracle_run();
	run_agent();
	cems_done();

	/* 1. the built-in standard: volume and loads, and no water limit to judge by */
	cJSON *rep = report_json(), *sum = summary_json();
	check_volume_and_loads(rep, sum);
	for (int k = 0; k < W_N; k++) {
		if (k == W_FLOW)
			continue;
		const cJSON *rp = report_row(rep, wcodes[k]);
		cr_assert(cJSON_IsNull(get(rp, "limit")), "%s: limit %s", wcodes[k], cJSON_PrintUnformatted(get(rp, "limit")));
		cr_assert(strstr(get(rp, "limit_na")->valuestring, "verified") != NULL, "%s: %s", wcodes[k],
			  get(rp, "limit_na")->valuestring);
		const char *c = k == W_PH ? "hour_compliance" : "day_compliance";
		cr_assert(cJSON_IsNull(get(rp, c)), "%s: %s must be not available", wcodes[k], c);
		char cna[40];
		snprintf(cna, sizeof cna, "%s_na", c);
		cr_assert(strstr(get(rp, cna)->valuestring, "verified") != NULL, "%s", get(rp, cna)->valuestring);
		cr_assert_eq(num(rp, k == W_PH ? "hours_with_limit" : "days_with_limit"), 0, "%s", wcodes[k]);
		const cJSON *sp = by(get(by(get(get(by(get(sum, "enterprises"), "ent", "ent-a"), "water"), "items"),
					    "point", "outfall-1"), "pollutants"), "metric", wcodes[k]);
		cr_assert(cJSON_IsNull(get(sp, "limit")), "summary %s", wcodes[k]);
		cr_assert(strstr(get(sp, "limit_na")->valuestring, "verified") != NULL, "%s", get(sp, "limit_na")->valuestring);
		cr_assert_eq(num(sp, "days_with_limit"), 0);
		cr_assert_eq(num(sp, "days_over"), 0);
	}
	cJSON_Delete(rep);
	cJSON_Delete(sum);

	/* 2. the test's own limits (TEST VALUES): a COD limit between the lowest
	 * and the highest daily mean, pH 6..9 */
	double dm[NDAYS], lo = INFINITY, hi = -INFINITY;
	for (int d = 0; d < NDAYS; d++) {
		struct day_want w;
		oracle_span(d * 24, d * 24 + 24, &w);
		dm[d] = w.mean[W_COD];
		lo = fmin(lo, dm[d]);
		hi = fmax(hi, dm[d]);
	}
	cr_assert_gt(hi - lo, 0.01, "the daily COD means must differ: %g..%g", lo, hi);
	double lim = round((lo + hi) / 2 * 1000) / 1000;
	int over = 0, ph_out = 0;
	for (int d = 0; d < NDAYS; d++)
		over += dm[d] > lim;
	for (int h = 0; h < NH; h++)
		ph_out += hv[h][W_PH] < 6 || hv[h][W_PH] > 9;
	cr_assert(over >= 1 && over < NDAYS, "a day over and a day within: %d of %d over %g", over, NDAYS, lim);
	char text[4096];
	snprintf(text, sizeof text,
		 "{\"standard\": \"test-water\", \"title\": \"TEST VALUES of tests/integration/test_water_e2e.c,"
		 " not GB 31574-2015 nor any standard\", \"applies_from\": {\"new\": \"2000-01-01\", \"existing\": \"2000-01-01\"},"
		 " \"pollutants\": [{\"metric\": \"so2\", \"unit\": \"mg/Nm3\", \"limit\": {\"cu\": 150}}],"
		 " \"water\": {\"averaging\": \"day\", \"pollutants\": ["
		 "{\"metric\": \"w_cod\", \"unit\": \"mg/L\", \"kind\": \"max\", \"verified\": true,"
		 " \"source\": \"http://127.0.0.1/test-value\", \"clause\": \"TEST VALUE, not a standard's\","
		 " \"limits\": {\"existing\": {\"direct\": %.3f, \"indirect\": %.3f}, \"new\": {\"direct\": %.3f, \"indirect\": %.3f},"
		 " \"special\": {\"direct\": %.3f, \"indirect\": %.3f}}},"
		 "{\"metric\": \"w_ph\", \"unit\": \"pH\", \"kind\": \"range\", \"verified\": true,"
		 " \"source\": \"http://127.0.0.1/test-value\", \"clause\": \"TEST VALUE, not a standard's\","
		 " \"limits\": {\"existing\": {\"direct\": {\"min\": 6, \"max\": 9}}, \"new\": {\"direct\": {\"min\": 6, \"max\": 9}},"
		 " \"special\": {\"direct\": {\"min\": 6, \"max\": 9}}}}]}}",
		 lim, lim, lim, lim, lim, lim);
	cr_assert_eq(hh_write_file(limit_file, text), 0);
	static char top2[2048], ent2[600];
	snprintf(top2, sizeof top2, "%s, \"limit_files\": [\"%s\"]", top, limit_file);
	snprintf(ent2, sizeof ent2, "%s, \"standard\": \"test-water\"", ent_a);
	env.opts.top_extra = top2;
	env.opts.ent_extra[0] = ent2;
	cr_assert_eq(hh_write_hub_config(&env), 0);
	int status = 0;
	cr_assert_eq(hh_hub_stop(&env, 10000, &status), 0);
	cr_assert_eq(hh_hub_start(&env, WAIT_MS), 0, "hub start with the test limits (log %s)", env.hub_log);

	rep = report_json();
	sum = summary_json();
	check_volume_and_loads(rep, sum); /* limits change no volume or load */
	const cJSON *cod = report_row(rep, "w_cod");
	cr_assert(REL(num(cod, "limit"), lim), "limit %s", cJSON_PrintUnformatted(get(cod, "limit")));
	cr_assert_eq(num(cod, "days_with_limit"), NDAYS);
	cr_assert_eq(num(cod, "days_over"), over, "days over %g: report %g, oracle %d", lim, num(cod, "days_over"), over);
	cr_assert(REL(num(cod, "day_compliance"), 1.0 - (double)over / NDAYS));
	cr_assert(REL(num(cod, "worst_day_mean"), hi), "worst day %.12g, oracle %.12g", num(cod, "worst_day_mean"), hi);
	const cJSON *ph = report_row(rep, "w_ph");
	cr_assert_eq(num(ph, "limit_min"), 6);
	cr_assert_eq(num(ph, "limit_max"), 9);
	cr_assert_eq(num(ph, "hours_with_limit"), NH);
	cr_assert_eq(num(ph, "hours_out_of_range"), ph_out);
	/* a pollutant the test file leaves out stays not available */
	const cJSON *nh3 = report_row(rep, "w_nh3n");
	cr_assert(cJSON_IsNull(get(nh3, "limit")));
	cr_assert(cJSON_IsNull(get(nh3, "day_compliance")));
	const cJSON *sp = by(get(by(get(get(by(get(sum, "enterprises"), "ent", "ent-a"), "water"), "items"), "point",
				    "outfall-1"), "pollutants"), "metric", "w_cod");
	cr_assert(REL(num(sp, "limit"), lim));
	cr_assert_eq(num(sp, "days_with_limit"), NDAYS);
	cr_assert_eq(num(sp, "days_over"), over);
	cJSON_Delete(rep);
	cJSON_Delete(sum);
}

/* ---- an HJ 212 water logger ------------------------------------------------------ */

#define MN_W "W3201000000001"
#define HJ_PARTS 49 /* responses: 47 whole 2017 packets and the two parts of one */

/* The hour's values the logger sends, as text (what the agent parses) and
 * as the oracle's numbers: concentrations as sent, w00000 in L/s → m³/h. */
struct hj_hour {
	char v[W_N][16];
};
static void hj_values(int h, struct hj_hour *o)
{
	snprintf(o->v[W_PH], 16, "%.2f", 6.2 + (h * 37 % 29) / 10.0);
	snprintf(o->v[W_COD], 16, "%.3f", 30 + (h * 53 % 97) * 0.5);
	snprintf(o->v[W_NH3N], 16, "%.3f", 1 + (h * 11 % 13) * 0.25);
	snprintf(o->v[W_SS], 16, "%.1f", 10.0 + h * 7 % 23);
	snprintf(o->v[W_CU], 16, "%.3f", 0.05 + (h * 3 % 17) * 0.01);
	snprintf(o->v[W_FLOW], 16, "%.3f", 2 + (h * 5 % 11) * 0.35);
	for (int w = 0; w < W_N; w++)
		hv[h][w] = strtod(o->v[w], NULL) * (w == W_FLOW ? 3.6 : 1.0);
}

/* HJ 212-2017 codes (Table B.1) and the HJ/T 212-2005 codes still sent by
 * installed loggers for the same factors (agents/hj212/hj212_codes.c). */
static const char *const code17[W_N] = {"w01001", "w01018", "w21003", "w01012", "w20122", "w00000"};
static const char *const code05[W_N] = {"001", "011", "060", "003", "029", "B01"};

/* "code-Avg=v,code-Flag=N;" for factors [w0, w1) of the hour; the flow's -Cou (m³) with it. */
static void hj_body(const struct hj_hour *o, const char *const *codes, int w0, int w1, char *b, size_t cap)
{
	b[0] = '\0';
	for (int w = w0; w < w1; w++) {
		size_t n = strlen(b);
		snprintf(b + n, cap - n, "%s-Avg=%s,%s-Flag=N;", codes[w], o->v[w], codes[w]);
		if (w == W_FLOW) {
			n = strlen(b);
			snprintf(b + n, cap - n, "%s-Cou=%.4f;", codes[w], strtod(o->v[w], NULL) * 3.6);
		}
	}
	b[strlen(b) - 1] = '\0'; /* the last ';' */
}

/* The hour's DataTime: China Standard Time, yyyyMMddHHmmss. */
static void hj_time(int h, char lt_out[16])
{
	int64_t lt = d0 + 8 * HOUR + h * HOUR;
	int y;
	unsigned m, d;
	ph_civil_from_days(lt / DAY, &y, &m, &d);
	int64_t s = lt % DAY / 1000;
	snprintf(lt_out, 16, "%04d%02u%02u%02d0000", y, m, d, (int)(s / 3600));
}

static void hj_send(int fd, const char *seg)
{
	char pk[2048];
	int n = ph_hj212_frame(seg, strlen(seg), PH_HJ212_CRC_STD, false, pk, sizeof pk);
	cr_assert_gt(n, 0);
	for (const char *p = pk; n > 0;) {
		ssize_t w = send(fd, p, (size_t)n, MSG_NOSIGNAL);
		cr_assert_gt(w, 0, "send: %s", strerror(errno));
		p += w;
		n -= (int)w;
	}
}

/* Hours 0..47 in HJ 212-2017 (Flag=5: answer after commit), hour 10 split
 * in two parts (PNUM/PNO); hours 48..71 in HJ/T 212-2005 (no Flag). */
static void hj_send_all(int fd)
{
	char seg[1800], body[1200], body2[800], lt[16];
	for (int h = 0; h < NH; h++) {
		struct hj_hour o;
		hj_values(h, &o);
		hj_time(h, lt);
		if (h >= 48) {
			hj_body(&o, code05, 0, W_N, body, sizeof body);
			snprintf(seg, sizeof seg, "ST=32;CN=2061;PW=123456;MN=" MN_W ";CP=&&DataTime=%s;%s&&", lt, body);
		} else if (h == 10) {
			hj_body(&o, code17, 0, 3, body, sizeof body);
			hj_body(&o, code17, 3, W_N, body2, sizeof body2);
			snprintf(seg, sizeof seg, "QN=%s001;ST=32;CN=2061;PW=123456;MN=" MN_W ";Flag=7;PNUM=2;PNO=1;"
				 "CP=&&DataTime=%s;%s&&", lt, lt, body);
			hj_send(fd, seg);
			snprintf(seg, sizeof seg, "QN=%s001;ST=32;CN=2061;PW=123456;MN=" MN_W ";Flag=7;PNO=2;PNUM=2;"
				 "CP=&&DataTime=%s;%s&&", lt, lt, body2);
		} else {
			hj_body(&o, code17, 0, W_N, body, sizeof body);
			snprintf(seg, sizeof seg, "QN=%s001;ST=32;CN=2061;PW=123456;MN=" MN_W ";Flag=5;"
				 "CP=&&DataTime=%s;%s&&", lt, lt, body);
		}
		hj_send(fd, seg);
	}
}

/* Counts the agent's framed answers ("##…\r\n") until want arrived or 30 s. */
static int hj_answers(int fd, int want)
{
	int got = 0;
	int64_t end = ph_now_ms() + 30000;
	char buf[4096];
	while (got < want && ph_now_ms() < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, (int)(end - ph_now_ms())) <= 0)
			break;
		ssize_t r = recv(fd, buf, sizeof buf, 0);
		if (r <= 0)
			break;
		for (ssize_t i = 0; i + 1 < r; i++)
			got += buf[i] == '\r' && buf[i + 1] == '\n';
	}
	return got;
}

/* The same outlet as above, but from an HJ 212 data logger over TCP: 2017
 * and 2005 codes, a split message, flow in L/s with its -Cou: the hub's
 * volume, loads and daily means in the report and the summary equal the
 * values the logger sent, summed here. */
Test(water, an_hj212_water_logger_reaches_the_report_and_the_summary)
{
	int port = pht_free_port();
	cr_assert_gt(port, 0);
	char sources[700];
	snprintf(sources, sizeof sources,
		 "[{\"type\": \"hj212\", \"name\": \"outlet\", \"listen\": \"127.0.0.1\", \"port\": %d,"
		 " \"password\": \"123456\", \"loggers\": [{\"mn\": \"" MN_W "\", \"point\": \"outfall-1-rt\","
		 " \"hour_point\": \"outfall-1\"}]}]", port);
	start_agent(sources);
	int fd = -1;
	for (int i = 0; i < 100 && fd < 0; i++) { /* until the agent listens (bounded: 10 s) */
		fd = socket(AF_INET, SOCK_STREAM, 0);
		cr_assert_geq(fd, 0);
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
		inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
			close(fd);
			fd = -1;
			pht_sleep_ms(100);
		}
	}
	cr_assert_geq(fd, 0, "the agent's HJ 212 listener on port %d", port);
	hj_send_all(fd);
	cr_expect_eq(hj_answers(fd, HJ_PARTS), HJ_PARTS, "answers to the 2017 packets and both parts");
	agent_done();
	close(fd);
	int64_t last = -1;
	cr_assert_eq(hh_wait_db(&env, NH, &last, 10000,
				"SELECT TOTAL(r.n) FROM rollups r JOIN series s ON s.id = r.series_id"
				" JOIN points p ON p.id = s.point_id JOIN metrics m ON m.id = s.metric_id"
				" WHERE p.point = 'outfall-1' AND m.code = 'w_volume' AND r.period = 0"),
		     0, "w00000-Cou stored as w_volume: %lld of %d hours", (long long)last, NH);
	cems_done();
	cJSON *rep = report_json(), *sum = summary_json();
	check_volume_and_loads(rep, sum);
	cJSON_Delete(rep);
	cJSON_Delete(sum);
}
