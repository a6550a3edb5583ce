#!/usr/bin/env bash
# bench/cluster/run.sh [BUILD_DIR] — the clustered broker beside a single
# Mosquitto, in the same run (issue #21).
#
#   throughput  mosquitto_pub -l -q 1 publishes N messages (200 bytes) to a
#               mosquitto_sub -q 1 -C N with a persistent session: messages/s
#               end to end (topic parkhub/v1/bench/x: the hub user may use
#               it), on a private Mosquitto, then on the 3-node
#               RabbitMQ cluster of deploy/cluster (publisher on node 1,
#               subscriber on node 2: every message crosses nodes)
#   failover    parkhub and a simulated parkagent (bench's sim, 20 ticks/s)
#               on the cluster; the agent's node is SIGKILLed: ms until the
#               agent logs its failover and until the hub stores new records
#               again; the node is started again; then the hub's node is
#               SIGKILLed: ms until the hub's session logs its failover and
#               until new records are stored again
#   federation  a park hub's upward outbox (material rows of a backfilled
#               simulator, BENCH_FED_TICKS weighings) drained into a
#               regional hub that starts once the outbox is full: rows/s
#               forwarded park hub -> regional hub, counted from the
#               region's start (its start included) to an empty outbox;
#               first with both hubs on the private Mosquitto, then on the
#               cluster (park hub and its uplink on node 1, region on node 3)
#
# Prints one table. Asserts nothing about speed: exit 0 when every phase ran
# and every message arrived; non-zero when something broke. Not part of
# ctest (tests/cluster checks correctness). Takes 4-6 minutes here, most of
# it the cluster starting (about 40 s) and a node rejoining.
#
# Environment (defaults in brackets):
#   BENCH_MESSAGES [5000]   messages in the throughput phase
#   BENCH_TIMEOUT [180]     seconds any one wait may take
#   BENCH_FED_TICKS [3000]  simulator ticks in the federation phase (one weighing each)
#   BENCH_DIR [BUILD_DIR/bench-cluster]  working files
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-${BUILD_DIR:-$repo/build}}
build=$(cd "$build" && pwd)
nmsg=${BENCH_MESSAGES:-5000}
timeout_s=${BENCH_TIMEOUT:-180}
fed_ticks=${BENCH_FED_TICKS:-3000}
dir=${BENCH_DIR:-$build/bench-cluster}
cluster=$repo/deploy/cluster/cluster.sh

die() { echo "bench/cluster: $*" >&2; exit 1; }
hub_bin=$build/hub/parkhub agent_bin=$build/agents/parkagent
for f in /usr/sbin/mosquitto /usr/bin/mosquitto_pub /usr/bin/mosquitto_sub /usr/bin/sqlite3 /usr/bin/curl "$hub_bin" "$agent_bin"; do
  [ -x "$f" ] || die "$f missing (deploy/install-deps.sh; cmake --build $build)"
done
rm -rf "$dir"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd) # the processes below run from inside it

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -f "$dir/rmq/base" ] && "$cluster" stop "$dir/rmq" >/dev/null 2>&1 || true
}
trap cleanup EXIT

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p i
  for ((i = 0; i < 50; i++)); do
    p=$((20000 + RANDOM % 10000))
    port_taken "$p" || { echo "$p"; return 0; }
  done
  return 1
}
now_ms() { date +%s%3N; }
# wait_until SECONDS CMD…: polls CMD every 50 ms; 1 on timeout
wait_until() {
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 20; i++)); do
    "$@" && return 0
    sleep 0.05
  done
  return 1
}
has_line() { grep -q -- "$2" "$1" 2>/dev/null; }
count_lines() { grep -c -- "$2" "$1" 2>/dev/null || true; }
more_lines() { [ "$(count_lines "$1" "$2")" -gt "$3" ]; }
stored() { sqlite3 "file:$dir/hub.db?mode=ro" "SELECT coalesce(sum(nrecords),0) FROM samples" 2>/dev/null || echo 0; }
stored_gt() { [ "$(stored)" -gt "$1" ]; }

# ---- throughput ------------------------------------------------------------
payload=$(head -c 200 /dev/zero | tr '\0' 'x')
for ((i = 0; i < nmsg; i++)); do echo "$i $payload"; done >"$dir/in"

