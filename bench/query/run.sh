#!/usr/bin/env bash
# bench/query/run.sh [BUILD_DIR] — the query API benchmark (README.md here).
#
# Builds ph_bench_query_serve and ph_bench_query_load in BUILD_DIR, makes the
# database once with gen.sql (a year of hourly rollups for 100 enterprises ×
# 20 metrics; kept in BENCH_DIR and reused while gen.sql is unchanged) and
# its daily CEMS aggregates, starts two APIs on free loopback ports — the hub
# as built and --baseline (every figure from the hours, as before issue #19)
# — and prints, for both with the speed-up: p50/p99 of the park summary (a
# year and a month), of the annual report, and of 200 concurrent summary
# clients (with their errors); then the all-parks summary over BENCH_PARKS
# parks (bench, bench1.., each the same 100 enterprises and a year), the
# series figures and requests/s under wrk. Every step is bounded in time;
# the servers are stopped on exit.
#
# Environment (defaults in brackets):
#   BENCH_DIR [BUILD_DIR/bench-query]   BENCH_JOBS [1] build jobs
#   BENCH_THREADS [4] API worker threads
#   BENCH_N_SUMMARY [20]  BENCH_N_YEAR [5]  requests of the baseline's month and year summaries
#   BENCH_N_MONTH_NEW [200]  BENCH_N_YEAR_NEW [100]  BENCH_N_REPORT [3]  BENCH_N_SERIES [500]
#   BENCH_CLIENTS [200] concurrent summary clients (one request each)
#   BENCH_DAYS [365] days of data generated (fewer: a quick database while developing)
#   BENCH_PARKS [10] parks generated (1..10; ~1.5 GB and 1.5 minutes each, once)
#   BENCH_N_ALL [50]  BENCH_N_ALL_OLD [2]  all-parks summaries, now and of the baseline
#   BENCH_MAX_S [120] seconds any one latency loop may take
#   BENCH_WRK_S [10] seconds per wrk run   BENCH_WRK_C [8] wrk connections   BENCH_WRK_T [2] wrk threads
#   BENCH_IR [1] the instructions per request under callgrind (0: skipped; ~3 minutes)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-${BUILD_DIR:-$repo/build}}
jobs=${BENCH_JOBS:-1}
threads=${BENCH_THREADS:-4}
n_summary=${BENCH_N_SUMMARY:-20}
n_year=${BENCH_N_YEAR:-5}
n_series=${BENCH_N_SERIES:-500}
n_year_new=${BENCH_N_YEAR_NEW:-100}
n_month_new=${BENCH_N_MONTH_NEW:-200}
n_report=${BENCH_N_REPORT:-3}
n_clients=${BENCH_CLIENTS:-200}
n_all=${BENCH_N_ALL:-50}      # all-parks summaries (and of the baseline: BENCH_N_ALL_OLD, 2: ~35 s each)
n_all_old=${BENCH_N_ALL_OLD:-2}
days=${BENCH_DAYS:-365}
parks=${BENCH_PARKS:-10}
case "$parks" in [1-9]|10) ;; *) echo "bench/query: BENCH_PARKS must be 1..10" >&2; exit 2 ;; esac
export BENCH_PARKS=$parks # the servers serve them all
max_s=${BENCH_MAX_S:-120}
wrk_s=${BENCH_WRK_S:-10}
wrk_c=${BENCH_WRK_C:-8}
wrk_t=${BENCH_WRK_T:-2}

say() { printf '%s\n' "$*" >&2; }
die() { say "run.sh: $*"; exit 1; }

# ---- dependencies and build ---------------------------------------------
"$repo/deploy/install-deps.sh"
missing=()
for p in libmicrohttpd-dev wrk sqlite3 valgrind curl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
mkdir -p "$build"
build=$(cd "$build" && pwd)
if [ ! -e "$build/CMakeCache.txt" ]; then
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
fi
cmake --build "$build" -j "$jobs" --target ph_bench_query_serve ph_bench_query_load >/dev/null
serve=$build/bench/query/ph_bench_query_serve
load=$build/bench/query/ph_bench_query_load

