#!/usr/bin/env bash
# cluster.sh — a 3-node RabbitMQ cluster with the MQTT plugin and quorum
# queues on ONE host, for trying parkhub on a clustered broker and for the
# tests of the `cluster` label (tests/cluster). Three hosts with TLS:
# README.md beside this file.
#
#   cluster.sh start DIR [BASE]      start 3 nodes under DIR, clustered; BASE (default 25670) picks the ports:
#                                    MQTT BASE+1..3, AMQP BASE+11..13, Erlang distribution BASE+21..23,
#                                    CLI BASE+31..39, epmd BASE+40; all on 127.0.0.1
#   cluster.sh add-hub DIR USER PASSWORD              a hub's user: reads and writes every parkhub/ topic
#   cluster.sh add-agent DIR PARK ENT AGENT PASSWORD  an agent's user (named AGENT): writes only its own topics
#   cluster.sh add-uplink DIR USER PASSWORD PARK HUB_ID  a park hub's upstream user (federation): writes only
#                                    parkhub/v1/PARK/hub/HUB_ID/up, reads only its .../up/ack
#   cluster.sh kill DIR N            SIGKILL node N (1..3): a node's death
#   cluster.sh start-node DIR N      start node N again (it rejoins)
#   cluster.sh stop DIR              stop every node cleanly (then SIGKILL what is left after 60 s)
#   cluster.sh uris DIR              the MQTT URIs, one per line (what mqtt.uris takes)
#
# Everything the nodes write (config, cookie, data, logs, pid files) stays
# under DIR. The /usr/sbin wrappers switch to the rabbitmq user; this runs
# /usr/lib/rabbitmq/bin/* directly as the calling user. Needs the Debian
# package rabbitmq-server (deploy/install-deps.sh installs it). Every wait
# is bounded; a failure prints the node's log tail and exits non-zero.
#
# Equivalence with the Mosquitto ACL (deploy/production): RabbitMQ checks
# MQTT topics as AMQP routing keys on amq.topic, '/' turned into '.'; an
# agent may write parkhub.v1.PARK.ENT.AGENT.ev.KIND and .status and read its
# .ack and the park's hub topic, nothing else. parkhub ids never contain
# '.' (include/parkhub/ids.h), so the mapping is one to one.
set -euo pipefail

RMQ=/usr/lib/rabbitmq/bin
NODES=3
# A first start took 30-45 s here, but once (a build and a benchmark beside
# it) not within 90 s: each node gets WAIT_S, so the test's 300 s for one
# cluster.sh command still covers a start.
WAIT_S=${PH_CLUSTER_WAIT_S:-150}
# A node that comes back after a SIGKILL took 9 s here, but once (CI's
# sanitizer pass, loaded 2-core machine) not within 90 s: a restart gets
# RESTART_WAIT_S, and a node still not up then is killed and started once
# more.
RESTART_WAIT_S=${PH_CLUSTER_RESTART_WAIT_S:-120}

