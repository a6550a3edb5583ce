#!/usr/bin/python3
"""The config schemas and the binaries' --check-config must agree.

For every example config (tests/data/schemas/{agent,hub}-config/*.json and
the samples in deploy/), the JSON Schema's verdict and the binary's
--check-config verdict must be the same, and a refusal must name what is
wrong. Usage: check_configs.py REPO PARKAGENT PARKHUB
"""
import glob
import json
import os
import subprocess
import sys

from jsonschema import Draft202012Validator

repo, agent, hub = sys.argv[1:4]
passed = failed = 0


def check(schema_name, binary, path):
    global passed, failed
    schema = json.load(open(os.path.join(repo, "schemas", schema_name)))
    try:
        doc = json.load(open(path))
        schema_ok = not list(Draft202012Validator(schema).iter_errors(doc))
    except ValueError:
        schema_ok = False
    # the keys only: the samples name files of the hosts they are for
    r = subprocess.run([binary, "--config", path, "--check-config-keys"], capture_output=True, text=True, timeout=30)
    c_ok = r.returncode == 0
    out = (r.stdout + r.stderr).strip()
    name = os.path.relpath(path, repo)
    if schema_ok != c_ok:
        failed += 1
        print(f"FAIL {name}: schema says {'valid' if schema_ok else 'invalid'}, "
              f"{os.path.basename(binary)} --check-config says {'valid' if c_ok else 'invalid'}: {out}")
    elif not c_ok and "configuration error" not in out:
        failed += 1
        print(f"FAIL {name}: refused without an explanation: {out}")
    else:
        passed += 1


for kind, binary in (("agent", agent), ("hub", hub)):
    for path in sorted(glob.glob(os.path.join(repo, "tests/data/schemas", f"{kind}-config", "*.json"))):
        check(f"{kind}-config.schema.json", binary, path)
for path in sorted(glob.glob(os.path.join(repo, "deploy", "agent-*.json"))):
    check("agent-config.schema.json", agent, path)
for path in sorted(glob.glob(os.path.join(repo, "deploy", "hub*.json"))):
    check("hub-config.schema.json", hub, path)

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
