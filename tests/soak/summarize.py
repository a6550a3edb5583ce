#!/usr/bin/env python3
"""Summarizes a soak CSV (tests/soak/test_soak.c, PH_SOAK_OUT) for docs/soak.md.

    tests/soak/summarize.py soak.csv [minutes between rows, default 5]

Prints a Markdown table with one sample every N minutes (RSS, private,
anonymous, threads, fds, database and WAL size, records stored), then the
growth of RSS and anonymous memory per quarter of the run, and the slope
(least squares) of RSS over each half, in kB per 30 s.
"""
import csv
import sys


def slope(rows, key):
    n = len(rows)
    if n < 2:
        return 0.0
    xs = [r["t_s"] for r in rows]
    ys = [r[key] for r in rows]
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0


def main():
    path = sys.argv[1]
    every = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
    rows = []
    with open(path) as f:
        for r in csv.DictReader(f):
            rows.append({k: float(v) for k, v in r.items()})
    if not rows:
        sys.exit("no samples")
    print("| min | records stored | RSS MiB | private MiB | anon MiB | threads | fds (db) | db MiB | WAL MiB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    next_t = 0.0
    for i, r in enumerate(rows):
        if r["t_s"] + 1e-9 >= next_t or i == len(rows) - 1:
            print("| %.1f | %d | %.1f | %.1f | %.1f | %d | %d (%d) | %.1f | %.1f |" % (
                r["t_s"] / 60, r["stored_records"], r["vmrss_kb"] / 1024,
                (r["private_clean_kb"] + r["private_dirty_kb"]) / 1024, r["anonymous_kb"] / 1024,
                r["threads"], r["fds"], r["db_fds"], r["db_bytes"] / 1048576, r["wal_bytes"] / 1048576))
            while next_t <= r["t_s"]:
                next_t += every * 60
    print()
    n = len(rows)
    q = [rows[0], rows[n // 4], rows[n // 2], rows[3 * n // 4], rows[-1]]
    for a, b in zip(q, q[1:]):
        print("t %5.0f..%5.0f s: RSS %+7.0f kB, anon %+7.0f kB, private %+7.0f kB" % (
            a["t_s"], b["t_s"], b["vmrss_kb"] - a["vmrss_kb"], b["anonymous_kb"] - a["anonymous_kb"],
            (b["private_clean_kb"] + b["private_dirty_kb"]) - (a["private_clean_kb"] + a["private_dirty_kb"])))
    h = n // 2
    for name, part in (("first half", rows[:h]), ("second half", rows[h:])):
        print("%s: RSS slope %.1f kB per 30 s, anon %.1f kB per 30 s" % (
            name, 30 * slope(part, "vmrss_kb"), 30 * slope(part, "anonymous_kb")))
    print("max: RSS %.1f MiB, threads %d, fds %d, WAL %.1f MiB" % (
        max(r["vmrss_kb"] for r in rows) / 1024, max(r["threads"] for r in rows),
        max(r["fds"] for r in rows), max(r["wal_bytes"] for r in rows) / 1048576))


if __name__ == "__main__":
    main()
