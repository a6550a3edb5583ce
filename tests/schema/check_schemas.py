#!/usr/bin/python3
"""check_schemas.py — checks the JSON Schemas in schemas/ and the test data
that goes with them.

Usage: /usr/bin/python3 tests/schema/check_schemas.py <repo-root>
(Debian's python3-jsonschema, Draft202012Validator; DESIGN.md: `python3` on
PATH may not see the distribution's packages.)

  a. every schemas/*.schema.json is a valid 2020-12 schema with the $schema,
     $id and description the project uses; schemas/metrics.json is valid
     against metrics.schema.json (and has unique codes, min <= max);
     schemas that repeat each other agree (alert = alarm + transition, ts;
     the mqtt block of agent and hub configs).
  b. tests/data/schemas/<name>/valid-*.json pass <name>.schema.json and
     invalid-*.json fail it; every schema has at least one of each.
  c. every row of tests/data/batches/MANIFEST.tsv: the file's verdict
     against batch.schema.json equals the schema column (a file that is not
     strict JSON — NaN/Infinity literals, duplicate keys, bad UTF-8,
     trailing data — counts as invalid); expect OK => schema valid; schema
     invalid => expect != OK; the manifest and the folder's .json files
     match one to one.
  e. every row again, through a reference decoder written from the rules in
     schemas/README.md (catalogue, kind, ranges, calendar, skew with now =
     2026-11-23T10:00:00Z, size): an OK file has no fault, a refused file
     has exactly one and it is the expected code. The corpus covers every
     refusal code, has >= 45 files and >= 10 OK files across the three kinds.

Prints one line per failure and a last line "N passed, M failed"; exits 1
when M > 0.
"""
import datetime
import json
import math
import os
import re
import sys

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

DRAFT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "https://parkhub.example/schemas/"
ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
TIME_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
                     r"([Zz]|([+-])([0-9]{2}):([0-9]{2}))")

# The decoder's limits (include/parkhub/batch.h) and the tests' clock.
MAX_BYTES = 256 * 1024
MAX_RECORDS = 1000
MAX_VALUES = 64
LOT_MAX, SUPPLIER_MAX, ATTRS_MAX = 64, 128, 2048
MAX_SEQ = 2 ** 53 - 1
NOW = datetime.datetime(2026, 11, 23, 10, 0, 0, tzinfo=datetime.timezone.utc)
MAX_FUTURE = datetime.timedelta(seconds=300)
MAX_AGE = datetime.timedelta(days=400)
FLAGS = "NFMSDCTB"
STATES = ("running", "startup", "shutdown", "stopped")
KINDS = ("process", "material", "emission")
TOP_KEYS = ("v", "agent", "epoch", "seq", "oldest", "sent", "records")
MEAS_KEYS = ("ts", "point", "values", "flags", "state")
MEAS_REQ = ("ts", "point", "values")
MAT_KEYS = ("ts", "point", "material", "dir", "qty_t", "lot", "supplier", "attrs")
MAT_REQ = ("ts", "point", "material", "dir", "qty_t")
MAT_ONLY = ("material", "dir", "qty_t", "lot", "supplier", "attrs")
MEAS_ONLY = ("values", "flags", "state")

# Codes the corpus must cover (the batch decoder's refusals).
REQUIRED_CODES = ("PH_EJSON PH_ETOOLARGE PH_EVERSION PH_EMISSING PH_ETYPE PH_EUNKNOWNKEY PH_EBADID "
                  "PH_ESEQ PH_ETIME PH_ESKEW PH_EEMPTY PH_ETOOMANY PH_EMETRIC PH_EKIND PH_ENONFINITE "
                  "PH_ERANGE PH_EFLAG PH_EENUM PH_ESTRLEN").split()
MIN_FILES, MIN_OK = 45, 10
# qty_t of a material code the catalogue lacks (PH_MATERIAL_QTY_MAX).
UNCLASSIFIED = {"min": 0, "max": 1000}

passed = 0
failed = 0


def check(cond, msg):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL " + msg)
    return cond


class NotJSON(ValueError):
    pass