# ---- the database ------------------------------------------------------------
dir=${BENCH_DIR:-$build/bench-query}
mkdir -p "$dir"
db=$dir/bench.db
# the database is made again when gen.sql, the days, the parks or the hub's
# schema (PH_STORE_VERSION: a new table the summary reads) change
schema=$(sed -n 's/^#define PH_STORE_VERSION //p' "$here/../../hub/store/store.h")
stamp=$( (cat "$here/gen.sql"; echo "aggregates 2 days $days schema $schema parks $parks") | sha256sum | cut -c1-16)
if [ ! -e "$db" ] || [ "$(cat "$dir/gen.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -f "$db" "$db-wal" "$db-shm" "$dir/gen.stamp"
  say "generating $db: $parks parks (about 1.5 minutes a park, once)"
  t0=$(date +%s)
  "$serve" --init "$db"
  for p in $(seq 0 $(( parks - 1 ))); do
    park=bench; [ "$p" -gt 0 ] && park=bench$p
    # BENCH_DAYS < 365: only the first days of the year (a quick database while developing)
    sed -e "s/k < 8759/k < $(( days * 24 - 1 ))/" -e "s/@PARK@/$park/g" "$here/gen.sql" |
      timeout 1800 sqlite3 "$db" >/dev/null
  done
  "$serve" --aggregate "$db" # the daily CEMS aggregates, as migration 6 builds them for an older database
  echo "$stamp" > "$dir/gen.stamp"
  say "generated in $(( $(date +%s) - t0 )) s"
fi
rows=$(sqlite3 "$db" "SELECT count(*) FROM rollups WHERE period = 1")
size_mb=$(( $(stat -c %s "$db") / 1048576 ))

# ---- the servers: the current path and the baseline (every figure from the hours) ----
start() { # name extra-args... ; sets port_<name>
  local name=$1
  shift
  "$serve" "$db" 0 "$threads" "$@" > "$dir/serve-$name.out" 2> "$dir/serve-$name.log" &
  echo $! >> "$dir/pids"
  local p=""
  for _ in $(seq 100); do
    p=$(sed -n 's/^ready \([0-9]*\)$/\1/p' "$dir/serve-$name.out")
    [ -n "$p" ] && break
    sleep 0.1
  done
  [ -n "$p" ] || die "the $name server did not say ready within 10 s: $(cat "$dir/serve-$name.log")"
  eval "port_$name=$p"
}
: > "$dir/pids"
trap 'for p in $(cat "$dir/pids"); do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
start now
start old --baseline
port=$port_now
base="http://127.0.0.1:$port/api/v1/parks/bench"
obase="http://127.0.0.1:$port_old/api/v1/parks/bench"
tok=bench-token
month="from=2025-06-01T00:00:00%2B08:00&to=2025-07-01T00:00:00%2B08:00"
year="from=2025-01-01T00:00:00%2B08:00&to=2026-01-01T00:00:00%2B08:00"
series="$base/series?ent=e042&point=stack-1&metric=so2&$month&step=1h"

figure() { # name url n [clients]
  local out
  out=$(timeout $(( max_s + 60 )) "$load" "$2" "$tok" "$3" "$max_s" "${4:-1}") || die "$1: the request failed"
  printf '%-44s %s\n' "$1" "$out"
}
p99_of() { sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p'; }
# name url-path n [clients]: the figure now and its baseline, and the speed-up of p99
versus() { versus_url "$1" "$base$2" "$obase$2" "${@:3}"; }
# name url url-of-the-baseline n [clients [n-of-the-baseline]]
versus_url() {
  local a b pa pb
  # errors are printed (errors=N), not fatal: a baseline that times out under load is a figure too
  a=$(timeout $(( max_s + 60 )) "$load" "$2" "$tok" "$4" "$max_s" "${5:-1}" 2>> "$dir/load.log") || true
  b=$(timeout $(( max_s + 60 )) "$load" "$3" "$tok" "${6:-$4}" "$max_s" "${5:-1}" 2>> "$dir/load.log") || true
  [ -n "$a" ] || a="no request answered 200 (see $dir/load.log)"
  [ -n "$b" ] || b="no request answered 200 (see $dir/load.log)"
  pa=$(printf '%s' "$a" | p99_of)
  pb=$(printf '%s' "$b" | p99_of)
  printf '%-44s %s\n%-44s %s\n' "$1" "$a" "  baseline (from the hours)" "$b"
  [ -n "$pa" ] && [ -n "$pb" ] && awk -v a="$pa" -v b="$pb" 'BEGIN { if (a > 0) printf "  speed-up of p99: %.1fx\n", b / a }'
  return 0
}

echo "database: $rows hourly rollup rows, $size_mb MiB; API: $threads threads on 127.0.0.1; $(nproc) cores"
echo "-- latency, one client, keep-alive (ms); targets: year p99 <= 50, month <= 10, report <= 2000"
versus "summary, 100 enterprises, one year" "/summary?$year" "$n_year_new" 1 "$n_year"
versus "summary, 100 enterprises, one month" "/summary?$month" "$n_month_new" 1 "$n_summary"
versus "annual report 2025 (JSON), 100 enterprises" "/report?year=2025&format=json" "$n_report" 1
echo "-- $n_clients concurrent clients, one month's summary each (ms)"
versus "summary, one month, $n_clients clients" "/summary?$month" "$n_clients" "$n_clients"
echo "-- all parks (GET /api/v1/summary, $parks parks x 100 enterprises, one year; target p99 <= 250 for 10 parks)"
versus_url "all-parks summary, $parks parks, one year" "http://127.0.0.1:$port/api/v1/summary?$year" \
  "http://127.0.0.1:$port_old/api/v1/summary?$year" "$n_all" 1 "$n_all_old"
figure "series 1h, one month (720 points), JSON" "$series" "$n_series"
figure "series 1h, one month (720 points), CSV" "$series&format=csv" "$n_series"
figure "series 1d, one year (365 points)" "$base/series?ent=e042&point=stack-1&metric=so2&$year&step=1d" "$n_series"
figure "enterprises (100, with presence)" "$base/enterprises" "$n_series"

echo "-- throughput, wrk -t$wrk_t -c$wrk_c -d${wrk_s}s"
for spec in "series 1h, one month|$series" "enterprises|$base/enterprises" \
            "points of one enterprise|$base/enterprises/e042/points" "healthz|http://127.0.0.1:$port/healthz"; do
  name=${spec%%|*}
  url=${spec#*|}
  out=$(timeout $(( wrk_s + 30 )) wrk -t"$wrk_t" -c"$wrk_c" -d"${wrk_s}s" --latency \
        -H "Authorization: Bearer $tok" "$url") || die "wrk $name failed"
  rps=$(printf '%s\n' "$out" | awk '/^Requests\/sec:/ {print $2}')
  p50=$(printf '%s\n' "$out" | awk '$1 == "50%" {print $2}')
  p99=$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')
  non2xx=$(printf '%s\n' "$out" | awk '/Non-2xx/ {print $NF}')
  printf '%-44s req/s=%s p50=%s p99=%s%s\n' "$name" "$rps" "$p50" "$p99" "${non2xx:+ non-2xx=$non2xx}"
done

# ---- instructions per request (callgrind) ---------------------------------------
# Wall time on these shared 2-core machines moves by 2x from one day to the
# next for the same build and database (bench/query/README.md); the
# instructions a request takes inside the server's request handler do not.
# Each figure is two runs of one server under callgrind, counting only inside
# on_request: one request, then 1 + n; the difference over n is a request's
# count without the first request's schema read.
ir_run() { # path k extra-args... : the instructions of k requests
  local path=$1 k=$2 p="" pid
  shift 2
  rm -f "$dir/cg.out"
  valgrind --tool=callgrind --collect-atstart=no --toggle-collect=on_request --callgrind-out-file="$dir/cg.out" \
    "$serve" "$db" 0 1 "$@" > "$dir/cg-serve.out" 2> "$dir/cg-serve.log" &
  pid=$!
  echo "$pid" >> "$dir/pids"
  for _ in $(seq 600); do
    p=$(sed -n 's/^ready \([0-9]*\)$/\1/p' "$dir/cg-serve.out")
    [ -n "$p" ] && break
    sleep 0.1
  done
  [ -n "$p" ] || die "the server under callgrind did not say ready within 60 s: $(tail -3 "$dir/cg-serve.log")"
  for _ in $(seq "$k"); do
    curl -sf -o /dev/null --max-time 600 -H "Authorization: Bearer $tok" "http://127.0.0.1:$p/api/v1/parks/bench$path" ||
      die "callgrind: $path did not answer 200"
  done
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  sed -n 's/^summary: //p; s/^totals: //p' "$dir/cg.out" | head -1
}
ir_figure() { # name path n extra-args...
  local a b
  a=$(ir_run "$2" 1 "${@:4}")
  b=$(ir_run "$2" $(( 1 + $3 )) "${@:4}")
  [ -n "$a" ] && [ -n "$b" ] || die "callgrind: no count for $1"
  awk -v n="$1" -v a="$a" -v b="$b" -v k="$3" 'BEGIN { printf "%-44s Minstr_per_request=%.1f (n=%d)\n", n, (b - a) / k / 1e6, k }'
}
if [ "${BENCH_IR:-1}" != 0 ]; then
  echo "-- instructions per request inside the server (callgrind; the machine's work, not its speed)"
  ir_figure "summary, one month" "/summary?$month" 3
  ir_figure "  baseline (from the hours)" "/summary?$month" 1 --baseline
  ir_figure "summary, one year" "/summary?$year" 2
fi
