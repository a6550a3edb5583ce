#!/usr/bin/env bash
# Installs the Debian packages that building, testing, the demo and the
# benchmarks need, but only those that are missing (asked of dpkg, so a
# machine with everything present never touches apt). Every command the
# repository's scripts run comes from minimal Debian 12 or from a package
# named here (or in the one script that needs it): tests/deps checks that.
set -euo pipefail

pkgs=(
  cmake make gcc pkg-config
  libpaho-mqtt-dev libssl-dev libcjson-dev libjsmn-dev libsqlite3-dev sqlite3 libcriterion-dev
  libcurl4-openssl-dev libmicrohttpd-dev libgnutls28-dev
  mosquitto mosquitto-clients openssl
  python3 python3-jsonschema tzdata
  libmodbus-dev clang libclang-rt-14-dev
  # commands that minimal Debian 12 lacks: curl (the browser test's readiness
  # check, the demo's and the README's API examples), pgrep (bench/ingest)
  curl procps
  # the clustered broker of deploy/cluster and tests/cluster (label cluster)
  rabbitmq-server erlang-base
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
# Installing mosquitto starts a system broker on 1883 on some machines; the
# demo and the tests run their own broker on a port of their own.
# rabbitmq-server's package starts a system node on 5672 where an init system
# runs; deploy/cluster runs its own nodes on ports of their own.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The system RabbitMQ node listens on every interface (5672, and epmd on
# 4369): parkhub needs none of it (deploy/cluster starts nodes of its own on
# 127.0.0.1), so where an init system started it, it is stopped and disabled.
if [[ " ${missing[*]} " == *" rabbitmq-server "* ]] && [ -d /run/systemd/system ]; then
  $sudo systemctl disable --now rabbitmq-server.service epmd.socket epmd.service >/dev/null 2>&1 || true
fi
