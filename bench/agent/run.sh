#!/usr/bin/env bash
# bench/agent/run.sh [BUILD_DIR] — parkagent's throughput and memory.
#
# Builds parkagent and the acking subscriber (acker.c, a stand-in for the
# hub: decodes batches with the common library, acks cumulatively), then,
# each phase on a fresh private Mosquitto on a free loopback port:
#
#   baseline  mosquitto_pub -l -q 1 publishes the JSON lines one message per
#             line to a mosquitto_sub -q 1 -C N: records/s end to end
#   idle      the agent connected, a source with nothing to read: peak RSS
#   load      the agent reads N lines from a JSON-lines file and publishes
#             them through the broker to the acker: records/s from the
#             agent's start to the last record at the acker, peak RSS, CPU
#   prefill   no acker; max_records 1 and the same kind of file: the agent
#             stores PREFILL one-record batches in its outbox (timed)
#   drain     the acker comes; the agent restarts on that outbox and
#             publishes it all: batches/s, peak RSS while draining
#
# Prints a table with the memory targets — the agent's private memory
# (Private_Dirty of /proc/PID/smaps_rollup: heap, stacks and every page it
# wrote, what the agent alone costs the gateway) <= 1 MB idle and <= 4 MB
# under load; RSS and the private clean pages (file-backed text, its own
# binary's included, which the kernel can drop and reload) are shown beside
# it — and the agent/baseline ratio. Asserts nothing about speed or memory:
# exit 0 when every phase ran and every record arrived; non-zero when
# something broke (a process died, a bounded wait ran out, records missing).
# Not part of ctest.
#
# Environment (defaults in brackets):
#   BENCH_RECORDS [200000]  lines in the load file
#   BENCH_PREFILL [100000]  batches in the prefilled outbox
#   BENCH_TIMEOUT [180]     seconds any one phase may take
#   BENCH_DIR [BUILD_DIR/bench-agent]  working files (configs, logs, outboxes)
#   BENCH_JOBS [1]          parallel build jobs
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-${BUILD_DIR:-$repo/build}}
nrec=${BENCH_RECORDS:-200000}
nprefill=${BENCH_PREFILL:-100000}
timeout_s=${BENCH_TIMEOUT:-180}
jobs=${BENCH_JOBS:-1}

say() { printf '%s\n' "$*" >&2; }
die() { say "run.sh: $*"; exit 1; }

# ---- build ---------------------------------------------------------------
for f in /usr/sbin/mosquitto /usr/bin/mosquitto_pub /usr/bin/mosquitto_sub /usr/bin/sqlite3 /usr/include/MQTTAsync.h; do
  [ -e "$f" ] || { [ -x "$repo/deploy/install-deps.sh" ] && "$repo/deploy/install-deps.sh"; break; }
done
mkdir -p "$build"
build=$(cd "$build" && pwd)
if [ ! -e "$build/CMakeCache.txt" ]; then
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
work=${BENCH_DIR:-$build/bench-agent}
mkdir -p "$work"
work=$(cd "$work" && pwd)
say "building parkagent and parkcommon in $build …"
cmake --build "$build" -j"$jobs" --target parkagent parkcommon >"$work/build.log" 2>&1 ||
  { tail -30 "$work/build.log" >&2; die "build failed (log: $work/build.log)"; }
agent_bin=$build/agents/parkagent
acker_bin=$work/ph_agent_acker
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -I"$repo/include" -o "$acker_bin" "$here/acker.c" \
  "$build/common/libparkcommon.a" -lpaho-mqtt3as -lcjson -lpthread -lm >>"$work/build.log" 2>&1 ||
  { tail -30 "$work/build.log" >&2; die "acker build failed (log: $work/build.log)"; }

