-- gen.sql — the query benchmark's data (bench/query/README.md), on a database
-- made by `ph_bench_query_serve --init`: park @PARK@ (run.sh runs this once
-- per park: "bench", then "bench1".."bench9" with BENCH_PARKS=10; every
-- statement touches only that park's rows), 100 enterprises
-- e000..e099 with a point stack-1 measuring 20 metrics and a weighbridge
-- point scale; a year (2025, local Asia/Shanghai hours) of hourly rollups for
-- every series (2 000 series × 8 760 h = 17 520 000 rows) and their local days; CEMS hourly and
-- daily means for the four pollutants and the flow (with their limits, some
-- invalid hours, some exceedances); a material ledger (two records a day per
-- enterprise); agent presence; 2 000 alarms.
-- A benchmark database only: the CEMS triggers are dropped (they would mark
-- every hour dirty for an update that never runs here).
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -524288;
DROP TRIGGER IF EXISTS cems_touch_insert;
DROP TRIGGER IF EXISTS cems_touch_update;
DROP TRIGGER IF EXISTS cems_touch_material;
BEGIN;
CREATE TEMP TABLE m(code TEXT PRIMARY KEY, lim REAL, pollutant INTEGER);
INSERT INTO temp.m VALUES ('so2', 150, 1), ('nox', 200, 1), ('pm', 30, 1), ('pcdd_f', 0.5, 1), ('flow', NULL, 1),
  ('o2', NULL, 0), ('temp', NULL, 0), ('moisture', NULL, 0), ('pressure', NULL, 0), ('velocity', NULL, 0),
  ('furnace_temp', NULL, 0), ('afterburner_temp', NULL, 0), ('quench_out_temp', NULL, 0), ('baghouse_dp', NULL, 0),
  ('aci_rate', NULL, 0), ('production_rate', NULL, 0), ('afterburner_residence', NULL, 0), ('electricity', NULL, 0),
  ('fuel_gas', NULL, 0), ('water', NULL, 0);
INSERT OR IGNORE INTO metrics(code) SELECT code FROM temp.m ORDER BY code;
CREATE TEMP TABLE e(i INTEGER PRIMARY KEY, ent TEXT);
WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM r WHERE i < 99)
INSERT INTO temp.e SELECT i, printf('e%03d', i) FROM r;
INSERT INTO points(park, ent, point) SELECT '@PARK@', ent, 'scale' FROM temp.e UNION ALL
  SELECT '@PARK@', ent, 'stack-1' FROM temp.e ORDER BY 2, 3;
INSERT INTO series(point_id, metric_id) SELECT p.id, mt.id FROM points p CROSS JOIN metrics mt
  WHERE p.park = '@PARK@' AND p.point = 'stack-1' ORDER BY p.id, mt.id;
-- this park's series (the ids of one insert: a range)
CREATE TEMP TABLE ps(id INTEGER PRIMARY KEY);
INSERT INTO temp.ps SELECT s.id FROM series s JOIN points p ON p.id = s.point_id WHERE p.park = '@PARK@';
CREATE TEMP TABLE h(k INTEGER PRIMARY KEY, t INTEGER NOT NULL, d INTEGER NOT NULL);
WITH RECURSIVE r(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM r WHERE k < 8759)
INSERT INTO temp.h SELECT k, 1735660800000 + k * 3600000, 1735660800000 + (k / 24) * 86400000 FROM r;

-- hourly rollups: 720 values an hour (5-s sampling), the mean wandering with the hour and the series
INSERT INTO rollups(series_id, period, bucket_ms, n, n_valid, sum, sum_valid, min, max, first_ts, first, last_ts,
  last, expected)
SELECT sid, 1, t, 720, 718, 720 * v, 718 * v, v * 0.8, v * 1.2, t, v, t + 3595000, v, 720
FROM (SELECT s.id AS sid, h.t AS t, 10.0 + (s.id % 13) * 7 + ((h.k * 37 + s.id * 11) % 50) AS v
      FROM temp.ps s CROSS JOIN temp.h h ORDER BY s.id, h.k);

-- day rollups (local days) from the hours
INSERT INTO rollups(series_id, period, bucket_ms, n, n_valid, sum, sum_valid, min, max, first_ts, first, last_ts,
  last, expected)
SELECT series_id, 2, d, sum(n), sum(n_valid), sum(sum), sum(sum_valid), min(min), max(max), min(first_ts), 0,
  max(last_ts), 0, 17280
FROM (SELECT *, 1735660800000 + ((bucket_ms - 1735660800000) / 86400000) * 86400000 AS d FROM rollups
      WHERE period = 1 AND series_id BETWEEN (SELECT min(id) FROM temp.ps) AND (SELECT max(id) FROM temp.ps))
