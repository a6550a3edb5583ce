#!/usr/bin/env bash
# bench/ingest/run.sh [BUILD_DIR] — the ingest benchmark (README.md here).
#
# Builds what it needs, then runs three contenders one after the other on
# the same pre-generated load, each against a fresh private Mosquitto and a
# fresh database: (a) a bare Paho subscriber that only counts, (b) parkhub,
# (c) a short Python ingester. Prints records/s to committed-and-acked, CPU
# per value, peak RSS, lost and duplicated records, and the two ratios
# hub/bare (records/s) and python/hub (CPU per value) next to their targets.
#
# It asserts nothing about speed: exit 0 when every contender ran and got
# every record exactly once; non-zero when something broke (a contender or
# the broker failed, a wait timed out, records were lost or duplicated).
#
# Environment (defaults in brackets):
#   BENCH_AGENTS [4]  BENCH_BATCHES [12500] per agent  BENCH_RECORDS [20] per batch
#   BENCH_WINDOW [256] generator's QoS 1 window per agent
#   BENCH_BROKER_INFLIGHT [1000] Mosquitto max_inflight_messages
#   BENCH_ONLY ["bare hub python"] contenders to run, in this order
#   BENCH_ROUNDS [3] rounds of all contenders, interleaved; the table shows each contender's
#     median, the ratios are the medians of the ratios within a round (a shared machine drifts
#     by 10 % or more within minutes, and a round's contenders run close together)
#   BENCH_TIMEOUT [600] seconds any one contender may take
#   BENCH_STALL [60] seconds without a PUBACK or an ack advance after which a run is given up
#   BENCH_HUB_QUEUE, BENCH_HUB_GROUP [hub defaults] the hub's ingest.queue_batches and ingest.group_max
#   BENCH_PYTHON_NOACK [unset] "1": the Python script publishes no acks (then its time ends at its last commit)
#   BENCH_DIR [BUILD_DIR/bench-ingest] working files (configs, logs, databases)
#   BENCH_JOBS [nproc] parallel build jobs
#   BENCH_PERF [unset] "1": run the hub under perf record (BENCH_DIR/hub/perf.data)
#   BENCH_PERF_ARGS ["-g"] perf record's options, e.g. "--call-graph dwarf -F 2000"
#   BENCH_HUB_WRAP [unset] a command the hub runs under instead, e.g. "valgrind --tool=callgrind
#     --callgrind-out-file=/tmp/cg.out": its instruction count tells two builds apart where CPU time
#     on a shared machine varies by 10 % from one run to the next
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-${BUILD_DIR:-$repo/build}}
agents=${BENCH_AGENTS:-4}
batches=${BENCH_BATCHES:-12500}
records=${BENCH_RECORDS:-20}
window=${BENCH_WINDOW:-256}
broker_inflight=${BENCH_BROKER_INFLIGHT:-1000}
only=${BENCH_ONLY:-bare hub python}
rounds=${BENCH_ROUNDS:-3}
[[ "$rounds" =~ ^[1-9][0-9]?$ ]] || { echo "run.sh: BENCH_ROUNDS must be 1..99" >&2; exit 2; }
timeout_s=${BENCH_TIMEOUT:-600}
stall_s=${BENCH_STALL:-60}
jobs=${BENCH_JOBS:-$(nproc)}
nvalues=6 # so2 nox pm flow o2 temp

say() { printf '%s\n' "$*" >&2; }
die() { say "run.sh: $*"; exit 1; }

# ---- dependencies and build --------------------------------------------
"$repo/deploy/install-deps.sh"
if [ ! -e /usr/lib/python3/dist-packages/paho/mqtt/client.py ]; then
  say "installing python3-paho-mqtt (contender c)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-paho-mqtt >/dev/null
fi
mkdir -p "$build"
build=$(cd "$build" && pwd)
if [ ! -e "$build/CMakeCache.txt" ]; then
  # only the hub and the benchmark are needed: no tests (nor Criterion)
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
fi
say "building parkhub, ph_bench_gen, ph_bench_bare in $build …"
cmake --build "$build" -j"$jobs" --target parkhub ph_bench_gen ph_bench_bare >"$build/bench-ingest-build.log" 2>&1 ||
  { tail -30 "$build/bench-ingest-build.log" >&2; die "build failed (log: $build/bench-ingest-build.log)"; }
