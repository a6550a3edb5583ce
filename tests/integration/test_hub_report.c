/*
 * test_hub_report.c — `parkhub report` as a process, on a database of one
 * simulated month: the report's JSON equals a recomputation in SQL, the
 * report never writes, it reads while the hub holds a write transaction,
 * and bad arguments exit non-zero with a clear message.
 *
 * The month (March 2025, park p1 in Asia/Shanghai) is written straight into
 * a hub database by a deterministic generator (xorshift, fixed seed) the
 * way the writer would have stored it: rollups per minute and hour for a
 * stack (so2, nox, pm, flow), materials on a weighbridge, day sums of
 * electricity and water, one PCDD/F stack test; then ph_cems_update (the
 * library) fills the CEMS tables as the hub would at 2025-04-01 00:10.
 * Three enterprises, one per way a CEMS reports:
 *   smelter-a  5-s samples (12 values a minute), existing plant, Toolkit
 *              class 1 then 3 from 2025-03-15 (the year splits), baseline 2.5 g
 *   smelter-b  minute data, new plant, special limits (SO2 100, NOx 100, PM 10)
 *   foundry-c  hourly data, existing plant, class 4, never stack-tested
 * with outage hours, invalid (non-N) minutes, short hours and spike hours.
 *
 * The checks recompute from the rollups, not from the CEMS tables: a minute
 * is valid with n_valid ≥ min(12, expected), an hour with ≥ 45 valid
 * minutes (hourly data: its own N-flagged value), mass = Σ C × Q × 1e-6 kg
 * over hours with both, the compliance rate = hours ≤ the GB 31574-2015
 * limit / valid hours; material totals from the ledger by role; copper in
 * and out by each lot's assay (attrs.cu_pct, 0..100, else the catalogue's
 * default), the lots with an assay and with one ignored, and the tonnes of
 * a code the park does not declare (unclassified).
 *
 * PHT_KEEP=1 keeps the directory (hub.json, hub.db, report.*) and prints it.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "parkhub/catalog.h"
#include "domain/cems.h"
#include "config/hub_config.h"
#include "parkhub/limits.h"
#include "store/store.h"
#include "parkhub/timefmt.h"
#include "parkhub/tz.h"
#include "phtest.h"
#include "store/store_sql.h"

#define HOUR 3600000LL
#define MINUTE 60000LL
#define NHOURS (31 * 24)
#define NENTS 3

static char dir[512], cfg_path[700], db_path[700], out_path[700];
static char out[1 << 20];

static const char *const ents[NENTS] = {"smelter-a", "smelter-b", "foundry-c"};
enum kind { SAMPLES, MINUTE_DATA, HOURLY_DATA };
static const enum kind kinds[NENTS] = {SAMPLES, MINUTE_DATA, HOURLY_DATA};
static const char *const pollutants[3] = {"so2", "nox", "pm"};
/* GB 31574-2015 Table 3 (smelter-b: Table 4 special limits) */
static const double limits[NENTS][3] = {{150, 200, 30}, {100, 100, 10}, {150, 200, 30}};
static const double base[NENTS][4] = {{95, 130, 14, 80000}, {60, 70, 6, 50000}, {75, 90, 16, 30000}};
static const double product_per_day[NENTS] = {200, 130, 80};
static const double feed_per_product[NENTS] = {1.25, 1.35, 1.12};
/* the catalogue's default Cu of feed[e] and prod[e] (schemas/metrics.json), written out here */
static const double feed_cu[NENTS] = {0.95, 0.80, 0.99}, prod_cu[NENTS] = {0.9999, 0.9999, 0.65};

/* UTC ms of a local (UTC+8) time */
static int64_t L(int y, unsigned m, unsigned d, int h, int mi)
{
	return (ph_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 - 8 * 3600) * 1000LL;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static double rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* ---- writing the month ---- */

static sqlite3 *wdb;
static sqlite3_stmt *ins_rollup, *ins_dirty, *ins_material;

static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK, "%s: %s", sql, msg ? msg : "");
}

static int64_t one_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW, "%s", sql);
	int64_t v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int64_t point(const char *ent, const char *p)
{
	char sql[300];
	snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO points(park, ent, point) VALUES('p1', '%s', '%s')", ent, p);
	exec(wdb, sql);
	snprintf(sql, sizeof sql, "SELECT id FROM points WHERE park = 'p1' AND ent = '%s' AND point = '%s'", ent, p);
	return one_int(wdb, sql);
}

static int64_t series(const char *ent, const char *p, const char *metric)
{
	char sql[400];
	int64_t pid = point(ent, p);
	snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO metrics(code) VALUES('%s')", metric);
	exec(wdb, sql);
	snprintf(sql, sizeof sql,
		 "INSERT OR IGNORE INTO series(point_id, metric_id) SELECT %lld, id FROM metrics WHERE code = '%s'",
		 (long long)pid, metric);
	exec(wdb, sql);
	snprintf(sql, sizeof sql,
		 "SELECT s.id FROM series s JOIN metrics m ON m.id = s.metric_id WHERE s.point_id = %lld AND m.code = '%s'",
		 (long long)pid, metric);
	return one_int(wdb, sql);
}

