#!/usr/bin/python3
"""make_corpus.py — writes the event-batch corpus tests/data/batches/.

Usage: make_corpus.py <repo-root>

Writes one <name>.json per case, MANIFEST.tsv (file, kind, expect, schema)
and README.md (the same rows with what each file exercises). Output is
deterministic; the files are committed, so tests never need this script —
rerun it only to change the corpus, then run check_schemas.py.

Every invalid file holds exactly ONE fault, so the code the C decoder must
return is unambiguous whatever order it checks in. check_schemas.py verifies
that with a reference decoder written from schemas/README.md. The tests'
clock is NOW (2026-11-23T10:00:00Z), max future skew 5 min, max age 400 days.

Columns: kind is what the topic …/ev/{kind} says; expect is OK or the PH_E*
name ph_batch_decode must return; schema is what a correct JSON Schema
2020-12 validator says of schemas/batch.schema.json (expect OK => valid;
invalid => expect != OK; semantic faults are schema-valid but refused).
"""
import json
import os
import sys
from collections import OrderedDict as O

CASES = []  # (name, kind, expect, schema, description, text)
_raw = {}


def raw(token):
    """A JSON token written verbatim (1e999, NaN): a placeholder until dump."""
    key = "@@RAW%d@@" % len(_raw)
    _raw[key] = token
    return key


def _j(x):
    s = json.dumps(x, ensure_ascii=False)
    for k, tok in _raw.items():
        s = s.replace('"%s"' % k, tok)
    return s


def dump(doc):
    """Header on one line, one record per line: readable and diff-friendly."""
    if not isinstance(doc, dict) or not isinstance(doc.get("records"), list) or not doc["records"]:
        return _j(doc) + "\n"
    head = O((k, v) for k, v in doc.items() if k != "records")
    h = _j(head)[:-1]
    recs = ",\n  ".join(_j(r) for r in doc["records"])
    tail = [(k, v) for k, v in doc.items()]
    # keep "records" where it was (last in every case built here)
    assert tail[-1][0] == "records", "records must be the last key"
    return h + ',\n "records": [\n  ' + recs + "\n ]}\n"


def case(name, kind, expect, schema, desc, doc=None, text=None):
    assert kind in ("process", "material", "emission")
    assert schema in ("valid", "invalid")
    assert expect == "OK" or expect.startswith("PH_E")
    if text is None:
        text = dump(doc)
    CASES.append((name + ".json", kind, expect, schema, desc, text))


def batch(records, agent="gw-01", epoch=1763892000, seq=1042, oldest=1038,
          sent="2026-11-23T10:00:01.250Z"):
    return O([("v", 1), ("agent", agent), ("epoch", epoch), ("seq", seq),
              ("oldest", oldest), ("sent", sent), ("records", records)])


def rec(ts, point, values, flags=None, state=None):
    r = O([("ts", ts), ("point", point), ("values", O(values))])
    if flags is not None:
        r["flags"] = O(flags)
    if state is not None:
        r["state"] = state
    return r


def mat(ts, point, material, d, qty, lot=None, supplier=None, attrs=None):
    r = O([("ts", ts), ("point", point), ("material", material), ("dir", d), ("qty_t", qty)])
    if lot is not None:
        r["lot"] = lot
    if supplier is not None:
        r["supplier"] = supplier
    if attrs is not None:
        r["attrs"] = attrs
    return r


