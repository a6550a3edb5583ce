#!/usr/bin/env bash
# tests/security/run.sh BUILD_DIR — the production set-up, for real:
#
#  1. deploy/production/make-park.sh makes the CA, certificates, passwords,
#     ACL and Mosquitto config of a test park (two enterprises) from its hub
#     config; Mosquitto runs that config (TLS only, mutual TLS, no anonymous
#     access) on a free loopback port;
#  2. a real parkhub and a real parkagent (simulator) connect with their
#     generated credentials and certificates: records are stored and acked;
#  3. the broker refuses a client without credentials, with a wrong
#     password, without a client certificate, and one whose CA is not the
#     park's (mosquitto_pub and parkagent alike); a publish larger than the
#     hub accepts (max_packet_size) is refused and the hub's peak memory
#     (VmHWM) does not jump;
#  4. an agent that publishes under another enterprise's topic, and a
#     manager that publishes events, are refused by the ACL: the hub never
#     sees those batches; the manager may acknowledge (cmd/ack);
#  5. deploy/systemd units pass `systemd-analyze verify` (binaries from BUILD_DIR).
#
# The hub's own identity check (a misconfigured broker that lets a spoofed
# batch through) is tests/integration/test_hub_ingest.c; API tokens (401/403)
# are tests/integration/test_hub_http.c. Bounded: every wait has a limit.
# Prints "N passed, M failed"; exit 0 only when all passed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$repo/build}" && pwd)
hub_bin=$build/hub/parkhub
agent_bin=$build/agents/parkagent
for b in "$hub_bin" "$agent_bin"; do [ -x "$b" ] || { echo "security: $b is not built"; echo "0 passed, 1 failed"; exit 1; }; done
need=()
command -v openssl >/dev/null || need+=(openssl)
command -v systemd-analyze >/dev/null || need+=(systemd)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

work=$(mktemp -d /tmp/parkhub-security-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  wait 2>/dev/null
  [ -n "${PHT_KEEP:-}" ] && echo "security: files kept in $work" || rm -rf "$work"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
# wait_for SECONDS CMD...: true once CMD succeeds
wait_for() { local n=$(( $1 * 10 )); shift; for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done; return 1; }
sql() { sqlite3 -readonly "$work/hub.db" "$1" 2>/dev/null; }

# ---- 1. the park, made from its hub config --------------------------------
cat >"$work/hub-base.json" <<CONF
{"hub_id": "sec-hub", "mqtt": {"uris": ["tcp://unused:1"]}, "db": {"path": "$work/hub.db", "min_free_mb": 0},
 "parks": [{"id": "p1", "tz": "Asia/Shanghai", "enterprises": [
   {"id": "ent-a", "sector": "cu", "class": "existing", "agents": ["gw-a"], "expected_interval_s": 1},
   {"id": "ent-b", "sector": "cu", "class": "new", "agents": ["gw-b"], "expected_interval_s": 1}]}]}
CONF
user_opt=()
[ "$(id -u)" -eq 0 ] && user_opt=(--broker-user root) # the test's files are root's
if "$repo/deploy/production/make-park.sh" --hub-config "$work/hub-base.json" --out "$work/park" --host localhost \
     --port "$port" --bind 127.0.0.1 --mutual-tls "${user_opt[@]}" >"$work/make-park.log" 2>&1; then
  ok "make-park.sh made the park's CA, certificates, passwords and ACL"
else
  bad "make-park.sh: $(cat "$work/make-park.log")"; echo "$passed passed, $failed failed"; exit 1
fi
park=$work/park
check "an agent may write only under its own park/ent/agent" \
  grep -qx 'topic write parkhub/v1/p1/ent-a/gw-a/ev/#' "$park/acl"
check "the config allows no anonymous client and only TLS" \
  bash -c "grep -qx 'allow_anonymous false' '$park/mosquitto.conf' && ! grep -q '^listener [0-9]*$' '$park/mosquitto.conf' && grep -q '^certfile' '$park/mosquitto.conf'"
check "make-park.sh refuses to overwrite the park's CA" \
  bash -c "! '$repo/deploy/production/make-park.sh' --hub-config '$work/hub-base.json' --out '$park' >/dev/null 2>&1"

/usr/sbin/mosquitto -c "$park/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
pids+=($!)
if ! wait_for 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
  bad "mosquitto did not start: $(tail -5 "$work/mosquitto.log")"; echo "$passed passed, $failed failed"; exit 1
fi

# ---- 2. hub and agent with their generated credentials ---------------------
/usr/bin/python3 - "$work/hub-base.json" "$park/hub/mqtt.json" "$work/hub.json" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1])); cfg["mqtt"] = json.load(open(sys.argv[2]))
cfg["mqtt"]["reconnect_min_ms"] = 100; cfg["mqtt"]["reconnect_max_ms"] = 1000
json.dump(cfg, open(sys.argv[3], "w"), indent=1)
PY
# agent_cfg NAME ENT AGENT MQTT_JSON [CA]: an agent config with the sim source
agent_cfg() {
  /usr/bin/python3 - "$@" "$work" <<'PY'
import json, sys
name, ent, agent, mqtt, ca, work = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
m = json.load(open(mqtt)); m["reconnect_min_ms"] = 100; m["reconnect_max_ms"] = 1000
if ca != "-": m["tls"]["ca"] = ca
cfg = {"park": "p1", "ent": ent, "agent": agent, "mqtt": m,
       "batch": {"max_records": 20, "max_delay_ms": 200},
       "outbox": {"path": f"{work}/{name}-outbox.db"},
       "sources": [{"type": "sim", "name": "smelter", "seed": 7, "rate_hz": 20}]}
json.dump(cfg, open(f"{work}/{name}.json", "w"), indent=1)
PY
}
agent_cfg agent-a ent-a gw-a "$park/agents/p1/ent-a/gw-a/mqtt.json" -
"$hub_bin" --config "$work/hub.json" >"$work/hub.log" 2>&1 &
hub_pid=$!
pids+=($hub_pid)
# The hub subscribes first, as in a park: batches published to a fresh broker
# before the hub's first subscription are dropped, and the agent sends them
# again only after outbox.resend_after_s (30 s), longer than the waits below.
hub_subscribed() { grep -q "subscribed to" "$work/hub.log"; }
wait_for 20 hub_subscribed || true
"$agent_bin" --config "$work/agent-a.json" >"$work/agent-a.log" 2>&1 &
pids+=($!)
stored() { [ "$(sql "SELECT coalesce(sum(nrecords),0) FROM samples")" -gt 0 ] 2>/dev/null; }
check "hub and agent connect over mutual TLS with their own users; records are stored" wait_for 60 stored
# An acked batch leaves the agent's outbox: batch 1 existed (records are
# stored), so an outbox without it has received an ack through the broker.
acked() {
  local m
  m=$(sqlite3 -readonly "$work/agent-a-outbox.db" "SELECT coalesce(min(seq), 0) FROM batches" 2>/dev/null) || return 1
  [ "$m" = 0 ] || [ "$m" -gt 1 ]
}
check "the hub's acks reach the agent through the ACL (acked batches leave its outbox)" wait_for 60 acked
online() { [ "$(sql "SELECT count(*) FROM agent_status WHERE state = 'online'")" = 1 ]; }
check "the agent's retained status (and will) pass the ACL" wait_for 10 online

