#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpus (fuzz/corpus/TARGET/) from the configurations in
fuzz/seeds/*.json, encoded as Terraform sends them: msgpack (as cty writes it: objects as maps,
unknown as extension 0, a dynamic value as [type JSON as bin, value]) and JSON.
A string "<unknown>" in a seed stands for an unknown value. Rerun after changing a seed:
    python3 fuzz/seeds/make_corpus.py
"""
import json
import pathlib
import struct

here = pathlib.Path(__file__).resolve().parent
corpus = here.parent / "corpus"
UNKNOWN = "<unknown>"


def pack(v):
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if v == UNKNOWN:
        return b"\xd4\x00\x00"
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        if -32 <= v < 0:
            return struct.pack(">b", v)
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, float):
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, bytes):
        return b"\xc4" + bytes([len(v)]) + v if len(v) < 256 else b"\xc5" + struct.pack(">H", len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        if len(b) < 32:
            return bytes([0xA0 | len(b)]) + b
        if len(b) < 256:
            return b"\xd9" + bytes([len(b)]) + b
        return b"\xda" + struct.pack(">H", len(b)) + b
    if isinstance(v, list):
        head = bytes([0x90 | len(v)]) if len(v) < 16 else b"\xdc" + struct.pack(">H", len(v))
        return head + b"".join(pack(x) for x in v)
    if isinstance(v, dict):
        head = bytes([0x80 | len(v)]) if len(v) < 16 else b"\xde" + struct.pack(">H", len(v))
        return head + b"".join(pack(k) + pack(v[k]) for k in sorted(v))
    raise TypeError(type(v))


def seed(name):
    return json.loads((here / f"{name}.json").read_text())


def write(target, name, data):
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


names = sorted(p.stem for p in here.glob("*.json"))
for n in names:
    v = seed(n)
    write("msgpack", n, pack(v))
    write("json", n, json.dumps(v))
# A dynamic value: [type JSON as bin, value].
write("msgpack", "dynamic", pack([b'["map","string"]', {"a": "b"}]))
write("json", "dynamic", json.dumps({"value": {"a": "b"}, "type": ["map", "string"]}))
# An app whose image is known only after apply.
app_unknown = dict(seed("app-minimal"), image=UNKNOWN)
write("msgpack", "app-unknown", pack(app_unknown))

# config: a selector byte (the call: see fuzz_targets/config.rs; +0x10: as JSON), then the value.
calls = {
    0: ["provider", "provider-eks", "provider-token"],
    1: ["provider", "provider-token"],
    2: ["app-minimal", "app-full"],
    3: ["cluster"],
    4: ["app-minimal", "app-full"],
    5: ["cluster"],
    6: ["app-state"],
    7: ["cluster"],
    8: ["app-state"],
    9: ["cluster"],
    12: ["list"],
    13: ["restart"],
    14: ["notify"],
}
for call, seeds in calls.items():
    for n in seeds:
        write("config", f"{call:02}-{n}", bytes([call]) + pack(seed(n)))
    write("config", f"{call:02}-{seeds[0]}-json", bytes([call | 0x10]) + json.dumps(seed(seeds[0])).encode())
write("config", "04-app-unknown", bytes([4]) + pack(app_unknown))
write("config", "10-app-state", bytes([10]) + json.dumps(seed("app-state")).encode())
write("config", "11-cluster", bytes([11]) + json.dumps(seed("cluster")).encode())
write("config", "15-import-id", bytes([15]) + b"shop/web")

for q in ["500m", "2", "512Mi", "2Gi", "1.5", "1e3", "0.5", "1Ki", "+1", "100M", "1E"]:
    write("quantity", q, q)
write("quantity", "pair", "1\n1000m")
for d in ["90s", "1h30m", "1.5h", "300ms", "0", "+5m", "10us", "2µs", "1h2m3s4ms5us6ns"]:
    write("duration", d.replace("µ", "u") + ("-micro" if "µ" in d else ""), d)