hub_bin=$build/hub/parkhub
gen_bin=$build/bench/ingest/ph_bench_gen
bare_bin=$build/bench/ingest/ph_bench_bare
work=${BENCH_DIR:-$build/bench-ingest}
mkdir -p "$work"
work=$(cd "$work" && pwd)

# ---- process helpers (everything by PID, every wait bounded) -------------
started=()
cleanup() {
  for p in "${started[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'say "run.sh: interrupted"; exit 130' INT TERM

# stop PID SECONDS: SIGTERM, wait, then SIGKILL. Returns 0 if it ended on SIGTERM.
stop_pid() {
  local pid=$1 secs=$2 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < secs * 20; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.05
  done
  say "run.sh: PID $pid did not stop within ${secs}s: SIGKILL"
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

clk_tck=$(getconf CLK_TCK)
# proc_sample PID → "cpu_seconds vmhwm_kB" (utime+stime from /proc/PID/stat)
proc_sample() {
  local pid=$1 stat rest
  stat=$(cat "/proc/$pid/stat") || return 1
  rest=${stat##*) }
  # shellcheck disable=SC2086
  set -- $rest # $1 = state (field 3), so utime (14) is $12 and stime (15) $13
  local ticks=$((${12} + ${13}))
  local hwm
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
  awk -v t="$ticks" -v hz="$clk_tck" -v h="$hwm" 'BEGIN { printf "%.2f %d\n", t / hz, h }'
}

kv() { sed -n "s/^$2=//p" "$1" | head -1; }

wait_file() { # wait_file FILE SECONDS PID: 0 when FILE exists; 1 on timeout or when PID died
  local f=$1 secs=$2 pid=$3 i
  for ((i = 0; i < secs * 20; i++)); do
    [ -e "$f" ] && return 0
    kill -0 "$pid" 2>/dev/null || { [ -e "$f" ] && return 0; return 1; }
    sleep 0.05
  done
  return 1
}

start_broker() { # start_broker DIR PORT → sets broker_pid
  local d=$1 port=$2 i user_line=""
  [ "$(id -u)" -eq 0 ] && user_line="user root"
  cat >"$d/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
# never drop QoS 1 messages to a slow subscriber (DESIGN.md: the default 1000 lost 0.5-4.6 % of a burst)
max_queued_messages 0
max_queued_bytes 0
max_inflight_messages $broker_inflight
set_tcp_nodelay true
$user_line
CONF
  /usr/sbin/mosquitto -c "$d/mosquitto.conf" >"$d/mosquitto.log" 2>&1 &
  broker_pid=$!
  started+=("$broker_pid")
  for ((i = 0; i < 100; i++)); do
    port_taken "$port" && return 0
    kill -0 "$broker_pid" 2>/dev/null || break
    sleep 0.05
  done
  cat "$d/mosquitto.log" >&2
  die "mosquitto did not start on port $port"
}

write_hub_config() { # write_hub_config DIR PORT
  local d=$1 port=$2 k ents="" ingest=""
  if [ -n "${BENCH_HUB_QUEUE:-}" ]; then ingest+="\"queue_batches\": $BENCH_HUB_QUEUE"; fi
  if [ -n "${BENCH_HUB_GROUP:-}" ]; then ingest+="${ingest:+, }\"group_max\": $BENCH_HUB_GROUP"; fi
  if [ -n "$ingest" ]; then ingest="
  \"ingest\": {$ingest},"; fi
  for ((k = 1; k <= agents; k++)); do
    [ -n "$ents" ] && ents+=","
    ents+="
      {\"id\": \"ent-$k\", \"name\": \"Bench smelter $k\", \"sector\": \"cu\", \"class\": \"existing\","
    ents+=" \"agents\": [\"gw-$k\"], \"expected_interval_s\": 1}"
  done
  cat >"$d/hub.json" <<CONF
{
  "hub_id": "bench-hub",
  "mqtt": {"uris": ["tcp://127.0.0.1:$port"]},
  "db": {"path": "$d/parkhub.db", "min_free_mb": 0},
  "log_level": "info",$ingest
  "parks": [{
    "id": "bench-park", "name": "Ingest benchmark park", "tz": "Asia/Shanghai",
    "enterprises": [$ents
    ]}]
}
CONF
}

# ---- the load, the same for every contender ------------------------------
sent_msgs=$((agents * batches))
sent_records=$((sent_msgs * records))
sent_values=$((sent_records * nvalues))
base_ms=$((($(date +%s) - batches * records - 3600) * 1000))
epoch=1763892000

declare -A R # R[name.key]
broken=()

run_one() {
  local name=$1 d=$work/$1 port pid gen_args=() t_end first cpu hwm
  rm -rf "$d"
  mkdir -p "$d"
  port=$(free_port) || die "no free port"
  start_broker "$d" "$port"
  local uri="tcp://127.0.0.1:$port"
  case $name in
  bare)
    "$bare_bin" --uri "$uri" --out "$d/contender.kv" --agents "$agents" --batches "$batches" \
      --timeout "$timeout_s" --linger 120 >"$d/contender.log" 2>&1 &
    pid=$!
    ;;
  hub)
    write_hub_config "$d" "$port"
    "$hub_bin" --config "$d/hub.json" --check-config >"$d/contender.log" 2>&1 ||
      { cat "$d/contender.log" >&2; die "the hub refuses its benchmark config"; }
    local wrap=()
    [ "${BENCH_PERF:-}" = 1 ] && read -r -a wrap <<<"perf record ${BENCH_PERF_ARGS:--g} -o $d/perf.data --"
    [ -n "${BENCH_HUB_WRAP:-}" ] && read -r -a wrap <<<"$BENCH_HUB_WRAP"
    "${wrap[@]}" "$hub_bin" --config "$d/hub.json" >>"$d/contender.log" 2>&1 &
    pid=$!
    gen_args=(--wait-acks)
    ;;
  python)
    local noack=()
    if [ "${BENCH_PYTHON_NOACK:-}" = 1 ]; then noack=(--no-ack); else gen_args=(--wait-acks); fi
    /usr/bin/python3 "$here/ingest.py" --port "$port" --db "$d/python.db" --agents "$agents" --batches "$batches" \
      --out "$d/contender.kv" --timeout "$timeout_s" --linger 120 "${noack[@]}" >"$d/contender.log" 2>&1 &
    pid=$!
    ;;
  esac
  started+=("$pid")
  local ipid=$pid i # the ingesting process (under perf: its child)
  if [ "$name" = hub ] && [ -n "${BENCH_PERF:-}${BENCH_HUB_WRAP:-}" ]; then
    for ((i = 0; i < 20; i++)); do
      ipid=$(pgrep -P "$pid" -x parkhub || true)
      [ -n "$ipid" ] && break
      sleep 0.05
    done
    [ -n "$ipid" ] || ipid=$pid # a wrapper that runs the hub in its own process (valgrind)
    started+=("$ipid") # so that an interrupted run does not leave the wrapper's child behind
  fi
  say "[$name] broker on port $port, contender PID $ipid; publishing $sent_msgs batches …"
  timeout --kill-after=10 $((timeout_s + 60)) "$gen_bin" --uri "$uri" --out "$d/gen.kv" --agents "$agents" \
    --batches "$batches" --records "$records" --base-ms "$base_ms" --epoch "$epoch" --window "$window" \
    --ready --timeout "$timeout_s" --stall "$stall_s" "${gen_args[@]}" >"$d/gen.log" 2>&1 &
  local gpid=$! grc=0
  started+=("$gpid")
  wait "$gpid" || grc=$?
  if [ "$grc" -ne 0 ]; then
    cat "$d/gen.log" >&2
    R[$name.incomplete]=1
    broken+=("$name: the generator failed, stalled or timed out (see $d/gen.log, $d/contender.log)")
    if [ "$name" = hub ] && command -v gdb >/dev/null && kill -0 "$ipid" 2>/dev/null; then
      timeout 60 gdb -p "$ipid" -batch -ex "thread apply all bt" >"$d/hub-stacks.txt" 2>&1 || true
      broken+=("hub: its threads' stacks at the stall are in $d/hub-stacks.txt")
    fi
  fi
  if [ "$name" != hub ]; then
    wait_file "$d/contender.kv" "$timeout_s" "$pid" ||
      { R[$name.incomplete]=1; broken+=("$name: the contender did not finish (see $d/contender.log)"); }
  fi
  # CPU and peak RSS of the ingesting process, now that everything is acked / counted
  local sample
  if sample=$(proc_sample "$ipid"); then
    read -r cpu hwm <<<"$sample"
  else
    cpu=nan hwm=0
    broken+=("$name: the contender had exited before its /proc could be read (see $d/contender.log)")
  fi
  local bsample bcpu=nan
  bsample=$(proc_sample "$broker_pid") && bcpu=${bsample%% *}
  stop_pid "$ipid" 20 || broken+=("$name: did not stop on SIGTERM within 20 s (SIGKILLed)")
  [ "$ipid" != "$pid" ] && { stop_pid "$pid" 30 || true; } # perf writes perf.data when its child is gone
  stop_pid "$broker_pid" 5 || true
  [ -e "$d/gen.kv" ] || { R[$name.rate]=nan; return; }
  if [ "$grc" -eq 0 ] && [ "$(kv "$d/gen.kv" ok)" != 1 ]; then
    broken+=("$name: the generator reports a failure (see $d/gen.log)")
  fi
  first=$(kv "$d/gen.kv" first_pub_ns)
  local lost dup
  case $name in
  bare)
    t_end=$(kv "$d/contender.kv" last_msg_ns 2>/dev/null || echo 0)
    lost=$(kv "$d/contender.kv" lost 2>/dev/null || echo "$sent_msgs")
    dup=$(kv "$d/contender.kv" dups 2>/dev/null || echo 0)
    lost=$((lost * records)) dup=$((dup * records))
    ;;
  hub)
    t_end=$(kv "$d/gen.kv" all_acked_ns)
    local q stored distinct nbatches rejects gaps
    q=$(sqlite3 -separator ' ' "$d/parkhub.db" \
      "SELECT coalesce(sum(nrecords), 0) FROM samples;
       SELECT coalesce(sum(nrecords), 0) FROM (SELECT DISTINCT agent_id, epoch, seq, point_id, ts_min, nrecords FROM samples);
       SELECT count(*) FROM (SELECT DISTINCT agent_id, epoch, seq FROM samples);
       SELECT count(*) FROM rejects; SELECT count(*) FROM gaps;" | tr '\n' ' ')
    read -r stored distinct nbatches rejects gaps <<<"$q"
    lost=$((sent_records - distinct)) dup=$((stored - distinct))
    R[$name.detail]="DB: samples hold $stored records ($distinct distinct, $nbatches distinct batches of $sent_msgs); rejects $rejects, declared gaps $gaps"
    ;;
  python)
    if [ "$(kv "$d/contender.kv" acking)" = 1 ]; then
      t_end=$(kv "$d/gen.kv" all_acked_ns)
    else
      t_end=$(kv "$d/contender.kv" last_commit_ns)
    fi
    local q stored distinct
    q=$(sqlite3 -separator ' ' "$d/python.db" \
      "SELECT count(*) FROM samples;
       SELECT count(*) FROM (SELECT DISTINCT agent, epoch, seq, ts, point, metric FROM samples);" | tr '\n' ' ')
    read -r stored distinct <<<"$q"
    # one row per value: records = values / 6, rounded up
    lost=$(((sent_values - distinct + nvalues - 1) / nvalues)) dup=$(((stored - distinct + nvalues - 1) / nvalues))
    R[$name.detail]="DB: $stored value rows ($distinct distinct of $sent_values sent); acks: $(kv "$d/contender.kv" acks) published"
    ;;
  esac
  [ -z "$t_end" ] && t_end=0
  R[$name.lost]=$lost
  R[$name.dup]=$dup
  R[$name.cpu]=$cpu
  R[$name.hwm]=$hwm
  R[$name.bcpu]=$bcpu
  R[$name.gcpu]=$(kv "$d/gen.kv" gen_cpu_s)
  if [ "$t_end" -gt "$first" ] 2>/dev/null; then
    R[$name.secs]=$(awk -v a="$first" -v b="$t_end" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    R[$name.rate]=$(awk -v n="$sent_records" -v s="${R[$name.secs]}" 'BEGIN { printf "%.0f", n / s }')
  else
    R[$name.secs]=nan R[$name.rate]=nan
    if [ -z "${R[$name.incomplete]:-}" ]; then broken+=("$name: no end time (not every record was acked / counted)"); fi
  fi
  local done_values=$sent_values # an unfinished contender: CPU per value it did store
  if [ -n "${R[$name.incomplete]:-}" ]; then done_values=$(((sent_records - lost) * nvalues)); fi
  R[$name.cpuv]=$(awk -v c="$cpu" -v v="$done_values" 'BEGIN { if (c == "nan" || v <= 0) print "nan"; else printf "%.3f", c * 1e6 / v }')
  if [ -n "${R[$name.incomplete]:-}" ] && [ "$dup" = 0 ]; then
    broken+=("$name: stored only $((sent_records - lost)) of $sent_records records before it was stopped (the rest were never acked: real agents would still hold them)")
    R[$name.lost]=n/a
  elif [ "$lost" != 0 ] || [ "$dup" != 0 ]; then
    if [ "$name" = hub ]; then
      broken+=("PARKHUB LOST $lost AND DUPLICATED $dup RECORDS of $sent_records (see $d/contender.log, $d/parkhub.db)")
    else
      broken+=("$name: lost $lost, duplicated $dup records of $sent_records (the broker config must not drop)")
    fi
  fi
  say "[$name] ${R[$name.rate]} records/s, ${R[$name.cpuv]} µs CPU/value, lost $lost, dup $dup"
}

say "load: $agents agents × $batches batches × $records records × $nvalues values = $sent_records records, $sent_values values"
for c in $only; do
  case $c in bare | hub | python) ;; *) die "unknown contender '$c' (bare, hub, python)" ;; esac
