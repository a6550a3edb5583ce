#!/usr/bin/env bash
# Builds the HJ 212 fuzz target with the distribution's clang and libFuzzer
# (-fsanitize=fuzzer,address,undefined) and runs it for a bounded time over
# the seed corpus tests/fuzz/corpus/hj212/ (seeded from the public sample
# packets in tests/data/hj212/samples.txt). ctest runs it as fuzz_hj212.
#
#   tests/fuzz/run.sh BUILD_DIR [SECONDS]     default 60 s (FUZZ_SECONDS overrides)
#
# It compiles its own copy of the code it needs (the HJ 212 files and the
# parts of common/ they use) with clang, so it runs the same in the plain
# and in the SANITIZE (gcc ASan) builds. New inputs found go to
# BUILD_DIR/fuzz/corpus (the seeds in the repository are not touched);
# a crash leaves its input in BUILD_DIR/fuzz/ (crash-*) and fails the run.
# Installs clang and libclang-rt-14-dev when missing.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: run.sh BUILD_DIR [SECONDS]}" && pwd)
secs=${FUZZ_SECONDS:-${2:-60}}
out=$build/fuzz
mkdir -p "$out/corpus"

need=()
command -v clang >/dev/null || need+=(clang)
dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q 'install ok installed' || need+=(libclang-rt-14-dev)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

catalog_c=$build/common/catalog_data.c
[ -f "$catalog_c" ] || cmake -DIN="$here/schemas/metrics.json" -DOUT="$out/catalog_data.c" \
  -DSYM=ph_catalog_builtin_json -P "$here/common/embed.cmake"
[ -f "$catalog_c" ] || catalog_c=$out/catalog_data.c

src=(tests/fuzz/fuzz_hj212.c agents/hj212_frame.c agents/hj212_parse.c agents/hj212_map.c
     common/err.c common/log.c common/alloc.c common/ids.c common/kind.c common/timefmt.c common/catalog.c
     common/batch_decode.c common/jsonfile.c common/cfgmap.c common/tz.c)
(cd "$here" && clang -std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Wall -Wextra -Werror \
  -Iinclude "${src[@]}" "$catalog_c" -lcjson -lm -o "$out/fuzz_hj212")

log=$out/fuzz_hj212.log
# Leaks are checked (libFuzzer's -detect_leaks), not the run's global ASAN_OPTIONS' abort mode.
set +e
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  "$out/fuzz_hj212" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -max_len=12000 \
  -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" "$here/tests/fuzz/corpus/hj212" >"$log" 2>&1
rc=$?
set -e
grep -E '^#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|stat::new_units_added' "$log" || true
if [ $rc -ne 0 ]; then
  echo "fuzz_hj212: FAILED (exit $rc); input and report in $out (crash-*, $log):"
  tail -n 60 "$log"
  exit 1
fi
echo "fuzz_hj212: ${secs} s, no crash (corpus $(ls "$out/corpus" | wc -l) inputs)"
