#!/usr/bin/env bash
# bench/alert-latency/run.sh [BUILD_DIR] — the alert-latency benchmark (README.md here).
#
# Builds parkhub and ph_bench_alert, starts a private Mosquitto on a free
# loopback port and a fresh parkhub with one rule (so2 > 500 on any point),
# then runs ph_bench_alert: a steady background load of emission batches
# (BENCH_RATE records/s) and BENCH_TRIALS trials, each timing the bare broker
# round trip (the baseline, in the same run and under the same load), a
# record that breaks the threshold until its "raised" alert arrives at a
# subscriber, and one that clears it until the "cleared" alert. Prints
# p50/p99/max/mean of each next to the target (raise p99 <= 50 ms).
#
# It asserts nothing about time: exit 0 when every trial got its messages;
# non-zero when something broke (a process failed, a message never came).
#
# Environment (defaults in brackets):
#   BENCH_TRIALS [1000]  BENCH_RATE [10000] background records/s  BENCH_BATCH [20] records per load batch
#   BENCH_JITTER [5] ms of pseudo-random pause between trials  BENCH_WARMUP [20] trials not counted
#   BENCH_DIR [BUILD_DIR/bench-alert-latency]  BENCH_JOBS [nproc]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-${BUILD_DIR:-$repo/build}}
trials=${BENCH_TRIALS:-1000}
rate=${BENCH_RATE:-10000}
batch=${BENCH_BATCH:-20}
jitter=${BENCH_JITTER:-5}
warmup=${BENCH_WARMUP:-20}
jobs=${BENCH_JOBS:-$(nproc)}

say() { printf '%s\n' "$*" >&2; }
die() { say "run.sh: $*"; exit 1; }

"$repo/deploy/install-deps.sh"
mkdir -p "$build"
build=$(cd "$build" && pwd)
if [ ! -e "$build/CMakeCache.txt" ]; then
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
fi
say "building parkhub, ph_bench_alert in $build …"
cmake --build "$build" -j"$jobs" --target parkhub ph_bench_alert >"$build/bench-alert-build.log" 2>&1 ||
  { tail -30 "$build/bench-alert-build.log" >&2; die "build failed (log: $build/bench-alert-build.log)"; }
hub_bin=$build/hub/parkhub
drv_bin=$build/bench/alert-latency/ph_bench_alert
work=${BENCH_DIR:-$build/bench-alert-latency}
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)

started=()
cleanup() { for p in "${started[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
trap 'say "run.sh: interrupted"; exit 130' INT TERM

stop_pid() { # stop_pid PID SECONDS: SIGTERM, wait, then SIGKILL
  local pid=$1 secs=$2 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < secs * 20; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  return 1
}
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p i
  for ((i = 0; i < 50; i++)); do
    p=$((20000 + RANDOM % 30000))
    port_taken "$p" || { echo "$p"; return 0; }
  done
  return 1
}
kv() { sed -n "s/^$2=//p" "$1" | head -1; }

port=$(free_port) || die "no free port"
user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user root"
cat >"$work/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
max_queued_bytes 0
max_inflight_messages 1000
set_tcp_nodelay true
$user_line
CONF
/usr/sbin/mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
broker_pid=$!
started+=("$broker_pid")
for ((i = 0; i < 100; i++)); do port_taken "$port" && break; sleep 0.05; done
port_taken "$port" || { cat "$work/mosquitto.log" >&2; die "mosquitto did not start on port $port"; }