def strict_loads(data):
    """Parses bytes as RFC 8259 JSON: UTF-8, no NaN/Infinity literals, no
    duplicate keys, nothing after the value. Raises NotJSON otherwise."""
    def constant(name):
        raise NotJSON("%s is not JSON" % name)

    def pairs(items):
        d = {}
        for k, v in items:
            if k in d:
                raise NotJSON("duplicate key %r" % k)
            d[k] = v
        return d
    try:
        text = data.decode("utf-8")
        if text.startswith("\ufeff"):
            raise NotJSON("byte order mark")
        return json.loads(text, parse_constant=constant, object_pairs_hook=pairs)
    except NotJSON:
        raise
    except (ValueError, RecursionError) as e:
        raise NotJSON(str(e))


def load_json(path):
    with open(path, "rb") as f:
        return strict_loads(f.read())


def validator(schema):
    return Draft202012Validator(schema)


def first_error(v, doc):
    """None when doc is valid, else the most telling error as "path: message"."""
    e = best_match(v.iter_errors(doc))
    if e is None:
        return None
    return "%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "$", e.message[:160])


# ----------------------------------------------------------------- a. schemas

def check_schemas(root):
    sdir = os.path.join(root, "schemas")
    schemas = {}
    for fn in sorted(os.listdir(sdir)):
        if not fn.endswith(".schema.json"):
            continue
        path = os.path.join(sdir, fn)
        try:
            s = load_json(path)
        except (NotJSON, OSError) as e:
            check(False, "schemas/%s: not strict JSON: %s" % (fn, e))
            continue
        try:
            Draft202012Validator.check_schema(s)
            ok = True
        except Exception as e:  # SchemaError
            ok = False
            check(False, "schemas/%s: not a valid 2020-12 schema: %s" % (fn, str(e).splitlines()[0]))
        if ok:
            check(True, "")
        check(s.get("$schema") == DRAFT, "schemas/%s: $schema is not %s" % (fn, DRAFT))
        check(s.get("$id") == ID_BASE + fn, "schemas/%s: $id is not %s%s" % (fn, ID_BASE, fn))
        check(isinstance(s.get("description"), str) and len(s["description"]) > 20,
              "schemas/%s: no description" % fn)
        if ok:
            schemas[fn[: -len(".schema.json")]] = s
    for need in ("metrics", "batch", "status", "hub-status", "ack", "alarm", "alert", "cmd-ack",
                 "agent-config", "hub-config"):
        check(need in schemas, "schemas/%s.schema.json missing or broken" % need)

    cat = None
    if "metrics" in schemas:
        try:
            cat_doc = load_json(os.path.join(sdir, "metrics.json"))
        except (NotJSON, OSError) as e:
            check(False, "schemas/metrics.json: not strict JSON: %s" % e)
            cat_doc = None
        if cat_doc is not None:
            err = first_error(validator(schemas["metrics"]), cat_doc)
            if check(err is None, "schemas/metrics.json: invalid against metrics.schema.json: %s" % err):
                codes = [m["code"] for m in cat_doc["metrics"]]
                check(len(codes) == len(set(codes)), "schemas/metrics.json: duplicate metric codes")
                bad = [m["code"] for m in cat_doc["metrics"] if m["min"] > m["max"]]
                check(not bad, "schemas/metrics.json: min > max for %s" % bad)
                cat = {m["code"]: m for m in cat_doc["metrics"]}

    if "alarm" in schemas and "alert" in schemas:
        al, at = schemas["alarm"], schemas["alert"]
        extra = {k: v for k, v in at["properties"].items() if k not in ("transition", "ts")}
        check(extra == al["properties"], "alert.schema.json: properties differ from alarm.schema.json's")
        check(set(al["required"]) <= set(at["required"]), "alert.schema.json: requires less than alarm")
        check(at.get("$defs") == al.get("$defs"), "alert.schema.json: $defs differ from alarm.schema.json's")
    if "agent-config" in schemas and "hub-config" in schemas:
        am = schemas["agent-config"]["properties"]["mqtt"]
        hm = schemas["hub-config"]["properties"]["mqtt"]
        hp = {k: v for k, v in hm["properties"].items() if k not in ("shared_group", "clean_start", "heartbeat_s")}
        check(hp == am["properties"], "hub-config mqtt differs from agent-config mqtt (beyond shared_group, clean_start, heartbeat_s)")
    return schemas, cat


# ------------------------------------------------------------ b. examples

