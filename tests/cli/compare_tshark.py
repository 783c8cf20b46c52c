#!/usr/bin/env python3
"""Compares `pc5sec decode --pcap F --json` with tshark + tools/wireshark/pc5s.lua, field by field.

usage: compare_tshark.py PC5SEC LUA PCAP [KEYLOG]
Every value pc5sec prints must appear, equal, in tshark's field of the same name (pc5s.<path>),
and every pc5s field tshark fills must be one pc5sec printed. Exit 0 when all agree.
Works on on-air frames too (flag 0x08: pc5s.srap.*, pc5s.data.*, pc5s.pdcp.*); what pc5sec
deciphered with a key log ("decrypted") has no tshark field and is not compared.
"""
import json
import subprocess
import sys

pc5sec, lua, pcap = sys.argv[1:4]
keylog = sys.argv[4:5]
SKIP = {"hex", "msg_name", "on_air", "decrypted"}
FLAG_BITS = {"integrity": 0x01, "ciphered": 0x02, "via_relay": 0x04, "on_air": 0x08}


def flatten(obj, prefix, out):
    for key, value in obj.items():
        if prefix == "" and key in SKIP:
            continue
        name = prefix + key
        if key == "frame" and prefix == "":
            for k, v in value.items():
                if k in ("sender_l2_id", "receiver_l2_id", "hop", "direction", "lcid", "flags"):
                    out["hdr." + k] = str(v)
                if k == "flags":  # the dissector shows each bit (pc5s.hdr.flags.on_air, ...)
                    for bit, mask in FLAG_BITS.items():
                        out["hdr.flags." + bit] = "1" if v & mask else "0"
            continue
        if isinstance(value, dict):
            flatten(value, name + ".", out)
        elif isinstance(value, bool):
            out[name] = "1" if value else "0"
        else:
            out[name] = str(value)


lines = subprocess.run([pc5sec, "decode", "--pcap", pcap, "--json"] +
                       (["--keylog", keylog[0]] if keylog else []), check=True,
                       capture_output=True, text=True).stdout.splitlines()
expected = []
for line in lines:
    flat = {}
    flatten(json.loads(line), "", flat)
    expected.append(flat)
names = sorted({n for e in expected for n in e})
# Also ask tshark for every field the dissector registers, to catch extra ones.
registered = subprocess.run(["tshark", "-X", "lua_script:" + lua, "-G", "fields"],
                            capture_output=True, text=True).stdout.splitlines()
pc5s_fields = sorted({l.split("\t")[2][len("pc5s."):] for l in registered
                      if l.startswith("F\t") and l.split("\t")[2].startswith("pc5s.")}
                     - {"provisional", "unknown_iei", "msg_name", "hdr.version", "hdr.length",
                        "provisional.expert", "malformed"})
all_names = sorted(set(names) | set(pc5s_fields))
cmd = ["tshark", "-X", "lua_script:" + lua, "-r", pcap, "-T", "fields", "-E", "separator=/t",
       "-E", "occurrence=a"]
for n in all_names:
    cmd += ["-e", "pc5s." + n]
rows = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()
if len(rows) != len(expected):
    print(f"FAIL frame count: tshark {len(rows)}, pc5sec {len(expected)}")
    sys.exit(1)

failures = 0
compared = 0
for i, (row, exp) in enumerate(zip(rows, expected), 1):
    got = dict(zip(all_names, row.split("\t")))
    for n in all_names:
        g = got.get(n, "").replace(":", "")
        e = exp.get(n, "")
        if g.startswith("0x") and e.isdigit():
            g = str(int(g, 16))  # a base.HEX field
        if g != e:
            failures += 1
            print(f"FAIL frame {i} ({exp.get('msg_type')}) pc5s.{n}: tshark '{g}' pc5sec '{e}'")
        elif e != "":
            compared += 1
print(f"tshark comparison: {len(expected)} frames, {compared} fields equal, {failures} differ")
sys.exit(1 if failures else 0)