die() { echo "cluster.sh: $*" >&2; exit 1; }
[ -x "$RMQ/rabbitmq-server" ] || die "$RMQ/rabbitmq-server missing: install the Debian package rabbitmq-server (deploy/install-deps.sh)"

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { sed -n '2,18p' "$0" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

base() { cat "$dir/base" 2>/dev/null || die "$dir: no cluster started there"; }

# The environment every rabbitmq command of node i needs (i = 1..3).
node_env() {
  local i=$1 b; b=$(base)
  export HOME="$dir"                       # .erlang.cookie: one cookie for all nodes and the CLI
  export ERL_EPMD_PORT=$((b + 40)) ERL_EPMD_ADDRESS=127.0.0.1
  export RABBITMQ_NODENAME="phnode$i@localhost" RABBITMQ_USE_LONGNAME=false
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$((b + 10 + i)) RABBITMQ_DIST_PORT=$((b + 20 + i))
  export RABBITMQ_CTL_DIST_PORT_MIN=$((b + 31)) RABBITMQ_CTL_DIST_PORT_MAX=$((b + 39))
  export RABBITMQ_CONFIG_FILE="$dir/node$i/rabbitmq.conf" RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
  export RABBITMQ_MNESIA_BASE="$dir/node$i/mnesia" RABBITMQ_LOG_BASE="$dir/node$i/log"
  export RABBITMQ_PID_FILE="$dir/node$i/pid" RABBITMQ_CONF_ENV_FILE=/dev/null
  export RABBITMQ_LOGS="$dir/node$i/log/node.log"
}

ctl() { local i=$1; shift; (node_env "$i"; "$RMQ/rabbitmqctl" -q "$@"); }

write_config() {
  local i=$1 b; b=$(base)
  mkdir -p "$dir/node$i/mnesia" "$dir/node$i/log"
  cat >"$dir/node$i/rabbitmq.conf" <<EOF
# node $i of the parkhub try-out cluster (deploy/cluster/cluster.sh)
listeners.tcp.default = 127.0.0.1:$((b + 10 + i))
mqtt.listeners.tcp.default = 127.0.0.1:$((b + i))
mqtt.allow_anonymous = false
mqtt.vhost = /
mqtt.exchange = amq.topic
# A session's queue survives its node (DESIGN.md, Scale: measured).
mqtt.durable_queue_type = quorum
# The hub's session may hold a backlog; parkhub bounds it end to end (the
# agents' outboxes), so the broker's queues are not capped here.
loopback_users = none
cluster_formation.peer_discovery_backend = classic_config
cluster_formation.classic_config.nodes.1 = phnode1@localhost
cluster_formation.classic_config.nodes.2 = phnode2@localhost
cluster_formation.classic_config.nodes.3 = phnode3@localhost
log.file.level = info
log.console = false
EOF
}

node_pid() { cat "$dir/node$1/pid" 2>/dev/null || true; }

# The Erlang VMs of node i, found by their environment: a node stuck early
# in its boot may not have written its pid file yet.
node_beams() {
  local p
  for p in $(pgrep -f "beam.smp.*-home $dir " 2>/dev/null); do
    tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "RABBITMQ_NODENAME=phnode$1@localhost" && echo "$p"
  done
  return 0
}

start_node() {
  local i=$1
  # Where this boot's lines begin: the log is appended to across restarts.
  stat -c %s "$dir/node$i/log/node.log" >"$dir/node$i/log.offset" 2>/dev/null || echo 0 >"$dir/node$i/log.offset"
  (node_env "$i"; setsid "$RMQ/rabbitmq-server" >"$dir/node$i/log/stdout.log" 2>&1 </dev/null &)
}

# await_startup gives up at once while the node is not registered with
# epmd yet: asked again every second until the wait (default WAIT_S) passed.
# A failure prints what the log says about waiting and errors, then its
# end, and returns 1.
await_node() {
  local i=$1 wait=${2:-$WAIT_S} until left
  until=$(( $(date +%s) + wait ))
  # each try gets only the time left, so the whole wait ends at `until`
  while left=$(( until - $(date +%s) )); [ "$left" -gt 0 ]; do
    if (node_env "$i"; timeout "$left" "$RMQ/rabbitmqctl" -q await_startup --timeout "$left" >/dev/null 2>&1); then
      return 0
    fi
    sleep 1
  done
  local boot; boot=$(( $(cat "$dir/node$i/log.offset" 2>/dev/null || echo 0) + 1 ))
  tail -c +"$boot" "$dir/node$i/log/node.log" 2>/dev/null | grep -E '\[(error|warning)\]|Waiting for|wait_for' | tail -n 20 | cut -c1-300 >&2 || true
  tail -n 12 "$dir/node$i/log/node.log" "$dir/node$i/log/stdout.log" 2>/dev/null | cut -c1-300 >&2 || true
  # Tells a node stuck in its boot from a CLI that cannot reach a node up.
  if tail -c +"$boot" "$dir/node$i/log/node.log" 2>/dev/null | grep -q 'Server startup complete'; then
    echo "cluster.sh: node $i's log says it started; rabbitmqctl await_startup did not see it" >&2
  fi
  echo "cluster.sh: node $i did not start within ${wait}s" >&2
  return 1
}

cmd_start() {
  local b=${3:-25670}
  echo "$b" >"$dir/base"
  # One cookie for the nodes and the CLI; random per cluster.
  [ -f "$dir/.erlang.cookie" ] || { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/.erlang.cookie"; chmod 400 "$dir/.erlang.cookie"; }
  echo '[rabbitmq_mqtt].' >"$dir/enabled_plugins"
  for i in 1 2 3; do write_config "$i"; done
  local t0; t0=$(date +%s)
  # Our own epmd on our port, started here so that stop ends exactly it.
  (export ERL_EPMD_ADDRESS=127.0.0.1; setsid epmd -port $((b + 40)) >"$dir/epmd.log" 2>&1 </dev/null & echo $! >"$dir/epmd.pid")
  for i in 1 2 3; do start_node "$i"; done
  for i in 1 2 3; do await_node "$i" || exit 1; done
  # classic_config peer discovery joins the nodes at first boot; wait until
  # node 1 sees all three running (bounded).
  local n=0
  for _ in $(seq 1 "$WAIT_S"); do
    n=$(ctl 1 eval 'length(rabbit_nodes:all_running()).' 2>/dev/null || echo 0)
    [ "$n" = "$NODES" ] && break
    sleep 1
  done
  [ "$n" = "$NODES" ] || die "only $n of $NODES nodes clustered after ${WAIT_S}s (see $dir/node*/log)"
  ctl 1 delete_user guest >/dev/null 2>&1 || true
  echo "cluster up in $(( $(date +%s) - t0 )) s: $(cmd_uris | tr '\n' ' ')"
}

cmd_uris() { local b; b=$(base); for i in 1 2 3; do echo "tcp://127.0.0.1:$((b + i))"; done; }

# Any running node can change users; they are cluster-wide.
any_ctl() {
  for i in 1 2 3; do
    if ctl "$i" "$@" 2>/dev/null; then return 0; fi
  done
  die "rabbitmqctl $* failed on every node"
}

cmd_add_hub() {
  local user=${3:?user} pw=${4:?password}
  any_ctl add_user "$user" "$pw" >/dev/null || true
  any_ctl set_permissions -p / "$user" '^mqtt-subscription-' '^(amq\.topic|mqtt-subscription-.*)$' '^(amq\.topic|mqtt-subscription-.*)$'
  any_ctl set_topic_permissions -p / "$user" amq.topic '^parkhub\.v1\.' '^parkhub\.v1\.'
}

id_ok() { [[ $1 =~ ^[a-z0-9][a-z0-9_-]{0,63}$ ]] || die "'$1' is not a parkhub id ([a-z0-9][a-z0-9_-]{0,63})"; }

cmd_add_agent() {
  local park=${3:?park} ent=${4:?ent} agent=${5:?agent} pw=${6:?password}
  for x in "$park" "$ent" "$agent"; do id_ok "$x"; done
  local me="parkhub\\.v1\\.$park\\.$ent\\.$agent"
  any_ctl add_user "$agent" "$pw" >/dev/null || true
  any_ctl set_permissions -p / "$agent" '^mqtt-subscription-' '^(amq\.topic|mqtt-subscription-.*)$' '^(amq\.topic|mqtt-subscription-.*)$'
  # write: its batches and status; read: its acks and the park's hub topic.
  any_ctl set_topic_permissions -p / "$agent" amq.topic "^$me\\.(ev\\.[a-z]+|status)\$" "^($me\\.ack|parkhub\\.v1\\.$park\\.hub)\$"
}

# A park hub's upstream connection (docs/wire.md, Federation): the batches
# up, the regional hub's acks down, nothing else. The regional hub itself
# is a hub user (add-hub): it reads parkhub/v1/PARK/hub/+/up of every park
# it serves and writes the .../up/ack topics.
cmd_add_uplink() {
  local user=${3:?user} pw=${4:?password} park=${5:?park} hub=${6:?hub_id}
  for x in "$park" "$hub"; do id_ok "$x"; done
  local up="parkhub\\.v1\\.$park\\.hub\\.$hub\\.up"
  any_ctl add_user "$user" "$pw" >/dev/null || true
  any_ctl set_permissions -p / "$user" '^mqtt-subscription-' '^(amq\.topic|mqtt-subscription-.*)$' '^(amq\.topic|mqtt-subscription-.*)$'
  any_ctl set_topic_permissions -p / "$user" amq.topic "^$up\$" "^$up\\.ack\$"
}

cmd_kill() {
  local i=${3:?node 1..3} pid; pid=$(node_pid "$i")
  [ -n "$pid" ] || die "node $i: no pid file"
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$dir/node$i/pid"
  echo "node $i (pid $pid) killed"
}

cmd_start_node() {
  local i=${3:?node 1..3} t0 pid; t0=$(date +%s)
  for attempt in 1 2; do
    start_node "$i"
    if await_node "$i" "$RESTART_WAIT_S"; then
      echo "node $i back in $(( $(date +%s) - t0 )) s (attempt $attempt)"
      return 0
    fi
    for pid in $(node_pid "$i") $(node_beams "$i"); do kill -KILL "$pid" 2>/dev/null || true; done
    rm -f "$dir/node$i/pid"
    sleep 2
  done
  die "node $i did not come back in two attempts"
}

cmd_stop() {
  for i in 1 2 3; do
    local pid; pid=$(node_pid "$i")
    [ -n "$pid" ] || continue
    (node_env "$i"; timeout 60 "$RMQ/rabbitmqctl" -q stop "$RABBITMQ_PID_FILE" >/dev/null 2>&1) || kill -KILL "$pid" 2>/dev/null || true
    rm -f "$dir/node$i/pid"
  done
  # A node that never finished its boot (start failed) has no pid file
  # yet: its VM is found by its environment, so nothing is left running.
  for i in 1 2 3; do
    for pid in $(node_beams "$i"); do kill -KILL "$pid" 2>/dev/null || true; done
  done
  local epmd; epmd=$(cat "$dir/epmd.pid" 2>/dev/null || true)
  [ -z "$epmd" ] || kill "$epmd" 2>/dev/null || true
  rm -f "$dir/epmd.pid"
}

case "$cmd" in
  start) cmd_start "$@" ;;
  add-hub) cmd_add_hub "$@" ;;
  add-agent) cmd_add_agent "$@" ;;
  add-uplink) cmd_add_uplink "$@" ;;
  kill) cmd_kill "$@" ;;
  start-node) cmd_start_node "$@" ;;
  stop) cmd_stop ;;
  uris) cmd_uris ;;
  *) die "unknown command '$cmd'" ;;
esac