def hms(sec):
    """2026-11-23T<time>Z for seconds after midnight."""
    return "2026-11-23T%02d:%02d:%02dZ" % (sec // 3600, sec % 3600 // 60, sec % 60)


T10 = 10 * 3600  # 10:00:00, the tests' now

# ---------------------------------------------------------------- emission

def stack(ts, so2=35.2, nox=88.0, pm=4.1, flow=85000, o2=12.1, temp=135, flags=None, point="stack-1"):
    return rec(ts, point, [("so2", so2), ("nox", nox), ("pm", pm), ("flow", flow),
                           ("o2", o2), ("temp", temp)], flags)


def em_records():
    return [stack("2026-11-23T09:59:00Z", 35.2, 88.0, 4.1, 85000, 12.1, 135, [("so2", "N")]),
            stack("2026-11-23T09:59:30Z", 36.8, 91.5, 4.3, 85400, 12.0, 136, [("so2", "N")]),
            stack("2026-11-23T10:00:00Z", 38.1, 90.2, 4.0, 85210, 11.9, 136)]


def em(**kw):
    return batch(em_records(), **kw)


case("ok-emission-stack", "emission", "OK", "valid",
     "main stack CEMS after the baghouse: so2/nox/pm/flow/o2/temp every 30 s, N flags", em())

case("ok-emission-pcdd-f-stack-test", "emission", "OK", "valid",
     "annual PCDD/F stack test (manual sampling, flag S) with the gas figures measured alongside",
     batch([rec("2026-11-18T09:00:00Z", "stack-1",
                [("pcdd_f", 0.18), ("flow", 86200), ("o2", 12.4), ("temp", 131.5), ("moisture", 8.2)],
                [("pcdd_f", "S"), ("flow", "S"), ("o2", "S"), ("temp", "S"), ("moisture", "S")]),
           rec("2026-11-18T11:00:00Z", "stack-1",
                [("pcdd_f", 0.21), ("flow", 85900), ("o2", 12.2), ("temp", 133.0), ("moisture", 8.5)],
                [("pcdd_f", "S"), ("flow", "S"), ("o2", "S"), ("temp", "S"), ("moisture", "S")]),
           rec("2026-11-18T13:00:00Z", "stack-1",
                [("pcdd_f", 0.15), ("flow", 86050), ("o2", 12.3), ("temp", 132.2), ("moisture", 8.3)],
                [("pcdd_f", "S"), ("flow", "S"), ("o2", "S"), ("temp", "S"), ("moisture", "S")])],
           agent="gw-02", epoch=1750000000, seq=7, oldest=7, sent="2026-11-23T09:58:12Z"))

case("ok-emission-flags-mcd", "emission", "OK", "valid",
     "HJ 212 flags M (maintenance), C (calibration), D (fault) next to N; none counts toward compliance",
     batch([stack("2026-11-23T09:40:00Z", 0.0, 0.0, 0.0, 84100, 20.9, 128,
                  [("so2", "C"), ("nox", "C"), ("pm", "N"), ("flow", "N"), ("o2", "C"), ("temp", "N")]),
            stack("2026-11-23T09:50:00Z", 40.2, 95.0, 4.4, 84800, 12.2, 134,
                  [("so2", "M"), ("nox", "M"), ("pm", "M"), ("flow", "M"), ("o2", "M"), ("temp", "M")]),
            stack("2026-11-23T10:00:00Z", 39.0, 92.1, 0.0, 85000, 12.0, 135,
                  [("so2", "N"), ("nox", "N"), ("pm", "D"), ("flow", "N"), ("o2", "N"), ("temp", "N")])]))

case("ok-emission-offset-0800", "emission", "OK", "valid",
     "time stamps in China Standard Time (+08:00), as data loggers often send them",
     batch([stack("2026-11-23T17:59:00+08:00", 41.0, 97.3, 4.6, 85900, 12.3, 137),
            stack("2026-11-23T17:59:30+08:00", 40.1, 96.0, 4.5, 86000, 12.2, 137),
            stack("2026-11-23T18:00:00.500+08:00", 39.7, 95.4, 4.4, 85800, 12.2, 136)],
           sent="2026-11-23T18:00:01.250+08:00"))

case("ok-emission-time-variants", "emission", "OK", "valid",
     "RFC 3339 variants: lowercase t and z, space separator, nanosecond fraction, negative offset",
     batch([stack("2026-11-23t09:58:00z"),
            stack("2026-11-23 09:58:30.123456789Z"),
            stack("2026-11-23T04:59:00-05:00"),
            stack("2026-11-23T09:59:30.1+00:00")],
           sent="2026-11-23t10:00:01.25z"))

case("ok-emission-edge-values", "emission", "OK", "valid",
     "inclusive range bounds (o2 25, temp -50, pressure -50 and 200, so2 0), exponent notation, "
     "epoch and seq at 2^53-1, oldest 1",
     batch([rec("2026-11-23T09:59:00Z", "stack-2",
                [("so2", 0), ("nox", 0.0), ("pm", raw("1e-3")), ("flow", raw("8.5E4")), ("o2", 25), ("temp", -50), ("pressure", -50)]),
            rec("2026-11-23T09:59:30Z", "stack-2",
                [("so2", 20000), ("nox", 10000), ("pm", 10000), ("flow", 5000000), ("o2", 0), ("temp", 1200), ("pressure", 200)])],
           epoch=9007199254740991, seq=9007199254740991, oldest=1))

case("ok-emission-heavy-metals", "emission", "OK", "valid",
     "hourly heavy metals and acid gases of a GB 31574 monitoring plan, one T (over range) flag",
     batch([rec("2026-11-23T09:00:00Z", "stack-1",
                [("pb", 0.42), ("cd", 0.011), ("as", 0.035), ("sn", 0.08), ("sb", 0.05), ("cu", 0.61),
                 ("cr", 0.02), ("hcl", 6.3), ("hf", 0.9), ("h2so4", 4.1), ("co", 120.5), ("velocity", 14.2)],
                [("co", "T")])], seq=1040, oldest=1040))

# ---------------------------------------------------------------- process

def proc_records():
    return [rec("2026-11-23T09:59:50Z", "furnace-1",
                [("furnace_temp", 1182.5), ("afterburner_temp", 1104.0), ("afterburner_residence", 2.4),
                 ("production_rate", 6.2)], state="running"),
            rec("2026-11-23T09:59:50Z", "quench-1",
                [("quench_out_temp", 186.4), ("aci_rate", 12.5)], state="running"),
            rec("2026-11-23T09:59:50Z", "baghouse-1", [("baghouse_dp", 1450)])]


def pr(**kw):
    return batch(proc_records(), agent="gw-01", **kw)


case("ok-process-furnace-quench", "process", "OK", "valid",
     "furnace, afterburner (>1100 degC, 2.4 s), quench outlet below the 200-400 degC window, ACI, baghouse dp",
     pr())

case("ok-process-quench-window", "process", "OK", "valid",
     "quench outlet drifting into the 200-400 degC de novo window and above it: valid data the rules alarm on",
     batch([rec("2026-11-23T09:55:00Z", "quench-1", [("quench_out_temp", 195.0), ("aci_rate", 12.0)]),
            rec("2026-11-23T09:56:00Z", "quench-1", [("quench_out_temp", 248.7), ("aci_rate", 12.0)]),
            rec("2026-11-23T09:57:00Z", "quench-1", [("quench_out_temp", 352.1), ("aci_rate", 0.0)],
                [("aci_rate", "D")]),
            rec("2026-11-23T09:58:00Z", "quench-1", [("quench_out_temp", 431.9), ("aci_rate", 0.0)],
                [("aci_rate", "D")]),
            rec("2026-11-23T09:59:00Z", "quench-1", [("quench_out_temp", 178.3), ("aci_rate", 14.8)])],
           seq=1043, oldest=1038))

case("ok-process-states", "process", "OK", "valid",
     "operating states startup, shutdown, stopped and no state at all",
     batch([rec("2026-11-23T06:00:00Z", "furnace-2", [("furnace_temp", 612.0)], state="startup"),
            rec("2026-11-23T07:30:00Z", "furnace-2", [("furnace_temp", 1150.0)], state="running"),
            rec("2026-11-23T09:00:00Z", "furnace-2", [("furnace_temp", 1020.0)], state="shutdown"),
            rec("2026-11-23T09:45:00Z", "furnace-2", [("furnace_temp", 240.0)], [("furnace_temp", "F")], state="stopped"),
            rec("2026-11-23T09:46:00Z", "furnace-2", [("furnace_temp", 236.0)])],
           agent="gw-03", epoch=1700000000, seq=1, oldest=1))

case("ok-process-utilities", "process", "OK", "valid",
     "hourly energy and water use (agg sum metrics)",
     batch([rec("2026-11-23T17:00:00+08:00", "plant", [("electricity", 4210.5), ("fuel_gas", 1830.0),
                                                       ("fuel_oil", 0), ("water", 36.2), ("production_rate", 6.1)]),
            rec("2026-11-23T18:00:00+08:00", "plant", [("electricity", 4188.0), ("fuel_gas", 1795.5),
                                                       ("fuel_oil", 0), ("water", 35.9), ("production_rate", 6.0)])],
           seq=1044, oldest=1038))


def thousand(n):
    out = []
    pts = ["furnace-1", "quench-1", "baghouse-1"]
    start = T10 - 1000
    for i in range(n):
        ts = hms(start + i)
        p = pts[i % 3]
        if p == "furnace-1":
            v = [("furnace_temp", round(1175 + (i * 7 % 23) * 0.5, 1)), ("afterburner_temp", round(1100 + (i % 11), 1))]
        elif p == "quench-1":
            v = [("quench_out_temp", round(180 + (i * 13 % 17) * 0.4, 1)), ("aci_rate", round(12 + (i % 5) * 0.1, 1))]
        else:
            v = [("baghouse_dp", 1400 + (i * 37 % 120))]
        out.append(rec(ts, p, v, state="running" if p != "baghouse-1" else None))
    return out


case("ok-process-1000-records", "process", "OK", "valid",
     "1000 records (the maximum), one per second over the last 1000 s", batch(thousand(1000), seq=2001, oldest=1990))

# ---------------------------------------------------------------- material

def scrap():
    return mat("2026-11-23T17:41:17+08:00", "wb-1", "scrap_cu_2", "in", 32.46,
               "WB-20261123-0087", "Zhejiang Hengxin Renewable Resources Co., Ltd.",
               O([("cu_pct", 95.1), ("moisture_pct", 0.9), ("plastic_pct", 0.6),
                  ("vehicle", "浙B·5K721"), ("ticket", "0087"), ("gross_t", 49.12), ("tare_t", 16.66)]))


def ma(records=None, **kw):
    return batch(records or [scrap()], agent="gw-wb", epoch=1758000000, seq=311, oldest=305,
                 sent="2026-11-23T09:59:58Z", **kw)


case("ok-material-scrap-intake", "material", "OK", "valid",
     "No. 2 copper scrap at the weighbridge with lot, supplier (one in Chinese) and assay attrs",
     ma([scrap(),
         mat("2026-11-23T17:52:03+08:00", "wb-1", "scrap_cu_2", "in", 28.91, "WB-20261123-0088",
             "江西铜和再生资源有限公司", O([("cu_pct", 94.6), ("moisture_pct", 1.3)])),
         mat("2026-11-23T17:58:44+08:00", "wb-1", "scrap_cu_ewaste", "in", 12.08, "WB-20261123-0089",
             "Guiyu Cable Dismantling Co-op", O([("cu_pct", 38.0), ("insulation", "PVC")]))]))

case("ok-material-products-out", "material", "OK", "valid",
     "cathode copper and anode copper leaving (dir out)",
     ma([mat("2026-11-23T09:20:00Z", "wb-2", "cathode_cu", "out", 24.8, "CA-2611-017", "Yangshan bonded warehouse",
             O([("grade", "Cu-CATH-1"), ("bundles", 10)])),
         mat("2026-11-23T09:35:00Z", "wb-2", "anode_cu", "out", 30.02, "AN-2611-044")]))

case("ok-material-residues-out", "material", "OK", "valid",
     "furnace slag and baghouse dust (hazardous waste HW48) leaving",
     ma([mat("2026-11-23T08:10:00Z", "wb-1", "slag", "out", 6.3, "SL-2611-102", "Hubei slag flotation plant",
             O([("cu_pct", 0.65), ("destination", "flotation")])),
         mat("2026-11-23T08:40:00Z", "wb-1", "flue_dust", "out", 0.42, "FD-2611-009", "licensed HW48 disposer",
             O([("zn_pct", 18.5), ("pb_pct", 4.2), ("waste_code", "HW48 321-002-48")]))]))

case("ok-material-unclassified-among-residues", "material", "OK", "valid",
     "a material code no catalogue knows (scrap_al) between slag and flue dust: every record is accepted, the hub "
     "stores scrap_al as unclassified",
     ma([mat("2026-11-23T08:10:00Z", "wb-1", "slag", "out", 6.3, "SL-2611-102", "Hubei slag flotation plant",
             O([("cu_pct", 0.65)])),
         mat("2026-11-23T08:25:00Z", "wb-1", "scrap_al", "in", 12.4, "AL-2611-003", "Foshan aluminium recycler",
             O([("al_pct", 91.0)])),
         mat("2026-11-23T08:40:00Z", "wb-1", "flue_dust", "out", 0.42, "FD-2611-009", "licensed HW48 disposer")]))

case("ok-material-unclassified-qty-edge", "material", "OK", "valid",
     "codes no catalogue knows at the generic range's bounds: qty_t 0 and 1000 t",
     ma([mat("2026-11-23T09:00:00Z", "wb-1", "brass-turnings", "in", 0),
         mat("2026-11-23T09:05:00Z", "wb-1", "brass-turnings", "in", 1000)]))

case("ok-material-edge", "material", "OK", "valid",
     "reagents in; qty_t 0 and 1000 (bounds), lot of exactly 64 and supplier of exactly 128 characters, empty attrs",
     ma([mat("2026-11-23T09:00:00Z", "store", "activated_carbon", "in", 0, "L" * 64, "S" * 128, O()),
         mat("2026-11-23T09:00:00Z", "store", "lime", "in", 1000, "", "")]))

# ---------------------------------------------------------------- refusals
# Each starts from a valid batch above and changes ONE thing.

# PH_EJSON: not JSON at all
good = dump(em())
case("bad-ejson-empty", "emission", "PH_EJSON", "invalid", "empty payload", text="")
case("bad-ejson-truncated", "emission", "PH_EJSON", "invalid", "cut off in the middle of a record",
     text=good[: good.index('"o2": 12.0') + 7])
case("bad-ejson-trailing-garbage", "emission", "PH_EJSON", "invalid", "a second value after the batch",
     text=good.rstrip("\n") + ' {"v": 1}\n')
case("bad-ejson-nan-literal", "emission", "PH_EJSON", "invalid", "NaN is not a JSON literal",
     text=good.replace('"so2": 36.8', '"so2": NaN'))
case("bad-ejson-single-quotes", "emission", "PH_EJSON", "invalid", "single-quoted strings",
     text=good.replace('"agent": "gw-01"', "'agent': 'gw-01'"))
case("bad-ejson-duplicate-key", "emission", "PH_EJSON", "invalid",
     "so2 twice in one values object (which one counts is undefined)",
     text=good.replace('"so2": 36.8,', '"so2": 36.8, "so2": 37.0,'))

# PH_ETOOLARGE
def big():
    codes = ["so2", "nox", "pm", "flow", "o2", "temp", "moisture", "pressure", "velocity", "co", "hcl", "hf",
             "h2so4", "pb", "cd", "as", "sn", "sb", "cu", "cr"]
    out = []
    n = 432
    for i in range(n):
        vals = [(c, round(1.0 + ((i * 31 + j * 17) % 97) * 0.1234567, 7)) for j, c in enumerate(codes)]
        out.append(rec(hms(T10 - 10 * n + i * 10), "stack-1", vals, [(c, "N") for c in codes]))
    return out


case("bad-etoolarge-300k", "emission", "PH_ETOOLARGE", "valid",
     "a well-formed 432-record batch of about 300 KB, over the 256 KiB payload limit", batch(big()))

# PH_EVERSION
d = em(); d["v"] = 2
case("bad-eversion-v2", "emission", "PH_EVERSION", "invalid", "v is 2", d)
d = em(); d["v"] = 0
case("bad-eversion-v0", "emission", "PH_EVERSION", "invalid", "v is 0", d)

# PH_EMISSING
d = em(); del d["seq"]
case("bad-emissing-seq", "emission", "PH_EMISSING", "invalid", "no seq", d)
d = em(); del d["records"]
case("bad-emissing-records", "emission", "PH_EMISSING", "invalid", "no records", d)
d = pr(); del d["records"][1]["values"]
case("bad-emissing-values", "process", "PH_EMISSING", "invalid", "records[1] has no values", d)
d = ma(); del d["records"][0]["qty_t"]
case("bad-emissing-qty-t", "material", "PH_EMISSING", "invalid", "material record without qty_t", d)
d = em(); del d["records"][2]["ts"]
case("bad-emissing-ts", "emission", "PH_EMISSING", "invalid", "records[2] has no ts", d)

# PH_ETYPE
d = em(); d["v"] = "1"
case("bad-etype-v-string", "emission", "PH_ETYPE", "invalid", 'v is the string "1"', d)
d = em(); d["seq"] = "1042"
case("bad-etype-seq-string", "emission", "PH_ETYPE", "invalid", "seq is a string", d)
d = em(); d["sent"] = 1763892001
case("bad-etype-sent-number", "emission", "PH_ETYPE", "invalid", "sent is Unix seconds, not a string", d)
d = em(); d["records"] = d["records"][0]
case("bad-etype-records-object", "emission", "PH_ETYPE", "invalid", "records is one object, not an array", d)
d = em(); d["records"][1]["point"] = 1
case("bad-etype-point-number", "emission", "PH_ETYPE", "invalid", "point is a number", d)
d = em(); d["records"][1]["values"] = [36.8, 91.5]
case("bad-etype-values-array", "emission", "PH_ETYPE", "invalid", "values is an array", d)
d = em(); d["records"][0]["values"]["so2"] = None
case("bad-etype-value-null", "emission", "PH_ETYPE", "invalid", "so2 is null (a missing reading must be left out)", d)
d = em(); d["records"][1]["values"]["nox"] = "91.5"
case("bad-etype-value-string", "emission", "PH_ETYPE", "invalid", "nox is a numeric string", d)
d = pr(); d["records"][0]["values"]["furnace_temp"] = True
case("bad-etype-value-bool", "process", "PH_ETYPE", "invalid", "furnace_temp is true", d)
d = em(); d["records"][0]["flags"] = ["N"]
case("bad-etype-flags-array", "emission", "PH_ETYPE", "invalid", "flags is an array", d)
d = pr(); d["records"][0]["state"] = 1
case("bad-etype-state-number", "process", "PH_ETYPE", "invalid", "state is a number", d)
d = ma(); d["records"][0]["qty_t"] = "32.46"
case("bad-etype-qty-string", "material", "PH_ETYPE", "invalid", "qty_t is a string", d)
d = ma(); d["records"][0]["attrs"] = "cu_pct=95.1"
case("bad-etype-attrs-string", "material", "PH_ETYPE", "invalid", "attrs is a string", d)

# PH_EUNKNOWNKEY
d = em(); d["kind"] = "emission"; d.move_to_end("records")
case("bad-eunknownkey-top", "emission", "PH_EUNKNOWNKEY", "invalid", "top-level key kind (the topic says it)", d)
d = em(); d["records"][0]["unit"] = "mg/Nm3"
case("bad-eunknownkey-record", "emission", "PH_EUNKNOWNKEY", "invalid", "record key unit", d)
d = ma(); d["records"][0]["price_cny"] = 61500
case("bad-eunknownkey-material", "material", "PH_EUNKNOWNKEY", "invalid", "material record key price_cny (belongs in attrs)", d)

# PH_EBADID
case("bad-ebadid-agent-uppercase", "emission", "PH_EBADID", "invalid", "agent GW-01", em(agent="GW-01"))
case("bad-ebadid-agent-empty", "emission", "PH_EBADID", "invalid", "agent is empty", em(agent=""))
case("bad-ebadid-agent-65-chars", "emission", "PH_EBADID", "invalid", "agent of 65 characters", em(agent="gw" + "-0" * 31 + "1"))
d = em(); d["records"][1]["point"] = "stack 1"
case("bad-ebadid-point-space", "emission", "PH_EBADID", "invalid", 'point "stack 1"', d)
d = em(); d["records"][1]["point"] = "-stack1"
case("bad-ebadid-point-leading-dash", "emission", "PH_EBADID", "invalid", "point starts with a dash", d)
d = ma(); d["records"][0]["material"] = "Scrap_Cu_2"
case("bad-ebadid-material-uppercase", "material", "PH_EBADID", "invalid",
     "material Scrap_Cu_2: a material code is an id (lower case)", d)

# PH_ESEQ
case("bad-eseq-seq-zero", "emission", "PH_ESEQ", "invalid", "seq 0 (seqs start at 1)", em(seq=0, oldest=1))
case("bad-eseq-oldest-gt-seq", "emission", "PH_ESEQ", "valid", "oldest 1050 > seq 1042 (semantic)", em(oldest=1050))
case("bad-eseq-epoch-fraction", "emission", "PH_ESEQ", "invalid", "epoch 1763892000.5", em(epoch=1763892000.5))
case("bad-eseq-seq-2-pow-53", "emission", "PH_ESEQ", "invalid", "seq 2^53, beyond what a double holds exactly",
     em(seq=9007199254740992))
case("bad-eseq-oldest-negative", "emission", "PH_ESEQ", "invalid", "oldest -1", em(oldest=-1))

# PH_ETIME
case("bad-etime-sent-no-zone", "emission", "PH_ETIME", "invalid", "sent without a zone", em(sent="2026-11-23T10:00:01.250"))
d = em(); d["records"][0]["ts"] = "2026-11-23"
case("bad-etime-ts-date-only", "emission", "PH_ETIME", "invalid", "ts is a date only", d)
d = em(); d["records"][0]["ts"] = "1763891940"
case("bad-etime-ts-digits", "emission", "PH_ETIME", "invalid", "ts is Unix seconds in a string", d)
d = em(); d["records"][1]["ts"] = "2026-13-23T09:59:30Z"
case("bad-etime-month-13", "emission", "PH_ETIME", "valid", "month 13: matches the pattern, not the calendar", d)
d = pr(); d["records"][0]["ts"] = "2026-02-30T09:59:50Z"
case("bad-etime-feb-30", "process", "PH_ETIME", "valid", "February 30th", d)
d = pr(); d["records"][2]["ts"] = "2026-11-23T09:61:50Z"
case("bad-etime-minute-61", "process", "PH_ETIME", "valid", "minute 61", d)

# PH_ESKEW (now 2026-11-23T10:00:00Z, +5 min, -400 days)
d = em(); d["records"][2]["ts"] = "2026-11-23T10:10:00Z"
case("bad-eskew-ts-future", "emission", "PH_ESKEW", "valid", "ts 10 min ahead of now (gateway clock wrong)", d)
d = em(); d["records"][2]["ts"] = "2026-11-23T10:00:00-08:00"
case("bad-eskew-ts-offset", "emission", "PH_ESKEW", "valid", "10:00 at -08:00 is 18:00Z, 8 h ahead", d)
d = pr(); d["records"][0]["ts"] = "2025-09-30T09:59:50Z"
case("bad-eskew-ts-too-old", "process", "PH_ESKEW", "valid", "ts 419 days before now", d)
case("bad-eskew-sent-future", "emission", "PH_ESKEW", "valid", "sent an hour ahead of now", em(sent="2026-11-23T11:00:01Z"))

# PH_EEMPTY
case("bad-eempty-records", "emission", "PH_EEMPTY", "invalid", "records is []", batch([]))
d = em(); d["records"][1]["values"] = O(); del d["records"][1]["flags"]
case("bad-eempty-values", "emission", "PH_EEMPTY", "invalid", "values is {}", d)

# PH_ETOOMANY
case("bad-etoomany-1001-records", "process", "PH_ETOOMANY", "invalid", "1001 records, one over the limit",
     batch(thousand(1001), seq=2001, oldest=1990))

# PH_EMETRIC
d = em(); d["records"][0]["values"]["h2s"] = 1.2
case("bad-emetric-unknown-code", "emission", "PH_EMETRIC", "valid", "h2s is not in the catalogue", d)
d = em(); d["records"][0]["values"] = O(("SO2" if k == "so2" else k, v) for k, v in d["records"][0]["values"].items())
d["records"][0]["flags"] = O([("nox", "N")])
case("bad-emetric-uppercase-code", "emission", "PH_EMETRIC", "invalid", "SO2: codes are lowercase", d)
d = em(); d["records"][1]["values"] = O(("a21026" if k == "so2" else k, v) for k, v in d["records"][1]["values"].items())
del d["records"][1]["flags"]
case("bad-emetric-hj212-code", "emission", "PH_EMETRIC", "valid", "a21026 (the HJ 212 code of so2) instead of so2", d)

# PH_EKIND
d = em(); d["records"][1]["values"]["furnace_temp"] = 1180.0
case("bad-ekind-process-metric-in-emission", "emission", "PH_EKIND", "valid", "furnace_temp in an emission batch", d)
d = pr(); d["records"][1]["values"]["so2"] = 120.0
case("bad-ekind-emission-metric-in-process", "process", "PH_EKIND", "valid", "so2 in a process batch", d)
d = ma(); d["records"][0]["material"] = "so2"
case("bad-ekind-material-not-material", "material", "PH_EKIND", "valid", "material so2 is an emission metric", d)
case("bad-ekind-material-record-in-emission", "emission", "PH_EKIND", "valid", "a material record on an emission topic", ma())
case("bad-ekind-measurement-in-material", "material", "PH_EKIND", "valid", "a process record on a material topic",
     batch(proc_records()[:1]))
d = ma(); d["records"].append(proc_records()[2])
case("bad-ekind-mixed-shapes", "material", "PH_EKIND", "invalid", "a material record then a measurement record", d)

# PH_ENONFINITE
d = em(); d["records"][1]["values"]["so2"] = raw("1e999")
case("bad-enonfinite-1e999", "emission", "PH_ENONFINITE", "valid", "so2 1e999 overflows a double to infinity", d)
d = ma(); d["records"][0]["qty_t"] = raw("1E400")
case("bad-enonfinite-qty", "material", "PH_ENONFINITE", "valid", "qty_t 1E400", d)

# PH_ERANGE
d = em(); d["records"][1]["values"]["so2"] = 25000
case("bad-erange-so2-above-max", "emission", "PH_ERANGE", "valid", "so2 25000 > 20000 mg/Nm3", d)
d = em(); d["records"][0]["values"]["flow"] = -10
case("bad-erange-flow-negative", "emission", "PH_ERANGE", "valid", "flow -10 Nm3/h", d)
d = pr(); d["records"][1]["values"]["quench_out_temp"] = -273.15
case("bad-erange-quench-below-min", "process", "PH_ERANGE", "valid", "quench_out_temp -273.15 < -50 degC (failed thermocouple)", d)
d = ma(); d["records"][0]["qty_t"] = 32460
case("bad-erange-qty-kg", "material", "PH_ERANGE", "valid", "qty_t 32460: kilograms sent as tonnes (max 1000)", d)
d = ma(); d["records"][0]["qty_t"] = -2.5
case("bad-erange-qty-negative", "material", "PH_ERANGE", "invalid", "qty_t -2.5", d)
d = ma(); d["records"][0]["material"] = "scrap_al"; d["records"][0]["qty_t"] = 1200
case("bad-erange-qty-unclassified", "material", "PH_ERANGE", "valid",
     "qty_t 1200 of scrap_al, a code no catalogue knows (generic range 0..1000 t)", d)

# PH_EFLAG
d = em(); d["records"][0]["flags"]["so2"] = "X"
case("bad-eflag-unknown-letter", "emission", "PH_EFLAG", "invalid", "flag X", d)
d = em(); d["records"][0]["flags"]["so2"] = "n"
case("bad-eflag-lowercase", "emission", "PH_EFLAG", "invalid", "flag n (flags are capitals)", d)
d = em(); d["records"][0]["flags"]["so2"] = "NM"
case("bad-eflag-two-letters", "emission", "PH_EFLAG", "invalid", "flag NM", d)
d = em(); d["records"][0]["flags"]["pcdd_f"] = "S"
case("bad-eflag-metric-absent", "emission", "PH_EFLAG", "valid", "a flag for pcdd_f, which values lacks", d)

# PH_EENUM
d = pr(); d["records"][0]["state"] = "idle"
case("bad-eenum-state-idle", "process", "PH_EENUM", "invalid", "state idle", d)
d = pr(); d["records"][1]["state"] = "Running"
case("bad-eenum-state-case", "process", "PH_EENUM", "invalid", "state Running (words are lowercase)", d)
d = ma(); d["records"][0]["dir"] = "inbound"
case("bad-eenum-dir", "material", "PH_EENUM", "invalid", "dir inbound", d)

# PH_ESTRLEN
d = ma(); d["records"][0]["lot"] = "WB-20261123-0087-" + "X" * 48
case("bad-estrlen-lot-65", "material", "PH_ESTRLEN", "invalid", "lot of 65 characters", d)
d = ma(); d["records"][0]["supplier"] = ("Zhejiang Hengxin Renewable Resources Co., Ltd., " * 3)[:129]
case("bad-estrlen-supplier-129", "material", "PH_ESTRLEN", "invalid", "supplier of 129 characters", d)
d = ma()
d["records"][0]["attrs"]["xrf"] = O((el, round(0.001 * (i + 1), 3)) for i, el in enumerate(
    "Cu Zn Pb Sn Ni Fe Al Sb As Bi Cd Cr Co Mn Ag Au Pd Pt Se Te Hg Cl Br S P Si Ca Mg K Na".split()))
d["records"][0]["attrs"]["remarks"] = ("mixed brass and bronze turnings with some insulated wire; "
                                       "oil on 10 percent of the load; sorted by hand at the yard. ") * 20
case("bad-estrlen-attrs-3k", "material", "PH_ESTRLEN", "valid", "attrs of about 3 KB as compact JSON (max 2048 bytes)", d)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_corpus.py <repo-root>")
    out = os.path.join(sys.argv[1], "tests", "data", "batches")
    os.makedirs(out, exist_ok=True)
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    for old in os.listdir(out):
        if old.endswith(".json") and old not in names:
            os.remove(os.path.join(out, old))
    for name, kind, expect, schema, desc, text in CASES:
        with open(os.path.join(out, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    with open(os.path.join(out, "MANIFEST.tsv"), "w", newline="\n") as f:
        f.write("file\tkind\texpect\tschema\n")
        for name, kind, expect, schema, desc, text in CASES:
            f.write("%s\t%s\t%s\t%s\n" % (name, kind, expect, schema))
    with open(os.path.join(out, "README.md"), "w", newline="\n") as f:
        f.write("# Event-batch corpus\n\n"
                "Generated by `tests/schema/make_corpus.py`; checked by `tests/schema/check_schemas.py`.\n"
                "`MANIFEST.tsv` is what tests read: file, kind (the topic's `…/ev/{kind}`), expect (`OK` or\n"
                "the `PH_E*` code `ph_batch_decode` must return), schema (what a JSON Schema 2020-12 validator\n"
                "says of `schemas/batch.schema.json`). Decode with now = 2026-11-23T10:00:00Z,\n"
                "max future 300 s, max age 400 days, default size and record limits, the built-in catalogue.\n"
                "Every refused file holds exactly one fault.\n\n"
                "| file | kind | expect | schema | what |\n|---|---|---|---|---|\n")
        for name, kind, expect, schema, desc, text in CASES:
            f.write("| %s | %s | %s | %s | %s |\n" % (name, kind, expect, schema, desc.replace("|", "\\|")))
    print("%d files written to %s" % (len(CASES), out))


if __name__ == "__main__":
    main()
