/*
 * A hub in a real deployment (issue 15): installed in the middle of a year,
 * a plant stopped for a week, a day of missing flow while operating, an
 * enterprise whose monitoring was configured to start later than its first
 * data, and a process point that says the plant was stopped while its stack
 * sent nothing. A real Mosquitto and a real parkhub; the data go in over
 * MQTT as batches of hourly data; then `parkhub report` (JSON and CSV) and
 * the HTTP summary are checked against an oracle computed here from the
 * generated data alone (no hub code: plain loops over the generator).
 *
 * Year Y = the park's local year before the current one (a closed year, so
 * every hour is final); data from Y-10-01 00:00 for 20 days (480 local
 * hours, park zone Asia/Shanghai UTC+8), hourly data (interval 3600 s:
 * an hour is valid when its value has flag N).
 *
 *   ent-a (existing Cu plant, SO2 limit 150 mg/Nm³), stack-1, monitoring_until Y-10-20
 *          (since: its first data, Y-10-01 00:00):
 *     days 0..4, 12..19  operating: SO2 s(i), flow q(i), flag N
 *     days 5..11         stopped: SO2 0 and flow 0 flagged F
 *     day 12 (Oct 13)    operating, SO2 only: no flow value at all
 *     PCDD/F stack test 0.3 ng TEQ/Nm³ on Oct 2 10:30 (flag S)
 *     weighbridge, one batch: scrap_cu_1 in, lots of 20 + k t assayed 80 + 2k % Cu (k = 0..4);
 *     an unknown code "cu_sludge_x" in, 2 t (stored as unclassified, never a reason to refuse
 *     the others); cathode_cu out 50 t assayed 99.95 %; slag out 6 t assayed 1.5 %
 *   ent-b (new Cu plant), stack-1, monitoring_since Y-10-08, monitoring_until Y-10-20:
 *     SO2 60, flow 40 000, flag N every hour except day 14 (Oct 15): nothing from
 *     the stack; its furnace-1 (a process point) says state stopped that day and
 *     running every other hour
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hub_helpers.h"
#include "api/api.h"
#include "parkhub/timefmt.h"

#define HOUR 3600000LL
#define NH 480
#define WAIT_MS 30000
#define REL(a, b) (fabs((a) - (b)) <= 1e-9 * fmax(1.0, fabs(b)))

static struct hh_env env;
static int http_port, year;
static int64_t d0; /* Y-10-01 00:00 local, UTC ms */
static const char *const tok_reg = "regulator-token-deploy";
static char out[65536];

/* ---- the generator (and the oracle's only source) ---- */

static bool a_stopped(int i) { return i / 24 >= 5 && i / 24 < 12; }
static bool a_no_flow(int i) { return i / 24 == 12; }
static double a_so2(int i) { return i % 50 == 7 ? 180.0 : 40.0 + (double)(i * 37 % 90); }
static double a_flow(int i) { return 50000.0 + (double)(i * 131 % 20000); }
static bool b_silent(int i) { return i / 24 == 14; }

static int64_t local_midnight(int y, unsigned m, unsigned d) { return ph_days_from_civil(y, m, d) * 86400000LL - 8 * HOUR; }

/* Publishes records (a JSON array's members, comma-separated) as one batch. */
static void publish(int ent, const char *kind, int64_t seq, const char *records)
{
	static char batch[1 << 20];
	char arr[(1 << 20) - 4096];
	snprintf(arr, sizeof arr, "[%s]", records);
	cr_assert_eq(hh_batch(batch, sizeof batch, hh_agent(ent), 7, seq, 1, arr), 0);
	cr_assert_eq(hh_publish(&env, hh_ent(ent), hh_agent(ent), kind, batch), 0);
}

static void fmt_ts(int64_t ms, char buf[PH_TIME_STRLEN]) { cr_assert_eq(ph_time_format(ms, buf, PH_TIME_STRLEN), 0); }

/* Appends one hourly record to a growing array text. */
static void add_rec(char *buf, size_t cap, size_t *len, const char *rec)
{
	int n = snprintf(buf + *len, cap - *len, "%s%s", *len ? "," : "", rec);
	cr_assert(n > 0 && (size_t)n < cap - *len);
	*len += (size_t)n;
}