done
median() { tr ' ' '\n' | awk '$1 != "" && $1 != "nan" { v[n++] = $1 + 0 } END {
  if (!n) { print "nan"; exit }
  for (i = 1; i < n; i++) for (j = i; j > 0 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
  m = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2; print m }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b + 0 == 0) print "nan"; else printf "%.2f", a / b }'; }
# Per round: each contender's figures, kept under R[name.key.round]; then the
# ratios of the round (a contender that did not finish has none).
declare -A ROUND_LOG
for ((round = 1; round <= rounds; round++)); do
  [ "$rounds" -gt 1 ] && say "---- round $round of $rounds"
  for c in $only; do
    unset "R[$c.incomplete]"
    run_one "$c"
    for k in rate secs cpuv cpu hwm bcpu lost dup; do R[$c.$k.$round]=${R[$c.$k]:-nan}; done
    if [ -n "${R[$c.incomplete]:-}" ]; then R[$c.rate.$round]=nan R[$c.cpuv.$round]=nan R[$c.unfinished]=1; fi
  done
  R[hubbare.$round]=$(ratio "${R[hub.rate.$round]:-nan}" "${R[bare.rate.$round]:-nan}")
  R[pyhub.$round]=$(ratio "${R[python.cpuv.$round]:-nan}" "${R[hub.cpuv.$round]:-nan}")
  line="round $round:"
  for c in $only; do line+=" $c ${R[$c.rate.$round]} rec/s ${R[$c.cpuv.$round]} µs/value;"; done
  ROUND_LOG[$round]="$line hub/bare ${R[hubbare.$round]}, python/hub ${R[pyhub.$round]}"