cat >"$work/rules.json" <<'RULES'
{"v": 1, "rules": [
  {"id": "so2_high", "severity": "major", "scope": {"metric": "so2"},
   "threshold": {"op": ">", "limit": 500, "hysteresis": 100}}
]}
RULES
cat >"$work/hub.json" <<CONF
{
  "hub_id": "bench-hub",
  "mqtt": {"uris": ["tcp://127.0.0.1:$port"]},
  "db": {"path": "$work/parkhub.db", "min_free_mb": 0},
  "log_level": "info",
  "parks": [{
    "id": "bench-park", "name": "Alert latency benchmark park", "tz": "Asia/Shanghai",
    "rules_file": "$work/rules.json",
    "enterprises": [
      {"id": "ent-load", "sector": "cu", "class": "existing", "agents": ["gw-load"], "expected_interval_s": 1},
      {"id": "ent-probe", "sector": "cu", "class": "existing", "agents": ["gw-probe"], "expected_interval_s": 1}
    ]}]
}
CONF
"$hub_bin" --config "$work/hub.json" --check-config >"$work/hub.log" 2>&1 || { cat "$work/hub.log" >&2; die "the hub refuses its config"; }
"$hub_bin" --config "$work/hub.json" >>"$work/hub.log" 2>&1 &
hub_pid=$!
started+=("$hub_pid")
for ((i = 0; i < 200; i++)); do grep -q "connected to the broker" "$work/hub.log" && break; sleep 0.05; done
grep -q "connected to the broker" "$work/hub.log" || { cat "$work/hub.log" >&2; die "the hub did not connect"; }

say "broker on port $port, hub PID $hub_pid; $trials trials under $rate records/s …"
drc=0
timeout --kill-after=10 $((trials / 5 + 300)) "$drv_bin" --uri "tcp://127.0.0.1:$port" --out "$work/latency.kv" \
  --trials "$trials" --rate "$rate" --batch "$batch" --jitter "$jitter" --warmup "$warmup" >"$work/driver.log" 2>&1 || drc=$?
hub_cpu=$(awk '{print ($14 + $15)}' "/proc/$hub_pid/stat" 2>/dev/null || echo 0)
stop_pid "$hub_pid" 20 || say "run.sh: the hub did not stop on SIGTERM within 20 s"
stop_pid "$broker_pid" 5 || true
[ -e "$work/latency.kv" ] || { cat "$work/driver.log" >&2; die "the driver wrote no figures"; }
f="$work/latency.kv"

cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
echo
echo "parkhub alert-latency benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(nproc) CPUs, ${cpu_model:-unknown CPU}, kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "background: $(kv "$f" load_records_per_s) records/s offered, $(kv "$f" load_acked_records_per_s) records/s acked by the hub (target $rate),"
echo "  batches of $batch records from one agent over 50 points; $(kv "$f" seconds) s of trials; hub CPU $(awk -v t="$hub_cpu" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz }') s"
echo "trials: $(kv "$f" raise_n) counted (+$warmup warm-up), QoS 1 everywhere, one at a time, 0..$jitter ms apart"
echo
printf '%-44s %9s %9s %9s %9s %9s\n' "round trip" "p50 ms" "p99 ms" "max ms" "mean ms" timeouts
for k in echo raise ack clear; do
  case $k in
  echo) label="(a) bare broker: publish → subscriber" ;;
  ack) label="    the same record → its batch's ack" ;;
  raise) label="(b) record over the limit → raised alert" ;;
  clear) label="(c) record below it → cleared alert" ;;
  esac
  printf '%-44s %9s %9s %9s %9s %9s\n' "$label" "$(kv "$f" ${k}_p50_ms)" "$(kv "$f" ${k}_p99_ms)" \
    "$(kv "$f" ${k}_max_ms)" "$(kv "$f" ${k}_mean_ms)" "$(kv "$f" ${k}_timeouts)"
done
echo
p99=$(kv "$f" raise_p99_ms)
echo "raised alert p99: $p99 ms   target ≤ 50 ms: $(awk -v p="$p99" 'BEGIN { print (p + 0 <= 50 ? "met" : "NOT met") }')"
echo "files: $work"
if [ "$drc" -ne 0 ] || [ "$(kv "$f" ok)" != 1 ]; then
  echo "!!! BROKEN: the driver failed or messages never arrived (see $work/driver.log, $work/hub.log)"
  exit 1
fi
exit 0