static void rollup(int64_t sid, int period, int64_t bucket, int n, int n_valid, double sum, double sum_valid, double v,
		   double expected)
{
	sqlite3_stmt *s = ins_rollup;
	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, sid);
	sqlite3_bind_int(s, 2, period);
	sqlite3_bind_int64(s, 3, bucket);
	sqlite3_bind_int(s, 4, n);
	sqlite3_bind_int(s, 5, n_valid);
	sqlite3_bind_double(s, 6, sum);
	sqlite3_bind_double(s, 7, sum_valid);
	sqlite3_bind_double(s, 8, v);
	sqlite3_bind_double(s, 9, expected);
	cr_assert_eq(sqlite3_step(s), SQLITE_DONE, "%s", sqlite3_errmsg(wdb));
	if (period != PH_STORE_PERIOD_HOUR)
		return;
	/* an hour row marks its hour for the CEMS computation, as ph_store_rollup does */
	sqlite3_reset(ins_dirty);
	sqlite3_bind_int64(ins_dirty, 1, sid);
	sqlite3_bind_int64(ins_dirty, 2, bucket);
	cr_assert_eq(sqlite3_step(ins_dirty), SQLITE_DONE, "%s", sqlite3_errmsg(wdb));
}

/* attrs NULL: none (as the writer stores a record without attrs). */
static void lot(int64_t pid, int64_t ts, const char *code, const char *dir_s, double t, const char *attrs)
{
	sqlite3_stmt *s = ins_material;
	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, pid);
	sqlite3_bind_int64(s, 2, ts);
	sqlite3_bind_text(s, 3, code, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, dir_s, -1, SQLITE_STATIC);
	sqlite3_bind_double(s, 5, t);
	if (attrs)
		sqlite3_bind_text(s, 6, attrs, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, 6);
	cr_assert_eq(sqlite3_step(s), SQLITE_DONE, "%s", sqlite3_errmsg(wdb));
}

static void material(int64_t pid, int64_t ts, const char *code, const char *dir_s, double t)
{
	lot(pid, ts, code, dir_s, t, NULL);
}

/* The assay of feed lot i of day d, from (d, i) alone (the random stream
 * stays as it was): none for 1 lot in 5, an unusable "cu_pct": 120 for
 * some, else the default content ± 3 points (above 100 % for No. 1 scrap
 * now and then: ignored too). */
static const char *feed_assay(double def, int d, int i, char *buf, size_t cap)
{
	if ((d + i) % 5 == 0)
		return NULL;
	if ((d * 3 + i) % 11 == 4)
		return "{\"cu_pct\":120,\"moisture_pct\":1.5}";
	snprintf(buf, cap, "{\"cu_pct\":%.2f}", def * 100 - 3 + (double)((d * 7 + i * 3) % 13) / 2);
	return buf;
}

/* One hour of one metric at the stack, as the writer rolls it up. */
static void stack_hour(int e, int64_t sid, int64_t h, double v, bool invalid_some, bool short_hour)
{
	if (kinds[e] == HOURLY_DATA) {
		int ok = !invalid_some;
		rollup(sid, 0, h, 1, ok, v, ok ? v : 0, v, 1.0 / 60);
		rollup(sid, 1, h, 1, ok, v, ok ? v : 0, v, 1.0);
		return;
	}
	int per = kinds[e] == SAMPLES ? 12 : 1, n = 0, nv = 0;
	double sum = 0, sumv = 0;
	for (int m = 0; m < (short_hour ? 40 : 60); m++) {
		double x = v * (1 + 0.04 * (rnd() - 0.5));
		int bad = invalid_some && rnd() < 0.3 ? (per == 12 ? 1 + (int)(rnd() * 5) : 1) : 0;
		rollup(sid, 0, h + m * MINUTE, per, per - bad, per * x, (per - bad) * x, x, per);
		n += per;
		nv += per - bad;
		sum += per * x;
		sumv += (per - bad) * x;
	}
	rollup(sid, 1, h, n, nv, sum, sumv, v, 60.0 * per);
}

static void day_sum(int64_t sid, int64_t day, double v)
{
	rollup(sid, 2, day, 24, 24, v, v, v / 24, 24);
}