done
# The table's figures: medians over the rounds; lost/dup: the worst round.
for c in $only; do
  [ -n "${R[$c.unfinished]:-}" ] && R[$c.incomplete]=1
  for k in rate secs cpuv cpu hwm bcpu; do
    vals=""
    for ((round = 1; round <= rounds; round++)); do vals+=" ${R[$c.$k.$round]}"; done
    fmt=%.3f
    case $k in rate | hwm) fmt=%.0f ;; bcpu) fmt=%.2f ;; esac
    R[$c.$k]=$(awk -v r="$(median <<<"$vals")" -v f="$fmt" 'BEGIN { if (r == "nan") print r; else printf f, r }')
  done
  for k in lost dup; do
    worst=0
    for ((round = 1; round <= rounds; round++)); do
      v=${R[$c.$k.$round]}
      if [ "$v" = n/a ] || [ "$v" = nan ]; then worst=$v; break; fi
      [ "$v" -gt "$worst" ] && worst=$v
    done
    R[$c.$k]=$worst
  done
done

# ---- report ---------------------------------------------------------------
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
echo
echo "parkhub ingest benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(nproc) CPUs, ${cpu_model:-unknown CPU}, kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "load: $agents agents × $batches batches × $records records × $nvalues values = $sent_records records, $sent_values values;"
echo "      QoS 1, generator window $window per agent, Mosquitto $(/usr/sbin/mosquitto -h 2>/dev/null | awk 'NR==1 {print $3}') max_inflight_messages $broker_inflight, max_queued_messages 0"
echo
label() {
  case $1 in
  bare) echo "(a) bare Paho subscriber" ;;
  hub) echo "(b) parkhub" ;;
  python) echo "(c) Python + sqlite3" ;;
  esac
}
printf '%-26s %12s %9s %14s %12s %8s %8s %12s\n' contender records/s seconds "CPU µs/value" "peak RSS MB" lost dup "broker CPU s"
# (!) rows: the contender did not finish; its CPU/value is over the values it did store
for c in $only; do
  printf '%-26s %12s %9s %14s %12s %8s %8s %12s\n' "$(label "$c")${R[$c.incomplete]:+ (!)}" "${R[$c.rate]:-nan}" "${R[$c.secs]:-nan}" \
    "${R[$c.cpuv]:-nan}" "$(awk -v k="${R[$c.hwm]:-0}" 'BEGIN { printf "%.1f", k / 1024 }')" "${R[$c.lost]:-?}" \
    "${R[$c.dup]:-?}" "${R[$c.bcpu]:-nan}"
