#!/usr/bin/env bash
# The parkhub demo: a private Mosquitto on loopback, parkhub, and three
# simulated secondary-copper smelters (parkagent's simulator) in one park,
# each with a flue-gas stack and a treated-wastewater outlet.
#
#   deploy/demo.sh            set up what is missing, build, run until Ctrl-C
#
# Environment:
#   PARKHUB_MQTT_PORT   broker port on 127.0.0.1   (default 18830)
#   PARKHUB_HTTP_PORT   hub's HTTP API and dashboard on 127.0.0.1 (default 18080)
#   PARKHUB_DEMO_DIR    working files               (default ./demo)
#   PARKHUB_DEMO_SECONDS  stop by itself after this many seconds (default: run until stopped)
#   PARKHUB_DEMO_PARKS  2: also a second park (demo-park-2, one enterprise, no gateway), so the
#                       regulator's dashboard shows "all parks" (tests/browser/run.sh); default 1
# Ctrl-C or SIGTERM stops everything the demo started.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
port=${PARKHUB_MQTT_PORT:-18830}
http_port=${PARKHUB_HTTP_PORT:-18080}
dir=${PARKHUB_DEMO_DIR:-$here/demo}
build=${BUILD_DIR:-$here/build}

"$here/deploy/install-deps.sh"
if [ ! -x "$build/hub/parkhub" ] || [ ! -x "$build/agents/parkagent" ] || [ -n "$(find "$here/common" "$here/hub" "$here/agents" "$here/include" -newer "$build/hub/parkhub" -name '*.[ch]' -print -quit 2>/dev/null)" ]; then
  echo "building in $build …"
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j"$(nproc)" --target parkhub parkagent >/dev/null
fi

if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "demo: port $port on 127.0.0.1 is taken; set PARKHUB_MQTT_PORT to a free one" >&2
  exit 1
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$http_port") 2>/dev/null; then
  echo "demo: port $http_port on 127.0.0.1 is taken; set PARKHUB_HTTP_PORT to a free one" >&2
  exit 1
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "demo: stopping …"
  # Agents first (they flush their outboxes), then the hub (it drains and commits), then the broker.
  for p in "${pids[@]:1}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 1
  [ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[0]}" 2>/dev/null || true
  [ -n "${sleeper:-}" ] && kill -TERM "$sleeper" 2>/dev/null || true
  wait 2>/dev/null || true
  echo "demo: stopped; files are in $dir"
}
trap stop INT TERM EXIT

user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user root"   # mosquitto drops to 'mosquitto', which cannot write $dir
cat >"$dir/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
# as deploy/production/make-park.sh: no packet larger than the hub accepts
max_packet_size 263168
set_tcp_nodelay true
$user_line
CONF

# API tokens: made once per demo folder and kept (tokens.txt, readable by
# you only), so a bookmarked dashboard URL keeps working; the hub config
# holds only their SHA-256.
umask 077
for role in admin regulator manager; do
  if ! grep -q "^$role " "$dir/tokens.txt" 2>/dev/null; then
    tok=$("$build/hub/parkhub" hash-token --new | awk '/^token/ {print $2}')
    echo "$role $tok" >>"$dir/tokens.txt"
  fi
done
umask 022
token_of() { awk -v r="$1" '$1 == r {print $2}' "$dir/tokens.txt"; }
hash_of() { token_of "$1" | "$build/hub/parkhub" hash-token; }
admin_token=$(token_of admin)
regulator_token=$(token_of regulator)
manager_token=$(token_of manager)

second_park=""
if [ "${PARKHUB_DEMO_PARKS:-1}" = 2 ]; then
  second_park=',{"id": "demo-park-2", "name": "Demo second park", "tz": "Asia/Shanghai", "enterprises": [
      {"id": "smelter-d", "name": "Smelter D", "sector": "cu", "class": "existing", "agents": ["gw-d"]}]}'
fi
cat >"$dir/hub.json" <<CONF
{
  "hub_id": "demo-hub",
  "mqtt": {"uris": ["tcp://127.0.0.1:$port"]},
  "db": {"path": "$dir/parkhub.db", "retention_days": 90},
  "http": {"listen": "127.0.0.1", "port": $http_port, "tokens": [
    {"name": "demo-admin", "sha256": "$(hash_of admin)", "role": "admin"},
    {"name": "demo-regulator", "sha256": "$(hash_of regulator)", "role": "regulator"},
    {"name": "demo-manager", "sha256": "$(hash_of manager)", "role": "manager", "parks": ["demo-park"]}]},
  "parks": [{
    "id": "demo-park", "name": "Demo secondary-copper park", "tz": "Asia/Shanghai",
    "rules_file": "$here/deploy/rules-demo.json",
    "enterprises": [
      {"id": "smelter-a", "name": "Smelter A", "sector": "cu", "class": "existing", "agents": ["gw-a"], "expected_interval_s": 1,
       "point_intervals": {"outfall-1": 10},
       "point_media": {"stack-1": {"medium": "air"}, "outfall-1": {"medium": "water", "discharge": "direct"}}},
      {"id": "smelter-b", "name": "Smelter B", "sector": "cu", "class": "new", "agents": ["gw-b"], "expected_interval_s": 1,
       "point_intervals": {"outfall-1": 10},
       "point_media": {"stack-1": {"medium": "air"}, "outfall-1": {"medium": "water", "discharge": "indirect"}}},
      {"id": "smelter-c", "name": "Smelter C", "sector": "cu", "class": "existing", "agents": ["gw-c"], "expected_interval_s": 1,
       "point_intervals": {"outfall-1": 10},
       "point_media": {"stack-1": {"medium": "air"}, "outfall-1": {"medium": "water", "discharge": "indirect"}}}
    ]}$second_park]
}
CONF