def check_examples(root, schemas):
    edir = os.path.join(root, "tests", "data", "schemas")
    for name, s in sorted(schemas.items()):
        d = os.path.join(edir, name)
        files = sorted(os.listdir(d)) if os.path.isdir(d) else []
        valid = [f for f in files if f.startswith("valid-") and f.endswith(".json")]
        invalid = [f for f in files if f.startswith("invalid-") and f.endswith(".json")]
        check(valid and invalid, "tests/data/schemas/%s/: needs valid-*.json and invalid-*.json" % name)
        v = validator(s)
        for f in valid + invalid:
            rel = "tests/data/schemas/%s/%s" % (name, f)
            try:
                doc = load_json(os.path.join(d, f))
            except NotJSON as e:
                check(f.startswith("invalid-"), "%s: not strict JSON: %s" % (rel, e))
                continue
            err = first_error(v, doc)
            if f.startswith("valid-"):
                check(err is None, "%s: should be valid: %s" % (rel, err))
            else:
                check(err is not None, "%s: should be invalid, but passes" % rel)
    if os.path.isdir(edir):
        for d in sorted(os.listdir(edir)):
            check(d in schemas, "tests/data/schemas/%s/: no schemas/%s.schema.json" % (d, d))


# ------------------------------------------------ e. the reference decoder