done
echo
echo "records/s: from the first publish to the last record committed and acked (parkhub, Python), or"
echo "  counted (bare). CPU: utime+stime of the ingesting process (/proc/PID/stat) over"
echo "  $sent_values values, read after the last ack. Lost/dup: from the database (parkhub, Python), counted (bare)."
for c in $only; do
  if [ -n "${R[$c.detail]:-}" ]; then echo "  $(label "$c"): ${R[$c.detail]}"; fi
done
for c in $only; do
  if [ -n "${R[$c.incomplete]:-}" ]; then
    echo "  (!) $(label "$c") did not finish: CPU/value is over the values it stored before it was stopped; no ratio."
  fi
done
python_acks=yes
[ -e "$work/python/contender.kv" ] && [ "$(kv "$work/python/contender.kv" acking)" != 1 ] && python_acks=no
if [[ " $only " == *" python "* ]]; then
  if [ "$python_acks" = yes ]; then
    echo "  The Python script publishes the cumulative ack after each commit, like the hub."
  else
    echo "  NOTE: the Python script published NO acks in this run (BENCH_PYTHON_NOACK): its time ends at its last"
    echo "  commit and its CPU lacks the ack publishing the hub pays for."
  fi
fi
echo
if [ "$rounds" -gt 1 ]; then
  echo "rounds (the ratios below are the medians of each round's ratio):"
  for ((round = 1; round <= rounds; round++)); do echo "  ${ROUND_LOG[$round]}"; done
  echo