static void generate(void)
{
	struct ph_store *st;
	struct ph_err err = {0};
	cr_assert_eq(ph_store_open(db_path, &st, &err), 0, "%s", err.msg);
	ph_store_close(st); /* the schema, migrated */
	cr_assert_eq(sqlite3_open(db_path, &wdb), SQLITE_OK);
	exec(wdb, "BEGIN");
	cr_assert_eq(sqlite3_prepare_v2(wdb,
					"INSERT INTO rollups(series_id, period, bucket_ms, n, n_valid, sum, sum_valid, min, max,"
					" first_ts, first, last_ts, last, expected)"
					" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?3, ?8, ?3, ?8, ?9)",
					-1, &ins_rollup, NULL),
		     SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(wdb, STORE_SQL_CEMS_DIRTY, -1, &ins_dirty, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(wdb,
					"INSERT INTO materials(point_id, ts_ms, material, dir, qty_t, attrs, agent_id, epoch, seq)"
					" VALUES(?1, ?2, ?3, ?4, ?5, ?6, 1, 1, 1)",
					-1, &ins_material, NULL),
		     SQLITE_OK);
	static const char *const feed[NENTS] = {"scrap_cu_2", "scrap_cu_mixed", "scrap_cu_1"};
	static const char *const prod[NENTS] = {"cathode_cu", "cathode_cu", "cu_alloy"};
	int64_t m0 = L(2025, 3, 1, 0, 0);
	for (int e = 0; e < NENTS; e++) {
		int64_t sid[4];
		for (int k = 0; k < 3; k++)
			sid[k] = series(ents[e], "stack-1", pollutants[k]);
		sid[3] = series(ents[e], "stack-1", "flow");
		int64_t elec = series(ents[e], "furnace-1", "electricity"), water = series(ents[e], "furnace-1", "water");
		int64_t wb = point(ents[e], "weighbridge");
		for (int hi = 0; hi < NHOURS; hi++) {
			int64_t h = m0 + hi * HOUR;
			if (rnd() < 0.03)
				continue; /* outage: nothing stored for the hour */
			bool short_hour = rnd() < 0.02;
			for (int k = 0; k < 4; k++) {
				double v = base[e][k] * (1 + 0.3 * (rnd() - 0.5));
				if (k < 3 && rnd() < 0.02)
					v *= 2.4; /* a spike hour: above the limit */
				stack_hour(e, sid[k], h, v, rnd() < 0.05, short_hour);
			}
		}
		for (int d = 0; d < 31; d++) {
			int64_t day = m0 + d * 24 * HOUR;
			double p = product_per_day[e] * (0.8 + 0.4 * rnd());
			int nf = 2 + (int)(rnd() * 3);
			char assay[64];
			for (int i = 0; i < nf; i++)
				lot(wb, day + (int64_t)(rnd() * 24 * HOUR), feed[e], "in", p * feed_per_product[e] / nf,
				    feed_assay(feed_cu[e], d, i, assay, sizeof assay));
			lot(wb, day + 8 * HOUR, prod[e], "out", p * 0.6, d % 3 == 0 ? "{\"cu_pct\":99.97}" : NULL);
			material(wb, day + 17 * HOUR, prod[e], "out", p * 0.4);
			material(wb, day + 18 * HOUR, "slag", "out", p * 0.12);
			if (e < 2)
				material(wb, day + 19 * HOUR, "flue_dust", "out", p * 0.02);
			if (e == 0)
				material(wb, day + 7 * HOUR, "lime", "in", 1.0);
			if (e == 1 && d % 7 == 2) /* a code the park does not declare: unclassified */
				lot(wb, day + 11 * HOUR, "scrap_al", "in", 3.0, "{\"al_pct\":91}");
			day_sum(elec, day, p * (420 + 60 * rnd()));
			if (e == 0)
				day_sum(water, day, p * (2.5 + rnd()));
		}
	}
	/* stack tests (flag S): smelter-a 0.35, smelter-b 0.62 (above 0.5) */
	int64_t pa = series("smelter-a", "stack-1", "pcdd_f"), pb = series("smelter-b", "stack-1", "pcdd_f");
	rollup(pa, 0, L(2025, 3, 10, 10, 20), 1, 0, 0.35, 0, 0.35, 1);
	rollup(pa, 1, L(2025, 3, 10, 10, 0), 1, 0, 0.35, 0, 0.35, 720);
	rollup(pb, 0, L(2025, 3, 20, 14, 0), 1, 0, 0.62, 0, 0.62, 1);
	rollup(pb, 1, L(2025, 3, 20, 14, 0), 1, 0, 0.62, 0, 0.62, 60);
	sqlite3_finalize(ins_rollup);
	sqlite3_finalize(ins_dirty);
	sqlite3_finalize(ins_material);
	exec(wdb, "COMMIT");

	/* the CEMS tables, as the hub's writer would fill them by Apr 1 00:10 */
	struct ph_hub_config cfg;
	struct ph_tz *tz;
	struct ph_limits *lim;
	struct ph_catalog *cat;
	cr_assert_eq(ph_hub_config_load(cfg_path, &cfg, &err), 0, "%s", err.msg);
	cr_assert_eq(ph_tz_load("Asia/Shanghai", &tz, &err), 0, "%s", err.msg);
	cr_assert_eq(ph_limits_load_builtin(&lim, &err), 0, "%s", err.msg);
	cr_assert_eq(ph_catalog_load_builtin(&cat, &err), 0, "%s", err.msg);
	int rc;
	struct ph_refs refs = {.cfg = &cfg, .cat = cat, .limits = {lim}, .nlimits = 1};
	for (int p = 0; p < cfg.nparks; p++) refs.tz[p] = tz; /* every park of this config is in Shanghai */
	while ((rc = ph_cems_update(wdb, &refs, L(2025, 4, 1, 0, 10), &err)) == 1)
		;
	cr_assert_eq(rc, 0, "%s", err.msg);
	ph_catalog_free(cat);
	ph_limits_free(lim);
	ph_tz_free(tz);
	ph_hub_config_fini(&cfg);
	cr_assert_eq(sqlite3_close(wdb), SQLITE_OK);
	wdb = NULL;
}

static void write_config(void)
{
	FILE *f = fopen(cfg_path, "w");
	cr_assert_not_null(f);
	fprintf(f,
		"{\n"
		"  \"hub_id\": \"hub-report\",\n"
		"  \"mqtt\": {\"uris\": [\"tcp://127.0.0.1:1\"]},\n"
		"  \"db\": {\"path\": \"%s\"},\n"
		"  \"parks\": [{\"id\": \"p1\", \"name\": \"Demo secondary-copper park\", \"tz\": \"Asia/Shanghai\",\n"
		"    \"enterprises\": [\n"
		"      {\"id\": \"smelter-a\", \"name\": \"Smelter A Copper Co.\", \"sector\": \"cu\", \"class\": \"existing\",\n"
		"       \"agents\": [\"gw-a\"], \"expected_interval_s\": 5, \"monitoring_since\": \"2025-03-01\",\n"
		"       \"toolkit_class\": [{\"class\": 1, \"since\": \"2015-01-01\"}, {\"class\": 3, \"since\": \"2025-03-15\"}],\n"
		"       \"baseline\": {\"year\": 2024, \"pcdd_f_g_teq\": 2.5}},\n"
		"      {\"id\": \"smelter-b\", \"name\": \"Smelter B (new plant)\", \"sector\": \"cu\", \"class\": \"new\",\n"
		"       \"class_since\": \"2016-01-01\", \"special_limits\": true, \"agents\": [\"gw-b\"], \"expected_interval_s\": 60,\n"
		"       \"monitoring_since\": \"2025-03-01\",\n"
		"       \"toolkit_class\": [{\"class\": 2, \"since\": \"2016-01-01\"}], \"baseline\": {\"year\": 2024}},\n"
		"      {\"id\": \"foundry-c\", \"name\": \"Foundry C Alloys\", \"sector\": \"cu\", \"class\": \"existing\",\n"
		"       \"agents\": [\"gw-c\"], \"expected_interval_s\": 3600, \"monitoring_since\": \"2025-03-01\",\n"
		"       \"toolkit_class\": [{\"class\": 4, \"since\": \"2010-01-01\"}]}\n"
		"    ]}]\n"
		"}\n",
		db_path);
	cr_assert_eq(fclose(f), 0);
}

static void setup(void)
{
	cr_assert_not_null(getenv("PH_PARKHUB"), "PH_PARKHUB is not set");
	cr_assert_eq(pht_tmpdir(dir, sizeof dir), 0);
	snprintf(cfg_path, sizeof cfg_path, "%s/hub.json", dir);
	snprintf(db_path, sizeof db_path, "%s/hub.db", dir);
	snprintf(out_path, sizeof out_path, "%s/report.json", dir);
	write_config();
	generate();
}

static void teardown(void)
{
	if (wdb)
		sqlite3_close(wdb);
	wdb = NULL;
	const char *keep = getenv("PHT_KEEP");
	if (keep && *keep && strcmp(keep, "0") != 0)
		fprintf(stderr, "test_hub_report: kept %s\n", dir);
	else if (dir[0])
		pht_rmtree(dir);
	dir[0] = '\0';
}

TestSuite(report, .init = setup, .fini = teardown, .timeout = 120);

/* ---- running the report ---- */

static int report(const char *park, const char *year, const char *format, const char *outp)
{
	const char *argv[14];
	int i = 0, code = -1;
	argv[i++] = getenv("PH_PARKHUB");
	argv[i++] = "report";
	argv[i++] = "--config";
	argv[i++] = cfg_path;
	if (park) {
		argv[i++] = "--park";
		argv[i++] = park;
	}
	if (year) {
		argv[i++] = "--year";
		argv[i++] = year;
	}
	if (format) {
		argv[i++] = "--format";
		argv[i++] = format;
	}
	if (outp) {
		argv[i++] = "--out";
		argv[i++] = outp;
	}
	argv[i] = NULL;
	cr_assert_eq(pht_run(argv, 60000, out, sizeof out, &code), 0, "parkhub report did not finish");
	return code;
}

static cJSON *load_json(const char *path)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	static char text[8 << 20];
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	cJSON *j = cJSON_Parse(text);
	cr_assert_not_null(j, "report.json is not JSON");
	return j;
}

