#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS] — builds the libFuzzer targets (batch decoder,
# hub and agent config loaders, HJ 212 framer+parser+mapping, MQTT topics,
# cmd/ack payloads, the API's argument values) with clang
# (ASan+UBSan, in build-fuzz/ next to the repository's build/) and runs each
# for SECONDS (default $FUZZ_SECONDS or 20; 10 when SANITIZE is set, i.e.
# CI's second pass, which has run the same targets already: a bounded slice
# that keeps .ci/run within its budget; long runs: docs/fuzzing.md) from its seed
# corpus in the repository plus what earlier runs found (build-fuzz/corpus).
# Installs clang and its fuzzer runtime when missing. Prints each target's
# executions and "N passed, M failed"; a crash, leak or timeout fails (the
# input is kept in build-fuzz/crashes/TARGET/ and printed as a path).
# FUZZ_JOBS: parallel compile jobs for the build (default: nproc; 1 on a
# shared machine).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
secs=${1:-${FUZZ_SECONDS:-20}}
[ -n "${SANITIZE:-}" ] && [ -z "${1:-}" ] && [ -z "${FUZZ_SECONDS:-}" ] && secs=10
build=${FUZZ_BUILD_DIR:-$repo/build-fuzz}

need=()
command -v clang >/dev/null || need+=(clang)
dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q 'install ok installed' || need+=(libclang-rt-14-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "fuzz: installing ${need[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ ! -e "$build/CMakeCache.txt" ]; then
  CC=clang cmake -S "$repo" -B "$build" -DPH_FUZZ=ON -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
targets=(fuzz_batch fuzz_hub_config fuzz_agent_config fuzz_hj212 fuzz_topic fuzz_ack_cmd fuzz_api_args)
cmake --build "$build" -j"${FUZZ_JOBS:-$(nproc)}" --target "${targets[@]}" >"$build/fuzz-build.log" 2>&1 ||
  { tail -30 "$build/fuzz-build.log"; echo "0 passed, 1 failed"; exit 1; }

# seeds TARGET: the repository's seed directories of a target
seeds() {
  case "$1" in
    fuzz_batch) echo "$repo/tests/data/batches" ;;
    fuzz_hub_config) echo "$repo/tests/data/schemas/hub-config $build/seeds/deploy-hub" ;;
    fuzz_agent_config) echo "$repo/tests/data/schemas/agent-config $build/seeds/deploy-agent" ;;
    fuzz_hj212) echo "$repo/tests/fuzz/corpus/hj212" ;;
    fuzz_topic) echo "$repo/tests/fuzz/corpus/topic" ;;
    fuzz_ack_cmd) echo "$repo/tests/fuzz/corpus/ack_cmd" ;;
    fuzz_api_args) echo "$repo/tests/fuzz/corpus/api_args" ;;
  esac
}
# dict TARGET: its libFuzzer dictionary (JSON tokens unless the input is no JSON)
dict() {
  case "$1" in
    fuzz_topic) echo "$here/topic.dict" ;;
    fuzz_api_args) echo "$here/api_args.dict" ;;
    *) echo "$here/json.dict" ;;
  esac
}
mkdir -p "$build/seeds/deploy-hub" "$build/seeds/deploy-agent"
cp "$repo"/deploy/hub*.json "$build/seeds/deploy-hub/" 2>/dev/null || true
cp "$repo"/deploy/agent*.json "$build/seeds/deploy-agent/" 2>/dev/null || true

passed=0 failed=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}:abort_on_error=1
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}:halt_on_error=1
for t in "${targets[@]}"; do
  corpus=$build/corpus/$t crashes=$build/crashes/$t
  mkdir -p "$corpus" "$crashes"
  log=$build/$t.log
  # shellcheck disable=SC2046
  set +e
  (cd "$crashes" && "$build/tests/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
     -max_len=65536 -dict="$(dict "$t")" -print_final_stats=1 -artifact_prefix="$crashes/" \
     "$corpus" $(seeds "$t")) >"$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ $rc -eq 0 ]; then
    passed=$((passed + 1))
    echo "fuzz $t: ${runs:-?} executions in ${secs} s, no crash (corpus $(ls "$corpus" | wc -l) inputs)"
  else
    failed=$((failed + 1))
    echo "fuzz $t: FAILED after ${runs:-?} executions (exit $rc); artifacts:"
    ls -1 "$crashes"/* 2>/dev/null || true
    grep -E 'ERROR|SUMMARY|runtime error' "$log" | head -10 || true
  fi
  printf '%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "${runs:-0}" "$rc" >>"$build/fuzz-history.tsv"
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