static void publish_all(void)
{
	static char recs[1 << 19];
	char r[512], ts[PH_TIME_STRLEN];
	int64_t seq[2] = {0, 0};
	for (int start = 0; start < NH; start += 96) {
		size_t la = 0;
		recs[0] = 0;
		for (int i = start; i < start + 96 && i < NH; i++) {
			fmt_ts(d0 + i * HOUR, ts);
			if (a_stopped(i))
				snprintf(r, sizeof r,
					 "{\"ts\":\"%s\",\"point\":\"stack-1\",\"values\":{\"so2\":0,\"flow\":0},"
					 "\"flags\":{\"so2\":\"F\",\"flow\":\"F\"}}", ts);
			else if (a_no_flow(i))
				snprintf(r, sizeof r, "{\"ts\":\"%s\",\"point\":\"stack-1\",\"values\":{\"so2\":%.17g}}", ts,
					 a_so2(i));
			else
				snprintf(r, sizeof r, "{\"ts\":\"%s\",\"point\":\"stack-1\",\"values\":{\"so2\":%.17g,\"flow\":%.17g}}",
					 ts, a_so2(i), a_flow(i));
			add_rec(recs, sizeof recs, &la, r);
		}
		if (start == 0) { /* the stack test, Oct 2 10:30 (hour 34), flag S */
			fmt_ts(d0 + 24 * HOUR + 10 * HOUR + 30 * 60000, ts);
			snprintf(r, sizeof r, "{\"ts\":\"%s\",\"point\":\"stack-1\",\"values\":{\"pcdd_f\":0.3},\"flags\":{\"pcdd_f\":\"S\"}}",
				 ts);
			add_rec(recs, sizeof recs, &la, r);
		}
		publish(0, "emission", ++seq[0], recs);
		size_t lb = 0;
		recs[0] = 0;
		for (int i = start; i < start + 96 && i < NH; i++) {
			if (b_silent(i))
				continue;
			fmt_ts(d0 + i * HOUR, ts);
			snprintf(r, sizeof r, "{\"ts\":\"%s\",\"point\":\"stack-1\",\"values\":{\"so2\":60,\"flow\":40000}}", ts);
			add_rec(recs, sizeof recs, &lb, r);
		}
		if (lb)
			publish(1, "emission", ++seq[1], recs);
		lb = 0;
		recs[0] = 0;
		for (int i = start; i < start + 96 && i < NH; i++) {
			fmt_ts(d0 + i * HOUR, ts);
			snprintf(r, sizeof r, "{\"ts\":\"%s\",\"point\":\"furnace-1\",\"values\":{\"furnace_temp\":%d},\"state\":\"%s\"}",
				 ts, b_silent(i) ? 30 : 1150, b_silent(i) ? "stopped" : "running");
			add_rec(recs, sizeof recs, &lb, r);
		}
		publish(1, "process", ++seq[1], recs);
	}
	/* the weighbridge of ent-a: one material batch with an unknown code among known ones */
	size_t lm = 0;
	recs[0] = 0;
	fmt_ts(d0 + 30 * HOUR, ts);
	for (int k = 0; k < 5; k++) {
		snprintf(r, sizeof r, "{\"ts\":\"%s\",\"point\":\"weighbridge\",\"material\":\"scrap_cu_1\",\"dir\":\"in\","
			 "\"qty_t\":%d,\"lot\":\"L%d\",\"attrs\":{\"cu_pct\":%d}}", ts, 20 + k, k, 80 + 2 * k);
		add_rec(recs, sizeof recs, &lm, r);
	}
	snprintf(r, sizeof r, "{\"ts\":\"%s\",\"point\":\"weighbridge\",\"material\":\"cu_sludge_x\",\"dir\":\"in\",\"qty_t\":2}", ts);
	add_rec(recs, sizeof recs, &lm, r);
	snprintf(r, sizeof r, "{\"ts\":\"%s\",\"point\":\"weighbridge\",\"material\":\"cathode_cu\",\"dir\":\"out\","
		 "\"qty_t\":50,\"attrs\":{\"cu_pct\":99.95}}", ts);
	add_rec(recs, sizeof recs, &lm, r);
	snprintf(r, sizeof r, "{\"ts\":\"%s\",\"point\":\"weighbridge\",\"material\":\"slag\",\"dir\":\"out\","
		 "\"qty_t\":6,\"attrs\":{\"cu_pct\":1.5}}", ts);
	add_rec(recs, sizeof recs, &lm, r);
	publish(0, "material", ++seq[0], recs);
	cr_assert_eq(hh_wait_ack(&env, hh_ent(0), hh_agent(0), 7, seq[0], 0, WAIT_MS), 0, "ent-a acks");
	cr_assert_eq(hh_wait_ack(&env, hh_ent(1), hh_agent(1), 7, seq[1], 0, WAIT_MS), 0, "ent-b acks");
}