# ---- 3. who the broker refuses ---------------------------------------------
CA=$park/ca/ca.crt
A=$park/agents/p1/ent-a/gw-a
a_user=p1.ent-a.gw-a
a_pass=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["password"])' "$A/mqtt.json")
topic_a=parkhub/v1/p1/ent-a/gw-a/ev/emission
pub() { timeout 10 mosquitto_pub -h localhost -p "$port" -q 1 "$@" >>"$work/pub.log" 2>&1; }
refused() { ! pub "$@"; }
not() { ! "$@"; }
check "no credentials: refused" refused --cafile "$CA" --cert "$A/agent.crt" --key "$A/agent.key" -t "$topic_a" -m x
check "a wrong password: refused" refused --cafile "$CA" --cert "$A/agent.crt" --key "$A/agent.key" -u "$a_user" -P wrong -t "$topic_a" -m x
check "no client certificate (mutual TLS): refused" refused --cafile "$CA" -u "$a_user" -P "$a_pass" -t "$topic_a" -m x
check "plain TCP to the TLS listener: refused" refused -u "$a_user" -P "$a_pass" -t "$topic_a" -m x
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=not the park" \
  -keyout "$work/other-ca.key" -out "$work/other-ca.crt" 2>/dev/null
check "a CA that did not sign the broker: mosquitto_pub fails" refused --cafile "$work/other-ca.crt" --cert "$A/agent.crt" --key "$A/agent.key" -u "$a_user" -P "$a_pass" -t "$topic_a" -m x
check "the right credentials: accepted" pub --cafile "$CA" --cert "$A/agent.crt" --key "$A/agent.key" -u "$a_user" -P "$a_pass" \
  -t parkhub/v1/p1/ent-a/gw-a/status -r -m '{"v":1,"agent":"gw-a","state":"online","ts":"2026-01-01T00:00:00Z"}'

agent_cfg agent-b-wrongca ent-b gw-b "$park/agents/p1/ent-b/gw-b/mqtt.json" "$work/other-ca.crt"
"$agent_bin" --config "$work/agent-b-wrongca.json" >"$work/agent-b-wrongca.log" 2>&1 &
wpid=$!
pids+=($wpid)
sleep 3
ent_b_seen() { [ "$(sql "SELECT count(*) FROM agents WHERE ent = 'ent-b'")" != 0 ]; }
check "parkagent with the wrong CA never connects (the hub never hears of ent-b)" not ent_b_seen
check "parkagent says why it cannot connect" grep -qiE 'ssl|tls|certificate|handshake' "$work/agent-b-wrongca.log"
kill -TERM "$wpid" 2>/dev/null