GROUP BY series_id, d ORDER BY series_id, d;

-- CEMS hours of the pollutants and the flow: one hour in 97 invalid; concentrations 40..109 % of the limit
INSERT INTO cems_hours(series_id, hour_ms, day_ms, kind, valid_minutes, mean, valid, limit_value)
SELECT sid, t, d, 2, CASE WHEN bad THEN 30 ELSE 60 END, CASE WHEN bad THEN NULL ELSE v END, NOT bad, lim
FROM (SELECT s.id AS sid, h.t AS t, h.d AS d, (h.k + s.id) % 97 = 0 AS bad, m.lim AS lim,
        CASE WHEN m.lim IS NULL THEN 40000.0 + ((h.k * 13 + s.id) % 20000)
             ELSE m.lim * (0.4 + ((h.k * 37 + s.id * 11) % 70) / 100.0) END AS v
      FROM temp.ps x CROSS JOIN series s ON s.id = x.id CROSS JOIN metrics mt CROSS JOIN temp.m m CROSS JOIN temp.h h
      WHERE mt.id = s.metric_id AND m.code = mt.code AND m.pollutant ORDER BY s.id, h.k);
INSERT INTO cems_days(series_id, day_ms, valid_hours, mean, valid, ratio, converted, limit_value)
SELECT series_id, day_ms, sum(valid), avg(mean), sum(valid) >= 20, NULL, avg(mean), max(limit_value)
FROM cems_hours WHERE series_id BETWEEN (SELECT min(id) FROM temp.ps) AND (SELECT max(id) FROM temp.ps)
GROUP BY series_id, day_ms;
INSERT OR IGNORE INTO cems_state(id, run_ms, closed_ms) VALUES(1, 1767196800000, 1767196800000);

-- ledger: scrap in at 08:00, cathode out at 16:00, every day
INSERT INTO materials(point_id, ts_ms, material, dir, qty_t, agent_id, epoch, seq)
SELECT p.id, h.t + 8 * 3600000, 'scrap_cu_1', 'in', 50 + (h.k / 24) % 10, 1, 1, h.k FROM points p CROSS JOIN temp.h h
  WHERE p.park = '@PARK@' AND p.point = 'scale' AND h.k % 24 = 0
UNION ALL
SELECT p.id, h.t + 16 * 3600000, 'cathode_cu', 'out', 20 + (h.k / 24) % 5, 1, 1, h.k + 1 FROM points p
  CROSS JOIN temp.h h WHERE p.park = '@PARK@' AND p.point = 'scale' AND h.k % 24 = 0;

INSERT INTO agents(park, ent, agent) SELECT '@PARK@', ent, 'gw' FROM temp.e;
INSERT INTO agent_status(agent_id, state, ts_ms, outbox_depth, payload)
SELECT id, CASE WHEN id % 10 = 0 THEN 'offline' ELSE 'online' END, 1767196800000, id % 7, '{}' FROM agents
WHERE park = '@PARK@';

-- alarms (the table of hub/alarms/alarms_sql.h)
CREATE TABLE IF NOT EXISTS alarms(id INTEGER PRIMARY KEY, alarm_id TEXT NOT NULL UNIQUE, park TEXT NOT NULL,
  rule TEXT NOT NULL, ent TEXT NOT NULL, point TEXT NOT NULL DEFAULT '', metric TEXT NOT NULL DEFAULT '',
  severity TEXT NOT NULL, state TEXT NOT NULL, message TEXT NOT NULL, first_ms INTEGER NOT NULL,
  last_ms INTEGER NOT NULL, count INTEGER NOT NULL, value REAL, peak REAL, acked_by TEXT, acked_ms INTEGER,
  note TEXT, raised_ms INTEGER NOT NULL, cleared_ms INTEGER, closed_ms INTEGER);
CREATE INDEX IF NOT EXISTS alarms_first ON alarms(park, first_ms);
WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM r WHERE i < 1999)
INSERT INTO alarms(alarm_id, park, rule, ent, point, metric, severity, state, message, first_ms, last_ms, count,
  value, peak, raised_ms)
SELECT printf('al@PARK@-%d', i), '@PARK@', 'so2-hour', printf('e%03d', i % 100), 'stack-1', 'so2',
  CASE i % 4 WHEN 0 THEN 'critical' WHEN 1 THEN 'major' WHEN 2 THEN 'minor' ELSE 'warning' END,
  CASE WHEN i > 1990 THEN 'active_unacked' ELSE 'closed' END, 'SO2 hourly mean over the limit',
  1735660800000 + i * 4 * 3600000, 1735660800000 + i * 4 * 3600000 + 3600000, 1, 160, 170,
  1735660800000 + i * 4 * 3600000 FROM r;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