# Every smelter has a wastewater outlet (outfall-1, a record every 10 s,
# hence its point_intervals in the hub config: its minutes are valid with 6 values);
# smelter-c's plant now and then reports "stopped" while water still flows,
# for the demo rule outfall_flow_while_stopped.
for e in a b c; do
  seed=$(( $(printf '%d' "'$e") ))
  stopped=0
  [ "$e" = c ] && stopped=60
  cat >"$dir/agent-$e.json" <<CONF
{
  "park": "demo-park", "ent": "smelter-$e", "agent": "gw-$e",
  "mqtt": {"uris": ["tcp://127.0.0.1:$port"]},
  "batch": {"max_records": 100, "max_delay_ms": 1000},
  "outbox": {"path": "$dir/outbox-$e.db", "max_batches": 100000},
  "status_interval_s": 30,
  "sources": [{"type": "sim", "name": "smelter", "seed": $seed, "rate_hz": 1,
               "stack_test_every": 120, "weighbridge_every": 120,
               "outfall_every": 10, "outfall_stopped_every": $stopped}]
}
CONF
done

/usr/sbin/mosquitto -c "$dir/mosquitto.conf" >"$dir/mosquitto.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
"$build/hub/parkhub" --config "$dir/hub.json" >"$dir/parkhub.log" 2>&1 &
pids+=($!)
for e in a b c; do
  "$build/agents/parkagent" --config "$dir/agent-$e.json" >"$dir/agent-$e.log" 2>&1 &
  pids+=($!)
done

cat <<MSG

parkhub demo running: park demo-park, enterprises smelter-a, smelter-b, smelter-c
  broker        127.0.0.1:$port           (log $dir/mosquitto.log)
  hub           $dir/parkhub.log
  database      $dir/parkhub.db
  agents        $dir/agent-{a,b,c}.log   outboxes $dir/outbox-{a,b,c}.db

Dashboard (open in a browser; the token after # stays in the browser):
  http://127.0.0.1:$http_port/#token=$manager_token
API tokens (also in $dir/tokens.txt):
  manager    $manager_token   (reads demo-park, acknowledges its alarms)
  regulator  $regulator_token   (reads every park)
  admin      $admin_token   (everything, and /metrics)

Look at it:
  mosquitto_sub -p $port -v -t 'parkhub/v1/demo-park/+/+/status'     # agents online, outbox depth
  mosquitto_sub -p $port -v -t 'parkhub/v1/demo-park/+/+/ev/#'        # the event batches
  mosquitto_sub -p $port -v -t 'parkhub/v1/demo-park/+/+/ack'         # the hub's acks
  mosquitto_sub -p $port -v -t 'parkhub/v1/+/alerts/#' -t 'parkhub/v1/+/alarms/#'   # alarms (deploy/rules-demo.json)
  $build/hub/parkhub report --config $dir/hub.json --park demo-park --year \$(date +%Y) --format html --out $dir/report.html
                                                                    # the annual report (also --format json|csv)
  curl -s -H "Authorization: Bearer $regulator_token" http://127.0.0.1:$http_port/api/v1/parks/demo-park/enterprises
  curl -s -H "Authorization: Bearer $admin_token" http://127.0.0.1:$http_port/metrics
  sqlite3 $dir/parkhub.db "SELECT p.ent, p.point, m.code, datetime(r.bucket_ms/1000,'unixepoch') AS minute, r.n, round(r.sum/r.n,2) AS mean FROM rollups r JOIN series s ON s.id=r.series_id JOIN points p ON p.id=s.point_id JOIN metrics m ON m.id=s.metric_id WHERE r.period=0 ORDER BY r.bucket_ms DESC LIMIT 12"

Ctrl-C stops everything.
MSG

if [ -n "${PARKHUB_DEMO_SECONDS:-}" ]; then
  sleep "$PARKHUB_DEMO_SECONDS" &
  sleeper=$!
  wait "$sleeper" # not a foreground sleep: SIGTERM must not wait for it to end
else
  wait "${pids[1]}"
fi