# ---- process helpers (everything by PID, every wait bounded) --------------
# On exit, end what this script started and is still running: its own
# background jobs (jobs -p lists live children only, never a reused PID).
cleanup() {
  local p live
  live=$(jobs -p)
  [ -n "$live" ] || return 0
  for p in $live; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.3
  for p in $live; do kill -KILL "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

stop_pid() { # stop_pid PID SECONDS: SIGTERM, wait, then SIGKILL
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

now_ms() { date +%s%3N; }
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; } # status_kb PID VmHWM
# private memory in kB: the pages only this process maps and has written (Private_Dirty)
uss_kb() { awk '/^Private_Dirty:/ { k += $2 } END { print k + 0 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
# private clean pages in kB: file-backed text only this process maps (reclaimable)
clean_kb() { awk '/^Private_Clean:/ { k += $2 } END { print k + 0 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
# max_kb A B: the larger of two kB figures
max_kb() { if [ "${1:-0}" -gt "${2:-0}" ]; then echo "${1:-0}"; else echo "${2:-0}"; fi; }
clk_tck=$(getconf CLK_TCK)
cpu_s() { # utime+stime of PID in seconds
  local stat rest
  stat=$(cat "/proc/$1/stat") || return 1
  rest=${stat##*) }
  # shellcheck disable=SC2086
  set -- $rest
  awk -v t="$((${12} + ${13}))" -v hz="$clk_tck" 'BEGIN { printf "%.2f", t / hz }'
}
kv() { sed -n "s/^$2=//p" "$1" | head -1; }

# wait_for SECONDS PID CMD…: polls CMD every 50 ms; 1 on timeout or when PID died
wait_for() {
  local secs=$1 pid=$2 i
  shift 2
  for ((i = 0; i < secs * 20; i++)); do
    "$@" && return 0
    [ "$pid" = - ] || kill -0 "$pid" 2>/dev/null || { "$@" && return 0; return 1; }
    sleep 0.05
  done
  return 1
}
has_line() { grep -q -- "$2" "$1" 2>/dev/null; }
depth() { sqlite3 "file:$1?mode=ro" "SELECT count(*) FROM batches" 2>/dev/null || echo -1; }
depth_ge() { [ "$(depth "$1")" -ge "$2" ]; }
depth_eq() { [ "$(depth "$1")" -eq "$2" ]; }

broker_pid=
start_broker() { # start_broker DIR → sets port, uri, broker_pid
  local d=$1 user_line=""
  [ "$(id -u)" -eq 0 ] && user_line="user root"
  port=$(free_port) || die "no free port"
  uri=tcp://127.0.0.1:$port
  cat >"$d/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
# never drop QoS 1 messages to a slow subscriber (DESIGN.md)
max_queued_messages 0
max_queued_bytes 0
max_inflight_messages 1000
set_tcp_nodelay true
log_type error
log_type warning
log_type notice
log_type information
log_type subscribe
$user_line
CONF
  /usr/sbin/mosquitto -c "$d/mosquitto.conf" >"$d/mosquitto.log" 2>&1 &
  broker_pid=$!
  wait_for 5 "$broker_pid" port_taken "$port" || { cat "$d/mosquitto.log" >&2; die "mosquitto did not start"; }
}

write_config() { # write_config FILE OUTBOX DATA MAX_RECORDS MAX_BATCHES
  cat >"$1" <<CONF
{
  "park": "p1", "ent": "e1", "agent": "gw-01",
  "mqtt": {"uris": ["$uri"]},
  "batch": {"max_records": $4, "max_delay_ms": 200},
  "outbox": {"path": "$2", "max_batches": $5},
  "status_interval_s": 60,
  "sources": [{"type": "jsonl", "name": "cems", "path": "$3", "from_start": true}]
}
CONF
}

start_agent() { # start_agent CONFIG LOG → agent_pid, agent_t0 (ms)
  agent_t0=$(now_ms)
  "$agent_bin" --config "$1" >"$2" 2>&1 &
  agent_pid=$!
}

start_acker() { # start_acker DIR EXPECT → acker_pid
  "$acker_bin" --uri "$uri" --expect "$2" --out "$1/acker.kv" --timeout "$timeout_s" >"$1/acker.log" 2>&1 &
  acker_pid=$!
  wait_for 15 "$acker_pid" has_line "$1/acker.log" ready || { cat "$1/acker.log" >&2; die "acker not ready"; }
}

# ---- the load: realistic stack CEMS records, 4 stacks, 1 s apart ----------
gen() { # gen N FILE
  awk -v n="$1" -v base="$(($(date +%s) - $1 / 4 - 86400))" 'BEGIN {
    srand(42)
    for (i = 0; i < n; i++) {
      s = i % 4; t = base + int(i / 4)
      so2 = 50 + 18 * sin(i / 7200) + 3 * rand(); nox = 105 + 30 * sin(i / 6300) + 4 * rand()
      pm = 5.5 + 1.5 * sin(i / 5400) + 0.3 * rand(); flow = 87500 + 5000 * sin(i / 8100) + 500 * rand()
      o2 = 12 + 1.3 * sin(i / 4700) + 0.2 * rand(); temp = 135 + 10 * sin(i / 6600) + rand()
      f = (i % 997 == 0) ? "C" : "N"
      printf "{\"ts\":\"%s\",\"point\":\"stack-%d\",\"values\":{\"so2\":%.1f,\"nox\":%.1f,\"pm\":%.2f,\"flow\":%d,\"o2\":%.2f,\"temp\":%.1f},\"flags\":{\"so2\":\"%s\",\"nox\":\"%s\"}}\n",
        strftime("%Y-%m-%dT%H:%M:%SZ", t, 1), s + 1, so2, nox, pm, flow, o2, temp, f, f
    }
  }' >"$2"
}

say "generating $nrec records and $nprefill prefill records …"
gen "$nrec" "$work/load.jsonl"
gen "$nprefill" "$work/prefill.jsonl"
line_bytes=$(($(stat -c %s "$work/load.jsonl") / nrec))

declare -A R
fresh() { rm -rf "${work:?}/$1"; mkdir -p "$work/$1"; }

# ---- baseline: mosquitto_pub -l, one QoS 1 message per line ---------------
say "baseline: mosquitto_pub -l -q 1 → mosquitto_sub -q 1 …"
fresh baseline
d=$work/baseline
start_broker "$d"
timeout "$timeout_s" mosquitto_sub -h 127.0.0.1 -p "$port" -q 1 -C "$nrec" -t 'bench/#' >"$d/sub.out" 2>"$d/sub.log" &
sub_pid=$!
wait_for 10 "$sub_pid" has_line "$d/mosquitto.log" "bench/#" || die "mosquitto_sub did not subscribe"
# mosquitto_pub -l (2.0.11) reads a file much faster than it can publish
# and, at EOF, disconnects with messages still queued (the broker then logs
# "disconnected due to out of memory" and the rest is lost). So its stdin
# is a FIFO held open until the subscriber has everything.
mkfifo "$d/in"
mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -l -t bench/stack <"$d/in" >"$d/pub.log" 2>&1 &
pub_pid=$!
exec 7>"$d/in"
t0=$(now_ms)
cat "$work/load.jsonl" >&7 &
wait "$sub_pid" || die "mosquitto_sub did not get $nrec messages in ${timeout_s}s"
t1=$(now_ms)
exec 7>&-
stop_pid "$pub_pid" 5 || true
got=$(wc -l <"$d/sub.out")
[ "$got" -eq "$nrec" ] || die "baseline: $got of $nrec messages"
R[base.rate]=$((nrec * 1000 / (t1 - t0)))
R[base.ms]=$((t1 - t0))
stop_pid "$broker_pid" 5 || true

# ---- idle ------------------------------------------------------------------
say "idle: agent connected, nothing to read …"
fresh idle
d=$work/idle
start_broker "$d"
: >"$d/empty.jsonl"
write_config "$d/agent.json" "$d/outbox.db" "$d/empty.jsonl" 100 100000
start_agent "$d/agent.json" "$d/agent.log"
wait_for 15 "$agent_pid" has_line "$d/agent.log" "connected;" || { cat "$d/agent.log" >&2; die "agent did not connect"; }
sleep 3 # settle: status published, nothing else to do
R[idle.hwm]=$(status_kb "$agent_pid" VmHWM)
R[idle.uss]=$(uss_kb "$agent_pid")
R[idle.clean]=$(clean_kb "$agent_pid")
R[idle.anon]=$(status_kb "$agent_pid" RssAnon)
R[idle.file]=$(status_kb "$agent_pid" RssFile)
R[idle.crypto]=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { lib = ($6 ~ /libcrypto|libssl/) } lib && /^Rss:/ { k += $2 } END { print k + 0 }' \
  "/proc/$agent_pid/smaps")
# where the idle RSS goes: kB per mapped file (anonymous mappings together)
awk '/^[0-9a-f]+-[0-9a-f]+ / { n = $6; if (n == "") n = "[anon]"; sub(/.*\//, "", n) } /^Rss:/ { k[n] += $2 }
  END { for (n in k) if (k[n] > 0) printf "%d %s\n", k[n], n }' "/proc/$agent_pid/smaps" | sort -rn >"$d/rss-by-mapping"
c0=$(cpu_s "$agent_pid")
sleep 2
c1=$(cpu_s "$agent_pid")
R[idle.cpu]=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.1f", (b - a) / 2 * 100 }')
stop_pid "$agent_pid" 10 || die "agent did not stop on SIGTERM"
stop_pid "$broker_pid" 5 || true

# ---- load ------------------------------------------------------------------
say "load: $nrec records through the agent to the acker …"
fresh load
d=$work/load
start_broker "$d"
start_acker "$d" "$nrec"
write_config "$d/agent.json" "$d/outbox.db" "$work/load.jsonl" 100 100000
start_agent "$d/agent.json" "$d/agent.log"
R[load.uss]=0
for ((i = 0; i < timeout_s * 10; i++)); do # sample while it runs (VmHWM is the peak anyway; private memory has no peak: sampled)
  kill -0 "$acker_pid" 2>/dev/null || break
  kill -0 "$agent_pid" 2>/dev/null || { cat "$d/agent.log" >&2; die "agent died under load"; }
  R[load.uss]=$(max_kb "${R[load.uss]}" "$(uss_kb "$agent_pid")")
  sleep 0.1
done
wait "$acker_pid" || { cat "$d/acker.log" >&2; die "acker: not all $nrec records arrived (log: $d/acker.log)"; }
R[load.hwm]=$(status_kb "$agent_pid" VmHWM)
R[load.cpu]=$(cpu_s "$agent_pid")
R[load.anon]=$(status_kb "$agent_pid" RssAnon)
last=$(kv "$d/acker.kv" last_ms)
R[load.rate]=$((nrec * 1000 / (last - agent_t0)))
R[load.ms]=$((last - agent_t0))
R[load.batches]=$(kv "$d/acker.kv" batches)
R[load.dups]=$(kv "$d/acker.kv" dups)
[ "$(kv "$d/acker.kv" bad)" -eq 0 ] || die "acker refused $(kv "$d/acker.kv" bad) batches"
wait_for 30 "$agent_pid" depth_eq "$d/outbox.db" 0 || say "run.sh: load: the outbox did not drain after the acks"
stop_pid "$agent_pid" 10 || die "agent did not stop on SIGTERM"
stop_pid "$broker_pid" 5 || true

# ---- prefill: no acker, one record per batch --------------------------------
say "prefill: $nprefill one-record batches into the outbox, nobody acking …"
fresh drain
d=$work/drain
start_broker "$d"
write_config "$d/agent.json" "$d/outbox.db" "$work/prefill.jsonl" 1 $((nprefill * 2))
start_agent "$d/agent.json" "$d/prefill.log"
wait_for "$timeout_s" "$agent_pid" depth_ge "$d/outbox.db" "$nprefill" ||
  die "prefill: outbox holds $(depth "$d/outbox.db") of $nprefill batches after ${timeout_s}s"
R[prefill.ms]=$(($(now_ms) - agent_t0))
R[prefill.hwm]=$(status_kb "$agent_pid" VmHWM)
R[prefill.uss]=$(uss_kb "$agent_pid")
stop_pid "$agent_pid" 10 || die "agent did not stop on SIGTERM"
R[prefill.depth]=$(depth "$d/outbox.db")
R[prefill.mb]=$(du -sm "$d" | awk '{print $1}')

# ---- drain: the acker comes, the agent restarts on the full outbox ----------
say "drain: the agent publishes its ${R[prefill.depth]}-batch outbox to the acker …"
start_acker "$d" "${R[prefill.depth]}"
start_agent "$d/agent.json" "$d/drain.log"
R[drain.uss]=0
for ((i = 0; i < timeout_s * 10; i++)); do
  kill -0 "$acker_pid" 2>/dev/null || break
  kill -0 "$agent_pid" 2>/dev/null || { cat "$d/drain.log" >&2; die "agent died while draining"; }
  R[drain.uss]=$(max_kb "${R[drain.uss]}" "$(uss_kb "$agent_pid")")
  sleep 0.1
done
wait "$acker_pid" || { cat "$d/acker.log" >&2; die "acker: the outbox did not arrive whole (log: $d/acker.log)"; }
last=$(kv "$d/acker.kv" last_ms)
R[drain.rate]=$((R[prefill.depth] * 1000 / (last - agent_t0)))
R[drain.ms]=$((last - agent_t0))
wait_for 60 "$agent_pid" depth_eq "$d/outbox.db" 0 || say "run.sh: drain: outbox not empty after the acks"
R[drain.hwm]=$(status_kb "$agent_pid" VmHWM)
R[drain.cpu]=$(cpu_s "$agent_pid")
stop_pid "$agent_pid" 10 || die "agent did not stop on SIGTERM"
stop_pid "$broker_pid" 5 || true

# ---- report ----------------------------------------------------------------
mb() { awk -v k="$1" 'BEGIN { printf "%.2f MB", k / 1024 }'; }
verdict() { awk -v k="$1" -v t="$2" 'BEGIN { print (k / 1024 <= t) ? "ok" : "OVER" }'; }
row() { printf '  %-44s %-20s %-8s %s\n' "$@"; }
ratio=$(awk -v a="${R[load.rate]}" -v b="${R[base.rate]}" 'BEGIN { printf "%.2f", a / b }')
us_per=$(awk -v c="${R[load.cpu]}" -v n="$nrec" 'BEGIN { printf "%.1f", c * 1e6 / n }')
echo
echo "parkagent benchmark ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ); records of ~$line_bytes bytes, 6 values each)"
echo
row "figure" "measured" "target" "verdict"
row "--------------------------------------------" "--------------------" "--------" "-------"
row "baseline: mosquitto_pub -l -q 1, 1 rec/msg" "${R[base.rate]} rec/s" "-" ""
row "agent: $nrec records, 100 per batch" "${R[load.rate]} rec/s" "-" ""
row "agent / baseline" "$ratio x" "-" ""
row "agent CPU per record under load" "$us_per us" "-" ""
row "private memory (Private_Dirty) idle" "$(mb "${R[idle.uss]}")" "1 MB" "$(verdict "${R[idle.uss]}" 1)"
row "  private clean pages (file-backed text)" "$(mb "${R[idle.clean]}")" "-" ""
row "peak RSS idle (VmHWM; mostly shared libraries)" "$(mb "${R[idle.hwm]}")" "-" ""
row "  of which anonymous / file-backed" "$(mb "${R[idle.anon]}") / $(mb "${R[idle.file]}")" "" ""
row "  of which libssl + libcrypto" "$(mb "${R[idle.crypto]}")" "0 (plain)" ""
row "CPU idle" "${R[idle.cpu]} %" "-" ""
row "private memory under load, peak sampled" "$(mb "${R[load.uss]}")" "4 MB" "$(verdict "${R[load.uss]}" 4)"
row "peak RSS under load (VmHWM)" "$(mb "${R[load.hwm]}")" "-" ""
row "  anonymous at the end of the load" "$(mb "${R[load.anon]}")" "" ""
row "prefill: $nprefill one-record batches" "$((R[prefill.ms] / 1000)).$((R[prefill.ms] % 1000 / 100)) s" "-" ""
row "private memory after prefilling" "$(mb "${R[prefill.uss]}")" "4 MB" "$(verdict "${R[prefill.uss]}" 4)"
row "peak RSS while prefilling (VmHWM)" "$(mb "${R[prefill.hwm]}")" "-" ""
row "drain of a ${R[prefill.depth]}-batch outbox" "${R[drain.rate]} batch/s" "-" ""
row "private memory while draining, peak sampled" "$(mb "${R[drain.uss]}")" "4 MB" "$(verdict "${R[drain.uss]}" 4)"
row "peak RSS while draining (VmHWM)" "$(mb "${R[drain.hwm]}")" "-" ""
echo
echo "  load: ${R[load.batches]} batches (${R[load.dups]} republished), ${R[load.ms]} ms from agent start to the last record at the acker"
echo "  baseline: ${R[base.ms]} ms; drain: ${R[drain.ms]} ms, agent CPU ${R[drain.cpu]} s; outbox dir after prefill ${R[prefill.mb]} MB"
echo "  idle RSS by mapping (kB): $(head -12 "$work/idle/rss-by-mapping" | awk '{ printf "%s%s %d", (NR > 1 ? ", " : ""), $2, $1 }')"
echo "  working files: $work"