# ---- 3b. packets larger than the hub accepts -------------------------------
# make-park.sh sets max_packet_size to the hub's PH_MQTT_MAX_PACKET_BYTES:
# the broker drops a bigger PUBLISH (and its sender) before buffering it, so
# the hub's Paho, which reads a whole packet before the hub sees its size,
# never gets it. VmHWM: the hub's peak resident memory, in kB.
check "make-park.sh sets the broker's max_packet_size to the hub's limit (263168)" \
  grep -qx 'max_packet_size 263168' "$park/mosquitto.conf"
hwm() { awk '/^VmHWM:/ {print $2}' "/proc/$hub_pid/status"; }
hwm0=$(hwm)
head -c $((64 * 1024 * 1024)) /dev/zero | tr '\0' x >"$work/big.txt"
check "a 64 MiB publish from a valid agent is refused by the broker" refused --cafile "$CA" --cert "$A/agent.crt" \
  --key "$A/agent.key" -u "$a_user" -P "$a_pass" -t "$topic_a" -f "$work/big.txt"
rm -f "$work/big.txt"
check "the broker says why" grep -q "disconnected due to oversize packet" "$work/mosquitto.log"

# ---- 4. what the ACL refuses -----------------------------------------------
now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
batch_b='{"v":1,"agent":"gw-b","epoch":9,"seq":1,"oldest":1,"sent":"'$now'","records":[{"ts":"'$now'","point":"stack-1","values":{"so2":10}}]}'
pub --cafile "$CA" --cert "$A/agent.crt" --key "$A/agent.key" -u "$a_user" -P "$a_pass" \
  -t parkhub/v1/p1/ent-b/gw-b/ev/emission -m "$batch_b"
M=$park/managers/p1
m_pass=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["password"])' "$M/mqtt.json")
pub --cafile "$CA" --cert "$M/manager.crt" --key "$M/manager.key" -u manager.p1 -P "$m_pass" \
  -t parkhub/v1/p1/ent-b/gw-b/ev/emission -m "$batch_b"
check "a manager may publish cmd/ack" pub --cafile "$CA" --cert "$M/manager.crt" --key "$M/manager.key" -u manager.p1 -P "$m_pass" \
  -t parkhub/v1/p1/cmd/ack -m '{"alarm_id":"a-19700101-000001","by":"security test"}'
wait_for 10 grep -q 'cmd/ack from security test' "$work/hub.log"
check "the manager's cmd/ack reached the hub" grep -q 'cmd/ack from security test' "$work/hub.log"
# Everything published before the cmd/ack has reached the hub by now (one
# broker, in order per client): the refused batches (and the oversize
# publish of 3b) left no trace.
hwm1=$(hwm)
check "the hub's peak memory did not jump with the oversize publish (VmHWM $hwm0 -> $hwm1 kB)" \
  test $((hwm1 - hwm0)) -lt $((16 * 1024))
check "gw-a writing under ent-b's topic, and a manager writing events, reach nothing" \
  bash -c "$(declare -f sql); work='$work'; [ \"\$(sql \"SELECT count(*) FROM agents WHERE ent = 'ent-b'\")\" = 0 ] && [ \"\$(sql 'SELECT count(*) FROM rejects')\" = 0 ]"

# ---- 5. systemd units --------------------------------------------------------
mkdir -p "$work/units"
for u in parkhub.service parkagent@.service; do
  sed -e "s#/usr/local/bin/parkhub#$hub_bin#g" -e "s#/usr/local/bin/parkagent#$agent_bin#g" \
    "$repo/deploy/systemd/$u" >"$work/units/$u"
done
cp "$work/units/parkagent@.service" "$work/units/parkagent@smelter.service"
for u in parkhub.service parkagent@smelter.service; do
  out=$(cd "$work/units" && systemd-analyze verify "$work/units/$u" 2>&1)
  if [ $? -eq 0 ] && [ -z "$out" ]; then ok "systemd-analyze verify $u: clean"; else bad "systemd-analyze verify $u: $out"; fi
done
for u in parkhub.service parkagent@.service; do
  for key in NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes DynamicUser=yes Restart=; do
    grep -q "^$key" "$repo/deploy/systemd/$u" || bad "$u lacks $key"
  done
done

if [ $failed -gt 0 ]; then
  echo "---- hub log (tail) ----"; tail -20 "$work/hub.log"
  echo "---- mosquitto log (tail) ----"; tail -20 "$work/mosquitto.log"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