static const cJSON *get(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	cr_assert_not_null(v, "no key %s", k);
	return v;
}
static double num(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);
	cr_assert(cJSON_IsNumber(v), "%s is not a number", k);
	return v->valuedouble;
}
static const cJSON *by(const cJSON *arr, const char *k, const char *v)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(it, k);
		if (cJSON_IsString(x) && strcmp(x->valuestring, v) == 0)
			return it;
	}
	cr_assert_fail("no element %s = %s", k, v);
	return NULL;
}

#define REL(a, b) (fabs((a) - (b)) <= 1e-9 * fmax(1.0, fmax(fabs(a), fabs(b))))

/* ---- the recomputation ---- */

/* Valid hourly means of (ent, stack-1, metric) by hour index of March; NAN when not valid. */
static void hour_means(sqlite3 *db, int e, const char *metric, double *mean)
{
	static const char minute_based[] =
		"SELECT (r.bucket_ms - r.bucket_ms % 3600000 - ?3) / 3600000, avg(r.sum_valid / r.n_valid)"
		" FROM points p JOIN series s ON s.point_id = p.id JOIN metrics m ON m.id = s.metric_id AND m.code = ?2"
		" JOIN rollups r ON r.series_id = s.id AND r.period = 0"
		" WHERE p.park = 'p1' AND p.ent = ?1 AND p.point = 'stack-1' AND r.n_valid > 0"
		" AND r.n_valid >= min(12, CAST(r.expected + 1e-9 AS INTEGER))"
		" GROUP BY r.bucket_ms - r.bucket_ms % 3600000 HAVING count(*) >= 45";
	static const char hourly[] =
		"SELECT (r.bucket_ms - ?3) / 3600000, r.sum_valid / r.n_valid"
		" FROM points p JOIN series s ON s.point_id = p.id JOIN metrics m ON m.id = s.metric_id AND m.code = ?2"
		" JOIN rollups r ON r.series_id = s.id AND r.period = 1"
		" WHERE p.park = 'p1' AND p.ent = ?1 AND p.point = 'stack-1' AND r.n_valid > 0";
	for (int i = 0; i < NHOURS; i++)
		mean[i] = NAN;
	sqlite3_stmt *s;
	cr_assert_eq(sqlite3_prepare_v2(db, kinds[e] == HOURLY_DATA ? hourly : minute_based, -1, &s, NULL), SQLITE_OK,
		     "%s", sqlite3_errmsg(db));
	sqlite3_bind_text(s, 1, ents[e], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, metric, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, L(2025, 3, 1, 0, 0));
	while (sqlite3_step(s) == SQLITE_ROW) {
		int64_t i = sqlite3_column_int64(s, 0);
		cr_assert(i >= 0 && i < NHOURS);
		mean[i] = sqlite3_column_double(s, 1);
	}
	sqlite3_finalize(s);
}

