#!/usr/bin/env bash
# deploy/production/make-park.sh — the broker side of a production park,
# made from the hub's own config:
#
#   make-park.sh --hub-config hub.json --out DIR [--host NAME] [--port 8883]
#                [--bind ADDR] [--broker-user USER] [--mutual-tls] [--days 825]
#
# --host is the name the clients connect to (in the broker's certificate);
# --bind the address Mosquitto listens on: 127.0.0.1 unless you give the
# park network's address (or 0.0.0.0) — nothing is exposed by default.
# --broker-user (default mosquitto) is the user Mosquitto runs as: run as
# root, the script hands it the broker's key, passwd, acl and state dir.
#
# Writes into DIR (refuses to overwrite an existing DIR/ca: a park's CA is
# made once; rerun with a new --out, or add agents with --reuse-ca):
#
#   ca/ca.crt, ca/ca.key            private CA (EC P-256) — keep ca.key offline
#   broker/broker.{crt,key}         Mosquitto's certificate (SAN: --host, and
#                                   127.0.0.1/localhost when host is local)
#   mosquitto.conf                  TLS listener only, no anonymous access,
#                                   password file + ACL, no silent drops,
#                                   packets no larger than the hub accepts
#   passwd                          mosquitto_passwd file (hashed)
#   acl                             per-user ACL: an agent writes only under
#                                   its own park/ent/agent and reads its ack
#   hub/hub.{crt,key}, hub/mqtt.json          the hub's "mqtt" object
#   agents/PARK/ENT/AGENT/{agent.crt,agent.key,mqtt.json}  each agent's
#   managers/PARK/mqtt.json         a park manager's client credentials
#                                   (reads alerts/alarms, writes cmd/ack, reads its replies)
#
# Every mqtt.json holds the URI, user name, password and TLS files for that
# client; paste it as the "mqtt" object of the hub's or agent's config.
# Passwords are random (openssl rand) and appear only in those files (mode
# 600) and, hashed, in passwd. Needs openssl, mosquitto_passwd and
# /usr/bin/python3 (to read the hub config).
set -euo pipefail

usage() { sed -n '2,37p' "$0" | sed 's/^# \{0,1\}//'; }
hub_cfg="" out="" host="localhost" port=8883 mutual="" days=825 reuse="" bind=127.0.0.1 buser=mosquitto
while [ $# -gt 0 ]; do
  case "$1" in
    --hub-config) hub_cfg=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --host) host=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --mutual-tls) mutual=1; shift ;;
    --bind) bind=$2; shift 2 ;;
    --broker-user) buser=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --reuse-ca) reuse=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "make-park.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
[ -n "$hub_cfg" ] && [ -n "$out" ] || { echo "make-park.sh: --hub-config and --out are required (try --help)" >&2; exit 2; }
[ -r "$hub_cfg" ] || { echo "make-park.sh: cannot read $hub_cfg" >&2; exit 1; }
case "$port" in ''|*[!0-9]*) echo "make-park.sh: --port must be a number" >&2; exit 2 ;; esac
case "$host" in ''|*[!A-Za-z0-9.:-]*) echo "make-park.sh: --host must be a host name or address" >&2; exit 2 ;; esac
case "$bind" in ''|*[!0-9a-fA-F.:]*) echo "make-park.sh: --bind must be an IP address" >&2; exit 2 ;; esac
case "$buser" in ''|*[!a-z0-9_-]*) echo "make-park.sh: --broker-user must be a user name" >&2; exit 2 ;; esac
for tool in openssl mosquitto_passwd /usr/bin/python3; do
  command -v "$tool" >/dev/null || { echo "make-park.sh: $tool is needed (apt-get install openssl mosquitto /usr/bin/python3)" >&2; exit 1; }
done
if [ -e "$out/ca/ca.key" ] && [ -z "$reuse" ]; then
  echo "make-park.sh: $out/ca already holds a CA; use --reuse-ca to add to it, or another --out" >&2
  exit 1
fi

# (kind, park, ent, agent) lines from the hub config; ids are checked again here.
clients=$(/usr/bin/python3 - "$hub_cfg" <<'PY'
import json, re, sys
cfg = json.load(open(sys.argv[1]))
idre = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
def need(v, what):
    if not isinstance(v, str) or not idre.match(v):
        sys.exit(f"make-park.sh: {what}: {v!r} is not an id")
    return v
print("hub", need(cfg.get("hub_id"), "hub_id"), "-", "-")
for p in cfg.get("parks", []):
    park = need(p.get("id"), "parks[].id")
    print("manager", park, "-", "-")
    for e in p.get("enterprises", []):
        ent = need(e.get("id"), f"{park}: enterprises[].id")
        for a in e.get("agents", []):
            print("agent", park, ent, need(a, f"{park}/{ent}: agents[]"))
PY
)
parks=$(/usr/bin/python3 -c 'import json,sys; print(" ".join(p["id"] for p in json.load(open(sys.argv[1]))["parks"]))' "$hub_cfg")

umask 077
mkdir -p "$out/ca" "$out/broker" "$out/hub" "$out/agents" "$out/managers"
out=$(cd "$out" && pwd)

