#!/usr/bin/env bash
# tests/browser/run.sh [BUILD_DIR] — the dashboard in a real browser.
#
# Installs what it needs when missing (Debian's chromium, nodejs, npm, curl, a CJK font;
# playwright-core from the npm registry, pinned in package-lock.json, told
# never to fetch a browser of its own) and names a tool still missing as the
# reason it cannot run. Runs the demo (deploy/demo.sh: broker, hub with the
# HTTP API, three simulated smelters) on free loopback ports in a temp dir,
# waits for the hub to answer, and runs dashboard.mjs against it with the
# demo's manager token. The screenshot lands in BUILD_DIR/dashboard.png.
# Bounded: the demo stops itself after DEMO_SECONDS, the node script's waits
# are bounded. Exit 0 only when every check passed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$(cd "${1:-${BUILD_DIR:-$repo/build}}" && pwd)

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
command -v curl >/dev/null || need+=(curl)      # the readiness check below
[ -x /usr/bin/python3 ] || need+=(python3)      # free_port
# Chinese glyphs for the zh-CN page and its screenshot (the checks read text,
# not pixels: without the font only the screenshot suffers).
dpkg-query -W -f='${Status}' fonts-wqy-microhei 2>/dev/null | grep -q 'install ok installed' || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -gt 0 ]; then
  echo "browser test: installing ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# A tool that is still missing is named as the reason, never blamed on the hub.
for tool in /usr/bin/chromium node npm curl /usr/bin/python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "browser test: cannot run: $tool is not installed (and installing ${need[*]:-nothing} did not bring it)"
    echo "0 passed, 1 failed"
    exit 1
  fi
done
# playwright-core as package-lock.json pins it (1.61: the last that runs on
# Debian 12's Node.js 18); again when node_modules holds another version.
want=$(sed -n 's/^ *"playwright-core": "\(.*\)"$/\1/p' "$here/package.json")
have=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$here/node_modules/playwright-core/package.json" 2>/dev/null || true)
if [ "$have" != "$want" ]; then
  (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mqtt_port=$(free_port)
http_port=$(free_port)
while [ "$http_port" = "$mqtt_port" ]; do http_port=$(free_port); done
work=$(mktemp -d /tmp/parkhub-browser-XXXXXX)
demo_pid=""
cleanup() {
  if [ -n "$demo_pid" ] && kill -0 "$demo_pid" 2>/dev/null; then
    kill -TERM "$demo_pid" 2>/dev/null || true
    wait "$demo_pid" 2>/dev/null || true
  fi
  [ -n "${PHT_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

# Two parks: the regulator (every park) gets the dashboard's all-parks view.
PARKHUB_MQTT_PORT=$mqtt_port PARKHUB_HTTP_PORT=$http_port PARKHUB_DEMO_DIR=$work PARKHUB_DEMO_PARKS=2 \
  PARKHUB_DEMO_SECONDS=${DEMO_SECONDS:-300} BUILD_DIR=$build \
  "$repo/deploy/demo.sh" >"$work/demo.out" 2>&1 &
demo_pid=$!

# Ready: /healthz answers and the demo has written its tokens. curl's exit
# status tells "not up yet" (7 refused, 28 timed out, 52/56 nothing or a
# broken answer, 22 an HTTP error) from "the check itself cannot run"
# (127 not found, 2 bad option, …): then waiting longer is pointless.
ready="" crc=0
for _ in $(seq 600); do
  crc=0
  curl -sS -f --max-time 5 --noproxy '*' -o /dev/null "http://127.0.0.1:$http_port/healthz" 2>"$work/curl.err" || crc=$?
  if [ $crc -eq 0 ] && [ -s "$work/tokens.txt" ]; then
    ready=1
    break
  fi
  case $crc in 0 | 7 | 22 | 28 | 52 | 56) ;; *) break ;; esac
  kill -0 "$demo_pid" 2>/dev/null || break
  sleep 0.2
done
if [ -z "$ready" ]; then
  last_curl="curl exit $crc: $(tr '\n' ' ' <"$work/curl.err" 2>/dev/null)"
  case $crc in
  0 | 7 | 22 | 28 | 52 | 56)
    if ! kill -0 "$demo_pid" 2>/dev/null; then
      echo "browser test: the demo exited before its hub was ready (last check: $last_curl); its output:"
    elif [ $crc -eq 0 ]; then
      echo "browser test: the hub answers /healthz but the demo wrote no tokens.txt within about 2 minutes; its output:"
    else
      echo "browser test: the demo hub did not answer /healthz within about 2 minutes (last check: $last_curl); its output:"
    fi
    ;;
  *)
    echo "browser test: the readiness check could not run ($last_curl); the demo's output so far:"
    ;;
  esac
  { cat "$work/demo.out" "$work/parkhub.log" 2>/dev/null || true; } | tail -40 # no parkhub.log yet: not an error
  echo "0 passed, 1 failed"
  exit 1
fi
token=$(awk '$1 == "manager" {print $2}' "$work/tokens.txt")
# The regulator's token (no acknowledge control) and the pid of the demo's
# gw-c agent (stopped at the end: its enterprise goes offline).
regulator=$(awk '$1 == "regulator" {print $2}' "$work/tokens.txt")
offline_pid=$(ps -o pid=,args= --ppid "$demo_pid" | awk -v c="$work/agent-c.json" 'index($0, c) {print $1; exit}')
set +e
PH_REGULATOR_TOKEN=$regulator PH_OFFLINE_PID=$offline_pid node "$here/dashboard.mjs" "http://127.0.0.1:$http_port/" "$token" "$build/dashboard.png"
rc=$?
set -e
if [ $rc -ne 0 ]; then
  echo "---- hub log (tail) ----"
  tail -30 "$work/parkhub.log" 2>/dev/null || true
fi
exit $rc
