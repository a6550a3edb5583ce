#!/usr/bin/env bash
# bench/query/run.sh [BUILD_DIR] — the query API benchmark (README.md here).
#
# Builds ph_bench_query_serve and ph_bench_query_load in BUILD_DIR, makes the
# database once with gen.sql (a year of hourly rollups for 100 enterprises ×
# 20 metrics; kept in BENCH_DIR and reused while gen.sql is unchanged), starts
# the API on a free loopback port, and prints p50/p99 of the park summary
# (a month and a year) and of a one-month hourly series (one keep-alive
# client, requests one after the other), then requests/s under wrk.
# Every step is bounded in time; the server is stopped on exit.
#
# Environment (defaults in brackets):
#   BENCH_DIR [BUILD_DIR/bench-query]   BENCH_JOBS [1] build jobs
#   BENCH_THREADS [4] API worker threads
#   BENCH_N_SUMMARY [20]  BENCH_N_YEAR [5]  BENCH_N_SERIES [500] requests per latency figure
#   BENCH_MAX_S [120] seconds any one latency loop may take
#   BENCH_WRK_S [10] seconds per wrk run   BENCH_WRK_C [8] wrk connections   BENCH_WRK_T [2] wrk threads
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-${BUILD_DIR:-$repo/build}}
jobs=${BENCH_JOBS:-1}
threads=${BENCH_THREADS:-4}
n_summary=${BENCH_N_SUMMARY:-20}
n_year=${BENCH_N_YEAR:-5}
n_series=${BENCH_N_SERIES:-500}
max_s=${BENCH_MAX_S:-120}
wrk_s=${BENCH_WRK_S:-10}
wrk_c=${BENCH_WRK_C:-8}
wrk_t=${BENCH_WRK_T:-2}

say() { printf '%s\n' "$*" >&2; }
die() { say "run.sh: $*"; exit 1; }

# ---- dependencies and build ---------------------------------------------
"$repo/deploy/install-deps.sh"
missing=()
for p in libmicrohttpd-dev wrk sqlite3; do
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
stamp=$(sha256sum "$here/gen.sql" | cut -c1-16)
if [ ! -e "$db" ] || [ "$(cat "$dir/gen.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -f "$db" "$db-wal" "$db-shm" "$dir/gen.stamp"
  say "generating $db (about 2 minutes, once)"
  t0=$(date +%s)
  "$serve" --init "$db"
  timeout 1800 sqlite3 "$db" < "$here/gen.sql" >/dev/null
  echo "$stamp" > "$dir/gen.stamp"
  say "generated in $(( $(date +%s) - t0 )) s"
fi
rows=$(sqlite3 "$db" "SELECT count(*) FROM rollups WHERE period = 1")
size_mb=$(( $(stat -c %s "$db") / 1048576 ))

# ---- the server ----------------------------------------------------------------
"$serve" "$db" 0 "$threads" > "$dir/serve.out" 2> "$dir/serve.log" &
spid=$!
trap 'kill -TERM $spid 2>/dev/null; wait $spid 2>/dev/null || true' EXIT
port=""
for _ in $(seq 100); do
  port=$(sed -n 's/^ready \([0-9]*\)$/\1/p' "$dir/serve.out")
  [ -n "$port" ] && break
  kill -0 $spid 2>/dev/null || die "the server did not start: $(cat "$dir/serve.log")"
  sleep 0.1
done
[ -n "$port" ] || die "the server did not say ready within 10 s"
base="http://127.0.0.1:$port/api/v1/parks/bench"
tok=bench-token
month="from=2025-06-01T00:00:00%2B08:00&to=2025-07-01T00:00:00%2B08:00"
year="from=2025-01-01T00:00:00%2B08:00&to=2026-01-01T00:00:00%2B08:00"
series="$base/series?ent=e042&point=stack-1&metric=so2&$month&step=1h"

figure() { # name url n
  local out
  out=$(timeout $(( max_s + 60 )) "$load" "$2" "$tok" "$3" "$max_s") || die "$1: the request failed"
  printf '%-44s %s\n' "$1" "$out"
}

echo "database: $rows hourly rollup rows, $size_mb MiB; API: $threads threads on 127.0.0.1:$port; $(nproc) cores"
echo "-- latency, one client, keep-alive (ms)"
figure "summary, 100 enterprises, one month" "$base/summary?$month" "$n_summary"
figure "summary, 100 enterprises, one year" "$base/summary?$year" "$n_year"
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
