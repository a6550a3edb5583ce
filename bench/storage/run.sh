#!/usr/bin/env bash
# bench/storage/run.sh [BUILD_DIR] — how much disk a park's CEMS data takes
# (README.md here). Builds ph_bench_storage in BUILD_DIR and runs it on
# BENCH_DAYS [7] days of 1-minute data of BENCH_ENTS [100] enterprises in
# BENCH_DIR [BUILD_DIR/bench-storage]; the figures are extrapolated to a
# year. Bounded: the program stops with an error when its writer has not
# drained in 10 minutes; the whole run is cut after BENCH_MAX_S [1800] s.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-${BUILD_DIR:-$repo/build}}
mkdir -p "$build"
build=$(cd "$build" && pwd)
if [ ! -e "$build/CMakeCache.txt" ]; then
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
fi
cmake --build "$build" -j "${BENCH_JOBS:-1}" --target ph_bench_storage >/dev/null
dir=${BENCH_DIR:-$build/bench-storage}
mkdir -p "$dir"
timeout "${BENCH_MAX_S:-1800}" "$build/bench/storage/ph_bench_storage" "$dir" "${BENCH_DAYS:-7}" "${BENCH_ENTS:-100}" \
  2> "$dir/storage.log"