static double ledger(sqlite3 *db, const char *ent, const char *dir_s, const char *materials, int64_t from, int64_t to)
{
	char sql[600];
	snprintf(sql, sizeof sql,
		 "SELECT total(m.qty_t) FROM materials m JOIN points p ON p.id = m.point_id WHERE p.park = 'p1'"
		 " AND (%s IS NULL OR p.ent = '%s') AND m.dir = '%s' AND m.material IN (%s) AND m.ts_ms >= %lld AND m.ts_ms < %lld",
		 ent ? "1" : "NULL", ent ? ent : "", dir_s, materials, (long long)from, (long long)to);
	sqlite3_stmt *s;
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	double v = sqlite3_column_double(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Cu in one material's lots of one direction, by the documented rule: a
 * lot's attrs.cu_pct when it is a JSON number 0..100, else the default. */
static double copper(sqlite3 *db, const char *ent, const char *dir_s, const char *code, double def, int64_t from,
		     int64_t to)
{
	char sql[800];
	snprintf(sql, sizeof sql,
		 "SELECT total(CASE WHEN json_type(m.attrs, '$.cu_pct') IN ('integer', 'real')"
		 " AND json_extract(m.attrs, '$.cu_pct') BETWEEN 0 AND 100"
		 " THEN m.qty_t * json_extract(m.attrs, '$.cu_pct') / 100 ELSE m.qty_t * %.17g END)"
		 " FROM materials m JOIN points p ON p.id = m.point_id WHERE p.park = 'p1' AND p.ent = '%s'"
		 " AND m.dir = '%s' AND m.material = '%s' AND m.ts_ms >= %lld AND m.ts_ms < %lld",
		 def, ent, dir_s, code, (long long)from, (long long)to);
	sqlite3_stmt *s;
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	double v = sqlite3_column_double(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int64_t count_where(sqlite3 *db, const char *ent, const char *cond)
{
	char sql[600];
	snprintf(sql, sizeof sql,
		 "SELECT count(*) FROM materials m JOIN points p ON p.id = m.point_id WHERE p.park = 'p1'"
		 " AND p.ent = '%s' AND (%s)",
		 ent, cond);
	sqlite3_stmt *s;
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

#define PRODUCTS "'cathode_cu','anode_cu','blister_cu','cu_alloy'"
#define FEEDS "'scrap_cu_1','scrap_cu_2','scrap_cu_mixed','scrap_cu_ewaste'"
#define RESIDUES "'slag','flue_dust'"

Test(report, report_json_equals_a_recomputation_in_sql)
{
	cr_assert_eq(report("p1", "2025", "json", out_path), 0, "%s", out);
	cJSON *rep = load_json(out_path);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);

	/* closed until Apr 1 00:08, monitored since Mar 1 (configured): Jan and Feb are not
	 * monitored, not gaps; Mar 1 .. Mar 31 = 31 days = 744 hours expected per point */
	const int64_t expected = 31 * 24;
	cr_assert_str_eq(get(rep, "cems_closed_until")->valuestring, "2025-04-01T00:08:00+08:00");
	const cJSON *park = get(rep, "park_summary");
	double park_mass[3] = {0}, park_product = 0;
	int64_t park_valid[3] = {0}, park_within[3] = {0};
	static double c[NHOURS], q[NHOURS];
	for (int e = 0; e < NENTS; e++) {
		const cJSON *ent = by(get(rep, "enterprises"), "id", ents[e]);
		hour_means(db, e, "flow", q);
		for (int k = 0; k < 3; k++) {
			hour_means(db, e, pollutants[k], c);
			double kg = 0;
			int64_t used = 0, valid = 0, within = 0;
			for (int i = 0; i < NHOURS; i++) {
				if (isnan(c[i]))
					continue;
				valid++;
				within += c[i] <= limits[e][k];
				if (!isnan(q[i])) {
					kg += c[i] * q[i] * 1e-6;
					used++;
				}
			}
			cr_assert(valid > 600 && valid < NHOURS, "%s %s: the generator gave %lld valid hours", ents[e],
				  pollutants[k], (long long)valid);
			cr_assert(within < valid, "%s %s: no exceedance generated", ents[e], pollutants[k]);
			const cJSON *m = by(get(ent, "emissions"), "pollutant", pollutants[k]);
			cr_assert(REL(num(m, "mass_t"), kg / 1000), "%s %s mass %.12g t, SQL %.12g t", ents[e],
				  pollutants[k], num(m, "mass_t"), kg / 1000);
			cr_assert_eq(num(m, "hours_used"), used, "%s %s", ents[e], pollutants[k]);
			cr_assert_eq(num(m, "hours_expected"), expected);
			cr_assert(REL(num(m, "gap_share"), (double)(expected - used) / expected));
			const cJSON *r = by(get(ent, "compliance"), "pollutant", pollutants[k]);
			cr_assert(REL(num(r, "limit"), limits[e][k]), "%s %s limit", ents[e], pollutants[k]);
			cr_assert_eq(num(r, "hours_valid"), valid, "%s %s valid hours", ents[e], pollutants[k]);
			cr_assert_eq(num(r, "exceedance_hours"), valid - within, "%s %s", ents[e], pollutants[k]);
			cr_assert(REL(num(r, "hour_compliance"), (double)within / valid), "%s %s rate %.12g, SQL %.12g",
				  ents[e], pollutants[k], num(r, "hour_compliance"), (double)within / valid);
			cr_assert(REL(num(r, "hour_availability"), (double)valid / expected));
			park_mass[k] += kg / 1000;
			park_valid[k] += valid;
			park_within[k] += within;
		}
		/* material balance from the ledger by role */
		int64_t y0 = L(2025, 1, 1, 0, 0), y1 = L(2026, 1, 1, 0, 0);
		const cJSON *ind = get(ent, "indicators");
		double feed = ledger(db, ents[e], "in", FEEDS, y0, y1), prod = ledger(db, ents[e], "out", PRODUCTS, y0, y1);
		double res = ledger(db, ents[e], "out", RESIDUES, y0, y1);
		cr_assert(REL(num(ind, "feed_t"), feed), "%s feed %.12g vs %.12g", ents[e], num(ind, "feed_t"), feed);
		cr_assert(REL(num(ind, "product_t"), prod));
		cr_assert(REL(num(ind, "residue_t"), res));
		cr_assert(REL(num(by(get(ind, "per_t"), "indicator", "feed"), "value"), feed / prod));
		park_product += prod;
		/* copper by the lots' assays (item 5 of issue #15) */
		static const char *const feed_code[NENTS] = {"scrap_cu_2", "scrap_cu_mixed", "scrap_cu_1"};
		static const char *const prod_code[NENTS] = {"cathode_cu", "cathode_cu", "cu_alloy"};
		double cu_in = copper(db, ents[e], "in", feed_code[e], feed_cu[e], y0, y1);
		double cu_out = copper(db, ents[e], "out", prod_code[e], prod_cu[e], y0, y1);
		cr_assert(REL(num(ind, "cu_in_t"), cu_in), "%s Cu in %.12g vs %.12g", ents[e], num(ind, "cu_in_t"), cu_in);
		cr_assert(REL(num(ind, "cu_out_t"), cu_out), "%s Cu out %.12g vs %.12g", ents[e], num(ind, "cu_out_t"),
			  cu_out);
		cr_assert(REL(num(ind, "yield_pct"), cu_out / cu_in * 100));
		cr_assert(fabs(cu_in - feed * feed_cu[e]) > 1e-6 * cu_in, "%s: the assays must move Cu in", ents[e]);
		int64_t assayed = count_where(db, ents[e],
					      "json_type(m.attrs, '$.cu_pct') IN ('integer', 'real') AND"
					      " json_extract(m.attrs, '$.cu_pct') BETWEEN 0 AND 100");
		int64_t ignored = count_where(db, ents[e],
					      "json_type(m.attrs, '$.cu_pct') IS NOT NULL AND NOT (json_type(m.attrs,"
					      " '$.cu_pct') IN ('integer', 'real') AND json_extract(m.attrs, '$.cu_pct')"
					      " BETWEEN 0 AND 100)");
		cr_assert(assayed > 0 && ignored > 0, "%s: the generator gave %lld assays, %lld ignored", ents[e],
			  (long long)assayed, (long long)ignored);
		cr_assert_eq(num(ind, "assay_lots"), assayed, "%s", ents[e]);
		cr_assert_eq(num(ind, "assay_ignored_lots"), ignored, "%s", ents[e]);
		double unclassified = ledger(db, ents[e], "in", "'scrap_al'", y0, y1);
		cr_assert(REL(num(ind, "unclassified_in_t") + 1, unclassified + 1), "%s unclassified %.12g vs %.12g",
			  ents[e], num(ind, "unclassified_in_t"), unclassified);
		cr_assert_eq(e == 1, unclassified > 0, "only smelter-b weighs scrap_al");
	}
	for (int k = 0; k < 3; k++) {
		const cJSON *m = by(get(park, "emissions"), "pollutant", pollutants[k]);
		cr_assert(REL(num(m, "mass_t"), park_mass[k]), "park %s", pollutants[k]);
		const cJSON *r = by(get(park, "compliance"), "pollutant", pollutants[k]);
		cr_assert(REL(num(r, "hour_compliance"), (double)park_within[k] / park_valid[k]));
	}
	cr_assert(REL(num(get(park, "indicators"), "product_t"), park_product));

	/* PCDD/F estimated, smelter-a: class 1 (air 800 µg/t) until Mar 14, class 3 (5 µg/t) from Mar 15 */
	double p1 = ledger(db, "smelter-a", "out", PRODUCTS, L(2025, 1, 1, 0, 0), L(2025, 3, 15, 0, 0));
	double p3 = ledger(db, "smelter-a", "out", PRODUCTS, L(2025, 3, 15, 0, 0), L(2026, 1, 1, 0, 0));
	const cJSON *pa = get(by(get(rep, "enterprises"), "id", "smelter-a"), "pcdd_f");
	cr_assert(REL(num(pa, "estimated_air_g_teq"), (800 * p1 + 5 * p3) * 1e-6));
	cr_assert_eq(cJSON_GetArraySize(get(pa, "factors")), 2, "the year splits at the class change");
	/* smelter-b's stack test is above the 0.5 ng TEQ/Nm³ limit; foundry-c was never tested */
	const cJSON *pb = get(by(get(rep, "enterprises"), "id", "smelter-b"), "pcdd_f");
	cr_assert(cJSON_IsTrue(get(cJSON_GetArrayItem(get(pb, "stack_tests"), 0), "above_limit")));
	const cJSON *mc = get(by(get(rep, "enterprises"), "id", "foundry-c"), "monitoring");
	cr_assert(cJSON_IsTrue(get(mc, "never_tested")));
	sqlite3_close(db);
	cJSON_Delete(rep);
}

/* A checksum of a file's bytes. */
static uint64_t file_sum(const char *path)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f);
	uint64_t h = 1469598103934665603ULL;
	int ch;
	while ((ch = fgetc(f)) != EOF)
		h = (h ^ (uint64_t)ch) * 1099511628211ULL;
	fclose(f);
	return h;
}

Test(report, report_never_writes_and_reads_while_the_hub_writes)
{
	uint64_t before = file_sum(db_path);
	char csv[700], html[700];
	snprintf(csv, sizeof csv, "%s/report.csv", dir);
	snprintf(html, sizeof html, "%s/report.html", dir);
	cr_assert_eq(report("p1", "2025", "csv", csv), 0, "%s", out);
	cr_assert_eq(report("p1", "2025", "html", html), 0, "%s", out);
	cr_assert_eq(file_sum(db_path), before, "the report changed the database file");

	/* a writer holds a transaction (WAL, as the hub's): the report still reads, and sees the last commit */
	sqlite3 *w;
	cr_assert_eq(sqlite3_open(db_path, &w), SQLITE_OK);
	exec(w, "PRAGMA journal_mode=WAL");
	exec(w, "BEGIN IMMEDIATE");
	exec(w, "UPDATE cems_state SET closed_ms = closed_ms + 3600000");
	cr_assert_eq(report("p1", "2025", "json", out_path), 0, "%s", out);
	cJSON *rep = load_json(out_path);
	cr_assert_str_eq(get(rep, "cems_closed_until")->valuestring, "2025-04-01T00:08:00+08:00");
	cJSON_Delete(rep);
	exec(w, "ROLLBACK");
	sqlite3_close(w);

	/* to standard output when there is no --out */
	cr_assert_eq(report("p1", "2025", "csv", NULL), 0, "%s", out);
	cr_assert(strncmp(out, "section,scope,scope_id,", 23) == 0, "%.200s", out);
	cr_assert(strstr(out, "\nemissions,enterprise,smelter-a,so2,") != NULL);
	struct stat sb;
	cr_assert_eq(stat(html, &sb), 0);
	cr_assert(sb.st_size > 10000);
}

Test(report, report_refuses_bad_arguments_with_a_clear_message)
{
	cr_assert_eq(report("nope", "2025", "json", NULL), 2, "%s", out);
	cr_assert(strstr(out, "--park 'nope' is not a park") && strstr(out, "configured: p1"), "%s", out);
	cr_assert_eq(report("p1", "20x5", "json", NULL), 2, "%s", out);
	cr_assert(strstr(out, "--year: '20x5' is not a year"), "%s", out);
	cr_assert_eq(report("p1", "1900", "json", NULL), 2, "%s", out);
	cr_assert(strstr(out, "--year: '1900'"), "%s", out);
	cr_assert_eq(report("p1", "2025", "xml", NULL), 2, "%s", out);
	cr_assert(strstr(out, "--format: 'xml' is not json, csv or html"), "%s", out);
	cr_assert_eq(report("p1", NULL, "json", NULL), 2, "%s", out);
	cr_assert(strstr(out, "--year Y is required"), "%s", out);
	/* a missing database is not created */
	char missing[800];
	snprintf(missing, sizeof missing, "%s/gone.db", dir);
	rename(db_path, missing);
	cr_assert_eq(report("p1", "2025", "json", out_path), 1, "%s", out);
	cr_assert(strstr(out, "database") && strstr(out, "hub.db"), "%s", out);
	struct stat sb;
	cr_assert_neq(stat(db_path, &sb), 0, "the report created a database");
	rename(missing, db_path);
	/* a failed report leaves no partial --out file */
	cr_assert_neq(stat(out_path, &sb), 0);
}

static int report_lang(const char *lang, const char *outp)
{
	const char *argv[16] = {getenv("PH_PARKHUB"), "report", "--config", cfg_path, "--park", "p1", "--year", "2025",
				"--format", "html"};
	int i = 10, code = -1;
	if (lang) {
		argv[i++] = "--lang";
		argv[i++] = lang;
	}
	argv[i++] = "--out";
	argv[i++] = outp;
	argv[i] = NULL;
	cr_assert_eq(pht_run(argv, 60000, out, sizeof out, &code), 0, "parkhub report did not finish");
	return code;
}

/* The whole file, NUL-terminated; new (free), NULL when unreadable. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(1 << 22);
	size_t n = buf ? fread(buf, 1, (1 << 22) - 1, f) : 0;
	fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

/* The HTML in the park's language by default (Asia/Shanghai: zh-CN) and in
 * the one --lang asks for; a language it does not have is refused. The
 * files stay with PHT_KEEP=1 (tests/browser/report.sh prints them). */
Test(report, report_speaks_the_park_language_or_the_one_asked)
{
	char zh[800], en[800], bad[800];
	snprintf(zh, sizeof zh, "%s/report.zh-CN.html", dir);
	snprintf(en, sizeof en, "%s/report.en.html", dir);
	snprintf(bad, sizeof bad, "%s/report.fr.html", dir);
	cr_assert_eq(report_lang(NULL, zh), 0, "%s", out);
	char *h = slurp(zh);
	cr_assert_not_null(h);
	cr_assert(strstr(h, "<html lang=\"zh-CN\">") && strstr(h, ">数据有效率</th>") && strstr(h, "二氧化硫"),
		  "the default is the park's language");
	free(h);
	cr_assert_eq(report_lang("en", en), 0, "%s", out);
	h = slurp(en);
	cr_assert_not_null(h);
	cr_assert(strstr(h, "<html lang=\"en\">") && strstr(h, ">Data availability</th>") && !strstr(h, "数据有效率"));
	free(h);
	cr_assert_eq(report_lang("fr", bad), 2, "%s", out);
	cr_assert(strstr(out, "--lang: 'fr' is not zh-CN or en"), "%s", out);
	struct stat sb;
	cr_assert_neq(stat(bad, &sb), 0, "a refused language wrote a file");
}

static int report_parks(const char *parks, const char *park, const char *outp)
{
	const char *argv[16] = {getenv("PH_PARKHUB"), "report", "--config", cfg_path, "--parks", parks, "--year", "2025",
				"--format", "json"};
	int i = 10, code = -1;
	if (park) {
		argv[i++] = "--park";
		argv[i++] = park;
	}
	if (outp) {
		argv[i++] = "--out";
		argv[i++] = outp;
	}
	argv[i] = NULL;
	cr_assert_eq(pht_run(argv, 60000, out, sizeof out, &code), 0, "parkhub report did not finish");
	return code;
}

/* `parkhub report --parks` (report_region.h) as a process: the region
 * report's park section is the park report `--park` writes (but for the
 * generation stamps of two runs), and its region totals are that park's
 * figures (one park: the sum of one); a park not configured, or --park
 * with --parks, exits 2 with the reason and writes nothing. */
Test(report, report_parks_writes_each_park_report_and_the_region)
{
	char region[800];
	snprintf(region, sizeof region, "%s/region.json", dir);
	cr_assert_eq(report("p1", "2025", "json", out_path), 0, "%s", out);
	cr_assert_eq(report_parks("all", NULL, region), 0, "%s", out);
	cJSON *one = load_json(out_path), *reg = load_json(region);
	cJSON *sec = cJSON_Duplicate(cJSON_GetArrayItem(get(reg, "park_reports"), 0), true);
	static const char *const stamps[] = {"generated_at", "generated_at_utc"};
	for (size_t i = 0; i < 2; i++) {
		cJSON_DeleteItemFromObject(sec, stamps[i]);
		cJSON_DeleteItemFromObject(one, stamps[i]);
	}
	cr_assert(cJSON_Compare(sec, one, true), "the region's p1 section differs from p1's report");
	const cJSON *ps = get(one, "park_summary"), *rg = get(reg, "region"), *it;
	cJSON_ArrayForEach(it, get(ps, "emissions")) {
		const cJSON *code = get(it, "pollutant"), *m = get(it, "mass_t"), *r = NULL, *x;
		cJSON_ArrayForEach(x, get(rg, "emissions")) if (!strcmp(get(x, "pollutant")->valuestring, code->valuestring)) r = x;
		cr_assert_not_null(r, "no region row for %s", code->valuestring);
		if (cJSON_IsNumber(m))
			cr_assert_float_eq(get(r, "mass_t")->valuedouble, m->valuedouble, 1e-12, "%s", code->valuestring);
		else
			cr_assert(cJSON_IsNull(get(r, "mass_t")) && strstr(get(r, "mass_t_na")->valuestring, "p1"),
				  "%s: n/a in the park, n/a naming it in the region", code->valuestring);
	}
	const cJSON *cur = get(get(ps, "pcdd_f"), "current_g_teq"), *rcur = get(get(rg, "pcdd_f"), "current_g_teq");
	cr_assert(cJSON_IsNumber(cur) ? cJSON_IsNumber(rcur) && fabs(rcur->valuedouble - cur->valuedouble) < 1e-12
				      : cJSON_IsNull(rcur), "the region's current PCDD/F release is p1's");
	cJSON_Delete(sec);
	cJSON_Delete(one);
	cJSON_Delete(reg);
	unlink(region);
	cr_assert_eq(report_parks("p1,p9", NULL, region), 2, "%s", out);
	cr_assert(strstr(out, "--parks: park 'p9' is not configured"), "%s", out);
	cr_assert_eq(report_parks("p1", "p1", region), 2, "%s", out);
	cr_assert(strstr(out, "--park and --parks exclude each other"), "%s", out);
	struct stat sb;
	cr_assert_neq(stat(region, &sb), 0, "a refused command wrote a file");
}
