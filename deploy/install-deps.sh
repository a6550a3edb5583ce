#!/usr/bin/env bash
# Installs the Debian packages that building, testing and the demo need,
# but only those that are missing (checked by a file each installs, so a
# machine with everything present never touches apt).
set -euo pipefail

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
  "tzdata:/usr/share/zoneinfo/Asia/Shanghai"
)
missing=()
for p in "${pkgs[@]}"; do
  [ -e "${p#*:}" ] || missing+=("${p%%:*}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
# Installing mosquitto starts a system broker on 1883 on some machines; the
# demo and the tests run their own broker on a port of their own.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