# throughput NAME PUB_PORT SUB_PORT [USER PASS] → messages/s on stdout
throughput() {
  local name=$1 pp=$2 sp=$3 auth=()
  [ $# -ge 5 ] && auth=(-u "$4" -P "$5")
  # the session first (every broker drops QoS 1 nobody subscribed to)
  timeout 20 mosquitto_sub -V mqttv311 -h 127.0.0.1 -p "$sp" "${auth[@]}" -i "bench-sub-$name" -c -q 1 -t parkhub/v1/bench/x -W 1 >/dev/null 2>&1 || true
  timeout "$timeout_s" mosquitto_sub -V mqttv311 -h 127.0.0.1 -p "$sp" "${auth[@]}" -i "bench-sub-$name" -c -q 1 -C "$nmsg" -t parkhub/v1/bench/x >"$dir/sub-$name.out" 2>"$dir/sub-$name.log" &
  local sub=$!
  sleep 1
  local t0; t0=$(now_ms)
  mosquitto_pub -V mqttv311 -h 127.0.0.1 -p "$pp" "${auth[@]}" -i "bench-pub-$name" -q 1 -l -t parkhub/v1/bench/x <"$dir/in" >"$dir/pub-$name.log" 2>&1 || die "$name: mosquitto_pub failed ($dir/pub-$name.log)"
  wait "$sub" || die "$name: the subscriber got $(wc -l <"$dir/sub-$name.out") of $nmsg ($dir/sub-$name.log)"
  local t1; t1=$(now_ms)
  [ "$(wc -l <"$dir/sub-$name.out")" -eq "$nmsg" ] || die "$name: $(wc -l <"$dir/sub-$name.out") of $nmsg arrived"
  echo $((nmsg * 1000 / (t1 - t0 > 0 ? t1 - t0 : 1)))
}

mport=$(free_port) || die "no free port"
mkdir -p "$dir/mosquitto"
cat >"$dir/mosquitto/mosquitto.conf" <<CONF
listener $mport 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
max_queued_bytes 0
max_inflight_messages 1000
$([ "$(id -u)" -eq 0 ] && echo "user root")
CONF
/usr/sbin/mosquitto -c "$dir/mosquitto/mosquitto.conf" >"$dir/mosquitto/log" 2>&1 &
pids+=($!)
wait_until 5 port_taken "$mport" || die "mosquitto did not start"
mosq_rate=$(throughput mosquitto "$mport" "$mport")

base=$(( $(free_port) / 100 * 100 ))
t0=$(now_ms)
"$cluster" start "$dir/rmq" "$base" >"$dir/cluster-start.log" 2>&1 || { cat "$dir/cluster-start.log" >&2; die "the cluster did not start"; }
cluster_start_ms=$(( $(now_ms) - t0 ))
mapfile -t uris < <("$cluster" uris "$dir/rmq")
"$cluster" add-hub "$dir/rmq" hub pw-hub >/dev/null
"$cluster" add-agent "$dir/rmq" demo-park smelter-a gw-a pw-gw-a >/dev/null
rmq_rate=$(throughput rabbitmq $((base + 1)) $((base + 2)) hub pw-hub)

# ---- failover --------------------------------------------------------------
# the hub starts on node 2, the agent on node 1
/usr/bin/python3 - "$repo/deploy/hub.json" "$dir/hub.json" "$dir/hub.db" "${uris[1]}" "${uris[2]}" "${uris[0]}" <<'PY'
import json, sys
src, dst, db, *uris = sys.argv[1:]
c = json.load(open(src))
c["mqtt"] = {"uris": uris, "username": "hub", "password": "pw-hub", "keepalive_s": 5,
             "connect_timeout_ms": 1000, "reconnect_min_ms": 100, "reconnect_max_ms": 1000, "heartbeat_s": 1}
c["db"]["path"] = db
c["db"]["min_free_mb"] = 0
c["parks"][0]["enterprises"][0]["expected_interval_s"] = 0.05
json.dump(c, open(dst, "w"), indent=1)
PY
cat >"$dir/agent.json" <<CONF
{
  "park": "demo-park", "ent": "smelter-a", "agent": "gw-a",
  "mqtt": {"uris": ["${uris[0]}", "${uris[1]}", "${uris[2]}"], "username": "gw-a", "password": "pw-gw-a",
           "keepalive_s": 5, "connect_timeout_ms": 1000, "reconnect_min_ms": 100, "reconnect_max_ms": 1000},
  "batch": {"max_records": 40, "max_delay_ms": 250},
  "outbox": {"path": "$dir/outbox.db", "resend_after_s": 5},
  "status_interval_s": 60,
  "sources": [{"type": "sim", "name": "sim", "seed": 7, "rate_hz": 20}]
}
CONF
(cd "$dir" && exec "$hub_bin" --config "$dir/hub.json" >"$dir/hub.log" 2>&1) &
fo_hub=$!
pids+=($!)
wait_until "$timeout_s" has_line "$dir/hub.log" "hub online" || die "the hub did not say online ($dir/hub.log)"
(cd "$dir" && exec "$agent_bin" --config "$dir/agent.json" >"$dir/agent.log" 2>&1) &
fo_agent=$!
pids+=($!)
wait_until "$timeout_s" stored_gt 0 || die "nothing stored ($dir/hub.log, $dir/agent.log)"
sleep 3

# kill_and_time NODE LOG NEEDLE → "failover_ms stored_again_ms"
kill_and_time() {
  local node=$1 log=$2 needle=$3 before n0 t0 a b
  before=$(count_lines "$log" "$needle")
  n0=$(stored)
  t0=$(now_ms)
  "$cluster" kill "$dir/rmq" "$node" >/dev/null
  wait_until "$timeout_s" more_lines "$log" "$needle" "$before" || die "no failover logged in $log"
  a=$(( $(now_ms) - t0 ))
  # new records stored after the kill (the sim goes on producing)
  n0=$(stored)
  wait_until "$timeout_s" stored_gt "$n0" || die "nothing stored after the failover"
  b=$(( $(now_ms) - t0 ))
  echo "$a $b"
}

read -r agent_fo agent_flow < <(kill_and_time 1 "$dir/agent.log" "failover: connected to")
t0=$(now_ms)
"$cluster" start-node "$dir/rmq" 1 >/dev/null || die "node 1 did not start again"
rejoin_ms=$(( $(now_ms) - t0 ))
hub_node=2
grep -q "sub failover: connected to ${uris[2]}\|sub connected to ${uris[2]}" "$dir/hub.log" && hub_node=3
read -r hub_fo hub_flow < <(kill_and_time "$hub_node" "$dir/hub.log" "sub failover: connected to")

# ---- federation ------------------------------------------------------------
# fed_config OUT ROLE DB NAME MQTT_JSON [UPSTREAM_MQTT_JSON]: deploy/hub.json
# turned into a park hub forwarding upward (with UPSTREAM) or the regional hub
fed_config() {
  /usr/bin/python3 - "$repo/deploy/hub.json" "$@" <<'PY'
import json, sys
src, out, role, db, name, mqtt, *up = sys.argv[1:]
c = json.load(open(src))
c["hub_id"] = name
c["mqtt"] = json.loads(mqtt)
c["db"]["path"] = db
c["db"]["min_free_mb"] = 0
if role == "regional":
    c["role"] = "regional"
else:
    c["upstream"] = {"mqtt": json.loads(up[0]), "forward": ["materials"], "batch_records": 256, "inflight": 8}
json.dump(c, open(out, "w"), indent=1)
PY
}
up_outbox() { sqlite3 "file:$1?mode=ro" "SELECT count(*) FROM up_outbox" 2>/dev/null || echo -1; }
outbox_is() { [ "$(up_outbox "$1")" = "$2" ]; }
agent_done() { [ "$(sqlite3 "file:$1?mode=ro" "SELECT (SELECT a FROM positions WHERE source = 'sim') = $fed_ticks AND (SELECT count(*) FROM batches) = 0" 2>/dev/null)" = 1 ]; }
outbox_stable() { # the outbox holds n > 0 changes and no more come (the agent is done)
  agent_done "$2" && [ "$(up_outbox "$1")" -gt 0 ]
}

# fed_rate NAME PARK_MQTT UP_MQTT REGION_MQTT AGENT_MQTT → "rows rows_per_s"
fed_rate() {
  local name=$1 d="$dir/fed-$1" hub_pid agent_pid reg_pid rows t0 t1
  mkdir -p "$d"
  fed_config "$d/hub.json" park "$d/hub.db" "fed-$name" "$2" "$3"
  fed_config "$d/region.json" regional "$d/region.db" "region-$name" "$4"
  # the region's session first (a broker drops QoS 1 nobody subscribed to), then away
  (cd "$d" && exec "$hub_bin" --config "$d/region.json" >"$d/region.log" 2>&1) &
  reg_pid=$!
  wait_until "$timeout_s" has_line "$d/region.log" "subscribed to 1 park" || die "$name: the region did not subscribe ($d/region.log)"
  kill "$reg_pid"; wait "$reg_pid" || true
  (cd "$d" && exec "$hub_bin" --config "$d/hub.json" >"$d/hub.log" 2>&1) &
  hub_pid=$!
  pids+=("$hub_pid")
  wait_until "$timeout_s" has_line "$d/hub.log" "hub online" || die "$name: the park hub did not say online ($d/hub.log)"
  # every tick a weighing (a material row: forwarded at once), all in the past
  cat >"$d/agent.json" <<CONF
{"park": "demo-park", "ent": "smelter-a", "agent": "gw-a", "mqtt": $5,
 "batch": {"max_records": 500, "max_delay_ms": 100}, "outbox": {"path": "$d/outbox.db"},
 "sources": [{"type": "sim", "name": "sim", "seed": 9, "rate_hz": 1, "weighbridge_every": 1,
              "stack_test_every": 1000000, "duration_ticks": $fed_ticks, "start_ms": $(( $(now_ms) - fed_ticks * 1000 - 60000 ))}]}
CONF
  (cd "$d" && exec "$agent_bin" --config "$d/agent.json" >"$d/agent.log" 2>&1) &
  agent_pid=$!
  pids+=("$agent_pid")
  wait_until "$timeout_s" outbox_stable "$d/hub.db" "$d/outbox.db" || die "$name: the park hub's outbox did not fill ($d/hub.log, $d/agent.log)"
  sleep 1
  rows=$(up_outbox "$d/hub.db")
  t0=$(now_ms)
  (cd "$d" && exec "$hub_bin" --config "$d/region.json" >>"$d/region.log" 2>&1) &
  reg_pid=$!
  pids+=("$reg_pid")
  wait_until "$timeout_s" outbox_is "$d/hub.db" 0 || die "$name: the outbox did not drain ($(up_outbox "$d/hub.db") left; $d/hub.log, $d/region.log)"
  t1=$(now_ms)
  kill "$agent_pid" "$hub_pid" "$reg_pid" 2>/dev/null || true
  wait "$agent_pid" "$hub_pid" "$reg_pid" 2>/dev/null || true
  echo "$rows $(( rows * 1000 / (t1 - t0 > 0 ? t1 - t0 : 1) ))"
}

mq_obj() { # URIS_JSON [USER PASS]
  local auth=""
  [ $# -ge 3 ] && auth=", \"username\": \"$2\", \"password\": \"$3\""
  echo "{\"uris\": $1$auth, \"keepalive_s\": 5, \"connect_timeout_ms\": 1000, \"reconnect_min_ms\": 100, \"reconnect_max_ms\": 1000}"
}
# the failover phase's hub and agent go: the agent's identity is reused here
kill "$fo_agent" "$fo_hub" 2>/dev/null || true
wait "$fo_agent" "$fo_hub" 2>/dev/null || true
m="[\"tcp://127.0.0.1:$mport\"]"
fed_rate mosquitto "$(mq_obj "$m")" "$(mq_obj "$m")" "$(mq_obj "$m")" "$(mq_obj "$m")" >"$dir/fed-mosquitto.out"
read -r fed_rows fed_mosq <"$dir/fed-mosquitto.out"
"$cluster" add-hub "$dir/rmq" region pw-region >/dev/null
"$cluster" add-uplink "$dir/rmq" fed-up pw-fed-up demo-park fed-rabbitmq >/dev/null
n1="[\"${uris[0]}\", \"${uris[1]}\", \"${uris[2]}\"]" n3="[\"${uris[2]}\", \"${uris[0]}\", \"${uris[1]}\"]"
fed_rate rabbitmq "$(mq_obj "$n1" hub pw-hub)" "$(mq_obj "$n1" fed-up pw-fed-up)" \
  "$(mq_obj "$n3" region pw-region)" "$(mq_obj "$n1" gw-a pw-gw-a)" >"$dir/fed-rabbitmq.out"
read -r _ fed_rmq <"$dir/fed-rabbitmq.out"

printf '\n%-52s %12s\n' "figure (same run, 2 shared cores)" "value"
printf '%-52s %12s\n' "throughput, single Mosquitto (msg/s, QoS 1)" "$mosq_rate"
printf '%-52s %12s\n' "throughput, RabbitMQ 3-node cluster (msg/s, QoS 1)" "$rmq_rate"
printf '%-52s %12s\n' "cluster start (ms)" "$cluster_start_ms"
printf '%-52s %12s\n' "agent's node killed: agent failover (ms)" "$agent_fo"
printf '%-52s %12s\n' "agent's node killed: records stored again (ms)" "$agent_flow"
printf '%-52s %12s\n' "killed node rejoins (ms)" "$rejoin_ms"
printf '%-52s %12s\n' "hub's node killed: hub failover (ms)" "$hub_fo"
printf '%-52s %12s\n' "hub's node killed: records stored again (ms)" "$hub_flow"
printf '%-52s %12s\n' "federation: rows forwarded (material rows)" "$fed_rows"
printf '%-52s %12s\n' "federation, single Mosquitto (rows/s up)" "$fed_mosq"
printf '%-52s %12s\n' "federation, RabbitMQ 3-node cluster (rows/s up)" "$fed_rmq"
echo "logs and configs: $dir"