/* ---- the oracle ---- */

struct want {
	int64_t expected, valid, exceeded, stopped, used, days_expected, days_valid;
	double kg;
};

static struct want oracle_a(void)
{
	struct want w = {0};
	for (int i = 0; i < NH; i++) {
		if (a_stopped(i)) { /* no valid SO2 in a stopped hour: it leaves the expected hours */
			w.stopped++;
			continue;
		}
		w.expected++;
		w.valid++;
		w.exceeded += a_so2(i) > 150;
		if (!a_no_flow(i)) {
			w.used++;
			w.kg += a_so2(i) * a_flow(i) * 1e-6;
		}
	}
	w.days_expected = 20 - 7; /* the 7 stopped days are not expected days */
	w.days_valid = 13;        /* every operating day has 24 valid hours */
	return w;
}

static struct want oracle_b(void)
{
	struct want w = {0};
	for (int i = 7 * 24; i < NH; i++) { /* monitoring starts Oct 8 (configured) */
		if (b_silent(i)) {
			w.stopped++; /* the furnace says stopped, the stack says nothing */
			continue;
		}
		w.expected++;
		w.valid++;
		w.used++;
		w.kg += 60.0 * 40000.0 * 1e-6;
	}
	w.days_expected = 13 - 1;
	w.days_valid = 12;
	return w;
}

/* PCDD/F of ent-a over its monitored hours: 0.3 ng × (valid flow volume + the operating
 * hours without flow filled with the mean valid flow); monitored share 480 / hours of Y. */
static void oracle_pcdd(double *g, double *filled_share, double *share)
{
	double vol = 0;
	int n = 0, gap = 0;
	for (int i = 0; i < NH; i++) {
		if (a_stopped(i))
			continue;
		if (a_no_flow(i)) {
			gap++;
			continue;
		}
		vol += a_flow(i);
		n++;
	}
	double mean = vol / n, filled = gap * mean;
	*g = 0.3e-9 * (vol + filled);
	*filled_share = filled / (vol + filled);
	int days = (int)(ph_days_from_civil(year + 1, 1, 1) - ph_days_from_civil(year, 1, 1));
	*share = (double)NH / (days * 24.0);
}

/* ---- setup ---- */

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int y;
	unsigned m, d;
	ph_civil_from_days((ph_now_ms() + 8 * HOUR) / 86400000LL, &y, &m, &d);
	year = y - 1;
	d0 = local_midnight(year, 10, 1);
	http_port = pht_free_port();
	cr_assert_gt(http_port, 0);
	static char top[1024], ea[160], eb[200];
	char hr[65];
	cr_assert_eq(ph_api_token_hash_hex(tok_reg, hr), 0);
	snprintf(top, sizeof top,
		 "\"http\": {\"listen\": \"127.0.0.1\", \"port\": %d, \"tokens\": ["
		 "{\"name\": \"reg\", \"sha256\": \"%s\", \"role\": \"regulator\"}]}",
		 http_port, hr);
	snprintf(ea, sizeof ea, "\"monitoring_until\": \"%04d-10-20\"", year);
	snprintf(eb, sizeof eb, "\"monitoring_since\": \"%04d-10-08\", \"monitoring_until\": \"%04d-10-20\"", year, year);
	struct hh_hub_opts o = {.tz = "Asia/Shanghai", .expected_interval_s = 3600, .max_age_days = 800,
				.top_extra = top, .ent_extra = {ea, eb, NULL}};
	cr_assert_eq(hh_setup(&env, &o), 0);
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

