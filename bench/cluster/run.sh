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
#
# Prints one table. Asserts nothing about speed: exit 0 when every phase ran
# and every message arrived; non-zero when something broke. Not part of
# ctest (tests/cluster checks correctness). Takes 3-5 minutes here, most of
# it the cluster starting (about 40 s) and a node rejoining.
#
# Environment (defaults in brackets):
#   BENCH_MESSAGES [5000]   messages in the throughput phase
#   BENCH_TIMEOUT [180]     seconds any one wait may take
#   BENCH_DIR [BUILD_DIR/bench-cluster]  working files
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-${BUILD_DIR:-$repo/build}}
build=$(cd "$build" && pwd)
nmsg=${BENCH_MESSAGES:-5000}
timeout_s=${BENCH_TIMEOUT:-180}
dir=${BENCH_DIR:-$build/bench-cluster}
cluster=$repo/deploy/cluster/cluster.sh

die() { echo "bench/cluster: $*" >&2; exit 1; }
hub_bin=$build/hub/parkhub agent_bin=$build/agents/parkagent
for f in /usr/sbin/mosquitto /usr/bin/mosquitto_pub /usr/bin/mosquitto_sub /usr/bin/sqlite3 "$hub_bin" "$agent_bin"; do
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
pids+=($!)
wait_until "$timeout_s" has_line "$dir/hub.log" "hub online" || die "the hub did not say online ($dir/hub.log)"
(cd "$dir" && exec "$agent_bin" --config "$dir/agent.json" >"$dir/agent.log" 2>&1) &
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

printf '\n%-52s %12s\n' "figure (same run, 2 shared cores)" "value"
printf '%-52s %12s\n' "throughput, single Mosquitto (msg/s, QoS 1)" "$mosq_rate"
printf '%-52s %12s\n' "throughput, RabbitMQ 3-node cluster (msg/s, QoS 1)" "$rmq_rate"
printf '%-52s %12s\n' "cluster start (ms)" "$cluster_start_ms"
printf '%-52s %12s\n' "agent's node killed: agent failover (ms)" "$agent_fo"
printf '%-52s %12s\n' "agent's node killed: records stored again (ms)" "$agent_flow"
printf '%-52s %12s\n' "killed node rejoins (ms)" "$rejoin_ms"
printf '%-52s %12s\n' "hub's node killed: hub failover (ms)" "$hub_fo"
printf '%-52s %12s\n' "hub's node killed: records stored again (ms)" "$hub_flow"
echo "logs and configs: $dir"
