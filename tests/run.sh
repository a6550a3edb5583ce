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

# Debian package name : a file it installs (checked without apt's lock).
pkgs=(
  "cmake:/usr/bin/cmake"
  "make:/usr/bin/make"
  "gcc:/usr/bin/gcc"
  "pkg-config:/usr/bin/pkg-config"
  "libpaho-mqtt-dev:/usr/include/MQTTAsync.h"
  "libssl-dev:/usr/include/openssl/ssl.h"
  "libcjson-dev:/usr/include/cjson/cJSON.h"
  "libsqlite3-dev:/usr/include/sqlite3.h"
  "sqlite3:/usr/bin/sqlite3"
  "libcriterion-dev:/usr/include/criterion/criterion.h"
  "mosquitto:/usr/sbin/mosquitto"
  "mosquitto-clients:/usr/bin/mosquitto_sub"
  "python3-jsonschema:/usr/lib/python3/dist-packages/jsonschema/__init__.py"
)
missing=()
for p in "${pkgs[@]}"; do
  [ -e "${p#*:}" ] || missing+=("${p%%:*}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "tests/run.sh: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  # The mosquitto package starts a system broker on 1883; our tests never use it.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

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
ctest --output-on-failure -j1 --timeout 600
