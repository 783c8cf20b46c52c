#!/usr/bin/env python3
"""Compares `pc5sec decode --pcap F --json [--keylog K]` with tshark and pc5sec's Wireshark plugin,
field by field.

usage: PC5SEC_TSHARK="tshark command line" compare_tshark.py PC5SEC PCAP [KEYLOG]
Every value pc5sec prints must appear, equal, in tshark's field of the same name (pc5s.<path>),
and every pc5s field tshark fills must be one pc5sec printed. With a key log, tshark is given it
(-o pc5s.keylog_file) and what pc5sec deciphered is compared too: the verdict, link, BEARER,
COUNT, DIRECTION, algorithms, MAC-I (pc5s.mac_ok), replay, the deciphered octets and the
deciphered PC5-S message's fields; solution B's carried end-to-end PDU follows its hop's PDU.
Exit 0 when all agree.
"""
import json
import os
import shlex
import subprocess
import sys

pc5sec, pcap = sys.argv[1:3]
keylog = sys.argv[3:4]
tshark = shlex.split(os.environ.get("PC5SEC_TSHARK", "tshark"))
SKIP = {"hex", "msg_name", "on_air", "decrypted"}
FLAG_BITS = {"integrity": 0x01, "ciphered": 0x02, "via_relay": 0x04, "on_air": 0x08}
VERDICT = {"opened": "1", "mac_bad": "2", "no_key": "3", "malformed": "4"}
DIRECTION_FROM = {"header": "0", "mac-i": "1", "sender": "2", "undecidable": "3"}
# Fields of the plugin that `pc5sec decode --json` has no key for.
PLUGIN_ONLY = {"provisional", "unknown_iei", "unknown_tag", "msg_name", "hdr.version",
               "hdr.length", "addr", "knrp_sess_id", "mac_i", "udp.magic", "udp.version",
               "pc5_rrc", "other", "provisional.expert", "malformed", "mac_bad", "replay",
               "no_key", "keylog.bad", "disc.scrambled", "req.concealed_octets"}


def put(out, name, value):
    out[name] = out[name] + "," + value if name in out else value


def flatten(obj, prefix, out):
    for key, value in obj.items():
        if prefix == "" and key in SKIP:
            continue
        name = prefix + key
        if key == "frame" and prefix == "":
            for k, v in value.items():
                if k in ("sender_l2_id", "receiver_l2_id", "hop", "direction", "lcid", "flags"):
                    put(out, "hdr." + k, str(v))
                if k == "flags":  # the dissector shows each bit (pc5s.hdr.flags.on_air, ...)
                    for bit, mask in FLAG_BITS.items():
                        put(out, "hdr.flags." + bit, "1" if v & mask else "0")
            continue
        if isinstance(value, dict):
            flatten(value, name + ".", out)
        elif isinstance(value, bool):
            put(out, name, "1" if value else "0")
        else:
            put(out, name, str(value))


def deciphered(x, out, carried):
    """What the plugin shows of pc5sec's "decrypted" object."""
    if x.get("verdict") in VERDICT:
        put(out, "verdict", VERDICT[x["verdict"]])
    if x.get("identities_concealed"):
        put(out, "req.concealed", "1")
        put(out, "req.revealed", "1" if x.get("revealed") else "0")
    d = x.get("discovery")
    if d:
        for k in ("restricted", "opened", "counter_lsb", "mic", "rsc", "counter", "replayed"):
            if k in d:
                v = d[k]
                put(out, "disc." + k, ("1" if v else "0") if isinstance(v, bool) else str(v))
    for o in x.get("openings", []):
        put(out, "link_id", o["link_id"])
        put(out, "bearer", str(x["bearer"]))
        put(out, "count", str(o["count"]))
        put(out, "direction", str(o["direction"]))
        put(out, "direction_from", DIRECTION_FROM[x["direction_from"]])
        put(out, "ciphering", str(o["ciphering"]))
        put(out, "integrity", str(o["integrity"]))
        if o["mac"] != "none":
            put(out, "mac_ok", "0" if o["mac"] == "bad" else "1")
        if o.get("replayed"):
            put(out, "replayed", "1")
        if o["mac"] != "bad" and o["payload"]:
            put(out, "deciphered", o["payload"])
            if "message" in o:
                flatten(o["message"], "", out)
        if carried:
            c = carried
            put(out, "data.knrp_sess_id", str(c["data"]["knrp_sess_id"]))
            put(out, "data.sn", str(c["data"]["sn"]))
            deciphered(c["decrypted"], out, None)


lines = subprocess.run([pc5sec, "decode", "--pcap", pcap, "--json"] +
                       (["--keylog", keylog[0]] if keylog else []), check=True,
                       capture_output=True, text=True).stdout.splitlines()
expected = []
for line in lines:
    j = json.loads(line)
    flat = {}
    flatten(j, "", flat)
    if "decrypted" in j:
        x = j["decrypted"]
        deciphered(x, flat, x.get("carried"))
    expected.append(flat)
names = sorted({n for e in expected for n in e})
# Also ask tshark for every field the plugin registers, to catch extra ones.
registered = subprocess.run(tshark + ["-G", "fields"], capture_output=True,
                            text=True).stdout.splitlines()
pc5s_fields = sorted({l.split("\t")[2][len("pc5s."):] for l in registered
                      if l.startswith("F\t") and l.split("\t")[2].startswith("pc5s.")}
                     - PLUGIN_ONLY)
if not pc5s_fields:
    print("FAIL tshark has no pc5s field: the plugin did not load")
    sys.exit(1)
all_names = sorted(set(names) | set(pc5s_fields))
cmd = tshark + ["-r", pcap, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a"]
if keylog:
    cmd += ["-o", "pc5s.keylog_file:" + keylog[0]]
for n in all_names:
    cmd += ["-e", "pc5s." + n]
rows = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()
if len(rows) != len(expected):
    print(f"FAIL frame count: tshark {len(rows)}, pc5sec {len(expected)}")
    sys.exit(1)


def norm(g, e):
    g = g.replace(":", "")
    parts = g.split(",")
    eparts = e.split(",")
    if len(parts) == len(eparts):
        g = ",".join(str(int(p, 16)) if p.startswith("0x") and q.isdigit() else p
                     for p, q in zip(parts, eparts))  # a BASE_HEX field
    return g


failures = 0
compared = 0
for i, (row, exp) in enumerate(zip(rows, expected), 1):
    got = dict(zip(all_names, row.split("\t")))
    for n in all_names:
        e = exp.get(n, "")
        g = norm(got.get(n, ""), e)
        if g != e:
            failures += 1
            if failures <= 40:
                print(f"FAIL frame {i} ({exp.get('msg_type')}) pc5s.{n}: tshark '{g}' pc5sec '{e}'")
        elif e != "":
            compared += 1
print(f"tshark comparison: {len(expected)} frames, {compared} fields equal, {failures} differ")
sys.exit(1 if failures else 0)