fi
ratios() {
  local vals="" round
  for ((round = 1; round <= rounds; round++)); do vals+=" ${R[$1.$round]}"; done
  awk -v r="$(median <<<"$vals")" 'BEGIN { if (r == "nan") print r; else printf "%.2f", r }'
}
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { if (r == "nan") print "n/a"; else if (r + 0 >= t + 0) print "met"; else print "NOT met" }'; }
if [ -n "${R[hub.rate]:-}" ] && [ -n "${R[bare.rate]:-}" ]; then
  r=$(ratios hubbare)
  v=$(verdict "$r" 0.9)
  if [ "$v" = met ] && { [ "${R[hub.lost]:-}" != 0 ] || [ "${R[hub.dup]:-}" != 0 ]; }; then v="NOT met (records lost or duplicated)"; fi
  echo "hub/bare (records/s):      $r   target ≥ 0.9 with 0 lost and 0 duplicated: $v"
fi
if [ -n "${R[python.cpuv]:-}" ] && [ -n "${R[hub.cpuv]:-}" ]; then
  r=$(ratios pyhub)
  echo "python/hub (CPU per value): $r   target ≥ 5 (goal 10): $(verdict "$r" 5)$([ "$(verdict "$r" 10)" = met ] && echo ", goal met")"
fi
echo "files: $work"
if [ ${#broken[@]} -gt 0 ]; then
  echo
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  for b in "${broken[@]}"; do echo "!!! BROKEN: $b"; done
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  exit 1
fi
exit 0