def isnum(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def parse_time(s):
    """RFC 3339 -> aware datetime, or None when not a calendar-valid time."""
    m = TIME_RE.fullmatch(s)
    if not m:
        return None
    y, mo, d, h, mi, sec = (int(m.group(i)) for i in range(1, 7))
    if not 1970 <= y <= 9999:
        return None
    if m.group(8) in ("Z", "z"):
        tz = datetime.timezone.utc
    else:
        oh, om = int(m.group(10)), int(m.group(11))
        if oh > 23 or om > 59:
            return None
        off = datetime.timedelta(hours=oh, minutes=om)
        tz = datetime.timezone(off if m.group(9) == "+" else -off)
    try:
        return datetime.datetime(y, mo, d, h, mi, sec, tzinfo=tz)
    except ValueError:
        return None


def ref_decode(data, kind, cat):
    """All faults of a payload as [(json path, PH_E* name)], following the
    rules of schemas/README.md. Keeps going after a fault (except when the
    payload is not JSON) so that a file with two faults is noticed."""
    faults = []

    def fault(path, code):
        faults.append((path, code))

    if len(data) > MAX_BYTES:
        fault("$", "PH_ETOOLARGE")
    try:
        doc = strict_loads(data)
    except NotJSON:
        fault("$", "PH_EJSON")
        return faults
    if not isinstance(doc, dict):
        fault("$", "PH_ETYPE")
        return faults

    def id_field(obj, key, path):
        if key not in obj:
            return
        x = obj[key]
        if not isinstance(x, str):
            fault(path, "PH_ETYPE")
        elif not ID_RE.fullmatch(x):
            fault(path, "PH_EBADID")

    def time_field(obj, key, path, is_ts):
        if key not in obj:
            return
        x = obj[key]
        if not isinstance(x, str):
            fault(path, "PH_ETYPE")
            return
        t = parse_time(x)
        if t is None:
            fault(path, "PH_ETIME")
        elif t > NOW + MAX_FUTURE or (is_ts and t < NOW - MAX_AGE):
            fault(path, "PH_ESKEW")

    def keys(obj, allowed, required, path):
        for k in obj:
            if k not in allowed:
                fault(path + "." + k, "PH_EUNKNOWNKEY")
        for k in required:
            if k not in obj:
                fault(path + "." + k, "PH_EMISSING")

    keys(doc, TOP_KEYS, TOP_KEYS, "$")
    if "v" in doc:
        if not isnum(doc["v"]):
            fault("v", "PH_ETYPE")
        elif doc["v"] != 1:
            fault("v", "PH_EVERSION")
    id_field(doc, "agent", "agent")
    good = {}
    for k in ("epoch", "seq", "oldest"):
        if k not in doc:
            continue
        x = doc[k]
        if not isnum(x):
            fault(k, "PH_ETYPE")
        elif not (math.isfinite(x) and x == int(x) and 1 <= x <= MAX_SEQ):
            fault(k, "PH_ESEQ")
        else:
            good[k] = x
    if "seq" in good and "oldest" in good and good["oldest"] > good["seq"]:
        fault("oldest", "PH_ESEQ")
    time_field(doc, "sent", "sent", False)
    if "records" not in doc:
        return faults
    recs = doc["records"]
    if not isinstance(recs, list):
        fault("records", "PH_ETYPE")
        return faults
    if not recs:
        fault("records", "PH_EEMPTY")
    if len(recs) > MAX_RECORDS:
        fault("records", "PH_ETOOMANY")
    for i, r in enumerate(recs):
        p = "records[%d]" % i
        if not isinstance(r, dict):
            fault(p, "PH_ETYPE")
            continue
        is_mat = any(k in r for k in MAT_ONLY)
        is_meas = any(k in r for k in MEAS_ONLY)
        if (kind == "material" and is_meas) or (kind != "material" and is_mat):
            fault(p, "PH_EKIND")
            continue
        time_field(r, "ts", p + ".ts", True)
        id_field(r, "point", p + ".point")
        if kind != "material":
            keys(r, MEAS_KEYS, MEAS_REQ, p)
            vals = r.get("values")
            if vals is not None and not isinstance(vals, dict):
                fault(p + ".values", "PH_ETYPE")
                vals = None
            if vals is not None:
                if not vals:
                    fault(p + ".values", "PH_EEMPTY")
                if len(vals) > MAX_VALUES:
                    fault(p + ".values", "PH_ETOOMANY")
                for code, x in vals.items():
                    q = "%s.values.%s" % (p, code)
                    m = cat.get(code)
                    if not isnum(x):
                        fault(q, "PH_ETYPE")
                    elif not math.isfinite(x):
                        fault(q, "PH_ENONFINITE")
                    elif m is None:
                        fault(q, "PH_EMETRIC")
                    elif m["kind"] != kind:
                        fault(q, "PH_EKIND")
                    elif not m["min"] <= x <= m["max"]:
                        fault(q, "PH_ERANGE")
            if "flags" in r:
                fl = r["flags"]
                if not isinstance(fl, dict):
                    fault(p + ".flags", "PH_ETYPE")
                else:
                    for code, f in fl.items():
                        q = "%s.flags.%s" % (p, code)
                        if not (isinstance(f, str) and len(f) == 1 and f in FLAGS):
                            fault(q, "PH_EFLAG")
                        elif vals is not None and code not in vals:
                            fault(q, "PH_EFLAG")
            if "state" in r:
                st = r["state"]
                if not isinstance(st, str):
                    fault(p + ".state", "PH_ETYPE")
                elif st not in STATES:
                    fault(p + ".state", "PH_EENUM")
        else:
            keys(r, MAT_KEYS, MAT_REQ, p)
            m = None
            if "material" in r:
                code = r["material"]
                if not isinstance(code, str):
                    fault(p + ".material", "PH_ETYPE")
                elif not ID_RE.fullmatch(code):
                    fault(p + ".material", "PH_EBADID")
                elif code not in cat:
                    m = UNCLASSIFIED  # any id: the hub's park registry decides (unclassified)
                elif cat[code]["kind"] != "material":
                    fault(p + ".material", "PH_EKIND")
                else:
                    m = cat[code]
            if "dir" in r:
                if not isinstance(r["dir"], str):
                    fault(p + ".dir", "PH_ETYPE")
                elif r["dir"] not in ("in", "out"):
                    fault(p + ".dir", "PH_EENUM")
            if "qty_t" in r:
                x = r["qty_t"]
                if not isnum(x):
                    fault(p + ".qty_t", "PH_ETYPE")
                elif not math.isfinite(x):
                    fault(p + ".qty_t", "PH_ENONFINITE")
                elif x < 0 or (m is not None and not m["min"] <= x <= m["max"]):
                    fault(p + ".qty_t", "PH_ERANGE")
            for k, limit in (("lot", LOT_MAX), ("supplier", SUPPLIER_MAX)):
                if k in r:
                    if not isinstance(r[k], str):
                        fault(p + "." + k, "PH_ETYPE")
                    elif len(r[k].encode("utf-8")) > limit:
                        fault(p + "." + k, "PH_ESTRLEN")
            if "attrs" in r:
                a = r["attrs"]
                if not isinstance(a, dict):
                    fault(p + ".attrs", "PH_ETYPE")
                elif len(json.dumps(a, separators=(",", ":"), ensure_ascii=False).encode("utf-8")) > ATTRS_MAX:
                    fault(p + ".attrs", "PH_ESTRLEN")
    return faults


# ------------------------------------------------------------- c. corpus

def known_codes(root):
    """PH_E* names from include/parkhub/err.h when it is there."""
    try:
        with open(os.path.join(root, "include", "parkhub", "err.h")) as f:
            return set(re.findall(r"X\((PH_E[A-Z0-9_]+),", f.read()))
    except OSError:
        return None


def check_corpus(root, schemas, cat):
    bdir = os.path.join(root, "tests", "data", "batches")
    man = os.path.join(bdir, "MANIFEST.tsv")
    try:
        with open(man, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except OSError as e:
        check(False, "tests/data/batches/MANIFEST.tsv: %s" % e)
        return
    if lines and lines[-1] == "":
        lines.pop()
    check(bool(lines) and lines[0] == "file\tkind\texpect\tschema",
          "MANIFEST.tsv: header must be file<TAB>kind<TAB>expect<TAB>schema")
    codes = known_codes(root)
    v = validator(schemas["batch"]) if "batch" in schemas else None
    rows = []
    for n, line in enumerate(lines[1:], 2):
        cols = line.split("\t")
        if not check(len(cols) == 4, "MANIFEST.tsv:%d: expected 4 columns, got %d" % (n, len(cols))):
            continue
        fn, kind, expect, verdict = cols
        ok = check(kind in KINDS, "MANIFEST.tsv:%d: kind %r" % (n, kind))
        ok &= check(expect == "OK" or (expect.startswith("PH_E") and (codes is None or expect in codes)),
                    "MANIFEST.tsv:%d: expect %r is not OK or a PH_E* code of err.h" % (n, expect))
        ok &= check(verdict in ("valid", "invalid"), "MANIFEST.tsv:%d: schema %r" % (n, verdict))
        # expect OK => schema valid, i.e. schema invalid => expect != OK
        ok &= check(not (expect == "OK" and verdict == "invalid"),
                    "%s: expect OK but schema invalid (what the schema refuses the decoder refuses too)" % fn)
        rows.append((fn, kind, expect, verdict))
        path = os.path.join(bdir, fn)
        if not check(os.path.isfile(path), "%s: listed in MANIFEST.tsv but missing" % fn) or not ok:
            continue
        with open(path, "rb") as f:
            data = f.read()
        # c. the schema's verdict
        if v is not None:
            try:
                doc = strict_loads(data)
                err = first_error(v, doc)
                got = "valid" if err is None else "invalid"
                why = err or "passes"
            except NotJSON as e:
                got, why = "invalid", "not JSON: %s" % str(e)[:80]
            check(got == verdict, "%s: batch.schema.json says %s (%s), manifest says %s" % (fn, got, why, verdict))
        # e. the reference decoder's verdict
        if cat is not None:
            faults = ref_decode(data, kind, cat)
            if expect == "OK":
                check(not faults, "%s: expect OK, reference decoder finds %s" % (fn, faults))
            else:
                check(len(faults) == 1 and faults[0][1] == expect,
                      "%s: expect exactly one fault %s, reference decoder finds %s" % (fn, expect, faults))
    names = [r[0] for r in rows]
    dups = sorted({x for x in names if names.count(x) > 1})
    check(not dups, "MANIFEST.tsv: listed twice: %s" % dups)
    on_disk = sorted(f for f in os.listdir(bdir) if f.endswith(".json"))
    unlisted = [f for f in on_disk if f not in names]
    check(not unlisted, "tests/data/batches: not in MANIFEST.tsv: %s" % unlisted)
    # coverage
    check(len(rows) >= MIN_FILES, "corpus: %d files, want >= %d" % (len(rows), MIN_FILES))
    oks = [r for r in rows if r[2] == "OK"]
    check(len(oks) >= MIN_OK, "corpus: %d OK files, want >= %d" % (len(oks), MIN_OK))
    missing_kinds = [k for k in KINDS if not any(r[1] == k for r in oks)]
    check(not missing_kinds, "corpus: no OK file of kind %s" % missing_kinds)
    missing = [c for c in REQUIRED_CODES if not any(r[2] == c for r in rows)]
    check(not missing, "corpus: no file expects %s" % missing)


def main():
    if len(sys.argv) != 2:
        print("usage: check_schemas.py <repo-root>", file=sys.stderr)
        return 2
    root = sys.argv[1]
    schemas, cat = check_schemas(root)
    check_examples(root, schemas)
    check_corpus(root, schemas, cat)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