if [ ! -e "$out/ca/ca.key" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$days" \
    -subj "/CN=parkhub private CA" -keyout "$out/ca/ca.key" -out "$out/ca/ca.crt" 2>/dev/null
  chmod 644 "$out/ca/ca.crt"
fi

# issue NAME DIR CN [SAN]: a key and a certificate signed by the CA.
issue() {
  local name=$1 dir=$2 cn=$3 san=${4:-}
  local ext="$dir/$name.ext"
  mkdir -p "$dir"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$cn" \
    -keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    if [ -n "$san" ]; then echo "extendedKeyUsage=serverAuth"; echo "subjectAltName=$san"; else echo "extendedKeyUsage=clientAuth"; fi
  } >"$ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$out/ca/ca.crt" -CAkey "$out/ca/ca.key" -CAcreateserial \
    -days "$days" -extfile "$ext" -out "$dir/$name.crt" 2>/dev/null
  rm -f "$dir/$name.csr" "$ext"
}

san="DNS:$host"
case "$host" in
  localhost|127.*) san="DNS:localhost,IP:127.0.0.1" ;;
  *[!0-9.]*) ;;
  *) san="IP:$host" ;;
esac
issue broker "$out/broker" "$host" "$san"
chmod 644 "$out/broker/broker.crt"

uri="mqtts://$host:$port"
: >"$out/passwd"
{
  echo "# parkhub ACL, made by deploy/production/make-park.sh from $(basename "$hub_cfg")."
  echo "# Clients not listed here can do nothing. Ids never contain '.', so user names cannot collide."
} >"$out/acl"

# mqtt_json FILE USER PASS CERTDIR CERTNAME
mqtt_json() {
  local file=$1 user=$2 pass=$3 dir=$4 name=$5
  cat >"$file" <<JSON
{"uris": ["$uri"], "username": "$user", "password": "$pass",
 "tls": {"ca": "$out/ca/ca.crt", "cert": "$dir/$name.crt", "key": "$dir/$name.key", "verify": true}}
JSON
}

while read -r kind a b c; do
  pass=$(openssl rand -hex 24)
  case "$kind" in
    hub)
      user="hub.$a"
      issue hub "$out/hub" "$user"
      mqtt_json "$out/hub/mqtt.json" "$user" "$pass" "$out/hub" hub
      { echo; echo "user $user"; for p in $parks; do echo "topic readwrite parkhub/v1/$p/#"; done; } >>"$out/acl"
      ;;
    manager)
      user="manager.$a"
      issue manager "$out/managers/$a" "$user"
      mqtt_json "$out/managers/$a/mqtt.json" "$user" "$pass" "$out/managers/$a" manager
      { echo; echo "user $user"
        echo "topic read parkhub/v1/$a/alerts/#"
        echo "topic read parkhub/v1/$a/alarms/#"
        echo "topic read parkhub/v1/$a/hub"
        echo "topic write parkhub/v1/$a/cmd/ack"
        echo "topic read parkhub/v1/$a/cmd/ack/reply"; } >>"$out/acl"
      ;;
    agent)
      user="$a.$b.$c"
      dir="$out/agents/$a/$b/$c"
      issue agent "$dir" "$user"
      mqtt_json "$dir/mqtt.json" "$user" "$pass" "$dir" agent
      { echo; echo "user $user"
        echo "topic write parkhub/v1/$a/$b/$c/ev/#"
        echo "topic readwrite parkhub/v1/$a/$b/$c/status"
        echo "topic read parkhub/v1/$a/$b/$c/ack"
        echo "topic read parkhub/v1/$a/hub"; } >>"$out/acl"
      ;;
  esac
  mosquitto_passwd -b "$out/passwd" "$user" "$pass" >/dev/null
done <<<"$clients"

require_cert=false
[ -n "$mutual" ] && require_cert=true
cat >"$out/mosquitto.conf" <<CONF
# Mosquitto for a parkhub park (deploy/production/make-park.sh). TLS only,
# nobody anonymous, every client with its own user, password and ACL entries.
per_listener_settings false
allow_anonymous false
password_file $out/passwd
acl_file $out/acl

user $buser
listener $port $bind
cafile $out/ca/ca.crt
certfile $out/broker/broker.crt
keyfile $out/broker/broker.key
tls_version tlsv1.2
require_certificate $require_cert
use_identity_as_username false

# The end-to-end acks cover loss, but a broker that drops silently makes
# agents resend: queue without limit, large in-flight windows (DESIGN.md).
max_queued_messages 0
max_queued_bytes 0
max_inflight_messages 1000
# A batch is at most 256 KiB (PH_BATCH_MAX_BYTES); with the PUBLISH header
# and the longest topic a packet is under 257 KiB (PH_MQTT_MAX_PACKET_BYTES,
# include/parkhub/batch.h). The hub refuses larger batches only after
# reading them whole, so the broker refuses them first: it disconnects a
# client that sends a bigger packet, before buffering its payload.
max_packet_size 263168
set_tcp_nodelay true
persistence true
persistence_location $out/
autosave_interval 60
CONF
chmod 644 "$out/mosquitto.conf" "$out/acl"
# Mosquitto drops root for --broker-user before it reads its files.
if [ "$(id -u)" -eq 0 ] && [ "$buser" != root ] && id "$buser" >/dev/null 2>&1; then
  chown "$buser" "$out" "$out/broker" "$out/broker/broker.key" "$out/passwd" "$out/acl"
fi
echo "make-park.sh: wrote $out (broker $uri; CA $out/ca/ca.crt; $(grep -c '^user ' "$out/acl") clients)"
