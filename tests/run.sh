#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a tested build:
# installs missing packages, configures, builds and runs every test (ctest).
#
#   tests/run.sh                      normal build in build/
#   SANITIZE=address,undefined tests/run.sh   ASan+UBSan build in build-asan/
#
# Exits non-zero when anything fails. BUILD_DIR overrides the build folder.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

deploy/install-deps.sh

sanitize=${SANITIZE:-}
if [ -n "$sanitize" ]; then
  build=${BUILD_DIR:-build-asan}
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
else
  build=${BUILD_DIR:-build}
fi

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSANITIZE="$sanitize" -DBUILD_TESTING=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
# Criterion reports a test as passed even when LeakSanitizer or UBSan spoke in
# its worker, so the full output is kept and searched for their reports.
log=ctest-output.log
# Tests run two at a time (one per core): the long ones mostly wait (outages,
# timers, bounded fuzzing), every test has its own ports and folders, and the
# whole of .ci/run must stay under 35 minutes on a 2-core machine.
set +e
ctest --output-on-failure -V -j"$(nproc)" --timeout 600 >"$log" 2>&1
rc=$?
set -e
grep -E '^ *[0-9]+/[0-9]+ Test +#' "$log" || true
if grep -nE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log"; then
  echo "tests/run.sh: a sanitizer reported errors (above; full output in $build/$log)"
  rc=1
fi
if [ $rc -ne 0 ]; then
  echo "---- last 150 lines of $build/$log ----"
  tail -n 150 "$log"
fi
# ctest's own closing lines (the summary) come last.
sed -n '/tests passed, /,$p' "$log"
exit $rc