TestSuite(deployment, .init = setup, .fini = teardown, .timeout = 280);

/* The hub runs its CEMS update 5 s after it starts: a restart processes every hour stored. */
static void cems_done(void)
{
	int status = 0;
	int64_t t0 = ph_now_ms(), last = 0;
	cr_assert_eq(hh_hub_stop(&env, 10000, &status), 0);
	cr_assert_eq(hh_hub_start(&env, WAIT_MS), 0);
	cr_assert_eq(hh_wait_db(&env, 1, &last, 60000, "SELECT run_ms > %lld AND NOT EXISTS (SELECT 1 FROM cems_dirty)"
			       " FROM cems_state", (long long)t0), 0, "the CEMS update did not run (log %s)", env.hub_log);
}

static int run_report(const char *format, const char *outp)
{
	char ys[8];
	snprintf(ys, sizeof ys, "%d", year);
	const char *argv[] = {hh_parkhub(), "report", "--config", env.hub_cfg, "--park", "p1", "--year", ys,
			      "--format", format, "--out", outp, NULL};
	int code = -1;
	cr_assert_eq(pht_run(argv, 60000, out, sizeof out, &code), 0, "parkhub report did not finish");
	return code;
}

static const cJSON *get(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	cr_assert_not_null(v, "no %s", k);
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
	cr_assert_fail("no %s = %s", k, v);
	return NULL;
}

static void check_rows(const cJSON *ent, const struct want *w, const char *name)
{
	const cJSON *m = by(get(ent, "emissions"), "pollutant", "so2");
	cr_assert_eq(num(m, "hours_expected"), w->expected, "%s expected", name);
	cr_assert_eq(num(m, "hours_stopped"), w->stopped, "%s stopped", name);
	cr_assert_eq(num(m, "hours_used"), w->used, "%s used", name);
	cr_assert(REL(num(m, "mass_t"), w->kg / 1000), "%s mass %.12g t, oracle %.12g t", name, num(m, "mass_t"),
		  w->kg / 1000);
	cr_assert(REL(num(m, "gap_share"), (double)(w->expected - w->used) / w->expected), "%s gap share", name);
	const cJSON *c = by(get(ent, "compliance"), "pollutant", "so2");
	cr_assert_eq(num(c, "hours_expected"), w->expected, "%s", name);
	cr_assert_eq(num(c, "hours_valid"), w->valid, "%s", name);
	cr_assert_eq(num(c, "hours_stopped"), w->stopped, "%s", name);
	cr_assert_eq(num(c, "exceedance_hours"), w->exceeded, "%s", name);
	cr_assert(REL(num(c, "hour_availability"), (double)w->valid / w->expected), "%s", name);
	cr_assert_eq(num(c, "days_expected"), w->days_expected, "%s days", name);
	cr_assert_eq(num(c, "days_valid"), w->days_valid, "%s valid days", name);
}

/* GET path with the regulator's token; the body in out; the status returned. */
static long api_get(const char *path)
{
	long st = hh_http_get(http_port, tok_reg, path, out, sizeof out, NULL, 0);
	cr_assert_gt(st, 0, "GET %s: no whole response (%ld)", path, st);
	return st;
}

