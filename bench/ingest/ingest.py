#!/usr/bin/python3
"""ingest.py — contender (c) of the ingest benchmark: the ingester a park's
IT staff would write instead of parkhub, in Debian's Python (python3-paho-mqtt,
the sqlite3 module).

It subscribes to every agent's batches (QoS 1), parses each batch with
json.loads and inserts one row per value (agent, epoch, seq, ts, point,
metric, value, flag) with executemany, committing every --commit-every
messages (and when the stream pauses) on a WAL database with
synchronous=FULL, like the hub. After each commit it publishes the
cumulative ack {"epoch": E, "upto": U} of every agent that got new batches
(QoS 1), as the hub does, unless --no-ack.

What it does NOT do, where the hub does (all in the script's favour): no
validation (metric codes, ranges, time window, identity), no dedupe (a
redelivered batch is inserted again), no rollups, timestamps stored as the
text they came in.

Benchmark plumbing around that core: once subscribed it publishes a retained
"online" on parkhub/v1/bench-park/hub (what the generator waits for); it
is done when it has seen every (agent, seq) once, or after --idle seconds
without a message, or at --timeout; it then writes --out (key=value, times
CLOCK_MONOTONIC ns) and lingers until SIGTERM (at most --linger s) so that
run.sh can read its /proc/<pid>/stat and VmHWM.
"""
import argparse
import json
import os
import signal
import sqlite3
import sys
import time

import paho.mqtt.client as mqtt

PARK = "bench-park"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--agents", type=int, required=True)
    ap.add_argument("--batches", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--commit-every", type=int, default=100)
    ap.add_argument("--no-ack", action="store_true")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--idle", type=float, default=15)
    ap.add_argument("--linger", type=float, default=120)
    a = ap.parse_args()

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    # ---- the script itself ---------------------------------------------
    db = sqlite3.connect(a.db)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS samples(agent TEXT, epoch INTEGER, seq INTEGER, ts TEXT,"
               " point TEXT, metric TEXT, value REAL, flag TEXT)")
    db.commit()

    streams = {}      # ack topic -> {"epoch", "upto", "above": seqs received past upto, "dirty"}
    st = {"pending": 0, "messages": 0, "distinct": 0, "dups": 0, "acks": 0,
          "first_ns": 0, "last_ns": 0, "commit_ns": 0, "last_msg": 0.0}

    def commit_and_ack(client):
        db.commit()
        st["commit_ns"] = time.monotonic_ns()
        st["pending"] = 0
        for topic, s in streams.items():
            if s["dirty"] and not a.no_ack:
                client.publish(topic, json.dumps({"epoch": s["epoch"], "upto": s["upto"]}), qos=1)
                st["acks"] += 1
            s["dirty"] = False

    def on_message(client, userdata, msg):
        now = time.monotonic_ns()
        if not st["first_ns"]:
            st["first_ns"] = now
        st["messages"] += 1
        b = json.loads(msg.payload)
        rows = []
        for r in b["records"]:
            flags = r.get("flags", {})
            for metric, value in r["values"].items():
                rows.append((b["agent"], b["epoch"], b["seq"], r["ts"], r["point"], metric, value,
                             flags.get(metric, "N")))
        db.executemany("INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)

        # cumulative ack: highest seq below which every batch of the epoch is here
        topic = msg.topic.rsplit("/ev/", 1)[0] + "/ack"
        s = streams.setdefault(topic, {"epoch": b["epoch"], "upto": 0, "above": set(), "dirty": False})
        seq = b["seq"]
        if seq <= s["upto"] or seq in s["above"]:
            st["dups"] += 1
        else:
            st["distinct"] += 1
            s["above"].add(seq)
            while s["upto"] + 1 in s["above"]:
                s["upto"] += 1
                s["above"].discard(s["upto"])
            s["dirty"] = True
            if st["distinct"] == a.agents * a.batches:
                st["last_ns"] = now
        st["pending"] += 1
        st["last_msg"] = time.monotonic()
        if st["pending"] >= a.commit_every:
            commit_and_ack(client)

    # ---- benchmark plumbing --------------------------------------------
    try:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION1, client_id="bench-python", clean_session=True)
    except AttributeError:  # paho-mqtt < 2
        client = mqtt.Client(client_id="bench-python", clean_session=True)
    client.on_message = on_message
    client.max_inflight_messages_set(256)
    client.connect(a.host, a.port, keepalive=30)

    def pump_until(cond, what, secs=10.0):
        until = time.monotonic() + secs
        while not cond():
            if time.monotonic() > until:
                sys.exit("ingest.py: no answer to %s within %.0f s" % (what, secs))
            client.loop(timeout=0.05)

    pump_until(client.is_connected, "connect")
    subacked = []
    client.on_subscribe = lambda c, u, mid, q: subacked.append(mid)
    _, mid = client.subscribe("parkhub/v1/%s/+/+/ev/+" % PARK, qos=1)
    pump_until(lambda: mid in subacked, "subscribe")
    info = client.publish("parkhub/v1/%s/hub" % PARK,
                          json.dumps({"v": 1, "hub": "bench-python", "state": "online"}), qos=1, retain=True)
    pump_until(info.is_published, "publish online")

    start = time.monotonic()
    why = "all received"
    expected = a.agents * a.batches
    while True:
        client.loop(timeout=0.1)
        now = time.monotonic()
        if st["pending"] and now - st["last_msg"] > 0.2:  # the stream paused: commit what is there
            commit_and_ack(client)
        if st["distinct"] == expected and not st["pending"]:
            break
        if st["messages"] and now - st["last_msg"] > a.idle:
            why = "idle: stopped waiting"
            break
        if now - start > a.timeout or stop:
            why = "stopped" if stop else "timeout"
            break
    if st["pending"]:
        commit_and_ack(client)
    print("ingest.py: %s: %d messages, %d distinct of %d, %d duplicates, %d acks"
          % (why, st["messages"], st["distinct"], expected, st["dups"], st["acks"]), file=sys.stderr)
    ok = st["distinct"] == expected and st["dups"] == 0
    with open(a.out + ".tmp", "w") as f:
        for k in ("messages", "distinct", "dups", "acks", "first_ns", "last_ns", "commit_ns"):
            key = {"first_ns": "first_msg_ns", "last_ns": "last_msg_ns", "commit_ns": "last_commit_ns"}.get(k, k)
            f.write("%s=%d\n" % (key, st[k]))
        f.write("lost=%d\nacking=%d\nok=%d\n" % (expected - st["distinct"], 0 if a.no_ack else 1, ok))
    os.replace(a.out + ".tmp", a.out)
    # stay connected (the last acks still need their PUBACKs) until run.sh has read /proc and sends SIGTERM
    until = time.monotonic() + a.linger
    while not stop and time.monotonic() < until:
        client.loop(timeout=0.2)
    client.disconnect()
    db.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