/* The summary over the year: the report's figures, and its reasons where it has none. */
static void check_summary(const struct want *wa)
{
	char path[300];
	snprintf(path, sizeof path, "/api/v1/parks/p1/summary?from=%04d-01-01T00:00:00%%2B08:00&to=%04d-01-01T00:00:00%%2B08:00",
		 year, year + 1);
	cr_assert_eq(api_get(path), 200, "%s", out);
	cJSON *j = cJSON_Parse(out);
	cr_assert_not_null(j);
	const cJSON *ents = get(j, "enterprises");
	const cJSON *a = by(ents, "ent", "ent-a");
	const cJSON *so2 = by(get(a, "pollutants"), "metric", "so2");
	const cJSON *m = get(so2, "mass");
	cr_assert(REL(num(m, "value"), wa->kg), "summary %.12g kg, oracle %.12g", num(m, "value"), wa->kg);
	cr_assert_eq(num(m, "hours_expected"), wa->expected);
	cr_assert_eq(num(m, "hours_stopped"), wa->stopped);
	cr_assert_eq(num(get(so2, "hours"), "valid"), wa->valid);
	cr_assert_eq(num(get(so2, "hours"), "exceeded"), wa->exceeded);
	cr_assert_eq(num(get(so2, "hours"), "stopped"), wa->stopped);
	cr_assert_str_eq(get(get(a, "monitoring"), "source")->valuestring, "first data");
	cr_assert_eq(num(get(a, "monitoring"), "monitored_hours"), NH);
	const cJSON *c = by(ents, "ent", "ent-c");
	cr_assert_str_eq(get(get(c, "monitoring"), "source")->valuestring, "none");
	cr_assert(strstr(get(get(c, "monitoring"), "status")->valuestring, "not monitored") != NULL);
	const cJSON *it;
	cJSON_ArrayForEach(it, get(a, "pollutants"))
		cr_assert_str_neq(get(it, "metric")->valuestring, "pcdd_f", "PCDD/F is the inventory's, not a summary mass");
	cJSON_Delete(j);
}

Test(deployment, a_hub_from_the_middle_of_a_year_reports_what_a_regulator_can_sign)
{
	publish_all();
	cems_done();
	char path[700];
	snprintf(path, sizeof path, "%s/report.json", env.dir);
	cr_assert_eq(run_report("json", path), 0, "%s", out);
	char *text = hh_slurp(path);
	cJSON *rep = cJSON_Parse(text);
	free(text);
	cr_assert_not_null(rep);
	const cJSON *ents = get(rep, "enterprises");
	const cJSON *a = by(ents, "id", "ent-a"), *b = by(ents, "id", "ent-b"), *c = by(ents, "id", "ent-c");
	struct want wa = oracle_a(), wb = oracle_b();
	check_rows(a, &wa, "ent-a");
	check_rows(b, &wb, "ent-b");

	/* monitoring periods: ent-a from its first data, ent-b as configured; ent-c never sent anything */
	char want_since[40];
	snprintf(want_since, sizeof want_since, "%04d-10-01T00:00:00+08:00", year);
	cr_assert_str_eq(get(get(a, "monitoring_period"), "since")->valuestring, want_since);
	cr_assert_str_eq(get(get(a, "monitoring_period"), "source")->valuestring, "first data");
	cr_assert_eq(num(get(a, "monitoring_period"), "monitored_hours"), NH);
	snprintf(want_since, sizeof want_since, "%04d-10-08T00:00:00+08:00", year);
	cr_assert_str_eq(get(get(b, "monitoring_period"), "since")->valuestring, want_since);
	cr_assert_str_eq(get(get(b, "monitoring_period"), "source")->valuestring, "configured");
	cr_assert_str_eq(get(get(c, "monitoring_period"), "status")->valuestring, "not monitored in the year");

	/* the park's figures are the sums of its enterprises' */
	const cJSON *pm = by(get(get(rep, "park_summary"), "emissions"), "pollutant", "so2");
	cr_assert_eq(num(pm, "hours_expected"), wa.expected + wb.expected);
	cr_assert_eq(num(pm, "hours_stopped"), wa.stopped + wb.stopped);
	cr_assert(REL(num(pm, "mass_t"), (wa.kg + wb.kg) / 1000));

	/* PCDD/F: the monitored period's release is a figure; a year of it is not (20 of 365 days) */
	double g, filled, share;
	oracle_pcdd(&g, &filled, &share);
	const cJSON *pc = get(a, "pcdd_f");
	cr_assert(REL(num(pc, "measured_period_g_teq"), g), "period %.12g, oracle %.12g", num(pc, "measured_period_g_teq"), g);
	cr_assert(REL(num(pc, "filled_share"), filled));
	cr_assert(REL(num(pc, "monitored_share"), share));
	cr_assert(cJSON_IsNull(get(pc, "measured_g_teq")), "an annual figure from 20 days");
	cr_assert(strstr(get(pc, "measured_g_teq_na")->valuestring, "monitored 20 of") != NULL, "%s",
		  get(pc, "measured_g_teq_na")->valuestring);
	cr_assert(cJSON_IsNull(get(pc, "current_g_teq")));
	cr_assert(cJSON_IsNull(get(get(get(rep, "park_summary"), "pcdd_f"), "current_g_teq")),
		  "the park's sum is not given when its enterprises' figures are not");
	const cJSON *st = cJSON_GetArrayItem(get(pc, "stacks"), 0);
	cr_assert_eq(num(st, "hours"), NH);
	cr_assert_eq(num(st, "hours_stopped"), 7 * 24);
	cr_assert_eq(num(st, "hours_gap"), 24);

	/* the material balance follows each lot's assay; the unknown code is unclassified, not lost */
	double feed = 0, cu_in = 0;
	for (int k = 0; k < 5; k++) {
		feed += 20 + k;
		cu_in += (20 + k) * (80 + 2 * k) / 100.0;
	}
	const double cu_out = 50 * 0.9995, cu_res = 6 * 0.015;
	const cJSON *ind = get(a, "indicators");
	cr_assert(REL(num(ind, "feed_t"), feed), "feed %.12g", num(ind, "feed_t"));
	cr_assert(REL(num(ind, "product_t"), 50.0));
	cr_assert(REL(num(ind, "cu_in_t"), cu_in), "Cu in %.12g, oracle %.12g", num(ind, "cu_in_t"), cu_in);
	cr_assert(REL(num(ind, "cu_out_t"), cu_out));
	cr_assert(REL(num(ind, "cu_residue_t"), cu_res));
	cr_assert(REL(num(ind, "yield_pct"), cu_out / cu_in * 100), "yield %.12g, oracle %.12g", num(ind, "yield_pct"),
		  cu_out / cu_in * 100);
	cr_assert(REL(num(ind, "unclassified_in_t"), 2.0));
	cr_assert_eq(num(ind, "assay_lots"), 7);
	const cJSON *sludge = by(get(ind, "materials"), "material", "cu_sludge_x");
	cr_assert_str_eq(get(sludge, "role")->valuestring, "unclassified");
	/* ent-b weighed nothing: its yield is not available, with the reason, never 0 % */
	cr_assert(cJSON_IsNull(get(get(b, "indicators"), "yield_pct")));

	/* CSV: the same numbers in the emissions block */
	snprintf(path, sizeof path, "%s/report.csv", env.dir);
	cr_assert_eq(run_report("csv", path), 0, "%s", out);
	char *csv = hh_slurp(path);
	char row[256];
	snprintf(row, sizeof row, "\nemissions,enterprise,ent-a,so2,");
	char *line = strstr(csv, row);
	cr_assert_not_null(line, "no emissions row of ent-a");
	/* name,name_zh,enterprises (empty),points,mass_t,hours_expected,hours_used,hours_stopped,gap_hours,gap_share */
	char name[64], name_zh[64];
	int points;
	double mass_t;
	long long he, hu, hs;
	cr_assert_eq(sscanf(line + strlen(row), "%63[^,],%63[^,],,%d,%lf,%lld,%lld,%lld", name, name_zh, &points, &mass_t,
			    &he, &hu, &hs),
		     7, "%.200s", line);
	cr_assert(fabs(mass_t - wa.kg / 1000) <= 1e-9 * wa.kg / 1000 + 1e-9);
	cr_assert_eq(he, wa.expected);
	cr_assert_eq(hu, wa.used);
	cr_assert_eq(hs, wa.stopped);
	free(csv);
	check_summary(&wa);
	cJSON_Delete(rep);
}
